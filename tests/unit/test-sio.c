/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-sio against a raw WebSocket / polling client in the same process:
 * CONNECT with and without auth, namespaces, CONNECT_ERROR, events, acks
 * (a second ack ignored), binary attachments, DISCONNECT, parse errors,
 * connect timeout.  Waits are deadlines on main context iterations.
 */
#include "../noom-test-time.h"
#include <string.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "noom-sio.h"
#include "noom-packet.h"

/* How long a wait may take before the test fails: generous, as under
 * ASan or valgrind everything is several times slower. */
#define DEADLINE_MS NOOM_TEST_MS (10000)
/* Long enough for a slowed-down test to open a WebSocket and send its
 * CONNECT; test_connect_timeout measures it. */
#define CONNECT_TIMEOUT_MS 1000

typedef struct
{
  SoupServer *server;
  SoupSession *session;
  NoomSioServer *sio;
  gchar *ws_url;
  gchar *http_url;
  /* what the namespace callbacks saw */
  guint n_connect;
  guint n_disconnect;
  gchar *last_auth;             /* JSON or "(null)" */
  gchar *last_event;
  gchar *last_args;
  gint64 last_ack_id;
  guint last_n_attachments;
  gchar *last_reason;
  NoomSioSocket *last_socket;
} Fixture;

static void
set_str (gchar ** field, const gchar * value)
{
  g_free (*field);
  *field = g_strdup (value);
}

/* ------------------------------------------------------------ server side */

static gboolean
on_connect (NoomSioSocket * socket, JsonObject * auth, gchar ** error_message,
    JsonNode ** error_data, gpointer user_data)
{
  Fixture *f = user_data;

  f->n_connect++;
  f->last_socket = socket;
  if (auth) {
    g_autoptr (JsonNode) node = json_node_init_object (json_node_alloc (),
        auth);
    g_autofree gchar *text = json_to_string (node, FALSE);

    set_str (&f->last_auth, text);
    if (json_object_has_member (auth, "refuse")) {
      *error_message = g_strdup ("refused");
      *error_data = json_from_string ("{\"why\":1}", NULL);
      return FALSE;
    }
  } else {
    set_str (&f->last_auth, "(null)");
  }
  /* emitted before the CONNECT answer exists: must follow it */
  noom_sio_socket_emit (socket, "welcome", NULL);
  return TRUE;
}

static void
on_event (NoomSioSocket * socket, const gchar * name, JsonArray * args,
    gint64 ack_id, GPtrArray * attachments, gpointer user_data)
{
  Fixture *f = user_data;
  g_autoptr (JsonNode) node = json_node_init_array (json_node_alloc (), args);
  g_autofree gchar *text = json_to_string (node, FALSE);

  set_str (&f->last_event, name);
  set_str (&f->last_args, text);
  f->last_ack_id = ack_id;
  f->last_n_attachments = attachments ? attachments->len : 0;

  if (strcmp (name, "twice") == 0) {
    g_autoptr (JsonArray) a = json_array_new ();

    json_array_add_string_element (a, "first");
    noom_sio_socket_ack (socket, ack_id, a);
    json_array_add_string_element (a, "second");
    noom_sio_socket_ack (socket, ack_id, a);
  } else if (strcmp (name, "bin") == 0) {
    JsonArray *rest = json_array_new ();
    guint i;

    for (i = 1; i < json_array_get_length (args); i++)
      json_array_add_element (rest,
          json_node_copy (json_array_get_element (args, i)));
    if (ack_id >= 0)
      noom_sio_socket_ack_binary (socket, ack_id, rest, attachments);
    else
      noom_sio_socket_emit_binary (socket, "bin-back", rest, attachments);
    json_array_unref (rest);
  } else if (strcmp (name, "emit-here") == 0) {
    g_autoptr (JsonArray) a = json_array_new ();

    json_array_add_int_element (a, 7);
    noom_sio_socket_emit (socket, "here", a);
    /* never on the wire: the client would choke on it */
    noom_sio_socket_emit (socket, "disconnect", NULL);
  } else if (strcmp (name, "frame") == 0) {
    g_autoptr (GBytes) frame = noom_sio_frame_event ("shared", NULL, -1);

    noom_sio_socket_send_frame (socket, frame);
  } else if (strcmp (name, "kick") == 0) {
    noom_sio_socket_disconnect (socket, "kicked by test");
  } else if (ack_id >= 0) {
    noom_sio_socket_ack (socket, ack_id, NULL);
  }
}

