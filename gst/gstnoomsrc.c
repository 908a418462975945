/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-noomsrc
 * @title: noomsrc
 *
 * Receives a Noom room: noomsrc joins as a participant of kind "subscriber"
 * (it sends nothing) and exposes every track the others send as a
 * sometimes pad, video_%u or audio_%u, and every shared screen as a
 * screen_%u pad.  Each pad is a #GstNoomSrcPad whose
 * properties (participant-id, nickname, kind, media) say whose media it
 * carries; a global tag event with the title (the nickname) and the
 * participant id (#GST_NOOM_TAG_PARTICIPANT_ID, "noom-participant-id")
 * goes downstream too; on a screen_%u pad the title is "NICKNAME's
 * screen" and #GST_NOOM_TAG_SCREEN ("noom-screen") is TRUE.  The pads'
 * audio-muted and video-muted properties
 * follow the participant's media state (a muted microphone, a camera
 * turned off), and each change is posted as a "noom-participant-media"
 * element message (id, nickname, audio, video, screen).  When a
 * participant leaves, its pads get EOS and are removed.  When the connection to the server drops, the
 * pads stay: a participant who is back in the room after the rejoin
 * (the same id, or after a server restart the same nickname and kind)
 * sends into the same pads again; the pads of one who is not back within
 * #noomsrc:reconnect-window get EOS and are removed then.
 *
 * A participant's shared screen (docs/protocol.md §7 "A shared screen",
 * §11) comes on a pad of its own, screen_%u, with the same properties as
 * the others and #GstNoomSrcPad:media "screen".  noomsrc joins saying it
 * takes screens (the join option "features": ["screen"]) when its
 * #GstNoomSrc:media has video; the web client then sends its screen on a
 * second video m-line.  The pad appears with the screen's first frame
 * (when the participant starts sharing, or when noomsrc joins a room
 * where a screen is shared) and stays, without frames, while sharing
 * stops and starts again; it gets EOS and goes when the participant
 * leaves.  The participant's media state says whether it shares now
 * (the "screen" field of the "noom-participant-media" message).
 *
 * With decode=true (the default) the pads carry raw video and audio; with
 * decode=false the depayloaded, timestamped VP8, VP9, H.264 or Opus, ready
 * for a muxer.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 noomsrc uri=noom://localhost:8080/demo participant=alice ! videoconvert ! autovideosink
 * gst-launch-1.0 noomsrc uri=noom://localhost:8080/demo participant=alice name=s \
 *     s. ! queue ! videoconvert ! autovideosink  s. ! queue ! audioconvert ! autoaudiosink
 * gst-play-1.0 noom://localhost:8080/demo
 * gst-launch-1.0 noomsrc uri=noom://localhost:8080/demo participant=alice name=s \
 *     s.screen_0 ! queue ! videoconvert ! autovideosink
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/rtp/rtp.h>
#include <gst/webrtc/webrtc.h>

#include "gstnoomelements.h"
#include "gstnoomenums.h"
#include "gstnoomsrc.h"
#include "gstnoomcodec.h"
#include "gstnoomsession.h"
#include "gstnoompeer.h"
#include "gstnoombwe.h"

GST_DEBUG_CATEGORY_STATIC (gst_noom_src_debug);
#define GST_CAT_DEFAULT gst_noom_src_debug
#define SESSION(self) gst_noom_base_bin_get_session (GST_NOOM_BASE_BIN (self))


#define DEFAULT_DECODE TRUE
#define DEFAULT_MEDIA (GST_NOOM_MEDIA_AUDIO | GST_NOOM_MEDIA_VIDEO)
#define DEFAULT_LATENCY 50
#define DEFAULT_KIND GST_NOOM_SRC_KIND_SUBSCRIBER
#define DEFAULT_PARTICIPANT_TIMEOUT 0

enum
{
  PROP_DECODE = GST_NOOM_SESSION_PROP_LAST,
  PROP_PARTICIPANT,
  PROP_MEDIA,
  PROP_LATENCY,
  PROP_KIND,
  PROP_PARTICIPANT_TIMEOUT,
};

/* How long stopping the webrtcbin of a connection we lost may take before
 * its tracks end after all (see src_peer_removing()). */
#define PARK_STOP_TIMEOUT 5000

/* One received track: webrtcbin's src pad -> depayloader [-> decoder]
 * -> our ghost pad.  When our server connection drops, the track is
 * parked: the chain and the ghost pad stay, fed by nothing, until the
 * participant's new connection feeds it again (reclaim_parked()). */
typedef struct
{
  GPtrArray *elements;
  GstPad *ghost;
  gchar *encoding;              /* the RTP encoding-name the chain takes */
  /* Under the element's object lock: */
  GThread *eos_thread;          /* ending the track, see src_peer_removing() */
  GstNoomPeer *peer;            /* whose webrtcbin feeds it; NULL: parked */
  gboolean lost;                /* its peer goes with our connection: park */
  GstNoomPeer *claimed_by;      /* parked: the participant back in the room
                                   whose media goes here (see
                                   claim_parked()) */
} Output;

struct _GstNoomSrc
{
  GstNoomBaseBin parent;


  /* Under the object lock. */
  gboolean decode;
  gchar *participant;
  GstNoomMedia media;
  guint latency;
  GstNoomSrcKind kind;
  guint participant_timeout;    /* ms, 0: wait forever */
  gboolean participant_found;   /* accepted since READY_TO_PAUSED */
  GSource *participant_wait;    /* the participant-timeout, on the session
                                   thread's context */
  guint next_video, next_audio, next_screen;
  gboolean no_more_pads;        /* emitted, for playbin: the first
                                   participant's tracks are all there */
  GList *all_outputs;           /* Output*, for EOS (parked ones too) */
  GList *parked;                /* Output*: tracks of participants we lost
                                   with the server connection */
  GSource *parked_expiry;       /* reconnect-window after the rejoin, on the
                                   session thread's context */
  gboolean relay_restart;       /* SFU: the relay's peer goes because the
                                   relay stopped (src_relay_lost()) */
  GHashTable *media_states;     /* participant id -> NoomMediaState, from
                                   the session (src_participant_media()) */
};

/* Lock order: the element's object lock before a pad's. */

struct _GstNoomSrcPad
{
  GstGhostPad parent;

  /* Under the object lock (they change when a participant is back after a
   * rejoin, or renames itself), but media. */
  gchar *participant_id;
  gchar *nickname;
  gchar *kind;
  gchar *media;
  gchar *stream_id;             /* the first stream-start's, kept */
  guint group_id;
  gboolean have_group_id;
  gboolean tags_pending;        /* a stream-start cleared the tags */
  gboolean audio_muted;         /* the participant's media_state */
  gboolean video_muted;
};

enum
{
  PAD_PROP_PARTICIPANT_ID = 1,
  PAD_PROP_NICKNAME,
  PAD_PROP_KIND,
  PAD_PROP_MEDIA,
  PAD_PROP_AUDIO_MUTED,
  PAD_PROP_VIDEO_MUTED,
};

