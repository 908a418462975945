/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-room: the room model of docs/protocol.md, pure (no I/O, no clock of
 * its own): rooms by name, their members in join order, one room per
 * connection, the public room list and the per-connection event rate
 * limit.  The name and message rules and limits it applies are
 * lib/noom-protocol's (§2); who sends the offer (§7) is lib/noom-offer's.
 *
 * noom-server keeps one NoomRoomSet; every connection embeds one
 * NoomRoomMember.
 *
 * Memory: a member is ~64 bytes; a room is its name, one small array and
 * the hash table entry.  Nicknames are NULL while they are the default
 * "Anon" (no allocation for the common case).
 */
#pragma once

#include <glib.h>

#include "noom-protocol.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------ rate limit */

/* A token bucket: @rate tokens per second, at most @burst.  It also keeps
 * the episode of limiting it is in: a client that keeps sending while it
 * is limited is flooding, and is closed, however many of its events still
 * get through (the refill lets @rate a second through). */
typedef struct {
  gdouble tokens;
  gint64 last_us;               /* monotonic time of the last refill */
  guint32 dropped;              /* events dropped in this episode */
  gint64 last_drop_us;          /* when the last one was */
} NoomRateLimit;

/* An episode of limiting ends after this long without a dropped event. */
#define NOOM_RATE_QUIET_US (2 * G_USEC_PER_SEC)
/* Dropped events in one episode, in bursts, that make a flood. */
#define NOOM_RATE_FLOOD_BURSTS 10

typedef enum {
  NOOM_RATE_OK,                 /* take the event */
  NOOM_RATE_LIMITED,            /* drop it (the first of an episode: log) */
  NOOM_RATE_FLOODING,           /* drop it and close the connection */
} NoomRateVerdict;

void noom_rate_limit_init (NoomRateLimit * limit, guint burst, gint64 now_us);
/* Take one token; FALSE when the bucket is empty (the event is dropped). */
gboolean noom_rate_limit_take (NoomRateLimit * limit, guint rate, guint burst,
    gint64 now_us);
/* noom_rate_limit_take() with the episode: FLOODING once
 * NOOM_RATE_FLOOD_BURSTS x @burst events were dropped with no quiet gap of
 * NOOM_RATE_QUIET_US between them. */
NoomRateVerdict noom_rate_limit_check (NoomRateLimit * limit, guint rate,
    guint burst, gint64 now_us);

/* ------------------------------------------------------------ rooms */

typedef struct _NoomRoomSet NoomRoomSet;
typedef struct _NoomRoom NoomRoom;

#define NOOM_ROOM_MEMBER_ID_MAX 23

/* One connection, in a room or not.  Embed it (noom_room_member_init) or
 * allocate it (noom_room_member_new).  Read the fields, change them only
 * through the functions below. */
typedef struct {
  gchar id[NOOM_ROOM_MEMBER_ID_MAX + 1];
  gchar *nickname;              /* NULL: the default "Anon" */
  NoomRoom *room;               /* NULL when in no room */
  guint64 join_seq;             /* order of the join, server-wide */
  guint8 kind;                  /* NoomKind */
  guint8 sends;                 /* NoomMediaFlags */
  guint8 state;                 /* NoomMediaState, within sends */
  guint8 features;              /* NoomFeatures, from the join */
} NoomRoomMember;

void noom_room_member_init (NoomRoomMember * member, const gchar * id);
/* The member must be in no room (noom_room_set_leave first). */
void noom_room_member_clear (NoomRoomMember * member);
NoomRoomMember *noom_room_member_new (const gchar * id);
void noom_room_member_free (NoomRoomMember * member);

const gchar *noom_room_member_get_nickname (const NoomRoomMember * member);
/* Sets the nickname after noom_room_validate_name() with @limits.  Returns
 * TRUE when valid; *changed tells whether it differs from the old one. */
gboolean noom_room_member_set_nickname (NoomRoomMember * member,
    const gchar * nickname, const NoomRoomLimits * limits, gboolean * changed,
    GError ** error);
/* Only while in no room: a participant's kind and media are fixed while it
 * is in a room. */
void noom_room_member_set_kind (NoomRoomMember * member, NoomKind kind,
    NoomMediaFlags sends);
/* Only while in no room, as the kind: what the join said it takes part
 * in (docs/protocol.md §3 "features"). */
void noom_room_member_set_features (NoomRoomMember * member,
    NoomFeatures features);
/* Sets the members of the media state named in @given to @state's (what
 * @member does not send stays off).  Returns TRUE when it changed. */
gboolean noom_room_member_set_state (NoomRoomMember * member,
    NoomMediaState state, NoomMediaState given);

NoomRoomSet *noom_room_set_new (const NoomRoomLimits * limits);
/* Every member must have left before. */
void noom_room_set_free (NoomRoomSet * set);
const NoomRoomLimits *noom_room_set_get_limits (NoomRoomSet * set);

NoomRoom *noom_room_set_lookup (NoomRoomSet * set, const gchar * name);
guint noom_room_set_get_n_rooms (NoomRoomSet * set);
/* Incremented whenever the public list (names or counts) changes. */
guint64 noom_room_set_get_list_version (NoomRoomSet * set);
/* Every room (none is empty), sorted by name (byte order of UTF-8, i.e.
 * code point order).  Free with g_ptr_array_unref (the rooms stay owned
 * by the set). */
GPtrArray *noom_room_set_list (NoomRoomSet * set);

/* Can @member join @name?  Checks the name rules and the capacity (the room
 * @member is already in is never full for it).  *already is set to TRUE
 * when @member is already in that room.  Errors: BAD_NAME, NAME_TOO_LONG,
 * ROOM_FULL. */
gboolean noom_room_set_check_join (NoomRoomSet * set,
    const NoomRoomMember * member, const gchar * name, gboolean * already,
    GError ** error);
/* Join after a successful check_join (and a leave from any other room):
 * creates the room if needed, appends @member as the newest participant. */
NoomRoom *noom_room_set_join (NoomRoomSet * set, NoomRoomMember * member,
    const gchar * name);
/* Leave the current room.  Returns TRUE when the room became empty and was
 * destroyed (it must not be used afterwards). */
gboolean noom_room_set_leave (NoomRoomSet * set, NoomRoomMember * member);

const gchar *noom_room_get_name (const NoomRoom * room);
guint noom_room_get_count (const NoomRoom * room);
/* The @i-th member in join order (0 = oldest). */
NoomRoomMember *noom_room_get_member (const NoomRoom * room, guint i);
/* The member with @id, or NULL. */
NoomRoomMember *noom_room_find_member (const NoomRoom * room,
    const gchar * id);

G_END_DECLS
