/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine against a libsoup client in the same process: raw HTTP
 * long-polling and WebSocket, handshake, heartbeat, upgrade, errors.
 * Everything waits on events with a deadline by iterating the main
 * context; nothing sleeps.
 */
#include "../noom-test-time.h"
#include <string.h>

#include <libsoup/soup.h>
#include <json-glib/json-glib.h>

#include "noom-engine.h"

/* The heartbeat of most tests: none of them is about it, and a ping
 * landing in a polling reply, or a session timing out while a test slowed
 * down by ASan or valgrind is still opening its WebSocket, would fail them
 * for nothing. */
#define PING_INTERVAL 20000
#define PING_TIMEOUT 20000
/* The "heartbeat" fixture's, for the tests about pings and ping timeouts:
 * short, so that they take a few intervals without taking long; the
 * timeout leaves the slowed client time to answer. */
#define HEARTBEAT_INTERVAL 150
#define HEARTBEAT_TIMEOUT 300
/* The "upgrade" fixture's: the upgrade tests see the heartbeat go on (on
 * the new transport, or while a probe is pending), but the first ping
 * must not come before the upgrade is under way. */
#define UPGRADE_INTERVAL 1500
#define UPGRADE_TIMEOUT 1500
#define MAX_PAYLOAD 2000
/* How long a wait may take before the test fails: generous, as under
 * ASan or valgrind everything is several times slower. */
#define DEADLINE_MS NOOM_TEST_MS (10000)

typedef struct
{
  SoupServer *server;
  SoupSession *session;
  NoomEngine *engine;
  NoomEngineConfig config;
  gchar *base;                  /* http://127.0.0.1:PORT/engine.io/ */
  gchar *ws_base;
  NoomEngineSocket *last_open;
  guint n_open;
  guint n_close;
  gchar *last_reason;
  gboolean echo;
  guint n_requests;             /* HTTP requests the server has read */
  const gchar *origin;          /* Origin header of the next requests */
} Fixture;

/* A self-signed certificate for 127.0.0.1, generated for this test only
 * (openssl req -x509 -newkey rsa:2048 -nodes -days 36500). */
