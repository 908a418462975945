/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-engine-polling: the Engine.IO long-polling transport (see
 * noom-engine-private.h): the handshake, the held GET that carries what
 * the server sends, the POST that carries what the client sends.  A burst
 * of sends is answered in one response, from an idle.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#define G_LOG_DOMAIN "noom-engine"

#include <string.h>

#include "noom-engine-private.h"

typedef struct
{
  SoupServerMessage *msg;
  gboolean gone;
} LateReply;

static void
late_reply_gone_cb (SoupServerMessage * msg, LateReply * late)
{
  late->gone = TRUE;
}

static gboolean
late_reply_cb (gpointer user_data)
{
  LateReply *late = user_data;

  g_signal_handlers_disconnect_by_data (late->msg, late);
  if (!late->gone)
    soup_server_message_unpause (late->msg);
  g_object_unref (late->msg);
  g_free (late);
  return G_SOURCE_REMOVE;
}

/* A polling request for a session that has moved to WebSocket gets its 400
 * a moment later: what the server just sent on the WebSocket (e.g. 3probe)
 * then reaches the client first, as it would from the reference server. */
void
noom_engine_polling_bad_request_later (NoomEngine * engine,
    SoupServerMessage * msg, gint code)
{
  LateReply *late = g_new0 (LateReply, 1);
  GSource *source = g_timeout_source_new (20);

  noom_engine_bad_request (msg, code);
  late->msg = g_object_ref (msg);
  soup_server_message_pause (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (late_reply_gone_cb), late);
  g_signal_connect (msg, "disconnected", G_CALLBACK (late_reply_gone_cb), late);
  g_source_set_callback (source, late_reply_cb, late, NULL);
  g_source_attach (source, engine->context);
  g_source_unref (source);
}

static void
poll_finished_cb (SoupServerMessage * msg, NoomEngineSocket * s)
{
  /* The peer went away (or libsoup finished the message some other way)
   * while we held the GET. */
  if (s->poll == msg) {
    g_signal_handlers_disconnect_by_data (msg, s);
    s->poll = NULL;
    g_object_unref (msg);
    noom_engine_socket_unref (s);
  }
}

/* Writes the queued frames (plus @extra, e.g. "1" or "6") as the response
 * to a polling GET. */
static void
poll_write (NoomEngineSocket * s, SoupServerMessage * msg, const gchar * extra)
{
  SoupMessageHeaders *headers;
  GBytes *payload;
  gsize len;
  gconstpointer data;

  if (extra) {
    if (s->queue == NULL)
      s->queue = g_ptr_array_new_with_free_func ((GDestroyNotify)
          g_bytes_unref);
    g_ptr_array_add (s->queue, g_bytes_new_static (extra, strlen (extra)));
  }

  headers = soup_server_message_get_response_headers (msg);
  noom_engine_mirror_connection_close (msg);
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  if (s->queue && s->queue->len > 0) {
    payload = noom_eio_payload_encode (s->queue, NULL);
    g_ptr_array_set_size (s->queue, 0);
  } else {
    payload = g_bytes_new_static ("6", 1);
  }
  s->backlog = 0;
  data = g_bytes_get_data (payload, &len);
  soup_server_message_set_response (msg, "text/plain; charset=UTF-8",
      SOUP_MEMORY_COPY, data, len);
  g_bytes_unref (payload);
}

/* Answers the held GET, if any, and forgets it. */
void
noom_engine_polling_respond (NoomEngineSocket * s, const gchar * extra)
{
  SoupServerMessage *msg = s->poll;

  if (msg == NULL)
    return;

  poll_write (s, msg, extra);
  g_signal_handlers_disconnect_by_data (msg, s);
  s->poll = NULL;
  soup_server_message_unpause (msg);
  g_object_unref (msg);
  noom_engine_socket_unref (s);
}

static gboolean
flush_idle_cb (gpointer user_data)
{
  NoomEngine *engine = user_data;
  g_autoptr (GPtrArray) flush = noom_engine_batch_take (&engine->flush);
  guint i;

  for (i = 0; flush && i < flush->len; i++) {
    NoomEngineSocket *s = flush->pdata[i];

    s->in_flush = FALSE;
    if (s->state == STATE_OPEN && s->transport == TRANSPORT_POLLING)
      noom_engine_polling_respond (s, NULL);
    noom_engine_socket_unref (s);
  }
  return G_SOURCE_REMOVE;
}

/* Answer the held GET soon, after the current burst of sends: one response
 * then carries the whole burst. */
static void
schedule_flush (NoomEngineSocket * s)
{
  NoomEngine *engine = s->engine;

  if (s->in_flush || s->poll == NULL)
    return;
  s->in_flush = TRUE;
  noom_engine_batch_add (engine, &engine->flush, noom_engine_socket_ref (s),
      0, flush_idle_cb);
}

void
noom_engine_polling_queue (NoomEngineSocket * s, GBytes * frame)
{
  if (s->queue == NULL)
    s->queue = g_ptr_array_new_with_free_func ((GDestroyNotify)
        g_bytes_unref);
  if (s->doomed)
    return;
  s->backlog += g_bytes_get_size (frame);
  if (s->backlog > s->engine->config.max_buffered) {
    noom_engine_socket_doom (s);
    return;
  }
  g_ptr_array_add (s->queue, g_bytes_ref (frame));
  schedule_flush (s);
}

static void
hold_get (NoomEngineSocket * s, SoupServerMessage * msg)
{
  s->poll = g_object_ref (msg);
  noom_engine_socket_ref (s);
  /* A status now, or libsoup's WebSocket handler, which runs after ours
   * on this path, would answer the held GET with 400. */
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_pause (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (poll_finished_cb), s);
  g_signal_connect (msg, "disconnected", G_CALLBACK (poll_finished_cb), s);
}

