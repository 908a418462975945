/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-token: HS256 JWT room tokens (see noom-token.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <json-glib/json-glib.h>

#include "noom-base64.h"
#include "noom-packet.h"
#include "noom-token.h"

G_DEFINE_QUARK (noom-token-error-quark, noom_token_error);

#define SHA256_LEN 32

static const gchar *const can_names[] = {
  "publish", "subscribe", "record", "chat",
};

void
noom_token_free (NoomToken * token)
{
  if (token == NULL)
    return;
  g_free (token->room);
  g_free (token->identity);
  g_free (token);
}

/* -------------------------------------------------------------- HMAC */

static gchar *
sign (GBytes * secret, const gchar * data, gsize len)
{
  g_autoptr (GHmac) hmac = NULL;
  guint8 digest[SHA256_LEN];
  gsize digest_len = sizeof (digest);
  gsize key_len;
  const guint8 *key = g_bytes_get_data (secret, &key_len);

  hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  g_hmac_update (hmac, (const guchar *) data, len);
  g_hmac_get_digest (hmac, digest, &digest_len);
  return noom_base64url_encode (digest, digest_len);
}

static gboolean
verify_signature (GBytes * secret, const gchar * data, gsize len,
    const gchar * sig, gsize sig_len)
{
  g_autoptr (GHmac) hmac = NULL;
  g_autofree guint8 *given = NULL;
  guint8 digest[SHA256_LEN];
  gsize digest_len = sizeof (digest);
  gsize given_len = 0, key_len, i;
  const guint8 *key = g_bytes_get_data (secret, &key_len);
  guint8 diff = 0;

  given = noom_base64url_decode (sig, sig_len, &given_len);
  hmac = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  g_hmac_update (hmac, (const guchar *) data, len);
  g_hmac_get_digest (hmac, digest, &digest_len);
  if (given == NULL || given_len != SHA256_LEN)
    return FALSE;
  /* Constant time: how much of a forged signature matched must not show
   * in the time the answer takes. */
  for (i = 0; i < SHA256_LEN; i++)
    diff |= given[i] ^ digest[i];
  return diff == 0;
}

/* ---------------------------------------------------------------- JSON */

/* A base64url part of the token as a JSON object.  It goes through
 * noom_json_parse() like every JSON from the network: the header is read
 * before the signature is checked, so it comes from anybody. */
static JsonObject *
decode_object (const gchar * text, gsize len, gboolean * has_nul)
{
  g_autofree guint8 *raw = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  gsize raw_len = 0;

  raw = noom_base64url_decode (text, len, &raw_len);
  if (raw == NULL || raw_len == 0
      || memchr (raw, '\0', raw_len) != NULL
      || !g_utf8_validate ((const gchar *) raw, raw_len, NULL))
    return NULL;
  root = noom_json_parse ((const gchar *) raw, raw_len, &error);
  if (root == NULL) {
    /* json-glib would cut "a\u0000b" to "a": the identity would silently
     * become another nickname than the one the token names. */
    if (has_nul && g_error_matches (error, NOOM_PROTOCOL_ERROR,
            NOOM_PROTOCOL_ERROR_BAD_PAYLOAD))
      *has_nul = TRUE;
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root))
    return NULL;
  return json_object_ref (json_node_get_object (root));
}

static const gchar *
get_string (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n)
      || json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* A NumericDate: integer or fractional seconds. */
static gboolean
get_time (JsonObject * o, const gchar * name, gint64 * out)
{
  JsonNode *n = json_object_get_member (o, name);
  GType t;

  if (n == NULL || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    *out = json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE) {
    gdouble d = json_node_get_double (n);

    if (!(d > -1e15 && d < 1e15))
      return FALSE;
    *out = (gint64) d;
  } else
    return FALSE;
  return TRUE;
}

/* ------------------------------------------------------------- public */