static const gchar test_cert_pem[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIDCzCCAfOgAwIBAgIUcj8ce1HG9hBSTpA6rhcdwBRSaXowDQYJKoZIhvcNAQEL\n"
    "BQAwFDESMBAGA1UEAwwJMTI3LjAuMC4xMCAXDTI2MTEyNTE4MDcyNFoYDzIxMjYx\n"
    "MTAxMTgwNzI0WjAUMRIwEAYDVQQDDAkxMjcuMC4wLjEwggEiMA0GCSqGSIb3DQEB\n"
    "AQUAA4IBDwAwggEKAoIBAQDHDN/hB3ckAz6t42NdXOJl9hvzPge12qO4NbW+RxH8\n"
    "pWsZ7y9QCMpn6p3kexlXvfvlsEZDCnrRfG4WjXjvWJtyrhSIZFy+oznVjfkEp7tL\n"
    "0pZEYYCZTa4TFuclz82c4xF+2TT9urJDox5Nw1ecd+Agkys6az9Qou/p2ZepV5O1\n"
    "4e9yUPP1AQt3d0oa8WHL2d4bx9NRR6Y9xD0Rn0qqoYWX/1sUdp/gNZfKjYHoiU/x\n"
    "TjZdm8cgJe7idY0sMrkeFyVLMmZgo8phKGJPjnOAn+C9a3wdNnO7KjcK11DiPJ1n\n"
    "qGmnHyKpwpWaNgNaJAcsq8g/M1ozhi+thIiJTF4p280pAgMBAAGjUzBRMB0GA1Ud\n"
    "DgQWBBSWaG6tj4Qo0dyIt/ocT13dGOUv2jAfBgNVHSMEGDAWgBSWaG6tj4Qo0dyI\n"
    "t/ocT13dGOUv2jAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQAX\n"
    "86XEUC7dYjjdmhcFGPb8C/nfOuFOj+ym/0GBLID4YMNPZeJs4KReq98w/TtQ/oEe\n"
    "ZY6NV99LpLfjH08i1bQP8bWZNw6Kslz+80jIZDPHVRwxbGPiwnLxW3l+eMXV2jRu\n"
    "aG0PGpSqPT9IVA4cfLIK76n4duwOvUcwdZqsFFlD0+Gc4BvymcILQfyLL/eoPg9S\n"
    "0iiihkwU2QOJX+H+iKm1pJyS0O1jG/Dms/XmWURuAD5mTUl348SlxRS2+cplc0vs\n"
    "+rFCo6+r6x8cxiybOE5q0hL5+7GnEi0j1oOJpGK8p0mebkTeND02xhC34y5nvZqK\n"
    "8Y++i5N9h1AZOnFbtYlj\n" "-----END CERTIFICATE-----\n";

static const gchar test_key_pem[] =
    "-----BEGIN PRIVATE KEY-----\n"
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDHDN/hB3ckAz6t\n"
    "42NdXOJl9hvzPge12qO4NbW+RxH8pWsZ7y9QCMpn6p3kexlXvfvlsEZDCnrRfG4W\n"
    "jXjvWJtyrhSIZFy+oznVjfkEp7tL0pZEYYCZTa4TFuclz82c4xF+2TT9urJDox5N\n"
    "w1ecd+Agkys6az9Qou/p2ZepV5O14e9yUPP1AQt3d0oa8WHL2d4bx9NRR6Y9xD0R\n"
    "n0qqoYWX/1sUdp/gNZfKjYHoiU/xTjZdm8cgJe7idY0sMrkeFyVLMmZgo8phKGJP\n"
    "jnOAn+C9a3wdNnO7KjcK11DiPJ1nqGmnHyKpwpWaNgNaJAcsq8g/M1ozhi+thIiJ\n"
    "TF4p280pAgMBAAECggEAG7KrbpVK21yGOs0y9PlpWZXTEth1WzVW5dm3dghOtPDR\n"
    "w/SYCVOH0sj/ep00jBSYOkB6rnaFW6Qsb3/1LZ0PWHhnzAjnLPHqqNBOL/slIWpm\n"
    "1ZIZwntgNzDPLmBJtMSWGSghaxMxHh9TJrABf3jg27eO4tysnUxnBQvtwjc5Cyxr\n"
    "/QG6wEBPySHSFuHHJqd3pgVaFK5VqSJBGizb5gHKjzP2UwFUqgqC5VgyIJAAgz7e\n"
    "6aBNJ7FPfIfw52/LWJOtAyT9LnwYs3b/rBo5N/yw/2XXIZ+t1yE+F2tOeakko4pq\n"
    "y56hMvPzlmjYi1PxTr1HSAh68Ji1tiIfw80eQt34nwKBgQDneBNCplZ0QeK1iMGB\n"
    "EfZMshs+wk/qj5OFjVTb8ACBYuhl0g+lyuQfheApnSiyxmS4KHr67va6Qz5C1q1H\n"
    "9ArEvIs6UfnD9W5CLpVDU4fov/I2VskaHtTXsqf8jtTuDDUhDwHEGadlcWNRf5WP\n"
    "NEcnrm55hB7SQBleTaCkJbO+swKBgQDcJUE477KwNW/iaIEWoC+bFXWAMQcw6Kbr\n"
    "k+ZTpMF6wR/0SrUGiWPNafCT08nL6gN4C76RGfEl44Q5BGqgKPBb7jHverC6oB4H\n"
    "ZRBzXCFb790NenE9LezTwNpmwXwkD2qgx8vwPR86tEyY8wHhthlsKTDtLMgpX3GK\n"
    "RL3CzZeyswKBgDLKwYc1kvEN6B6ntLaK534q8xmRcBHrkZaTzdQ5VRMPTinRr4dU\n"
    "/zv/l5HqH50jNcTHdT0NJOz4hngKPZn1bkt/iBmzFVivyZMSP8S3VrJ3NEJCRvzJ\n"
    "WTE/zeb4vLbDzQDFF0Ed1ALJn96pXXtAIIEPoMRffpfqYuazqBV9BHVLAoGASOcR\n"
    "dVBzpUTc+2ZOMXb0rO/rTHtv/TNea6873EE4TXV9JoJC9poy8ch+ggXl0uB5K50A\n"
    "C79Ci6CPne4nfUhxaJA1+y9vLS5vI1XFn95HsdF6K8d7jp4RyoIYEWVLvglY70ua\n"
    "7sDfAarJnvECk4OhYZ82c6Sb2I+h4v8mtEcvUF8CgYEAnh6PVdPnfyaYN36ewxUt\n"
    "0v7bcIQhLfpplehw5ZkvAviFbI5r0DOOVPsNLa322A5f3zbpd00dL3ZkxyOEnQuB\n"
    "zEeh9810IFGjMA3dN0ytwlnrRtBVi7iMpptw7QHG63fpscWFOfDf2p0+yJ49GS2v\n"
    "8yGfrrae27FVQthY8AYqvQM=\n" "-----END PRIVATE KEY-----\n";

/* ------------------------------------------------------------ server side */

static void
on_open (NoomEngineSocket * socket, gpointer user_data)
{
  Fixture *f = user_data;

  f->n_open++;
  f->last_open = socket;
}

static void
on_message (NoomEngineSocket * socket, const gchar * text, gsize len,
    gpointer user_data)
{
  Fixture *f = user_data;
  g_autofree gchar *frame = g_strdup_printf ("4%.*s", (int) len, text);
  g_autoptr (GBytes) bytes = NULL;

  if (!f->echo)
    return;
  if (len == 5 && memcmp (text, "close", 5) == 0) {
    noom_engine_socket_close (socket, "asked to");
    return;
  }
  bytes = g_bytes_new_take (g_steal_pointer (&frame), len + 1);
  noom_engine_socket_send (socket, bytes);
}

static void
on_binary (NoomEngineSocket * socket, GBytes * data, gpointer user_data)
{
  Fixture *f = user_data;

  if (f->echo)
    noom_engine_socket_send_binary (socket, data);
}

static void
on_close (NoomEngineSocket * socket, const gchar * reason, gpointer user_data)
{
  Fixture *f = user_data;

  f->n_close++;
  g_free (f->last_reason);
  f->last_reason = g_strdup (reason);
  if (f->last_open == socket)
    f->last_open = NULL;
}

static void
count_request (Fixture * f)
{
  f->n_requests++;
}

static void
fixture_setup (Fixture * f, gconstpointer data)
{
  NoomEngineCallbacks callbacks = {
    .open = on_open,
    .message = on_message,
    .binary = on_binary,
    .close = on_close,
  };
  g_autoptr (GError) error = NULL;
  GSList *uris;
  gint port;

  noom_engine_config_init (&f->config);
  f->config.ping_interval_ms = PING_INTERVAL;
  f->config.ping_timeout_ms = PING_TIMEOUT;
  if (g_strcmp0 (data, "heartbeat") == 0) {
    f->config.ping_interval_ms = HEARTBEAT_INTERVAL;
    f->config.ping_timeout_ms = HEARTBEAT_TIMEOUT;
  } else if (g_strcmp0 (data, "upgrade") == 0
      || g_strcmp0 (data, "tls") == 0) {
    /* test_tls runs test_upgrade too */
    f->config.ping_interval_ms = UPGRADE_INTERVAL;
    f->config.ping_timeout_ms = UPGRADE_TIMEOUT;
  }
  f->config.max_payload = MAX_PAYLOAD;
  f->config.upgrade_timeout_ms = 500;
  f->config.max_buffered = 8192;
  if (g_strcmp0 (data, "big") == 0)
    f->config.max_payload = 300000;
  if (g_strcmp0 (data, "broadcast") == 0)
    f->config.max_buffered = 64 << 20;
  if (g_strcmp0 (data, "access") == 0) {
    static const gchar *const origins[] = { "http://ok.example", NULL };

    f->config.allowed_origins = origins;
    f->config.max_per_address = 2;
    f->config.limit_loopback = TRUE;
  }
  f->echo = TRUE;

  f->server = soup_server_new (NULL, NULL);
  g_signal_connect_swapped (f->server, "request-read",
      G_CALLBACK (count_request), f);
  f->engine = noom_engine_new (f->server, "/engine.io", &f->config,
      &callbacks, f);
  if (g_strcmp0 (data, "tls") == 0) {
    g_autoptr (GTlsCertificate) cert = NULL;
    g_autofree gchar *pem = g_strconcat (test_cert_pem, test_key_pem, NULL);

    cert = g_tls_certificate_new_from_pem (pem, -1, &error);
    g_assert_no_error (error);
    soup_server_set_tls_certificate (f->server, cert);
  }
  g_assert_true (soup_server_listen_local (f->server, 0,
          SOUP_SERVER_LISTEN_IPV4_ONLY | (g_strcmp0 (data, "tls") == 0 ?
              SOUP_SERVER_LISTEN_HTTPS : 0), &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  port = g_uri_get_port (uris->data);
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  if (g_strcmp0 (data, "tls") == 0) {
    f->base = g_strdup_printf ("https://127.0.0.1:%d/engine.io/", port);
    f->ws_base = g_strdup_printf ("wss://127.0.0.1:%d/engine.io/", port);
  } else {
    f->base = g_strdup_printf ("http://127.0.0.1:%d/engine.io/", port);
    f->ws_base = g_strdup_printf ("ws://127.0.0.1:%d/engine.io/", port);
  }
  f->session = soup_session_new ();
}

static void
fixture_teardown (Fixture * f, gconstpointer data)
{
  noom_engine_free (f->engine);
  soup_server_disconnect (f->server);
  g_object_unref (f->server);
  g_object_unref (f->session);
  /* let the closes run */
  while (g_main_context_iteration (NULL, FALSE));
  g_free (f->base);
  g_free (f->ws_base);
  g_free (f->last_reason);
}

/* ------------------------------------------------------------ waiting */

static gboolean
deadline_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates until *flag becomes TRUE; fails the test after DEADLINE_MS. */
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

/* ------------------------------------------------------------ HTTP client */

typedef struct
{
  gboolean done;
  guint status;
  gchar *body;
  gchar *content_type;
  gchar *cache_control;
} Reply;

static void
reply_clear (Reply * r)
{
  g_free (r->body);
  g_free (r->content_type);
  g_free (r->cache_control);
  memset (r, 0, sizeof (*r));
}

typedef struct
{
  Reply *reply;
  SoupMessage *msg;
} Pending;

/* the test certificate is self-signed */
static gboolean
accept_certificate (SoupMessage * msg, GTlsCertificate * cert,
    GTlsCertificateFlags errors, gpointer user_data)
{
  return TRUE;
}

static void
request_done (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Pending *p = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body =
      soup_session_send_and_read_finish (SOUP_SESSION (source), res, &error);
  SoupMessageHeaders *h = soup_message_get_response_headers (p->msg);

  p->reply->status = error ? 0 : soup_message_get_status (p->msg);
  if (body)
    p->reply->body = g_strndup (g_bytes_get_data (body, NULL),
        g_bytes_get_size (body));
  p->reply->content_type =
      g_strdup (soup_message_headers_get_one (h, "Content-Type"));
  p->reply->cache_control =
      g_strdup (soup_message_headers_get_one (h, "Cache-Control"));
  p->reply->done = TRUE;
  g_object_unref (p->msg);
  g_free (p);
}

/* Starts a request; @reply->done becomes TRUE when it completes. */
static void
request_async (Fixture * f, const gchar * method, const gchar * query,
    const gchar * body, gsize body_len, Reply * reply)
{
  g_autofree gchar *url = g_strconcat (f->base, "?", query, NULL);
  Pending *p = g_new0 (Pending, 1);

  reply_clear (reply);
  p->reply = reply;
  p->msg = soup_message_new (method, url);
  g_signal_connect (p->msg, "accept-certificate",
      G_CALLBACK (accept_certificate), NULL);
  if (f->origin)
    soup_message_headers_replace (soup_message_get_request_headers (p->msg),
        "Origin", f->origin);
  if (body) {
    g_autoptr (GBytes) bytes = g_bytes_new (body, body_len);

    soup_message_set_request_body_from_bytes (p->msg,
        "text/plain;charset=UTF-8", bytes);
  }
  soup_session_send_and_read_async (f->session, p->msg, G_PRIORITY_DEFAULT,
      NULL, request_done, p);
}

/* Sends a GET the server will hold, and waits until it has it. */
static void
held_get (Fixture * f, const gchar * query, Reply * reply)
{
  guint before = f->n_requests;

  request_async (f, "GET", query, NULL, 0, reply);
  WAIT_FOR (f->n_requests > before);
  while (g_main_context_iteration (NULL, FALSE));
  g_assert_false (reply->done);
}

static void
request (Fixture * f, const gchar * method, const gchar * query,
    const gchar * body, Reply * reply)
{
  request_async (f, method, query, body, body ? strlen (body) : 0, reply);
  WAIT_FOR (reply->done);
}

/* Polling handshake; returns the sid. */
static gchar *
handshake (Fixture * f)
{
  Reply r = { 0, };
  g_autoptr (JsonNode) node = NULL;
  gchar *sid;

  request (f, "GET", "EIO=4&transport=polling", NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_nonnull (r.body);
  g_assert_cmpint (r.body[0], ==, '0');
  node = json_from_string (r.body + 1, NULL);
  g_assert_nonnull (node);
  sid = g_strdup (json_object_get_string_member (json_node_get_object (node),
          "sid"));
  reply_clear (&r);
  return sid;
}

static gchar *
sid_query (const gchar * sid)
{
  return g_strdup_printf ("EIO=4&transport=polling&sid=%s", sid);
}

static void
assert_error_reply (Reply * r, guint status, gint code)
{
  g_autoptr (JsonNode) node = NULL;
  JsonObject *obj;

  g_assert_cmpuint (r->status, ==, status);
  g_assert_cmpstr (r->content_type, ==, "application/json");
  node = json_from_string (r->body, NULL);
  g_assert_nonnull (node);
  obj = json_node_get_object (node);
  g_assert_cmpint (json_object_get_int_member (obj, "code"), ==, code);
  g_assert_nonnull (json_object_get_string_member (obj, "message"));
}

/* ------------------------------------------------------------ WebSocket */

typedef struct
{
  SoupWebsocketConnection *ws;
  GQueue messages;              /* GBytes, binary ones prefixed with 'B' */
  gboolean closed;
  gboolean failed;
  gboolean answer_pings;
} Ws;

static void
ws_message (SoupWebsocketConnection * ws, gint type, GBytes * message, Ws * w)
{
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);

  if (w->answer_pings && type == SOUP_WEBSOCKET_DATA_TEXT && len == 1 &&
      data[0] == '2') {
    soup_websocket_connection_send_text (ws, "3");
    return;
  }
  if (type == SOUP_WEBSOCKET_DATA_BINARY) {
    gchar *copy = g_malloc (len + 1);

    copy[0] = 'B';
    memcpy (copy + 1, data, len);
    g_queue_push_tail (&w->messages, g_bytes_new_take (copy, len + 1));
  } else {
    g_queue_push_tail (&w->messages, g_bytes_ref (message));
  }
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
  g_autoptr (GError) error = NULL;

  w->ws = soup_session_websocket_connect_finish (SOUP_SESSION (source), res,
      &error);
  if (w->ws == NULL) {
    w->failed = TRUE;
    return;
  }
  /* no client-side limit: the tests are about the server's */
  soup_websocket_connection_set_max_incoming_payload_size (w->ws, 0);
  g_signal_connect (w->ws, "message", G_CALLBACK (ws_message), w);
  g_signal_connect (w->ws, "closed", G_CALLBACK (ws_closed), w);
}

static Ws *
ws_open (Fixture * f, const gchar * query)
{
  g_autofree gchar *url = g_strconcat (f->ws_base, "?", query, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  Ws *w = g_new0 (Ws, 1);

  g_queue_init (&w->messages);
  g_signal_connect (msg, "accept-certificate",
      G_CALLBACK (accept_certificate), NULL);
  soup_session_websocket_connect_async (f->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, NULL, ws_connected, w);
  WAIT_FOR (w->ws || w->failed);
  return w;
}

static void
ws_free (Ws * w)
{
  if (w->ws) {
    g_signal_handlers_disconnect_by_data (w->ws, w);
    if (soup_websocket_connection_get_state (w->ws) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (w->ws, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    g_object_unref (w->ws);
  }
  g_queue_clear_full (&w->messages, (GDestroyNotify) g_bytes_unref);
  g_free (w);
}

/* Next message as a string (binary: "B" + raw bytes). */
static gchar *
ws_next (Ws * w)
{
  g_autoptr (GBytes) b = NULL;

  WAIT_FOR (!g_queue_is_empty (&w->messages) || w->closed);
  if (g_queue_is_empty (&w->messages))
    return NULL;
  b = g_queue_pop_head (&w->messages);
  return g_strndup (g_bytes_get_data (b, NULL), g_bytes_get_size (b));
}

/* ------------------------------------------------------------ tests */

static void
test_polling_handshake (Fixture * f, gconstpointer data)
{
  Reply r = { 0, };
  g_autoptr (JsonNode) node = NULL;
  JsonObject *obj;
  JsonArray *upgrades;
  const gchar *sid;
  guint i;

  request (f, "GET", "EIO=4&transport=polling&t=abc", NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.cache_control, ==, "no-store");
  g_assert_true (g_str_has_prefix (r.content_type, "text/plain"));
  g_assert_cmpint (r.body[0], ==, '0');
  node = json_from_string (r.body + 1, NULL);
  obj = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (obj), ==, 5);
  sid = json_object_get_string_member (obj, "sid");
  g_assert_cmpuint (strlen (sid), ==, 20);
  for (i = 0; i < 20; i++)
    g_assert_true (g_ascii_isalnum (sid[i]) || sid[i] == '-' || sid[i] == '_');
  upgrades = json_object_get_array_member (obj, "upgrades");
  g_assert_cmpuint (json_array_get_length (upgrades), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (upgrades, 0), ==,
      "websocket");
  g_assert_cmpint (json_object_get_int_member (obj, "pingInterval"), ==,
      PING_INTERVAL);
  g_assert_cmpint (json_object_get_int_member (obj, "pingTimeout"), ==,
      PING_TIMEOUT);
  g_assert_cmpint (json_object_get_int_member (obj, "maxPayload"), ==,
      MAX_PAYLOAD);
  g_assert_cmpuint (f->n_open, ==, 1);
  g_assert_cmpuint (noom_engine_get_n_sockets (f->engine), ==, 1);
  g_assert_cmpstr (noom_engine_socket_get_sid (f->last_open), ==, sid);
  g_assert_cmpstr (noom_engine_socket_get_transport (f->last_open), ==,
      "polling");
  g_assert_cmpstr (noom_engine_socket_get_remote_address (f->last_open), ==,
      "127.0.0.1");
  reply_clear (&r);
}

static void
test_bad_requests (Fixture * f, gconstpointer data)
{
  Reply r = { 0, };

  request (f, "GET", "transport=polling", NULL, &r);
  assert_error_reply (&r, 400, 5);
  request (f, "GET", "EIO=3&transport=polling", NULL, &r);
  assert_error_reply (&r, 400, 5);
  request (f, "GET", "EIO=4", NULL, &r);
  assert_error_reply (&r, 400, 0);
  request (f, "GET", "EIO=4&transport=abc", NULL, &r);
  assert_error_reply (&r, 400, 0);
  request (f, "POST", "EIO=4&transport=polling", "40", &r);
  assert_error_reply (&r, 400, 2);
  request (f, "PUT", "EIO=4&transport=polling", NULL, &r);
  assert_error_reply (&r, 400, 2);
  request (f, "GET", "EIO=4&transport=polling&sid=nope", NULL, &r);
  assert_error_reply (&r, 400, 1);
  /* websocket transport without an Upgrade */
  request (f, "GET", "EIO=4&transport=websocket", NULL, &r);
  assert_error_reply (&r, 400, 3);
  g_assert_cmpuint (f->n_open, ==, 0);
  reply_clear (&r);
}

/* allowed_origins and max_per_address: 403 {"code":4} before any session
 * exists, each refusal logged once. */
static void
test_access (Fixture * f, gconstpointer data)
{
  Reply r = { 0, };
  g_autofree gchar *sid1 = NULL;
  g_autofree gchar *sid2 = NULL;
  g_autofree gchar *q = NULL;

  f->origin = "http://evil.example";
  g_test_expect_message ("noom-engine", G_LOG_LEVEL_MESSAGE,
      "refused GET polling from 127.0.0.1: 403 origin not allowed");
  request (f, "GET", "EIO=4&transport=polling", NULL, &r);
  assert_error_reply (&r, 403, 4);
  /* the same refusal again is answered too (its log line is folded:
   * tests/server/access.test.mjs checks that) */
  request (f, "GET", "EIO=4&transport=polling", NULL, &r);
  assert_error_reply (&r, 403, 4);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (f->n_open, ==, 0);

  f->origin = "http://ok.example";
  sid1 = handshake (f);
  f->origin = NULL;             /* not a browser */
  sid2 = handshake (f);
  g_test_expect_message ("noom-engine", G_LOG_LEVEL_MESSAGE,
      "refused GET polling from 127.0.0.1: 403 too many connections*");
  request (f, "GET", "EIO=4&transport=polling", NULL, &r);
  assert_error_reply (&r, 403, 4);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (f->n_open, ==, 2);

  /* requests of existing sessions are not new connections */
  q = sid_query (sid1);
  request (f, "POST", q, "1", &r);
  g_assert_cmpuint (r.status, ==, 200);
  WAIT_FOR (f->n_close == 1);
  /* and a closed one frees its slot */
  g_free (handshake (f));
  reply_clear (&r);
}

static void
test_polling_messages (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  Reply r = { 0, };

  request (f, "POST", q, "4hello\x1e" "4€\x1e" "bAQIDBA==", &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.body, ==, "ok");
  request (f, "GET", q, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.cache_control, ==, "no-store");
  g_assert_cmpstr (r.body, ==, "4hello\x1e" "4€\x1e" "bAQIDBA==");

  /* A held GET is answered when something is sent. */
  held_get (f, q, &r);
  {
    Reply post = { 0, };

    request (f, "POST", q, "4later", &post);
    g_assert_cmpuint (post.status, ==, 200);
    reply_clear (&post);
  }
  WAIT_FOR (r.done);
  g_assert_cmpstr (r.body, ==, "4later");
  reply_clear (&r);
}

static void
test_polling_bad_payload (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  Reply r = { 0, };

  request (f, "POST", q, "abc", &r);
  assert_error_reply (&r, 400, 3);
  g_assert_cmpuint (f->n_close, ==, 1);
  g_assert_cmpstr (f->last_reason, ==, "parse error");
  request (f, "GET", q, NULL, &r);
  assert_error_reply (&r, 400, 1);
  reply_clear (&r);
}

static void
test_polling_too_large (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  g_autofree gchar *big = g_malloc (MAX_PAYLOAD + 2);
  Reply r = { 0, };

  big[0] = '4';
  memset (big + 1, 'x', MAX_PAYLOAD);
  big[MAX_PAYLOAD + 1] = '\0';
  request (f, "POST", q, big, &r);
  g_assert_cmpuint (r.status, ==, 413);
  request (f, "GET", q, NULL, &r);
  assert_error_reply (&r, 400, 1);

  /* exactly max_payload is fine */
  g_free (sid);
  g_free (q);
  sid = handshake (f);
  q = sid_query (sid);
  big[MAX_PAYLOAD] = '\0';
  request (f, "POST", q, big, &r);
  g_assert_cmpuint (r.status, ==, 200);
  reply_clear (&r);
}

static void
test_polling_concurrent_get (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  Reply first = { 0, }, second = { 0, }, third = { 0, };

  held_get (f, q, &first);
  request (f, "GET", q, NULL, &second);
  g_assert_cmpuint (second.status, ==, 400);
  WAIT_FOR (first.done);
  g_assert_cmpuint (first.status, ==, 200);
  g_assert_cmpstr (first.body, ==, "1");
  request (f, "GET", q, NULL, &third);
  assert_error_reply (&third, 400, 1);
  g_assert_cmpuint (f->n_close, ==, 1);
  reply_clear (&first);
  reply_clear (&second);
  reply_clear (&third);
}

static void
test_polling_heartbeat (Fixture * f, gconstpointer data)
{
  /* Before the session exists: the server's clock starts later, so the
   * time measured is never shorter than the server's. */
  gint64 start = g_get_monotonic_time ();
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  Reply r = { 0, };
  guint i;

  for (i = 0; i < 3; i++) {
    request (f, "GET", q, NULL, &r);
    g_assert_cmpuint (r.status, ==, 200);
    g_assert_cmpstr (r.body, ==, "2");
    request (f, "POST", q, "3", &r);
    g_assert_cmpuint (r.status, ==, 200);
  }
  /* three intervals went by, and pongs kept the session */
  g_assert_cmpint (g_get_monotonic_time () - start, >=,
      3 * HEARTBEAT_INTERVAL * 1000);
  g_assert_cmpuint (f->n_close, ==, 0);

  /* no pong: closed with "ping timeout", then unknown */
  request (f, "GET", q, NULL, &r);
  g_assert_cmpstr (r.body, ==, "2");
  WAIT_FOR (f->n_close == 1);
  g_assert_cmpstr (f->last_reason, ==, "ping timeout");
  request (f, "GET", q, NULL, &r);
  assert_error_reply (&r, 400, 1);
  reply_clear (&r);
}

static void
test_polling_client_close (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  Reply get = { 0, }, post = { 0, };

  held_get (f, q, &get);
  request (f, "POST", q, "1", &post);
  g_assert_cmpuint (post.status, ==, 200);
  WAIT_FOR (get.done);
  g_assert_cmpstr (get.body, ==, "6");
  g_assert_cmpstr (f->last_reason, ==, "transport close");
  request (f, "GET", q, NULL, &get);
  assert_error_reply (&get, 400, 1);
  reply_clear (&get);
  reply_clear (&post);
}

static void
test_polling_server_close (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  Reply r = { 0, };

  /* The server closes while no GET is pending: the next GET gets "1". */
  request (f, "POST", q, "4close", &r);
  g_assert_cmpuint (f->n_close, ==, 1);
  g_assert_cmpstr (f->last_reason, ==, "asked to");
  g_assert_cmpuint (noom_engine_get_n_sockets (f->engine), ==, 0);
  request (f, "GET", q, NULL, &r);
  g_assert_cmpuint (r.status, ==, 200);
  g_assert_cmpstr (r.body, ==, "1");
  request (f, "GET", q, NULL, &r);
  assert_error_reply (&r, 400, 1);
  reply_clear (&r);
}

static void
test_polling_slow_consumer (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *frame = g_strnfill (500, 'x');
  g_autoptr (GBytes) bytes = NULL;
  guint i;

  g_assert_nonnull (sid);

  frame[0] = '4';
  bytes = g_bytes_new (frame, 500);
  g_assert_nonnull (f->last_open);
  /* 8192 bytes allowed: the 17th frame is one too many */
  for (i = 0; i < 16; i++)
    noom_engine_socket_send (f->last_open, bytes);
  g_assert_cmpuint (f->n_close, ==, 0);
  noom_engine_socket_send (f->last_open, bytes);
  /* closed from an idle, not inside the sender's loop */
  g_assert_cmpuint (f->n_close, ==, 0);
  WAIT_FOR (f->n_close == 1);
  g_assert_cmpstr (f->last_reason, ==, "slow consumer");
}

static void
test_websocket (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f, "EIO=4&transport=websocket");
  g_autofree gchar *open = NULL;
  g_autofree gchar *echo = NULL;
  g_autofree gchar *bin = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (GBytes) raw = g_bytes_new_static ("\x01\x02\xff\x04", 4);
  JsonObject *obj;

  g_assert_nonnull (w->ws);
  open = ws_next (w);
  g_assert_nonnull (open);
  g_assert_cmpint (open[0], ==, '0');
  node = json_from_string (open + 1, NULL);
  obj = json_node_get_object (node);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (obj,
              "upgrades")), ==, 0);
  g_assert_cmpstr (noom_engine_socket_get_transport (f->last_open), ==,
      "websocket");
  g_assert_cmpstr (noom_engine_socket_get_sid (f->last_open), ==,
      json_object_get_string_member (obj, "sid"));

  soup_websocket_connection_send_text (w->ws, "4hello");
  echo = ws_next (w);
  g_assert_cmpstr (echo, ==, "4hello");
  soup_websocket_connection_send_message (w->ws, SOUP_WEBSOCKET_DATA_BINARY,
      raw);
  bin = ws_next (w);
  g_assert_true (memcmp (bin, "B\x01\x02\xff\x04", 5) == 0);

  {
    g_autofree gchar *big = g_strnfill (MAX_PAYLOAD - 1, 'y');
    g_autofree gchar *back = NULL;

    big[0] = '4';
    soup_websocket_connection_send_text (w->ws, big);
    back = ws_next (w);
    g_assert_cmpstr (back, ==, big);
  }

  /* client close */
  soup_websocket_connection_send_text (w->ws, "1");
  WAIT_FOR (f->n_close == 1);
  g_assert_cmpstr (f->last_reason, ==, "transport close");
  WAIT_FOR (w->closed);
  ws_free (w);
}

/* Above libsoup's default 128 KiB limit, within maxPayload: accepted. */
static void
test_websocket_big (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f, "EIO=4&transport=websocket");
  g_autofree gchar *open = ws_next (w);
  g_autofree gchar *big = g_strnfill (250000, 'z');
  g_autofree gchar *back = NULL;

  g_assert_true (g_str_has_prefix (open, "0{"));

  big[0] = '4';
  soup_websocket_connection_send_text (w->ws, big);
  back = ws_next (w);
  g_assert_nonnull (back);
  g_assert_cmpuint (strlen (back), ==, 250000);
  g_assert_cmpuint (f->n_close, ==, 0);
  ws_free (w);
}

static void
test_websocket_bad_packet (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f, "EIO=4&transport=websocket");
  g_autofree gchar *open = ws_next (w);

  g_assert_true (g_str_has_prefix (open, "0{"));
  soup_websocket_connection_send_text (w->ws, "abc");
  WAIT_FOR (w->closed);
  g_assert_cmpstr (f->last_reason, ==, "parse error");
  ws_free (w);

  /* a client ping is a protocol error in v4 */
  w = ws_open (f, "EIO=4&transport=websocket");
  g_free (ws_next (w));
  soup_websocket_connection_send_text (w->ws, "2");
  WAIT_FOR (w->closed);
  g_assert_cmpstr (f->last_reason, ==, "parse error");
  ws_free (w);

  /* bad query: the handshake itself fails */
  w = ws_open (f, "EIO=3&transport=websocket");
  g_assert_true (w->failed);
  ws_free (w);
  w = ws_open (f, "EIO=4&transport=websocket&sid=unknown");
  g_assert_true (w->failed);
  ws_free (w);
  g_assert_cmpuint (f->n_open, ==, 2);
}

