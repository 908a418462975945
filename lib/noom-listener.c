/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-listener: the accept path of noom-server (docs/server-internals.md).
 *
 * Why not libsoup's own listener: it starts every TLS handshake at once,
 * and glib-networking (2.74) runs each handshake, async or not, as a
 * blocking one in a GTask worker thread.  A peer that sends part of a
 * ClientHello and then nothing holds a thread until it goes away, and a
 * hundred of them starve GLib's small thread pool: no new client gets
 * through.  Here a TLS connection waits on the main loop, without a thread,
 * until its whole first record (the ClientHello) is in the kernel's
 * buffer; only then does the handshake start, with a deadline that cancels
 * it.  A stalled peer costs a file descriptor and a small struct, and is
 * counted against its address.
 *
 * The connection's state follows the SoupServer's request signals: waiting
 * for a request (header timeout), busy (no deadline: a held long-poll GET
 * or a WebSocket has Engine.IO's pings), idle between requests (idle
 * timeout).  Timeouts are the same for every connection of a state, so
 * each state's connections sit in a FIFO already sorted by deadline and
 * one GSource is armed for the earliest.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-listener"

#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "noom-listener.h"
#include "noom-log-fold.h"
#include "noom-tally.h"

/* TLS record header: type, version (2 bytes), length (2 bytes). */
#define TLS_HEADER_LEN 5
#define TLS_HANDSHAKE_RECORD 22
#define TLS_MAX_RECORD 16384
/* Out of file descriptors: stop accepting for a while instead of
 * spinning on a listening socket that stays readable. */
#define ACCEPT_PAUSE_MS 100
#define ACCEPT_BATCH 64
/* TLS handshakes of one address in glib-networking's threads at once.  A
 * peer that sends a whole ClientHello and then stalls holds a thread until
 * the handshake deadline; more wait here, without a thread, so that one
 * address cannot starve the pool. */
#define MAX_THREADED_PER_ADDRESS 4

enum
{
  QUEUE_HANDSHAKE,
  QUEUE_HEADERS,
  QUEUE_IDLE,
  N_QUEUES,
  QUEUE_NONE = N_QUEUES,
};

enum
{
  STATE_TLS_WAIT,               /* waiting for the ClientHello, no thread */
  STATE_TLS_READY,              /* has it, waiting for a handshake slot */
  STATE_TLS_HANDSHAKE,          /* handshake in glib-networking's thread */
  STATE_HEADERS,                /* with libsoup, waiting for a request */
  STATE_BUSY,                   /* request read, not answered yet */
  STATE_IDLE,                   /* between requests */
  STATE_UPGRADED,               /* a WebSocket now: Engine.IO's pings */
  STATE_CLOSING,                /* shut down by us, libsoup to notice */
};

typedef struct _Conn Conn;
struct _Conn
{
  NoomListener *listener;       /* NULL once the listener is gone */
  GSocket *socket;              /* owned until handed over */
  GSocketConnection *stream;    /* owned until handed over, then watched */
  GTlsConnection *tls_conn;     /* during the handshake */
  GCancellable *cancellable;    /* during the handshake */
  GSource *watch;               /* STATE_TLS_WAIT, STATE_IDLE */
  SoupServerMessage *last_msg;  /* STATE_IDLE: the request answered last */
  GSocketAddress *remote_addr;
  gchar *remote;                /* key in per_address, or NULL */
  GList link;                   /* in listener->queues[queue] */
  GList ready_link;             /* STATE_TLS_READY: in listener->ready */
  gint64 deadline;              /* monotonic µs */
  guint need;                   /* bytes of the first TLS record */
  guint8 state;
  guint8 queue;
  guint8 handed:1;              /* libsoup has it */
  guint8 counted:1;             /* in per_address */
  guint8 gone:1;                /* libsoup's stream finalized */
  guint8 tls:1;
  guint8 threaded:1;            /* counted in listener->threaded */
  guint holds;                  /* noom_listener_hold_connection() */
};

