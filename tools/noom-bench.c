/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-bench: a Socket.IO v4 WebSocket load generator for noom-server (and
 * any Socket.IO v4 server with the seed's chat semantics).
 *
 * N clients in R rooms: a connect storm, a join storm (enter_room with ack),
 * an idle phase (server memory per connection), then chat at a given rate
 * (new_message with ack) while every delivery's relay latency is measured.
 * The server's resident memory and CPU are read from /proc/PID.
 *
 * Several --url (the nodes of a noom-server --redis cluster): client i
 * connects to node i % N, so every room has members on every node; each
 * delivery's latency is then also counted as local (sender and receiver
 * on one node) or cross-node.  Several --server-pid add up (give the
 * nodes' and redis-server's).
 *
 * The clients are plain non-blocking sockets on one epoll loop with a
 * minimal RFC 6455 client framing: a libsoup client per connection would
 * make the load generator, not the server, the bottleneck.
 */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <glib.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef enum
{
  C_CONNECTING,                 /* TCP connect in progress */
  C_HANDSHAKE,                  /* HTTP upgrade sent, waiting for 101 */
  C_OPEN_WAIT,                  /* waiting for the Engine.IO open packet */
  C_SIO_WAIT,                   /* 40 sent, waiting for 40{"sid"} */
  C_READY,                      /* connected to the namespace */
  C_JOINED,                     /* enter_room acked */
  C_DEAD,
} ClientState;

#define MAX_NODES 16

typedef struct
{
  int fd;
  ClientState state;
  guint room;
  guint node;                   /* index of its --url */
  guint next_ack;
  gint64 join_sent_ns;
  GByteArray *in;
  GByteArray *out;              /* unsent bytes (EAGAIN) */
} Client;

typedef struct
{
  gchar *host[MAX_NODES];
  gint port[MAX_NODES];
  struct sockaddr_storage addr[MAX_NODES];
  socklen_t addrlen[MAX_NODES];
  guint n_nodes;
  gint clients;
  gint rooms;
  gdouble chat_rate;            /* messages sent per second, all clients */
  gdouble chat_seconds;
  gdouble idle_seconds;
  gint server_pid;              /* the first of server_pids, or 0 */
  GArray *server_pids;          /* gint */
  gchar *json_path;
  gchar *label;
  gint connect_batch;
  gboolean no_join;             /* measure idle connections in no room */
  gint ready_target;            /* clients the connect storm waits for */

  int ep;
  Client *c;

  /* counters */
  gint n_connected, n_ready, n_joined, n_failed;
  guint64 sent, acked, delivered, expected;
  GArray *lat_us;               /* guint32 relay latency per delivery */
  GArray *lat_local_us;         /* those between clients of one node */
  GArray *lat_cross_us;         /* and across nodes */
  gint64 join_first_ns, join_last_ns;
  gint64 members_per_room_min;
} Bench;

static gint64
now_ns (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return (gint64) ts.tv_sec * G_GINT64_CONSTANT (1000000000) + ts.tv_nsec;
}

/* ------------------------------------------------------------ /proc */

static gboolean
proc_read (gint pid, gint64 * rss_kib, gdouble * cpu_s, gdouble * sys_s,
    guint64 * wakeups)
{
  g_autofree gchar *status = NULL, *stat = NULL;
  g_autofree gchar *p1 = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree gchar *p2 = g_strdup_printf ("/proc/%d/stat", pid);
  const gchar *s;
  gchar **f;
  guint n;

  if (!g_file_get_contents (p1, &status, NULL, NULL) ||
      !g_file_get_contents (p2, &stat, NULL, NULL))
    return FALSE;
  s = strstr (status, "VmRSS:");
  *rss_kib = s ? g_ascii_strtoll (s + 6, NULL, 10) : 0;
  /* the main thread's sleeps: each one a wakeup of the event loop */
  s = strstr (status, "\nvoluntary_ctxt_switches:");
  *wakeups = s ? g_ascii_strtoull (s + 26, NULL, 10) : 0;
  /* fields after the ")" of the command name; utime is field 14 */
  s = strrchr (stat, ')');
  if (!s)
    return FALSE;
  f = g_strsplit (s + 2, " ", -1);
  n = g_strv_length (f);
  /* utime and stime: the kernel's share (stime) is the floor no server
   * code can go below for the same number of system calls */
  *sys_s = n > 12 ? g_ascii_strtod (f[12], NULL) / sysconf (_SC_CLK_TCK) : 0;
  *cpu_s = n > 12 ? g_ascii_strtod (f[11], NULL) /
      sysconf (_SC_CLK_TCK) + *sys_s : 0;
  g_strfreev (f);
  return TRUE;
}

