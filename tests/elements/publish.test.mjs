// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// docs/protocol.md §7 "What a participant may send", in the elements: a
// modified client (a Chromium page, see openMallory) announces less than
// it offers, behind noom-server-lax (a test build that relays every
// description, as an older server would).  noomsrc exposes no pad for a
// kind the sender did not announce, and its answer refuses that kind so
// none of it is even sent.

import { test, before, after } from 'node:test';
import { once } from 'node:events';
import assert from 'node:assert/strict';
import {
  Server, launchBrowser, Pipeline, openMallory, until,
} from '../browser/harness.mjs';

let server, browser;

before(async () => {
  // the pipelines' log says which pads noomsrc exposes
  process.env.GST_DEBUG = 'noomsrc:4';
  assert.ok(process.env.NOOM_SERVER_LAX, 'NOOM_SERVER_LAX is not set');
  server = await new Server([], { bin: process.env.NOOM_SERVER_LAX }).start();
  browser = await launchBrowser();
});

after(async () => {
  if (browser)
    await browser.close();
  if (server)
    await server.stop();
});

// noomsrc says which pads it exposes at GST_DEBUG=noomsrc:4; one branch
// (the first pad): a branch waiting for a pad that never comes would keep
// the pipeline from playing.
function receiver(room) {
  const p = new Pipeline([
    'noomsrc', 'name=s', `uri=noom://127.0.0.1:${server.port}/${room}?nickname=rx`,
    '!', 'queue', '!', 'fakesink', 'name=out0', 'silent=false', 'sync=false',
  ]);
  return p;
}

// With a pad that is never linked, -e's EOS could wait for ever: end the
// process instead.
async function stop(pipeline) {
  if (pipeline.proc.exitCode !== null || pipeline.proc.signalCode !== null)
    return;
  const exited = once(pipeline.proc, 'exit');
  pipeline.proc.kill('SIGTERM');
  await exited;
}

// Mallory's connection to noomsrc: whether the answer came, the
// negotiated direction of each of her transceivers (what noomsrc's answer
// accepted) and the RTP packets she sent of each kind.
function malloryStats(page) {
  return page.evaluate(async () => {
    const [pc] = window.mallory.pcs.values();
    const r = { answered: !!pc?.remoteDescription, dirs: {}, audio: 0, video: 0 };
    if (pc) {
      for (const t of pc.getTransceivers())
        r.dirs[t.sender.track.kind] = t.currentDirection;
      (await pc.getStats()).forEach((s) => {
        if (s.type === 'outbound-rtp')
          r[s.kind] += s.packetsSent || 0;
      });
    }
    return r;
  });
}

test('noomsrc takes only the audio a participant that announced only audio sends', async () => {
  const mallory = await openMallory(browser, server, 'half', ['audio']);
  const pipeline = receiver('half');
  try {
    // Her audio is taken and decoded: the connection carries media...
    await until(async () => ({
      audio: pipeline.count(/exposing audio_0: audio of mallory/),
      chains: pipeline.count(/last-message = chain/),
    }), (s) => s.audio > 0 && s.chains > 50, 'decoded audio from mallory', 40000)
      .catch((e) => { throw new Error(`${e.message}\n${pipeline.output.slice(-3000)}`); });
    // ...her video was refused by the answer (so not even sent), no pad.
    const sent = await malloryStats(mallory);
    assert.deepEqual(sent.dirs, { audio: 'sendonly', video: 'inactive' });
    assert.ok(sent.audio > 0);
    assert.equal(sent.video, 0, 'mallory sent video');
    assert.equal(pipeline.count(/exposing video_/), 0, 'noomsrc exposed her video');
  } finally {
    await stop(pipeline);
    await mallory.context().close();
  }
});

test('noomsrc takes nothing from a participant that announced nothing', async () => {
  // §7: two participants that send nothing make no connection; she
  // offers anyway, and noomsrc answers refusing all of it.
  const mallory = await openMallory(browser, server, 'none', []);
  const pipeline = receiver('none');
  try {
    const sent = await until(() => malloryStats(mallory), (r) => r.answered,
      'noomsrc answers mallory', 40000)
      .catch((e) => { throw new Error(`${e.message}\n${pipeline.output.slice(-3000)}`); });
    assert.deepEqual(sent.dirs, { audio: 'inactive', video: 'inactive' });
    assert.deepEqual([sent.audio, sent.video], [0, 0], 'mallory sent media');
    assert.equal(pipeline.count(/exposing/), 0, 'noomsrc exposed her media');
  } finally {
    await stop(pipeline);
    await mallory.context().close();
  }
});
