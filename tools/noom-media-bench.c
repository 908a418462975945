/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-media-bench: media benchmarks of noomsink and noomsrc on one machine.
 *
 *   first-frame  time from starting a noomsrc to its first decoded frame,
 *                while a noomsink publishes 640x480 at 30 fps into the room
 *   latency      glass-to-glass latency noomsink -> noomsrc: the sender
 *                draws CLOCK_MONOTONIC into each picture as a bar code
 *                before encoding and the receiver reads it back after
 *                decoding, so nothing depends on the elements' own stats
 *   fanout N     CPU used by one noomsink (this process) while N noomsrc
 *                receivers (a child process, decode=false) take its
 *                stream, and the bytes it sends; against noom-server
 *                --sfu, --relay-pid also gives the relay's CPU (the
 *                forwarding cost), and the receivers' own CPU is shown
 *                apart
 *   room-load N P  N noomsrc receivers (decode=false, one process) in a
 *                room where this process also publishes with a noomsink
 *                and P publishers are expected in all (the others join on
 *                their own, e.g. browsers: bench/sfu-room.mjs); once every
 *                receiver gets every publisher's video, it counts frames
 *                for --seconds and reports frame rates and the longest gap
 *                of each receiver's every track
 *   bandwidth    noomsink's congestion control: a publisher and
 *                --receivers noomsrc in this process, the first behind a
 *                --cap kbit/s link shaped with tc (root, in a network
 *                namespace of its own), lifted after --lift seconds; one
 *                JSON line a second (sent and received kbit/s, frames),
 *                then a summary (time to get under the cap, frame rate,
 *                loss on the capped link (its queue's drops), freezes over
 *                200 ms, recovery)
 *
 * Prints one JSON object per run on stdout.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/video/video.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <stdio.h>
#include <unistd.h>

#define WIDTH 640
#define HEIGHT 480
/* the bar code: BITS blocks of BLOCK x BLOCK luma pixels in the top rows */
#define BITS 40
#define BLOCK 16

static gchar *opt_server = NULL;
static gint opt_runs = 10;
static gdouble opt_seconds = 10;
static gboolean opt_no_sync = FALSE;
static gint opt_relay_pid = 0;
static gint opt_pause_ms = 0;
static gchar *opt_room = NULL;

/* CPU seconds of another process, from /proc (-1 when it is gone) */
static gdouble
proc_cpu_seconds (gint pid)
{
  g_autofree gchar *path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree gchar *text = NULL;
  const gchar *p;
  unsigned long utime, stime;

  if (pid <= 0 || !g_file_get_contents (path, &text, NULL, NULL))
    return -1;
  /* after "(comm)": state is field 3, utime 14 and stime 15 */
  p = strrchr (text, ')');
  if (!p || sscanf (p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
          "%lu %lu", &utime, &stime) != 2)
    return -1;
  return (utime + stime) / (gdouble) sysconf (_SC_CLK_TCK);
}

static gint64
mono_us (void)
{
  return g_get_monotonic_time ();
}

static gdouble
cpu_seconds (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------ bar code */

static GstPadProbeReturn
stamp_probe (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstVideoInfo *vinfo = user_data;
  GstVideoFrame frame;
  guint64 t = (guint64) mono_us ();
  gint bit, y;

  buf = gst_buffer_make_writable (buf);
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  if (!gst_video_frame_map (&frame, vinfo, buf, GST_MAP_WRITE))
    return GST_PAD_PROBE_OK;
  for (y = 0; y < BLOCK * 2; y++) {
    guint8 *row = (guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);
    for (bit = 0; bit < BITS; bit++) {
      /* two rows of 20 blocks */
      gint col = bit % (BITS / 2), line = bit / (BITS / 2);
      if (y / BLOCK != line)
        continue;
      memset (row + col * BLOCK, (t >> bit) & 1 ? 235 : 16, BLOCK);
    }
  }
  gst_video_frame_unmap (&frame);
  return GST_PAD_PROBE_OK;
}

static gboolean
read_stamp (GstBuffer * buf, GstVideoInfo * vinfo, guint64 * t)
{
  GstVideoFrame frame;
  gint bit;

  if (!gst_video_frame_map (&frame, vinfo, buf, GST_MAP_READ))
    return FALSE;
  *t = 0;
  for (bit = 0; bit < BITS; bit++) {
    gint col = bit % (BITS / 2), line = bit / (BITS / 2);
    /* sample the middle of the block */
    gint y = line * BLOCK + BLOCK / 2, x = col * BLOCK + BLOCK / 2;
    guint8 v = *((guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame, 0) +
        y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0) + x);
    if (v > 125)
      *t |= (guint64) 1 << bit;
  }
  gst_video_frame_unmap (&frame);
  return TRUE;
}

/* ------------------------------------------------------------ publisher */

typedef struct {
  GstElement *pipeline;
  GstVideoInfo vinfo;
  GMutex lock;
  GCond cond;
  gboolean joined;
} Publisher;

static GstBusSyncReply
pub_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Publisher *p = user_data;
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ELEMENT &&
      gst_message_has_name (msg, "noom-joined")) {
    g_mutex_lock (&p->lock);
    p->joined = TRUE;
    g_cond_broadcast (&p->cond);
    g_mutex_unlock (&p->lock);
  } else if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    gst_message_parse_error (msg, &err, NULL);
    g_printerr ("noom-media-bench: publisher: %s\n", err->message);
    exit (1);
  }
  return GST_BUS_DROP;
}

