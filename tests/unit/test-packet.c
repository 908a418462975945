/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Codec vectors for noom-packet: Engine.IO v4 packets and polling payloads,
 * Socket.IO v4 packets, including the malformed cases of the test suites.
 */
#include <string.h>

#include "noom-base64.h"
#include "noom-packet.h"

static void
assert_bytes_eq (GBytes * bytes, const gchar * expected, gsize expected_len)
{
  gsize len;
  const gchar *data = g_bytes_get_data (bytes, &len);

  if (len != expected_len || memcmp (data, expected, len) != 0) {
    g_autofree gchar *got = g_strndup (data, len);
    g_error ("expected '%s', got '%s'", expected, got);
  }
}

#define assert_bytes_str(b, s) assert_bytes_eq (b, s, strlen (s))

static void
test_eio_decode (void)
{
  static const struct
  {
    const gchar *text;
    NoomEioType type;
    const gchar *data;
  } good[] = {
    {"0{\"sid\":\"x\"}", NOOM_EIO_OPEN, "{\"sid\":\"x\"}"},
    {"1", NOOM_EIO_CLOSE, ""},
    {"2", NOOM_EIO_PING, ""},
    {"2probe", NOOM_EIO_PING, "probe"},
    {"3probe", NOOM_EIO_PONG, "probe"},
    {"4hello", NOOM_EIO_MESSAGE, "hello"},
    {"4€ é", NOOM_EIO_MESSAGE, "€ é"},
    {"5", NOOM_EIO_UPGRADE, ""},
    {"6", NOOM_EIO_NOOP, ""},
  };
  static const struct
  {
    const gchar *text;
    gsize len;
    gint code;
  } bad[] = {
    {"", 0, NOOM_PROTOCOL_ERROR_EMPTY},
    {"7", 1, NOOM_PROTOCOL_ERROR_BAD_TYPE},
    {"a123", 4, NOOM_PROTOCOL_ERROR_BAD_TYPE},
    {"b", 1, NOOM_PROTOCOL_ERROR_BAD_TYPE},
    {"\x1e", 1, NOOM_PROTOCOL_ERROR_BAD_TYPE},
    {"4\xff\xfe", 3, NOOM_PROTOCOL_ERROR_BAD_ENCODING},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (good); i++) {
    NoomEioPacket p;
    g_autoptr (GError) error = NULL;

    g_assert_true (noom_eio_decode (good[i].text, strlen (good[i].text), &p,
            &error));
    g_assert_no_error (error);
    g_assert_cmpint (p.type, ==, good[i].type);
    g_assert_false (p.binary);
    g_assert_cmpuint (p.len, ==, strlen (good[i].data));
    g_assert_true (memcmp (p.data, good[i].data, p.len) == 0);
    /* zero copy: data points into the input */
    g_assert_true (p.data == good[i].text + 1);
  }
  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    NoomEioPacket p;
    g_autoptr (GError) error = NULL;

    g_assert_false (noom_eio_decode (bad[i].text, bad[i].len, &p, &error));
    g_assert_error (error, NOOM_PROTOCOL_ERROR, bad[i].code);
  }
}

static void
test_eio_encode (void)
{
  g_autoptr (GBytes) a = noom_eio_encode (NOOM_EIO_MESSAGE, "hello", 5);
  g_autoptr (GBytes) b = noom_eio_encode (NOOM_EIO_PING, NULL, 0);
  g_autoptr (GBytes) c = noom_eio_encode (NOOM_EIO_PONG, "probe", 5);

  assert_bytes_str (a, "4hello");
  assert_bytes_str (b, "2");
  assert_bytes_str (c, "3probe");
}

static void
test_eio_payload_decode (void)
{
  static const gchar body[] = "4hello\x1e" "2\x1e" "bAQIDBA==\x1e" "4€";
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) packets =
      noom_eio_payload_decode (body, sizeof (body) - 1, &error);
  NoomEioPacket *p;

  g_assert_no_error (error);
  g_assert_nonnull (packets);
  g_assert_cmpuint (packets->len, ==, 4);
  p = &g_array_index (packets, NoomEioPacket, 0);
  g_assert_cmpint (p->type, ==, NOOM_EIO_MESSAGE);
  g_assert_cmpuint (p->len, ==, 5);
  g_assert_true (memcmp (p->data, "hello", 5) == 0);
  p = &g_array_index (packets, NoomEioPacket, 1);
  g_assert_cmpint (p->type, ==, NOOM_EIO_PING);
  g_assert_cmpuint (p->len, ==, 0);
  p = &g_array_index (packets, NoomEioPacket, 2);
  g_assert_cmpint (p->type, ==, NOOM_EIO_MESSAGE);
  g_assert_true (p->binary);
  g_assert_cmpuint (p->len, ==, 4);
  g_assert_true (memcmp (p->data, "\x01\x02\x03\x04", 4) == 0);
  p = &g_array_index (packets, NoomEioPacket, 3);
  g_assert_cmpuint (p->len, ==, strlen ("€"));
}

