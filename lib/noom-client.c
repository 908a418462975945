/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-client: the room signalling client (docs/protocol.md) over the
 * Engine.IO v4 WebSocket transport and Socket.IO v4, on libsoup 3.
 *
 * Life of a connection:
 *   IDLE -> WS_CONNECTING (HTTP upgrade) -> EIO_OPENING (waiting for the
 *   Engine.IO open packet) -> SIO_CONNECTING ("40{auth}" sent, waiting for
 *   "40{sid}") -> CONNECTED -> IDLE again after close() or a drop.
 *
 * Everything runs on the GMainContext that was thread-default when the
 * client was created: the SoupSession is created there (libsoup 3 binds a
 * session to it), every timeout and cancellation source is attached there,
 * and so every callback and signal runs on that context's thread.  No
 * locks: the caller must call the methods from that thread too.
 *
 * Packets are built and parsed by noom-packet only.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-client"

#include "noom-client.h"
#include "noom-packet.h"

#include <libsoup/soup.h>
#include <string.h>

/* Largest frame accepted from the server: room lists and SDPs are far
 * smaller; the bound only stops a broken server from exhausting memory. */
#define MAX_INCOMING_PAYLOAD (16 * 1024 * 1024)

GQuark
noom_client_error_quark (void)
{
  return g_quark_from_static_string ("noom-client-error-quark");
}

static const gchar *
get_string_member (JsonObject * object, const gchar * name)
{
  return noom_json_node_get_string (json_object_get_member (object, name));
}

static gboolean
get_int_member (JsonObject * object, const gchar * name, gint64 * value)
{
  return noom_json_node_get_int (json_object_get_member (object, name), value);
}

void
noom_join_info_free (NoomJoinInfo * info)
{
  if (info == NULL)
    return;
  g_free (info->room);
  if (info->self)
    noom_participant_unref (info->self);
  if (info->participants)
    g_ptr_array_unref (info->participants);
  g_strfreev (info->ice_servers);
  g_free (info->media);
  g_free (info->relay);
  g_free (info);
}

/* ------------------------------------------------------------ ICE servers */

static gboolean
parse_host_port (const gchar * hostport, gchar ** host, guint * port,
    GError ** error)
{
  const gchar *colon;

  *port = 0;
  if (hostport[0] == '[') {
    const gchar *close = strchr (hostport, ']');

    if (close == NULL || close == hostport + 1)
      goto bad;
    *host = g_strndup (hostport, close - hostport + 1);
    colon = close[1] == ':' ? close + 1 : NULL;
    if (close[1] != '\0' && colon == NULL) {
      g_clear_pointer (host, g_free);
      goto bad;
    }
  } else {
    colon = strchr (hostport, ':');
    *host = colon ? g_strndup (hostport, colon - hostport) :
        g_strdup (hostport);
  }
  if (**host == '\0' || strpbrk (*host, "@/ ") != NULL) {
    g_clear_pointer (host, g_free);
    goto bad;
  }
  if (colon != NULL) {
    guint64 n;

    if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &n, NULL)) {
      g_clear_pointer (host, g_free);
      goto bad;
    }
    *port = (guint) n;
  }
  return TRUE;

bad:
  g_set_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_PROTOCOL,
      "Invalid host or port \"%s\" in an ICE server URL", hostport);
  return FALSE;
}

gchar *
noom_ice_url_to_webrtcbin (const gchar * url, const gchar * username,
    const gchar * credential, GError ** error)
{
  g_autofree gchar *scheme = NULL;
  g_autofree gchar *rest = NULL;
  g_autofree gchar *host = NULL;
  g_autofree gchar *embedded = NULL;
  const gchar *colon, *query;
  gboolean turn;
  guint port;

  g_return_val_if_fail (url != NULL, NULL);

  colon = strchr (url, ':');
  if (colon == NULL)
    goto bad_scheme;
  scheme = g_ascii_strdown (url, colon - url);
  if (g_str_equal (scheme, "stun") || g_str_equal (scheme, "stuns")) {
    /* webrtcbin knows no stuns: STUN over TLS is rare enough to refuse */
    if (g_str_equal (scheme, "stuns"))
      goto bad_scheme;
    turn = FALSE;
  } else if (g_str_equal (scheme, "turn") || g_str_equal (scheme, "turns")) {
    turn = TRUE;
  } else {
    goto bad_scheme;
  }

  rest = g_strdup (colon + 1);
  /* RFC 7065: the only parameter is ?transport=udp|tcp, kept for TURN */
  query = strchr (colon + 1, '?');
  if (query != NULL) {
    rest[query - (colon + 1)] = '\0';
    if (!turn) {
      query = NULL;
    } else if (!g_str_equal (query, "?transport=udp")
        && !g_str_equal (query, "?transport=tcp")) {
      g_set_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_PROTOCOL,
          "Unsupported parameters \"%s\" in a TURN URL", query + 1);
      return NULL;
    }
  }
  if (g_str_has_prefix (rest, "//")) {
    /* Already in webrtcbin's form.  Its (escaped) userinfo is kept when no
     * username and credential are given, replaced otherwise. */
    gchar *at = strrchr (rest, '@');
    gchar *start = at ? at + 1 : rest + 2;

    if (at && username == NULL && credential == NULL) {
      embedded = g_strndup (rest + 2, at - (rest + 2));
      if (strchr (embedded, ':') == NULL) {
        g_set_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_PROTOCOL,
            "The TURN URL's user information is not user:password");
        return NULL;
      }
    }
    memmove (rest, start, strlen (start) + 1);
  }
  if (!parse_host_port (rest, &host, &port, error))
    return NULL;
  if (port == 0)
    port = g_str_equal (scheme, "turns") ? 5349 : 3478;

  if (!turn)
    return g_strdup_printf ("stun://%s:%u", host, port);

  if (embedded)
    return g_strdup_printf ("%s://%s@%s:%u%s", scheme, embedded, host, port,
        query ? query : "");
  if (username == NULL || credential == NULL) {
    g_set_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_PROTOCOL,
        "A TURN server needs a username and a credential");
    return NULL;
  }
  {
    g_autofree gchar *user = g_uri_escape_string (username, NULL, FALSE);
    g_autofree gchar *pass = g_uri_escape_string (credential, NULL, FALSE);

    return g_strdup_printf ("%s://%s:%s@%s:%u%s", scheme, user, pass, host,
        port, query ? query : "");
  }

bad_scheme:
  g_set_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_PROTOCOL,
      "Unsupported ICE server URL \"%s\" (expected stun:, turn: or turns:)",
      url);
  return NULL;
}

/* One URL of the join answer's iceServers, converted for webrtcbin. */
static void
add_ice_server (const gchar * url, const gchar * username,
    const gchar * credential, gpointer user_data)
{
  GPtrArray *out = user_data;
  g_autoptr (GError) error = NULL;
  gchar *converted = noom_ice_url_to_webrtcbin (url, username, credential,
      &error);

  if (converted)
    g_ptr_array_add (out, converted);
  else
    g_message ("Ignoring an ICE server: %s", error->message);
}

