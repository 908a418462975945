/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The C signalling client (lib/noom-client.c) against the real noom-server
 * (path in $NOOM_SERVER), on loopback.  Every wait iterates the main
 * context until an event or a deadline; nothing sleeps.
 */
#include "../noom-test-time.h"
#include "noom-client.h"
#include "noom-token.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdlib.h>
#include <string.h>

/* Generous deadlines: they bound a hang, they are not what is measured */
#define DEADLINE_MS NOOM_TEST_MS (10000)

/* ---------------------------------------------------------------- waiting */

static gboolean
wake_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* One blocking iteration of the thread-default context (the one the
 * clients live on), for at most @max_ms */
static void
iterate_once (guint max_ms)
{
  GMainContext *context = g_main_context_get_thread_default ();
  gboolean expired = FALSE;
  GSource *timeout = g_timeout_source_new (MAX (max_ms, 1));

  g_source_set_callback (timeout, wake_cb, &expired, NULL);
  g_source_attach (timeout, context);
  g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  g_source_unref (timeout);
}

/* Iterate until *@done or @ms pass; TRUE if done */
static gboolean
iterate_until (const gboolean * done, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * G_GINT64_CONSTANT (1000);

  while (!*done) {
    gint64 left = (deadline - g_get_monotonic_time ()) / 1000;

    if (left <= 0)
      break;
    iterate_once (left);
  }
  return *done;
}

/* ----------------------------------------------------------------- server */

typedef struct
{
  GSubprocess *process;
  GDataInputStream *out;
  GCancellable *cancellable;
  guint port;
  gboolean tls;
  gchar *url;                   /* ws[s]://127.0.0.1:PORT/socket.io/?... */
} Server;

static void
drain_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  Server *server = user_data;
  g_autofree gchar *line = NULL;

  line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM
      (source), res, NULL, NULL);
  if (line == NULL)
    return;
  g_test_message ("server: %s", line);
  g_data_input_stream_read_line_async (server->out, G_PRIORITY_DEFAULT,
      server->cancellable, drain_cb, server);
}

typedef struct
{
  gchar *line;
  gboolean done;
} LineWait;

static void
line_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  LineWait *wait = user_data;

  wait->line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM
      (source), res, NULL, NULL);
  wait->done = TRUE;
}

static void
child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

/* Start noom-server on a free loopback port with @extra options (NULL
 * terminated); waits for its "listening on http://127.0.0.1:PORT" line.
 * NULL (and the test skipped) without $NOOM_SERVER. */
static Server *
server_start (const gchar * first_extra, ...)
{
  const gchar *path = g_getenv ("NOOM_SERVER");
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  Server *server;
  const gchar *arg;
  va_list ap;

  if (path == NULL) {
    g_test_skip ("NOOM_SERVER is not set");
    return NULL;
  }
  g_ptr_array_add (argv, (gpointer) path);
  g_ptr_array_add (argv, (gpointer) "--host");
  g_ptr_array_add (argv, (gpointer) "127.0.0.1");
  g_ptr_array_add (argv, (gpointer) "--port");
  g_ptr_array_add (argv, (gpointer) "0");
  va_start (ap, first_extra);
  for (arg = first_extra; arg; arg = va_arg (ap, const gchar *)) {
    g_ptr_array_add (argv, (gpointer) arg);
  }
  va_end (ap);
  g_ptr_array_add (argv, NULL);

  server = g_new0 (Server, 1);
  server->cancellable = g_cancellable_new ();
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  /* the server dies with the test, even when the test aborts */
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  server->process = g_subprocess_launcher_spawnv (launcher,
      (const gchar * const *) argv->pdata, &error);
  g_assert_no_error (error);
  server->out =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->process));

  while (server->port == 0) {
    LineWait wait = { NULL, FALSE };
    const gchar *found;

    g_data_input_stream_read_line_async (server->out, G_PRIORITY_DEFAULT,
        NULL, line_cb, &wait);
    if (!iterate_until (&wait.done, DEADLINE_MS))
      g_error ("noom-server printed no \"listening on\" line in time");
    if (wait.line == NULL)
      g_error ("noom-server exited before listening");
    g_test_message ("server: %s", wait.line);
    /* "listening on http://127.0.0.1:PORT" (https with TLS) */
    found = strstr (wait.line, "listening on http");
    if (found)
      found = strstr (found, "://127.0.0.1:");
    if (found) {
      found += strlen ("://127.0.0.1:");
      server->port = g_ascii_strtoull (found, NULL, 10);
      server->tls = g_strstr_len (wait.line, -1, "https://") != NULL;
    }
    g_free (wait.line);
  }
  g_assert_cmpuint (server->port, >, 0);
  server->url = g_strdup_printf ("%s://127.0.0.1:%u/socket.io/?EIO=4&"
      "transport=websocket", server->tls ? "wss" : "ws", server->port);
  /* keep reading so that the server never blocks on a full pipe */
  g_data_input_stream_read_line_async (server->out, G_PRIORITY_DEFAULT,
      server->cancellable, drain_cb, server);
  return server;
}

static void
server_stop (Server * server)
{
  if (server == NULL)
    return;
  g_cancellable_cancel (server->cancellable);
  g_subprocess_force_exit (server->process);
  g_subprocess_wait (server->process, NULL, NULL);
  g_object_unref (server->out);
  g_object_unref (server->process);
  g_object_unref (server->cancellable);
  g_free (server->url);
  g_free (server);
  /* let the cancelled read finish while the Server is gone: it only
   * touches its own result */
  while (g_main_context_iteration (g_main_context_get_thread_default (),
          FALSE));
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Server, server_stop);

/* SIGSTOP the server and return once it is really stopped (signals are
 * delivered asynchronously) */
static void
server_freeze (Server * server)
{
  siginfo_t info;
  pid_t pid = atoi (g_subprocess_get_identifier (server->process));

  g_subprocess_send_signal (server->process, SIGSTOP);
  memset (&info, 0, sizeof (info));
  /* WNOWAIT: leave the state for GSubprocess's own child watch */
  g_assert_cmpint (waitid (P_PID, pid, &info, WSTOPPED | WNOWAIT), ==, 0);
  g_assert_cmpint (info.si_code, ==, CLD_STOPPED);
}

/* --------------------------------------------------------------- recorder */

/* Every signal of a client, as text, in arrival order */
typedef struct
{
  NoomClient *client;
  GPtrArray *events;
} Recorder;

static gchar *
participant_text (NoomParticipant * p)
{
  return g_strdup_printf ("%s %s %s %s%s", p->id, p->nickname, p->kind,
      p->sends & NOOM_MEDIA_AUDIO ? "a" : "", p->sends & NOOM_MEDIA_VIDEO ?
      "v" : "-");
}

static void
on_joined (NoomClient * c, NoomParticipant * p, Recorder * r)
{
  g_autofree gchar *t = participant_text (p);

  g_ptr_array_add (r->events, g_strdup_printf ("joined %s", t));
}

static void
on_left (NoomClient * c, NoomParticipant * p, Recorder * r)
{
  g_autofree gchar *t = participant_text (p);

  g_ptr_array_add (r->events, g_strdup_printf ("left %s", t));
}

static void
on_updated (NoomClient * c, NoomParticipant * p, Recorder * r)
{
  g_autofree gchar *t = participant_text (p);

  g_ptr_array_add (r->events, g_strdup_printf ("updated %s", t));
}

static void
on_offer (NoomClient * c, const gchar * from, const gchar * sdp, Recorder * r)
{
  g_ptr_array_add (r->events, g_strdup_printf ("offer %s %s", from, sdp));
}

static void
on_answer (NoomClient * c, const gchar * from, const gchar * sdp, Recorder * r)
{
  g_ptr_array_add (r->events, g_strdup_printf ("answer %s %s", from, sdp));
}

static void
on_ice (NoomClient * c, const gchar * from, guint mline, const gchar * mid,
    const gchar * candidate, Recorder * r)
{
  g_ptr_array_add (r->events, g_strdup_printf ("ice %s %u %s %s", from, mline,
          mid ? mid : "(null)", candidate ? candidate : "(end)"));
}

static void
on_chat (NoomClient * c, const gchar * from, const gchar * nickname,
    const gchar * text, Recorder * r)
{
  g_ptr_array_add (r->events, g_strdup_printf ("chat %s %s %s", from,
          nickname, text));
}

static void
on_server_error (NoomClient * c, const gchar * code, const gchar * message,
    Recorder * r)
{
  /* the detail: the refused event, when it is one the client sends */
  GSignalInvocationHint *hint = g_signal_get_invocation_hint (c);

  if (hint->detail)
    g_ptr_array_add (r->events, g_strdup_printf ("server-error %s %s [%s]",
            code, message, g_quark_to_string (hint->detail)));
  else
    g_ptr_array_add (r->events, g_strdup_printf ("server-error %s %s", code,
            message));
}

static void
on_disconnected (NoomClient * c, GError * error, Recorder * r)
{
  g_assert_nonnull (error);
  g_ptr_array_add (r->events, g_strdup_printf ("disconnected %d %s",
          error->code, error->message));
}

