/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GstNoomPeer: the WebRTC connection to one remote participant, a webrtcbin
 * in the element's bin.  It runs the offer/answer exchange it is told to
 * run (the session decides who offers), trickles candidates both ways and
 * queues remote ones that arrive before the remote description.  webrtcbin
 * calls back on its own threads; every callback is marshalled onto the
 * session thread, where all of this object's state lives.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <gst/sdp/sdp.h>

#include "gstnoompeer.h"
#include "noom-sdp.h"

GST_DEBUG_CATEGORY_STATIC (gst_noom_peer_debug);
#define GST_CAT_DEFAULT gst_noom_peer_debug

/* noomsrc's received VP8 layers are told over this long (µs) */
#define RECEIVE_LAYER_WINDOW G_USEC_PER_SEC

/* The highest VP8 temporal layer of the packets a peer sends, over a
 * window of RECEIVE_LAYER_WINDOW: its own box, so that noomsrc's probes
 * hold it without holding the peer. */
struct _GstNoomReceivedLayers
{
  GMutex lock;
  gint layer;                   /* of the last whole window, -1: none */
  gint window_max;
  gint64 window_start;
};

struct _GstNoomPeer
{
  GstObject parent;

  /* Set at creation, read-only after. */
  GstNoomSession *session;      /* not a ref: the session outlives peers */
  NoomOfferPlan plan;
  gboolean offerer;             /* plan.offer */
  GstElement *webrtc;

  /* Session thread only. */
  GPtrArray *tracks;            /* the element's, see get_tracks() */
  gpointer guard;
  GDestroyNotify guard_free;
  gboolean closed;
  gboolean remote_set;
  gboolean reported_connected;
  gboolean prepared;            /* transceivers set up for the first offer */
  GQueue pending_candidates;    /* Candidate* until the remote description */
  gchar *remote_offer;          /* the last remote offer, as applied */
  gchar *answer;                /* ours, sent once webrtcbin applied it */
  gboolean answering;           /* from a remote offer to our answer set */
  guint ice_restarts;           /* offers with ice-restart sent so far */
  GSource *recover_timer;       /* gives up on a failed connection */

  /* Replaced (atomically, on the session thread) when the participant is
   * renamed; the ones replaced stay alive in @renamed until finalize, so a
   * pointer another thread got from gst_noom_peer_get_participant() stays
   * valid.  The id never changes. */
  NoomParticipant *remote;
  GPtrArray *renamed;

  /* Under the object lock. */
  GstWebRTCPeerConnectionState state;
  guint send_estimate;          /* bit/s, 0: none */
  guint send_layer;
  gdouble send_loss;
  const gchar *send_feedback;   /* static */
  /* noomsrc: the VP8 temporal layers this peer's video comes in, shared
   * with the probes that see them */
  GstNoomReceivedLayers *received_layers;
  /* The relay's connection (docs/protocol.md §11): whose track each m-line
   * of its last offer carries, by m-line index (NoomParticipant*, NULL
   * for our upload m-lines and ended tracks), and which of them carry a
   * shared screen (gboolean, its msid's track id "screen"). */
  GPtrArray *owners;
  GArray *screens;
  /* A ref to each promise handed to webrtcbin and not answered yet.  A
   * webrtcbin stopped with the task still queued drops its ref without a
   * reply, and a promise freed while pending is a critical: closing
   * interrupts these first. */
  GPtrArray *promises;
};

typedef struct
{
  guint mline_index;
  gchar *candidate;
} Candidate;

G_DEFINE_TYPE_WITH_CODE (GstNoomPeer, gst_noom_peer, GST_TYPE_OBJECT,
    GST_DEBUG_CATEGORY_INIT (gst_noom_peer_debug, "noompeer", 0,
        "Noom WebRTC peer"));

static void
candidate_free (gpointer data)
{
  Candidate *c = data;

  g_free (c->candidate);
  g_free (c);
}

static void
gst_noom_peer_init (GstNoomPeer * self)
{
  g_queue_init (&self->pending_candidates);
  self->received_layers = g_atomic_rc_box_new0 (GstNoomReceivedLayers);
  g_mutex_init (&self->received_layers->lock);
  self->received_layers->layer = self->received_layers->window_max = -1;
  self->tracks = g_ptr_array_new ();
  self->promises = g_ptr_array_new ();
  self->owners = g_ptr_array_new_with_free_func ((GDestroyNotify)
      noom_participant_unref);
  self->screens = g_array_new (FALSE, TRUE, sizeof (gboolean));
  self->renamed = g_ptr_array_new_with_free_func ((GDestroyNotify)
      noom_participant_unref);
}

/* Withdraws every promise webrtcbin has not answered: an interrupted
 * promise may be freed, and a late reply to it is ignored. */
static void
interrupt_promises (GstNoomPeer * self)
{
  GPtrArray *promises;
  guint i;

  GST_OBJECT_LOCK (self);
  promises = self->promises;
  self->promises = g_ptr_array_new ();
  GST_OBJECT_UNLOCK (self);
  if (promises->len)
    GST_DEBUG_OBJECT (self, "interrupting %u unanswered promise(s)",
        promises->len);
  for (i = 0; i < promises->len; i++) {
    gst_promise_interrupt (promises->pdata[i]);
    gst_promise_unref (promises->pdata[i]);
  }
  g_ptr_array_unref (promises);
}

