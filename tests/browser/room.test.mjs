// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Three Noom pages in one room: full-mesh media, chat as text, mute and
// camera off seen by the others (and by a newcomer), leave.  Also saves
// docs/screenshot-room.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  useServerAndBrowser, openPage, join, waitState, inbound, until, receivesFrom, selfId,
} from './harness.mjs';
import { scaled } from '../wait.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ROOM = 'demo';
let server, browser;
const pages = {};
const ids = {};

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
});

test('three pages join one room and each receives video and audio from both others', async () => {
  for (const name of ['Alice', 'Bob', 'Carol']) {
    pages[name] = await openPage(browser, server.url + '/');
    await join(pages[name], ROOM, name);
    ids[name] = await selfId(pages[name]);
  }
  for (const name of Object.keys(pages)) {
    const others = Object.keys(pages).filter((n) => n !== name).map((n) => ids[n]);
    await waitState(pages[name], (s, o) => o.every((id) => s.tiles.includes(id)), others, `${name}'s tiles`);
    await receivesFrom(pages[name], others);
    const st = await pages[name].evaluate(() => window.noom.state());
    assert.equal(st.participants.length, 2);
    for (const id of others) {
      assert.equal(st.peerStates[id], 'connected');
      assert.equal(await pages[name].textContent(`#grid .tile[data-id="${id}"] .tile-state`), 'connected');
    }
    assert.match(await pages[name].textContent('#participant-count'), /^3 participants$/);
  }
  for (const p of Object.values(pages))
    assert.deepEqual(p.errors, []);
});

test('screenshot of a three-person room', async () => {
  const p = pages.Alice;
  const say = async (from, to, text) => {
    await from.fill('#chat-input', text);
    await from.click('#chat-form button');
    await to.waitForFunction((t) => [...document.querySelectorAll('#messages .message-text')]
      .some((e) => e.textContent === t), text, { timeout: 10000 });
  };
  await say(pages.Bob, p, 'Morning! Can everyone hear me?');
  await say(p, pages.Carol, 'Loud and clear!');
  await say(pages.Carol, p, 'Same here. Shall we start?');
  await until(() => p.evaluate(() => [...document.querySelectorAll('#grid video')]
    .every((v) => v.readyState >= 2 || !v.srcObject)), (ok) => ok, 'videos playing', 15000);
  // docs/screenshot-room.png is refreshed on request only
  // (NOOM_UPDATE_SCREENSHOT=1), so a test run leaves the work tree alone
  const file = process.env.NOOM_UPDATE_SCREENSHOT === '1'
    ? path.join(root, 'docs', 'screenshot-room.png')
    : path.join(os.tmpdir(), `noom-screenshot-room-${process.pid}.png`);
  await p.screenshot({ path: file });
  assert.ok(fs.statSync(file).size > 10000, 'a real picture');
  if (process.env.NOOM_UPDATE_SCREENSHOT !== '1')
    fs.unlinkSync(file);
});

test('chat reaches the others and HTML shows as text', async () => {
  const evil = '<img src=x onerror="window.pwned=1">';
  const nick = '<b>Mallory</b>';
  const m = await openPage(browser, server.url + '/');
  await join(m, ROOM, nick);
  await m.fill('#chat-input', 'hello ' + evil);
  await m.click('#chat-form button');
  for (const name of ['Alice', 'Bob', 'Carol']) {
    const p = pages[name];
    await p.waitForFunction((t) => [...document.querySelectorAll('#messages .message-text')]
      .some((e) => e.textContent === t), 'hello ' + evil, { timeout: 10000 });
    const html = await p.evaluate(() => document.getElementById('messages').innerHTML);
    assert.ok(!/<img/.test(html), 'no <img> element made from the message');
    assert.ok(html.includes('&lt;img src=x'), 'the markup is shown as text');
    assert.equal(await p.evaluate(() => document.querySelectorAll('#messages b, #people b, #grid b').length), 0);
    assert.ok(await p.evaluate((n) => [...document.querySelectorAll('.message-from')]
      .some((e) => e.textContent === n), nick));
    assert.ok(await p.evaluate((n) => [...document.querySelectorAll('.person-name')]
      .some((e) => e.textContent === n), nick));
    assert.equal(await p.evaluate(() => window.pwned), undefined);
  }
  // the others see Mallory's join and leave notices
  const mid = await selfId(m);
  await m.click('#leave');
  for (const name of ['Alice', 'Bob', 'Carol']) {
    await waitState(pages[name], (s, id) => !s.participants.some((x) => x.id === id), mid, 'Mallory gone');
    const notices = await pages[name].evaluate(() => [...document.querySelectorAll('#messages .notice')].map((e) => e.textContent));
    assert.ok(notices.includes(nick + ' joined'), JSON.stringify(notices));
    assert.ok(notices.includes(nick + ' left'), JSON.stringify(notices));
  }
  await m.context().close();
});

