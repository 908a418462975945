/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noomsink and noomsrc against a real noom-server ($NOOM_SERVER) started per
 * test on a free loopback port.  Run inside a loopback-only network
 * namespace (scripts/test does): the elements then gather ICE candidates on
 * 127.0.0.1 by themselves.  Every wait has a deadline.
 */
#ifdef HAVE_CONFIG_H
#include "../noom-test-time.h"
#include "config.h"
#endif

#include <stdio.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gst/check/gstcheck.h>
#include <libsoup/soup.h>

#include "noom-client.h"

#ifdef HAVE_LIBCRYPTO
#include <openssl/crypto.h>

/* webrtcbin's DTLS threads may still be finishing when a test process
 * exits: OpenSSL's own atexit cleanup would race their thread-local state.
 * The first initialisation decides, so it runs before main(). */
static void no_openssl_atexit (void) __attribute__((constructor));

static void
no_openssl_atexit (void)
{
  OPENSSL_init_crypto (OPENSSL_INIT_NO_ATEXIT, NULL);
}
#endif

/* The elements refuse bad property values with a g_warning in their log
 * domain. */
static gint noom_warnings;

static void
count_warning (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer data)
{
  GST_INFO ("expected warning: %s", message);
  g_atomic_int_inc (&noom_warnings);
}

#define EXPECT_NOOM_WARNING(code) G_STMT_START {                       \
    gint _before = g_atomic_int_get (&noom_warnings);                   \
    code;                                                               \
    fail_unless (g_atomic_int_get (&noom_warnings) == _before + 1,      \
        "expected one warning from: %s", #code);                        \
  } G_STMT_END

/* ------------------------------------------------------------------------ */
/* the server */

typedef struct
{
  GSubprocess *proc;
  GThread *drain;
  guint port;
} Server;

static void
child_setup (gpointer data)
{
  /* The server dies with the test, even when the test aborts. */
  prctl (PR_SET_PDEATHSIG, SIGTERM);
}

static gpointer
drain_stdout (gpointer data)
{
  GDataInputStream *in = data;
  gchar *line;

  while ((line = g_data_input_stream_read_line (in, NULL, NULL, NULL)))
    g_free (line);
  g_object_unref (in);
  return NULL;
}

static Server *
server_start_full (const gchar * extra_arg, const gchar * extra_arg2,
    const gchar * extra_arg3)
{
  const gchar *exe = g_getenv ("NOOM_SERVER");
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  GDataInputStream *in;
  GError *error = NULL;
  Server *server = g_new0 (Server, 1);
  gchar *line;

  fail_unless (exe != NULL, "NOOM_SERVER is not set");
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  server->proc = g_subprocess_launcher_spawn (launcher, &error, exe,
      "--host", "127.0.0.1", "--port", "0", extra_arg, extra_arg2, extra_arg3,
      NULL);
  fail_unless (server->proc != NULL, "cannot start %s: %s", exe,
      error ? error->message : "?");

  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (server->proc));
  while ((line = g_data_input_stream_read_line (in, NULL, NULL, NULL))) {
    const gchar *p = strstr (line, "://127.0.0.1:");

    if (strstr (line, "listening on") && p
        && sscanf (p, "://127.0.0.1:%u", &server->port))
      break;
    g_free (line);
  }
  fail_unless (line != NULL, "noom-server printed no port");
  g_free (line);
  server->drain = g_thread_new ("drain", drain_stdout, in);
  return server;
}

static Server *
server_start (const gchar * extra_arg)
{
  return server_start_full (extra_arg, NULL, NULL);
}

static void
server_stop_with (Server * server, gint signum)
{
  gint64 end = g_get_monotonic_time () +
      (gint64) (5 * noom_test_time_scale () * G_TIME_SPAN_SECOND);

  g_subprocess_send_signal (server->proc, signum);
  /* bounded: a server slow to shut down must not eat the test's time */
  while (g_subprocess_get_identifier (server->proc) &&
      g_get_monotonic_time () < end)
    g_usleep (20 * 1000);
  if (g_subprocess_get_identifier (server->proc)) {
    GST_WARNING ("noom-server did not exit within 5 s of signal %d", signum);
    g_subprocess_force_exit (server->proc);
  }
  g_subprocess_wait (server->proc, NULL, NULL);
  g_thread_join (server->drain);
  g_object_unref (server->proc);
  g_free (server);
}

/* a clean shutdown: the server closes every connection */
static void
server_stop (Server * server)
{
  server_stop_with (server, SIGTERM);
}

/* a crash: the connections just drop */
static void
server_kill (Server * server)
{
  server_stop_with (server, SIGKILL);
}

/* A TCP relay in front of the server for one element: relay_cut() drops
 * the connections going through it while the server keeps running (our
 * connection blips; the others keep their ids).  relay_hold_after() holds
 * back what the server sends once some text has gone by, until
 * relay_release() sends it all in one piece: the element then reads, say,
 * its join ack and the events behind it at once. */
typedef struct
{
  GSocketService *service;
  guint port;
  guint target;
  GMainContext *context;        /* where the service accepts, on thread */
  GMainLoop *loop;
  GThread *thread;
  GMutex lock;
  GCond cond;
  GPtrArray *sockets;           /* both ends of every connection */
  /* with lock: */
  const gchar *hold_after;      /* hold the server's bytes after this */
  gboolean holding;
  GByteArray *held;             /* what the server sent meanwhile */
  GSocket *client;              /* where the held bytes go */
} Relay;

typedef struct
{
  Relay *relay;
  GSocket *from, *to;
  gboolean down;                /* server to element */
} RelayPipe;

static gboolean
send_all (GSocket * to, const gchar * data, gsize size)
{
  gsize done = 0;

  while (done < size) {
    gssize w = g_socket_send (to, data + done, size - done, NULL, NULL);

    if (w <= 0)
      return FALSE;
    done += w;
  }
  return TRUE;
}

static gpointer
relay_copy (gpointer data)
{
  RelayPipe *p = data;
  Relay *relay = p->relay;
  gchar buf[16384];
  gssize n;
  gboolean ok = TRUE;

  while (ok && (n = g_socket_receive (p->from, buf, sizeof buf, NULL,
              NULL)) > 0) {
    if (!p->down) {
      ok = send_all (p->to, buf, n);
      continue;
    }
    g_mutex_lock (&relay->lock);
    if (relay->holding) {
      g_byte_array_append (relay->held, (guint8 *) buf, n);
      g_cond_broadcast (&relay->cond);
    } else {
      ok = send_all (p->to, buf, n);
      if (relay->hold_after && g_strstr_len (buf, n, relay->hold_after)) {
        relay->holding = TRUE;
        relay->client = p->to;
      }
    }
    g_mutex_unlock (&relay->lock);
  }
  if (ok)
    g_socket_shutdown (p->to, FALSE, TRUE, NULL);
  return NULL;
}

/* Holds back what the server sends once @text (a literal) went by. */
static void
relay_hold_after (Relay * relay, const gchar * text)
{
  g_mutex_lock (&relay->lock);
  relay->hold_after = text;
  g_mutex_unlock (&relay->lock);
}

/* Waits until what is held back contains @text. */
static void
relay_wait_held (Relay * relay, const gchar * text, guint seconds)
{
  gint64 end = g_get_monotonic_time () +
      (gint64) (seconds * noom_test_time_scale () * G_TIME_SPAN_SECOND);

  g_mutex_lock (&relay->lock);
  while (!(relay->holding && g_strstr_len ((gchar *) relay->held->data,
              relay->held->len, text)))
    if (!g_cond_wait_until (&relay->cond, &relay->lock, end))
      break;
  fail_unless (relay->holding && g_strstr_len ((gchar *) relay->held->data,
          relay->held->len, text), "the server sent no \"%s\" within %u s",
      text, seconds);
  g_mutex_unlock (&relay->lock);
}

/* The held bytes with the Socket.IO acks ("43...") moved behind the other
 * WebSocket frames: as a server that delivers a room's events ahead of an
 * ack would send them (the server sends no masked, fragmented or long
 * frames to us). */
static void
acks_last (GByteArray * held)
{
  g_autoptr (GByteArray) events = g_byte_array_new ();
  g_autoptr (GByteArray) acks = g_byte_array_new ();
  gsize at = 0;

  while (at + 2 <= held->len) {
    const guint8 *f = held->data + at;
    gsize len = f[1] & 0x7f, head = 2;

    if (len == 126) {
      fail_unless (at + 4 <= held->len);
      len = (f[2] << 8) | f[3];
      head = 4;
    }
    fail_unless ((f[1] & 0x7f) != 127, "a frame the test cannot reorder");
    if (at + head + len > held->len)
      break;                    /* the rest is still on its way: it goes last */
    g_byte_array_append (len >= 2 && f[head] == '4' && f[head + 1] == '3' ?
        acks : events, f, head + len);
    at += head + len;
  }
  g_byte_array_append (acks, held->data + at, held->len - at);
  g_byte_array_set_size (held, 0);
  g_byte_array_append (held, events->data, events->len);
  g_byte_array_append (held, acks->data, acks->len);
}

/* Sends what was held back in one piece (with the acks last if
 * @acks_behind), and relays as usual from then. */
static void
relay_release_full (Relay * relay, gboolean acks_behind)
{
  g_mutex_lock (&relay->lock);
  if (acks_behind)
    acks_last (relay->held);
  if (relay->holding)
    send_all (relay->client, (gchar *) relay->held->data, relay->held->len);
  g_byte_array_set_size (relay->held, 0);
  relay->holding = FALSE;
  relay->hold_after = NULL;
  g_mutex_unlock (&relay->lock);
}

static void
relay_release (Relay * relay)
{
  relay_release_full (relay, FALSE);
}

/* a thread of the service's per connection */
static gboolean
relay_run (GThreadedSocketService * service, GSocketConnection * in,
    GObject * source, gpointer data)
{
  Relay *relay = data;
  g_autoptr (GSocketClient) client = g_socket_client_new ();
  g_autoptr (GSocketConnection) out = NULL;
  RelayPipe up = { relay, NULL, NULL, FALSE }, down = { relay, NULL, NULL,
    TRUE
  };
  GThread *thread;

  out = g_socket_client_connect_to_host (client, "127.0.0.1", relay->target,
      NULL, NULL);
  if (!out)
    return TRUE;
  up.from = down.to = g_socket_connection_get_socket (in);
  up.to = down.from = g_socket_connection_get_socket (out);
  g_mutex_lock (&relay->lock);
  g_ptr_array_add (relay->sockets, g_object_ref (up.from));
  g_ptr_array_add (relay->sockets, g_object_ref (up.to));
  g_mutex_unlock (&relay->lock);
  thread = g_thread_new ("relay", relay_copy, &up);
  relay_copy (&down);
  g_thread_join (thread);
  return TRUE;
}

static gpointer
relay_thread (gpointer data)
{
  Relay *relay = data;
  g_autoptr (GInetAddress) loopback =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_main_context_push_thread_default (relay->context);
  relay->service = g_threaded_socket_service_new (-1);
  g_socket_listener_add_address (G_SOCKET_LISTENER (relay->service), any,
      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound, NULL);
  g_signal_connect (relay->service, "run", G_CALLBACK (relay_run), relay);
  g_socket_service_start (relay->service);
  g_mutex_lock (&relay->lock);
  relay->port = bound ?
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)) : 1;
  g_cond_broadcast (&relay->cond);
  g_mutex_unlock (&relay->lock);
  g_main_loop_run (relay->loop);
  g_socket_service_stop (relay->service);
  g_socket_listener_close (G_SOCKET_LISTENER (relay->service));
  g_clear_object (&relay->service);
  g_main_context_pop_thread_default (relay->context);
  return NULL;
}

static Relay *
relay_start (guint target)
{
  Relay *relay = g_new0 (Relay, 1);

  g_mutex_init (&relay->lock);
  g_cond_init (&relay->cond);
  relay->sockets = g_ptr_array_new_with_free_func (g_object_unref);
  relay->held = g_byte_array_new ();
  relay->target = target;
  relay->context = g_main_context_new ();
  relay->loop = g_main_loop_new (relay->context, FALSE);
  relay->thread = g_thread_new ("relay", relay_thread, relay);
  g_mutex_lock (&relay->lock);
  while (!relay->port)
    g_cond_wait (&relay->cond, &relay->lock);
  g_mutex_unlock (&relay->lock);
  fail_unless (relay->port > 1, "the relay could not listen");
  return relay;
}

static void
relay_cut (Relay * relay)
{
  guint i;

  g_mutex_lock (&relay->lock);
  for (i = 0; i < relay->sockets->len; i++)
    g_socket_shutdown (relay->sockets->pdata[i], TRUE, TRUE, NULL);
  g_ptr_array_set_size (relay->sockets, 0);
  relay->holding = FALSE;
  relay->client = NULL;
  g_byte_array_set_size (relay->held, 0);
  g_mutex_unlock (&relay->lock);
}

static void
relay_stop (Relay * relay)
{
  g_main_loop_quit (relay->loop);
  g_thread_join (relay->thread);
  relay_cut (relay);
  g_main_loop_unref (relay->loop);
  g_main_context_unref (relay->context);
  g_ptr_array_unref (relay->sockets);
  g_byte_array_unref (relay->held);
  g_mutex_clear (&relay->lock);
  g_cond_clear (&relay->cond);
  g_free (relay);
}

static gchar *
room_uri (Server * server, const gchar * room, const gchar * nickname)
{
  return g_strdup_printf ("noom://127.0.0.1:%u/%s?nickname=%s", server->port,
      room, nickname);
}

/* ------------------------------------------------------------------------ */
/* watching pipelines from their streaming threads */

typedef struct
{
  GMutex lock;
  GCond cond;
  GstElement *pipeline;
  GstElement *noom;             /* the noomsrc or noomsink */
  GError *error;                /* first ERROR */
  GstMessage *error_message;
  gboolean joined;
  gboolean eos;                 /* EOS reached the bus */
  guint connected;
  guint joined_signals, left_signals;
  guint failed;                 /* noom-participant-failed messages */
  guint warnings;
  gboolean recorder_seen;       /* a participant of kind recorder joined */
  guint video_frames;           /* raw video buffers received */
  guint audio_frames;           /* raw audio buffers received */
  guint buffers;                /* any buffer reaching a fakesink */
  guint pads_added, pads_removed, eos_seen;
  GPtrArray *nicknames;
  gboolean all_raw;
  gboolean mux_linked;
  guint disconnected, reconnected;      /* noom-disconnected/-reconnected */
  guint relay_rejoins;          /* noom-relay-rejoin messages */
  guint updated;                /* noom-participant-updated messages */
  gchar *updated_nickname;      /* ... the last one's nickname */
  GPtrArray *titles;            /* titles of the tags on noomsrc's pads */
  GPtrArray *stream_ids;        /* "PAD-NAME PARTICIPANT-ID STREAM-ID" */
  gboolean waiting;             /* noom-waiting-for-participant */
  gchar *joined_text;           /* the progress message "Joined ..." */
  guint id_tags;                /* tags whose noom-participant-id is the
                                   pad's participant-id */
  gboolean other_tags;          /* organization or comment seen */
  GstPad *first_pad;            /* noomsrc's first pad */
  guint id_changes;             /* notify::participant-id on noomsrc's pads */
  gint64 audio_pushed;          /* when noomsrc's audio pad last pushed */
} Watch;

static Watch *
watch_new (GstElement * pipeline, GstElement * noom)
{
  Watch *w = g_new0 (Watch, 1);

  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  w->pipeline = pipeline;
  w->noom = noom;
  w->nicknames = g_ptr_array_new_with_free_func (g_free);
  w->titles = g_ptr_array_new_with_free_func (g_free);
  w->stream_ids = g_ptr_array_new_with_free_func (g_free);
  w->all_raw = TRUE;
  return w;
}