static void
test_eio_payload_decode_single (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) packets = noom_eio_payload_decode ("1", 1, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (packets->len, ==, 1);
  g_assert_cmpint (g_array_index (packets, NoomEioPacket, 0).type, ==,
      NOOM_EIO_CLOSE);

  /* base64 without padding is accepted, as engine.io-parser does */
  g_clear_pointer (&packets, g_array_unref);
  packets = noom_eio_payload_decode ("bAQIDBA", 7, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_array_index (packets, NoomEioPacket, 0).len, ==, 4);

  /* empty binary message */
  g_clear_pointer (&packets, g_array_unref);
  packets = noom_eio_payload_decode ("b", 1, &error);
  g_assert_no_error (error);
  g_assert_true (g_array_index (packets, NoomEioPacket, 0).binary);
  g_assert_cmpuint (g_array_index (packets, NoomEioPacket, 0).len, ==, 0);
}

static void
test_eio_payload_decode_bad (void)
{
  static const struct
  {
    const gchar *body;
    gsize len;
    gint code;
  } bad[] = {
    {"", 0, NOOM_PROTOCOL_ERROR_EMPTY},
    {"4a\x1e", 3, NOOM_PROTOCOL_ERROR_EMPTY},   /* trailing separator */
    {"\x1e" "4a", 3, NOOM_PROTOCOL_ERROR_EMPTY},
    {"4a\x1e\x1e" "4b", 5, NOOM_PROTOCOL_ERROR_EMPTY},
    {"4a\x1e" "9", 4, NOOM_PROTOCOL_ERROR_BAD_TYPE},
    {"abc", 3, NOOM_PROTOCOL_ERROR_BAD_TYPE},
    {"4a\x1e" "b!!!!", 7, NOOM_PROTOCOL_ERROR_BAD_ENCODING},
    {"bA", 2, NOOM_PROTOCOL_ERROR_BAD_ENCODING},
    {"bAQ=I", 5, NOOM_PROTOCOL_ERROR_BAD_ENCODING},
    {"bAQ===", 6, NOOM_PROTOCOL_ERROR_BAD_ENCODING},
    {"bAQIDB=", 7, NOOM_PROTOCOL_ERROR_BAD_ENCODING},
    {"4\xc3", 2, NOOM_PROTOCOL_ERROR_BAD_ENCODING},
  };
  guint i;

  /* No body at all is allowed (and must not compute NULL + 0: UBSan). */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GArray) packets = noom_eio_payload_decode (NULL, 0, &error);

    g_assert_null (packets);
    g_assert_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_EMPTY);
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = noom_sio_packet_parse (NULL, 0, &error);

    g_assert_null (p);
    g_assert_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_EMPTY);
  }

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (GArray) packets =
        noom_eio_payload_decode (bad[i].body, bad[i].len, &error);

    g_assert_null (packets);
    g_assert_error (error, NOOM_PROTOCOL_ERROR, bad[i].code);
  }
}

static void
test_eio_payload_encode (void)
{
  g_autoptr (GPtrArray) packets =
      g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gboolean is_binary[] = { FALSE, FALSE, TRUE, FALSE, TRUE };
  g_autoptr (GBytes) payload = NULL;
  g_autoptr (GBytes) single = NULL;
  g_autoptr (GArray) back = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  const gchar *data;

  g_ptr_array_add (packets, noom_eio_encode (NOOM_EIO_MESSAGE, "hello", 5));
  g_ptr_array_add (packets, noom_eio_encode (NOOM_EIO_PING, NULL, 0));
  g_ptr_array_add (packets, g_bytes_new_static ("\x01\x02\x03\x04", 4));
  g_ptr_array_add (packets, noom_eio_encode (NOOM_EIO_MESSAGE, "€", 3));
  g_ptr_array_add (packets, g_bytes_new_static ("", 0));
  payload = noom_eio_payload_encode (packets, is_binary);
  assert_bytes_str (payload,
      "4hello\x1e" "2\x1e" "bAQIDBA==\x1e" "4€\x1e" "b");

  /* round trip */
  data = g_bytes_get_data (payload, &len);
  back = noom_eio_payload_decode (data, len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->len, ==, 5);
  g_assert_true (g_array_index (back, NoomEioPacket, 4).binary);

  /* one packet, no binary flags: no separator at all */
  g_ptr_array_set_size (packets, 1);
  single = noom_eio_payload_encode (packets, NULL);
  assert_bytes_str (single, "4hello");
}

/* ------------------------------------------------------------ Socket.IO */

static gchar *
node_to_string (JsonNode * node)
{
  return node ? json_to_string (node, FALSE) : g_strdup ("(none)");
}

