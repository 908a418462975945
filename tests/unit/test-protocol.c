/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the wire format (lib/noom-protocol.[ch]): for every event
 * and answer of docs/protocol.md, in both directions, the decoder reads
 * back what the encoder wrote; the frames are the text of docs/protocol.md
 * §9; the decoders of what the server sends refuse what they refused in
 * lib/noom-client.  The requests' refusals, with their exact messages, are
 * tests/unit/test-event.c's.
 */
#include <string.h>

#include "noom-packet.h"
#include "noom-protocol.h"

static const NoomRoomLimits *
default_limits (void)
{
  static NoomRoomLimits limits;

  noom_room_limits_init (&limits);
  return &limits;
}

/* @event as it travels: a Socket.IO event frame without ack. */
static gchar *
frame_text (JsonArray * event, gint64 id)
{
  g_autoptr (GBytes) frame = noom_sio_frame_event_array (event, id);

  return g_strndup (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

/* @args as an ack frame. */
static gchar *
ack_text (JsonArray * args, gint64 id)
{
  g_autoptr (GBytes) frame = noom_sio_frame_ack (id, args);

  return g_strndup (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame));
}

/* frame_text() and ack_text() of what an encoder returned (taken). */
static gchar *
take_frame (JsonArray * event, gint64 id)
{
  gchar *text = frame_text (event, id);

  json_array_unref (event);
  return text;
}

static gchar *
take_ack (JsonArray * args, gint64 id)
{
  gchar *text = ack_text (args, id);

  json_array_unref (args);
  return text;
}

/* What the other end gets: the frame parsed back, as noom-sio and
 * noom-client parse it, so the decoders see what the wire carried, not
 * the encoder's own nodes. */
static JsonNode *
over_the_wire (JsonArray * event)
{
  g_autofree gchar *text = frame_text (event, -1);
  g_autoptr (GError) error = NULL;
  NoomSioPacket *packet;
  JsonNode *data;

  /* "4" (Engine.IO message) + the Socket.IO packet */
  packet = noom_sio_packet_parse (text + 1, strlen (text + 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (packet->type, ==, NOOM_SIO_EVENT);
  data = g_steal_pointer (&packet->data);
  noom_sio_packet_free (packet);
  return data;
}

/* A request (taken): encoded, sent, decoded as the server decodes it. */
static JsonNode *
request_round_trip (JsonArray * event, NoomEventArgs * out)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = over_the_wire (event);
  JsonArray *args = json_node_get_array (node);

  json_array_unref (event);

  g_assert_true (noom_protocol_decode_request (json_array_get_string_element
          (args, 0), args, default_limits (), out, &error));
  g_assert_no_error (error);
  return node;
}

/* A server event (taken): encoded, sent, decoded as the client decodes
 * it. */
static JsonNode *
event_round_trip (JsonArray * event, NoomServerEvent * out)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = over_the_wire (event);

  json_array_unref (event);

  g_assert_true (noom_protocol_decode_event (json_node_get_array (node), out,
          &error));
  g_assert_no_error (error);
  return node;
}

static JsonNode *
parse_json (const gchar * json)
{
  g_autoptr (GError) error = NULL;
  JsonNode *node = noom_json_parse (json, strlen (json), &error);

  g_assert_no_error (error);
  return node;
}

static void
assert_participant (const NoomParticipant * p, const NoomParticipant * want)
{
  g_assert_nonnull (p);
  g_assert_cmpstr (p->id, ==, want->id);
  g_assert_cmpstr (p->nickname, ==, want->nickname);
  g_assert_cmpstr (p->kind, ==, want->kind);
  g_assert_cmpuint (p->sends, ==, want->sends);
  g_assert_cmpuint (p->state, ==, want->state);
}

static const NoomParticipant alice = {
  (gchar *) "Q2xhcmFfaXNfaGVyZQAA", (gchar *) "alice 방", (gchar *) "browser",
  NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO
};

static const NoomParticipant bob = {
  (gchar *) "N1dbcXzXbJ5bLJpnAAAB", (gchar *) "bob", (gchar *) "subscriber",
  NOOM_MEDIA_NONE
};

/* ------------------------------------------------------ client to server */

static void
test_nickname (void)
{
  NoomEventArgs a;
  G_GNUC_UNUSED g_autoptr (JsonNode) node =
      request_round_trip (noom_protocol_encode_nickname ("kim 😀"), &a);

  g_assert_cmpint (a.type, ==, NOOM_EVENT_NICKNAME);
  g_assert_cmpstr (a.nickname, ==, "kim 😀");
}

static void
test_join (void)
{
  static const struct
  {
    const gchar *nickname;
    const gchar *kind;
    NoomKind want_kind;
    NoomMediaFlags sends;
  } cases[] = {
    {"alice", "browser", NOOM_KIND_BROWSER,
        NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO},
    {"pub", "publisher", NOOM_KIND_PUBLISHER, NOOM_MEDIA_VIDEO},
    {NULL, "subscriber", NOOM_KIND_SUBSCRIBER, NOOM_MEDIA_NONE},
    {"rec", "recorder", NOOM_KIND_RECORDER, NOOM_MEDIA_NONE},
    {NULL, NULL, NOOM_KIND_BROWSER, NOOM_MEDIA_AUDIO},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    NoomEventArgs a;
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        request_round_trip (noom_protocol_encode_join ("demo",
            cases[i].nickname, cases[i].kind, cases[i].sends), &a);

    g_assert_cmpint (a.type, ==, NOOM_EVENT_JOIN);
    g_assert_cmpstr (a.room, ==, "demo");
    g_assert_cmpstr (a.nickname, ==, cases[i].nickname);
    g_assert_cmpint (a.kind, ==, cases[i].want_kind);
    /* The client always says what it sends, even nothing. */
    g_assert_cmpuint (a.sends, ==, cases[i].sends);
  }
}

/* §11: the option "media", and its absence (a seed page sends no
 * options at all). */
static void
test_join_media (void)
{
  static const NoomMediaModes modes[] = {
    NOOM_MEDIA_MODE_SFU, NOOM_MEDIA_MODE_SFU | NOOM_MEDIA_MODE_MESH,
    NOOM_MEDIA_MODE_MESH, NOOM_MEDIA_MODE_NONE,
  };
  static const struct
  {
    const gchar *json;
    gboolean options;
    NoomMediaModes media;
  } seeds[] = {
    {"[\"join_room\",\"demo\"]", FALSE, NOOM_MEDIA_MODE_NONE},
    {"[\"enter_room\",\"demo\",null]", FALSE, NOOM_MEDIA_MODE_NONE},
    {"[\"enter_room\",\"demo\",{}]", TRUE, NOOM_MEDIA_MODE_NONE},
    {"[\"enter_room\",\"demo\",{\"media\":[]}]", TRUE, NOOM_MEDIA_MODE_NONE},
    {"[\"enter_room\",\"demo\",{\"media\":null}]", TRUE,
        NOOM_MEDIA_MODE_NONE},
    {"[\"enter_room\",\"demo\",{\"media\":[\"mesh\",\"sfu\",\"sfu\"]}]",
        TRUE, NOOM_MEDIA_MODE_MESH | NOOM_MEDIA_MODE_SFU},
  };
  static const gchar *const bad[] = {
    "[\"enter_room\",\"demo\",{\"media\":\"sfu\"}]",
    "[\"enter_room\",\"demo\",{\"media\":[\"sfu\",\"mcu\"]}]",
    "[\"enter_room\",\"demo\",{\"media\":[1]}]",
    "[\"enter_room\",\"demo\",{\"media\":{}}]",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (modes); i++) {
    NoomEventArgs a;
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        request_round_trip (noom_protocol_encode_join_with_media ("demo",
            "alice", "browser", NOOM_MEDIA_VIDEO, modes[i]), &a);

    g_assert_cmpint (a.type, ==, NOOM_EVENT_JOIN);
    g_assert_true (a.options);
    g_assert_cmpuint (a.media, ==, modes[i]);
    g_assert_cmpstr (a.nickname, ==, "alice");
    g_assert_cmpuint (a.sends, ==, NOOM_MEDIA_VIDEO);
  }
  for (i = 0; i < G_N_ELEMENTS (seeds); i++) {
    g_autoptr (JsonNode) node = parse_json (seeds[i].json);
    g_autoptr (GError) error = NULL;
    NoomEventArgs a;

    g_test_message ("%s", seeds[i].json);
    g_assert_true (noom_protocol_decode_request (json_array_get_string_element
            (json_node_get_array (node), 0), json_node_get_array (node),
            default_limits (), &a, &error));
    g_assert_no_error (error);
    g_assert_cmpint (a.options, ==, seeds[i].options);
    g_assert_cmpuint (a.media, ==, seeds[i].media);
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (JsonNode) node = parse_json (bad[i]);
    g_autoptr (GError) error = NULL;
    NoomEventArgs a;

    g_test_message ("%s", bad[i]);
    g_assert_false (noom_protocol_decode_request ("enter_room",
            json_node_get_array (node), default_limits (), &a, &error));
    g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
    g_assert_cmpstr (error->message, ==,
        "media must be an array of \"sfu\" and \"mesh\"");
  }
}

/* §3 "features": the join option and the participant member; names a
 * later protocol may add are skipped, anything but an array of strings is
 * refused at the join. */
static void
test_features (void)
{
  static const struct
  {
    const gchar *json;
    NoomFeatures features;
  } joins[] = {
    {"[\"enter_room\",\"demo\",{}]", NOOM_FEATURE_NONE},
    {"[\"enter_room\",\"demo\",{\"features\":null}]", NOOM_FEATURE_NONE},
    {"[\"enter_room\",\"demo\",{\"features\":[]}]", NOOM_FEATURE_NONE},
    {"[\"enter_room\",\"demo\",{\"features\":[\"screen\"]}]",
        NOOM_FEATURE_SCREEN},
    {"[\"enter_room\",\"demo\",{\"features\":[\"teleport\",\"screen\"]}]",
        NOOM_FEATURE_SCREEN},
  };
  static const gchar *const bad[] = {
    "[\"enter_room\",\"demo\",{\"features\":\"screen\"}]",
    "[\"enter_room\",\"demo\",{\"features\":[\"screen\",1]}]",
    "[\"enter_room\",\"demo\",{\"features\":{}}]",
  };
  NoomParticipant with = alice;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) without = NULL;
  g_autoptr (JsonNode) odd = NULL;
  g_autoptr (NoomParticipant) p = NULL;
  g_autoptr (NoomParticipant) q = NULL;
  NoomEventArgs a;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (joins); i++) {
    g_autoptr (JsonNode) join = parse_json (joins[i].json);
    g_autoptr (GError) error = NULL;

    g_test_message ("%s", joins[i].json);
    g_assert_true (noom_protocol_decode_request ("enter_room",
            json_node_get_array (join), default_limits (), &a, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (a.features, ==, joins[i].features);
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (JsonNode) join = parse_json (bad[i]);
    g_autoptr (GError) error = NULL;

    g_test_message ("%s", bad[i]);
    g_assert_false (noom_protocol_decode_request ("enter_room",
            json_node_get_array (join), default_limits (), &a, &error));
    g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
    g_assert_cmpstr (error->message, ==, "features must be an array of names");
  }
  {
    G_GNUC_UNUSED g_autoptr (JsonNode) join =
        request_round_trip (noom_protocol_encode_join_full ("demo", "rx",
            "subscriber", NOOM_MEDIA_NONE, NOOM_MEDIA_MODE_SFU,
            NOOM_FEATURE_SCREEN), &a);

    g_assert_cmpuint (a.features, ==, NOOM_FEATURE_SCREEN);
    g_assert_cmpuint (a.media, ==, NOOM_MEDIA_MODE_SFU);
  }

  /* the participant object: "features" only when there are some */
  with.features = NOOM_FEATURE_SCREEN;
  node = noom_protocol_encode_participant (&with);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member
          (json_node_get_object (node), "features")), ==, 1);
  p = noom_protocol_decode_participant (json_node_get_object (node), NULL);
  g_assert_cmpuint (p->features, ==, NOOM_FEATURE_SCREEN);
  without = noom_protocol_encode_participant (&alice);
  g_assert_false (json_object_has_member (json_node_get_object (without),
          "features"));
  odd = parse_json ("{\"id\":\"x\",\"nickname\":\"a\",\"kind\":\"browser\","
      "\"sends\":[\"video\"],\"features\":[2,\"screen\",\"hologram\"]}");
  q = noom_protocol_decode_participant (json_node_get_object (odd), NULL);
  g_assert_nonnull (q);
  g_assert_cmpuint (q->features, ==, NOOM_FEATURE_SCREEN);
}