static void
on_disconnect (NoomSioSocket * socket, const gchar * reason, gpointer user_data)
{
  Fixture *f = user_data;

  f->n_disconnect++;
  set_str (&f->last_reason, reason);
  if (f->last_socket == socket)
    f->last_socket = NULL;
}

static void
fixture_setup (Fixture * f, gconstpointer data)
{
  NoomSioNamespaceCallbacks callbacks = {
    .connect = on_connect,
    .event = on_event,
    .disconnect = on_disconnect,
  };
  NoomEngineConfig config;
  g_autoptr (GError) error = NULL;
  GSList *uris;
  gint port;

  noom_engine_config_init (&config);
  /* No test here is about the heartbeat (test-engine's are): pings far
   * apart, so that none lands in a polling reply or closes a session of a
   * test slowed down by a sanitizer. */
  config.ping_interval_ms = 60000;
  config.ping_timeout_ms = 60000;
  config.connect_timeout_ms = CONNECT_TIMEOUT_MS;

  f->server = soup_server_new (NULL, NULL);
  f->sio = noom_sio_server_new (f->server, "/socket.io", &config);
  noom_sio_server_add_namespace (f->sio, "/", &callbacks, f);
  noom_sio_server_add_namespace (f->sio, "/admin", &callbacks, f);
  g_assert_true (soup_server_listen_local (f->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY, &error));
  uris = soup_server_get_uris (f->server);
  port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  f->ws_url = g_strdup_printf
      ("ws://127.0.0.1:%d/socket.io/?EIO=4&transport=websocket", port);
  f->http_url = g_strdup_printf ("http://127.0.0.1:%d/socket.io/", port);
  f->session = soup_session_new ();
  f->last_ack_id = -2;
}

static void
fixture_teardown (Fixture * f, gconstpointer data)
{
  noom_sio_server_free (f->sio);
  soup_server_disconnect (f->server);
  g_object_unref (f->server);
  g_object_unref (f->session);
  while (g_main_context_iteration (NULL, FALSE));
  g_free (f->ws_url);
  g_free (f->http_url);
  g_free (f->last_auth);
  g_free (f->last_event);
  g_free (f->last_args);
  g_free (f->last_reason);
}

/* ------------------------------------------------------------ waiting */

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

/* ------------------------------------------------------------ WebSocket */

typedef struct
{
  SoupWebsocketConnection *ws;
  GQueue messages;              /* gchar*, binary prefixed with 'B' */
  gboolean closed;
  gboolean failed;
} Ws;

static void
ws_message (SoupWebsocketConnection * ws, gint type, GBytes * message, Ws * w)
{
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);

  /* the heartbeat is the engine's business: answer and hide it */
  if (type == SOUP_WEBSOCKET_DATA_TEXT && len == 1 && data[0] == '2') {
    soup_websocket_connection_send_text (ws, "3");
    return;
  }
  if (type == SOUP_WEBSOCKET_DATA_BINARY)
    g_queue_push_tail (&w->messages, g_strdup_printf ("B%.*s", (int) len,
            data));
  else
    g_queue_push_tail (&w->messages, g_strndup (data, len));
}

static void
ws_closed (SoupWebsocketConnection * ws, Ws * w)
{
  w->closed = TRUE;
}

static void
ws_connected (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Ws *w = user_data;

  w->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      NULL);
  if (w->ws == NULL) {
    w->failed = TRUE;
    return;
  }
  g_signal_connect (w->ws, "message", G_CALLBACK (ws_message), w);
  g_signal_connect (w->ws, "closed", G_CALLBACK (ws_closed), w);
}

static gchar *
ws_next (Ws * w)
{
  WAIT_FOR (!g_queue_is_empty (&w->messages) || w->closed);
  return g_queue_pop_head (&w->messages);
}

