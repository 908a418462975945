/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-server: the Noom room server.  One SoupServer on one GMainLoop:
 * the web client over HTTP, Engine.IO/Socket.IO v4 at /socket.io/, the
 * rooms of docs/protocol.md.  See docs/server.md.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <netinet/in.h>

#include <glib-unix.h>
#include <libsoup/soup.h>

#include "noom-engine.h"
#include "noom-listener.h"
#include "noom-sio.h"
#include "noom-relay-link.h"
#include "noom-room-server.h"
#include "noom-http.h"
#include "noom-whip.h"
#include "noom-ice.h"
#include "noom-token.h"
#include "noom-metrics.h"

#define EXIT_USAGE 2
#define SHUTDOWN_GRACE_MS 2000

typedef struct
{
  GMainLoop *loop;
  NoomEngine *engine;
  NoomRelayLink *relay;         /* --sfu */
  NoomRoomServer *rooms;
  NoomCluster *cluster;         /* --redis */
  gint64 shutdown_deadline;
  guint shutdown_source;
  gboolean stopping;
} App;

/* Options, with their defaults */
static gchar *opt_host = NULL;
static gint opt_port = 8080;
static gchar *opt_tls_cert = NULL;
static gchar *opt_tls_key = NULL;
static gchar **opt_ice_servers = NULL;
static gchar *opt_turn_secret = NULL;
static gint opt_turn_ttl = 86400;
static gint opt_max_room_size = -1;     /* 16, or 500 with --sfu */
static gint opt_ping_interval = 25000;
static gint opt_ping_timeout = 20000;
static gint64 opt_max_payload = 1000000;
static gint opt_max_room_name = NOOM_ROOM_DEFAULT_MAX_ROOM_NAME;
static gint opt_max_nickname = NOOM_ROOM_DEFAULT_MAX_NICKNAME;
static gint opt_max_message = NOOM_ROOM_DEFAULT_MAX_MESSAGE;
static gint opt_rate_limit = 50;
static gint opt_rate_burst = 200;
static gchar *opt_static_dir = NULL;
static gchar *opt_token_secret = NULL;
static gboolean opt_private_rooms = FALSE;
static gboolean opt_public_rooms = FALSE;
static gchar **opt_allowed_origins = NULL;
static gint opt_max_per_address = 64;
static gboolean opt_limit_loopback = FALSE;
static gint opt_handshake_timeout = 5;
static gint opt_header_timeout = 10;
static gint opt_idle_timeout = 60;
static gboolean opt_sfu = FALSE;
static gchar *opt_relay = NULL;
static gchar **opt_relay_args = NULL;
static gint opt_max_publishers = -1;
static gboolean opt_version = FALSE;
static gchar *opt_redis = NULL;
static gint opt_metrics_port = 0;
static gchar *opt_node_id = NULL;

