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

/* Does @line start with "a=<name>"?  Returns the length of that, or 0. */
static gsize
attribute_prefix (const gchar * line, gsize len, const gchar * name)
{
  gsize n = strlen (name);

  if (len < 2 + n || strncmp (line, "a=", 2) != 0
      || strncmp (line + 2, name, n) != 0)
    return 0;
  return 2 + n;
}

/* Is @line "a=<name>", possibly followed by ':' or white space and more?
 * (Chromium takes "a=sendrecv:x" and "a=sendrecv " as sendrecv.) */
static gboolean
is_attribute (const gchar * line, gsize len, const gchar * name)
{
  gsize n = attribute_prefix (line, len, name);

  return n > 0 && (len == n || line[n] == ':' || g_ascii_isspace (line[n]));
}

/* Is @line exactly "a=<name>" or "a=<name>:..."?  The stricter reading,
 * for the attributes that make a section receive only: webrtcbin takes
 * "a=recvonly " as an unknown attribute, hence as sendrecv. */
static gboolean
is_attribute_strict (const gchar * line, gsize len, const gchar * name)
{
  gsize n = attribute_prefix (line, len, name);

  return n > 0 && (len == n || line[n] == ':');
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
  /* A CR only as the last byte before LF (or of the text): Chromium and
   * webrtcbin would split the line at a lone one differently. */
  if (!noom_protocol_sdp_is_text (sdp))
    return FALSE;

  for (p = sdp; *p;) {
    const gchar *nl = strchr (p, '\n');
    const gchar *end = nl ? nl : p + strlen (p);
    gsize len = end - p;

    /* noom_protocol_sdp_is_text(): a CR can only end the line. */
    if (len > 0 && p[len - 1] == '\r')
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

/* ---- BUNDLE normalisation (RFC 8843 §7.1, RFC 8829 §5.10) ---- */

/* The attributes that describe a transport: under BUNDLE only the tagged
 * m-section's count. */
static gboolean
is_transport_attribute (const gchar * line)
{
  static const gchar *names[] = { "ice-ufrag", "ice-pwd", "fingerprint",
    "setup", "candidate", "end-of-candidates", "ice-options", NULL
  };
  guint i;

  for (i = 0; names[i]; i++)
    if (is_attribute_strict (line, strlen (line), names[i]))
      return TRUE;
  return FALSE;
}

/* The transport lines a bundled section gets from its tagged one:
 * everything but the candidates (the tagged section's are the bundle's). */
static gboolean
is_copied_attribute (const gchar * line)
{
  return is_transport_attribute (line)
      && !is_attribute_strict (line, strlen (line), "candidate")
      && !is_attribute_strict (line, strlen (line), "end-of-candidates");
}

typedef struct
{
  GPtrArray *lines;             /* gchar *, without line ends */
  gchar *mid;
} NormSection;

static void
norm_section_free (gpointer data)
{
  NormSection *s = data;

  g_ptr_array_unref (s->lines);
  g_free (s->mid);
  g_free (s);
}

/* Splits @sdp into the session part (the first element, with no mid) and
 * its m-sections; reads the BUNDLE groups into @groups (GStrv each). */
static GPtrArray *
split_sections (const gchar * sdp, GPtrArray * groups)
{
  GPtrArray *sections = g_ptr_array_new_with_free_func (norm_section_free);
  g_auto (GStrv) lines = g_strsplit (sdp, "\n", -1);
  NormSection *cur = g_new0 (NormSection, 1);
  gchar **l;

  cur->lines = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (sections, cur);
  for (l = lines; *l; l++) {
    gsize len = strlen (*l);

    if (len && (*l)[len - 1] == '\r')
      (*l)[--len] = '\0';
    if (len == 0)
      continue;
    if (strncmp (*l, "m=", 2) == 0) {
      cur = g_new0 (NormSection, 1);
      cur->lines = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (sections, cur);
    } else if (sections->len == 1
        && strncmp (*l, BUNDLE_PREFIX " ", strlen (BUNDLE_PREFIX) + 1) == 0) {
      g_auto (GStrv) v = g_strsplit_set (*l + strlen (BUNDLE_PREFIX), " \t",
          -1);
      GPtrArray *mids = g_ptr_array_new ();
      gchar **m;

      for (m = v; *m; m++)
        if (**m)
          g_ptr_array_add (mids, g_strdup (*m));
      g_ptr_array_add (mids, NULL);
      g_ptr_array_add (groups, g_ptr_array_free (mids, FALSE));
    } else if (sections->len > 1 && !cur->mid
        && strncmp (*l, "a=mid:", 6) == 0) {
      cur->mid = g_strstrip (g_strdup (*l + 6));
    }
    g_ptr_array_add (cur->lines, g_strdup (*l));
  }
  return sections;
}

/* The m-section (index into @sections, 1 + m-line index) tagged by the
 * BUNDLE group holding @mid, 0 when none: the first mid of the group that
 * names a section. */
static guint
tagged_section (GPtrArray * sections, GPtrArray * groups, const gchar * mid)
{
  guint g, i;
  gchar **m;

  if (!mid)
    return 0;
  for (g = 0; g < groups->len; g++) {
    gchar **group = groups->pdata[g];

    if (!g_strv_contains ((const gchar * const *) group, mid))
      continue;
    for (m = group; *m; m++)
      for (i = 1; i < sections->len; i++) {
        NormSection *s = sections->pdata[i];

        if (s->mid && strcmp (s->mid, *m) == 0)
          return i;
      }
  }
  return 0;
}

gchar *
noom_sdp_normalize_bundle (const gchar * sdp)
{
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_strfreev);
  g_autoptr (GPtrArray) sections = NULL;
  GString *out;
  guint i, j;

  g_return_val_if_fail (sdp != NULL, NULL);

  sections = split_sections (sdp, groups);
  out = g_string_new (NULL);
  for (i = 0; i < sections->len; i++) {
    NormSection *s = sections->pdata[i];
    guint tag = i > 0 ? tagged_section (sections, groups, s->mid) : 0;
    NormSection *t = tag ? sections->pdata[tag] : NULL;

    for (j = 0; j < s->lines->len; j++) {
      const gchar *line = s->lines->pdata[j];

      if (t && tag != i && is_transport_attribute (line))
        continue;
      g_string_append_printf (out, "%s\r\n", line);
    }
    if (t && tag != i)
      for (j = 0; j < t->lines->len; j++)
        if (is_copied_attribute (t->lines->pdata[j]))
          g_string_append_printf (out, "%s\r\n",
              (const gchar *) t->lines->pdata[j]);
  }
  return g_string_free (out, FALSE);
}

guint
noom_sdp_transport_mline (const gchar * sdp, guint mline)
{
  g_autoptr (GPtrArray) groups = g_ptr_array_new_with_free_func ((GDestroyNotify)
      g_strfreev);
  g_autoptr (GPtrArray) sections = NULL;
  guint tag;

  g_return_val_if_fail (sdp != NULL, mline);

  sections = split_sections (sdp, groups);
  if (mline + 1 >= sections->len)
    return mline;
  tag = tagged_section (sections, groups,
      ((NormSection *) sections->pdata[mline + 1])->mid);
  return tag ? tag - 1 : mline;
}
