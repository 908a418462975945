/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fuzz-uri: noom_uri_parse() (lib/noom-uri.h) on arbitrary text.  A URI
 * that parses must:
 *  - print (noom_uri_to_string) as a URI that parses to the same fields,
 *    and print again to the same text (the canonical form is a fixed
 *    point);
 *  - name a room the server accepts (noom_room_validate_name with the
 *    default limit), and a nickname the server's rule accepts when it has
 *    one: an element must never be handed a URI that the server refuses
 *    with bad_name;
 *  - give WebSocket and HTTP URLs with the same scheme family;
 *  - copy to an equal URI.
 */
#include <string.h>

#include "noom-uri.h"
#include "noom-protocol.h"
#include "fuzz.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

static gboolean
uri_equal (const NoomUri * a, const NoomUri * b)
{
  return a->tls == b->tls && g_strcmp0 (a->host, b->host) == 0
      && a->port == b->port && g_strcmp0 (a->room, b->room) == 0
      && g_strcmp0 (a->nickname, b->nickname) == 0
      && g_strcmp0 (a->token, b->token) == 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  g_autofree gchar *text = g_strndup ((const gchar *) data, size);
  g_autoptr (NoomUri) uri = NULL;
  g_autoptr (NoomUri) again = NULL;
  g_autoptr (NoomUri) copy = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *first = NULL;
  g_autofree gchar *second = NULL;
  g_autofree gchar *ws = NULL;
  g_autofree gchar *http = NULL;

  uri = noom_uri_parse (text, &error);
  if (uri == NULL) {
    /* A refusal always says why. */
    FUZZ_CHECK (error != NULL && error->message != NULL);
    FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
    return 0;
  }
  FUZZ_CHECK (error == NULL);
  FUZZ_CHECK (uri->host != NULL && uri->host[0] != '\0');
  FUZZ_CHECK (uri->port >= 1 && uri->port <= 65535);
  FUZZ_CHECK (uri->room != NULL);

  /* corpus/uri/regress-zero-width-blank: U+200B and U+FEFF are blank for
   * the server, and once were not for the URI parser. */
  FUZZ_CHECK (noom_room_validate_name (uri->room, -1,
          NOOM_ROOM_DEFAULT_MAX_ROOM_NAME, "room name", NULL));
  /* The nickname length limit is the server's (configurable): only the
   * character rules are checked here. */
  if (uri->nickname != NULL)
    FUZZ_CHECK (noom_room_validate_name (uri->nickname, -1, G_MAXUINT,
            "nickname", NULL));

  first = noom_uri_to_string (uri);
  FUZZ_CHECK (first != NULL);
  again = noom_uri_parse (first, NULL);
  FUZZ_CHECK (again != NULL);
  FUZZ_CHECK (uri_equal (uri, again));
  second = noom_uri_to_string (again);
  FUZZ_CHECK (strcmp (first, second) == 0);

  copy = noom_uri_copy (uri);
  FUZZ_CHECK (uri_equal (uri, copy));

  ws = noom_uri_get_websocket_url (uri);
  http = noom_uri_get_http_url (uri);
  FUZZ_CHECK (g_str_has_prefix (ws, uri->tls ? "wss://" : "ws://"));
  FUZZ_CHECK (g_str_has_prefix (http, uri->tls ? "https://" : "http://"));
  /* Both must be URLs GUri itself accepts. */
  FUZZ_CHECK (g_uri_is_valid (ws, G_URI_FLAGS_NONE, NULL));
  FUZZ_CHECK (g_uri_is_valid (http, G_URI_FLAGS_NONE, NULL));
  return 0;
}
