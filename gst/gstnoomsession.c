/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GstNoomSession: one element's connection to a room, shared by noomsink and
 * noomsrc.  It owns the settings behind the uri/server/room/... properties,
 * the signalling thread with its own GMainContext (the NoomClient and every
 * GstNoomPeer negotiation live there) and the table of peers.  "Who sends
 * the offer" (docs/protocol.md §7) is noom_offer_plan() (lib/noom-offer.c):
 * the session asks it for each new peer (create_peer_full(), told whether
 * we were first: on_participant_joined() yes, on_joined() no) and hands the
 * plan to the peer; the elements map its directions onto transceivers.
 * In a room that forwards media through the server (§11, the join ack
 * says "media":"sfu") it asks noom_offer_plan_sfu() instead: no peer per
 * participant, one with the relay, made when the relay's first offer comes
 * and answering every later one.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <sys/types.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>

#include "gstnoomsession.h"
#include "gstnoomenums.h"
#include "gstnoompeer.h"
#include "noom-uri.h"

GST_DEBUG_CATEGORY_STATIC (gst_noom_session_debug);
#define GST_CAT_DEFAULT gst_noom_session_debug

#define DEFAULT_MAX_PEERS 15
#define DEFAULT_CONNECT_TIMEOUT 10000
#define DEFAULT_RECONNECT_WINDOW 30000
#define DEFAULT_ICE_TRANSPORT_POLICY GST_NOOM_ICE_TRANSPORT_POLICY_ALL
/* Reconnection backoff: first retry, and the most between retries (ms). */
#define RECONNECT_FIRST_DELAY 500
#define RECONNECT_MAX_DELAY 5000
/* Joins again for a new connection to the SFU relay, in a row (reset when
 * one comes up), before giving up with an error. */
#define MAX_RELAY_REJOINS 3

/* The same values and nicks as webrtcbin's GstWebRTCICETransportPolicy,
 * which is passed on by nick (no link to gstreamer-webrtc needed). */

/* Where the session is (session thread).  Only set_state() changes it,
 * along legal_moves[]:
 *
 *   IDLE -> CONNECTING -> CONNECTED -> JOINING -> JOINED -> LEFT
 *
 * Once connected, the request says where to go: CONNECTED (nothing asked
 * yet), JOINING or LEFT.  A failed join goes back to CONNECTED, a leave
 * from any connected state to LEFT.  A dropped connection goes to
 * RECONNECTING, which goes on as CONNECTING does: a rejoin is
 * RECONNECTING -> JOINING -> JOINED (a leave while an attempt is under way
 * ends it in LEFT, between two attempts in IDLE).  LEFT is final: a join
 * ack that comes after it is answered with a leave, and a drop ends the
 * session quietly (IDLE).  Stopping, and an error that ends the session,
 * go back to IDLE. */
typedef enum
{
  GST_NOOM_SESSION_STATE_IDLE,  /* not started, stopped, or failed (the
                                   error is posted) */
  GST_NOOM_SESSION_STATE_CONNECTING,    /* the first connection is under way */
  GST_NOOM_SESSION_STATE_CONNECTED,     /* connected, not in the room nor on
                                           the way: the element has not
                                           asked to join yet, or the join
                                           failed (the error is posted) */
  GST_NOOM_SESSION_STATE_JOINING,       /* the join is sent, no ack yet */
  GST_NOOM_SESSION_STATE_JOINED,        /* in the room: the early events
                                           are replayed, new ones handled */
  GST_NOOM_SESSION_STATE_RECONNECTING,  /* the connection dropped (lost_at):
                                           the next attempt is due, or under
                                           way */
  GST_NOOM_SESSION_STATE_LEFT,  /* connected, and the element left the room
                                   (request LEAVE): no join any more */
  GST_NOOM_SESSION_N_STATES
} GstNoomSessionState;

/* What the element asked of the session (session thread).  Not a state:
 * noomsink asks to join only once its streams know their codecs, which can
 * be before or after we are connected, and what it asked outlasts the
 * connection: after a reconnection we rejoin only if it asked to join, and
 * never once it left. */
typedef enum
{
  GST_NOOM_SESSION_REQUEST_NONE,        /* nothing yet */
  GST_NOOM_SESSION_REQUEST_JOIN,        /* gst_noom_session_join() */
  GST_NOOM_SESSION_REQUEST_LEAVE,       /* gst_noom_session_leave() (EOS):
                                           never join again */
} GstNoomSessionRequest;

struct _GstNoomSession
{
  GstObject parent;

  GstElement *element;          /* the owner, not a ref: it owns us */
  gchar *kind;
  NoomFeatures features;        /* set before start, read-only after */
  GstNoomSessionHooks hooks;

  /* Lock order: element's object lock, then this object's lock, then
   * peers_lock.  Nothing is called out to while holding any of them. */

  /* Settings, under the object lock. */
  gboolean tls;
  gchar *host;
  guint port;
  gchar *room;
  gchar *nickname;
  gchar *token;
  gchar *ice_servers;
  gchar *ice_local_addresses;
  guint max_peers;
  guint connect_timeout;
  gboolean accept_invalid_certificates;
  GstNoomIceTransportPolicy ice_transport_policy;
  guint reconnect_window;
  gchar *uri_error;             /* why the last uri was refused, until a uri,
                                   server or room is set */
  gchar *self_id;               /* once joined */
  guint media_state;            /* NoomMediaState to tell the room, when
                                 * media_state_set (object lock) */
  gboolean media_state_set;
  gboolean in_room;             /* state is JOINED (set_state()): whether
                                   send-chat is taken, from any thread */

  /* The thread; context and loop are set under the object lock. */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;

  /* Session thread only. */
  NoomClient *client;
  GCancellable *cancellable;
  NoomUri *uri;                 /* snapshot of the settings at start */
  gchar *http_url;
  gchar **room_ice_servers;
  gchar **local_addresses;
  GstNoomSessionState state;    /* set_state() only */
  GstNoomSessionRequest request;
  gint64 lost_at;               /* monotonic µs the connection dropped, until
                                   we are back in the room (0: not lost
                                   since): the reconnect window, and "Back
                                   in room after X s" */
  guint reconnect_delay;        /* ms before the next attempt */
  GSource *reconnect_source;
  NoomMediaFlags sends;
  gchar *relay_id;              /* SFU room (docs/protocol.md §11): the
                                   relay's id from the join ack; NULL in a
                                   mesh room */
  guint relay_rejoins;          /* joins again since the relay's connection
                                   was last up */
  GQueue early;                 /* Early*: what arrived before the join ack */
  /* The others in the room as the server told us (join ack, welcome,
   * participant_update, bye): id -> NoomParticipant.  What a participant
   * may send us is its `sends` here, whatever its offers say. */
  GHashTable *roster;

  GMutex peers_lock;
  GHashTable *peers;            /* participant id -> GstNoomPeer */
};

G_DEFINE_TYPE_WITH_CODE (GstNoomSession, gst_noom_session, GST_TYPE_OBJECT,
    GST_DEBUG_CATEGORY_INIT (gst_noom_session_debug, "noomsession", 0,
        "Noom room session"));

#define MOVE(s) (1 << GST_NOOM_SESSION_STATE_ ## s)
/* legal_moves[from]: the states set_state() may go to from @from. */
static const guint legal_moves[GST_NOOM_SESSION_N_STATES] = {
  [GST_NOOM_SESSION_STATE_IDLE] = MOVE (CONNECTING),
  [GST_NOOM_SESSION_STATE_CONNECTING] = MOVE (CONNECTED) | MOVE (JOINING) |
      MOVE (LEFT) | MOVE (IDLE),
  [GST_NOOM_SESSION_STATE_CONNECTED] = MOVE (JOINING) | MOVE (LEFT) |
      MOVE (RECONNECTING) | MOVE (IDLE),
  [GST_NOOM_SESSION_STATE_JOINING] = MOVE (JOINED) | MOVE (CONNECTED) |
      MOVE (LEFT) | MOVE (RECONNECTING) | MOVE (IDLE),
  /* JOINED -> JOINING: a join again for a new SFU relay connection
   * (relay_failed()) */
  [GST_NOOM_SESSION_STATE_JOINED] = MOVE (JOINING) | MOVE (LEFT) |
      MOVE (RECONNECTING) | MOVE (IDLE),
  [GST_NOOM_SESSION_STATE_RECONNECTING] = MOVE (CONNECTED) | MOVE (JOINING) |
      MOVE (LEFT) | MOVE (IDLE),
  /* Left is final: the ack of a join that was on its way is answered with
   * a leave (on_joined()), and a drop ends the session (on_disconnected()). */
  [GST_NOOM_SESSION_STATE_LEFT] = MOVE (IDLE),
};

#undef MOVE

static const gchar *
state_name (GstNoomSessionState state)
{
  static const gchar *names[GST_NOOM_SESSION_N_STATES] = {
    "idle", "connecting", "connected", "joining", "joined", "reconnecting",
    "left",
  };

  return names[state];
}

/* The one place the state changes (session thread).  @why: for the log. */
static void
set_state (GstNoomSession * self, GstNoomSessionState state, const gchar * why)
{
  if (state == self->state)
    return;
  if (!(legal_moves[self->state] & (1 << state))) {
    GST_WARNING_OBJECT (self, "refused state change: %s -> %s (%s)",
        state_name (self->state), state_name (state), why);
    return;
  }
  GST_INFO_OBJECT (self, "state: %s -> %s (%s)", state_name (self->state),
      state_name (state), why);
  self->state = state;
  GST_OBJECT_LOCK (self);
  self->in_room = state == GST_NOOM_SESSION_STATE_JOINED;
  GST_OBJECT_UNLOCK (self);
}

/* What the client delivered before our join ack was handled (the ack's
 * callback runs from an idle): welcomes, byes, renames, offers and
 * candidates are replayed in order once the peers of the ack exist
 * (replay_early()). */
typedef enum
{
  EARLY_JOINED,                 /* a welcome */
  EARLY_LEFT,                   /* a bye */
  EARLY_UPDATED,                /* a participant_update */
  EARLY_OFFER,
  EARLY_ICE,
} EarlyKind;

typedef struct
{
  EarlyKind kind;
  union
  {
    NoomParticipant *joined;
    NoomParticipant *left;
    NoomParticipant *updated;
    struct
    {
      gchar *from;
      gchar *sdp;
    } offer;
    struct
    {
      gchar *from;
      guint mline_index;
      gchar *candidate;
    } ice;
  };
} Early;

static Early *
early_new (EarlyKind kind)
{
  Early *e = g_new0 (Early, 1);

  e->kind = kind;
  return e;
}

static void
early_free (gpointer data)
{
  Early *e = data;

  switch (e->kind) {
    case EARLY_JOINED:
      noom_participant_unref (e->joined);
      break;
    case EARLY_LEFT:
      noom_participant_unref (e->left);
      break;
    case EARLY_UPDATED:
      noom_participant_unref (e->updated);
      break;
    case EARLY_OFFER:
      g_free (e->offer.from);
      g_free (e->offer.sdp);
      break;
    case EARLY_ICE:
      g_free (e->ice.from);
      g_free (e->ice.candidate);
      break;
  }
  g_free (e);
}

/* Keeps @e for replay_early(), or drops it once the element left: no ack
 * will replay it. */
static void
keep_early (GstNoomSession * self, Early * e)
{
  if (self->request == GST_NOOM_SESSION_REQUEST_LEAVE) {
    GST_DEBUG_OBJECT (self, "dropped an event of kind %d: we left", e->kind);
    early_free (e);
    return;
  }
  g_queue_push_tail (&self->early, e);
}

static void remove_peer (GstNoomSession * self, const gchar * id);
static void remove_all_peers (GstNoomSession * self);

/* ------------------------------------------------------------------------ */
/* properties shared by both elements */

