/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-ingest: publishes any source uridecodebin can read (a file, http(s)
 * including HLS, rtsp://, rtmp://, srt://, ...) into a room through
 * noomsink.
 *
 *   [uridecodebin] --video--> clocksync -> videoconvert -> videoscale --> noomsink
 *        (replaced      --audio--> clocksync -> audioconvert -> audioresample -^
 *         on loop/retry)
 *
 * noomsink and the chains before it live as long as the program: only the
 * source is replaced, to loop a file or to retry after an error, so the
 * room sees one participant throughout.  Each new source's pads get an
 * offset of the running time at which it starts, so timestamps keep going
 * forward and clocksync paces a file in real time (a file would otherwise
 * be read as fast as the encoder goes).  A source's EOS is kept from
 * noomsink (which would leave the room): the next loop starts instead, or,
 * without --loop, EOS goes to noomsink and the program exits.
 *
 * --passthrough: uridecodebin stops at VP8, H.264 and Opus, which noomsink
 * sends as they are.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "noom-job.h"

#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 30000
/* A source that ran this long was healthy: the backoff starts over. */
#define HEALTHY_US (10 * G_USEC_PER_SEC)
/* How long the first source may take to show all its streams when it
 * does not say no-more-pads. */
#define SETUP_WAIT_MS 3000

typedef struct _Ingest Ingest;

/* One kind of media, from the first source to the end. */
typedef struct
{
  Ingest *ingest;
  gboolean video;
  GstPad *head;                 /* sink pad of the chain's first element */
  GstElement *first;
  gboolean linked;              /* to the current source */
  gboolean ended;               /* the current source's EOS */
} Entry;

struct _Ingest
{
  GMainLoop *loop;
  GstElement *pipeline;
  GstElement *sink;
  GstElement *source;
  gchar *source_uri;
  gboolean tty;
  gboolean passthrough;
  gboolean loop_file;
  gint max_retries;
  gint exit_code;
  gboolean finishing;

  /* Touched from uridecodebin's streaming threads: under lock. */
  GMutex lock;
  Entry *entries[2];            /* audio, video */
  gboolean entries_fixed;       /* noomsink's pads are requested */
  GPtrArray *held;              /* the first source's pads, blocked */
  guint setup_id;
  GstClockTime offset;          /* running time the current source began */
  GstClockTime position;        /* stream time of the latest buffer */
  GstClockTime duration;
  guint loops;
  guint retries;
  guint failures;               /* in a row */
  gint64 source_started_us;
  gboolean got_pads;
  guint restart_id;
  gboolean has_error;
  gboolean announced;           /* --announce: posted */
  /* main loop: each receiver's link as noomsink's congestion control
   * sees it (noom-bandwidth), by participant id: "NICK 420k" */
  GHashTable *links;
};

static gboolean opt_loop;
static gboolean opt_passthrough;
static gchar *opt_nickname;
static gint opt_retries = -1;
static gboolean opt_quiet;
static gchar *opt_announce;

static GOptionEntry entries[] = {
  {"loop", 'l', 0, G_OPTION_ARG_NONE, &opt_loop,
      "Start over at the end of the source (files)", NULL},
  {"passthrough", 0, 0, G_OPTION_ARG_NONE, &opt_passthrough,
      "Send VP8, H.264 and Opus as they are, without transcoding", NULL},
  {"nickname", 'n', 0, G_OPTION_ARG_STRING, &opt_nickname,
      "Nickname in the room (default: ingest)", "NAME"},
  {"retries", 'r', 0, G_OPTION_ARG_INT, &opt_retries,
      "Retry a failing source N times, then give up (default: retry "
        "forever)", "N"},
  {"quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "No progress line", NULL},
  {"announce", 'a', 0, G_OPTION_ARG_STRING, &opt_announce,
      "Write TEXT to the room's chat once in the room (e.g. \"now playing: "
        "...\")", "TEXT"},
  {NULL}
};

static gboolean start_source (gpointer data);

static gchar *
format_time (GstClockTime t)
{
  guint64 s;

  if (!GST_CLOCK_TIME_IS_VALID (t))
    return g_strdup ("--:--:--");
  s = t / GST_SECOND;
  return g_strdup_printf ("%02u:%02u:%02u", (guint) (s / 3600),
      (guint) ((s / 60) % 60), (guint) (s % 60));
}

static void
clear_line (Ingest * in)
{
  if (in->tty)
    fputs ("\r\033[K", stderr);
}

static GstClockTime
running_time (Ingest * in)
{
  GstClock *clock = gst_element_get_clock (in->pipeline);
  GstClockTime now;

  if (!clock)
    return 0;
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  return now - gst_element_get_base_time (in->pipeline);
}

/* ------------------------------------------------------------------------ */
/* the chains into noomsink (built once, from the first source's pads) */

static GstElement *
add (Ingest * in, GstElement ** prev, const gchar * factory)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e) {
    g_printerr ("noom-ingest: the %s element is missing\n", factory);
    return NULL;
  }
  gst_bin_add (GST_BIN (in->pipeline), e);
  if (*prev)
    gst_element_link (*prev, e);
  *prev = e;
  return e;
}

