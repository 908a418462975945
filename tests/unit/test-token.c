/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * HS256 room tokens: what noom_token_verify() admits and what it refuses.
 */
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>

#include "noom-base64.h"
#include "noom-token.h"

#define SECRET "0123456789abcdef0123456789abcdef"
#define NOW 1800000000

static GBytes *
secret (void)
{
  return g_bytes_new_static (SECRET, strlen (SECRET));
}

/* A token with any header and claims, signed with @key ("" signature when
 * @key is NULL). */
static gchar *
craft (const gchar * header, const gchar * claims, const gchar * key)
{
  g_autofree gchar *h = noom_base64url_encode ((const guint8 *) header,
      strlen (header));
  g_autofree gchar *c = noom_base64url_encode ((const guint8 *) claims,
      strlen (claims));
  g_autofree gchar *part = g_strconcat (h, ".", c, NULL);
  g_autofree gchar *sig = NULL;

  if (key) {
    g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256,
        (const guchar *) key, strlen (key));
    guint8 digest[32];
    gsize len = sizeof (digest);

    g_hmac_update (hmac, (const guchar *) part, strlen (part));
    g_hmac_get_digest (hmac, digest, &len);
    sig = noom_base64url_encode (digest, len);
  } else {
    sig = g_strdup ("");
  }
  return g_strconcat (part, ".", sig, NULL);
}

static void
expect_error (const gchar * text, NoomTokenError code)
{
  g_autoptr (GBytes) key = secret ();
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomToken) t = noom_token_verify (text, key, NOW, &error);

  g_assert_null (t);
  g_assert_error (error, NOOM_TOKEN_ERROR, code);
  /* The token never appears in the message (it ends up in logs). */
  if (text && *text)
    g_assert_null (strstr (error->message, text));
}

static void
test_mint_verify (void)
{
  g_autoptr (GBytes) key = secret ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text = noom_token_mint (key, "demo", "alice",
      NOOM_TOKEN_CAN_PUBLISH | NOOM_TOKEN_CAN_CHAT, NOW + 60);
  g_autoptr (NoomToken) t = noom_token_verify (text, key, NOW, &error);

  g_assert_no_error (error);
  g_assert_nonnull (t);
  g_assert_cmpstr (t->room, ==, "demo");
  g_assert_cmpstr (t->identity, ==, "alice");
  g_assert_cmpuint (t->can, ==, NOOM_TOKEN_CAN_PUBLISH | NOOM_TOKEN_CAN_CHAT);
  g_assert_cmpint (t->exp, ==, NOW + 60);
  g_assert_true (noom_token_allows_room (t, "demo"));
  g_assert_false (noom_token_allows_room (t, "other"));
  g_assert_false (noom_token_allows_room (t, "demo "));
}

/* What another library would mint: fractional times, nbf, extra claims
 * and header members, unknown permissions. */
