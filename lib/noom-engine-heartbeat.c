/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine-heartbeat: the engine's clocks (see noom-engine-private.h).
 *
 * No per-socket timers.  Every session has the same ping interval and
 * timeout, so deadlines are created in time order: the sessions waiting to
 * be pinged and those waiting for a pong sit in two intrusive FIFO lists,
 * already sorted, and one GSource per engine is armed for the earliest head
 * (O(1) per ping/pong, exact timing).  Upgrade timeouts and the linger of
 * closed polling sessions, which are rare, are left to a coarse periodic
 * sweep.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-engine"

#include "noom-engine-private.h"

enum
{
  HB_PING,                      /* waiting for its next ping */
  HB_PONG,                      /* pinged, waiting for the pong */
};

/* ------------------------------------------------------------ heartbeat */

static void
hb_rearm (NoomEngine * engine)
{
  gint64 next = G_MAXINT64;
  guint i;

  for (i = 0; i < 2; i++)
    if (engine->hb_head[i] && engine->hb_head[i]->hb_deadline < next)
      next = engine->hb_head[i]->hb_deadline;
  g_source_set_ready_time (engine->heartbeat,
      next == G_MAXINT64 ? -1 : next * 1000);
}

static void
hb_unlink (NoomEngineSocket * s)
{
  NoomEngine *engine = s->engine;
  guint list;

  if (s->hb_list == 0)
    return;
  list = s->hb_list - 1;
  if (s->hb_prev)
    s->hb_prev->hb_next = s->hb_next;
  else
    engine->hb_head[list] = s->hb_next;
  if (s->hb_next)
    s->hb_next->hb_prev = s->hb_prev;
  else
    engine->hb_tail[list] = s->hb_prev;
  s->hb_prev = s->hb_next = NULL;
  s->hb_list = 0;
}

/* Appends: deadlines of one list only grow, so the list stays sorted. */
static void
hb_append (NoomEngineSocket * s, guint list, gint64 deadline)
{
  NoomEngine *engine = s->engine;
  gboolean was_empty = engine->hb_head[list] == NULL;

  hb_unlink (s);
  s->hb_deadline = deadline;
  s->hb_list = list + 1;
  s->hb_prev = engine->hb_tail[list];
  s->hb_next = NULL;
  if (s->hb_prev)
    s->hb_prev->hb_next = s;
  else
    engine->hb_head[list] = s;
  engine->hb_tail[list] = s;
  if (was_empty)
    hb_rearm (engine);
}

void
noom_engine_heartbeat_add (NoomEngineSocket * s)
{
  hb_append (s, HB_PING, now_ms () + s->engine->config.ping_interval_ms);
}

void
noom_engine_heartbeat_remove (NoomEngineSocket * s)
{
  hb_unlink (s);
  hb_rearm (s->engine);
}

void
noom_engine_heartbeat_pong (NoomEngineSocket * s)
{
  NoomEngine *engine = s->engine;
  gboolean was_head = engine->hb_head[HB_PONG] == s;

  hb_append (s, HB_PING, now_ms () + engine->config.ping_interval_ms);
  if (was_head)
    hb_rearm (engine);
}

gboolean
noom_engine_heartbeat_overdue (NoomEngineSocket * s, gint64 now)
{
  return s->hb_list == HB_PONG + 1 && now >= s->hb_deadline;
}

/* ------------------------------------------------------------ timers */

static gboolean
heartbeat_dispatch (GSource * source, GSourceFunc callback, gpointer data)
{
  NoomEngine *engine = data;
  gint64 now = now_ms ();
  NoomEngineSocket *s;

  while ((s = engine->hb_head[HB_PONG]) && s->hb_deadline <= now)
    noom_engine_socket_close_internal (s, "ping timeout", FALSE);
  while ((s = engine->hb_head[HB_PING]) && s->hb_deadline <= now) {
    /* The timeout counts from when the ping was due, not from when this
     * ran: the client's own timer does the same. */
    hb_append (s, HB_PONG, s->hb_deadline + engine->config.ping_timeout_ms);
    noom_engine_socket_send (s, engine->ping_frame);
  }
  hb_rearm (engine);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs heartbeat_funcs = {
  .dispatch = heartbeat_dispatch,
};

/* Upgrade timeouts and lingering sessions: rare, so a coarse sweep. */
static gboolean
sweep_cb (gpointer user_data)
{
  NoomEngine *engine = user_data;
  g_autoptr (GPtrArray) expired = NULL;
  GHashTableIter iter;
  gpointer value;
  gint64 now = now_ms ();
  guint i;

  g_hash_table_iter_init (&iter, engine->sockets);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    NoomEngineSocket *s = value;

    if (s->deadline && now >= s->deadline) {
      if (expired == NULL)
        expired = g_ptr_array_new ();
      g_ptr_array_add (expired, noom_engine_socket_ref (s));
    }
  }
  for (i = 0; expired && i < expired->len; i++) {
    NoomEngineSocket *s = expired->pdata[i];

    s->deadline = 0;
    if (s->state == STATE_LINGER) {
      s->state = STATE_CLOSED;
      g_hash_table_remove (engine->sockets, s->sid);
    } else if (s->probe) {
      noom_engine_upgrade_failed (engine, s->remote, "upgrade timed out");
      noom_engine_socket_drop_ws (s, &s->probe);
      s->probed = FALSE;
    }
    noom_engine_socket_unref (s);
  }
  return G_SOURCE_CONTINUE;
}

void
noom_engine_heartbeat_start (NoomEngine * engine)
{
  guint tick;

  engine->ping_frame = g_bytes_new_static ("2", 1);
  engine->heartbeat = g_source_new (&heartbeat_funcs, sizeof (GSource));
  g_source_set_callback (engine->heartbeat, NULL, engine, NULL);
  g_source_set_ready_time (engine->heartbeat, -1);
  g_source_attach (engine->heartbeat, engine->context);

  /* Only upgrade timeouts and lingering sessions use the sweep. */
  tick = CLAMP (engine->config.upgrade_timeout_ms / 4, 10, 1000);
  engine->sweep = g_timeout_source_new (tick);
  g_source_set_callback (engine->sweep, sweep_cb, engine, NULL);
  g_source_attach (engine->sweep, engine->context);
}

void
noom_engine_heartbeat_stop (NoomEngine * engine)
{
  g_source_destroy (engine->sweep);
  g_source_unref (engine->sweep);
  g_source_destroy (engine->heartbeat);
  g_source_unref (engine->heartbeat);
  g_bytes_unref (engine->ping_frame);
}
