/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-client: the room signalling client (docs/protocol.md) over a libsoup
 * WebSocket (Engine.IO v4 websocket transport, Socket.IO v4).  Used by the
 * GStreamer elements and the tools.
 *
 * Threading: a NoomClient lives on the GMainContext that was thread-default
 * when it was created (its SoupSession is created there); every method must
 * be called, and every signal is emitted, on that context's thread.  The
 * elements run one such thread per element.
 */
#pragma once

#include <glib-object.h>
#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "noom-protocol.h"

G_BEGIN_DECLS

#define NOOM_CLIENT_ERROR (noom_client_error_quark ())
GQuark noom_client_error_quark (void);

typedef enum {
  NOOM_CLIENT_ERROR_UNREACHABLE,   /* could not connect (DNS, refused, TLS, timeout) */
  NOOM_CLIENT_ERROR_REFUSED,       /* Socket.IO CONNECT_ERROR, HTTP error */
  NOOM_CLIENT_ERROR_ROOM_FULL,     /* join answered room_full */
  NOOM_CLIENT_ERROR_FORBIDDEN,     /* join or connect answered forbidden */
  NOOM_CLIENT_ERROR_REJECTED,      /* any other error object from the server */
  NOOM_CLIENT_ERROR_DISCONNECTED,  /* the connection dropped */
  NOOM_CLIENT_ERROR_PROTOCOL,      /* the server broke the protocol */
  NOOM_CLIENT_ERROR_NOT_NOOM,      /* an HTTP server, but not a Noom one */
  NOOM_CLIENT_ERROR_CERTIFICATE,   /* the TLS certificate was not accepted */
  NOOM_CLIENT_ERROR_NO_ANSWER,     /* connected, but closed without an HTTP
                                      answer (a TLS port spoken to in plain
                                      HTTP does that) */
} NoomClientError;

/* The result of a join (docs/protocol.md §5 enter_room ack). */
typedef struct {
  gchar *room;
  NoomParticipant *self;
  GPtrArray *participants;      /* NoomParticipant*, the others, oldest first */
  guint count;
  gchar **ice_servers;          /* URLs with credentials folded in as
                                   webrtcbin wants them:
                                   "turn://user:pass@host:port" or
                                   "stun://host:port" */
  guint max_room_size;
  gchar *media;                 /* how the room carries media (§11):
                                   "mesh" (also from a server that does not
                                   say) or "sfu" */
  gchar *relay;                 /* SFU: the relay's id ("~sfu") to signal
                                   with; NULL in a mesh room */
  guint max_publishers;         /* SFU: 0 when not said */
} NoomJoinInfo;

void noom_join_info_free (NoomJoinInfo * info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NoomJoinInfo, noom_join_info_free);

#define NOOM_TYPE_CLIENT (noom_client_get_type ())
G_DECLARE_FINAL_TYPE (NoomClient, noom_client, NOOM, CLIENT, GObject)

NoomClient *noom_client_new (void);

/* Additive API (see docs/client.md) ------------------------------------- */

/* The connect timeout used when noom_client_connect_async() gets 0. */
#define NOOM_CLIENT_DEFAULT_CONNECT_TIMEOUT_MS 10000

/* The default of the "request-timeout" property. */
#define NOOM_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS 10000

/* Properties:
 *   "accept-invalid-certificates" (gboolean, default FALSE): for wss://
 *     (nooms://), accept a certificate that does not validate (self-signed,
 *     wrong host, expired).  For tests and private deployments only.
 *   "request-timeout" (guint ms, default NOOM_CLIENT_DEFAULT_REQUEST_TIMEOUT_MS):
 *     a join the server does not answer in time fails with
 *     NOOM_CLIENT_ERROR_UNREACHABLE; 0 waits until the connection drops.
 */

/* The ways of carrying media (docs/protocol.md §11) this client takes part
 * in, sent as the join option "media" by every later
 * noom_client_join_async(): NOOM_MEDIA_MODE_SFU for a client that answers
 * the relay's offers.  NONE (the default) leaves the option out, as an
 * older client does: an SFU server then refuses the join with
 * sfu_required (NOOM_CLIENT_ERROR_REJECTED). */
void noom_client_set_media_modes (NoomClient * self, NoomMediaModes modes);

/* What this client takes part in beyond the basics (docs/protocol.md §3),
 * sent as the join option "features" by every later
 * noom_client_join_async(): NOOM_FEATURE_SCREEN for a client that
 * negotiates the screen m-line (§7 "A shared screen").  NONE (the
 * default) leaves the option out. */
void noom_client_set_features (NoomClient * self, NoomFeatures features);

/* The room we are in (from the last successful join), or NULL. */
const gchar *noom_client_get_room (NoomClient * self);

