/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Unit tests of the room model (lib/noom-room.[ch]), with the rules it
 * applies: the §2 names, kinds and error codes (lib/noom-protocol.[ch])
 * and the offer rule (lib/noom-offer.[ch]).
 */
#include <string.h>

#include <json-glib/json-glib.h>

#include "noom-offer.h"
#include "noom-room.h"

static void
expect_name (const gchar * name, gssize len, guint max, gint code)
{
  g_autoptr (GError) error = NULL;
  gboolean ok = noom_room_validate_name (name, len, max, "room name", &error);

  if (code < 0) {
    g_assert_no_error (error);
    g_assert_true (ok);
  } else {
    g_assert_false (ok);
    g_assert_error (error, NOOM_ROOM_ERROR, code);
    g_assert_true (g_str_has_prefix (error->message, "room name "));
  }
}

static void
test_validate_name (void)
{
  g_autofree gchar *max64 = g_strnfill (64, 'a');
  g_autofree gchar *over64 = g_strnfill (65, 'a');
  GString *hangul = g_string_new (NULL);
  guint i;

  expect_name ("demo", -1, 64, -1);
  expect_name ("a b", -1, 64, -1);
  expect_name (" x ", -1, 64, -1);
  expect_name ("ㅠㅠ", -1, 64, -1);
  expect_name ("😀", -1, 1, -1);
  expect_name (max64, -1, 64, -1);
  expect_name (over64, -1, 64, NOOM_ROOM_ERROR_NAME_TOO_LONG);

  /* Limits count characters, not bytes: 64 three-byte characters pass. */
  for (i = 0; i < 64; i++)
    g_string_append (hangul, "방");
  expect_name (hangul->str, -1, 64, -1);
  g_string_append (hangul, "방");
  expect_name (hangul->str, -1, 64, NOOM_ROOM_ERROR_NAME_TOO_LONG);
  g_string_free (hangul, TRUE);

  expect_name ("", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name (NULL, -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("   ", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("\xe3\x80\x80", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);       /* U+3000 */
  expect_name ("demo\x01", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("a\tb", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("a\nb", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("a\x7f", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("a\xc2\x85", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);  /* U+0085 */
  expect_name ("a\xc2\x9f", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);  /* U+009F */
  expect_name ("a\xc2\xa0z", -1, 64, -1);       /* U+00A0 is fine */
  expect_name ("a\0b", 3, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("\xff\xfe", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("\xc3", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);
  expect_name ("\xed\xa0\x80", -1, 64, NOOM_ROOM_ERROR_BAD_NAME);       /* surrogate */
}

static void
test_validate_message (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree gchar *big = g_strnfill (4096, 'x');
  g_autofree gchar *over = g_strnfill (4097, 'x');

  g_assert_true (noom_room_validate_message ("hi <b>all</b>", -1, 4096, NULL));
  g_assert_true (noom_room_validate_message ("line\nbreak\ttab", -1, 4096,
          NULL));
  g_assert_true (noom_room_validate_message (big, -1, 4096, NULL));
  g_assert_false (noom_room_validate_message (over, -1, 4096, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_NAME_TOO_LONG);
  g_clear_error (&error);
  g_assert_false (noom_room_validate_message ("", -1, 4096, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (noom_room_validate_message ("a\0b", 3, 4096, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (noom_room_validate_message ("\xff", -1, 4096, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (noom_room_validate_message (NULL, -1, 4096, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_ARGUMENT);
}

static void
test_error_codes (void)
{
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_BAD_ARGUMENT), ==,
      "bad_argument");
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_BAD_NAME), ==,
      "bad_name");
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_NAME_TOO_LONG), ==,
      "name_too_long");
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_ROOM_FULL), ==,
      "room_full");
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_NOT_IN_ROOM), ==,
      "not_in_room");
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_UNKNOWN_PEER), ==,
      "unknown_peer");
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_UNKNOWN_EVENT), ==,
      "unknown_event");
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_RATE_LIMITED), ==,
      "rate_limited");
  g_assert_cmpstr (noom_room_error_to_code (NOOM_ROOM_ERROR_FORBIDDEN), ==,
      "forbidden");
}

static void
test_kinds (void)
{
  NoomKind k;
  NoomMediaFlags f;

  for (k = 0; k <= NOOM_KIND_LAST; k++) {
    NoomKind back;

    g_assert_true (noom_kind_from_string (noom_kind_to_string (k), &back));
    g_assert_cmpint (back, ==, k);
  }
  g_assert_false (noom_kind_from_string ("Browser", &k));
  g_assert_false (noom_kind_from_string ("", &k));
  g_assert_false (noom_kind_from_string (NULL, &k));
  g_assert_cmpint (noom_kind_default_sends (NOOM_KIND_BROWSER), ==,
      NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);
  g_assert_cmpint (noom_kind_default_sends (NOOM_KIND_PUBLISHER), ==,
      NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);
  g_assert_cmpint (noom_kind_default_sends (NOOM_KIND_SUBSCRIBER), ==, 0);
  g_assert_cmpint (noom_kind_default_sends (NOOM_KIND_RECORDER), ==, 0);
  g_assert_true (noom_media_from_string ("audio", &f));
  g_assert_cmpint (f, ==, NOOM_MEDIA_AUDIO);
  g_assert_true (noom_media_from_string ("video", &f));
  g_assert_cmpint (f, ==, NOOM_MEDIA_VIDEO);
  g_assert_false (noom_media_from_string ("data", &f));
}

/* The offer rule, exhaustively: every pair of kinds, every combination of
 * sends (the defaults of the kinds and every subset), both join orders.
 * The properties that matter: exactly one side of a connected pair offers
 * (no glare), the newcomer never offers, both sides agree on whether to
 * connect, and the directions of the two sides mirror each other. */
static NoomDirection
mirror (NoomDirection d)
{
  switch (d) {
    case NOOM_DIRECTION_SENDONLY:
      return NOOM_DIRECTION_RECVONLY;
    case NOOM_DIRECTION_RECVONLY:
      return NOOM_DIRECTION_SENDONLY;
    default:
      return d;
  }
}

static NoomDirection
expected_direction (NoomMediaFlags local, NoomMediaFlags remote,
    NoomMediaFlags m)
{
  if ((local & m) && (remote & m))
    return NOOM_DIRECTION_SENDRECV;
  if (local & m)
    return NOOM_DIRECTION_SENDONLY;
  if (remote & m)
    return NOOM_DIRECTION_RECVONLY;
  return NOOM_DIRECTION_NONE;
}

static void
check_pair (NoomMediaFlags first_sends, NoomMediaFlags second_sends)
{
  NoomOfferPlan a, b;           /* a: was first; b: newcomer */
  gboolean any = (first_sends | second_sends) != 0;

  g_assert_cmpint (noom_offer_plan (TRUE, first_sends, second_sends, &a), ==,
      any);
  g_assert_cmpint (noom_offer_plan (FALSE, second_sends, first_sends, &b), ==,
      any);
  g_assert_cmpint (a.connect, ==, b.connect);
  if (any) {
    g_assert_true (a.offer);
    g_assert_false (b.offer);
  } else {
    g_assert_false (a.offer);
    g_assert_false (b.offer);
  }
  g_assert_cmpint (a.audio, ==, expected_direction (first_sends, second_sends,
          NOOM_MEDIA_AUDIO));
  g_assert_cmpint (a.video, ==, expected_direction (first_sends, second_sends,
          NOOM_MEDIA_VIDEO));
  g_assert_cmpint (b.audio, ==, mirror (a.audio));
  g_assert_cmpint (b.video, ==, mirror (a.video));
}

static void
test_offer_rule_all_kinds (void)
{
  NoomKind k1, k2;
  NoomMediaFlags s1, s2;
  NoomOfferPlan p;

  for (k1 = 0; k1 <= NOOM_KIND_LAST; k1++)
    for (k2 = 0; k2 <= NOOM_KIND_LAST; k2++) {
      check_pair (noom_kind_default_sends (k1), noom_kind_default_sends (k2));
      check_pair (noom_kind_default_sends (k2), noom_kind_default_sends (k1));
    }
  for (s1 = 0; s1 <= 3; s1++)
    for (s2 = 0; s2 <= 3; s2++)
      check_pair (s1, s2);

  /* Concrete cases from docs/protocol.md §7. */
  noom_offer_plan (TRUE, 0, 0, &p);     /* two subscribers */
  g_assert_false (p.connect);
  noom_offer_plan (TRUE, 0, NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO, &p);
  g_assert_true (p.connect);    /* subscriber first, publisher joins */
  g_assert_true (p.offer);
  g_assert_cmpint (p.audio, ==, NOOM_DIRECTION_RECVONLY);
  g_assert_cmpint (p.video, ==, NOOM_DIRECTION_RECVONLY);
  noom_offer_plan (TRUE, NOOM_MEDIA_VIDEO,
      NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO, &p);
  g_assert_cmpint (p.audio, ==, NOOM_DIRECTION_RECVONLY);
  g_assert_cmpint (p.video, ==, NOOM_DIRECTION_SENDRECV);
  g_assert_cmpstr (noom_direction_to_string (p.video), ==, "sendrecv");
  g_assert_cmpstr (noom_direction_to_string (p.audio), ==, "recvonly");
}

/* Within a room, the model's join order tells both sides who was first:
 * for any sequence of joins of any kinds, each pair has exactly one offerer
 * and it is the older member. */
static void
test_offer_rule_join_orders (void)
{
  NoomRoomSet *set = noom_room_set_new (NULL);
  NoomRoomMember *m[4];
  guint order, i, j;
  NoomRoom *room = NULL;

  /* Every permutation of the four kinds (24 join orders). */
  for (order = 0; order < 24; order++) {
    guint perm[4] = { 0, 1, 2, 3 }, rest = order;

    for (i = 0; i < 4; i++) {
      guint pick = i + rest % (4 - i), t;

      rest /= 4 - i;
      t = perm[i];
      perm[i] = perm[pick];
      perm[pick] = t;
    }
    for (i = 0; i < 4; i++) {
      gboolean already;
      gchar id[8];

      g_snprintf (id, sizeof (id), "p%u", i);
      m[i] = noom_room_member_new (id);
      noom_room_member_set_kind (m[i], perm[i],
          noom_kind_default_sends (perm[i]));
      g_assert_true (noom_room_set_check_join (set, m[i], "r", &already, NULL));
      room = noom_room_set_join (set, m[i], "r");
    }
    for (i = 0; i < 4; i++)
      for (j = 0; j < 4; j++) {
        NoomOfferPlan pi, pj;

        if (i == j)
          continue;
        noom_offer_plan (m[i]->join_seq < m[j]->join_seq, m[i]->sends,
            m[j]->sends, &pi);
        noom_offer_plan (m[j]->join_seq < m[i]->join_seq, m[j]->sends,
            m[i]->sends, &pj);
        g_assert_cmpint (pi.connect, ==, pj.connect);
        if (pi.connect)
          g_assert_cmpint (pi.offer + pj.offer, ==, 1);
        else
          g_assert_cmpint (pi.offer + pj.offer, ==, 0);
        if (pi.offer)
          g_assert_true (i < j);
      }
    g_assert_cmpuint (noom_room_get_count (room), ==, 4);
    for (i = 0; i < 4; i++) {
      noom_room_set_leave (set, m[i]);
      noom_room_member_free (m[i]);
    }
    g_assert_cmpuint (noom_room_set_get_n_rooms (set), ==, 0);
  }
  noom_room_set_free (set);
}

static void
test_rooms (void)
{
  NoomRoomLimits limits;
  NoomRoomSet *set;
  NoomRoomMember *a, *b, *c;
  NoomRoom *room;
  GPtrArray *list;
  gboolean already;
  guint64 v;
  g_autoptr (GError) error = NULL;

  noom_room_limits_init (&limits);
  limits.max_room_size = 2;
  set = noom_room_set_new (&limits);
  g_assert_cmpuint (noom_room_set_get_limits (set)->max_room_size, ==, 2);

  a = noom_room_member_new ("aaaaaaaaaaaaaaaaaaaa");
  b = noom_room_member_new ("bbbbbbbbbbbbbbbbbbbb");
  c = noom_room_member_new ("cccccccccccccccccccc");
  g_assert_cmpstr (a->id, ==, "aaaaaaaaaaaaaaaaaaaa");
  g_assert_cmpstr (noom_room_member_get_nickname (a), ==, "Anon");
  g_assert_cmpint (a->kind, ==, NOOM_KIND_BROWSER);
  g_assert_cmpint (a->sends, ==, NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);

  v = noom_room_set_get_list_version (set);
  g_assert_true (noom_room_set_check_join (set, a, "demo", &already, NULL));
  g_assert_false (already);
  room = noom_room_set_join (set, a, "demo");
  g_assert_true (a->room == room);
  g_assert_cmpstr (noom_room_get_name (room), ==, "demo");
  g_assert_cmpuint (noom_room_get_count (room), ==, 1);
  g_assert_cmpuint (noom_room_set_get_list_version (set), >, v);

  /* Re-entering one's own room is not an error, and never "full". */
  g_assert_true (noom_room_set_check_join (set, a, "demo", &already, NULL));
  g_assert_true (already);

  g_assert_true (noom_room_set_check_join (set, b, "demo", &already, NULL));
  noom_room_set_join (set, b, "demo");
  g_assert_true (noom_room_get_member (room, 0) == a);
  g_assert_true (noom_room_get_member (room, 1) == b);
  g_assert_true (a->join_seq < b->join_seq);
  g_assert_true (noom_room_find_member (room, b->id) == b);
  g_assert_null (noom_room_find_member (room, c->id));
  g_assert_true (noom_room_set_check_join (set, a, "demo", &already, NULL));

  /* Full */
  g_assert_false (noom_room_set_check_join (set, c, "demo", &already, &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_ROOM_FULL);
  g_assert_cmpstr (error->message, ==,
      "room \"demo\" is full (2 participants)");
  g_clear_error (&error);
  g_assert_false (noom_room_set_check_join (set, c, "de\x01mo", &already,
          &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME);
  g_clear_error (&error);

  noom_room_set_join (set, c, "other");
  list = noom_room_set_list (set);
  g_assert_cmpuint (list->len, ==, 2);
  g_assert_cmpstr (noom_room_get_name (list->pdata[0]), ==, "demo");
  g_assert_cmpuint (noom_room_get_count (list->pdata[0]), ==, 2);
  g_assert_cmpstr (noom_room_get_name (list->pdata[1]), ==, "other");
  g_ptr_array_unref (list);

  /* Leave keeps the order of the others; empty rooms vanish. */
  v = noom_room_set_get_list_version (set);
  g_assert_false (noom_room_set_leave (set, a));
  g_assert_null (a->room);
  g_assert_cmpuint (noom_room_set_get_list_version (set), >, v);
  g_assert_cmpuint (noom_room_get_count (room), ==, 1);
  g_assert_true (noom_room_get_member (room, 0) == b);
  g_assert_true (noom_room_set_leave (set, c));
  g_assert_null (noom_room_set_lookup (set, "other"));
  g_assert_cmpuint (noom_room_set_get_n_rooms (set), ==, 1);

  /* A rejoin makes a newcomer: it is now after b. */
  noom_room_set_join (set, a, "demo");
  g_assert_true (noom_room_get_member (room, 1) == a);
  g_assert_true (a->join_seq > b->join_seq);

  noom_room_set_leave (set, a);
  noom_room_set_leave (set, b);
  g_assert_cmpuint (noom_room_set_get_n_rooms (set), ==, 0);
  list = noom_room_set_list (set);
  g_assert_cmpuint (list->len, ==, 0);
  g_ptr_array_unref (list);

  noom_room_member_free (a);
  noom_room_member_free (b);
  noom_room_member_free (c);
  noom_room_set_free (set);
}

static void
test_list_sorted (void)
{
  const gchar *names[] = { "zeta", "Alpha", "beta", "방", "alpha", "0" };
  const gchar *sorted[] = { "0", "Alpha", "alpha", "beta", "zeta", "방" };
  NoomRoomSet *set = noom_room_set_new (NULL);
  NoomRoomMember *m[G_N_ELEMENTS (names)];
  GPtrArray *list;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    m[i] = noom_room_member_new ("x");
    noom_room_set_join (set, m[i], names[i]);
  }
  list = noom_room_set_list (set);
  g_assert_cmpuint (list->len, ==, G_N_ELEMENTS (sorted));
  for (i = 0; i < list->len; i++)
    g_assert_cmpstr (noom_room_get_name (list->pdata[i]), ==, sorted[i]);
  g_ptr_array_unref (list);
  for (i = 0; i < G_N_ELEMENTS (names); i++) {
    g_assert_true (noom_room_set_leave (set, m[i]));
    noom_room_member_free (m[i]);
  }
  noom_room_set_free (set);
}

static void
test_nickname (void)
{
  NoomRoomLimits limits;
  NoomRoomMember m;
  gboolean changed;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *n32 = g_strnfill (32, 'n');
  g_autofree gchar *n33 = g_strnfill (33, 'n');

  noom_room_limits_init (&limits);
  noom_room_member_init (&m, "id");
  g_assert_true (noom_room_member_set_nickname (&m, "kim", &limits, &changed,
          NULL));
  g_assert_true (changed);
  g_assert_cmpstr (noom_room_member_get_nickname (&m), ==, "kim");
  g_assert_true (noom_room_member_set_nickname (&m, "kim", &limits, &changed,
          NULL));
  g_assert_false (changed);
  g_assert_true (noom_room_member_set_nickname (&m, n32, &limits, &changed,
          NULL));
  g_assert_false (noom_room_member_set_nickname (&m, n33, &limits, &changed,
          &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_NAME_TOO_LONG);
  g_assert_true (g_str_has_prefix (error->message, "nickname "));
  g_clear_error (&error);
  g_assert_false (noom_room_member_set_nickname (&m, " ", &limits, &changed,
          &error));
  g_assert_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_BAD_NAME);
  /* A failed change keeps the old nickname. */
  g_assert_cmpstr (noom_room_member_get_nickname (&m), ==, n32);
  g_assert_true (noom_room_member_set_nickname (&m, "Anon", &limits, &changed,
          NULL));
  g_assert_true (changed);
  g_assert_null (m.nickname);   /* the default costs no allocation */
  noom_room_member_clear (&m);

  /* Configurable limit */
  limits.max_nickname = 2;
  noom_room_member_init (&m, "id");
  g_assert_false (noom_room_member_set_nickname (&m, "abc", &limits, NULL,
          NULL));
  g_assert_true (noom_room_member_set_nickname (&m, "ab", &limits, NULL, NULL));
  noom_room_member_clear (&m);
}

/* A client that keeps sending while limited floods, though the refill
 * lets some of its events through; one that pauses does not. */
static void
test_rate_flood (void)
{
  NoomRateLimit rl;
  gint64 t = 1000000;
  guint i, ok = 0, limited = 0;
  NoomRateVerdict v = NOOM_RATE_OK;

  /* 100 events a second against 5/s, burst 10: flooding once 100 were
   * dropped in one episode, about a second in. */
  noom_rate_limit_init (&rl, 10, t);
  for (i = 0; i < 1000 && v != NOOM_RATE_FLOODING; i++, t += 10000) {
    v = noom_rate_limit_check (&rl, 5, 10, t);
    if (v == NOOM_RATE_OK)
      ok++;
    else if (v == NOOM_RATE_LIMITED)
      limited++;
  }
  g_assert_cmpint (v, ==, NOOM_RATE_FLOODING);
  g_assert_cmpuint (limited, ==, NOOM_RATE_FLOOD_BURSTS * 10 - 1);
  g_assert_cmpuint (ok, >, 10);         /* the refill got some through */

  /* Bursts with quiet gaps between them: limited, never flooding. */
  noom_rate_limit_init (&rl, 10, t);
  for (i = 0; i < 50; i++) {
    guint j;

    for (j = 0; j < 30; j++)
      g_assert_cmpint (noom_rate_limit_check (&rl, 5, 10, t), !=,
          NOOM_RATE_FLOODING);
    g_assert_cmpuint (rl.dropped, >, 0);
    t += NOOM_RATE_QUIET_US;
  }
}

static void
test_rate_limit (void)
{
  NoomRateLimit rl;
  gint64 t = 1000000;
  guint i;

  noom_rate_limit_init (&rl, 5, t);
  for (i = 0; i < 5; i++)
    g_assert_true (noom_rate_limit_take (&rl, 10, 5, t));
  g_assert_false (noom_rate_limit_take (&rl, 10, 5, t));
  /* 10/s: one token every 100 ms */
  g_assert_false (noom_rate_limit_take (&rl, 10, 5, t + 50000));
  g_assert_true (noom_rate_limit_take (&rl, 10, 5, t + 100000));
  g_assert_false (noom_rate_limit_take (&rl, 10, 5, t + 100000));
  /* Never more than the burst, however long the pause. */
  t += 100 * G_USEC_PER_SEC;
  for (i = 0; i < 5; i++)
    g_assert_true (noom_rate_limit_take (&rl, 10, 5, t));
  g_assert_false (noom_rate_limit_take (&rl, 10, 5, t));
  /* A clock that goes backwards does not mint tokens. */
  g_assert_false (noom_rate_limit_take (&rl, 10, 5, t - G_USEC_PER_SEC));
}

static NoomMediaFlags
sends_of (JsonObject * c, const gchar * member)
{
  JsonArray *a = json_object_get_array_member (c, member);
  NoomMediaFlags flags = NOOM_MEDIA_NONE, f;
  guint i;

  for (i = 0; i < json_array_get_length (a); i++) {
    g_assert_true (noom_media_from_string (json_array_get_string_element (a,
                i), &f));
    flags |= f;
  }
  return flags;
}

/* The shared table (tests/offer-rule/cases.json) that the web client's
 * offerPlan() passes too: every pair of kinds in both join orders, every
 * pair of sends. */
static void
test_offer_rule_table (void)
{
  const gchar *file = g_getenv ("NOOM_OFFER_RULE_CASES");
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *cases;
  guint i, kinds = 0;

  if (!file) {
    g_test_skip ("NOOM_OFFER_RULE_CASES not set (run through meson test)");
    return;
  }
  g_assert_true (json_parser_load_from_file (parser, file, &error));
  g_assert_no_error (error);
  cases = json_object_get_array_member (json_node_get_object
      (json_parser_get_root (parser)), "cases");
  g_assert_cmpuint (json_array_get_length (cases), >, 0);
  for (i = 0; i < json_array_get_length (cases); i++) {
    JsonObject *c = json_array_get_object_element (cases, i);
    NoomMediaFlags local = sends_of (c, "local_sends");
    NoomMediaFlags remote = sends_of (c, "remote_sends");
    NoomOfferPlan plan;

    /* a kind's row lists that kind's default sends */
    if (json_object_has_member (c, "local_kind")) {
      NoomKind lk, rk;

      g_assert_true (noom_kind_from_string (json_object_get_string_member (c,
                  "local_kind"), &lk));
      g_assert_true (noom_kind_from_string (json_object_get_string_member (c,
                  "remote_kind"), &rk));
      g_assert_cmpint (noom_kind_default_sends (lk), ==, local);
      g_assert_cmpint (noom_kind_default_sends (rk), ==, remote);
      kinds++;
    }
    g_assert_cmpint (noom_offer_plan (json_object_get_boolean_member (c,
                "local_was_first"), local, remote, &plan), ==,
        json_object_get_boolean_member (c, "connect"));
    g_assert_cmpint (plan.connect, ==, json_object_get_boolean_member (c,
            "connect"));
    g_assert_cmpint (plan.offer, ==, json_object_get_boolean_member (c,
            "offer"));
    g_assert_cmpstr (noom_direction_to_string (plan.audio), ==,
        json_object_get_string_member (c, "audio"));
    g_assert_cmpstr (noom_direction_to_string (plan.video), ==,
        json_object_get_string_member (c, "video"));
  }
  g_assert_cmpuint (kinds, ==, (NOOM_KIND_LAST + 1) * (NOOM_KIND_LAST + 1) * 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/room/validate-name", test_validate_name);
  g_test_add_func ("/room/validate-message", test_validate_message);
  g_test_add_func ("/room/error-codes", test_error_codes);
  g_test_add_func ("/room/kinds", test_kinds);
  g_test_add_func ("/room/offer-rule-table", test_offer_rule_table);
  g_test_add_func ("/room/offer-rule/all-kinds", test_offer_rule_all_kinds);
  g_test_add_func ("/room/offer-rule/join-orders", test_offer_rule_join_orders);
  g_test_add_func ("/room/rooms", test_rooms);
  g_test_add_func ("/room/list-sorted", test_list_sorted);
  g_test_add_func ("/room/nickname", test_nickname);
  g_test_add_func ("/room/rate-limit", test_rate_limit);
  g_test_add_func ("/room/rate-flood", test_rate_flood);
  return g_test_run ();
}
