// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// What an outsider tried against noom-server, each a regression test:
// deeply nested JSON in every place a packet's JSON comes from, a flooder
// that keeps sending while limited, a rate limit refilled by DISCONNECT +
// CONNECT or by a new connection, and a NUL in a token's identity.  Every
// case closes (or refuses) only the connection at fault: a bystander pair
// keeps chatting, and the server keeps running.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startServer, client, connect, take, ack, closeAll, deadline, http,
  rawSocket, waitDisconnect, jwt, test, describe,
} from './lib/server.mjs';

const SECRET = 'attack-secret-0123456789abcdef012';
const dir = mkdtempSync(join(tmpdir(), 'noom-attack-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, SECRET + '\n');
const now = () => Math.floor(Date.now() / 1000);

// Bystanders in their own room on each server: they must notice nothing.
async function bystanders(server, auth) {
  const opts = (transports) => (auth ? { transports, auth: { token: auth() } } : { transports });
  const x = await connect(server.url, opts(['polling', 'websocket']));
  const y = await connect(server.url, opts(['websocket']));
  await ack(x, 'enter_room', 'calm');
  await ack(y, 'enter_room', 'calm');
  await take(x, 'welcome');
  return [x, y];
}

async function stillChatting([x, y], server, text) {
  assert.equal(server.exited, null, `noom-server died: ${server.stderr.slice(-2000)}`);
  const r = await ack(x, 'new_message', text, 'calm');
  assert.equal(r.ok, true, JSON.stringify(r));
  const [t] = await take(y, 'new_message');
  assert.match(t, new RegExp(`${text}$`));
}

// 100,000 levels of nesting, about 200 KB (600 KB for objects): under the
// default maxPayload of 1 MB, and far past what json-glib's recursive
// parser survives.
const DEPTH = 100000;
const SHAPES = {
  arrays: () => '['.repeat(DEPTH) + ']'.repeat(DEPTH),
  objects: () => '{"k":'.repeat(DEPTH) + '1' + '}'.repeat(DEPTH),
  mixed: () => '[{"k":'.repeat(DEPTH / 2) + '1' + '}]'.repeat(DEPTH / 2),
};

// One plain server and one with --token-secret, each with its bystanders.
let server;
let calm;
let tserver;
let tcalm;
const token = () => jwt({ room: 'calm', sub: `b${Math.random().toString(36).slice(2, 8)}`, can: ['publish', 'subscribe', 'chat'], exp: now() + 600 }, { secret: SECRET });

before(async () => {
  server = await startServer();
  calm = await bystanders(server);
  tserver = await startServer(['--token-secret', secretFile]);
  tcalm = await bystanders(tserver, token);
});

after(async () => {
  closeAll(...calm, ...tcalm);
  await server.stop();
  await tserver.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('deeply nested JSON', () => {

  for (const [shape, make] of Object.entries(SHAPES)) {
    test(`${shape}: as an event argument over WebSocket, the connection is closed with a logged reason`, async () => {
      const r = rawSocket(server);
      await r.handshake();
      const before = server.logLines(/nested deeper than/).length;
      r.send(`42["new_message",${make()},"calm"]`);
      await r.waitClose();
      await server.waitLog(/parse error from .*nested deeper than 64 levels, connection closed/, before + 1);
      await stillChatting(calm, server, `ws-${shape}`);
    });

    test(`${shape}: in a polling POST body, the session is closed`, async () => {
      const open = await http(server, '/socket.io/?EIO=4&transport=polling');
      const sid = JSON.parse(open.body.slice(1)).sid;
      const url = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
      assert.equal((await http(server, url, { method: 'POST', body: '40' })).status, 200);
      const before = server.logLines(/nested deeper than/).length;
      // The Engine.IO payload is sound (200); the Socket.IO packet in it is
      // not, and that closes the session.
      const r = await http(server, url, { method: 'POST', body: `42["new_message",${make()},"calm"]` });
      assert.ok(r.status === 200 || r.status === 400, `${r.status}`);
      await server.waitLog(/nested deeper than 64 levels/, before + 1);
      // The poller gets the close packet, then the session is unknown.
      let after = await http(server, url);
      if (after.status === 200) {
        assert.match(after.body, /(^|\x1e)1$/, 'an Engine.IO close packet');
        after = await http(server, url);
      }
      assert.equal(after.status, 400, 'the session is gone');
      await stillChatting(calm, server, `poll-${shape}`);
    });

    test(`${shape}: as the CONNECT auth payload, the connection is closed`, async () => {
      const r = rawSocket(server);
      await r.opened;
      await r.next(/^0/);
      const before = server.logLines(/nested deeper than/).length;
      r.send(`40{"token":${make()}}`);
      await r.waitClose();
      await server.waitLog(/nested deeper than 64 levels/, before + 1);
      assert.deepEqual(r.frames.filter((f) => f.startsWith('40')), []);
      await stillChatting(calm, server, `connect-${shape}`);
    });
  }

  test('at the bound (64 levels with the event array) it is an ordinary event', async () => {
    const s = await connect(server.url, { transports: ['websocket'] });
    let deep = 'x';
    for (let i = 0; i < 63; i++) deep = [deep];
    // A chat message must be a string: an ordinary argument error, not a
    // parse error, and the connection stays.
    const r = await ack(s, 'new_message', deep, 'calm');
    assert.equal(r.error?.code, 'bad_argument', JSON.stringify(r));
    assert.equal(s.connected, true);
    s.close();
  });
});

describe('deeply nested JSON with --token-secret', () => {

  for (const [shape, make] of Object.entries(SHAPES)) {
    test(`${shape}: as the CONNECT auth payload, before any authentication`, async () => {
      const r = rawSocket(tserver);
      await r.opened;
      await r.next(/^0/);
      const before = tserver.logLines(/nested deeper than/).length;
      r.send(`40{"token":${make()}}`);
      await r.waitClose();
      await tserver.waitLog(/nested deeper than 64 levels/, before + 1);
      await stillChatting(tcalm, tserver, `token-${shape}`);
    });
  }

  test('a token whose header is nested deep is malformed', async () => {
    const header = { alg: 'HS256', x: JSON.parse('['.repeat(100) + ']'.repeat(100)) };
    const s = client(tserver.url, { auth: { token: jwt({ room: 'calm', sub: 'deep', exp: now() + 600 }, { secret: SECRET, header }) } });
    const err = await deadline(new Promise((resolve, reject) => {
      s.once('connect', () => reject(new Error('connected')));
      s.once('connect_error', resolve);
    }), 5000, 'connect_error');
    s.close();
    assert.equal(err.data?.code, 'forbidden');
    assert.match(err.message, /malformed/);
  });

  test('a NUL in the token\'s sub is refused, not cut to a shorter nickname', async () => {
    for (const sub of ['a\u0000b', '\u0000', 'alice\u0000admin']) {
      const s = client(tserver.url, { auth: { token: jwt({ room: 'calm', sub, can: ['chat'], exp: now() + 600 }, { secret: SECRET }) } });
      const err = await deadline(new Promise((resolve, reject) => {
        s.once('connect', () => reject(new Error(`connected as ${JSON.stringify(sub)}`)));
        s.once('connect_error', resolve);
      }), 5000, 'connect_error');
      s.close();
      assert.equal(err.data?.code, 'forbidden');
      assert.match(err.message, /U\+0000/);
    }
    await stillChatting(tcalm, tserver, 'after-nul');
  });
});

describe('rate limit', () => {
  test('a flooder that keeps sending while limited is closed, though some of its events get through', async () => {
    const server = await startServer(['--rate-limit', '5', '--rate-burst', '10']);
    const calm = await bystanders(server);
    const s = await connect(server.url, { transports: ['websocket'] });
    const id = s.id;
    await ack(s, 'enter_room', 'flood');
    // 100 events a second: 5 a second still get through (the refill), so
    // a counter reset by every accepted event never reached the limit.
    let sent = 0;
    const timer = setInterval(() => {
      for (let i = 0; i < 10 && s.connected; i++, sent++) s.emit('new_message', `m${sent}`, 'flood');
    }, 100);
    try {
      const reason = await waitDisconnect(s, 15000);
      assert.match(reason, /transport close|io server disconnect/);
    } finally {
      clearInterval(timer);
    }
    await server.waitLog(new RegExp(`${id}.*rate limit`));
    await stillChatting(calm, server, 'after-flood');
    closeAll(...calm);
    await server.stop();
  });

  test('a client that slows down after a burst is not closed', async () => {
    const server = await startServer(['--rate-limit', '5', '--rate-burst', '10']);
    const s = await connect(server.url, { transports: ['websocket'] });
    await ack(s, 'enter_room', 'burst');
    for (let round = 0; round < 3; round++) {
      const results = await Promise.all(Array.from({ length: 15 },
        (_, i) => ack(s, 'new_message', `r${round}-${i}`, 'burst')));
      assert.ok(results.some((r) => r.error?.code === 'rate_limited'));
      // Quiet long enough for the episode to end and the bucket to refill.
      await new Promise((resolve) => setTimeout(resolve, 2500));
    }
    assert.equal(s.connected, true);
    s.close();
    await server.stop();
  });

  // Events sent on one raw WebSocket, with DISCONNECT (41) and CONNECT (40)
  // between rounds: how many got "ok"?
  async function reconnectRounds(server, rounds, perRound) {
    const r = rawSocket(server);
    await r.opened;
    await r.next(/^0/);
    let ok = 0;
    let id = 1;
    const start = Date.now();
    r.send('40');
    if ((await r.next(/^4[04]/)).startsWith('44'))
      rounds = 0;               // limited from the start
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < perRound; i++) r.send(`42${id++}["nickname","n${round}x${i}"]`);
      for (let i = id - perRound; i < id; i++) {
        const f = await r.next(new RegExp(`^43${i}\\[`));
        if (/"ok":true/.test(f)) ok++;
      }
      r.send('41');
      r.send('40');
      const answer = await r.next(/^4[04]/);
      if (answer.startsWith('44')) {
        assert.match(answer, /rate_limited/);
        break;
      }
    }
    r.close();
    return { ok, seconds: (Date.now() - start) / 1000 };
  }

  test('DISCONNECT and CONNECT again on one WebSocket do not refill the bucket', async () => {
    const server = await startServer(['--rate-limit', '5', '--rate-burst', '20']);
    const { ok, seconds } = await reconnectRounds(server, 10, 20);
    // Before: a fresh bucket per CONNECT, 200 of 200.  The limit allows
    // the burst plus the refill, and every CONNECT costs a token.
    assert.ok(ok <= 20 + 5 * seconds + 1, `${ok} events accepted in ${seconds} s`);
    await server.stop();
  });

  test('a new connection from the same address does not start with a full bucket', async () => {
    // Loopback is exempt unless --limit-loopback, as for the connection
    // limit: behind a reverse proxy every client has its address.
    const server = await startServer(['--rate-limit', '5', '--rate-burst', '20', '--limit-loopback']);
    const first = await reconnectRounds(server, 1, 30);
    const start = Date.now();
    const second = await reconnectRounds(server, 1, 20);
    const seconds = first.seconds + (Date.now() - start) / 1000;
    // Before: the second connection got all 20.
    assert.ok(first.ok + second.ok <= 20 + 5 * seconds + 2,
      `${first.ok} + ${second.ok} events accepted in ${seconds} s`);
    await server.stop();
  });

  test('without --limit-loopback, or when the last connection was not limited, a new one starts full', async () => {
    const server = await startServer(['--rate-limit', '5', '--rate-burst', '20']);
    const first = await reconnectRounds(server, 1, 30);
    assert.ok(first.ok <= 21, `${first.ok}`);
    // A full bucket of 20, less the CONNECT.
    const second = await reconnectRounds(server, 1, 19);
    assert.equal(second.ok, 19, 'loopback is exempt');
    await server.stop();
    const limited = await startServer(['--rate-limit', '5', '--rate-burst', '20', '--limit-loopback']);
    const calm = await reconnectRounds(limited, 1, 10);
    assert.equal(calm.ok, 10);
    const next = await reconnectRounds(limited, 1, 18);
    assert.equal(next.ok, 18, 'an ordinary user hands nothing on');
    await limited.stop();
  });
});

