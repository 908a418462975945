/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine-wsconn: one WebSocket connection (see noom-engine-private.h
 * for WsConn): RFC 6455 framing on the raw descriptor, read through one
 * epoll set and written in batches, one writev() per connection and main
 * loop iteration, or one io_uring_enter() for many; under TLS, libsoup's
 * SoupWebsocketConnection behind the same calls.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-engine"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

#include "noom-engine-private.h"
#include "noom-listener.h"

/* Check the kernel socket's writability only every this many bytes queued
 * to libsoup: a poll() per frame would cost a syscall per delivery. */
#define WS_BACKLOG_CHECK 65536
/* The engine's one read buffer for all plain WebSockets. */
#define READ_BUFFER_SIZE 65536

struct _OutChunk
{
  OutChunk *next;
  GBytes *payload;              /* shared: a broadcast is never copied */
  gsize offset;                 /* bytes of hdr + payload already written */
  guint8 hlen;
  guint8 hdr[10];
};

WsConn *
noom_ws_conn_ref (WsConn * c)
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

void
noom_ws_conn_unref (WsConn * c)
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
void
noom_ws_conn_shut (WsConn * c)
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
  noom_ws_conn_unref (c);
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
  engine->ring = g_new0 (struct io_uring, 1);
  ret = io_uring_queue_init (RING_SLOTS, engine->ring,
      IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_COOP_TASKRUN);
  if (ret < 0)
    ret = io_uring_queue_init (RING_SLOTS, engine->ring, 0);
  if (ret < 0) {
    g_debug ("io_uring unavailable (%s): one writev() per connection",
        g_strerror (-ret));
    g_clear_pointer (&engine->ring, g_free);
    return FALSE;
  }
  if (!ring_probe (engine->ring)) {
    g_debug ("io_uring sends may wait: one writev() per connection");
    io_uring_queue_exit (engine->ring);
    g_clear_pointer (&engine->ring, g_free);
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
      sqe = io_uring_get_sqe (engine->ring);
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
    ret = io_uring_submit (engine->ring);
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

      if (io_uring_wait_cqe (engine->ring, &cqe) < 0)
        break;
      c = engine->slots[io_uring_cqe_get_data64 (cqe)].conn;
      res = cqe->res;
      io_uring_cqe_seen (engine->ring, cqe);
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
  g_autoptr (GPtrArray) dirty = noom_engine_batch_take (&engine->dirty);
  guint i, done = 0;

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
    noom_ws_conn_unref (dirty->pdata[i]);
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
gboolean
noom_ws_conn_send (WsConn * c, guint8 opcode, GBytes * payload)
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
    noom_engine_batch_add (engine, &engine->dirty, noom_ws_conn_ref (c), 0,
        dirty_flush_cb);
  }
  return c->out_bytes <= engine->config.max_buffered;
}

void
noom_ws_conn_send_text (WsConn * c, const gchar * text)
{
  g_autoptr (GBytes) b = g_bytes_new_static (text, strlen (text));

  noom_ws_conn_send (c, 1, b);
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

    noom_ws_conn_send (c, 8, b);
    wsc_flush (c);
  }
}

/* A close frame, then shut. */
void
noom_ws_conn_close (WsConn * c, gushort code)
{
  wsc_send_close_frame (c, code);
  noom_ws_conn_shut (c);
}

static void
wsc_protocol_error (WsConn * c, gushort code)
{
  WsConn *ref = noom_ws_conn_ref (c);

  g_debug ("websocket protocol error %u", code);
  /* the close frame first: the owner's close would send a normal one */
  wsc_send_close_frame (c, code);
  c->events->lost (c);
  noom_ws_conn_shut (c);
  noom_ws_conn_unref (ref);
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
          c->events->message (c, opcode == 2, (const gchar *) payload, plen);
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

          c->events->message (c, c->msg_opcode == 2,
              (const gchar *) msg->data, msg->len);
        }
        break;
      case 0x8:{
        WsConn *ref = noom_ws_conn_ref (c);

        c->events->lost (c);
        noom_ws_conn_close (c, plen >= 2 ? (payload[0] << 8) | payload[1] :
            SOUP_WEBSOCKET_CLOSE_NORMAL);
        noom_ws_conn_unref (ref);
        return pos;
      }
      case 0x9:{
        g_autoptr (GBytes) pong = g_bytes_new (payload, plen);

        noom_ws_conn_send (c, 0xa, pong);
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
      c->events->lost (c);
      noom_ws_conn_shut (c);
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
    noom_ws_conn_ref (events[i].data.ptr);
  for (i = 0; i < n; i++) {
    WsConn *c = events[i].data.ptr;

    if (!c->shut && (events[i].events & EPOLLOUT))
      wsc_flush (c);
    if (!c->shut && (events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
      wsc_read (c);
  }
  for (i = 0; i < n; i++)
    noom_ws_conn_unref (events[i].data.ptr);
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

WsConn *
noom_ws_conn_new_raw (NoomEngine * engine, gint fd, const WsConnEvents * events)
{
  WsConn *c = g_new0 (WsConn, 1);
  struct epoll_event ev = { 0, };

  c->engine = engine;
  c->events = events;
  c->ref_count = 1;
  c->fd = fd;
  ev.events = EPOLLIN;
  ev.data.ptr = c;
  if (epoll_ctl (engine->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    g_warning ("epoll_ctl: %s", g_strerror (errno));
    noom_ws_conn_shut (c);
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

  c->events->message (c, type == SOUP_WEBSOCKET_DATA_BINARY, data, len);
}

static void
soup_closed_cb (SoupWebsocketConnection * ws, WsConn * c)
{
  WsConn *ref = noom_ws_conn_ref (c);

  c->events->lost (c);
  noom_ws_conn_shut (c);
  noom_ws_conn_unref (ref);
}

WsConn *
noom_ws_conn_new_soup (NoomEngine * engine, SoupWebsocketConnection * ws,
    GSocket * gsocket, const WsConnEvents * events)
{
  WsConn *c = g_new0 (WsConn, 1);

  c->engine = engine;
  c->events = events;
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

void
noom_ws_conn_io_init (NoomEngine * engine)
{
  engine->rbuf = g_malloc (READ_BUFFER_SIZE);
  engine->epfd = epoll_create1 (EPOLL_CLOEXEC);
  if (engine->epfd < 0)
    g_error ("epoll_create1: %s", g_strerror (errno));
  engine->epoll_source = g_source_new (&epoll_funcs, sizeof (GSource));
  g_source_set_callback (engine->epoll_source, NULL, engine, NULL);
  g_source_add_unix_fd (engine->epoll_source, engine->epfd, G_IO_IN);
  g_source_attach (engine->epoll_source, engine->context);
}

void
noom_ws_conn_io_clear (NoomEngine * engine)
{
  flush_dirty (engine);
  g_source_destroy (engine->epoll_source);
  g_source_unref (engine->epoll_source);
  close (engine->epfd);
#ifdef HAVE_LIBURING
  if (engine->ring_state == RING_READY || engine->ring_state == RING_RETIRED)
    io_uring_queue_exit (engine->ring);
  g_free (engine->ring);
  g_free (engine->slots);
#endif
  g_free (engine->rbuf);
}
