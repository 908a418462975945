/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gst/gst.h>
#include "noom-client.h"

G_BEGIN_DECLS

typedef struct _GstNoomPeer GstNoomPeer;

#define GST_TYPE_NOOM_SESSION (gst_noom_session_get_type ())
G_DECLARE_FINAL_TYPE (GstNoomSession, gst_noom_session, GST, NOOM_SESSION,
    GstObject)

/* What the owning element (a GstBin) does at each step of a peer's life.
 * Every hook runs on the session thread. */
typedef struct
{
  /* Whether to connect to @p at all (NULL: everyone); in an SFU room,
   * whether to take @p's tracks from the relay. */
  gboolean (*accept) (GstElement * element, NoomParticipant * p);
  /* The peer's webrtcbin was added to the element (state not synced yet). */
  void (*peer_added) (GstElement * element, GstNoomPeer * peer);
  /* Offerer: add the transceivers before create-offer, in the directions
   * of the pair's plan (gst_noom_peer_plan_direction()). */
  void (*prepare_offer) (GstElement * element, GstNoomPeer * peer);
  /* Answerer: the remote offer is set; configure the transceivers before
   * create-answer. */
  void (*prepare_answer) (GstElement * element, GstNoomPeer * peer);
  /* Offer and answer are both set: transceivers have their current
   * direction. */
  void (*negotiated) (GstElement * element, GstNoomPeer * peer);
  /* ICE and DTLS are up. */
  void (*peer_connected) (GstElement * element, GstNoomPeer * peer);
  /* The peer is going: its webrtcbin still runs; unlink what feeds it. */
  void (*peer_removing) (GstElement * element, GstNoomPeer * peer);
  /* The webrtcbin is stopped (NULL) and about to leave the bin: release
   * everything linked to it. */
  void (*peer_removed) (GstElement * element, GstNoomPeer * peer);
  /* @p (already in the room) changed its nickname; its peer, if any, has
   * the new participant already. */
  void (*participant_updated) (GstElement * element, NoomParticipant * p);
  /* @p's media state (p->state, docs/protocol.md §3 media_state): for every
   * participant of the join ack, every newcomer, and on participant_media
   * when it changed. */
  void (*participant_media) (GstElement * element, NoomParticipant * p);
  /* SFU rooms (docs/protocol.md §11): @p left the room (bye).  Its tracks
   * came over the relay's connection, which stays: the element ends
   * them.  Not called in a mesh room, where @p's own peer goes. */
  void (*participant_left) (GstElement * element, NoomParticipant * p);
  /* In the room: the join ack's participants were offered to accept()
   * (also after a rejoin). */
  void (*joined) (GstElement * element, const gchar * room);
  /* Our connection to the server dropped: every peer goes next
   * (peer_removing, peer_removed) because of that, not because its
   * participant left.  The session then reconnects and rejoins within
   * reconnect-window (joined), or posts an error. */
  void (*connection_lost) (GstElement * element);
  /* SFU rooms: the server's media relay stopped (media_relay
   * "restarting"): the relay's peer goes next (peer_removing,
   * peer_removed) because of that; the new relay's first offer makes a
   * fresh one.  The participants stay in the room. */
  void (*relay_lost) (GstElement * element);
  /* SFU rooms: the relay's media_bandwidth, what the lowest layer of our
   * video should fit in (bit/s) for the slowest subscriber; 0 when none
   * limits it.  Also 0 once the relay is lost. */
  void (*relay_bandwidth) (GstElement * element, guint base_bitrate);
} GstNoomSessionHooks;

/* Property ids shared by noomsink and noomsrc; an element's own ids start
 * at GST_NOOM_SESSION_PROP_LAST. */
enum
{
  GST_NOOM_SESSION_PROP_URI = 1,
  GST_NOOM_SESSION_PROP_SERVER,
  GST_NOOM_SESSION_PROP_ROOM,
  GST_NOOM_SESSION_PROP_NICKNAME,
  GST_NOOM_SESSION_PROP_TOKEN,
  GST_NOOM_SESSION_PROP_ICE_SERVERS,
  GST_NOOM_SESSION_PROP_ICE_LOCAL_ADDRESSES,
  GST_NOOM_SESSION_PROP_MAX_PEERS,
  GST_NOOM_SESSION_PROP_CONNECT_TIMEOUT,
  GST_NOOM_SESSION_PROP_ACCEPT_INVALID_CERTIFICATES,
  GST_NOOM_SESSION_PROP_STATS,
  GST_NOOM_SESSION_PROP_ICE_TRANSPORT_POLICY,
  GST_NOOM_SESSION_PROP_RECONNECT_WINDOW,
  GST_NOOM_SESSION_PROP_LAST
};

void gst_noom_session_install_properties (GObjectClass * klass);
void gst_noom_session_install_signals (GObjectClass * klass);

/* For NULL_TO_READY: starts generating this process's DTLS certificate in
 * the background, once (the first webrtcbin would otherwise wait for it),
 * and checks that webrtcbin is installed.  FALSE, with an error posted on
 * @element, when it is not. */
