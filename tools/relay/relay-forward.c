/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The forwarding plane of noom-relay: RTP goes from a publisher's webrtcbin
 * to its subscribers' webrtcbins without being decoded.
 *
 *   webrtcbin(P).src ─[canon_probe]─► tee ─► queue (leaky) ─[branch_probe]─►
 *       webrtcbin(S).sink_%u (sendonly)
 *
 * webrtcbin 1.22 rewrites nothing of what it forwards (payload type, SSRC,
 * header extensions: docs/server-internals.md, "The media relay"), so
 * canon_probe puts every packet into the one form every subscriber was
 * offered: the relay's SSRC for the track, its payload type, no header
 * extensions; and it replaces the publisher's caps with that form's.
 * branch_probe answers the sending webrtcbin's caps queries with the same
 * caps, and turns a subscriber's keyframe request into one, rate limited,
 * for the publisher.
 *
 * Per-subscriber layers: a video branch to a subscriber that was offered
 * TWCC gets the header extension on each packet (its webrtcbin's RTP
 * session numbers them), and the subscriber's feedback gives an estimate
 * of its link (gstnoombwe.c, as noomsink's receivers).  forward_adapt()
 * chooses, for each of its video branches whose track has VP8 temporal
 * layers (noomsink's), the highest layer that fits, and layers_probe
 * drops the rest and renumbers what it keeps: one slow subscriber gets
 * half the frame rate, and nobody else is affected.
 */
#include "relay.h"

#include <gst/rtp/rtp.h>
#include <gst/video/video.h>

GST_DEBUG_CATEGORY_EXTERN (relay_debug);
#define GST_CAT_DEFAULT relay_debug

/* At most one keyframe request per track this often: N subscribers who
 * all lose the picture ask the publisher once. */
#define KEYFRAME_REQUEST_INTERVAL G_TIME_SPAN_SECOND
/* ... and for newcomers, at most one this often (a join storm of N
 * subscribers costs the publisher two keyframes a second, not N; with
 * 250 ms, fanout 100 brought up 49 receivers of 100). */
#define NEWCOMER_KEYFRAME_INTERVAL (500 * G_TIME_SPAN_MILLISECOND)

/* How much a slow subscriber may lag before its queue drops. */
#define BRANCH_QUEUE_TIME (500 * GST_MSECOND)

/* A subscriber's estimate: from a quarter of the usual camera up, within
 * these (bit/s) */
#define SUBSCRIBER_MIN_BITRATE 50000
#define SUBSCRIBER_START_BITRATE 1000000
#define SUBSCRIBER_MAX_BITRATE 50000000
/* After a subscriber was moved down a layer, it is not moved up again for
 * this long (µs): each try overloads its link for a moment (noomsink's
 * rule) */
#define UPSWITCH_BACKOFF (8 * G_USEC_PER_SEC)
/* media_bandwidth to a publisher: when its slowest subscriber's share
 * moved by a tenth, at most this often (µs), and again this often while
 * it holds (a message may cross a relay restart) */
#define TELL_MIN_INTERVAL (1 * G_USEC_PER_SEC)
#define TELL_REPEAT_INTERVAL (10 * G_USEC_PER_SEC)

/* What the relay forwards: per kind, the first entry is what it offers
 * the participants that send through Socket.IO; an HTTP participant's
 * offer may use any of them. */
static const struct
{
  TrackKind kind;
  const gchar *media, *encoding_name;
  gint clock_rate, payload;
  const gchar *encoding_params;
} forward_codecs[] = {
  {KIND_AUDIO, "audio", "OPUS", 48000, 111, "2"},
  {KIND_VIDEO, "video", "VP8", 90000, 96, NULL},
  {KIND_VIDEO, "video", "H264", 90000, 102, NULL},
};

/* The fmtp parameters of a publisher's H.264 that its subscribers are
 * offered as they are. */
static const gchar *const h264_params[] = {
  "profile-level-id", "packetization-mode", "level-asymmetry-allowed",
};

static gint
default_codec (TrackKind kind)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (forward_codecs); i++)
    if (forward_codecs[i].kind == kind)
      return i;
  g_assert_not_reached ();
  return 0;
}

/* The caps of codec @codec (an index of forward_codecs, -1: @kind's
 * first) as the relay offers it, with @ssrc unless 0, and the H.264
 * parameters of @params (nullable: a publisher's own format). */
GstCaps *
forward_caps_full (TrackKind kind, gint codec, guint32 ssrc,
    const GstStructure * params)
{
  GstCaps *caps;
  guint i;

  if (codec < 0)
    codec = default_codec (kind);
  caps = gst_caps_new_simple ("application/x-rtp",
      "media", G_TYPE_STRING, forward_codecs[codec].media,
      "encoding-name", G_TYPE_STRING, forward_codecs[codec].encoding_name,
      "clock-rate", G_TYPE_INT, forward_codecs[codec].clock_rate,
      "payload", G_TYPE_INT, forward_codecs[codec].payload, NULL);
  if (forward_codecs[codec].encoding_params)
    gst_caps_set_simple (caps, "encoding-params", G_TYPE_STRING,
        forward_codecs[codec].encoding_params, NULL);
  if (kind == KIND_VIDEO)
    gst_caps_set_simple (caps, "rtcp-fb-nack", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);
  for (i = 0; params && !g_strcmp0 (forward_codecs[codec].encoding_name,
          "H264") && i < G_N_ELEMENTS (h264_params); i++) {
    const gchar *v = gst_structure_get_string (params, h264_params[i]);

    if (v)
      gst_caps_set_simple (caps, h264_params[i], G_TYPE_STRING, v, NULL);
  }
  if (ssrc)
    gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, ssrc, NULL);
  return caps;
}

