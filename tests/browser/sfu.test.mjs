// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The web client in a room that forwards media through the server
// (noom-server --sfu, docs/protocol.md §11): one connection per page, to the
// media relay, which carries everyone's video and audio; the camera and
// microphone go up once.  A room past 16 tiles gets pages.  Also saves
// docs/screenshot-sfu.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  useServerAndBrowser, openPage, join, waitState, until, selfId, inboundByOwner,
} from './harness.mjs';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));
const { io } = require('socket.io-client');

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROOM = 'sfu';
let server, browser;
const pages = {};
const ids = {};

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
}, { serverArgs: ['--sfu', '--max-publishers', '32'] });

async function receivesFromAll(page, others, what) {
  const first = await until(() => inboundByOwner(page),
    (s) => others.every((id) => s[id] && s[id].framesDecoded > 0 && s[id].audioSamples > 0),
    `${what}: media from ${others.join(', ')}`, 40000);
  await until(() => inboundByOwner(page),
    (s) => others.every((id) => s[id].framesDecoded > first[id].framesDecoded + 5
      && s[id].audioSamples > first[id].audioSamples),
    `${what}: rising counters`, 40000);
}

// What the page sends: the senders with a track on a sendonly m-line.
async function uploads(page) {
  return page.evaluate(() => {
    const out = [];
    for (const [, pc] of window.noom.peers)
      for (const t of pc.getTransceivers())
        if (t.currentDirection === 'sendonly' && t.sender.track)
          out.push(t.sender.track.kind);
    return out.sort();
  });
}

test('three pages in an SFU room: one connection each, camera and microphone sent once, everyone seen', async () => {
  for (const name of ['Alice', 'Bob', 'Carol']) {
    pages[name] = await openPage(browser, server.url + '/');
    await join(pages[name], ROOM, name);
    ids[name] = await selfId(pages[name]);
  }
  for (const name of Object.keys(pages)) {
    const others = Object.keys(pages).filter((n) => n !== name).map((n) => ids[n]);
    const p = pages[name];
    await waitState(p, (s, o) => s.media === 'sfu' && o.every((id) => s.tiles.includes(id)), others, `${name}'s tiles`);
    await receivesFromAll(p, others, name);
    const peers = await p.evaluate(() => [...window.noom.peers.keys()]);
    assert.deepEqual(peers, ['~sfu'], 'one connection, to the relay');
    assert.deepEqual(await uploads(p), ['audio', 'video'], 'each kind sent once');
    const st = await p.evaluate(() => window.noom.state());
    for (const id of others)
      assert.equal(st.peerStates[id], 'connected');
  }
  for (const p of Object.values(pages))
    assert.deepEqual(p.errors, []);

  // the server's /metrics tell what the relay forwards (its op "stats",
  // every 2 s): 3 pages' 2 tracks, each to the 2 others, bytes growing
  const sample = async () => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    const v = (name) => Number((new RegExp(`^${name} (\\S+)$`, 'm').exec(text) || [])[1]);
    return { tracks: v('noom_sfu_tracks'), forwards: v('noom_sfu_forwards'),
      in: v('noom_sfu_received_bytes_total'), out: v('noom_sfu_forwarded_bytes_total'),
      keyframes: v('noom_sfu_keyframe_requests_total') };
  };
  const first = await until(sample, (m) => m.tracks === 6 && m.forwards === 12 && m.out > 0,
    'the relay\'s tracks and forwards in /metrics', 10000);
  const later = await until(sample, (m) => m.out > first.out && m.in > first.in,
    'forwarded bytes growing in /metrics', 10000);
  // every byte in goes to two subscribers
  assert.ok(later.out > 1.5 * later.in, JSON.stringify(later));
  assert.ok(later.keyframes >= 1, 'keyframes asked for the newcomers');
});

test('mute and camera off show on every other tile (media_state)', async () => {
  const bob = pages.Bob;
  // Bob's tile on @page: mic-off badge shown, camera-off avatar shown
  const bobTile = (page, off) => page.waitForFunction(([id, o]) => {
    const t = document.querySelector(`#grid .tile[data-id="${id}"]`);
    return t && !t.querySelector('.tile-muted').hidden === o && t.classList.contains('camera-off') === o;
  }, [ids.Bob, off], { timeout: 15000 });
  await bob.click('#mute');
  await bob.click('#camera');
  await waitState(bob, (s) => s.muted && s.cameraOff, null, 'Bob muted, camera off');
  for (const name of ['Alice', 'Carol']) {
    await bobTile(pages[name], true);
    const st = await pages[name].evaluate(() => window.noom.state());
    assert.deepEqual(st.participants.find((x) => x.id === ids.Bob).media_state,
      { audio: false, video: false, screen: false });
  }
  await bob.click('#mute');
  await bob.click('#camera');
  await waitState(bob, (s) => !s.muted && !s.cameraOff, null, 'Bob back');
  for (const name of ['Alice', 'Carol'])
    await bobTile(pages[name], false);
  await receivesFromAll(pages.Alice, [ids.Bob], 'Alice after Bob came back');
});