struct _NoomListener
{
  SoupServer *server;
  NoomListenerConfig config;
  GMainContext *context;
  GSList *accept_sources;       /* GSource per listening socket */
  GSList *sockets;              /* listening GSockets */
  GSource *resume;              /* after running out of descriptors */
  GHashTable *conns;            /* Conn set */
  GHashTable *per_address;      /* address text -> count */
  GHashTable *threaded;         /* address text -> handshakes in a thread */
  GQueue ready;                 /* Conns in STATE_TLS_READY, oldest first */
  /* A refusal or timeout line is logged once per address and reason
   * every 10 s; the next one says how many were left out. */
  NoomLogFold *log;
  GQueue queues[N_QUEUES];
  gint64 timeouts[N_QUEUES];    /* µs */
  GSource *timer;
  GSocket *keepalive[2];        /* see noom_listener_new() */
  gulong handlers[4];
};

static GQuark conn_quark;

void
noom_listener_config_init (NoomListenerConfig * config)
{
  memset (config, 0, sizeof (*config));
  config->handshake_timeout_ms = 5000;
  config->header_timeout_ms = 10000;
  config->idle_timeout_ms = 60000;
}

/* ------------------------------------------------------------ logging */

static void
conn_log (Conn * c, const gchar * what)
{
  g_autofree gchar *line = NULL;

  if (c->listener == NULL)
    return;
  line = g_strdup_printf ("closed connection from %s: %s",
      c->remote ? c->remote : "?", what);
  noom_log_fold_line (c->listener->log, line);
}

/* ------------------------------------------------------------ deadlines */

static void
timer_rearm (NoomListener * l)
{
  gint64 next = -1;
  guint q;

  for (q = 0; q < N_QUEUES; q++) {
    Conn *head = g_queue_peek_head (&l->queues[q]);

    if (head && (next < 0 || head->deadline < next))
      next = head->deadline;
  }
  g_source_set_ready_time (l->timer, next);
}

static void
conn_unqueue (Conn * c)
{
  if (c->queue == QUEUE_NONE)
    return;
  if (c->listener)
    g_queue_unlink (&c->listener->queues[c->queue], &c->link);
  c->queue = QUEUE_NONE;
}

/* Same timeout for the whole queue: appending keeps it sorted. */
static void
conn_queue (Conn * c, guint queue)
{
  NoomListener *l = c->listener;

  conn_unqueue (c);
  if (l == NULL)
    return;
  c->queue = queue;
  c->deadline = g_get_monotonic_time () + l->timeouts[queue];
  g_queue_push_tail_link (&l->queues[queue], &c->link);
  timer_rearm (l);
}

/* ------------------------------------------------------------ connections */

static Conn *message_conn (SoupServerMessage * msg);

static void
conn_uncount (Conn * c)
{
  NoomListener *l = c->listener;

  if (!c->counted || l == NULL)
    return;
  c->counted = FALSE;
  noom_tally_remove (l->per_address, c->remote);
}

static void
threaded_release (Conn * c)
{
  NoomListener *l = c->listener;

  if (!c->threaded || l == NULL)
    return;
  c->threaded = FALSE;
  noom_tally_remove (l->threaded, c->remote);
}

static void
conn_free (Conn * c)
{
  g_debug ("connection from %s closed", c->remote ? c->remote : "?");
  conn_unqueue (c);
  conn_uncount (c);
  threaded_release (c);
  if (c->listener && c->state == STATE_TLS_READY)
    g_queue_unlink (&c->listener->ready, &c->ready_link);
  if (c->listener)
    g_hash_table_remove (c->listener->conns, c);
  if (c->watch) {
    g_source_destroy (c->watch);
    g_source_unref (c->watch);
  }
  if (c->remote_addr) {
    if (g_object_get_qdata (G_OBJECT (c->remote_addr), conn_quark) == c)
      g_object_set_qdata (G_OBJECT (c->remote_addr), conn_quark, NULL);
    g_object_unref (c->remote_addr);
  }
  g_clear_object (&c->last_msg);
  g_clear_object (&c->tls_conn);
  g_clear_object (&c->cancellable);
  if (!c->handed) {
    g_clear_object (&c->stream);
    if (c->socket)
      g_socket_close (c->socket, NULL);
    g_clear_object (&c->socket);
  }
  g_free (c->remote);
  g_free (c);
}