static void
ws_expect (Ws * w, const gchar * expected)
{
  g_autofree gchar *got = ws_next (w);

  g_assert_cmpstr (got, ==, expected);
}

/* Opens a WebSocket session and reads the Engine.IO open packet. */
static Ws *
ws_open (Fixture * f)
{
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", f->ws_url);
  g_autofree gchar *open = NULL;
  Ws *w = g_new0 (Ws, 1);

  g_queue_init (&w->messages);
  soup_session_websocket_connect_async (f->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, ws_connected, w);
  WAIT_FOR (w->ws || w->failed);
  g_assert_nonnull (w->ws);
  open = ws_next (w);
  g_assert_true (g_str_has_prefix (open, "0{"));
  return w;
}

static void
ws_free (Ws * w)
{
  g_signal_handlers_disconnect_by_data (w->ws, w);
  if (soup_websocket_connection_get_state (w->ws) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_close (w->ws, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_object_unref (w->ws);
  g_queue_clear_full (&w->messages, g_free);
  g_free (w);
}

static void
ws_send (Ws * w, const gchar * text)
{
  soup_websocket_connection_send_text (w->ws, text);
}

/* Checks "40[/nsp,]{"sid":"<20 chars>"}" and returns the sid. */
static gchar *
expect_connect_ok (Ws * w, const gchar * nsp_prefix)
{
  g_autofree gchar *reply = ws_next (w);
  g_autofree gchar *prefix = g_strconcat ("40", nsp_prefix, NULL);
  g_autoptr (JsonNode) node = NULL;
  JsonObject *obj;

  g_assert_nonnull (reply);
  g_assert_true (g_str_has_prefix (reply, prefix));
  node = json_from_string (reply + strlen (prefix), NULL);
  g_assert_nonnull (node);
  obj = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (obj), ==, 1);
  g_assert_cmpuint (strlen (json_object_get_string_member (obj, "sid")), ==,
      20);
  return g_strdup (json_object_get_string_member (obj, "sid"));
}

/* ------------------------------------------------------------ tests */

static void
test_connect (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f);
  g_autofree gchar *sid = NULL;

  ws_send (w, "40");
  sid = expect_connect_ok (w, "");
  /* the emit from the connect callback comes after the answer */
  ws_expect (w, "42[\"welcome\"]");
  g_assert_cmpuint (f->n_connect, ==, 1);
  g_assert_cmpstr (f->last_auth, ==, "(null)");
  g_assert_nonnull (f->last_socket);
  g_assert_cmpstr (noom_sio_socket_get_id (f->last_socket), ==, sid);
  g_assert_cmpstr (noom_sio_socket_get_nsp (f->last_socket), ==, "/");
  g_assert_cmpstr (noom_sio_socket_get_remote_address (f->last_socket), ==,
      "127.0.0.1");
  /* the socket id is not the Engine.IO sid */
  g_assert_cmpuint (noom_engine_get_n_sockets (noom_sio_server_get_engine
          (f->sio)), ==, 1);
  ws_free (w);
  WAIT_FOR (f->n_disconnect == 1);
  g_assert_cmpstr (f->last_reason, ==, "transport close");
}

static void
test_connect_auth (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f);
  g_autofree gchar *sid = NULL;

  ws_send (w, "40{\"token\":\"123\"}");
  sid = expect_connect_ok (w, "");
  g_assert_cmpstr (f->last_auth, ==, "{\"token\":\"123\"}");
  ws_expect (w, "42[\"welcome\"]");

  /* a second namespace on the same connection, with auth */
  ws_send (w, "40/admin,{\"x\":[1]}");
  g_free (sid);
  sid = expect_connect_ok (w, "/admin,");
  ws_expect (w, "42/admin,[\"welcome\"]");
  g_assert_cmpstr (f->last_auth, ==, "{\"x\":[1]}");
  g_assert_cmpstr (noom_sio_socket_get_nsp (f->last_socket), ==, "/admin");
  g_assert_cmpuint (f->n_connect, ==, 2);
  ws_free (w);
  WAIT_FOR (f->n_disconnect == 2);
}

