/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fuzz-packet: the Engine.IO / Socket.IO codec (lib/noom-packet.h) on
 * arbitrary bytes, as the server receives them from a socket.  Besides "no
 * crash, no leak, no sanitizer report", it checks the round trips:
 *  - an Engine.IO packet that decodes re-encodes to the same bytes;
 *  - a polling payload that decodes re-encodes to one that decodes to the
 *    same packets;
 *  - a Socket.IO packet that parses encodes to text that parses again and
 *    encodes to the same text (the encoder's output is a fixed point), with
 *    the same type, namespace, ack id and attachment count;
 *  - an event re-framed with noom_sio_frame_event() (the broadcast path)
 *    parses back to the same packet.
 */
#include <math.h>
#include <string.h>

#include "noom-packet.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

/* A parsed packet holds nothing JSON cannot carry: its strings and member
 * names are UTF-8 and its numbers finite.  Regression for
 * corpus/packet/regress-lone-surrogate-* and regress-infinite-number-*:
 * json-glib turned "\ude00 \u" into bytes that are not UTF-8 and 1e999
 * into infinity, the parser accepted both and the server relayed them in
 * frames that made every receiving client drop its connection. */
static gboolean
tree_is_clean (JsonNode * node)
{
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);
    guint i;

    for (i = 0; i < json_array_get_length (a); i++)
      if (!tree_is_clean (json_array_get_element (a, i)))
        return FALSE;
  } else if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter iter;
    const gchar *name;
    JsonNode *member;

    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, &name, &member))
      if (!g_utf8_validate (name, -1, NULL) || !tree_is_clean (member))
        return FALSE;
  } else if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_STRING) {
    return g_utf8_validate (json_node_get_string (node), -1, NULL);
  } else if (JSON_NODE_HOLDS_VALUE (node)
      && json_node_get_value_type (node) == G_TYPE_DOUBLE) {
    return isfinite (json_node_get_double (node));
  }
  return TRUE;
}

/* The tokens of @text (the JSON part of an encoded packet) outside its
 * strings are what JSON.parse accepts: numbers as RFC 8259 writes them,
 * and only true, false and null as words.  json-glib reads back some text
 * that JSON.parse refuses (json_generator wrote 1e21 as "1e+21.0" and
 * infinity as "inf.0": regress-exponent-number-*), so parsing the encoding
 * again is not enough of a check. */
static gboolean
json_tokens_are_strict (const gchar * p)
{
  while (*p) {
    if (*p == '"') {
      for (p++; *p && *p != '"'; p++)
        if (*p == '\\' && *++p == '\0')
          return FALSE;
      if (*p++ != '"')
        return FALSE;
    } else if (*p == '-' || g_ascii_isdigit (*p)) {
      if (*p == '-')
        p++;
      if (*p == '0')
        p++;
      else if (g_ascii_isdigit (*p))
        while (g_ascii_isdigit (*p))
          p++;
      else
        return FALSE;
      if (*p == '.') {
        if (!g_ascii_isdigit (*++p))
          return FALSE;
        while (g_ascii_isdigit (*p))
          p++;
      }
      if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
          p++;
        if (!g_ascii_isdigit (*p))
          return FALSE;
        while (g_ascii_isdigit (*p))
          p++;
      }
      /* a number ends at a structural character */
      if (*p && !strchr (",]}", *p))
        return FALSE;
    } else if (g_ascii_isalpha (*p)) {
      if (g_str_has_prefix (p, "true"))
        p += 4;
      else if (g_str_has_prefix (p, "false"))
        p += 5;
      else if (g_str_has_prefix (p, "null"))
        p += 4;
      else
        return FALSE;
      if (g_ascii_isalnum (*p))
        return FALSE;
    } else if (strchr ("[]{},:", *p)) {
      p++;
    } else {
      /* the encoder writes compact JSON: no whitespace, no other byte */
      return FALSE;
    }
  }
  return TRUE;
}

/* The JSON of an encoded Socket.IO packet (after type, attachments,
 * namespace and ack id), or NULL when it has none. */