static Entry *
entry_new (Ingest * in, gboolean video, GstCaps * caps)
{
  const gchar *name = gst_structure_get_name (gst_caps_get_structure (caps,
          0));
  gboolean raw = g_str_has_suffix (name, "/x-raw");
  GstElement *prev = NULL, *sync;
  GstPad *srcpad, *sinkpad;
  Entry *e;

  if (!raw && !in->passthrough)
    return NULL;
  if (!raw && strcmp (name, "video/x-vp8") && strcmp (name, "video/x-h264")
      && strcmp (name, "audio/x-opus")) {
    g_printerr ("noom-ingest: cannot send %s as it is\n", name);
    return NULL;
  }

  e = g_new0 (Entry, 1);
  e->ingest = in;
  e->video = video;
  /* Real-time pacing: a file's buffers wait for their running time. */
  sync = add (in, &prev, "clocksync");
  e->first = sync;
  if (raw && video) {
    add (in, &prev, "videoconvert");
    add (in, &prev, "videoscale");
  } else if (raw) {
    add (in, &prev, "audioconvert");
    add (in, &prev, "audioresample");
  } else if (!strcmp (name, "video/x-h264")) {
    GstElement *p = add (in, &prev, "h264parse");

    /* SPS/PPS before every keyframe: a participant may join any time. */
    if (p)
      g_object_set (p, "config-interval", -1, NULL);
  } else if (!strcmp (name, "audio/x-opus")) {
    add (in, &prev, "opusparse");
  }
  srcpad = gst_element_get_static_pad (prev, "src");
  sinkpad = gst_element_request_pad_simple (in->sink, video ? "video_%u" :
      "audio_%u");
  if (!sinkpad || gst_pad_link (srcpad, sinkpad) != GST_PAD_LINK_OK)
    g_printerr ("noom-ingest: noomsink refused the %s stream\n", name);
  gst_clear_object (&sinkpad);
  gst_object_unref (srcpad);
  e->head = gst_element_get_static_pad (sync, "sink");
  return e;
}

/* ------------------------------------------------------------------------ */
/* the source (replaced for every loop and retry) */

static gboolean
source_ended (gpointer data)
{
  Ingest *in = data;
  guint i;

  if (in->finishing)
    return G_SOURCE_REMOVE;
  if (in->loop_file) {
    g_mutex_lock (&in->lock);
    in->loops++;
    g_mutex_unlock (&in->lock);
    start_source (in);
    return G_SOURCE_REMOVE;
  }
  /* The end: noomsink leaves the room once every stream got EOS, then
   * the pipeline posts EOS. */
  in->finishing = TRUE;
  for (i = 0; i < 2; i++)
    if (in->entries[i])
      gst_pad_send_event (in->entries[i]->head, gst_event_new_eos ());
  return G_SOURCE_REMOVE;
}

