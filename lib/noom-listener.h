/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-listener: accepts TCP connections for a SoupServer.  It counts them
 * per peer address (refusing those over the limit at accept), runs TLS
 * handshakes without holding a thread while the peer is silent, bounds the
 * handshake, the wait for a request and the idle time between requests,
 * and hands every connection to libsoup with soup_server_accept_iostream().
 * See docs/server-internals.md, "The accept path".
 */
#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

G_BEGIN_DECLS

typedef struct _NoomListener NoomListener;

typedef struct {
  /* TCP connections one peer address may have open (handshakes included);
   * one over it is closed at accept.  0: no limit.  Loopback peers are
   * exempt unless @limit_loopback. */
  guint max_per_address;
  gboolean limit_loopback;
  /* TLS: from accept to the end of the handshake.  default 5000 */
  guint handshake_timeout_ms;
  /* From the connection's start (after TLS) to a complete first request.
   * default 10000 */
  guint header_timeout_ms;
  /* A kept-alive connection between two requests.  default 60000 */
  guint idle_timeout_ms;
  /* Serve https with it; NULL: plain http.  Not copied: a ref is taken. */
  GTlsCertificate *certificate;
} NoomListenerConfig;

void noom_listener_config_init (NoomListenerConfig * config);

/* Accept for @server on the GMainContext that is thread-default now. */
NoomListener *noom_listener_new (SoupServer * server,
    const NoomListenerConfig * config, GError ** error);
/* Accept on @socket, bound and listening. */
void noom_listener_add_socket (NoomListener * listener, GSocket * socket);
/* Stops accepting.  Connections already handed to libsoup stay with it;
 * call soup_server_disconnect() first to close them. */
void noom_listener_free (NoomListener * listener);
/* Connections open (handshakes included). */
guint noom_listener_get_n_connections (NoomListener * listener);

/* The GSocket under @msg, also when its connection came through a
 * NoomListener (libsoup knows none then). */
GSocket *noom_listener_get_message_socket (SoupServerMessage * msg);

/* Keeps @msg's connection counted against its address after libsoup let
 * it go (a WebSocket whose descriptor the engine took over), until
 * noom_listener_release_connection().  NULL when @msg did not come
 * through a NoomListener. */
gpointer noom_listener_hold_connection (SoupServerMessage * msg);
void noom_listener_release_connection (gpointer hold);

G_END_DECLS