static GOptionEntry entries[] = {
  {"host", 0, 0, G_OPTION_ARG_STRING, &opt_host,
      "Address or host name to listen on (default: every address)", "HOST"},
  {"port", 'p', 0, G_OPTION_ARG_INT, &opt_port,
      "TCP port (default 8080; 0 picks a free one)", "PORT"},
  {"tls-cert", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_cert,
        "PEM certificate (chain): serve https and wss (needs --tls-key)",
      "FILE"},
  {"tls-key", 0, 0, G_OPTION_ARG_FILENAME, &opt_tls_key,
      "PEM private key of --tls-cert", "FILE"},
  {"ice-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_ice_servers,
      "ICE server handed to clients, stun:, stuns:, turn: or turns: URL "
        "(repeatable; default none)", "URL"},
  {"turn-secret", 0, 0, G_OPTION_ARG_STRING, &opt_turn_secret,
      "Shared secret of the TURN server (coturn use-auth-secret); "
        "default $NOOM_TURN_SECRET", "SECRET"},
  {"turn-ttl", 0, 0, G_OPTION_ARG_INT, &opt_turn_ttl,
      "Lifetime of TURN credentials in seconds (default 86400)", "SECONDS"},
  {"max-room-size", 0, 0, G_OPTION_ARG_INT, &opt_max_room_size,
      "Participants per room (default 16; 500 with --sfu)", "N"},
  {"ping-interval", 0, 0, G_OPTION_ARG_INT, &opt_ping_interval,
      "Engine.IO ping interval in ms (default 25000)", "MS"},
  {"ping-timeout", 0, 0, G_OPTION_ARG_INT, &opt_ping_timeout,
      "Engine.IO ping timeout in ms (default 20000)", "MS"},
  {"max-payload", 0, 0, G_OPTION_ARG_INT64, &opt_max_payload,
        "Largest Engine.IO packet or polling body in bytes (default 1000000)",
      "BYTES"},
  {"max-room-name", 0, 0, G_OPTION_ARG_INT, &opt_max_room_name,
      "Longest room name in characters (default 64)", "N"},
  {"max-nickname", 0, 0, G_OPTION_ARG_INT, &opt_max_nickname,
      "Longest nickname in characters (default 32)", "N"},
  {"max-message", 0, 0, G_OPTION_ARG_INT, &opt_max_message,
      "Longest chat message in bytes (default 4096)", "BYTES"},
  {"rate-limit", 0, 0, G_OPTION_ARG_INT, &opt_rate_limit,
      "Events per second a connection may send, sustained (default 50)", "N"},
  {"rate-burst", 0, 0, G_OPTION_ARG_INT, &opt_rate_burst,
      "Events a connection may send in a burst (default 200)", "N"},
  {"static-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_static_dir,
      "Serve the web client from this directory instead of the built-in "
        "copy (development)", "DIR"},
  {"token-secret", 0, 0, G_OPTION_ARG_FILENAME, &opt_token_secret,
        "Joining needs a token (JWT HS256) signed with the secret in FILE",
      "FILE"},
  {"private-rooms", 0, 0, G_OPTION_ARG_NONE, &opt_private_rooms,
      "Hide the list of open rooms: a room is reached by its link only "
        "(the default with --token-secret)", NULL},
  {"public-rooms", 0, 0, G_OPTION_ARG_NONE, &opt_public_rooms,
      "With --token-secret: show the list of open rooms to clients whose "
        "token admits to any room (\"*\")", NULL},
  {"allowed-origin", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_allowed_origins,
      "Origin browsers may connect from, e.g. https://noom.example.org "
        "(repeatable; default any)", "ORIGIN"},
  {"max-connections-per-address", 0, 0, G_OPTION_ARG_INT,
        &opt_max_per_address,
      "Sessions one client address may have open, and twice as many TCP "
        "connections (default 64; 0: no limit; loopback exempt)", "N"},
  {"limit-loopback", 0, 0, G_OPTION_ARG_NONE, &opt_limit_loopback,
        "Apply --max-connections-per-address to loopback addresses too",
      NULL},
  {"handshake-timeout", 0, 0, G_OPTION_ARG_INT, &opt_handshake_timeout,
      "Seconds a TLS connection has to finish its handshake once its first "
        "bytes came (default 5)", "SECONDS"},
  {"header-timeout", 0, 0, G_OPTION_ARG_INT, &opt_header_timeout,
      "Seconds a connection has to send a complete request once it "
        "opened or its next request began (default 10)", "SECONDS"},
  {"idle-timeout", 0, 0, G_OPTION_ARG_INT, &opt_idle_timeout,
      "Seconds a kept-alive connection may wait between requests "
        "(default 60)", "SECONDS"},
  {"sfu", 0, 0, G_OPTION_ARG_NONE, &opt_sfu,
      "Forward the media of every room through the server's media relay "
        "(noom-relay) instead of peer to peer", NULL},
  {"relay", 0, 0, G_OPTION_ARG_FILENAME, &opt_relay,
      "The media relay to start with --sfu (default: noom-relay next to "
        "noom-server, then in $PATH)", "PATH"},
  {"relay-arg", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opt_relay_args,
      "An argument for the media relay (repeatable)", "ARG"},
  {"max-publishers", 0, 0, G_OPTION_ARG_INT, &opt_max_publishers,
        "With --sfu: participants per room that send media (default 16)",
      "N"},
  {"redis", 0, 0, G_OPTION_ARG_STRING, &opt_redis,
      "Share the rooms with the other nodes of this Redis "
        "(redis://[user:pass@]host[:port][/db])", "URL"},
  {"node-id", 0, 0, G_OPTION_ARG_STRING, &opt_node_id,
        "With --redis: this node's name (default: a new one per process)",
      "ID"},
  {"metrics-port", 0, 0, G_OPTION_ARG_INT, &opt_metrics_port,
      "Serve GET /metrics on this port too (plain HTTP, same host; "
        "default: only on the main port)", "PORT"},
  {"version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
      "Print the version and exit", NULL},
  {NULL}
};

static gboolean
check_range (const gchar * name, gint64 value, gint64 min, gint64 max,
    GError ** error)
{
  if (value >= min && value <= max)
    return TRUE;
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
      "--%s %" G_GINT64_FORMAT ": must be between %" G_GINT64_FORMAT
      " and %" G_GINT64_FORMAT, name, value, min, max);
  return FALSE;
}

