/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-packet: the Engine.IO v4 and Socket.IO v4 packet codec.
 *
 * This is on the hot path of every chat message, so the decoders point into
 * the caller's buffer instead of copying, and the encoders size their output
 * once and write it in a single allocation where they can.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <math.h>
#include <string.h>

#include "noom-base64.h"
#include "noom-packet.h"

G_DEFINE_QUARK (noom-protocol-error-quark, noom_protocol_error);

/* Number.MAX_SAFE_INTEGER: the largest ack id a JavaScript peer can
 * represent exactly. */
#define MAX_ACK_ID G_GINT64_CONSTANT (9007199254740991)

/* ---------------------------------------------------------------- Engine.IO */

gboolean
noom_eio_decode (const gchar * text, gsize len, NoomEioPacket * packet,
    GError ** error)
{
  g_return_val_if_fail (text != NULL || len == 0, FALSE);
  g_return_val_if_fail (packet != NULL, FALSE);

  if (len == 0) {
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_EMPTY, "empty Engine.IO packet");
    return FALSE;
  }
  if (text[0] < '0' || text[0] > '6') {
    g_set_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_BAD_TYPE,
        "unknown Engine.IO packet type '%c'",
        g_ascii_isprint (text[0]) ? text[0] : '?');
    return FALSE;
  }
  if (!g_utf8_validate_len (text + 1, len - 1, NULL)) {
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_BAD_ENCODING, "Engine.IO packet is not UTF-8");
    return FALSE;
  }

  packet->type = text[0] - '0';
  packet->binary = FALSE;
  packet->data = text + 1;
  packet->len = len - 1;
  return TRUE;
}

static void
eio_packet_clear (gpointer data)
{
  NoomEioPacket *packet = data;

  /* Only binary packets own their data: text packets point into the body. */
  if (packet->binary)
    g_free ((gpointer) packet->data);
}

GArray *
noom_eio_payload_decode (const gchar * body, gsize len, GError ** error)
{
  g_autoptr (GArray) packets = NULL;
  const gchar *p, *end;

  g_return_val_if_fail (body != NULL || len == 0, NULL);

  /* Before any pointer arithmetic: body may be NULL when len is 0. */
  if (len == 0) {
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_EMPTY, "empty Engine.IO payload");
    return NULL;
  }
  p = body;
  end = body + len;

  packets = g_array_new (FALSE, TRUE, sizeof (NoomEioPacket));
  g_array_set_clear_func (packets, eio_packet_clear);

  while (p <= end) {
    const gchar *sep = memchr (p, NOOM_EIO_SEPARATOR, end - p);
    gsize plen = (sep ? sep : end) - p;
    NoomEioPacket packet = { 0, };

    if (plen > 0 && p[0] == 'b') {
      gsize blen = 0;
      guint8 *raw = noom_base64_decode (p + 1, plen - 1,
          NOOM_BASE64_STANDARD, &blen);

      if (raw == NULL) {
        g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
            NOOM_PROTOCOL_ERROR_BAD_ENCODING,
            "bad base64 in binary Engine.IO packet");
        return NULL;
      }
      packet.type = NOOM_EIO_MESSAGE;
      packet.binary = TRUE;
      packet.data = (const gchar *) raw;
      packet.len = blen;
    } else if (!noom_eio_decode (p, plen, &packet, error)) {
      return NULL;
    }
    g_array_append_val (packets, packet);

    if (sep == NULL)
      break;
    p = sep + 1;
  }

  return g_steal_pointer (&packets);
}

