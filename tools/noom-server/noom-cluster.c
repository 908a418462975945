/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * noom-cluster: see noom-cluster.h and docs/server-internals.md ("Several
 * nodes") for the keys, channels and messages.
 *
 * Two connections: one for commands (the scripts, PUBLISH), one in
 * subscriber mode.  Either one failing drops both and reconnects both
 * every second: the node then registers again (its roster), reads the
 * whole shared state (snapshot) and is up.  Every membership change is a
 * Lua script that changes the keys and publishes the change with a
 * sequence number (noom:seq) in one atomic step, so every node sees the
 * changes in one order, and the snapshot's number tells which published
 * changes it already holds.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <string.h>
#include <stdlib.h>

#include <hiredis/hiredis.h>
#include <hiredis/async.h>

#include "noom-cluster.h"
#include "noom-engine.h"
#include "noom-metrics.h"
#include "noom-packet.h"

#define CLUSTER_CHANNEL "noom:cluster"
#define RECONNECT_MS 1000
#define TICK_MS 1000
/* A node that has not refreshed its heartbeat key for this long is dead:
 * the first survivor to notice removes its participants. */
#define ALIVE_TTL_MS 4000
#define SNAPSHOT_RETRIES 5

/* The events of the frames one node relays to another (the labels of
 * noom_redis_relays_*_total): chat and relays to a room, addressed
 * relays.  Any other frame, and a received one that does not read as an
 * event (Redis is input), counts as "other", the last. */
static const gchar *const relay_events[] = {
  "new_message", "offer", "answer", "ice", "offer_failed", "sfu", "other",
};

/* What goes between a node and the relay of another (SFU rooms). */
#define RELAY_EVENT_SFU (N_RELAY_EVENTS - 2)

#define N_RELAY_EVENTS G_N_ELEMENTS (relay_events)

/* Why a relay's PUBLISH failed (noom_redis_publish_failures_total). */
typedef enum
{
  PUBLISH_DOWN,                 /* not sent: Redis away */
  PUBLISH_ERROR,                /* an error, or no answer (connection lost) */
  PUBLISH_UNHEARD,              /* no node subscribed to the channel */
  PUBLISH_N_FAILURES
} PublishFailure;

static const gchar *const publish_failures[PUBLISH_N_FAILURES] = {
  "down", "error", "unheard",
};

/* Scripts Redis answered with an error (noom_redis_script_failures_total):
 * a full memory (maxmemory), an ACL, a Redis too old for a command. */
typedef enum
{
  SCRIPT_JOIN,                  /* a join: refused as unavailable */
  SCRIPT_CHANGE,                /* a leave, an update, a member added */
  SCRIPT_REGISTER,              /* this node's registration */
  SCRIPT_HEARTBEAT,
  SCRIPT_N_KINDS
} ScriptKind;

static const gchar *const script_kinds[SCRIPT_N_KINDS] = {
  "join", "change", "register", "heartbeat",
};

/* Every script publishes what it changed as "SEQ JSON". */
#define LUA_PUBLISH \
  "local function pub(m) redis.call('PUBLISH', '" CLUSTER_CHANNEL "', " \
  "redis.call('INCR', 'noom:seq') .. ' ' .. m) end\n" \
  "local function drop(room, id) local rk = 'noom:room:' .. room\n" \
  "  redis.call('HDEL', rk, id)\n" \
  "  if redis.call('EXISTS', rk) == 0 then " \
  "redis.call('SREM', 'noom:rooms', room) " \
  "redis.call('DEL', 'noom:sfu:' .. room) end end\n"

/* The node whose relay forwards the media of room @room (an SFU room):
 * the recorded one while it is alive, else @node, recorded now. */
#define LUA_MEDIA_NODE \
  "local function media_node(room, node)\n" \
  "  local sk = 'noom:sfu:' .. room\n" \
  "  local owner = redis.call('GET', sk)\n" \
  "  if owner and owner ~= node and " \
  "redis.call('EXISTS', 'noom:alive:' .. owner) == 1 then return owner end\n" \
  "  redis.call('SET', sk, node) return node end\n"

/* ARGV: room, id, entry, max, old room, leave message, join message,
 * node, sfu ("1": this node has a relay; the answer's third element is
 * the node whose relay forwards the room's media) */
static const gchar join_script[] = LUA_PUBLISH LUA_MEDIA_NODE
    "local rk = 'noom:room:' .. ARGV[1]\n"
    "local max = tonumber(ARGV[4])\n"
    "if redis.call('HEXISTS', rk, ARGV[2]) == 0 and max > 0 and "
    "redis.call('HLEN', rk) >= max then return {0} end\n"
    "local media = ''\n"
    "if ARGV[9] == '1' then media = media_node(ARGV[1], ARGV[8]) end\n"
    "if ARGV[5] ~= '' and ARGV[5] ~= ARGV[1] then\n"
    "  drop(ARGV[5], ARGV[2]) pub(ARGV[6]) end\n"
    "redis.call('HSET', rk, ARGV[2], ARGV[3])\n"
    "redis.call('SADD', 'noom:rooms', ARGV[1])\n"
    "redis.call('HSET', 'noom:members:' .. ARGV[8], ARGV[2], ARGV[1])\n"
    "pub(ARGV[7])\n" "return {1, redis.call('HGETALL', rk), media}\n";

/* ARGV: room, id, entry, join message, node, sfu (as in join_script);
 * answers the media node, or '' */
static const gchar add_script[] = LUA_PUBLISH LUA_MEDIA_NODE
    "local media = ''\n"
    "if ARGV[6] == '1' then media = media_node(ARGV[1], ARGV[5]) end\n"
    "redis.call('HSET', 'noom:room:' .. ARGV[1], ARGV[2], ARGV[3])\n"
    "redis.call('SADD', 'noom:rooms', ARGV[1])\n"
    "redis.call('HSET', 'noom:members:' .. ARGV[5], ARGV[2], ARGV[1])\n"
    "pub(ARGV[4])\n" "return media\n";

/* ARGV: room, node.  The room's media node died: the media node now. */
static const gchar claim_script[] = LUA_MEDIA_NODE
    "if redis.call('EXISTS', 'noom:room:' .. ARGV[1]) == 0 then "
    "return '' end\n" "return media_node(ARGV[1], ARGV[2])\n";

/* ARGV: room, id, node, message */
static const gchar leave_script[] = LUA_PUBLISH
    "local mk = 'noom:members:' .. ARGV[3]\n"
    "if redis.call('HGET', mk, ARGV[2]) == ARGV[1] then "
    "redis.call('HDEL', mk, ARGV[2]) end\n"
    "drop(ARGV[1], ARGV[2])\n" "pub(ARGV[4])\n" "return 1\n";

/* ARGV: room, id, entry, message */
static const gchar update_script[] = LUA_PUBLISH
    "local rk = 'noom:room:' .. ARGV[1]\n"
    "if redis.call('HEXISTS', rk, ARGV[2]) == 1 then "
    "redis.call('HSET', rk, ARGV[2], ARGV[3]) end\n"
    "pub(ARGV[4])\n" "return 1\n";

/* ARGV: node, ttl, roster message, then room, id, entry per member.  The
 * node's members are exactly these afterwards (a restarted node's old
 * ones, and those that left while Redis was away, are gone). */
static const gchar register_script[] = LUA_PUBLISH
    "local mk = 'noom:members:' .. ARGV[1]\n"
    "local keep = {}\n"
    "for i = 4, #ARGV, 3 do keep[ARGV[i + 1]] = ARGV[i] end\n"
    "local old = redis.call('HGETALL', mk)\n"
    "for i = 1, #old, 2 do\n"
    "  if keep[old[i]] ~= old[i + 1] then drop(old[i + 1], old[i]) end end\n"
    "redis.call('DEL', mk)\n"
    "for i = 4, #ARGV, 3 do\n"
    "  redis.call('HSET', 'noom:room:' .. ARGV[i], ARGV[i + 1], ARGV[i + 2])\n"
    "  redis.call('SADD', 'noom:rooms', ARGV[i])\n"
    "  redis.call('HSET', mk, ARGV[i + 1], ARGV[i]) end\n"
    "redis.call('SET', 'noom:alive:' .. ARGV[1], '1', 'PX', ARGV[2])\n"
    "redis.call('SADD', 'noom:nodes', ARGV[1])\n" "pub(ARGV[3])\n" "return 1\n";

/* ARGV: node.  A clean stop: the node's members leave now. */
static const gchar unregister_script[] = LUA_PUBLISH
    "local mk = 'noom:members:' .. ARGV[1]\n"
    "local m = redis.call('HGETALL', mk)\n"
    "for i = 1, #m, 2 do drop(m[i + 1], m[i])\n"
    "  pub(cjson.encode({op = 'leave', node = ARGV[1], room = m[i + 1], "
    "id = m[i], reason = 'node ' .. ARGV[1] .. ' stopped'})) end\n"
    "redis.call('DEL', mk, 'noom:alive:' .. ARGV[1])\n"
    "redis.call('SREM', 'noom:nodes', ARGV[1])\n" "return 1\n";

/* ARGV: node, ttl.  The heartbeat, and the reaping of dead nodes. */
static const gchar tick_script[] = LUA_PUBLISH
    "local was = redis.call('SISMEMBER', 'noom:nodes', ARGV[1])\n"
    "if was == 1 then redis.call('SET', 'noom:alive:' .. ARGV[1], '1', "
    "'PX', ARGV[2]) end\n"
    "for _, node in ipairs(redis.call('SMEMBERS', 'noom:nodes')) do\n"
    "  if redis.call('EXISTS', 'noom:alive:' .. node) == 0 then\n"
    "    local m = redis.call('HGETALL', 'noom:members:' .. node)\n"
    "    for i = 1, #m, 2 do drop(m[i + 1], m[i])\n"
    "      pub(cjson.encode({op = 'leave', node = node, room = m[i + 1], "
    "id = m[i], reason = 'node ' .. node .. ' stopped answering'})) end\n"
    "    redis.call('DEL', 'noom:members:' .. node)\n"
    "    redis.call('SREM', 'noom:nodes', node) end end\n"
    "return {was, redis.call('SMEMBERS', 'noom:nodes')}\n";

static const gchar snapshot_script[] =
    "local out = {}\n"
    "for _, room in ipairs(redis.call('SMEMBERS', 'noom:rooms')) do\n"
    "  table.insert(out, room)\n"
    "  table.insert(out, redis.call('HGETALL', 'noom:room:' .. room)) end\n"
    "return {redis.call('GET', 'noom:seq') or '0', "
    "redis.call('SMEMBERS', 'noom:nodes'), out}\n";

struct _NoomCluster
{
  gchar *host;
  gint port;
  gchar *user;
  gchar *password;
  gint db;
  gchar *node_id;
  gchar *node_channel;

  const NoomClusterCallbacks *cb;
  gpointer user_data;

  redisAsyncContext *cmd;
  redisAsyncContext *sub;
  gboolean cmd_connected;
  guint subscribed;             /* channels confirmed */
  gboolean syncing;
  gboolean up;
  gboolean ever_up;
  gboolean down_logged;         /* once per outage */
  guint generation;             /* bumped when the connections drop */
  gint64 max_seq;               /* highest change seen since (re)connecting */
  gint64 snapshot_seq;          /* changes up to this are in the snapshot */
  guint snapshot_retries;
  gdouble latency_ms;

  guint reconnect_source;
  guint tick_source;

  /* GET /metrics */
  guint64 relays_sent[N_RELAY_EVENTS];
  guint64 relays_received[N_RELAY_EVENTS];
  guint64 publish_failed[PUBLISH_N_FAILURES];
  guint64 script_failed[SCRIPT_N_KINDS];
};

typedef struct
{
  NoomCluster *self;
  guint generation;
  NoomClusterJoinDone done;
  NoomClusterMediaDone media_done;
  gpointer user_data;
  gint64 sent_us;
  guint event;                  /* a relay's: index in relay_events */
} Call;

/* The string member @name of @o, or @fallback when it is missing or not
 * a string (what comes from Redis is not trusted). */
static const gchar *
str_member (JsonObject * o, const gchar * name, const gchar * fallback)
{
  const gchar *v = noom_json_node_get_string (json_object_get_member (o,
          name));

  return v ? v : fallback;
}

/* hiredis on the GLib main loop.  Like hiredis's own adapter
 * (hiredis/adapters/glib.h), but without its g_main_context_wakeup() at
 * every change of the events to watch: hiredis changes them twice per
 * command (write wanted, then done), and each wakeup cost an eventfd write
 * and an extra main loop iteration per PUBLISH.  Everything runs on the
 * main thread, where the next poll reads the new events anyway.  Also, a
 * write that fails frees the context: then no read follows. */
typedef struct
{
  GSource source;
  redisAsyncContext *ac;        /* NULL once hiredis cleaned up */
  GPollFD poll_fd;
  gboolean want_read;           /* hiredis reads this connection */
  /* Replies to this callback may wait (PUBLISH's, on the command
   * connection): while they are all that is outstanding, the connection
   * is read at most every LAZY_READ_MS, many replies at once, instead of
   * one wakeup per reply.  Any other command outstanding reads at once. */
  redisCallbackFn *lazy_fn;
  gint64 drain_at;              /* when lazy replies are read; 0: none wait */
} RedisSource;

#define LAZY_READ_MS 50

static void
rs_add_read (void *data)
{
  ((RedisSource *) data)->want_read = TRUE;
}

static void
rs_del_read (void *data)
{
  ((RedisSource *) data)->want_read = FALSE;
}

/* Are there replies outstanding, all of them for rs->lazy_fn? */
static gboolean
rs_only_lazy (RedisSource * rs)
{
  redisCallback *cb = rs->ac->replies.head;

  if (cb == NULL)
    return FALSE;
  for (; cb; cb = cb->next)
    if (cb->fn != rs->lazy_fn)
      return FALSE;
  return TRUE;
}

static void
rs_add_write (void *data)
{
  ((RedisSource *) data)->poll_fd.events |= G_IO_OUT;
}

static void
rs_del_write (void *data)
{
  ((RedisSource *) data)->poll_fd.events &= ~G_IO_OUT;
}

static void
rs_cleanup (void *data)
{
  RedisSource *rs = data;

  rs->ac = NULL;
  if (rs->poll_fd.fd >= 0) {
    g_source_remove_poll (&rs->source, &rs->poll_fd);
    rs->poll_fd.fd = -1;
  }
}

static gboolean
rs_prepare (GSource * source, gint * timeout)
{
  RedisSource *rs = (RedisSource *) source;
  gboolean read = rs->want_read;

  *timeout = -1;
  if (read && rs->ac && rs->lazy_fn && rs_only_lazy (rs)) {
    gint64 now = g_source_get_time (source);

    if (rs->drain_at == 0)
      rs->drain_at = now + LAZY_READ_MS * 1000;
    if (now < rs->drain_at) {
      read = FALSE;
      *timeout = (gint) ((rs->drain_at - now + 999) / 1000);
    }
  } else {
    rs->drain_at = 0;
  }
  if (read)
    rs->poll_fd.events |= G_IO_IN;
  else
    rs->poll_fd.events &= ~G_IO_IN;
  return FALSE;
}

static gboolean
rs_check (GSource * source)
{
  RedisSource *rs = (RedisSource *) source;

  return rs->ac && (rs->poll_fd.revents & (rs->poll_fd.events | G_IO_HUP |
          G_IO_ERR));
}

static gboolean
rs_dispatch (GSource * source, GSourceFunc callback, gpointer user_data)
{
  RedisSource *rs = (RedisSource *) source;
  gushort revents = rs->poll_fd.revents;

  rs->poll_fd.revents = 0;
  if (rs->ac && (revents & G_IO_OUT))
    redisAsyncHandleWrite (rs->ac);
  if (rs->ac && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR))) {
    rs->drain_at = 0;
    redisAsyncHandleRead (rs->ac);
  }
  return G_SOURCE_CONTINUE;
}