static gboolean
check_options (GError ** error)
{
  if (!opt_sfu && (opt_relay || opt_relay_args || opt_max_publishers != -1)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--relay, --relay-arg and --max-publishers go with --sfu");
    return FALSE;
  }
  if (opt_private_rooms && opt_public_rooms) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--private-rooms and --public-rooms exclude each other");
    return FALSE;
  }
  if (opt_public_rooms && opt_token_secret == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--public-rooms goes with --token-secret (without it the list is "
        "public already)");
    return FALSE;
  }
  if (opt_max_room_size == -1)
    opt_max_room_size = opt_sfu ? NOOM_ROOM_DEFAULT_SFU_MAX_ROOM_SIZE :
        NOOM_ROOM_DEFAULT_MAX_ROOM_SIZE;
  if (opt_max_publishers == -1)
    opt_max_publishers = NOOM_ROOM_DEFAULT_MAX_PUBLISHERS;
  if (!check_range ("port", opt_port, 0, 65535, error)
      || !check_range ("metrics-port", opt_metrics_port, 0, 65535, error)
      || !check_range ("turn-ttl", opt_turn_ttl, 1, 30 * 86400, error)
      || !check_range ("max-room-size", opt_max_room_size, 1, 100000, error)
      || !check_range ("ping-interval", opt_ping_interval, 10, 3600000, error)
      || !check_range ("ping-timeout", opt_ping_timeout, 10, 3600000, error)
      || !check_range ("max-payload", opt_max_payload, 1024, 100000000, error)
      || !check_range ("max-room-name", opt_max_room_name, 1, 4096, error)
      || !check_range ("max-nickname", opt_max_nickname, 1, 4096, error)
      || !check_range ("max-message", opt_max_message, 1, 100000000, error)
      || !check_range ("rate-limit", opt_rate_limit, 1, 1000000, error)
      || !check_range ("rate-burst", opt_rate_burst, 1, 1000000, error)
      || !check_range ("max-connections-per-address", opt_max_per_address, 0,
          10000000, error)
      || !check_range ("handshake-timeout", opt_handshake_timeout, 1, 3600,
          error)
      || !check_range ("header-timeout", opt_header_timeout, 1, 3600, error)
      || !check_range ("idle-timeout", opt_idle_timeout, 1, 86400, error)
      || !check_range ("max-publishers", opt_max_publishers, 1, 100000, error))
    return FALSE;
  for (gchar ** o = opt_allowed_origins; o && *o; o++) {
    /* What a browser sends: scheme://host[:port], nothing after. */
    g_autoptr (GUri) uri = g_uri_parse (*o, G_URI_FLAGS_NONE, NULL);

    if (uri == NULL || g_uri_get_host (uri) == NULL
        || (g_strcmp0 (g_uri_get_scheme (uri), "http") != 0
            && g_strcmp0 (g_uri_get_scheme (uri), "https") != 0)
        || *g_uri_get_path (uri) != '\0' || g_uri_get_query (uri)
        || g_uri_get_fragment (uri) || g_uri_get_userinfo (uri)) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--allowed-origin %s: not an origin (scheme://host[:port], "
          "no trailing slash)", *o);
      return FALSE;
    }
  }
  if ((opt_tls_cert == NULL) != (opt_tls_key == NULL)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--tls-cert and --tls-key go together");
    return FALSE;
  }
  if (opt_host && *opt_host == '\0') {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--host: empty host");
    return FALSE;
  }
  if (opt_static_dir && !g_file_test (opt_static_dir, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--static-dir %s: not a directory", opt_static_dir);
    return FALSE;
  }
  if (opt_node_id && !opt_redis) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--node-id needs --redis");
    return FALSE;
  }
  /* It goes into Redis keys and channel names, and into log lines. */
  if (opt_node_id && (*opt_node_id == '\0' || strlen (opt_node_id) > 64
          || strspn (opt_node_id, "abcdefghijklmnopqrstuvwxyz"
              "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") !=
          strlen (opt_node_id))) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--node-id %s: 1 to 64 letters, digits, '.', '_' or '-'", opt_node_id);
    return FALSE;
  }
  return TRUE;
}

/* --sfu: the relay's command line, or NULL (@error set) when there is no
 * relay to start. */