static void
watch_free (Watch * w)
{
  if (w->pipeline) {
    fail_unless_equals_int (gst_element_set_state (w->pipeline,
            GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
    gst_bus_set_sync_handler (GST_ELEMENT_BUS (w->pipeline), NULL, NULL, NULL);
    gst_object_unref (w->pipeline);
  }
  g_clear_error (&w->error);
  if (w->error_message)
    gst_message_unref (w->error_message);
  g_ptr_array_unref (w->nicknames);
  g_ptr_array_unref (w->titles);
  g_ptr_array_unref (w->stream_ids);
  g_free (w->updated_nickname);
  g_free (w->joined_text);
  gst_clear_object (&w->first_pad);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

static GstBusSyncReply
bus_sync (GstBus * bus, GstMessage * message, gpointer data)
{
  Watch *w = data;
  const GstStructure *s = gst_message_get_structure (message);

  g_mutex_lock (&w->lock);
  switch (GST_MESSAGE_TYPE (message)) {
    case GST_MESSAGE_ERROR:
      if (!w->error) {
        gst_message_parse_error (message, &w->error, NULL);
        w->error_message = gst_message_ref (message);
        GST_INFO ("error: %s", w->error->message);
      }
      break;
    case GST_MESSAGE_EOS:
      w->eos = TRUE;
      break;
    case GST_MESSAGE_WARNING:
      w->warnings++;
      break;
    case GST_MESSAGE_PROGRESS:{
      GstProgressType type;
      gchar *code = NULL, *text = NULL;

      gst_message_parse_progress (message, &type, &code, &text);
      if (type == GST_PROGRESS_TYPE_COMPLETE && !g_strcmp0 (code, "connect")) {
        g_free (w->joined_text);
        w->joined_text = g_steal_pointer (&text);
      }
      g_free (code);
      g_free (text);
      break;
    }
    case GST_MESSAGE_ELEMENT:
      if (gst_structure_has_name (s, "noom-joined"))
        w->joined = TRUE;
      else if (gst_structure_has_name (s, "noom-participant-connected"))
        w->connected++;
      else if (gst_structure_has_name (s, "noom-participant-failed"))
        w->failed++;
      else if (gst_structure_has_name (s, "noom-disconnected"))
        w->disconnected++;
      else if (gst_structure_has_name (s, "noom-reconnected"))
        w->reconnected++;
      else if (gst_structure_has_name (s, "noom-relay-rejoin"))
        w->relay_rejoins++;
      else if (gst_structure_has_name (s, "noom-waiting-for-participant"))
        w->waiting = TRUE;
      else if (gst_structure_has_name (s, "noom-participant-updated")) {
        w->updated++;
        g_free (w->updated_nickname);
        w->updated_nickname = g_strdup (gst_structure_get_string (s,
                "nickname"));
      }
      if (gst_structure_has_name (s, "noom-participant-joined") &&
          !g_strcmp0 (gst_structure_get_string (s, "kind"), "recorder"))
        w->recorder_seen = TRUE;
      break;
    default:
      break;
  }
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  return GST_BUS_PASS;
}

#define WAIT_UNTIL(w, cond_expr, seconds) G_STMT_START {                   \
    gint64 _end = g_get_monotonic_time () +                                \
        (gint64) ((seconds) * noom_test_time_scale () * G_TIME_SPAN_SECOND); \
    g_mutex_lock (&(w)->lock);                                              \
    while (!(cond_expr) && !(w)->error)                                     \
      if (!g_cond_wait_until (&(w)->cond, &(w)->lock, _end))                \
        break;                                                              \
    fail_unless ((w)->error == NULL, "pipeline error: %s",                 \
        (w)->error ? (w)->error->message : "");                             \
    fail_unless ((cond_expr), "timed out after %d s waiting for: %s",      \
        (int) (seconds), #cond_expr);                                       \
    g_mutex_unlock (&(w)->lock);                                            \
  } G_STMT_END

/* the same, expecting an error */
static void
wait_error (Watch * w, gint seconds)
{
  gint64 end = g_get_monotonic_time () +
      (gint64) (seconds * noom_test_time_scale () * G_TIME_SPAN_SECOND);

  g_mutex_lock (&w->lock);
  while (!w->error)
    if (!g_cond_wait_until (&w->cond, &w->lock, end))
      break;
  g_mutex_unlock (&w->lock);
  fail_unless (w->error != NULL, "no error within %d s", seconds);
}

static GstPadProbeReturn
count_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Watch *w = data;

  g_mutex_lock (&w->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstCaps *caps = gst_pad_get_current_caps (pad);

    w->buffers++;
    if (caps && gst_structure_has_name (gst_caps_get_structure (caps, 0),
            "video/x-raw"))
      w->video_frames++;
    if (caps && gst_structure_has_name (gst_caps_get_structure (caps, 0),
            "audio/x-raw"))
      w->audio_frames++;
    gst_clear_caps (&caps);
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    w->eos_seen++;
  }
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_OK;
}

static GstElement *
counting_fakesink (Watch * w)
{
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  GstPad *pad = gst_element_get_static_pad (sink, "sink");

  g_object_set (sink, "sync", FALSE, "async", FALSE, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, count_probe, w, NULL);
  gst_object_unref (pad);
  return sink;
}

/* noomsrc pad-added: every pad into its own counting fakesink (or, for
 * encoded video with use_mux, a matroskamux first). */
static GstPadProbeReturn
record_title (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Watch *w = data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
  GstTagList *tags;
  gchar *title = NULL;

  if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START) {
    const gchar *stream_id = NULL;
    g_autofree gchar *id = NULL;

    gst_event_parse_stream_start (event, &stream_id);
    g_object_get (pad, "participant-id", &id, NULL);
    g_mutex_lock (&w->lock);
    g_ptr_array_add (w->stream_ids, g_strdup_printf ("%s %s %s",
            GST_PAD_NAME (pad), id, stream_id));
    g_cond_broadcast (&w->cond);
    g_mutex_unlock (&w->lock);
    return GST_PAD_PROBE_OK;
  }
  if (GST_EVENT_TYPE (event) != GST_EVENT_TAG)
    return GST_PAD_PROBE_OK;
  gst_event_parse_tag (event, &tags);
  {
    g_autofree gchar *id = NULL, *tag_id = NULL;

    g_object_get (pad, "participant-id", &id, NULL);
    gst_tag_list_get_string (tags, "noom-participant-id", &tag_id);
    g_mutex_lock (&w->lock);
    if (id && !g_strcmp0 (id, tag_id))
      w->id_tags++;
    if (gst_tag_list_get_tag_size (tags, GST_TAG_ORGANIZATION) ||
        gst_tag_list_get_tag_size (tags, GST_TAG_COMMENT))
      w->other_tags = TRUE;
    g_mutex_unlock (&w->lock);
  }
  if (gst_tag_list_get_string (tags, GST_TAG_TITLE, &title)) {
    g_mutex_lock (&w->lock);
    g_ptr_array_add (w->titles, title);
    g_cond_broadcast (&w->cond);
    g_mutex_unlock (&w->lock);
  }
  return GST_PAD_PROBE_OK;
}

static gboolean
has_title (Watch * w, const gchar * title)
{
  guint i;

  for (i = 0; i < w->titles->len; i++)
    if (!g_strcmp0 (w->titles->pdata[i], title))
      return TRUE;
  return FALSE;
}

static void
on_participant_id_notify (GObject * pad, GParamSpec * pspec, Watch * w)
{
  g_mutex_lock (&w->lock);
  w->id_changes++;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

static void
on_src_pad_added (GstElement * src, GstPad * pad, Watch * w)
{
  GstElement *sink = counting_fakesink (w);
  GstElement *first = sink;
  gchar *nickname = NULL;
  gboolean use_mux = GPOINTER_TO_INT (g_object_get_data (G_OBJECT (src),
          "use-mux"));
  GstPadTemplate *templ = GST_PAD_PAD_TEMPLATE (pad);
  GstPad *sinkpad;

  gst_bin_add (GST_BIN (w->pipeline), sink);
  if (use_mux) {
    first = gst_element_factory_make ("matroskamux", NULL);
    g_object_set (first, "streamable", TRUE, NULL);
    gst_bin_add (GST_BIN (w->pipeline), first);
    gst_element_link (first, sink);
    gst_element_sync_state_with_parent (first);
    sinkpad = gst_element_request_pad_simple (first,
        g_str_has_prefix (GST_PAD_NAME (pad), "video") ? "video_%u" :
        "audio_%u");
  } else {
    sinkpad = gst_element_get_static_pad (first, "sink");
  }
  gst_element_sync_state_with_parent (sink);

  g_object_get (pad, "nickname", &nickname, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, record_title,
      w, NULL);
  g_signal_connect (pad, "notify::participant-id",
      G_CALLBACK (on_participant_id_notify), w);
  g_mutex_lock (&w->lock);
  if (!w->first_pad)
    w->first_pad = gst_object_ref (pad);
  w->pads_added++;
  g_ptr_array_add (w->nicknames, nickname);
  /* a streaming thread: failures are reported through w->error */
  if (use_mux)
    w->mux_linked = gst_pad_link (pad, sinkpad) == GST_PAD_LINK_OK;
  else if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK && !w->error)
    w->error = g_error_new (GST_CORE_ERROR, GST_CORE_ERROR_PAD,
        "could not link %s", GST_PAD_NAME (pad));
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  (void) templ;
  gst_object_unref (sinkpad);
}

static void
on_src_pad_removed (GstElement * src, GstPad * pad, Watch * w)
{
  g_mutex_lock (&w->lock);
  w->pads_removed++;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

static Watch *
watch_pipeline (GstElement * pipeline, GstElement * noom)
{
  Watch *w = watch_new (pipeline, noom);

  gst_bus_set_sync_handler (GST_ELEMENT_BUS (pipeline), bus_sync, w, NULL);
  return w;
}

/* videotestsrc [! @encoder] (and audiotestsrc) into noomsink @props */
static Watch *
start_publisher_full (Server * server, const gchar * room,
    const gchar * nickname, gboolean with_audio, const gchar * encoder,
    const gchar * props)
{
  g_autofree gchar *uri = room_uri (server, room, nickname);
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=15/1 ! %s %s "
      "noomsink name=noom uri=\"%s\" %s %s", encoder ? encoder : "",
      encoder ? "!" : "", uri, props ? props : "", with_audio ?
      "audiotestsrc is-live=true ! noom." : "");
  GError *error = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &error);
  GstElement *noom;
  Watch *w;

  fail_unless (pipeline != NULL, "%s", error ? error->message : "");
  noom = gst_bin_get_by_name (GST_BIN (pipeline), "noom");
  w = watch_pipeline (pipeline, noom);
  gst_object_unref (noom);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  return w;
}

static Watch *
start_publisher (Server * server, const gchar * room, const gchar * nickname,
    gboolean with_audio)
{
  return start_publisher_full (server, room, nickname, with_audio, NULL, NULL);
}

/* A noomsrc pipeline joining @room on the server at @port (or a relay in
 * front of it). */
static Watch *
start_receiver_at (guint port, const gchar * room, const gchar * nickname,
    gboolean decode)
{
  g_autofree gchar *uri = g_strdup_printf ("noom://127.0.0.1:%u/%s?"
      "nickname=%s", port, room, nickname);
  GstElement *pipeline = gst_pipeline_new (nickname);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  Watch *w;

  fail_unless (src != NULL);
  g_object_set (src, "uri", uri, "decode", decode, NULL);
  if (!decode)
    g_object_set_data (G_OBJECT (src), "use-mux", GINT_TO_POINTER (TRUE));
  gst_bin_add (GST_BIN (pipeline), src);
  w = watch_pipeline (pipeline, src);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_src_pad_added), w);
  g_signal_connect (src, "pad-removed", G_CALLBACK (on_src_pad_removed), w);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  return w;
}

static Watch *
start_receiver (Server * server, const gchar * room, const gchar * nickname,
    gboolean decode)
{
  return start_receiver_at (server->port, room, nickname, decode);
}

/* ------------------------------------------------------------------------ */
/* properties and URIs (no server) */

GST_START_TEST (test_uri_roundtrip)
{
  GstElement *sink = gst_element_factory_make ("noomsink", NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  GError *error = NULL;
  gchar *s;

  fail_unless (sink && src);
  fail_unless (gst_uri_handler_set_uri (GST_URI_HANDLER (sink),
          "noom://example.org:9000/my%20room?nickname=bob&token=t0k", &error));
  g_object_get (sink, "room", &s, NULL);
  fail_unless_equals_string (s, "my room");
  g_free (s);
  g_object_get (sink, "nickname", &s, NULL);
  fail_unless_equals_string (s, "bob");
  g_free (s);
  g_object_get (sink, "token", &s, NULL);
  fail_unless_equals_string (s, "t0k");
  g_free (s);
  g_object_get (sink, "server", &s, NULL);
  fail_unless_equals_string (s, "http://example.org:9000");
  g_free (s);

  /* the parts make the URI */
  g_object_set (src, "server", "https://example.org", "room", "demo",
      "nickname", "kim", NULL);
  s = gst_uri_handler_get_uri (GST_URI_HANDLER (src));
  fail_unless (s != NULL);
  fail_unless (g_str_has_prefix (s, "nooms://example.org:8080/demo"), "%s", s);
  fail_unless (strstr (s, "nickname=kim") != NULL, "%s", s);
  g_free (s);

  /* and the URI goes back in */
  g_object_set (src, "uri", "noom://h/r", NULL);
  g_object_get (src, "uri", &s, NULL);
  fail_unless (g_str_has_prefix (s, "noom://h:8080/r"), "%s", s);
  g_free (s);

  gst_object_unref (sink);
  gst_object_unref (src);
}

GST_END_TEST;

GST_START_TEST (test_uri_invalid)
{
  GstElement *sink = gst_element_factory_make ("noomsink", NULL);
  GError *error = NULL;
  gchar *s;

  g_object_set (sink, "uri", "noom://h:1/good", NULL);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (sink),
          "http://h/room", &error));
  fail_unless (g_error_matches (error, GST_URI_ERROR,
          GST_URI_ERROR_UNSUPPORTED_PROTOCOL));
  g_clear_error (&error);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (sink), "noom://h/",
          &error));
  fail_unless (g_error_matches (error, GST_URI_ERROR, GST_URI_ERROR_BAD_URI));
  g_clear_error (&error);
  fail_if (gst_uri_handler_set_uri (GST_URI_HANDLER (sink),
          "noom://h:99999/r", &error));
  g_clear_error (&error);

  /* invalid values leave the old ones */
  g_object_get (sink, "room", &s, NULL);
  fail_unless_equals_string (s, "good");
  g_free (s);
  EXPECT_NOOM_WARNING (g_object_set (sink, "room", "bad\001room", NULL));
  EXPECT_NOOM_WARNING (g_object_set (sink, "room", "   ", NULL));
  g_object_get (sink, "room", &s, NULL);
  fail_unless_equals_string (s, "good");
  g_free (s);
  EXPECT_NOOM_WARNING (g_object_set (sink, "server", "ftp://x", NULL));
  EXPECT_NOOM_WARNING (g_object_set (sink, "server", "http://x/path", NULL));
  g_object_get (sink, "server", &s, NULL);
  fail_unless_equals_string (s, "http://h:1");
  g_free (s);
  EXPECT_NOOM_WARNING (g_object_set (sink, "ice-local-addresses",
          "127.0.0.1,nope", NULL));
  g_object_get (sink, "ice-local-addresses", &s, NULL);
  fail_unless (s == NULL);

  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_kind_and_ice_servers_invalid)
{
  GError *error = NULL;
  GstElement *e;
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  GParamSpec *pspec;
  gchar *s;

  /* kind is an enum whose nicks are the protocol's strings */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (src), "kind");
  fail_unless (G_IS_PARAM_SPEC_ENUM (pspec));
  e = gst_parse_launch ("noomsrc kind=recorder name=s", &error);
  fail_unless (e != NULL && error == NULL);
  gst_object_unref (e);
  e = gst_parse_launch ("noomsrc kind=bogus", &error);
  fail_unless (error != NULL, "kind=bogus accepted");
  g_clear_error (&error);
  gst_clear_object (&e);

  /* ice-servers: each entry a stun:// turn:// turns:// URL with a host */
  gst_bin_add (GST_BIN (pipeline), src);
  g_object_set (src, "ice-servers",
      "stun://127.0.0.1:3478, turn://u:p@h:3478?transport=udp,", NULL);
  EXPECT_NOOM_WARNING (g_object_set (src, "ice-servers", "bogus", NULL));
  msg = gst_bus_pop_filtered (bus, GST_MESSAGE_WARNING);
  fail_unless (msg != NULL, "no warning message");
  gst_message_parse_warning (msg, &error, NULL);
  fail_unless (strstr (error->message, "\"bogus\"") != NULL, "%s",
      error->message);
  g_clear_error (&error);
  gst_message_unref (msg);
  EXPECT_NOOM_WARNING (g_object_set (src, "ice-servers",
          "stun://h:1,stun://", NULL));
  EXPECT_NOOM_WARNING (g_object_set (src, "ice-servers", "http://h:1",
          NULL));
  g_object_get (src, "ice-servers", &s, NULL);
  fail_unless_equals_string (s,
      "stun://127.0.0.1:3478, turn://u:p@h:3478?transport=udp,");
  g_free (s);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

GST_END_TEST;

GST_START_TEST (test_plugin_origin)
{
  /* No placeholder web site: the installed docs. */
  GstPlugin *plugin = gst_registry_find_plugin (gst_registry_get (), "noom");

  fail_unless (plugin != NULL);
  fail_unless (g_str_has_prefix (gst_plugin_get_origin (plugin), "file://")
      && g_str_has_suffix (gst_plugin_get_origin (plugin), "/doc/noom"), "%s",
      gst_plugin_get_origin (plugin));
  gst_object_unref (plugin);
}

GST_END_TEST;

GST_START_TEST (test_make_from_uri)
{
  GstElement *e;
  GError *error = NULL;

  e = gst_element_make_from_uri (GST_URI_SRC, "noom://localhost:8080/demo",
      NULL, &error);
  fail_unless (e != NULL, "%s", error ? error->message : "");
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (e)),
      "noomsrc");
  gst_object_unref (e);
  e = gst_element_make_from_uri (GST_URI_SINK, "nooms://localhost/demo",
      NULL, &error);
  fail_unless (e != NULL, "%s", error ? error->message : "");
  fail_unless_equals_string (GST_OBJECT_NAME (gst_element_get_factory (e)),
      "noomsink");
  gst_object_unref (e);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* errors */

