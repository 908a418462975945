/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-probe-file FILE: what the jobs tests need to know about a recorded
 * file, as one JSON object on stdout.
 *
 *  - "discovered", "duration", "tags", "video", "audio": GstDiscoverer, the
 *    library gst-discoverer-1.0 is made of, so "valid for gst-discoverer"
 *    is checked without that tool being installed;
 *  - "decodedEnd", "videoFrames", "audioBuffers": a full decode of every
 *    track as fast as possible, the proof a file (a crashed one too) plays
 *    to its end;
 *  - "videoStart", "videoEnd", "videoGaps": the first and last decoded
 *    frame's time, and each pause of over a second between two frames
 *    ([from, to], seconds): a camera that went off and on again.
 *
 *  - with --frame PATH SECONDS: the first decoded video frame at or after
 *    SECONDS (or the last one, if none) written to PATH as 8-bit luma (GRAY8, "frameWidth" x "frameHeight", rows "frameStride"
 *    bytes apart), for the tests that look at a picture.
 *
 * Exit status 0 when the file was discovered and decoded without error.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>
#include <stdio.h>

typedef struct
{
  GMutex lock;
  GstClockTime end;
  guint64 video_frames;
  guint64 audio_buffers;
  GstClockTime video_start, video_last;
  GArray *video_gaps;           /* GstClockTime pairs */
  GstElement *video_sink;
  GstSample *last;              /* --frame: the frame kept */
  GstClockTime frame_at;
} Decode;

static void
add_tags (JsonBuilder * b, const GstTagList * tags)
{
  const gchar *names[] = { GST_TAG_TITLE, GST_TAG_ARTIST, GST_TAG_ALBUM,
    GST_TAG_COMMENT, NULL
  };
  guint i, j;

  json_builder_set_member_name (b, "tags");
  json_builder_begin_object (b);
  for (i = 0; tags && names[i]; i++) {
    guint n = gst_tag_list_get_tag_size (tags, names[i]);

    if (!n)
      continue;
    json_builder_set_member_name (b, names[i]);
    json_builder_begin_array (b);
    for (j = 0; j < n; j++) {
      const gchar *v = NULL;

      if (gst_tag_list_peek_string_index (tags, names[i], j, &v))
        json_builder_add_string_value (b, v);
    }
    json_builder_end_array (b);
  }
  json_builder_end_object (b);
}

static void
add_streams (JsonBuilder * b, const gchar * member, GList * streams)
{
  GList *l;

  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (l = streams; l; l = l->next) {
    GstCaps *caps = gst_discoverer_stream_info_get_caps (l->data);

    json_builder_add_string_value (b, caps ?
        gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "?");
    gst_clear_caps (&caps);
  }
  json_builder_end_array (b);
}

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Decode *d = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCaps *caps = gst_pad_get_current_caps (pad);
  gboolean video = caps && g_str_has_prefix (gst_structure_get_name
      (gst_caps_get_structure (caps, 0)), "video/");

  gst_clear_caps (&caps);
  g_mutex_lock (&d->lock);
  if (GST_BUFFER_PTS_IS_VALID (buf)) {
    GstClockTime end = GST_BUFFER_PTS (buf);

    if (GST_BUFFER_DURATION_IS_VALID (buf))
      end += GST_BUFFER_DURATION (buf);
    if (!GST_CLOCK_TIME_IS_VALID (d->end) || end > d->end)
      d->end = end;
  }
  if (video && GST_BUFFER_PTS_IS_VALID (buf)) {
    GstClockTime pts = GST_BUFFER_PTS (buf);

    if (!GST_CLOCK_TIME_IS_VALID (d->video_start))
      d->video_start = pts;
    else if (pts > d->video_last + GST_SECOND) {
      g_array_append_val (d->video_gaps, d->video_last);
      g_array_append_val (d->video_gaps, pts);
    }
    if (!GST_CLOCK_TIME_IS_VALID (d->video_last) || pts > d->video_last)
      d->video_last = pts;
  }
  if (video && GST_CLOCK_TIME_IS_VALID (d->frame_at) && !d->last
      && GST_BUFFER_PTS_IS_VALID (buf) && GST_BUFFER_PTS (buf) >= d->frame_at) {
    GstCaps *c = gst_pad_get_current_caps (pad);

    d->last = gst_sample_new (buf, c, NULL, NULL);
    gst_clear_caps (&c);
  }
  if (video)
    d->video_frames++;
  else
    d->audio_buffers++;
  g_mutex_unlock (&d->lock);
  return GST_PAD_PROBE_OK;
}

