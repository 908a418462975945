/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-sio: the Socket.IO v4 server layer on top of noom-engine.
 *
 * One Connection per Engine.IO session holds the Socket.IO sockets it has
 * opened (normally just one, on "/") and the state of a binary packet
 * waiting for its attachments.  The connect timeout uses one timer for the
 * whole server: sessions waiting for their first CONNECT sit in a FIFO,
 * ordered by deadline because every session gets the same timeout.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-sio"

#include <string.h>

#include "noom-packet.h"
#include "noom-sio.h"

/* A client can have at most this many of our acks outstanding; beyond that
 * the oldest id is forgotten (its late ack is then ignored). */
#define MAX_PENDING_ACKS 256
/* See handle_connect. */
#define EARLY_DELAY_MS 10

typedef struct
{
  gchar *name;
  NoomSioNamespaceCallbacks callbacks;
  gpointer user_data;
} Namespace;

typedef struct _Connection Connection;

struct _NoomSioServer
{
  SoupServer *soup;
  NoomEngine *engine;
  NoomEngineConfig config;
  GHashTable *namespaces;       /* name -> Namespace */
  GQueue waiting;               /* Connections without a CONNECT yet */
  GSource *connect_timer;
  GMainContext *context;
};

typedef struct
{
  GBytes *bytes;
  gboolean binary;
} EarlyFrame;

struct _NoomSioSocket
{
  Connection *conn;
  Namespace *ns;
  gpointer user_data;
  GArray *pending_acks;         /* gint64 ids the client waits for; lazy */
  GArray *early;                /* EarlyFrame: sent while connecting */
  GSource *early_idle;          /* flushes @early after the CONNECT answer */
  gchar id[21];
  gboolean connecting;
};

struct _Connection
{
  NoomSioServer *server;
  NoomEngineSocket *esock;
  NoomSioSocket *main;          /* the "/" socket, the common case */
  GSList *others;               /* sockets on other namespaces */
  NoomSioPacket *partial;       /* binary packet awaiting attachments */
  GPtrArray *attachments;
  GList *waiting_link;
  gint64 connect_deadline;      /* monotonic ms */
  gpointer data;                /* noom_sio_socket_set_connection_data */
  GDestroyNotify data_destroy;
  guint ref_count;
  gboolean closed;
};

static void schedule_connect_timer (NoomSioServer * server);

/* ------------------------------------------------------------ lifetimes */

static Connection *
conn_ref (Connection * conn)
{
  conn->ref_count++;
  return conn;
}

static void
conn_clear_partial (Connection * conn)
{
  g_clear_pointer (&conn->partial, noom_sio_packet_free);
  g_clear_pointer (&conn->attachments, g_ptr_array_unref);
}

static void
conn_unref (Connection * conn)
{
  if (--conn->ref_count > 0)
    return;
  conn_clear_partial (conn);
  if (conn->data_destroy)
    conn->data_destroy (conn->data);
  g_free (conn);
}

static void
early_frame_clear (gpointer data)
{
  EarlyFrame *f = data;

  g_bytes_unref (f->bytes);
}

static void
sio_socket_free (NoomSioSocket * socket)
{
  if (socket->early_idle) {
    g_source_destroy (socket->early_idle);
    g_source_unref (socket->early_idle);
  }
  g_clear_pointer (&socket->pending_acks, g_array_unref);
  g_clear_pointer (&socket->early, g_array_unref);
  g_free (socket);
}

static NoomSioSocket *
conn_find (Connection * conn, const gchar * nsp)
{
  GSList *l;

  if (strcmp (nsp, "/") == 0)
    return conn->main;
  for (l = conn->others; l; l = l->next) {
    NoomSioSocket *s = l->data;

    if (strcmp (s->ns->name, nsp) == 0)
      return s;
  }
  return NULL;
}

static void
conn_remove (Connection * conn, NoomSioSocket * socket)
{
  if (conn->main == socket)
    conn->main = NULL;
  else
    conn->others = g_slist_remove (conn->others, socket);
}

/* Leaves the namespace: the owner hears about it once, then it is freed. */
static void
socket_leave (NoomSioSocket * socket, const gchar * reason)
{
  Namespace *ns = socket->ns;

  conn_remove (socket->conn, socket);
  if (!socket->connecting && ns->callbacks.disconnect)
    ns->callbacks.disconnect (socket, reason, ns->user_data);
  sio_socket_free (socket);
}

