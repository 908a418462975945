/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * What noom-record and noom-ingest share: the command line (their own
 * options, the ones that say how to get into the room: --token,
 * --token-file, --accept-invalid-certificates, and --version), the stop
 * signals, and the hints that follow an error.  The DTLS certificate both
 * need is made by the elements themselves, in the background, as they
 * start (gst/gstnoomsession.c).
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

gint noom_job_parse (const gchar * prog, GOptionContext * ctx,
    const GOptionEntry * tool_entries, gint nargs, const gchar * usage,
    gint * argc, gchar *** argv);
void noom_job_watch_stop_signals (GSourceFunc stop, gpointer data);
gboolean noom_job_configure (const gchar * prog, GstElement * element);
void noom_job_print_hint (const gchar * prog, const GError * error);
/* -v's log line: "PROG: HH:MM:SS.mmm text" on stderr, after clearing a
 * terminal's status line; nothing unless @verbose. */
void noom_job_logv (const gchar * prog, gboolean verbose, gboolean tty,
    const gchar * format, va_list args);
gchar *noom_job_format_duration (gint64 us);

G_END_DECLS