static gchar **
relay_argv (GError ** error)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree gchar *path = NULL;

  if (opt_relay == NULL) {
    path = noom_relay_link_find_default ();
    if (path == NULL) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--sfu: no noom-relay next to noom-server nor in $PATH "
          "(give --relay PATH)");
      return NULL;
    }
  } else if (strchr (opt_relay, '/') == NULL) {
    path = g_find_program_in_path (opt_relay);
  } else if (g_file_test (opt_relay, G_FILE_TEST_IS_EXECUTABLE)
      && !g_file_test (opt_relay, G_FILE_TEST_IS_DIR)) {
    path = g_strdup (opt_relay);
  }
  if (path == NULL) {
    g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
        "--relay %s: not an executable", opt_relay);
    return NULL;
  }
  g_strv_builder_add (builder, path);
  if (opt_relay_args)
    g_strv_builder_addv (builder, (const gchar **) opt_relay_args);
  return g_strv_builder_end (builder);
}

/* The kernel's accept queue must absorb connect storms (10,000 clients
 * reconnecting after a restart): GLib's default backlog of 10 would drop
 * SYNs and make clients retry after seconds.  The kernel clamps it to
 * net.core.somaxconn. */
#define LISTEN_BACKLOG 4096

/* The line tests and scripts wait for, as libsoup's URIs would print. */
static void
print_uri (GInetAddress * address, guint port)
{
  g_autofree gchar *host = g_inet_address_to_string (address);
  gboolean v6 = g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6;

  printf ("noom-server: listening on %s://%s%s%s:%u\n",
      opt_tls_cert ? "https" : "http", v6 ? "[" : "", host, v6 ? "]" : "",
      port);
  fflush (stdout);
}

/* Bind and listen on @address:@port; returns the port actually bound. */
static gboolean
listen_address (NoomListener * listener, GInetAddress * address,
    guint * port, GError ** error)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) sa = NULL;
  g_autoptr (GSocketAddress) bound = NULL;
  GSocketFamily family = g_inet_address_get_family (address);

  socket = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
      error);
  if (socket == NULL)
    return FALSE;
  /* IPv4 and IPv6 get a socket each. */
  if (family == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
    return FALSE;
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  sa = g_inet_socket_address_new (address, *port);
  if (!g_socket_bind (socket, sa, TRUE, error)
      || !g_socket_listen (socket, error))
    return FALSE;
  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return FALSE;
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  /* We accept, not libsoup: see noom-listener.c. */
  noom_listener_add_socket (listener, socket);
  print_uri (address, *port);
  return TRUE;
}

static gboolean
listen_on (NoomListener * listener, GError ** error)
{
  g_autolist (GInetAddress) addresses = NULL;
  guint port = opt_port, n_ok = 0;
  GList *l;

  if (opt_host == NULL) {
    addresses = g_list_append (addresses,
        g_inet_address_new_any (G_SOCKET_FAMILY_IPV4));
    addresses = g_list_append (addresses,
        g_inet_address_new_any (G_SOCKET_FAMILY_IPV6));
  } else if (strcmp (opt_host, "localhost") == 0) {
    addresses = g_list_append (addresses,
        g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4));
    addresses = g_list_append (addresses,
        g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6));
  } else {
    GInetAddress *address = g_inet_address_new_from_string (opt_host);

    if (address)
      addresses = g_list_append (addresses, address);
    else
      addresses = g_resolver_lookup_by_name (g_resolver_get_default (),
          opt_host, NULL, error);
    if (addresses == NULL)
      return FALSE;
  }

  /* With --port 0 every address gets the port the first one was given.
   * An address family the machine lacks (no IPv6) is skipped as long as
   * one address works. */
  for (l = addresses; l; l = l->next) {
    g_autoptr (GError) local_error = NULL;

    if (listen_address (listener, l->data, &port, &local_error))
      n_ok++;
    else if (l->next == NULL && n_ok == 0) {
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    } else {
      g_autofree gchar *name = g_inet_address_to_string (l->data);

      g_debug ("not listening on %s: %s", name, local_error->message);
    }
  }
  return n_ok > 0;
}

static gboolean
shutdown_poll (gpointer data)
{
  App *app = data;

  /* The close packets are queued; wait until the transports have written
   * them (every session gone), and the relay has stopped, or the grace
   * period is over. */
  if ((noom_engine_get_n_sockets (app->engine) == 0
          && (app->relay == NULL || !noom_relay_link_is_running (app->relay)))
      || g_get_monotonic_time () >= app->shutdown_deadline) {
    app->shutdown_source = 0;
    g_main_loop_quit (app->loop);
    return G_SOURCE_REMOVE;
  }
  return G_SOURCE_CONTINUE;
}