/* proc_read() of every --server-pid, added up. */
static gboolean
procs_read (Bench * b, gint64 * rss_kib, gdouble * cpu_s, gdouble * sys_s,
    guint64 * wakeups)
{
  guint i;

  *rss_kib = 0;
  *cpu_s = *sys_s = 0;
  *wakeups = 0;
  for (i = 0; i < b->server_pids->len; i++) {
    gint64 rss;
    gdouble cpu, sys;
    guint64 w;

    if (!proc_read (g_array_index (b->server_pids, gint, i), &rss, &cpu, &sys,
            &w))
      return FALSE;
    *rss_kib += rss;
    *cpu_s += cpu;
    *sys_s += sys;
    *wakeups += w;
  }
  return TRUE;
}

static gdouble
self_cpu (void)
{
  struct rusage ru;
  getrusage (RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
      ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ------------------------------------------------------------ sending */

static void
client_kill (Bench * b, Client * c)
{
  if (c->state == C_DEAD)
    return;
  if (c->state >= C_READY)
    b->n_ready--;
  if (c->state == C_JOINED)
    b->n_joined--;
  c->state = C_DEAD;
  b->n_failed++;
  epoll_ctl (b->ep, EPOLL_CTL_DEL, c->fd, NULL);
  close (c->fd);
}

static void
client_flush (Bench * b, Client * c)
{
  while (c->out->len > 0) {
    ssize_t r = send (c->fd, c->out->data, c->out->len, MSG_NOSIGNAL);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT,.data.ptr = c };
        epoll_ctl (b->ep, EPOLL_CTL_MOD, c->fd, &ev);
        return;
      }
      client_kill (b, c);
      return;
    }
    g_byte_array_remove_range (c->out, 0, r);
  }
}

/* A masked text frame.  The mask key is zero: any key is valid (RFC 6455
 * 5.3) and it spares the XOR. */
static void
client_send_text (Bench * b, Client * c, const gchar * text, gsize len)
{
  guint8 hdr[14];
  gsize h = 0;

  if (c->state == C_DEAD)
    return;
  hdr[h++] = 0x81;
  if (len < 126) {
    hdr[h++] = 0x80 | len;
  } else if (len < 65536) {
    hdr[h++] = 0x80 | 126;
    hdr[h++] = len >> 8;
    hdr[h++] = len & 0xff;
  } else {
    gint i;
    hdr[h++] = 0x80 | 127;
    for (i = 7; i >= 0; i--)
      hdr[h++] = ((guint64) len >> (8 * i)) & 0xff;
  }
  memset (hdr + h, 0, 4);
  h += 4;
  g_byte_array_append (c->out, hdr, h);
  g_byte_array_append (c->out, (const guint8 *) text, len);
  client_flush (b, c);
}

/* ------------------------------------------------------------ receiving */

