/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-sio: the Socket.IO v4 server layer on top of noom-engine.
 * Namespaces, CONNECT / CONNECT_ERROR (with the client's auth payload),
 * events with acks, emitting.  noom-server's room layer and the test-only
 * conformance server are both built on it.  Everything runs on the
 * GMainContext the SoupServer runs on.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "noom-engine.h"

G_BEGIN_DECLS

typedef struct _NoomSioServer NoomSioServer;
typedef struct _NoomSioSocket NoomSioSocket;

typedef struct {
  /* A client sent CONNECT for this namespace.  Return TRUE to accept (the
   * server then answers 40{"sid":...}); FALSE to refuse, setting
   * *error_message (and optionally *error_data) for the CONNECT_ERROR
   * (both transfer full).  @auth is the CONNECT payload or NULL. */
  gboolean (*connect) (NoomSioSocket * socket, JsonObject * auth,
      gchar ** error_message, JsonNode ** error_data, gpointer user_data);
  /* An EVENT: @name is args[0], @args the whole array (name included),
   * @ack_id -1 when the client expects no ack.  Binary attachments, if the
   * packet had any, are in @attachments (GBytes*, may be NULL). */
  void (*event) (NoomSioSocket * socket, const gchar * name,
      JsonArray * args, gint64 ack_id, GPtrArray * attachments,
      gpointer user_data);
  /* The socket left the namespace (DISCONNECT packet, transport close,
   * ping timeout, server disconnect).  Called once, before it is freed. */
  void (*disconnect) (NoomSioSocket * socket, const gchar * reason,
      gpointer user_data);
} NoomSioNamespaceCallbacks;

NoomSioServer *noom_sio_server_new (SoupServer * server, const gchar * path,
    const NoomEngineConfig * config);
void noom_sio_server_add_namespace (NoomSioServer * server, const gchar * nsp,
    const NoomSioNamespaceCallbacks * callbacks, gpointer user_data);
/* Close every connection with an Engine.IO close packet. */
void noom_sio_server_close_all (NoomSioServer * server);
void noom_sio_server_free (NoomSioServer * server);
NoomEngine *noom_sio_server_get_engine (NoomSioServer * server);

/* Emit an event to this socket. @args: the arguments after the name
 * (transfer none, may be NULL). */
void noom_sio_socket_emit (NoomSioSocket * socket, const gchar * event,
    JsonArray * args);
/* Send a complete, pre-encoded Engine.IO frame (noom_sio_frame_event()):
 * broadcast encodes once and sends the same bytes to every member.  Only
 * valid for sockets on the main namespace "/". */
void noom_sio_socket_send_frame (NoomSioSocket * socket, GBytes * frame);
/* Answer the ack @ack_id (a second answer to the same id is ignored). */
void noom_sio_socket_ack (NoomSioSocket * socket, gint64 ack_id,
    JsonArray * args);
/* Emit with binary attachments (placeholders in @args). */
void noom_sio_socket_emit_binary (NoomSioSocket * socket, const gchar * event,
    JsonArray * args, GPtrArray * attachments);
void noom_sio_socket_ack_binary (NoomSioSocket * socket, gint64 ack_id,
    JsonArray * args, GPtrArray * attachments);
/* Close the whole connection (Engine.IO close), logging @reason. */
void noom_sio_socket_disconnect (NoomSioSocket * socket, const gchar * reason);

/* The Socket.IO socket id (20 chars [A-Za-z0-9_-]; not the Engine.IO sid). */
const gchar *noom_sio_socket_get_id (NoomSioSocket * socket);
const gchar *noom_sio_socket_get_nsp (NoomSioSocket * socket);
const gchar *noom_sio_socket_get_remote_address (NoomSioSocket * socket);
void noom_sio_socket_set_user_data (NoomSioSocket * socket, gpointer data);
/* Data of the Engine.IO connection under @socket: shared by every
 * Socket.IO socket on it, one after the other (a client may DISCONNECT and
 * CONNECT again on one connection) or side by side (namespaces), and freed
 * with @destroy when the connection is. */
gpointer noom_sio_socket_get_connection_data (NoomSioSocket * socket);
void noom_sio_socket_set_connection_data (NoomSioSocket * socket,
    gpointer data, GDestroyNotify destroy);
gpointer noom_sio_socket_get_user_data (NoomSioSocket * socket);

G_END_DECLS
