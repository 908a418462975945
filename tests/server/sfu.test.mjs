// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-server --sfu (docs/protocol.md §11, docs/server-internals.md "The
// media relay"): the join ack, the join option "media" and sfu_required,
// seed pages in an SFU room, `to` in an SFU room, the publisher limit
// apart from the room size, signalling with the relay ("~sfu") both ways,
// and the supervision of the relay process (restart after kill -9, stop
// at shutdown, never orphaned).
//
// Two relays.  The real one, tools/relay/noom-relay ($NOOM_RELAY), for
// what a relay does on its own: offering from "~sfu" with `tracks` after a
// join, and everything about the process (kill -9 and restart, shutdown,
// the server killed).  A scripted stand-in, tests/server/lib/
// relay-stand-in.mjs, where a test must see exactly what the server writes
// on the control channel (join, update, leave, answer, ice, offer_failed)
// or make the relay say something on cue (an error): the real relay does
// not log its input, and answers no SDP that is not real.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  SERVER, startServer, connect, take, ack, sync, pending, closeAll, deadline,
  setNick, test, describe, TRANSPORTS,
} from './lib/server.mjs';
import { sample, metrics, promtool, havePromtool } from './lib/metrics.mjs';
import { until } from '../wait.mjs';

const STAND_IN = fileURLToPath(new URL('./lib/relay-stand-in.mjs', import.meta.url));
const RELAY = ['--sfu', '--relay', process.execPath, '--relay-arg', STAND_IN];
const NOOM_RELAY = process.env.NOOM_RELAY;
const REAL_RELAY = ['--sfu', '--relay', NOOM_RELAY];
const needsRelay = { skip: NOOM_RELAY ? false : 'NOOM_RELAY is not set' };