GST_START_TEST (test_error_no_room)
{
  GstElement *pipeline = gst_parse_launch ("videotestsrc ! noomsink", NULL);
  Watch *w = watch_pipeline (pipeline, NULL);

  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  wait_error (w, 1);
  fail_unless (g_error_matches (w->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", w->error->message);
  watch_free (w);
}

GST_END_TEST;

GST_START_TEST (test_error_bad_uri)
{
  /* A refused uri: the error says what is wrong with it, not "set the uri
   * property". */
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  Watch *w = watch_pipeline (pipeline, NULL);

  EXPECT_NOOM_WARNING (g_object_set (src, "uri", "noom://h:99999/r", NULL));
  gst_bin_add (GST_BIN (pipeline), src);
  fail_unless_equals_int (gst_element_set_state (pipeline,
          GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE);
  wait_error (w, 1);
  fail_unless (g_error_matches (w->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", w->error->message);
  fail_unless (strstr (w->error->message, "noom://h:99999/r") != NULL, "%s",
      w->error->message);
  fail_unless (strstr (w->error->message, "port") != NULL, "%s",
      w->error->message);
  fail_if (strstr (w->error->message, "set the uri") != NULL, "%s",
      w->error->message);
  watch_free (w);
}

GST_END_TEST;

GST_START_TEST (test_error_not_noom)
{
  /* An HTTP server that is not a Noom server: one sentence that says so
   * (not "refused the connection ... refused the connection: HTTP 404"). */
  SoupServer *http = soup_server_new (NULL, NULL);
  GError *error = NULL;
  GSList *uris;
  g_autofree gchar *uri = NULL;
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  GMainContext *context = g_main_context_new ();
  Watch *w;

  g_main_context_push_thread_default (context);
  fail_unless (soup_server_listen_local (http, 0, SOUP_SERVER_LISTEN_IPV4_ONLY,
          &error), "%s", error ? error->message : "");
  uris = soup_server_get_uris (http);
  uri = g_strdup_printf ("noom://127.0.0.1:%d/r", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  g_object_set (src, "uri", uri, NULL);
  gst_bin_add (GST_BIN (pipeline), src);
  w = watch_pipeline (pipeline, src);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  {
    gint64 end = g_get_monotonic_time () +
        (gint64) (10 * noom_test_time_scale () * G_TIME_SPAN_SECOND);

    /* the server answers from this thread's context */
    while (!g_atomic_pointer_get (&w->error) && g_get_monotonic_time () < end)
      g_main_context_iteration (context, FALSE) || (g_usleep (1000), TRUE);
  }
  wait_error (w, 1);
  fail_unless (strstr (w->error->message, "is not a Noom server") != NULL,
      "%s", w->error->message);
  fail_if (strstr (w->error->message, "refused") != NULL, "%s",
      w->error->message);
  watch_free (w);
  g_object_unref (http);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
}

GST_END_TEST;

GST_START_TEST (test_joined_grammar)
{
  /* "(1 participant)", not "(1 participants)" */
  Server *server = server_start (NULL);
  Watch *r = start_receiver (server, "alone", "bob", TRUE);

  WAIT_UNTIL (r, r->joined_text != NULL, 10);
  fail_unless (g_str_has_suffix (r->joined_text, "(1 participant)"), "%s",
      r->joined_text);
  watch_free (r);
  server_stop (server);
}

GST_END_TEST;

static gboolean
dtls_plugin_loaded (void)
{
  GstPlugin *plugin = gst_registry_find_plugin (gst_registry_get (), "dtls");
  gboolean loaded = plugin && gst_plugin_is_loaded (plugin);

  g_clear_object (&plugin);
  return loaded;
}

/* Without webrtcbin (taken out of the registry, as when gst-plugins-bad is
 * not installed), both elements fail NULL_TO_READY with an error naming
 * what to install. */
GST_START_TEST (test_error_missing_webrtcbin)
{
  const gchar *lines[] = { "videotestsrc ! noomsink uri=noom://127.0.0.1:9/x",
    "noomsrc uri=noom://127.0.0.1:9/x ! fakesink"
  };
  GstRegistry *registry = gst_registry_get ();
  GstPluginFeature *webrtcbin =
      gst_registry_lookup_feature (registry, "webrtcbin");
  gboolean dtls_loaded = dtls_plugin_loaded ();
  gint64 end;
  guint i;

  fail_unless (webrtcbin != NULL);
  gst_registry_remove_feature (registry, webrtcbin);
  for (i = 0; i < G_N_ELEMENTS (lines); i++) {
    GstElement *pipeline = gst_parse_launch (lines[i], NULL);
    Watch *w = watch_pipeline (pipeline, NULL);

    fail_unless_equals_int (gst_element_set_state (pipeline,
            GST_STATE_READY), GST_STATE_CHANGE_FAILURE);
    wait_error (w, 1);
    fail_unless (g_error_matches (w->error, GST_CORE_ERROR,
            GST_CORE_ERROR_MISSING_PLUGIN), "%s", w->error->message);
    fail_unless_equals_string (w->error->message, "The webrtcbin element is "
        "missing; install gst-plugins-bad and gstreamer1.0-nice.");
    watch_free (w);
  }
  /* An element that fails for want of webrtcbin starts nothing behind it:
   * the DTLS certificate thread would load plugins (the dtls plugin first)
   * while the registry is being changed, as here. */
  end = g_get_monotonic_time () + G_TIME_SPAN_SECOND;
  while (!dtls_loaded && g_get_monotonic_time () < end) {
    fail_if (dtls_plugin_loaded (), "a failed element loaded the dtls plugin");
    g_usleep (20 * 1000);
  }
  /* for the next tests when they do not fork */
  gst_registry_add_feature (registry, webrtcbin);
}

GST_END_TEST;

GST_START_TEST (test_error_unreachable)
{
  g_autoptr (GSocketListener) l = g_socket_listener_new ();
  g_autofree gchar *uri = NULL;
  g_autofree gchar *url = NULL;
  guint16 port;
  Watch *w;
  GstElement *pipeline, *src;
  gint64 start;

  /* a port nobody listens on */
  port = g_socket_listener_add_any_inet_port (l, NULL, NULL);
  g_socket_listener_close (l);
  uri = g_strdup_printf ("noom://127.0.0.1:%u/demo", port);
  url = g_strdup_printf ("127.0.0.1:%u", port);

  pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("noomsrc", NULL);
  g_object_set (src, "uri", uri, NULL);
  gst_bin_add (GST_BIN (pipeline), src);
  w = watch_pipeline (pipeline, src);
  start = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_error (w, 12);
  fail_unless (w->error->domain == GST_RESOURCE_ERROR);
  fail_unless (strstr (w->error->message, url) != NULL,
      "the error names no URL: %s", w->error->message);
  fail_unless (g_get_monotonic_time () - start < 11 * G_TIME_SPAN_SECOND);
  watch_free (w);
}

GST_END_TEST;

GST_START_TEST (test_error_caps)
{
  /* caps noomsink cannot send are refused at negotiation */
  GstElement *sink = gst_element_factory_make ("noomsink", NULL);
  GstPad *video = gst_element_request_pad_simple (sink, "video_%u");
  GstPad *audio = gst_element_request_pad_simple (sink, "audio_%u");
  static const struct
  {
    gboolean video;
    const gchar *caps;
    gboolean ok;
  } cases[] = {
    {TRUE, "video/x-raw, format=I420, width=320, height=240, "
          "framerate=30/1", TRUE},
    {TRUE, "video/x-vp8, width=320, height=240", TRUE},
    {TRUE, "video/x-h264, stream-format=byte-stream, alignment=au", TRUE},
    {TRUE, "video/x-h265, stream-format=byte-stream", FALSE},
    {TRUE, "image/jpeg", FALSE},
    {TRUE, "audio/x-raw, format=S16LE, rate=48000, channels=1", FALSE},
    {FALSE, "audio/x-raw, format=S16LE, rate=48000, channels=1, "
          "layout=interleaved", TRUE},
    {FALSE, "audio/x-opus, channel-mapping-family=0", TRUE},
    {FALSE, "audio/mpeg, mpegversion=1", FALSE},
    {FALSE, "video/x-vp8", FALSE},
  };
  guint i;

  fail_unless_equals_string (GST_PAD_NAME (video), "video_0");
  fail_unless_equals_string (GST_PAD_NAME (audio), "audio_0");
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GstCaps *caps = gst_caps_from_string (cases[i].caps);

    fail_unless (gst_pad_query_accept_caps (cases[i].video ? video : audio,
            caps) == cases[i].ok, "%s", cases[i].caps);
    gst_caps_unref (caps);
  }
  gst_element_release_request_pad (sink, video);
  gst_element_release_request_pad (sink, audio);
  gst_object_unref (video);
  gst_object_unref (audio);
  gst_object_unref (sink);
}

GST_END_TEST;

GST_START_TEST (test_error_room_full)
{
  Server *server = server_start ("--max-room-size=1");
  Watch *first = start_receiver (server, "full", "first", TRUE);
  g_autofree gchar *uri = room_uri (server, "full", "second");
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc is-live=true ! "
      "noomsink uri=\"%s\"", uri);
  GstElement *pipeline;
  Watch *w;

  WAIT_UNTIL (first, first->joined, 10);
  pipeline = gst_parse_launch (desc, NULL);
  fail_unless (pipeline != NULL);
  w = watch_pipeline (pipeline, NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_error (w, 10);
  fail_unless (g_error_matches (w->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_BUSY), "%s", w->error->message);
  fail_unless (strstr (w->error->message, "full") != NULL, "%s",
      w->error->message);
  watch_free (w);
  watch_free (first);
  server_stop (server);
}

GST_END_TEST;

static gchar *
mint_token (const gchar * secret_file, const gchar * room, const gchar * id)
{
  const gchar *argv[] = { g_getenv ("NOOM_SERVER"), "token", "--secret",
    secret_file, "--room", room, "--identity", id, NULL
  };
  gchar *out = NULL;
  gint status = 0;

  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT,
          NULL, NULL, &out, NULL, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL));
  return g_strstrip (out);
}

static Watch *
start_receiver_with_token (Server * server, const gchar * room,
    const gchar * token)
{
  g_autofree gchar *uri = room_uri (server, room, "bob");
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  Watch *w;

  g_object_set (src, "uri", uri, "token", token, NULL);
  gst_bin_add (GST_BIN (pipeline), src);
  w = watch_pipeline (pipeline, src);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  return w;
}

GST_START_TEST (test_tokens)
{
  g_autofree gchar *dir = g_dir_make_tmp ("noom-XXXXXX", NULL);
  g_autofree gchar *secret = g_build_filename (dir, "secret", NULL);
  g_autofree gchar *arg = NULL;
  g_autofree gchar *good = NULL;
  g_autofree gchar *other = NULL;
  Server *server;
  Watch *w;

  fail_unless (g_file_set_contents (secret, "0123456789abcdef0123456789", -1,
          NULL));
  arg = g_strconcat ("--token-secret=", secret, NULL);
  server = server_start (arg);
  good = mint_token (secret, "tok", "bob");
  other = mint_token (secret, "elsewhere", "bob");

  /* no token: refused */
  w = start_receiver_with_token (server, "tok", NULL);
  wait_error (w, 10);
  fail_unless (g_error_matches (w->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", w->error->message);
  watch_free (w);

  /* a token for another room: refused at the join */
  w = start_receiver_with_token (server, "tok", other);
  wait_error (w, 10);
  fail_unless (g_error_matches (w->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_AUTHORIZED), "%s", w->error->message);
  watch_free (w);

  /* the right token: in */
  w = start_receiver_with_token (server, "tok", good);
  WAIT_UNTIL (w, w->joined, 10);
  watch_free (w);

  server_stop (server);
  g_unlink (secret);
  g_rmdir (dir);
}

GST_END_TEST;

GST_START_TEST (test_tls)
{
  g_autofree gchar *openssl = g_find_program_in_path ("openssl");
  g_autofree gchar *dir = g_dir_make_tmp ("noom-tls-XXXXXX", NULL);
  g_autofree gchar *cert = g_build_filename (dir, "cert.pem", NULL);
  g_autofree gchar *key = g_build_filename (dir, "key.pem", NULL);
  g_autofree gchar *cert_arg = g_strconcat ("--tls-cert=", cert, NULL);
  g_autofree gchar *key_arg = g_strconcat ("--tls-key=", key, NULL);
  g_autofree gchar *handshake_arg = NULL;
  g_autofree gchar *uri = NULL;
  const gchar *argv[] = { openssl, "req", "-x509", "-newkey", "rsa:2048",
    "-nodes", "-days", "1", "-subj", "/CN=noom-test", "-keyout", key,
    "-out", cert, NULL
  };
  gint status = 1;
  Server *server;
  GstElement *pipeline, *src;
  Watch *w;
  gint i;

  if (!openssl) {
    GST_WARNING ("no openssl to make a certificate: not testing nooms://");
    return;
  }
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL,
          G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
          NULL, NULL, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL));
  /* the server's 5 s for a handshake, stretched with the test's deadlines
   * (under ASan on a busy machine a handshake took longer) */
  handshake_arg = g_strdup_printf ("--handshake-timeout=%d",
      (gint) (5 * noom_test_time_scale () + 0.5));
  server = server_start_full (cert_arg, key_arg, handshake_arg);
  uri = g_strdup_printf ("nooms://127.0.0.1:%u/tls?nickname=bob", server->port);

  /* a self-signed certificate is refused, unless told otherwise */
  for (i = 0; i < 2; i++) {
    pipeline = gst_pipeline_new (NULL);
    src = gst_element_factory_make ("noomsrc", NULL);
    g_object_set (src, "uri", uri, "accept-invalid-certificates", i == 1, NULL);
    gst_bin_add (GST_BIN (pipeline), src);
    w = watch_pipeline (pipeline, src);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    if (i == 0) {
      wait_error (w, 10);
      fail_unless (w->error->domain == GST_RESOURCE_ERROR, "%s",
          w->error->message);
      /* it says why, and what to do */
      fail_unless (strstr (w->error->message, "self-signed") &&
          strstr (w->error->message, "accept-invalid-certificates"), "%s",
          w->error->message);
    } else {
      WAIT_UNTIL (w, w->joined, 10);
    }
    watch_free (w);
  }

  /* noom:// at the TLS port: the error suggests nooms:// */
  g_free (uri);
  uri = g_strdup_printf ("noom://127.0.0.1:%u/tls", server->port);
  pipeline = gst_pipeline_new (NULL);
  src = gst_element_factory_make ("noomsrc", NULL);
  g_object_set (src, "uri", uri, NULL);
  gst_bin_add (GST_BIN (pipeline), src);
  w = watch_pipeline (pipeline, src);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_error (w, 10);
  fail_unless (strstr (w->error->message, "nooms://127.0.0.1:") != NULL, "%s",
      w->error->message);
  watch_free (w);

  server_stop (server);
  g_unlink (cert);
  g_unlink (key);
  g_rmdir (dir);
}

GST_END_TEST;

static void
on_deep_element_added (GstBin * bin, GstBin * sub, GstElement * e,
    gchar ** policy)
{
  GstElementFactory *f = gst_element_get_factory (e);
  GValue v = G_VALUE_INIT;

  if (!f || g_strcmp0 (GST_OBJECT_NAME (f), "webrtcbin") || *policy)
    return;
  g_value_init (&v, G_TYPE_STRING);
  g_object_get_property (G_OBJECT (e), "ice-transport-policy", &v);
  *policy = g_value_dup_string (&v);
  g_value_unset (&v);
}

/* ice-transport-policy (H11's TURN test forces relay with it) */
GST_START_TEST (test_ice_transport_policy)
{
  const gchar *factories[] = { "noomsink", "noomsrc" };
  Server *server;
  Watch *pub, *b;
  gchar *policy = NULL;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (factories); i++) {
    GstElement *e = gst_element_factory_make (factories[i], NULL);
    GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (e),
        "ice-transport-policy");
    gint value;

    fail_unless (pspec != NULL);
    fail_unless (pspec->flags & GST_PARAM_MUTABLE_READY);
    g_object_get (e, "ice-transport-policy", &value, NULL);
    fail_unless_equals_int (value, 0);
    gst_util_set_object_arg (G_OBJECT (e), "ice-transport-policy", "relay");
    g_object_get (e, "ice-transport-policy", &value, NULL);
    fail_unless_equals_int (value, 1);
    gst_object_unref (e);
  }

  /* what is set reaches each connection's webrtcbin */
  server = server_start (NULL);
  pub = start_publisher (server, "relay", "alice", FALSE);
  WAIT_UNTIL (pub, pub->joined, 10);
  b = start_receiver (server, "relay", "bob", TRUE);
  fail_unless (gst_element_set_state (b->pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  gst_util_set_object_arg (G_OBJECT (b->noom), "ice-transport-policy", "relay");
  g_signal_connect (b->pipeline, "deep-element-added",
      G_CALLBACK (on_deep_element_added), &policy);
  fail_if (gst_element_set_state (b->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  WAIT_UNTIL (b, b->joined, 10);
  WAIT_UNTIL (pub, g_atomic_pointer_get (&policy) != NULL, 10);
  fail_unless (g_str_has_prefix (policy, "relay") ||
      g_str_has_prefix (policy, "GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY"),
      "webrtcbin has ice-transport-policy %s", policy);
  watch_free (b);
  watch_free (pub);
  g_free (policy);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_property_locked_when_running)
{
  Server *server = server_start (NULL);
  Watch *rx = start_receiver (server, "locked", "rx", TRUE);
  gchar *s;

  WAIT_UNTIL (rx, rx->joined, 10);
  EXPECT_NOOM_WARNING (g_object_set (rx->noom, "room", "elsewhere", NULL));
  g_object_get (rx->noom, "room", &s, NULL);
  fail_unless_equals_string (s, "locked");
  g_free (s);
  watch_free (rx);
  server_stop (server);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* media */

GST_START_TEST (test_publish_two_receivers)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "two", "alice", TRUE);
  Watch *b = start_receiver (server, "two", "bob", TRUE);
  Watch *c;
  GstStructure *stats = NULL;
  const GValue *parts;
  guint i, mark;
  gboolean sent = FALSE;

  /* bob decodes pictures and sound */
  WAIT_UNTIL (b, b->video_frames >= 10 && b->audio_frames >= 10, 20);
  g_mutex_lock (&b->lock);
  fail_unless (b->nicknames->len >= 1);
  for (i = 0; i < b->nicknames->len; i++)
    fail_unless_equals_string (b->nicknames->pdata[i], "alice");
  g_mutex_unlock (&b->lock);

  /* a late joiner decodes within a bounded time */
  c = start_receiver (server, "two", "carol", TRUE);
  WAIT_UNTIL (c, c->video_frames >= 5, 4);

  /* two subscribers make no connection (§7): bob knows alice only */
  g_object_get (b->noom, "stats", &stats, NULL);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (stats, "participants")), 1);
  gst_structure_free (stats);

  /* the publisher's stats name both, with bytes sent */
  g_object_get (pub->noom, "stats", &stats, NULL);
  parts = gst_structure_get_value (stats, "participants");
  fail_unless_equals_int (gst_value_array_get_size (parts), 2);
  for (i = 0; i < 2; i++) {
    const GstStructure *p =
        gst_value_get_structure (gst_value_array_get_value (parts, i));
    guint64 bytes = 0;

    gst_structure_get_uint64 (p, "bytes-sent", &bytes);
    sent |= bytes > 0;
    fail_unless_equals_string (gst_structure_get_string (p,
            "connection-state"), "connected");
  }
  fail_unless (sent, "no bytes sent in %" GST_PTR_FORMAT, stats);
  gst_structure_free (stats);

  /* carol leaves: bob goes on */
  watch_free (c);
  g_mutex_lock (&b->lock);
  mark = b->video_frames;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->video_frames >= mark + 15, 5);

  /* the publisher leaves: bob's pads end and go */
  watch_free (pub);
  WAIT_UNTIL (b, b->pads_removed == b->pads_added && b->eos_seen >= 1, 10);
  watch_free (b);
  server_stop (server);
}

GST_END_TEST;

/* Until @end (monotonic µs), nothing of @w ends: no EOS, no pad removed,
 * no error. */
static void
hold_until (Watch * w, gint64 end)
{
  g_mutex_lock (&w->lock);
  while (!w->error && !w->eos && !w->eos_seen && !w->pads_removed)
    if (!g_cond_wait_until (&w->cond, &w->lock, end))
      break;
  fail_unless (w->error == NULL, "pipeline error: %s",
      w->error ? w->error->message : "");
  fail_unless_equals_int (w->eos_seen, 0);
  fail_unless_equals_int (w->pads_removed, 0);
  fail_if (w->eos, "EOS reached the bus");
  g_mutex_unlock (&w->lock);
}

/* the stream-id of the last stream-start seen, "PAD ID STREAM-ID" */
static gchar *
last_stream_id (Watch * w)
{
  g_auto (GStrv) f = NULL;

  g_mutex_lock (&w->lock);
  fail_unless (w->stream_ids->len > 0);
  f = g_strsplit (w->stream_ids->pdata[w->stream_ids->len - 1], " ", 3);
  g_mutex_unlock (&w->lock);
  return g_strdup (f[2]);
}

/* docs/elements.md "Recovery": the server dies (SIGKILL) and comes back on
 * the same port 3 s later; both elements come back by themselves, and the
 * receiver's pad with them: no EOS, no pad removed or added; the pictures
 * flow again through the same pad, which names the publisher's new id
 * (tags too) and keeps its stream-id.  20 s on, all is still PLAYING. */
GST_START_TEST (test_reconnect)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "again", "alice", FALSE);
  Watch *b = start_receiver (server, "again", "bob", TRUE);
  g_autofree gchar *port = g_strdup_printf ("%u", server->port);
  g_autofree gchar *old_id = NULL, *new_id = NULL;
  g_autofree gchar *old_stream = NULL, *new_stream = NULL;
  GstPad *pad, *peer;
  GstState state;
  guint mark, tags, streams;
  gint64 restarted;

  WAIT_UNTIL (b, b->video_frames >= 10 && b->pads_added == 1
      && b->id_tags >= 1, 20);
  g_mutex_lock (&b->lock);
  pad = gst_object_ref (b->first_pad);
  tags = b->id_tags;
  streams = b->stream_ids->len;
  g_mutex_unlock (&b->lock);
  g_object_get (pad, "participant-id", &old_id, NULL);
  old_stream = last_stream_id (b);

  server_kill (server);
  WAIT_UNTIL (b, b->disconnected == 1, 10);
  WAIT_UNTIL (pub, pub->disconnected == 1, 10);
  g_usleep (3 * G_USEC_PER_SEC);
  server = server_start_full ("--port", port, NULL);
  restarted = g_get_monotonic_time ();
  WAIT_UNTIL (b, b->reconnected == 1, 15);
  WAIT_UNTIL (pub, pub->reconnected == 1, 15);

  /* the pictures again, through the same pad */
  g_mutex_lock (&b->lock);
  mark = b->video_frames;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->video_frames >= mark + 10, 20);
  g_mutex_lock (&b->lock);
  fail_unless_equals_int (b->pads_added, 1);
  fail_unless_equals_int (b->pads_removed, 0);
  fail_unless_equals_int (b->eos_seen, 0);
  fail_unless (b->first_pad == pad);
  g_mutex_unlock (&b->lock);
  fail_unless (GST_PAD_PARENT (pad) == b->noom);
  peer = gst_pad_get_peer (pad);
  fail_unless (peer != NULL, "the pad is no longer linked");
  gst_object_unref (peer);

  /* a new server, a new id: the pad says so, in its property and its tags;
   * its stream-id stays */
  g_object_get (pad, "participant-id", &new_id, NULL);
  fail_if (!g_strcmp0 (old_id, new_id), "participant-id still %s", old_id);
  WAIT_UNTIL (b, b->id_changes >= 1 && b->id_tags > tags
      && b->stream_ids->len > streams, 5);
  new_stream = last_stream_id (b);
  fail_unless_equals_string (new_stream, old_stream);

  /* and so it goes on */
  hold_until (b, restarted + 20 * G_TIME_SPAN_SECOND);
  fail_unless_equals_int (gst_element_get_state (b->pipeline, &state, NULL,
          0), GST_STATE_CHANGE_SUCCESS);
  fail_unless_equals_int (state, GST_STATE_PLAYING);
  g_mutex_lock (&b->lock);
  mark = b->video_frames;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->video_frames >= mark + 10, 5);
  hold_until (b, 0);

  gst_object_unref (pad);
  watch_free (pub);
  watch_free (b);
  server_stop (server);
}

GST_END_TEST;

/* Only our connection blips (the server keeps running): the publisher is
 * back with the same id, which maps it to its pad, although it renamed
 * itself meanwhile (the nickname could not have matched). */
GST_START_TEST (test_reconnect_same_id)
{
  Server *server = server_start (NULL);
  Relay *relay = relay_start (server->port);
  Watch *pub = start_publisher (server, "blip", "alice", FALSE);
  Watch *b;
  g_autofree gchar *old_id = NULL, *new_id = NULL, *nickname = NULL;
  guint mark;

  /* bob through the relay */
  server->port = relay->port;
  b = start_receiver (server, "blip", "bob", TRUE);
  server->port = relay->target;
  WAIT_UNTIL (b, b->video_frames >= 10 && b->pads_added == 1, 20);
  g_object_get (b->first_pad, "participant-id", &old_id, NULL);

  relay_cut (relay);
  /* the first reconnection attempt comes after 375 ms at least */
  g_object_set (pub->noom, "nickname", "carol", NULL);
  WAIT_UNTIL (b, b->disconnected == 1, 10);
  WAIT_UNTIL (b, b->reconnected == 1, 15);
  g_mutex_lock (&b->lock);
  mark = b->video_frames;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->video_frames >= mark + 10, 20);
  g_mutex_lock (&b->lock);
  fail_unless_equals_int (b->pads_added, 1);
  fail_unless_equals_int (b->pads_removed, 0);
  fail_unless_equals_int (b->eos_seen, 0);
  fail_unless_equals_int (b->id_changes, 0);
  g_mutex_unlock (&b->lock);
  g_object_get (b->first_pad, "participant-id", &new_id, "nickname",
      &nickname, NULL);
  fail_unless_equals_string (new_id, old_id);
  fail_unless_equals_string (nickname, "carol");
  /* the publisher never lost the server */
  fail_unless_equals_int (pub->disconnected, 0);

  watch_free (b);
  watch_free (pub);
  relay_stop (relay);
  server_stop (server);
}

GST_END_TEST;

/* The publisher does not come back (stopped while the server was away):
 * its pads stay through the rejoin, then end and go once reconnect-window
 * has passed since the rejoin.  No error: the element is in the room.
 * (The window also bounds the reconnection itself: it scales.) */
