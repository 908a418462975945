// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// WHIP and WHEP on noom-server's port (issue 16, docs/server.md "WHIP and
// WHEP", docs/protocol.md §12, docs/server-internals.md "The control
// channel"): POST /whip/ROOM, POST /whep/ROOM[/PARTICIPANT], PATCH and
// DELETE /wish/SESSION, OPTIONS, every error status, tokens, CORS, and how
// an HTTP participant appears to the room.
//
// Two relays, as in sfu.test.mjs.  Most tests use the scripted stand-in
// (tests/server/lib/relay-stand-in.mjs), which speaks the relay's side of
// the WHIP contract (answer, error, restarted, gone) on cue, so that what
// the server does with each is checked exactly.  The tests marked
// `needsWhipRelay` run the real noom-relay ($NOOM_RELAY) and need its side
// of issue 16 (it answers a join's `offer`): flip RELAY_ANSWERS_OFFERS when
// it lands.  Media itself (browsers, aiortc, simple-whip-client) is tested
// elsewhere.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  startServer, connect, take, ack, sync, pending, closeAll, http, test, deadline,
  describe, jwt as signJwt,
} from './lib/server.mjs';
import { OFFER } from './lib/whip-offer.mjs';

const STAND_IN = fileURLToPath(new URL('./lib/relay-stand-in.mjs', import.meta.url));
const RELAY = ['--sfu', '--relay', process.execPath, '--relay-arg', STAND_IN];
const NOOM_RELAY = process.env.NOOM_RELAY;
// The relay's side of issue 16 (answering a join's `offer`): true once it
// is merged.
const RELAY_ANSWERS_OFFERS = true;
const needsWhipRelay = {
  skip: !NOOM_RELAY ? 'NOOM_RELAY is not set' :
    !RELAY_ANSWERS_OFFERS ? 'needs the relay side of issue 16 (answering WHIP/WHEP offers)' : false,
};
const ICE = ['--ice-server', 'stun:stun.example.org:3478',
  '--ice-server', 'turn:turn.example.org:3478?transport=udp', '--turn-secret', 'turn-secret'];

const RECV_OFFER = OFFER.replaceAll('a=sendonly', 'a=recvonly');
const AUDIO_ONLY = OFFER.slice(0, OFFER.indexOf('m=video')).replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0');
// What the stand-in answers (relay-stand-in.mjs).
const ANSWER_SDP = 'v=0\r\no=- 5 6 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
  'a=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n' +
  'a=ice-ufrag:rlay\r\na=ice-pwd:relaypassword0123456789\r\na=recvonly\r\n' +
  'a=candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host\r\n';
const CAND = 'candidate:1 1 udp 2130706431 192.0.2.1 5000 typ host';
const FRAG = 'application/trickle-ice-sdpfrag';

// What the stand-in got, as objects, in order.
function relayGot(server, pred = () => true) {
  return server.logLines(/relay-stand-in: got /)
    .map((l) => JSON.parse(l.slice(l.indexOf('got ') + 4)))
    .filter(pred);
}
function waitRelayGot(server, pred, what, ms = 3000) {
  return server.until(() => relayGot(server, pred)[0], `the relay to get ${what}`, ms);
}

function post(server, path, sdp = OFFER, headers = {}) {
  return http(server, path, {
    method: 'POST', body: sdp, headers: { 'Content-Type': 'application/sdp', ...headers },
  });
}
function patch(server, location, body, headers = {}) {
  return http(server, location, {
    method: 'PATCH', body, headers: { 'Content-Type': FRAG, ...headers },
  });
}
// A participant id from a join line of the log for @room and @nickname.
async function joinedId(server, room, nickname) {
  const [line] = await server.waitLog(new RegExp(`join room="${room}" id=\\S+ nickname="${nickname}" .*via=`));
  return /id=(\S+)/.exec(line)[1];
}
function assertOneLine(r) {
  assert.match(r.headers.get('content-type'), /^text\/plain/);
  assert.match(r.body, /^[^\n]+\n$/);
}
function assertCors(r) {
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  assert.match(r.headers.get('access-control-expose-headers'), /Location.*ETag.*Link.*Retry-After/);
}

// Every test is top level (lib/server.mjs's describe only names them), so
// the servers of a group start with its first test.
let server;
before(async () => {
  server = await startServer([...RELAY, ...ICE, '--max-publishers', '2', '--max-room-size', '4']);
  await server.waitLog(/relay ready pid=/);
});
const servers = [];
after(async () => {
  await server.stop();
  for (const s of servers) await s.stop();
});
function lazy(fn) {
  let p = null;
  return () => (p ??= fn());
}

