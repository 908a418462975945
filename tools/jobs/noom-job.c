/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <gio/gio.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "noom-job.h"

static gchar *opt_token;
static gchar *opt_token_file;
static gboolean opt_accept_invalid_certificates;
static gchar *opt_ca_file;
static gchar *opt_ice_local_addresses;
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
  /* A private certificate authority (a test server, an internal RTMPS
   * relay): trusted by every TLS connection of the process. */
  {"ca-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_ca_file,
        "Trust the certificate authorities in FILE (PEM) instead of the "
        "system's: for a nooms:// server or an rtmps:// output with a "
        "private authority", "FILE"},
  {"ice-local-addresses", 0, 0, G_OPTION_ARG_STRING,
        &opt_ice_local_addresses,
        "Gather ICE candidates on these local IP addresses only "
        "(comma-separated, e.g. 10.0.0.5): the media goes through that "
        "interface", "ADDRS"},
  {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
      "Print the version and exit", NULL},
  {NULL}
};

/* The command line of a tool: its own @tool_entries, the shared options
 * and GStreamer's; @nargs positional arguments after the program name,
 * @usage saying which when they are not.  Returns -1 to go on, or the exit
 * status (0 after --version, 2 for a bad command line). */
gint
noom_job_parse (const gchar * prog, GOptionContext * ctx,
    const GOptionEntry * tool_entries, gint nargs, const gchar * usage,
    gint * argc, gchar *** argv)
{
  g_autoptr (GError) error = NULL;

  setlocale (LC_ALL, "");
  g_option_context_add_main_entries (ctx, tool_entries, NULL);
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, argc, argv, &error)) {
    g_printerr ("%s: %s\n", prog, error->message);
    return 2;
  }
  if (opt_version) {
    printf ("%s %s\n", prog, VERSION);
    return 0;
  }
  if (*argc != nargs + 1) {
    g_printerr ("%s: %s (see --help)\n", prog, usage);
    return 2;
  }
  return -1;
}

/* SIGINT and SIGTERM call @stop in the main loop: a tool finishes what it
 * writes and leaves the room, whichever one it gets. */
void
noom_job_watch_stop_signals (GSourceFunc stop, gpointer data)
{
  g_unix_signal_add (SIGINT, stop, data);
  g_unix_signal_add (SIGTERM, stop, data);
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
  if (opt_ca_file) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GTlsDatabase) db = g_tls_file_database_new (opt_ca_file,
        &error);

    if (!db) {
      g_printerr ("%s: --ca-file %s: %s\n", prog, opt_ca_file,
          error->message);
      return FALSE;
    }
    g_tls_backend_set_default_database (g_tls_backend_get_default (), db);
  }
  if (opt_ice_local_addresses) {
    g_autofree gchar *now = NULL;

    /* the element warns of and ignores an address it cannot use */
    g_object_set (element, "ice-local-addresses", opt_ice_local_addresses,
        NULL);
    g_object_get (element, "ice-local-addresses", &now, NULL);
    if (g_strcmp0 (now, opt_ice_local_addresses)) {
      g_printerr ("%s: --ice-local-addresses %s: expected IP addresses, "
          "comma-separated\n", prog, opt_ice_local_addresses);
      return FALSE;
    }
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

void
noom_job_logv (const gchar * prog, gboolean verbose, gboolean tty,
    const gchar * format, va_list args)
{
  g_autofree gchar *text = NULL;
  g_autoptr (GDateTime) now = NULL;
  g_autofree gchar *stamp = NULL;

  if (!verbose)
    return;
  text = g_strdup_vprintf (format, args);
  now = g_date_time_new_now_local ();
  stamp = g_date_time_format (now, "%H:%M:%S.%f");
  stamp[12] = '\0';             /* milliseconds */
  if (tty)
    fputs ("\r\033[K", stderr);
  fprintf (stderr, "%s: %s %s\n", prog, stamp, text);
}

/* HH:MM:SS */
gchar *
noom_job_format_duration (gint64 us)
{
  gint64 s = us / G_USEC_PER_SEC;

  return g_strdup_printf ("%02" G_GINT64_FORMAT ":%02" G_GINT64_FORMAT
      ":%02" G_GINT64_FORMAT, s / 3600, (s / 60) % 60, s % 60);
}