/* Before the hand-over: close and forget. */
static void
conn_drop (Conn * c, const gchar * why)
{
  if (why)
    conn_log (c, why);
  conn_free (c);
}

/* libsoup dropped the last reference to the connection: it is closed. */
static void
conn_gone (gpointer data, GObject * where_the_object_was)
{
  Conn *c = data;

  c->gone = TRUE;
  c->socket = NULL;
  c->stream = NULL;
  if (c->watch) {
    g_source_destroy (c->watch);
    g_clear_pointer (&c->watch, g_source_unref);
  }
  if (c->holds) {
    /* The engine took the descriptor over: still counted, but only the
     * count and the address text are needed now (one per WebSocket). */
    conn_unqueue (c);
    c->state = STATE_UPGRADED;
    if (g_object_get_qdata (G_OBJECT (c->remote_addr), conn_quark) == c)
      g_object_set_qdata (G_OBJECT (c->remote_addr), conn_quark, NULL);
    g_clear_object (&c->remote_addr);
    return;
  }
  conn_free (c);
}

gpointer
noom_listener_hold_connection (SoupServerMessage * msg)
{
  Conn *c = message_conn (msg);

  if (c == NULL || c->gone)
    return NULL;
  c->holds++;
  return c;
}

void
noom_listener_release_connection (gpointer hold)
{
  Conn *c = hold;

  if (c == NULL)
    return;
  g_return_if_fail (c->holds > 0);
  if (--c->holds == 0 && c->gone)
    conn_free (c);
}

static void
conn_unwatch (Conn * c)
{
  if (c->watch) {
    g_source_destroy (c->watch);
    g_clear_pointer (&c->watch, g_source_unref);
  }
}

/* After the hand-over, while libsoup reads a request: it notices the
 * shutdown, closes the connection and drops it (conn_gone). */
static void
conn_shutdown (Conn * c, const gchar * why)
{
  conn_log (c, why);
  conn_unqueue (c);
  c->state = STATE_CLOSING;
  g_socket_shutdown (c->socket, TRUE, TRUE, NULL);
}

/* Between two requests libsoup 3.2 does not notice that the peer went
 * away (a read of 0 bytes before a request starts completes nothing), so
 * the connection would stay open for ever: take it back from libsoup with
 * the last message, which drops it, and close it.  Only while libsoup
 * still has it, as steal_connection() on a connection it let go would
 * disconnect it a second time. */
static void
conn_release (Conn * c)
{
  g_autoptr (SoupServerMessage) msg = g_steal_pointer (&c->last_msg);
  GIOStream *io;

  conn_unqueue (c);
  conn_unwatch (c);
  c->state = STATE_CLOSING;
  if (msg == NULL || g_io_stream_is_closed (G_IO_STREAM (c->stream)))
    return;
  g_debug ("closing idle connection from %s", c->remote ? c->remote : "?");
  io = soup_server_message_steal_connection (msg);
  /* The TCP connection itself: a TLS close would write an alert, and
   * could wait for a peer that does not read. */
  g_io_stream_close (G_IO_STREAM (c->stream), NULL, NULL);
  g_clear_object (&io);
}

/* TLS, after a response libsoup would keep the connection for. */
static gboolean
tls_release_cb (gpointer data)
{
  Conn *c = data;

  g_clear_pointer (&c->watch, g_source_unref);
  conn_release (c);
  return G_SOURCE_REMOVE;
}

/* STATE_IDLE: the peer closed, or the next request begins.  Runs before
 * libsoup's own source on the socket (higher priority), so libsoup has
 * not read the end of the stream yet when conn_release() takes it. */
static gboolean
idle_watch_cb (GSocket * socket, GIOCondition condition, gpointer data)
{
  Conn *c = data;
  guint8 first;
  gssize n = recv (g_socket_get_fd (socket), &first, 1,
      MSG_PEEK | MSG_DONTWAIT);

  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  g_clear_pointer (&c->watch, g_source_unref);
  if (n <= 0) {
    conn_release (c);
    return G_SOURCE_REMOVE;
  }
  /* last_msg stays until libsoup starts the request (request-started). */
  c->state = STATE_HEADERS;
  conn_queue (c, QUEUE_HEADERS);
  return G_SOURCE_REMOVE;
}