void
gst_noom_session_install_properties (GObjectClass * klass)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstNoomBaseBin:uri:
   *
   * The room, as noom://host[:port]/room[?nickname=...&token=...], or
   * nooms:// for TLS.  Sets server, room, nickname and token at once.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_NOOM_SESSION_PROP_URI,
      g_param_spec_string ("uri", "URI",
          "The room: noom://host[:port]/room[?nickname=NAME&token=TOKEN] "
          "(nooms:// for TLS, default port 8080)", NULL, rw));
  /**
   * GstNoomBaseBin:server:
   *
   * The Noom server, host[:port] or http[s]://host[:port] (https: TLS).
   * The uri property sets it too.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_NOOM_SESSION_PROP_SERVER,
      g_param_spec_string ("server", "Server",
          "The Noom server: host[:port] or http[s]://host[:port] "
          "(https: TLS)", NULL, rw));
  /**
   * GstNoomBaseBin:room:
   *
   * The room to join; the server creates it when it does not exist. The
   * uri property sets it too.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_NOOM_SESSION_PROP_ROOM,
      g_param_spec_string ("room", "Room",
          "The name of the room to join (created when it does not exist)",
          NULL, rw));
  /**
   * GstNoomBaseBin:nickname:
   *
   * The name the others see.  It can change at any time: in the room, the
   * others get the new name at once (a refusal by the server is posted as
   * a warning), and a rejoin after a reconnection uses it.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_NOOM_SESSION_PROP_NICKNAME,
      g_param_spec_string ("nickname", "Nickname",
          "The name the others see (NULL: the server's default); can change "
          "in the room", NULL, G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_PLAYING));
  /**
   * GstNoomBaseBin:token:
   *
   * The room's access token (docs/protocol.md section 1, Access), sent
   * when connecting; needed when the server runs with --token-secret.
   * NULL: none.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_NOOM_SESSION_PROP_TOKEN,
      g_param_spec_string ("token", "Token",
          "Access token sent when connecting (NULL: none)", NULL, rw));
  /**
   * GstNoomBaseBin:ice-servers:
   *
   * STUN and TURN servers for every connection, comma-separated, as
   * webrtcbin takes them (stun://host:port, turn://user:pass@host:port,
   * turns://...). NULL: the ones the room hands out. A value with an entry
   * of another scheme or without a host is refused with a warning naming
   * that entry.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_NOOM_SESSION_PROP_ICE_SERVERS,
      g_param_spec_string ("ice-servers", "ICE servers",
          "Comma-separated STUN/TURN servers as webrtcbin takes them "
          "(stun://host:port, turn://user:pass@host:port, turns://...); "
          "NULL: those the room hands out.  A value with an entry of "
          "another scheme or without a host is refused with a warning",
          NULL, rw));
  /**
   * GstNoomBaseBin:ice-local-addresses:
   *
   * Local IP addresses to gather ICE candidates on, comma-separated,
   * loopback included (e.g. 127.0.0.1). NULL: every interface, and
   * 127.0.0.1 when the machine has no other address.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass,
      GST_NOOM_SESSION_PROP_ICE_LOCAL_ADDRESSES,
      g_param_spec_string ("ice-local-addresses", "ICE local addresses",
          "Comma-separated local IP addresses to gather ICE candidates on, "
          "loopback included (e.g. 127.0.0.1); NULL: every interface, and "
          "127.0.0.1 when the machine has no other address", NULL, rw));
  /**
   * GstNoomBaseBin:max-peers:
   *
   * The most participants to be connected to at once; the others are left
   * out, with a warning.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_NOOM_SESSION_PROP_MAX_PEERS,
      g_param_spec_uint ("max-peers", "Max peers",
          "Most participants to connect to at once (the others are ignored)",
          1, G_MAXINT, DEFAULT_MAX_PEERS, rw));
  /**
   * GstNoomBaseBin:connect-timeout:
   *
   * Milliseconds to wait for the server when starting before the element
   * fails with an error naming it.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass,
      GST_NOOM_SESSION_PROP_CONNECT_TIMEOUT,
      g_param_spec_uint ("connect-timeout", "Connect timeout",
          "Milliseconds to wait for the server before failing", 100,
          G_MAXINT, DEFAULT_CONNECT_TIMEOUT, rw));
  /**
   * GstNoomBaseBin:accept-invalid-certificates:
   *
   * For nooms://: accept a server certificate that does not validate
   * (self-signed, another host name, expired). For tests and private
   * deployments only.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass,
      GST_NOOM_SESSION_PROP_ACCEPT_INVALID_CERTIFICATES,
      g_param_spec_boolean ("accept-invalid-certificates",
          "Accept invalid certificates",
          "For nooms://: accept a server certificate that does not validate "
          "(self-signed, wrong host, expired); for tests and private "
          "deployments only", FALSE, rw));
  /**
   * GstNoomBaseBin:ice-transport-policy:
   *
   * Set on every connection's webrtcbin: "relay" gathers and uses TURN
   * relay candidates only.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass,
      GST_NOOM_SESSION_PROP_ICE_TRANSPORT_POLICY,
      g_param_spec_enum ("ice-transport-policy", "ICE transport policy",
          "Which ICE candidates the connections use (relay: TURN only)",
          GST_TYPE_NOOM_ICE_TRANSPORT_POLICY, DEFAULT_ICE_TRANSPORT_POLICY,
          rw));
  /**
   * GstNoomBaseBin:reconnect-window:
   *
   * When the server connection drops, how long (ms) to keep reconnecting
   * and rejoining before failing; 0 fails at once.  noomsrc keeps the pads
   * of the participants it lost with the connection, and after the rejoin
   * waits as long for them to be back before it ends those pads.
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass,
      GST_NOOM_SESSION_PROP_RECONNECT_WINDOW,
      g_param_spec_uint ("reconnect-window", "Reconnect window",
          "Milliseconds to keep reconnecting to the server after the "
          "connection drops (0: fail at once); noomsrc: also to wait after "
          "the rejoin for the participants whose pads it kept", 0, G_MAXINT,
          DEFAULT_RECONNECT_WINDOW, rw));
  /**
   * GstNoomBaseBin:stats:
   *
   * A "application/x-noom-stats" structure: room, id and a "participants"
   * array of "participant" structures (id, nickname, connection-state,
   * bytes-sent, packets-sent, bytes-received, packets-received,
   * packets-lost, round-trip-time in seconds).  noomsink with congestion
   * control adds its view of each link (estimated-bitrate, video-layer,
   * fraction-lost, and bandwidth-feedback: "twcc" or "remb" for the
   * feedback the estimate follows, "none" while it is the start bitrate);
   * noomsrc adds video-layer for a participant whose VP8
   * comes with temporal layers (the highest that arrived in the last
   * second).
   *
   * Since: 0.1
   */
  g_object_class_install_property (klass, GST_NOOM_SESSION_PROP_STATS,
      g_param_spec_boxed ("stats", "Statistics",
          "Per participant connection state and RTP statistics",
          GST_TYPE_STRUCTURE, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
}

void
gst_noom_session_install_signals (GObjectClass * klass)
{
  static const gchar *names[] = {
    "participant-joined", "participant-left", "participant-connected",
    "participant-failed", "participant-updated",
  };
  guint i;

  /**
   * GstNoomBaseBin::participant-joined:
   * @id: the participant id
   * @nickname: its nickname
   *
   * A participant is in the room: one that joins, and each of those
   * already there when we join (also after a rejoin). Posted too as the
   * element message "noom-participant-joined" (fields id, nickname, kind).
   * Emitted on the session thread.
   *
   * Since: 0.1
   */
  /**
   * GstNoomBaseBin::participant-left:
   * @id: the participant id
   * @nickname: its nickname
   *
   * A participant left the room (or its connection to the server ended).
   * Element message "noom-participant-left". Emitted on the session
   * thread.
   *
   * Since: 0.1
   */
  /**
   * GstNoomBaseBin::participant-connected:
   * @id: the participant id
   * @nickname: its nickname
   *
   * The connection to a participant is up (ICE and DTLS): media flows.
   * Element message "noom-participant-connected". Emitted on the session
   * thread.
   *
   * Since: 0.1
   */
  /**
   * GstNoomBaseBin::participant-failed:
   * @id: the participant id
   * @nickname: its nickname
   *
   * The connection to a participant failed for good (after the
   * reconnections the offerer tries); the others are not affected. Element
   * message "noom-participant-failed". Emitted on the session thread.
   *
   * Since: 0.1
   */
  /**
   * GstNoomBaseBin::participant-updated:
   * @id: the participant id
   * @nickname: its new nickname
   *
   * A participant changed its nickname; @nickname is the new one. Element
   * message "noom-participant-updated". Emitted on the session thread.
   *
   * Since: 0.1
   */
  for (i = 0; i < G_N_ELEMENTS (names); i++)
    g_signal_new (names[i], G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
        NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_STRING, G_TYPE_STRING);

  /**
   * GstNoomBaseBin::chat-message:
   * @id: the sender's participant id
   * @nickname: the sender's nickname
   * @text: the message
   *
   * Someone else in the room wrote to the room's chat (docs/protocol.md
   * new_message; our own messages, sent with #GstNoomBaseBin::send-chat,
   * do not come back). Posted too as the element message
   * "noom-chat-message" (fields id, nickname, text). Emitted on the
   * session thread.
   *
   * Since: 0.1
   */
  g_signal_new ("chat-message", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
      0, NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_STRING, G_TYPE_STRING,
      G_TYPE_STRING);
}

/* Checks a room or nickname against the server's rule by way of the URI
 * parser, so the rule lives in one place (lib/noom-uri.c). */
static gboolean
check_name (const gchar * name, gboolean is_room, GError ** error)
{
  g_autofree gchar *escaped = g_uri_escape_string (name, NULL, FALSE);
  g_autofree gchar *s = is_room ?
      g_strdup_printf ("noom://localhost/%s", escaped) :
      g_strdup_printf ("noom://localhost/r?nickname=%s", escaped);
  g_autoptr (NoomUri) uri = noom_uri_parse (s, error);

  return uri != NULL;
}

static gboolean
parse_server (const gchar * server, gboolean * tls, gchar ** host,
    guint * port, GError ** error)
{
  g_autofree gchar *s = strstr (server, "://") ? g_strdup (server) :
      g_strdup_printf ("http://%s", server);
  g_autoptr (GUri) uri = g_uri_parse (s, G_URI_FLAGS_NONE, error);
  const gchar *scheme, *path;

  if (!uri)
    return FALSE;
  scheme = g_uri_get_scheme (uri);
  path = g_uri_get_path (uri);
  if (!g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_HOST,
        "The server \"%s\" names no host", server);
    return FALSE;
  }
  if (g_ascii_strcasecmp (scheme, "http") && g_ascii_strcasecmp (scheme, "ws")
      && g_ascii_strcasecmp (scheme, "noom")
      && g_ascii_strcasecmp (scheme, "https")
      && g_ascii_strcasecmp (scheme, "wss")
      && g_ascii_strcasecmp (scheme, "nooms")) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_SCHEME,
        "The server \"%s\" is not http(s):// or host:port", server);
    return FALSE;
  }
  if (path && *path && strcmp (path, "/")) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PATH,
        "The server \"%s\" has a path; put the room in the room property",
        server);
    return FALSE;
  }
  *tls = !g_ascii_strcasecmp (scheme, "https")
      || !g_ascii_strcasecmp (scheme, "wss")
      || !g_ascii_strcasecmp (scheme, "nooms");
  *host = g_strdup (g_uri_get_host (uri));
  *port = g_uri_get_port (uri) > 0 ? (guint) g_uri_get_port (uri) :
      NOOM_URI_DEFAULT_PORT;
  return TRUE;
}

/* Called with the element's object lock held. */
static gboolean
can_change (GstNoomSession * self, GParamSpec * pspec)
{
  if (GST_STATE (self->element) > GST_STATE_READY ||
      GST_STATE_PENDING (self->element) > GST_STATE_READY) {
    g_warning ("%s: changing the '%s' property above the READY state is "
        "not supported", GST_ELEMENT_NAME (self->element), pspec->name);
    return FALSE;
  }
  return TRUE;
}

gboolean
gst_noom_session_set_uri (GstNoomSession * self, const gchar * uri_string,
    GError ** error)
{
  g_autoptr (NoomUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;

  GST_OBJECT_LOCK (self->element);
  if (GST_STATE (self->element) > GST_STATE_READY) {
    GST_OBJECT_UNLOCK (self->element);
    g_set_error (error, GST_URI_ERROR, GST_URI_ERROR_BAD_STATE,
        "Changing the URI of %s above the READY state is not supported",
        GST_ELEMENT_NAME (self->element));
    return FALSE;
  }
  GST_OBJECT_UNLOCK (self->element);

  if (uri_string) {
    uri = noom_uri_parse (uri_string, &local_error);
    if (!uri) {
      /* Kept for start: "No room to join: set the uri" would be wrong
       * when the uri was set. */
      GST_OBJECT_LOCK (self);
      g_free (self->uri_error);
      self->uri_error = g_strdup_printf ("Invalid Noom URI \"%s\": %s",
          uri_string, local_error->message);
      g_set_error_literal (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI,
          self->uri_error);
      GST_OBJECT_UNLOCK (self);
      return FALSE;
    }
  }

  GST_OBJECT_LOCK (self);
  g_clear_pointer (&self->uri_error, g_free);
  g_clear_pointer (&self->host, g_free);
  g_clear_pointer (&self->room, g_free);
  g_clear_pointer (&self->nickname, g_free);
  g_clear_pointer (&self->token, g_free);
  self->tls = FALSE;
  self->port = NOOM_URI_DEFAULT_PORT;
  if (uri) {
    self->tls = uri->tls;
    self->host = g_strdup (uri->host);
    self->port = uri->port;
    self->room = g_strdup (uri->room);
    self->nickname = g_strdup (uri->nickname);
    self->token = g_strdup (uri->token);
  }
  GST_OBJECT_UNLOCK (self);
  GST_DEBUG_OBJECT (self, "uri set to %s", GST_STR_NULL (uri_string));
  return TRUE;
}

gchar *
gst_noom_session_get_uri (GstNoomSession * self)
{
  NoomUri uri = { 0, };
  gchar *ret = NULL;

  GST_OBJECT_LOCK (self);
  if (self->host && self->room) {
    uri.tls = self->tls;
    uri.host = self->host;
    uri.port = self->port;
    uri.room = self->room;
    uri.nickname = self->nickname;
    uri.token = self->token;
    ret = noom_uri_to_string (&uri);
  }
  GST_OBJECT_UNLOCK (self);
  return ret;
}

const gchar *const *
gst_noom_session_get_protocols (void)
{
  static const gchar *protocols[] = { "noom", "nooms", NULL };
  return protocols;
}

static void
rename_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstNoomSession *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *confirmed =
      noom_client_set_nickname_finish (NOOM_CLIENT (source), res, &error);

  if (confirmed)
    GST_INFO_OBJECT (self, "the room knows us as \"%s\" now", confirmed);
  else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
      && !g_error_matches (error, NOOM_CLIENT_ERROR,
          NOOM_CLIENT_ERROR_DISCONNECTED) && NOOM_CLIENT (source) == self->client)
    GST_ELEMENT_WARNING (self->element, RESOURCE, SETTINGS,
        ("The server refused the new nickname: %s", error->message), (NULL));
  gst_object_unref (self);
}

