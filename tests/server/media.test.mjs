// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The server holds offers and answers to the sender's `sends`
// (docs/protocol.md §7, "What a participant may send"): a description
// whose m-sections send media the sender did not announce (or, with
// tokens, may not publish) is refused with `forbidden` and relayed to no
// one.  A modified client is played here by a raw socket.io-client.
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SERVER, startServer, connect, take, ack, sync, pending, closeAll,
  test, describe,
} from './lib/server.mjs';

const dir = mkdtempSync(join(tmpdir(), 'noom-media-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, 'media-secret-0123456789abcdef\n');

function mint(identity, can) {
  return new Promise((resolve, reject) => {
    execFile(SERVER, ['token', '--secret', secretFile, '--room', 'stage',
      '--identity', identity, '--can', can, '--ttl', '600'],
    (err, stdout, stderr) => {
      if (err) reject(Object.assign(err, { stderr }));
      else resolve(stdout.trim());
    });
  });
}

// A description with one m-section per [kind, direction]; direction null:
// no attribute (sendrecv).
function sdp(type, sections, { port = 9 } = {}) {
  let text = 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n';
  sections.forEach(([kind, dir], i) => {
    const pt = kind === 'audio' ? '111' : '96';
    text += `m=${kind} ${port} UDP/TLS/RTP/SAVPF ${pt}\r\nc=IN IP4 0.0.0.0\r\n` +
      `a=mid:${i}\r\n` + (dir ? `a=${dir}\r\n` : '');
  });
  return { type, sdp: text };
}

let server;      // with --token-secret
let open;        // without
before(async () => {
  server = await startServer(['--token-secret', secretFile]);
  open = await startServer();
});
after(async () => {
  await server.stop();
  await open.stop();
  rmSync(dir, { recursive: true, force: true });
});

// Nothing was relayed to @to: every event the server queued has arrived.
async function nothingRelayed(from, to) {
  await sync(from);
  await sync(to);
  assert.deepEqual(pending(to, 'offer', 'answer'), [], 'a refused description was relayed');
}

describe('subscribe-only token', () => {
  test('a sendrecv offer is refused with forbidden and never relayed', async () => {
    const pub = await connect(server.url, { auth: { token: await mint('pub', 'publish,subscribe') } });
    const viewer = await connect(server.url, { auth: { token: await mint('viewer', 'subscribe') } });
    try {
      assert.equal((await ack(pub, 'enter_room', 'stage')).ok, true);
      const j = await ack(viewer, 'enter_room', 'stage', { sends: [] });
      assert.equal(j.ok, true, JSON.stringify(j));
      assert.deepEqual(j.self.sends, []);
      await take(pub, 'welcome');

      const before = server.logLines(/event="offer" code=forbidden/).length;
      const bad = sdp('offer', [['audio', 'sendrecv'], ['video', 'sendrecv']]);
      const r = await ack(viewer, 'offer', bad, 'stage', pub.id);
      assert.equal(r.error?.code, 'forbidden', JSON.stringify(r));
      assert.match(r.error.message, /publish/);
      assert.match(r.error.message, /audio and video/);
      await server.waitLog(/event="offer" code=forbidden/, before + 1);

      // Without an ack: noom_error.  Without `to` (to the whole room): the same.
      viewer.emit('offer', bad, 'stage', pub.id);
      let [e] = await take(viewer, 'noom_error');
      assert.deepEqual([e.code, e.event], ['forbidden', 'offer']);
      viewer.emit('offer', sdp('offer', [['video', null]]), 'stage');
      [e] = await take(viewer, 'noom_error');
      assert.equal(e.code, 'forbidden');
      assert.match(e.message, /sends video/);
      // One kind sending is enough.
      const r2 = await ack(viewer, 'offer',
        sdp('offer', [['audio', 'recvonly'], ['video', 'sendonly']]), 'stage', pub.id);
      assert.equal(r2.error?.code, 'forbidden');
      // An answer too.
      const a = await ack(viewer, 'answer', sdp('answer', [['video', 'sendrecv']]), 'stage', pub.id);
      assert.equal(a.error?.code, 'forbidden');
      await nothingRelayed(viewer, pub);

      // What §7 makes it send is relayed: recvonly, inactive, rejected.
      const ok = sdp('offer', [['audio', 'recvonly'], ['video', 'inactive']]);
      assert.equal((await ack(viewer, 'offer', ok, 'stage', pub.id)).ok, true);
      assert.deepEqual((await take(pub, 'offer'))[0], ok);
      const rejected = sdp('answer', [['video', 'sendrecv']], { port: 0 });
      assert.equal((await ack(viewer, 'answer', rejected, 'stage', pub.id)).ok, true);
      await take(pub, 'answer');
      // The publisher may send what it announced.
      const av = sdp('offer', [['audio', 'sendrecv'], ['video', 'sendonly']]);
      assert.equal((await ack(pub, 'offer', av, 'stage', viewer.id)).ok, true);
      await take(viewer, 'offer');
    } finally {
      closeAll(pub, viewer);
    }
  });
});

describe('sends', () => {
  test('a participant that sends only video may not send audio', async () => {
    const a = await connect(open.url);
    const b = await connect(open.url);
    try {
      assert.equal((await ack(a, 'enter_room', 'cam', { sends: ['video'] })).ok, true);
      assert.equal((await ack(b, 'enter_room', 'cam', { kind: 'subscriber' })).ok, true);
      await take(a, 'welcome');
      let r = await ack(a, 'offer', sdp('offer', [['audio', null], ['video', 'sendonly']]), 'cam', b.id);
      assert.equal(r.error?.code, 'forbidden', JSON.stringify(r));
      assert.equal(r.error.message, 'this offer sends audio, which you did not announce (you send video)');
      // A subscriber (sends nothing) answering with media.
      r = await ack(b, 'answer', sdp('answer', [['video', 'sendrecv']]), 'cam', a.id);
      assert.equal(r.error?.code, 'forbidden');
      assert.equal(r.error.message, 'this answer sends video, which you did not announce (you send nothing)');
      await nothingRelayed(a, b);
      await nothingRelayed(b, a);

      const offer = sdp('offer', [['audio', 'recvonly'], ['video', 'sendonly']]);
      assert.equal((await ack(a, 'offer', offer, 'cam', b.id)).ok, true);
      assert.deepEqual((await take(b, 'offer'))[0], offer);
      const answer = sdp('answer', [['audio', 'inactive'], ['video', 'recvonly']]);
      assert.equal((await ack(b, 'answer', answer, 'cam', a.id)).ok, true);
      assert.deepEqual((await take(a, 'answer'))[0], answer);
    } finally {
      closeAll(a, b);
    }
  });

  test('an sdp receivers could read two ways is a bad argument', async () => {
    const a = await connect(open.url);
    const b = await connect(open.url);
    try {
      assert.equal((await ack(a, 'enter_room', 'cr', { sends: [] })).ok, true);
      assert.equal((await ack(b, 'enter_room', 'cr')).ok, true);
      const lone = { type: 'offer', sdp: 'v=0\r\nm=video 9 RTP/AVP 96\r\na=recvonly\rx\r\n' };
      const r = await ack(a, 'offer', lone, 'cr', b.id);
      assert.equal(r.error?.code, 'bad_argument', JSON.stringify(r));
      await nothingRelayed(a, b);
    } finally {
      closeAll(a, b);
    }
  });
});
