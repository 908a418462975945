/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-room: the room model (see noom-room.h and docs/protocol.md).
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>

#include "noom-room.h"

/* ------------------------------------------------------------ rate limit */

void
noom_rate_limit_init (NoomRateLimit * limit, guint burst, gint64 now_us)
{
  limit->tokens = burst;
  limit->last_us = now_us;
  limit->dropped = 0;
  limit->last_drop_us = 0;
}

gboolean
noom_rate_limit_take (NoomRateLimit * limit, guint rate, guint burst,
    gint64 now_us)
{
  if (now_us > limit->last_us) {
    limit->tokens += (gdouble) (now_us - limit->last_us) * rate / 1e6;
    if (limit->tokens > burst)
      limit->tokens = burst;
    limit->last_us = now_us;
  }
  if (limit->tokens < 1.0)
    return FALSE;
  limit->tokens -= 1.0;
  return TRUE;
}

NoomRateVerdict
noom_rate_limit_check (NoomRateLimit * limit, guint rate, guint burst,
    gint64 now_us)
{
  /* The episode ends with a quiet gap, not with the next event that gets
   * through: a flooder always gets some through, as the bucket refills. */
  if (limit->dropped > 0 && now_us - limit->last_drop_us >= NOOM_RATE_QUIET_US)
    limit->dropped = 0;
  if (noom_rate_limit_take (limit, rate, burst, now_us))
    return NOOM_RATE_OK;
  limit->last_drop_us = now_us;
  if (limit->dropped < G_MAXUINT32)
    limit->dropped++;
  if (limit->dropped >= (guint64) NOOM_RATE_FLOOD_BURSTS * MAX (burst, 1))
    return NOOM_RATE_FLOODING;
  return NOOM_RATE_LIMITED;
}

/* ------------------------------------------------------------------ rooms */

struct _NoomRoom
{
  gchar *name;
  /* NoomRoomMember*, join order.  Rooms are small (max_room_size), so
   * removal and lookup by id are linear. */
  GPtrArray *members;
};

struct _NoomRoomSet
{
  NoomRoomLimits limits;
  GHashTable *rooms;            /* name (owned by the room) -> NoomRoom* */
  guint64 next_seq;
  guint64 list_version;
};

void
noom_room_member_init (NoomRoomMember * member, const gchar * id)
{
  memset (member, 0, sizeof (*member));
  g_strlcpy (member->id, id, sizeof (member->id));
  member->kind = NOOM_KIND_BROWSER;
  member->sends = noom_kind_default_sends (NOOM_KIND_BROWSER);
  member->state = member->sends;
}

void
noom_room_member_clear (NoomRoomMember * member)
{
  g_warn_if_fail (member->room == NULL);
  g_clear_pointer (&member->nickname, g_free);
}

NoomRoomMember *
noom_room_member_new (const gchar * id)
{
  NoomRoomMember *member = g_new (NoomRoomMember, 1);

  noom_room_member_init (member, id);
  return member;
}

void
noom_room_member_free (NoomRoomMember * member)
{
  if (member == NULL)
    return;
  noom_room_member_clear (member);
  g_free (member);
}

const gchar *
noom_room_member_get_nickname (const NoomRoomMember * member)
{
  return member->nickname ? member->nickname : NOOM_ROOM_DEFAULT_NICKNAME;
}

gboolean
noom_room_member_set_nickname (NoomRoomMember * member,
    const gchar * nickname, const NoomRoomLimits * limits, gboolean * changed,
    GError ** error)
{
  gboolean differs;

  if (!noom_room_validate_name (nickname, -1, limits->max_nickname,
          "nickname", error))
    return FALSE;

  differs = strcmp (nickname, noom_room_member_get_nickname (member)) != 0;
  if (differs) {
    g_free (member->nickname);
    member->nickname = strcmp (nickname, NOOM_ROOM_DEFAULT_NICKNAME) == 0 ?
        NULL : g_strdup (nickname);
  }
  if (changed)
    *changed = differs;
  return TRUE;
}

void
noom_room_member_set_kind (NoomRoomMember * member, NoomKind kind,
    NoomMediaFlags sends)
{
  g_return_if_fail (member->room == NULL);
  g_return_if_fail ((guint) kind <= NOOM_KIND_LAST);
  member->kind = kind;
  member->sends = sends & (NOOM_MEDIA_AUDIO | NOOM_MEDIA_VIDEO);
  /* A newcomer's microphone and camera are on until it says otherwise. */
  member->state = member->sends;
}

void
noom_room_member_set_features (NoomRoomMember * member, NoomFeatures features)
{
  g_return_if_fail (member->room == NULL);
  member->features = features & NOOM_FEATURE_SCREEN;
}

