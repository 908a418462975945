// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The home page's open-room list with live counts, deep links, click to
// join; the camera preview before joining; a page without camera and
// microphone joins receive-only; a recorder is listed with a "recording"
// badge but gets no tile.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Server, useServerAndBrowser, openPage, join, waitState, receivesFrom, selfId, until,
} from './harness.mjs';

const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package.json'));
const { io } = require('socket.io-client');

let server, browser;

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
});

const listed = (page) => page.evaluate(() => [...document.querySelectorAll('#room-list .room-entry')]
  .map((b) => b.querySelector('.room-entry-name').textContent + '=' +
    (b.querySelector('.room-entry-count') || { textContent: '?' }).textContent));

async function waitList(page, expected) {
  return until(() => listed(page), (l) => JSON.stringify(l) === JSON.stringify(expected),
    'room list ' + JSON.stringify(expected), 10000, 100);
}

test('the open-room list and its counts follow joins and leaves', async () => {
  const watcher = await openPage(browser, server.url + '/');
  await waitList(watcher, []);
  // the card shows once the first room_change came (a private server sends none)
  await watcher.waitForSelector('#room-list-empty', { state: 'visible' });

  const a = await openPage(browser, server.url + '/');
  await join(a, 'alpha', 'Ann');
  await waitList(watcher, ['alpha=1 person']);

  // a deep link fills the room; the user only gives a nickname
  const b = await openPage(browser, server.url + '/r/' + encodeURIComponent('alpha'));
  assert.equal(await b.inputValue('#room-name'), 'alpha');
  assert.match(await b.textContent('#join-button'), /Join alpha/);
  await b.fill('#nickname', 'Ben');
  await b.click('#join-button');
  await waitState(b, (s) => s.joined && s.room === 'alpha', null, 'Ben in alpha');
  await waitList(watcher, ['alpha=2 people']);

  const c = await openPage(browser, server.url + '/');
  await join(c, 'a <i>room</i>', 'Cy');
  // its deep link round-trips the name
  const link = c.url();
  assert.equal(new URL(link).pathname, '/r/' + encodeURIComponent('a <i>room</i>'));
  const d = await openPage(browser, link);
  assert.equal(await d.inputValue('#room-name'), 'a <i>room</i>');
  await d.context().close();
  await waitList(watcher, ['a <i>room</i>=1 person', 'alpha=2 people']);
  assert.equal(await watcher.evaluate(() => document.querySelectorAll('#room-list i').length), 0);

  await b.click('#leave');
  await waitList(watcher, ['a <i>room</i>=1 person', 'alpha=1 person']);
  // Ben is home again and sees the list too
  await waitList(b, ['a <i>room</i>=1 person', 'alpha=1 person']);
  assert.equal(new URL(b.url()).pathname, '/');

  await c.close();   // closing the tab: the server sees the disconnect
  await waitList(watcher, ['alpha=1 person']);

  // click to join
  await watcher.fill('#nickname', 'Wes');
  await watcher.click('#room-list .room-entry');
  await waitState(watcher, (s) => s.joined && s.room === 'alpha', null, 'Wes in alpha');
  assert.equal(new URL(watcher.url()).pathname, '/r/alpha');
  await waitList(b, ['alpha=2 people']);

  await a.click('#leave');
  await watcher.click('#leave');
  await waitList(b, []);
  for (const p of [watcher, a, b]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('the home page previews the camera; joining uses the same camera and microphone, and leaving closes them', async () => {
  const page = await openPage(browser, server.url + '/');
  // count the camera openings and keep the tracks handed out, from the
  // start of the page (it focuses the form as it loads)
  await page.addInitScript(() => {
    const md = navigator.mediaDevices;
    const gum = md.getUserMedia.bind(md);
    window.opened = [];
    md.getUserMedia = async (c) => {
      const s = await gum(c);
      window.opened.push(...s.getTracks());
      return s;
    };
  });
  await page.reload();
  await page.fill('#nickname', 'Preview');
  await waitState(page, (s) => s.preview, null, 'camera preview');
  const shown = await page.evaluate(() => new Promise((resolve) => {
    const v = document.querySelector('#preview');
    const check = () => (v.videoWidth > 0 ? resolve(v.videoWidth) : setTimeout(check, 20));
    check();
  }));
  assert.ok(shown > 0, 'the preview plays');
  await page.fill('#room-name', 'preview');
  await page.click('#join-button');
  await waitState(page, (s) => s.joined, null, 'joined');
  const st = await page.evaluate(() => ({
    preview: window.noom.state().preview,
    sends: window.noom.state().sends,
    opened: window.opened.length,
    live: window.opened.filter((t) => t.readyState === 'live').length,
    same: window.opened.every((t) => window.noom.media.stream.getTracks().includes(t)),
  }));
  assert.deepEqual(st.sends, ['audio', 'video']);
  assert.equal(st.preview, false, 'no preview inside the room');
  assert.equal(st.opened, 2, 'camera and microphone opened once, for preview and room');
  assert.equal(st.live, 2);
  assert.ok(st.same, 'the room sends the previewed tracks');
  await page.click('#leave');
  await until(() => page.evaluate(() => window.opened.filter((t) => t.readyState === 'live').length),
    (n) => n === 0, 'camera and microphone closed after leaving');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a page without devices joins receive-only; a recorder shows a badge; a publisher gets a tile and can be renamed', async () => {
  const cam = await openPage(browser, server.url + '/');
  await join(cam, 'beta', 'Cam');
  const none = await openPage(browser, server.url + '/', { noDevices: true });
  await join(none, 'beta', 'Nodev');
  const st = await none.evaluate(() => window.noom.state());
  assert.deepEqual(st.sends, []);
  assert.match(st.notice, /receive-only/);
  assert.equal(await none.isVisible('#room-notice'), true);
  assert.equal(await none.isDisabled('#mute'), true);
  assert.equal(await none.isDisabled('#camera'), true);

  const camId = await selfId(cam);
  const noneId = await selfId(none);
  // it sees and hears Cam ...
  await receivesFrom(none, [camId]);
  // ... and Cam lists it without an empty tile
  await waitState(cam, (s, id) => s.participants.some((p) => p.id === id && p.sends.length === 0), noneId, 'Nodev listed');
  const camState = await cam.evaluate(() => window.noom.state());
  assert.ok(!camState.tiles.includes(noneId), 'no tile for a participant that sends nothing');
  assert.ok(await cam.evaluate(() => [...document.querySelectorAll('.person-name')].some((e) => e.textContent === 'Nodev')));

  // a recorder joins (socket.io-client standing in for noom-record)
  assert.equal(camState.recording, false);
  const rec = io(server.url, { transports: ['websocket'], reconnection: false });
  try {
    const res = await rec.timeout(10000).emitWithAck('enter_room', 'beta', { nickname: 'rec', kind: 'recorder' });
    assert.equal(res.ok, true, JSON.stringify(res));
    for (const p of [cam, none]) {
      await waitState(p, (s) => s.recording, null, 'recording badge');
      assert.equal(await p.isVisible('#recording-badge'), true);
      const s = await p.evaluate(() => window.noom.state());
      assert.ok(!s.tiles.includes(res.id), 'no tile for the recorder');
    }
    // neither a receive-only page nor a recorder sends: no connection at all
    assert.equal(await none.evaluate((id) => window.noom.peers.has(id), res.id), false);
  } finally {
    rec.close();
  }
  for (const p of [cam, none])
    await waitState(p, (s) => !s.recording, null, 'badge gone');

  // a send-only publisher (socket.io-client standing in for noomsink) gets
  // a tile, and even the receive-only page opens a connection to it
  const pub = io(server.url, { transports: ['websocket'], reconnection: false });
  let pubId;
  const offers = [];
  pub.on('offer', (desc, from) => offers.push({ from, sdp: desc.sdp }));
  try {
    const res = await pub.timeout(10000).emitWithAck('enter_room', 'beta', { nickname: 'cam-7', kind: 'publisher', sends: ['video'] });
    assert.equal(res.ok, true, JSON.stringify(res));
    pubId = res.id;
    for (const p of [cam, none]) {
      await waitState(p, (s, id) => s.tiles.includes(id), res.id, 'publisher tile');
      assert.equal(await p.textContent(`#grid .tile[data-id="${res.id}"] .tile-kind`), 'stream');
      assert.equal(await p.evaluate((id) => window.noom.peers.has(id), res.id), true);
    }
    // both pages were first, so both offer; directions follow `sends`
    await until(async () => new Set(offers.map((o) => o.from)).size, (n) => n === 2, 'offers from both pages', 10000, 100);
    const dirs = (sdp) => sdp.split(/\r\nm=/).slice(1).map((m) =>
      m.split(' ')[0] + ':' + /a=(sendrecv|sendonly|recvonly|inactive)/.exec(m)[1]);
    assert.deepEqual(dirs(offers.find((o) => o.from === camId).sdp), ['audio:sendonly', 'video:sendrecv']);
    assert.deepEqual(dirs(offers.find((o) => o.from === noneId).sdp), ['video:recvonly']);

    // a nickname change inside the room reaches the labels and the chat
    const renamed = await pub.timeout(5000).emitWithAck('nickname', 'cam <8>');
    assert.equal(renamed.ok, true);
    for (const p of [cam, none]) {
      await p.waitForFunction((id) => document.querySelector(`#grid .tile[data-id="${id}"] .tile-name`).textContent === 'cam <8>',
        pubId, { timeout: 10000 });
      const notices = await p.evaluate(() => [...document.querySelectorAll('#messages .notice')].map((e) => e.textContent));
      assert.ok(notices.includes('cam-7 is now cam <8>'), JSON.stringify(notices));
      assert.ok(await p.evaluate(() => [...document.querySelectorAll('.person-name')].some((e) => e.textContent === 'cam <8>')));
    }
  } finally {
    pub.close();
  }
  for (const p of [cam, none])
    await waitState(p, (s, id) => !s.tiles.includes(id) && !s.participants.some((x) => x.id === id), pubId, 'publisher gone');
  for (const p of [cam, none])
    assert.equal(await p.evaluate((id) => window.noom.peers.has(id), pubId), false);
  for (const p of [cam, none]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('ICE servers come from the join answer; a refused join (room full) is explained', async () => {
  const small = await new Server(['--max-room-size', '2', '--ice-server', 'stun:127.0.0.1:3478']).start();
  try {
    const a = await openPage(browser, small.url + '/');
    await join(a, 'tiny', 'Ann');
    const z = await openPage(browser, small.url + '/');
    await join(z, 'tiny', 'Zed');
    const zId = await selfId(z);
    await a.waitForFunction((id) => window.noom.peers.has(id), zId, { timeout: 10000 });
    const urls = await a.evaluate((id) => window.noom.peers.get(id).getConfiguration().iceServers
      .flatMap((s) => [].concat(s.urls)), zId);
    assert.deepEqual(urls, ['stun:127.0.0.1:3478']);

    const b = await openPage(browser, small.url + '/');
    await b.fill('#nickname', 'Ben');
    await b.fill('#room-name', 'tiny');
    await b.click('#join-button');
    await b.waitForSelector('#join-error:not([hidden])', { timeout: 10000 });
    assert.match(await b.textContent('#join-error'), /full/);
    assert.equal(await b.isVisible('#home'), true);
    const s = await b.evaluate(() => window.noom.state());
    assert.equal(s.room, null);
    assert.equal(s.joined, false);
    // the camera is released again
    assert.equal(await b.evaluate(() => window.noom.media.stream.getTracks().length), 0);
    for (const p of [a, z, b])
      await p.context().close();
  } finally {
    await small.stop();
  }
});