static void
conn_hand_over (Conn * c)
{
  NoomListener *l = c->listener;
  g_autoptr (GSocketAddress) local = NULL;
  g_autoptr (GError) error = NULL;
  GIOStream *io = c->tls_conn ? G_IO_STREAM (c->tls_conn) :
      G_IO_STREAM (c->stream);

  local = g_socket_get_local_address (c->socket, &error);
  if (local == NULL) {
    g_autofree gchar *why = g_strdup_printf ("no local address: %s",
        error->message);

    conn_drop (c, why);
    return;
  }
  /* Connection to Conn, for the request signals, which only give the
   * message: its remote address is this very object. */
  g_object_set_qdata (G_OBJECT (c->remote_addr), conn_quark, c);
  g_object_weak_ref (G_OBJECT (c->stream), conn_gone, c);
  c->handed = TRUE;
  c->state = STATE_HEADERS;
  conn_queue (c, QUEUE_HEADERS);
  soup_server_accept_iostream (l->server, io, local, c->remote_addr, NULL);
  /* From now on libsoup owns the stream; the GSocket lives as long.  The
   * last unref may finalize it (libsoup may be done already): then c is
   * gone too. */
  g_clear_object (&c->tls_conn);
  g_object_unref (c->socket);
  g_object_unref (c->stream);
}

static void conn_start_handshake (Conn * c);

/* A thread slot of @remote came free: the oldest connection of that
 * address waiting for one takes it. */
static void
start_ready (NoomListener * l, const gchar * remote)
{
  GList *link;

  for (link = l->ready.head; link; link = link->next) {
    Conn *c = link->data;

    if (strcmp (c->remote, remote) == 0) {
      g_queue_unlink (&l->ready, link);
      conn_start_handshake (c);
      return;
    }
  }
}

static void
handshake_cb (GObject * source, GAsyncResult * result, gpointer data)
{
  Conn *c = data;
  NoomListener *l = c->listener;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *remote = g_strdup (c->remote);

  threaded_release (c);
  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (source), result,
          &error)) {
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      conn_drop (c, "TLS handshake timed out");
    else {
      g_autofree gchar *why = g_strdup_printf ("TLS handshake failed: %s",
          error->message);

      conn_drop (c, why);
    }
  } else if (l == NULL) {
    conn_free (c);
  } else {
    g_clear_object (&c->cancellable);
    conn_hand_over (c);
  }
  if (l)
    start_ready (l, remote);
}

static void
conn_start_handshake (Conn * c)
{
  static const gchar *protocols[] = { "http/1.1", "http/1.0", NULL };
  g_autoptr (GError) error = NULL;
  GIOStream *tls;

  tls = g_tls_server_connection_new (G_IO_STREAM (c->stream),
      c->listener->config.certificate, &error);
  if (tls == NULL) {
    g_autofree gchar *why = g_strdup_printf ("TLS: %s", error->message);

    conn_drop (c, why);
    return;
  }
  c->tls_conn = G_TLS_CONNECTION (tls);
  c->tls = TRUE;
  /* Browsers often close without close_notify; that is not an error. */
  g_tls_connection_set_require_close_notify (c->tls_conn, FALSE);
  g_tls_connection_set_advertised_protocols (c->tls_conn, protocols);
  c->cancellable = g_cancellable_new ();
  c->state = STATE_TLS_HANDSHAKE;
  c->threaded = TRUE;
  noom_tally_add (c->listener->threaded, c->remote);
  g_tls_connection_handshake_async (c->tls_conn, G_PRIORITY_DEFAULT,
      c->cancellable, handshake_cb, c);
}

/* Wakes up when the kernel holds SO_RCVLOWAT bytes (or at EOF), so a peer
 * that sends part of a record costs no wake-ups. */