static const gchar *
json_part (const gchar * encoded)
{
  const gchar *p = encoded + 1;

  while (g_ascii_isdigit (*p) || *p == '-')
    p++;
  if (*p == '/') {
    p = strchr (p, ',');
    if (p == NULL)
      return NULL;
    p++;
  }
  while (g_ascii_isdigit (*p))
    p++;
  return *p ? p : NULL;
}

static void
check_eio (const gchar * text, gsize len)
{
  NoomEioPacket packet;
  g_autoptr (GBytes) again = NULL;

  if (!noom_eio_decode (text, len, &packet, NULL))
    return;
  FUZZ_CHECK (packet.type <= NOOM_EIO_NOOP);
  FUZZ_CHECK (!packet.binary);
  FUZZ_CHECK (packet.len == len - 1);
  again = noom_eio_encode (packet.type, packet.data, packet.len);
  FUZZ_CHECK (g_bytes_get_size (again) == len);
  FUZZ_CHECK (memcmp (g_bytes_get_data (again, NULL), text, len) == 0);
}

static void
check_payload (const gchar * body, gsize len)
{
  g_autoptr (GArray) packets = NULL;
  g_autoptr (GArray) again = NULL;
  g_autoptr (GPtrArray) encoded = NULL;
  g_autoptr (GBytes) payload = NULL;
  g_autofree gboolean *is_binary = NULL;
  gconstpointer data;
  gsize size;
  guint i;

  packets = noom_eio_payload_decode (body, len, NULL);
  if (packets == NULL)
    return;
  FUZZ_CHECK (packets->len >= 1);

  encoded = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  is_binary = g_new0 (gboolean, packets->len);
  for (i = 0; i < packets->len; i++) {
    NoomEioPacket *p = &g_array_index (packets, NoomEioPacket, i);

    is_binary[i] = p->binary;
    if (p->binary)
      g_ptr_array_add (encoded, g_bytes_new (p->data, p->len));
    else
      g_ptr_array_add (encoded, noom_eio_encode (p->type, p->data, p->len));
  }
  payload = noom_eio_payload_encode (encoded, is_binary);
  data = g_bytes_get_data (payload, &size);
  again = noom_eio_payload_decode (data, size, NULL);
  FUZZ_CHECK (again != NULL);
  FUZZ_CHECK (again->len == packets->len);
  for (i = 0; i < packets->len; i++) {
    NoomEioPacket *a = &g_array_index (packets, NoomEioPacket, i);
    NoomEioPacket *b = &g_array_index (again, NoomEioPacket, i);

    FUZZ_CHECK (a->type == b->type);
    FUZZ_CHECK (a->binary == b->binary);
    FUZZ_CHECK (a->len == b->len);
    FUZZ_CHECK (a->len == 0 || memcmp (a->data, b->data, a->len) == 0);
  }
}

/* Re-frames an EVENT on "/" the way the server broadcasts it and checks
 * that a client would parse the same packet. */
static void
check_frame_event (const NoomSioPacket * packet, const gchar * encoded)
{
  JsonArray *array;
  JsonNode *first;
  g_autoptr (JsonArray) rest = NULL;
  g_autoptr (GBytes) frame = NULL;
  g_autoptr (NoomSioPacket) back = NULL;
  g_autofree gchar *back_text = NULL;
  const gchar *name, *text;
  gsize size;
  guint i;

  if (packet->type != NOOM_SIO_EVENT || strcmp (packet->nsp, "/") != 0)
    return;
  array = json_node_get_array (packet->data);
  first = json_array_get_element (array, 0);
  if (json_node_get_value_type (first) != G_TYPE_STRING)
    return;
  name = json_node_get_string (first);
  rest = json_array_new ();
  for (i = 1; i < json_array_get_length (array); i++)
    json_array_add_element (rest,
        json_node_copy (json_array_get_element (array, i)));

  frame = noom_sio_frame_event (name, rest, packet->id);
  text = g_bytes_get_data (frame, &size);
  FUZZ_CHECK (size >= 2 && text[0] == '4');
  back = noom_sio_packet_parse (text + 1, size - 1, NULL);
  FUZZ_CHECK (back != NULL);
  back_text = noom_sio_packet_encode (back);
  FUZZ_CHECK (strcmp (back_text, encoded) == 0);
}

