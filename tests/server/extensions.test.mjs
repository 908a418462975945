// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The extensions of docs/protocol.md: participant ids, the join ack,
// options (nickname, kind, sends), leave_room, nickname updates, switching
// rooms, re-entering, room_full, ICE servers with TURN REST credentials.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import {
  startServer, connect, take, ack, sync, pending, closeAll, TRANSPORTS,
  setNick,
  test, describe,
} from './lib/server.mjs';

let server;
before(async () => {
  server = await startServer(['--max-room-size', '3',
    '--ice-server', 'stun:stun.example.org:3478',
    '--ice-server', 'turn:turn.example.org:3478?transport=udp',
    '--ice-server', 'turns:turn.example.org:5349',
    '--turn-secret', 'n00m-secret', '--turn-ttl', '600']);
});
after(async () => { await server.stop(); });

for (const [tname, opts] of Object.entries(TRANSPORTS)) {
  describe(`extensions (${tname})`, () => {
    test('the join ack: id, self, participants in join order, count, iceServers', async () => {
      const room = `ack-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      const ja = await ack(a, 'enter_room', room, { nickname: 'alice' });
      const before = Math.floor(Date.now() / 1000);
      const jb = await ack(b, 'join_room', room,
        { nickname: 'pub', kind: 'publisher', sends: ['video'] });

      // A mesh server (no --sfu) says so: docs/protocol.md §11.
      assert.deepEqual(Object.keys(ja), ['ok', 'room', 'id', 'self', 'participants', 'count', 'iceServers', 'maxRoomSize', 'media']);
      assert.equal(ja.media, 'mesh');
      assert.equal(ja.id, a.id);
      assert.deepEqual(ja.self, { id: a.id, nickname: 'alice', kind: 'browser', sends: ['audio', 'video'], media_state: { audio: true, video: true, screen: false } });
      assert.deepEqual(ja.participants, []);
      assert.equal(ja.count, 1);
      assert.equal(ja.maxRoomSize, 3);

      assert.equal(jb.id, b.id);
      assert.match(b.id, /^[A-Za-z0-9_-]{20}$/);
      assert.deepEqual(jb.self, {
        id: b.id, nickname: 'pub', kind: 'publisher', sends: ['video'],
        media_state: { audio: false, video: true, screen: false },
      });
      assert.deepEqual(jb.participants, [ja.self]);
      assert.equal(jb.count, 2);

      // ICE servers: STUN as given; TURN with coturn use-auth-secret
      // credentials for this participant.
      assert.equal(jb.iceServers.length, 2);
      assert.deepEqual(jb.iceServers[0], { urls: ['stun:stun.example.org:3478'] });
      const turn = jb.iceServers[1];
      assert.deepEqual(turn.urls, ['turn:turn.example.org:3478?transport=udp', 'turns:turn.example.org:5349']);
      const [expiry, user] = turn.username.split(':');
      assert.equal(user, b.id);
      assert.ok(Number(expiry) >= before + 600 - 2 && Number(expiry) <= before + 600 + 5, turn.username);
      assert.equal(turn.credential, createHmac('sha1', 'n00m-secret').update(turn.username).digest('base64'));

      const [nick, count, p] = await take(a, 'welcome');
      assert.equal(nick, 'pub');
      assert.equal(count, 2);
      assert.deepEqual(p, jb.self);
      closeAll(a, b);
    });

    test('kinds and sends: defaults and validation', async () => {
      const room = `kinds-${tname}`;
      const a = await connect(server.url, opts);
      const j = await ack(a, 'enter_room', room, { kind: 'subscriber' });
      assert.deepEqual(j.self.sends, []);
      assert.equal(j.self.kind, 'subscriber');
      const b = await connect(server.url, opts);
      const jr = await ack(b, 'enter_room', room, { kind: 'recorder', nickname: 'rec' });
      assert.deepEqual(jr.self, {
        id: b.id, nickname: 'rec', kind: 'recorder', sends: [],
        media_state: { audio: false, video: false, screen: false },
      });
      const c = await connect(server.url, opts);
      for (const bad of [{ kind: 'robot' }, { kind: 5 }, { sends: ['audio', 'smell'] }, { sends: 'audio' }, { nickname: 7 }]) {
        const r = await ack(c, 'enter_room', room, bad);
        assert.equal(r.error.code, 'bad_argument', JSON.stringify(bad));
      }
      const r = await ack(c, 'enter_room', room, 'not-an-object');
      assert.equal(r.error.code, 'bad_argument');
      closeAll(a, b, c);
    });

    test('nickname updates: ack, participant_update to the room', async () => {
      const room = `nick-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      await ack(a, 'enter_room', room);
      await ack(b, 'enter_room', room);
      await take(a, 'welcome');
      const r = await setNick(b, 'kim');
      assert.deepEqual(r, { ok: true, nickname: 'kim' });
      const [p] = await take(a, 'participant_update');
      assert.deepEqual(p, { id: b.id, nickname: 'kim', kind: 'browser', sends: ['audio', 'video'], media_state: { audio: true, video: true, screen: false } });
      // The same nickname again changes nothing: no update.
      await setNick(b, 'kim');
      await sync(a);
      assert.deepEqual(pending(a, 'participant_update'), []);
      // Outside a room: just the ack.
      const c = await connect(server.url, opts);
      assert.deepEqual(await setNick(c, 'solo'), { ok: true, nickname: 'solo' });
      closeAll(a, b, c);
    });

    test('media_state: ack, participant_media to the room, in the join ack of newcomers', async () => {
      const room = `mstate-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      // Outside a room: not_in_room.
      const out = await ack(b, 'media_state', { audio: false });
      assert.equal(out.error.code, 'not_in_room');
      await ack(a, 'enter_room', room);
      const jb = await ack(b, 'enter_room', room, { sends: ['audio', 'video'] });
      assert.deepEqual(jb.self.media_state, { audio: true, video: true, screen: false });
      await take(a, 'welcome');

      // Mute: the sender's ack, the others' participant_media.
      const r = await ack(b, 'media_state', { audio: false });
      assert.deepEqual(r, { ok: true, media_state: { audio: false, video: true, screen: false } });
      const [m] = await take(a, 'participant_media');
      assert.deepEqual(m, { id: b.id, audio: false, video: true, screen: false });
      // Absent members keep their values; unknown members are ignored.
      await ack(b, 'media_state', { video: false, screen: true, smell: 1 });
      const [m2] = await take(a, 'participant_media');
      assert.deepEqual(m2, { id: b.id, audio: false, video: false, screen: true });
      // The same state again: no event (and none to the sender ever).
      await ack(b, 'media_state', { audio: false, video: false });
      await sync(a);
      await sync(b);
      assert.deepEqual(pending(a, 'participant_media'), []);
      assert.deepEqual(pending(b, 'participant_media'), []);

      // A newcomer reads the state in its join ack.
      const c = await connect(server.url, opts);
      const jc = await ack(c, 'enter_room', room, { kind: 'subscriber' });
      assert.deepEqual(jc.participants.find((p) => p.id === b.id).media_state,
        { audio: false, video: false, screen: true });
      // What one does not send stays off: a subscriber cannot be "on".
      const rc = await ack(c, 'media_state', { audio: true, video: true, screen: true });
      assert.deepEqual(rc.media_state, { audio: false, video: false, screen: false });
      await sync(a);
      assert.deepEqual(pending(a, 'participant_media'), []);

      // Validation: bad_argument, nothing changes.
      for (const bad of [undefined, null, 5, 'on', [true], { audio: 1 }, { video: 'false' }, { screen: null }]) {
        const e = bad === undefined ? await ack(b, 'media_state') : await ack(b, 'media_state', bad);
        assert.deepEqual(e.error, { code: 'bad_argument', message: 'media state must be {audio, video, screen: boolean}' },
          JSON.stringify(bad));
      }
      // Without an ack: noom_error.
      b.emit('media_state', 'on');
      const [err] = await take(b, 'noom_error');
      assert.deepEqual(err, { code: 'bad_argument', message: 'media state must be {audio, video, screen: boolean}', event: 'media_state' });

      // Joining again (another room) starts from sends.
      const jb2 = await ack(b, 'enter_room', `${room}-2`);
      assert.deepEqual(jb2.self.media_state, { audio: true, video: true, screen: false });
      await sync(a);
      assert.deepEqual(pending(a, 'participant_media'), []);
      closeAll(a, b, c);
    });

    test('leave_room: ack, bye to the others, room_change to the leaver', async () => {
      const room = `leave-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      await ack(a, 'enter_room', room, { nickname: 'a' });
      await ack(b, 'enter_room', room, { nickname: 'b' });
      b.inbox.length = 0;
      const r = await ack(b, 'leave_room');
      assert.deepEqual(r, { ok: true, room });
      const [nick, count, p] = await take(a, 'bye');
      assert.deepEqual([nick, count, p.id], ['b', 1, b.id]);
      const [names, rooms] = await take(b, 'room_change');
      assert.ok(names.includes(room));
      assert.deepEqual(rooms.find((x) => x.name === room), { name: room, count: 1 });
      // Still connected and usable: leave again is an error, rejoin works.
      const again = await ack(b, 'leave_room');
      assert.equal(again.error.code, 'not_in_room');
      const j = await ack(b, 'enter_room', room);
      assert.equal(j.count, 2);
      closeAll(a, b);
    });

    test('entering another room leaves the first; re-entering is not an error', async () => {
      const r1 = `one-${tname}`, r2 = `two-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      const c = await connect(server.url, opts);
      await ack(a, 'enter_room', r1);
      await ack(c, 'enter_room', r2);
      await ack(b, 'enter_room', r1);
      await take(a, 'welcome');
      const j = await ack(b, 'enter_room', r2);
      assert.equal(j.room, r2);
      assert.deepEqual(j.participants.map((p) => p.id), [c.id]);
      const [, count, p] = await take(a, 'bye');
      assert.equal(count, 1);
      assert.equal(p.id, b.id);
      assert.equal((await take(c, 'welcome'))[2].id, b.id);
      // Re-enter r2: same result again, nobody is told anything.
      const j2 = await ack(b, 'enter_room', r2);
      assert.deepEqual(j2.participants, j.participants);
      assert.equal(j2.count, 2);
      await sync(c);
      assert.deepEqual(pending(c, 'welcome', 'bye'), []);
      closeAll(a, b, c);
    });

    test('a full room answers room_full and changes nothing', async () => {
      const room = `full-${tname}`;
      const members = [];
      for (let i = 0; i < 3; i++) {
        const s = await connect(server.url, opts);
        await ack(s, 'enter_room', room);
        members.push(s);
      }
      const x = await connect(server.url, opts);
      await ack(x, 'enter_room', `elsewhere-${tname}`);
      for (const s of members) await sync(s);
      for (const s of members) s.inbox.length = 0;
      const r = await ack(x, 'enter_room', room);
      assert.deepEqual(r, { error: { code: 'room_full', message: `room "${room}" is full (3 participants)` } });
      // x stays where it was: chatting in its old room still works.
      const m = await ack(x, 'new_message', 'still here', `elsewhere-${tname}`);
      assert.equal(m.ok, true);
      // Without an ack the error comes as noom_error.
      x.emit('join_room', room);
      const [e] = await take(x, 'noom_error');
      assert.equal(e.code, 'room_full');
      assert.equal(e.event, 'join_room');
      for (const s of members) await sync(s);
      for (const s of members) assert.deepEqual(pending(s, 'welcome', 'bye'), []);
      closeAll(x, ...members);
    });
  });
}

test('no ICE servers by default, TURN without secret has no credentials', async () => {
  const plain = await startServer(['--ice-server', 'turn:t.example.org']);
  try {
    const a = await connect(plain.url);
    const j = await ack(a, 'enter_room', 'x');
    assert.deepEqual(j.iceServers, [{ urls: ['turn:t.example.org'] }]);
    assert.equal(j.maxRoomSize, 16);
    a.close();
  } finally {
    await plain.stop();
  }
});

// docs/protocol.md §3 "features": the join option, kept as the
// participant's (known names only), in the ack, welcome and the
// newcomer's participants; a join without it has none; a bad one is
// refused and changes nothing.
test('features: ["screen"] is the participant\'s, unknown names dropped', async () => {
  const a = await connect(server.url);
  const b = await connect(server.url);
  const c = await connect(server.url);
  try {
    const ja = await ack(a, 'enter_room', 'feat', { nickname: 'web', features: ['screen', 'teleport'] });
    assert.deepEqual(ja.self.features, ['screen']);
    const bad = await ack(b, 'enter_room', 'feat', { features: 'screen' });
    assert.equal(bad.error.code, 'bad_argument');
    assert.equal(bad.error.message, 'features must be an array of names');
    const jb = await ack(b, 'enter_room', 'feat', { nickname: 'rx', kind: 'subscriber', features: ['screen'] });
    assert.deepEqual(jb.self.features, ['screen']);
    assert.deepEqual(jb.participants, [ja.self]);
    const [, , p] = await take(a, 'welcome');
    assert.deepEqual(p, jb.self);
    // seed-style: no options, no features member
    const jc = await ack(c, 'enter_room', 'feat');
    assert.equal('features' in jc.self, false);
    assert.deepEqual(jc.participants, [ja.self, jb.self]);
  } finally {
    closeAll(a, b, c);
  }
});
