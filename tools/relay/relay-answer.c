/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HTTP participants of noom-relay: a WHIP publisher or a WHEP player
 * (docs/server.md, "WHIP and WHEP") posts an offer to noom-server, which
 * hands it over in its `join`; the relay answers it, once, with its ICE
 * candidates in the answer (WHIP has no trickle from the server), and
 * never renegotiates.
 *
 *   WHIP  every m-line the client sends on gets a recvonly transceiver:
 *         its track is forwarded to the room like anyone's
 *   WHEP  every m-line the client receives on gets a branch of the played
 *         participant's track of that kind (relay-forward.c), numbered
 *         with the client's payload type
 *
 * The transceivers are made before the offer is set, in the offer's
 * order: webrtcbin gives each m-line of a remote offer the first
 * transceiver not yet given one.
 */
#include "relay.h"
#include "noom-sdp.h"

#include <stdlib.h>
#include <string.h>

GST_DEBUG_CATEGORY_EXTERN (relay_debug);
#define GST_CAT_DEFAULT relay_debug

/* How long a WHEP player waits for the tracks of whom it plays (one that
 * joined a moment ago has not sent its first packet yet). */
#define PLAY_WAIT (3 * G_USEC_PER_SEC)
/* How long an answer waits for the relay's ICE candidates. */
#define GATHER_WAIT (2 * G_USEC_PER_SEC)
/* Without STUN or TURN servers, every candidate is a host candidate,
 * which libnice finds at once, but it says gathering is complete only
 * 200 ms later: the answer goes this long after the last candidate. */
#define HOST_SETTLE_MS 20
#define POLL_MS 50

static const gchar *
media_direction (const GstSDPMedia * media)
{
  guint i;

  for (i = 0; i < gst_sdp_media_attributes_len (media); i++) {
    const gchar *key = gst_sdp_media_get_attribute (media, i)->key;

    if (!g_strcmp0 (key, "sendonly") || !g_strcmp0 (key, "recvonly")
        || !g_strcmp0 (key, "inactive") || !g_strcmp0 (key, "sendrecv"))
      return key;
  }
  return "sendrecv";
}

static gboolean
media_kind (const GstSDPMedia * media, TrackKind * kind)
{
  const gchar *name = gst_sdp_media_get_media (media);

  if (!g_strcmp0 (name, "audio"))
    *kind = KIND_AUDIO;
  else if (!g_strcmp0 (name, "video"))
    *kind = KIND_VIDEO;
  else
    return FALSE;
  return TRUE;
}

/* The caps of payload type @pt of @media, with its media named. */
static GstCaps *
media_caps (const GstSDPMedia * media, gint pt)
{
  GstCaps *caps = gst_sdp_media_get_caps_from_media (media, pt);

  if (caps) {
    caps = gst_caps_make_writable (caps);
    gst_structure_set_name (gst_caps_get_structure (caps, 0),
        "application/x-rtp");
    gst_caps_set_simple (caps, "media", G_TYPE_STRING,
        gst_sdp_media_get_media (media), NULL);
  }
  return caps;
}

/* The first payload type of @media (in the offer's order of preference)
 * whose codec the relay forwards as @kind, or -1; with @want >= 0, only
 * that codec.  @codec gets the codec, @names the codecs it offers
 * instead. */
static gint
media_payload (const GstSDPMedia * media, TrackKind kind, gint want,
    gint * codec, GString * names)
{
  guint i;

  for (i = 0; i < gst_sdp_media_formats_len (media); i++) {
    gint pt = atoi (gst_sdp_media_get_format (media, i));
    g_autoptr (GstCaps) caps = gst_sdp_media_get_caps_from_media (media, pt);
    const GstStructure *s;
    const gchar *name;
    gint rate = 0, c;

    if (!caps)
      continue;
    s = gst_caps_get_structure (caps, 0);
    name = gst_structure_get_string (s, "encoding-name");
    gst_structure_get_int (s, "clock-rate", &rate);
    c = forward_codec_find (kind, name, rate);
    if (c >= 0 && (want < 0 || c == want)) {
      if (codec)
        *codec = c;
      return pt;
    }
    if (names && name && !strstr (names->str, name)
        && g_ascii_strcasecmp (name, "rtx") && g_ascii_strcasecmp (name, "red")
        && g_ascii_strcasecmp (name, "ulpfec")
        && g_ascii_strcasecmp (name, "telephone-event"))
      g_string_append_printf (names, "%s%s", names->len ? ", " : "", name);
  }
  return -1;
}

