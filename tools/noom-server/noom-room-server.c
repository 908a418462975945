/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-room-server: the room layer (see noom-room-server.h).  The model
 * (membership, join order) is lib/noom-room, the events' argument checks
 * are lib/noom-event (pure, fuzzed by tests/fuzz/fuzz-room.c), and what
 * goes over the wire is built by lib/noom-protocol; this file adds the
 * checks that need state (tokens, membership), turns events into model
 * calls and model changes into events.
 *
 * Re-entrancy: sending to a socket may close it synchronously (a slow
 * consumer, a dead transport), and the Socket.IO layer then calls our
 * disconnect callback in the middle of a broadcast.  So every entry point
 * runs between enter() and leave(); a disconnect that arrives while busy
 * only marks the connection dead (socket = NULL) and queues it, and leave()
 * finishes it (bye to its room, free) when the outermost entry point
 * returns.  Loops over members skip dead connections.
 *
 * SFU rooms (--sfu, docs/protocol.md §11): the participants that joined
 * listing "sfu" are the relay's (Conn.sfu); the relay learns of them from
 * the join, leave and update objects sent here, their signalling with
 * "~sfu" goes to it, and what it sends comes back through on_relay_*.
 *
 * HTTP participants (WHIP and WHEP, noom-whip.c): a Conn with no socket
 * but a session (Conn.http), always in an SFU room and served by the
 * relay.  They get no events (there is nothing to send them on); the
 * relay's answer, errors, ICE restarts and the end of their connection go
 * to noom-whip through NoomRoomServerHttpCallbacks.  A connection is live
 * while it has a socket or a session (conn_live()); a dead one waits in
 * server->dead for leave() like a disconnected socket.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-cluster.h"
#include "noom-engine.h"
#include "noom-event.h"
#include "noom-metrics.h"
#include "noom-packet.h"
#include "noom-room-server.h"
#include "noom-sdp.h"
#include "noom-token.h"

#define ROOM_CHANGE_INTERVAL_MS 250
/* Bytes per second the lobby flushes may queue in total.  Every client in
 * no room gets the whole list, so a flush costs (clients in no room) x
 * (list size): 10,000 waiting clients and 1,000 rooms make 400 MB.  Past
 * this budget the flushes space out (still at most one list per client per
 * interval, still ending with the latest one) instead of starving joins. */
#define ROOM_CHANGE_BYTES_PER_SEC (64 * 1024 * 1024)

typedef struct _Conn Conn;
typedef struct _PendingJoin PendingJoin;

/* --redis: a join waiting for the join script (cluster_join). */
struct _PendingJoin
{
  NoomRoomServer *self;
  Conn *c;                      /* NULL once it disconnected */
  gchar *id;
  gint64 ack_id;
  gchar *event;
  gchar *room;
  gchar *nickname;
  NoomKind kind;
  NoomMediaFlags sends;
  gboolean sfu;
  gint64 start_us;
};

/* The rate budget belongs to the Engine.IO connection, not to a Socket.IO
 * socket: a client may DISCONNECT and CONNECT again on one WebSocket, and
 * that must not refill its bucket.  Nor may a new connection from the same
 * address: one that closes while it is being limited leaves its bucket in
 * the ledger, and the next connection from that address starts from it.
 * Only limited ones do, so that people behind one NAT do not pass each
 * other their ordinary use; and loopback is exempt unless
 * --limit-loopback, as for the connection limit (behind a reverse proxy
 * on the same host, every client has the proxy's address).  The ledger is
 * shared with the budgets (refcounted), which may outlive the room server
 * by a moment at shutdown. */
typedef struct
{
  guint ref_count;
  GHashTable *by_address;       /* address -> NoomRateLimit* */
} RateLedger;

typedef struct
{
  NoomRateLimit rate;
  RateLedger *ledger;
  gchar *address;
} Budget;

/* Addresses the ledger remembers at most; past that, buckets whose
 * episode of limiting is over are forgotten first, then new ones are not
 * kept. */
#define LEDGER_MAX 65536

struct _Conn
{
  NoomRoomMember member;        /* first: a NoomRoomMember* is a Conn* */
  NoomRoomServer *server;
  NoomSioSocket *socket;        /* NULL once disconnected */
  gpointer http;                /* HTTP participant: its noom-whip session,
                                 * NULL once it left */
  GList http_link;              /* in server->http while it has a session */
  GList lobby_link;             /* in server->lobby while in no room */
  GList pending_link;           /* in server->pending: room_change due now */
  GList dead_link;              /* in server->dead: disconnected while busy */
  gint64 room_change_us;        /* when the last room_change went out */
  guint64 room_change_version;  /* which list it carried */
  gchar *gone_reason;           /* why the connection went, once it did */
  NoomToken *token;             /* with a token secret: what it may do */
  /* --redis: a participant of another node (a member without a socket,
   * kept in step by noom-cluster's messages), NULL for this node's */
  gchar *node;
  PendingJoin *join;            /* --redis: its join waits for Redis */
  guint in_lobby:1;
  guint pending:1;
  guint sfu:1;                  /* in an SFU room, connected to the relay
                                 * (a ghost: to this node's relay) */
  /* --redis, SFU rooms across nodes (docs/server-internals.md): the node
   * whose relay serves this one, NULL for this node's own */
  gchar *media_node;
  guint rehome:1;               /* its media node died: waits for the next */
  guint http_remote:1;          /* a ghost: an HTTP participant */
};

/* The media relay's counters (op "stats") and their /metrics names */
static const struct
{
  const gchar *field, *metric, *help;
} sfu_counters[] = {
  {"bytes_in", "noom_sfu_received_bytes_total",
      "RTP bytes the media relay received from publishers."},
  {"packets_in", "noom_sfu_received_packets_total",
      "RTP packets the media relay received from publishers."},
  {"bytes_out", "noom_sfu_forwarded_bytes_total",
      "RTP bytes the media relay sent to subscribers."},
  {"packets_out", "noom_sfu_forwarded_packets_total",
      "RTP packets the media relay sent to subscribers."},
  {"keyframe_requests", "noom_sfu_keyframe_requests_total",
      "Keyframe requests (PLI) the media relay sent to publishers: for "
        "newcomers, subscribers that lost the picture, and lost packets."},
  {"packets_lost", "noom_sfu_lost_packets_total",
      "Packets from publishers lost for good: asked for again (NACK) and "
        "never received."},
  {"nacked_packets", "noom_sfu_nacked_packets_total",
      "Sequence numbers in the NACKs the media relay sent publishers, each "
        "time it asked."},
  {"nacks_received", "noom_sfu_received_nacks_total",
      "NACK messages subscribers sent the media relay (packets they lost)."},
  {"keyframe_requests_received", "noom_sfu_received_keyframe_requests_total",
      "Keyframe requests (PLI, FIR) subscribers sent the media relay."},
};

#define SFU_COUNTERS G_N_ELEMENTS (sfu_counters)

struct _NoomRoomServer
{
  NoomRoomServerConfig config;
  NoomSioServer *sio;
  NoomRoomSet *rooms;
  /* noom_room_server_stop(): the server goes away, nobody leaves */
  gboolean stopping;

  GQueue lobby;                 /* Conn*, in no room */
  GQueue pending;               /* Conn*, to get room_change soon */
  GQueue dead;                  /* Conn*, disconnected while busy */
  GQueue http;                  /* Conn*, live HTTP participants */
  guint busy;

  const NoomRoomServerHttpCallbacks *http_callbacks;
  gpointer http_user_data;

  guint flush_source;           /* lobby flush timer */
  guint pending_source;         /* idle for pending */
  gint64 next_flush_us;         /* no lobby flush before this */
  GBytes *list_frame;           /* room_change frame of list_version */
  guint64 list_frame_version;

  RateLedger *ledger;           /* rate budgets of addresses */

  /* --redis: the other nodes' participants, id -> Conn, and how many
   * heartbeats in a row each of their nodes was missing (node -> count) */
  GHashTable *ghosts;
  GHashTable *missing;
  GHashTable *claiming;         /* rooms whose new media node is asked for */

  /* GET /metrics */
  guint64 n_events[NOOM_EVENT_LAST + 1];
  guint64 n_unknown_events;
  guint64 n_invalid_events;     /* known, with bad arguments */
  guint64 n_refused_joins[NOOM_ROOM_ERROR_UNAVAILABLE + 1];
  guint64 n_rate_limited;
  /* the media relay's op "stats": gauges as it last said, counters as it
   * last said plus what relays that stopped had counted */
  gint64 sfu_tracks, sfu_forwards;
  guint64 sfu_last[SFU_COUNTERS], sfu_base[SFU_COUNTERS];
  JsonArray *sfu_links;         /* its subscribers' links, as it last said */
  NoomHistogram join_latency;

  gint64 refused_window_us;     /* start of the refused-CONNECT log window */
  guint refused_logged;         /* lines logged in that window */
  guint refused_folded;         /* refusals not logged in that window */
};

/* Refused CONNECTs cost the client nothing (it may send CONNECT again and
 * again on one session), so their log lines are capped per window. */
#define REFUSED_LOG_WINDOW_US (10 * G_USEC_PER_SEC)
#define REFUSED_LOG_MAX 20

static void conn_finish (NoomRoomServer * self, Conn * c);

void
noom_room_server_config_init (NoomRoomServerConfig * config)
{
  memset (config, 0, sizeof (*config));
  noom_room_limits_init (&config->limits);
  config->rate_limit = 50;
  config->rate_burst = 200;
  config->room_change_interval_ms = ROOM_CHANGE_INTERVAL_MS;
}

/* ---------------------------------------------------------------- helpers */

static void
enter (NoomRoomServer * self)
{
  self->busy++;
}

static void
leave (NoomRoomServer * self)
{
  if (self->busy == 1) {
    GList *l;

    /* conn_finish may send bye, which may kill more connections: they
     * are appended to the queue and handled in this same loop. */
    while ((l = g_queue_peek_head_link (&self->dead)) != NULL) {
      g_queue_unlink (&self->dead, l);
      conn_finish (self, l->data);
    }
  }
  self->busy--;
}

static const gchar *
conn_id (Conn * c)
{
  return c->member.id;
}

/* Not disconnected: a socket, or an HTTP participant's session. */
static gboolean
conn_live (Conn * c)
{
  return c->socket != NULL || c->http != NULL;
}

static void
conn_send (Conn * c, GBytes * frame)
{
  if (c->socket)
    noom_sio_socket_send_frame (c->socket, frame);
}

/* Client text for a log line: clipped like noom_event_clip(), with
 * control characters (which could forge log lines) written as \xNN. */
static gchar *
log_text (const gchar * s, guint max)
{
  g_autofree gchar *clipped = noom_event_clip (s, max);
  GString *out = g_string_sized_new (strlen (clipped));
  const gchar *p;

  for (p = clipped; *p; p = g_utf8_next_char (p)) {
    gunichar ch = g_utf8_get_char (p);

    if (ch < 0x20 || (ch >= 0x7f && ch <= 0x9f) || ch == '\\')
      g_string_append_printf (out, "\\x%02x", ch);
    else
      g_string_append_unichar (out, ch);
  }
  return g_string_free (out, FALSE);
}

/* @m as the wire shows it (docs/protocol.md §3); the strings are @m's. */
static NoomParticipant
member_participant (const NoomRoomMember * m)
{
  NoomParticipant p = {
    .id = (gchar *) m->id,
    .nickname = (gchar *) noom_room_member_get_nickname (m),
    .kind = (gchar *) noom_kind_to_string (m->kind),
    .sends = m->sends,
    .state = m->state,
    .features = m->features,
  };

  return p;
}

/* Send @event (a lib/noom-protocol event array) to @c. */
static void
conn_emit (Conn * c, JsonArray * event)
{
  g_autoptr (GBytes) frame = noom_sio_frame_event_array (event, -1);

  conn_send (c, frame);
}

/* Encode @event once and send it to every live member of @room but
 * @except (may be NULL).  Takes @event. */
static void
broadcast (NoomRoom * room, Conn * except, JsonArray * event)
{
  g_autoptr (GBytes) frame = noom_sio_frame_event_array (event, -1);
  guint i, n = noom_room_get_count (room);

  json_array_unref (event);
  for (i = 0; i < n; i++) {
    Conn *m = (Conn *) noom_room_get_member (room, i);

    if (m != except)
      conn_send (m, frame);
  }
}

/* broadcast(), and to the members of @room on the other nodes (--redis):
 * for what only the sender's node knows (chat, relays to the room). */
static void
broadcast_cluster (NoomRoomServer * self, NoomRoom * room, Conn * except,
    JsonArray * event)
{
  g_autoptr (GBytes) frame = noom_sio_frame_event_array (event, -1);
  guint i, j, n = noom_room_get_count (room);
  /* The nodes with members here: a room is small (max_room_size), and
   * has members on few nodes. */
  g_autoptr (GPtrArray) nodes = NULL;

  json_array_unref (event);
  for (i = 0; i < n; i++) {
    Conn *m = (Conn *) noom_room_get_member (room, i);

    if (m->node) {
      if (nodes == NULL)
        nodes = g_ptr_array_new ();
      for (j = 0; j < nodes->len && strcmp (nodes->pdata[j], m->node); j++);
      if (j == nodes->len)
        g_ptr_array_add (nodes, m->node);
    } else if (m != except) {
      conn_send (m, frame);
    }
  }
  for (i = 0; nodes && i < nodes->len; i++)
    noom_cluster_emit_room (self->config.cluster, nodes->pdata[i],
        noom_room_get_name (room), except ? conn_id (except) : NULL, frame);
}

/* Answer request @ack_id of @c with @answer (a lib/noom-protocol answer;
 * taken). */
