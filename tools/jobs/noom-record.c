/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-record: the recording bot.  Joins a room with noomsrc (decode=false)
 * and writes each participant's media, as received, into its own Matroska
 * file: DIR/ROOM/NICKNAME-ID-STARTTIME.mkv.  A file starts when the
 * participant's first track appears and ends when they leave; whoever comes
 * back gets a new file.
 *
 *   noomsrc --video_0--> [queue -> matroskamux -> filesink]  alice's bin
 *           --audio_0--> [queue ------^                   ]
 *           --video_1--> [queue -> matroskamux -> filesink]  bob's bin
 *
 * Crash safety: matroskamux in its ordinary (seekable) mode writes clusters
 * sequentially and only goes back at the end to fill in the duration, the
 * cues and the tags; filesink writes unbuffered, so every block is in the
 * kernel as soon as it is muxed.  A kill -9 leaves a file whose clusters
 * play up to the last one written (matroskademux handles the unknown
 * segment and cluster sizes), and SIGINT/SIGTERM end every stream with EOS
 * so the file gets its index and duration.  splitmuxsink would lose less
 * metadata but breaks the one-file-per-presence rule, and streamable mode
 * never writes the duration even on a clean stop.
 *
 * Tracks of one participant appear one after the other (webrtcbin exposes
 * a pad when its first packet arrives), and a muxer cannot take a track
 * once it wrote its header: each track waits in a blocked queue until the
 * participant has both audio and video, or START_WAIT_MS have passed.
 *
 * A track that comes later still (a camera turned on after the recorder
 * joined, a track added by renegotiation) cannot join a Matroska file that
 * has its header: the presence goes on in a new file, a piece, named so
 * that the pieces sort in order (NICKNAME-ID-STARTTIME.mkv, then
 * NICKNAME-ID-STARTTIME.part002.mkv, ...).  The tracks already recorded
 * move to the new piece when each is idle, the old piece gets EOS and is
 * finished, and the new piece has every track.  Its video starts at a key
 * frame, which it asks the sender for.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/video/video.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "noom-composite.h"
#include "noom-job.h"

/* A participant's shared screen (noomsrc's screen_%u pads) is a recording
 * of its own, DIR/NICKNAME-screen-ID-STARTTIME.mkv, with that one video
 * track: it starts with the screen's first frame, without waiting for
 * anything else, and ends when the participant leaves, like the other. */

/* A busy machine (four browsers and the recorder on two cores) exposes a
 * participant's video seconds after its audio: waiting longer costs only
 * the delay before the file starts (the queue holds 10 s), and a track
 * later still starts a new piece. */
#define START_WAIT_MS 5000
/* While a new piece's video waits for a key frame, ask again this often. */
#define KEY_UNIT_RETRY (1 * GST_SECOND)
#define STOP_TIMEOUT_S 10

typedef struct _Recorder Recorder;

typedef struct
{
  GstPad *ghost;                /* the recording bin's sink pad */
  GstElement *queue;
  gulong block_id;
  gboolean video;
  /* video: drop until a key frame (a piece starts with one) */
  gboolean have_key;
  GstClockTime asked_key;       /* running time of the last request */
} Input;

typedef struct
{
  Recorder *rec;
  gchar *id;
  gchar *nickname;
  gboolean screen;              /* the participant's shared screen */
  gchar *base;                  /* DIR/NICKNAME-ID-STARTTIME, every piece's */
  guint piece;                  /* 1, 2, ...: the presence's files */
  gchar *path;
  GstElement *bin;
  GstElement *mux;
  GstElement *sink;
  GPtrArray *inputs;            /* Input* */
  /* NoomCompositeBranch*: each track's branch into the composite (a camera
   * and a screen are two tiles) */
  GPtrArray *branches;
  guint start_timeout;
  gboolean started;
  gboolean left;                /* EOS reached the end: file closed */
  gboolean continued;           /* ended for a new piece, not by leaving */
  gint64 begin_us;              /* monotonic, first track */
  gint64 end_us;
  guint64 bytes;
} Recording;

struct _Recorder
{
  GMainLoop *loop;
  GstElement *pipeline;
  GstElement *src;
  gchar *room;
  gchar *dir;
  gboolean tty;
  gboolean verbose;
  gboolean announce;            /* to the room's chat (no --quiet) */
  gboolean stopping;
  gboolean joined;              /* was in the room at least once */
  gboolean made_dir, made_output;       /* we created DIR/ROOM, DIR */
  gint exit_code;
  gint64 started_us;

  /* Touched by webrtcbin's streaming threads (pad-added) and the main
   * thread: under lock. */
  GMutex lock;
  GHashTable *active;           /* recording_key() -> Recording* (present) */
  GPtrArray *all;               /* every Recording, for the summary */

  /* --composite, --stream (noom-composite.c) */
  NoomComposite *composite;
  gchar *composite_path;

  /* What comes from each participant (main thread): links_cb */
  GHashTable *links;            /* participant id -> Link* */
  gchar *links_text;            /* for the status line */
};

typedef struct
{
  guint64 bytes;                /* bytes-received at @at_us */
  gint64 at_us;
  gint layer;                   /* VP8 temporal layers that come, -1: not told */
} Link;

static gboolean opt_composite;
static gboolean opt_verbose;
static gboolean opt_quiet;
static gchar *opt_output;
static gchar *opt_nickname;
static gchar *opt_participant;

