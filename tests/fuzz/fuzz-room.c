/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fuzz-room: event arguments (lib/noom-event.h) against the room model
 * (lib/noom-room.h).
 *
 * The input is a script, one event per line: the first byte of a line
 * picks one of four connections, the rest is the Socket.IO text the
 * connection sends, e.g.
 *   a2["join_room","demo",{"nickname":"alice","sends":["video"]}]
 *   b2["new_message","hi","demo"]
 * Each event goes the server's way: noom_sio_packet_parse(), then
 * noom_event_args_parse() (the very function noom-server's on_event
 * calls), then noom_event_args_check_content() and the lib/noom-room calls
 * the server's handlers make (docs/protocol.md §5: one room per
 * connection, relays only into one's own room, `to` must be a member).
 * Only the state checks of tools/noom-server/noom-room-server.c (tokens,
 * membership) are mirrored here, not the argument checks.
 *
 * Checked for every event: a refused one fails with a NOOM_ROOM_ERROR code
 * the server may send for arguments and a valid UTF-8 message (unknown
 * events exactly when the name is not one of §5's, clipped); an accepted
 * one's NoomEventArgs hold what its type promises (strings where strings
 * are due, a known kind, audio/video only, names that pass §2) and parsing
 * again gives the same result.  After every event the model's invariants
 * are checked: rooms sorted and never empty, counts within the limit,
 * every member's room holds it, the list version moves exactly when the
 * list does, a refused join changes nothing, the offer rule (§7) is
 * complementary for every pair.  Small limits make the limits reachable.
 */
#include <string.h>

#include "noom-event.h"
#include "noom-offer.h"
#include "noom-packet.h"
#include "noom-room.h"
#include "fuzz.h"

#define N_MEMBERS 4
#define MAX_LINES 256

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  fuzz_init_glib ();
  return 0;
}

typedef struct {
  NoomRoomSet *set;
  NoomRoomLimits limits;
  NoomRoomMember members[N_MEMBERS];
  NoomRateLimit rate[N_MEMBERS];
  gint64 now_us;
} State;

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

static void
check_offer_rule (const NoomRoomMember * older, const NoomRoomMember * newer)
{
  NoomOfferPlan a, b;
  gboolean ca, cb;

  ca = noom_offer_plan (TRUE, older->sends, newer->sends, &a);
  cb = noom_offer_plan (FALSE, newer->sends, older->sends, &b);
  FUZZ_CHECK (ca == a.connect && cb == b.connect);
  FUZZ_CHECK (a.connect == b.connect);
  FUZZ_CHECK (a.connect == ((older->sends | newer->sends) != 0));
  if (!a.connect)
    return;
  /* The one that was first offers, the other answers. */
  FUZZ_CHECK (a.offer && !b.offer);
  FUZZ_CHECK (a.audio == mirror (b.audio));
  FUZZ_CHECK (a.video == mirror (b.video));
}

static void
check_invariants (State * s)
{
  g_autoptr (GPtrArray) list = noom_room_set_list (s->set);
  guint i, j, in_rooms = 0, counted = 0;

  FUZZ_CHECK (list->len == noom_room_set_get_n_rooms (s->set));
  for (i = 0; i < list->len; i++) {
    NoomRoom *room = list->pdata[i];
    guint n = noom_room_get_count (room);

    if (i > 0)
      FUZZ_CHECK (strcmp (noom_room_get_name (list->pdata[i - 1]),
              noom_room_get_name (room)) < 0);
    FUZZ_CHECK (n >= 1 && n <= s->limits.max_room_size);
    FUZZ_CHECK (noom_room_set_lookup (s->set, noom_room_get_name (room)) ==
        room);
    FUZZ_CHECK (noom_room_validate_name (noom_room_get_name (room), -1,
            s->limits.max_room_name, "room name", NULL));
    for (j = 0; j < n; j++) {
      NoomRoomMember *m = noom_room_get_member (room, j);

      FUZZ_CHECK (m->room == room);
      FUZZ_CHECK (noom_room_find_member (room, m->id) == m);
      if (j > 0) {
        NoomRoomMember *prev = noom_room_get_member (room, j - 1);

        FUZZ_CHECK (prev->join_seq < m->join_seq);
        check_offer_rule (prev, m);
      }
    }
    counted += n;
  }
  for (i = 0; i < N_MEMBERS; i++) {
    const NoomRoomMember *m = &s->members[i];
    const gchar *nick = noom_room_member_get_nickname (m);

    if (m->room)
      in_rooms++;
    FUZZ_CHECK (nick != NULL);
    FUZZ_CHECK (noom_room_validate_name (nick, -1, s->limits.max_nickname,
            "nickname", NULL));
    FUZZ_CHECK (m->kind <= NOOM_KIND_LAST);
    FUZZ_CHECK ((m->sends & ~(NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO)) == 0);
  }
  FUZZ_CHECK (in_rooms == counted);
}