static GSource *
redis_source_new (redisAsyncContext * ac)
{
  static GSourceFuncs funcs = {
    .prepare = rs_prepare,
    .check = rs_check,
    .dispatch = rs_dispatch,
  };
  RedisSource *rs = (RedisSource *) g_source_new (&funcs, sizeof (*rs));

  rs->ac = ac;
  rs->poll_fd.fd = ac->c.fd;
  g_source_add_poll (&rs->source, &rs->poll_fd);
  ac->ev.addRead = rs_add_read;
  ac->ev.delRead = rs_del_read;
  ac->ev.addWrite = rs_add_write;
  ac->ev.delWrite = rs_del_write;
  ac->ev.cleanup = rs_cleanup;
  ac->ev.data = rs;
  return &rs->source;
}

static void connect_all (NoomCluster * self);
static void on_publish_reply (redisAsyncContext * ac, void *r, void *privdata);
static void resync (NoomCluster * self);

static Call *
call_new (NoomCluster * self)
{
  Call *call = g_new0 (Call, 1);

  call->self = self;
  call->generation = self->generation;
  call->sent_us = g_get_monotonic_time ();
  return call;
}

/* ---------------------------------------------------------- messages */

static gchar *
object_to_string (JsonObject * o)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_set_object (node, o);
  return json_to_string (node, FALSE);
}

