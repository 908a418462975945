/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-protocol: the wire format of docs/protocol.md (see noom-protocol.h).
 * The error messages are wire text (docs/protocol.md §4): change them only
 * together with the clients and tests that read them.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-packet.h"
#include "noom-protocol.h"

/* ------------------------------------------------------------ JSON reading */

/* Argument @i of an event array (the event name is 0), or NULL when there
 * are fewer. */
static JsonNode *
arg (JsonArray * args, guint i)
{
  if (args == NULL || i >= json_array_get_length (args))
    return NULL;
  return json_array_get_element (args, i);
}

static JsonObject *
node_object (JsonNode * node)
{
  return node && JSON_NODE_HOLDS_OBJECT (node) ?
      json_node_get_object (node) : NULL;
}

static JsonArray *
node_array (JsonNode * node)
{
  return node && JSON_NODE_HOLDS_ARRAY (node) ?
      json_node_get_array (node) : NULL;
}

/* Missing, or a JSON null: both mean "not given" for an optional
 * argument or option. */
static gboolean
node_absent (JsonNode * node)
{
  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

static const gchar *
get_string_member (JsonObject * object, const gchar * name)
{
  return object ? noom_json_node_get_string (json_object_get_member (object,
          name)) : NULL;
}

static gboolean
get_int_member (JsonObject * object, const gchar * name, gint64 * value)
{
  return object
      && noom_json_node_get_int (json_object_get_member (object, name), value);
}

static JsonObject *
get_object_member (JsonObject * object, const gchar * name)
{
  return object ? node_object (json_object_get_member (object, name)) : NULL;
}

static JsonArray *
get_array_member (JsonObject * object, const gchar * name)
{
  return object ? node_array (json_object_get_member (object, name)) : NULL;
}

static gboolean
bad_argument (GError ** error, const gchar * message)
{
  g_set_error_literal (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
      message);
  return FALSE;
}

/* A node holding @object (transfer full). */
static JsonNode *
object_node (JsonObject * object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

/* An event array: the name, then the arguments. */
static JsonArray *
event_new (const gchar * name)
{
  JsonArray *event = json_array_new ();

  json_array_add_string_element (event, name);
  return event;
}

/* ------------------------------------------------------------------ errors */

G_DEFINE_QUARK (noom - room - error - quark, noom_room_error);

static const gchar *const error_codes[] = {
  [NOOM_ROOM_ERROR_BAD_ARGUMENT] = "bad_argument",
  [NOOM_ROOM_ERROR_BAD_NAME] = "bad_name",
  [NOOM_ROOM_ERROR_NAME_TOO_LONG] = "name_too_long",
  [NOOM_ROOM_ERROR_ROOM_FULL] = "room_full",
  [NOOM_ROOM_ERROR_NOT_IN_ROOM] = "not_in_room",
  [NOOM_ROOM_ERROR_UNKNOWN_PEER] = "unknown_peer",
  [NOOM_ROOM_ERROR_UNKNOWN_EVENT] = "unknown_event",
  [NOOM_ROOM_ERROR_RATE_LIMITED] = "rate_limited",
  [NOOM_ROOM_ERROR_FORBIDDEN] = "forbidden",
  [NOOM_ROOM_ERROR_SFU_REQUIRED] = "sfu_required",
  [NOOM_ROOM_ERROR_UNSUPPORTED_CODEC] = "unsupported_codec",
  [NOOM_ROOM_ERROR_UNAVAILABLE] = "unavailable",
};

const gchar *
noom_room_error_to_code (NoomRoomError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_codes))
    return "bad_argument";
  return error_codes[code];
}

/* ------------------------------------------------------------------ limits */

void
noom_room_limits_init (NoomRoomLimits * limits)
{
  limits->max_room_size = NOOM_ROOM_DEFAULT_MAX_ROOM_SIZE;
  limits->max_room_name = NOOM_ROOM_DEFAULT_MAX_ROOM_NAME;
  limits->max_nickname = NOOM_ROOM_DEFAULT_MAX_NICKNAME;
  limits->max_message = NOOM_ROOM_DEFAULT_MAX_MESSAGE;
}

static gboolean
is_control (gunichar c)
{
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f);
}

gboolean
noom_room_validate_name (const gchar * name, gssize len, guint max_chars,
    const gchar * what, GError ** error)
{
  const gchar *p, *end;
  gsize n_chars = 0;
  gboolean blank = TRUE;

  if (name == NULL) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s is missing", what);
    return FALSE;
  }
  if (len < 0)
    len = strlen (name);
  end = name + len;

  /* An embedded NUL makes g_utf8_validate stop early: report it as the
   * control character it is rather than as bad UTF-8. */
  if (memchr (name, '\0', len) != NULL) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s contains control characters", what);
    return FALSE;
  }
  if (!g_utf8_validate (name, len, NULL)) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s is not valid UTF-8", what);
    return FALSE;
  }
  if (len == 0) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s is empty", what);
    return FALSE;
  }

  for (p = name; p < end; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (is_control (c)) {
      g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
          "%s contains control characters", what);
      return FALSE;
    }
    if (!g_unichar_isspace (c) && c != 0x200b && c != 0xfeff)
      blank = FALSE;
    n_chars++;
  }

  if (blank) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s is blank", what);
    return FALSE;
  }
  if (n_chars > max_chars) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_NAME_TOO_LONG,
        "%s is longer than %u characters", what, max_chars);
    return FALSE;
  }
  return TRUE;
}

gboolean
noom_room_validate_message (const gchar * text, gssize len, gsize max_bytes,
    GError ** error)
{
  if (text == NULL) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "message is missing");
    return FALSE;
  }
  if (len < 0)
    len = strlen (text);
  if (len == 0) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "message is empty");
    return FALSE;
  }
  if ((gsize) len > max_bytes) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_NAME_TOO_LONG,
        "message is longer than %" G_GSIZE_FORMAT " bytes", max_bytes);
    return FALSE;
  }
  if (memchr (text, '\0', len) != NULL) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "message contains a NUL character");
    return FALSE;
  }
  if (!g_utf8_validate (text, len, NULL)) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "message is not valid UTF-8");
    return FALSE;
  }
  return TRUE;
}


/* ------------------------------------------------------------------- media */

gboolean
noom_media_from_string (const gchar * name, NoomMediaFlags * flag)
{
  if (g_strcmp0 (name, "audio") == 0)
    *flag = NOOM_MEDIA_AUDIO;
  else if (g_strcmp0 (name, "video") == 0)
    *flag = NOOM_MEDIA_VIDEO;
  else
    return FALSE;
  return TRUE;
}

