/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Bandwidth adaptation for noomsink: the per-receiver estimate (a delay
 * and loss controller fed by TWCC feedback, or the receiver's own from
 * REMB feedback), the
 * encoder's plan for every receiver at once, and the per-receiver filter
 * that drops VP8's upper temporal layer.  Pure functions on plain structs:
 * the element wires them to webrtcbin (gstnoomsink.c).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "gstnoombwe.h"

/* A report whose delay trend is above this (ns) says the link's queue
 * fills: a link taking 20 % less than is sent adds about 2 ms per packet
 * at 1 Mbit/s.  Below it is the noise of a busy receiver's clock. */
#define OVERUSE_TREND (2 * GST_MSECOND)
/* Reports in a row (about 100 ms apart) that must say so before the
 * estimate falls. */
#define OVERUSE_REPORTS 3
/* ... and what arrived in them under this share of what was sent */
#define FILLING 0.97
#define HIGH_LOSS 0.10
#define LOW_LOSS 0.02
/* Growth per second, compounded per report (reports come often). */
#define GROWTH_PER_SECOND 0.08
/* ... and until the first decrease: from a start at a quarter of the
 * maximum, the maximum in about 1.5 s of reports 100 ms apart.  A link's
 * capacity is found by growing into it, not by the first key frame
 * overflowing it (what starting at the maximum does on a slow link). */
#define RAMP_GROWTH_PER_SECOND 1.0
/* ... but never past this many times what arrives: an encoder lags its
 * target, and an estimate that outruns what the link has carried is a
 * guess (GCC's rule). */
#define RAMP_MAX_OVER_RECEIVED 1.5
/* After a decrease, no growth for this long (µs). */
#define HOLD (1 * G_USEC_PER_SEC)

void
gst_noom_bwe_init (GstNoomBwe * bwe, guint min_bitrate, guint start_bitrate,
    guint max_bitrate)
{
  memset (bwe, 0, sizeof (*bwe));
  bwe->min_bitrate = min_bitrate;
  bwe->max_bitrate = MAX (max_bitrate, min_bitrate);
  bwe->estimate = CLAMP (start_bitrate, bwe->min_bitrate, bwe->max_bitrate);
  bwe->ramping = bwe->estimate < bwe->max_bitrate;
}

static guint
clamp_estimate (GstNoomBwe * bwe)
{
  bwe->estimate = CLAMP (bwe->estimate, bwe->min_bitrate, bwe->max_bitrate);
  return (guint) bwe->estimate;
}

/* Seconds since the last report, at most 1 (a silent stretch is not a
 * reason to jump). */
static gdouble
elapsed (GstNoomBwe * bwe, gint64 now)
{
  gdouble dt = 0;

  if (bwe->last_update > 0 && now > bwe->last_update)
    dt = MIN ((now - bwe->last_update) / (gdouble) G_USEC_PER_SEC, 1.0);
  bwe->last_update = now;
  return dt;
}

static void
decrease (GstNoomBwe * bwe, gint64 now, gdouble to)
{
  if (to >= bwe->estimate)
    return;
  bwe->estimate = to;
  bwe->hold_until = now + HOLD;
  bwe->ramping = FALSE;
}

static void
grow (GstNoomBwe * bwe, gint64 now, gdouble dt)
{
  gdouble next;

  if (now < bwe->hold_until)
    return;
  if (!bwe->ramping) {
    bwe->estimate *= 1.0 + GROWTH_PER_SECOND * dt;
    return;
  }
  next = bwe->estimate * (1.0 + RAMP_GROWTH_PER_SECOND * dt);
  if (bwe->received > 0)
    next = MIN (next, MAX (bwe->estimate,
            RAMP_MAX_OVER_RECEIVED * bwe->received));
  bwe->estimate = next;
  if (bwe->estimate >= bwe->max_bitrate)
    bwe->ramping = FALSE;
}

gboolean
gst_noom_twcc_report_get (GObject * rtpsession, GstNoomTwccReport * r)
{
  GstStructure *st = NULL;

  r->sent = r->received = 0;
  r->loss_pct = 0;
  r->delay_trend = G_MININT64;
  g_object_get (rtpsession, "twcc-stats", &st, NULL);
  if (!st)
    return FALSE;
  gst_structure_get_uint (st, "bitrate-sent", &r->sent);
  gst_structure_get_uint (st, "bitrate-recv", &r->received);
  gst_structure_get_double (st, "packet-loss-pct", &r->loss_pct);
  gst_structure_get_int64 (st, "avg-delta-of-delta", &r->delay_trend);
  gst_structure_free (st);
  return r->sent != 0 || r->received != 0;
}