static void
test_websocket_heartbeat (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f, "EIO=4&transport=websocket");
  g_autofree gchar *open = ws_next (w);
  guint i;

  g_assert_true (g_str_has_prefix (open, "0{"));
  for (i = 0; i < 3; i++) {
    g_autofree gchar *ping = ws_next (w);

    g_assert_cmpstr (ping, ==, "2");
    soup_websocket_connection_send_text (w->ws, "3");
  }
  g_assert_cmpuint (f->n_close, ==, 0);

  /* answered automatically now: survives several more intervals */
  w->answer_pings = TRUE;
  {
    gint64 until = g_get_monotonic_time () + 4 * HEARTBEAT_INTERVAL * 1000;

    WAIT_FOR (g_get_monotonic_time () >= until || f->n_close > 0);
  }
  g_assert_cmpuint (f->n_close, ==, 0);

  /* stop answering: ping timeout */
  w->answer_pings = FALSE;
  WAIT_FOR (f->n_close == 1);
  g_assert_cmpstr (f->last_reason, ==, "ping timeout");
  WAIT_FOR (w->closed);
  ws_free (w);
}

static void
test_upgrade (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  g_autofree gchar *wq = g_strdup_printf ("EIO=4&transport=websocket&sid=%s",
      sid);
  g_autofree gchar *probe = NULL;
  g_autofree gchar *echo = NULL;
  g_autofree gchar *queued = NULL;
  Reply get = { 0, };
  Ws *w, *w2;
  g_autoptr (GBytes) pending = g_bytes_new_static ("4queued", 7);

  held_get (f, q, &get);
  w = ws_open (f, wq);
  g_assert_nonnull (w->ws);
  soup_websocket_connection_send_text (w->ws, "2probe");
  probe = ws_next (w);
  g_assert_cmpstr (probe, ==, "3probe");
  /* the held GET is released with a noop */
  WAIT_FOR (get.done);
  g_assert_cmpstr (get.body, ==, "6");
  /* sent before the upgrade completes: must come out on the WebSocket */
  noom_engine_socket_send (f->last_open, pending);
  soup_websocket_connection_send_text (w->ws, "5");
  queued = ws_next (w);
  g_assert_cmpstr (queued, ==, "4queued");
  g_assert_cmpstr (noom_engine_socket_get_transport (f->last_open), ==,
      "websocket");

  soup_websocket_connection_send_text (w->ws, "4hello");
  echo = ws_next (w);
  g_assert_cmpstr (echo, ==, "4hello");

  /* polling with the same sid is over */
  request (f, "GET", q, NULL, &get);
  g_assert_cmpuint (get.status, ==, 400);
  /* a second WebSocket with the same sid is closed */
  w2 = ws_open (f, wq);
  if (w2->ws)
    WAIT_FOR (w2->closed);
  ws_free (w2);
  g_assert_cmpuint (f->n_close, ==, 0);
  g_assert_cmpuint (f->n_open, ==, 1);

  /* the heartbeat continues on the new transport */
  g_free (echo);
  echo = ws_next (w);
  g_assert_cmpstr (echo, ==, "2");
  ws_free (w);
  reply_clear (&get);
}

