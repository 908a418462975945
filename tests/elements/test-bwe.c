/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noomsink's bandwidth adaptation without a network (gst/gstnoombwe.c):
 * how an estimate answers delay, loss and calm, how the encoder's plan
 * serves a fast and a slow receiver, and how a receiver's VP8 packets
 * lose their upper temporal layer without a gap in what it gets.  The
 * same code under a shaped link: tests/elements/bandwidth.test.mjs.
 */
#include <gst/check/gstcheck.h>
#include <gst/rtp/rtp.h>

#include "../../gst/gstnoombwe.h"

#define MS (G_USEC_PER_SEC / 1000)

/* Reports every 100 ms for @seconds, as a link that takes @capacity:
 * while the estimate is above it, the queue grows (delay trend) and,
 * above 1.3 times, packets are lost. */
static void
drive (GstNoomBwe * bwe, gint64 * now, gdouble seconds, guint capacity)
{
  gint64 end = *now + seconds * G_USEC_PER_SEC;

  for (; *now < end; *now += 100 * MS) {
    guint sent = (guint) bwe->estimate;
    guint received = MIN (sent, capacity);
    gdouble loss = sent > 1.3 * capacity ?
        100.0 * (sent - capacity) / sent : 0;
    gint64 trend = sent > capacity ? 5 * GST_MSECOND : -GST_MSECOND / 10;

    gst_noom_bwe_update_twcc (bwe, *now, sent, received, loss, trend);
  }
}

GST_START_TEST (test_estimate_follows_a_cap)
{
  GstNoomBwe bwe;
  gint64 now = G_USEC_PER_SEC;

  gst_noom_bwe_init (&bwe, 100000, 1000000, 1000000);
  fail_unless_equals_int ((guint) bwe.estimate, 1000000);

  /* under a 500 kbit/s cap: down to it within 5 s (within the 3 % that
   * delivers less than is sent, 5 %), and it stays near it */
  drive (&bwe, &now, 5, 500000);
  fail_unless (bwe.estimate <= 525000, "estimate %.0f after 5 s",
      bwe.estimate);
  drive (&bwe, &now, 30, 500000);
  fail_unless (bwe.estimate >= 300000 && bwe.estimate <= 560000,
      "estimate %.0f after 35 s under 500 kbit/s", bwe.estimate);

  /* the cap lifted: back to 90 % of the maximum within 20 s */
  drive (&bwe, &now, 20, 100000000);
  fail_unless (bwe.estimate >= 900000, "estimate %.0f 20 s after the cap",
      bwe.estimate);
  fail_unless (bwe.estimate <= 1000000);
}

GST_END_TEST;

/* Like drive(), but what the link holds above @capacity is counted: the
 * most it held (bits), as a 40-packet queue of 1200 bytes holds 384 kbit. */
static gdouble
drive_queue (GstNoomBwe * bwe, gint64 * now, gdouble seconds, guint capacity)
{
  gint64 end = *now + seconds * G_USEC_PER_SEC;
  gdouble queued = 0, most = 0;

  for (; *now < end; *now += 100 * MS) {
    guint sent = (guint) bwe->estimate;

    queued = MAX (0, queued + 0.1 * ((gdouble) sent - capacity));
    most = MAX (most, queued);
    gst_noom_bwe_update_twcc (bwe, *now, sent, MIN (sent, capacity), 0,
        queued > 0 ? 5 * GST_MSECOND : -GST_MSECOND / 10);
  }
  return most;
}