/* The caps of @kind as the relay offers it, with @ssrc unless 0. */
GstCaps *
forward_caps (TrackKind kind, guint32 ssrc)
{
  return forward_caps_full (kind, -1, ssrc, NULL);
}

/* The codec (an index of forward_codecs) that @encoding_name at
 * @clock_rate is as @kind, or -1 when the relay does not forward it. */
gint
forward_codec_find (TrackKind kind, const gchar * encoding_name,
    gint clock_rate)
{
  guint i;

  for (i = 0; encoding_name && i < G_N_ELEMENTS (forward_codecs); i++)
    if (forward_codecs[i].kind == kind
        && !g_ascii_strcasecmp (encoding_name, forward_codecs[i].encoding_name)
        && clock_rate == forward_codecs[i].clock_rate)
      return i;
  return -1;
}

/* "VP8 or H264", what the relay forwards as @kind. */
gchar *
forward_codec_names (TrackKind kind)
{
  GString *names = g_string_new (NULL);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (forward_codecs); i++)
    if (forward_codecs[i].kind == kind)
      g_string_append_printf (names, "%s%s", names->len ? " or " : "",
          forward_codecs[i].encoding_name);
  return g_string_free (names, FALSE);
}

/* ---- what was forwarded (op "stats": noom-server's /metrics) ---- */

/* Totals since the process started, added to by every streaming thread:
 * relaxed atomics, no lock on the packets' path. */
static struct
{
  guint64 bytes_in, packets_in, bytes_out, packets_out;
  guint64 keyframe_requests, packets_lost;
  /* RTCP feedback: NACK messages and keyframe requests (PLI, FIR) from
   * subscribers, and packets asked of publishers again (NACK) */
  guint64 nacks_received, keyframe_requests_received, nacked_packets;
} counters;

#define COUNT(field, n) \
  ((void) __atomic_fetch_add (&counters.field, (n), __ATOMIC_RELAXED))

/* The counters, and the tracks and copies there are now (read from the
 * rooms), as an op "stats" message for noom-server (main thread). */
void
forward_send_stats (Relay * relay)
{
  JsonBuilder *b = message_begin ("stats", NULL);
  GHashTableIter rooms, members;
  gpointer room, member;
  gint64 tracks = 0, branches = 0;
  guint i;

  g_hash_table_iter_init (&rooms, relay->rooms);
  while (g_hash_table_iter_next (&rooms, NULL, &room)) {
    g_hash_table_iter_init (&members, ((RelayRoom *) room)->members);
    while (g_hash_table_iter_next (&members, NULL, &member)) {
      Member *m = member;

      for (i = 0; i < m->tracks->len; i++)
        tracks += ((Track *) m->tracks->pdata[i])->owner != NULL;
      for (i = 0; i < m->branches->len; i++)
        branches += ((Branch *) m->branches->pdata[i])->active;
    }
  }
#define MEMBER(name, value) \
  json_builder_set_member_name (b, name); \
  json_builder_add_int_value (b, (gint64) (value))
#define TOTAL(field) MEMBER (#field, \
    __atomic_load_n (&counters.field, __ATOMIC_RELAXED))
  MEMBER ("tracks", tracks);
  MEMBER ("branches", branches);
  TOTAL (bytes_in);
  TOTAL (packets_in);
  TOTAL (bytes_out);
  TOTAL (packets_out);
  TOTAL (keyframe_requests);
  TOTAL (packets_lost);
  TOTAL (nacks_received);
  TOTAL (keyframe_requests_received);
  TOTAL (nacked_packets);
#undef TOTAL
#undef MEMBER
  /* each subscriber's link: its estimate (once its TWCC feedback came),
   * the layer of each layered track it gets, and what it asked for */
  json_builder_set_member_name (b, "links");
  json_builder_begin_array (b);
  g_hash_table_iter_init (&rooms, relay->rooms);
  while (g_hash_table_iter_next (&rooms, NULL, &room)) {
    g_hash_table_iter_init (&members, ((RelayRoom *) room)->members);
    while (g_hash_table_iter_next (&members, NULL, &member)) {
      Member *m = member;
      guint64 nacks = __atomic_load_n (&m->nacks, __ATOMIC_RELAXED);
      guint64 plis = __atomic_load_n (&m->keyframe_requests,
          __ATOMIC_RELAXED);

      if (!m->estimate && !nacks && !plis)
        continue;
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "room");
      json_builder_add_string_value (b, m->room->name);
      json_builder_set_member_name (b, "id");
      json_builder_add_string_value (b, m->id);
      if (m->estimate) {
        json_builder_set_member_name (b, "estimate");
        json_builder_add_int_value (b, m->estimate);
      }
      json_builder_set_member_name (b, "nacks");
      json_builder_add_int_value (b, (gint64) nacks);
      json_builder_set_member_name (b, "keyframe_requests");
      json_builder_add_int_value (b, (gint64) plis);
      json_builder_set_member_name (b, "layers");
      json_builder_begin_array (b);
      for (i = 0; i < m->branches->len; i++) {
        Branch *br = m->branches->pdata[i];

        if (!br->active || !br->layers || !br->track->owner
            || !g_atomic_int_get (&br->track->layered))
          continue;
        json_builder_begin_object (b);
        json_builder_set_member_name (b, "from");
        json_builder_add_string_value (b, br->track->owner->id);
        json_builder_set_member_name (b, "layer");
        json_builder_add_int_value (b, br->layer);
        json_builder_end_object (b);
      }
      json_builder_end_array (b);
      json_builder_end_object (b);
    }
  }
  json_builder_end_array (b);
  message_send (relay, b);
}

