/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-tally: a count per string (the open connections or sessions of each
 * peer address), kept in a GHashTable: a string is in the table while its
 * count is above 0.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* An empty tally: free with g_hash_table_unref(). */
GHashTable *noom_tally_new (void);
guint noom_tally_get (GHashTable * tally, const gchar * key);
void noom_tally_add (GHashTable * tally, const gchar * key);
/* Counts @key one less (it must have been added). */
void noom_tally_remove (GHashTable * tally, const gchar * key);

G_END_DECLS
