/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-record's composite: the room as one picture and one sound, encoded
 * once and sent to every output.
 *
 *   participant bin:  tee -> queue -> decodebin -> videoconvert -> textoverlay(name) -+
 *                     tee -> queue -> decodebin -> audioconvert -> level ------------+ |
 *   composite bin:                                                                   | |
 *     compositor (a pad per tile, keep-aspect-ratio) -> x264enc -> h264parse -> appsink(v)
 *     audiomixer ------------------------------------> aacenc  -> aacparse  -> appsink(a)
 *     output bin, one per --stream/--composite:  appsrc(v) -> h264parse -> mux -> sink
 *                                                appsrc(a) -> aacparse ---^
 *
 * The two appsinks are a tee that no output can stop: each output has its
 * own appsrc, a leaky queue (old data dropped when it cannot keep up), and
 * no flow return or state change of an output reaches the encoders.  A
 * failing output (an RTMP server that went away) posts an error: its bin
 * is taken down and built again after 1, 2, 4 ... 30 s; it starts at a
 * key frame, asked of the encoder, with its own timeline starting at 0.
 *
 * Tiles: a camera (video_%u), a screen (screen_%u: it takes the big cell)
 * or, for a participant with audio and no video, a named placeholder.
 * Layouts: grid; speaker (the big cell for the active speaker, chosen from
 * the level of each audio branch with hysteresis); single:NICK.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <glib/gstdio.h>
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "noom-composite.h"
#include "noom-job.h"

/* An output that ran this long before failing starts its backoff over. */
#define STABLE_US (10 * G_USEC_PER_SEC)
#define MAX_RETRY_S 30
/* Active speaker: louder than the current one by SWITCH_DB for SWITCH_US,
 * and above SILENCE_DB. */
#define SWITCH_DB 6.0
#define SWITCH_US (1500 * 1000)
#define SILENCE_DB -50.0
#define OUTPUT_QUEUE (2 * GST_SECOND)

typedef enum
{
  LAYOUT_GRID,
  LAYOUT_SPEAKER,
  LAYOUT_SINGLE,
} Layout;

typedef enum
{
  TILE_CAMERA,
  TILE_SCREEN,
  TILE_AUDIO,                   /* a placeholder with the name */
} TileKind;

typedef enum
{
  OUT_RTMP,
  OUT_SRT,
  OUT_HLS,
  OUT_MP4,
  OUT_MKV,
} OutKind;

typedef struct
{
  gchar *id;
  gchar *nickname;
  TileKind kind;
  GstPad *pad;                  /* the compositor's sink pad */
  GstElement *label;            /* its textoverlay: the name */
  GPtrArray *elements;          /* TILE_AUDIO: its source, in the comp bin */
} Tile;

struct _NoomCompositeBranch
{
  gboolean video;
  gchar *id;
  GstPad *mixpad;               /* compositor or audiomixer sink pad */
  GstPad *input;                /* the participant bin's pad (noomsrc's peer) */
  Tile *tile;                   /* video */
  GstElement *level;            /* audio */
};

typedef struct
{
  NoomComposite *comp;
  gchar *target;                /* as given: URL or path */
  gchar *shown;                 /* in logs: the target, its secrets hidden */
  gchar *path;                  /* files: where this attempt writes */
  OutKind kind;
  guint attempts;
  GstElement *bin;              /* NULL while it waits for a retry */
  GstElement *vsrc, *asrc;      /* the bin's appsrcs */
  gboolean running;             /* pushing into the appsrcs */
  gboolean have_key;            /* started at a key frame */
  GstClockTime offset;          /* running time of its first key frame */
  guint retry_id;
  guint delay_s;
  gint64 started_us;
  gint64 sent_us;               /* time it ran, attempts before this one */
  gboolean failing;             /* waiting for a retry */
  gchar *error;                 /* the last failure, for the status line */
  guint64 bytes;                /* handed to it (encoded media) */
  guint64 wire;                 /* RTMP, SRT: sent, attempts before this */
} Output;

struct _NoomComposite
{
  GstBin *pipeline;
  GstElement *bin;
  GstElement *grid, *mixer, *venc, *bgv, *bga;
  gchar *room;
  gchar *file;                  /* --composite */
  gboolean verbose, tty;
  gboolean audio_only;
  gboolean stopping, done;
  Layout layout;
  gchar *single;
  gint width, height, fps;

  /* Lock order: noom-record's Recorder lock, then this one.  Taken by
   * streaming threads (pad-added, the appsinks) and the main thread. */
  GMutex lock;
  GPtrArray *tiles;             /* Tile*, in the order they came */
  GPtrArray *outputs;           /* Output* */
  GstCaps *vcaps, *acaps;
  GHashTable *levels;           /* participant id -> gdouble* dB */
  gchar *speaker;               /* participant id, speaker layout */
  gchar *candidate;
  gint64 candidate_since;
  guint speaker_timer;
  guint key_timer;
};

static gchar *opt_layout;
static gchar *opt_size;
static gint opt_fps = 30;
static gchar **opt_streams;
static gint opt_hls_segment = 2;
static gint opt_bitrate;
static gboolean opt_audio_only;

static GOptionEntry entries[] = {
  {"stream", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_streams,
        "Send the composite live to URL (rtmp://, rtmps://, srt://) or write "
        "it to a file (.m3u8: HLS, .mp4, .mkv); may be repeated",
      "URL"},
  {"layout", 0, 0, G_OPTION_ARG_STRING, &opt_layout,
      "The composite's layout: grid (default), speaker (the active speaker "
        "large) or single:NICK", "LAYOUT"},
  {"size", 0, 0, G_OPTION_ARG_STRING, &opt_size,
      "The composite's size (default 1280x720)", "WxH"},
  {"framerate", 0, 0, G_OPTION_ARG_INT, &opt_fps,
      "The composite's frame rate (default 30)", "FPS"},
  {"video-bitrate", 0, 0, G_OPTION_ARG_INT, &opt_bitrate,
      "The composite's H.264 bit rate (default: 2500 for 720p30, scaled "
        "with the size and rate)", "KBPS"},
  {"hls-segment", 0, 0, G_OPTION_ARG_INT, &opt_hls_segment,
      "HLS segment length (default 2)", "SECONDS"},
  {"audio-only", 0, 0, G_OPTION_ARG_NONE, &opt_audio_only,
      "The composite has the mixed audio only (a podcast)", NULL},
  {NULL}
};

const GOptionEntry *
noom_composite_option_entries (void)
{
  return entries;
}

gboolean
noom_composite_wanted (void)
{
  return opt_streams && opt_streams[0];
}

/* ------------------------------------------------------------------------ */

static void
say (NoomComposite * comp, const gchar * format, ...)
{
  va_list args;

  va_start (args, format);
  noom_job_logv ("noom-record", comp->verbose, comp->tty, format, args);
  va_end (args);
}

static void
tile_free (Tile * t)
{
  g_free (t->id);
  g_free (t->nickname);
  gst_clear_object (&t->label);
  gst_clear_object (&t->pad);
  g_clear_pointer (&t->elements, g_ptr_array_unref);
  g_free (t);
}

/* ------------------------------------------------------------------------ */
/* layout (comp->lock held) */

static void
place (Tile * t, gint x, gint y, gint w, gint h, guint zorder)
{
  g_object_set (t->pad, "xpos", x, "ypos", y, "width", w, "height", h,
      "alpha", 1.0, "zorder", zorder, NULL);
}

static void
hide (Tile * t)
{
  g_object_set (t->pad, "alpha", 0.0, NULL);
}