static void
test_upgrade_bad_probe (Fixture * f, gconstpointer data)
{
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  g_autofree gchar *wq = g_strdup_printf ("EIO=4&transport=websocket&sid=%s",
      sid);
  Reply r = { 0, };
  Ws *w = ws_open (f, wq);

  /* anything but 2probe aborts the upgrade, not the session */
  soup_websocket_connection_send_text (w->ws, "4nope");
  WAIT_FOR (w->closed);
  ws_free (w);
  request (f, "POST", q, "4still", &r);
  g_assert_cmpuint (r.status, ==, 200);
  request (f, "GET", q, NULL, &r);
  g_assert_cmpstr (r.body, ==, "4still");

  /* a probe that never sends 5 times out, and polling goes on */
  w = ws_open (f, wq);
  soup_websocket_connection_send_text (w->ws, "2probe");
  while (!w->closed) {
    /* keep polling (and answering pings) meanwhile; the GETs get "6"
     * while the probe is pending */
    request (f, "GET", q, NULL, &r);
    g_assert_cmpuint (r.status, ==, 200);
    if (strchr (r.body, '2'))
      request (f, "POST", q, "3", &r);
  }
  ws_free (w);
  g_assert_cmpuint (f->n_close, ==, 0);
  request (f, "POST", q, "4again", &r);
  request (f, "GET", q, NULL, &r);
  /* "6" from the probe may come first */
  if (g_strcmp0 (r.body, "6") == 0)
    request (f, "GET", q, NULL, &r);
  g_assert_cmpstr (r.body, ==, "4again");
  reply_clear (&r);
}