static Recorder *
recorder_new (void)
{
  Recorder *r = g_new0 (Recorder, 1);

  r->client = noom_client_new ();
  r->events = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (r->client, "participant-joined", G_CALLBACK (on_joined), r);
  g_signal_connect (r->client, "participant-left", G_CALLBACK (on_left), r);
  g_signal_connect (r->client, "participant-updated", G_CALLBACK (on_updated),
      r);
  g_signal_connect (r->client, "offer", G_CALLBACK (on_offer), r);
  g_signal_connect (r->client, "answer", G_CALLBACK (on_answer), r);
  g_signal_connect (r->client, "ice", G_CALLBACK (on_ice), r);
  g_signal_connect (r->client, "chat", G_CALLBACK (on_chat), r);
  g_signal_connect (r->client, "server-error", G_CALLBACK (on_server_error), r);
  g_signal_connect (r->client, "disconnected", G_CALLBACK (on_disconnected), r);
  return r;
}

static void
weak_notify_cb (gpointer data, GObject * where_the_object_was)
{
  *(gboolean *) data = TRUE;
}

static void
recorder_free (Recorder * r)
{
  gboolean finalized = FALSE;

  g_signal_handlers_disconnect_by_data (r->client, r);
  g_object_weak_ref (G_OBJECT (r->client), weak_notify_cb, &finalized);
  g_object_unref (r->client);
  /* No leaked reference: an operation still winding down (a cancelled
   * HTTP upgrade) may hold the client until its callback runs */
  if (!iterate_until (&finalized, DEADLINE_MS))
    g_error ("the client was not finalized: a reference leaked");
  g_ptr_array_unref (r->events);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Recorder, recorder_free);

static gboolean
has_prefix_event (Recorder * r, const gchar * prefix, gchar ** out)
{
  guint i;

  for (i = 0; i < r->events->len; i++) {
    const gchar *e = g_ptr_array_index (r->events, i);

    if (g_str_has_prefix (e, prefix)) {
      if (out)
        *out = g_strdup (e);
      g_ptr_array_remove_index (r->events, i);
      return TRUE;
    }
  }
  return FALSE;
}

static void
assert_no_events (Recorder * r)
{
  guint i;

  for (i = 0; i < r->events->len; i++)
    g_test_message ("unexpected event: %s",
        (gchar *) g_ptr_array_index (r->events, i));
  g_assert_cmpuint (r->events->len, ==, 0);
}

/* Wait for the first event starting with @prefix, remove and return it */
static gchar *
wait_event (Recorder * r, const gchar * prefix, guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * G_GINT64_CONSTANT (1000);
  gchar *found = NULL;

  while (!has_prefix_event (r, prefix, &found)) {
    if (g_get_monotonic_time () >= deadline) {
      guint i;

      for (i = 0; i < r->events->len; i++)
        g_test_message ("pending event: %s",
            (gchar *) g_ptr_array_index (r->events, i));
      g_error ("no \"%s\" event within %u ms", prefix, ms);
    }
    /* wake up at the deadline at the latest */
    iterate_once ((deadline - g_get_monotonic_time ()) / 1000);
  }
  return found;
}

/* ------------------------------------------------------------ async glue */

typedef struct
{
  gboolean done;
  GAsyncResult *res;
} AsyncWait;

static void
async_cb (GObject * source, GAsyncResult * res, gpointer user_data)
{
  AsyncWait *w = user_data;

  g_assert_false (w->done);     /* a task completes exactly once */
  w->res = g_object_ref (res);
  w->done = TRUE;
}

static gboolean
client_connect (NoomClient * client, const gchar * url, guint timeout_ms,
    GCancellable * cancellable, GError ** error)
{
  AsyncWait w = { FALSE, NULL };
  gboolean ok;

  noom_client_connect_async (client, url, NULL, timeout_ms, cancellable,
      async_cb, &w);
  if (!iterate_until (&w.done, DEADLINE_MS + timeout_ms))
    g_error ("connect did not complete in time");
  ok = noom_client_connect_finish (client, w.res, error);
  g_object_unref (w.res);
  return ok;
}

static NoomJoinInfo *
client_join (NoomClient * client, const gchar * room, const gchar * nickname,
    const gchar * kind, NoomMediaFlags sends, GError ** error)
{
  AsyncWait w = { FALSE, NULL };
  NoomJoinInfo *info;

  noom_client_join_async (client, room, nickname, kind, sends, NULL,
      async_cb, &w);
  if (!iterate_until (&w.done, DEADLINE_MS))
    g_error ("join did not complete in time");
  info = noom_client_join_finish (client, w.res, error);
  g_object_unref (w.res);
  return info;
}

static gchar *
client_set_nickname (NoomClient * client, const gchar * nickname,
    GError ** error)
{
  AsyncWait w = { FALSE, NULL };
  gchar *confirmed;

  noom_client_set_nickname_async (client, nickname, NULL, async_cb, &w);
  if (!iterate_until (&w.done, DEADLINE_MS))
    g_error ("nickname did not complete in time");
  confirmed = noom_client_set_nickname_finish (client, w.res, error);
  g_object_unref (w.res);
  return confirmed;
}

static Recorder *
connected_recorder (Server * server)
{
  g_autoptr (GError) error = NULL;
  Recorder *r = recorder_new ();

  g_assert_true (client_connect (r->client, server->url, NOOM_TEST_MS (5000), NULL, &error));
  g_assert_no_error (error);
  return r;
}


static void
assert_participant (NoomParticipant * p, const gchar * id,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends)
{
  g_assert_cmpstr (p->id, ==, id);
  g_assert_cmpstr (p->nickname, ==, nickname);
  g_assert_cmpstr (p->kind, ==, kind);
  g_assert_cmpuint (p->sends, ==, sends);
}

/* ------------------------------------------------------------ fake server */

/* A scripted Engine.IO/Socket.IO peer on SoupServer, in this process: for
 * the answers the real server does not give (yet), and for broken ones */
typedef struct
{
  SoupServer *server;
  gchar *url;
  const gchar *open_packet;     /* sent on connect */
  const gchar *connect_reply;   /* answer to "40..." (NULL: none) */
  const gchar *join_reply;      /* args of the ack to an enter_room */
  SoupWebsocketConnection *conn;
  GPtrArray *received;          /* text frames from the client */
  gushort close_code;           /* the client's, once closed */
  gboolean closed;
} Fake;

static void
fake_send (Fake * f, const gchar * text)
{
  g_assert_nonnull (f->conn);
  soup_websocket_connection_send_text (f->conn, text);
}

static void
fake_message_cb (SoupWebsocketConnection * conn, gint type, GBytes * message,
    Fake * f)
{
  gsize len;
  const gchar *data = g_bytes_get_data (message, &len);
  gchar *text = g_strndup (data, len);

  g_ptr_array_add (f->received, text);
  if (g_str_has_prefix (text, "40") && f->connect_reply)
    fake_send (f, f->connect_reply);
  if (g_str_has_prefix (text, "42") && strstr (text, "\"enter_room\"")
      && f->join_reply) {
    g_autofree gchar *reply = NULL;
    guint64 id = g_ascii_strtoull (text + 2, NULL, 10);

    reply = g_strdup_printf ("43%" G_GUINT64_FORMAT "%s", id, f->join_reply);
    fake_send (f, reply);
  }
}

static void
fake_closed_cb (SoupWebsocketConnection * conn, Fake * f)
{
  f->close_code = soup_websocket_connection_get_close_code (conn);
  f->closed = TRUE;
}

static void
fake_ws_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    SoupWebsocketConnection * conn, gpointer user_data)
{
  Fake *f = user_data;

  g_assert_null (f->conn);
  f->conn = g_object_ref (conn);
  g_signal_connect (conn, "message", G_CALLBACK (fake_message_cb), f);
  g_signal_connect (conn, "closed", G_CALLBACK (fake_closed_cb), f);
  if (f->open_packet)
    fake_send (f, f->open_packet);
}

#define FAKE_OPEN "0{\"sid\":\"s\",\"upgrades\":[],\"pingInterval\":25000," \
  "\"pingTimeout\":20000,\"maxPayload\":1000000}"
#define FAKE_CONNECTED "40{\"sid\":\"AAAAAAAAAAAAAAAAAAAA\"}"

