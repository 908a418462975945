/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine: the Engine.IO v4 server transport on a SoupServer.
 *
 * Design notes (see docs/server-internals.md):
 * - A session is one small NoomEngineSocket; nothing of the HTTP request is
 *   kept after the handshake except the peer address text.
 * - No per-socket timers.  Every session has the same ping interval and
 *   timeout, so deadlines are created in time order: the sessions waiting
 *   to be pinged and those waiting for a pong sit in two intrusive FIFO
 *   lists, already sorted, and one GSource per engine is armed for the
 *   earliest head (O(1) per ping/pong, exact timing).  Upgrade timeouts and
 *   the linger of closed polling sessions, which are rare, are left to a
 *   coarse periodic sweep.
 * - Frames are GBytes handed over as they are: a broadcast encodes once and
 *   every socket shares the same bytes.
 * - Output is bounded per socket: the polling queue by size, the WebSocket
 *   by the bytes handed to libsoup while the kernel socket is not writable.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-engine"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/uio.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "noom-engine.h"
#include "noom-packet.h"
#include "noom-listener.h"
#include "noom-log-fold.h"

/* How long a polling session closed by the server waits for the GET that
 * fetches its close packet. */
#define LINGER_MS 30000
/* Check the kernel socket's writability only every this many bytes queued
 * to libsoup: a poll() per frame would cost a syscall per delivery. */
#define WS_BACKLOG_CHECK 65536
/* Default bound on what one socket may have buffered. */
#define DEFAULT_MAX_BUFFERED (4 * 1024 * 1024)
/* The engine's one read buffer for all plain WebSockets. */
#define READ_BUFFER_SIZE 65536

typedef struct _WsConn WsConn;

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

  GHashTable *sockets;          /* sid (owned by the socket) -> socket */
  guint n_open;
  GSource *sweep;
  GSource *heartbeat;
  NoomEngineSocket *hb_head[2]; /* HB_PING, HB_PONG lists */
  NoomEngineSocket *hb_tail[2];
  GPtrArray *flush;             /* polling sockets with a held GET to answer */
  GSource *flush_idle;
  GBytes *ping_frame;           /* "2", shared by every ping */
  GPtrArray *doomed;            /* sockets to close from an idle */
  GSource *doomed_idle;

  /* Plain WebSockets: one epoll set, one GSource, one read buffer. */
  gint epfd;
  GSource *epoll_source;
  guint8 *rbuf;
  GPtrArray *dirty;             /* WsConns with frames to write */
  GSource *dirty_source;
#ifdef HAVE_LIBURING
  /* Flushing many connections at once: one io_uring_enter() for all their
   * sendmsg()s (ring_state: a RingState). */
  struct io_uring ring;
  gint ring_state;
  struct RingSlot *slots;
#endif
  GPtrArray *turned_away;       /* WsConns to close a little later */
  GSList *upgrades;             /* PendingUpgrade: 101 not written yet */
  GSource *turned_away_source;

  gchar **origins;              /* config.allowed_origins, owned */
  GHashTable *per_address;      /* remote -> open sessions (max_per_address) */
  /* Refusals at the HTTP level are logged at message level, once each
   * every 10 s (noom-log-fold). */
  NoomLogFold *log;
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

static void socket_close_internal (NoomEngineSocket * s, const gchar * reason,
    gboolean linger);

enum
{
  HB_PING,                      /* waiting for its next ping */
  HB_PONG,                      /* pinged, waiting for the pong */
};

/* ------------------------------------------------------------ heartbeat */

static void
hb_rearm (NoomEngine * engine)
{
  gint64 next = G_MAXINT64;
  guint i;

  for (i = 0; i < 2; i++)
    if (engine->hb_head[i] && engine->hb_head[i]->hb_deadline < next)
      next = engine->hb_head[i]->hb_deadline;
  g_source_set_ready_time (engine->heartbeat,
      next == G_MAXINT64 ? -1 : next * 1000);
}

static void
hb_unlink (NoomEngineSocket * s)
{
  NoomEngine *engine = s->engine;
  guint list;

  if (s->hb_list == 0)
    return;
  list = s->hb_list - 1;
  if (s->hb_prev)
    s->hb_prev->hb_next = s->hb_next;
  else
    engine->hb_head[list] = s->hb_next;
  if (s->hb_next)
    s->hb_next->hb_prev = s->hb_prev;
  else
    engine->hb_tail[list] = s->hb_prev;
  s->hb_prev = s->hb_next = NULL;
  s->hb_list = 0;
}

/* Appends: deadlines of one list only grow, so the list stays sorted. */
static void
hb_append (NoomEngineSocket * s, guint list, gint64 deadline)
{
  NoomEngine *engine = s->engine;
  gboolean was_empty = engine->hb_head[list] == NULL;

  hb_unlink (s);
  s->hb_deadline = deadline;
  s->hb_list = list + 1;
  s->hb_prev = engine->hb_tail[list];
  s->hb_next = NULL;
  if (s->hb_prev)
    s->hb_prev->hb_next = s;
  else
    engine->hb_head[list] = s;
  engine->hb_tail[list] = s;
  if (was_empty)
    hb_rearm (engine);
}

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

static inline gint64
now_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

/* ------------------------------------------------------------ socket life */

static NoomEngineSocket *
socket_ref (NoomEngineSocket * s)
{
  s->ref_count++;
  return s;
}

/* ------------------------------------------------------------ WebSockets */

/* A WebSocket connection.  Plain ones are framed here, on the raw file
 * descriptor taken from libsoup after the handshake: libsoup's
 * SoupWebsocketConnection and the HTTP connection objects under it cost
 * about 30 KB per connection, this about 100 bytes, and sending a frame
 * is one sendmsg() of a header and the shared GBytes, no copy.  TLS
 * connections keep libsoup's implementation (@soup). */
typedef struct _OutChunk OutChunk;
struct _OutChunk
{
  OutChunk *next;
  GBytes *payload;              /* shared: a broadcast is never copied */
  gsize offset;                 /* bytes of hdr + payload already written */
  guint8 hlen;
  guint8 hdr[10];
};

