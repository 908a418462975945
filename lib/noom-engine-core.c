/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine-core: what the other parts of the Engine.IO engine build on
 * (see noom-engine-private.h): a session's life, what it sends and
 * receives, its close, and the HTTP answers the front door and the
 * transports share.  The transports and the clocks call it; it reaches
 * them only through engine->parts.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-engine"

#include <string.h>
#include <sys/random.h>

#include "noom-base64.h"
#include "noom-engine-private.h"

/* How long a polling session closed by the server waits for the GET that
 * fetches its close packet. */
#define LINGER_MS 30000

/* ------------------------------------------------------------ socket life */

NoomEngineSocket *
noom_engine_socket_ref (NoomEngineSocket * s)
{
  s->ref_count++;
  return s;
}

void
noom_engine_socket_unref (NoomEngineSocket * s)
{
  if (--s->ref_count > 0)
    return;

  g_assert (s->poll == NULL);
  g_assert (s->hb_list == 0);
  noom_engine_socket_drop_ws (s, &s->ws);
  noom_engine_socket_drop_ws (s, &s->probe);
  g_clear_pointer (&s->queue, g_ptr_array_unref);
  g_free (s->remote);
  g_free (s);
}

/* 15 random bytes in base64url: 20 characters, as engine.io's base64id. */
void
noom_engine_random_id (gchar out[21])
{
  guint8 raw[15];
  g_autofree gchar *b64 = NULL;
  gsize i;

  if (getrandom (raw, sizeof (raw), 0) != sizeof (raw)) {
    /* Only if the kernel has no getrandom(): never on Debian 12. */
    for (i = 0; i < sizeof (raw); i++)
      raw[i] = g_random_int_range (0, 256);
  }
  b64 = noom_base64url_encode (raw, sizeof (raw));
  memcpy (out, b64, 21);
}

/* ------------------------------------------------------------ HTTP helpers */

/* libsoup closes the connection after answering a "Connection: close"
 * request but does not say so in the response; Node's keep-alive agent
 * then reuses the dead socket ("socket hang up"). */
void
noom_engine_mirror_connection_close (SoupServerMessage * msg)
{
  if (soup_message_headers_header_contains
      (soup_server_message_get_request_headers (msg), "Connection", "close"))
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
}

void
noom_engine_set_json_error (SoupServerMessage * msg, guint status, gint code,
    const gchar * message)
{
  gchar *body = g_strdup_printf ("{\"code\":%d,\"message\":\"%s\"}", code,
      message);

  soup_server_message_set_status (msg, status, NULL);
  noom_engine_mirror_connection_close (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, body, strlen (body));
}

void
noom_engine_bad_request (SoupServerMessage * msg, gint code)
{
  static const gchar *const messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request", "Forbidden", "Unsupported protocol version",
  };

  noom_engine_set_json_error (msg, code == 4 ? SOUP_STATUS_FORBIDDEN :
      SOUP_STATUS_BAD_REQUEST, code, messages[code]);
}

/* Logs the status @msg was just given.  Only fixed text and the peer
 * address go into the line: nothing the client chose (the query may
 * carry a token). */
void
noom_engine_log_refusal (NoomEngine * engine, SoupServerMessage * msg,
    const gchar * transport, const gchar * why)
{
  const gchar *method = soup_server_message_get_method (msg);
  g_autofree gchar *line = NULL;

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_POST)
    method = "other method";
  if (g_strcmp0 (transport, "polling") != 0 &&
      g_strcmp0 (transport, "websocket") != 0)
    transport = "unknown transport";
  line = g_strdup_printf ("refused %s %s from %s: %u %s", method, transport,
      soup_server_message_get_remote_host (msg),
      soup_server_message_get_status (msg), why);
  noom_log_fold_line (engine->log, line);
}

/* A WebSocket probe that did not become the session's transport. */
void
noom_engine_upgrade_failed (NoomEngine * engine, const gchar * remote,
    const gchar * why)
{
  g_autofree gchar *line = g_strdup_printf ("refused websocket upgrade "
      "from %s: %s", remote ? remote : "?", why);

  noom_log_fold_line (engine->log, line);
}

/* noom_engine_bad_request(), logged. */
void
noom_engine_refuse (NoomEngine * engine, SoupServerMessage * msg, gint code,
    const gchar * transport, const gchar * why)
{
  noom_engine_bad_request (msg, code);
  noom_engine_log_refusal (engine, msg, transport, why);
}

/* ------------------------------------------------------------ sending */

