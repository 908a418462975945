// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// GET /metrics (Prometheus text format, checked by Debian's `promtool check
// metrics`) on the main port and on --metrics-port, and /healthz with
// --redis: Redis up, then down (503, degraded).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startServer, connect, ack, take, closeAll, http, test,
} from './lib/server.mjs';
import { haveRedis, freePort, startRedis } from './lib/redis.mjs';
import { havePromtool, sample, promtool } from './lib/metrics.mjs';

let redis, dir, server, metricsPort;

before(async () => {
  if (!haveRedis)
    return;
  dir = mkdtempSync(join(tmpdir(), 'noom-redis-'));
  const port = await freePort();
  metricsPort = await freePort();
  redis = await startRedis(port, dir);
  server = await startServer(['--redis', `redis://127.0.0.1:${port}`,
    '--max-room-size', '2', '--metrics-port', String(metricsPort)]);
  await server.waitLog(/redis: node \S+ joined the cluster/);
});

after(async () => {
  if (server)
    await server.stop();
  if (redis) {
    redis.kill('SIGKILL');
    await redis.stopped;
  }
  if (dir)
    rmSync(dir, { recursive: true, force: true });
});

const skip = haveRedis ? false : 'redis-server is not installed';

test('metrics: /metrics counts rooms, events, refusals; promtool accepts it', { skip }, async () => {
  const [a, b, c] = await Promise.all([1, 2, 3].map(() => connect(server.url)));
  await ack(a, 'join_room', 'm');
  await ack(b, 'join_room', 'm');
  const full = await ack(c, 'join_room', 'm');
  assert.equal(full.error.code, 'room_full');
  await ack(a, 'new_message', 'hi', 'm');
  await take(b, 'new_message');

  const res = await http(server, '/metrics');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  const text = res.body;
  assert.equal(sample(text, 'noom_rooms'), 1);
  assert.equal(sample(text, 'noom_participants{node="local"}'), 2);
  assert.equal(sample(text, 'noom_participants{node="remote"}'), 0);
  assert.equal(sample(text, 'noom_signalling_messages_total{event="join_room"}'), 3);
  assert.equal(sample(text, 'noom_signalling_messages_total{event="new_message"}'), 1);
  assert.equal(sample(text, 'noom_joins_refused_total{reason="room_full"}'), 1);
  assert.equal(sample(text, 'noom_join_duration_seconds_count'), 2);
  assert.equal(sample(text, 'noom_join_duration_seconds_bucket{le="+Inf"}'), 2);
  assert.equal(sample(text, 'noom_connections{transport="websocket"}') +
    sample(text, 'noom_connections{transport="polling"}'), 3);
  assert.equal(sample(text, 'noom_redis_up'), 1);
  assert.ok(sample(text, 'noom_redis_latency_seconds') >= 0);
  assert.ok(sample(text, 'process_resident_memory_bytes') > 1e6);
  assert.ok(sample(text, 'process_cpu_seconds_total') > 0);
  assert.equal(sample(text, 'noom_rate_limited_total'), 0);
  // One node: nothing crosses to another.
  assert.equal(sample(text, 'noom_redis_relays_sent_total{event="new_message"}'), 0);
  assert.equal(sample(text, 'noom_redis_relays_received_total{event="new_message"}'), 0);
  assert.equal(sample(text, 'noom_redis_publish_failures_total{reason="down"}'), 0);

  if (havePromtool) {
    const check = promtool(text);
    assert.equal(check.status, 0, check.output);
    // promtool does fail on a broken exposition (the check is real).
    assert.notEqual(promtool(`${text}noom_rooms{ 1\n`).status, 0);
  }

  // --metrics-port serves the same, and only that.
  const other = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(other.status, 200);
  assert.match(await other.text(), /^noom_rooms 1$/m);
  assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/`)).status, 404);
  closeAll(a, b, c);
});

test('metrics: /healthz reports Redis, 503 while it is away', { skip }, async () => {
  const up = await http(server, '/healthz');
  assert.equal(up.status, 200);
  assert.deepEqual(JSON.parse(up.body), { status: 'ok', redis: 'up', relay: 'off' });

  redis.kill('SIGKILL');
  await redis.stopped;
  redis = null;
  await server.waitLog(/redis: lost the connection/);
  const down = await http(server, '/healthz');
  assert.equal(down.status, 503);
  assert.deepEqual(JSON.parse(down.body), { status: 'degraded', redis: 'down', relay: 'off' });
  const text = (await http(server, '/metrics')).body;
  assert.equal(sample(text, 'noom_redis_up'), 0);
  if (havePromtool)
    assert.equal(promtool(text).status, 0);
});

test('metrics: without --redis, /healthz is "ok" as before; ?full=1 has the states', async () => {
  const s = await startServer();
  try {
    const plain = await http(s, '/healthz');
    assert.deepEqual([plain.status, plain.body], [200, 'ok']);
    const full = await http(s, '/healthz?full=1');
    assert.deepEqual(JSON.parse(full.body), { status: 'ok', redis: 'off', relay: 'off' });
    const m = await http(s, '/metrics');
    assert.equal(m.status, 200);
    assert.equal(sample(m.body, 'noom_rooms'), 0);
    assert.equal(sample(m.body, 'noom_redis_up'), undefined);
    if (havePromtool)
      assert.equal(promtool(m.body).status, 0, promtool(m.body).output);
  } finally {
    await s.stop();
  }
});