static gboolean
tls_wait_cb (GSocket * socket, GIOCondition condition, gpointer data)
{
  Conn *c = data;
  guint8 hdr[TLS_HEADER_LEN];
  gssize n;
  gint avail = 0, lowat;

  n = recv (g_socket_get_fd (socket), hdr, sizeof (hdr),
      MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EINTR))
    return G_SOURCE_CONTINUE;
  if (n <= 0) {
    g_clear_pointer (&c->watch, g_source_unref);
    conn_drop (c, NULL);
    return G_SOURCE_REMOVE;
  }
  if (hdr[0] != TLS_HANDSHAKE_RECORD || (n > 1 && hdr[1] != 3)) {
    g_clear_pointer (&c->watch, g_source_unref);
    conn_drop (c, "not a TLS handshake (plain http on the https port?)");
    return G_SOURCE_REMOVE;
  }
  if (n < TLS_HEADER_LEN)
    return G_SOURCE_CONTINUE;
  if (c->need == 0) {
    guint len = (hdr[3] << 8) | hdr[4];

    if (len == 0 || len > TLS_MAX_RECORD) {
      g_clear_pointer (&c->watch, g_source_unref);
      conn_drop (c, "bad TLS record length");
      return G_SOURCE_REMOVE;
    }
    c->need = TLS_HEADER_LEN + len;
    lowat = c->need;
    setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_RCVLOWAT, &lowat,
        sizeof (lowat));
  }
  if (ioctl (g_socket_get_fd (socket), FIONREAD, &avail) < 0
      || (guint) avail < c->need)
    return G_SOURCE_CONTINUE;

  lowat = 1;
  setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_RCVLOWAT, &lowat,
      sizeof (lowat));
  g_clear_pointer (&c->watch, g_source_unref);
  if (noom_tally_get (c->listener->threaded, c->remote) <
      MAX_THREADED_PER_ADDRESS) {
    conn_start_handshake (c);
  } else {
    c->state = STATE_TLS_READY;
    c->ready_link.data = c;
    g_queue_push_tail_link (&c->listener->ready, &c->ready_link);
  }
  return G_SOURCE_REMOVE;
}

static void
conn_new (NoomListener * l, GSocket * socket)
{
  GInetAddress *inet;
  gint lowat = TLS_HEADER_LEN;
  Conn *c;

  c = g_new0 (Conn, 1);
  c->listener = l;
  c->socket = socket;
  c->queue = QUEUE_NONE;
  c->link.data = c;
  g_hash_table_add (l->conns, c);
  c->remote_addr = g_socket_get_remote_address (socket, NULL);
  if (c->remote_addr == NULL || !G_IS_INET_SOCKET_ADDRESS (c->remote_addr)) {
    /* Reset before we got to it. */
    conn_drop (c, NULL);
    return;
  }
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS
      (c->remote_addr));
  c->remote = g_inet_address_to_string (inet);
  if (l->config.max_per_address && (l->config.limit_loopback
          || !g_inet_address_get_is_loopback (inet))) {
    guint n = noom_tally_get (l->per_address, c->remote);

    if (n >= l->config.max_per_address) {
      g_autofree gchar *line = g_strdup_printf ("refused connection from "
          "%s: too many connections from this address", c->remote);

      noom_log_fold_line (l->log, line);
      conn_free (c);
      return;
    }
    noom_tally_add (l->per_address, c->remote);
    c->counted = TRUE;
  }
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
  c->stream = g_socket_connection_factory_create_connection (socket);

  if (l->config.certificate == NULL) {
    conn_hand_over (c);
    return;
  }
  /* No wake-up before a whole record header is in. */
  setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_RCVLOWAT, &lowat,
      sizeof (lowat));
  c->state = STATE_TLS_WAIT;
  conn_queue (c, QUEUE_HANDSHAKE);
  c->watch = g_socket_create_source (socket, G_IO_IN, NULL);
  g_source_set_callback (c->watch, G_SOURCE_FUNC (tls_wait_cb), c, NULL);
  g_source_attach (c->watch, l->context);
}

