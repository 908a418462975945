/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-uri: noom://host[:port]/room[?nickname=...&token=...] and nooms://.
 *
 * The grammar is RFC 3986 (parsed by GUri); on top of it:
 *  - the scheme is noom (plain) or nooms (TLS), case-insensitive;
 *  - a host is required; IPv6 literals are written [::1];
 *  - the port is 1..65535, NOOM_URI_DEFAULT_PORT when absent;
 *  - the path is exactly one percent-encoded segment, the room name, checked
 *    with the server's rule (docs/protocol.md §2): 1..64 characters of valid
 *    UTF-8, no control characters, not only spaces.  A '/' inside a room
 *    name is written %2F; one trailing '/' is tolerated;
 *  - the query holds only "nickname" and "token", each at most once.  An
 *    unknown key is refused rather than ignored, so that a typo such as
 *    "nickame=" is reported instead of silently joining as "Anon".  '+'
 *    in the query means a space (form encoding), as browsers write it;
 *  - no user information and no fragment.
 *
 * Error messages never repeat the URI: it may carry a token.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "noom-uri.h"
#include "noom-protocol.h"

#include <gio/gio.h>
#include <string.h>

/* Characters a path segment may hold unescaped (RFC 3986 pchar minus
 * unreserved, which g_uri_escape_string never escapes) */
#define SEGMENT_ALLOWED "!$&'()*+,;=:@"

/* The server's name rule (docs/protocol.md §2), from the room model
 * itself so that there is one rule: a URI the server would refuse with
 * bad_name fails here, at once and with a URI error.  @what is "room name"
 * or "nickname"; @max_chars 0 means no length check (the server's limit
 * for nicknames is configurable, so the server has the last word there). */
static gboolean
check_name (const gchar * name, const gchar * what, guint max_chars,
    GUriError code, GError ** error)
{
  g_autoptr (GError) room_error = NULL;

  if (!noom_room_validate_name (name, -1, max_chars ? max_chars : G_MAXUINT,
          what, &room_error)) {
    /* "room name is blank" -> "The room name is blank" */
    g_set_error (error, G_URI_ERROR, code, "The %s", room_error->message);
    return FALSE;
  }
  return TRUE;
}

/* GUri has percent-decoded the host and turned IDN into ASCII: what is
 * left must be a DNS name, an IPv4 address or an IPv6 literal (with an
 * optional zone id), so that the canonical form can be written back */
static gboolean
check_host (const gchar * host)
{
  const gchar *p;

  if (strchr (host, ':') != NULL) {
    g_autofree gchar *address = g_strdup (host);
    gchar *zone = strchr (address, '%');
    g_autoptr (GInetAddress) inet = NULL;

    if (zone != NULL) {
      *zone++ = '\0';
      if (*zone == '\0')
        return FALSE;
      for (p = zone; *p; p++)
        if (!g_ascii_isalnum (*p) && !strchr ("-._~", *p))
          return FALSE;
    }
    inet = g_inet_address_new_from_string (address);
    return inet != NULL
        && g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6;
  }
  for (p = host; *p; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.' && *p != '_')
      return FALSE;
  return TRUE;
}

static gboolean
parse_room (const gchar * path, gchar ** room, GError ** error)
{
  g_autofree gchar *segment = NULL;
  g_autofree gchar *decoded = NULL;
  gsize len;

  /* GUri keeps the leading '/' of an absolute path */
  if (path == NULL || path[0] != '/' || path[1] == '\0') {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PATH,
        "The URI names no room (expected noom://host:port/ROOM)");
    return FALSE;
  }
  segment = g_strdup (path + 1);
  len = strlen (segment);
  if (len > 0 && segment[len - 1] == '/')
    segment[len - 1] = '\0';
  if (segment[0] == '\0') {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PATH,
        "The URI names no room (expected noom://host:port/ROOM)");
    return FALSE;
  }
  if (strchr (segment, '/') != NULL) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PATH,
        "The URI path must be a single room name "
        "(write a '/' inside a room name as %%2F)");
    return FALSE;
  }
  /* NULL on a malformed escape or an escaped NUL */
  decoded = g_uri_unescape_string (segment, NULL);
  if (decoded == NULL) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PATH,
        "The room name has an invalid %%-escape or an escaped NUL");
    return FALSE;
  }
  if (!check_name (decoded, "room name", NOOM_ROOM_DEFAULT_MAX_ROOM_NAME,
          G_URI_ERROR_BAD_PATH, error))
    return FALSE;
  *room = g_steal_pointer (&decoded);
  return TRUE;
}

