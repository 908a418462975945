/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-listener with a SoupServer and raw client sockets in the same
 * process: the per-address count at accept, the header timeout, the idle
 * timeout, and a kept-alive connection the client closes.  The client
 * sockets never block the main loop (MSG_DONTWAIT); every wait has a
 * deadline.  The TLS path is covered by tests/server/connections.test.mjs.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include <libsoup/soup.h>

#include "noom-listener.h"

#define DEADLINE_MS 10000

typedef struct
{
  SoupServer *server;
  NoomListener *listener;
  guint16 port;
} Fixture;

static gboolean
deadline_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

#define WAIT_FOR(cond) G_STMT_START {                                   \
    gboolean expired_ = FALSE;                                          \
    guint id_ = g_timeout_add (DEADLINE_MS, deadline_cb, &expired_);    \
    while (!(cond) && !expired_)                                        \
      g_main_context_iteration (NULL, TRUE);                            \
    if (!expired_)                                                      \
      g_source_remove (id_);                                            \
    if (!(cond))                                                        \
      g_error ("timed out waiting for %s", #cond);                      \
  } G_STMT_END

static void
handler (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain", SOUP_MEMORY_STATIC,
      "ok", 2);
}

static void
setup (Fixture * f, guint max_per_address, guint header_ms, guint idle_ms)
{
  NoomListenerConfig config;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  f->server = soup_server_new (NULL, NULL);
  soup_server_add_handler (f->server, NULL, handler, NULL, NULL);
  noom_listener_config_init (&config);
  config.max_per_address = max_per_address;
  config.limit_loopback = TRUE;
  config.header_timeout_ms = header_ms;
  config.idle_timeout_ms = idle_ms;
  f->listener = noom_listener_new (f->server, &config, &error);
  g_assert_no_error (error);

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, sa, TRUE, &error));
  g_assert_true (g_socket_listen (socket, &error));
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  f->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  noom_listener_add_socket (f->listener, socket);
}

static void
teardown (Fixture * f)
{
  soup_server_disconnect (f->server);
  noom_listener_free (f->listener);
  g_object_unref (f->server);
  while (g_main_context_iteration (NULL, FALSE));
}

static GSocket *
client (Fixture * f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) sa = g_inet_socket_address_new (lo, f->port);
  GSocket *s = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  /* Loopback: the kernel completes it before the server accepts. */
  g_assert_true (g_socket_connect (s, sa, NULL, &error));
  return s;
}

/* Reads what has arrived into @buf; TRUE once the server closed. */
static gboolean
closed_by_server (GSocket * s, GString * buf)
{
  gchar tmp[4096];

  for (;;) {
    gssize n = recv (g_socket_get_fd (s), tmp, sizeof (tmp), MSG_DONTWAIT);

    if (n > 0) {
      if (buf)
        g_string_append_len (buf, tmp, n);
      continue;
    }
    return n == 0 || (errno != EAGAIN && errno != EINTR);
  }
}

static void
send_text (GSocket * s, const gchar * text)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (g_socket_send (s, text, strlen (text), NULL, &error), ==,
      strlen (text));
}

static void
test_header_timeout (void)
{
  Fixture f;
  g_autoptr (GSocket) silent = NULL;
  g_autoptr (GSocket) cut = NULL;
  gint64 t0;

  setup (&f, 0, 200, 60000);
  t0 = g_get_monotonic_time ();
  silent = client (&f);
  cut = client (&f);
  send_text (cut, "GET / HTT");
  WAIT_FOR (noom_listener_get_n_connections (f.listener) == 2);
  WAIT_FOR (closed_by_server (silent, NULL) && closed_by_server (cut, NULL));
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 150000);
  WAIT_FOR (noom_listener_get_n_connections (f.listener) == 0);
  teardown (&f);
}

static void
test_per_address (void)
{
  Fixture f;
  GSocket *s[3];

  setup (&f, 2, 60000, 60000);
  s[0] = client (&f);
  s[1] = client (&f);
  WAIT_FOR (noom_listener_get_n_connections (f.listener) == 2);
  s[2] = client (&f);
  /* closed at accept, the two others stay */
  WAIT_FOR (closed_by_server (s[2], NULL));
  g_assert_false (closed_by_server (s[0], NULL));
  g_assert_cmpuint (noom_listener_get_n_connections (f.listener), ==, 2);
  /* a slot comes free when its client goes */
  g_object_unref (s[0]);
  WAIT_FOR (noom_listener_get_n_connections (f.listener) == 1);
  g_object_unref (s[2]);
  s[2] = client (&f);
  WAIT_FOR (noom_listener_get_n_connections (f.listener) == 2);
  g_assert_false (closed_by_server (s[2], NULL));
  g_object_unref (s[1]);
  g_object_unref (s[2]);
  teardown (&f);
}

static void
test_keepalive_closed_by_client (void)
{
  Fixture f;
  g_autoptr (GString) buf = g_string_new (NULL);
  GSocket *s;

  setup (&f, 0, 60000, 60000);
  s = client (&f);
  send_text (s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  WAIT_FOR ((closed_by_server (s, buf), g_str_has_suffix (buf->str,
              "\r\n\r\nok")));
  g_assert_true (g_str_has_prefix (buf->str, "HTTP/1.1 200"));
  /* kept alive, then the client goes: released at once (libsoup 3.2
   * alone kept it in CLOSE-WAIT for good) */
  g_assert_cmpuint (noom_listener_get_n_connections (f.listener), ==, 1);
  g_object_unref (s);
  WAIT_FOR (noom_listener_get_n_connections (f.listener) == 0);
  teardown (&f);
}

static void
test_idle_timeout (void)
{
  Fixture f;
  g_autoptr (GString) buf = g_string_new (NULL);
  g_autoptr (GSocket) s = NULL;

  setup (&f, 0, 60000, 200);
  s = client (&f);
  send_text (s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  WAIT_FOR ((closed_by_server (s, buf), g_str_has_suffix (buf->str,
              "\r\n\r\nok")));
  /* a second request on the same connection: kept alive */
  g_string_truncate (buf, 0);
  send_text (s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  WAIT_FOR ((closed_by_server (s, buf), g_str_has_suffix (buf->str,
              "\r\n\r\nok")));
  WAIT_FOR (closed_by_server (s, NULL));
  WAIT_FOR (noom_listener_get_n_connections (f.listener) == 0);
  teardown (&f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/listener/header-timeout", test_header_timeout);
  g_test_add_func ("/listener/per-address", test_per_address);
  g_test_add_func ("/listener/keepalive-closed-by-client",
      test_keepalive_closed_by_client);
  g_test_add_func ("/listener/idle-timeout", test_idle_timeout);
  return g_test_run ();
}
