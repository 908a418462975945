/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-protocol: what goes over the wire between noom-server and its
 * clients, as docs/protocol.md (the contract) describes it, pure (no I/O,
 * no state): the event names, the types both sides share (media, kinds,
 * participants), the name rules and limits of §2, the error codes of §4,
 * and an encoder and a decoder for every event and every answer of §5
 * and §6.
 *
 * The server (tools/noom-server, lib/noom-event, lib/noom-room) and the
 * signalling client (lib/noom-client) build and read what they send here
 * and nowhere else, so a change to the wire is a change to this file and
 * to docs/protocol.md.  tests/unit/test-protocol.c checks that every
 * decoder reads back what its encoder wrote.
 *
 * An event is the Socket.IO event array as it travels: element 0 is the
 * event name, the arguments follow.  Encoders return a new one (frame it
 * with noom_sio_frame_event_array()); decoders
 * read one as noom_sio_packet_parse() gave it and borrow from it: the
 * strings they hand out live as long as it does.  The Socket.IO and
 * Engine.IO packets around the events are lib/noom-packet's.
 */
#pragma once

#include <glib-object.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* ------------------------------------------------------------------ errors */

#define NOOM_ROOM_ERROR (noom_room_error_quark ())
GQuark noom_room_error_quark (void);

/* The error codes of docs/protocol.md §4, in that order. */
typedef enum {
  NOOM_ROOM_ERROR_BAD_ARGUMENT,
  NOOM_ROOM_ERROR_BAD_NAME,
  NOOM_ROOM_ERROR_NAME_TOO_LONG,
  NOOM_ROOM_ERROR_ROOM_FULL,
  NOOM_ROOM_ERROR_NOT_IN_ROOM,
  NOOM_ROOM_ERROR_UNKNOWN_PEER,
  NOOM_ROOM_ERROR_UNKNOWN_EVENT,
  NOOM_ROOM_ERROR_RATE_LIMITED,
  NOOM_ROOM_ERROR_FORBIDDEN,
  NOOM_ROOM_ERROR_SFU_REQUIRED,
  NOOM_ROOM_ERROR_UNSUPPORTED_CODEC,
  NOOM_ROOM_ERROR_UNAVAILABLE,
} NoomRoomError;

/* The wire code ("bad_argument", "room_full", ...) of @code. */
const gchar *noom_room_error_to_code (NoomRoomError code);

/* ------------------------------------------------------------------ limits */

#define NOOM_ROOM_DEFAULT_MAX_ROOM_SIZE 16
/* With --sfu (docs/protocol.md §11): participants, and participants that
 * send media. */
#define NOOM_ROOM_DEFAULT_SFU_MAX_ROOM_SIZE 500
#define NOOM_ROOM_DEFAULT_MAX_PUBLISHERS 16
#define NOOM_ROOM_DEFAULT_MAX_ROOM_NAME 64      /* characters */
#define NOOM_ROOM_DEFAULT_MAX_NICKNAME 32       /* characters */
#define NOOM_ROOM_DEFAULT_MAX_MESSAGE 4096      /* bytes */
#define NOOM_ROOM_DEFAULT_NICKNAME "Anon"

typedef struct {
  guint max_room_size;          /* participants per room */
  guint max_room_name;          /* characters */
  guint max_nickname;           /* characters */
  gsize max_message;            /* bytes */
} NoomRoomLimits;

void noom_room_limits_init (NoomRoomLimits * limits);

/* A room name or nickname (docs/protocol.md §2): valid UTF-8, 1..@max_chars
 * characters, no control character (U+0000-U+001F, U+007F-U+009F), not only
 * white space.  @len is the byte length (-1: NUL-terminated; an embedded NUL
 * is a control character).  @what ("room name", "nickname") starts the
 * error message.  Errors: BAD_NAME, NAME_TOO_LONG. */
gboolean noom_room_validate_name (const gchar * name, gssize len,
    guint max_chars, const gchar * what, GError ** error);

/* A chat message: non-empty, valid UTF-8, no NUL, at most @max_bytes.
 * Errors: BAD_ARGUMENT, NAME_TOO_LONG. */