const gchar *
noom_media_flags_to_string (NoomMediaFlags media)
{
  switch (media & (NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO)) {
    case NOOM_MEDIA_AUDIO:
      return "audio";
    case NOOM_MEDIA_VIDEO:
      return "video";
    case NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO:
      return "audio and video";
    default:
      return "nothing";
  }
}

/* ------------------------------------------------------------- media modes */

gboolean
noom_media_mode_from_string (const gchar * name, NoomMediaModes * mode)
{
  if (g_strcmp0 (name, NOOM_MEDIA_MODE_NAME_MESH) == 0)
    *mode = NOOM_MEDIA_MODE_MESH;
  else if (g_strcmp0 (name, NOOM_MEDIA_MODE_NAME_SFU) == 0)
    *mode = NOOM_MEDIA_MODE_SFU;
  else
    return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------- features */

gboolean
noom_feature_from_string (const gchar * name, NoomFeatures * flag)
{
  if (g_strcmp0 (name, NOOM_FEATURE_NAME_SCREEN) == 0)
    *flag = NOOM_FEATURE_SCREEN;
  else
    return FALSE;
  return TRUE;
}

static JsonArray *
features_to_json (NoomFeatures features)
{
  JsonArray *array = json_array_new ();

  if (features & NOOM_FEATURE_SCREEN)
    json_array_add_string_element (array, NOOM_FEATURE_NAME_SCREEN);
  return array;
}

/* The known names of @array (what is not a string is skipped). */
static NoomFeatures
features_from_json (JsonArray * array)
{
  NoomFeatures features = NOOM_FEATURE_NONE;
  guint i;

  for (i = 0; i < json_array_get_length (array); i++) {
    NoomFeatures f;

    if (noom_feature_from_string (noom_json_node_get_string
            (json_array_get_element (array, i)), &f))
      features |= f;
  }
  return features;
}

/* ------------------------------------------------------------- media state */

static const struct
{
  const gchar *name;
  NoomMediaState flag;
} media_states[] = {
  {"audio", NOOM_MEDIA_STATE_AUDIO},
  {"video", NOOM_MEDIA_STATE_VIDEO},
  {"screen", NOOM_MEDIA_STATE_SCREEN},
};

NoomMediaState
noom_media_state_allowed (NoomMediaFlags sends)
{
  NoomMediaState allowed = NOOM_MEDIA_STATE_NONE;

  if (sends & NOOM_MEDIA_AUDIO)
    allowed |= NOOM_MEDIA_STATE_AUDIO;
  if (sends & NOOM_MEDIA_VIDEO)
    allowed |= NOOM_MEDIA_STATE_VIDEO | NOOM_MEDIA_STATE_SCREEN;
  return allowed;
}

JsonObject *
noom_protocol_encode_media_state (NoomMediaState state)
{
  JsonObject *o = json_object_new ();
  guint i;

  for (i = 0; i < G_N_ELEMENTS (media_states); i++)
    json_object_set_boolean_member (o, media_states[i].name,
        (state & media_states[i].flag) != 0);
  return o;
}

/* The members of @o named like a state: *@given those present, the
 * result those true.  FALSE when one is present but not a boolean. */
static gboolean
decode_media_state (JsonObject * o, NoomMediaState * state,
    NoomMediaState * given)
{
  gboolean ok = TRUE;
  guint i;

  *state = *given = NOOM_MEDIA_STATE_NONE;
  for (i = 0; i < G_N_ELEMENTS (media_states); i++) {
    JsonNode *node = json_object_get_member (o, media_states[i].name);

    if (node == NULL)
      continue;
    if (!JSON_NODE_HOLDS_VALUE (node)
        || json_node_get_value_type (node) != G_TYPE_BOOLEAN) {
      ok = FALSE;
      continue;
    }
    *given |= media_states[i].flag;
    if (json_node_get_boolean (node))
      *state |= media_states[i].flag;
  }
  return ok;
}

/* ------------------------------------------------------------------- kinds */

static const gchar *const kind_names[] = {
  [NOOM_KIND_BROWSER] = "browser",
  [NOOM_KIND_PUBLISHER] = "publisher",
  [NOOM_KIND_SUBSCRIBER] = "subscriber",
  [NOOM_KIND_RECORDER] = "recorder",
};

const gchar *
noom_kind_to_string (NoomKind kind)
{
  g_return_val_if_fail ((guint) kind <= NOOM_KIND_LAST, NULL);
  return kind_names[kind];
}

gboolean
noom_kind_from_string (const gchar * name, NoomKind * kind)
{
  guint i;

  if (name == NULL)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (kind_names); i++) {
    if (strcmp (name, kind_names[i]) == 0) {
      *kind = i;
      return TRUE;
    }
  }
  return FALSE;
}

NoomMediaFlags
noom_kind_default_sends (NoomKind kind)
{
  switch (kind) {
    case NOOM_KIND_BROWSER:
    case NOOM_KIND_PUBLISHER:
      return NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO;
    case NOOM_KIND_SUBSCRIBER:
    case NOOM_KIND_RECORDER:
    default:
      return NOOM_MEDIA_NONE;
  }
}

/* ------------------------------------------------------------ participants */

/* The public struct followed by the reference count */
typedef struct
{
  NoomParticipant p;
  gatomicrefcount ref;
} Participant;

G_DEFINE_BOXED_TYPE (NoomParticipant, noom_participant, noom_participant_ref,
    noom_participant_unref);

NoomParticipant *
noom_participant_new (const gchar * id, const gchar * nickname,
    const gchar * kind, NoomMediaFlags sends)
{
  Participant *self = g_new0 (Participant, 1);

  g_atomic_ref_count_init (&self->ref);
  self->p.id = g_strdup (id);
  self->p.nickname = g_strdup (nickname);
  self->p.kind = g_strdup (kind);
  self->p.sends = sends;
  self->p.state = (NoomMediaState) sends & noom_media_state_allowed (sends);
  return &self->p;
}

NoomParticipant *
noom_participant_ref (NoomParticipant * p)
{
  g_return_val_if_fail (p != NULL, NULL);

  g_atomic_ref_count_inc (&((Participant *) p)->ref);
  return p;
}

void
noom_participant_unref (NoomParticipant * p)
{
  Participant *self = (Participant *) p;

  if (p == NULL)
    return;
  if (!g_atomic_ref_count_dec (&self->ref))
    return;
  g_free (p->id);
  g_free (p->nickname);
  g_free (p->kind);
  g_free (self);
}