static gboolean
timer_dispatch (GSource * source, GSourceFunc callback, gpointer data)
{
  NoomListener *l = data;
  gint64 now = g_get_monotonic_time ();
  guint q;

  for (q = 0; q < N_QUEUES; q++) {
    Conn *c;

    while ((c = g_queue_peek_head (&l->queues[q])) && c->deadline <= now) {
      conn_unqueue (c);
      switch (c->state) {
        case STATE_TLS_WAIT:
          conn_drop (c, "TLS handshake timed out (no ClientHello)");
          break;
        case STATE_TLS_READY:
          conn_drop (c, "TLS handshake timed out (waiting for a handshake "
              "slot of its address)");
          break;
        case STATE_TLS_HANDSHAKE:
          /* handshake_cb closes it */
          g_cancellable_cancel (c->cancellable);
          break;
        case STATE_HEADERS:
          if (c->last_msg) {
            /* bytes came, but not a byte of a request reached libsoup
             * (part of a TLS record) */
            conn_log (c, "no complete request in time");
            conn_release (c);
          } else {
            conn_shutdown (c, "no complete request in time");
          }
          break;
        case STATE_IDLE:
          conn_release (c);
          break;
        default:
          break;
      }
    }
  }
  timer_rearm (l);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs timer_funcs = {
  .dispatch = timer_dispatch,
};

/* ------------------------------------------------------------ requests */

static Conn *
message_conn (SoupServerMessage * msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote ? g_object_get_qdata (G_OBJECT (remote), conn_quark) : NULL;
}

/* libsoup emits it when the first bytes of a request are read (or, for
 * a connection's first request, at once). */
static void
request_started_cb (SoupServer * server, SoupServerMessage * msg,
    gpointer data)
{
  Conn *c = message_conn (msg);

  if (c == NULL)
    return;
  g_clear_object (&c->last_msg);
  if (c->state == STATE_IDLE) {
    conn_unwatch (c);
    c->state = STATE_HEADERS;
    conn_queue (c, QUEUE_HEADERS);
  }
}

static void
request_read_cb (SoupServer * server, SoupServerMessage * msg, gpointer data)
{
  Conn *c = message_conn (msg);

  if (c == NULL || c->state == STATE_CLOSING)
    return;
  conn_unqueue (c);
  c->state = STATE_BUSY;
  /* TLS connections are not kept alive.  Between two requests libsoup
   * would read the peer's close_notify (in TLS 1.3 an application data
   * record like any request) as the end of the stream before a request
   * started, and then never close the connection; nor can it be taken
   * back from libsoup after that.  A WebSocket handshake keeps its
   * "Connection: Upgrade". */
  if (c->tls && !soup_message_headers_header_contains
      (soup_server_message_get_request_headers (msg), "Upgrade", "websocket"))
    soup_message_headers_replace (soup_server_message_get_response_headers
        (msg), "Connection", "close");
}

/* What libsoup decides after a response (3.2 has no public call). */
static gboolean
message_keepalive (SoupServerMessage * msg)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);

  if (soup_message_headers_header_contains (req, "Connection", "close")
      || soup_message_headers_header_contains (resp, "Connection", "close"))
    return FALSE;
  if (soup_server_message_get_http_version (msg) == SOUP_HTTP_1_0)
    return soup_message_headers_header_contains (req, "Connection",
        "Keep-Alive");
  return TRUE;
}

static void
request_finished_cb (SoupServer * server, SoupServerMessage * msg,
    gpointer data)
{
  Conn *c = message_conn (msg);

  if (c == NULL || c->state == STATE_CLOSING)
    return;
  if (soup_server_message_get_status (msg) ==
      SOUP_STATUS_SWITCHING_PROTOCOLS) {
    conn_unqueue (c);
    c->state = STATE_UPGRADED;
    return;
  }
  if (!message_keepalive (msg)
      || g_io_stream_is_closed (G_IO_STREAM (c->stream))) {
    /* libsoup closes it now. */
    conn_unqueue (c);
    c->state = STATE_CLOSING;
    return;
  }
  c->state = STATE_IDLE;
  conn_queue (c, QUEUE_IDLE);
  g_set_object (&c->last_msg, msg);
  conn_unwatch (c);
  if (c->tls) {
    /* A response libsoup answered before request-read (an early error)
     * kept its connection alive after all: end it before libsoup reads
     * again (higher priority than its source). */
    c->watch = g_idle_source_new ();
    g_source_set_callback (c->watch, tls_release_cb, c, NULL);
  } else {
    c->watch = g_socket_create_source (c->socket, G_IO_IN, NULL);
    g_source_set_callback (c->watch, G_SOURCE_FUNC (idle_watch_cb), c,
        NULL);
  }
  g_source_set_priority (c->watch, G_PRIORITY_HIGH);
  g_source_attach (c->watch, c->listener->context);
}