gboolean noom_room_validate_message (const gchar * text, gssize len,
    gsize max_bytes, GError ** error);

/* ------------------------------------------------------------------- media */

typedef enum {
  NOOM_MEDIA_NONE = 0,
  NOOM_MEDIA_AUDIO = 1 << 0,
  NOOM_MEDIA_VIDEO = 1 << 1,
} NoomMediaFlags;

/* "audio" / "video" -> flag; FALSE for anything else */
gboolean noom_media_from_string (const gchar * name, NoomMediaFlags * flag);
/* "audio", "video", "audio and video" or "nothing". */
const gchar *noom_media_flags_to_string (NoomMediaFlags media);

/* What a participant sends right now (docs/protocol.md §3, media_state):
 * its microphone is on, its camera is on, it shares its screen.  AUDIO and
 * VIDEO have the values of NOOM_MEDIA_AUDIO and NOOM_MEDIA_VIDEO, so a
 * participant's default state is its `sends`. */
typedef enum {
  NOOM_MEDIA_STATE_NONE = 0,
  NOOM_MEDIA_STATE_AUDIO = 1 << 0,
  NOOM_MEDIA_STATE_VIDEO = 1 << 1,
  NOOM_MEDIA_STATE_SCREEN = 1 << 2,
} NoomMediaState;

#define NOOM_MEDIA_STATE_ALL \
  (NOOM_MEDIA_STATE_AUDIO | NOOM_MEDIA_STATE_VIDEO | NOOM_MEDIA_STATE_SCREEN)

/* The states a participant sending @sends may be in: audio with audio,
 * video and screen with video (a screen is a video track). */
NoomMediaState noom_media_state_allowed (NoomMediaFlags sends);
/* {"audio","video","screen"} (booleans) */
JsonObject *noom_protocol_encode_media_state (NoomMediaState state);

/* ------------------------------------------------- media modes (§11) */

/* How a room carries media: the join ack's "media", and the modes a client
 * lists in its join option "media". */
typedef enum {
  NOOM_MEDIA_MODE_NONE = 0,
  NOOM_MEDIA_MODE_MESH = 1 << 0,        /* peer to peer (§7) */
  NOOM_MEDIA_MODE_SFU = 1 << 1, /* through the server's relay (§11) */
} NoomMediaModes;

#define NOOM_MEDIA_MODE_NAME_MESH "mesh"
#define NOOM_MEDIA_MODE_NAME_SFU "sfu"

/* "mesh" / "sfu" -> flag; FALSE for anything else */
gboolean noom_media_mode_from_string (const gchar * name,
    NoomMediaModes * mode);

/* The pseudo-participant id of the media relay in an SFU room: the `to`
 * of what a client sends it, the `from` of what it sends (no participant
 * id starts with '~'). */
#define NOOM_SFU_RELAY_ID "~sfu"

/* media_relay({"state"}) */
#define NOOM_MEDIA_RELAY_STATE_RESTARTING "restarting"
#define NOOM_MEDIA_RELAY_STATE_READY "ready"

/* ---------------------------------------------------------------- features */

/* What a client takes part in beyond the basics: the join option and
 * participant member "features" (docs/protocol.md §3).  Unknown names are
 * skipped, so that a later protocol may add some. */
typedef enum {
  NOOM_FEATURE_NONE = 0,
  NOOM_FEATURE_SCREEN = 1 << 0, /* the screen m-line (§7 "A shared
                                 * screen", §11) */
} NoomFeatures;

#define NOOM_FEATURE_NAME_SCREEN "screen"

/* "screen" -> flag; FALSE for anything else */
gboolean noom_feature_from_string (const gchar * name, NoomFeatures * flag);

/* ------------------------------------------------------------------- kinds */

typedef enum {
  NOOM_KIND_BROWSER,
  NOOM_KIND_PUBLISHER,
  NOOM_KIND_SUBSCRIBER,
  NOOM_KIND_RECORDER,
} NoomKind;

#define NOOM_KIND_LAST NOOM_KIND_RECORDER

const gchar *noom_kind_to_string (NoomKind kind);
gboolean noom_kind_from_string (const gchar * name, NoomKind * kind);
/* browser, publisher: audio+video; subscriber, recorder: nothing */
NoomMediaFlags noom_kind_default_sends (NoomKind kind);