/* The nickname property changed while running (session thread): a rejoin
 * uses the new one, and a connected client renames at once (the protocol
 * takes a nickname at any time, also while the join is on its way). */
static gboolean
rename_now (gpointer data)
{
  GstNoomSession *self = data;
  g_autofree gchar *nickname = NULL;

  GST_OBJECT_LOCK (self);
  nickname = g_strdup (self->nickname);
  GST_OBJECT_UNLOCK (self);
  if (self->uri) {
    g_free (self->uri->nickname);
    self->uri->nickname = g_strdup (nickname);
  }
  if (self->client && nickname && noom_client_is_connected (self->client)) {
    GST_DEBUG_OBJECT (self, "renaming to \"%s\"", nickname);
    noom_client_set_nickname_async (self->client, nickname,
        self->cancellable, rename_done, gst_object_ref (self));
  }
  return G_SOURCE_REMOVE;
}

/* What configure_webrtcbin() hands webrtcbin: the checks noom-server
 * makes of its --ice-server (a known scheme, a host after it), in
 * webrtcbin's URL form.  Empty entries (a trailing comma) are fine.
 * @bad: the first entry that is not. */
static gboolean
check_ice_servers (const gchar * list, gchar ** bad)
{
  g_auto (GStrv) entries = g_strsplit (list, ",", -1);
  guint i;

  for (i = 0; entries[i]; i++) {
    const gchar *url = g_strstrip (entries[i]);
    g_autoptr (GUri) uri = NULL;
    const gchar *scheme;

    if (!*url)
      continue;
    uri = g_uri_parse (url, G_URI_FLAGS_NONE, NULL);
    scheme = uri ? g_uri_get_scheme (uri) : NULL;
    if (!uri || !g_utf8_validate (url, -1, NULL) || strpbrk (url, " \t\r\n")
        || (g_ascii_strcasecmp (scheme, "stun")
            && g_ascii_strcasecmp (scheme, "turn")
            && g_ascii_strcasecmp (scheme, "turns"))
        || !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
      *bad = g_strdup (url);
      return FALSE;
    }
  }
  return TRUE;
}

gboolean
gst_noom_session_set_property (GstNoomSession * self, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  g_autoptr (GError) error = NULL;
  const gchar *s;
  gboolean ok;

  if (prop_id == 0 || prop_id >= GST_NOOM_SESSION_PROP_LAST)
    return FALSE;

  if (prop_id == GST_NOOM_SESSION_PROP_URI) {
    if (!gst_noom_session_set_uri (self, g_value_get_string (value), &error))
      g_warning ("%s: %s", GST_ELEMENT_NAME (self->element), error->message);
    return TRUE;
  }

  if (prop_id != GST_NOOM_SESSION_PROP_NICKNAME) {
    GST_OBJECT_LOCK (self->element);
    ok = can_change (self, pspec);
    GST_OBJECT_UNLOCK (self->element);
    if (!ok)
      return TRUE;
  }

  s = G_VALUE_HOLDS_STRING (value) ? g_value_get_string (value) : NULL;
  switch (prop_id) {
    case GST_NOOM_SESSION_PROP_SERVER:{
      gboolean tls = FALSE;
      gchar *host = NULL;
      guint port = NOOM_URI_DEFAULT_PORT;

      if (s && !parse_server (s, &tls, &host, &port, &error)) {
        g_warning ("%s: invalid server: %s", GST_ELEMENT_NAME (self->element),
            error->message);
        break;
      }
      GST_OBJECT_LOCK (self);
      g_clear_pointer (&self->uri_error, g_free);
      g_free (self->host);
      self->host = host;
      self->port = port;
      self->tls = tls;
      GST_OBJECT_UNLOCK (self);
      break;
    }
    case GST_NOOM_SESSION_PROP_ROOM:
    case GST_NOOM_SESSION_PROP_NICKNAME:{
      gboolean is_room = prop_id == GST_NOOM_SESSION_PROP_ROOM;

      if (s && !check_name (s, is_room, &error)) {
        g_warning ("%s: invalid %s: %s", GST_ELEMENT_NAME (self->element),
            pspec->name, error->message);
        break;
      }
      GST_OBJECT_LOCK (self);
      if (is_room) {
        g_clear_pointer (&self->uri_error, g_free);
        g_free (self->room);
        self->room = g_strdup (s);
      } else {
        g_free (self->nickname);
        self->nickname = g_strdup (s);
      }
      GST_OBJECT_UNLOCK (self);
      /* running: tell the room (a no-op when stopped) */
      if (!is_room)
        gst_noom_session_invoke (self, rename_now, gst_object_ref (self),
            gst_object_unref);
      break;
    }
    case GST_NOOM_SESSION_PROP_TOKEN:
      GST_OBJECT_LOCK (self);
      g_free (self->token);
      self->token = g_strdup (s);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_NOOM_SESSION_PROP_ICE_SERVERS:{
      g_autofree gchar *bad = NULL;

      if (s && !check_ice_servers (s, &bad)) {
        /* g_warning as for every refused value (gst-launch shows it);
         * the element warning for applications watching the bus. */
        g_warning ("%s: invalid ice-servers: \"%s\" is not a "
            "stun://host[:port], turn://user:pass@host[:port] or turns:// "
            "URL", GST_ELEMENT_NAME (self->element), bad);
        GST_ELEMENT_WARNING (self->element, RESOURCE, SETTINGS,
            ("Ignoring the ice-servers value: \"%s\" is not a "
                "stun://host[:port], turn://user:pass@host[:port] or "
                "turns:// URL.", bad), ("ice-servers \"%s\"", s));
        break;
      }
      GST_OBJECT_LOCK (self);
      g_free (self->ice_servers);
      self->ice_servers = g_strdup (s);
      GST_OBJECT_UNLOCK (self);
      break;
    }
    case GST_NOOM_SESSION_PROP_ICE_LOCAL_ADDRESSES:{
      g_auto (GStrv) addrs = s ? g_strsplit (s, ",", -1) : NULL;
      guint i;

      for (i = 0; addrs && addrs[i]; i++) {
        g_autoptr (GInetAddress) a =
            g_inet_address_new_from_string (g_strstrip (addrs[i]));
        if (!a) {
          g_warning ("%s: invalid ice-local-addresses: \"%s\" is not an IP "
              "address", GST_ELEMENT_NAME (self->element), addrs[i]);
          return TRUE;
        }
      }
      GST_OBJECT_LOCK (self);
      g_free (self->ice_local_addresses);
      self->ice_local_addresses = g_strdup (s);
      GST_OBJECT_UNLOCK (self);
      break;
    }
    case GST_NOOM_SESSION_PROP_MAX_PEERS:
      GST_OBJECT_LOCK (self);
      self->max_peers = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_NOOM_SESSION_PROP_CONNECT_TIMEOUT:
      GST_OBJECT_LOCK (self);
      self->connect_timeout = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_NOOM_SESSION_PROP_ACCEPT_INVALID_CERTIFICATES:
      GST_OBJECT_LOCK (self);
      self->accept_invalid_certificates = g_value_get_boolean (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_NOOM_SESSION_PROP_ICE_TRANSPORT_POLICY:
      GST_OBJECT_LOCK (self);
      self->ice_transport_policy = g_value_get_enum (value);
      GST_OBJECT_UNLOCK (self);
      break;
    case GST_NOOM_SESSION_PROP_RECONNECT_WINDOW:
      GST_OBJECT_LOCK (self);
      self->reconnect_window = g_value_get_uint (value);
      GST_OBJECT_UNLOCK (self);
      break;
    default:
      break;
  }
  return TRUE;
}

static GstStructure *
build_stats (GstNoomSession * self)
{
  GstStructure *s = gst_structure_new_empty ("application/x-noom-stats");
  GValue array = G_VALUE_INIT;
  GPtrArray *peers = g_ptr_array_new_with_free_func (gst_object_unref);
  GHashTableIter iter;
  gpointer value;
  guint i;

  g_mutex_lock (&self->peers_lock);
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (peers, gst_object_ref (value));
  g_mutex_unlock (&self->peers_lock);

  g_value_init (&array, GST_TYPE_ARRAY);
  for (i = 0; i < peers->len; i++) {
    GValue v = G_VALUE_INIT;

    g_value_init (&v, GST_TYPE_STRUCTURE);
    g_value_take_boxed (&v, gst_noom_peer_get_stats (peers->pdata[i]));
    gst_value_array_append_and_take_value (&array, &v);
  }
  g_ptr_array_unref (peers);

  GST_OBJECT_LOCK (self);
  gst_structure_set (s, "room", G_TYPE_STRING, self->room,
      "id", G_TYPE_STRING, self->self_id, NULL);
  GST_OBJECT_UNLOCK (self);
  gst_structure_take_value (s, "participants", &array);
  return s;
}

gboolean
gst_noom_session_get_property (GstNoomSession * self, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  if (prop_id == 0 || prop_id >= GST_NOOM_SESSION_PROP_LAST)
    return FALSE;

  if (prop_id == GST_NOOM_SESSION_PROP_URI) {
    g_value_take_string (value, gst_noom_session_get_uri (self));
    return TRUE;
  }
  if (prop_id == GST_NOOM_SESSION_PROP_STATS) {
    g_value_take_boxed (value, build_stats (self));
    return TRUE;
  }

  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case GST_NOOM_SESSION_PROP_SERVER:
      if (self->host) {
        gboolean v6 = strchr (self->host, ':') != NULL;
        g_value_take_string (value, g_strdup_printf ("%s://%s%s%s:%u",
                self->tls ? "https" : "http", v6 ? "[" : "", self->host,
                v6 ? "]" : "", self->port));
      } else {
        g_value_set_string (value, NULL);
      }
      break;
    case GST_NOOM_SESSION_PROP_ROOM:
      g_value_set_string (value, self->room);
      break;
    case GST_NOOM_SESSION_PROP_NICKNAME:
      g_value_set_string (value, self->nickname);
      break;
    case GST_NOOM_SESSION_PROP_TOKEN:
      g_value_set_string (value, self->token);
      break;
    case GST_NOOM_SESSION_PROP_ICE_SERVERS:
      g_value_set_string (value, self->ice_servers);
      break;
    case GST_NOOM_SESSION_PROP_ICE_LOCAL_ADDRESSES:
      g_value_set_string (value, self->ice_local_addresses);
      break;
    case GST_NOOM_SESSION_PROP_MAX_PEERS:
      g_value_set_uint (value, self->max_peers);
      break;
    case GST_NOOM_SESSION_PROP_CONNECT_TIMEOUT:
      g_value_set_uint (value, self->connect_timeout);
      break;
    case GST_NOOM_SESSION_PROP_ACCEPT_INVALID_CERTIFICATES:
      g_value_set_boolean (value, self->accept_invalid_certificates);
      break;
    case GST_NOOM_SESSION_PROP_ICE_TRANSPORT_POLICY:
      g_value_set_enum (value, self->ice_transport_policy);
      break;
    case GST_NOOM_SESSION_PROP_RECONNECT_WINDOW:
      g_value_set_uint (value, self->reconnect_window);
      break;
    default:
      break;
  }
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* ------------------------------------------------------------------------ */
/* object */

/* The process-wide DTLS certificate is made once, in the background, by
 * the first element to leave NULL.  Elements going back to NULL wait for
 * it: a process that exits right after (a server that cannot be reached)
 * would otherwise run OpenSSL's exit handlers under the key generation,
 * which crashes. */
static GMutex prewarm_lock;
static GCond prewarm_cond;
static gboolean prewarm_running;

static gpointer
prewarm_thread (gpointer data)
{
  /* dtlsdec makes the process-wide certificate in its instance init. */
  GstElement *dtls = gst_element_factory_make ("dtlsdec", NULL);

  if (dtls)
    gst_object_unref (gst_object_ref_sink (dtls));
  GST_DEBUG ("DTLS certificate %s", dtls ? "ready" : "unavailable");
  g_mutex_lock (&prewarm_lock);
  prewarm_running = FALSE;
  g_cond_broadcast (&prewarm_cond);
  g_mutex_unlock (&prewarm_lock);
  return NULL;
}

void
gst_noom_session_unprepare (void)
{
  /* Bounded: key generation takes about a second; a state change must
   * not wait forever on it. */
  gint64 end = g_get_monotonic_time () + 10 * G_TIME_SPAN_SECOND;

  g_mutex_lock (&prewarm_lock);
  while (prewarm_running
      && g_cond_wait_until (&prewarm_cond, &prewarm_lock, end));
  if (prewarm_running)
    GST_WARNING ("the DTLS certificate is still being made after 10 s");
  g_mutex_unlock (&prewarm_lock);
}

gboolean
gst_noom_session_prepare (GstElement * element)
{
  static gsize started = 0;
  GstPluginFeature *webrtcbin;

  /* Checked first: without webrtcbin no certificate is needed, and no
   * thread loads plugins behind an element that is about to fail. */
  webrtcbin = gst_registry_lookup_feature (gst_registry_get (), "webrtcbin");
  if (!webrtcbin) {
    GST_ELEMENT_ERROR (element, CORE, MISSING_PLUGIN,
        ("The webrtcbin element is missing; install gst-plugins-bad and "
            "gstreamer1.0-nice."), (NULL));
    return FALSE;
  }
  gst_object_unref (webrtcbin);
  if (g_once_init_enter (&started)) {
    prewarm_running = TRUE;
    g_thread_unref (g_thread_new ("noom-dtls-prewarm", prewarm_thread, NULL));
    g_once_init_leave (&started, 1);
  }
  return TRUE;
}

GstNoomSession *
gst_noom_session_new (GstElement * element, const gchar * kind,
    const GstNoomSessionHooks * hooks)
{
  GstNoomSession *self = g_object_new (GST_TYPE_NOOM_SESSION, NULL);

  gst_object_ref_sink (self);
  self->element = element;
  self->kind = g_strdup (kind);
  self->hooks = *hooks;
  return self;
}

static void
gst_noom_session_init (GstNoomSession * self)
{
  self->port = NOOM_URI_DEFAULT_PORT;
  self->max_peers = DEFAULT_MAX_PEERS;
  self->connect_timeout = DEFAULT_CONNECT_TIMEOUT;
  self->ice_transport_policy = DEFAULT_ICE_TRANSPORT_POLICY;
  self->reconnect_window = DEFAULT_RECONNECT_WINDOW;
  g_queue_init (&self->early);
  g_mutex_init (&self->peers_lock);
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      gst_object_unref);
  self->roster = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) noom_participant_unref);
}

