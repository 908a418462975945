/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-relay: the media relay of `noom-server --sfu`.  noom-server starts
 * it and talks to it over its stdin and stdout, one JSON object per line
 * (docs/server-internals.md, "The media relay"); it never speaks to
 * clients but through the server.  Every participant of an SFU room has
 * one WebRTC connection to it, which the relay always offers: recvonly
 * m-lines for what the participant sends, a sendonly m-line for every
 * track of the others (relay-forward.c forwards them without decoding).
 */
#include "config.h"
#include "relay.h"

#include <glib-unix.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

GST_DEBUG_CATEGORY (relay_debug);
#define GST_CAT_DEFAULT relay_debug

const gchar *
kind_name (TrackKind kind)
{
  return kind == KIND_AUDIO ? "audio" : "video";
}

/* ---- the control channel ---- */

/* How often the relay tells noom-server what it forwarded (op "stats") */
#define STATS_INTERVAL_S 2

static gboolean
send_stats (gpointer data)
{
  forward_send_stats (data);
  return G_SOURCE_CONTINUE;
}

/* How often the relay measures its tracks and chooses each subscriber's
 * layers (ms) */
#define ADAPT_INTERVAL_MS 500

static gboolean
adapt (gpointer data)
{
  forward_adapt (data);
  return G_SOURCE_CONTINUE;
}

void
relay_send (Relay * relay, JsonNode * message)
{
  g_autofree gchar *text = json_to_string (message, FALSE);
  g_autoptr (GError) error = NULL;

  json_node_unref (message);
  if (!g_output_stream_write_all (relay->out, text, strlen (text), NULL,
          NULL, &error)
      || !g_output_stream_write_all (relay->out, "\n", 1, NULL, NULL, &error)) {
    g_printerr ("noom-relay: cannot write to noom-server: %s\n",
        error->message);
    g_main_loop_quit (relay->loop);
  }
}

JsonBuilder *
message_begin (const gchar * op, Member * m)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "op");
  json_builder_add_string_value (b, op);
  if (m) {
    json_builder_set_member_name (b, "room");
    json_builder_add_string_value (b, m->room->name);
    json_builder_set_member_name (b, "to");
    json_builder_add_string_value (b, m->id);
  }
  return b;
}

void
message_send (Relay * relay, JsonBuilder * b)
{
  json_builder_end_object (b);
  relay_send (relay, json_builder_get_root (b));
  g_object_unref (b);
}

void
send_error (Member * m, const gchar * code, const gchar * message)
{
  JsonBuilder *b = message_begin ("error", m);

  json_builder_set_member_name (b, "code");
  json_builder_add_string_value (b, code);
  json_builder_set_member_name (b, "message");
  json_builder_add_string_value (b, message);
  message_send (m->room->relay, b);
}

/* ---- members ---- */

Member *
member_ref (Member * m)
{
  g_atomic_int_inc (&m->refs);
  return m;
}

void
member_unref (Member * m)
{
  TrackKind k;

  if (!g_atomic_int_dec_and_test (&m->refs))
    return;
  g_ptr_array_unref (m->tracks);
  g_ptr_array_unref (m->branches);
  answer_clear (m);
  for (k = 0; k < N_KINDS; k++)
    if (m->upload_params[k])
      gst_structure_free (m->upload_params[k]);
  g_free (m->play);
  g_mutex_clear (&m->bwe_lock);
  gst_clear_object (&m->webrtc);
  g_free (m->id);
  g_free (m->nickname);
  g_free (m->kind);
  g_free (m);
}

typedef struct
{
  Member *member;
  void (*func) (Member *, gpointer);
  gpointer data;
  GDestroyNotify free_data;
} Invoke;

static gboolean
invoke_run (gpointer data)
{
  Invoke *inv = data;

  if (inv->member->room)
    inv->func (inv->member, inv->data);
  return G_SOURCE_REMOVE;
}

static void
invoke_free (gpointer data)
{
  Invoke *inv = data;

  if (inv->free_data)
    inv->free_data (inv->data);
  member_unref (inv->member);
  g_free (inv);
}

/* Runs @func for @m in the main loop, unless @m is gone by then. */
void
relay_invoke (Member * m, void (*func) (Member *, gpointer), gpointer data,
    GDestroyNotify free_data)
{
  Invoke *inv = g_new0 (Invoke, 1);

  inv->member = member_ref (m);
  inv->func = func;
  inv->data = data;
  inv->free_data = free_data;
  g_main_context_invoke_full (NULL, G_PRIORITY_DEFAULT, invoke_run, inv,
      invoke_free);
}

/* Does @kind of member receive others' media?  A publisher (noomsink,
 * noom-ingest) does not. */
static gboolean
member_receives (Member * m)
{
  /* a WHEP player gets the tracks it asked for in its offer, and no more */
  return !m->answering && g_strcmp0 (m->kind, "publisher") != 0;
}

static gboolean
member_has_mlines (Member * m)
{
  return m->upload[KIND_AUDIO] || m->upload[KIND_VIDEO] || m->upload_screen
      || m->branches->len;
}

