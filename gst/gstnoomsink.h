/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "gstnoombasebin.h"

G_BEGIN_DECLS

#define GST_TYPE_NOOM_SINK (gst_noom_sink_get_type ())
G_DECLARE_FINAL_TYPE (GstNoomSink, gst_noom_sink, GST, NOOM_SINK,
    GstNoomBaseBin)

G_END_DECLS