static gboolean
is_name (const gchar * name, guint max, const gchar * what)
{
  return noom_room_validate_name (name, -1, max, what, NULL);
}

/* A refused event: an argument error the server may send as it is. */
static void
check_refused (const gchar * event, const GError * error)
{
  gboolean known = FALSE;
  guint i;

  for (i = 0; i <= NOOM_EVENT_LAST; i++)
    if (strcmp (event, noom_event_type_to_string (i)) == 0)
      known = TRUE;
  if (strcmp (event, "enter_room") == 0)
    known = TRUE;

  FUZZ_CHECK (error != NULL && error->domain == NOOM_ROOM_ERROR);
  FUZZ_CHECK (error->code == NOOM_ROOM_ERROR_BAD_ARGUMENT
      || error->code == NOOM_ROOM_ERROR_BAD_NAME
      || error->code == NOOM_ROOM_ERROR_NAME_TOO_LONG
      || error->code == NOOM_ROOM_ERROR_UNKNOWN_EVENT);
  FUZZ_CHECK ((error->code == NOOM_ROOM_ERROR_UNKNOWN_EVENT) == !known);
  /* The message goes into JSON as it is. */
  FUZZ_CHECK (error->message[0] != '\0');
  FUZZ_CHECK (g_utf8_validate (error->message, -1, NULL));
  if (!known) {
    /* unknown event "<64 characters>…" */
    FUZZ_CHECK (g_str_has_prefix (error->message, "unknown event \""));
    FUZZ_CHECK (g_utf8_strlen (error->message, -1) <= 15 + 64 + 2);
  }
}