/* An m-line of the offer that carries nothing here: a transceiver that
 * keeps the following m-lines in their places. */
static void
add_inactive (Member * m, const GstSDPMedia * media)
{
  GstWebRTCRTPTransceiver *trans = NULL;
  g_autoptr (GstCaps) caps = NULL;

  if (gst_sdp_media_formats_len (media))
    caps = media_caps (media, atoi (gst_sdp_media_get_format (media, 0)));
  g_signal_emit_by_name (m->webrtc, "add-transceiver",
      GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_INACTIVE, caps, &trans);
  gst_clear_object (&trans);
  m->mlines++;
}

/* The answer fails: the server fails the client's request with @code. */
static void
answer_fail (Member * m, const gchar * code, const gchar * message)
{
  g_message ("%s's offer: %s (%s)", m->id, message, code);
  if (!m->gone_sent)
    send_error (m, code, message);
  m->gone_sent = TRUE;
  if (m->wait_source) {
    g_source_remove (m->wait_source);
    m->wait_source = 0;
  }
}

/* ---- sending the answer ---- */

static void
send_gone (Member * m, const gchar * reason)
{
  JsonBuilder *b;

  if (m->gone_sent)
    return;
  m->gone_sent = TRUE;
  g_message ("%s is gone: %s", m->id, reason);
  b = message_begin ("gone", m);
  json_builder_set_member_name (b, "reason");
  json_builder_add_string_value (b, reason);
  message_send (m->room->relay, b);
}

static gboolean
connect_timeout (gpointer data)
{
  Member *m = data;

  m->connect_source = 0;
  send_gone (m, "its connection did not come up in time after the answer");
  return G_SOURCE_REMOVE;
}

static void
send_answer (Member * m)
{
  g_autoptr (GstWebRTCSessionDescription) answer = m->local_answer;
  GstSDPMessage *sdp;
  g_autofree gchar *text = NULL;
  JsonBuilder *b;
  guint i, n = 0;

  m->local_answer = NULL;
  if (m->wait_source) {
    g_source_remove (m->wait_source);
    m->wait_source = 0;
  }
  gst_sdp_message_copy (answer->sdp, &sdp);
  for (i = 0; i < m->gathered->len; i++) {
    Candidate *c = m->gathered->pdata[i];
    GstSDPMedia *media;

    if (c->mline >= gst_sdp_message_medias_len (sdp))
      continue;
    media = (GstSDPMedia *) gst_sdp_message_get_media (sdp, c->mline);
    gst_sdp_media_add_attribute (media, "candidate",
        g_str_has_prefix (c->candidate, "candidate:") ?
        c->candidate + strlen ("candidate:") : c->candidate);
    n++;
  }
  if (m->gathering_done && gst_sdp_message_medias_len (sdp))
    gst_sdp_media_add_attribute ((GstSDPMedia *)
        gst_sdp_message_get_media (sdp, 0), "end-of-candidates", "");
  /* kept: an ICE restart that gathers nothing new (libnice keeps its
   * candidates) answers with them again */

  if (m->restarting) {
    const GstSDPMedia *first = gst_sdp_message_get_media (sdp, 0);

    m->restarting = FALSE;
    b = message_begin ("restarted", m);
    json_builder_set_member_name (b, "ufrag");
    json_builder_add_string_value (b, first ?
        gst_sdp_media_get_attribute_val (first, "ice-ufrag") : "");
    json_builder_set_member_name (b, "pwd");
    json_builder_add_string_value (b, first ?
        gst_sdp_media_get_attribute_val (first, "ice-pwd") : "");
    json_builder_set_member_name (b, "candidates");
    json_builder_begin_array (b);
    for (i = 0; first && i < gst_sdp_media_attributes_len (first); i++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (first, i);

      if (!g_strcmp0 (a->key, "candidate")) {
        g_autofree gchar *line = g_strconcat ("candidate:", a->value, NULL);

        json_builder_add_string_value (b, line);
      }
    }
    json_builder_end_array (b);
    g_message ("%s: ICE restarted (%u candidates)", m->id, n);
  } else {
    text = gst_sdp_message_as_text (sdp);
    b = message_begin ("answer", m);
    json_builder_set_member_name (b, "description");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "type");
    json_builder_add_string_value (b, "answer");
    json_builder_set_member_name (b, "sdp");
    json_builder_add_string_value (b, text);
    json_builder_end_object (b);
    m->answer_sent = TRUE;
    m->connect_source = g_timeout_add_seconds
        (m->room->relay->connect_timeout, connect_timeout, m);
    g_message ("answer to %s (%u m-lines, %u candidates%s)", m->id,
        gst_sdp_message_medias_len (sdp), n,
        m->gathering_done ? "" : ", gathering not done");
    GST_LOG ("answer to %s:\n%s", m->id, text);
  }
  gst_sdp_message_free (sdp);
  message_send (m->room->relay, b);
}