/* ---- tracks ---- */

static void
canon_buffer (gpointer data, GstBuffer * buffer)
{
  Track *track = data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  gsize size = gst_buffer_get_size (buffer);

  COUNT (bytes_in, size);
  COUNT (packets_in, 1);
  (void) __atomic_fetch_add (&track->bytes, size, __ATOMIC_RELAXED);
  if (!gst_rtp_buffer_map (buffer, GST_MAP_READWRITE, &rtp))
    return;
  if (track->kind == KIND_VIDEO
      && !g_strcmp0 (forward_codecs[track->codec].encoding_name, "VP8")) {
    GstNoomVp8Descriptor d;

    if (gst_noom_vp8_descriptor_parse (gst_rtp_buffer_get_payload (&rtp),
            gst_rtp_buffer_get_payload_len (&rtp), &d) && d.tid >= 0)
      g_atomic_int_set (&track->layered, TRUE);
  }
  gst_rtp_buffer_set_ssrc (&rtp, track->ssrc);
  gst_rtp_buffer_set_payload_type (&rtp, forward_codecs[track->codec].payload);
  if (gst_rtp_buffer_get_extension (&rtp))
    gst_rtp_buffer_remove_extension_data (&rtp);
  gst_rtp_buffer_unmap (&rtp);
}

typedef void (*RewriteFunc) (gpointer data, GstBuffer * buffer);

typedef struct
{
  RewriteFunc func;
  gpointer data;
} Rewrite;

static gboolean
rewrite_list_item (GstBuffer ** buffer, guint idx, gpointer data)
{
  Rewrite *r = data;

  *buffer = gst_buffer_make_writable (*buffer);
  r->func (r->data, *buffer);
  return TRUE;
}

/* In a probe: @func on a writable copy of the buffer, or of each buffer
 * of the list, that @info carries; FALSE when it carries none. */
static gboolean
rewrite_buffers (GstPadProbeInfo * info, RewriteFunc func, gpointer data)
{
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buffer =
        gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));

    func (data, buffer);
    info->data = buffer;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list =
        gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));
    Rewrite r = { func, data };

    gst_buffer_list_foreach (list, rewrite_list_item, &r);
    info->data = list;
  } else {
    return FALSE;
  }
  return TRUE;
}

static gboolean
keyframe_for_loss (gpointer data)
{
  Track *track = data;

  if (track->owner)
    track_request_keyframe (track, "a packet was lost on the way in");
  return G_SOURCE_REMOVE;
}

/* On the publisher's webrtcbin src pad, before the tee (its streaming
 * thread). */
static GstPadProbeReturn
canon_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Track *track = data;

  if (rewrite_buffers (info, canon_buffer, track))
    return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM) {
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);

    /* Whatever the publisher's caps are, they become the relay's: keep
     * the subscribers' webrtcbins out of the publisher's negotiation (one
     * of them refusing the publisher's own caps would stop its stream). */
    if (GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
      gst_query_set_accept_caps_result (query, TRUE);
      return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
      GstCaps *filter = NULL;

      gst_query_parse_caps (query, &filter);
      if (filter)
        gst_query_set_caps_result (query, filter);
      else {
        GstCaps *any = gst_caps_new_any ();

        gst_query_set_caps_result (query, any);
        gst_caps_unref (any);
      }
      return GST_PAD_PROBE_HANDLED;
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    if (GST_EVENT_TYPE (event) == GST_EVENT_CAPS) {
      gst_event_unref (event);
      info->data = gst_event_new_caps (track->caps);
    } else if (GST_EVENT_TYPE (event) == GST_EVENT_CUSTOM_DOWNSTREAM
        && gst_event_has_name (event, "GstRTPPacketLost")) {
      /* The jitterbuffer's, once asking the publisher again (NACK) did not
       * bring the packet: it means nothing to the sending side, but every
       * subscriber misses that packet, and none can have it sent again,
       * since the relay never had it.  Their pictures break until the
       * next keyframe, which a receiver need not ask for (aiortc does only
       * seconds later): the relay asks for it. */
      COUNT (packets_lost, 1);
      if (track->kind == KIND_VIDEO)
        g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT,
            keyframe_for_loss, track_ref (track), (GDestroyNotify) track_unref);
      return GST_PAD_PROBE_DROP;
    }
  }
  return GST_PAD_PROBE_OK;
}

static void
send_keyframe_request (Track * track, const gchar * why)
{
  GST_DEBUG ("keyframe request for track %08x: %s", track->ssrc, why);
  COUNT (keyframe_requests, 1);
  /* without an ssrc field: the demuxers on the way up fill in the
   * publisher's, and rtpsession sends it a PLI */
  gst_pad_send_event (track->src,
      gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
          FALSE, 0));
}

static gboolean
keyframe_held_back (gpointer data)
{
  Track *track = data;

  g_mutex_lock (&track->lock);
  track->keyframe_pending = FALSE;
  track->keyframe_source = 0;
  track->last_keyframe_request = g_get_monotonic_time ();
  g_mutex_unlock (&track->lock);
  if (track->owner)
    send_keyframe_request (track, "held back");
  return G_SOURCE_REMOVE;
}

/* A keyframe request for the publisher, at most one per @interval (any
 * thread).  One that comes too soon after the last is held back to the
 * end of its interval, not dropped: the subscriber that wants it (a
 * newcomer, one that lost the picture) may never ask again.  A request
 * that goes serves the one held back, which is cancelled. */