static Fake *
fake_new (const gchar * open_packet, const gchar * connect_reply)
{
  Fake *f = g_new0 (Fake, 1);
  g_autoptr (GError) error = NULL;
  GSList *uris;

  f->open_packet = open_packet;
  f->connect_reply = connect_reply;
  f->received = g_ptr_array_new_with_free_func (g_free);
  f->server = soup_server_new (NULL, NULL);
  soup_server_add_websocket_handler (f->server, "/socket.io/", NULL, NULL,
      fake_ws_cb, f, NULL);
  soup_server_listen_local (f->server, 0, SOUP_SERVER_LISTEN_IPV4_ONLY, &error);
  g_assert_no_error (error);
  uris = soup_server_get_uris (f->server);
  f->url = g_strdup_printf ("ws://127.0.0.1:%d/socket.io/?EIO=4&"
      "transport=websocket", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return f;
}

static void
fake_free (Fake * f)
{
  if (f->conn) {
    /* finish the close handshake, so that libsoup lets go of the socket */
    if (soup_websocket_connection_get_state (f->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup_websocket_connection_close (f->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
          NULL);
    iterate_until (&f->closed, DEADLINE_MS);
    g_signal_handlers_disconnect_by_data (f->conn, f);
    g_object_unref (f->conn);
  }
  soup_server_disconnect (f->server);
  g_object_unref (f->server);
  g_ptr_array_unref (f->received);
  g_free (f->url);
  g_free (f);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Fake, fake_free);

static gboolean
fake_has_received (Fake * f, const gchar * text)
{
  guint i;

  for (i = 0; i < f->received->len; i++)
    if (g_str_equal (g_ptr_array_index (f->received, i), text))
      return TRUE;
  return FALSE;
}

/* Iterate until the fake got exactly @text from the client */
static void
fake_wait_received (Fake * f, const gchar * text)
{
  gint64 deadline = g_get_monotonic_time () + DEADLINE_MS * 1000;

  while (!fake_has_received (f, text)) {
    if (g_get_monotonic_time () >= deadline)
      g_error ("the fake server never received %s", text);
    iterate_once (100);
  }
}

static void
test_fake_connect_error (void)
{
  static const struct
  {
    const gchar *reply;
    gint code;
    const gchar *words;
  } cases[] = {
    {"44{\"message\":\"go away\",\"data\":{\"code\":\"busy\"}}",
        NOOM_CLIENT_ERROR_REFUSED, "go away"},
    {"44{\"message\":\"bad token\",\"data\":{\"code\":\"forbidden\"}}",
        NOOM_CLIENT_ERROR_FORBIDDEN, "bad token"},
    {"44\"plain words\"", NOOM_CLIENT_ERROR_REFUSED, "plain words"},
    /* the open packet must carry the ping settings */
    {NULL, NOOM_CLIENT_ERROR_PROTOCOL, "ping"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (Fake) f = fake_new (cases[i].reply ? FAKE_OPEN :
        "0{\"sid\":\"s\"}", cases[i].reply);
    g_autoptr (Recorder) r = recorder_new ();
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonObject) auth = json_object_new ();
    AsyncWait w = { FALSE, NULL };

    json_object_set_string_member (auth, "token", "t0k\"en");
    noom_client_connect_async (r->client, f->url, auth, NOOM_TEST_MS (5000), NULL, async_cb,
        &w);
    g_assert_true (iterate_until (&w.done, DEADLINE_MS));
    g_assert_false (noom_client_connect_finish (r->client, w.res, &error));
    g_object_unref (w.res);
    g_assert_error (error, NOOM_CLIENT_ERROR, cases[i].code);
    g_assert_nonnull (strstr (error->message, cases[i].words));
    g_assert_false (noom_client_is_connected (r->client));
    if (cases[i].reply)
      g_assert_true (fake_has_received (f, "40{\"token\":\"t0k\\\"en\"}"));
    g_assert_cmpuint (r->events->len, ==, 0);
  }
}

static Recorder *
fake_connected_recorder (Fake * f)
{
  g_autoptr (GError) error = NULL;
  Recorder *r = recorder_new ();

  g_assert_true (client_connect (r->client, f->url, NOOM_TEST_MS (5000), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (noom_client_get_id (r->client), ==, "AAAAAAAAAAAAAAAAAAAA");
  return r;
}

static void
test_fake_events (void)
{
  g_autoptr (Fake) f = fake_new (FAKE_OPEN, FAKE_CONNECTED);
  g_autoptr (Recorder) r = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomJoinInfo) info = NULL;
  g_autofree gchar *e = NULL;

  f->join_reply =
      "[{\"ok\":true,\"room\":\"r\",\"id\":\"AAAAAAAAAAAAAAAAAAAA\","
      "\"self\":{\"id\":\"AAAAAAAAAAAAAAAAAAAA\",\"nickname\":\"me\","
      "\"kind\":\"subscriber\",\"sends\":[]},\"participants\":[{\"id\":\"P1\","
      "\"nickname\":\"p\",\"kind\":\"recorder\",\"sends\":[\"video\","
      "\"smell\"]}],\"count\":2,\"iceServers\":[{\"urls\":\"stun:s:1\"},"
      "{\"urls\":[\"turn:t:2?transport=tcp\",\"bogus:x\"],\"username\":\"u\","
      "\"credential\":\"c\"},{\"urls\":[\"turn:nocreds\"]}],\"maxRoomSize\":9}]";
  r = fake_connected_recorder (f);

  /* pings are answered, payload included */
  fake_send (f, "2");
  fake_wait_received (f, "3");
  fake_send (f, "2probe");
  fake_wait_received (f, "3probe");

  info = client_join (r->client, "r", "me", "subscriber", NOOM_MEDIA_NONE,
      &error);
  g_assert_no_error (error);
  g_assert_true (fake_has_received (f, "420[\"enter_room\",\"r\","
          "{\"nickname\":\"me\",\"kind\":\"subscriber\",\"sends\":[]}]"));
  g_assert_cmpuint (info->count, ==, 2);
  g_assert_cmpuint (info->max_room_size, ==, 9);
  assert_participant (g_ptr_array_index (info->participants, 0), "P1", "p",
      "recorder", NOOM_MEDIA_VIDEO);
  g_assert_cmpuint (g_strv_length (info->ice_servers), ==, 2);
  g_assert_cmpstr (info->ice_servers[0], ==, "stun://s:1");
  g_assert_cmpstr (info->ice_servers[1], ==, "turn://u:c@t:2?transport=tcp");

  /* the wire format of what the client sends */
  noom_client_send_ice (r->client, "P1", 2, "v", "candidate:x");
  fake_wait_received (f, "42[\"ice\",{\"candidate\":\"candidate:x\","
      "\"sdpMid\":\"v\",\"sdpMLineIndex\":2},\"r\",\"P1\"]");
  noom_client_send_ice (r->client, "P1", 0, NULL, NULL);
  fake_wait_received (f, "42[\"ice\",null,\"r\",\"P1\"]");
  noom_client_send_answer (r->client, "P1", "v=0\r\n");
  fake_wait_received (f, "42[\"answer\",{\"type\":\"answer\","
      "\"sdp\":\"v=0\\r\\n\"},\"r\",\"P1\"]");

  /* a seed-style welcome (no participant) and a malformed one: no signal;
   * then a good one */
  fake_send (f, "42[\"welcome\",\"x\",2]");
  fake_send (f, "42[\"welcome\",\"x\",2,{\"id\":5}]");
  fake_send (f, "42[\"room_change\",[],[]]");
  fake_send (f, "42[\"some_future_event\",1]");
  fake_send (f, "42[\"welcome\",\"q\",3,{\"id\":\"Q\",\"nickname\":\"q\","
      "\"kind\":\"browser\",\"sends\":[\"audio\",\"video\"]}]");
  e = wait_event (r, "joined ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, "joined Q q browser av");
  g_clear_pointer (&e, g_free);
  g_assert_cmpuint (r->events->len, ==, 0);

  fake_send (f, "42[\"participant_update\",{\"id\":\"Q\",\"nickname\":\"q2\","
      "\"kind\":\"browser\",\"sends\":[\"audio\"]}]");
  e = wait_event (r, "updated ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, "updated Q q2 browser a-");
  g_clear_pointer (&e, g_free);

  /* a browser's end of candidates is candidate "" */
  fake_send (f, "42[\"ice\",{\"candidate\":\"\",\"sdpMid\":\"0\","
      "\"sdpMLineIndex\":0},\"Q\"]");
  e = wait_event (r, "ice ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, "ice Q 0 0 (end)");
  g_clear_pointer (&e, g_free);

  fake_send (f, "42[\"noom_error\",{\"code\":\"rate_limited\",\"message\":"
      "\"slow down\",\"event\":\"ice\"}]");
  e = wait_event (r, "server-error ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, "server-error rate_limited slow down [ice]");
  g_clear_pointer (&e, g_free);
  /* an event name the client never sends makes no detail (no quark) */
  fake_send (f, "42[\"noom_error\",{\"code\":\"unknown_event\",\"message\":"
      "\"what?\",\"event\":\"x-never-sent-by-noom\"}]");
  e = wait_event (r, "server-error ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, "server-error unknown_event what?");
  g_clear_pointer (&e, g_free);
  g_assert_cmpuint (g_quark_try_string ("x-never-sent-by-noom"), ==, 0);

  /* leave, then a clean close: DISCONNECT packet, then close frame 1000 */
  noom_client_leave (r->client);
  fake_wait_received (f, "42[\"leave_room\"]");
  noom_client_close (r->client);
  fake_wait_received (f, "41");
  g_assert_true (iterate_until (&f->closed, DEADLINE_MS));
  g_assert_cmpuint (f->close_code, ==, SOUP_WEBSOCKET_CLOSE_NORMAL);
  g_assert_cmpuint (r->events->len, ==, 0);
}

static void
test_fake_join_errors (void)
{
  g_autoptr (Fake) f = fake_new (FAKE_OPEN, FAKE_CONNECTED);
  g_autoptr (Recorder) r = NULL;
  static const struct
  {
    const gchar *reply;
    gint code;
    const gchar *words;
  } cases[] = {
    {"[{\"error\":{\"code\":\"forbidden\",\"message\":\"no entry\"}}]",
        NOOM_CLIENT_ERROR_FORBIDDEN, "no entry"},
    {"[{\"error\":{\"code\":\"bad_name\"}}]", NOOM_CLIENT_ERROR_REJECTED,
        "bad_name"},
    {"[]", NOOM_CLIENT_ERROR_PROTOCOL, "not an object"},
    /* an ACK without arguments ("43<id>"): found by /client/fake/mutations
     * under ASan */
    {"", NOOM_CLIENT_ERROR_PROTOCOL, "not an object"},
    {"[{\"ok\":true}]", NOOM_CLIENT_ERROR_PROTOCOL, "lacks"},
    {"[{\"ok\":true,\"room\":\"r\",\"self\":{\"id\":\"A\"},"
          "\"participants\":[],\"count\":1}]", NOOM_CLIENT_ERROR_PROTOCOL,
        "participant"},
  };
  guint i;

  r = fake_connected_recorder (f);
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    NoomJoinInfo *info;

    f->join_reply = cases[i].reply;
    info = client_join (r->client, "r", NULL, NULL, NOOM_MEDIA_AUDIO, &error);
    g_assert_null (info);
    g_assert_error (error, NOOM_CLIENT_ERROR, cases[i].code);
    g_assert_nonnull (strstr (error->message, cases[i].words));
    g_assert_null (noom_client_get_room (r->client));
  }

  /* a server that never answers: the join fails after request-timeout */
  {
    g_autoptr (GError) error = NULL;
    guint timeout = 0;
    gint64 start = g_get_monotonic_time (), elapsed;

    g_object_get (r->client, "request-timeout", &timeout, NULL);
    g_assert_cmpuint (timeout, ==, NOOM_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS);
    g_object_set (r->client, "request-timeout", 300, NULL);
    f->join_reply = NULL;
    g_assert_null (client_join (r->client, "r", NULL, NULL, NOOM_MEDIA_NONE,
            &error));
    elapsed = (g_get_monotonic_time () - start) / 1000;
    g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_UNREACHABLE);
    g_assert_nonnull (strstr (error->message, "300 ms"));
    g_assert_cmpint (elapsed, >=, 250);
    g_assert_true (noom_client_is_connected (r->client));
    g_object_set (r->client, "request-timeout", 0, NULL);
  }

  /* a cancelled join completes at once; its late answer is dropped */
  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (GError) error = NULL;
    AsyncWait w = { FALSE, NULL };

    f->join_reply = NULL;
    noom_client_join_async (r->client, "r", NULL, NULL, NOOM_MEDIA_NONE,
        cancellable, async_cb, &w);
    g_cancellable_cancel (cancellable);
    g_assert_true (iterate_until (&w.done, DEADLINE_MS));
    g_assert_null (noom_client_join_finish (r->client, w.res, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_object_unref (w.res);
    fake_send (f, "436[{\"error\":{\"code\":\"late\"}}]");
    fake_send (f, "435[{\"error\":{\"code\":\"late\"}}]");
    /* still connected: a round trip proves the late ack was harmless */
    fake_send (f, "2late");
    fake_wait_received (f, "3late");
    g_assert_true (noom_client_is_connected (r->client));
  }
  noom_client_close (r->client);
}

static void
test_fake_drops (void)
{
  static const struct
  {
    const gchar *packet;
    gint code;
  } cases[] = {
    {"41", NOOM_CLIENT_ERROR_DISCONNECTED},
    {"1", NOOM_CLIENT_ERROR_DISCONNECTED},
    {"4garbage", NOOM_CLIENT_ERROR_PROTOCOL},
    {"42{}", NOOM_CLIENT_ERROR_PROTOCOL},
    {"9", NOOM_CLIENT_ERROR_PROTOCOL},
    {"0{\"sid\":\"again\"}", NOOM_CLIENT_ERROR_PROTOCOL},
    {"451-[\"x\",{\"_placeholder\":true,\"num\":0}]",
        NOOM_CLIENT_ERROR_PROTOCOL},
    {NULL, NOOM_CLIENT_ERROR_DISCONNECTED},     /* the server closes */
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (Fake) f = fake_new (FAKE_OPEN, FAKE_CONNECTED);
    g_autoptr (Recorder) r = fake_connected_recorder (f);
    g_autofree gchar *e = NULL;
    g_autofree gchar *prefix = g_strdup_printf ("disconnected %d ",
        cases[i].code);

    g_test_message ("server sends %s", cases[i].packet);
    if (cases[i].packet)
      fake_send (f, cases[i].packet);
    else
      soup_websocket_connection_close (f->conn, SOUP_WEBSOCKET_CLOSE_NORMAL,
          "bye");
    e = wait_event (r, "disconnected ", DEADLINE_MS);
    g_assert_true (g_str_has_prefix (e, prefix));
    g_assert_nonnull (strstr (e, f->url));
    g_assert_false (noom_client_is_connected (r->client));
    /* the client hangs up on a broken server */
    g_assert_true (iterate_until (&f->closed, DEADLINE_MS));
  }
}


/* JSON nested 100,000 deep (json-glib's recursive parser overflows the
 * stack on it): from a relayed event, or in the open packet, the client
 * hangs up with a protocol error and does not crash. */
static gchar *
deep_value (guint depth)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < depth; i++)
    g_string_append (s, i % 3 ? "[" : "{\"k\":");
  g_string_append (s, "1");
  for (i = depth; i > 0; i--)
    g_string_append_c (s, (i - 1) % 3 ? ']' : '}');
  return g_string_free (s, FALSE);
}

static void
test_fake_deep (void)
{
  g_autofree gchar *value = deep_value (100000);
  g_autofree gchar *event = g_strdup_printf ("42[\"new_message\",\"q: hi\","
      "%s]", value);
  g_autofree gchar *open = g_strdup_printf ("0{\"sid\":\"s\",\"x\":%s}",
      value);

  {
    g_autoptr (Fake) f = fake_new (FAKE_OPEN, FAKE_CONNECTED);
    g_autoptr (Recorder) r = fake_connected_recorder (f);
    g_autofree gchar *e = NULL;
    g_autofree gchar *prefix = g_strdup_printf ("disconnected %d ",
        NOOM_CLIENT_ERROR_PROTOCOL);

    fake_send (f, event);
    e = wait_event (r, "disconnected ", DEADLINE_MS);
    g_assert_true (g_str_has_prefix (e, prefix));
    g_assert_nonnull (strstr (e, "nested deeper than"));
    g_assert_true (iterate_until (&f->closed, DEADLINE_MS));
  }
  {
    g_autoptr (Fake) f = fake_new (open, FAKE_CONNECTED);
    g_autoptr (Recorder) r = recorder_new ();
    g_autoptr (GError) error = NULL;
    AsyncWait w = { FALSE, NULL };

    noom_client_connect_async (r->client, f->url, NULL, NOOM_TEST_MS (5000), NULL, async_cb,
        &w);
    g_assert_true (iterate_until (&w.done, DEADLINE_MS));
    g_assert_false (noom_client_connect_finish (r->client, w.res, &error));
    g_object_unref (w.res);
    g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (error->message, "nested deeper than"));
  }
}

/* Mutated server packets: the client ignores them or hangs up with an
 * error, and never crashes, hangs or leaks (run under valgrind to see the
 * last) */
static void
test_fake_mutations (void)
{
  static const gchar *seeds[] = {
    "42[\"welcome\",\"q\",3,{\"id\":\"Q\",\"nickname\":\"q\",\"kind\":"
        "\"browser\",\"sends\":[\"audio\",\"video\"]}]",
    "42[\"ice\",{\"candidate\":\"candidate:1\",\"sdpMid\":\"0\","
        "\"sdpMLineIndex\":0},\"Q\"]",
    "42[\"offer\",{\"type\":\"offer\",\"sdp\":\"v=0\"},\"Q\"]",
    "42[\"new_message\",\"q: hi\",{\"room\":\"r\",\"from\":\"Q\","
        "\"nickname\":\"q\",\"text\":\"hi\",\"ts\":1}]",
    "430[{\"ok\":true,\"room\":\"r\",\"self\":{\"id\":\"A\",\"nickname\":"
        "\"a\",\"kind\":\"browser\",\"sends\":[]},\"participants\":[],"
        "\"count\":1,\"iceServers\":[{\"urls\":\"turn:h\",\"username\":\"u\","
        "\"credential\":\"c\"}]}]",
    "42[\"noom_error\",{\"code\":\"x\",\"message\":\"y\"}]",
    "2probe",
  };
  Fake *f = NULL;
  Recorder *r = NULL;
  AsyncWait w = { FALSE, NULL };
  guint i, disconnects = 0;

  for (i = 0; i < 300; i++) {
    const gchar *seed = seeds[g_test_rand_int_range (0, G_N_ELEMENTS (seeds))];
    g_autofree gchar *packet = g_strdup (seed);
    gint64 deadline;
    guint n = g_test_rand_int_range (1, 4), k;

    if (f == NULL) {
      f = fake_new (FAKE_OPEN, FAKE_CONNECTED);
      r = fake_connected_recorder (f);
      /* a join in flight, so that an ack 0 has somewhere to go */
      w.done = FALSE;
      noom_client_join_async (r->client, "r", NULL, NULL, NOOM_MEDIA_NONE,
          NULL, async_cb, &w);
    }
    for (k = 0; k < n && *packet; k++) {
      gsize len = strlen (packet);
      gsize at = g_test_rand_int_range (0, len);

      switch (g_test_rand_int_range (0, 4)) {
        case 0:                /* a random printable byte */
          packet[at] = (gchar) g_test_rand_int_range (0x20, 0x7f);
          break;
        case 1:                /* JSON structure */
          packet[at] = "[]{}\",:0-"[g_test_rand_int_range (0, 9)];
          break;
        case 2:                /* truncation */
          packet[at] = '\0';
          break;
        default:               /* a high byte: mostly invalid UTF-8 */
          packet[at] = (gchar) g_test_rand_int_range (0x80, 0x100);
          break;
      }
    }
    /* a WebSocket text frame is UTF-8: libsoup refuses anything else */
    if (*packet == '\0' || !g_utf8_validate (packet, -1, NULL))
      continue;
    g_test_message ("mutation %u: %s", i, packet);
    fake_send (f, packet);
    /* a ping after it: the pong proves the client is alive and done with
     * the mutation; hanging up is the other acceptable outcome */
    fake_send (f, "2after");
    deadline = g_get_monotonic_time () + DEADLINE_MS * 1000;
    while (!fake_has_received (f, "3after") && !f->closed) {
      iterate_once (100);
      if (g_get_monotonic_time () > deadline)
        g_error ("the client neither answered nor hung up");
    }
    if (f->closed) {
      g_free (wait_event (r, "disconnected ", DEADLINE_MS));
      g_assert_false (noom_client_is_connected (r->client));
      disconnects++;
      /* the join in flight, if any, failed with the connection */
      g_assert_true (iterate_until (&w.done, DEADLINE_MS));
      g_clear_object (&w.res);
      g_clear_pointer (&r, recorder_free);
      g_clear_pointer (&f, fake_free);
    } else {
      g_ptr_array_set_size (f->received, 0);
      g_ptr_array_set_size (r->events, 0);
    }
  }
  g_test_message ("%u disconnects", disconnects);
  if (r) {
    noom_client_close (r->client);
    g_assert_true (iterate_until (&w.done, DEADLINE_MS));
    g_clear_object (&w.res);
    recorder_free (r);
    fake_free (f);
  }
}

/* ------------------------------------------------------------------- TLS */

static gboolean
make_certificate (const gchar * dir, gchar ** cert, gchar ** key)
{
  g_autofree gchar *openssl = g_find_program_in_path ("openssl");
  g_autoptr (GError) error = NULL;
  gint status = 0;

  if (openssl == NULL)
    return FALSE;
  *cert = g_build_filename (dir, "cert.pem", NULL);
  *key = g_build_filename (dir, "key.pem", NULL);
  {
    const gchar *argv[] = { openssl, "req", "-x509", "-newkey", "ec",
      "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-subj", "/CN=localhost", "-keyout", *key, "-out", *cert, NULL
    };

    g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_STDOUT_TO_DEV_NULL |
        G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL, NULL, &status, &error);
  }
  g_assert_no_error (error);
  return g_spawn_check_wait_status (status, NULL);
}

static void
test_tls (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("noom-tls-XXXXXX", NULL);
  g_autofree gchar *cert = NULL;
  g_autofree gchar *key = NULL;
  g_autofree gchar *handshake = NULL;
  g_autoptr (Server) server = NULL;
  g_autoptr (Recorder) r = NULL;
  g_autoptr (GError) error = NULL;

  if (g_getenv ("NOOM_SERVER") == NULL) {
    g_test_skip ("NOOM_SERVER is not set");
    goto out;
  }
  if (!make_certificate (dir, &cert, &key)) {
    g_test_skip ("openssl could not make a certificate");
    goto out;
  }
  /* the server's 5 s for a handshake, stretched with the test's deadlines:
   * under ASan on a busy machine the server closed a handshake the client
   * was still checking ("Connection reset by peer", not "self-signed") */
  handshake = g_strdup_printf ("%d", (gint) (5 * noom_test_time_scale () +
          0.5));
  server = server_start ("--tls-cert", cert, "--tls-key", key,
      "--handshake-timeout", handshake, NULL);
  g_assert_true (server->tls);
  g_assert_true (g_str_has_prefix (server->url, "wss://"));

  /* self-signed: refused unless asked */
  r = recorder_new ();
  g_assert_false (client_connect (r->client, server->url, NOOM_TEST_MS (5000), NULL, &error));
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, server->url));
  /* why, in words a user can act on */
  g_assert_nonnull (strstr (error->message, "self-signed"));
  g_clear_error (&error);

  g_object_set (r->client, "accept-invalid-certificates", TRUE, NULL);
  g_assert_true (client_connect (r->client, server->url, NOOM_TEST_MS (5000), NULL, &error));
  g_assert_no_error (error);
  noom_join_info_free (client_join (r->client, "secure", "s", "browser",
          NOOM_MEDIA_VIDEO, &error));
  g_assert_no_error (error);
  noom_client_close (r->client);

out:
  if (cert)
    g_unlink (cert);
  if (key)
    g_unlink (key);
  g_rmdir (dir);
}

/* ------------------------------------------------------------------ tests */

/* Connect with {"token": @token} (NULL: no auth at all). */
static gboolean
client_connect_token (NoomClient * client, const gchar * url,
    const gchar * token, GError ** error)
{
  g_autoptr (JsonObject) auth = NULL;
  AsyncWait w = { FALSE, NULL };
  gboolean ok;

  if (token) {
    auth = json_object_new ();
    json_object_set_string_member (auth, "token", token);
  }
  noom_client_connect_async (client, url, auth, NOOM_TEST_MS (5000), NULL, async_cb, &w);
  if (!iterate_until (&w.done, DEADLINE_MS + 5000))
    g_error ("connect did not complete in time");
  ok = noom_client_connect_finish (client, w.res, error);
  g_object_unref (w.res);
  return ok;
}

/* --token-secret: the C client (what the elements use) carries the token
 * in the CONNECT auth and gets clear errors for bad ones. */
static void
test_token (void)
{
  static const gchar secret_text[] = "interop-secret-0123456789abcdef";
  g_autofree gchar *dir = g_dir_make_tmp ("noom-interop-XXXXXX", NULL);
  g_autofree gchar *file = g_build_filename (dir, "secret", NULL);
  g_autoptr (GBytes) secret = g_bytes_new_static (secret_text,
      strlen (secret_text));
  g_autoptr (GBytes) other = g_bytes_new_static ("another-secret-0123456789",
      25);
  g_autoptr (Server) server = NULL;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  g_autofree gchar *good = noom_token_mint (secret, "stage", "cam-1",
      NOOM_TOKEN_CAN_PUBLISH, now + 600);
  g_autofree gchar *expired = noom_token_mint (secret, "stage", "cam-1",
      NOOM_TOKEN_CAN_PUBLISH, now - 3600);
  g_autofree gchar *forged = noom_token_mint (other, "stage", "cam-1",
      NOOM_TOKEN_CAN_PUBLISH, now + 600);
  const gchar *bad[] = { NULL, expired, forged, "junk" };
  guint i;

  g_assert_true (g_file_set_contents (file, secret_text, -1, NULL));
  server = server_start ("--token-secret", file, NULL);
  if (server == NULL)
    goto out;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (Recorder) r = recorder_new ();
    g_autoptr (GError) error = NULL;

    g_assert_false (client_connect_token (r->client, server->url, bad[i],
            &error));
    g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_FORBIDDEN);
    g_test_message ("refused: %s", error->message);
    g_assert_nonnull (strstr (error->message, "token"));
    g_assert_false (noom_client_is_connected (r->client));
  }

  {
    g_autoptr (Recorder) r = recorder_new ();
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomJoinInfo) info = NULL;

    g_assert_true (client_connect_token (r->client, server->url, good, &error));
    g_assert_no_error (error);
    /* another room: forbidden, still connected */
    info = client_join (r->client, "backstage", NULL, "publisher",
        NOOM_MEDIA_VIDEO, &error);
    g_assert_null (info);
    g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_FORBIDDEN);
    g_clear_error (&error);
    /* receiving needs subscribe, which this token lacks */
    info = client_join (r->client, "stage", NULL, "subscriber",
        NOOM_MEDIA_NONE, &error);
    g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_FORBIDDEN);
    g_clear_error (&error);
    /* its own room as a publisher, named after the token's identity */
    info = client_join (r->client, "stage", NULL, "publisher",
        NOOM_MEDIA_VIDEO, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (info->self->nickname, ==, "cam-1");
    noom_client_close (r->client);
  }

