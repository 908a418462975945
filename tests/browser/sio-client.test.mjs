// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Noom's own Socket.IO v4 browser client (web/socket.io.js) against
// noom-server in Chromium: classic script and ES module, CONNECT, acks,
// events, pings answered, reconnection with backoff, disconnect().

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Server, launchBrowser, until } from './harness.mjs';

// fast pings, so that a client that does not answer them is dropped quickly
const server = new Server(['--ping-interval', '400', '--ping-timeout', '1000']);
let browser, page;

before(async () => {
  await server.start();
  browser = await launchBrowser();
  page = await (await browser.newContext()).newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(server.url + '/healthz');
  await page.addScriptTag({ url: '/socket.io/socket.io.js' });
});

after(async () => {
  if (browser)
    await browser.close();
  await server.stop();
});

test('socket.io.js is a classic script defining window.io; noom-sio.js exports it', async () => {
  const r = await page.evaluate(async () => {
    const classic = typeof window.io;
    const m = await import('/static/noom-sio.js');
    return { classic, module: typeof m.io, same: m.io === window.io && m.default === m.io };
  });
  assert.deepEqual(r, { classic: 'function', module: 'function', same: true });
});

test('connect, acks, emitWithAck, events from others and onAny', async () => {
  const r = await page.evaluate(async () => {
    const connected = (s) => new Promise((resolve, reject) => {
      s.once('connect', resolve);
      s.once('connect_error', reject);
    });
    const a = io({ auth: { token: 'not checked yet' } });
    const b = io();
    await Promise.all([connected(a), connected(b)]);
    const out = { aId: a.id, bId: b.id, connected: a.connected };
    out.nick = await new Promise((resolve) => a.emit('nickname', 'kim', resolve));
    out.bad = await a.emitWithAck('no_such_event', 1);
    out.joinA = await a.emitWithAck('enter_room', 'sio', {});
    const welcome = new Promise((resolve) => a.once('welcome', (...args) => resolve(args)));
    const any = [];
    a.onAny((...args) => any.push(args[0]));
    out.joinB = await b.timeout(5000).emitWithAck('enter_room', 'sio', { nickname: 'lee' });
    out.welcome = await welcome;
    const message = new Promise((resolve) => a.once('new_message', (...args) => resolve(args)));
    out.sent = await b.emitWithAck('new_message', 'hi "there" \u00e9\u{1F600}', 'sio');
    out.message = await message;
    out.any = any;
    a.disconnect();
    b.disconnect();
    out.after = { connected: a.connected, id: a.id };
    return out;
  });
  assert.match(r.aId, /^[A-Za-z0-9_-]{20}$/);
  assert.notEqual(r.aId, r.bId);
  assert.equal(r.connected, true);
  assert.deepEqual(r.nick, { ok: true, nickname: 'kim' });
  assert.equal(r.bad.error.code, 'unknown_event');
  assert.equal(r.joinA.ok, true);
  assert.equal(r.joinA.id, r.aId);
  assert.equal(r.joinB.ok, true);
  assert.equal(r.joinB.participants[0].id, r.aId);
  assert.equal(r.welcome[0], 'lee');
  assert.equal(r.welcome[1], 2);
  assert.equal(r.welcome[2].id, r.bId);
  assert.equal(r.sent.ok, true);
  assert.equal(r.message[0], 'lee: hi "there" \u00e9\u{1F600}');
  assert.equal(r.message[1].text, 'hi "there" \u00e9\u{1F600}');
  assert.ok(r.any.includes('new_message'));
  assert.equal(r.after.connected, false);
});

test('server pings are answered: the connection outlives many ping timeouts', async () => {
  const r = await page.evaluate(async () => {
    const s = io();
    await new Promise((resolve) => s.once('connect', resolve));
    const id = s.id;
    let drops = 0;
    s.on('disconnect', () => drops++);
    // 400 ms interval + 1 s timeout: 4 s is ten ping rounds, and a client
    // that does not answer is dropped after 1.4 s
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const res = await s.timeout(2000).emitWithAck('nickname', 'still-here');
    const out = { same: s.id === id, drops, res };
    s.disconnect();
    return out;
  });
  assert.deepEqual(r, { same: true, drops: 0, res: { ok: true, nickname: 'still-here' } });
});

test('reconnects with backoff between 1 s and 5 s (jitter), gets a new id; disconnect() stops it', async () => {
  await page.evaluate(async () => {
    const s = io();
    window.__rc = { s, attempts: [], errors: 0, disconnects: [], connects: 0 };
    s.on('connect', () => window.__rc.connects++);
    s.on('disconnect', (reason) => window.__rc.disconnects.push(reason));
    s.on('connect_error', () => window.__rc.errors++);
    s.io.on('reconnect_attempt', () => window.__rc.attempts.push(performance.now()));
    await new Promise((resolve) => s.once('connect', resolve));
    window.__rc.firstId = s.id;
    window.__rc.lostAt = null;
    s.once('disconnect', () => { window.__rc.lostAt = performance.now(); });
  });
  await server.stop();
  const rc = await until(() => page.evaluate(() => ({ ...window.__rc, s: undefined })),
    (x) => x.attempts.length >= 4, 'four reconnection attempts', 20000, 200);
  assert.deepEqual(rc.disconnects, ['transport close']);
  assert.ok(rc.errors >= 3, 'connect_error on each failed attempt');
  const gaps = [rc.attempts[0] - rc.lostAt];
  for (let i = 1; i < rc.attempts.length; i++)
    gaps.push(rc.attempts[i] - rc.attempts[i - 1]);
  // attempt n waits min(1 s * 2^n, 5 s) +-50 %, never over 5 s
  const bounds = [[500, 1500], [1000, 3000], [2000, 5000], [2500, 5000]];
  gaps.slice(0, 4).forEach((g, i) => {
    assert.ok(g >= bounds[i][0] - 50 && g <= bounds[i][1] + 750,
      `gap ${i} = ${Math.round(g)} ms, expected ${bounds[i]}`);
  });

  await server.restart();
  const back = await until(() => page.evaluate(() => ({ connects: window.__rc.connects, id: window.__rc.s.id, first: window.__rc.firstId })),
    (x) => x.connects === 2, 'reconnected', 15000, 200);
  assert.notEqual(back.id, back.first);

  // an explicit disconnect() is final
  await page.evaluate(() => {
    window.__rc.s.disconnect();
    window.__rc.attemptsAfter = window.__rc.attempts.length;
  });
  await server.stop();
  await new Promise((r) => setTimeout(r, 2500));
  const final = await page.evaluate(() => ({
    n: window.__rc.attempts.length, before: window.__rc.attemptsAfter,
    connected: window.__rc.s.connected, disconnects: window.__rc.disconnects,
  }));
  assert.equal(final.n, final.before, 'no attempt after disconnect()');
  assert.equal(final.connected, false);
  assert.deepEqual(final.disconnects, ['transport close', 'io client disconnect']);
  await server.restart();
  assert.deepEqual(page.errors, []);
});