/* An accepted event: the members its type promises. */
static void
check_accepted (State * s, const gchar * event, JsonArray * args,
    const NoomEventArgs * a)
{
  NoomEventArgs again;
  const gchar *name = noom_event_type_to_string (a->type);

  FUZZ_CHECK (name != NULL);
  FUZZ_CHECK (strcmp (event, name) == 0 || (a->type == NOOM_EVENT_JOIN
          && strcmp (event, "enter_room") == 0));

  switch (a->type) {
    case NOOM_EVENT_NEW_MESSAGE:
      FUZZ_CHECK (a->text != NULL && a->room != NULL);
      FUZZ_CHECK (a->payload == NULL && a->to == NULL && a->nickname == NULL);
      break;
    case NOOM_EVENT_ICE:
      FUZZ_CHECK (a->payload != NULL && (JSON_NODE_HOLDS_OBJECT (a->payload)
              || JSON_NODE_HOLDS_NULL (a->payload)));
      FUZZ_CHECK (a->room != NULL && a->text == NULL);
      break;
    case NOOM_EVENT_OFFER_FAILED:
      FUZZ_CHECK (a->payload != NULL && JSON_NODE_HOLDS_OBJECT (a->payload));
      FUZZ_CHECK (json_object_get_string_member_with_default
          (json_node_get_object (a->payload), "reason", NULL) != NULL);
      FUZZ_CHECK (a->room != NULL && a->to != NULL && a->text == NULL);
      break;
    case NOOM_EVENT_OFFER:
    case NOOM_EVENT_ANSWER:{
      JsonObject *o;
      const gchar *sdp, *p;

      FUZZ_CHECK (a->payload != NULL && JSON_NODE_HOLDS_OBJECT (a->payload));
      o = json_node_get_object (a->payload);
      FUZZ_CHECK (json_object_get_string_member_with_default (o, "type",
              NULL) != NULL);
      sdp = json_object_get_string_member_with_default (o, "sdp", NULL);
      FUZZ_CHECK (sdp != NULL);
      FUZZ_CHECK (a->room != NULL && a->text == NULL);
      /* What it sends (noom_sdp_get_sends()): audio/video only, nothing
       * without an m-line, and accepted only when every CR ends a line. */
      FUZZ_CHECK ((a->sends & ~(NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO)) == 0);
      FUZZ_CHECK (a->sends == 0 || strstr (sdp, "m=") != NULL);
      for (p = strchr (sdp, '\r'); p; p = strchr (p + 1, '\r'))
        FUZZ_CHECK (p[1] == '\n' || p[1] == '\0');
      break;
    }
    case NOOM_EVENT_JOIN:
      FUZZ_CHECK (a->room != NULL);
      FUZZ_CHECK (a->nickname == NULL || is_name (a->nickname,
              s->limits.max_nickname, "nickname"));
      FUZZ_CHECK (a->kind <= NOOM_KIND_LAST);
      FUZZ_CHECK ((a->sends & ~(NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO)) == 0);
      FUZZ_CHECK (a->payload == NULL && a->to == NULL && a->text == NULL);
      break;
    case NOOM_EVENT_NICKNAME:
      FUZZ_CHECK (a->nickname != NULL);
      FUZZ_CHECK (is_name (a->nickname, s->limits.max_nickname, "nickname"));
      FUZZ_CHECK (a->room == NULL && a->payload == NULL);
      break;
    case NOOM_EVENT_LEAVE_ROOM:
      FUZZ_CHECK (a->room == NULL && a->nickname == NULL && a->text == NULL
          && a->payload == NULL && a->to == NULL);
      break;
    case NOOM_EVENT_MEDIA_STATE:
      FUZZ_CHECK ((a->state_given & ~NOOM_MEDIA_STATE_ALL) == 0);
      FUZZ_CHECK ((a->state & ~a->state_given) == 0);
      FUZZ_CHECK (a->room == NULL && a->nickname == NULL && a->text == NULL
          && a->payload == NULL && a->to == NULL);
      break;
    default:
      FUZZ_CHECK (!"a type out of range");
  }

  /* Pure: the same arguments give the same result. */
  FUZZ_CHECK (noom_event_args_parse (event, args, &s->limits, &again, NULL));
  FUZZ_CHECK (memcmp (&again, a, sizeof (again)) == 0);
}

static void
on_join (State * s, NoomRoomMember * m, const NoomEventArgs * a)
{
  const gchar *name = a->room;
  gboolean already = FALSE, changed;
  guint64 version = noom_room_set_get_list_version (s->set);
  NoomRoom *old = m->room, *room;
  g_autoptr (GError) error = NULL;

  if (!noom_room_set_check_join (s->set, m, name, &already, &error)) {
    /* A refused join changes nothing and says why. */
    FUZZ_CHECK (error != NULL && error->domain == NOOM_ROOM_ERROR);
    FUZZ_CHECK (error->code == NOOM_ROOM_ERROR_BAD_NAME
        || error->code == NOOM_ROOM_ERROR_NAME_TOO_LONG
        || error->code == NOOM_ROOM_ERROR_ROOM_FULL);
    FUZZ_CHECK (m->room == old);
    FUZZ_CHECK (noom_room_set_get_list_version (s->set) == version);
    if (error->code == NOOM_ROOM_ERROR_ROOM_FULL) {
      room = noom_room_set_lookup (s->set, name);
      FUZZ_CHECK (room != NULL && room != old);
      FUZZ_CHECK (noom_room_get_count (room) >= s->limits.max_room_size);
    } else {
      FUZZ_CHECK (!is_name (name, s->limits.max_room_name, "room name"));
    }
    return;
  }
  FUZZ_CHECK (is_name (name, s->limits.max_room_name, "room name"));
  if (already) {
    FUZZ_CHECK (m->room != NULL
        && strcmp (noom_room_get_name (m->room), name) == 0);
    if (a->nickname)
      FUZZ_CHECK (noom_room_member_set_nickname (m, a->nickname, &s->limits,
              &changed, NULL));
    return;
  }
  if (m->room)
    noom_room_set_leave (s->set, m);
  if (a->nickname)
    FUZZ_CHECK (noom_room_member_set_nickname (m, a->nickname, &s->limits,
            &changed, NULL));
  noom_room_member_set_kind (m, a->kind, a->sends);
  FUZZ_CHECK (m->kind == a->kind && m->sends == a->sends);
  room = noom_room_set_join (s->set, m, name);
  FUZZ_CHECK (room != NULL && m->room == room);
  FUZZ_CHECK (strcmp (noom_room_get_name (room), name) == 0);
  FUZZ_CHECK (noom_room_get_member (room, noom_room_get_count (room) - 1) == m);
  FUZZ_CHECK (noom_room_set_get_list_version (s->set) != version);
}

