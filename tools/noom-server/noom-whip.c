/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-whip: WHIP and WHEP (see noom-whip.h).
 *
 * A POST makes a session and an HTTP participant of noom-room-server, whose
 * join carries the client's offer to the relay.  The POST is held
 * (soup_server_message_pause) until the relay's answer or error comes back
 * through the room server's HTTP callbacks, or for at most
 * HOLD_TIMEOUT_S.  Only an answered session is in the table of session
 * ids: its URL (/wish/ID, 128 random bits) is the capability for PATCH
 * and DELETE.  A PATCH that restarts ICE is held the same way until the
 * relay's "restarted".
 *
 * Every response, errors included, carries the CORS headers; every error
 * has a one-line text/plain body and a log line.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "noom-listener.h"
#include "noom-sdp.h"
#include "noom-sdpfrag.h"
#include "noom-token.h"
#include "noom-whip.h"

/* How long the relay has to answer a POST or a restarting PATCH. */
#define HOLD_TIMEOUT_S 10
/* Retry-After of a full room, and of a relay that is restarting. */
#define RETRY_ROOM_FULL_S "5"
#define RETRY_RELAY_S "2"

#define SESSION_PREFIX "/wish/"
#define SDPFRAG_TYPE "application/trickle-ice-sdpfrag"

struct _NoomWhip
{
  SoupServer *server;
  NoomRoomServer *rooms;
  const NoomIceConfig *ice;
  GBytes *token_secret;
  gchar **origins;
  gboolean sfu;
  GHashTable *sessions;         /* id -> Session*, answered ones */
  GQueue all;                   /* Session*, every one */
};

typedef struct
{
  NoomWhip *whip;
  gchar id[33];                 /* 32 hex characters */
  const gchar *via;             /* "whip" or "whep" */
  gchar *room;
  NoomRoomServerHttp *participant;      /* NULL once it left */
  gchar *participant_id;        /* for the log, after it left too */
  NoomSdpInfo offer;            /* its mids */
  gchar *ufrag;                 /* the client's ICE credentials */
  gchar *pwd;
  gchar *media_line;            /* the answer's first m-line and mid, for */
  gchar *mid;                   /* the restart's fragment */
  gchar *etag;                  /* "\"...\"" */
  gchar *restart_ufrag;         /* of the held PATCH */
  gchar *restart_pwd;
  SoupServerMessage *post;      /* held until the answer */
  SoupServerMessage *patch;     /* held until the restart's answer */
  guint timeout;
  GSource *watch;               /* the held request's socket */
  gint64 started_us;
  gboolean in_table;
  GList link;                   /* in whip->all */
} Session;

/* ---------------------------------------------------------------- replies */

/* @s as one line of at most @max characters: control characters become
 * '?', for a body and a log line. */
static gchar *
one_line (const gchar * s, glong max)
{
  gchar *out;
  gchar *p;

  if (s == NULL)
    return g_strdup ("");
  if (!g_utf8_validate (s, -1, NULL))
    return g_strdup ("(not UTF-8)");
  out = g_utf8_substring (s, 0, MIN (g_utf8_strlen (s, -1), max));
  for (p = out; *p; p++)
    if ((guchar) * p < 0x20 || *p == 0x7f)
      *p = '?';
  return out;
}

static void
set_text (SoupServerMessage * msg, guint status, const gchar * text)
{
  g_autofree gchar *body = g_strconcat (text, "\n", NULL);

  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "text/plain; charset=utf-8",
      SOUP_MEMORY_COPY, body, strlen (body));
}

/* The one way a WHIP/WHEP request fails: the status, a one-line body
 * saying why, one log line. */
static void
fail (SoupServerMessage * msg, const gchar * via, const gchar * room,
    const gchar * id, guint status, const gchar * message)
{
  g_autofree gchar *line = one_line (message, 300);
  g_autofree gchar *log_room = one_line (room, 64);

  g_message ("error via=%s%s%s%s%s%s status=%u: %s", via,
      room ? " room=\"" : "", room ? log_room : "", room ? "\"" : "",
      id ? " id=" : "", id ? id : "", status, line);
  set_text (msg, status, line);
}

static void
set_header (SoupServerMessage * msg, const gchar * name, const gchar * value)
{
  soup_message_headers_replace (soup_server_message_get_response_headers
      (msg), name, value);
}