static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE ("video_%u",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-raw; video/x-vp8; video/x-vp9; video/x-h264"));

static GstStaticPadTemplate screen_template =
    GST_STATIC_PAD_TEMPLATE ("screen_%u",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("video/x-raw; video/x-vp8; video/x-vp9; video/x-h264"));

static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE ("audio_%u",
    GST_PAD_SRC,
    GST_PAD_SOMETIMES,
    GST_STATIC_CAPS ("audio/x-raw; audio/x-opus"));

/* ------------------------------------------------------------------------ */
/* GstNoomSrcPad */

G_DEFINE_TYPE (GstNoomSrcPad, gst_noom_src_pad, GST_TYPE_GHOST_PAD);

static void
gst_noom_src_pad_finalize (GObject * object)
{
  gst_noom_fields_free (object);
  g_free (GST_NOOM_SRC_PAD (object)->stream_id);
  G_OBJECT_CLASS (gst_noom_src_pad_parent_class)->finalize (object);
}

static void
gst_noom_src_pad_init (GstNoomSrcPad * self)
{
}

static void
gst_noom_src_pad_class_init (GstNoomSrcPadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  const GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  gobject_class->get_property = gst_noom_field_get_property;
  gobject_class->finalize = gst_noom_src_pad_finalize;
  /**
   * GstNoomSrcPad:participant-id:
   *
   * The id of the participant whose track this is. When the participant is
   * back after a server restart (with a new id) and its track goes on on
   * this pad, the new id, with notify.
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PAD_PROP_PARTICIPANT_ID,
      G_STRUCT_OFFSET (GstNoomSrcPad, participant_id),
      g_param_spec_string ("participant-id", "Participant id",
          "The id of the participant whose media this is (a new one when "
          "the participant is back after the server restarted)", NULL, ro));
  /**
   * GstNoomSrcPad:nickname:
   *
   * The participant's nickname; it follows renames, with notify and a new
   * tag event before the next buffer.
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PAD_PROP_NICKNAME,
      G_STRUCT_OFFSET (GstNoomSrcPad, nickname),
      g_param_spec_string ("nickname", "Nickname",
          "The nickname of the participant whose media this is (follows "
          "renames)", NULL, ro));
  /**
   * GstNoomSrcPad:kind:
   *
   * The participant's kind: browser, publisher, subscriber or recorder
   * (docs/protocol.md section 3).
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PAD_PROP_KIND,
      G_STRUCT_OFFSET (GstNoomSrcPad, kind),
      g_param_spec_string ("kind", "Kind",
          "The participant's kind (browser, publisher, ...)", NULL, ro));
  /**
   * GstNoomSrcPad:media:
   *
   * "audio" or "video" (the camera): what the pad carries; "screen" on a
   * screen_%u pad, a participant's shared screen (video).
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PAD_PROP_MEDIA,
      G_STRUCT_OFFSET (GstNoomSrcPad, media),
      g_param_spec_string ("media", "Media", "\"audio\", \"video\" (the "
          "camera) or \"screen\" (a shared screen)", NULL, ro));
  /**
   * GstNoomSrcPad:audio-muted:
   *
   * The participant's microphone is off (its media_state, docs/protocol.md
   * section 3): what it sends on its audio pad is silence.  Every pad of
   * the participant has it, with notify when it changes; the element
   * posts a "noom-participant-media" message too.
   *
   * Since: 0.2
   */
  gst_noom_field_install (gobject_class, PAD_PROP_AUDIO_MUTED,
      G_STRUCT_OFFSET (GstNoomSrcPad, audio_muted),
      g_param_spec_boolean ("audio-muted", "Audio muted",
          "The participant's microphone is off (follows its media state)",
          FALSE, ro));
  /**
   * GstNoomSrcPad:video-muted:
   *
   * The participant's camera is off (its media_state): no frames, or
   * black ones, come on its video pad; show its name instead.  Every pad
   * of the participant has it, with notify when it changes.
   *
   * Since: 0.2
   */
  gst_noom_field_install (gobject_class, PAD_PROP_VIDEO_MUTED,
      G_STRUCT_OFFSET (GstNoomSrcPad, video_muted),
      g_param_spec_boolean ("video-muted", "Video muted",
          "The participant's camera is off (follows its media state)",
          FALSE, ro));
}

/* The pad's audio-muted and video-muted from @state, with notify; under
 * no lock. */
static void
pad_set_media_state (GstNoomSrcPad * ghost, NoomMediaState state)
{
  gboolean audio_muted = !(state & NOOM_MEDIA_STATE_AUDIO);
  gboolean video_muted = !(state & NOOM_MEDIA_STATE_VIDEO);
  gboolean audio_changed, video_changed;

  GST_OBJECT_LOCK (ghost);
  audio_changed = ghost->audio_muted != audio_muted;
  video_changed = ghost->video_muted != video_muted;
  ghost->audio_muted = audio_muted;
  ghost->video_muted = video_muted;
  GST_OBJECT_UNLOCK (ghost);
  if (audio_changed)
    g_object_notify (G_OBJECT (ghost), "audio-muted");
  if (video_changed)
    g_object_notify (G_OBJECT (ghost), "video-muted");
}

/* The last state the session told for @p, else @p's own; under the
 * element's object lock. */
static NoomMediaState
media_state_of (GstNoomSrc * self, NoomParticipant * p)
{
  gpointer state;

  if (self->media_states && g_hash_table_lookup_extended (self->media_states,
          p->id, NULL, &state))
    return GPOINTER_TO_UINT (state);
  return p->state;
}

/* ------------------------------------------------------------------------ */

#define gst_noom_src_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstNoomSrc, gst_noom_src, GST_TYPE_NOOM_BASE_BIN,
    GST_DEBUG_CATEGORY_INIT (gst_noom_src_debug, "noomsrc", 0,
        "Noom room receiver"));
GST_ELEMENT_REGISTER_DEFINE (noomsrc, "noomsrc", GST_RANK_PRIMARY,
    GST_TYPE_NOOM_SRC);

static GstCaps *
wanted_caps (gboolean video, gboolean with_pt)
{
  return gst_noom_codec_all_rtp_caps (video, GST_NOOM_CODEC_RECEIVE, with_pt);
}

static NoomMediaFlags
media_wanted (GstNoomSrc * self)
{
  NoomMediaFlags m = NOOM_MEDIA_NONE;

  GST_OBJECT_LOCK (self);
  if (self->media & GST_NOOM_MEDIA_AUDIO)
    m |= NOOM_MEDIA_AUDIO;
  if (self->media & GST_NOOM_MEDIA_VIDEO)
    m |= NOOM_MEDIA_VIDEO;
  GST_OBJECT_UNLOCK (self);
  return m;
}

/* docs/protocol.md §7 "A shared screen": the pair negotiates the screen
 * m-line when both sides take screens (we say so at the join when we
 * want video) and @p can share one (it sends video). */
static gboolean
takes_screen (GstNoomSrc * self, NoomParticipant * p)
{
  return (gst_noom_session_get_features (SESSION (self)) &
      NOOM_FEATURE_SCREEN) && (p->features & NOOM_FEATURE_SCREEN) &&
      (p->sends & NOOM_MEDIA_VIDEO);
}

static gboolean
participant_wanted (GstNoomSrc * self, NoomParticipant * p)
{
  gboolean ret;
  GSource *wait = NULL;

  GST_OBJECT_LOCK (self);
  ret = !self->participant || !g_strcmp0 (self->participant, p->id) ||
      !g_strcmp0 (self->participant, p->nickname);
  if (ret && self->participant && !self->participant_found) {
    self->participant_found = TRUE;
    wait = g_steal_pointer (&self->participant_wait);
  }
  GST_OBJECT_UNLOCK (self);
  if (wait) {
    GST_INFO_OBJECT (self, "%s (%s) is here", p->nickname, p->id);
    g_source_destroy (wait);
    g_source_unref (wait);
  }
  return ret;
}

static void
stop_participant_wait (GstNoomSrc * self)
{
  GSource *wait;

  GST_OBJECT_LOCK (self);
  wait = g_steal_pointer (&self->participant_wait);
  GST_OBJECT_UNLOCK (self);
  if (wait) {
    g_source_destroy (wait);
    g_source_unref (wait);
  }
}