/* ----------------------------------------------------------------- client */

typedef enum
{
  STATE_IDLE,
  STATE_WS_CONNECTING,
  STATE_EIO_OPENING,
  STATE_SIO_CONNECTING,
  STATE_CONNECTED,
} ClientState;

typedef enum
{
  ACK_JOIN,                     /* enter_room: a NoomJoinInfo */
  ACK_NICKNAME,                 /* nickname: the nickname confirmed */
} AckKind;

/* A request waiting for its ack */
typedef struct
{
  NoomClient *client;           /* unowned: the client owns the table */
  gint64 id;
  AckKind kind;
  GTask *task;
  GSource *cancel_source;
  GSource *timeout_source;
} PendingAck;

struct _NoomClient
{
  GObject parent;

  GMainContext *context;
  SoupSession *session;
  gboolean accept_invalid_certificates;
  guint request_timeout_ms;
  NoomMediaModes media_modes;   /* the join option "media"; NONE: left out */
  NoomFeatures features;        /* the join option "features"; NONE: left
                                 * out */

  ClientState state;
  gchar *url;
  JsonObject *auth;
  SoupWebsocketConnection *ws;
  gchar *id;
  gchar *room;
  guint ping_interval;
  guint ping_timeout;
  gint64 next_ack_id;
  GHashTable *acks;             /* id (gint64*) -> PendingAck* */

  /* while connecting */
  GTask *connect_task;
  GCancellable *connect_cancellable;    /* ours: cancels the HTTP upgrade */
  GSource *connect_timeout;
  GSource *connect_cancel_source;       /* the caller's cancellable */
  guint connect_timeout_ms;

  /* while connected: no ping for pingInterval + pingTimeout = dead */
  GSource *ping_watchdog;
  gchar *close_reason;          /* from the WebSocket "error" signal */
};

enum
{
  PROP_0,
  PROP_ACCEPT_INVALID_CERTIFICATES,
  PROP_REQUEST_TIMEOUT,
};

