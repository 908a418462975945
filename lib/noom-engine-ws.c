/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine-ws: the WebSocket transport of an Engine.IO session (see
 * noom-engine-private.h): the handshake and the take-over of the plain
 * connection's descriptor after the 101, libsoup's handler under TLS, the
 * upgrade of a polling session (2probe, 3probe, 5), and what arrives on a
 * session's WebSocket.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-engine"

#include <errno.h>
#include <fcntl.h>
#include <string.h>

#include "noom-engine-private.h"
#include "noom-listener.h"

static void
ws_on_message (WsConn * c, gboolean binary, const gchar * data, gsize len)
{
  NoomEngineSocket *s = c->owner;
  NoomEngine *engine = c->engine;
  NoomEioPacket p = { 0, };

  if (s == NULL)
    return;                     /* being turned away */
  noom_engine_socket_ref (s);

  if (c == s->probe) {
    /* The upgrade handshake: 2probe, then 5. */
    if (!binary && !s->probed && len == 6 && memcmp (data, "2probe", 6) == 0) {
      s->probed = TRUE;
      noom_ws_conn_send_text (c, "3probe");
      /* The held GET gets its "6" in a moment (see noom_engine_polling_get). */
      noom_engine_polling_defer (s);
    } else if (!binary && s->probed && len == 1 && data[0] == '5') {
      guint i;

      if (s->defer == NULL)
        noom_engine_polling_respond (s, "6");
      s->ws = g_steal_pointer (&s->probe);
      s->transport = TRANSPORT_WEBSOCKET;
      s->probed = FALSE;
      s->deadline = 0;
      s->backlog = 0;
      /* Whatever polling had not delivered goes out on the WebSocket. */
      for (i = 0; s->queue && i < s->queue->len; i++) {
        GBytes *frame = s->queue->pdata[i];
        gsize flen;
        const gchar *fdata = g_bytes_get_data (frame, &flen);

        if (flen > 0 && fdata[0] == 'b') {
          g_autofree gchar *b64 = g_strndup (fdata + 1, flen - 1);
          gsize rlen;
          guchar *raw = g_base64_decode (b64, &rlen);
          g_autoptr (GBytes) bin = g_bytes_new_take (raw, rlen);

          noom_engine_socket_send_ws (s, s->ws, TRUE, bin);
        } else {
          noom_engine_socket_send_ws (s, s->ws, FALSE, frame);
        }
      }
      g_clear_pointer (&s->queue, g_ptr_array_unref);
      g_debug ("session %s upgraded to websocket", s->sid);
    } else {
      noom_engine_upgrade_failed (engine, s->remote,
          "unexpected packet on the probe");
      noom_engine_socket_drop_ws (s, &s->probe);
      s->probed = FALSE;
    }
    noom_engine_socket_unref (s);
    return;
  }

  if (binary) {
    if (engine->callbacks.binary) {
      g_autoptr (GBytes) bytes = g_bytes_new (data, len);

      engine->callbacks.binary (s, bytes, engine->user_data);
    }
  } else if (!noom_eio_decode (data, len, &p, NULL)) {
    noom_engine_socket_close_internal (s, "parse error", FALSE);
  } else {
    noom_engine_handle_packet (s, &p);
  }
  noom_engine_socket_unref (s);
}

/* The peer went away (EOF, error, close frame). */
static void
ws_on_lost (WsConn * c)
{
  NoomEngineSocket *s = c->owner;

  if (s == NULL)
    return;
  c->owner = NULL;
  if (c == s->probe) {
    s->probe = NULL;
    s->probed = FALSE;
    noom_ws_conn_shut (c);
    return;
  }
  noom_engine_socket_close_internal (s, "transport close", FALSE);
}

/* What the session's WebSocket connections report. */
static const WsConnEvents ws_events = {
  .message = ws_on_message,
  .lost = ws_on_lost,
};

