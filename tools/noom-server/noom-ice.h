/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-ice: the ICE servers noom-server hands to clients in the join ack
 * (docs/protocol.md §5), with TURN REST API credentials (coturn's
 * use-auth-secret scheme) when a shared secret is configured.
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _NoomIceConfig NoomIceConfig;

/* Checks every URL (stun:, stuns:, turn:, turns:); errors are in
 * G_OPTION_ERROR with a message naming the bad URL.  @secret may be NULL
 * (turn: URLs are then handed out without credentials). */
NoomIceConfig *noom_ice_config_new (const gchar * const *urls,
    const gchar * secret, guint ttl_s, GError ** error);
void noom_ice_config_free (NoomIceConfig * config);

/* coturn use-auth-secret credentials: username "<expiry>:<user>",
 * credential base64 (HMAC-SHA1 (secret, username)).  @expiry is a Unix
 * time in seconds. */
void noom_turn_credentials (const gchar * secret, gint64 expiry,
    const gchar * user, gchar ** username, gchar ** credential);

/* The "iceServers" array for participant @id at Unix time @now_s:
 * one entry with every stun:/stuns: URL, one with every turn:/turns: URL
 * (with username/credential when a secret is set). */
JsonArray *noom_ice_config_build (const NoomIceConfig * config,
    const gchar * id, gint64 now_s);

G_END_DECLS
