// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The web client's room as people expect it (issue 20): private rooms
// (--private-rooms: no room list on the home page), accessibility (axe-core
// with no serious or critical violations on the home page and in a room,
// the chat input's label, the room list's accessible names, Alt+A and Alt+V,
// joins and leaves announced in a live region), pre-join toggles and
// pickers (joining with both off), the active speaker's ring and the
// speaker-first layout, and a phone (390×844): 16:9 tiles, one row of
// icons, device pickers in the settings sheet, the banner under no top bar,
// the others' tiles shown as reconnecting when the server goes away.
//
// Screenshots go to $NOOM_SCREENSHOT_DIR (default: a temporary directory);
// their paths are printed as TAP comments.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  Server, useServerAndBrowser, openPage, join, waitState, selfId, until,
} from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'package.json'));
const AXE = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const PHONE = { width: 390, height: 844 };
const shots = process.env.NOOM_SCREENSHOT_DIR ||
  fs.mkdtempSync(path.join(os.tmpdir(), 'noom-ui-shots-'));

let server, browser;
useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
});

async function shot(page, name) {
  const file = path.join(shots, `ui-${name}.png`);
  await page.screenshot({ path: file });
  console.log(`# screenshot ${file}`);
}

// axe-core's serious and critical violations on the page as it is now.
async function axe(page) {
  await page.addScriptTag({ content: AXE });
  const r = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

const tileOf = (id) => `#grid .tile[data-id="${id}"]`;

test('home: no serious axe violations; the room list reads "standup, 1 person"', async () => {
  const a = await openPage(browser, server.url + '/');
  await join(a, 'standup', 'Ann');
  const home = await openPage(browser, server.url + '/');
  await home.getByRole('button', { name: 'standup, 1 person', exact: true }).waitFor();
  await home.focus('#nickname');
  await waitState(home, (s) => s.preview, null, 'camera preview');
  await shot(home, 'home-desktop');
  assert.deepEqual(await axe(home), []);
  const phone = await openPage(browser, server.url + '/', { viewport: PHONE });
  await phone.getByRole('button', { name: 'standup, 1 person', exact: true }).waitFor();
  await shot(phone, 'home-phone');
  assert.deepEqual(await axe(phone), []);
  for (const p of [a, home, phone]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('--private-rooms: the home page shows no room list; a link still gets you in', async () => {
  const priv = await new Server(['--private-rooms']).start();
  try {
    const b = await openPage(browser, priv.url + '/');
    await join(b, 'secret', 'Bea');
    const home = await openPage(browser, priv.url + '/');
    await waitState(home, (s) => s.connected, null, 'connected');
    // the control: on the open server the same page shows the list
    const open = await openPage(browser, server.url + '/');
    await open.waitForSelector('#rooms-card', { state: 'visible' });
    assert.equal(await home.isVisible('#rooms-card'), false);
    assert.deepEqual((await home.evaluate(() => window.noom.state())).rooms, []);
    const link = await openPage(browser, priv.url + '/r/secret');
    await join(link, 'secret', 'Cy');
    await waitState(link, (s, id) => s.tiles.includes(id), await selfId(b), 'Bea\'s tile');
    for (const p of [b, home, open, link])
      await p.context().close();
  } finally {
    await priv.stop();
  }
});

test('pre-join: mic and camera off, then join: an avatar tile that the others still see', async () => {
  const a = await openPage(browser, server.url + '/');
  await a.focus('#nickname');
  await waitState(a, (s) => s.preview, null, 'camera preview');
  // device pickers on the preview
  await a.waitForSelector('#pre-cameras option', { state: 'attached' });
  await a.waitForSelector('#pre-microphones option', { state: 'attached' });
  assert.equal(await a.isVisible('#pre-cameras'), true);
  await a.click('#pre-mute');
  await a.click('#pre-camera');
  await waitState(a, (s) => s.muted && s.cameraOff && !s.preview, null, 'mic and camera off');
  assert.equal(await a.isVisible('#preview-off'), true);
  assert.equal(await a.getAttribute('#pre-mute', 'aria-pressed'), 'true');
  await shot(a, 'prejoin-off');
  await join(a, 'quiet', 'Ada');
  let s = await a.evaluate(() => window.noom.state());
  assert.equal(s.muted, true);
  assert.equal(s.cameraOff, true);
  assert.deepEqual(s.sends, ['audio', 'video']);
  assert.equal(await a.isVisible(`${tileOf('self')} .avatar`), true);
  assert.equal(await a.getAttribute('#mute', 'aria-pressed'), 'true');
  assert.equal(await a.getAttribute('#camera', 'aria-pressed'), 'true');
  const b = await openPage(browser, server.url + '/');
  await join(b, 'quiet', 'Bo');
  const idA = await selfId(a);
  await waitState(b, (s, id) => s.tiles.includes(id) && s.peerStates[id] === 'connected', idA, 'Ada seen, connected');
  assert.equal(await b.isVisible(`${tileOf(idA)} .avatar`), true);
  assert.equal(await b.evaluate((sel) => document.querySelector(sel).classList.contains('has-video'), tileOf(idA)), false);
  await shot(b, 'joined-with-both-off');
  for (const p of [a, b]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('room: no serious axe violations, a labelled chat input, Alt+A and Alt+V, joins and leaves announced', async () => {
  const a = await openPage(browser, server.url + '/');
  await join(a, 'access', 'Ada');
  assert.equal(await a.getByLabel('Message everyone').getAttribute('id'), 'chat-input');
  assert.equal(await a.getAttribute('#mute', 'aria-keyshortcuts'), 'Alt+A');
  assert.equal(await a.getAttribute('#camera', 'aria-keyshortcuts'), 'Alt+V');
  assert.match(await a.getAttribute('#mute', 'title'), /Alt\+A/);
  assert.match(await a.getAttribute('#camera', 'title'), /Alt\+V/);
  const b = await openPage(browser, server.url + '/');
  await join(b, 'access', 'Bo');
  const announced = (p) => p.evaluate(() => document.querySelector('[aria-live="polite"]#announcer').textContent);
  await until(() => announced(a), (t) => /Bo joined/.test(t), 'Bo joined, announced');
  await a.focus('#chat-input');
  await a.keyboard.press('Alt+KeyA');
  await waitState(a, (s) => s.muted, null, 'muted by Alt+A');
  await a.keyboard.press('Alt+KeyV');
  await waitState(a, (s) => s.cameraOff, null, 'camera off by Alt+V');
  assert.equal(await a.inputValue('#chat-input'), '', 'the shortcuts type nothing');
  await a.keyboard.press('Alt+KeyA');
  await waitState(a, (s) => !s.muted, null, 'unmuted by Alt+A');
  await shot(a, 'room-desktop');
  assert.deepEqual(await axe(a), []);
  await b.context().close();
  await until(() => announced(a), (t) => /Bo left/.test(t), 'Bo left, announced');
  assert.deepEqual(a.errors, []);
  await a.context().close();
});

test('active speaker: a ring while someone speaks, gone when they mute; speaker first puts them large', async () => {
  const a = await openPage(browser, server.url + '/');
  await join(a, 'talk', 'Ada');
  const b = await openPage(browser, server.url + '/');
  await join(b, 'talk', 'Bo');
  const idB = await selfId(b);
  // Chromium's fake microphone beeps: Bo speaks
  await waitState(a, (s, id) => s.speaking.includes(id), idB, 'a ring around Bo', 30000);
  await a.click('#settings-button');
  await a.check('#speaker-first');
  await waitState(a, (s, id) => s.featured === id, idB, 'Bo first and large');
  await a.click('#settings-close');
  await shot(a, 'speaker-first');
  await b.click('#mute');
  await waitState(a, (s, id) => !s.speaking.includes(id), idB, 'no ring once Bo muted', 30000);
  for (const p of [a, b]) {
    assert.deepEqual(p.errors, []);
    await p.context().close();
  }
});

test('phone: 16:9 tiles, one row of icons, pickers in the settings sheet, the others reconnecting when the server goes', async () => {
  const own = await new Server().start();
  try {
    const a = await openPage(browser, own.url + '/', { viewport: PHONE });
    await join(a, 'mobile', 'Ada');
    const b = await openPage(browser, own.url + '/');
    await join(b, 'mobile', 'Bo');
    const idB = await selfId(b);
    await waitState(a, (s, id) => s.peerStates[id] === 'connected', idB, 'Bo connected');
    await a.waitForFunction((sel) => document.querySelector(sel).classList.contains('has-video'), tileOf(idB));
    const ratios = await a.$$eval('#grid .tile', (ts) => ts.map((t) => t.clientWidth / t.clientHeight));
    for (const r of ratios)
      assert.ok(Math.abs(r - 16 / 9) < 0.05, `tile ratio ${r}`);
    // one row: every toolbar control at the same height, inside the width
    const row = await a.$$eval('.toolbar .tool, .toolbar #leave', (els) => els
      .filter((e) => e.offsetParent).map((e) => e.getBoundingClientRect())
      .map((r) => ({ top: r.top, mid: r.top + r.height / 2, right: r.right })));
    assert.ok(row.length >= 5, JSON.stringify(row));
    const mids = row.map((r) => r.mid);
    assert.ok(Math.max(...mids) - Math.min(...mids) < 8, JSON.stringify(row));
    assert.ok(row.every((r) => r.right <= PHONE.width), JSON.stringify(row));
    assert.equal(await a.isVisible('#microphones'), false);
    await a.click('#settings-button');
    assert.equal(await a.isVisible('#settings #microphones'), true);
    assert.equal(await a.isVisible('#settings #cameras'), true);
    await shot(a, 'phone-settings');
    await a.click('#settings-close');
    await shot(a, 'phone-room');

    await own.stop();
    await waitState(a, (s) => !s.connected && s.banner, null, 'banner');
    await waitState(a, (s, id) => s.stale.includes(id) && s.tiles.includes(id), idB, 'Bo kept as reconnecting');
    assert.equal(await a.textContent(`${tileOf(idB)} .tile-state`), 'reconnecting');
    const banner = await a.$eval('#banner', (e) => e.getBoundingClientRect().bottom);
    const top = await a.$eval('.topbar', (e) => e.getBoundingClientRect().top);
    assert.ok(banner <= top, `banner bottom ${banner} over the top bar at ${top}`);
    await shot(a, 'phone-reconnecting');
    for (const p of [a, b])
      await p.context().close();
  } finally {
    await own.stop();
  }
});
