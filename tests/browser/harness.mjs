// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Shared helpers of the browser suite: start noom-server ($NOOM_SERVER) on a
// free port, drive headless Chromium (playwright-core, /usr/bin/chromium,
// fake camera and microphone) and read WebRTC stats through the client's
// read-only debug hook window.noom.

import { spawn } from 'node:child_process';
import { before, after } from 'node:test';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { delay, until, scaled } from '../wait.mjs';

export { until };

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '..', 'package.json'));
const { chromium } = require('playwright-core');

export const fixtures = path.join(here, 'fixtures');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

// A running noom-server; restart() brings it back on the same port.
export class Server {
  /* bin: another server than $NOOM_SERVER (e.g. $NOOM_SERVER_LAX) */
  constructor(extraArgs = [], { bin } = {}) {
    this.extraArgs = extraArgs;
    this.bin = bin;
    this.port = 0;
    this.proc = null;
    this.output = '';
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(timeoutMs = 15000) {
    timeoutMs = scaled(timeoutMs);
    const bin = this.bin || process.env.NOOM_SERVER;
    if (!bin)
      throw new Error('NOOM_SERVER is not set (path of the built noom-server)');
    const args = ['--port', String(this.port), ...this.extraArgs];
    // NOOM_WEB_DIR serves the client from disk (edit, rerun, no rebuild)
    if (process.env.NOOM_WEB_DIR)
      args.push('--static-dir', process.env.NOOM_WEB_DIR);
    const proc = bin.endsWith('.mjs')
      ? spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const port = await new Promise((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(() => reject(new Error(
        `noom-server printed no listening URL in ${timeoutMs} ms:\n${buf}`)), timeoutMs);
      let found = false;
      // stays attached: it also keeps the pipes drained (the server logs
      // every error once)
      const onData = (d) => {
        this.output += d.toString();
        if (found)
          return;
        buf += d.toString();
        const m = /https?:\/\/[^\s/'"]*:(\d+)/.exec(buf);
        if (m) {
          found = true;
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      };
      proc.stdout.on('data', onData);
      proc.stderr.on('data', onData);
      proc.once('exit', (code, sig) => {
        clearTimeout(timer);
        reject(new Error(`noom-server exited (${code ?? sig}) before listening:\n${buf}`));
      });
    });
    this.port = port;
    return this;
  }

  async stop() {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null)
      return;
    const exited = once(proc, 'exit');
    proc.kill('SIGTERM');
    const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  async restart() {
    await this.stop();
    // the port was just freed; retry briefly if the kernel still holds it
    for (let i = 0; ; i++) {
      try {
        return await this.start();
      } catch (e) {
        if (i >= 20)
          throw e;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
  }
}

// Chromium's flags for every test: headless, fake devices, WebRTC on
// loopback, no background traffic.
export const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu',
  '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--autoplay-policy=no-user-gesture-required',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run',
  '--disable-renderer-backgrounding', '--disable-background-timer-throttling',
  '--disable-backgrounding-occluded-windows',
  // the seed fixture is served by page.route, which Chromium counts as a
  // public page: let it reach noom-server on loopback
  '--disable-features=LocalNetworkAccessChecks',
];

export async function launchBrowser(extraArgs = []) {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, ...extraArgs],
  });
}

// One noom-server (started with serverArgs) and one Chromium (launched
// with browserArgs) for every test of the calling file: a before() hook
// starts both and hands them to set(server, browser), an after() hook
// stops whatever started.
export function useServerAndBrowser(set, { serverArgs = [], browserArgs = [] } = {}) {
  let server, browser;
  before(async () => {
    server = await new Server(serverArgs).start();
    browser = await launchBrowser(browserArgs);
    set(server, browser);
  });
  after(async () => {
    if (browser)
      await browser.close();
    if (server)
      await server.stop();
  });
}

// A gst-launch-1.0 pipeline (-e -v) whose output is kept for inspection.
export class Pipeline {
  constructor(args) {
    this.output = '';
    this.proc = spawn('gst-launch-1.0', ['-e', '-v', ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc.stdout.on('data', (d) => { this.output += d.toString(); });
    this.proc.stderr.on('data', (d) => { this.output += d.toString(); });
  }

  count(re) {
    return (this.output.match(new RegExp(re.source, 'g')) || []).length;
  }

  // Ctrl-C: with -e the pipeline ends its streams and leaves the room.
  async stop() {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null)
      return this.proc.exitCode;
    const exited = once(this.proc, 'exit');
    this.proc.kill('SIGINT');
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10000);
    const [code] = await exited;
    clearTimeout(t);
    return code;
  }
}

// Makes getUserMedia behave as on a machine without camera and microphone.
const NO_DEVICES = () => {
  const md = navigator.mediaDevices;
  md.getUserMedia = () => Promise.reject(new DOMException('Requested device not found', 'NotFoundError'));
  md.enumerateDevices = () => Promise.resolve([]);
};

// A page in its own context (own storage), with errors collected.
export async function openPage(browser, url, { noDevices = false, viewport } = {}) {
  const context = await browser.newContext({ viewport: viewport || { width: 1280, height: 720 } });
  context.setDefaultTimeout(scaled(30000));
  if (noDevices)
    await context.addInitScript(NO_DEVICES);
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('console', (m) => {
    if (process.env.NOOM_TEST_VERBOSE)
      console.log(`# [page] ${m.type()}: ${m.text()}`);
  });
  await page.goto(url);
  return page;
}

// Joins through the home form, as a user does.
export async function join(page, room, nickname) {
  await page.fill('#nickname', nickname);
  await page.fill('#room-name', room);
  await page.click('#join-button');
  await waitState(page, (s) => s.joined, null, 'joined');
}

// Waits until fn(window.noom.state(), arg) is true in the page.
export async function waitState(page, fn, arg = null, what = 'condition', timeout = 20000) {
  try {
    await page.waitForFunction(
      ([src, a]) => (0, eval)('(' + src + ')')(window.noom.state(), a),
      [fn.toString(), arg], { timeout: scaled(timeout), polling: 100 });
  } catch (e) {
    const s = await page.evaluate(() => window.noom && window.noom.state()).catch(() => null);
    throw new Error(`timed out waiting for ${what}; state: ${JSON.stringify(s)}`);
  }
}

// Per remote participant id: inbound video framesDecoded and audio
// totalAudioEnergy / totalSamplesReceived, read from getStats.
export async function inbound(page) {
  return page.evaluate(async () => {
    const out = {};
    for (const [id, pc] of window.noom.peers) {
      const r = { state: pc.connectionState, framesDecoded: 0, audioEnergy: 0, audioSamples: 0, audioLevel: 0, videoPackets: 0, audioPackets: 0 };
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type !== 'inbound-rtp')
          return;
        if (s.kind === 'video') {
          r.framesDecoded += s.framesDecoded || 0;
          r.videoPackets += s.packetsReceived || 0;
        } else if (s.kind === 'audio') {
          r.audioEnergy += s.totalAudioEnergy || 0;
          r.audioSamples += s.totalSamplesReceived || 0;
          r.audioLevel = Math.max(r.audioLevel, s.audioLevel || 0);
          r.audioPackets += s.packetsReceived || 0;
        }
      });
      out[id] = r;
    }
    return out;
  });
}