static void
test_leave_room (void)
{
  NoomEventArgs a;
  G_GNUC_UNUSED g_autoptr (JsonNode) node =
      request_round_trip (noom_protocol_encode_leave_room (), &a);

  g_assert_cmpint (a.type, ==, NOOM_EVENT_LEAVE_ROOM);
}

static void
test_chat (void)
{
  NoomEventArgs a;
  G_GNUC_UNUSED g_autoptr (JsonNode) node =
      request_round_trip (noom_protocol_encode_chat ("hi <b>all</b>\n",
          "demo"), &a);

  g_assert_cmpint (a.type, ==, NOOM_EVENT_NEW_MESSAGE);
  g_assert_cmpstr (a.text, ==, "hi <b>all</b>\n");
  g_assert_cmpstr (a.room, ==, "demo");
}

static void
test_description (void)
{
  static const NoomEventType types[] = { NOOM_EVENT_OFFER, NOOM_EVENT_ANSWER };
  const gchar *sdp = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n";
  guint i;

  for (i = 0; i < G_N_ELEMENTS (types); i++) {
    NoomEventArgs a;
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        request_round_trip (noom_protocol_encode_description (types[i], sdp,
            "demo", alice.id), &a);
    JsonObject *d;

    g_assert_cmpint (a.type, ==, types[i]);
    g_assert_cmpstr (a.room, ==, "demo");
    g_assert_cmpstr (a.to, ==, alice.id);
    d = json_node_get_object (a.payload);
    g_assert_cmpstr (json_object_get_string_member (d, "type"), ==,
        noom_event_type_to_string (types[i]));
    g_assert_cmpstr (json_object_get_string_member (d, "sdp"), ==, sdp);
    /* The server fills it in (noom-event). */
    g_assert_cmpuint (a.sends, ==, 0);
  }
}