/* A quoted-string of RFC 9110 §5.6.4. */
static void
append_quoted (GString * s, const gchar * text)
{
  const gchar *p;

  g_string_append_c (s, '"');
  for (p = text; *p; p++) {
    if (*p == '"' || *p == '\\')
      g_string_append_c (s, '\\');
    if ((guchar) * p >= 0x20 && *p != 0x7f)
      g_string_append_c (s, *p);
  }
  g_string_append_c (s, '"');
}

/* RFC 9725 §4.6: one Link header per ICE server URL, with the TURN REST
 * credentials of @user. */
static void
add_ice_links (NoomWhip * self, SoupServerMessage * msg, const gchar * user)
{
  SoupMessageHeaders *h = soup_server_message_get_response_headers (msg);
  g_autoptr (JsonArray) servers = noom_ice_config_build (self->ice, user,
      g_get_real_time () / G_USEC_PER_SEC);
  guint i, j;

  for (i = 0; i < json_array_get_length (servers); i++) {
    JsonObject *o = json_array_get_object_element (servers, i);
    JsonArray *urls = json_object_get_array_member (o, "urls");
    const gchar *username =
        json_object_get_string_member_with_default (o, "username", NULL);
    const gchar *credential =
        json_object_get_string_member_with_default (o, "credential", NULL);

    for (j = 0; urls && j < json_array_get_length (urls); j++) {
      GString *link = g_string_new (NULL);

      g_string_append_printf (link, "<%s>; rel=\"ice-server\"",
          json_array_get_string_element (urls, j));
      if (username && credential) {
        g_string_append (link, "; username=");
        append_quoted (link, username);
        g_string_append (link, "; credential=");
        append_quoted (link, credential);
        g_string_append (link, "; credential-type=\"password\"");
      }
      soup_message_headers_append (h, "Link", link->str);
      g_string_free (link, TRUE);
    }
  }
}

/* CORS on every response (--allowed-origin: the request's Origin when it
 * is allowed; otherwise any origin).  FALSE (and 403 set) for a browser
 * request from an origin that is not allowed, as the Socket.IO endpoint
 * refuses it. */
static gboolean
cors (NoomWhip * self, SoupServerMessage * msg, const gchar * via)
{
  const gchar *origin =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Origin");

  set_header (msg, "Access-Control-Expose-Headers",
      "Location, ETag, Link, Retry-After, Accept-Patch");
  if (self->origins == NULL) {
    set_header (msg, "Access-Control-Allow-Origin", "*");
    return TRUE;
  }
  set_header (msg, "Vary", "Origin");
  if (origin == NULL)
    return TRUE;
  if (g_strv_contains ((const gchar * const *) self->origins, origin)) {
    set_header (msg, "Access-Control-Allow-Origin", origin);
    return TRUE;
  }
  fail (msg, via, NULL, NULL, SOUP_STATUS_FORBIDDEN, "origin not allowed");
  return FALSE;
}

static void
preflight (SoupServerMessage * msg, const gchar * methods)
{
  set_header (msg, "Access-Control-Allow-Methods", methods);
  set_header (msg, "Access-Control-Allow-Headers",
      "Content-Type, Authorization, If-Match");
  set_header (msg, "Access-Control-Max-Age", "86400");
  set_header (msg, "Allow", methods);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

static void
method_not_allowed (SoupServerMessage * msg, const gchar * via,
    const gchar * methods)
{
  g_autofree gchar *message = g_strdup_printf ("method not allowed here "
      "(%s)", methods);

  set_header (msg, "Allow", methods);
  fail (msg, via, NULL, NULL, SOUP_STATUS_METHOD_NOT_ALLOWED, message);
}

/* The media type of the request, without parameters, or NULL. */
static gboolean
has_content_type (SoupServerMessage * msg, const gchar * type)
{
  const gchar *t =
      soup_message_headers_get_content_type
      (soup_server_message_get_request_headers (msg), NULL);

  return t && g_ascii_strcasecmp (t, type) == 0;
}

static GBytes *
request_body (SoupServerMessage * msg)
{
  return soup_message_body_flatten (soup_server_message_get_request_body (msg));
}

/* With a token secret: the verified token of "Authorization: Bearer", or
 * NULL with 401 set. */
static gboolean
authorize (NoomWhip * self, SoupServerMessage * msg, const gchar * via,
    const gchar * room, NoomToken ** token)
{
  const gchar *auth =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;

  *token = NULL;
  if (self->token_secret == NULL)
    return TRUE;
  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0) {
    set_header (msg, "WWW-Authenticate", "Bearer realm=\"noom\"");
    fail (msg, via, room, NULL, SOUP_STATUS_UNAUTHORIZED,
        "this server needs a token: Authorization: Bearer TOKEN");
    return FALSE;
  }
  text = g_strstrip (g_strdup (auth + 7));
  /* The token is never logged, nor echoed. */
  *token = noom_token_verify (text, self->token_secret,
      g_get_real_time () / G_USEC_PER_SEC, &error);
  if (*token == NULL) {
    set_header (msg, "WWW-Authenticate",
        "Bearer realm=\"noom\", error=\"invalid_token\"");
    fail (msg, via, room, NULL, SOUP_STATUS_UNAUTHORIZED, error->message);
    return FALSE;
  }
  return TRUE;
}

