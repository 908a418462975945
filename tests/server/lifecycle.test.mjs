// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-server as a program: options (--help, bad options exit 2), HTTP
// routes (docs/protocol.md §10) from the built-in resources and from
// --static-dir, TLS (https + wss), and SIGTERM closing every client with a
// close packet and exiting 0.
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SERVER, startServer, connect, client, take, ack, rawSocket, http,
  waitDisconnect, deadline,
  test, describe,
} from './lib/server.mjs';

describe('options', () => {
  test('--help lists every option', () => {
    const r = spawnSync(SERVER, ['--help'], { encoding: 'utf8' });
    assert.equal(r.status, 0);
    for (const o of ['--host', '--port', '--tls-cert', '--tls-key', '--ice-server',
      '--turn-secret', '--turn-ttl', '--max-room-size', '--ping-interval',
      '--ping-timeout', '--max-payload', '--max-room-name', '--max-nickname',
      '--max-message', '--rate-limit', '--rate-burst', '--static-dir'])
      assert.ok(r.stdout.includes(o), `--help does not mention ${o}`);
    // the docs where an installed user has them, not the source tree's
    assert.match(r.stdout, /\/share\/doc\/noom\/protocol\.md/);
    assert.doesNotMatch(r.stdout, /(^|\s)docs\/protocol\.md/);
  });

  const bad = [
    [['--port', 'abc'], /port/],
    [['--port', '70000'], /--port 70000/],
    [['--bogus'], /bogus/],
    [['--max-room-size', '0'], /--max-room-size/],
    [['--ping-interval', '-5'], /--ping-interval/],
    [['--max-payload', '10'], /--max-payload/],
    [['--ice-server', 'http://stun.example.org'], /--ice-server/],
    [['--ice-server', 'stun:'], /--ice-server/],
    [['--tls-cert', '/nonexistent.pem'], /--tls-key/],
    [['--tls-cert', '/nonexistent.pem', '--tls-key', '/nonexistent.key'], /tls-cert/],
    [['--static-dir', '/nonexistent-dir'], /--static-dir/],
    [['extra-argument'], /unexpected argument/],
  ];
  for (const [args, re] of bad) {
    test(`bad option ${args.join(' ')}: message on stderr, exit 2`, () => {
      const r = spawnSync(SERVER, ['--port', '0', '--host', '127.0.0.1', ...args],
        { encoding: 'utf8', timeout: 5000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, re);
      assert.match(r.stderr, /^noom-server: /);
      assert.equal(r.stdout, '');
    });
  }

  test('a port already in use: exit 1 with a message', async () => {
    const s = await startServer();
    try {
      const r = spawnSync(SERVER, ['--port', String(s.port), '--host', '127.0.0.1'],
        { encoding: 'utf8', timeout: 5000 });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /cannot listen/);
    } finally {
      await s.stop();
    }
  });
});