static void
gst_noom_peer_finalize (GObject * object)
{
  GstNoomPeer *self = GST_NOOM_PEER (object);

  g_queue_clear_full (&self->pending_candidates, candidate_free);
  gst_noom_received_layers_unref (self->received_layers);
  g_free (self->remote_offer);
  g_free (self->answer);
  /* empty: each promise's task holds a ref on us until close() */
  g_ptr_array_unref (self->promises);
  gst_clear_object (&self->webrtc);
  noom_participant_unref (self->remote);
  g_ptr_array_unref (self->renamed);
  g_ptr_array_unref (self->owners);
  g_array_unref (self->screens);
  g_ptr_array_unref (self->tracks);
  gst_noom_peer_set_guard (self, NULL, NULL);
  G_OBJECT_CLASS (gst_noom_peer_parent_class)->finalize (object);
}

static void
gst_noom_peer_class_init (GstNoomPeerClass * klass)
{
  G_OBJECT_CLASS (klass)->finalize = gst_noom_peer_finalize;
}

NoomParticipant *
gst_noom_peer_get_participant (GstNoomPeer * self)
{
  return g_atomic_pointer_get (&self->remote);
}

void
gst_noom_peer_set_participant (GstNoomPeer * self, NoomParticipant * p)
{
  NoomParticipant *old;

  g_return_if_fail (!g_strcmp0 (p->id, self->remote->id));
  old = g_atomic_pointer_exchange (&self->remote, noom_participant_ref (p));
  g_ptr_array_add (self->renamed, old);
}

GstElement *
gst_noom_peer_get_webrtcbin (GstNoomPeer * self)
{
  return self->webrtc;
}

gboolean
gst_noom_peer_is_offerer (GstNoomPeer * self)
{
  return self->offerer;
}

GPtrArray *
gst_noom_peer_get_tracks (GstNoomPeer * self)
{
  return self->tracks;
}

GPtrArray *
gst_noom_peer_steal_tracks (GstNoomPeer * self)
{
  GPtrArray *tracks = self->tracks;

  self->tracks = g_ptr_array_new ();
  return tracks;
}

void
gst_noom_peer_set_guard (GstNoomPeer * self, gpointer guard,
    GDestroyNotify free)
{
  if (self->guard && self->guard_free)
    self->guard_free (self->guard);
  self->guard = guard;
  self->guard_free = free;
}

gpointer
gst_noom_peer_steal_guard (GstNoomPeer * self)
{
  return g_steal_pointer (&self->guard);
}

const NoomOfferPlan *
gst_noom_peer_get_plan (GstNoomPeer * self)
{
  return &self->plan;
}

GstWebRTCRTPTransceiverDirection
gst_noom_peer_plan_direction (GstNoomPeer * self, NoomMediaFlags kind)
{
  switch (kind == NOOM_MEDIA_VIDEO ? self->plan.video : self->plan.audio) {
    case NOOM_DIRECTION_SENDRECV:
      return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDRECV;
    case NOOM_DIRECTION_SENDONLY:
      return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY;
    case NOOM_DIRECTION_RECVONLY:
      return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY;
    case NOOM_DIRECTION_NONE:
    default:
      return GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_NONE;
  }
}

gboolean
gst_noom_peer_is_connected (GstNoomPeer * self)
{
  gboolean ret;

  GST_OBJECT_LOCK (self);
  ret = self->state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED;
  GST_OBJECT_UNLOCK (self);
  return ret;
}

static void
fail (GstNoomPeer * self, const gchar * reason)
{
  if (self->closed)
    return;
  GST_WARNING_OBJECT (self, "failed: %s", reason);
  /* The offerer would otherwise wait for an answer that never comes
   * (docs/protocol.md §5, offer_failed). */
  if (self->answering) {
    NoomClient *client = gst_noom_session_get_client (self->session);

    self->answering = FALSE;
    if (client)
      noom_client_send_offer_failed (client, self->remote->id, reason);
  }
  /* Removes us from the session, which closes us. */
  gst_noom_session_peer_failed (self->session, self, reason);
}

/* ---- marshalling webrtcbin callbacks onto the session thread ---- */

typedef enum
{
  STEP_OFFER_CREATED,
  STEP_ANSWER_CREATED,
  STEP_REMOTE_OFFER_SET,
  STEP_REMOTE_ANSWER_SET,
  STEP_LOCAL_ANSWER_SET,
  STEP_CANDIDATE,
  STEP_STATE,
} Step;

typedef struct
{
  GstNoomPeer *peer;
  Step step;
  GstPromise *promise;
  guint mline_index;
  gchar *candidate;
} Task;

static void
task_free (gpointer data)
{
  Task *t = data;

  gst_object_unref (t->peer);
  if (t->promise)
    gst_promise_unref (t->promise);
  g_free (t->candidate);
  g_free (t);
}

static gboolean run_task (gpointer data);

static Task *
task_new (GstNoomPeer * self, Step step)
{
  Task *t = g_new0 (Task, 1);

  t->peer = gst_object_ref (self);
  t->step = step;
  return t;
}

/* webrtcbin's thread on a reply; the closing thread on an interrupt */
static void
on_promise_changed (GstPromise * promise, gpointer data)
{
  Task *t = data;
  Task *copy;
  gboolean ours;

  /* the caller holds a ref of its own while it calls us */
  GST_OBJECT_LOCK (t->peer);
  ours = g_ptr_array_remove_fast (t->peer->promises, promise);
  GST_OBJECT_UNLOCK (t->peer);
  if (ours)
    gst_promise_unref (promise);
  /* interrupted: the peer is closing and wants no answer */
  if (gst_promise_wait (promise) == GST_PROMISE_RESULT_INTERRUPTED)
    return;

  copy = task_new (t->peer, t->step);
  copy->promise = gst_promise_ref (promise);
  gst_noom_session_invoke (t->peer->session, run_task, copy, task_free);
}

