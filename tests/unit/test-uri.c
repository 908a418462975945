/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of noom-uri: parsing, validation, round trip, URL builders.
 */
#include "noom-uri.h"
#include "noom-protocol.h"

#include <string.h>

static void
test_parse_minimal (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomUri) uri = noom_uri_parse ("noom://localhost/demo", &error);

  g_assert_no_error (error);
  g_assert_nonnull (uri);
  g_assert_false (uri->tls);
  g_assert_cmpstr (uri->host, ==, "localhost");
  g_assert_cmpuint (uri->port, ==, NOOM_URI_DEFAULT_PORT);
  g_assert_cmpstr (uri->room, ==, "demo");
  g_assert_null (uri->nickname);
  g_assert_null (uri->token);
}

static void
test_parse_full (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomUri) uri =
      noom_uri_parse ("nooms://example.org:9443/team%20room?nickname=kim+lee"
      "&token=abc.def-ghi_jkl", &error);

  g_assert_no_error (error);
  g_assert_true (uri->tls);
  g_assert_cmpstr (uri->host, ==, "example.org");
  g_assert_cmpuint (uri->port, ==, 9443);
  g_assert_cmpstr (uri->room, ==, "team room");
  g_assert_cmpstr (uri->nickname, ==, "kim lee");
  g_assert_cmpstr (uri->token, ==, "abc.def-ghi_jkl");
}

static void
test_parse_scheme_case (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomUri) a = noom_uri_parse ("NOOM://h/r", &error);
  g_autoptr (NoomUri) b = NULL;

  g_assert_no_error (error);
  g_assert_false (a->tls);
  b = noom_uri_parse ("NoomS://h/r", &error);
  g_assert_no_error (error);
  g_assert_true (b->tls);
}

static void
test_parse_ipv6 (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomUri) uri = noom_uri_parse ("noom://[::1]:9000/demo", &error);
  g_autofree gchar *ws = NULL;
  g_autofree gchar *http = NULL;
  g_autofree gchar *str = NULL;

  g_assert_no_error (error);
  g_assert_cmpstr (uri->host, ==, "::1");
  g_assert_cmpuint (uri->port, ==, 9000);
  ws = noom_uri_get_websocket_url (uri);
  g_assert_cmpstr (ws, ==,
      "ws://[::1]:9000/socket.io/?EIO=4&transport=websocket");
  http = noom_uri_get_http_url (uri);
  g_assert_cmpstr (http, ==, "http://[::1]:9000");
  str = noom_uri_to_string (uri);
  g_assert_cmpstr (str, ==, "noom://[::1]:9000/demo");
}

static void
test_parse_unicode (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomUri) a = NULL;
  g_autoptr (NoomUri) b = NULL;
  g_autoptr (NoomUri) c = NULL;
  g_autofree gchar *str = NULL;

  /* percent-encoded UTF-8 */
  a = noom_uri_parse ("noom://h/caf%C3%A9%20%E2%98%95?nickname=J%C3%BCrgen",
      &error);
  g_assert_no_error (error);
  g_assert_cmpstr (a->room, ==, "café ☕");
  g_assert_cmpstr (a->nickname, ==, "Jürgen");

  /* an escaped '/' belongs to the room name */
  b = noom_uri_parse ("noom://h/a%2Fb", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (b->room, ==, "a/b");
  str = noom_uri_to_string (b);
  g_assert_cmpstr (str, ==, "noom://h:8080/a%2Fb");

  /* one trailing slash is tolerated */
  c = noom_uri_parse ("noom://h/demo/", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->room, ==, "demo");
}

static void
test_room_length (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) s = g_string_new ("noom://h/");
  g_autoptr (NoomUri) ok = NULL;
  g_autoptr (NoomUri) bad = NULL;
  guint i;

  /* the limit counts characters, not bytes: 64 two-byte characters pass */
  for (i = 0; i < 64; i++)
    g_string_append (s, "%C3%A9");
  ok = noom_uri_parse (s->str, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_utf8_strlen (ok->room, -1), ==, 64);

  g_string_append (s, "x");
  bad = noom_uri_parse (s->str, &error);
  g_assert_null (bad);
  g_assert_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PATH);
  g_assert_nonnull (strstr (error->message, "longer than 64"));
}

typedef struct
{
  const gchar *uri;
  GUriError code;
  const gchar *message_part;    /* a word the user must see */
} BadCase;

