/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-relay-link: the supervised media relay process (see
 * noom-relay-link.h and docs/server-internals.md, "The media relay").
 *
 * One Relay per process started.  Its reads, writes and wait are async
 * operations that each hold a reference, so a relay that has been let go
 * (it exited, the link was freed) stays valid until the last of them
 * returns; r->link is NULL from then on and they do nothing more.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>

#include <gio/gio.h>

#include "noom-packet.h"
#include "noom-relay-link.h"

#define BACKOFF_FIRST_MS 500
#define BACKOFF_MAX_MS 5000
/* Up this long, a relay that stops is restarted after BACKOFF_FIRST_MS
 * again. */
#define BACKOFF_RESET_US (30 * G_USEC_PER_SEC)
/* At shutdown: SIGTERM this long after its stdin was closed, SIGKILL
 * this long after that. */
#define STOP_TERM_MS 500
#define STOP_KILL_MS 1000
/* A relay that leaves this much of its input unread is stuck: it is
 * killed (and restarted) rather than grow the server without bound. */
#define MAX_QUEUED (64 * 1024 * 1024)

typedef struct
{
  gint ref_count;
  NoomRelayLink *link;          /* NULL once let go */
  GSubprocess *process;
  gchar *pid;
  GOutputStream *in;            /* the process's */
  GDataInputStream *out;
  GCancellable *cancellable;
  GQueue writes;                /* GBytes*, the head being written */
  gsize queued;                 /* bytes in writes */
  gint64 started_us;
  guint writing:1;
  guint close_in:1;             /* close stdin once writes is empty */
  guint in_closed:1;
  guint ready:1;
  guint exited:1;
} Relay;

struct _NoomRelayLink
{
  gchar **argv;
  gsize max_line;
  NoomRelayLinkCallbacks callbacks;
  gpointer user_data;

  Relay *relay;                 /* running (or exiting); NULL between two */
  guint backoff_ms;
  guint respawn_source;
  guint term_source;
  guint kill_source;
  gboolean stopping;
  gboolean down;                /* down() called, ready() not since */
};

static void spawn_later (NoomRelayLink * self, gint64 uptime_us);

static Relay *
relay_ref (Relay * r)
{
  r->ref_count++;
  return r;
}

static void
relay_unref (Relay * r)
{
  GBytes *b;

  if (--r->ref_count > 0)
    return;
  while ((b = g_queue_pop_head (&r->writes)) != NULL)
    g_bytes_unref (b);
  g_clear_object (&r->out);
  g_clear_object (&r->cancellable);
  g_clear_object (&r->process);
  g_free (r->pid);
  g_free (r);
}

/* ------------------------------------------------------------- the path */

static gchar *
executable_at (const gchar * dir, const gchar * relative)
{
  g_autofree gchar *path = g_build_filename (dir, relative, NULL);
  g_autofree gchar *canonical = g_canonicalize_filename (path, NULL);

  if (g_file_test (canonical, G_FILE_TEST_IS_EXECUTABLE)
      && !g_file_test (canonical, G_FILE_TEST_IS_DIR))
    return g_steal_pointer (&canonical);
  return NULL;
}

gchar *
noom_relay_link_find_default (void)
{
  g_autofree gchar *self_exe = g_file_read_link ("/proc/self/exe", NULL);
  gchar *found = NULL;

  if (self_exe) {
    g_autofree gchar *dir = g_path_get_dirname (self_exe);

    /* Installed side by side, or in the build tree
     * (build/tools/noom-server/ and build/tools/relay/). */
    found = executable_at (dir, "noom-relay");
    if (found == NULL)
      found = executable_at (dir, "../relay/noom-relay");
  }
  if (found == NULL)
    found = g_find_program_in_path ("noom-relay");
  return found;
}

/* --------------------------------------------------------------- writing */

static void write_next (Relay * r);

