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
//   - says {"op":"ready"} at start;
//   - logs every object it gets on stderr as `relay-stand-in: got <json>`
//     (noom-server passes its stderr through, so the tests read it there);
//   - join: sends the participant an offer whose description carries
//     `tracks` (its own upload m-lines for each kind it sends);
//   - answer: sends the participant a host candidate, or, when the answer's
//     sdp has no "VP8", an error unsupported_codec;
//   - stdin closed: exits 0 (noom-server's shutdown).
import { createInterface } from 'node:readline';

const log = (text) => process.stderr.write(`relay-stand-in: ${text}\n`);
const send = (o) => process.stdout.write(JSON.stringify(o) + '\n');

const OFFER_SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
const CANDIDATE = {
  candidate: 'candidate:1 1 UDP 2122252543 127.0.0.1 40000 typ host',
  sdpMid: '0', sdpMLineIndex: 0,
};

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  log(`got ${line}`);
  let m;
  try { m = JSON.parse(line); } catch { log('not JSON, skipped'); return; }
  switch (m.op) {
    case 'join': {
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
    default:
      break;
  }
});
lines.on('close', () => { log('stdin closed, exiting'); process.exit(0); });
send({ op: 'ready' });