static void
ack (Conn * c, gint64 ack_id, JsonArray * answer)
{
  if (ack_id >= 0 && c->socket != NULL)
    noom_sio_socket_ack (c->socket, ack_id, answer);
  json_array_unref (answer);
}

/* A refusal in the ack, or noom_error when there is no ack. */
static void
send_error (Conn * c, const gchar * event, gint64 ack_id, NoomRoomError code,
    const gchar * message)
{
  if (ack_id >= 0) {
    ack (c, ack_id, noom_protocol_encode_refusal (code, message));
  } else {
    g_autoptr (JsonArray) error = noom_protocol_encode_error (code, message,
        event);

    conn_emit (c, error);
  }
}

/* The one way a request fails (docs/protocol.md §4): send_error(); one
 * log line. */
static void
reply_error (Conn * c, const gchar * event, gint64 ack_id, NoomRoomError code,
    const gchar * message)
{
  g_autofree gchar *log_event = log_text (event, 64);
  g_autofree gchar *log_message = log_text (message, 256);

  g_message ("error id=%s event=\"%s\" code=%s: %s", conn_id (c), log_event,
      noom_room_error_to_code (code), log_message);
  if ((strcmp (event, NOOM_EVENT_NAME_JOIN_ROOM) == 0
          || strcmp (event, NOOM_EVENT_NAME_ENTER_ROOM) == 0)
      && (guint) code < G_N_ELEMENTS (c->server->n_refused_joins))
    c->server->n_refused_joins[code]++;
  send_error (c, event, ack_id, code, message);
}

static void
reply_gerror (Conn * c, const gchar * event, gint64 ack_id,
    const GError * error)
{
  reply_error (c, event, ack_id, error->code, error->message);
}

/* ------------------------------------------------------------- room list */

static GBytes *
list_frame (NoomRoomServer * self)
{
  guint64 version = noom_room_set_get_list_version (self->rooms);

  if (self->list_frame == NULL || self->list_frame_version != version) {
    g_autoptr (GPtrArray) list = noom_room_set_list (self->rooms);
    g_autofree NoomRoomEntry *entries = g_new (NoomRoomEntry, list->len);
    g_autoptr (JsonArray) event = NULL;
    guint i;

    for (i = 0; i < list->len; i++) {
      entries[i].name = noom_room_get_name (list->pdata[i]);
      entries[i].count = noom_room_get_count (list->pdata[i]);
    }
    event = noom_protocol_encode_room_change (entries, list->len);
    g_clear_pointer (&self->list_frame, g_bytes_unref);
    self->list_frame = noom_sio_frame_event_array (event, -1);
    self->list_frame_version = version;
  }
  return self->list_frame;
}

/* Send the current list to @c if it lacks it and its last room_change is
 * at least one interval old.  Returns FALSE when it must wait.  Adds the
 * bytes queued to *sent. */
static gboolean
lobby_send (NoomRoomServer * self, Conn * c, gint64 now, gsize * sent)
{
  guint64 version = noom_room_set_get_list_version (self->rooms);
  gint64 interval = self->config.room_change_interval_ms * (gint64) 1000;

  if (c->socket == NULL || c->room_change_version == version)
    return TRUE;
  if (c->room_change_us != 0 && now - c->room_change_us < interval)
    return FALSE;
  conn_send (c, list_frame (self));
  *sent += g_bytes_get_size (self->list_frame);
  c->room_change_us = now;
  c->room_change_version = version;
  return TRUE;
}

static void schedule_flush (NoomRoomServer * self);

/* The coalescing timer: at most one run per interval; every client in no
 * room that lacks the latest list and may receive gets it.  A client that
 * got a list less than an interval ago waits for the next run, which is
 * then scheduled: the last list always arrives. */
static gboolean
flush_cb (gpointer data)
{
  NoomRoomServer *self = data;
  gint64 now = g_get_monotonic_time ();
  gboolean again = FALSE;
  gsize sent = 0;
  gint64 pause;
  GList *l;

  self->flush_source = 0;
  enter (self);
  for (l = self->lobby.head; l; l = l->next)
    if (!lobby_send (self, l->data, now, &sent))
      again = TRUE;
  leave (self);
  pause = MAX (self->config.room_change_interval_ms * (gint64) 1000,
      (gint64) (sent * (gdouble) G_USEC_PER_SEC / ROOM_CHANGE_BYTES_PER_SEC));
  self->next_flush_us = now + pause;
  if (again)
    schedule_flush (self);
  return G_SOURCE_REMOVE;
}

static void
schedule_flush (NoomRoomServer * self)
{
  gint64 due, now;

  if (self->flush_source != 0 || self->lobby.length == 0)
    return;
  now = g_get_monotonic_time ();
  due = self->next_flush_us;
  self->flush_source = g_timeout_add (due > now ? (due - now + 999) / 1000 : 0,
      flush_cb, self);
}

static gboolean
pending_cb (gpointer data)
{
  NoomRoomServer *self = data;
  gint64 now = g_get_monotonic_time ();
  gsize sent = 0;
  GList *l;

  self->pending_source = 0;
  enter (self);
  while ((l = g_queue_peek_head_link (&self->pending)) != NULL) {
    Conn *c = l->data;

    g_queue_unlink (&self->pending, l);
    c->pending = FALSE;
    if (c->in_lobby && !lobby_send (self, c, now, &sent))
      schedule_flush (self);
  }
  leave (self);
  return G_SOURCE_REMOVE;
}

/* @c is now in no room: it gets the list right away (from the main loop,
 * so after the CONNECT answer or the leave_room ack). */
static void
lobby_enter (NoomRoomServer * self, Conn * c)
{
  /* Private rooms are listed to no one; a token for one room does not
   * show the others (nor their names). */
  if (self->config.private_rooms)
    return;
  if (c->token && strcmp (c->token->room, "*") != 0)
    return;
  if (!c->in_lobby) {
    g_queue_push_tail_link (&self->lobby, &c->lobby_link);
    c->in_lobby = TRUE;
  }
  if (!c->pending) {
    g_queue_push_tail_link (&self->pending, &c->pending_link);
    c->pending = TRUE;
  }
  if (self->pending_source == 0)
    self->pending_source = g_idle_add (pending_cb, self);
}

static void
lobby_exit (NoomRoomServer * self, Conn * c)
{
  if (c->in_lobby) {
    g_queue_unlink (&self->lobby, &c->lobby_link);
    c->in_lobby = FALSE;
  }
  if (c->pending) {
    g_queue_unlink (&self->pending, &c->pending_link);
    c->pending = FALSE;
  }
}

/* ------------------------------------------------------------- the relay */

/* {"op", "room", ...} for the relay (docs/server-internals.md). */
static JsonObject *
relay_message (const gchar * op, Conn * c)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "op", op);
  json_object_set_string_member (o, "room",
      noom_room_get_name (c->member.room));
  return o;
}

/* @o, about @c, to the relay that serves @c: this node's, or its media
 * node's (--redis: the room's media is another node's). */
static void
relay_send (NoomRoomServer * self, Conn * c, JsonObject * o)
{
  if (c->media_node && self->config.cluster)
    noom_cluster_relay (self->config.cluster, c->media_node, TRUE,
        noom_room_get_name (c->member.room), conn_id (c), o);
  else
    noom_relay_link_send (self->config.relay, o);
}

/* join or update: {"op", "room", "participant"} */
static void
relay_send_participant (NoomRoomServer * self, Conn * c, const gchar * op)
{
  g_autoptr (JsonObject) o = relay_message (op, c);
  NoomParticipant p = member_participant (&c->member);

  json_object_set_member (o, "participant",
      noom_protocol_encode_participant (&p));
  relay_send (self, c, o);
}

/* Every participant this node's relay serves: live members, and the
 * ghosts whose node sends their signalling here (SFU rooms across
 * nodes). */
static void
foreach_sfu_conn (NoomRoomServer * self, void (*func) (NoomRoomServer * self,
        Conn * c, gpointer data), gpointer data)
{
  g_autoptr (GPtrArray) rooms = noom_room_set_list (self->rooms);
  guint i, j;

  for (i = 0; i < rooms->len; i++) {
    NoomRoom *room = rooms->pdata[i];

    for (j = 0; j < noom_room_get_count (room); j++) {
      Conn *m = (Conn *) noom_room_get_member (room, j);

      if (m->sfu && m->media_node == NULL && (conn_live (m) || m->node))
        func (self, m, data);
    }
  }
}

static void
relay_rejoin (NoomRoomServer * self, Conn * c, gpointer data)
{
  /* HTTP participants left when the relay stopped (on_relay_down). */
  if (c->http || c->http_remote)
    return;
  relay_send_participant (self, c, "join");
}

static void
emit_frame (NoomRoomServer * self, Conn * c, gpointer data)
{
  if (c->node)
    noom_cluster_emit_to (self->config.cluster, c->node,
        noom_room_get_name (c->member.room), conn_id (c), data);
  else
    conn_send (c, data);
}

/* media_relay({state}) to everyone the relay serves. */
static void
broadcast_media_relay (NoomRoomServer * self, const gchar * state)
{
  g_autoptr (JsonArray) event = noom_protocol_encode_media_relay (state);
  g_autoptr (GBytes) frame = noom_sio_frame_event_array (event, -1);

  foreach_sfu_conn (self, emit_frame, frame);
}

static void
on_relay_ready (gboolean restarted, gpointer user_data)
{
  NoomRoomServer *self = user_data;
  guint i;

  enter (self);
  /* A new relay knows no one yet, and counts from 0: what the last one
   * counted stays in the totals of /metrics. */
  for (i = 0; i < SFU_COUNTERS; i++) {
    self->sfu_base[i] += self->sfu_last[i];
    self->sfu_last[i] = 0;
  }
  self->sfu_tracks = self->sfu_forwards = 0;
  g_clear_pointer (&self->sfu_links, json_array_unref);
  foreach_sfu_conn (self, relay_rejoin, NULL);
  if (restarted)
    broadcast_media_relay (self, NOOM_MEDIA_RELAY_STATE_READY);
  leave (self);
}

/* @c, an HTTP participant, is dead from now on; leave() finishes it (bye
 * to the others, leave to the relay). */
static void
http_remove (NoomRoomServer * self, Conn * c, const gchar * reason)
{
  g_queue_unlink (&self->http, &c->http_link);
  c->http = NULL;
  g_free (c->gone_reason);
  c->gone_reason = g_strdup (reason);
  g_queue_push_tail_link (&self->dead, &c->dead_link);
}

/* The server removes @c (the relay lost it, or stopped): noom-whip
 * forgets its session. */
static void
http_gone (NoomRoomServer * self, Conn * c, const gchar * reason)
{
  gpointer session = c->http;

  http_remove (self, c, reason);
  if (self->http_callbacks)
    self->http_callbacks->gone (session, reason, self->http_user_data);
}

static void
remote_http_gone (NoomRoomServer * self, Conn * c, gpointer data)
{
  g_autoptr (JsonObject) o = NULL;

  if (!c->http_remote)
    return;
  o = relay_message ("gone", c);
  json_object_set_string_member (o, "to", conn_id (c));
  json_object_set_string_member (o, "reason", "the media relay stopped");
  noom_cluster_relay (self->config.cluster, c->node, FALSE,
      noom_room_get_name (c->member.room), conn_id (c), o);
  c->sfu = FALSE;
}

static void
on_relay_down (gpointer user_data)
{
  NoomRoomServer *self = user_data;

  enter (self);
  /* A WHIP or WHEP client has no way to get a new offer: its connection
   * was with the relay that stopped, so it leaves now (and its session
   * URL answers 404).  It publishes or plays again with a new POST. */
  while (self->http.head)
    http_gone (self, self->http.head->data, "the media relay stopped");
  /* And so do those of other nodes (their node makes them leave). */
  foreach_sfu_conn (self, remote_http_gone, NULL);
  broadcast_media_relay (self, NOOM_MEDIA_RELAY_STATE_RESTARTING);
  leave (self);
}

/* The member @id of the room named @room_name (either nullable), or NULL. */
static Conn *
member_of (NoomRoomServer * self, const gchar * room_name, const gchar * id)
{
  NoomRoom *room = room_name && id ?
      noom_room_set_lookup (self->rooms, room_name) : NULL;

  return room ? (Conn *) noom_room_find_member (room, id) : NULL;
}

/* The participant a relay object is for: "to" in "room", if it is still
 * there and served by the relay. */
static Conn *
relay_target (NoomRoomServer * self, const gchar * op, JsonObject * m)
{
  const gchar *room_name, *to;
  Conn *c;

  room_name = noom_json_node_get_string (json_object_get_member (m, "room"));
  to = noom_json_node_get_string (json_object_get_member (m, "to"));
  if (room_name == NULL || to == NULL) {
    g_message ("relay: skipped \"%s\" without room or to", op);
    return NULL;
  }
  c = member_of (self, room_name, to);
  if (c == NULL || !conn_live (c) || !c->sfu) {
    /* It left meanwhile: the relay has its leave on the way. */
    g_debug ("relay: \"%s\" for %s, no longer in the room", op, to);
    return NULL;
  }
  return c;
}

/* The relay's objects for HTTP participants (docs/server-internals.md,
 * "The control channel"): answer, error, restarted and gone go to
 * noom-whip; ice and offer are dropped (WHIP has no server-to-client
 * trickle: the answer carries the relay's candidates).  answer,
 * restarted and gone are only for HTTP participants (gone for another is
 * logged).  Returns FALSE when the caller has @m to handle: offer, ice or
 * error for a Socket.IO participant. */