static void
test_connect_refused (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f);

  ws_send (w, "40{\"refuse\":true}");
  ws_expect (w, "44{\"message\":\"refused\",\"data\":{\"why\":1}}");
  /* refused sockets never "disconnect" */
  g_assert_cmpuint (f->n_disconnect, ==, 0);

  /* unknown namespace; the connection stays */
  ws_send (w, "40/random");
  ws_expect (w, "44/random,{\"message\":\"Invalid namespace\"}");
  ws_send (w, "40");
  g_free (expect_connect_ok (w, ""));
  ws_free (w);
}

static void
test_events_and_acks (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f);

  ws_send (w, "40");
  g_free (expect_connect_ok (w, ""));
  ws_expect (w, "42[\"welcome\"]");

  ws_send (w, "42[\"hello\",1,\"2\",{\"3\":[true]}]");
  WAIT_FOR (f->last_event != NULL);
  g_assert_cmpstr (f->last_event, ==, "hello");
  g_assert_cmpstr (f->last_args, ==, "[\"hello\",1,\"2\",{\"3\":[true]}]");
  g_assert_cmpint (f->last_ack_id, ==, -1);

  ws_send (w, "4217[\"with-ack\"]");
  ws_expect (w, "4317[]");
  g_assert_cmpint (f->last_ack_id, ==, 17);

  /* the second ack to one id is dropped: the next frame is for id 18 */
  ws_send (w, "4218[\"twice\"]");
  ws_send (w, "4219[\"with-ack\"]");
  ws_expect (w, "4318[\"first\"]");
  ws_expect (w, "4319[]");

  /* numeric event names are allowed by the protocol */
  ws_send (w, "42[42,\"x\"]");
  WAIT_FOR (g_strcmp0 (f->last_event, "42") == 0);

  /* an ack on a custom namespace */
  ws_send (w, "40/admin,");
  g_free (expect_connect_ok (w, "/admin,"));
  ws_expect (w, "42/admin,[\"welcome\"]");
  ws_send (w, "42/admin,5[\"with-ack\"]");
  ws_expect (w, "43/admin,5[]");
  g_assert_cmpuint (f->n_disconnect, ==, 0);
  ws_free (w);
}

static void
test_binary (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f);
  g_autoptr (GBytes) a = g_bytes_new_static ("\x01\x02\x03", 3);
  g_autoptr (GBytes) b = g_bytes_new_static ("\x04\x05", 2);

  ws_send (w, "40");
  g_free (expect_connect_ok (w, ""));
  ws_expect (w, "42[\"welcome\"]");

  ws_send (w, "452-[\"bin\",{\"_placeholder\":true,\"num\":0},"
      "{\"_placeholder\":true,\"num\":1}]");
  soup_websocket_connection_send_message (w->ws, SOUP_WEBSOCKET_DATA_BINARY, a);
  soup_websocket_connection_send_message (w->ws, SOUP_WEBSOCKET_DATA_BINARY, b);
  ws_expect (w, "452-[\"bin-back\",{\"_placeholder\":true,\"num\":0},"
      "{\"_placeholder\":true,\"num\":1}]");
  ws_expect (w, "B\x01\x02\x03");
  ws_expect (w, "B\x04\x05");
  g_assert_cmpuint (f->last_n_attachments, ==, 2);

  ws_send (w, "451-789[\"bin\",{\"_placeholder\":true,\"num\":0}]");
  soup_websocket_connection_send_message (w->ws, SOUP_WEBSOCKET_DATA_BINARY, b);
  ws_expect (w, "461-789[{\"_placeholder\":true,\"num\":0}]");
  ws_expect (w, "B\x04\x05");

  /* a binary frame nobody announced is a protocol error */
  soup_websocket_connection_send_message (w->ws, SOUP_WEBSOCKET_DATA_BINARY, a);
  WAIT_FOR (w->closed);
  g_assert_cmpstr (f->last_reason, ==, "parse error");
  ws_free (w);
}