static gboolean
doomed_idle_cb (gpointer user_data)
{
  NoomEngine *engine = user_data;
  g_autoptr (GPtrArray) doomed = noom_engine_batch_take (&engine->doomed);
  guint i;

  for (i = 0; doomed && i < doomed->len; i++) {
    NoomEngineSocket *s = doomed->pdata[i];

    noom_engine_socket_close_internal (s, "slow consumer", FALSE);
    noom_engine_socket_unref (s);
  }
  return G_SOURCE_REMOVE;
}

/* Closes the doomed sockets now (engine teardown). */
void
noom_engine_close_doomed (NoomEngine * engine)
{
  doomed_idle_cb (engine);
}

/* Closes @s as a slow consumer from an idle: it is found out while
 * sending, typically in the middle of the owner's broadcast loop, where
 * a close callback would pull the rug from under it. */
void
noom_engine_socket_doom (NoomEngineSocket * s)
{
  NoomEngine *engine = s->engine;

  if (s->doomed)
    return;
  s->doomed = TRUE;
  g_message ("closing slow consumer %s (%s)", s->sid, s->remote);
  noom_engine_batch_add (engine, &engine->doomed, noom_engine_socket_ref (s),
      0, doomed_idle_cb);
}

/* Closes the WebSocket @*conn (if any) and forgets it. */
void
noom_engine_socket_drop_ws (NoomEngineSocket * s, WsConn ** conn)
{
  WsConn *c = *conn;

  if (c == NULL)
    return;
  *conn = NULL;
  c->owner = NULL;
  noom_ws_conn_close (c, SOUP_WEBSOCKET_CLOSE_NORMAL);
}

void
noom_engine_socket_send_ws (NoomEngineSocket * s, WsConn * c,
    gboolean binary, GBytes * frame)
{
  if (c == NULL || s->doomed)
    return;
  if (!noom_ws_conn_send (c, binary ? 2 : 1, frame))
    noom_engine_socket_doom (s);
}

/* A binary message goes to a polling client as "b<base64>". */
static void
socket_send (NoomEngineSocket * s, gboolean binary, GBytes * frame)
{
  if (s->state != STATE_OPEN)
    return;
  if (s->transport == TRANSPORT_WEBSOCKET) {
    noom_engine_socket_send_ws (s, s->ws, binary, frame);
  } else if (!binary) {
    s->engine->parts->polling_queue (s, frame);
  } else {
    gsize len;
    gconstpointer raw = g_bytes_get_data (frame, &len);
    g_autofree gchar *b64 = g_base64_encode (raw, len);
    g_autofree gchar *text = g_strconcat ("b", b64, NULL);
    g_autoptr (GBytes) text_frame = g_bytes_new_take (g_steal_pointer (&text),
        strlen (b64) + 1);

    s->engine->parts->polling_queue (s, text_frame);
  }
}

void
noom_engine_socket_send (NoomEngineSocket * socket, GBytes * frame)
{
  g_return_if_fail (socket != NULL);
  g_return_if_fail (frame != NULL);

  socket_send (socket, FALSE, frame);
}

void
noom_engine_socket_send_binary (NoomEngineSocket * socket, GBytes * data)
{
  g_return_if_fail (socket != NULL);
  g_return_if_fail (data != NULL);

  socket_send (socket, TRUE, data);
}

/* ------------------------------------------------------------ closing */

void
noom_engine_socket_close_internal (NoomEngineSocket * s, const gchar * reason,
    gboolean linger)
{
  NoomEngine *engine = s->engine;
  static const gchar close_text[] = "1";

  if (s->state != STATE_OPEN)
    return;

  noom_engine_socket_ref (s);
  s->state = STATE_CLOSED;
  engine->n_open--;
  if (engine->per_address)
    noom_tally_remove (engine->per_address, s->remote);
  engine->parts->heartbeat_remove (s);
  if (s->defer) {
    g_source_destroy (s->defer);
    g_clear_pointer (&s->defer, g_source_unref);
  }
  g_debug ("session %s closed: %s", s->sid, reason);

  if (engine->callbacks.close)
    engine->callbacks.close (s, reason, engine->user_data);

  noom_engine_socket_drop_ws (s, &s->probe);
  if (s->transport == TRANSPORT_WEBSOCKET) {
    if (linger && s->ws)
      noom_ws_conn_send_text (s->ws, close_text);
    noom_engine_socket_drop_ws (s, &s->ws);
    g_hash_table_remove (engine->sockets, s->sid);
  } else if (s->poll) {
    engine->parts->polling_respond (s, close_text);
    g_hash_table_remove (engine->sockets, s->sid);
  } else if (linger) {
    /* Keep the session (not its owner state) until the client's next GET
     * fetches the close packet. */
    s->state = STATE_LINGER;
    s->deadline = now_ms () + LINGER_MS;
  } else {
    g_hash_table_remove (engine->sockets, s->sid);
  }
  noom_engine_socket_unref (s);
}