/* Does @m get @track?  A shared screen goes only to members that tell it
 * from a camera (docs/protocol.md §11): to another, it would be one more
 * video of its publisher. */
static gboolean
member_takes (Member * m, Track * track)
{
  return !track->screen || m->screens;
}

/* ---- negotiation: the relay offers, always ---- */

/* The mid of m-line @mline of @sdp (webrtcbin 1.22 leaves the
 * transceivers' own mid unset). */
static const gchar *
mline_mid (GstSDPMessage * sdp, guint mline)
{
  if (mline >= gst_sdp_message_medias_len (sdp))
    return NULL;
  return gst_sdp_media_get_attribute_val (gst_sdp_message_get_media (sdp,
          mline), "mid");
}

static void
add_track_entry (JsonBuilder * b, const gchar * mid, TrackKind kind,
    const gchar * id, const gchar * nickname, gboolean upload, gboolean screen)
{
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "mid");
  json_builder_add_string_value (b, mid);
  json_builder_set_member_name (b, "kind");
  json_builder_add_string_value (b, kind_name (kind));
  json_builder_set_member_name (b, "id");
  json_builder_add_string_value (b, id);
  if (nickname) {
    json_builder_set_member_name (b, "nickname");
    json_builder_add_string_value (b, nickname);
  }
  if (upload) {
    json_builder_set_member_name (b, "upload");
    json_builder_add_boolean_value (b, TRUE);
  }
  if (screen) {
    json_builder_set_member_name (b, "screen");
    json_builder_add_boolean_value (b, TRUE);
  }
  json_builder_end_object (b);
}

/* docs/protocol.md §11: a shared screen's m-line says so in its msid, whose
 * track id is "screen" (webrtcbin writes its transceiver's name there), for
 * the elements, which do not read `tracks`.  Only in the text we send: the
 * track id plays no part in the negotiation. */
static void
mark_screen (GstSDPMessage * sdp, guint mline)
{
  GstSDPMedia *media;
  guint i;

  if (mline >= gst_sdp_message_medias_len (sdp))
    return;
  media = (GstSDPMedia *) gst_sdp_message_get_media (sdp, mline);
  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, i);
    const gchar *v = a->value;
    const gchar *msid, *track;
    g_autofree gchar *value = NULL;
    GstSDPAttribute attr = { 0 };

    if (g_strcmp0 (a->key, "ssrc") || !v || !(msid = strstr (v, " msid:"))
        || !(track = strchr (msid + 6, ' ')))
      continue;
    value = g_strdup_printf ("%.*s screen", (gint) (track - v), v);
    gst_sdp_attribute_set (&attr, "ssrc", value);
    gst_sdp_media_replace_attribute (media, i, &attr);
  }
}

static void
send_offer (Member * m, gpointer data)
{
  GstWebRTCSessionDescription *offer = data;
  g_autofree gchar *text = NULL;
  GstSDPMessage *sdp = NULL;
  JsonBuilder *b;
  guint i;
  TrackKind k;

  gst_sdp_message_copy (offer->sdp, &sdp);
  for (i = 0; i < m->branches->len; i++) {
    Branch *br = m->branches->pdata[i];

    if (br->active && br->track->owner && br->track->screen)
      mark_screen (sdp, br->mline);
  }
  text = gst_sdp_message_as_text (sdp);
  gst_sdp_message_free (sdp);
  b = message_begin ("offer", m);

  json_builder_set_member_name (b, "description");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "type");
  json_builder_add_string_value (b, "offer");
  json_builder_set_member_name (b, "sdp");
  json_builder_add_string_value (b, text);
  json_builder_set_member_name (b, "tracks");
  json_builder_begin_array (b);
  for (k = 0; k < N_KINDS; k++) {
    const gchar *mid;

    if (!m->upload[k])
      continue;
    mid = mline_mid (offer->sdp, m->upload_mline[k]);
    if (mid)
      add_track_entry (b, mid, k, m->id, NULL, TRUE, FALSE);
  }
  if (m->upload_screen) {
    const gchar *mid = mline_mid (offer->sdp, m->upload_screen_mline);

    if (mid)
      add_track_entry (b, mid, KIND_VIDEO, m->id, NULL, TRUE, TRUE);
  }
  for (i = 0; i < m->branches->len; i++) {
    Branch *br = m->branches->pdata[i];
    const gchar *mid;

    if (!br->active || !br->track->owner)
      continue;
    mid = mline_mid (offer->sdp, br->mline);
    if (mid) {
      add_track_entry (b, mid, br->track->kind, br->track->owner->id,
          br->track->owner->nickname, FALSE, br->track->screen);
      br->in_offer = TRUE;
    }
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
  m->offers++;
  GST_INFO ("offer %u to %s (%u m-lines)", m->offers, m->id,
      gst_sdp_message_medias_len (offer->sdp));
  GST_LOG ("offer to %s:\n%s", m->id, text);
  message_send (m->room->relay, b);
}