static GOptionEntry entries[] = {
  {"output", 'o', 0, G_OPTION_ARG_FILENAME, &opt_output,
      "Directory to write into; files go to DIR/ROOM/ (default: .)", "DIR"},
  {"composite", 'c', 0, G_OPTION_ARG_NONE, &opt_composite,
      "Also write DIR/ROOM/composite-STARTTIME.mkv: everyone laid out "
        "(--layout), the audio mixed, in H.264 and AAC", NULL},
  {"nickname", 'n', 0, G_OPTION_ARG_STRING, &opt_nickname,
      "Our nickname in the room (default: recorder)", "NAME"},
  {"participant", 'p', 0, G_OPTION_ARG_STRING, &opt_participant,
      "Record only this participant (a nickname or an id)", "NAME"},
  {"verbose", 'v', 0, G_OPTION_ARG_NONE, &opt_verbose,
      "Print one line per file started and finished", NULL},
  {"quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet,
      "Say nothing in the room's chat (by default: \"Recording started\" "
        "and \"Recording stopped\" with the participant's name)", NULL},
  {NULL}
};

/* ------------------------------------------------------------------------ */

static gchar *
safe_name (const gchar * s)
{
  GString *out = g_string_new (NULL);
  const gchar *p;

  /* A nickname or room is any Unicode text: keep it readable but never a
   * path separator, a control character or a hidden file. */
  for (p = s; p && *p; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    /* and no space: a file name a shell takes as one word */
    if (c == '/' || c == '\\' || c < 0x20 || c == 0x7f || (c == '.'
            && out->len == 0) || g_unichar_isspace (c))
      g_string_append_c (out, '_');
    else
      g_string_append_unichar (out, c);
  }
  if (out->len == 0)
    g_string_append (out, "_");
  return g_string_free (out, FALSE);
}

static void
say (Recorder * rec, const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  noom_job_logv ("noom-record", rec->verbose, rec->tty, format, args);
  va_end (args);
}

/* Writes to the room's chat, unless --quiet: everyone sees what is
 * recorded (the web client shows the recorder's badge too). */
static void
announce (Recorder * rec, const gchar * format, ...)
{
  va_list args;
  g_autofree gchar *text = NULL;
  gboolean ok = FALSE;

  if (!rec->announce)
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_signal_emit_by_name (rec->src, "send-chat", text, &ok);
  if (!ok)
    say (rec, "not said in the chat (out of the room): %s", text);
}

static void
recording_free (Recording * r)
{
  g_free (r->id);
  g_free (r->nickname);
  g_free (r->base);
  g_free (r->path);
  if (r->inputs)
    g_ptr_array_unref (r->inputs);
  if (r->branches)
    g_ptr_array_unref (r->branches);
  g_free (r);
}

static void
input_free (Input * in)
{
  gst_object_unref (in->ghost);
  g_free (in);
}

/* ------------------------------------------------------------------------ */
/* one participant's file (rec->lock held) */

static GstPadProbeReturn
block_cb (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  return GST_PAD_PROBE_OK;
}

static gboolean start_timeout_cb (gpointer data);

static gboolean
path_taken (const gchar * base)
{
  g_autofree gchar *file = g_strdup_printf ("%s.mkv", base);

  return g_file_test (file, G_FILE_TEST_EXISTS);
}

/* rec->active's key of participant @id's recording, or with @screen of
 * its shared screen's (ids are [A-Za-z0-9_-]: no clash). */
static gchar *
recording_key (const gchar * id, gboolean screen)
{
  return screen ? g_strdup_printf ("%s/screen", id) : g_strdup (id);
}

/* A new file for participant @id (with @screen, for its shared screen):
 * its first piece, or with @prev the next piece of the same presence. */
static Recording *
recording_new (Recorder * rec, const gchar * id, const gchar * nickname,
    gboolean screen, Recording * prev)
{
  g_autofree gchar *title = NULL;
  Recording *r = g_new0 (Recording, 1);
  GstTagList *tags;
  guint n;

  r->rec = rec;
  r->id = g_strdup (id);
  r->nickname = g_strdup (nickname);
  r->screen = screen;
  if (prev) {
    r->base = g_strdup (prev->base);
    r->piece = prev->piece + 1;
    /* ".part002" sorts after the first piece's ".mkv" ('p' > 'm'), and
     * the pieces among themselves by number */
    r->path = g_strdup_printf ("%s.part%03u.mkv", r->base, r->piece);
  } else {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autofree gchar *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
    g_autofree gchar *nick = safe_name (nickname);
    g_autofree gchar *sid = safe_name (id);
    g_autofree gchar *stem = g_strdup_printf ("%s-%s%s-%s", nick,
        screen ? "screen-" : "", sid, stamp);

    r->piece = 1;
    r->base = g_build_filename (rec->dir, stem, NULL);
    for (n = 1; path_taken (r->base); n++) {
      g_free (r->base);
      r->base = g_strdup_printf ("%s/%s-%u", rec->dir, stem, n);
    }
    r->path = g_strdup_printf ("%s.mkv", r->base);
  }
  r->inputs = g_ptr_array_new_with_free_func ((GDestroyNotify) input_free);
  r->begin_us = g_get_monotonic_time ();

  r->bin = gst_bin_new (NULL);
  r->mux = gst_element_factory_make ("matroskamux", NULL);
  r->sink = gst_element_factory_make ("filesink", NULL);
  /* Unbuffered: what was muxed is in the kernel and survives kill -9. */
  g_object_set (r->sink, "location", r->path, "buffer-mode", 2, "async",
      FALSE, NULL);
  g_object_set (r->mux, "offset-to-zero", TRUE, "writing-app",
      "noom-record", NULL);
  /* The muxer writes these in the Tags element at the end; noomsrc's own
   * tag event says the same. */
  title = screen ? g_strdup_printf ("%s's screen", nickname) :
      g_strdup (nickname);
  tags = gst_tag_list_new (GST_TAG_TITLE, title, GST_TAG_ARTIST, nickname,
      GST_TAG_ALBUM, rec->room, GST_TAG_COMMENT, id, NULL);
  gst_tag_setter_merge_tags (GST_TAG_SETTER (r->mux), tags,
      GST_TAG_MERGE_REPLACE);
  gst_tag_list_unref (tags);
  gst_bin_add_many (GST_BIN (r->bin), r->mux, r->sink, NULL);
  gst_element_link (r->mux, r->sink);
  gst_bin_add (GST_BIN (rec->pipeline), r->bin);
  gst_element_sync_state_with_parent (r->bin);

  g_hash_table_replace (rec->active, recording_key (id, screen), r);
  g_ptr_array_add (rec->all, r);
  if (!prev) {
    r->start_timeout = g_timeout_add (START_WAIT_MS, start_timeout_cb, r);
    say (rec, screen ? "%s shares a screen: %s" : "%s joined: %s", nickname,
        r->path);
  }
  return r;
}