static gboolean
parse_query (const gchar * query, NoomUri * uri, GError ** error)
{
  GUriParamsIter iter;
  GError *local_error = NULL;
  gchar *key, *value;

  if (query == NULL || *query == '\0')
    return TRUE;

  g_uri_params_iter_init (&iter, query, -1, "&",
      G_URI_PARAMS_WWW_FORM | G_URI_PARAMS_PARSE_RELAXED);
  while (g_uri_params_iter_next (&iter, &key, &value, &local_error)) {
    g_autofree gchar *k = key;
    g_autofree gchar *v = value;
    gchar **slot;

    if (g_strcmp0 (k, "nickname") == 0) {
      slot = &uri->nickname;
    } else if (g_strcmp0 (k, "token") == 0) {
      slot = &uri->token;
    } else {
      g_autofree gchar *shown = g_utf8_make_valid (k, -1);

      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_QUERY,
          "Unknown URI parameter \"%s\" (known: nickname, token)", shown);
      return FALSE;
    }
    if (*slot != NULL) {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_QUERY,
          "The URI parameter \"%s\" is given twice", k);
      return FALSE;
    }
    if (slot == &uri->nickname) {
      if (!check_name (v, "nickname", 0, G_URI_ERROR_BAD_QUERY, error))
        return FALSE;
    } else if (v == NULL || *v == '\0') {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_QUERY,
          "The token in the URI is empty");
      return FALSE;
    } else if (!g_utf8_validate (v, -1, NULL)) {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_QUERY,
          "The token in the URI is not valid UTF-8");
      return FALSE;
    }
    *slot = g_steal_pointer (&v);
  }
  if (local_error != NULL) {
    /* A '%' escape that does not decode; the message names no value */
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_QUERY,
        "The URI query is malformed (%s)", local_error->message);
    g_error_free (local_error);
    return FALSE;
  }
  return TRUE;
}

NoomUri *
noom_uri_parse (const gchar * uri_string, GError ** error)
{
  g_autoptr (GUri) guri = NULL;
  g_autoptr (NoomUri) uri = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree gchar *scheme = NULL;
  const gchar *host;
  gint port;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (uri_string == NULL || *uri_string == '\0') {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_FAILED,
        "No URI given (expected noom://host:port/ROOM)");
    return NULL;
  }

  /* Check the scheme first: "http://host/r/demo" pasted from a browser
   * deserves a better message than any later check would give */
  scheme = g_uri_parse_scheme (uri_string);
  if (scheme == NULL) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_SCHEME,
        "Not a noom URI (expected noom://host:port/ROOM or nooms://...)");
    return NULL;
  }
  if (g_ascii_strcasecmp (scheme, "noom") != 0
      && g_ascii_strcasecmp (scheme, "nooms") != 0) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_SCHEME,
        "Unsupported URI scheme \"%s\" (use noom:// or nooms:// for TLS)",
        scheme);
    return NULL;
  }

  /* Keep path and query encoded: the room is one segment and only an
   * encoded path tells "a/b" from "a%2Fb" */
  guri = g_uri_parse (uri_string, G_URI_FLAGS_ENCODED_PATH |
      G_URI_FLAGS_ENCODED_QUERY | G_URI_FLAGS_ENCODED_FRAGMENT, &local_error);
  if (guri == NULL) {
    if (g_error_matches (local_error, G_URI_ERROR, G_URI_ERROR_BAD_PORT))
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PORT,
          "The port in the URI is not a number from 1 to 65535");
    else if (g_error_matches (local_error, G_URI_ERROR, G_URI_ERROR_BAD_HOST))
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_HOST,
          "The host in the URI is malformed");
    else
      g_set_error (error, G_URI_ERROR, local_error->code,
          "Malformed noom URI (%s)", local_error->message);
    return NULL;
  }

  host = g_uri_get_host (guri);
  if (host == NULL || *host == '\0') {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_HOST,
        "The URI has no host (expected noom://host:port/ROOM)");
    return NULL;
  }
  if (!check_host (host)) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_HOST,
        "The host in the URI is malformed (expected a name, an IPv4 address "
        "or an IPv6 address in brackets)");
    return NULL;
  }
  if (g_uri_get_userinfo (guri) != NULL) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_USER,
        "User information is not supported in a noom URI "
        "(pass a token as ?token=...)");
    return NULL;
  }
  if (g_uri_get_fragment (guri) != NULL) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_FRAGMENT,
        "A noom URI has no fragment (#...)");
    return NULL;
  }
  port = g_uri_get_port (guri);
  if (port == 0 || port > 65535) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PORT,
        "The port in the URI is not a number from 1 to 65535");
    return NULL;
  }

  uri = g_new0 (NoomUri, 1);
  uri->tls = g_ascii_strcasecmp (scheme, "nooms") == 0;
  /* DNS names are case-insensitive; the canonical form is lower case (an
   * IPv6 zone id is left alone) */
  uri->host = strchr (host, ':') ? g_strdup (host) : g_ascii_strdown (host, -1);
  uri->port = port < 0 ? NOOM_URI_DEFAULT_PORT : (guint) port;
  if (!parse_room (g_uri_get_path (guri), &uri->room, error))
    return NULL;
  if (!parse_query (g_uri_get_query (guri), uri, error))
    return NULL;

  return g_steal_pointer (&uri);
}