static void
test_ice (void)
{
  static const NoomCandidate cases[] = {
    {"candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host", "0", 0},
    {"candidate:2 1 TCP 1 ::1 9 typ host tcptype active", "audio", 7},
    {"candidate:3", NULL, 1},
    {NULL, NULL, 0},            /* the end of candidates */
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    NoomEventArgs a;
    NoomCandidate c;
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        request_round_trip (noom_protocol_encode_ice (&cases[i], "demo",
            bob.id), &a);

    g_assert_cmpint (a.type, ==, NOOM_EVENT_ICE);
    g_assert_cmpstr (a.room, ==, "demo");
    g_assert_cmpstr (a.to, ==, bob.id);
    g_assert_true (noom_protocol_decode_candidate (a.payload, &c));
    g_assert_cmpstr (c.candidate, ==, cases[i].candidate);
    g_assert_cmpstr (c.mid, ==, cases[i].mid);
    g_assert_cmpuint (c.mline_index, ==, cases[i].mline_index);
  }
}

static void
test_offer_failed (void)
{
  NoomEventArgs a;
  G_GNUC_UNUSED g_autoptr (JsonNode) node =
      request_round_trip (noom_protocol_encode_offer_failed ("media 0 is "
          "missing", "demo", alice.id), &a);

  g_assert_cmpint (a.type, ==, NOOM_EVENT_OFFER_FAILED);
  g_assert_cmpstr (a.room, ==, "demo");
  g_assert_cmpstr (a.to, ==, alice.id);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object
          (a.payload), "reason"), ==, "media 0 is missing");
}

/* Every request type has an encoder that the decoder reads back as that
 * type. */
static void
test_every_request (void)
{
  NoomCandidate end = { NULL, };
  JsonArray *encoded[NOOM_EVENT_LAST + 1] = {
    [NOOM_EVENT_NEW_MESSAGE] = noom_protocol_encode_chat ("x", "r"),
    [NOOM_EVENT_ICE] = noom_protocol_encode_ice (&end, "r", "p"),
    [NOOM_EVENT_OFFER] = noom_protocol_encode_description (NOOM_EVENT_OFFER,
        "v=0", "r", "p"),
    [NOOM_EVENT_ANSWER] = noom_protocol_encode_description (NOOM_EVENT_ANSWER,
        "v=0", "r", "p"),
    [NOOM_EVENT_JOIN] = noom_protocol_encode_join ("r", NULL, NULL, 0),
    [NOOM_EVENT_NICKNAME] = noom_protocol_encode_nickname ("n"),
    [NOOM_EVENT_LEAVE_ROOM] = noom_protocol_encode_leave_room (),
    [NOOM_EVENT_OFFER_FAILED] = noom_protocol_encode_offer_failed ("x", "r",
        "p"),
    [NOOM_EVENT_MEDIA_STATE] =
        noom_protocol_encode_media_state_request (NOOM_MEDIA_STATE_NONE),
  };
  guint i;

  for (i = 0; i <= NOOM_EVENT_LAST; i++) {
    NoomEventArgs a;
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        request_round_trip (encoded[i], &a);

    g_assert_cmpint (a.type, ==, i);
  }
}

/* The requests' refusals are test-event.c's; these are the rule of the
 * decoder itself. */