static gboolean
gather_timeout (gpointer data)
{
  Member *m = data;

  m->wait_source = 0;
  if (m->local_answer)
    send_answer (m);
  return G_SOURCE_REMOVE;
}

static gboolean
host_only (Member * m)
{
  Relay *relay = m->room->relay;

  return !relay->stun_server && !(relay->turn_servers
      && relay->turn_servers[0]);
}

/* The answer is set: it goes once the candidates are in, or after
 * GATHER_WAIT whatever came by then. */
static void
answer_set (Member * m, gpointer data)
{
  GstWebRTCSessionDescription *answer = data;
  GstWebRTCICEGatheringState state;
  guint i;

  if (m->gone_sent)
    return;
  for (i = 0; !m->restarting && !m->play && i < N_KINDS; i++) {
    const GstSDPMedia *media;

    if (!m->upload[i] || m->upload_mline[i] >=
        gst_sdp_message_medias_len (answer->sdp))
      continue;
    media = gst_sdp_message_get_media (answer->sdp, m->upload_mline[i]);
    if (gst_sdp_media_get_port (media) == 0) {
      g_autofree gchar *text = g_strdup_printf ("the relay could not take "
          "the %s the offer sends", kind_name (i));

      answer_fail (m, "unsupported_codec", text);
      return;
    }
  }
  for (i = 0; i < m->branches->len; i++)
    ((Branch *) m->branches->pdata[i])->answered = TRUE;
  if (m->local_answer)
    gst_webrtc_session_description_free (m->local_answer);
  m->local_answer = gst_webrtc_session_description_copy (answer);
  g_object_get (m->webrtc, "ice-gathering-state", &state, NULL);
  if (state == GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    m->gathering_done = TRUE;
  if (m->gathering_done) {
    send_answer (m);
    return;
  }
  if (!m->wait_source)
    m->wait_source = g_timeout_add (host_only (m) && m->gathered->len ?
        HOST_SETTLE_MS : GATHER_WAIT / 1000, gather_timeout, m);
}

static void
answer_error (Member * m, gpointer data)
{
  if (m->restarting) {
    m->restarting = FALSE;
    send_error (m, "restart_unsupported", data);
  } else {
    answer_fail (m, "bad_offer", data);
  }
}

typedef struct
{
  Member *member;
  GstWebRTCSessionDescription *answer;
} Pending;

static void
pending_free (gpointer data)
{
  Pending *p = data;

  member_unref (p->member);
  if (p->answer)
    gst_webrtc_session_description_free (p->answer);
  g_free (p);
}

static gchar *
promise_error (GstPromise * promise, const gchar * what)
{
  const GstStructure *reply = gst_promise_get_reply (promise);
  GError *error = NULL;
  gchar *text = NULL;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED)
    return g_strdup_printf ("%s: no reply", what);
  if (reply && gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL)) {
    text = g_strdup_printf ("%s: %s", what, error->message);
    g_error_free (error);
  }
  return text;
}

static void
on_local_set (GstPromise * promise, gpointer data)
{
  Pending *p = data;
  gchar *error = promise_error (promise, "set-local-description");

  if (error)
    relay_invoke (p->member, answer_error, error, g_free);
  else
    relay_invoke (p->member, answer_set,
        gst_webrtc_session_description_copy (p->answer),
        (GDestroyNotify) gst_webrtc_session_description_free);
  gst_promise_unref (promise);
}