static gboolean
participant_wait_expired (gpointer data)
{
  GstNoomSrc *self = data;
  g_autofree gchar *participant = NULL, *room = NULL;
  guint timeout;
  GSource *wait;

  GST_OBJECT_LOCK (self);
  wait = g_steal_pointer (&self->participant_wait);
  participant = g_strdup (self->participant);
  timeout = self->participant_timeout;
  GST_OBJECT_UNLOCK (self);
  if (!wait)
    return G_SOURCE_REMOVE;     /* found meanwhile */
  g_source_unref (wait);
  g_object_get (self, "room", &room, NULL);
  GST_ELEMENT_ERROR (self, RESOURCE, NOT_FOUND,
      ("Participant \"%s\" did not come into room \"%s\" within %.1f s.",
          participant, room, timeout / 1000.0),
      ("participant-timeout %u ms", timeout));
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------------------------------ */
/* outputs (webrtcbin streaming threads) */

/* Whose media this is, as a global tag event: the nickname as title and
 * artist, the participant id as GST_NOOM_TAG_PARTICIPANT_ID; a shared
 * screen is titled "NICKNAME's screen", with GST_NOOM_TAG_SCREEN.  Stored
 * on @target (the src pad behind the ghost), it goes out before the next
 * buffer, replacing the one before. */
static void
store_participant_tags (GstNoomSrcPad * ghost, GstPad * target)
{
  gboolean screen = !g_strcmp0 (ghost->media, "screen");
  g_autofree gchar *title = NULL;
  GstTagList *tags;
  GstEvent *tag;

  GST_OBJECT_LOCK (ghost);
  title = screen ? g_strdup_printf ("%s's screen", ghost->nickname) :
      g_strdup (ghost->nickname);
  tags = gst_tag_list_new (GST_TAG_TITLE, title,
      GST_TAG_ARTIST, ghost->nickname, GST_NOOM_TAG_PARTICIPANT_ID,
      ghost->participant_id, NULL);
  if (screen)
    gst_tag_list_add (tags, GST_TAG_MERGE_REPLACE, GST_NOOM_TAG_SCREEN, TRUE,
        NULL);
  GST_OBJECT_UNLOCK (ghost);
  gst_tag_list_set_scope (tags, GST_TAG_SCOPE_GLOBAL);
  tag = gst_event_new_tag (tags);
  /* store_sticky_event() takes a reference of its own. */
  gst_pad_store_sticky_event (target, tag);
  gst_event_unref (tag);
}

/* webrtcbin gives every pad of one connection the same stream-id; a
 * stream-id must tell the streams of a source apart (playbin, muxers and
 * gst-discoverer key on it), and stay the same for the same track of the
 * same participant: the URI's hash (gst_pad_create_stream_id), the
 * participant id and the media.  The first one stays, with its group id,
 * when a new connection feeds the pad after a rejoin: for downstream it is
 * the same stream going on. */
static GstEvent *
rewrite_stream_start (GstNoomSrcPad * ghost, GstEvent * event)
{
  g_autofree gchar *stream_id = NULL;
  GstStreamFlags flags = GST_STREAM_FLAG_NONE;
  guint group_id = 0;
  gboolean have_group_id;
  GstEvent *ret;

  GST_OBJECT_LOCK (ghost);
  stream_id = g_strdup (ghost->stream_id);
  GST_OBJECT_UNLOCK (ghost);
  if (!stream_id) {
    GstElement *element = GST_ELEMENT (gst_object_get_parent (GST_OBJECT
            (ghost)));
    g_autofree gchar *id = NULL;

    if (!element)
      return event;
    GST_OBJECT_LOCK (ghost);
    id = g_strdup (ghost->participant_id);
    GST_OBJECT_UNLOCK (ghost);
    stream_id = gst_pad_create_stream_id_printf (GST_PAD (ghost), element,
        "%s/%s", id, ghost->media);
    gst_object_unref (element);
    have_group_id = gst_event_parse_group_id (event, &group_id);
    GST_OBJECT_LOCK (ghost);
    if (!ghost->stream_id) {
      ghost->stream_id = g_strdup (stream_id);
      ghost->group_id = group_id;
      ghost->have_group_id = have_group_id;
    }
    GST_OBJECT_UNLOCK (ghost);
  }
  GST_OBJECT_LOCK (ghost);
  group_id = ghost->group_id;
  have_group_id = ghost->have_group_id;
  GST_OBJECT_UNLOCK (ghost);

  ret = gst_event_new_stream_start (stream_id);
  gst_event_parse_stream_flags (event, &flags);
  gst_event_set_stream_flags (ret, flags);
  if (have_group_id)
    gst_event_set_group_id (ret, group_id);
  gst_event_unref (event);
  return ret;
}

/* On the src pad behind the ghost, for as long as the track lives: every
 * connection that feeds it (a new one after a rejoin) starts with a
 * stream-start, which also clears the pad's tags. */
static GstPadProbeReturn
stream_start_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstNoomSrcPad *ghost = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) != GST_EVENT_STREAM_START)
    return GST_PAD_PROBE_OK;
  GST_PAD_PROBE_INFO_DATA (info) = rewrite_stream_start (ghost, event);
  GST_OBJECT_LOCK (ghost);
  ghost->tags_pending = TRUE;
  GST_OBJECT_UNLOCK (ghost);
  return GST_PAD_PROBE_OK;
}

/* Before a buffer (so after stream-start, caps and segment): the tags a
 * stream-start cleared.  Not from an event probe: a sticky event stored
 * while the pad pushes its sticky events makes it push the current one
 * again.
 * Nobody linked the pad (gst-launch links one of several): drop instead
 * of failing the whole connection with not-linked. */
static GstPadProbeReturn
buffer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstNoomSrcPad *ghost = user_data;
  gboolean tags;

  GST_OBJECT_LOCK (ghost);
  tags = ghost->tags_pending;
  ghost->tags_pending = FALSE;
  GST_OBJECT_UNLOCK (ghost);
  if (tags)
    store_participant_tags (ghost, pad);
  if (!gst_pad_is_linked (GST_PAD (ghost)))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

/* The VP8 temporal layer of each packet a participant sends us (RFC 7741
 * payload descriptor: X, then T or K, then TID in the top two bits), for
 * the stats' video-layer: a noomsink sends a slow receiver layer 0 only.
 * A stream without temporal layers (a browser's) tells nothing. */
static GstPadProbeReturn
vp8_layer_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  GstNoomVp8Descriptor d;
  gint tid = -1;

  if (!(info->type & GST_PAD_PROBE_TYPE_BUFFER) ||
      !gst_rtp_buffer_map (buf, GST_MAP_READ, &rtp))
    return GST_PAD_PROBE_OK;
  if (gst_noom_vp8_descriptor_parse (gst_rtp_buffer_get_payload (&rtp),
          gst_rtp_buffer_get_payload_len (&rtp), &d))
    tid = d.tid;
  gst_rtp_buffer_unmap (&rtp);
  if (tid >= 0)
    gst_noom_received_layers_note (data, tid);
  return GST_PAD_PROBE_OK;
}

static void
watch_vp8_layers (GstPad * pad, GstNoomPeer * peer)
{
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, vp8_layer_probe,
      gst_noom_peer_get_received_layers (peer),
      gst_noom_received_layers_unref);
}

static gboolean
chain_for (const gchar * encoding, gboolean decode, GPtrArray * elements)
{
  const GstNoomCodec *codec = gst_noom_codec_by_name (encoding);

  return codec && gst_noom_codec_receive_chain (codec, decode, elements);
}

static void
output_free (Output * out)
{
  guint i;

  for (i = 0; i < out->elements->len; i++)
    gst_object_unref (out->elements->pdata[i]);
  g_ptr_array_unref (out->elements);
  gst_object_unref (out->ghost);
  g_free (out->encoding);
  g_free (out);
}

/* After a rejoin: the peer of a participant who is back maps to the tracks
 * parked for it (session thread, as the peer is made).  The same id first
 * (our connection blipped, the server kept everyone's id), else the same
 * nickname and kind (the server restarted: every id is new); all the
 * tracks of the first participant that matches. */
static void
claim_parked (GstNoomSrc * self, GstNoomPeer * peer)
{
  NoomParticipant *p = gst_noom_peer_get_participant (peer);
  g_autofree gchar *old_id = NULL;
  guint pass, n = 0;
  GList *l;

  GST_OBJECT_LOCK (self);
  for (pass = 0; pass < 2 && !old_id; pass++) {
    for (l = self->parked; l && !old_id; l = l->next) {
      Output *out = l->data;
      GstNoomSrcPad *ghost = GST_NOOM_SRC_PAD (out->ghost);

      if (out->claimed_by)
        continue;
      GST_OBJECT_LOCK (ghost);
      if (pass == 0 ? !g_strcmp0 (ghost->participant_id, p->id) :
          !g_strcmp0 (ghost->nickname, p->nickname) &&
          !g_strcmp0 (ghost->kind, p->kind))
        old_id = g_strdup (ghost->participant_id);
      GST_OBJECT_UNLOCK (ghost);
    }
  }
  for (l = self->parked; old_id && l; l = l->next) {
    Output *out = l->data;
    GstNoomSrcPad *ghost = GST_NOOM_SRC_PAD (out->ghost);

    GST_OBJECT_LOCK (ghost);
    if (!out->claimed_by && !g_strcmp0 (ghost->participant_id, old_id)) {
      out->claimed_by = peer;
      n++;
    }
    GST_OBJECT_UNLOCK (ghost);
  }
  GST_OBJECT_UNLOCK (self);
  if (n)
    GST_INFO_OBJECT (self, "%s (%s) is back (was %s): %u parked track(s) "
        "wait for it", p->nickname, p->id, old_id, n);
}

/* A claimed parked track of @media and @encoding takes @pad (a new
 * webrtcbin src pad) instead of a new chain and pad: the ghost pad and
 * its stream-id stay, its participant-id, nickname and tags follow the
 * participant.  FALSE: none, build a new track. */
