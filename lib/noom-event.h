/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-event: the arguments of the client-to-server events of
 * docs/protocol.md §5, checked and read, pure (no server state, no I/O).
 *
 * noom-server's on_event parses every event with noom_event_args_parse()
 * and its handlers read the result; tests/fuzz/fuzz-room.c feeds the same
 * function.  What needs state (is the sender in that room, is `to` a
 * member, tokens, rate limits, room capacity) stays in the server and in
 * lib/noom-room.
 *
 * The order of the checks is part of the wire behaviour (a request gets
 * the error of the first check it fails), so it is split in two:
 *   1. noom_event_args_parse(): the event name, every argument's type and
 *      presence, the join options, the nickname rule (§2) of `nickname`
 *      and of a join's `nickname` option;
 *   then the server's access checks (tokens: forbidden);
 *   2. noom_event_args_check_content(): the chat message rule (§2).
 * A join's room name rule comes after the token checks as well, inside
 * noom_room_set_check_join() (with the room capacity).
 */
#pragma once

#include <json-glib/json-glib.h>

#include "noom-room.h"

G_BEGIN_DECLS

typedef enum {
  NOOM_EVENT_NEW_MESSAGE,       /* new_message(text, room) */
  NOOM_EVENT_ICE,               /* ice(candidate, room[, to]) */
  NOOM_EVENT_OFFER,             /* offer(description, room[, to]) */
  NOOM_EVENT_ANSWER,            /* answer(description, room[, to]) */
  NOOM_EVENT_JOIN,              /* enter_room / join_room(room[, options]) */
  NOOM_EVENT_NICKNAME,          /* nickname(name) */
  NOOM_EVENT_LEAVE_ROOM,        /* leave_room() */
  NOOM_EVENT_OFFER_FAILED,      /* offer_failed({reason}, room, to) */
} NoomEventType;

#define NOOM_EVENT_LAST NOOM_EVENT_OFFER_FAILED

/* One event's arguments.  The pointers are borrowed from the JsonArray
 * given to noom_event_args_parse() and live as long as it does.  Members
 * an event does not have are NULL / 0. */
typedef struct {
  NoomEventType type;
  const gchar *room;            /* JOIN, NEW_MESSAGE, relays: never NULL */
  const gchar *nickname;        /* NICKNAME: never NULL; JOIN: the option,
                                 * NULL when absent */
  NoomKind kind;                /* JOIN: the option, or browser */
  NoomMediaFlags sends;         /* JOIN: the option, or the kind's default;
                                 * OFFER, ANSWER: what the description
                                 * sends (noom_sdp_get_sends()) */
  const gchar *text;            /* NEW_MESSAGE: never NULL */
  JsonNode *payload;            /* ICE: an object or a null node; OFFER,
                                 * ANSWER: an object with string type and
                                 * sdp; OFFER_FAILED: an object with a
                                 * string reason */
  const gchar *to;              /* relays: NULL when absent or null;
                                 * OFFER_FAILED: never NULL */
} NoomEventArgs;

/* The event's name as docs/protocol.md spells it ("join_room" for JOIN,
 * which "enter_room" also is). */
const gchar *noom_event_type_to_string (NoomEventType type);

/* Check and read the arguments of event @event.  @args is the Socket.IO
 * event array as parsed (element 0 is the event name, the arguments start
 * at 1; extra trailing arguments are ignored).  @limits gives the nickname
 * length limit.  On failure *@out is unspecified and @error holds the
 * NOOM_ROOM_ERROR the server answers with:
 *   UNKNOWN_EVENT  unknown event "<event, clipped to 64 characters>"
 *   BAD_ARGUMENT   "<what> must be ..." (a missing argument, a wrong
 *                  type, an unknown kind or media, an sdp with a bare CR)
 *   BAD_NAME, NAME_TOO_LONG  a nickname (event or join option) breaking
 *                  the §2 rule */
gboolean noom_event_args_parse (const gchar * event, JsonArray * args,
    const NoomRoomLimits * limits, NoomEventArgs * out, GError ** error);

/* The content checks that come after the server's access checks: the chat
 * message rule (§2, @limits->max_message) for NEW_MESSAGE; TRUE for every
 * other event.  Errors: BAD_ARGUMENT, NAME_TOO_LONG. */
gboolean noom_event_args_check_content (const NoomEventArgs * args,
    const NoomRoomLimits * limits, GError ** error);

/* Text from a client made fit for an error message or a log line: valid
 * UTF-8 (invalid bytes become U+FFFD), at most @max characters, followed
 * by "…" when clipped.  Free with g_free(). */
gchar *noom_event_clip (const gchar * text, guint max);

G_END_DECLS