/* Emits @signal (an action taking a promise last) with a promise that
 * comes back to @step on the session thread. */
static void
emit_with_promise (GstNoomPeer * self, const gchar * signal, gpointer arg,
    Step step)
{
  GstPromise *promise = gst_promise_new_with_change_func (on_promise_changed,
      task_new (self, step), task_free);

  GST_OBJECT_LOCK (self);
  g_ptr_array_add (self->promises, gst_promise_ref (promise));
  GST_OBJECT_UNLOCK (self);
  g_signal_emit_by_name (self->webrtc, signal, arg, promise);
  gst_promise_unref (promise);
}

/* The reply's "error", or a generic one when the promise did not get a
 * reply. */
static gboolean
check_reply (GstNoomPeer * self, GstPromise * promise, const gchar * what,
    const GstStructure ** reply_out)
{
  const GstStructure *reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree gchar *reason = NULL;

  if (gst_promise_wait (promise) != GST_PROMISE_RESULT_REPLIED) {
    reason = g_strdup_printf ("%s: no reply from webrtcbin", what);
    fail (self, reason);
    return FALSE;
  }
  reply = gst_promise_get_reply (promise);
  if (reply && gst_structure_has_field (reply, "error")) {
    gst_structure_get (reply, "error", G_TYPE_ERROR, &error, NULL);
    reason = g_strdup_printf ("%s: %s", what,
        error ? error->message : "unknown error");
    fail (self, reason);
    return FALSE;
  }
  if (reply_out)
    *reply_out = reply;
  return TRUE;
}

/* A candidate the remote trickles for a bundled m-line is one of its
 * group's tagged m-line (RFC 8843 §10.2): that is the only transport the
 * offer we normalised still has. */
static guint
transport_mline (GstNoomPeer * self, guint mline_index)
{
  guint tagged;

  if (!self->remote_offer)
    return mline_index;
  tagged = noom_sdp_transport_mline (self->remote_offer, mline_index);
  if (tagged != mline_index)
    GST_LOG_OBJECT (self, "candidate of bundled m-line %u goes to %u",
        mline_index, tagged);
  return tagged;
}

static void
flush_candidates (GstNoomPeer * self)
{
  Candidate *c;

  while ((c = g_queue_pop_head (&self->pending_candidates))) {
    guint mline = transport_mline (self, c->mline_index);

    GST_LOG_OBJECT (self, "applying queued candidate %u %s", mline,
        c->candidate);
    g_signal_emit_by_name (self->webrtc, "add-ice-candidate", mline,
        c->candidate);
    candidate_free (c);
  }
}

static void
on_description_created (GstNoomPeer * self, GstPromise * promise,
    gboolean offer)
{
  const GstStructure *reply = NULL;
  GstWebRTCSessionDescription *desc = NULL;
  g_autofree gchar *text = NULL;
  NoomClient *client;

  if (!check_reply (self, promise, offer ? "create-offer" : "create-answer",
          &reply))
    return;
  if (!reply || !gst_structure_get (reply, offer ? "offer" : "answer",
          GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &desc, NULL) || !desc) {
    fail (self, offer ? "webrtcbin created no offer" :
        "webrtcbin created no answer");
    return;
  }
  if (offer)
    g_signal_emit_by_name (self->webrtc, "set-local-description", desc, NULL);
  else
    emit_with_promise (self, "set-local-description", desc,
        STEP_LOCAL_ANSWER_SET);
  text = gst_sdp_message_as_text (desc->sdp);
  gst_webrtc_session_description_free (desc);
  if (!offer) {
    /* Sent once applied: the offerer may send media as soon as it has our
     * answer (the SFU relay does), and webrtcbin maps a stream to its
     * transceiver only once its local description is set. */
    g_free (self->answer);
    self->answer = g_steal_pointer (&text);
    return;
  }
  GST_DEBUG_OBJECT (self, "sending offer:\n%s", text);
  client = gst_noom_session_get_client (self->session);
  if (client)
    noom_client_send_offer (client, self->remote->id, text);
}

static gchar *
mid_for_mline (GstNoomPeer * self, guint mline_index)
{
  GstWebRTCSessionDescription *desc = NULL;
  gchar *mid = NULL;

  g_object_get (self->webrtc, "local-description", &desc, NULL);
  if (desc) {
    if (mline_index < gst_sdp_message_medias_len (desc->sdp)) {
      const GstSDPMedia *media = gst_sdp_message_get_media (desc->sdp,
          mline_index);
      mid = g_strdup (gst_sdp_media_get_attribute_val (media, "mid"));
    }
    gst_webrtc_session_description_free (desc);
  }
  return mid;
}

static void stop_recover_timer (GstNoomPeer * self);
static void on_failed (GstNoomPeer * self);

static void
on_state (GstNoomPeer * self)
{
  GstWebRTCPeerConnectionState state;

  g_object_get (self->webrtc, "connection-state", &state, NULL);
  GST_OBJECT_LOCK (self);
  self->state = state;
  GST_OBJECT_UNLOCK (self);
  GST_INFO_OBJECT (self, "connection state %d", state);

  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED)
    stop_recover_timer (self);
  if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED
      && !self->reported_connected) {
    self->reported_connected = TRUE;
    gst_noom_session_peer_connected (self->session, self);
  } else if (state == GST_WEBRTC_PEER_CONNECTION_STATE_FAILED) {
    on_failed (self);
  }
}

