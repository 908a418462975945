/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine-private: what the files of the Engine.IO engine share, and
 * nothing outside them may use.  The engine is split by concern:
 *   noom-engine.c            the engine's public API, the HTTP front door
 *                            (routing, refusals, admission)
 *   noom-engine-core.c       a session's life, sending, closing and packets
 *                            in; the HTTP answers the other parts share
 *   noom-engine-polling.c    the long-polling transport
 *   noom-engine-ws.c         the WebSocket transport of a session: the
 *                            handshake, the take-over of the descriptor,
 *                            the upgrade from polling
 *   noom-engine-wsconn.c     one WebSocket connection: RFC 6455 framing on
 *                            the raw descriptor with epoll and io_uring
 *                            batching, or libsoup's connection under TLS
 *   noom-engine-heartbeat.c  the clocks: ping/pong deadlines, and the sweep
 *                            of upgrade timeouts and lingering sessions
 * Everything runs on the engine's GMainContext: no locks.
 *
 * The calls go one way: noom-engine.c calls every part; the transports
 * and the clocks call the core (and noom-engine-ws.c the polling
 * transport, which it upgrades from); the core calls
 * noom-engine-wsconn.c, and reaches the transports and the clocks only
 * through the NoomEngineParts table that noom_engine_new() sets.
 */
#pragma once

#include <libsoup/soup.h>

#include "noom-engine.h"
#include "noom-log-fold.h"
#include "noom-packet.h"
#include "noom-tally.h"

G_BEGIN_DECLS

/* Default bound on what one socket may have buffered. */
#define DEFAULT_MAX_BUFFERED (4 * 1024 * 1024)

typedef struct _WsConn WsConn;

typedef struct _NoomEngineParts NoomEngineParts;

/* Things to handle a little later, in one go (noom_engine_batch_add). */
typedef struct
{
  GPtrArray *items;
  GSource *source;
} NoomEngineBatch;

enum
{
  TRANSPORT_POLLING,
  TRANSPORT_WEBSOCKET,
};

enum
{
  STATE_OPEN,
  STATE_LINGER,                 /* closed, polling close packet not fetched yet */
  STATE_CLOSED,
};

struct _NoomEngine
{
  SoupServer *server;
  gchar *path;
  NoomEngineConfig config;
  NoomEngineCallbacks callbacks;
  gpointer user_data;
  GMainContext *context;
  const NoomEngineParts *parts;

  GHashTable *sockets;          /* sid (owned by the socket) -> socket */
  guint n_open;
  NoomEngineBatch doomed;       /* sockets to close from an idle */
  gchar **origins;              /* config.allowed_origins, owned */
  GHashTable *per_address;      /* remote -> open sessions (max_per_address) */
  /* Refusals at the HTTP level are logged at message level, once each
   * every 10 s (noom-log-fold). */
  NoomLogFold *log;

  /* noom-engine-heartbeat.c */
  GSource *sweep;
  GSource *heartbeat;
  NoomEngineSocket *hb_head[2]; /* HB_PING, HB_PONG lists */
  NoomEngineSocket *hb_tail[2];
  GBytes *ping_frame;           /* "2", shared by every ping */

  /* noom-engine-polling.c */
  NoomEngineBatch flush;        /* polling sockets with a held GET to answer */

  /* noom-engine-wsconn.c: plain WebSockets share one epoll set, one
   * GSource, one read buffer. */
  gint epfd;
  GSource *epoll_source;
  guint8 *rbuf;
  NoomEngineBatch dirty;        /* WsConns with frames to write */
  /* With liburing, flushing many connections at once: one
   * io_uring_enter() for all their sendmsg()s (ring_state: a RingState;
   * the ring is allocated when first used). */
  struct io_uring *ring;
  gint ring_state;
  struct RingSlot *slots;

  /* noom-engine-ws.c */
  NoomEngineBatch turned_away;  /* WsConns to close a little later */
  GSList *upgrades;             /* PendingUpgrade: 101 not written yet */
};

/* Kept small: one of these per connection. */
struct _NoomEngineSocket
{
  NoomEngine *engine;
  gpointer user_data;
  WsConn *ws;                   /* WebSocket transport, NULL when polling */
  WsConn *probe;                /* upgrade in progress */
  SoupServerMessage *poll;      /* held GET */
  GPtrArray *queue;             /* polling: GBytes frames ('b'+base64 binary) */
  gchar *remote;
  NoomEngineSocket *hb_prev, *hb_next;  /* in engine->hb_* */
  GSource *defer;               /* GET held during an upgrade */
  gint64 hb_deadline;           /* monotonic ms: ping due, or pong due */
  gint64 deadline;              /* upgrade or linger deadline, 0 for none */
  gsize backlog;
  guint ref_count;
  gchar sid[21];
  guint8 transport;
  guint8 state;
  guint8 probed:1;              /* 2probe answered, waiting for 5 */
  guint8 in_flush:1;
  guint8 hb_list:2;             /* HB_NONE, HB_PING or HB_PONG + 1 */
  guint8 linger_noop:1;         /* lingering after a client close */
  guint8 doomed:1;              /* to be closed as a slow consumer */
};