/* The path segments after the handler's prefix.  libsoup has decoded the
 * path already ("%2F" is a separator then: a room whose name has a slash
 * cannot be named in a URL). */
static gchar **
path_segments (const gchar * path, const gchar * prefix)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) raw = NULL;
  guint i;

  path += strlen (prefix);
  if (*path == '/')
    path++;
  raw = g_strsplit (path, "/", -1);
  for (i = 0; raw[i]; i++)
    g_ptr_array_add (out, g_strdup (raw[i]));
  /* "/whip/demo/" is "/whip/demo". */
  if (out->len > 0 && *(gchar *) out->pdata[out->len - 1] == '\0')
    g_ptr_array_remove_index (out, out->len - 1);
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

/* ---------------------------------------------------------------- sessions */

static void
random_hex (gchar * out, gsize n_bytes)
{
  guint8 raw[32];
  gsize i;

  g_assert (n_bytes <= sizeof (raw));
  if (getrandom (raw, n_bytes, 0) != (gssize) n_bytes) {
    for (i = 0; i < n_bytes; i++)
      raw[i] = g_random_int_range (0, 256);
  }
  for (i = 0; i < n_bytes; i++)
    g_snprintf (out + 2 * i, 3, "%02x", raw[i]);
}

static void
new_etag (Session * s)
{
  gchar hex[17];

  random_hex (hex, 8);
  g_free (s->etag);
  s->etag = g_strdup_printf ("\"%s\"", hex);
}

static void held_gone_cb (SoupServerMessage * msg, Session * s);

/* libsoup reads nothing from a paused message's connection, so it does
 * not notice a client that closes it: we watch the socket.  End of stream
 * (or an error) is a client gone; data (a pipelined request, a TLS
 * close_notify) ends the watch, and then only libsoup's own signals
 * tell. */