static Tile *
find_tile (NoomComposite * comp, const gchar * id, TileKind kind)
{
  guint i;

  for (i = 0; i < comp->tiles->len; i++) {
    Tile *t = comp->tiles->pdata[i];

    if (t->kind == kind && !g_strcmp0 (t->id, id))
      return t;
  }
  return NULL;
}

/* The tile in the big cell, if any: a screen first; in the speaker
 * layout, the active speaker's camera (or name). */
static Tile *
main_tile (NoomComposite * comp)
{
  Tile *t = NULL;
  guint i;

  for (i = 0; i < comp->tiles->len; i++) {
    Tile *x = comp->tiles->pdata[i];

    if (x->kind == TILE_SCREEN)
      return x;
  }
  if (comp->layout != LAYOUT_SPEAKER || comp->tiles->len == 0)
    return NULL;
  if (comp->speaker) {
    t = find_tile (comp, comp->speaker, TILE_CAMERA);
    if (!t)
      t = find_tile (comp, comp->speaker, TILE_AUDIO);
  }
  return t ? t : comp->tiles->pdata[0];
}

static void
relayout (NoomComposite * comp)
{
  const gint W = comp->width, H = comp->height;
  guint n = comp->tiles->len, i, cols, rows;
  Tile *big;

  if (n == 0)
    return;
  if (comp->layout == LAYOUT_SINGLE) {
    Tile *pick = NULL;

    /* their screen, else their camera, else their name */
    for (i = 0; i < n; i++) {
      Tile *t = comp->tiles->pdata[i];

      if (g_strcmp0 (t->nickname, comp->single) != 0)
        continue;
      if (!pick || t->kind < pick->kind || (t->kind == TILE_SCREEN))
        pick = t;
    }
    for (i = 0; i < n; i++) {
      Tile *t = comp->tiles->pdata[i];

      if (t == pick)
        place (t, 0, 0, W, H, 1);
      else
        hide (t);
    }
    return;
  }

  big = main_tile (comp);
  if (big && n > 1) {
    /* the big cell above, everyone else in a strip below */
    guint k = n - 1, j = 0;
    gint sh = H / 4, sw = W / MAX (k, 4);
    gint x0 = (W - (gint) k * sw) / 2;

    place (big, 0, 0, W, H - sh, 1);
    for (i = 0; i < n; i++) {
      Tile *t = comp->tiles->pdata[i];

      if (t == big)
        continue;
      place (t, x0 + (gint) j * sw, H - sh, sw, sh, 2);
      j++;
    }
    return;
  }
  for (cols = 1; cols * cols < n; cols++);
  rows = (n + cols - 1) / cols;
  for (i = 0; i < n; i++) {
    Tile *t = comp->tiles->pdata[i];
    guint row = i / cols, in_row = MIN (cols, n - row * cols);
    /* a last row that is not full is centred */
    gint x0 = (W - (gint) in_row * (W / (gint) cols)) / 2;

    place (t, x0 + (gint) (i % cols) * (W / (gint) cols),
        (gint) row * (H / (gint) rows), W / cols, H / rows, 1);
  }
}

static GstPad *
request_tile_pad (NoomComposite * comp)
{
  GstPad *pad = gst_element_request_pad_simple (comp->grid, "sink_%u");

  /* letterboxed in its cell, never stretched */
  gst_util_set_object_arg (G_OBJECT (pad), "sizing-policy",
      "keep-aspect-ratio");
  return pad;
}

/* A named tile for a participant with no video.  comp->lock held. */
static void
add_audio_tile (NoomComposite * comp, const gchar * id, const gchar * nickname)
{
  Tile *t;
  GstElement *src, *caps, *text;
  GstPad *srcpad;
  g_autoptr (GstCaps) c = NULL;
  guint i;

  if (comp->audio_only || find_tile (comp, id, TILE_CAMERA)
      || find_tile (comp, id, TILE_AUDIO))
    return;
  t = g_new0 (Tile, 1);
  t->id = g_strdup (id);
  t->nickname = g_strdup (nickname);
  t->kind = TILE_AUDIO;
  src = gst_element_factory_make ("videotestsrc", NULL);
  caps = gst_element_factory_make ("capsfilter", NULL);
  text = gst_element_factory_make ("textoverlay", NULL);
  g_object_set (src, "is-live", TRUE, "foreground-color", 0xff303846, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "pattern", "solid-color");
  /* a still picture: a low rate is enough, the grid repeats it */
  c = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, 640, "height",
      G_TYPE_INT, 360, "framerate", GST_TYPE_FRACTION, 5, 1,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (caps, "caps", c, NULL);
  g_object_set (text, "text", nickname, "font-desc", "Sans Bold 36",
      "shaded-background", FALSE, NULL);
  gst_util_set_object_arg (G_OBJECT (text), "halignment", "center");
  gst_util_set_object_arg (G_OBJECT (text), "valignment", "center");
  gst_bin_add_many (GST_BIN (comp->bin), src, caps, text, NULL);
  gst_element_link_many (src, caps, text, NULL);
  t->pad = request_tile_pad (comp);
  srcpad = gst_element_get_static_pad (text, "src");
  gst_pad_link (srcpad, t->pad);
  gst_object_unref (srcpad);
  t->elements = g_ptr_array_new_with_free_func (gst_object_unref);
  g_ptr_array_add (t->elements, gst_object_ref (src));
  g_ptr_array_add (t->elements, gst_object_ref (caps));
  g_ptr_array_add (t->elements, gst_object_ref (text));
  t->label = gst_object_ref (text);
  g_ptr_array_add (comp->tiles, t);
  relayout (comp);
  for (i = 0; i < t->elements->len; i++)
    gst_element_sync_state_with_parent (t->elements->pdata[i]);
}

/* comp->lock held */
static void
remove_tile (NoomComposite * comp, Tile * t)
{
  guint i;

  g_ptr_array_remove (comp->tiles, t);
  if (t->elements) {
    for (i = 0; i < t->elements->len; i++) {
      GstElement *e = t->elements->pdata[i];

      gst_element_set_locked_state (e, TRUE);
      gst_element_set_state (e, GST_STATE_NULL);
      gst_bin_remove (GST_BIN (comp->bin), e);
    }
    gst_element_release_request_pad (comp->grid, t->pad);
  }
  relayout (comp);
  tile_free (t);
}

/* ------------------------------------------------------------------------ */
/* speaker */

static gboolean
speaker_cb (gpointer data)
{
  NoomComposite *comp = data;
  GHashTableIter iter;
  gpointer key, value;
  const gchar *loudest = NULL;
  gdouble best = SILENCE_DB, current = -200.0;
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&comp->lock);
  g_hash_table_iter_init (&iter, comp->levels);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    gdouble db = *(gdouble *) value;

    if (!g_strcmp0 (key, comp->speaker))
      current = db;
    if (db > best) {
      best = db;
      loudest = key;
    }
  }
  /* Hysteresis: someone else must be clearly louder for a while, so that
   * a cough or two people talking at once does not flip the picture. */
  if (loudest && g_strcmp0 (loudest, comp->speaker) != 0
      && (!comp->speaker || best > current + SWITCH_DB)) {
    if (g_strcmp0 (loudest, comp->candidate) != 0) {
      g_free (comp->candidate);
      comp->candidate = g_strdup (loudest);
      comp->candidate_since = now;
    } else if (now - comp->candidate_since >= SWITCH_US || !comp->speaker) {
      g_free (comp->speaker);
      comp->speaker = g_strdup (loudest);
      say (comp, "active speaker: %s", loudest);
      relayout (comp);
    }
  } else {
    g_clear_pointer (&comp->candidate, g_free);
  }
  g_mutex_unlock (&comp->lock);
  return G_SOURCE_CONTINUE;
}