static void
gst_noom_session_finalize (GObject * object)
{
  GstNoomSession *self = GST_NOOM_SESSION (object);

  g_warn_if_fail (self->thread == NULL);
  g_free (self->kind);
  g_free (self->host);
  g_free (self->room);
  g_free (self->nickname);
  g_free (self->token);
  g_free (self->ice_servers);
  g_free (self->ice_local_addresses);
  g_free (self->uri_error);
  g_free (self->self_id);
  g_free (self->relay_id);
  g_hash_table_unref (self->peers);
  g_hash_table_unref (self->roster);
  g_mutex_clear (&self->peers_lock);
  G_OBJECT_CLASS (gst_noom_session_parent_class)->finalize (object);
}

static void
gst_noom_session_class_init (GstNoomSessionClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_noom_session_finalize;
}

void
gst_noom_session_set_kind (GstNoomSession * self, const gchar * kind)
{
  g_return_if_fail (self->thread == NULL);
  g_free (self->kind);
  self->kind = g_strdup (kind);
}

void
gst_noom_session_set_features (GstNoomSession * self, NoomFeatures features)
{
  g_return_if_fail (self->thread == NULL);
  self->features = features;
}

NoomFeatures
gst_noom_session_get_features (GstNoomSession * self)
{
  return self->features;
}

const GstNoomSessionHooks *
gst_noom_session_get_hooks (GstNoomSession * self)
{
  return &self->hooks;
}

GstElement *
gst_noom_session_get_element (GstNoomSession * self)
{
  return self->element;
}

NoomClient *
gst_noom_session_get_client (GstNoomSession * self)
{
  return self->client;
}

/* ------------------------------------------------------------------------ */
/* the session thread */

typedef struct
{
  GSourceFunc func;
  gpointer data;
  GDestroyNotify notify;
} Invocation;

void
gst_noom_session_invoke (GstNoomSession * self, GSourceFunc func,
    gpointer data, GDestroyNotify notify)
{
  GMainContext *context = NULL;

  GST_OBJECT_LOCK (self);
  if (self->context)
    context = g_main_context_ref (self->context);
  GST_OBJECT_UNLOCK (self);

  if (!context) {
    /* Stopped: the work has nobody to do it for. */
    if (notify)
      notify (data);
    return;
  }
  g_main_context_invoke_full (context, G_PRIORITY_DEFAULT, func, data, notify);
  g_main_context_unref (context);
}

GSource *
gst_noom_session_add_timeout (GstNoomSession * self, guint ms,
    GSourceFunc func, gpointer data, GDestroyNotify notify)
{
  GSource *source = NULL;

  GST_OBJECT_LOCK (self);
  if (self->context) {
    source = g_timeout_source_new (ms);
    g_source_set_callback (source, func, data, notify);
    g_source_attach (source, self->context);
  }
  GST_OBJECT_UNLOCK (self);
  if (!source && notify)
    notify (data);
  return source;
}

static gpointer
session_thread (gpointer data)
{
  GstNoomSession *self = data;

  g_main_context_push_thread_default (self->context);
  GST_DEBUG_OBJECT (self, "session thread running");
  g_main_loop_run (self->loop);
  GST_DEBUG_OBJECT (self, "session thread done");
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

static void
post_participant (GstNoomSession * self, const gchar * event,
    NoomParticipant * p)
{
  g_autofree gchar *signal = g_strdup_printf ("participant-%s", event);
  g_autofree gchar *name = g_strdup_printf ("noom-participant-%s", event);

  GST_INFO_OBJECT (self, "participant %s (%s, %s): %s", p->id, p->nickname,
      p->kind, event);
  gst_element_post_message (self->element,
      gst_message_new_element (GST_OBJECT (self->element),
          gst_structure_new (name, "id", G_TYPE_STRING, p->id,
              "nickname", G_TYPE_STRING, p->nickname,
              "kind", G_TYPE_STRING, p->kind, NULL)));
  g_signal_emit_by_name (self->element, signal, p->id, p->nickname);
}

static void
post_progress (GstNoomSession * self, GstProgressType type,
    const gchar * code, const gchar * text)
{
  gst_element_post_message (self->element,
      gst_message_new_progress (GST_OBJECT (self->element), type, code, text));
}

/* The client's messages name its ws:// URL; ours name the server's http://
 * one, and say the rest once. */
static const gchar *
reason_after (const GError * error, const gchar * marker)
{
  const gchar *reason = strstr (error->message, marker);

  return reason ? reason + strlen (marker) : error->message;
}

/* Errors a user understands, per NoomClientError. */
static void
post_client_error (GstNoomSession * self, const GError * error)
{
  const gchar *room = self->uri->room;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  GST_WARNING_OBJECT (self, "client error: %s", error->message);
  post_progress (self, GST_PROGRESS_TYPE_ERROR, "connect", error->message);

  if (error->domain != NOOM_CLIENT_ERROR) {
    GST_ELEMENT_ERROR (self->element, RESOURCE, OPEN_READ_WRITE,
        ("Could not connect to the Noom server at %s.", self->http_url),
        ("%s", error->message));
    return;
  }
  switch ((NoomClientError) error->code) {
    case NOOM_CLIENT_ERROR_UNREACHABLE:
      GST_ELEMENT_ERROR (self->element, RESOURCE, OPEN_READ_WRITE,
          ("Could not reach the Noom server at %s.", self->http_url),
          ("%s", error->message));
      break;
    case NOOM_CLIENT_ERROR_REFUSED:
      GST_ELEMENT_ERROR (self->element, RESOURCE, OPEN_READ_WRITE,
          ("The Noom server at %s refused the connection: %s",
              self->http_url, reason_after (error,
                  "refused the connection: ")), ("%s", error->message));
      break;
    case NOOM_CLIENT_ERROR_FORBIDDEN:
      GST_ELEMENT_ERROR (self->element, RESOURCE, NOT_AUTHORIZED,
          ("Not allowed into room \"%s\" on %s: %s", room, self->http_url,
              error->message), (NULL));
      break;
    case NOOM_CLIENT_ERROR_ROOM_FULL:
      GST_ELEMENT_ERROR (self->element, RESOURCE, BUSY,
          ("Room \"%s\" on %s is full.", room, self->http_url),
          ("%s", error->message));
      break;
    case NOOM_CLIENT_ERROR_REJECTED:
      GST_ELEMENT_ERROR (self->element, RESOURCE, SETTINGS,
          ("The Noom server at %s refused to let us into room \"%s\": %s",
              self->http_url, room, error->message), (NULL));
      break;
    case NOOM_CLIENT_ERROR_DISCONNECTED:
      GST_ELEMENT_ERROR (self->element, RESOURCE, READ,
          ("Lost the connection to the Noom server at %s.", self->http_url),
          ("%s", error->message));
      break;
    case NOOM_CLIENT_ERROR_NOT_NOOM:
      GST_ELEMENT_ERROR (self->element, RESOURCE, OPEN_READ_WRITE,
          ("The server at %s is not a Noom server: %s.", self->http_url,
              reason_after (error, "is not a Noom server: ")),
          ("%s", error->message));
      break;
    case NOOM_CLIENT_ERROR_CERTIFICATE:
      GST_ELEMENT_ERROR (self->element, RESOURCE, OPEN_READ_WRITE,
          ("The TLS certificate of the Noom server at %s was not accepted: "
              "%s. To trust it anyway (tests, private servers), set "
              "accept-invalid-certificates.", self->http_url,
              reason_after (error, "was not accepted: ")),
          ("%s", error->message));
      break;
    case NOOM_CLIENT_ERROR_NO_ANSWER:
      if (!self->uri->tls) {
        g_autofree gchar *tls_uri = NULL;
        NoomUri u = *self->uri;

        u.tls = TRUE;
        u.nickname = NULL;
        u.token = NULL;
        tls_uri = noom_uri_to_string (&u);
        GST_ELEMENT_ERROR (self->element, RESOURCE, OPEN_READ_WRITE,
            ("The server at %s closed the connection without answering: if "
                "it uses TLS, use %s.", self->http_url, tls_uri),
            ("%s", error->message));
      } else {
        GST_ELEMENT_ERROR (self->element, RESOURCE, OPEN_READ_WRITE,
            ("The server at %s closed the connection without answering.",
                self->http_url), ("%s", error->message));
      }
      break;
    case NOOM_CLIENT_ERROR_PROTOCOL:
    default:
      GST_ELEMENT_ERROR (self->element, RESOURCE, FAILED,
          ("The Noom server at %s did not follow the protocol.",
              self->http_url), ("%s", error->message));
      break;
  }
}

/* Whether we take part in what the room receives: every kind but
 * `publisher` (the relay gives a publisher no tracks, §11). */
static gboolean
receives (GstNoomSession * self)
{
  return g_strcmp0 (self->kind, "publisher") != 0;
}

/* docs/protocol.md §7 and §11: the one answer to who connects to whom and
 * who offers (lib/noom-offer.c). */
static gboolean
plan_for (GstNoomSession * self, NoomParticipant * p, gboolean was_first,
    NoomOfferPlan * plan)
{
  if (self->relay_id)
    return noom_offer_plan_sfu (self->relay_id, p->id, self->sends,
        receives (self), plan);
  return noom_offer_plan (was_first, self->sends, p->sends, plan);
}

static gboolean
needs_connection (GstNoomSession * self, NoomParticipant * p)
{
  NoomOfferPlan plan;

  /* Who was first plays no part in whether a pair connects. */
  return plan_for (self, p, FALSE, &plan);
}

/* SFU room: @p's tracks come over the relay's connection, not one of its
 * own; the element still says whether it wants them (its participant
 * filter), now. */
static void
sfu_participant (GstNoomSession * self, NoomParticipant * p)
{
  if (!self->relay_id || !self->hooks.accept)
    return;
  if (self->hooks.accept (self->element, p))
    GST_INFO_OBJECT (self, "%s (%s): its tracks come from the relay", p->id,
        p->nickname);
  else
    GST_INFO_OBJECT (self, "%s (%s): filtered out, its tracks are dropped",
        p->id, p->nickname);
}

static gboolean
machine_has_only_loopback (void)
{
  struct ifaddrs *ifaddr, *ifa;
  gboolean only_loopback = TRUE;

  if (getifaddrs (&ifaddr) < 0)
    return FALSE;
  for (ifa = ifaddr; ifa; ifa = ifa->ifa_next) {
    if (!ifa->ifa_addr || !(ifa->ifa_flags & IFF_UP)
        || (ifa->ifa_flags & IFF_LOOPBACK))
      continue;
    if (ifa->ifa_addr->sa_family == AF_INET) {
      only_loopback = FALSE;
      break;
    }
    if (ifa->ifa_addr->sa_family == AF_INET6) {
      struct sockaddr_in6 *sa6 = (struct sockaddr_in6 *) ifa->ifa_addr;
      if (!IN6_IS_ADDR_LINKLOCAL (&sa6->sin6_addr)) {
        only_loopback = FALSE;
        break;
      }
    }
  }
  freeifaddrs (ifaddr);
  return only_loopback;
}

static void
configure_webrtcbin (GstNoomSession * self, GstElement * webrtc)
{
  g_autofree gchar *ice_servers = NULL;
  g_auto (GStrv) servers = NULL;
  GstObject *ice = NULL;
  GstNoomIceTransportPolicy policy;
  guint i;

  GST_OBJECT_LOCK (self);
  ice_servers = g_strdup (self->ice_servers);
  policy = self->ice_transport_policy;
  GST_OBJECT_UNLOCK (self);

  gst_util_set_object_arg (G_OBJECT (webrtc), "ice-transport-policy",
      policy == GST_NOOM_ICE_TRANSPORT_POLICY_RELAY ? "relay" : "all");

  servers = ice_servers ? g_strsplit (ice_servers, ",", -1) :
      g_strdupv (self->room_ice_servers);
  for (i = 0; servers && servers[i]; i++) {
    const gchar *url = g_strstrip (servers[i]);
    gboolean ok = FALSE;

    if (g_str_has_prefix (url, "stun://")) {
      g_object_set (webrtc, "stun-server", url, NULL);
    } else if (g_str_has_prefix (url, "turn://")
        || g_str_has_prefix (url, "turns://")) {
      g_signal_emit_by_name (webrtc, "add-turn-server", url, &ok);
      if (!ok)
        GST_WARNING_OBJECT (self, "webrtcbin refused TURN server %s", url);
    } else if (*url) {
      GST_WARNING_OBJECT (self, "ignoring ICE server %s", url);
    }
  }

  g_object_get (webrtc, "ice-agent", &ice, NULL);
  for (i = 0; ice && self->local_addresses && self->local_addresses[i]; i++) {
    gboolean ok = FALSE;

    g_signal_emit_by_name (ice, "add-local-ip-address",
        self->local_addresses[i], &ok);
    GST_DEBUG_OBJECT (self, "ICE local address %s: %s",
        self->local_addresses[i], ok ? "added" : "refused");
  }
  gst_clear_object (&ice);
}

static GstNoomPeer *
lookup_peer (GstNoomSession * self, const gchar * id)
{
  GstNoomPeer *peer;

  g_mutex_lock (&self->peers_lock);
  peer = g_hash_table_lookup (self->peers, id);
  if (peer)
    gst_object_ref (peer);
  g_mutex_unlock (&self->peers_lock);
  return peer;
}

static void
create_peer_full (GstNoomSession * self, NoomParticipant * p,
    gboolean was_first, guint attempt)
{
  GstNoomPeer *peer, *existing;
  GstElement *webrtc;
  guint max_peers, n;
  NoomOfferPlan plan;

  existing = lookup_peer (self, p->id);
  if (existing) {
    GST_DEBUG_OBJECT (self, "already connecting to %s", p->id);
    gst_object_unref (existing);
    return;
  }
  /* docs/protocol.md §7 and §11: the one place that says who offers and
   * with which directions (lib/noom-offer.c).  An offer from a pair that
   * should not connect is still answered (refusing what it sends): the
   * caller decided there is a peer to make. */
  plan_for (self, p, was_first, &plan);
  /* The relay carries everyone's tracks: the element filters those. */
  if (!plan.relay && self->hooks.accept
      && !self->hooks.accept (self->element, p)) {
    GST_INFO_OBJECT (self, "not connecting to %s (%s): filtered out", p->id,
        p->nickname);
    return;
  }

  GST_OBJECT_LOCK (self);
  max_peers = self->max_peers;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->peers_lock);
  n = g_hash_table_size (self->peers);
  g_mutex_unlock (&self->peers_lock);
  if (n >= max_peers) {
    GST_ELEMENT_WARNING (self->element, RESOURCE, BUSY,
        ("Not connecting to %s: already connected to max-peers=%u "
            "participants.", p->nickname, max_peers), (NULL));
    return;
  }

  GST_INFO_OBJECT (self, "new peer %s (%s), %swe %s (audio %s, video %s)",
      p->id, p->nickname, plan.relay ? "the SFU relay, " : "",
      plan.offer ? "offer" : "answer",
      noom_direction_to_string (plan.audio),
      noom_direction_to_string (plan.video));
  peer = gst_noom_peer_new (self, p, &plan);
  if (!peer) {
    GST_ELEMENT_WARNING (self->element, CORE, MISSING_PLUGIN,
        ("Cannot connect to %s: the webrtcbin element is missing "
            "(gst-plugins-bad).", p->nickname), (NULL));
    return;
  }
  webrtc = gst_noom_peer_get_webrtcbin (peer);
  configure_webrtcbin (self, webrtc);
  if (!gst_bin_add (GST_BIN (self->element), webrtc)) {
    GST_ELEMENT_WARNING (self->element, CORE, FAILED,
        ("Could not add a connection for %s.", p->nickname), (NULL));
    gst_object_unref (peer);
    return;
  }
  g_mutex_lock (&self->peers_lock);
  g_hash_table_insert (self->peers, g_strdup (p->id), gst_object_ref (peer));
  g_mutex_unlock (&self->peers_lock);

  if (self->hooks.peer_added)
    self->hooks.peer_added (self->element, peer);
  gst_element_sync_state_with_parent (webrtc);
  gst_noom_peer_set_attempt (peer, attempt);

  if (plan.offer)
    gst_noom_peer_negotiate (peer);
  /* the table holds it now */
  gst_object_unref (peer);
}