test('mute silences the remote audio; camera off stops the remote frames', async () => {
  const a = pages.Alice, b = pages.Bob;
  const window = async (ms) => {
    const s0 = (await inbound(b))[ids.Alice];
    await new Promise((r) => setTimeout(r, ms));
    const s1 = (await inbound(b))[ids.Alice];
    return {
      energy: s1.audioEnergy - s0.audioEnergy,
      samples: s1.audioSamples - s0.audioSamples,
      frames: s1.framesDecoded - s0.framesDecoded,
      level: s1.audioLevel,
    };
  };
  const loud = await window(1500);
  assert.ok(loud.samples > 0 && loud.energy > 1e-4, `audio before mute: ${JSON.stringify(loud)}`);
  assert.ok(loud.frames > 5, `video before camera off: ${JSON.stringify(loud)}`);

  await a.click('#mute');
  await waitState(a, (s) => s.muted, null, 'muted');
  assert.equal(await a.textContent('#mute .tool-label'), 'Unmute');
  // every other page shows Alice's mic-off badge (media_state)
  for (const other of [b, pages.Carol])
    await other.waitForFunction((id) => !document.querySelector(`#grid .tile[data-id="${id}"] .tile-muted`).hidden,
      ids.Alice, { timeout: 10000 });
  // a newcomer knows it from its join ack
  const dave = await openPage(browser, server.url + '/');
  await join(dave, ROOM, 'Dave');
  await dave.waitForFunction((id) => {
    const t = document.querySelector(`#grid .tile[data-id="${id}"]`);
    return t && !t.querySelector('.tile-muted').hidden;
  }, ids.Alice, { timeout: 10000 });
  assert.deepEqual((await dave.evaluate(() => window.noom.state())).participants
    .find((x) => x.id === ids.Alice).media_state, { audio: false, video: true, screen: false });
  await dave.context().close();
  // the audio already in flight drains first
  const quiet = await until(() => window(1000), (w) => w.samples > 0 && w.energy < 1e-6 && w.level < 0.01,
    'silence after mute', 15000, 0);
  assert.ok(quiet.samples > 0, 'audio packets keep flowing (silence, not a dead stream)');

  await a.click('#mute');
  await until(() => window(1000), (w) => w.energy > 1e-4, 'audio back after unmute', 15000, 0);
  await b.waitForFunction((id) => document.querySelector(`#grid .tile[data-id="${id}"] .tile-muted`).hidden,
    ids.Alice, { timeout: 10000 });

  await a.click('#camera');
  await waitState(a, (s) => s.cameraOff, null, 'camera off');
  // the others show the avatar at once, told by media_state
  for (const other of [b, pages.Carol])
    await other.waitForFunction((id) => document.querySelector(`#grid .tile[data-id="${id}"]`).classList.contains('camera-off'),
      ids.Alice, { timeout: 10000 });
  const stopped = await until(() => window(1500), (w) => w.frames === 0, 'no frames after camera off', 15000, 0);
  assert.equal(stopped.frames, 0);
  // Bob's tile for Alice shows her avatar instead of a frozen picture
  await b.waitForFunction((id) => !document.querySelector(`#grid .tile[data-id="${id}"]`).classList.contains('has-video'),
    ids.Alice, { timeout: 10000 });
  // the camera is really released
  assert.equal(await a.evaluate(() => window.noom.media.stream.getVideoTracks().length), 0);

  await a.click('#camera');
  await waitState(a, (s) => !s.cameraOff, null, 'camera on');
  await until(() => window(1000), (w) => w.frames > 3, 'frames after camera on', 15000, 0);
  await b.waitForFunction((id) => document.querySelector(`#grid .tile[data-id="${id}"]`).classList.contains('has-video'),
    ids.Alice, { timeout: 10000 });
  await b.waitForFunction((id) => !document.querySelector(`#grid .tile[data-id="${id}"]`).classList.contains('camera-off'),
    ids.Alice, { timeout: 10000 });
});

