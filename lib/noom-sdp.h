/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-sdp: what a session description says about the media its author
 * sends (docs/protocol.md §7), pure (no state, no I/O).  noom-server reads
 * it from every relayed offer and answer (through noom_event_args_parse(),
 * so tests/fuzz/fuzz-room.c feeds it too) and refuses media the sender did
 * not announce in its `sends`.
 */
#pragma once

#include <glib.h>

#include "noom-client.h"        /* NoomMediaFlags */

G_BEGIN_DECLS

/* The kinds of media the author of @sdp (an offer or an answer) sends, in
 * *@sends.  An m-section sends when it is of type audio or video, is not
 * rejected, and has a sending direction:
 *
 * - direction: a=sendrecv and a=sendonly send, a=recvonly and a=inactive
 *   do not; a section without a direction attribute of its own sends (the
 *   default is sendrecv), whatever the session level says, since not every
 *   receiver applies a session-level direction (webrtcbin does not); a
 *   session-level a=sendrecv or a=sendonly makes every section send;
 * - rejected: port 0, unless the section is a=bundle-only or its a=mid is
 *   in an a=group:BUNDLE (then its media comes on the bundle's transport).
 *
 * Wherever receivers could read the text differently, it counts as
 * sending: several direction attributes in one section send if any of
 * them does, and an attribute counts as sending when its name is followed
 * by the end of the line, ':' or white space, as Chromium reads it.
 *
 * Lines end with CRLF or LF.  Returns FALSE, *@sends unspecified, when
 * @sdp has a carriage return that does not end a line (parsers disagree on
 * what such a line is) or is not valid UTF-8. */
gboolean noom_sdp_get_sends (const gchar * sdp, NoomMediaFlags * sends);

/* "audio", "video", "audio and video" or "nothing". */
const gchar *noom_media_flags_to_string (NoomMediaFlags media);

G_END_DECLS