static void
offer_failed (Member * m, gpointer data)
{
  const gchar *why = data;

  g_printerr ("noom-relay: no offer for %s: %s\n", m->id, why);
  m->offering = FALSE;
}

typedef struct
{
  Member *member;
  GstWebRTCSessionDescription *offer;
} LocalSet;

static void
local_set_free (gpointer data)
{
  LocalSet *ls = data;

  member_unref (ls->member);
  gst_webrtc_session_description_free (ls->offer);
  g_free (ls);
}

static void
on_local_set (GstPromise * promise, gpointer data)
{
  LocalSet *ls = data;
  GstWebRTCSessionDescription *offer = ls->offer;
  Member *m = ls->member;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GError *error = NULL;

  if (reply && gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL)) {
    g_printerr ("noom-relay: set-local-description for %s: %s\n", m->id,
        error->message);
    g_error_free (error);
    relay_invoke (m, offer_failed, (gpointer) "set-local-description failed",
        NULL);
  } else {
    relay_invoke (m, send_offer, gst_webrtc_session_description_copy (offer),
        (GDestroyNotify) gst_webrtc_session_description_free);
  }
  gst_promise_unref (promise);
}

static void
on_offer_created (GstPromise * promise, gpointer data)
{
  Member *m = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *offer = NULL;
  GstPromise *next;
  LocalSet *ls;

  if (reply)
    gst_structure_get (reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &offer, NULL);
  gst_promise_unref (promise);
  if (!offer) {
    relay_invoke (m, offer_failed, (gpointer) "create-offer failed", NULL);
    return;
  }
  ls = g_new0 (LocalSet, 1);
  ls->member = member_ref (m);
  ls->offer = offer;
  next = gst_promise_new_with_change_func (on_local_set, ls, local_set_free);
  g_signal_emit_by_name (m->webrtc, "set-local-description", offer, next);
}

/* Offers @m its m-lines as they are now; one offer at a time, and once
 * more after the answer if anything changed meanwhile.  Main thread. */
void
member_negotiate (Member * m)
{
  GstPromise *promise;

  if (!m->room || m->answering)
    return;
  if (m->offering) {
    m->offer_again = TRUE;
    return;
  }
  if (!member_has_mlines (m))
    return;                     /* nothing to connect yet */
  m->offering = TRUE;
  m->offer_again = FALSE;
  promise = gst_promise_new_with_change_func (on_offer_created, member_ref (m),
      (GDestroyNotify) member_unref);
  g_signal_emit_by_name (m->webrtc, "create-offer", NULL, promise);
}

/* A subscriber gets a keyframe of each track newly forwarded to it once
 * it can take one: it answered the track's m-line and its connection is
 * up.  One sent earlier goes nowhere, and a receiver with nothing to
 * decode yet need not ask for one (aiortc does not).  Main thread. */
static void
request_first_keyframes (Member * m)
{
  GstWebRTCPeerConnectionState state;
  guint i;

  g_object_get (m->webrtc, "connection-state", &state, NULL);
  if (state != GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    return;
  for (i = 0; i < m->branches->len; i++) {
    Branch *br = m->branches->pdata[i];

    if (br->active && br->answered && br->wants_keyframe) {
      br->wants_keyframe = FALSE;
      track_request_first_keyframe (br->track);
    }
  }
}

static void
answer_applied (Member * m, gpointer data)
{
  const gchar *error = data;
  guint i;

  if (error)
    g_printerr ("noom-relay: %s's answer: %s\n", m->id, error);
  for (i = 0; i < m->branches->len; i++) {
    Branch *br = m->branches->pdata[i];

    if (!error && br->in_offer)
      br->answered = TRUE;
    br->in_offer = FALSE;
  }
  request_first_keyframes (m);
  m->offering = FALSE;
  if (m->offer_again)
    member_negotiate (m);
}

static void
on_remote_set (GstPromise * promise, gpointer data)
{
  Member *m = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GError *error = NULL;

  if (reply && gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL)) {
    relay_invoke (m, answer_applied, g_strdup (error->message), g_free);
    g_error_free (error);
  } else {
    relay_invoke (m, answer_applied, NULL, NULL);
  }
  gst_promise_unref (promise);
}

/* An upload m-line the answer rejected (port 0): the client has no codec
 * the relay can forward. */
static void
check_answer (Member * m, GstSDPMessage * sdp)
{
  TrackKind k;

  for (k = 0; k < N_KINDS; k++) {
    guint mline;
    g_autofree gchar *text = NULL;

    if (!m->upload[k])
      continue;
    mline = m->upload_mline[k];
    if (mline >= gst_sdp_message_medias_len (sdp)
        || gst_sdp_media_get_port (gst_sdp_message_get_media (sdp, mline)) != 0)
      continue;
    text = g_strdup_printf ("the relay forwards %s as %s only, which your "
        "answer refused: your %s is not sent", kind_name (k),
        k == KIND_VIDEO ? "VP8" : "Opus", kind_name (k));
    send_error (m, "unsupported_codec", text);
  }
}

