/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-base64: strict base64 and base64url (see noom-base64.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "noom-base64.h"

static const gchar url_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static inline gint
value_of (guchar c, gboolean url)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == (url ? '-' : '+'))
    return 62;
  if (c == (url ? '_' : '/'))
    return 63;
  return -1;
}

guint8 *
noom_base64_decode (const gchar * text, gsize len, NoomBase64Flags flags,
    gsize * out_len)
{
  gboolean url = (flags & NOOM_BASE64_URL) != 0;
  g_autofree guint8 *out = NULL;
  guint32 acc = 0;
  guint bits = 0;
  gsize i, n = len, written = 0;

  g_return_val_if_fail (text != NULL || len == 0, NULL);
  g_return_val_if_fail (out_len != NULL, NULL);

  /* Padding: standard base64 only, at most two '=', and only to complete
   * the last group of four. */
  if (!url) {
    while (n > 0 && text[n - 1] == '=')
      n--;
    if (len - n > 2 || (len - n > 0 && len % 4 != 0))
      return NULL;
  }
  /* One leftover character carries only 6 bits: never a whole byte. */
  if (n % 4 == 1)
    return NULL;

  out = g_malloc (n * 3 / 4 + 1);
  for (i = 0; i < n; i++) {
    gint v = value_of (text[i], url);

    if (v < 0)
      return NULL;
    acc = (acc << 6) | (guint32) v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[written++] = (acc >> bits) & 0xff;
    }
  }
  if ((flags & NOOM_BASE64_CANONICAL) && (acc & ((1u << bits) - 1)))
    return NULL;
  *out_len = written;
  return g_steal_pointer (&out);
}

guint8 *
noom_base64url_decode (const gchar * text, gsize len, gsize * out_len)
{
  return noom_base64_decode (text, len,
      NOOM_BASE64_URL | NOOM_BASE64_CANONICAL, out_len);
}

gchar *
noom_base64url_encode (const guint8 * data, gsize len)
{
  GString *out = g_string_sized_new (len * 4 / 3 + 4);
  gsize i;

  for (i = 0; i + 2 < len; i += 3) {
    guint32 v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];

    g_string_append_c (out, url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, url_alphabet[(v >> 12) & 63]);
    g_string_append_c (out, url_alphabet[(v >> 6) & 63]);
    g_string_append_c (out, url_alphabet[v & 63]);
  }
  if (len - i == 1) {
    guint32 v = data[i] << 16;

    g_string_append_c (out, url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, url_alphabet[(v >> 12) & 63]);
  } else if (len - i == 2) {
    guint32 v = (data[i] << 16) | (data[i + 1] << 8);

    g_string_append_c (out, url_alphabet[(v >> 18) & 63]);
    g_string_append_c (out, url_alphabet[(v >> 12) & 63]);
    g_string_append_c (out, url_alphabet[(v >> 6) & 63]);
  }
  return g_string_free (out, FALSE);
}