static GstPadProbeReturn
source_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Entry *e = data;
  Ingest *in = e->ingest;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    /* The position in the file is stream time: a timestamp is not (a
     * file need not start at 0, and the pad offset of a loop moves the
     * running time, never the stream time). */
    if (GST_BUFFER_PTS_IS_VALID (buf)) {
      GstEvent *seg_event = gst_pad_get_sticky_event (pad, GST_EVENT_SEGMENT,
          0);
      GstClockTime pos = GST_BUFFER_PTS (buf);

      if (seg_event) {
        const GstSegment *seg;

        gst_event_parse_segment (seg_event, &seg);
        if (seg->format == GST_FORMAT_TIME)
          pos = gst_segment_to_stream_time (seg, GST_FORMAT_TIME, pos);
        gst_event_unref (seg_event);
      }
      g_mutex_lock (&in->lock);
      if (GST_CLOCK_TIME_IS_VALID (pos))
        in->position = pos;
      g_mutex_unlock (&in->lock);
    }
    return GST_PAD_PROBE_OK;
  }
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    gboolean all = TRUE;
    guint i;

    g_mutex_lock (&in->lock);
    e->ended = TRUE;
    for (i = 0; i < 2; i++)
      if (in->entries[i] && in->entries[i]->linked && !in->entries[i]->ended)
        all = FALSE;
    g_mutex_unlock (&in->lock);
    if (all)
      g_idle_add (source_ended, in);
    /* noomsink must not see it: it would leave the room. */
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

/* Claims @e for a pad of the current source (lock held): TRUE if the pad
 * is to be linked to it. */
static gboolean
claim_entry (Ingest * in, Entry * e)
{
  if (!e || e->linked)
    return FALSE;
  e->linked = TRUE;
  e->ended = FALSE;
  in->got_pads = TRUE;
  return TRUE;
}

/* Links a source pad to its chain.  Not under the lock: linking and caps
 * queries take decodebin's locks, which its streaming threads hold while
 * they wait for ours in pad-added. */
static void
connect_pad (Ingest * in, GstPad * pad, Entry * e, GstClockTime offset)
{
  gst_pad_set_offset (pad, offset);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, source_probe, e, NULL);
  if (gst_pad_link (pad, e->head) != GST_PAD_LINK_OK)
    g_printerr ("noom-ingest: could not link the %s stream\n",
        e->video ? "video" : "audio");
}

static GstPadProbeReturn
hold_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  return GST_PAD_PROBE_OK;
}

static gboolean
pad_is_video (GstPad * pad)
{
  GstCaps *caps = g_object_get_data (G_OBJECT (pad), "noom-caps");

  return g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure
          (caps, 0)), "video/");
}

/* The first source's streams are known: noomsink gets one pad per kind
 * (it takes pads only before it starts), then everything runs. */
static gboolean
setup_sink (gpointer data)
{
  Ingest *in = data;
  GPtrArray *held;
  guint i;

  g_mutex_lock (&in->lock);
  in->setup_id = 0;
  if (in->entries_fixed || !in->held) {
    g_mutex_unlock (&in->lock);
    return G_SOURCE_REMOVE;
  }
  in->entries_fixed = TRUE;
  held = in->held;
  in->held = NULL;
  g_mutex_unlock (&in->lock);

  gst_bin_add (GST_BIN (in->pipeline), in->sink);
  for (i = 0; i < held->len; i++) {
    GstPad *pad = held->pdata[i];
    gboolean video = pad_is_video (pad);
    Entry *e;

    if (in->entries[video])
      continue;
    e = entry_new (in, video, g_object_get_data (G_OBJECT (pad), "noom-caps"));
    g_mutex_lock (&in->lock);
    in->entries[video] = e;
    g_mutex_unlock (&in->lock);
  }

  if (!in->entries[0] && !in->entries[1]) {
    g_printerr ("noom-ingest: %s has no audio or video to send\n",
        in->source_uri);
    in->exit_code = 1;
    g_main_loop_quit (in->loop);
    g_ptr_array_unref (held);
    return G_SOURCE_REMOVE;
  }
  /* The pipeline may still be on its way to PAUSED (decodebin's async
   * state change): what it does not know of yet would stay in NULL and
   * refuse the data with FLUSHING. */
  gst_bin_sync_children_states (GST_BIN (in->pipeline));
  gst_element_set_state (in->pipeline, GST_STATE_PLAYING);

  for (i = 0; i < held->len; i++) {
    GstPad *pad = held->pdata[i];
    gulong id = GPOINTER_TO_SIZE (g_object_get_data (G_OBJECT (pad),
            "noom-hold"));
    Entry *e = in->entries[pad_is_video (pad)];
    gboolean claimed;
    GstClockTime offset;

    g_mutex_lock (&in->lock);
    claimed = claim_entry (in, e);
    offset = in->offset;
    g_mutex_unlock (&in->lock);
    if (claimed) {
      connect_pad (in, pad, e, offset);
    } else {
      GstElement *drop = gst_element_factory_make ("fakesink", NULL);
      GstPad *dpad = gst_element_get_static_pad (drop, "sink");

      /* noomsink sends one stream of each kind. */
      g_object_set (drop, "sync", FALSE, "async", FALSE, NULL);
      gst_bin_add (GST_BIN (in->pipeline), drop);
      gst_element_sync_state_with_parent (drop);
      gst_pad_link (pad, dpad);
      gst_object_unref (dpad);
    }
    gst_pad_remove_probe (pad, id);
  }
  g_ptr_array_unref (held);
  return G_SOURCE_REMOVE;
}