static JsonObject *
message_new (NoomCluster * self, const gchar * op, const gchar * room)
{
  JsonObject *o = json_object_new ();

  json_object_set_string_member (o, "op", op);
  json_object_set_string_member (o, "node", self->node_id);
  if (room)
    json_object_set_string_member (o, "room", room);
  return o;
}

/* {"node","participant"}: a member's value in noom:room:NAME. */
static gchar *
entry_string (NoomCluster * self, JsonNode * participant)
{
  g_autoptr (JsonObject) o = json_object_new ();

  json_object_set_string_member (o, "node", self->node_id);
  json_object_set_member (o, "participant", json_node_copy (participant));
  return object_to_string (o);
}

static const gchar *
participant_id (JsonNode * participant)
{
  if (!JSON_NODE_HOLDS_OBJECT (participant))
    return NULL;
  return str_member (json_node_get_object (participant), "id", NULL);
}

/* A value of noom:room:NAME as an object with a string "node" and an
 * object "participant", or NULL (logged): Redis is input too. */
static JsonObject *
parse_entry (const gchar * text, gsize len)
{
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *copy = g_strndup (text, len);
  JsonObject *o;
  JsonNode *p, *n;

  node = json_from_string (copy, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    goto bad;
  o = json_node_get_object (node);
  n = json_object_get_member (o, "node");
  p = json_object_get_member (o, "participant");
  if (n == NULL || json_node_get_value_type (n) != G_TYPE_STRING
      || p == NULL || !JSON_NODE_HOLDS_OBJECT (p))
    goto bad;
  return json_object_ref (o);

bad:
  g_message ("redis: skipped a malformed member entry");
  return NULL;
}

/* ---------------------------------------------------------- commands */

static gboolean
command (NoomCluster * self, redisCallbackFn * fn, Call * call,
    GPtrArray * args)
{
  g_autofree size_t *lens = g_new (size_t, args->len);
  guint i;

  for (i = 0; i < args->len; i++)
    lens[i] = strlen (args->pdata[i]);
  if (self->cmd == NULL || !self->cmd_connected
      || redisAsyncCommandArgv (self->cmd, fn, call, args->len,
          (const char **) args->pdata, lens) != REDIS_OK) {
    return FALSE;
  }
  return TRUE;
}

static GPtrArray *
eval_args (const gchar * script)
{
  GPtrArray *args = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (args, g_strdup ("EVAL"));
  g_ptr_array_add (args, g_strdup (script));
  g_ptr_array_add (args, g_strdup ("0"));
  return args;
}

static void
on_logged_reply (redisAsyncContext * ac, void *r, void *privdata)
{
  redisReply *reply = r;
  Call *call = privdata;

  if (reply && reply->type == REDIS_REPLY_ERROR) {
    g_message ("redis: command failed: %s", reply->str);
    call->self->script_failed[SCRIPT_CHANGE]++;
  }
  g_free (call);
}

/* A change that needs no answer: lost when Redis is away, and made good
 * by the roster when it is back. */
static void
fire (NoomCluster * self, GPtrArray * args)
{
  Call *call = call_new (self);

  if (!command (self, on_logged_reply, call, args))
    g_free (call);
}

/* The index in relay_events of the event a frame (42["NAME",...])
 * carries. */
static guint
relay_event (const gchar * frame, gsize len)
{
  const gchar *name, *quote;
  guint i;

  if (len < 5 || memcmp (frame, "42[\"", 4) != 0)
    return N_RELAY_EVENTS - 1;
  name = frame + 4;
  quote = memchr (name, '"', len - 4);
  if (quote == NULL)
    return N_RELAY_EVENTS - 1;
  for (i = 0; i < RELAY_EVENT_SFU; i++)
    if (strlen (relay_events[i]) == (gsize) (quote - name)
        && memcmp (relay_events[i], name, quote - name) == 0)
      return i;
  return N_RELAY_EVENTS - 1;
}

/* ---------------------------------------------------------- subscriber */

/* A "LEN:" prefixed field of an emit; advances *p. */
static gboolean
take_field (const gchar ** p, const gchar * end, gchar ** out)
{
  const gchar *colon = memchr (*p, ':', end - *p);
  gchar *endnum;
  guint64 len;

  if (colon == NULL || colon == *p)
    return FALSE;
  len = g_ascii_strtoull (*p, &endnum, 10);
  if (endnum != colon || len > (guint64) (end - colon - 1))
    return FALSE;
  *out = g_strndup (colon + 1, len);
  *p = colon + 1 + len;
  return TRUE;
}

static void
on_emit (NoomCluster * self, const gchar * text, gsize len)
{
  const gchar *p = text + 1, *end = text + len;
  g_autofree gchar *node = NULL, *room = NULL, *who = NULL;
  g_autoptr (GBytes) frame = NULL;

  if (!take_field (&p, end, &node) || !take_field (&p, end, &who)
      || !take_field (&p, end, &room)) {
    g_message ("redis: skipped a malformed emit");
    return;
  }
  if (strcmp (node, self->node_id) == 0)
    return;
  self->relays_received[relay_event (p, end - p)]++;
  frame = g_bytes_new (p, end - p);
  if (text[0] == 'e')
    self->cb->emit (room, *who ? who : NULL, NULL, frame, self->user_data);
  else
    self->cb->emit (room, NULL, who, frame, self->user_data);
}

/* 'r' (for this node's relay) or 'o' (from the sender's relay): an
 * object of the relay's control channel about a participant. */
static void
on_relay_object (NoomCluster * self, const gchar * text, gsize len)
{
  const gchar *p = text + 1, *end = text + len;
  g_autofree gchar *node = NULL, *room = NULL, *id = NULL, *json = NULL;
  g_autoptr (JsonNode) object = NULL;

  if (!take_field (&p, end, &node) || !take_field (&p, end, &id)
      || !take_field (&p, end, &room)) {
    g_message ("redis: skipped a malformed relay message");
    return;
  }
  if (strcmp (node, self->node_id) == 0)
    return;
  self->relays_received[RELAY_EVENT_SFU]++;
  json = g_strndup (p, end - p);
  object = json_from_string (json, NULL);
  if (object == NULL || !JSON_NODE_HOLDS_OBJECT (object)
      || noom_json_node_get_string (json_object_get_member
          (json_node_get_object (object), "op")) == NULL) {
    g_message ("redis: skipped a relay message of node %s that is not an "
        "object with an op", node);
    return;
  }
  if (self->cb->relay)
    self->cb->relay (node, text[0] == 'r', room, id,
        json_node_get_object (object), self->user_data);
}

static void
on_change (NoomCluster * self, const gchar * text, gsize len)
{
  const gchar *space = memchr (text, ' ', len);
  g_autoptr (JsonNode) node = NULL;
  g_autofree gchar *json = NULL;
  JsonObject *o;
  const gchar *op, *from;
  gint64 seq;

  if (space == NULL)
    goto bad;
  seq = g_ascii_strtoll (text, NULL, 10);
  if (seq <= self->snapshot_seq)
    return;                     /* the snapshot has it */
  self->max_seq = MAX (self->max_seq, seq);
  json = g_strndup (space + 1, text + len - space - 1);
  node = json_from_string (json, NULL);
  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node))
    goto bad;
  o = json_node_get_object (node);
  op = str_member (o, "op", NULL);
  from = str_member (o, "node", NULL);
  if (op == NULL || from == NULL)
    goto bad;
  if (strcmp (from, self->node_id) == 0)
    return;
  self->cb->op (o, self->user_data);
  return;