NoomToken *
noom_token_verify (const gchar * text, GBytes * secret, gint64 now_s,
    GError ** error)
{
  g_autoptr (JsonObject) header = NULL;
  g_autoptr (JsonObject) claims = NULL;
  g_autoptr (NoomToken) token = NULL;
  const gchar *dot1, *dot2, *alg, *room, *sub;
  gsize len;
  JsonNode *can;
  gint64 nbf;
  gboolean claims_nul = FALSE;

  g_return_val_if_fail (secret != NULL, NULL);

  if (text == NULL || *text == '\0') {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_MISSING,
        "a token is required");
    return NULL;
  }
  len = strlen (text);
  dot1 = strchr (text, '.');
  dot2 = dot1 ? strchr (dot1 + 1, '.') : NULL;
  if (len > NOOM_TOKEN_MAX_LENGTH || dot2 == NULL
      || strchr (dot2 + 1, '.') != NULL
      || (header = decode_object (text, dot1 - text, NULL)) == NULL) {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_MALFORMED,
        "the token is malformed");
    return NULL;
  }
  /* Exactly HS256: never "none", never another algorithm (an RS256 key
   * confusion, a weaker hash), never a variant spelling. */
  alg = get_string (header, "alg");
  if (g_strcmp0 (alg, "HS256") != 0
      || json_object_has_member (header, "crit")) {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_ALGORITHM,
        "the token must be signed with HS256");
    return NULL;
  }
  if (!verify_signature (secret, text, dot2 - text, dot2 + 1,
          len - (dot2 + 1 - text))) {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_SIGNATURE,
        "the token's signature is invalid");
    return NULL;
  }

  claims = decode_object (dot1 + 1, dot2 - (dot1 + 1), &claims_nul);
  if (claims_nul) {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_CLAIMS,
        "the token's claims hold U+0000 (\\u0000), which no room name or "
        "identity may contain");
    return NULL;
  }
  if (claims == NULL) {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_MALFORMED,
        "the token is malformed");
    return NULL;
  }
  token = g_new0 (NoomToken, 1);
  if (!get_time (claims, "exp", &token->exp)) {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_CLAIMS,
        "the token has no expiry (exp)");
    return NULL;
  }
  if (now_s > token->exp + NOOM_TOKEN_LEEWAY_S) {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_EXPIRED,
        "the token has expired");
    return NULL;
  }
  if (json_object_has_member (claims, "nbf")) {
    if (!get_time (claims, "nbf", &nbf)) {
      g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_CLAIMS,
          "the token's nbf is not a time");
      return NULL;
    }
    if (now_s + NOOM_TOKEN_LEEWAY_S < nbf) {
      g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_EXPIRED,
          "the token is not valid yet");
      return NULL;
    }
  }
  room = get_string (claims, "room");
  sub = get_string (claims, "sub");
  if (room == NULL || *room == '\0' || sub == NULL) {
    g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_CLAIMS,
        "the token must name a room and an identity (sub)");
    return NULL;
  }
  token->room = g_strdup (room);
  token->identity = g_strdup (sub);

  can = json_object_get_member (claims, "can");
  if (can && JSON_NODE_HOLDS_ARRAY (can)) {
    JsonArray *a = json_node_get_array (can);
    guint i, j;

    for (i = 0; i < json_array_get_length (a); i++) {
      JsonNode *e = json_array_get_element (a, i);

      if (!JSON_NODE_HOLDS_VALUE (e)
          || json_node_get_value_type (e) != G_TYPE_STRING)
        goto bad_can;
      /* Names this server does not know grant nothing. */
      for (j = 0; j < G_N_ELEMENTS (can_names); j++)
        if (strcmp (json_node_get_string (e), can_names[j]) == 0)
          token->can |= 1u << j;
    }
  } else if (can != NULL) {
    goto bad_can;
  }
  return g_steal_pointer (&token);

bad_can:
  g_set_error_literal (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_CLAIMS,
      "the token's permissions (can) must be an array of strings");
  return NULL;
}

gchar *
noom_token_mint (GBytes * secret, const gchar * room, const gchar * identity,
    guint can, gint64 exp)
{
  static const gchar header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
  g_autoptr (JsonBuilder) b = json_builder_new_immutable ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree gchar *claims_json = NULL;
  g_autofree gchar *header = NULL;
  g_autofree gchar *claims = NULL;
  g_autofree gchar *signed_part = NULL;
  g_autofree gchar *sig = NULL;
  guint i;

  g_return_val_if_fail (secret != NULL && room != NULL && identity != NULL,
      NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "room");
  json_builder_add_string_value (b, room);
  json_builder_set_member_name (b, "sub");
  json_builder_add_string_value (b, identity);
  json_builder_set_member_name (b, "can");
  json_builder_begin_array (b);
  for (i = 0; i < G_N_ELEMENTS (can_names); i++)
    if (can & (1u << i))
      json_builder_add_string_value (b, can_names[i]);
  json_builder_end_array (b);
  json_builder_set_member_name (b, "iat");
  json_builder_add_int_value (b, g_get_real_time () / G_USEC_PER_SEC);
  json_builder_set_member_name (b, "exp");
  json_builder_add_int_value (b, exp);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  claims_json = json_to_string (root, FALSE);

  header = noom_base64url_encode ((const guint8 *) header_json,
      strlen (header_json));
  claims = noom_base64url_encode ((const guint8 *) claims_json,
      strlen (claims_json));
  signed_part = g_strconcat (header, ".", claims, NULL);
  sig = sign (secret, signed_part, strlen (signed_part));
  return g_strconcat (signed_part, ".", sig, NULL);
}

GBytes *
noom_token_secret_load (const gchar * path, GError ** error)
{
  g_autofree gchar *contents = NULL;
  gsize len;

  if (!g_file_get_contents (path, &contents, &len, error))
    return NULL;
  while (len > 0 && (contents[len - 1] == '\n' || contents[len - 1] == '\r'
          || contents[len - 1] == ' ' || contents[len - 1] == '\t'))
    len--;
  if (len < NOOM_TOKEN_MIN_SECRET) {
    g_set_error (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_SECRET,
        "%s: the secret must be at least %d bytes (e.g. openssl rand -hex 32)",
        path, NOOM_TOKEN_MIN_SECRET);
    return NULL;
  }
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

gboolean
noom_token_can_from_string (const gchar * list, guint * can, GError ** error)
{
  g_auto (GStrv) names = g_strsplit (list, ",", -1);
  guint i, j;

  *can = 0;
  for (i = 0; names[i]; i++) {
    const gchar *name = g_strstrip (names[i]);

    if (*name == '\0')
      continue;
    for (j = 0; j < G_N_ELEMENTS (can_names); j++)
      if (strcmp (name, can_names[j]) == 0)
        break;
    if (j == G_N_ELEMENTS (can_names)) {
      g_set_error (error, NOOM_TOKEN_ERROR, NOOM_TOKEN_ERROR_CLAIMS,
          "unknown permission \"%s\" (publish, subscribe, record, chat)", name);
      return FALSE;
    }
    *can |= 1u << j;
  }
  return TRUE;
}

const gchar *
noom_token_can_to_string (NoomTokenCan flag)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (can_names); i++)
    if (flag == (1u << i))
      return can_names[i];
  return NULL;
}

gboolean
noom_token_allows_room (const NoomToken * token, const gchar * room)
{
  return strcmp (token->room, "*") == 0 || strcmp (token->room, room) == 0;
}