/* "<scheme>://host:port" ("<scheme>s://" with TLS), the host bracketed
 * when it is an IPv6 literal (a zone id's '%' escaped) */
static GString *
new_url (const NoomUri * uri, const gchar * scheme)
{
  GString *s = g_string_new (scheme);

  g_string_append (s, uri->tls ? "s://" : "://");
  if (strchr (uri->host, ':') != NULL) {
    g_autofree gchar *escaped = g_uri_escape_string (uri->host,
        ":.[]", FALSE);

    g_string_append_printf (s, "[%s]", escaped);
  } else {
    g_string_append (s, uri->host);
  }
  g_string_append_printf (s, ":%u", uri->port);
  return s;
}

gchar *
noom_uri_to_string (const NoomUri * uri)
{
  GString *s;
  gchar sep = '?';

  g_return_val_if_fail (uri != NULL, NULL);

  s = new_url (uri, "noom");
  g_string_append_c (s, '/');
  g_string_append_uri_escaped (s, uri->room, SEGMENT_ALLOWED, FALSE);
  if (uri->nickname != NULL) {
    g_string_append_printf (s, "%cnickname=", sep);
    g_string_append_uri_escaped (s, uri->nickname, NULL, FALSE);
    sep = '&';
  }
  if (uri->token != NULL) {
    g_string_append_printf (s, "%ctoken=", sep);
    g_string_append_uri_escaped (s, uri->token, NULL, FALSE);
  }
  return g_string_free (s, FALSE);
}

gchar *
noom_uri_get_websocket_url (const NoomUri * uri)
{
  GString *s;

  g_return_val_if_fail (uri != NULL, NULL);

  s = new_url (uri, "ws");
  g_string_append (s, "/socket.io/?EIO=4&transport=websocket");
  return g_string_free (s, FALSE);
}

gchar *
noom_uri_get_http_url (const NoomUri * uri)
{
  g_return_val_if_fail (uri != NULL, NULL);

  return g_string_free (new_url (uri, "http"), FALSE);
}

NoomUri *
noom_uri_copy (const NoomUri * uri)
{
  NoomUri *copy;

  if (uri == NULL)
    return NULL;

  copy = g_new0 (NoomUri, 1);
  copy->tls = uri->tls;
  copy->host = g_strdup (uri->host);
  copy->port = uri->port;
  copy->room = g_strdup (uri->room);
  copy->nickname = g_strdup (uri->nickname);
  copy->token = g_strdup (uri->token);
  return copy;
}

void
noom_uri_free (NoomUri * uri)
{
  if (uri == NULL)
    return;

  g_free (uri->host);
  g_free (uri->room);
  g_free (uri->nickname);
  if (uri->token != NULL) {
    /* a credential: don't leave it in freed memory */
    memset (uri->token, 0, strlen (uri->token));
    g_free (uri->token);
  }
  g_free (uri);
}
