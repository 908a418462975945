/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-relay's model: rooms, the members connected to the relay (one
 * webrtcbin each), the tracks they publish (a tee each) and the branches
 * that forward a track to a member (a leaky queue each).  Everything here
 * is owned by the main loop's thread; webrtcbin's threads hand their work
 * over with relay_invoke().
 */
#pragma once

#include <gst/gst.h>
#include <gst/sdp/sdp.h>
#include <gst/webrtc/webrtc.h>
#include <json-glib/json-glib.h>

#include "gstnoombwe.h"

/* Transport-wide congestion control (TWCC) on the relay's connections:
 * the header extension's id and URI in its offers */
#define RELAY_TWCC_ID 3
#define RELAY_TWCC_URI \
  "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01"

G_BEGIN_DECLS

typedef struct _Relay Relay;
typedef struct _RelayRoom RelayRoom;
typedef struct _Member Member;
typedef struct _Track Track;
typedef struct _Branch Branch;

typedef enum
{
  KIND_AUDIO,
  KIND_VIDEO,
  N_KINDS
} TrackKind;

struct _Relay
{
  GMainLoop *loop;
  GstElement *pipeline;         /* every webrtcbin, tee and queue */
  GHashTable *rooms;            /* name -> RelayRoom */
  GOutputStream *out;           /* the control channel to noom-server */
  GCancellable *reading;        /* the read of the next line from it */
  gchar **local_addresses;      /* given to every ICE agent */
  gchar *stun_server;
  gchar **turn_servers;
  guint latency;                /* ms, of the publishers' jitterbuffers */
  guint64 rtcp_interval;        /* ns, rtcp-min-interval of every session */
  guint connect_timeout;        /* s: an HTTP participant not connected
                                   this long after its answer is gone */
  gint64 last_adapt;            /* monotonic us: forward_adapt() */
};

struct _RelayRoom
{
  Relay *relay;
  gchar *name;
  GHashTable *members;          /* id -> Member */
};

struct _Member
{
  gint refs;                    /* atomic: webrtcbin's threads hold refs */
  RelayRoom *room;              /* NULL once gone */
  gchar *id, *nickname, *kind;
  gboolean sends[N_KINDS];
  gboolean screens;             /* its join listed the feature "screen":
                                   it shares and takes shared screens */
  GstElement *webrtc;
  GstWebRTCRTPTransceiver *upload[N_KINDS];     /* recvonly, what it sends */
  guint upload_mline[N_KINDS];
  GstWebRTCRTPTransceiver *upload_screen;       /* recvonly: its shared
                                                   screen (a video track) */
  guint upload_screen_mline;
  gint upload_codec[N_KINDS];   /* what it sends, -1: the kind's first */
  GstStructure *upload_params[N_KINDS]; /* its format of it (nullable) */
  guint mlines;                 /* transceivers made so far: webrtcbin puts
                                   them in the offer in that order, and
                                   never takes one out */
  GPtrArray *tracks;            /* Track: what it publishes */
  GPtrArray *branches;          /* Branch: what it receives */
  gboolean offering;            /* an offer is out, no answer yet */
  gboolean offer_again;         /* something changed meanwhile */
  guint offers;                 /* sent so far */

  /* An HTTP participant (WHIP, WHEP: relay-answer.c): it offered once, the
   * relay answers, and nothing is ever renegotiated. */
  gboolean answering;
  gchar *play;                  /* WHEP: whose tracks it receives */
  GstSDPMessage *remote_offer;
  guint wait_source;            /* main thread: waiting for play's tracks,
                                   or for ICE gathering */
  gint64 wait_until;            /* monotonic us */
  GstWebRTCSessionDescription *local_answer;    /* set, not yet sent */
  GPtrArray *gathered;          /* Candidate: for the answer */
  gboolean gathering_done;
  gboolean answer_sent;
  gboolean gone_sent;
  gboolean restarting;          /* a restart's answer is being made */
  guint connect_source;         /* main thread: the answer went, no
                                   connection yet */

  /* Its link from the relay (relay-forward.c, "per-subscriber layers"):
   * estimated from its TWCC feedback on the RTP session's thread. */
  GMutex bwe_lock;
  GstNoomBwe bwe;               /* with bwe_lock */
  gboolean bwe_reported;        /* with bwe_lock: feedback came */
  guint estimate;               /* main thread: the last one read */
  /* atomic: RTCP feedback it sent (relay-forward.c) */
  guint64 nacks, keyframe_requests;
};

typedef struct
{
  guint mline;
  gchar *candidate;
} Candidate;