/* libsoup closes the connection after it. */
static void
request_aborted_cb (SoupServer * server, SoupServerMessage * msg,
    gpointer data)
{
  Conn *c = message_conn (msg);

  if (c && c->state != STATE_UPGRADED) {
    conn_unqueue (c);
    c->state = STATE_CLOSING;
  }
}

GSocket *
noom_listener_get_message_socket (SoupServerMessage * msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  Conn *c;

  if (socket)
    return socket;
  c = message_conn (msg);
  return c ? c->socket : NULL;
}

/* ------------------------------------------------------------ accepting */

static gboolean accept_cb (GSocket * socket, GIOCondition condition,
    gpointer data);

static void
watch_listening (NoomListener * l, GSocket * socket)
{
  GSource *source = g_socket_create_source (socket, G_IO_IN, NULL);

  g_source_set_callback (source, G_SOURCE_FUNC (accept_cb), l, NULL);
  g_source_attach (source, l->context);
  l->accept_sources = g_slist_prepend (l->accept_sources, source);
}

static gboolean
resume_cb (gpointer data)
{
  NoomListener *l = data;
  GSList *s;

  g_clear_pointer (&l->resume, g_source_unref);
  for (s = l->sockets; s; s = s->next)
    watch_listening (l, s->data);
  return G_SOURCE_REMOVE;
}

static void
pause_accepting (NoomListener * l)
{
  GSList *s;

  for (s = l->accept_sources; s; s = s->next) {
    g_source_destroy (s->data);
    g_source_unref (s->data);
  }
  g_clear_pointer (&l->accept_sources, g_slist_free);
  l->resume = g_timeout_source_new (ACCEPT_PAUSE_MS);
  g_source_set_callback (l->resume, resume_cb, l, NULL);
  g_source_attach (l->resume, l->context);
}

static gboolean
accept_cb (GSocket * listening, GIOCondition condition, gpointer data)
{
  NoomListener *l = data;
  guint i;

  /* A batch, then the others get their turn. */
  for (i = 0; i < ACCEPT_BATCH; i++) {
    g_autoptr (GError) error = NULL;
    GSocket *socket = g_socket_accept (listening, NULL, &error);

    if (socket) {
      conn_new (l, socket);
      continue;
    }
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
      break;
    if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES)
        || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE)) {
      g_autofree gchar *line = g_strdup_printf ("cannot accept: %s; "
          "pausing for %u ms", error->message, ACCEPT_PAUSE_MS);

      noom_log_fold_line (l->log, line);
      pause_accepting (l);
      return G_SOURCE_REMOVE;
    }
    /* ECONNABORTED and the like: that connection only. */
    g_debug ("accept: %s", error->message);
    break;
  }
  return G_SOURCE_CONTINUE;
}

void
noom_listener_add_socket (NoomListener * l, GSocket * socket)
{
  g_return_if_fail (l != NULL);
  g_return_if_fail (G_IS_SOCKET (socket));

  g_socket_set_blocking (socket, FALSE);
  l->sockets = g_slist_prepend (l->sockets, g_object_ref (socket));
  if (l->resume == NULL)
    watch_listening (l, socket);
}