static void
handle_answer (Member * m, JsonObject * desc)
{
  const gchar *sdp_text = json_object_get_string_member_with_default (desc,
      "sdp", NULL);
  GstSDPMessage *sdp = NULL;
  GstWebRTCSessionDescription *answer;
  GstPromise *promise;

  if (!m->offering) {
    g_printerr ("noom-relay: an answer from %s, which has no offer\n", m->id);
    return;
  }
  if (!sdp_text || gst_sdp_message_new_from_text (sdp_text, &sdp) != GST_SDP_OK) {
    g_printerr ("noom-relay: %s's answer is not SDP\n", m->id);
    gst_sdp_message_free (sdp);
    m->offering = FALSE;
    return;
  }
  check_answer (m, sdp);
  answer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  promise = gst_promise_new_with_change_func (on_remote_set, member_ref (m),
      (GDestroyNotify) member_unref);
  g_signal_emit_by_name (m->webrtc, "set-remote-description", answer, promise);
  gst_webrtc_session_description_free (answer);
}

static void
handle_ice (Member * m, JsonNode * node)
{
  JsonObject *c;
  const gchar *text;
  guint mline;

  if (!node || JSON_NODE_HOLDS_NULL (node) || !JSON_NODE_HOLDS_OBJECT (node))
    return;                     /* end of candidates */
  c = json_node_get_object (node);
  text = json_object_get_string_member_with_default (c, "candidate", NULL);
  if (!text || !*text)
    return;
  mline = json_object_get_int_member_with_default (c, "sdpMLineIndex", 0);
  g_signal_emit_by_name (m->webrtc, "add-ice-candidate", mline, text);
}

/* ---- webrtcbin's threads ---- */

void
candidate_free (gpointer data)
{
  Candidate *c = data;

  g_free (c->candidate);
  g_free (c);
}

static void
send_candidate (Member * m, gpointer data)
{
  Candidate *c = data;
  JsonBuilder *b = message_begin ("ice", m);

  json_builder_set_member_name (b, "candidate");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "candidate");
  json_builder_add_string_value (b, c->candidate);
  json_builder_set_member_name (b, "sdpMLineIndex");
  json_builder_add_int_value (b, c->mline);
  json_builder_end_object (b);
  message_send (m->room->relay, b);
}

static void
candidate_gathered (Member * m, gpointer data)
{
  Candidate *c = data;

  if (m->answering)
    answer_candidate (m, c->mline, c->candidate);
  else
    send_candidate (m, c);
}

static void
on_ice_candidate (GstElement * webrtc, guint mline, const gchar * candidate,
    Member * m)
{
  Candidate *c = g_new0 (Candidate, 1);

  c->mline = mline;
  c->candidate = g_strdup (candidate);
  relay_invoke (m, candidate_gathered, c, candidate_free);
}

static void
gathering_changed (Member * m, gpointer data)
{
  answer_gathering_changed (m);
}

static void
on_gathering_state (GstElement * webrtc, GParamSpec * pspec, Member * m)
{
  if (m->answering)
    relay_invoke (m, gathering_changed, NULL, NULL);
}

static void
track_added (Member * m, gpointer data)
{
  Track *track = data;
  GHashTableIter iter;
  Member *other;

  g_ptr_array_add (m->tracks, track_ref (track));
  g_hash_table_iter_init (&iter, m->room->members);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & other)) {
    if (other == m || !member_receives (other) || !member_takes (other, track))
      continue;
    g_ptr_array_add (other->branches, branch_new (track, other));
    member_negotiate (other);
  }
}

static void
on_pad_added (GstElement * webrtc, GstPad * pad, Member * m)
{
  GstWebRTCRTPTransceiver *trans = NULL;
  Track *track;
  TrackKind k;
  gboolean screen;

  if (GST_PAD_DIRECTION (pad) != GST_PAD_SRC || !m->room)
    return;
  g_object_get (pad, "transceiver", &trans, NULL);
  for (k = 0; k < N_KINDS; k++)
    if (trans && trans == m->upload[k])
      break;
  screen = trans && trans == m->upload_screen;
  if (screen)
    k = KIND_VIDEO;
  gst_clear_object (&trans);
  if (k == N_KINDS) {
    GST_WARNING ("%s sends on an m-line the relay did not offer", m->id);
    return;
  }
  g_message ("%s's %s track starts", m->id, screen ? "screen" : kind_name (k));
  track = track_new (m, pad, k);
  track->screen = screen;
  relay_invoke (m, track_added, track, (GDestroyNotify) track_unref);
}

static void
end_tracks (Member * m)
{
  guint i;

  for (i = 0; i < m->tracks->len; i++)
    track_end (m->tracks->pdata[i]);
  g_ptr_array_set_size (m->tracks, 0);
}

static void
connection_changed (Member * m, gpointer data)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (m->webrtc, "connection-state", &state, NULL);
  GST_INFO ("%s's connection: %d", m->id, state);
  if (m->answering)
    answer_connection_changed (m, state);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    request_first_keyframes (m);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    /* only this participant's tracks end; its subscribers see them go */
    g_message ("%s's connection failed: its tracks end", m->id);
    end_tracks (m);
  }
}