/* ------------------------------------------------------------ participants */

/* One participant of the room (docs/protocol.md §3). Boxed, refcounted. */
typedef struct {
  gchar *id;
  gchar *nickname;
  gchar *kind;                  /* "browser", "publisher", "subscriber", "recorder" */
  NoomMediaFlags sends;
  NoomMediaState state;         /* media_state; noom_participant_new() sets
                                 * it to @sends */
  NoomFeatures features;        /* "features"; NONE when absent */
} NoomParticipant;

#define NOOM_TYPE_PARTICIPANT (noom_participant_get_type ())
GType noom_participant_get_type (void);
NoomParticipant *noom_participant_new (const gchar * id,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends);
NoomParticipant *noom_participant_ref (NoomParticipant * p);
void noom_participant_unref (NoomParticipant * p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NoomParticipant, noom_participant_unref);

/* {"id","nickname","kind","sends","media_state"}, and "features" when
 * there are some. */
JsonNode *noom_protocol_encode_participant (const NoomParticipant * p);
/* A participant object.  Errors: BAD_ARGUMENT (a member missing or of the
 * wrong type).  Media other than audio and video are skipped: a later
 * protocol may add some.  Without "media_state" (an older server) the
 * state is its sends; members of it that are not booleans read as false.
 * "features" is optional: unknown names and what is not a string are
 * skipped. */
NoomParticipant *noom_protocol_decode_participant (JsonObject * object,
    GError ** error);

/* ------------------------------------------------------------- event names */

/* Every event name of docs/protocol.md §5 and §6; spelt nowhere else. */
#define NOOM_EVENT_NAME_NICKNAME "nickname"
#define NOOM_EVENT_NAME_ENTER_ROOM "enter_room"
#define NOOM_EVENT_NAME_JOIN_ROOM "join_room"
#define NOOM_EVENT_NAME_LEAVE_ROOM "leave_room"
#define NOOM_EVENT_NAME_NEW_MESSAGE "new_message"
#define NOOM_EVENT_NAME_OFFER "offer"
#define NOOM_EVENT_NAME_ANSWER "answer"
#define NOOM_EVENT_NAME_ICE "ice"
#define NOOM_EVENT_NAME_OFFER_FAILED "offer_failed"
#define NOOM_EVENT_NAME_ROOM_CHANGE "room_change"
#define NOOM_EVENT_NAME_WELCOME "welcome"
#define NOOM_EVENT_NAME_BYE "bye"
#define NOOM_EVENT_NAME_PARTICIPANT_UPDATE "participant_update"
#define NOOM_EVENT_NAME_NOOM_ERROR "noom_error"
#define NOOM_EVENT_NAME_MEDIA_RELAY "media_relay"
#define NOOM_EVENT_NAME_MEDIA_STATE "media_state"
#define NOOM_EVENT_NAME_PARTICIPANT_MEDIA "participant_media"
#define NOOM_EVENT_NAME_MEDIA_BANDWIDTH "media_bandwidth"

/* Text from a client made fit for an error message or a log line: valid
 * UTF-8 (invalid bytes become U+FFFD), at most @max characters, followed
 * by "…" when clipped.  Free with g_free(). */
gchar *noom_event_clip (const gchar * text, guint max);

/* ------------------------------------------------------ ICE candidates */

/* An RTCIceCandidateInit, the payload of `ice` (docs/protocol.md §5). */
typedef struct {
  const gchar *candidate;       /* NULL: the end of candidates (null) */
  const gchar *mid;             /* sdpMid; NULL: null */
  guint mline_index;            /* sdpMLineIndex */
} NoomCandidate;

/* {"candidate","sdpMid","sdpMLineIndex"}, or a null node when
 * @candidate->candidate is NULL. */
JsonNode *noom_protocol_encode_candidate (const NoomCandidate * candidate);
/* Reads @payload as the client takes it: a null node is the end of
 * candidates, and so is a candidate "" (browsers signal the end of a
 * generation with it); a missing or bad sdpMLineIndex reads as 0.  FALSE
 * when @payload is neither an object nor null. */