describe('whip', () => {
  test('POST: 201 with the answer, Location, ETag, ice-server Links; the relay gets the offer', async () => {
    const r = await post(server, '/whip/w-basic?nickname=obs');
    assert.equal(r.status, 201, r.body);
    assert.equal(r.headers.get('content-type'), 'application/sdp');
    assert.equal(r.body, ANSWER_SDP);
    assert.match(r.headers.get('location'), /^\/wish\/[0-9a-f]{32}$/);
    assert.match(r.headers.get('etag'), /^"[0-9a-f]+"$/);
    assert.equal(r.headers.get('accept-patch'), FRAG);
    assertCors(r);
    const links = r.headers.get('link').split(/,\s*(?=<)/);
    assert.equal(links.length, 2);
    assert.equal(links[0], '<stun:stun.example.org:3478>; rel="ice-server"');
    assert.match(links[1], /^<turn:turn\.example\.org:3478\?transport=udp>; rel="ice-server"; username="\d+:[\w-]{20}"; credential="[A-Za-z0-9+/=]+"; credential-type="password"$/);
    const id = await joinedId(server, 'w-basic', 'obs');
    assert.equal(server.logLines(new RegExp(`join room="w-basic" id=${id} nickname="obs" kind=publisher count=1 via=whip`)).length, 1);
    const joinOp = await waitRelayGot(server, (m) => m.op === 'join' && m.room === 'w-basic', 'the join');
    assert.deepEqual(joinOp.participant, { id, nickname: 'obs', kind: 'publisher', sends: ['audio', 'video'], media_state: { audio: true, video: true, screen: false } });
    assert.equal(joinOp.offer, OFFER);
    assert.equal(joinOp.play, undefined);
    await http(server, r.headers.get('location'), { method: 'DELETE' });
  });

  test('the publisher appears to the room: join ack, welcome, room list, bye on DELETE', async () => {
    const lobby = await connect(server.url);
    const a = await connect(server.url);
    const j = await ack(a, 'join_room', 'w-room', { media: ['sfu'], kind: 'subscriber' });
    assert.equal(j.ok, true, JSON.stringify(j));
    const r = await post(server, '/whip/w-room');
    assert.equal(r.status, 201, r.body);
    const id = await joinedId(server, 'w-room', 'WHIP');
    const [nick, count, p] = await take(a, 'welcome');
    assert.equal(nick, 'WHIP');
    assert.equal(count, 2);
    assert.deepEqual(p, { id, nickname: 'WHIP', kind: 'publisher', sends: ['audio', 'video'], media_state: { audio: true, video: true, screen: false } });
    await take(lobby, 'room_change', { pred: ([, rooms]) => rooms.some((x) => x.name === 'w-room' && x.count === 2) });
    const b = await connect(server.url);
    const jb = await ack(b, 'join_room', 'w-room', { media: ['sfu'], kind: 'subscriber' });
    assert.ok(jb.participants.some((x) => x.id === id && x.kind === 'publisher'), JSON.stringify(jb));

    const d = await http(server, r.headers.get('location'), { method: 'DELETE' });
    assert.equal(d.status, 200);
    const [byeNick, byeCount, byeP] = await take(a, 'bye', { pred: ([, , x]) => x.id === id });
    assert.equal(byeNick, 'WHIP');
    assert.equal(byeCount, 2);
    assert.equal(byeP.kind, 'publisher');
    await waitRelayGot(server, (m) => m.op === 'leave' && m.id === id, 'the leave');
    await server.waitLog(new RegExp(`leave room="w-room" id=${id} count=2 reason="DELETE"`));
    // Gone: 404 for PATCH and DELETE.
    const again = await http(server, r.headers.get('location'), { method: 'DELETE' });
    assert.equal(again.status, 404);
    assertOneLine(again);
    const p2 = await patch(server, r.headers.get('location'), `a=${CAND}\r\n`);
    assert.equal(p2.status, 404);
    closeAll(lobby, a, b);
  });

  test('an HTTP participant gets no events, and is not offered to', async () => {
    const r = await post(server, '/whip/w-quiet');
    assert.equal(r.status, 201);
    const id = await joinedId(server, 'w-quiet', 'WHIP');
    const a = await connect(server.url);
    await ack(a, 'join_room', 'w-quiet', { media: ['sfu'] });
    await ack(a, 'new_message', 'hello', 'w-quiet');
    await sync(a);
    assert.deepEqual(server.logLines(new RegExp(`error .*id=${id}`)), []);
    await http(server, r.headers.get('location'), { method: 'DELETE' });
    closeAll(a);
  });

  test('token identity: the nickname query wins, else "WHIP"', async () => {
    const r = await post(server, '/whip/w-nick?nickname=' + encodeURIComponent('Studio 1'));
    assert.equal(r.status, 201);
    await joinedId(server, 'w-nick', 'Studio 1');
    await http(server, r.headers.get('location'), { method: 'DELETE' });
  });
});