static gchar *
random_token (guint len)
{
  static const gchar chars[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  gchar *s = g_malloc (len + 1);
  guint i;

  for (i = 0; i < len; i++)
    s[i] = chars[g_random_int_range (0, 64)];
  s[len] = '\0';
  return s;
}

/* webrtcbin 1.22 answers an ICE restart with the credentials it had,
 * which restarts nothing: the answer gets new ones, which webrtcbin gives
 * its ICE agent when it sets the answer. */
static void
new_credentials (GstSDPMessage * sdp)
{
  g_autofree gchar *ufrag = random_token (32), *pwd = random_token (32);
  guint i, j;

  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    GstSDPMedia *media = (GstSDPMedia *) gst_sdp_message_get_media (sdp, i);

    for (j = 0; j < gst_sdp_media_attributes_len (media); j++) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, j);
      GstSDPAttribute copy;

      if (g_strcmp0 (a->key, "ice-ufrag") && g_strcmp0 (a->key, "ice-pwd"))
        continue;
      gst_sdp_attribute_set (&copy, a->key,
          !g_strcmp0 (a->key, "ice-ufrag") ? ufrag : pwd);
      gst_sdp_media_replace_attribute (media, j, &copy);
    }
  }
}

static void
on_answer_created (GstPromise * promise, gpointer data)
{
  Member *m = data;
  const GstStructure *reply = gst_promise_get_reply (promise);
  GstWebRTCSessionDescription *answer = NULL;
  gchar *error = promise_error (promise, "create-answer");
  Pending *p;

  if (!error && reply)
    gst_structure_get (reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION,
        &answer, NULL);
  gst_promise_unref (promise);
  if (!answer) {
    relay_invoke (m, answer_error, error ? error :
        g_strdup ("create-answer gave no answer"), g_free);
    return;
  }
  g_free (error);
  if (m->restarting)
    new_credentials (answer->sdp);
  p = g_new0 (Pending, 1);
  p->member = member_ref (m);
  p->answer = answer;
  g_signal_emit_by_name (m->webrtc, "set-local-description", answer,
      gst_promise_new_with_change_func (on_local_set, p, pending_free));
}

static void
offer_set (Member * m, gpointer data)
{
  if (m->gone_sent)
    return;
  g_signal_emit_by_name (m->webrtc, "create-answer", NULL,
      gst_promise_new_with_change_func (on_answer_created, member_ref (m),
          (GDestroyNotify) member_unref));
}

static void
on_offer_set (GstPromise * promise, gpointer data)
{
  Member *m = data;
  gchar *error = promise_error (promise, "the offer");

  if (error)
    relay_invoke (m, answer_error, error, g_free);
  else
    relay_invoke (m, offer_set, NULL, NULL);
  gst_promise_unref (promise);
}

static void
set_offer (Member * m)
{
  GstSDPMessage *copy;
  GstWebRTCSessionDescription *offer;

  gst_sdp_message_copy (m->remote_offer, &copy);
  offer = gst_webrtc_session_description_new (GST_WEBRTC_SDP_TYPE_OFFER, copy);
  g_signal_emit_by_name (m->webrtc, "set-remote-description", offer,
      gst_promise_new_with_change_func (on_offer_set, member_ref (m),
          (GDestroyNotify) member_unref));
  gst_webrtc_session_description_free (offer);
}

/* ---- the offer ---- */

static Track *
played_track (Member * m, TrackKind kind, gboolean * used)
{
  Member *target = g_hash_table_lookup (m->room->members, m->play);
  guint i;

  for (i = 0; target && i < target->tracks->len; i++) {
    Track *t = target->tracks->pdata[i];

    /* the camera, not a shared screen (WHEP plays one video) */
    if (t->kind == kind && !t->screen && t->owner && !used[kind]) {
      used[kind] = TRUE;
      return t;
    }
  }
  return NULL;
}