gboolean noom_protocol_decode_candidate (JsonNode * payload,
    NoomCandidate * out);

/* -------------------------------------------------- client to server (§5) */

typedef enum {
  NOOM_EVENT_NEW_MESSAGE,       /* new_message(text, room) */
  NOOM_EVENT_ICE,               /* ice(candidate, room[, to]) */
  NOOM_EVENT_OFFER,             /* offer(description, room[, to]) */
  NOOM_EVENT_ANSWER,            /* answer(description, room[, to]) */
  NOOM_EVENT_JOIN,              /* enter_room / join_room(room[, options]) */
  NOOM_EVENT_NICKNAME,          /* nickname(name) */
  NOOM_EVENT_LEAVE_ROOM,        /* leave_room() */
  NOOM_EVENT_OFFER_FAILED,      /* offer_failed({reason}, room, to) */
  NOOM_EVENT_MEDIA_STATE,       /* media_state({audio, video, screen}) */
} NoomEventType;

#define NOOM_EVENT_LAST NOOM_EVENT_MEDIA_STATE

/* The event's name as docs/protocol.md spells it ("join_room" for JOIN,
 * which "enter_room" also is). */
const gchar *noom_event_type_to_string (NoomEventType type);

/* One request's arguments, as noom_protocol_decode_request() read them.
 * The pointers are borrowed from the JsonArray it was given and live as
 * long as it does.  Members an event does not have are NULL / 0. */
typedef struct {
  NoomEventType type;
  const gchar *room;            /* JOIN, NEW_MESSAGE, relays: never NULL */
  const gchar *nickname;        /* NICKNAME: never NULL; JOIN: the option,
                                 * NULL when absent */
  NoomKind kind;                /* JOIN: the option, or browser */
  NoomMediaFlags sends;         /* JOIN: the option, or the kind's default;
                                 * OFFER, ANSWER: what the description
                                 * sends, filled in by the server
                                 * (noom_event_args_parse()) */
  gboolean options;             /* JOIN: an options object was given (a
                                 * join without one is a seed page's) */
  NoomMediaModes media;         /* JOIN: the option "media"; NONE when
                                 * absent (mesh is implied) */
  NoomFeatures features;        /* JOIN: the option "features" (unknown
                                 * names skipped); NONE when absent */
  const gchar *text;            /* NEW_MESSAGE: never NULL */
  JsonNode *payload;            /* ICE: an object or a null node; OFFER,
                                 * ANSWER: an object with string type and
                                 * sdp; OFFER_FAILED: an object with a
                                 * string reason */
  const gchar *to;              /* relays: NULL when absent or null;
                                 * OFFER_FAILED: never NULL */
  NoomMediaState state;         /* MEDIA_STATE: the members given true */
  NoomMediaState state_given;   /* MEDIA_STATE: the members given */
} NoomEventArgs;

/* nickname(name) */
JsonArray *noom_protocol_encode_nickname (const gchar * nickname);
/* enter_room(room, {nickname, kind, sends}); @nickname and @kind are left
 * out when NULL. */
JsonArray *noom_protocol_encode_join (const gchar * room,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends);
/* The same with the option "media" (§11), left out when @media is NONE:
 * enter_room(room, {nickname, kind, sends, media}). */
JsonArray *noom_protocol_encode_join_with_media (const gchar * room,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends,
    NoomMediaModes media);
/* The same with the option "features" (§3), left out when @features is
 * NONE. */
JsonArray *noom_protocol_encode_join_full (const gchar * room,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends,
    NoomMediaModes media, NoomFeatures features);
/* leave_room() */
JsonArray *noom_protocol_encode_leave_room (void);
/* new_message(text, room) */
JsonArray *noom_protocol_encode_chat (const gchar * text, const gchar * room);
/* offer or answer ({type, sdp}, room, to) for @type OFFER or ANSWER. */
JsonArray *noom_protocol_encode_description (NoomEventType type,
    const gchar * sdp, const gchar * room, const gchar * to);
/* ice(candidate | null, room, to) */
JsonArray *noom_protocol_encode_ice (const NoomCandidate * candidate,
    const gchar * room, const gchar * to);
