// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Bad input at the room layer (docs/protocol.md §4): each case gets the
// error the protocol defines (ack error object, or noom_error without ack),
// is logged once, and leaves a bystander pair in its own room untouched.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, take, ack, sync, pending, closeAll, TRANSPORTS,
  waitDisconnect,
  test, describe,
} from './lib/server.mjs';

let server;
let bystanders;
const BYSTANDER_ROOM = 'bystanders';

before(async () => {
  server = await startServer(['--max-room-name', '10', '--max-nickname', '5',
    '--max-message', '20']);
  const x = await connect(server.url);
  const y = await connect(server.url, { transports: ['websocket'] });
  await ack(x, 'enter_room', BYSTANDER_ROOM);
  await ack(y, 'enter_room', BYSTANDER_ROOM);
  await take(x, 'welcome');
  bystanders = [x, y];
});

after(async () => {
  // Nothing reached the bystanders but their own chat; they still work.
  const [x, y] = bystanders;
  await ack(x, 'new_message', 'still fine', BYSTANDER_ROOM);
  const [t] = await take(y, 'new_message');
  assert.equal(t, 'Anon: still fine');
  for (const s of bystanders) {
    await sync(s);
    assert.deepEqual(s.inbox.filter(([n]) => n !== 'room_change'), [], `unexpected events on a bystander`);
  }
  closeAll(x, y);
  await server.stop();
});

// One bad request with and without ack.  Returns the error objects.
async function expectError(s, code, event, ...args) {
  const before = server.logLines(new RegExp(`code=${code}\\b`)).length;
  const r = await ack(s, event, ...args);
  assert.ok(r && r.error, `expected an error for ${event} ${JSON.stringify(args)}, got ${JSON.stringify(r)}`);
  assert.equal(r.error.code, code, `${event} ${JSON.stringify(args)}: ${r.error.message}`);
  assert.equal(typeof r.error.message, 'string');
  assert.deepEqual(Object.keys(r), ['error']);
  s.emit(event, ...args);
  const [e] = await take(s, 'noom_error');
  assert.equal(e.code, code);
  // Event names are echoed clipped to 64 characters.
  assert.equal(e.event, event.length <= 64 ? event : event.slice(0, 64) + '…');
  assert.equal(typeof e.message, 'string');
  // Logged once per bad request: two requests, two lines.
  await server.waitLog(new RegExp(`code=${code}\\b`), before + 2);
  return [r.error, e];
}