static JsonArray *
sends_to_json (NoomMediaFlags sends)
{
  JsonArray *array = json_array_new ();

  if (sends & NOOM_MEDIA_AUDIO)
    json_array_add_string_element (array, "audio");
  if (sends & NOOM_MEDIA_VIDEO)
    json_array_add_string_element (array, "video");
  return array;
}

JsonNode *
noom_protocol_encode_participant (const NoomParticipant * p)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "id", p->id);
  json_object_set_string_member (o, "nickname", p->nickname);
  json_object_set_string_member (o, "kind", p->kind);
  json_object_set_array_member (o, "sends", sends_to_json (p->sends));
  json_object_set_object_member (o, "media_state",
      noom_protocol_encode_media_state (p->state));
  if (p->features != NOOM_FEATURE_NONE)
    json_object_set_array_member (o, "features",
        features_to_json (p->features));
  return object_node (o);
}

NoomParticipant *
noom_protocol_decode_participant (JsonObject * object, GError ** error)
{
  const gchar *id, *nickname, *kind;
  NoomMediaFlags sends = NOOM_MEDIA_NONE;
  NoomParticipant *p;
  JsonObject *state;
  JsonArray *array;
  guint i;

  g_return_val_if_fail (object != NULL, NULL);

  id = get_string_member (object, "id");
  nickname = get_string_member (object, "nickname");
  kind = get_string_member (object, "kind");
  array = get_array_member (object, "sends");
  if (id == NULL || *id == '\0' || nickname == NULL || kind == NULL
      || array == NULL) {
    bad_argument (error,
        "The server sent a participant without id, nickname, kind or sends");
    return NULL;
  }
  for (i = 0; i < json_array_get_length (array); i++) {
    const gchar *media =
        noom_json_node_get_string (json_array_get_element (array, i));
    NoomMediaFlags flag;

    if (media == NULL) {
      bad_argument (error,
          "The server sent a participant whose sends is not a list of names");
      return NULL;
    }
    /* A later protocol may add kinds of media: not ours to refuse. */
    if (noom_media_from_string (media, &flag))
      sends |= flag;
  }
  p = noom_participant_new (id, nickname, kind, sends);
  state = get_object_member (object, "media_state");
  if (state) {
    NoomMediaState given;

    /* What is not a boolean reads as false: it is only shown. */
    decode_media_state (state, &p->state, &given);
    p->state &= noom_media_state_allowed (sends);
  }
  array = get_array_member (object, "features");
  if (array)
    p->features = features_from_json (array);
  return p;
}

/* ------------------------------------------------------------- event names */

/* The requests, by the names a client may send them under. */
static const struct
{
  const gchar *name;
  NoomEventType type;
} requests[] = {
  {NOOM_EVENT_NAME_NEW_MESSAGE, NOOM_EVENT_NEW_MESSAGE},
  {NOOM_EVENT_NAME_ICE, NOOM_EVENT_ICE},
  {NOOM_EVENT_NAME_OFFER, NOOM_EVENT_OFFER},
  {NOOM_EVENT_NAME_ANSWER, NOOM_EVENT_ANSWER},
  {NOOM_EVENT_NAME_ENTER_ROOM, NOOM_EVENT_JOIN},
  {NOOM_EVENT_NAME_JOIN_ROOM, NOOM_EVENT_JOIN},
  {NOOM_EVENT_NAME_NICKNAME, NOOM_EVENT_NICKNAME},
  {NOOM_EVENT_NAME_LEAVE_ROOM, NOOM_EVENT_LEAVE_ROOM},
  {NOOM_EVENT_NAME_OFFER_FAILED, NOOM_EVENT_OFFER_FAILED},
  {NOOM_EVENT_NAME_MEDIA_STATE, NOOM_EVENT_MEDIA_STATE},
};

const gchar *
noom_event_type_to_string (NoomEventType type)
{
  switch (type) {
    case NOOM_EVENT_NEW_MESSAGE:
      return NOOM_EVENT_NAME_NEW_MESSAGE;
    case NOOM_EVENT_ICE:
      return NOOM_EVENT_NAME_ICE;
    case NOOM_EVENT_OFFER:
      return NOOM_EVENT_NAME_OFFER;
    case NOOM_EVENT_ANSWER:
      return NOOM_EVENT_NAME_ANSWER;
    case NOOM_EVENT_JOIN:
      return NOOM_EVENT_NAME_JOIN_ROOM;
    case NOOM_EVENT_NICKNAME:
      return NOOM_EVENT_NAME_NICKNAME;
    case NOOM_EVENT_LEAVE_ROOM:
      return NOOM_EVENT_NAME_LEAVE_ROOM;
    case NOOM_EVENT_OFFER_FAILED:
      return NOOM_EVENT_NAME_OFFER_FAILED;
    case NOOM_EVENT_MEDIA_STATE:
      return NOOM_EVENT_NAME_MEDIA_STATE;
  }
  return NULL;
}

/* The server's events. */
static const gchar *const server_events[] = {
  [NOOM_SERVER_EVENT_ROOM_CHANGE] = NOOM_EVENT_NAME_ROOM_CHANGE,
  [NOOM_SERVER_EVENT_WELCOME] = NOOM_EVENT_NAME_WELCOME,
  [NOOM_SERVER_EVENT_BYE] = NOOM_EVENT_NAME_BYE,
  [NOOM_SERVER_EVENT_PARTICIPANT_UPDATE] = NOOM_EVENT_NAME_PARTICIPANT_UPDATE,
  [NOOM_SERVER_EVENT_NEW_MESSAGE] = NOOM_EVENT_NAME_NEW_MESSAGE,
  [NOOM_SERVER_EVENT_OFFER] = NOOM_EVENT_NAME_OFFER,
  [NOOM_SERVER_EVENT_ANSWER] = NOOM_EVENT_NAME_ANSWER,
  [NOOM_SERVER_EVENT_ICE] = NOOM_EVENT_NAME_ICE,
  [NOOM_SERVER_EVENT_OFFER_FAILED] = NOOM_EVENT_NAME_OFFER_FAILED,
  [NOOM_SERVER_EVENT_NOOM_ERROR] = NOOM_EVENT_NAME_NOOM_ERROR,
  [NOOM_SERVER_EVENT_MEDIA_RELAY] = NOOM_EVENT_NAME_MEDIA_RELAY,
  [NOOM_SERVER_EVENT_PARTICIPANT_MEDIA] = NOOM_EVENT_NAME_PARTICIPANT_MEDIA,
  [NOOM_SERVER_EVENT_MEDIA_BANDWIDTH] = NOOM_EVENT_NAME_MEDIA_BANDWIDTH,
};