static gboolean
parked_matches (Output * o, GstNoomPeer * peer, NoomParticipant * p,
    guint pass, const gchar * media, const gchar * encoding)
{
  GstNoomSrcPad *ghost = GST_NOOM_SRC_PAD (o->ghost);
  gboolean match;

  if (g_strcmp0 (ghost->media, media)
      || g_ascii_strcasecmp (o->encoding, encoding))
    return FALSE;
  if (!gst_noom_peer_get_plan (peer)->relay)
    return o->claimed_by == peer;
  /* The relay's connection carries everyone: each track claims its own,
   * as claim_parked() does for a whole peer. */
  if (o->claimed_by)
    return FALSE;
  GST_OBJECT_LOCK (ghost);
  match = pass == 0 ? !g_strcmp0 (ghost->participant_id, p->id) :
      !g_strcmp0 (ghost->nickname, p->nickname) &&
      !g_strcmp0 (ghost->kind, p->kind);
  GST_OBJECT_UNLOCK (ghost);
  return match;
}

static gboolean
reclaim_parked (GstNoomSrc * self, GstNoomPeer * peer, NoomParticipant * p,
    GstPad * pad, const gchar * media, const gchar * encoding)
{
  GPtrArray *outputs = gst_noom_peer_get_tracks (peer);
  Output *out = NULL;
  GstNoomSrcPad *ghost;
  GstPad *sinkpad;
  gboolean id_changed, nickname_changed;
  NoomMediaState state;
  GList *l = NULL;
  guint i, pass;

  GST_OBJECT_LOCK (self);
  for (pass = 0; pass < 2 && !l; pass++)
    for (l = self->parked; l; l = l->next)
      if (parked_matches (l->data, peer, p, pass, media, encoding))
        break;
  if (l) {
    out = l->data;
    self->parked = g_list_delete_link (self->parked, l);
    out->claimed_by = NULL;
    out->peer = peer;
    /* in its peer's list at once: a drop of the connection now parks it
     * again */
    g_ptr_array_add (outputs, out);
  }
  GST_OBJECT_UNLOCK (self);
  if (!out)
    return FALSE;

  ghost = GST_NOOM_SRC_PAD (out->ghost);
  for (i = 0; i < out->elements->len; i++)
    gst_noom_session_mark_element (out->elements->pdata[i], peer);
  GST_OBJECT_LOCK (ghost);
  id_changed = g_strcmp0 (ghost->participant_id, p->id) != 0;
  nickname_changed = g_strcmp0 (ghost->nickname, p->nickname) != 0;
  g_free (ghost->participant_id);
  ghost->participant_id = g_strdup (p->id);
  g_free (ghost->nickname);
  ghost->nickname = g_strdup (p->nickname);
  g_free (ghost->kind);
  ghost->kind = g_strdup (p->kind);
  GST_OBJECT_UNLOCK (ghost);
  if (id_changed)
    g_object_notify (G_OBJECT (ghost), "participant-id");
  if (nickname_changed)
    g_object_notify (G_OBJECT (ghost), "nickname");
  GST_OBJECT_LOCK (self);
  state = media_state_of (self, p);
  GST_OBJECT_UNLOCK (self);
  pad_set_media_state (ghost, state);

  /* The new connection's stream-start goes through stream_start_probe():
   * the same stream-id, and the tags with the new id before its first
   * buffer. */
  sinkpad = gst_element_get_static_pad (out->elements->pdata[0], "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (self, "could not link %" GST_PTR_FORMAT, pad);
  gst_object_unref (sinkpad);
  GST_INFO_OBJECT (self, "%s of %s (%s) flows into %s again", media,
      p->nickname, p->id, GST_PAD_NAME (ghost));
  return TRUE;
}

static void
on_webrtc_pad_added (GstElement * webrtc, GstPad * pad, GstNoomPeer * peer)
{
  GstNoomSrc *self = GST_NOOM_SRC (GST_ELEMENT_PARENT (webrtc));
  NoomParticipant *p = gst_noom_peer_get_participant (peer);
  g_autoptr (NoomParticipant) owner = NULL;
  GPtrArray *outputs = gst_noom_peer_get_tracks (peer);
  GstCaps *caps;
  const GstStructure *s;
  const gchar *media;
  g_autofree gchar *encoding = NULL;
  gboolean video, screen, decode, wanted, emit_no_more = FALSE;
  g_autoptr (GPtrArray) elements = g_ptr_array_new ();
  GstWebRTCRTPTransceiver *trans = NULL;
  guint mline = G_MAXUINT;
  const gchar *what, *templ_name;
  g_autofree gchar *name = NULL;
  GstPadTemplate *templ;
  GstNoomSrcPad *ghost;
  GstPad *target, *sinkpad;
  NoomMediaState state;
  Output *out;
  guint i, expected;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  g_object_get (pad, "transceiver", &trans, NULL);
  if (trans) {
    g_object_get (trans, "mlineindex", &mline, NULL);
    gst_object_unref (trans);
  }
  if (gst_noom_peer_get_plan (peer)->relay) {
    /* docs/protocol.md §11: the relay's one connection carries everyone's
     * tracks; its offer says whose each m-line is.  The relay forwards
     * them all: those of participants we filter out are dropped here. */
    owner = gst_noom_peer_get_track_owner (peer, mline);
    if (!owner || !participant_wanted (self, owner)) {
      GST_INFO_OBJECT (self, "dropping the relay's m-line %u (%s)", mline,
          owner ? owner->nickname : "nobody's");
      gst_noom_session_drop_pad (pad);
      return;
    }
    p = owner;
  }
  caps = gst_pad_get_current_caps (pad);
  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  s = gst_caps_get_structure (caps, 0);
  encoding = g_strdup (gst_structure_get_string (s, "encoding-name"));
  media = gst_structure_get_string (s, "media");
  video = !g_strcmp0 (media, "video");
  /* A shared screen (docs/protocol.md §7, §11): on the relay's connection
   * its m-line says so; on a participant's own, it is the second video
   * m-line of a pair that takes screens. */
  if (gst_noom_peer_get_plan (peer)->relay)
    screen = video && gst_noom_peer_is_screen_track (peer, mline);
  else
    screen = video && takes_screen (self, p) &&
        gst_noom_peer_video_index (peer, mline) == 1;
  what = screen ? "screen" : video ? "video" : "audio";
  templ_name = screen ? "screen_%u" : video ? "video_%u" : "audio_%u";
  GST_INFO_OBJECT (self, "%s sends %" GST_PTR_FORMAT " on m-line %u (%s)",
      p->nickname, caps, mline, what);

  GST_OBJECT_LOCK (self);
  decode = self->decode;
  GST_OBJECT_UNLOCK (self);

  /* Only the kinds it announced (docs/protocol.md §7 "What a participant
   * may send"): our answer already refuses the others; this is for media
   * that comes anyway. */
  wanted = encoding && (media_wanted (self) & p->sends & (video ?
          NOOM_MEDIA_VIDEO : NOOM_MEDIA_AUDIO));
  /* on the relay's connection a peer is everyone: no layers per peer */
  if (wanted && !screen && !g_ascii_strcasecmp (encoding, "VP8")
      && !gst_noom_peer_get_plan (peer)->relay)
    watch_vp8_layers (pad, peer);
  if (wanted && reclaim_parked (self, peer, p, pad, what, encoding)) {
    gst_caps_unref (caps);
    goto counted;
  }
  if (!wanted || !chain_for (encoding, decode, elements)) {
    GST_WARNING_OBJECT (self, "not exposing %" GST_PTR_FORMAT " from %s",
        caps, p->nickname);
    for (i = 0; i < elements->len; i++)
      gst_object_unref (gst_object_ref_sink (elements->pdata[i]));
    gst_caps_unref (caps);
    gst_noom_session_drop_pad (pad);
    return;
  }
  gst_caps_unref (caps);

  for (i = 0; i < elements->len; i++) {
    /* a decoder error ends this participant's connection only */
    gst_noom_session_mark_element (elements->pdata[i], peer);
    gst_bin_add (GST_BIN (self), elements->pdata[i]);
    gst_object_ref (elements->pdata[i]);
    if (i > 0)
      gst_element_link (elements->pdata[i - 1], elements->pdata[i]);
  }
  for (i = elements->len; i > 0; i--)
    gst_element_sync_state_with_parent (elements->pdata[i - 1]);

  GST_OBJECT_LOCK (self);
  name = g_strdup_printf (templ_name, screen ? self->next_screen++ : video ?
      self->next_video++ : self->next_audio++);
  GST_OBJECT_UNLOCK (self);
  templ = gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
      templ_name);
  ghost = g_object_new (GST_TYPE_NOOM_SRC_PAD, "name", name, "direction",
      GST_PAD_SRC, "template", templ, NULL);
  ghost->participant_id = g_strdup (p->id);
  ghost->nickname = g_strdup (p->nickname);
  ghost->kind = g_strdup (p->kind);
  ghost->media = g_strdup (what);
  GST_OBJECT_LOCK (self);
  state = media_state_of (self, p);
  GST_OBJECT_UNLOCK (self);
  ghost->audio_muted = !(state & NOOM_MEDIA_STATE_AUDIO);
  ghost->video_muted = !(state & NOOM_MEDIA_STATE_VIDEO);
  target = gst_element_get_static_pad (elements->pdata[elements->len - 1],
      "src");
  gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), target);
  gst_pad_add_probe (target, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      stream_start_probe, gst_object_ref (ghost), gst_object_unref);
  gst_pad_add_probe (target, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, buffer_probe, ghost, NULL);
  gst_object_unref (target);

  out = g_new0 (Output, 1);
  out->elements = g_ptr_array_ref (elements);
  out->ghost = gst_object_ref (GST_PAD (ghost));
  out->encoding = g_strdup (encoding);
  out->peer = peer;

  gst_pad_set_active (GST_PAD (ghost), TRUE);
  GST_INFO_OBJECT (self, "exposing %s: %s of %s (%s)", name, what,
      p->nickname, p->id);
  gst_element_add_pad (GST_ELEMENT (self), GST_PAD (ghost));

  sinkpad = gst_element_get_static_pad (elements->pdata[0], "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (self, "could not link %" GST_PTR_FORMAT, pad);
  gst_object_unref (sinkpad);

  GST_OBJECT_LOCK (self);
  g_ptr_array_add (outputs, out);
  self->all_outputs = g_list_append (self->all_outputs, out);
  GST_OBJECT_UNLOCK (self);

counted:
  /* no-more-pads is for the cameras and microphones there are: a screen
   * may come at any time, or never */
  if (screen)
    return;
  expected = 0;
  if (p->sends & media_wanted (self) & NOOM_MEDIA_AUDIO)
    expected++;
  if (p->sends & media_wanted (self) & NOOM_MEDIA_VIDEO)
    expected++;
  GST_OBJECT_LOCK (self);
  if (!self->no_more_pads && outputs->len >= expected)
    emit_no_more = self->no_more_pads = TRUE;
  GST_OBJECT_UNLOCK (self);
  if (emit_no_more)
    gst_element_no_more_pads (GST_ELEMENT (self));
}

