// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Every example in examples/ run as docs/examples.md says, against a real
// noom-server, each bounded (num-buffers, or a participant leaving) and
// checked by what it produced: a picture, a file, a participant in the room.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Server, Proc, env, publisher, probeFile, tmpDir, listFiles, until } from './lib.mjs';

const examples = () => env('NOOM_EXAMPLES');
const work = tmpDir('noom-examples-');
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function example(name, args, extraEnv = {}) {
  return new Proc('sh', [path.join(examples(), name), ...args],
    { env: { ...process.env, ...extraEnv } });
}

function assertPng(file) {
  assert.ok(fs.existsSync(file), `${file} was not written`);
  const data = fs.readFileSync(file);
  assert.ok(data.length > 1000 && data.subarray(0, 8).equals(PNG), `${file} is not a PNG picture (${data.length} bytes)`);
}

async function withServer(t) {
  const server = await new Server().start();
  t.after(() => server.stop());
  return server;
}

test('publish-test-source.sh publishes, and the C example noom-snapshot takes a picture of it', async (t) => {
  const server = await withServer(t);
  const uri = server.uri('ex-publish');
  const png = path.join(work, 'pub.png');
  const snap = new Proc(env('NOOM_SNAPSHOT'), [uri, 'pub', png], { env: { ...process.env, NOOM_SNAPSHOT_TIMEOUT: '40' } });
  t.after(() => snap.kill('SIGKILL'));
  await server.waitJoin((e) => e.nickname === 'snapshot', 'noom-snapshot');
  const pub = example('publish-test-source.sh', [uri, 'pub'], { NUM_BUFFERS: '240' });
  t.after(() => pub.kill('SIGKILL'));
  const j = await server.waitJoin((e) => e.nickname === 'pub', 'the publisher');
  assert.equal(j.kind, 'publisher');
  assert.equal((await snap.wait(45000)).code, 0, snap.out);
  assert.match(snap.out, new RegExp(`taking a picture of pub \\(${j.id}\\)`));
  assertPng(png);
  // NUM_BUFFERS ends it: it leaves the room and exits 0
  assert.equal((await pub.wait(30000)).code, 0, pub.out);
  await server.waitLeave(j.id);
});

test('publish-camera.sh (sources replaced by test sources) watched by watch-participant.sh', async (t) => {
  const server = await withServer(t);
  const uri = server.uri('ex-watch');
  const png = path.join(work, 'watch.png');
  const watch = example('watch-participant.sh', [uri, 'cam'], {
    VIDEO_SINK: `pngenc snapshot=true ! filesink location=${png}`,
    AUDIO_SINK: 'fakesink',
  });
  t.after(() => watch.kill('SIGKILL'));
  await server.waitJoin((e) => e.nickname === 'watcher', 'the watcher');
  const cam = example('publish-camera.sh', [uri, 'cam'], {
    VIDEO_SRC: 'videotestsrc is-live=true num-buffers=150',
    AUDIO_SRC: 'audiotestsrc is-live=true num-buffers=250',
  });
  t.after(() => cam.kill('SIGKILL'));
  const j = await server.waitJoin((e) => e.nickname === 'cam', 'the camera');
  assert.equal((await cam.wait(30000)).code, 0, cam.out);
  await server.waitLeave(j.id);
  // the watcher saw a frame and ends when the participant left
  await until(() => fs.existsSync(png) && fs.statSync(png).size > 1000, (ok) => ok, 'the watcher\'s picture', 20000);
  assertPng(png);
  const r = await watch.wait(20000);
  assert.equal(r.code, 0, watch.out);
});

test('record-participant.sh writes a playable file of one participant, without transcoding', async (t) => {
  const server = await withServer(t);
  const uri = server.uri('ex-record');
  const out = path.join(work, 'one.mkv');
  const rec = example('record-participant.sh', [uri, 'fay', out]);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.nickname === 'recorder', 'the recording pipeline');
  // someone else in the room is not recorded
  const other = publisher(server.uri('ex-record', '?nickname=gus'));
  t.after(() => other.kill('SIGKILL'));
  const fay = publisher(server.uri('ex-record', '?nickname=fay'));
  t.after(() => fay.kill('SIGKILL'));
  const j = await server.waitJoin((e) => e.nickname === 'fay', 'fay');
  await until(() => fs.existsSync(out) && fs.statSync(out).size > 50000, (ok) => ok, 'data in the file', 30000);
  fay.kill('SIGINT');
  assert.equal((await fay.wait(15000)).code, 0, fay.out);
  await server.waitLeave(j.id);
  // fay left: the recording ends by itself
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
  const info = await probeFile(out);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  assert.deepEqual(info.video, ['video/x-vp8']);
  assert.deepEqual(info.audio, ['audio/x-opus']);
  assert.ok(info.videoFrames > 10 && info.tags.title.includes('fay'), JSON.stringify(info));
});