static void
test_request_refused (void)
{
  g_autoptr (JsonNode) node = parse_json ("[\"launch\",1]");
  g_autoptr (JsonNode) bad_sdp =
      parse_json ("[\"offer\",{\"type\":\"offer\",\"sdp\":\"a\\rb\"},5]");
  g_autoptr (GError) error = NULL;
  NoomEventArgs a;

  g_assert_false (noom_protocol_decode_request ("launch",
          json_node_get_array (node), default_limits (), &a, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_UNKNOWN_EVENT);
  g_assert_cmpstr (error->message, ==, "unknown event \"launch\"");
  g_clear_error (&error);

  /* The sdp is checked before the room. */
  g_assert_false (noom_protocol_decode_request ("offer",
          json_node_get_array (bad_sdp), default_limits (), &a, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
  g_assert_cmpstr (error->message, ==,
      "description sdp must be UTF-8 lines ending with CRLF or LF");
}

static void
test_sdp_is_text (void)
{
  g_assert_true (noom_protocol_sdp_is_text (""));
  g_assert_true (noom_protocol_sdp_is_text ("v=0\r\nm=audio 9 x 0\r\n"));
  g_assert_true (noom_protocol_sdp_is_text ("v=0\nm=audio 9 x 0"));
  g_assert_true (noom_protocol_sdp_is_text ("v=0\r"));
  g_assert_false (noom_protocol_sdp_is_text ("v=0\rm=audio 9 x 0\r\n"));
  g_assert_false (noom_protocol_sdp_is_text ("v=0\r\r\n"));
  g_assert_false (noom_protocol_sdp_is_text ("v=0\r\n\xff\r\n"));
}

/* ------------------------------------------------------ server to client */

static void
test_room_change (void)
{
  static const NoomRoomEntry rooms[] = {
    {"demo", 1}, {"방", 16}, {"z z", 3},
  };
  guint n;

  for (n = 0; n <= G_N_ELEMENTS (rooms); n++) {
    g_auto (NoomServerEvent) ev = { 0, };
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        event_round_trip (noom_protocol_encode_room_change (rooms, n), &ev);
    guint i;

    g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_ROOM_CHANGE);
    g_assert_cmpuint (ev.rooms->len, ==, n);
    for (i = 0; i < n; i++) {
      NoomRoomEntry *e = &g_array_index (ev.rooms, NoomRoomEntry, i);

      g_assert_cmpstr (e->name, ==, rooms[i].name);
      g_assert_cmpuint (e->count, ==, rooms[i].count);
    }
  }
}

static void
test_welcome_bye (void)
{
  guint i;

  for (i = 0; i < 2; i++) {
    g_auto (NoomServerEvent) ev = { 0, };
    G_GNUC_UNUSED g_autoptr (JsonNode) node = event_round_trip (i == 0 ?
        noom_protocol_encode_welcome (&alice, 3) :
        noom_protocol_encode_bye (&alice, 2), &ev);

    g_assert_cmpint (ev.type, ==, i == 0 ? NOOM_SERVER_EVENT_WELCOME :
        NOOM_SERVER_EVENT_BYE);
    g_assert_cmpstr (ev.nickname, ==, alice.nickname);
    g_assert_cmpuint (ev.count, ==, i == 0 ? 3 : 2);
    assert_participant (ev.participant, &alice);
  }
}

static void
test_participant_update (void)
{
  g_auto (NoomServerEvent) ev = { 0, };
  G_GNUC_UNUSED g_autoptr (JsonNode) node =
      event_round_trip (noom_protocol_encode_participant_update (&bob), &ev);

  g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_PARTICIPANT_UPDATE);
  assert_participant (ev.participant, &bob);
}

/* media_state and participant_media (§3, §5, §6) */
static void
test_media_state (void)
{
  NoomParticipant carol = {
    (gchar *) "Y2Fyb2xjYXJvbGNhcm9s", (gchar *) "carol", (gchar *) "browser",
    NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO,
    NOOM_MEDIA_STATE_VIDEO | NOOM_MEDIA_STATE_SCREEN
  };
  g_autoptr (NoomParticipant) fresh =
      noom_participant_new ("A", "a", "publisher", NOOM_MEDIA_VIDEO);
  g_autoptr (JsonNode) old = parse_json ("{\"id\":\"A\",\"nickname\":"
      "\"a\",\"kind\":\"browser\",\"sends\":[\"audio\"]}");
  g_autoptr (JsonNode) odd = parse_json ("{\"id\":\"A\",\"nickname\":"
      "\"a\",\"kind\":\"browser\",\"sends\":[\"audio\"],\"media_state\":"
      "{\"audio\":1,\"video\":true,\"screen\":true}}");
  g_autoptr (NoomParticipant) old_p = NULL;
  g_autoptr (NoomParticipant) odd_p = NULL;
  g_auto (NoomServerEvent) ev = { 0, };
  g_auto (NoomServerEvent) update = { 0, };
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) update_node = NULL;
  g_autofree gchar *ack = NULL;
  NoomEventArgs a;
  G_GNUC_UNUSED g_autoptr (JsonNode) request =
      request_round_trip (noom_protocol_encode_media_state_request
      (NOOM_MEDIA_STATE_AUDIO | NOOM_MEDIA_STATE_SCREEN), &a);

  g_assert_cmpint (a.type, ==, NOOM_EVENT_MEDIA_STATE);
  g_assert_cmpuint (a.state_given, ==, NOOM_MEDIA_STATE_ALL);
  g_assert_cmpuint (a.state, ==,
      NOOM_MEDIA_STATE_AUDIO | NOOM_MEDIA_STATE_SCREEN);

  node = event_round_trip (noom_protocol_encode_participant_media (carol.id,
          carol.state), &ev);
  g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_PARTICIPANT_MEDIA);
  g_assert_cmpstr (ev.from, ==, carol.id);
  g_assert_cmpuint (ev.media_state, ==, carol.state);

  /* The participant object carries it. */
  update_node =
      event_round_trip (noom_protocol_encode_participant_update (&carol),
      &update);
  assert_participant (update.participant, &carol);

  /* A newcomer sends what it announced; an older server says nothing:
   * its sends; what it does not send is never on. */
  g_assert_cmpuint (fresh->state, ==, NOOM_MEDIA_STATE_VIDEO);
  old_p = noom_protocol_decode_participant (json_node_get_object (old), NULL);
  g_assert_cmpuint (old_p->state, ==, NOOM_MEDIA_STATE_AUDIO);
  odd_p = noom_protocol_decode_participant (json_node_get_object (odd), NULL);
  g_assert_cmpuint (odd_p->state, ==, NOOM_MEDIA_STATE_NONE);

  ack = take_ack (noom_protocol_encode_media_state_result
      (NOOM_MEDIA_STATE_VIDEO), 4);
  g_assert_cmpstr (ack, ==, "434[{\"ok\":true,\"media_state\":{\"audio\":"
      "false,\"video\":true,\"screen\":false}}]");
}

static void
test_message (void)
{
  g_auto (NoomServerEvent) ev = { 0, };
  G_GNUC_UNUSED g_autoptr (JsonNode) node =
      event_round_trip (noom_protocol_encode_message ("demo", bob.id, "bob",
          "hi <b>all</b>", 1795000000000), &ev);

  g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_NEW_MESSAGE);
  g_assert_cmpstr (ev.line, ==, "bob: hi <b>all</b>");
  g_assert_cmpstr (ev.room, ==, "demo");
  g_assert_cmpstr (ev.from, ==, bob.id);
  g_assert_cmpstr (ev.nickname, ==, "bob");
  g_assert_cmpstr (ev.text, ==, "hi <b>all</b>");
  g_assert_cmpint (ev.ts, ==, 1795000000000);
}

/* A request relayed: what the client sent, from its sender. */
static void
test_relay (void)
{
  NoomCandidate c = { "candidate:1 1 UDP 1 10.0.0.1 9 typ host", "1", 1 };
  JsonArray *requests[] = {
    noom_protocol_encode_description (NOOM_EVENT_OFFER, "v=0\r\n", "demo",
        bob.id),
    noom_protocol_encode_description (NOOM_EVENT_ANSWER, "v=0\n", "demo",
        bob.id),
    noom_protocol_encode_ice (&c, "demo", bob.id),
    noom_protocol_encode_offer_failed ("no codec", "demo", bob.id),
  };
  static const NoomServerEventType want[] = {
    NOOM_SERVER_EVENT_OFFER, NOOM_SERVER_EVENT_ANSWER, NOOM_SERVER_EVENT_ICE,
    NOOM_SERVER_EVENT_OFFER_FAILED,
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (requests); i++) {
    NoomEventArgs a;
    g_auto (NoomServerEvent) ev = { 0, };
    G_GNUC_UNUSED g_autoptr (JsonNode) request =
        request_round_trip (requests[i], &a);
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        event_round_trip (noom_protocol_encode_relay (a.type, a.payload,
            alice.id), &ev);

    g_assert_cmpint (ev.type, ==, want[i]);
    g_assert_cmpstr (ev.from, ==, alice.id);
    g_assert_true (json_node_equal (ev.payload, a.payload));
    switch (ev.type) {
      case NOOM_SERVER_EVENT_OFFER:
        g_assert_cmpstr (ev.sdp, ==, "v=0\r\n");
        break;
      case NOOM_SERVER_EVENT_ANSWER:
        g_assert_cmpstr (ev.sdp, ==, "v=0\n");
        break;
      case NOOM_SERVER_EVENT_ICE:
        g_assert_cmpstr (ev.candidate.candidate, ==, c.candidate);
        g_assert_cmpstr (ev.candidate.mid, ==, c.mid);
        g_assert_cmpuint (ev.candidate.mline_index, ==, c.mline_index);
        break;
      default:
        g_assert_cmpstr (ev.reason, ==, "no codec");
        break;
    }
  }
}

