/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One factor for every deadline of the C tests: NOOM_TEST_TIME_SCALE (a
 * float, default 1; the node tests read the same variable).  On a loaded
 * machine, NOOM_TEST_TIME_SCALE=3 scripts/test stretches them all; no
 * test asserts a duration.
 */
#pragma once

#include <glib.h>

static inline gdouble
noom_test_time_scale (void)
{
  static gdouble scale = 0;

  if (scale == 0) {
    const gchar *s = g_getenv ("NOOM_TEST_TIME_SCALE");
    gdouble v = s ? g_ascii_strtod (s, NULL) : 0;

    scale = v > 0 && v < 1000 ? v : 1;
  }
  return scale;
}

/* @ms milliseconds, scaled */
#define NOOM_TEST_MS(ms) ((guint) ((ms) * noom_test_time_scale ()))