static void
on_connection_state (GstElement * webrtc, GParamSpec * pspec, Member * m)
{
  relay_invoke (m, connection_changed, NULL, NULL);
}

/* ---- rooms ---- */

static RelayRoom *
room_get (Relay * relay, const gchar * name, gboolean create)
{
  RelayRoom *room = g_hash_table_lookup (relay->rooms, name);

  if (!room && create) {
    room = g_new0 (RelayRoom, 1);
    room->relay = relay;
    room->name = g_strdup (name);
    room->members = g_hash_table_new (g_str_hash, g_str_equal);
    g_hash_table_insert (relay->rooms, room->name, room);
  }
  return room;
}

static void
room_maybe_free (RelayRoom * room)
{
  if (g_hash_table_size (room->members))
    return;
  g_hash_table_remove (room->relay->rooms, room->name);
  g_hash_table_unref (room->members);
  g_free (room->name);
  g_free (room);
}

/* webrtcbin's RTP sessions send a keyframe request (PLI) at once only
 * if no early RTCP went since their last regular report; otherwise it
 * waits for the next regular one, which comes every 5 s by default.  The
 * relay asks publishers for keyframes for every newcomer and every loss:
 * the sessions facing a participant that sends report more often, so
 * that a request waits at most about --rtcp-interval.  The others (the
 * most, in a broadcast) keep the default: they never ask for keyframes. */
static void
on_deep_element_added (GstBin * bin, GstBin * sub, GstElement * element,
    Member * m)
{
  GstElementFactory *f = gst_element_get_factory (element);

  if (!f || g_strcmp0 (GST_OBJECT_NAME (f), "rtpsession"))
    return;
  if ((m->sends[KIND_AUDIO] || m->sends[KIND_VIDEO]) && m->room)
    g_object_set (element, "rtcp-min-interval",
        m->room->relay->rtcp_interval, NULL);
  forward_watch_session (m, element);
}

static void
setup_webrtc (Relay * relay, Member * m)
{
  GstElement *webrtc = m->webrtc;
  GObject *ice = NULL;
  guint i;

  g_object_set (webrtc, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE,
      "latency", relay->latency, NULL);
  if (relay->stun_server)
    g_object_set (webrtc, "stun-server", relay->stun_server, NULL);
  for (i = 0; relay->turn_servers && relay->turn_servers[i]; i++) {
    gboolean ok = FALSE;

    g_signal_emit_by_name (webrtc, "add-turn-server", relay->turn_servers[i],
        &ok);
  }
  g_object_get (webrtc, "ice-agent", &ice, NULL);
  for (i = 0; ice && relay->local_addresses && relay->local_addresses[i]; i++) {
    gboolean ok = FALSE;

    g_signal_emit_by_name (ice, "add-local-ip-address",
        relay->local_addresses[i], &ok);
  }
  g_clear_object (&ice);
  g_signal_connect (webrtc, "deep-element-added",
      G_CALLBACK (on_deep_element_added), m);
  g_signal_connect (webrtc, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), m);
  g_signal_connect (webrtc, "pad-added", G_CALLBACK (on_pad_added), m);
  g_signal_connect (webrtc, "notify::connection-state",
      G_CALLBACK (on_connection_state), m);
  g_signal_connect (webrtc, "notify::ice-gathering-state",
      G_CALLBACK (on_gathering_state), m);
}

static void
member_set_participant (Member * m, JsonObject * p)
{
  JsonArray *sends = json_object_has_member (p, "sends") ?
      json_object_get_array_member (p, "sends") : NULL;
  JsonArray *features = json_object_has_member (p, "features") ?
      json_object_get_array_member (p, "features") : NULL;
  guint i;

  g_free (m->nickname);
  m->nickname = g_strdup (json_object_get_string_member_with_default (p,
          "nickname", "Anon"));
  if (m->kind)
    return;                     /* kind and media are fixed in a room */
  m->kind = g_strdup (json_object_get_string_member_with_default (p, "kind",
          "browser"));
  for (i = 0; features && i < json_array_get_length (features); i++)
    if (!g_strcmp0 (json_array_get_string_element (features, i), "screen"))
      m->screens = TRUE;
  for (i = 0; sends && i < json_array_get_length (sends); i++) {
    const gchar *s = json_array_get_string_element (sends, i);

    if (!g_strcmp0 (s, "audio"))
      m->sends[KIND_AUDIO] = TRUE;
    else if (!g_strcmp0 (s, "video"))
      m->sends[KIND_VIDEO] = TRUE;
  }
}

