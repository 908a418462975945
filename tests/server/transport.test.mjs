// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Engine.IO / Socket.IO level bad input through raw WebSocket frames and
// raw HTTP requests (docs/protocol.md §1), and disconnect detection by ping
// timeout.  Each bad connection is closed; a bystander pair never notices.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import nodeHttp from 'node:http';
import {
  startServer, connect, take, ack, sync, closeAll, rawSocket, http,
  deadline,
  test, describe,
} from './lib/server.mjs';

const MAX_PAYLOAD = 2000;
let server;
let bystanders;

before(async () => {
  server = await startServer(['--max-payload', String(MAX_PAYLOAD)]);
  const x = await connect(server.url);
  const y = await connect(server.url, { transports: ['websocket'] });
  await ack(x, 'enter_room', 'calm');
  await ack(y, 'enter_room', 'calm');
  await take(x, 'welcome');
  bystanders = [x, y];
  for (const s of bystanders) s.inbox.length = 0;
});

after(async () => {
  const [x, y] = bystanders;
  await ack(y, 'new_message', 'all good', 'calm');
  assert.equal((await take(x, 'new_message'))[0], 'Anon: all good');
  for (const s of bystanders) {
    await sync(s);
    assert.deepEqual(s.inbox, [], 'a bystander saw something');
  }
  closeAll(x, y);
  await server.stop();
});

