/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-event: client-to-server event arguments (see noom-event.h).  The
 * error messages are the wire text of docs/protocol.md §4: change them
 * only together with the clients and tests that read them.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-event.h"
#include "noom-sdp.h"

static const struct
{
  const gchar *name;
  NoomEventType type;
} events[] = {
  {"new_message", NOOM_EVENT_NEW_MESSAGE},
  {"ice", NOOM_EVENT_ICE},
  {"offer", NOOM_EVENT_OFFER},
  {"answer", NOOM_EVENT_ANSWER},
  {"enter_room", NOOM_EVENT_JOIN},
  {"join_room", NOOM_EVENT_JOIN},
  {"nickname", NOOM_EVENT_NICKNAME},
  {"leave_room", NOOM_EVENT_LEAVE_ROOM},
  {"offer_failed", NOOM_EVENT_OFFER_FAILED},
};

const gchar *
noom_event_type_to_string (NoomEventType type)
{
  switch (type) {
    case NOOM_EVENT_NEW_MESSAGE:
      return "new_message";
    case NOOM_EVENT_ICE:
      return "ice";
    case NOOM_EVENT_OFFER:
      return "offer";
    case NOOM_EVENT_ANSWER:
      return "answer";
    case NOOM_EVENT_JOIN:
      return "join_room";
    case NOOM_EVENT_NICKNAME:
      return "nickname";
    case NOOM_EVENT_LEAVE_ROOM:
      return "leave_room";
    case NOOM_EVENT_OFFER_FAILED:
      return "offer_failed";
  }
  return NULL;
}

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

/* Argument @i (the event name is 0), or NULL when there are fewer. */
static JsonNode *
arg (JsonArray * args, guint i)
{
  if (i >= json_array_get_length (args))
    return NULL;
  return json_array_get_element (args, i);
}

static const gchar *
node_string (JsonNode * node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

/* Missing, or a JSON null: both mean "not given" for an optional
 * argument or option. */
static gboolean
node_absent (JsonNode * node)
{
  return node == NULL || JSON_NODE_HOLDS_NULL (node);
}

static gboolean
bad_argument (GError ** error, const gchar * message)
{
  g_set_error_literal (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
      message);
  return FALSE;
}

/* {type, sdp}, both strings; other members are relayed as they are. */
static gboolean
is_description (JsonNode * node)
{
  JsonObject *o;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  o = json_node_get_object (node);
  return node_string (json_object_get_member (o, "type")) != NULL
      && node_string (json_object_get_member (o, "sdp")) != NULL;
}

/* docs/protocol.md §5: {"nickname":..., "kind":..., "sends":[...]}, every
 * member optional, null the same as absent. */
static gboolean
parse_join_options (JsonNode * node, const NoomRoomLimits * limits,
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

  member = json_object_get_member (o, "nickname");
  if (!node_absent (member)) {
    out->nickname = node_string (member);
    if (out->nickname == NULL)
      return bad_argument (error, "nickname must be a string");
    if (!noom_room_validate_name (out->nickname, -1, limits->max_nickname,
            "nickname", error))
      return FALSE;
  }

  member = json_object_get_member (o, "kind");
  if (!node_absent (member)
      && !noom_kind_from_string (node_string (member), &out->kind))
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
      const gchar *s = node_string (json_array_get_element (a, i));

      if (s == NULL || !noom_media_from_string (s, &f))
        goto bad_sends;
      out->sends |= f;
    }
    have_sends = TRUE;
  }

done:
  if (!have_sends)
    out->sends = noom_kind_default_sends (out->kind);
  return TRUE;

bad_sends:
  return bad_argument (error,
      "sends must be an array of \"audio\" and \"video\"");
}

/* offer, answer, ice: (payload, room[, to]); offer_failed: ({reason},
 * room, to). */