static gboolean
on_relay_http_message (NoomRoomServer * self, const gchar * op, JsonObject * m)
{
  const NoomRoomServerHttpCallbacks *cb = self->http_callbacks;
  gpointer data = self->http_user_data;
  JsonNode *node;
  Conn *c;

  if (strcmp (op, "answer") != 0 && strcmp (op, "error") != 0
      && strcmp (op, "restarted") != 0 && strcmp (op, "gone") != 0
      && strcmp (op, NOOM_EVENT_NAME_OFFER) != 0
      && strcmp (op, NOOM_EVENT_NAME_ICE) != 0)
    return FALSE;
  c = relay_target (self, op, m);
  if (c == NULL)
    return TRUE;                /* relay_target() said why */
  if (c->http == NULL) {
    if (strcmp (op, "gone") == 0) {
      g_autofree gchar *reason = log_text (noom_json_node_get_string
          (json_object_get_member (m, "reason")), 256);

      g_info ("relay: gone for %s: %s", conn_id (c), reason);
      return TRUE;
    }
    if (strcmp (op, "answer") == 0 || strcmp (op, "restarted") == 0) {
      g_message ("relay: skipped \"%s\" for %s, not an HTTP participant", op,
          conn_id (c));
      return TRUE;
    }
    return FALSE;
  }

  if (strcmp (op, NOOM_EVENT_NAME_OFFER) == 0
      || strcmp (op, NOOM_EVENT_NAME_ICE) == 0) {
    g_debug ("relay: dropped \"%s\" for %s, an HTTP participant", op,
        conn_id (c));
  } else if (strcmp (op, "answer") == 0) {
    JsonObject *d = NULL;
    const gchar *sdp = NULL;

    node = json_object_get_member (m, "description");
    if (node && JSON_NODE_HOLDS_OBJECT (node))
      d = json_node_get_object (node);
    if (d)
      sdp = noom_json_node_get_string (json_object_get_member (d, "sdp"));
    if (sdp == NULL)
      g_message ("relay: skipped an answer without a description");
    else if (cb)
      cb->answer (c->http, sdp, data);
  } else if (strcmp (op, "error") == 0) {
    const gchar *code =
        noom_json_node_get_string (json_object_get_member (m, "code"));
    const gchar *message =
        noom_json_node_get_string (json_object_get_member (m, "message"));

    if (code == NULL || message == NULL)
      g_message ("relay: skipped an error without code or message");
    else if (cb)
      cb->error (c->http, code, message, data);
  } else if (strcmp (op, "restarted") == 0) {
    const gchar *ufrag =
        noom_json_node_get_string (json_object_get_member (m, "ufrag"));
    const gchar *pwd =
        noom_json_node_get_string (json_object_get_member (m, "pwd"));
    g_autoptr (GPtrArray) candidates = g_ptr_array_new ();
    JsonArray *array = NULL;
    guint i;

    node = json_object_get_member (m, "candidates");
    if (node && JSON_NODE_HOLDS_ARRAY (node))
      array = json_node_get_array (node);
    for (i = 0; array && i < json_array_get_length (array); i++) {
      const gchar *candidate =
          noom_json_node_get_string (json_array_get_element (array, i));

      if (candidate)
        g_ptr_array_add (candidates, (gpointer) candidate);
    }
    g_ptr_array_add (candidates, NULL);
    if (ufrag == NULL || pwd == NULL)
      g_message ("relay: skipped a restarted without ufrag or pwd");
    else if (cb)
      cb->restarted (c->http, ufrag, pwd,
          (const gchar * const *) candidates->pdata, data);
  } else {
    const gchar *reason =
        noom_json_node_get_string (json_object_get_member (m, "reason"));
    g_autofree gchar *why = g_strdup_printf ("the media relay lost it: %s",
        reason ? reason : "no reason given");
    g_autofree gchar *log_why = log_text (why, 256);

    http_gone (self, c, log_why);
  }
  return TRUE;
}

/* The media relay's counters (op "stats", every 2 s), in the order of
 * sfu_counters. */
static void
on_relay_stats (NoomRoomServer * self, JsonObject * m)
{
  guint i;

  self->sfu_tracks = MAX (0, json_object_get_int_member_with_default (m,
          "tracks", 0));
  self->sfu_forwards = MAX (0, json_object_get_int_member_with_default (m,
          "branches", 0));
  for (i = 0; i < SFU_COUNTERS; i++) {
    gint64 v = json_object_get_int_member_with_default (m,
        sfu_counters[i].field, 0);

    if (v < 0)
      continue;
    /* (a new process counts from 0: on_relay_ready() keeps the last
     * one's) */
    self->sfu_last[i] = v;
  }
  g_clear_pointer (&self->sfu_links, json_array_unref);
  if (json_object_has_member (m, "links") &&
      JSON_NODE_HOLDS_ARRAY (json_object_get_member (m, "links")))
    self->sfu_links = json_array_ref (json_object_get_array_member (m,
            "links"));
}

/* --redis: @m, from this node's relay, is for a participant of another
 * node: it goes there (noom_cluster_relay), where relay_handle() takes
 * it. */
static gboolean
relay_to_node (NoomRoomServer * self, const gchar * op, JsonObject * m)
{
  const gchar *room_name, *to;
  Conn *c;

  if (self->config.cluster == NULL)
    return FALSE;
  room_name = noom_json_node_get_string (json_object_get_member (m, "room"));
  to = noom_json_node_get_string (json_object_get_member (m, "to"));
  c = member_of (self, room_name, to);
  if (c == NULL || c->node == NULL)
    return FALSE;
  if (c->sfu)
    noom_cluster_relay (self->config.cluster, c->node, FALSE, room_name, to, m);
  else
    g_debug ("relay: \"%s\" for %s, no longer served here", op, to);
  return TRUE;
}

/* What the relay that serves them (this node's, or their media node's)
 * says for this node's participants. */
static void
relay_handle (NoomRoomServer * self, const gchar * op, JsonObject * m)
{
  g_autoptr (JsonArray) out = NULL;
  JsonNode *payload;
  Conn *c;

  if (on_relay_http_message (self, op, m)) {
    /* for an HTTP participant */
  } else if (strcmp (op, NOOM_EVENT_NAME_OFFER) == 0) {
    payload = json_object_get_member (m, "description");
    if (payload == NULL || !JSON_NODE_HOLDS_OBJECT (payload)) {
      g_message ("relay: skipped an offer without a description");
    } else if ((c = relay_target (self, op, m)) != NULL) {
      out = noom_protocol_encode_relay (NOOM_EVENT_OFFER, payload,
          NOOM_SFU_RELAY_ID);
      conn_emit (c, out);
    }
  } else if (strcmp (op, NOOM_EVENT_NAME_ICE) == 0) {
    payload = json_object_get_member (m, "candidate");
    if (payload == NULL || !(JSON_NODE_HOLDS_OBJECT (payload)
            || JSON_NODE_HOLDS_NULL (payload))) {
      g_message ("relay: skipped an ice without a candidate");
    } else if ((c = relay_target (self, op, m)) != NULL) {
      out = noom_protocol_encode_relay (NOOM_EVENT_ICE, payload,
          NOOM_SFU_RELAY_ID);
      conn_emit (c, out);
    }
  } else if (strcmp (op, "error") == 0) {
    const gchar *code =
        noom_json_node_get_string (json_object_get_member (m, "code"));
    const gchar *message =
        noom_json_node_get_string (json_object_get_member (m, "message"));

    if (code == NULL || message == NULL) {
      g_message ("relay: skipped an error without code or message");
    } else if ((c = relay_target (self, op, m)) != NULL) {
      g_autofree gchar *log_message = log_text (message, 256);

      g_message ("error id=%s event=\"offer\" code=%s: %s (from the relay)",
          conn_id (c), code, log_message);
      out = noom_protocol_encode_error_code (code, message,
          NOOM_EVENT_NAME_OFFER);
      conn_emit (c, out);
    }
  } else if (strcmp (op, NOOM_EVENT_NAME_MEDIA_BANDWIDTH) == 0) {
    gint64 base = -1;

    if (!noom_json_node_get_int (json_object_get_member (m, "base_bitrate"),
            &base) || base < 0 || base > G_MAXUINT) {
      g_message ("relay: skipped a media_bandwidth without base_bitrate");
    } else if ((c = relay_target (self, op, m)) != NULL) {
      out = noom_protocol_encode_media_bandwidth ((guint) base);
      conn_emit (c, out);
    }
  } else if (strcmp (op, "stats") == 0) {
    on_relay_stats (self, m);
  } else {
    g_autofree gchar *log_op = log_text (op, 64);

    g_message ("relay: skipped unknown op \"%s\"", log_op);
  }
}

static void
on_relay_message (const gchar * op, JsonObject * m, gpointer user_data)
{
  NoomRoomServer *self = user_data;

  enter (self);
  if (!relay_to_node (self, op, m))
    relay_handle (self, op, m);
  leave (self);
}

/* --------------------------------------------------------------- leaving */

/* @tell: the other nodes learn of it (--redis); not when they already
 * did (a switch the join script made, a remote participant). */
static void
room_leave (NoomRoomServer * self, Conn * c, const gchar * why, gboolean tell)
{
  NoomRoom *room = c->member.room;
  NoomParticipant p = member_participant (&c->member);
  g_autofree gchar *name = g_strdup (noom_room_get_name (room));
  guint count = noom_room_get_count (room) - 1;

  if (c->sfu) {
    g_autoptr (JsonObject) o = relay_message ("leave", c);

    json_object_set_string_member (o, "id", conn_id (c));
    relay_send (self, c, o);
    c->sfu = FALSE;
  }
  g_clear_pointer (&c->media_node, g_free);
  c->rehome = FALSE;
  /* When the server stops, every connection closes: a bye would tell the
   * others that this participant left, while it is the server that goes
   * (docs/protocol.md §8). */
  if (!self->stopping)
    broadcast (room, c, noom_protocol_encode_bye (&p, count));
  if (tell && self->config.cluster && c->node == NULL)
    noom_cluster_leave (self->config.cluster, name, conn_id (c), why);
  noom_room_set_leave (self->rooms, &c->member);
  g_message ("leave room=\"%s\" id=%s count=%u reason=\"%s\"%s%s", name,
      conn_id (c), count, why, c->node ? " node=" : "", c->node ? c->node : "");
  schedule_flush (self);
}

static void
conn_finish (NoomRoomServer * self, Conn * c)
{
  if (c->join)
    c->join->c = NULL;
  if (c->member.room)
    room_leave (self, c, c->gone_reason ? c->gone_reason : "disconnect", TRUE);
  lobby_exit (self, c);
  noom_room_member_clear (&c->member);
  g_free (c->gone_reason);
  noom_token_free (c->token);
  g_free (c);
}

/* ------------------------------------------------------- other nodes */

/* The string member @name of @o, or @fallback when it is missing or not
 * a string (what comes from Redis is not trusted). */
static const gchar *
str_member (JsonObject * o, const gchar * name, const gchar * fallback)
{
  const gchar *v = noom_json_node_get_string (json_object_get_member (o,
          name));

  return v ? v : fallback;
}



/* --redis: every node keeps the other nodes' participants of every room
 * as members without a socket ("ghosts"): the room list, the join answer
 * and the capacity see them, sending to them is a no-op, and what is
 * addressed to one goes to its node (noom_cluster_emit_to).  Their
 * welcome, bye and updates are made here from the cluster's messages. */

static JsonNode *
participant_node (Conn * c)
{
  NoomParticipant p = member_participant (&c->member);

  return noom_protocol_encode_participant (&p);
}

static void
cluster_update (NoomRoomServer * self, Conn * c)
{
  g_autoptr (JsonNode) p = NULL;

  if (self->config.cluster == NULL || c->node || c->member.room == NULL)
    return;
  p = participant_node (c);
  noom_cluster_update (self->config.cluster,
      noom_room_get_name (c->member.room), p);
}

static void
ghost_free (Conn * c)
{
  noom_room_member_clear (&c->member);
  g_free (c->node);
  g_free (c->media_node);
  g_free (c);
}

/* @c, a ghost, leaves: bye to the local members. */
static void
ghost_remove (NoomRoomServer * self, Conn * c, const gchar * why)
{
  g_hash_table_remove (self->ghosts, conn_id (c));
  if (c->member.room)
    room_leave (self, c, why, FALSE);
  ghost_free (c);
}

/* A nickname or media state of @c changed: tell the local members. */
static void
ghost_update (NoomRoomServer * self, Conn * c, const NoomParticipant * p)
{
  gboolean changed = FALSE;
  NoomParticipant now;

  if (!noom_room_member_set_nickname (&c->member, p->nickname,
          &self->config.limits, &changed, NULL))
    return;
  if (changed) {
    now = member_participant (&c->member);
    broadcast (c->member.room, c,
        noom_protocol_encode_participant_update (&now));
  }
  if (noom_room_member_set_state (&c->member, p->state, NOOM_MEDIA_STATE_ALL))
    broadcast (c->member.room, c,
        noom_protocol_encode_participant_media (conn_id (c), c->member.state));
}

/* @participant of @node is in @room: add it (welcome to the local
 * members), move it, or update it.  What Redis holds is input: anything
 * that does not check is skipped. */