static gboolean
on_signal (gpointer data)
{
  App *app = data;

  if (app->stopping) {
    /* A second signal: stop waiting. */
    g_main_loop_quit (app->loop);
    return G_SOURCE_CONTINUE;
  }
  app->stopping = TRUE;
  g_message ("shutting down: closing %u connection(s)",
      noom_engine_get_n_sockets (app->engine));
  /* The other nodes see our participants leave now, not when our
   * heartbeat expires. */
  noom_cluster_stop (app->cluster);
  noom_room_server_stop (app->rooms);
  noom_engine_close_all (app->engine);
  if (app->relay)
    noom_relay_link_stop (app->relay);
  app->shutdown_deadline = g_get_monotonic_time () +
      SHUTDOWN_GRACE_MS * (gint64) 1000;
  app->shutdown_source = g_timeout_add (10, shutdown_poll, app);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------ /metrics, /healthz */

static void
write_metrics (App * app, GString * out)
{
  gchar num[G_ASCII_DTOSTR_BUF_SIZE];
  guint polling, websocket;

  noom_room_server_write_metrics (app->rooms, out);
  noom_engine_count_transports (app->engine, &polling, &websocket);
  noom_metrics_header (out, "noom_connections", "gauge",
      "Open Engine.IO sessions, by transport.");
  g_string_append_printf (out, "noom_connections{transport=\"polling\"} %u\n"
      "noom_connections{transport=\"websocket\"} %u\n", polling, websocket);
  if (app->cluster) {
    gdouble ms = noom_cluster_get_latency_ms (app->cluster);

    noom_metrics_header (out, "noom_redis_up", "gauge",
        "1 when this node is connected to Redis and in step with the "
        "cluster (--redis).");
    g_string_append_printf (out, "noom_redis_up %d\n",
        noom_cluster_is_up (app->cluster) ? 1 : 0);
    if (ms >= 0) {
      noom_metrics_header (out, "noom_redis_latency_seconds", "gauge",
          "Round trip of the last heartbeat script to Redis, the hop every "
          "cross-node relay takes.");
      g_string_append_printf (out, "noom_redis_latency_seconds %s\n",
          g_ascii_dtostr (num, sizeof (num), ms / 1000.0));
    }
    noom_cluster_write_metrics (app->cluster, out);
  }
  if (app->relay) {
    noom_metrics_header (out, "noom_sfu_relay_up", "gauge",
        "1 when the media relay (--sfu) is running and said ready.");
    g_string_append_printf (out, "noom_sfu_relay_up %d\n",
        noom_relay_link_is_ready (app->relay) ? 1 : 0);
    noom_room_server_write_sfu_metrics (app->rooms, out,
        noom_relay_link_is_ready (app->relay));
  }
  noom_metrics_process (out);
}

static gboolean
only_get (SoupServerMessage * msg)
{
  const gchar *method = soup_server_message_get_method (msg);

  if (strcmp (method, "GET") == 0 || strcmp (method, "HEAD") == 0)
    return TRUE;
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Allow", "GET, HEAD");
  soup_server_message_set_status (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, NULL);
  return FALSE;
}

static void
on_metrics (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  g_autoptr (GString) out = g_string_sized_new (4096);

  if (!only_get (msg))
    return;
  if (strcmp (path, "/metrics") != 0) {
    soup_server_message_set_status (msg, SOUP_STATUS_NOT_FOUND, NULL);
    return;
  }
  write_metrics (user_data, out);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, NOOM_METRICS_CONTENT_TYPE,
      SOUP_MEMORY_COPY, out->str, out->len);
}

/* With --redis (or ?full=1): {"status":"ok"|"degraded","redis","relay"},
 * 503 when degraded: a node that cannot admit joins should get no new
 * clients from the load balancer.  Otherwise "ok" as before. */
static void
on_healthz (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  App *app = user_data;
  const gchar *redis = "off", *relay = "off";
  g_autofree gchar *body = NULL;
  gboolean ok = TRUE;

  if (!only_get (msg))
    return;
  if (app->cluster == NULL && (query == NULL
          || !g_hash_table_contains (query, "full"))) {
    soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
    soup_server_message_set_response (msg, "text/plain; charset=utf-8",
        SOUP_MEMORY_STATIC, "ok", 2);
    return;
  }
  if (app->cluster) {
    ok = noom_cluster_is_up (app->cluster);
    redis = ok ? "up" : "down";
  }
  if (app->relay) {
    gboolean ready = noom_relay_link_is_ready (app->relay);

    relay = ready ? "ready" : "restarting";
    ok = ok && ready;
  }
  body = g_strdup_printf ("{\"status\":\"%s\",\"redis\":\"%s\","
      "\"relay\":\"%s\"}\n", ok ? "ok" : "degraded", redis, relay);
  soup_server_message_set_status (msg, ok ? SOUP_STATUS_OK :
      SOUP_STATUS_SERVICE_UNAVAILABLE, NULL);
  soup_server_message_set_response (msg, "application/json",
      SOUP_MEMORY_COPY, body, strlen (body));
}

