/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-relay-link: noom-server's side of the media relay (--sfu): it
 * starts noom-relay as a child process, talks to it over the child's stdin
 * and stdout, one JSON object per line (docs/server-internals.md, "The
 * media relay"), and supervises it: when it exits or closes its stdout,
 * the link logs why and starts a new one after a backoff (0.5 s doubling
 * to 5 s, back to 0.5 s after 30 s up).
 *
 * The link knows the channel, not the rooms: it handles the relay's
 * "ready" itself and hands every other object to its owner
 * (noom-room-server), which builds what it sends.  What is sent while no
 * relay is ready is dropped: a new relay learns the rooms from the joins
 * the owner sends it at "ready".
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _NoomRelayLink NoomRelayLink;

typedef struct {
  /* A relay said "ready".  @restarted: it replaces one that stopped
   * (down was called before). */
  void (*ready) (gboolean restarted, gpointer user_data);
  /* The ready relay stopped (or a starting one failed); another is on its
   * way. */
  void (*down) (gpointer user_data);
  /* An object from the relay other than "ready", with its string "op". */
  void (*message) (const gchar * op, JsonObject * message,
      gpointer user_data);
} NoomRelayLinkCallbacks;

/* The relay executable when --relay is not given: noom-relay next to
 * @self_exe's directory (installed side by side), ../relay/noom-relay
 * (the build tree), then $PATH.  NULL when none is found. */
gchar *noom_relay_link_find_default (void);

/* @argv: the relay's command line (argv[0] the executable), copied.
 * Lines longer than @max_line bytes from the relay are logged and
 * skipped. */
NoomRelayLink *noom_relay_link_new (const gchar * const *argv,
    gsize max_line);
void noom_relay_link_set_callbacks (NoomRelayLink * self,
    const NoomRelayLinkCallbacks * callbacks, gpointer user_data);
/* Starts the first relay.  Errors: the spawn's (not executable...). */
gboolean noom_relay_link_start (NoomRelayLink * self, GError ** error);
/* TRUE once the current relay said "ready" (until it stops). */
gboolean noom_relay_link_is_ready (NoomRelayLink * self);
/* Writes @message (an object with "op") as one line to the ready relay;
 * dropped when none is ready. */
void noom_relay_link_send (NoomRelayLink * self, JsonObject * message);
/* Shutdown: no more restarts; closes the relay's stdin, and sends it
 * SIGTERM after a short wait, SIGKILL after a longer one. */
void noom_relay_link_stop (NoomRelayLink * self);
/* FALSE once the relay process has exited (after stop). */
gboolean noom_relay_link_is_running (NoomRelayLink * self);
/* Kills a relay still running (SIGKILL) and reaps it. */
void noom_relay_link_free (NoomRelayLink * self);

G_END_DECLS