enum
{
  SIGNAL_PARTICIPANT_JOINED,
  SIGNAL_PARTICIPANT_LEFT,
  SIGNAL_PARTICIPANT_UPDATED,
  SIGNAL_OFFER,
  SIGNAL_ANSWER,
  SIGNAL_ICE,
  SIGNAL_OFFER_FAILED,
  SIGNAL_CHAT,
  SIGNAL_SERVER_ERROR,
  SIGNAL_DISCONNECTED,
  SIGNAL_MEDIA_RELAY,
  SIGNAL_PARTICIPANT_MEDIA,
  SIGNAL_MEDIA_BANDWIDTH,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE (NoomClient, noom_client, G_TYPE_OBJECT);

static void connection_lost (NoomClient * self, GError * error);

static void
destroy_source (GSource ** source)
{
  if (*source) {
    g_source_destroy (*source);
    g_source_unref (*source);
    *source = NULL;
  }
}

static GSource *
attach_timeout (NoomClient * self, guint ms, GSourceFunc func)
{
  GSource *source = g_timeout_source_new (ms);

  /* The sources hold no reference: they are destroyed before the client
   * goes away (teardown, dispose). */
  g_source_set_callback (source, func, self, NULL);
  g_source_attach (source, self->context);
  return source;
}

static void
pending_ack_free (gpointer data)
{
  PendingAck *ack = data;

  destroy_source (&ack->cancel_source);
  destroy_source (&ack->timeout_source);
  if (ack->task) {
    /* Still unanswered: the client is going away or the link dropped */
    g_task_return_new_error (ack->task, NOOM_CLIENT_ERROR,
        NOOM_CLIENT_ERROR_DISCONNECTED,
        "The connection to the server closed before it answered");
    g_object_unref (ack->task);
  }
  g_free (ack);
}

/* Send one complete Engine.IO frame */
static void
send_frame (NoomClient * self, GBytes * frame)
{
  if (self->ws == NULL || soup_websocket_connection_get_state (self->ws) !=
      SOUP_WEBSOCKET_STATE_OPEN) {
    g_debug ("not connected: dropping a packet");
    return;
  }
  soup_websocket_connection_send_message (self->ws, SOUP_WEBSOCKET_DATA_TEXT,
      frame);
}

/* Emit @event (a lib/noom-protocol event array, taken); @id -1 for no
 * ack */
static void
send_event (NoomClient * self, JsonArray * event, gint64 id)
{
  g_autoptr (GBytes) frame = noom_sio_frame_event_array (event, id);

  json_array_unref (event);
  send_frame (self, frame);
}

static void
ws_message_cb (SoupWebsocketConnection * ws, gint type, GBytes * message,
    gpointer user_data);
static void ws_closed_cb (SoupWebsocketConnection * ws, gpointer user_data);
static void ws_error_cb (SoupWebsocketConnection * ws, GError * error,
    gpointer user_data);

/* Drop the WebSocket and every timer.  With @clean, say goodbye first
 * (Socket.IO DISCONNECT, then a close frame); without, the link is gone
 * anyway. */
static void
teardown (NoomClient * self, gboolean clean)
{
  destroy_source (&self->ping_watchdog);
  destroy_source (&self->connect_timeout);
  destroy_source (&self->connect_cancel_source);
  if (self->connect_cancellable) {
    g_cancellable_cancel (self->connect_cancellable);
    g_clear_object (&self->connect_cancellable);
  }
  if (self->ws) {
    g_signal_handlers_disconnect_by_data (self->ws, self);
    if (soup_websocket_connection_get_state (self->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN) {
      if (clean && self->state == STATE_CONNECTED) {
        g_autoptr (NoomSioPacket) packet =
            noom_sio_packet_new (NOOM_SIO_DISCONNECT, "/", -1, NULL);
        g_autoptr (GBytes) frame = noom_sio_frame_packet (packet);

        send_frame (self, frame);
      }
      /* The close frame is written at once; libsoup then waits for the
       * server's, and closes the stream when the connection is freed
       * (below) at the latest. */
      soup_websocket_connection_close (self->ws,
          clean ? SOUP_WEBSOCKET_CLOSE_NORMAL : SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
          NULL);
    }
    g_clear_object (&self->ws);
  }
  self->state = STATE_IDLE;
  g_clear_pointer (&self->room, g_free);
  g_clear_pointer (&self->close_reason, g_free);
  /* Fails every pending request with DISCONNECTED.  The callbacks may
   * run right away and call back into the client: swap the table out
   * first. */
  if (g_hash_table_size (self->acks) > 0) {
    GHashTable *acks = self->acks;

    self->acks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
        pending_ack_free);
    g_hash_table_unref (acks);
  }
}

/* Complete the pending connect with @error (transfer full), or with
 * success when NULL */
static void
connect_complete (NoomClient * self, GError * error)
{
  g_autoptr (GTask) task = g_steal_pointer (&self->connect_task);

  destroy_source (&self->connect_timeout);
  destroy_source (&self->connect_cancel_source);
  if (self->connect_cancellable) {
    /* stops an HTTP upgrade still under way (timeout, cancel) */
    if (error)
      g_cancellable_cancel (self->connect_cancellable);
    g_clear_object (&self->connect_cancellable);
  }
  if (error) {
    g_debug ("connect to %s failed: %s", self->url, error->message);
    teardown (self, FALSE);
    g_clear_pointer (&self->id, g_free);
  }
  if (task == NULL) {
    g_clear_error (&error);
    return;
  }
  if (error)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
ping_watchdog_cb (gpointer user_data)
{
  NoomClient *self = user_data;
  GError *error;

  error = g_error_new (NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_DISCONNECTED,
      "The server at %s stopped answering (no ping within %u ms)",
      self->url, self->ping_interval + self->ping_timeout);
  connection_lost (self, error);
  return G_SOURCE_REMOVE;
}

static void
reset_ping_watchdog (NoomClient * self)
{
  destroy_source (&self->ping_watchdog);
  self->ping_watchdog = attach_timeout (self,
      self->ping_interval + self->ping_timeout, ping_watchdog_cb);
}

/* The link is gone (server closed it, it stopped pinging, it broke the
 * protocol).  Fails whatever is pending; "disconnected" is emitted only
 * once connected (before that, the connect fails instead). */
static void
connection_lost (NoomClient * self, GError * error)
{
  /* keeps self alive while signal handlers may drop the last reference */
  G_GNUC_UNUSED g_autoptr (NoomClient) keep = g_object_ref (self);
  gboolean was_connected = self->state == STATE_CONNECTED;

  if (self->state == STATE_IDLE) {
    g_error_free (error);
    return;
  }
  if (!was_connected) {
    if (error->domain == NOOM_CLIENT_ERROR
        && error->code == NOOM_CLIENT_ERROR_DISCONNECTED)
      error->code = NOOM_CLIENT_ERROR_UNREACHABLE;
    connect_complete (self, error);
    return;
  }
  g_message ("disconnected from %s: %s", self->url, error->message);
  teardown (self, FALSE);
  g_clear_pointer (&self->id, g_free);
  g_signal_emit (self, signals[SIGNAL_DISCONNECTED], 0, error);
  g_error_free (error);
}

static void
protocol_violation (NoomClient * self, const gchar * what)
{
  connection_lost (self, g_error_new (NOOM_CLIENT_ERROR,
          NOOM_CLIENT_ERROR_PROTOCOL, "The server at %s broke the protocol: %s",
          self->url, what));
}

/* ------------------------------------------------------------- incoming */

/* Engine.IO open: 0{"sid","upgrades","pingInterval","pingTimeout",...} */
static void
handle_open (NoomClient * self, const gchar * data, gsize len)
{
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (NoomSioPacket) packet = NULL;
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (GError) error = NULL;
  JsonObject *open;
  gint64 interval, timeout;

  if (self->state != STATE_EIO_OPENING) {
    protocol_violation (self, "unexpected Engine.IO open packet");
    return;
  }
  root = noom_json_parse (data, len, &error);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_autofree gchar *why = g_strdup_printf ("Engine.IO open packet is not "
        "an object%s%s", error ? ": " : "", error ? error->message : "");

    protocol_violation (self, why);
    return;
  }
  open = json_node_get_object (root);
  if (!get_int_member (open, "pingInterval", &interval)
      || !get_int_member (open, "pingTimeout", &timeout)
      || interval <= 0 || timeout <= 0 || interval > G_MAXINT / 2
      || timeout > G_MAXINT / 2) {
    protocol_violation (self, "Engine.IO open packet lacks ping settings");
    return;
  }
  self->ping_interval = interval;
  self->ping_timeout = timeout;
  reset_ping_watchdog (self);

  /* Socket.IO CONNECT to "/", with the auth payload */
  packet = noom_sio_packet_new (NOOM_SIO_CONNECT, "/", -1,
      self->auth ? json_node_init_object (json_node_alloc (), self->auth) :
      NULL);
  frame = noom_sio_frame_packet (packet);
  self->state = STATE_SIO_CONNECTING;
  send_frame (self, frame);
}

static void
handle_connect (NoomClient * self, NoomSioPacket * packet)
{
  const gchar *sid = NULL;

  if (self->state != STATE_SIO_CONNECTING) {
    protocol_violation (self, "unexpected Socket.IO CONNECT");
    return;
  }
  if (packet->data && JSON_NODE_HOLDS_OBJECT (packet->data))
    sid = get_string_member (json_node_get_object (packet->data), "sid");
  if (sid == NULL || *sid == '\0') {
    protocol_violation (self, "Socket.IO CONNECT without a sid");
    return;
  }
  g_free (self->id);
  self->id = g_strdup (sid);
  self->state = STATE_CONNECTED;
  g_debug ("connected to %s as %s", self->url, self->id);
  connect_complete (self, NULL);
}

/* 44{"message":"…","data":{"code":"…"}} */
static void
handle_connect_error (NoomClient * self, NoomSioPacket * packet)
{
  const gchar *message, *code;

  noom_protocol_decode_connect_refusal (packet->data, &message, &code);
  if (self->state != STATE_SIO_CONNECTING) {
    protocol_violation (self, "unexpected Socket.IO CONNECT_ERROR");
    return;
  }
  connect_complete (self, g_error_new (NOOM_CLIENT_ERROR,
          g_strcmp0 (code, noom_room_error_to_code (NOOM_ROOM_ERROR_FORBIDDEN))
          == 0 ? NOOM_CLIENT_ERROR_FORBIDDEN :
          NOOM_CLIENT_ERROR_REFUSED,
          "The server at %s refused the connection: %s", self->url,
          message ? message : "no reason given"));
}

/* A refusal {"error":{"code","message"}} -> GError, or NULL when @answer
 * is no refusal */
static GError *
error_from_answer (JsonObject * answer)
{
  const gchar *code, *message;
  gint error_code = NOOM_CLIENT_ERROR_REJECTED;

  if (!noom_protocol_decode_refusal (answer, &code, &message))
    return NULL;
  if (g_strcmp0 (code, noom_room_error_to_code (NOOM_ROOM_ERROR_ROOM_FULL))
      == 0)
    error_code = NOOM_CLIENT_ERROR_ROOM_FULL;
  else if (g_strcmp0 (code,
          noom_room_error_to_code (NOOM_ROOM_ERROR_FORBIDDEN)) == 0)
    error_code = NOOM_CLIENT_ERROR_FORBIDDEN;
  return g_error_new_literal (NOOM_CLIENT_ERROR, error_code,
      message ? message : code ? code : "The server refused the request");
}

/* A lib/noom-protocol decoding error, as the server's protocol breach. */
static GError *
protocol_error (GError * error)
{
  GError *out = g_error_new_literal (NOOM_CLIENT_ERROR,
      NOOM_CLIENT_ERROR_PROTOCOL, error->message);

  g_error_free (error);
  return out;
}

static NoomJoinInfo *
join_info_from_answer (JsonObject * answer, GError ** error)
{
  NoomJoinResult result;
  NoomJoinInfo *info;
  GPtrArray *ice_servers;
  GError *decode_error = NULL;

  if (!noom_protocol_decode_join_result (answer, &result, &decode_error)) {
    g_propagate_error (error, protocol_error (decode_error));
    return NULL;
  }
  info = g_new0 (NoomJoinInfo, 1);
  info->room = g_strdup (result.room);
  info->count = result.count;
  info->max_room_size = result.max_room_size;
  /* A server that does not say is an older, mesh-only one. */
  info->media = g_strdup (result.media ? result.media :
      NOOM_MEDIA_MODE_NAME_MESH);
  info->relay = g_strdup (result.relay);
  info->max_publishers = result.max_publishers;
  info->self = g_steal_pointer (&result.self);
  info->participants = g_steal_pointer (&result.participants);
  ice_servers = g_ptr_array_new ();
  noom_protocol_decode_ice_servers (result.ice_servers, add_ice_server,
      ice_servers);
  g_ptr_array_add (ice_servers, NULL);
  info->ice_servers = (gchar **) g_ptr_array_free (ice_servers, FALSE);
  noom_join_result_clear (&result);
  return info;
}

static void
handle_ack (NoomClient * self, NoomSioPacket * packet)
{
  PendingAck *ack;
  g_autoptr (GTask) task = NULL;
  JsonObject *answer;
  GError *error = NULL;
  NoomJoinInfo *info;
  AckKind kind;
  const gchar *nickname;

  if (packet->id < 0) {
    protocol_violation (self, "Socket.IO ACK without an id");
    return;
  }
  ack = g_hash_table_lookup (self->acks, &packet->id);
  if (ack == NULL) {
    /* a request cancelled meanwhile */
    g_debug ("ack %" G_GINT64_FORMAT " for no pending request", packet->id);
    return;
  }
  task = g_steal_pointer (&ack->task);
  kind = ack->kind;
  g_hash_table_remove (self->acks, &packet->id);

  answer = noom_protocol_decode_answer (packet->data ?
      json_node_get_array (packet->data) : NULL, &error);
  if (answer == NULL) {
    g_task_return_error (task, protocol_error (error));
    return;
  }
  error = error_from_answer (answer);
  if (error) {
    g_task_return_error (task, error);
    return;
  }
  if (kind == ACK_NICKNAME) {
    nickname = noom_protocol_decode_nickname_result (answer);
    if (nickname == NULL)
      g_task_return_new_error (task, NOOM_CLIENT_ERROR,
          NOOM_CLIENT_ERROR_PROTOCOL,
          "The server's nickname answer lacks the nickname");
    else
      g_task_return_pointer (task, g_strdup (nickname), g_free);
    return;
  }
  info = join_info_from_answer (answer, &error);
  if (info == NULL) {
    g_task_return_error (task, error);
    return;
  }
  g_free (self->room);
  self->room = g_strdup (info->room);
  g_task_return_pointer (task, info, (GDestroyNotify) noom_join_info_free);
}

/* welcome, bye, participant_update */
static void
emit_participant (NoomClient * self, guint signal, NoomServerEvent * ev)
{
  if (ev->participant == NULL) {
    /* a seed server sends no participant object: nothing to report */
    g_debug ("%s without a participant object",
        g_signal_name (signals[signal]));
    return;
  }
  g_signal_emit (self, signals[signal], 0, ev->participant);
}

/* offer/answer (description, from) */
static void
emit_description (NoomClient * self, guint signal, NoomServerEvent * ev)
{
  if (ev->sdp == NULL || ev->from == NULL) {
    g_message ("Ignoring a malformed %s from the server",
        g_signal_name (signals[signal]));
    return;
  }
  g_signal_emit (self, signals[signal], 0, ev->from, ev->sdp);
}

static void
handle_event (NoomClient * self, NoomSioPacket * packet)
{
  JsonArray *args = json_node_get_array (packet->data);
  g_auto (NoomServerEvent) ev = { 0, };
  g_autoptr (GError) error = NULL;

  if (self->state != STATE_CONNECTED) {
    protocol_violation (self, "event before Socket.IO CONNECT");
    return;
  }
  if (!noom_protocol_decode_event (args, &ev, &error)) {
    if (g_error_matches (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_UNKNOWN_EVENT))
      g_debug ("ignoring %s", error->message);
    else
      g_message ("Ignoring %s from the server: %s",
          json_array_get_string_element (args, 0), error->message);
    return;
  }
  switch (ev.type) {
    case NOOM_SERVER_EVENT_WELCOME:
      emit_participant (self, SIGNAL_PARTICIPANT_JOINED, &ev);
      break;
    case NOOM_SERVER_EVENT_BYE:
      emit_participant (self, SIGNAL_PARTICIPANT_LEFT, &ev);
      break;
    case NOOM_SERVER_EVENT_PARTICIPANT_UPDATE:
      emit_participant (self, SIGNAL_PARTICIPANT_UPDATED, &ev);
      break;
    case NOOM_SERVER_EVENT_OFFER:
      emit_description (self, SIGNAL_OFFER, &ev);
      break;
    case NOOM_SERVER_EVENT_ANSWER:
      emit_description (self, SIGNAL_ANSWER, &ev);
      break;
    case NOOM_SERVER_EVENT_ICE:
      if (ev.from == NULL || ev.payload == NULL) {
        g_message ("Ignoring a malformed ice from the server");
        return;
      }
      g_signal_emit (self, signals[SIGNAL_ICE], 0, ev.from,
          ev.candidate.mline_index, ev.candidate.mid, ev.candidate.candidate);
      break;
    case NOOM_SERVER_EVENT_OFFER_FAILED:
      if (ev.from == NULL) {
        g_debug ("offer_failed without from");
        return;
      }
      g_signal_emit (self, signals[SIGNAL_OFFER_FAILED], 0, ev.from,
          ev.reason ? ev.reason : "");
      break;
    case NOOM_SERVER_EVENT_NEW_MESSAGE:
      if (ev.from == NULL || ev.nickname == NULL || ev.text == NULL) {
        g_debug ("new_message without its details object");
        return;
      }
      g_signal_emit (self, signals[SIGNAL_CHAT], 0, ev.from, ev.nickname,
          ev.text);
      break;
    case NOOM_SERVER_EVENT_NOOM_ERROR:
      g_message ("The server reported an error: %s (%s)",
          ev.message ? ev.message : "?", ev.code ? ev.code : "?");
      g_signal_emit (self, signals[SIGNAL_SERVER_ERROR],
          ev.event ? g_quark_try_string (ev.event) : 0,
          ev.code ? ev.code : "unknown", ev.message ? ev.message : "");
      break;
    case NOOM_SERVER_EVENT_ROOM_CHANGE:
      /* the list of rooms: of no use to a client that joins by name */
      break;
    case NOOM_SERVER_EVENT_MEDIA_RELAY:
      if (ev.state == NULL) {
        g_debug ("media_relay without a state");
        return;
      }
      g_signal_emit (self, signals[SIGNAL_MEDIA_RELAY], 0, ev.state);
      break;
    case NOOM_SERVER_EVENT_PARTICIPANT_MEDIA:
      g_signal_emit (self, signals[SIGNAL_PARTICIPANT_MEDIA], 0, ev.from,
          (guint) ev.media_state);
      break;
    case NOOM_SERVER_EVENT_MEDIA_BANDWIDTH:
      g_signal_emit (self, signals[SIGNAL_MEDIA_BANDWIDTH], 0,
          ev.base_bitrate);
      break;
  }
}

static void
handle_sio (NoomClient * self, const gchar * data, gsize len)
{
  g_autoptr (NoomSioPacket) packet = NULL;
  g_autoptr (GError) error = NULL;

  packet = noom_sio_packet_parse (data, len, &error);
  if (packet == NULL) {
    protocol_violation (self, error->message);
    return;
  }
  if (!g_str_equal (packet->nsp, "/")) {
    g_debug ("ignoring a packet for namespace %s", packet->nsp);
    return;
  }
  switch (packet->type) {
    case NOOM_SIO_CONNECT:
      handle_connect (self, packet);
      break;
    case NOOM_SIO_CONNECT_ERROR:
      handle_connect_error (self, packet);
      break;
    case NOOM_SIO_DISCONNECT:
      connection_lost (self, g_error_new (NOOM_CLIENT_ERROR,
              NOOM_CLIENT_ERROR_DISCONNECTED,
              "The server at %s closed the connection", self->url));
      break;
    case NOOM_SIO_EVENT:
      handle_event (self, packet);
      break;
    case NOOM_SIO_ACK:
      handle_ack (self, packet);
      break;
    case NOOM_SIO_BINARY_EVENT:
    case NOOM_SIO_BINARY_ACK:
      protocol_violation (self, "binary packets are not used by Noom");
      break;
  }
}

static void
ws_message_cb (SoupWebsocketConnection * ws, gint type, GBytes * message,
    gpointer user_data)
{
  NoomClient *self = user_data;
  /* keeps self alive while signal handlers may drop the last reference */
  G_GNUC_UNUSED g_autoptr (NoomClient) keep = g_object_ref (self);
  g_autoptr (GError) error = NULL;
  NoomEioPacket packet;
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);