static void
on_level (NoomComposite * comp, GstMessage * msg)
{
  const GstStructure *s = gst_message_get_structure (msg);
  const gchar *id = g_object_get_data (G_OBJECT (GST_MESSAGE_SRC (msg)),
      "noom-id");
  const GValue *v;
  gdouble peak = -200.0, *db;
  guint i;

  if (!id || !(v = gst_structure_get_value (s, "rms")))
    return;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS {
    GValueArray *arr = g_value_get_boxed (v);

    for (i = 0; arr && i < arr->n_values; i++)
      peak = MAX (peak, g_value_get_double (&arr->values[i]));
  }
  G_GNUC_END_IGNORE_DEPRECATIONS g_mutex_lock (&comp->lock);
  db = g_hash_table_lookup (comp->levels, id);
  if (!db) {
    db = g_new (gdouble, 1);
    *db = -200.0;
    g_hash_table_insert (comp->levels, g_strdup (id), db);
  }
  /* fast attack, slow release: a pause between words keeps the level */
  *db = peak > *db ? peak : MAX (peak, *db - 3.0);
  g_mutex_unlock (&comp->lock);
}

/* ------------------------------------------------------------------------ */
/* participants' branches */

/* The name on @t: the participant's, or "NICK's screen".  comp->lock
 * held. */
static void
label_tile (Tile * t)
{
  g_autofree gchar *text = t->kind == TILE_SCREEN ?
      g_strdup_printf ("%s's screen", t->nickname) : g_strdup (t->nickname);

  if (t->label)
    g_object_set (t->label, "text", text, NULL);
}

static void
on_decodebin_pad (GstElement * dec, GstPad * pad, NoomCompositeBranch * b)
{
  GstElement *conv = g_object_get_data (G_OBJECT (dec), "noom-conv");
  GstPad *sinkpad = gst_element_get_static_pad (conv, "sink");
  NoomComposite *comp = g_object_get_data (G_OBJECT (dec), "noom-comp");
  GstPad *upstream;

  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    g_warning ("composite: could not link a decoded track");
  gst_object_unref (sinkpad);

  /* noomsrc's pad says what the track is: a screen share takes the big
   * cell (screen_%u, same properties as video_%u). */
  upstream = gst_pad_get_peer (b->input);
  if (upstream && b->video) {
    g_autofree gchar *name = gst_pad_get_name (upstream);

    if (g_str_has_prefix (name, "screen_")) {
      g_mutex_lock (&comp->lock);
      if (b->tile) {
        b->tile->kind = TILE_SCREEN;
        label_tile (b->tile);
        relayout (comp);
      }
      g_mutex_unlock (&comp->lock);
    }
  }
  gst_clear_object (&upstream);
}

/* A decoded branch of a participant's track (@tee in @bin, which is
 * linked to @input) into the grid or the mix.  Runs with the recorder's
 * lock held. */
NoomCompositeBranch *
noom_composite_add (NoomComposite * comp, GstBin * bin, GstElement * tee,
    GstPad * input, const gchar * id, const gchar * nickname, gboolean video)
{
  NoomCompositeBranch *b;
  GstElement *q, *dec, *conv, *post;
  GstPad *teepad, *qpad, *ghost, *target, *cghost;

  if (!comp || (video && comp->audio_only))
    return NULL;
  b = g_new0 (NoomCompositeBranch, 1);
  b->video = video;
  b->id = g_strdup (id);
  b->input = gst_object_ref (input);
  {
    static gint branches;
    /* its thread is called so: per-stage CPU in docs/performance.md */
    g_autofree gchar *qname = g_strdup_printf ("%s-%d", video ? "cv" : "ca",
        g_atomic_int_add (&branches, 1));

    q = gst_element_factory_make ("queue", qname);
  }
  dec = gst_element_factory_make ("decodebin", NULL);
  conv = gst_element_factory_make (video ? "videoconvert" : "audioconvert",
      NULL);
  if (video) {
    /* the name on the tile, drawn at the picture's own size: it scales
     * with the tile */
    post = gst_element_factory_make ("textoverlay", NULL);
    g_object_set (post, "text", nickname, "shaded-background", TRUE,
        "font-desc", "Sans Bold 16", NULL);
    gst_util_set_object_arg (G_OBJECT (post), "halignment", "left");
    gst_util_set_object_arg (G_OBJECT (post), "valignment", "bottom");
  } else {
    post = gst_element_factory_make ("level", NULL);
    g_object_set (post, "interval", 100 * GST_MSECOND, "post-messages", TRUE,
        NULL);
    g_object_set_data_full (G_OBJECT (post), "noom-id", g_strdup (id), g_free);
    b->level = post;
  }

  g_object_set (q, "max-size-time", 2 * GST_SECOND, "max-size-bytes", 0,
      "max-size-buffers", 0, "leaky", 2, NULL);
  gst_bin_add_many (bin, q, dec, conv, post, NULL);
  teepad = gst_element_request_pad_simple (tee, "src_%u");
  qpad = gst_element_get_static_pad (q, "sink");
  gst_pad_link (teepad, qpad);
  gst_object_unref (teepad);
  gst_object_unref (qpad);
  gst_element_link (q, dec);
  gst_element_link (conv, post);
  /* decodebin's pad appears later: link it to conv when it does. */
  g_object_set_data (G_OBJECT (dec), "noom-conv", conv);
  g_object_set_data (G_OBJECT (dec), "noom-comp", comp);
  g_signal_connect (dec, "pad-added", G_CALLBACK (on_decodebin_pad), b);

  target = gst_element_get_static_pad (post, "src");
  ghost = gst_ghost_pad_new (NULL, target);
  gst_object_unref (target);
  gst_pad_set_active (ghost, TRUE);
  gst_element_add_pad (GST_ELEMENT (bin), ghost);

  g_mutex_lock (&comp->lock);
  if (video) {
    Tile *placeholder = find_tile (comp, id, TILE_AUDIO);

    b->mixpad = request_tile_pad (comp);
    b->tile = g_new0 (Tile, 1);
    b->tile->id = g_strdup (id);
    b->tile->nickname = g_strdup (nickname);
    b->tile->kind = TILE_CAMERA;
    b->tile->pad = gst_object_ref (b->mixpad);
    b->tile->label = gst_object_ref (post);
    g_ptr_array_add (comp->tiles, b->tile);
    if (placeholder)
      remove_tile (comp, placeholder);
    relayout (comp);
  } else {
    b->mixpad = gst_element_request_pad_simple (comp->mixer, "sink_%u");
    add_audio_tile (comp, id, nickname);
  }
  g_mutex_unlock (&comp->lock);

  /* The grid lives in a sibling bin: a ghost pad on each side. */
  cghost = gst_ghost_pad_new (NULL, b->mixpad);
  gst_pad_set_active (cghost, TRUE);
  gst_element_add_pad (comp->bin, cghost);
  g_object_set_data (G_OBJECT (b->mixpad), "noom-ghost", cghost);
  if (gst_pad_link (ghost, cghost) != GST_PAD_LINK_OK)
    g_printerr ("noom-record: composite: could not add %s\n", nickname);
  return b;
}

static GstPadProbeReturn
drop_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  return GST_PAD_PROBE_DROP;
}