/* @was_first: we were in the room before @p (we learnt of it through
 * `welcome`): then we offer. */
static void
create_peer (GstNoomSession * self, NoomParticipant * p, gboolean was_first)
{
  create_peer_full (self, p, was_first, 0);
}

static void
remove_peer (GstNoomSession * self, const gchar * id)
{
  GstNoomPeer *peer = NULL;
  gchar *key = NULL;

  g_mutex_lock (&self->peers_lock);
  if (!g_hash_table_steal_extended (self->peers, id, (gpointer *) & key,
          (gpointer *) & peer)) {
    g_mutex_unlock (&self->peers_lock);
    return;
  }
  g_mutex_unlock (&self->peers_lock);
  g_free (key);

  GST_INFO_OBJECT (self, "removing peer %s", id);
  if (self->hooks.peer_removing)
    self->hooks.peer_removing (self->element, peer);
  gst_noom_peer_close (peer);
  if (self->hooks.peer_removed)
    self->hooks.peer_removed (self->element, peer);
  gst_bin_remove (GST_BIN (self->element), gst_noom_peer_get_webrtcbin (peer));
  gst_object_unref (peer);
}

static void
remove_all_peers (GstNoomSession * self)
{
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  GHashTableIter iter;
  gpointer key;
  guint i;

  g_mutex_lock (&self->peers_lock);
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (ids, g_strdup (key));
  g_mutex_unlock (&self->peers_lock);
  for (i = 0; i < ids->len; i++)
    remove_peer (self, ids->pdata[i]);
}

/* SFU room: whether @peer is our connection to the relay */
static gboolean
is_relay_peer (GstNoomSession * self, GstNoomPeer * peer)
{
  return self->relay_id && !g_strcmp0 (gst_noom_peer_get_participant
      (peer)->id, self->relay_id);
}

void
gst_noom_session_peer_connected (GstNoomSession * self, GstNoomPeer * peer)
{
  if (is_relay_peer (self, peer))
    self->relay_rejoins = 0;
  post_participant (self, "connected", gst_noom_peer_get_participant (peer));
  if (self->hooks.peer_connected)
    self->hooks.peer_connected (self->element, peer);
}

void
gst_noom_session_restart_peer (GstNoomSession * self, GstNoomPeer * peer,
    guint attempt)
{
  NoomParticipant *p = noom_participant_ref (gst_noom_peer_get_participant
      (peer));

  GST_ELEMENT_WARNING (self->element, RESOURCE, OPEN_READ_WRITE,
      ("The connection to %s failed: reconnecting it.", p->nickname),
      ("%s: attempt %u", p->id, attempt));
  remove_peer (self, p->id);
  create_peer_full (self, p, TRUE, attempt);
  noom_participant_unref (p);
}

static void do_join (GstNoomSession * self, const gchar * why);

/* SFU room: the relay's connection failed, or never came up.  The relay
 * does not offer a new one of its own accord (it offers when someone
 * joins), so we leave and join again: a new participant id, and a new
 * connection carrying everyone's tracks.  noomsrc parks its pads meanwhile
 * (relay_lost), as when the relay restarts.  Bounded: after
 * MAX_RELAY_REJOINS in a row without a connection, an error. */
static void
relay_failed (GstNoomSession * self, const gchar * reason)
{
  if (self->relay_rejoins >= MAX_RELAY_REJOINS) {
    GST_ELEMENT_ERROR (self->element, RESOURCE, OPEN_READ_WRITE,
        ("Could not connect to the media relay of the Noom server at %s "
            "(joined again %u times).", self->http_url, self->relay_rejoins),
        ("%s", reason));
    remove_peer (self, self->relay_id);
    return;
  }
  self->relay_rejoins++;
  GST_ELEMENT_WARNING (self->element, RESOURCE, OPEN_READ_WRITE,
      ("The connection to the media relay of the Noom server at %s failed: "
          "joining room \"%s\" again for a new one.", self->http_url,
          self->uri->room), ("%s (attempt %u of %u)", reason,
          self->relay_rejoins, MAX_RELAY_REJOINS));
  gst_element_post_message (self->element,
      gst_message_new_element (GST_OBJECT (self->element),
          gst_structure_new ("noom-relay-rejoin", "reason", G_TYPE_STRING,
              reason, "attempt", G_TYPE_UINT, self->relay_rejoins, NULL)));
  if (self->hooks.relay_lost)
    self->hooks.relay_lost (self->element);
  remove_peer (self, self->relay_id);
  noom_client_leave (self->client);
  do_join (self, "joining again for a new relay connection");
}

void
gst_noom_session_peer_failed (GstNoomSession * self, GstNoomPeer * peer,
    const gchar * reason)
{
  NoomParticipant *p;

  if (is_relay_peer (self, peer) && self->client
      && self->state == GST_NOOM_SESSION_STATE_JOINED
      && self->request != GST_NOOM_SESSION_REQUEST_LEAVE) {
    relay_failed (self, reason);
    return;
  }
  p = noom_participant_ref (gst_noom_peer_get_participant (peer));

  /* One participant's failure is a warning: the others go on. */
  GST_ELEMENT_WARNING (self->element, RESOURCE, OPEN_READ_WRITE,
      ("The connection to %s failed.", p->nickname), ("%s: %s", p->id, reason));
  post_participant (self, "failed", p);
  remove_peer (self, p->id);
  noom_participant_unref (p);
}

/* ---- client signals (session thread) ---- */

static void
roster_add (GstNoomSession * self, NoomParticipant * p)
{
  g_hash_table_replace (self->roster, g_strdup (p->id),
      noom_participant_ref (p));
}

/* The state a participant joined with, or changed to (docs/protocol.md
 * §3 media_state): the element's hook, and on a change the
 * "noom-participant-media" message. */
static void
participant_media (GstNoomSession * self, NoomParticipant * p, gboolean post)
{
  /* the pads first: who reads the message reads them */
  if (self->hooks.participant_media)
    self->hooks.participant_media (self->element, p);
  if (post) {
    GST_INFO_OBJECT (self, "participant %s (%s): audio %d video %d screen %d",
        p->id, p->nickname, !!(p->state & NOOM_MEDIA_STATE_AUDIO),
        !!(p->state & NOOM_MEDIA_STATE_VIDEO),
        !!(p->state & NOOM_MEDIA_STATE_SCREEN));
    gst_element_post_message (self->element,
        gst_message_new_element (GST_OBJECT (self->element),
            gst_structure_new ("noom-participant-media",
                "id", G_TYPE_STRING, p->id,
                "nickname", G_TYPE_STRING, p->nickname,
                "audio", G_TYPE_BOOLEAN,
                (p->state & NOOM_MEDIA_STATE_AUDIO) != 0,
                "video", G_TYPE_BOOLEAN,
                (p->state & NOOM_MEDIA_STATE_VIDEO) != 0,
                "screen", G_TYPE_BOOLEAN,
                (p->state & NOOM_MEDIA_STATE_SCREEN) != 0, NULL)));
  }
}

static void
on_participant_joined (NoomClient * client, NoomParticipant * p,
    GstNoomSession * self)
{
  if (self->state != GST_NOOM_SESSION_STATE_JOINED) {
    Early *e = early_new (EARLY_JOINED);

    e->joined = noom_participant_ref (p);
    keep_early (self, e);
    return;
  }
  roster_add (self, p);
  post_participant (self, "joined", p);
  participant_media (self, p, FALSE);
  sfu_participant (self, p);
  /* docs/protocol.md §7: the one already in the room offers. */
  if (needs_connection (self, p)) {
    remove_peer (self, p->id);
    create_peer (self, p, TRUE);
  }
}

static void
on_participant_left (NoomClient * client, NoomParticipant * p,
    GstNoomSession * self)
{
  if (self->state != GST_NOOM_SESSION_STATE_JOINED) {
    Early *e = early_new (EARLY_LEFT);

    e->left = noom_participant_ref (p);
    keep_early (self, e);
    return;
  }
  remove_peer (self, p->id);
  /* SFU: its tracks end on the relay's connection, which stays */
  if (self->relay_id && self->hooks.participant_left)
    self->hooks.participant_left (self->element, p);
  g_hash_table_remove (self->roster, p->id);
  post_participant (self, "left", p);
}

