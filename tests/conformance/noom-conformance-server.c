/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-conformance-server: a test-only server on noom-engine / noom-sio,
 * configured as the reference servers of the public Engine.IO and
 * Socket.IO protocol test suites expect (see README.md):
 *   - /engine.io/: raw Engine.IO, every message (text or binary) echoed;
 *   - /socket.io/: Socket.IO with "/" and "/custom": on connect emit "auth"
 *     with the auth payload, "message" -> "message-back" with the same
 *     arguments, "message-with-ack" -> ack with the same arguments, binary
 *     attachments echoed.
 * Heartbeat 300/200 ms, maxPayload 1e6, connectTimeout 1000 ms.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-conformance"

#include <glib-unix.h>
#include <string.h>

#include "noom-engine.h"
#include "noom-packet.h"
#include "noom-sio.h"

static void
echo_message (NoomEngineSocket * socket, const gchar * text, gsize len,
    gpointer user_data)
{
  g_autoptr (GBytes) frame = noom_eio_encode (NOOM_EIO_MESSAGE, text, len);

  noom_engine_socket_send (socket, frame);
}

static void
echo_binary (NoomEngineSocket * socket, GBytes * data, gpointer user_data)
{
  noom_engine_socket_send_binary (socket, data);
}

static gboolean
on_connect (NoomSioSocket * socket, JsonObject * auth, gchar ** error_message,
    JsonNode ** error_data, gpointer user_data)
{
  g_autoptr (JsonArray) args = json_array_new ();

  if (auth)
    json_array_add_object_element (args, json_object_ref (auth));
  else
    json_array_add_object_element (args, json_object_new ());
  noom_sio_socket_emit (socket, "auth", args);
  return TRUE;
}

/* The arguments after the event name. */
static JsonArray *
rest_of (JsonArray * args)
{
  JsonArray *rest = json_array_new ();
  guint i;

  for (i = 1; i < json_array_get_length (args); i++)
    json_array_add_element (rest,
        json_node_copy (json_array_get_element (args, i)));
  return rest;
}

static void
on_event (NoomSioSocket * socket, const gchar * name, JsonArray * args,
    gint64 ack_id, GPtrArray * attachments, gpointer user_data)
{
  g_autoptr (JsonArray) rest = rest_of (args);

  if (strcmp (name, "message") == 0) {
    if (attachments)
      noom_sio_socket_emit_binary (socket, "message-back", rest, attachments);
    else
      noom_sio_socket_emit (socket, "message-back", rest);
  } else if (strcmp (name, "message-with-ack") == 0 && ack_id >= 0) {
    if (attachments)
      noom_sio_socket_ack_binary (socket, ack_id, rest, attachments);
    else
      noom_sio_socket_ack (socket, ack_id, rest);
  }
}

static gboolean
on_signal (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autoptr (SoupServer) soup = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GError) error = NULL;
  NoomEngineConfig config;
  NoomEngineCallbacks echo = {
    .message = echo_message,
    .binary = echo_binary,
  };
  NoomSioNamespaceCallbacks ns = {
    .connect = on_connect,
    .event = on_event,
  };
  NoomEngine *engine;
  NoomSioServer *sio;
  gint port = 3000;
  GOptionEntry entries[] = {
    {"port", 'p', 0, G_OPTION_ARG_INT, &port, "Port (default 3000)", "PORT"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- Engine.IO/Socket.IO protocol test server");

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("%s\n", error->message);
    return 2;
  }

  noom_engine_config_init (&config);
  config.ping_interval_ms = 300;
  config.ping_timeout_ms = 200;
  config.max_payload = 1000000;
  config.connect_timeout_ms = 1000;

  loop = g_main_loop_new (NULL, FALSE);
  soup = soup_server_new ("server-header", "noom-conformance ", NULL);
  engine = noom_engine_new (soup, "/engine.io", &config, &echo, NULL);
  sio = noom_sio_server_new (soup, "/socket.io", &config);
  noom_sio_server_add_namespace (sio, "/", &ns, NULL);
  noom_sio_server_add_namespace (sio, "/custom", &ns, NULL);

  {
    g_autoptr (GInetAddress) lo4 =
        g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
    g_autoptr (GInetAddress) lo6 =
        g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV6);
    g_autoptr (GSocketAddress) a4 = g_inet_socket_address_new (lo4, port);
    g_autoptr (GSocketAddress) a6 = g_inet_socket_address_new (lo6, port);

    if (!noom_engine_listen (soup, a4, 0, &error)) {
      g_printerr ("cannot listen on port %d: %s\n", port, error->message);
      return 1;
    }
    /* "localhost" may resolve to ::1 first; fine if there is no IPv6 */
    noom_engine_listen (soup, a6, 0, NULL);
  }
  g_print ("listening on http://localhost:%d/\n", port);

  g_unix_signal_add (SIGINT, on_signal, loop);
  g_unix_signal_add (SIGTERM, on_signal, loop);
  g_main_loop_run (loop);

  noom_sio_server_free (sio);
  noom_engine_free (engine);
  return 0;
}
