/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-tally: a count per string (see noom-tally.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "noom-tally.h"

GHashTable *
noom_tally_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

guint
noom_tally_get (GHashTable * tally, const gchar * key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (tally, key));
}

void
noom_tally_add (GHashTable * tally, const gchar * key)
{
  g_hash_table_insert (tally, g_strdup (key),
      GUINT_TO_POINTER (noom_tally_get (tally, key) + 1));
}

void
noom_tally_remove (GHashTable * tally, const gchar * key)
{
  guint n = noom_tally_get (tally, key);

  if (n > 1)
    g_hash_table_insert (tally, g_strdup (key), GUINT_TO_POINTER (n - 1));
  else
    g_hash_table_remove (tally, key);
}