/* ------------------------------------------------------------------------ */
/* peers (session thread) */

/* Sends EOS into the head of a track's chain: drains the decoder, then
 * tells downstream the track ended. */
static gpointer
end_track (gpointer data)
{
  GstElement *first = data;
  GstPad *head = gst_element_get_static_pad (first, "sink");

  gst_pad_send_event (head, gst_event_new_eos ());
  gst_object_unref (head);
  gst_object_unref (first);
  return NULL;
}

static void
remove_outputs (GstNoomSrc * self, GPtrArray * outputs)
{
  guint i, j;

  for (i = 0; i < outputs->len; i++) {
    Output *out = outputs->pdata[i];

    if (out->eos_thread)
      g_thread_join (out->eos_thread);
    else
      end_track (gst_object_ref (out->elements->pdata[0]));
    for (j = 0; j < out->elements->len; j++) {
      GstElement *e = out->elements->pdata[j];

      gst_element_set_locked_state (e, TRUE);
      gst_element_set_state (e, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (self), e);
    }
    GST_OBJECT_LOCK (self);
    self->all_outputs = g_list_remove (self->all_outputs, out);
    GST_OBJECT_UNLOCK (self);
    GST_INFO_OBJECT (self, "removing %s", GST_PAD_NAME (out->ghost));
    gst_pad_set_active (out->ghost, FALSE);
    gst_element_remove_pad (GST_ELEMENT (self), out->ghost);
    output_free (out);
  }
  g_ptr_array_set_size (outputs, 0);
}

/* Ends every parked track: EOS, and its pad goes.  Session thread, or any
 * thread once the session is stopped. */
static void
end_parked (GstNoomSrc * self)
{
  g_autoptr (GPtrArray) ended = g_ptr_array_new ();
  GList *l;

  GST_OBJECT_LOCK (self);
  for (l = self->parked; l; l = l->next) {
    Output *out = l->data;

    /* all at once, as in src_peer_removing() */
    if (!out->eos_thread)
      out->eos_thread = g_thread_new ("noomsrc-eos", end_track,
          gst_object_ref (out->elements->pdata[0]));
    g_ptr_array_add (ended, out);
  }
  g_clear_pointer (&self->parked, g_list_free);
  GST_OBJECT_UNLOCK (self);
  if (ended->len)
    GST_INFO_OBJECT (self, "ending %u parked track(s)", ended->len);
  remove_outputs (self, ended);
}

static void
stop_parked_expiry (GstNoomSrc * self)
{
  GSource *expiry;

  GST_OBJECT_LOCK (self);
  expiry = g_steal_pointer (&self->parked_expiry);
  GST_OBJECT_UNLOCK (self);
  if (expiry) {
    g_source_destroy (expiry);
    g_source_unref (expiry);
  }
}

/* reconnect-window after the rejoin: the participants whose tracks are
 * still parked did not come back. */
static gboolean
parked_expired (gpointer data)
{
  GstNoomSrc *self = data;
  GSource *expiry;

  GST_OBJECT_LOCK (self);
  expiry = g_steal_pointer (&self->parked_expiry);
  GST_OBJECT_UNLOCK (self);
  if (!expiry)
    return G_SOURCE_REMOVE;     /* stopped meanwhile */
  g_source_unref (expiry);
  GST_INFO_OBJECT (self, "reconnect-window over since the rejoin");
  end_parked (self);
  return G_SOURCE_REMOVE;
}

static void
start_parked_expiry (GstNoomSrc * self)
{
  guint window, n = 0;

  g_object_get (self, "reconnect-window", &window, NULL);
  GST_OBJECT_LOCK (self);
  if (self->parked && !self->parked_expiry) {
    n = g_list_length (self->parked);
    self->parked_expiry = g_timeout_source_new (window);
    g_source_set_callback (self->parked_expiry, parked_expired, self, NULL);
    /* the session thread's context: stopping the session ends it too */
    g_source_attach (self->parked_expiry, g_main_context_get_thread_default ());
  }
  GST_OBJECT_UNLOCK (self);
  if (n)
    GST_INFO_OBJECT (self, "back in the room: %u parked track(s) wait up to "
        "%u ms for their participants", n, window);
}

static gboolean
src_accept (GstNoomBaseBin * element, NoomParticipant * p)
{
  return participant_wanted (GST_NOOM_SRC (element), p);
}

/* participant=NAME and NAME is not in the room: say so (the element would
 * otherwise sit there without a word), and give up after
 * participant-timeout if one is set. */
static void
src_joined (GstNoomBaseBin * element, const gchar * room)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  g_autofree gchar *participant = NULL;
  guint timeout;

  /* after a rejoin: the peers made so far have claimed their tracks */
  start_parked_expiry (self);

  GST_OBJECT_LOCK (self);
  if (!self->participant || self->participant_found ||
      self->participant_wait) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  participant = g_strdup (self->participant);
  timeout = self->participant_timeout;
  if (timeout) {
    self->participant_wait = g_timeout_source_new (timeout);
    g_source_set_callback (self->participant_wait, participant_wait_expired,
        self, NULL);
    /* the session thread's context: stopping the session ends it too */
    g_source_attach (self->participant_wait,
        g_main_context_get_thread_default ());
  }
  GST_OBJECT_UNLOCK (self);

  if (timeout)
    GST_INFO_OBJECT (self, "waiting up to %u ms for participant \"%s\" in "
        "room \"%s\"", timeout, participant, room);
  else
    GST_INFO_OBJECT (self, "waiting for participant \"%s\" in room \"%s\"",
        participant, room);
  gst_element_post_message (GST_ELEMENT (element), gst_message_new_element (GST_OBJECT
          (element), gst_structure_new ("noom-waiting-for-participant",
              "participant", G_TYPE_STRING, participant, "room",
              G_TYPE_STRING, room, "timeout", G_TYPE_UINT, timeout, NULL)));
}

static void
src_peer_added (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  GstElement *webrtc = gst_noom_peer_get_webrtcbin (peer);
  guint latency;

  GST_OBJECT_LOCK (self);
  latency = self->latency;
  GST_OBJECT_UNLOCK (self);
  g_object_set (webrtc, "latency", latency, NULL);
  /* the relay's tracks claim theirs one by one (reclaim_parked()) */
  if (!gst_noom_peer_get_plan (peer)->relay)
    claim_parked (self, peer);
  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_webrtc_pad_added),
      peer);
}

