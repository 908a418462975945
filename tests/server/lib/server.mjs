// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Shared helpers of the noom-server integration tests: start noom-server on
// a free loopback port (it prints the URL it listens on), drive it with the
// real socket.io-client v4 or with raw Engine.IO over ws/HTTP, and wait for
// events with deadlines (never sleep and hope).
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { test as nodeTest } from 'node:test';
import { createRequire } from 'node:module';
import assert from 'node:assert/strict';

const require = createRequire(import.meta.url);
export const { io } = require('socket.io-client');
// ws (a direct dependency in tests/package.json, the version
// socket.io-client's engine.io-client uses too) for raw Engine.IO frames.
export const WebSocket = require('ws');

export const SERVER = process.env.NOOM_SERVER;
if (!SERVER)
  throw new Error('NOOM_SERVER must name the noom-server executable');

// Groups without nesting: meson's TAP parser reads top-level results only,
// so every test is top level, named "<group>: <test>".
let groupName = null;
export function describe(name, fn) {
  const saved = groupName;
  groupName = name;
  try { fn(); } finally { groupName = saved; }
}
export function test(name, ...rest) {
  return nodeTest(groupName ? `${groupName}: ${name}` : name, ...rest);
}

export const TRANSPORTS = {
  'polling+upgrade': {},
  'websocket-only': { transports: ['websocket'] },
};

// Every deadline of the tests is multiplied by NOOM_TEST_TIME_SCALE (a
// float, default 1): on a loaded machine one factor stretches them all.
export const TIME_SCALE = Number(process.env.NOOM_TEST_TIME_SCALE) > 0 ?
  Number(process.env.NOOM_TEST_TIME_SCALE) : 1;

// Reject @promise after @ms (times TIME_SCALE) with an error naming @what.
export function deadline(promise, ms, what) {
  let timer;
  ms = Math.round(ms * TIME_SCALE);
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// Start noom-server with @args on 127.0.0.1 and a free port.  Resolves once
// it printed its URL.  The result can wait for log lines and stop it.
export async function startServer(args = [], { timeout = 5000 } = {}) {
  const child = spawn(SERVER, ['--host', '127.0.0.1', '--port', '0', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const server = {
    child,
    stdout: '',
    stderr: '',
    url: null,
    exited: null,
    waiters: new Set(),
  };
  const poke = () => { for (const w of server.waiters) w(); };
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (d) => { server.stdout += d; poke(); });
  child.stderr.on('data', (d) => {
    server.stderr += d;
    if (process.env.NOOM_TEST_VERBOSE) process.stderr.write(d);
    poke();
  });
  // Never outlive the test process, even when a test fails before stop().
  const reap = () => { if (!server.exited) child.kill('SIGKILL'); };
  process.on('exit', reap);
  server.exit = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      server.exited = { code, signal };
      process.off('exit', reap);
      poke();
      resolve(server.exited);
    });
  });

  // Wait until @pred(server) is true (checked on every output and exit).
  server.until = (pred, what, ms = 5000) => deadline(new Promise((resolve, reject) => {
    const check = () => {
      let v;
      try { v = pred(server); } catch (e) { server.waiters.delete(check); reject(e); return; }
      if (v) { server.waiters.delete(check); resolve(v); }
    };
    server.waiters.add(check);
    check();
  }), ms, what);

  // Wait for @n log lines on stderr matching @re (a RegExp); returns them.
  server.waitLog = (re, n = 1, ms = 5000) => server.until(() => {
    const lines = server.logLines(re);
    return lines.length >= n ? lines : null;
  }, `${n} log line(s) matching ${re}`, ms);
  server.logLines = (re) => server.stderr.split('\n').filter((l) => re.test(l));

  server.stop = async () => {
    if (!server.exited) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await server.exit;
      clearTimeout(timer);
    }
    return server.exited;
  };

  await server.until((s) => {
    if (s.exited)
      throw new Error(`noom-server exited (${JSON.stringify(s.exited)}): ${s.stderr}`);
    const m = /noom-server: listening on (http\S+)/.exec(s.stdout);
    if (m) s.url = m[1];
    return s.url;
  }, 'noom-server to listen', timeout);
  const u = new URL(server.url);
  server.port = Number(u.port);
  server.wsUrl = `ws://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=websocket`;
  server.pollUrl = `http://127.0.0.1:${server.port}/socket.io/?EIO=4&transport=polling`;
  return server;
}

// A socket.io-client socket that records every event it receives in an
// inbox from which the tests take them in order.
export function client(url, opts = {}) {
  const s = io(url, { forceNew: true, reconnection: false, timeout: 5000 * TIME_SCALE, ...opts });
  s.inbox = [];
  s.received = [];
  s.waiters = new Set();
  s.nick = 'Anon';
  s.onAny((name, ...args) => {
    s.inbox.push([name, ...args]);
    s.received.push([name, ...args]);
    for (const w of s.waiters) w();
  });
  s.on('disconnect', (reason) => {
    s.disconnectReason = reason;
    for (const w of s.waiters) w();
  });
  return s;
}

export async function connect(url, opts = {}) {
  const s = client(url, opts);
  await deadline(new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  }), 5000, 'connect');
  return s;
}