static void
test_sio_parse (void)
{
  static const struct
  {
    const gchar *text;
    NoomSioType type;
    const gchar *nsp;
    gint64 id;
    guint attachments;
    const gchar *data;          /* compact JSON or NULL */
  } good[] = {
    {"0", NOOM_SIO_CONNECT, "/", -1, 0, NULL},
    {"0{\"token\":\"123\"}", NOOM_SIO_CONNECT, "/", -1, 0,
        "{\"token\":\"123\"}"},
    {"0/admin,", NOOM_SIO_CONNECT, "/admin", -1, 0, NULL},
    {"0/custom", NOOM_SIO_CONNECT, "/custom", -1, 0, NULL},
    {"0/admin,{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}", NOOM_SIO_CONNECT, "/admin",
        -1, 0, "{\"sid\":\"oSO0OpakMV_3jnilAAAA\"}"},
    {"1", NOOM_SIO_DISCONNECT, "/", -1, 0, NULL},
    {"1/admin,", NOOM_SIO_DISCONNECT, "/admin", -1, 0, NULL},
    {"2[\"foo\"]", NOOM_SIO_EVENT, "/", -1, 0, "[\"foo\"]"},
    {"2[\"hello\",1]", NOOM_SIO_EVENT, "/", -1, 0, "[\"hello\",1]"},
    {"2[1,2]", NOOM_SIO_EVENT, "/", -1, 0, "[1,2]"},
    {"212[\"foo\"]", NOOM_SIO_EVENT, "/", 12, 0, "[\"foo\"]"},
    {"2/admin,[\"bar\"]", NOOM_SIO_EVENT, "/admin", -1, 0, "[\"bar\"]"},
    {"2/admin,456[\"bar\"]", NOOM_SIO_EVENT, "/admin", 456, 0, "[\"bar\"]"},
    {"2456[\"message-with-ack\",1,\"2\",{\"3\":[false]}]", NOOM_SIO_EVENT,
        "/", 456, 0, "[\"message-with-ack\",1,\"2\",{\"3\":[false]}]"},
    {"3/admin,13[\"bar\"]", NOOM_SIO_ACK, "/admin", 13, 0, "[\"bar\"]"},
    {"30[]", NOOM_SIO_ACK, "/", 0, 0, "[]"},
    {"37", NOOM_SIO_ACK, "/", 7, 0, NULL},
    {"4{\"message\":\"Not authorized\"}", NOOM_SIO_CONNECT_ERROR, "/", -1, 0,
        "{\"message\":\"Not authorized\"}"},
    {"4/random,{\"message\":\"Invalid namespace\"}", NOOM_SIO_CONNECT_ERROR,
        "/random", -1, 0, "{\"message\":\"Invalid namespace\"}"},
    {"4\"v2 error\"", NOOM_SIO_CONNECT_ERROR, "/", -1, 0, "\"v2 error\""},
    {"51-[\"baz\",{\"_placeholder\":true,\"num\":0}]", NOOM_SIO_BINARY_EVENT,
        "/", -1, 1, "[\"baz\",{\"_placeholder\":true,\"num\":0}]"},
    {"52-/admin,456[\"baz\",{\"_placeholder\":true,\"num\":0},"
          "{\"_placeholder\":true,\"num\":1}]", NOOM_SIO_BINARY_EVENT,
          "/admin", 456, 2,
        "[\"baz\",{\"_placeholder\":true,\"num\":0},"
          "{\"_placeholder\":true,\"num\":1}]"},
    {"61-/admin,13[{\"_placeholder\":true,\"num\":0}]", NOOM_SIO_BINARY_ACK,
        "/admin", 13, 1, "[{\"_placeholder\":true,\"num\":0}]"},
    {"510-[\"x\"]", NOOM_SIO_BINARY_EVENT, "/", -1, 10, "[\"x\"]"},
    {"2[\"€\",\"\\u001e\"]", NOOM_SIO_EVENT, "/", -1, 0,
        "[\"€\",\"\\u001e\"]"},
    {"29007199254740991[\"x\"]", NOOM_SIO_EVENT, "/", G_GINT64_CONSTANT
          (9007199254740991), 0, "[\"x\"]"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (good); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p =
        noom_sio_packet_parse (good[i].text, strlen (good[i].text), &error);
    g_autofree gchar *json = NULL;
    g_autofree gchar *again = NULL;

    g_test_message ("parse %s", good[i].text);
    g_assert_no_error (error);
    g_assert_nonnull (p);
    g_assert_cmpint (p->type, ==, good[i].type);
    g_assert_cmpstr (p->nsp, ==, good[i].nsp);
    g_assert_cmpint (p->id, ==, good[i].id);
    g_assert_cmpuint (p->attachments, ==, good[i].attachments);
    json = node_to_string (p->data);
    g_assert_cmpstr (json, ==, good[i].data ? good[i].data : "(none)");

    /* encode(parse(x)) == x except for the optional ',' after a nsp */
    again = noom_sio_packet_encode (p);
    if (strcmp (good[i].text, "0/custom") == 0)
      g_assert_cmpstr (again, ==, "0/custom,");
    else if (good[i].data && strstr (good[i].data, "\\u001e")); /* json-glib may spell the escape differently */
    else
      g_assert_cmpstr (again, ==, good[i].text);
  }
}

static void
test_sio_parse_bad (void)
{
  static const struct
  {
    const gchar *text;
    gint code;
  } bad[] = {
    {"", NOOM_PROTOCOL_ERROR_EMPTY},
    {"abc", NOOM_PROTOCOL_ERROR_BAD_TYPE},
    {"7", NOOM_PROTOCOL_ERROR_BAD_TYPE},
    {"9[\"x\"]", NOOM_PROTOCOL_ERROR_BAD_TYPE},
    /* socket.io-protocol test suite: invalid payloads close the connection */
    {"2{}", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[{}]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[null]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[true]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2\"x\"", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2/admin,", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2abc[\"foo\"]", NOOM_PROTOCOL_ERROR_BAD_ACK_ID},
    {"2 [\"foo\"]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2123456789012345678[\"foo\"]", NOOM_PROTOCOL_ERROR_BAD_ACK_ID},
    {"29007199254740992[\"x\"]", NOOM_PROTOCOL_ERROR_BAD_ACK_ID},
    {"2[\"foo\"", NOOM_PROTOCOL_ERROR_BAD_JSON},
    {"2[\"foo\"]x", NOOM_PROTOCOL_ERROR_BAD_JSON},
    {"2[\"foo\"][]", NOOM_PROTOCOL_ERROR_BAD_JSON},
    {"2['foo']", NOOM_PROTOCOL_ERROR_BAD_JSON},
    {"2[\"a\",0x10]", NOOM_PROTOCOL_ERROR_BAD_JSON},
    {"2[\"a\"/* c */]", NOOM_PROTOCOL_ERROR_BAD_JSON},
    {"2[\"a\",foo]", NOOM_PROTOCOL_ERROR_BAD_JSON},
    {"2[\"a\",{\"b\":1]", NOOM_PROTOCOL_ERROR_BAD_JSON},
    {"2var x = [\"a\"]", NOOM_PROTOCOL_ERROR_BAD_ACK_ID},
    {"2[\"connect\"]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[\"connect_error\"]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[\"disconnect\"]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[\"disconnecting\"]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[\"newListener\"]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"2[\"removeListener\"]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"0[]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"0\"x\"", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"1{}", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"1[]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"3{}", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"3\"x\"", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"4", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"4[]", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"4123", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"5[\"x\"]", NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS},
    {"5-[\"x\"]", NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS},
    {"5a-[\"x\"]", NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS},
    {"51", NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS},
    {"511-[\"x\"]", NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS},
    {"5999999-[\"x\"]", NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS},
    {"51-{}", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
    {"61-{}", NOOM_PROTOCOL_ERROR_BAD_PAYLOAD},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = NULL;

    g_test_message ("parse bad %s", bad[i].text);
    p = noom_sio_packet_parse (bad[i].text, strlen (bad[i].text), &error);
    g_assert_null (p);
    g_assert_error (error, NOOM_PROTOCOL_ERROR, bad[i].code);
  }

  /* invalid UTF-8 anywhere is refused, not a crash */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = noom_sio_packet_parse ("2[\"\xff\"]", 5,
        &error);

    g_assert_null (p);
    g_assert_nonnull (error);
  }
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = noom_sio_packet_parse ("0/\xff,", 4, &error);

    g_assert_null (p);
    g_assert_error (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_BAD_ENCODING);
  }
}

static void
test_sio_parse_not_terminated (void)
{
  /* The engine hands over slices of a larger buffer: parse must not read
   * past @len. */
  static const gchar buf[] = "2[\"a\"]XXXX";
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomSioPacket) p = noom_sio_packet_parse (buf, 6, &error);
  g_autoptr (NoomSioPacket) q = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (p);
  q = noom_sio_packet_parse ("212", 2, &error);
  g_assert_null (q);
  g_assert_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_BAD_PAYLOAD);
}