describe('whip errors', () => {
  test('wrong or missing content type: 415', async () => {
    for (const type of ['text/plain', 'application/json', undefined]) {
      const r = await http(server, '/whip/w-err', {
        method: 'POST', body: OFFER, headers: type ? { 'Content-Type': type } : {},
      });
      assert.equal(r.status, 415, `${type}: ${r.body}`);
      assertOneLine(r);
      assertCors(r);
    }
    await server.waitLog(/error via=whip room="w-err" status=415: /);
  });

  test('no SDP, not SDP, no media, nothing sent: 400', async () => {
    const cases = {
      empty: '',
      garbage: 'hello world',
      'no media': 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n',
      'data channel only': 'v=0\r\ns=-\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n',
      'binary': '\x00\x01\x02',
      'recvonly (WHIP publishes)': RECV_OFFER,
    };
    for (const [what, sdp] of Object.entries(cases)) {
      const r = await post(server, '/whip/w-bad', sdp);
      assert.equal(r.status, 400, `${what}: ${r.body}`);
      assertOneLine(r);
    }
    assert.equal(relayGot(server, (m) => m.room === 'w-bad').length, 0);
  });

  test('bad room names and nicknames: 400; a path that is no endpoint: 404', async () => {
    for (const path of ['/whip/' + 'x'.repeat(65), '/whip/a%01b', '/whip/%20',
      '/whip/ok?nickname=' + 'n'.repeat(33), '/whip/ok?nickname=a%0Ab']) {
      const r = await post(server, path);
      assert.equal(r.status, 400, `${path}: ${r.body}`);
      assertOneLine(r);
    }
    // libsoup decodes the path: %2F is a separator.
    for (const path of ['/whip', '/whip/', '/whip/a/b', '/whip/a%2Fb', '/whep', '/whep/a/b/c']) {
      const r = await post(server, path);
      assert.equal(r.status, 404, `${path}: ${r.body}`);
      assertOneLine(r);
    }
  });

  test('a body over the limit: 413 before it is read', async () => {
    const r = await post(server, '/whip/w-big', OFFER + 'a=x-pad:' + 'x'.repeat(300 * 1024) + '\r\n');
    assert.equal(r.status, 413, r.body);
    assert.equal(r.body, 'the body is longer than 262144 bytes\n');
    assertCors(r);
    const p = await patch(server, '/wish/0123456789abcdef0123456789abcdef', 'x'.repeat(70 * 1024));
    assert.equal(p.status, 413, p.body);
  });

  test('other methods: 405 with Allow', async () => {
    const r = await http(server, '/whip/w-x');
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'OPTIONS, POST');
    const s = await http(server, '/wish/0123', { method: 'POST', body: 'x' });
    assert.equal(s.status, 405);
    assert.equal(s.headers.get('allow'), 'OPTIONS, PATCH, DELETE');
  });

  for (const [code, status] of [['unsupported_codec', 406], ['bad_offer', 400], ['no_media', 409], ['whatever', 500]]) {
    test(`the relay's error ${code}: ${status} with its message, and the participant leaves`, async () => {
      const room = `w-relay-${code}`;
      const a = await connect(server.url);
      await ack(a, 'join_room', room, { media: ['sfu'], kind: 'subscriber' });
      const r = await post(server, `/whip/${room}`, OFFER + `a=x-stand-in-error:${code}\r\n`);
      assert.equal(r.status, status, r.body);
      assert.equal(r.body, `the stand-in refuses this offer (${code})\n`);
      assert.equal(r.headers.get('location'), null);
      const id = await joinedId(server, room, 'WHIP');
      await take(a, 'welcome');
      await take(a, 'bye', { pred: ([, , p]) => p.id === id });
      await waitRelayGot(server, (m) => m.op === 'leave' && m.id === id, 'the leave');
      closeAll(a);
    });
  }

  test('the relay says nothing: 504 after 10 s, and the participant leaves', async () => {
    const t0 = Date.now();
    const res = await deadline(fetch(`http://127.0.0.1:${server.port}/whip/w-silent`, {
      method: 'POST', body: OFFER + 'a=x-stand-in-silent\r\n',
      headers: { 'Content-Type': 'application/sdp' },
    }), 15000, 'the 504');
    assert.equal(res.status, 504);
    assert.equal(await res.text(), 'the media relay did not answer\n');
    assert.ok(Date.now() - t0 >= 9500, `after ${Date.now() - t0} ms`);
    const id = await joinedId(server, 'w-silent', 'WHIP');
    await waitRelayGot(server, (m) => m.op === 'leave' && m.id === id, 'the leave');
  }, { timeout: 20000 });

  test('a client that goes away while its POST is held: the participant leaves', async () => {
    const controller = new AbortController();
    const req = fetch(`http://127.0.0.1:${server.port}/whip/w-abort`, {
      method: 'POST', body: OFFER + 'a=x-stand-in-silent\r\n',
      headers: { 'Content-Type': 'application/sdp' }, signal: controller.signal,
    }).catch((e) => e);
    const id = await joinedId(server, 'w-abort', 'WHIP');
    controller.abort();
    await req;
    await waitRelayGot(server, (m) => m.op === 'leave' && m.id === id, 'the leave');
    await server.waitLog(new RegExp(`leave room="w-abort" id=${id} count=0 reason="client went away"`));
  });

  test('the relay loses the connection (gone): bye, and the session is 404', async () => {
    const a = await connect(server.url);
    await ack(a, 'join_room', 'w-gone', { media: ['sfu'] });
    const r = await post(server, '/whip/w-gone', OFFER + 'a=x-stand-in-gone\r\n');
    assert.equal(r.status, 201);
    const id = await joinedId(server, 'w-gone', 'WHIP');
    await take(a, 'bye', { pred: ([, , p]) => p.id === id });
    await server.waitLog(new RegExp(`leave room="w-gone" id=${id} count=1 reason="the media relay lost it: ICE failed"`));
    const d = await http(server, r.headers.get('location'), { method: 'DELETE' });
    assert.equal(d.status, 404);
    closeAll(a);
  });

  test('room full: 503 with Retry-After 5 (publishers, then participants)', async () => {
    const r1 = await post(server, '/whip/w-full');
    const r2 = await post(server, '/whip/w-full');
    assert.equal(r1.status, 201);
    assert.equal(r2.status, 201);
    const r3 = await post(server, '/whip/w-full');
    assert.equal(r3.status, 503, r3.body);
    assert.equal(r3.headers.get('retry-after'), '5');
    assert.equal(r3.body, 'room "w-full" has 2 publishers\n');
    const w1 = await post(server, '/whep/w-full', RECV_OFFER);
    const w2 = await post(server, '/whep/w-full', RECV_OFFER);
    assert.equal(w1.status, 201);
    assert.equal(w2.status, 201);
    const w3 = await post(server, '/whep/w-full', RECV_OFFER);
    assert.equal(w3.status, 503, w3.body);
    assert.equal(w3.headers.get('retry-after'), '5');
    assert.match(w3.body, /is full/);
    for (const r of [r1, r2, w1, w2])
      assert.equal((await http(server, r.headers.get('location'), { method: 'DELETE' })).status, 200);
  });
});

