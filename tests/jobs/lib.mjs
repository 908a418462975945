// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Helpers of the jobs suite: noom-server with its join/leave log parsed,
// child processes with their output kept, publishers made of gst-launch,
// and noom-probe-file (GstDiscoverer + a full decode) on recorded files.
// Paths come from the environment set in meson.build.

import { spawn, execFile, execFileSync } from 'node:child_process';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import net from 'node:net';
import path from 'node:path';
import { until, scaled } from '../wait.mjs';
import { HAVE_OPENSSL, makeCertificate as makeSelfSigned } from '../certificate.mjs';

export const env = (name) => {
  const v = process.env[name];
  if (!v)
    throw new Error(`${name} is not set (run through meson test)`);
  return v;
};

export { delay, until } from '../wait.mjs';

// A child process whose stdout and stderr are kept in .out.
export class Proc {
  constructor(cmd, args, opts = {}) {
    this.cmd = path.basename(cmd);
    this.out = '';
    this.proc = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
    const keep = (d) => {
      this.out += d.toString();
      if (process.env.NOOM_TEST_VERBOSE)
        process.stderr.write(`# [${this.cmd}] ${d}`);
    };
    this.proc.stdout.on('data', keep);
    this.proc.stderr.on('data', keep);
    this.exited = once(this.proc, 'exit').then(([code, signal]) => ({ code, signal }));
  }

  get running() {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  kill(signal = 'SIGTERM') {
    if (this.running)
      this.proc.kill(signal);
  }

  // Resolves with {code, signal}; kills with SIGKILL and throws after timeout.
  async wait(timeout = 20000) {
    timeout = scaled(timeout);
    let timer;
    const t = new Promise((_, reject) => {
      timer = setTimeout(() => {
        this.kill('SIGKILL');
        reject(new Error(`${this.cmd} did not exit within ${timeout} ms; output:\n${this.out}`));
      }, timeout);
    });
    try {
      return await Promise.race([this.exited, t]);
    } finally {
      clearTimeout(timer);
    }
  }

  async waitOutput(re, what, timeout = 20000) {
    return until(() => re.exec(this.out), (m) => m, `${what} in the output of ${this.cmd}:\n${this.out}`, timeout, 100);
  }
}

// noom-server on a loopback port (by default a free one); .events are the
// join/leave lines of its log with the time (ms) they were read.
export class Server {
  constructor(port = 0, args = []) {
    this.events = [];
    this.out = '';
    this.askedPort = port;
    this.args = args;
  }

  async start() {
    this.proc = new Proc(env('NOOM_SERVER'), ['--port', String(this.askedPort), '--host', '127.0.0.1', ...this.args]);
    const parse = () => {
      const lines = this.proc.out.split('\n');
      for (let i = this.parsed || 0; i < lines.length - 1; i++) {
        const m = /: (join|leave) room="([^"]*)" id=(\S+)(?: nickname="([^"]*)")?(?: kind=(\S+))?/.exec(lines[i]);
        if (m)
          this.events.push({ what: m[1], room: m[2], id: m[3], nickname: m[4], kind: m[5], t: Date.now() });
      }
      this.parsed = Math.max(this.parsed || 0, lines.length - 1);
    };
    this.proc.proc.stdout.on('data', parse);
    this.proc.proc.stderr.on('data', parse);
    const m = await this.proc.waitOutput(/listening on https?:\/\/127\.0\.0\.1:(\d+)/, 'listening URL', 15000);
    this.port = Number(m[1]);
    return this;
  }

  uri(room, query = '') {
    return `noom://127.0.0.1:${this.port}/${encodeURIComponent(room)}${query}`;
  }

  join(pred) {
    return this.events.find((e) => e.what === 'join' && pred(e));
  }

  async waitJoin(pred, what, timeout = 20000) {
    return until(() => this.join(pred), (e) => e, `join of ${what}`, timeout, 50);
  }

  async waitLeave(id, timeout = 20000) {
    return until(() => this.events.find((e) => e.what === 'leave' && e.id === id), (e) => e, `leave of ${id}`, timeout, 50);
  }