static Publisher *
publisher_start (const gchar * room, gboolean stamp)
{
  Publisher *p = g_new0 (Publisher, 1);
  g_autoptr (GError) error = NULL;
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc is-live=true "
      "pattern=%s ! video/x-raw,format=I420,width=%d,height=%d,"
      "framerate=30/1 ! identity name=stamp ! noomsink name=sink "
      "server=%s room=%s nickname=publisher max-peers=64", stamp ? "black" : "smpte",
      WIDTH, HEIGHT, opt_server, room);
  GstElement *id;
  GstBus *bus;

  g_mutex_init (&p->lock);
  g_cond_init (&p->cond);
  gst_video_info_set_format (&p->vinfo, GST_VIDEO_FORMAT_I420, WIDTH, HEIGHT);
  p->pipeline = gst_parse_launch (desc, &error);
  if (!p->pipeline) {
    g_printerr ("noom-media-bench: %s\n", error->message);
    exit (1);
  }
  if (stamp) {
    GstPad *pad;
    id = gst_bin_get_by_name (GST_BIN (p->pipeline), "stamp");
    pad = gst_element_get_static_pad (id, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_probe,
        &p->vinfo, NULL);
    gst_object_unref (pad);
    gst_object_unref (id);
  }
  bus = gst_element_get_bus (p->pipeline);
  gst_bus_set_sync_handler (bus, pub_bus, p, NULL);
  gst_object_unref (bus);
  gst_element_set_state (p->pipeline, GST_STATE_PLAYING);

  g_mutex_lock (&p->lock);
  while (!p->joined) {
    if (!g_cond_wait_until (&p->cond, &p->lock,
            g_get_monotonic_time () + 15 * G_TIME_SPAN_SECOND)) {
      g_printerr ("noom-media-bench: the publisher did not join\n");
      exit (1);
    }
  }
  g_mutex_unlock (&p->lock);
  return p;
}

static void
publisher_stop (Publisher * p)
{
  gst_element_set_state (p->pipeline, GST_STATE_NULL);
  gst_object_unref (p->pipeline);
  g_free (p);
}

/* ------------------------------------------------------------ receiver */

typedef struct {
  GstElement *pipeline;
  GstVideoInfo vinfo;
  GMutex lock;
  GCond cond;
  gint64 first_frame_us;
  GArray *latency_us;           /* gint64 */
  gboolean measure_latency;
  guint bad_stamps;             /* pictures whose bar code made no sense */
} Receiver;

/* fakesink's handoff: the picture is "shown" (after the clock wait when the
 * sink syncs, as a display would) */
static void
recv_handoff (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer user_data)
{
  Receiver *r = user_data;
  gint64 now = mono_us ();
  guint64 t;

  g_mutex_lock (&r->lock);
  if (!r->first_frame_us) {
    r->first_frame_us = now;
    g_cond_broadcast (&r->cond);
  }
  if (r->measure_latency &&
      read_stamp (buffer, &r->vinfo, &t)) {
    /* the bar code holds the low 40 bits of the sender's clock */
    gint64 d = (now & ((G_GINT64_CONSTANT (1) << BITS) - 1)) - (gint64) t;
    if (d >= 0 && d < 10 * G_USEC_PER_SEC)
      g_array_append_val (r->latency_us, d);
    else
      r->bad_stamps++;
  }
  g_mutex_unlock (&r->lock);
}

static void
on_pad_added (GstElement * src, GstPad * pad, Receiver * r)
{
  GstElement *conv, *caps, *sink;
  GstPad *sinkpad;
  g_autofree gchar *name = gst_pad_get_name (pad);

  if (!g_str_has_prefix (name, "video_"))
    return;
  conv = gst_element_factory_make ("videoconvert", NULL);
  caps = gst_element_factory_make ("capsfilter", NULL);
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (caps, "caps", gst_caps_from_string ("video/x-raw,format=I420"),
      NULL);
  /* latency: render when a display would (sync to the clock, after the
   * pipeline's latency); first-frame: as soon as a frame is decoded */
  g_object_set (sink, "sync", r->measure_latency && !opt_no_sync, "async",
      FALSE, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (recv_handoff), r);
  gst_bin_add_many (GST_BIN (r->pipeline), conv, caps, sink, NULL);
  gst_element_link_many (conv, caps, sink, NULL);
  sinkpad = gst_element_get_static_pad (conv, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (sink);
  gst_element_sync_state_with_parent (caps);
  gst_element_sync_state_with_parent (conv);
}

static Receiver *
receiver_start (const gchar * room, gboolean latency)
{
  Receiver *r = g_new0 (Receiver, 1);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);

  if (!src) {
    g_printerr ("noom-media-bench: no noomsrc element (GST_PLUGIN_PATH?)\n");
    exit (1);
  }
  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  gst_video_info_set_format (&r->vinfo, GST_VIDEO_FORMAT_I420, WIDTH, HEIGHT);
  r->latency_us = g_array_new (FALSE, FALSE, sizeof (gint64));
  r->measure_latency = latency;
  r->pipeline = gst_pipeline_new (NULL);
  g_object_set (src, "server", opt_server, "room", room, "media", 2,
      "nickname", "receiver", NULL);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), r);
  gst_bin_add (GST_BIN (r->pipeline), src);
  gst_element_set_state (r->pipeline, GST_STATE_PLAYING);
  return r;
}

static gboolean
receiver_wait_frame (Receiver * r, gdouble timeout_s)
{
  gboolean ok = TRUE;
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  g_mutex_lock (&r->lock);
  while (ok && !r->first_frame_us)
    ok = g_cond_wait_until (&r->cond, &r->lock, deadline);
  g_mutex_unlock (&r->lock);
  return ok;
}