/* ------------------------------------------------------------ sending */

static void
socket_send (NoomSioSocket * socket, GBytes * frame, gboolean binary)
{
  Connection *conn = socket->conn;

  if (conn->closed)
    return;
  if (socket->connecting || socket->early) {
    /* Emitted from the connect callback: goes out after the 40{sid}. */
    EarlyFrame f = { g_bytes_ref (frame), binary };

    if (socket->early == NULL) {
      socket->early = g_array_new (FALSE, FALSE, sizeof (EarlyFrame));
      g_array_set_clear_func (socket->early, early_frame_clear);
    }
    g_array_append_val (socket->early, f);
    return;
  }
  if (binary)
    noom_engine_socket_send_binary (conn->esock, frame);
  else
    noom_engine_socket_send (conn->esock, frame);
}

static void
socket_send_packet (NoomSioSocket * socket, NoomSioPacket * packet,
    GPtrArray * attachments)
{
  g_autoptr (GBytes) frame = noom_sio_frame_packet (packet);
  guint i;

  socket_send (socket, frame, FALSE);
  for (i = 0; attachments && i < attachments->len; i++)
    socket_send (socket, attachments->pdata[i], TRUE);
}

/* [event, args...] as a new node (args are copied: only used off the fast
 * path, i.e. custom namespaces and binary packets). */
static JsonNode *
event_array (const gchar * event, JsonArray * args)
{
  JsonArray *array = json_array_new ();
  JsonNode *node = json_node_new (JSON_NODE_ARRAY);
  guint i, n = args ? json_array_get_length (args) : 0;

  if (event)
    json_array_add_string_element (array, event);
  for (i = 0; i < n; i++)
    json_array_add_element (array,
        json_node_copy (json_array_get_element (args, i)));
  /* take, not init: the node must hold the only reference */
  json_node_take_array (node, array);
  return node;
}

void
noom_sio_socket_emit (NoomSioSocket * socket, const gchar * event,
    JsonArray * args)
{
  g_return_if_fail (socket != NULL);
  g_return_if_fail (event != NULL);

  if (noom_sio_is_reserved_event (event)) {
    g_critical ("refusing to emit reserved event name '%s'", event);
    return;
  }
  if (strcmp (socket->ns->name, "/") == 0) {
    g_autoptr (GBytes) frame = noom_sio_frame_event (event, args, -1);

    socket_send (socket, frame, FALSE);
  } else {
    g_autoptr (NoomSioPacket) packet = noom_sio_packet_new (NOOM_SIO_EVENT,
        socket->ns->name, -1, event_array (event, args));

    socket_send_packet (socket, packet, NULL);
  }
}

void
noom_sio_socket_send_frame (NoomSioSocket * socket, GBytes * frame)
{
  g_return_if_fail (socket != NULL);
  g_return_if_fail (frame != NULL);
  g_return_if_fail (strcmp (socket->ns->name, "/") == 0);

  socket_send (socket, frame, FALSE);
}

/* Forgets @ack_id; FALSE if it was not outstanding (never asked, or already
 * answered). */
static gboolean
take_pending_ack (NoomSioSocket * socket, gint64 ack_id)
{
  guint i;

  for (i = 0; socket->pending_acks && i < socket->pending_acks->len; i++) {
    if (g_array_index (socket->pending_acks, gint64, i) == ack_id) {
      g_array_remove_index (socket->pending_acks, i);
      if (socket->pending_acks->len == 0)
        g_clear_pointer (&socket->pending_acks, g_array_unref);
      return TRUE;
    }
  }
  g_debug ("ignoring ack %" G_GINT64_FORMAT " on %s: not outstanding",
      ack_id, socket->id);
  return FALSE;
}

static void
add_pending_ack (NoomSioSocket * socket, gint64 ack_id)
{
  if (socket->pending_acks == NULL)
    socket->pending_acks = g_array_sized_new (FALSE, FALSE, sizeof (gint64), 2);
  if (socket->pending_acks->len >= MAX_PENDING_ACKS)
    g_array_remove_index (socket->pending_acks, 0);
  g_array_append_val (socket->pending_acks, ack_id);
}

