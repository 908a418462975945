/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The enum and flags types of the elements' properties, registered in one
 * place (gstnoomenums.c): their values, names and nicks are what
 * gst-inspect-1.0 shows and gst-launch-1.0 takes.
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* noomsink:video-codec */
typedef enum
{
  GST_NOOM_VIDEO_CODEC_VP8,
  GST_NOOM_VIDEO_CODEC_H264,
  GST_NOOM_VIDEO_CODEC_VP9,
} GstNoomVideoCodec;

/* noomsrc:media */
typedef enum
{
  GST_NOOM_MEDIA_AUDIO = (1 << 0),
  GST_NOOM_MEDIA_VIDEO = (1 << 1),
} GstNoomMedia;

/* noomsrc:kind; the nicks are the protocol's kind strings
 * (docs/protocol.md §3) */
typedef enum
{
  GST_NOOM_SRC_KIND_SUBSCRIBER,
  GST_NOOM_SRC_KIND_RECORDER,
} GstNoomSrcKind;

/* both elements' ice-transport-policy */
typedef enum
{
  GST_NOOM_ICE_TRANSPORT_POLICY_ALL,
  GST_NOOM_ICE_TRANSPORT_POLICY_RELAY,
} GstNoomIceTransportPolicy;

/* noomsink:congestion-control; the nicks are webrtcsink's where they mean
 * the same */
typedef enum
{
  GST_NOOM_CONGESTION_CONTROL_DISABLED,
  GST_NOOM_CONGESTION_CONTROL_HOMEGROWN,
} GstNoomCongestionControl;

#define GST_TYPE_NOOM_CONGESTION_CONTROL \
  (gst_noom_congestion_control_get_type ())
#define GST_TYPE_NOOM_VIDEO_CODEC (gst_noom_video_codec_get_type ())
#define GST_TYPE_NOOM_MEDIA (gst_noom_media_get_type ())
#define GST_TYPE_NOOM_SRC_KIND (gst_noom_src_kind_get_type ())
#define GST_TYPE_NOOM_ICE_TRANSPORT_POLICY \
  (gst_noom_ice_transport_policy_get_type ())

GType gst_noom_video_codec_get_type (void);
GType gst_noom_congestion_control_get_type (void);
GType gst_noom_media_get_type (void);
GType gst_noom_src_kind_get_type (void);
GType gst_noom_ice_transport_policy_get_type (void);

G_END_DECLS
