/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-noomsink
 * @title: noomsink
 *
 * Publishes audio and video into a Noom room: noomsink joins the room as a
 * participant of kind "publisher" and sends its streams to every other
 * participant over WebRTC (one webrtcbin per participant).  Each stream is
 * encoded once (raw video to VP8 by default, H.264 or VP9 with
 * #GstNoomSink:video-codec; raw audio to Opus) and fanned out through a tee
 * with a leaky queue per participant, so a slow participant never holds up
 * the others.  Already encoded VP8, VP9, H.264 and Opus are sent as they are.
 *
 * It joins when every stream has its caps (on the way to PLAYING) and
 * leaves on EOS and when going down.  Participants joining, leaving,
 * connecting and failing are signalled and posted as element messages.
 *
 * #GstNoomSink:mute-audio and #GstNoomSink:mute-video, in any state, stop
 * the media (silence for raw audio, nothing for encoded audio and for
 * video) and tell the room (docs/protocol.md media_state): the others show
 * a muted microphone, or the name instead of the picture.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e videotestsrc is-live=true ! noomsink uri=noom://localhost:8080/demo
 * gst-launch-1.0 -e videotestsrc is-live=true ! noomsink name=s uri=noom://localhost:8080/demo?nickname=bot \
 *     audiotestsrc is-live=true ! s.
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gst/rtp/rtp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include "gstnoomelements.h"
#include "gstnoomenums.h"
#include "gstnoomsink.h"
#include "gstnoomcodec.h"
#include "gstnoomsession.h"
#include "gstnoompeer.h"
#include "gstnoombwe.h"

GST_DEBUG_CATEGORY_STATIC (gst_noom_sink_debug);
#define SESSION(self) gst_noom_base_bin_get_session (GST_NOOM_BASE_BIN (self))
#define GST_CAT_DEFAULT gst_noom_sink_debug


#define DEFAULT_VIDEO_CODEC GST_NOOM_VIDEO_CODEC_VP8
#define DEFAULT_VIDEO_BITRATE 1000
#define DEFAULT_AUDIO_BITRATE 64
#define DEFAULT_CONGESTION_CONTROL GST_NOOM_CONGESTION_CONTROL_HOMEGROWN
#define DEFAULT_MIN_BITRATE 100000
#define DEFAULT_START_BITRATE 0
#define DEFAULT_MAX_BITRATE 0

#define TWCC_URI GST_NOOM_CODEC_TWCC_URI
#define TWCC_ID GST_NOOM_CODEC_TWCC_ID
#define ABS_SEND_TIME_URI GST_NOOM_CODEC_ABS_SEND_TIME_URI
#define ABS_SEND_TIME_ID GST_NOOM_CODEC_ABS_SEND_TIME_ID
/* After a receiver was moved down a layer, it is not moved up again for
 * this long (µs): each try overloads its link for a moment. */
#define UPSWITCH_BACKOFF (8 * G_USEC_PER_SEC)

enum
{
  PROP_VIDEO_CODEC = GST_NOOM_SESSION_PROP_LAST,
  PROP_VIDEO_BITRATE,
  PROP_AUDIO_BITRATE,
  PROP_MUTE_AUDIO,
  PROP_MUTE_VIDEO,
  PROP_CONGESTION_CONTROL,
  PROP_MIN_BITRATE,
  PROP_START_BITRATE,
  PROP_MAX_BITRATE,
};

typedef struct
{
  GstNoomSink *sink;
  GstPad *ghost;
  gboolean is_video;
  /* Set once, from the first CAPS event, under the sink's object lock. */
  gboolean ready;
  const GstNoomCodec *codec;
  GstCaps *rtp_caps;            /* the codec preference for webrtcbin */
  GstElement *pay;
  GstElement *tee;
  GPtrArray *elements;          /* the chain, for teardown */
  gboolean eos;
  gboolean need_key;            /* video unmuted: ask for a keyframe
                                 * (under the sink's object lock) */
  GstElement *encoder;          /* raw input: ours, whose bitrate adapts */
  gboolean layered;             /* VP8 with temporal layers */
  gboolean twcc;                /* the payloader writes TWCC */
  /* writes abs-send-time, on the branches to receivers that take REMB
   * only: set once, with the chain */
  GstRTPHeaderExtension *abs_send_time;
  /* under the object lock: bitrates for the encoder, given to it on its
   * own streaming thread (replan() runs on RTP sessions' threads, which
   * hold their session's lock: into the encoder from there would wait
   * for a frame that waits for that lock) */
  gboolean retarget;
  guint target_total, target_base;
} Stream;

/* One receiver's bandwidth (docs/elements.md "Bandwidth adaptation"):
 * an atomic rc box, held by the peer (object data), by the handlers on
 * its webrtcbin's RTP session, by its video branch, and by the sink's
 * list while the peer is there. */
typedef struct
{
  GstNoomSink *sink;            /* not a ref */
  gchar *peer_id;
  gchar *nickname;
  GMutex lock;                  /* the fields below; after the sink's */
  GstNoomBwe bwe;
  gboolean reported;            /* an estimate came */
  gboolean remb;                /* its REMB is read: it takes no TWCC */
  gboolean receives_video;      /* a video branch of ours goes there */
  gboolean no_feedback;         /* it took no TWCC: it never reports, and
                                   takes the stream at max-bitrate */
  guint layer;
  gint64 no_upswitch_until;
  guint posted_estimate, posted_layer;
  gint64 posted_at;
  GstNoomPeer *peer;            /* not a ref; NULL once removed */
  /* the branch's streaming thread only */
  GstNoomLayerFilter filter;
  gint max_layer;               /* atomic: what the filter lets through */
} PeerBwe;

/* One stream's path to one peer. */
typedef struct
{
  GstNoomSink *sink;
  gchar *peer_id;
  GstElement *tee;
  GstPad *tee_pad;
  GstElement *queue;
  GstPad *queue_src;
  GstWebRTCRTPTransceiver *transceiver;
  gint failed;                  /* atomic */
  gint pt;                      /* the peer's payload type; -1: ours */
  PeerBwe *bwe;                 /* a ref, for an adapting video branch */
  gboolean layered;             /* its packets go through bwe's filter */
  gint strip_twcc;              /* atomic: the peer took no TWCC */
  /* atomic: the id of the abs-send-time we write for the peer's REMB,
   * 0: none */
  gint abs_send_time_id;
  GstRTPHeaderExtension *abs_send_time; /* a ref, the stream's */
} Branch;

struct _GstNoomSink
{
  GstNoomBaseBin parent;

  /* Under the object lock. */
  GstNoomVideoCodec video_codec;
  guint video_bitrate;
  guint audio_bitrate;
  GList *streams;               /* Stream* */
  guint next_video, next_audio;
  gboolean running;             /* between READY->PAUSED and PAUSED->READY */
  gboolean join_sent;
  gboolean eos_posted;
  gboolean mute_audio;
  gboolean mute_video;
  gint congestion_control;
  guint min_bitrate, start_bitrate, max_bitrate;
  GPtrArray *bwes;              /* PeerBwe*, a ref each */
  guint encoder_bitrate, base_bitrate;  /* what the encoder was given */
  guint relay_base_bitrate;     /* SFU: the relay's media_bandwidth */
  gint64 last_plan;
};

static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE ("video_%u",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw; video/x-vp8; video/x-vp9; "
        "video/x-h264, stream-format = (string) { avc, byte-stream }"));

static GstStaticPadTemplate audio_template =
    GST_STATIC_PAD_TEMPLATE ("audio_%u",
    GST_PAD_SINK,
    GST_PAD_REQUEST,
    GST_STATIC_CAPS ("audio/x-raw; audio/x-opus"));

#define gst_noom_sink_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstNoomSink, gst_noom_sink, GST_TYPE_NOOM_BASE_BIN,
    GST_DEBUG_CATEGORY_INIT (gst_noom_sink_debug, "noomsink", 0,
        "Noom room publisher"));
GST_ELEMENT_REGISTER_DEFINE (noomsink, "noomsink", GST_RANK_PRIMARY,
    GST_TYPE_NOOM_SINK);

/* ------------------------------------------------------------------------ */
/* building a stream's chain from its caps */

static GstElement *
make (GstNoomSink * self, const gchar * factory, const gchar * plugin)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e)
    GST_ELEMENT_ERROR (self, CORE, MISSING_PLUGIN,
        ("The %s element is missing; install %s.", factory, plugin), (NULL));
  return e;
}

static GstElement *
add_element (GstNoomSink * self, GPtrArray * elements, const gchar * factory,
    const gchar * plugin)
{
  GstElement *e = make (self, factory, plugin);

  if (e)
    g_ptr_array_add (elements, e);
  return e;
}

static GstPadProbeReturn retarget_probe (GstPad * pad,
    GstPadProbeInfo * info, gpointer data);

/* The video bitrate limits in bit/s; under the object lock. */
static void
limits_locked (GstNoomSink * self, guint * min, guint * start, guint * max)
{
  *max = self->max_bitrate ? self->max_bitrate : self->video_bitrate * 1000;
  *min = MIN (self->min_bitrate, *max);
  *start = self->start_bitrate ? CLAMP (self->start_bitrate, *min, *max) :
      CLAMP (*max / 4, *min, *max);
}

/* vp8enc's temporal layers (gstnoombwe.h): every other frame is layer 0,
 * which refers to the last layer 0 frame only; the frames between are
 * layer 1, which refer to the last layer 0 frame and which nothing refers
 * to, so a receiver can be sent layer 0 alone and switched at any frame.
 * @base is what layer 0 gets of @total (bit/s).  vp8enc takes its arrays
 * as GValueArray, which GLib deprecates. */
G_GNUC_BEGIN_IGNORE_DEPRECATIONS static void
set_vp8_layers (GstElement * enc, guint total, guint base, gboolean init)
{
  GValueArray *rates = g_value_array_new (2);
  GValue v = G_VALUE_INIT;

  g_value_init (&v, G_TYPE_INT);
  if (init) {
    GValueArray *ids = g_value_array_new (2), *decimators =
        g_value_array_new (2);

    g_value_set_int (&v, 0);
    g_value_array_append (ids, &v);
    g_value_set_int (&v, 1);
    g_value_array_append (ids, &v);
    g_value_set_int (&v, 2);
    g_value_array_append (decimators, &v);
    g_value_set_int (&v, 1);
    g_value_array_append (decimators, &v);
    g_object_set (enc, "temporal-scalability-number-layers",
        GST_NOOM_BWE_LAYERS, "temporal-scalability-periodicity", 2,
        "temporal-scalability-layer-id", ids,
        "temporal-scalability-rate-decimator", decimators, NULL);
    gst_util_set_object_arg (G_OBJECT (enc),
        "temporal-scalability-layer-flags",
        "<no-ref-golden+no-ref-alt+no-upd-golden+no-upd-alt, "
        "no-ref-golden+no-ref-alt+no-upd-last+no-upd-golden+no-upd-alt+"
        "no-upd-entropy>");
    /* both depend on layer 0 only: a receiver can go up at any frame */
    gst_util_set_object_arg (G_OBJECT (enc),
        "temporal-scalability-layer-sync-flags", "<true, true>");
    g_value_array_free (ids);
    g_value_array_free (decimators);
  }
  /* cumulative: layer 0, then layers 0 and 1 */
  g_value_set_int (&v, base);
  g_value_array_append (rates, &v);
  g_value_set_int (&v, total);
  g_value_array_append (rates, &v);
  g_object_set (enc, "target-bitrate", (gint) total,
      "temporal-scalability-target-bitrate", rates, NULL);
  g_value_array_free (rates);
  g_value_unset (&v);
}