static void
request_keyframe_within (Track * track, const gchar * why, gint64 interval)
{
  gint64 now = g_get_monotonic_time ();
  gint64 wait;
  gboolean send = FALSE;
  guint cancel = 0;

  if (track->kind != KIND_VIDEO)
    return;
  g_mutex_lock (&track->lock);
  wait = track->last_keyframe_request + interval - now;
  if (wait <= 0) {
    track->last_keyframe_request = now;
    send = TRUE;
    cancel = track->keyframe_source;
    track->keyframe_source = 0;
    track->keyframe_pending = FALSE;
  } else if (!track->keyframe_pending || now + wait < track->keyframe_due) {
    cancel = track->keyframe_source;
    track->keyframe_pending = TRUE;
    track->keyframe_due = now + wait;
    track->keyframe_source = g_timeout_add_full (G_PRIORITY_DEFAULT,
        wait / 1000 + 1, keyframe_held_back, track_ref (track),
        (GDestroyNotify) track_unref);
  }
  g_mutex_unlock (&track->lock);
  if (cancel)
    g_source_remove (cancel);
  if (send)
    send_keyframe_request (track, why);
}

/* For a subscriber's PLI or FIR, or a loss on the way in: N subscribers
 * who all lose the picture ask the publisher once a second. */
void
track_request_keyframe (Track * track, const gchar * why)
{
  request_keyframe_within (track, why, KEYFRAME_REQUEST_INTERVAL);
}

/* For a newcomer, which decodes nothing until its first keyframe: a
 * shorter interval, so that a request for someone else a moment before
 * does not hold it back a whole second. */
void
track_request_first_keyframe (Track * track)
{
  request_keyframe_within (track, "a new subscriber",
      NEWCOMER_KEYFRAME_INTERVAL);
}

static guint32
new_ssrc (void)
{
  static GHashTable *used;
  static GMutex lock;
  guint32 ssrc;

  g_mutex_lock (&lock);
  if (!used)
    used = g_hash_table_new (NULL, NULL);
  do
    ssrc = g_random_int ();
  while (ssrc == 0 || g_hash_table_contains (used, GUINT_TO_POINTER (ssrc)));
  g_hash_table_add (used, GUINT_TO_POINTER (ssrc));
  g_mutex_unlock (&lock);
  return ssrc;
}

/* Called from the publisher's webrtcbin pad-added (its streaming thread):
 * the pad is linked before this returns, so no packet finds it unlinked. */
Track *
track_new (Member * owner, GstPad * src, TrackKind kind)
{
  Track *track = g_new0 (Track, 1);
  GstElement *pipeline = owner->room->relay->pipeline;
  GstPad *teesink;

  track->refs = 1;
  track->owner = owner;
  track->kind = kind;
  track->ssrc = new_ssrc ();
  track->src = gst_object_ref (src);
  track->codec = owner->upload_codec[kind] >= 0 ?
      owner->upload_codec[kind] : default_codec (kind);
  track->caps = forward_caps_full (kind, track->codec, track->ssrc,
      owner->upload_params[kind]);
  track->branches = g_ptr_array_new ();
  g_mutex_init (&track->lock);
  track->last_keyframe_request = -KEYFRAME_REQUEST_INTERVAL;

  track->tee = gst_element_factory_make ("tee", NULL);
  g_object_set (track->tee, "allow-not-linked", TRUE, NULL);
  gst_object_ref (track->tee);
  gst_bin_add (GST_BIN (pipeline), track->tee);
  gst_element_sync_state_with_parent (track->tee);
  track->canon_probe = gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, canon_probe, track_ref (track),
      (GDestroyNotify) track_unref);
  teesink = gst_element_get_static_pad (track->tee, "sink");
  if (gst_pad_link (src, teesink) != GST_PAD_LINK_OK)
    GST_WARNING ("could not link %s's %s track", owner->id, kind_name (kind));
  gst_object_unref (teesink);
  return track;
}

Track *
track_ref (Track * track)
{
  g_atomic_int_inc (&track->refs);
  return track;
}

void
track_unref (Track * track)
{
  if (!g_atomic_int_dec_and_test (&track->refs))
    return;
  gst_object_unref (track->src);
  gst_object_unref (track->tee);
  gst_caps_unref (track->caps);
  g_ptr_array_unref (track->branches);
  g_mutex_clear (&track->lock);
  g_free (track);
}

/* The track ends (its publisher left, or its connection failed): every
 * branch goes inactive and its subscriber gets a new offer.  Main
 * thread. */
void
track_end (Track * track)
{
  GstElement *pipeline;
  guint i, source;

  if (!track->owner)
    return;
  pipeline = track->owner->room->relay->pipeline;
  GST_INFO ("%s's %s track %08x ends (%u subscribers)", track->owner->id,
      kind_name (track->kind), track->ssrc, track->branches->len);
  for (i = 0; i < track->branches->len; i++) {
    Branch *b = track->branches->pdata[i];

    branch_end (b);
    member_negotiate (b->to);
  }
  g_ptr_array_set_size (track->branches, 0);
  track->owner = NULL;
  g_mutex_lock (&track->lock);
  source = track->keyframe_source;
  track->keyframe_source = 0;
  g_mutex_unlock (&track->lock);
  if (source)
    g_source_remove (source);
  /* the probe's ref to the track, and the track's to the pad, go */
  gst_pad_remove_probe (track->src, track->canon_probe);
  gst_element_set_locked_state (track->tee, TRUE);
  gst_element_set_state (track->tee, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (pipeline), track->tee);
}

/* ---- branches ---- */

/* What a branch's probes need to know of it: they may run once the
 * branch is freed, until its queue is removed. */
typedef struct
{
  Track *track;
  GstCaps *caps;
  gint payload;
} Form;

static gpointer
form_new (Branch * b)
{
  Form *f = g_new0 (Form, 1);

  f->track = track_ref (b->track);
  f->caps = gst_caps_ref (b->caps);
  f->payload = b->payload;
  return f;
}

