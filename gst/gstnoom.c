/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The noom plugin: noomsink publishes a pipeline into a Noom room, noomsrc
 * receives every participant of a room as pads.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstnoomelements.h"

static gboolean
plugin_init (GstPlugin * plugin)
{
  gboolean ret = FALSE;

  ret |= GST_ELEMENT_REGISTER (noomsink, plugin);
  ret |= GST_ELEMENT_REGISTER (noomsrc, plugin);

  return ret;
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR,
    GST_VERSION_MINOR,
    noom,
    "Noom video rooms: publish into and receive from a room over WebRTC",
    plugin_init, VERSION, GST_LICENSE, GST_PACKAGE_NAME, GST_PACKAGE_ORIGIN)
