// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The seed's two-party call flow (chapter 3) with exact event shapes, over
// both transports, and the addressed relay of the extensions.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, connect, take, ack, sync, pending, closeAll, TRANSPORTS,
  test, describe,
} from './lib/server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const CAND = {
  candidate: 'candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host',
  sdpMid: '0', sdpMLineIndex: 0, usernameFragment: 'abcd',
};

for (const [tname, opts] of Object.entries(TRANSPORTS)) {
  describe(`seed call flow (${tname})`, () => {
    test('join_room without ack, welcome, offer/answer/ice relayed with from', async () => {
      const room = `call-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);

      // Chapter 3.6: join_room(roomName) with no ack.
      a.emit('join_room', room);
      await sync(a);
      b.emit('join_room', room);
      // The one already in the room gets welcome and offers.
      const w = await take(a, 'welcome');
      assert.equal(w[2].id, b.id);

      a.emit('offer', OFFER, room);
      const [offer, from1] = await take(b, 'offer');
      assert.deepEqual(offer, OFFER);
      assert.equal(from1, a.id);

      b.emit('answer', ANSWER, room);
      const [answer, from2] = await take(a, 'answer');
      assert.deepEqual(answer, ANSWER);
      assert.equal(from2, b.id);

      a.emit('ice', CAND, room);
      const [ice, from3] = await take(b, 'ice');
      assert.deepEqual(ice, CAND);
      assert.equal(from3, a.id);

      // The end of candidates: a null candidate is relayed as null.
      b.emit('ice', null, room);
      const [nul, from4] = await take(a, 'ice');
      assert.equal(nul, null);
      assert.equal(from4, b.id);

      // Nothing is echoed to the sender, no error anywhere.
      await sync(a);
      await sync(b);
      assert.deepEqual(pending(a, 'offer', 'answer', 'noom_error'), []);
      assert.deepEqual(pending(b, 'answer', 'ice', 'noom_error'), []);
      closeAll(a, b);
    });

    test('three participants: to addresses one, no to reaches all others', async () => {
      const room = `mesh-${tname}`;
      const [a, b, c] = await Promise.all([1, 2, 3].map(() => connect(server.url, opts)));
      await ack(a, 'join_room', room);
      await ack(b, 'join_room', room);
      const jc = await ack(c, 'join_room', room);
      assert.deepEqual(jc.participants.map((p) => p.id), [a.id, b.id]);

      // Addressed: only b gets it; the ack says ok.
      const r = await ack(a, 'offer', OFFER, room, b.id);
      assert.equal(r.ok, true);
      const [o, from] = await take(b, 'offer');
      assert.deepEqual(o, OFFER);
      assert.equal(from, a.id);
      await sync(c);
      assert.deepEqual(pending(c, 'offer'), []);

      // Addressed ice, extra members kept.
      const cand = { ...CAND, extra: { x: 1 } };
      c.emit('ice', cand, room, a.id);
      const [ice, f2] = await take(a, 'ice');
      assert.deepEqual(ice, cand);
      assert.equal(f2, c.id);
      await sync(b);
      assert.deepEqual(pending(b, 'ice'), []);

      // offer_failed (docs/protocol.md §5): addressed only, with from;
      // it needs a reason and a to.
      const f = await ack(b, 'offer_failed', { reason: 'no codec in common' }, room, a.id);
      assert.equal(f.ok, true);
      const [info, f3] = await take(a, 'offer_failed');
      assert.deepEqual(info, { reason: 'no codec in common' });
      assert.equal(f3, b.id);
      const noTo = await ack(b, 'offer_failed', { reason: 'x' }, room);
      assert.equal(noTo.error.code, 'bad_argument');
      const noReason = await ack(b, 'offer_failed', {}, room, a.id);
      assert.equal(noReason.error.code, 'bad_argument');
      const unknown = await ack(b, 'offer_failed', { reason: 'x' }, room, 'nobody');
      assert.equal(unknown.error.code, 'unknown_peer');
      await sync(c);
      assert.deepEqual(pending(c, 'offer_failed'), []);

      // Broadcast (seed form) reaches both others.
      c.emit('answer', ANSWER, room);
      assert.equal((await take(a, 'answer'))[1], c.id);
      assert.equal((await take(b, 'answer'))[1], c.id);
      closeAll(a, b, c);
    });
  });
}