/* Lets @r run for @seconds doing what a player application does with its
 * bus: when an element's latency changes (noomsrc adds a participant's
 * pads while playing), the pipeline's latency is computed again, so a
 * synchronised sink shows each picture at its timestamp plus the
 * pipeline's whole latency (jitterbuffer, decoder, sink deadline). */
static void
receiver_run (Receiver * r, gdouble seconds)
{
  GstBus *bus = gst_element_get_bus (r->pipeline);
  gint64 end = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;
  gint64 left;

  while ((left = end - g_get_monotonic_time ()) > 0) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, left * GST_USECOND,
        GST_MESSAGE_LATENCY);

    if (m) {
      gst_bin_recalculate_latency (GST_BIN (r->pipeline));
      gst_message_unref (m);
    }
  }
  gst_object_unref (bus);
}

static void
receiver_stop (Receiver * r)
{
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  gst_object_unref (r->pipeline);
  g_array_unref (r->latency_us);
  g_free (r);
}

static gint
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;
  return x < y ? -1 : x > y;
}

static gdouble
pct (GArray * a, gdouble p)
{
  if (!a->len)
    return -1;
  return g_array_index (a, gint64, (guint) MIN (a->len - 1,
          p / 100 * a->len)) / 1000.0;
}

/* ------------------------------------------------------------ modes */

static int
bench_first_frame (void)
{
  Publisher *p = publisher_start ("bench-first-frame", FALSE);
  GArray *t = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint i;

  for (i = 0; i < opt_runs; i++) {
    gint64 t0, d;
    Receiver *r;

    /* against an SFU: apart by more than the relay's keyframe rate limit
     * (one a second), so each run is a join into a running broadcast, not
     * the second join within a second */
    if (i && opt_pause_ms)
      g_usleep (opt_pause_ms * 1000);
    t0 = mono_us ();
    r = receiver_start ("bench-first-frame", FALSE);
    if (!receiver_wait_frame (r, 10)) {
      g_printerr ("noom-media-bench: no frame within 10 s\n");
      return 1;
    }
    d = r->first_frame_us - t0;
    g_array_append_val (t, d);
    receiver_stop (r);
  }
  g_array_sort (t, cmp_i64);
  g_print ("{\"bench\":\"first-frame\",\"runs\":%u,\"median_ms\":%.1f,"
      "\"min_ms\":%.1f,\"max_ms\":%.1f}\n", t->len, pct (t, 50), pct (t, 0),
      pct (t, 100));
  publisher_stop (p);
  return 0;
}

static int
bench_latency (void)
{
  Publisher *p = publisher_start ("bench-latency", TRUE);
  Receiver *r = receiver_start ("bench-latency", TRUE);
  GArray *l;

  if (!receiver_wait_frame (r, 15)) {
    g_printerr ("noom-media-bench: no frame within 15 s\n");
    return 1;
  }
  /* let the jitterbuffer and the encoder's rate control settle */
  receiver_run (r, 2);
  g_mutex_lock (&r->lock);
  g_array_set_size (r->latency_us, 0);
  g_mutex_unlock (&r->lock);
  receiver_run (r, opt_seconds);
  g_mutex_lock (&r->lock);
  l = g_array_copy (r->latency_us);
  g_mutex_unlock (&r->lock);
  g_array_sort (l, cmp_i64);
  g_print ("{\"bench\":\"latency\",\"frames\":%u,\"unreadable\":%u,"
      "\"median_ms\":%.1f,"
      "\"p90_ms\":%.1f,\"min_ms\":%.1f,\"max_ms\":%.1f,\"width\":%d,"
      "\"height\":%d,\"fps\":30,\"sync\":%s}\n", l->len, r->bad_stamps, pct (l, 50), pct (l, 90),
      pct (l, 0), pct (l, 100), WIDTH, HEIGHT, opt_no_sync ? "false" : "true");
  receiver_stop (r);
  publisher_stop (p);
  return l->len ? 0 : 1;
}

/* the child's receivers that got data */
static gint receiving;
static gint receivers_wanted;

static void
rx_handoff (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer data)
{
  if (g_object_get_data (G_OBJECT (sink), "got"))
    return;
  g_object_set_data (G_OBJECT (sink), "got", GINT_TO_POINTER (1));
  if (g_atomic_int_add (&receiving, 1) + 1 == receivers_wanted) {
    /* the parent measures from now */
    printf ("receiving\n");
    fflush (stdout);
  } else {
    g_printerr ("noom-media-bench: %d of %d receivers get the stream\n",
        g_atomic_int_get (&receiving), receivers_wanted);
  }
}

static int
bench_receivers (gint n, const gchar * room)
{
  /* child side of fanout: n receivers, encoded media only, until killed */
  gint i;
  g_autofree gchar *desc = NULL;
  GString *s = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  GstElement *pipe;

  receivers_wanted = n;
  for (i = 0; i < n; i++)
    g_string_append_printf (s, "noomsrc server=%s room=%s media=video "
        "decode=false nickname=rx%d ! fakesink name=rx%d sync=false "
        "async=false signal-handoffs=true ", opt_server, room, i, i);
  desc = g_string_free (s, FALSE);
  pipe = gst_parse_launch (desc, &error);
  if (!pipe) {
    g_printerr ("noom-media-bench: %s\n", error->message);
    return 1;
  }
  for (i = 0; i < n; i++) {
    g_autofree gchar *name = g_strdup_printf ("rx%d", i);
    GstElement *sink = gst_bin_get_by_name (GST_BIN (pipe), name);

    g_signal_connect (sink, "handoff", G_CALLBACK (rx_handoff), NULL);
    gst_object_unref (sink);
  }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  g_main_loop_run (g_main_loop_new (NULL, FALSE));
  return 0;
}