/* Convert one ICE server URL as the protocol hands it out (RFC 7064/7065:
 * "stun:host[:port]", "turn:host[:port][?transport=udp|tcp]", "turns:...")
 * into the form webrtcbin's stun-server / turn-server / add-turn-server
 * take: "stun://host:port", "turn://user:pass@host:port[?transport=...]"
 * (user and pass URI-escaped; the default port is filled in).  A URL that
 * already has the "//" form is accepted too (its "user:pass@" is kept when
 * @username and @credential are NULL).  @username and @credential are only
 * used for turn/turns, where credentials are required. */
gchar *noom_ice_url_to_webrtcbin (const gchar * url, const gchar * username,
    const gchar * credential, GError ** error);

/* Connect to @websocket_url (from noom_uri_get_websocket_url()).  @auth is
 * sent as the Socket.IO CONNECT payload (nullable).  Fails with
 * NOOM_CLIENT_ERROR_UNREACHABLE within @timeout_ms when nothing answers. */
void noom_client_connect_async (NoomClient * self, const gchar * websocket_url,
    JsonObject * auth, guint timeout_ms, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
gboolean noom_client_connect_finish (NoomClient * self, GAsyncResult * res,
    GError ** error);

void noom_client_join_async (NoomClient * self, const gchar * room,
    const gchar * nickname, const gchar * kind, NoomMediaFlags sends,
    GCancellable * cancellable, GAsyncReadyCallback callback,
    gpointer user_data);
NoomJoinInfo *noom_client_join_finish (NoomClient * self, GAsyncResult * res,
    GError ** error);

/* Change our nickname (docs/protocol.md §5 "nickname"), in or out of a
 * room; the room gets participant_update.  Finishes with the nickname the
 * server confirmed, or NOOM_CLIENT_ERROR_REJECTED with the server's reason
 * (an invalid or too long name). */
void noom_client_set_nickname_async (NoomClient * self,
    const gchar * nickname, GCancellable * cancellable,
    GAsyncReadyCallback callback, gpointer user_data);
gchar *noom_client_set_nickname_finish (NoomClient * self,
    GAsyncResult * res, GError ** error);

/* Leave the room (leave_room); fire and forget. */
void noom_client_leave (NoomClient * self);
/* Close the connection (Socket.IO DISCONNECT, then the WebSocket). */
void noom_client_close (NoomClient * self);
gboolean noom_client_is_connected (NoomClient * self);
/* Our participant id, or NULL before CONNECT completed. */
const gchar *noom_client_get_id (NoomClient * self);

/* Relay to one participant (docs/protocol.md §5). @sdp is the SDP text. */
void noom_client_send_offer (NoomClient * self, const gchar * to,
    const gchar * sdp);
void noom_client_send_answer (NoomClient * self, const gchar * to,
    const gchar * sdp);
/* @candidate NULL sends the end-of-candidates null. */
void noom_client_send_ice (NoomClient * self, const gchar * to,
    guint mline_index, const gchar * mid, const gchar * candidate);
/* Tells @to that its offer could not be applied (docs/protocol.md §5
 * offer_failed); @reason is for people. */
void noom_client_send_offer_failed (NoomClient * self, const gchar * to,
    const gchar * reason);
void noom_client_send_chat (NoomClient * self, const gchar * text);
/* Says what we send right now (docs/protocol.md §5 media_state); only in
 * a room, fire and forget. */
void noom_client_send_media_state (NoomClient * self, NoomMediaState state);

/* Signals (all on the client's context):
 *   "participant-joined"  (NoomParticipant *p)       welcome
 *   "participant-left"    (NoomParticipant *p)       bye
 *   "participant-updated" (NoomParticipant *p)       participant_update
 *   "offer"   (const gchar *from, const gchar *sdp)
 *   "answer"  (const gchar *from, const gchar *sdp)
 *   "ice"     (const gchar *from, guint mline_index, const gchar *mid,
 *              const gchar *candidate)               candidate NULL = end
 *   "chat"    (const gchar *from, const gchar *nickname, const gchar *text)
 *   "server-error" (const gchar *code, const gchar *message)   noom_error;
 *                  detailed by the failed request's event name when the
 *                  server gives it ("server-error::new_message")
 *   "media-relay" (const gchar *state)  media_relay (§11): "restarting"
 *                                        or "ready" 
 *   "participant-media" (const gchar *id, guint state)  participant_media:
 *                  the participant's NoomMediaState
 *   "media-bandwidth" (guint base_bitrate)  media_bandwidth (§11): what
 *                  the lowest layer of our video should fit in, bit/s
 *   "disconnected" (GError *error)   the connection dropped or was closed
 *                                     by the server; not after _close()
 */

G_END_DECLS