struct _Track
{
  gint refs;                    /* atomic */
  Member *owner;                /* NULL once ended */
  TrackKind kind;
  gboolean screen;              /* a shared screen (KIND_VIDEO): only for
                                   members that take screens */
  gint codec;                   /* what it carries (relay-forward.c) */
  guint32 ssrc;                 /* the relay's, the same to every member */
  GstPad *src;                  /* the owner's webrtcbin src pad */
  gulong canon_probe;           /* on @src: holds a ref to the track */
  GstElement *tee;
  GstCaps *caps;                /* what every branch carries */
  GPtrArray *branches;          /* Branch */
  GMutex lock;
  gint64 last_keyframe_request; /* with lock, monotonic us */
  gboolean keyframe_pending;    /* with lock: one is held back */
  gint64 keyframe_due;          /* with lock: when it goes, monotonic us */
  guint keyframe_source;        /* main thread: the timeout holding it */
  /* what arrives, for the choice of layers: added to on the publisher's
   * streaming thread, read on the main thread */
  guint64 bytes;                /* atomic */
  gint layered;                 /* atomic: VP8 with temporal layer ids */
  guint64 last_bytes;           /* main thread */
  guint bitrate;                /* main thread: bit/s, smoothed */
  /* main thread: the smallest share of a subscriber's estimate this
   * round (G_MAXUINT: none known), and the last media_bandwidth sent */
  guint slowest_share, told_base;
  gint64 told_at;
};

struct _Branch
{
  Track *track;                 /* ref */
  Member *to;                   /* weak: the member's branches own us */
  GstElement *queue;
  GstPad *queue_src;
  gint failed;                  /* atomic: its webrtcbin refused data */
  GstPad *tee_pad;
  GstWebRTCRTPTransceiver *transceiver;
  guint mline;                  /* its m-line in @to's offers */
  gboolean active;              /* FALSE once its track ended: inactive */
  gboolean in_offer;            /* in the offer that is out */
  gboolean answered;            /* @to answered its m-line */
  gboolean wants_keyframe;      /* @to has not been sent one yet */
  gint payload;                 /* @to's payload type, when it is not the
                                   track's (an answer to @to's offer) */
  GstCaps *caps;                /* what goes to @to: the track's, or with
                                   @payload, and TWCC */
  gulong payload_probe;
  gboolean twcc;                /* offered with TWCC: its packets carry it */
  struct _Layers *layers;       /* video: its filter, owned by its probe
                                   (which outlives the branch) */
  guint layer;                  /* main thread: the highest it gets */
  gint64 no_upswitch_until;     /* main thread, monotonic us */
};

/* noom-relay.c */
void relay_send (Relay * relay, JsonNode * message);
JsonBuilder *message_begin (const gchar * op, Member * m);
void message_send (Relay * relay, JsonBuilder * b);
void send_error (Member * m, const gchar * code, const gchar * message);
void candidate_free (gpointer data);
void relay_invoke (Member * member, void (*func) (Member *, gpointer),
    gpointer data, GDestroyNotify free_data);
Member *member_ref (Member * member);
void member_unref (Member * member);
void member_negotiate (Member * member);
const gchar *kind_name (TrackKind kind);

/* relay-forward.c */
GstCaps *forward_caps (TrackKind kind, guint32 ssrc);
GstCaps *forward_caps_full (TrackKind kind, gint codec, guint32 ssrc,
    const GstStructure * params);
gint forward_codec_find (TrackKind kind, const gchar * encoding_name,
    gint clock_rate);
gchar *forward_codec_names (TrackKind kind);
void forward_send_stats (Relay * relay);
void forward_adapt (Relay * relay);
void forward_bwe_init (Member * m);
GstCaps *forward_upload_caps (Member * m, TrackKind kind);
void forward_watch_session (Member * m, GstElement * rtpsession);
Track *track_new (Member * owner, GstPad * src, TrackKind kind);
Track *track_ref (Track * track);
void track_unref (Track * track);
void track_end (Track * track);
Branch *branch_new (Track * track, Member * to);
Branch *branch_new_for_answer (Track * track, Member * to, guint mline,
    gint payload);
void branch_end (Branch * branch);
void branch_free (Branch * branch);
void track_request_keyframe (Track * track, const gchar * why);
void track_request_first_keyframe (Track * track);

/* relay-answer.c */
void answer_start (Member * m, const gchar * offer);
void answer_candidate (Member * m, guint mline, const gchar * candidate);
void answer_gathering_changed (Member * m);
void answer_connection_changed (Member * m,
    GstWebRTCPeerConnectionState state);
void answer_restart (Member * m, const gchar * ufrag, const gchar * pwd);
void answer_clear (Member * m);

G_END_DECLS