void
noom_composite_remove (NoomComposite * comp, NoomCompositeBranch * b)
{
  GstElement *owner;
  GstPad *cghost, *branch;

  if (!comp || !b)
    return;
  owner = b->video ? comp->grid : comp->mixer;
  g_mutex_lock (&comp->lock);
  if (b->tile) {
    remove_tile (comp, b->tile);
    b->tile = NULL;
  } else if (!b->video) {
    Tile *placeholder = find_tile (comp, b->id, TILE_AUDIO);

    if (placeholder)
      remove_tile (comp, placeholder);
    g_hash_table_remove (comp->levels, b->id);
  }
  g_mutex_unlock (&comp->lock);

  cghost = g_object_get_data (G_OBJECT (b->mixpad), "noom-ghost");
  /* The branch's queue may still push: what it pushes from now on is
   * dropped, not refused as not-linked (an error that stopped the whole
   * recording). */
  branch = gst_pad_get_peer (cghost);
  if (branch) {
    gst_pad_add_probe (branch, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM,
        drop_probe, NULL, NULL);
    gst_object_unref (branch);
  }
  gst_element_remove_pad (comp->bin, cghost);
  gst_element_release_request_pad (owner, b->mixpad);
  gst_object_unref (b->mixpad);
  gst_object_unref (b->input);
  g_free (b->id);
  g_free (b);
}

/* ------------------------------------------------------------------------ */
/* outputs */

static const gchar *
kind_name (OutKind kind)
{
  static const gchar *names[] = { "RTMP", "SRT", "HLS", "MP4", "Matroska" };
  return names[kind];
}

static gboolean
parse_target (const gchar * target, OutKind * kind)
{
  g_autofree gchar *lower = g_ascii_strdown (target, -1);

  if (g_str_has_prefix (lower, "rtmp://") || g_str_has_prefix (lower,
          "rtmps://"))
    *kind = OUT_RTMP;
  else if (g_str_has_prefix (lower, "srt://"))
    *kind = OUT_SRT;
  else if (g_str_has_suffix (lower, ".m3u8"))
    *kind = OUT_HLS;
  else if (g_str_has_suffix (lower, ".mp4"))
    *kind = OUT_MP4;
  else if (g_str_has_suffix (lower, ".mkv") || g_str_has_suffix (lower, ".mka"))
    *kind = OUT_MKV;
  else
    return FALSE;
  return TRUE;
}

static gboolean output_build (Output * out, GError ** error);

static gboolean
retry_cb (gpointer data)
{
  Output *out = data;
  g_autoptr (GError) error = NULL;

  out->retry_id = 0;
  if (out->comp->stopping)
    return G_SOURCE_REMOVE;
  if (!output_build (out, &error)) {
    g_printerr ("noom-record: %s: %s\n", out->shown, error->message);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
is_network (OutKind kind)
{
  return kind == OUT_RTMP || kind == OUT_SRT;
}

/* What @bin's network sink put on the wire in this attempt: rtmp2sink's
 * and srtsink's stats (0 when it never connected). */
static guint64
wire_bytes (GstElement * bin)
{
  g_autoptr (GstElement) sink = gst_bin_get_by_name (GST_BIN (bin), "sink");
  GstStructure *stats = NULL;
  guint64 n = 0;

  if (!sink || !g_object_class_find_property (G_OBJECT_GET_CLASS (sink),
          "stats"))
    return 0;
  g_object_get (sink, "stats", &stats, NULL);
  if (stats && !gst_structure_get_uint64 (stats, "out-bytes-total", &n))
    gst_structure_get_uint64 (stats, "bytes-sent-total", &n);
  if (stats)
    gst_structure_free (stats);
  return n;
}

/* Takes the output's bin down (main thread).  Nothing upstream waits for
 * it: the appsinks only push into its appsrcs while it runs. */
static void
output_teardown (Output * out)
{
  NoomComposite *comp = out->comp;
  GstElement *bin;
  guint64 wire;

  g_mutex_lock (&comp->lock);
  bin = out->bin;
  out->bin = NULL;
  out->running = FALSE;
  gst_clear_object (&out->vsrc);
  gst_clear_object (&out->asrc);
  g_mutex_unlock (&comp->lock);
  if (!bin)
    return;
  /* a network output's time is the time it was connected */
  wire = is_network (out->kind) ? wire_bytes (bin) : 0;
  out->wire += wire;
  if (!is_network (out->kind) || wire)
    out->sent_us += g_get_monotonic_time () - out->started_us;
  gst_element_set_locked_state (bin, TRUE);
  gst_element_set_state (bin, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (comp->bin), bin);
}

static void
output_failed (Output * out, const gchar * why)
{
  NoomComposite *comp = out->comp;
  gint64 ran = g_get_monotonic_time () - out->started_us;

  output_teardown (out);
  g_free (out->error);
  out->error = g_strdup (why);
  out->failing = TRUE;
  if (comp->stopping)
    return;
  if (ran >= STABLE_US || out->delay_s == 0)
    out->delay_s = 1;
  else
    out->delay_s = MIN (out->delay_s * 2, MAX_RETRY_S);
  say (comp, "%s output %s failed: %s; retrying in %u s", kind_name
      (out->kind), out->shown, why, out->delay_s);
  if (!out->retry_id)
    out->retry_id = g_timeout_add_seconds (out->delay_s, retry_cb, out);
}

static GstElement *
make (GstBin * bin, const gchar * factory, const gchar * name)
{
  GstElement *e = gst_element_factory_make (factory, name);

  if (e) {
    /* an output's part, also once its bin is taken down: output_of() */
    g_object_set_data (G_OBJECT (e), "noom-output", GINT_TO_POINTER (1));
    gst_bin_add (bin, e);
  }
  return e;
}

static gchar *
attempt_path (Output * out)
{
  const gchar *dot;

  /* a file that failed (a full disk) is not overwritten: the next attempt
   * writes NAME-2.EXT, ... */
  if (out->attempts <= 1)
    return g_strdup (out->target);
  dot = strrchr (out->target, '.');
  return g_strdup_printf ("%.*s-%u%s", (int) (dot - out->target),
      out->target, out->attempts, dot);
}

static GstElement *
make_appsrc (GstBin * bin, const gchar * name, GstCaps * caps)
{
  GstElement *src = make (bin, "appsrc", name);

  /* A leaky queue of its own: an output that cannot keep up loses its
   * oldest data, the others and the encoders never wait for it. */
  g_object_set (src, "format", GST_FORMAT_TIME, "is-live", FALSE, "block",
      FALSE, "max-time", OUTPUT_QUEUE, "max-bytes", (guint64) 0,
      "max-buffers", (guint64) 0, "caps", caps, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "leaky-type", "downstream");
  return src;
}

/* The muxers name their request pads differently: flvmux and hlssink2
 * "video", mp4mux and matroskamux "video_%u", mpegtsmux "sink_%d". */
static gboolean
link_to_mux (GstPad * pad, GstElement * mux, const gchar * kind)
{
  g_autofree gchar *numbered = g_strdup_printf ("%s_%%u", kind);
  const gchar *names[] = { kind, numbered, "sink_%d", NULL };
  GstPad *mpad = NULL;
  gboolean ok;
  guint i;

  for (i = 0; names[i] && !mpad; i++)
    if (gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (mux),
            names[i]))
      mpad = gst_element_request_pad_simple (mux, names[i]);
  ok = mpad && gst_pad_link (pad, mpad) == GST_PAD_LINK_OK;
  gst_clear_object (&mpad);
  return ok;
}

static gboolean
output_build (Output * out, GError ** error)
{
  NoomComposite *comp = out->comp;
  GstBin *bin;
  GstElement *mux = NULL, *sink, *vparse = NULL, *aparse;
  GstPad *vpad = NULL, *apad = NULL;
  g_autoptr (GstCaps) vcaps = NULL;
  g_autoptr (GstCaps) acaps = NULL;

  out->attempts++;
  g_clear_pointer (&out->path, g_free);
  bin = GST_BIN (gst_bin_new (NULL));
  /* its sinks' state changes stay inside: adding it to the playing
   * pipeline must not make the pipeline lose its state */
  g_object_set (bin, "async-handling", TRUE, NULL);
  g_mutex_lock (&comp->lock);
  vcaps = comp->vcaps ? gst_caps_ref (comp->vcaps) : NULL;
  acaps = comp->acaps ? gst_caps_ref (comp->acaps) : NULL;
  g_mutex_unlock (&comp->lock);
  if (!vcaps)
    vcaps = gst_caps_new_simple ("video/x-h264", "stream-format",
        G_TYPE_STRING, "byte-stream", "alignment", G_TYPE_STRING, "au", NULL);
  if (!acaps)
    acaps = gst_caps_new_simple ("audio/mpeg", "mpegversion", G_TYPE_INT, 4,
        NULL);

  switch (out->kind) {
    case OUT_RTMP:
      mux = make (bin, "flvmux", NULL);
      g_object_set (mux, "streamable", TRUE, NULL);
      sink = make (bin, "rtmp2sink", "sink");
      g_object_set (sink, "location", out->target, "async-connect", TRUE, NULL);
      break;
    case OUT_SRT:
      mux = make (bin, "mpegtsmux", NULL);
      g_object_set (mux, "alignment", 7, NULL);
      sink = make (bin, "srtsink", "sink");
      g_object_set (sink, "uri", out->target, "auto-reconnect", FALSE, NULL);
      break;
    case OUT_HLS:{
      g_autofree gchar *stem = g_strndup (out->target,
          strlen (out->target) - 5);
      g_autofree gchar *segments = g_strdup_printf ("%s%%05d.ts", stem);

      sink = make (bin, "hlssink2", "sink");
      g_object_set (sink, "location", segments, "playlist-location",
          out->target, "target-duration", (guint) MAX (opt_hls_segment, 1),
          "playlist-length", 0, "max-files", 0, NULL);
      out->path = g_strdup (out->target);
      break;
    }
    case OUT_MP4:
    case OUT_MKV:
      out->path = attempt_path (out);
      if (out->kind == OUT_MP4) {
        /* fragmented: a moof a second after the moov at the start, so a
         * killed file plays up to its last fragment */
        mux = make (bin, "mp4mux", NULL);
        g_object_set (mux, "fragment-duration", 1000, NULL);
      } else {
        mux = make (bin, "matroskamux", NULL);
        g_object_set (mux, "writing-app", "noom-record", NULL);
      }
      if (GST_IS_TAG_SETTER (mux)) {
        GstTagList *tags = gst_tag_list_new (GST_TAG_TITLE, "Noom room",
            GST_TAG_ALBUM, comp->room, NULL);

        gst_tag_setter_merge_tags (GST_TAG_SETTER (mux), tags,
            GST_TAG_MERGE_REPLACE);
        gst_tag_list_unref (tags);
      }
      sink = make (bin, "filesink", "sink");
      /* unbuffered: what was muxed survives kill -9 */
      g_object_set (sink, "location", out->path, "buffer-mode", 2, NULL);
      break;
    default:
      g_assert_not_reached ();
  }
  if (!sink || (out->kind != OUT_HLS && !mux)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "a GStreamer element for %s output is missing", kind_name (out->kind));
    gst_object_unref (bin);
    return FALSE;
  }
  if (g_object_class_find_property (G_OBJECT_GET_CLASS (sink), "sync"))
    g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  if (mux && !gst_element_link (mux, sink))
    goto link_failed;

  if (!comp->audio_only) {
    out->vsrc = gst_object_ref (make_appsrc (bin, "v", vcaps));
    vparse = make (bin, "h264parse", NULL);
    /* parameter sets before every key frame: a player that joins late
     * (SRT, HLS) starts at the next one */
    g_object_set (vparse, "config-interval", -1, NULL);
    gst_element_link (out->vsrc, vparse);
    vpad = gst_element_get_static_pad (vparse, "src");
  }
  out->asrc = gst_object_ref (make_appsrc (bin, "a", acaps));
  aparse = make (bin, "aacparse", NULL);
  gst_element_link (out->asrc, aparse);
  apad = gst_element_get_static_pad (aparse, "src");
  {
    GstElement *target = mux ? mux : sink;

    if (vpad && !link_to_mux (vpad, target, "video"))
      goto link_failed;
    if (!link_to_mux (apad, target, "audio"))
      goto link_failed;
  }
  gst_clear_object (&vpad);
  gst_clear_object (&apad);

  out->bin = GST_ELEMENT (bin);
  out->failing = FALSE;
  out->started_us = g_get_monotonic_time ();
  gst_bin_add (GST_BIN (comp->bin), out->bin);
  gst_element_sync_state_with_parent (out->bin);
  g_mutex_lock (&comp->lock);
  out->have_key = comp->audio_only;
  out->offset = GST_CLOCK_TIME_NONE;
  out->running = TRUE;
  g_mutex_unlock (&comp->lock);
  if (comp->venc)
    gst_element_send_event (comp->venc,
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
            TRUE, out->attempts));
  if (out->attempts > 1)
    say (comp, "%s output %s: started again (attempt %u)", kind_name
        (out->kind), out->path ? out->path : out->shown, out->attempts);
  else
    say (comp, "%s output: %s", kind_name (out->kind),
        out->path ? out->path : out->shown);
  return TRUE;

