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
// In an SFU room (noom-server --sfu) the cap is between the relay and the
// first receiver: the relay chooses each subscriber's layers from its own
// estimate of that link, and the publisher sizes layer 0 for the slowest
// (media_bandwidth, docs/protocol.md §11); /metrics shows both.
//
// The browser test puts Chromium behind the cap instead: the web client
// receives noomsink's video, whose packets leave from 127.0.0.2, and tc
// shapes what that address sends.
//
// Root in a network namespace with nothing but lo (scripts/test): tc
// changes lo's qdisc.  Skipped elsewhere.

import { test, before, after } from 'node:test';
import { spawn, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import assert from 'node:assert/strict';
import {
  Server, Pipeline, launchBrowser, openPage, join, until,
} from '../browser/harness.mjs';
import { delay } from '../wait.mjs';

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

// Runs the benchmark against @on; its per-second lines and its summary.
function bandwidth(args, on = server) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.env.NOOM_MEDIA_BENCH, ['--server',
      `127.0.0.1:${on.port}`, 'bandwidth', ...args],
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
  // free again: the estimate climbs back past the cap (how fast is the
  // benchmark's figure, docs/performance.md)
  const highest = Math.max(...free.map((s) => s.rx0.estimate_kbps));
  assert.ok(highest > 500 && highest > Math.max(...capped.map((s) => s.rx0.estimate_kbps)),
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
    // and each noomsrc sees in its own stats what comes to it
    assert.ok(late.filter((s) => s.rx0.rx_layer === 0).length >= late.length - 3,
      `rx0's received layers: ${JSON.stringify(late.map((s) => s.rx0.rx_layer))}`);
    assert.ok(late.filter((s) => s.rx1.rx_layer === 1).length >= late.length - 3,
      `rx1's received layers: ${JSON.stringify(late.map((s) => s.rx1.rx_layer))}`);
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

// The per-subscriber lines of an SFU server's /metrics: participant ->
// {estimate, layer} (the layer it takes of the one publisher).
async function subscribers(on) {
  const text = await (await fetch(`${on.url}/metrics`)).text();
  const out = {};
  const re = /^noom_sfu_subscriber_(estimate_bits_per_second|layer|keyframe_requests_total)\{[^}]*participant="([^"]+)"[^}]*\} (\d+)$/gm;
  const key = { layer: 'layer', estimate_bits_per_second: 'estimate', keyframe_requests_total: 'keyframes' };
  for (const [, name, id, value] of text.matchAll(re)) {
    out[id] ??= {};
    out[id][key[name]] = Number(value);
  }
  return out;
}

test('an SFU room: the relay gives a capped subscriber layer 0, which the publisher sizes for it, and a free one the whole stream',
  { skip }, async () => {
    // The relay's jitterbuffer at 200 ms: at the default 20 ms, a machine
    // this busy (a publisher, two receivers, the relay) delays packets
    // past it, and the relay drops them (docs/performance.md).
    const sfu = await new Server(['--sfu', '--relay-arg=--latency=200'])
      .start();
    const samples = [];
    let done = false;
    const poll = (async () => {
      while (!done) {
        samples.push(await subscribers(sfu));
        await delay(1000);
      }
    })();
    let seconds;
    try {
      ({ seconds } = await bandwidth(['--receivers', '2', '--cap', '300',
        '--seconds', '25'], sfu));
    } finally {
      done = true;
      await poll;
      await sfu.stop();
    }
    const late = seconds.filter((s) => s.t > 12);
    const last = samples.slice(-10);

    // the relay estimates each subscriber's own link (TWCC) and passes
    // layer 0 alone to the capped one, both layers to the free one
    const split = last.filter((m) => {
      const subs = Object.values(m);
      return subs.length === 2 &&
        subs.some((x) => x.layer === 0 && x.estimate < 400000) &&
        subs.some((x) => x.layer === 1 && x.estimate > 600000);
    });
    assert.ok(split.length >= last.length - 3,
      `the relay's subscribers: ${JSON.stringify(last)}`);
    // and counts what each asked of it. A receiver asks for a keyframe
    // when its first frames are not one, so at least one of the two does;
    // the other may have started on a keyframe and never asked.
    assert.ok(last.every((m) => Object.values(m).every((x) => Number.isInteger(x.keyframes))),
      `the relay's subscribers: ${JSON.stringify(last)}`);
    assert.ok(last.some((m) => Object.values(m).some((x) => x.keyframes >= 1)),
      `the relay's subscribers: ${JSON.stringify(last)}`);
    // the publisher sized layer 0 for the capped one (media_bandwidth):
    // it keeps getting pictures, at up to half the frame rate
    assert.ok(late.filter((s) => s.rx0.fps > 0).length >= late.length - 3,
      `rx0's frames: ${JSON.stringify(late.map((s) => s.rx0.fps))}`);
    assert.ok(mean(late.map((s) => s.rx0.fps)) >= 5,
      `rx0's frames: ${JSON.stringify(late.map((s) => s.rx0.fps))}`);
    // and the free one is not pulled down to its rate
    assert.ok(mean(late.map((s) => s.rx1.kbps)) >
      2 * mean(late.map((s) => s.rx0.kbps)), JSON.stringify(late));
  });

