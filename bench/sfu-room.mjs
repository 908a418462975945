// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Issue 15's room: B browsers (fake camera and microphone) and one noomsink
// publishing, and N noomsrc subscribers (decode=false, one process) in one
// SFU room of noom-server --sfu, for S seconds: every subscriber must get
// every publisher's video with no gap over 1 s.  The subscribers and the
// noomsink are noom-media-bench room-load; this script adds the browsers.
//
//   NOOM_SERVER=build/tools/noom-server/noom-server GST_PLUGIN_PATH=build/gst \
//   NOOM_MEDIA_BENCH=build/tools/noom-media-bench \
//   node bench/sfu-room.mjs [BROWSERS=3] [SUBSCRIBERS=40] [SECONDS=60]
//
// Prints noom-media-bench's JSON with the browsers' received frame rates
// added.  Run inside a loopback-only namespace.

import { spawn } from 'node:child_process';
import { Server, launchBrowser, openPage, join } from '../tests/browser/harness.mjs';

const browsers = Number(process.argv[2] || 3);
const subscribers = Number(process.argv[3] || 40);
const seconds = Number(process.argv[4] || 60);
const room = 'load';

const server = new Server(['--sfu']);
await server.start();
const relayPid = Number(/relay started pid=(\d+)/.exec(server.output)?.[1] || 0);
const browser = await launchBrowser();
let code = 1;
try {
  const pages = [];
  for (let i = 0; i < browsers; i++) {
    const p = await openPage(browser, server.url + '/');
    await join(p, room, `browser${i}`);
    pages.push(p);
  }
  const bench = spawn(process.env.NOOM_MEDIA_BENCH || 'build/tools/noom-media-bench',
    ['-s', `127.0.0.1:${server.port}`, '--room', room, '--seconds', String(seconds),
      ...(relayPid ? ['--relay-pid', String(relayPid)] : []),
      'room-load', String(subscribers), String(browsers + 1)],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  bench.stdout.on('data', (d) => { out += d; });
  code = await new Promise((resolve) => bench.on('exit', (c) => resolve(c)));
  // what each browser decodes from the others, per second
  const fps = [];
  for (const p of pages) {
    const frames = async () => p.evaluate(async () => {
      let n = 0;
      for (const [, pc] of window.noom.peers)
        (await pc.getStats()).forEach((s) => {
          if (s.type === 'inbound-rtp' && s.kind === 'video')
            n += s.framesDecoded || 0;
        });
      return n;
    });
    const a = await frames();
    await new Promise((r) => setTimeout(r, 5000));
    fps.push(((await frames()) - a) / 5 / browsers);
  }
  const result = JSON.parse(out.trim().split('\n').pop() || '{}');
  result.browsers = browsers;
  result.browser_fps_per_track = fps.map((f) => Math.round(f * 10) / 10);
  console.log(JSON.stringify(result));
} finally {
  await browser.close();
  await server.stop();
}
process.exit(code);