static void
check_sio (const gchar * text, gsize len)
{
  g_autoptr (NoomSioPacket) packet = NULL;
  g_autoptr (NoomSioPacket) again = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  g_autoptr (GBytes) frame = NULL;
  gsize flen;
  const gchar *fdata;

  packet = noom_sio_packet_parse (text, len, NULL);
  if (packet == NULL)
    return;
  FUZZ_CHECK (packet->type <= NOOM_SIO_BINARY_ACK);
  FUZZ_CHECK (packet->nsp != NULL && packet->nsp[0] == '/');
  FUZZ_CHECK (packet->attachments <= NOOM_SIO_MAX_ATTACHMENTS);
  FUZZ_CHECK (packet->data == NULL || tree_is_clean (packet->data));

  first = noom_sio_packet_encode (packet);
  FUZZ_CHECK (g_utf8_validate (first, -1, NULL));
  FUZZ_CHECK (packet->data == NULL || json_tokens_are_strict (json_part
          (first)));
  again = noom_sio_packet_parse (first, strlen (first), NULL);
  FUZZ_CHECK (again != NULL);
  FUZZ_CHECK (again->type == packet->type);
  FUZZ_CHECK (strcmp (again->nsp, packet->nsp) == 0);
  FUZZ_CHECK (again->id == packet->id);
  FUZZ_CHECK (again->attachments == packet->attachments);
  FUZZ_CHECK ((again->data == NULL) == (packet->data == NULL));
  second = noom_sio_packet_encode (again);
  FUZZ_CHECK (strcmp (first, second) == 0);

  /* The Engine.IO frame is "4" + the same text. */
  frame = noom_sio_frame_packet (packet);
  fdata = g_bytes_get_data (frame, &flen);
  FUZZ_CHECK (flen == strlen (first) + 1 && fdata[0] == '4');
  FUZZ_CHECK (memcmp (fdata + 1, first, flen - 1) == 0);

  check_frame_event (packet, first);
}

/* How deep @node nests (a value: 0). */
static guint
json_depth (JsonNode * node)
{
  guint d = 0, i;

  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *a = json_node_get_array (node);

    for (i = 0; i < json_array_get_length (a); i++)
      d = MAX (d, json_depth (json_array_get_element (a, i)));
    return d + 1;
  }
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObjectIter iter;
    JsonNode *member;

    json_object_iter_init (&iter, json_node_get_object (node));
    while (json_object_iter_next (&iter, NULL, &member))
      d = MAX (d, json_depth (member));
    return d + 1;
  }
  return 0;
}

/* Any JSON from the network: what noom_json_parse() accepts nests at most
 * NOOM_JSON_MAX_DEPTH deep, so nothing deeper ever reaches json-glib's
 * recursion (nor the relays, copies and frees after it). */
static void
check_json (const gchar * text, gsize len)
{
  g_autoptr (JsonNode) node = noom_json_parse (text, len, NULL);

  if (node)
    FUZZ_CHECK (json_depth (node) <= NOOM_JSON_MAX_DEPTH);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  /* A private copy with no terminator: reads past the end are caught.  It
   * is NULL when size is 0, which the API allows (and which UBSan once
   * caught noom_eio_payload_decode turning into NULL + 0). */
  gchar *copy = g_memdup2 (data, size);
  const gchar *text = copy;
  NoomEioPacket packet;

  check_eio (text, size);
  check_payload (text, size);
  check_sio (text, size);
  check_json (text, size);
  /* What the server does with a WebSocket text frame: Engine.IO, then the
   * Socket.IO text of a message packet. */
  if (noom_eio_decode (text, size, &packet, NULL)
      && packet.type == NOOM_EIO_MESSAGE)
    check_sio (packet.data, packet.len);
  g_free (copy);
  return 0;
}