NoomParticipant *
gst_noom_session_get_participant (GstNoomSession * self, const gchar * id)
{
  return g_hash_table_lookup (self->roster, id);
}

/* participant_media: a participant muted, turned its camera off, shares
 * its screen.  Before the join ack it is dropped: the ack's participants
 * carry their state. */
static void
on_participant_media (NoomClient * client, const gchar * id, guint state,
    GstNoomSession * self)
{
  NoomParticipant *old;
  g_autoptr (NoomParticipant) p = NULL;
  g_autoptr (GstNoomPeer) peer = NULL;

  if (self->state != GST_NOOM_SESSION_STATE_JOINED)
    return;
  old = g_hash_table_lookup (self->roster, id);
  if (old == NULL || old->state == state)
    return;
  /* Participants are shared: a new one with the new state. */
  p = noom_participant_new (old->id, old->nickname, old->kind, old->sends);
  p->state = state & noom_media_state_allowed (old->sends);
  p->features = old->features;
  roster_add (self, p);
  peer = lookup_peer (self, p->id);
  if (peer)
    gst_noom_peer_set_participant (peer, p);
  participant_media (self, p, TRUE);
}

/* participant_update: a participant renamed itself */
static void
on_participant_updated (NoomClient * client, NoomParticipant * p,
    GstNoomSession * self)
{
  g_autoptr (GstNoomPeer) peer = NULL;

  if (self->state != GST_NOOM_SESSION_STATE_JOINED) {
    Early *e = early_new (EARLY_UPDATED);

    e->updated = noom_participant_ref (p);
    keep_early (self, e);
    return;
  }
  roster_add (self, p);
  peer = lookup_peer (self, p->id);
  if (peer)
    gst_noom_peer_set_participant (peer, p);
  post_participant (self, "updated", p);
  if (self->hooks.participant_updated)
    self->hooks.participant_updated (self->element, p);
}

/* SFU room (docs/protocol.md §11): only the relay offers, on one
 * connection.  Its first offer makes the peer; every later one
 * (renegotiation: tracks come and go, or an ICE restart) is answered on
 * the same connection, connected or not. */
static void
on_relay_offer (GstNoomSession * self, GstNoomPeer * peer, const gchar * from,
    const gchar * sdp)
{
  g_autoptr (GstNoomPeer) created = NULL;

  if (g_strcmp0 (from, self->relay_id) != 0) {
    GST_WARNING_OBJECT (self, "ignoring an offer from %s: this room's media "
        "comes from the relay %s", from, self->relay_id);
    return;
  }
  if (!peer) {
    g_autoptr (NoomParticipant) relay = noom_participant_new (from,
        "media relay", "relay", NOOM_MEDIA_NONE);

    create_peer (self, relay, FALSE);
    peer = created = lookup_peer (self, from);
    if (!peer)
      return;
  }
  gst_noom_peer_handle_offer (peer, sdp);
}

/* media_bandwidth (§11): the relay's word on what the slowest subscriber
 * of our video takes. */
static void
on_media_bandwidth (NoomClient * client, guint base_bitrate,
    GstNoomSession * self)
{
  if (!self->relay_id || self->state != GST_NOOM_SESSION_STATE_JOINED) {
    GST_DEBUG_OBJECT (self, "media_bandwidth %u outside an SFU room: "
        "skipped", base_bitrate);
    return;
  }
  GST_DEBUG_OBJECT (self, "the relay: our video's lowest layer for %u bit/s",
      base_bitrate);
  if (self->hooks.relay_bandwidth)
    self->hooks.relay_bandwidth (self->element, base_bitrate);
}

/* media_relay (§11): the relay stopped; the new one offers again once it
 * is up. */
static void
on_media_relay (NoomClient * client, const gchar * state, GstNoomSession * self)
{
  g_autoptr (GstNoomPeer) peer = NULL;

  if (!self->relay_id || self->state != GST_NOOM_SESSION_STATE_JOINED)
    return;
  if (g_strcmp0 (state, "restarting") != 0) {
    GST_INFO_OBJECT (self, "the media relay is %s", state);
    return;
  }
  GST_ELEMENT_WARNING (self->element, RESOURCE, READ,
      ("The media relay of the Noom server at %s stopped: media resumes "
          "when it is back.", self->http_url), ("media_relay %s", state));
  peer = lookup_peer (self, self->relay_id);
  if (!peer)
    return;
  if (self->hooks.relay_lost)
    self->hooks.relay_lost (self->element);
  remove_peer (self, self->relay_id);
}

static void
on_offer (NoomClient * client, const gchar * from, const gchar * sdp,
    GstNoomSession * self)
{
  g_autoptr (GstNoomPeer) peer = lookup_peer (self, from);

  if (!peer && self->state != GST_NOOM_SESSION_STATE_JOINED) {
    Early *e = early_new (EARLY_OFFER);

    e->offer.from = g_strdup (from);
    e->offer.sdp = g_strdup (sdp);
    keep_early (self, e);
    return;
  }
  if (self->relay_id) {
    on_relay_offer (self, peer, from, sdp);
    return;
  }
  if (peer && !gst_noom_peer_is_offerer (peer)
      && gst_noom_peer_has_remote (peer)
      && !gst_noom_peer_is_connected (peer)) {
    /* A new offer for a connection that is not up: the offerer gave up on
     * the old one (ICE failed) and reconnects with a fresh one. */
    NoomParticipant *p = noom_participant_ref (gst_noom_peer_get_participant
        (peer));

    GST_INFO_OBJECT (self, "%s reconnects: a fresh connection", from);
    g_clear_object (&peer);
    remove_peer (self, from);
    create_peer (self, p, FALSE);
    noom_participant_unref (p);
    peer = lookup_peer (self, from);
    if (!peer)
      return;
  }
  if (!peer) {
    /* Somebody we did not expect an offer from offers anyway: answer it,
     * taking only what it announced in its `sends` (docs/protocol.md §7
     * "What a participant may send"; the element's answer follows the
     * participant's `sends`), and nothing from an id the room did not
     * tell us about. */
    NoomParticipant *known = g_hash_table_lookup (self->roster, from);
    g_autoptr (NoomParticipant) p = known ? noom_participant_ref (known) :
        noom_participant_new (from, from, "browser", NOOM_MEDIA_NONE);

    if (!known)
      GST_WARNING_OBJECT (self, "offer from %s, not a participant we know: "
          "taking no media from it", from);
    create_peer (self, p, FALSE);
    peer = lookup_peer (self, from);
    if (!peer)
      return;
  }
  gst_noom_peer_handle_offer (peer, sdp);
}

static void
on_answer (NoomClient * client, const gchar * from, const gchar * sdp,
    GstNoomSession * self)
{
  g_autoptr (GstNoomPeer) peer = lookup_peer (self, from);

  if (peer)
    gst_noom_peer_handle_answer (peer, sdp);
  else
    GST_DEBUG_OBJECT (self, "answer from unknown peer %s", from);
}

/* Our offer to @from will get no answer (docs/protocol.md §5): give the
 * connection up now rather than wait for it. */
static void
on_offer_failed (NoomClient * client, const gchar * from,
    const gchar * reason, GstNoomSession * self)
{
  g_autoptr (GstNoomPeer) peer = lookup_peer (self, from);
  g_autofree gchar *text = NULL;

  if (!peer || !gst_noom_peer_is_offerer (peer)) {
    GST_DEBUG_OBJECT (self, "offer_failed from %s, not one we offered to",
        from);
    return;
  }
  text = g_strdup_printf ("it could not apply our offer: %s", reason);
  gst_noom_session_peer_failed (self, peer, text);
}

static void
on_ice (NoomClient * client, const gchar * from, guint mline_index,
    const gchar * mid, const gchar * candidate, GstNoomSession * self)
{
  g_autoptr (GstNoomPeer) peer = lookup_peer (self, from);

  if (peer) {
    gst_noom_peer_handle_ice (peer, mline_index, candidate);
  } else if (self->state != GST_NOOM_SESSION_STATE_JOINED) {
    Early *e = early_new (EARLY_ICE);

    e->ice.from = g_strdup (from);
    e->ice.mline_index = mline_index;
    e->ice.candidate = g_strdup (candidate);
    keep_early (self, e);
  } else {
    GST_DEBUG_OBJECT (self, "candidate from unknown peer %s", from);
  }
}

/* new_message from someone else in the room */
static void
on_chat (NoomClient * client, const gchar * from, const gchar * nickname,
    const gchar * text, GstNoomSession * self)
{
  GST_INFO_OBJECT (self, "chat from %s (%s): %s", from, nickname, text);
  gst_element_post_message (self->element,
      gst_message_new_element (GST_OBJECT (self->element),
          gst_structure_new ("noom-chat-message", "id", G_TYPE_STRING, from,
              "nickname", G_TYPE_STRING, nickname,
              "text", G_TYPE_STRING, text, NULL)));
  g_signal_emit_by_name (self->element, "chat-message", from, nickname, text);
}

static void
on_server_error (NoomClient * client, const gchar * code,
    const gchar * message, GstNoomSession * self)
{
  /* the detail: the event the server refused */
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (client);

  if (!g_strcmp0 (code, noom_room_error_to_code (NOOM_ROOM_ERROR_FORBIDDEN))
      && hint
      && hint->detail == g_quark_from_static_string
      (NOOM_EVENT_NAME_NEW_MESSAGE)) {
    /* docs/protocol.md §1 Access: the token lacks the chat grant.  Media
     * goes on; only the message is lost. */
    GST_ELEMENT_WARNING (self->element, RESOURCE, NOT_AUTHORIZED,
        ("Chat is forbidden in room \"%s\" on %s: the room token does not "
            "grant \"chat\", the message was not sent.", self->uri->room,
            self->http_url), ("noom_error %s on new_message: %s", code,
            message));
    return;
  }
  if (!g_strcmp0 (code, "unsupported_codec")) {
    /* docs/protocol.md §11: what we send cannot go through the relay */
    GST_ELEMENT_ERROR (self->element, STREAM, CODEC_NOT_FOUND,
        ("Room \"%s\" on %s forwards media through the server, which "
            "carries VP8 video and Opus audio only: %s", self->uri->room,
            self->http_url, message), ("noom_error %s", code));
    return;
  }
  GST_ELEMENT_WARNING (self->element, RESOURCE, WRITE,
      ("The Noom server reported an error: %s", message), ("code %s", code));
}

static void connect_client (GstNoomSession * self);

static guint
get_reconnect_window (GstNoomSession * self)
{
  guint window;

  GST_OBJECT_LOCK (self);
  window = self->reconnect_window;
  GST_OBJECT_UNLOCK (self);
  return window;
}

static void
drop_client (GstNoomSession * self)
{
  if (!self->client)
    return;
  g_signal_handlers_disconnect_by_data (self->client, self);
  noom_client_close (self->client);
  g_clear_object (&self->client);
}

static gboolean
reconnect_timeout (gpointer data)
{
  GstNoomSession *self = data;

  g_clear_pointer (&self->reconnect_source, g_source_unref);
  GST_INFO_OBJECT (self, "reconnecting to %s", self->http_url);
  drop_client (self);
  connect_client (self);
  return G_SOURCE_REMOVE;
}

/* Schedules the next attempt, or fails when the window is over.  Returns
 * FALSE when it posted the error. */
static gboolean
schedule_reconnect (GstNoomSession * self, const GError * error)
{
  guint window = get_reconnect_window (self);
  gint64 elapsed_ms = (g_get_monotonic_time () - self->lost_at) / 1000;
  guint delay;

  if (elapsed_ms >= window) {
    GST_ELEMENT_ERROR (self->element, RESOURCE, READ,
        ("Lost the connection to the Noom server at %s and could not "
            "reconnect within %u s.", self->http_url, (window + 999) / 1000),
        ("%s", error ? error->message : "closed"));
    set_state (self, GST_NOOM_SESSION_STATE_IDLE,
        "could not reconnect within reconnect-window");
    return FALSE;
  }
  /* Jitter (+-25 %) so a room's members do not all come back at once. */
  delay = self->reconnect_delay;
  delay = delay * 3 / 4 + g_random_int_range (0, delay / 2 + 1);
  delay = MIN (delay, window - elapsed_ms);
  self->reconnect_delay = MIN (self->reconnect_delay * 2, RECONNECT_MAX_DELAY);
  GST_INFO_OBJECT (self, "next reconnection attempt in %u ms", delay);
  self->reconnect_source = g_timeout_source_new (delay);
  g_source_set_callback (self->reconnect_source, reconnect_timeout, self, NULL);
  g_source_attach (self->reconnect_source, self->context);
  return TRUE;
}