void
noom_sio_socket_ack (NoomSioSocket * socket, gint64 ack_id, JsonArray * args)
{
  g_return_if_fail (socket != NULL);

  if (ack_id < 0 || !take_pending_ack (socket, ack_id))
    return;
  if (strcmp (socket->ns->name, "/") == 0) {
    g_autoptr (GBytes) frame = noom_sio_frame_ack (ack_id, args);

    socket_send (socket, frame, FALSE);
  } else {
    g_autoptr (NoomSioPacket) packet = noom_sio_packet_new (NOOM_SIO_ACK,
        socket->ns->name, ack_id, event_array (NULL, args));

    socket_send_packet (socket, packet, NULL);
  }
}

void
noom_sio_socket_emit_binary (NoomSioSocket * socket, const gchar * event,
    JsonArray * args, GPtrArray * attachments)
{
  g_autoptr (NoomSioPacket) packet = NULL;

  g_return_if_fail (socket != NULL);
  g_return_if_fail (event != NULL);
  g_return_if_fail (attachments == NULL ||
      attachments->len <= NOOM_SIO_MAX_ATTACHMENTS);

  if (noom_sio_is_reserved_event (event)) {
    g_critical ("refusing to emit reserved event name '%s'", event);
    return;
  }
  packet = noom_sio_packet_new (NOOM_SIO_BINARY_EVENT, socket->ns->name, -1,
      event_array (event, args));
  packet->attachments = attachments ? attachments->len : 0;
  socket_send_packet (socket, packet, attachments);
}

void
noom_sio_socket_ack_binary (NoomSioSocket * socket, gint64 ack_id,
    JsonArray * args, GPtrArray * attachments)
{
  g_autoptr (NoomSioPacket) packet = NULL;

  g_return_if_fail (socket != NULL);
  g_return_if_fail (attachments == NULL ||
      attachments->len <= NOOM_SIO_MAX_ATTACHMENTS);

  if (ack_id < 0 || !take_pending_ack (socket, ack_id))
    return;
  packet = noom_sio_packet_new (NOOM_SIO_BINARY_ACK, socket->ns->name,
      ack_id, event_array (NULL, args));
  packet->attachments = attachments ? attachments->len : 0;
  socket_send_packet (socket, packet, attachments);
}

void
noom_sio_socket_disconnect (NoomSioSocket * socket, const gchar * reason)
{
  g_autoptr (NoomSioPacket) packet = NULL;
  Connection *conn;

  g_return_if_fail (socket != NULL);

  conn = socket->conn;
  if (conn->closed)
    return;
  g_message ("disconnecting %s (%s): %s", socket->id,
      noom_engine_socket_get_remote_address (conn->esock),
      reason ? reason : "server disconnect");
  packet = noom_sio_packet_new (NOOM_SIO_DISCONNECT, socket->ns->name, -1,
      NULL);
  socket_send_packet (socket, packet, NULL);
  noom_engine_socket_close (conn->esock, "server namespace disconnect");
}

/* ------------------------------------------------------------ receiving */

static void
conn_close (Connection * conn, const gchar * reason)
{
  if (!conn->closed)
    noom_engine_socket_close (conn->esock, reason);
}

static gboolean
early_flush_cb (gpointer user_data)
{
  NoomSioSocket *socket = user_data;
  g_autoptr (GArray) early = g_steal_pointer (&socket->early);
  guint i;

  g_clear_pointer (&socket->early_idle, g_source_unref);
  for (i = 0; i < early->len; i++) {
    EarlyFrame *f = &g_array_index (early, EarlyFrame, i);

    socket_send (socket, f->bytes, f->binary);
  }
  return G_SOURCE_REMOVE;
}

