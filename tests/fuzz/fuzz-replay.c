/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fuzz-replay: a main() for the fuzz harnesses when libFuzzer is not
 * available (gcc builds).  Every argument is a file or a directory of
 * files; each file is fed once to LLVMFuzzerTestOneInput(), so the seed
 * corpus and the regression inputs are a plain test under any compiler.
 * Prints one TAP line per file.
 */
#include <string.h>

#include "fuzz.h"

static guint n_files;

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

static gboolean
replay_file (const gchar * path)
{
  g_autofree gchar *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, &error)) {
    printf ("not ok %u - %s: %s\n", ++n_files, path, error->message);
    return FALSE;
  }
  /* An exact-size copy, so that reads past the end are caught under
   * ASan or valgrind (g_file_get_contents adds a NUL). */
  {
    g_autofree guint8 *data = g_memdup2 (contents, len);

    LLVMFuzzerTestOneInput (data, len);
  }
  printf ("ok %u - %s\n", ++n_files, path);
  return TRUE;
}

static gboolean
replay (const gchar * path)
{
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const gchar *name;
  gboolean ok = TRUE;
  guint i;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    return replay_file (path);
  dir = g_dir_open (path, 0, NULL);
  if (dir == NULL) {
    printf ("not ok %u - %s: cannot open\n", ++n_files, path);
    return FALSE;
  }
  /* Sorted, so that the TAP output is the same on every run. */
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.')
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);
  for (i = 0; i < names->len; i++)
    ok &= replay (names->pdata[i]);
  return ok;
}

int
main (int argc, char **argv)
{
  gboolean ok = TRUE;
  int i;

  LLVMFuzzerInitialize (&argc, &argv);
  if (argc < 2) {
    fprintf (stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
    return 2;
  }
  for (i = 1; i < argc; i++)
    ok &= replay (argv[i]);
  printf ("1..%u\n", n_files);
  return ok && n_files > 0 ? 0 : 1;
}