static void
ghost_join (NoomRoomServer * self, const gchar * node, const gchar * room_name,
    JsonObject * participant)
{
  g_autoptr (NoomParticipant) p = NULL;
  g_autoptr (GError) error = NULL;
  NoomParticipant now;
  NoomKind kind;
  NoomRoom *room;
  Conn *c;

  p = noom_protocol_decode_participant (participant, &error);
  if (p == NULL || !*p->id || strlen (p->id) > NOOM_ROOM_MEMBER_ID_MAX
      || !noom_kind_from_string (p->kind, &kind)
      || !noom_room_validate_name (room_name, -1,
          self->config.limits.max_room_name, "room name", NULL)) {
    g_message ("redis: skipped a malformed participant of node %s", node);
    return;
  }
  c = g_hash_table_lookup (self->ghosts, p->id);
  if (c && strcmp (c->node, node) == 0 && c->member.room
      && strcmp (noom_room_get_name (c->member.room), room_name) == 0) {
    ghost_update (self, c, p);
    return;
  }
  if (c)
    ghost_remove (self, c, "switch");
  room = noom_room_set_lookup (self->rooms, room_name);
  if (room && noom_room_find_member (room, p->id))
    return;                     /* one of ours: not from another node */

  c = g_new0 (Conn, 1);
  noom_room_member_init (&c->member, p->id);
  c->server = self;
  c->node = g_strdup (node);
  c->lobby_link.data = c;
  c->pending_link.data = c;
  c->dead_link.data = c;
  if (!noom_room_member_set_nickname (&c->member, p->nickname,
          &self->config.limits, NULL, NULL))
    noom_room_member_set_nickname (&c->member, NULL, &self->config.limits,
        NULL, NULL);
  noom_room_member_set_kind (&c->member, kind, p->sends);
  noom_room_member_set_features (&c->member, p->features);
  noom_room_member_set_state (&c->member, p->state, NOOM_MEDIA_STATE_ALL);
  room = noom_room_set_join (self->rooms, &c->member, room_name);
  g_hash_table_insert (self->ghosts, c->member.id, c);
  g_message ("join room=\"%s\" id=%s nickname=\"%s\" kind=%s count=%u "
      "node=%s", room_name, conn_id (c),
      noom_room_member_get_nickname (&c->member),
      noom_kind_to_string (kind), noom_room_get_count (room), node);
  now = member_participant (&c->member);
  broadcast (room, c, noom_protocol_encode_welcome (&now,
          noom_room_get_count (room)));
  schedule_flush (self);
}

static void
ghost_leave (NoomRoomServer * self, JsonObject * o)
{
  const gchar *id = str_member (o, "id", "");
  const gchar *room = str_member (o, "room",
      "");
  const gchar *reason = str_member (o,
      "reason", "left");
  g_autofree gchar *why = log_text (reason, 128);
  Conn *c = g_hash_table_lookup (self->ghosts, id);

  if (c && c->member.room
      && strcmp (noom_room_get_name (c->member.room), room) == 0)
    ghost_remove (self, c, why);
}

/* Every ghost of @node, or of every node but ours when NULL. */
static GPtrArray *
ghosts_of (NoomRoomServer * self, const gchar * node)
{
  GPtrArray *out = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->ghosts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (node == NULL || strcmp (((Conn *) value)->node, node) == 0)
      g_ptr_array_add (out, value);
  return out;
}

/* @node's members are exactly @members ({"room","participant"}, plus
 * "node" in a snapshot, where @node is NULL and @registered says which
 * nodes' ghosts the snapshot is the truth for). */
static void
ghosts_reconcile (NoomRoomServer * self, const gchar * node,
    JsonArray * members, const gchar * const *registered)
{
  const gchar *me = noom_cluster_get_node_id (self->config.cluster);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) ghosts = NULL;
  guint i;

  for (i = 0; i < json_array_get_length (members); i++) {
    JsonNode *e = json_array_get_element (members, i);
    JsonObject *m, *p;
    const gchar *room, *from, *id;

    if (!JSON_NODE_HOLDS_OBJECT (e))
      continue;
    m = json_node_get_object (e);
    from = node ? node : str_member (m, "node", NULL);
    room = str_member (m, "room", NULL);
    e = json_object_get_member (m, "participant");
    if (from == NULL || room == NULL || e == NULL
        || !JSON_NODE_HOLDS_OBJECT (e) || strcmp (from, me) == 0)
      continue;
    p = json_node_get_object (e);
    id = str_member (p, "id", NULL);
    if (id == NULL)
      continue;
    g_hash_table_add (seen, (gpointer) id);
    ghost_join (self, from, room, p);
  }
  ghosts = ghosts_of (self, node);
  for (i = 0; i < ghosts->len; i++) {
    Conn *c = ghosts->pdata[i];

    if (g_hash_table_contains (seen, conn_id (c)))
      continue;
    if (registered && !g_strv_contains (registered, c->node))
      continue;                 /* the heartbeat check decides */
    ghost_remove (self, c, "left");
  }
}

static void
on_cluster_op (JsonObject * o, gpointer user_data)
{
  NoomRoomServer *self = user_data;
  const gchar *op = str_member (o, "op", NULL);
  const gchar *node = str_member (o, "node", NULL);
  const gchar *room;
  JsonNode *p;

  enter (self);
  if (strcmp (op, "join") == 0 || strcmp (op, "update") == 0) {
    room = str_member (o, "room", NULL);
    p = json_object_get_member (o, "participant");
    if (room && p && JSON_NODE_HOLDS_OBJECT (p))
      ghost_join (self, node, room, json_node_get_object (p));
  } else if (strcmp (op, "leave") == 0) {
    ghost_leave (self, o);
  } else if (strcmp (op, "roster") == 0) {
    p = json_object_get_member (o, "members");
    if (p && JSON_NODE_HOLDS_ARRAY (p))
      ghosts_reconcile (self, node, json_node_get_array (p), NULL);
  } else {
    g_autofree gchar *log_op = log_text (op, 64);

    g_message ("redis: skipped unknown op \"%s\"", log_op);
  }
  leave (self);
}

static void
on_cluster_emit (const gchar * room_name, const gchar * except,
    const gchar * to, GBytes * frame, gpointer user_data)
{
  NoomRoomServer *self = user_data;
  NoomRoom *room = noom_room_set_lookup (self->rooms, room_name);
  guint i, n;

  if (room == NULL)
    return;
  enter (self);
  if (to) {
    Conn *m = (Conn *) noom_room_find_member (room, to);

    if (m && m->node == NULL)
      conn_send (m, frame);
  } else {
    n = noom_room_get_count (room);
    for (i = 0; i < n; i++) {
      Conn *m = (Conn *) noom_room_get_member (room, i);

      if (m->node == NULL && g_strcmp0 (conn_id (m), except) != 0)
        conn_send (m, frame);
    }
  }
  leave (self);
}

static JsonArray *
on_cluster_roster (gpointer user_data)
{
  NoomRoomServer *self = user_data;
  g_autoptr (GPtrArray) rooms = noom_room_set_list (self->rooms);
  JsonArray *out = json_array_new ();
  guint i, j;

  for (i = 0; i < rooms->len; i++) {
    NoomRoom *room = rooms->pdata[i];

    for (j = 0; j < noom_room_get_count (room); j++) {
      Conn *m = (Conn *) noom_room_get_member (room, j);
      JsonObject *o;

      if (m->node || !conn_live (m))
        continue;
      o = json_object_new ();
      json_object_set_string_member (o, "room", noom_room_get_name (room));
      json_object_set_member (o, "participant", participant_node (m));
      json_array_add_object_element (out, o);
    }
  }
  return out;
}

static void
on_cluster_snapshot (const gchar * const *nodes, JsonArray * members,
    gpointer user_data)
{
  NoomRoomServer *self = user_data;

  enter (self);
  ghosts_reconcile (self, NULL, members, nodes);
  leave (self);
}

/* ------------------------------------------- SFU rooms across nodes */

/* --redis: an SFU room's media goes through one node's relay, its media
 * node (noom:sfu:ROOM).  The participants of the other nodes signal with
 * it through their own node: each node sends what its participants say
 * to "~sfu" to the media node (relay_send, noom_cluster_relay 'r'), which
 * passes it to its relay; what that relay says for them comes back to
 * their node ('o', relay_to_node), which handles it as its own relay's
 * (relay_handle).  Their media goes straight to the media node's relay. */

/* @m from node @node: for this node's relay, about @node's participant
 * @id (a ghost here), or from @node's relay for our participant @id. */
static void
on_cluster_relay (const gchar * node, gboolean to_relay,
    const gchar * room_name, const gchar * id, JsonObject * m,
    gpointer user_data)
{
  NoomRoomServer *self = user_data;
  const gchar *op = noom_json_node_get_string (json_object_get_member (m,
          "op"));
  g_autofree gchar *log_op = log_text (op, 64);
  Conn *c = member_of (self, room_name, id);

  enter (self);
  /* Node channels are the cluster's own, but the names must agree with
   * what this node knows, so nothing lands on the wrong participant. */
  json_object_set_string_member (m, "room", room_name);
  if (!to_relay) {
    if (c == NULL || c->node || g_strcmp0 (c->media_node, node) != 0) {
      g_debug ("relay: \"%s\" of node %s for %s, not served there", log_op,
          node, id);
      goto out;
    }
    json_object_set_string_member (m, "to", id);
    relay_handle (self, op, m);
    goto out;
  }
  if (c == NULL || g_strcmp0 (c->node, node) != 0 || self->config.relay == NULL) {
    g_debug ("relay: \"%s\" from node %s for %s, not one of its "
        "participants here", log_op, node, id);
    goto out;
  }
  if (strcmp (op, "join") == 0) {
    c->sfu = TRUE;
    c->http_remote = json_object_has_member (m, "offer");
    g_message ("sfu room=\"%s\" id=%s node=%s: served by this node's relay",
        room_name, id, node);
  } else if (!c->sfu) {
    g_debug ("relay: \"%s\" from node %s for %s, not served here", log_op,
        node, id);
    goto out;
  } else if (strcmp (op, "leave") == 0) {
    c->sfu = FALSE;
    json_object_set_string_member (m, "id", id);
  } else if (json_object_has_member (m, "from")) {
    json_object_set_string_member (m, "from", id);
  }
  noom_relay_link_send (self->config.relay, m);
out:
  leave (self);
}

typedef struct
{
  NoomRoomServer *self;
  gchar *room;
} Claim;

/* The room's new media node: its participants here that waited join
 * that node's relay (this node's, or another's). */
static void
on_claimed (const gchar * media_node, gpointer data)
{
  Claim *claim = data;
  NoomRoomServer *self = claim->self;
  const gchar *me;
  NoomRoom *room;
  guint i;

  enter (self);
  g_hash_table_remove (self->claiming, claim->room);
  room = noom_room_set_lookup (self->rooms, claim->room);
  if (media_node == NULL || room == NULL)
    goto out;                   /* Redis away: the next tick asks again */
  me = noom_cluster_get_node_id (self->config.cluster);
  g_message ("sfu room=\"%s\": media through node %s from now on",
      claim->room, *media_node ? media_node : me);
  for (i = 0; i < noom_room_get_count (room); i++) {
    Conn *c = (Conn *) noom_room_get_member (room, i);

    if (c->node || !c->rehome || !conn_live (c))
      continue;
    c->rehome = FALSE;
    c->sfu = TRUE;
    if (*media_node && strcmp (media_node, me) != 0)
      c->media_node = g_strdup (media_node);
    relay_send_participant (self, c, "join");
    if (c->socket) {
      g_autoptr (JsonArray) ready =
          noom_protocol_encode_media_relay (NOOM_MEDIA_RELAY_STATE_READY);

      conn_emit (c, ready);
    }
  }
out:
  leave (self);
  g_free (claim->room);
  g_free (claim);
}

/* Once a second: the participants here whose media node is no longer
 * registered (it died, or stopped) lose their relay connection
 * (media_relay restarting, as when a relay restarts; an HTTP participant
 * leaves), and each of their rooms gets a new media node. */
static void
rehome (NoomRoomServer * self, const gchar * const *nodes)
{
  g_autoptr (GPtrArray) rooms = NULL;
  guint i, j;

  if (self->config.relay == NULL)
    return;
  rooms = noom_room_set_list (self->rooms);
  for (i = 0; i < rooms->len; i++) {
    NoomRoom *room = rooms->pdata[i];
    const gchar *name = noom_room_get_name (room);
    gboolean waiting = FALSE;

    for (j = 0; j < noom_room_get_count (room); j++) {
      Conn *c = (Conn *) noom_room_get_member (room, j);

      if (c->node || !conn_live (c))
        continue;
      if (c->media_node && !g_strv_contains (nodes, c->media_node)) {
        g_message ("sfu room=\"%s\" id=%s: media node %s is gone", name,
            conn_id (c), c->media_node);
        g_clear_pointer (&c->media_node, g_free);
        c->sfu = FALSE;
        if (c->http) {
          http_gone (self, c, "the node of the room's media relay stopped");
          continue;
        }
        c->rehome = TRUE;
        if (c->socket) {
          g_autoptr (JsonArray) restarting =
              noom_protocol_encode_media_relay
              (NOOM_MEDIA_RELAY_STATE_RESTARTING);

          conn_emit (c, restarting);
        }
      }
      waiting |= c->rehome;
    }
    if (waiting && !g_hash_table_contains (self->claiming, name)) {
      Claim *claim = g_new0 (Claim, 1);

      claim->self = self;
      claim->room = g_strdup (name);
      g_hash_table_add (self->claiming, g_strdup (name));
      noom_cluster_claim_media (self->config.cluster, name, on_claimed, claim);
    }
  }
}

/* Heartbeats missing in a row before a node's ghosts go, when Redis has
 * forgotten the node (it restarted empty): the node registers again
 * within a second of Redis coming back unless it is dead too. */
#define MISSING_TICKS 3