static void
test_parse_errors (Fixture * f, gconstpointer data)
{
  static const gchar *const bad[] = {
    "4abc", "42{}", "42abc[\"x\",1]", "4211-[\"x\"]", "42[\"connect\"]",
    "4511-[\"x\"]", "44{\"message\":\"x\"}",
    /* a packet for a namespace the client has not joined */
    "42/admin,[\"x\"]",
    /* CONNECT to an already joined namespace */
    "40",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    Ws *w = ws_open (f);
    guint before = f->n_disconnect;

    g_test_message ("sending %s", bad[i]);
    ws_send (w, "40");
    g_free (expect_connect_ok (w, ""));
    ws_expect (w, "42[\"welcome\"]");
    ws_send (w, bad[i]);
    WAIT_FOR (w->closed);
    WAIT_FOR (f->n_disconnect == before + 1);
    g_assert_cmpstr (f->last_reason, ==, "parse error");
    ws_free (w);
  }

  /* before CONNECT too */
  {
    Ws *w = ws_open (f);

    ws_send (w, "42[\"early\"]");
    WAIT_FOR (w->closed);
    ws_free (w);
  }
}

static void
test_disconnect (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f);

  ws_send (w, "40");
  g_free (expect_connect_ok (w, ""));
  ws_expect (w, "42[\"welcome\"]");
  ws_send (w, "40/admin,");
  g_free (expect_connect_ok (w, "/admin,"));
  ws_expect (w, "42/admin,[\"welcome\"]");

  /* leaving /admin keeps "/" and the connection */
  ws_send (w, "41/admin,");
  WAIT_FOR (f->n_disconnect == 1);
  g_assert_cmpstr (f->last_reason, ==, "client namespace disconnect");
  ws_send (w, "421[\"with-ack\"]");
  ws_expect (w, "431[]");

  /* leaving "/" too: the Engine.IO session stays up */
  ws_send (w, "41");
  WAIT_FOR (f->n_disconnect == 2);
  g_assert_false (w->closed);
  g_assert_cmpuint (noom_engine_get_n_sockets (noom_sio_server_get_engine
          (f->sio)), ==, 1);

  /* rejoin, then the server kicks: DISCONNECT then the engine close */
  ws_send (w, "40");
  g_free (expect_connect_ok (w, ""));
  ws_expect (w, "42[\"welcome\"]");
  ws_send (w, "42[\"kick\"]");
  ws_expect (w, "41");
  ws_expect (w, "1");
  WAIT_FOR (w->closed);
  g_assert_cmpstr (f->last_reason, ==, "server namespace disconnect");
  ws_free (w);
}

static void
test_emit (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f);

  ws_send (w, "40");
  g_free (expect_connect_ok (w, ""));
  ws_expect (w, "42[\"welcome\"]");
  ws_send (w, "40/admin,");
  g_free (expect_connect_ok (w, "/admin,"));
  ws_expect (w, "42/admin,[\"welcome\"]");

  g_test_expect_message ("noom-sio", G_LOG_LEVEL_CRITICAL,
      "*reserved event name 'disconnect'*");
  ws_send (w, "42[\"emit-here\"]");
  ws_expect (w, "42[\"here\",7]");
  g_test_expect_message ("noom-sio", G_LOG_LEVEL_CRITICAL,
      "*reserved event name 'disconnect'*");
  ws_send (w, "42/admin,[\"emit-here\"]");
  ws_expect (w, "42/admin,[\"here\",7]");
  g_test_assert_expected_messages ();

  /* a pre-encoded frame */
  ws_send (w, "42[\"frame\"]");
  ws_expect (w, "42[\"shared\"]");

  /* an ack for an id the client never used is not sent */
  noom_sio_socket_ack (f->last_socket, 999, NULL);
  ws_send (w, "4212[\"with-ack\"]");
  ws_expect (w, "4312[]");
  ws_free (w);
}

static void
test_close_all (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f);
  Ws *w2 = ws_open (f);

  ws_send (w, "40");
  g_free (expect_connect_ok (w, ""));
  noom_sio_server_close_all (f->sio);
  g_assert_cmpuint (f->n_disconnect, ==, 1);
  g_assert_cmpstr (f->last_reason, ==, "forced close");
  WAIT_FOR (w->closed && w2->closed);
  g_assert_cmpuint (noom_engine_get_n_sockets (noom_sio_server_get_engine
          (f->sio)), ==, 0);
  ws_free (w);
  ws_free (w2);
}