/* json-glib's parser (and its tree copies and frees) recurse once per
 * level: 100,000 levels in a 200 KB packet crashed noom-server.  The
 * depth is bounded before json-glib sees the text, for every shape and
 * in every place a packet's JSON comes from. */
typedef enum { DEEP_ARRAYS, DEEP_OBJECTS, DEEP_MIXED } DeepShape;

static gchar *
deep_json (DeepShape shape, guint depth)
{
  GString *s = g_string_new (NULL);
  guint i;

  for (i = 0; i < depth; i++) {
    if (shape == DEEP_ARRAYS || (shape == DEEP_MIXED && i % 2))
      g_string_append (s, "[1,");
    else
      g_string_append (s, "{\"k\":");
  }
  g_string_append (s, "\"x\"");
  for (i = depth; i > 0; i--) {
    if (shape == DEEP_ARRAYS || (shape == DEEP_MIXED && (i - 1) % 2))
      g_string_append_c (s, ']');
    else
      g_string_append_c (s, '}');
  }
  return g_string_free (s, FALSE);
}

/* "2[" + "\"e\"," + value + "]": the event array is level 1. */
static gchar *
deep_event (DeepShape shape, guint depth)
{
  g_autofree gchar *value = deep_json (shape, depth);

  return g_strdup_printf ("2[\"new_message\",%s]", value);
}