GBytes *
noom_eio_encode (NoomEioType type, const gchar * data, gsize len)
{
  gchar *buf;

  g_return_val_if_fail (type <= NOOM_EIO_NOOP, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  buf = g_malloc (len + 1);
  buf[0] = '0' + type;
  if (len > 0)
    memcpy (buf + 1, data, len);
  return g_bytes_new_take (buf, len + 1);
}

GBytes *
noom_eio_payload_encode (GPtrArray * packets, const gboolean * is_binary)
{
  gsize total = 0, i;
  gchar *buf, *p;

  g_return_val_if_fail (packets != NULL, NULL);

  /* Size everything first so that the payload is written in one buffer. */
  for (i = 0; i < packets->len; i++) {
    gsize n = g_bytes_get_size (packets->pdata[i]);

    if (is_binary && is_binary[i])
      total += 1 + 4 * ((n + 2) / 3);
    else
      total += n;
    if (i > 0)
      total++;
  }

  buf = p = g_malloc (total + 1);
  for (i = 0; i < packets->len; i++) {
    gsize n;
    const gchar *data = g_bytes_get_data (packets->pdata[i], &n);

    if (i > 0)
      *p++ = NOOM_EIO_SEPARATOR;
    if (is_binary && is_binary[i]) {
      gint state = 0, save = 0;

      *p++ = 'b';
      p += g_base64_encode_step ((const guchar *) data, n, FALSE, p, &state,
          &save);
      p += g_base64_encode_close (FALSE, p, &state, &save);
    } else if (n > 0) {
      memcpy (p, data, n);
      p += n;
    }
  }
  g_assert ((gsize) (p - buf) == total);

  return g_bytes_new_take (buf, total);
}

/* ---------------------------------------------------------------- Socket.IO */

static const gchar *const reserved_events[] = {
  "connect", "connect_error", "disconnect", "disconnecting", "newListener",
  "removeListener",
};

gboolean
noom_sio_is_reserved_event (const gchar * name)
{
  guint i;

  if (name == NULL)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (reserved_events); i++)
    if (strcmp (name, reserved_events[i]) == 0)
      return TRUE;
  return FALSE;
}

NoomSioPacket *
noom_sio_packet_new (NoomSioType type, const gchar * nsp, gint64 id,
    JsonNode * data)
{
  NoomSioPacket *packet = g_new0 (NoomSioPacket, 1);

  packet->type = type;
  packet->nsp = g_strdup (nsp ? nsp : "/");
  packet->id = id;
  packet->data = data;
  return packet;
}

void
noom_sio_packet_free (NoomSioPacket * packet)
{
  if (packet == NULL)
    return;
  g_free (packet->nsp);
  if (packet->data)
    json_node_unref (packet->data);
  g_free (packet);
}

/* The code unit of the "uXXXX" at @p, or -1 when @p does not start one. */
static gint
escape_code_unit (const gchar * p, const gchar * end)
{
  gint unit = 0;
  guint i;

  if (end - p < 5 || *p != 'u')
    return -1;
  for (i = 1; i <= 4; i++) {
    if (!g_ascii_isxdigit (p[i]))
      return -1;
    unit = unit * 16 + g_ascii_xdigit_value (p[i]);
  }
  return unit;
}

/* The length of the escape at @p (just after a backslash in a string), or
 * 0 when it is not one of RFC 8259's: \" \\ \/ \b \f \n \r \t or \u
 * and four hex digits.  A surrogate must come in a pair (high then low):
 * a lone one cannot be UTF-8, and json-glib leaks memory refusing a high
 * surrogate followed by another escape, which a client could repeat at
 * will. */
static gsize
escape_length (const gchar * p, const gchar * end)
{
  gint unit;

  if (p >= end)
    return 0;
  if (*p != 'u')
    return strchr ("\"\\/bfnrt", *p) != NULL && *p != '\0' ? 1 : 0;
  unit = escape_code_unit (p, end);
  if (unit < 0 || (unit >= 0xdc00 && unit <= 0xdfff))
    return 0;
  if (unit >= 0xd800 && unit <= 0xdbff) {
    gint low;

    if (end - p < 7 || p[5] != '\\')
      return 0;
    low = escape_code_unit (p + 6, end);
    return low >= 0xdc00 && low <= 0xdfff ? 11 : 0;
  }
  return 5;
}

/* What the scan in front of json-glib found. */
typedef struct {
  gboolean has_nul;             /* a \u0000 escape in a string */
  gboolean bad_escape;          /* an escape JSON.parse refuses */
  gboolean too_deep;            /* nested over NOOM_JSON_MAX_DEPTH */
} NoomJsonScan;