static void
stop_recover_timer (GstNoomPeer * self)
{
  if (self->recover_timer) {
    g_source_destroy (self->recover_timer);
    g_clear_pointer (&self->recover_timer, g_source_unref);
  }
}

static gboolean
recover_timeout (gpointer data)
{
  GstNoomPeer *self = data;

  g_clear_pointer (&self->recover_timer, g_source_unref);
  if (self->closed || gst_noom_peer_is_connected (self))
    return G_SOURCE_REMOVE;
  /* webrtcbin may stay "failed" without telling again: the offerer's next
   * attempt, or the end (for the relay's connection: a new one, which the
   * session asks for by joining again). */
  if (self->offerer)
    on_failed (self);
  else if (self->plan.relay)
    fail (self, "not connected 10 s after the answer");
  else
    fail (self, "ICE failed and did not recover");
  return G_SOURCE_REMOVE;
}

static void
start_recover_timer (GstNoomPeer * self, guint ms)
{
  stop_recover_timer (self);
  self->recover_timer = gst_noom_session_add_timeout (self->session, ms,
      recover_timeout, gst_object_ref (self), gst_object_unref);
}

/* ICE failed: the offerer of the pair reconnects it with a fresh
 * webrtcbin and a new offer (webrtcbin 1.22 cannot restart ICE in place:
 * create-offer has no ice-restart option yet); the answerer waits for that
 * offer.  Bounded: then the participant is dropped alone. */
static void
on_failed (GstNoomPeer * self)
{
  if (self->ice_restarts >= GST_NOOM_PEER_MAX_ICE_RESTARTS) {
    fail (self, "ICE or DTLS failed");
    return;
  }
  /* The relay never offers a fresh connection of its own accord: the
   * session gets one by joining again (gst_noom_session_peer_failed). */
  if (!self->offerer && self->plan.relay) {
    fail (self, "ICE or DTLS failed");
    return;
  }
  if (!self->offerer) {
    if (!self->recover_timer)
      start_recover_timer (self, GST_NOOM_PEER_ICE_RESTART_TIMEOUT *
          (GST_NOOM_PEER_MAX_ICE_RESTARTS + 1));
    return;
  }
  GST_WARNING_OBJECT (self, "ICE failed: reconnecting (attempt %u of %u)",
      self->ice_restarts + 1, GST_NOOM_PEER_MAX_ICE_RESTARTS);
  /* Replaces (and closes) us. */
  gst_noom_session_restart_peer (self->session, self, self->ice_restarts + 1);
}

void
gst_noom_peer_set_attempt (GstNoomPeer * self, guint attempt)
{
  self->ice_restarts = attempt;
  /* A fresh connection that neither fails nor connects in time counts as
   * failed too. */
  if (attempt > 0)
    start_recover_timer (self, GST_NOOM_PEER_ICE_RESTART_TIMEOUT);
}

gboolean
gst_noom_peer_has_remote (GstNoomPeer * self)
{
  return self->remote_set;
}

static void
negotiated (GstNoomPeer * self)
{
  const GstNoomSessionHooks *hooks = gst_noom_session_get_hooks (self->session);

  if (hooks->negotiated)
    hooks->negotiated (gst_noom_session_get_element (self->session), self);
}

static gboolean
run_task (gpointer data)
{
  Task *t = data;
  GstNoomPeer *self = t->peer;

  if (self->closed)
    return G_SOURCE_REMOVE;

  switch (t->step) {
    case STEP_OFFER_CREATED:
      on_description_created (self, t->promise, TRUE);
      break;
    case STEP_ANSWER_CREATED:
      on_description_created (self, t->promise, FALSE);
      break;
    case STEP_REMOTE_OFFER_SET:
      if (!check_reply (self, t->promise, "set-remote-description (offer)",
              NULL))
        break;
      self->remote_set = TRUE;
      /* A later offer (an ICE restart) keeps the transceivers we have; the
       * relay's later offers bring new m-lines (tracks that start), which
       * the element takes or refuses as it did the first ones. */
      if ((!self->prepared || self->plan.relay)
          && gst_noom_session_get_hooks (self->session)->prepare_answer)
        gst_noom_session_get_hooks (self->session)->prepare_answer
            (gst_noom_session_get_element (self->session), self);
      self->prepared = TRUE;
      emit_with_promise (self, "create-answer", NULL, STEP_ANSWER_CREATED);
      flush_candidates (self);
      break;
    case STEP_REMOTE_ANSWER_SET:
      if (!check_reply (self, t->promise, "set-remote-description (answer)",
              NULL))
        break;
      self->remote_set = TRUE;
      /* The first connection too must come up in time once both sides
       * know each other: ICE may connect and DTLS never (a handshake
       * whose first packets were lost for good), which webrtcbin 1.22
       * never calls failed.  The offerer then starts over, as for a
       * failure. */
      if (!gst_noom_peer_is_connected (self) && !self->recover_timer)
        start_recover_timer (self, GST_NOOM_PEER_ICE_RESTART_TIMEOUT);
      flush_candidates (self);
      negotiated (self);
      break;
    case STEP_LOCAL_ANSWER_SET:
      if (check_reply (self, t->promise, "set-local-description (answer)",
              NULL)) {
        NoomClient *client = gst_noom_session_get_client (self->session);
        g_autofree gchar *answer = g_steal_pointer (&self->answer);

        GST_DEBUG_OBJECT (self, "sending answer:\n%s", answer);
        if (client && answer)
          noom_client_send_answer (client, self->remote->id, answer);
        self->answering = FALSE;
        /* The relay's connection must come up in time too, ICE connected
         * and DTLS never finishing included (webrtcbin 1.22 never calls
         * that failed). */
        if (self->plan.relay && !gst_noom_peer_is_connected (self)
            && !self->recover_timer)
          start_recover_timer (self, GST_NOOM_PEER_ICE_RESTART_TIMEOUT);
        negotiated (self);
      }
      break;
    case STEP_CANDIDATE:{
      NoomClient *client = gst_noom_session_get_client (self->session);
      g_autofree gchar *mid = mid_for_mline (self, t->mline_index);

      GST_LOG_OBJECT (self, "local candidate %u %s", t->mline_index,
          t->candidate);
      if (client)
        noom_client_send_ice (client, self->remote->id, t->mline_index, mid,
            t->candidate);
      break;
    }
    case STEP_STATE:
      on_state (self);
      break;
  }
  return G_SOURCE_REMOVE;
}

