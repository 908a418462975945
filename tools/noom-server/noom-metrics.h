/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-metrics: writing the Prometheus text format (version 0.0.4) of
 * GET /metrics (docs/server.md): HELP and TYPE lines, a histogram, and the
 * process's own CPU time and resident memory.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NOOM_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Seconds; the last bucket is +Inf. */
#define NOOM_HISTOGRAM_BUCKETS 12

typedef struct {
  guint64 buckets[NOOM_HISTOGRAM_BUCKETS];      /* not cumulative */
  guint64 count;
  gdouble sum;
} NoomHistogram;

void noom_histogram_observe (NoomHistogram * h, gdouble seconds);

/* "# HELP name help\n# TYPE name type\n" */
void noom_metrics_header (GString * out, const gchar * name,
    const gchar * type, const gchar * help);
/* name="value", the value escaped as the text format says (\\, \", \n) */
void noom_metrics_label (GString * out, const gchar * name,
    const gchar * value);
void noom_metrics_histogram (GString * out, const gchar * name,
    const gchar * help, const NoomHistogram * h);
/* Notes the process's start time: call it early in main(). */
void noom_metrics_init (void);
/* process_cpu_seconds_total, process_resident_memory_bytes,
 * process_start_time_seconds, process_open_fds */
void noom_metrics_process (GString * out);

G_END_DECLS
