/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The codec table: for each codec the plugin sends or receives, its RTP
 * caps and payload type, the encoder with its settings, the payloader, the
 * depayloader, the parser and the decoder.  noomsink builds its sending
 * chains and its codec preferences from it, noomsrc its receiving chains
 * and what it asks for; nothing else in the plugin names a codec.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstnoomcodec.h"

#include <stdlib.h>
#include <string.h>

/* Key frames come when a receiver asks (a newcomer, PLI, FIR); this is
 * only the backstop for one whose request got lost: 10 s at 30 fps.  Every
 * 2 s, as before, each key frame emptied the rate control's buffer, and
 * the frames after it were dropped: a receiver behind no slow link got 27
 * or 28 fps every other second (docs/performance.md, "Bandwidth
 * adaptation"). */
#define KEYFRAME_MAX_DIST 300

/* Realtime: no look-ahead, fast, constant bitrate, a key frame now and
 * then so a lost one heals. */
static void
configure_vp8enc (GstElement * e, guint kbps)
{
  g_object_set (e, "deadline", (gint64) 1, "cpu-used", 4, "lag-in-frames", 0,
      "target-bitrate", (gint) kbps * 1000, "keyframe-max-dist",
      KEYFRAME_MAX_DIST, "threads", 2, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "end-usage", "cbr");
  gst_util_set_object_arg (G_OBJECT (e), "error-resilient", "default");
}

/* Following a moving target, as WebRTC encoders do: a client buffer of
 * 1 s, not 6 (the rate control answers within a second), key frames at
 * most 3 times an average frame, and, when even the coarsest quantizer
 * does not fit the bitrate, fewer frames (a buffer under 30 %) and then a
 * smaller picture (libvpx's spatial resampling, a key frame at the new
 * size). */
static void
configure_vpxenc_adaptive (GstElement * e)
{
  g_object_set (e, "buffer-size", 1000, "buffer-initial-size", 500,
      "buffer-optimal-size", 600, "max-intra-bitrate", 300,
      "dropframe-threshold", 30, "resize-allowed", TRUE, NULL);
}

static void
configure_vp9enc (GstElement * e, guint kbps)
{
  g_object_set (e, "deadline", (gint64) 1, "cpu-used", 8, "lag-in-frames", 0,
      "target-bitrate", (gint) kbps * 1000, "keyframe-max-dist",
      KEYFRAME_MAX_DIST, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "end-usage", "cbr");
}

static void
configure_x264enc (GstElement * e, guint kbps)
{
  gst_util_set_object_arg (G_OBJECT (e), "tune", "zerolatency");
  gst_util_set_object_arg (G_OBJECT (e), "speed-preset", "ultrafast");
  g_object_set (e, "bitrate", kbps, "key-int-max", KEYFRAME_MAX_DIST, NULL);
}

static void
configure_opusenc (GstElement * e, guint kbps)
{
  g_object_set (e, "bitrate", (gint) kbps * 1000, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "audio-type", "voice");
}

static void
configure_vpx_pay (GstElement * e)
{
  gst_util_set_object_arg (G_OBJECT (e), "picture-id-mode", "15-bit");
}

static void
configure_h264_pay (GstElement * e)
{
  g_object_set (e, "config-interval", -1, NULL);
  gst_util_set_object_arg (G_OBJECT (e), "aggregate-mode", "zero-latency");
}

/* Older depayloaders have not these: then the decoder copes. */
static void
configure_vp8_depay (GstElement * e)
{
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (e),
          "request-keyframe"))
    g_object_set (e, "request-keyframe", TRUE, "wait-for-keyframe", TRUE,
        NULL);
}

/* In order of preference: the first video codec is what a peer gets when
 * it takes any. */