describe('whep', () => {
  test('POST /whep/ROOM/NICKNAME and /ID: 201, the relay gets play and a subscriber', async () => {
    const pub = await post(server, '/whip/p-room?nickname=cam');
    assert.equal(pub.status, 201);
    const pubId = await joinedId(server, 'p-room', 'cam');
    for (const who of ['cam', pubId]) {
      const r = await post(server, `/whep/p-room/${who}?nickname=viewer-${who.length}`, RECV_OFFER);
      assert.equal(r.status, 201, r.body);
      assert.match(r.headers.get('location'), /^\/wish\/[0-9a-f]{32}$/);
      const id = await joinedId(server, 'p-room', `viewer-${who.length}`);
      const j = await waitRelayGot(server, (m) => m.op === 'join' && m.participant.id === id, 'the join');
      assert.equal(j.play, pubId);
      assert.deepEqual(j.participant, {
        id, nickname: `viewer-${who.length}`, kind: 'subscriber', sends: [],
        media_state: { audio: false, video: false, screen: false },
      });
      assert.equal(j.offer, RECV_OFFER);
      await server.waitLog(new RegExp(`join room="p-room" id=${id} nickname="viewer-${who.length}" kind=subscriber count=\\d via=whep play=${pubId}`));
      await http(server, r.headers.get('location'), { method: 'DELETE' });
    }
    await http(server, pub.headers.get('location'), { method: 'DELETE' });
  });

  test('POST /whep/ROOM plays the first participant that sends video, else audio', async () => {
    const audio = await post(server, '/whip/p-any?nickname=radio', AUDIO_ONLY);
    assert.equal(audio.status, 201, audio.body);
    const audioId = await joinedId(server, 'p-any', 'radio');
    const r1 = await post(server, '/whep/p-any?nickname=v1', RECV_OFFER);
    assert.equal(r1.status, 201);
    const v1 = await joinedId(server, 'p-any', 'v1');
    assert.equal((await waitRelayGot(server, (m) => m.op === 'join' && m.participant.id === v1, 'v1')).play, audioId);
    const video = await post(server, '/whip/p-any?nickname=tv');
    const videoId = await joinedId(server, 'p-any', 'tv');
    const r2 = await post(server, '/whep/p-any?nickname=v2', RECV_OFFER);
    const v2 = await joinedId(server, 'p-any', 'v2');
    assert.equal((await waitRelayGot(server, (m) => m.op === 'join' && m.participant.id === v2, 'v2')).play, videoId);
    for (const r of [audio, r1, video, r2])
      await http(server, r.headers.get('location'), { method: 'DELETE' });
  });

  test('nothing to play: 404 with the reason', async () => {
    const r = await post(server, '/whep/p-none/ghost', RECV_OFFER);
    assert.equal(r.status, 404);
    assert.equal(r.body, 'no participant "ghost" in room "p-none"\n');
    const e = await post(server, '/whep/p-none', RECV_OFFER);
    assert.equal(e.status, 404);
    assert.equal(e.body, 'no participant in room "p-none" sends audio or video\n');
    const a = await connect(server.url);
    await ack(a, 'join_room', 'p-none', { media: ['sfu'], kind: 'subscriber' });
    const s = await post(server, '/whep/p-none', RECV_OFFER);
    assert.equal(s.status, 404);
    assert.deepEqual(pending(a, 'welcome'), []);
    closeAll(a);
  });
});