static gboolean
held_socket_cb (GSocket * socket, GIOCondition condition, gpointer data)
{
  Session *s = data;
  SoupServerMessage *msg = s->post ? s->post : s->patch;
  gchar byte;
  gssize n = recv (g_socket_get_fd (socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

  if (n > 0 || (n < 0 && (errno == EAGAIN || errno == EINTR))) {
    if (n > 0)
      g_clear_pointer (&s->watch, g_source_unref);
    return n > 0 ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
  }
  if (msg)
    held_gone_cb (msg, s);
  return G_SOURCE_REMOVE;
}

static void
hold (Session * s, SoupServerMessage * msg, GSourceFunc timeout_cb)
{
  GSocket *socket = noom_listener_get_message_socket (msg);

  soup_server_message_pause (msg);
  g_object_ref (msg);
  g_signal_connect (msg, "finished", G_CALLBACK (held_gone_cb), s);
  g_signal_connect (msg, "disconnected", G_CALLBACK (held_gone_cb), s);
  s->timeout = g_timeout_add_seconds (HOLD_TIMEOUT_S, timeout_cb, s);
  if (socket) {
    s->watch = g_socket_create_source (socket, G_IO_IN | G_IO_HUP | G_IO_ERR,
        NULL);
    g_source_set_callback (s->watch, (GSourceFunc) held_socket_cb, s, NULL);
    g_source_attach (s->watch, NULL);
  }
}

/* Hands the held @msg (its response set) back to libsoup. */
static void
release (Session * s, SoupServerMessage * msg, gboolean send)
{
  g_signal_handlers_disconnect_by_data (msg, s);
  g_clear_handle_id (&s->timeout, g_source_remove);
  if (s->watch) {
    g_source_destroy (s->watch);
    g_clear_pointer (&s->watch, g_source_unref);
  }
  if (send)
    soup_server_message_unpause (msg);
  g_object_unref (msg);
}

static void
session_free (Session * s)
{
  NoomWhip *self = s->whip;

  if (s->participant)
    noom_room_server_leave_http (self->rooms, s->participant, "session ended");
  if (s->post)
    release (s, g_steal_pointer (&s->post), FALSE);
  if (s->patch)
    release (s, g_steal_pointer (&s->patch), FALSE);
  g_clear_handle_id (&s->timeout, g_source_remove);
  if (s->in_table)
    g_hash_table_remove (self->sessions, s->id);
  g_queue_unlink (&self->all, &s->link);
  noom_sdp_info_clear (&s->offer);
  g_free (s->room);
  g_free (s->participant_id);
  g_free (s->ufrag);
  g_free (s->pwd);
  g_free (s->media_line);
  g_free (s->mid);
  g_free (s->etag);
  g_free (s->restart_ufrag);
  g_free (s->restart_pwd);
  g_free (s);
}

/* The participant leaves (bye to the others, leave to the relay) and the
 * session is forgotten. */
static void
session_end (Session * s, const gchar * reason)
{
  if (s->participant) {
    noom_room_server_leave_http (s->whip->rooms, s->participant, reason);
    s->participant = NULL;
  }
  session_free (s);
}

/* Fail the held @msg of @s with @status and @message. */
static void
fail_held (Session * s, SoupServerMessage * msg, guint status,
    const gchar * message)
{
  fail (msg, s->via, s->room, s->participant_id, status, message);
  release (s, msg, TRUE);
}

static void
held_gone_cb (SoupServerMessage * msg, Session * s)
{
  if (msg == s->post) {
    g_message ("error via=%s room=\"%s\" id=%s: the client went away "
        "before the relay answered", s->via, s->room, s->participant_id);
    release (s, g_steal_pointer (&s->post), FALSE);
    session_end (s, "client went away");
  } else if (msg == s->patch) {
    release (s, g_steal_pointer (&s->patch), FALSE);
  }
}

static gboolean
post_timeout_cb (gpointer data)
{
  Session *s = data;

  s->timeout = 0;
  fail_held (s, g_steal_pointer (&s->post), SOUP_STATUS_GATEWAY_TIMEOUT,
      "the media relay did not answer");
  session_end (s, "the media relay did not answer");
  return G_SOURCE_REMOVE;
}

static gboolean
patch_timeout_cb (gpointer data)
{
  Session *s = data;

  s->timeout = 0;
  g_clear_pointer (&s->restart_ufrag, g_free);
  g_clear_pointer (&s->restart_pwd, g_free);
  fail_held (s, g_steal_pointer (&s->patch), SOUP_STATUS_GATEWAY_TIMEOUT,
      "the media relay did not answer the ICE restart");
  return G_SOURCE_REMOVE;
}

/* ------------------------------------------------- the relay's callbacks */

static void
on_answer (gpointer session, const gchar * sdp, gpointer user_data)
{
  Session *s = session;
  NoomWhip *self = user_data;
  SoupServerMessage *msg = s->post;
  NoomSdpInfo answer;
  g_autofree gchar *location = NULL;

  if (msg == NULL) {
    g_message ("relay: skipped a second answer for %s", s->participant_id);
    return;
  }
  s->post = NULL;
  if (noom_sdp_info_parse (sdp, strlen (sdp), &answer, NULL)) {
    s->media_line = g_strdup (answer.first_media);
    s->mid = g_strdup (answer.mids->pdata[0]);
    noom_sdp_info_clear (&answer);
  } else {
    s->media_line = g_strdup (s->offer.first_media);
    s->mid = g_strdup (s->offer.mids->pdata[0]);
  }
  new_etag (s);
  s->in_table = TRUE;
  g_hash_table_insert (self->sessions, s->id, s);

  location = g_strconcat (SESSION_PREFIX, s->id, NULL);
  set_header (msg, "Location", location);
  set_header (msg, "ETag", s->etag);
  set_header (msg, "Accept-Patch", SDPFRAG_TYPE);
  add_ice_links (self, msg, s->participant_id);
  soup_server_message_set_status (msg, SOUP_STATUS_CREATED, NULL);
  soup_server_message_set_response (msg, "application/sdp", SOUP_MEMORY_COPY,
      sdp, strlen (sdp));
  g_message ("%s answered room=\"%s\" id=%s in %" G_GINT64_FORMAT " ms",
      s->via, s->room, s->participant_id,
      (g_get_monotonic_time () - s->started_us) / 1000);
  release (s, msg, TRUE);
}

static void
on_error (gpointer session, const gchar * code, const gchar * message,
    gpointer user_data)
{
  Session *s = session;
  g_autofree gchar *line = one_line (message, 300);
  g_autofree gchar *log_code = one_line (code, 64);

  if (s->post) {
    guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
    g_autofree gchar *why = NULL;

    if (strcmp (code, "unsupported_codec") == 0)
      status = SOUP_STATUS_NOT_ACCEPTABLE;
    else if (strcmp (code, "bad_offer") == 0)
      status = SOUP_STATUS_BAD_REQUEST;
    else if (strcmp (code, "no_media") == 0)
      status = SOUP_STATUS_CONFLICT;
    fail_held (s, g_steal_pointer (&s->post), status, line);
    why = g_strdup_printf ("the media relay refused it: %s", log_code);
    session_end (s, why);
  } else if (s->patch) {
    g_clear_pointer (&s->restart_ufrag, g_free);
    g_clear_pointer (&s->restart_pwd, g_free);
    fail_held (s, g_steal_pointer (&s->patch),
        strcmp (code, "restart_unsupported") == 0 ?
        SOUP_STATUS_UNPROCESSABLE_ENTITY : SOUP_STATUS_INTERNAL_SERVER_ERROR,
        line);
  } else {
    g_message ("error via=%s room=\"%s\" id=%s code=%s: %s (from the relay)",
        s->via, s->room, s->participant_id, log_code, line);
  }
}

static void
on_restarted (gpointer session, const gchar * ufrag, const gchar * pwd,
    const gchar * const *candidates, gpointer user_data)
{
  Session *s = session;
  SoupServerMessage *msg = s->patch;
  g_autofree gchar *frag = NULL;

  /* The relay applied the client's new credentials. */
  if (s->restart_ufrag) {
    g_free (s->ufrag);
    g_free (s->pwd);
    s->ufrag = g_steal_pointer (&s->restart_ufrag);
    s->pwd = g_steal_pointer (&s->restart_pwd);
  }
  new_etag (s);
  if (msg == NULL) {
    g_message ("%s restarted ICE room=\"%s\" id=%s, no request waiting",
        s->via, s->room, s->participant_id);
    return;
  }
  s->patch = NULL;
  frag = noom_sdpfrag_build_answer (s->media_line, s->mid, ufrag, pwd,
      candidates);
  set_header (msg, "ETag", s->etag);
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, SDPFRAG_TYPE, SOUP_MEMORY_COPY,
      frag, strlen (frag));
  g_message ("%s restarted ICE room=\"%s\" id=%s", s->via, s->room,
      s->participant_id);
  release (s, msg, TRUE);
}

static void
on_gone (gpointer session, const gchar * reason, gpointer user_data)
{
  Session *s = session;
  g_autofree gchar *message = NULL;

  /* The room server has removed the participant already. */
  s->participant = NULL;
  message = g_strdup_printf ("the media relay stopped serving this "
      "session: %s", reason);
  if (s->post) {
    set_header (s->post, "Retry-After", RETRY_RELAY_S);
    fail_held (s, g_steal_pointer (&s->post),
        SOUP_STATUS_SERVICE_UNAVAILABLE, message);
  }
  if (s->patch)
    fail_held (s, g_steal_pointer (&s->patch),
        SOUP_STATUS_SERVICE_UNAVAILABLE, message);
  session_free (s);
}

/* ------------------------------------------------------------------- POST */

static void
post (NoomWhip * self, SoupServerMessage * msg, const gchar * via,
    const gchar * room, const gchar * play, GHashTable * query)
{
  gboolean whep = strcmp (via, "whep") == 0;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  NoomToken *token = NULL;
  NoomMediaFlags sends = NOOM_MEDIA_NONE;
  NoomHttpJoin join = { 0, };
  NoomSdpInfo info;
  g_autofree gchar *offer = NULL;
  const gchar *sdp;
  gsize len;
  Session *s;
  guint status;

  if (!self->sfu) {
    fail (msg, via, room, NULL, SOUP_STATUS_NOT_IMPLEMENTED,
        "this server forwards no media: WHIP and WHEP need noom-server "
        "--sfu");
    return;
  }
  if (!authorize (self, msg, via, room, &token))
    return;
  if (!has_content_type (msg, "application/sdp")) {
    noom_token_free (token);
    fail (msg, via, room, NULL, SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "the offer must be sent as Content-Type: application/sdp");
    return;
  }
  body = request_body (msg);
  sdp = g_bytes_get_data (body, &len);
  if (len == 0) {
    noom_token_free (token);
    fail (msg, via, room, NULL, SOUP_STATUS_BAD_REQUEST,
        "no SDP offer in the body");
    return;
  }
  if (!noom_sdp_info_parse (sdp, len, &info, &error)) {
    noom_token_free (token);
    fail (msg, via, room, NULL, SOUP_STATUS_BAD_REQUEST, error->message);
    return;
  }
  /* No NUL inside (noom_sdp_info_parse() checked): a C string. */
  offer = g_strndup (sdp, len);
  if (!whep && (!noom_sdp_get_sends (offer, &sends) || sends == 0)) {
    noom_token_free (token);
    noom_sdp_info_clear (&info);
    fail (msg, via, room, NULL, SOUP_STATUS_BAD_REQUEST,
        "the offer sends no audio or video (WHIP publishes: an m-line "
        "must be sendonly or sendrecv)");
    return;
  }
  if (!noom_room_server_relay_is_ready (self->rooms)) {
    noom_token_free (token);
    noom_sdp_info_clear (&info);
    set_header (msg, "Retry-After", RETRY_RELAY_S);
    fail (msg, via, room, NULL, SOUP_STATUS_SERVICE_UNAVAILABLE,
        "the media relay is restarting: try again shortly");
    return;
  }

  s = g_new0 (Session, 1);
  s->whip = self;
  s->via = whep ? "whep" : "whip";
  s->room = g_strdup (room);
  s->offer = info;
  s->ufrag = g_strdup (info.ufrag);
  s->pwd = g_strdup (info.pwd);
  s->started_us = g_get_monotonic_time ();
  random_hex (s->id, 16);
  s->link.data = s;
  g_queue_push_tail_link (&self->all, &s->link);

  join.room = room;
  join.nickname = query ? g_hash_table_lookup (query, "nickname") : NULL;
  join.default_nickname = whep ? "WHEP" : "WHIP";
  join.kind = whep ? NOOM_KIND_SUBSCRIBER : NOOM_KIND_PUBLISHER;
  join.sends = sends;
  join.token = token;
  join.play = play;
  join.play_any = whep && play == NULL;
  join.via = s->via;
  join.offer = offer;
  s->participant = noom_room_server_join_http (self->rooms, &join, s, &error);
  if (s->participant == NULL) {
    switch (error->code) {
      case NOOM_ROOM_ERROR_FORBIDDEN:
        status = SOUP_STATUS_FORBIDDEN;
        break;
      case NOOM_ROOM_ERROR_UNKNOWN_PEER:
        status = SOUP_STATUS_NOT_FOUND;
        break;
      case NOOM_ROOM_ERROR_ROOM_FULL:
        status = SOUP_STATUS_SERVICE_UNAVAILABLE;
        set_header (msg, "Retry-After", RETRY_ROOM_FULL_S);
        break;
      default:
        status = SOUP_STATUS_BAD_REQUEST;
        break;
    }
    fail (msg, via, room, NULL, status, error->message);
    session_free (s);
    return;
  }
  s->participant_id = g_strdup (noom_room_server_http_get_id (s->participant));
  s->post = msg;
  hold (s, msg, post_timeout_cb);
}

/* ------------------------------------------------------------ PATCH, DELETE */

/* RFC 9110 §13.1.1: If-Match is "*" or a list of entity tags. */
static gboolean
if_match (SoupServerMessage * msg, const gchar * etag)
{
  const gchar *value =
      soup_message_headers_get_list (soup_server_message_get_request_headers
      (msg), "If-Match");
  g_auto (GStrv) tags = NULL;
  guint i;

  if (value == NULL)
    return TRUE;
  tags = g_strsplit (value, ",", -1);
  for (i = 0; tags[i]; i++) {
    const gchar *t = g_strstrip (tags[i]);

    if (strcmp (t, "*") == 0 || strcmp (t, etag) == 0)
      return TRUE;
  }
  return FALSE;
}

static void
send_candidates (NoomWhip * self, Session * s, NoomSdpFrag * frag)
{
  guint i;

  for (i = 0; i < frag->candidates->len; i++) {
    NoomSdpFragCandidate *c = frag->candidates->pdata[i];
    JsonObject *o = json_object_new ();
    JsonNode *node = json_node_new (JSON_NODE_OBJECT);

    json_object_set_string_member (o, "candidate", c->candidate);
    if (c->mid)
      json_object_set_string_member (o, "sdpMid", c->mid);
    json_object_set_int_member (o, "sdpMLineIndex", c->mline_index);
    json_node_take_object (node, o);
    noom_room_server_http_ice (self->rooms, s->participant, node);
  }
  if (frag->end_of_candidates)
    noom_room_server_http_ice (self->rooms, s->participant,
        json_node_new (JSON_NODE_NULL));
}

static void
patch (NoomWhip * self, SoupServerMessage * msg, Session * s)
{
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  NoomSdpFrag frag;
  const gchar *text;
  gsize len;
  gboolean restart;

  if (!has_content_type (msg, SDPFRAG_TYPE)) {
    fail (msg, s->via, s->room, s->participant_id,
        SOUP_STATUS_UNSUPPORTED_MEDIA_TYPE,
        "a PATCH must be sent as Content-Type: " SDPFRAG_TYPE);
    return;
  }
  body = request_body (msg);
  text = g_bytes_get_data (body, &len);
  if (!noom_sdpfrag_parse (text ? text : "", len, s->offer.mids, &frag, &error)) {
    fail (msg, s->via, s->room, s->participant_id, SOUP_STATUS_BAD_REQUEST,
        error->message);
    return;
  }
  /* RFC 9725 §4.3: a trickle PATCH for another ICE session (its If-Match
   * is an older ETag) is refused; a restart is sent with If-Match: "*".
   * Without If-Match, both are taken. */
  if (!if_match (msg, s->etag)) {
    noom_sdpfrag_clear (&frag);
    fail (msg, s->via, s->room, s->participant_id,
        SOUP_STATUS_PRECONDITION_FAILED,
        "If-Match does not match this ICE session's ETag");
    return;
  }
  restart = frag.ufrag && (g_strcmp0 (frag.ufrag, s->ufrag) != 0
      || g_strcmp0 (frag.pwd, s->pwd) != 0);
  if (restart && s->patch) {
    noom_sdpfrag_clear (&frag);
    fail (msg, s->via, s->room, s->participant_id, SOUP_STATUS_CONFLICT,
        "an ICE restart is already under way");
    return;
  }
  if (restart) {
    s->restart_ufrag = g_strdup (frag.ufrag);
    s->restart_pwd = g_strdup (frag.pwd);
    noom_room_server_http_restart (self->rooms, s->participant, frag.ufrag,
        frag.pwd);
    /* The restart's own candidates follow it on the channel. */
    send_candidates (self, s, &frag);
    noom_sdpfrag_clear (&frag);
    s->patch = msg;
    hold (s, msg, patch_timeout_cb);
    return;
  }
  send_candidates (self, s, &frag);
  noom_sdpfrag_clear (&frag);
  soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
}

/* ---------------------------------------------------------------- routes */

/* RFC 9725 §4.6 allows the ICE servers in an OPTIONS response too.  With
 * a token secret only for a request with a valid token (a CORS preflight
 * has none): TURN credentials are worth keeping. */
static gboolean
options_may_see_ice (NoomWhip * self, SoupServerMessage * msg)
{
  const gchar *auth =
      soup_message_headers_get_one (soup_server_message_get_request_headers
      (msg), "Authorization");
  g_autofree gchar *text = NULL;
  g_autoptr (NoomToken) token = NULL;

  if (self->token_secret == NULL)
    return TRUE;
  if (auth == NULL || g_ascii_strncasecmp (auth, "Bearer ", 7) != 0)
    return FALSE;
  text = g_strstrip (g_strdup (auth + 7));
  token = noom_token_verify (text, self->token_secret,
      g_get_real_time () / G_USEC_PER_SEC, NULL);
  return token != NULL;
}

static void
handle_endpoint (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  NoomWhip *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  gboolean whep = g_str_has_prefix (path, "/whep");
  const gchar *via = whep ? "whep" : "whip";
  g_auto (GStrv) segments = NULL;
  guint n;

  if (!cors (self, msg, via))
    return;
  segments = path_segments (path, whep ? "/whep" : "/whip");
  n = g_strv_length (segments);
  if (n == 0 || n > (whep ? 2u : 1u)) {
    fail (msg, via, NULL, NULL, SOUP_STATUS_NOT_FOUND, whep ?
        "not a WHEP endpoint: POST /whep/ROOM or /whep/ROOM/PARTICIPANT" :
        "not a WHIP endpoint: POST /whip/ROOM");
    return;
  }
  if (strcmp (method, "OPTIONS") == 0) {
    preflight (msg, "OPTIONS, POST");
    if (self->sfu && options_may_see_ice (self, msg)) {
      gchar user[21];

      random_hex (user, 10);
      add_ice_links (self, msg, user);
    }
    return;
  }
  if (strcmp (method, "POST") != 0) {
    method_not_allowed (msg, via, "OPTIONS, POST");
    return;
  }
  post (self, msg, via, segments[0], n > 1 ? segments[1] : NULL, query);
}

static void
handle_session (SoupServer * server, SoupServerMessage * msg,
    const char *path, GHashTable * query, gpointer user_data)
{
  NoomWhip *self = user_data;
  const gchar *method = soup_server_message_get_method (msg);
  g_auto (GStrv) segments = NULL;
  Session *s = NULL;

  if (!cors (self, msg, "wish"))
    return;
  segments = path_segments (path, "/wish");
  if (g_strv_length (segments) == 1)
    s = g_hash_table_lookup (self->sessions, segments[0]);
  if (strcmp (method, "OPTIONS") == 0) {
    preflight (msg, "OPTIONS, PATCH, DELETE");
    set_header (msg, "Accept-Patch", SDPFRAG_TYPE);
    return;
  }
  if (strcmp (method, "PATCH") != 0 && strcmp (method, "DELETE") != 0) {
    method_not_allowed (msg, "wish", "OPTIONS, PATCH, DELETE");
    return;
  }
  if (s == NULL) {
    fail (msg, "wish", NULL, NULL, SOUP_STATUS_NOT_FOUND,
        "no such session (it ended, or never was)");
    return;
  }
  if (strcmp (method, "PATCH") == 0) {
    patch (self, msg, s);
    return;
  }
  g_message ("%s delete room=\"%s\" id=%s", s->via, s->room, s->participant_id);
  if (s->patch)
    fail_held (s, g_steal_pointer (&s->patch), SOUP_STATUS_NOT_FOUND,
        "the session ended (DELETE)");
  session_end (s, "DELETE");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
}

/* Refuses an oversized body before libsoup reads it (a body sent without
 * Content-Length is read, and then refused by the parsers' own limits). */
static void
early_cb (SoupServer * server, SoupServerMessage * msg, const char *path,
    GHashTable * query, gpointer user_data)
{
  NoomWhip *self = user_data;
  SoupMessageHeaders *h = soup_server_message_get_request_headers (msg);
  const gchar *via = g_str_has_prefix (path, "/wish") ? "wish" :
      g_str_has_prefix (path, "/whep") ? "whep" : "whip";
  goffset max = strcmp (via, "wish") == 0 ? NOOM_SDPFRAG_MAX :
      NOOM_SDP_MAX_OFFER;
  g_autofree gchar *message = NULL;

  if (soup_message_headers_get_encoding (h) != SOUP_ENCODING_CONTENT_LENGTH
      || soup_message_headers_get_content_length (h) <= max)
    return;
  if (!cors (self, msg, via))
    return;
  message = g_strdup_printf ("the body is longer than %" G_GOFFSET_FORMAT
      " bytes", max);
  fail (msg, via, NULL, NULL, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, message);
}

/* ---------------------------------------------------------------- public */

NoomWhip *
noom_whip_new (SoupServer * server, NoomRoomServer * rooms,
    const NoomWhipConfig * config)
{
  static const NoomRoomServerHttpCallbacks callbacks = {
    .answer = on_answer,
    .error = on_error,
    .restarted = on_restarted,
    .gone = on_gone,
  };
  NoomWhip *self = g_new0 (NoomWhip, 1);

  self->server = g_object_ref (server);
  self->rooms = rooms;
  self->ice = config->ice;
  self->token_secret = config->token_secret;
  self->origins = g_strdupv ((gchar **) config->allowed_origins);
  self->sfu = config->sfu;
  self->sessions = g_hash_table_new (g_str_hash, g_str_equal);
  g_queue_init (&self->all);
  noom_room_server_set_http_callbacks (rooms, &callbacks, self);
  soup_server_add_early_handler (server, "/whip", early_cb, self, NULL);
  soup_server_add_early_handler (server, "/whep", early_cb, self, NULL);
  soup_server_add_early_handler (server, "/wish", early_cb, self, NULL);
  soup_server_add_handler (server, "/whip", handle_endpoint, self, NULL);
  soup_server_add_handler (server, "/whep", handle_endpoint, self, NULL);
  soup_server_add_handler (server, "/wish", handle_session, self, NULL);
  return self;
}

void
noom_whip_free (NoomWhip * self)
{
  if (self == NULL)
    return;
  soup_server_remove_handler (self->server, "/whip");
  soup_server_remove_handler (self->server, "/whep");
  soup_server_remove_handler (self->server, "/wish");
  while (self->all.head)
    session_end (self->all.head->data, "server shutting down");
  noom_room_server_set_http_callbacks (self->rooms, NULL, NULL);
  g_hash_table_unref (self->sessions);
  g_strfreev (self->origins);
  g_object_unref (self->server);
  g_free (self);
}