static const GstNoomCodec codecs[] = {
  {
        .encoding_name = "VP8",
        .video = TRUE,
        .payload_type = 96,
        .clock_rate = 90000,
        .encoded_caps = "video/x-vp8",
        .converters = {"videoconvert"},
        .encoder = "vp8enc",
        .encoder_plugin = "gst-plugins-good",
        .configure_encoder = configure_vp8enc,
        .configure_adaptive_encoder = configure_vpxenc_adaptive,
        .payloader = "rtpvp8pay",
        .configure_payloader = configure_vpx_pay,
        .depayloader = "rtpvp8depay",
        .configure_depayloader = configure_vp8_depay,
        .decoder = "vp8dec",
      },
  {
        .encoding_name = "H264",
        .video = TRUE,
        .payload_type = 102,
        .clock_rate = 90000,
        .encoded_caps = "video/x-h264",
        .converters = {"videoconvert"},
        .encoder = "x264enc",
        .encoder_plugin = "gst-plugins-ugly",
        .configure_encoder = configure_x264enc,
        .encoder_caps = "video/x-h264, profile = (string) constrained-baseline",
        .send_parser = "h264parse",
        .payloader = "rtph264pay",
        .configure_payloader = configure_h264_pay,
        .depayloader = "rtph264depay",
        .receive_parser = "h264parse",
        .decoder = "avdec_h264",
      },
  {
        .encoding_name = "VP9",
        .video = TRUE,
        .payload_type = 98,
        .clock_rate = 90000,
        .encoded_caps = "video/x-vp9",
        .converters = {"videoconvert"},
        .encoder = "vp9enc",
        .encoder_plugin = "gst-plugins-good",
        .configure_encoder = configure_vp9enc,
        .configure_adaptive_encoder = configure_vpxenc_adaptive,
        .payloader = "rtpvp9pay",
        .configure_payloader = configure_vpx_pay,
        .depayloader = "rtpvp9depay",
        .decoder = "vp9dec",
      },
  {
        .encoding_name = "OPUS",
        .video = FALSE,
        .payload_type = 111,
        .clock_rate = 48000,
        .encoded_caps = "audio/x-opus",
        .converters = {"audioconvert", "audioresample"},
        .encoder = "opusenc",
        .encoder_plugin = "gst-plugins-base",
        .configure_encoder = configure_opusenc,
        .payloader = "rtpopuspay",
        .depayloader = "rtpopusdepay",
        .receive_parser = "opusparse",
        .parse_only_undecoded = TRUE,
        .decoder = "opusdec",
      },
};

const GstNoomCodec *
gst_noom_codec_get (guint i)
{
  return i < G_N_ELEMENTS (codecs) ? &codecs[i] : NULL;
}

const GstNoomCodec *
gst_noom_codec_by_name (const gchar * encoding_name)
{
  guint i;

  for (i = 0; encoding_name && i < G_N_ELEMENTS (codecs); i++)
    if (!g_ascii_strcasecmp (codecs[i].encoding_name, encoding_name))
      return &codecs[i];
  return NULL;
}

const GstNoomCodec *
gst_noom_codec_by_media_type (const gchar * media_type)
{
  guint i;

  for (i = 0; media_type && i < G_N_ELEMENTS (codecs); i++)
    if (!strcmp (codecs[i].encoded_caps, media_type))
      return &codecs[i];
  return NULL;
}

static GstStructure *
rtp_structure (const GstNoomCodec * c, GstNoomCodecDirection direction,
    gboolean with_payload_type)
{
  GstStructure *s = gst_structure_new ("application/x-rtp",
      "media", G_TYPE_STRING, c->video ? "video" : "audio",
      "encoding-name", G_TYPE_STRING, c->encoding_name, NULL);

  if (!with_payload_type)
    return s;
  gst_structure_set (s, "clock-rate", G_TYPE_INT, c->clock_rate,
      "payload", G_TYPE_INT, c->payload_type, NULL);
  if (!c->video)
    gst_structure_set (s, "encoding-params", G_TYPE_STRING, "2", NULL);
  if (!strcmp (c->encoding_name, "H264")) {
    gst_structure_set (s, "packetization-mode", G_TYPE_STRING, "1", NULL);
    /* Sending: none, the payloader's caps carry the stream's own and
     * webrtcbin refuses caps that conflict with the preference. */
    if (direction == GST_NOOM_CODEC_RECEIVE)
      gst_structure_set (s, "profile-level-id", G_TYPE_STRING, "42e01f",
          NULL);
  }
  if (c->video) {
    g_autofree gchar *extmap =
        g_strdup_printf ("extmap-%d", GST_NOOM_CODEC_TWCC_ID);

    gst_structure_set (s, "rtcp-fb-nack-pli", G_TYPE_BOOLEAN, TRUE,
        "rtcp-fb-transport-cc", G_TYPE_BOOLEAN, TRUE,
        extmap, G_TYPE_STRING, GST_NOOM_CODEC_TWCC_URI, NULL);
    if (direction == GST_NOOM_CODEC_SEND)
      gst_structure_set (s, "rtcp-fb-ccm-fir", G_TYPE_BOOLEAN, TRUE, NULL);
  }
  return s;
}