describe('PATCH', () => {
  let location, etag;
  const setup = lazy(async () => {
    const r = await post(server, '/whip/t-room');
    assert.equal(r.status, 201);
    location = r.headers.get('location');
    etag = r.headers.get('etag');
  });

  test('a session to PATCH', async () => { await setup(); });

  test('trickle: 204; each candidate an ice for the relay with its m-line; end-of-candidates null', async () => {
    const id = await joinedId(server, 't-room', 'WHIP');
    const frag = 'a=ice-ufrag:abcd\r\na=ice-pwd:0123456789abcdef012345\r\n' +
      `a=${CAND}\r\n` +
      'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:1\r\n' + `a=${CAND.replace('5000', '5001')}\r\n` +
      'a=end-of-candidates\r\n';
    const r = await patch(server, location, frag, { 'If-Match': etag });
    assert.equal(r.status, 204, r.body);
    assertCors(r);
    const ices = await server.until(() => {
      const got = relayGot(server, (m) => m.op === 'ice' && m.from === id);
      return got.length >= 3 ? got : null;
    }, 'three ice');
    assert.deepEqual(ices.map((m) => m.candidate), [
      { candidate: CAND, sdpMid: '0', sdpMLineIndex: 0 },
      { candidate: CAND.replace('5000', '5001'), sdpMid: '1', sdpMLineIndex: 1 },
      null,
    ]);
    assert.equal(ices[0].room, 't-room');
    // Without If-Match: taken too.
    assert.equal((await patch(server, location, `a=${CAND}\r\n`)).status, 204);
  });

  test('wrong content type: 415; a bad fragment: 400; an unknown mid: 400', async () => {
    const r = await patch(server, location, `a=${CAND}\r\n`, { 'Content-Type': 'application/sdp' });
    assert.equal(r.status, 415);
    assertOneLine(r);
    for (const frag of ['a=candidate:1 1 udp\r\n', 'a=ice-ufrag:abcd\r\n', 'garbage',
      'm=audio 9 RTP/AVP 0\r\na=mid:9\r\na=' + CAND + '\r\n']) {
      const b = await patch(server, location, frag);
      assert.equal(b.status, 400, `${frag}: ${b.body}`);
      assertOneLine(b);
    }
  });

  test('If-Match of another ICE session: 412', async () => {
    const r = await patch(server, location, `a=${CAND}\r\n`, { 'If-Match': '"0000"' });
    assert.equal(r.status, 412);
    assertOneLine(r);
  });

  test('ICE restart: 200 with the relay\'s fragment and a new ETag; the old ETag is 412 then', async () => {
    const id = await joinedId(server, 't-room', 'WHIP');
    const frag = 'a=ice-ufrag:efgh\r\na=ice-pwd:abcdef0123456789abcdef\r\n' +
      'm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:0\r\n' + `a=${CAND}\r\n`;
    const r = await patch(server, location, frag, { 'If-Match': '*' });
    assert.equal(r.status, 200, r.body);
    assert.equal(r.headers.get('content-type'), FRAG);
    assert.equal(r.body, 'm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n' +
      'a=ice-ufrag:rly2\r\na=ice-pwd:relaypassword9876543210\r\n' +
      'a=candidate:2 1 UDP 2122252543 127.0.0.1 40002 typ host\r\na=end-of-candidates\r\n');
    const newTag = r.headers.get('etag');
    assert.match(newTag, /^"[0-9a-f]+"$/);
    assert.notEqual(newTag, etag);
    const restart = await waitRelayGot(server, (m) => m.op === 'restart' && m.from === id, 'the restart');
    assert.deepEqual(restart, { op: 'restart', room: 't-room', from: id, ufrag: 'efgh', pwd: 'abcdef0123456789abcdef' });
    // The restart's candidate follows it.
    const ops = await server.until(() => {
      const o = relayGot(server, (m) => m.from === id).map((m) => m.op);
      return o.slice(o.indexOf('restart')).length >= 2 ? o : null;
    }, 'the restart\'s ice');
    assert.deepEqual(ops.slice(ops.indexOf('restart')), ['restart', 'ice']);
    assert.equal((await patch(server, location, `a=${CAND}\r\n`, { 'If-Match': etag })).status, 412);
    assert.equal((await patch(server, location, `a=${CAND}\r\n`, { 'If-Match': newTag })).status, 204);
    // Same credentials again: a trickle, not a restart.
    const same = await patch(server, location, 'a=ice-ufrag:efgh\r\na=ice-pwd:abcdef0123456789abcdef\r\n', { 'If-Match': newTag });
    assert.equal(same.status, 204);
    etag = newTag;
  });

  test('a restart the relay refuses: 422 for restart_unsupported', async () => {
    const r = await patch(server, location, 'a=ice-ufrag:nore\r\na=ice-pwd:abcdef0123456789abcdef\r\n', { 'If-Match': '*' });
    assert.equal(r.status, 422, r.body);
    assert.equal(r.body, 'the stand-in does not restart this one\n');
  });

  test('a restart the relay does not answer: 504 after 10 s; another one meanwhile: 409', async () => {
    const held = deadline(fetch(`http://127.0.0.1:${server.port}${location}`, {
      method: 'PATCH', body: 'a=ice-ufrag:hold\r\na=ice-pwd:abcdef0123456789abcdef\r\n',
      headers: { 'Content-Type': FRAG, 'If-Match': '*' },
    }), 15000, 'the 504');
    const id = await joinedId(server, 't-room', 'WHIP');
    await waitRelayGot(server, (m) => m.op === 'restart' && m.from === id && m.ufrag === 'hold', 'the restart');
    const second = await patch(server, location, 'a=ice-ufrag:wxyz\r\na=ice-pwd:abcdef0123456789abcdef\r\n', { 'If-Match': '*' });
    assert.equal(second.status, 409);
    assert.equal(second.body, 'an ICE restart is already under way\n');
    // A trickle meanwhile is taken.
    assert.equal((await patch(server, location, `a=${CAND}\r\n`)).status, 204);
    const res = await held;
    assert.equal(res.status, 504);
    assert.equal(await res.text(), 'the media relay did not answer the ICE restart\n');
    // The session is still there.
    assert.equal((await patch(server, location, `a=${CAND}\r\n`, { 'If-Match': etag })).status, 204);
  }, { timeout: 20000 });

  test('unknown session: 404', async () => {
    for (const path of ['/wish/0123456789abcdef0123456789abcdef', '/wish/', '/wish/x/y']) {
      const r = await patch(server, path, `a=${CAND}\r\n`);
      assert.equal(r.status, 404, path);
      assertOneLine(r);
    }
  });
});