  if (type != SOUP_WEBSOCKET_DATA_TEXT) {
    protocol_violation (self, "binary WebSocket message");
    return;
  }
  if (!noom_eio_decode (data, len, &packet, &error)) {
    protocol_violation (self, error->message);
    return;
  }
  switch (packet.type) {
    case NOOM_EIO_OPEN:
      handle_open (self, packet.data, packet.len);
      break;
    case NOOM_EIO_PING:{
      g_autoptr (GBytes) pong = noom_eio_encode (NOOM_EIO_PONG, packet.data,
          packet.len);

      if (self->state == STATE_EIO_OPENING) {
        protocol_violation (self, "ping before the open packet");
        return;
      }
      reset_ping_watchdog (self);
      send_frame (self, pong);
      break;
    }
    case NOOM_EIO_CLOSE:
      connection_lost (self, g_error_new (NOOM_CLIENT_ERROR,
              NOOM_CLIENT_ERROR_DISCONNECTED,
              "The server at %s closed the connection", self->url));
      break;
    case NOOM_EIO_MESSAGE:
      if (self->state < STATE_SIO_CONNECTING) {
        protocol_violation (self, "message before the open packet");
        return;
      }
      handle_sio (self, packet.data, packet.len);
      break;
    case NOOM_EIO_NOOP:
      break;
    case NOOM_EIO_PONG:
    case NOOM_EIO_UPGRADE:
      protocol_violation (self, "unexpected Engine.IO packet type");
      break;
  }
}