G_GNUC_END_IGNORE_DEPRECATIONS


/* The encoder's target, @bitrate in bit/s, at run time. */
static void
set_encoder_bitrate (GstElement * enc, guint bitrate)
{
  GObjectClass *klass = G_OBJECT_GET_CLASS (enc);

  if (g_object_class_find_property (klass, "target-bitrate"))
    g_object_set (enc, "target-bitrate", (gint) bitrate, NULL);
  else if (g_object_class_find_property (klass, "bitrate"))
    g_object_set (enc, "bitrate", MAX (bitrate / 1000, 1), NULL);
}

/* Fills @elements (upstream first) for @caps; the last one is the
 * payloader.  FALSE with an error posted when it cannot. */
static gboolean
chain_for_caps (GstNoomSink * self, Stream * stream, const GstCaps * caps,
    GPtrArray * elements, const GstNoomCodec ** codec_out)
{
  const gchar *name = gst_structure_get_name (gst_caps_get_structure (caps,
          0));
  static const gchar *const video_codec_names[] = {
    [GST_NOOM_VIDEO_CODEC_VP8] = "VP8",
    [GST_NOOM_VIDEO_CODEC_H264] = "H264",
    [GST_NOOM_VIDEO_CODEC_VP9] = "VP9",
  };
  const GstNoomCodec *codec;
  GstNoomVideoCodec vc;
  guint vbitrate, abitrate, i, min, start, max;
  gboolean adapt;
  GstElement *e;

  GST_OBJECT_LOCK (self);
  vc = self->video_codec;
  vbitrate = self->video_bitrate;
  abitrate = self->audio_bitrate;
  adapt = self->congestion_control != GST_NOOM_CONGESTION_CONTROL_DISABLED;
  limits_locked (self, &min, &start, &max);
  GST_OBJECT_UNLOCK (self);
  if (adapt)
    vbitrate = MAX (start / 1000, 1);

  if (!g_strcmp0 (name, "video/x-raw") || !g_strcmp0 (name, "audio/x-raw")) {
    gboolean video = !g_strcmp0 (name, "video/x-raw");

    codec = gst_noom_codec_by_name (video ? video_codec_names[vc] : "OPUS");
    for (i = 0; i < G_N_ELEMENTS (codec->converters); i++)
      if (codec->converters[i] && !add_element (self, elements,
              codec->converters[i], "gst-plugins-base"))
        return FALSE;
    if (!(e = add_element (self, elements, codec->encoder,
                codec->encoder_plugin)))
      return FALSE;
    codec->configure_encoder (e, video ? vbitrate : abitrate);
    if (video && adapt) {
      GstPad *esink = gst_element_get_static_pad (e, "sink");

      /* A PLI per lost packet from a receiver behind a full link would
       * fill it with key frames. */
      if (g_object_class_find_property (G_OBJECT_GET_CLASS (e),
              "min-force-key-unit-interval"))
        g_object_set (e, "min-force-key-unit-interval", GST_SECOND, NULL);
      if (codec->configure_adaptive_encoder)
        codec->configure_adaptive_encoder (e);
      stream->encoder = e;
      gst_pad_add_probe (esink, GST_PAD_PROBE_TYPE_BUFFER, retarget_probe,
          stream, NULL);
      gst_object_unref (esink);
      stream->layered = vc == GST_NOOM_VIDEO_CODEC_VP8;
      if (stream->layered)
        set_vp8_layers (e, start, start / 2, TRUE);
      GST_INFO_OBJECT (self, "%s: congestion control from %u bit/s (%u to "
          "%u)%s", GST_PAD_NAME (stream->ghost), start, min, max,
          stream->layered ? ", 2 temporal layers" : "");
    }
    if (codec->encoder_caps) {
      GstCaps *profile = gst_caps_from_string (codec->encoder_caps);

      if (!(e = add_element (self, elements, "capsfilter",
                  "gst-plugins-base"))) {
        gst_caps_unref (profile);
        return FALSE;
      }
      g_object_set (e, "caps", profile, NULL);
      gst_caps_unref (profile);
    }
  } else if ((codec = gst_noom_codec_by_media_type (name))) {
    if (codec->send_parser && !add_element (self, elements,
            codec->send_parser, "gst-plugins-bad"))
      return FALSE;
  } else {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Cannot send %s: noomsink sends raw or VP8, VP9, H.264 video and "
            "raw or Opus audio.", name), ("caps %" GST_PTR_FORMAT, caps));
    return FALSE;
  }

  if (stream->is_video != g_str_has_prefix (name, "video/")) {
    GST_ELEMENT_ERROR (self, STREAM, FORMAT,
        ("Cannot send %s on the %s pad.", name,
            GST_PAD_NAME (stream->ghost)), (NULL));
    return FALSE;
  }

  if (!(e = add_element (self, elements, codec->payloader,
              "gst-plugins-good")))
    return FALSE;
  if (codec->configure_payloader)
    codec->configure_payloader (e);
  if (adapt && stream->is_video) {
    /* rtpsession writes each peer's transport-wide sequence numbers into
     * it (one per connection); the peers' feedback is our estimate */
    GstRTPHeaderExtension *ext =
        gst_rtp_header_extension_create_from_uri (TWCC_URI);

    if (ext) {
      gst_rtp_header_extension_set_id (ext, TWCC_ID);
      g_signal_emit_by_name (e, "add-extension", ext);
      gst_object_unref (ext);
      stream->twcc = TRUE;
    } else {
      GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN,
          ("The rtphdrexttwcc element is missing (gst-plugins-good): no "
              "congestion control."), (NULL));
    }
    /* not on the payloader: each branch whose receiver estimates the link
     * itself (REMB) gets it as the packet leaves, with that receiver's id,
     * and the others are not sent it */
    stream->abs_send_time =
        gst_rtp_header_extension_create_from_uri (ABS_SEND_TIME_URI);
    /* nominal: the branch writes the bytes under its receiver's id */
    if (stream->abs_send_time)
      gst_rtp_header_extension_set_id (stream->abs_send_time,
          ABS_SEND_TIME_ID);
  }
  g_object_set (e, "pt", codec->payload_type, "mtu", 1200, NULL);
  *codec_out = codec;
  return TRUE;
}

static void maybe_join (GstNoomSink * self);
static void peer_bwe_unref (gpointer data);

/* The payloader's caps are ours alone (a branch rewrites the payload type
 * for its peer), so what a branch's webrtcbin says when it links or goes
 * away must not make it renegotiate.  Besides a caps query through every
 * branch on each join, GStreamer 1.22's rtpbasepayload leaks its copy of
 * the buffer's metadata when that renegotiation meets a flushing pad (a
 * pipeline stopping just after a peer left).  On the tee's sink pad. */
static GstPadProbeReturn
drop_reconfigure (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) ==
      GST_EVENT_RECONFIGURE)
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}


static gboolean
forward_sticky (GstPad * pad, GstEvent ** event, gpointer user_data)
{
  GstPad *internal = user_data;

  /* stream-start (and anything before caps) that arrived before the chain
   * existed */
  if (GST_EVENT_TYPE (*event) < GST_EVENT_CAPS)
    gst_pad_push_event (internal, gst_event_ref (*event));
  return TRUE;
}

/* Streaming thread, first CAPS event. */
static gboolean
build_stream (GstNoomSink * self, Stream * stream, GstCaps * caps)
{
  g_autoptr (GPtrArray) elements = g_ptr_array_new ();
  const GstNoomCodec *codec = NULL;
  GstElement *tee, *drain;
  GstPad *target;
  GstProxyPad *internal;
  guint i;

  if (!chain_for_caps (self, stream, caps, elements, &codec)) {
    for (i = 0; i < elements->len; i++)
      gst_object_unref (gst_object_ref_sink (elements->pdata[i]));
    return FALSE;
  }
  g_ptr_array_set_free_func (elements, gst_object_unref);
  tee = gst_element_factory_make ("tee", NULL);
  /* Always one consumer that takes everything, so one peer's flow error
   * never travels upstream. */
  drain = gst_element_factory_make ("fakesink", NULL);
  g_object_set (tee, "allow-not-linked", TRUE, NULL);
  g_object_set (drain, "sync", FALSE, "async", FALSE, "enable-last-sample",
      FALSE, NULL);
  g_ptr_array_add (elements, tee);
  g_ptr_array_add (elements, drain);

  for (i = 0; i < elements->len; i++) {
    /* The stream keeps its own ref: request pads outlive the children
     * when the bin is disposed. */
    gst_bin_add (GST_BIN (self), gst_object_ref (elements->pdata[i]));
    if (i > 0 && !gst_element_link (elements->pdata[i - 1], elements->pdata[i])) {
      GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
          ("Could not build the %s encoding chain.", codec->encoding_name),
          ("linking %s", GST_ELEMENT_NAME (elements->pdata[i])));
      return FALSE;
    }
  }
  target = gst_element_get_static_pad (tee, "sink");
  gst_pad_add_probe (target, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      drop_reconfigure, NULL, NULL);
  gst_object_unref (target);
  for (i = elements->len; i > 0; i--)
    gst_element_sync_state_with_parent (elements->pdata[i - 1]);

  target = gst_element_get_static_pad (elements->pdata[0], "sink");
  gst_ghost_pad_set_target (GST_GHOST_PAD (stream->ghost), target);
  gst_object_unref (target);
  internal = gst_proxy_pad_get_internal (GST_PROXY_PAD (stream->ghost));
  gst_pad_sticky_events_foreach (stream->ghost, forward_sticky, internal);
  gst_object_unref (internal);

  GST_INFO_OBJECT (self, "%s: sending %s from %" GST_PTR_FORMAT,
      GST_PAD_NAME (stream->ghost), codec->encoding_name, caps);
  GST_OBJECT_LOCK (self);
  stream->pay = elements->pdata[elements->len - 3];
  stream->tee = tee;
  stream->codec = codec;
  stream->rtp_caps = gst_noom_codec_rtp_caps (codec, GST_NOOM_CODEC_SEND);
  stream->elements = g_ptr_array_ref (elements);
  stream->ready = TRUE;
  GST_OBJECT_UNLOCK (self);

  maybe_join (self);
  return TRUE;
}