/* The one-byte id of the extension @uri in @media, 0 if none. */
static guint
extension_id (const GstSDPMedia * media, const gchar * uri)
{
  const gchar *v;
  guint i;

  for (i = 0; (v = gst_sdp_media_get_attribute_val_n (media, "extmap", i));
      i++)
    if (strstr (v, uri) && atoi (v) > 0 && atoi (v) < 15)
      return atoi (v);
  return 0;
}

guint
gst_noom_codec_twcc_id (const GstSDPMedia * media)
{
  return extension_id (media, GST_NOOM_CODEC_TWCC_URI);
}

guint
gst_noom_codec_abs_send_time_id (const GstSDPMedia * media)
{
  return extension_id (media, GST_NOOM_CODEC_ABS_SEND_TIME_URI);
}

gboolean
gst_noom_codec_has_feedback (const GstSDPMedia * media, const gchar * feedback)
{
  const gchar *v, *type;
  guint i;

  /* "96 goog-remb", "* transport-cc" */
  for (i = 0; (v = gst_sdp_media_get_attribute_val_n (media, "rtcp-fb", i));
      i++)
    if ((type = strchr (v, ' ')) && !g_strcmp0 (type + 1, feedback))
      return TRUE;
  return FALSE;
}

void
gst_noom_codec_add_twcc (GstCaps * caps, guint id)
{
  g_autofree gchar *extmap = g_strdup_printf ("extmap-%u", id);
  guint i;

  for (i = 0; i < gst_caps_get_size (caps); i++)
    gst_structure_set (gst_caps_get_structure (caps, i),
        "rtcp-fb-transport-cc", G_TYPE_BOOLEAN, TRUE,
        extmap, G_TYPE_STRING, GST_NOOM_CODEC_TWCC_URI, NULL);
}

void
gst_noom_codec_add_abs_send_time (GstCaps * caps, guint id)
{
  g_autofree gchar *extmap = g_strdup_printf ("extmap-%u", id);
  guint i;

  /* no rtcp-fb-goog-remb: GStreamer 1.22's SDP writer drops it */
  for (i = 0; i < gst_caps_get_size (caps); i++)
    gst_structure_set (gst_caps_get_structure (caps, i),
        extmap, G_TYPE_STRING, GST_NOOM_CODEC_ABS_SEND_TIME_URI, NULL);
}

/* The caps of @codec as a webrtcbin codec preference. */
GstCaps *
gst_noom_codec_rtp_caps (const GstNoomCodec * codec,
    GstNoomCodecDirection direction)
{
  return gst_caps_new_full (rtp_structure (codec, direction, TRUE), NULL);
}

/* Every video (or audio) codec, in order of preference. */
GstCaps *
gst_noom_codec_all_rtp_caps (gboolean video, GstNoomCodecDirection direction,
    gboolean with_payload_type)
{
  GstCaps *caps = gst_caps_new_empty ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (codecs); i++)
    if (codecs[i].video == video)
      gst_caps_append_structure (caps, rtp_structure (&codecs[i], direction,
              with_payload_type));
  return caps;
}

static gboolean
add (GPtrArray * elements, const gchar * factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e) {
    GST_WARNING ("missing element %s", factory);
    return FALSE;
  }
  g_ptr_array_add (elements, e);
  return TRUE;
}

/* Fills @elements (upstream first) with what turns @codec's RTP into
 * frames (decoded, or parsed when not @decode).  FALSE when an element is
 * missing; what was made stays in @elements for the caller to drop. */
gboolean
gst_noom_codec_receive_chain (const GstNoomCodec * codec, gboolean decode,
    GPtrArray * elements)
{
  if (!add (elements, codec->depayloader))
    return FALSE;
  if (codec->configure_depayloader)
    codec->configure_depayloader (elements->pdata[elements->len - 1]);
  if (codec->receive_parser && (!decode || !codec->parse_only_undecoded)
      && !add (elements, codec->receive_parser))
    return FALSE;
  if (decode && !add (elements, codec->decoder))
    return FALSE;
  return TRUE;
}
