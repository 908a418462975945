/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine: the Engine.IO v4 server transport on a SoupServer: the
 * engine's public API, and the HTTP front door (routing, refusals,
 * admission).  The sessions, the transports, the WebSocket connections
 * and the clocks are the other noom-engine-*.c files (see
 * noom-engine-private.h); this one puts them together.
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

#include "noom-engine-private.h"

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

static gboolean
is_websocket_request (SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (h, "Upgrade", "websocket");
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
      noom_tally_get (engine->per_address, remote) <
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

/* What the core calls in the parts above it. */
static const NoomEngineParts parts = {
  .heartbeat_add = noom_engine_heartbeat_add,
  .heartbeat_remove = noom_engine_heartbeat_remove,
  .heartbeat_pong = noom_engine_heartbeat_pong,
  .heartbeat_overdue = noom_engine_heartbeat_overdue,
  .polling_queue = noom_engine_polling_queue,
  .polling_respond = noom_engine_polling_respond,
};

NoomEngine *
noom_engine_new (SoupServer * server, const gchar * path,
    const NoomEngineConfig * config, const NoomEngineCallbacks * callbacks,
    gpointer user_data)
{
  NoomEngine *engine;

  g_return_val_if_fail (SOUP_IS_SERVER (server), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  engine = g_new0 (NoomEngine, 1);
  engine->parts = &parts;
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
    engine->per_address = noom_tally_new ();
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
  noom_engine_close_doomed (engine);
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

void
noom_engine_count_transports (NoomEngine * engine, guint * polling,
    guint * websocket)
{
  GHashTableIter iter;
  gpointer value;

  *polling = *websocket = 0;
  g_hash_table_iter_init (&iter, engine->sockets);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    NoomEngineSocket *s = value;

    if (s->state != STATE_OPEN)
      continue;
    if (s->transport == TRANSPORT_WEBSOCKET)
      (*websocket)++;
    else
      (*polling)++;
  }
}

guint
noom_engine_get_n_sockets (NoomEngine * engine)
{
  g_return_val_if_fail (engine != NULL, 0);

  return engine->n_open;
}