static void
write_cb (GObject * source, GAsyncResult * res, gpointer data)
{
  Relay *r = data;
  g_autoptr (GError) error = NULL;
  GBytes *b;

  r->writing = FALSE;
  b = g_queue_pop_head (&r->writes);
  r->queued -= g_bytes_get_size (b);
  g_bytes_unref (b);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), res, NULL,
          &error)) {
    /* EPIPE: it is exiting, and the wait will say how. */
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_message ("relay pid=%s: cannot write to it: %s", r->pid,
          error->message);
    while ((b = g_queue_pop_head (&r->writes)) != NULL)
      g_bytes_unref (b);
    r->queued = 0;
    r->in_closed = TRUE;
  } else {
    write_next (r);
  }
  relay_unref (r);
}

static void
write_next (Relay * r)
{
  GBytes *b;

  if (r->writing || r->in_closed)
    return;
  b = g_queue_peek_head (&r->writes);
  if (b == NULL) {
    if (r->close_in) {
      /* The relay's cue to stop: the end of its input. */
      g_output_stream_close (r->in, NULL, NULL);
      r->in_closed = TRUE;
    }
    return;
  }
  r->writing = TRUE;
  g_output_stream_write_all_async (r->in, g_bytes_get_data (b, NULL),
      g_bytes_get_size (b), G_PRIORITY_DEFAULT, r->cancellable, write_cb,
      relay_ref (r));
}

void
noom_relay_link_send (NoomRelayLink * self, JsonObject * message)
{
  Relay *r = self->relay;
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *text = NULL;
  gchar *line;
  gsize len;

  if (r == NULL || !r->ready || r->close_in || r->in_closed) {
    g_debug ("relay not ready: dropping \"%s\"",
        json_object_get_string_member_with_default (message, "op", "?"));
    return;
  }
  node = json_node_init_object (json_node_alloc (), message);
  /* The generator escapes every control character in strings: one
   * object is one line. */
  text = json_to_string (node, FALSE);
  line = g_strconcat (text, "\n", NULL);
  len = strlen (line);
  if (r->queued + len > MAX_QUEUED) {
    g_message ("relay pid=%s does not read its input (%" G_GSIZE_FORMAT
        " bytes waiting): killing it", r->pid, r->queued);
    g_free (line);
    g_subprocess_force_exit (r->process);
    return;
  }
  g_queue_push_tail (&r->writes, g_bytes_new_take (line, len));
  r->queued += len;
  write_next (r);
}

/* --------------------------------------------------------------- reading */

static void
announce_down (NoomRelayLink * self)
{
  if (self->down || self->stopping)
    return;
  self->down = TRUE;
  if (self->callbacks.down)
    self->callbacks.down (self->user_data);
}

static void
handle_line (NoomRelayLink * self, Relay * r, const gchar * line, gsize len)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *message;
  const gchar *op;

  if (len == 0)
    return;
  if (len > self->max_line) {
    g_message ("relay pid=%s: skipped a line of %" G_GSIZE_FORMAT
        " bytes (over %" G_GSIZE_FORMAT ")", r->pid, len, self->max_line);
    return;
  }
  node = noom_json_parse (line, len, &error);
  message = node && JSON_NODE_HOLDS_OBJECT (node) ?
      json_node_get_object (node) : NULL;
  op = message ? noom_json_node_get_string (json_object_get_member (message,
          "op")) : NULL;
  if (op == NULL) {
    g_message ("relay pid=%s: skipped a line that is not an object with "
        "an op%s%s", r->pid, error ? ": " : "", error ? error->message : "");
    return;
  }
  if (strcmp (op, "ready") == 0) {
    gboolean restarted = self->down;

    if (r->ready) {
      g_message ("relay pid=%s: ready again, ignored", r->pid);
      return;
    }
    r->ready = TRUE;
    self->down = FALSE;
    g_message ("relay ready pid=%s", r->pid);
    if (self->callbacks.ready)
      self->callbacks.ready (restarted, self->user_data);
    return;
  }
  if (self->callbacks.message)
    self->callbacks.message (op, message, self->user_data);
}

static void read_next (Relay * r);

