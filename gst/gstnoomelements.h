/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

GST_ELEMENT_REGISTER_DECLARE (noomsink);
GST_ELEMENT_REGISTER_DECLARE (noomsrc);
GST_ELEMENT_REGISTER_DECLARE (noomrtphdrextabssendtime);

/**
 * GST_NOOM_TAG_PARTICIPANT_ID:
 *
 * The id of the room participant whose media a stream carries (a string,
 * registered by the plugin): noomsrc puts it in the tag event of each pad,
 * next to the nickname as title.
 */
#define GST_NOOM_TAG_PARTICIPANT_ID "noom-participant-id"

/**
 * GST_NOOM_TAG_SCREEN:
 *
 * TRUE on a stream that carries a participant's shared screen rather than
 * its camera (a boolean, registered by the plugin): noomsrc puts it in the
 * tag event of its screen_%u pads, whose title is "NICKNAME's screen".
 */
#define GST_NOOM_TAG_SCREEN "noom-screen"

void gst_noom_tags_register (void);

G_END_DECLS