typedef struct _OutChunk OutChunk;

/* What a WsConn reports to the one who made it (noom-engine-ws.c). */
typedef struct
{
  void (*message) (WsConn * c, gboolean binary, const gchar * data,
      gsize len);
  /* The peer went away (EOF, error, close frame). */
  void (*lost) (WsConn * c);
} WsConnEvents;

/* A WebSocket connection.  Plain ones are framed here, on the raw file
 * descriptor taken from libsoup after the handshake: libsoup's
 * SoupWebsocketConnection and the HTTP connection objects under it cost
 * about 30 KB per connection, this about 100 bytes, and sending a frame
 * is one sendmsg() of a header and the shared GBytes, no copy.  TLS
 * connections keep libsoup's implementation (@soup).  Only
 * noom-engine-wsconn.c touches it but for @owner and @hold; it knows
 * nothing of sessions, and reports through @events. */
struct _WsConn
{
  NoomEngine *engine;
  const WsConnEvents *events;
  NoomEngineSocket *owner;      /* NULL while being turned away */
  SoupWebsocketConnection *soup;        /* TLS only */
  GSocket *gsocket;             /* TLS only: for the backlog estimate */
  gpointer hold;                /* plain: noom_listener_hold_connection() */
  GByteArray *in;               /* bytes of an incomplete frame */
  GByteArray *msg;              /* fragments of an incomplete message */
  OutChunk *out_head, *out_tail;
  gsize out_bytes;              /* what the kernel has not taken yet */
  gint fd;                      /* -1 once shut */
  guint ref_count;
  guint8 msg_opcode;
  guint8 shut:1;
  guint8 want_out:1;
  guint8 close_sent:1;
  guint8 dirty:1;               /* in engine->dirty, to be flushed */
};

static inline gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

/* Adds @item to @batch, and has @func (@engine) called on the engine's
 * context after @delay_ms, or from an idle when 0, unless it is already
 * due: a burst of additions is then handled in one go.  The idle runs at
 * G_PRIORITY_DEFAULT: an idle below the epoll source would starve under
 * load. */
static inline void
noom_engine_batch_add (NoomEngine * engine, NoomEngineBatch * batch,
    gpointer item, guint delay_ms, GSourceFunc func)
{
  if (batch->items == NULL)
    batch->items = g_ptr_array_new ();
  g_ptr_array_add (batch->items, item);
  if (batch->source)
    return;
  if (delay_ms) {
    batch->source = g_timeout_source_new (delay_ms);
  } else {
    batch->source = g_idle_source_new ();
    g_source_set_priority (batch->source, G_PRIORITY_DEFAULT);
  }
  g_source_set_callback (batch->source, func, engine, NULL);
  g_source_attach (batch->source, engine->context);
}

/* Empties @batch, to handle its items now (NULL if there are none): from
 * its @func, or before the source is due (the source is then dropped). */
static inline GPtrArray *
noom_engine_batch_take (NoomEngineBatch * batch)
{
  if (batch->source) {
    g_source_destroy (batch->source);
    g_clear_pointer (&batch->source, g_source_unref);
  }
  return g_steal_pointer (&batch->items);
}

/* What the core calls in the parts above it (see the top of this file):
 * noom-engine-heartbeat.c and noom-engine-polling.c, as declared below. */
struct _NoomEngineParts
{
  void (*heartbeat_add) (NoomEngineSocket * s);
  void (*heartbeat_remove) (NoomEngineSocket * s);
  void (*heartbeat_pong) (NoomEngineSocket * s);
  gboolean (*heartbeat_overdue) (NoomEngineSocket * s, gint64 now);
  void (*polling_queue) (NoomEngineSocket * s, GBytes * frame);
  void (*polling_respond) (NoomEngineSocket * s, const gchar * extra);
};

/* ---------------------------------------------- noom-engine-core.c */

NoomEngineSocket *noom_engine_socket_new (NoomEngine * engine,
    guint transport, const gchar * remote);
NoomEngineSocket *noom_engine_socket_ref (NoomEngineSocket * s);
void noom_engine_socket_unref (NoomEngineSocket * s);
/* Closes @s (the owner's close callback runs); with @linger, a polling
 * session waits for the GET that fetches its close packet. */
void noom_engine_socket_close_internal (NoomEngineSocket * s,
    const gchar * reason, gboolean linger);
/* Closes @s as a slow consumer, from an idle. */
void noom_engine_socket_doom (NoomEngineSocket * s);
/* Closes the doomed sockets now (engine teardown). */
void noom_engine_close_doomed (NoomEngine * engine);
/* Closes the WebSocket @*conn (if any) of @s and forgets it. */
void noom_engine_socket_drop_ws (NoomEngineSocket * s, WsConn ** conn);
/* Sends @frame on @c, one of the WebSockets of @s (if not NULL); dooms
 * @s when @c has too much buffered. */