/* Returns the end of the JSON value starting at @p ('[', '{' or '"'), or
 * NULL when it is unterminated, has a bad escape or nests deeper than
 * NOOM_JSON_MAX_DEPTH (the reason is in @scan).  json-glib is more lenient
 * than JSON.parse (it accepts several top-level statements and
 * "var x = ..."), so the parser is only handed exactly one value, and
 * whatever follows it must be whitespace.  json-glib's parser, and the
 * copies and frees of its trees, recurse once per level: a packet of
 * 200 KB nested 100,000 deep overflows the stack before any check of
 * ours could run, so the depth is bounded here, before json-glib sees
 * anything. */
static const gchar *
json_value_end (const gchar * p, const gchar * end, NoomJsonScan * scan)
{
  guint depth = 0;
  gsize n;

  for (; p < end; p++) {
    switch (*p) {
      case '"':
        for (p++; p < end && *p != '"'; p++) {
          if (*p != '\\')
            continue;
          /* json-glib's strings end at the first NUL, so "ab\u0000cd"
           * would silently become "ab".  The pair skip below keeps an
           * escaped backslash ("\\u0000", plain text) from matching. */
          if (end - p >= 6 && memcmp (p + 1, "u0000", 5) == 0)
            scan->has_nul = TRUE;
          /* Only the escapes JSON.parse knows, and no lone surrogate.
           * json-glib also takes a bare "\u" (or "\u12") and then lets an
           * earlier lone surrogate through as bytes that are not UTF-8. */
          n = escape_length (p + 1, end);
          if (n == 0) {
            scan->bad_escape = TRUE;
            return NULL;
          }
          p += n;
        }
        if (p >= end)
          return NULL;
        if (depth == 0)
          return p + 1;
        break;
      case '[':
      case '{':
        if (++depth > NOOM_JSON_MAX_DEPTH) {
          scan->too_deep = TRUE;
          return NULL;
        }
        break;
      case ']':
      case '}':
        if (depth == 0)
          return NULL;
        if (--depth == 0)
          return p + 1;
        break;
      default:
        /* Outside strings JSON only has these; this also refuses the
         * GScanner extensions json-glib accepts ('single quotes', 0x1f,
         * comments, identifiers). */
        if (!strchr (" \t\r\n,:-+.0123456789eEtrufalsn", *p) || *p == '\0')
          return NULL;
        break;
    }
  }
  return NULL;
}

/* What json-glib accepted that must not go further: whatever the server
 * relays is written back out, and every receiver drops its connection on a
 * frame that is not UTF-8 or not JSON, so one participant could disconnect
 * a whole room.  json-glib can hand back strings that are not UTF-8 (a lone
 * surrogate escape) and turns numbers out of double range (1e999) into
 * infinity, which JSON cannot express. */
static gboolean
tree_is_sound (JsonNode * node, GError ** error)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_ARRAY:{
      JsonArray *array = json_node_get_array (node);
      guint i, n = json_array_get_length (array);

      for (i = 0; i < n; i++)
        if (!tree_is_sound (json_array_get_element (array, i), error))
          return FALSE;
      return TRUE;
    }
    case JSON_NODE_OBJECT:{
      JsonObjectIter iter;
      const gchar *name;
      JsonNode *member;

      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member)) {
        if (!g_utf8_validate (name, -1, NULL)) {
          g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
              NOOM_PROTOCOL_ERROR_BAD_JSON,
              "invalid JSON: member name is not UTF-8");
          return FALSE;
        }
        if (!tree_is_sound (member, error))
          return FALSE;
      }
      return TRUE;
    }
    case JSON_NODE_VALUE:{
      GType vtype = json_node_get_value_type (node);

      if (vtype == G_TYPE_STRING
          && !g_utf8_validate (json_node_get_string (node), -1, NULL)) {
        g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
            NOOM_PROTOCOL_ERROR_BAD_JSON,
            "invalid JSON: string is not UTF-8");
        return FALSE;
      }
      if (vtype == G_TYPE_DOUBLE && !isfinite (json_node_get_double (node))) {
        g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
            NOOM_PROTOCOL_ERROR_BAD_JSON,
            "invalid JSON: number out of range");
        return FALSE;
      }
      return TRUE;
    }
    case JSON_NODE_NULL:
      return TRUE;
  }
  return FALSE;
}