static const BadCase bad_cases[] = {
  {"", G_URI_ERROR_FAILED, "No URI"},
  {"demo", G_URI_ERROR_BAD_SCHEME, "Not a noom URI"},
  {"http://localhost:8080/r/demo", G_URI_ERROR_BAD_SCHEME, "\"http\""},
  {"ws://localhost:8080/demo", G_URI_ERROR_BAD_SCHEME, "noom://"},
  {"noom:demo", G_URI_ERROR_BAD_HOST, "no host"},
  {"noom:///demo", G_URI_ERROR_BAD_HOST, "no host"},
  {"noom://h", G_URI_ERROR_BAD_PATH, "no room"},
  {"noom://h/", G_URI_ERROR_BAD_PATH, "no room"},
  {"noom://h//", G_URI_ERROR_BAD_PATH, "no room"},
  {"noom://h:8080?nickname=a", G_URI_ERROR_BAD_PATH, "no room"},
  {"noom://h/a/b", G_URI_ERROR_BAD_PATH, "single room"},
  {"noom://h/r/demo", G_URI_ERROR_BAD_PATH, "single room"},
  {"noom://h/a%01b", G_URI_ERROR_BAD_PATH, "control"},
  {"noom://h/a%7Fb", G_URI_ERROR_BAD_PATH, "control"},
  {"noom://h/a%C2%85b", G_URI_ERROR_BAD_PATH, "control"},
  {"noom://h/a%00b", G_URI_ERROR_BAD_PATH, "NUL"},
  {"noom://h/%20%20", G_URI_ERROR_BAD_PATH, "blank"},
  /* the server's rule counts these as blank too
   * (tests/fuzz/corpus/uri/regress-zero-width-blank) */
  {"noom://h/%E2%80%8B", G_URI_ERROR_BAD_PATH, "blank"},
  {"noom://h/%EF%BB%BF%20%E2%80%8B", G_URI_ERROR_BAD_PATH, "blank"},
  {"noom://h/%C3", G_URI_ERROR_BAD_PATH, "UTF-8"},
  {"noom://h/%FF", G_URI_ERROR_BAD_PATH, "UTF-8"},
  {"noom://h:0/demo", G_URI_ERROR_BAD_PORT, "port"},
  {"noom://h:65536/demo", G_URI_ERROR_BAD_PORT, "port"},
  {"noom://h:99999999999/demo", G_URI_ERROR_BAD_PORT, "port"},
  {"noom://h:abc/demo", G_URI_ERROR_BAD_PORT, "port"},
  {"noom://h:-1/demo", G_URI_ERROR_BAD_PORT, "port"},
  {"noom://[::1/demo", G_URI_ERROR_BAD_HOST, "host"},
  {"noom://h%20x/demo", G_URI_ERROR_BAD_HOST, "host"},
  {"noom://ex ample/demo", G_URI_ERROR_BAD_HOST, "host"},
  {"noom://h%2Fx/demo", G_URI_ERROR_BAD_HOST, "host"},
  {"noom://h%3A1/demo", G_URI_ERROR_BAD_HOST, "host"},
  {"noom://[::1%25]/demo", G_URI_ERROR_BAD_HOST, "host"},
  {"noom://[::1%25a%2Fb]/demo", G_URI_ERROR_BAD_HOST, "host"},
  {"noom://h/demo?nickame=kim", G_URI_ERROR_BAD_QUERY, "\"nickame\""},
  {"noom://h/demo?room=x", G_URI_ERROR_BAD_QUERY, "Unknown"},
  {"noom://h/demo?nickname=a&nickname=b", G_URI_ERROR_BAD_QUERY, "twice"},
  {"noom://h/demo?nickname=", G_URI_ERROR_BAD_QUERY, "empty"},
  {"noom://h/demo?nickname=a%0Ab", G_URI_ERROR_BAD_QUERY, "control"},
  {"noom://h/demo?nickname=+++", G_URI_ERROR_BAD_QUERY, "blank"},
  {"noom://h/demo?nickname=%EF%BB%BF", G_URI_ERROR_BAD_QUERY, "blank"},
  {"noom://h/demo?nickname=%E2%80%8B+", G_URI_ERROR_BAD_QUERY, "blank"},
  {"noom://h/demo?token=", G_URI_ERROR_BAD_QUERY, "token"},
  {"noom://h/demo?token=%FFsecret", G_URI_ERROR_BAD_QUERY, "UTF-8"},
  {"noom://kim@h/demo", G_URI_ERROR_BAD_USER, "?token="},
  {"noom://h/demo#x", G_URI_ERROR_BAD_FRAGMENT, "fragment"},
};