static void
handle_connect (Connection * conn, NoomSioPacket * packet)
{
  NoomSioServer *server = conn->server;
  Namespace *ns = g_hash_table_lookup (server->namespaces, packet->nsp);
  NoomSioSocket *socket;
  g_autofree gchar *error_message = NULL;
  g_autoptr (JsonNode) error_data = NULL;
  gboolean ok = TRUE;

  if (ns == NULL) {
    g_autoptr (JsonObject) obj = json_object_new ();
    g_autoptr (NoomSioPacket) reply = NULL;
    g_autoptr (GBytes) frame = NULL;

    json_object_set_string_member (obj, "message", "Invalid namespace");
    reply = noom_sio_packet_new (NOOM_SIO_CONNECT_ERROR, packet->nsp, -1,
        json_node_init_object (json_node_alloc (), obj));
    frame = noom_sio_frame_packet (reply);
    noom_engine_socket_send (conn->esock, frame);
    return;
  }

  /* The first CONNECT ends the connect timeout. */
  if (conn->waiting_link) {
    g_queue_delete_link (&server->waiting, conn->waiting_link);
    conn->waiting_link = NULL;
  }

  socket = g_new0 (NoomSioSocket, 1);
  socket->conn = conn;
  socket->ns = ns;
  socket->connecting = TRUE;
  noom_engine_random_id (socket->id);
  if (strcmp (ns->name, "/") == 0)
    conn->main = socket;
  else
    conn->others = g_slist_prepend (conn->others, socket);

  if (ns->callbacks.connect) {
    JsonObject *auth = packet->data ? json_node_get_object (packet->data) :
        NULL;

    ok = ns->callbacks.connect (socket, auth, &error_message, &error_data,
        ns->user_data);
  }
  if (conn->closed || conn_find (conn, packet->nsp) != socket)
    return;                     /* the callback closed the connection */

  if (ok) {
    g_autoptr (JsonObject) obj = json_object_new ();
    g_autoptr (NoomSioPacket) reply = NULL;
    g_autoptr (GBytes) frame = NULL;
    g_autoptr (GArray) early = g_steal_pointer (&socket->early);

    json_object_set_string_member (obj, "sid", socket->id);
    reply = noom_sio_packet_new (NOOM_SIO_CONNECT, ns->name, -1,
        json_node_init_object (json_node_alloc (), obj));
    frame = noom_sio_frame_packet (reply);
    noom_engine_socket_send (conn->esock, frame);
    socket->connecting = FALSE;
    if (early && early->len > 0) {
      /* What the connect callback emitted goes out a few milliseconds
       * after the answer, so that it reaches the client in a separate
       * read: the protocol test suite (with ws >= 8.17, which emits all
       * the frames of one read synchronously) listens for the connect
       * answer and the next packet one after the other, and loses the
       * second when both come in one read.  Real clients do not care. */
      socket->early = g_steal_pointer (&early);
      socket->early_idle = g_timeout_source_new (EARLY_DELAY_MS);
      g_source_set_callback (socket->early_idle, early_flush_cb, socket, NULL);
      g_source_attach (socket->early_idle, conn->server->context);
    }
  } else {
    g_autoptr (JsonObject) obj = json_object_new ();
    g_autoptr (NoomSioPacket) reply = NULL;
    g_autoptr (GBytes) frame = NULL;

    json_object_set_string_member (obj, "message",
        error_message ? error_message : "Not authorized");
    if (error_data)
      json_object_set_member (obj, "data", g_steal_pointer (&error_data));
    reply = noom_sio_packet_new (NOOM_SIO_CONNECT_ERROR, ns->name, -1,
        json_node_init_object (json_node_alloc (), obj));
    frame = noom_sio_frame_packet (reply);
    noom_engine_socket_send (conn->esock, frame);
    socket_leave (socket, "connect error");
  }
}

static void
dispatch_event (Connection * conn, NoomSioSocket * socket,
    NoomSioPacket * packet, GPtrArray * attachments)
{
  Namespace *ns = socket->ns;
  JsonArray *args = json_node_get_array (packet->data);
  JsonNode *first = json_array_get_element (args, 0);
  g_autofree gchar *number = NULL;
  const gchar *name;

  if (json_node_get_value_type (first) == G_TYPE_STRING) {
    name = json_node_get_string (first);
  } else {
    /* socket.io-parser allows numeric event names */
    number = json_to_string (first, FALSE);
    name = number;
  }
  if (packet->id >= 0)
    add_pending_ack (socket, packet->id);
  if (ns->callbacks.event)
    ns->callbacks.event (socket, name, args, packet->id, attachments,
        ns->user_data);
}

static void
handle_packet (Connection * conn, NoomSioPacket * packet,
    GPtrArray * attachments)
{
  NoomSioSocket *socket = conn_find (conn, packet->nsp);

  if (packet->type == NOOM_SIO_CONNECT && socket == NULL) {
    handle_connect (conn, packet);
    return;
  }
  if (socket == NULL || socket->connecting ||
      packet->type == NOOM_SIO_CONNECT ||
      packet->type == NOOM_SIO_CONNECT_ERROR) {
    /* As the reference: a packet for a namespace the client has not
     * joined is a broken client. */
    g_debug ("invalid state (packet type %d on %s)", packet->type, packet->nsp);
    conn_close (conn, "parse error");
    return;
  }

  switch (packet->type) {
    case NOOM_SIO_DISCONNECT:
      socket_leave (socket, "client namespace disconnect");
      break;
    case NOOM_SIO_EVENT:
    case NOOM_SIO_BINARY_EVENT:
      dispatch_event (conn, socket, packet, attachments);
      break;
    case NOOM_SIO_ACK:
    case NOOM_SIO_BINARY_ACK:
      /* The server never emits with an ack: nothing is waiting. */
      g_debug ("ignoring ack %" G_GINT64_FORMAT " from %s", packet->id,
          socket->id);
      break;
    default:
      break;
  }
}

