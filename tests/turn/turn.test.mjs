// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// TURN through coturn: the test starts coturn (turnserver) on loopback with
// use-auth-secret, noom-server hands out TURN REST credentials for it, and
// clients forced to relay-only (web client pages with ?relay=1, noomsink and
// noomsrc with ice-transport-policy=relay) must still exchange media through
// it; with the wrong secret on the server they must not.  Skipped when
// turnserver is not installed (the element tests also when the elements
// lack ice-transport-policy).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import dgram from 'node:dgram';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  Server, Pipeline, launchBrowser, openPage, join, waitState, receivesFrom,
  selfId, until,
} from '../browser/harness.mjs';

const SECRET = 'noom-turn-test-' + crypto.randomBytes(8).toString('hex');
const REALM = 'noom.test';

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}
const TURNSERVER = which('turnserver');
const SKIP = TURNSERVER ? false : 'turnserver (coturn) is not installed';

async function freeUdpPort() {
  const s = dgram.createSocket('udp4');
  await new Promise((r) => s.bind(0, '127.0.0.1', r));
  const port = s.address().port;
  await new Promise((r) => s.close(r));
  return port;
}

// One STUN Binding request to 127.0.0.1:port; resolves true on a Binding
// success response within `ms`.
function stunPing(port, ms = 300) {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const tid = crypto.randomBytes(12);
    const req = Buffer.alloc(20);
    req.writeUInt16BE(0x0001, 0);
    req.writeUInt16BE(0, 2);
    req.writeUInt32BE(0x2112a442, 4);
    tid.copy(req, 8);
    const done = (ok) => {
      clearTimeout(t);
      s.close();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), ms);
    s.on('message', (m) => {
      if (m.length >= 20 && m.readUInt16BE(0) === 0x0101 && m.subarray(8, 20).equals(tid))
        done(true);
    });
    s.on('error', () => done(false));
    s.send(req, port, '127.0.0.1');
  });
}

// coturn on loopback, configured as docs/server.md "ICE and TURN" says.
class Coturn {
  async start() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'noom-turn-'));
    this.log = path.join(this.dir, 'turn.log');
    this.port = await freeUdpPort();
    this.proc = spawn(TURNSERVER, [
      '-n',                       // no /etc/turnserver.conf
      '--listening-ip', '127.0.0.1', '--relay-ip', '127.0.0.1',
      '--listening-port', String(this.port),
      '--use-auth-secret', '--static-auth-secret', SECRET,
      '--realm', REALM,
      '--no-tls', '--no-dtls', '--no-cli', '--verbose',
      '--allow-loopback-peers',
      '--log-file', this.log, '--simple-log', '--no-stdout-log',
      '--pidfile', path.join(this.dir, 'turnserver.pid'),
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.output = '';
    this.proc.stdout.on('data', (d) => { this.output += d; });
    this.proc.stderr.on('data', (d) => { this.output += d; });
    await until(async () => {
      if (this.proc.exitCode !== null)
        throw new Error(`turnserver exited (${this.proc.exitCode}):\n${this.output}\n${this.logText()}`);
      return stunPing(this.port);
    }, (ok) => ok, `turnserver answering STUN on 127.0.0.1:${this.port}`, 15000, 100);
    return this;
  }

  logText() {
    try {
      return fs.readFileSync(this.log, 'utf8');
    } catch {
      return '';
    }
  }

  async stop() {
    const proc = this.proc;
    this.proc = null;
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      const exited = once(proc, 'exit');
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    if (this.dir && !process.env.NOOM_TEST_KEEP)
      fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

// Per remote id: the candidate types of the selected pair, connection state.
async function selectedPairs(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const [id, pc] of window.noom.peers) {
      const stats = await pc.getStats();
      let pairId = null;
      stats.forEach((s) => {
        if (s.type === 'transport' && s.selectedCandidatePairId)
          pairId = s.selectedCandidatePairId;
      });
      const pair = pairId && stats.get(pairId);
      const r = { state: pc.connectionState, local: null, remote: null };
      if (pair) {
        r.local = stats.get(pair.localCandidateId)?.candidateType ?? null;
        r.remote = stats.get(pair.remoteCandidateId)?.candidateType ?? null;
      }
      out[id] = r;
    }
    return out;
  });
}

let turn, server, badServer, browser;
const iceUrl = () => `turn:127.0.0.1:${turn.port}?transport=udp`;

before(async () => {
  if (SKIP)
    return;
  turn = await new Coturn().start();
  server = await new Server(['--ice-server', iceUrl(), '--turn-secret', SECRET]).start();
  badServer = await new Server(['--ice-server', iceUrl(), '--turn-secret', SECRET + '-wrong']).start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  for (const s of [server, badServer])
    if (s)
      await s.stop();
  if (turn)
    await turn.stop();
});

async function relayPages(srv, room) {
  const pages = [];
  for (const name of ['Alice', 'Bob']) {
    const p = await openPage(browser, srv.url + '/?relay=1');
    await join(p, room, name);
    pages.push(p);
  }
  return pages;
}

