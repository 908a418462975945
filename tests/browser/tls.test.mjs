// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// TLS for browsers: noom-server with --tls-cert/--tls-key and a self-signed
// certificate the test makes with openssl; Chromium (told to accept it)
// loads the client over https, talks Socket.IO over wss, and two pages in
// one room exchange media.  Skipped when openssl is not installed.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HAVE_OPENSSL, makeCertificate } from '../certificate.mjs';
import {
  Server, launchBrowser, openPage, join, waitState, receivesFrom, selfId,
} from './harness.mjs';

const SKIP = HAVE_OPENSSL ? false : 'openssl is not installed';

let dir, server, browser;

before(async () => {
  if (SKIP)
    return;
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noom-tls-'));
  const { cert, key } = makeCertificate(dir);
  server = await new Server(['--tls-cert', cert, '--tls-key', key]).start();
  browser = await launchBrowser(['--ignore-certificate-errors']);
});

after(async () => {
  if (browser)
    await browser.close();
  if (server)
    await server.stop();
  if (dir)
    fs.rmSync(dir, { recursive: true, force: true });
});

test('two pages over https and wss exchange media', { skip: SKIP, timeout: 120000 }, async () => {
  assert.match(server.output, /https:\/\/[^\s]*:\d+/, 'noom-server announces https');
  const url = `https://127.0.0.1:${server.port}/`;
  // plain http on the TLS port is not served
  await assert.rejects(fetch(`http://127.0.0.1:${server.port}/`));
  const pages = [];
  const sockets = [];
  for (const name of ['Alice', 'Bob']) {
    const p = await openPage(browser, url);
    // load again with the listener attached, to see the page's WebSocket
    p.on('websocket', (ws) => sockets.push(ws.url()));
    await p.reload();
    assert.equal(await p.evaluate(() => location.protocol), 'https:');
    assert.equal(await p.evaluate(() => window.isSecureContext), true);
    await join(p, 'tls', name);
    pages.push(p);
  }
  const ids = await Promise.all(pages.map(selfId));
  for (const [i, p] of pages.entries()) {
    await waitState(p, (s, id) => s.tiles.includes(id), ids[1 - i], 'the other tile');
    await receivesFrom(p, [ids[1 - i]]);
    assert.deepEqual(p.errors, []);
  }
  // Socket.IO upgraded to WebSocket over TLS
  assert.ok(sockets.length >= 2 && sockets.every((u) => u.startsWith(`wss://127.0.0.1:${server.port}/socket.io/`)),
    JSON.stringify(sockets));
  for (const p of pages)
    await p.context().close();
});