static void
ws_error_cb (SoupWebsocketConnection * ws, GError * error, gpointer user_data)
{
  NoomClient *self = user_data;

  g_debug ("WebSocket error: %s", error->message);
  g_free (self->close_reason);
  self->close_reason = g_strdup (error->message);
}

static void
ws_closed_cb (SoupWebsocketConnection * ws, gpointer user_data)
{
  NoomClient *self = user_data;
  gushort code = soup_websocket_connection_get_close_code (ws);
  const gchar *data = soup_websocket_connection_get_close_data (ws);
  g_autofree gchar *why = NULL;

  if (self->close_reason)
    why = g_strdup (self->close_reason);
  else if (code != 0)
    why = g_strdup_printf ("close code %u%s%s", code, data && *data ?
        ", " : "", data ? data : "");
  else
    why = g_strdup ("connection lost");

  connection_lost (self, g_error_new (NOOM_CLIENT_ERROR,
          NOOM_CLIENT_ERROR_DISCONNECTED,
          "The connection to the server at %s closed (%s)", self->url, why));
}

/* -------------------------------------------------------------- connect */

typedef struct
{
  /* Weak: a client closed and dropped while its HTTP upgrade winds down
   * is finalized at once, even if its context is never iterated again */
  GWeakRef self;
  GCancellable *cancellable;    /* identifies the attempt */
  SoupMessage *msg;
} ConnectAttempt;

/* "Unacceptable TLS certificate" says nothing a user can act on: the
 * certificate's flags do. */
static gchar *
certificate_problem (SoupMessage * msg, const GError * error)
{
  GTlsCertificateFlags flags = soup_message_get_tls_peer_certificate_errors
      (msg);
  GString *s = g_string_new (NULL);

  if (flags & G_TLS_CERTIFICATE_UNKNOWN_CA)
    g_string_append (s, ", it is self-signed or signed by an unknown "
        "authority");
  if (flags & G_TLS_CERTIFICATE_BAD_IDENTITY)
    g_string_append (s, ", it is for another host name");
  if (flags & G_TLS_CERTIFICATE_EXPIRED)
    g_string_append (s, ", it has expired");
  if (flags & G_TLS_CERTIFICATE_NOT_ACTIVATED)
    g_string_append (s, ", it is not valid yet");
  if (flags & G_TLS_CERTIFICATE_REVOKED)
    g_string_append (s, ", it was revoked");
  if (flags & G_TLS_CERTIFICATE_INSECURE)
    g_string_append (s, ", its algorithm is insecure");
  if (!s->len)
    g_string_append_printf (s, ", %s", error->message);
  g_string_erase (s, 0, 2);
  return g_string_free (s, FALSE);
}