static void
all_streams_eos (GstNoomSink * self)
{
  GST_INFO_OBJECT (self, "EOS on every stream: leaving the room");
  gst_noom_session_leave (SESSION (self));
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_eos (GST_OBJECT (self)));
}

static gboolean
gst_noom_sink_pad_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstNoomSink *self = GST_NOOM_SINK (parent);
  Stream *stream = gst_pad_get_element_private (pad);
  gboolean ready, all_eos = TRUE, post = FALSE;
  GList *l;

  GST_OBJECT_LOCK (self);
  ready = stream->ready;
  GST_OBJECT_UNLOCK (self);

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;

      if (ready)
        break;
      gst_event_parse_caps (event, &caps);
      if (!build_stream (self, stream, caps)) {
        gst_event_unref (event);
        return FALSE;
      }
      break;
    }
    case GST_EVENT_EOS:
      /* Our streams end here: the room sees us leave once all have. */
      GST_OBJECT_LOCK (self);
      stream->eos = TRUE;
      for (l = self->streams; l; l = l->next)
        all_eos &= ((Stream *) l->data)->eos;
      if (all_eos && !self->eos_posted)
        post = self->eos_posted = TRUE;
      GST_OBJECT_UNLOCK (self);
      gst_event_unref (event);
      if (post)
        all_streams_eos (self);
      return TRUE;
    case GST_EVENT_FLUSH_STOP:
      GST_OBJECT_LOCK (self);
      stream->eos = FALSE;
      self->eos_posted = FALSE;
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      if (!ready) {
        /* Sticky events are kept on the pad and replayed once the chain
         * exists; the rest has nowhere to go yet. */
        gst_event_unref (event);
        return TRUE;
      }
      break;
  }
  return gst_pad_event_default (pad, parent, event);
}

static gboolean
gst_noom_sink_pad_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstPadTemplate *templ;
  GstCaps *tcaps, *filter, *caps;
  GstPad *target;
  gboolean ret;

  target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));
  if (target) {
    gst_object_unref (target);
    /* A chain exists: caps are fixed from now on (no renegotiation of the
     * codec). */
    return gst_pad_query_default (pad, parent, query);
  }

  templ = GST_PAD_PAD_TEMPLATE (pad);
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:{
      /* Formats the encoders take come first, so upstream picks one and
       * nothing converts needlessly. */
      GstCaps *preferred = gst_caps_from_string (GST_PAD_DIRECTION (pad) ==
          GST_PAD_SINK && g_str_has_prefix (GST_PAD_NAME (pad), "video") ?
          "video/x-raw, format=(string)I420" :
          "audio/x-raw, format=(string)S16LE, rate=(int)48000");

      tcaps = gst_caps_merge (preferred, gst_pad_template_get_caps (templ));
      gst_query_parse_caps (query, &filter);
      caps = filter ? gst_caps_intersect_full (filter, tcaps,
          GST_CAPS_INTERSECT_FIRST) : gst_caps_ref (tcaps);
      gst_query_set_caps_result (query, caps);
      gst_caps_unref (caps);
      gst_caps_unref (tcaps);
      return TRUE;
    }
    case GST_QUERY_ACCEPT_CAPS:
      tcaps = gst_pad_template_get_caps (templ);
      gst_query_parse_accept_caps (query, &caps);
      ret = gst_caps_is_subset (caps, tcaps);
      gst_query_set_accept_caps_result (query, ret);
      gst_caps_unref (tcaps);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* ------------------------------------------------------------------------ */
/* request pads */

static void
stream_free (Stream * stream)
{
  if (stream->elements)
    g_ptr_array_unref (stream->elements);
  gst_clear_caps (&stream->rtp_caps);
  gst_clear_object (&stream->abs_send_time);
  g_free (stream);
}

/* mute-audio, mute-video: on the ghost pad, before the chain.  Raw audio
 * becomes silence (packets keep flowing, as a browser's muted track);
 * encoded audio and video are dropped.  Video after an unmute starts with
 * a keyframe: asked of upstream (encoded input) and of our encoder. */
static GstPadProbeReturn
mute_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Stream *stream = user_data;
  GstNoomSink *self = stream->sink;
  gboolean muted, need_key = FALSE;
  GstBuffer *buf;
  GstCaps *caps;
  gboolean raw;

  GST_OBJECT_LOCK (self);
  muted = stream->is_video ? self->mute_video : self->mute_audio;
  if (!muted && stream->need_key) {
    need_key = TRUE;
    stream->need_key = FALSE;
  }
  GST_OBJECT_UNLOCK (self);

  if (need_key) {
    gst_pad_push_event (pad, gst_video_event_new_upstream_force_key_unit
        (GST_CLOCK_TIME_NONE, TRUE, 0));
    gst_pad_send_event (pad, gst_video_event_new_downstream_force_key_unit
        (GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, GST_CLOCK_TIME_NONE, TRUE,
            0));
  }
  if (!muted)
    return GST_PAD_PROBE_OK;
  if (stream->is_video || !(info->type & GST_PAD_PROBE_TYPE_BUFFER))
    return GST_PAD_PROBE_DROP;

  caps = gst_pad_get_current_caps (pad);
  raw = caps && gst_structure_has_name (gst_caps_get_structure (caps, 0),
      "audio/x-raw");
  gst_clear_caps (&caps);
  if (!raw)
    return GST_PAD_PROBE_DROP;
  buf = gst_buffer_make_writable (GST_PAD_PROBE_INFO_BUFFER (info));
  /* zero is silence in every signed and float format */
  gst_buffer_memset (buf, 0, 0, gst_buffer_get_size (buf));
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return GST_PAD_PROBE_OK;
}

/* The media_state we send (docs/protocol.md §5): what we have streams
 * for, less what is muted. */
static void
update_media_state (GstNoomSink * self)
{
  NoomMediaState state = NOOM_MEDIA_STATE_NONE;
  GList *l;

  GST_OBJECT_LOCK (self);
  for (l = self->streams; l; l = l->next)
    state |= ((Stream *) l->data)->is_video ? NOOM_MEDIA_STATE_VIDEO :
        NOOM_MEDIA_STATE_AUDIO;
  if (self->mute_audio)
    state &= ~NOOM_MEDIA_STATE_AUDIO;
  if (self->mute_video)
    state &= ~NOOM_MEDIA_STATE_VIDEO;
  GST_OBJECT_UNLOCK (self);
  gst_noom_session_set_media_state (SESSION (self), state);
}

static void
gst_noom_sink_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstNoomSink *self = GST_NOOM_SINK (object);
  gboolean on;
  GList *l;

  switch (prop_id) {
    case PROP_MUTE_AUDIO:
    case PROP_MUTE_VIDEO:
      /* in any state: the room is told at once, or at the join */
      on = g_value_get_boolean (value);
      GST_OBJECT_LOCK (self);
      if (prop_id == PROP_MUTE_AUDIO) {
        self->mute_audio = on;
      } else {
        if (self->mute_video && !on)
          for (l = self->streams; l; l = l->next)
            if (((Stream *) l->data)->is_video)
              ((Stream *) l->data)->need_key = TRUE;
        self->mute_video = on;
      }
      GST_OBJECT_UNLOCK (self);
      GST_INFO_OBJECT (self, "%s %s", prop_id == PROP_MUTE_AUDIO ? "audio" :
          "video", on ? "muted" : "unmuted");
      update_media_state (self);
      break;
    default:
      gst_noom_base_bin_set_field_property (object, prop_id, value, pspec);
      break;
  }
}

static GstPad *
gst_noom_sink_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstNoomSink *self = GST_NOOM_SINK (element);
  gboolean is_video = templ == gst_element_class_get_pad_template
      (GST_ELEMENT_GET_CLASS (element), "video_%u");
  g_autofree gchar *pad_name = NULL;
  Stream *stream;
  guint n;

  GST_OBJECT_LOCK (self);
  if (GST_STATE (self) > GST_STATE_READY) {
    GST_OBJECT_UNLOCK (self);
    /* The room was told what we send when we joined. */
    GST_WARNING_OBJECT (self, "cannot add a stream while running");
    return NULL;
  }
  if (name && sscanf (name, is_video ? "video_%u" : "audio_%u", &n) == 1) {
    GList *l;

    for (l = self->streams; l; l = l->next)
      if (!g_strcmp0 (GST_PAD_NAME (((Stream *) l->data)->ghost), name)) {
        GST_OBJECT_UNLOCK (self);
        GST_WARNING_OBJECT (self, "pad %s already exists", name);
        return NULL;
      }
    if (is_video)
      self->next_video = MAX (self->next_video, n + 1);
    else
      self->next_audio = MAX (self->next_audio, n + 1);
  } else {
    n = is_video ? self->next_video++ : self->next_audio++;
  }
  pad_name = g_strdup_printf (is_video ? "video_%u" : "audio_%u", n);

  stream = g_new0 (Stream, 1);
  stream->sink = self;
  stream->is_video = is_video;
  stream->ghost = gst_ghost_pad_new_no_target_from_template (pad_name, templ);
  gst_pad_set_element_private (stream->ghost, stream);
  gst_pad_set_event_function (stream->ghost, gst_noom_sink_pad_event);
  gst_pad_set_query_function (stream->ghost, gst_noom_sink_pad_query);
  gst_pad_add_probe (stream->ghost, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, mute_probe, stream, NULL);
  self->streams = g_list_append (self->streams, stream);
  GST_OBJECT_UNLOCK (self);

  gst_pad_set_active (stream->ghost, TRUE);
  gst_element_add_pad (element, stream->ghost);
  GST_DEBUG_OBJECT (self, "new stream pad %s", pad_name);
  return stream->ghost;
}

static void
gst_noom_sink_release_pad (GstElement * element, GstPad * pad)
{
  GstNoomSink *self = GST_NOOM_SINK (element);
  Stream *stream = gst_pad_get_element_private (pad);
  guint i;

  GST_OBJECT_LOCK (self);
  self->streams = g_list_remove (self->streams, stream);
  GST_OBJECT_UNLOCK (self);

  gst_ghost_pad_set_target (GST_GHOST_PAD (pad), NULL);
  for (i = 0; stream->elements && i < stream->elements->len; i++) {
    GstElement *e = stream->elements->pdata[i];

    if (GST_OBJECT_PARENT (e) != GST_OBJECT (self))
      continue;                 /* the bin is being disposed */
    gst_element_set_locked_state (e, TRUE);
    gst_element_set_state (e, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), e);
  }
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
  stream_free (stream);
}