static guint64 stats_sum (GstElement * element, const gchar * field,
    const gchar * id, guint * estimate, guint * layer);

/* what noomsink sent so far, over all its connections */
static guint64
publisher_bytes_sent (Publisher * p)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p->pipeline), "sink");
  guint64 total = stats_sum (sink, "bytes-sent", NULL, NULL, NULL);

  gst_object_unref (sink);
  return total;
}

/* Waits for the child's "receiving" line. */
static gboolean
wait_receiving (gint fd, gdouble timeout_s)
{
  g_autoptr (GIOChannel) ch = g_io_channel_unix_new (fd);
  gint64 deadline = g_get_monotonic_time () + timeout_s * G_TIME_SPAN_SECOND;
  GString *got = g_string_new (NULL);
  gboolean ok = FALSE;

  g_io_channel_set_flags (ch, G_IO_FLAG_NONBLOCK, NULL);
  while (!ok && g_get_monotonic_time () < deadline) {
    gchar buf[64];
    gsize n = 0;

    if (g_io_channel_read_chars (ch, buf, sizeof buf, &n, NULL) ==
        G_IO_STATUS_NORMAL && n)
      g_string_append_len (got, buf, n);
    else
      g_usleep (50 * 1000);
    ok = strstr (got->str, "receiving") != NULL;
  }
  g_string_free (got, TRUE);
  return ok;
}

static int
bench_fanout (gint n, const gchar * self)
{
  g_autofree gchar *room = g_strdup_printf ("bench-fanout-%d", n);
  g_autofree gchar *ns = g_strdup_printf ("%d", n);
  const gchar *argv[] = { self, "--server", opt_server, "receivers", ns,
    room, NULL
  };
  Publisher *p = publisher_start (room, FALSE);
  GPid child;
  gint child_out;
  g_autoptr (GError) error = NULL;
  gdouble c0, c1, r0, r1, k0, k1, secs, mbit;
  guint64 b0, b1;
  gint64 t0, t1;

  if (!g_spawn_async_with_pipes (NULL, (gchar **) argv, NULL,
          G_SPAWN_DEFAULT, NULL, NULL, &child, NULL, &child_out, NULL,
          &error)) {
    g_printerr ("noom-media-bench: %s\n", error->message);
    return 1;
  }
  if (!wait_receiving (child_out, 30 + n * 2)) {
    g_printerr ("noom-media-bench: not all %d receivers get the stream\n",
        n);
    kill (child, SIGKILL);
    return 1;
  }
  g_usleep (2 * G_USEC_PER_SEC);
  c0 = cpu_seconds ();
  r0 = proc_cpu_seconds (opt_relay_pid);
  k0 = proc_cpu_seconds (child);
  b0 = publisher_bytes_sent (p);
  t0 = mono_us ();
  g_usleep (opt_seconds * G_USEC_PER_SEC);
  c1 = cpu_seconds ();
  r1 = proc_cpu_seconds (opt_relay_pid);
  k1 = proc_cpu_seconds (child);
  b1 = publisher_bytes_sent (p);
  t1 = mono_us ();
  kill (child, SIGTERM);
  g_spawn_close_pid (child);
  close (child_out);
  secs = (t1 - t0) / 1e6;
  mbit = (b1 - b0) * 8 / secs / 1e6;
  g_print ("{\"bench\":\"fanout\",\"receivers\":%d,\"publisher_cpu_percent\""
      ":%.1f,\"publisher_mbit_s\":%.3f,\"receivers_cpu_percent\":%.1f",
      n, 100 * (c1 - c0) / secs, mbit, k0 >= 0
      && k1 >= 0 ? 100 * (k1 - k0) / secs : -1.0);
  if (opt_relay_pid && r0 >= 0 && r1 >= 0)
    /* per forwarded stream, per Mbit/s of it (issue 15's unit): with the
     * relay, the publisher sends the one stream every receiver gets */
    g_print (",\"relay_cpu_percent\":%.1f,\"relay_cpu_percent_per_stream_mbit\""
        ":%.3f", 100 * (r1 - r0) / secs, mbit > 0 ? 100 * (r1 - r0) / secs /
        n / mbit : -1.0);
  g_print (",\"seconds\":%.1f}\n", secs);
  publisher_stop (p);
  return 0;
}

/* ------------------------------------------------------------ room-load */

typedef struct {
  gint receiver;
  gchar *pad;
  gint64 first_us, last_us, max_gap_us;
  guint64 frames;               /* in the window */
} Track;

static GMutex load_lock;
static GPtrArray *load_tracks;  /* Track */
static gint64 window_start, window_end;

static void
load_handoff (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    Track * t)
{
  gint64 now = mono_us ();

  /* decode=false: depayloaded video, one buffer per frame */
  g_mutex_lock (&load_lock);
  if (!t->first_us)
    t->first_us = now;
  if (window_start && now >= window_start && (!window_end || now < window_end)) {
    if (t->last_us && t->last_us >= window_start
        && now - t->last_us > t->max_gap_us)
      t->max_gap_us = now - t->last_us;
    t->frames++;
  }
  t->last_us = now;
  g_mutex_unlock (&load_lock);
}