out:
  g_unlink (file);
  g_rmdir (dir);
}

static void
test_connect_close (void)
{
  g_autoptr (Server) server = server_start (NULL);
  g_autoptr (Recorder) r = NULL;
  g_autoptr (Recorder) probe = NULL;
  const gchar *id;

  if (server == NULL)
    return;
  r = connected_recorder (server);
  g_assert_true (noom_client_is_connected (r->client));
  id = noom_client_get_id (r->client);
  g_assert_nonnull (id);
  g_assert_cmpuint (strlen (id), ==, 20);
  g_assert_null (noom_client_get_room (r->client));

  noom_client_close (r->client);
  g_assert_false (noom_client_is_connected (r->client));
  g_assert_null (noom_client_get_id (r->client));

  /* a clean close emits no "disconnected"; prove it by round-tripping
   * another client through the server after the close */
  probe = connected_recorder (server);
  g_assert_cmpuint (r->events->len, ==, 0);

  /* a closed client can connect again, and gets a new id */
  {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *old = g_strdup (noom_client_get_id (probe->client));

    g_assert_true (client_connect (r->client, server->url, NOOM_TEST_MS (5000), NULL, &error));
    g_assert_cmpstr (noom_client_get_id (r->client), !=, old);
    noom_client_close (r->client);
    noom_client_close (probe->client);
  }
}