static void
on_cluster_nodes (const gchar * const *nodes, gpointer user_data)
{
  NoomRoomServer *self = user_data;
  g_autoptr (GPtrArray) ghosts = ghosts_of (self, NULL);
  g_autoptr (GHashTable) counted = g_hash_table_new_full (g_str_hash,
      g_str_equal, g_free, NULL);
  guint i;

  enter (self);
  for (i = 0; i < ghosts->len; i++) {
    Conn *c = ghosts->pdata[i];
    guint missing;

    if (g_strv_contains (nodes, c->node)) {
      g_hash_table_remove (self->missing, c->node);
      continue;
    }
    missing = GPOINTER_TO_UINT (g_hash_table_lookup (self->missing, c->node));
    if (!g_hash_table_contains (counted, c->node)) {
      g_hash_table_add (counted, g_strdup (c->node));
      missing++;
      g_hash_table_insert (self->missing, g_strdup (c->node),
          GUINT_TO_POINTER (missing));
      if (missing == MISSING_TICKS)
        g_message ("redis: node %s is gone: its participants leave", c->node);
    }
    if (missing >= MISSING_TICKS)
      ghost_remove (self, c, "its node stopped answering");
  }
  rehome (self, nodes);
  leave (self);
}

/* noom-server rooms --remove: the local participant @id is disconnected
 * (an HTTP participant leaves, its session forgotten). */
static void
on_cluster_kick (const gchar * id, gpointer user_data)
{
  NoomRoomServer *self = user_data;
  g_autoptr (GPtrArray) rooms = noom_room_set_list (self->rooms);
  guint i;

  enter (self);
  for (i = 0; i < rooms->len; i++) {
    Conn *c = (Conn *) noom_room_find_member (rooms->pdata[i], id);

    if (c == NULL || c->node)
      continue;
    g_message ("removing id=%s: asked by an operator", conn_id (c));
    if (c->socket)
      noom_sio_socket_disconnect (c->socket, "removed by an operator");
    else if (c->http)
      http_gone (self, c, "removed by an operator");
    break;
  }
  leave (self);
}

static void
on_cluster_state (gboolean up, gpointer user_data)
{
  NoomRoomServer *self = user_data;

  g_hash_table_remove_all (self->missing);
  if (!up)
    g_message ("redis: unavailable: joins are refused, calls in progress "
        "go on");
}

/* ---------------------------------------------------------------- events */

/* Answer the join request @ack_id of @c, now in its room.  @later
 * (nullable): ids of members the answer does not list (--redis: they
 * joined after @c, see on_cluster_joined). */
static void
ack_join (NoomRoomServer * self, Conn * c, gint64 ack_id, GHashTable * later)
{
  NoomRoom *room = c->member.room;
  guint i, n = noom_room_get_count (room);
  g_autofree NoomParticipant *members = g_new (NoomParticipant, n);
  g_autoptr (GPtrArray) others = g_ptr_array_sized_new (n);
  g_autoptr (JsonArray) ice_servers = NULL;
  NoomParticipant p = member_participant (&c->member);
  NoomJoinResult result = {
    .room = noom_room_get_name (room),
    .id = conn_id (c),
    .self = &p,
    .participants = others,
    .count = n,
    .max_room_size = self->config.limits.max_room_size,
    .media = self->config.relay ? NOOM_MEDIA_MODE_NAME_SFU :
        NOOM_MEDIA_MODE_NAME_MESH,
    .relay = self->config.relay ? NOOM_SFU_RELAY_ID : NULL,
    .max_publishers = self->config.relay ? self->config.max_publishers : 0,
  };

  if (ack_id < 0)
    return;
  for (i = 0; i < n; i++) {
    NoomRoomMember *m = noom_room_get_member (room, i);

    members[i] = member_participant (m);
    if (m != &c->member && !(later && g_hash_table_contains (later, m->id)))
      g_ptr_array_add (others, &members[i]);
  }
  ice_servers = noom_ice_config_build (self->config.ice, conn_id (c),
      g_get_real_time () / G_USEC_PER_SEC);
  result.ice_servers = ice_servers;
  ack (c, ack_id, noom_protocol_encode_join_result (&result));
}

static void
nickname_changed (Conn * c)
{
  NoomParticipant p = member_participant (&c->member);

  if (c->member.room == NULL)
    return;
  cluster_update (c->server, c);
  broadcast (c->member.room, c, noom_protocol_encode_participant_update (&p));
  if (c->sfu)
    relay_send_participant (c->server, c, "update");
}

static void
on_nickname (NoomRoomServer * self, Conn * c, const gchar * event,
    const NoomEventArgs * a, gint64 ack_id)
{
  g_autoptr (GError) error = NULL;
  gboolean changed;

  /* noom_event_args_parse() checked the name with the same limits, so
   * this does not fail. */
  if (!noom_room_member_set_nickname (&c->member, a->nickname,
          &self->config.limits, &changed, &error)) {
    reply_gerror (c, event, ack_id, error);
    return;
  }
  if (changed)
    nickname_changed (c);
  ack (c, ack_id, noom_protocol_encode_nickname_result (a->nickname));
}

static void
on_media_state (NoomRoomServer * self, Conn * c, const gchar * event,
    const NoomEventArgs * a, gint64 ack_id)
{
  if (c->member.room == NULL) {
    reply_error (c, event, ack_id, NOOM_ROOM_ERROR_NOT_IN_ROOM,
        "you are not in a room");
    return;
  }
  if (noom_room_member_set_state (&c->member, a->state, a->state_given)) {
    cluster_update (self, c);
    broadcast (c->member.room, c,
        noom_protocol_encode_participant_media (conn_id (c), c->member.state));
  }
  ack (c, ack_id, noom_protocol_encode_media_state_result (c->member.state));
}

/* With tokens: may @c join @name as @kind sending @sends? */
static gboolean
check_token_join (NoomRoomServer * self, Conn * c, const gchar * name,
    NoomKind kind, NoomMediaFlags sends, GError ** error)
{
  const NoomToken *t = c->token;
  guint need, missing;

  if (t == NULL)
    return TRUE;
  if (g_get_real_time () / G_USEC_PER_SEC > t->exp + NOOM_TOKEN_LEEWAY_S) {
    g_set_error_literal (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_FORBIDDEN,
        "your token has expired");
    return FALSE;
  }
  if (!noom_token_allows_room (t, name)) {
    g_autofree gchar *clipped = noom_event_clip (name, 64);

    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_FORBIDDEN,
        "your token does not admit you to room \"%s\"", clipped);
    return FALSE;
  }
  /* Receiving media needs subscribe (record for a recorder), sending it
   * needs publish. */
  switch (kind) {
    case NOOM_KIND_PUBLISHER:
      need = 0;
      break;
    case NOOM_KIND_RECORDER:
      need = NOOM_TOKEN_CAN_RECORD;
      break;
    default:
      need = NOOM_TOKEN_CAN_SUBSCRIBE;
      break;
  }
  if (sends != 0 || kind == NOOM_KIND_PUBLISHER)
    need |= NOOM_TOKEN_CAN_PUBLISH;
  missing = need & ~t->can;
  if (missing) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_FORBIDDEN,
        "your token does not allow %s (joining as %s%s)",
        noom_token_can_to_string (missing & -missing),
        noom_kind_to_string (kind), sends ? " sending media" : "");
    return FALSE;
  }
  return TRUE;
}

/* SFU (docs/protocol.md §11): a client that says how it takes part in
 * calls must list "sfu"; one that says nothing (a seed page) is admitted
 * and left out of the relay. */
static gboolean
check_sfu_join (NoomRoomServer * self, const NoomEventArgs * a, GError ** error)
{
  if (self->config.relay == NULL || !a->options
      || (a->media & NOOM_MEDIA_MODE_SFU))
    return TRUE;
  /* The name goes into the message: its rule first. */
  if (!noom_room_validate_name (a->room, -1,
          self->config.limits.max_room_name, "room name", error))
    return FALSE;
  g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_SFU_REQUIRED,
      "room \"%s\" forwards media through the server (noom-server --sfu); "
      "this client only makes peer-to-peer calls", a->room);
  return FALSE;
}

/* SFU: at most max_publishers participants that send media, apart from
 * the limit on everyone. */
static gboolean
check_publishers (NoomRoomServer * self, const gchar * name,
    NoomMediaFlags sends, GError ** error)
{
  NoomRoom *room;
  guint i, n = 0;

  if (self->config.relay == NULL || sends == NOOM_MEDIA_NONE)
    return TRUE;
  room = noom_room_set_lookup (self->rooms, name);
  for (i = 0; room && i < noom_room_get_count (room); i++)
    if (noom_room_get_member (room, i)->sends != NOOM_MEDIA_NONE)
      n++;
  if (n < self->config.max_publishers)
    return TRUE;
  g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_ROOM_FULL,
      "room \"%s\" has %u publishers", name, self->config.max_publishers);
  return FALSE;
}

/* @c joins @name (every check passed): leaves its room (@tell: the other
 * nodes learn of it), the ack, the relay's join (@media_node, nullable:
 * --redis, the node whose relay forwards the room, when not this one),
 * welcome to the others.
 * @later (nullable): members that @c learns of by `welcome` after its
 * ack, not in it (on_cluster_joined). */
static void
join_apply (NoomRoomServer * self, Conn * c, gint64 ack_id,
    const gchar * name, const gchar * nickname, NoomKind kind,
    NoomMediaFlags sends, gboolean sfu, const gchar * media_node,
    gboolean tell, GHashTable * later)
{
  NoomParticipant p;
  NoomRoom *room;
  guint i;

  if (c->member.room)
    room_leave (self, c, "switch", tell);
  if (nickname)
    noom_room_member_set_nickname (&c->member, nickname,
        &self->config.limits, NULL, NULL);
  noom_room_member_set_kind (&c->member, kind, sends);
  lobby_exit (self, c);
  room = noom_room_set_join (self->rooms, &c->member, name);
  g_message ("join room=\"%s\" id=%s nickname=\"%s\" kind=%s count=%u",
      name, conn_id (c), noom_room_member_get_nickname (&c->member),
      noom_kind_to_string (kind), noom_room_get_count (room));

  ack_join (self, c, ack_id, later);
  /* After the ack: the relay's offer must not overtake it. */
  if (self->config.relay && sfu) {
    c->sfu = TRUE;
    c->media_node = g_strdup (media_node);
    if (media_node)
      g_message ("sfu room=\"%s\" id=%s: media through node %s", name,
          conn_id (c), media_node);
    relay_send_participant (self, c, "join");
  }
  p = member_participant (&c->member);
  broadcast (room, c, noom_protocol_encode_welcome (&p,
          noom_room_get_count (room)));
  for (i = 0; later && i < noom_room_get_count (room); i++) {
    NoomRoomMember *m = noom_room_get_member (room, i);

    if (m != &c->member && g_hash_table_contains (later, m->id)) {
      g_autoptr (JsonArray) welcome = NULL;

      p = member_participant (m);
      welcome = noom_protocol_encode_welcome (&p, noom_room_get_count (room));
      conn_emit (c, welcome);
    }
  }
  schedule_flush (self);
}



/* The join script's answer (noom-cluster.c): @members are the room's, as
 * Redis has them, this one included. */
static void
on_cluster_joined (gint admitted, JsonArray * members,
    const gchar * media_node, gpointer user_data)
{
  PendingJoin *pj = user_data;
  NoomRoomServer *self = pj->self;
  Conn *c = pj->c;
  g_autoptr (GHashTable) earlier = NULL;
  g_autoptr (GHashTable) later = NULL;
  NoomRoom *room;
  guint i;

  enter (self);
  if (c == NULL || !conn_live (c)) {
    /* It went meanwhile: the cluster must not keep it. */
    if (admitted == 1)
      noom_cluster_leave (self->config.cluster, pj->room, pj->id, "disconnect");
    if (c)
      c->join = NULL;
    goto out;
  }
  c->join = NULL;
  if (admitted == -2) {
    reply_error (c, pj->event, pj->ack_id, NOOM_ROOM_ERROR_UNAVAILABLE,
        "rooms are unavailable: the shared room list (Redis) refused the "
        "join; try again later");
    goto out;
  }
  if (admitted < 0) {
    reply_error (c, pj->event, pj->ack_id, NOOM_ROOM_ERROR_UNAVAILABLE,
        "rooms are unavailable: this server lost its connection to the "
        "other servers (Redis); try again in a moment");
    goto out;
  }
  if (admitted == 0) {
    g_autofree gchar *message =
        g_strdup_printf ("room \"%s\" is full (%u participants)", pj->room,
        self->config.limits.max_room_size);

    reply_error (c, pj->event, pj->ack_id, NOOM_ROOM_ERROR_ROOM_FULL, message);
    goto out;
  }
  /* The others, as Redis has them, before this one joins: a participant
   * whose join message has not arrived yet gets its welcome now (to the
   * local members) and is in this one's answer. */
  earlier = g_hash_table_new (g_str_hash, g_str_equal);
  for (i = 0; members && i < json_array_get_length (members); i++) {
    JsonObject *m = json_array_get_object_element (members, i);
    JsonObject *p = json_object_get_object_member (m, "participant");
    const gchar *node = str_member (m, "node", NULL);
    const gchar *id = str_member (p, "id", NULL);

    if (id)
      g_hash_table_add (earlier, (gpointer) id);
    if (strcmp (node, noom_cluster_get_node_id (self->config.cluster)) != 0)
      ghost_join (self, node, pj->room, p);
  }
  /* And the other way round: one of another node that Redis admitted
   * after this one, whose join message arrived before this answer (the
   * two come on different connections), is already here.  It was not
   * first: this one learns of it by `welcome`, as it would have, and
   * offers (docs/protocol.md §7); in the answer, both would wait for the
   * other's offer. */
  room = noom_room_set_lookup (self->rooms, pj->room);
  for (i = 0; room && i < noom_room_get_count (room); i++) {
    Conn *m = (Conn *) noom_room_get_member (room, i);

    if (m->node && !g_hash_table_contains (earlier, conn_id (m))) {
      if (later == NULL)
        later = g_hash_table_new (g_str_hash, g_str_equal);
      g_hash_table_add (later, (gpointer) conn_id (m));
    }
  }
  if (media_node
      && strcmp (media_node, noom_cluster_get_node_id (self->config.cluster))
      == 0)
    media_node = NULL;
  join_apply (self, c, pj->ack_id, pj->room, pj->nickname, pj->kind,
      pj->sends, pj->sfu, media_node, FALSE, later);
  noom_histogram_observe (&self->join_latency,
      (g_get_monotonic_time () - pj->start_us) / 1e6);
out:
  g_free (pj->id);
  g_free (pj->event);
  g_free (pj->room);
  g_free (pj->nickname);
  g_free (pj);
  leave (self);
}