GST_START_TEST (test_reconnect_participant_gone)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "left", "alice", TRUE);
  Watch *b = start_receiver (server, "left", "bob", TRUE);
  g_autofree gchar *port = g_strdup_printf ("%u", server->port);
  guint window = NOOM_TEST_MS (3000);
  gint64 back;

  fail_unless (gst_element_set_state (b->pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (b->noom, "reconnect-window", window, NULL);
  fail_if (gst_element_set_state (b->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  WAIT_UNTIL (b, b->pads_added == 2 && b->video_frames >= 5
      && b->audio_frames >= 5, 20);

  server_kill (server);
  WAIT_UNTIL (b, b->disconnected == 1, 10);
  watch_free (pub);
  server = server_start_full ("--port", port, NULL);
  WAIT_UNTIL (b, b->reconnected == 1, 10);
  back = g_get_monotonic_time ();
  g_mutex_lock (&b->lock);
  fail_unless_equals_int (b->eos_seen, 0);
  fail_unless_equals_int (b->pads_removed, 0);
  g_mutex_unlock (&b->lock);

  WAIT_UNTIL (b, b->pads_removed == 2 && b->eos_seen == 2, 15);
  fail_unless (g_get_monotonic_time () - back >=
      window * 2 / 3 * G_TIME_SPAN_MILLISECOND,
      "the pads ended before reconnect-window (%u ms)", window);
  fail_unless_equals_int (b->pads_added, 2);
  fail_unless (b->error == NULL);
  watch_free (b);
  server_stop (server);
}

GST_END_TEST;

/* While the server is away the pads are parked: an EOS sent to the
 * pipeline (gst-launch -e) still ends them, and going to NULL removes them,
 * without hanging. */
GST_START_TEST (test_reconnect_parked_eos)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "parked", "alice", TRUE);
  Watch *b = start_receiver (server, "parked", "bob", TRUE);

  WAIT_UNTIL (b, b->pads_added == 2 && b->video_frames >= 5
      && b->audio_frames >= 5, 20);
  server_kill (server);
  WAIT_UNTIL (b, b->disconnected == 1, 10);
  g_mutex_lock (&b->lock);
  fail_unless_equals_int (b->eos_seen, 0);
  fail_unless_equals_int (b->pads_removed, 0);
  g_mutex_unlock (&b->lock);

  fail_unless (gst_element_send_event (b->pipeline, gst_event_new_eos ()));
  WAIT_UNTIL (b, b->eos && b->eos_seen == 2, 10);
  fail_unless_equals_int (gst_element_set_state (b->pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  g_mutex_lock (&b->lock);
  fail_unless_equals_int (b->pads_removed, 2);
  g_mutex_unlock (&b->lock);
  watch_free (b);
  watch_free (pub);
}

GST_END_TEST;

/* The server stays away longer than reconnect-window: a clear error. */
GST_START_TEST (test_reconnect_window)
{
  Server *server = server_start (NULL);
  Watch *b = start_receiver (server, "gone", "bob", TRUE);
  g_autofree gchar *where = g_strdup_printf ("127.0.0.1:%u", server->port);
  gint64 lost;

  fail_unless (gst_element_set_state (b->pipeline, GST_STATE_NULL) ==
      GST_STATE_CHANGE_SUCCESS);
  g_object_set (b->noom, "reconnect-window", 1500, NULL);
  fail_if (gst_element_set_state (b->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  WAIT_UNTIL (b, b->joined, 10);
  server_stop (server);
  lost = g_get_monotonic_time ();
  wait_error (b, 10);
  fail_unless (g_get_monotonic_time () - lost >= G_TIME_SPAN_SECOND,
      "gave up before the reconnect window");
  fail_unless_equals_int (b->disconnected, 1);
  fail_unless (strstr (b->error->message, where) &&
      strstr (b->error->message, "could not reconnect within 2 s"),
      "unclear error: %s", b->error->message);
  watch_free (b);
}

GST_END_TEST;

static void
count_item (const GValue * item, gpointer n)
{
  (*(guint *) n)++;
}

/* Elements of @factory anywhere inside @bin. */
static guint
count_factory (GstElement * bin, const gchar * factory)
{
  GstIterator *it =
      gst_bin_iterate_all_by_element_factory_name (GST_BIN (bin), factory);
  guint n = 0;

  while (gst_iterator_foreach (it, count_item, &n) == GST_ITERATOR_RESYNC) {
    n = 0;
    gst_iterator_resync (it);
  }
  gst_iterator_free (it);
  return n;
}

GST_START_TEST (test_receiver_first)
{
  /* the subscriber is in the room first, so it offers (§7) */
  Server *server = server_start (NULL);
  Watch *b = start_receiver (server, "first", "bob", TRUE);
  Watch *pub;

  WAIT_UNTIL (b, b->joined, 10);
  pub = start_publisher (server, "first", "alice", TRUE);
  WAIT_UNTIL (b, b->video_frames >= 10 && b->pads_added == 2, 20);
  WAIT_UNTIL (pub, pub->connected == 1, 5);
  /* no FEC decoder per received stream (gstnoompeer.c): nothing
   * negotiates ULPFEC, and webrtcbin 1.22's leaks at a teardown */
  fail_unless_equals_int (count_factory (b->pipeline, "rtpulpfecdec"), 0);
  watch_free (pub);
  watch_free (b);
  server_stop (server);
}

GST_END_TEST;

static GstPadProbeReturn
count_reconfigure (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) ==
      GST_EVENT_RECONFIGURE)
    g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

static gint
not_payloader (gconstpointer item, gconstpointer unused)
{
  const gchar *klass = gst_element_get_metadata (g_value_get_object (item),
      GST_ELEMENT_METADATA_KLASS);

  return klass && strstr (klass, "Payloader") ? 0 : 1;
}

/* noomsink's payloader: found by its class */
static GstElement *
find_payloader (GstElement * sink)
{
  GstIterator *it = gst_bin_iterate_recurse (GST_BIN (sink));
  GValue item = G_VALUE_INIT;
  GstElement *found = NULL;

  if (gst_iterator_find_custom (it, not_payloader, &item, NULL)) {
    found = g_value_dup_object (&item);
    g_value_unset (&item);
  }
  gst_iterator_free (it);
  return found;
}

GST_START_TEST (test_peers_leave_payloader_alone)
{
  /* A participant coming and going must not make noomsink's payloader
   * renegotiate (its caps are noomsink's own): besides the caps query
   * through every branch, GStreamer 1.22's payloader leaks when that meets
   * a pipeline stopping. */
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "renego", "alice", FALSE);
  Watch *b;
  GstElement *pay;
  GstPad *src;
  gint reconfigures = 0;

  WAIT_UNTIL (pub, pub->joined, 10);
  pay = find_payloader (pub->noom);
  fail_unless (pay != NULL);
  src = gst_element_get_static_pad (pay, "src");
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
      count_reconfigure, &reconfigures, NULL);
  b = start_receiver (server, "renego", "bob", TRUE);
  WAIT_UNTIL (b, b->video_frames >= 5, 20);
  watch_free (b);
  b = start_receiver (server, "renego", "carol", TRUE);
  WAIT_UNTIL (b, b->video_frames >= 5, 20);
  watch_free (b);
  fail_unless_equals_int (g_atomic_int_get (&reconfigures), 0);
  gst_object_unref (src);
  gst_object_unref (pay);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_two_publishers)
{
  Server *server = server_start (NULL);
  Watch *a = start_publisher (server, "pubs", "alice", FALSE);
  Watch *d = start_publisher (server, "pubs", "dave", FALSE);
  Watch *b = start_receiver (server, "pubs", "bob", TRUE);
  gboolean alice = FALSE, dave = FALSE;
  guint i, mark;

  WAIT_UNTIL (b, b->pads_added == 2 && b->video_frames >= 20, 20);
  g_mutex_lock (&b->lock);
  for (i = 0; i < b->nicknames->len; i++) {
    alice |= !g_strcmp0 (b->nicknames->pdata[i], "alice");
    dave |= !g_strcmp0 (b->nicknames->pdata[i], "dave");
  }
  g_mutex_unlock (&b->lock);
  fail_unless (alice && dave);

  /* dave leaves: his pad goes, alice's media goes on */
  watch_free (d);
  WAIT_UNTIL (b, b->pads_removed == 1, 10);
  g_mutex_lock (&b->lock);
  mark = b->video_frames;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->video_frames >= mark + 15, 5);

  watch_free (b);
  watch_free (a);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_encoded_to_muxer)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "enc", "alice", TRUE);
  Watch *b = start_receiver (server, "enc", "rec", FALSE);

  /* matroskamux accepts both pads' caps and muxes */
  WAIT_UNTIL (b, b->mux_linked && b->buffers >= 20, 20);
  fail_unless_equals_int (b->video_frames, 0);
  watch_free (b);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_playbin)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "play", "alice", TRUE);
  GstElement *playbin = gst_element_factory_make ("playbin", NULL);
  g_autofree gchar *uri = room_uri (server, "play", "viewer");
  Watch *w = watch_pipeline (playbin, NULL);
  GstElement *vsink = counting_fakesink (w);
  GstElement *asink = gst_element_factory_make ("fakesink", NULL);

  g_object_set (playbin, "uri", uri, "video-sink", vsink, "audio-sink",
      asink, NULL);
  gst_element_set_state (playbin, GST_STATE_PLAYING);
  WAIT_UNTIL (w, w->video_frames >= 10, 20);
  watch_free (w);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

static void
on_joined_signal (GstElement * e, const gchar * id, const gchar * nickname,
    Watch * w)
{
  g_mutex_lock (&w->lock);
  w->joined_signals++;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

static void
on_left_signal (GstElement * e, const gchar * id, const gchar * nickname,
    Watch * w)
{
  g_mutex_lock (&w->lock);
  w->left_signals++;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

GST_START_TEST (test_publisher_eos_leaves)
{
  /* the publisher's streams end while its pipeline stays PLAYING: it
   * leaves the room, so the receiver's pads end and go */
  Server *server = server_start (NULL);
  Watch *b = start_receiver (server, "eos", "bob", TRUE);
  Watch *pub;

  g_signal_connect (b->noom, "participant-joined",
      G_CALLBACK (on_joined_signal), b);
  g_signal_connect (b->noom, "participant-left", G_CALLBACK (on_left_signal),
      b);
  WAIT_UNTIL (b, b->joined, 10);
  pub = start_publisher_full (server, "eos", "alice", FALSE,
      "identity eos-after=90", NULL);
  WAIT_UNTIL (b, b->video_frames >= 3 && b->joined_signals == 1, 20);
  WAIT_UNTIL (pub, pub->eos, 10);
  WAIT_UNTIL (b, b->left_signals == 1 && b->pads_removed == 1
      && b->eos_seen == 1, 5);
  fail_unless_equals_int (GST_STATE (pub->pipeline), GST_STATE_PLAYING);
  watch_free (pub);
  watch_free (b);
  server_stop (server);
}

GST_END_TEST;

/* The connection drops after the publisher left (EOS): nothing to come
 * back for, so no reconnection and no error. */
GST_START_TEST (test_drop_after_leave)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher_full (server, "after", "alice", FALSE,
      "identity eos-after=20", NULL);
  guint warnings;

  WAIT_UNTIL (pub, pub->joined, 10);
  WAIT_UNTIL (pub, pub->eos, 10);
  g_mutex_lock (&pub->lock);
  warnings = pub->warnings;
  g_mutex_unlock (&pub->lock);
  server_kill (server);
  g_usleep (NOOM_TEST_MS (1500) * 1000);
  g_mutex_lock (&pub->lock);
  fail_unless (pub->error == NULL, "error after EOS: %s",
      pub->error ? pub->error->message : "");
  fail_unless_equals_int (pub->disconnected, 0);
  fail_unless_equals_int (pub->warnings, warnings);
  g_mutex_unlock (&pub->lock);
  watch_free (pub);
}

GST_END_TEST;

/* How many are in @room: a participant joins it to ask, and goes. */
typedef struct
{
  GMainLoop *loop;
  const gchar *room;
  guint count;
} Census;

static void
census_joined (GObject * source, GAsyncResult * res, gpointer data)
{
  Census *c = data;
  NoomJoinInfo *info = noom_client_join_finish (NOOM_CLIENT (source), res,
      NULL);

  fail_unless (info != NULL);
  c->count = info->count;
  noom_join_info_free (info);
  g_main_loop_quit (c->loop);
}

static void
census_connected (GObject * source, GAsyncResult * res, gpointer data)
{
  Census *c = data;

  fail_unless (noom_client_connect_finish (NOOM_CLIENT (source), res, NULL));
  noom_client_join_async (NOOM_CLIENT (source), c->room, "census", "browser",
      NOOM_MEDIA_NONE, NULL, census_joined, c);
}

/* The participants in @room, not counting the one asking. */
static guint
room_census (Server * server, const gchar * room)
{
  GMainContext *context = g_main_context_new ();
  Census c = { g_main_loop_new (context, FALSE), room, 0 };
  g_autofree gchar *url =
      g_strdup_printf ("ws://127.0.0.1:%u/socket.io/?EIO=4&transport=websocket",
      server->port);
  NoomClient *client;

  g_main_context_push_thread_default (context);
  client = noom_client_new ();
  noom_client_connect_async (client, url, NULL, NOOM_TEST_MS (5000), NULL,
      census_connected, &c);
  g_main_loop_run (c.loop);
  noom_client_close (client);
  g_object_unref (client);
  g_main_context_pop_thread_default (context);
  g_main_loop_unref (c.loop);
  g_main_context_unref (context);
  return c.count - 1;
}

/* Waits for a session's state to go to @state ("left"), from its log.
 * The log function is added once and never removed: GStreamer keeps the
 * list entries of removed log functions (threads may still be reading
 * them), which LeakSanitizer reports. */
typedef struct
{
  gchar *needle;
  gboolean seen;
} LogWait;

static GMutex log_wait_lock;
static GCond log_wait_cond;
static LogWait *log_wait_current;       /* with log_wait_lock */

static void
log_wait_func (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer data)
{
  const gchar *text;

  if (strcmp (gst_debug_category_get_name (category), "noomsession"))
    return;
  text = gst_debug_message_get (message);
  g_mutex_lock (&log_wait_lock);
  if (log_wait_current && text && strstr (text, log_wait_current->needle)) {
    log_wait_current->seen = TRUE;
    g_cond_broadcast (&log_wait_cond);
  }
  g_mutex_unlock (&log_wait_lock);
}

static LogWait *
log_wait_new (const gchar * state)
{
  static gboolean added;
  LogWait *lw = g_new0 (LogWait, 1);

  lw->needle = g_strdup_printf ("-> %s (", state);
  gst_debug_set_threshold_for_name ("noomsession", GST_LEVEL_INFO);
  g_mutex_lock (&log_wait_lock);
  log_wait_current = lw;
  g_mutex_unlock (&log_wait_lock);
  if (!added) {
    gst_debug_add_log_function (log_wait_func, NULL, NULL);
    added = TRUE;
  }
  return lw;
}

static void
log_wait_free (LogWait * lw, guint seconds)
{
  gint64 end = g_get_monotonic_time () +
      (gint64) (seconds * noom_test_time_scale () * G_TIME_SPAN_SECOND);
  gboolean seen;

  g_mutex_lock (&log_wait_lock);
  while (!lw->seen)
    if (!g_cond_wait_until (&log_wait_cond, &log_wait_lock, end))
      break;
  seen = lw->seen;
  log_wait_current = NULL;
  g_mutex_unlock (&log_wait_lock);
  gst_debug_unset_threshold_for_name ("noomsession");
  fail_unless (seen, "no session went \"%s)\" within %u s", lw->needle,
      seconds);
  g_free (lw->needle);
  g_free (lw);
}

/* The element leaves (EOS) while its join is on its way: the ack that
 * comes after is answered with a leave, and no peers are made. */
GST_START_TEST (test_join_ack_after_leave)
{
  Server *server = server_start (NULL);
  Relay *relay = relay_start (server->port);
  Watch *pub = start_publisher (server, "ack", "alice", FALSE);
  LogWait *left;
  Watch *w;

  WAIT_UNTIL (pub, pub->joined, 10);
  /* the Socket.IO CONNECT ack goes by; the join ack is held back */
  relay_hold_after (relay, "40{");
  w = start_receiver_at (relay->port, "ack", "eve", TRUE);
  relay_wait_held (relay, "\"alice\"", 10);
  left = log_wait_new ("left");
  fail_unless (gst_element_send_event (w->noom, gst_event_new_eos ()));
  log_wait_free (left, 5);
  relay_release (relay);

  g_usleep (NOOM_TEST_MS (1000) * 1000);
  g_mutex_lock (&w->lock);
  fail_if (w->joined, "joined after leaving");
  fail_unless (w->error == NULL);
  g_mutex_unlock (&w->lock);
  fail_unless_equals_int (room_census (server, "ack"), 1);
  g_mutex_lock (&pub->lock);
  fail_unless_equals_int (pub->connected, 0);
  g_mutex_unlock (&pub->lock);
  watch_free (w);
  watch_free (pub);
  relay_stop (relay);
  server_stop (server);
}

GST_END_TEST;

/* The publisher's offer (docs/protocol.md §7) and candidates reach the
 * element before its join ack: they are kept and replayed once the peers
 * of the ack exist. */
GST_START_TEST (test_events_before_join_ack)
{
  Server *server = server_start (NULL);
  Relay *relay = relay_start (server->port);
  Watch *pub = start_publisher (server, "early", "alice", FALSE);
  Watch *b;

  WAIT_UNTIL (pub, pub->joined, 10);
  relay_hold_after (relay, "40{");
  b = start_receiver_at (relay->port, "early", "bob", TRUE);
  /* alice's offer and candidates, then the ack, all in one piece */
  relay_wait_held (relay, "\"offer\"", 10);
  g_usleep (NOOM_TEST_MS (200) * 1000);
  relay_release_full (relay, TRUE);
  WAIT_UNTIL (b, b->video_frames >= 5 && b->pads_added == 1, 20);
  WAIT_UNTIL (pub, pub->connected == 1, 5);
  watch_free (b);
  watch_free (pub);
  relay_stop (relay);
  server_stop (server);
}

GST_END_TEST;

/* A participant driven by hand: a NoomClient with a main loop in a thread
 * of its own, which joins @room as a browser sending @sends and calls
 * @on_offer (a NoomClient "offer" handler) with @data for every offer. */
typedef struct
{
  guint port;
  const gchar *room, *nickname;
  NoomMediaFlags sends;
  GCallback on_offer;
  gpointer data;
  GMainContext *context;
  GMainLoop *loop;
  GThread *thread;
  NoomClient *client;
} FakePeer;

static void
fake_peer_joined (GObject * source, GAsyncResult * res, gpointer data)
{
  NoomJoinInfo *info = noom_client_join_finish (NOOM_CLIENT (source), res,
      NULL);

  fail_unless (info != NULL);
  noom_join_info_free (info);
}

static void
fake_peer_connected (GObject * source, GAsyncResult * res, gpointer data)
{
  FakePeer *p = data;

  fail_unless (noom_client_connect_finish (NOOM_CLIENT (source), res, NULL));
  noom_client_join_async (NOOM_CLIENT (source), p->room, p->nickname,
      "browser", p->sends, NULL, fake_peer_joined, p);
}

static gpointer
fake_peer_thread (gpointer data)
{
  FakePeer *p = data;
  g_autofree gchar *url =
      g_strdup_printf ("ws://127.0.0.1:%u/socket.io/?EIO=4&transport=websocket",
      p->port);

  g_main_context_push_thread_default (p->context);
  p->client = noom_client_new ();
  g_signal_connect (p->client, "offer", p->on_offer, p->data);
  noom_client_connect_async (p->client, url, NULL, 5000, NULL,
      fake_peer_connected, p);
  g_main_loop_run (p->loop);
  noom_client_close (p->client);
  g_clear_object (&p->client);
  g_main_context_pop_thread_default (p->context);
  return NULL;
}

static void
fake_peer_start (FakePeer * p, guint port, const gchar * room,
    const gchar * nickname, NoomMediaFlags sends, GCallback on_offer,
    gpointer data)
{
  p->port = port;
  p->room = room;
  p->nickname = nickname;
  p->sends = sends;
  p->on_offer = on_offer;
  p->data = data;
  p->context = g_main_context_new ();
  p->loop = g_main_loop_new (p->context, FALSE);
  p->thread = g_thread_new (nickname, fake_peer_thread, p);
}

static void
fake_peer_stop (FakePeer * p)
{
  g_main_loop_quit (p->loop);
  g_thread_join (p->thread);
  g_main_loop_unref (p->loop);
  g_main_context_unref (p->context);
}

/* A participant that breaks the protocol: it joins as a browser, and
 * answers every offer with text that is not SDP. */
typedef struct
{
  FakePeer peer;
  gint answered;                /* atomic */
} Mallory;

static void
mallory_on_offer (NoomClient * client, const gchar * from, const gchar * sdp,
    Mallory * m)
{
  noom_client_send_answer (client, from, "this is not a session description");
  g_atomic_int_inc (&m->answered);
}

GST_START_TEST (test_broken_participant)
{
  /* one participant's failure is a warning: the others go on */
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "bad", "alice", FALSE);
  Watch *b = start_receiver (server, "bad", "bob", TRUE);
  Mallory m = { {0,}, };
  guint mark;

  WAIT_UNTIL (b, b->video_frames >= 5, 20);
  fake_peer_start (&m.peer, server->port, "bad", "mallory",
      NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO, G_CALLBACK (mallory_on_offer), &m);

  /* both offer to the newcomer (§7) and both drop it */
  WAIT_UNTIL (pub, pub->failed == 1, 10);
  WAIT_UNTIL (b, b->failed == 1, 10);
  fail_unless_equals_int (g_atomic_int_get (&m.answered), 2);
  g_mutex_lock (&b->lock);
  mark = b->video_frames;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->video_frames >= mark + 15, 5);
  fail_unless_equals_int (GST_STATE (pub->pipeline), GST_STATE_PLAYING);

  fake_peer_stop (&m.peer);
  watch_free (b);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

/* ICE restart: "ghost" answers every offer and gives one candidate, a UDP
 * port that answers every STUN binding request with 401 Unauthorized, so
 * the publisher's ICE fails within a second or so each time. */
typedef struct
{
  FakePeer peer;
  GThread *stun_thread;
  GSocket *udp;
  guint udp_port;
  GMutex lock;
  GPtrArray *ufrags;            /* ice-ufrag of each offer, under lock */
  gboolean mute;                /* ICE succeeds, DTLS never starts */
} Ghost;