guint
gst_noom_bwe_update_twcc (GstNoomBwe * bwe, gint64 now, guint bitrate_sent,
    guint bitrate_received, gdouble loss_pct, gint64 delay_trend)
{
  gdouble dt = elapsed (bwe, now);
  gdouble basis;

  bwe->feedback = GST_NOOM_BWE_FEEDBACK_TWCC;
  bwe->loss = CLAMP (loss_pct / 100.0, 0.0, 1.0);
  /* one report covers a short window: what arrives is smoothed */
  if (bitrate_received > 0)
    bwe->received = bwe->received > 0 ?
        0.7 * bwe->received + 0.3 * bitrate_received : bitrate_received;
  basis = bwe->received > 0 ? bwe->received : bwe->estimate;

  /* A queue that fills delivers less than was sent; a growing delay with
   * everything arriving is a busy receiver (its clock read late), not the
   * link. */
  if (delay_trend != G_MININT64 && delay_trend > OVERUSE_TREND &&
      bitrate_sent > 0 && bitrate_received < FILLING * bitrate_sent)
    bwe->overuse++;
  else
    bwe->overuse = 0;

  if (bwe->loss > HIGH_LOSS) {
    decrease (bwe, now, basis * (1.0 - 0.5 * bwe->loss));
  } else if (bwe->overuse >= OVERUSE_REPORTS) {
    decrease (bwe, now, 0.85 * basis);
    bwe->overuse = 0;
  } else if (bwe->loss < LOW_LOSS && bwe->overuse == 0) {
    grow (bwe, now, dt);
  }
  return clamp_estimate (bwe);
}

guint
gst_noom_bwe_update_remb (GstNoomBwe * bwe, gint64 now, guint64 bitrate)
{
  gdouble to = (gdouble) bitrate;

  bwe->feedback = GST_NOOM_BWE_FEEDBACK_REMB;
  bwe->last_update = now;
  /* The receiver ramps up by itself (its estimate follows what arrives);
   * a lower one than the last is its first sign of a limit, as a
   * decrease is for TWCC.  A few % down is the noise of its rate
   * measurement. */
  if (to < 0.95 * bwe->estimate)
    bwe->ramping = FALSE;
  bwe->estimate = to;
  if (bwe->estimate >= bwe->max_bitrate)
    bwe->ramping = FALSE;
  return clamp_estimate (bwe);
}

gboolean
gst_noom_bwe_parse_remb (const guint8 * fci, gsize len, guint64 * bitrate)
{
  guint exp, mantissa;

  if (len < 8 || memcmp (fci, "REMB", 4))
    return FALSE;
  /* fci[4]: the number of SSRCs that follow */
  if (len < 8 + 4 * (gsize) fci[4])
    return FALSE;
  exp = fci[5] >> 2;
  mantissa = ((fci[5] & 0x03) << 16) | (fci[6] << 8) | fci[7];
  /* 2^63 and more do not fit, nor make sense */
  if (exp > 45)
    return FALSE;
  *bitrate = (guint64) mantissa << exp;
  return TRUE;
}

const gchar *
gst_noom_bwe_feedback_name (GstNoomBweFeedback feedback)
{
  switch (feedback) {
    case GST_NOOM_BWE_FEEDBACK_TWCC:
      return "twcc";
    case GST_NOOM_BWE_FEEDBACK_REMB:
      return "remb";
    default:
      return "none";
  }
}

guint
gst_noom_bwe_choose_layer (guint estimate, guint encoder_bitrate,
    guint current, gboolean ramping)
{
  /* A receiver still on its start-up ramp has shown no limit yet: its
   * estimate is behind the fastest one's, not short of the stream.  Down a
   * layer, what arrives would no longer show what its link takes, and its
   * ramp (at most 1.5 times what arrives) would stall. */
  if (ramping)
    return current;
  /* The whole stream with 10 % to spare to go up, and down only once 15 %
   * short: an estimate at the encoder's own rate does not flap. */
  if (current >= 1)
    return estimate >= 0.85 * encoder_bitrate ? 1 : 0;
  return estimate >= encoder_bitrate ? 1 : 0;
}

void
gst_noom_bwe_plan (const guint * estimates, guint n, guint min, guint max,
    guint * encoder_bitrate, guint * base_bitrate)
{
  guint best = 0, slowest = G_MAXUINT, i, total;

  for (i = 0; i < n; i++) {
    best = MAX (best, estimates[i]);
    slowest = MIN (slowest, estimates[i]);
  }
  total = n ? CLAMP (best, min, max) : max;
  *encoder_bitrate = total;
  /* Balanced while everyone takes the whole stream; otherwise layer 0 is
   * sized for the slowest, with room for the packets' overhead, but never
   * starves the whole stream's reference frames. */
  if (!n || slowest >= 0.85 * total)
    *base_bitrate = total / 2;
  else
    *base_bitrate = CLAMP (0.9 * slowest, 0.15 * total, 0.6 * total);
}

/* ---- the VP8 temporal layer filter ---- */

