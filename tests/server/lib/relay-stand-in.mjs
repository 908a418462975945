// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A scripted stand-in for noom-relay (tools/relay/, the GStreamer media
// relay of `noom-server --sfu`): it speaks the control channel of
// docs/server-internals.md ("The media relay") on stdin/stdout and forwards
// no media.  Started by noom-server as `node relay-stand-in.mjs`
// (--relay node --relay-arg .../relay-stand-in.mjs).
//
// tests/server/sfu.test.mjs uses the real relay wherever it can (its
// offers, and the process: kill -9, shutdown, the server killed).  This
// stand-in is only for the tests that must see exactly what the server
// writes on the control channel (join, update, leave, answer, ice,
// offer_failed: the real relay does not log its input) or make the relay
// answer on cue (a candidate, an unsupported_codec error for a fake
// answer the real relay would refuse as SDP).
//
// What it does:
//   - says {"op":"ready"} at start, then {"op":"stats"} with fixed counts;
//   - logs every object it gets on stderr as `relay-stand-in: got <json>`
//     (noom-server passes its stderr through, so the tests read it there);
//   - join: sends the participant an offer whose description carries
//     `tracks` (its own upload m-lines for each kind it sends);
//   - answer: sends the participant a host candidate, or, when the answer's
//     sdp has no "VP8", an error unsupported_codec;
//   - join with `offer` (a WHIP or WHEP participant, issue 16): answers it
//     with {"op":"answer"} whose sdp is ANSWER_SDP, or, when the offer has
//     a line "a=x-stand-in-error:CODE", with {"op":"error"} CODE; with
//     "a=x-stand-in-silent", says nothing; with "a=x-stand-in-gone", answers
//     and then says {"op":"gone"};
//   - restart: answers {"op":"restarted"} with new credentials and one
//     candidate, or an error restart_unsupported when its ufrag is
//     "nore", or nothing when it is "hold";
//   - stdin closed: exits 0 (noom-server's shutdown).
import { createInterface } from 'node:readline';

const log = (text) => process.stderr.write(`relay-stand-in: ${text}\n`);
const send = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const OFFER_SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const CANDIDATE = {
  candidate: 'candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host',
  sdpMid: '0', sdpMLineIndex: 0,
};

const ANSWER_SDP = 'v=0\r\no=- 5 6 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n' +
  'a=group:BUNDLE 0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:0\r\n' +
  'a=ice-ufrag:rlay\r\na=ice-pwd:relaypassword0123456789\r\na=recvonly\r\n' +
  'a=candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host\r\n';

function whipJoin(m) {
  const to = m.participant.id;
  const error = /a=x-stand-in-error:(\S+)/.exec(m.offer);
  if (/a=x-stand-in-silent/.test(m.offer))
    return;
  if (error) {
    send({ op: 'error', room: m.room, to, code: error[1],
           message: `the stand-in refuses this offer (${error[1]})` });
    return;
  }
  send({ op: 'answer', room: m.room, to, description: { type: 'answer', sdp: ANSWER_SDP } });
  if (/a=x-stand-in-gone/.test(m.offer))
    send({ op: 'gone', room: m.room, to, reason: 'ICE failed' });
}

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  log(`got ${line}`);
  let m;
  try { m = JSON.parse(line); } catch { log('not JSON, skipped'); return; }
  switch (m.op) {
    case 'join': {
      if (typeof m.offer === 'string') {
        whipJoin(m);
        break;
      }
      const p = m.participant;
      const tracks = p.sends.map((kind, i) => ({ mid: String(i), kind, id: p.id, upload: true }));
      send({ op: 'offer', room: m.room, to: p.id,
             description: { type: 'offer', sdp: OFFER_SDP, tracks } });
      break;
    }
    case 'answer':
      if (/VP8/.test(m.description.sdp))
        send({ op: 'ice', room: m.room, to: m.from, candidate: CANDIDATE });
      else
        send({ op: 'error', room: m.room, to: m.from, code: 'unsupported_codec',
               message: 'your answer has no codec the relay can carry (VP8)' });
      break;
    case 'restart':
      if (m.ufrag === 'hold')
        break;
      if (m.ufrag === 'nore')
        send({ op: 'error', room: m.room, to: m.from, code: 'restart_unsupported',
               message: 'the stand-in does not restart this one' });
      else
        send({ op: 'restarted', room: m.room, to: m.from, ufrag: 'rly2',
               pwd: 'relaypassword9876543210',
               candidates: ['candidate:2 1 UDP 2122252543 127.0.0.1 40002 typ host'] });
      break;
    default:
      break;
  }
});
lines.on('close', () => { log('stdin closed, exiting'); process.exit(0); });
send({ op: 'ready' });
// what a relay that forwarded a little says every 2 s: the same counts
// from each process, so a restart shows in the server's totals
send({ op: 'stats', tracks: 1, branches: 2, bytes_in: 1000, packets_in: 10,
       bytes_out: 2000, packets_out: 20, keyframe_requests: 3, packets_lost: 1,
       nacked_packets: 5, nacks_received: 6, keyframe_requests_received: 7,
       links: [{ room: 'stand-in', id: 'sub', nacks: 4, keyframe_requests: 2, layers: [] }] });