/* Links every waiting track to the muxer and lets the data go. */
static void
recording_start (Recording * r)
{
  guint i;

  if (r->started)
    return;
  r->started = TRUE;
  if (r->start_timeout) {
    g_source_remove (r->start_timeout);
    r->start_timeout = 0;
  }
  if (r->piece == 1 && !r->rec->stopping) {
    g_autofree gchar *file = g_path_get_basename (r->path);

    announce (r->rec, "Recording started: %s (%s)", r->nickname, file);
  }
  for (i = 0; i < r->inputs->len; i++) {
    Input *in = r->inputs->pdata[i];
    GstPad *qsink = gst_element_get_static_pad (in->queue, "sink");
    GstCaps *caps = gst_pad_get_current_caps (qsink);
    GstElement *last = in->queue;
    GstPad *mpad;
    GstPad *lsrc;

    /* H.264 from noomsrc is parsed but may be byte-stream; Matroska
     * wants avc, which h264parse converts to without transcoding. */
    if (caps && gst_structure_has_name (gst_caps_get_structure (caps, 0),
            "video/x-h264")) {
      GstElement *parse = gst_element_factory_make ("h264parse", NULL);

      gst_bin_add (GST_BIN (r->bin), parse);
      gst_element_sync_state_with_parent (parse);
      gst_element_link (in->queue, parse);
      last = parse;
    }
    mpad = gst_element_request_pad_simple (r->mux, in->video ? "video_%u" :
        "audio_%u");
    lsrc = gst_element_get_static_pad (last, "src");
    if (!mpad || gst_pad_link (lsrc, mpad) != GST_PAD_LINK_OK)
      g_warning ("%s: could not link a track to the muxer", r->path);
    gst_clear_object (&mpad);
    gst_object_unref (lsrc);
    gst_object_unref (qsink);
    gst_clear_caps (&caps);
  }
  for (i = 0; i < r->inputs->len; i++) {
    Input *in = r->inputs->pdata[i];
    GstPad *qsrc = gst_element_get_static_pad (in->queue, "src");

    gst_pad_remove_probe (qsrc, in->block_id);
    in->block_id = 0;
    gst_object_unref (qsrc);
  }
}

static gboolean
start_timeout_cb (gpointer data)
{
  Recording *r = data;

  g_mutex_lock (&r->rec->lock);
  r->start_timeout = 0;
  recording_start (r);
  g_mutex_unlock (&r->rec->lock);
  return G_SOURCE_REMOVE;
}

static gboolean
start_now_cb (gpointer data)
{
  Recording *r = data;

  g_mutex_lock (&r->rec->lock);
  recording_start (r);
  g_mutex_unlock (&r->rec->lock);
  return G_SOURCE_REMOVE;
}

/* A piece's video starts at a key frame: what comes before it cannot be
 * decoded.  The sender is asked for one (the depayloader's force-key-unit
 * becomes an RTCP PLI to it) and asked again while none comes. */
static GstPadProbeReturn
key_frame_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Input *in = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime now;
  GstClock *clock;

  if (!GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT)) {
    in->have_key = TRUE;
    return GST_PAD_PROBE_REMOVE;
  }
  clock = gst_system_clock_obtain ();
  now = gst_clock_get_time (clock);
  gst_object_unref (clock);
  if (!GST_CLOCK_TIME_IS_VALID (in->asked_key)
      || now - in->asked_key >= KEY_UNIT_RETRY) {
    in->asked_key = now;
    gst_pad_push_event (pad,
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
            TRUE, 0));
  }
  return GST_PAD_PROBE_DROP;
}

/* A track's way into piece @r: queue (held until the piece starts), and
 * with --composite a tee that also feeds the grid or the mix.  Returns the
 * new Input, whose ghost pad is for the track to link to.  rec->lock
 * held. */
