/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-room-server: the room layer of noom-server on the Socket.IO
 * namespace "/": every event of docs/protocol.md §5-6, errors (§4), the
 * room list with coalescing, the per-connection rate limit.
 */
#pragma once

#include <glib.h>

#include "noom-room.h"
#include "noom-sio.h"
#include "noom-ice.h"
#include "noom-relay-link.h"

G_BEGIN_DECLS

typedef struct _NoomRoomServer NoomRoomServer;

typedef struct {
  NoomRoomLimits limits;
  guint rate_limit;             /* events per second, sustained */
  guint rate_burst;
  guint room_change_interval_ms;        /* 250 */
  const NoomIceConfig *ice;     /* nullable, must outlive the server */
  /* With a secret, connecting needs a token signed with it (noom-token.h,
   * docs/protocol.md "Access tokens"); NULL: rooms are open.  Must
   * outlive the server. */
  GBytes *token_secret;
  /* The rate budget a limited connection leaves to the next one from its
   * address applies to loopback addresses too (--limit-loopback). */
  gboolean limit_loopback;
  /* --sfu: every room forwards media through this relay (docs/protocol.md
   * §11); NULL: rooms are peer to peer.  The server sets its callbacks;
   * it must outlive the server. */
  NoomRelayLink *relay;
  /* With a relay: participants of a room whose sends is not empty. */
  guint max_publishers;
} NoomRoomServerConfig;

void noom_room_server_config_init (NoomRoomServerConfig * config);

/* Installs the namespace "/" on @sio. */
NoomRoomServer *noom_room_server_new (NoomSioServer * sio,
    const NoomRoomServerConfig * config);
/* Only after every connection is gone (noom_sio_server_free). */
void noom_room_server_free (NoomRoomServer * self);

G_END_DECLS