static gboolean
turned_away_cb (gpointer user_data)
{
  NoomEngine *engine = user_data;
  g_autoptr (GPtrArray) conns = noom_engine_batch_take (&engine->turned_away);
  guint i;

  for (i = 0; conns && i < conns->len; i++) {
    noom_ws_conn_close (conns->pdata[i], SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    noom_ws_conn_unref (conns->pdata[i]);
  }
  return G_SOURCE_REMOVE;
}

/* Closes @c in a moment (see ws_accepted). */
static void
turn_away (NoomEngine * engine, WsConn * c)
{
  noom_engine_batch_add (engine, &engine->turned_away, noom_ws_conn_ref (c),
      20, turned_away_cb);
}

/* A WebSocket is up (either kind): a new session, or the probe of an
 * upgrade. */
static void
ws_accepted (NoomEngine * engine, WsConn * c, const gchar * sid,
    const gchar * remote)
{
  NoomEngineSocket *s;
  g_autoptr (GBytes) open = NULL;

  if (sid) {
    s = noom_engine_lookup_session (engine, sid);
    if (s == NULL || s->state != STATE_OPEN ||
        s->transport != TRANSPORT_POLLING || s->probe) {
      /* As the reference: accepted, then closed; a little later, so that
       * what was just sent on the session's live WebSocket reaches the
       * client first. */
      gboolean gone = s == NULL || s->state != STATE_OPEN;

      noom_engine_upgrade_failed (engine, remote, gone ? "session gone" :
          "session already upgraded or upgrading");
      turn_away (engine, c);
      return;
    }
    c->owner = s;
    s->probe = c;
    s->deadline = now_ms () + engine->config.upgrade_timeout_ms;
    return;
  }

  s = noom_engine_socket_new (engine, TRANSPORT_WEBSOCKET, remote);
  c->owner = s;
  s->ws = c;
  open = noom_engine_open_frame (engine, s, FALSE);
  noom_engine_socket_send_ws (s, c, FALSE, open);
  if (engine->callbacks.open)
    engine->callbacks.open (s, engine->user_data);
}

typedef struct
{
  NoomEngine *engine;           /* NULL once the engine is gone */
  gchar *sid;
} PendingUpgrade;

static void
pending_upgrade_free (gpointer data, GClosure * closure)
{
  PendingUpgrade *pu = data;

  if (pu->engine)
    pu->engine->upgrades = g_slist_remove (pu->engine->upgrades, pu);
  g_free (pu->sid);
  g_free (pu);
}

/* The 101 is out: take the file descriptor, leave libsoup behind. */
static void
ws_upgraded_cb (SoupServerMessage * msg, PendingUpgrade * pu)
{
  GSocket *gsocket = noom_listener_get_message_socket (msg);
  g_autofree gchar *remote =
      g_strdup (soup_server_message_get_remote_host (msg));
  GIOStream *io;
  gpointer hold;
  WsConn *c;
  gint fd;

  if (pu->engine == NULL ||
      soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;
  if (gsocket == NULL) {
    g_warning ("cannot take the WebSocket over: no socket");
    return;
  }
  /* Before the steal: libsoup's stream, and with it the listener's count,
   * goes away with it. */
  hold = noom_listener_hold_connection (msg);
  fd = fcntl (g_socket_get_fd (gsocket), F_DUPFD_CLOEXEC, 0);
  io = soup_server_message_steal_connection (msg);
  /* closes libsoup's descriptor only: ours keeps the connection */
  g_io_stream_close (io, NULL, NULL);
  g_object_unref (io);
  if (fd < 0) {
    g_warning ("cannot take the WebSocket over: %s", g_strerror (errno));
    noom_listener_release_connection (hold);
    return;
  }
  c = noom_ws_conn_new_raw (pu->engine, fd, &ws_events);
  if (c) {
    c->hold = hold;
    ws_accepted (pu->engine, c, pu->sid, remote);
  } else {
    noom_listener_release_connection (hold);
  }
}

/* Plain WebSocket: we answer the handshake, and take the connection over
 * once the 101 is written. */
void
noom_engine_ws_handshake (NoomEngine * engine, SoupServerMessage * msg,
    const gchar * sid)
{
  PendingUpgrade *pu;

  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL)) {
    noom_engine_refuse (engine, msg, 3, "websocket",
        "WebSocket handshake failed");
    return;
  }
  pu = g_new0 (PendingUpgrade, 1);
  pu->engine = engine;
  pu->sid = g_strdup (sid);
  engine->upgrades = g_slist_prepend (engine->upgrades, pu);
  g_signal_connect_data (msg, "wrote-informational",
      G_CALLBACK (ws_upgraded_cb), pu, pending_upgrade_free, 0);
}

/* TLS: libsoup's WebSocket handler did the handshake. */
void
noom_engine_ws_tls_cb (SoupServer * server, SoupServerMessage * msg,
    const char *path, SoupWebsocketConnection * ws, gpointer user_data)
{
  NoomEngine *engine = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *query_text = g_uri_get_query (uri);
  g_autoptr (GHashTable) query = NULL;

  if (query_text)
    query = g_uri_parse_params (query_text, -1, "&", G_URI_PARAMS_NONE, NULL);
  ws_accepted (engine, noom_ws_conn_new_soup (engine, ws,
          noom_listener_get_message_socket (msg), &ws_events),
      noom_engine_query_get (query, "sid"),
      soup_server_message_get_remote_host (msg));
}

void
noom_engine_ws_finish (NoomEngine * engine)
{
  while (engine->upgrades) {
    PendingUpgrade *pu = engine->upgrades->data;

    pu->engine = NULL;
    engine->upgrades = g_slist_delete_link (engine->upgrades, engine->upgrades);
  }
  turned_away_cb (engine);
}