static void
test_parse_bad (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (bad_cases); i++) {
    const BadCase *c = &bad_cases[i];
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomUri) uri = NULL;

    g_test_message ("bad URI: %s", c->uri);
    uri = noom_uri_parse (c->uri, &error);
    g_assert_null (uri);
    g_assert_error (error, G_URI_ERROR, (gint) c->code);
    if (strstr (error->message, c->message_part) == NULL)
      g_error ("%s: message \"%s\" lacks \"%s\"", c->uri, error->message,
          c->message_part);
  }
}

static void
test_parse_null (void)
{
  g_autoptr (GError) error = NULL;

  g_assert_null (noom_uri_parse (NULL, &error));
  g_assert_error (error, G_URI_ERROR, G_URI_ERROR_FAILED);
}

/* A token is a credential: no error message may repeat it */
static void
test_error_hides_token (void)
{
  static const gchar *uris[] = {
    "noom://h:0/demo?token=SECRETTOKEN",
    "noom://h/%01?token=SECRETTOKEN",
    "noom://h/demo?token=SECRETTOKEN&bogus=1",
    "noom://h/demo?token=SECRETTOKEN&token=SECRETTOKEN",
    "noom://h/demo?token=SECRETTOKEN%zz",
    "noom://h:x/demo?token=SECRETTOKEN",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (uris); i++) {
    g_autoptr (GError) error = NULL;

    g_assert_null (noom_uri_parse (uris[i], &error));
    g_assert_nonnull (error);
    g_assert_null (strstr (error->message, "SECRETTOKEN"));
  }
}

static void
assert_uri_equal (const NoomUri * a, const NoomUri * b)
{
  g_assert_cmpint (a->tls, ==, b->tls);
  g_assert_cmpstr (a->host, ==, b->host);
  g_assert_cmpuint (a->port, ==, b->port);
  g_assert_cmpstr (a->room, ==, b->room);
  g_assert_cmpstr (a->nickname, ==, b->nickname);
  g_assert_cmpstr (a->token, ==, b->token);
}

static void
test_round_trip (void)
{
  static const gchar *uris[] = {
    "noom://localhost/demo",
    "nooms://example.org:443/x?token=a%2Bb%3D%26c",
    "noom://[fe80::1%25eth0]:1/r",
    "noom://127.0.0.1:65535/caf%C3%A9%20%2F%3F%23%25%26+!@:;=,?nickname="
        "a%20%26%3D%2B%23b",
    "noom://h/%E2%98%95?nickname=%E2%98%95&token=t",
    "noom://h/a'b(c)*d$e",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (uris); i++) {
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomUri) a = NULL;
    g_autoptr (NoomUri) b = NULL;
    g_autoptr (NoomUri) c = NULL;
    g_autofree gchar *s1 = NULL;
    g_autofree gchar *s2 = NULL;

    g_test_message ("round trip: %s", uris[i]);
    a = noom_uri_parse (uris[i], &error);
    g_assert_no_error (error);
    s1 = noom_uri_to_string (a);
    b = noom_uri_parse (s1, &error);
    g_assert_no_error (error);
    assert_uri_equal (a, b);
    /* the canonical form is a fixed point */
    s2 = noom_uri_to_string (b);
    g_assert_cmpstr (s1, ==, s2);
    c = noom_uri_copy (b);
    assert_uri_equal (b, c);
  }
}

static void
test_to_string (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (NoomUri) uri =
      noom_uri_parse ("nooms://Example.org/caf%c3%a9?token=t0k&nickname=a+b",
      &error);
  g_autofree gchar *s = NULL;
  g_autofree gchar *ws = NULL;
  g_autofree gchar *http = NULL;

  g_assert_no_error (error);
  s = noom_uri_to_string (uri);
  g_assert_cmpstr (s, ==,
      "nooms://example.org:8080/caf%C3%A9?nickname=a%20b&token=t0k");
  ws = noom_uri_get_websocket_url (uri);
  g_assert_cmpstr (ws, ==,
      "wss://example.org:8080/socket.io/?EIO=4&transport=websocket");
  http = noom_uri_get_http_url (uri);
  g_assert_cmpstr (http, ==, "https://example.org:8080");
}

/* Mutated URIs: the parser never crashes, and whatever it accepts
 * round-trips through the canonical form */
