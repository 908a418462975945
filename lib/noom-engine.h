/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine: the Engine.IO v4 server transport on a SoupServer.
 * HTTP long-polling and WebSocket on one path, the polling -> WebSocket
 * upgrade, server-driven ping/pong, maxPayload.  It knows nothing about
 * Socket.IO or rooms: it hands the text of message packets to its owner
 * through NoomEngineCallbacks, on the GMainContext the SoupServer runs on.
 */
#pragma once

#include <glib.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _NoomEngine NoomEngine;
typedef struct _NoomEngineSocket NoomEngineSocket;

typedef struct {
  guint ping_interval_ms;       /* default 25000 */
  guint ping_timeout_ms;        /* default 20000 */
  gsize max_payload;            /* default 1000000 */
  guint upgrade_timeout_ms;     /* default 10000 */
  /* When a client has sent nothing but Engine.IO packets for this long
   * after the open, the owner may close it (Socket.IO connectTimeout);
   * the engine itself does not interpret it. */
  guint connect_timeout_ms;     /* default 45000 */
  /* Bound on what one socket may have buffered for output (polling queue,
   * or WebSocket frames queued while the peer does not read); a socket over
   * it is closed as a slow consumer.  0: default 4 MiB.  Never below
   * max_payload. */
  gsize max_buffered;
  /* Origins ("https://noom.example.org", as browsers send them) that may
   * open a session or a WebSocket; NULL: any.  A request without an
   * Origin header (not a browser) is always allowed.  Copied by
   * noom_engine_new(). */
  const gchar *const *allowed_origins;
  /* Sessions one peer address may have open at once; a handshake over it
   * is refused with 403.  0: no limit.  Loopback peers are exempt unless
   * @limit_loopback: behind a reverse proxy on the same host every client
   * comes from there. */
  guint max_per_address;
  gboolean limit_loopback;
} NoomEngineConfig;

void noom_engine_config_init (NoomEngineConfig * config);

typedef struct {
  /* A new Engine.IO session was opened (handshake done). */
  void (*open) (NoomEngineSocket * socket, gpointer user_data);
  /* A message packet (type 4) arrived; @text is not NUL-terminated. */
  void (*message) (NoomEngineSocket * socket, const gchar * text, gsize len,
      gpointer user_data);
  /* A binary message arrived. */
  void (*binary) (NoomEngineSocket * socket, GBytes * data,
      gpointer user_data);
  /* The session is gone (after this the socket must not be used).
   * @reason: "transport close", "ping timeout", "client close",
   * "server close", "transport error", "parse error", "forced close"... */
  void (*close) (NoomEngineSocket * socket, const gchar * reason,
      gpointer user_data);
} NoomEngineCallbacks;

/* Attach to @server at @path (e.g. "/socket.io/"): both the HTTP handler
 * (polling) and the WebSocket handler are installed there. */
NoomEngine *noom_engine_new (SoupServer * server, const gchar * path,
    const NoomEngineConfig * config, const NoomEngineCallbacks * callbacks,
    gpointer user_data);
/* Closes every session with a close packet, then frees. */
void noom_engine_free (NoomEngine * engine);
/* Send a close packet to every session and close them (SIGINT/SIGTERM). */
void noom_engine_close_all (NoomEngine * engine);
guint noom_engine_get_n_sockets (NoomEngine * engine);
/* The open sessions by transport (for GET /metrics): O(sessions). */
void noom_engine_count_transports (NoomEngine * engine, guint * polling,
    guint * websocket);

/* Queue a complete Engine.IO text packet (e.g. from noom_sio_frame_event():
 * "4..." ) on the socket.  The same GBytes may be sent to many sockets:
 * broadcast encodes once.  Never blocks; the socket's buffered output is
 * bounded, and a socket that cannot keep up is closed ("slow consumer"). */
void noom_engine_socket_send (NoomEngineSocket * socket, GBytes * frame);
/* Queue a binary message (raw bytes, no type byte). */
void noom_engine_socket_send_binary (NoomEngineSocket * socket,
    GBytes * data);
/* Close the session (sends an Engine.IO close packet first). */
void noom_engine_socket_close (NoomEngineSocket * socket,
    const gchar * reason);

const gchar *noom_engine_socket_get_sid (NoomEngineSocket * socket);
/* "websocket" or "polling" */
const gchar *noom_engine_socket_get_transport (NoomEngineSocket * socket);
/* The peer's IP address as text. */
const gchar *noom_engine_socket_get_remote_address (NoomEngineSocket * socket);
void noom_engine_socket_set_user_data (NoomEngineSocket * socket,
    gpointer data);
gpointer noom_engine_socket_get_user_data (NoomEngineSocket * socket);

/* soup_server_listen() with a listen backlog fit for thousands of clients
 * connecting at once.  GSocket's default backlog is 10, and libsoup
 * accepts one connection per main loop iteration, so a burst of
 * connections otherwise waits for SYN retransmits (1 s, 3 s, 7 s...). */
gboolean noom_engine_listen (SoupServer * server, GSocketAddress * address,
    SoupServerListenOptions options, GError ** error);

/* Writes 20 random characters [A-Za-z0-9_-] (15 random bytes, base64url)
 * and a NUL: Engine.IO sids and Socket.IO socket ids. */
void noom_engine_random_id (gchar out[21]);

G_END_DECLS
