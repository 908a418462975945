/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/rtp/rtp.h>

G_BEGIN_DECLS

#define GST_TYPE_NOOM_ABS_SEND_TIME (gst_noom_abs_send_time_get_type ())
G_DECLARE_FINAL_TYPE (GstNoomAbsSendTime, gst_noom_abs_send_time, GST,
    NOOM_ABS_SEND_TIME, GstRTPHeaderExtension)

G_END_DECLS