static gboolean
payload_is_valid (NoomSioType type, JsonNode * data)
{
  switch (type) {
    case NOOM_SIO_CONNECT:
      return JSON_NODE_HOLDS_OBJECT (data);
    case NOOM_SIO_DISCONNECT:
      return FALSE;
    case NOOM_SIO_CONNECT_ERROR:
      return JSON_NODE_HOLDS_OBJECT (data) ||
          (JSON_NODE_HOLDS_VALUE (data) &&
          json_node_get_value_type (data) == G_TYPE_STRING);
    case NOOM_SIO_EVENT:
    case NOOM_SIO_BINARY_EVENT:{
      JsonArray *array;
      JsonNode *first;
      GType vtype;

      if (!JSON_NODE_HOLDS_ARRAY (data))
        return FALSE;
      array = json_node_get_array (data);
      if (json_array_get_length (array) == 0)
        return FALSE;
      first = json_array_get_element (array, 0);
      if (!JSON_NODE_HOLDS_VALUE (first))
        return FALSE;
      vtype = json_node_get_value_type (first);
      if (vtype == G_TYPE_INT64 || vtype == G_TYPE_DOUBLE)
        return TRUE;
      return vtype == G_TYPE_STRING &&
          !noom_sio_is_reserved_event (json_node_get_string (first));
    }
    case NOOM_SIO_ACK:
    case NOOM_SIO_BINARY_ACK:
      return JSON_NODE_HOLDS_ARRAY (data);
  }
  return FALSE;
}

const gchar *
noom_json_node_get_string (JsonNode * node)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

gboolean
noom_json_node_get_int (JsonNode * node, gint64 * value)
{
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node))
    return FALSE;
  if (json_node_get_value_type (node) == G_TYPE_INT64) {
    *value = json_node_get_int (node);
    return TRUE;
  }
  if (json_node_get_value_type (node) == G_TYPE_DOUBLE) {
    gdouble d = json_node_get_double (node);

    if (d != (gdouble) (gint64) d)
      return FALSE;
    *value = (gint64) d;
    return TRUE;
  }
  return FALSE;
}

JsonNode *
noom_json_parse (const gchar * text, gsize len, GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (GError) json_error = NULL;
  g_autoptr (JsonNode) root = NULL;
  NoomJsonScan scan = { 0, };
  const gchar *end, *value_end, *rest;

  /* Before any pointer arithmetic: text may be NULL when len is 0. */
  if (len == 0 || (*text != '[' && *text != '{' && *text != '"')) {
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_BAD_JSON,
        "invalid JSON: not an array, object or string");
    return NULL;
  }
  end = text + len;
  value_end = json_value_end (text, end, &scan);
  for (rest = value_end; rest && rest < end; rest++) {
    if (!g_ascii_isspace (*rest)) {
      rest = NULL;
      break;
    }
  }
  if (scan.too_deep) {
    g_set_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_TOO_DEEP,
        "invalid JSON: nested deeper than %d levels", NOOM_JSON_MAX_DEPTH);
    return NULL;
  }
  if (scan.bad_escape) {
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_BAD_JSON, "invalid JSON: bad escape in a string");
    return NULL;
  }
  if (value_end == NULL || rest == NULL) {
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_BAD_JSON, "invalid JSON: not exactly one value");
    return NULL;
  }
  if (scan.has_nul) {
    /* docs/protocol.md §1: U+0000 in any string is a malformed packet
     * (no room name, nickname or chat message may hold it, and no
     * json-glib string can). */
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_BAD_PAYLOAD, "invalid JSON: \\u0000 in a string");
    return NULL;
  }
  if (!json_parser_load_from_data (parser, text, value_end - text,
          &json_error)) {
    g_set_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_BAD_JSON,
        "invalid JSON: %s", json_error->message);
    return NULL;
  }
  root = json_parser_steal_root (parser);
  if (root == NULL) {
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_BAD_JSON, "invalid JSON: no value");
    return NULL;
  }
  if (!tree_is_sound (root, error))
    return NULL;
  return g_steal_pointer (&root);
}