describe('CORS', () => {
  test('OPTIONS on an endpoint: 204 preflight with the ice-server Links', async () => {
    for (const path of ['/whip/c-room', '/whep/c-room', '/whep/c-room/someone']) {
      const r = await http(server, path, {
        method: 'OPTIONS',
        headers: { Origin: 'https://studio.example', 'Access-Control-Request-Method': 'POST' },
      });
      assert.equal(r.status, 204, path);
      assertCors(r);
      assert.equal(r.headers.get('access-control-allow-methods'), 'OPTIONS, POST');
      assert.equal(r.headers.get('access-control-allow-headers'), 'Content-Type, Authorization, If-Match');
      assert.match(r.headers.get('link'), /<stun:stun\.example\.org:3478>; rel="ice-server"/);
    }
    const s = await http(server, '/wish/0123456789abcdef0123456789abcdef', { method: 'OPTIONS' });
    assert.equal(s.status, 204);
    assert.equal(s.headers.get('access-control-allow-methods'), 'OPTIONS, PATCH, DELETE');
    assert.equal(s.headers.get('accept-patch'), FRAG);
  });

  test('--allowed-origin: the Origin echoed with Vary, another refused with 403', async () => {
    const s = await startServer([...RELAY, '--allowed-origin', 'https://studio.example']);
    try {
      await s.waitLog(/relay ready pid=/);
      const ok = await http(s, '/whip/c-o', { method: 'OPTIONS', headers: { Origin: 'https://studio.example' } });
      assert.equal(ok.status, 204);
      assert.equal(ok.headers.get('access-control-allow-origin'), 'https://studio.example');
      assert.match(ok.headers.get('vary'), /Origin/);
      const r = await post(s, '/whip/c-o', OFFER, { Origin: 'https://studio.example' });
      assert.equal(r.status, 201);
      assert.equal(r.headers.get('access-control-allow-origin'), 'https://studio.example');
      const bad = await post(s, '/whip/c-o', OFFER, { Origin: 'https://evil.example' });
      assert.equal(bad.status, 403);
      assert.equal(bad.headers.get('access-control-allow-origin'), null);
      assert.equal(bad.body, 'origin not allowed\n');
      // Not a browser: no Origin, allowed.
      const tool = await post(s, '/whip/c-o');
      assert.equal(tool.status, 201);
    } finally {
      await s.stop();
    }
  });
});