static Input *
add_input (Recorder * rec, Recording * r, gboolean video)
{
  Input *in;
  GstElement *q, *tee = NULL;
  GstPad *qsrc, *qsink, *target;

  q = gst_element_factory_make ("queue", NULL);
  /* Holds the track while the muxer waits for the others. */
  g_object_set (q, "max-size-time", 10 * GST_SECOND, "max-size-bytes", 0,
      "max-size-buffers", 0, NULL);
  gst_bin_add (GST_BIN (r->bin), q);
  target = gst_element_get_static_pad (q, "sink");
  if (rec->composite) {
    GstPad *tsrc;

    /* The file's track and the grid's share one copy of the data. */
    tee = gst_element_factory_make ("tee", NULL);
    gst_bin_add (GST_BIN (r->bin), tee);
    tsrc = gst_element_request_pad_simple (tee, "src_%u");
    gst_pad_link (tsrc, target);
    gst_object_unref (tsrc);
    gst_object_unref (target);
    target = gst_element_get_static_pad (tee, "sink");
  }

  in = g_new0 (Input, 1);
  in->video = video;
  in->queue = q;
  in->asked_key = GST_CLOCK_TIME_NONE;
  in->ghost = gst_object_ref (gst_ghost_pad_new (NULL, target));
  gst_object_unref (target);
  qsrc = gst_element_get_static_pad (q, "src");
  if (!r->started)
    in->block_id = gst_pad_add_probe (qsrc, GST_PAD_PROBE_TYPE_BLOCK |
        GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, block_cb, NULL, NULL);
  gst_object_unref (qsrc);
  if (video && r->piece > 1) {
    qsink = gst_element_get_static_pad (q, "sink");
    gst_pad_add_probe (qsink, GST_PAD_PROBE_TYPE_BUFFER, key_frame_probe,
        in, NULL);
    gst_object_unref (qsink);
  }
  gst_pad_set_active (in->ghost, TRUE);
  gst_element_add_pad (r->bin, in->ghost);

  g_ptr_array_add (r->inputs, in);
  if (tee) {
    NoomCompositeBranch *b = noom_composite_add (rec->composite,
        GST_BIN (r->bin), tee, in->ghost, r->id, r->nickname, video);

    if (b) {
      if (!r->branches)
        r->branches = g_ptr_array_new ();
      g_ptr_array_add (r->branches, b);
    }
    gst_element_sync_state_with_parent (tee);
  }
  gst_bin_sync_children_states (GST_BIN (r->bin));
  return in;
}

typedef struct
{
  GstPad *from;                 /* the old piece's sink pad */
  GstPad *to;                   /* the new piece's */
} Move;

static void
move_free (gpointer data)
{
  Move *m = data;

  gst_object_unref (m->from);
  gst_object_unref (m->to);
  g_free (m);
}

/* The track is idle (between two buffers, or nothing flowing): it goes on
 * in the new piece, and the old piece's copy of it ends. */
static GstPadProbeReturn
move_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Move *m = data;

  gst_pad_unlink (pad, m->from);
  if (gst_pad_link (pad, m->to) != GST_PAD_LINK_OK)
    g_printerr ("noom-record: could not move %s:%s to the new file\n",
        GST_DEBUG_PAD_NAME (pad));
  gst_pad_send_event (m->from, gst_event_new_eos ());
  /* it ended meanwhile: the new piece's copy ends too */
  if (GST_PAD_IS_EOS (pad))
    gst_pad_send_event (m->to, gst_event_new_eos ());
  return GST_PAD_PROBE_REMOVE;
}

/* A track came after piece @r wrote its header: a new piece takes every
 * track of @r, and @r is finished.  Returns the new piece, not started yet
 * (the new track joins it before it starts).  rec->lock held. */
static Recording *
next_piece (Recorder * rec, Recording * r)
{
  Recording *next = recording_new (rec, r->id, r->nickname, r->screen, r);
  guint i;

  r->continued = TRUE;
  for (i = 0; i < r->inputs->len; i++) {
    Input *old = r->inputs->pdata[i];
    GstPad *upstream = gst_pad_get_peer (old->ghost);
    Input *in;
    Move *m;

    if (!upstream)
      continue;                 /* that track ended */
    in = add_input (rec, next, old->video);
    m = g_new0 (Move, 1);
    m->from = gst_object_ref (old->ghost);
    m->to = gst_object_ref (in->ghost);
    gst_pad_add_probe (upstream, GST_PAD_PROBE_TYPE_IDLE, move_probe, m,
        move_free);
    gst_object_unref (upstream);
  }
  return next;
}

/* The presence @id is recording (with @screen, its shared screen).  After
 * a server restart noomsrc gives a participant who comes back (with a new
 * id) its old pads: their participant-id is the new one while the
 * recording is still filed under the old, so a new track of it finds its
 * recording through them.  rec->lock held. */
static Recording *
find_recording (Recorder * rec, const gchar * id, gboolean screen)
{
  g_autofree gchar *key = recording_key (id, screen);
  Recording *r = g_hash_table_lookup (rec->active, key);
  GHashTableIter iter;
  gpointer value;
  guint i;

  if (r)
    return r;
  g_hash_table_iter_init (&iter, rec->active);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    Recording *x = value;

    if (x->screen != screen)
      continue;
    for (i = 0; i < x->inputs->len; i++) {
      Input *in = x->inputs->pdata[i];
      GstPad *upstream = gst_pad_get_peer (in->ghost);
      g_autofree gchar *now = NULL;

      if (upstream && GST_IS_GHOST_PAD (upstream)
          && g_object_class_find_property (G_OBJECT_GET_CLASS (upstream),
              "participant-id"))
        g_object_get (upstream, "participant-id", &now, NULL);
      gst_clear_object (&upstream);
      if (!g_strcmp0 (now, id))
        return x;
    }
  }
  return NULL;
}

