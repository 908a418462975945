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
import fs from 'node:fs';
import path from 'node:path';
import {
  useServerAndBrowser, openPage, join, fixtures, until, receivesFrom, selfId, waitState,
} from './harness.mjs';

let server, browser;
const seedHtml = fs.readFileSync(path.join(fixtures, 'seed-call.html'), 'utf8');

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
});

// The fixture is served on the server's origin (so that its classic
// <script src="/socket.io/socket.io.js"> comes from noom-server).
async function openSeed() {
  const context = await browser.newContext();
  await context.route('**/seed/call.html', (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: seedHtml }));
  const page = await context.newPage();
  await page.goto(server.url + '/seed/call.html');
  await page.waitForFunction(() => window.seed && window.seed.socket.connected, null, { timeout: 15000 });
  return page;
}

async function seedJoin(page, room) {
  await page.fill('#welcome input', room);
  await page.click('#welcome button');
  await page.waitForFunction(() => window.seed.joined, null, { timeout: 15000 });
  return page.evaluate(() => window.seed.socket.id);
}

// framesDecoded and audio samples received by the seed page's only connection
async function seedInbound(page) {
  return page.evaluate(async () => {
    const r = { state: window.seed.pc.connectionState, frames: 0, samples: 0 };
    (await window.seed.pc.getStats()).forEach((s) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video')
        r.frames += s.framesDecoded || 0;
      if (s.type === 'inbound-rtp' && s.kind === 'audio')
        r.samples += s.totalSamplesReceived || 0;
    });
    return r;
  });
}

async function seedReceives(page) {
  const first = await until(() => seedInbound(page), (r) => r.frames > 0 && r.samples > 0,
    'media at the seed page', 40000);
  await until(() => seedInbound(page), (r) => r.frames > first.frames + 5 && r.samples > first.samples,
    'rising media at the seed page', 20000);
}

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