struct _WsConn
{
  NoomEngine *engine;
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

static void ws_on_message (WsConn * c, gboolean binary, const gchar * data,
    gsize len);
static void ws_handshake (NoomEngine * engine, SoupServerMessage * msg,
    const gchar * sid);
static void ws_on_lost (WsConn * c);

static WsConn *
wsc_ref (WsConn * c)
{
  c->ref_count++;
  return c;
}

static void
out_clear (WsConn * c)
{
  while (c->out_head) {
    OutChunk *o = c->out_head;

    c->out_head = o->next;
    g_bytes_unref (o->payload);
    g_free (o);
  }
  c->out_tail = NULL;
  c->out_bytes = 0;
}

static void
wsc_unref (WsConn * c)
{
  if (--c->ref_count > 0)
    return;
  g_assert (c->shut);
  out_clear (c);
  if (c->in)
    g_byte_array_unref (c->in);
  if (c->msg)
    g_byte_array_unref (c->msg);
  g_clear_object (&c->soup);
  g_clear_object (&c->gsocket);
  g_free (c);
}

static void
wsc_epoll_update (WsConn * c, gboolean want_out)
{
  struct epoll_event ev = { 0, };

  if (c->fd < 0 || c->want_out == want_out)
    return;
  c->want_out = want_out;
  ev.events = EPOLLIN | (want_out ? EPOLLOUT : 0);
  ev.data.ptr = c;
  epoll_ctl (c->engine->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Stops all I/O and callbacks, drops the connection's own reference. */
static void
wsc_shut (WsConn * c)
{
  if (c->shut)
    return;
  c->shut = TRUE;
  c->owner = NULL;
  if (c->soup) {
    g_signal_handlers_disconnect_by_data (c->soup, c);
    if (soup_websocket_connection_get_state (c->soup) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c->soup, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
  }
  if (c->fd >= 0) {
    guint8 drain[512];
    guint i;

    epoll_ctl (c->engine->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    /* Unread input would turn close() into a reset that can destroy what
     * we just sent (a close packet, a close frame): read it away first
     * (a bounded amount: a peer that keeps sending gets its reset). */
    for (i = 0; i < 64; i++)
      if (recv (c->fd, drain, sizeof (drain), MSG_DONTWAIT) <= 0)
        break;
    shutdown (c->fd, SHUT_WR);
    close (c->fd);
    c->fd = -1;
  }
  /* The descriptor is closed: the connection no longer counts. */
  noom_listener_release_connection (g_steal_pointer (&c->hold));
  wsc_unref (c);
}

/* Points @iov (@max entries, at least 2) at the frames queued on @c, from
 * the first unwritten byte; returns the number used. */
static gint
wsc_fill_iov (WsConn * c, struct iovec *iov, gint max)
{
  OutChunk *o;
  gint k = 0;

  for (o = c->out_head; o && k < max - 1; o = o->next) {
    gsize len;
    const guint8 *data = g_bytes_get_data (o->payload, &len);

    if (o->offset < o->hlen) {
      iov[k].iov_base = o->hdr + o->offset;
      iov[k++].iov_len = o->hlen - o->offset;
      if (len) {
        iov[k].iov_base = (gpointer) data;
        iov[k++].iov_len = len;
      }
    } else {
      iov[k].iov_base = (gpointer) (data + o->offset - o->hlen);
      iov[k++].iov_len = len - (o->offset - o->hlen);
    }
  }
  return k;
}

/* The kernel took @n bytes of @c's queue: drop what was written. */
static void
wsc_written (WsConn * c, gsize n)
{
  c->out_bytes -= n;
  while (n > 0) {
    OutChunk *o = c->out_head;
    gsize left = o->hlen + g_bytes_get_size (o->payload) - o->offset;

    if (n < left) {
      o->offset += n;
      break;
    }
    n -= left;
    c->out_head = o->next;
    if (c->out_head == NULL)
      c->out_tail = NULL;
    g_bytes_unref (o->payload);
    g_free (o);
  }
}

/* Writes what the kernel takes, many frames per writev(). */
static void
wsc_flush (WsConn * c)
{
  while (c->out_head && c->fd >= 0) {
    struct iovec iov[64];
    gssize n;

    n = writev (c->fd, iov, wsc_fill_iov (c, iov, G_N_ELEMENTS (iov)));
    if (n < 0) {
      /* EAGAIN: wait for EPOLLOUT; a real error: EPOLLERR/HUP follows */
      break;
    }
    wsc_written (c, n);
  }
  wsc_epoll_update (c, c->out_head != NULL);
}

#ifdef HAVE_LIBURING
/* Broadcasts are what the server sends most: one message to every member
 * of a room means one small write to each of many sockets.  Each write()
 * is a system call, and on a busy machine each one may also let the woken
 * receiver preempt the server.  With io_uring the writes of one flush are
 * handed to the kernel in a single io_uring_enter().  MSG_DONTWAIT makes
 * every send complete (or fail with EAGAIN) inside that call, exactly like
 * the non-blocking writev() it replaces: ring_probe() checks that on this
 * kernel before the ring is used, and nothing is ever left in flight. */
#define RING_SLOTS 256
#define RING_IOV 16

typedef enum
{
  RING_UNTRIED = 0,
  RING_READY = 1,
  RING_UNAVAILABLE = -1,        /* no ring */
  RING_RETIRED = -2,            /* a ring, never to be used again */
} RingState;

typedef struct RingSlot
{
  WsConn *conn;
  struct msghdr msg;
  struct iovec iov[RING_IOV];
} RingSlot;

/* Does a MSG_DONTWAIT sendmsg() on a full socket complete at submission
 * with -EAGAIN (instead of waiting in the kernel for room)? */
static gboolean
ring_probe (struct io_uring *ring)
{
  static const gchar fill[4096];
  struct iovec iov = { (gpointer) fill, 1 };
  struct msghdr msg = {.msg_iov = &iov,.msg_iovlen = 1 };
  struct io_uring_sqe *sqe;
  struct io_uring_cqe *cqe = NULL;
  gint sv[2], sndbuf = 4096;
  gboolean ok = FALSE;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
    return FALSE;
  setsockopt (sv[0], SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
  while (send (sv[0], fill, sizeof fill, MSG_DONTWAIT | MSG_NOSIGNAL) > 0);
  sqe = io_uring_get_sqe (ring);
  io_uring_prep_sendmsg (sqe, sv[0], &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  if (io_uring_submit (ring) == 1 && io_uring_peek_cqe (ring, &cqe) == 0) {
    ok = cqe->res == -EAGAIN;
    io_uring_cqe_seen (ring, cqe);
  }
  close (sv[0]);
  close (sv[1]);
  if (!ok && cqe == NULL) {
    /* still in flight: the peer is gone, so it ends now */
    if (io_uring_wait_cqe (ring, &cqe) == 0)
      io_uring_cqe_seen (ring, cqe);
  }
  return ok;
}

static gboolean
ring_ready (NoomEngine * engine)
{
  gint ret;

  if (engine->ring_state != RING_UNTRIED)
    return engine->ring_state == RING_READY;
  engine->ring_state = RING_UNAVAILABLE;
  ret = io_uring_queue_init (RING_SLOTS, &engine->ring,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN);
  if (ret < 0)
    ret = io_uring_queue_init (RING_SLOTS, &engine->ring, 0);
  if (ret < 0) {
    g_debug ("io_uring unavailable (%s): one writev() per connection",
        g_strerror (-ret));
    return FALSE;
  }
  if (!ring_probe (&engine->ring)) {
    g_debug ("io_uring sends may wait: one writev() per connection");
    io_uring_queue_exit (&engine->ring);
    return FALSE;
  }
  engine->slots = g_new (RingSlot, RING_SLOTS);
  engine->ring_state = RING_READY;
  return TRUE;
}

/* Flushes @dirty with one io_uring_enter() per RING_SLOTS connections.
 * What a connection has beyond RING_IOV pieces, or what the kernel took
 * only in part, goes on with wsc_flush().  Returns how many connections of
 * @dirty it dealt with: all of them unless the ring was retired. */
static guint
ring_flush (NoomEngine * engine, GPtrArray * dirty)
{
  guint i = 0;

  while (i < dirty->len && engine->ring_state == RING_READY) {
    guint n = 0, submitted, j;
    gint ret;

    for (; i < dirty->len && n < RING_SLOTS; i++) {
      WsConn *c = dirty->pdata[i];
      RingSlot *slot = &engine->slots[n];
      struct io_uring_sqe *sqe;

      c->dirty = FALSE;
      if (c->shut || c->want_out || c->out_head == NULL || c->fd < 0)
        continue;
      slot->conn = c;
      memset (&slot->msg, 0, sizeof slot->msg);
      slot->msg.msg_iov = slot->iov;
      slot->msg.msg_iovlen = wsc_fill_iov (c, slot->iov, RING_IOV);
      sqe = io_uring_get_sqe (&engine->ring);
      io_uring_prep_sendmsg (sqe, c->fd, &slot->msg,
          MSG_DONTWAIT | MSG_NOSIGNAL);
      io_uring_sqe_set_data64 (sqe, n);
      n++;
    }
    if (n == 0)
      break;
    /* No waiting in the kernel (and so no EINTR after the sends went out):
     * ring_probe() showed that each submitted send completes inside the
     * call, so its completion is there to take. */
    ret = io_uring_submit (&engine->ring);
    submitted = MAX (ret, 0);
    if (submitted < n) {
      /* The kernel took the first @submitted sends only.  The others stay
       * queued in the ring, and the next submission would send them again
       * after the writev() below: never use this ring again. */
      g_warning ("io_uring took %u of %u sends: writev() from now on",
          submitted, n);
      engine->ring_state = RING_RETIRED;
      for (j = submitted; j < n; j++)
        wsc_flush (engine->slots[j].conn);
    }
    for (j = 0; j < submitted; j++) {
      struct io_uring_cqe *cqe;
      WsConn *c;
      gint res;

      if (io_uring_wait_cqe (&engine->ring, &cqe) < 0)
        break;
      c = engine->slots[io_uring_cqe_get_data64 (cqe)].conn;
      res = cqe->res;
      io_uring_cqe_seen (&engine->ring, cqe);
      if (res > 0)
        wsc_written (c, res);
      if (res >= 0 && c->out_head)
        wsc_flush (c);
      else
        /* -EAGAIN: wait for EPOLLOUT; an error: EPOLLERR/HUP follows */
        wsc_epoll_update (c, c->out_head != NULL);
    }
  }
  return i;
}
#endif

/* Writes out every connection that has frames queued. */
static void
flush_dirty (NoomEngine * engine)
{
  g_autoptr (GPtrArray) dirty = g_steal_pointer (&engine->dirty);
  guint i, done = 0;

  if (engine->dirty_source) {
    g_source_destroy (engine->dirty_source);
    g_clear_pointer (&engine->dirty_source, g_source_unref);
  }
#ifdef HAVE_LIBURING
  if (dirty && dirty->len > 1 && ring_ready (engine))
    done = ring_flush (engine, dirty);
#endif
  for (i = done; dirty && i < dirty->len; i++) {
    WsConn *c = dirty->pdata[i];

    c->dirty = FALSE;
    if (!c->shut && !c->want_out)
      wsc_flush (c);
  }
  for (i = 0; dirty && i < dirty->len; i++)
    wsc_unref (dirty->pdata[i]);
}

static gboolean
dirty_flush_cb (gpointer user_data)
{
  flush_dirty (user_data);
  return G_SOURCE_REMOVE;
}

/* Sends one frame.  Frames are queued and written once per main loop
 * iteration: a burst of messages to one client then costs one writev()
 * instead of one per message (the kernel's per-call cost dominates
 * broadcast CPU).  Returns FALSE when the connection has more buffered
 * than the engine allows (the caller closes it). */
static gboolean
wsc_send (WsConn * c, guint8 opcode, GBytes * payload)
{
  NoomEngine *engine = c->engine;
  OutChunk *o;
  gsize len;

  if (c->shut)
    return TRUE;
  len = g_bytes_get_size (payload);

  if (c->soup) {
    /* libsoup has no "buffered amount": estimate it as what we queued
     * while the kernel buffer was full.  Writable means it is draining. */
    if (soup_websocket_connection_get_state (c->soup) !=
        SOUP_WEBSOCKET_STATE_OPEN)
      return TRUE;
    c->out_bytes += len;
    if (c->out_bytes > WS_BACKLOG_CHECK) {
      if (c->gsocket == NULL ||
          g_socket_condition_check (c->gsocket, G_IO_OUT) & G_IO_OUT)
        c->out_bytes = len;
      else if (c->out_bytes > engine->config.max_buffered)
        return FALSE;
    }
    soup_websocket_connection_send_message (c->soup, opcode == 2 ?
        SOUP_WEBSOCKET_DATA_BINARY : SOUP_WEBSOCKET_DATA_TEXT, payload);
    return TRUE;
  }

  o = g_new (OutChunk, 1);
  o->next = NULL;
  o->payload = g_bytes_ref (payload);
  o->offset = 0;
  o->hdr[0] = 0x80 | opcode;
  if (len < 126) {
    o->hdr[1] = len;
    o->hlen = 2;
  } else if (len < 65536) {
    o->hdr[1] = 126;
    o->hdr[2] = len >> 8;
    o->hdr[3] = len;
    o->hlen = 4;
  } else {
    guint i;

    o->hdr[1] = 127;
    for (i = 0; i < 8; i++)
      o->hdr[2 + i] = ((guint64) len) >> (56 - 8 * i);
    o->hlen = 10;
  }
  if (c->out_tail)
    c->out_tail->next = o;
  else
    c->out_head = o;
  c->out_tail = o;
  c->out_bytes += o->hlen + len;

  if (!c->dirty && !c->want_out) {
    c->dirty = TRUE;
    if (engine->dirty == NULL)
      engine->dirty = g_ptr_array_new ();
    g_ptr_array_add (engine->dirty, wsc_ref (c));
    if (engine->dirty_source == NULL) {
      /* default priority, as the epoll source: an idle below it would
       * starve under load */
      engine->dirty_source = g_idle_source_new ();
      g_source_set_priority (engine->dirty_source, G_PRIORITY_DEFAULT);
      g_source_set_callback (engine->dirty_source, dirty_flush_cb, engine,
          NULL);
      g_source_attach (engine->dirty_source, engine->context);
    }
  }
  return c->out_bytes <= engine->config.max_buffered;
}

static void
wsc_send_text (WsConn * c, const gchar * text)
{
  g_autoptr (GBytes) b = g_bytes_new_static (text, strlen (text));

  wsc_send (c, 1, b);
}

static void
wsc_send_close_frame (WsConn * c, gushort code)
{
  if (c->shut || c->close_sent)
    return;
  c->close_sent = TRUE;
  if (c->soup) {
    if (soup_websocket_connection_get_state (c->soup) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (c->soup, code, NULL);
  } else {
    guint8 payload[2] = { code >> 8, code & 0xff };
    g_autoptr (GBytes) b = g_bytes_new (payload, 2);

    wsc_send (c, 8, b);
    wsc_flush (c);
  }
}

/* A close frame, then shut. */
static void
wsc_close (WsConn * c, gushort code)
{
  wsc_send_close_frame (c, code);
  wsc_shut (c);
}

static void
wsc_protocol_error (WsConn * c, gushort code)
{
  WsConn *ref = wsc_ref (c);

  g_debug ("websocket protocol error %u", code);
  /* the close frame first: the owner's close would send a normal one */
  wsc_send_close_frame (c, code);
  ws_on_lost (c);
  wsc_shut (c);
  wsc_unref (ref);
}

/* Parses and handles the complete frames at the start of @data (unmasking
 * in place); returns how many bytes it used. */
static gsize
wsc_process (WsConn * c, guint8 * data, gsize len)
{
  gsize pos = 0, max = c->engine->config.max_payload;

  while (!c->shut) {
    guint8 *p = data + pos, *payload;
    gsize avail = len - pos, hlen = 2, k;
    guint64 plen;
    gboolean fin;
    guint8 opcode;

    if (avail < 2)
      break;
    fin = p[0] & 0x80;
    opcode = p[0] & 0x0f;
    /* no extensions were negotiated; clients must mask */
    if ((p[0] & 0x70) || !(p[1] & 0x80)) {
      wsc_protocol_error (c, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
      break;
    }
    plen = p[1] & 0x7f;
    if (plen == 126) {
      if (avail < 4)
        break;
      plen = (p[2] << 8) | p[3];
      hlen = 4;
    } else if (plen == 127) {
      if (avail < 10)
        break;
      plen = 0;
      for (k = 0; k < 8; k++)
        plen = (plen << 8) | p[2 + k];
      hlen = 10;
    }
    if (opcode >= 8 && (plen > 125 || !fin)) {
      wsc_protocol_error (c, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
      break;
    }
    if (plen > max || (c->msg && c->msg->len + plen > max)) {
      wsc_protocol_error (c, SOUP_WEBSOCKET_CLOSE_TOO_BIG);
      break;
    }
    if (avail < hlen + 4 + plen)
      break;
    payload = p + hlen + 4;
    for (k = 0; k < plen; k++)
      payload[k] ^= p[hlen + (k & 3)];
    pos += hlen + 4 + plen;

    switch (opcode) {
      case 0x1:
      case 0x2:
        if (c->msg) {
          wsc_protocol_error (c, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
          return pos;
        }
        if (fin) {
          ws_on_message (c, opcode == 2, (const gchar *) payload, plen);
        } else {
          c->msg = g_byte_array_sized_new (plen);
          g_byte_array_append (c->msg, payload, plen);
          c->msg_opcode = opcode;
        }
        break;
      case 0x0:
        if (c->msg == NULL) {
          wsc_protocol_error (c, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
          return pos;
        }
        g_byte_array_append (c->msg, payload, plen);
        if (fin) {
          g_autoptr (GByteArray) msg = g_steal_pointer (&c->msg);

          ws_on_message (c, c->msg_opcode == 2, (const gchar *) msg->data,
              msg->len);
        }
        break;
      case 0x8:{
        WsConn *ref = wsc_ref (c);

        ws_on_lost (c);
        wsc_close (c, plen >= 2 ? (payload[0] << 8) | payload[1] :
            SOUP_WEBSOCKET_CLOSE_NORMAL);
        wsc_unref (ref);
        return pos;
      }
      case 0x9:{
        g_autoptr (GBytes) pong = g_bytes_new (payload, plen);

        wsc_send (c, 0xa, pong);
        break;
      }
      case 0xa:
        break;
      default:
        wsc_protocol_error (c, SOUP_WEBSOCKET_CLOSE_PROTOCOL_ERROR);
        return pos;
    }
  }
  return pos;
}

static void
wsc_read (WsConn * c)
{
  NoomEngine *engine = c->engine;
  guint round;

  /* a few reads per wakeup, then let the others have their turn */
  for (round = 0; round < 4 && !c->shut; round++) {
    guint8 *data;
    gsize len, used;
    gssize n;

    if (c->in) {
      gsize old = c->in->len;

      g_byte_array_set_size (c->in, old + READ_BUFFER_SIZE);
      n = recv (c->fd, c->in->data + old, READ_BUFFER_SIZE, MSG_DONTWAIT);
      g_byte_array_set_size (c->in, old + MAX (n, 0));
      data = c->in->data;
      len = c->in->len;
    } else {
      n = recv (c->fd, engine->rbuf, READ_BUFFER_SIZE, MSG_DONTWAIT);
      data = engine->rbuf;
      len = MAX (n, 0);
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
            errno != EINTR)) {
      ws_on_lost (c);
      wsc_shut (c);
      return;
    }
    if (n < 0)
      return;

    used = wsc_process (c, data, len);
    if (c->shut)
      return;
    if (c->in) {
      g_byte_array_remove_range (c->in, 0, used);
      if (c->in->len == 0)
        g_clear_pointer (&c->in, g_byte_array_unref);
    } else if (used < len) {
      /* keep only the incomplete frame, not a whole read buffer */
      c->in = g_byte_array_sized_new (len - used);
      g_byte_array_append (c->in, data + used, len - used);
    }
    if (n < READ_BUFFER_SIZE)
      return;
  }
}

static gboolean
epoll_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  NoomEngine *engine = user_data;
  struct epoll_event events[64];
  gint n, i;

  n = epoll_wait (engine->epfd, events, G_N_ELEMENTS (events), 0);
  /* Handling one connection may close another of this batch. */
  for (i = 0; i < n; i++)
    wsc_ref (events[i].data.ptr);
  for (i = 0; i < n; i++) {
    WsConn *c = events[i].data.ptr;

    if (!c->shut && (events[i].events & EPOLLOUT))
      wsc_flush (c);
    if (!c->shut && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
      wsc_read (c);
  }
  for (i = 0; i < n; i++)
    wsc_unref (events[i].data.ptr);
  /* What these messages made the server send goes out now, in this main
   * loop iteration, rather than in the idle's: one poll() less per
   * incoming batch, and frames queued by every connection of the batch
   * still share one writev() per receiver. */
  flush_dirty (engine);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs epoll_funcs = {
  .dispatch = epoll_dispatch,
};

static WsConn *
wsc_new_raw (NoomEngine * engine, gint fd)
{
  WsConn *c = g_new0 (WsConn, 1);
  struct epoll_event ev = { 0, };

  c->engine = engine;
  c->ref_count = 1;
  c->fd = fd;
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  if (epoll_ctl (engine->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    g_warning ("epoll_ctl: %s", g_strerror (errno));
    wsc_shut (c);
    return NULL;
  }
  return c;
}

static void
soup_message_cb (SoupWebsocketConnection * ws, gint type, GBytes * message,
    WsConn * c)
{
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);

  ws_on_message (c, type == SOUP_WEBSOCKET_DATA_BINARY, data, len);
}

static void
soup_closed_cb (SoupWebsocketConnection * ws, WsConn * c)
{
  WsConn *ref = wsc_ref (c);

  ws_on_lost (c);
  wsc_shut (c);
  wsc_unref (ref);
}

static WsConn *
wsc_new_soup (NoomEngine * engine, SoupWebsocketConnection * ws,
    GSocket * gsocket)
{
  WsConn *c = g_new0 (WsConn, 1);

  c->engine = engine;
  c->ref_count = 1;
  c->fd = -1;
  c->soup = g_object_ref (ws);
  c->gsocket = gsocket ? g_object_ref (gsocket) : NULL;
  soup_websocket_connection_set_max_incoming_payload_size (ws,
      engine->config.max_payload);
  soup_websocket_connection_set_keepalive_interval (ws, 0);
  g_signal_connect (ws, "message", G_CALLBACK (soup_message_cb), c);
  g_signal_connect (ws, "closed", G_CALLBACK (soup_closed_cb), c);
  return c;
}

/* Closes the WebSocket @*conn (if any) and forgets it. */
static void
ws_disconnect (NoomEngineSocket * s, WsConn ** conn)
{
  WsConn *c = *conn;

  if (c == NULL)
    return;
  *conn = NULL;
  c->owner = NULL;
  wsc_close (c, SOUP_WEBSOCKET_CLOSE_NORMAL);
}

static void
socket_unref (NoomEngineSocket * s)
{
  if (--s->ref_count > 0)
    return;

  g_assert (s->poll == NULL);
  g_assert (s->hb_list == 0);
  ws_disconnect (s, &s->ws);
  ws_disconnect (s, &s->probe);
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
static void
mirror_connection_close (SoupServerMessage * msg)
{
  if (soup_message_headers_header_contains
      (soup_server_message_get_request_headers (msg), "Connection", "close"))
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
}

static void
set_json_error (SoupServerMessage * msg, guint status, gint code,
    const gchar * message)
{
  gchar *body = g_strdup_printf ("{\"code\":%d,\"message\":\"%s\"}", code,
      message);

  soup_server_message_set_status (msg, status, NULL);
  mirror_connection_close (msg);
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Cache-Control", "no-store");
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_TAKE, body, strlen (body));
}

static void
bad_request (SoupServerMessage * msg, gint code)
{
  static const gchar *const messages[] = {
    "Transport unknown", "Session ID unknown", "Bad handshake method",
    "Bad request", "Forbidden", "Unsupported protocol version",
  };

  set_json_error (msg, code == 4 ? SOUP_STATUS_FORBIDDEN :
      SOUP_STATUS_BAD_REQUEST, code, messages[code]);
}

/* Logs the status @msg was just given.  Only fixed text and the peer
 * address go into the line: nothing the client chose (the query may
 * carry a token). */
static void
log_refusal (NoomEngine * engine, SoupServerMessage * msg,
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
static void
upgrade_failed (NoomEngine * engine, const gchar * remote, const gchar * why)
{
  g_autofree gchar *line = g_strdup_printf ("refused websocket upgrade "
      "from %s: %s", remote ? remote : "?", why);

  noom_log_fold_line (engine->log, line);
}

/* bad_request(), logged. */
static void
refuse (NoomEngine * engine, SoupServerMessage * msg, gint code,
    const gchar * transport, const gchar * why)
{
  bad_request (msg, code);
  log_refusal (engine, msg, transport, why);
}

typedef struct
{
  SoupServerMessage *msg;
  gboolean gone;
} LateReply;

static void
late_reply_gone_cb (SoupServerMessage * msg, LateReply * late)
{
  late->gone = TRUE;
}

static gboolean
late_reply_cb (gpointer user_data)
{
  LateReply *late = user_data;

  g_signal_handlers_disconnect_by_data (late->msg, late);
  if (!late->gone)
    soup_server_message_unpause (late->msg);
  g_object_unref (late->msg);
  g_free (late);
  return G_SOURCE_REMOVE;
}

/* A polling request for a session that has moved to WebSocket gets its 400
 * a moment later: what the server just sent on the WebSocket (e.g. 3probe)
 * then reaches the client first, as it would from the reference server. */
static void
bad_request_later (NoomEngine * engine, SoupServerMessage * msg, gint code)
{
  LateReply *late = g_new0 (LateReply, 1);
  GSource *source = g_timeout_source_new (20);

  bad_request (msg, code);
  late->msg = g_object_ref (msg);
  soup_server_message_pause (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (late_reply_gone_cb), late);
  g_signal_connect (msg, "disconnected", G_CALLBACK (late_reply_gone_cb), late);
  g_source_set_callback (source, late_reply_cb, late, NULL);
  g_source_attach (source, engine->context);
  g_source_unref (source);
}

static void
poll_finished_cb (SoupServerMessage * msg, NoomEngineSocket * s)
{
  /* The peer went away (or libsoup finished the message some other way)
   * while we held the GET. */
  if (s->poll == msg) {
    g_signal_handlers_disconnect_by_data (msg, s);
    s->poll = NULL;
    g_object_unref (msg);
    socket_unref (s);
  }
}

/* Writes the queued frames (plus @extra, e.g. "1" or "6") as the response
 * to a polling GET. */
static void
poll_write (NoomEngineSocket * s, SoupServerMessage * msg, const gchar * extra)
{
  SoupMessageHeaders *headers;
  GBytes *payload;
  gsize len;
  gconstpointer data;

  if (extra) {
    if (s->queue == NULL)
      s->queue = g_ptr_array_new_with_free_func ((GDestroyNotify)
          g_bytes_unref);
    g_ptr_array_add (s->queue, g_bytes_new_static (extra, strlen (extra)));
  }

  headers = soup_server_message_get_response_headers (msg);
  mirror_connection_close (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (s->queue && s->queue->len > 0) {
    payload = noom_eio_payload_encode (s->queue, NULL);
    g_ptr_array_set_size (s->queue, 0);
  } else {
    payload = g_bytes_new_static ("6", 1);
  }
  s->backlog = 0;
  data = g_bytes_get_data (payload, &len);
  soup_server_message_set_response (msg, "text/plain; charset=UTF-8",
      SOUP_MEMORY_COPY, data, len);
  g_bytes_unref (payload);
}

/* Answers the held GET, if any, and forgets it. */
static void
poll_respond (NoomEngineSocket * s, const gchar * extra)
{
  SoupServerMessage *msg = s->poll;

  if (msg == NULL)
    return;

  poll_write (s, msg, extra);
  g_signal_handlers_disconnect_by_data (msg, s);
  s->poll = NULL;
  soup_server_message_unpause (msg);
  g_object_unref (msg);
  socket_unref (s);
}

static gboolean
flush_idle_cb (gpointer user_data)
{
  NoomEngine *engine = user_data;
  g_autoptr (GPtrArray) flush = engine->flush;
  guint i;

  engine->flush = NULL;
  g_clear_pointer (&engine->flush_idle, g_source_unref);

  for (i = 0; i < flush->len; i++) {
    NoomEngineSocket *s = flush->pdata[i];

    s->in_flush = FALSE;
    if (s->state == STATE_OPEN && s->transport == TRANSPORT_POLLING)
      poll_respond (s, NULL);
    socket_unref (s);
  }
  return G_SOURCE_REMOVE;
}

/* Answer the held GET soon, after the current burst of sends: one response
 * then carries the whole burst. */
static void
schedule_flush (NoomEngineSocket * s)
{
  NoomEngine *engine = s->engine;

  if (s->in_flush || s->poll == NULL)
    return;
  s->in_flush = TRUE;
  if (engine->flush == NULL)
    engine->flush = g_ptr_array_new ();
  g_ptr_array_add (engine->flush, socket_ref (s));
  if (engine->flush_idle == NULL) {
    engine->flush_idle = g_idle_source_new ();
    g_source_set_priority (engine->flush_idle, G_PRIORITY_DEFAULT);
    g_source_set_callback (engine->flush_idle, flush_idle_cb, engine, NULL);
    g_source_attach (engine->flush_idle, engine->context);
  }
}

/* ------------------------------------------------------------ sending */

static gboolean
doomed_idle_cb (gpointer user_data)
{
  NoomEngine *engine = user_data;
  g_autoptr (GPtrArray) doomed = g_steal_pointer (&engine->doomed);
  guint i;

  g_clear_pointer (&engine->doomed_idle, g_source_unref);
  for (i = 0; doomed && i < doomed->len; i++) {
    NoomEngineSocket *s = doomed->pdata[i];

    socket_close_internal (s, "slow consumer", FALSE);
    socket_unref (s);
  }
  return G_SOURCE_REMOVE;
}

/* Closes @s as a slow consumer from an idle: it is found out while
 * sending, typically in the middle of the owner's broadcast loop, where
 * a close callback would pull the rug from under it. */
static void
socket_doom (NoomEngineSocket * s)
{
  NoomEngine *engine = s->engine;

  if (s->doomed)
    return;
  s->doomed = TRUE;
  g_message ("closing slow consumer %s (%s)", s->sid, s->remote);
  if (engine->doomed == NULL)
    engine->doomed = g_ptr_array_new ();
  g_ptr_array_add (engine->doomed, socket_ref (s));
  if (engine->doomed_idle == NULL) {
    engine->doomed_idle = g_idle_source_new ();
    g_source_set_priority (engine->doomed_idle, G_PRIORITY_DEFAULT);
    g_source_set_callback (engine->doomed_idle, doomed_idle_cb, engine, NULL);
    g_source_attach (engine->doomed_idle, engine->context);
  }
}

static void
ws_send (NoomEngineSocket * s, WsConn * c, gboolean binary, GBytes * frame)
{
  if (c == NULL || s->doomed)
    return;
  if (!wsc_send (c, binary ? 2 : 1, frame))
    socket_doom (s);
}

static void
poll_queue (NoomEngineSocket * s, GBytes * frame)
{
  if (s->queue == NULL)
    s->queue = g_ptr_array_new_with_free_func ((GDestroyNotify)
        g_bytes_unref);
  if (s->doomed)
    return;
  s->backlog += g_bytes_get_size (frame);
  if (s->backlog > s->engine->config.max_buffered) {
    socket_doom (s);
    return;
  }
  g_ptr_array_add (s->queue, g_bytes_ref (frame));
  schedule_flush (s);
}

void
noom_engine_socket_send (NoomEngineSocket * socket, GBytes * frame)
{
  g_return_if_fail (socket != NULL);
  g_return_if_fail (frame != NULL);

  if (socket->state != STATE_OPEN)
    return;
  if (socket->transport == TRANSPORT_WEBSOCKET)
    ws_send (socket, socket->ws, FALSE, frame);
  else
    poll_queue (socket, frame);
}

void
noom_engine_socket_send_binary (NoomEngineSocket * socket, GBytes * data)
{
  g_return_if_fail (socket != NULL);
  g_return_if_fail (data != NULL);

  if (socket->state != STATE_OPEN)
    return;
  if (socket->transport == TRANSPORT_WEBSOCKET) {
    ws_send (socket, socket->ws, TRUE, data);
  } else {
    gsize len;
    gconstpointer raw = g_bytes_get_data (data, &len);
    g_autofree gchar *b64 = g_base64_encode (raw, len);
    g_autofree gchar *text = g_strconcat ("b", b64, NULL);
    g_autoptr (GBytes) frame = g_bytes_new_take (g_steal_pointer (&text),
        strlen (b64) + 1);

    poll_queue (socket, frame);
  }
}

/* ------------------------------------------------------------ closing */

static void
socket_close_internal (NoomEngineSocket * s, const gchar * reason,
    gboolean linger)
{
  NoomEngine *engine = s->engine;
  static const gchar close_text[] = "1";

  if (s->state != STATE_OPEN)
    return;

  socket_ref (s);
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
  hb_unlink (s);
  hb_rearm (engine);
  if (s->defer) {
    g_source_destroy (s->defer);
    g_clear_pointer (&s->defer, g_source_unref);
  }
  g_debug ("session %s closed: %s", s->sid, reason);

  if (engine->callbacks.close)
    engine->callbacks.close (s, reason, engine->user_data);

  ws_disconnect (s, &s->probe);
  if (s->transport == TRANSPORT_WEBSOCKET) {
    if (linger && s->ws)
      wsc_send_text (s->ws, close_text);
    ws_disconnect (s, &s->ws);
    g_hash_table_remove (engine->sockets, s->sid);
  } else if (s->poll) {
    poll_respond (s, close_text);
    g_hash_table_remove (engine->sockets, s->sid);
  } else if (linger) {
    /* Keep the session (not its owner state) until the client's next GET
     * fetches the close packet. */
    s->state = STATE_LINGER;
    s->deadline = now_ms () + LINGER_MS;
  } else {
    g_hash_table_remove (engine->sockets, s->sid);
  }
  socket_unref (s);
}

void
noom_engine_socket_close (NoomEngineSocket * socket, const gchar * reason)
{
  g_return_if_fail (socket != NULL);

  socket_close_internal (socket, reason ? reason : "server close", TRUE);
}

/* ------------------------------------------------------------ packets in */

static void
on_pong (NoomEngineSocket * s)
{
  NoomEngine *engine = s->engine;
  gboolean was_head = engine->hb_head[HB_PONG] == s;

  hb_append (s, HB_PING, now_ms () + engine->config.ping_interval_ms);
  if (was_head)
    hb_rearm (engine);
}

/* Handles one packet from the current transport.  Returns FALSE when the
 * session was closed because of it. */
static gboolean
handle_packet (NoomEngineSocket * s, const NoomEioPacket * p)
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
      on_pong (s);
      break;
    case NOOM_EIO_CLOSE:
      socket_close_internal (s, "transport close", FALSE);
      break;
    case NOOM_EIO_NOOP:
      break;
    case NOOM_EIO_PING:
      /* v4: only the server pings */
    case NOOM_EIO_OPEN:
    case NOOM_EIO_UPGRADE:
    default:
      socket_close_internal (s, "parse error", FALSE);
      break;
  }
  return s->state == STATE_OPEN;
}

/* ------------------------------------------------------------ timers */

static gboolean
heartbeat_dispatch (GSource * source, GSourceFunc callback, gpointer data)
{
  NoomEngine *engine = data;
  gint64 now = now_ms ();
  NoomEngineSocket *s;

  while ((s = engine->hb_head[HB_PONG]) && s->hb_deadline <= now)
    socket_close_internal (s, "ping timeout", FALSE);
  while ((s = engine->hb_head[HB_PING]) && s->hb_deadline <= now) {
    /* The timeout counts from when the ping was due, not from when this
     * ran: the client's own timer does the same. */
    hb_append (s, HB_PONG, s->hb_deadline + engine->config.ping_timeout_ms);
    noom_engine_socket_send (s, engine->ping_frame);
  }
  hb_rearm (engine);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs heartbeat_funcs = {
  .dispatch = heartbeat_dispatch,
};

/* Upgrade timeouts and lingering sessions: rare, so a coarse sweep. */
static gboolean
sweep_cb (gpointer user_data)
{
  NoomEngine *engine = user_data;
  g_autoptr (GPtrArray) expired = NULL;
  GHashTableIter iter;
  gpointer value;
  gint64 now = now_ms ();
  guint i;

  g_hash_table_iter_init (&iter, engine->sockets);
  while (g_hash_table_iter_next (&iter, NULL, &value)) {
    NoomEngineSocket *s = value;

    if (s->deadline && now >= s->deadline) {
      if (expired == NULL)
        expired = g_ptr_array_new ();
      g_ptr_array_add (expired, socket_ref (s));
    }
  }
  for (i = 0; expired && i < expired->len; i++) {
    NoomEngineSocket *s = expired->pdata[i];

    s->deadline = 0;
    if (s->state == STATE_LINGER) {
      s->state = STATE_CLOSED;
      g_hash_table_remove (engine->sockets, s->sid);
    } else if (s->probe) {
      upgrade_failed (engine, s->remote, "upgrade timed out");
      ws_disconnect (s, &s->probe);
      s->probed = FALSE;
    }
    socket_unref (s);
  }
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------ sessions */

static NoomEngineSocket *
socket_new (NoomEngine * engine, guint transport, const gchar * remote)
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
  hb_append (s, HB_PING, now_ms () + engine->config.ping_interval_ms);
  engine->n_open++;
  if (engine->per_address)
    g_hash_table_insert (engine->per_address, g_strdup (s->remote),
        GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup
                (engine->per_address, s->remote)) + 1));
  return s;
}

static GBytes *
open_frame (NoomEngine * engine, NoomEngineSocket * s, gboolean upgrades)
{
  gchar *text = g_strdup_printf ("0{\"sid\":\"%s\",\"upgrades\":[%s],"
      "\"pingInterval\":%u,\"pingTimeout\":%u,\"maxPayload\":%"
      G_GSIZE_FORMAT "}", s->sid, upgrades ? "\"websocket\"" : "",
      engine->config.ping_interval_ms, engine->config.ping_timeout_ms,
      engine->config.max_payload);

  return g_bytes_new_take (text, strlen (text));
}

static void
hold_get (NoomEngineSocket * s, SoupServerMessage * msg)
{
  s->poll = g_object_ref (msg);
  socket_ref (s);
  /* A status now, or libsoup's WebSocket handler, which runs after ours
   * on this path, would answer the held GET with 400. */
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_pause (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (poll_finished_cb), s);
  g_signal_connect (msg, "disconnected", G_CALLBACK (poll_finished_cb), s);
}

static void
polling_handshake (NoomEngine * engine, SoupServerMessage * msg)
{
  NoomEngineSocket *s;
  g_autoptr (GBytes) open = NULL;

  s = socket_new (engine, TRANSPORT_POLLING,
      soup_server_message_get_remote_host (msg));
  open = open_frame (engine, s, TRUE);
  s->queue = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (s->queue, g_bytes_ref (open));

  socket_ref (s);
  if (engine->callbacks.open)
    engine->callbacks.open (s, engine->user_data);
  if (s->state == STATE_OPEN || s->state == STATE_LINGER) {
    poll_write (s, msg, s->state == STATE_LINGER ? "1" : NULL);
    if (s->state == STATE_LINGER) {
      s->state = STATE_CLOSED;
      g_hash_table_remove (engine->sockets, s->sid);
    }
  } else {
    refuse (engine, msg, 3, "polling", "session closed during its handshake");
  }
  socket_unref (s);
}

static gboolean
defer_cb (gpointer user_data)
{
  NoomEngineSocket *s = user_data;
  SoupServerMessage *msg = s->poll;

  g_clear_pointer (&s->defer, g_source_unref);
  if (msg == NULL)
    return G_SOURCE_REMOVE;
  if (s->transport == TRANSPORT_WEBSOCKET) {
    /* The upgrade completed meanwhile: polling is over for this sid. */
    g_signal_handlers_disconnect_by_data (msg, s);
    s->poll = NULL;
    bad_request (msg, 3);
    soup_server_message_unpause (msg);
    g_object_unref (msg);
    socket_unref (s);
  } else {
    poll_respond (s, "6");
  }
  return G_SOURCE_REMOVE;
}

/* Answer the held GET in a moment (see polling_get). */
static void
start_defer (NoomEngineSocket * s)
{
  if (s->defer || s->poll == NULL)
    return;
  s->defer = g_timeout_source_new (50);
  g_source_set_callback (s->defer, defer_cb, s, NULL);
  g_source_attach (s->defer, s->engine->context);
}

static void
polling_get (NoomEngineSocket * s, SoupServerMessage * msg)
{
  if (s->poll) {
    /* Two concurrent GETs: the reference answers the second with an error
     * and closes the session, the first one receiving the close packet. */
    refuse (s->engine, msg, 3, "polling", "second concurrent GET");
    socket_close_internal (s, "transport error", FALSE);
    return;
  }
  if (s->state == STATE_LINGER) {
    s->state = STATE_CLOSED;
    poll_write (s, msg, s->linger_noop ? "6" : "1");
    g_hash_table_remove (s->engine->sockets, s->sid);
  } else if (s->probed) {
    /* Upgrading: the client should pause polling, and answering "6" lets
     * it.  The "5" that ends the upgrade may already be on its way on the
     * WebSocket, though (its frames and this request race): wait a moment,
     * then answer "6", or 400 if the upgrade completed. */
    hold_get (s, msg);
    start_defer (s);
  } else if (s->queue && s->queue->len > 0) {
    poll_write (s, msg, NULL);
  } else {
    hold_get (s, msg);
  }
}

static void
polling_post (NoomEngineSocket * s, SoupServerMessage * msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GArray) packets = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *ctype;
  gsize len, i;
  const gchar *data;

  ctype = soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);
  if (ctype && g_ascii_strcasecmp (ctype, "application/octet-stream") == 0) {
    refuse (s->engine, msg, 3, "polling", "binary POST body");
    socket_close_internal (s, "parse error", FALSE);
    return;
  }

  bytes = soup_message_body_flatten (body);
  data = g_bytes_get_data (bytes, &len);
  if (len > s->engine->config.max_payload) {
    set_json_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, 3,
        "Payload too large");
    log_refusal (s->engine, msg, "polling", "body over maxPayload");
    socket_close_internal (s, "transport error", FALSE);
    return;
  }
  packets = noom_eio_payload_decode (data, len, &error);
  if (packets == NULL) {
    g_debug ("bad payload from %s: %s", s->sid, error->message);
    refuse (s->engine, msg, 3, "polling", "malformed payload");
    socket_close_internal (s, "parse error", FALSE);
    return;
  }

  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  mirror_connection_close (msg);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
      "ok", 2);

  socket_ref (s);
  for (i = 0; i < packets->len; i++) {
    const NoomEioPacket *p = &g_array_index (packets, NoomEioPacket, i);

    if (!p->binary && p->type == NOOM_EIO_CLOSE) {
      /* The client ends the session: its pending GET gets a noop, and so
       * does a GET racing with this POST. */
      gboolean had_poll = s->poll != NULL;

      poll_respond (s, "6");
      socket_close_internal (s, "transport close", !had_poll);
      if (s->state == STATE_LINGER) {
        s->linger_noop = TRUE;
        s->deadline = now_ms () + s->engine->config.ping_timeout_ms;
      }
      break;
    }
    if (!handle_packet (s, p))
      break;
  }
  socket_unref (s);
}

static gboolean
is_websocket_request (SoupServerMessage * msg)
{
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (h, "Upgrade", "websocket");
}

static const gchar *
query_get (GHashTable * query, const gchar * key)
{
  return query ? g_hash_table_lookup (query, key) : NULL;
}

static NoomEngineSocket *
lookup_session (NoomEngine * engine, const gchar * sid)
{
  NoomEngineSocket *s = g_hash_table_lookup (engine->sockets, sid);

  if (s == NULL)
    return NULL;
  /* Lazy deadline check: exact even if the main loop is late. */
  if (s->state == STATE_OPEN && s->hb_list == HB_PONG + 1 &&
      now_ms () >= s->hb_deadline) {
    socket_close_internal (s, "ping timeout", FALSE);
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
  refuse (engine, msg, 4, transport, "origin not allowed");
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
  refuse (engine, msg, 4, transport, "too many connections from this address");
  return FALSE;
}

static void
http_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  NoomEngine *engine = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  const gchar *eio = query_get (query, "EIO");
  const gchar *transport = query_get (query, "transport");
  const gchar *sid = query_get (query, "sid");
  NoomEngineSocket *s = NULL;

  if (g_strcmp0 (transport, "polling") != 0 &&
      g_strcmp0 (transport, "websocket") != 0) {
    refuse (engine, msg, 0, transport, "unknown transport");
    return;
  }
  if (g_strcmp0 (eio, "4") != 0) {
    refuse (engine, msg, 5, transport, "unsupported protocol version");
    return;
  }
  if (sid) {
    s = lookup_session (engine, sid);
    if (s == NULL) {
      refuse (engine, msg, 1, transport, "unknown session id");
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
      refuse (engine, msg, 3, transport, "not a WebSocket handshake");
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
    ws_handshake (engine, msg, sid);
    return;
  }

  if (s == NULL) {
    if (method != SOUP_METHOD_GET) {
      refuse (engine, msg, 2, transport, "handshake not a GET");
      return;
    }
    polling_handshake (engine, msg);
    return;
  }

  if (s->transport != TRANSPORT_POLLING) {
    bad_request_later (engine, msg, 3);
    return;
  }
  if (method == SOUP_METHOD_GET) {
    polling_get (s, msg);
  } else if (method == SOUP_METHOD_POST) {
    if (s->state != STATE_OPEN) {
      refuse (engine, msg, 1, transport, "session closed");
      return;
    }
    polling_post (s, msg);
  } else {
    refuse (engine, msg, 3, transport, "method not allowed");
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
    const gchar *sid = query_get (query, "sid");
    NoomEngineSocket *s = sid ? lookup_session (engine, sid) : NULL;

    set_json_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, 3,
        "Payload too large");
    log_refusal (engine, msg, "polling", "body over maxPayload");
    if (s)
      socket_close_internal (s, "transport error", FALSE);
  }
}

/* ------------------------------------------------------------ WebSocket */

static void
ws_on_message (WsConn * c, gboolean binary, const gchar * data, gsize len)
{
  NoomEngineSocket *s = c->owner;
  NoomEngine *engine = c->engine;
  NoomEioPacket p = { 0, };

  if (s == NULL)
    return;                     /* being turned away */
  socket_ref (s);

  if (c == s->probe) {
    /* The upgrade handshake: 2probe, then 5. */
    if (!binary && !s->probed && len == 6 && memcmp (data, "2probe", 6) == 0) {
      s->probed = TRUE;
      wsc_send_text (c, "3probe");
      /* The held GET gets its "6" in a moment (see polling_get). */
      start_defer (s);
    } else if (!binary && s->probed && len == 1 && data[0] == '5') {
      guint i;

      if (s->defer == NULL)
        poll_respond (s, "6");
      s->ws = g_steal_pointer (&s->probe);
      s->transport = TRANSPORT_WEBSOCKET;
      s->probed = FALSE;
      s->deadline = 0;
      s->backlog = 0;
      /* Whatever polling had not delivered goes out on the WebSocket. */
      for (i = 0; s->queue && i < s->queue->len; i++) {
        GBytes *frame = s->queue->pdata[i];
        gsize flen;
        const gchar *fdata = g_bytes_get_data (frame, &flen);

        if (flen > 0 && fdata[0] == 'b') {
          g_autofree gchar *b64 = g_strndup (fdata + 1, flen - 1);
          gsize rlen;
          guchar *raw = g_base64_decode (b64, &rlen);
          g_autoptr (GBytes) bin = g_bytes_new_take (raw, rlen);

          ws_send (s, s->ws, TRUE, bin);
        } else {
          ws_send (s, s->ws, FALSE, frame);
        }
      }
      g_clear_pointer (&s->queue, g_ptr_array_unref);
      g_debug ("session %s upgraded to websocket", s->sid);
    } else {
      upgrade_failed (engine, s->remote, "unexpected packet on the probe");
      ws_disconnect (s, &s->probe);
      s->probed = FALSE;
    }
    socket_unref (s);
    return;
  }

  if (binary) {
    if (engine->callbacks.binary) {
      g_autoptr (GBytes) bytes = g_bytes_new (data, len);

      engine->callbacks.binary (s, bytes, engine->user_data);
    }
  } else if (!noom_eio_decode (data, len, &p, NULL)) {
    socket_close_internal (s, "parse error", FALSE);
  } else {
    handle_packet (s, &p);
  }
  socket_unref (s);
}

/* The peer went away (EOF, error, close frame). */
static void
ws_on_lost (WsConn * c)
{
  NoomEngineSocket *s = c->owner;

  if (s == NULL)
    return;
  c->owner = NULL;
  if (c == s->probe) {
    s->probe = NULL;
    s->probed = FALSE;
    wsc_shut (c);
    return;
  }
  socket_close_internal (s, "transport close", FALSE);
}

static gboolean
turned_away_cb (gpointer user_data)
{
  NoomEngine *engine = user_data;
  g_autoptr (GPtrArray) conns = g_steal_pointer (&engine->turned_away);
  guint i;

  g_clear_pointer (&engine->turned_away_source, g_source_unref);
  for (i = 0; conns && i < conns->len; i++) {
    wsc_close (conns->pdata[i], SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION);
    wsc_unref (conns->pdata[i]);
  }
  return G_SOURCE_REMOVE;
}

/* Closes @c in a moment (see ws_accepted). */
static void
turn_away (NoomEngine * engine, WsConn * c)
{
  if (engine->turned_away == NULL)
    engine->turned_away = g_ptr_array_new ();
  g_ptr_array_add (engine->turned_away, wsc_ref (c));
  if (engine->turned_away_source == NULL) {
    engine->turned_away_source = g_timeout_source_new (20);
    g_source_set_callback (engine->turned_away_source, turned_away_cb,
        engine, NULL);
    g_source_attach (engine->turned_away_source, engine->context);
  }
}

/* A WebSocket is up (either kind): a new session, or the probe of an
 * upgrade. */
static void
ws_accepted (NoomEngine * engine, WsConn * c, const gchar * sid,
    const gchar * remote)
{
  NoomEngineSocket *s;
  g_autoptr (GBytes) open = NULL;

  if (sid) {
    s = lookup_session (engine, sid);
    if (s == NULL || s->state != STATE_OPEN ||
        s->transport != TRANSPORT_POLLING || s->probe) {
      /* As the reference: accepted, then closed; a little later, so that
       * what was just sent on the session's live WebSocket reaches the
       * client first. */
      upgrade_failed (engine, remote, s == NULL || s->state != STATE_OPEN ?
          "session gone" : "session already upgraded or upgrading");
      turn_away (engine, c);
      return;
    }
    c->owner = s;
    s->probe = c;
    s->deadline = now_ms () + engine->config.upgrade_timeout_ms;
    return;
  }

  s = socket_new (engine, TRANSPORT_WEBSOCKET, remote);
  c->owner = s;
  s->ws = c;
  open = open_frame (engine, s, FALSE);
  ws_send (s, c, FALSE, open);
  if (engine->callbacks.open)
    engine->callbacks.open (s, engine->user_data);
}

typedef struct
{
  NoomEngine *engine;           /* NULL once the engine is gone */
  gchar *sid;
} PendingUpgrade;

static void
pending_upgrade_free (gpointer data, GClosure * closure)
{
  PendingUpgrade *pu = data;

  if (pu->engine)
    pu->engine->upgrades = g_slist_remove (pu->engine->upgrades, pu);
  g_free (pu->sid);
  g_free (pu);
}

/* The 101 is out: take the file descriptor, leave libsoup behind. */
static void
ws_upgraded_cb (SoupServerMessage * msg, PendingUpgrade * pu)
{
  GSocket *gsocket = noom_listener_get_message_socket (msg);
  g_autofree gchar *remote =
      g_strdup (soup_server_message_get_remote_host (msg));
  GIOStream *io;
  gpointer hold;
  WsConn *c;
  gint fd;

  if (pu->engine == NULL ||
      soup_server_message_get_status (msg) != SOUP_STATUS_SWITCHING_PROTOCOLS)
    return;
  if (gsocket == NULL) {
    g_warning ("cannot take the WebSocket over: no socket");
    return;
  }
  /* Before the steal: libsoup's stream, and with it the listener's count,
   * goes away with it. */
  hold = noom_listener_hold_connection (msg);
  fd = fcntl (g_socket_get_fd (gsocket), F_DUPFD_CLOEXEC, 0);
  io = soup_server_message_steal_connection (msg);
  /* closes libsoup's descriptor only: ours keeps the connection */
  g_io_stream_close (io, NULL, NULL);
  g_object_unref (io);
  if (fd < 0) {
    g_warning ("cannot take the WebSocket over: %s", g_strerror (errno));
    noom_listener_release_connection (hold);
    return;
  }
  c = wsc_new_raw (pu->engine, fd);
  if (c) {
    c->hold = hold;
    ws_accepted (pu->engine, c, pu->sid, remote);
  } else {
    noom_listener_release_connection (hold);
  }
}

/* Plain WebSocket: we answer the handshake, and take the connection over
 * once the 101 is written. */
static void
ws_handshake (NoomEngine * engine, SoupServerMessage * msg, const gchar * sid)
{
  PendingUpgrade *pu;

  if (!soup_websocket_server_process_handshake (msg, NULL, NULL, NULL, NULL)) {
    refuse (engine, msg, 3, "websocket", "WebSocket handshake failed");
    return;
  }
  pu = g_new0 (PendingUpgrade, 1);
  pu->engine = engine;
  pu->sid = g_strdup (sid);
  engine->upgrades = g_slist_prepend (engine->upgrades, pu);
  g_signal_connect_data (msg, "wrote-informational",
      G_CALLBACK (ws_upgraded_cb), pu, pending_upgrade_free, 0);
}

/* TLS: libsoup's WebSocket handler did the handshake. */
static void
ws_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * ws, gpointer user_data)
{
  NoomEngine *engine = user_data;
  GUri *uri = soup_server_message_get_uri (msg);
  const gchar *query_text = g_uri_get_query (uri);
  g_autoptr (GHashTable) query = NULL;

  if (query_text)
    query = g_uri_parse_params (query_text, -1, "&", G_URI_PARAMS_NONE, NULL);
  ws_accepted (engine, wsc_new_soup (engine, ws,
          noom_listener_get_message_socket (msg)), query_get (query, "sid"),
      soup_server_message_get_remote_host (msg));
}

/* ------------------------------------------------------------ engine */

NoomEngine *
noom_engine_new (SoupServer * server, const gchar * path,
    const NoomEngineConfig * config, const NoomEngineCallbacks * callbacks,
    gpointer user_data)
{
  NoomEngine *engine;
  guint tick;

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
      (GDestroyNotify) socket_unref);
  engine->ping_frame = g_bytes_new_static ("2", 1);
  engine->rbuf = g_malloc (READ_BUFFER_SIZE);
  engine->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (engine->epfd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));
  engine->epoll_source = g_source_new (&epoll_funcs, sizeof (GSource));
  g_source_set_callback (engine->epoll_source, NULL, engine, NULL);
  g_source_add_unix_fd (engine->epoll_source, engine->epfd, G_IO_IN);
  g_source_attach (engine->epoll_source, engine->context);

  soup_server_add_early_handler (server, path, early_cb, engine, NULL);
  soup_server_add_handler (server, path, http_cb, engine, NULL);
  soup_server_add_websocket_handler (server, path, NULL, NULL, ws_cb, engine,
      NULL);

  /* Only upgrade timeouts and lingering sessions use the sweep. */
  engine->heartbeat = g_source_new (&heartbeat_funcs, sizeof (GSource));
  g_source_set_callback (engine->heartbeat, NULL, engine, NULL);
  g_source_set_ready_time (engine->heartbeat, -1);
  g_source_attach (engine->heartbeat, engine->context);

  tick = CLAMP (engine->config.upgrade_timeout_ms / 4, 10, 1000);
  engine->sweep = g_timeout_source_new (tick);
  g_source_set_callback (engine->sweep, sweep_cb, engine, NULL);
  g_source_attach (engine->sweep, engine->context);

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
    g_ptr_array_add (all, socket_ref (value));
  for (i = 0; i < all->len; i++) {
    socket_close_internal (all->pdata[i], "forced close", TRUE);
    socket_unref (all->pdata[i]);
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
      poll_respond (s, "1");
  }
  g_hash_table_remove_all (engine->sockets);
  if (engine->flush_idle) {
    g_source_destroy (engine->flush_idle);
    flush_idle_cb (engine);
  }
  g_source_destroy (engine->sweep);
  g_source_unref (engine->sweep);
  g_source_destroy (engine->heartbeat);
  g_source_unref (engine->heartbeat);
  if (engine->doomed_idle) {
    g_source_destroy (engine->doomed_idle);
    doomed_idle_cb (engine);
  }
  while (engine->upgrades) {
    PendingUpgrade *pu = engine->upgrades->data;

    pu->engine = NULL;
    engine->upgrades = g_slist_delete_link (engine->upgrades,
        engine->upgrades);
  }
  if (engine->turned_away_source) {
    g_source_destroy (engine->turned_away_source);
    turned_away_cb (engine);
  }
  if (engine->dirty_source) {
    g_source_destroy (engine->dirty_source);
    dirty_flush_cb (engine);
  }
  g_source_destroy (engine->epoll_source);
  g_source_unref (engine->epoll_source);
  close (engine->epfd);
#ifdef HAVE_LIBURING
  if (engine->ring_state == RING_READY || engine->ring_state == RING_RETIRED)
    io_uring_queue_exit (&engine->ring);
  g_free (engine->slots);
#endif
  g_free (engine->rbuf);
  g_hash_table_unref (engine->sockets);
  g_clear_pointer (&engine->per_address, g_hash_table_unref);
  g_clear_pointer (&engine->log, noom_log_fold_free);
  g_strfreev (engine->origins);
  g_bytes_unref (engine->ping_frame);
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