GST_START_TEST (test_estimate_ramps_up)
{
  GstNoomBwe bwe;
  gint64 now = G_USEC_PER_SEC;
  gdouble ramp, most;

  /* a free link: from a quarter of the maximum to 90 % of it within 2 s */
  gst_noom_bwe_init (&bwe, 100000, 250000, 1000000);
  fail_unless (bwe.ramping);
  drive (&bwe, &now, 2, 100000000);
  fail_unless (bwe.estimate >= 900000, "estimate %.0f after 2 s",
      bwe.estimate);
  fail_unless (!bwe.ramping);

  /* a 500 kbit/s link: found within 3 s, holding a fraction of a 40-packet
   * queue, and then the ramp is over (the usual 8 % a second) */
  gst_noom_bwe_init (&bwe, 100000, 250000, 1000000);
  now += 10 * G_USEC_PER_SEC;
  ramp = drive_queue (&bwe, &now, 3, 500000);
  fail_unless (ramp < 384000 / 4, "the link held %.0f bits", ramp);
  fail_unless (!bwe.ramping);
  fail_unless (bwe.estimate <= 525000, "estimate %.0f after 3 s",
      bwe.estimate);
  most = drive_queue (&bwe, &now, 30, 500000);
  fail_unless (most < 384000 / 4, "the link held %.0f bits", most);
  fail_unless (bwe.estimate >= 300000, "estimate %.0f", bwe.estimate);

  /* an encoder that lags its target (300 kbit/s whatever it is asked):
   * the ramp does not run ahead of what arrives by more than half */
  gst_noom_bwe_init (&bwe, 100000, 250000, 1000000);
  for (; bwe.ramping && now < 100 * G_USEC_PER_SEC; now += 100 * MS) {
    gst_noom_bwe_update_twcc (&bwe, now, 300000, 300000, 0,
        -GST_MSECOND / 10);
    fail_unless (bwe.estimate <= 450000, "estimate %.0f with 300 kbit/s "
        "arriving", bwe.estimate);
  }
  fail_unless (bwe.ramping);
  fail_unless (bwe.estimate >= 440000, "estimate %.0f", bwe.estimate);

  /* starting at the maximum instead, the same link holds more than twice
   * as much (and the first key frame, not counted here, comes on top) */
  gst_noom_bwe_init (&bwe, 100000, 1000000, 1000000);
  fail_unless (!bwe.ramping);
  most = drive_queue (&bwe, &now, 3, 500000);
  fail_unless (most > 2 * ramp, "from the maximum %.0f, ramping %.0f", most,
      ramp);
}

GST_END_TEST;

GST_START_TEST (test_estimate_loss_and_limits)
{
  GstNoomBwe bwe;
  gint64 now = G_USEC_PER_SEC;
  guint e;

  gst_noom_bwe_init (&bwe, 100000, 800000, 1000000);
  /* 40 % lost: down to what arrives, less half the loss */
  e = gst_noom_bwe_update_twcc (&bwe, now, 800000, 480000, 40.0, 0);
  fail_unless_equals_int (e, (guint) (480000 * 0.8));
  /* no growth for a second after a decrease */
  now += 500 * MS;
  fail_unless_equals_int (gst_noom_bwe_update_twcc (&bwe, now, 384000,
          384000, 0, 0), e);
  /* never below the minimum */
  for (; now < 10 * G_USEC_PER_SEC; now += 100 * MS)
    gst_noom_bwe_update_twcc (&bwe, now, 20000, 10000, 60.0, 0);
  fail_unless_equals_int ((guint) bwe.estimate, 100000);
  /* a growing delay with everything arriving (a busy receiver's clock):
   * not the link, no decrease */
  gst_noom_bwe_init (&bwe, 100000, 800000, 1000000);
  for (e = 0; e < 10; e++, now += 100 * MS)
    gst_noom_bwe_update_twcc (&bwe, now, 800000, 800000, 0, 5 * GST_MSECOND);
  fail_unless (bwe.estimate >= 800000, "estimate %.0f", bwe.estimate);
  /* the same with less arriving than sent: the link's queue fills */
  for (e = 0; e < 10; e++, now += 100 * MS)
    gst_noom_bwe_update_twcc (&bwe, now, 800000, 600000, 0, 5 * GST_MSECOND);
  fail_unless (bwe.estimate < 600000, "estimate %.0f", bwe.estimate);
  bwe.estimate = 100000;
  /* unknown delay trend and nothing lost: calm, it grows */
  now += 2 * G_USEC_PER_SEC;
  gst_noom_bwe_update_twcc (&bwe, now, 100000, 100000, 0, G_MININT64);
  now += 500 * MS;
  fail_unless (gst_noom_bwe_update_twcc (&bwe, now, 100000, 100000, 0,
          G_MININT64) > 100000);
}

GST_END_TEST;