bad:
  g_message ("redis: skipped a malformed message on " CLUSTER_CHANNEL);
}

static void
on_sub_message (redisAsyncContext * ac, void *r, void *privdata)
{
  NoomCluster *self = ac->data;
  redisReply *reply = r;
  redisReply *kind, *payload;

  if (reply == NULL || self == NULL || reply->type != REDIS_REPLY_ARRAY
      || reply->elements < 3)
    return;
  kind = reply->element[0];
  payload = reply->element[2];
  if (kind->type != REDIS_REPLY_STRING)
    return;
  if (strcmp (kind->str, "subscribe") == 0) {
    if (++self->subscribed == 2 && self->cmd_connected)
      resync (self);
    return;
  }
  if (strcmp (kind->str, "message") != 0
      || payload->type != REDIS_REPLY_STRING || payload->len == 0)
    return;
  if (g_ascii_isdigit (payload->str[0]))
    on_change (self, payload->str, payload->len);
  else if (payload->str[0] == 'e' || payload->str[0] == 't')
    on_emit (self, payload->str, payload->len);
  else if (payload->str[0] == 'r' || payload->str[0] == 'o')
    on_relay_object (self, payload->str, payload->len);
  else if (payload->str[0] == 'k' && self->cb->kick)
    self->cb->kick (payload->str + 1, self->user_data);
  else
    g_message ("redis: skipped an unknown message");
}

/* ---------------------------------------------------------- sync */

static const gchar **
strv_of_reply (redisReply * r)
{
  const gchar **v;
  gsize i, n = 0;

  if (r == NULL || r->type != REDIS_REPLY_ARRAY)
    return g_new0 (const gchar *, 1);
  v = g_new0 (const gchar *, r->elements + 1);
  for (i = 0; i < r->elements; i++)
    if (r->element[i]->type == REDIS_REPLY_STRING)
      v[n++] = r->element[i]->str;
  return v;
}

static void on_snapshot (redisAsyncContext * ac, void *r, void *privdata);

static void
request_snapshot (NoomCluster * self)
{
  g_autoptr (GPtrArray) args = eval_args (snapshot_script);
  Call *call = call_new (self);

  if (!command (self, on_snapshot, call, args))
    g_free (call);
}

static void
on_snapshot (redisAsyncContext * ac, void *r, void *privdata)
{
  redisReply *reply = r;
  Call *call = privdata;
  NoomCluster *self = call->self;
  g_autoptr (JsonArray) members = NULL;
  g_autofree const gchar **nodes = NULL;
  redisReply *rooms;
  gint64 seq;
  gsize i, j;

  if (reply == NULL || call->generation != self->generation) {
    g_free (call);
    return;
  }
  self->latency_ms = (g_get_monotonic_time () - call->sent_us) / 1000.0;
  g_free (call);
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 3
      || reply->element[0]->type != REDIS_REPLY_STRING
      || reply->element[2]->type != REDIS_REPLY_ARRAY) {
    g_message ("redis: unexpected snapshot reply");
    return;
  }
  seq = g_ascii_strtoll (reply->element[0]->str, NULL, 10);
  if (self->max_seq > seq && self->snapshot_retries++ < SNAPSHOT_RETRIES) {
    /* Changes newer than it already applied: it would undo them.  (A
     * number that never comes, from something else writing on the
     * channel, must not keep the node out for good.) */
    request_snapshot (self);
    return;
  }
  self->snapshot_seq = seq;
  nodes = strv_of_reply (reply->element[1]);
  members = json_array_new ();
  rooms = reply->element[2];
  for (i = 0; i + 1 < rooms->elements; i += 2) {
    redisReply *name = rooms->element[i], *list = rooms->element[i + 1];

    if (name->type != REDIS_REPLY_STRING || list->type != REDIS_REPLY_ARRAY)
      continue;
    for (j = 0; j + 1 < list->elements; j += 2) {
      redisReply *v = list->element[j + 1];
      JsonObject *e;

      if (v->type != REDIS_REPLY_STRING
          || (e = parse_entry (v->str, v->len)) == NULL)
        continue;
      json_object_set_string_member (e, "room", name->str);
      json_array_add_object_element (members, e);
    }
  }
  self->cb->snapshot (nodes, members, self->user_data);
  self->syncing = FALSE;
  self->up = TRUE;
  self->down_logged = FALSE;
  g_message ("redis: node %s %s the cluster (%u nodes, %u participants)",
      self->node_id, self->ever_up ? "rejoined" : "joined",
      g_strv_length ((gchar **) nodes), json_array_get_length (members));
  self->ever_up = TRUE;
  self->cb->state (TRUE, self->user_data);
}

