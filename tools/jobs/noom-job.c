/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>

#include "noom-job.h"

static gchar *opt_token;
static gchar *opt_token_file;
static gboolean opt_accept_invalid_certificates;
static gboolean opt_version;

static GOptionEntry entries[] = {
  /* A token on the command line or in the URI is in every `ps` listing:
   * --token-file keeps it out. */
  {"token", 't', 0, G_OPTION_ARG_STRING, &opt_token,
      "Access token for the room (visible to other users in ps: prefer "
        "--token-file)", "TOKEN"},
  {"token-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_token_file,
      "Read the access token from FILE (surrounding white space ignored)",
      "FILE"},
  {"accept-invalid-certificates", 0, 0, G_OPTION_ARG_NONE,
        &opt_accept_invalid_certificates,
        "nooms://: accept a certificate that does not validate (self-signed, "
        "another host name, expired)", NULL},
  {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
      "Print the version and exit", NULL},
  {NULL}
};

void
noom_job_add_options (GOptionContext * ctx)
{
  g_option_context_add_main_entries (ctx, entries, NULL);
}

gboolean
noom_job_print_version (const gchar * prog)
{
  if (!opt_version)
    return FALSE;
  printf ("%s %s\n", prog, VERSION);
  return TRUE;
}

/* The options' token overrides one in the URI. */
gboolean
noom_job_configure (const gchar * prog, GstElement * element)
{
  g_autofree gchar *token = NULL;

  if (opt_token && opt_token_file) {
    g_printerr ("%s: give --token or --token-file, not both\n", prog);
    return FALSE;
  }
  if (opt_token_file) {
    g_autoptr (GError) error = NULL;

    if (!g_file_get_contents (opt_token_file, &token, NULL, &error)) {
      g_printerr ("%s: --token-file: %s\n", prog, error->message);
      return FALSE;
    }
    g_strstrip (token);
    if (!*token) {
      g_printerr ("%s: --token-file: %s is empty\n", prog, opt_token_file);
      return FALSE;
    }
  } else if (opt_token) {
    token = g_strdup (opt_token);
  }
  if (token)
    g_object_set (element, "token", token, NULL);
  if (opt_accept_invalid_certificates)
    g_object_set (element, "accept-invalid-certificates", TRUE, NULL);
  return TRUE;
}

/* The elements' errors name their properties; a user of the tools has
 * options instead. */
void
noom_job_print_hint (const gchar * prog, const GError * error)
{
  if (strstr (error->message, "accept-invalid-certificates"))
    g_printerr ("%s: --accept-invalid-certificates trusts it anyway\n", prog);
  else if (g_error_matches (error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED) && !opt_token && !opt_token_file)
    g_printerr ("%s: give the room's token with --token-file FILE\n", prog);
}
