/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine: the Engine.IO v4 server transport on a SoupServer: the
 * session table and the public API, and the HTTP front door (routing,
 * refusals, admission).  The transports, the WebSocket connections and
 * the clocks are the other noom-engine-*.c files (see
 * noom-engine-private.h).
 *
 * Design notes (see docs/server-internals.md):
 * - A session is one small NoomEngineSocket; nothing of the HTTP request is
 *   kept after the handshake except the peer address text.
 * - Frames are GBytes handed over as they are: a broadcast encodes once and
 *   every socket shares the same bytes.
 * - Output is bounded per socket: the polling queue by size, the WebSocket
 *   by the bytes handed to libsoup while the kernel socket is not writable.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-engine"

#include <string.h>
#include <sys/random.h>

#include "noom-engine-private.h"

/* How long a polling session closed by the server waits for the GET that
 * fetches its close packet. */
#define LINGER_MS 30000

void
noom_engine_config_init (NoomEngineConfig * config)
{
  g_return_if_fail (config != NULL);

  memset (config, 0, sizeof (*config));
  config->ping_interval_ms = 25000;
  config->ping_timeout_ms = 20000;
  config->max_payload = 1000000;
  config->upgrade_timeout_ms = 10000;
  config->connect_timeout_ms = 45000;
  config->max_buffered = DEFAULT_MAX_BUFFERED;
}

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
  noom_engine_ws_disconnect (s, &s->ws);
  noom_engine_ws_disconnect (s, &s->probe);
  g_clear_pointer (&s->queue, g_ptr_array_unref);
  g_free (s->remote);
  g_free (s);
}

/* 15 random bytes in base64url: 20 characters, as engine.io's base64id. */
void
noom_engine_random_id (gchar out[21])
{
  guint8 raw[15];
  gchar *b64;
  gsize i;

  if (getrandom (raw, sizeof (raw), 0) != sizeof (raw)) {
    /* Only if the kernel has no getrandom(): never on Debian 12. */
    for (i = 0; i < sizeof (raw); i++)
      raw[i] = g_random_int_range (0, 256);
  }
  b64 = g_base64_encode (raw, sizeof (raw));
  for (i = 0; i < 20; i++)
    out[i] = b64[i] == '+' ? '-' : b64[i] == '/' ? '_' : b64[i];
  out[20] = '\0';
  g_free (b64);
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

void
noom_engine_socket_send (NoomEngineSocket * socket, GBytes * frame)
{
  g_return_if_fail (socket != NULL);
  g_return_if_fail (frame != NULL);

  if (socket->state != STATE_OPEN)
    return;
  if (socket->transport == TRANSPORT_WEBSOCKET)
    noom_engine_ws_send (socket, socket->ws, FALSE, frame);
  else
    noom_engine_polling_queue (socket, frame);
}

void
noom_engine_socket_send_binary (NoomEngineSocket * socket, GBytes * data)
{
  g_return_if_fail (socket != NULL);
  g_return_if_fail (data != NULL);

  if (socket->state != STATE_OPEN)
    return;
  if (socket->transport == TRANSPORT_WEBSOCKET) {
    noom_engine_ws_send (socket, socket->ws, TRUE, data);
  } else {
    gsize len;
    gconstpointer raw = g_bytes_get_data (data, &len);
    g_autofree gchar *b64 = g_base64_encode (raw, len);
    g_autofree gchar *text = g_strconcat ("b", b64, NULL);
    g_autoptr (GBytes) frame = g_bytes_new_take (g_steal_pointer (&text),
        strlen (b64) + 1);

    noom_engine_polling_queue (socket, frame);
  }
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
  if (engine->per_address) {
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (engine->per_address,
            s->remote));

    if (n > 1)
      g_hash_table_insert (engine->per_address, g_strdup (s->remote),
          GUINT_TO_POINTER (n - 1));
    else
      g_hash_table_remove (engine->per_address, s->remote);
  }
  noom_engine_heartbeat_remove (s);
  if (s->defer) {
    g_source_destroy (s->defer);
    g_clear_pointer (&s->defer, g_source_unref);
  }
  g_debug ("session %s closed: %s", s->sid, reason);

  if (engine->callbacks.close)
    engine->callbacks.close (s, reason, engine->user_data);

  noom_engine_ws_disconnect (s, &s->probe);
  if (s->transport == TRANSPORT_WEBSOCKET) {
    if (linger && s->ws)
      noom_ws_conn_send_text (s->ws, close_text);
    noom_engine_ws_disconnect (s, &s->ws);
    g_hash_table_remove (engine->sockets, s->sid);
  } else if (s->poll) {
    noom_engine_polling_respond (s, close_text);
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
      noom_engine_heartbeat_pong (s);
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
  noom_engine_heartbeat_add (s);
  engine->n_open++;
  if (engine->per_address)
    g_hash_table_insert (engine->per_address, g_strdup (s->remote),
        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup
                (engine->per_address, s->remote)) + 1));
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

