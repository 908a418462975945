// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The seed's chat flow (chapter 2) with exact event shapes, over both
// transports: room_change after connect, enter_room with a no-argument
// done(), welcome/bye with counts, new_message relayed as "nick: msg",
// nickname, empty rooms disappear.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, take, ack, sync, pending, closeAll, TRANSPORTS,
  waitDisconnect,
  test, describe,
} from './lib/server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

for (const [tname, opts] of Object.entries(TRANSPORTS)) {
  describe(`seed chat flow (${tname})`, () => {
    test('room_change right after connect, with the current list', async () => {
      const a = await connect(server.url, opts);
      const [names, rooms] = await take(a, 'room_change');
      assert.deepEqual(names, []);
      assert.deepEqual(rooms, []);
      if (tname === 'websocket-only') assert.equal(a.io.engine.transport.name, 'websocket');
      a.close();
    });

    test('enter_room, welcome, new_message, nickname, bye', async () => {
      const room = `chat-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      await take(a, 'room_change');
      await take(b, 'room_change');

      // Seed client: enter_room(roomName, done) where done() reads nothing.
      const res = await ack(a, 'enter_room', room);
      assert.equal(res.ok, true);
      assert.equal(res.room, room);
      // b is in no room: it is told about the new room.
      const [names, rooms] = await take(b, 'room_change', { pred: ([n]) => n.includes(room) });
      assert.ok(names.includes(room));
      assert.deepEqual(rooms.find((r) => r.name === room), { name: room, count: 1 });

      // Seed: nickname(name), no ack.
      b.emit('nickname', 'kim');
      b.nick = 'kim';
      await ack(b, 'enter_room', room);
      const [wnick, wcount, wp] = await take(a, 'welcome');
      assert.equal(wnick, 'kim');
      assert.equal(wcount, 2);
      assert.equal(wp.id, b.id);

      // new_message(msg, room, done): the others get "nick: msg".
      const m = await ack(b, 'new_message', 'hi <b>all</b>', room);
      assert.equal(m.ok, true);
      assert.equal(typeof m.ts, 'number');
      const [text, info] = await take(a, 'new_message');
      assert.equal(text, 'kim: hi <b>all</b>');
      assert.deepEqual(info, { room, from: b.id, nickname: 'kim', text: 'hi <b>all</b>', ts: m.ts });
      // Not echoed to the sender.
      await sync(b);
      assert.deepEqual(pending(b, 'new_message'), []);

      // Without an ack too (the packet carries no id).
      a.emit('new_message', 'yo', room);
      const [t2] = await take(b, 'new_message');
      assert.equal(t2, 'Anon: yo');

      // bye(nickname, count) on disconnect, count already without the leaver.
      const bid = b.id;
      b.close();
      const [bnick, bcount, bp] = await take(a, 'bye');
      assert.equal(bnick, 'kim');
      assert.equal(bcount, 1);
      assert.equal(bp.id, bid);

      // Empty rooms disappear from the list.
      const c = await connect(server.url, opts);
      const [n0] = await take(c, 'room_change');
      assert.ok(n0.includes(room));
      a.close();
      const [n1] = await take(c, 'room_change', { pred: ([n]) => !n.includes(room) });
      assert.ok(!n1.includes(room));
      c.close();
    });

    test('the seed wire shapes: done() gets an ack, welcome has 3 args', async () => {
      const room = `wire-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      // A seed client uses emit(..., done) with done ignoring arguments.
      await new Promise((resolve) => a.emit('enter_room', room, resolve));
      await new Promise((resolve) => b.emit('enter_room', room, resolve));
      const w = await take(a, 'welcome');
      assert.equal(w.length, 3);
      assert.deepEqual(w.slice(0, 2), ['Anon', 2]);
      assert.deepEqual(w[2], { id: b.id, nickname: 'Anon', kind: 'browser', sends: ['audio', 'video'], media_state: { audio: true, video: true, screen: false } });
      closeAll(a, b);
      await waitDisconnect(a);
    });
  });
}
