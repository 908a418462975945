/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What every webrtcbin of the elements needs (gstnoompeer.c).
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

guint gst_noom_webrtc_no_fec_decoders (GstElement * webrtc);

G_END_DECLS