void
noom_engine_polling_handshake (NoomEngine * engine, SoupServerMessage * msg)
{
  NoomEngineSocket *s;
  g_autoptr (GBytes) open = NULL;

  s = noom_engine_socket_new (engine, TRANSPORT_POLLING,
      soup_server_message_get_remote_host (msg));
  open = noom_engine_open_frame (engine, s, TRUE);
  s->queue = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (s->queue, g_bytes_ref (open));

  noom_engine_socket_ref (s);
  if (engine->callbacks.open)
    engine->callbacks.open (s, engine->user_data);
  if (s->state == STATE_OPEN || s->state == STATE_LINGER) {
    poll_write (s, msg, s->state == STATE_LINGER ? "1" : NULL);
    if (s->state == STATE_LINGER) {
      s->state = STATE_CLOSED;
      g_hash_table_remove (engine->sockets, s->sid);
    }
  } else {
    noom_engine_refuse (engine, msg, 3, "polling",
        "session closed during its handshake");
  }
  noom_engine_socket_unref (s);
}

static gboolean
defer_cb (gpointer user_data)
{
  NoomEngineSocket *s = user_data;
  SoupServerMessage *msg = s->poll;

  g_clear_pointer (&s->defer, g_source_unref);
  if (msg == NULL)
    return G_SOURCE_REMOVE;
  if (s->transport == TRANSPORT_WEBSOCKET) {
    /* The upgrade completed meanwhile: polling is over for this sid. */
    g_signal_handlers_disconnect_by_data (msg, s);
    s->poll = NULL;
    noom_engine_bad_request (msg, 3);
    soup_server_message_unpause (msg);
    g_object_unref (msg);
    noom_engine_socket_unref (s);
  } else {
    noom_engine_polling_respond (s, "6");
  }
  return G_SOURCE_REMOVE;
}

/* Answer the held GET in a moment (see noom_engine_polling_get). */
void
noom_engine_polling_defer (NoomEngineSocket * s)
{
  if (s->defer || s->poll == NULL)
    return;
  s->defer = g_timeout_source_new (50);
  g_source_set_callback (s->defer, defer_cb, s, NULL);
  g_source_attach (s->defer, s->engine->context);
}

void
noom_engine_polling_get (NoomEngineSocket * s, SoupServerMessage * msg)
{
  if (s->poll) {
    /* Two concurrent GETs: the reference answers the second with an error
     * and closes the session, the first one receiving the close packet. */
    noom_engine_refuse (s->engine, msg, 3, "polling", "second concurrent GET");
    noom_engine_socket_close_internal (s, "transport error", FALSE);
    return;
  }
  if (s->state == STATE_LINGER) {
    s->state = STATE_CLOSED;
    poll_write (s, msg, s->linger_noop ? "6" : "1");
    g_hash_table_remove (s->engine->sockets, s->sid);
  } else if (s->probed) {
    /* Upgrading: the client should pause polling, and answering "6" lets
     * it.  The "5" that ends the upgrade may already be on its way on the
     * WebSocket, though (its frames and this request race): wait a moment,
     * then answer "6", or 400 if the upgrade completed. */
    hold_get (s, msg);
    noom_engine_polling_defer (s);
  } else if (s->queue && s->queue->len > 0) {
    poll_write (s, msg, NULL);
  } else {
    hold_get (s, msg);
  }
}

void
noom_engine_polling_post (NoomEngineSocket * s, SoupServerMessage * msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GArray) packets = NULL;
  g_autoptr (GError) error = NULL;
  const gchar *ctype;
  gsize len, i;
  const gchar *data;

  ctype = soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);
  if (ctype && g_ascii_strcasecmp (ctype, "application/octet-stream") == 0) {
    noom_engine_refuse (s->engine, msg, 3, "polling", "binary POST body");
    noom_engine_socket_close_internal (s, "parse error", FALSE);
    return;
  }

  bytes = soup_message_body_flatten (body);
  data = g_bytes_get_data (bytes, &len);
  if (len > s->engine->config.max_payload) {
    noom_engine_set_json_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, 3,
        "Payload too large");
    noom_engine_log_refusal (s->engine, msg, "polling", "body over maxPayload");
    noom_engine_socket_close_internal (s, "transport error", FALSE);
    return;
  }
  packets = noom_eio_payload_decode (data, len, &error);
  if (packets == NULL) {
    g_debug ("bad payload from %s: %s", s->sid, error->message);
    noom_engine_refuse (s->engine, msg, 3, "polling", "malformed payload");
    noom_engine_socket_close_internal (s, "parse error", FALSE);
    return;
  }

  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), "Cache-Control", "no-store");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  noom_engine_mirror_connection_close (msg);
  soup_server_message_set_response (msg, "text/html", SOUP_MEMORY_STATIC,
      "ok", 2);

  noom_engine_socket_ref (s);
  for (i = 0; i < packets->len; i++) {
    const NoomEioPacket *p = &g_array_index (packets, NoomEioPacket, i);

    if (!p->binary && p->type == NOOM_EIO_CLOSE) {
      /* The client ends the session: its pending GET gets a noop, and so
       * does a GET racing with this POST. */
      gboolean had_poll = s->poll != NULL;

      noom_engine_polling_respond (s, "6");
      noom_engine_socket_close_internal (s, "transport close", !had_poll);
      if (s->state == STATE_LINGER) {
        s->linger_noop = TRUE;
        s->deadline = now_ms () + s->engine->config.ping_timeout_ms;
      }
      break;
    }
    if (!noom_engine_handle_packet (s, p))
      break;
  }
  noom_engine_socket_unref (s);
}

void
noom_engine_polling_flush (NoomEngine * engine)
{
  flush_idle_cb (engine);
}
