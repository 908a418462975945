// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A cluster of the test's own (noom-server --redis, issue 17): a
// redis-server on loopback (lib/redis.mjs) and nodes n1, n2, ... sharing
// it, each waited for until it joined the cluster.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis } from './redis.mjs';
import { startServer } from './server.mjs';

// Node @id of the cluster of Redis @redisUrl, with more @args.
export async function startNode(redisUrl, id, args = []) {
  const n = await startServer(['--redis', redisUrl, '--node-id', id, ...args]);
  await n.waitLog(new RegExp(`redis: node ${id} joined the cluster`), 1, 5000);
  return n;
}

// redis-server and @count nodes n1..nN, each started with @args.  The
// result: {redis, redisPort, redisUrl (database 3), dir, nodes, stop()};
// a test that restarts Redis sets .redis to the new one.
export async function startCluster(count, args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'noom-redis-'));
  const redisPort = await freePort();
  const cluster = {
    dir,
    redisPort,
    redisUrl: `redis://127.0.0.1:${redisPort}/3`,
    redis: null,
    nodes: [],
  };
  cluster.stop = async () => {
    for (const n of cluster.nodes)
      await n.stop();
    if (cluster.redis) {
      cluster.redis.kill('SIGKILL');
      await cluster.redis.stopped;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    cluster.redis = await startRedis(redisPort, dir);
    for (let i = 1; i <= count; i++)
      cluster.nodes.push(await startNode(cluster.redisUrl, `n${i}`, args));
  } catch (e) {
    await cluster.stop();
    throw e;
  }
  return cluster;
}