/* A participant renamed itself (its pads' nickname, notified from the
 * session's thread): the log, the status line and the composite's label
 * follow it; the open file keeps the name it was started with. */
static void
on_nickname (GstPad * pad, GParamSpec * pspec, Recorder * rec)
{
  g_autofree gchar *id = NULL;
  g_autofree gchar *nickname = NULL;
  g_autofree gchar *media = NULL;
  Recording *r;

  g_object_get (pad, "participant-id", &id, "nickname", &nickname, "media",
      &media, NULL);
  if (!nickname)
    return;
  g_mutex_lock (&rec->lock);
  r = find_recording (rec, id, !g_strcmp0 (media, "screen"));
  if (r && g_strcmp0 (r->nickname, nickname) != 0) {
    say (rec, "%s is now called %s", r->nickname, nickname);
    g_free (r->nickname);
    r->nickname = g_strdup (nickname);
    noom_composite_rename (rec->composite, r->id, nickname);
  }
  g_mutex_unlock (&rec->lock);
}

/* noomsrc exposed a track (webrtcbin streaming thread). */
static void
on_pad_added (GstElement * src, GstPad * pad, Recorder * rec)
{
  g_autofree gchar *id = NULL;
  g_autofree gchar *nickname = NULL;
  g_autofree gchar *media = NULL;
  Recording *r;
  Input *in;
  gboolean video, screen, has_video = FALSE, has_audio = FALSE;
  guint i;

  g_object_get (pad, "participant-id", &id, "nickname", &nickname, "media",
      &media, NULL);
  screen = !g_strcmp0 (media, "screen");
  video = screen || !g_strcmp0 (media, "video");

  g_mutex_lock (&rec->lock);
  if (rec->stopping) {
    g_mutex_unlock (&rec->lock);
    return;
  }
  r = find_recording (rec, id, screen);
  if (!r) {
    r = recording_new (rec, id, nickname ? nickname : "Anon", screen, NULL);
  } else if (r->started) {
    Recording *next;

    /* Too late for this file's header: the presence goes on in a new
     * file with every track. */
    next = next_piece (rec, r);
    say (rec, "%s: a %s track started: %s goes on in %s", r->nickname, media,
        r->path, next->path);
    r = next;
  }
  in = add_input (rec, r, video);
  g_signal_connect (pad, "notify::nickname", G_CALLBACK (on_nickname), rec);
  if (gst_pad_link (pad, in->ghost) != GST_PAD_LINK_OK)
    g_printerr ("noom-record: could not link %s's %s\n", nickname, media);

  /* Both kinds there: nothing else can come for the header.  A new piece
   * has every track there is already, a screen's file its one track. */
  for (i = 0; i < r->inputs->len; i++) {
    Input *x = r->inputs->pdata[i];

    has_video |= x->video;
    has_audio |= !x->video;
  }
  if ((has_video && has_audio) || r->piece > 1 || r->screen)
    g_idle_add (start_now_cb, r);
  g_mutex_unlock (&rec->lock);
}

/* The recording bin posted EOS: the file is complete. */
static void
recording_finished (Recorder * rec, GstElement * bin)
{
  Recording *r = NULL;
  guint i;
  GStatBuf st;

  g_mutex_lock (&rec->lock);
  for (i = 0; i < rec->all->len; i++) {
    Recording *x = rec->all->pdata[i];

    if (x->bin == bin && !x->left)
      r = x;
  }
  if (!r) {
    g_mutex_unlock (&rec->lock);
    return;
  }
  r->left = TRUE;
  r->end_us = g_get_monotonic_time ();
  {
    g_autofree gchar *key = recording_key (r->id, r->screen);

    if (g_hash_table_lookup (rec->active, key) == r)
      g_hash_table_remove (rec->active, key);
  }
  while (r->branches && r->branches->len)
    noom_composite_remove (rec->composite,
        g_ptr_array_steal_index (r->branches, r->branches->len - 1));
  g_mutex_unlock (&rec->lock);

  gst_element_set_locked_state (bin, TRUE);
  gst_element_set_state (bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (rec->pipeline), bin);
  r->bin = NULL;
  if (g_stat (r->path, &st) == 0)
    r->bytes = st.st_size;
  {
    g_autofree gchar *d = noom_job_format_duration (r->end_us - r->begin_us);

    if (r->continued)
      say (rec, "%s: finished %s (%s, %" G_GUINT64_FORMAT " bytes)",
          r->nickname, r->path, d, r->bytes);
    else
      say (rec, "%s left: %s (%s, %" G_GUINT64_FORMAT " bytes)", r->nickname,
          r->path, d, r->bytes);
    /* when we stop, stop() said it for everyone before leaving; the
     * camera's file says it for the screen's */
    if (!r->continued && !rec->stopping && !r->screen)
      announce (rec, "Recording stopped: %s left (%s)", r->nickname, d);
  }
}

static gboolean
all_finished (Recorder * rec)
{
  gboolean ret;

  g_mutex_lock (&rec->lock);
  ret = g_hash_table_size (rec->active) == 0;
  g_mutex_unlock (&rec->lock);
  return ret;
}

/* ------------------------------------------------------------------------ */
/* status, stop */