/* webrtcbin's threads */
static void
on_ice_candidate (GstElement * webrtc, guint mline_index, gchar * candidate,
    GstNoomPeer * self)
{
  Task *t = task_new (self, STEP_CANDIDATE);

  t->mline_index = mline_index;
  t->candidate = g_strdup (candidate);
  gst_noom_session_invoke (self->session, run_task, t, task_free);
}

/* webrtcbin's threads */
static void
on_connection_state (GstElement * webrtc, GParamSpec * pspec,
    GstNoomPeer * self)
{
  gst_noom_session_invoke (self->session, run_task,
      task_new (self, STEP_STATE), task_free);
}

/* webrtcbin 1.22 gives its rtpbin an FEC decoder (rtpulpfecdec) for every
 * payload type that arrives, ULPFEC negotiated or not, and rtpbin asks for
 * it outside its shutdown lock: one asked for while the session is being
 * freed is lost with the packets its storage holds (LeakSanitizer saw it
 * in CI, in mesh and SFU tests alike).  Noom never negotiates ULPFEC (no
 * codec preferences list it, and transceivers keep fec-type none), so the
 * decoder would only pass packets through: webrtcbin's handlers of
 * rtpbin's requests are blocked, and rtpbin links the stream directly.
 * Returns how many were blocked (0: a webrtcbin that does this no more). */
static guint
no_fec_decoders (GstElement * webrtc)
{
  static const gchar *const requests[] = {
    "request-fec-decoder-full", "request-fec-decoder",
  };
  GstElement *rtpbin = gst_bin_get_by_name (GST_BIN (webrtc), "rtpbin");
  guint i, blocked = 0;

  if (!rtpbin)
    return 0;
  for (i = 0; i < G_N_ELEMENTS (requests); i++) {
    guint id = g_signal_lookup (requests[i], G_OBJECT_TYPE (rtpbin));

    if (id)
      blocked += g_signal_handlers_block_matched (rtpbin,
          G_SIGNAL_MATCH_ID | G_SIGNAL_MATCH_DATA, id, 0, NULL, NULL, webrtc);
  }
  gst_object_unref (rtpbin);
  return blocked;
}

/* ---- public, session thread ---- */

GstNoomPeer *
gst_noom_peer_new (GstNoomSession * session, NoomParticipant * remote,
    const NoomOfferPlan * plan)
{
  GstNoomPeer *self = g_object_new (GST_TYPE_NOOM_PEER, NULL);
  g_autofree gchar *name = g_strdup_printf ("peer-%s", remote->id);

  gst_object_ref_sink (self);
  gst_object_set_name (GST_OBJECT (self), name);
  self->session = session;
  self->remote = noom_participant_ref (remote);
  self->plan = *plan;
  self->offerer = plan->offer;

  self->webrtc = gst_element_factory_make ("webrtcbin", name);
  if (!self->webrtc) {
    GST_ERROR_OBJECT (self, "webrtcbin is missing");
    gst_object_unref (self);
    return NULL;
  }
  gst_object_ref_sink (self->webrtc);
  gst_noom_session_mark_element (self->webrtc, self);
  g_object_set (self->webrtc, "bundle-policy",
      GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, NULL);
  if (!no_fec_decoders (self->webrtc))
    GST_DEBUG_OBJECT (self, "webrtcbin asks for no FEC decoders to block");
  g_signal_connect (self->webrtc, "on-ice-candidate",
      G_CALLBACK (on_ice_candidate), self);
  g_signal_connect (self->webrtc, "notify::connection-state",
      G_CALLBACK (on_connection_state), self);
  return self;
}

void
gst_noom_peer_negotiate (GstNoomPeer * self)
{
  const GstNoomSessionHooks *hooks = gst_noom_session_get_hooks (self->session);

  g_return_if_fail (self->offerer);
  if (hooks->prepare_offer)
    hooks->prepare_offer (gst_noom_session_get_element (self->session), self);
  GST_DEBUG_OBJECT (self, "creating offer");
  emit_with_promise (self, "create-offer", NULL, STEP_OFFER_CREATED);
}

/* The participant id an m-line of the relay's offer carries: its
 * a=msid, or the msid of its a=ssrc lines (webrtcbin 1.22 writes only
 * these). */
static const gchar *
media_msid (const GstSDPMedia * media, gsize * len)
{
  const gchar *v;
  guint i;

  v = gst_sdp_media_get_attribute_val (media, "msid");
  if (!v) {
    for (i = 0; (v = gst_sdp_media_get_attribute_val_n (media, "ssrc", i)); i++) {
      v = strstr (v, " msid:");
      if (v) {
        v += strlen (" msid:");
        break;
      }
    }
  }
  if (!v)
    return NULL;
  *len = strcspn (v, " ");
  return *len ? v : NULL;
}