/* ------------------------------------------------------------------------ */
/* peers (session thread) */

static NoomMediaFlags
sends_of (GstNoomSink * self)
{
  NoomMediaFlags sends = NOOM_MEDIA_NONE;
  GList *l;

  for (l = self->streams; l; l = l->next)
    sends |= ((Stream *) l->data)->is_video ? NOOM_MEDIA_VIDEO :
        NOOM_MEDIA_AUDIO;
  return sends;
}

/* Joins once every stream knows its codec, so offers carry it. */
static void
maybe_join (GstNoomSink * self)
{
  gboolean all_ready = TRUE, join = FALSE;
  NoomMediaFlags sends;
  GList *l;

  GST_OBJECT_LOCK (self);
  for (l = self->streams; l; l = l->next)
    all_ready &= ((Stream *) l->data)->ready;
  if (all_ready && self->running && !self->join_sent)
    join = self->join_sent = TRUE;
  sends = sends_of (self);
  GST_OBJECT_UNLOCK (self);

  if (join) {
    update_media_state (self);
    gst_noom_session_join (SESSION (self), sends);
  }
}

/* Stops feeding the branch; its queue may be blocked downstream in a
 * prerolling webrtcbin, so it is only stopped once webrtcbin is. */
static void
branch_unlink (Branch * b)
{
  GstPad *peer;

  if (!b->tee_pad)
    return;
  peer = gst_pad_get_peer (b->tee_pad);
  if (peer) {
    gst_pad_unlink (b->tee_pad, peer);
    gst_object_unref (peer);
  }
  gst_element_release_request_pad (b->tee, b->tee_pad);
  gst_clear_object (&b->tee_pad);
}

static void
branch_free (gpointer data)
{
  Branch *b = data;
  GstNoomSink *self = b->sink;

  branch_unlink (b);
  if (b->queue) {
    gst_element_set_locked_state (b->queue, TRUE);
    gst_element_set_state (b->queue, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), b->queue);
  }
  gst_clear_object (&b->queue_src);
  gst_clear_object (&b->transceiver);
  gst_clear_object (&b->abs_send_time);
  g_clear_pointer (&b->bwe, peer_bwe_unref);
  g_free (b->peer_id);
  g_free (b);
}

/* tee fails the whole stream when one branch returns an error: a branch
 * whose webrtcbin refused the data is cut off here instead, and only that
 * participant is dropped. */
static GstPadProbeReturn
branch_guard (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Branch *b = data;
  GstFlowReturn last;
  g_autofree gchar *reason = NULL;

  if (info->type & GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM) {
    GstQuery *query = GST_PAD_PROBE_INFO_QUERY (info);
    GstCaps *caps;

    /* The encoder's caps are not up to one participant: keep the peers
     * out of negotiation, the stream is what it is. */
    if (GST_QUERY_TYPE (query) == GST_QUERY_CAPS) {
      gst_query_parse_caps (query, &caps);
      if (caps)
        gst_query_set_caps_result (query, caps);
      else {
        caps = gst_caps_new_any ();
        gst_query_set_caps_result (query, caps);
        gst_caps_unref (caps);
      }
      return GST_PAD_PROBE_HANDLED;
    }
    if (GST_QUERY_TYPE (query) == GST_QUERY_ACCEPT_CAPS) {
      gst_query_set_accept_caps_result (query, TRUE);
      return GST_PAD_PROBE_HANDLED;
    }
    return GST_PAD_PROBE_OK;
  }

  last = gst_pad_get_last_flow_return (b->queue_src);
  if (last == GST_FLOW_OK)
    return GST_PAD_PROBE_OK;
  if (last != GST_FLOW_FLUSHING && g_atomic_int_compare_and_exchange
      (&b->failed, FALSE, TRUE)) {
    reason = g_strdup_printf ("webrtcbin refused the stream: %s",
        gst_flow_get_name (last));
    GST_WARNING_OBJECT (b->sink, "%s: %s", b->peer_id, reason);
    gst_noom_session_fail_peer (SESSION (b->sink), b->peer_id, reason);
  }
  return GST_PAD_PROBE_DROP;
}

static GPtrArray *
branches_of (GstNoomPeer * peer)
{
  return gst_noom_peer_get_tracks (peer);
}

static gboolean
set_pt (GstBuffer ** buffer, guint idx, gpointer user_data)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

  *buffer = gst_buffer_make_writable (*buffer);
  if (gst_rtp_buffer_map (*buffer, GST_MAP_READWRITE, &rtp)) {
    gst_rtp_buffer_set_payload_type (&rtp, GPOINTER_TO_INT (user_data));
    gst_rtp_buffer_unmap (&rtp);
  }
  return TRUE;
}

/* We encode once, with our payload types; a peer whose offer numbered the
 * codec otherwise gets its own number (caps and every packet) on its
 * branch.  The queue's streaming thread. */
static GstPadProbeReturn
rewrite_pt (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Branch *b = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    set_pt (&buf, 0, GINT_TO_POINTER (b->pt));
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list = GST_PAD_PROBE_INFO_BUFFER_LIST (info);

    list = gst_buffer_list_make_writable (list);
    gst_buffer_list_foreach (list, set_pt, GINT_TO_POINTER (b->pt));
    GST_PAD_PROBE_INFO_DATA (info) = list;
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) ==
      GST_EVENT_CAPS) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    GstCaps *caps;

    gst_event_parse_caps (event, &caps);
    caps = gst_caps_copy (caps);
    gst_caps_set_simple (caps, "payload", G_TYPE_INT, b->pt, NULL);
    GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_caps (caps);
    gst_event_unref (event);
    gst_caps_unref (caps);
  }
  return GST_PAD_PROBE_OK;
}

/* The payload type @media (an offer's m-line) gives @codec, -1 if none. */
static gint
offered_pt (const GstSDPMedia * media, const gchar * codec)
{
  guint i;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++) {
    gint pt = atoi (gst_sdp_media_get_format (media, i));
    const gchar *rtpmap = NULL;
    guint j;
    gchar *name;

    for (j = 0; (rtpmap = gst_sdp_media_get_attribute_val_n (media,
                "rtpmap", j)); j++)
      if (atoi (rtpmap) == pt)
        break;
    if (!rtpmap || !(name = strchr (rtpmap, ' ')))
      continue;
    name++;
    if (g_ascii_strncasecmp (name, codec, strlen (codec)) == 0
        && name[strlen (codec)] == '/')
      return pt;
  }
  return -1;
}

/* The relay (docs/protocol.md §11) tells our streams apart by the a=ssrc
 * lines of our answer: webrtcbin 1.22 maps a bundled stream it has no
 * a=ssrc for to the first m-line, so our video would arrive as audio.
 * webrtcbin writes those lines from the codec preferences' ssrc, and the
 * branch is too new for the payloader's caps to have reached it when the
 * answer is made: the ssrc comes from the payloader itself. */
static void
add_ssrc (Stream * stream, GstCaps * caps)
{
  GstPad *src = gst_element_get_static_pad (stream->pay, "src");
  GstCaps *current = gst_pad_get_current_caps (src);
  guint ssrc;

  if (current && gst_structure_get_uint (gst_caps_get_structure (current, 0),
          "ssrc", &ssrc))
    gst_caps_set_simple (caps, "ssrc", G_TYPE_UINT, ssrc, NULL);
  else
    GST_WARNING_OBJECT (stream->sink, "%s: no ssrc yet for the relay",
        GST_PAD_NAME (stream->ghost));
  gst_clear_caps (&current);
  gst_object_unref (src);
}

/* ------------------------------------------------------------------------ */
/* bandwidth adaptation (docs/elements.md "Bandwidth adaptation") */

static void
peer_bwe_clear (gpointer data)
{
  PeerBwe *pb = data;

  g_free (pb->peer_id);
  g_free (pb->nickname);
  g_mutex_clear (&pb->lock);
}

static PeerBwe *
peer_bwe_ref (PeerBwe * pb)
{
  return g_atomic_rc_box_acquire (pb);
}

static void
peer_bwe_unref (gpointer data)
{
  g_atomic_rc_box_release_full (data, peer_bwe_clear);
}

static PeerBwe *
peer_bwe_of (GstNoomPeer * peer)
{
  return g_object_get_data (G_OBJECT (peer), "noom-bwe");
}

/* The video stream whose encoder adapts, if any; under the object lock. */
static Stream *
adapting_stream_locked (GstNoomSink * self)
{
  GList *l;

  for (l = self->streams; l; l = l->next)
    if (((Stream *) l->data)->encoder)
      return l->data;
  return NULL;
}

typedef struct
{
  gchar *id, *nickname;
  guint estimate, layer;
  gdouble loss;
  const gchar *feedback;
} Report;

static void
report_clear (Report * r)
{
  g_free (r->id);
  g_free (r->nickname);
}

/* Gives the encoder the bitrate the receivers' estimates call for, and
 * each receiver the layer that fits (gst_noom_bwe_plan()); posts
 * noom-bandwidth for the estimates and layers that changed.  Any thread;
 * takes the object lock. */
