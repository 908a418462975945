/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/rtp/rtp.h>

G_BEGIN_DECLS

/* Temporal layers of noomsink's VP8 (docs/elements.md "Bandwidth
 * adaptation"): every other frame is layer 0 (half the frame rate), which
 * only refers to layer 0; the frames between are layer 1, which nothing
 * refers to. */
#define GST_NOOM_BWE_LAYERS 2

/* Where a receiver's estimate comes from. */
typedef enum
{
  GST_NOOM_BWE_FEEDBACK_NONE,   /* nothing yet: the start bitrate */
  GST_NOOM_BWE_FEEDBACK_TWCC,   /* transport-wide congestion control */
  GST_NOOM_BWE_FEEDBACK_REMB,   /* the receiver's own estimate */
} GstNoomBweFeedback;

/* One receiver's bandwidth estimate, from its transport-wide congestion
 * control feedback (TWCC), or, from a receiver that has none, its own
 * estimate (REMB).  With TWCC a delay and loss controller: it backs off
 * when the packets' one-way delay grows (the link's queue fills) or when
 * more than 10 % are lost, and grows 8 % a second while neither happens.
 * With REMB the receiver runs that controller itself: the estimate is
 * what it says, within the limits. */
typedef struct
{
  GstNoomBweFeedback feedback;  /* the last report's */
  guint min_bitrate, max_bitrate;       /* bit/s */
  gdouble estimate;             /* bit/s */
  gint64 last_update;           /* µs, 0: none yet */
  gint64 hold_until;            /* µs: no growth before this */
  gboolean ramping;             /* no decrease yet: fast growth */
  guint overuse;                /* consecutive reports of a growing delay */
  gdouble loss;                 /* the last report's, 0..1 */
  gdouble received;             /* bit/s, the last report's */
} GstNoomBwe;

void gst_noom_bwe_init (GstNoomBwe * bwe, guint min_bitrate,
    guint start_bitrate, guint max_bitrate);

/* One TWCC report, as an RTP session's "twcc-stats" gives it. */
typedef struct
{
  guint sent, received;         /* bit/s, 0: unknown */
  gdouble loss_pct;             /* 0..100 */
  gint64 delay_trend;           /* ns, G_MININT64: unknown */
} GstNoomTwccReport;

/* Reads @rtpsession's "twcc-stats" into @r: FALSE for a report of nothing
 * (the first ones, or nothing sent), which says nothing of the link. */
gboolean gst_noom_twcc_report_get (GObject * rtpsession,
    GstNoomTwccReport * r);

/* A TWCC report at @now (µs): bitrates in bit/s (0: unknown), @loss_pct
 * 0..100, @delay_trend the average delta of the deltas of the packets'
 * send and arrival intervals in ns (G_MININT64: unknown).  Returns the new
 * estimate. */
guint gst_noom_bwe_update_twcc (GstNoomBwe * bwe, gint64 now,
    guint bitrate_sent, guint bitrate_received, gdouble loss_pct,
    gint64 delay_trend);

/* A REMB report at @now (µs): the receiver's estimate @bitrate (bit/s).
 * Returns the new estimate. */
guint gst_noom_bwe_update_remb (GstNoomBwe * bwe, gint64 now,
    guint64 bitrate);

/* The bitrate (bit/s) of the REMB feedback whose FCI (RTCP payload-specific
 * feedback of format 15, after the media source's SSRC) is @fci, @len
 * bytes: "REMB", the number of SSRCs, a 6-bit exponent and an 18-bit
 * mantissa, the SSRCs.  FALSE when it is no REMB or is too short. */
gboolean gst_noom_bwe_parse_remb (const guint8 * fci, gsize len,
    guint64 * bitrate);

const gchar *gst_noom_bwe_feedback_name (GstNoomBweFeedback feedback);

/* The highest temporal layer a receiver whose estimate is @estimate gets
 * from an encoder at @encoder_bitrate, with hysteresis around @current
 * (the layer it gets now).  A receiver still @ramping (GstNoomBwe) is
 * never moved down. */
guint gst_noom_bwe_choose_layer (guint estimate, guint encoder_bitrate,
    guint current, gboolean ramping);

/* The encoder's bitrate and its layer 0's, for receivers whose estimates
 * are @estimates (@n of them, 0: none yet), between @min and @max: the
 * whole stream for the best of them, layer 0 for the slowest. */
void gst_noom_bwe_plan (const guint * estimates, guint n, guint min,
    guint max, guint * encoder_bitrate, guint * base_bitrate);

/* Drops one receiver's VP8 packets above its temporal layer, and renumbers
 * what it keeps (sequence numbers and picture ids) so the receiver sees no
 * gap.  One per receiver, used on one streaming thread. */
typedef struct
{
  guint max_layer;              /* what goes through; set any time */
  guint16 seq_offset;           /* packets dropped so far */
  guint16 picture_offset;       /* frames dropped so far */
  gboolean dropping;            /* the current frame is dropped */
  gboolean frame_seen;
  guint64 frames_sent, frames_dropped;
} GstNoomLayerFilter;

/* A VP8 RTP payload descriptor (RFC 7741). */
typedef struct
{
  guint header;                 /* its length: the VP8 payload follows */
  gint tid;                     /* temporal layer, -1: none given */
  guint pic_at, pic_bits;       /* picture id: offset, 7 or 15 bits; 0: none */
} GstNoomVp8Descriptor;

/* FALSE when @p is too short for what it says it has. */
gboolean gst_noom_vp8_descriptor_parse (const guint8 * p, guint len,
    GstNoomVp8Descriptor * d);

void gst_noom_layer_filter_init (GstNoomLayerFilter * f);

/* TRUE: send @rtp (rewritten in place, mapped writable); FALSE: drop it.
 * Packets without a temporal layer id go through, renumbered. */
gboolean gst_noom_layer_filter_process (GstNoomLayerFilter * f,
    GstRTPBuffer * rtp);

/* What an RTP filter does with a packet (mapped writable): rewrites it in
 * place and keeps it (TRUE), or drops it (FALSE). */
typedef gboolean (*GstNoomRtpFilterFunc) (GstRTPBuffer * rtp, gpointer data);

/* In a BUFFER or BUFFER_LIST pad probe: @func on each RTP packet that
 * @info carries, made writable; a buffer that is not RTP goes through.
 * GST_PAD_PROBE_DROP when nothing is left, GST_PAD_PROBE_OK otherwise
 * (also for an @info that carries no buffer). */
GstPadProbeReturn gst_noom_rtp_filter_probe (GstPadProbeInfo * info,
    GstNoomRtpFilterFunc func, gpointer data);

G_END_DECLS
