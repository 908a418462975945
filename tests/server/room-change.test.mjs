// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// room_change (docs/protocol.md §6): only clients in no room get it, bursts
// are coalesced to at most one per client per 250 ms, and the last one
// always carries the final list.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, take, ack, sync, pending, closeAll, deadline,
  test, TIME_SCALE,
} from './lib/server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

// Wait until @s has received a room_change whose list satisfies @pred.
function listWhere(s, pred, ms = 3000) {
  return take(s, 'room_change', { pred: ([names, rooms]) => pred(names, rooms), ms });
}

test('only clients in no room get room_change, with names and counts', async () => {
  const lobby = await connect(server.url);
  const member = await connect(server.url, { transports: ['websocket'] });
  await take(lobby, 'room_change');
  await take(member, 'room_change');
  await ack(member, 'enter_room', 'inside');
  await listWhere(lobby, (n) => n.includes('inside'));

  const j = await connect(server.url);
  await take(j, 'room_change');
  await ack(j, 'enter_room', 'inside');
  const [names, rooms] = await listWhere(lobby, (n, r) => r.some((x) => x.name === 'inside' && x.count === 2));
  assert.deepEqual(names, ['inside']);
  assert.deepEqual(rooms, [{ name: 'inside', count: 2 }]);
  await ack(j, 'enter_room', 'zz-other');
  await listWhere(lobby, (n, r) => JSON.stringify(r) === JSON.stringify([{ name: 'inside', count: 1 }, { name: 'zz-other', count: 1 }]));
  j.close();
  await listWhere(lobby, (n) => JSON.stringify(n) === '["inside"]');

  // The member, in a room all along, got nothing after its join.
  await sync(member);
  assert.deepEqual(pending(member, 'room_change'), []);
  assert.equal(member.received.filter(([n]) => n === 'room_change').length, 1);
  closeAll(lobby, member);
});

test('a join storm is coalesced: >= 250 ms apart, the last list is final', async () => {
  const lobby = await connect(server.url, { transports: ['websocket'] });
  await take(lobby, 'room_change');
  const times = [];
  lobby.on('room_change', () => times.push(Date.now()));
  const N = 40;
  const t0 = Date.now();
  const storm = [];
  for (let i = 0; i < N; i++)
    storm.push(connect(server.url, { transports: ['websocket'] }).then(async (s) => {
      await ack(s, 'enter_room', `storm-${String(i).padStart(2, '0')}`);
      await ack(s, 'enter_room', `storm-${String(i).padStart(2, '0')}`, { nickname: 'x' });
      return s;
    }));
  const sockets = await Promise.all(storm);
  const stormMs = Date.now() - t0;
  const expected = Array.from({ length: N }, (_, i) => `storm-${String(i).padStart(2, '0')}`);
  const [names, rooms] = await listWhere(lobby,
    (n) => JSON.stringify(n.filter((x) => x.startsWith('storm-'))) === JSON.stringify(expected), 5000);
  assert.equal(rooms.filter((r) => r.name.startsWith('storm-')).length, N);
  assert.ok(rooms.every((r) => r.count === 1));
  assert.ok(names.length >= N);
  // Spacing: at most one per 250 ms (a little timer slack allowed).  These
  // are arrival times: on a loaded machine (NOOM_TEST_TIME_SCALE) one late
  // delivery brings it closer to the next, so the slack grows with the
  // scale; the count below still holds the rate.
  for (let i = 1; i < times.length; i++)
    assert.ok(times[i] - times[i - 1] >= 200 / TIME_SCALE, `room_change ${times[i] - times[i - 1]} ms after the previous one`);
  assert.ok(times.length <= Math.ceil(stormMs / 250) + 2, `${times.length} room_change for a ${stormMs} ms storm`);
  // The stormers got one list each (right after connect), none after joining.
  for (const s of sockets) await sync(s);
  for (const s of sockets)
    assert.ok(s.received.filter(([n]) => n === 'room_change').length <= 1);
  closeAll(...sockets);
  // Empty rooms vanish: the lobby sees them all go.
  await listWhere(lobby, (n) => !n.some((x) => x.startsWith('storm-')), 5000);
  lobby.close();
});

test('a client back in the lobby gets the current list at once', async () => {
  const a = await connect(server.url);
  await take(a, 'room_change');
  await ack(a, 'enter_room', 'solo');
  const t0 = Date.now();
  await ack(a, 'leave_room');
  // Its own room is gone (it was alone): the list it gets says so.
  const [names] = await deadline(take(a, 'room_change'), 1000, 'room_change after leave_room');
  assert.ok(!names.includes('solo'));
  assert.ok(Date.now() - t0 < 1000);
  a.close();
});