GST_START_TEST (test_plan_and_layers)
{
  guint est[2], total, base;

  /* nobody yet: the maximum, half of it in layer 0 */
  gst_noom_bwe_plan (NULL, 0, 100000, 1000000, &total, &base);
  fail_unless_equals_int (total, 1000000);
  fail_unless_equals_int (base, 500000);

  /* a free and a slow receiver: the whole for the free one, layer 0 for
   * the slow one */
  est[0] = 1000000;
  est[1] = 300000;
  gst_noom_bwe_plan (est, 2, 100000, 1000000, &total, &base);
  fail_unless_equals_int (total, 1000000);
  fail_unless_equals_int (base, 270000);
  fail_unless_equals_int (gst_noom_bwe_choose_layer (est[0], total, 1, FALSE),
      1);
  fail_unless_equals_int (gst_noom_bwe_choose_layer (est[1], total, 1, FALSE),
      0);

  /* a very slow one does not starve the reference frames */
  est[1] = 50000;
  gst_noom_bwe_plan (est, 2, 100000, 1000000, &total, &base);
  fail_unless_equals_int (base, 150000);

  /* one receiver: it sets the whole stream, bounded */
  est[0] = 2000000;
  gst_noom_bwe_plan (est, 1, 100000, 1000000, &total, &base);
  fail_unless_equals_int (total, 1000000);

  /* hysteresis: up at the encoder's rate, down only 15 % below it */
  fail_unless_equals_int (gst_noom_bwe_choose_layer (950000, 1000000, 0, FALSE),
      0);
  fail_unless_equals_int (gst_noom_bwe_choose_layer (950000, 1000000, 1, FALSE),
      1);
  fail_unless_equals_int (gst_noom_bwe_choose_layer (800000, 1000000, 1, FALSE),
      0);
  /* ... but a receiver on its start-up ramp is not moved down */
  fail_unless_equals_int (gst_noom_bwe_choose_layer (800000, 1000000, 1, TRUE),
      1);
  fail_unless_equals_int (gst_noom_bwe_choose_layer (800000, 1000000, 0, TRUE),
      0);
}

GST_END_TEST;

/* Two receivers start together, a fast and one behind 300 kbit/s, as
 * noomsink runs them: the encoder at the best estimate, layer 0 half of
 * it, each receiver getting what its layer carries (at most its link). */
static void
drive_two (GstNoomBwe * bwe, guint * layer, gint64 * now, gdouble seconds,
    gboolean ramp_keeps_layer)
{
  gint64 end = *now + seconds * G_USEC_PER_SEC;
  guint caps[2] = { 100000000, 300000 };
  gint64 no_up_until[2] = { 0, 0 };

  for (; *now < end; *now += 100 * MS) {
    guint total = MAX ((guint) bwe[0].estimate, (guint) bwe[1].estimate);
    guint i;

    for (i = 0; i < 2; i++) {
      guint sent = layer[i] ? total : total / 2;
      guint next;

      gst_noom_bwe_update_twcc (&bwe[i], *now, sent, MIN (sent, caps[i]), 0,
          sent > caps[i] ? 5 * GST_MSECOND : -GST_MSECOND / 10);
      next = gst_noom_bwe_choose_layer ((guint) bwe[i].estimate, total,
          layer[i], ramp_keeps_layer && bwe[i].ramping);
      /* noomsink: back up not sooner than 8 s after going down */
      if (next > layer[i] && *now < no_up_until[i])
        next = layer[i];
      if (next < layer[i])
        no_up_until[i] = *now + 8 * G_USEC_PER_SEC;
      layer[i] = next;
    }
  }
}

GST_START_TEST (test_ramping_receiver_keeps_its_layer)
{
  GstNoomBwe bwe[2];
  guint layer[2] = { 1, 1 };
  gint64 now = G_USEC_PER_SEC;

  gst_noom_bwe_init (&bwe[0], 100000, 250000, 1000000);
  gst_noom_bwe_init (&bwe[1], 100000, 250000, 1000000);
  /* the slow one's ramp briefly ahead of the fast one's */
  bwe[1].estimate = 400000;
  drive_two (bwe, layer, &now, 5, TRUE);
  fail_unless (bwe[0].estimate >= 900000, "fast one at %.0f after 5 s",
      bwe[0].estimate);
  fail_unless_equals_int (layer[0], 1);
  fail_unless_equals_int (layer[1], 0);

  /* moved down while ramping, the fast one gets layer 0 alone, and what
   * arrives holds its ramp back */
  gst_noom_bwe_init (&bwe[0], 100000, 250000, 1000000);
  gst_noom_bwe_init (&bwe[1], 100000, 250000, 1000000);
  bwe[1].estimate = 400000;
  layer[0] = layer[1] = 1;
  drive_two (bwe, layer, &now, 5, FALSE);
  fail_unless (bwe[0].estimate < 900000 && layer[0] == 0,
      "fast one at %.0f, layer %u", bwe[0].estimate, layer[0]);
}

GST_END_TEST;

