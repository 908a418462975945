/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#ifndef __GST_NOOM_CODEC_H__
#define __GST_NOOM_CODEC_H__

#include <gst/gst.h>
#include <gst/sdp/sdp.h>

/* Transport-wide congestion control (TWCC): the header extension's URI,
 * and the id noomsink writes it with (Chromium's). */
#define GST_NOOM_CODEC_TWCC_URI \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"
#define GST_NOOM_CODEC_TWCC_ID 3
/* Absolute send time, for a receiver that sends REMB instead (aiortc):
 * the URI, and the id noomsink offers it with (Chromium's and aiortc's). */
#define GST_NOOM_CODEC_ABS_SEND_TIME_URI \
  "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
#define GST_NOOM_CODEC_ABS_SEND_TIME_ID 2

G_BEGIN_DECLS

/* Which RTP caps: what noomsink sends (with the feedback it answers), or
 * what noomsrc asks for (with the H.264 profile it decodes). */
typedef enum
{
  GST_NOOM_CODEC_SEND,
  GST_NOOM_CODEC_RECEIVE,
} GstNoomCodecDirection;

/* One codec the plugin sends or receives: the one place that knows its
 * caps, payload type and elements.  docs/protocol.md §7 "Media, for a
 * client of your own" lists the same table for other implementations. */
typedef struct _GstNoomCodec GstNoomCodec;

struct _GstNoomCodec
{
  const gchar *encoding_name;   /* RTP encoding-name: "VP8" */
  gboolean video;
  gint payload_type;            /* ours: the one a browser uses too */
  gint clock_rate;
  const gchar *encoded_caps;    /* the media type noomsink takes encoded */

  /* sending raw media: converters, then the encoder (with its plugin, for
   * the error), then a capsfilter when encoder_caps is set */
  const gchar *converters[2];
  const gchar *encoder;
  const gchar *encoder_plugin;
  void (*configure_encoder) (GstElement * encoder, guint kbps);
  /* more, when noomsink's congestion control moves the bitrate (NULL:
   * nothing more) */
  void (*configure_adaptive_encoder) (GstElement * encoder);
  const gchar *encoder_caps;
  /* sending encoded media: a parser first, if any */
  const gchar *send_parser;
  const gchar *payloader;
  void (*configure_payloader) (GstElement * payloader);

  /* receiving: depayloader, parser (always, or only when not decoding),
   * decoder */
  const gchar *depayloader;
  void (*configure_depayloader) (GstElement * depayloader);
  const gchar *receive_parser;
  gboolean parse_only_undecoded;
  const gchar *decoder;
};

const GstNoomCodec *gst_noom_codec_by_name (const gchar * encoding_name);
const GstNoomCodec *gst_noom_codec_by_media_type (const gchar * media_type);
const GstNoomCodec *gst_noom_codec_get (guint i);

GstCaps *gst_noom_codec_rtp_caps (const GstNoomCodec * codec,
    GstNoomCodecDirection direction);
/* The id of the TWCC header extension in @media (an m-line), 0 if none. */
guint gst_noom_codec_twcc_id (const GstSDPMedia * media);
/* Asks for TWCC, with extension id @id, on every structure of @caps. */
void gst_noom_codec_add_twcc (GstCaps * caps, guint id);
/* The id of the abs-send-time header extension in @media, 0 if none. */
guint gst_noom_codec_abs_send_time_id (const GstSDPMedia * media);
/* Whether @media asks for the RTCP feedback @feedback (a=rtcp-fb, e.g.
 * "goog-remb"), for any of its payload types. */
gboolean gst_noom_codec_has_feedback (const GstSDPMedia * media,
    const gchar * feedback);
/* Asks for abs-send-time, the extension a REMB receiver needs, as id @id
 * on every structure of @caps. */
void gst_noom_codec_add_abs_send_time (GstCaps * caps, guint id);

GstCaps *gst_noom_codec_all_rtp_caps (gboolean video,
    GstNoomCodecDirection direction, gboolean with_payload_type);

gboolean gst_noom_codec_receive_chain (const GstNoomCodec * codec,
    gboolean decode, GPtrArray * elements);

G_END_DECLS

#endif /* __GST_NOOM_CODEC_H__ */