static void
test_foreign (void)
{
  g_autoptr (GBytes) key = secret ();
  g_autoptr (GError) error = NULL;
  g_autofree gchar *text =
      craft ("{\"typ\":\"JWT\",\"alg\":\"HS256\",\"kid\":\"k1\"}",
      "{\"sub\":\"bob\",\"room\":\"*\",\"can\":[\"subscribe\",\"fly\"],"
      "\"exp\":1800000010.5,\"nbf\":1799999990,\"iss\":\"x\"}", SECRET);
  g_autoptr (NoomToken) t = noom_token_verify (text, key, NOW, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (t->can, ==, NOOM_TOKEN_CAN_SUBSCRIBE);
  g_assert_true (noom_token_allows_room (t, "anything"));
}

static void
test_expired (void)
{
  g_autoptr (GBytes) key = secret ();
  g_autofree gchar *old = noom_token_mint (key, "demo", "a",
      NOOM_TOKEN_CAN_ALL, NOW - NOOM_TOKEN_LEEWAY_S - 1);
  g_autofree gchar *skewed = noom_token_mint (key, "demo", "a",
      NOOM_TOKEN_CAN_ALL, NOW - NOOM_TOKEN_LEEWAY_S + 1);
  g_autofree gchar *early = craft ("{\"alg\":\"HS256\"}",
      "{\"sub\":\"a\",\"room\":\"r\",\"exp\":1900000000,\"nbf\":1800000100}",
      SECRET);
  g_autoptr (NoomToken) t = NULL;

  expect_error (old, NOOM_TOKEN_ERROR_EXPIRED);
  expect_error (early, NOOM_TOKEN_ERROR_EXPIRED);
  /* Within the leeway: a clock a little behind is tolerated. */
  t = noom_token_verify (skewed, key, NOW, NULL);
  g_assert_nonnull (t);
}

static void
test_forged (void)
{
  g_autoptr (GBytes) key = secret ();
  g_autofree gchar *text = noom_token_mint (key, "demo", "a",
      NOOM_TOKEN_CAN_CHAT, NOW + 60);
  g_autofree gchar *other_key = craft ("{\"alg\":\"HS256\"}",
      "{\"sub\":\"a\",\"room\":\"demo\",\"exp\":1900000000}",
      "another secret of 32 bytes......");
  g_autofree gchar *flipped = g_strdup (text);
  g_autofree gchar *swapped = NULL;
  g_autofree gchar *more = NULL;
  g_autofree gchar *claims = NULL;
  gchar *sig = strrchr (flipped, '.') + 1;

  expect_error (other_key, NOOM_TOKEN_ERROR_SIGNATURE);
  /* One bit of the signature */
  sig[3] = sig[3] == 'A' ? 'B' : 'A';
  expect_error (flipped, NOOM_TOKEN_ERROR_SIGNATURE);
  /* The claims of a better token under the signature of this one */
  claims = noom_base64url_encode ((const guint8 *)
      "{\"sub\":\"a\",\"room\":\"*\",\"can\":[\"record\"],\"exp\":1900000000}",
      strlen ("{\"sub\":\"a\",\"room\":\"*\",\"can\":[\"record\"],"
          "\"exp\":1900000000}"));
  {
    gchar **parts = g_strsplit (text, ".", -1);

    swapped = g_strjoin (".", parts[0], claims, parts[2], NULL);
    g_strfreev (parts);
  }
  expect_error (swapped, NOOM_TOKEN_ERROR_SIGNATURE);
  /* A truncated or lengthened signature */
  more = g_strconcat (text, "AA", NULL);
  expect_error (more, NOOM_TOKEN_ERROR_SIGNATURE);
  text[strlen (text) - 2] = '\0';
  expect_error (text, NOOM_TOKEN_ERROR_SIGNATURE);
}

static void
test_algorithm (void)
{
  static const gchar claims[] =
      "{\"sub\":\"a\",\"room\":\"demo\",\"exp\":1900000000}";
  g_autofree gchar *none = craft ("{\"alg\":\"none\"}", claims, NULL);
  g_autofree gchar *none_signed = craft ("{\"alg\":\"none\"}", claims, SECRET);
  g_autofree gchar *lower = craft ("{\"alg\":\"hs256\"}", claims, SECRET);
  g_autofree gchar *hs512 = craft ("{\"alg\":\"HS512\"}", claims, SECRET);
  g_autofree gchar *missing = craft ("{\"typ\":\"JWT\"}", claims, SECRET);
  g_autofree gchar *crit = craft ("{\"alg\":\"HS256\",\"crit\":[\"x\"]}",
      claims, SECRET);

  expect_error (none, NOOM_TOKEN_ERROR_ALGORITHM);
  expect_error (none_signed, NOOM_TOKEN_ERROR_ALGORITHM);
  expect_error (lower, NOOM_TOKEN_ERROR_ALGORITHM);
  expect_error (hs512, NOOM_TOKEN_ERROR_ALGORITHM);
  expect_error (missing, NOOM_TOKEN_ERROR_ALGORITHM);
  expect_error (crit, NOOM_TOKEN_ERROR_ALGORITHM);
}

static void
test_malformed (void)
{
  g_autoptr (GBytes) key = secret ();
  g_autofree gchar *good = noom_token_mint (key, "demo", "a", 0, NOW + 60);
  g_autofree gchar *four = g_strconcat (good, ".x", NULL);
  g_autofree gchar *padded = NULL;
  g_autofree gchar *big = g_strnfill (NOOM_TOKEN_MAX_LENGTH + 1, 'a');
  g_autofree gchar *not_json = craft ("not json", "{}", SECRET);
  g_autofree gchar *array = craft ("[1]", "{}", SECRET);
  gchar **parts = g_strsplit (good, ".", -1);

  expect_error (NULL, NOOM_TOKEN_ERROR_MISSING);
  expect_error ("", NOOM_TOKEN_ERROR_MISSING);
  expect_error ("abc", NOOM_TOKEN_ERROR_MALFORMED);
  expect_error ("a.b", NOOM_TOKEN_ERROR_MALFORMED);
  expect_error ("..", NOOM_TOKEN_ERROR_MALFORMED);
  expect_error (four, NOOM_TOKEN_ERROR_MALFORMED);
  expect_error (big, NOOM_TOKEN_ERROR_MALFORMED);
  expect_error (not_json, NOOM_TOKEN_ERROR_MALFORMED);
  expect_error (array, NOOM_TOKEN_ERROR_MALFORMED);
  /* Standard base64 (padding, '+', '/') is not base64url. */
  padded = g_strconcat (parts[0], "=.", parts[1], ".", parts[2], NULL);
  expect_error (padded, NOOM_TOKEN_ERROR_MALFORMED);
  g_strfreev (parts);
}

static void
test_claims (void)
{
  g_autofree gchar *no_exp = craft ("{\"alg\":\"HS256\"}",
      "{\"sub\":\"a\",\"room\":\"demo\"}", SECRET);
  g_autofree gchar *str_exp = craft ("{\"alg\":\"HS256\"}",
      "{\"sub\":\"a\",\"room\":\"demo\",\"exp\":\"1900000000\"}", SECRET);
  g_autofree gchar *no_room = craft ("{\"alg\":\"HS256\"}",
      "{\"sub\":\"a\",\"exp\":1900000000}", SECRET);
  g_autofree gchar *no_sub = craft ("{\"alg\":\"HS256\"}",
      "{\"room\":\"demo\",\"exp\":1900000000}", SECRET);
  g_autofree gchar *bad_can = craft ("{\"alg\":\"HS256\"}",
      "{\"sub\":\"a\",\"room\":\"demo\",\"exp\":1900000000,\"can\":\"chat\"}",
      SECRET);
  g_autofree gchar *no_can = craft ("{\"alg\":\"HS256\"}",
      "{\"sub\":\"a\",\"room\":\"demo\",\"exp\":1900000000}", SECRET);
  g_autoptr (GBytes) key = secret ();
  g_autoptr (NoomToken) t = NULL;

  expect_error (no_exp, NOOM_TOKEN_ERROR_CLAIMS);
  expect_error (str_exp, NOOM_TOKEN_ERROR_CLAIMS);
  expect_error (no_room, NOOM_TOKEN_ERROR_CLAIMS);
  expect_error (no_sub, NOOM_TOKEN_ERROR_CLAIMS);
  expect_error (bad_can, NOOM_TOKEN_ERROR_CLAIMS);
  /* json-glib would cut "a\u0000b" to "a": another identity than the
   * token names.  Refused as the nickname field refuses it. */
  {
    static const gchar *const nul_claims[] = {
      "{\"sub\":\"a\\u0000b\",\"room\":\"demo\",\"exp\":1900000000}",
      "{\"sub\":\"\\u0000\",\"room\":\"demo\",\"exp\":1900000000}",
      "{\"sub\":\"a\",\"room\":\"de\\u0000mo\",\"exp\":1900000000}",
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS (nul_claims); i++) {
      g_autofree gchar *text = craft ("{\"alg\":\"HS256\"}", nul_claims[i],
          SECRET);
      g_autoptr (GError) error = NULL;
      g_autoptr (NoomToken) nul = noom_token_verify (text, key, NOW, &error);

      g_assert_null (nul);
      g_assert_error (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_CLAIMS);
      g_assert_nonnull (strstr (error->message, "U+0000"));
    }
  }
  /* No permissions at all: valid, but it may do nothing. */
  t = noom_token_verify (no_can, key, NOW, NULL);
  g_assert_nonnull (t);
  g_assert_cmpuint (t->can, ==, 0);
}

/* The header is read before the signature is checked: its JSON comes from
 * anybody, and is bounded like every JSON from the network. */
static void
test_deep (void)
{
  GString *deep = g_string_new ("{\"alg\":\"HS256\",\"x\":");
  g_autofree gchar *header = NULL;
  g_autofree gchar *claims = NULL;
  g_autofree gchar *deep_header = NULL;
  g_autofree gchar *deep_claims = NULL;
  guint i;

  for (i = 0; i < 200; i++)
    g_string_append_c (deep, '[');
  for (i = 0; i < 200; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  header = g_string_free (deep, FALSE);
  deep_header = craft (header, "{\"sub\":\"a\",\"room\":\"demo\","
      "\"exp\":1900000000}", SECRET);
  expect_error (deep_header, NOOM_TOKEN_ERROR_MALFORMED);

  deep = g_string_new ("{\"sub\":\"a\",\"room\":\"demo\","
      "\"exp\":1900000000,\"x\":");
  for (i = 0; i < 200; i++)
    g_string_append (deep, "{\"y\":");
  g_string_append (deep, "1");
  for (i = 0; i < 201; i++)
    g_string_append_c (deep, '}');
  claims = g_string_free (deep, FALSE);
  deep_claims = craft ("{\"alg\":\"HS256\"}", claims, SECRET);
  expect_error (deep_claims, NOOM_TOKEN_ERROR_MALFORMED);
}

static void
test_can_from_string (void)
{
  g_autoptr (GError) error = NULL;
  guint can = 0;

  g_assert_true (noom_token_can_from_string ("publish, subscribe,chat",
          &can, NULL));
  g_assert_cmpuint (can, ==, NOOM_TOKEN_CAN_PUBLISH |
      NOOM_TOKEN_CAN_SUBSCRIBE | NOOM_TOKEN_CAN_CHAT);
  g_assert_true (noom_token_can_from_string ("", &can, NULL));
  g_assert_cmpuint (can, ==, 0);
  g_assert_false (noom_token_can_from_string ("publish,admin", &can, &error));
  g_assert_error (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_CLAIMS);
  g_assert_cmpstr (noom_token_can_to_string (NOOM_TOKEN_CAN_RECORD), ==,
      "record");
}

static void
test_base64url (void)
{
  guint8 data[64];
  guint i, n;

  for (i = 0; i < sizeof (data); i++)
    data[i] = (guint8) (i * 37 + 250);
  for (n = 0; n <= sizeof (data); n++) {
    g_autofree gchar *text = noom_base64url_encode (data, n);
    g_autofree guint8 *back = NULL;
    gsize len = 0;

    g_assert_null (strpbrk (text, "+/="));
    back = noom_base64url_decode (text, strlen (text), &len);
    g_assert_nonnull (back);
    g_assert_cmpmem (back, len, data, n);
  }
  {
    gsize len;

    /* "QR" has unused bits set: "QQ" is the canonical spelling of 'A' */
    g_assert_null (noom_base64url_decode ("QR", 2, &len));
    g_assert_null (noom_base64url_decode ("Q", 1, &len));
    g_assert_null (noom_base64url_decode ("QQ==", 4, &len));
    g_assert_null (noom_base64url_decode ("a+b/", 4, &len));
  }
}

static void
test_secret_load (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *path = NULL;
  g_autoptr (GBytes) key = NULL;
  gint fd = g_file_open_tmp ("noom-secret-XXXXXX", &path, NULL);

  g_assert_cmpint (fd, >=, 0);
  close (fd);
  g_assert_true (g_file_set_contents (path, SECRET "\n", -1, NULL));
  key = noom_token_secret_load (path, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (key, NULL), g_bytes_get_size (key),
      SECRET, strlen (SECRET));
  g_clear_pointer (&key, g_bytes_unref);
  g_assert_true (g_file_set_contents (path, "short\n", -1, NULL));
  key = noom_token_secret_load (path, &error);
  g_assert_null (key);
  g_assert_error (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_SECRET);
  g_unlink (path);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/token/mint-verify", test_mint_verify);
  g_test_add_func ("/token/foreign", test_foreign);
  g_test_add_func ("/token/expired", test_expired);
  g_test_add_func ("/token/forged", test_forged);
  g_test_add_func ("/token/algorithm", test_algorithm);
  g_test_add_func ("/token/malformed", test_malformed);
  g_test_add_func ("/token/claims", test_claims);
  g_test_add_func ("/token/deep", test_deep);
  g_test_add_func ("/token/can-from-string", test_can_from_string);
  g_test_add_func ("/token/base64url", test_base64url);
  g_test_add_func ("/token/secret-load", test_secret_load);
  return g_test_run ();
}