static void
engine_open (NoomEngineSocket * esock, gpointer user_data)
{
  NoomSioServer *server = user_data;
  Connection *conn = g_new0 (Connection, 1);

  conn->server = server;
  conn->esock = esock;
  conn->ref_count = 1;
  conn->connect_deadline = g_get_monotonic_time () / 1000 +
      server->config.connect_timeout_ms;
  g_queue_push_tail (&server->waiting, conn);
  conn->waiting_link = server->waiting.tail;
  noom_engine_socket_set_user_data (esock, conn);
  schedule_connect_timer (server);
}

static void
engine_message (NoomEngineSocket * esock, const gchar * text, gsize len,
    gpointer user_data)
{
  Connection *conn = noom_engine_socket_get_user_data (esock);
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomSioPacket) packet = NULL;

  if (conn == NULL || conn->closed)
    return;

  if (conn->partial) {
    g_debug ("text packet while waiting for binary attachments");
    conn_close (conn, "parse error");
    return;
  }
  packet = noom_sio_packet_parse (text, len, &error);
  if (packet == NULL) {
    /* The reason is worth a line: it may come before any CONNECT (a bad
     * auth payload), where no namespace logs anything. */
    g_message ("parse error from %s (%s): %s, connection closed",
        noom_engine_socket_get_sid (esock),
        noom_engine_socket_get_remote_address (esock), error->message);
    conn_close (conn, "parse error");
    return;
  }

  conn_ref (conn);
  if ((packet->type == NOOM_SIO_BINARY_EVENT ||
          packet->type == NOOM_SIO_BINARY_ACK) && packet->attachments > 0) {
    conn->partial = g_steal_pointer (&packet);
    conn->attachments = g_ptr_array_new_with_free_func ((GDestroyNotify)
        g_bytes_unref);
  } else {
    handle_packet (conn, packet, NULL);
  }
  conn_unref (conn);
}

static void
engine_binary (NoomEngineSocket * esock, GBytes * data, gpointer user_data)
{
  Connection *conn = noom_engine_socket_get_user_data (esock);
  g_autoptr (NoomSioPacket) packet = NULL;
  g_autoptr (GPtrArray) attachments = NULL;

  if (conn == NULL || conn->closed)
    return;
  if (conn->partial == NULL) {
    g_debug ("unexpected binary message");
    conn_close (conn, "parse error");
    return;
  }
  g_ptr_array_add (conn->attachments, g_bytes_ref (data));
  if (conn->attachments->len < conn->partial->attachments)
    return;

  packet = g_steal_pointer (&conn->partial);
  attachments = g_steal_pointer (&conn->attachments);
  conn_ref (conn);
  handle_packet (conn, packet, attachments);
  conn_unref (conn);
}

static void
engine_close (NoomEngineSocket * esock, const gchar * reason,
    gpointer user_data)
{
  NoomSioServer *server = user_data;
  Connection *conn = noom_engine_socket_get_user_data (esock);

  if (conn == NULL)
    return;
  conn->closed = TRUE;
  noom_engine_socket_set_user_data (esock, NULL);
  if (conn->waiting_link) {
    g_queue_delete_link (&server->waiting, conn->waiting_link);
    conn->waiting_link = NULL;
  }
  while (conn->others)
    socket_leave (conn->others->data, reason);
  if (conn->main)
    socket_leave (conn->main, reason);
  conn_unref (conn);
}

/* ------------------------------------------------------------ timeout */

static gboolean
connect_timer_cb (gpointer user_data)
{
  NoomSioServer *server = user_data;
  gint64 now = g_get_monotonic_time () / 1000;
  Connection *conn;

  g_clear_pointer (&server->connect_timer, g_source_unref);
  while ((conn = g_queue_peek_head (&server->waiting)) &&
      conn->connect_deadline <= now) {
    g_queue_pop_head (&server->waiting);
    conn->waiting_link = NULL;
    g_debug ("no CONNECT from %s in time",
        noom_engine_socket_get_sid (conn->esock));
    conn_close (conn, "connect timeout");
  }
  schedule_connect_timer (server);
  return G_SOURCE_REMOVE;
}