static void
test_join_leave (void)
{
  g_autoptr (Server) server = server_start (NULL);
  g_autoptr (Recorder) a = NULL;
  g_autoptr (Recorder) b = NULL;
  g_autoptr (NoomJoinInfo) ia = NULL;
  g_autoptr (NoomJoinInfo) ib = NULL;
  g_autoptr (NoomJoinInfo) ib2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *expected = NULL;
  g_autofree gchar *e = NULL;
  const gchar *ida, *idb;

  if (server == NULL)
    return;
  a = connected_recorder (server);
  b = connected_recorder (server);
  ida = noom_client_get_id (a->client);
  idb = noom_client_get_id (b->client);

  ia = client_join (a->client, "café ☕", "alice", "publisher",
      NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ia->room, ==, "café ☕");
  g_assert_cmpstr (noom_client_get_room (a->client), ==, "café ☕");
  assert_participant (ia->self, ida, "alice", "publisher",
      NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);
  g_assert_cmpuint (ia->participants->len, ==, 0);
  g_assert_cmpuint (ia->count, ==, 1);
  g_assert_cmpuint (ia->max_room_size, ==, 16);
  g_assert_nonnull (ia->ice_servers);

  ib = client_join (b->client, "café ☕", "bob", "subscriber",
      NOOM_MEDIA_NONE, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (ib->count, ==, 2);
  assert_participant (ib->self, idb, "bob", "subscriber", NOOM_MEDIA_NONE);
  g_assert_cmpuint (ib->participants->len, ==, 1);
  assert_participant (g_ptr_array_index (ib->participants, 0), ida, "alice",
      "publisher", NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);

  /* A sees B arrive, with B's participant object */
  expected = g_strdup_printf ("joined %s bob subscriber -", idb);
  e = wait_event (a, "joined ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);
  g_clear_pointer (&expected, g_free);

  /* B leaves without disconnecting */
  noom_client_leave (b->client);
  g_assert_null (noom_client_get_room (b->client));
  expected = g_strdup_printf ("left %s bob subscriber -", idb);
  e = wait_event (a, "left ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);

  /* B comes back, then closes: A sees it go */
  ib2 = client_join (b->client, "café ☕", "bob", "subscriber",
      NOOM_MEDIA_NONE, &error);
  g_assert_no_error (error);
  g_free (wait_event (a, "joined ", DEADLINE_MS));
  noom_client_close (b->client);
  e = wait_event (a, "left ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);

  /* B saw nothing but the events it caused */
  g_assert_cmpuint (b->events->len, ==, 0);
  noom_client_close (a->client);
}

static void
test_relay (void)
{
  g_autoptr (Server) server = server_start (NULL);
  g_autoptr (Recorder) a = NULL;
  g_autoptr (Recorder) b = NULL;
  g_autoptr (Recorder) c = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *expected = NULL;
  g_autofree gchar *e = NULL;
  const gchar *ida, *idb;
  const gchar *sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
  guint i;

  if (server == NULL)
    return;
  a = connected_recorder (server);
  b = connected_recorder (server);
  c = connected_recorder (server);
  ida = noom_client_get_id (a->client);
  idb = noom_client_get_id (b->client);
  {
    Recorder *all[] = { a, b, c };
    const gchar *names[] = { "alice", "bob", "carol" };

    for (i = 0; i < 3; i++) {
      NoomJoinInfo *info = client_join (all[i]->client, "relay", names[i],
          "browser", NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO, &error);

      g_assert_no_error (error);
      noom_join_info_free (info);
    }
  }
  g_free (wait_event (a, "joined ", DEADLINE_MS));
  g_free (wait_event (a, "joined ", DEADLINE_MS));
  g_free (wait_event (b, "joined ", DEADLINE_MS));

  /* A -> B only */
  noom_client_send_offer (a->client, idb, sdp);
  expected = g_strdup_printf ("offer %s %s", ida, sdp);
  e = wait_event (b, "offer ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);
  g_clear_pointer (&expected, g_free);

  noom_client_send_answer (b->client, ida, "v=0 answer");
  expected = g_strdup_printf ("answer %s v=0 answer", idb);
  e = wait_event (a, "answer ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);
  g_clear_pointer (&expected, g_free);

  noom_client_send_ice (a->client, idb, 1, "1",
      "candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host");
  expected = g_strdup_printf ("ice %s 1 1 candidate:1 1 UDP 2122252543 "
      "127.0.0.1 40000 typ host", ida);
  e = wait_event (b, "ice ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);
  g_clear_pointer (&expected, g_free);

  noom_client_send_ice (a->client, idb, 0, NULL, NULL);
  expected = g_strdup_printf ("ice %s 0 (null) (end)", ida);
  e = wait_event (b, "ice ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);
  g_clear_pointer (&expected, g_free);

  /* chat goes to everyone else; the server keeps order per connection, so
   * once C has the chat it would have had the offer/answer/ice too */
  noom_client_send_chat (a->client, "hi <b>all</b> ü");
  expected = g_strdup_printf ("chat %s alice hi <b>all</b> ü", ida);
  e = wait_event (c, "chat ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);
  e = wait_event (b, "chat ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);
  g_clear_pointer (&e, g_free);
  g_assert_cmpuint (c->events->len, ==, 0);
  g_assert_cmpuint (b->events->len, ==, 0);
  g_assert_false (has_prefix_event (a, "chat ", NULL));

  /* relaying to someone not in the room: the server answers noom_error */
  noom_client_send_offer (a->client, "AAAAAAAAAAAAAAAAAAAA", sdp);
  e = wait_event (a, "server-error unknown_peer ", DEADLINE_MS);
  g_clear_pointer (&e, g_free);

  noom_client_close (a->client);
  noom_client_close (b->client);
  noom_client_close (c->client);
}

static void
test_join_errors (void)
{
  g_autoptr (Server) server = server_start ("--max-room-size", "2", NULL);
  g_autoptr (Recorder) a = NULL;
  g_autoptr (Recorder) b = NULL;
  g_autoptr (Recorder) c = NULL;
  g_autoptr (GError) error = NULL;
  NoomJoinInfo *info;

  if (server == NULL)
    return;
  a = connected_recorder (server);
  b = connected_recorder (server);
  c = connected_recorder (server);
  noom_join_info_free (client_join (a->client, "small", "a", "browser",
          NOOM_MEDIA_AUDIO, &error));
  g_assert_no_error (error);
  info = client_join (b->client, "small", "b", "browser", NOOM_MEDIA_AUDIO,
      &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->max_room_size, ==, 2);
  noom_join_info_free (info);

  info = client_join (c->client, "small", "c", "browser", NOOM_MEDIA_AUDIO,
      &error);
  g_assert_null (info);
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_ROOM_FULL);
  g_assert_nonnull (strstr (error->message, "full"));
  g_assert_null (noom_client_get_room (c->client));
  g_clear_error (&error);

  /* any other refusal is REJECTED with the server's words */
  info = client_join (c->client, "bad\001name", "c", "browser",
      NOOM_MEDIA_AUDIO, &error);
  g_assert_null (info);
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "control"));
  g_clear_error (&error);

  /* the connection is still usable after refusals */
  g_assert_true (noom_client_is_connected (c->client));
  noom_join_info_free (client_join (c->client, "other", "c", "browser",
          NOOM_MEDIA_AUDIO, &error));
  g_assert_no_error (error);

  noom_client_close (a->client);
  noom_client_close (b->client);
  noom_client_close (c->client);
}

/* Renaming in the room: the ack confirms, the others get the participant
 * with its new nickname; a bad name is refused with the server's words and
 * changes nothing. */
static void
test_nickname (void)
{
  g_autoptr (Server) server = server_start (NULL);
  g_autoptr (Recorder) a = NULL;
  g_autoptr (Recorder) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *confirmed = NULL;
  g_autofree gchar *expected = NULL;
  g_autofree gchar *e = NULL;
  g_autofree gchar *refused = NULL;

  if (server == NULL)
    return;
  a = connected_recorder (server);
  b = connected_recorder (server);
  noom_join_info_free (client_join (a->client, "names", "alice", "publisher",
          NOOM_MEDIA_VIDEO, &error));
  g_assert_no_error (error);
  noom_join_info_free (client_join (b->client, "names", "bob", "subscriber",
          NOOM_MEDIA_NONE, &error));
  g_assert_no_error (error);
  g_free (wait_event (a, "joined ", DEADLINE_MS));

  confirmed = client_set_nickname (a->client, "Alice B.", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (confirmed, ==, "Alice B.");
  expected = g_strdup_printf ("updated %s Alice B. publisher v",
      noom_client_get_id (a->client));
  e = wait_event (b, "updated ", DEADLINE_MS);
  g_assert_cmpstr (e, ==, expected);

  refused = client_set_nickname (a->client, "bad\001name", &error);
  g_assert_null (refused);
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_REJECTED);
  g_assert_nonnull (strstr (error->message, "control"));
  g_clear_error (&error);
  g_assert_true (noom_client_is_connected (a->client));
  /* the server keeps order per connection: once bob has this chat, an
   * update for the refused name would have come before it */
  noom_client_send_chat (a->client, "still here");
  g_free (wait_event (b, "chat ", DEADLINE_MS));
  g_assert_false (has_prefix_event (b, "updated ", NULL));

  noom_client_close (a->client);
  noom_client_close (b->client);
}

static void
test_not_connected (void)
{
  g_autoptr (Recorder) r = recorder_new ();
  g_autoptr (GError) error = NULL;
  NoomJoinInfo *info;

  info = client_join (r->client, "x", NULL, NULL, NOOM_MEDIA_NONE, &error);
  g_assert_null (info);
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_DISCONNECTED);
  g_clear_error (&error);
  g_assert_null (client_set_nickname (r->client, "kim", &error));
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_DISCONNECTED);
  /* fire-and-forget calls are harmless */
  noom_client_send_chat (r->client, "nobody hears");
  noom_client_send_offer (r->client, "x", "v=0");
  noom_client_leave (r->client);
  noom_client_close (r->client);
  g_assert_cmpuint (r->events->len, ==, 0);
}

/* A loopback port with nothing listening on it */
static guint
free_port (void)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GInetAddress) lo = g_inet_address_new_loopback
      (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;
  guint port;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  /* closed without listen(): a connect gets ECONNREFUSED */
  return port;
}

static void
test_unreachable (void)
{
  g_autoptr (Recorder) r = recorder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url =
      g_strdup_printf ("ws://127.0.0.1:%u/socket.io/?EIO=4&transport=websocket",
      free_port ());
  gint64 start = g_get_monotonic_time ();

  g_assert_false (client_connect (r->client, url, 3000, NULL, &error));
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, url));
  /* refused at once, not at the timeout */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 3000 * 1000);
  g_assert_false (noom_client_is_connected (r->client));
  g_assert_cmpuint (r->events->len, ==, 0);
  g_clear_error (&error);

  /* a name that does not resolve (no DNS in the test namespace either) */
  g_assert_false (client_connect (r->client,
          "ws://noom-test.invalid:8080/socket.io/?EIO=4&transport=websocket",
          3000, NULL, &error));
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, "noom-test.invalid"));
  g_clear_error (&error);

  /* not a URL at all */
  g_assert_false (client_connect (r->client, "not a url", 3000, NULL, &error));
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_UNREACHABLE);
}