static gboolean
parse_relay (JsonArray * args, NoomEventArgs * out, GError ** error)
{
  JsonNode *to;

  out->payload = arg (args, 1);
  if (out->type == NOOM_EVENT_OFFER_FAILED) {
    if (out->payload == NULL || !JSON_NODE_HOLDS_OBJECT (out->payload)
        || node_string (json_object_get_member (json_node_get_object
                (out->payload), "reason")) == NULL)
      return bad_argument (error, "offer_failed needs {\"reason\": string}");
  } else if (out->type == NOOM_EVENT_ICE) {
    /* null is the end of candidates. */
    if (out->payload == NULL || !(JSON_NODE_HOLDS_OBJECT (out->payload)
            || JSON_NODE_HOLDS_NULL (out->payload)))
      return bad_argument (error, "candidate must be an object or null");
  } else if (!is_description (out->payload)) {
    return bad_argument (error, "description must be {type, sdp}");
  } else {
    JsonObject *o = json_node_get_object (out->payload);

    /* What it sends is checked against the sender's `sends` by the
     * server (forbidden); text that receivers could read differently
     * cannot be checked, so it is an argument error. */
    if (!noom_sdp_get_sends (node_string (json_object_get_member (o, "sdp")),
            &out->sends))
      return bad_argument (error,
          "description sdp must be UTF-8 lines ending with CRLF or LF");
  }
  out->room = node_string (arg (args, 2));
  if (out->room == NULL)
    return bad_argument (error, "room name must be a string");
  to = arg (args, 3);
  if (!node_absent (to)) {
    out->to = node_string (to);
    if (out->to == NULL)
      return bad_argument (error, "to must be a participant id");
  }
  /* It answers one offer: it goes to its offerer only. */
  if (out->type == NOOM_EVENT_OFFER_FAILED && out->to == NULL)
    return bad_argument (error, "to must be a participant id");
  return TRUE;
}

gboolean
noom_event_args_parse (const gchar * event, JsonArray * args,
    const NoomRoomLimits * limits, NoomEventArgs * out, GError ** error)
{
  guint i;

  g_return_val_if_fail (event != NULL, FALSE);
  g_return_val_if_fail (args != NULL, FALSE);
  g_return_val_if_fail (limits != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  memset (out, 0, sizeof (*out));
  for (i = 0; i < G_N_ELEMENTS (events); i++)
    if (strcmp (event, events[i].name) == 0)
      break;
  if (i == G_N_ELEMENTS (events)) {
    g_autofree gchar *clipped = noom_event_clip (event, 64);

    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_UNKNOWN_EVENT,
        "unknown event \"%s\"", clipped);
    return FALSE;
  }
  out->type = events[i].type;

  switch (out->type) {
    case NOOM_EVENT_NEW_MESSAGE:
      out->text = node_string (arg (args, 1));
      out->room = node_string (arg (args, 2));
      if (out->text == NULL)
        return bad_argument (error, "message must be a string");
      if (out->room == NULL)
        return bad_argument (error, "room name must be a string");
      return TRUE;
    case NOOM_EVENT_ICE:
    case NOOM_EVENT_OFFER:
    case NOOM_EVENT_ANSWER:
    case NOOM_EVENT_OFFER_FAILED:
      return parse_relay (args, out, error);
    case NOOM_EVENT_JOIN:
      out->room = node_string (arg (args, 1));
      if (out->room == NULL)
        return bad_argument (error, "room name must be a string");
      return parse_join_options (arg (args, 2), limits, out, error);
    case NOOM_EVENT_NICKNAME:
      out->nickname = node_string (arg (args, 1));
      if (out->nickname == NULL)
        return bad_argument (error, "nickname must be a string");
      return noom_room_validate_name (out->nickname, -1, limits->max_nickname,
          "nickname", error);
    case NOOM_EVENT_LEAVE_ROOM:
      return TRUE;
  }
  g_return_val_if_reached (FALSE);
}

gboolean
noom_event_args_check_content (const NoomEventArgs * args,
    const NoomRoomLimits * limits, GError ** error)
{
  g_return_val_if_fail (args != NULL, FALSE);
  g_return_val_if_fail (limits != NULL, FALSE);

  if (args->type != NOOM_EVENT_NEW_MESSAGE)
    return TRUE;
  return noom_room_validate_message (args->text, -1, limits->max_message,
      error);
}