static void
on_source_pad (GstElement * src, GstPad * pad, Ingest * in)
{
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *name;
  gboolean video, claimed;
  GstClockTime offset;
  Entry *e;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));
  video = g_str_has_prefix (name, "video/");
  if (!video && !g_str_has_prefix (name, "audio/")) {
    gst_caps_unref (caps);
    return;
  }
  g_object_set_data_full (G_OBJECT (pad), "noom-caps", caps,
      (GDestroyNotify) gst_caps_unref);

  g_mutex_lock (&in->lock);
  if (!in->entries_fixed) {
    gulong id = gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BLOCK_DOWNSTREAM,
        hold_probe, NULL, NULL);

    /* Held until noomsink is set up with every stream of the source. */
    g_object_set_data (G_OBJECT (pad), "noom-hold", GSIZE_TO_POINTER (id));
    if (!in->held)
      in->held = g_ptr_array_new_with_free_func (gst_object_unref);
    g_ptr_array_add (in->held, gst_object_ref (pad));
    /* Live sources may never say no-more-pads. */
    if (!in->setup_id)
      in->setup_id = g_timeout_add (SETUP_WAIT_MS, setup_sink, in);
    g_mutex_unlock (&in->lock);
    return;
  }
  e = in->entries[video];
  /* A second stream of a kind, or one the first source did not have, is
   * not claimed: noomsink sends one of each. */
  claimed = claim_entry (in, e);
  offset = in->offset;
  g_mutex_unlock (&in->lock);
  if (claimed)
    connect_pad (in, pad, e, offset);
}

static void
on_no_more_pads (GstElement * src, Ingest * in)
{
  g_mutex_lock (&in->lock);
  if (!in->entries_fixed && in->held) {
    if (in->setup_id)
      g_source_remove (in->setup_id);
    in->setup_id = g_idle_add (setup_sink, in);
  }
  g_mutex_unlock (&in->lock);
}

static void
stop_source (Ingest * in)
{
  guint i;

  if (!in->source)
    return;
  gst_element_set_locked_state (in->source, TRUE);
  gst_element_set_state (in->source, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (in->pipeline), in->source);
  in->source = NULL;
  g_mutex_lock (&in->lock);
  for (i = 0; i < 2; i++)
    if (in->entries[i])
      in->entries[i]->linked = in->entries[i]->ended = FALSE;
  g_clear_pointer (&in->held, g_ptr_array_unref);
  if (in->setup_id) {
    g_source_remove (in->setup_id);
    in->setup_id = 0;
  }
  g_mutex_unlock (&in->lock);
}