gchar *
noom_event_clip (const gchar * text, guint max)
{
  g_autofree gchar *valid = g_utf8_make_valid (text, -1);
  g_autofree gchar *head = NULL;

  if (g_utf8_strlen (valid, -1) <= max)
    return g_steal_pointer (&valid);
  head = g_utf8_substring (valid, 0, max);
  return g_strconcat (head, "…", NULL);
}

/* ---------------------------------------------------------- ICE candidates */

JsonNode *
noom_protocol_encode_candidate (const NoomCandidate * candidate)
{
  JsonObject *init;

  if (candidate == NULL || candidate->candidate == NULL)
    return json_node_new (JSON_NODE_NULL);
  init = json_object_new ();
  json_object_set_string_member (init, "candidate", candidate->candidate);
  if (candidate->mid)
    json_object_set_string_member (init, "sdpMid", candidate->mid);
  else
    json_object_set_null_member (init, "sdpMid");
  json_object_set_int_member (init, "sdpMLineIndex", candidate->mline_index);
  return object_node (init);
}

gboolean
noom_protocol_decode_candidate (JsonNode * payload, NoomCandidate * out)
{
  JsonObject *init = node_object (payload);
  gint64 mline = 0;

  memset (out, 0, sizeof (*out));
  if (init == NULL)
    return payload != NULL && JSON_NODE_HOLDS_NULL (payload);
  out->candidate = get_string_member (init, "candidate");
  out->mid = get_string_member (init, "sdpMid");
  if (get_int_member (init, "sdpMLineIndex", &mline) && mline >= 0
      && mline <= G_MAXUINT)
    out->mline_index = mline;
  /* Browsers signal the end of a generation with candidate "". */
  if (out->candidate && *out->candidate == '\0')
    out->candidate = NULL;
  return TRUE;
}

/* ------------------------------------------------- client to server (§5) */

JsonArray *
noom_protocol_encode_nickname (const gchar * nickname)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_NICKNAME);

  json_array_add_string_element (event, nickname);
  return event;
}

JsonArray *
noom_protocol_encode_join (const gchar * room, const gchar * nickname,
    const gchar * kind, NoomMediaFlags sends)
{
  return noom_protocol_encode_join_with_media (room, nickname, kind, sends,
      NOOM_MEDIA_MODE_NONE);
}

JsonArray *
noom_protocol_encode_join_with_media (const gchar * room,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends,
    NoomMediaModes media)
{
  return noom_protocol_encode_join_full (room, nickname, kind, sends, media,
      NOOM_FEATURE_NONE);
}

JsonArray *
noom_protocol_encode_join_full (const gchar * room, const gchar * nickname,
    const gchar * kind, NoomMediaFlags sends, NoomMediaModes media,
    NoomFeatures features)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_ENTER_ROOM);
  JsonObject *options = json_object_new ();

  if (nickname)
    json_object_set_string_member (options, "nickname", nickname);
  if (kind)
    json_object_set_string_member (options, "kind", kind);
  json_object_set_array_member (options, "sends", sends_to_json (sends));
  if (media != NOOM_MEDIA_MODE_NONE) {
    JsonArray *modes = json_array_new ();

    if (media & NOOM_MEDIA_MODE_SFU)
      json_array_add_string_element (modes, NOOM_MEDIA_MODE_NAME_SFU);
    if (media & NOOM_MEDIA_MODE_MESH)
      json_array_add_string_element (modes, NOOM_MEDIA_MODE_NAME_MESH);
    json_object_set_array_member (options, "media", modes);
  }
  if (features != NOOM_FEATURE_NONE)
    json_object_set_array_member (options, "features",
        features_to_json (features));
  json_array_add_string_element (event, room);
  json_array_add_object_element (event, options);
  return event;
}

JsonArray *
noom_protocol_encode_leave_room (void)
{
  return event_new (NOOM_EVENT_NAME_LEAVE_ROOM);
}

JsonArray *
noom_protocol_encode_chat (const gchar * text, const gchar * room)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_NEW_MESSAGE);

  json_array_add_string_element (event, text);
  json_array_add_string_element (event, room);
  return event;
}

/* (payload, room, to): the arguments of a relay request. */
static JsonArray *
relay_request (NoomEventType type, JsonNode * payload, const gchar * room,
    const gchar * to)
{
  JsonArray *event = event_new (noom_event_type_to_string (type));

  json_array_add_element (event, payload);
  json_array_add_string_element (event, room);
  json_array_add_string_element (event, to);
  return event;
}

JsonArray *
noom_protocol_encode_description (NoomEventType type, const gchar * sdp,
    const gchar * room, const gchar * to)
{
  JsonObject *description = json_object_new ();

  g_return_val_if_fail (type == NOOM_EVENT_OFFER
      || type == NOOM_EVENT_ANSWER, NULL);

  json_object_set_string_member (description, "type",
      noom_event_type_to_string (type));
  json_object_set_string_member (description, "sdp", sdp);
  return relay_request (type, object_node (description), room, to);
}

JsonArray *
noom_protocol_encode_ice (const NoomCandidate * candidate, const gchar * room,
    const gchar * to)
{
  return relay_request (NOOM_EVENT_ICE,
      noom_protocol_encode_candidate (candidate), room, to);
}

JsonArray *
noom_protocol_encode_media_state_request (NoomMediaState state)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_MEDIA_STATE);

  json_array_add_object_element (event,
      noom_protocol_encode_media_state (state));
  return event;
}

JsonArray *
noom_protocol_encode_offer_failed (const gchar * reason, const gchar * room,
    const gchar * to)
{
  JsonObject *info = json_object_new ();

  json_object_set_string_member (info, "reason", reason);
  return relay_request (NOOM_EVENT_OFFER_FAILED, object_node (info), room, to);
}

gboolean
noom_protocol_sdp_is_text (const gchar * sdp)
{
  const gchar *cr;

  if (!g_utf8_validate (sdp, -1, NULL))
    return FALSE;
  for (cr = strchr (sdp, '\r'); cr; cr = strchr (cr + 1, '\r'))
    if (cr[1] != '\n' && cr[1] != '\0')
      return FALSE;
  return TRUE;
}

/* {type, sdp}, both strings; other members are relayed as they are. */
static gboolean
is_description (JsonNode * node)
{
  JsonObject *o = node_object (node);

  return get_string_member (o, "type") != NULL
      && get_string_member (o, "sdp") != NULL;
}

/* docs/protocol.md §5: {"nickname":..., "kind":..., "sends":[...],
 * "media":[...], "features":[...]}, every member optional, null the same
 * as absent. */