gboolean gst_noom_session_prepare (GstElement * element);
/* For READY_TO_NULL: waits until that certificate is made, so that no
 * thread of ours runs once the elements are in NULL. */
void gst_noom_session_unprepare (void);

GstNoomSession *gst_noom_session_new (GstElement * element,
    const gchar * kind, const GstNoomSessionHooks * hooks);

/* The participant kind to join as (docs/protocol.md §3); before start. */
void gst_noom_session_set_kind (GstNoomSession * self, const gchar * kind);
/* What we take part in beyond the basics, the join option "features"
 * (docs/protocol.md §3): NOOM_FEATURE_SCREEN for an element that takes the
 * screen m-line; before start. */
void gst_noom_session_set_features (GstNoomSession * self,
    NoomFeatures features);
/* What we said at the join (gst_noom_session_set_features()). */
NoomFeatures gst_noom_session_get_features (GstNoomSession * self);

gboolean gst_noom_session_set_property (GstNoomSession * self, guint prop_id,
    const GValue * value, GParamSpec * pspec);
gboolean gst_noom_session_get_property (GstNoomSession * self, guint prop_id,
    GValue * value, GParamSpec * pspec);

gboolean gst_noom_session_set_uri (GstNoomSession * self, const gchar * uri,
    GError ** error);
gchar *gst_noom_session_get_uri (GstNoomSession * self);
const gchar *const *gst_noom_session_get_protocols (void);

/* Validates the settings (posting an error) and starts connecting on the
 * session thread.  Never blocks on the network. */
gboolean gst_noom_session_start (GstNoomSession * self);
/* Join the room, sending @sends, as soon as connected.  Any thread. */
void gst_noom_session_join (GstNoomSession * self, NoomMediaFlags sends);
/* Leave the room (EOS).  Any thread. */
void gst_noom_session_leave (GstNoomSession * self);
/* Tear down every peer and the connection; returns when the thread is
 * gone.  Not from the session thread. */
void gst_noom_session_stop (GstNoomSession * self);

/* For the element's handle_message: a child error inside one peer's
 * webrtcbin fails that peer only.  TRUE if the message was consumed. */
gboolean gst_noom_session_handle_message (GstNoomSession * self,
    GstMessage * message);

/* Marks an element as belonging to @peer: an error it posts fails that
 * peer only (see gst_noom_session_handle_message()). */
void gst_noom_session_mark_element (GstElement * element, GstNoomPeer * peer);

/* Drops whatever comes out of @pad, a src pad of a webrtcbin whose media
 * nobody wants, right there (a probe, no sink: a sink would block the
 * webrtcbin's streaming thread while PAUSED, and stopping the webrtcbin
 * would then wait for it). */
void gst_noom_session_drop_pad (GstPad * pad);

/* Send @text to the room's chat (send-chat).  FALSE, with a GST_WARNING,
 * when not in the room or @text is empty, not UTF-8 or over the default
 * limit.  Any thread. */
gboolean gst_noom_session_send_chat (GstNoomSession * self,
    const gchar * text);

/* What we send right now (a NoomMediaState: docs/protocol.md §5
 * media_state), told to the room now if in it and after every join.  Any
 * thread. */
void gst_noom_session_set_media_state (GstNoomSession * self, guint state);

/* Drop the connection to participant @id with a warning.  Any thread. */
void gst_noom_session_fail_peer (GstNoomSession * self, const gchar * id,
    const gchar * reason);

/* Run @func on the session thread.  Any thread. */
void gst_noom_session_invoke (GstNoomSession * self, GSourceFunc func,
    gpointer data, GDestroyNotify notify);

/* Run @func on the session thread in @ms ms; returns the source (a ref) to
 * destroy it, or NULL when stopped (@notify is then called).  Any thread. */
GSource *gst_noom_session_add_timeout (GstNoomSession * self, guint ms,
    GSourceFunc func, gpointer data, GDestroyNotify notify);

/* The participant @id of the room as the server told us, or NULL.
 * Session thread. */
NoomParticipant *gst_noom_session_get_participant (GstNoomSession * self,
    const gchar * id);

/* For GstNoomPeer, on the session thread. */
NoomClient *gst_noom_session_get_client (GstNoomSession * self);
GstElement *gst_noom_session_get_element (GstNoomSession * self);
void gst_noom_session_peer_connected (GstNoomSession * self,
    GstNoomPeer * peer);
void gst_noom_session_peer_failed (GstNoomSession * self, GstNoomPeer * peer,
    const gchar * reason);
/* Replace @peer (whose ICE failed; we offer) with a fresh one offering
 * again, reconnection number @attempt. */
void gst_noom_session_restart_peer (GstNoomSession * self, GstNoomPeer * peer,
    guint attempt);
const GstNoomSessionHooks *gst_noom_session_get_hooks (GstNoomSession * self);

G_END_DECLS