/* §11: media_relay, and the relay's errors passed through as written. */
/* media_bandwidth (§11): the relay's word to a publisher; a value that
 * is not a bit rate is refused, not read as 0 ("no limit"). */
static void
test_media_bandwidth (void)
{
  static const gchar *const bad[] = {
    "[\"media_bandwidth\"]",
    "[\"media_bandwidth\",{}]",
    "[\"media_bandwidth\",{\"base_bitrate\":-1}]",
    "[\"media_bandwidth\",{\"base_bitrate\":\"300000\"}]",
    "[\"media_bandwidth\",{\"base_bitrate\":4294967296}]",
  };
  g_autofree gchar *frame = take_frame (noom_protocol_encode_media_bandwidth
      (225000), -1);
  g_auto (NoomServerEvent) ev = { 0, };
  G_GNUC_UNUSED g_autoptr (JsonNode) node =
      event_round_trip (noom_protocol_encode_media_bandwidth (0), &ev);
  guint i;

  g_assert_cmpstr (frame, ==,
      "42[\"media_bandwidth\",{\"base_bitrate\":225000}]");
  g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_MEDIA_BANDWIDTH);
  g_assert_cmpuint (ev.base_bitrate, ==, 0);
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (JsonNode) args = parse_json (bad[i]);
    g_auto (NoomServerEvent) out = { 0, };
    g_autoptr (GError) error = NULL;

    g_assert_false (noom_protocol_decode_event (json_node_get_array (args),
            &out, &error));
    g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
  }
}

static void
test_media_relay (void)
{
  static const gchar *const states[] = {
    NOOM_MEDIA_RELAY_STATE_RESTARTING, NOOM_MEDIA_RELAY_STATE_READY,
  };
  g_autofree gchar *frame = take_frame (noom_protocol_encode_media_relay
      (NOOM_MEDIA_RELAY_STATE_RESTARTING), -1);
  guint i;

  g_assert_cmpstr (frame, ==, "42[\"media_relay\",{\"state\":\"restarting\"}]");
  for (i = 0; i < G_N_ELEMENTS (states); i++) {
    g_auto (NoomServerEvent) ev = { 0, };
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        event_round_trip (noom_protocol_encode_media_relay (states[i]), &ev);

    g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_MEDIA_RELAY);
    g_assert_cmpstr (ev.state, ==, states[i]);
  }
  {
    g_auto (NoomServerEvent) ev = { 0, };
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        event_round_trip (noom_protocol_encode_error_code ("unsupported_codec",
            "no VP8 in your answer", "offer"), &ev);

    g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_NOOM_ERROR);
    g_assert_cmpstr (ev.code, ==, "unsupported_codec");
    g_assert_cmpstr (ev.message, ==, "no VP8 in your answer");
    g_assert_cmpstr (ev.event, ==, "offer");
  }
  /* A relay offer as the server relays it: from "~sfu", tracks kept. */
  {
    g_autoptr (JsonNode) description =
        parse_json ("{\"type\":\"offer\",\"sdp\":\"v=0\\r\\n\","
        "\"tracks\":[{\"mid\":\"0\",\"kind\":\"video\",\"id\":\"x\","
        "\"upload\":true}]}");
    g_auto (NoomServerEvent) ev = { 0, };
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        event_round_trip (noom_protocol_encode_relay (NOOM_EVENT_OFFER,
            description, NOOM_SFU_RELAY_ID), &ev);

    g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_OFFER);
    g_assert_cmpstr (ev.from, ==, "~sfu");
    g_assert_cmpstr (ev.sdp, ==, "v=0\r\n");
    g_assert_true (json_node_equal (ev.payload, description));
  }
}

/* The codes of §4, as the wire spells them. */
static void
test_error_codes (void)
{
  static const gchar *const want[] = {
    "bad_argument", "bad_name", "name_too_long", "room_full", "not_in_room",
    "unknown_peer", "unknown_event", "rate_limited", "forbidden",
    "sfu_required", "unsupported_codec", "unavailable",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (want); i++)
    g_assert_cmpstr (noom_room_error_to_code (i), ==, want[i]);
  g_assert_cmpuint (NOOM_ROOM_ERROR_UNAVAILABLE + 1, ==,
      G_N_ELEMENTS (want));
}

static void
test_error_event (void)
{
  g_autofree gchar *long_name = g_strnfill (100, 'e');
  g_autofree gchar *clipped = noom_event_clip (long_name, 64);
  guint i;

  for (i = 0; i < 2; i++) {
    g_auto (NoomServerEvent) ev = { 0, };
    G_GNUC_UNUSED g_autoptr (JsonNode) node =
        event_round_trip (noom_protocol_encode_error
        (NOOM_ROOM_ERROR_NOT_IN_ROOM, "you are not in room \"x\"",
            i == 0 ? "offer" : long_name), &ev);

    g_assert_cmpint (ev.type, ==, NOOM_SERVER_EVENT_NOOM_ERROR);
    g_assert_cmpstr (ev.code, ==, "not_in_room");
    g_assert_cmpstr (ev.message, ==, "you are not in room \"x\"");
    g_assert_cmpstr (ev.event, ==, i == 0 ? "offer" : clipped);
  }
}