/* Makes the transceivers of @m's offer, in its order, and sets it. */
static void
take_offer (Member * m)
{
  GstSDPMessage *sdp = m->remote_offer;
  g_autoptr (GString) refused = g_string_new (NULL);
  gboolean used[N_KINDS] = { FALSE, };
  gboolean any = FALSE;
  guint i;

  for (i = 0; i < gst_sdp_message_medias_len (sdp); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (sdp, i);
    const gchar *dir = media_direction (media);
    g_autoptr (GString) names = g_string_new (NULL);
    TrackKind k;
    gint pt;

    if (!media_kind (media, &k) || gst_sdp_media_get_port (media) == 0)
      continue;                 /* webrtcbin answers those itself */
    if (!m->play) {
      gint codec = -1;
      gboolean sends = !g_strcmp0 (dir, "sendonly")
          || !g_strcmp0 (dir, "sendrecv");
      g_autoptr (GstCaps) caps = NULL;

      pt = media_payload (media, k, -1, &codec, names);
      if (sends && pt < 0) {
        g_string_append_printf (refused, "%s%s as %s", refused->len ?
            "; " : "", kind_name (k), names->len ? names->str : "nothing");
        add_inactive (m, media);
        continue;
      }
      if (!sends || m->upload[k]) {
        add_inactive (m, media);
        continue;
      }
      caps = media_caps (media, pt);
      m->upload_codec[k] = codec;
      m->upload_params[k] = gst_structure_copy (gst_caps_get_structure (caps,
              0));
      g_signal_emit_by_name (m->webrtc, "add-transceiver",
          GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY, caps, &m->upload[k]);
      if (m->upload[k] && k == KIND_VIDEO)
        g_object_set (m->upload[k], "do-nack", TRUE, NULL);
      m->upload_mline[k] = m->mlines++;
      m->sends[k] = TRUE;
      any = TRUE;
    } else {
      gboolean receives = !g_strcmp0 (dir, "recvonly")
          || !g_strcmp0 (dir, "sendrecv");
      Track *track = receives ? played_track (m, k, used) : NULL;

      pt = track ? media_payload (media, k, track->codec, NULL, NULL) : -1;
      if (pt < 0) {
        if (track)
          used[k] = FALSE;
        add_inactive (m, media);
        continue;
      }
      g_ptr_array_add (m->branches, branch_new_for_answer (track, m, i, pt));
      any = TRUE;
    }
  }
  if (refused->len) {
    g_autofree gchar *video = forward_codec_names (KIND_VIDEO);
    g_autofree gchar *audio = forward_codec_names (KIND_AUDIO);
    g_autofree gchar *text = g_strdup_printf ("the relay forwards video as "
        "%s and audio as %s only, and the offer sends %s", video, audio,
        refused->str);

    answer_fail (m, "unsupported_codec", text);
    return;
  }
  if (!any) {
    g_autofree gchar *text = m->play ? g_strdup_printf ("%s sends no "
        "audio or video that this offer receives in the codec it is sent "
        "in", m->play) : g_strdup ("the offer sends no audio or video");

    answer_fail (m, m->play ? "no_media" : "bad_offer", text);
    return;
  }
  set_offer (m);
}

/* Has the played participant started every track it said it sends? */
static gboolean
play_ready (Member * m, Member * target)
{
  gboolean have[N_KINDS] = { FALSE, };
  TrackKind k;
  guint i;

  for (i = 0; i < target->tracks->len; i++) {
    Track *t = target->tracks->pdata[i];

    if (!t->screen)
      have[t->kind] = TRUE;
  }
  for (k = 0; k < N_KINDS; k++)
    if (target->sends[k] && !have[k])
      return FALSE;
  return TRUE;
}

static gboolean
play_poll (gpointer data)
{
  Member *m = data;
  Member *target = g_hash_table_lookup (m->room->members, m->play);

  if (!target) {
    g_autofree gchar *text = g_strdup_printf ("%s is not in room \"%s\" "
        "(or not connected to the relay)", m->play, m->room->name);

    m->wait_source = 0;
    answer_fail (m, "no_media", text);
    return G_SOURCE_REMOVE;
  }
  if (!play_ready (m, target) && g_get_monotonic_time () < m->wait_until)
    return G_SOURCE_CONTINUE;
  m->wait_source = 0;
  take_offer (m);
  return G_SOURCE_REMOVE;
}

void
answer_start (Member * m, const gchar * offer)
{
  GstSDPMessage *sdp = NULL;

  /* An offer may give each m-line of its BUNDLE group a transport of its
   * own (RFC 8843 allows it; aiortc does), which webrtcbin 1.22 refuses:
   * the answer accepts the bundle, so only the tagged m-line's transport
   * counts (noom-sdp.h). */
  g_autofree gchar *bundled = offer ? noom_sdp_normalize_bundle (offer) : NULL;

  m->gathered = g_ptr_array_new_with_free_func (candidate_free);
  if (!bundled || gst_sdp_message_new_from_text (bundled, &sdp) != GST_SDP_OK
      || gst_sdp_message_medias_len (sdp) == 0) {
    if (sdp)
      gst_sdp_message_free (sdp);
    answer_fail (m, "bad_offer", "the offer is not SDP with media");
    return;
  }
  m->remote_offer = sdp;
  if (!m->play) {
    take_offer (m);
    return;
  }
  m->wait_until = g_get_monotonic_time () + PLAY_WAIT;
  if (play_poll (m) == G_SOURCE_CONTINUE)
    m->wait_source = g_timeout_add (POLL_MS, play_poll, m);
}