static void
on_registered (redisAsyncContext * ac, void *r, void *privdata)
{
  redisReply *reply = r;
  Call *call = privdata;
  NoomCluster *self = call->self;

  if (reply == NULL || call->generation != self->generation) {
    g_free (call);
    return;
  }
  g_free (call);
  if (reply->type == REDIS_REPLY_ERROR) {
    g_message ("redis: registering failed: %s", reply->str);
    self->script_failed[SCRIPT_REGISTER]++;
    self->syncing = FALSE;
    return;
  }
  request_snapshot (self);
}

/* Register (the roster), then read everything (the snapshot). */
static void
resync (NoomCluster * self)
{
  g_autoptr (GPtrArray) args = eval_args (register_script);
  g_autoptr (JsonArray) roster = self->cb->roster (self->user_data);
  g_autoptr (JsonObject) msg = message_new (self, "roster", NULL);
  Call *call;
  guint i;

  if (self->syncing)
    return;
  self->syncing = TRUE;
  self->max_seq = 0;
  self->snapshot_seq = 0;
  self->snapshot_retries = 0;
  g_ptr_array_add (args, g_strdup (self->node_id));
  g_ptr_array_add (args, g_strdup_printf ("%d", ALIVE_TTL_MS));
  json_object_set_array_member (msg, "members", json_array_ref (roster));
  g_ptr_array_add (args, object_to_string (msg));
  for (i = 0; i < json_array_get_length (roster); i++) {
    JsonObject *m = json_array_get_object_element (roster, i);
    JsonNode *p = json_object_get_member (m, "participant");

    g_ptr_array_add (args, g_strdup (json_object_get_string_member (m,
                "room")));
    g_ptr_array_add (args, g_strdup (participant_id (p)));
    g_ptr_array_add (args, entry_string (self, p));
  }
  call = call_new (self);
  if (!command (self, on_registered, call, args)) {
    g_free (call);
    self->syncing = FALSE;
  }
}

/* ---------------------------------------------------------- heartbeat */

static void
on_tick (redisAsyncContext * ac, void *r, void *privdata)
{
  redisReply *reply = r;
  Call *call = privdata;
  NoomCluster *self = call->self;
  g_autofree const gchar **nodes = NULL;

  if (reply == NULL || call->generation != self->generation) {
    g_free (call);
    return;
  }
  self->latency_ms = (g_get_monotonic_time () - call->sent_us) / 1000.0;
  g_free (call);
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements != 2
      || reply->element[0]->type != REDIS_REPLY_INTEGER) {
    if (reply->type == REDIS_REPLY_ERROR) {
      g_message ("redis: heartbeat failed: %s", reply->str);
      self->script_failed[SCRIPT_HEARTBEAT]++;
    }
    return;
  }
  if (reply->element[0]->integer == 0 && self->up && !self->syncing) {
    /* Redis lost us (restarted empty, or thought us dead). */
    g_message ("redis: node %s is no longer registered: registering again",
        self->node_id);
    resync (self);
    return;
  }
  nodes = strv_of_reply (reply->element[1]);
  if (self->up && !self->syncing)
    self->cb->nodes (nodes, self->user_data);
}

static gboolean
tick_cb (gpointer data)
{
  NoomCluster *self = data;
  g_autoptr (GPtrArray) args = NULL;
  Call *call;

  if (!self->cmd_connected)
    return G_SOURCE_CONTINUE;
  args = eval_args (tick_script);
  g_ptr_array_add (args, g_strdup (self->node_id));
  g_ptr_array_add (args, g_strdup_printf ("%d", ALIVE_TTL_MS));
  call = call_new (self);
  if (!command (self, on_tick, call, args))
    g_free (call);
  return G_SOURCE_CONTINUE;
}

/* ---------------------------------------------------------- connections */

static gboolean
destroy_source_cb (gpointer data)
{
  g_source_destroy (data);
  g_source_unref (data);
  return G_SOURCE_REMOVE;
}

static gboolean
reconnect_cb (gpointer data)
{
  NoomCluster *self = data;

  self->reconnect_source = 0;
  connect_all (self);
  return G_SOURCE_REMOVE;
}

/* Frees @ac at once (its waiting commands get NULL replies) and its
 * GSource.  Not for the context whose callback is running. */
static void
drop_context (redisAsyncContext * ac)
{
  GSource *source = ac->ev.data;

  ac->data = NULL;
  redisAsyncFree (ac);
  g_source_destroy (source);
  g_source_unref (source);
}

/* One of the connections failed or closed (@ac is freed after this): drop
 * the other too and try again in a second. */
static void
lost (NoomCluster * self, const redisAsyncContext * ac, const gchar * what)
{
  gboolean was_up = self->up;
  redisAsyncContext *other = ac == self->cmd ? self->sub : self->cmd;

  g_idle_add (destroy_source_cb, ac->ev.data);
  self->cmd = NULL;
  self->sub = NULL;
  self->cmd_connected = FALSE;
  self->subscribed = 0;
  self->up = FALSE;
  self->syncing = FALSE;
  self->generation++;
  self->latency_ms = -1;
  if (!self->down_logged) {
    g_message ("redis: %s %s:%d: %s; new joins are refused, joined "
        "participants stay, retrying every %d ms", what, self->host,
        self->port, ac->errstr[0] ? ac->errstr : "connection closed",
        RECONNECT_MS);
    self->down_logged = TRUE;
  }
  if (other)
    drop_context (other);
  if (was_up)
    self->cb->state (FALSE, self->user_data);
  if (self->reconnect_source == 0)
    self->reconnect_source = g_timeout_add (RECONNECT_MS, reconnect_cb, self);
}

static void
on_connect (const redisAsyncContext * ac, int status)
{
  NoomCluster *self = ac->data;

  if (self == NULL)
    return;
  if (status != REDIS_OK) {
    lost (self, ac, "cannot connect to");
    return;
  }
  if (ac == self->cmd) {
    self->cmd_connected = TRUE;
    if (self->subscribed == 2)
      resync (self);
  }
}

static void
on_disconnect (const redisAsyncContext * ac, int status)
{
  NoomCluster *self = ac->data;

  if (self == NULL)
    return;
  lost (self, ac, "lost the connection to");
}

static void
on_setup_reply (redisAsyncContext * ac, void *r, void *privdata)
{
  redisReply *reply = r;

  if (reply && reply->type == REDIS_REPLY_ERROR) {
    g_message ("redis: %s: %s", (const gchar *) privdata, reply->str);
    redisAsyncDisconnect (ac);
  }
}

static redisAsyncContext *
connect_one (NoomCluster * self)
{
  redisAsyncContext *ac = redisAsyncConnect (self->host, self->port);
  GSource *source;

  if (ac == NULL)
    return NULL;
  if (ac->err) {
    if (!self->down_logged) {
      g_message ("redis: cannot connect to %s:%d: %s", self->host,
          self->port, ac->errstr);
      self->down_logged = TRUE;
    }
    redisAsyncFree (ac);
    return NULL;
  }
  ac->data = self;
  source = redis_source_new (ac);
  g_source_attach (source, NULL);
  redisAsyncSetConnectCallback (ac, on_connect);
  redisAsyncSetDisconnectCallback (ac, on_disconnect);
  if (self->password) {
    if (self->user)
      redisAsyncCommand (ac, on_setup_reply, (gpointer) "AUTH", "AUTH %s %s",
          self->user, self->password);
    else
      redisAsyncCommand (ac, on_setup_reply, (gpointer) "AUTH", "AUTH %s",
          self->password);
  }
  if (self->db)
    redisAsyncCommand (ac, on_setup_reply, (gpointer) "SELECT", "SELECT %d",
        self->db);
  return ac;
}