static void
form_free (gpointer data)
{
  Form *f = data;

  track_unref (f->track);
  gst_caps_unref (f->caps);
  g_free (f);
}

/* On the queue's src pad, facing the subscriber's webrtcbin (its
 * threads). */
static GstPadProbeReturn
branch_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Form *b = data;
  Track *track = b->track;

  if (info->type & GST_PAD_PROBE_TYPE_QUERY_UPSTREAM) {
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);

    if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
      GstCaps *filter = NULL, *result;

      gst_query_parse_caps (query, &filter);
      result = filter ? gst_caps_intersect_full (filter, b->caps,
          GST_CAPS_INTERSECT_FIRST) : gst_caps_ref (b->caps);
      gst_query_set_caps_result (query, result);
      gst_caps_unref (result);
      return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
      /* what comes down this branch is always b->caps */
      gst_query_set_accept_caps_result (query, TRUE);
      return GST_PAD_PROBE_HANDLED;
    }
  } else if (info->type & GST_PAD_PROBE_TYPE_EVENT_UPSTREAM) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

    if (gst_video_event_is_force_key_unit (event)) {
      /* The subscriber's request names the relay's SSRC, which the
       * publisher's side does not know: ask for it ourselves. */
      track_request_keyframe (track, "a subscriber asked");
      return GST_PAD_PROBE_DROP;
    }
  }
  return GST_PAD_PROBE_OK;
}

/* On the queue's source pad: what goes to the subscriber. */
static GstPadProbeReturn
count_out_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  guint64 bytes = 0, packets = 0;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    bytes = gst_buffer_get_size (GST_PAD_PROBE_INFO_BUFFER (info));
    packets = 1;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);

    bytes = gst_buffer_list_calculate_size (list);
    packets = gst_buffer_list_length (list);
  }
  COUNT (bytes_out, bytes);
  COUNT (packets_out, packets);
  return GST_PAD_PROBE_OK;
}

/* On the queue's sink pad (the publisher's streaming thread): once the
 * subscriber's webrtcbin refused data, the branch takes no more, so its
 * error never reaches the tee (which would stop the publisher's stream
 * for everyone). */
static GstPadProbeReturn
branch_guard (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Branch *b = data;
  GstFlowReturn last = gst_pad_get_last_flow_return (b->queue_src);

  if (last == GST_FLOW_OK)
    return GST_PAD_PROBE_OK;
  if (last != GST_FLOW_FLUSHING
      && g_atomic_int_compare_and_exchange (&b->failed, FALSE, TRUE))
    g_printerr ("noom-relay: %s's webrtcbin refused %s's %s track: %s\n",
        b->to->id, b->track->owner ? b->track->owner->id : "?",
        kind_name (b->track->kind), gst_flow_get_name (last));
  return GST_PAD_PROBE_DROP;
}

static void
payload_buffer (gpointer data, GstBuffer * buffer)
{
  Form *b = data;
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  if (gst_rtp_buffer_map (buffer, GST_MAP_WRITE, &rtp)) {
    gst_rtp_buffer_set_payload_type (&rtp, b->payload);
    gst_rtp_buffer_unmap (&rtp);
  }
}

/* On the queue's sink pad of a branch whose subscriber numbers the codec
 * otherwise (it offered, with its own payload types): the tee hands every
 * branch the same buffers, so this branch's are copied before they are
 * changed. */
static GstPadProbeReturn
payload_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Form *b = data;

  if (rewrite_buffers (info, payload_buffer, b))
    return GST_PAD_PROBE_OK;
  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM
      && GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_CAPS) {
    gst_event_unref (GST_PAD_PROBE_INFO_EVENT (info));
    info->data = gst_event_new_caps (b->caps);
  }
  return GST_PAD_PROBE_OK;
}

/* What a video branch's layers_probe keeps: it runs on the branch's
 * streaming thread, and may run once the branch is freed, until its queue
 * is removed. */
struct _Layers
{
  GstNoomLayerFilter filter;    /* the streaming thread's */
  gint max_layer;               /* atomic: set by forward_adapt() */
  gboolean twcc;                /* add the TWCC header extension */
  GstCaps *caps;                /* the branch's, with TWCC's extmap */
};

static void
layers_free (gpointer data)
{
  struct _Layers *l = data;

  gst_caps_unref (l->caps);
  g_free (l);
}

/* Drops what is above the subscriber's layer, renumbered, and makes room
 * for the TWCC sequence number its webrtcbin's RTP session writes (it
 * writes into packets that carry the extension, and adds none). */
static gboolean
layers_rtp (GstRTPBuffer * rtp, gpointer data)
{
  struct _Layers *l = data;
  guint8 seq[2] = { 0, 0 };

  l->filter.max_layer = g_atomic_int_get (&l->max_layer);
  if (!gst_noom_layer_filter_process (&l->filter, rtp))
    return FALSE;
  if (l->twcc)
    gst_rtp_buffer_add_extension_onebyte_header (rtp, RELAY_TWCC_ID, seq,
        sizeof (seq));
  return TRUE;
}

/* On a video branch's queue src pad, facing the subscriber's webrtcbin. */
static GstPadProbeReturn
layers_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  struct _Layers *l = data;

  if (info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) {
    /* the RTP session learns the extension's id from the caps */
    if (l->twcc
        && GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_CAPS) {
      gst_event_unref (GST_PAD_PROBE_INFO_EVENT (info));
      GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (l->caps);
    }
    return GST_PAD_PROBE_OK;
  }
  return gst_noom_rtp_filter_probe (info, layers_rtp, l);
}

