/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-base64: strict base64 decoding for the wire formats that carry it:
 * Engine.IO's binary packets in polling payloads ("b<base64>", RFC 4648 §4,
 * padding optional as engine.io-parser allows) and JWT parts (base64url
 * without padding, RFC 7515 §2, canonical so that a token has one spelling).
 * g_base64_decode() silently skips characters outside the alphabet, which
 * would let a malformed packet or token through.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  /* RFC 4648 §4: '+' and '/', trailing '=' padding optional (but whole) */
  NOOM_BASE64_STANDARD = 0,
  /* RFC 4648 §5: '-' and '_', no padding */
  NOOM_BASE64_URL = 1 << 0,
  /* the unused bits of the last character must be zero */
  NOOM_BASE64_CANONICAL = 1 << 1,
} NoomBase64Flags;

/* Decodes @len characters of @text; NULL when they are not base64 of the
 * kind @flags names (a character outside the alphabet, a lone trailing
 * character, bad padding, or nonzero unused bits with CANONICAL).  The
 * result has one spare byte. */
guint8 *noom_base64_decode (const gchar * text, gsize len,
    NoomBase64Flags flags, gsize * out_len);

/* base64url without padding (RFC 7515 §2) */
gchar *noom_base64url_encode (const guint8 * data, gsize len);

/* noom_base64_decode (URL | CANONICAL) */
guint8 *noom_base64url_decode (const gchar * text, gsize len,
    gsize * out_len);

G_END_DECLS