/* A TCP listener that accepts and never answers: a hung server */
typedef struct
{
  GSocketService *service;
  GPtrArray *connections;
  guint port;
  GCancellable *cancel_on_accept;       /* nullable */
} Silent;

static gboolean
silent_incoming (GSocketService * service, GSocketConnection * connection,
    GObject * source, gpointer user_data)
{
  Silent *s = user_data;

  g_ptr_array_add (s->connections, g_object_ref (connection));
  /* the client's TCP connect reached us: cancel now, mid-handshake */
  if (s->cancel_on_accept)
    g_cancellable_cancel (s->cancel_on_accept);
  return TRUE;
}

static Silent *
silent_new (void)
{
  Silent *s = g_new0 (Silent, 1);
  g_autoptr (GError) error = NULL;

  s->service = g_socket_service_new ();
  s->connections = g_ptr_array_new_with_free_func (g_object_unref);
  s->port = g_socket_listener_add_any_inet_port (G_SOCKET_LISTENER
      (s->service), NULL, &error);
  g_assert_no_error (error);
  g_signal_connect (s->service, "incoming", G_CALLBACK (silent_incoming), s);
  g_socket_service_start (s->service);
  return s;
}

static void
silent_free (Silent * s)
{
  g_socket_service_stop (s->service);
  g_socket_listener_close (G_SOCKET_LISTENER (s->service));
  g_object_unref (s->service);
  g_ptr_array_unref (s->connections);
  g_free (s);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Silent, silent_free);