test('a shared screen shows large on every page, as a second video track', async () => {
  const a = pages.Alice;
  // the fake display capture (--use-fake-ui-for-media-stream picks it)
  await a.click('#share');
  await waitState(a, (s) => s.sharing && s.screens.includes('self'), null, 'Alice shares');
  assert.equal(await a.textContent('#share .tool-label'), 'Stop sharing');
  for (const name of ['Bob', 'Carol']) {
    const p = pages[name];
    await waitState(p, (s, id) => s.screens.includes(id), ids.Alice, `${name} shows Alice's screen`);
    // real frames of the display (1280x720), not the camera's, on the large tile
    await p.waitForFunction((id) => {
      const v = document.querySelector(`#grid .screen-tile[data-screen="${id}"] video`);
      return v && v.videoWidth === 1280 && v.getVideoPlaybackQuality().totalVideoFrames > 10;
    }, ids.Alice, { timeout: 20000 });
    const st = await p.evaluate(() => window.noom.state());
    assert.equal(st.participants.find((x) => x.id === ids.Alice).media_state.screen, true);
    // large: the first tile, the whole width of the grid
    const box = await p.evaluate((id) => {
      const grid = document.querySelector('#grid').getBoundingClientRect();
      const t = document.querySelector(`#grid .screen-tile[data-screen="${id}"]`).getBoundingClientRect();
      const cam = document.querySelector(`#grid .tile[data-id="${id}"]`).getBoundingClientRect();
      return { grid: grid.width, screen: t.width, cam: cam.width, first: t.top <= cam.top };
    }, ids.Alice);
    assert.ok(box.screen > box.cam * 1.5 && box.first, JSON.stringify(box));
    // the camera goes on beside it
    await receivesFrom(p, [ids.Alice], { audio: false });
  }
  await pages.Bob.screenshot({ path: path.join(os.tmpdir(), 'noom-screen-share.png') });

  await a.click('#share');
  await waitState(a, (s) => !s.sharing && s.screens.length === 0, null, 'Alice stops sharing');
  for (const name of ['Bob', 'Carol'])
    await waitState(pages[name], (s) => s.screens.length === 0, null, `${name} without Alice's screen`);
  for (const p of Object.values(pages))
    assert.deepEqual(p.errors, []);
});

test('switching the microphone replaces the audio sender and keeps mute', async () => {
  const a = pages.Alice;
  const before = await a.evaluate(() => window.noom.media.stream.getAudioTracks()[0].id);
  await a.click('#mute');
  const options = await a.$$eval('#microphones option', (os) => os.map((o) => o.value));
  assert.ok(options.length >= 1);
  await a.selectOption('#microphones', options[options.length - 1]);
  // the new track, then on every sender (replaceTrack is asynchronous:
  // on a busy machine a sender still had the old one when checked at once)
  await a.waitForFunction((old) => {
    const t = window.noom.media.stream.getAudioTracks()[0];
    return t && t.id !== old && [...window.noom.peers.values()].every((pc) =>
      pc.getSenders().filter((s) => s.track && s.track.kind === 'audio').every((s) => s.track.id === t.id));
  }, before, { timeout: scaled(10000) });
  const check = await a.evaluate(() => {
    const t = window.noom.media.stream.getAudioTracks()[0];
    const senders = [...window.noom.peers.values()].map((pc) =>
      pc.getSenders().filter((s) => s.track && s.track.kind === 'audio').map((s) => s.track.id));
    return { id: t.id, enabled: t.enabled, senders };
  });
  assert.equal(check.enabled, false, 'the new track starts muted, as the button says');
  for (const s of check.senders)
    assert.deepEqual(s, [check.id], 'every peer connection sends the new track');
  await a.click('#mute');
  assert.equal(await a.evaluate(() => window.noom.media.stream.getAudioTracks()[0].enabled), true);
});

test('renaming inside the room updates every label', async () => {
  const b = pages.Bob;
  await b.click('#rename');
  await b.fill('#rename-input', 'Robert <x>');
  await b.press('#rename-input', 'Enter');
  await waitState(b, (s) => s.nickname === 'Robert <x>', null, 'renamed');
  await b.waitForFunction(() => document.querySelector('#grid .tile[data-id="self"] .tile-name').textContent === 'Robert <x> (you)',
    null, { timeout: 5000 });
  for (const name of ['Alice', 'Carol']) {
    const p = pages[name];
    await p.waitForFunction((id) => document.querySelector(`#grid .tile[data-id="${id}"] .tile-name`).textContent === 'Robert <x>',
      ids.Bob, { timeout: 10000 });
    const notices = await p.evaluate(() => [...document.querySelectorAll('#messages .notice')].map((e) => e.textContent));
    assert.ok(notices.includes('Bob is now Robert <x>'), JSON.stringify(notices));
  }
});