static void
test_connect_timeout (Fixture * f, gconstpointer data)
{
  /* Before the session exists: the server's clock starts later, so the
   * time measured is never shorter than the server's. */
  gint64 start = g_get_monotonic_time ();
  Ws *w = ws_open (f);
  Ws *w2 = ws_open (f);

  /* w2 connects in time and stays */
  ws_send (w2, "40");
  g_free (expect_connect_ok (w2, ""));
  WAIT_FOR (w->closed);
  /* the server keeps its deadlines in whole milliseconds */
  g_assert_cmpint (g_get_monotonic_time () - start, >=,
      (CONNECT_TIMEOUT_MS - 1) * 1000);
  g_assert_cmpuint (f->n_disconnect, ==, 0);
  g_assert_false (w2->closed);
  ws_free (w);
  ws_free (w2);
}

typedef struct
{
  gboolean done;
  gchar *body;
} Reply;

static void
request_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Reply *r = user_data;
  g_autoptr (GBytes) body =
      soup_session_send_and_read_finish (SOUP_SESSION (source), res, NULL);

  if (body)
    r->body = g_strndup (g_bytes_get_data (body, NULL),
        g_bytes_get_size (body));
  r->done = TRUE;
}

/* in-process, so asynchronous: the sync API would block the server */
static gchar *
request (Fixture * f, const gchar * method, const gchar * query,
    const gchar * body)
{
  g_autofree gchar *url = g_strconcat (f->http_url, "?", query, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, url);
  Reply r = { 0, };

  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));

    soup_message_set_request_body_from_bytes (msg, "text/plain", bytes);
  }
  soup_session_send_and_read_async (f->session, msg, G_PRIORITY_DEFAULT,
      NULL, request_done, &r);
  WAIT_FOR (r.done);
  return r.body;
}

/* The same over long-polling: answers are batched into one payload. */
static void
test_polling (Fixture * f, gconstpointer data)
{
  g_autofree gchar *open = request (f, "GET", "EIO=4&transport=polling",
      NULL);
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *q = NULL;
  g_autofree gchar *ok = NULL;
  g_autofree gchar *reply = NULL;
  g_auto (GStrv) packets = NULL;

  g_assert_nonnull (open);
  g_assert_cmpint (open[0], ==, '0');
  node = json_from_string (open + 1, NULL);
  q = g_strdup_printf ("EIO=4&transport=polling&sid=%s",
      json_object_get_string_member (json_node_get_object (node), "sid"));

  ok = request (f, "POST", q, "40{\"token\":\"p\"}\x1e" "421[\"with-ack\"]");
  g_assert_cmpstr (ok, ==, "ok");
  /* one or more GETs (the connect callback's emit follows a moment
   * after the answer) */
  reply = request (f, "GET", q, NULL);
  while (g_strv_length (packets = g_strsplit (reply, "\x1e", -1)) < 3) {
    g_autofree gchar *more = request (f, "GET", q, NULL);
    gchar *joined = g_strconcat (reply, "\x1e", more, NULL);

    g_strfreev (packets);
    g_free (reply);
    reply = joined;
  }
  g_assert_cmpuint (g_strv_length (packets), ==, 3);
  g_assert_true (g_str_has_prefix (packets[0], "40{\"sid\":\""));
  g_assert_cmpstr (packets[1], ==, "42[\"welcome\"]");
  g_assert_cmpstr (packets[2], ==, "431[]");
  g_assert_cmpstr (f->last_auth, ==, "{\"token\":\"p\"}");
}

#define ADD(name, func) \
  g_test_add ("/sio/" name, Fixture, NULL, fixture_setup, func, \
      fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD ("connect", test_connect);
  ADD ("connect-auth", test_connect_auth);
  ADD ("connect-refused", test_connect_refused);
  ADD ("events-and-acks", test_events_and_acks);
  ADD ("binary", test_binary);
  ADD ("parse-errors", test_parse_errors);
  ADD ("disconnect", test_disconnect);
  ADD ("connect-timeout", test_connect_timeout);
  ADD ("emit", test_emit);
  ADD ("close-all", test_close_all);
  ADD ("polling", test_polling);

  return g_test_run ();
}