void noom_engine_socket_send_ws (NoomEngineSocket * s, WsConn * c,
    gboolean binary, GBytes * frame);
/* The open session @sid, or NULL (a session past its pong deadline is
 * closed first). */
NoomEngineSocket *noom_engine_lookup_session (NoomEngine * engine,
    const gchar * sid);
/* Handles one packet from the current transport.  Returns FALSE when the
 * session was closed because of it. */
gboolean noom_engine_handle_packet (NoomEngineSocket * s,
    const NoomEioPacket * p);
/* The open packet; @upgrades: offer "websocket" (polling sessions). */
GBytes *noom_engine_open_frame (NoomEngine * engine, NoomEngineSocket * s,
    gboolean upgrades);
const gchar *noom_engine_query_get (GHashTable * query, const gchar * key);

void noom_engine_mirror_connection_close (SoupServerMessage * msg);
void noom_engine_set_json_error (SoupServerMessage * msg, guint status,
    gint code, const gchar * message);
/* The Engine.IO error @code (0..5) as the HTTP answer. */
void noom_engine_bad_request (SoupServerMessage * msg, gint code);
void noom_engine_log_refusal (NoomEngine * engine, SoupServerMessage * msg,
    const gchar * transport, const gchar * why);
void noom_engine_upgrade_failed (NoomEngine * engine, const gchar * remote,
    const gchar * why);
/* noom_engine_bad_request(), logged. */
void noom_engine_refuse (NoomEngine * engine, SoupServerMessage * msg,
    gint code, const gchar * transport, const gchar * why);

/* ------------------------------------------- noom-engine-heartbeat.c */

void noom_engine_heartbeat_start (NoomEngine * engine);
void noom_engine_heartbeat_stop (NoomEngine * engine);
/* @s waits for its first ping. */
void noom_engine_heartbeat_add (NoomEngineSocket * s);
void noom_engine_heartbeat_remove (NoomEngineSocket * s);
void noom_engine_heartbeat_pong (NoomEngineSocket * s);
/* Pinged and not answered by @now (monotonic ms)? */
gboolean noom_engine_heartbeat_overdue (NoomEngineSocket * s, gint64 now);

/* --------------------------------------------- noom-engine-polling.c */

void noom_engine_polling_handshake (NoomEngine * engine,
    SoupServerMessage * msg);
void noom_engine_polling_get (NoomEngineSocket * s, SoupServerMessage * msg);
void noom_engine_polling_post (NoomEngineSocket * s, SoupServerMessage * msg);
/* Answers the held GET, if any, with the queue (and @extra). */
void noom_engine_polling_respond (NoomEngineSocket * s, const gchar * extra);
void noom_engine_polling_queue (NoomEngineSocket * s, GBytes * frame);
/* Answers the held GET in a moment (during an upgrade). */
void noom_engine_polling_defer (NoomEngineSocket * s);
/* A polling request for a session that moved to WebSocket. */
void noom_engine_polling_bad_request_later (NoomEngine * engine,
    SoupServerMessage * msg, gint code);
/* Answers the GETs whose answer was scheduled, now (engine teardown). */
void noom_engine_polling_flush (NoomEngine * engine);

/* -------------------------------------------------- noom-engine-ws.c */

void noom_engine_ws_handshake (NoomEngine * engine, SoupServerMessage * msg,
    const gchar * sid);
void noom_engine_ws_tls_cb (SoupServer * server, SoupServerMessage * msg,
    const char *path, SoupWebsocketConnection * ws, gpointer user_data);
/* Forgets pending upgrades and closes turned-away connections now
 * (engine teardown). */
void noom_engine_ws_finish (NoomEngine * engine);

/* ---------------------------------------------- noom-engine-wsconn.c */

void noom_ws_conn_io_init (NoomEngine * engine);
void noom_ws_conn_io_clear (NoomEngine * engine);
WsConn *noom_ws_conn_new_raw (NoomEngine * engine, gint fd,
    const WsConnEvents * events);
WsConn *noom_ws_conn_new_soup (NoomEngine * engine,
    SoupWebsocketConnection * ws, GSocket * gsocket,
    const WsConnEvents * events);
WsConn *noom_ws_conn_ref (WsConn * c);
void noom_ws_conn_unref (WsConn * c);
/* Queues one frame (@opcode 1 text, 2 binary).  FALSE when the connection
 * has more buffered than the engine allows (the caller closes it). */
gboolean noom_ws_conn_send (WsConn * c, guint8 opcode, GBytes * payload);
void noom_ws_conn_send_text (WsConn * c, const gchar * text);
/* A close frame, then shut. */
void noom_ws_conn_close (WsConn * c, gushort code);
/* Stops all I/O and callbacks, drops the connection's own reference. */
void noom_ws_conn_shut (WsConn * c);

G_END_DECLS