describe('raw WebSocket', () => {
  test('open packet, CONNECT answered with the participant id, room_change', async () => {
    const r = rawSocket(server);
    const { open, connect: c } = await r.handshake();
    assert.deepEqual(Object.keys(open).sort(), ['maxPayload', 'pingInterval', 'pingTimeout', 'sid', 'upgrades']);
    assert.deepEqual(open.upgrades, []);
    assert.equal(open.pingInterval, 25000);
    assert.equal(open.pingTimeout, 20000);
    assert.equal(open.maxPayload, MAX_PAYLOAD);
    assert.match(c.sid, /^[A-Za-z0-9_-]{20}$/);
    assert.notEqual(c.sid, open.sid);
    const rc = await r.next(/^42\["room_change"/);
    assert.deepEqual(JSON.parse(rc.slice(2)), ['room_change', ['calm'], [{ name: 'calm', count: 2 }]]);
    // The wire example of protocol.md §9: an error ack.
    r.send('422["enter_room","demo\\u0001"]');
    assert.equal(await r.next(/^432/),
      '432[{"error":{"code":"bad_name","message":"room name contains control characters"}}]');
    r.send('42["offer",{"type":"offer","sdp":"x"},"elsewhere"]');
    assert.equal(await r.next(/^42\["noom_error"/),
      '42["noom_error",{"code":"not_in_room","message":"you are not in room \\"elsewhere\\"","event":"offer"}]');
    r.close();
  });

  test('an unknown namespace gets CONNECT_ERROR, the connection stays', async () => {
    const r = rawSocket(server);
    await r.handshake();
    r.send('40/admin,');
    assert.equal(await r.next(/^44\/admin/), '44/admin,{"message":"Invalid namespace"}');
    r.send('420["nickname","still-here"]');
    assert.equal(await r.next(/^430/), '430[{"ok":true,"nickname":"still-here"}]');
    r.close();
  });

  const malformed = {
    'Socket.IO packet of unknown shape (4abc)': '44abc',
    'EVENT with an object (42{})': '442{}',
    'bad ack id (42abc[...])': '442abc["x"]',
    'reserved event name': '442["connect"]',
    'invalid JSON': '442["enter_room",',
    'too many attachments': '4511-["x",{"_placeholder":true,"num":0}]',
    'unknown Engine.IO packet type': '9hello',
    'client ping (invalid heartbeat direction)': '2',
    // json-glib would cut the name at the NUL and join room "ab".
    'an escaped U+0000 in a room name': '442["enter_room","ab\\u0000cd"]',
    'an escaped U+0000 in a chat message': '442["new_message","hi\\u0000","calm"]',
  };
  for (const [name, frame] of Object.entries(malformed)) {
    test(`malformed: ${name} closes the connection, logged once`, async () => {
      const r = rawSocket(server);
      await r.handshake();
      const id = r.id;
      r.send(frame);
      await r.waitClose();
      await server.waitLog(new RegExp(`id=${id} code=parse_error`));
      assert.equal(server.logLines(new RegExp(`id=${id} code=parse_error`)).length, 1);
    });
  }

  test('an escaped backslash before u0000 is plain text, and "ab" was never joined', async () => {
    const r = rawSocket(server);
    await r.handshake();
    r.send('421["enter_room","ab\\\\u0000cd"]');
    const res = JSON.parse((await r.next(/^431/)).slice(3));
    assert.equal(res[0].room, 'ab\\u0000cd');
    // The rooms that exist: no "ab" from the refused packets above.
    r.send('422["leave_room"]');
    await r.next(/^432/);
    const rc = JSON.parse((await r.next(/^42\["room_change"/)).slice(2));
    assert.ok(!rc[1].includes('ab'), `room "ab" exists: ${rc[1]}`);
    r.close();
  });

  test('a binary event closes with "binary not supported"', async () => {
    const r = rawSocket(server);
    await r.handshake();
    r.send('451-["upload",{"_placeholder":true,"num":0}]');
    r.ws.send(Buffer.from([1, 2, 3]));
    assert.match(await r.next(/^41/), /^41$/);
    await r.waitClose();
    await server.waitLog(new RegExp(`${r.id}.*binary not supported`));
  });

  test('a frame over maxPayload closes with 1009', async () => {
    const r = rawSocket(server);
    await r.handshake();
    r.send('442["new_message","' + 'x'.repeat(MAX_PAYLOAD + 100) + '","calm"]');
    const { code } = await r.waitClose();
    assert.equal(code, 1009);
  });

  test('no Socket.IO CONNECT: the room layer sees nothing', async () => {
    const r = rawSocket(server);
    await r.opened;
    await r.next(/^0/);
    r.send('42["enter_room","calm"]');      // EVENT before CONNECT
    await r.waitClose();
  });
});

describe('raw HTTP long-polling', () => {
  async function openPolling() {
    const res = await http(server, '/socket.io/?EIO=4&transport=polling');
    assert.equal(res.status, 200);
    assert.match(res.body, /^0\{/);
    const open = JSON.parse(res.body.slice(1));
    assert.deepEqual(open.upgrades, ['websocket']);
    return open.sid;
  }

  test('transport errors: unknown transport, sid, method, version', async () => {
    let r = await http(server, '/socket.io/?EIO=4&transport=carrier-pigeon');
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { code: 0, message: 'Transport unknown' });
    r = await http(server, '/socket.io/?EIO=4&transport=polling&sid=nope');
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { code: 1, message: 'Session ID unknown' });
    r = await http(server, '/socket.io/?EIO=4&transport=polling', { method: 'POST', body: '40' });
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { code: 2, message: 'Bad handshake method' });
    r = await http(server, '/socket.io/?EIO=3&transport=polling');
    assert.equal(r.status, 400);
    assert.deepEqual(JSON.parse(r.body), { code: 5, message: 'Unsupported protocol version' });
  });

  test('a POST over maxPayload gets 413', async () => {
    const sid = await openPolling();
    const r = await http(server, `/socket.io/?EIO=4&transport=polling&sid=${sid}`,
      { method: 'POST', body: '4' + 'x'.repeat(MAX_PAYLOAD + 10) });
    assert.equal(r.status, 413);
  });

  test('a malformed POST body gets 400 and closes the session', async () => {
    const sid = await openPolling();
    const r = await http(server, `/socket.io/?EIO=4&transport=polling&sid=${sid}`,
      { method: 'POST', body: '9nonsense' });
    assert.equal(r.status, 400);
    const after = await http(server, `/socket.io/?EIO=4&transport=polling&sid=${sid}`);
    assert.equal(after.status, 400);
    assert.equal(JSON.parse(after.body).code, 1);
  });

  test('a second concurrent GET gets 400 code 3 and closes the session', async () => {
    const sid = await openPolling();
    const url = `/socket.io/?EIO=4&transport=polling&sid=${sid}`;
    // Connect first so the session is a real client, then park a GET.
    assert.equal((await http(server, url, { method: 'POST', body: '40' })).status, 200);
    // Drain: the CONNECT answer, then room_change (maybe in two polls).
    let drained = '';
    for (let i = 0; i < 3 && !drained.includes('room_change'); i++)
      drained += (await http(server, url)).body;
    assert.match(drained, /^40\{"sid".*room_change/s);
    // Park a GET, and make sure the server has read it before the second
    // one: the request is written, then a round trip on another connection.
    const parked = await new Promise((resolve) => {
      const req = nodeHttp.request({ host: '127.0.0.1', port: server.port, path: url });
      const response = new Promise((res, rej) => {
        req.on('response', (r) => {
          let body = '';
          r.setEncoding('utf8');
          r.on('data', (d) => { body += d; });
          r.on('end', () => res({ status: r.statusCode, body }));
        });
        req.on('error', rej);
      });
      req.on('finish', () => resolve({ response }));
      req.end();
    });
    assert.equal((await http(server, '/healthz')).status, 200);
    const second = await http(server, url);
    assert.equal(second.status, 400);
    assert.deepEqual(JSON.parse(second.body), { code: 3, message: 'Bad request' });
    // The parked GET ends (with the close packet or an error status).
    const p = await deadline(parked.response, 3000, 'the parked GET');
    assert.ok(p.status !== 200 || /(^|\x1e)1($|\x1e)/.test(p.body) || p.body === '6', JSON.stringify(p));
    const gone = await http(server, url);
    assert.equal(gone.status, 400);
    assert.equal(JSON.parse(gone.body).code, 1);
  });
});

test('ping timeout: a silent client is dropped and its room gets bye', async () => {
  const fast = await startServer(['--ping-interval', '150', '--ping-timeout', '150']);
  try {
    const a = await connect(fast.url);               // socket.io-client answers pings
    const w = await connect(fast.url, { transports: ['websocket'] });
    await ack(a, 'enter_room', 'ping');
    await ack(w, 'enter_room', 'ping');
    await take(a, 'welcome');
    const silent = rawSocket(fast);
    const { open } = await silent.handshake({ pong: false });
    assert.equal(open.pingInterval, 150);
    assert.equal(open.pingTimeout, 150);
    silent.send('420["enter_room","ping"]');
    await silent.next(/^430/);
    await take(a, 'welcome');
    await take(w, 'welcome');
    const t0 = Date.now();
    const [, count, p] = await take(a, 'bye', { ms: 3000 });
    assert.equal(p.id, silent.id);
    assert.equal(count, 2);
    assert.ok(Date.now() - t0 < 2000);
    await take(w, 'bye');
    await fast.waitLog(new RegExp(`leave room="ping" id=${silent.id} .*reason="ping timeout"`));
    // The clients that answer pings are still there, several intervals on.
    const m = await ack(w, 'new_message', 'alive', 'ping');
    assert.equal(m.ok, true);
    assert.equal((await take(a, 'new_message'))[0], 'Anon: alive');
    assert.ok(a.connected && w.connected);
    closeAll(a, w);
    silent.close();
  } finally {
    await fast.stop();
  }
});