static void
schedule_connect_timer (NoomSioServer * server)
{
  Connection *head = g_queue_peek_head (&server->waiting);
  gint64 delay;

  if (server->connect_timer || head == NULL)
    return;
  delay = head->connect_deadline - g_get_monotonic_time () / 1000;
  server->connect_timer = g_timeout_source_new (MAX (delay, 0));
  g_source_set_callback (server->connect_timer, connect_timer_cb, server, NULL);
  g_source_attach (server->connect_timer, server->context);
}

/* ------------------------------------------------------------ server */

static void
namespace_free (Namespace * ns)
{
  g_free (ns->name);
  g_free (ns);
}

NoomSioServer *
noom_sio_server_new (SoupServer * soup, const gchar * path,
    const NoomEngineConfig * config)
{
  NoomSioServer *server = g_new0 (NoomSioServer, 1);
  NoomEngineCallbacks callbacks = {
    .open = engine_open,
    .message = engine_message,
    .binary = engine_binary,
    .close = engine_close,
  };

  if (config)
    server->config = *config;
  else
    noom_engine_config_init (&server->config);
  if (server->config.connect_timeout_ms == 0)
    server->config.connect_timeout_ms = 45000;
  server->soup = g_object_ref (soup);
  server->context = g_main_context_ref_thread_default ();
  server->namespaces = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) namespace_free);
  g_queue_init (&server->waiting);
  server->engine = noom_engine_new (soup, path, &server->config, &callbacks,
      server);
  return server;
}

void
noom_sio_server_add_namespace (NoomSioServer * server, const gchar * nsp,
    const NoomSioNamespaceCallbacks * callbacks, gpointer user_data)
{
  Namespace *ns;

  g_return_if_fail (server != NULL);
  g_return_if_fail (nsp != NULL && nsp[0] == '/');

  ns = g_new0 (Namespace, 1);
  ns->name = g_strdup (nsp);
  if (callbacks)
    ns->callbacks = *callbacks;
  ns->user_data = user_data;
  g_hash_table_replace (server->namespaces, ns->name, ns);
}

void
noom_sio_server_close_all (NoomSioServer * server)
{
  g_return_if_fail (server != NULL);

  noom_engine_close_all (server->engine);
}

void
noom_sio_server_free (NoomSioServer * server)
{
  if (server == NULL)
    return;

  noom_engine_free (server->engine);
  if (server->connect_timer) {
    g_source_destroy (server->connect_timer);
    g_source_unref (server->connect_timer);
  }
  g_queue_clear (&server->waiting);
  g_hash_table_unref (server->namespaces);
  g_main_context_unref (server->context);
  g_object_unref (server->soup);
  g_free (server);
}

NoomEngine *
noom_sio_server_get_engine (NoomSioServer * server)
{
  g_return_val_if_fail (server != NULL, NULL);
  return server->engine;
}

const gchar *
noom_sio_socket_get_id (NoomSioSocket * socket)
{
  g_return_val_if_fail (socket != NULL, NULL);
  return socket->id;
}

const gchar *
noom_sio_socket_get_nsp (NoomSioSocket * socket)
{
  g_return_val_if_fail (socket != NULL, NULL);
  return socket->ns->name;
}

const gchar *
noom_sio_socket_get_remote_address (NoomSioSocket * socket)
{
  g_return_val_if_fail (socket != NULL, NULL);
  return noom_engine_socket_get_remote_address (socket->conn->esock);
}

gpointer
noom_sio_socket_get_connection_data (NoomSioSocket * socket)
{
  return socket->conn->data;
}

void
noom_sio_socket_set_connection_data (NoomSioSocket * socket, gpointer data,
    GDestroyNotify destroy)
{
  Connection *conn = socket->conn;

  if (conn->data_destroy)
    conn->data_destroy (conn->data);
  conn->data = data;
  conn->data_destroy = destroy;
}

void
noom_sio_socket_set_user_data (NoomSioSocket * socket, gpointer data)
{
  g_return_if_fail (socket != NULL);
  socket->user_data = data;
}

gpointer
noom_sio_socket_get_user_data (NoomSioSocket * socket)
{
  g_return_val_if_fail (socket != NULL, NULL);
  return socket->user_data;
}