describe('HTTP routes', () => {
  test('built-in web client, bundle, health, 404 and 405', async () => {
    const s = await startServer();
    try {
      const home = await http(s, '/');
      assert.equal(home.status, 200);
      assert.equal(home.headers.get('content-type'), 'text/html; charset=utf-8');
      assert.match(home.body, /<html/i);
      const deep = await http(s, '/r/demo%20room');
      assert.equal(deep.status, 200);
      assert.equal(deep.body, home.body);
      const bundle = await http(s, '/socket.io/socket.io.js');
      assert.equal(bundle.status, 200);
      assert.equal(bundle.headers.get('content-type'), 'text/javascript; charset=utf-8');
      assert.ok(bundle.body.length > 100);
      const css = await http(s, '/static/noom.css');
      assert.equal(css.status, 200);
      assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
      const js = await http(s, '/static/app.js');
      assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
      const svg = await http(s, '/static/favicon.svg');
      assert.equal(svg.headers.get('content-type'), 'image/svg+xml');
      const health = await http(s, '/healthz');
      assert.deepEqual([health.status, health.body], [200, 'ok']);
      for (const p of ['/nope', '/static/nope.js', '/static/', '/static/.hidden',
        '/r/', '/public/js/app.js', '/index.html', '/static/sub/app.js'])
        assert.equal((await http(s, p)).status, 404, p);
      // libsoup refuses an encoded path traversal before routing.
      assert.ok([400, 404].includes((await http(s, '/static/..%2F..%2Fmain.c')).status));
      const post = await http(s, '/', { method: 'POST', body: 'x' });
      assert.equal(post.status, 405);
      const head = await http(s, '/healthz', { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.body, '');
    } finally {
      await s.stop();
    }
  });

  test('--static-dir serves the assets from disk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'noom-static-'));
    writeFileSync(join(dir, 'index.html'), '<html>from disk</html>');
    writeFileSync(join(dir, 'socket.io.js'), '// disk bundle');
    writeFileSync(join(dir, 'extra.css'), 'body{}');
    const s = await startServer(['--static-dir', dir]);
    try {
      assert.equal((await http(s, '/')).body, '<html>from disk</html>');
      assert.equal((await http(s, '/r/x')).body, '<html>from disk</html>');
      assert.equal((await http(s, '/socket.io/socket.io.js')).body, '// disk bundle');
      const css = await http(s, '/static/extra.css');
      assert.equal(css.body, 'body{}');
      assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
      assert.equal((await http(s, '/static/app.js')).status, 404);
    } finally {
      await s.stop();
      rmSync(dir, { recursive: true });
    }
  });
});

test('TLS: https and wss with --tls-cert/--tls-key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'noom-tls-'));
  try {
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
      { stdio: 'ignore' });
    } catch {
      t.skip('openssl is not available');
      return;
    }
    const s = await startServer(['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]);
    try {
      assert.match(s.url, /^https:\/\/127\.0\.0\.1:\d+$/);
      const sock = await connect(s.url, { transports: ['websocket'], rejectUnauthorized: false });
      const j = await ack(sock, 'enter_room', 'secure');
      assert.equal(j.ok, true);
      sock.close();
      const poll = await connect(s.url, { rejectUnauthorized: false });
      assert.ok(poll.connected);
      poll.close();
    } finally {
      await s.stop();
    }
  } finally {
    rmSync(dir, { recursive: true });
  }
});

test('a connect storm: the listen backlog holds it, and 400 WebSocket clients at once are all served', async () => {
  const s = await startServer();
  try {
    // GLib's default backlog of 10 drops SYNs in a storm and clients retry
    // after a second or more.  A listening socket's Send-Q in ss is its
    // backlog: check the number, not a time.
    const out = execFileSync('ss', ['-ltnH', `sport = :${s.port}`]).toString();
    const backlogs = out.trim().split('\n').map((l) => Number(l.trim().split(/\s+/)[2]));
    assert.ok(backlogs.length > 0 && backlogs.every((b) => b >= 1024),
      `listen backlog too small: ${out}`);
    const raws = Array.from({ length: 400 }, () => rawSocket(s));
    await Promise.all(raws.map((r) => r.next(/^0/, 30000)));
    for (const r of raws) r.close();
  } finally {
    await s.stop();
  }
});

test('SIGTERM: every client gets a close packet, exit status 0', async () => {
  const s = await startServer();
  const ws = await connect(s.url, { transports: ['websocket'] });
  const poll = await connect(s.url, { transports: ['polling'] });
  await ack(ws, 'enter_room', 'bye-all');
  await ack(poll, 'enter_room', 'bye-all');
  const raw = rawSocket(s);
  await raw.handshake();
  s.child.kill('SIGTERM');
  // The raw WebSocket sees the Engine.IO close packet "1", then the close.
  assert.equal(await raw.next(/^1$/), '1');
  await raw.waitClose();
  const r1 = await waitDisconnect(ws);
  const r2 = await waitDisconnect(poll);
  assert.match(r1, /transport close|io server disconnect/);
  assert.match(r2, /transport close|io server disconnect/);
  // nobody left: the server went away, and says no bye (protocol.md §8)
  assert.deepEqual([...ws.received, ...poll.received].filter(([n]) => n === 'bye'), []);
  const exit = await deadline(s.exit, 5000, 'noom-server to exit');
  assert.deepEqual(exit, { code: 0, signal: null });
  assert.match(s.stderr, /shutting down/);
});