/* offer_failed({reason}, room, to) */
JsonArray *noom_protocol_encode_offer_failed (const gchar * reason,
    const gchar * room, const gchar * to);
/* media_state({audio, video, screen}) */
JsonArray *noom_protocol_encode_media_state_request (NoomMediaState state);

/* Reads the arguments of request @event, as the server does.  @args is the
 * event array (element 0 is the event name, the arguments start at 1;
 * extra trailing arguments are ignored); @event is its name as the
 * Socket.IO layer gave it.  @limits gives the nickname length limit.  On
 * failure *@out is unspecified and @error holds the NOOM_ROOM_ERROR the
 * server answers with, from the first check that fails, in the order the
 * arguments come:
 *   UNKNOWN_EVENT  unknown event "<event, clipped to 64 characters>"
 *   BAD_ARGUMENT   "<what> must be ..." (a missing argument, a wrong
 *                  type, an unknown kind or media, an sdp that breaks
 *                  noom_protocol_sdp_is_text())
 *   BAD_NAME, NAME_TOO_LONG  a nickname (event or join option) breaking
 *                  the §2 rule */
gboolean noom_protocol_decode_request (const gchar * event, JsonArray * args,
    const NoomRoomLimits * limits, NoomEventArgs * out, GError ** error);

/* The text a description's sdp must be (docs/protocol.md §4 bad_argument):
 * valid UTF-8 whose every carriage return ends a line (comes right before
 * a line feed or at the very end), since parsers disagree on what a line
 * with a lone one is. */
gboolean noom_protocol_sdp_is_text (const gchar * sdp);

/* -------------------------------------------------- server to client (§6) */

typedef enum {
  NOOM_SERVER_EVENT_ROOM_CHANGE,        /* room_change(names, rooms) */
  NOOM_SERVER_EVENT_WELCOME,    /* welcome(nickname, count, participant) */
  NOOM_SERVER_EVENT_BYE,        /* bye(nickname, count, participant) */
  NOOM_SERVER_EVENT_PARTICIPANT_UPDATE, /* participant_update(participant) */
  NOOM_SERVER_EVENT_NEW_MESSAGE,        /* new_message(line, details) */
  NOOM_SERVER_EVENT_OFFER,      /* offer(description, from) */
  NOOM_SERVER_EVENT_ANSWER,     /* answer(description, from) */
  NOOM_SERVER_EVENT_ICE,        /* ice(candidate, from) */
  NOOM_SERVER_EVENT_OFFER_FAILED,       /* offer_failed({reason}, from) */
  NOOM_SERVER_EVENT_NOOM_ERROR, /* noom_error({code, message, event}) */
  NOOM_SERVER_EVENT_MEDIA_RELAY,        /* media_relay({state}) */
  NOOM_SERVER_EVENT_PARTICIPANT_MEDIA,  /* participant_media({id, audio,
                                         * video, screen}) */
  NOOM_SERVER_EVENT_MEDIA_BANDWIDTH,    /* media_bandwidth({base_bitrate}) */
} NoomServerEventType;

/* One room of a room_change list. */
typedef struct {
  const gchar *name;
  guint count;
} NoomRoomEntry;

/* One event from the server, as noom_protocol_decode_event() read it;
 * clear with noom_server_event_clear().  The strings are borrowed from the
 * event array.  What an event does not carry, or carries with the wrong
 * type, is NULL / 0: the reader decides what it cannot do without (a seed
 * server sends welcome and bye without a participant, new_message
 * without its details). */
