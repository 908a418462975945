/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-token: room access tokens (docs/protocol.md §1, "Access tokens").
 * A token is a JWT signed with HMAC-SHA256 (alg "HS256") under a secret
 * shared by noom-server and whoever mints tokens, so that any standard JWT
 * library can mint one.  Claims:
 *
 *   "room"  the room it admits to, or "*" for any room
 *   "sub"   the identity: the nickname when the client gives none
 *   "can"   what it may do: an array of "publish", "subscribe", "record",
 *           "chat"
 *   "exp"   expiry, seconds since the epoch (required)
 *   "nbf"   not before (optional)
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define NOOM_TOKEN_ERROR (noom_token_error_quark ())
GQuark noom_token_error_quark (void);

typedef enum {
  NOOM_TOKEN_ERROR_MISSING,
  NOOM_TOKEN_ERROR_MALFORMED,   /* not three base64url parts of JSON, ... */
  NOOM_TOKEN_ERROR_ALGORITHM,   /* alg is not exactly "HS256" */
  NOOM_TOKEN_ERROR_SIGNATURE,   /* forged, or another secret */
  NOOM_TOKEN_ERROR_EXPIRED,     /* exp passed, or nbf not yet reached */
  NOOM_TOKEN_ERROR_CLAIMS,      /* room/sub/can/exp missing or invalid */
  NOOM_TOKEN_ERROR_SECRET,      /* unusable secret (file) */
} NoomTokenError;

typedef enum {
  NOOM_TOKEN_CAN_PUBLISH = 1 << 0,
  NOOM_TOKEN_CAN_SUBSCRIBE = 1 << 1,
  NOOM_TOKEN_CAN_RECORD = 1 << 2,
  NOOM_TOKEN_CAN_CHAT = 1 << 3,
} NoomTokenCan;

#define NOOM_TOKEN_CAN_ALL (NOOM_TOKEN_CAN_PUBLISH | NOOM_TOKEN_CAN_SUBSCRIBE \
    | NOOM_TOKEN_CAN_RECORD | NOOM_TOKEN_CAN_CHAT)

/* Seconds of clock skew tolerated on exp and nbf. */
#define NOOM_TOKEN_LEEWAY_S 30
/* Tokens longer than this are refused unread. */
#define NOOM_TOKEN_MAX_LENGTH 4096
/* Shortest secret accepted (bytes). */
#define NOOM_TOKEN_MIN_SECRET 16

typedef struct {
  gchar *room;                  /* "*": any room */
  gchar *identity;              /* "sub" */
  guint can;                    /* NoomTokenCan */
  gint64 exp;                   /* seconds since the epoch */
} NoomToken;

void noom_token_free (NoomToken * token);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NoomToken, noom_token_free);

/* Verifies @text (signature, alg, expiry against @now_s, claims).  The
 * error messages never contain the token. */
NoomToken *noom_token_verify (const gchar * text, GBytes * secret,
    gint64 now_s, GError ** error);

/* A signed token for @room ("*" for any), @identity, @can, expiring at
 * @exp (seconds since the epoch). */
gchar *noom_token_mint (GBytes * secret, const gchar * room,
    const gchar * identity, guint can, gint64 exp);

/* Reads a secret file: its bytes, without trailing line breaks and
 * spaces; at least NOOM_TOKEN_MIN_SECRET bytes. */
GBytes *noom_token_secret_load (const gchar * path, GError ** error);

/* "publish,subscribe,chat" -> flags.  FALSE for an unknown name. */
gboolean noom_token_can_from_string (const gchar * list, guint * can,
    GError ** error);
/* The name of one flag ("publish", ...). */
const gchar *noom_token_can_to_string (NoomTokenCan flag);

/* Does the token admit to @room? */
gboolean noom_token_allows_room (const NoomToken * token, const gchar * room);

G_END_DECLS
