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

#include "noom-protocol.h"

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

/* A copy of @sdp (an offer) as webrtcbin 1.22 takes it: under BUNDLE
 * (RFC 8843 §7.1, RFC 8829 §5.10) only the transport of a group's tagged
 * m-section (the first mid of the group that names a section) counts, so
 * every other section of the group gets the tagged one's ice-ufrag,
 * ice-pwd, ice-options, fingerprint and setup, and loses its own
 * candidates (and end-of-candidates).  A stack that gives each bundled
 * section its own ufrag (aiortc) is otherwise refused ("different
 * ice-ufrag values in bundle").  Lines end with CRLF in the result; empty
 * lines are dropped; sections outside any group are copied as they are. */
gchar *noom_sdp_normalize_bundle (const gchar * sdp);

/* The index of the m-line whose transport carries m-line @mline of @sdp:
 * its BUNDLE group's tagged m-line, or @mline itself when it is in no
 * group (or @sdp has no such m-line).  A trickled candidate for a bundled
 * m-line belongs to the tagged one. */
guint noom_sdp_transport_mline (const gchar * sdp, guint mline);

G_END_DECLS
