// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Time from a browser's join to its first decoded frame, with a noomsink
// publishing 640x480 at 30 fps in the room.  Each run is a fresh page (a
// new browser context) that clicks Join; the clock starts at the click and
// stops when getStats (polled every 5 ms in the page) shows framesDecoded > 0.
// Runs alternate between two cases:
//  - ready: the user typed a name and the home page's camera preview is
//    showing, as it is on any real visit (camera and microphone are open:
//    the join does not wait for them);
//  - cold: Join is clicked as soon as the page has loaded, while the camera
//    is still opening.
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
const coldTimes = [];
try {
  // wait until the publisher is in the room, as seen from a page
  const probe = await openPage(browser, server.url);
  await waitState(probe, (s) => s.rooms && s.rooms.some((r) => r.name === 'bench-browser'),
    null, 'publisher in the room', 30000);
  await probe.context().close();

  for (let i = 0; i < 2 * runs; i++) {
    const cold = i % 2 === 1;
    const page = await openPage(browser, server.url);
    await page.fill('#nickname', `viewer${i}`);
    await page.fill('#room-name', room);
    if (!cold)
      await waitState(page, (s) => s.preview, null, 'camera preview', 10000);
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
    (cold ? coldTimes : times).push(ms);
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
coldTimes.sort((a, b) => a - b);
const pick = (t, p) => t[Math.min(t.length - 1, Math.floor(p / 100 * t.length))];
console.log(JSON.stringify({ bench: 'browser-first-frame', runs: times.length,
  median_ms: pick(times, 50), min_ms: times[0], max_ms: times[times.length - 1],
  cold_median_ms: pick(coldTimes, 50), cold_min_ms: coldTimes[0],
  cold_max_ms: coldTimes[coldTimes.length - 1] }));
process.exit(0);