static guint64
bytes_written (Recorder * rec, guint * files)
{
  guint64 total = 0;
  guint i;

  g_mutex_lock (&rec->lock);
  for (i = 0; i < rec->all->len; i++) {
    Recording *r = rec->all->pdata[i];
    GStatBuf st;

    if (g_stat (r->path, &st) == 0)
      total += st.st_size;
  }
  if (rec->composite_path) {
    GStatBuf st;

    if (g_stat (rec->composite_path, &st) == 0)
      total += st.st_size;
  }
  *files = rec->all->len + (rec->composite_path ? 1 : 0);
  g_mutex_unlock (&rec->lock);
  return total;
}

/* Every 2 s, from noomsrc's stats: how fast each participant's media
 * comes, and whether a noomsink sends us its VP8 at half the frame rate
 * (layer 0: its estimate of the link to us is low, docs/elements.md
 * "Bandwidth adaptation").  A change of layer is a log line (-v); the
 * rates go on the status line. */
static gboolean
links_cb (gpointer data)
{
  Recorder *rec = data;
  GstStructure *stats = NULL;
  const GValue *list;
  GString *text = g_string_new (NULL);
  gint64 now = g_get_monotonic_time ();
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key;
  gboolean stopping;
  guint i;

  g_mutex_lock (&rec->lock);
  stopping = rec->stopping;
  g_mutex_unlock (&rec->lock);
  if (stopping) {
    g_string_free (text, TRUE);
    return G_SOURCE_REMOVE;
  }
  g_object_get (rec->src, "stats", &stats, NULL);
  list = stats ? gst_structure_get_value (stats, "participants") : NULL;
  for (i = 0; list && i < gst_value_array_get_size (list); i++) {
    const GstStructure *ps =
        gst_value_get_structure (gst_value_array_get_value (list, i));
    const gchar *id = gst_structure_get_string (ps, "id");
    const gchar *nick = gst_structure_get_string (ps, "nickname");
    guint64 bytes = 0;
    guint layer_u;
    gint layer = -1;
    Link *link;

    /* the SFU relay's one connection carries everyone */
    if (!id || !nick || !g_strcmp0 (gst_structure_get_string (ps, "kind"),
            "relay"))
      continue;
    gst_structure_get_uint64 (ps, "bytes-received", &bytes);
    if (gst_structure_get_uint (ps, "video-layer", &layer_u))
      layer = layer_u;
    link = g_hash_table_lookup (rec->links, id);
    if (!link) {
      link = g_new0 (Link, 1);
      link->layer = -1;
      g_hash_table_insert (rec->links, g_strdup (id), link);
    }
    g_hash_table_add (seen, g_strdup (id));
    if (link->at_us && now > link->at_us && bytes >= link->bytes) {
      gdouble kbps = (bytes - link->bytes) * 8.0 * 1000 / (now - link->at_us);

      if (kbps >= 1000)
        g_string_append_printf (text, " %s %.1fM", nick, kbps / 1000);
      else
        g_string_append_printf (text, " %s %.0fk", nick, kbps);
      if (layer == 0)
        g_string_append (text, " (half rate)");
    }
    if (layer >= 0 && layer != link->layer && (layer == 0 || link->layer == 0))
      say (rec, layer == 0 ? "%s's video comes at half the frame rate: the "
          "link from them is slow" : "%s's video comes at the full frame "
          "rate again", nick);
    link->bytes = bytes;
    link->at_us = now;
    if (layer >= 0)
      link->layer = layer;
  }
  if (stats)
    gst_structure_free (stats);
  g_hash_table_iter_init (&iter, rec->links);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (seen, key))
      g_hash_table_iter_remove (&iter);
  g_free (rec->links_text);
  rec->links_text = text->len ? g_strdup_printf ("  links:%s", text->str) :
      NULL;
  g_string_free (text, TRUE);
  return G_SOURCE_CONTINUE;
}

static gboolean
status_cb (gpointer data)
{
  Recorder *rec = data;
  guint files, present;
  guint64 bytes = bytes_written (rec, &files);
  g_autofree gchar *d = noom_job_format_duration (g_get_monotonic_time () -
      rec->started_us);
  g_autofree gchar *size = g_format_size (bytes);
  g_autofree gchar *outputs = noom_composite_status (rec->composite);

  g_mutex_lock (&rec->lock);
  present = g_hash_table_size (rec->active);
  g_mutex_unlock (&rec->lock);
  fprintf (stderr, "\r\033[K● REC %s  %s  %u participant%s  %u file%s  %s%s%s",
      rec->room, d, present, present == 1 ? "" : "s", files,
      files == 1 ? "" : "s", size, outputs, rec->links_text ?
      rec->links_text : "");
  fflush (stderr);
  return G_SOURCE_CONTINUE;
}

static gboolean
stop_timeout_cb (gpointer data)
{
  Recorder *rec = data;

  g_printerr ("noom-record: some files did not finish within %d s\n",
      STOP_TIMEOUT_S);
  g_main_loop_quit (rec->loop);
  return G_SOURCE_REMOVE;
}