/* --redis: Redis admits the join (room_full across the nodes), then
 * join_apply(). */
static void
cluster_join (NoomRoomServer * self, Conn * c, const gchar * event,
    const NoomEventArgs * a, gint64 ack_id)
{
  NoomCluster *cluster = self->config.cluster;
  g_autoptr (JsonNode) participant = NULL;
  NoomParticipant p;
  PendingJoin *pj;

  if (!noom_cluster_is_up (cluster)) {
    reply_error (c, event, ack_id, NOOM_ROOM_ERROR_UNAVAILABLE,
        "rooms are unavailable: this server lost its connection to the "
        "other servers (Redis); try again in a moment");
    return;
  }
  if (c->join) {
    reply_error (c, event, ack_id, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "a join is already in progress");
    return;
  }
  pj = g_new0 (PendingJoin, 1);
  pj->self = self;
  pj->c = c;
  pj->id = g_strdup (conn_id (c));
  pj->ack_id = ack_id;
  pj->event = g_strdup (event);
  pj->room = g_strdup (a->room);
  pj->nickname = g_strdup (a->nickname);
  pj->kind = a->kind;
  pj->sends = a->sends & (NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);
  pj->sfu = (a->media & NOOM_MEDIA_MODE_SFU) != 0;
  pj->start_us = g_get_monotonic_time ();
  c->join = pj;
  p = member_participant (&c->member);
  if (a->nickname)
    p.nickname = (gchar *) a->nickname;
  p.kind = (gchar *) noom_kind_to_string (a->kind);
  p.sends = pj->sends;
  p.state = (NoomMediaState) pj->sends;
  participant = noom_protocol_encode_participant (&p);
  noom_cluster_join (cluster, a->room, participant,
      self->config.limits.max_room_size,
      c->member.room ? noom_room_get_name (c->member.room) : NULL,
      self->config.relay != NULL, on_cluster_joined, pj);
}

static void
on_join (NoomRoomServer * self, Conn * c, const gchar * event,
    const NoomEventArgs * a, gint64 ack_id)
{
  const gchar *name = a->room;
  const gchar *nickname = a->nickname;
  NoomKind kind = a->kind;
  NoomMediaFlags sends = a->sends;
  gboolean already, changed = FALSE;
  g_autoptr (GError) error = NULL;
  gint64 start_us = g_get_monotonic_time ();

  /* Everything is checked before anything changes: a failed join leaves
   * the connection where it was.  The room name rule comes after the
   * token checks (noom-event.h). */
  if (!check_token_join (self, c, name, kind, sends, &error)
      || !check_sfu_join (self, a, &error)
      || !noom_room_set_check_join (self->rooms, &c->member, name,
          &already, &error)
      || (!already && !check_publishers (self, name, sends, &error))) {
    reply_gerror (c, event, ack_id, error);
    return;
  }

  if (already) {
    /* The same join result again; only a new nickname is applied (kind
     * and media are fixed while in a room). */
    if (nickname)
      noom_room_member_set_nickname (&c->member, nickname,
          &self->config.limits, &changed, NULL);
    if (changed)
      nickname_changed (c);
    ack_join (self, c, ack_id, NULL);
    return;
  }

  /* the features go with the member wherever it is seen (§3) */
  noom_room_member_set_features (&c->member, a->features);
  if (self->config.cluster) {
    cluster_join (self, c, event, a, ack_id);
    return;
  }
  join_apply (self, c, ack_id, name, nickname, kind, sends,
      (a->media & NOOM_MEDIA_MODE_SFU) != 0, NULL, TRUE, NULL);
  noom_histogram_observe (&self->join_latency,
      (g_get_monotonic_time () - start_us) / 1e6);
}

static void
on_leave_room (NoomRoomServer * self, Conn * c, const gchar * event,
    const NoomEventArgs * a, gint64 ack_id)
{
  g_autoptr (JsonArray) answer = NULL;

  if (c->member.room == NULL) {
    reply_error (c, event, ack_id, NOOM_ROOM_ERROR_NOT_IN_ROOM,
        "you are not in a room");
    return;
  }
  answer = noom_protocol_encode_leave_result (noom_room_get_name
      (c->member.room));
  room_leave (self, c, NOOM_EVENT_NAME_LEAVE_ROOM, TRUE);
  ack (c, ack_id, g_steal_pointer (&answer));
  lobby_enter (self, c);
}

/* The room named @name must be the sender's. */
static gboolean
check_in_room (Conn * c, const gchar * event, gint64 ack_id, const gchar * name)
{
  g_autofree gchar *clipped = NULL;
  g_autofree gchar *message = NULL;

  if (c->member.room && strcmp (noom_room_get_name (c->member.room), name) == 0)
    return TRUE;
  clipped = noom_event_clip (name, 64);
  message = g_strdup_printf ("you are not in room \"%s\"", clipped);
  reply_error (c, event, ack_id, NOOM_ROOM_ERROR_NOT_IN_ROOM, message);
  return FALSE;
}

static void
on_new_message (NoomRoomServer * self, Conn * c, const gchar * event,
    const NoomEventArgs * a, gint64 ack_id)
{
  const gchar *text = a->text;
  const gchar *room = a->room;
  const gchar *nick = noom_room_member_get_nickname (&c->member);
  g_autoptr (GError) error = NULL;
  gint64 ts;

  if (c->token && !(c->token->can & NOOM_TOKEN_CAN_CHAT)) {
    reply_error (c, event, ack_id, NOOM_ROOM_ERROR_FORBIDDEN,
        "your token does not allow chat");
    return;
  }
  if (!noom_event_args_check_content (a, &self->config.limits, &error)) {
    reply_gerror (c, event, ack_id, error);
    return;
  }
  if (!check_in_room (c, event, ack_id, room))
    return;

  ts = g_get_real_time () / 1000;
  broadcast_cluster (self, c->member.room, c,
      noom_protocol_encode_message (room, conn_id (c), nick, text, ts));
  ack (c, ack_id, noom_protocol_encode_chat_result (ts));
}

/* docs/protocol.md §7: an offer or answer of @c sends only what @c
 * announced in its `sends`, which its join checked against publish.
 * Receivers check it too; this keeps such a description from reaching
 * them at all (an old or modified receiver answers whatever it gets). */
static gboolean
check_media (Conn * c, const gchar * event, gint64 ack_id,
    const NoomEventArgs * a)
{
  NoomMediaFlags allowed = c->member.sends, extra;
  const gchar *what = noom_event_type_to_string (a->type);
  g_autofree gchar *message = NULL;

#ifdef NOOM_SERVER_RELAY_ANY_MEDIA
  /* noom-server-lax (tools/noom-server/meson.build), for tests only. */
  return TRUE;
#endif
  if (c->token && !(c->token->can & NOOM_TOKEN_CAN_PUBLISH))
    allowed = NOOM_MEDIA_NONE;
  extra = a->sends & ~allowed;
  if (extra == NOOM_MEDIA_NONE)
    return TRUE;
  if (c->token && !(c->token->can & NOOM_TOKEN_CAN_PUBLISH))
    message = g_strdup_printf ("your token does not allow publish: this %s "
        "sends %s", what, noom_media_flags_to_string (extra));
  else
    message = g_strdup_printf ("this %s sends %s, which you did not announce "
        "(you send %s)", what, noom_media_flags_to_string (extra),
        noom_media_flags_to_string (allowed));
  reply_error (c, event, ack_id, NOOM_ROOM_ERROR_FORBIDDEN, message);
  return FALSE;
}

/* SFU: signalling with "~sfu" goes to the relay, as {op: the event's
 * name, room, from, and the payload under its name}. */
static void
relay_forward (NoomRoomServer * self, Conn * c, const gchar * event,
    const NoomEventArgs * a, gint64 ack_id)
{
  g_autoptr (JsonObject) o = NULL;
  const gchar *member;

  if (a->type == NOOM_EVENT_OFFER) {
    reply_error (c, event, ack_id, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "the relay sends the offers: answer them");
    return;
  }
  if (!c->sfu) {
    reply_error (c, event, ack_id, NOOM_ROOM_ERROR_UNKNOWN_PEER,
        "you are not connected to the relay: join with "
        "{\"media\":[\"sfu\"]}");
    return;
  }
  switch (a->type) {
    case NOOM_EVENT_ANSWER:
      member = "description";
      break;
    case NOOM_EVENT_ICE:
      member = "candidate";
      break;
    default:
      member = "info";
      break;
  }
  o = relay_message (noom_event_type_to_string (a->type), c);
  json_object_set_string_member (o, "from", conn_id (c));
  json_object_set_member (o, member, json_node_copy (a->payload));
  /* While the relay restarts this is dropped: it was for the old one. */
  relay_send (self, c, o);
  ack (c, ack_id, noom_protocol_encode_ok ());
}

static void
on_relay (NoomRoomServer * self, Conn * c, const gchar * event,
    const NoomEventArgs * a, gint64 ack_id)
{
  const gchar *to = a->to;
  g_autoptr (JsonArray) out = NULL;

  if (!check_in_room (c, event, ack_id, a->room))
    return;
  if ((a->type == NOOM_EVENT_OFFER || a->type == NOOM_EVENT_ANSWER)
      && !check_media (c, event, ack_id, a))
    return;

  /* SFU rooms: peers do not connect to each other.  Without `to` (a seed
   * page) it is relayed to the room as in a mesh room. */
  if (to && self->config.relay) {
    if (strcmp (to, NOOM_SFU_RELAY_ID) == 0)
      relay_forward (self, c, event, a, ack_id);
    else
      reply_error (c, event, ack_id, NOOM_ROOM_ERROR_UNKNOWN_PEER,
          "this room forwards media through the server: signal with "
          NOOM_SFU_RELAY_ID);
    return;
  }

  if (to) {
    NoomRoomMember *m = noom_room_find_member (c->member.room, to);

    if (m == NULL || m == &c->member) {
      g_autofree gchar *clipped = noom_event_clip (to, 32);
      g_autofree gchar *message =
          g_strdup_printf ("no participant \"%s\" in room \"%s\"", clipped,
          noom_room_get_name (c->member.room));

      reply_error (c, event, ack_id, NOOM_ROOM_ERROR_UNKNOWN_PEER, message);
      return;
    }
    out = noom_protocol_encode_relay (a->type, a->payload, conn_id (c));
    if (((Conn *) m)->node) {
      g_autoptr (GBytes) frame = noom_sio_frame_event_array (out, -1);

      noom_cluster_emit_to (self->config.cluster, ((Conn *) m)->node,
          noom_room_get_name (c->member.room), m->id, frame);
    } else {
      conn_emit ((Conn *) m, out);
    }
  } else {
    broadcast_cluster (self, c->member.room, c,
        noom_protocol_encode_relay (a->type, a->payload, conn_id (c)));
  }
  ack (c, ack_id, noom_protocol_encode_ok ());
}

typedef void (*EventHandler) (NoomRoomServer * self, Conn * c,
    const gchar * event, const NoomEventArgs * a, gint64 ack_id);

/* By NoomEventType. */
static const EventHandler handlers[NOOM_EVENT_LAST + 1] = {
  [NOOM_EVENT_NEW_MESSAGE] = on_new_message,
  [NOOM_EVENT_ICE] = on_relay,
  [NOOM_EVENT_OFFER] = on_relay,
  [NOOM_EVENT_ANSWER] = on_relay,
  [NOOM_EVENT_JOIN] = on_join,
  [NOOM_EVENT_NICKNAME] = on_nickname,
  [NOOM_EVENT_LEAVE_ROOM] = on_leave_room,
  [NOOM_EVENT_OFFER_FAILED] = on_relay,
  [NOOM_EVENT_MEDIA_STATE] = on_media_state,
};

/* ------------------------------------------------------------- budgets */

static RateLedger *
ledger_new (void)
{
  RateLedger *l = g_new0 (RateLedger, 1);

  l->ref_count = 1;
  l->by_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  return l;
}

static void
ledger_unref (RateLedger * l)
{
  if (--l->ref_count > 0)
    return;
  g_hash_table_unref (l->by_address);
  g_free (l);
}

/* TRUE when @limit's episode of limiting is over by @now_us: nothing to
 * hand on. */
static gboolean
bucket_calm (const NoomRateLimit * limit, gint64 now_us)
{
  return limit->dropped == 0
      || now_us - limit->last_drop_us >= NOOM_RATE_QUIET_US;
}

static gboolean
forget_calm (gpointer key, gpointer value, gpointer user_data)
{
  return bucket_calm (value, g_get_monotonic_time ());
}

static void
budget_free (gpointer data)
{
  Budget *b = data;
  RateLedger *l = b->ledger;
  gint64 now = g_get_monotonic_time ();

  if (b->address && !bucket_calm (&b->rate, now)) {
    NoomRateLimit *kept = g_hash_table_lookup (l->by_address, b->address);

    if (g_hash_table_size (l->by_address) >= LEDGER_MAX)
      g_hash_table_foreach_remove (l->by_address, forget_calm, NULL);
    /* Of two connections from one address, the emptier bucket counts. */
    if (kept == NULL && g_hash_table_size (l->by_address) < LEDGER_MAX)
      g_hash_table_insert (l->by_address, g_strdup (b->address),
          g_memdup2 (&b->rate, sizeof (b->rate)));
    else if (kept && b->rate.tokens < kept->tokens)
      *kept = b->rate;
  }
  ledger_unref (l);
  g_free (b->address);
  g_free (b);
}

