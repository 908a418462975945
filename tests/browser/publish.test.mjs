// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// docs/protocol.md §7 "What a participant may send", end to end: a
// modified client joins with `sends: []` and offers its fake camera and
// microphone anyway.  Behind a server that relays it (noom-server-lax, as
// an older server would), the web client must answer without taking that
// media: not one packet arrives.  Behind noom-server the offer is refused.

import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server, launchBrowser, openPage, openMallory, join, waitState, inbound, until,
} from './harness.mjs';

let lax, strict, browser;

before(async () => {
  assert.ok(process.env.NOOM_SERVER_LAX, 'NOOM_SERVER_LAX is not set');
  lax = await new Server([], { bin: process.env.NOOM_SERVER_LAX }).start();
  strict = await new Server().start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  for (const s of [lax, strict])
    if (s)
      await s.stop();
});

// What mallory's connection to `id` did: state, and the video frames it
// decoded from the other side (proof that the connection carries media).
function malloryStats(page, id) {
  return page.evaluate(async (id) => {
    const pc = window.mallory.pcs.get(id);
    const r = { state: pc ? pc.connectionState : 'none', framesDecoded: 0, sent: 0 };
    if (pc) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video')
          r.framesDecoded += s.framesDecoded || 0;
        if (s.type === 'outbound-rtp')
          r.sent += s.packetsSent || 0;
      });
    }
    return r;
  }, id);
}

test('the web client takes no media from a participant that announced none', async () => {
  const mallory = await openMallory(browser, lax, 'stage');
  const alice = await openPage(browser, lax.url);
  await join(alice, 'stage', 'alice');
  const aliceId = await alice.evaluate(() => window.noom.state().selfId);

  // The offer got through (lax server) and the call is up: mallory
  // decodes alice's camera.
  const seen = await until(() => malloryStats(mallory, aliceId),
    (r) => r.state === 'connected' && r.framesDecoded > 30, 'mallory receives alice', 40000);
  assert.equal(seen.sent, 0, 'mallory sent RTP: the answer accepted her media');
  const got = (await inbound(alice))[mallory.id];
  assert.ok(got, 'alice has no connection to mallory');
  assert.equal(got.state, 'connected');
  assert.deepEqual([got.videoPackets, got.audioPackets, got.framesDecoded], [0, 0, 0],
    `alice received mallory's media: ${JSON.stringify(got)}`);
  // The answer took neither kind; no track of hers plays.
  const answer = await alice.evaluate((id) => window.noom.peers.get(id).localDescription.sdp, mallory.id);
  assert.doesNotMatch(answer, /a=(sendrecv|recvonly)\r\n/, answer);
  const tracks = await alice.evaluate((id) => document.querySelectorAll(
    `#grid .tile[data-id="${id}"] video`).length, mallory.id);
  assert.equal(tracks, 0);
  assert.deepEqual(alice.errors, []);
  await Promise.all([mallory.context().close(), alice.context().close()]);
});

test('behind noom-server the offer is refused and never reaches the web client', async () => {
  const mallory = await openMallory(browser, strict, 'stage');
  const alice = await openPage(browser, strict.url);
  await join(alice, 'stage', 'alice');
  const errors = await until(() => mallory.evaluate(() => window.mallory.errors),
    (e) => e.length > 0, 'the refusal', 20000);
  assert.equal(errors[0].code, 'forbidden', JSON.stringify(errors));
  assert.equal(await mallory.evaluate(() => window.mallory.offered), 0);
  // alice never got an offer from her: no connection at all.
  await waitState(alice, (s) => s.participants.some((p) => p.nickname === 'mallory'), null, 'alice sees mallory');
  assert.deepEqual(Object.keys(await inbound(alice)), []);
  await Promise.all([mallory.context().close(), alice.context().close()]);
});