static void
test_json_depth (void)
{
  static const DeepShape shapes[] = { DEEP_ARRAYS, DEEP_OBJECTS, DEEP_MIXED };
  static const guint too_deep[] = { NOOM_JSON_MAX_DEPTH + 1, 1000, 100000,
    1000000
  };
  guint s, d;

  for (s = 0; s < G_N_ELEMENTS (shapes); s++) {
    g_autofree gchar *ok = deep_json (shapes[s], NOOM_JSON_MAX_DEPTH);
    g_autofree gchar *ok_event = deep_event (shapes[s],
        NOOM_JSON_MAX_DEPTH - 1);
    g_autoptr (GError) error = NULL;
    g_autoptr (JsonNode) node = NULL;
    g_autoptr (NoomSioPacket) p = NULL;

    /* At the bound: accepted, whole. */
    node = noom_json_parse (ok, strlen (ok), &error);
    g_assert_no_error (error);
    g_assert_nonnull (node);
    p = noom_sio_packet_parse (ok_event, strlen (ok_event), &error);
    g_assert_no_error (error);
    g_assert_nonnull (p);

    for (d = 0; d < G_N_ELEMENTS (too_deep); d++) {
      g_autofree gchar *value = deep_json (shapes[s], too_deep[d]);
      g_autofree gchar *event = deep_event (shapes[s], too_deep[d]);
      g_autofree gchar *connect = NULL;
      g_autofree gchar *ack = NULL;
      g_autofree gchar *poll = NULL;
      g_autoptr (GArray) packets = NULL;
      const gchar *texts[4];
      guint t;

      g_test_message ("shape %d, depth %u", shapes[s], too_deep[d]);
      g_clear_error (&error);
      g_clear_pointer (&node, json_node_unref);
      node = noom_json_parse (value, strlen (value), &error);
      g_assert_null (node);
      g_assert_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_TOO_DEEP);

      /* An event argument, an ack's arguments, the CONNECT auth payload
       * (an object at the top: wrap arrays in one) and a packet that came
       * in a polling POST body. */
      connect = shapes[s] == DEEP_ARRAYS ?
          g_strdup_printf ("0{\"token\":%s}", value) :
          g_strdup_printf ("0%s", value);
      ack = g_strdup_printf ("37[%s]", value);
      poll = g_strdup_printf ("4%s\x1e" "4%s", event, connect);
      g_clear_error (&error);
      packets = noom_eio_payload_decode (poll, strlen (poll), &error);
      g_assert_no_error (error);
      g_assert_cmpuint (packets->len, ==, 2);
      texts[0] = event;
      texts[1] = connect;
      texts[2] = ack;
      texts[3] = NULL;
      for (t = 0; texts[t]; t++) {
        g_clear_error (&error);
        g_clear_pointer (&p, noom_sio_packet_free);
        p = noom_sio_packet_parse (texts[t], strlen (texts[t]), &error);
        g_assert_null (p);
        g_assert_error (error, NOOM_PROTOCOL_ERROR,
            NOOM_PROTOCOL_ERROR_TOO_DEEP);
      }
      for (t = 0; t < packets->len; t++) {
        NoomEioPacket *e = &g_array_index (packets, NoomEioPacket, t);

        g_clear_error (&error);
        g_clear_pointer (&p, noom_sio_packet_free);
        p = noom_sio_packet_parse (e->data, e->len, &error);
        g_assert_null (p);
        g_assert_error (error, NOOM_PROTOCOL_ERROR,
            NOOM_PROTOCOL_ERROR_TOO_DEEP);
      }
    }
  }
}

/* Brackets inside strings are text, not nesting. */
static void
test_json_depth_strings (void)
{
  GString *text = g_string_new ("2[\"new_message\",\"");
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomSioPacket) p = NULL;
  g_autofree gchar *t = NULL;
  guint i;

  for (i = 0; i < 10000; i++)
    g_string_append (text, "[{");
  g_string_append (text, "\"]");
  t = g_string_free (text, FALSE);
  p = noom_sio_packet_parse (t, strlen (t), &error);
  g_assert_no_error (error);
  g_assert_nonnull (p);
}

/* json-glib strings end at a NUL: "ab\u0000cd" must not arrive as "ab"
 * (docs/protocol.md §1: U+0000 in a string is a malformed packet). */