static void
handle_text (Bench * b, Client * c, const gchar * t, gsize len)
{
  if (len == 0)
    return;
  switch (t[0]) {
    case '0':                  /* Engine.IO open */
      if (c->state == C_OPEN_WAIT) {
        c->state = C_SIO_WAIT;
        client_send_text (b, c, "40", 2);
      }
      return;
    case '2':                  /* ping */
      client_send_text (b, c, "3", 1);
      return;
    case '1':                  /* close */
      client_kill (b, c);
      return;
    case '4':
      break;
    default:
      return;
  }
  if (len >= 2 && t[1] == '0' && c->state == C_SIO_WAIT) {
    c->state = C_READY;
    b->n_ready++;
    return;
  }
  if (len >= 2 && t[1] == '4') {
    g_printerr ("noom-bench: connect refused: %.*s\n", (int) len, t);
    client_kill (b, c);
    return;
  }
  if (len >= 2 && t[1] == '3') {
    /* ack: "43<id>[...]": id 0 is the join, others chat */
    gint64 id = g_ascii_strtoll (t + 2, NULL, 10);
    if (id == 0 && c->state == C_READY) {
      gint64 n = now_ns ();
      c->state = C_JOINED;
      b->n_joined++;
      if (!b->join_first_ns)
        b->join_first_ns = n;
      b->join_last_ns = n;
    } else if (id > 0) {
      b->acked++;
    }
    return;
  }
  if (len >= 2 && t[1] == '2') {
    /* 42["new_message","<nick>: b:<ns>",...] */
    const gchar *m = g_strstr_len (t, MIN (len, 64), "\"new_message\"");
    if (m) {
      const gchar *p = g_strstr_len (m, len - (m - t), ": b:");
      if (p) {
        gchar *end;
        guint64 node = g_ascii_strtoull (p + 4, &end, 10);
        gint64 sent_ns = g_ascii_strtoll (end + 1, NULL, 10);
        gint64 us = (now_ns () - sent_ns) / 1000;
        guint32 v = (guint32) CLAMP (us, 0, G_MAXUINT32);
        g_array_append_val (b->lat_us, v);
        g_array_append_val (node == c->node ? b->lat_local_us :
            b->lat_cross_us, v);
        b->delivered++;
      }
    }
  }
}

static void
client_read (Bench * b, Client * c)
{
  guint8 buf[65536];

  for (;;) {
    ssize_t r = recv (c->fd, buf, sizeof buf, 0);
    if (r == 0) {
      client_kill (b, c);
      return;
    }
    if (r < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK)
        client_kill (b, c);
      break;
    }
    g_byte_array_append (c->in, buf, r);
    if (r < (ssize_t) sizeof buf)
      break;
  }

  if (c->state == C_HANDSHAKE) {
    gchar *end = g_strstr_len ((gchar *) c->in->data, c->in->len, "\r\n\r\n");
    if (!end)
      return;
    if (c->in->len < 12 || memcmp (c->in->data + 9, "101", 3) != 0) {
      g_printerr ("noom-bench: upgrade refused: %.*s\n", 40,
          (gchar *) c->in->data);
      client_kill (b, c);
      return;
    }
    g_byte_array_remove_range (c->in, 0, end + 4 - (gchar *) c->in->data);
    c->state = C_OPEN_WAIT;
  }

  /* server frames are unmasked; consume them all, then drop the consumed
   * bytes once (not per frame) */
  {
    gsize off = 0;
    for (;;) {
      guint8 *d = c->in->data + off;
      gsize avail = c->in->len - off, h = 2;
      guint64 plen;
      guint op;

      if (avail < 2)
        break;
      op = d[0] & 0x0f;
      plen = d[1] & 0x7f;
      if (plen == 126) {
        if (avail < 4)
          break;
        plen = (d[2] << 8) | d[3];
        h = 4;
      } else if (plen == 127) {
        gint i;
        if (avail < 10)
          break;
        plen = 0;
        for (i = 0; i < 8; i++)
          plen = (plen << 8) | d[2 + i];
        h = 10;
      }
      if (avail < h + plen)
        break;
      if (op == 1)
        handle_text (b, c, (const gchar *) d + h, plen);
      else if (op == 8) {
        client_kill (b, c);
        return;
      }
      if (c->state == C_DEAD)
        return;
      off += h + plen;
    }
    if (off)
      g_byte_array_remove_range (c->in, 0, off);
  }
}