static void
connect_all (NoomCluster * self)
{
  if (self->cmd == NULL) {
    self->cmd = connect_one (self);
    if (self->cmd)
      ((RedisSource *) self->cmd->ev.data)->lazy_fn = on_publish_reply;
  }
  if (self->sub == NULL) {
    self->sub = connect_one (self);
    if (self->sub)
      redisAsyncCommand (self->sub, on_sub_message, NULL,
          "SUBSCRIBE %s %s", CLUSTER_CHANNEL, self->node_channel);
  }
  if (self->cmd == NULL || self->sub == NULL) {
    if (self->cmd)
      drop_context (self->cmd);
    if (self->sub)
      drop_context (self->sub);
    self->cmd = NULL;
    self->sub = NULL;
    if (self->reconnect_source == 0)
      self->reconnect_source = g_timeout_add (RECONNECT_MS, reconnect_cb, self);
  }
}

/* ---------------------------------------------------------- public */

NoomCluster *
noom_cluster_new (const gchar * url, const gchar * node_id, GError ** error)
{
  g_autoptr (GUri) uri = NULL;
  NoomCluster *self;
  const gchar *path;
  gchar id[21];

  uri = g_uri_parse (url, G_URI_FLAGS_HAS_PASSWORD, error);
  if (uri == NULL)
    return NULL;
  if (g_strcmp0 (g_uri_get_scheme (uri), "redis") != 0
      || g_uri_get_host (uri) == NULL || !*g_uri_get_host (uri)) {
    g_set_error (error, G_URI_ERROR, G_URI_ERROR_FAILED,
        "--redis %s: expected redis://[user:pass@]host[:port][/db]", url);
    return NULL;
  }
  path = g_uri_get_path (uri);
  self = g_new0 (NoomCluster, 1);
  if (path && *path && strcmp (path, "/") != 0) {
    gchar *end;
    gint64 db = g_ascii_strtoll (path + 1, &end, 10);

    if (*end || db < 0 || db > 1000000) {
      g_set_error (error, G_URI_ERROR, G_URI_ERROR_BAD_PATH,
          "--redis %s: the path must be a database number", url);
      g_free (self);
      return NULL;
    }
    self->db = db;
  }
  self->host = g_strdup (g_uri_get_host (uri));
  self->port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : 6379;
  if (g_uri_get_user (uri) && *g_uri_get_user (uri))
    self->user = g_uri_unescape_string (g_uri_get_user (uri), NULL);
  if (g_uri_get_password (uri))
    self->password = g_uri_unescape_string (g_uri_get_password (uri), NULL);
  if (node_id == NULL) {
    noom_engine_random_id (id);
    node_id = id;
  }
  self->node_id = g_strdup (node_id);
  self->node_channel = g_strconcat ("noom:node:", node_id, NULL);
  self->latency_ms = -1;
  return self;
}

void
noom_cluster_start (NoomCluster * self, const NoomClusterCallbacks * callbacks,
    gpointer user_data)
{
  self->cb = callbacks;
  self->user_data = user_data;
  g_message ("redis: node %s, connecting to %s:%d", self->node_id,
      self->host, self->port);
  connect_all (self);
  self->tick_source = g_timeout_add (TICK_MS, tick_cb, self);
}

void
noom_cluster_stop (NoomCluster * self)
{
  redisContext *c;
  redisReply *reply;
  struct timeval timeout = { 1, 0 };

  if (self == NULL || !self->up)
    return;
  /* Blocking, at most a second or two: the loop is about to end. */
  c = redisConnectWithTimeout (self->host, self->port, timeout);
  if (c == NULL || c->err)
    goto out;
  redisSetTimeout (c, timeout);
  if (self->password) {
    reply = self->user ?
        redisCommand (c, "AUTH %s %s", self->user, self->password) :
        redisCommand (c, "AUTH %s", self->password);
    freeReplyObject (reply);
  }
  if (self->db)
    freeReplyObject (redisCommand (c, "SELECT %d", self->db));
  reply = redisCommand (c, "EVAL %s 0 %s", unregister_script, self->node_id);
  if (reply && reply->type != REDIS_REPLY_ERROR)
    g_message ("redis: node %s left the cluster", self->node_id);
  freeReplyObject (reply);
out:
  if (c)
    redisFree (c);
}

void
noom_cluster_free (NoomCluster * self)
{
  if (self == NULL)
    return;
  g_clear_handle_id (&self->reconnect_source, g_source_remove);
  g_clear_handle_id (&self->tick_source, g_source_remove);
  /* redisAsyncFree calls the callbacks of the commands waiting for a
   * reply (with NULL) and the disconnect callback: make those no-ops. */
  self->generation++;
  if (self->cmd)
    drop_context (self->cmd);
  if (self->sub)
    drop_context (self->sub);
  g_free (self->host);
  g_free (self->user);
  g_free (self->password);
  g_free (self->node_id);
  g_free (self->node_channel);
  g_free (self);
}

const gchar *
noom_cluster_get_node_id (NoomCluster * self)
{
  return self->node_id;
}

gboolean
noom_cluster_is_up (NoomCluster * self)
{
  return self->up;
}

gdouble
noom_cluster_get_latency_ms (NoomCluster * self)
{
  return self->up ? self->latency_ms : -1;
}

static void
on_join_reply (redisAsyncContext * ac, void *r, void *privdata)
{
  redisReply *reply = r;
  Call *call = privdata;
  g_autoptr (JsonArray) members = NULL;
  const gchar *media = NULL;
  gsize i;

  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
      || reply->elements < 1
      || reply->element[0]->type != REDIS_REPLY_INTEGER) {
    gint why = -1;

    if (reply && reply->type == REDIS_REPLY_ERROR) {
      g_message ("redis: join failed: %s", reply->str);
      call->self->script_failed[SCRIPT_JOIN]++;
      why = -2;
    }
    call->done (why, NULL, NULL, call->user_data);
    g_free (call);
    return;
  }
  if (reply->element[0]->integer == 0) {
    call->done (0, NULL, NULL, call->user_data);
    g_free (call);
    return;
  }
  if (reply->elements > 2 && reply->element[2]->type == REDIS_REPLY_STRING
      && reply->element[2]->len > 0)
    media = reply->element[2]->str;
  members = json_array_new ();
  if (reply->elements > 1 && reply->element[1]->type == REDIS_REPLY_ARRAY) {
    redisReply *list = reply->element[1];

    for (i = 0; i + 1 < list->elements; i += 2) {
      redisReply *v = list->element[i + 1];
      JsonObject *e;

      if (v->type == REDIS_REPLY_STRING
          && (e = parse_entry (v->str, v->len)) != NULL)
        json_array_add_object_element (members, e);
    }
  }
  call->done (1, members, media, call->user_data);
  g_free (call);
}