// Waits until `page` decodes video (and, with audio, receives audio energy)
// from every id in `ids`, with the counters rising after a first sample.
export async function receivesFrom(page, ids, { audio = true, video = true, timeout = 40000 } = {}) {
  const first = await until(() => inbound(page),
    (s) => ids.every((id) => s[id] && (!video || s[id].framesDecoded > 0) && (!audio || s[id].audioSamples > 0)),
    `media from ${ids.join(', ')}`, timeout);
  return until(() => inbound(page),
    (s) => ids.every((id) => s[id]
      && (!video || s[id].framesDecoded > first[id].framesDecoded + 5)
      && (!audio || (s[id].audioSamples > first[id].audioSamples && s[id].audioEnergy > first[id].audioEnergy))),
    `rising media counters from ${ids.join(', ')}`, timeout);
}

// Per participant id, what the page decodes from it: the relay connection's
// inbound-rtp stats, attributed by mid with the offer's `tracks`.
export async function inboundByOwner(page) {
  return page.evaluate(async () => {
    const out = {};
    const owners = window.noom.owners();
    for (const [, pc] of window.noom.peers) {
      const stats = await pc.getStats();
      stats.forEach((s) => {
        if (s.type !== 'inbound-rtp' || !owners[s.mid])
          return;
        const r = out[owners[s.mid]] ||= { framesDecoded: 0, audioSamples: 0 };
        if (s.kind === 'video')
          r.framesDecoded += s.framesDecoded || 0;
        else
          r.audioSamples += s.totalSamplesReceived || 0;
      });
    }
    return out;
  });
}

export async function selfId(page) {
  return page.evaluate(() => window.noom.state().selfId);
}

// A modified client (docs/protocol.md §7 "What a participant may send"):
// a page of the server's origin that loads Noom's socket.io.js, joins
// `room` announcing `sends` and, when someone joins after it (§7: it
// offers), offers sendrecv audio and video with live fake tracks anyway.
// window.mallory holds what happened; page.id is its participant id.
export async function openMallory(browser, server, room, sends = []) {
  const page = await openPage(browser, `${server.url}/healthz`);
  await page.addScriptTag({ url: '/socket.io/socket.io.js' });
  const res = await page.evaluate(async ([room, sends]) => {
    const m = window.mallory = { errors: [], pcs: new Map(), offered: 0 };
    const socket = io({ transports: ['websocket'] });
    const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    socket.on('noom_error', (e) => m.errors.push(e));
    socket.on('welcome', async (nickname, count, p) => {
      const pc = new RTCPeerConnection();
      m.pcs.set(p.id, pc);
      pc.onicecandidate = (e) => socket.emit('ice', e.candidate ? e.candidate.toJSON() : null, room, p.id);
      for (const track of stream.getTracks())
        pc.addTransceiver(track, { direction: 'sendrecv', streams: [stream] });
      await pc.setLocalDescription(await pc.createOffer());
      socket.emit('offer', pc.localDescription.toJSON(), room, p.id, (r) => {
        if (r && r.error)
          m.errors.push(r.error);
        else
          m.offered++;
      });
    });
    // candidates wait for the answer (the web client queues them too)
    const answered = new Map();
    const answer = (id) => {
      if (!answered.has(id)) {
        let resolve;
        answered.set(id, Object.assign(new Promise((r) => { resolve = r; }), { resolve }));
      }
      return answered.get(id);
    };
    socket.on('answer', async (d, from) => {
      await m.pcs.get(from)?.setRemoteDescription(d);
      answer(from).resolve();
    });
    socket.on('ice', async (c, from) => {
      await answer(from);
      m.pcs.get(from)?.addIceCandidate(c || undefined).catch(() => {});
    });
    return new Promise((resolve) => socket.emit('enter_room', room,
      { nickname: 'mallory', sends }, resolve));
  }, [room, sends]);
  if (!res.ok)
    throw new Error(`mallory could not join: ${JSON.stringify(res)}`);
  page.id = res.id;
  return page;
}