/* A VP8 RTP packet: 15-bit picture id, TL0PICIDX, TID. */
static GstBuffer *
vp8_packet (guint16 seq, guint picture_id, guint tid, gboolean start,
    gboolean key)
{
  GstBuffer *buf = gst_rtp_buffer_new_allocate (10, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint8 *p;

  gst_rtp_buffer_map (buf, GST_MAP_WRITE, &rtp);
  gst_rtp_buffer_set_seq (&rtp, seq);
  p = gst_rtp_buffer_get_payload (&rtp);
  p[0] = 0x80 | (start ? 0x10 : 0);     /* X, S, partition 0 */
  p[1] = 0x80 | 0x40 | 0x20;    /* I, L, T */
  p[2] = 0x80 | ((picture_id >> 8) & 0x7f);
  p[3] = picture_id & 0xff;
  p[4] = 7;                     /* TL0PICIDX */
  p[5] = (tid << 6) | 0x20;     /* TID, Y */
  p[6] = key ? 0x00 : 0x01;     /* the VP8 frame: P clear on a key frame */
  gst_rtp_buffer_unmap (&rtp);
  return buf;
}

/* Runs @buf through @f: -1 when dropped, else its new seq, and its
 * picture id in @pid. */
static gint
run (GstNoomLayerFilter * f, GstBuffer * buf, guint * pid)
{
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  gint ret = -1;
  guint8 *p;

  gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp);
  if (gst_noom_layer_filter_process (f, &rtp)) {
    ret = gst_rtp_buffer_get_seq (&rtp);
    p = gst_rtp_buffer_get_payload (&rtp);
    *pid = ((p[2] & 0x7f) << 8) | p[3];
  }
  gst_rtp_buffer_unmap (&rtp);
  gst_buffer_unref (buf);
  return ret;
}

GST_START_TEST (test_layer_filter)
{
  GstNoomLayerFilter f;
  guint pid = 0, frame, expect_seq = 65530, expect_pid = 32766;
  guint16 seq = 65530;          /* both wrap on the way */

  gst_noom_layer_filter_init (&f);
  fail_unless_equals_int (f.max_layer, GST_NOOM_BWE_LAYERS - 1);
  f.max_layer = 0;
  /* frames of two packets each, layers 0 1 0 1 ..., a key frame on a
   * layer 1 place at frame 5 */
  for (frame = 0; frame < 10; frame++) {
    guint tid = frame % 2, k;
    gboolean key = frame == 5;

    for (k = 0; k < 2; k++) {
      gint out = run (&f, vp8_packet (seq++, (32766 + frame) & 0x7fff, tid,
              k == 0, key), &pid);

      if (tid == 1 && !key) {
        fail_unless_equals_int (out, -1);
        continue;
      }
      fail_unless_equals_int (out, (guint16) expect_seq);
      fail_unless_equals_int (pid, expect_pid & 0x7fff);
      expect_seq++;
    }
    if (tid == 0 || key)
      expect_pid++;
  }
  fail_unless_equals_int (f.frames_dropped, 4);
  fail_unless_equals_int (f.frames_sent, 6);

  /* up again at any frame: everything goes, renumbered the same way */
  f.max_layer = 1;
  fail_unless_equals_int (run (&f, vp8_packet (seq++, 32776 & 0x7fff, 1,
              TRUE, FALSE), &pid), (guint16) expect_seq);
  fail_unless_equals_int (pid, expect_pid & 0x7fff);

  /* a packet that is not VP8 as we write it goes through, renumbered */
  {
    GstBuffer *buf = gst_rtp_buffer_new_allocate (0, 0, 0);
    GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;

    gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp);
    gst_rtp_buffer_set_seq (&rtp, seq);
    fail_unless (gst_noom_layer_filter_process (&f, &rtp));
    fail_unless_equals_int (gst_rtp_buffer_get_seq (&rtp),
        (guint16) (expect_seq + 1));
    gst_rtp_buffer_unmap (&rtp);
    gst_buffer_unref (buf);
  }
}

GST_END_TEST;

static Suite *
bwe_suite (void)
{
  Suite *s = suite_create ("noom-bwe");
  TCase *tc = tcase_create ("general");

  suite_add_tcase (s, tc);
  tcase_add_test (tc, test_estimate_follows_a_cap);
  tcase_add_test (tc, test_estimate_ramps_up);
  tcase_add_test (tc, test_estimate_loss_and_limits);
  tcase_add_test (tc, test_plan_and_layers);
  tcase_add_test (tc, test_ramping_receiver_keeps_its_layer);
  tcase_add_test (tc, test_layer_filter);
  return s;
}

GST_CHECK_MAIN (bwe);