static void
replan (GstNoomSink * self, gboolean force)
{
  g_autoptr (GArray) estimates = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GArray) reports = g_array_new (FALSE, TRUE, sizeof (Report));
  gint64 now = g_get_monotonic_time ();
  guint min, start, max, total, base, i;
  gboolean layered = FALSE;
  Stream *stream;

  g_array_set_clear_func (reports, (GDestroyNotify) report_clear);
  GST_OBJECT_LOCK (self);
  stream = adapting_stream_locked (self);
  if (!stream || !self->bwes || (!force && now - self->last_plan <
          100 * G_TIME_SPAN_MILLISECOND)) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  self->last_plan = now;
  layered = stream->layered;
  limits_locked (self, &min, &start, &max);
  for (i = 0; i < self->bwes->len; i++) {
    PeerBwe *pb = self->bwes->pdata[i];

    guint estimate;

    g_mutex_lock (&pb->lock);
    /* one that never reports takes what it took before adaptation: the
     * whole stream at the maximum (noom-relay without TWCC, aiortc) */
    estimate = pb->reported ? (guint) pb->bwe.estimate : max;
    if (pb->receives_video && (pb->reported || pb->no_feedback))
      g_array_append_val (estimates, estimate);
    g_mutex_unlock (&pb->lock);
  }
  if (layered) {
    /* In an SFU room our one receiver is the relay, which passes layer 0
     * alone to a subscriber whose share of its own link is short of the
     * whole stream: layer 0 is sized for the slowest of them as for the
     * slowest receiver of a mesh room (docs/protocol.md §11,
     * media_bandwidth).  It never raises the whole stream. */
    if (self->relay_base_bitrate && estimates->len == 1 &&
        self->relay_base_bitrate < g_array_index (estimates, guint, 0))
      g_array_append_val (estimates, self->relay_base_bitrate);
    gst_noom_bwe_plan ((guint *) estimates->data, estimates->len, min, max,
        &total, &base);
  } else {
    /* one encoding, no layers: the slowest receiver sets the pace */
    total = max;
    for (i = 0; i < estimates->len; i++)
      total = MIN (total, g_array_index (estimates, guint, i));
    total = CLAMP (total, min, max);
    base = total;
  }
  if (estimates->len && (force || ABS ((gint64) total -
              (gint64) self->encoder_bitrate) > self->encoder_bitrate / 20
          || ABS ((gint64) base - (gint64) self->base_bitrate) >
          self->base_bitrate / 20)) {
    self->encoder_bitrate = total;
    self->base_bitrate = base;
    stream->retarget = TRUE;
    stream->target_total = total;
    stream->target_base = base;
    GST_DEBUG_OBJECT (self, "encoder %u bit/s, layer 0 %u bit/s", total,
        base);
  }
  total = self->encoder_bitrate ? self->encoder_bitrate : start;

  for (i = 0; i < self->bwes->len; i++) {
    PeerBwe *pb = self->bwes->pdata[i];
    guint estimate, layer;

    g_mutex_lock (&pb->lock);
    estimate = (guint) pb->bwe.estimate;
    layer = pb->layer;
    if (layered && pb->receives_video && pb->reported) {
      layer = gst_noom_bwe_choose_layer (estimate, total, pb->layer,
          pb->bwe.ramping);
      if (layer > pb->layer && now < pb->no_upswitch_until)
        layer = pb->layer;
      if (layer < pb->layer)
        pb->no_upswitch_until = now + UPSWITCH_BACKOFF;
      if (layer != pb->layer)
        GST_INFO_OBJECT (self, "%s: layer %u -> %u (estimate %u bit/s, "
            "encoder %u bit/s)", pb->peer_id, pb->layer, layer, estimate,
            total);
      pb->layer = layer;
      g_atomic_int_set (&pb->max_layer, layer);
    }
    if (pb->reported && (layer != pb->posted_layer ||
            ABS ((gint64) estimate - (gint64) pb->posted_estimate) >
            pb->posted_estimate / 10) && now - pb->posted_at >=
        G_USEC_PER_SEC) {
      Report r = { g_strdup (pb->peer_id), g_strdup (pb->nickname),
        estimate, layered ? layer : GST_NOOM_BWE_LAYERS - 1, pb->bwe.loss,
        gst_noom_bwe_feedback_name (pb->bwe.feedback)
      };

      pb->posted_layer = layer;
      pb->posted_estimate = estimate;
      pb->posted_at = now;
      g_array_append_val (reports, r);
    }
    if (pb->peer)
      gst_noom_peer_set_bandwidth (pb->peer, estimate, layered ? layer :
          GST_NOOM_BWE_LAYERS - 1, pb->bwe.loss,
          gst_noom_bwe_feedback_name (pb->bwe.feedback));
    g_mutex_unlock (&pb->lock);
  }
  GST_OBJECT_UNLOCK (self);

  for (i = 0; i < reports->len; i++) {
    Report *r = &g_array_index (reports, Report, i);

    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("noom-bandwidth",
                "id", G_TYPE_STRING, r->id,
                "nickname", G_TYPE_STRING, r->nickname,
                "estimated-bitrate", G_TYPE_UINT, r->estimate,
                "layer", G_TYPE_UINT, r->layer,
                "fraction-lost", G_TYPE_DOUBLE, r->loss,
                "feedback", G_TYPE_STRING, r->feedback,
                "encoder-bitrate", G_TYPE_UINT, total, NULL)));
  }
}

/* The encoder's streaming thread, before each frame: the bitrates replan()
 * chose. */
static GstPadProbeReturn
retarget_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Stream *stream = data;
  GstNoomSink *self = stream->sink;
  gboolean retarget;
  guint total, base;

  GST_OBJECT_LOCK (self);
  retarget = stream->retarget;
  stream->retarget = FALSE;
  total = stream->target_total;
  base = stream->target_base;
  GST_OBJECT_UNLOCK (self);
  if (!retarget)
    return GST_PAD_PROBE_OK;
  if (stream->layered)
    set_vp8_layers (stream->encoder, total, base, FALSE);
  else
    set_encoder_bitrate (stream->encoder, total);
  return GST_PAD_PROBE_OK;
}

/* The RTP session's thread, on each TWCC feedback of the peer. */
static void
on_twcc_stats (GObject * session, GParamSpec * pspec, PeerBwe * pb)
{
  GstNoomTwccReport r;
  guint estimate;

  if (!gst_noom_twcc_report_get (session, &r))
    return;
  g_mutex_lock (&pb->lock);
  estimate = gst_noom_bwe_update_twcc (&pb->bwe, g_get_monotonic_time (),
      r.sent, r.received, r.loss_pct, r.delay_trend);
  pb->reported = TRUE;
  g_mutex_unlock (&pb->lock);
  GST_DEBUG_OBJECT (pb->sink, "%s: sent %u received %u bit/s, loss %.1f %%, "
      "delay trend %" G_GINT64_FORMAT " ns: estimate %u bit/s", pb->peer_id,
      r.sent, r.received, r.loss_pct, r.delay_trend, estimate);
  replan (pb->sink, FALSE);
}

/* The RTP session's thread, on each RTCP feedback of the peer (its
 * session lock released): REMB, application layer feedback, is the
 * estimate of a receiver that takes no TWCC. */
static void
on_feedback_rtcp (GObject * session, guint type, guint fbtype,
    guint sender_ssrc, guint media_ssrc, GstBuffer * fci, PeerBwe * pb)
{
  GstMapInfo map;
  guint64 bitrate = 0;
  gboolean remb;
  guint estimate;

  if (type != GST_RTCP_TYPE_PSFB || fbtype != GST_RTCP_PSFB_TYPE_AFB || !fci
      || !gst_buffer_map (fci, &map, GST_MAP_READ))
    return;
  remb = gst_noom_bwe_parse_remb (map.data, map.size, &bitrate);
  gst_buffer_unmap (fci, &map);
  if (!remb)
    return;

  g_mutex_lock (&pb->lock);
  if (!pb->remb) {
    g_mutex_unlock (&pb->lock);
    GST_LOG_OBJECT (pb->sink, "%s: REMB %" G_GUINT64_FORMAT " bit/s ignored: "
        "TWCC is what we follow", pb->peer_id, bitrate);
    return;
  }
  estimate = gst_noom_bwe_update_remb (&pb->bwe, g_get_monotonic_time (),
      bitrate);
  pb->reported = TRUE;
  g_mutex_unlock (&pb->lock);
  GST_DEBUG_OBJECT (pb->sink, "%s: REMB %" G_GUINT64_FORMAT " bit/s: "
      "estimate %u bit/s", pb->peer_id, bitrate, estimate);
  replan (pb->sink, FALSE);
}

/* Follows @element's TWCC and REMB reports if it is an RTP session,
 * once. */
static void
watch_session (GstElement * element, PeerBwe * pb)
{
  GstElementFactory *f = gst_element_get_factory (element);
  GObject *session = NULL;

  if (!f || g_strcmp0 (GST_OBJECT_NAME (f), "rtpsession") ||
      !g_object_class_find_property (G_OBJECT_GET_CLASS (element),
          "twcc-stats") || g_object_get_data (G_OBJECT (element), "noom-bwe"))
    return;
  g_object_set_data (G_OBJECT (element), "noom-bwe", pb);
  GST_DEBUG_OBJECT (pb->sink, "%s: following %s's TWCC reports", pb->peer_id,
      GST_OBJECT_NAME (element));
  g_signal_connect_data (element, "notify::twcc-stats",
      G_CALLBACK (on_twcc_stats), peer_bwe_ref (pb),
      (GClosureNotify) peer_bwe_unref, 0);
  /* RTCP feedback is signalled by the element's RTPSession only */
  g_object_get (element, "internal-session", &session, NULL);
  if (session) {
    g_signal_connect_data (session, "on-feedback-rtcp",
        G_CALLBACK (on_feedback_rtcp), peer_bwe_ref (pb),
        (GClosureNotify) peer_bwe_unref, 0);
    g_object_unref (session);
  }
}

/* webrtcbin's rtpbin makes its sessions as the connection is negotiated. */
static void
on_rtpbin_element_added (GstBin * rtpbin, GstElement * element, PeerBwe * pb)
{
  watch_session (element, pb);
}

static void
watch_existing_session (const GValue * item, gpointer pb)
{
  watch_session (g_value_get_object (item), pb);
}

static void
bwe_peer_added (GstNoomSink * self, GstNoomPeer * peer)
{
  GstElement *rtpbin;
  PeerBwe *pb;
  NoomParticipant *p = gst_noom_peer_get_participant (peer);
  guint min, start, max;

  pb = g_atomic_rc_box_new0 (PeerBwe);
  pb->sink = self;
  pb->peer_id = g_strdup (p->id);
  pb->nickname = g_strdup (p->nickname);
  pb->peer = peer;
  g_mutex_init (&pb->lock);
  gst_noom_layer_filter_init (&pb->filter);
  pb->max_layer = pb->layer = GST_NOOM_BWE_LAYERS - 1;
  pb->posted_layer = G_MAXUINT;
  GST_OBJECT_LOCK (self);
  limits_locked (self, &min, &start, &max);
  gst_noom_bwe_init (&pb->bwe, min, start, max);
  if (!self->bwes)
    self->bwes = g_ptr_array_new_with_free_func (peer_bwe_unref);
  g_ptr_array_add (self->bwes, peer_bwe_ref (pb));
  GST_OBJECT_UNLOCK (self);
  g_object_set_data_full (G_OBJECT (peer), "noom-bwe", pb, peer_bwe_unref);

  rtpbin = gst_bin_get_by_name (GST_BIN (gst_noom_peer_get_webrtcbin (peer)),
      "rtpbin");
  if (rtpbin) {
    GstIterator *it;

    g_signal_connect_data (rtpbin, "element-added",
        G_CALLBACK (on_rtpbin_element_added), peer_bwe_ref (pb),
        (GClosureNotify) peer_bwe_unref, 0);
    /* and those it made already */
    it = gst_bin_iterate_elements (GST_BIN (rtpbin));
    while (gst_iterator_foreach (it, watch_existing_session, pb) ==
        GST_ITERATOR_RESYNC)
      gst_iterator_resync (it);
    gst_iterator_free (it);
    gst_object_unref (rtpbin);
  } else {
    GST_WARNING_OBJECT (self, "webrtcbin has no rtpbin: no bandwidth "
        "estimate for %s", p->id);
  }
}

