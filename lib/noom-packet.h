/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-packet: the Engine.IO v4 and Socket.IO v4 packet codec.
 * Pure functions, no I/O: the server, the signalling client and the tests
 * all parse and build packets here and nowhere else.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define NOOM_PROTOCOL_ERROR (noom_protocol_error_quark ())
GQuark noom_protocol_error_quark (void);

typedef enum {
  NOOM_PROTOCOL_ERROR_EMPTY,            /* empty packet */
  NOOM_PROTOCOL_ERROR_BAD_TYPE,         /* unknown packet type */
  NOOM_PROTOCOL_ERROR_BAD_ENCODING,     /* bad base64, bad UTF-8, ... */
  NOOM_PROTOCOL_ERROR_BAD_ACK_ID,       /* ack id not a number / too big */
  NOOM_PROTOCOL_ERROR_BAD_ATTACHMENTS,  /* attachments count malformed or > max */
  NOOM_PROTOCOL_ERROR_BAD_JSON,         /* payload is not valid JSON */
  NOOM_PROTOCOL_ERROR_BAD_PAYLOAD,      /* JSON of the wrong shape for the type */
  NOOM_PROTOCOL_ERROR_TOO_LARGE,        /* over maxPayload */
  NOOM_PROTOCOL_ERROR_TOO_DEEP,         /* JSON nested over NOOM_JSON_MAX_DEPTH */
} NoomProtocolError;

/* ---------------------------------------------------------------- Engine.IO */

typedef enum {
  NOOM_EIO_OPEN = 0,
  NOOM_EIO_CLOSE = 1,
  NOOM_EIO_PING = 2,
  NOOM_EIO_PONG = 3,
  NOOM_EIO_MESSAGE = 4,
  NOOM_EIO_UPGRADE = 5,
  NOOM_EIO_NOOP = 6,
} NoomEioType;

/* The record separator between packets of a long-polling payload */
#define NOOM_EIO_SEPARATOR '\x1e'

/* One decoded Engine.IO packet.  For a text packet, @data points into the
 * decoded buffer (not NUL-terminated: use @len).  For a binary message
 * (WebSocket binary frame, or "b<base64>" in a polling payload) @binary is
 * TRUE and @data/@len are the raw bytes. */
typedef struct {
  NoomEioType type;
  gboolean binary;
  const gchar *data;
  gsize len;
} NoomEioPacket;

/* Decode one text packet ("4hello", "2probe", "3", ...). */
gboolean noom_eio_decode (const gchar * text, gsize len,
    NoomEioPacket * packet, GError ** error);

/* Split a long-polling payload into packets.  Binary ("b...") packets are
 * base64-decoded into newly allocated buffers that are kept alive by the
 * returned array (element type NoomEioPacket; free with g_array_unref).
 * Any bad packet makes the whole payload invalid (returns NULL). */
GArray *noom_eio_payload_decode (const gchar * body, gsize len,
    GError ** error);

/* Encode one text packet: the type digit followed by @data. */
GBytes *noom_eio_encode (NoomEioType type, const gchar * data, gsize len);

/* Join packets (each a full encoded text packet, GBytes) into a polling
 * payload with the record separator. Binary packets (flag per element of
 * @is_binary, may be NULL) are written as "b<base64>". */
GBytes *noom_eio_payload_encode (GPtrArray * packets,
    const gboolean * is_binary);

/* ---------------------------------------------------------------- Socket.IO */

typedef enum {
  NOOM_SIO_CONNECT = 0,
  NOOM_SIO_DISCONNECT = 1,
  NOOM_SIO_EVENT = 2,
  NOOM_SIO_ACK = 3,
  NOOM_SIO_CONNECT_ERROR = 4,
  NOOM_SIO_BINARY_EVENT = 5,
  NOOM_SIO_BINARY_ACK = 6,
} NoomSioType;

#define NOOM_SIO_MAX_ATTACHMENTS 10

typedef struct {
  NoomSioType type;
  gchar *nsp;                   /* never NULL: "/" for the main namespace */
  gint64 id;                    /* ack id, -1 when the packet has none */
  guint attachments;            /* BINARY_* only */
  JsonNode *data;               /* payload, NULL when there is none */
} NoomSioPacket;

/* Parse the text of a Socket.IO packet (the payload of an Engine.IO
 * message).  Validates the payload shape for the type (as socket.io-parser's
 * isPayloadValid: EVENT needs a non-empty array whose first element is a
 * string that is not a reserved name, ACK an array, CONNECT an object or
 * nothing, CONNECT_ERROR an object or string). */
NoomSioPacket *noom_sio_packet_parse (const gchar * text, gsize len,
    GError ** error);

/* Encode; the result is the Socket.IO text only (no Engine.IO prefix). */
gchar *noom_sio_packet_encode (const NoomSioPacket * packet);

NoomSioPacket *noom_sio_packet_new (NoomSioType type, const gchar * nsp,
    gint64 id, JsonNode * data /* transfer full, nullable */);
void noom_sio_packet_free (NoomSioPacket * packet);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NoomSioPacket, noom_sio_packet_free);

/* Convenience: a complete Engine.IO message frame ("4" + Socket.IO text)
 * for an event on the main namespace, ready to be sent to many sockets.
 * @args are the event arguments (may be NULL for none); @id -1 for no ack. */
GBytes *noom_sio_frame_event (const gchar * event, JsonArray * args,
    gint64 id);
/* The same for a whole event array (element 0 the name), as the
 * lib/noom-protocol encoders return it. */
GBytes *noom_sio_frame_event_array (JsonArray * event, gint64 id);
/* "43<id>[args]" */
GBytes *noom_sio_frame_ack (gint64 id, JsonArray * args);
/* Any packet, as a complete Engine.IO message frame. */
GBytes *noom_sio_frame_packet (const NoomSioPacket * packet);

/* ---------------------------------------------------------------- JSON */

/* How deep any JSON from the network may nest (arrays and objects; a
 * Socket.IO event's argument array is level 1).  Noom's own messages
 * need 4. */
#define NOOM_JSON_MAX_DEPTH 64

/* Parses exactly one JSON array, object or string (whitespace may follow)
 * as JSON.parse would, for any JSON that comes from the network: the
 * nesting depth is bounded before json-glib sees the text, strings must
 * be UTF-8 without U+0000 and numbers finite.  Every JSON parse in Noom
 * of data from outside goes through here. */
JsonNode *noom_json_parse (const gchar * text, gsize len, GError ** error);

/* @node (nullable) as a string; NULL when it is not one. */
const gchar *noom_json_node_get_string (JsonNode * node);
/* @node (nullable) as an integer, written as one or as a double without a
 * fraction; FALSE when it is not one. */
gboolean noom_json_node_get_int (JsonNode * node, gint64 * value);

/* Reserved event names that must never be emitted or accepted. */
gboolean noom_sio_is_reserved_event (const gchar * name);

G_END_DECLS
