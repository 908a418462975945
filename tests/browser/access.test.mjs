// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Room tokens in the web client: a link with ?token= or #token= joins (and
// the token leaves the address bar); a page without a valid token is
// refused with a visible message and never sees the room.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { useServerAndBrowser, openPage, waitState } from './harness.mjs';

const SECRET = 'browser-secret-0123456789abcdef';
const dir = mkdtempSync(pathJoin(tmpdir(), 'noom-browser-access-'));
const secretFile = pathJoin(dir, 'secret');
writeFileSync(secretFile, SECRET);

function jwt(claims, secret = SECRET) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const part = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${part}.${createHmac('sha256', secret).update(part).digest('base64url')}`;
}
const now = () => Math.floor(Date.now() / 1000);
const token = (over = {}) => jwt({
  room: 'club', sub: 'guest', can: ['publish', 'subscribe', 'chat'], exp: now() + 600, ...over,
});

let server, browser;

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
}, { serverArgs: ['--token-secret', secretFile] });

after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function joinFromLink(page, nickname) {
  assert.equal(await page.inputValue('#room-name'), 'club');
  await page.fill('#nickname', nickname);
  await page.click('#join-button');
  await waitState(page, (s) => s.joined && s.room === 'club', null, `${nickname} in club`);
}

test('a token link (?token=) joins, and the token leaves the address bar', async () => {
  const a = await openPage(browser, `${server.url}/r/club?token=${token()}`);
  await joinFromLink(a, 'Ann');
  assert.equal(new URL(a.url()).search, '');
  assert.doesNotMatch(a.url(), /token/);

  // #token= works too; both see each other
  const b = await openPage(browser, `${server.url}/r/club#token=${token({ sub: 'bo' })}`);
  await joinFromLink(b, 'Bo');
  assert.doesNotMatch(b.url(), /token/);
  await waitState(a, (s) => s.participants.some((p) => p.nickname === 'Bo'), null, 'Ann sees Bo');

  // a reload keeps the tab's token
  await b.reload();
  await joinFromLink(b, 'Bo');
  assert.deepEqual([...a.errors, ...b.errors], []);
  await a.context().close();
  await b.context().close();
});

for (const [name, link] of [
  ['no token', () => '/r/club'],
  ['an expired token', () => `/r/club?token=${token({ exp: now() - 3600 })}`],
  ['a forged token', () => `/r/club?token=${jwt({ room: 'club', sub: 'x', can: ['chat'], exp: now() + 600 }, 'not-the-secret-0123456789')}`],
]) {
  test(`a page with ${name} is refused with a visible message and sees no room`, async () => {
    // a room exists that the refused page must not learn about
    const owner = await openPage(browser, `${server.url}/r/club?token=${token({ sub: 'owner' })}`);
    await joinFromLink(owner, 'Owner');

    const p = await openPage(browser, server.url + link());
    await waitState(p, (s) => s.banner && /Access denied/.test(s.banner), null, 'the access denied banner');
    assert.equal(await p.isVisible('#banner'), true);
    const s = await p.evaluate(() => window.noom.state());
    assert.equal(s.connected, false);
    assert.deepEqual(s.rooms, []);
    assert.match(s.banner, /token/);
    await owner.context().close();
    await p.context().close();
  });
}