NoomSioPacket *
noom_sio_packet_parse (const gchar * text, gsize len, GError ** error)
{
  g_autoptr (NoomSioPacket) packet = NULL;
  const gchar *p, *end;
  NoomSioType type;

  g_return_val_if_fail (text != NULL || len == 0, NULL);

  /* Before any pointer arithmetic: text may be NULL when len is 0. */
  if (len == 0) {
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_EMPTY, "empty Socket.IO packet");
    return NULL;
  }
  p = text;
  end = text + len;
  if (*p < '0' || *p > '6') {
    g_set_error (error, NOOM_PROTOCOL_ERROR, NOOM_PROTOCOL_ERROR_BAD_TYPE,
        "unknown Socket.IO packet type '%c'", g_ascii_isprint (*p) ? *p : '?');
    return NULL;
  }
  type = *p++ - '0';

  packet = g_new0 (NoomSioPacket, 1);
  packet->type = type;
  packet->id = -1;

  if (type == NOOM_SIO_BINARY_EVENT || type == NOOM_SIO_BINARY_ACK) {
    guint64 n = 0;
    const gchar *start = p;

    while (p < end && g_ascii_isdigit (*p) && p - start < 3)
      n = n * 10 + (*p++ - '0');
    if (p == start || p >= end || *p != '-') {
      g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
          NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS, "illegal attachments count");
      return NULL;
    }
    p++;
    if (n > NOOM_SIO_MAX_ATTACHMENTS) {
      g_set_error (error, NOOM_PROTOCOL_ERROR,
          NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS,
          "too many attachments (%" G_GUINT64_FORMAT ", at most %d)", n,
          NOOM_SIO_MAX_ATTACHMENTS);
      return NULL;
    }
    packet->attachments = n;
  }

  /* The namespace runs up to ',' or the end of the packet. */
  if (p < end && *p == '/') {
    const gchar *comma = memchr (p, ',', end - p);
    const gchar *nsp_end = comma ? comma : end;

    if (!g_utf8_validate_len (p, nsp_end - p, NULL)) {
      g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
          NOOM_PROTOCOL_ERROR_BAD_ENCODING, "namespace is not UTF-8");
      return NULL;
    }
    packet->nsp = g_strndup (p, nsp_end - p);
    p = comma ? comma + 1 : end;
  } else {
    packet->nsp = g_strdup ("/");
  }

  if (p < end && g_ascii_isdigit (*p)) {
    gint64 id = 0;

    while (p < end && g_ascii_isdigit (*p)) {
      id = id * 10 + (*p++ - '0');
      if (id > MAX_ACK_ID) {
        g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
            NOOM_PROTOCOL_ERROR_BAD_ACK_ID, "ack id too large");
        return NULL;
      }
    }
    packet->id = id;
  }

  if (p < end) {
    if (*p != '[' && *p != '{' && *p != '"') {
      /* Not a JSON document socket.io-parser would accept for any type;
       * typically a non-numeric ack id ("42abc[...]"). */
      g_set_error (error, NOOM_PROTOCOL_ERROR,
          packet->id < 0 && g_ascii_isalpha (*p) ?
          NOOM_PROTOCOL_ERROR_BAD_ACK_ID : NOOM_PROTOCOL_ERROR_BAD_PAYLOAD,
          "invalid Socket.IO payload");
      return NULL;
    }
    packet->data = noom_json_parse (p, end - p, error);
    if (packet->data == NULL)
      return NULL;
    if (!payload_is_valid (type, packet->data)) {
      g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
          NOOM_PROTOCOL_ERROR_BAD_PAYLOAD, "invalid Socket.IO payload");
      return NULL;
    }
  } else if (type == NOOM_SIO_EVENT || type == NOOM_SIO_BINARY_EVENT ||
      type == NOOM_SIO_CONNECT_ERROR) {
    /* socket.io-parser lets these through with no data, but there is
     * nothing a server could do with them. */
    g_set_error_literal (error, NOOM_PROTOCOL_ERROR,
        NOOM_PROTOCOL_ERROR_BAD_PAYLOAD, "Socket.IO packet without payload");
    return NULL;
  }

  return g_steal_pointer (&packet);
}

