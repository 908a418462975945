/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"
#include "noom-log-fold.h"

#define LOG_REPEAT_US (10 * G_USEC_PER_SEC)
/* Bounded: the lines hold peer addresses, which an attacker may vary. */
#define LOG_SEEN_MAX 512

typedef struct
{
  gint64 last_us;
  guint suppressed;
} LogSeen;

struct _NoomLogFold
{
  const gchar *domain;
  GHashTable *seen;             /* line -> LogSeen */
};

NoomLogFold *
noom_log_fold_new (const gchar * domain)
{
  NoomLogFold *fold = g_new0 (NoomLogFold, 1);

  fold->domain = domain;
  fold->seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  return fold;
}

void
noom_log_fold_free (NoomLogFold * fold)
{
  if (fold == NULL)
    return;
  g_hash_table_unref (fold->seen);
  g_free (fold);
}

/* A line may be forgotten once it is quiet and owes no count. */
static gboolean
seen_old (gpointer key, gpointer value, gpointer user_data)
{
  const LogSeen *seen = value;

  return seen->suppressed == 0 &&
      *(const gint64 *) user_data - seen->last_us >= LOG_REPEAT_US;
}

void
noom_log_fold_line (NoomLogFold * fold, const gchar * line)
{
  gint64 now = g_get_monotonic_time ();
  LogSeen *seen = g_hash_table_lookup (fold->seen, line);

  if (seen && now - seen->last_us < LOG_REPEAT_US) {
    seen->suppressed++;
    return;
  }
  if (seen) {
    if (seen->suppressed)
      g_log (fold->domain, G_LOG_LEVEL_MESSAGE,
          "%s (and %u more like it in the last %u s)", line,
          seen->suppressed, (guint) ((now - seen->last_us) / G_USEC_PER_SEC));
    else
      g_log (fold->domain, G_LOG_LEVEL_MESSAGE, "%s", line);
    seen->last_us = now;
    seen->suppressed = 0;
    return;
  }
  if (g_hash_table_size (fold->seen) >= LOG_SEEN_MAX) {
    g_hash_table_foreach_remove (fold->seen, seen_old, &now);
    if (g_hash_table_size (fold->seen) >= LOG_SEEN_MAX)
      g_hash_table_remove_all (fold->seen);
  }
  seen = g_new0 (LogSeen, 1);
  seen->last_us = now;
  g_hash_table_insert (fold->seen, g_strdup (line), seen);
  g_log (fold->domain, G_LOG_LEVEL_MESSAGE, "%s", line);
}
