/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-sdpfrag: WHIP and WHEP's SDP (see noom-sdpfrag.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-sdpfrag.h"

G_DEFINE_QUARK (noom - sdpfrag - error - quark, noom_sdpfrag_error);

/* Splits @text into lines (LF or CRLF; empty lines dropped).  Fails on
 * what is not text: invalid UTF-8, NUL, a CR that does not end a line,
 * other control characters but tab, or a line that is not "x=...". */
static gchar **
split_lines (const gchar * text, gsize len, const gchar * what, GError ** error)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  const gchar *p = text, *end = text + len;
  guint n = 0;

  if (!g_utf8_validate_len (text, len, NULL)) {
    g_set_error (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
        "the %s is not UTF-8 text", what);
    return NULL;
  }
  while (p < end) {
    const gchar *eol = memchr (p, '\n', end - p);
    const gchar *stop = eol ? eol : end;
    const gchar *q;
    gsize line_len;

    n++;
    if (stop > p && stop[-1] == '\r')
      stop--;
    line_len = stop - p;
    for (q = p; q < stop; q++) {
      if ((guchar) * q < 0x20 && *q != '\t') {
        g_set_error (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
            "line %u of the %s has a control character", n, what);
        return NULL;
      }
    }
    if (line_len > 0) {
      if (line_len < 2 || !g_ascii_isalpha (p[0]) || p[1] != '=') {
        g_set_error (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
            "line %u of the %s is not of the form x=value", n, what);
        return NULL;
      }
      g_ptr_array_add (out, g_strndup (p, line_len));
    }
    p = eol ? eol + 1 : end;
  }
  g_ptr_array_add (out, NULL);
  return (gchar **) g_ptr_array_steal (out, NULL);
}

/* The value of attribute @name in @line ("a=name:value" or "a=name"),
 * or NULL. */
static const gchar *
attribute (const gchar * line, const gchar * name)
{
  gsize n = strlen (name);

  if (!g_str_has_prefix (line, "a=") || strncmp (line + 2, name, n) != 0)
    return NULL;
  if (line[2 + n] == ':')
    return line + 3 + n;
  if (line[2 + n] == '\0')
    return line + 2 + n;
  return NULL;
}

typedef struct
{
  NoomMediaFlags kind;
  gboolean port_zero;
  gboolean bundle_only;
  gchar *mid;
} MLine;

static void
mline_clear (gpointer data)
{
  MLine *m = data;

  g_free (m->mid);
}