static gboolean
decode_join_options (JsonNode * node, const NoomRoomLimits * limits,
    NoomEventArgs * out, GError ** error)
{
  JsonObject *o;
  JsonNode *member;
  gboolean have_sends = FALSE;

  out->kind = NOOM_KIND_BROWSER;
  if (node_absent (node))
    goto done;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return bad_argument (error, "options must be an object");
  o = json_node_get_object (node);
  out->options = TRUE;

  member = json_object_get_member (o, "nickname");
  if (!node_absent (member)) {
    out->nickname = noom_json_node_get_string (member);
    if (out->nickname == NULL)
      return bad_argument (error, "nickname must be a string");
    if (!noom_room_validate_name (out->nickname, -1, limits->max_nickname,
            "nickname", error))
      return FALSE;
  }

  member = json_object_get_member (o, "kind");
  if (!node_absent (member)
      && !noom_kind_from_string (noom_json_node_get_string (member),
          &out->kind))
    return bad_argument (error,
        "kind must be one of browser, publisher, subscriber, recorder");

  member = json_object_get_member (o, "sends");
  if (!node_absent (member)) {
    JsonArray *a;
    guint i;

    if (!JSON_NODE_HOLDS_ARRAY (member))
      goto bad_sends;
    a = json_node_get_array (member);
    for (i = 0; i < json_array_get_length (a); i++) {
      NoomMediaFlags f;
      const gchar *s =
          noom_json_node_get_string (json_array_get_element (a, i));

      if (s == NULL || !noom_media_from_string (s, &f))
        goto bad_sends;
      out->sends |= f;
    }
    have_sends = TRUE;
  }

  /* §11: the ways of carrying media the client can take part in. */
  member = json_object_get_member (o, "media");
  if (!node_absent (member)) {
    JsonArray *a;
    guint i;

    if (!JSON_NODE_HOLDS_ARRAY (member))
      goto bad_media;
    a = json_node_get_array (member);
    for (i = 0; i < json_array_get_length (a); i++) {
      NoomMediaModes m;

      if (!noom_media_mode_from_string (noom_json_node_get_string
              (json_array_get_element (a, i)), &m))
        goto bad_media;
      out->media |= m;
    }
  }

  /* §3: what the client takes part in beyond the basics; names this
   * server does not know are skipped, for clients of a later protocol. */
  member = json_object_get_member (o, "features");
  if (!node_absent (member)) {
    JsonArray *a;
    guint i;

    if (!JSON_NODE_HOLDS_ARRAY (member))
      goto bad_features;
    a = json_node_get_array (member);
    for (i = 0; i < json_array_get_length (a); i++)
      if (noom_json_node_get_string (json_array_get_element (a, i)) == NULL)
        goto bad_features;
    out->features = features_from_json (a);
  }

done:
  if (!have_sends)
    out->sends = noom_kind_default_sends (out->kind);
  return TRUE;

bad_sends:
  return bad_argument (error,
      "sends must be an array of \"audio\" and \"video\"");

bad_media:
  return bad_argument (error, "media must be an array of \"sfu\" and \"mesh\"");

bad_features:
  return bad_argument (error, "features must be an array of names");
}

/* offer, answer, ice: (payload, room[, to]); offer_failed: ({reason},
 * room, to). */
static gboolean
decode_relay_request (JsonArray * args, NoomEventArgs * out, GError ** error)
{
  JsonNode *to;

  out->payload = arg (args, 1);
  if (out->type == NOOM_EVENT_OFFER_FAILED) {
    if (get_string_member (node_object (out->payload), "reason") == NULL)
      return bad_argument (error, "offer_failed needs {\"reason\": string}");
  } else if (out->type == NOOM_EVENT_ICE) {
    /* null is the end of candidates. */
    if (out->payload == NULL || !(JSON_NODE_HOLDS_OBJECT (out->payload)
            || JSON_NODE_HOLDS_NULL (out->payload)))
      return bad_argument (error, "candidate must be an object or null");
  } else if (!is_description (out->payload)) {
    return bad_argument (error, "description must be {type, sdp}");
  } else if (!noom_protocol_sdp_is_text (get_string_member (node_object
              (out->payload), "sdp"))) {
    /* What it sends is checked against the sender's `sends` by the
     * server (forbidden); text that receivers could read differently
     * cannot be checked, so it is an argument error. */
    return bad_argument (error,
        "description sdp must be UTF-8 lines ending with CRLF or LF");
  }
  out->room = noom_json_node_get_string (arg (args, 2));
  if (out->room == NULL)
    return bad_argument (error, "room name must be a string");
  to = arg (args, 3);
  if (!node_absent (to)) {
    out->to = noom_json_node_get_string (to);
    if (out->to == NULL)
      return bad_argument (error, "to must be a participant id");
  }
  /* It answers one offer: it goes to its offerer only. */
  if (out->type == NOOM_EVENT_OFFER_FAILED && out->to == NULL)
    return bad_argument (error, "to must be a participant id");
  return TRUE;
}

gboolean
noom_protocol_decode_request (const gchar * event, JsonArray * args,
    const NoomRoomLimits * limits, NoomEventArgs * out, GError ** error)
{
  guint i;

  g_return_val_if_fail (event != NULL, FALSE);
  g_return_val_if_fail (args != NULL, FALSE);
  g_return_val_if_fail (limits != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof (*out));
  for (i = 0; i < G_N_ELEMENTS (requests); i++)
    if (strcmp (event, requests[i].name) == 0)
      break;
  if (i == G_N_ELEMENTS (requests)) {
    g_autofree gchar *clipped = noom_event_clip (event, 64);

    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_UNKNOWN_EVENT,
        "unknown event \"%s\"", clipped);
    return FALSE;
  }
  out->type = requests[i].type;

  switch (out->type) {
    case NOOM_EVENT_NEW_MESSAGE:
      out->text = noom_json_node_get_string (arg (args, 1));
      out->room = noom_json_node_get_string (arg (args, 2));
      if (out->text == NULL)
        return bad_argument (error, "message must be a string");
      if (out->room == NULL)
        return bad_argument (error, "room name must be a string");
      return TRUE;
    case NOOM_EVENT_ICE:
    case NOOM_EVENT_OFFER:
    case NOOM_EVENT_ANSWER:
    case NOOM_EVENT_OFFER_FAILED:
      return decode_relay_request (args, out, error);
    case NOOM_EVENT_JOIN:
      out->room = noom_json_node_get_string (arg (args, 1));
      if (out->room == NULL)
        return bad_argument (error, "room name must be a string");
      return decode_join_options (arg (args, 2), limits, out, error);
    case NOOM_EVENT_NICKNAME:
      out->nickname = noom_json_node_get_string (arg (args, 1));
      if (out->nickname == NULL)
        return bad_argument (error, "nickname must be a string");
      return noom_room_validate_name (out->nickname, -1, limits->max_nickname,
          "nickname", error);
    case NOOM_EVENT_LEAVE_ROOM:
      return TRUE;
    case NOOM_EVENT_MEDIA_STATE:{
      JsonObject *o = node_object (arg (args, 1));

      if (o == NULL || !decode_media_state (o, &out->state, &out->state_given))
        return bad_argument (error,
            "media state must be {audio, video, screen: boolean}");
      return TRUE;
    }
  }
  g_return_val_if_reached (FALSE);
}