static void
test_sio_parse_nul (void)
{
  static const gchar *const bad[] = {
    "2[\"enter_room\",\"ab\\u0000cd\"]",
    "2[\"enter_room\",\"\\u0000\"]",
    "2[\"new_message\",\"x\",{\"a\\u0000\":1}]",
    "2[\"a\",\"\\\\\\u0000\"]", /* escaped backslash, then the escape */
    "0{\"token\":\"a\\u0000\"}",
    "2[\"a\",\"ab\0cd\"]",      /* a raw NUL byte is no better */
  };
  static const gsize bad_len[] = { 0, 0, 0, 0, 0, 15 };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = NULL;
    gsize len = bad_len[i] ? bad_len[i] : strlen (bad[i]);

    g_test_message ("parse %s", bad[i]);
    p = noom_sio_packet_parse (bad[i], len, &error);
    g_assert_null (p);
    g_assert_nonnull (error);
    g_assert_true (error->domain == NOOM_PROTOCOL_ERROR);
  }

  /* An escaped backslash followed by "u0000" is plain text. */
  {
    static const gchar text[] = "2[\"a\",\"x\\\\u0000y\",\"\\\\\\\\u0000\"]";
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = noom_sio_packet_parse (text,
        strlen (text), &error);
    JsonArray *a;

    g_assert_no_error (error);
    g_assert_nonnull (p);
    a = json_node_get_array (p->data);
    g_assert_cmpstr (json_array_get_string_element (a, 1), ==, "x\\u0000y");
    g_assert_cmpstr (json_array_get_string_element (a, 2), ==, "\\\\u0000");
  }
  /* Other escapes still decode. */
  {
    static const gchar text[] = "2[\"a\",\"\\u0001\\u00e9\"]";
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = noom_sio_packet_parse (text,
        strlen (text), &error);

    g_assert_no_error (error);
    g_assert_cmpstr (json_array_get_string_element (json_node_get_array
            (p->data), 1), ==, "\001\303\251");
  }
}

/* Packets json-glib accepts but that the server must not relay: their
 * re-encoding was not UTF-8 or not JSON, and every receiver dropped its
 * connection (tests/fuzz/corpus/packet/regress-*). */
static void
test_sio_parse_unrelayable (void)
{
  static const gchar *const bad[] = {
    /* a lone surrogate, let through by the bare \u at the end */
    "2[\"ice\",{\"candidate\":\"\\ude00 \\u\"},\"demo\"]",
    "2[\"new_message\",\"caf\\u00e9 \\e\"]",   /* unknown escape */
    "2[\"a\",\"\\u12\"]",       /* short \u */
    "2[\"a\",\"\\u12g4\"]",
    "2[\"a\",\"x\\",           /* unterminated after the backslash */
    "2[\"a\",{\"\\ude00 \\u\":1}]",     /* member name */
    "2[\"a\",\"\\ud800\"]",     /* a lone surrogate, well formed */
    "2[\"a\",\"\\udc00\\ud800\"]",
    /* a high surrogate, then another escape: json-glib leaked refusing
     * these (LeakSanitizer) */
    "2[\"a\",\"\\ud800\\u0041\"]",
    "2[\"a\",\"\\udbff\\ud800\"]",
    "2[\"a\",\"\\ud800x\"]",
    "2[\"a\",\"\\udfff\"]",
    /* numbers out of double range */
    "2[\"ice\",{\"candidate\":\"x\",\"sdpMLineIndex\":1e999},\"demo\"]",
    "2[\"a\",-1e999]",
    "3[1e400]",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = NULL;

    g_test_message ("parse %s", bad[i]);
    p = noom_sio_packet_parse (bad[i], strlen (bad[i]), &error);
    g_assert_null (p);
    g_assert_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_BAD_JSON);
  }

  /* Every escape JSON knows still parses, surrogate pairs too. */
  {
    static const gchar text[] =
        "2[\"a\",\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00E9\\ud83d\\ude00\"]";
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = noom_sio_packet_parse (text,
        strlen (text), &error);

    g_assert_no_error (error);
    g_assert_cmpstr (json_array_get_string_element (json_node_get_array
            (p->data), 1), ==, "\"\\/\b\f\n\r\t\303\251\360\237\230\200");
  }
}

/* Numbers go out as JSON.parse reads them: json-glib 1.6's generator wrote
 * 1e21 as "1e+21.0". */