static void
src_prepare_offer (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  NoomMediaFlags wanted = media_wanted (self);
  guint i;

  /* The pair's plan (docs/protocol.md §7): we send nothing, so recvonly for
   * each kind they send, of the kinds the media property wants. */
  for (i = 0; i < 2; i++) {
    NoomMediaFlags kind = i ? NOOM_MEDIA_VIDEO : NOOM_MEDIA_AUDIO;
    GstCaps *caps;

    if (!(wanted & kind) || gst_noom_peer_plan_direction (peer, kind) !=
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY)
      continue;
    caps = wanted_caps (i, TRUE);
    gst_noom_peer_add_transceiver (peer,
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps);
    /* docs/protocol.md §7 "A shared screen": a second video m-line, after
     * the camera's, for the screen it may share */
    if (i == 1 && takes_screen (self, gst_noom_peer_get_participant (peer))) {
      GST_DEBUG_OBJECT (self, "offering the screen m-line to %s",
          gst_noom_peer_get_participant (peer)->nickname);
      gst_noom_peer_add_transceiver (peer,
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps);
    }
    gst_caps_unref (caps);
  }
}

static void
src_prepare_answer (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  GstElement *webrtc = gst_noom_peer_get_webrtcbin (peer);
  GstWebRTCSessionDescription *desc = NULL;
  NoomParticipant *p = gst_noom_peer_get_participant (peer);
  /* What it offers to send counts only within its `sends` (docs/protocol.md
   * §7 "What a participant may send"). */
  NoomMediaFlags wanted = media_wanted (self) & p->sends;
  gboolean relay = gst_noom_peer_get_plan (peer)->relay;
  guint i;

  g_object_get (webrtc, "remote-description", &desc, NULL);
  if (!desc)
    return;
  for (i = 0; i < gst_sdp_message_medias_len (desc->sdp); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (desc->sdp, i);
    gboolean video = !g_strcmp0 (gst_sdp_media_get_media (media), "video");
    gboolean sends = !gst_sdp_media_get_attribute_val (media, "recvonly") &&
        !gst_sdp_media_get_attribute_val (media, "inactive");
    /* docs/protocol.md §11: on the relay's connection each m-line is one
     * participant's track, taken within that participant's `sends`.  The
     * relay's later offers come here too, with the m-lines of the tracks
     * that started since. */
    g_autoptr (NoomParticipant) owner = relay ?
        gst_noom_peer_get_track_owner (peer, i) : NULL;
    NoomMediaFlags from = relay ? (owner ? owner->sends : NOOM_MEDIA_NONE) :
        wanted;
    GstWebRTCRTPTransceiverDirection dir = sends &&
        (media_wanted (self) & from & (video ? NOOM_MEDIA_VIDEO :
            NOOM_MEDIA_AUDIO)) ?
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY :
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE;
    GstCaps *caps = wanted_caps (video, FALSE);
    guint twcc = gst_noom_codec_twcc_id (media);
    /* webrtcbin 1.22 makes the transceivers of a remote offer only while
     * answering, matching unassociated ones of the same kind first: ours
     * say what we take (only our codecs, recvonly or inactive). */
    GstWebRTCRTPTransceiver *trans = gst_noom_peer_get_transceiver (peer, i);

    /* transport-wide congestion control feedback for a noomsink or the
     * media relay, under the id it offered (they adapt to it:
     * docs/elements.md "Bandwidth adaptation").  Not for browsers: with
     * our feedback Chromium's own estimate held a page's camera back while
     * it shared its screen (the composite's camera tile stayed dark,
     * jobs-egress); they send as before, on receiver reports. */
    if (video && twcc && (relay || !g_strcmp0 (p->kind, "publisher")))
      gst_noom_codec_add_twcc (caps, twcc);
    if (trans)
      g_object_set (trans, "direction", dir, "codec-preferences", caps, NULL);
    else
      gst_noom_peer_add_transceiver (peer, dir, caps);
    GST_DEBUG_OBJECT (self, "m-line %u (%s): %s", i, video ? "video" :
        "audio", dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY ?
        "recvonly" : "inactive");
    gst_clear_object (&trans);
    gst_caps_unref (caps);
  }
  gst_webrtc_session_description_free (desc);
}

/* Our server connection dropped: the peers go next (on_disconnected()),
 * their tracks are parked rather than ended (src_peer_removing()). */
static void
src_connection_lost (GstNoomBaseBin * element)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  guint n = 0;
  GList *l;

  /* the window starts again at the next rejoin */
  stop_parked_expiry (self);
  GST_OBJECT_LOCK (self);
  for (l = self->all_outputs; l; l = l->next) {
    Output *out = l->data;

    if (out->peer && !out->eos_thread) {
      out->lost = TRUE;
      n++;
    }
  }
  /* the claims went with the peers: the next rejoin claims again */
  for (l = self->parked; l; l = l->next)
    ((Output *) l->data)->claimed_by = NULL;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "lost the server connection: parking %u track(s)", n);
}

/* SFU room: the server's relay stopped, its connection goes next; the
 * tracks it carried are parked as when our server connection drops, and
 * wait reconnect-window ms (from then: there is no rejoin) for the new
 * relay to carry them again. */
static void
src_relay_lost (GstNoomBaseBin * element)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  guint n = 0;
  GList *l;

  GST_OBJECT_LOCK (self);
  for (l = self->all_outputs; l; l = l->next) {
    Output *out = l->data;

    if (out->peer && !out->eos_thread) {
      out->lost = TRUE;
      n++;
    }
  }
  self->relay_restart = TRUE;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "the media relay stopped: parking %u track(s)", n);
}

static void park_track (GstElement * head);

/* SFU room: @p left.  Its tracks came over the relay's connection, which
 * stays: they end here as a participant's tracks end with its own
 * connection (src_peer_removing()), EOS from threads of their own, all at
 * once, and their pads go; the webrtcbin's pads are unlinked from them
 * first, with a drop probe (park_track()), since the relay may still send
 * a packet or two until its next offer makes the m-line inactive. */
static void
src_participant_left (GstNoomBaseBin * element, NoomParticipant * p)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  g_autoptr (GPtrArray) ended = g_ptr_array_new ();
  GList *l;
  guint i;

  GST_OBJECT_LOCK (self);
  for (l = self->all_outputs; l; l = l->next) {
    Output *out = l->data;
    GstNoomSrcPad *ghost = GST_NOOM_SRC_PAD (out->ghost);
    gboolean same;

    if (!out->peer || out->eos_thread)
      continue;
    GST_OBJECT_LOCK (ghost);
    same = !g_strcmp0 (ghost->participant_id, p->id);
    GST_OBJECT_UNLOCK (ghost);
    if (!same)
      continue;
    g_ptr_array_remove (gst_noom_peer_get_tracks (out->peer), out);
    g_ptr_array_add (ended, out);
  }
  GST_OBJECT_UNLOCK (self);
  if (!ended->len)
    return;
  GST_INFO_OBJECT (self, "%s (%s) left: ending its %u track(s)", p->nickname,
      p->id, ended->len);
  for (i = 0; i < ended->len; i++)
    park_track (((Output *) ended->pdata[i])->elements->pdata[0]);
  GST_OBJECT_LOCK (self);
  for (i = 0; i < ended->len; i++) {
    Output *out = ended->pdata[i];

    out->eos_thread = g_thread_new ("noomsrc-eos", end_track,
        gst_object_ref (out->elements->pdata[0]));
  }
  GST_OBJECT_UNLOCK (self);
  remove_outputs (self, ended);
}

/* Nothing more from the webrtcbin goes into the chain that starts with
 * @head: a drop probe on the webrtcbin's src pad first (what it pushes
 * until it stops is dropped there, not refused as not-linked, an error),
 * then the link goes. */
static void
park_track (GstElement * head)
{
  GstPad *sinkpad = gst_element_get_static_pad (head, "sink");
  GstPad *src = gst_pad_get_peer (sinkpad);

  if (src) {
    gst_noom_session_drop_pad (src);
    gst_pad_unlink (src, sinkpad);
    gst_object_unref (src);
  }
  gst_object_unref (sinkpad);
}

/* Ends the tracks of a lost peer after all when stopping its webrtcbin
 * takes more than PARK_STOP_TIMEOUT ms: see src_peer_removing(). */