static gboolean
is_websocket_request (SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (h, "Upgrade", "websocket");
}

const gchar *
noom_engine_query_get (GHashTable * query, const gchar * key)
{
  return query ? g_hash_table_lookup (query, key) : NULL;
}

NoomEngineSocket *
noom_engine_lookup_session (NoomEngine * engine, const gchar * sid)
{
  NoomEngineSocket *s = g_hash_table_lookup (engine->sockets, sid);

  if (s == NULL)
    return NULL;
  /* Lazy deadline check: exact even if the main loop is late. */
  if (s->state == STATE_OPEN && noom_engine_heartbeat_overdue (s, now_ms ())) {
    noom_engine_socket_close_internal (s, "ping timeout", FALSE);
    return NULL;
  }
  return s;
}

/* config.allowed_origins: a browser's request from another origin gets 403.
 * No Origin header: not a browser (the elements, node), allowed. */
static gboolean
check_origin (NoomEngine * engine, SoupServerMessage * msg,
    const gchar * transport)
{
  const gchar *origin;

  if (engine->origins == NULL)
    return TRUE;
  origin = soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Origin");
  if (origin == NULL || g_strv_contains ((const gchar * const *)
          engine->origins, origin))
    return TRUE;
  noom_engine_refuse (engine, msg, 4, transport, "origin not allowed");
  return FALSE;
}

static gboolean
is_loopback (const gchar * address)
{
  g_autoptr (GInetAddress) a = g_inet_address_new_from_string (address);

  return a && g_inet_address_get_is_loopback (a);
}

static gboolean
check_per_address (NoomEngine * engine, SoupServerMessage * msg,
    const gchar * transport)
{
  const gchar *remote = soup_server_message_get_remote_host (msg);

  if (engine->config.max_per_address == 0 || remote == NULL ||
      (!engine->config.limit_loopback && is_loopback (remote)) ||
      GPOINTER_TO_UINT (g_hash_table_lookup (engine->per_address, remote)) <
      engine->config.max_per_address)
    return TRUE;
  noom_engine_refuse (engine, msg, 4, transport,
      "too many connections from this address");
  return FALSE;
}

static void
http_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  NoomEngine *engine = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *eio = noom_engine_query_get (query, "EIO");
  const gchar *transport = noom_engine_query_get (query, "transport");
  const gchar *sid = noom_engine_query_get (query, "sid");
  NoomEngineSocket *s = NULL;

  if (g_strcmp0 (transport, "polling") != 0 &&
      g_strcmp0 (transport, "websocket") != 0) {
    noom_engine_refuse (engine, msg, 0, transport, "unknown transport");
    return;
  }
  if (g_strcmp0 (eio, "4") != 0) {
    noom_engine_refuse (engine, msg, 5, transport,
        "unsupported protocol version");
    return;
  }
  if (sid) {
    s = noom_engine_lookup_session (engine, sid);
    if (s == NULL) {
      noom_engine_refuse (engine, msg, 1, transport, "unknown session id");
      return;
    }
  }
  /* Browsers only: who may open a session or a WebSocket, and how many. */
  if ((s == NULL || strcmp (transport, "websocket") == 0)
      && !check_origin (engine, msg, transport))
    return;
  if (s == NULL && !check_per_address (engine, msg, transport))
    return;

  if (strcmp (transport, "websocket") == 0) {
    if (!is_websocket_request (msg) || method != SOUP_METHOD_GET) {
      noom_engine_refuse (engine, msg, 3, transport,
          "not a WebSocket handshake");
      return;
    }
    /* A second WebSocket for a session that is already upgraded or
     * upgrading is accepted, then closed in ws_accepted (as the
     * reference). */
    if (g_strcmp0 (g_uri_get_scheme (soup_server_message_get_uri (msg)),
            "https") == 0) {
      /* No status: libsoup's WebSocket handler does TLS WebSockets. */
      return;
    }
    noom_engine_ws_handshake (engine, msg, sid);
    return;
  }

  if (s == NULL) {
    if (method != SOUP_METHOD_GET) {
      noom_engine_refuse (engine, msg, 2, transport, "handshake not a GET");
      return;
    }
    noom_engine_polling_handshake (engine, msg);
    return;
  }

  if (s->transport != TRANSPORT_POLLING) {
    noom_engine_polling_bad_request_later (engine, msg, 3);
    return;
  }
  if (method == SOUP_METHOD_GET) {
    noom_engine_polling_get (s, msg);
  } else if (method == SOUP_METHOD_POST) {
    if (s->state != STATE_OPEN) {
      noom_engine_refuse (engine, msg, 1, transport, "session closed");
      return;
    }
    noom_engine_polling_post (s, msg);
  } else {
    noom_engine_refuse (engine, msg, 3, transport, "method not allowed");
  }
}