void
noom_cluster_join (NoomCluster * self, const gchar * room,
    JsonNode * participant, guint max, const gchar * old_room, gboolean sfu,
    NoomClusterJoinDone done, gpointer user_data)
{
  g_autoptr (GPtrArray) args = eval_args (join_script);
  g_autoptr (JsonObject) leave_msg = message_new (self, "leave", old_room);
  g_autoptr (JsonObject) join_msg = message_new (self, "join", room);
  const gchar *id = participant_id (participant);
  Call *call;

  json_object_set_string_member (leave_msg, "id", id);
  json_object_set_string_member (leave_msg, "reason", "switch");
  json_object_set_member (join_msg, "participant",
      json_node_copy (participant));
  g_ptr_array_add (args, g_strdup (room));
  g_ptr_array_add (args, g_strdup (id));
  g_ptr_array_add (args, entry_string (self, participant));
  g_ptr_array_add (args, g_strdup_printf ("%u", max));
  g_ptr_array_add (args, g_strdup (old_room ? old_room : ""));
  g_ptr_array_add (args, object_to_string (leave_msg));
  g_ptr_array_add (args, object_to_string (join_msg));
  g_ptr_array_add (args, g_strdup (self->node_id));
  g_ptr_array_add (args, g_strdup (sfu ? "1" : "0"));
  call = call_new (self);
  call->done = done;
  call->user_data = user_data;
  if (!self->up || !command (self, on_join_reply, call, args)) {
    done (-1, NULL, NULL, user_data);
    g_free (call);
  }
}

/* The answer of add_script or claim_script: the media node, or ''. */
static void
on_media_reply (redisAsyncContext * ac, void *r, void *privdata)
{
  redisReply *reply = r;
  Call *call = privdata;

  if (reply && reply->type == REDIS_REPLY_ERROR) {
    g_message ("redis: command failed: %s", reply->str);
    call->self->script_failed[SCRIPT_CHANGE]++;
  }
  if (call->media_done)
    call->media_done (reply && reply->type == REDIS_REPLY_STRING ?
        reply->str : NULL, call->user_data);
  g_free (call);
}

/* @args with on_media_reply(); @done (nullable) gets NULL at once when
 * Redis is away. */
static void
media_command (NoomCluster * self, GPtrArray * args,
    NoomClusterMediaDone done, gpointer user_data)
{
  Call *call = call_new (self);

  call->media_done = done;
  call->user_data = user_data;
  if (!command (self, on_media_reply, call, args)) {
    g_free (call);
    if (done)
      done (NULL, user_data);
  }
}

void
noom_cluster_add (NoomCluster * self, const gchar * room,
    JsonNode * participant, gboolean sfu, NoomClusterMediaDone done,
    gpointer user_data)
{
  g_autoptr (GPtrArray) args = eval_args (add_script);
  g_autoptr (JsonObject) msg = message_new (self, "join", room);

  json_object_set_member (msg, "participant", json_node_copy (participant));
  g_ptr_array_add (args, g_strdup (room));
  g_ptr_array_add (args, g_strdup (participant_id (participant)));
  g_ptr_array_add (args, entry_string (self, participant));
  g_ptr_array_add (args, object_to_string (msg));
  g_ptr_array_add (args, g_strdup (self->node_id));
  g_ptr_array_add (args, g_strdup (sfu ? "1" : "0"));
  media_command (self, args, done, user_data);
}

void
noom_cluster_claim_media (NoomCluster * self, const gchar * room,
    NoomClusterMediaDone done, gpointer user_data)
{
  g_autoptr (GPtrArray) args = eval_args (claim_script);

  g_ptr_array_add (args, g_strdup (room));
  g_ptr_array_add (args, g_strdup (self->node_id));
  media_command (self, args, done, user_data);
}

void
noom_cluster_leave (NoomCluster * self, const gchar * room, const gchar * id,
    const gchar * reason)
{
  g_autoptr (GPtrArray) args = eval_args (leave_script);
  g_autoptr (JsonObject) msg = message_new (self, "leave", room);

  json_object_set_string_member (msg, "id", id);
  json_object_set_string_member (msg, "reason", reason);
  g_ptr_array_add (args, g_strdup (room));
  g_ptr_array_add (args, g_strdup (id));
  g_ptr_array_add (args, g_strdup (self->node_id));
  g_ptr_array_add (args, object_to_string (msg));
  fire (self, args);
}

void
noom_cluster_update (NoomCluster * self, const gchar * room,
    JsonNode * participant)
{
  g_autoptr (GPtrArray) args = eval_args (update_script);
  g_autoptr (JsonObject) msg = message_new (self, "update", room);

  json_object_set_member (msg, "participant", json_node_copy (participant));
  g_ptr_array_add (args, g_strdup (room));
  g_ptr_array_add (args, g_strdup (participant_id (participant)));
  g_ptr_array_add (args, entry_string (self, participant));
  g_ptr_array_add (args, object_to_string (msg));
  fire (self, args);
}

/* A relay's PUBLISH answered (the number of nodes that got it), or not
 * (NULL: the connection went, or the node is stopping). */
static void
on_publish_reply (redisAsyncContext * ac, void *r, void *privdata)
{
  redisReply *reply = r;
  Call *call = privdata;
  NoomCluster *self = call->self;

  if (reply == NULL || reply->type != REDIS_REPLY_INTEGER) {
    if (reply && reply->type == REDIS_REPLY_ERROR)
      g_message ("redis: publish failed: %s", reply->str);
    self->publish_failed[PUBLISH_ERROR]++;
  } else if (reply->integer == 0) {
    self->publish_failed[PUBLISH_UNHEARD]++;
  } else {
    self->relays_sent[call->event]++;
  }
  g_free (call);
}

/* Writes what @ac has queued now, rather than on the main loop's next
 * iteration (one more poll over every socket of the node).  A write that
 * fails leaves the error for the source's next dispatch, which drops the
 * connection there, and not inside the caller. */
static void
write_now (redisAsyncContext * ac)
{
  RedisSource *rs = ac->ev.data;
  int done = 0;

  if (redisBufferWrite (&ac->c, &done) == REDIS_OK && done)
    rs->poll_fd.events &= ~G_IO_OUT;
}

/* @msg (a relay of @frame, an Engine.IO frame) on @channel. */
static void
publish (NoomCluster * self, const gchar * channel, GString * msg, guint event)
{
  const char *argv[3] = { "PUBLISH", channel, msg->str };
  size_t lens[3] = { 7, strlen (channel), msg->len };
  Call *call;

  if (!self->up) {
    self->publish_failed[PUBLISH_DOWN]++;
    return;
  }
  call = call_new (self);
  call->event = event;
  if (redisAsyncCommandArgv (self->cmd, on_publish_reply, call, 3, argv,
          lens) != REDIS_OK) {
    self->publish_failed[PUBLISH_ERROR]++;
    g_free (call);
    return;
  }
  write_now (self->cmd);
}

static void
append_field (GString * s, const gchar * field)
{
  g_string_append_printf (s, "%zu:%s", strlen (field), field);
}

void
noom_cluster_emit_room (NoomCluster * self, const gchar * node,
    const gchar * room, const gchar * except, GBytes * frame)
{
  gsize len;
  const gchar *data = g_bytes_get_data (frame, &len);
  g_autoptr (GString) msg = g_string_sized_new (len + 64);
  g_autofree gchar *channel = g_strconcat ("noom:node:", node, NULL);

  g_string_append_c (msg, 'e');
  append_field (msg, self->node_id);
  append_field (msg, except ? except : "");
  append_field (msg, room);
  g_string_append_len (msg, data, len);
  publish (self, channel, msg, relay_event (data, len));
}

