/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-snapshot: a small program using the noomsrc element.  Joins a room,
 * waits for a participant's video, saves one frame as PNG and leaves.
 *
 *   noom-snapshot noom://localhost:8080/demo alice alice.png
 *   noom-snapshot noom://localhost:8080/demo "" first.png   (anyone)
 *
 * What it shows: noomsrc's sometimes pads (one per track of each
 * participant) with the participant-id and nickname pad properties, linking
 * one of them at run time, and the participant messages on the bus.
 */

#include <gst/gst.h>
#include <glib-unix.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct
{
  GMainLoop *loop;
  GstElement *pipeline;
  GstElement *convert;          /* videoconvert ! pngenc ! filesink */
  gboolean linked;
  int status;
} Snapshot;

/* noomsrc exposed a track: the first video one goes to the PNG encoder,
 * the others are left unlinked (noomsrc drops what nobody links). */
static void
on_pad_added (GstElement * src, GstPad * pad, Snapshot * s)
{
  gchar *media = NULL, *nickname = NULL, *id = NULL;
  GstPad *sinkpad;

  g_object_get (pad, "media", &media, "nickname", &nickname,
      "participant-id", &id, NULL);
  if (!s->linked && g_strcmp0 (media, "video") == 0) {
    sinkpad = gst_element_get_static_pad (s->convert, "sink");
    if (gst_pad_link (pad, sinkpad) == GST_PAD_LINK_OK) {
      s->linked = TRUE;
      g_print ("taking a picture of %s (%s)\n", nickname, id);
    }
    gst_object_unref (sinkpad);
  }
  g_free (media);
  g_free (nickname);
  g_free (id);
}

static gboolean
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Snapshot *s = data;
  const GstStructure *st;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_EOS:
      /* pngenc snapshot=true ends the stream after one frame. */
      g_main_loop_quit (s->loop);
      break;
    case GST_MESSAGE_ERROR:{
      GError *error = NULL;

      gst_message_parse_error (msg, &error, NULL);
      g_printerr ("noom-snapshot: %s\n", error->message);
      g_error_free (error);
      s->status = 1;
      g_main_loop_quit (s->loop);
      break;
    }
    case GST_MESSAGE_ELEMENT:
      st = gst_message_get_structure (msg);
      if (gst_structure_has_name (st, "noom-participant-joined"))
        g_print ("in the room: %s\n", gst_structure_get_string (st,
                "nickname"));
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_timeout (gpointer data)
{
  Snapshot *s = data;

  g_printerr ("noom-snapshot: no video within the time limit\n");
  s->status = 1;
  g_main_loop_quit (s->loop);
  return G_SOURCE_REMOVE;
}

static gboolean
on_sigint (gpointer data)
{
  Snapshot *s = data;

  s->status = 130;
  g_main_loop_quit (s->loop);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  Snapshot s = { 0 };
  GstElement *src, *png, *sink;
  GstBus *bus;
  const gchar *timeout = g_getenv ("NOOM_SNAPSHOT_TIMEOUT");

  gst_init (&argc, &argv);
  if (argc != 4) {
    g_printerr ("usage: %s noom://HOST:PORT/ROOM PARTICIPANT FILE.png\n"
        "  PARTICIPANT: a nickname or id, \"\" for anyone\n", argv[0]);
    return 2;
  }

  s.pipeline = gst_pipeline_new ("snapshot");
  src = gst_element_make_from_uri (GST_URI_SRC, argv[1], NULL, NULL);
  if (!src || !g_type_is_a (G_OBJECT_TYPE (src),
          g_type_from_name ("GstNoomSrc"))) {
    g_printerr ("noom-snapshot: %s is not a room URI (or the noom plugin "
        "is missing)\n", argv[1]);
    return 2;
  }
  /* Only this participant's video: noomsrc connects to nobody else. */
  g_object_set (src, "nickname", "snapshot", NULL);
  if (argv[2][0])
    g_object_set (src, "participant", argv[2], NULL);
  gst_util_set_object_arg (G_OBJECT (src), "media", "video");
  s.convert = gst_element_factory_make ("videoconvert", NULL);
  png = gst_element_factory_make ("pngenc", NULL);
  sink = gst_element_factory_make ("filesink", NULL);
  g_object_set (png, "snapshot", TRUE, NULL);
  g_object_set (sink, "location", argv[3], NULL);
  gst_bin_add_many (GST_BIN (s.pipeline), src, s.convert, png, sink, NULL);
  gst_element_link_many (s.convert, png, sink, NULL);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_pad_added), &s);

  s.loop = g_main_loop_new (NULL, FALSE);
  bus = gst_element_get_bus (s.pipeline);
  gst_bus_add_watch (bus, on_bus, &s);
  gst_object_unref (bus);
  g_timeout_add_seconds (timeout ? atoi (timeout) : 30, on_timeout, &s);
  g_unix_signal_add (SIGINT, on_sigint, &s);

  gst_element_set_state (s.pipeline, GST_STATE_PLAYING);
  g_main_loop_run (s.loop);
  /* Going to NULL leaves the room. */
  gst_element_set_state (s.pipeline, GST_STATE_NULL);
  if (s.status == 0)
    g_print ("saved %s\n", argv[3]);
  gst_object_unref (s.pipeline);
  g_main_loop_unref (s.loop);
  return s.status;
}