test('a shared screen goes up once, through the relay, and shows large on the other pages', async () => {
  const a = pages.Alice;
  assert.equal(await a.isVisible('#share'), true, 'the Share button in an SFU room');
  await a.click('#share');
  await waitState(a, (s) => s.sharing && s.screens.includes('self'), null, 'Alice shares');
  // one connection still, the screen on its own upload m-line
  assert.deepEqual(await uploads(a), ['audio', 'video', 'video']);
  const offerTracks = await a.evaluate(() => window.noom.tracks());
  assert.ok(offerTracks.some((t) => t.upload && t.screen && t.kind === 'video'), JSON.stringify(offerTracks));
  for (const name of ['Bob', 'Carol']) {
    const p = pages[name];
    await waitState(p, (s, id) => s.screens.includes(id), ids.Alice, `${name} shows Alice's screen`);
    // the display's frames (1280x720), not the camera's, on the large tile
    await p.waitForFunction((id) => {
      const v = document.querySelector(`#grid .screen-tile[data-screen="${id}"] video`);
      return v && v.videoWidth === 1280 && v.getVideoPlaybackQuality().totalVideoFrames > 10;
    }, ids.Alice, { timeout: 20000 });
    const box = await p.evaluate((id) => {
      const t = document.querySelector(`#grid .screen-tile[data-screen="${id}"]`).getBoundingClientRect();
      const cam = document.querySelector(`#grid .tile[data-id="${id}"]`).getBoundingClientRect();
      return { screen: t.width, cam: cam.width, first: t.top <= cam.top };
    }, ids.Alice);
    assert.ok(box.screen > box.cam * 1.5 && box.first, JSON.stringify(box));
    // the relay's offer marks the download m-line (protocol §11)
    const tracks = await p.evaluate(() => window.noom.tracks());
    assert.ok(tracks.some((t) => !t.upload && t.screen && t.kind === 'video' && t.id === ids.Alice),
      JSON.stringify(tracks));
    // Alice's camera goes on beside it
    await receivesFromAll(p, [ids.Alice], `${name} with Alice's screen`);
  }
  await a.click('#share');
  await waitState(a, (s) => !s.sharing && s.screens.length === 0, null, 'Alice stops sharing');
  for (const name of ['Bob', 'Carol'])
    await waitState(pages[name], (s) => s.screens.length === 0, null, `${name} without Alice's screen`);
  for (const p of Object.values(pages))
    assert.deepEqual(p.errors, []);
});

test('a page that leaves goes from the others; one that comes back is seen again', async () => {
  const carol = ids.Carol;
  await pages.Carol.click('#leave');
  for (const name of ['Alice', 'Bob'])
    await waitState(pages[name], (s, id) => !s.tiles.includes(id), carol, `${name} without Carol`);
  await join(pages.Carol, ROOM, 'Carol');
  ids.Carol = await selfId(pages.Carol);
  for (const name of ['Alice', 'Bob'])
    await receivesFromAll(pages[name], [ids.Carol], `${name} after Carol came back`);
  await receivesFromAll(pages.Carol, [ids.Alice, ids.Bob], 'Carol back');
});

test('past 16 tiles the grid has pages', async () => {
  // seed-style participants (no join options, so they count as sending
  // audio and video: past the default 16 publishers, hence
  // --max-publishers 32): signalling only, a tile each
  const extra = [];
  for (let i = 0; i < 15; i++) {
    const s = io(server.url, { transports: ['websocket'], forceNew: true });
    await new Promise((resolve) => s.on('connect', resolve));
    await s.emitWithAck('enter_room', ROOM);
    extra.push(s);
  }
  try {
    const p = pages.Alice;
    // self + Bob + Carol + 15 = 18 tiles: two pages of at most 16
    await waitState(p, (s) => s.tiles.length === 17 && s.pages === 2, null, '18 tiles on 2 pages');
    const visible = () => p.evaluate(() =>
      [...document.querySelectorAll('#grid .tile')].filter((t) => !t.hidden).length);
    assert.equal(await visible(), 16);
    assert.equal(await p.isVisible('#grid-pager'), true);
    // docs/screenshot-sfu.png is refreshed on request only
    // (NOOM_UPDATE_SCREENSHOT=1), as room.test.mjs does: a test run leaves
    // the work tree alone
    const shot = process.env.NOOM_UPDATE_SCREENSHOT === '1'
      ? path.join(root, 'docs', 'screenshot-sfu.png')
      : path.join(os.tmpdir(), `noom-screenshot-sfu-${process.pid}.png`);
    await p.screenshot({ path: shot });
    assert.ok(fs.statSync(shot).size > 10000, 'a real picture');
    if (process.env.NOOM_UPDATE_SCREENSHOT !== '1')
      fs.unlinkSync(shot);
    await p.click('#page-next');
    await waitState(p, (s) => s.page === 1, null, 'page 2');
    assert.equal(await visible(), 2);
    assert.equal(await p.textContent('#page-label'), 'Page 2 of 2');
    await p.click('#page-prev');
    await waitState(p, (s) => s.page === 0, null, 'page 1');
    // the video still flows to the tiles on page 1
    await receivesFromAll(p, [ids.Bob, ids.Carol], 'Alice with pages');
  } finally {
    for (const s of extra)
      s.close();
  }
  await waitState(pages.Alice, (s) => s.pages === 1, null, 'one page again');
  assert.equal(await pages.Alice.isVisible('#grid-pager'), false);
});

test('the relay restarts: the pages say so and their video comes back', async () => {
  const m = /relay started pid=(\d+)/.exec(server.output);
  assert.ok(m, 'the server logs the relay pid');
  process.kill(Number(m[1]), 'SIGKILL');
  for (const name of Object.keys(pages))
    await until(() => pages[name].evaluate(() =>
      [...document.querySelectorAll('#room-notice, #messages')].map((e) => e.textContent).join(' ')),
    (t) => /media relay restarts/.test(t), `${name}'s notice`, 20000);
  for (const name of Object.keys(pages)) {
    const others = Object.keys(pages).filter((n) => n !== name).map((n) => ids[n]);
    await receivesFromAll(pages[name], others, `${name} after the restart`);
  }
});