// Take the first event @name (with @pred(args) true) from @s's inbox,
// waiting up to @ms for it.  Returns its arguments.
export function take(s, name, { pred = () => true, ms = 3000 } = {}) {
  return deadline(new Promise((resolve) => {
    const check = () => {
      const i = s.inbox.findIndex(([n, ...a]) => n === name && pred(a));
      if (i >= 0) {
        const [, ...args] = s.inbox.splice(i, 1)[0];
        s.waiters.delete(check);
        resolve(args);
      }
    };
    s.waiters.add(check);
    check();
  }), ms, `event "${name}" on ${s.id}`);
}

export function waitDisconnect(s, ms = 3000) {
  return deadline(new Promise((resolve) => {
    const check = () => {
      if (s.disconnectReason !== undefined) { s.waiters.delete(check); resolve(s.disconnectReason); }
    };
    s.waiters.add(check);
    check();
  }), ms, `disconnect of ${s.id}`);
}

export function ack(s, ...args) {
  return s.timeout(3000 * TIME_SCALE).emitWithAck(...args);
}

// A round trip on @s: every event the server queued for @s before this
// call has arrived when it resolves (the server answers in order on one
// transport).  Lets a test assert that something did NOT arrive.
export async function sync(s) {
  const r = await ack(s, 'nickname', s.nick);
  assert.equal(r.ok, true);
}

export async function setNick(s, nick) {
  const r = await ack(s, 'nickname', nick);
  if (r.ok) s.nick = nick;
  return r;
}

// Names of the events still in the inbox (not taken).
export function pending(s, ...names) {
  return s.inbox.filter(([n]) => names.length === 0 || names.includes(n));
}

export function closeAll(...sockets) {
  for (const s of sockets) if (s) s.close();
}

// A raw Engine.IO WebSocket: collects text frames, lets the test send any.
export function rawSocket(server, { query = '' } = {}) {
  const ws = new WebSocket(server.wsUrl + query);
  const r = { ws, frames: [], closed: null, waiters: new Set() };
  const poke = () => { for (const w of r.waiters) w(); };
  ws.on('message', (data, isBinary) => {
    r.frames.push(isBinary ? data : data.toString());
    poke();
  });
  ws.on('close', (code, reason) => { r.closed = { code, reason: reason.toString() }; poke(); });
  ws.on('error', () => { });
  r.opened = deadline(new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  }), 3000, 'raw WebSocket open');
  r.opened.catch(() => { });    // rejections reach whoever awaits it
  // The next frame matching @pred (RegExp or function); consumes frames.
  r.next = (pred, ms = 3000) => deadline(new Promise((resolve, reject) => {
    const test = typeof pred === 'function' ? pred : (f) => typeof f === 'string' && pred.test(f);
    const check = () => {
      const i = r.frames.findIndex(test);
      if (i >= 0) { r.waiters.delete(check); resolve(r.frames.splice(i, 1)[0]); return; }
      if (r.closed) { r.waiters.delete(check); reject(new Error(`closed (${r.closed.code}) while waiting for ${pred}`)); }
    };
    r.waiters.add(check);
    check();
  }), ms, `raw frame ${pred}`);
  r.waitClose = (ms = 3000) => deadline(new Promise((resolve) => {
    const check = () => { if (r.closed) { r.waiters.delete(check); resolve(r.closed); } };
    r.waiters.add(check);
    check();
  }), ms, 'raw WebSocket close');
  r.send = (text) => ws.send(text);
  // Open + Socket.IO CONNECT; answers pings unless told not to.
  r.handshake = async ({ pong = true } = {}) => {
    await r.opened;
    const open = JSON.parse((await r.next(/^0/)).slice(1));
    if (pong)
      ws.on('message', (d) => { if (d.toString() === '2') ws.send('3'); });
    ws.send('40');
    const c = JSON.parse((await r.next(/^40/)).slice(2));
    r.sid = open.sid;
    r.id = c.sid;
    return { open, connect: c };
  };
  r.close = () => ws.terminate();
  return r;
}

// Raw HTTP request helper for the polling transport and the routes.
// fetch keeps connections alive; one the server closed just as fetch took
// it again from its pool fails before any answer ("other side closed").
// As a browser does with a stale pooled connection, that request is sent
// once more; any other failure is reported with its cause.
export async function http(server, path, init = {}) {
  const what = `HTTP ${init.method || 'GET'} ${path}`;
  const once = () => deadline(fetch(`http://127.0.0.1:${server.port}${path}`, init), 5000, what);
  let res;
  try {
    res = await once();
  } catch (e) {
    const code = e.cause && e.cause.code;
    if (!['UND_ERR_SOCKET', 'ECONNRESET', 'UND_ERR_CLOSED'].includes(code))
      throw new Error(`${what}: ${e.message}${e.cause ? ` (${e.cause.code || ''} ${e.cause.message})` : ''}`);
    res = await once();
  }
  const body = await res.text();
  return { status: res.status, headers: res.headers, body };
}

// An HS256 JWT with any header and claims, as any JWT library makes it
// (alg "none": no signature).
export function jwt(claims, { secret, header = { alg: 'HS256', typ: 'JWT' } }) {
  const b64 = (o) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
  const part = `${b64(header)}.${b64(claims)}`;
  const sig = header.alg === 'none' ? '' :
    createHmac('sha256', secret).update(part).digest('base64url');
  return `${part}.${sig}`;
}