/* ------------------------------------------------- server to client (§6) */

JsonArray *
noom_protocol_encode_room_change (const NoomRoomEntry * rooms, guint n)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_ROOM_CHANGE);
  JsonArray *names = json_array_sized_new (n);
  JsonArray *counts = json_array_sized_new (n);
  guint i;

  for (i = 0; i < n; i++) {
    JsonObject *o = json_object_new ();

    json_array_add_string_element (names, rooms[i].name);
    json_object_set_string_member (o, "name", rooms[i].name);
    json_object_set_int_member (o, "count", rooms[i].count);
    json_array_add_object_element (counts, o);
  }
  json_array_add_array_element (event, names);
  json_array_add_array_element (event, counts);
  return event;
}

/* welcome, bye: (nickname, count, participant) */
static JsonArray *
presence (const gchar * name, const NoomParticipant * p, guint count)
{
  JsonArray *event = event_new (name);

  json_array_add_string_element (event, p->nickname);
  json_array_add_int_element (event, count);
  json_array_add_element (event, noom_protocol_encode_participant (p));
  return event;
}

JsonArray *
noom_protocol_encode_welcome (const NoomParticipant * p, guint count)
{
  return presence (NOOM_EVENT_NAME_WELCOME, p, count);
}

JsonArray *
noom_protocol_encode_bye (const NoomParticipant * p, guint count)
{
  return presence (NOOM_EVENT_NAME_BYE, p, count);
}

JsonArray *
noom_protocol_encode_participant_update (const NoomParticipant * p)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_PARTICIPANT_UPDATE);

  json_array_add_element (event, noom_protocol_encode_participant (p));
  return event;
}

JsonArray *
noom_protocol_encode_message (const gchar * room, const gchar * from,
    const gchar * nickname, const gchar * text, gint64 ts)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_NEW_MESSAGE);
  JsonObject *info = json_object_new ();
  g_autofree gchar *line = g_strconcat (nickname, ": ", text, NULL);

  /* The seed clients read only the line. */
  json_array_add_string_element (event, line);
  json_object_set_string_member (info, "room", room);
  json_object_set_string_member (info, "from", from);
  json_object_set_string_member (info, "nickname", nickname);
  json_object_set_string_member (info, "text", text);
  json_object_set_int_member (info, "ts", ts);
  json_array_add_object_element (event, info);
  return event;
}

JsonArray *
noom_protocol_encode_relay (NoomEventType type, JsonNode * payload,
    const gchar * from)
{
  JsonArray *event;

  g_return_val_if_fail (type == NOOM_EVENT_OFFER || type == NOOM_EVENT_ANSWER
      || type == NOOM_EVENT_ICE || type == NOOM_EVENT_OFFER_FAILED, NULL);

  event = event_new (noom_event_type_to_string (type));
  json_array_add_element (event, json_node_copy (payload));
  json_array_add_string_element (event, from);
  return event;
}

/* {"code","message"} */
static JsonObject *
error_object (NoomRoomError code, const gchar * message)
{
  JsonObject *error = json_object_new ();

  json_object_set_string_member (error, "code", noom_room_error_to_code (code));
  json_object_set_string_member (error, "message", message);
  return error;
}

JsonArray *
noom_protocol_encode_error (NoomRoomError code, const gchar * message,
    const gchar * event_name)
{
  return noom_protocol_encode_error_code (noom_room_error_to_code (code),
      message, event_name);
}

JsonArray *
noom_protocol_encode_error_code (const gchar * code, const gchar * message,
    const gchar * event_name)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_NOOM_ERROR);
  JsonObject *error = json_object_new ();
  g_autofree gchar *clipped = noom_event_clip (event_name, 64);

  json_object_set_string_member (error, "code", code);
  json_object_set_string_member (error, "message", message);
  json_object_set_string_member (error, "event", clipped);
  json_array_add_object_element (event, error);
  return event;
}

JsonArray *
noom_protocol_encode_participant_media (const gchar * id, NoomMediaState state)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_PARTICIPANT_MEDIA);
  JsonObject *info = noom_protocol_encode_media_state (state);

  json_object_set_string_member (info, "id", id);
  json_array_add_object_element (event, info);
  return event;
}

JsonArray *
noom_protocol_encode_media_relay (const gchar * state)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_MEDIA_RELAY);
  JsonObject *info = json_object_new ();

  json_object_set_string_member (info, "state", state);
  json_array_add_object_element (event, info);
  return event;
}

JsonArray *
noom_protocol_encode_media_bandwidth (guint base_bitrate)
{
  JsonArray *event = event_new (NOOM_EVENT_NAME_MEDIA_BANDWIDTH);
  JsonObject *info = json_object_new ();

  json_object_set_int_member (info, "base_bitrate", base_bitrate);
  json_array_add_object_element (event, info);
  return event;
}

void
noom_server_event_clear (NoomServerEvent * event)
{
  g_clear_pointer (&event->participant, noom_participant_unref);
  g_clear_pointer (&event->rooms, g_array_unref);
}

/* welcome, bye (nickname, count, participant), participant_update
 * (participant): the participant is argument @index. */
static gboolean
decode_presence (JsonArray * args, guint index, NoomServerEvent * out,
    GError ** error)
{
  JsonObject *object = node_object (arg (args, index));
  gint64 count;

  if (index > 1) {
    out->nickname = noom_json_node_get_string (arg (args, 1));
    if (noom_json_node_get_int (arg (args, 2), &count) && count >= 0
        && count <= G_MAXUINT)
      out->count = count;
  }
  /* A seed server sends no participant object. */
  if (object == NULL)
    return TRUE;
  out->participant = noom_protocol_decode_participant (object, error);
  return out->participant != NULL;
}