const noBrowser = existsSync('/usr/bin/chromium') ? false : 'no Chromium';

function tc(...args) {
  execFileSync('tc', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

// What 127.0.0.2 sends ('src') or receives ('dst') goes through a @kbit
// link with a 40-packet queue (noom-media-bench bandwidth shapes the same
// way); the rest of lo stays free.
function capLink(kbit, match) {
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '1');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:1', 'htb', 'rate', '10gbit');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb',
    'rate', `${kbit}kbit`, 'ceil', `${kbit}kbit`, 'burst', '16k');
  tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:10', 'handle', '10:', 'pfifo', 'limit', '40');
  tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
    'match', 'ip', match, '127.0.0.2/32', 'flowid', '1:10');
}

function uncap() {
  try {
    tc('qdisc', 'del', 'dev', 'lo', 'root');
  } catch { /* never added */ }
}

// What the page decoded and received from everyone so far.
function received(page) {
  return page.evaluate(async () => {
    let frames = 0, bytes = 0;
    for (const [, pc] of window.noom.peers) {
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video') {
          frames += s.framesDecoded || 0;
          bytes += s.bytesReceived || 0;
        }
      });
    }
    return { frames, bytes };
  });
}

test('a browser receiving noomsink under a 500 kbit/s cap', {
  skip: skip || noBrowser,
}, async () => {
  let browser, pipeline;
  try {
    capLink(500, 'src');

    browser = await launchBrowser();
    const page = await openPage(browser, server.url + '/');
    await join(page, 'bandwidth-web', 'Web');
    // -m: the bus's messages (noom-bandwidth) on stdout
    pipeline = new Pipeline(['-m',
      'videotestsrc', 'is-live=true', 'pattern=zone-plate', 'kx2=20', 'ky2=20', 'kt=1', '!',
      'video/x-raw,width=640,height=480,framerate=30/1', '!',
      'noomsink', `uri=noom://127.0.0.1:${server.port}/bandwidth-web?nickname=gst`,
      'ice-local-addresses=127.0.0.2', 'max-bitrate=1000000']);
    await until(() => received(page), (r) => r.frames > 0, 'the first frame', 40000);
    // let the estimate settle, then measure 10 s
    await delay(10000);
    const a = await received(page);
    await delay(10000);
    const b = await received(page);

    const estimates = [...pipeline.output.matchAll(
      /noom-bandwidth.*?estimated-bitrate=\(uint\)(\d+)/g)].map((m) => Number(m[1]));
    assert.ok(estimates.some((e) => e < 500000),
      `no estimate under the cap: ${estimates.join(' ')}`);
    const fps = (b.frames - a.frames) / 10;
    const kbps = (b.bytes - a.bytes) * 8 / 10 / 1000;
    assert.ok(kbps < 500, `received ${kbps} kbit/s through a 500 kbit/s link`);
    // the picture keeps moving (a frozen one, as without congestion
    // control, decodes next to nothing)
    assert.ok(fps >= 5, `decoded ${fps} fps under the cap`);
  } finally {
    if (pipeline)
      await pipeline.stop();
    if (browser)
      await browser.close();
    uncap();
  }
});

