/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include <gst/webrtc/webrtc.h>
#include "gstnoomsession.h"
#include "noom-offer.h"

G_BEGIN_DECLS

/* A failed connection: reconnections the offerer tries, and how long (ms)
 * each may take, before the participant is dropped. */
#define GST_NOOM_PEER_MAX_ICE_RESTARTS 2
#define GST_NOOM_PEER_ICE_RESTART_TIMEOUT 10000

#define GST_TYPE_NOOM_PEER (gst_noom_peer_get_type ())
G_DECLARE_FINAL_TYPE (GstNoomPeer, gst_noom_peer, GST, NOOM_PEER, GstObject)

/* @plan: noom_offer_plan() for this pair, the one answer to who offers
 * and with which directions (docs/protocol.md §7); the peer offers when
 * @plan->offer. */
GstNoomPeer *gst_noom_peer_new (GstNoomSession * session,
    NoomParticipant * remote, const NoomOfferPlan * plan);

/* Valid as long as the peer is (also after a rename). */
NoomParticipant *gst_noom_peer_get_participant (GstNoomPeer * self);
/* The participant was renamed (same id).  Session thread. */
void gst_noom_peer_set_participant (GstNoomPeer * self, NoomParticipant * p);
GstElement *gst_noom_peer_get_webrtcbin (GstNoomPeer * self);
gboolean gst_noom_peer_is_offerer (GstNoomPeer * self);
/* The pair's offer plan: an element's prepare_offer hook maps its
 * directions onto transceivers, nothing more. */
const NoomOfferPlan *gst_noom_peer_get_plan (GstNoomPeer * self);
/* The plan's direction for @kind (NOOM_MEDIA_AUDIO or NOOM_MEDIA_VIDEO) as
 * webrtcbin's, NONE when the pair has no transceiver for it. */
GstWebRTCRTPTransceiverDirection gst_noom_peer_plan_direction (GstNoomPeer *
    self, NoomMediaFlags kind);
gboolean gst_noom_peer_is_connected (GstNoomPeer * self);
/* The relay's connection (docs/protocol.md §11, the plan's relay): the
 * participant whose track m-line @mline of the relay's last offer carries
 * (a ref), or NULL (one of our upload m-lines, an ended track, someone
 * the room did not tell us about).  Any thread. */
NoomParticipant *gst_noom_peer_get_track_owner (GstNoomPeer * self,
    guint mline);
/* The relay's connection: whether m-line @mline of its last offer carries
 * a shared screen (its a=msid's track id is "screen", docs/protocol.md
 * §11).  Any thread. */
gboolean gst_noom_peer_is_screen_track (GstNoomPeer * self, guint mline);
/* Which video m-line of the connection @mline is (0: the first, 1: the
 * second, which between two sides that take screens is the shared screen,
 * docs/protocol.md §7), by our local description; -1 when it is not
 * video or there is no description yet.  Any thread. */
gint gst_noom_peer_video_index (GstNoomPeer * self, guint mline);

/* What the element keeps for this peer, session thread: its tracks
 * (noomsink: the Branch of each stream feeding the peer; noomsrc: the
 * Output of each track it exposes), an empty array at first, never NULL;
 * the element empties it before the peer goes.  steal hands the array over
 * and leaves an empty one. */
GPtrArray *gst_noom_peer_get_tracks (GstNoomPeer * self);
GPtrArray *gst_noom_peer_steal_tracks (GstNoomPeer * self);
/* noomsrc: the guard of a connection being parked (see src_peer_removing),
 * freed with @free by the element or with the peer. */
void gst_noom_peer_set_guard (GstNoomPeer * self, gpointer guard,
    GDestroyNotify free);
gpointer gst_noom_peer_steal_guard (GstNoomPeer * self);

/* Session thread only. */
void gst_noom_peer_negotiate (GstNoomPeer * self);
void gst_noom_peer_handle_offer (GstNoomPeer * self, const gchar * sdp);
void gst_noom_peer_handle_answer (GstNoomPeer * self, const gchar * sdp);
void gst_noom_peer_handle_ice (GstNoomPeer * self, guint mline_index,
    const gchar * candidate);
/* The how-manieth reconnection of a failed connection this is. */
void gst_noom_peer_set_attempt (GstNoomPeer * self, guint attempt);
gboolean gst_noom_peer_has_remote (GstNoomPeer * self);
/* Stops the webrtcbin (NULL) and forgets the session. */
void gst_noom_peer_close (GstNoomPeer * self);

/* Any thread: connection state, bytes, packets, round-trip time, loss. */
/* webrtcbin's transceiver for m-line @mline (a ref), or NULL */
GstWebRTCRTPTransceiver *gst_noom_peer_get_transceiver (GstNoomPeer * self,
    guint mline);
/* Adds a transceiver (direction @direction, codec preferences @caps) */
void gst_noom_peer_add_transceiver (GstNoomPeer * self,
    GstWebRTCRTPTransceiverDirection direction, GstCaps * caps);

GstStructure *gst_noom_peer_get_stats (GstNoomPeer * self);
/* noomsink's bandwidth estimate of this peer's link (bit/s), the video
 * layer it gets, its loss (0..1) and the feedback the estimate comes from
 * ("twcc", "remb", "none": a static string), for the stats.  Any
 * thread. */
void gst_noom_peer_set_bandwidth (GstNoomPeer * self, guint estimate,
    guint layer, gdouble loss, const gchar * feedback);
/* noomsrc: the VP8 temporal layers that arrive from the peer; the
 * stats' video-layer is the highest of the last second.  A probe holds
 * the box (get returns a ref; unref is a GDestroyNotify) and notes each
 * packet's layer from its streaming thread. */
typedef struct _GstNoomReceivedLayers GstNoomReceivedLayers;
GstNoomReceivedLayers *gst_noom_peer_get_received_layers (GstNoomPeer * self);
void gst_noom_received_layers_note (GstNoomReceivedLayers * layers,
    guint tid);
void gst_noom_received_layers_unref (gpointer layers);

G_END_DECLS
