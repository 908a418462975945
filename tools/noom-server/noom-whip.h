/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-whip: WHIP ingest and WHEP playback on noom-server's port
 * (docs/server.md "WHIP and WHEP", docs/protocol.md §12): POST
 * /whip/ROOM, POST /whep/ROOM[/PARTICIPANT], PATCH and DELETE
 * /wish/SESSION, OPTIONS (CORS) on all of them.  A session is an HTTP
 * participant of noom-room-server; its media goes through the relay
 * (--sfu), which answers the client's offer.
 */
#pragma once

#include <libsoup/soup.h>

#include "noom-ice.h"
#include "noom-room-server.h"

G_BEGIN_DECLS

typedef struct _NoomWhip NoomWhip;

typedef struct {
  const NoomIceConfig *ice;     /* nullable; must outlive the NoomWhip */
  GBytes *token_secret;         /* nullable; must outlive the NoomWhip */
  /* --allowed-origin (copied); NULL: any origin */
  const gchar *const *allowed_origins;
  /* --sfu: without it every POST gets 501 */
  gboolean sfu;
} NoomWhipConfig;

NoomWhip *noom_whip_new (SoupServer * server, NoomRoomServer * rooms,
    const NoomWhipConfig * config);
/* Ends every session (its participant leaves); before
 * noom_room_server_free(). */
void noom_whip_free (NoomWhip * self);

G_END_DECLS