// noom-ingest shows noomsink's view of each receiver's link: on a
// terminal in its progress line, otherwise one line per change.
test('noom-ingest tells the link of a receiver under a 300 kbit/s cap', {
  skip: skip || (!process.env.NOOM_INGEST && 'NOOM_INGEST is not set'),
}, async () => {
  let ingest, rx;
  const clip = `/tmp/noom-bandwidth-clip-${process.pid}.mkv`;
  try {
    // 20 s of a moving zone plate, VP8 at 2 Mbit/s: noom-ingest decodes
    // it and noomsink encodes it again under congestion control
    execFileSync('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=600',
      'pattern=zone-plate', 'kx2=20', 'ky2=20', 'kt=1', '!',
      'video/x-raw,width=640,height=480,framerate=30/1', '!',
      'vp8enc', 'deadline=1', 'target-bitrate=2000000', '!',
      'matroskamux', '!', 'filesink', `location=${clip}`]);
    capLink(300, 'dst');

    rx = new Pipeline(['noomsrc', `uri=noom://127.0.0.1:${server.port}/bandwidth-ingest?nickname=slow`,
      'ice-local-addresses=127.0.0.2', 'media=video', '!', 'fakesink', 'sync=false']);
    ingest = spawn(process.env.NOOM_INGEST, [clip,
      `noom://127.0.0.1:${server.port}/bandwidth-ingest?nickname=movie`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    ingest.stderr.on('data', (d) => { err += d; });
    await until(async () => [...err.matchAll(/link to slow: (\d+) kbit\/s/g)]
      .map((m) => Number(m[1])), (v) => v.some((k) => k < 300),
    `a link under the cap in noom-ingest's output:\n${err.slice(-2000)}`, 30000);
  } finally {
    if (ingest)
      ingest.kill('SIGKILL');
    if (rx)
      await rx.stop();
    uncap();
    try {
      execFileSync('rm', ['-f', clip]);
    } catch { /* none */ }
  }
});

// noom-record shows what comes from each participant: the rate on its
// status line and, with -v, a line when a noomsink sends it only the VP8
// base layer (half the frame rate) because the link to it is slow while
// another receiver's is free.
test('noom-record tells a participant\'s video at half rate behind a 300 kbit/s cap, beside a free receiver', {
  skip: skip || (!process.env.NOOM_RECORD && 'NOOM_RECORD is not set'),
}, async () => {
  let pub, free, rec;
  const dir = mkdtempSync(`${tmpdir()}/noom-bandwidth-rec-`);
  try {
    capLink(300, 'dst');
    const uri = (nick) => `noom://127.0.0.1:${server.port}/bandwidth-record?nickname=${nick}`;
    pub = new Pipeline(['videotestsrc', 'is-live=true', 'pattern=zone-plate', 'kx2=20', 'ky2=20', 'kt=1', '!',
      'video/x-raw,width=640,height=480,framerate=30/1', '!', 'noomsink', `uri=${uri('movie')}`,
      'ice-local-addresses=127.0.0.1']);
    free = new Pipeline(['noomsrc', `uri=${uri('free')}`, 'ice-local-addresses=127.0.0.1', 'media=video', '!',
      'fakesink', 'sync=false']);
    rec = spawn(process.env.NOOM_RECORD, ['-v', '-q', '-o', dir, '--ice-local-addresses', '127.0.0.2',
      uri('rec').replace(/\?.*/, '')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    rec.stderr.on('data', (d) => { err += d; });
    await until(async () => err, (e) => /movie's video comes at half the frame rate: the link from them is slow/.test(e),
      `the half rate in noom-record's log:\n${err.slice(-2000)}`, 40000);
  } finally {
    if (rec)
      rec.kill('SIGKILL');
    if (free)
      await free.stop();
    if (pub)
      await pub.stop();
    uncap();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--ice-local-addresses that is not an address: noom-record exits 2 with the reason', {
  skip: !process.env.NOOM_RECORD && 'NOOM_RECORD is not set',
}, async () => {
  const p = spawn(process.env.NOOM_RECORD, ['--ice-local-addresses', 'eth0', 'noom://127.0.0.1:1/r'],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  p.stderr.on('data', (d) => { err += d; });
  const [code] = await once(p, 'exit');
  assert.equal(code, 2, err);
  assert.match(err, /--ice-local-addresses eth0: expected IP addresses/);
});