test('switching the camera replaces the video sender everywhere and stops the old camera', async () => {
  const a = pages.Alice;
  const before = await a.evaluate(() => {
    window.__oldCam = window.noom.media.stream.getVideoTracks()[0];
    return window.__oldCam.id;
  });
  const options = await a.$$eval('#cameras option', (os) => os.map((o) => o.value));
  assert.ok(options.length >= 1);
  await a.selectOption('#cameras', options[options.length - 1]);
  await a.waitForFunction((old) => {
    const t = window.noom.media.stream.getVideoTracks()[0];
    return t && t.id !== old && [...window.noom.peers.values()].every((pc) =>
      pc.getSenders().filter((s) => s.track && s.track.kind === 'video').every((s) => s.track.id === t.id));
  }, before, { timeout: scaled(10000) });
  const check = await a.evaluate(() => {
    const t = window.noom.media.stream.getVideoTracks()[0];
    const senders = [...window.noom.peers.values()].map((pc) =>
      pc.getSenders().filter((s) => s.track && s.track.kind === 'video').map((s) => s.track.id));
    return { id: t.id, old: window.__oldCam.readyState, senders };
  });
  assert.equal(check.old, 'ended', 'the old camera track is stopped');
  for (const s of check.senders)
    assert.deepEqual(s, [check.id], 'every peer connection sends the new camera');
  await receivesFrom(pages.Bob, [ids.Alice]);
});

// What Alice's camera sender is set to on each connection, and the height
// of what it sends (outbound-rtp).
async function cameraEncodings(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const [, pc] of window.noom.peers) {
      const t = pc.getTransceivers().find((x) => !x.stopped && x.receiver.track.kind === 'video');
      const e = t.sender.getParameters().encodings[0] || {};
      let height = 0;
      (await t.sender.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp')
          height = s.frameHeight || 0;
      });
      out.push({ scale: e.scaleResolutionDownBy || 1, maxBitrate: e.maxBitrate || 0, height });
    }
    return out;
  });
}

test('the camera is sent smaller on each connection as the mesh grows, and full size again when it shrinks', async (t) => {
  const alice = pages.Alice;
  // two connections: the camera as captured (720 lines; the browser's own
  // adaptation may still send less), no bitrate limit of ours
  const full = await until(() => cameraEncodings(alice),
    (e) => e.length === 2 && e.every((x) => x.height > 0), 'video to Bob and Carol');
  assert.deepEqual(full.map((x) => [x.scale, x.maxBitrate]), [[1, 0], [1, 0]]);
  // a fourth participant: three connections each, 360 lines and 800 kbit/s
  const dave = await openPage(browser, server.url + '/');
  t.after(() => dave.context().close().catch(() => {}));
  await join(dave, ROOM, 'Dave');
  const daveId = await selfId(dave);
  await receivesFrom(dave, [ids.Alice], { audio: false });
  const small = await until(() => cameraEncodings(alice),
    (e) => e.length === 3 && e.every((x) => x.maxBitrate === 800000 && x.height > 0 && x.height <= 360),
    'video of at most 360 lines on three connections');
  for (const x of small)
    assert.equal(x.scale, 2, JSON.stringify(small));
  // Dave leaves: back to two connections at full size
  await dave.click('#leave');
  await waitState(alice, (s, id) => !s.participants.some((x) => x.id === id), daveId, 'Dave gone');
  await until(() => cameraEncodings(alice),
    (e) => e.length === 2 && e.every((x) => x.scale === 1 && x.maxBitrate === 0),
    'full-size video again');
});

test('leave removes the tile on every other page and closes the connection', async () => {
  const c = pages.Carol;
  const pcs = [];
  for (const name of ['Alice', 'Bob'])
    pcs.push(await pages[name].evaluate((id) => !!window.noom.peers.get(id), ids.Carol));
  assert.deepEqual(pcs, [true, true]);
  // keep references to the connections to check they end up closed
  for (const name of ['Alice', 'Bob'])
    await pages[name].evaluate((id) => { window.__carolPc = window.noom.peers.get(id); }, ids.Carol);
  await c.click('#leave');
  await waitState(c, (s) => !s.room && s.tiles.length === 0, null, 'Carol home');
  assert.equal(await c.isVisible('#home'), true);
  assert.equal(await c.evaluate(() => window.noom.peers.size), 0);
  for (const name of ['Alice', 'Bob']) {
    const p = pages[name];
    await waitState(p, (s, id) => !s.tiles.includes(id) && !s.participants.some((x) => x.id === id), ids.Carol, 'Carol gone');
    assert.equal(await p.evaluate(() => window.__carolPc.connectionState), 'closed');
    assert.equal(await p.evaluate((id) => window.noom.peers.has(id), ids.Carol), false);
    assert.match(await p.textContent('#participant-count'), /^2 participants$/);
  }
  // Alice and Bob still see each other
  await receivesFrom(pages.Alice, [ids.Bob]);
});
