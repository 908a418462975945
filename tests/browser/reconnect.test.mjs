// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-server restarted under two pages in a room: each shows the
// "connection lost" banner, reconnects, rejoins the room with a new id and
// receives media from the other again.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServerAndBrowser, openPage, join, waitState, receivesFrom, selfId,
} from './harness.mjs';

let server, browser;

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
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
    // the dead connections are gone with the server; the other's tile
    // stays, shown as reconnecting, until we are back
    await waitState(p, (s) => s.participants.length === 0 && s.tiles.length === 1 &&
      s.stale.length === 1 && s.stale[0] === s.tiles[0], null, 'peers dropped, tiles reconnecting');
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
  for (const p of [a, b])
    await waitState(p, (s) => s.stale.length === 0 && s.tiles.length === 1, null, 'the old tiles gone');
  await receivesFrom(a, [newB]);
  await receivesFrom(b, [newA]);
  for (const p of [a, b])
    assert.deepEqual(p.errors, []);
});

// Rewrites the port of every remote candidate to 9 (discard) while
// window.__breakIce is set: no candidate pair can work.
const BREAK_ICE = () => {
  window.__breakIce = true;
  window.__mangled = 0;
  const add = RTCPeerConnection.prototype.addIceCandidate;
  RTCPeerConnection.prototype.addIceCandidate = function (c, ...rest) {
    if (window.__breakIce && c && c.candidate) {
      window.__mangled++;
      c = { ...c, candidate: c.candidate.replace(/^(candidate:\S+ \d+ \S+ \d+ \S+ )(\d+)/, '$19') };
    }
    return add.call(this, c, ...rest);
  };
};

test('a call that cannot connect is restarted (ICE restart) by the offerer and then connects', async () => {
  const pages = [];
  for (const name of ['Ivy', 'Jon']) {
    const context = await browser.newContext();
    await context.addInitScript(BREAK_ICE);
    const p = await context.newPage();
    p.errors = [];
    p.on('pageerror', (e) => p.errors.push(String(e)));
    await p.goto(server.url + '/');
    await join(p, 'stuck', name);
    pages.push(p);
  }
  const [ivy, jon] = pages;
  const ivyId = await selfId(ivy), jonId = await selfId(jon);
  // candidates went both ways, all of them broken
  for (const p of pages)
    await p.waitForFunction(() => window.__mangled > 0, null, { timeout: 10000 });
  const stuck = await ivy.evaluate(() => window.noom.state());
  assert.notEqual(stuck.peerStates[jonId], 'connected');
  assert.equal(stuck.restarts[jonId], 0);
  for (const p of pages)
    await p.evaluate(() => { window.__breakIce = false; });
  // Ivy was first, so she offered, and she restarts; Jon only answers
  await waitState(ivy, (s, id) => s.restarts[id] >= 1 && s.peerStates[id] === 'connected', jonId, 'restarted and connected', 30000);
  await waitState(jon, (s, id) => s.peerStates[id] === 'connected' && s.restarts[id] === 0, ivyId, 'Jon connected', 10000);
  await receivesFrom(jon, [ivyId]);
  await receivesFrom(ivy, [jonId]);
  for (const p of pages) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});