static void
on_leave (State * s, NoomRoomMember * m)
{
  g_autofree gchar *name = NULL;
  guint64 version = noom_room_set_get_list_version (s->set);
  guint before;

  if (m->room == NULL)
    return;
  name = g_strdup (noom_room_get_name (m->room));
  before = noom_room_get_count (m->room);
  if (noom_room_set_leave (s->set, m)) {
    FUZZ_CHECK (before == 1);
    FUZZ_CHECK (noom_room_set_lookup (s->set, name) == NULL);
  } else {
    NoomRoom *room = noom_room_set_lookup (s->set, name);

    FUZZ_CHECK (room != NULL && noom_room_get_count (room) == before - 1);
    FUZZ_CHECK (noom_room_find_member (room, m->id) == NULL);
  }
  FUZZ_CHECK (m->room == NULL);
  FUZZ_CHECK (noom_room_set_get_list_version (s->set) != version);
}

static void
on_nickname (State * s, NoomRoomMember * m, const NoomEventArgs * a)
{
  g_autofree gchar *before = g_strdup (noom_room_member_get_nickname (m));
  gboolean changed = FALSE;

  /* The server relies on this: a parsed nickname is always accepted. */
  FUZZ_CHECK (noom_room_member_set_nickname (m, a->nickname, &s->limits,
          &changed, NULL));
  FUZZ_CHECK (strcmp (noom_room_member_get_nickname (m), a->nickname) == 0);
  FUZZ_CHECK (changed == (strcmp (before, a->nickname) != 0));
}

/* media_state: never more than what the member sends, and the members
 * given are what it now says. */
static void
on_media_state (State * s, NoomRoomMember * m, const NoomEventArgs * a)
{
  guint8 before = m->state;
  gboolean changed = noom_room_member_set_state (m, a->state, a->state_given);
  NoomMediaState allowed = noom_media_state_allowed (m->sends);

  FUZZ_CHECK (changed == (m->state != before));
  FUZZ_CHECK ((m->state & ~allowed) == 0);
  FUZZ_CHECK ((m->state & a->state_given) == (a->state & a->state_given
          & allowed));
  FUZZ_CHECK ((m->state & ~a->state_given) == (before & ~a->state_given));
}

/* new_message, offer, answer, ice: only into one's own room, `to` must be
 * a member of it. */
static void
on_relay (State * s, NoomRoomMember * m, const NoomEventArgs * a)
{
  g_autoptr (GError) error = NULL;
  gboolean mine, valid;

  valid = noom_event_args_check_content (a, &s->limits, &error);
  if (a->type == NOOM_EVENT_NEW_MESSAGE) {
    FUZZ_CHECK (valid == noom_room_validate_message (a->text, -1,
            s->limits.max_message, NULL));
    FUZZ_CHECK (valid || (error != NULL && error->domain == NOOM_ROOM_ERROR
            && (error->code == NOOM_ROOM_ERROR_BAD_ARGUMENT
                || error->code == NOOM_ROOM_ERROR_NAME_TOO_LONG)));
    FUZZ_CHECK (!valid || strlen (a->text) <= s->limits.max_message);
  } else {
    FUZZ_CHECK (valid && error == NULL);
  }
  if (!valid)
    return;
  mine = m->room && strcmp (a->room, noom_room_get_name (m->room)) == 0;
  if (mine && a->to) {
    NoomRoomMember *peer = noom_room_find_member (m->room, a->to);

    FUZZ_CHECK (peer == NULL || strcmp (peer->id, a->to) == 0);
    FUZZ_CHECK (peer == NULL || peer->room == m->room);
  }
}