static void
stop (Recorder * rec)
{
  GList *pending = NULL, *l;
  GHashTableIter iter;
  gpointer value;
  g_autoptr (GString) names = g_string_new (NULL);

  g_mutex_lock (&rec->lock);
  if (rec->stopping) {
    g_mutex_unlock (&rec->lock);
    return;
  }
  rec->stopping = TRUE;
  g_hash_table_iter_init (&iter, rec->active);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    pending = g_list_prepend (pending, value);
  for (l = pending; l; l = l->next) {
    Recording *r = l->data;

    recording_start (r);
    if (names->len)
      g_string_append (names, ", ");
    g_string_append (names, r->nickname);
  }
  g_mutex_unlock (&rec->lock);
  g_list_free (pending);

  /* Before the EOS: noomsrc leaves the room with it.  The chat message
   * goes first (both go through the session thread, in order). */
  if (names->len)
    announce (rec, "Recording stopped: %s", names->str);
  else
    announce (rec, "Recording stopped");

  /* noomsrc ends every track with EOS (so every muxer finishes its file)
   * and leaves the room. */
  gst_element_send_event (rec->src, gst_event_new_eos ());
  /* The participants' tracks end with noomsrc's EOS, the composite's
   * own sources here: then the grid and the mix are done. */
  noom_composite_stop (rec->composite);
  g_timeout_add_seconds (STOP_TIMEOUT_S, stop_timeout_cb, rec);
}

static gboolean
composite_done (Recorder * rec)
{
  return noom_composite_done (rec->composite);
}

static void
maybe_quit (Recorder * rec)
{
  if (rec->stopping && all_finished (rec) && composite_done (rec))
    g_main_loop_quit (rec->loop);
}

static gboolean
on_signal (gpointer data)
{
  Recorder *rec = data;

  if (rec->stopping) {
    g_printerr ("noom-record: stopping already, waiting for the files\n");
    return G_SOURCE_CONTINUE;
  }
  say (rec, "stopping: finishing every file");
  stop (rec);
  maybe_quit (rec);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Recorder *rec = data;

  /* its outputs' errors (retried), its levels, its end */
  if (noom_composite_handle_message (rec->composite, msg)) {
    maybe_quit (rec);
    return G_SOURCE_CONTINUE;
  }
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) error = NULL;
      g_autofree gchar *debug = NULL;

      gst_message_parse_error (msg, &error, &debug);
      g_printerr ("%snoom-record: %s\n", rec->tty ? "\r\033[K" : "",
          error->message);
      noom_job_print_hint ("noom-record", error);
      if (debug && rec->verbose)
        g_printerr ("  (%s)\n", debug);
      rec->exit_code = 1;
      g_main_loop_quit (rec->loop);
      break;
    }
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) error = NULL;

      gst_message_parse_warning (msg, &error, NULL);
      say (rec, "warning: %s", error->message);
      break;
    }
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (gst_structure_has_name (s, "GstBinForwarded")) {
        GstMessage *inner = NULL;

        gst_structure_get (s, "message", GST_TYPE_MESSAGE, &inner, NULL);
        if (inner && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_EOS) {
          if (GST_IS_BIN (GST_MESSAGE_SRC (inner))) {
            recording_finished (rec, GST_ELEMENT (GST_MESSAGE_SRC (inner)));
          }
          maybe_quit (rec);
        }
        gst_clear_message (&inner);
      } else if (gst_structure_has_name (s, "noom-joined")) {
        rec->joined = TRUE;
        say (rec, "in room %s as %s", gst_structure_get_string (s, "room"),
            gst_structure_get_string (s, "id"));
      }
      break;
    }
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* Never in the room (a server that cannot be reached, a refused token):
 * leave no empty DIR/ROOM behind, nor a composite of nothing. */
static void
forget_empty_dirs (Recorder * rec)
{
  if (rec->composite_path) {
    g_unlink (rec->composite_path);
    g_clear_pointer (&rec->composite_path, g_free);
  }
  if (rec->made_dir && g_rmdir (rec->dir) == 0 && rec->made_output)
    g_rmdir (opt_output);
}