static void
test_close_all (Fixture * f, gconstpointer data)
{
  Ws *w = ws_open (f, "EIO=4&transport=websocket");
  g_autofree gchar *open = ws_next (w);
  g_autofree gchar *close = NULL;
  g_autofree gchar *sid = handshake (f);
  g_autofree gchar *q = sid_query (sid);
  Reply r = { 0, };

  g_assert_true (g_str_has_prefix (open, "0{"));
  g_assert_cmpuint (noom_engine_get_n_sockets (f->engine), ==, 2);
  noom_engine_close_all (f->engine);
  g_assert_cmpuint (noom_engine_get_n_sockets (f->engine), ==, 0);
  g_assert_cmpuint (f->n_close, ==, 2);
  close = ws_next (w);
  g_assert_cmpstr (close, ==, "1");
  WAIT_FOR (w->closed);
  request (f, "GET", q, NULL, &r);
  g_assert_cmpstr (r.body, ==, "1");
  ws_free (w);
  reply_clear (&r);
}

/* ------------------------------------------------------------ raw frames */

/* A hand-made WebSocket client, to send what libsoup's never would. */
typedef struct
{
  GSocket *sock;
  GByteArray *buf;
  gboolean eof;
} Raw;

static void
raw_pump (Raw * r)
{
  guint8 tmp[65536];
  gssize n;

  n = g_socket_receive (r->sock, (gchar *) tmp, sizeof (tmp), NULL, NULL);
  if (n > 0)
    g_byte_array_append (r->buf, tmp, n);
  else if (n == 0)
    r->eof = TRUE;
}

