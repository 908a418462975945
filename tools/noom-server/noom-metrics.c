/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-metrics: see noom-metrics.h.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

#include "noom-metrics.h"

/* Upper bounds, in seconds, of all but the last (+Inf) bucket. */
static const gdouble bounds[NOOM_HISTOGRAM_BUCKETS - 1] = {
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
};

void
noom_histogram_observe (NoomHistogram * h, gdouble seconds)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bounds) && seconds > bounds[i]; i++);
  h->buckets[i]++;
  h->count++;
  h->sum += seconds;
}

void
noom_metrics_header (GString * out, const gchar * name, const gchar * type,
    const gchar * help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
      name, type);
}

void
noom_metrics_label (GString * out, const gchar * name, const gchar * value)
{
  const gchar *c;

  g_string_append_printf (out, "%s=\"", name);
  for (c = value; c && *c; c++) {
    if (*c == '\\' || *c == '"')
      g_string_append_c (out, '\\');
    if (*c == '\n')
      g_string_append (out, "\\n");
    else
      g_string_append_c (out, *c);
  }
  g_string_append_c (out, '"');
}

void
noom_metrics_histogram (GString * out, const gchar * name, const gchar * help,
    const NoomHistogram * h)
{
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];
  guint64 cumulative = 0;
  guint i;

  noom_metrics_header (out, name, "histogram", help);
  for (i = 0; i < G_N_ELEMENTS (bounds); i++) {
    cumulative += h->buckets[i];
    g_string_append_printf (out, "%s_bucket{le=\"%s\"} %" G_GUINT64_FORMAT
        "\n", name, g_ascii_dtostr (num, sizeof (num), bounds[i]), cumulative);
  }
  g_string_append_printf (out, "%s_bucket{le=\"+Inf\"} %" G_GUINT64_FORMAT
      "\n", name, h->count);
  g_string_append_printf (out, "%s_sum %s\n", name,
      g_ascii_dtostr (num, sizeof (num), h->sum));
  g_string_append_printf (out, "%s_count %" G_GUINT64_FORMAT "\n", name,
      h->count);
}

static gint64 start_time_s;

void
noom_metrics_init (void)
{
  start_time_s = g_get_real_time () / G_USEC_PER_SEC;
}

void
noom_metrics_process (GString * out)
{
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];
  struct rusage ru;
  g_autofree gchar *statm = NULL;
  gulong size = 0, resident = 0;
  g_autoptr (GDir) fds = NULL;
  guint n_fds = 0;

  if (getrusage (RUSAGE_SELF, &ru) == 0) {
    gdouble cpu = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
        (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;

    noom_metrics_header (out, "process_cpu_seconds_total", "counter",
        "User and system CPU time spent in seconds.");
    g_string_append_printf (out, "process_cpu_seconds_total %s\n",
        g_ascii_dtostr (num, sizeof (num), cpu));
  }
  if (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL)
      && sscanf (statm, "%lu %lu", &size, &resident) == 2) {
    noom_metrics_header (out, "process_resident_memory_bytes", "gauge",
        "Resident memory size in bytes.");
    g_string_append_printf (out, "process_resident_memory_bytes %"
        G_GUINT64_FORMAT "\n", (guint64) resident * sysconf (_SC_PAGESIZE));
  }
  if ((fds = g_dir_open ("/proc/self/fd", 0, NULL)) != NULL) {
    while (g_dir_read_name (fds))
      n_fds++;
    noom_metrics_header (out, "process_open_fds", "gauge",
        "Number of open file descriptors.");
    g_string_append_printf (out, "process_open_fds %u\n", n_fds);
  }
  noom_metrics_header (out, "process_start_time_seconds", "gauge",
      "Start time of the process since unix epoch in seconds.");
  g_string_append_printf (out, "process_start_time_seconds %" G_GINT64_FORMAT
      "\n", start_time_s);
}