static void
print_summary (Recorder * rec)
{
  guint i, files = rec->all->len;

  if (rec->tty)
    fputs ("\r\033[K", stderr);
  for (i = 0; i < rec->all->len; i++) {
    Recording *r = rec->all->pdata[i];
    g_autofree gchar *d = NULL;
    GStatBuf st;

    if (g_stat (r->path, &st) == 0)
      r->bytes = st.st_size;
    d = noom_job_format_duration ((r->end_us ? r->end_us : g_get_monotonic_time ()) -
        r->begin_us);
    printf ("%s\t%s\t%s\t%" G_GUINT64_FORMAT "%s\n", r->path, r->nickname, d,
        r->bytes, r->left ? "" : "\t(unfinished)");
  }
  if (rec->composite_path) {
    g_autofree gchar *d = noom_job_format_duration (g_get_monotonic_time () -
        rec->started_us);
    GStatBuf st;
    guint64 bytes = g_stat (rec->composite_path, &st) == 0 ? st.st_size : 0;

    /* the same four fields as a participant's file, "(composite)" for the
     * nickname */
    printf ("%s\t(composite)\t%s\t%" G_GUINT64_FORMAT "\n",
        rec->composite_path, d, bytes);
    files++;
  }
  noom_composite_print_summary (rec->composite, stdout);
  printf ("noom-record: %u file%s in %s\n", files, files == 1 ? "" : "s",
      rec->dir);
  fflush (stdout);
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  Recorder rec = { 0 };
  g_autofree gchar *room = NULL;
  g_autofree gchar *safe_room = NULL;
  GstBus *bus;
  gint status;

  ctx = g_option_context_new ("URI - record a Noom room, one file per "
      "participant");
  g_option_context_set_summary (ctx,
      "Joins the room at URI (noom://HOST[:PORT]/ROOM) and writes each\n"
      "participant's audio and video, as received (no transcoding), to\n"
      "DIR/ROOM/NICKNAME-ID-STARTTIME.mkv.  SIGINT or SIGTERM finish every\n"
      "file and exit.");
  g_option_context_add_main_entries (ctx, noom_composite_option_entries (),
      NULL);
  if ((status = noom_job_parse ("noom-record", ctx, entries, 1,
              "expected one room URI, e.g. noom://localhost:8080/demo",
              &argc, &argv)) >= 0)
    return status;
  if (!noom_composite_check_options (&error)) {
    g_printerr ("noom-record: %s\n", error->message);
    return 2;
  }

  rec.src = gst_element_factory_make ("noomsrc", NULL);
  if (!rec.src) {
    g_printerr ("noom-record: the noomsrc element is missing (is the noom "
        "plugin on GST_PLUGIN_PATH?)\n");
    return 1;
  }
  if (!gst_uri_handler_set_uri (GST_URI_HANDLER (rec.src), argv[1], &error)) {
    g_printerr ("noom-record: %s: %s\n", argv[1], error->message);
    gst_object_unref (rec.src);
    return 2;
  }
  g_object_get (rec.src, "room", &room, NULL);
  if (!room || !*room) {
    g_printerr ("noom-record: %s names no room\n", argv[1]);
    gst_object_unref (rec.src);
    return 2;
  }
  /* A recording wants every packet more than it wants low delay: a longer
   * jitterbuffer than noomsrc's default waits for late and resent ones. */
  g_object_set (rec.src, "latency", 200, NULL);
  g_object_set (rec.src, "decode", FALSE, NULL);
  if (opt_nickname)
    g_object_set (rec.src, "nickname", opt_nickname, NULL);
  else if (!strstr (argv[1], "nickname="))
    g_object_set (rec.src, "nickname", "recorder", NULL);
  if (opt_participant)
    g_object_set (rec.src, "participant", opt_participant, NULL);
  if (!noom_job_configure ("noom-record", rec.src)) {
    gst_object_unref (rec.src);
    return 2;
  }
  /* docs/protocol.md: a recorder joins with kind "recorder" so every web
   * client shows the recording badge. */
  gst_util_set_object_arg (G_OBJECT (rec.src), "kind", "recorder");

  safe_room = safe_name (room);
  rec.room = room;
  rec.dir = g_build_filename (opt_output ? opt_output : ".", safe_room, NULL);
  rec.made_output = opt_output && !g_file_test (opt_output, G_FILE_TEST_EXISTS);
  rec.made_dir = !g_file_test (rec.dir, G_FILE_TEST_EXISTS);
  if (g_mkdir_with_parents (rec.dir, 0755) < 0) {
    g_printerr ("noom-record: cannot create %s: %s\n", rec.dir,
        g_strerror (errno));
    gst_object_unref (rec.src);
    return 1;
  }

  rec.tty = isatty (STDERR_FILENO);
  rec.verbose = opt_verbose;
  rec.announce = !opt_quiet;
  rec.loop = g_main_loop_new (NULL, FALSE);
  g_mutex_init (&rec.lock);
  rec.active = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  rec.all = g_ptr_array_new_with_free_func ((GDestroyNotify) recording_free);
  rec.pipeline = gst_pipeline_new ("noom-record");
  /* Each recording bin's EOS reaches us as GstBinForwarded. */
  g_object_set (rec.pipeline, "message-forward", TRUE, NULL);
  gst_bin_add (GST_BIN (rec.pipeline), rec.src);
  g_signal_connect (rec.src, "pad-added", G_CALLBACK (on_pad_added), &rec);
  if (opt_composite || noom_composite_wanted ()) {
    rec.composite = noom_composite_new (GST_BIN (rec.pipeline), room,
        opt_composite ? rec.dir : NULL, opt_verbose, &error);
    if (!rec.composite) {
      g_printerr ("noom-record: %s\n", error->message);
      return error->domain == G_OPTION_ERROR ? 2 : 1;
    }
    rec.composite_path = g_strdup (noom_composite_file (rec.composite));
  }

  bus = gst_pipeline_get_bus (GST_PIPELINE (rec.pipeline));
  gst_bus_add_watch (bus, on_bus, &rec);
  gst_object_unref (bus);
  noom_job_watch_stop_signals (on_signal, &rec);
  if (rec.tty)
    g_timeout_add_seconds (1, status_cb, &rec);
  rec.links = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (rec.tty || rec.verbose)
    g_timeout_add_seconds (2, links_cb, &rec);

  rec.started_us = g_get_monotonic_time ();
  if (gst_element_set_state (rec.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_printerr ("noom-record: could not start\n");
    rec.exit_code = 1;
  } else {
    g_main_loop_run (rec.loop);
  }

  gst_element_set_state (rec.pipeline, GST_STATE_NULL);
  if (!rec.joined)
    forget_empty_dirs (&rec);
  print_summary (&rec);
  gst_object_unref (rec.pipeline);
  g_clear_pointer (&rec.composite, noom_composite_free);
  g_free (rec.composite_path);
  g_hash_table_unref (rec.active);
  g_hash_table_unref (rec.links);
  g_free (rec.links_text);
  g_ptr_array_unref (rec.all);
  g_mutex_clear (&rec.lock);
  g_main_loop_unref (rec.loop);
  g_free (rec.dir);
  return rec.exit_code;
}
