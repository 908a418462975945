/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-log-fold: refusal lines logged once, not once per refusal.  A
 * client retrying in a loop must not flood the log: an identical line is
 * logged at most once per 10 s, and the next one says how many were left
 * out.  Used by the HTTP layer (noom-engine) and the accept path
 * (noom-listener), each with its own log domain.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _NoomLogFold NoomLogFold;

/* Lines go to @domain at message level (@domain must outlive the fold). */
NoomLogFold *noom_log_fold_new (const gchar * domain);
void noom_log_fold_free (NoomLogFold * fold);
/* Logs @line, or counts it when the same line was logged less than 10 s
 * ago. */
void noom_log_fold_line (NoomLogFold * fold, const gchar * line);

G_END_DECLS
