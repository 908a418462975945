/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Shared by the fuzz harnesses: the libFuzzer entry points and a check
 * macro that aborts (libFuzzer and the corpus replay both treat an abort
 * as a failure and print the input that caused it).
 */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <glib.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);
int LLVMFuzzerInitialize (int *argc, char ***argv);

/* Not g_assert: it must stay on with G_DISABLE_ASSERT and say which
 * property broke. */
#define FUZZ_CHECK(cond)                                                \
  G_STMT_START {                                                        \
    if (G_UNLIKELY (!(cond))) {                                         \
      fprintf (stderr, "%s:%d: property failed: %s\n", __FILE__,        \
          __LINE__, #cond);                                             \
      abort ();                                                         \
    }                                                                   \
  } G_STMT_END

/* Criticals and warnings (a g_return_if_fail hit, json-glib complaining)
 * are bugs for a fuzzer: make them abort. */
static inline void
fuzz_init_glib (void)
{
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
}
