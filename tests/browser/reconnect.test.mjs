// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-server restarted under two pages in a room: each shows the
// "connection lost" banner, reconnects, rejoins the room with a new id and
// receives media from the other again.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server, launchBrowser, openPage, join, waitState, receivesFrom, selfId,
} from './harness.mjs';

let server, browser;

before(async () => {
  server = await new Server().start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  if (server)
    await server.stop();
});

test('pages reconnect, rejoin and receive media again after a server restart', async () => {
  const a = await openPage(browser, server.url + '/');
  await join(a, 'phoenix', 'Ada');
  const b = await openPage(browser, server.url + '/');
  await join(b, 'phoenix', 'Bo');
  const oldA = await selfId(a), oldB = await selfId(b);
  await receivesFrom(a, [oldB]);
  await receivesFrom(b, [oldA]);

  await server.stop();
  for (const p of [a, b]) {
    await waitState(p, (s) => !s.connected && s.banner && /lost/i.test(s.banner), null, 'banner');
    // the dead connections are gone with the server
    await waitState(p, (s) => s.tiles.length === 0 && s.participants.length === 0, null, 'peers dropped');
    assert.equal(await p.evaluate(() => window.noom.peers.size), 0);
  }

  await server.restart();
  for (const p of [a, b])
    await waitState(p, (s) => s.joined && s.connected && !s.banner && s.room === 'phoenix', null, 'rejoined', 30000);
  const newA = await selfId(a), newB = await selfId(b);
  assert.notEqual(newA, oldA);
  assert.notEqual(newB, oldB);
  await waitState(a, (s, id) => s.tiles.includes(id), newB, 'Bo back', 20000);
  await waitState(b, (s, id) => s.tiles.includes(id), newA, 'Ada back', 20000);
  await receivesFrom(a, [newB]);
  await receivesFrom(b, [newA]);
  for (const p of [a, b])
    assert.deepEqual(p.errors, []);
});