describe('servers without WHIP', () => {
  test('without --sfu: 501 with the reason', async () => {
    const mesh = await startServer();
    try {
      for (const path of ['/whip/m', '/whep/m', '/whep/m/x']) {
        const r = await post(mesh, path);
        assert.equal(r.status, 501);
        assert.equal(r.body, 'this server forwards no media: WHIP and WHEP need noom-server --sfu\n');
        assertCors(r);
      }
      const o = await http(mesh, '/whip/m', { method: 'OPTIONS' });
      assert.equal(o.status, 204);
      assert.equal(o.headers.get('link'), null);
    } finally {
      await mesh.stop();
    }
  });

  test('the relay stops: HTTP participants leave, sessions are 404, POST is 503 with Retry-After 2 until it is back', async () => {
    const s = await startServer(RELAY);
    try {
      const [ready] = await s.waitLog(/relay ready pid=/);
      const pid = Number(/pid=(\d+)/.exec(ready)[1]);
      const a = await connect(s.url);
      await ack(a, 'join_room', 'k-room', { media: ['sfu'], kind: 'subscriber' });
      const r = await post(s, '/whip/k-room');
      assert.equal(r.status, 201);
      const id = await joinedId(s, 'k-room', 'WHIP');
      process.kill(pid, 'SIGKILL');
      await take(a, 'bye', { pred: ([, , p]) => p.id === id });
      await s.waitLog(new RegExp(`leave room="k-room" id=${id} count=1 reason="the media relay stopped"`));
      assert.equal((await http(s, r.headers.get('location'), { method: 'DELETE' })).status, 404);
      const during = await post(s, '/whip/k-room');
      if (during.status === 503) {
        assert.equal(during.headers.get('retry-after'), '2');
        assert.equal(during.body, 'the media relay is restarting: try again shortly\n');
      } else {
        // The new relay was already up.
        assert.equal(during.status, 201);
      }
      await s.waitLog(/relay ready pid=/, 2);
      // The new relay learns nothing of the HTTP participant that left.
      const after = await post(s, '/whip/k-room');
      assert.equal(after.status, 201);
      closeAll(a);
    } finally {
      await s.stop();
    }
  });
});