/* The budget of @socket's Engine.IO connection, made on its first
 * CONNECT. */
static Budget *
connection_budget (NoomRoomServer * self, NoomSioSocket * socket)
{
  Budget *b = noom_sio_socket_get_connection_data (socket);
  const gchar *address;
  NoomRateLimit *kept;

  if (b)
    return b;
  b = g_new0 (Budget, 1);
  b->ledger = self->ledger;
  b->ledger->ref_count++;
  address = noom_sio_socket_get_remote_address (socket);
  if (address && !self->config.limit_loopback) {
    g_autoptr (GInetAddress) a = g_inet_address_new_from_string (address);

    if (a && g_inet_address_get_is_loopback (a))
      address = NULL;
  }
  b->address = g_strdup (address);
  kept = address ? g_hash_table_lookup (self->ledger->by_address, address) :
      NULL;
  if (kept) {
    b->rate = *kept;
    g_hash_table_remove (self->ledger->by_address, address);
  } else {
    noom_rate_limit_init (&b->rate, self->config.rate_burst,
        g_get_monotonic_time ());
  }
  noom_sio_socket_set_connection_data (socket, b, budget_free);
  return b;
}

/* Takes a token from @socket's budget for @what (an event name, or
 * "CONNECT").  Returns the verdict; logs the first drop of an episode and
 * the flood. */
static NoomRateVerdict
budget_take (NoomRoomServer * self, NoomSioSocket * socket, const gchar * what)
{
  Budget *b = connection_budget (self, socket);
  NoomRateVerdict v = noom_rate_limit_check (&b->rate, self->config.rate_limit,
      self->config.rate_burst, g_get_monotonic_time ());

  if (v != NOOM_RATE_OK)
    self->n_rate_limited++;
  if (v == NOOM_RATE_LIMITED && b->rate.dropped == 1) {
    g_autofree gchar *log_event = log_text (what, 64);

    g_message ("error id=%s address=%s event=\"%s\" code=rate_limited: "
        "over %u events/s (burst %u), dropping events",
        noom_sio_socket_get_id (socket),
        noom_sio_socket_get_remote_address (socket),
        log_event, self->config.rate_limit, self->config.rate_burst);
  }
  return v;
}

/* ---------------------------------------------------- Socket.IO callbacks */

static gboolean
on_connect (NoomSioSocket * socket, JsonObject * auth, gchar ** error_message,
    JsonNode ** error_data, gpointer user_data)
{
  NoomRoomServer *self = user_data;
  g_autoptr (NoomToken) token = NULL;
  Conn *c;

  /* A CONNECT costs a token like any event: DISCONNECT and CONNECT again
   * on one connection is no way round the limit. */
  switch (budget_take (self, socket, "CONNECT")) {
    case NOOM_RATE_OK:
      break;
    case NOOM_RATE_LIMITED:
      *error_message = g_strdup ("too many requests: slow down");
      *error_data =
          noom_protocol_encode_connect_refusal (NOOM_ROOM_ERROR_RATE_LIMITED);
      return FALSE;
    case NOOM_RATE_FLOODING:
      noom_sio_socket_disconnect (socket, "rate limit");
      return FALSE;
  }

  /* @auth carries the token: never logged, nor echoed. */
  if (self->config.token_secret) {
    g_autoptr (GError) error = NULL;

    token = noom_token_verify (noom_protocol_decode_auth (auth),
        self->config.token_secret, g_get_real_time () / G_USEC_PER_SEC, &error);
    if (token == NULL) {
      gint64 now = g_get_monotonic_time ();

      if (now - self->refused_window_us >= REFUSED_LOG_WINDOW_US) {
        if (self->refused_folded)
          g_message ("error code=forbidden: %u more connection(s) refused "
              "in the last %u s", self->refused_folded,
              (guint) ((now - self->refused_window_us) / G_USEC_PER_SEC));
        self->refused_window_us = now;
        self->refused_logged = 0;
        self->refused_folded = 0;
      }
      if (self->refused_logged < REFUSED_LOG_MAX) {
        self->refused_logged++;
        g_message ("error id=%s address=%s code=forbidden: %s, "
            "connection refused", noom_sio_socket_get_id (socket),
            noom_sio_socket_get_remote_address (socket), error->message);
      } else {
        self->refused_folded++;
      }
      *error_message = g_strdup (error->message);
      *error_data =
          noom_protocol_encode_connect_refusal (NOOM_ROOM_ERROR_FORBIDDEN);
      return FALSE;
    }
  }

  c = g_new0 (Conn, 1);
  enter (self);
  noom_room_member_init (&c->member, noom_sio_socket_get_id (socket));
  c->token = g_steal_pointer (&token);
  /* The token's identity is the nickname until the client gives one. */
  if (c->token)
    noom_room_member_set_nickname (&c->member, c->token->identity,
        &self->config.limits, NULL, NULL);
  c->server = self;
  c->socket = socket;
  c->lobby_link.data = c;
  c->pending_link.data = c;
  c->dead_link.data = c;
  noom_sio_socket_set_user_data (socket, c);
  g_info ("connect id=%s address=%s", conn_id (c),
      noom_sio_socket_get_remote_address (socket));
  lobby_enter (self, c);
  leave (self);
  return TRUE;
}

static void
on_event (NoomSioSocket * socket, const gchar * name, JsonArray * args,
    gint64 ack_id, GPtrArray * attachments, gpointer user_data)
{
  NoomRoomServer *self = user_data;
  Conn *c = noom_sio_socket_get_user_data (socket);
  NoomEventArgs a;
  g_autoptr (GError) arg_error = NULL;

  if (c == NULL || c->socket == NULL)
    return;

  enter (self);
  switch (budget_take (self, socket, name)) {
    case NOOM_RATE_OK:
      break;
    case NOOM_RATE_FLOODING:
      /* noom_sio_socket_disconnect logs the reason itself. */
      noom_sio_socket_disconnect (socket, "rate limit");
      leave (self);
      return;
    case NOOM_RATE_LIMITED:
      /* Answer without logging each one: a flood must not flood the
       * log. */
      send_error (c, name, ack_id, NOOM_ROOM_ERROR_RATE_LIMITED,
          "too many events: slow down");
      leave (self);
      return;
  }

  if (attachments) {
    /* docs/protocol.md §1: Noom uses no binary packets. */
    noom_sio_socket_disconnect (socket, "binary not supported");
    leave (self);
    return;
  }

  if (noom_event_args_parse (name, args, &self->config.limits, &a, &arg_error)) {
    self->n_events[a.type]++;
    handlers[a.type] (self, c, name, &a, ack_id);
  } else {
    if (arg_error->code == NOOM_ROOM_ERROR_UNKNOWN_EVENT)
      self->n_unknown_events++;
    else
      self->n_invalid_events++;
    reply_gerror (c, name, ack_id, arg_error);
  }
  leave (self);
}

static void
on_disconnect (NoomSioSocket * socket, const gchar * reason, gpointer user_data)
{
  NoomRoomServer *self = user_data;
  Conn *c = noom_sio_socket_get_user_data (socket);

  if (c == NULL || c->socket == NULL)
    return;
  noom_sio_socket_set_user_data (socket, NULL);
  c->socket = NULL;
  c->gone_reason = g_strdup (reason);
  /* A protocol violation is an error worth a line; ordinary departures
   * are logged by the leave line (when in a room) or at info level. */
  if (g_strcmp0 (reason, "parse error") == 0)
    g_message ("error id=%s code=parse_error: malformed packet, "
        "connection closed", conn_id (c));
  else
    g_info ("disconnect id=%s reason=\"%s\"", conn_id (c), reason);
  enter (self);
  g_queue_push_tail_link (&self->dead, &c->dead_link);
  leave (self);
}

/* ------------------------------------------------------------------ public */

NoomRoomServer *
noom_room_server_new (NoomSioServer * sio, const NoomRoomServerConfig * config)
{
  static const NoomSioNamespaceCallbacks callbacks = {
    .connect = on_connect,
    .event = on_event,
    .disconnect = on_disconnect,
  };
  NoomRoomServer *self = g_new0 (NoomRoomServer, 1);

  self->config = *config;
  if (self->config.rate_burst == 0)
    self->config.rate_burst = 1;
  self->sio = sio;
  self->rooms = noom_room_set_new (&self->config.limits);
  self->ledger = ledger_new ();
  g_queue_init (&self->lobby);
  g_queue_init (&self->pending);
  g_queue_init (&self->dead);
  g_queue_init (&self->http);
  noom_sio_server_add_namespace (sio, "/", &callbacks, self);
  if (self->config.cluster) {
    static const NoomClusterCallbacks cluster_callbacks = {
      .state = on_cluster_state,
      .op = on_cluster_op,
      .emit = on_cluster_emit,
      .roster = on_cluster_roster,
      .snapshot = on_cluster_snapshot,
      .nodes = on_cluster_nodes,
      .kick = on_cluster_kick,
      .relay = on_cluster_relay,
    };

    self->ghosts = g_hash_table_new (g_str_hash, g_str_equal);
    self->missing = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        NULL);
    self->claiming = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
        NULL);
    noom_cluster_start (self->config.cluster, &cluster_callbacks, self);
  }
  if (self->config.relay) {
    static const NoomRelayLinkCallbacks relay_callbacks = {
      .ready = on_relay_ready,
      .down = on_relay_down,
      .message = on_relay_message,
    };

    noom_relay_link_set_callbacks (self->config.relay, &relay_callbacks, self);
  }
  return self;
}

/* ------------------------------------------------ HTTP participants */

void
noom_room_server_set_http_callbacks (NoomRoomServer * self,
    const NoomRoomServerHttpCallbacks * callbacks, gpointer user_data)
{
  self->http_callbacks = callbacks;
  self->http_user_data = user_data;
}

gboolean
noom_room_server_relay_is_ready (NoomRoomServer * self)
{
  /* --redis: the room's media node may be another (on_http_media()) */
  if (self->config.relay && self->config.cluster)
    return TRUE;
  return self->config.relay && noom_relay_link_is_ready (self->config.relay);
}

/* WHEP: the participant of @name that @who names (an id, else the first
 * with that nickname in join order), or without @who the first that sends
 * video, else the first that sends audio. */
static Conn *
find_play (NoomRoomServer * self, const gchar * name, const gchar * who,
    GError ** error)
{
  NoomRoom *room = noom_room_set_lookup (self->rooms, name);
  guint i, n = room ? noom_room_get_count (room) : 0;
  NoomRoomMember *m;

  if (who) {
    if (room && (m = noom_room_find_member (room, who)))
      return (Conn *) m;
    for (i = 0; i < n; i++) {
      m = noom_room_get_member (room, i);
      if (strcmp (noom_room_member_get_nickname (m), who) == 0)
        return (Conn *) m;
    }
  } else {
    for (i = 0; i < n; i++)
      if (noom_room_get_member (room, i)->sends & NOOM_MEDIA_VIDEO)
        return (Conn *) noom_room_get_member (room, i);
    for (i = 0; i < n; i++)
      if (noom_room_get_member (room, i)->sends & NOOM_MEDIA_AUDIO)
        return (Conn *) noom_room_get_member (room, i);
  }
  if (who) {
    g_autofree gchar *clipped = noom_event_clip (who, 64);

    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_UNKNOWN_PEER,
        "no participant \"%s\" in room \"%s\"", clipped, name);
  } else {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_UNKNOWN_PEER,
        "no participant in room \"%s\" sends audio or video", name);
  }
  return NULL;
}

/* --redis: an HTTP participant's join for the relay, until Redis says
 * whose relay forwards the room */
typedef struct
{
  NoomRoomServer *self;
  gchar *room;
  gchar *id;
  JsonObject *join;
} HttpJoin;

static void
on_http_media (const gchar * media_node, gpointer data)
{
  HttpJoin *hj = data;
  NoomRoomServer *self = hj->self;
  Conn *c = NULL;

  enter (self);
  c = member_of (self, hj->room, hj->id);
  if (c == NULL || c->node || c->http == NULL) {
    g_debug ("relay: %s left before its media node was known", hj->id);
    goto out;
  }
  if (media_node == NULL)
    g_message ("sfu room=\"%s\" id=%s: Redis did not say whose relay "
        "forwards the room: this node's serves it", hj->room, hj->id);
  else if (*media_node
      && strcmp (media_node, noom_cluster_get_node_id (self->config.cluster))) {
    c->media_node = g_strdup (media_node);
    g_message ("sfu room=\"%s\" id=%s: media through node %s", hj->room,
        hj->id, media_node);
  }
  if (c->media_node == NULL && !noom_relay_link_is_ready (self->config.relay))
    http_gone (self, c, "the media relay is restarting: try again shortly");
  else
    relay_send (self, c, hj->join);
out:
  leave (self);
  g_free (hj->room);
  g_free (hj->id);
  json_object_unref (hj->join);
  g_free (hj);
}

static void
conn_free_unjoined (Conn * c)
{
  noom_room_member_clear (&c->member);
  noom_token_free (c->token);
  g_free (c);
}