typedef struct {
  NoomServerEventType type;
  NoomParticipant *participant; /* WELCOME, BYE, PARTICIPANT_UPDATE; owned */
  guint count;                  /* WELCOME, BYE: the room's count */
  const gchar *nickname;        /* WELCOME, BYE, NEW_MESSAGE */
  const gchar *from;            /* relays, NEW_MESSAGE: the sender's id;
                                 * PARTICIPANT_MEDIA: the participant's */
  JsonNode *payload;            /* relays: the argument as relayed */
  const gchar *sdp;             /* OFFER, ANSWER: the description's sdp */
  NoomCandidate candidate;      /* ICE (payload an object or null) */
  const gchar *reason;          /* OFFER_FAILED */
  const gchar *line;            /* NEW_MESSAGE: "<nickname>: <text>" */
  const gchar *room;            /* NEW_MESSAGE */
  const gchar *text;            /* NEW_MESSAGE */
  gint64 ts;                    /* NEW_MESSAGE: ms since the epoch */
  const gchar *code;            /* NOOM_ERROR */
  const gchar *message;         /* NOOM_ERROR */
  const gchar *event;           /* NOOM_ERROR: the failed request's name */
  const gchar *state;           /* MEDIA_RELAY: "restarting", "ready" */
  guint base_bitrate;           /* MEDIA_BANDWIDTH: bit/s, 0 for none */
  GArray *rooms;                /* ROOM_CHANGE: NoomRoomEntry; owned */
  NoomMediaState media_state;   /* PARTICIPANT_MEDIA */
} NoomServerEvent;

void noom_server_event_clear (NoomServerEvent * event);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (NoomServerEvent, noom_server_event_clear);

/* room_change(names, rooms): @n rooms, sorted by the caller. */
JsonArray *noom_protocol_encode_room_change (const NoomRoomEntry * rooms,
    guint n);
/* welcome(nickname, count, participant), bye(...) */
JsonArray *noom_protocol_encode_welcome (const NoomParticipant * p,
    guint count);
JsonArray *noom_protocol_encode_bye (const NoomParticipant * p, guint count);
/* participant_update(participant) */
JsonArray *noom_protocol_encode_participant_update (const NoomParticipant * p);
/* new_message("<nickname>: <text>", {room, from, nickname, text, ts}) */
JsonArray *noom_protocol_encode_message (const gchar * room,
    const gchar * from, const gchar * nickname, const gchar * text,
    gint64 ts);
/* offer, answer, ice or offer_failed (@type) as relayed: (@payload, from);
 * @payload is copied as it is, members the server does not know kept. */
JsonArray *noom_protocol_encode_relay (NoomEventType type, JsonNode * payload,
    const gchar * from);
/* noom_error({code, message, event}): @event is the failed request's name
 * as the client sent it, clipped here to 64 characters. */
JsonArray *noom_protocol_encode_error (NoomRoomError code,
    const gchar * message, const gchar * event);
/* noom_error with a code given as its wire text (@code): the media
 * relay's errors (§11, e.g. "unsupported_codec") pass through the server
 * as the relay wrote them. */
JsonArray *noom_protocol_encode_error_code (const gchar * code,
    const gchar * message, const gchar * event);
/* media_relay({"state"}): @state one of NOOM_MEDIA_RELAY_STATE_*. */
JsonArray *noom_protocol_encode_media_relay (const gchar * state);
/* media_bandwidth({"base_bitrate"}) (§11): what the lowest layer of a
 * publisher's video should fit in, bit/s: the smallest share of a
 * subscriber's estimate; 0: none is known. */
JsonArray *noom_protocol_encode_media_bandwidth (guint base_bitrate);
/* participant_media({"id","audio","video","screen"}) */
JsonArray *noom_protocol_encode_participant_media (const gchar * id,
    NoomMediaState state);

/* Reads event @args (element 0 the name) from the server.  Errors:
 * UNKNOWN_EVENT for a name that is not one of §6; BAD_ARGUMENT when a
 * participant object is malformed, or an ice candidate is neither an
 * object nor null. */
gboolean noom_protocol_decode_event (JsonArray * args, NoomServerEvent * out,
    GError ** error);

/* ------------------------------------------------- answers (acks, §4, §5) */

/* An answer is the single argument of an ack: {"ok":true, ...} on
 * success, {"error":{"code","message"}} on failure.  The encoders return
 * the ack's argument array. */

/* {"ok":true}: offer, answer, ice, offer_failed */
JsonArray *noom_protocol_encode_ok (void);
/* {"ok":true,"nickname"} */
JsonArray *noom_protocol_encode_nickname_result (const gchar * nickname);
/* {"ok":true,"media_state":{audio, video, screen}} */
JsonArray *noom_protocol_encode_media_state_result (NoomMediaState state);
/* {"ok":true,"room"} */
JsonArray *noom_protocol_encode_leave_result (const gchar * room);
/* {"ok":true,"ts"} */
JsonArray *noom_protocol_encode_chat_result (gint64 ts);
/* {"error":{"code","message"}} */
JsonArray *noom_protocol_encode_refusal (NoomRoomError code,
    const gchar * message);