describe('tokens', () => {
  const SECRET = 'whip-secret-0123456789abcdef0123';
  const dir = mkdtempSync(join(tmpdir(), 'noom-whip-'));
  const secretFile = join(dir, 'secret');
  writeFileSync(secretFile, SECRET + '\n');
  const now = () => Math.floor(Date.now() / 1000);
  const token = (claims) => signJwt({ room: 'tk', sub: 'studio', can: ['publish', 'subscribe'], exp: now() + 600, ...claims }, { secret: SECRET });
  let s;
  const setup = lazy(async () => {
    s = await startServer([...RELAY, ...ICE, '--token-secret', secretFile]);
    servers.push(s);
    await s.waitLog(/relay ready pid=/);
  });
  const bearer = (t) => ({ Authorization: `Bearer ${t}` });

  test('no token, a bad one, an expired one: 401 with WWW-Authenticate: Bearer', async () => {
    await setup();
    const cases = {
      missing: {},
      'not bearer': { Authorization: `Basic ${Buffer.from('a:b').toString('base64')}` },
      garbage: bearer('not.a.token'),
      forged: bearer(signJwt({ room: 'tk', sub: 'x', can: ['publish'], exp: now() + 600 }, { secret: 'another-secret-0123456789abcdef' })),
      expired: bearer(token({ exp: now() - 3600 })),
    };
    for (const [what, headers] of Object.entries(cases)) {
      const r = await post(s, '/whip/tk', OFFER, headers);
      assert.equal(r.status, 401, `${what}: ${r.body}`);
      assert.match(r.headers.get('www-authenticate'), /^Bearer/);
      assertOneLine(r);
      assert.ok(!r.body.includes('eyJ'), 'the token is never echoed');
    }
    assert.deepEqual(s.logLines(/eyJ/), [], 'nor logged');
  });

  test('a token for another room, or without publish (WHIP) or subscribe (WHEP): 403', async () => {
    await setup();
    const other = await post(s, '/whip/tk', OFFER, bearer(token({ room: 'elsewhere' })));
    assert.equal(other.status, 403);
    assert.equal(other.body, 'your token does not admit you to room "tk"\n');
    const noPublish = await post(s, '/whip/tk', OFFER, bearer(token({ can: ['subscribe'] })));
    assert.equal(noPublish.status, 403);
    assert.match(noPublish.body, /does not allow publish/);
    const noSubscribe = await post(s, '/whep/tk', RECV_OFFER, bearer(token({ can: ['publish'] })));
    assert.equal(noSubscribe.status, 403);
    assert.match(noSubscribe.body, /does not allow subscribe/);
  });

  test('a good token: 201, the token\'s identity is the nickname; ICE servers on OPTIONS only with a token', async () => {
    await setup();
    const r = await post(s, '/whip/tk', OFFER, bearer(token()));
    assert.equal(r.status, 201, r.body);
    await joinedId(s, 'tk', 'studio');
    const w = await post(s, '/whep/tk/studio', RECV_OFFER, bearer(token({ sub: 'viewer', can: ['subscribe'] })));
    assert.equal(w.status, 201, w.body);
    const pre = await http(s, '/whip/tk', { method: 'OPTIONS' });
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('link'), null);
    const withToken = await http(s, '/whip/tk', { method: 'OPTIONS', headers: bearer(token()) });
    assert.equal(withToken.status, 204);
    assert.match(withToken.headers.get('link'), /credential-type="password"/);
    for (const x of [r, w])
      assert.equal((await http(s, x.headers.get('location'), { method: 'DELETE' })).status, 200);
  });
});

describe('the real relay', () => {
  let real;
  const setup = lazy(async () => {
    real = await startServer(['--sfu', '--relay', NOOM_RELAY]);
    servers.push(real);
    await real.waitLog(/relay ready pid=/, 1, 15000);
  });

  test('WHIP: 201 with an answer that carries the relay\'s candidates', needsWhipRelay, async () => {
    await setup();
    const r = await post(real, '/whip/real');
    assert.equal(r.status, 201, r.body);
    assert.match(r.body, /^v=0\r\n/);
    assert.match(r.body, /\r\na=candidate:/);
    assert.match(r.body, /\r\nm=audio /);
    assert.match(r.body, /\r\nm=video /);
    const d = await http(real, r.headers.get('location'), { method: 'DELETE' });
    assert.equal(d.status, 200);
  });

  // A WHEP player gets the tracks its publisher has started (the relay waits
  // a few seconds for them); this publisher never connects, so it has none.
  // Media that flows is tested with real clients (tests/relay/whip-e2e.py,
  // tests/browser/whip.test.mjs).
  test('WHEP of a publisher whose media never starts: 409, saying so', needsWhipRelay, async () => {
    await setup();
    const pub = await post(real, '/whip/real2?nickname=cam');
    assert.equal(pub.status, 201, pub.body);
    const r = await post(real, '/whep/real2/cam', RECV_OFFER);
    assert.equal(r.status, 409, r.body);
    assert.match(r.body, /sends no audio or video/);
    assertOneLine(r);
    assert.equal((await http(real, pub.headers.get('location'), { method: 'DELETE' })).status, 200);
  });

  test('WHIP with an offer the relay cannot carry (PCMU audio, VP9 video): 406 naming them', needsWhipRelay, async () => {
    await setup();
    const other = OFFER.replace(/opus\/48000\/2/, 'PCMU/8000').replaceAll('VP8/90000', 'VP9/90000');
    const r = await post(real, '/whip/real3', other);
    assert.equal(r.status, 406, r.body);
    assert.match(r.body, /PCMU/);
    assert.match(r.body, /VP9/);
    assertOneLine(r);
  });
});