NoomListener *
noom_listener_new (SoupServer * server, const NoomListenerConfig * config,
    GError ** error)
{
  NoomListener *l;
  gint sv[2];
  guint q;

  g_return_val_if_fail (SOUP_IS_SERVER (server), NULL);

  if (conn_quark == 0)
    conn_quark = g_quark_from_static_string ("noom-listener-conn");
  l = g_new0 (NoomListener, 1);
  l->server = g_object_ref (server);
  if (config)
    l->config = *config;
  else
    noom_listener_config_init (&l->config);
  if (l->config.certificate)
    g_object_ref (l->config.certificate);
  l->context = g_main_context_ref_thread_default ();
  l->conns = g_hash_table_new (NULL, NULL);
  l->per_address = noom_tally_new ();
  l->threaded = noom_tally_new ();
  g_queue_init (&l->ready);
  l->log = noom_log_fold_new (G_LOG_DOMAIN);
  for (q = 0; q < N_QUEUES; q++)
    g_queue_init (&l->queues[q]);
  l->timeouts[QUEUE_HANDSHAKE] = l->config.handshake_timeout_ms * 1000LL;
  l->timeouts[QUEUE_HEADERS] = l->config.header_timeout_ms * 1000LL;
  l->timeouts[QUEUE_IDLE] = l->config.idle_timeout_ms * 1000LL;
  l->timer = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (l->timer, NULL, l, NULL);
  g_source_set_ready_time (l->timer, -1);
  g_source_attach (l->timer, l->context);

  l->handlers[0] = g_signal_connect (server, "request-read",
      G_CALLBACK (request_read_cb), l);
  l->handlers[1] = g_signal_connect (server, "request-finished",
      G_CALLBACK (request_finished_cb), l);
  l->handlers[2] = g_signal_connect (server, "request-aborted",
      G_CALLBACK (request_aborted_cb), l);
  l->handlers[3] = g_signal_connect (server, "request-started",
      G_CALLBACK (request_started_cb), l);

  /* libsoup 3.2 keeps a connection alive after a response only while the
   * server has a listener of its own (request_finished() checks
   * priv->listeners).  It gets one that never fires: one end of a socket
   * pair whose other end nobody writes to. */
  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno),
        "socketpair: %s", g_strerror (errno));
    noom_listener_free (l);
    return NULL;
  }
  l->keepalive[0] = g_socket_new_from_fd (sv[0], error);
  if (l->keepalive[0] == NULL) {
    close (sv[0]);
    close (sv[1]);
    noom_listener_free (l);
    return NULL;
  }
  l->keepalive[1] = g_socket_new_from_fd (sv[1], error);
  if (l->keepalive[1] == NULL) {
    close (sv[1]);
    noom_listener_free (l);
    return NULL;
  }
  if (!soup_server_listen_socket (server, l->keepalive[0], 0, error)) {
    noom_listener_free (l);
    return NULL;
  }
  return l;
}

void
noom_listener_free (NoomListener * l)
{
  GHashTableIter iter;
  gpointer key;
  GSList *s;
  guint i;

  if (l == NULL)
    return;

  for (i = 0; i < G_N_ELEMENTS (l->handlers); i++)
    if (l->handlers[i])
      g_signal_handler_disconnect (l->server, l->handlers[i]);
  for (s = l->accept_sources; s; s = s->next) {
    g_source_destroy (s->data);
    g_source_unref (s->data);
  }
  g_slist_free (l->accept_sources);
  if (l->resume) {
    g_source_destroy (l->resume);
    g_source_unref (l->resume);
  }
  g_slist_free_full (l->sockets, g_object_unref);

  /* Connections libsoup has stay with it, unwatched; a handshake in a
   * thread is cancelled and cleans up after itself. */
  g_hash_table_iter_init (&iter, l->conns);
  while (g_hash_table_iter_next (&iter, &key, NULL)) {
    Conn *c = key;

    g_hash_table_iter_remove (&iter);
    conn_unqueue (c);
    conn_uncount (c);
    c->listener = NULL;
    if (c->handed) {
      if (!c->gone)
        g_object_weak_unref (G_OBJECT (c->stream), conn_gone, c);
      c->gone = TRUE;
      c->socket = NULL;
      if (c->holds == 0)
        conn_free (c);
    } else if (c->state == STATE_TLS_HANDSHAKE) {
      g_cancellable_cancel (c->cancellable);
    } else {
      conn_free (c);
    }
  }
  g_hash_table_unref (l->conns);
  g_hash_table_unref (l->per_address);
  g_hash_table_unref (l->threaded);
  noom_log_fold_free (l->log);
  g_source_destroy (l->timer);
  g_source_unref (l->timer);
  for (i = 0; i < 2; i++)
    if (l->keepalive[i]) {
      g_socket_close (l->keepalive[i], NULL);
      g_object_unref (l->keepalive[i]);
    }
  g_clear_object (&l->config.certificate);
  g_main_context_unref (l->context);
  g_object_unref (l->server);
  g_free (l);
}

guint
noom_listener_get_n_connections (NoomListener * l)
{
  g_return_val_if_fail (l != NULL, 0);
  return g_hash_table_size (l->conns);
}
