/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-event: the server's reading of a client-to-server event of
 * docs/protocol.md §5, pure (no server state, no I/O): the arguments as
 * lib/noom-protocol decodes them, plus what the server reads from a
 * description (the media it sends, lib/noom-sdp).
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

#include "noom-protocol.h"

G_BEGIN_DECLS

/* noom_protocol_decode_request(), and for OFFER and ANSWER what the
 * description sends (noom_sdp_get_sends()) in @out->sends.  Errors: those
 * of noom_protocol_decode_request(). */
gboolean noom_event_args_parse (const gchar * event, JsonArray * args,
    const NoomRoomLimits * limits, NoomEventArgs * out, GError ** error);

/* The content checks that come after the server's access checks: the chat
 * message rule (§2, @limits->max_message) for NEW_MESSAGE; TRUE for every
 * other event.  Errors: BAD_ARGUMENT, NAME_TOO_LONG. */
gboolean noom_event_args_check_content (const NoomEventArgs * args,
    const NoomRoomLimits * limits, GError ** error);

G_END_DECLS
