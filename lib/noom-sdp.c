/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-sdp: the media a session description sends (see noom-sdp.h).
 *
 * This is a security check, not a parser for use: it must never call
 * "receive only" what a receiver (Chromium, webrtcbin) would take as
 * sending.  So it reads only what it needs and, wherever the two could
 * read a line differently, takes the reading that sends.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-sdp.h"

typedef struct
{
  NoomMediaFlags kind;          /* audio or video; 0: another type */
  gboolean port_zero;
  gboolean bundle_only;
  gboolean has_direction;       /* any direction attribute */
  gboolean sending;             /* a sending direction attribute */
  gboolean bundled;             /* an a=mid of it is in a BUNDLE group */
} Section;

/* Is @line "a=<name>", possibly followed by ':' or white space and more?
 * (Chromium takes "a=sendrecv:x" and "a=sendrecv " as sendrecv.) */
static gboolean
is_attribute (const gchar * line, gsize len, const gchar * name)
{
  gsize n = strlen (name);

  if (len < 2 + n || strncmp (line, "a=", 2) != 0
      || strncmp (line + 2, name, n) != 0)
    return FALSE;
  return len == 2 + n || line[2 + n] == ':' || g_ascii_isspace (line[2 + n]);
}

/* Is @line exactly "a=<name>" or "a=<name>:..."?  The stricter reading,
 * for the attributes that make a section receive only: webrtcbin takes
 * "a=recvonly " as an unknown attribute, hence as sendrecv. */
static gboolean
is_attribute_strict (const gchar * line, gsize len, const gchar * name)
{
  gsize n = strlen (name);

  if (len < 2 + n || strncmp (line, "a=", 2) != 0
      || strncmp (line + 2, name, n) != 0)
    return FALSE;
  return len == 2 + n || line[2 + n] == ':';
}

static gboolean
is_sending (const gchar * line, gsize len)
{
  return is_attribute (line, len, "sendrecv")
      || is_attribute (line, len, "sendonly");
}

static gboolean
is_direction (const gchar * line, gsize len)
{
  return is_sending (line, len) || is_attribute_strict (line, len, "recvonly")
      || is_attribute_strict (line, len, "inactive");
}

/* "m=<media> <port>[/<count>] <proto> <fmt>..." */
static void
section_start (Section * s, const gchar * line, gsize len)
{
  g_autofree gchar *text = g_strndup (line + 2, len - 2);
  g_auto (GStrv) fields = g_strsplit (text, " ", 3);

  memset (s, 0, sizeof (*s));
  if (fields[0] == NULL)
    return;
  /* Case-insensitive: a receiver that accepts "VIDEO" must not get it
   * past us. */
  if (g_ascii_strcasecmp (fields[0], "audio") == 0)
    s->kind = NOOM_MEDIA_AUDIO;
  else if (g_ascii_strcasecmp (fields[0], "video") == 0)
    s->kind = NOOM_MEDIA_VIDEO;
  if (fields[1] != NULL) {
    const gchar *p = fields[1];
    guint64 port = 0;
    gboolean digits = g_ascii_isdigit (*p);

    for (; g_ascii_isdigit (*p); p++)
      port = MIN (port * 10 + (*p - '0'), G_MAXUINT32);
    s->port_zero = digits && port == 0 && (*p == '\0' || *p == '/');
  }
}

static gboolean
in_bundle (GPtrArray * bundle, const gchar * mid)
{
  guint i;

  for (i = 0; i < bundle->len; i++)
    if (strcmp (bundle->pdata[i], mid) == 0)
      return TRUE;
  return FALSE;
}

/* The section is over: add its kind to *@sends if it sends. */
static void
section_end (Section * s, gboolean session_sending, NoomMediaFlags * sends)
{
  gboolean rejected = s->port_zero && !s->bundle_only && !s->bundled;

  if (!rejected && (s->sending || !s->has_direction || session_sending))
    *sends |= s->kind;
  memset (s, 0, sizeof (*s));
}

#define BUNDLE_PREFIX "a=group:BUNDLE"

gboolean
noom_sdp_get_sends (const gchar * sdp, NoomMediaFlags * sends)
{
  g_autoptr (GPtrArray) bundle = g_ptr_array_new_with_free_func (g_free);
  gboolean in_media = FALSE, session_sending = FALSE;
  Section cur = { 0, };
  const gchar *p;

  g_return_val_if_fail (sdp != NULL, FALSE);
  g_return_val_if_fail (sends != NULL, FALSE);

  *sends = NOOM_MEDIA_NONE;
  if (!g_utf8_validate (sdp, -1, NULL))
    return FALSE;

  for (p = sdp; *p;) {
    const gchar *nl = strchr (p, '\n');
    const gchar *end = nl ? nl : p + strlen (p);
    gsize len = end - p;
    const gchar *cr = memchr (p, '\r', len);

    /* A CR only as the last byte before LF (or of the text): Chromium
     * and webrtcbin would split the line at a lone one differently. */
    if (cr && cr != end - 1)
      return FALSE;
    if (cr)
      len--;

    if (len >= 2 && strncmp (p, "m=", 2) == 0) {
      if (in_media)
        section_end (&cur, session_sending, sends);
      section_start (&cur, p, len);
      in_media = TRUE;
    } else if (!in_media) {
      if (is_sending (p, len)) {
        session_sending = TRUE;
      } else if (len > strlen (BUNDLE_PREFIX)
          && strncmp (p, BUNDLE_PREFIX, strlen (BUNDLE_PREFIX)) == 0) {
        g_autofree gchar *mids = g_strndup (p + strlen (BUNDLE_PREFIX),
            len - strlen (BUNDLE_PREFIX));
        g_auto (GStrv) v = g_strsplit_set (mids, " \t", -1);
        gchar **m;

        for (m = v; *m; m++)
          if (**m)
            g_ptr_array_add (bundle, g_strdup (*m));
      }
    } else if (is_direction (p, len)) {
      cur.has_direction = TRUE;
      if (is_sending (p, len))
        cur.sending = TRUE;
    } else if (is_attribute (p, len, "bundle-only")) {
      cur.bundle_only = TRUE;
    } else if (is_attribute (p, len, "mid")) {
      /* Any of its mids (a receiver may take another than the first);
       * the groups are all known by now: they are session level. */
      g_autofree gchar *mid = g_strndup (p + strlen ("a=mid"),
          len - strlen ("a=mid"));

      if (in_bundle (bundle, g_strstrip (mid + (mid[0] == ':'))))
        cur.bundled = TRUE;
    }
    p = nl ? nl + 1 : end;
  }
  if (in_media)
    section_end (&cur, session_sending, sends);
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