static guint32
crc32_of (const guint8 * data, gsize len)
{
  guint32 crc = 0xffffffff;
  gsize i;
  gint k;

  for (i = 0; i < len; i++) {
    crc ^= data[i];
    for (k = 0; k < 8; k++)
      crc = (crc >> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc;
}

/* The password of the ghost's answer whose ufrag begins the USERNAME of
 * @req ("ghostN:..."), or NULL. */
static gchar *
ghost_pwd_of (const guint8 * req, gsize n)
{
  gsize at = 20;

  while (at + 4 <= n) {
    guint type = req[at] << 8 | req[at + 1];
    guint len = req[at + 2] << 8 | req[at + 3];

    if (at + 4 + len > n)
      break;
    if (type == 0x0006 && len > 5 && !memcmp (req + at + 4, "ghost", 5)) {
      g_autofree gchar *user = g_strndup ((const gchar *) req + at + 4, len);
      gchar *colon = strchr (user, ':');

      if (colon)
        *colon = '\0';
      return g_strdup_printf ("ghostghostghostghostghost%s", user + 5);
    }
    at += 4 + ((len + 3) & ~3u);
  }
  return NULL;
}

/* A binding success response to @req from @from, signed with @pwd
 * (RFC 5389: XOR-MAPPED-ADDRESS, MESSAGE-INTEGRITY, FINGERPRINT); 64
 * bytes in @out. */
static void
ghost_success (const guint8 * req, GSocketAddress * from, const gchar * pwd,
    guint8 * out)
{
  GInetAddress *ia =
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (from));
  const guint8 *ip = g_inet_address_to_bytes (ia);
  guint port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (from));
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) pwd,
      strlen (pwd));
  gsize digest_len = 20;
  guint32 crc;
  gint i;

  memset (out, 0, 64);
  out[0] = 0x01;
  out[1] = 0x01;                /* binding success response */
  memcpy (out + 4, req + 4, 16);        /* cookie, transaction id */
  out[20] = 0x00;
  out[21] = 0x20;               /* XOR-MAPPED-ADDRESS */
  out[23] = 8;
  out[25] = 0x01;               /* IPv4 */
  out[26] = (port >> 8) ^ 0x21;
  out[27] = (port & 0xff) ^ 0x12;
  for (i = 0; i < 4; i++)
    out[28 + i] = ip[i] ^ req[4 + i];
  out[32] = 0x00;
  out[33] = 0x08;               /* MESSAGE-INTEGRITY */
  out[35] = 20;
  out[3] = 12 + 24;             /* the length as far as MESSAGE-INTEGRITY */
  g_hmac_update (hmac, out, 32);
  g_hmac_get_digest (hmac, out + 36, &digest_len);
  out[56] = 0x80;
  out[57] = 0x28;               /* FINGERPRINT */
  out[59] = 4;
  out[3] = 12 + 24 + 8;
  /* over the message up to the FINGERPRINT attribute, whose length the
   * header already counts */
  crc = crc32_of (out, 56) ^ 0x5354554e;
  out[60] = crc >> 24;
  out[61] = crc >> 16;
  out[62] = crc >> 8;
  out[63] = crc;
}

static gpointer
ghost_stun_thread (gpointer data)
{
  Ghost *g = data;
  guint8 buf[1500];

  for (;;) {
    GSocketAddress *from = NULL;
    gssize n = g_socket_receive_from (g->udp, &from, (gchar *) buf,
        sizeof (buf), NULL, NULL);
    guint8 out[36];
    guint32 crc;

    if (n <= 0)
      break;                    /* shut down */
    /* a binding request with the RFC 5389 magic cookie */
    if (g->mute && n >= 20 && buf[0] == 0x00 && buf[1] == 0x01) {
      g_autofree gchar *pwd = ghost_pwd_of (buf, n);
      guint8 ok[64];

      if (pwd) {
        ghost_success (buf, from, pwd, ok);
        g_socket_send_to (g->udp, from, (gchar *) ok, sizeof (ok), NULL, NULL);
      }
    } else if (n >= 20 && buf[0] == 0x00 && buf[1] == 0x01 && buf[4] == 0x21
        && buf[5] == 0x12 && buf[6] == 0xa4 && buf[7] == 0x42) {
      memset (out, 0, sizeof (out));
      out[0] = 0x01;
      out[1] = 0x11;            /* binding error response */
      out[3] = 16;              /* ERROR-CODE (8) + FINGERPRINT (8) */
      memcpy (out + 4, buf + 4, 16);    /* cookie, transaction id */
      out[21] = 0x09;           /* ERROR-CODE */
      out[23] = 4;
      out[26] = 4;              /* class 4 */
      out[27] = 1;              /* number 1: 401 */
      out[29] = 0x28;           /* FINGERPRINT (0x8028) */
      out[28] = 0x80;
      out[31] = 4;
      crc = crc32_of (out, 32) ^ 0x5354554e;
      out[32] = crc >> 24;
      out[33] = crc >> 16;
      out[34] = crc >> 8;
      out[35] = crc;
      g_socket_send_to (g->udp, from, (gchar *) out, sizeof (out), NULL, NULL);
    }
    g_clear_object (&from);
  }
  return NULL;
}

static void
ghost_on_offer (NoomClient * client, const gchar * from, const gchar * sdp,
    Ghost * g)
{
  g_auto (GStrv) lines = g_strsplit (sdp, "\r\n", -1);
  g_autoptr (GString) answer = g_string_new (NULL);
  g_autofree gchar *candidate = NULL;
  guint i, n;

  g_mutex_lock (&g->lock);
  n = g->ufrags->len;
  for (i = 0; lines[i]; i++)
    if (g_str_has_prefix (lines[i], "a=ice-ufrag:")) {
      g_ptr_array_add (g->ufrags, g_strdup (lines[i] + 12));
      break;
    }
  g_mutex_unlock (&g->lock);

  /* the offer, turned into an answer that receives */
  for (i = 0; lines[i]; i++) {
    const gchar *l = lines[i];

    if (!*l || g_str_has_prefix (l, "a=candidate")
        || g_str_has_prefix (l, "a=end-of-candidates"))
      continue;
    if (!strcmp (l, "a=sendonly") || !strcmp (l, "a=sendrecv"))
      l = "a=recvonly";
    else if (g_str_has_prefix (l, "a=setup:"))
      l = "a=setup:active";
    if (g_str_has_prefix (l, "a=ice-ufrag:"))
      g_string_append_printf (answer, "a=ice-ufrag:ghost%u\r\n", n);
    else if (g_str_has_prefix (l, "a=ice-pwd:"))
      g_string_append_printf (answer,
          "a=ice-pwd:ghostghostghostghostghost%u\r\n", n);
    else
      g_string_append_printf (answer, "%s\r\n", l);
  }
  noom_client_send_answer (client, from, answer->str);
  candidate = g_strdup_printf ("candidate:1 1 UDP 2122252543 127.0.0.1 %u "
      "typ host", g->udp_port);
  noom_client_send_ice (client, from, 0, "video0", candidate);
}

/* The ghost joins @room: its STUN port on loopback, and its answers to
 * every offer; @mute: it passes ICE and never starts DTLS. */
static void
ghost_start (Ghost * g, Server * server, const gchar * room, gboolean mute)
{
  g_autoptr (GInetAddress) lo =
      g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) addr = g_inet_socket_address_new (lo, 0);
  g_autoptr (GSocketAddress) bound = NULL;

  g_mutex_init (&g->lock);
  g->mute = mute;
  g->ufrags = g_ptr_array_new_with_free_func (g_free);
  g->udp = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM,
      G_SOCKET_PROTOCOL_UDP, NULL);
  fail_unless (g->udp && g_socket_bind (g->udp, addr, FALSE, NULL));
  bound = g_socket_get_local_address (g->udp, NULL);
  g->udp_port =
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g->stun_thread = g_thread_new ("ghost-stun", ghost_stun_thread, g);
  fake_peer_start (&g->peer, server->port, room, "ghost", 0,
      G_CALLBACK (ghost_on_offer), g);
}

static void
ghost_stop (Ghost * g)
{
  fake_peer_stop (&g->peer);
  g_socket_shutdown (g->udp, TRUE, TRUE, NULL);
  g_socket_close (g->udp, NULL);
  g_thread_join (g->stun_thread);
  g_object_unref (g->udp);
  g_ptr_array_unref (g->ufrags);
  g_mutex_clear (&g->lock);
}

GST_START_TEST (test_ice_restart)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "restart", "alice", FALSE);
  Ghost g = { {0,}, };
  guint i, j, n;

  WAIT_UNTIL (pub, pub->joined, 10);
  ghost_start (&g, server, "restart", FALSE);

  /* alice offers, ICE fails, she restarts it twice, then drops the ghost
   * alone */
  WAIT_UNTIL (pub, pub->failed == 1, 60);
  g_mutex_lock (&g.lock);
  n = g.ufrags->len;
  fail_unless_equals_int (n, 3);
  for (i = 0; i < n; i++)
    for (j = i + 1; j < n; j++)
      fail_if (!strcmp (g.ufrags->pdata[i], g.ufrags->pdata[j]),
          "offer %u did not restart ICE", j);
  g_mutex_unlock (&g.lock);
  fail_unless_equals_int (GST_STATE (pub->pipeline), GST_STATE_PLAYING);

  ghost_stop (&g);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

/* A connection whose ICE succeeds and whose DTLS never starts: the mute
 * ghost answers every STUN check, and as the DTLS client (setup:active)
 * never sends its ClientHello, so alice's connection stays "connecting",
 * which webrtcbin 1.22 never calls failed.  alice starts over after
 * GST_NOOM_PEER_ICE_RESTART_TIMEOUT, twice, then drops the ghost alone. */
GST_START_TEST (test_connection_stuck_connecting)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "stuck", "alice", FALSE);
  Ghost g = { {0,}, };

  WAIT_UNTIL (pub, pub->joined, 10);
  ghost_start (&g, server, "stuck", TRUE);

  WAIT_UNTIL (pub, pub->failed == 1, 90);
  g_mutex_lock (&g.lock);
  fail_unless_equals_int (g.ufrags->len, 3);
  g_mutex_unlock (&g.lock);
  fail_unless_equals_int (GST_STATE (pub->pipeline), GST_STATE_PLAYING);

  ghost_stop (&g);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

/* Participants that come and go while the publisher is still negotiating
 * with them: each leave lands at another step of the offer/answer (right
 * after the join, then a little later each time).  Nothing may warn (a
 * promise webrtcbin never answered, freed while pending, did), and the
 * publisher still serves the next one. */
GST_START_TEST (test_churn)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "churn", "alice", FALSE);
  Watch *b;
  guint i;

  WAIT_UNTIL (pub, pub->joined, 10);
  for (i = 0; i < 24; i++) {
    b = start_receiver (server, "churn", "bob", TRUE);
    WAIT_UNTIL (b, b->joined, 10);
    g_usleep ((i % 8) * 15 * 1000);
    watch_free (b);
  }
  b = start_receiver (server, "churn", "carol", TRUE);
  WAIT_UNTIL (b, b->video_frames >= 5, 20);
  fail_unless_equals_int (pub->failed, 0);
  watch_free (b);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

/* A participant renames itself in the room (noomsink's nickname set while
 * PLAYING): noomsrc's pads follow (property, notify, a new title tag before
 * the next buffer), the element posts noom-participant-updated and the
 * stats have the new name.  A name the server refuses (longer than its
 * --max-nickname) is a warning on the renamer, nothing more. */
static void
on_nickname_notify (GObject * pad, GParamSpec * pspec, guint * count)
{
  g_atomic_int_inc (count);
}

GST_START_TEST (test_rename)
{
  Server *server = server_start ("--max-nickname=12");
  Watch *pub = start_publisher (server, "names", "alice", FALSE);
  Watch *b = start_receiver (server, "names", "bob", TRUE);
  GstStructure *stats = NULL;
  const GstStructure *p;
  GstIterator *it;
  GValue v = G_VALUE_INIT;
  guint pads = 0, notified = 0;

  WAIT_UNTIL (b, b->video_frames >= 5, 20);
  fail_unless (has_title (b, "alice"));
  it = gst_element_iterate_src_pads (b->noom);
  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    g_signal_connect (g_value_get_object (&v), "notify::nickname",
        G_CALLBACK (on_nickname_notify), &notified);
    pads++;
    g_value_reset (&v);
  }
  gst_iterator_free (it);
  fail_unless_equals_int (pads, 1);

  g_object_set (pub->noom, "nickname", "Alice B.", NULL);
  WAIT_UNTIL (b, b->updated == 1, 10);
  fail_unless_equals_string (b->updated_nickname, "Alice B.");
  WAIT_UNTIL (b, has_title (b, "Alice B."), 10);
  fail_unless_equals_int (g_atomic_int_get (&notified), 1);
  it = gst_element_iterate_src_pads (b->noom);
  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    gchar *nickname = NULL;

    g_object_get (g_value_get_object (&v), "nickname", &nickname, NULL);
    fail_unless_equals_string (nickname, "Alice B.");
    g_free (nickname);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  g_object_get (b->noom, "stats", &stats, NULL);
  p = gst_value_get_structure (gst_value_array_get_value
      (gst_structure_get_value (stats, "participants"), 0));
  fail_unless_equals_string (gst_structure_get_string (p, "nickname"),
      "Alice B.");
  gst_structure_free (stats);

  /* valid for the elements, too long for this server */
  g_object_set (pub->noom, "nickname", "Alice Bobbington", NULL);
  WAIT_UNTIL (pub, pub->warnings == 1, 10);
  fail_if (pub->error);
  fail_unless_equals_int (b->updated, 1);

  watch_free (b);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

static void
count_pad_added (GstElement * src, GstPad * pad, Watch * w)
{
  g_mutex_lock (&w->lock);
  w->pads_added++;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

/* The publisher's video ends first: the muxer waits for video while the
 * audio's streaming thread is blocked in front of it (the queue is full).
 * Then the publisher leaves.  Both tracks must still end (EOS reaches the
 * sink, the file is complete) and the pads go.  Ending the tracks one by
 * one, or stopping the connection first, waited forever: the session
 * thread needed the blocked streaming thread's lock. */
GST_START_TEST (test_leave_while_muxer_waits)
{
  Server *server = server_start (NULL);
  g_autofree gchar *uri = room_uri (server, "stall", "alice");
  g_autofree gchar *rec_uri = room_uri (server, "stall", "rec");
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc name=vsrc "
      "is-live=true ! video/x-raw,width=160,height=120,framerate=15/1 ! "
      "noomsink name=noom uri=\"%s\" audiotestsrc is-live=true ! noom.", uri);
  /* as examples/record-participant.sh records */
  g_autofree gchar *rec_desc = g_strdup_printf ("noomsrc name=noom "
      "uri=\"%s\" decode=false noom.video_0 ! queue ! mux.video_0 "
      "noom.audio_0 ! queue ! mux.audio_0 matroskamux name=mux ! fakesink",
      rec_uri);
  GstElement *pipeline = gst_parse_launch (desc, NULL);
  GstElement *noom = gst_bin_get_by_name (GST_BIN (pipeline), "noom");
  Watch *pub = watch_pipeline (pipeline, noom);
  GstElement *vsrc = gst_bin_get_by_name (GST_BIN (pipeline), "vsrc");
  Watch *rec;

  gst_object_unref (noom);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  pipeline = gst_parse_launch (rec_desc, NULL);
  noom = gst_bin_get_by_name (GST_BIN (pipeline), "noom");
  rec = watch_pipeline (pipeline, noom);
  g_signal_connect (noom, "pad-added", G_CALLBACK (count_pad_added), rec);
  g_signal_connect (noom, "pad-removed", G_CALLBACK (on_src_pad_removed),
      rec);
  gst_object_unref (noom);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  WAIT_UNTIL (rec, rec->pads_added == 2, 20);
  /* the video ends (once both pads are there: a video that ended before
   * the recorder was connected would give it no video pad, as a busy
   * machine showed); then the audio piles up against the muxer */
  gst_element_send_event (vsrc, gst_event_new_eos ());
  gst_object_unref (vsrc);
  g_usleep (3 * G_USEC_PER_SEC);
  watch_free (pub);
  WAIT_UNTIL (rec, rec->pads_removed == 2 && rec->eos, 15);
  fail_if (rec->error);
  watch_free (rec);
  server_stop (server);
}

GST_END_TEST;

/* Before the muxer: no video data (buffers, gaps) goes through, so the
 * muxer waits for video for ever; EOS does. */
static GstPadProbeReturn
drop_video_data (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  if ((info->type & GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM) &&
      GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_GAP)
    return GST_PAD_PROBE_OK;
  return GST_PAD_PROBE_DROP;
}

/* noomsrc's audio pad: when its streaming thread last pushed a buffer */
static GstPadProbeReturn
stamp_push (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Watch *w = data;

  g_mutex_lock (&w->lock);
  w->audio_pushed = g_get_monotonic_time ();
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_OK;
}

static void
stamp_audio_pushes (GstElement * src, GstPad * pad, Watch * w)
{
  if (g_str_has_prefix (GST_PAD_NAME (pad), "audio"))
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, stamp_push, w, NULL);
}

/* As test_leave_while_muxer_waits, but the server dies instead: the
 * tracks would be kept for the reconnection, but stopping the lost
 * connection waits for the audio's streaming thread, blocked in front of
 * the muxer (its queue full), which waits for video.  Without EOS nothing
 * releases it and the session thread, the reconnection with it, waited
 * forever.  Now the tracks end after all (a warning, EOS, the pads go) and
 * the element comes back. */
GST_START_TEST (test_reconnect_while_muxer_waits)
{
  Server *server = server_start (NULL);
  g_autofree gchar *port = g_strdup_printf ("%u", server->port);
  Watch *pub = start_publisher (server, "stall2", "alice", TRUE);
  g_autofree gchar *rec_uri = room_uri (server, "stall2", "rec");
  g_autofree gchar *rec_desc = g_strdup_printf ("noomsrc name=noom "
      "uri=\"%s\" decode=false noom.video_0 ! queue name=vq ! mux.video_0 "
      "noom.audio_0 ! queue name=aq ! mux.audio_0 matroskamux name=mux ! "
      "fakesink", rec_uri);
  GstElement *pipeline = gst_parse_launch (rec_desc, NULL);
  GstElement *noom = gst_bin_get_by_name (GST_BIN (pipeline), "noom");
  GstElement *vq = gst_bin_get_by_name (GST_BIN (pipeline), "vq");
  GstPad *vq_src = gst_element_get_static_pad (vq, "src");
  Watch *rec = watch_pipeline (pipeline, noom);
  gint64 end, pushed = 0;

  gst_pad_add_probe (vq_src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST | GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      drop_video_data, NULL, NULL);
  gst_object_unref (vq_src);
  gst_object_unref (vq);
  g_signal_connect (noom, "pad-added", G_CALLBACK (count_pad_added), rec);
  g_signal_connect (noom, "pad-added", G_CALLBACK (stamp_audio_pushes), rec);
  g_signal_connect (noom, "pad-removed", G_CALLBACK (on_src_pad_removed),
      rec);
  gst_object_unref (noom);
  fail_if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE);
  WAIT_UNTIL (rec, rec->pads_added == 2, 20);
  /* the audio piles up against the muxer until its queue is full; then its
   * streaming thread waits there for good: no push for 0.5 s (a packet
   * comes every 20 ms) */
  end = g_get_monotonic_time () +
      NOOM_TEST_MS (15000) * G_TIME_SPAN_MILLISECOND;
  while (g_get_monotonic_time () < end) {
    g_mutex_lock (&rec->lock);
    pushed = rec->audio_pushed;
    g_mutex_unlock (&rec->lock);
    if (pushed && g_get_monotonic_time () - pushed > G_USEC_PER_SEC / 2)
      break;
    g_usleep (100 * 1000);
  }
  fail_unless (pushed && g_get_monotonic_time () - pushed >
      G_USEC_PER_SEC / 2, "the audio does not stall");

  server_kill (server);
  /* posted once the peers are gone: 5 s for the stop, then the tracks
   * end */
  WAIT_UNTIL (rec, rec->disconnected == 1, 15);
  server = server_start_full ("--port", port, NULL);
  WAIT_UNTIL (rec, rec->pads_removed == 2 && rec->eos, 20);
  WAIT_UNTIL (rec, rec->reconnected == 1, 15);
  fail_unless (rec->warnings >= 2, "no warning about the tracks");
  watch_free (rec);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

/* A bin going from PLAYING to PAUSED changes its sinks first.  noomsink
 * halfway there (everything inside it that is downstream of its webrtcbins
 * already PAUSED, the webrtcbins still PLAYING, as when gst-launch stops a
 * publisher after its EOS) while another publisher, whose media noomsink
 * receives and drops, leaves: the connection to it must still go at once.
 * A sink dropping that media blocked the webrtcbin's streaming thread when
 * PAUSED, and stopping the webrtcbin waited for that thread, forever. */