static void
ws_connected_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  ConnectAttempt *attempt = user_data;
  g_autoptr (NoomClient) self = g_weak_ref_get (&attempt->self);
  g_autoptr (GError) error = NULL;
  SoupWebsocketConnection *ws;
  guint status;

  ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &error);
  status = soup_message_get_status (attempt->msg);

  if (self == NULL || attempt->cancellable != self->connect_cancellable
      || self->state != STATE_WS_CONNECTING) {
    /* timed out, cancelled or closed meanwhile: connect_complete() ran */
    if (ws) {
      soup_websocket_connection_close (ws, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
          NULL);
      g_object_unref (ws);
    }
  } else if (ws == NULL) {
    GError *out;

    /* A Noom server serves /socket.io/ whatever it thinks of the
     * request; another HTTP server does not have it. */
    if (status == SOUP_STATUS_NOT_FOUND)
      out = g_error_new (NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_NOT_NOOM,
          "The server at %s is not a Noom server: it answered HTTP %u %s "
          "to a Socket.IO request", self->url, status,
          soup_message_get_reason_phrase (attempt->msg));
    else if (status >= 300 && status < 600)
      out = g_error_new (NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_REFUSED,
          "The server at %s refused the connection: HTTP %u %s", self->url,
          status, soup_message_get_reason_phrase (attempt->msg));
    else if (error->domain == SOUP_WEBSOCKET_ERROR)
      out = g_error_new (NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_NOT_NOOM,
          "The server at %s is not a Noom server: %s", self->url,
          error->message);
    else if (error->domain == G_TLS_ERROR) {
      g_autofree gchar *problem = certificate_problem (attempt->msg, error);

      out = g_error_new (NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_CERTIFICATE,
          "The TLS certificate of %s was not accepted: %s", self->url,
          problem);
    }
    else if (status == 0 && (g_error_matches (error, G_IO_ERROR,
                G_IO_ERROR_CONNECTION_CLOSED)
            || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)
            || g_error_matches (error, G_IO_ERROR,
                G_IO_ERROR_PARTIAL_INPUT)))
      out = g_error_new (NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_NO_ANSWER,
          "The server at %s closed the connection without an HTTP answer "
          "(%s)", self->url, error->message);
    else
      out = g_error_new (NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_UNREACHABLE,
          "Could not connect to %s: %s", self->url, error->message);
    connect_complete (self, out);
  } else {
    self->ws = ws;
    self->state = STATE_EIO_OPENING;
    soup_websocket_connection_set_max_incoming_payload_size (ws,
        MAX_INCOMING_PAYLOAD);
    /* the server pings; no WebSocket-level keepalive needed */
    soup_websocket_connection_set_keepalive_interval (ws, 0);
    g_signal_connect (ws, "message", G_CALLBACK (ws_message_cb), self);
    g_signal_connect (ws, "closed", G_CALLBACK (ws_closed_cb), self);
    g_signal_connect (ws, "error", G_CALLBACK (ws_error_cb), self);
  }

  g_object_unref (attempt->msg);
  g_object_unref (attempt->cancellable);
  g_weak_ref_clear (&attempt->self);
  g_free (attempt);
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  NoomClient *self = user_data;

  g_source_unref (g_steal_pointer (&self->connect_timeout));
  connect_complete (self, g_error_new (NOOM_CLIENT_ERROR,
          NOOM_CLIENT_ERROR_UNREACHABLE,
          "Could not connect to %s: no answer within %u ms", self->url,
          self->connect_timeout_ms));
  return G_SOURCE_REMOVE;
}

static gboolean
connect_cancelled_cb (GCancellable * cancellable, gpointer user_data)
{
  NoomClient *self = user_data;
  GError *error = NULL;

  g_source_unref (g_steal_pointer (&self->connect_cancel_source));
  g_cancellable_set_error_if_cancelled (cancellable, &error);
  connect_complete (self, error);
  return G_SOURCE_REMOVE;
}

static gboolean
accept_certificate_cb (SoupMessage * msg, GTlsCertificate * certificate,
    GTlsCertificateFlags errors, gpointer user_data)
{
  g_message ("Accepting a TLS certificate that does not validate "
      "(flags 0x%x), as asked", errors);
  return TRUE;
}

void
noom_client_connect_async (NoomClient * self, const gchar * websocket_url,
    JsonObject * auth, guint timeout_ms, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  ConnectAttempt *attempt;
  SoupMessage *msg;

  g_return_if_fail (NOOM_IS_CLIENT (self));
  g_return_if_fail (websocket_url != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  /* The task and every source on the client's context, whatever the
   * caller's thread-default is */
  g_main_context_push_thread_default (self->context);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, noom_client_connect_async);
  g_main_context_pop_thread_default (self->context);

  if (self->state != STATE_IDLE) {
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
        "The client is already connected or connecting");
    return;
  }
  if (g_task_return_error_if_cancelled (task))
    return;

  g_free (self->url);
  self->url = g_strdup (websocket_url);
  g_clear_pointer (&self->auth, json_object_unref);
  if (auth)
    self->auth = json_object_ref (auth);
  g_clear_pointer (&self->id, g_free);

  msg = soup_message_new (SOUP_METHOD_GET, websocket_url);
  if (msg == NULL) {
    g_task_return_new_error (task, NOOM_CLIENT_ERROR,
        NOOM_CLIENT_ERROR_UNREACHABLE, "Invalid server URL %s", websocket_url);
    return;
  }
  if (self->accept_invalid_certificates)
    g_signal_connect (msg, "accept-certificate",
        G_CALLBACK (accept_certificate_cb), NULL);

  self->state = STATE_WS_CONNECTING;
  self->connect_task = g_steal_pointer (&task);
  self->connect_cancellable = g_cancellable_new ();
  self->connect_timeout_ms = timeout_ms > 0 ? timeout_ms :
      NOOM_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS;
  self->connect_timeout = attach_timeout (self, self->connect_timeout_ms,
      connect_timeout_cb);
  if (cancellable) {
    self->connect_cancel_source = g_cancellable_source_new (cancellable);
    g_source_set_callback (self->connect_cancel_source,
        G_SOURCE_FUNC (connect_cancelled_cb), self, NULL);
    g_source_attach (self->connect_cancel_source, self->context);
  }

  attempt = g_new0 (ConnectAttempt, 1);
  g_weak_ref_init (&attempt->self, self);
  attempt->cancellable = g_object_ref (self->connect_cancellable);
  attempt->msg = msg;
  g_debug ("connecting to %s", websocket_url);
  g_main_context_push_thread_default (self->context);
  soup_session_websocket_connect_async (self->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, self->connect_cancellable, ws_connected_cb, attempt);
  g_main_context_pop_thread_default (self->context);
}