static void
read_cb (GObject * source, GAsyncResult * res, gpointer data)
{
  Relay *r = data;
  NoomRelayLink *self = r->link;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *line = NULL;
  gsize len = 0;

  line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
      res, &len, &error);
  if (self == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    relay_unref (r);
    return;
  }
  if (line == NULL) {
    /* The end of its output: whether or not it exits by itself, that
     * relay is of no more use.  The wait logs how it ends.  Unless we are
     * stopping it: then that is how it exits, once it has seen the end of
     * its input, and the SIGTERM and SIGKILL timers are there for a relay
     * that does not. */
    if (error)
      g_message ("relay pid=%s: cannot read its output: %s", r->pid,
          error->message);
    else if (!r->exited && !r->close_in)
      g_message ("relay pid=%s closed its output", r->pid);
    r->ready = FALSE;
    if (!r->exited && !r->close_in)
      g_subprocess_force_exit (r->process);
    if (r == self->relay)
      announce_down (self);
    relay_unref (r);
    return;
  }
  handle_line (self, r, line, len);
  if (r->link)
    read_next (r);
  relay_unref (r);
}

static void
read_next (Relay * r)
{
  g_data_input_stream_read_line_async (r->out, G_PRIORITY_DEFAULT,
      r->cancellable, read_cb, relay_ref (r));
}

/* ------------------------------------------------------------ supervision */

/* @r is of no more use: nothing more is read or written. */
static void
relay_release (Relay * r)
{
  r->link = NULL;
  g_cancellable_cancel (r->cancellable);
  relay_unref (r);
}

static void
log_exit (Relay * r)
{
  if (g_subprocess_get_if_signaled (r->process)) {
    gint sig = g_subprocess_get_term_sig (r->process);

    g_message ("relay exited pid=%s: killed by signal %d (%s)", r->pid, sig,
        g_strsignal (sig));
  } else {
    g_message ("relay exited pid=%s with status %d", r->pid,
        g_subprocess_get_exit_status (r->process));
  }
}

static void
wait_cb (GObject * source, GAsyncResult * res, gpointer data)
{
  Relay *r = data;
  NoomRelayLink *self = r->link;
  gint64 uptime;

  g_subprocess_wait_finish (G_SUBPROCESS (source), res, NULL);
  if (r->exited || self == NULL) {
    relay_unref (r);
    return;
  }
  r->exited = TRUE;
  r->ready = FALSE;
  log_exit (r);
  uptime = g_get_monotonic_time () - r->started_us;
  if (r == self->relay) {
    self->relay = NULL;
    relay_release (r);
    announce_down (self);
    if (!self->stopping)
      spawn_later (self, uptime);
  }
  relay_unref (r);
}

/* Runs in the child between fork and exec. */
static void
child_setup (gpointer data)
{
  pid_t parent = GPOINTER_TO_INT (data);

  /* Never outlive the server, even when it is killed: the kernel sends
   * the relay SIGKILL when the server goes.  A server that went before
   * this line ran is no longer our parent. */
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != parent)
    _exit (1);
}

static gboolean
spawn (NoomRelayLink * self, GError ** error)
{
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  GSubprocess *process;
  Relay *r;

  /* stderr is inherited: the relay's log lines are the server's. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
      G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup,
      GINT_TO_POINTER (getpid ()), NULL);
  process = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) self->argv, error);
  if (process == NULL)
    return FALSE;

  r = g_new0 (Relay, 1);
  r->ref_count = 1;
  r->link = self;
  r->process = process;
  r->pid = g_strdup (g_subprocess_get_identifier (process));
  r->in = g_subprocess_get_stdin_pipe (process);
  r->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  g_data_input_stream_set_newline_type (r->out, G_DATA_STREAM_NEWLINE_TYPE_LF);
  r->cancellable = g_cancellable_new ();
  r->started_us = g_get_monotonic_time ();
  g_queue_init (&r->writes);
  self->relay = r;
  /* Tests find the process to kill by this line. */
  g_message ("relay started pid=%s path=%s", r->pid, self->argv[0]);
  read_next (r);
  g_subprocess_wait_async (process, NULL, wait_cb, relay_ref (r));
  return TRUE;
}