static void
on_disconnected (NoomClient * client, GError * error, GstNoomSession * self)
{
  guint window = get_reconnect_window (self);
  gboolean reconnect = window > 0 && !(error
      && error->domain == NOOM_CLIENT_ERROR
      && error->code != NOOM_CLIENT_ERROR_DISCONNECTED
      && error->code != NOOM_CLIENT_ERROR_UNREACHABLE);

  if (self->request == GST_NOOM_SESSION_REQUEST_LEAVE) {
    /* The element left (EOS): nothing to come back for, nothing to report. */
    GST_INFO_OBJECT (self, "the connection to %s closed after we left: %s",
        self->http_url, error ? error->message : "closed");
    set_state (self, GST_NOOM_SESSION_STATE_IDLE, "closed after leaving");
    remove_all_peers (self);
    g_queue_clear_full (&self->early, early_free);
    return;
  }
  set_state (self, reconnect ? GST_NOOM_SESSION_STATE_RECONNECTING :
      GST_NOOM_SESSION_STATE_IDLE, error ? error->message : "closed");
  /* The old connection's peers are gone on the server's side too: when we
   * rejoin we are a newcomer (docs/protocol.md §8) with new peers.  The
   * element hears first that they go with our connection (noomsrc keeps
   * their pads for the participants who come back). */
  if (self->hooks.connection_lost)
    self->hooks.connection_lost (self->element);
  remove_all_peers (self);
  g_queue_clear_full (&self->early, early_free);

  if (!reconnect) {
    if (error && error->domain == NOOM_CLIENT_ERROR)
      post_client_error (self, error);
    else
      GST_ELEMENT_ERROR (self->element, RESOURCE, READ,
          ("Lost the connection to the Noom server at %s.", self->http_url),
          ("%s", error ? error->message : "closed"));
    return;
  }

  GST_ELEMENT_WARNING (self->element, RESOURCE, READ,
      ("Lost the connection to the Noom server at %s: reconnecting.",
          self->http_url), ("%s", error ? error->message : "closed"));
  post_progress (self, GST_PROGRESS_TYPE_START, "reconnect",
      "Lost the connection to the Noom server: reconnecting");
  gst_element_post_message (self->element,
      gst_message_new_element (GST_OBJECT (self->element),
          gst_structure_new ("noom-disconnected", "server", G_TYPE_STRING,
              self->http_url, "reconnect-window", G_TYPE_UINT, window, NULL)));
  self->lost_at = g_get_monotonic_time ();
  self->reconnect_delay = RECONNECT_FIRST_DELAY;
  schedule_reconnect (self, error);
}

static void
replay_early (GstNoomSession * self, Early * e)
{
  switch (e->kind) {
    case EARLY_JOINED:
      on_participant_joined (self->client, e->joined, self);
      break;
    case EARLY_LEFT:
      on_participant_left (self->client, e->left, self);
      break;
    case EARLY_UPDATED:
      on_participant_updated (self->client, e->updated, self);
      break;
    case EARLY_OFFER:
      on_offer (self->client, e->offer.from, e->offer.sdp, self);
      break;
    case EARLY_ICE:
      on_ice (self->client, e->ice.from, e->ice.mline_index, NULL,
          e->ice.candidate, self);
      break;
  }
}

static void send_media_state (GstNoomSession * self);

static void
on_joined (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstNoomSession *self = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomJoinInfo) info = NULL;
  g_autofree gchar *text = NULL;
  Early *early;
  guint i;

  info = noom_client_join_finish (NOOM_CLIENT (source), res, &error);
  if (!info) {
    /* A rejoin (lost_at: not back in the room since the connection
     * dropped) that fails because the connection dropped again is the
     * "disconnected" handler's business (it reconnects); so is anything
     * about a client we no longer use. */
    if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
        && NOOM_CLIENT (source) == self->client
        && !(self->lost_at && g_error_matches (error, NOOM_CLIENT_ERROR,
                NOOM_CLIENT_ERROR_DISCONNECTED))) {
      if (self->request == GST_NOOM_SESSION_REQUEST_LEAVE)
        GST_INFO_OBJECT (self, "the join we left failed: %s", error->message);
      else
        post_client_error (self, error);
      if (self->state == GST_NOOM_SESSION_STATE_JOINING)
        set_state (self, GST_NOOM_SESSION_STATE_CONNECTED, error->message);
    }
    gst_object_unref (self);
    return;
  }
  if (!self->client || NOOM_CLIENT (source) != self->client) {
    /* stopped meanwhile */
    gst_object_unref (self);
    return;
  }
  if (self->request == GST_NOOM_SESSION_REQUEST_LEAVE) {
    /* The element left while the join was on its way: the server has us in
     * the room now, so leave it again, and make no peers. */
    GST_INFO_OBJECT (self, "the join ack for room %s came after we left: "
        "leaving it", info->room);
    noom_client_leave (self->client);
    g_queue_clear_full (&self->early, early_free);
    gst_object_unref (self);
    return;
  }

  set_state (self, GST_NOOM_SESSION_STATE_JOINED, "join ack");
  g_clear_pointer (&self->relay_id, g_free);
  if (!g_strcmp0 (info->media, NOOM_MEDIA_MODE_NAME_SFU) && info->relay) {
    self->relay_id = g_strdup (info->relay);
    GST_INFO_OBJECT (self, "room %s forwards media through the server: "
        "one connection, with the relay %s", info->room, self->relay_id);
  }
  g_strfreev (self->room_ice_servers);
  self->room_ice_servers = g_strdupv (info->ice_servers);
  GST_OBJECT_LOCK (self);
  g_free (self->self_id);
  self->self_id = g_strdup (info->self->id);
  GST_OBJECT_UNLOCK (self);

  if (self->lost_at) {
    g_autofree gchar *back = g_strdup_printf ("Back in room \"%s\" on %s "
        "after %.1f s", info->room, self->http_url,
        (g_get_monotonic_time () - self->lost_at) / 1e6);

    self->lost_at = 0;
    GST_ELEMENT_WARNING (self->element, RESOURCE, READ, ("%s", back), (NULL));
    post_progress (self, GST_PROGRESS_TYPE_COMPLETE, "reconnect", back);
    gst_element_post_message (self->element,
        gst_message_new_element (GST_OBJECT (self->element),
            gst_structure_new ("noom-reconnected", "server", G_TYPE_STRING,
                self->http_url, "id", G_TYPE_STRING, info->self->id, NULL)));
  }
  text = g_strdup_printf (info->count == 1 ?
      "Joined room \"%s\" as %s (%u participant)" :
      "Joined room \"%s\" as %s (%u participants)", info->room,
      info->self->id, info->count);
  GST_INFO_OBJECT (self, "%s", text);
  post_progress (self, GST_PROGRESS_TYPE_COMPLETE, "connect", text);
  gst_element_post_message (self->element,
      gst_message_new_element (GST_OBJECT (self->element),
          gst_structure_new ("noom-joined", "room", G_TYPE_STRING, info->room,
              "id", G_TYPE_STRING, info->self->id,
              "count", G_TYPE_UINT, info->count, NULL)));

  /* docs/protocol.md §7: the newcomer waits for the offers of those already
   * in the room; the peers exist now so their candidates have a home.
   * A rejoin starts from the server's list: the old ids are gone. */
  g_hash_table_remove_all (self->roster);
  for (i = 0; i < info->participants->len; i++) {
    NoomParticipant *p = info->participants->pdata[i];

    roster_add (self, p);
    post_participant (self, "joined", p);
    participant_media (self, p, FALSE);
    sfu_participant (self, p);
    if (needs_connection (self, p))
      create_peer (self, p, FALSE);
  }
  /* The client may deliver the first offers before the ack. */
  while ((early = g_queue_pop_head (&self->early))) {
    replay_early (self, early);
    early_free (early);
  }
  if (self->hooks.joined)
    self->hooks.joined (self->element, info->room);
  /* A join starts from our sends (docs/protocol.md §3): say it when we
   * are muted. */
  GST_OBJECT_LOCK (self);
  if (self->media_state_set && self->media_state != (guint) (info->self->sends
          & noom_media_state_allowed (info->self->sends))) {
    GST_OBJECT_UNLOCK (self);
    send_media_state (self);
  } else {
    GST_OBJECT_UNLOCK (self);
  }
  gst_object_unref (self);
}

static void
do_join (GstNoomSession * self, const gchar * why)
{
  set_state (self, GST_NOOM_SESSION_STATE_JOINING, why);
  GST_INFO_OBJECT (self, "joining room %s as %s (sends 0x%x)",
      self->uri->room, GST_STR_NULL (self->uri->nickname), self->sends);
  noom_client_join_async (self->client, self->uri->room, self->uri->nickname,
      self->kind, self->sends, self->cancellable, on_joined,
      gst_object_ref (self));
}

static void
on_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  GstNoomSession *self = user_data;
  g_autoptr (GError) error = NULL;

  if (!noom_client_connect_finish (NOOM_CLIENT (source), res, &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
        || NOOM_CLIENT (source) != self->client) {
      /* stopped, or an old client */
    } else if (self->state == GST_NOOM_SESSION_STATE_RECONNECTING
        && !(error->domain == NOOM_CLIENT_ERROR
            && (error->code == NOOM_CLIENT_ERROR_FORBIDDEN
                || error->code == NOOM_CLIENT_ERROR_REFUSED
                || error->code == NOOM_CLIENT_ERROR_NOT_NOOM
                || error->code == NOOM_CLIENT_ERROR_CERTIFICATE))) {
      GST_INFO_OBJECT (self, "reconnection attempt failed: %s", error->message);
      if (self->request == GST_NOOM_SESSION_REQUEST_LEAVE)
        set_state (self, GST_NOOM_SESSION_STATE_IDLE,
            "left while reconnecting");
      else
        schedule_reconnect (self, error);
    } else {
      post_client_error (self, error);
      set_state (self, GST_NOOM_SESSION_STATE_IDLE, error->message);
    }
    gst_object_unref (self);
    return;
  }
  if (!self->client) {
    gst_object_unref (self);
    return;
  }
  GST_INFO_OBJECT (self, "connected to %s as %s", self->http_url,
      noom_client_get_id (self->client));
  switch (self->request) {
    case GST_NOOM_SESSION_REQUEST_NONE:
      set_state (self, GST_NOOM_SESSION_STATE_CONNECTED, "connected");
      break;
    case GST_NOOM_SESSION_REQUEST_JOIN:
      do_join (self, "connected, asked to join");
      break;
    case GST_NOOM_SESSION_REQUEST_LEAVE:
      set_state (self, GST_NOOM_SESSION_STATE_LEFT, "connected, left");
      break;
  }
  gst_object_unref (self);
}

static void
connect_client (GstNoomSession * self)
{
  g_autofree gchar *ws_url = noom_uri_get_websocket_url (self->uri);
  g_autoptr (JsonObject) auth = NULL;
  g_autofree gchar *text = NULL;
  gboolean accept_invalid;
  guint timeout;

  self->client = noom_client_new ();
  /* Either kind of room (docs/protocol.md §11): the join ack says which. */
  noom_client_set_media_modes (self->client, NOOM_MEDIA_MODE_MESH |
      NOOM_MEDIA_MODE_SFU);
  noom_client_set_features (self->client, self->features);
  g_signal_connect (self->client, "participant-joined",
      G_CALLBACK (on_participant_joined), self);
  g_signal_connect (self->client, "participant-left",
      G_CALLBACK (on_participant_left), self);
  g_signal_connect (self->client, "participant-updated",
      G_CALLBACK (on_participant_updated), self);
  g_signal_connect (self->client, "offer", G_CALLBACK (on_offer), self);
  g_signal_connect (self->client, "answer", G_CALLBACK (on_answer), self);
  g_signal_connect (self->client, "offer-failed",
      G_CALLBACK (on_offer_failed), self);
  g_signal_connect (self->client, "ice", G_CALLBACK (on_ice), self);
  g_signal_connect (self->client, "server-error",
      G_CALLBACK (on_server_error), self);
  g_signal_connect (self->client, "chat", G_CALLBACK (on_chat), self);
  g_signal_connect (self->client, "media-relay",
      G_CALLBACK (on_media_relay), self);
  g_signal_connect (self->client, "participant-media",
      G_CALLBACK (on_participant_media), self);
  g_signal_connect (self->client, "media-bandwidth",
      G_CALLBACK (on_media_bandwidth), self);
  g_signal_connect (self->client, "disconnected",
      G_CALLBACK (on_disconnected), self);

  if (self->uri->token) {
    auth = json_object_new ();
    json_object_set_string_member (auth, "token", self->uri->token);
  }
  GST_OBJECT_LOCK (self);
  timeout = self->connect_timeout;
  accept_invalid = self->accept_invalid_certificates;
  GST_OBJECT_UNLOCK (self);
  if (self->state == GST_NOOM_SESSION_STATE_RECONNECTING) {
    /* An attempt does not outlast the reconnect window. */
    gint64 left = get_reconnect_window (self) -
        (g_get_monotonic_time () - self->lost_at) / 1000;

    timeout = CLAMP (left, 100, (gint64) timeout);
  }
  g_object_set (self->client, "accept-invalid-certificates", accept_invalid,
      NULL);

  text = g_strdup_printf ("Connecting to %s", self->http_url);
  GST_INFO_OBJECT (self, "%s (%s)", text, ws_url);
  if (self->state != GST_NOOM_SESSION_STATE_RECONNECTING)
    post_progress (self, GST_PROGRESS_TYPE_START, "connect", text);
  noom_client_connect_async (self->client, ws_url, auth, timeout,
      self->cancellable, on_connected, gst_object_ref (self));
}

static gboolean
start_in_thread (gpointer data)
{
  GstNoomSession *self = data;

  self->cancellable = g_cancellable_new ();
  set_state (self, GST_NOOM_SESSION_STATE_CONNECTING, "started");
  connect_client (self);
  return G_SOURCE_REMOVE;
}