/* noom-server rooms --redis URL [--remove ID] [--json] */
static int
rooms_main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url = NULL;
  g_autofree gchar *remove = NULL;
  gboolean json = FALSE;
  GOptionEntry rooms_entries[] = {
    {"redis", 0, 0, G_OPTION_ARG_STRING, &url,
        "The cluster's Redis (as for noom-server --redis)", "URL"},
    {"remove", 0, 0, G_OPTION_ARG_STRING, &remove,
        "Disconnect this participant (an id), wherever it is connected", "ID"},
    {"json", 0, 0, G_OPTION_ARG_NONE, &json,
        "Print the rooms as JSON", NULL},
    {NULL}
  };

  context = g_option_context_new ("- the rooms of a cluster of noom-servers");
  g_option_context_add_main_entries (context, rooms_entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("noom-server rooms: %s\n", error->message);
    return EXIT_USAGE;
  }
  if (url == NULL) {
    g_printerr ("noom-server rooms: --redis URL is required\n");
    return EXIT_USAGE;
  }
  return noom_cluster_admin (url, remove, json);
}

/* noom-server token --secret FILE --room ROOM --identity ID --can ...
 * Prints a token on stdout. */
static int
token_main (int argc, char **argv)
{
  g_autofree gchar *secret_file = NULL;
  g_autofree gchar *room = NULL;
  g_autofree gchar *identity = NULL;
  g_autofree gchar *can_text = NULL;
  gint64 ttl = 3600;
  GOptionEntry token_entries[] = {
    {"secret", 0, 0, G_OPTION_ARG_FILENAME, &secret_file,
        "File holding the secret (as given to --token-secret)", "FILE"},
    {"room", 0, 0, G_OPTION_ARG_STRING, &room,
        "Room the token admits to, or \"*\" for any", "ROOM"},
    {"identity", 0, 0, G_OPTION_ARG_STRING, &identity,
        "Identity (the sub claim; the nickname when none is given)", "ID"},
    {"can", 0, 0, G_OPTION_ARG_STRING, &can_text,
        "Permissions, comma separated: publish, subscribe, record, chat "
          "(default publish,subscribe,chat)", "LIST"},
    {"ttl", 0, 0, G_OPTION_ARG_INT64, &ttl,
        "Lifetime in seconds (default 3600)", "SECONDS"},
    {NULL}
  };
  g_autoptr (GOptionContext) context = g_option_context_new
      ("- mint a room token");
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) secret = NULL;
  g_autofree gchar *token = NULL;
  guint can = NOOM_TOKEN_CAN_PUBLISH | NOOM_TOKEN_CAN_SUBSCRIBE |
      NOOM_TOKEN_CAN_CHAT;

  g_option_context_add_main_entries (context, token_entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("noom-server token: %s\n", error->message);
    return EXIT_USAGE;
  }
  if (argc > 1 || secret_file == NULL || room == NULL || identity == NULL) {
    g_printerr ("noom-server token: --secret, --room and --identity are "
        "required\nTry \"noom-server token --help\".\n");
    return EXIT_USAGE;
  }
  if (*room == '\0' || !g_utf8_validate (room, -1, NULL)
      || !g_utf8_validate (identity, -1, NULL)) {
    g_printerr ("noom-server token: --room and --identity must be "
        "non-empty UTF-8 text\n");
    return EXIT_USAGE;
  }
  if (ttl < 1 || ttl > 366 * 86400) {
    g_printerr ("noom-server token: --ttl %" G_GINT64_FORMAT
        ": must be between 1 and %d\n", ttl, 366 * 86400);
    return EXIT_USAGE;
  }
  if (can_text && !noom_token_can_from_string (can_text, &can, &error)) {
    g_printerr ("noom-server token: --can: %s\n", error->message);
    return EXIT_USAGE;
  }
  secret = noom_token_secret_load (secret_file, &error);
  if (secret == NULL) {
    g_printerr ("noom-server token: --secret %s\n", error->message);
    return EXIT_USAGE;
  }
  token = noom_token_mint (secret, room, identity, can,
      g_get_real_time () / G_USEC_PER_SEC + ttl);
  printf ("%s\n", token);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupServer) server = NULL;
  g_autoptr (SoupServer) metrics_server = NULL;
  g_autoptr (GTlsCertificate) cert = NULL;
  NoomIceConfig *ice = NULL;
  NoomEngineConfig engine_config;
  NoomRoomServerConfig room_config;
  NoomSioServer *sio;
  NoomRoomServer *rooms;
  NoomHttp *http;
  NoomWhipConfig whip_config = { 0, };
  NoomWhip *whip;
  App app = { 0 };
  g_autoptr (GBytes) token_secret = NULL;
  NoomListenerConfig listener_config;
  NoomListener *listener;
  const gchar *env_secret;
  g_auto (GStrv) relay_command = NULL;

  noom_metrics_init ();
  if (argc > 1 && strcmp (argv[1], "token") == 0)
    return token_main (argc - 1, argv + 1);
  if (argc > 1 && strcmp (argv[1], "rooms") == 0)
    return rooms_main (argc - 1, argv + 1);

  context = g_option_context_new ("- the Noom room server");
  g_option_context_set_summary (context,
      "Serves the Noom web client and the rooms of the Noom protocol\n"
      "(Socket.IO v4 at /socket.io/) on one HTTP port.  The protocol and\n"
      "this server are described in " NOOM_DOCDIR "/protocol.md and\n"
      NOOM_DOCDIR "/server.md.\n\n"
      "noom-server token --secret FILE --room ROOM --identity ID "
      "[--can LIST] [--ttl SECONDS]\n  prints a token for --token-secret "
      "(see noom-server token --help).\n"
      "noom-server rooms --redis URL [--remove ID] [--json]\n  lists the "
      "rooms of a cluster, or removes a participant.");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error)) {
    g_printerr ("noom-server: %s\nTry \"noom-server --help\".\n",
        error->message);
    return EXIT_USAGE;
  }
  if (opt_version) {
    printf ("noom-server %s\n", PACKAGE_VERSION);
    return 0;
  }
  if (argc > 1) {
    g_printerr ("noom-server: unexpected argument \"%s\"\n"
        "Try \"noom-server --help\".\n", argv[1]);
    return EXIT_USAGE;
  }
  env_secret = g_getenv ("NOOM_TURN_SECRET");
  if (opt_turn_secret == NULL && env_secret && *env_secret)
    opt_turn_secret = g_strdup (env_secret);
  if (!check_options (&error)) {
    g_printerr ("noom-server: %s\n", error->message);
    return EXIT_USAGE;
  }
  if (opt_token_secret) {
    token_secret = noom_token_secret_load (opt_token_secret, &error);
    if (token_secret == NULL) {
      g_printerr ("noom-server: --token-secret %s\n", error->message);
      return EXIT_USAGE;
    }
  }
  ice = noom_ice_config_new ((const gchar * const *) opt_ice_servers,
      opt_turn_secret, opt_turn_ttl, &error);
  if (ice == NULL) {
    g_printerr ("noom-server: %s\n", error->message);
    return EXIT_USAGE;
  }
  if (opt_sfu) {
    relay_command = relay_argv (&error);
    if (relay_command == NULL) {
      g_printerr ("noom-server: %s\n", error->message);
      noom_ice_config_free (ice);
      return EXIT_USAGE;
    }
  }
  if (opt_tls_cert) {
    cert = g_tls_certificate_new_from_files (opt_tls_cert, opt_tls_key, &error);
    if (cert == NULL) {
      g_printerr ("noom-server: --tls-cert %s / --tls-key %s: %s\n",
          opt_tls_cert, opt_tls_key, error->message);
      noom_ice_config_free (ice);
      return EXIT_USAGE;
    }
  }

  /* Writing to a client that went away must not kill the server. */
  signal (SIGPIPE, SIG_IGN);

  server = soup_server_new ("server-header", "noom-server ", NULL);

  noom_engine_config_init (&engine_config);
  engine_config.ping_interval_ms = opt_ping_interval;
  engine_config.ping_timeout_ms = opt_ping_timeout;
  engine_config.max_payload = opt_max_payload;
  engine_config.allowed_origins = (const gchar * const *) opt_allowed_origins;
  engine_config.max_per_address = opt_max_per_address;
  engine_config.limit_loopback = opt_limit_loopback;
  sio = noom_sio_server_new (server, "/socket.io/", &engine_config);

  noom_room_server_config_init (&room_config);
  room_config.limits.max_room_size = opt_max_room_size;
  room_config.limits.max_room_name = opt_max_room_name;
  room_config.limits.max_nickname = opt_max_nickname;
  room_config.limits.max_message = opt_max_message;
  room_config.rate_limit = opt_rate_limit;
  room_config.rate_burst = opt_rate_burst;
  room_config.ice = ice;
  room_config.token_secret = token_secret;
  room_config.private_rooms = opt_private_rooms
      || (token_secret != NULL && !opt_public_rooms);
  room_config.limit_loopback = opt_limit_loopback;
  if (relay_command) {
    /* A line of the control channel is at most one packet's worth. */
    app.relay = noom_relay_link_new ((const gchar * const *) relay_command,
        opt_max_payload);
    room_config.relay = app.relay;
    room_config.max_publishers = opt_max_publishers;
  }
  if (opt_redis) {
    app.cluster = noom_cluster_new (opt_redis, opt_node_id, &error);
    if (app.cluster == NULL) {
      g_printerr ("noom-server: %s\n", error->message);
      return EXIT_USAGE;
    }
    room_config.cluster = app.cluster;
  }
  rooms = noom_room_server_new (sio, &room_config);
  http = noom_http_new (server, opt_static_dir);
  whip_config.ice = ice;
  whip_config.token_secret = token_secret;
  whip_config.allowed_origins = (const gchar * const *) opt_allowed_origins;
  whip_config.sfu = app.relay != NULL;
  whip = noom_whip_new (server, rooms, &whip_config);

  noom_listener_config_init (&listener_config);
  /* N sessions may need 2N connections: a polling session has its held
   * GET and a POST open at once, and a browser opens its WebSocket before
   * the polling connections are gone.  The sessions themselves are
   * counted by the engine (403 over N). */
  listener_config.max_per_address = opt_max_per_address > G_MAXINT / 2 ?
      G_MAXINT : opt_max_per_address * 2;
  listener_config.limit_loopback = opt_limit_loopback;
  listener_config.handshake_timeout_ms = opt_handshake_timeout * 1000;
  listener_config.header_timeout_ms = opt_header_timeout * 1000;
  listener_config.idle_timeout_ms = opt_idle_timeout * 1000;
  listener_config.certificate = cert;
  listener = noom_listener_new (server, &listener_config, &error);
  if (listener == NULL || !listen_on (listener, &error)) {
    g_printerr ("noom-server: cannot listen on %s:%d: %s\n",
        opt_host ? opt_host : "*", opt_port, error->message);
    return 1;
  }

  if (app.relay && !noom_relay_link_start (app.relay, &error)) {
    g_printerr ("noom-server: cannot start the relay %s: %s\n",
        relay_command[0], error->message);
    return 1;
  }

  app.loop = g_main_loop_new (NULL, FALSE);
  app.engine = noom_sio_server_get_engine (sio);
  app.rooms = rooms;
  soup_server_add_handler (server, "/metrics", on_metrics, &app, NULL);
  soup_server_add_handler (server, "/healthz", on_healthz, &app, NULL);
  if (opt_metrics_port) {
    g_autoptr (GInetAddress) host = opt_host ?
        g_inet_address_new_from_string (opt_host) : NULL;
    gboolean listening;

    metrics_server = soup_server_new ("server-header", "noom-server ", NULL);
    soup_server_add_handler (metrics_server, "/metrics", on_metrics, &app,
        NULL);
    /* The main port's --host: an address, localhost, or every address. */
    if (host) {
      g_autoptr (GSocketAddress) address =
          g_inet_socket_address_new (host, opt_metrics_port);

      listening = soup_server_listen (metrics_server, address, 0, &error);
    } else if (g_strcmp0 (opt_host, "localhost") == 0) {
      listening = soup_server_listen_local (metrics_server, opt_metrics_port,
          0, &error);
    } else {
      listening = soup_server_listen_all (metrics_server, opt_metrics_port, 0,
          &error);
    }
    if (!listening) {
      g_printerr ("noom-server: cannot listen on --metrics-port %d: %s\n",
          opt_metrics_port, error->message);
      return 1;
    }
    g_message ("metrics on port %d", opt_metrics_port);
  }
  g_unix_signal_add (SIGINT, on_signal, &app);
  g_unix_signal_add (SIGTERM, on_signal, &app);
  g_main_loop_run (app.loop);

  g_clear_handle_id (&app.shutdown_source, g_source_remove);
  soup_server_disconnect (server);
  noom_listener_free (listener);
  noom_sio_server_free (sio);
  noom_whip_free (whip);
  noom_cluster_free (app.cluster);
  noom_room_server_free (rooms);
  noom_relay_link_free (app.relay);
  noom_http_free (http);
  noom_ice_config_free (ice);
  g_main_loop_unref (app.loop);
  g_message ("stopped");
  return 0;
}