const OFFER = { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
const ANSWER = { type: 'answer', sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' };
// An answer that sends video on its upload m-line, with VP8.
const ANSWER_VIDEO = {
  type: 'answer',
  sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
    'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\na=sendonly\r\na=rtpmap:96 VP8/90000\r\n',
};
const ANSWER_AUDIO_H264 = {
  type: 'answer',
  sdp: 'v=0\r\no=- 3 4 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
    'm=video 9 UDP/TLS/RTP/SAVPF 102\r\na=mid:0\r\na=recvonly\r\na=rtpmap:102 H264/90000\r\n',
};
const CAND = {
  candidate: 'candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host',
  sdpMid: '0', sdpMLineIndex: 0,
};
const SFU = { media: ['sfu'] };

// What the stand-in got, as objects, in order.
function relayGot(server, pred = () => true) {
  return server.logLines(/relay-stand-in: got /)
    .map((l) => JSON.parse(l.slice(l.indexOf('got ') + 4)))
    .filter(pred);
}
function waitRelayGot(server, pred, what, ms = 3000) {
  return server.until(() => relayGot(server, pred)[0], `the relay to get ${what}`, ms);
}
// The real relay's log lines for the participant @id's joins.
function realJoins(server, room, id) {
  return server.logLines(new RegExp(`noom-relay-Message: .* join room="${room}" id=${id} `));
}
function relayPids(server) {
  return server.logLines(/relay started pid=\d+/).map((l) => Number(/pid=(\d+)/.exec(l)[1]));
}
// Alive and not a zombie.
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
async function waitGone(pid, what, ms = 5000) {
  await deadline(new Promise((resolve) => {
    const check = () => (alive(pid) ? setTimeout(check, 20) : resolve());
    check();
  }), ms, what);
}

let server;
before(async () => {
  server = await startServer([...RELAY, '--max-publishers', '2', '--max-room-size', '4']);
  await server.waitLog(/relay ready pid=/);
});
after(async () => { await server.stop(); });

describe('sfu options', () => {
  for (const args of [['--max-publishers', '3'], ['--relay', '/bin/true'], ['--relay-arg', 'x'],
    ['--sfu', '--relay', '/nonexistent/noom-relay'], ['--sfu', '--max-publishers', '0']]) {
    test(`${args.join(' ')}: exit 2 with a message`, () => {
      const r = spawnSync(SERVER, ['--port', '0', '--host', '127.0.0.1', ...args],
        { encoding: 'utf8', timeout: 5000 });
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, /^noom-server: /);
    });
  }

  test('without --sfu: a mesh ack, and the option "media" is accepted', async () => {
    const mesh = await startServer();
    try {
      const a = await connect(mesh.url);
      const j = await ack(a, 'enter_room', 'm', { media: ['sfu', 'mesh'] });
      assert.equal(j.media, 'mesh');
      assert.equal(j.maxRoomSize, 16);
      assert.equal(j.relay, undefined);
      assert.equal(j.maxPublishers, undefined);
      closeAll(a);
    } finally {
      await mesh.stop();
    }
  });

  test('--sfu: max-room-size 500 by default, maxPublishers 16', async () => {
    const s = await startServer(RELAY);
    try {
      await s.waitLog(/relay ready pid=/);
      const a = await connect(s.url);
      const j = await ack(a, 'enter_room', 'd', SFU);
      assert.equal(j.maxRoomSize, 500);
      assert.equal(j.maxPublishers, 16);
      closeAll(a);
    } finally {
      await s.stop();
    }
  });
});

for (const [tname, opts] of Object.entries(TRANSPORTS)) {
  describe(`sfu rooms (${tname})`, () => {
    test('the join ack says sfu and names the relay; the relay offers at once', async () => {
      const room = `ack-${tname}`;
      const a = await connect(server.url, opts);
      const j = await ack(a, 'enter_room', room, { nickname: 'alice', sends: ['video'], media: ['sfu'] });
      assert.equal(j.ok, true);
      assert.equal(j.media, 'sfu');
      assert.equal(j.relay, '~sfu');
      assert.equal(j.maxPublishers, 2);
      assert.equal(j.maxRoomSize, 4);

      const [description, from] = await take(a, 'offer');
      assert.equal(from, '~sfu');
      assert.equal(description.type, 'offer');
      assert.deepEqual(description.tracks, [{ mid: '0', kind: 'video', id: a.id, upload: true }]);
      const join = await waitRelayGot(server, (m) => m.op === 'join' && m.participant.id === a.id, 'the join');
      assert.deepEqual(join, { op: 'join', room, participant: j.self });
      closeAll(a);
      await waitRelayGot(server, (m) => m.op === 'leave' && m.id === j.id, 'the leave');
    });

    test('options without "sfu": sfu_required, and nothing changes', async () => {
      const room = `req-${tname}`;
      const a = await connect(server.url, opts);
      for (const options of [{ nickname: 'old' }, { media: ['mesh'] }, {}, { media: [] }]) {
        const r = await ack(a, 'enter_room', room, options);
        assert.deepEqual(r.error, {
          code: 'sfu_required',
          message: `room "${room}" forwards media through the server (noom-server --sfu); ` +
            'this client only makes peer-to-peer calls',
        }, JSON.stringify(options));
      }
      // Without ack: noom_error.
      a.emit('join_room', room, { kind: 'publisher' });
      const [err] = await take(a, 'noom_error');
      assert.equal(err.code, 'sfu_required');
      assert.equal(err.event, 'join_room');
      // The name rule comes first; bad media values are bad arguments.
      let r = await ack(a, 'enter_room', 'x\u0001', {});
      assert.equal(r.error.code, 'bad_name');
      for (const media of ['sfu', ['sfu', 'mcu'], [1], {}]) {
        r = await ack(a, 'enter_room', room, { media });
        assert.deepEqual(r.error, { code: 'bad_argument', message: 'media must be an array of "sfu" and "mesh"' });
      }
      // The connection is still in no room.
      r = await ack(a, 'leave_room');
      assert.equal(r.error.code, 'not_in_room');
      closeAll(a);
    });

    test('seed pages (no options) are admitted; their calls without `to` are relayed as ever', async () => {
      const room = `seed-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      a.emit('join_room', room);
      await sync(a);
      const jb = await ack(b, 'join_room', room);
      assert.equal(jb.media, 'sfu');
      await take(a, 'welcome');

      a.emit('offer', OFFER, room);
      assert.deepEqual(await take(b, 'offer'), [OFFER, a.id]);
      b.emit('answer', ANSWER, room);
      assert.deepEqual(await take(a, 'answer'), [ANSWER, b.id]);
      a.emit('ice', CAND, room);
      assert.deepEqual(await take(b, 'ice'), [CAND, a.id]);
      b.emit('ice', null, room);
      assert.deepEqual(await take(a, 'ice'), [null, b.id]);

      // Not the relay's: no join for them, no offer from it, and they
      // cannot signal with it.
      const r = await ack(a, 'answer', ANSWER, room, '~sfu');
      assert.equal(r.error.code, 'unknown_peer');
      assert.match(r.error.message, /not connected to the relay/);
      await sync(a);
      await sync(b);
      assert.deepEqual(relayGot(server, (m) => m.participant && [a.id, b.id].includes(m.participant.id)), []);
      assert.deepEqual(pending(a, 'offer', 'noom_error'), []);
      assert.deepEqual(pending(b, 'offer', 'noom_error'), []);
      closeAll(a, b);
    });

    test('`to` a participant: unknown_peer; an offer to the relay: bad_argument', async () => {
      const room = `to-${tname}`;
      const a = await connect(server.url, opts);
      const b = await connect(server.url, opts);
      await ack(a, 'enter_room', room, { media: ['sfu'], sends: [] });
      await ack(b, 'enter_room', room, { media: ['sfu', 'mesh'], sends: [] });
      for (const [ev, payload] of [['offer', OFFER], ['answer', ANSWER], ['ice', CAND]]) {
        const r = await ack(a, ev, payload, room, b.id);
        assert.deepEqual(r.error, {
          code: 'unknown_peer',
          message: 'this room forwards media through the server: signal with ~sfu',
        });
      }
      let r = await ack(a, 'offer_failed', { reason: 'x' }, room, b.id);
      assert.equal(r.error.code, 'unknown_peer');
      r = await ack(a, 'offer', OFFER, room, '~sfu');
      assert.deepEqual(r.error, { code: 'bad_argument', message: 'the relay sends the offers: answer them' });
      // not_in_room before anything else.
      r = await ack(a, 'answer', ANSWER, 'elsewhere', '~sfu');
      assert.equal(r.error.code, 'not_in_room');
      // b got the relay's own offer, and nothing from a.
      await take(b, 'offer', { pred: ([, from]) => from === '~sfu' });
      await sync(b);
      assert.deepEqual(pending(b, 'offer', 'answer', 'ice', 'offer_failed'), []);
      closeAll(a, b);
    });

    test('signalling with the relay, both ways', async () => {
      const room = `sig-${tname}`;
      const a = await connect(server.url, opts);
      const j = await ack(a, 'enter_room', room, { nickname: 'pub', kind: 'publisher', sends: ['video'], media: ['sfu'] });
      await take(a, 'offer');

      // answer -> the relay, which answers with a candidate.
      let r = await ack(a, 'answer', ANSWER_VIDEO, room, '~sfu');
      assert.deepEqual(r, { ok: true });
      const got = await waitRelayGot(server, (m) => m.op === 'answer' && m.from === a.id, 'the answer');
      assert.deepEqual(got, { op: 'answer', room, from: a.id, description: ANSWER_VIDEO });
      assert.deepEqual(await take(a, 'ice'), [CAND, '~sfu']);

      // ice and offer_failed -> the relay.
      r = await ack(a, 'ice', CAND, room, '~sfu');
      assert.equal(r.ok, true);
      a.emit('ice', null, room, '~sfu');
      await waitRelayGot(server, (m) => m.op === 'ice' && m.from === a.id && m.candidate === null, 'the end of candidates');
      assert.deepEqual(relayGot(server, (m) => m.op === 'ice' && m.from === a.id)[0],
        { op: 'ice', room, from: a.id, candidate: CAND });
      r = await ack(a, 'offer_failed', { reason: 'no', extra: 1 }, room, '~sfu');
      assert.equal(r.ok, true);
      assert.deepEqual(await waitRelayGot(server, (m) => m.op === 'offer_failed' && m.from === a.id, 'offer_failed'),
        { op: 'offer_failed', room, from: a.id, info: { reason: 'no', extra: 1 } });

      // The relay's error comes back as noom_error.
      a.emit('answer', ANSWER_AUDIO_H264, room, '~sfu');
      const [err] = await take(a, 'noom_error');
      assert.deepEqual(err, {
        code: 'unsupported_codec',
        message: 'your answer has no codec the relay can carry (VP8)',
        event: 'offer',
      });

      // §7: an answer that sends what the participant did not announce.
      const b = await connect(server.url, opts);
      const jb = await ack(b, 'enter_room', room, { kind: 'subscriber', media: ['sfu'] });
      r = await ack(b, 'answer', ANSWER_VIDEO, room, '~sfu');
      assert.equal(r.error.code, 'forbidden');
      assert.equal(relayGot(server, (m) => m.op === 'answer' && m.from === b.id).length, 0);

      // A nickname change is an update; leaving is a leave.
      await setNick(a, 'renamed');
      const upd = await waitRelayGot(server, (m) => m.op === 'update' && m.participant.id === a.id, 'the update');
      assert.deepEqual(upd, { op: 'update', room, participant: { ...j.self, nickname: 'renamed' } });
      r = await ack(a, 'leave_room');
      assert.equal(r.ok, true);
      await waitRelayGot(server, (m) => m.op === 'leave' && m.id === a.id, 'the leave');
      closeAll(a, b);
      await waitRelayGot(server, (m) => m.op === 'leave' && m.id === jb.id, 'the leave on disconnect');
    });

    test('publishers are limited apart from the room size', async () => {
      const room = `pub-${tname}`;
      const [p1, p2, p3, s1, s2, s3] = await Promise.all([1, 2, 3, 4, 5, 6].map(() => connect(server.url, opts)));
      assert.equal((await ack(p1, 'enter_room', room, SFU)).ok, true);
      assert.equal((await ack(p2, 'enter_room', room, { media: ['sfu'], kind: 'publisher', sends: ['audio'] })).ok, true);
      let r = await ack(p3, 'enter_room', room, SFU);
      assert.deepEqual(r.error, { code: 'room_full', message: `room "${room}" has 2 publishers` });
      // Receive-only participants still get in, up to --max-room-size.
      assert.equal((await ack(s1, 'enter_room', room, { media: ['sfu'], sends: [] })).ok, true);
      assert.equal((await ack(s2, 'enter_room', room, { media: ['sfu'], kind: 'subscriber' })).ok, true);
      r = await ack(s3, 'enter_room', room, { media: ['sfu'], kind: 'recorder' });
      assert.deepEqual(r.error, { code: 'room_full', message: `room "${room}" is full (4 participants)` });
      // A publisher that leaves makes room for another.
      await ack(p1, 'leave_room');
      assert.equal((await ack(p3, 'enter_room', room, SFU)).ok, true);
      closeAll(p1, p2, p3, s1, s2, s3);
    });
  });
}

describe('relay supervision (noom-relay)', () => {
  test('after a join, the relay offers from ~sfu with `tracks`, and trickles', needsRelay, async () => {
    const s = await startServer(REAL_RELAY);
    try {
      await s.waitLog(/relay ready pid=/);
      const a = await connect(s.url);
      const b = await connect(s.url);
      const ja = await ack(a, 'enter_room', 'o', { media: ['sfu'], nickname: 'alice', sends: ['video'] });
      const jb = await ack(b, 'enter_room', 'o', { media: ['sfu'], nickname: 'bob' });
      for (const [c, j, kinds] of [[a, ja, ['video']], [b, jb, ['audio', 'video']]]) {
        const [offer, from] = await take(c, 'offer', { ms: 5000 });
        assert.equal(from, '~sfu');
        assert.equal(offer.type, 'offer');
        assert.match(offer.sdp, /^v=0\r\n/);
        // Upload m-lines only: nothing is published until media flows.
        assert.deepEqual(offer.tracks.map((t) => [t.kind, t.id, t.upload]).sort(),
          kinds.map((k) => [k, j.id, true]));
        for (const t of offer.tracks)
          assert.match(offer.sdp, new RegExp(`\r\na=mid:${t.mid}\r\n`));
        const [cand, cfrom] = await take(c, 'ice', { ms: 5000 });
        assert.equal(cfrom, '~sfu');
        assert.match(cand.candidate, /^candidate:.* 127\.0\.0\.1 \d+ typ host/);
        assert.equal(cand.sdpMLineIndex, 0);
      }
      closeAll(a, b);
    } finally {
      await s.stop();
    }
  });

  test('kill -9: clients are told, the relay restarts and learns the rooms again', needsRelay, async () => {
    const s = await startServer(REAL_RELAY);
    try {
      await s.waitLog(/relay ready pid=/);
      const [pid] = relayPids(s);
      const a = await connect(s.url);
      const seed = await connect(s.url);
      const j = await ack(a, 'enter_room', 'r', { media: ['sfu'], nickname: 'alice' });
      await ack(seed, 'enter_room', 'r');
      await take(a, 'offer', { ms: 5000 });

      process.kill(pid, 'SIGKILL');
      assert.deepEqual(await take(a, 'media_relay'), [{ state: 'restarting' }]);
      await s.waitLog(new RegExp(`relay exited pid=${pid}: killed by signal 9`));
      await s.waitLog(/restarting the relay in 500 ms/);
      await s.until(() => relayPids(s).length === 2, 'a new relay', 5000);
      assert.deepEqual(await take(a, 'media_relay', { ms: 5000 }), [{ state: 'ready' }]);
      // The new relay got a join for a (only), and offers again.
      const [offer, from] = await take(a, 'offer', { ms: 5000 });
      assert.equal(from, '~sfu');
      assert.deepEqual(offer.tracks.map((t) => [t.kind, t.id]).sort(),
        [['audio', j.id], ['video', j.id]]);
      assert.equal(realJoins(s, 'r', j.id).length, 2);
      assert.equal(realJoins(s, 'r', seed.id).length, 0);
      // The room is as it was; the seed page heard nothing.
      await sync(seed);
      assert.deepEqual(pending(seed, 'media_relay', 'offer'), []);
      const r = await ack(a, 'new_message', 'still here', 'r');
      assert.equal(r.ok, true);
      await take(seed, 'new_message');

      // Killed again at once: the backoff doubles.
      const second = relayPids(s)[1];
      process.kill(second, 'SIGKILL');
      assert.deepEqual(await take(a, 'media_relay'), [{ state: 'restarting' }]);
      await s.waitLog(/restarting the relay in 1000 ms/);
      assert.deepEqual(await take(a, 'media_relay', { ms: 5000 }), [{ state: 'ready' }]);
      await take(a, 'offer', { ms: 5000, pred: ([, f]) => f === '~sfu' });
      closeAll(a, seed);
    } finally {
      await s.stop();
    }
  });

  test('/metrics: the relay\'s counts; a restarted relay\'s add to the totals', async () => {
    const s = await startServer(RELAY);
    try {
      await s.waitLog(/relay ready pid=/);
      const at = (name, want) => until(async () => sample(await metrics(s), name), (v) => v === want,
        `${name} ${want}`, 8000, 100);
      await at('noom_sfu_tracks', 1);
      await at('noom_sfu_forwards', 2);
      await at('noom_sfu_received_bytes_total', 1000);
      await at('noom_sfu_forwarded_packets_total', 20);
      await at('noom_sfu_keyframe_requests_total', 3);
      await at('noom_sfu_lost_packets_total', 1);
      await at('noom_sfu_nacked_packets_total', 5);
      await at('noom_sfu_received_nacks_total', 6);
      await at('noom_sfu_received_keyframe_requests_total', 7);
      // each subscriber's NACKs and keyframe requests; a subscriber
      // whose TWCC feedback has not come has no estimate
      const text = await metrics(s);
      assert.equal(sample(text, 'noom_sfu_subscriber_nacks_total{room="stand-in",participant="sub"}'), 4);
      assert.equal(sample(text, 'noom_sfu_subscriber_keyframe_requests_total{room="stand-in",participant="sub"}'), 2);
      assert.doesNotMatch(text, /^noom_sfu_subscriber_estimate_bits_per_second\{/m);
      if (havePromtool) {
        const r = promtool(await metrics(s));
        assert.equal(r.status, 0, r.output);
      }
      const [pid] = relayPids(s);
      process.kill(pid, 'SIGKILL');
      await s.until(() => relayPids(s).length === 2, 'a new relay', 5000);
      // the new process counts from 0 again: the totals go on
      await at('noom_sfu_received_bytes_total', 2000);
      await at('noom_sfu_forwarded_bytes_total', 4000);
      await at('noom_sfu_nacked_packets_total', 10);
      await at('noom_sfu_received_keyframe_requests_total', 14);
      await at('noom_sfu_tracks', 1);
    } finally {
      await s.stop();
    }
  });

  test('shutdown: the relay gets the end of its input and exits by itself', needsRelay, async () => {
    const s = await startServer(REAL_RELAY);
    await s.waitLog(/relay ready pid=/);
    const [pid] = relayPids(s);
    const a = await connect(s.url);
    await ack(a, 'enter_room', 'bye', SFU);
    await take(a, 'offer', { ms: 5000 });
    assert.deepEqual(await s.stop(), { code: 0, signal: null });
    assert.equal(alive(pid), false);
    // Neither SIGTERM nor SIGKILL was needed.
    assert.deepEqual(s.logLines(new RegExp(`relay exited pid=${pid}`)),
      s.logLines(new RegExp(`relay exited pid=${pid} with status 0$`)));
    assert.equal(s.logLines(new RegExp(`relay exited pid=${pid}`)).length, 1);
    closeAll(a);
  });

  test('the server killed with SIGKILL takes the relay with it', needsRelay, async () => {
    const s = await startServer(REAL_RELAY);
    await s.waitLog(/relay ready pid=/);
    const [pid] = relayPids(s);
    assert.equal(alive(pid), true);
    s.child.kill('SIGKILL');
    await s.exit;
    await waitGone(pid, 'the orphaned relay to die');
  });
});