gboolean
gst_noom_session_start (GstNoomSession * self)
{
  g_autoptr (NoomUri) uri = g_new0 (NoomUri, 1);
  g_autofree gchar *local = NULL;
  g_autofree gchar *thread_name = NULL;
  g_autofree gchar *uri_error = NULL;

  g_return_val_if_fail (self->thread == NULL, FALSE);

  /* Named now: the element has its final name. */
  thread_name =
      g_strdup_printf ("%s-session", GST_ELEMENT_NAME (self->element));
  gst_object_set_name (GST_OBJECT (self), thread_name);
  g_clear_pointer (&thread_name, g_free);

  GST_OBJECT_LOCK (self);
  uri->tls = self->tls;
  uri->host = g_strdup (self->host);
  uri->port = self->port;
  uri->room = g_strdup (self->room);
  uri->nickname = g_strdup (self->nickname);
  uri->token = g_strdup (self->token);
  local = g_strdup (self->ice_local_addresses);
  g_clear_pointer (&self->self_id, g_free);
  uri_error = g_strdup (self->uri_error);
  GST_OBJECT_UNLOCK (self);

  if ((!uri->host || !uri->room) && uri_error) {
    GST_ELEMENT_ERROR (self->element, RESOURCE, NOT_FOUND,
        ("No room to join: the uri property was refused. %s.", uri_error),
        ("host %s, room %s", GST_STR_NULL (uri->host),
            GST_STR_NULL (uri->room)));
    return FALSE;
  }
  if (!uri->host || !uri->room) {
    GST_ELEMENT_ERROR (self->element, RESOURCE, NOT_FOUND,
        ("No room to join: set the uri property (e.g. "
            "noom://localhost:8080/demo), or server and room."),
        ("host %s, room %s", GST_STR_NULL (uri->host),
            GST_STR_NULL (uri->room)));
    return FALSE;
  }

  self->http_url = noom_uri_get_http_url (uri);
  self->uri = g_steal_pointer (&uri);
  /* state is IDLE: new, or stopped (stop_in_thread()) */
  self->request = GST_NOOM_SESSION_REQUEST_NONE;
  self->lost_at = 0;
  g_strfreev (self->local_addresses);
  if (local) {
    guint i;

    self->local_addresses = g_strsplit (local, ",", -1);
    for (i = 0; self->local_addresses[i]; i++)
      g_strstrip (self->local_addresses[i]);
  } else if (machine_has_only_loopback ()) {
    /* libnice skips loopback; on a machine with nothing else, a single-host
     * room must just work. */
    GST_INFO_OBJECT (self, "only loopback here: gathering on 127.0.0.1");
    self->local_addresses = g_strsplit ("127.0.0.1", ",", -1);
  } else {
    self->local_addresses = NULL;
  }

  GST_OBJECT_LOCK (self);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  GST_OBJECT_UNLOCK (self);

  thread_name = g_strdup_printf ("noom:%s", GST_ELEMENT_NAME (self->element));
  self->thread = g_thread_new (thread_name, session_thread, self);
  gst_noom_session_invoke (self, start_in_thread, self, NULL);
  return TRUE;
}

typedef struct
{
  GstNoomSession *self;
  NoomMediaFlags sends;
} JoinData;

static gboolean
join_in_thread (gpointer data)
{
  JoinData *jd = data;
  GstNoomSession *self = jd->self;

  if (self->request != GST_NOOM_SESSION_REQUEST_NONE || !self->client)
    return G_SOURCE_REMOVE;
  self->request = GST_NOOM_SESSION_REQUEST_JOIN;
  self->sends = jd->sends;
  if (self->state == GST_NOOM_SESSION_STATE_CONNECTED)
    do_join (self, "asked to join");
  return G_SOURCE_REMOVE;
}

void
gst_noom_session_join (GstNoomSession * self, NoomMediaFlags sends)
{
  JoinData *jd = g_new0 (JoinData, 1);

  jd->self = self;
  jd->sends = sends;
  gst_noom_session_invoke (self, join_in_thread, jd, g_free);
}

static gboolean
leave_in_thread (gpointer data)
{
  GstNoomSession *self = data;

  remove_all_peers (self);
  if (self->client && self->state == GST_NOOM_SESSION_STATE_JOINED) {
    GST_INFO_OBJECT (self, "leaving room %s", self->uri->room);
    noom_client_leave (self->client);
  }
  /* Not joined later either, nor after a reconnection. */
  self->request = GST_NOOM_SESSION_REQUEST_LEAVE;
  switch (self->state) {
    case GST_NOOM_SESSION_STATE_CONNECTED:
    case GST_NOOM_SESSION_STATE_JOINING:
    case GST_NOOM_SESSION_STATE_JOINED:
      set_state (self, GST_NOOM_SESSION_STATE_LEFT, "asked to leave");
      break;
    case GST_NOOM_SESSION_STATE_RECONNECTING:
      if (self->reconnect_source) {
        /* between two attempts: make no more */
        g_source_destroy (self->reconnect_source);
        g_clear_pointer (&self->reconnect_source, g_source_unref);
        set_state (self, GST_NOOM_SESSION_STATE_IDLE,
            "left while reconnecting");
      }
      /* else an attempt is under way: it ends in LEFT or IDLE */
      break;
    default:
      /* connecting: the request makes the connection end in LEFT */
      break;
  }
  return G_SOURCE_REMOVE;
}

void
gst_noom_session_leave (GstNoomSession * self)
{
  gst_noom_session_invoke (self, leave_in_thread, self, NULL);
}

static gboolean
stop_in_thread (gpointer data)
{
  GstNoomSession *self = data;

  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  if (self->reconnect_source) {
    g_source_destroy (self->reconnect_source);
    g_clear_pointer (&self->reconnect_source, g_source_unref);
  }
  remove_all_peers (self);
  if (self->client) {
    g_signal_handlers_disconnect_by_data (self->client, self);
    if (self->state == GST_NOOM_SESSION_STATE_JOINED)
      noom_client_leave (self->client);
    noom_client_close (self->client);
    g_clear_object (&self->client);
  }
  set_state (self, GST_NOOM_SESSION_STATE_IDLE, "stopped");
  g_queue_clear_full (&self->early, early_free);
  g_main_loop_quit (self->loop);
  return G_SOURCE_REMOVE;
}

void
gst_noom_session_stop (GstNoomSession * self)
{
  GMainContext *context;
  GMainLoop *loop;

  if (!self->thread)
    return;

  GST_DEBUG_OBJECT (self, "stopping");
  gst_noom_session_invoke (self, stop_in_thread, self, NULL);
  g_thread_join (self->thread);
  self->thread = NULL;

  GST_OBJECT_LOCK (self);
  context = self->context;
  loop = self->loop;
  self->context = NULL;
  self->loop = NULL;
  GST_OBJECT_UNLOCK (self);

  /* What webrtcbin queued for the thread is dropped with the context. */
  g_main_loop_unref (loop);
  g_main_context_unref (context);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->uri, noom_uri_free);
  g_clear_pointer (&self->http_url, g_free);
  g_clear_pointer (&self->room_ice_servers, g_strfreev);
  g_clear_pointer (&self->local_addresses, g_strfreev);
  GST_DEBUG_OBJECT (self, "stopped");
}

/* ------------------------------------------------------------------------ */
/* chat */

typedef struct
{
  GstNoomSession *self;
  gchar *text;
} ChatData;

static void
chat_data_free (gpointer data)
{
  ChatData *cd = data;

  gst_object_unref (cd->self);
  g_free (cd->text);
  g_free (cd);
}

static gboolean
chat_in_thread (gpointer data)
{
  ChatData *cd = data;
  GstNoomSession *self = cd->self;

  /* The room may have gone since the caller checked. */
  if (self->state != GST_NOOM_SESSION_STATE_JOINED || !self->client) {
    GST_WARNING_OBJECT (self, "not in the room any more: chat message "
        "dropped (%s)", cd->text);
    return G_SOURCE_REMOVE;
  }
  GST_DEBUG_OBJECT (self, "chat: %s", cd->text);
  noom_client_send_chat (self->client, cd->text);
  return G_SOURCE_REMOVE;
}

/* On the session thread: media_state with what we were told last. */
static void
send_media_state (GstNoomSession * self)
{
  guint state;

  GST_OBJECT_LOCK (self);
  state = self->media_state;
  GST_OBJECT_UNLOCK (self);
  if (self->state != GST_NOOM_SESSION_STATE_JOINED || !self->client)
    return;                     /* the next join says it */
  GST_DEBUG_OBJECT (self, "media_state audio %d video %d screen %d",
      !!(state & NOOM_MEDIA_STATE_AUDIO), !!(state & NOOM_MEDIA_STATE_VIDEO),
      !!(state & NOOM_MEDIA_STATE_SCREEN));
  noom_client_send_media_state (self->client, state);
}

static gboolean
media_state_in_thread (gpointer data)
{
  send_media_state (data);
  return G_SOURCE_REMOVE;
}

void
gst_noom_session_set_media_state (GstNoomSession * self, guint state)
{
  gboolean changed;

  GST_OBJECT_LOCK (self);
  changed = !self->media_state_set || self->media_state != state;
  self->media_state = state;
  self->media_state_set = TRUE;
  GST_OBJECT_UNLOCK (self);
  if (changed)
    gst_noom_session_invoke (self, media_state_in_thread,
        gst_object_ref (self), gst_object_unref);
}

gboolean
gst_noom_session_send_chat (GstNoomSession * self, const gchar * text)
{
  g_autoptr (GError) error = NULL;
  ChatData *cd;
  gboolean in_room;

  /* The server's default limit: it may take less (--max-message), and
   * then refuses the message with a warning (on_server_error()). */
  if (!text || !noom_room_validate_message (text, -1,
          NOOM_ROOM_DEFAULT_MAX_MESSAGE, &error)) {
    GST_WARNING_OBJECT (self, "chat message refused: %s",
        error ? error->message : "no text");
    return FALSE;
  }
  GST_OBJECT_LOCK (self);
  in_room = self->in_room;
  GST_OBJECT_UNLOCK (self);
  if (!in_room) {
    GST_WARNING_OBJECT (self, "chat message refused: not in the room");
    return FALSE;
  }

  cd = g_new0 (ChatData, 1);
  cd->self = gst_object_ref (self);
  cd->text = g_strdup (text);
  gst_noom_session_invoke (self, chat_in_thread, cd, chat_data_free);
  return TRUE;
}

/* ------------------------------------------------------------------------ */

typedef struct
{
  GstNoomSession *self;
  gchar *id;
  gchar *reason;
} FailData;

static void
fail_data_free (gpointer data)
{
  FailData *fd = data;

  gst_object_unref (fd->self);
  g_free (fd->id);
  g_free (fd->reason);
  g_free (fd);
}

static gboolean
fail_in_thread (gpointer data)
{
  FailData *fd = data;
  g_autoptr (GstNoomPeer) peer = lookup_peer (fd->self, fd->id);

  if (peer)
    gst_noom_session_peer_failed (fd->self, peer, fd->reason);
  return G_SOURCE_REMOVE;
}

void
gst_noom_session_fail_peer (GstNoomSession * self, const gchar * id,
    const gchar * reason)
{
  FailData *fd = g_new0 (FailData, 1);

  fd->self = gst_object_ref (self);
  fd->id = g_strdup (id);
  fd->reason = g_strdup (reason);
  gst_noom_session_invoke (self, fail_in_thread, fd, fail_data_free);
}

#define PEER_ID_KEY "noom-peer-id"

void
gst_noom_session_mark_element (GstElement * element, GstNoomPeer * peer)
{
  g_object_set_data_full (G_OBJECT (element), PEER_ID_KEY,
      g_strdup (gst_noom_peer_get_participant (peer)->id), g_free);
}

static GstPadProbeReturn
drop_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  return GST_PAD_PROBE_DROP;
}

void
gst_noom_session_drop_pad (GstPad * pad)
{
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_DATA_DOWNSTREAM, drop_probe,
      NULL, NULL);
}

/* The participant whose elements posted @message, if any. */
static gchar *
peer_of_message (GstNoomSession * self, GstMessage * message)
{
  GstObject *obj = GST_MESSAGE_SRC (message) ?
      gst_object_ref (GST_MESSAGE_SRC (message)) : NULL;
  gchar *id = NULL;

  while (obj && obj != GST_OBJECT (self->element) && !id) {
    GstObject *parent;

    id = g_strdup (g_object_get_data (G_OBJECT (obj), PEER_ID_KEY));
    parent = gst_object_get_parent (obj);
    gst_object_unref (obj);
    obj = parent;
  }
  if (obj)
    gst_object_unref (obj);
  return id;
}

gboolean
gst_noom_session_handle_message (GstNoomSession * self, GstMessage * message)
{
  gchar *id;
  GError *error = NULL;
  gchar *debug = NULL;

  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ERROR)
    return FALSE;
  id = peer_of_message (self, message);
  if (!id)
    return FALSE;

  gst_message_parse_error (message, &error, &debug);
  GST_WARNING_OBJECT (self, "error in the connection to %s: %s (%s)", id,
      error->message, GST_STR_NULL (debug));
  gst_noom_session_fail_peer (self, id, error->message);
  g_free (id);
  g_clear_error (&error);
  g_free (debug);
  return TRUE;
}