/* What the client needs and does not get from a server event. */
static void
test_event_refused (void)
{
  static const struct
  {
    const gchar *json;
    gint code;                  /* -1: decoded */
    const gchar *message;
  } cases[] = {
    {"[\"launch\"]", NOOM_ROOM_ERROR_UNKNOWN_EVENT, "unknown event \"launch\""},
    {"[5]", NOOM_ROOM_ERROR_UNKNOWN_EVENT, "unknown event \"(not a string)\""},
    {"[\"welcome\",\"a\",2,{\"id\":\"x\"}]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "The server sent a participant without id, nickname, kind or sends"},
    {"[\"bye\",\"a\",1,{\"id\":\"\",\"nickname\":\"a\",\"kind\":\"browser\","
          "\"sends\":[]}]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "The server sent a participant without id, nickname, kind or sends"},
    {"[\"participant_update\",{\"id\":\"x\",\"nickname\":\"a\",\"kind\":"
          "\"browser\",\"sends\":[1]}]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "The server sent a participant whose sends is not a list of names"},
    {"[\"ice\",5,\"x\"]", NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "the candidate is not an object"},
    /* A seed server: no participant, no details; the client ignores them
     * without an error. */
    {"[\"welcome\",\"a\",2]", -1, NULL},
    {"[\"new_message\",\"a: hi\"]", -1, NULL},
    {"[\"offer\"]", -1, NULL},
    {"[\"noom_error\"]", -1, NULL},
    {"[\"room_change\",5,{}]", -1, NULL},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (JsonNode) node = parse_json (cases[i].json);
    g_auto (NoomServerEvent) ev = { 0, };
    g_autoptr (GError) error = NULL;
    gboolean ok;

    g_test_message ("%s", cases[i].json);
    ok = noom_protocol_decode_event (json_node_get_array (node), &ev, &error);
    if (cases[i].code < 0) {
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_null (ev.participant);
      g_assert_null (ev.from);
      g_assert_null (ev.code);
      continue;
    }
    g_assert_false (ok);
    g_assert_error (error, NOOM_ROOM_ERROR, cases[i].code);
    g_assert_cmpstr (error->message, ==, cases[i].message);
  }
}

/* Media a later protocol may add are skipped, not refused. */
static void
test_participant_unknown_media (void)
{
  g_autoptr (JsonNode) node = parse_json ("{\"id\":\"x\",\"nickname\":\"a\","
      "\"kind\":\"hologram\",\"sends\":[\"smell\",\"video\"]}");
  g_autoptr (NoomParticipant) p =
      noom_protocol_decode_participant (json_node_get_object (node), NULL);

  g_assert_nonnull (p);
  g_assert_cmpstr (p->kind, ==, "hologram");
  g_assert_cmpuint (p->sends, ==, NOOM_MEDIA_VIDEO);
}

/* ------------------------------------------------------------- answers */

/* An answer (taken), as the client reads it; *@keep holds it. */
static JsonObject *
answer_round_trip (JsonArray * args, JsonNode ** keep)
{
  g_autofree gchar *text = take_ack (args, 7);
  g_autoptr (GError) error = NULL;
  NoomSioPacket *packet;
  JsonObject *answer;

  packet = noom_sio_packet_parse (text + 1, strlen (text + 1), &error);
  g_assert_no_error (error);
  g_assert_cmpint (packet->type, ==, NOOM_SIO_ACK);
  g_assert_cmpint (packet->id, ==, 7);
  *keep = g_steal_pointer (&packet->data);
  noom_sio_packet_free (packet);
  answer = noom_protocol_decode_answer (json_node_get_array (*keep), &error);
  g_assert_no_error (error);
  g_assert_nonnull (answer);
  return answer;
}

static void
assert_no_refusal (JsonObject * answer)
{
  const gchar *code, *message;

  g_assert_false (noom_protocol_decode_refusal (answer, &code, &message));
  g_assert_true (json_object_get_boolean_member (answer, "ok"));
}

static void
test_answers (void)
{
  g_autoptr (JsonNode) a = NULL;
  g_autoptr (JsonNode) b = NULL;
  g_autoptr (JsonNode) c = NULL;
  g_autoptr (JsonNode) d = NULL;
  g_autoptr (JsonNode) e = NULL;
  JsonObject *answer;
  const gchar *code, *message;

  answer = answer_round_trip (noom_protocol_encode_ok (), &a);
  assert_no_refusal (answer);

  answer = answer_round_trip (noom_protocol_encode_nickname_result ("kim"), &b);
  assert_no_refusal (answer);
  g_assert_cmpstr (noom_protocol_decode_nickname_result (answer), ==, "kim");

  answer = answer_round_trip (noom_protocol_encode_leave_result ("demo"), &c);
  assert_no_refusal (answer);
  g_assert_cmpstr (json_object_get_string_member (answer, "room"), ==, "demo");

  answer = answer_round_trip (noom_protocol_encode_chat_result (17), &d);
  assert_no_refusal (answer);
  g_assert_cmpint (json_object_get_int_member (answer, "ts"), ==, 17);

  answer = answer_round_trip (noom_protocol_encode_refusal
      (NOOM_ROOM_ERROR_ROOM_FULL, "room \"demo\" is full (16 participants)"),
      &e);
  g_assert_true (noom_protocol_decode_refusal (answer, &code, &message));
  g_assert_cmpstr (code, ==, "room_full");
  g_assert_cmpstr (message, ==, "room \"demo\" is full (16 participants)");
}

static void
collect_url (const gchar * url, const gchar * username,
    const gchar * credential, gpointer user_data)
{
  g_ptr_array_add (user_data, g_strdup_printf ("%s %s %s", url,
          username ? username : "-", credential ? credential : "-"));
}

static void
test_ice_servers (void)
{
  static const gchar *const stun[] = { "stun:a:3478", "stuns:b", NULL };
  static const gchar *const turn[] = { "turn:c?transport=tcp", NULL };
  const NoomIceServer servers[] = {
    {stun, NULL, NULL},
    {turn, "1700000000:id", "c2VjcmV0"},
  };
  g_autoptr (JsonArray) encoded = noom_protocol_encode_ice_servers (servers,
      G_N_ELEMENTS (servers));
  g_autoptr (JsonNode) inline_urls =
      parse_json ("[{\"urls\":\"stun:d\"},5,{\"urls\":[6,\"stun:e\"]},{}]");
  g_autoptr (GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);

  noom_protocol_decode_ice_servers (encoded, collect_url, urls);
  g_assert_cmpuint (urls->len, ==, 3);
  g_assert_cmpstr (urls->pdata[0], ==, "stun:a:3478 - -");
  g_assert_cmpstr (urls->pdata[1], ==, "stuns:b - -");
  g_assert_cmpstr (urls->pdata[2], ==,
      "turn:c?transport=tcp 1700000000:id c2VjcmV0");

  /* One URL as a string; what is not an RTCIceServer is skipped. */
  g_ptr_array_set_size (urls, 0);
  noom_protocol_decode_ice_servers (json_node_get_array (inline_urls),
      collect_url, urls);
  g_assert_cmpuint (urls->len, ==, 2);
  g_assert_cmpstr (urls->pdata[0], ==, "stun:d - -");
  g_assert_cmpstr (urls->pdata[1], ==, "stun:e - -");
}

static void
test_join_result (void)
{
  static const gchar *const stun[] = { "stun:a", NULL };
  const NoomIceServer server = { stun, NULL, NULL };
  g_autoptr (JsonArray) ice = noom_protocol_encode_ice_servers (&server, 1);
  g_autoptr (GPtrArray) others = g_ptr_array_new ();
  NoomJoinResult result = {
    .room = "demo",.id = bob.id,.self = (NoomParticipant *) & bob,
    .participants = others,.count = 3,.ice_servers = ice,
    .max_room_size = 16,
  };
  g_auto (NoomJoinResult) out = { 0, };
  g_autoptr (JsonNode) keep = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) urls = g_ptr_array_new_with_free_func (g_free);
  JsonObject *answer;

  g_ptr_array_add (others, (gpointer) & alice);
  g_ptr_array_add (others, (gpointer) & alice);
  answer = answer_round_trip (noom_protocol_encode_join_result (&result),
      &keep);
  assert_no_refusal (answer);
  g_assert_true (noom_protocol_decode_join_result (answer, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (out.room, ==, "demo");
  g_assert_cmpstr (out.id, ==, bob.id);
  assert_participant (out.self, &bob);
  g_assert_cmpuint (out.participants->len, ==, 2);
  assert_participant (out.participants->pdata[0], &alice);
  assert_participant (out.participants->pdata[1], &alice);
  g_assert_cmpuint (out.count, ==, 3);
  g_assert_cmpuint (out.max_room_size, ==, 16);
  noom_protocol_decode_ice_servers (out.ice_servers, collect_url, urls);
  g_assert_cmpuint (urls->len, ==, 1);
  g_assert_cmpstr (urls->pdata[0], ==, "stun:a - -");
  /* A mesh room says so, and names no relay. */
  g_assert_cmpstr (out.media, ==, "mesh");
  g_assert_null (out.relay);
  g_assert_cmpuint (out.max_publishers, ==, 0);
}

/* §11: an SFU room's join answer; and an older server's, which says
 * nothing of media. */
static void
test_join_result_sfu (void)
{
  g_autoptr (GPtrArray) others = g_ptr_array_new ();
  NoomJoinResult result = {
    .room = "demo",.id = bob.id,.self = (NoomParticipant *) & bob,
    .participants = others,.count = 1,.max_room_size = 500,
    .media = NOOM_MEDIA_MODE_NAME_SFU,.relay = NOOM_SFU_RELAY_ID,
    .max_publishers = 16,
  };
  g_auto (NoomJoinResult) out = { 0, };
  g_auto (NoomJoinResult) old = { 0, };
  g_autoptr (JsonNode) keep = NULL;
  g_autoptr (JsonNode) old_node = parse_json ("{\"ok\":true,\"room\":\"r\","
      "\"self\":{\"id\":\"A\",\"nickname\":\"a\",\"kind\":\"browser\","
      "\"sends\":[]},\"participants\":[],\"count\":1}");
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = NULL;
  JsonObject *answer;

  text = take_ack (noom_protocol_encode_join_result (&result), 0);
  g_assert_nonnull (strstr (text, ",\"maxRoomSize\":500,\"media\":\"sfu\","
          "\"relay\":\"~sfu\",\"maxPublishers\":16}]"));
  answer = answer_round_trip (noom_protocol_encode_join_result (&result),
      &keep);
  assert_no_refusal (answer);
  g_assert_true (noom_protocol_decode_join_result (answer, &out, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out.max_room_size, ==, 500);
  g_assert_cmpstr (out.media, ==, "sfu");
  g_assert_cmpstr (out.relay, ==, "~sfu");
  g_assert_cmpuint (out.max_publishers, ==, 16);

  g_assert_true (noom_protocol_decode_join_result (json_node_get_object
          (old_node), &old, &error));
  g_assert_no_error (error);
  g_assert_null (old.media);
  g_assert_null (old.relay);
  g_assert_cmpuint (old.max_publishers, ==, 0);
  g_assert_cmpuint (old.max_room_size, ==, 0);
}

/* The client's refusals of a join answer, word for word (its callers
 * see them as NOOM_CLIENT_ERROR_PROTOCOL). */
static void
test_answer_refused (void)
{
  static const struct
  {
    const gchar *args;
    const gchar *message;
  } cases[] = {
    {"[]", "The server's answer is not an object (is it a Noom server?)"},
    {"[5]", "The server's answer is not an object (is it a Noom server?)"},
    {"[{\"ok\":true}]",
        "The server's join answer lacks room, self, participants or count"},
    {"[{\"ok\":true,\"room\":\"r\",\"self\":{\"id\":\"A\"},"
          "\"participants\":[],\"count\":1}]",
        "The server sent a participant without id, nickname, kind or sends"},
    {"[{\"ok\":true,\"room\":\"r\",\"self\":{\"id\":\"A\",\"nickname\":\"a\","
          "\"kind\":\"browser\",\"sends\":[]},\"participants\":[5],"
          "\"count\":2}]",
        "The server's join answer has a participant that is not an object"},
    {"[{\"ok\":true,\"room\":\"r\",\"self\":{\"id\":\"A\",\"nickname\":\"a\","
          "\"kind\":\"browser\",\"sends\":[]},\"participants\":[],"
          "\"count\":0}]",
        "The server's join answer lacks room, self, participants or count"},
  };
  guint i;

  /* An ack without arguments ("30"). */
  {
    g_autoptr (GError) error = NULL;

    g_assert_null (noom_protocol_decode_answer (NULL, &error));
    g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
  }
  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autoptr (JsonNode) node = parse_json (cases[i].args);
    g_autoptr (GError) error = NULL;
    g_auto (NoomJoinResult) out = { 0, };
    JsonObject *answer;

    g_test_message ("%s", cases[i].args);
    answer = noom_protocol_decode_answer (json_node_get_array (node), &error);
    if (answer)
      g_assert_false (noom_protocol_decode_join_result (answer, &out, &error));
    g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
    g_assert_cmpstr (error->message, ==, cases[i].message);
  }
}

/* ------------------------------------------------------------- CONNECT */

static void
test_connect (void)
{
  g_autoptr (JsonObject) auth = noom_protocol_encode_auth ("eyJ.x.y");
  g_autoptr (JsonNode) data =
      noom_protocol_encode_connect_refusal (NOOM_ROOM_ERROR_FORBIDDEN);
  g_autoptr (JsonObject) payload = json_object_new ();
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autoptr (JsonNode) text = json_node_new (JSON_NODE_VALUE);
  const gchar *message, *code;

  g_assert_cmpstr (noom_protocol_decode_auth (auth), ==, "eyJ.x.y");
  g_assert_null (noom_protocol_encode_auth (NULL));
  g_assert_null (noom_protocol_decode_auth (NULL));

  /* 44{"message":"…","data":{"code":"…"}}: noom-sio writes the message. */
  json_object_set_string_member (payload, "message", "the token has expired");
  json_object_set_member (payload, "data", json_node_copy (data));
  json_node_set_object (node, payload);
  noom_protocol_decode_connect_refusal (node, &message, &code);
  g_assert_cmpstr (message, ==, "the token has expired");
  g_assert_cmpstr (code, ==, "forbidden");

  json_node_set_string (text, "no");
  noom_protocol_decode_connect_refusal (text, &message, &code);
  g_assert_cmpstr (message, ==, "no");
  g_assert_null (code);
}

/* ------------------------------------------------- the wire, verbatim */

/* The frames of docs/protocol.md §9. */
static void
test_wire_examples (void)
{
  const NoomParticipant newcomer = {
    (gchar *) "N1dbcXzXbJ5bLJpnAAAB", (gchar *) "bob", (gchar *) "browser",
    NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO,
    NOOM_MEDIA_STATE_AUDIO | NOOM_MEDIA_STATE_VIDEO
  };
  static const NoomRoomEntry demo = { "demo", 1 };
  g_autoptr (GPtrArray) none = g_ptr_array_new ();
  NoomJoinResult joined = {
    .room = "demo",.id = newcomer.id,.self = (NoomParticipant *) & newcomer,
    .participants = none,.count = 1,.max_room_size = 16,
  };
  struct
  {
    gchar *got;
    const gchar *want;
  } cases[] = {
    {take_frame (noom_protocol_encode_room_change (&demo, 1), -1),
        "42[\"room_change\",[\"demo\"],[{\"name\":\"demo\",\"count\":1}]]"},
    {take_frame (noom_protocol_encode_welcome (&newcomer, 2), -1),
        "42[\"welcome\",\"bob\",2,{\"id\":\"N1dbcXzXbJ5bLJpnAAAB\","
          "\"nickname\":\"bob\",\"kind\":\"browser\","
          "\"sends\":[\"audio\",\"video\"],\"media_state\":{\"audio\":true,"
          "\"video\":true,\"screen\":false}}]"},
    {take_frame (noom_protocol_encode_join ("demo", "bob", NULL,
                  NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO), 0),
        "420[\"enter_room\",\"demo\",{\"nickname\":\"bob\","
          "\"sends\":[\"audio\",\"video\"]}]"},
    {take_frame (noom_protocol_encode_chat ("hi <b>all</b>", "demo"), 1),
        "421[\"new_message\",\"hi <b>all</b>\",\"demo\"]"},
    {take_frame (noom_protocol_encode_message ("demo", "N1db", "bob",
                  "hi <b>all</b>", 1795000000000), -1),
        "42[\"new_message\",\"bob: hi <b>all</b>\",{\"room\":\"demo\","
          "\"from\":\"N1db\",\"nickname\":\"bob\",\"text\":\"hi <b>all</b>\","
          "\"ts\":1795000000000}]"},
    {take_frame (noom_protocol_encode_error (NOOM_ROOM_ERROR_NOT_IN_ROOM,
                  "you are not in room \"elsewhere\"", "offer"), -1),
        "42[\"noom_error\",{\"code\":\"not_in_room\",\"message\":"
          "\"you are not in room \\\"elsewhere\\\"\",\"event\":\"offer\"}]"},
    {take_frame (noom_protocol_encode_leave_room (), 3),
        "423[\"leave_room\"]"},
    {take_ack (noom_protocol_encode_chat_result (1795000000000), 1),
        "431[{\"ok\":true,\"ts\":1795000000000}]"},
    {take_ack (noom_protocol_encode_refusal (NOOM_ROOM_ERROR_BAD_NAME,
                  "room name contains control characters"), 2),
        "432[{\"error\":{\"code\":\"bad_name\",\"message\":"
          "\"room name contains control characters\"}}]"},
    {take_ack (noom_protocol_encode_leave_result ("demo"), 3),
        "433[{\"ok\":true,\"room\":\"demo\"}]"},
    {take_ack (noom_protocol_encode_join_result (&joined), 0),
        "430[{\"ok\":true,\"room\":\"demo\",\"id\":\"N1dbcXzXbJ5bLJpnAAAB\","
          "\"self\":{\"id\":\"N1dbcXzXbJ5bLJpnAAAB\",\"nickname\":\"bob\","
          "\"kind\":\"browser\",\"sends\":[\"audio\",\"video\"],"
          "\"media_state\":{\"audio\":true,\"video\":true,\"screen\":false}},"
          "\"participants\":[],\"count\":1,\"iceServers\":[],"
          "\"maxRoomSize\":16,\"media\":\"mesh\"}]"},
    {take_frame (noom_protocol_encode_media_state_request
              (NOOM_MEDIA_STATE_VIDEO), 4),
        "424[\"media_state\",{\"audio\":false,\"video\":true,"
          "\"screen\":false}]"},
    {take_ack (noom_protocol_encode_media_state_result
              (NOOM_MEDIA_STATE_VIDEO), 4),
        "434[{\"ok\":true,\"media_state\":{\"audio\":false,\"video\":true,"
          "\"screen\":false}}]"},
    {take_frame (noom_protocol_encode_participant_media
              ("N1dbcXzXbJ5bLJpnAAAB", NOOM_MEDIA_STATE_VIDEO), -1),
        "42[\"participant_media\",{\"audio\":false,\"video\":true,"
          "\"screen\":false,\"id\":\"N1dbcXzXbJ5bLJpnAAAB\"}]"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_assert_cmpstr (cases[i].got, ==, cases[i].want);
    g_free (cases[i].got);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/protocol/request/nickname", test_nickname);
  g_test_add_func ("/protocol/request/join", test_join);
  g_test_add_func ("/protocol/request/join-media", test_join_media);
  g_test_add_func ("/protocol/request/features", test_features);
  g_test_add_func ("/protocol/request/leave-room", test_leave_room);
  g_test_add_func ("/protocol/request/chat", test_chat);
  g_test_add_func ("/protocol/request/description", test_description);
  g_test_add_func ("/protocol/request/ice", test_ice);
  g_test_add_func ("/protocol/request/offer-failed", test_offer_failed);
  g_test_add_func ("/protocol/request/every-type", test_every_request);
  g_test_add_func ("/protocol/request/refused", test_request_refused);
  g_test_add_func ("/protocol/sdp-is-text", test_sdp_is_text);
  g_test_add_func ("/protocol/event/room-change", test_room_change);
  g_test_add_func ("/protocol/event/welcome-bye", test_welcome_bye);
  g_test_add_func ("/protocol/event/participant-update",
      test_participant_update);
  g_test_add_func ("/protocol/event/new-message", test_message);
  g_test_add_func ("/protocol/event/media-state", test_media_state);
  g_test_add_func ("/protocol/event/relay", test_relay);
  g_test_add_func ("/protocol/event/noom-error", test_error_event);
  g_test_add_func ("/protocol/event/media-relay", test_media_relay);
  g_test_add_func ("/protocol/event/media-bandwidth", test_media_bandwidth);
  g_test_add_func ("/protocol/error-codes", test_error_codes);
  g_test_add_func ("/protocol/event/refused", test_event_refused);
  g_test_add_func ("/protocol/participant/unknown-media",
      test_participant_unknown_media);
  g_test_add_func ("/protocol/answer/results", test_answers);
  g_test_add_func ("/protocol/answer/ice-servers", test_ice_servers);
  g_test_add_func ("/protocol/answer/join", test_join_result);
  g_test_add_func ("/protocol/answer/join-sfu", test_join_result_sfu);
  g_test_add_func ("/protocol/answer/refused", test_answer_refused);
  g_test_add_func ("/protocol/connect", test_connect);
  g_test_add_func ("/protocol/wire-examples", test_wire_examples);
  return g_test_run ();
}
