// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A client speaking the seed app's chapter-3 two-party flow (fixture page
// fixtures/seed-call.html: join_room, offer/answer/ice without `to`) and a
// Noom page in one room, in both join orders: they exchange offer, answer
// and candidates through noom-server, and media flows both ways.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServerAndBrowser, openPage, join, receivesFrom, selfId, waitState,
} from './harness.mjs';
import { openSeed as openSeedAt, seedJoin, seedReceives } from './seed-pages.mjs';

let server, browser;

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
});

const openSeed = () => openSeedAt(browser, server.url, 'call');

test('Noom page first, seed client joins: the Noom page offers, the seed answers', async () => {
  const noom = await openPage(browser, server.url + '/');
  await join(noom, 'seed-a', 'Nina');
  const seed = await openSeed();
  const seedId = await seedJoin(seed, 'seed-a');
  await receivesFrom(noom, [seedId]);
  await seedReceives(seed);
  const counts = await seed.evaluate(() => ({ offered: window.seed.offered, answered: window.seed.answered }));
  assert.deepEqual(counts, { offered: 0, answered: 1 });
  const st = await noom.evaluate(() => window.noom.state());
  assert.ok(st.tiles.includes(seedId));
  assert.equal(st.participants.find((p) => p.id === seedId).nickname, 'Anon');
  // the seed has no hang-up: closing its tab must still end the call here
  await noom.evaluate((id) => { window.__seedPc = window.noom.peers.get(id); }, seedId);
  await seed.context().close();
  await waitState(noom, (s, id) => !s.tiles.includes(id) && !s.participants.some((p) => p.id === id), seedId, 'seed gone');
  assert.equal(await noom.evaluate(() => window.__seedPc.connectionState), 'closed');
  assert.deepEqual(noom.errors, []);
  await noom.context().close();
});

test('seed client first, Noom page joins: the seed offers, the Noom page answers', async () => {
  const seed = await openSeed();
  const seedId = await seedJoin(seed, 'seed-b');
  const noom = await openPage(browser, server.url + '/');
  await join(noom, 'seed-b', 'Otto');
  await receivesFrom(noom, [seedId]);
  await seedReceives(seed);
  const counts = await seed.evaluate(() => ({ offered: window.seed.offered, answered: window.seed.answered }));
  assert.deepEqual(counts, { offered: 1, answered: 0 });
  assert.ok((await noom.evaluate(() => window.noom.state())).tiles.includes(seedId));
  assert.notEqual(await selfId(noom), seedId);
  assert.deepEqual(noom.errors, []);
  await noom.context().close();
  await seed.context().close();
});
