/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-cluster: the nodes of one Redis (noom-server --redis).  It owns the
 * two hiredis connections (commands, pub/sub), the Lua scripts that change
 * the shared rooms atomically, the heartbeat and the reconnection.  What a
 * room is stays in noom-room-server, which keeps every remote participant
 * as a member without a socket (docs/server-internals.md, "Several
 * nodes").
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct _NoomCluster NoomCluster;

typedef struct {
  /* Redis went away (FALSE), or the node is registered again and has the
   * shared state (TRUE, after snapshot). */
  void (*state) (gboolean up, gpointer user_data);
  /* A membership change of another node: {"op":"join"|"leave"|"update"|
   * "roster","node",...} (docs/server-internals.md). */
  void (*op) (JsonObject * op, gpointer user_data);
  /* A frame for the local members of @room but @except (nullable), or
   * for the local member @to of @room (then @except is NULL). */
  void (*emit) (const gchar * room, const gchar * except, const gchar * to,
      GBytes * frame, gpointer user_data);
  /* The local members, for registering: a new array of {"room",
   * "participant"} objects. */
  JsonArray *(*roster) (gpointer user_data);
  /* The shared state, right after registering: the registered nodes and
   * every member as {"node","room","participant"}. */
  void (*snapshot) (const gchar * const *nodes, JsonArray * members,
      gpointer user_data);
  /* Once a second: the registered nodes (the dead ones were reaped). */
  void (*nodes) (const gchar * const *nodes, gpointer user_data);
  /* An operator removes the local participant @id (noom-server rooms
   * --remove). */
  void (*kick) (const gchar * id, gpointer user_data);
  /* SFU rooms across nodes: @m, an object of the relay's control channel
   * (docs/server-internals.md) about participant @id of @room, from
   * @node: for this node's relay (@to_relay: @id is one of @node's
   * participants), or from @node's relay for @id, one of ours. */
  void (*relay) (const gchar * node, gboolean to_relay, const gchar * room,
      const gchar * id, JsonObject * m, gpointer user_data);
} NoomClusterCallbacks;

/* @url: redis://[user:pass@]host[:port][/db]; @node_id: nullable (a
 * unique one is made). */
NoomCluster *noom_cluster_new (const gchar * url, const gchar * node_id,
    GError ** error);
void noom_cluster_start (NoomCluster * self,
    const NoomClusterCallbacks * callbacks, gpointer user_data);
/* Removes this node's participants from the shared state at once (a clean
 * stop), without waiting for the heartbeat to expire. */
void noom_cluster_stop (NoomCluster * self);
void noom_cluster_free (NoomCluster * self);

const gchar *noom_cluster_get_node_id (NoomCluster * self);
/* Connected, registered, synchronised. */
gboolean noom_cluster_is_up (NoomCluster * self);
/* Milliseconds of the last round trip to Redis (a PING), -1 when down. */
gdouble noom_cluster_get_latency_ms (NoomCluster * self);

/* @admitted: 1 admitted, 0 room full, -1 no answer (Redis away), -2
 * Redis answered with an error.  @members: with 1, the room's members as
 * {"node","participant"} objects.  @media_node: with 1 and @sfu, the node
 * whose relay forwards the room's media (this one or another), else
 * NULL. */
typedef void (*NoomClusterJoinDone) (gint admitted, JsonArray * members,
    const gchar * media_node, gpointer user_data);

/* Admits @participant (an object, with "id") into @room if it has fewer
 * than @max members (0: no limit), leaving @old_room (nullable) in the
 * same step.  @sfu: this node has a relay; the first such join records
 * its node as the room's media node (noom:sfu:ROOM), which stays while it
 * lives.  @done is always called, once. */
void noom_cluster_join (NoomCluster * self, const gchar * room,
    JsonNode * participant, guint max, const gchar * old_room, gboolean sfu,
    NoomClusterJoinDone done, gpointer user_data);

/* @media_node: the room's media node, "" when not asked for, NULL when
 * Redis did not answer. */
typedef void (*NoomClusterMediaDone) (const gchar * media_node,
    gpointer user_data);

/* Adds @participant without a capacity check (an HTTP participant); with
 * @sfu, @done (nullable) gets the room's media node as in
 * noom_cluster_join(). */
void noom_cluster_add (NoomCluster * self, const gchar * room,
    JsonNode * participant, gboolean sfu, NoomClusterMediaDone done,
    gpointer user_data);
/* The media node of @room died: @done gets the new one (this node when
 * none other took the room meanwhile), "" when the room is gone. */
void noom_cluster_claim_media (NoomCluster * self, const gchar * room,
    NoomClusterMediaDone done, gpointer user_data);
/* @m (an object of the relay's control channel, about participant @id of
 * @room) to @node: for its relay (@to_relay), or from this node's relay
 * to @node's participant @id. */
void noom_cluster_relay (NoomCluster * self, const gchar * node,
    gboolean to_relay, const gchar * room, const gchar * id, JsonObject * m);
void noom_cluster_leave (NoomCluster * self, const gchar * room,
    const gchar * id, const gchar * reason);
void noom_cluster_update (NoomCluster * self, const gchar * room,
    JsonNode * participant);
/* @frame to the members of @room on @node, but @except.  (One message
 * per node that has members there: no node reads what is not for it.) */
void noom_cluster_emit_room (NoomCluster * self, const gchar * node,
    const gchar * room, const gchar * except, GBytes * frame);
/* @frame to @to, a member of @room on @node. */
void noom_cluster_emit_to (NoomCluster * self, const gchar * node,
    const gchar * room, const gchar * to, GBytes * frame);

/* The relay counters of GET /metrics (noom_redis_relays_sent_total,
 * noom_redis_relays_received_total, noom_redis_publish_failures_total). */
void noom_cluster_write_metrics (NoomCluster * self, GString * out);

/* noom-server rooms: prints every room of the cluster of @url and its
 * participants (node, id, nickname, kind) on stdout; with @remove, asks
 * the node of that participant to disconnect it.  Blocking.  Returns the
 * exit status. */
gint noom_cluster_admin (const gchar * url, const gchar * remove,
    gboolean json);

G_END_DECLS