link_failed:
  gst_clear_object (&vpad);
  gst_clear_object (&apad);
  gst_clear_object (&out->vsrc);
  gst_clear_object (&out->asrc);
  gst_object_unref (bin);
  g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
      "could not build the %s output", kind_name (out->kind));
  return FALSE;
}

/* A buffer from an appsink for every running output (streaming thread).
 * Each output starts at a key frame and at time 0. */
static void
dispatch (NoomComposite * comp, GstSample * sample, gboolean video)
{
  GstBuffer *buf = gst_sample_get_buffer (sample);
  GstCaps *caps = gst_sample_get_caps (sample);
  GstSegment *seg = gst_sample_get_segment (sample);
  GstClockTime rt;
  guint i;

  if (!buf)
    return;
  rt = gst_segment_to_running_time (seg, GST_FORMAT_TIME, GST_BUFFER_PTS (buf));
  g_mutex_lock (&comp->lock);
  if (caps) {
    GstCaps **last = video ? &comp->vcaps : &comp->acaps;

    if (!*last || !gst_caps_is_equal (*last, caps))
      gst_caps_replace (last, caps);
  }
  for (i = 0; i < comp->outputs->len; i++) {
    Output *out = comp->outputs->pdata[i];
    GstElement *src = video ? out->vsrc : out->asrc;
    GstBuffer *copy;

    if (!out->running || !src || !GST_CLOCK_TIME_IS_VALID (rt))
      continue;
    if (!out->have_key) {
      if (!video || GST_BUFFER_FLAG_IS_SET (buf, GST_BUFFER_FLAG_DELTA_UNIT))
        continue;
      out->have_key = TRUE;
    }
    if (!GST_CLOCK_TIME_IS_VALID (out->offset))
      out->offset = rt;
    if (rt < out->offset)
      continue;
    copy = gst_buffer_copy (buf);
    GST_BUFFER_PTS (copy) = rt - out->offset;
    if (GST_BUFFER_DTS_IS_VALID (buf)) {
      GstClockTime dts = gst_segment_to_running_time (seg, GST_FORMAT_TIME,
          GST_BUFFER_DTS (buf));

      GST_BUFFER_DTS (copy) = GST_CLOCK_TIME_IS_VALID (dts)
          && dts >= out->offset ? dts - out->offset : GST_BUFFER_PTS (copy);
    }
    if (caps)
      gst_app_src_set_caps (GST_APP_SRC (src), caps);
    out->bytes += gst_buffer_get_size (copy);
    gst_app_src_push_buffer (GST_APP_SRC (src), copy);
  }
  g_mutex_unlock (&comp->lock);
}