GST_START_TEST (test_leave_while_pausing)
{
  Server *server = server_start (NULL);
  Watch *a = start_publisher (server, "pausing", "alice", TRUE);
  Watch *d = start_publisher (server, "pausing", "dave", TRUE);
  GstStructure *stats = NULL;
  GstIterator *it;
  GValue v = G_VALUE_INIT;
  g_autoptr (GPtrArray) paused = g_ptr_array_new_with_free_func
      (gst_object_unref);
  guint i;

  g_signal_connect (a->noom, "participant-left", G_CALLBACK (on_left_signal),
      a);
  WAIT_UNTIL (a, a->connected == 1, 20);
  WAIT_UNTIL (d, d->connected == 1, 20);
  /* let dave's media reach alice */
  g_usleep (G_USEC_PER_SEC / 2);
  it = gst_bin_iterate_sinks (GST_BIN (a->noom));
  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstElement *e = g_value_get_object (&v);

    if (g_strcmp0 (GST_OBJECT_NAME (gst_element_get_factory (e)),
            "webrtcbin")) {
      gst_element_set_state (e, GST_STATE_PAUSED);
      g_ptr_array_add (paused, gst_object_ref (e));
    }
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  g_usleep (G_USEC_PER_SEC / 2);
  watch_free (d);
  WAIT_UNTIL (a, a->left_signals == 1, 10);
  g_object_get (a->noom, "stats", &stats, NULL);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (stats, "participants")), 0);
  gst_structure_free (stats);
  for (i = 0; i < paused->len; i++)
    gst_element_set_state (paused->pdata[i], GST_STATE_PLAYING);
  watch_free (a);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_stream_ids)
{
  /* Each pad of noomsrc has a stream-id of its own, naming the
   * participant and the track, and the same one for the same URI; its tags
   * carry the participant id in noom-participant-id, not in organization
   * or comment. */
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "sid", "alice", TRUE);
  Watch *r = start_receiver (server, "sid", "bob", TRUE);
  guint i;

  WAIT_UNTIL (r, r->stream_ids->len >= 2, 20);
  g_mutex_lock (&r->lock);
  for (i = 0; i < 2; i++) {
    g_auto (GStrv) f = g_strsplit (r->stream_ids->pdata[i], " ", 3);
    g_autofree gchar *track = g_strdup_printf ("/%s/%s", f[1],
        g_str_has_prefix (f[0], "video") ? "video" : "audio");

    GST_INFO ("%s", (gchar *) r->stream_ids->pdata[i]);
    fail_unless (g_str_has_suffix (f[2], track), "%s: %s does not end in %s",
        f[0], f[2], track);
  }
  fail_if (!g_strcmp0 (strrchr (r->stream_ids->pdata[0], ' '),
          strrchr (r->stream_ids->pdata[1], ' ')), "the same stream-id twice");
  g_mutex_unlock (&r->lock);
  WAIT_UNTIL (r, r->id_tags >= 2, 20);
  fail_if (r->other_tags, "the participant id in organization or comment");
  watch_free (r);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_recorder_kind)
{
  /* noomsrc kind=recorder: the room sees a recorder, and it receives */
  Server *server = server_start (NULL);
  Watch *pub = start_publisher (server, "rec", "alice", FALSE);
  g_autofree gchar *uri = room_uri (server, "rec", "rec");
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  Watch *r;

  g_object_set (src, "uri", uri, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "kind", "recorder");
  gst_bin_add (GST_BIN (pipeline), src);
  r = watch_pipeline (pipeline, src);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_src_pad_added), r);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  WAIT_UNTIL (pub, pub->recorder_seen, 10);
  WAIT_UNTIL (r, r->video_frames >= 5, 20);
  watch_free (r);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_participant_timeout)
{
  /* participant=NAME and NAME is not there: a message says it waits, and
   * participant-timeout ends the wait with an error naming NAME. */
  Server *server = server_start (NULL);
  g_autofree gchar *uri = room_uri (server, "wait", "bob");
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  gint64 start;
  Watch *w;

  g_object_set (src, "uri", uri, "participant", "nobody",
      "participant-timeout", 1500, NULL);
  gst_bin_add (GST_BIN (pipeline), src);
  w = watch_pipeline (pipeline, src);
  start = g_get_monotonic_time ();
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_error (w, 20);
  fail_unless (w->waiting, "no noom-waiting-for-participant message");
  fail_unless (g_get_monotonic_time () - start >= 1500 * 1000);
  fail_unless (g_error_matches (w->error, GST_RESOURCE_ERROR,
          GST_RESOURCE_ERROR_NOT_FOUND), "%s", w->error->message);
  fail_unless (strstr (w->error->message, "\"nobody\"") != NULL, "%s",
      w->error->message);
  watch_free (w);

  /* the participant there in time: no error */
  {
    Watch *pub = start_publisher (server, "wait", "alice", FALSE);
    Watch *r;

    pipeline = gst_pipeline_new (NULL);
    src = gst_element_factory_make ("noomsrc", NULL);
    g_object_set (src, "uri", uri, "participant", "alice",
        "participant-timeout", 1500, NULL);
    gst_bin_add (GST_BIN (pipeline), src);
    r = watch_pipeline (pipeline, src);
    g_signal_connect (src, "pad-added", G_CALLBACK (on_src_pad_added), r);
    WAIT_UNTIL (pub, pub->joined, 10);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    WAIT_UNTIL (r, r->video_frames >= 1, 20);
    start = g_get_monotonic_time ();
    /* past the timeout: still no error (WAIT_UNTIL fails on one) */
    WAIT_UNTIL (r, g_get_monotonic_time () - start > 2 * G_TIME_SPAN_SECOND,
        5);
    fail_if (r->waiting);
    watch_free (r);
    watch_free (pub);
  }
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_max_peers)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher_full (server, "max", "alice", FALSE, NULL,
      "max-peers=1");
  Watch *b = start_receiver (server, "max", "bob", TRUE);
  Watch *c;
  GstStructure *stats = NULL;

  WAIT_UNTIL (b, b->video_frames >= 5, 20);
  c = start_receiver (server, "max", "carol", TRUE);
  /* alice says she does not connect to carol */
  WAIT_UNTIL (pub, pub->warnings == 1, 10);
  g_object_get (pub->noom, "stats", &stats, NULL);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (stats, "participants")), 1);
  gst_structure_free (stats);
  watch_free (c);
  watch_free (b);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_room_ice_servers)
{
  /* the STUN server the room hands out goes to webrtcbin; with nothing
   * answering there, host candidates still connect */
  Server *server = server_start ("--ice-server=stun:127.0.0.1:3478");
  Watch *pub = start_publisher (server, "stun", "alice", FALSE);
  Watch *b = start_receiver (server, "stun", "bob", TRUE);
  GstIterator *it;
  GValue v = G_VALUE_INIT;
  gchar *stun = NULL;

  WAIT_UNTIL (b, b->video_frames >= 5, 20);
  it = gst_bin_iterate_elements (GST_BIN (b->noom));
  {

    while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
      GstElement *e = g_value_get_object (&v);

      if (!g_strcmp0 (GST_OBJECT_NAME (gst_element_get_factory (e)),
              "webrtcbin"))
        g_object_get (e, "stun-server", &stun, NULL);
      g_value_reset (&v);
    }
    g_value_unset (&v);
    gst_iterator_free (it);
  }
  fail_unless_equals_string (stun, "stun://127.0.0.1:3478");
  g_free (stun);
  watch_free (b);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

/* raw video encoded to each codec, VP8 and H.264 passed through, and
 * loopback named explicitly */
static const struct
{
  const gchar *encoder;
  const gchar *props;
} codecs[] = {
  {NULL, "video-codec=h264"},
  {NULL, "video-codec=vp9"},
  {"vp8enc deadline=1", NULL},
  {NULL, "ice-local-addresses=127.0.0.1"},
  {"x264enc tune=zerolatency speed-preset=ultrafast ! "
        "video/x-h264,profile=constrained-baseline", NULL},
};

GST_START_TEST (test_codecs)
{
  Server *server = server_start (NULL);
  Watch *pub = start_publisher_full (server, "codec", "alice", FALSE,
      codecs[__i__].encoder, codecs[__i__].props);
  Watch *b = start_receiver (server, "codec", "bob", TRUE);

  WAIT_UNTIL (b, b->video_frames >= 10, 20);
  watch_free (b);
  watch_free (pub);
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_participant_filter)
{
  Server *server = server_start (NULL);
  Watch *a = start_publisher (server, "filter", "alice", TRUE);
  Watch *d = start_publisher (server, "filter", "dave", TRUE);
  g_autofree gchar *uri = room_uri (server, "filter", "bob");
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  GstStructure *stats = NULL;
  Watch *b;
  guint mark;

  WAIT_UNTIL (a, a->joined, 10);
  WAIT_UNTIL (d, d->joined, 10);
  gst_util_set_object_arg (G_OBJECT (src), "media", "video");
  g_object_set (src, "uri", uri, "participant", "dave", NULL);
  gst_bin_add (GST_BIN (pipeline), src);
  b = watch_pipeline (pipeline, src);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_src_pad_added), b);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  WAIT_UNTIL (b, b->video_frames >= 10, 20);
  /* only dave's video; alice is not even connected */
  g_mutex_lock (&b->lock);
  mark = b->video_frames;
  fail_unless_equals_int (b->pads_added, 1);
  fail_unless_equals_string (b->nicknames->pdata[0], "dave");
  fail_unless_equals_int (b->audio_frames, 0);
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->video_frames >= mark + 10, 5);
  fail_unless_equals_int (b->pads_added, 1);
  g_object_get (src, "stats", &stats, NULL);
  fail_unless_equals_int (gst_value_array_get_size (gst_structure_get_value
          (stats, "participants")), 1);
  gst_structure_free (stats);
  watch_free (b);
  watch_free (d);
  watch_free (a);
  server_stop (server);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* rooms that forward media through the server (noom-server --sfu, the real
 * noom-relay, docs/protocol.md §11) */

typedef struct
{
  Server *server;
  GDataInputStream *in;
  GMutex lock;
  GCond cond;
  gint relay_pid;               /* the last "relay started pid=N" */
  gint ready_pid;               /* the last "relay ready pid=N" */
} SfuServer;

static void
sfu_line (SfuServer * sfu, const gchar * line)
{
  const gchar *p;

  g_mutex_lock (&sfu->lock);
  if ((p = strstr (line, "relay started pid=")))
    sfu->relay_pid = atoi (p + strlen ("relay started pid="));
  else if ((p = strstr (line, "relay ready pid=")))
    sfu->ready_pid = atoi (p + strlen ("relay ready pid="));
  g_cond_broadcast (&sfu->cond);
  g_mutex_unlock (&sfu->lock);
}

/* the server's log (its stderr, and the relay's) */
static gpointer
sfu_drain (gpointer data)
{
  SfuServer *sfu = data;
  gchar *line;

  while ((line = g_data_input_stream_read_line (sfu->in, NULL, NULL, NULL))) {
    sfu_line (sfu, line);
    g_free (line);
  }
  return NULL;
}

/* Waits until the relay that is up is not @old_pid; returns its pid. */
static gint
sfu_wait_relay (SfuServer * sfu, gint old_pid, guint seconds)
{
  gint64 end = g_get_monotonic_time () +
      (gint64) (seconds * noom_test_time_scale () * G_TIME_SPAN_SECOND);
  gint pid;

  g_mutex_lock (&sfu->lock);
  while (!(sfu->ready_pid && sfu->ready_pid != old_pid
          && sfu->ready_pid == sfu->relay_pid))
    if (!g_cond_wait_until (&sfu->cond, &sfu->lock, end))
      break;
  pid = sfu->ready_pid;
  g_mutex_unlock (&sfu->lock);
  fail_unless (pid && pid != old_pid, "no relay ready within %u s", seconds);
  return pid;
}

/* noom-server --sfu: it starts build/tools/relay/noom-relay, next to it in
 * the build tree. */
static SfuServer *
sfu_server_start (void)
{
  const gchar *exe = g_getenv ("NOOM_SERVER");
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  SfuServer *sfu = g_new0 (SfuServer, 1);
  Server *server = g_new0 (Server, 1);
  GError *error = NULL;
  gchar *line;

  fail_unless (exe != NULL, "NOOM_SERVER is not set");
  g_mutex_init (&sfu->lock);
  g_cond_init (&sfu->cond);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_MERGE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  server->proc = g_subprocess_launcher_spawn (launcher, &error, exe,
      "--host", "127.0.0.1", "--port", "0", "--sfu", NULL);
  fail_unless (server->proc != NULL, "cannot start %s: %s", exe,
      error ? error->message : "?");
  sfu->in = g_data_input_stream_new (g_subprocess_get_stdout_pipe
      (server->proc));
  while ((line = g_data_input_stream_read_line (sfu->in, NULL, NULL, NULL))) {
    const gchar *p = strstr (line, "://127.0.0.1:");

    sfu_line (sfu, line);
    if (strstr (line, "listening on") && p
        && sscanf (p, "://127.0.0.1:%u", &server->port)) {
      g_free (line);
      break;
    }
    g_free (line);
  }
  fail_unless (server->port != 0, "noom-server --sfu printed no port");
  /* the same drain as a mesh server's, which also reads what we want */
  server->drain = g_thread_new ("sfu-drain", sfu_drain, sfu);
  sfu->server = server;
  sfu_wait_relay (sfu, 0, 10);
  return sfu;
}

static void
sfu_server_stop (SfuServer * sfu)
{
  server_stop (sfu->server);
  g_object_unref (sfu->in);
  g_mutex_clear (&sfu->lock);
  g_cond_clear (&sfu->cond);
  g_free (sfu);
}

static guint
video_frames_of (Watch * w)
{
  guint n;

  g_mutex_lock (&w->lock);
  n = w->video_frames;
  g_mutex_unlock (&w->lock);
  return n;
}

static gint
not_vp8enc (gconstpointer item, gconstpointer unused)
{
  GstElementFactory *f = gst_element_get_factory (g_value_get_object (item));

  return f && !g_strcmp0 (GST_OBJECT_NAME (f), "vp8enc") ? 0 : 1;
}

/* The target-bitrate of the vp8enc inside @bin within @seconds (scaled)
 * once it is at least @want, or what it is at the end. */
static gint
wait_vp8enc_target (GstElement * bin, gint want, gdouble seconds)
{
  gint64 end = g_get_monotonic_time () +
      (gint64) (seconds * noom_test_time_scale () * G_TIME_SPAN_SECOND);
  gint target = -1;

  do {
    GstIterator *it = gst_bin_iterate_recurse (GST_BIN (bin));
    GValue enc = G_VALUE_INIT;

    if (gst_iterator_find_custom (it, not_vp8enc, &enc, NULL)) {
      g_object_get (g_value_get_object (&enc), "target-bitrate", &target,
          NULL);
      g_value_unset (&enc);
    }
    gst_iterator_free (it);
    if (target >= want)
      break;
    g_usleep (100 * G_TIME_SPAN_MILLISECOND);
  } while (g_get_monotonic_time () < end);
  return target;
}

/* noomsink publishes once: one connection, to the relay, whatever the
 * audience; three noomsrc decode its video and audio through the relay,
 * with the pads, nicknames and tags of a mesh room. */
GST_START_TEST (test_sfu_three_receivers)
{
  SfuServer *sfu = sfu_server_start ();
  Watch *pub = start_publisher (sfu->server, "sfu", "alice", TRUE);
  Watch *r[3];
  GstStructure *stats = NULL;
  const GValue *parts;
  g_autofree gchar *pub_id = NULL, *pad_id = NULL;
  guint i, j;

  WAIT_UNTIL (pub, pub->joined, 10);
  for (i = 0; i < 3; i++) {
    g_autofree gchar *nick = g_strdup_printf ("r%u", i);

    r[i] = start_receiver (sfu->server, "sfu", nick, TRUE);
  }
  for (i = 0; i < 3; i++) {
    WAIT_UNTIL (r[i], r[i]->video_frames >= 10 && r[i]->audio_frames >= 10
        && has_title (r[i], "alice") && r[i]->id_tags >= 2, 20);
    g_mutex_lock (&r[i]->lock);
    /* one video and one audio pad, both alice's */
    fail_unless_equals_int (r[i]->pads_added, 2);
    for (j = 0; j < r[i]->nicknames->len; j++)
      fail_unless_equals_string (r[i]->nicknames->pdata[j], "alice");
    g_mutex_unlock (&r[i]->lock);
  }

  /* the publisher's one connection is the relay's */
  g_object_get (pub->noom, "stats", &stats, NULL);
  parts = gst_structure_get_value (stats, "participants");
  fail_unless_equals_int (gst_value_array_get_size (parts), 1);
  fail_unless_equals_string (gst_structure_get_string (gst_value_get_structure
          (gst_value_array_get_value (parts, 0)), "id"), "~sfu");
  pub_id = g_strdup (gst_structure_get_string (stats, "id"));
  gst_structure_free (stats);
  g_mutex_lock (&pub->lock);
  fail_unless_equals_int (pub->connected, 1);
  g_mutex_unlock (&pub->lock);
  /* the relay gives TWCC feedback on its link, and the free link lets the
   * encoder climb from start-bitrate (a quarter of max-bitrate): it is
   * neither stuck there nor at the maximum without feedback (20 s: under
   * AddressSanitizer, with three receivers and the relay on 2 cores, the
   * climb took longer than 40 s once) */
  fail_unless (wait_vp8enc_target (pub->noom, 300000, 20) >= 300000);
  g_object_get (pub->noom, "stats", &stats, NULL);
  parts = gst_structure_get_value (stats, "participants");
  fail_unless_equals_string (gst_structure_get_string (gst_value_get_structure
          (gst_value_array_get_value (parts, 0)), "bandwidth-feedback"),
      "twcc");
  gst_structure_free (stats);

  /* the pads name the publisher, not the relay */
  g_object_get (r[0]->first_pad, "participant-id", &pad_id, NULL);
  fail_unless_equals_string (pad_id, pub_id);

  for (i = 0; i < 3; i++)
    watch_free (r[i]);
  watch_free (pub);
  sfu_server_stop (sfu);
}

GST_END_TEST;

/* A publisher leaves: the receivers' pads end (EOS) and go, as in a mesh
 * room; it comes back: new pads, and frames again. */
GST_START_TEST (test_sfu_publisher_comes_back)
{
  SfuServer *sfu = sfu_server_start ();
  Watch *pub = start_publisher (sfu->server, "back", "alice", TRUE);
  Watch *b = start_receiver (sfu->server, "back", "bob", TRUE);
  Watch *d = start_publisher (sfu->server, "back", "dave", FALSE);
  guint mark;

  WAIT_UNTIL (b, b->video_frames >= 20 && b->audio_frames >= 10
      && b->pads_added == 3, 20);

  watch_free (pub);
  WAIT_UNTIL (b, b->pads_removed == 2 && b->eos_seen >= 2, 10);
  /* dave's video goes on (through the relay's new offer without alice's
   * tracks: 10 s, as for the other waits on a renegotiation here) */
  mark = video_frames_of (b);
  WAIT_UNTIL (b, b->video_frames >= mark + 10, 10);

  pub = start_publisher (sfu->server, "back", "alice", TRUE);
  WAIT_UNTIL (b, b->pads_added == 5, 20);
  mark = video_frames_of (b);
  WAIT_UNTIL (b, b->video_frames >= mark + 20 && b->audio_frames >= 20, 10);
  g_mutex_lock (&b->lock);
  fail_unless_equals_int (b->pads_removed, 2);
  g_mutex_unlock (&b->lock);

  watch_free (pub);
  watch_free (d);
  WAIT_UNTIL (b, b->pads_removed == 5, 10);
  watch_free (b);
  sfu_server_stop (sfu);
}

GST_END_TEST;

/* A receiver that joins a running broadcast decodes within a few seconds:
 * the relay asks for a keyframe for it.  The publisher sends VP8 it
 * encodes itself with no keyframe but the first unless asked, so only a
 * keyframe request brings the newcomer a picture. */
GST_START_TEST (test_sfu_late_joiner)
{
  SfuServer *sfu = sfu_server_start ();
  Watch *pub = start_publisher_full (sfu->server, "late", "alice", FALSE,
      "vp8enc deadline=1 keyframe-max-dist=100000 ! video/x-vp8", NULL);
  Watch *b = start_receiver (sfu->server, "late", "bob", TRUE);
  Watch *c;

  WAIT_UNTIL (b, b->video_frames >= 10, 20);
  g_usleep (2 * G_USEC_PER_SEC);
  c = start_receiver (sfu->server, "late", "carol", TRUE);
  WAIT_UNTIL (c, c->pads_added == 1, 10);
  WAIT_UNTIL (c, c->video_frames >= 5, 4);
  watch_free (c);
  watch_free (b);
  watch_free (pub);
  sfu_server_stop (sfu);
}

GST_END_TEST;

/* A mesh server and an SFU server side by side: the elements take part in
 * either, as the join ack says. */