static gboolean
raw_has_headers (Raw * r)
{
  raw_pump (r);
  if (r->buf->len == 0)
    return r->eof;
  return g_strstr_len ((const gchar *) r->buf->data, r->buf->len,
      "\r\n\r\n") != NULL || r->eof;
}

static Raw *
raw_open (Fixture * f)
{
  GUri *uri = g_uri_parse (f->base, G_URI_FLAGS_NONE, NULL);
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo,
      g_uri_get_port (uri));
  g_autofree gchar *req = g_strdup_printf
      ("GET /engine.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
      "Host: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
      "Sec-WebSocket-Version: 13\r\n\r\n");
  Raw *r = g_new0 (Raw, 1);
  const gchar *end;

  g_uri_unref (uri);
  r->buf = g_byte_array_new ();
  r->sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, NULL);
  g_assert_true (g_socket_connect (r->sock, addr, NULL, NULL));
  g_socket_set_blocking (r->sock, FALSE);
  g_assert_cmpint (g_socket_send (r->sock, req, strlen (req), NULL, NULL),
      ==, strlen (req));
  WAIT_FOR (raw_has_headers (r));
  g_assert_true (g_str_has_prefix ((const gchar *) r->buf->data,
          "HTTP/1.1 101"));
  end = g_strstr_len ((const gchar *) r->buf->data, r->buf->len, "\r\n\r\n");
  g_byte_array_remove_range (r->buf, 0, end + 4 - (const gchar *) r->buf->data);
  return r;
}

