/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What noom-record and noom-ingest share: the options that say how to get
 * into the room (--token, --token-file, --accept-invalid-certificates) and
 * --version.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

void noom_job_add_options (GOptionContext * ctx);
gboolean noom_job_print_version (const gchar * prog);
gboolean noom_job_configure (const gchar * prog, GstElement * element);
void noom_job_print_hint (const gchar * prog, const GError * error);

G_END_DECLS
