/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/**
 * SECTION:element-noomrtphdrextabssendtime
 * @title: noomrtphdrextabssendtime
 * @see_also: #GstRTPHeaderExtension, #GstRTPBasePayload
 *
 * The absolute send time RTP header extension
 * (`http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time`): three
 * bytes, the time the packet is sent in seconds as a 6.18 fixed point
 * number, wrapping every 64 s.  A receiver that estimates the link itself
 * (receive-side bandwidth estimation, as aiortc does) reads the growth of
 * the packets' delay from it and answers with REMB feedback (RTCP
 * application layer feedback, "Receiver Estimated Maximum Bitrate").
 * GStreamer 1.22 has no element for it.
 *
 * Written, the extension is the time of the write from the monotonic
 * clock: only differences matter to the receiver.  On a payloader that is
 * the time the packet was made, not sent; noomsink writes it later, as
 * each packet leaves for a receiver that asked for it (docs/elements.md
 * "Bandwidth adaptation").  Read, it is only checked: the time is of no
 * use to a depayloader.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 videotestsrc ! vp8enc ! rtpvp8pay ! \
 *     'application/x-rtp, extmap-2=(string)http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time' ! \
 *     fakesink
 * ]|
 * A payloader (or depayloader) whose caps name the URI in an extmap field
 * makes one by itself (auto-header-extension); from code,
 * gst_rtp_header_extension_create_from_uri() with the URI, then the
 * payloader's "add-extension" signal.
 *
 * Since: 0.4
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstnoomabssendtime.h"
#include "gstnoomcodec.h"
#include "gstnoomelements.h"

GST_DEBUG_CATEGORY_STATIC (gst_noom_abs_send_time_debug);
#define GST_CAT_DEFAULT gst_noom_abs_send_time_debug

/* The extension's length: 24 bits. */
#define SIZE 3

struct _GstNoomAbsSendTime
{
  GstRTPHeaderExtension parent;
};

#define gst_noom_abs_send_time_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstNoomAbsSendTime, gst_noom_abs_send_time,
    GST_TYPE_RTP_HEADER_EXTENSION,
    GST_DEBUG_CATEGORY_INIT (gst_noom_abs_send_time_debug,
        "noomrtphdrextabssendtime", 0, "Absolute send time RTP header "
        "extension"));
/* Marginal, as GStreamer's own header extensions: found by its URI. */
GST_ELEMENT_REGISTER_DEFINE (noomrtphdrextabssendtime,
    "noomrtphdrextabssendtime", GST_RANK_MARGINAL,
    GST_TYPE_NOOM_ABS_SEND_TIME);

/* @us in seconds, 6.18 fixed point (2^18 units a second), 24 bits */
static guint32
abs_send_time_from_us (gint64 us)
{
  return (guint32) (((guint64) us << 18) / G_USEC_PER_SEC) & 0xffffff;
}

static GstRTPHeaderExtensionFlags
gst_noom_abs_send_time_get_supported_flags (GstRTPHeaderExtension * ext)
{
  return GST_RTP_HEADER_EXTENSION_ONE_BYTE | GST_RTP_HEADER_EXTENSION_TWO_BYTE;
}

static gsize
gst_noom_abs_send_time_get_max_size (GstRTPHeaderExtension * ext,
    const GstBuffer * input_meta)
{
  return SIZE;
}

static gssize
gst_noom_abs_send_time_write (GstRTPHeaderExtension * ext,
    const GstBuffer * input_meta, GstRTPHeaderExtensionFlags write_flags,
    GstBuffer * output, guint8 * data, gsize size)
{
  guint32 t = abs_send_time_from_us (g_get_monotonic_time ());

  g_return_val_if_fail (size >= SIZE, -1);
  GST_WRITE_UINT24_BE (data, t);
  GST_LOG_OBJECT (ext, "send time %06x", t);
  return SIZE;
}

static gboolean
gst_noom_abs_send_time_read (GstRTPHeaderExtension * ext,
    GstRTPHeaderExtensionFlags read_flags, const guint8 * data, gsize size,
    GstBuffer * buffer)
{
  if (size < SIZE) {
    GST_WARNING_OBJECT (ext, "%" G_GSIZE_FORMAT " bytes, not %u", size, SIZE);
    return FALSE;
  }
  GST_LOG_OBJECT (ext, "send time %06x", GST_READ_UINT24_BE (data));
  return TRUE;
}

static void
gst_noom_abs_send_time_class_init (GstNoomAbsSendTimeClass * klass)
{
  GstRTPHeaderExtensionClass *ext_class = GST_RTP_HEADER_EXTENSION_CLASS
      (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  ext_class->get_supported_flags = gst_noom_abs_send_time_get_supported_flags;
  ext_class->get_max_size = gst_noom_abs_send_time_get_max_size;
  ext_class->write = gst_noom_abs_send_time_write;
  ext_class->read = gst_noom_abs_send_time_read;

  gst_element_class_set_static_metadata (element_class,
      "RTP Header Extension Absolute Send Time", GST_RTP_HDREXT_ELEMENT_CLASS,
      "Writes the time each RTP packet is sent, for a receiver's bandwidth "
      "estimate (abs-send-time, answered with REMB feedback)",
      "Noom developers");
  gst_rtp_header_extension_class_set_uri (ext_class,
      GST_NOOM_CODEC_ABS_SEND_TIME_URI);
}

static void
gst_noom_abs_send_time_init (GstNoomAbsSendTime * self)
{
}