GST_START_TEST (test_sfu_and_mesh)
{
  Server *mesh = server_start (NULL);
  SfuServer *sfu = sfu_server_start ();
  Watch *mp = start_publisher (mesh, "both", "alice", FALSE);
  Watch *sp = start_publisher (sfu->server, "both", "alice", FALSE);
  Watch *mr = start_receiver (mesh, "both", "bob", TRUE);
  Watch *sr = start_receiver (sfu->server, "both", "bob", TRUE);
  GstStructure *stats = NULL;

  WAIT_UNTIL (mr, mr->video_frames >= 10, 20);
  WAIT_UNTIL (sr, sr->video_frames >= 10, 20);
  /* peer to peer on one, through the relay on the other */
  g_object_get (mr->noom, "stats", &stats, NULL);
  fail_if (!g_strcmp0 (gst_structure_get_string (gst_value_get_structure
              (gst_value_array_get_value (gst_structure_get_value (stats,
                          "participants"), 0)), "id"), "~sfu"));
  gst_structure_free (stats);
  g_object_get (sr->noom, "stats", &stats, NULL);
  fail_unless_equals_string (gst_structure_get_string (gst_value_get_structure
          (gst_value_array_get_value (gst_structure_get_value (stats,
                      "participants"), 0)), "id"), "~sfu");
  gst_structure_free (stats);
  watch_free (mr);
  watch_free (sr);
  watch_free (mp);
  watch_free (sp);
  sfu_server_stop (sfu);
  server_stop (mesh);
}

GST_END_TEST;

/* The relay is killed: noom-server starts another, the elements answer
 * its offers on fresh connections, and the pictures come back (into the
 * same pads: they were parked). */
GST_START_TEST (test_sfu_relay_restart)
{
  SfuServer *sfu = sfu_server_start ();
  Watch *pub = start_publisher (sfu->server, "crash", "alice", FALSE);
  Watch *b = start_receiver (sfu->server, "crash", "bob", TRUE);
  gint pid;
  guint mark;

  WAIT_UNTIL (b, b->video_frames >= 10, 20);
  g_mutex_lock (&sfu->lock);
  pid = sfu->relay_pid;
  g_mutex_unlock (&sfu->lock);
  fail_unless (pid > 0);
  fail_unless_equals_int (kill (pid, SIGKILL), 0);
  WAIT_UNTIL (b, b->warnings >= 1, 10);
  sfu_wait_relay (sfu, pid, 15);
  mark = video_frames_of (b);
  WAIT_UNTIL (b, b->video_frames >= mark + 20, 20);
  g_mutex_lock (&b->lock);
  fail_unless_equals_int (b->pads_added, 1);
  fail_unless_equals_int (b->pads_removed, 0);
  g_mutex_unlock (&b->lock);
  watch_free (b);
  watch_free (pub);
  sfu_server_stop (sfu);
}

GST_END_TEST;

/* Runs tc on loopback (the test's own network namespace); FALSE if it
 * could not. */
static gboolean
tc_lo (const gchar * args)
{
  g_autofree gchar *cmd = g_strdup_printf ("tc %s", args);
  gint status = 1;

  if (!g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL))
    return FALSE;
  return g_spawn_check_wait_status (status, NULL);
}

/* Whether this process has a network namespace of its own, with nothing
 * but loopback (scripts/test runs the suites in one): only there may a
 * test change how loopback carries packets. */
static gboolean
only_loopback (void)
{
  g_autofree gchar *dev = NULL;
  g_auto (GStrv) lines = NULL;
  gboolean only;
  guint i;

  /* /proc/self/net is this namespace's (/sys/class/net may be another's) */
  if (getuid () != 0 || !g_file_get_contents ("/proc/self/net/dev", &dev,
          NULL, NULL))
    return FALSE;
  lines = g_strsplit (dev, "\n", -1);
  only = TRUE;
  /* two header lines, then "  NAME: counters" */
  for (i = 2; lines[i]; i++) {
    g_strstrip (lines[i]);
    if (*lines[i] && !g_str_has_prefix (lines[i], "lo:"))
      only = FALSE;
  }
  return only;
}

/* All UDP on loopback, and TCP but the signalling's (ICE-TCP), goes into
 * a class of 8 bit/s with a one-packet queue: all but a packet now and
 * then is lost, as on a network that broke (tc's drop action is not there
 * to use; netem neither).  The signalling to @port goes on.  FALSE if tc
 * could not. */
static gboolean
media_blackhole (guint16 port, gboolean on)
{
  g_autofree gchar *to_server = NULL;
  g_autofree gchar *from_server = NULL;

  if (!on)
    return tc_lo ("qdisc del dev lo root");
  to_server = g_strdup_printf ("filter add dev lo parent 1: protocol ip prio "
      "1 u32 match ip protocol 6 0xff match ip dport %u 0xffff classid 1:10",
      port);
  from_server = g_strdup_printf ("filter add dev lo parent 1: protocol ip "
      "prio 1 u32 match ip protocol 6 0xff match ip sport %u 0xffff classid "
      "1:10", port);
  if (!tc_lo ("qdisc add dev lo root handle 1: htb default 10 r2q 1000")
      || !tc_lo ("class add dev lo parent 1: classid 1:10 htb rate 10gbit")
      || !tc_lo ("class add dev lo parent 1: classid 1:20 htb rate 8bit "
          "ceil 8bit")
      || !tc_lo ("qdisc add dev lo parent 1:20 handle 20: pfifo limit 1")
      || !tc_lo (to_server) || !tc_lo (from_server)
      || !tc_lo ("filter add dev lo parent 1: protocol ip prio 2 u32 "
          "match ip protocol 17 0xff classid 1:20")
      || !tc_lo ("filter add dev lo parent 1: protocol ip prio 2 u32 "
          "match ip protocol 6 0xff classid 1:20")) {
    tc_lo ("qdisc del dev lo root");
    return FALSE;
  }
  /* Taken away by itself too, in case the test fails first: the tests
   * after it share the namespace. */
  {
    g_autofree gchar *cmd = g_strdup_printf ("sh -c 'sleep %d; tc qdisc del "
        "dev lo root 2>/dev/null'", (gint) (30 * noom_test_time_scale ()));

    g_spawn_command_line_async (cmd, NULL);
  }
  return TRUE;
}

/* SFU room: a receiver whose connection to the relay cannot come up (all
 * media lost) joins the room again for a new one, and gets the media once
 * the network is back.  The relay never offers a new connection of its
 * own accord: without the join again, the receiver stays without media. */
GST_START_TEST (test_sfu_relay_connection_fails)
{
  g_autofree gchar *tc = g_find_program_in_path ("tc");
  SfuServer *sfu;
  Watch *pub, *b;
  guint mark;

  if (!only_loopback () || !tc) {
    GST_WARNING ("not root in a namespace with only loopback, or no tc: "
        "not testing a broken relay connection");
    return;
  }
  sfu = sfu_server_start ();
  pub = start_publisher (sfu->server, "broken", "alice", FALSE);
  /* her track at the relay, which offers it to bob when he joins */
  WAIT_UNTIL (pub, pub->connected >= 1, 10);
  fail_unless (media_blackhole (sfu->server->port, TRUE),
      "tc could not shape loopback");
  b = start_receiver (sfu->server, "broken", "bob", TRUE);
  /* the 10 s an answered connection has to come up, or ICE failing */
  WAIT_UNTIL (b, b->relay_rejoins >= 1, 25);
  fail_unless (media_blackhole (sfu->server->port, FALSE));
  WAIT_UNTIL (b, b->video_frames >= 10, 40);
  mark = video_frames_of (b);
  WAIT_UNTIL (b, b->video_frames >= mark + 10, 10);
  g_mutex_lock (&b->lock);
  fail_unless (b->error == NULL);
  g_mutex_unlock (&b->lock);
  watch_free (b);
  watch_free (pub);
  sfu_server_stop (sfu);
}

GST_END_TEST;

/* participant= and media= in an SFU room: the relay forwards everyone's
 * tracks, noomsrc exposes only those asked for. */
GST_START_TEST (test_sfu_participant_filter)
{
  SfuServer *sfu = sfu_server_start ();
  Watch *a = start_publisher (sfu->server, "sfilter", "alice", TRUE);
  Watch *d = start_publisher (sfu->server, "sfilter", "dave", TRUE);
  g_autofree gchar *uri = room_uri (sfu->server, "sfilter", "bob");
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("noomsrc", NULL);
  Watch *b;
  guint mark;

  WAIT_UNTIL (a, a->joined, 10);
  WAIT_UNTIL (d, d->joined, 10);
  gst_util_set_object_arg (G_OBJECT (src), "media", "video");
  g_object_set (src, "uri", uri, "participant", "dave", NULL);
  gst_bin_add (GST_BIN (pipeline), src);
  b = watch_pipeline (pipeline, src);
  g_signal_connect (src, "pad-added", G_CALLBACK (on_src_pad_added), b);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);

  WAIT_UNTIL (b, b->video_frames >= 10, 20);
  mark = video_frames_of (b);
  /* alice's tracks (and dave's audio) keep coming from the relay: time
   * for their pads to appear, were they exposed */
  WAIT_UNTIL (b, b->video_frames >= mark + 10, 10);
  g_mutex_lock (&b->lock);
  fail_unless_equals_int (b->pads_added, 1);
  fail_unless_equals_string (b->nicknames->pdata[0], "dave");
  fail_unless_equals_int (b->audio_frames, 0);
  g_mutex_unlock (&b->lock);
  watch_free (b);
  watch_free (d);
  watch_free (a);
  sfu_server_stop (sfu);
}

GST_END_TEST;

/* H.264 cannot go through the relay: a clear error. */
GST_START_TEST (test_sfu_unsupported_codec)
{
  SfuServer *sfu = sfu_server_start ();
  Watch *pub = start_publisher_full (sfu->server, "h264", "alice", FALSE,
      NULL, "video-codec=h264");

  wait_error (pub, 20);
  fail_unless (g_error_matches (pub->error, GST_STREAM_ERROR,
          GST_STREAM_ERROR_CODEC_NOT_FOUND), "%s", pub->error->message);
  fail_unless (strstr (pub->error->message, "VP8") != NULL, "%s",
      pub->error->message);
  watch_free (pub);
  sfu_server_stop (sfu);
}

GST_END_TEST;

/* webrtcbin 1.22 warns "jitter_buffer_set_retransmission: code should not
 * be reached" when a renegotiation (the relay's offers as publishers come
 * and go) leaves a remote SSRC of an earlier description without a
 * transceiver for its m-line.  The stream is not affected: the SFU tests
 * check the frames themselves. */
static void
sfu_setup (void)
{
  const gchar *domains[] = { NULL, "GStreamer", "GStreamer-WebRTC" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (domains); i++)
    gst_check_add_log_filter (domains[i], G_LOG_LEVEL_WARNING |
        G_LOG_LEVEL_CRITICAL,
        g_regex_new ("jitter_buffer_set_retransmission", 0, 0, NULL),
        NULL, NULL, NULL);
}

/* ------------------------------------------------------------------------ */
/* chat: send-chat, chat-message and the noom-chat-message message */

/* What an element heard in the room's chat, from its signal and its bus. */
typedef struct
{
  GMutex lock;
  GCond cond;
  GPtrArray *signals;           /* "ID NICKNAME: TEXT" of chat-message */
  GPtrArray *messages;          /* the same of noom-chat-message */
  GPtrArray *warnings;          /* the warnings' texts */
} ChatLog;

static void
chat_log_add (ChatLog * log, GPtrArray * to, gchar * line)
{
  g_mutex_lock (&log->lock);
  g_ptr_array_add (to, line);
  g_cond_broadcast (&log->cond);
  g_mutex_unlock (&log->lock);
}

static void
on_chat_message (GstElement * e, const gchar * id, const gchar * nickname,
    const gchar * text, ChatLog * log)
{
  chat_log_add (log, log->signals, g_strdup_printf ("%s %s: %s", id,
          nickname, text));
}

static void
on_chat_bus_message (GstBus * bus, GstMessage * message, ChatLog * log)
{
  const GstStructure *s = gst_message_get_structure (message);
  GError *error = NULL;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_WARNING) {
    gst_message_parse_warning (message, &error, NULL);
    chat_log_add (log, log->warnings, g_strdup_printf ("%s %d %s",
            g_quark_to_string (error->domain), error->code, error->message));
    g_error_free (error);
  } else if (gst_structure_has_name (s, "noom-chat-message")) {
    chat_log_add (log, log->messages, g_strdup_printf ("%s %s: %s",
            gst_structure_get_string (s, "id"),
            gst_structure_get_string (s, "nickname"),
            gst_structure_get_string (s, "text")));
  }
}

static ChatLog *
chat_log_new (Watch * w)
{
  ChatLog *log = g_new0 (ChatLog, 1);
  GstBus *bus = GST_ELEMENT_BUS (w->pipeline);

  g_mutex_init (&log->lock);
  g_cond_init (&log->cond);
  log->signals = g_ptr_array_new_with_free_func (g_free);
  log->messages = g_ptr_array_new_with_free_func (g_free);
  log->warnings = g_ptr_array_new_with_free_func (g_free);
  g_signal_connect (w->noom, "chat-message", G_CALLBACK (on_chat_message), log);
  /* besides the Watch's sync handler */
  gst_bus_enable_sync_message_emission (bus);
  g_signal_connect (bus, "sync-message::element",
      G_CALLBACK (on_chat_bus_message), log);
  g_signal_connect (bus, "sync-message::warning",
      G_CALLBACK (on_chat_bus_message), log);
  return log;
}

/* Disconnects from @w, which must still be running. */
static void
chat_log_free (ChatLog * log, Watch * w)
{
  GstBus *bus = GST_ELEMENT_BUS (w->pipeline);

  g_signal_handlers_disconnect_by_data (w->noom, log);
  g_signal_handlers_disconnect_by_data (bus, log);
  gst_bus_disable_sync_message_emission (bus);
  g_ptr_array_unref (log->signals);
  g_ptr_array_unref (log->messages);
  g_ptr_array_unref (log->warnings);
  g_mutex_clear (&log->lock);
  g_cond_clear (&log->cond);
  g_free (log);
}

static gboolean
lines_have (GPtrArray * lines, const gchar * line)
{
  guint i;

  for (i = 0; i < lines->len; i++)
    if (!g_strcmp0 (lines->pdata[i], line))
      return TRUE;
  return FALSE;
}

static gboolean
lines_match (GPtrArray * lines, const gchar * part)
{
  guint i;

  for (i = 0; i < lines->len; i++)
    if (strstr (lines->pdata[i], part))
      return TRUE;
  return FALSE;
}

/* Waits until @expr (over the log's arrays) holds. */
#define CHAT_WAIT(log, expr, seconds) G_STMT_START {                       \
    gint64 _end = g_get_monotonic_time () +                                \
        (gint64) ((seconds) * noom_test_time_scale () * G_TIME_SPAN_SECOND); \
    g_mutex_lock (&(log)->lock);                                            \
    while (!(expr))                                                         \
      if (!g_cond_wait_until (&(log)->cond, &(log)->lock, _end))            \
        break;                                                              \
    fail_unless ((expr), "timed out after %d s waiting for: %s",           \
        (int) (seconds), #expr);                                            \
    g_mutex_unlock (&(log)->lock);                                          \
  } G_STMT_END

/* The element's participant id, from its stats. */
static gchar *
element_id (Watch * w)
{
  GstStructure *stats = NULL;
  gchar *id;

  g_object_get (w->noom, "stats", &stats, NULL);
  fail_unless (stats != NULL);
  id = g_strdup (gst_structure_get_string (stats, "id"));
  gst_structure_free (stats);
  fail_unless (id != NULL);
  return id;
}

static gboolean
send_chat (Watch * w, const gchar * text)
{
  gboolean ok = FALSE;

  g_signal_emit_by_name (w->noom, "send-chat", text, &ok);
  return ok;
}

/* Someone in the room with the C signalling client, on its own thread:
 * it says what it gets in the chat, and writes to it. */
typedef struct
{
  FakePeer peer;
  ChatLog log;
  gchar *id;                    /* once joined, under log.lock */
} ChatPeer;

static void
chat_peer_on_chat (NoomClient * client, const gchar * from,
    const gchar * nickname, const gchar * text, ChatPeer * c)
{
  chat_log_add (&c->log, c->log.signals, g_strdup_printf ("%s %s: %s", from,
          nickname, text));
}

static void
chat_peer_joined (GObject * source, GAsyncResult * res, gpointer data)
{
  ChatPeer *c = data;
  NoomJoinInfo *info = noom_client_join_finish (NOOM_CLIENT (source), res,
      NULL);

  fail_unless (info != NULL);
  g_mutex_lock (&c->log.lock);
  c->id = g_strdup (info->self->id);
  g_cond_broadcast (&c->log.cond);
  g_mutex_unlock (&c->log.lock);
  noom_join_info_free (info);
}

static void
chat_peer_connected (GObject * source, GAsyncResult * res, gpointer data)
{
  ChatPeer *c = data;

  fail_unless (noom_client_connect_finish (NOOM_CLIENT (source), res, NULL));
  g_signal_connect (source, "chat", G_CALLBACK (chat_peer_on_chat), c);
  noom_client_join_async (NOOM_CLIENT (source), c->peer.room,
      c->peer.nickname, "browser", NOOM_MEDIA_NONE, NULL, chat_peer_joined, c);
}

static gpointer
chat_peer_thread (gpointer data)
{
  ChatPeer *c = data;
  g_autofree gchar *url =
      g_strdup_printf ("ws://127.0.0.1:%u/socket.io/?EIO=4&transport=websocket",
      c->peer.port);

  g_main_context_push_thread_default (c->peer.context);
  c->peer.client = noom_client_new ();
  noom_client_connect_async (c->peer.client, url, NULL, 5000, NULL,
      chat_peer_connected, c);
  g_main_loop_run (c->peer.loop);
  noom_client_close (c->peer.client);
  g_clear_object (&c->peer.client);
  g_main_context_pop_thread_default (c->peer.context);
  return NULL;
}

static ChatPeer *
chat_peer_start (Server * server, const gchar * room, const gchar * nickname)
{
  ChatPeer *c = g_new0 (ChatPeer, 1);

  g_mutex_init (&c->log.lock);
  g_cond_init (&c->log.cond);
  c->log.signals = g_ptr_array_new_with_free_func (g_free);
  c->peer.port = server->port;
  c->peer.room = room;
  c->peer.nickname = nickname;
  c->peer.context = g_main_context_new ();
  c->peer.loop = g_main_loop_new (c->peer.context, FALSE);
  c->peer.thread = g_thread_new (nickname, chat_peer_thread, c);
  CHAT_WAIT (&c->log, c->id != NULL, 10);
  return c;
}

typedef struct
{
  ChatPeer *c;
  gchar *text;
} ChatPeerSend;

static gboolean
chat_peer_send_in_thread (gpointer data)
{
  ChatPeerSend *s = data;

  noom_client_send_chat (s->c->peer.client, s->text);
  g_free (s->text);
  g_free (s);
  return G_SOURCE_REMOVE;
}

static void
chat_peer_send (ChatPeer * c, const gchar * text)
{
  ChatPeerSend *s = g_new0 (ChatPeerSend, 1);

  s->c = c;
  s->text = g_strdup (text);
  g_main_context_invoke (c->peer.context, chat_peer_send_in_thread, s);
}

static void
chat_peer_stop (ChatPeer * c)
{
  fake_peer_stop (&c->peer);
  g_ptr_array_unref (c->log.signals);
  g_mutex_clear (&c->log.lock);
  g_cond_clear (&c->log.cond);
  g_free (c->id);
  g_free (c);
}

/* A noomsrc and a noomsink write to the room: the other element gets each
 * message as chat-message and as noom-chat-message, with the sender's id
 * and nickname; a sender does not get its own back. */
GST_START_TEST (test_chat_between_elements)
{
  Server *server = server_start (NULL);
  Watch *a = start_receiver (server, "chat", "alice", TRUE);
  Watch *b = start_receiver (server, "chat", "bob", TRUE);
  Watch *pub;
  ChatLog *la, *lb;
  g_autofree gchar *a_id = NULL, *pub_id = NULL;
  g_autofree gchar *from_a = NULL, *from_pub = NULL;

  la = chat_log_new (a);
  lb = chat_log_new (b);
  WAIT_UNTIL (a, a->joined, 10);
  WAIT_UNTIL (b, b->joined, 10);
  a_id = element_id (a);

  fail_unless (send_chat (a, "hello from alice ✓"));
  from_a = g_strdup_printf ("%s alice: hello from alice ✓", a_id);
  CHAT_WAIT (lb, lines_have (lb->signals, from_a)
      && lines_have (lb->messages, from_a), 10);

  pub = start_publisher (server, "chat", "carol", FALSE);
  WAIT_UNTIL (pub, pub->joined, 10);
  pub_id = element_id (pub);
  fail_unless (send_chat (pub, "now playing: test card"));
  from_pub = g_strdup_printf ("%s carol: now playing: test card", pub_id);
  CHAT_WAIT (la, lines_have (la->signals, from_pub)
      && lines_have (la->messages, from_pub), 10);
  CHAT_WAIT (lb, lines_have (lb->signals, from_pub), 10);

  /* nobody hears their own message */
  g_mutex_lock (&la->lock);
  fail_if (lines_have (la->signals, from_a));
  g_mutex_unlock (&la->lock);

  chat_log_free (la, a);
  chat_log_free (lb, b);
  watch_free (pub);
  watch_free (a);
  watch_free (b);
  server_stop (server);
}