typedef struct
{
  GstNoomSrc *self;
  GPtrArray *outputs;           /* the peer's: src_peer_removed() joins us
                                   before it touches them */
  GMutex lock;
  GCond cond;
  gboolean stopped;             /* under lock */
  GThread *thread;
} ParkGuard;

static gpointer
park_guard_thread (gpointer data)
{
  ParkGuard *guard = data;
  gint64 end = g_get_monotonic_time () +
      PARK_STOP_TIMEOUT * G_TIME_SPAN_MILLISECOND;
  gboolean stopped;
  guint i;

  g_mutex_lock (&guard->lock);
  while (!guard->stopped)
    if (!g_cond_wait_until (&guard->cond, &guard->lock, end))
      break;
  stopped = guard->stopped;
  g_mutex_unlock (&guard->lock);
  if (stopped)
    return NULL;

  GST_ELEMENT_WARNING (guard->self, RESOURCE, READ,
      ("Could not keep a participant's tracks for the reconnection: "
          "downstream holds them (a muxer waiting for another track?). "
          "They end."), ("stopping the lost connection took more than %u ms",
          PARK_STOP_TIMEOUT));
  GST_OBJECT_LOCK (guard->self);
  for (i = 0; i < guard->outputs->len; i++) {
    Output *out = guard->outputs->pdata[i];

    if (!out->eos_thread)
      out->eos_thread = g_thread_new ("noomsrc-eos", end_track,
          gst_object_ref (out->elements->pdata[0]));
  }
  GST_OBJECT_UNLOCK (guard->self);
  return NULL;
}

static ParkGuard *
park_guard_new (GstNoomSrc * self, GPtrArray * outputs)
{
  ParkGuard *guard = g_new0 (ParkGuard, 1);

  guard->self = self;
  guard->outputs = outputs;
  g_mutex_init (&guard->lock);
  g_cond_init (&guard->cond);
  guard->thread = g_thread_new ("noomsrc-park", park_guard_thread, guard);
  return guard;
}

static void
park_guard_free (gpointer data)
{
  ParkGuard *guard = data;

  g_mutex_lock (&guard->lock);
  guard->stopped = TRUE;
  g_cond_signal (&guard->cond);
  g_mutex_unlock (&guard->lock);
  g_thread_join (guard->thread);
  g_mutex_clear (&guard->lock);
  g_cond_clear (&guard->cond);
  g_free (guard);
}

/* The participant is going; its webrtcbin still runs.  Each of its tracks
 * gets EOS from a thread of its own, all at once: downstream may wait for
 * one track (a muxer waiting for video that stopped) while the streaming
 * thread of another is blocked in it (a full queue in front of that muxer),
 * holding the locks that stopping the webrtcbin needs.  Ending the tracks
 * one by one from here, or after stopping the webrtcbin, would then wait
 * forever.  remove_outputs() joins these threads.  Parked tracks that this
 * participant claimed after a rejoin and has not fed yet end with it.
 *
 * When the peer goes with our server connection (src_connection_lost()),
 * its tracks are parked instead: no EOS, the webrtcbin's pads are unlinked
 * from the chains (park_track()), and src_peer_removed() keeps the chains
 * and the pads.  Unlinking keeps anything more from going into a chain,
 * so stopping the webrtcbin never waits for data pushed after it; it does
 * not release a streaming thread already blocked downstream (the muxer
 * above).  With no EOS, nothing would: the stop, and with it the session
 * thread and the reconnection, would wait forever.  So a guard thread
 * (ParkGuard) ends the tracks after all, as above, if the stop takes more
 * than PARK_STOP_TIMEOUT ms. */
static void
src_peer_removing (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  GPtrArray *outputs = gst_noom_peer_get_tracks (peer);
  g_autoptr (GPtrArray) heads =
      g_ptr_array_new_with_free_func (gst_object_unref);
  GList *l, *next;
  guint i;

  if (!outputs)
    return;
  GST_OBJECT_LOCK (self);
  for (l = self->parked; l; l = next) {
    Output *out = l->data;

    next = l->next;
    if (out->claimed_by != peer)
      continue;
    self->parked = g_list_delete_link (self->parked, l);
    out->claimed_by = NULL;
    out->peer = peer;
    g_ptr_array_add (outputs, out);
  }
  for (i = 0; i < outputs->len; i++) {
    Output *out = outputs->pdata[i];

    if (out->lost)
      g_ptr_array_add (heads, gst_object_ref (out->elements->pdata[0]));
    else if (!out->eos_thread)
      out->eos_thread = g_thread_new ("noomsrc-eos", end_track,
          gst_object_ref (out->elements->pdata[0]));
  }
  GST_OBJECT_UNLOCK (self);

  for (i = 0; i < heads->len; i++)
    park_track (heads->pdata[i]);
  if (heads->len)
    gst_noom_peer_set_guard (peer, park_guard_new (self, outputs),
        park_guard_free);
}

static void
src_peer_removed (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  NoomParticipant *p = gst_noom_peer_get_participant (peer);
  GPtrArray *outputs;
  gpointer guard;
  gboolean relay_restart;
  guint i, n = 0;

  g_signal_handlers_disconnect_by_data (gst_noom_peer_get_webrtcbin (peer),
      peer);
  guard = gst_noom_peer_steal_guard (peer);
  if (guard)
    park_guard_free (guard);
  outputs = gst_noom_peer_steal_tracks (peer);
  /* The parked tracks stay; the others end. */
  GST_OBJECT_LOCK (self);
  for (i = 0; i < outputs->len;) {
    Output *out = outputs->pdata[i];

    if (out->lost && !out->eos_thread) {
      out->lost = FALSE;
      out->peer = NULL;
      self->parked = g_list_append (self->parked, out);
      g_ptr_array_remove_index (outputs, i);
      n++;
    } else {
      i++;
    }
  }
  relay_restart = self->relay_restart && gst_noom_peer_get_plan (peer)->relay;
  if (relay_restart)
    self->relay_restart = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (n)
    GST_INFO_OBJECT (self, "parked %u track(s) of %s (%s)", n, p->nickname,
        p->id);
  /* no rejoin to wait for: the new relay offers when it is up */
  if (relay_restart)
    start_parked_expiry (self);
  remove_outputs (self, outputs);
  g_ptr_array_unref (outputs);
}

/* The pads of participant @id, each with a ref. */
static GPtrArray *
pads_of (GstNoomBaseBin * element, const gchar * id)
{
  GPtrArray *pads = g_ptr_array_new_with_free_func (gst_object_unref);
  GList *l;

  GST_OBJECT_LOCK (element);
  for (l = GST_ELEMENT (element)->srcpads; l; l = l->next) {
    GstNoomSrcPad *ghost;
    gboolean same;

    if (!GST_IS_NOOM_SRC_PAD (l->data))
      continue;
    ghost = l->data;
    GST_OBJECT_LOCK (ghost);
    same = !g_strcmp0 (ghost->participant_id, id);
    GST_OBJECT_UNLOCK (ghost);
    if (same)
      g_ptr_array_add (pads, gst_object_ref (ghost));
  }
  GST_OBJECT_UNLOCK (element);
  return pads;
}

/* A participant renamed itself: its pads say so (nickname property, with
 * notify, and a new tag event before their next buffer). */
static void
src_participant_updated (GstNoomBaseBin * element, NoomParticipant * p)
{
  g_autoptr (GPtrArray) pads = pads_of (element, p->id);
  guint i;


  for (i = 0; i < pads->len; i++) {
    GstNoomSrcPad *ghost = pads->pdata[i];
    GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (ghost));

    GST_OBJECT_LOCK (ghost);
    g_free (ghost->nickname);
    ghost->nickname = g_strdup (p->nickname);
    GST_OBJECT_UNLOCK (ghost);
    GST_INFO_OBJECT (ghost, "%s is \"%s\" now", p->id, p->nickname);
    g_object_notify (G_OBJECT (ghost), "nickname");
    if (target) {
      store_participant_tags (ghost, target);
      gst_object_unref (target);
    }
  }
}

/* A participant's media state (the join ack, welcome, participant_media):
 * kept for its pads to come, and set on those it has. */
static void
src_participant_media (GstNoomBaseBin * element, NoomParticipant * p)
{
  GstNoomSrc *self = GST_NOOM_SRC (element);
  g_autoptr (GPtrArray) pads = NULL;
  guint i;

  GST_OBJECT_LOCK (element);
  if (self->media_states == NULL)
    self->media_states = g_hash_table_new_full (g_str_hash, g_str_equal,
        g_free, NULL);
  g_hash_table_replace (self->media_states, g_strdup (p->id),
      GUINT_TO_POINTER (p->state));
  GST_OBJECT_UNLOCK (element);

  pads = pads_of (element, p->id);
  for (i = 0; i < pads->len; i++)
    pad_set_media_state (pads->pdata[i], p->state);
}