static void
handle_join (Relay * relay, const gchar * room_name, JsonObject * p,
    const gchar * offer, const gchar * play)
{
  const gchar *id = json_object_get_string_member_with_default (p, "id",
      NULL);
  RelayRoom *room;
  Member *m, *other;
  GHashTableIter iter;
  g_autofree gchar *name = NULL;
  TrackKind k;

  if (!id) {
    g_printerr ("noom-relay: a join without a participant id\n");
    return;
  }
  room = room_get (relay, room_name, TRUE);
  if (g_hash_table_contains (room->members, id))
    return;
  m = g_new0 (Member, 1);
  m->refs = 1;
  for (k = 0; k < N_KINDS; k++)
    m->upload_codec[k] = -1;
  m->room = room;
  m->id = g_strdup (id);
  m->tracks = g_ptr_array_new_with_free_func ((GDestroyNotify) track_unref);
  m->branches = g_ptr_array_new_with_free_func ((GDestroyNotify) branch_free);
  member_set_participant (m, p);
  m->answering = offer != NULL;
  m->play = g_strdup (play);
  g_mutex_init (&m->bwe_lock);
  forward_bwe_init (m);
  g_hash_table_insert (room->members, m->id, m);

  name = g_strdup_printf ("m-%s", m->id);
  m->webrtc = gst_element_factory_make ("webrtcbin", name);
  gst_object_ref (m->webrtc);
  setup_webrtc (relay, m);
  gst_bin_add (GST_BIN (relay->pipeline), m->webrtc);
  gst_element_sync_state_with_parent (m->webrtc);

  if (m->answering) {
    g_message ("join room=\"%s\" id=%s kind=%s: answers its offer%s%s",
        room->name, m->id, m->kind, play ? ", plays " : "", play ? play : "");
    answer_start (m, offer);
    return;
  }
  for (k = 0; k < N_KINDS; k++) {
    GstCaps *caps;

    if (!m->sends[k])
      continue;
    caps = forward_upload_caps (m, k);
    g_signal_emit_by_name (m->webrtc, "add-transceiver",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &m->upload[k]);
    gst_caps_unref (caps);
    m->upload_mline[k] = m->mlines++;
    if (m->upload[k] && k == KIND_VIDEO)
      g_object_set (m->upload[k], "do-nack", TRUE, NULL);
  }
  /* docs/protocol.md §11: a second video upload m-line, after the others,
   * for the screen a member that takes screens may share */
  if (m->screens && m->sends[KIND_VIDEO]) {
    GstCaps *caps = forward_caps (KIND_VIDEO, 0);

    g_signal_emit_by_name (m->webrtc, "add-transceiver",
        GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &m->upload_screen);
    gst_caps_unref (caps);
    m->upload_screen_mline = m->mlines++;
    if (m->upload_screen)
      g_object_set (m->upload_screen, "do-nack", TRUE, NULL);
  }
  if (member_receives (m)) {
    g_hash_table_iter_init (&iter, room->members);
    while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & other)) {
      guint i;

      if (other == m)
        continue;
      for (i = 0; i < other->tracks->len; i++)
        if (member_takes (m, other->tracks->pdata[i]))
          g_ptr_array_add (m->branches, branch_new (other->tracks->pdata[i],
                  m));
    }
  }
  g_message ("join room=\"%s\" id=%s kind=%s sends%s%s", room->name, m->id,
      m->kind, m->sends[KIND_AUDIO] ? " audio" : "",
      m->sends[KIND_VIDEO] ? " video" : "");
  member_negotiate (m);
}

static void
member_remove (Member * m)
{
  RelayRoom *room = m->room;
  Relay *relay = room->relay;
  TrackKind k;

  g_hash_table_remove (room->members, m->id);
  end_tracks (m);
  /* what it received: unlinked from the others' tees first */
  g_ptr_array_set_size (m->branches, 0);
  gst_element_set_locked_state (m->webrtc, TRUE);
  gst_element_set_state (m->webrtc, GST_STATE_NULL);
  gst_bin_remove (GST_BIN (relay->pipeline), m->webrtc);
  for (k = 0; k < N_KINDS; k++)
    gst_clear_object (&m->upload[k]);
  gst_clear_object (&m->upload_screen);
  answer_clear (m);
  m->room = NULL;
  room_maybe_free (room);
  member_unref (m);
}

static Member *
lookup (Relay * relay, JsonObject * msg, const gchar * id_member)
{
  RelayRoom *room = room_get (relay,
      json_object_get_string_member_with_default (msg, "room", ""), FALSE);
  const gchar *id = json_object_get_string_member_with_default (msg,
      id_member, "");

  return room ? g_hash_table_lookup (room->members, id) : NULL;
}

