// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The seed app's pages in Chromium (fixtures/seed-*.html, written from
// ../shared/reference/seed-noom.md): served on a noom-server's origin, so
// that their classic <script src="/socket.io/socket.io.js"> comes from that
// server, as the seed's pages got theirs from the seed's server.

import fs from 'node:fs';
import path from 'node:path';
import { fixtures, until } from './harness.mjs';
import { scaled } from '../wait.mjs';

// A new context's page at @baseUrl/seed/@name.html (fixtures/seed-@name.html:
// "chat", chapter 2, or "call", chapter 3), its socket connected.
export async function openSeed(browser, baseUrl, name = 'call') {
  const html = fs.readFileSync(path.join(fixtures, `seed-${name}.html`), 'utf8');
  const context = await browser.newContext();
  context.setDefaultTimeout(scaled(30000));
  await context.route(`**/seed/${name}.html`, (route) =>
    route.fulfill({ status: 200, contentType: 'text/html', body: html }));
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  await page.goto(`${baseUrl}/seed/${name}.html`);
  await page.waitForFunction(() => window.seed && window.seed.socket.connected, null,
    { timeout: scaled(15000) });
  return page;
}

// The call page joins @room (join_room, no ack); its participant id.
export async function seedJoin(page, room) {
  await page.fill('#welcome input', room);
  await page.click('#welcome button');
  await page.waitForFunction(() => window.seed.joined, null, { timeout: scaled(15000) });
  return page.evaluate(() => window.seed.socket.id);
}

// framesDecoded and audio samples received by the call page's only connection
export async function seedInbound(page) {
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

// The call page decodes video and receives audio, both rising.
export async function seedReceives(page) {
  const first = await until(() => seedInbound(page), (r) => r.frames > 0 && r.samples > 0,
    'media at the seed page', 40000);
  await until(() => seedInbound(page), (r) => r.frames > first.frames + 5 && r.samples > first.samples,
    'rising media at the seed page', 20000);
}