static gboolean
start_source (gpointer data)
{
  Ingest *in = data;
  GstElement *src;

  in->restart_id = 0;
  stop_source (in);
  src = gst_element_factory_make ("uridecodebin", NULL);
  g_object_set (src, "uri", in->source_uri, NULL);
  if (in->passthrough) {
    GstCaps *caps = gst_caps_from_string ("video/x-raw(ANY); "
        "audio/x-raw(ANY); video/x-vp8; video/x-h264; audio/x-opus");

    g_object_set (src, "caps", caps, NULL);
    gst_caps_unref (caps);
  }
  g_signal_connect (src, "pad-added", G_CALLBACK (on_source_pad), in);
  g_signal_connect (src, "no-more-pads", G_CALLBACK (on_no_more_pads), in);
  g_mutex_lock (&in->lock);
  in->offset = GST_STATE (in->pipeline) == GST_STATE_PLAYING ?
      running_time (in) : 0;
  in->position = GST_CLOCK_TIME_NONE;
  in->source_started_us = g_get_monotonic_time ();
  g_mutex_unlock (&in->lock);
  in->source = src;
  gst_bin_add (GST_BIN (in->pipeline), src);
  if (!gst_element_sync_state_with_parent (src))
    g_printerr ("noom-ingest: could not start the source\n");
  return G_SOURCE_REMOVE;
}

static void
source_failed (Ingest * in, const GError * error)
{
  guint delay;

  if (in->restart_id)
    return;
  in->failures++;
  if (g_get_monotonic_time () - in->source_started_us > HEALTHY_US)
    in->failures = 1;
  clear_line (in);
  if (in->max_retries >= 0 && (gint) in->failures > in->max_retries) {
    g_printerr ("noom-ingest: %s: %s (giving up after %u attempts)\n",
        in->source_uri, error->message, in->failures);
    in->exit_code = 1;
    g_main_loop_quit (in->loop);
    return;
  }
  delay = MIN (BACKOFF_MAX_MS, BACKOFF_MIN_MS << MIN (in->failures - 1, 10));
  g_printerr ("noom-ingest: %s: %s; retrying in %.1f s\n", in->source_uri,
      error->message, delay / 1000.0);
  in->retries++;
  stop_source (in);
  in->restart_id = g_timeout_add (delay, start_source, in);
}

/* ------------------------------------------------------------------------ */

static gboolean
progress_cb (gpointer data)
{
  Ingest *in = data;
  g_autofree gchar *pos = NULL, *dur = NULL;
  guint loops, retries;
  GstClockTime position, duration;

  g_mutex_lock (&in->lock);
  position = in->position;
  loops = in->loops;
  retries = in->retries;
  g_mutex_unlock (&in->lock);
  duration = GST_CLOCK_TIME_NONE;
  if (in->source) {
    gint64 d;

    GstIterator *it = gst_element_iterate_src_pads (in->source);
    GValue v = G_VALUE_INIT;

    /* Asked of a stream, the demuxer answers; the bin has no sink to ask. */
    if (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      if (gst_pad_query_duration (g_value_get_object (&v), GST_FORMAT_TIME,
              &d) && d > 0)
        duration = d;
      g_value_unset (&v);
    }
    gst_iterator_free (it);
  }
  pos = format_time (position);
  dur = format_time (duration);
  fprintf (stderr, "\r\033[K▶ %s  %s / %s", in->source_uri, pos, dur);
  /* With --loop, which pass this is from the start: the position starts
   * over at each one. */
  if (loops || in->loop_file)
    fprintf (stderr, "  loop %u", loops + 1);
  if (retries)
    fprintf (stderr, "  %u retr%s", retries, retries == 1 ? "y" : "ies");
  if (g_hash_table_size (in->links)) {
    GHashTableIter it;
    gpointer link;

    fputs ("  links:", stderr);
    g_hash_table_iter_init (&it, in->links);
    while (g_hash_table_iter_next (&it, NULL, &link))
      fprintf (stderr, " %s", (const gchar *) link);
  }
  fflush (stderr);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer data)
{
  Ingest *in = data;

  if (in->finishing) {
    g_main_loop_quit (in->loop);
    return G_SOURCE_REMOVE;
  }
  /* Leave the room cleanly: EOS on every stream. */
  in->loop_file = FALSE;
  if (!in->entries[0] && !in->entries[1])
    g_main_loop_quit (in->loop);
  else
    source_ended (in);
  return G_SOURCE_CONTINUE;
}