static void
raw_free (Raw * r)
{
  g_object_unref (r->sock);
  g_byte_array_unref (r->buf);
  g_free (r);
}

static void
raw_send_frame (Raw * r, gboolean fin, guint8 opcode, const gchar * payload,
    gsize len, gboolean masked)
{
  guint8 frame[16 + 70000];
  static const guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  gsize n = 0, i;

  g_assert_cmpuint (len, <, 70000);
  frame[n++] = (fin ? 0x80 : 0) | opcode;
  if (len < 126) {
    frame[n++] = (masked ? 0x80 : 0) | len;
  } else {
    frame[n++] = (masked ? 0x80 : 0) | 126;
    frame[n++] = len >> 8;
    frame[n++] = len & 0xff;
  }
  if (masked) {
    memcpy (frame + n, mask, 4);
    n += 4;
  }
  for (i = 0; i < len; i++)
    frame[n + i] = payload[i] ^ (masked ? mask[i & 3] : 0);
  n += len;
  g_assert_cmpint (g_socket_send (r->sock, (gchar *) frame, n, NULL, NULL),
      ==, n);
}

static gboolean
raw_has_frame (Raw * r)
{
  gsize need = 2;

  raw_pump (r);
  if (r->buf->len >= 2) {
    gsize plen = r->buf->data[1] & 0x7f;

    if (plen == 126 && r->buf->len >= 4)
      plen = (r->buf->data[2] << 8) | r->buf->data[3], need += 2;
    need += plen;
  }
  return r->buf->len >= need || r->eof;
}

/* Next server frame (never masked): its opcode, and the payload as text. */
static gchar *
raw_next (Raw * r, guint8 * opcode)
{
  gsize hlen = 2, plen;
  gchar *payload;

  WAIT_FOR (raw_has_frame (r));
  if (r->buf->len < 2)
    return NULL;
  g_assert_false (r->buf->data[1] & 0x80);
  *opcode = r->buf->data[0] & 0x0f;
  plen = r->buf->data[1] & 0x7f;
  if (plen == 126) {
    plen = (r->buf->data[2] << 8) | r->buf->data[3];
    hlen = 4;
  }
  payload = g_strndup ((const gchar *) r->buf->data + hlen, plen);
  g_byte_array_remove_range (r->buf, 0, hlen + plen);
  return payload;
}

static gboolean
raw_closed (Raw * r)
{
  raw_pump (r);
  return r->eof;
}

static void
test_raw_frames (Fixture * f, gconstpointer data)
{
  Raw *r = raw_open (f);
  guint8 op;
  g_autofree gchar *open = raw_next (r, &op);
  g_autofree gchar *pong = NULL;
  g_autofree gchar *echo = NULL;
  g_autofree gchar *close = NULL;

  g_assert_cmpint (op, ==, 1);
  g_assert_true (g_str_has_prefix (open, "0{\"sid\""));

  /* a fragmented text message with a ping in between */
  raw_send_frame (r, FALSE, 0x1, "4hel", 4, TRUE);
  raw_send_frame (r, TRUE, 0x9, "pp", 2, TRUE);
  raw_send_frame (r, FALSE, 0x0, "l", 1, TRUE);
  raw_send_frame (r, TRUE, 0x0, "o", 1, TRUE);
  pong = raw_next (r, &op);
  g_assert_cmpint (op, ==, 0xa);
  g_assert_cmpstr (pong, ==, "pp");
  echo = raw_next (r, &op);
  g_assert_cmpint (op, ==, 1);
  g_assert_cmpstr (echo, ==, "4hello");

  /* a medium frame (16-bit length) split over several writes */
  {
    g_autofree gchar *mid = g_strnfill (1500, 'm');
    g_autofree gchar *back = NULL;

    mid[0] = '4';
    raw_send_frame (r, TRUE, 0x1, mid, 1500, TRUE);
    back = raw_next (r, &op);
    g_assert_cmpstr (back, ==, mid);
  }

  /* the client closes: close frame answered, session closed */
  raw_send_frame (r, TRUE, 0x8, "\x03\xe8", 2, TRUE);
  close = raw_next (r, &op);
  g_assert_cmpint (op, ==, 0x8);
  WAIT_FOR (raw_closed (r));
  g_assert_cmpuint (f->n_close, ==, 1);
  g_assert_cmpstr (f->last_reason, ==, "transport close");
  raw_free (r);
}

static void
test_raw_protocol_errors (Fixture * f, gconstpointer data)
{
  Raw *r;
  guint8 op;
  gchar *text;
  g_autofree gchar *big = g_strnfill (MAX_PAYLOAD + 1, 'b');

  /* unmasked client frame */
  r = raw_open (f);
  g_free (raw_next (r, &op));
  raw_send_frame (r, TRUE, 0x1, "4x", 2, FALSE);
  text = raw_next (r, &op);
  g_assert_cmpint (op, ==, 0x8);
  g_assert_cmpint ((guint8) text[0] << 8 | (guint8) text[1], ==, 1002);
  g_free (text);
  WAIT_FOR (raw_closed (r));
  raw_free (r);

  /* over maxPayload */
  r = raw_open (f);
  g_free (raw_next (r, &op));
  raw_send_frame (r, TRUE, 0x1, big, MAX_PAYLOAD + 1, TRUE);
  text = raw_next (r, &op);
  g_assert_cmpint (op, ==, 0x8);
  g_assert_cmpint ((guint8) text[0] << 8 | (guint8) text[1], ==, 1009);
  g_free (text);
  WAIT_FOR (raw_closed (r));
  raw_free (r);

  /* over maxPayload in fragments */
  r = raw_open (f);
  g_free (raw_next (r, &op));
  raw_send_frame (r, FALSE, 0x1, big, MAX_PAYLOAD / 2 + 1, TRUE);
  raw_send_frame (r, TRUE, 0x0, big, MAX_PAYLOAD / 2 + 1, TRUE);
  text = raw_next (r, &op);
  g_assert_cmpint (op, ==, 0x8);
  g_free (text);
  WAIT_FOR (raw_closed (r));
  raw_free (r);

  /* continuation without a start, unknown opcode */
  r = raw_open (f);
  g_free (raw_next (r, &op));
  raw_send_frame (r, TRUE, 0x0, "x", 1, TRUE);
  WAIT_FOR (raw_closed (r));
  raw_free (r);
  r = raw_open (f);
  g_free (raw_next (r, &op));
  raw_send_frame (r, TRUE, 0x3, "x", 1, TRUE);
  WAIT_FOR (raw_closed (r));
  raw_free (r);

  /* the peer just goes away */
  r = raw_open (f);
  g_free (raw_next (r, &op));
  g_socket_close (r->sock, NULL);
  raw_free (r);

  WAIT_FOR (f->n_close == 6);
  g_assert_cmpuint (noom_engine_get_n_sockets (f->engine), ==, 0);
}

/* A WebSocket client that does not read is closed once the kernel and then
 * max_buffered are full. */