void
noom_cluster_emit_to (NoomCluster * self, const gchar * node,
    const gchar * room, const gchar * to, GBytes * frame)
{
  gsize len;
  const gchar *data = g_bytes_get_data (frame, &len);
  g_autoptr (GString) msg = g_string_sized_new (len + 64);
  g_autofree gchar *channel = g_strconcat ("noom:node:", node, NULL);

  g_string_append_c (msg, 't');
  append_field (msg, self->node_id);
  append_field (msg, to);
  append_field (msg, room);
  g_string_append_len (msg, data, len);
  publish (self, channel, msg, relay_event (data, len));
}

void
noom_cluster_relay (NoomCluster * self, const gchar * node, gboolean to_relay,
    const gchar * room, const gchar * id, JsonObject * m)
{
  g_autofree gchar *json = object_to_string (m);
  g_autoptr (GString) msg = g_string_sized_new (strlen (json) + 64);
  g_autofree gchar *channel = g_strconcat ("noom:node:", node, NULL);

  g_string_append_c (msg, to_relay ? 'r' : 'o');
  append_field (msg, self->node_id);
  append_field (msg, id);
  append_field (msg, room);
  g_string_append (msg, json);
  publish (self, channel, msg, RELAY_EVENT_SFU);
}

/* A counter family with one label: @name{@label="@values[i]"} @counts[i]. */
static void
write_counters (GString * out, const gchar * name, const gchar * help,
    const gchar * label, const gchar * const *values, const guint64 * counts,
    guint n)
{
  guint i;

  noom_metrics_header (out, name, "counter", help);
  for (i = 0; i < n; i++)
    g_string_append_printf (out, "%s{%s=\"%s\"} %" G_GUINT64_FORMAT "\n",
        name, label, values[i], counts[i]);
}

void
noom_cluster_write_metrics (NoomCluster * self, GString * out)
{
  write_counters (out, "noom_redis_relays_sent_total",
      "Frames this node relayed to another node's clients through Redis "
      "(one PUBLISH per node), by event; counted when Redis confirmed "
      "delivery.", "event", relay_events, self->relays_sent, N_RELAY_EVENTS);
  write_counters (out, "noom_redis_relays_received_total",
      "Frames relayed by other nodes to this node's clients, by event.",
      "event", relay_events, self->relays_received, N_RELAY_EVENTS);
  write_counters (out, "noom_redis_publish_failures_total",
      "Relays to another node that did not get there, by reason: down "
      "(Redis away, not sent), error (an error or no answer from Redis), "
      "unheard (no node listens on the channel).", "reason",
      publish_failures, self->publish_failed, PUBLISH_N_FAILURES);
  write_counters (out, "noom_redis_script_failures_total",
      "Scripts of the shared room list that Redis answered with an error "
      "(memory full, ACL), by what they did: join (the join was refused), "
      "change (a leave or update lost until the next roster), register, "
      "heartbeat.", "script", script_kinds, self->script_failed,
      SCRIPT_N_KINDS);
}

/* ---------------------------------------------------------- admin */

static redisContext *
admin_connect (NoomCluster * self)
{
  struct timeval timeout = { 2, 0 };
  redisContext *c = redisConnectWithTimeout (self->host, self->port, timeout);
  redisReply *reply = NULL;

  if (c == NULL || c->err) {
    g_printerr ("noom-server rooms: cannot connect to %s:%d: %s\n",
        self->host, self->port, c ? c->errstr : "out of memory");
    if (c)
      redisFree (c);
    return NULL;
  }
  redisSetTimeout (c, timeout);
  if (self->password)
    reply = self->user ?
        redisCommand (c, "AUTH %s %s", self->user, self->password) :
        redisCommand (c, "AUTH %s", self->password);
  if (reply && reply->type == REDIS_REPLY_ERROR) {
    g_printerr ("noom-server rooms: AUTH: %s\n", reply->str);
    freeReplyObject (reply);
    redisFree (c);
    return NULL;
  }
  freeReplyObject (reply);
  if (self->db)
    freeReplyObject (redisCommand (c, "SELECT %d", self->db));
  return c;
}

gint
noom_cluster_admin (const gchar * url, const gchar * remove, gboolean json)
{
  g_autoptr (GError) error = NULL;
  NoomCluster *self = noom_cluster_new (url, "admin", &error);
  g_autoptr (JsonBuilder) b = json_builder_new ();
  redisContext *c;
  redisReply *reply, *rooms;
  gint status = 0;
  gboolean found = FALSE;
  gsize i, j;

  if (self == NULL) {
    g_printerr ("noom-server rooms: %s\n", error->message);
    return 2;
  }
  c = admin_connect (self);
  if (c == NULL) {
    noom_cluster_free (self);
    return 1;
  }
  reply = redisCommand (c, "EVAL %s 0", snapshot_script);
  if (reply == NULL || reply->type != REDIS_REPLY_ARRAY
      || reply->elements != 3 || reply->element[2]->type != REDIS_REPLY_ARRAY) {
    g_printerr ("noom-server rooms: unexpected answer from Redis\n");
    freeReplyObject (reply);
    redisFree (c);
    noom_cluster_free (self);
    return 1;
  }
  json_builder_begin_array (b);
  rooms = reply->element[2];
  for (i = 0; i + 1 < rooms->elements; i += 2) {
    redisReply *name = rooms->element[i], *list = rooms->element[i + 1];

    if (name->type != REDIS_REPLY_STRING || list->type != REDIS_REPLY_ARRAY)
      continue;
    if (!json && !remove)
      printf ("%s (%zu)\n", name->str, list->elements / 2);
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "room");
    json_builder_add_string_value (b, name->str);
    json_builder_set_member_name (b, "participants");
    json_builder_begin_array (b);
    for (j = 0; j + 1 < list->elements; j += 2) {
      redisReply *v = list->element[j + 1];
      g_autoptr (JsonObject) e = NULL;
      JsonObject *p;
      const gchar *node, *id;

      if (v->type != REDIS_REPLY_STRING
          || (e = parse_entry (v->str, v->len)) == NULL)
        continue;
      node = str_member (e, "node", NULL);
      p = json_object_get_object_member (e, "participant");
      id = str_member (p, "id", "");
      if (!json && !remove)
        printf ("  %-22s node=%s nickname=\"%s\" kind=%s\n", id, node,
            str_member (p, "nickname", ""), str_member (p, "kind", ""));
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "node");
      json_builder_add_string_value (b, node);
      json_builder_set_member_name (b, "participant");
      json_builder_add_value (b,
          json_node_copy (json_object_get_member (e, "participant")));
      json_builder_end_object (b);
      if (remove && strcmp (id, remove) == 0 && !found) {
        redisReply *r = redisCommand (c, "PUBLISH noom:node:%s k%s", node,
            id);

        found = TRUE;
        if (r && r->type == REDIS_REPLY_INTEGER && r->integer > 0) {
          printf ("removed %s from room \"%s\" (node %s)\n", id, name->str,
              node);
        } else {
          g_printerr ("noom-server rooms: node %s did not get the removal "
              "(it is not connected to Redis)\n", node);
          status = 1;
        }
        freeReplyObject (r);
      }
    }
    json_builder_end_array (b);
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  if (json && !remove) {
    g_autoptr (JsonNode) root = json_builder_get_root (b);
    g_autofree gchar *text = json_to_string (root, TRUE);

    printf ("%s\n", text);
  }
  if (remove && !found) {
    g_printerr ("noom-server rooms: no participant \"%s\" in the cluster\n",
        remove);
    status = 1;
  }
  freeReplyObject (reply);
  redisFree (c);
  noom_cluster_free (self);
  return status;
}