for (const [tname, opts] of Object.entries(TRANSPORTS)) {
  describe(`bad input (${tname})`, () => {
    test('wrong argument types and counts: bad_argument', async () => {
      const s = await connect(server.url, opts);
      await expectError(s, 'bad_argument', 'enter_room');
      await expectError(s, 'bad_argument', 'enter_room', 5);
      await expectError(s, 'bad_argument', 'enter_room', ['a']);
      await expectError(s, 'bad_argument', 'enter_room', null);
      await expectError(s, 'bad_argument', 'nickname', { n: 1 });
      await expectError(s, 'bad_argument', 'nickname');
      await ack(s, 'enter_room', `t-${tname}`.slice(0, 10));
      const room = `t-${tname}`.slice(0, 10);
      await expectError(s, 'bad_argument', 'new_message', 5, room);
      await expectError(s, 'bad_argument', 'new_message', 'hi');
      await expectError(s, 'bad_argument', 'new_message', '', room);
      await expectError(s, 'bad_argument', 'offer', 'sdp', room);
      await expectError(s, 'bad_argument', 'offer', { type: 'offer' }, room);
      await expectError(s, 'bad_argument', 'offer', { type: 1, sdp: 'x' }, room);
      await expectError(s, 'bad_argument', 'answer', null, room);
      await expectError(s, 'bad_argument', 'ice', 'candidate', room);
      await expectError(s, 'bad_argument', 'ice', {}, 42);
      await expectError(s, 'bad_argument', 'offer', { type: 'offer', sdp: '' }, room, 17);
      s.close();
    });

    test('names: empty, blank, control characters, over the limits', async () => {
      const s = await connect(server.url, opts);
      await expectError(s, 'bad_name', 'enter_room', '');
      await expectError(s, 'bad_name', 'enter_room', '   ');
      await expectError(s, 'bad_name', 'enter_room', 'demo\u0001');
      await expectError(s, 'bad_name', 'join_room', 'a\nb');
      await expectError(s, 'bad_name', 'enter_room', 'x\u0085');
      await expectError(s, 'bad_name', 'nickname', '');
      await expectError(s, 'bad_name', 'nickname', 'bo\tb');
      await expectError(s, 'bad_name', 'enter_room', 'ok', { nickname: ' ' });
      await expectError(s, 'name_too_long', 'enter_room', 'abcdefghijk');
      await expectError(s, 'name_too_long', 'nickname', 'abcdef');
      await expectError(s, 'name_too_long', 'enter_room', 'ok', { nickname: 'abcdef' });
      // Limits count characters: 10 Hangul syllables are a valid room name.
      const r = await ack(s, 'enter_room', '방'.repeat(10));
      assert.equal(r.ok, true);
      await expectError(s, 'name_too_long', 'new_message', 'x'.repeat(21), '방'.repeat(10));
      // The error message for control characters, exactly as documented.
      const e = await ack(s, 'enter_room', 'demo\u0001');
      assert.deepEqual(e, { error: { code: 'bad_name', message: 'room name contains control characters' } });
      s.close();
    });

    test('relaying into a room not joined, or to an unknown id', async () => {
      const s = await connect(server.url, opts);
      const offer = { type: 'offer', sdp: 'v=0\r\n' };
      // In no room at all.
      await expectError(s, 'not_in_room', 'offer', offer, 'elsewhere');
      await expectError(s, 'not_in_room', 'new_message', 'hi', BYSTANDER_ROOM);
      await expectError(s, 'not_in_room', 'leave_room');
      // In a room, relaying into another (an existing one, even).
      const room = `r-${tname}`.slice(0, 10);
      await ack(s, 'enter_room', room);
      const [e] = await expectError(s, 'not_in_room', 'offer', offer, BYSTANDER_ROOM);
      assert.equal(e.message, `you are not in room "${BYSTANDER_ROOM}"`);
      await expectError(s, 'not_in_room', 'ice', null, BYSTANDER_ROOM);
      await expectError(s, 'not_in_room', 'new_message', 'hi', BYSTANDER_ROOM);
      // To an id that is not in the sender's room (a bystander's id, one's
      // own, a made-up one).
      await expectError(s, 'unknown_peer', 'offer', offer, room, bystanders[0].id);
      await expectError(s, 'unknown_peer', 'answer', offer, room, s.id);
      await expectError(s, 'unknown_peer', 'ice', null, room, 'nobody');
      s.close();
    });

    test('unknown events: unknown_event', async () => {
      const s = await connect(server.url, opts);
      const [e] = await expectError(s, 'unknown_event', 'launch_missiles', 1, 2);
      assert.equal(e.message, 'unknown event "launch_missiles"');
      await expectError(s, 'unknown_event', 'x'.repeat(500));
      s.close();
    });
  });
}

test('client text cannot forge log lines', async () => {
  const s = await connect(server.url);
  const evil = 'evil\nnoom-server-Message: forged';
  const r = await ack(s, evil);
  assert.equal(r.error.code, 'unknown_event');
  const [line] = await server.waitLog(/event="evil\\x0anoom-server-Message: forged"/);
  assert.match(line, /code=unknown_event/);
  assert.deepEqual(server.logLines(/^noom-server-Message: forged/), []);
  s.close();
});

test('message flood: rate_limited, then closed with "rate limit"', async () => {
  const server = await startServer(['--rate-limit', '5', '--rate-burst', '10']);
  const other = await connect(server.url);
  await ack(other, 'enter_room', 'flood');
  const s = await connect(server.url, { transports: ['websocket'] });
  await ack(s, 'enter_room', 'flood');
  // Burst 10, 5/s: the 11th and later events in a burst are dropped.
  const acks = [];
  for (let i = 0; i < 15; i++)
    acks.push(ack(s, 'new_message', `m${i}`, 'flood').catch((e) => ({ timeout: e })));
  const results = await Promise.all(acks);
  const limited = results.filter((r) => r.error && r.error.code === 'rate_limited');
  assert.ok(limited.length >= 4, JSON.stringify(results));
  assert.ok(results.filter((r) => r.ok).length <= 11);
  // Logged once for the whole burst, not once per dropped event.
  await server.waitLog(new RegExp(`id=${s.id} .*code=rate_limited`));
  assert.equal(server.logLines(new RegExp(`id=${s.id} .*code=rate_limited`)).length, 1);
  // Keep flooding (10 x burst while limited): the server closes us.
  const sid = s.id;
  for (let i = 0; i < 120; i++) s.emit('new_message', 'spam', 'flood');
  const reason = await waitDisconnect(s);
  assert.match(reason, /transport close|io server disconnect/);
  await server.waitLog(new RegExp(`${sid}.*rate limit`));
  // The other member only saw the accepted messages, and the bye.
  const got = other.received.filter(([n]) => n === 'new_message').length;
  assert.equal(got, results.filter((r) => r.ok).length);
  await take(other, 'bye');
  other.close();
  await server.stop();
});
