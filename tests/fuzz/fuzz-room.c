/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * fuzz-room: event arguments against the room model (lib/noom-room.h).
 *
 * The input is a script, one event per line: the first byte of a line
 * picks one of four connections, the rest is the Socket.IO text the
 * connection sends, e.g.
 *   a2["join_room","demo",{"nickname":"alice","sends":["video"]}]
 *   b2["new_message","hi","demo"]
 * Each event is parsed with noom_sio_packet_parse() and its arguments are
 * checked and applied with the public API of lib/noom-room.h following
 * docs/protocol.md §5 (name and message rules, join options, one room per
 * connection, relays only into one's own room, `to` must be a member).
 *
 * The server's own argument handlers (tools/noom-server/noom-room-server.c:
 * parse_join_options(), is_description(), the relay checks) are static
 * there, so the join options are read here with the same lib/noom-room
 * entry points they call.  After every event the model's invariants are
 * checked: rooms sorted and never empty, counts within the limit, every
 * member's room holds it, the list version moves exactly when the list
 * does, a refused event changes nothing, the offer rule (§7) is
 * complementary for every pair.  Small limits make the limits reachable.
 */
#include <string.h>

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

static const gchar *
arg_string (JsonArray * args, guint i)
{
  JsonNode *node;

  if (i >= json_array_get_length (args))
    return NULL;
  node = json_array_get_element (args, i);
  if (!JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

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

/* docs/protocol.md §5 join options, read with lib/noom-room's rules. */
static gboolean
join_options (State * s, JsonArray * args, const gchar ** nickname,
    NoomKind * kind, NoomMediaFlags * sends)
{
  JsonNode *node, *member;
  JsonObject *o;
  gboolean have_sends = FALSE;

  *nickname = NULL;
  *kind = NOOM_KIND_BROWSER;
  node = json_array_get_length (args) > 2 ?
      json_array_get_element (args, 2) : NULL;
  if (node == NULL || JSON_NODE_HOLDS_NULL (node))
    goto done;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return FALSE;
  o = json_node_get_object (node);

  member = json_object_get_member (o, "nickname");
  if (member && !JSON_NODE_HOLDS_NULL (member)) {
    if (!JSON_NODE_HOLDS_VALUE (member)
        || json_node_get_value_type (member) != G_TYPE_STRING)
      return FALSE;
    *nickname = json_node_get_string (member);
    if (!noom_room_validate_name (*nickname, -1, s->limits.max_nickname,
            "nickname", NULL))
      return FALSE;
  }
  member = json_object_get_member (o, "kind");
  if (member && !JSON_NODE_HOLDS_NULL (member)) {
    const gchar *k = NULL;

    if (JSON_NODE_HOLDS_VALUE (member)
        && json_node_get_value_type (member) == G_TYPE_STRING)
      k = json_node_get_string (member);
    if (!noom_kind_from_string (k, kind))
      return FALSE;
    FUZZ_CHECK (*kind <= NOOM_KIND_LAST);
    FUZZ_CHECK (strcmp (noom_kind_to_string (*kind), k) == 0);
  }
  member = json_object_get_member (o, "sends");
  if (member && !JSON_NODE_HOLDS_NULL (member)) {
    JsonArray *a;
    guint i;

    if (!JSON_NODE_HOLDS_ARRAY (member))
      return FALSE;
    a = json_node_get_array (member);
    *sends = 0;
    for (i = 0; i < json_array_get_length (a); i++) {
      JsonNode *e = json_array_get_element (a, i);
      NoomMediaFlags f;

      if (!JSON_NODE_HOLDS_VALUE (e)
          || json_node_get_value_type (e) != G_TYPE_STRING
          || !noom_media_from_string (json_node_get_string (e), &f))
        return FALSE;
      *sends |= f;
    }
    have_sends = TRUE;
  }
done:
  if (!have_sends)
    *sends = noom_kind_default_sends (*kind);
  return TRUE;
}

static void
on_join (State * s, NoomRoomMember * m, JsonArray * args)
{
  const gchar *name = arg_string (args, 1);
  const gchar *nickname;
  NoomKind kind;
  NoomMediaFlags sends;
  gboolean already = FALSE, changed;
  guint64 version = noom_room_set_get_list_version (s->set);
  NoomRoom *old = m->room, *room;
  g_autoptr (GError) error = NULL;

  if (name == NULL || !join_options (s, args, &nickname, &kind, &sends))
    return;
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
      FUZZ_CHECK (!noom_room_validate_name (name, -1,
              s->limits.max_room_name, "room name", NULL));
    }
    return;
  }
  FUZZ_CHECK (noom_room_validate_name (name, -1, s->limits.max_room_name,
          "room name", NULL));
  if (already) {
    FUZZ_CHECK (m->room != NULL
        && strcmp (noom_room_get_name (m->room), name) == 0);
    if (nickname)
      FUZZ_CHECK (noom_room_member_set_nickname (m, nickname, &s->limits,
              &changed, NULL));
    return;
  }
  if (m->room)
    noom_room_set_leave (s->set, m);
  if (nickname)
    FUZZ_CHECK (noom_room_member_set_nickname (m, nickname, &s->limits,
            &changed, NULL));
  noom_room_member_set_kind (m, kind, sends);
  room = noom_room_set_join (s->set, m, name);
  FUZZ_CHECK (room != NULL && m->room == room);
  FUZZ_CHECK (strcmp (noom_room_get_name (room), name) == 0);
  FUZZ_CHECK (noom_room_get_member (room, noom_room_get_count (room) - 1) ==
      m);
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
on_nickname (State * s, NoomRoomMember * m, JsonArray * args)
{
  const gchar *name = arg_string (args, 1);
  g_autofree gchar *before = NULL;
  gboolean valid, changed = FALSE;
  g_autoptr (GError) error = NULL;

  if (name == NULL)
    return;
  before = g_strdup (noom_room_member_get_nickname (m));
  valid = noom_room_validate_name (name, -1, s->limits.max_nickname,
      "nickname", NULL);
  FUZZ_CHECK (noom_room_member_set_nickname (m, name, &s->limits, &changed,
          &error) == valid);
  if (valid) {
    FUZZ_CHECK (strcmp (noom_room_member_get_nickname (m), name) == 0);
    FUZZ_CHECK (changed == (strcmp (before, name) != 0));
  } else {
    FUZZ_CHECK (error != NULL);
    FUZZ_CHECK (strcmp (noom_room_member_get_nickname (m), before) == 0);
  }
}

/* new_message, offer, answer, ice: only into one's own room, `to` must be
 * a member of it. */
static void
on_relay (State * s, NoomRoomMember * m, const gchar * event,
    JsonArray * args)
{
  const gchar *room = arg_string (args, 2);
  const gchar *to = arg_string (args, 3);
  gboolean mine;

  if (strcmp (event, "new_message") == 0) {
    const gchar *text = arg_string (args, 1);
    g_autoptr (GError) error = NULL;

    if (text && !noom_room_validate_message (text, -1,
            s->limits.max_message, &error))
      FUZZ_CHECK (error != NULL && error->domain == NOOM_ROOM_ERROR);
  }
  mine = room && m->room && strcmp (room, noom_room_get_name (m->room)) == 0;
  if (mine && to) {
    NoomRoomMember *peer = noom_room_find_member (m->room, to);

    FUZZ_CHECK (peer == NULL || strcmp (peer->id, to) == 0);
    FUZZ_CHECK (peer == NULL || peer->room == m->room);
  }
}

static void
run_line (State * s, const gchar * line, gsize len)
{
  NoomRoomMember *m;
  g_autoptr (NoomSioPacket) packet = NULL;
  JsonArray *args;
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
  args = json_node_get_array (packet->data);
  event = arg_string (args, 0);
  if (event == NULL)
    return;

  if (strcmp (event, "join_room") == 0 || strcmp (event, "enter_room") == 0)
    on_join (s, m, args);
  else if (strcmp (event, "leave_room") == 0)
    on_leave (s, m);
  else if (strcmp (event, "nickname") == 0)
    on_nickname (s, m, args);
  else if (strcmp (event, "new_message") == 0 || strcmp (event, "offer") == 0
      || strcmp (event, "answer") == 0 || strcmp (event, "ice") == 0)
    on_relay (s, m, event, args);
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
