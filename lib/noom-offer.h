/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-offer: "who sends the offer" (docs/protocol.md §7 and §11), pure:
 * for a pair of participants, whether they connect, which side offers and
 * the direction of each kind of media; in a room that forwards media
 * through the server (SFU), that the only connection is the relay's, and
 * that the relay offers.
 *
 * The GStreamer elements call noom_offer_plan() for every pair
 * (gst/gstnoomsession.c) and map its directions onto transceivers; the web
 * client has its copy in JavaScript (tools/noom-server/web/offer-rule.js).
 * Both pass the same table, tests/offer-rule/cases.json: change the rule
 * here, in docs/protocol.md §7, in offer-rule.js and in the table
 * together.
 */
#pragma once

#include <glib.h>

#include "noom-protocol.h"

G_BEGIN_DECLS

/* A transceiver direction, as seen by one side of the pair. */
typedef enum {
  NOOM_DIRECTION_NONE,          /* no transceiver for this media */
  NOOM_DIRECTION_SENDRECV,
  NOOM_DIRECTION_SENDONLY,
  NOOM_DIRECTION_RECVONLY,
} NoomDirection;

const gchar *noom_direction_to_string (NoomDirection direction);

typedef struct {
  gboolean connect;             /* FALSE: no peer connection for this pair */
  gboolean offer;               /* TRUE: the local side sends the offer */
  NoomDirection audio;          /* the local side's transceiver direction */
  NoomDirection video;
  gboolean relay;               /* TRUE: the remote side is the SFU relay
                                   (§11): it sends every offer, the first
                                   and each renegotiation, all answered on
                                   this one connection */
} NoomOfferPlan;

/* THE offer rule (docs/protocol.md §7), for the pair (local, remote):
 * @local_was_first is TRUE when the local side was in the room before the
 * remote one (it learnt of the remote side through `welcome`), FALSE when
 * the remote side was listed in the local side's join ack.  The one that
 * was first offers; the other answers.  No connection when neither side
 * sends anything.  Directions: sendrecv when both send the media, sendonly
 * when only the local side does, recvonly when only the remote side does,
 * none when neither.  Returns @plan->connect. */
gboolean noom_offer_plan (gboolean local_was_first, NoomMediaFlags local_sends,
    NoomMediaFlags remote_sends, NoomOfferPlan * plan);

/* The rule in a room that forwards media through the server
 * (docs/protocol.md §11), for the local side and @remote_id: a participant
 * connects to nobody but the relay (@relay_id, the join ack's "relay"), and
 * only when it sends or receives something; the relay always offers, so
 * the local side never does.  Directions, per kind: the local side's
 * upload m-line is sendonly when it sends that kind, the others' tracks
 * come on recvonly m-lines when it @receives (every kind but `publisher`
 * does: the relay gives a publisher no download m-lines): sendrecv for
 * both, none for neither.  Returns @plan->connect. */
gboolean noom_offer_plan_sfu (const gchar * relay_id, const gchar * remote_id,
    NoomMediaFlags local_sends, gboolean receives, NoomOfferPlan * plan);

G_END_DECLS
