/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the event argument checks (lib/noom-event.[ch], and the
 * request decoder of lib/noom-protocol it calls): every event, every
 * rejection, with the exact code and message noom-server sends
 * (docs/protocol.md §4, §5).  The round trips of every event are
 * test-protocol.c's.
 */
#include <string.h>

#include "noom-event.h"
#include "noom-packet.h"

/* The Socket.IO event array of @json (element 0 is the event name). */
static JsonNode *
event_node (const gchar * json)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = json_from_string (json, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (node));
  return node;
}

static gboolean
parse (JsonNode * node, const NoomRoomLimits * limits, NoomEventArgs * out,
    GError ** error)
{
  JsonArray *args = json_node_get_array (node);

  return noom_event_args_parse (json_array_get_string_element (args, 0),
      args, limits, out, error);
}

static const NoomRoomLimits *
default_limits (void)
{
  static NoomRoomLimits limits;

  noom_room_limits_init (&limits);
  return &limits;
}

/* @json parses; the returned node owns what @out points into. */
static JsonNode *
expect_ok (const gchar * json, const NoomRoomLimits * limits,
    NoomEventArgs * out)
{
  JsonNode *node = event_node (json);
  g_autoptr (GError) error = NULL;

  if (!parse (node, limits ? limits : default_limits (), out, &error))
    g_error ("%s: unexpected error %s", json, error->message);
  return node;
}