static void
test_raw_slow_consumer (Fixture * f, gconstpointer data)
{
  Raw *r = raw_open (f);
  g_autofree gchar *frame = g_strnfill (60000, 's');
  g_autoptr (GBytes) bytes = NULL;
  guint i;

  frame[0] = '4';
  bytes = g_bytes_new (frame, 60000);
  WAIT_FOR (f->last_open != NULL);
  for (i = 0; i < 2000 && f->n_close == 0 && f->last_open; i++) {
    noom_engine_socket_send (f->last_open, bytes);
    g_main_context_iteration (NULL, FALSE);
  }
  WAIT_FOR (f->n_close == 1);
  g_assert_cmpstr (f->last_reason, ==, "slow consumer");
  raw_free (r);
}

static gboolean
keep_going (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Frame @i of test_raw_broadcast: sizes from 6 bytes to 40 KB, contents
 * that tell frames apart. */
static gchar *
broadcast_frame (guint i)
{
  gsize len = 6 + (i * 7919) % 40000;
  gchar *frame = g_strnfill (len, 'a' + i % 26);
  gchar head[8];

  g_snprintf (head, sizeof head, "4%05u", i);
  memcpy (frame, head, 6);
  return frame;
}

/* What the server sends to many WebSockets in one main loop iteration is
 * flushed in one batch (one io_uring call where there is io_uring): every
 * client gets every frame, whole and in order, also one whose socket is
 * full so that its writes stop part way and resume on EPOLLOUT, and also
 * when a burst holds more frames than one batched write takes. */
static void
test_raw_broadcast (Fixture * f, gconstpointer data)
{
  enum { N_CLIENTS = 4, BURSTS = 40, PER_BURST = 10 };
  Raw *r[N_CLIENTS];
  NoomEngineSocket *s[N_CLIENTS];
  guint next[N_CLIENTS] = { 0, };
  guint i, b, k, tick;

  /* the clients' sockets are not main loop sources: wake up often */
  tick = g_timeout_add (1, keep_going, NULL);
  for (i = 0; i < N_CLIENTS; i++) {
    guint8 op;
    g_autofree gchar *open = NULL;

    f->last_open = NULL;
    r[i] = raw_open (f);
    open = raw_next (r[i], &op);
    g_assert_true (g_str_has_prefix (open, "0{"));
    WAIT_FOR (f->last_open != NULL);
    s[i] = f->last_open;
  }
  /* The last client reads nothing until the end: 8 MB is more than the
   * kernel buffers for it, so its writes stop part way (EAGAIN) and go on
   * on EPOLLOUT while it reads. */

  for (b = 0; b < BURSTS; b++) {
    for (k = 0; k < PER_BURST; k++) {
      g_autofree gchar *frame = broadcast_frame (b * PER_BURST + k);
      g_autoptr (GBytes) bytes = g_bytes_new (frame, strlen (frame));

      for (i = 0; i < N_CLIENTS; i++)
        noom_engine_socket_send (s[i], bytes);
    }
    /* one flush for the whole burst, then the readers read */
    while (g_main_context_iteration (NULL, FALSE));
    for (i = 0; i + 1 < N_CLIENTS; i++) {
      while (raw_has_frame (r[i]) && !r[i]->eof) {
        guint8 op;
        g_autofree gchar *got = raw_next (r[i], &op);
        g_autofree gchar *want = broadcast_frame (next[i]++);

        g_assert_cmpint (op, ==, 1);
        g_assert_cmpstr (got, ==, want);
      }
    }
  }
  for (i = 0; i < N_CLIENTS; i++) {
    while (next[i] < BURSTS * PER_BURST) {
      guint8 op;
      g_autofree gchar *got = raw_next (r[i], &op);
      g_autofree gchar *want = broadcast_frame (next[i]++);

      g_assert_nonnull (got);
      g_assert_cmpint (op, ==, 1);
      g_assert_cmpstr (got, ==, want);
    }
  }
  g_source_remove (tick);
  g_assert_cmpuint (f->n_close, ==, 0);
  for (i = 0; i < N_CLIENTS; i++)
    raw_free (r[i]);
}

/* TLS WebSockets go through libsoup's implementation: the same behaviour,
 * including an upgrade from polling. */
static void
test_tls (Fixture * f, gconstpointer data)
{
  if (!g_tls_backend_supports_tls (g_tls_backend_get_default ())) {
    g_test_skip ("no TLS backend");
    return;
  }
  test_websocket (f, data);
  f->n_close = 0;
  f->n_open = 0;
  test_upgrade (f, data);
}

static void
test_random_id (void)
{
  GHashTable *seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint i, j;

  for (i = 0; i < 1000; i++) {
    gchar id[21];

    noom_engine_random_id (id);
    g_assert_cmpuint (strlen (id), ==, 20);
    for (j = 0; j < 20; j++)
      g_assert_true (g_ascii_isalnum (id[j]) || id[j] == '-' || id[j] == '_');
    g_assert_true (g_hash_table_add (seen, g_strdup (id)));
  }
  g_hash_table_unref (seen);
}

#define ADD(name, func) \
  g_test_add ("/engine/" name, Fixture, NULL, fixture_setup, func, \
      fixture_teardown)
#define ADD_WITH(name, setup, func) \
  g_test_add ("/engine/" name, Fixture, setup, fixture_setup, func, \
      fixture_teardown)

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/engine/random-id", test_random_id);
  ADD ("polling/handshake", test_polling_handshake);
  ADD ("polling/bad-requests", test_bad_requests);
  ADD ("polling/messages", test_polling_messages);
  ADD ("polling/bad-payload", test_polling_bad_payload);
  ADD ("polling/too-large", test_polling_too_large);
  ADD ("polling/concurrent-get", test_polling_concurrent_get);
  ADD_WITH ("polling/heartbeat", "heartbeat", test_polling_heartbeat);
  ADD ("polling/client-close", test_polling_client_close);
  ADD ("polling/server-close", test_polling_server_close);
  ADD ("polling/slow-consumer", test_polling_slow_consumer);
  ADD ("websocket/basic", test_websocket);
  ADD ("websocket/bad-packet", test_websocket_bad_packet);
  g_test_add ("/engine/websocket/big", Fixture, "big", fixture_setup,
      test_websocket_big, fixture_teardown);
  ADD_WITH ("websocket/heartbeat", "heartbeat", test_websocket_heartbeat);
  ADD ("websocket/raw-frames", test_raw_frames);
  ADD ("websocket/raw-protocol-errors", test_raw_protocol_errors);
  ADD ("websocket/raw-slow-consumer", test_raw_slow_consumer);
  g_test_add ("/engine/websocket/raw-broadcast", Fixture, "broadcast",
      fixture_setup, test_raw_broadcast, fixture_teardown);
  ADD_WITH ("upgrade/basic", "upgrade", test_upgrade);
  ADD_WITH ("upgrade/bad-probe", "upgrade", test_upgrade_bad_probe);
  ADD ("close-all", test_close_all);
  g_test_add ("/engine/tls", Fixture, "tls", fixture_setup, test_tls,
      fixture_teardown);
  g_test_add ("/engine/access", Fixture, "access", fixture_setup,
      test_access, fixture_teardown);

  return g_test_run ();
}