static void
client_connect (Bench * b, Client * c)
{
  struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT };
  int one = 1;

  c->fd = socket (b->addr[c->node].ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
  if (c->fd < 0) {
    g_printerr ("noom-bench: socket: %s (raise ulimit -n)\n",
        g_strerror (errno));
    c->state = C_DEAD;
    b->n_failed++;
    return;
  }
  setsockopt (c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  c->in = g_byte_array_new ();
  c->out = g_byte_array_new ();
  c->state = C_CONNECTING;
  if (connect (c->fd, (struct sockaddr *) &b->addr[c->node],
          b->addrlen[c->node]) < 0 && errno != EINPROGRESS) {
    close (c->fd);
    c->state = C_DEAD;
    b->n_failed++;
    return;
  }
  ev.data.ptr = c;
  epoll_ctl (b->ep, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
client_event (Bench * b, Client * c, guint32 events)
{
  if (c->state == C_DEAD)
    return;
  if (c->state == C_CONNECTING && (events & (EPOLLOUT | EPOLLERR))) {
    int err = 0;
    socklen_t l = sizeof err;
    g_autofree gchar *req = NULL;
    struct epoll_event ev = {.events = EPOLLIN,.data.ptr = c };

    getsockopt (c->fd, SOL_SOCKET, SO_ERROR, &err, &l);
    if (err) {
      g_printerr ("noom-bench: connect: %s\n", g_strerror (err));
      client_kill (b, c);
      return;
    }
    b->n_connected++;
    epoll_ctl (b->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->state = C_HANDSHAKE;
    req = g_strdup_printf ("GET /socket.io/?EIO=4&transport=websocket "
        "HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: bm9vbS1iZW5jaC1rZXkhIQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n", b->host[c->node],
        b->port[c->node]);
    g_byte_array_append (c->out, (guint8 *) req, strlen (req));
    client_flush (b, c);
    return;
  }
  if (events & EPOLLOUT) {
    client_flush (b, c);
    if (c->state != C_DEAD && c->out->len == 0) {
      struct epoll_event ev = {.events = EPOLLIN,.data.ptr = c };
      epoll_ctl (b->ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
  }
  if (c->state != C_DEAD && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
    client_read (b, c);
}

/* Run the loop until @done returns TRUE or @timeout_s passes. */
static gboolean
run_until (Bench * b, gboolean (*done) (Bench *), gdouble timeout_s,
    void (*tick) (Bench *, gint64 now))
{
  struct epoll_event evs[256];
  gint64 deadline = now_ns () + (gint64) (timeout_s * 1e9);

  while (!done (b)) {
    gint i, n;
    gint64 now = now_ns ();
    if (now > deadline)
      return FALSE;
    if (tick)
      tick (b, now);
    n = epoll_wait (b->ep, evs, G_N_ELEMENTS (evs), tick ? 1 : 50);
    for (i = 0; i < n; i++)
      client_event (b, evs[i].data.ptr, evs[i].events);
  }
  return TRUE;
}

static gboolean
all_ready (Bench * b)
{
  return b->n_ready + b->n_failed >= b->ready_target;
}

static gboolean
all_joined (Bench * b)
{
  return b->n_joined + b->n_failed >= b->clients;
}

static gboolean
never (Bench * b)
{
  return FALSE;
}

/* ------------------------------------------------------------ chat phase */

static gint64 chat_start_ns, chat_end_ns;
static guint64 chat_next;

static void
chat_tick (Bench * b, gint64 now)
{
  /* send what the rate says is due by now; round-robin over clients */
  guint64 due = (guint64) ((now - chat_start_ns) / 1e9 * b->chat_rate);
  if (now > chat_end_ns)
    return;
  while (b->sent < due) {
    Client *c = &b->c[chat_next++ % b->clients];
    gchar msg[128];
    gint len;
    if (c->state != C_JOINED)
      continue;
    len = g_snprintf (msg, sizeof msg,
        "42%u[\"new_message\",\"b:%u:%" G_GINT64_FORMAT "\",\"r%u\"]",
        ++c->next_ack, c->node, now_ns (), c->room);
    client_send_text (b, c, msg, len);
    b->sent++;
  }
}

static gint
cmp_u32 (gconstpointer a, gconstpointer b)
{
  guint32 x = *(const guint32 *) a, y = *(const guint32 *) b;
  return x < y ? -1 : x > y;
}

static gdouble
percentile (GArray * a, gdouble p)
{
  if (a->len == 0)
    return 0;
  return g_array_index (a, guint32, (guint) MIN (a->len - 1,
          p / 100.0 * a->len)) / 1000.0;
}

int
main (int argc, char **argv)
{
  Bench bench = {.clients = 1000,.rooms = 100,.chat_rate = 0,
    .chat_seconds = 10,.idle_seconds = 2,.connect_batch = 500
  };
  Bench *b = &bench;
  g_auto (GStrv) urls = NULL;
  g_auto (GStrv) pids = NULL;
  GOptionEntry entries[] = {
    {"url", 'u', 0, G_OPTION_ARG_STRING_ARRAY, &urls,
          "Server to load (default http://127.0.0.1:8080); repeat it for the "
          "nodes of a cluster: client i connects to the (i mod N)th",
        "URL"},
    {"clients", 'n', 0, G_OPTION_ARG_INT, &b->clients,
        "Number of clients (default 1000)", "N"},
    {"rooms", 'r', 0, G_OPTION_ARG_INT, &b->rooms,
        "Number of rooms (default 100)", "R"},
    {"chat-rate", 0, 0, G_OPTION_ARG_DOUBLE, &b->chat_rate,
        "Chat messages sent per second, all clients together (default 0: "
          "no chat phase)", "RATE"},
    {"chat-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &b->chat_seconds,
        "Length of the chat phase (default 10)", "S"},
    {"idle-seconds", 0, 0, G_OPTION_ARG_DOUBLE, &b->idle_seconds,
        "Idle time before reading the server's memory (default 2)", "S"},
    {"no-join", 0, 0, G_OPTION_ARG_NONE, &b->no_join,
        "Connect only: no join storm and no chat (idle memory per connection "
          "of clients in no room)", NULL},
    {"server-pid", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &pids,
        "Server process to read memory and CPU from; repeatable (the "
          "figures add up)", "PID"},
    {"json", 'j', 0, G_OPTION_ARG_FILENAME, &b->json_path,
        "Also write the results as JSON to FILE (- for stdout)", "FILE"},
    {"label", 'l', 0, G_OPTION_ARG_STRING, &b->label,
        "Name of the server in the report", "NAME"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GUri) uri = NULL;
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM }, *ai;
  struct rlimit rl;
  gint64 rss0 = 0, rss1 = 0, rss2 = 0, t0, t1;
  gdouble cpu0 = 0, cpu1 = 0, cpu2 = 0, scpu1, scpu2;
  guint64 wake0 = 0, wake1 = 0, wake2 = 0;
  gdouble sys0 = 0, sys1 = 0, sys2 = 0;
  gdouble connect_s, join_s = 0, chat_s = 0;
  gint i;
  gboolean ok;

  ctx = g_option_context_new ("- load a Socket.IO v4 room server");
  g_option_context_set_summary (ctx,
      "Opens N WebSocket Socket.IO clients in R rooms (a connect storm and a "
      "join storm),\nmeasures the server's memory per connection, then "
      "chats at --chat-rate\nand reports deliveries per second and relay "
      "latency.");
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("noom-bench: %s\n", error->message);
    return 2;
  }
  if (b->clients < 1 || b->rooms < 1 || b->rooms > b->clients ||
      b->chat_rate < 0) {
    g_printerr ("noom-bench: need clients >= rooms >= 1 and chat-rate >= 0\n");
    return 2;
  }
  b->n_nodes = urls ? MIN (g_strv_length (urls), MAX_NODES) : 1;
  for (i = 0; i < (gint) b->n_nodes; i++) {
    g_autofree gchar *port = NULL;

    g_clear_pointer (&uri, g_uri_unref);
    uri = g_uri_parse (urls ? urls[i] : "http://127.0.0.1:8080",
        G_URI_FLAGS_NONE, &error);
    if (!uri || !g_uri_get_host (uri)) {
      g_printerr ("noom-bench: bad --url: %s\n",
          error ? error->message : "no host");
      return 2;
    }
    b->host[i] = g_strdup (g_uri_get_host (uri));
    b->port[i] = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 8080;
    port = g_strdup_printf ("%d", b->port[i]);
    if (getaddrinfo (b->host[i], port, &hints, &ai) != 0) {
      g_printerr ("noom-bench: cannot resolve %s\n", b->host[i]);
      return 1;
    }
    memcpy (&b->addr[i], ai->ai_addr, ai->ai_addrlen);
    b->addrlen[i] = ai->ai_addrlen;
    freeaddrinfo (ai);
  }
  b->server_pids = g_array_new (FALSE, FALSE, sizeof (gint));
  for (i = 0; pids && pids[i]; i++) {
    gint pid = atoi (pids[i]);

    if (pid <= 0) {
      g_printerr ("noom-bench: bad --server-pid %s\n", pids[i]);
      return 2;
    }
    g_array_append_val (b->server_pids, pid);
  }
  b->server_pid = b->server_pids->len ? g_array_index (b->server_pids, gint,
      0) : 0;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit (RLIMIT_NOFILE, &rl);
  }

  b->ep = epoll_create1 (0);
  b->c = g_new0 (Client, b->clients);
  b->lat_us = g_array_sized_new (FALSE, FALSE, sizeof (guint32), 1 << 20);
  b->lat_local_us = g_array_new (FALSE, FALSE, sizeof (guint32));
  b->lat_cross_us = g_array_new (FALSE, FALSE, sizeof (guint32));
  if (b->server_pid && !procs_read (b, &rss0, &cpu0, &sys0, &wake0)) {
    g_printerr ("noom-bench: cannot read /proc/%d\n", b->server_pid);
    return 1;
  }

  /* connect storm, in batches so the listen backlog is not overrun */
  t0 = now_ns ();
  for (i = 0; i < b->clients; i += b->connect_batch) {
    gint j;
    for (j = i; j < MIN (b->clients, i + b->connect_batch); j++) {
      b->c[j].room = j % b->rooms;
      /* Not j % n_nodes: with as many rooms as nodes every room would be
       * on one node. */
      b->c[j].node = (j / b->rooms) % b->n_nodes;
      client_connect (b, &b->c[j]);
    }
    b->ready_target = MIN (b->clients, i + b->connect_batch);
    if (!run_until (b, all_ready, 30, NULL))
      break;
  }
  b->ready_target = b->clients;
  ok = run_until (b, all_ready, 30, NULL);
  t1 = now_ns ();
  connect_s = (t1 - t0) / 1e9;
  if (!ok || b->n_failed) {
    g_printerr ("noom-bench: %d of %d clients connected (%d failed)\n",
        b->n_ready, b->clients, b->n_failed);
    if (b->n_ready == 0)
      return 1;
  }

  /* join storm */
  t0 = now_ns ();
  for (i = 0; i < b->clients && !b->no_join; i++) {
    Client *c = &b->c[i];
    gchar msg[96];
    gint len;
    if (c->state != C_READY)
      continue;
    len = g_snprintf (msg, sizeof msg, "420[\"enter_room\",\"r%u\"]", c->room);
    c->join_sent_ns = now_ns ();
    client_send_text (b, c, msg, len);
  }
  ok = b->no_join || run_until (b, all_joined, 120, NULL);
  t1 = now_ns ();
  join_s = (t1 - t0) / 1e9;
  if (!ok)
    g_printerr ("noom-bench: only %d of %d clients joined\n", b->n_joined,
        b->clients);

  /* idle: let the server settle, then read its memory */
  run_until (b, never, b->idle_seconds, NULL);
  if (b->server_pid)
    procs_read (b, &rss1, &cpu1, &sys1, &wake1);
  scpu1 = self_cpu ();

  /* chat */
  if (b->chat_rate > 0 && !b->no_join) {
    gdouble drain;
    chat_start_ns = now_ns ();
    chat_end_ns = chat_start_ns + (gint64) (b->chat_seconds * 1e9);
    run_until (b, never, b->chat_seconds, chat_tick);
    /* wait for stragglers: every message acked and delivered, or 5 s */
    drain = 0;
    while (drain < 5 && (b->acked < b->sent)) {
      run_until (b, never, 0.1, NULL);
      drain += 0.1;
    }
    run_until (b, never, 0.3, NULL);
    chat_s = (now_ns () - chat_start_ns) / 1e9;
  }
  if (b->server_pid)
    procs_read (b, &rss2, &cpu2, &sys2, &wake2);
  scpu2 = self_cpu ();

  /* every message goes to the other members of its room */
  {
    guint *members = g_new0 (guint, b->rooms);
    for (i = 0; i < b->clients; i++)
      if (b->c[i].state == C_JOINED)
        members[b->c[i].room]++;
    b->expected = 0;
    for (i = 0; i < b->clients; i++)
      if (b->c[i].state == C_JOINED)
        b->expected += (guint64) (members[b->c[i].room] - 1) * b->c[i].next_ack;
    g_free (members);
  }
  g_array_sort (b->lat_us, cmp_u32);
  g_array_sort (b->lat_local_us, cmp_u32);
  g_array_sort (b->lat_cross_us, cmp_u32);

  {
    gdouble deliv_s = chat_s > 0 ? b->delivered / chat_s : 0;
    gint n_conn = b->no_join ? b->n_ready : b->n_joined;
    gdouble per_conn = n_conn ? (rss1 - rss0) * 1024.0 / n_conn : 0;
    gdouble srv_cpu = cpu2 - cpu1, gen_cpu = scpu2 - scpu1;
    gdouble srv_sys = sys2 - sys1;
    gdouble us_per_msg = b->delivered ? srv_cpu * 1e6 / b->delivered : 0;
    gdouble sys_per_msg = b->delivered ? srv_sys * 1e6 / b->delivered : 0;
    /* per chat message sent, whatever its number of deliveries */
    gdouble wake_per_msg = b->sent ? (gdouble) (wake2 - wake1) / b->sent : 0;
    const gchar *label = b->label ? b->label : "server";

    g_print ("%-34s %s\n", "server", label);
    if (b->no_join)
      g_print ("%-34s %d connected, in no room (%d failed)\n", "clients",
          b->n_ready, b->n_failed);
    else
      g_print ("%-34s %d in %d rooms (%d failed)\n", "clients", b->n_joined,
          b->rooms, b->n_failed);
    g_print ("%-34s %.0f /s (%.2f s)\n", "connects", b->clients / connect_s,
        connect_s);
    if (!b->no_join)
      g_print ("%-34s %.0f /s (%.2f s)\n", "joins", b->n_joined / join_s,
          join_s);
    if (b->server_pid) {
      g_print ("%-34s %.1f MiB -> %.1f MiB\n", "server RSS before -> idle",
          rss0 / 1024.0, rss1 / 1024.0);
      g_print ("%-34s %.2f KiB\n", "server RSS per connection",
          per_conn / 1024);
    }
    if (b->chat_rate > 0) {
      g_print ("%-34s %" G_GUINT64_FORMAT " sent, %" G_GUINT64_FORMAT
          " acked\n", "chat messages", b->sent, b->acked);
      g_print ("%-34s %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
          " (%" G_GINT64_FORMAT " lost)\n", "deliveries", b->delivered,
          b->expected, (gint64) b->expected - (gint64) b->delivered);
      g_print ("%-34s %.0f /s\n", "delivered", deliv_s);
      g_print ("%-34s p50 %.2f  p99 %.2f  max %.2f ms\n", "relay latency",
          percentile (b->lat_us, 50), percentile (b->lat_us, 99),
          percentile (b->lat_us, 100));
      if (b->n_nodes > 1) {
        g_print ("%-34s p50 %.2f  p99 %.2f ms (%u)\n",
            "  within one node", percentile (b->lat_local_us, 50),
            percentile (b->lat_local_us, 99), b->lat_local_us->len);
        g_print ("%-34s p50 %.2f  p99 %.2f ms (%u)\n",
            "  across nodes", percentile (b->lat_cross_us, 50),
            percentile (b->lat_cross_us, 99), b->lat_cross_us->len);
      }
      if (b->server_pid)
        g_print ("%-34s %.2f s (%.2f us per delivery, %.2f of them in "
            "the kernel)\n", "server CPU", srv_cpu, us_per_msg, sys_per_msg);
      if (b->server_pid)
        g_print ("%-34s %.2f per message sent\n", "server wakeups",
            wake_per_msg);
      g_print ("%-34s %.2f s\n", "load generator CPU", gen_cpu);
    }

    if (b->json_path) {
      g_autofree gchar *json = g_strdup_printf ("{\"server\":\"%s\","
          "\"clients\":%d,\"connected\":%d,\"rooms\":%d,\"failed\":%d,"
          "\"connects_per_s\":%.1f,\"joins_per_s\":%.1f,"
          "\"rss_before_kib\":%" G_GINT64_FORMAT ",\"rss_idle_kib\":%"
          G_GINT64_FORMAT ",\"rss_per_connection_bytes\":%.0f,"
          "\"chat_rate\":%.1f,\"sent\":%" G_GUINT64_FORMAT ",\"acked\":%"
          G_GUINT64_FORMAT ",\"delivered\":%" G_GUINT64_FORMAT
          ",\"expected\":%" G_GUINT64_FORMAT ",\"delivered_per_s\":%.1f,"
          "\"latency_ms\":{\"p50\":%.3f,\"p99\":%.3f,\"max\":%.3f},"
          "\"server_cpu_s\":%.3f,\"server_us_per_delivery\":%.3f,"
          "\"server_sys_s\":%.3f,\"server_sys_us_per_delivery\":%.3f,"
          "\"server_wakeups_per_message\":%.3f,"
          "\"generator_cpu_s\":%.3f,\"nodes\":%u,"
          "\"latency_local_ms\":{\"p50\":%.3f,\"p99\":%.3f},"
          "\"latency_cross_ms\":{\"p50\":%.3f,\"p99\":%.3f}}\n", label,
          b->n_joined, b->n_ready, b->rooms,
          b->n_failed, b->clients / connect_s,
          join_s > 0 ? b->n_joined / join_s : 0, rss0,
          rss1, per_conn, b->chat_rate, b->sent, b->acked, b->delivered,
          b->expected, deliv_s, percentile (b->lat_us, 50),
          percentile (b->lat_us, 99), percentile (b->lat_us, 100), srv_cpu,
          us_per_msg, srv_sys, sys_per_msg, wake_per_msg, gen_cpu, b->n_nodes,
          percentile (b->lat_local_us, 50), percentile (b->lat_local_us, 99),
          percentile (b->lat_cross_us, 50), percentile (b->lat_cross_us, 99));
      if (g_strcmp0 (b->json_path, "-") == 0)
        g_print ("%s", json);
      else if (!g_file_set_contents (b->json_path, json, -1, &error)) {
        g_printerr ("noom-bench: %s\n", error->message);
        return 1;
      }
    }
  }
  return b->n_failed || b->delivered < b->expected ? 1 : 0;
}
