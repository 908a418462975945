/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The noom plugin: noomsink publishes a pipeline into a Noom room, noomsrc
 * receives every participant of a room as pads; noomrtphdrextabssendtime
 * is the RTP header extension noomsink writes for receivers that estimate
 * their bandwidth themselves (REMB).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstnoomelements.h"

void
gst_noom_tags_register (void)
{
  /* No standard tag means "who in the room": organization or comment would
   * say something else to every tag reader and muxer. */
  gst_tag_register_static (GST_NOOM_TAG_PARTICIPANT_ID, GST_TAG_FLAG_META,
      G_TYPE_STRING, "noom participant id",
      "id of the Noom room participant whose media this is", NULL);
  gst_tag_register_static (GST_NOOM_TAG_SCREEN, GST_TAG_FLAG_META,
      G_TYPE_BOOLEAN, "noom screen",
      "the stream is a Noom participant's shared screen, not its camera", NULL);
}

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  gst_noom_tags_register ();
  ret |= GST_ELEMENT_REGISTER (noomsink, plugin);
  ret |= GST_ELEMENT_REGISTER (noomsrc, plugin);
  ret |= GST_ELEMENT_REGISTER (noomrtphdrextabssendtime, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR,
    GST_VERSION_MINOR,
    noom,
    "Noom video rooms: publish into and receive from a room over WebRTC",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