/* The relay's offer: who sends on each m-line (session thread, where the
 * room's participants are known). */
static void
read_owners (GstNoomPeer * self, const GstSDPMessage * msg)
{
  g_autoptr (GPtrArray) owners = g_ptr_array_new_with_free_func
      ((GDestroyNotify) noom_participant_unref);
  g_autoptr (GArray) screens = g_array_new (FALSE, TRUE, sizeof (gboolean));
  guint i;

  for (i = 0; i < gst_sdp_message_medias_len (msg); i++) {
    const GstSDPMedia *media = gst_sdp_message_get_media (msg, i);
    NoomParticipant *p = NULL;
    const gchar *msid;
    gboolean screen = FALSE;
    gsize len = 0;

    /* only what the relay sends us: not our upload m-lines (recvonly on
     * its side), not ended tracks (inactive) */
    if (gst_sdp_media_get_attribute_val (media, "sendonly")
        && (msid = media_msid (media, &len))) {
      g_autofree gchar *id = g_strndup (msid, len);

      p = gst_noom_session_get_participant (self->session, id);
      if (!p)
        GST_WARNING_OBJECT (self, "m-line %u carries %s, not a participant "
            "we know: taking nothing from it", i, id);
      /* docs/protocol.md §11: "a=msid:<id> screen" is its shared screen */
      screen = !strncmp (msid + len, " screen", 7) &&
          (msid[len + 7] == '\0' || g_ascii_isspace (msid[len + 7]));
    }
    g_ptr_array_add (owners, p ? noom_participant_ref (p) : NULL);
    g_array_append_val (screens, screen);
    GST_DEBUG_OBJECT (self, "m-line %u: %s%s", i, p ? p->id : "-",
        screen ? " (screen)" : "");
  }
  GST_OBJECT_LOCK (self);
  g_ptr_array_set_size (self->owners, 0);
  g_ptr_array_extend_and_steal (self->owners, g_steal_pointer (&owners));
  g_array_set_size (self->screens, 0);
  g_array_append_vals (self->screens, screens->data, screens->len);
  GST_OBJECT_UNLOCK (self);
}

gboolean
gst_noom_peer_is_screen_track (GstNoomPeer * self, guint mline)
{
  gboolean screen = FALSE;

  GST_OBJECT_LOCK (self);
  if (mline < self->screens->len)
    screen = g_array_index (self->screens, gboolean, mline);
  GST_OBJECT_UNLOCK (self);
  return screen;
}

gint
gst_noom_peer_video_index (GstNoomPeer * self, guint mline)
{
  GstWebRTCSessionDescription *desc = NULL;
  gint n = -1;
  guint i;

  g_object_get (self->webrtc, "local-description", &desc, NULL);
  if (!desc)
    return -1;
  if (mline < gst_sdp_message_medias_len (desc->sdp) &&
      !g_strcmp0 (gst_sdp_media_get_media (gst_sdp_message_get_media
              (desc->sdp, mline)), "video")) {
    for (i = 0, n = 0; i < mline; i++)
      if (!g_strcmp0 (gst_sdp_media_get_media (gst_sdp_message_get_media
                  (desc->sdp, i)), "video"))
        n++;
  }
  gst_webrtc_session_description_free (desc);
  return n;
}

NoomParticipant *
gst_noom_peer_get_track_owner (GstNoomPeer * self, guint mline)
{
  NoomParticipant *p = NULL;

  GST_OBJECT_LOCK (self);
  if (mline < self->owners->len && self->owners->pdata[mline])
    p = noom_participant_ref (self->owners->pdata[mline]);
  GST_OBJECT_UNLOCK (self);
  return p;
}

static void
set_remote (GstNoomPeer * self, const gchar * sdp, GstWebRTCSDPType type)
{
  GstSDPMessage *msg = NULL;
  GstWebRTCSessionDescription *desc;
  g_autofree gchar *normalized = NULL;

  GST_DEBUG_OBJECT (self, "remote %s:\n%s",
      type == GST_WEBRTC_SDP_TYPE_OFFER ? "offer" : "answer", sdp);
  if (type == GST_WEBRTC_SDP_TYPE_OFFER) {
    /* webrtcbin 1.22 refuses a bundle whose sections have transports of
     * their own (aiortc's offers), which RFC 8843 allows. */
    normalized = noom_sdp_normalize_bundle (sdp);
    sdp = normalized;
    g_free (self->remote_offer);
    self->remote_offer = g_strdup (normalized);
  }
  if (gst_sdp_message_new_from_text (sdp, &msg) != GST_SDP_OK || !msg) {
    fail (self, "the remote session description is not valid SDP");
    return;
  }
  if (type == GST_WEBRTC_SDP_TYPE_OFFER && self->plan.relay)
    read_owners (self, msg);
  desc = gst_webrtc_session_description_new (type, msg);
  emit_with_promise (self, "set-remote-description", desc,
      type == GST_WEBRTC_SDP_TYPE_OFFER ? STEP_REMOTE_OFFER_SET :
      STEP_REMOTE_ANSWER_SET);
  gst_webrtc_session_description_free (desc);
}

void
gst_noom_peer_handle_offer (GstNoomPeer * self, const gchar * sdp)
{
  if (self->offerer) {
    /* §7 makes this impossible unless the other side breaks the rule. */
    GST_WARNING_OBJECT (self, "ignoring an offer from %s: we offer",
        self->remote->id);
    return;
  }
  self->answering = TRUE;
  set_remote (self, sdp, GST_WEBRTC_SDP_TYPE_OFFER);
}