void
noom_engine_socket_close (NoomEngineSocket * socket, const gchar * reason)
{
  g_return_if_fail (socket != NULL);

  noom_engine_socket_close_internal (socket, reason ? reason : "server close",
      TRUE);
}

/* ------------------------------------------------------------ packets in */

/* Handles one packet from the current transport.  Returns FALSE when the
 * session was closed because of it. */
gboolean
noom_engine_handle_packet (NoomEngineSocket * s, const NoomEioPacket * p)
{
  NoomEngine *engine = s->engine;

  if (p->binary) {
    if (engine->callbacks.binary) {
      g_autoptr (GBytes) bytes = g_bytes_new (p->data, p->len);

      engine->callbacks.binary (s, bytes, engine->user_data);
    }
    return s->state == STATE_OPEN;
  }

  switch (p->type) {
    case NOOM_EIO_MESSAGE:
      if (engine->callbacks.message)
        engine->callbacks.message (s, p->data, p->len, engine->user_data);
      break;
    case NOOM_EIO_PONG:
      engine->parts->heartbeat_pong (s);
      break;
    case NOOM_EIO_CLOSE:
      noom_engine_socket_close_internal (s, "transport close", FALSE);
      break;
    case NOOM_EIO_NOOP:
      break;
    case NOOM_EIO_PING:
      /* v4: only the server pings */
    case NOOM_EIO_OPEN:
    case NOOM_EIO_UPGRADE:
    default:
      noom_engine_socket_close_internal (s, "parse error", FALSE);
      break;
  }
  return s->state == STATE_OPEN;
}

/* ------------------------------------------------------------ sessions */

NoomEngineSocket *
noom_engine_socket_new (NoomEngine * engine, guint transport,
    const gchar * remote)
{
  NoomEngineSocket *s = g_new0 (NoomEngineSocket, 1);

  s->engine = engine;
  s->ref_count = 1;             /* the table's */
  s->transport = transport;
  s->state = STATE_OPEN;
  s->remote = g_strdup (remote ? remote : "");
  do {
    noom_engine_random_id (s->sid);
  } while (g_hash_table_contains (engine->sockets, s->sid));
  g_hash_table_insert (engine->sockets, s->sid, s);
  engine->parts->heartbeat_add (s);
  engine->n_open++;
  if (engine->per_address)
    noom_tally_add (engine->per_address, s->remote);
  return s;
}

GBytes *
noom_engine_open_frame (NoomEngine * engine, NoomEngineSocket * s,
    gboolean upgrades)
{
  gchar *text = g_strdup_printf ("0{\"sid\":\"%s\",\"upgrades\":[%s],"
      "\"pingInterval\":%u,\"pingTimeout\":%u,\"maxPayload\":%"
      G_GSIZE_FORMAT "}", s->sid, upgrades ? "\"websocket\"" : "",
      engine->config.ping_interval_ms, engine->config.ping_timeout_ms,
      engine->config.max_payload);

  return g_bytes_new_take (text, strlen (text));
}

const gchar *
noom_engine_query_get (GHashTable * query, const gchar * key)
{
  return query ? g_hash_table_lookup (query, key) : NULL;
}

NoomEngineSocket *
noom_engine_lookup_session (NoomEngine * engine, const gchar * sid)
{
  const NoomEngineParts *parts = engine->parts;
  NoomEngineSocket *s = g_hash_table_lookup (engine->sockets, sid);

  if (s == NULL)
    return NULL;
  /* Lazy deadline check: exact even if the main loop is late. */
  if (s->state == STATE_OPEN && parts->heartbeat_overdue (s, now_ms ())) {
    noom_engine_socket_close_internal (s, "ping timeout", FALSE);
    return NULL;
  }
  return s;
}

/* ------------------------------------------------------------ accessors */

const gchar *
noom_engine_socket_get_sid (NoomEngineSocket * socket)
{
  g_return_val_if_fail (socket != NULL, NULL);
  return socket->sid;
}

const gchar *
noom_engine_socket_get_transport (NoomEngineSocket * socket)
{
  g_return_val_if_fail (socket != NULL, NULL);
  return socket->transport == TRANSPORT_WEBSOCKET ? "websocket" : "polling";
}

const gchar *
noom_engine_socket_get_remote_address (NoomEngineSocket * socket)
{
  g_return_val_if_fail (socket != NULL, NULL);
  return socket->remote;
}

void
noom_engine_socket_set_user_data (NoomEngineSocket * socket, gpointer data)
{
  g_return_if_fail (socket != NULL);
  socket->user_data = data;
}

gpointer
noom_engine_socket_get_user_data (NoomEngineSocket * socket)
{
  g_return_val_if_fail (socket != NULL, NULL);
  return socket->user_data;
}