static void
handle_line (Relay * relay, const gchar * line)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonObject *msg;
  const gchar *op;
  Member *m;

  if (!json_parser_load_from_data (parser, line, -1, &error)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser))) {
    g_printerr ("noom-relay: a line that is not a JSON object: %s\n",
        error ? error->message : line);
    return;
  }
  msg = json_node_get_object (json_parser_get_root (parser));
  op = json_object_get_string_member_with_default (msg, "op", "");
  GST_DEBUG ("from noom-server: %s", line);
  if (!g_strcmp0 (op, "join") || !g_strcmp0 (op, "update")) {
    JsonObject *p = json_object_has_member (msg, "participant") &&
        JSON_NODE_HOLDS_OBJECT (json_object_get_member (msg, "participant")) ?
        json_object_get_object_member (msg, "participant") : NULL;
    const gchar *room = json_object_get_string_member_with_default (msg,
        "room", NULL);

    if (!p || !room) {
      g_printerr ("noom-relay: %s without room or participant\n", op);
    } else if (!g_strcmp0 (op, "join")) {
      handle_join (relay, room, p,
          json_object_get_string_member_with_default (msg, "offer", NULL),
          json_object_get_string_member_with_default (msg, "play", NULL));
    } else {
      RelayRoom *r = room_get (relay, room, FALSE);

      m = r ? g_hash_table_lookup (r->members,
          json_object_get_string_member_with_default (p, "id", "")) : NULL;
      if (m)
        member_set_participant (m, p);
    }
  } else if (!g_strcmp0 (op, "leave")) {
    if ((m = lookup (relay, msg, "id"))) {
      g_message ("leave room=\"%s\" id=%s", m->room->name, m->id);
      member_remove (m);
    }
  } else if (!g_strcmp0 (op, "answer")) {
    JsonNode *d = json_object_get_member (msg, "description");

    if ((m = lookup (relay, msg, "from")) && d && JSON_NODE_HOLDS_OBJECT (d))
      handle_answer (m, json_node_get_object (d));
  } else if (!g_strcmp0 (op, "ice")) {
    if ((m = lookup (relay, msg, "from")))
      handle_ice (m, json_object_get_member (msg, "candidate"));
  } else if (!g_strcmp0 (op, "restart")) {
    const gchar *ufrag = json_object_get_string_member_with_default (msg,
        "ufrag", NULL);
    const gchar *pwd = json_object_get_string_member_with_default (msg,
        "pwd", NULL);

    if (!(m = lookup (relay, msg, "from")))
      g_printerr ("noom-relay: a restart for no one\n");
    else if (!ufrag || !pwd || !m->answering)
      send_error (m, "bad_restart", "an ICE restart needs ufrag and pwd, "
          "for an HTTP participant");
    else
      answer_restart (m, ufrag, pwd);
  } else if (!g_strcmp0 (op, "offer_failed")) {
    if ((m = lookup (relay, msg, "from"))) {
      g_printerr ("noom-relay: %s could not apply the offer: %s\n", m->id,
          line);
      m->offering = FALSE;
    }
  } else {
    g_printerr ("noom-relay: unknown op \"%s\"\n", op);
  }
}

static void read_next (Relay * relay, GDataInputStream * in);

static void
on_line (GObject * source, GAsyncResult * res, gpointer data)
{
  Relay *relay = data;
  g_autoptr (GError) error = NULL;
  gsize len;
  g_autofree gchar *line =
      g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source),
      res, &len, &error);

  if (!line) {
    if (error && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_printerr ("noom-relay: reading from noom-server: %s\n", error->message);
    /* noom-server is gone: so are the rooms */
    g_main_loop_quit (relay->loop);
    return;
  }
  if (*line)
    handle_line (relay, line);
  read_next (relay, G_DATA_INPUT_STREAM (source));
}

static void
read_next (Relay * relay, GDataInputStream * in)
{
  g_data_input_stream_read_line_async (in, G_PRIORITY_DEFAULT,
      relay->reading, on_line, relay);
}

/* Shutting down: every member goes as on a leave, and what they left
 * pending in the main loop runs, so nothing is left behind. */
static void
remove_everyone (Relay * relay)
{
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  GHashTableIter iter;
  RelayRoom *room;
  guint i;

  g_hash_table_iter_init (&iter, relay->rooms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) & room)) {
    GHashTableIter members;
    Member *m;

    g_hash_table_iter_init (&members, room->members);
    while (g_hash_table_iter_next (&members, NULL, (gpointer *) & m))
      g_ptr_array_add (all, m);
  }
  for (i = 0; i < all->len; i++)
    member_remove (all->pdata[i]);
  g_cancellable_cancel (relay->reading);
  while (g_main_context_iteration (NULL, FALSE));
}

static gboolean
on_stop_signal (gpointer data)
{
  Relay *relay = data;

  g_main_loop_quit (relay->loop);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * message, gpointer data)
{
  Relay *relay = data;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_LATENCY) {
    /* a new member's jitterbuffer: the sending sessions need the
     * pipeline's latency to stamp their sender reports */
    gst_bin_recalculate_latency (GST_BIN (relay->pipeline));
  } else if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) error = NULL;
    g_autofree gchar *debug = NULL;

    /* one participant's element failing is that participant's problem */
    gst_message_parse_error (message, &error, &debug);
    g_printerr ("noom-relay: %s: %s (%s)\n",
        GST_OBJECT_NAME (GST_MESSAGE_SRC (message)), error->message,
        GST_STR_NULL (debug));
  }
  return G_SOURCE_CONTINUE;
}