gboolean
noom_client_connect_finish (NoomClient * self, GAsyncResult * res,
    GError ** error)
{
  g_return_val_if_fail (NOOM_IS_CLIENT (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (res, self), FALSE);

  return g_task_propagate_boolean (G_TASK (res), error);
}

/* ----------------------------------------------------------------- join */

static gboolean
ack_cancelled_cb (GCancellable * cancellable, gpointer user_data)
{
  PendingAck *ack = user_data;
  NoomClient *self = ack->client;
  g_autoptr (GTask) task = g_steal_pointer (&ack->task);
  gint64 id = ack->id;

  /* The server may still answer: that ack then finds nothing and is
   * dropped (a join that completes server-side anyway is undone by the
   * caller's leave or close) */
  g_source_unref (g_steal_pointer (&ack->cancel_source));
  g_hash_table_remove (self->acks, &id);
  g_task_return_error_if_cancelled (task);
  return G_SOURCE_REMOVE;
}

static gboolean
ack_timeout_cb (gpointer user_data)
{
  PendingAck *ack = user_data;
  NoomClient *self = ack->client;
  g_autoptr (GTask) task = g_steal_pointer (&ack->task);
  gint64 id = ack->id;

  /* A server that pings but never answers: fail the request rather than
   * leave the caller waiting forever; a late answer is dropped */
  g_source_unref (g_steal_pointer (&ack->timeout_source));
  g_hash_table_remove (self->acks, &id);
  g_task_return_new_error (task, NOOM_CLIENT_ERROR,
      NOOM_CLIENT_ERROR_UNREACHABLE,
      "The server at %s did not answer within %u ms", self->url,
      self->request_timeout_ms);
  return G_SOURCE_REMOVE;
}

static gint64
add_pending_ack (NoomClient * self, AckKind kind, GTask * task,
    GCancellable * cancellable)
{
  PendingAck *ack = g_new0 (PendingAck, 1);
  gint64 *key = g_new (gint64, 1);

  ack->client = self;
  ack->id = self->next_ack_id++;
  ack->kind = kind;
  ack->task = g_object_ref (task);
  if (cancellable) {
    ack->cancel_source = g_cancellable_source_new (cancellable);
    g_source_set_callback (ack->cancel_source,
        G_SOURCE_FUNC (ack_cancelled_cb), ack, NULL);
    g_source_attach (ack->cancel_source, self->context);
  }
  if (self->request_timeout_ms > 0) {
    ack->timeout_source = g_timeout_source_new (self->request_timeout_ms);
    g_source_set_callback (ack->timeout_source, ack_timeout_cb, ack, NULL);
    g_source_attach (ack->timeout_source, self->context);
  }
  *key = ack->id;
  g_hash_table_insert (self->acks, key, ack);
  return ack->id;
}

/* The task of a request that waits for its ack, on the client's context;
 * NULL when it already failed (not connected, or cancelled). */
static GTask *
request_new (NoomClient * self, gpointer source_tag,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  GTask *task;

  g_main_context_push_thread_default (self->context);
  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);
  g_main_context_pop_thread_default (self->context);

  if (self->state != STATE_CONNECTED) {
    g_task_return_new_error (task, NOOM_CLIENT_ERROR,
        NOOM_CLIENT_ERROR_DISCONNECTED, "Not connected to a Noom server");
    g_object_unref (task);
    return NULL;
  }
  if (g_task_return_error_if_cancelled (task)) {
    g_object_unref (task);
    return NULL;
  }
  return task;
}

void
noom_client_join_async (NoomClient * self, const gchar * room,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_autoptr (GTask) task = NULL;
  gint64 id;

  g_return_if_fail (NOOM_IS_CLIENT (self));
  g_return_if_fail (room != NULL);

  task = request_new (self, noom_client_join_async, cancellable, callback,
      user_data);
  if (!task)
    return;

  id = add_pending_ack (self, ACK_JOIN, task, cancellable);
  send_event (self, noom_protocol_encode_join_full (room, nickname,
          kind, sends, self->media_modes, self->features), id);
}

NoomJoinInfo *
noom_client_join_finish (NoomClient * self, GAsyncResult * res, GError ** error)
{
  g_return_val_if_fail (NOOM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);

  return g_task_propagate_pointer (G_TASK (res), error);
}

void
noom_client_set_nickname_async (NoomClient * self, const gchar * nickname,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (NOOM_IS_CLIENT (self));
  g_return_if_fail (nickname != NULL);

  task = request_new (self, noom_client_set_nickname_async, cancellable,
      callback, user_data);
  if (!task)
    return;
  send_event (self, noom_protocol_encode_nickname (nickname),
      add_pending_ack (self, ACK_NICKNAME, task, cancellable));
}

gchar *
noom_client_set_nickname_finish (NoomClient * self, GAsyncResult * res,
    GError ** error)
{
  g_return_val_if_fail (NOOM_IS_CLIENT (self), NULL);
  g_return_val_if_fail (g_task_is_valid (res, self), NULL);

  return g_task_propagate_pointer (G_TASK (res), error);
}

/* ------------------------------------------------------- fire and forget */

void
noom_client_leave (NoomClient * self)
{
  g_return_if_fail (NOOM_IS_CLIENT (self));

  if (self->state != STATE_CONNECTED || self->room == NULL)
    return;
  send_event (self, noom_protocol_encode_leave_room (), -1);
  g_clear_pointer (&self->room, g_free);
}

void
noom_client_close (NoomClient * self)
{
  g_return_if_fail (NOOM_IS_CLIENT (self));

  if (self->state == STATE_IDLE)
    return;
  g_debug ("closing the connection to %s", self->url);
  if (self->state != STATE_CONNECTED) {
    connect_complete (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
            "The connection was closed while connecting"));
    return;
  }
  teardown (self, TRUE);
  g_clear_pointer (&self->id, g_free);
}

gboolean
noom_client_is_connected (NoomClient * self)
{
  g_return_val_if_fail (NOOM_IS_CLIENT (self), FALSE);

  return self->state == STATE_CONNECTED;
}

const gchar *
noom_client_get_id (NoomClient * self)
{
  g_return_val_if_fail (NOOM_IS_CLIENT (self), NULL);

  return self->state == STATE_CONNECTED ? self->id : NULL;
}

void
noom_client_set_media_modes (NoomClient * self, NoomMediaModes modes)
{
  g_return_if_fail (NOOM_IS_CLIENT (self));

  self->media_modes = modes;
}

void
noom_client_set_features (NoomClient * self, NoomFeatures features)
{
  g_return_if_fail (NOOM_IS_CLIENT (self));

  self->features = features;
}

const gchar *
noom_client_get_room (NoomClient * self)
{
  g_return_val_if_fail (NOOM_IS_CLIENT (self), NULL);

  return self->room;
}

/* Relays need the room we are in (the protocol checks it) */
static gboolean
can_relay (NoomClient * self, const gchar * what)
{
  if (self->state != STATE_CONNECTED || self->room == NULL) {
    g_debug ("Cannot send %s: not in a room", what);
    return FALSE;
  }
  return TRUE;
}

static void
send_description (NoomClient * self, NoomEventType type, const gchar * to,
    const gchar * sdp)
{
  g_return_if_fail (NOOM_IS_CLIENT (self));
  g_return_if_fail (to != NULL && sdp != NULL);

  if (!can_relay (self, noom_event_type_to_string (type)))
    return;
  send_event (self, noom_protocol_encode_description (type, sdp, self->room,
          to), -1);
}

void
noom_client_send_offer (NoomClient * self, const gchar * to, const gchar * sdp)
{
  send_description (self, NOOM_EVENT_OFFER, to, sdp);
}

void
noom_client_send_answer (NoomClient * self, const gchar * to, const gchar * sdp)
{
  send_description (self, NOOM_EVENT_ANSWER, to, sdp);
}

void
noom_client_send_ice (NoomClient * self, const gchar * to,
    guint mline_index, const gchar * mid, const gchar * candidate)
{
  NoomCandidate init = { candidate, mid, mline_index };

  g_return_if_fail (NOOM_IS_CLIENT (self));
  g_return_if_fail (to != NULL);

  if (!can_relay (self, NOOM_EVENT_NAME_ICE))
    return;
  send_event (self, noom_protocol_encode_ice (&init, self->room, to), -1);
}