void
gst_noom_peer_handle_answer (GstNoomPeer * self, const gchar * sdp)
{
  if (!self->offerer) {
    GST_WARNING_OBJECT (self, "ignoring an answer from %s: we answer",
        self->remote->id);
    return;
  }
  set_remote (self, sdp, GST_WEBRTC_SDP_TYPE_ANSWER);
}

void
gst_noom_peer_handle_ice (GstNoomPeer * self, guint mline_index,
    const gchar * candidate)
{
  if (!candidate || !*candidate)
    return;                     /* end of candidates: nothing to do */
  if (!self->remote_set) {
    Candidate *c = g_new0 (Candidate, 1);

    c->mline_index = mline_index;
    c->candidate = g_strdup (candidate);
    g_queue_push_tail (&self->pending_candidates, c);
    return;
  }
  mline_index = transport_mline (self, mline_index);
  GST_LOG_OBJECT (self, "remote candidate %u %s", mline_index, candidate);
  g_signal_emit_by_name (self->webrtc, "add-ice-candidate", mline_index,
      candidate);
}

void
gst_noom_peer_close (GstNoomPeer * self)
{
  if (self->closed)
    return;
  self->closed = TRUE;
  GST_DEBUG_OBJECT (self, "closing");
  stop_recover_timer (self);
  g_signal_handlers_disconnect_by_data (self->webrtc, self);
  gst_element_set_locked_state (self->webrtc, TRUE);
  gst_element_set_state (self->webrtc, GST_STATE_NULL);
  interrupt_promises (self);
  GST_OBJECT_LOCK (self);
  self->state = GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED;
  GST_OBJECT_UNLOCK (self);
}

GstWebRTCRTPTransceiver *
gst_noom_peer_get_transceiver (GstNoomPeer * self, guint mline)
{
  GArray *transceivers = NULL;
  GstWebRTCRTPTransceiver *found = NULL;
  guint i;

  g_signal_emit_by_name (self->webrtc, "get-transceivers", &transceivers);
  for (i = 0; transceivers && i < transceivers->len && !found; i++) {
    GstWebRTCRTPTransceiver *t = g_array_index (transceivers,
        GstWebRTCRTPTransceiver *, i);
    guint index;

    g_object_get (t, "mlineindex", &index, NULL);
    if (index == mline)
      found = gst_object_ref (t);
  }
  if (transceivers)
    g_array_unref (transceivers);
  return found;
}

void
gst_noom_peer_add_transceiver (GstNoomPeer * self,
    GstWebRTCRTPTransceiverDirection direction, GstCaps * caps)
{
  GstWebRTCRTPTransceiver *trans = NULL;

  g_signal_emit_by_name (self->webrtc, "add-transceiver", direction, caps,
      &trans);
  gst_clear_object (&trans);
}

/* ---- stats ---- */

/* @field of @s, a counter of any integer type (webrtcbin's are guint64,
 * gint64 or gint), as a gint64 (every count fits); 0 when absent. */
static gint64
get_count (const GstStructure * s, const gchar * field)
{
  const GValue *v = gst_structure_get_value (s, field);
  GValue n = G_VALUE_INIT;
  gint64 ret = 0;

  if (!v)
    return 0;
  g_value_init (&n, G_TYPE_INT64);
  if (g_value_transform (v, &n))
    ret = g_value_get_int64 (&n);
  g_value_unset (&n);
  return ret;
}

typedef struct
{
  guint64 bytes_sent, packets_sent, bytes_received, packets_received;
  gint64 packets_lost;
  gdouble rtt;
} Totals;

static gboolean
add_stat (GQuark field, const GValue * value, gpointer data)
{
  Totals *t = data;
  const GstStructure *s;
  GstWebRTCStatsType type;

  if (!GST_VALUE_HOLDS_STRUCTURE (value))
    return TRUE;
  s = gst_value_get_structure (value);
  if (!gst_structure_get (s, "type", GST_TYPE_WEBRTC_STATS_TYPE, &type, NULL))
    return TRUE;
  switch (type) {
    case GST_WEBRTC_STATS_OUTBOUND_RTP:
      t->bytes_sent += get_count (s, "bytes-sent");
      t->packets_sent += get_count (s, "packets-sent");
      break;
    case GST_WEBRTC_STATS_INBOUND_RTP:
      t->bytes_received += get_count (s, "bytes-received");
      t->packets_received += get_count (s, "packets-received");
      t->packets_lost += get_count (s, "packets-lost");
      break;
    case GST_WEBRTC_STATS_REMOTE_INBOUND_RTP:{
      gdouble rtt = 0;

      t->packets_lost += get_count (s, "packets-lost");
      if (gst_structure_get_double (s, "round-trip-time", &rtt))
        t->rtt = MAX (t->rtt, rtt);
      break;
    }
    default:
      break;
  }
  return TRUE;
}

#define STATS_TIMEOUT (2 * G_TIME_SPAN_SECOND)

typedef struct
{
  GMutex lock;
  GCond cond;
  gboolean done;
} StatsWait;

static void
stats_wait_clear (gpointer data)
{
  StatsWait *sw = data;

  g_mutex_clear (&sw->lock);
  g_cond_clear (&sw->cond);
}

static void
stats_wait_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, stats_wait_clear);
}

static void
stats_replied (GstPromise * promise, gpointer data)
{
  StatsWait *sw = data;

  g_mutex_lock (&sw->lock);
  sw->done = TRUE;
  g_cond_broadcast (&sw->cond);
  g_mutex_unlock (&sw->lock);
}