void
gst_noom_layer_filter_init (GstNoomLayerFilter * f)
{
  memset (f, 0, sizeof (*f));
  f->max_layer = GST_NOOM_BWE_LAYERS - 1;
}

gboolean
gst_noom_vp8_descriptor_parse (const guint8 * p, guint len,
    GstNoomVp8Descriptor * d)
{
  guint i = 1;

  memset (d, 0, sizeof (*d));
  d->tid = -1;
  if (len < 1)
    return FALSE;
  if (p[0] & 0x80) {            /* X: extensions */
    guint8 x;

    if (len < 2)
      return FALSE;
    x = p[1];
    i = 2;
    if (x & 0x80) {             /* I: picture id */
      if (i >= len)
        return FALSE;
      d->pic_at = i;
      d->pic_bits = (p[i] & 0x80) ? 15 : 7;
      i += d->pic_bits == 15 ? 2 : 1;
    }
    if (x & 0x40)               /* L: TL0PICIDX */
      i++;
    if (x & 0x30) {             /* T or K: TID/Y/KEYIDX */
      if (i >= len)
        return FALSE;
      if (x & 0x20)
        d->tid = p[i] >> 6;
      i++;
    }
    if (i > len || (d->pic_bits == 15 && d->pic_at + 1 >= len))
      return FALSE;
  }
  d->header = i;
  return TRUE;
}

gboolean
gst_noom_layer_filter_process (GstNoomLayerFilter * f, GstRTPBuffer * rtp)
{
  guint8 *p = gst_rtp_buffer_get_payload (rtp);
  guint len = gst_rtp_buffer_get_payload_len (rtp);
  GstNoomVp8Descriptor d;
  guint i, pic_at, pic_bits;
  gint tid;
  gboolean start;

  if (!gst_noom_vp8_descriptor_parse (p, len, &d))
    goto keep;
  i = d.header;
  tid = d.tid;
  pic_at = d.pic_at;
  pic_bits = d.pic_bits;
  /* S and partition 0: the first packet of a frame; a key frame's first
   * payload byte has P (bit 0) clear. */
  start = (p[0] & 0x10) && (p[0] & 0x07) == 0;
  if (start) {
    gboolean key = i < len && !(p[i] & 0x01);

    f->frame_seen = TRUE;
    f->dropping = !key && tid > (gint) f->max_layer;
    if (f->dropping) {
      f->frames_dropped++;
      f->picture_offset++;
    } else {
      f->frames_sent++;
    }
  } else if (!f->frame_seen) {
    f->dropping = FALSE;
  }
  if (f->dropping) {
    f->seq_offset++;
    return FALSE;
  }

  if (pic_at && f->picture_offset) {
    if (pic_bits == 15) {
      guint pid = ((p[pic_at] & 0x7f) << 8) | p[pic_at + 1];

      pid = (pid - f->picture_offset) & 0x7fff;
      p[pic_at] = 0x80 | (pid >> 8);
      p[pic_at + 1] = pid & 0xff;
    } else {
      p[pic_at] = (p[pic_at] - f->picture_offset) & 0x7f;
    }
  }
keep:
  if (f->seq_offset)
    gst_rtp_buffer_set_seq (rtp, gst_rtp_buffer_get_seq (rtp) - f->seq_offset);
  return TRUE;
}

/* ---- RTP filters in pad probes ---- */

typedef struct
{
  GstNoomRtpFilterFunc func;
  gpointer data;
} RtpFilter;

static gboolean
rtp_filter_buffer (const RtpFilter * f, GstBuffer ** buffer)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gboolean keep;

  *buffer = gst_buffer_make_writable (*buffer);
  if (!gst_rtp_buffer_map (*buffer, GST_MAP_READWRITE, &rtp))
    return TRUE;
  keep = f->func (&rtp, f->data);
  gst_rtp_buffer_unmap (&rtp);
  return keep;
}

static gboolean
rtp_filter_list_item (GstBuffer ** buffer, guint idx, gpointer data)
{
  if (!rtp_filter_buffer (data, buffer))
    gst_clear_buffer (buffer);
  return TRUE;
}

GstPadProbeReturn
gst_noom_rtp_filter_probe (GstPadProbeInfo * info, GstNoomRtpFilterFunc func,
    gpointer data)
{
  RtpFilter f = { func, data };

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    gboolean keep = rtp_filter_buffer (&f, &buf);

    GST_PAD_PROBE_INFO_DATA (info) = buf;
    if (!keep)
      return GST_PAD_PROBE_DROP;
  } else if (info->type & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList *list =
        gst_buffer_list_make_writable (GST_PAD_PROBE_INFO_BUFFER_LIST (info));

    gst_buffer_list_foreach (list, rtp_filter_list_item, &f);
    GST_PAD_PROBE_INFO_DATA (info) = list;
    if (gst_buffer_list_length (list) == 0)
      return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}