  // Seconds between a participant's join and leave.
  presence(id) {
    const j = this.events.find((e) => e.what === 'join' && e.id === id);
    const l = this.events.find((e) => e.what === 'leave' && e.id === id);
    return (l.t - j.t) / 1000;
  }

  async stop() {
    this.proc.kill('SIGTERM');
    await this.proc.wait(10000).catch(() => {});
  }
}

// A noomsink fed by test sources, in its own gst-launch process; SIGINT
// (gst-launch -e) makes it leave the room cleanly.
export function publisher(uri, { video = true, audio = true, extra = [] } = {}) {
  const args = ['-e'];
  if (video)
    args.push('videotestsrc', 'is-live=true', 'pattern=ball', '!',
      'video/x-raw,width=320,height=240,framerate=15/1', '!', 's.');
  if (audio)
    args.push('audiotestsrc', 'is-live=true', 'wave=ticks', '!', 's.');
  args.push('noomsink', 'name=s', `uri=${uri}`, ...extra);
  return new Proc('gst-launch-1.0', args);
}

export function probeFile(file) {
  return new Promise((resolve, reject) => {
    execFile(env('NOOM_PROBE_FILE'), [file], { timeout: 90000 }, (err, stdout, stderr) => {
      try {
        resolve(JSON.parse(stdout));
      } catch (e) {
        reject(new Error(`noom-probe-file ${file}: ${err ? err.message : ''}\n${stdout}\n${stderr}`));
      }
    });
  });
}

// A room token from `noom-server token`, for a server given
// --token-secret SECRET-FILE.
export async function mintToken(secretFile, room, can, identity = 'job') {
  const p = new Proc(env('NOOM_SERVER'), ['token', '--secret', secretFile, '--room', room, '--identity', identity, '--can', can]);
  const { code } = await p.wait(10000);
  if (code !== 0)
    throw new Error(`noom-server token failed: ${p.out}`);
  return p.out.trim();
}

// A self-signed certificate and its key in DIR (openssl), or null without
// openssl.
// A self-signed certificate in @dir ({cert, key}), or null without openssl.
export async function makeCertificate(dir) {
  return HAVE_OPENSSL ? makeSelfSigned(dir) : null;
}

export function tmpDir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function listFiles(dir) {
  try {
    return fs.readdirSync(dir).filter((f) => !f.startsWith('.')).sort().map((f) => path.join(dir, f));
  } catch {
    return [];
  }
}

export async function haveBrowser() {
  try {
    if (!fs.existsSync(process.env.CHROMIUM || '/usr/bin/chromium'))
      return false;
    await import('../browser/harness.mjs');
    return true;
  } catch {
    return false;
  }
}

// noom-record with -v -q writing into DIR, with EXTRA options (the egress
// tests).
export function record(server, room, dir, extra = []) {
  return new Proc(env('NOOM_RECORD'), ['-v', '-q', '-o', dir, ...extra, server.uri(room)]);
}

export async function waitMkv(dir, n, what, timeout = 30000) {
  return until(() => listFiles(dir).filter((f) => f.endsWith('.mkv')), (f) => f.length >= n, what, timeout);
}

// A TCP port free on loopback now.
export function freeTcpPort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// The frame of FILE at SECONDS (luma, 8 bits), with the file's probe;
// the composite's size is checked (1280x720 unless given).
export async function frameAt(file, seconds, W = 1280, H = 720) {
  const raw = `${file}.${seconds.toFixed(1)}.gray`;
  const info = await new Promise((resolve, reject) => {
    try {
      resolve(JSON.parse(execFileSync(env('NOOM_PROBE_FILE'), ['--frame', raw, String(seconds), file], { timeout: 90000 }).toString()));
    } catch (e) {
      reject(new Error(`noom-probe-file --frame ${file}: ${e.message}\n${e.stdout}`));
    }
  });
  assert.equal(info.frameWidth, W, JSON.stringify(info));
  assert.equal(info.frameHeight, H, JSON.stringify(info));
  const data = fs.readFileSync(raw);
  return { info, at: (x, y) => data[y * info.frameStride + x] };
}
