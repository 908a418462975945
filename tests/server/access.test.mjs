// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Access control (docs/protocol.md "Access tokens", docs/server.md
// "Access"): --token-secret (HS256 JWTs in the CONNECT auth payload),
// --allowed-origin, --max-connections-per-address, and the log lines of
// HTTP-level refusals.  Tokens are minted both by `noom-server token` and
// here with node's crypto, as any JWT library would.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SERVER, WebSocket, startServer, client, connect, take, ack, sync, closeAll,
  deadline, http, rawSocket, test, describe, jwt as signJwt,
} from './lib/server.mjs';

const SECRET = 'test-secret-0123456789abcdef0123';
const dir = mkdtempSync(join(tmpdir(), 'noom-access-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, SECRET + '\n');

const now = () => Math.floor(Date.now() / 1000);

function jwt(claims, { secret = SECRET, header } = {}) {
  return signJwt(claims, { secret, header });
}

function claims(over = {}) {
  return { room: 'club', sub: 'alice', can: ['publish', 'subscribe', 'chat'], exp: now() + 600, ...over };
}

function mint(...args) {
  return new Promise((resolve, reject) => {
    execFile(SERVER, ['token', '--secret', secretFile, ...args], (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve(stdout.trim());
    });
  });
}

// Connect and expect the CONNECT to be refused.  Returns the error.
async function refused(url, opts) {
  const s = client(url, opts);
  try {
    const err = await deadline(new Promise((resolve, reject) => {
      s.once('connect', () => reject(new Error('connected')));
      s.once('connect_error', resolve);
    }), 5000, 'connect_error');
    // Nothing at all came before or with the refusal: no room list.
    assert.deepEqual(s.received, []);
    return err;
  } finally {
    s.close();
  }
}

let server;
const issued = [];           // every token given to the server: none may be logged

before(async () => {
  server = await startServer(['--token-secret', secretFile]);
  // A room the refused clients must never hear of.
  const t = jwt(claims({ room: 'secret-room', sub: 'owner' }));
  issued.push(t);
  const owner = await connect(server.url, { auth: { token: t } });
  const r = await ack(owner, 'enter_room', 'secret-room');
  assert.equal(r.ok, true, JSON.stringify(r));
  server.owner = owner;
});

after(async () => {
  closeAll(server.owner);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('tokens', () => {
  const bad = {
    missing: () => undefined,
    'not a string': () => 42,
    expired: () => jwt(claims({ exp: now() - 3600 })),
    'forged (another secret)': () => jwt(claims(), { secret: 'another-secret-0123456789abcdef' }),
    'alg none': () => jwt(claims(), { header: { alg: 'none', typ: 'JWT' } }),
    'alg HS512': () => jwt(claims(), { header: { alg: 'HS512' } }),
    malformed: () => 'not.a.token',
  };
  for (const [name, make] of Object.entries(bad)) {
    for (const transports of [['websocket'], ['polling']]) {
      test(`${name} (${transports[0]}): CONNECT_ERROR forbidden, the room is never seen`, async () => {
        const token = make();
        if (typeof token === 'string') issued.push(token);
        const before = server.logLines(/code=forbidden: .*connection refused/).length;
        const err = await refused(server.url, { transports, auth: token === undefined ? {} : { token } });
        assert.equal(err.data?.code, 'forbidden', `${err.message} ${JSON.stringify(err.data)}`);
        assert.match(err.message, /token/);
        await server.waitLog(/code=forbidden: .*connection refused/, before + 1);
      });
    }
  }

  test('raw: a refused CONNECT gets 44 with the code, and nothing else', async () => {
    const r = rawSocket(server);
    await r.opened;
    await r.next(/^0/);
    r.send('40{"token":"x.y.z"}');
    const e = JSON.parse((await r.next(/^44/)).slice(2));
    assert.equal(e.data.code, 'forbidden');
    assert.equal(typeof e.message, 'string');
    // Events before a successful CONNECT are not served either.
    r.send('42["enter_room","secret-room"]');
    await r.waitClose();
    assert.deepEqual(r.frames.filter((f) => f.startsWith('42')), []);
  });

  test('a CONNECT flood with bad tokens is answered every time but logged at most 20 times per 10 s', async () => {
    const r = rawSocket(server);
    await r.opened;
    await r.next(/^0/);
    for (let i = 0; i < 40; i++) {
      r.send('40{"token":"x.y.z"}');
      await r.next(/^44/);
    }
    r.close();
    const lines = server.logLines(/code=forbidden: .*connection refused/);
    assert.ok(lines.length <= 20, `${lines.length} lines`);
  });

  test('a valid token from `noom-server token`: joins its room, identity is the nickname', async () => {
    const token = await mint('--room', 'club', '--identity', 'zoe', '--can', 'publish,subscribe,chat', '--ttl', '600');
    issued.push(token);
    const s = await connect(server.url, { auth: { token } });
    const r = await ack(s, 'enter_room', 'club');
    assert.equal(r.ok, true, JSON.stringify(r));
    assert.equal(r.self.nickname, 'zoe');
    // A nickname given by the client still wins.
    const r2 = await ack(s, 'nickname', 'Zoé');
    assert.equal(r2.ok, true);
    // A token for one room shows no room list, before or after joining.
    await ack(s, 'leave_room');
    await sync(s);
    assert.deepEqual(s.received.filter(([n]) => n === 'room_change'), []);
    closeAll(s);
  });

  test('another room than the token\'s: ack error forbidden, nothing changes', async () => {
    const token = jwt(claims({ room: 'club', sub: 'bob' }));
    issued.push(token);
    const s = await connect(server.url, { auth: { token } });
    const r = await ack(s, 'enter_room', 'secret-room');
    assert.equal(r.error?.code, 'forbidden', JSON.stringify(r));
    assert.match(r.error.message, /does not admit you to room "secret-room"/);
    s.emit('join_room', 'secret-room');
    const [e] = await take(s, 'noom_error');
    assert.equal(e.code, 'forbidden');
    // The owner of secret-room saw nothing.
    await sync(server.owner);
    assert.deepEqual(server.owner.inbox, []);
    assert.equal((await ack(s, 'enter_room', 'club')).ok, true);
    closeAll(s);
  });

  test('"*" admits to any room; the room list stays private (no --public-rooms)', async () => {
    const token = jwt(claims({ room: '*', sub: 'admin' }));
    issued.push(token);
    const s = await connect(server.url, { auth: { token } });
    await sync(s);
    assert.deepEqual(s.received.filter(([n]) => n === 'room_change'), []);
    assert.equal((await ack(s, 'enter_room', 'anywhere')).ok, true);
    closeAll(s);
  });

  test('chat needs chat; publishing needs publish; receiving needs subscribe; recording needs record', async () => {
    const mk = async (can) => {
      const token = jwt(claims({ room: 'perms', sub: 'p', can }));
      issued.push(token);
      return connect(server.url, { auth: { token } });
    };
    const mute = await mk(['publish', 'subscribe']);
    assert.equal((await ack(mute, 'enter_room', 'perms')).ok, true);
    const talker = await mk(['subscribe', 'chat']);
    // A browser sends media by default: needs publish.
    let r = await ack(talker, 'enter_room', 'perms');
    assert.equal(r.error?.code, 'forbidden', JSON.stringify(r));
    assert.match(r.error.message, /publish/);
    r = await ack(talker, 'enter_room', 'perms', { kind: 'subscriber' });
    assert.equal(r.ok, true, JSON.stringify(r));
    await take(mute, 'welcome');

    r = await ack(mute, 'new_message', 'hello', 'perms');
    assert.equal(r.error?.code, 'forbidden');
    assert.match(r.error.message, /chat/);
    mute.emit('new_message', 'hello', 'perms');
    assert.equal((await take(mute, 'noom_error'))[0].code, 'forbidden');
    r = await ack(talker, 'new_message', 'hi', 'perms');
    assert.equal(r.ok, true);
    await take(mute, 'new_message');
    await sync(talker);
    assert.deepEqual(talker.inbox.filter(([n]) => n === 'new_message'), [], 'a refused chat was delivered');

    const pub = await mk(['subscribe', 'chat']);
    r = await ack(pub, 'enter_room', 'perms', { kind: 'publisher' });
    assert.equal(r.error?.code, 'forbidden');
    r = await ack(pub, 'enter_room', 'perms', { kind: 'recorder' });
    assert.equal(r.error?.code, 'forbidden');
    assert.match(r.error.message, /record/);
    const viewer = await mk(['publish']);
    r = await ack(viewer, 'enter_room', 'perms', { sends: [] });
    assert.equal(r.error?.code, 'forbidden');
    assert.match(r.error.message, /subscribe/);
    const recorder = await mk(['record']);
    r = await ack(recorder, 'enter_room', 'perms', { kind: 'recorder' });
    assert.equal(r.ok, true, JSON.stringify(r));
    closeAll(mute, talker, pub, viewer, recorder);
  });

  test('no token, nor its signature, reached the log', async () => {
    await sync(server.owner);
    assert.ok(issued.length > 10);
    for (const t of issued) {
      const sig = t.split('.')[2];
      assert.ok(!server.stderr.includes(t), `token ${t} logged`);
      assert.ok(sig.length < 20 || !server.stderr.includes(sig), `signature of ${t} logged`);
    }
  });

  test('`noom-server token` refuses bad input', async () => {
    await assert.rejects(mint('--room', 'r', '--identity', 'i', '--can', 'admin'),
      (e) => e.code === 2 && /unknown permission "admin"/.test(e.stderr));
    await assert.rejects(mint('--room', 'r'), (e) => e.code === 2 && /required/.test(e.stderr));
  });
});

describe('without --token-secret', () => {
  test('rooms are open, a token is ignored', async () => {
    const open = await startServer([]);
    try {
      const s = await connect(open.url);
      assert.equal((await ack(s, 'enter_room', 'anything')).ok, true);
      const t = await connect(open.url, { auth: { token: 'junk' } });
      assert.equal((await ack(t, 'new_message', 'x', 'anything')).error?.code, 'not_in_room');
      closeAll(s, t);
    } finally {
      await open.stop();
    }
  });
});

// A WebSocket handshake with @headers: resolves with the HTTP status of a
// refusal, or 101 when it opened.
function wsStatus(srv, headers = {}) {
  return deadline(new Promise((resolve, reject) => {
    const ws = new WebSocket(srv.wsUrl, { headers });
    ws.on('unexpected-response', (req, res) => { resolve(res.statusCode); req.destroy(); });
    ws.on('open', () => { resolve(101); ws.terminate(); });
    ws.on('error', (e) => { if (!/Unexpected server response/.test(e.message)) reject(e); });
  }), 3000, 'WebSocket handshake');
}

describe('--allowed-origin', () => {
  let srv;
  before(async () => {
    srv = await startServer(['--allowed-origin', 'http://good.example',
      '--allowed-origin', 'https://also.example:8443']);
  });
  after(async () => { await srv.stop(); });

  test('WebSocket: allowed origins and no origin pass, others get 403 and a log line', async () => {
    assert.equal(await wsStatus(srv, { Origin: 'http://good.example' }), 101);
    assert.equal(await wsStatus(srv, { Origin: 'https://also.example:8443' }), 101);
    assert.equal(await wsStatus(srv), 101);
    assert.equal(await wsStatus(srv, { Origin: 'http://evil.example' }), 403);
    assert.equal(await wsStatus(srv, { Origin: 'http://good.example.evil' }), 403);
    await srv.waitLog(/refused GET websocket from 127\.0\.0\.1: 403 origin not allowed/);
  });

  test('polling handshake: 403 {"code":4} for another origin', async () => {
    let res = await http(srv, '/socket.io/?EIO=4&transport=polling', { headers: { Origin: 'http://evil.example' } });
    assert.equal(res.status, 403);
    assert.deepEqual(JSON.parse(res.body), { code: 4, message: 'Forbidden' });
    res = await http(srv, '/socket.io/?EIO=4&transport=polling', { headers: { Origin: 'http://good.example' } });
    assert.equal(res.status, 200);
    await srv.waitLog(/refused GET polling from 127\.0\.0\.1: 403 origin not allowed/);
  });

  test('socket.io-client from an allowed origin connects; from another it does not', async () => {
    const good = await connect(srv.url, { extraHeaders: { Origin: 'http://good.example' } });
    closeAll(good);
    const s = client(srv.url, { extraHeaders: { Origin: 'http://evil.example' } });
    const err = await deadline(new Promise((resolve) => s.once('connect_error', resolve)), 5000, 'connect_error');
    assert.ok(err);
    s.close();
  });

  test('a bad --allowed-origin is a usage error', async () => {
    await assert.rejects(startServer(['--allowed-origin', 'http://x.example/']), /exited.*"code":2/s);
    await assert.rejects(startServer(['--allowed-origin', 'x.example']), /exited.*"code":2/s);
  });
});

describe('--max-connections-per-address', () => {
  test('the connection over the limit is refused with 403 and a log line; a freed slot is reused', async () => {
    const srv = await startServer(['--max-connections-per-address', '3', '--limit-loopback']);
    try {
      const socks = [];
      for (let i = 0; i < 3; i++) socks.push(await connect(srv.url, { transports: ['websocket'] }));
      assert.equal(await wsStatus(srv), 403);
      const res = await http(srv, '/socket.io/?EIO=4&transport=polling');
      assert.equal(res.status, 403);
      await srv.waitLog(/refused GET websocket from 127\.0\.0\.1: 403 too many connections from this address/);
      // Upgrades of existing sessions are not new connections.
      socks[0].close();
      // The slot is free once the server has seen the close: retry,
      // within a deadline.
      const t0 = Date.now();
      let status;
      while ((status = await wsStatus(srv)) !== 101 && Date.now() - t0 < 3000)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(status, 101);
      closeAll(...socks);
    } finally {
      await srv.stop();
    }
  });

  test('loopback is exempt by default', async () => {
    const srv = await startServer(['--max-connections-per-address', '2']);
    try {
      const socks = [];
      for (let i = 0; i < 4; i++) socks.push(await connect(srv.url, { transports: ['websocket'] }));
      closeAll(...socks);
    } finally {
      await srv.stop();
    }
  });
});

describe('HTTP refusals are logged', () => {
  test('unknown sid, bad transport, bad version, 413: one line each, repeats folded', async () => {
    const srv = await startServer(['--max-payload', '2000']);
    try {
      for (let i = 0; i < 5; i++) {
        const res = await http(srv, '/socket.io/?EIO=4&transport=polling&sid=nosuchsid');
        assert.equal(res.status, 400);
      }
      assert.equal((await http(srv, '/socket.io/?EIO=4&transport=carrier-pigeon')).status, 400);
      assert.equal((await http(srv, '/socket.io/?EIO=3&transport=polling')).status, 400);
      const open = await http(srv, '/socket.io/?EIO=4&transport=polling');
      const sid = JSON.parse(open.body.slice(1)).sid;
      const big = await http(srv, `/socket.io/?EIO=4&transport=polling&sid=${sid}`,
        { method: 'POST', body: '4' + 'x'.repeat(3000) });
      assert.equal(big.status, 413);
      await srv.waitLog(/noom-engine-Message.*refused POST polling from 127\.0\.0\.1: 413 body over maxPayload/);
      await srv.waitLog(/refused GET unknown transport from 127\.0\.0\.1: 400 unknown transport/);
      await srv.waitLog(/refused GET polling from 127\.0\.0\.1: 400 unsupported protocol version/);
      // Five identical refusals within seconds: one line.
      assert.equal(srv.logLines(/400 unknown session id/).length, 1);
      // Nothing the client chose reaches the line.
      assert.ok(!srv.stderr.includes('nosuchsid') && !srv.stderr.includes('carrier-pigeon'));
    } finally {
      await srv.stop();
    }
  });
});