static GstFlowReturn
on_video_sample (GstAppSink * sink, gpointer data)
{
  GstSample *sample = gst_app_sink_pull_sample (sink);

  if (sample) {
    dispatch (data, sample, TRUE);
    gst_sample_unref (sample);
  }
  return GST_FLOW_OK;
}

static GstFlowReturn
on_audio_sample (GstAppSink * sink, gpointer data)
{
  GstSample *sample = gst_app_sink_pull_sample (sink);

  if (sample) {
    dispatch (data, sample, FALSE);
    gst_sample_unref (sample);
  }
  return GST_FLOW_OK;
}

/* The encoders ended (we stop): so does every output. */
static void
on_eos (GstAppSink * sink, gpointer data)
{
  NoomComposite *comp = data;
  gboolean video = g_object_get_data (G_OBJECT (sink), "noom-video") != NULL;
  guint i;

  g_mutex_lock (&comp->lock);
  for (i = 0; i < comp->outputs->len; i++) {
    Output *out = comp->outputs->pdata[i];
    GstElement *src = video ? out->vsrc : out->asrc;

    if (src)
      gst_app_src_end_of_stream (GST_APP_SRC (src));
  }
  g_mutex_unlock (&comp->lock);
}

/* ------------------------------------------------------------------------ */

static GstElement *
aac_encoder (void)
{
  const gchar *names[] = { "fdkaacenc", "voaacenc", "avenc_aac", NULL };
  guint i;

  for (i = 0; names[i]; i++) {
    GstElement *e = gst_element_factory_make (names[i], NULL);

    if (e)
      return e;
  }
  return NULL;
}

static gboolean parse_layout (NoomComposite * comp, GError ** error);

/* The options are checked before noom-record makes its directories. */
gboolean
noom_composite_check_options (GError ** error)
{
  NoomComposite comp = { 0 };
  OutKind kind;
  guint i;

  for (i = 0; opt_streams && opt_streams[i]; i++)
    if (!parse_target (opt_streams[i], &kind)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--stream %s: expected rtmp://, rtmps://, srt:// or a file ending "
          "in .m3u8, .mp4 or .mkv", opt_streams[i]);
      return FALSE;
    }
  if (!parse_layout (&comp, error))
    return FALSE;
  g_free (comp.single);
  return TRUE;
}

/* Key frames at most 2 s apart, and a whole number of them in an HLS
 * segment (3 s: every 1.5 s).  By the clock, not by frame count: when the
 * machine drops frames before the encoder, a group of frames would last
 * longer, and so would an HLS segment or a new output's wait. */
static guint
key_interval_ms (void)
{
  guint seg = MAX (opt_hls_segment, 1);

  return seg * 1000 / ((seg + 1) / 2);
}

static gboolean
key_cb (gpointer data)
{
  NoomComposite *comp = data;

  if (comp->venc && !comp->stopping)
    gst_element_send_event (comp->venc,
        gst_video_event_new_upstream_force_key_unit (GST_CLOCK_TIME_NONE,
            FALSE, 0));
  return G_SOURCE_CONTINUE;
}

static gboolean
parse_layout (NoomComposite * comp, GError ** error)
{
  if (!opt_layout || !g_strcmp0 (opt_layout, "grid"))
    comp->layout = LAYOUT_GRID;
  else if (!g_strcmp0 (opt_layout, "speaker"))
    comp->layout = LAYOUT_SPEAKER;
  else if (g_str_has_prefix (opt_layout, "single:") && opt_layout[7]) {
    comp->layout = LAYOUT_SINGLE;
    comp->single = g_strdup (opt_layout + 7);
  } else {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--layout %s: expected grid, speaker or single:NICK", opt_layout);
    return FALSE;
  }
  comp->width = 1280;
  comp->height = 720;
  if (opt_size && (sscanf (opt_size, "%dx%d", &comp->width,
              &comp->height) != 2 || comp->width < 16 || comp->height < 16
          || comp->width > 7680 || comp->height > 4320)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--size %s: expected WIDTHxHEIGHT, e.g. 1280x720", opt_size);
    return FALSE;
  }
  /* I420 wants even sizes */
  comp->width &= ~1;
  comp->height &= ~1;
  if (opt_fps < 1 || opt_fps > 120) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--framerate %d: expected 1 to 120", opt_fps);
    return FALSE;
  }
  comp->fps = opt_fps;
  if (opt_hls_segment < 1) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--hls-segment %d: expected 1 or more seconds", opt_hls_segment);
    return FALSE;
  }
  return TRUE;
}

/* @target with the password of its URL's user part (SCHEME://USER:PASS@)
 * as ****. */
static gchar *
hide_password (const gchar * target)
{
  const gchar *auth = strstr (target, "://");
  const gchar *end, *at, *colon;

  if (!auth)
    return g_strdup (target);
  auth += 3;
  end = auth + strcspn (auth, "/?#");
  at = g_strrstr_len (auth, end - auth, "@");
  colon = at ? memchr (auth, ':', at - auth) : NULL;
  if (!colon)
    return g_strdup (target);
  return g_strdup_printf ("%.*s****%s", (int) (colon + 1 - target), target,
      at);
}

/* @target as logs, the status line and the summary show it: an RTMP
 * URL's last path segment is the stream key (rtmp://HOST/APP/KEY), an SRT
 * URL's passphrase a password, and so is the password in a URL's user
 * part (rtmp://USER:PASS@HOST/...); each is as good as a login to whoever
 * reads the log, so they are shown as ****. */
static gchar *
shown_target (const gchar * target_in)
{
  g_autofree gchar *target = hide_password (target_in);
  g_autofree gchar *lower = g_ascii_strdown (target, -1);
  const gchar *slash, *pass;

  if (g_str_has_prefix (lower, "rtmp")) {
    const gchar *path = strstr (target, "://");

    path = path ? strchr (path + 3, '/') : NULL;
    slash = strrchr (target, '/');
    /* a key after the application, not the application itself */
    if (path && slash > path && slash[1])
      return g_strdup_printf ("%.*s/****", (int) (slash - target), target);
    return g_steal_pointer (&target);
  }
  if (g_str_has_prefix (lower, "srt://")
      && (pass = strstr (lower, "passphrase=")) != NULL) {
    const gchar *value = target + (pass - lower) + strlen ("passphrase=");
    const gchar *end = strchr (value, '&');

    return g_strdup_printf ("%.*s****%s", (int) (value - target), target,
        end ? end : "");
  }
  return g_steal_pointer (&target);
}

static gboolean
add_output (NoomComposite * comp, const gchar * target, GError ** error)
{
  Output *out = g_new0 (Output, 1);

  out->comp = comp;
  out->target = g_strdup (target);
  out->shown = shown_target (target);
  if (!parse_target (target, &out->kind)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--stream %s: expected rtmp://, rtmps://, srt:// or a file ending "
        "in .m3u8, .mp4 or .mkv", target);
    g_free (out->target);
    g_free (out->shown);
    g_free (out);
    return FALSE;
  }
  g_ptr_array_add (comp->outputs, out);
  return TRUE;
}

static void
output_free (Output * out)
{
  if (out->retry_id)
    g_source_remove (out->retry_id);
  gst_clear_object (&out->vsrc);
  gst_clear_object (&out->asrc);
  g_free (out->target);
  g_free (out->shown);
  g_free (out->path);
  g_free (out->error);
  g_free (out);
}