test('relay-only browsers exchange media through coturn', { skip: SKIP, timeout: 120000 }, async () => {
  const pages = await relayPages(server, 'turn');
  const ids = await Promise.all(pages.map(selfId));
  for (const [i, p] of pages.entries()) {
    const other = ids[1 - i];
    const policy = await p.evaluate((id) => window.noom.peers.get(id)?.getConfiguration().iceTransportPolicy, other);
    assert.equal(policy, 'relay', '?relay=1 sets iceTransportPolicy');
    await receivesFrom(p, [other]);
    const pairs = await until(() => selectedPairs(p), (s) => s[other] && s[other].local,
      'a selected candidate pair', 20000);
    assert.deepEqual(pairs[other], { state: 'connected', local: 'relay', remote: 'relay' });
    assert.deepEqual(p.errors, []);
  }
  // coturn saw authenticated allocations from both pages
  const log = turn.logText();
  const allocs = log.match(/ALLOCATE processed, success/g) || [];
  assert.ok(allocs.length >= 2, `coturn allocations: ${allocs.length}\n${log.slice(-3000)}`);
  for (const p of pages)
    await p.context().close();
});

test('with a wrong TURN secret relay-only browsers do not connect', { skip: SKIP, timeout: 120000 }, async () => {
  const pages = await relayPages(badServer, 'turn-bad');
  const ids = await Promise.all(pages.map(selfId));
  for (const [i, p] of pages.entries())
    await waitState(p, (s, id) => s.participants.some((x) => x.id === id), ids[1 - i], 'the other participant');
  // each page has tried coturn and given up gathering: no relay candidate
  for (const [i, p] of pages.entries()) {
    const g = await until(() => p.evaluate((id) => {
      const pc = window.noom.peers.get(id);
      return pc ? pc.iceGatheringState : null;
    }, ids[1 - i]), (s) => s === 'complete', 'ICE gathering complete', 40000);
    assert.equal(g, 'complete');
  }
  for (const [i, p] of pages.entries()) {
    const s = await selectedPairs(p);
    const st = s[ids[1 - i]];
    assert.notEqual(st.state, 'connected', JSON.stringify(st));
    assert.equal(st.local, null, JSON.stringify(st));
    const relay = await p.evaluate(async (id) => {
      let n = 0;
      (await window.noom.peers.get(id).getStats()).forEach((x) => {
        if (x.type === 'local-candidate')
          n++;
      });
      return n;
    }, ids[1 - i]);
    assert.equal(relay, 0, 'no local candidate at all under relay-only');
  }
  // coturn refused the credentials
  assert.match(turn.logText(), /check_stun_auth: Cannot find credentials/);
  for (const p of pages)
    await p.context().close();
});

// The elements, relay-only: a noomsink publisher and a noomsrc receiver
// (gst-launch-1.0, plugin from $GST_PLUGIN_PATH) take the room's TURN
// credentials and must exchange video through coturn.
function elementsPolicy() {
  const missing = [];
  for (const e of ['noomsink', 'noomsrc']) {
    const r = spawnSync('gst-inspect-1.0', [e], { encoding: 'utf8' });
    if (r.status !== 0)
      missing.push(`${e} (not found)`);
    else if (!/ice-transport-policy/.test(r.stdout))
      missing.push(`${e}:ice-transport-policy`);
  }
  return missing.length ? `missing ${missing.join(', ')}` : false;
}
const ELEMENTS_SKIP = SKIP || elementsPolicy();


function relayElements(srv, room) {
  const pub = new Pipeline([
    'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=15/1', '!',
    'noomsink', 'ice-transport-policy=relay',
    `uri=noom://127.0.0.1:${srv.port}/${room}?nickname=pub`,
  ]);
  const sub = new Pipeline([
    'noomsrc', 'name=s', 'ice-transport-policy=relay',
    `uri=noom://127.0.0.1:${srv.port}/${room}?nickname=sub`,
    's.', '!', 'queue', '!', 'fakesink', 'name=out0', 'silent=false', 'sync=false',
  ]);
  return [pub, sub];
}

const decoded = (sub) => ({
  video: sub.count(/GstNoomSrcPad:video_0: caps = video\/x-raw/),
  chains: sub.count(/last-message = chain/),
});

test('relay-only noomsink and noomsrc exchange video through coturn', { skip: ELEMENTS_SKIP, timeout: 120000 }, async () => {
  const before = turn.logText().length;
  const [pub, sub] = relayElements(server, 'turn-elements');
  try {
    await until(async () => decoded(sub), (s) => s.video > 0 && s.chains > 50,
      'decoded video at noomsrc', 40000).catch((e) => {
      throw new Error(`${e.message}\n${sub.output.slice(-3000)}\n${pub.output.slice(-2000)}`);
    });
  } finally {
    assert.equal(await sub.stop(), 0, sub.output.slice(-2000));
    assert.equal(await pub.stop(), 0, pub.output.slice(-2000));
  }
  // both elements allocated on coturn and opened permissions for each
  // other's relayed address (that the relay is needed at all is the next
  // test's job)
  const log = turn.logText().slice(before);
  assert.ok((log.match(/ALLOCATE processed, success/g) || []).length >= 2, log.slice(-3000));
  assert.ok((log.match(/CREATE_PERMISSION processed, success/g) || []).length >= 2, log.slice(-3000));
});

test('with a wrong TURN secret relay-only elements receive nothing', { skip: ELEMENTS_SKIP, timeout: 120000 }, async () => {
  const before = turn.logText().length;
  const [pub, sub] = relayElements(badServer, 'turn-elements-bad');
  try {
    // both elements were refused by coturn ...
    await until(async () => (turn.logText().slice(before)
      .match(/check_stun_auth: Cannot find credentials/g) || []).length,
    (n) => n >= 2, 'coturn refusing both elements', 30000);
    // ... and, given a while, no frame arrives
    const end = Date.now() + 8000;
    while (Date.now() < end) {
      assert.equal(decoded(sub).video, 0, sub.output.slice(-2000));
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    await sub.stop();
    await pub.stop();
  }
});