static gboolean
respawn_cb (gpointer data)
{
  NoomRelayLink *self = data;
  g_autoptr (GError) error = NULL;

  self->respawn_source = 0;
  if (!spawn (self, &error)) {
    g_message ("cannot start the relay %s: %s", self->argv[0], error->message);
    spawn_later (self, 0);
  }
  return G_SOURCE_REMOVE;
}

static void
spawn_later (NoomRelayLink * self, gint64 uptime_us)
{
  guint delay;

  if (uptime_us >= BACKOFF_RESET_US)
    self->backoff_ms = BACKOFF_FIRST_MS;
  delay = self->backoff_ms;
  self->backoff_ms = MIN (self->backoff_ms * 2, BACKOFF_MAX_MS);
  g_message ("restarting the relay in %u ms", delay);
  self->respawn_source = g_timeout_add (delay, respawn_cb, self);
}

/* ----------------------------------------------------------------- public */

NoomRelayLink *
noom_relay_link_new (const gchar * const *argv, gsize max_line)
{
  NoomRelayLink *self = g_new0 (NoomRelayLink, 1);

  g_return_val_if_fail (argv != NULL && argv[0] != NULL, NULL);

  self->argv = g_strdupv ((gchar **) argv);
  self->max_line = max_line;
  self->backoff_ms = BACKOFF_FIRST_MS;
  return self;
}

void
noom_relay_link_set_callbacks (NoomRelayLink * self,
    const NoomRelayLinkCallbacks * callbacks, gpointer user_data)
{
  if (callbacks)
    self->callbacks = *callbacks;
  else
    memset (&self->callbacks, 0, sizeof (self->callbacks));
  self->user_data = user_data;
}

gboolean
noom_relay_link_start (NoomRelayLink * self, GError ** error)
{
  g_return_val_if_fail (self->relay == NULL, FALSE);

  return spawn (self, error);
}

gboolean
noom_relay_link_is_ready (NoomRelayLink * self)
{
  return self->relay && self->relay->ready;
}

static gboolean
kill_cb (gpointer data)
{
  NoomRelayLink *self = data;

  self->kill_source = 0;
  if (self->relay) {
    g_message ("relay pid=%s did not stop: killing it", self->relay->pid);
    g_subprocess_force_exit (self->relay->process);
  }
  return G_SOURCE_REMOVE;
}

static gboolean
term_cb (gpointer data)
{
  NoomRelayLink *self = data;

  self->term_source = 0;
  if (self->relay) {
    g_subprocess_send_signal (self->relay->process, SIGTERM);
    self->kill_source = g_timeout_add (STOP_KILL_MS, kill_cb, self);
  }
  return G_SOURCE_REMOVE;
}

void
noom_relay_link_stop (NoomRelayLink * self)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;
  g_clear_handle_id (&self->respawn_source, g_source_remove);
  if (self->relay == NULL)
    return;
  self->relay->ready = FALSE;
  self->relay->close_in = TRUE;
  write_next (self->relay);
  self->term_source = g_timeout_add (STOP_TERM_MS, term_cb, self);
}

gboolean
noom_relay_link_is_running (NoomRelayLink * self)
{
  return self->relay != NULL;
}

void
noom_relay_link_free (NoomRelayLink * self)
{
  Relay *r;

  if (self == NULL)
    return;
  self->stopping = TRUE;
  g_clear_handle_id (&self->respawn_source, g_source_remove);
  g_clear_handle_id (&self->term_source, g_source_remove);
  g_clear_handle_id (&self->kill_source, g_source_remove);
  r = g_steal_pointer (&self->relay);
  if (r) {
    if (!r->exited) {
      g_subprocess_force_exit (r->process);
      g_subprocess_wait (r->process, NULL, NULL);
      r->exited = TRUE;
      log_exit (r);
    }
    relay_release (r);
  }
  g_strfreev (self->argv);
  g_free (self);
}