static void
bwe_peer_removed (GstNoomSink * self, GstNoomPeer * peer)
{
  PeerBwe *pb = peer_bwe_of (peer);

  if (!pb)
    return;
  g_mutex_lock (&pb->lock);
  pb->peer = NULL;
  g_mutex_unlock (&pb->lock);
  GST_OBJECT_LOCK (self);
  if (self->bwes)
    g_ptr_array_remove (self->bwes, pb);
  GST_OBJECT_UNLOCK (self);
  /* the others may take more now */
  replan (self, FALSE);
}

/* The peer took no TWCC (it did not echo our a=extmap, or numbers it
 * otherwise): the element our payloader writes becomes padding (zero
 * bytes, RFC 8285), so the peer reads nothing into it and still reads
 * what follows (the abs-send-time a REMB receiver gets). */
static void
strip_twcc (GstRTPBuffer * rtp)
{
  guint8 *data;
  guint16 bits;
  guint wordlen, i;

  if (!gst_rtp_buffer_get_extension_data (rtp, &bits, (gpointer *) & data,
          &wordlen) || bits != 0xBEDE)
    return;
  for (i = 0; i < wordlen * 4;) {
    guint id = data[i] >> 4, len = (data[i] & 0x0f) + 1;

    if (data[i] == 0) {
      i++;
      continue;
    }
    if (id == 15)
      return;
    if (id == TWCC_ID) {
      memset (data + i, 0, MIN (1 + len, wordlen * 4 - i));
      return;
    }
    i += 1 + len;
  }
}

/* For a receiver that estimates its link from the packets' send times
 * (REMB): the time it leaves, as extension @id.  Written here rather than
 * by the payloader: as late as noomsink can, with each receiver's own id,
 * and not at all for the others. */
static void
add_abs_send_time (Branch * b, GstRTPBuffer * rtp, guint id)
{
  guint8 t[3];

  if (gst_rtp_header_extension_write (b->abs_send_time, rtp->buffer,
          GST_RTP_HEADER_EXTENSION_ONE_BYTE, rtp->buffer, t, sizeof (t))
      != sizeof (t) || !gst_rtp_buffer_add_extension_onebyte_header (rtp, id,
          t, sizeof (t)))
    GST_LOG_OBJECT (b->sink, "%s: no room for abs-send-time", b->peer_id);
}

/* One of a video branch's packets on its way to the peer (mapped
 * writable): its layers, the TWCC extension it did not take, the
 * abs-send-time it takes instead. */
static gboolean
filter_rtp (GstRTPBuffer * rtp, gpointer data)
{
  Branch *b = data;
  guint id;

  if (g_atomic_int_get (&b->strip_twcc))
    strip_twcc (rtp);
  if ((id = g_atomic_int_get (&b->abs_send_time_id)))
    add_abs_send_time (b, rtp, id);
  if (!b->layered)
    return TRUE;
  b->bwe->filter.max_layer = g_atomic_int_get (&b->bwe->max_layer);
  return gst_noom_layer_filter_process (&b->bwe->filter, rtp);
}

/* The queue's streaming thread. */
static GstPadProbeReturn
branch_filter (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  return gst_noom_rtp_filter_probe (info, filter_rtp, data);
}

/* Whether @media (an m-line of the peer's description) carries TWCC with
 * our id. */
static gboolean
media_has_twcc (const GstSDPMedia * media)
{
  return gst_noom_codec_twcc_id (media) == TWCC_ID;
}

/* The abs-send-time id of @media (an m-line of the peer's description)
 * if its feedback is REMB only (aiortc): abs-send-time and no TWCC we can
 * use, and in an offer goog-remb.  Not in an answer to ours: GStreamer
 * 1.22 writes no rtcp-fb but nack, nack pli, ccm fir and transport-cc
 * (gst_sdp_media_set_media_from_caps), so our offers cannot carry
 * goog-remb for the answer to echo; abs-send-time without TWCC says
 * enough.  0 otherwise. */
static guint
media_remb_id (const GstSDPMedia * media, gboolean answer)
{
  if (media_has_twcc (media) || (!answer &&
          !gst_noom_codec_has_feedback (media, "goog-remb")))
    return 0;
  return gst_noom_codec_abs_send_time_id (media);
}

/* The peer's REMB is what its branch @b's estimate follows, and @id what
 * the branch writes abs-send-time as. */
static void
use_remb (GstNoomSink * self, GstNoomPeer * peer, Branch * b, guint id)
{
  PeerBwe *pb = peer_bwe_of (peer);

  if (!b->abs_send_time || !pb)
    return;
  GST_INFO_OBJECT (self, "%s takes no TWCC: its estimate is its REMB, for "
      "abs-send-time as extension %u", b->peer_id, id);
  g_mutex_lock (&pb->lock);
  pb->remb = TRUE;
  g_mutex_unlock (&pb->lock);
  g_atomic_int_set (&b->abs_send_time_id, id);
}

/* Our codec preference must not give our TWCC id to a peer's offer that
 * uses that id for another extension, or TWCC under another id:
 * webrtcbin would find no common codec. */
static void
fit_extmap (GstCaps * caps, const GstSDPMedia * offer)
{
  g_autofree gchar *field = g_strdup_printf ("extmap-%d", TWCC_ID);
  const gchar *v;
  guint i;

  for (i = 0; (v = gst_sdp_media_get_attribute_val_n (offer, "extmap", i));
      i++) {
    gboolean ours = atoi (v) == TWCC_ID, twcc = strstr (v, TWCC_URI) != NULL;

    if (ours != twcc) {
      guint j;

      for (j = 0; j < gst_caps_get_size (caps); j++)
        gst_structure_remove_field (gst_caps_get_structure (caps, j), field);
      return;
    }
  }
}

/* tee -> leaky queue -> webrtcbin's @pad_name, on a transceiver sending
 * @stream's codec, as payload type @pt (-1: ours). */
static void
link_branch (GstNoomSink * self, GstNoomPeer * peer, Stream * stream,
    const gchar * pad_name, GstWebRTCRTPTransceiverDirection direction,
    gint pt, const GstSDPMedia * offer)
{
  GstElement *webrtc = gst_noom_peer_get_webrtcbin (peer);
  GstWebRTCRTPTransceiver *trans = NULL;
  GstPad *wpad, *qsrc, *qsink;
  guint remb_id = 0;
  Branch *b;

  wpad = gst_element_request_pad_simple (webrtc, pad_name);
  if (!wpad) {
    GST_WARNING_OBJECT (self, "webrtcbin gave no %s pad", pad_name);
    return;
  }
  g_object_get (wpad, "transceiver", &trans, NULL);
  if (trans) {
    GstCaps *caps = gst_caps_copy (stream->rtp_caps);

    if (pt >= 0)
      gst_caps_set_simple (caps, "payload", G_TYPE_INT, pt, NULL);
    if (gst_noom_peer_get_plan (peer)->relay)
      add_ssrc (stream, caps);
    if (offer)
      fit_extmap (caps, offer);
    /* abs-send-time, for REMB, to a peer that offered that but no TWCC,
     * and in every offer of ours (the relay offers itself, docs/protocol.md
     * §11: its m-lines are kept as they are) */
    if (stream->abs_send_time && offer &&
        (remb_id = media_remb_id (offer, FALSE)))
      gst_noom_codec_add_abs_send_time (caps, remb_id);
    else if (stream->abs_send_time && !offer &&
        !gst_noom_peer_get_plan (peer)->relay)
      gst_noom_codec_add_abs_send_time (caps, ABS_SEND_TIME_ID);
    g_object_set (trans, "direction", direction, "codec-preferences", caps,
        NULL);
    gst_caps_unref (caps);
  }

  b = g_new0 (Branch, 1);
  b->transceiver = trans;
  b->sink = self;
  b->peer_id = g_strdup (gst_noom_peer_get_participant (peer)->id);
  b->tee = stream->tee;
  b->pt = pt;
  if (stream->twcc && offer && !media_has_twcc (offer))
    b->strip_twcc = TRUE;
  if (stream->abs_send_time)
    b->abs_send_time = gst_object_ref (stream->abs_send_time);
  if (remb_id)
    use_remb (self, peer, b, remb_id);
  if (stream->encoder && peer_bwe_of (peer)) {
    b->bwe = peer_bwe_ref (peer_bwe_of (peer));
    b->layered = stream->layered;
    g_mutex_lock (&b->bwe->lock);
    b->bwe->receives_video = TRUE;
    if (b->strip_twcc && !b->bwe->remb)
      b->bwe->no_feedback = TRUE;
    g_mutex_unlock (&b->bwe->lock);
  }
  b->queue = gst_element_factory_make ("queue", NULL);
  gst_noom_session_mark_element (b->queue, peer);
  /* A participant that cannot keep up loses its oldest packets instead of
   * holding up the encoder. */
  g_object_set (b->queue, "leaky", 2, "max-size-buffers", 0,
      "max-size-bytes", 0, "max-size-time", 500 * GST_MSECOND, NULL);
  gst_bin_add (GST_BIN (self), b->queue);
  qsrc = gst_element_get_static_pad (b->queue, "src");
  qsink = gst_element_get_static_pad (b->queue, "sink");
  b->queue_src = gst_object_ref (qsrc);
  gst_pad_add_probe (qsink, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM,
      branch_guard, b, NULL);
  if (pt >= 0)
    gst_pad_add_probe (qsrc, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
        rewrite_pt, b, NULL);
  if (stream->twcc || stream->abs_send_time)
    gst_pad_add_probe (qsrc, GST_PAD_PROBE_TYPE_BUFFER |
        GST_PAD_PROBE_TYPE_BUFFER_LIST, branch_filter, b, NULL);
  if (gst_pad_link (qsrc, wpad) != GST_PAD_LINK_OK)
    GST_WARNING_OBJECT (self, "could not link to %" GST_PTR_FORMAT, wpad);
  gst_element_sync_state_with_parent (b->queue);
  b->tee_pad = gst_element_request_pad_simple (stream->tee, "src_%u");
  gst_pad_link (b->tee_pad, qsink);
  gst_object_unref (qsrc);
  gst_object_unref (qsink);
  gst_object_unref (wpad);
  g_ptr_array_add (branches_of (peer), b);
  GST_DEBUG_OBJECT (self, "%s -> %s", GST_PAD_NAME (stream->ghost),
      GST_OBJECT_NAME (peer));
  /* a receiver that will never report counts from now on */
  if (b->bwe && b->strip_twcc)
    replan (self, TRUE);
}