static void
on_pad (GstElement * dec, GstPad * pad, gpointer data)
{
  GstElement *pipeline = GST_ELEMENT (GST_OBJECT_PARENT (dec));
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");

  g_object_set (sink, "sync", FALSE, NULL);
  gst_bin_add (GST_BIN (pipeline), sink);
  gst_element_sync_state_with_parent (sink);
  gst_pad_link (pad, sinkpad);
  gst_pad_add_probe (sinkpad, GST_PAD_PROBE_TYPE_BUFFER, count_probe, data,
      NULL);
  gst_object_unref (sinkpad);
  {
    Decode *d = data;
    GstCaps *caps = gst_pad_query_caps (pad, NULL);

    if (caps && g_str_has_prefix (gst_structure_get_name
            (gst_caps_get_structure (caps, 0)), "video/")) {
      g_mutex_lock (&d->lock);
      if (!d->video_sink)
        d->video_sink = gst_object_ref (sink);
      g_mutex_unlock (&d->lock);
    }
    gst_clear_caps (&caps);
  }
}

/* The last frame the video fakesink got, as GRAY8, into @path. */
static void
write_frame (JsonBuilder * b, Decode * d, const gchar * path)
{
  g_autoptr (GstSample) last = NULL;
  g_autoptr (GstSample) gray = NULL;
  g_autoptr (GstCaps) caps = gst_caps_new_simple ("video/x-raw", "format",
      G_TYPE_STRING, "GRAY8", NULL);
  GstVideoInfo info;
  GstMapInfo map;
  GstBuffer *buf;

  last = g_steal_pointer (&d->last);
  if (!last)
    return;
  gray = gst_video_convert_sample (last, caps, 10 * GST_SECOND, NULL);
  if (!gray || !gst_video_info_from_caps (&info, gst_sample_get_caps (gray)))
    return;
  buf = gst_sample_get_buffer (gray);
  gst_buffer_map (buf, &map, GST_MAP_READ);
  g_file_set_contents (path, (const gchar *) map.data, map.size, NULL);
  gst_buffer_unmap (buf, &map);
  json_builder_set_member_name (b, "frameWidth");
  json_builder_add_int_value (b, GST_VIDEO_INFO_WIDTH (&info));
  json_builder_set_member_name (b, "frameHeight");
  json_builder_add_int_value (b, GST_VIDEO_INFO_HEIGHT (&info));
  json_builder_set_member_name (b, "frameStride");
  json_builder_add_int_value (b, GST_VIDEO_INFO_PLANE_STRIDE (&info, 0));
}

static gboolean
decode (const gchar * uri, Decode * d, gchar ** error_text)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *dec = gst_element_factory_make ("uridecodebin", NULL);
  GstBus *bus;
  GstMessage *msg;
  gboolean ok;

  g_object_set (dec, "uri", uri, NULL);
  g_signal_connect (dec, "pad-added", G_CALLBACK (on_pad), d);
  gst_bin_add (GST_BIN (pipeline), dec);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  bus = gst_element_get_bus (pipeline);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    GError *error = NULL;

    gst_message_parse_error (msg, &error, NULL);
    *error_text = g_strdup (error->message);
    g_error_free (error);
  } else if (!msg) {
    *error_text = g_strdup ("decoding took over 60 s");
  }
  gst_clear_message (&msg);
  gst_object_unref (bus);
  /* before the sink forgets it */
  if (d->video_sink && !d->last)
    g_object_get (d->video_sink, "last-sample", &d->last, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ok;
}

