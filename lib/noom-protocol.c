/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-protocol: the wire format of docs/protocol.md (see noom-protocol.h).
 * The error messages are wire text (docs/protocol.md §4): change them only
 * together with the clients and tests that read them.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-protocol.h"

/* ------------------------------------------------------------------ errors */

G_DEFINE_QUARK (noom - room - error - quark, noom_room_error);

static const gchar *const error_codes[] = {
  [NOOM_ROOM_ERROR_BAD_ARGUMENT] = "bad_argument",
  [NOOM_ROOM_ERROR_BAD_NAME] = "bad_name",
  [NOOM_ROOM_ERROR_NAME_TOO_LONG] = "name_too_long",
  [NOOM_ROOM_ERROR_ROOM_FULL] = "room_full",
  [NOOM_ROOM_ERROR_NOT_IN_ROOM] = "not_in_room",
  [NOOM_ROOM_ERROR_UNKNOWN_PEER] = "unknown_peer",
  [NOOM_ROOM_ERROR_UNKNOWN_EVENT] = "unknown_event",
  [NOOM_ROOM_ERROR_RATE_LIMITED] = "rate_limited",
  [NOOM_ROOM_ERROR_FORBIDDEN] = "forbidden",
};

const gchar *
noom_room_error_to_code (NoomRoomError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_codes))
    return "bad_argument";
  return error_codes[code];
}

/* ------------------------------------------------------------------ limits */

void
noom_room_limits_init (NoomRoomLimits * limits)
{
  limits->max_room_size = NOOM_ROOM_DEFAULT_MAX_ROOM_SIZE;
  limits->max_room_name = NOOM_ROOM_DEFAULT_MAX_ROOM_NAME;
  limits->max_nickname = NOOM_ROOM_DEFAULT_MAX_NICKNAME;
  limits->max_message = NOOM_ROOM_DEFAULT_MAX_MESSAGE;
}

static gboolean
is_control (gunichar c)
{
  return c <= 0x1f || (c >= 0x7f && c <= 0x9f);
}

gboolean
noom_room_validate_name (const gchar * name, gssize len, guint max_chars,
    const gchar * what, GError ** error)
{
  const gchar *p, *end;
  gsize n_chars = 0;
  gboolean blank = TRUE;

  if (name == NULL) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s is missing", what);
    return FALSE;
  }
  if (len < 0)
    len = strlen (name);
  end = name + len;

  /* An embedded NUL makes g_utf8_validate stop early: report it as the
   * control character it is rather than as bad UTF-8. */
  if (memchr (name, '\0', len) != NULL) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s contains control characters", what);
    return FALSE;
  }
  if (!g_utf8_validate (name, len, NULL)) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s is not valid UTF-8", what);
    return FALSE;
  }
  if (len == 0) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s is empty", what);
    return FALSE;
  }

  for (p = name; p < end; p = g_utf8_next_char (p)) {
    gunichar c = g_utf8_get_char (p);

    if (is_control (c)) {
      g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
          "%s contains control characters", what);
      return FALSE;
    }
    if (!g_unichar_isspace (c) && c != 0x200b && c != 0xfeff)
      blank = FALSE;
    n_chars++;
  }

  if (blank) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME,
        "%s is blank", what);
    return FALSE;
  }
  if (n_chars > max_chars) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_NAME_TOO_LONG,
        "%s is longer than %u characters", what, max_chars);
    return FALSE;
  }
  return TRUE;
}

gboolean
noom_room_validate_message (const gchar * text, gssize len, gsize max_bytes,
    GError ** error)
{
  if (text == NULL) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "message is missing");
    return FALSE;
  }
  if (len < 0)
    len = strlen (text);
  if (len == 0) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "message is empty");
    return FALSE;
  }
  if ((gsize) len > max_bytes) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_NAME_TOO_LONG,
        "message is longer than %" G_GSIZE_FORMAT " bytes", max_bytes);
    return FALSE;
  }
  if (memchr (text, '\0', len) != NULL) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "message contains a NUL character");
    return FALSE;
  }
  if (!g_utf8_validate (text, len, NULL)) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT,
        "message is not valid UTF-8");
    return FALSE;
  }
  return TRUE;
}


/* ------------------------------------------------------------------- media */

gboolean
noom_media_from_string (const gchar * name, NoomMediaFlags * flag)
{
  if (g_strcmp0 (name, "audio") == 0)
    *flag = NOOM_MEDIA_AUDIO;
  else if (g_strcmp0 (name, "video") == 0)
    *flag = NOOM_MEDIA_VIDEO;
  else
    return FALSE;
  return TRUE;
}

const gchar *
noom_media_flags_to_string (NoomMediaFlags media)
{
  switch (media & (NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO)) {
    case NOOM_MEDIA_AUDIO:
      return "audio";
    case NOOM_MEDIA_VIDEO:
      return "video";
    case NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO:
      return "audio and video";
    default:
      return "nothing";
  }
}

/* ------------------------------------------------------------------- kinds */

static const gchar *const kind_names[] = {
  [NOOM_KIND_BROWSER] = "browser",
  [NOOM_KIND_PUBLISHER] = "publisher",
  [NOOM_KIND_SUBSCRIBER] = "subscriber",
  [NOOM_KIND_RECORDER] = "recorder",
};

const gchar *
noom_kind_to_string (NoomKind kind)
{
  g_return_val_if_fail ((guint) kind <= NOOM_KIND_LAST, NULL);
  return kind_names[kind];
}

gboolean
noom_kind_from_string (const gchar * name, NoomKind * kind)
{
  guint i;

  if (name == NULL)
    return FALSE;
  for (i = 0; i < G_N_ELEMENTS (kind_names); i++) {
    if (strcmp (name, kind_names[i]) == 0) {
      *kind = i;
      return TRUE;
    }
  }
  return FALSE;
}

NoomMediaFlags
noom_kind_default_sends (NoomKind kind)
{
  switch (kind) {
    case NOOM_KIND_BROWSER:
    case NOOM_KIND_PUBLISHER:
      return NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO;
    case NOOM_KIND_SUBSCRIBER:
    case NOOM_KIND_RECORDER:
    default:
      return NOOM_MEDIA_NONE;
  }
}

/* ------------------------------------------------------------ participants */

/* The public struct followed by the reference count */
typedef struct
{
  NoomParticipant p;
  gatomicrefcount ref;
} Participant;

G_DEFINE_BOXED_TYPE (NoomParticipant, noom_participant, noom_participant_ref,
    noom_participant_unref);

NoomParticipant *
noom_participant_new (const gchar * id, const gchar * nickname,
    const gchar * kind, NoomMediaFlags sends)
{
  Participant *self = g_new0 (Participant, 1);

  g_atomic_ref_count_init (&self->ref);
  self->p.id = g_strdup (id);
  self->p.nickname = g_strdup (nickname);
  self->p.kind = g_strdup (kind);
  self->p.sends = sends;
  return &self->p;
}

NoomParticipant *
noom_participant_ref (NoomParticipant * p)
{
  g_return_val_if_fail (p != NULL, NULL);

  g_atomic_ref_count_inc (&((Participant *) p)->ref);
  return p;
}

void
noom_participant_unref (NoomParticipant * p)
{
  Participant *self = (Participant *) p;

  if (p == NULL)
    return;
  if (!g_atomic_ref_count_dec (&self->ref))
    return;
  g_free (p->id);
  g_free (p->nickname);
  g_free (p->kind);
  g_free (self);
}