/* Whatever a participant sends us is not wanted, but the protocol has us
 * accept it (§7 sendrecv/recvonly).  A webrtcbin streaming thread. */
static void
on_webrtc_pad_added (GstElement * webrtc, GstPad * pad, GstNoomPeer * peer)
{
  GstNoomSink *self = GST_NOOM_SINK (GST_ELEMENT_PARENT (webrtc));

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC)
    return;
  gst_noom_session_drop_pad (pad);
  GST_DEBUG_OBJECT (self, "dropping what %s receives on %s",
      GST_ELEMENT_NAME (webrtc), GST_PAD_NAME (pad));
}

static void
sink_peer_added (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GstNoomSink *self = GST_NOOM_SINK (element);
  gboolean adapt;

  GST_OBJECT_LOCK (self);
  adapt = self->congestion_control != GST_NOOM_CONGESTION_CONTROL_DISABLED;
  GST_OBJECT_UNLOCK (self);
  if (adapt)
    bwe_peer_added (self, peer);
  g_signal_connect (gst_noom_peer_get_webrtcbin (peer), "pad-added",
      G_CALLBACK (on_webrtc_pad_added), peer);
}

static void
sink_prepare_offer (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GList *l;
  GstNoomSink *self = GST_NOOM_SINK (element);
  g_autoptr (GPtrArray) streams = g_ptr_array_new ();
  guint i;

  GST_OBJECT_LOCK (self);
  for (l = self->streams; l; l = l->next)
    if (((Stream *) l->data)->ready)
      g_ptr_array_add (streams, l->data);
  GST_OBJECT_UNLOCK (self);

  /* The pair's plan (docs/protocol.md §7) says each kind's direction: a
   * stream of ours goes out sendrecv or sendonly; a kind only the other
   * side sends gets a recvonly transceiver. */
  for (i = 0; i < streams->len; i++) {
    Stream *s = streams->pdata[i];
    GstWebRTCRTPTransceiverDirection dir = gst_noom_peer_plan_direction (peer,
        s->is_video ? NOOM_MEDIA_VIDEO : NOOM_MEDIA_AUDIO);

    if (dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV ||
        dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY)
      link_branch (self, peer, s, "sink_%u", dir, -1, NULL);
  }
  for (i = 0; i < 2; i++) {
    GstCaps *caps;

    if (gst_noom_peer_plan_direction (peer, i ? NOOM_MEDIA_VIDEO :
            NOOM_MEDIA_AUDIO) != GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY)
      continue;
    /* what noomsrc asks for: the same codec table */
    caps = gst_noom_codec_all_rtp_caps (i, GST_NOOM_CODEC_RECEIVE, TRUE);
    gst_noom_peer_add_transceiver (peer,
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps);
    gst_caps_unref (caps);
  }
}

static GstWebRTCRTPTransceiverDirection
offer_direction (const GstSDPMedia * media)
{
  if (gst_sdp_media_get_attribute_val (media, "sendonly"))
    return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
  if (gst_sdp_media_get_attribute_val (media, "recvonly"))
    return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
  if (gst_sdp_media_get_attribute_val (media, "inactive"))
    return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE;
  return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV;
}

static void
sink_prepare_answer (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GList *l;
  GstNoomSink *self = GST_NOOM_SINK (element);
  GstElement *webrtc = gst_noom_peer_get_webrtcbin (peer);
  NoomParticipant *p = gst_noom_peer_get_participant (peer);
  GstWebRTCSessionDescription *desc = NULL;
  g_autoptr (GPtrArray) unused = g_ptr_array_new ();
  g_autoptr (GArray) linked = g_array_new (FALSE, FALSE, sizeof (guint));
  GPtrArray *branches = branches_of (peer);
  gboolean relay = gst_noom_peer_get_plan (peer)->relay;
  guint i, j;

  /* The relay's later offers (docs/protocol.md §11) come here too: the
   * streams already linked stay on their m-lines. */
  for (i = 0; i < branches->len; i++) {
    Branch *b = branches->pdata[i];
    guint mline;

    if (!b->transceiver)
      continue;
    g_object_get (b->transceiver, "mlineindex", &mline, NULL);
    g_array_append_val (linked, mline);
  }
  GST_OBJECT_LOCK (self);
  for (l = self->streams; l; l = l->next) {
    Stream *stream = l->data;
    gboolean used = FALSE;

    for (i = 0; i < branches->len; i++)
      used |= ((Branch *) branches->pdata[i])->tee == stream->tee;
    if (stream->ready && !used)
      g_ptr_array_add (unused, stream);
  }
  GST_OBJECT_UNLOCK (self);

  g_object_get (webrtc, "remote-description", &desc, NULL);
  if (!desc)
    return;
  for (i = 0; i < gst_sdp_message_medias_len (desc->sdp); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (desc->sdp, i);
    gboolean video = !g_strcmp0 (gst_sdp_media_get_media (media), "video");
    GstWebRTCRTPTransceiverDirection dir = offer_direction (media);
    /* We drop what participants send us anyway; still, the answer takes
     * nothing it did not announce (docs/protocol.md §7 "What a
     * participant may send"), so it is not even sent. */
    gboolean announced = (p->sends & (video ? NOOM_MEDIA_VIDEO :
            NOOM_MEDIA_AUDIO)) != 0;
    Stream *stream = NULL;
    gint pt = -1;

    for (j = 0; j < linked->len; j++)
      if (g_array_index (linked, guint, j) == i)
        break;
    if (j < linked->len)
      continue;
    if (dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY ||
        dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV) {
      for (j = 0; j < unused->len && !stream; j++)
        if (((Stream *) unused->pdata[j])->is_video == video)
          stream = g_ptr_array_steal_index (unused, j);
    }
    /* The offerer's number for our codec (aiortc: Opus 96, VP8 97). */
    if (stream && (pt = offered_pt (media, stream->codec->encoding_name)) < 0) {
      GString *names = g_string_new (NULL);
      const gchar *rtpmap;

      for (j = 0; (rtpmap = gst_sdp_media_get_attribute_val_n (media,
                  "rtpmap", j)); j++)
        g_string_append_printf (names, "%s%s", names->len ? ", " : "",
            strchr (rtpmap, ' ') ? strchr (rtpmap, ' ') + 1 : rtpmap);
      if (relay)
        /* docs/protocol.md §11: nobody in the room would get it */
        GST_ELEMENT_ERROR (self, STREAM, CODEC_NOT_FOUND,
            ("This room forwards media through the server, which carries "
                "%s only: noomsink sends %s %s (set video-codec=vp8, or "
                "send raw or VP8 video).", names->str,
                video ? "video" : "audio", stream->codec->encoding_name),
            ("the relay's m-line %u offers %s; we send %s", i, names->str,
                stream->codec->encoding_name));
      else
        GST_ELEMENT_WARNING (self, STREAM, CODEC_NOT_FOUND,
            ("%s offers no %s on its %s m-line: it gets no %s from us",
                p->nickname, stream->codec->encoding_name,
                video ? "video" : "audio",
                video ? "video" : "audio"),
            ("m-line %u offers %s; we send %s", i, names->str,
                stream->codec->encoding_name));
      g_string_free (names, TRUE);
      stream = NULL;
    }
    if (stream) {
      g_autofree gchar *name = g_strdup_printf ("sink_%u", i);
      gint ours;

      ours = stream->codec->payload_type;
      /* webrtcbin gives the pad the transceiver of m-line i; it intersects
       * our direction with what was offered. */
      link_branch (self, peer, stream, name, announced ?
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV :
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
          pt == ours ? -1 : pt, media);
    } else {
      GstWebRTCRTPTransceiver *t = gst_noom_peer_get_transceiver (peer, i);

      if (t)
        g_object_set (t, "direction", announced &&
            (dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY ||
                dir == GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV) ?
            GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY :
            GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE, NULL);
      gst_clear_object (&t);
    }
  }
  gst_webrtc_session_description_free (desc);
}

static void
force_keyframe (GstNoomSink * self)
{
  GList *l;
  g_autoptr (GPtrArray) pays = g_ptr_array_new_with_free_func
      (gst_object_unref);
  guint i;

  GST_OBJECT_LOCK (self);
  for (l = self->streams; l; l = l->next) {
    Stream *s = l->data;
    if (s->ready && s->is_video)
      g_ptr_array_add (pays, gst_element_get_static_pad (s->pay, "src"));
  }
  GST_OBJECT_UNLOCK (self);

  for (i = 0; i < pays->len; i++) {
    GST_DEBUG_OBJECT (self, "asking for a keyframe");
    gst_pad_send_event (pays->pdata[i],
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
            TRUE, 0));
  }
}

/* A participant that does not take a stream (its answer said inactive or
 * sendonly for it, e.g. noomsrc media=video) is not sent it.  (webrtcbin
 * 1.22 does not keep the transceiver's current-direction: read the answer.)
 * As answerer we only linked what the offer asked for. */
static void
sink_negotiated (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GPtrArray *branches = gst_noom_peer_get_tracks (peer);
  GstWebRTCSessionDescription *answer = NULL;
  guint i, mline, remb_id;

  if (!gst_noom_peer_is_offerer (peer))
    return;
  g_object_get (gst_noom_peer_get_webrtcbin (peer), "remote-description",
      &answer, NULL);
  if (!answer)
    return;
  for (i = 0; branches && i < branches->len; i++) {
    Branch *b = branches->pdata[i];
    const GstSDPMedia *media;

    if (!b->transceiver || !b->tee_pad)
      continue;
    g_object_get (b->transceiver, "mlineindex", &mline, NULL);
    if (mline >= gst_sdp_message_medias_len (answer->sdp))
      continue;
    media = gst_sdp_message_get_media (answer->sdp, mline);
    if (!media_has_twcc (media)) {
      g_atomic_int_set (&b->strip_twcc, TRUE);
      if ((remb_id = media_remb_id (media, TRUE)))
        use_remb (GST_NOOM_SINK (element), peer, b, remb_id);
      else if (b->bwe) {
        g_mutex_lock (&b->bwe->lock);
        b->bwe->no_feedback = TRUE;
        g_mutex_unlock (&b->bwe->lock);
        replan (GST_NOOM_SINK (element), TRUE);
      }
    }
    if (gst_sdp_media_get_attribute_val (media, "inactive") ||
        gst_sdp_media_get_attribute_val (media, "sendonly") ||
        gst_sdp_media_get_port (media) == 0) {
      GST_INFO_OBJECT (element, "%s takes nothing on m-line %u", b->peer_id,
          mline);
      branch_unlink (b);
    }
  }
  gst_webrtc_session_description_free (answer);
}