gboolean
noom_sdp_info_parse (const gchar * sdp, gsize len, NoomSdpInfo * info,
    GError ** error)
{
  g_auto (GStrv) lines = NULL;
  g_autoptr (GArray) mlines = NULL;
  g_auto (GStrv) bundle = NULL;
  g_autofree gchar *session_ufrag = NULL;
  g_autofree gchar *session_pwd = NULL;
  MLine *cur = NULL;
  guint i;

  memset (info, 0, sizeof (*info));
  if (len > NOOM_SDP_MAX_OFFER) {
    g_set_error (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
        "the offer is longer than %u bytes", NOOM_SDP_MAX_OFFER);
    return FALSE;
  }
  lines = split_lines (sdp, len, "offer", error);
  if (lines == NULL)
    return FALSE;
  if (lines[0] == NULL || strcmp (lines[0], "v=0") != 0) {
    g_set_error_literal (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
        "the offer is not SDP: it does not begin with v=0");
    return FALSE;
  }
  mlines = g_array_new (FALSE, TRUE, sizeof (MLine));
  g_array_set_clear_func (mlines, mline_clear);
  info->mids = g_ptr_array_new_with_free_func (g_free);
  for (i = 0; lines[i]; i++) {
    const gchar *line = lines[i], *v;

    if (g_str_has_prefix (line, "m=")) {
      g_auto (GStrv) fields = g_strsplit (line + 2, " ", 4);
      MLine m = { 0, };

      if (g_strv_length (fields) < 4) {
        g_set_error (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
            "the offer's m-line %u is malformed", mlines->len);
        noom_sdp_info_clear (info);
        return FALSE;
      }
      if (strcmp (fields[0], "audio") == 0)
        m.kind = NOOM_MEDIA_AUDIO;
      else if (strcmp (fields[0], "video") == 0)
        m.kind = NOOM_MEDIA_VIDEO;
      m.port_zero = strcmp (fields[1], "0") == 0;
      if (info->first_media == NULL)
        info->first_media = g_strdup (line);
      g_array_append_val (mlines, m);
      cur = &g_array_index (mlines, MLine, mlines->len - 1);
    } else if ((v = attribute (line, "mid")) && cur && cur->mid == NULL) {
      cur->mid = g_strdup (v);
    } else if (attribute (line, "bundle-only") && cur) {
      cur->bundle_only = TRUE;
    } else if ((v = attribute (line, "group")) && cur == NULL
        && g_str_has_prefix (v, "BUNDLE") && bundle == NULL) {
      bundle = g_strsplit (v, " ", -1);
    } else if ((v = attribute (line, "ice-ufrag"))) {
      if (cur == NULL && session_ufrag == NULL)
        session_ufrag = g_strdup (v);
      else if (mlines->len == 1 && info->ufrag == NULL)
        info->ufrag = g_strdup (v);
    } else if ((v = attribute (line, "ice-pwd"))) {
      if (cur == NULL && session_pwd == NULL)
        session_pwd = g_strdup (v);
      else if (mlines->len == 1 && info->pwd == NULL)
        info->pwd = g_strdup (v);
    }
  }
  for (i = 0; i < mlines->len; i++) {
    MLine *m = &g_array_index (mlines, MLine, i);
    gboolean bundled = m->bundle_only || (m->mid && bundle
        && g_strv_contains ((const gchar * const *) bundle + 1, m->mid));

    g_ptr_array_add (info->mids, g_strdup (m->mid ? m->mid : ""));
    if (!m->port_zero || bundled)
      info->media |= m->kind;
  }
  if (info->ufrag == NULL)
    info->ufrag = g_steal_pointer (&session_ufrag);
  if (info->pwd == NULL)
    info->pwd = g_steal_pointer (&session_pwd);
  if (info->media == NOOM_MEDIA_NONE) {
    g_set_error_literal (error, NOOM_SDPFRAG_ERROR,
        NOOM_SDPFRAG_ERROR_NO_MEDIA, "the offer has no audio or video m-line");
    noom_sdp_info_clear (info);
    return FALSE;
  }
  return TRUE;
}

void
noom_sdp_info_clear (NoomSdpInfo * info)
{
  g_clear_pointer (&info->mids, g_ptr_array_unref);
  g_clear_pointer (&info->first_media, g_free);
  g_clear_pointer (&info->ufrag, g_free);
  g_clear_pointer (&info->pwd, g_free);
  info->media = NOOM_MEDIA_NONE;
}

/* RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/". */
static gboolean
valid_ice_chars (const gchar * s, gsize min, gsize max)
{
  gsize n = strlen (s);
  const gchar *p;

  if (n < min || n > max)
    return FALSE;
  for (p = s; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '+' && *p != '/')
      return FALSE;
  return TRUE;
}

static void
candidate_free (gpointer data)
{
  NoomSdpFragCandidate *c = data;

  g_free (c->candidate);
  g_free (c->mid);
  g_free (c);
}

/* "candidate:foundation component transport priority address port typ
 * type ...": at least the eight fields, "typ" in its place. */
static gboolean
valid_candidate (const gchar * value)
{
  g_auto (GStrv) fields = g_strsplit (value, " ", 0);
  guint n = 0, i;

  for (i = 0; fields[i]; i++)
    if (*fields[i] != '\0')
      fields[n++] = fields[i];
    else
      g_free (fields[i]);
  fields[n] = NULL;
  return n >= 8 && *fields[0] != '\0' && strcmp (fields[6], "typ") == 0;
}