NoomRoomServerHttp *
noom_room_server_join_http (NoomRoomServer * self, const NoomHttpJoin * join,
    gpointer session, GError ** error)
{
  const NoomRoomLimits *limits = &self->config.limits;
  const gchar *name = join->room;
  g_autoptr (JsonObject) o = NULL;
  gchar id[NOOM_ROOM_MEMBER_ID_MAX + 1];
  const gchar *nickname;
  Conn *c, *play = NULL;
  gboolean already;
  NoomParticipant p;
  NoomRoom *room;

  g_return_val_if_fail (self->config.relay != NULL, NULL);
  noom_engine_random_id (id);
  c = g_new0 (Conn, 1);
  noom_room_member_init (&c->member, id);
  c->server = self;
  c->token = join->token;
  c->lobby_link.data = c;
  c->pending_link.data = c;
  c->dead_link.data = c;
  c->http_link.data = c;

  /* As join_room: the token, the room name, then the rest. */
  if (!check_token_join (self, c, name, join->kind, join->sends, error)
      || !noom_room_validate_name (name, -1, limits->max_room_name,
          "room name", error)) {
    conn_free_unjoined (c);
    return NULL;
  }
  nickname = join->nickname;
  if (nickname == NULL)
    nickname = c->token ? c->token->identity : join->default_nickname;
  if (!noom_room_member_set_nickname (&c->member, nickname, limits, NULL,
          error)) {
    if (join->nickname) {
      conn_free_unjoined (c);
      return NULL;
    }
    /* A token's identity that is no valid nickname: the default. */
    g_clear_error (error);
    noom_room_member_set_nickname (&c->member, join->default_nickname,
        limits, NULL, NULL);
  }
  if ((join->play || join->play_any)
      && !(play = find_play (self, name, join->play, error))) {
    conn_free_unjoined (c);
    return NULL;
  }
  if (!noom_room_set_check_join (self->rooms, &c->member, name, &already,
          error) || !check_publishers (self, name, join->sends, error)) {
    conn_free_unjoined (c);
    return NULL;
  }

  enter (self);
  noom_room_member_set_kind (&c->member, join->kind, join->sends);
  room = noom_room_set_join (self->rooms, &c->member, name);
  c->http = session;
  c->sfu = TRUE;
  g_queue_push_tail_link (&self->http, &c->http_link);
  g_message ("join room=\"%s\" id=%s nickname=\"%s\" kind=%s count=%u "
      "via=%s%s%s", name, conn_id (c),
      noom_room_member_get_nickname (&c->member),
      noom_kind_to_string (join->kind), noom_room_get_count (room),
      join->via, play ? " play=" : "", play ? conn_id (play) : "");

  o = relay_message ("join", c);
  p = member_participant (&c->member);
  json_object_set_member (o, "participant",
      noom_protocol_encode_participant (&p));
  json_object_set_string_member (o, "offer", join->offer);
  if (play)
    json_object_set_string_member (o, "play", conn_id (play));
  if (self->config.cluster) {
    g_autoptr (JsonNode) pn = noom_protocol_encode_participant (&p);
    HttpJoin *hj = g_new0 (HttpJoin, 1);

    /* The relay's join waits for the room's media node. */
    hj->self = self;
    hj->room = g_strdup (name);
    hj->id = g_strdup (conn_id (c));
    hj->join = g_steal_pointer (&o);
    noom_cluster_add (self->config.cluster, name, pn, TRUE, on_http_media, hj);
  } else {
    noom_relay_link_send (self->config.relay, o);
  }

  broadcast (room, c, noom_protocol_encode_welcome (&p,
          noom_room_get_count (room)));
  schedule_flush (self);
  leave (self);
  return (NoomRoomServerHttp *) c;
}

const gchar *
noom_room_server_http_get_id (NoomRoomServerHttp * http)
{
  return conn_id ((Conn *) http);
}

void
noom_room_server_leave_http (NoomRoomServer * self, NoomRoomServerHttp * http,
    const gchar * reason)
{
  Conn *c = (Conn *) http;

  g_return_if_fail (c->http != NULL);
  enter (self);
  http_remove (self, c, reason);
  leave (self);
}

void
noom_room_server_http_ice (NoomRoomServer * self, NoomRoomServerHttp * http,
    JsonNode * candidate)
{
  Conn *c = (Conn *) http;
  g_autoptr (JsonObject) o = relay_message (NOOM_EVENT_NAME_ICE, c);

  json_object_set_string_member (o, "from", conn_id (c));
  json_object_set_member (o, "candidate", candidate);
  relay_send (self, c, o);
}

void
noom_room_server_http_restart (NoomRoomServer * self,
    NoomRoomServerHttp * http, const gchar * ufrag, const gchar * pwd)
{
  Conn *c = (Conn *) http;
  g_autoptr (JsonObject) o = relay_message ("restart", c);

  json_object_set_string_member (o, "from", conn_id (c));
  json_object_set_string_member (o, "ufrag", ufrag);
  json_object_set_string_member (o, "pwd", pwd);
  relay_send (self, c, o);
}

/* ------------------------------------------------------------------ free */

void
noom_room_server_stop (NoomRoomServer * self)
{
  self->stopping = TRUE;
}

void
noom_room_server_free (NoomRoomServer * self)
{
  if (self == NULL)
    return;
  g_warn_if_fail (self->busy == 0);
  /* noom-whip is freed first: it ends its sessions. */
  g_warn_if_fail (self->http.length == 0);
  if (self->config.relay)
    noom_relay_link_set_callbacks (self->config.relay, NULL, NULL);
  g_clear_handle_id (&self->flush_source, g_source_remove);
  g_clear_handle_id (&self->pending_source, g_source_remove);
  /* Connections still here (the Socket.IO server was not freed first):
   * drop them without sending anything. */
  while (self->lobby.head) {
    Conn *c = self->lobby.head->data;

    conn_finish (self, c);
  }
  if (self->ghosts) {
    g_autoptr (GPtrArray) ghosts = ghosts_of (self, NULL);
    guint i;

    self->stopping = TRUE;
    for (i = 0; i < ghosts->len; i++)
      ghost_remove (self, ghosts->pdata[i], "stopping");
    g_hash_table_unref (self->ghosts);
    g_hash_table_unref (self->missing);
    g_hash_table_unref (self->claiming);
  }
  g_clear_pointer (&self->list_frame, g_bytes_unref);
  g_clear_pointer (&self->ledger, ledger_unref);
  if (noom_room_set_get_n_rooms (self->rooms) == 0)
    noom_room_set_free (self->rooms);
  g_clear_pointer (&self->sfu_links, json_array_unref);
  g_free (self);
}

/* ------------------------------------------------------------ metrics */

/* One row of @name for a subscriber's link, a member of the relay's
 * "links" (forward_send_stats()), with @from unless NULL. */
static void
write_link_row (GString * out, const gchar * name, JsonObject * link,
    const gchar * from, gint64 value)
{
  g_string_append_printf (out, "%s{", name);
  noom_metrics_label (out, "room", noom_json_node_get_string
      (json_object_get_member (link, "room")));
  g_string_append_c (out, ',');
  noom_metrics_label (out, "participant", noom_json_node_get_string
      (json_object_get_member (link, "id")));
  if (from) {
    g_string_append_c (out, ',');
    noom_metrics_label (out, "publisher", from);
  }
  g_string_append_printf (out, "} %" G_GINT64_FORMAT "\n", value);
}

/* What each SFU subscriber asked of the relay (members of its link) */
static const struct
{
  const gchar *field, *metric, *help;
} link_counters[] = {
  {"nacks", "noom_sfu_subscriber_nacks_total",
      "NACK messages an SFU subscriber sent the media relay (packets it "
        "lost on the way)."},
  {"keyframe_requests", "noom_sfu_subscriber_keyframe_requests_total",
      "Keyframe requests (PLI, FIR) an SFU subscriber sent the media relay."},
};

/* Each SFU subscriber's estimated link and the layers it gets (issue
 * "bandwidth adaptation": docs/server.md, "Metrics"). */
static void
write_sfu_links (JsonArray * links, GString * out)
{
  guint i, j, n = links ? json_array_get_length (links) : 0;

  noom_metrics_header (out, "noom_sfu_subscriber_estimate_bits_per_second",
      "gauge", "Each SFU subscriber's link from the media relay, as the relay "
      "estimates it from the subscriber's TWCC feedback.");
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (links, i);

    if (JSON_NODE_HOLDS_OBJECT (node)
        && json_object_has_member (json_node_get_object (node), "estimate"))
      write_link_row (out, "noom_sfu_subscriber_estimate_bits_per_second",
          json_node_get_object (node), NULL,
          json_object_get_int_member_with_default (json_node_get_object
              (node), "estimate", 0));
  }
  for (j = 0; j < G_N_ELEMENTS (link_counters); j++) {
    noom_metrics_header (out, link_counters[j].metric, "counter",
        link_counters[j].help);
    for (i = 0; i < n; i++) {
      JsonNode *node = json_array_get_element (links, i);

      if (JSON_NODE_HOLDS_OBJECT (node))
        write_link_row (out, link_counters[j].metric,
            json_node_get_object (node), NULL,
            json_object_get_int_member_with_default (json_node_get_object
                (node), link_counters[j].field, 0));
    }
  }
  noom_metrics_header (out, "noom_sfu_subscriber_layer", "gauge",
      "The highest VP8 temporal layer of a publisher's video the media relay "
      "sends a subscriber: 1 is the whole frame rate, 0 half of it (its link "
      "is too slow for the whole stream).");
  for (i = 0; i < n; i++) {
    JsonNode *node = json_array_get_element (links, i);
    JsonObject *link;
    JsonArray *layers;

    if (!JSON_NODE_HOLDS_OBJECT (node))
      continue;
    link = json_node_get_object (node);
    if (!json_object_has_member (link, "layers") ||
        !JSON_NODE_HOLDS_ARRAY (json_object_get_member (link, "layers")))
      continue;
    layers = json_object_get_array_member (link, "layers");
    for (j = 0; j < json_array_get_length (layers); j++) {
      JsonNode *l = json_array_get_element (layers, j);
      const gchar *from;

      if (!JSON_NODE_HOLDS_OBJECT (l))
        continue;
      from = noom_json_node_get_string (json_object_get_member
          (json_node_get_object (l), "from"));
      if (from)
        write_link_row (out, "noom_sfu_subscriber_layer", link, from,
            json_object_get_int_member_with_default (json_node_get_object
                (l), "layer", 0));
    }
  }
}

/* The media relay's share of /metrics (--sfu); @up: it is running. */
void
noom_room_server_write_sfu_metrics (NoomRoomServer * self, GString * out,
    gboolean up)
{
  guint i;

  noom_metrics_header (out, "noom_sfu_tracks", "gauge",
      "Tracks the media relay receives from publishers.");
  g_string_append_printf (out, "noom_sfu_tracks %" G_GINT64_FORMAT "\n",
      up ? self->sfu_tracks : 0);
  noom_metrics_header (out, "noom_sfu_forwards", "gauge",
      "Copies of those tracks the relay sends to subscribers.");
  g_string_append_printf (out, "noom_sfu_forwards %" G_GINT64_FORMAT "\n",
      up ? self->sfu_forwards : 0);
  for (i = 0; i < SFU_COUNTERS; i++) {
    noom_metrics_header (out, sfu_counters[i].metric, "counter",
        sfu_counters[i].help);
    g_string_append_printf (out, "%s %" G_GUINT64_FORMAT "\n",
        sfu_counters[i].metric, self->sfu_base[i] + self->sfu_last[i]);
  }
  write_sfu_links (self->sfu_links && up ? self->sfu_links : NULL, out);
}

void
noom_room_server_write_metrics (NoomRoomServer * self, GString * out)
{
  g_autoptr (GPtrArray) rooms = noom_room_set_list (self->rooms);
  guint64 local = 0, remote = 0;
  guint i, j;

  for (i = 0; i < rooms->len; i++) {
    NoomRoom *room = rooms->pdata[i];

    for (j = 0; j < noom_room_get_count (room); j++) {
      if (((Conn *) noom_room_get_member (room, j))->node)
        remote++;
      else
        local++;
    }
  }
  noom_metrics_header (out, "noom_rooms", "gauge",
      "Rooms with participants (on every node of the cluster).");
  g_string_append_printf (out, "noom_rooms %u\n", rooms->len);
  noom_metrics_header (out, "noom_participants", "gauge",
      "Participants in rooms, connected to this node (local) or to "
      "another node of the cluster (remote).");
  g_string_append_printf (out, "noom_participants{node=\"local\"} %"
      G_GUINT64_FORMAT "\nnoom_participants{node=\"remote\"} %"
      G_GUINT64_FORMAT "\n", local, remote);
  noom_metrics_header (out, "noom_signalling_messages_total", "counter",
      "Socket.IO events received from clients, by event.");
  for (i = 0; i <= NOOM_EVENT_LAST; i++)
    g_string_append_printf (out, "noom_signalling_messages_total{event=\"%s\"} "
        "%" G_GUINT64_FORMAT "\n", noom_event_type_to_string (i),
        self->n_events[i]);
  g_string_append_printf (out, "noom_signalling_messages_total{event=\""
      "unknown\"} %" G_GUINT64_FORMAT "\n", self->n_unknown_events);
  g_string_append_printf (out, "noom_signalling_messages_total{event=\""
      "invalid\"} %" G_GUINT64_FORMAT "\n", self->n_invalid_events);
  noom_metrics_histogram (out, "noom_join_duration_seconds",
      "Time from a join request to its answer (with --redis, the join "
      "script's round trip included).", &self->join_latency);
  noom_metrics_header (out, "noom_joins_refused_total", "counter",
      "Joins refused, by error code.");
  for (i = 0; i < G_N_ELEMENTS (self->n_refused_joins); i++)
    g_string_append_printf (out, "noom_joins_refused_total{reason=\"%s\"} %"
        G_GUINT64_FORMAT "\n", noom_room_error_to_code (i),
        self->n_refused_joins[i]);
  noom_metrics_header (out, "noom_rate_limited_total", "counter",
      "Events and CONNECTs dropped by the per-connection rate limit.");
  g_string_append_printf (out, "noom_rate_limited_total %" G_GUINT64_FORMAT
      "\n", self->n_rate_limited);
}