gboolean
noom_room_member_set_state (NoomRoomMember * member, NoomMediaState state,
    NoomMediaState given)
{
  guint8 old = member->state;

  member->state = ((member->state & ~given) | (state & given))
      & noom_media_state_allowed (member->sends);
  return member->state != old;
}

static void
room_free (NoomRoom * room)
{
  g_ptr_array_unref (room->members);
  g_free (room->name);
  g_free (room);
}

NoomRoomSet *
noom_room_set_new (const NoomRoomLimits * limits)
{
  NoomRoomSet *set = g_new0 (NoomRoomSet, 1);

  if (limits)
    set->limits = *limits;
  else
    noom_room_limits_init (&set->limits);
  set->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
      (GDestroyNotify) room_free);
  set->list_version = 1;
  return set;
}

void
noom_room_set_free (NoomRoomSet * set)
{
  if (set == NULL)
    return;
  g_warn_if_fail (g_hash_table_size (set->rooms) == 0);
  g_hash_table_unref (set->rooms);
  g_free (set);
}

const NoomRoomLimits *
noom_room_set_get_limits (NoomRoomSet * set)
{
  return &set->limits;
}

NoomRoom *
noom_room_set_lookup (NoomRoomSet * set, const gchar * name)
{
  return g_hash_table_lookup (set->rooms, name);
}

guint
noom_room_set_get_n_rooms (NoomRoomSet * set)
{
  return g_hash_table_size (set->rooms);
}

guint64
noom_room_set_get_list_version (NoomRoomSet * set)
{
  return set->list_version;
}

static gint
compare_rooms (gconstpointer a, gconstpointer b)
{
  const NoomRoom *ra = *(const NoomRoom * const *) a;
  const NoomRoom *rb = *(const NoomRoom * const *) b;

  return strcmp (ra->name, rb->name);
}

GPtrArray *
noom_room_set_list (NoomRoomSet * set)
{
  GPtrArray *list = g_ptr_array_sized_new (g_hash_table_size (set->rooms));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, set->rooms);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (list, value);
  g_ptr_array_sort (list, compare_rooms);
  return list;
}

gboolean
noom_room_set_check_join (NoomRoomSet * set, const NoomRoomMember * member,
    const gchar * name, gboolean * already, GError ** error)
{
  NoomRoom *room;

  *already = FALSE;
  if (!noom_room_validate_name (name, -1, set->limits.max_room_name,
          "room name", error))
    return FALSE;

  room = g_hash_table_lookup (set->rooms, name);
  if (room != NULL && room == member->room) {
    *already = TRUE;
    return TRUE;
  }
  if (room != NULL && room->members->len >= set->limits.max_room_size) {
    g_set_error (error, NOOM_ROOM_ERROR, NOOM_ROOM_ERROR_ROOM_FULL,
        "room \"%s\" is full (%u participants)", name,
        set->limits.max_room_size);
    return FALSE;
  }
  return TRUE;
}

NoomRoom *
noom_room_set_join (NoomRoomSet * set, NoomRoomMember * member,
    const gchar * name)
{
  NoomRoom *room;

  g_return_val_if_fail (member->room == NULL, NULL);

  room = g_hash_table_lookup (set->rooms, name);
  if (room == NULL) {
    room = g_new (NoomRoom, 1);
    room->name = g_strdup (name);
    /* Most rooms are small: start with room for a few, not the max. */
    room->members = g_ptr_array_sized_new (4);
    g_hash_table_insert (set->rooms, room->name, room);
  }
  g_ptr_array_add (room->members, member);
  member->room = room;
  member->join_seq = ++set->next_seq;
  set->list_version++;
  return room;
}

gboolean
noom_room_set_leave (NoomRoomSet * set, NoomRoomMember * member)
{
  NoomRoom *room = member->room;

  g_return_val_if_fail (room != NULL, FALSE);

  /* g_ptr_array_remove keeps the order: the join order matters. */
  if (!g_ptr_array_remove (room->members, member))
    g_warn_if_reached ();
  member->room = NULL;
  member->join_seq = 0;
  set->list_version++;

  if (room->members->len == 0) {
    g_hash_table_remove (set->rooms, room->name);
    return TRUE;
  }
  return FALSE;
}

const gchar *
noom_room_get_name (const NoomRoom * room)
{
  return room->name;
}

guint
noom_room_get_count (const NoomRoom * room)
{
  return room->members->len;
}

NoomRoomMember *
noom_room_get_member (const NoomRoom * room, guint i)
{
  g_return_val_if_fail (i < room->members->len, NULL);
  return g_ptr_array_index (room->members, i);
}

NoomRoomMember *
noom_room_find_member (const NoomRoom * room, const gchar * id)
{
  guint i;

  for (i = 0; i < room->members->len; i++) {
    NoomRoomMember *m = g_ptr_array_index (room->members, i);

    if (strcmp (m->id, id) == 0)
      return m;
  }
  return NULL;
}