/* Refuses oversized POST bodies before libsoup reads them. */
static void
early_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  NoomEngine *engine = user_data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  if (soup_server_message_get_method (msg) == SOUP_METHOD_POST &&
      soup_message_headers_get_encoding (h) == SOUP_ENCODING_CONTENT_LENGTH &&
      (guint64) soup_message_headers_get_content_length (h) >
      engine->config.max_payload) {
    const gchar *sid = noom_engine_query_get (query, "sid");
    NoomEngineSocket *s = sid ? noom_engine_lookup_session (engine, sid) : NULL;

    noom_engine_set_json_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, 3,
        "Payload too large");
    noom_engine_log_refusal (engine, msg, "polling", "body over maxPayload");
    if (s)
      noom_engine_socket_close_internal (s, "transport error", FALSE);
  }
}

/* ------------------------------------------------------------ engine */

NoomEngine *
noom_engine_new (SoupServer * server, const gchar * path,
    const NoomEngineConfig * config, const NoomEngineCallbacks * callbacks,
    gpointer user_data)
{
  NoomEngine *engine;

  g_return_val_if_fail (SOUP_IS_SERVER (server), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  engine = g_new0 (NoomEngine, 1);
  engine->server = g_object_ref (server);
  engine->path = g_strdup (path);
  if (config)
    engine->config = *config;
  else
    noom_engine_config_init (&engine->config);
  if (engine->config.max_buffered == 0)
    engine->config.max_buffered = DEFAULT_MAX_BUFFERED;
  if (engine->config.max_buffered < engine->config.max_payload)
    engine->config.max_buffered = engine->config.max_payload;
  engine->origins = g_strdupv ((gchar **) engine->config.allowed_origins);
  engine->config.allowed_origins = (const gchar * const *) engine->origins;
  engine->log = noom_log_fold_new (G_LOG_DOMAIN);
  if (engine->config.max_per_address)
    engine->per_address = g_hash_table_new_full (g_str_hash, g_str_equal,
        g_free, NULL);
  if (callbacks)
    engine->callbacks = *callbacks;
  engine->user_data = user_data;
  engine->context = g_main_context_ref_thread_default ();
  engine->sockets = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) noom_engine_socket_unref);
  noom_ws_conn_io_init (engine);

  soup_server_add_early_handler (server, path, early_cb, engine, NULL);
  soup_server_add_handler (server, path, http_cb, engine, NULL);
  soup_server_add_websocket_handler (server, path, NULL, NULL,
      noom_engine_ws_tls_cb, engine, NULL);
  noom_engine_heartbeat_start (engine);
  return engine;
}

void
noom_engine_close_all (NoomEngine * engine)
{
  g_autoptr (GPtrArray) all = NULL;
  GHashTableIter iter;
  gpointer value;
  guint i;

  g_return_if_fail (engine != NULL);

  all = g_ptr_array_new ();
  g_hash_table_iter_init (&iter, engine->sockets);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, noom_engine_socket_ref (value));
  for (i = 0; i < all->len; i++) {
    noom_engine_socket_close_internal (all->pdata[i], "forced close", TRUE);
    noom_engine_socket_unref (all->pdata[i]);
  }
}

void
noom_engine_free (NoomEngine * engine)
{
  GHashTableIter iter;
  gpointer value;

  if (engine == NULL)
    return;

  noom_engine_close_all (engine);
  soup_server_remove_handler (engine->server, engine->path);

  /* Lingering polling sessions and held GETs. */
  g_hash_table_iter_init (&iter, engine->sockets);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    NoomEngineSocket *s = value;

    if (s->poll)
      noom_engine_polling_respond (s, "1");
  }
  g_hash_table_remove_all (engine->sockets);
  noom_engine_polling_flush (engine);
  noom_engine_heartbeat_stop (engine);
  doomed_idle_cb (engine);
  noom_engine_ws_finish (engine);
  noom_ws_conn_io_clear (engine);
  g_hash_table_unref (engine->sockets);
  g_clear_pointer (&engine->per_address, g_hash_table_unref);
  g_clear_pointer (&engine->log, noom_log_fold_free);
  g_strfreev (engine->origins);
  g_main_context_unref (engine->context);
  g_object_unref (engine->server);
  g_free (engine->path);
  g_free (engine);
}

gboolean
noom_engine_listen (SoupServer * server, GSocketAddress * address,
    SoupServerListenOptions options, GError ** error)
{
  g_autoptr (GSocket) sock = NULL;

  g_return_val_if_fail (SOUP_IS_SERVER (server), FALSE);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (address), FALSE);

  sock = g_socket_new (g_socket_address_get_family (address),
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, error);
  if (sock == NULL)
    return FALSE;
  g_socket_set_listen_backlog (sock, 4096);
  if (!g_socket_bind (sock, address, TRUE, error) ||
      !g_socket_listen (sock, error))
    return FALSE;
  return soup_server_listen_socket (server, sock,
      options & SOUP_SERVER_LISTEN_HTTPS, error);
}

guint
noom_engine_get_n_sockets (NoomEngine * engine)
{
  g_return_val_if_fail (engine != NULL, 0);

  return engine->n_open;
}

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