GST_END_TEST;

/* Another client (libnoom's signalling client, as the tools use it) and
 * an element talk both ways. */
GST_START_TEST (test_chat_with_client)
{
  Server *server = server_start (NULL);
  Watch *a = start_receiver (server, "talk", "alice", TRUE);
  ChatLog *la = chat_log_new (a);
  ChatPeer *c;
  g_autofree gchar *a_id = NULL, *from_a = NULL, *from_c = NULL;

  WAIT_UNTIL (a, a->joined, 10);
  a_id = element_id (a);
  c = chat_peer_start (server, "talk", "dave");

  chat_peer_send (c, "!time");
  from_c = g_strdup_printf ("%s dave: !time", c->id);
  CHAT_WAIT (la, lines_have (la->signals, from_c)
      && lines_have (la->messages, from_c), 10);

  fail_unless (send_chat (a, "it is tea time"));
  from_a = g_strdup_printf ("%s alice: it is tea time", a_id);
  CHAT_WAIT (&c->log, lines_have (c->log.signals, from_a), 10);

  chat_peer_stop (c);
  chat_log_free (la, a);
  watch_free (a);
  server_stop (server);
}

GST_END_TEST;

/* send-chat is refused (FALSE) out of the room, and for text the server
 * would refuse: empty, or over its default limit of 4096 bytes. */
GST_START_TEST (test_chat_not_joined)
{
  Server *server = server_start (NULL);
  GstElement *idle = gst_element_factory_make ("noomsrc", NULL);
  g_autofree gchar *uri = room_uri (server, "early", "erin");
  g_autofree gchar *big = g_strnfill (4097, 'x');
  Watch *a;
  ChatPeer *c;
  gboolean ok = TRUE;

  /* not started */
  g_object_set (idle, "uri", uri, NULL);
  g_signal_emit_by_name (idle, "send-chat", "too early", &ok);
  fail_if (ok);
  fail_unless_equals_int (gst_element_set_state (idle, GST_STATE_READY),
      GST_STATE_CHANGE_SUCCESS);
  ok = TRUE;
  g_signal_emit_by_name (idle, "send-chat", "still too early", &ok);
  fail_if (ok);
  gst_element_set_state (idle, GST_STATE_NULL);
  gst_object_unref (idle);

  c = chat_peer_start (server, "early", "dave");
  a = start_receiver (server, "early", "alice", TRUE);
  WAIT_UNTIL (a, a->joined, 10);
  fail_if (send_chat (a, ""));
  fail_if (send_chat (a, big));
  big[4096] = '\0';
  fail_unless (send_chat (a, big));
  CHAT_WAIT (&c->log, lines_match (c->log.signals, " alice: xxxx"), 10);
  g_mutex_lock (&c->log.lock);
  fail_unless_equals_int (c->log.signals->len, 1);
  g_mutex_unlock (&c->log.lock);

  /* left the room (PAUSED->READY): refused again */
  fail_unless_equals_int (gst_element_set_state (a->pipeline,
          GST_STATE_READY), GST_STATE_CHANGE_SUCCESS);
  fail_if (send_chat (a, "gone"));

  chat_peer_stop (c);
  watch_free (a);
  server_stop (server);
}

GST_END_TEST;

/* A token without the chat grant: the server refuses the message
 * (docs/protocol.md §1); the element warns, naming it, and goes on. */
GST_START_TEST (test_chat_forbidden)
{
  g_autofree gchar *dir = g_dir_make_tmp ("noom-XXXXXX", NULL);
  g_autofree gchar *secret = g_build_filename (dir, "secret", NULL);
  g_autofree gchar *arg = NULL;
  g_autofree gchar *mute = NULL;
  g_autofree gchar *can = NULL;
  g_autofree gchar *code = g_strdup_printf ("%s %d ",
      g_quark_to_string (GST_RESOURCE_ERROR),
      GST_RESOURCE_ERROR_NOT_AUTHORIZED);
  const gchar *argv[] = { g_getenv ("NOOM_SERVER"), "token", "--secret",
    secret, "--room", "quiet", "--identity", "bob", "--can", "subscribe",
    NULL
  };
  gint status = 0;
  Server *server;
  Watch *w, *other;
  ChatLog *log, *other_log;

  fail_unless (g_file_set_contents (secret, "0123456789abcdef0123456789", -1,
          NULL));
  arg = g_strconcat ("--token-secret=", secret, NULL);
  server = server_start (arg);
  fail_unless (g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT,
          NULL, NULL, &mute, NULL, &status, NULL));
  fail_unless (g_spawn_check_wait_status (status, NULL));
  g_strstrip (mute);
  can = mint_token (secret, "quiet", "carol");

  other = start_receiver_with_token (server, "quiet", can);
  other_log = chat_log_new (other);
  WAIT_UNTIL (other, other->joined, 10);
  w = start_receiver_with_token (server, "quiet", mute);
  log = chat_log_new (w);
  WAIT_UNTIL (w, w->joined, 10);

  /* on its way: the refusal comes from the server */
  fail_unless (send_chat (w, "may I speak?"));
  CHAT_WAIT (log, lines_match (log->warnings, "Chat is forbidden"), 10);
  g_mutex_lock (&log->lock);
  fail_unless (lines_match (log->warnings, code), "not NOT_AUTHORIZED: %s",
      (gchar *) log->warnings->pdata[0]);
  g_mutex_unlock (&log->lock);

  /* the pipeline goes on: still in the room, and hears the others */
  fail_unless (send_chat (other, "you may listen"));
  CHAT_WAIT (log, lines_match (log->signals, ": you may listen"), 10);
  g_mutex_lock (&w->lock);
  fail_unless (w->error == NULL);
  g_mutex_unlock (&w->lock);
  fail_unless_equals_int (GST_STATE (w->pipeline), GST_STATE_PLAYING);
  g_mutex_lock (&other_log->lock);
  fail_if (lines_match (other_log->signals, "may I speak?"));
  g_mutex_unlock (&other_log->lock);

  chat_log_free (log, w);
  chat_log_free (other_log, other);
  watch_free (w);
  watch_free (other);
  server_stop (server);
  g_unlink (secret);
  g_rmdir (dir);
}

GST_END_TEST;

/* ------------------------------------------------------------------------ */
/* media-state: noomsink's mute-audio and mute-video, noomsrc's pads'
 * audio-muted and video-muted and its noom-participant-media message */

/* What a receiver saw of the room's media states, and how loud its audio
 * is: kept next to its Watch, whose lock and cond it uses. */
typedef struct
{
  Watch *w;
  guint messages;               /* noom-participant-media */
  gchar *last;                  /* "ID audio=A video=V screen=S" */
  guint loud, quiet;            /* audio buffers above / below -40 dBFS */
} MediaLog;

static GstBusSyncReply
media_bus_sync (GstBus * bus, GstMessage * message, gpointer data)
{
  MediaLog *log = data;
  const GstStructure *s = gst_message_get_structure (message);

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT
      && gst_structure_has_name (s, "noom-participant-media")) {
    gboolean audio = TRUE, video = TRUE, screen = TRUE;

    fail_unless (gst_structure_get_boolean (s, "audio", &audio));
    fail_unless (gst_structure_get_boolean (s, "video", &video));
    fail_unless (gst_structure_get_boolean (s, "screen", &screen));
    fail_unless (gst_structure_get_string (s, "nickname") != NULL);
    g_mutex_lock (&log->w->lock);
    log->messages++;
    g_free (log->last);
    log->last = g_strdup_printf ("%s audio=%d video=%d screen=%d",
        gst_structure_get_string (s, "id"), audio, video, screen);
    g_cond_broadcast (&log->w->cond);
    g_mutex_unlock (&log->w->lock);
  }
  return bus_sync (bus, message, log->w);
}

/* Raw audio from noomsrc's audio pad (decoded Opus: S16 or F32). */
static GstPadProbeReturn
media_level_probe (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  MediaLog *log = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const gchar *format;
  GstMapInfo map;
  gdouble peak = 0;
  gsize i;

  format = caps ? gst_structure_get_string (gst_caps_get_structure (caps, 0),
      "format") : NULL;
  if (!format || !gst_buffer_map (buf, &map, GST_MAP_READ)) {
    gst_clear_caps (&caps);
    return GST_PAD_PROBE_OK;
  }
  if (!g_strcmp0 (format, "S16LE"))
    for (i = 0; i + 2 <= map.size; i += 2)
      peak = MAX (peak, ABS (((gint16 *) map.data)[i / 2]) / 32768.0);
  else if (!g_strcmp0 (format, "F32LE"))
    for (i = 0; i + 4 <= map.size; i += 4)
      peak = MAX (peak, ABS (((gfloat *) map.data)[i / 4]));
  gst_caps_unref (caps);
  gst_buffer_unmap (buf, &map);
  g_mutex_lock (&log->w->lock);
  if (peak > 0.01)
    log->loud++;
  else
    log->quiet++;
  g_cond_broadcast (&log->w->cond);
  g_mutex_unlock (&log->w->lock);
  return GST_PAD_PROBE_OK;
}

static MediaLog *
media_log_new (Watch * w)
{
  MediaLog *log = g_new0 (MediaLog, 1);

  log->w = w;
  gst_bus_set_sync_handler (GST_ELEMENT_BUS (w->pipeline), media_bus_sync,
      log, NULL);
  return log;
}

static void
media_log_free (MediaLog * log)
{
  gst_bus_set_sync_handler (GST_ELEMENT_BUS (log->w->pipeline), bus_sync,
      log->w, NULL);
  g_free (log->last);
  g_free (log);
}

/* How many of @w's noomsrc pads there are, and how many have @property
 * TRUE. */
static guint
pads_with (Watch * w, const gchar * property, guint * n_pads)
{
  GstIterator *it = gst_element_iterate_src_pads (w->noom);
  GValue v = G_VALUE_INIT;
  guint n = 0, on = 0;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    gboolean value = FALSE;

    g_object_get (g_value_get_object (&v), property, &value, NULL);
    n++;
    on += value ? 1 : 0;
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
  if (n_pads)
    *n_pads = n;
  return on;
}

static void
on_media_notify (GObject * pad, GParamSpec * pspec, guint * count)
{
  g_atomic_int_inc (count);
}

/* The level probe on @w's audio pad and notify counters on every pad. */
static void
media_watch_pads (Watch * w, MediaLog * log, guint * notified)
{
  GstIterator *it = gst_element_iterate_src_pads (w->noom);
  GValue v = G_VALUE_INIT;

  while (gst_iterator_next (it, &v) == GST_ITERATOR_OK) {
    GstPad *pad = g_value_get_object (&v);

    g_signal_connect (pad, "notify::audio-muted",
        G_CALLBACK (on_media_notify), notified);
    g_signal_connect (pad, "notify::video-muted",
        G_CALLBACK (on_media_notify), notified);
    if (g_str_has_prefix (GST_PAD_NAME (pad), "audio"))
      gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, media_level_probe,
          log, NULL);
    g_value_reset (&v);
  }
  g_value_unset (&v);
  gst_iterator_free (it);
}

/* A publisher mutes its microphone, then its camera: the receiver's pads
 * say so (with notify), the element posts noom-participant-media with the
 * publisher's id, the audio turns to silence and the frames stop while
 * the audio still flows; a newcomer sees the camera off from its join;
 * unmuted, both come back.  @server is a mesh or an SFU server. */
static void
check_media_state (Server * server, const gchar * room)
{
  Watch *pub = start_publisher (server, room, "alice", TRUE);
  Watch *b = start_receiver (server, room, "bob", TRUE);
  Watch *c;
  MediaLog *log = media_log_new (b);
  g_autofree gchar *pub_id = NULL, *want = NULL;
  guint notified = 0, n = 0, mark, frames;

  WAIT_UNTIL (b, b->video_frames >= 5 && b->audio_frames >= 5, 30);
  WAIT_UNTIL (pub, pub->joined, 10);
  pub_id = element_id (pub);
  media_watch_pads (b, log, &notified);
  fail_unless_equals_int (pads_with (b, "audio-muted", &n), 0);
  fail_unless_equals_int (n, 2);
  fail_unless_equals_int (pads_with (b, "video-muted", NULL), 0);
  WAIT_UNTIL (b, log->loud >= 5, 10);

  /* the microphone */
  g_object_set (pub->noom, "mute-audio", TRUE, NULL);
  want = g_strdup_printf ("%s audio=0 video=1 screen=0", pub_id);
  WAIT_UNTIL (b, !g_strcmp0 (log->last, want), 10);
  fail_unless_equals_string (log->last, want);
  fail_unless_equals_int (pads_with (b, "audio-muted", NULL), 2);
  fail_unless_equals_int (pads_with (b, "video-muted", NULL), 0);
  fail_unless_equals_int (g_atomic_int_get (&notified), 2);
  g_mutex_lock (&b->lock);
  log->quiet = 0;
  g_mutex_unlock (&b->lock);
  /* what is in flight drains, then silence */
  WAIT_UNTIL (b, log->quiet >= 25, 10);
  fail_unless (log->quiet >= 25, "no silence after mute-audio");
  fail_if (b->error);

  g_object_set (pub->noom, "mute-audio", FALSE, NULL);
  g_free (want);
  want = g_strdup_printf ("%s audio=1 video=1 screen=0", pub_id);
  WAIT_UNTIL (b, !g_strcmp0 (log->last, want), 10);
  fail_unless_equals_int (pads_with (b, "audio-muted", NULL), 0);
  g_mutex_lock (&b->lock);
  log->loud = 0;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, log->loud >= 5, 10);
  fail_unless (log->loud >= 5, "no sound after unmute");

  /* the camera: no frames while the audio goes on */
  g_object_set (pub->noom, "mute-video", TRUE, NULL);
  g_free (want);
  want = g_strdup_printf ("%s audio=1 video=0 screen=0", pub_id);
  WAIT_UNTIL (b, !g_strcmp0 (log->last, want), 10);
  fail_unless_equals_string (log->last, want);
  fail_unless_equals_int (pads_with (b, "video-muted", NULL), 2);
  g_mutex_lock (&b->lock);
  mark = b->audio_frames;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->audio_frames >= mark + 25, 10);
  g_mutex_lock (&b->lock);
  frames = b->video_frames;
  mark = b->audio_frames;
  g_mutex_unlock (&b->lock);
  WAIT_UNTIL (b, b->audio_frames >= mark + 50, 10);
  fail_unless (b->audio_frames >= mark + 50);
  fail_unless_equals_int (b->video_frames, frames);

  /* a newcomer knows from its join */
  c = start_receiver (server, room, "carol", TRUE);
  WAIT_UNTIL (c, c->audio_frames >= 5, 30);
  fail_unless_equals_int (pads_with (c, "video-muted", &n), n);
  fail_unless (n >= 1);
  fail_unless_equals_int (pads_with (c, "audio-muted", NULL), 0);

  g_object_set (pub->noom, "mute-video", FALSE, NULL);
  WAIT_UNTIL (b, b->video_frames >= frames + 5, 20);
  fail_unless (b->video_frames >= frames + 5, "no frames after unmute");
  fail_unless_equals_int (pads_with (b, "video-muted", NULL), 0);
  WAIT_UNTIL (c, pads_with (c, "video-muted", NULL) == 0, 10);
  fail_if (b->error);
  fail_if (pub->error);

  watch_free (c);
  /* the level probe runs on b's streaming threads until they stop */
  fail_unless_equals_int (gst_element_set_state (b->pipeline,
          GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS);
  media_log_free (log);
  watch_free (b);
  watch_free (pub);
}

GST_START_TEST (test_media_state)
{
  Server *server = server_start (NULL);

  check_media_state (server, "mute");
  server_stop (server);
}

GST_END_TEST;

GST_START_TEST (test_sfu_media_state)
{
  SfuServer *sfu = sfu_server_start ();

  check_media_state (sfu->server, "sfu-mute");
  sfu_server_stop (sfu);
}

GST_END_TEST;

static Suite *
noom_suite (void)
{
  Suite *s = suite_create ("noom");
  TCase *tc;

  g_log_set_handler ("noom", G_LOG_LEVEL_WARNING, count_warning, NULL);

  tc = tcase_create ("properties");
  tcase_add_test (tc, test_uri_roundtrip);
  tcase_add_test (tc, test_uri_invalid);
  tcase_add_test (tc, test_make_from_uri);
  tcase_add_test (tc, test_plugin_origin);
  tcase_add_test (tc, test_kind_and_ice_servers_invalid);
  suite_add_tcase (s, tc);

  tc = tcase_create ("errors");
  tcase_set_timeout (tc, 30 * noom_test_time_scale ());
  tcase_add_test (tc, test_error_no_room);
  tcase_add_test (tc, test_error_bad_uri);
  tcase_add_test (tc, test_error_not_noom);
  tcase_add_test (tc, test_joined_grammar);
  tcase_add_test (tc, test_error_unreachable);
  tcase_add_test (tc, test_error_missing_webrtcbin);
  tcase_add_test (tc, test_error_room_full);
  tcase_add_test (tc, test_error_caps);
  tcase_add_test (tc, test_tokens);
  tcase_add_test (tc, test_tls);
  tcase_add_test (tc, test_property_locked_when_running);
  tcase_add_test (tc, test_ice_transport_policy);
  suite_add_tcase (s, tc);

  tc = tcase_create ("media");
  tcase_set_timeout (tc, 120 * noom_test_time_scale ());
  tcase_add_test (tc, test_publish_two_receivers);
  tcase_add_test (tc, test_receiver_first);
  tcase_add_test (tc, test_peers_leave_payloader_alone);
  tcase_add_test (tc, test_reconnect);
  tcase_add_test (tc, test_reconnect_same_id);
  tcase_add_test (tc, test_reconnect_participant_gone);
  tcase_add_test (tc, test_reconnect_parked_eos);
  tcase_add_test (tc, test_reconnect_window);
  tcase_add_test (tc, test_two_publishers);
  tcase_add_test (tc, test_encoded_to_muxer);
  tcase_add_test (tc, test_playbin);
  tcase_add_test (tc, test_participant_filter);
  tcase_add_test (tc, test_publisher_eos_leaves);
  tcase_add_test (tc, test_drop_after_leave);
  tcase_add_test (tc, test_join_ack_after_leave);
  tcase_add_test (tc, test_events_before_join_ack);
  tcase_add_test (tc, test_broken_participant);
  tcase_add_test (tc, test_ice_restart);
  tcase_add_test (tc, test_connection_stuck_connecting);
  tcase_add_test (tc, test_max_peers);
  tcase_add_test (tc, test_participant_timeout);
  tcase_add_test (tc, test_churn);
  tcase_add_test (tc, test_rename);
  tcase_add_test (tc, test_leave_while_muxer_waits);
  tcase_add_test (tc, test_reconnect_while_muxer_waits);
  tcase_add_test (tc, test_leave_while_pausing);
  tcase_add_test (tc, test_recorder_kind);
  tcase_add_test (tc, test_stream_ids);
  tcase_add_test (tc, test_room_ice_servers);
  tcase_add_loop_test (tc, test_codecs, 0, G_N_ELEMENTS (codecs));
  suite_add_tcase (s, tc);

  tc = tcase_create ("sfu");
  tcase_add_checked_fixture (tc, sfu_setup, NULL);
  tcase_set_timeout (tc, 120 * noom_test_time_scale ());
  tcase_add_test (tc, test_sfu_three_receivers);
  tcase_add_test (tc, test_sfu_publisher_comes_back);
  tcase_add_test (tc, test_sfu_late_joiner);
  tcase_add_test (tc, test_sfu_and_mesh);
  tcase_add_test (tc, test_sfu_relay_restart);
  tcase_add_test (tc, test_sfu_relay_connection_fails);
  tcase_add_test (tc, test_sfu_participant_filter);
  tcase_add_test (tc, test_sfu_unsupported_codec);
  suite_add_tcase (s, tc);

  tc = tcase_create ("chat");
  tcase_set_timeout (tc, 60 * noom_test_time_scale ());
  tcase_add_test (tc, test_chat_between_elements);
  tcase_add_test (tc, test_chat_with_client);
  tcase_add_test (tc, test_chat_not_joined);
  tcase_add_test (tc, test_chat_forbidden);
  suite_add_tcase (s, tc);

  tc = tcase_create ("media-state");
  tcase_add_checked_fixture (tc, sfu_setup, NULL);
  tcase_set_timeout (tc, 120 * noom_test_time_scale ());
  tcase_add_test (tc, test_media_state);
  tcase_add_test (tc, test_sfu_media_state);
  suite_add_tcase (s, tc);

  return s;
}

GST_CHECK_MAIN (noom);