gboolean
noom_sdpfrag_parse (const gchar * text, gsize len, GPtrArray * mids,
    NoomSdpFrag * frag, GError ** error)
{
  g_auto (GStrv) lines = NULL;
  const gchar *mid = NULL;
  guint index = 0, i;
  gboolean in_media = FALSE;

  memset (frag, 0, sizeof (*frag));
  if (len > NOOM_SDPFRAG_MAX) {
    g_set_error (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
        "the fragment is longer than %u bytes", NOOM_SDPFRAG_MAX);
    return FALSE;
  }
  lines = split_lines (text, len, "fragment", error);
  if (lines == NULL)
    return FALSE;
  frag->candidates = g_ptr_array_new_with_free_func (candidate_free);
  for (i = 0; lines[i]; i++) {
    const gchar *line = lines[i], *v;

    if (g_str_has_prefix (line, "m=")) {
      in_media = TRUE;
      mid = NULL;
      index = 0;
    } else if ((v = attribute (line, "mid")) && in_media) {
      guint j;

      for (j = 0; mids && j < mids->len; j++)
        if (*(gchar *) mids->pdata[j] && strcmp (mids->pdata[j], v) == 0)
          break;
      if (mids == NULL || j == mids->len) {
        g_autofree gchar *clipped = g_utf8_substring (v, 0,
            MIN (g_utf8_strlen (v, -1), 32));

        g_set_error (error, NOOM_SDPFRAG_ERROR,
            NOOM_SDPFRAG_ERROR_UNKNOWN_MID,
            "the offer has no m-line with mid \"%s\"", clipped);
        noom_sdpfrag_clear (frag);
        return FALSE;
      }
      mid = mids->pdata[j];
      index = j;
    } else if ((v = attribute (line, "ice-ufrag"))) {
      if (frag->ufrag || !valid_ice_chars (v, 4, 256)) {
        g_set_error_literal (error, NOOM_SDPFRAG_ERROR,
            NOOM_SDPFRAG_ERROR_SYNTAX, "bad or repeated a=ice-ufrag");
        noom_sdpfrag_clear (frag);
        return FALSE;
      }
      frag->ufrag = g_strdup (v);
    } else if ((v = attribute (line, "ice-pwd"))) {
      if (frag->pwd || !valid_ice_chars (v, 22, 256)) {
        g_set_error_literal (error, NOOM_SDPFRAG_ERROR,
            NOOM_SDPFRAG_ERROR_SYNTAX, "bad or repeated a=ice-pwd");
        noom_sdpfrag_clear (frag);
        return FALSE;
      }
      frag->pwd = g_strdup (v);
    } else if (g_str_has_prefix (line, "a=candidate:")) {
      NoomSdpFragCandidate *c;

      if (!valid_candidate (line + 2)) {
        g_set_error (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
            "candidate line %u is malformed", frag->candidates->len + 1);
        noom_sdpfrag_clear (frag);
        return FALSE;
      }
      c = g_new0 (NoomSdpFragCandidate, 1);
      c->candidate = g_strdup (line + 2);
      if (mid) {
        c->mid = g_strdup (mid);
        c->mline_index = index;
      } else if (mids && mids->len > 0 && *(gchar *) mids->pdata[0]) {
        c->mid = g_strdup (mids->pdata[0]);
      }
      g_ptr_array_add (frag->candidates, c);
    } else if (attribute (line, "end-of-candidates")) {
      frag->end_of_candidates = TRUE;
    }
  }
  if ((frag->ufrag == NULL) != (frag->pwd == NULL)) {
    g_set_error_literal (error, NOOM_SDPFRAG_ERROR, NOOM_SDPFRAG_ERROR_SYNTAX,
        "a=ice-ufrag and a=ice-pwd go together");
    noom_sdpfrag_clear (frag);
    return FALSE;
  }
  return TRUE;
}

void
noom_sdpfrag_clear (NoomSdpFrag * frag)
{
  g_clear_pointer (&frag->ufrag, g_free);
  g_clear_pointer (&frag->pwd, g_free);
  g_clear_pointer (&frag->candidates, g_ptr_array_unref);
  frag->end_of_candidates = FALSE;
}

gchar *
noom_sdpfrag_build_answer (const gchar * media_line, const gchar * mid,
    const gchar * ufrag, const gchar * pwd, const gchar * const *candidates)
{
  GString *s = g_string_new (NULL);

  if (media_line)
    g_string_append_printf (s, "%s\r\n", media_line);
  if (mid && *mid)
    g_string_append_printf (s, "a=mid:%s\r\n", mid);
  g_string_append_printf (s, "a=ice-ufrag:%s\r\na=ice-pwd:%s\r\n", ufrag, pwd);
  for (; candidates && *candidates; candidates++)
    if (g_str_has_prefix (*candidates, "candidate:")
        && strpbrk (*candidates, "\r\n") == NULL)
      g_string_append_printf (s, "a=%s\r\n", *candidates);
  g_string_append (s, "a=end-of-candidates\r\n");
  return g_string_free (s, FALSE);
}