void
noom_client_send_offer_failed (NoomClient * self, const gchar * to,
    const gchar * reason)
{
  g_return_if_fail (NOOM_IS_CLIENT (self));
  g_return_if_fail (to != NULL && reason != NULL);

  if (!can_relay (self, NOOM_EVENT_NAME_OFFER_FAILED))
    return;
  send_event (self, noom_protocol_encode_offer_failed (reason, self->room,
          to), -1);
}

void
noom_client_send_chat (NoomClient * self, const gchar * text)
{
  g_return_if_fail (NOOM_IS_CLIENT (self));
  g_return_if_fail (text != NULL);

  if (!can_relay (self, "a chat message"))
    return;
  send_event (self, noom_protocol_encode_chat (text, self->room), -1);
}

void
noom_client_send_media_state (NoomClient * self, NoomMediaState state)
{
  g_return_if_fail (NOOM_IS_CLIENT (self));

  if (!can_relay (self, NOOM_EVENT_NAME_MEDIA_STATE))
    return;
  send_event (self, noom_protocol_encode_media_state_request (state), -1);
}

/* --------------------------------------------------------------- GObject */

static void
noom_client_init (NoomClient * self)
{
  self->context = g_main_context_ref_thread_default ();
  /* libsoup 3: a session belongs to the context that is thread-default
   * when it is created */
  self->session = soup_session_new ();
  self->acks = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free,
      pending_ack_free);
  self->next_ack_id = 0;
  self->request_timeout_ms = NOOM_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS;
}

static void
noom_client_dispose (GObject * object)
{
  NoomClient *self = NOOM_CLIENT (object);

  if (self->connect_task) {
    connect_complete (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CANCELLED,
            "The client was destroyed while connecting"));
  }
  teardown (self, TRUE);
  g_clear_object (&self->session);

  G_OBJECT_CLASS (noom_client_parent_class)->dispose (object);
}

static void
noom_client_finalize (GObject * object)
{
  NoomClient *self = NOOM_CLIENT (object);

  g_hash_table_unref (self->acks);
  g_free (self->url);
  g_free (self->id);
  g_free (self->room);
  g_free (self->close_reason);
  g_clear_pointer (&self->auth, json_object_unref);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (noom_client_parent_class)->finalize (object);
}

static void
noom_client_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  NoomClient *self = NOOM_CLIENT (object);

  switch (prop_id) {
    case PROP_ACCEPT_INVALID_CERTIFICATES:
      self->accept_invalid_certificates = g_value_get_boolean (value);
      break;
    case PROP_REQUEST_TIMEOUT:
      self->request_timeout_ms = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
noom_client_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  NoomClient *self = NOOM_CLIENT (object);

  switch (prop_id) {
    case PROP_ACCEPT_INVALID_CERTIFICATES:
      g_value_set_boolean (value, self->accept_invalid_certificates);
      break;
    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, self->request_timeout_ms);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
noom_client_class_init (NoomClientClass * klass)
{
  static const gchar *sent_events[] = {
    NOOM_EVENT_NAME_NICKNAME, NOOM_EVENT_NAME_ENTER_ROOM,
    NOOM_EVENT_NAME_JOIN_ROOM, NOOM_EVENT_NAME_LEAVE_ROOM,
    NOOM_EVENT_NAME_NEW_MESSAGE, NOOM_EVENT_NAME_OFFER,
    NOOM_EVENT_NAME_ANSWER, NOOM_EVENT_NAME_ICE,
    NOOM_EVENT_NAME_OFFER_FAILED, NOOM_EVENT_NAME_MEDIA_STATE,
  };
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  guint i;

  object_class->dispose = noom_client_dispose;
  object_class->finalize = noom_client_finalize;
  object_class->set_property = noom_client_set_property;
  object_class->get_property = noom_client_get_property;

  g_object_class_install_property (object_class,
      PROP_ACCEPT_INVALID_CERTIFICATES,
      g_param_spec_boolean ("accept-invalid-certificates",
          "Accept invalid certificates",
          "Accept a TLS certificate that does not validate (self-signed, "
          "wrong host, expired): for tests and private deployments only",
          FALSE, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (object_class, PROP_REQUEST_TIMEOUT,
      g_param_spec_uint ("request-timeout", "Request timeout",
          "How long to wait for the server's answer to a request (a join) "
          "before failing it with NOOM_CLIENT_ERROR_UNREACHABLE, in ms "
          "(0: wait until the connection drops)", 0, G_MAXINT,
          NOOM_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS));

  signals[SIGNAL_PARTICIPANT_JOINED] =
      g_signal_new ("participant-joined", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      NOOM_TYPE_PARTICIPANT);
  signals[SIGNAL_PARTICIPANT_LEFT] =
      g_signal_new ("participant-left", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      NOOM_TYPE_PARTICIPANT);
  signals[SIGNAL_PARTICIPANT_UPDATED] =
      g_signal_new ("participant-updated", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1,
      NOOM_TYPE_PARTICIPANT);
  signals[SIGNAL_OFFER] =
      g_signal_new ("offer", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_ANSWER] =
      g_signal_new ("answer", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_ICE] =
      g_signal_new ("ice", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      NULL, NULL, NULL, G_TYPE_NONE, 4, G_TYPE_STRING, G_TYPE_UINT,
      G_TYPE_STRING, G_TYPE_STRING);
  /* offer-failed (from, reason): docs/protocol.md §5 offer_failed. */
  signals[SIGNAL_OFFER_FAILED] =
      g_signal_new ("offer-failed", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_STRING);
  signals[SIGNAL_CHAT] =
      g_signal_new ("chat", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
      NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING,
      G_TYPE_STRING);
  /* The detail of "server-error": the events this client sends (an
   * unknown name from the server makes no quark). */
  for (i = 0; i < G_N_ELEMENTS (sent_events); i++)
    g_quark_from_static_string (sent_events[i]);
  signals[SIGNAL_SERVER_ERROR] =
      g_signal_new ("server-error", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST | G_SIGNAL_DETAILED, 0, NULL, NULL, NULL, G_TYPE_NONE,
      2, G_TYPE_STRING, G_TYPE_STRING);
  signals[SIGNAL_MEDIA_RELAY] =
      g_signal_new ("media-relay", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  /* participant-media (id, NoomMediaState): participant_media (§6). */
  signals[SIGNAL_PARTICIPANT_MEDIA] =
      g_signal_new ("participant-media", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING,
      G_TYPE_UINT);
  /* media-bandwidth (base_bitrate): media_bandwidth (§11). */
  signals[SIGNAL_MEDIA_BANDWIDTH] =
      g_signal_new ("media-bandwidth", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_UINT);
  signals[SIGNAL_DISCONNECTED] =
      g_signal_new ("disconnected", G_TYPE_FROM_CLASS (klass),
      G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_ERROR);
}

NoomClient *
noom_client_new (void)
{
  return g_object_new (NOOM_TYPE_CLIENT, NULL);
}