test('ingest-file.sh publishes a file in real time', async (t) => {
  const clip = path.join(work, 'clip.mkv');
  const mk = new Proc('gst-launch-1.0', ['-q',
    'videotestsrc', 'num-buffers=60', '!', 'video/x-raw,width=320,height=240,framerate=20/1', '!', 'vp8enc', 'deadline=1', '!', 'queue', '!',
    'matroskamux', 'name=m', '!', 'filesink', `location=${clip}`,
    'audiotestsrc', 'num-buffers=140', '!', 'audio/x-raw,rate=48000', '!', 'opusenc', '!', 'queue', '!', 'm.']);
  assert.equal((await mk.wait(30000)).code, 0, mk.out);
  const server = await withServer(t);
  const dir = tmpDir('noom-examples-rec-');
  const rec = new Proc(env('NOOM_RECORD'), ['-v', '-o', dir, server.uri('ex-ingest')]);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.nickname === 'recorder', 'the recorder');
  const started = Date.now();
  const ing = example('ingest-file.sh', [clip, server.uri('ex-ingest'), 'film']);
  t.after(() => ing.kill('SIGKILL'));
  const j = await server.waitJoin((e) => e.nickname === 'film', 'the ingest');
  assert.equal((await ing.wait(30000)).code, 0, ing.out);
  const wall = (Date.now() - started) / 1000;
  await server.waitLeave(j.id);
  t.diagnostic(`3 s file published in ${wall} s`);
  assert.ok(wall >= 2.8, `a 3 s file took ${wall} s: not real time`);
  await rec.waitOutput(/film left: /, 'the recording of the ingest');
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
  const [file] = listFiles(path.join(dir, 'ex-ingest'));
  const info = await probeFile(file);
  assert.ok(info.decoded && info.videoFrames > 10, JSON.stringify(info));
});

test('two-in-one-room.sh: a publisher and a viewer of it in one process', async (t) => {
  const server = await withServer(t);
  const uri = server.uri('ex-two');
  const png = path.join(work, 'two.png');
  const two = example('two-in-one-room.sh', [uri], {
    NUM_BUFFERS: '150',
    VIDEO_SINK: `pngenc snapshot=true ! filesink location=${png}`,
  });
  t.after(() => two.kill('SIGKILL'));
  const left = await server.waitJoin((e) => e.nickname === 'left', 'left');
  const right = await server.waitJoin((e) => e.nickname === 'right', 'right');
  assert.equal(left.kind, 'publisher');
  assert.equal(right.kind, 'subscriber');
  assert.equal((await two.wait(40000)).code, 0, two.out);
  assertPng(png);
});

// The process exits right after the error, while the DTLS certificate may
// still be in the making in the background: the elements wait for it on
// their way to NULL, or OpenSSL's exit handlers crash under it (7 runs in
// 10 did before).
test('the C example, given a server nobody runs: the error and exit 1, never a crash', async () => {
  for (let i = 0; i < 5; i++) {
    const p = new Proc(env('NOOM_SNAPSHOT'), ['noom://127.0.0.1:1/nobody', 'somebody', path.join(work, 'none.png')]);
    const { code } = await p.wait(15000);
    assert.equal(code, 1, `run ${i + 1}: ${p.out}`);
    assert.match(p.out, /Could not reach the Noom server at http:\/\/127\.0\.0\.1:1/);
  }
});

test('the C example refuses what is not a room URI', async () => {
  const p = new Proc(env('NOOM_SNAPSHOT'), ['http://example.com/', '', path.join(work, 'x.png')]);
  assert.equal((await p.wait(10000)).code, 2, p.out);
  assert.match(p.out, /not a room URI/);
});

test('docs/examples.md in meson devenv: the scripts and noom-snapshot run by name from any directory', async () => {
  // devenv's shell starts in the build directory: nothing may depend on
  // where it is
  const p = new Proc('meson', ['devenv', '-C', env('NOOM_BUILD_ROOT'), 'sh', '-c',
    'cd / && for c in noom-server noom-snapshot publish-test-source.sh watch-participant.sh record-participant.sh ingest-file.sh two-in-one-room.sh publish-camera.sh chat-bot.py; do command -v $c || echo "missing $c"; done; ls "$NOOM_EXAMPLES/publish-test-source.sh"']);
  const { code } = await p.wait(30000);
  assert.equal(code, 0, p.out);
  assert.doesNotMatch(p.out, /missing/, p.out);
});