static void
test_mutations (void)
{
  static const gchar *seeds[] = {
    "noom://localhost:8080/demo?nickname=kim&token=abc",
    "nooms://[::1]:443/caf%C3%A9%2Fx?token=a%2Bb",
    "noom://h/a%20b?nickname=J%C3%BCrgen+L",
  };
  static const gchar alphabet[] = "%/?#&=+:@[]. aZ09\x01\xc3\xa9\x7f";
  guint i, accepted = 0;

  for (i = 0; i < 20000; i++) {
    g_autofree gchar *s =
        g_strdup (seeds[g_test_rand_int_range (0, G_N_ELEMENTS (seeds))]);
    g_autoptr (GError) error = NULL;
    g_autoptr (NoomUri) a = NULL;
    guint n = g_test_rand_int_range (1, 4), k;

    for (k = 0; k < n; k++) {
      gsize len = strlen (s);
      gsize at = g_test_rand_int_range (0, len);

      if (g_test_rand_int_range (0, 8) == 0)
        s[at] = '\0';
      else
        s[at] = alphabet[g_test_rand_int_range (0, sizeof (alphabet) - 1)];
      if (*s == '\0')
        break;
    }
    a = noom_uri_parse (s, &error);
    if (a == NULL) {
      g_assert_nonnull (error);
      g_assert_true (error->domain == G_URI_ERROR);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      continue;
    }
    accepted++;
    g_assert_no_error (error);
    {
      g_autofree gchar *s1 = noom_uri_to_string (a);
      g_autoptr (NoomUri) b = noom_uri_parse (s1, &error);
      g_autofree gchar *s2 = NULL;

      if (b == NULL)
        g_error ("%s was accepted, but its canonical form %s is not: %s", s,
            s1, error->message);
      assert_uri_equal (a, b);
      s2 = noom_uri_to_string (b);
      g_assert_cmpstr (s1, ==, s2);
    }
  }
  g_test_message ("%u of 20000 mutations accepted", accepted);
}

/* One name rule: a room name or nickname passes the URI exactly when it
 * passes the server's (noom_room_validate_name), so no element is handed
 * a URI the server then refuses with bad_name. */
static void
test_server_name_rule (void)
{
  static const gchar *const names[] = {
    "demo", "caf\303\251", " a ", "\342\200\213", "\357\273\277",
    "\342\200\213a", "\357\273\277 \342\200\213", "\t", "\302\240",
    "\343\200\200", "a\302\205b", "a\177", "\360\237\230\200",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    g_autofree gchar *escaped = g_uri_escape_string (names[i], NULL, FALSE);
    g_autofree gchar *room_uri = g_strdup_printf ("noom://h/%s", escaped);
    g_autofree gchar *nick_uri =
        g_strdup_printf ("noom://h/demo?nickname=%s", escaped);
    g_autoptr (NoomUri) room = NULL;
    g_autoptr (NoomUri) nick = NULL;
    gboolean server_ok = noom_room_validate_name (names[i], -1,
        NOOM_ROOM_DEFAULT_MAX_ROOM_NAME, "name", NULL);

    g_test_message ("name rule: %s", room_uri);
    room = noom_uri_parse (room_uri, NULL);
    nick = noom_uri_parse (nick_uri, NULL);
    g_assert_cmpint (room != NULL, ==, server_ok);
    g_assert_cmpint (nick != NULL, ==, server_ok);
  }
}

static void
test_copy_free_null (void)
{
  g_assert_null (noom_uri_copy (NULL));
  noom_uri_free (NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/uri/parse/minimal", test_parse_minimal);
  g_test_add_func ("/uri/parse/full", test_parse_full);
  g_test_add_func ("/uri/parse/scheme-case", test_parse_scheme_case);
  g_test_add_func ("/uri/parse/ipv6", test_parse_ipv6);
  g_test_add_func ("/uri/parse/unicode", test_parse_unicode);
  g_test_add_func ("/uri/parse/room-length", test_room_length);
  g_test_add_func ("/uri/parse/bad", test_parse_bad);
  g_test_add_func ("/uri/parse/null", test_parse_null);
  g_test_add_func ("/uri/parse/server-name-rule", test_server_name_rule);
  g_test_add_func ("/uri/parse/error-hides-token", test_error_hides_token);
  g_test_add_func ("/uri/round-trip", test_round_trip);
  g_test_add_func ("/uri/to-string", test_to_string);
  g_test_add_func ("/uri/copy-free-null", test_copy_free_null);
  g_test_add_func ("/uri/mutations", test_mutations);

  return g_test_run ();
}