/* ---- ICE ---- */

void
answer_candidate (Member * m, guint mline, const gchar * candidate)
{
  Candidate *c;

  if (!m->gathered || (m->answer_sent && !m->restarting))
    return;                     /* no trickle to an HTTP client */
  if (!candidate || !*candidate) {
    answer_gathering_changed (m);
    return;
  }
  c = g_new0 (Candidate, 1);
  c->mline = mline;
  c->candidate = g_strdup (candidate);
  g_ptr_array_add (m->gathered, c);
  if (m->local_answer && host_only (m)) {
    if (m->wait_source)
      g_source_remove (m->wait_source);
    m->wait_source = g_timeout_add (HOST_SETTLE_MS, gather_timeout, m);
  }
}

void
answer_gathering_changed (Member * m)
{
  GstWebRTCICEGatheringState state;

  g_object_get (m->webrtc, "ice-gathering-state", &state, NULL);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE)
    return;
  m->gathering_done = TRUE;
  if (m->local_answer)
    send_answer (m);
}

void
answer_connection_changed (Member * m, GstWebRTCPeerConnectionState state)
{
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
    g_message ("%s is connected", m->id);
    if (m->connect_source) {
      g_source_remove (m->connect_source);
      m->connect_source = 0;
    }
  }
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED)
    send_gone (m, "its connection failed");
  else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED)
    send_gone (m, "its connection closed");
}

/* An ICE restart (a PATCH with new credentials): the offer again, with
 * them, and the answer's new credentials and candidates back. */
void
answer_restart (Member * m, const gchar * ufrag, const gchar * pwd)
{
  guint i, j;

  if (!m->answer_sent || m->restarting || m->gone_sent) {
    send_error (m, "restart_unsupported", "an ICE restart before the "
        "answer, or during another one");
    return;
  }
  for (i = 0; i < gst_sdp_message_medias_len (m->remote_offer); i++) {
    GstSDPMedia *media =
        (GstSDPMedia *) gst_sdp_message_get_media (m->remote_offer, i);

    for (j = gst_sdp_media_attributes_len (media); j > 0; j--) {
      const GstSDPAttribute *a = gst_sdp_media_get_attribute (media, j - 1);

      if (!g_strcmp0 (a->key, "candidate")
          || !g_strcmp0 (a->key, "end-of-candidates")
          || !g_strcmp0 (a->key, "ice-ufrag") || !g_strcmp0 (a->key, "ice-pwd"))
        gst_sdp_media_remove_attribute (media, j - 1);
    }
    gst_sdp_media_add_attribute (media, "ice-ufrag", ufrag);
    gst_sdp_media_add_attribute (media, "ice-pwd", pwd);
  }
  for (j = gst_sdp_message_attributes_len (m->remote_offer); j > 0; j--) {
    const GstSDPAttribute *a =
        gst_sdp_message_get_attribute (m->remote_offer, j - 1);

    if (!g_strcmp0 (a->key, "ice-ufrag") || !g_strcmp0 (a->key, "ice-pwd"))
      gst_sdp_message_remove_attribute (m->remote_offer, j - 1);
  }
  g_message ("%s: ICE restart", m->id);
  m->restarting = TRUE;
  m->gathering_done = FALSE;
  set_offer (m);
}

void
answer_clear (Member * m)
{
  if (m->connect_source) {
    g_source_remove (m->connect_source);
    m->connect_source = 0;
  }
  if (m->wait_source) {
    g_source_remove (m->wait_source);
    m->wait_source = 0;
  }
  if (m->remote_offer) {
    gst_sdp_message_free (m->remote_offer);
    m->remote_offer = NULL;
  }
  if (m->local_answer) {
    gst_webrtc_session_description_free (m->local_answer);
    m->local_answer = NULL;
  }
  if (m->gathered) {
    g_ptr_array_unref (m->gathered);
    m->gathered = NULL;
  }
}
