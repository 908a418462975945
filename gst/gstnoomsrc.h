/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "gstnoombasebin.h"

G_BEGIN_DECLS

#define GST_TYPE_NOOM_SRC (gst_noom_src_get_type ())
G_DECLARE_FINAL_TYPE (GstNoomSrc, gst_noom_src, GST, NOOM_SRC,
    GstNoomBaseBin)

#define GST_TYPE_NOOM_SRC_PAD (gst_noom_src_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstNoomSrcPad, gst_noom_src_pad, GST, NOOM_SRC_PAD,
    GstGhostPad)

G_END_DECLS
