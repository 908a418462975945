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
#include "noom-protocol.h"

struct _NoomIceConfig
{
  GPtrArray *stun;              /* gchar*, NULL-terminated */
  GPtrArray *turn;              /* gchar*, NULL-terminated */
  gchar *secret;
  guint ttl_s;
};

NoomIceConfig *
noom_ice_config_new (const gchar * const *urls, const gchar * secret,
    guint ttl_s, GError ** error)
{
  NoomIceConfig *config = g_new0 (NoomIceConfig, 1);

  config->stun = g_ptr_array_new_null_terminated (0, g_free, TRUE);
  config->turn = g_ptr_array_new_null_terminated (0, g_free, TRUE);
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

JsonArray *
noom_ice_config_build (const NoomIceConfig * config, const gchar * id,
    gint64 now_s)
{
  g_autofree gchar *username = NULL;
  g_autofree gchar *credential = NULL;
  NoomIceServer servers[2] = { {0,}, };
  guint n = 0;

  if (config && config->stun->len > 0) {
    servers[n].urls = (const gchar * const *) config->stun->pdata;
    n++;
  }
  if (config && config->turn->len > 0) {
    servers[n].urls = (const gchar * const *) config->turn->pdata;
    if (config->secret) {
      noom_turn_credentials (config->secret, now_s + config->ttl_s, id,
          &username, &credential);
      servers[n].username = username;
      servers[n].credential = credential;
    }
    n++;
  }
  return noom_protocol_encode_ice_servers (servers, n);
}