/* The composite in @pipeline, with its outputs: --stream's, and with
 * @dir a Matroska file there (--composite). */
NoomComposite *
noom_composite_new (GstBin * pipeline, const gchar * room, const gchar * dir,
    gboolean verbose, GError ** error)
{
  NoomComposite *comp = g_new0 (NoomComposite, 1);
  GstElement *bin, *vsink = NULL, *asink, *aenc;
  g_autofree gchar *desc = NULL;
  GstAppSinkCallbacks vcb = { NULL, NULL, on_video_sample, NULL };
  GstAppSinkCallbacks acb = { NULL, NULL, on_audio_sample, NULL };
  guint i;

  vcb.eos = on_eos;
  acb.eos = on_eos;
  comp->pipeline = pipeline;
  comp->room = g_strdup (room);
  comp->verbose = verbose;
  comp->tty = isatty (STDERR_FILENO);
  comp->audio_only = opt_audio_only;
  g_mutex_init (&comp->lock);
  comp->tiles = g_ptr_array_new ();
  comp->outputs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      output_free);
  comp->levels = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  if (!parse_layout (comp, error))
    goto failed;
  if (dir) {
    g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
    g_autofree gchar *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");

    comp->file = g_strdup_printf ("%s/composite-%s.%s", dir, stamp,
        comp->audio_only ? "mka" : "mkv");
    add_output (comp, comp->file, NULL);
  }
  for (i = 0; opt_streams && opt_streams[i]; i++)
    if (!add_output (comp, opt_streams[i], error))
      goto failed;

  /* Live backgrounds keep the grid and the mix running while nobody
   * sends, so the composite's timeline is the recording's.  The grid must
   * keep up with real time: I420 throughout (left to negotiate, the
   * compositor picks 16 bits a channel), and leaky queues before the
   * encoders, so that a slow encoder drops frames instead of holding the
   * aggregators back.  start-time-selection=first: an aggregator that
   * ignores inactive pads and times out before its background's first
   * buffer finds no active pad and ends at once (GStreamer 1.22).  One
   * flat bin: the participants' branches reach the grid and the mix
   * through a ghost pad of it. */
  aenc = aac_encoder ();
  if (!aenc) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "no AAC encoder (voaacenc, avenc_aac) is installed");
    goto failed;
  }
  {
    g_autofree gchar *aname =
        g_strdup (GST_OBJECT_NAME (gst_element_get_factory (aenc)));
    g_autofree gchar *video = NULL;
    gint bitrate = opt_bitrate > 0 ? opt_bitrate :
        (gint) ((gint64) comp->width * comp->height * comp->fps / 11000);

    gst_object_unref (aenc);
    /* key frames: key_cb by the clock; key-int-max only a backstop */
    if (!comp->audio_only)
      video = g_strdup_printf ("videotestsrc name=bgv is-live=true "
          "pattern=black ! video/x-raw,format=I420,width=320,height=180,"
          "framerate=%d/1 ! grid.  compositor name=grid background=black "
          "ignore-inactive-pads=true start-time-selection=first ! "
          "video/x-raw,format=I420,width=%d,height=%d,framerate=%d/1,"
          "pixel-aspect-ratio=1/1 ! queue name=venc-q leaky=downstream "
          "max-size-buffers=8 max-size-bytes=0 max-size-time=0 ! "
          "x264enc name=venc speed-preset=veryfast tune=zerolatency "
          "bitrate=%d key-int-max=%d ! h264parse config-interval=-1 ! "
          "video/x-h264,stream-format=byte-stream,alignment=au ! "
          "appsink name=vsink sync=false async=false  ", comp->fps,
          comp->width, comp->height, comp->fps, bitrate,
          comp->fps * 2 * key_interval_ms () / 1000);
    desc = g_strdup_printf ("%s"
        "audiotestsrc name=bga is-live=true wave=silence ! "
        "audio/x-raw,rate=48000,channels=2 ! mix.  audiomixer name=mix "
        "ignore-inactive-pads=true start-time-selection=first ! "
        "audio/x-raw,rate=48000,channels=2 ! audioconvert ! queue name=aenc-q "
        "leaky=downstream max-size-time=1000000000 max-size-bytes=0 "
        "max-size-buffers=0 ! %s bitrate=128000 ! aacparse ! "
        "appsink name=asink sync=false async=false", video ? video : "", aname);
  }
  bin = gst_parse_bin_from_description (desc, FALSE, error);
  if (!bin)
    goto failed;
  gst_object_set_name (GST_OBJECT (bin), "composite");
  comp->bin = bin;
  /* the bin holds them */
  comp->grid = gst_bin_get_by_name (GST_BIN (bin), "grid");
  comp->bgv = gst_bin_get_by_name (GST_BIN (bin), "bgv");
  comp->venc = gst_bin_get_by_name (GST_BIN (bin), "venc");
  vsink = gst_bin_get_by_name (GST_BIN (bin), "vsink");
  comp->mixer = gst_bin_get_by_name (GST_BIN (bin), "mix");
  comp->bga = gst_bin_get_by_name (GST_BIN (bin), "bga");
  asink = gst_bin_get_by_name (GST_BIN (bin), "asink");
  for (i = 0; i < 3; i++) {
    GstElement **e = i == 0 ? &comp->grid : i == 1 ? &comp->bgv : &comp->venc;

    if (*e)
      gst_object_unref (*e);
  }
  gst_object_unref (comp->mixer);
  gst_object_unref (comp->bga);
  if (vsink)
    gst_object_unref (vsink);
  gst_object_unref (asink);

  if (vsink) {
    g_object_set (vsink, "sync", FALSE, "async", FALSE, "max-buffers", 0, NULL);
    g_object_set_data (G_OBJECT (vsink), "noom-video", GINT_TO_POINTER (1));
    gst_app_sink_set_callbacks (GST_APP_SINK (vsink), &vcb, comp, NULL);
  }
  g_object_set (asink, "sync", FALSE, "async", FALSE, "max-buffers", 0, NULL);
  gst_app_sink_set_callbacks (GST_APP_SINK (asink), &acb, comp, NULL);

  gst_bin_add (pipeline, bin);
  for (i = 0; i < comp->outputs->len; i++)
    if (!output_build (comp->outputs->pdata[i], error))
      goto failed_in_pipeline;
  if (comp->layout == LAYOUT_SPEAKER)
    comp->speaker_timer = g_timeout_add (250, speaker_cb, comp);
  if (comp->venc)
    comp->key_timer = g_timeout_add (key_interval_ms (), key_cb, comp);
  return comp;

failed_in_pipeline:
  gst_bin_remove (pipeline, bin);
  comp->bin = NULL;
failed:
  if (comp->bin)
    gst_object_unref (comp->bin);
  comp->bin = NULL;
  noom_composite_free (comp);
  return NULL;
}

/* Every source of the composite ends (the participants' tracks end with
 * noomsrc's EOS): the outputs finish their files and streams. */
void
noom_composite_stop (NoomComposite * comp)
{
  guint i;
  GPtrArray *srcs = g_ptr_array_new_with_free_func (gst_object_unref);

  if (!comp || !comp->bin)
    return;
  g_mutex_lock (&comp->lock);
  comp->stopping = TRUE;
  for (i = 0; i < comp->outputs->len; i++) {
    Output *out = comp->outputs->pdata[i];

    if (out->retry_id) {
      g_source_remove (out->retry_id);
      out->retry_id = 0;
    }
  }
  if (comp->bgv)
    g_ptr_array_add (srcs, gst_object_ref (comp->bgv));
  g_ptr_array_add (srcs, gst_object_ref (comp->bga));
  for (i = 0; i < comp->tiles->len; i++) {
    Tile *t = comp->tiles->pdata[i];

    if (t->elements)
      g_ptr_array_add (srcs, gst_object_ref (t->elements->pdata[0]));
  }
  g_mutex_unlock (&comp->lock);
  for (i = 0; i < srcs->len; i++)
    gst_element_send_event (srcs->pdata[i], gst_event_new_eos ());
  g_ptr_array_unref (srcs);
}