static void
run_line (State * s, const gchar * line, gsize len)
{
  NoomRoomMember *m;
  g_autoptr (NoomSioPacket) packet = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *number = NULL;
  NoomEventArgs a;
  JsonArray *args;
  JsonNode *first;
  const gchar *event;
  guint i = (guchar) line[0] % N_MEMBERS;

  m = &s->members[i];
  /* The clock moves by the selector byte: lets the rate limit refill. */
  s->now_us += ((guchar) line[0] >> 2) * 10000;
  if (!noom_rate_limit_take (&s->rate[i], 5, 3, s->now_us))
    FUZZ_CHECK (s->rate[i].tokens < 1.0);
  FUZZ_CHECK (s->rate[i].tokens >= 0.0 && s->rate[i].tokens <= 3.0);

  packet = noom_sio_packet_parse (line + 1, len - 1, NULL);
  if (packet == NULL || packet->type != NOOM_SIO_EVENT
      || strcmp (packet->nsp, "/") != 0)
    return;
  /* The event name as lib/noom-sio hands it to the server: a string, or
   * a number's JSON text (socket.io-parser allows numeric names). */
  args = json_node_get_array (packet->data);
  first = json_array_get_element (args, 0);
  FUZZ_CHECK (JSON_NODE_HOLDS_VALUE (first));
  if (json_node_get_value_type (first) == G_TYPE_STRING) {
    event = json_node_get_string (first);
  } else {
    number = json_to_string (first, FALSE);
    event = number;
  }

  if (!noom_event_args_parse (event, args, &s->limits, &a, &error)) {
    check_refused (event, error);
  } else {
    check_accepted (s, event, args, &a);
    switch (a.type) {
      case NOOM_EVENT_JOIN:
        on_join (s, m, &a);
        break;
      case NOOM_EVENT_LEAVE_ROOM:
        on_leave (s, m);
        break;
      case NOOM_EVENT_NICKNAME:
        on_nickname (s, m, &a);
        break;
      case NOOM_EVENT_MEDIA_STATE:
        on_media_state (s, m, &a);
        break;
      default:
        on_relay (s, m, &a);
        break;
    }
  }
  check_invariants (s);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  State s = { 0, };
  const gchar *p = (const gchar *) data, *end = p + size;
  guint i, lines = 0;

  s.limits.max_room_size = 3;
  s.limits.max_room_name = 8;
  s.limits.max_nickname = 6;
  s.limits.max_message = 32;
  s.set = noom_room_set_new (&s.limits);
  for (i = 0; i < N_MEMBERS; i++) {
    g_autofree gchar *id = g_strdup_printf ("member%u", i);

    noom_room_member_init (&s.members[i], id);
    noom_rate_limit_init (&s.rate[i], 3, 0);
  }

  while (p < end && lines++ < MAX_LINES) {
    const gchar *nl = memchr (p, '\n', end - p);
    gsize len = (nl ? nl : end) - p;

    if (len > 0) {
      /* A private copy per line: reads past it are caught. */
      gchar *line = g_memdup2 (p, len);

      run_line (&s, line, len);
      g_free (line);
    }
    p = nl ? nl + 1 : end;
  }

  for (i = 0; i < N_MEMBERS; i++) {
    if (s.members[i].room)
      noom_room_set_leave (s.set, &s.members[i]);
    noom_room_member_clear (&s.members[i]);
  }
  FUZZ_CHECK (noom_room_set_get_n_rooms (s.set) == 0);
  noom_room_set_free (s.set);
  return 0;
}