/* JSON string escaping.  Strings that reach the encoder are UTF-8 (the
 * parser refuses others, and GLib strings the server makes are); should
 * one not be, it is written with U+FFFD for the bad bytes rather than
 * sent as a frame that no client can read. */
static void
append_json_string (GString * out, const gchar * s)
{
  g_autofree gchar *valid = NULL;
  const gchar *run;

  if (!g_utf8_validate (s, -1, NULL))
    s = valid = g_utf8_make_valid (s, -1);
  run = s;
  g_string_append_c (out, '"');
  for (; *s; s++) {
    guchar c = *s;

    if (c >= 0x20 && c != '"' && c != '\\')
      continue;
    g_string_append_len (out, run, s - run);
    switch (c) {
      case '"':
        g_string_append (out, "\\\"");
        break;
      case '\\':
        g_string_append (out, "\\\\");
        break;
      case '\n':
        g_string_append (out, "\\n");
        break;
      case '\r':
        g_string_append (out, "\\r");
        break;
      case '\t':
        g_string_append (out, "\\t");
        break;
      default:
        g_string_append_printf (out, "\\u%04x", c);
        break;
    }
    run = s + 1;
  }
  g_string_append_len (out, run, s - run);
  g_string_append_c (out, '"');
}

/* Appends a double as JSON: the shortest of %.15g, %.16g and %.17g that
 * reads back as the same double.  Not json_generator: json-glib 1.6
 * appends ".0" to a double printed without a '.', so 1e21 became
 * "1e+21.0", and it writes infinity as "inf.0", neither of them JSON. */
static void
append_json_double (GString * out, gdouble d)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];
  static const gchar *const formats[] = { "%.15g", "%.16g", "%.17g" };
  guint i;

  if (!isfinite (d)) {
    /* What JSON.stringify writes; the parser never lets one in. */
    g_string_append (out, "null");
    return;
  }
  if (d == 0) {
    /* -0 too: JSON.stringify(-0) is "0" (and "-0" would come back as the
     * integer 0, a different JSON value for json-glib) */
    g_string_append_c (out, '0');
    return;
  }
  for (i = 0; i < G_N_ELEMENTS (formats); i++) {
    g_ascii_formatd (buf, sizeof (buf), formats[i], d);
    if (g_ascii_strtod (buf, NULL) == d)
      break;
  }
  g_string_append (out, buf);
}

/* Appends @node as compact JSON (what JSON.stringify writes), members in
 * the order they were added. */
static void
append_json_node (GString * out, JsonNode * node)
{
  switch (JSON_NODE_TYPE (node)) {
    case JSON_NODE_OBJECT:{
      JsonObjectIter iter;
      const gchar *name;
      JsonNode *member;
      gboolean first = TRUE;

      g_string_append_c (out, '{');
      json_object_iter_init_ordered (&iter, json_node_get_object (node));
      while (json_object_iter_next_ordered (&iter, &name, &member)) {
        if (!first)
          g_string_append_c (out, ',');
        first = FALSE;
        append_json_string (out, name);
        g_string_append_c (out, ':');
        append_json_node (out, member);
      }
      g_string_append_c (out, '}');
      break;
    }
    case JSON_NODE_ARRAY:{
      JsonArray *array = json_node_get_array (node);
      guint i, n = json_array_get_length (array);

      g_string_append_c (out, '[');
      for (i = 0; i < n; i++) {
        if (i > 0)
          g_string_append_c (out, ',');
        append_json_node (out, json_array_get_element (array, i));
      }
      g_string_append_c (out, ']');
      break;
    }
    case JSON_NODE_VALUE:{
      GType vtype = json_node_get_value_type (node);

      if (vtype == G_TYPE_STRING)
        append_json_string (out, json_node_get_string (node));
      else if (vtype == G_TYPE_INT64)
        g_string_append_printf (out, "%" G_GINT64_FORMAT,
            json_node_get_int (node));
      else if (vtype == G_TYPE_DOUBLE)
        append_json_double (out, json_node_get_double (node));
      else if (vtype == G_TYPE_BOOLEAN)
        g_string_append (out, json_node_get_boolean (node) ? "true" : "false");
      else
        g_string_append (out, "null");
      break;
    }
    case JSON_NODE_NULL:
      g_string_append (out, "null");
      break;
  }
}