/* ------------------------------------------------------------------------ */
/* element */

static gboolean
gst_noom_src_send_event (GstElement * element, GstEvent * event)
{
  GList *l;
  GstNoomSrc *self = GST_NOOM_SRC (element);
  g_autoptr (GPtrArray) heads = g_ptr_array_new_with_free_func
      (gst_object_unref);
  guint i;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);

  /* gst-launch -e: every track ends, and we leave the room. */
  GST_INFO_OBJECT (self, "EOS: ending every track");
  GST_OBJECT_LOCK (self);
  for (l = self->all_outputs; l; l = l->next) {
    Output *out = l->data;
    g_ptr_array_add (heads, gst_object_ref (out->elements->pdata[0]));
  }
  GST_OBJECT_UNLOCK (self);
  for (i = 0; i < heads->len; i++) {
    GstPad *sinkpad = gst_element_get_static_pad (heads->pdata[i], "sink");

    gst_pad_send_event (sinkpad, gst_event_ref (event));
    gst_object_unref (sinkpad);
  }
  gst_event_unref (event);
  gst_noom_session_leave (SESSION (self));
  return TRUE;
}

static gboolean
gst_noom_src_start (GstNoomBaseBin * base)
{
  GstNoomSrc *self = GST_NOOM_SRC (base);
  GstNoomSrcKind kind;

  GST_OBJECT_LOCK (self);
  self->no_more_pads = FALSE;
  self->participant_found = FALSE;
  self->next_video = self->next_audio = self->next_screen = 0;
  kind = self->kind;
  GST_OBJECT_UNLOCK (self);
  gst_noom_session_set_kind (SESSION (self),
      g_enum_get_value (g_type_class_peek (GST_TYPE_NOOM_SRC_KIND),
          kind)->value_nick);
  /* docs/protocol.md §3 "features": we take the screens of the others
   * when we take video */
  gst_noom_session_set_features (SESSION (self),
      (media_wanted (self) & NOOM_MEDIA_VIDEO) ? NOOM_FEATURE_SCREEN :
      NOOM_FEATURE_NONE);
  return TRUE;
}

static void
gst_noom_src_started (GstNoomBaseBin * base)
{
  gst_noom_session_join (SESSION (base), NOOM_MEDIA_NONE);
}

/* The session stopped: nothing reclaims a parked track any more. */
static void
gst_noom_src_stopped (GstNoomBaseBin * base)
{
  GstNoomSrc *self = GST_NOOM_SRC (base);

  stop_participant_wait (self);
  stop_parked_expiry (self);
  end_parked (self);
}

static void
gst_noom_src_finalize (GObject * object)
{
  GstNoomSrc *self = GST_NOOM_SRC (object);

  /* before what the session thread may use goes */
  gst_noom_session_stop (SESSION (self));
  stop_participant_wait (self);
  stop_parked_expiry (self);
  g_list_free_full (self->parked, (GDestroyNotify) output_free);
  g_list_free (self->all_outputs);
  g_clear_pointer (&self->media_states, g_hash_table_unref);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_noom_src_init (GstNoomSrc * self)
{
}

static void
gst_noom_src_class_init (GstNoomSrcClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstNoomBaseBinClass *base_class = GST_NOOM_BASE_BIN_CLASS (klass);
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  gobject_class->set_property = gst_noom_base_bin_set_field_property;
  gobject_class->get_property = gst_noom_field_get_property;
  gobject_class->finalize = gst_noom_src_finalize;

  /**
   * GstNoomSrc:decode:
   *
   * TRUE (the default): the pads carry raw video and audio, decoded.
   * FALSE: the encoded media as received, depayloaded and parsed (VP8,
   * VP9, H.264, Opus), for recording without transcoding (noom-record does
   * so).
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_DECODE,
      G_STRUCT_OFFSET (GstNoomSrc, decode),
      g_param_spec_boolean ("decode", "Decode",
          "Output raw video and audio (TRUE) or the depayloaded encoded "
          "media (FALSE)", DEFAULT_DECODE, rw));
  /**
   * GstNoomSrc:participant:
   *
   * Receive only this participant, named by nickname or id; the others are
   * not connected at all. A nickname is matched when the participant
   * joins: one that renames itself later keeps its pads. NULL: everyone.
   * See also #GstNoomSrc:participant-timeout.
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_PARTICIPANT,
      G_STRUCT_OFFSET (GstNoomSrc, participant),
      g_param_spec_string ("participant", "Participant",
          "Receive only this participant (a nickname or an id); NULL: "
          "everyone", NULL, rw));
  /**
   * GstNoomSrc:media:
   *
   * The kinds of media to receive (audio, video or both); the others are
   * refused in the offer or answer, so they never cross the network.
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_MEDIA,
      G_STRUCT_OFFSET (GstNoomSrc, media),
      g_param_spec_flags ("media", "Media", "The media to receive",
          GST_TYPE_NOOM_MEDIA, DEFAULT_MEDIA, rw));
  /**
   * GstNoomSrc:latency:
   *
   * The jitterbuffer of each connection, in milliseconds: longer waits for
   * late and resent packets, shorter shows pictures sooner (noom-record
   * uses 200).
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_LATENCY,
      G_STRUCT_OFFSET (GstNoomSrc, latency),
      g_param_spec_uint ("latency", "Latency",
          "Jitterbuffer size in milliseconds", 0, 10000, DEFAULT_LATENCY, rw));
  /**
   * GstNoomSrc:kind:
   *
   * The participant kind to join as: "subscriber", or "recorder", which
   * every client shows with a recording badge (docs/protocol.md §3).
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_KIND,
      G_STRUCT_OFFSET (GstNoomSrc, kind),
      g_param_spec_enum ("kind", "Kind",
          "Join as a subscriber or as a recorder (the others show a "
          "recording badge)", GST_TYPE_NOOM_SRC_KIND, DEFAULT_KIND, rw));
  /**
   * GstNoomSrc:participant-timeout:
   *
   * With #GstNoomSrc:participant set: how long to wait, once in the room, for
   * that participant to be there before posting an error (RESOURCE,
   * NOT_FOUND).  While it waits, the element message
   * `noom-waiting-for-participant` (fields `participant`, `room`, `timeout`)
   * says so.  0 waits forever.
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_PARTICIPANT_TIMEOUT,
      G_STRUCT_OFFSET (GstNoomSrc, participant_timeout),
      g_param_spec_uint ("participant-timeout", "Participant timeout",
          "Milliseconds to wait in the room for the participant property's "
          "participant before failing; 0: wait forever.  While it waits, "
          "the element message noom-waiting-for-participant says so", 0,
          G_MAXUINT,
          DEFAULT_PARTICIPANT_TIMEOUT, rw));

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &video_template, GST_TYPE_NOOM_SRC_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &audio_template, GST_TYPE_NOOM_SRC_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &screen_template, GST_TYPE_NOOM_SRC_PAD);
  gst_element_class_set_static_metadata (element_class, "Noom room source",
      "Source/Network/WebRTC",
      "Receives the audio, video and shared screens (screen_%u pads) of the "
      "participants of a Noom room",
      "Noom developers");

  element_class->send_event = gst_noom_src_send_event;

  base_class->kind = "subscriber";
  base_class->uri_type = GST_URI_SRC;
  base_class->live = TRUE;
  base_class->start = gst_noom_src_start;
  base_class->started = gst_noom_src_started;
  base_class->stopped = gst_noom_src_stopped;
  base_class->accept = src_accept;
  base_class->peer_added = src_peer_added;
  base_class->prepare_offer = src_prepare_offer;
  base_class->prepare_answer = src_prepare_answer;
  base_class->connection_lost = src_connection_lost;
  base_class->peer_removing = src_peer_removing;
  base_class->peer_removed = src_peer_removed;
  base_class->participant_updated = src_participant_updated;
  base_class->participant_media = src_participant_media;
  base_class->participant_left = src_participant_left;
  base_class->relay_lost = src_relay_lost;
  base_class->joined = src_joined;

  gst_type_mark_as_plugin_api (GST_TYPE_NOOM_MEDIA, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_NOOM_SRC_KIND, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_NOOM_SRC_PAD, 0);
}