static void
load_pad_added (GstElement * src, GstPad * pad, gpointer data)
{
  gint receiver = GPOINTER_TO_INT (data);
  g_autofree gchar *name = gst_pad_get_name (pad);
  GstElement *sink;
  GstPad *sinkpad;
  Track *t;

  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_bin_add (GST_BIN (GST_ELEMENT_PARENT (src)), sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (sink);
  if (!g_str_has_prefix (name, "video_"))
    return;
  t = g_new0 (Track, 1);
  t->receiver = receiver;
  t->pad = g_strdup (name);
  g_object_set (sink, "signal-handoffs", TRUE, NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (load_handoff), t);
  g_mutex_lock (&load_lock);
  g_ptr_array_add (load_tracks, t);
  g_mutex_unlock (&load_lock);
}

/* receivers with a flowing video track of each of @p publishers */
static gint
load_ready (gint n, gint p)
{
  gint *per = g_new0 (gint, n), i, ready = 0;

  g_mutex_lock (&load_lock);
  for (i = 0; i < (gint) load_tracks->len; i++) {
    Track *t = load_tracks->pdata[i];

    if (t->first_us)
      per[t->receiver]++;
  }
  g_mutex_unlock (&load_lock);
  for (i = 0; i < n; i++)
    ready += per[i] >= p;
  g_free (per);
  return ready;
}

static int
bench_room_load (gint n, gint p)
{
  const gchar *room = opt_room ? opt_room : "bench-room-load";
  Publisher *pub = publisher_start (room, FALSE);
  GstElement *pipe = gst_pipeline_new ("receivers");
  gint64 deadline;
  gdouble c0, c1, r0, r1, secs;
  GArray *fps = g_array_new (FALSE, FALSE, sizeof (gint64));
  gint64 max_gap = 0;
  guint over_1s = 0, i;
  gint got;

  load_tracks = g_ptr_array_new ();
  for (i = 0; i < (guint) n; i++) {
    GstElement *src = gst_element_factory_make ("noomsrc", NULL);
    g_autofree gchar *nick = g_strdup_printf ("load%u", i);

    g_object_set (src, "server", opt_server, "room", room, "decode", FALSE,
        "nickname", nick, NULL);
    g_signal_connect (src, "pad-added", G_CALLBACK (load_pad_added),
        GINT_TO_POINTER (i));
    gst_bin_add (GST_BIN (pipe), src);
  }
  gst_element_set_state (pipe, GST_STATE_PLAYING);
  deadline = mono_us () + (60 + n) * G_USEC_PER_SEC;
  while ((got = load_ready (n, p)) < n && mono_us () < deadline)
    g_usleep (200 * 1000);
  if (got < n) {
    g_printerr ("noom-media-bench: only %d of %d receivers get all %d "
        "publishers' video\n", got, n, p);
    return 1;
  }
  g_usleep (2 * G_USEC_PER_SEC);
  c0 = cpu_seconds ();
  r0 = proc_cpu_seconds (opt_relay_pid);
  g_mutex_lock (&load_lock);
  window_start = mono_us ();
  g_mutex_unlock (&load_lock);
  g_usleep (opt_seconds * G_USEC_PER_SEC);
  g_mutex_lock (&load_lock);
  window_end = mono_us ();
  g_mutex_unlock (&load_lock);
  c1 = cpu_seconds ();
  r1 = proc_cpu_seconds (opt_relay_pid);
  secs = (window_end - window_start) / 1e6;

  g_mutex_lock (&load_lock);
  for (i = 0; i < load_tracks->len; i++) {
    Track *t = load_tracks->pdata[i];
    /* a track that went quiet before the end counts its silence too */
    gint64 tail = window_end - MAX (t->last_us, window_start);
    gint64 gap = MAX (t->max_gap_us, tail);
    gint64 f = (gint64) (t->frames * 1000 / secs);  /* fps x 1000, as pct()
                                                       reads it */

    g_array_append_val (fps, f);
    max_gap = MAX (max_gap, gap);
    over_1s += gap > G_USEC_PER_SEC;
  }
  g_mutex_unlock (&load_lock);
  g_array_sort (fps, cmp_i64);
  g_print ("{\"bench\":\"room-load\",\"receivers\":%d,\"publishers\":%d,"
      "\"tracks\":%u,\"fps_min\":%.1f,\"fps_median\":%.1f,\"fps_max\":%.1f,"
      "\"max_gap_ms\":%.0f,\"tracks_gap_over_1s\":%u,"
      "\"this_process_cpu_percent\":%.1f", n, p, fps->len,
      fps->len ? pct (fps, 0) : 0, fps->len ? pct (fps, 50) : 0,
      fps->len ? pct (fps, 100) : 0, max_gap / 1e3, over_1s,
      100 * (c1 - c0) / secs);
  if (opt_relay_pid && r0 >= 0 && r1 >= 0)
    g_print (",\"relay_cpu_percent\":%.1f", 100 * (r1 - r0) / secs);
  g_print (",\"seconds\":%.1f}\n", secs);
  gst_element_set_state (pipe, GST_STATE_NULL);
  gst_object_unref (pipe);
  publisher_stop (pub);
  return over_1s ? 3 : 0;
}


/* ------------------------------------------------------------ bandwidth */

/* One receiver behind its own address (127.0.0.2, .3, ...), whose link the
 * run shapes with tc. */
typedef struct {
  GstElement *src;
  gchar *address;
  gint64 last_frame_us;
  gint64 frames;                /* since the start */
  gint64 frames_window;         /* since the last line */
  gint64 freeze_us;             /* gaps over 200 ms, beyond 200 ms each */
  gint64 max_gap_us;
  GMutex lock;
} BweReceiver;

static gint opt_bwe_receivers = 1;
static gint opt_bwe_cap = 500;
static gdouble opt_bwe_lift = 0;
static gchar *opt_bwe_cc = NULL;
static gint opt_bwe_max = 1000;
static gint opt_bwe_start = 0;

static void
bwe_handoff (GstElement * sink, GstBuffer * buffer, GstPad * pad,
    gpointer data)
{
  BweReceiver *r = data;
  gint64 now = mono_us ();

  g_mutex_lock (&r->lock);
  if (r->last_frame_us) {
    gint64 gap = now - r->last_frame_us;

    if (gap > 200000)
      r->freeze_us += gap - 200000;
    r->max_gap_us = MAX (r->max_gap_us, gap);
  }
  r->last_frame_us = now;
  r->frames++;
  r->frames_window++;
  g_mutex_unlock (&r->lock);
}

static void
bwe_pad_added (GstElement * src, GstPad * pad, BweReceiver * r)
{
  GstElement *sink;
  GstPad *sinkpad;
  g_autofree gchar *name = gst_pad_get_name (pad);

  if (!g_str_has_prefix (name, "video_"))
    return;
  sink = gst_element_factory_make ("fakesink", NULL);
  g_object_set (sink, "sync", FALSE, "async", FALSE, "signal-handoffs", TRUE,
      NULL);
  g_signal_connect (sink, "handoff", G_CALLBACK (bwe_handoff), r);
  gst_bin_add (GST_BIN (GST_ELEMENT_PARENT (src)), sink);
  sinkpad = gst_element_get_static_pad (sink, "sink");
  gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
  gst_element_sync_state_with_parent (sink);
}

/* @field (guint64) summed over the participants of @element's stats; for
 * a noomsink also its estimate of @id's link (0: none). */
static guint64
stats_sum (GstElement * element, const gchar * field, const gchar * id,
    guint * estimate, guint * layer)
{
  GstStructure *stats = NULL;
  const GValue *list;
  guint64 total = 0;
  guint i;

  g_object_get (element, "stats", &stats, NULL);
  if (!stats)
    return 0;
  list = gst_structure_get_value (stats, "participants");
  for (i = 0; list && i < gst_value_array_get_size (list); i++) {
    const GstStructure *ps =
        gst_value_get_structure (gst_value_array_get_value (list, i));
    guint64 b = 0;

    if (id && g_strcmp0 (gst_structure_get_string (ps, "id"), id))
      continue;
    if (gst_structure_get_uint64 (ps, field, &b))
      total += b;
    if (estimate)
      gst_structure_get_uint (ps, "estimated-bitrate", estimate);
    if (layer)
      gst_structure_get_uint (ps, "video-layer", layer);
  }
  gst_structure_free (stats);
  return total;
}

static gboolean
run_tc (const gchar * args)
{
  g_autofree gchar *cmd = g_strdup_printf ("tc %s", args);
  g_autofree gchar *err = NULL;
  gint status = 0;

  if (!g_spawn_command_line_sync (cmd, NULL, &err, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL)) {
    g_printerr ("noom-media-bench: %s: %s", cmd, err ? err : "failed\n");
    return FALSE;
  }
  return TRUE;
}

/* What the first receiver's link (the 40-packet queue of its htb class)
 * has sent and dropped so far, in packets: the loss on that link, whatever
 * the receiver's own statistics say.  FALSE when tc cannot tell. */
static gboolean
bwe_link_packets (guint64 * sent, guint64 * dropped)
{
  g_autofree gchar *out = NULL;
  gint status = 0;
  const gchar *p;

  if (!g_spawn_command_line_sync ("tc -s qdisc show dev lo parent 1:10",
          &out, NULL, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL) ||
      !(p = strstr (out, "Sent ")) ||
      sscanf (p, "Sent %*s bytes %" G_GUINT64_FORMAT
          " pkt (dropped %" G_GUINT64_FORMAT, sent, dropped) != 2)
    return FALSE;
  return TRUE;
}

/* The first receiver's link at @kbit (0: free). */
static gboolean
bwe_shape (gint kbit, gboolean change)
{
  g_autofree gchar *args = g_strdup_printf ("class %s dev lo parent 1: "
      "classid 1:10 htb rate %dkbit ceil %dkbit burst 16k",
      change ? "change" : "add", kbit ? kbit : 10000000,
      kbit ? kbit : 10000000);

  return run_tc (args);
}

/* bandwidth: a noomsink (a moving zone plate, 640x480 at 30 fps, whose
 * bitrate follows its encoder's target) and --receivers noomsrc, the
 * first behind a --cap kbit/s link (tc htb on lo, matched by its own
 * address), the cap lifted after --lift seconds.  Needs root in a network
 * namespace of its own: the run changes lo's qdisc. */
static int
bench_bandwidth (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *desc = NULL;
  GstElement *pub, *sink;
  BweReceiver *rx;
  gint64 start, lift_at = 0, below_cap_at = 0, recovered_at = 0;
  guint64 last_sent = 0, *last_recv;
  guint64 link_sent0 = 0, link_dropped0 = 0, link_sent = 0,
      link_dropped = 0;
  gboolean link_known;
  gint i, sec;
  gdouble fps_sum_after = 0;
  gint fps_n_after = 0;

  /* a run before that died keeps its qdisc */
  g_spawn_command_line_sync ("tc qdisc del dev lo root", NULL, NULL, NULL,
      NULL);
  if (!run_tc ("qdisc add dev lo root handle 1: htb default 1") ||
      !run_tc ("class add dev lo parent 1: classid 1:1 htb rate 10gbit") ||
      !bwe_shape (opt_bwe_cap, FALSE) ||
      !run_tc ("qdisc add dev lo parent 1:10 handle 10: pfifo limit 40") ||
      !run_tc ("filter add dev lo parent 1: protocol ip prio 1 u32 match ip "
          "dst 127.0.0.2/32 flowid 1:10"))
    return 1;

  desc = g_strdup_printf ("videotestsrc is-live=true pattern=zone-plate "
      "kx2=20 ky2=20 kt=1 ! video/x-raw,width=640,height=480,framerate=30/1 "
      "! noomsink name=sink server=%s room=bench-bandwidth nickname=pub "
      "ice-local-addresses=127.0.0.1 congestion-control=%s max-bitrate=%d "
      "start-bitrate=%d", opt_server, opt_bwe_cc ? opt_bwe_cc : "homegrown",
      opt_bwe_max * 1000, opt_bwe_start * 1000);
  pub = gst_parse_launch (desc, &error);
  if (!pub) {
    g_printerr ("noom-media-bench: %s\n", error->message);
    return 1;
  }
  sink = gst_bin_get_by_name (GST_BIN (pub), "sink");
  rx = g_new0 (BweReceiver, opt_bwe_receivers);
  last_recv = g_new0 (guint64, opt_bwe_receivers);
  for (i = 0; i < opt_bwe_receivers; i++) {
    g_autofree gchar *nick = g_strdup_printf ("rx%d", i);

    g_mutex_init (&rx[i].lock);
    rx[i].address = g_strdup_printf ("127.0.0.%d", i + 2);
    rx[i].src = gst_element_factory_make ("noomsrc", NULL);
    g_object_set (rx[i].src, "server", opt_server, "room", "bench-bandwidth",
        "media", 2, "nickname", nick, "ice-local-addresses", rx[i].address,
        NULL);
    g_signal_connect (rx[i].src, "pad-added", G_CALLBACK (bwe_pad_added),
        &rx[i]);
    gst_bin_add (GST_BIN (pub), rx[i].src);
  }
  gst_element_set_state (pub, GST_STATE_PLAYING);

  /* from the first frame of every receiver */
  start = mono_us () + 30 * G_USEC_PER_SEC;
  for (;;) {
    gboolean all = TRUE;

    for (i = 0; i < opt_bwe_receivers; i++) {
      g_mutex_lock (&rx[i].lock);
      all &= rx[i].frames > 0;
      g_mutex_unlock (&rx[i].lock);
    }
    if (all)
      break;
    if (mono_us () > start) {
      g_printerr ("noom-media-bench: no picture in 30 s\n");
      return 1;
    }
    g_usleep (50000);
  }
  start = mono_us ();
  for (i = 0; i < opt_bwe_receivers; i++) {
    g_mutex_lock (&rx[i].lock);
    rx[i].frames_window = rx[i].freeze_us = rx[i].max_gap_us = 0;
    rx[i].frames = 0;
    g_mutex_unlock (&rx[i].lock);
    last_recv[i] = stats_sum (rx[i].src, "bytes-received", NULL, NULL, NULL);
  }
  last_sent = stats_sum (sink, "bytes-sent", NULL, NULL, NULL);
  link_known = bwe_link_packets (&link_sent0, &link_dropped0);

  for (sec = 1; sec <= opt_seconds; sec++) {
    gint64 now;
    guint64 sent;
    gdouble sent_kbps;

    g_usleep (start + sec * G_USEC_PER_SEC - mono_us ());
    now = mono_us ();
    if (opt_bwe_lift > 0 && !lift_at && sec > opt_bwe_lift) {
      /* the loss is the capped link's */
      link_known &= bwe_link_packets (&link_sent, &link_dropped);
      bwe_shape (0, TRUE);
      lift_at = now;
    }
    sent = stats_sum (sink, "bytes-sent", NULL, NULL, NULL);
    sent_kbps = (sent - last_sent) * 8 / 1000.0;
    printf ("{\"t\": %d, \"sent_kbps\": %.0f", sec, sent_kbps);
    last_sent = sent;
    for (i = 0; i < opt_bwe_receivers; i++) {
      guint rx_layer = G_MAXUINT;
      guint64 recv = stats_sum (rx[i].src, "bytes-received", NULL, NULL,
          &rx_layer);
      gdouble kbps = (recv - last_recv[i]) * 8 / 1000.0;
      gint64 frames;
      GstStructure *st = NULL;
      guint estimate = 0, layer = 0;

      g_mutex_lock (&rx[i].lock);
      frames = rx[i].frames_window;
      rx[i].frames_window = 0;
      g_mutex_unlock (&rx[i].lock);
      last_recv[i] = recv;
      /* the publisher's view of this receiver's link */
      g_object_get (rx[i].src, "stats", &st, NULL);
      if (st && gst_structure_get_string (st, "id"))
        stats_sum (sink, "bytes-sent", gst_structure_get_string (st, "id"),
            &estimate, &layer);
      if (st)
        gst_structure_free (st);
      /* layer: what the publisher chose for it; rx_layer: what noomsrc
       * saw arrive (-1: nothing layered) */
      printf (", \"rx%d\": {\"kbps\": %.0f, \"fps\": %" G_GINT64_FORMAT
          ", \"estimate_kbps\": %u, \"layer\": %u, \"rx_layer\": %d}", i,
          kbps, frames, estimate / 1000, layer, rx_layer == G_MAXUINT ? -1 :
          (gint) rx_layer);
      if (i == 0) {
        /* what was sent to it (all of it, with one receiver) */
        if (!below_cap_at && opt_bwe_cap && opt_bwe_receivers == 1 &&
            sent_kbps < opt_bwe_cap && sec > 1)
          below_cap_at = now;
        if (below_cap_at && !lift_at) {
          fps_sum_after += frames;
          fps_n_after++;
        }
        if (lift_at && !recovered_at && kbps >= 0.9 * opt_bwe_max)
          recovered_at = now;
      }
    }
    printf ("}\n");
    fflush (stdout);
  }

  printf ("{\"summary\": true, \"congestion_control\": \"%s\", \"cap_kbps\": "
      "%d, \"seconds\": %.0f", opt_bwe_cc ? opt_bwe_cc : "homegrown",
      opt_bwe_cap, opt_seconds);
  printf (", \"rx0_below_cap_after_s\": %.1f", below_cap_at ?
      (below_cap_at - start) / 1e6 : -1.0);
  printf (", \"rx0_fps_while_capped\": %.1f", fps_n_after ?
      fps_sum_after / fps_n_after : 0.0);
  /* packets the link's queue dropped, of all it was given (RTP, RTCP and
   * ICE to the first receiver), until the lift or the end */
  if (!lift_at)
    link_known &= bwe_link_packets (&link_sent, &link_dropped);
  if (link_known)
    printf (", \"rx0_loss_pct\": %.2f", 100.0 * (link_dropped -
            link_dropped0) / MAX (1, (gint64) (link_sent - link_sent0 +
                link_dropped - link_dropped0)));
  else
    printf (", \"rx0_loss_pct\": null");
  if (opt_bwe_lift > 0)
    printf (", \"rx0_recovered_after_lift_s\": %.1f", recovered_at ?
        (recovered_at - lift_at) / 1e6 : -1.0);
  for (i = 0; i < opt_bwe_receivers; i++)
    printf (", \"rx%d_mean_fps\": %.1f, \"rx%d_freeze_s_per_min\": %.2f, "
        "\"rx%d_longest_gap_ms\": %.0f", i, rx[i].frames / opt_seconds, i,
        rx[i].freeze_us / 1e6 * 60 / opt_seconds, i,
        rx[i].max_gap_us / 1000.0);
  printf ("}\n");
  gst_element_set_state (pub, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pub);
  run_tc ("qdisc del dev lo root");
  return 0;
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"server", 's', 0, G_OPTION_ARG_STRING, &opt_server,
        "noom-server as host:port (default 127.0.0.1:8080)", "HOST:PORT"},
    {"runs", 'r', 0, G_OPTION_ARG_INT, &opt_runs,
        "first-frame: number of receivers started one after the other "
          "(default 10)", "N"},
    {"seconds", 0, 0, G_OPTION_ARG_DOUBLE, &opt_seconds,
        "latency, fanout: length of the measurement (default 10)", "S"},
    {"relay-pid", 0, 0, G_OPTION_ARG_INT, &opt_relay_pid,
        "fanout against noom-server --sfu: the relay process, whose CPU is "
          "the forwarding cost (the server logs \"relay started pid=N\")",
        "PID"},
    {"pause", 0, 0, G_OPTION_ARG_INT, &opt_pause_ms,
        "first-frame: milliseconds between two receivers (default 0)", "MS"},
    {"room", 0, 0, G_OPTION_ARG_STRING, &opt_room,
        "room-load: the room (default bench-room-load)", "NAME"},
    {"receivers", 0, 0, G_OPTION_ARG_INT, &opt_bwe_receivers,
        "bandwidth: receivers, the first one capped (default 1)", "N"},
    {"cap", 0, 0, G_OPTION_ARG_INT, &opt_bwe_cap,
        "bandwidth: the first receiver's link in kbit/s (default 500)", "K"},
    {"lift", 0, 0, G_OPTION_ARG_DOUBLE, &opt_bwe_lift,
        "bandwidth: lift the cap after S seconds (default never)", "S"},
    {"congestion-control", 0, 0, G_OPTION_ARG_STRING, &opt_bwe_cc,
        "bandwidth: noomsink's congestion-control (default homegrown)",
        "MODE"},
    {"max-kbps", 0, 0, G_OPTION_ARG_INT, &opt_bwe_max,
        "bandwidth: noomsink's max-bitrate in kbit/s (default 1000)", "K"},
    {"start-kbps", 0, 0, G_OPTION_ARG_INT, &opt_bwe_start,
          "bandwidth: noomsink's start-bitrate in kbit/s (default 0: "
          "noomsink's own default)", "K"},
    {"no-sync", 0, 0, G_OPTION_ARG_NONE, &opt_no_sync,
        "latency: take each picture as soon as it is decoded instead of when "
          "a display synchronised to the clock would show it", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("first-frame | latency | fanout N | room-load N P | "
      "bandwidth");
  g_autoptr (GError) error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("noom-media-bench: %s\n", error->message);
    return 2;
  }
  if (!opt_server)
    opt_server = g_strdup ("127.0.0.1:8080");
  if (argc >= 2 && g_str_equal (argv[1], "first-frame"))
    return bench_first_frame ();
  if (argc >= 2 && g_str_equal (argv[1], "latency"))
    return bench_latency ();
  if (argc >= 2 && g_str_equal (argv[1], "bandwidth"))
    return bench_bandwidth ();
  if (argc >= 3 && g_str_equal (argv[1], "fanout"))
    return bench_fanout (atoi (argv[2]), argv[0]);
  if (argc >= 4 && g_str_equal (argv[1], "room-load"))
    return bench_room_load (atoi (argv[2]), atoi (argv[3]));
  if (argc >= 4 && g_str_equal (argv[1], "receivers"))
    return bench_receivers (atoi (argv[2]), argv[3]);
  g_printerr ("noom-media-bench: say first-frame, latency or fanout N\n");
  return 2;
}