static void
sink_peer_connected (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  /* A newcomer decodes nothing until the next keyframe: make it now. */
  force_keyframe (GST_NOOM_SINK (element));
}

static void
sink_peer_removing (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GPtrArray *branches = gst_noom_peer_get_tracks (peer);
  guint i;

  /* Unlink from the tees first: a stopped webrtcbin answers FLUSHING, which
   * must not reach the encoder. */
  for (i = 0; branches && i < branches->len; i++)
    branch_unlink (branches->pdata[i]);
}

/* media_bandwidth from the relay (session thread). */
static void
sink_relay_bandwidth (GstNoomBaseBin * element, guint base_bitrate)
{
  GstNoomSink *self = GST_NOOM_SINK (element);

  GST_OBJECT_LOCK (self);
  if (self->relay_base_bitrate == base_bitrate) {
    GST_OBJECT_UNLOCK (self);
    return;
  }
  self->relay_base_bitrate = base_bitrate;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "the relay's slowest subscriber takes %u bit/s of "
      "our video%s", base_bitrate, base_bitrate ? "" : " (none is limited)");
  replan (self, TRUE);
}

static void
sink_peer_removed (GstNoomBaseBin * element, GstNoomPeer * peer)
{
  GPtrArray *branches;

  g_signal_handlers_disconnect_by_data (gst_noom_peer_get_webrtcbin (peer),
      peer);
  bwe_peer_removed (GST_NOOM_SINK (element), peer);
  /* a new relay tells its own subscribers' needs */
  if (gst_noom_peer_get_plan (peer)->relay) {
    GST_OBJECT_LOCK (element);
    GST_NOOM_SINK (element)->relay_base_bitrate = 0;
    GST_OBJECT_UNLOCK (element);
  }
  branches = gst_noom_peer_steal_tracks (peer);
  g_ptr_array_set_free_func (branches, branch_free);
  g_ptr_array_unref (branches);
}


/* ------------------------------------------------------------------------ */
/* element */

static gboolean
gst_noom_sink_start (GstNoomBaseBin * base)
{
  GstNoomSink *self = GST_NOOM_SINK (base);
  GList *l;

  GST_OBJECT_LOCK (self);
  self->running = TRUE;
  self->join_sent = FALSE;
  self->eos_posted = FALSE;
  for (l = self->streams; l; l = l->next)
    ((Stream *) l->data)->eos = FALSE;
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static void
gst_noom_sink_started (GstNoomBaseBin * base)
{
  maybe_join (GST_NOOM_SINK (base));
}

/* Before the session stops: no join from a streaming thread after it. */
static void
gst_noom_sink_stopping (GstNoomBaseBin * base)
{
  GST_OBJECT_LOCK (base);
  GST_NOOM_SINK (base)->running = FALSE;
  GST_OBJECT_UNLOCK (base);
}

static void
gst_noom_sink_finalize (GObject * object)
{
  GstNoomSink *self = GST_NOOM_SINK (object);

  g_list_free_full (self->streams, (GDestroyNotify) stream_free);
  g_clear_pointer (&self->bwes, g_ptr_array_unref);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_noom_sink_init (GstNoomSink * self)
{
}

static void
gst_noom_sink_class_init (GstNoomSinkClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstNoomBaseBinClass *base_class = GST_NOOM_BASE_BIN_CLASS (klass);

  gobject_class->set_property = gst_noom_sink_set_property;
  gobject_class->get_property = gst_noom_field_get_property;
  gobject_class->finalize = gst_noom_sink_finalize;

  /**
   * GstNoomSink:video-codec:
   *
   * The codec raw video is encoded to (gst/gstnoomcodec.c has each
   * codec's encoder settings).  Encoded input is sent as it is.
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_VIDEO_CODEC,
      G_STRUCT_OFFSET (GstNoomSink, video_codec),
      g_param_spec_enum ("video-codec", "Video codec",
          "Codec to encode raw video to", GST_TYPE_NOOM_VIDEO_CODEC,
          DEFAULT_VIDEO_CODEC, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstNoomSink:video-bitrate:
   *
   * The encoder's target for raw video, in kbit/s: every participant gets
   * the same encoding.  Unused for encoded input.
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_VIDEO_BITRATE,
      G_STRUCT_OFFSET (GstNoomSink, video_bitrate),
      g_param_spec_uint ("video-bitrate", "Video bitrate",
          "Target bitrate of encoded video in kbit/s", 50, 100000,
          DEFAULT_VIDEO_BITRATE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstNoomSink:audio-bitrate:
   *
   * The Opus encoder's target for raw audio, in kbit/s.  Unused for Opus
   * input.
   *
   * Since: 0.1
   */
  gst_noom_field_install (gobject_class, PROP_AUDIO_BITRATE,
      G_STRUCT_OFFSET (GstNoomSink, audio_bitrate),
      g_param_spec_uint ("audio-bitrate", "Audio bitrate",
          "Target bitrate of encoded audio in kbit/s", 6, 510,
          DEFAULT_AUDIO_BITRATE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstNoomSink:mute-audio:
   *
   * Mutes the audio streams, in any state: raw audio is sent as silence,
   * encoded audio is not sent.  The room is told (docs/protocol.md
   * media_state): the others show a muted microphone.
   *
   * Since: 0.2
   */
  gst_noom_field_install (gobject_class, PROP_MUTE_AUDIO,
      G_STRUCT_OFFSET (GstNoomSink, mute_audio),
      g_param_spec_boolean ("mute-audio", "Mute audio",
          "Send silence (raw audio) or nothing (encoded audio), and tell the "
          "room the microphone is off", FALSE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstNoomSink:mute-video:
   *
   * Stops the video streams, in any state: no frames are sent, and the
   * room is told the camera is off (docs/protocol.md media_state): the
   * others show the name instead of a frozen picture.  Unmuting starts
   * again with a keyframe.
   *
   * Since: 0.2
   */
  gst_noom_field_install (gobject_class, PROP_MUTE_VIDEO,
      G_STRUCT_OFFSET (GstNoomSink, mute_video),
      g_param_spec_boolean ("mute-video", "Mute video",
          "Send no video, and tell the room the camera is off", FALSE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstNoomSink:congestion-control:
   *
   * How the video encoder follows the receivers' links.  With `homegrown`
   * (the default) each receiver's transport-wide congestion control
   * feedback (TWCC) gives an estimate of its link, or, for a receiver that
   * takes no TWCC but the abs-send-time header extension (aiortc), its own
   * estimate, from its REMB feedback: the encoder's bitrate
   * follows the best one between #GstNoomSink:min-bitrate and
   * #GstNoomSink:max-bitrate, and with VP8 a receiver whose link cannot
   * take the whole stream gets only its lower temporal layer (half the
   * frame rate, sized for the slowest receiver), so one slow receiver
   * never pulls the others down.  H.264 and VP9 have no layers: the
   * slowest receiver sets the bitrate.  Encoded input is not re-encoded:
   * its estimates are only reported.  With `disabled` the encoder keeps
   * #GstNoomSink:video-bitrate.
   *
   * Since: 0.3
   */
  gst_noom_field_install (gobject_class, PROP_CONGESTION_CONTROL,
      G_STRUCT_OFFSET (GstNoomSink, congestion_control),
      g_param_spec_enum ("congestion-control", "Congestion control",
          "How the video bitrate follows the receivers' links",
          GST_TYPE_NOOM_CONGESTION_CONTROL, DEFAULT_CONGESTION_CONTROL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstNoomSink:min-bitrate:
   *
   * The lowest video bitrate congestion control goes to, in bit/s.
   *
   * Since: 0.3
   */
  gst_noom_field_install (gobject_class, PROP_MIN_BITRATE,
      G_STRUCT_OFFSET (GstNoomSink, min_bitrate),
      g_param_spec_uint ("min-bitrate", "Minimal bitrate",
          "Lowest video bitrate of congestion control, in bit/s", 10000,
          100000000, DEFAULT_MIN_BITRATE, G_PARAM_READWRITE |
          G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  /**
   * GstNoomSink:start-bitrate:
   *
   * The video bitrate congestion control starts from for each receiver,
   * in bit/s; 0 starts from a quarter of #GstNoomSink:max-bitrate (at
   * least #GstNoomSink:min-bitrate).  Until a receiver's link first shows
   * congestion, its estimate grows fast (10 % a report, never past 1.5
   * times what arrives), so the first pictures do not overflow a slow
   * link.
   *
   * Since: 0.3
   */
  gst_noom_field_install (gobject_class, PROP_START_BITRATE,
      G_STRUCT_OFFSET (GstNoomSink, start_bitrate),
      g_param_spec_uint ("start-bitrate", "Start bitrate",
          "Video bitrate congestion control starts from, in bit/s "
          "(0: a quarter of max-bitrate)", 0, 100000000, DEFAULT_START_BITRATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstNoomSink:max-bitrate:
   *
   * The highest video bitrate congestion control goes to, in bit/s; 0 is
   * #GstNoomSink:video-bitrate.
   *
   * Since: 0.3
   */
  gst_noom_field_install (gobject_class, PROP_MAX_BITRATE,
      G_STRUCT_OFFSET (GstNoomSink, max_bitrate),
      g_param_spec_uint ("max-bitrate", "Maximal bitrate",
          "Highest video bitrate of congestion control, in bit/s "
          "(0: video-bitrate)", 0, 100000000, DEFAULT_MAX_BITRATE,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_element_class_set_static_metadata (element_class, "Noom room sink",
      "Sink/Network/WebRTC",
      "Publishes audio and video to every participant of a Noom room",
      "Noom developers");

  element_class->request_new_pad = gst_noom_sink_request_new_pad;
  element_class->release_pad = gst_noom_sink_release_pad;

  base_class->kind = "publisher";
  base_class->uri_type = GST_URI_SINK;
  base_class->start = gst_noom_sink_start;
  base_class->started = gst_noom_sink_started;
  base_class->stopping = gst_noom_sink_stopping;
  base_class->peer_added = sink_peer_added;
  base_class->prepare_offer = sink_prepare_offer;
  base_class->prepare_answer = sink_prepare_answer;
  base_class->negotiated = sink_negotiated;
  base_class->peer_connected = sink_peer_connected;
  base_class->peer_removing = sink_peer_removing;
  base_class->peer_removed = sink_peer_removed;
  base_class->relay_bandwidth = sink_relay_bandwidth;

  gst_type_mark_as_plugin_api (GST_TYPE_NOOM_VIDEO_CODEC, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_NOOM_CONGESTION_CONTROL, 0);
}