static void
test_sio_encode_numbers (void)
{
  static const struct
  {
    const gchar *in, *out;
  } vectors[] = {
    {"2[\"ice\",{\"candidate\":\"x\",\"sdpMLineIndex\":1e21},\"demo\"]",
        "2[\"ice\",{\"candidate\":\"x\",\"sdpMLineIndex\":1e+21},\"demo\"]"},
    {"2[\"a\",0,1,-1,9007199254740991,-9007199254740991]",
        "2[\"a\",0,1,-1,9007199254740991,-9007199254740991]"},
    {"2[\"a\",0.5,-2.25,0.1,1.5e-7,1E2,-0.0,1e308,5e-324]",
        "2[\"a\",0.5,-2.25,0.1,1.5e-07,100,0,1e+308,4.94065645841247e-324]"},
    {"2[\"a\",.1e95]", "2[\"a\",1e+94]"},
    {"2[\"a\",0.30000000000000004]", "2[\"a\",0.30000000000000004]"},
    {"3[1e21,true,false,null,{}]", "3[1e+21,true,false,null,{}]"},
    {"2[\"a\",{\"z\":1,\"a\":[2.5,{\"m\":\"\\u00e9\"}]}]",
        "2[\"a\",{\"z\":1,\"a\":[2.5,{\"m\":\"\303\251\"}]}]"},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (vectors); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomSioPacket) p = NULL;
    g_autofree gchar *s = NULL;

    p = noom_sio_packet_parse (vectors[i].in, strlen (vectors[i].in), &error);
    g_assert_no_error (error);
    s = noom_sio_packet_encode (p);
    g_assert_cmpstr (s, ==, vectors[i].out);
  }

  /* The broadcast and ack frames write numbers the same way, also ones
   * the server makes itself. */
  {
    g_autoptr (JsonArray) args = json_array_new ();
    g_autoptr (GBytes) event = NULL, ack = NULL;

    json_array_add_double_element (args, 1e21);
    json_array_add_double_element (args, 3.0);
    json_array_add_double_element (args, 0.25);
    json_array_add_int_element (args, 1700000000000);
    event = noom_sio_frame_event ("t", args, -1);
    assert_bytes_str (event, "42[\"t\",1e+21,3,0.25,1700000000000]");
    ack = noom_sio_frame_ack (4, args);
    assert_bytes_str (ack, "434[1e+21,3,0.25,1700000000000]");
  }

  /* A string that is not UTF-8 (never from the parser, but possibly made
   * by a caller) still goes out as UTF-8. */
  {
    g_autoptr (JsonArray) args = json_array_new ();
    g_autoptr (GBytes) event = NULL;
    gsize len;
    const gchar *data;

    json_array_add_string_element (args, "a\355\270\200b");
    event = noom_sio_frame_event ("t", args, -1);
    data = g_bytes_get_data (event, &len);
    g_assert_true (g_utf8_validate_len (data, len, NULL));
    assert_bytes_str (event, "42[\"t\",\"a\357\277\275\357\277\275\357\277\275b\"]");
  }
}

static void
test_sio_encode (void)
{
  g_autoptr (NoomSioPacket) p = NULL;
  g_autoptr (JsonNode) sid = json_from_string ("{\"sid\":\"abc\"}", NULL);
  g_autofree gchar *s = NULL;
  g_autoptr (GBytes) frame = NULL;

  p = noom_sio_packet_new (NOOM_SIO_CONNECT, NULL, -1, g_steal_pointer (&sid));
  s = noom_sio_packet_encode (p);
  g_assert_cmpstr (s, ==, "0{\"sid\":\"abc\"}");
  frame = noom_sio_frame_packet (p);
  assert_bytes_str (frame, "40{\"sid\":\"abc\"}");
  g_clear_pointer (&p, noom_sio_packet_free);
  g_clear_pointer (&s, g_free);
  g_clear_pointer (&frame, g_bytes_unref);

  p = noom_sio_packet_new (NOOM_SIO_DISCONNECT, "/admin", -1, NULL);
  frame = noom_sio_frame_packet (p);
  assert_bytes_str (frame, "41/admin,");
  g_clear_pointer (&p, noom_sio_packet_free);
  g_clear_pointer (&frame, g_bytes_unref);

  p = noom_sio_packet_new (NOOM_SIO_BINARY_ACK, "/", 5,
      json_from_string ("[{\"_placeholder\":true,\"num\":0}]", NULL));
  p->attachments = 1;
  frame = noom_sio_frame_packet (p);
  assert_bytes_str (frame, "461-5[{\"_placeholder\":true,\"num\":0}]");
}

static void
test_sio_frames (void)
{
  g_autoptr (JsonArray) args = json_array_new ();
  g_autoptr (JsonArray) empty = json_array_new ();
  g_autoptr (GBytes) a = NULL, b = NULL, c = NULL, d = NULL, e = NULL;
  g_autoptr (GBytes) f = NULL;
  g_autoptr (NoomSioPacket) p = NULL;
  gsize len;
  const gchar *data;

  json_array_add_string_element (args, "room1");
  json_array_add_int_element (args, 3);
  json_array_add_null_element (args);

  a = noom_sio_frame_event ("room_change", args, -1);
  assert_bytes_str (a, "42[\"room_change\",\"room1\",3,null]");
  b = noom_sio_frame_event ("ping", NULL, 7);
  assert_bytes_str (b, "427[\"ping\"]");
  c = noom_sio_frame_event ("q\"\\\n\x01", empty, -1);
  assert_bytes_str (c, "42[\"q\\\"\\\\\\n\\u0001\"]");
  d = noom_sio_frame_ack (0, NULL);
  assert_bytes_str (d, "430[]");
  e = noom_sio_frame_ack (456, args);
  assert_bytes_str (e, "43456[\"room1\",3,null]");

  /* the args array is not modified by framing */
  g_assert_cmpuint (json_array_get_length (args), ==, 3);

  /* what we frame, we parse back identically */
  data = g_bytes_get_data (c, &len);
  p = noom_sio_packet_parse (data + 1, len - 1, NULL);
  g_assert_nonnull (p);
  g_assert_cmpstr (json_array_get_string_element (json_node_get_array
          (p->data), 0), ==, "q\"\\\n\x01");

  /* a record separator inside a string never reaches the wire raw */
  f = noom_sio_frame_event ("x\x1e", NULL, -1);
  data = g_bytes_get_data (f, &len);
  g_assert_null (memchr (data, NOOM_EIO_SEPARATOR, len));
}

