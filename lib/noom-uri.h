/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-uri: noom://host[:port]/room[?nickname=...&token=...] and nooms://
 * (TLS).  The default port is 8080 for both.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  gboolean tls;                 /* nooms:// */
  gchar *host;
  guint port;
  gchar *room;                  /* decoded, validated as a room name */
  gchar *nickname;              /* nullable */
  gchar *token;                 /* nullable */
} NoomUri;

#define NOOM_URI_DEFAULT_PORT 8080

/* Errors are in G_URI_ERROR with a message a user understands.
 * The room is one percent-encoded path segment checked with the server's
 * name rule; the query may only hold nickname and token ('+' is a space):
 * unknown keys are refused.  See docs/client.md. */
NoomUri *noom_uri_parse (const gchar * uri, GError ** error);
/* Canonical string form (token included). */
gchar *noom_uri_to_string (const NoomUri * uri);
/* The Socket.IO WebSocket URL:
 * ws[s]://host:port/socket.io/?EIO=4&transport=websocket */
gchar *noom_uri_get_websocket_url (const NoomUri * uri);
/* http[s]://host:port */
gchar *noom_uri_get_http_url (const NoomUri * uri);
NoomUri *noom_uri_copy (const NoomUri * uri);
void noom_uri_free (NoomUri * uri);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NoomUri, noom_uri_free);

G_END_DECLS