int
main (int argc, char **argv)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *uri = NULL;
  g_autofree gchar *text = NULL;
  g_autofree gchar *decode_error = NULL;
  GstDiscoverer *disc;
  GstDiscovererInfo *info;
  gboolean discovered = FALSE, decoded;
  Decode d = { 0 };
  const gchar *frame_path = NULL;

  gst_init (&argc, &argv);
  d.frame_at = GST_CLOCK_TIME_NONE;
  if (argc == 5 && !g_strcmp0 (argv[1], "--frame")) {
    frame_path = argv[2];
    d.frame_at = g_ascii_strtod (argv[3], NULL) * GST_SECOND;
    argv[1] = argv[4];
    argc = 2;
  }
  if (argc != 2) {
    g_printerr ("usage: noom-probe-file [--frame GRAY8-PATH SECONDS] FILE\n");
    return 2;
  }
  uri = gst_filename_to_uri (argv[1], &error);
  if (!uri) {
    g_printerr ("noom-probe-file: %s\n", error->message);
    return 2;
  }

  json_builder_begin_object (b);
  disc = gst_discoverer_new (20 * GST_SECOND, &error);
  info = disc ? gst_discoverer_discover_uri (disc, uri, &error) : NULL;
  if (info && gst_discoverer_info_get_result (info) == GST_DISCOVERER_OK) {
    GList *v = gst_discoverer_info_get_video_streams (info);
    GList *a = gst_discoverer_info_get_audio_streams (info);

    discovered = TRUE;
    json_builder_set_member_name (b, "duration");
    json_builder_add_double_value (b,
        gst_discoverer_info_get_duration (info) / (gdouble) GST_SECOND);
    add_tags (b, gst_discoverer_info_get_tags (info));
    add_streams (b, "video", v);
    add_streams (b, "audio", a);
    gst_discoverer_stream_info_list_free (v);
    gst_discoverer_stream_info_list_free (a);
  } else {
    json_builder_set_member_name (b, "discoverError");
    json_builder_add_string_value (b, error ? error->message : "not OK");
  }
  json_builder_set_member_name (b, "discovered");
  json_builder_add_boolean_value (b, discovered);
  g_clear_object (&info);
  g_clear_object (&disc);

  g_mutex_init (&d.lock);
  d.end = GST_CLOCK_TIME_NONE;
  d.video_start = d.video_last = GST_CLOCK_TIME_NONE;
  d.video_gaps = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  decoded = decode (uri, &d, &decode_error);
  json_builder_set_member_name (b, "decoded");
  json_builder_add_boolean_value (b, decoded);
  if (decode_error) {
    json_builder_set_member_name (b, "decodeError");
    json_builder_add_string_value (b, decode_error);
  }
  json_builder_set_member_name (b, "decodedEnd");
  json_builder_add_double_value (b, GST_CLOCK_TIME_IS_VALID (d.end) ?
      d.end / (gdouble) GST_SECOND : 0.0);
  json_builder_set_member_name (b, "videoFrames");
  json_builder_add_int_value (b, d.video_frames);
  json_builder_set_member_name (b, "audioBuffers");
  json_builder_add_int_value (b, d.audio_buffers);
  json_builder_set_member_name (b, "videoStart");
  json_builder_add_double_value (b, GST_CLOCK_TIME_IS_VALID (d.video_start) ?
      d.video_start / (gdouble) GST_SECOND : 0.0);
  json_builder_set_member_name (b, "videoEnd");
  json_builder_add_double_value (b, GST_CLOCK_TIME_IS_VALID (d.video_last) ?
      d.video_last / (gdouble) GST_SECOND : 0.0);
  json_builder_set_member_name (b, "videoGaps");
  json_builder_begin_array (b);
  for (guint i = 0; i + 1 < d.video_gaps->len; i += 2) {
    json_builder_begin_array (b);
    json_builder_add_double_value (b, g_array_index (d.video_gaps,
            GstClockTime, i) / (gdouble) GST_SECOND);
    json_builder_add_double_value (b, g_array_index (d.video_gaps,
            GstClockTime, i + 1) / (gdouble) GST_SECOND);
    json_builder_end_array (b);
  }
  json_builder_end_array (b);
  if (frame_path)
    write_frame (b, &d, frame_path);
  gst_clear_object (&d.video_sink);
  g_array_unref (d.video_gaps);
  json_builder_end_object (b);
  g_mutex_clear (&d.lock);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  printf ("%s\n", text);
  return discovered && decoded ? 0 : 1;
}