/* room_change(names, [{name, count}]): the second argument has it all. */
static void
decode_room_change (JsonArray * args, NoomServerEvent * out)
{
  JsonArray *rooms = node_array (arg (args, 2));
  guint i;

  out->rooms = g_array_new (FALSE, FALSE, sizeof (NoomRoomEntry));
  for (i = 0; rooms && i < json_array_get_length (rooms); i++) {
    JsonObject *o = node_object (json_array_get_element (rooms, i));
    NoomRoomEntry entry = { get_string_member (o, "name"), 0 };
    gint64 count;

    if (entry.name == NULL)
      continue;
    if (get_int_member (o, "count", &count) && count >= 0 && count <= G_MAXUINT)
      entry.count = count;
    g_array_append_val (out->rooms, entry);
  }
}

/* offer, answer, ice, offer_failed: (payload, from) */
static gboolean
decode_relay (JsonArray * args, NoomServerEvent * out, GError ** error)
{
  JsonObject *o;

  out->payload = arg (args, 1);
  out->from = noom_json_node_get_string (arg (args, 2));
  o = node_object (out->payload);
  switch (out->type) {
    case NOOM_SERVER_EVENT_OFFER:
    case NOOM_SERVER_EVENT_ANSWER:
      out->sdp = get_string_member (o, "sdp");
      break;
    case NOOM_SERVER_EVENT_ICE:
      if (out->payload != NULL
          && !noom_protocol_decode_candidate (out->payload, &out->candidate))
        return bad_argument (error, "the candidate is not an object");
      break;
    default:
      out->reason = get_string_member (o, "reason");
      break;
  }
  return TRUE;
}

gboolean
noom_protocol_decode_event (JsonArray * args, NoomServerEvent * out,
    GError ** error)
{
  const gchar *name;
  JsonObject *o;
  guint i;

  g_return_val_if_fail (args != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof (*out));
  name = noom_json_node_get_string (arg (args, 0));
  for (i = 0; name && i < G_N_ELEMENTS (server_events); i++)
    if (strcmp (name, server_events[i]) == 0)
      break;
  if (name == NULL || i == G_N_ELEMENTS (server_events)) {
    g_autofree gchar *clipped = name ? noom_event_clip (name, 64) : NULL;

    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_UNKNOWN_EVENT,
        "unknown event \"%s\"", clipped ? clipped : "(not a string)");
    return FALSE;
  }
  out->type = i;

  switch (out->type) {
    case NOOM_SERVER_EVENT_ROOM_CHANGE:
      decode_room_change (args, out);
      return TRUE;
    case NOOM_SERVER_EVENT_WELCOME:
    case NOOM_SERVER_EVENT_BYE:
      return decode_presence (args, 3, out, error);
    case NOOM_SERVER_EVENT_PARTICIPANT_UPDATE:
      return decode_presence (args, 1, out, error);
    case NOOM_SERVER_EVENT_NEW_MESSAGE:
      out->line = noom_json_node_get_string (arg (args, 1));
      o = node_object (arg (args, 2));
      out->room = get_string_member (o, "room");
      out->from = get_string_member (o, "from");
      out->nickname = get_string_member (o, "nickname");
      out->text = get_string_member (o, "text");
      get_int_member (o, "ts", &out->ts);
      return TRUE;
    case NOOM_SERVER_EVENT_OFFER:
    case NOOM_SERVER_EVENT_ANSWER:
    case NOOM_SERVER_EVENT_ICE:
    case NOOM_SERVER_EVENT_OFFER_FAILED:
      return decode_relay (args, out, error);
    case NOOM_SERVER_EVENT_NOOM_ERROR:
      o = node_object (arg (args, 1));
      out->code = get_string_member (o, "code");
      out->message = get_string_member (o, "message");
      out->event = get_string_member (o, "event");
      return TRUE;
    case NOOM_SERVER_EVENT_MEDIA_RELAY:
      out->state = get_string_member (node_object (arg (args, 1)), "state");
      return TRUE;
    case NOOM_SERVER_EVENT_MEDIA_BANDWIDTH:{
      gint64 v = -1;

      o = node_object (arg (args, 1));
      if (!get_int_member (o, "base_bitrate", &v) || v < 0 || v > G_MAXUINT)
        return bad_argument (error,
            "The server sent a media bandwidth without a base_bitrate in "
            "bits per second");
      out->base_bitrate = (guint) v;
      return TRUE;
    }
    case NOOM_SERVER_EVENT_PARTICIPANT_MEDIA:{
      NoomMediaState given;

      o = node_object (arg (args, 1));
      out->from = get_string_member (o, "id");
      if (out->from == NULL || !decode_media_state (o, &out->media_state,
              &given))
        return bad_argument (error,
            "The server sent a media state without id or with a member "
            "that is not a boolean");
      return TRUE;
    }
  }
  g_return_val_if_reached (FALSE);
}

/* ---------------------------------------------- answers (acks, §4, §5) */

/* The ack's arguments: [answer] */
static JsonArray *
answer_args (JsonObject * answer)
{
  JsonArray *args = json_array_new ();

  json_array_add_object_element (args, answer);
  return args;
}

/* {"ok":true} with "ok" first */
static JsonObject *
ok_new (void)
{
  JsonObject *o = json_object_new ();

  json_object_set_boolean_member (o, "ok", TRUE);
  return o;
}

JsonArray *
noom_protocol_encode_ok (void)
{
  return answer_args (ok_new ());
}

JsonArray *
noom_protocol_encode_nickname_result (const gchar * nickname)
{
  JsonObject *o = ok_new ();

  json_object_set_string_member (o, "nickname", nickname);
  return answer_args (o);
}

JsonArray *
noom_protocol_encode_media_state_result (NoomMediaState state)
{
  JsonObject *o = ok_new ();

  json_object_set_object_member (o, "media_state",
      noom_protocol_encode_media_state (state));
  return answer_args (o);
}

JsonArray *
noom_protocol_encode_leave_result (const gchar * room)
{
  JsonObject *o = ok_new ();

  json_object_set_string_member (o, "room", room);
  return answer_args (o);
}

JsonArray *
noom_protocol_encode_chat_result (gint64 ts)
{
  JsonObject *o = ok_new ();

  json_object_set_int_member (o, "ts", ts);
  return answer_args (o);
}

JsonArray *
noom_protocol_encode_refusal (NoomRoomError code, const gchar * message)
{
  JsonObject *o = json_object_new ();

  json_object_set_object_member (o, "error", error_object (code, message));
  return answer_args (o);
}