/* The output @src is part of; NULL, with @retired TRUE, for a part of an
 * output's bin that was taken down already (when a sink fails, its
 * appsrc's streaming thread stops with an error of its own, which may
 * come after the bin is gone). */
static Output *
output_of (NoomComposite * comp, GstObject * src, gboolean * retired)
{
  guint i;

  *retired = FALSE;
  for (i = 0; i < comp->outputs->len; i++) {
    Output *out = comp->outputs->pdata[i];

    if (out->bin && (src == GST_OBJECT (out->bin)
            || gst_object_has_as_ancestor (src, GST_OBJECT (out->bin))))
      return out;
  }
  *retired = g_object_get_data (G_OBJECT (src), "noom-output") != NULL;
  return NULL;
}

/* The composite's share of the bus (main thread).  Returns TRUE for a
 * message it took: an output's error (that output is retried), the levels
 * of the speaker layout, the composite's end. */
gboolean
noom_composite_handle_message (NoomComposite * comp, GstMessage * msg)
{
  if (!comp || !comp->bin)
    return FALSE;
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      gboolean retired;
      Output *out = output_of (comp, GST_MESSAGE_SRC (msg), &retired);
      g_autoptr (GError) error = NULL;
      g_autofree gchar *debug = NULL;

      if (!out)
        return retired;
      gst_message_parse_error (msg, &error, &debug);
      if (debug && comp->verbose)
        say (comp, "(%s)", debug);
      output_failed (out, error->message);
      return TRUE;
    }
    case GST_MESSAGE_WARNING:{
      gboolean retired;

      return output_of (comp, GST_MESSAGE_SRC (msg), &retired) || retired;
    }
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (gst_structure_has_name (s, "level")) {
        on_level (comp, msg);
        return TRUE;
      }
      if (gst_structure_has_name (s, "GstBinForwarded")) {
        GstMessage *inner = NULL;
        gboolean mine = FALSE;

        gst_structure_get (s, "message", GST_TYPE_MESSAGE, &inner, NULL);
        if (inner && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_EOS
            && GST_MESSAGE_SRC (inner) == GST_OBJECT (comp->bin)) {
          guint i;

          /* every output finished */
          for (i = 0; i < comp->outputs->len; i++)
            output_teardown (comp->outputs->pdata[i]);
          gst_element_set_locked_state (comp->bin, TRUE);
          gst_element_set_state (comp->bin, GST_STATE_NULL);
          gst_bin_remove (comp->pipeline, comp->bin);
          comp->bin = NULL;
          comp->venc = NULL;
          comp->done = TRUE;
          mine = TRUE;
        } else if (inner && GST_MESSAGE_TYPE (inner) == GST_MESSAGE_ELEMENT
            && gst_structure_has_name (gst_message_get_structure (inner),
                "level")) {
          mine = TRUE;          /* seen unwrapped too */
        }
        gst_clear_message (&inner);
        return mine;
      }
      return FALSE;
    }
    default:
      return FALSE;
  }
}

gboolean
noom_composite_done (NoomComposite * comp)
{
  return !comp || comp->done;
}

const gchar *
noom_composite_file (NoomComposite * comp)
{
  return comp ? comp->file : NULL;
}

/* For the status line: the outputs that are not sending, and why. */
gchar *
noom_composite_status (NoomComposite * comp)
{
  GString *s = g_string_new (NULL);
  guint i, live = 0;

  if (!comp)
    return g_string_free (s, FALSE);
  for (i = 0; i < comp->outputs->len; i++) {
    Output *out = comp->outputs->pdata[i];

    if (out->bin)
      live++;
  }
  if (comp->outputs->len > (comp->file ? 1u : 0u))
    g_string_append_printf (s, "  %u/%u outputs", live, comp->outputs->len);
  for (i = 0; i < comp->outputs->len; i++) {
    Output *out = comp->outputs->pdata[i];

    if (!out->bin && out->error)
      g_string_append_printf (s, "  %s: retry in %u s (%s)", out->shown,
          out->delay_s, out->error);
  }
  return g_string_free (s, FALSE);
}

/* Participant @id is now called @nickname: its tiles' labels follow
 * (main thread or a streaming thread). */
void
noom_composite_rename (NoomComposite * comp, const gchar * id,
    const gchar * nickname)
{
  guint i;

  if (!comp)
    return;
  g_mutex_lock (&comp->lock);
  for (i = 0; i < comp->tiles->len; i++) {
    Tile *t = comp->tiles->pdata[i];

    if (g_strcmp0 (t->id, id) != 0)
      continue;
    g_free (t->nickname);
    t->nickname = g_strdup (nickname);
    label_tile (t);
  }
  g_mutex_unlock (&comp->lock);
}

/* The summary's lines for the --stream outputs (the --composite file has
 * its own): where, what, how long it was sent, how many bytes, and
 * restarts or the failure it ended with.  Main thread, at the end. */
void
noom_composite_print_summary (NoomComposite * comp, FILE * to)
{
  guint i;

  if (!comp)
    return;
  for (i = 0; i < comp->outputs->len; i++) {
    Output *out = comp->outputs->pdata[i];
    guint64 now_wire = out->bin && is_network (out->kind) ?
        wire_bytes (out->bin) : 0;
    gint64 sent = out->sent_us + (out->bin && (!is_network (out->kind)
            || now_wire) ? g_get_monotonic_time () - out->started_us : 0);
    g_autofree gchar *d = noom_job_format_duration (sent);
    g_autofree gchar *kind = g_ascii_strdown (kind_name (out->kind), -1);
    g_autofree gchar *note = NULL;
    guint64 bytes = out->bytes;

    if (comp->file && !g_strcmp0 (out->target, comp->file))
      continue;
    if (is_network (out->kind)) {
      bytes = out->wire + now_wire;
    } else if (out->path && out->kind != OUT_HLS) {
      GStatBuf st;

      bytes = g_stat (out->path, &st) == 0 ? (guint64) st.st_size : 0;
    }
    if (out->failing && out->error)
      note = g_strdup_printf ("\t(%s: %s)", sent ? "failed" : "never sent",
          out->error);
    else if (out->attempts > 1)
      note = g_strdup_printf ("\t(started %u times)", out->attempts);
    fprintf (to, "%s\t(%s)\t%s\t%" G_GUINT64_FORMAT "%s\n", out->path ?
        out->path : out->shown, kind, d, bytes, note ? note : "");
  }
}

void
noom_composite_free (NoomComposite * comp)
{
  if (!comp)
    return;
  if (comp->speaker_timer)
    g_source_remove (comp->speaker_timer);
  if (comp->key_timer)
    g_source_remove (comp->key_timer);
  g_ptr_array_unref (comp->outputs);
  g_ptr_array_set_free_func (comp->tiles, (GDestroyNotify) tile_free);
  g_ptr_array_unref (comp->tiles);
  g_hash_table_unref (comp->levels);
  gst_clear_caps (&comp->vcaps);
  gst_clear_caps (&comp->acaps);
  g_free (comp->room);
  g_free (comp->file);
  g_free (comp->single);
  g_free (comp->speaker);
  g_free (comp->candidate);
  g_mutex_clear (&comp->lock);
  g_free (comp);
}
