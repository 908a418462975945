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
#include "noom-token.h"
#include "noom-cluster.h"

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
  /* No client gets room_change: the open-room list is hidden, a room is
   * reached by its link only (--private-rooms; the default with a token
   * secret). */
  gboolean private_rooms;
  /* The rate budget a limited connection leaves to the next one from its
   * address applies to loopback addresses too (--limit-loopback). */
  gboolean limit_loopback;
  /* --sfu: every room forwards media through this relay (docs/protocol.md
   * §11); NULL: rooms are peer to peer.  The server sets its callbacks;
   * it must outlive the server. */
  NoomRelayLink *relay;
  /* With a relay: participants of a room whose sends is not empty. */
  guint max_publishers;
  /* --redis: the rooms are shared with the other nodes of this cluster
   * (noom-cluster.h); NULL: this server alone.  The server starts it and
   * sets its callbacks; it must outlive the server. */
  NoomCluster *cluster;
} NoomRoomServerConfig;

void noom_room_server_config_init (NoomRoomServerConfig * config);

/* Installs the namespace "/" on @sio. */
NoomRoomServer *noom_room_server_new (NoomSioServer * sio,
    const NoomRoomServerConfig * config);
/* The server shuts down: the connections that close from now on leave
 * their rooms without a bye to the others. */
void noom_room_server_stop (NoomRoomServer * self);
/* Only after every connection is gone (noom_sio_server_free) and every
 * HTTP participant has left (noom_whip_free). */
void noom_room_server_free (NoomRoomServer * self);

/* HTTP participants (WHIP and WHEP, noom-whip.h): participants of an SFU
 * room without a Socket.IO socket.  They get no events; the relay's
 * objects for them come through these callbacks. */
typedef struct _NoomRoomServerHttp NoomRoomServerHttp;

typedef struct {
  /* The relay's answer SDP for @session's participant. */
  void (*answer) (gpointer session, const gchar * sdp, gpointer user_data);
  /* The relay's error for it (its "code" and "message"). */
  void (*error) (gpointer session, const gchar * code,
      const gchar * message, gpointer user_data);
  /* The relay restarted ICE: its new credentials and candidates
   * ("candidate:..."; NULL-terminated). */
  void (*restarted) (gpointer session, const gchar * ufrag,
      const gchar * pwd, const gchar * const *candidates,
      gpointer user_data);
  /* The server removed the participant from its room (the relay lost its
   * connection, or the relay stopped): its handle is gone; @reason says
   * why. */
  void (*gone) (gpointer session, const gchar * reason, gpointer user_data);
} NoomRoomServerHttpCallbacks;

void noom_room_server_set_http_callbacks (NoomRoomServer * self,
    const NoomRoomServerHttpCallbacks * callbacks, gpointer user_data);

/* With a relay that said ready; with --redis, with a relay (whether the
 * room's media node is this one, and its relay ready, is known once Redis
 * answers: a WHIP/WHEP session is then gone, "the media relay is
 * restarting", when it is not). */
gboolean noom_room_server_relay_is_ready (NoomRoomServer * self);

typedef struct {
  const gchar *room;
  const gchar *nickname;        /* nullable: the token's identity, else
                                 * default_nickname */
  const gchar *default_nickname;
  NoomKind kind;
  NoomMediaFlags sends;
  NoomToken *token;             /* nullable; taken, whatever the result */
  const gchar *offer;           /* the client's SDP offer */
  /* WHEP: the participant to play (an id or a nickname), or play_any:
   * the first that sends video, else audio */
  const gchar *play;
  gboolean play_any;
  const gchar *via;             /* "whip", "whep": for the log */
} NoomHttpJoin;

/* Joins an HTTP participant for @session (the server only hands it back
 * in callbacks) and sends the relay its join with the offer.  Errors in
 * NOOM_ROOM_ERROR, checked in this order: FORBIDDEN (the token), BAD_NAME
 * or NAME_TOO_LONG (room, nickname), UNKNOWN_PEER (nothing to play),
 * ROOM_FULL (participants or publishers).  Needs a relay. */
NoomRoomServerHttp *noom_room_server_join_http (NoomRoomServer * self,
    const NoomHttpJoin * join, gpointer session, GError ** error);
/* The participant id. */
const gchar *noom_room_server_http_get_id (NoomRoomServerHttp * http);
/* It leaves its room (bye, leave to the relay); @http is gone. */
void noom_room_server_leave_http (NoomRoomServer * self,
    NoomRoomServerHttp * http, const gchar * reason);
/* ice {candidate} (taken; an object or null) and restart {ufrag, pwd} for
 * the relay, from the participant. */
void noom_room_server_http_ice (NoomRoomServer * self,
    NoomRoomServerHttp * http, JsonNode * candidate);
void noom_room_server_http_restart (NoomRoomServer * self,
    NoomRoomServerHttp * http, const gchar * ufrag, const gchar * pwd);

/* GET /metrics: the room layer's metrics in the Prometheus text format
 * (rooms, participants, events, join latency, refused joins, rate
 * limiting). */
void noom_room_server_write_metrics (NoomRoomServer * self, GString * out);
void noom_room_server_write_sfu_metrics (NoomRoomServer * self,
    GString * out, gboolean up);

G_END_DECLS