/* Appends the Socket.IO text of @packet (no Engine.IO prefix). */
static void
sio_packet_append (GString * out, const NoomSioPacket * packet)
{
  g_string_append_c (out, '0' + packet->type);
  if (packet->type == NOOM_SIO_BINARY_EVENT
      || packet->type == NOOM_SIO_BINARY_ACK)
    g_string_append_printf (out, "%u-", packet->attachments);
  if (packet->nsp && strcmp (packet->nsp, "/") != 0) {
    g_string_append (out, packet->nsp);
    g_string_append_c (out, ',');
  }
  if (packet->id >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, packet->id);
  if (packet->data)
    append_json_node (out, packet->data);
}

gchar *
noom_sio_packet_encode (const NoomSioPacket * packet)
{
  GString *out;

  g_return_val_if_fail (packet != NULL, NULL);

  out = g_string_sized_new (64);
  sio_packet_append (out, packet);
  return g_string_free (out, FALSE);
}

GBytes *
noom_sio_frame_packet (const NoomSioPacket * packet)
{
  GString *out;

  g_return_val_if_fail (packet != NULL, NULL);

  out = g_string_sized_new (64);
  g_string_append_c (out, '0' + NOOM_EIO_MESSAGE);
  sio_packet_append (out, packet);
  return g_string_free_to_bytes (out);
}

/* Appends ",a,b,c]" (or "]" for none): the tail of an array whose first
 * element has already been written. */
static void
append_args_tail (GString * out, JsonArray * args)
{
  guint i, n = args ? json_array_get_length (args) : 0;

  for (i = 0; i < n; i++) {
    g_string_append_c (out, ',');
    append_json_node (out, json_array_get_element (args, i));
  }
  g_string_append_c (out, ']');
}

GBytes *
noom_sio_frame_event (const gchar * event, JsonArray * args, gint64 id)
{
  GString *out;

  g_return_val_if_fail (event != NULL, NULL);

  out = g_string_sized_new (64);
  g_string_append (out, "42");
  if (id >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, id);
  g_string_append_c (out, '[');
  append_json_string (out, event);
  append_args_tail (out, args);
  return g_string_free_to_bytes (out);
}

GBytes *
noom_sio_frame_event_array (JsonArray * event, gint64 id)
{
  GString *out;
  guint i, n;

  g_return_val_if_fail (event != NULL, NULL);
  n = json_array_get_length (event);
  g_return_val_if_fail (n > 0, NULL);

  out = g_string_sized_new (64);
  g_string_append (out, "42");
  if (id >= 0)
    g_string_append_printf (out, "%" G_GINT64_FORMAT, id);
  for (i = 0; i < n; i++) {
    g_string_append_c (out, i == 0 ? '[' : ',');
    append_json_node (out, json_array_get_element (event, i));
  }
  g_string_append_c (out, ']');
  return g_string_free_to_bytes (out);
}

GBytes *
noom_sio_frame_ack (gint64 id, JsonArray * args)
{
  GString *out;
  guint i, n = args ? json_array_get_length (args) : 0;

  g_return_val_if_fail (id >= 0, NULL);

  out = g_string_sized_new (32);
  g_string_append_printf (out, "43%" G_GINT64_FORMAT "[", id);
  for (i = 0; i < n; i++) {
    if (i > 0)
      g_string_append_c (out, ',');
    append_json_node (out, json_array_get_element (args, i));
  }
  g_string_append_c (out, ']');
  return g_string_free_to_bytes (out);
}