static void
test_connect_timeout (void)
{
  g_autoptr (Silent) silent = silent_new ();
  g_autoptr (Recorder) r = recorder_new ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url =
      g_strdup_printf ("ws://127.0.0.1:%u/socket.io/?EIO=4&transport=websocket",
      silent->port);
  gint64 start = g_get_monotonic_time (), elapsed;

  g_assert_false (client_connect (r->client, url, 500, NULL, &error));
  elapsed = g_get_monotonic_time () - start;
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_UNREACHABLE);
  g_assert_nonnull (strstr (error->message, url));
  g_assert_nonnull (strstr (error->message, "500 ms"));
  g_assert_cmpint (elapsed, >=, 450 * 1000);
  g_assert_cmpint (elapsed, <, 5000 * 1000);
  g_assert_cmpuint (silent->connections->len, ==, 1);
}

static void
test_cancel_connect (void)
{
  g_autoptr (Silent) silent = silent_new ();
  g_autoptr (Recorder) r = recorder_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree gchar *url =
      g_strdup_printf ("ws://127.0.0.1:%u/socket.io/?EIO=4&transport=websocket",
      silent->port);
  gint64 start = g_get_monotonic_time ();
  AsyncWait w = { FALSE, NULL };

  silent->cancel_on_accept = cancellable;
  /* the timeout is long: only the cancel can end this quickly */
  g_assert_false (client_connect (r->client, url, 20000, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 5000 * 1000);
  g_assert_cmpuint (silent->connections->len, ==, 1);
  g_assert_false (noom_client_is_connected (r->client));
  g_clear_error (&error);

  /* already cancelled before the call */
  g_assert_false (client_connect (r->client, url, 20000, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* close() while connecting ends the connect, once */
  noom_client_connect_async (r->client, url, NULL, 20000, NULL, async_cb, &w);
  noom_client_close (r->client);
  g_assert_true (iterate_until (&w.done, DEADLINE_MS));
  g_assert_false (noom_client_connect_finish (r->client, w.res, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_object_unref (w.res);
  g_assert_cmpuint (r->events->len, ==, 0);
}

static void
test_refused_http (void)
{
  g_autoptr (Server) server = server_start (NULL);
  g_autoptr (Recorder) r = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *url = NULL;

  if (server == NULL)
    return;
  r = recorder_new ();
  /* Engine.IO v3 is refused with HTTP 400 */
  url = g_strdup_printf ("ws://127.0.0.1:%u/socket.io/?EIO=3&transport="
      "websocket", server->port);
  g_assert_false (client_connect (r->client, url, 5000, NULL, &error));
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_REFUSED);
  g_assert_nonnull (strstr (error->message, "400"));
  g_assert_nonnull (strstr (error->message, url));
}

static void
test_server_killed (void)
{
  g_autoptr (Server) server = server_start (NULL);
  g_autoptr (Recorder) a = NULL;
  g_autoptr (GError) error = NULL;
  AsyncWait w = { FALSE, NULL };
  g_autofree gchar *e = NULL;
  gint64 start;

  if (server == NULL)
    return;
  a = connected_recorder (server);
  noom_join_info_free (client_join (a->client, "k", "a", "browser",
          NOOM_MEDIA_AUDIO, &error));
  g_assert_no_error (error);
  /* a join in flight when the server dies fails, it does not hang (the
   * server is stopped first so that it cannot answer the join) */
  server_freeze (server);
  noom_client_join_async (a->client, "k2", "a", "browser", NOOM_MEDIA_AUDIO,
      NULL, async_cb, &w);
  start = g_get_monotonic_time ();
  g_subprocess_send_signal (server->process, SIGKILL);
  e = wait_event (a, "disconnected ", 5000);
  g_test_message ("%s after %" G_GINT64_FORMAT " ms", e,
      (g_get_monotonic_time () - start) / 1000);
  g_assert_true (g_str_has_prefix (e, "disconnected 5 "));      /* DISCONNECTED */
  g_assert_nonnull (strstr (e, server->url));
  g_assert_false (noom_client_is_connected (a->client));
  g_assert_null (noom_client_get_room (a->client));
  g_assert_true (iterate_until (&w.done, DEADLINE_MS));
  g_assert_null (noom_client_join_finish (a->client, w.res, &error));
  g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_DISCONNECTED);
  g_object_unref (w.res);
  /* exactly once */
  g_assert_false (has_prefix_event (a, "disconnected ", NULL));
}

static void
test_server_hung (void)
{
  g_autoptr (Server) server = server_start ("--ping-interval", "300",
      "--ping-timeout", "300", NULL);
  g_autoptr (Recorder) a = NULL;
  g_autofree gchar *e = NULL;
  gint64 start, elapsed;

  if (server == NULL)
    return;
  a = connected_recorder (server);
  /* a stopped server keeps its sockets open: only the missing pings
   * tell, after pingInterval + pingTimeout */
  start = g_get_monotonic_time ();
  server_freeze (server);
  e = wait_event (a, "disconnected ", 5000);
  elapsed = (g_get_monotonic_time () - start) / 1000;
  g_test_message ("%s after %" G_GINT64_FORMAT " ms", e, elapsed);
  g_assert_nonnull (strstr (e, "no ping within 600 ms"));
  g_assert_cmpint (elapsed, >=, 300);
  g_subprocess_send_signal (server->process, SIGCONT);
}

static void
test_keepalive (void)
{
  g_autoptr (Server) server = server_start ("--ping-interval", "200",
      "--ping-timeout", "400", NULL);
  g_autoptr (Recorder) a = NULL;
  g_autoptr (Recorder) b = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *e = NULL;
  gboolean never = FALSE;

  if (server == NULL)
    return;
  a = connected_recorder (server);
  b = connected_recorder (server);
  noom_join_info_free (client_join (a->client, "alive", "a", "browser",
          NOOM_MEDIA_AUDIO, &error));
  noom_join_info_free (client_join (b->client, "alive", "b", "browser",
          NOOM_MEDIA_AUDIO, &error));
  g_assert_no_error (error);
  g_free (wait_event (a, "joined ", DEADLINE_MS));
  /* Ten ping cycles: a client that did not answer pings would be dropped
   * by the server after 600 ms, and A would see B leave */
  iterate_until (&never, 2000);
  assert_no_events (a);
  assert_no_events (b);
  noom_client_send_chat (b->client, "still here");
  e = wait_event (a, "chat ", DEADLINE_MS);
  g_assert_true (g_str_has_suffix (e, " b still here"));
  noom_client_close (a->client);
  noom_client_close (b->client);
}

static gpointer
own_thread_main (gpointer data)
{
  Server *server = data;
  GMainContext *context = g_main_context_new ();
  Recorder *a, *b;
  NoomJoinInfo *info;
  GError *error = NULL;
  gchar *e, *expected;

  /* As the elements do: a private context, thread-default in this thread
   * before the clients are created.  Only it is iterated (the main thread
   * is blocked in g_thread_join): anything the client attached to the
   * global default context would never run, and the test would time out. */
  g_main_context_push_thread_default (context);
  a = connected_recorder (server);
  b = connected_recorder (server);
  info = client_join (a->client, "threads", "a", "publisher",
      NOOM_MEDIA_VIDEO, &error);
  g_assert_no_error (error);
  noom_join_info_free (info);
  info = client_join (b->client, "threads", "b", "subscriber",
      NOOM_MEDIA_NONE, &error);
  g_assert_no_error (error);
  noom_join_info_free (info);
  e = wait_event (a, "joined ", DEADLINE_MS);
  expected = g_strdup_printf ("joined %s b subscriber -",
      noom_client_get_id (b->client));
  g_assert_cmpstr (e, ==, expected);
  g_free (e);
  g_free (expected);
  noom_client_send_offer (a->client, noom_client_get_id (b->client), "v=0");
  g_free (wait_event (b, "offer ", DEADLINE_MS));
  noom_client_close (a->client);
  noom_client_close (b->client);
  recorder_free (a);
  recorder_free (b);
  g_main_context_pop_thread_default (context);
  while (g_main_context_iteration (context, FALSE));
  g_main_context_unref (context);
  return NULL;
}

static void
test_own_thread (void)
{
  g_autoptr (Server) server = server_start (NULL);

  if (server == NULL)
    return;
  g_thread_join (g_thread_new ("client", own_thread_main, server));
}

/* Pure function; no server needed */
static void
test_ice_urls (void)
{
  static const struct
  {
    const gchar *url, *user, *pass, *expected;
  } cases[] = {
    {"stun:127.0.0.1:3478", NULL, NULL, "stun://127.0.0.1:3478"},
    {"stun:stun.example.org", NULL, NULL, "stun://stun.example.org:3478"},
    {"STUN:h:1", "u", "p", "stun://h:1"},
    {"stun://h:19302", NULL, NULL, "stun://h:19302"},
    {"stun:[::1]:3478", NULL, NULL, "stun://[::1]:3478"},
    {"turn:turn.example.org:3478?transport=udp", "1700000000:alice",
        "ab+c/d=", "turn://1700000000%3Aalice:ab%2Bc%2Fd%3D@turn.example.org"
          ":3478?transport=udp"},
    {"turn:h", "u", "p", "turn://u:p@h:3478"},
    {"turns:h?transport=tcp", "u", "p", "turns://u:p@h:5349?transport=tcp"},
    {"turn://old:x@h:3479", "u", "p@ss", "turn://u:p%40ss@h:3479"},
    {"turn://us%3Aer:p%40ss@h?transport=tcp", NULL, NULL,
        "turn://us%3Aer:p%40ss@h:3478?transport=tcp"},
    {"turns://u:p@[::1]", NULL, NULL, "turns://u:p@[::1]:5349"},
  };
  static const struct
  {
    const gchar *url, *user, *pass;
  } bad[] = {
    {"http://h", NULL, NULL},
    {"stuns:h", NULL, NULL},
    {"turn:h", NULL, NULL},
    {"turn:h", "u", NULL},
    {"turn://nopass@h", NULL, NULL},
    {"stun:", NULL, NULL},
    {"stun:h:0", NULL, NULL},
    {"stun:h:99999", NULL, NULL},
    {"stun:h:x", NULL, NULL},
    {"turn:h?transport=sctp", "u", "p"},
    {"stun:[::1", NULL, NULL},
    {"nothing", NULL, NULL},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *out = noom_ice_url_to_webrtcbin (cases[i].url,
        cases[i].user, cases[i].pass, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (out, ==, cases[i].expected);
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *out = noom_ice_url_to_webrtcbin (bad[i].url,
        bad[i].user, bad[i].pass, &error);

    g_test_message ("bad ICE URL %s", bad[i].url);
    g_assert_null (out);
    g_assert_error (error, NOOM_CLIENT_ERROR, NOOM_CLIENT_ERROR_PROTOCOL);
  }
}

static void
test_ice_servers_from_server (void)
{
  g_autoptr (Server) server = server_start ("--ice-server",
      "stun:127.0.0.1:3478", "--ice-server", "turn:127.0.0.1:3478",
      "--turn-secret", "s3cret", NULL);
  g_autoptr (Recorder) a = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomJoinInfo) info = NULL;
  g_autofree gchar *joined = NULL;

  if (server == NULL)
    return;
  a = connected_recorder (server);
  info = client_join (a->client, "ice", "a", "browser", NOOM_MEDIA_AUDIO,
      &error);
  g_assert_no_error (error);
  joined = g_strjoinv (" ", info->ice_servers);
  g_test_message ("ice servers: %s", joined);
  g_assert_cmpuint (g_strv_length (info->ice_servers), ==, 2);
  g_assert_cmpstr (info->ice_servers[0], ==, "stun://127.0.0.1:3478");
  /* TURN REST credentials "<expiry>:<id>", the ':' escaped */
  g_assert_true (g_str_has_prefix (info->ice_servers[1], "turn://"));
  g_assert_nonnull (strstr (info->ice_servers[1], "%3A"));
  g_assert_true (g_str_has_suffix (info->ice_servers[1], "@127.0.0.1:3478"));
  noom_client_close (a->client);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/client/ice-urls", test_ice_urls);
  g_test_add_func ("/client/not-connected", test_not_connected);
  g_test_add_func ("/client/unreachable", test_unreachable);
  g_test_add_func ("/client/connect-timeout", test_connect_timeout);
  g_test_add_func ("/client/cancel-connect", test_cancel_connect);
  g_test_add_func ("/client/fake/connect-error", test_fake_connect_error);
  g_test_add_func ("/client/fake/events", test_fake_events);
  g_test_add_func ("/client/fake/join-errors", test_fake_join_errors);
  g_test_add_func ("/client/fake/drops", test_fake_drops);
  g_test_add_func ("/client/fake/deep", test_fake_deep);
  g_test_add_func ("/client/fake/mutations", test_fake_mutations);
  g_test_add_func ("/interop/connect-close", test_connect_close);
  g_test_add_func ("/interop/tls", test_tls);
  g_test_add_func ("/interop/refused-http", test_refused_http);
  g_test_add_func ("/interop/join-leave", test_join_leave);
  g_test_add_func ("/interop/relay", test_relay);
  g_test_add_func ("/interop/join-errors", test_join_errors);
  g_test_add_func ("/interop/nickname", test_nickname);
  g_test_add_func ("/interop/ice-servers", test_ice_servers_from_server);
  g_test_add_func ("/interop/keepalive", test_keepalive);
  g_test_add_func ("/interop/own-thread", test_own_thread);
  g_test_add_func ("/interop/server-killed", test_server_killed);
  g_test_add_func ("/interop/server-hung", test_server_hung);
  g_test_add_func ("/interop/token", test_token);

  return g_test_run ();
}
