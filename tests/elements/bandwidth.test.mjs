// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noomsink's congestion control on a shaped link (docs/elements.md
// "Bandwidth adaptation"): noom-media-bench bandwidth runs a noomsink and
// noomsrc receivers, each on its own loopback address, and caps the first
// one's link with tc (htb on lo).  It prints, each second, what was sent
// and received, the frames decoded and the publisher's estimate and layer
// for each receiver.  The checks are about behaviour, with generous
// bounds; the figures are the benchmark's (docs/performance.md).
//
// Root in a network namespace with nothing but lo (scripts/test): tc
// changes lo's qdisc.  Skipped elsewhere.

import { test, before, after } from 'node:test';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import assert from 'node:assert/strict';
import { Server } from '../browser/harness.mjs';

let server;

function privateNamespace() {
  if (process.getuid() !== 0)
    return false;
  const devs = readFileSync('/proc/self/net/dev', 'utf8').split('\n').slice(2)
    .map((l) => l.split(':')[0].trim()).filter((d) => d);
  return devs.length === 1 && devs[0] === 'lo';
}

const skip = privateNamespace() ? false :
  'needs root in a network namespace with only lo (tc shapes lo)';

before(async () => {
  if (!skip)
    server = await new Server().start();
});

after(async () => {
  if (server)
    await server.stop();
});

// Runs the benchmark; its per-second lines and its summary.
function bandwidth(args) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.env.NOOM_MEDIA_BENCH, ['--server',
      `127.0.0.1:${server.port}`, 'bandwidth', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => {
      if (code !== 0)
        return reject(new Error(`noom-media-bench exited ${code}:\n${err}`));
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
      resolve({ seconds: lines.filter((l) => !l.summary),
        summary: lines.find((l) => l.summary) });
    });
  });
}

const mean = (a) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);

test('one receiver under a 500 kbit/s cap, then free', { skip }, async () => {
  const { seconds } = await bandwidth(['--cap', '500', '--lift', '20',
    '--seconds', '40']);
  const capped = seconds.filter((s) => s.t > 5 && s.t <= 20);
  const free = seconds.filter((s) => s.t > 22);

  // the estimate falls under the cap, and the picture keeps moving
  assert.ok(capped.some((s) => s.rx0.estimate_kbps > 0 &&
    s.rx0.estimate_kbps < 500), `no estimate under the cap: ${
    JSON.stringify(capped.map((s) => s.rx0.estimate_kbps))}`);
  assert.ok(capped.filter((s) => s.rx0.fps > 0).length >= 10,
    `frames while capped: ${JSON.stringify(capped.map((s) => s.rx0.fps))}`);
  assert.ok(mean(capped.map((s) => s.sent_kbps)) < 500, 'sent under the cap');
  // free again: the estimate climbs back towards max-bitrate (1000)
  assert.ok(Math.max(...free.map((s) => s.rx0.estimate_kbps)) >= 700,
    `estimate once free: ${JSON.stringify(free.map((s) => s.rx0.estimate_kbps))}`);
});

test('a capped and a free receiver: the slow one gets layer 0 only',
  { skip }, async () => {
    const { seconds } = await bandwidth(['--receivers', '2', '--cap', '300',
      '--seconds', '25']);
    const late = seconds.filter((s) => s.t > 10);

    assert.ok(late.filter((s) => s.rx0.layer === 0).length >= late.length - 2,
      `rx0's layers: ${JSON.stringify(late.map((s) => s.rx0.layer))}`);
    assert.ok(late.filter((s) => s.rx1.layer === 1).length >= late.length - 2,
      `rx1's layers: ${JSON.stringify(late.map((s) => s.rx1.layer))}`);
    // the free one is not pulled down to the slow one's rate
    assert.ok(mean(late.map((s) => s.rx1.kbps)) >
      2 * mean(late.map((s) => s.rx0.kbps)), JSON.stringify(late));
    assert.ok(late.filter((s) => s.rx0.fps > 0).length >= late.length - 2,
      'the capped one keeps getting pictures');
  });

test('congestion-control=disabled: no estimate, the encoder keeps its rate',
  { skip }, async () => {
    const { seconds } = await bandwidth(['--cap', '0', '--seconds', '6',
      '--congestion-control', 'disabled']);

    assert.ok(seconds.every((s) => s.rx0.estimate_kbps === 0));
    assert.ok(seconds.some((s) => s.rx0.fps > 0));
  });
