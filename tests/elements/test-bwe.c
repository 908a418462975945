/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noomsink's bandwidth adaptation without a network (gst/gstnoombwe.c):
 * how an estimate answers delay, loss and calm, how the encoder's plan
 * serves a fast and a slow receiver, and how a receiver's VP8 packets
 * lose their upper temporal layer without a gap in what it gets; REMB
 * feedback read and followed, and the abs-send-time header extension
 * that has a receiver send it.  The same code under a shaped link:
 * tests/elements/bandwidth.test.mjs (TWCC) and aiortc-interop.py
 * noomsink-remb (REMB).
 */
#include <gst/check/gstcheck.h>
#include <gst/rtp/rtp.h>

#include "../../gst/gstnoombwe.h"
#include "../../gst/gstnoomabssendtime.h"
#include "../../gst/gstnoomcodec.h"
#include "../../gst/gstnoomelements.h"

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

/* A REMB FCI as aiortc packs it (rtp.py pack_remb_fci): the mantissa
 * shifted right until it fits 18 bits. */
static gsize
remb_fci (guint8 * fci, guint64 bitrate, guint n_ssrcs)
{
  guint exp = 0, i;

  while (bitrate > 0x3ffff) {
    bitrate >>= 1;
    exp++;
  }
  memcpy (fci, "REMB", 4);
  fci[4] = n_ssrcs;
  fci[5] = (exp << 2) | (bitrate >> 16);
  fci[6] = (bitrate >> 8) & 0xff;
  fci[7] = bitrate & 0xff;
  for (i = 0; i < n_ssrcs; i++)
    GST_WRITE_UINT32_BE (fci + 8 + 4 * i, 0x1234 + i);
  return 8 + 4 * n_ssrcs;
}

GST_START_TEST (test_remb_parse)
{
  guint8 fci[16];
  guint64 bitrate = 0;
  gsize len;

  len = remb_fci (fci, 1234567, 1);
  fail_unless (gst_noom_bwe_parse_remb (fci, len, &bitrate));
  /* 1234567 >> 3 << 3: the low bits are lost */
  fail_unless_equals_uint64 (bitrate, 1234560);

  len = remb_fci (fci, 200000, 2);
  fail_unless (gst_noom_bwe_parse_remb (fci, len, &bitrate));
  fail_unless_equals_uint64 (bitrate, 200000);

  /* exponent 0, mantissa 0x3ffff */
  len = remb_fci (fci, 0x3ffff, 0);
  fail_unless (gst_noom_bwe_parse_remb (fci, len, &bitrate));
  fail_unless_equals_uint64 (bitrate, 0x3ffff);

  /* too short for the SSRCs it counts, or not REMB */
  len = remb_fci (fci, 200000, 2);
  fail_if (gst_noom_bwe_parse_remb (fci, len - 1, &bitrate));
  fail_if (gst_noom_bwe_parse_remb (fci, 7, &bitrate));
  fci[0] = 'X';
  fail_if (gst_noom_bwe_parse_remb (fci, len, &bitrate));
}

GST_END_TEST;

GST_START_TEST (test_remb_update)
{
  GstNoomBwe bwe;
  gint64 now = G_USEC_PER_SEC;

  gst_noom_bwe_init (&bwe, 100000, 250000, 1000000);
  fail_unless_equals_int (bwe.feedback, GST_NOOM_BWE_FEEDBACK_NONE);
  fail_unless_equals_string (gst_noom_bwe_feedback_name (bwe.feedback),
      "none");
  fail_unless (bwe.ramping);

  /* the receiver's estimate is ours, and it ramps up by itself */
  fail_unless_equals_int (gst_noom_bwe_update_remb (&bwe, now, 400000),
      400000);
  fail_unless_equals_int (bwe.feedback, GST_NOOM_BWE_FEEDBACK_REMB);
  fail_unless_equals_string (gst_noom_bwe_feedback_name (bwe.feedback),
      "remb");
  fail_unless_equals_int64 (bwe.last_update, now);
  fail_unless (bwe.ramping);
  now += 500 * MS;
  fail_unless_equals_int (gst_noom_bwe_update_remb (&bwe, now, 600000),
      600000);
  fail_unless (bwe.ramping);
  /* noise in its rate measurement is no limit */
  fail_unless_equals_int (gst_noom_bwe_update_remb (&bwe, now, 590000),
      590000);
  fail_unless (bwe.ramping);

  /* down: the first limit it found, the ramp is over */
  now += 500 * MS;
  fail_unless_equals_int (gst_noom_bwe_update_remb (&bwe, now, 300000),
      300000);
  fail_unless (!bwe.ramping);

  /* within the limits */
  fail_unless_equals_int (gst_noom_bwe_update_remb (&bwe, now, 20000), 100000);
  fail_unless_equals_int (gst_noom_bwe_update_remb (&bwe, now,
          G_GUINT64_CONSTANT (30000000000)), 1000000);

  /* the estimate goes where the plan reads it */
  {
    guint estimates[] = { (guint) bwe.estimate }, total, base;

    gst_noom_bwe_plan (estimates, 1, 100000, 1000000, &total, &base);
    fail_unless_equals_int (total, 1000000);
  }

  /* a TWCC report says where it comes from too */
  gst_noom_bwe_update_twcc (&bwe, now, 500000, 500000, 0, 0);
  fail_unless_equals_string (gst_noom_bwe_feedback_name (bwe.feedback),
      "twcc");
}

