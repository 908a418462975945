// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Time from a browser's join to its first decoded frame, with a noomsink
// publishing 640x480 at 30 fps in the room.  Each run is a fresh page (a
// new browser context) that clicks Join; the clock starts at the click and
// stops when getStats (polled every 5 ms in the page) shows framesDecoded > 0.
//
//   NOOM_SERVER=build/tools/noom-server/noom-server \
//   GST_PLUGIN_PATH=build/gst node bench/browser-first-frame.mjs [RUNS]
//
// Prints one JSON object.  Run inside a loopback-only namespace (bench/run
// does).

import { spawn } from 'node:child_process';
import { Server, launchBrowser, openPage, waitState } from '../tests/browser/harness.mjs';

const runs = Number(process.argv[2] || 10);
const room = 'bench-browser';

const server = new Server();
await server.start();
const pub = spawn('gst-launch-1.0', ['-q', 'videotestsrc', 'is-live=true', '!',
  'video/x-raw,width=640,height=480,framerate=30/1', '!', 'noomsink', 'name=s',
  `uri=noom://127.0.0.1:${server.port}/${room}?nickname=publisher`,
  'audiotestsrc', 'is-live=true', '!', 's.'], { stdio: ['ignore', 'ignore', 'inherit'] });

const browser = await launchBrowser();
const times = [];
try {
  // wait until the publisher is in the room, as seen from a page
  const probe = await openPage(browser, server.url);
  await waitState(probe, (s) => s.rooms && s.rooms.some((r) => r.name === 'bench-browser'),
    null, 'publisher in the room', 30000);
  await probe.context().close();

  for (let i = 0; i < runs; i++) {
    const page = await openPage(browser, server.url);
    await page.fill('#nickname', `viewer${i}`);
    await page.fill('#room-name', room);
    const ms = await page.evaluate(() => new Promise((resolve, reject) => {
      const t0 = performance.now();
      document.querySelector('#join-button').click();
      const deadline = t0 + 20000;
      const poll = async () => {
        for (const pc of window.noom ? window.noom.peers.values() : []) {
          const stats = await pc.getStats();
          let frames = 0;
          stats.forEach((s) => {
            if (s.type === 'inbound-rtp' && s.kind === 'video')
              frames += s.framesDecoded || 0;
          });
          if (frames > 0)
            return resolve(performance.now() - t0);
        }
        if (performance.now() > deadline)
          return reject(new Error('no decoded frame within 20 s'));
        setTimeout(poll, 5);
      };
      poll();
    }));
    times.push(ms);
    await page.context().close();
  }
} finally {
  await browser.close();
  // the publisher leaves first, so it does not report a lost server
  pub.kill('SIGINT');
  await new Promise((r) => { pub.once('exit', r); setTimeout(r, 5000); });
  await server.stop();
}
times.sort((a, b) => a - b);
const pick = (p) => times[Math.min(times.length - 1, Math.floor(p / 100 * times.length))];
console.log(JSON.stringify({ bench: 'browser-first-frame', runs: times.length,
  median_ms: pick(50), min_ms: times[0], max_ms: times[times.length - 1] }));
process.exit(0);