static void
add_twcc (GstCaps * caps)
{
  g_autofree gchar *extmap = g_strdup_printf ("extmap-%d", RELAY_TWCC_ID);

  gst_caps_set_simple (caps, "rtcp-fb-transport-cc", G_TYPE_BOOLEAN, TRUE,
      extmap, G_TYPE_STRING, RELAY_TWCC_URI, NULL);
}

static Branch *
branch_new_full (Track * track, Member * to, gint mline, gint payload)
{
  GstElement *pipeline = to->room->relay->pipeline;
  Branch *b = g_new0 (Branch, 1);
  GstPad *sinkpad, *qsrc, *qsink;

  b->track = track_ref (track);
  b->to = to;
  b->active = TRUE;
  b->wants_keyframe = TRUE;
  b->payload = payload;
  b->caps = gst_caps_copy (track->caps);
  if (payload >= 0)
    gst_caps_set_simple (b->caps, "payload", G_TYPE_INT, payload, NULL);
  /* TWCC where the relay offers (an answer keeps to what was offered) */
  b->twcc = track->kind == KIND_VIDEO && payload < 0;
  if (b->twcc)
    add_twcc (b->caps);
  b->layer = GST_NOOM_BWE_LAYERS - 1;
  b->queue = gst_element_factory_make ("queue", NULL);
  g_object_set (b->queue, "leaky", 2, "max-size-buffers", 0,
      "max-size-bytes", 0, "max-size-time", BRANCH_QUEUE_TIME,
      "silent", TRUE, NULL);
  gst_object_ref (b->queue);
  gst_bin_add (GST_BIN (pipeline), b->queue);

  /* webrtcbin 1.22: a requested sink pad makes a transceiver of its own
   * (never reuses one), and must never be released (that leaves its
   * funnel pad behind) */
  sinkpad = gst_element_request_pad_simple (to->webrtc, "sink_%u");
  g_object_get (sinkpad, "transceiver", &b->transceiver, NULL);
  g_object_set (b->transceiver, "direction",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY, "codec-preferences",
      b->caps, NULL);
  if (track->kind == KIND_VIDEO)
    g_object_set (b->transceiver, "do-nack", TRUE, NULL);
  if (mline >= 0) {
    b->mline = mline;
    to->mlines = MAX (to->mlines, (guint) mline + 1);
  } else {
    b->mline = to->mlines++;
  }
  /* the browser's ontrack gets the publisher's id in streams[0].id */
  g_object_set (sinkpad, "msid", track->owner->id, NULL);

  qsrc = gst_element_get_static_pad (b->queue, "src");
  b->queue_src = gst_object_ref (qsrc);
  gst_pad_add_probe (qsrc, GST_PAD_PROBE_TYPE_QUERY_UPSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, branch_probe, form_new (b), form_free);
  if (track->kind == KIND_VIDEO) {
    b->layers = g_new0 (struct _Layers, 1);
    gst_noom_layer_filter_init (&b->layers->filter);
    b->layers->max_layer = b->layer;
    b->layers->twcc = b->twcc;
    b->layers->caps = gst_caps_ref (b->caps);
    gst_pad_add_probe (qsrc, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        layers_probe, b->layers, layers_free);
  }
  gst_pad_add_probe (qsrc, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, count_out_probe, NULL, NULL);
  gst_pad_link (qsrc, sinkpad);
  gst_object_unref (qsrc);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (b->queue);

  b->tee_pad = gst_element_request_pad_simple (track->tee, "src_%u");
  qsink = gst_element_get_static_pad (b->queue, "sink");
  gst_pad_add_probe (qsink, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, branch_guard, b, NULL);
  if (payload >= 0 && payload != forward_codecs[track->codec].payload)
    gst_pad_add_probe (qsink, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        payload_probe, form_new (b), form_free);
  gst_pad_link (b->tee_pad, qsink);
  gst_object_unref (qsink);
  g_ptr_array_add (track->branches, b);
  GST_INFO ("forwarding %s's %s track %08x to %s", track->owner->id,
      kind_name (track->kind), track->ssrc, to->id);
  return b;
}

typedef struct
{
  GstElement *pipeline, *tee, *queue;
} Unlink;

static gboolean
remove_queue (gpointer data)
{
  Unlink *u = data;

  gst_element_set_locked_state (u->queue, TRUE);
  gst_element_set_state (u->queue, GST_STATE_NULL);
  if (GST_OBJECT_PARENT (u->queue) == GST_OBJECT (u->pipeline))
    gst_bin_remove (GST_BIN (u->pipeline), u->queue);
  gst_object_unref (u->pipeline);
  gst_object_unref (u->tee);
  gst_object_unref (u->queue);
  g_free (u);
  return G_SOURCE_REMOVE;
}

/* On the tee's src pad once no buffer is on its way (any thread). */
static GstPadProbeReturn
unlink_idle (GstPad * tee_pad, GstPadProbeInfo * info, gpointer data)
{
  Unlink *u = data;
  GstPad *peer = gst_pad_get_peer (tee_pad);

  if (peer) {
    gst_pad_unlink (tee_pad, peer);
    gst_object_unref (peer);
  }
  gst_element_release_request_pad (u->tee, tee_pad);
  g_idle_add (remove_queue, u);
  return GST_PAD_PROBE_REMOVE;
}

/* The branch stops: unlinked from the tee, its queue removed, its m-line
 * inactive from the next offer on (webrtcbin 1.22 cannot make it send
 * again).  Main thread. */
