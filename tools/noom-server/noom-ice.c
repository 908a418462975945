/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-ice: ICE server list and TURN REST credentials (see noom-ice.h).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-ice.h"

struct _NoomIceConfig
{
  GPtrArray *stun;              /* gchar* */
  GPtrArray *turn;              /* gchar* */
  gchar *secret;
  guint ttl_s;
};

NoomIceConfig *
noom_ice_config_new (const gchar * const *urls, const gchar * secret,
    guint ttl_s, GError ** error)
{
  NoomIceConfig *config = g_new0 (NoomIceConfig, 1);

  config->stun = g_ptr_array_new_with_free_func (g_free);
  config->turn = g_ptr_array_new_with_free_func (g_free);
  config->secret = g_strdup (secret);
  config->ttl_s = ttl_s;

  for (; urls && *urls; urls++) {
    const gchar *url = *urls;
    const gchar *colon = strchr (url, ':');
    gboolean is_turn;

    if (g_str_has_prefix (url, "stun:") || g_str_has_prefix (url, "stuns:"))
      is_turn = FALSE;
    else if (g_str_has_prefix (url, "turn:")
        || g_str_has_prefix (url, "turns:"))
      is_turn = TRUE;
    else {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--ice-server \"%s\": expected a stun:, stuns:, turn: or turns: URL",
          url);
      noom_ice_config_free (config);
      return NULL;
    }
    /* A host must follow the scheme; the rest (port, ?transport=) is
     * the browser's business. */
    if (colon[1] == '\0' || colon[1] == ':' || colon[1] == '?'
        || !g_utf8_validate (url, -1, NULL) || strpbrk (url, " \t\r\n")) {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
          "--ice-server \"%s\": no host after the scheme", url);
      noom_ice_config_free (config);
      return NULL;
    }
    g_ptr_array_add (is_turn ? config->turn : config->stun, g_strdup (url));
  }
  return config;
}

void
noom_ice_config_free (NoomIceConfig * config)
{
  if (config == NULL)
    return;
  g_ptr_array_unref (config->stun);
  g_ptr_array_unref (config->turn);
  if (config->secret)
    memset (config->secret, 0, strlen (config->secret));
  g_free (config->secret);
  g_free (config);
}

void
noom_turn_credentials (const gchar * secret, gint64 expiry,
    const gchar * user, gchar ** username, gchar ** credential)
{
  g_autoptr (GHmac) hmac = NULL;
  guint8 digest[20];
  gsize digest_len = sizeof (digest);

  *username = g_strdup_printf ("%" G_GINT64_FORMAT ":%s", expiry, user);
  hmac = g_hmac_new (G_CHECKSUM_SHA1, (const guchar *) secret, strlen (secret));
  g_hmac_update (hmac, (const guchar *) *username, -1);
  g_hmac_get_digest (hmac, digest, &digest_len);
  *credential = g_base64_encode (digest, digest_len);
}

static void
add_urls (JsonBuilder * b, GPtrArray * urls)
{
  guint i;

  json_builder_set_member_name (b, "urls");
  json_builder_begin_array (b);
  for (i = 0; i < urls->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (urls, i));
  json_builder_end_array (b);
}

JsonNode *
noom_ice_config_build (const NoomIceConfig * config, const gchar * id,
    gint64 now_s)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();

  json_builder_begin_array (b);
  if (config && config->stun->len > 0) {
    json_builder_begin_object (b);
    add_urls (b, config->stun);
    json_builder_end_object (b);
  }
  if (config && config->turn->len > 0) {
    json_builder_begin_object (b);
    add_urls (b, config->turn);
    if (config->secret) {
      g_autofree gchar *username = NULL;
      g_autofree gchar *credential = NULL;

      noom_turn_credentials (config->secret, now_s + config->ttl_s, id,
          &username, &credential);
      json_builder_set_member_name (b, "username");
      json_builder_add_string_value (b, username);
      json_builder_set_member_name (b, "credential");
      json_builder_add_string_value (b, credential);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  return json_builder_get_root (b);
}