GST_END_TEST;

/* noomrtphdrextabssendtime: found by its URI, and writes the time it is
 * written in seconds, 6.18 fixed point. */
GST_START_TEST (test_abs_send_time_extension)
{
  GstRTPHeaderExtension *ext;
  GstBuffer *buf = gst_rtp_buffer_new_allocate (0, 0, 0);
  GstRTPBuffer rtp = GST_RTP_BUFFER_INIT;
  guint8 data[3];
  gpointer read;
  guint size;
  gint64 before, after;
  guint32 t, lo, hi;

  fail_unless (GST_ELEMENT_REGISTER (noomrtphdrextabssendtime, NULL));
  ext = gst_rtp_header_extension_create_from_uri
      (GST_NOOM_CODEC_ABS_SEND_TIME_URI);
  fail_unless (ext != NULL);
  fail_unless (GST_IS_NOOM_ABS_SEND_TIME (ext));
  gst_rtp_header_extension_set_id (ext, GST_NOOM_CODEC_ABS_SEND_TIME_ID);
  fail_unless_equals_int (gst_rtp_header_extension_get_max_size (ext, buf), 3);
  fail_unless (gst_rtp_header_extension_get_supported_flags (ext) &
      GST_RTP_HEADER_EXTENSION_ONE_BYTE);

  before = g_get_monotonic_time ();
  fail_unless_equals_int (gst_rtp_header_extension_write (ext, buf,
          GST_RTP_HEADER_EXTENSION_ONE_BYTE, buf, data, sizeof (data)), 3);
  after = g_get_monotonic_time ();
  t = GST_READ_UINT24_BE (data);
  lo = ((guint64) before << 18) / G_USEC_PER_SEC & 0xffffff;
  hi = ((guint64) after << 18) / G_USEC_PER_SEC & 0xffffff;
  /* between the two, modulo the 64 s wrap */
  fail_unless (((t - lo) & 0xffffff) <= ((hi - lo) & 0xffffff),
      "%06x not in [%06x, %06x]", t, lo, hi);

  /* in a packet, as noomsink puts it there, and read back */
  fail_unless (gst_rtp_buffer_map (buf, GST_MAP_READWRITE, &rtp));
  fail_unless (gst_rtp_buffer_add_extension_onebyte_header (&rtp,
          GST_NOOM_CODEC_ABS_SEND_TIME_ID, data, sizeof (data)));
  fail_unless (gst_rtp_buffer_get_extension_onebyte_header (&rtp,
          GST_NOOM_CODEC_ABS_SEND_TIME_ID, 0, &read, &size));
  fail_unless_equals_int (size, 3);
  fail_unless (gst_rtp_header_extension_read (ext,
          GST_RTP_HEADER_EXTENSION_ONE_BYTE, read, size, buf));
  fail_unless_equals_int (GST_READ_UINT24_BE (read), t);
  gst_rtp_buffer_unmap (&rtp);

  gst_buffer_unref (buf);
  gst_object_unref (ext);
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
  tcase_add_test (tc, test_remb_parse);
  tcase_add_test (tc, test_remb_update);
  tcase_add_test (tc, test_abs_send_time_extension);
  return s;
}

GST_CHECK_MAIN (bwe);