void
branch_end (Branch * b)
{
  Unlink *u;

  if (!b->active)
    return;
  b->active = FALSE;
  g_object_set (b->transceiver, "direction",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE, NULL);
  u = g_new0 (Unlink, 1);
  u->pipeline = gst_object_ref (GST_ELEMENT (GST_OBJECT_PARENT (b->queue)));
  u->tee = gst_object_ref (b->track->tee);
  u->queue = gst_object_ref (b->queue);
  gst_pad_add_probe (b->tee_pad, GST_PAD_PROBE_TYPE_IDLE, unlink_idle, u, NULL);
}

void
branch_free (Branch * b)
{
  branch_end (b);
  g_ptr_array_remove (b->track->branches, b);
  gst_object_unref (b->tee_pad);
  gst_object_unref (b->queue_src);
  gst_object_unref (b->queue);
  gst_object_unref (b->transceiver);
  gst_caps_unref (b->caps);
  track_unref (b->track);
  g_free (b);
}

/* @track to @to: a sendonly m-line on @to's connection, offered with the
 * next negotiation.  Main thread. */
Branch *
branch_new (Track * track, Member * to)
{
  return branch_new_full (track, to, -1, -1);
}

/* @track to @to, which offered: on m-line @mline of its offer, as payload
 * type @payload.  Made before the offer is set, so that webrtcbin gives
 * that m-line this branch's transceiver.  Main thread. */
Branch *
branch_new_for_answer (Track * track, Member * to, guint mline, gint payload)
{
  return branch_new_full (track, to, mline, payload);
}

/* ---- per-subscriber layers ---- */

/* The RTP session's thread, on each TWCC feedback of @m (noomsink's
 * on_twcc_stats()). */
static void
on_twcc_stats (GObject * session, GParamSpec * pspec, Member * m)
{
  GstNoomTwccReport r;
  guint estimate;

  if (!gst_noom_twcc_report_get (session, &r))
    return;
  g_mutex_lock (&m->bwe_lock);
  estimate = gst_noom_bwe_update_twcc (&m->bwe, g_get_monotonic_time (),
      r.sent, r.received, r.loss_pct, r.delay_trend);
  m->bwe_reported = TRUE;
  g_mutex_unlock (&m->bwe_lock);
  GST_LOG ("%s: sent %u received %u bit/s, loss %.1f %%, delay trend %"
      G_GINT64_FORMAT " ns: estimate %u bit/s", m->id, r.sent, r.received,
      r.loss_pct, r.delay_trend, estimate);
}

/* The RTP session's thread: RTCP feedback from @m's client.  What it
 * receives on its connection with the relay is what it says as a
 * subscriber: packets to send again (NACK), pictures to refresh (PLI,
 * FIR).  (TWCC and REMB are read elsewhere.) */
static void
on_feedback_rtcp (GObject * session, guint type, guint fbtype,
    guint sender_ssrc, guint media_ssrc, GstBuffer * fci, Member * m)
{
  if (type == GST_RTCP_TYPE_RTPFB && fbtype == GST_RTCP_RTPFB_TYPE_NACK) {
    __atomic_fetch_add (&m->nacks, 1, __ATOMIC_RELAXED);
    COUNT (nacks_received, 1);
  } else if (type == GST_RTCP_TYPE_PSFB
      && (fbtype == GST_RTCP_PSFB_TYPE_PLI
          || fbtype == GST_RTCP_PSFB_TYPE_FIR)) {
    __atomic_fetch_add (&m->keyframe_requests, 1, __ATOMIC_RELAXED);
    COUNT (keyframe_requests_received, 1);
  }
}

/* The RTP session's thread: the relay's jitterbuffer asks @media_ssrc
 * (a publisher's) for @nacks again.  Counted only: 0 lets the session
 * write them as generic NACKs, as it does without this handler. */
static guint
on_sending_nacks (GObject * session, guint sender_ssrc, guint media_ssrc,
    GArray * nacks, GstBuffer * buffer, gpointer data)
{
  COUNT (nacked_packets, nacks->len);
  return 0;
}

/* @rtpsession, one of @m's webrtcbin's: its TWCC reports are @m's link,
 * its RTCP feedback what @m asks of the relay (webrtcbin's thread that
 * made it). */
void
forward_watch_session (Member * m, GstElement * rtpsession)
{
  GObject *session = NULL;

  if (!g_object_class_find_property (G_OBJECT_GET_CLASS (rtpsession),
          "twcc-stats"))
    return;
  g_signal_connect_data (rtpsession, "notify::twcc-stats",
      G_CALLBACK (on_twcc_stats), member_ref (m),
      (GClosureNotify) member_unref, 0);
  /* RTCP feedback is signalled by the element's RTPSession only */
  g_object_get (rtpsession, "internal-session", &session, NULL);
  if (session == NULL)
    return;
  g_signal_connect_data (session, "on-feedback-rtcp",
      G_CALLBACK (on_feedback_rtcp), member_ref (m),
      (GClosureNotify) member_unref, 0);
  g_signal_connect (session, "on-sending-nacks",
      G_CALLBACK (on_sending_nacks), NULL);
  g_object_unref (session);
}

/* What arrived of @track since the last call, @dt seconds ago: smoothed,
 * since one second may hold a keyframe and the next none. */
static void
track_measure (Track * track, gdouble dt)
{
  guint64 bytes = __atomic_load_n (&track->bytes, __ATOMIC_RELAXED);
  gdouble rate = 8.0 * (bytes - track->last_bytes) / dt;

  track->slowest_share = G_MAXUINT;
  track->last_bytes = bytes;
  track->bitrate = track->bitrate ? 0.6 * track->bitrate + 0.4 * rate : rate;
}

/* @m's video branches get the layers that fit its estimate: its audio
 * first, then each video track a share in proportion to its bitrate. */