static void
test_reserved (void)
{
  g_assert_true (noom_sio_is_reserved_event ("connect"));
  g_assert_true (noom_sio_is_reserved_event ("connect_error"));
  g_assert_true (noom_sio_is_reserved_event ("disconnect"));
  g_assert_true (noom_sio_is_reserved_event ("disconnecting"));
  g_assert_true (noom_sio_is_reserved_event ("newListener"));
  g_assert_true (noom_sio_is_reserved_event ("removeListener"));
  g_assert_false (noom_sio_is_reserved_event ("message"));
  g_assert_false (noom_sio_is_reserved_event ("Connect"));
  g_assert_false (noom_sio_is_reserved_event (NULL));
}

/* lib/noom-base64.c: both flavours, what each accepts and refuses */
static void
test_base64 (void)
{
  static const struct
  {
    const gchar *text;
    NoomBase64Flags flags;
    const gchar *decoded;       /* NULL: refused */
  } cases[] = {
    {"", NOOM_BASE64_STANDARD, ""},
    {"aGk=", NOOM_BASE64_STANDARD, "hi"},
    {"aGk", NOOM_BASE64_STANDARD, "hi"},        /* padding optional */
    {"aGk/Pz4+", NOOM_BASE64_STANDARD, "hi?" "?>>"},
    {"aGk==", NOOM_BASE64_STANDARD, NULL},      /* padding past the group */
    {"aG===", NOOM_BASE64_STANDARD, NULL},      /* three '=' */
    {"a=Gk", NOOM_BASE64_STANDARD, NULL},       /* '=' inside */
    {"aGk_", NOOM_BASE64_STANDARD, NULL},       /* base64url character */
    {"aGk ", NOOM_BASE64_STANDARD, NULL},       /* g_base64 would skip it */
    {"aGkx2", NOOM_BASE64_STANDARD, NULL},      /* a lone last character */
    {"aGl=", NOOM_BASE64_STANDARD, "hi"},       /* lenient: unused bits */
    {"aGk_Pz4-", NOOM_BASE64_URL, "hi?" "?>>"},
    {"aGk", NOOM_BASE64_URL | NOOM_BASE64_CANONICAL, "hi"},
    {"aGk=", NOOM_BASE64_URL, NULL},            /* no padding in base64url */
    {"aGk/", NOOM_BASE64_URL, NULL},            /* standard character */
    {"aGl", NOOM_BASE64_URL, "hi"},
    {"aGl", NOOM_BASE64_URL | NOOM_BASE64_CANONICAL, NULL},
    {"Q", NOOM_BASE64_URL, NULL},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    gsize len = 0;
    g_autofree guint8 *out = noom_base64_decode (cases[i].text,
        strlen (cases[i].text), cases[i].flags, &len);

    g_test_message ("%s (flags %d)", cases[i].text, cases[i].flags);
    if (!cases[i].decoded) {
      g_assert_null (out);
      continue;
    }
    g_assert_nonnull (out);
    g_assert_cmpmem (out, len, cases[i].decoded, strlen (cases[i].decoded));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/packet/eio/decode", test_eio_decode);
  g_test_add_func ("/packet/eio/encode", test_eio_encode);
  g_test_add_func ("/packet/eio/payload-decode", test_eio_payload_decode);
  g_test_add_func ("/packet/eio/payload-decode-single",
      test_eio_payload_decode_single);
  g_test_add_func ("/packet/eio/payload-decode-bad",
      test_eio_payload_decode_bad);
  g_test_add_func ("/packet/eio/payload-encode", test_eio_payload_encode);
  g_test_add_func ("/packet/sio/parse", test_sio_parse);
  g_test_add_func ("/packet/sio/parse-bad", test_sio_parse_bad);
  g_test_add_func ("/packet/sio/parse-not-terminated",
      test_sio_parse_not_terminated);
  g_test_add_func ("/packet/sio/parse-nul", test_sio_parse_nul);
  g_test_add_func ("/packet/json/depth", test_json_depth);
  g_test_add_func ("/packet/json/depth-strings", test_json_depth_strings);
  g_test_add_func ("/packet/sio/parse-unrelayable",
      test_sio_parse_unrelayable);
  g_test_add_func ("/packet/sio/encode", test_sio_encode);
  g_test_add_func ("/packet/sio/encode-numbers", test_sio_encode_numbers);
  g_test_add_func ("/packet/sio/frames", test_sio_frames);
  g_test_add_func ("/packet/sio/reserved", test_reserved);
  g_test_add_func ("/packet/base64", test_base64);

  return g_test_run ();
}
