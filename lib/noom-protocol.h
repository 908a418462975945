/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-protocol: what goes over the wire between noom-server and its
 * clients, as docs/protocol.md (the contract) describes it, pure (no I/O,
 * no state): the types both sides share (media, kinds, participants), the
 * name rules and limits of §2 and the error codes of §4.
 *
 * The server (tools/noom-server, lib/noom-event, lib/noom-room) and the
 * signalling client (lib/noom-client) both take them from here, so a
 * change to the wire is a change to this file and to docs/protocol.md.
 */
#pragma once

#include <glib-object.h>

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
} NoomRoomError;

/* The wire code ("bad_argument", "room_full", ...) of @code. */
const gchar *noom_room_error_to_code (NoomRoomError code);

/* ------------------------------------------------------------------ limits */

#define NOOM_ROOM_DEFAULT_MAX_ROOM_SIZE 16
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
} NoomParticipant;

#define NOOM_TYPE_PARTICIPANT (noom_participant_get_type ())
GType noom_participant_get_type (void);
NoomParticipant *noom_participant_new (const gchar * id,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends);
NoomParticipant *noom_participant_ref (NoomParticipant * p);
void noom_participant_unref (NoomParticipant * p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NoomParticipant, noom_participant_unref);

G_END_DECLS