GstNoomReceivedLayers *
gst_noom_peer_get_received_layers (GstNoomPeer * self)
{
  return g_atomic_rc_box_acquire (self->received_layers);
}

static void
received_layers_clear (gpointer data)
{
  g_mutex_clear (&((GstNoomReceivedLayers *) data)->lock);
}

void
gst_noom_received_layers_unref (gpointer layers)
{
  g_atomic_rc_box_release_full (layers, received_layers_clear);
}

/* A received VP8 packet of temporal layer @tid (streaming thread). */
void
gst_noom_received_layers_note (GstNoomReceivedLayers * rl, guint tid)
{
  gint64 now = g_get_monotonic_time ();

  g_mutex_lock (&rl->lock);
  if (now - rl->window_start >= RECEIVE_LAYER_WINDOW) {
    /* a window with nothing in it (a pause) says nothing */
    rl->layer = now - rl->window_start < 2 * RECEIVE_LAYER_WINDOW ?
        rl->window_max : -1;
    rl->window_max = tid;
    rl->window_start = now;
  } else {
    rl->window_max = MAX (rl->window_max, (gint) tid);
  }
  g_mutex_unlock (&rl->lock);
}

void
gst_noom_peer_set_bandwidth (GstNoomPeer * self, guint estimate, guint layer,
    gdouble loss, const gchar * feedback)
{
  GST_OBJECT_LOCK (self);
  self->send_feedback = feedback;
  self->send_estimate = estimate;
  self->send_layer = layer;
  self->send_loss = loss;
  GST_OBJECT_UNLOCK (self);
}

GstStructure *
gst_noom_peer_get_stats (GstNoomPeer * self)
{
  NoomParticipant *remote = gst_noom_peer_get_participant (self);
  GstWebRTCPeerConnectionState state;
  GEnumClass *klass;
  GEnumValue *ev;
  Totals t = { 0, };

  guint estimate, layer;
  gint recv_layer;
  gdouble loss;
  const gchar *feedback;
  GstStructure *s;

  GST_OBJECT_LOCK (self);
  state = self->state;
  estimate = self->send_estimate;
  layer = self->send_layer;
  loss = self->send_loss;
  feedback = self->send_feedback;
  GST_OBJECT_UNLOCK (self);
  g_mutex_lock (&self->received_layers->lock);
  /* nothing received for two windows: no layer to tell */
  recv_layer = g_get_monotonic_time () - self->received_layers->window_start
      < 2 * RECEIVE_LAYER_WINDOW ? self->received_layers->layer : -1;
  g_mutex_unlock (&self->received_layers->lock);

  if (state != GST_WEBRTC_PEER_CONNECTION_STATE_CLOSED) {
    StatsWait *sw = g_atomic_rc_box_new0 (StatsWait);
    GstPromise *promise;
    gint64 end = g_get_monotonic_time () + STATS_TIMEOUT;
    gboolean replied;

    g_mutex_init (&sw->lock);
    g_cond_init (&sw->cond);
    promise = gst_promise_new_with_change_func (stats_replied,
        g_atomic_rc_box_acquire (sw), stats_wait_release);
    g_signal_emit_by_name (self->webrtc, "get-stats", NULL, promise);
    /* Bounded: a webrtcbin shutting down may never answer. */
    g_mutex_lock (&sw->lock);
    while (!sw->done && g_cond_wait_until (&sw->cond, &sw->lock, end));
    replied = sw->done;
    g_mutex_unlock (&sw->lock);
    if (replied && gst_promise_wait (promise) == GST_PROMISE_RESULT_REPLIED
        && gst_promise_get_reply (promise))
      gst_structure_foreach (gst_promise_get_reply (promise), add_stat, &t);
    else if (!replied)
      GST_WARNING_OBJECT (self, "no statistics from webrtcbin");
    /* webrtcbin may still hold it, and drop it unanswered if it stops */
    gst_promise_interrupt (promise);
    gst_promise_unref (promise);
    stats_wait_release (sw);
  }

  klass = g_type_class_ref (GST_TYPE_WEBRTC_PEER_CONNECTION_STATE);
  ev = g_enum_get_value (klass, state);
  g_type_class_unref (klass);

  s = gst_structure_new ("participant",
      "id", G_TYPE_STRING, remote->id,
      "nickname", G_TYPE_STRING, remote->nickname,
      "kind", G_TYPE_STRING, remote->kind,
      "offerer", G_TYPE_BOOLEAN, self->offerer,
      "connection-state", G_TYPE_STRING, ev ? ev->value_nick : "unknown",
      "bytes-sent", G_TYPE_UINT64, t.bytes_sent,
      "packets-sent", G_TYPE_UINT64, t.packets_sent,
      "bytes-received", G_TYPE_UINT64, t.bytes_received,
      "packets-received", G_TYPE_UINT64, t.packets_received,
      "packets-lost", G_TYPE_INT64, t.packets_lost,
      "round-trip-time", G_TYPE_DOUBLE, t.rtt, NULL);
  /* noomsink with congestion control: its view of the link */
  if (estimate)
    gst_structure_set (s, "estimated-bitrate", G_TYPE_UINT, estimate,
        "video-layer", G_TYPE_UINT, layer, "fraction-lost", G_TYPE_DOUBLE,
        loss, "bandwidth-feedback", G_TYPE_STRING, feedback ? feedback :
        "none", NULL);
  /* noomsrc receiving a layered VP8: which layers come */
  else if (recv_layer >= 0)
    gst_structure_set (s, "video-layer", G_TYPE_UINT, (guint) recv_layer,
        NULL);
  return s;
}