static void
member_adapt (Member * m, gint64 now)
{
  guint estimate, i;
  gboolean reported, ramping;
  gdouble audio = 0, video = 0, budget;

  g_mutex_lock (&m->bwe_lock);
  estimate = (guint) m->bwe.estimate;
  reported = m->bwe_reported;
  ramping = m->bwe.ramping;
  g_mutex_unlock (&m->bwe_lock);
  m->estimate = reported ? estimate : 0;
  if (!reported)
    return;
  for (i = 0; i < m->branches->len; i++) {
    Branch *b = m->branches->pdata[i];

    if (!b->active)
      continue;
    if (b->track->kind == KIND_AUDIO)
      audio += b->track->bitrate;
    else
      video += b->track->bitrate;
  }
  budget = MAX (0.0, estimate - audio);
  for (i = 0; i < m->branches->len; i++) {
    Branch *b = m->branches->pdata[i];
    guint layer, share;

    if (!b->active || !b->layers || !g_atomic_int_get (&b->track->layered)
        || !b->track->bitrate)
      continue;
    share = video > 0 ? budget * b->track->bitrate / video : budget;
    b->track->slowest_share = MIN (b->track->slowest_share, share);
    layer = gst_noom_bwe_choose_layer (share, b->track->bitrate, b->layer,
        ramping);
    if (layer > b->layer && now < b->no_upswitch_until)
      layer = b->layer;
    if (layer == b->layer)
      continue;
    if (layer < b->layer)
      b->no_upswitch_until = now + UPSWITCH_BACKOFF;
    GST_INFO ("%s: %s's video, layer %u -> %u (its share of the estimate "
        "%u bit/s, the track %u bit/s)", m->id, b->track->owner ?
        b->track->owner->id : "?", b->layer, layer, share, b->track->bitrate);
    b->layer = layer;
    g_atomic_int_set (&b->layers->max_layer, layer);
  }
}

/* Tells a noomsink publisher (kind "publisher") what its video's layer 0
 * should fit in: the smallest share of a subscriber's estimate, for which
 * it sizes that layer as for a mesh room's slowest receiver
 * (docs/protocol.md §11, media_bandwidth); 0 when no subscriber's
 * estimate is known. */
static void
track_tell (Relay * relay, Track * track, gint64 now)
{
  Member *owner = track->owner;
  guint base = track->slowest_share == G_MAXUINT ? 0 : track->slowest_share;
  gboolean moved = (base == 0) != (track->told_base == 0) ||
      ABS ((gint64) base - (gint64) track->told_base) > track->told_base / 10;
  JsonBuilder *b;

  if (!owner || track->kind != KIND_VIDEO || g_strcmp0 (owner->kind,
          "publisher") || !g_atomic_int_get (&track->layered))
    return;
  if (!(moved && now - track->told_at >= TELL_MIN_INTERVAL) &&
      !(base && now - track->told_at >= TELL_REPEAT_INTERVAL))
    return;
  if (moved)
    GST_INFO ("%s: its video's slowest subscriber takes %u bit/s", owner->id,
        base);
  track->told_base = base;
  track->told_at = now;
  b = message_begin ("media_bandwidth", owner);
  json_builder_set_member_name (b, "base_bitrate");
  json_builder_add_int_value (b, base);
  message_send (relay, b);
}

/* Measures every track and chooses every subscriber's layers (main
 * thread, every few hundred ms). */
void
forward_adapt (Relay * relay)
{
  gint64 now = g_get_monotonic_time ();
  gdouble dt = relay->last_adapt ? (now - relay->last_adapt) / 1e6 : 0;
  GHashTableIter rooms, members;
  gpointer room, member;
  guint i;

  relay->last_adapt = now;
  if (dt <= 0)
    return;
  g_hash_table_iter_init (&rooms, relay->rooms);
  while (g_hash_table_iter_next (&rooms, NULL, &room)) {
    g_hash_table_iter_init (&members, ((RelayRoom *) room)->members);
    while (g_hash_table_iter_next (&members, NULL, &member))
      for (i = 0; i < ((Member *) member)->tracks->len; i++)
        track_measure (((Member *) member)->tracks->pdata[i], dt);
  }
  g_hash_table_iter_init (&rooms, relay->rooms);
  while (g_hash_table_iter_next (&rooms, NULL, &room)) {
    g_hash_table_iter_init (&members, ((RelayRoom *) room)->members);
    while (g_hash_table_iter_next (&members, NULL, &member))
      member_adapt (member, now);
  }
  g_hash_table_iter_init (&rooms, relay->rooms);
  while (g_hash_table_iter_next (&rooms, NULL, &room)) {
    g_hash_table_iter_init (&members, ((RelayRoom *) room)->members);
    while (g_hash_table_iter_next (&members, NULL, &member))
      for (i = 0; i < ((Member *) member)->tracks->len; i++)
        track_tell (relay, ((Member *) member)->tracks->pdata[i], now);
  }
}

/* A new member's estimate, before any feedback. */
void
forward_bwe_init (Member * m)
{
  gst_noom_bwe_init (&m->bwe, SUBSCRIBER_MIN_BITRATE,
      SUBSCRIBER_START_BITRATE, SUBSCRIBER_MAX_BITRATE);
}

/* What @m is offered to send as @kind: noomsink (kind "publisher") also
 * gets TWCC on its video, so that its encoder follows its link to the
 * relay (docs/elements.md "Bandwidth adaptation").  Browsers send as they
 * did, on receiver reports. */
GstCaps *
forward_upload_caps (Member * m, TrackKind kind)
{
  GstCaps *caps = forward_caps (kind, 0);

  if (kind == KIND_VIDEO && !g_strcmp0 (m->kind, "publisher"))
    add_twcc (caps);
  return caps;
}