JsonArray *
noom_protocol_encode_ice_servers (const NoomIceServer * servers, guint n)
{
  JsonArray *array = json_array_new ();
  guint i;

  for (i = 0; i < n; i++) {
    JsonObject *o = json_object_new ();
    JsonArray *urls = json_array_new ();
    const gchar *const *url;

    for (url = servers[i].urls; url && *url; url++)
      json_array_add_string_element (urls, *url);
    json_object_set_array_member (o, "urls", urls);
    if (servers[i].username)
      json_object_set_string_member (o, "username", servers[i].username);
    if (servers[i].credential)
      json_object_set_string_member (o, "credential", servers[i].credential);
    json_array_add_object_element (array, o);
  }
  return array;
}

void
noom_protocol_decode_ice_servers (JsonArray * ice_servers,
    void (*func) (const gchar * url, const gchar * username,
        const gchar * credential, gpointer user_data), gpointer user_data)
{
  guint i, j;

  for (i = 0; ice_servers && i < json_array_get_length (ice_servers); i++) {
    JsonObject *server = node_object (json_array_get_element (ice_servers, i));
    const gchar *username, *credential, *url;
    JsonNode *urls;
    JsonArray *list;

    if (server == NULL)
      continue;
    username = get_string_member (server, "username");
    credential = get_string_member (server, "credential");
    urls = json_object_get_member (server, "urls");
    list = node_array (urls);
    if (list) {
      for (j = 0; j < json_array_get_length (list); j++) {
        url = noom_json_node_get_string (json_array_get_element (list, j));
        if (url)
          func (url, username, credential, user_data);
      }
    } else if ((url = noom_json_node_get_string (urls)) != NULL) {
      func (url, username, credential, user_data);
    }
  }
}

JsonArray *
noom_protocol_encode_join_result (const NoomJoinResult * result)
{
  JsonObject *o = ok_new ();
  JsonArray *others = json_array_new ();
  guint i;

  for (i = 0; result->participants && i < result->participants->len; i++)
    json_array_add_element (others,
        noom_protocol_encode_participant (result->participants->pdata[i]));
  json_object_set_string_member (o, "room", result->room);
  json_object_set_string_member (o, "id", result->id);
  json_object_set_member (o, "self",
      noom_protocol_encode_participant (result->self));
  json_object_set_array_member (o, "participants", others);
  json_object_set_int_member (o, "count", result->count);
  json_object_set_array_member (o, "iceServers", result->ice_servers ?
      json_array_ref (result->ice_servers) : json_array_new ());
  json_object_set_int_member (o, "maxRoomSize", result->max_room_size);
  json_object_set_string_member (o, "media", result->media ? result->media :
      NOOM_MEDIA_MODE_NAME_MESH);
  if (result->relay)
    json_object_set_string_member (o, "relay", result->relay);
  if (result->max_publishers)
    json_object_set_int_member (o, "maxPublishers", result->max_publishers);
  return answer_args (o);
}

gboolean
noom_protocol_decode_join_result (JsonObject * answer, NoomJoinResult * out,
    GError ** error)
{
  JsonObject *self_object = get_object_member (answer, "self");
  JsonArray *others = get_array_member (answer, "participants");
  gint64 count = 0, max = 0;
  guint i;

  memset (out, 0, sizeof (*out));
  out->room = get_string_member (answer, "room");
  if (out->room == NULL || self_object == NULL || others == NULL
      || !get_int_member (answer, "count", &count) || count < 1) {
    return bad_argument (error,
        "The server's join answer lacks room, self, participants or count");
  }
  out->id = get_string_member (answer, "id");
  out->count = count;
  if (get_int_member (answer, "maxRoomSize", &max) && max > 0
      && max <= G_MAXUINT)
    out->max_room_size = max;
  out->media = get_string_member (answer, "media");
  out->relay = get_string_member (answer, "relay");
  if (get_int_member (answer, "maxPublishers", &max) && max > 0
      && max <= G_MAXUINT)
    out->max_publishers = max;
  out->self = noom_protocol_decode_participant (self_object, error);
  if (out->self == NULL)
    return FALSE;
  out->participants = g_ptr_array_new_with_free_func ((GDestroyNotify)
      noom_participant_unref);
  for (i = 0; i < json_array_get_length (others); i++) {
    JsonObject *object = node_object (json_array_get_element (others, i));
    NoomParticipant *p;

    if (object == NULL) {
      noom_join_result_clear (out);
      return bad_argument (error, "The server's join answer has a "
          "participant that is not an object");
    }
    p = noom_protocol_decode_participant (object, error);
    if (p == NULL) {
      noom_join_result_clear (out);
      return FALSE;
    }
    g_ptr_array_add (out->participants, p);
  }
  out->ice_servers = get_array_member (answer, "iceServers");
  return TRUE;
}

void
noom_join_result_clear (NoomJoinResult * result)
{
  g_clear_pointer (&result->self, noom_participant_unref);
  g_clear_pointer (&result->participants, g_ptr_array_unref);
}

JsonObject *
noom_protocol_decode_answer (JsonArray * args, GError ** error)
{
  /* An ACK may come without arguments ("30"): no answer either. */
  JsonObject *answer = node_object (arg (args, 0));

  if (answer == NULL)
    bad_argument (error,
        "The server's answer is not an object (is it a Noom server?)");
  return answer;
}

gboolean
noom_protocol_decode_refusal (JsonObject * answer, const gchar ** code,
    const gchar ** message)
{
  JsonObject *error = get_object_member (answer, "error");

  *code = get_string_member (error, "code");
  *message = get_string_member (error, "message");
  return error != NULL;
}

const gchar *
noom_protocol_decode_nickname_result (JsonObject * answer)
{
  return get_string_member (answer, "nickname");
}

/* ------------------------------------------------ CONNECT (§1 Access) */

JsonObject *
noom_protocol_encode_auth (const gchar * token)
{
  JsonObject *auth;

  if (token == NULL)
    return NULL;
  auth = json_object_new ();
  json_object_set_string_member (auth, "token", token);
  return auth;
}

const gchar *
noom_protocol_decode_auth (JsonObject * auth)
{
  return get_string_member (auth, "token");
}

JsonNode *
noom_protocol_encode_connect_refusal (NoomRoomError code)
{
  JsonObject *data = json_object_new ();

  json_object_set_string_member (data, "code", noom_room_error_to_code (code));
  return object_node (data);
}

void
noom_protocol_decode_connect_refusal (JsonNode * payload,
    const gchar ** message, const gchar ** code)
{
  JsonObject *object = node_object (payload);

  *message = NULL;
  *code = NULL;
  if (object) {
    *message = get_string_member (object, "message");
    *code = get_string_member (get_object_member (object, "data"), "code");
  } else if (payload && JSON_NODE_HOLDS_VALUE (payload)) {
    *message = noom_json_node_get_string (payload);
  }
}