static void
expect_error_limits (const gchar * json, const NoomRoomLimits * limits,
    NoomRoomError code, const gchar * message)
{
  g_autoptr (JsonNode) node = event_node (json);
  g_autoptr (GError) error = NULL;
  NoomEventArgs out;

  g_test_message ("%s", json);
  g_assert_false (parse (node, limits, &out, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
}

static void
expect_error (const gchar * json, NoomRoomError code, const gchar * message)
{
  expect_error_limits (json, default_limits (), code, message);
}

/* ------------------------------------------------------------ unknown */

static void
test_unknown_event (void)
{
  g_autofree gchar *long_name = g_strnfill (500, 'x');
  g_autofree gchar *head = g_strnfill (64, 'x');
  g_autofree gchar *long_json = g_strdup_printf ("[\"%s\"]", long_name);
  g_autofree gchar *clipped = g_strdup_printf ("unknown event \"%s…\"", head);
  g_autoptr (JsonNode) node = event_node ("[\"x\"]");
  g_autoptr (GError) error = NULL;
  NoomEventArgs out;

  expect_error ("[\"launch_missiles\",1,2]", NOOM_ROOM_ERROR_UNKNOWN_EVENT,
      "unknown event \"launch_missiles\"");
  expect_error ("[\"\"]", NOOM_ROOM_ERROR_UNKNOWN_EVENT, "unknown event \"\"");
  /* Names are case-sensitive, as in socket.io. */
  expect_error ("[\"Nickname\",\"kim\"]", NOOM_ROOM_ERROR_UNKNOWN_EVENT,
      "unknown event \"Nickname\"");
  expect_error ("[\"join_room \",\"demo\"]", NOOM_ROOM_ERROR_UNKNOWN_EVENT,
      "unknown event \"join_room \"");
  /* Clipped to 64 characters. */
  expect_error (long_json, NOOM_ROOM_ERROR_UNKNOWN_EVENT, clipped);

  /* The event name is the caller's: invalid UTF-8 is made valid. */
  g_assert_false (noom_event_args_parse ("a\xff", json_node_get_array (node),
          default_limits (), &out, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_UNKNOWN_EVENT);
  g_assert_cmpstr (error->message, ==, "unknown event \"a\xef\xbf\xbd\"");
  g_assert_true (g_utf8_validate (error->message, -1, NULL));
}

/* ----------------------------------------------------------- nickname */

static void
test_nickname (void)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) extra = NULL;
  NoomEventArgs a;

  node = expect_ok ("[\"nickname\",\"kim\"]", NULL, &a);
  g_assert_cmpint (a.type, ==, NOOM_EVENT_NICKNAME);
  g_assert_cmpstr (a.nickname, ==, "kim");
  g_assert_null (a.room);
  g_assert_null (a.text);
  g_assert_null (a.payload);
  g_assert_null (a.to);

  /* Extra trailing arguments are ignored (§5). */
  extra = expect_ok ("[\"nickname\",\"방 kim 😀\",5,{}]", NULL, &a);
  g_assert_cmpstr (a.nickname, ==, "방 kim 😀");
}

static void
test_nickname_rejected (void)
{
  g_autofree gchar *max = g_strnfill (32, 'n');
  g_autofree gchar *over = g_strnfill (33, 'n');
  g_autofree gchar *max_json = g_strdup_printf ("[\"nickname\",\"%s\"]", max);
  g_autofree gchar *over_json = g_strdup_printf ("[\"nickname\",\"%s\"]", over);
  g_autoptr (JsonNode) node = NULL;
  NoomRoomLimits small;
  NoomEventArgs a;

  expect_error ("[\"nickname\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "nickname must be a string");
  expect_error ("[\"nickname\",null]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "nickname must be a string");
  expect_error ("[\"nickname\",5]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "nickname must be a string");
  expect_error ("[\"nickname\",true]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "nickname must be a string");
  expect_error ("[\"nickname\",{\"n\":1}]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "nickname must be a string");
  expect_error ("[\"nickname\",[\"kim\"]]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "nickname must be a string");

  expect_error ("[\"nickname\",\"\"]", NOOM_ROOM_ERROR_BAD_NAME,
      "nickname is empty");
  expect_error ("[\"nickname\",\"   \"]", NOOM_ROOM_ERROR_BAD_NAME,
      "nickname is blank");
  expect_error ("[\"nickname\",\"a\\u0001\"]", NOOM_ROOM_ERROR_BAD_NAME,
      "nickname contains control characters");
  expect_error ("[\"nickname\",\"a\\nb\"]", NOOM_ROOM_ERROR_BAD_NAME,
      "nickname contains control characters");
  expect_error ("[\"nickname\",\"a\\u0085\"]", NOOM_ROOM_ERROR_BAD_NAME,
      "nickname contains control characters");

  node = expect_ok (max_json, NULL, &a);
  g_assert_cmpstr (a.nickname, ==, max);
  expect_error (over_json, NOOM_ROOM_ERROR_NAME_TOO_LONG,
      "nickname is longer than 32 characters");

  /* The limit is the caller's. */
  noom_room_limits_init (&small);
  small.max_nickname = 3;
  expect_error_limits ("[\"nickname\",\"kimi\"]", &small,
      NOOM_ROOM_ERROR_NAME_TOO_LONG, "nickname is longer than 3 characters");
}

/* \u0000 never reaches the event checks: the Socket.IO parser refuses it
 * (json-glib would cut the string there, so "a\u0000" would look like
 * "a"). */
static void
test_nul_refused_before (void)
{
  static const gchar *const packets[] = {
    "2[\"nickname\",\"a\\u0000\"]",
    "2[\"new_message\",\"hi\\u0000there\",\"demo\"]",
    "2[\"join_room\",\"demo\",{\"nickname\":\"\\u0000\"}]",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (packets); i++) {
    g_autoptr (NoomSioPacket) packet =
        noom_sio_packet_parse (packets[i], strlen (packets[i]), NULL);

    g_assert_null (packet);
  }
}

/* --------------------------------------------------------------- join */

static void
test_join (void)
{
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL;
  g_autoptr (JsonNode) n5 = NULL, n6 = NULL, n7 = NULL, n8 = NULL;
  g_autoptr (JsonNode) n9 = NULL;
  NoomEventArgs a;

  /* Both names are the same event; no options: a browser sending both. */
  n1 = expect_ok ("[\"join_room\",\"demo\"]", NULL, &a);
  g_assert_cmpint (a.type, ==, NOOM_EVENT_JOIN);
  g_assert_cmpstr (a.room, ==, "demo");
  g_assert_null (a.nickname);
  g_assert_cmpint (a.kind, ==, NOOM_KIND_BROWSER);
  g_assert_cmpint (a.sends, ==, NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);
  g_assert_null (a.text);
  g_assert_null (a.payload);
  g_assert_null (a.to);

  n2 = expect_ok ("[\"enter_room\",\"demo\",null]", NULL, &a);
  g_assert_cmpint (a.type, ==, NOOM_EVENT_JOIN);
  g_assert_cmpstr (a.room, ==, "demo");
  g_assert_cmpint (a.kind, ==, NOOM_KIND_BROWSER);
  g_assert_cmpint (a.sends, ==, NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);

  n3 = expect_ok ("[\"join_room\",\"demo\",{\"nickname\":\"alice\","
      "\"kind\":\"publisher\",\"sends\":[\"video\"]},\"extra\"]", NULL, &a);
  g_assert_cmpstr (a.nickname, ==, "alice");
  g_assert_cmpint (a.kind, ==, NOOM_KIND_PUBLISHER);
  g_assert_cmpint (a.sends, ==, NOOM_MEDIA_VIDEO);

  /* A kind without sends: the kind's default media. */
  n4 = expect_ok ("[\"join_room\",\"demo\",{\"kind\":\"subscriber\"}]",
      NULL, &a);
  g_assert_cmpint (a.kind, ==, NOOM_KIND_SUBSCRIBER);
  g_assert_cmpint (a.sends, ==, 0);
  n5 = expect_ok ("[\"join_room\",\"demo\",{\"kind\":\"recorder\","
      "\"sends\":[\"audio\",\"audio\"]}]", NULL, &a);
  g_assert_cmpint (a.kind, ==, NOOM_KIND_RECORDER);
  g_assert_cmpint (a.sends, ==, NOOM_MEDIA_AUDIO);

  /* Null members are absent ones; sends [] is "nothing". */
  n6 = expect_ok ("[\"join_room\",\"demo\",{\"nickname\":null,\"kind\":null,"
      "\"sends\":null,\"other\":5}]", NULL, &a);
  g_assert_null (a.nickname);
  g_assert_cmpint (a.kind, ==, NOOM_KIND_BROWSER);
  g_assert_cmpint (a.sends, ==, NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);
  n7 = expect_ok ("[\"join_room\",\"demo\",{\"sends\":[]}]", NULL, &a);
  g_assert_cmpint (a.sends, ==, 0);
  n9 = expect_ok ("[\"join_room\",\"demo\",{\"kind\":\"subscriber\","
      "\"sends\":[\"video\",\"audio\"]}]", NULL, &a);
  g_assert_cmpint (a.kind, ==, NOOM_KIND_SUBSCRIBER);
  g_assert_cmpint (a.sends, ==, NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);

  /* The room name rule comes after the token checks, in
   * noom_room_set_check_join(): not here. */
  n8 = expect_ok ("[\"join_room\",\"\"]", NULL, &a);
  g_assert_cmpstr (a.room, ==, "");
}

static void
test_join_rejected (void)
{
  g_autofree gchar *over = g_strnfill (33, 'n');
  g_autofree gchar *over_json =
      g_strdup_printf ("[\"join_room\",\"demo\",{\"nickname\":\"%s\"}]",
      over);
  const gchar *kinds =
      "kind must be one of browser, publisher, subscriber, recorder";
  const gchar *sends = "sends must be an array of \"audio\" and \"video\"";

  expect_error ("[\"join_room\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");
  expect_error ("[\"enter_room\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");
  expect_error ("[\"enter_room\",5]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");
  expect_error ("[\"enter_room\",[\"a\"]]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");
  expect_error ("[\"enter_room\",null]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");
  /* The room first, then the options. */
  expect_error ("[\"join_room\",5,7]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");

  expect_error ("[\"join_room\",\"demo\",7]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "options must be an object");
  expect_error ("[\"join_room\",\"demo\",\"alice\"]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, "options must be an object");
  expect_error ("[\"join_room\",\"demo\",[]]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "options must be an object");

  expect_error ("[\"join_room\",\"demo\",{\"nickname\":5}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, "nickname must be a string");
  expect_error ("[\"join_room\",\"demo\",{\"nickname\":\"\"}]",
      NOOM_ROOM_ERROR_BAD_NAME, "nickname is empty");
  expect_error ("[\"join_room\",\"demo\",{\"nickname\":\"\\u001f\"}]",
      NOOM_ROOM_ERROR_BAD_NAME, "nickname contains control characters");
  expect_error (over_json, NOOM_ROOM_ERROR_NAME_TOO_LONG,
      "nickname is longer than 32 characters");

  expect_error ("[\"join_room\",\"demo\",{\"kind\":\"god\"}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, kinds);
  expect_error ("[\"join_room\",\"demo\",{\"kind\":\"\"}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, kinds);
  expect_error ("[\"join_room\",\"demo\",{\"kind\":\"Browser\"}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, kinds);
  expect_error ("[\"join_room\",\"demo\",{\"kind\":1}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, kinds);
  expect_error ("[\"join_room\",\"demo\",{\"kind\":[\"browser\"]}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, kinds);

  expect_error ("[\"join_room\",\"demo\",{\"sends\":\"audio\"}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, sends);
  expect_error ("[\"join_room\",\"demo\",{\"sends\":{\"audio\":true}}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, sends);
  expect_error ("[\"join_room\",\"demo\",{\"sends\":[\"audio\",1]}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, sends);
  expect_error ("[\"join_room\",\"demo\",{\"sends\":[\"screen\"]}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, sends);
  expect_error ("[\"join_room\",\"demo\",{\"sends\":[null]}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, sends);
  expect_error ("[\"join_room\",\"demo\",{\"sends\":[\"Video\"]}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, sends);

  /* Options are read in the order nickname, kind, sends. */
  expect_error ("[\"join_room\",\"demo\",{\"sends\":5,\"kind\":\"x\","
      "\"nickname\":\"\"}]", NOOM_ROOM_ERROR_BAD_NAME, "nickname is empty");
  expect_error ("[\"join_room\",\"demo\",{\"sends\":5,\"kind\":\"x\"}]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, kinds);
}

/* --------------------------------------------------------- leave_room */

static void
test_leave_room (void)
{
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL;
  g_autoptr (GError) error = NULL;
  NoomEventArgs a;

  n1 = expect_ok ("[\"leave_room\"]", NULL, &a);
  g_assert_cmpint (a.type, ==, NOOM_EVENT_LEAVE_ROOM);
  g_assert_null (a.room);
  g_assert_null (a.nickname);
  /* Seed clients may pass the room: ignored. */
  n2 = expect_ok ("[\"leave_room\",\"demo\",5]", NULL, &a);
  g_assert_cmpint (a.type, ==, NOOM_EVENT_LEAVE_ROOM);
  g_assert_null (a.room);
  g_assert_true (noom_event_args_check_content (&a, default_limits (), &error));
  g_assert_no_error (error);
}

/* -------------------------------------------------------- new_message */

static void
test_new_message (void)
{
  g_autofree gchar *max = g_strnfill (4096, 'm');
  g_autofree gchar *over = g_strnfill (4097, 'm');
  g_autofree gchar *max_json =
      g_strdup_printf ("[\"new_message\",\"%s\",\"demo\"]", max);
  g_autofree gchar *over_json =
      g_strdup_printf ("[\"new_message\",\"%s\",\"demo\"]", over);
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL, n4 = NULL;
  g_autoptr (JsonNode) n5 = NULL;
  g_autoptr (GError) error = NULL;
  NoomRoomLimits small;
  NoomEventArgs a;

  n1 = expect_ok ("[\"new_message\",\"hi there\",\"demo\",\"extra\"]", NULL,
      &a);
  g_assert_cmpint (a.type, ==, NOOM_EVENT_NEW_MESSAGE);
  g_assert_cmpstr (a.text, ==, "hi there");
  g_assert_cmpstr (a.room, ==, "demo");
  g_assert_null (a.nickname);
  g_assert_null (a.payload);
  g_assert_null (a.to);
  g_assert_true (noom_event_args_check_content (&a, default_limits (), &error));
  g_assert_no_error (error);

  /* The text is checked by check_content (after the server's token
   * check), not by parse. */
  n2 = expect_ok ("[\"new_message\",\"\",\"demo\"]", NULL, &a);
  g_assert_false (noom_event_args_check_content (&a, default_limits (),
          &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
  g_assert_cmpstr (error->message, ==, "message is empty");
  g_clear_error (&error);

  n3 = expect_ok (max_json, NULL, &a);
  g_assert_true (noom_event_args_check_content (&a, default_limits (), &error));
  g_assert_no_error (error);
  n4 = expect_ok (over_json, NULL, &a);
  g_assert_false (noom_event_args_check_content (&a, default_limits (),
          &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_NAME_TOO_LONG);
  g_assert_cmpstr (error->message, ==, "message is longer than 4096 bytes");
  g_clear_error (&error);

  /* Bytes, not characters, and the caller's limit. */
  noom_room_limits_init (&small);
  small.max_message = 5;
  n5 = expect_ok ("[\"new_message\",\"방방\",\"demo\"]", &small, &a);
  g_assert_false (noom_event_args_check_content (&a, &small, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_NAME_TOO_LONG);
  g_assert_cmpstr (error->message, ==, "message is longer than 5 bytes");
  g_clear_error (&error);
  small.max_message = 6;
  g_assert_true (noom_event_args_check_content (&a, &small, &error));
  g_assert_no_error (error);
}

static void
test_new_message_rejected (void)
{
  expect_error ("[\"new_message\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "message must be a string");
  expect_error ("[\"new_message\",\"hi\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");
  expect_error ("[\"new_message\",5,\"demo\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "message must be a string");
  expect_error ("[\"new_message\",null,\"demo\"]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, "message must be a string");
  expect_error ("[\"new_message\",{\"text\":\"hi\"},\"demo\"]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, "message must be a string");
  expect_error ("[\"new_message\",\"hi\",null]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");
  expect_error ("[\"new_message\",\"hi\",42]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "room name must be a string");
  /* Both wrong: the message is reported. */
  expect_error ("[\"new_message\",5,6]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
      "message must be a string");
}

/* ------------------------------------------------ offer, answer, ice */

static void
test_relay (void)
{
  static const struct
  {
    const gchar *name;
    NoomEventType type;
  } descriptions[] = {
    {"offer", NOOM_EVENT_OFFER},
    {"answer", NOOM_EVENT_ANSWER},
  };
  g_autoptr (GError) error = NULL;
  NoomEventArgs a;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (descriptions); i++) {
    g_autofree gchar *j1 = g_strdup_printf ("[\"%s\",{\"type\":\"%s\","
        "\"sdp\":\"v=0\",\"extra\":1},\"demo\"]", descriptions[i].name,
        descriptions[i].name);
    g_autofree gchar *j2 = g_strdup_printf ("[\"%s\",{\"type\":\"x\","
        "\"sdp\":\"\"},\"demo\",\"peer-1\",\"extra\"]", descriptions[i].name);
    g_autofree gchar *j3 = g_strdup_printf ("[\"%s\",{\"type\":\"x\","
        "\"sdp\":\"\"},\"demo\",null]", descriptions[i].name);
    g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL;
    JsonObject *o;

    n1 = expect_ok (j1, NULL, &a);
    g_assert_cmpint (a.type, ==, descriptions[i].type);
    g_assert_cmpstr (a.room, ==, "demo");
    g_assert_null (a.to);
    g_assert_null (a.text);
    g_assert_null (a.nickname);
    /* Borrowed: the array's own element, other members kept. */
    g_assert_true (a.payload ==
        json_array_get_element (json_node_get_array (n1), 1));
    o = json_node_get_object (a.payload);
    g_assert_cmpstr (json_object_get_string_member (o, "sdp"), ==, "v=0");
    g_assert_true (json_object_has_member (o, "extra"));
    g_assert_true (noom_event_args_check_content (&a, default_limits (),
            &error));
    g_assert_no_error (error);

    n2 = expect_ok (j2, NULL, &a);
    g_assert_cmpstr (a.to, ==, "peer-1");
    /* A null `to` is the same as none. */
    n3 = expect_ok (j3, NULL, &a);
    g_assert_null (a.to);
  }
}

static void
test_ice (void)
{
  g_autoptr (JsonNode) n1 = NULL, n2 = NULL, n3 = NULL;
  NoomEventArgs a;

  n1 = expect_ok ("[\"ice\",{\"candidate\":\"candidate:1 1 udp 1 "
      "127.0.0.1 9 typ host\",\"sdpMid\":\"0\",\"sdpMLineIndex\":0},"
      "\"demo\",\"peer-2\"]", NULL, &a);
  g_assert_cmpint (a.type, ==, NOOM_EVENT_ICE);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (a.payload));
  g_assert_cmpstr (a.room, ==, "demo");
  g_assert_cmpstr (a.to, ==, "peer-2");

  /* null: the end of candidates, relayed as null. */
  n2 = expect_ok ("[\"ice\",null,\"demo\"]", NULL, &a);
  g_assert_nonnull (a.payload);
  g_assert_true (JSON_NODE_HOLDS_NULL (a.payload));
  g_assert_null (a.to);
  /* An empty object is a candidate to the server (the peers judge it). */
  n3 = expect_ok ("[\"ice\",{},\"demo\",null]", NULL, &a);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (a.payload));
  g_assert_null (a.to);
}

static void
test_relay_rejected (void)
{
  static const gchar *const descriptions[] = { "offer", "answer" };
  const gchar *desc = "description must be {type, sdp}";
  const gchar *cand = "candidate must be an object or null";
  const gchar *room = "room name must be a string";
  const gchar *to = "to must be a participant id";
  guint i;

  for (i = 0; i < G_N_ELEMENTS (descriptions); i++) {
    const gchar *e = descriptions[i];
    /* What follows the event name. */
    static const gchar *const bad[] = {
      "]",
      ",null,\"demo\"]",
      ",\"sdp\",\"demo\"]",
      ",[],\"demo\"]",
      ",{},\"demo\"]",
      ",{\"type\":\"offer\"},\"demo\"]",
      ",{\"sdp\":\"v=0\"},\"demo\"]",
      ",{\"type\":1,\"sdp\":\"x\"},\"demo\"]",
      ",{\"type\":\"offer\",\"sdp\":null},\"demo\"]",
      ",{\"type\":\"offer\",\"sdp\":{}},\"demo\"]",
      /* The description first, then the room. */
      ",5,6]",
    };
    guint j;

    for (j = 0; j < G_N_ELEMENTS (bad); j++) {
      g_autofree gchar *json = g_strconcat ("[\"", e, "\"", bad[j], NULL);

      expect_error (json, NOOM_ROOM_ERROR_BAD_ARGUMENT, desc);
    }
    {
      g_autofree gchar *j1 = g_strdup_printf ("[\"%s\",{\"type\":\"offer\","
          "\"sdp\":\"\"}]", e);
      g_autofree gchar *j2 = g_strdup_printf ("[\"%s\",{\"type\":\"offer\","
          "\"sdp\":\"\"},42]", e);
      g_autofree gchar *j3 = g_strdup_printf ("[\"%s\",{\"type\":\"offer\","
          "\"sdp\":\"\"},\"demo\",17]", e);
      g_autofree gchar *j4 = g_strdup_printf ("[\"%s\",{\"type\":\"offer\","
          "\"sdp\":\"\"},\"demo\",[\"a\"]]", e);
      g_autofree gchar *j5 = g_strdup_printf ("[\"%s\",{\"type\":\"offer\","
          "\"sdp\":\"\"},null,17]", e);

      expect_error (j1, NOOM_ROOM_ERROR_BAD_ARGUMENT, room);
      expect_error (j2, NOOM_ROOM_ERROR_BAD_ARGUMENT, room);
      expect_error (j3, NOOM_ROOM_ERROR_BAD_ARGUMENT, to);
      expect_error (j4, NOOM_ROOM_ERROR_BAD_ARGUMENT, to);
      /* The room first, then `to`. */
      expect_error (j5, NOOM_ROOM_ERROR_BAD_ARGUMENT, room);
    }
  }

  expect_error ("[\"ice\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT, cand);
  expect_error ("[\"ice\",\"candidate\",\"demo\"]",
      NOOM_ROOM_ERROR_BAD_ARGUMENT, cand);
  expect_error ("[\"ice\",5,\"demo\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT, cand);
  expect_error ("[\"ice\",[],\"demo\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT, cand);
  expect_error ("[\"ice\",false,\"demo\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT, cand);
  expect_error ("[\"ice\",{}]", NOOM_ROOM_ERROR_BAD_ARGUMENT, room);
  expect_error ("[\"ice\",{},42]", NOOM_ROOM_ERROR_BAD_ARGUMENT, room);
  expect_error ("[\"ice\",null,null]", NOOM_ROOM_ERROR_BAD_ARGUMENT, room);
  expect_error ("[\"ice\",{},\"demo\",5]", NOOM_ROOM_ERROR_BAD_ARGUMENT, to);
  expect_error ("[\"ice\",{},\"demo\",{}]", NOOM_ROOM_ERROR_BAD_ARGUMENT, to);
  expect_error ("[\"ice\",{},\"demo\",true]", NOOM_ROOM_ERROR_BAD_ARGUMENT, to);
}

/* ------------------------------------------------------------ helpers */

static void
test_type_names (void)
{
  static const struct
  {
    NoomEventType type;
    const gchar *name;
  } names[] = {
    {NOOM_EVENT_NEW_MESSAGE, "new_message"},
    {NOOM_EVENT_ICE, "ice"},
    {NOOM_EVENT_OFFER, "offer"},
    {NOOM_EVENT_ANSWER, "answer"},
    {NOOM_EVENT_JOIN, "join_room"},
    {NOOM_EVENT_NICKNAME, "nickname"},
    {NOOM_EVENT_LEAVE_ROOM, "leave_room"},
    {NOOM_EVENT_OFFER_FAILED, "offer_failed"},
    {NOOM_EVENT_MEDIA_STATE, "media_state"},
  };
  guint i;

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == NOOM_EVENT_LAST + 1);
  for (i = 0; i < G_N_ELEMENTS (names); i++)
    g_assert_cmpstr (noom_event_type_to_string (names[i].type), ==,
        names[i].name);
}

/* -------------------------------------------------------- media_state */

static void
test_media_state (void)
{
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) partial = NULL;
  g_autoptr (JsonNode) empty = NULL;
  NoomEventArgs a;

  node = expect_ok ("[\"media_state\",{\"audio\":false,\"video\":true,"
      "\"screen\":true,\"other\":5},7]", NULL, &a);
  g_assert_cmpint (a.type, ==, NOOM_EVENT_MEDIA_STATE);
  g_assert_cmpuint (a.state_given, ==, NOOM_MEDIA_STATE_ALL);
  g_assert_cmpuint (a.state, ==,
      NOOM_MEDIA_STATE_VIDEO | NOOM_MEDIA_STATE_SCREEN);
  g_assert_null (a.room);
  g_assert_null (a.payload);

  /* An absent member keeps its value: it is not given. */
  partial = expect_ok ("[\"media_state\",{\"audio\":true}]", NULL, &a);
  g_assert_cmpuint (a.state_given, ==, NOOM_MEDIA_STATE_AUDIO);
  g_assert_cmpuint (a.state, ==, NOOM_MEDIA_STATE_AUDIO);
  empty = expect_ok ("[\"media_state\",{}]", NULL, &a);
  g_assert_cmpuint (a.state_given, ==, 0);
}

static void
test_media_state_rejected (void)
{
  const gchar *const bad[] = {
    "[\"media_state\"]",
    "[\"media_state\",null]",
    "[\"media_state\",true]",
    "[\"media_state\",[false]]",
    "[\"media_state\",{\"audio\":1}]",
    "[\"media_state\",{\"audio\":\"false\"}]",
    "[\"media_state\",{\"video\":null}]",
    "[\"media_state\",{\"audio\":true,\"screen\":{}}]",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++)
    expect_error (bad[i], NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "media state must be {audio, video, screen: boolean}");
}

static void
test_clip (void)
{
  g_autofree gchar *a = noom_event_clip ("demo", 4);
  g_autofree gchar *b = noom_event_clip ("demos", 4);
  g_autofree gchar *c = noom_event_clip ("방방방", 2);
  g_autofree gchar *d = noom_event_clip ("ab\xc3", 8);
  g_autofree gchar *e = noom_event_clip ("", 0);

  g_assert_cmpstr (a, ==, "demo");
  g_assert_cmpstr (b, ==, "demo…");
  /* Characters, not bytes. */
  g_assert_cmpstr (c, ==, "방방…");
  g_assert_cmpstr (d, ==, "ab\xef\xbf\xbd");
  g_assert_cmpstr (e, ==, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/event/unknown", test_unknown_event);
  g_test_add_func ("/event/nickname", test_nickname);
  g_test_add_func ("/event/nickname/rejected", test_nickname_rejected);
  g_test_add_func ("/event/nul-refused-before", test_nul_refused_before);
  g_test_add_func ("/event/join", test_join);
  g_test_add_func ("/event/join/rejected", test_join_rejected);
  g_test_add_func ("/event/leave-room", test_leave_room);
  g_test_add_func ("/event/new-message", test_new_message);
  g_test_add_func ("/event/new-message/rejected", test_new_message_rejected);
  g_test_add_func ("/event/relay", test_relay);
  g_test_add_func ("/event/ice", test_ice);
  g_test_add_func ("/event/relay/rejected", test_relay_rejected);
  g_test_add_func ("/event/type-names", test_type_names);
  g_test_add_func ("/event/clip", test_clip);
  g_test_add_func ("/event/media-state", test_media_state);
  g_test_add_func ("/event/media-state/rejected", test_media_state_rejected);
  return g_test_run ();
}
