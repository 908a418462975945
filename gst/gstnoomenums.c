/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "gstnoomenums.h"

static const GEnumValue video_codecs[] = {
  {GST_NOOM_VIDEO_CODEC_VP8, "VP8", "vp8"},
  {GST_NOOM_VIDEO_CODEC_H264, "H.264 (constrained baseline)", "h264"},
  {GST_NOOM_VIDEO_CODEC_VP9, "VP9", "vp9"},
  {0, NULL, NULL},
};

static const GEnumValue congestion_controls[] = {
  {GST_NOOM_CONGESTION_CONTROL_DISABLED,
      "Disabled: the encoder keeps video-bitrate", "disabled"},
  {GST_NOOM_CONGESTION_CONTROL_HOMEGROWN,
      "Delay and loss based, from each receiver's TWCC feedback",
      "homegrown"},
  {0, NULL, NULL},
};

static const GFlagsValue media[] = {
  {GST_NOOM_MEDIA_AUDIO, "Audio", "audio"},
  {GST_NOOM_MEDIA_VIDEO, "Video", "video"},
  {0, NULL, NULL},
};

static const GEnumValue src_kinds[] = {
  {GST_NOOM_SRC_KIND_SUBSCRIBER, "Subscriber: receives", "subscriber"},
  {GST_NOOM_SRC_KIND_RECORDER,
      "Recorder: receives, and every client shows a recording badge",
      "recorder"},
  {0, NULL, NULL},
};

static const GEnumValue ice_transport_policies[] = {
  {GST_NOOM_ICE_TRANSPORT_POLICY_ALL, "Any candidate", "all"},
  {GST_NOOM_ICE_TRANSPORT_POLICY_RELAY, "TURN relay candidates only",
      "relay"},
  {0, NULL, NULL},
};

/* Registers @values as @name once (@flags: a flags type, else an enum). */
static GType
register_once (GType * type, const gchar * name, gconstpointer values,
    gboolean flags)
{
  if (g_once_init_enter (type)) {
    GType t = flags ? g_flags_register_static (name, values) :
        g_enum_register_static (name, values);

    g_once_init_leave (type, t);
  }
  return *type;
}

GType
gst_noom_video_codec_get_type (void)
{
  static GType type = 0;

  return register_once (&type, "GstNoomVideoCodec", video_codecs, FALSE);
}

GType
gst_noom_congestion_control_get_type (void)
{
  static GType type = 0;

  return register_once (&type, "GstNoomCongestionControl",
      congestion_controls, FALSE);
}

GType
gst_noom_media_get_type (void)
{
  static GType type = 0;

  return register_once (&type, "GstNoomMedia", media, TRUE);
}

GType
gst_noom_src_kind_get_type (void)
{
  static GType type = 0;

  return register_once (&type, "GstNoomSrcKind", src_kinds, FALSE);
}

GType
gst_noom_ice_transport_policy_get_type (void)
{
  static GType type = 0;

  return register_once (&type, "GstNoomIceTransportPolicy",
      ice_transport_policies, FALSE);
}