static gboolean
is_inside (GstObject * obj, GstElement * parent)
{
  for (; obj; obj = GST_OBJECT_PARENT (obj))
    if (obj == GST_OBJECT (parent))
      return TRUE;
  return FALSE;
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Ingest *in = data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) error = NULL;
      g_autofree gchar *debug = NULL;

      gst_message_parse_error (msg, &error, &debug);
      /* What the source did: retried.  A replaced source may still post
       * errors on its way out: ignored. */
      if (!is_inside (GST_MESSAGE_SRC (msg), in->pipeline))
        break;
      if (in->source && is_inside (GST_MESSAGE_SRC (msg), in->source) &&
          !in->finishing) {
        /* A file that cannot be read at all is not worth retrying. */
        if (!in->got_pads && g_str_has_prefix (in->source_uri, "file:")
            && in->loops == 0 && in->retries == 0) {
          clear_line (in);
          g_printerr ("noom-ingest: %s: %s\n", in->source_uri, error->message);
          in->exit_code = 1;
          g_main_loop_quit (in->loop);
          break;
        }
        source_failed (in, error);
        break;
      }
      clear_line (in);
      g_printerr ("noom-ingest: %s\n", error->message);
      noom_job_print_hint ("noom-ingest", error);
      if (debug && g_getenv ("NOOM_DEBUG"))
        g_printerr ("  (%s)\n", debug);
      in->exit_code = 1;
      g_main_loop_quit (in->loop);
      break;
    }
    case GST_MESSAGE_EOS:
      g_main_loop_quit (in->loop);
      break;
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (gst_structure_has_name (s, "noom-bandwidth") &&
          gst_structure_get_string (s, "id")) {
        guint estimate = 0, layer = 1, encoder = 0;
        const gchar *nick = gst_structure_get_string (s, "nickname");

        gst_structure_get_uint (s, "estimated-bitrate", &estimate);
        gst_structure_get_uint (s, "layer", &layer);
        gst_structure_get_uint (s, "encoder-bitrate", &encoder);
        /* layer 0: half the frame rate, for a slow link */
        g_hash_table_insert (in->links,
            g_strdup (gst_structure_get_string (s, "id")),
            g_strdup_printf ("%s %uk%s", nick, estimate / 1000,
                layer == 0 ? " (half rate)" : ""));
        if (!in->tty && !opt_quiet)
          g_printerr ("noom-ingest: link to %s: %u kbit/s%s (encoder %u "
              "kbit/s)\n", nick, estimate / 1000, layer == 0 ?
              ", half the frame rate" : "", encoder / 1000);
        break;
      }
      if (gst_structure_has_name (s, "noom-participant-left") &&
          gst_structure_get_string (s, "id")) {
        g_hash_table_remove (in->links, gst_structure_get_string (s, "id"));
        break;
      }
      if (!gst_structure_has_name (s, "noom-joined"))
        break;
      if (!in->tty)
        g_printerr ("noom-ingest: in room %s as %s\n",
            gst_structure_get_string (s, "room"),
            gst_structure_get_string (s, "id"));
      /* once: not again after a rejoin */
      if (opt_announce && !in->announced) {
        gboolean ok = FALSE;

        in->announced = TRUE;
        g_signal_emit_by_name (in->sink, "send-chat", opt_announce, &ok);
        if (!ok)
          g_printerr ("noom-ingest: --announce: could not write \"%s\" to "
              "the chat\n", opt_announce);
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  Ingest in = { 0 };
  GstBus *bus;
  gint status;
  guint i;

  ctx = g_option_context_new ("SOURCE URI - publish a file or stream into "
      "a Noom room");
  g_option_context_set_summary (ctx,
      "SOURCE is a file name or any URI GStreamer reads (http(s), HLS,\n"
      "rtsp://, rtmp://, srt://, ...); URI is the room,\n"
      "noom://HOST[:PORT]/ROOM.  Files play in real time.");
  if ((status = noom_job_parse ("noom-ingest", ctx, entries, 2,
              "expected SOURCE and a room URI", &argc, &argv)) >= 0)
    return status;

  /* noom:// is never a source: the arguments were given the other way
   * round. */
  if (g_str_has_prefix (argv[1], "noom://")
      || g_str_has_prefix (argv[1], "nooms://")) {
    g_printerr ("noom-ingest: the source comes first, the room last: did you "
        "mean noom-ingest %s %s?\n", argv[2], argv[1]);
    return 2;
  }
  if (gst_uri_is_valid (argv[1])) {
    in.source_uri = g_strdup (argv[1]);
  } else {
    in.source_uri = gst_filename_to_uri (argv[1], &error);
    if (!in.source_uri) {
      g_printerr ("noom-ingest: %s: %s\n", argv[1], error->message);
      return 2;
    }
    if (!g_file_test (argv[1], G_FILE_TEST_IS_REGULAR)) {
      g_printerr ("noom-ingest: %s: no such file\n", argv[1]);
      g_free (in.source_uri);
      return 1;
    }
  }

  in.sink = gst_element_factory_make ("noomsink", NULL);
  if (!in.sink) {
    g_printerr ("noom-ingest: the noomsink element is missing (is the noom "
        "plugin on GST_PLUGIN_PATH?)\n");
    g_free (in.source_uri);
    return 1;
  }
  if (!gst_uri_handler_set_uri (GST_URI_HANDLER (in.sink), argv[2], &error)) {
    g_printerr ("noom-ingest: %s: %s\n", argv[2], error->message);
    gst_object_unref (in.sink);
    g_free (in.source_uri);
    return 2;
  }
  if (opt_nickname)
    g_object_set (in.sink, "nickname", opt_nickname, NULL);
  else if (!strstr (argv[2], "nickname="))
    g_object_set (in.sink, "nickname", "ingest", NULL);
  if (!noom_job_configure ("noom-ingest", in.sink)) {
    gst_object_unref (in.sink);
    g_free (in.source_uri);
    return 2;
  }

  in.tty = isatty (STDERR_FILENO) && !opt_quiet;
  in.loop_file = opt_loop;
  in.passthrough = opt_passthrough;
  in.max_retries = opt_retries;
  in.loop = g_main_loop_new (NULL, FALSE);
  g_mutex_init (&in.lock);
  in.links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  in.duration = GST_CLOCK_TIME_NONE;
  in.pipeline = gst_pipeline_new ("noom-ingest");
  bus = gst_pipeline_get_bus (GST_PIPELINE (in.pipeline));
  gst_bus_add_watch (bus, on_bus, &in);
  gst_object_unref (bus);
  noom_job_watch_stop_signals (on_signal, &in);
  if (in.tty)
    g_timeout_add (500, progress_cb, &in);

  /* PAUSED until the source shows its streams (setup_sink). */
  start_source (&in);
  if (gst_element_set_state (in.pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("noom-ingest: could not start\n");
    in.exit_code = 1;
  } else {
    g_main_loop_run (in.loop);
  }
  clear_line (&in);
  gst_element_set_state (in.pipeline, GST_STATE_NULL);
  if (in.exit_code == 0)
    printf ("noom-ingest: done (%u loop%s, %u retr%s)\n", in.loops + 1,
        in.loops ? "s" : "", in.retries, in.retries == 1 ? "y" : "ies");
  if (!GST_OBJECT_PARENT (in.sink))
    gst_object_unref (in.sink);
  gst_object_unref (in.pipeline);
  g_clear_pointer (&in.held, g_ptr_array_unref);
  for (i = 0; i < 2; i++) {
    if (in.entries[i]) {
      gst_object_unref (in.entries[i]->head);
      g_free (in.entries[i]);
    }
  }
  g_mutex_clear (&in.lock);
  g_hash_table_unref (in.links);
  g_main_loop_unref (in.loop);
  g_free (in.source_uri);
  return in.exit_code;
}