int
main (int argc, char **argv)
{
  Relay relay = { 0, };
  gint latency = 20, rtcp_interval = 100, connect_timeout = 30, control;
  gboolean version = FALSE;
  g_autoptr (GError) error = NULL;
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GDataInputStream) in = NULL;
  GInputStream *stdin_stream;
  GOptionEntry entries[] = {
    {"latency", 0, 0, G_OPTION_ARG_INT, &latency,
        "Jitterbuffer of the publishers' streams, ms: the time a lost packet "
          "has to be sent again (default 20)", "MS"},
    {"rtcp-interval", 0, 0, G_OPTION_ARG_INT, &rtcp_interval,
        "Shortest time between two regular RTCP reports to a participant "
          "that sends: a keyframe request waits for the next one when it "
          "cannot go at once (ms, default 100)", "MS"},
    {"connect-timeout", 0, 0, G_OPTION_ARG_INT, &connect_timeout,
        "Seconds an HTTP participant (WHIP, WHEP) has to connect after its "
          "answer before the server is told it is gone (default 30)", "S"},
    {"local-address", 0, 0, G_OPTION_ARG_STRING_ARRAY, &relay.local_addresses,
        "An address ICE also offers (repeatable; default 127.0.0.1)", "IP"},
    {"stun-server", 0, 0, G_OPTION_ARG_STRING, &relay.stun_server,
        "stun://host:port", "URL"},
    {"turn-server", 0, 0, G_OPTION_ARG_STRING_ARRAY, &relay.turn_servers,
        "turn(s)://user:password@host:port (repeatable)", "URL"},
    {"version", 0, 0, G_OPTION_ARG_NONE, &version, "Print the version", NULL},
    {NULL}
  };

  setlocale (LC_ALL, "");
  ctx = g_option_context_new ("- the media relay of noom-server --sfu");
  g_option_context_set_description (ctx, "noom-server starts it: it reads "
      "the server's messages on stdin and writes its own on stdout, one JSON "
      "object per line (docs/server-internals.md).");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &error)) {
    g_printerr ("noom-relay: %s\n", error->message);
    return 2;
  }
  if (version) {
    printf ("noom-relay %s\n", VERSION);
    return 0;
  }
  if (latency < 0 || latency > 10000) {
    g_printerr ("noom-relay: --latency must be 0 to 10000 ms\n");
    return 2;
  }
  relay.latency = latency;
  if (rtcp_interval < 10 || rtcp_interval > 5000) {
    g_printerr ("noom-relay: --rtcp-interval must be 10 to 5000 ms\n");
    return 2;
  }
  relay.rtcp_interval = (guint64) rtcp_interval *GST_MSECOND;
  if (connect_timeout < 1 || connect_timeout > 3600) {
    g_printerr ("noom-relay: --connect-timeout must be 1 to 3600 s\n");
    return 2;
  }
  relay.connect_timeout = connect_timeout;
  if (!relay.local_addresses)
    relay.local_addresses = g_strsplit ("127.0.0.1", ",", -1);
  GST_DEBUG_CATEGORY_INIT (relay_debug, "noomrelay", 0, "Noom media relay");
  if (!gst_element_factory_find ("webrtcbin")) {
    g_printerr ("noom-relay: the GStreamer element webrtcbin is missing "
        "(Debian: gstreamer1.0-plugins-bad, gstreamer1.0-nice)\n");
    return 1;
  }

  /* stdout is the control channel: nothing else may write to it, so the
   * rest of the process writes to stderr */
  control = dup (STDOUT_FILENO);
  if (control < 0 || dup2 (STDERR_FILENO, STDOUT_FILENO) < 0) {
    g_printerr ("noom-relay: cannot set up the control channel\n");
    return 1;
  }
  relay.out = g_unix_output_stream_new (control, TRUE);
  relay.loop = g_main_loop_new (NULL, FALSE);
  relay.rooms = g_hash_table_new (g_str_hash, g_str_equal);
  relay.pipeline = gst_pipeline_new ("relay");
  gst_bus_add_watch (GST_ELEMENT_BUS (relay.pipeline), on_bus_message, &relay);
  gst_element_set_state (relay.pipeline, GST_STATE_PLAYING);

  stdin_stream = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  in = g_data_input_stream_new (stdin_stream);
  g_object_unref (stdin_stream);
  relay.reading = g_cancellable_new ();
  read_next (&relay, in);
  g_unix_signal_add (SIGINT, on_stop_signal, &relay);
  g_unix_signal_add (SIGTERM, on_stop_signal, &relay);
  {
    JsonBuilder *b = message_begin ("ready", NULL);

    message_send (&relay, b);
  }
  g_timeout_add_seconds (STATS_INTERVAL_S, send_stats, &relay);
  g_timeout_add (ADAPT_INTERVAL_MS, adapt, &relay);
  g_message ("ready (pid %d)", (int) getpid ());
  g_main_loop_run (relay.loop);

  remove_everyone (&relay);
  gst_element_set_state (relay.pipeline, GST_STATE_NULL);
  gst_object_unref (relay.pipeline);
  g_hash_table_unref (relay.rooms);
  g_object_unref (relay.reading);
  g_object_unref (relay.out);
  g_main_loop_unref (relay.loop);
  g_strfreev (relay.local_addresses);
  g_strfreev (relay.turn_servers);
  g_free (relay.stun_server);
  return 0;
}