/* One entry of iceServers (RTCIceServer). */
typedef struct {
  const gchar *const *urls;     /* NULL-terminated */
  const gchar *username;        /* NULL: none */
  const gchar *credential;      /* NULL: none */
} NoomIceServer;

/* [{"urls":[...],"username","credential"}, ...] */
JsonArray *noom_protocol_encode_ice_servers (const NoomIceServer * servers,
    guint n);
/* Calls @func for every URL of @ice_servers (an iceServers array, NULL
 * for none), with its entry's username and credential (NULL when absent);
 * "urls" may be one string or an array.  What is not an RTCIceServer is
 * skipped. */
void noom_protocol_decode_ice_servers (JsonArray * ice_servers,
    void (*func) (const gchar * url, const gchar * username,
        const gchar * credential, gpointer user_data), gpointer user_data);

/* The answer to a join (docs/protocol.md §5). */
typedef struct {
  const gchar *room;
  const gchar *id;              /* the joiner's id */
  NoomParticipant *self;
  GPtrArray *participants;      /* NoomParticipant*, the others, oldest
                                 * first */
  guint count;                  /* including self */
  JsonArray *ice_servers;       /* iceServers (borrowed; NULL: none): from
                                 * noom_protocol_encode_ice_servers(), for
                                 * noom_protocol_decode_ice_servers() */
  guint max_room_size;          /* 0: not said */
  const gchar *media;           /* "mesh" or "sfu" (§11); encoding NULL
                                 * writes "mesh", decoding gives NULL when
                                 * the server did not say (an older one:
                                 * mesh) */
  const gchar *relay;           /* SFU: the relay's id, "~sfu"; NULL: none */
  guint max_publishers;         /* SFU: participants that may send media;
                                 * 0: not said */
} NoomJoinResult;

/* {"ok":true,"room","id","self","participants","count","iceServers",
 * "maxRoomSize","media"[,"relay","maxPublishers"]}: relay and
 * maxPublishers only when set. */
JsonArray *noom_protocol_encode_join_result (const NoomJoinResult * result);
/* Reads a success answer to a join; what is borrowed is borrowed from
 * @answer, and @out->self and @out->participants are owned (clear with
 * noom_join_result_clear()).  Errors: BAD_ARGUMENT when room, self,
 * participants or count is missing, or a participant is malformed. */
gboolean noom_protocol_decode_join_result (JsonObject * answer,
    NoomJoinResult * out, GError ** error);
void noom_join_result_clear (NoomJoinResult * result);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (NoomJoinResult, noom_join_result_clear);

/* The answer object of ack arguments @args (NULL: an ack without any),
 * borrowed.  Errors: BAD_ARGUMENT when it is not an object. */
JsonObject *noom_protocol_decode_answer (JsonArray * args, GError ** error);
/* TRUE when @answer refuses the request: *@code and *@message are then its
 * error's code and message (NULL when absent). */
gboolean noom_protocol_decode_refusal (JsonObject * answer,
    const gchar ** code, const gchar ** message);
/* The nickname of a success answer to `nickname`, or NULL. */
const gchar *noom_protocol_decode_nickname_result (JsonObject * answer);

/* ---------------------------------------------------- CONNECT (§1 Access) */

/* The CONNECT payload: {"token"}, or NULL without a token. */
JsonObject *noom_protocol_encode_auth (const gchar * token);
/* The token of a CONNECT payload (@auth may be NULL), or NULL. */
const gchar *noom_protocol_decode_auth (JsonObject * auth);
/* The `data` of a refused CONNECT: {"code"}. */
JsonNode *noom_protocol_encode_connect_refusal (NoomRoomError code);
/* The message and code of a CONNECT_ERROR payload (an object or a
 * string); either NULL when absent. */
void noom_protocol_decode_connect_refusal (JsonNode * payload,
    const gchar ** message, const gchar ** code);

G_END_DECLS
