// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-ingest against a real room: a generated file reaches a browser page
// and a noomsrc (noom-record), in real time; --loop goes past the end;
// --passthrough does not transcode; source errors are retried with backoff.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Server, Proc, env, probeFile, tmpDir, listFiles, until, delay, haveBrowser, mintToken, makeCertificate } from './lib.mjs';

const work = tmpDir('noom-ingest-');

// A VP8 + Opus Matroska file of `seconds`, made with gst-launch, with a
// keyframe every half second: --passthrough cannot ask the file for one
// when a participant connects.
async function makeClip(name, seconds) {
  const file = path.join(work, name);
  const p = new Proc('gst-launch-1.0', ['-q',
    'videotestsrc', `num-buffers=${seconds * 20}`, 'pattern=smpte', '!',
    'video/x-raw,width=320,height=240,framerate=20/1', '!', 'vp8enc', 'deadline=1', 'keyframe-max-dist=10', '!', 'queue', '!', 'matroskamux', 'name=m', '!', 'filesink', `location=${file}`,
    'audiotestsrc', `num-buffers=${Math.round(seconds * 48000 / 1024)}`, '!', 'audio/x-raw,rate=48000', '!', 'opusenc', '!', 'queue', '!', 'm.']);
  assert.equal((await p.wait(60000)).code, 0, p.out);
  return file;
}

function ingest(args, extraEnv = {}) {
  return new Proc(env('NOOM_INGEST'), args, { env: { ...process.env, ...extraEnv } });
}

async function recorder(server, room, dir) {
  const rec = new Proc(env('NOOM_RECORD'), ['-v', '-o', dir, server.uri(room)]);
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');
  return rec;
}

async function stopRecorder(rec) {
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
}

test('a file reaches a browser page and a noomsrc, paced in real time, and the ingest leaves at its end', async (t) => {
  const clip = await makeClip('clip4.mkv', 4);
  const server = await new Server().start();
  t.after(() => server.stop());
  const room = 'ingest-file';
  const dir = tmpDir('noom-ingest-rec-');
  const rec = await recorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));

  let page;
  if (await haveBrowser()) {
    const h = await import('../browser/harness.mjs');
    const browser = await h.launchBrowser();
    t.after(() => browser.close());
    page = await h.openPage(browser, `http://127.0.0.1:${server.port}/`);
    await h.join(page, room, 'viewer');
    await server.waitJoin((e) => e.nickname === 'viewer', 'the page');
    page.h = h;
  }

  const started = Date.now();
  const ing = ingest([clip, server.uri(room, '?nickname=movie')]);
  t.after(() => ing.kill('SIGKILL'));
  const j = await server.waitJoin((e) => e.nickname === 'movie', 'the ingest')
    .catch((e) => { throw new Error(`${e.message}\nnoom-ingest:\n${ing.out}`); });
  assert.equal(j.kind, 'publisher');
  if (page) {
    // the page decodes the file's video and hears its audio
    await page.h.receivesFrom(page, [j.id], { timeout: 20000 });
  }
  assert.equal((await ing.wait(30000)).code, 0, ing.out);
  const wall = (Date.now() - started) / 1000;
  await server.waitLeave(j.id);
  const presence = server.presence(j.id);
  t.diagnostic(`4 s file: ingest ran ${wall} s, present ${presence} s`);
  // real time: not faster than the file (a file read as fast as possible
  // would be gone in well under a second)
  assert.ok(wall >= 3.8 && presence >= 3.5, `ran ${wall} s, present ${presence} s`);
  assert.ok(wall < 15, `ran ${wall} s`);

  await rec.waitOutput(/movie left: /, 'the recording of the ingest finished');
  await stopRecorder(rec);
  const [file] = listFiles(path.join(dir, room));
  const info = await probeFile(file);
  t.diagnostic(`noomsrc got ${info.videoFrames} frames, ${info.duration} s`);
  assert.ok(info.decoded && info.videoFrames >= 20 && info.audioBuffers > 0, JSON.stringify(info));
});

test('--loop keeps going past the end of the file, SIGINT leaves the room and exits 0', async (t) => {
  const clip = await makeClip('clip2.mkv', 2);
  const server = await new Server().start();
  t.after(() => server.stop());
  const room = 'ingest-loop';
  const dir = tmpDir('noom-ingest-rec-');
  const rec = await recorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));
  const ing = ingest(['--loop', clip, server.uri(room, '?nickname=looper')]);
  t.after(() => ing.kill('SIGKILL'));
  const j = await server.waitJoin((e) => e.nickname === 'looper', 'the ingest');
  await rec.waitOutput(/looper joined: /, 'the recording of the ingest');
  const began = Date.now();
  await delay(9000);
  assert.ok(ing.running, `still running after 4 times the file: ${ing.out}`);
  assert.ok(!server.events.find((e) => e.what === 'leave' && e.id === j.id));
  ing.kill('SIGINT');
  assert.equal((await ing.wait(15000)).code, 0, ing.out);
  const left = await server.waitLeave(j.id);
  assert.ok(left);
  assert.match(ing.out, /done \([4-9] loops/);
  await rec.waitOutput(/looper left: /, 'the recording finished');
  await stopRecorder(rec);
  const [file] = listFiles(path.join(dir, room));
  const info = await probeFile(file);
  const recorded = (Date.now() - began) / 1000;
  t.diagnostic(`2 s file looped: recorded ${info.duration} s (${info.videoFrames} frames) in about ${recorded} s`);
  // media, not only presence, went on past the end of the file
  assert.ok(info.duration > 7 && info.videoFrames > 7 * 15, JSON.stringify(info));
});

test('--passthrough sends the file\'s VP8 and Opus without an encoder', async (t) => {
  const clip = await makeClip('clip3.mkv', 3);
  const server = await new Server().start();
  t.after(() => server.stop());
  const room = 'ingest-pass';
  const dir = tmpDir('noom-ingest-rec-');
  const rec = await recorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));
  const ing = ingest(['--passthrough', clip, server.uri(room, '?nickname=raw')],
    { GST_DEBUG: 'GST_ELEMENT_FACTORY:4', GST_DEBUG_NO_COLOR: '1' });
  t.after(() => ing.kill('SIGKILL'));
  assert.equal((await ing.wait(30000)).code, 0, ing.out.slice(-3000));
  const created = [...ing.out.matchAll(/creating element "([^"]+)"/g)].map((m) => m[1]);
  assert.ok(created.includes('noomsink') && created.includes('matroskademux'), created.join(' '));
  for (const transcoder of ['vp8dec', 'vp8enc', 'opusdec', 'opusenc'])
    assert.ok(!created.includes(transcoder), `${transcoder} was made: ${created.join(' ')}`);
  await rec.waitOutput(/raw left: /, 'the recording finished');
  await stopRecorder(rec);
  const [file] = listFiles(path.join(dir, room));
  const info = await probeFile(file);
  assert.ok(info.decoded && info.videoFrames >= 15 && info.audioBuffers > 0, JSON.stringify(info));
});

test('a source that fails is retried with a growing delay, then given up with --retries', async () => {
  const ing = ingest(['--retries', '3', 'http://127.0.0.1:1/live.mkv', 'noom://127.0.0.1:1/room']);
  const seen = [];
  const start = Date.now();
  await until(() => {
    const m = [...ing.out.matchAll(/retrying in ([\d.]+) s/g)];
    while (seen.length < m.length)
      seen.push({ delay: Number(m[seen.length][1]), t: Date.now() - start });
    return !ing.running;
  }, (done) => done, 'noom-ingest giving up', 30000, 20);
  const { code } = await ing.wait(5000);
  assert.equal(code, 1, ing.out);
  assert.deepEqual(seen.map((s) => s.delay), [0.5, 1, 2], ing.out);
  // each attempt waited its delay
  for (let i = 1; i < seen.length; i++)
    assert.ok(seen[i].t - seen[i - 1].t >= seen[i - 1].delay * 1000 - 100, JSON.stringify(seen));
  assert.match(ing.out, /giving up after 4 attempts/);
});

test('bad arguments: a clear error, no crash', async () => {
  for (const [args, code, re] of [
    [[], 2, /expected SOURCE and a room URI/],
    [['/nonexistent/file.mkv', 'noom://127.0.0.1:1/r'], 1, /no such file/],
    [[path.join(work, 'x'), 'http://host/room'], 1, /no such file/],
    // swapped: a hint with the right order
    [['noom://127.0.0.1:1/r', 'film.mp4'], 2, /did you mean noom-ingest film\.mp4 noom:\/\/127\.0\.0\.1:1\/r\?/],
  ]) {
    const p = ingest(args);
    const r = await p.wait(10000);
    assert.equal(r.code, code, p.out);
    assert.match(p.out, re);
  }
  const clip = await makeClip('clip1.mkv', 1);
  const p = ingest([clip, 'http://host/room']);
  assert.equal((await p.wait(10000)).code, 2, p.out);
  assert.match(p.out, /http:\/\/host\/room/);
});

test('progress on a terminal: position in the file, duration and the loop number', async (t) => {
  const clip = await makeClip('clip2p.mkv', 2);
  const server = await new Server().start();
  t.after(() => server.stop());
  // script(1) gives noom-ingest a terminal
  const p = new Proc('script', ['-qfc', `${env('NOOM_INGEST')} --loop ${clip} ${server.uri('ingest-tty')}`, '/dev/null']);
  t.after(() => p.kill('SIGKILL'));
  // the loop number from the first pass, and the position in the file
  await p.waitOutput(/▶ file:\/\/\S+clip2p\.mkv {2}00:00:0[0-9] \/ 00:00:02 {2}loop 1(?!\d)/, 'the progress line of the first loop', 30000);
  await p.waitOutput(/▶ file:\/\/\S+clip2p\.mkv {2}00:00:0[0-9] \/ 00:00:02 {2}loop [3-9]/, 'the progress line of a third loop', 30000);
  // within a loop the position never goes back, and it never passes the
  // file's end
  const seen = [...p.out.matchAll(/(\d\d):(\d\d):(\d\d) \/ 00:00:02 {2}loop (\d+)/g)]
    .map((m) => ({ pos: Number(m[1]) * 3600 + Number(m[2]) * 60 + Number(m[3]), loop: Number(m[4]) }));
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i].loop >= seen[i - 1].loop, JSON.stringify(seen));
    if (seen[i].loop === seen[i - 1].loop)
      assert.ok(seen[i].pos >= seen[i - 1].pos, JSON.stringify(seen));
    assert.ok(seen[i].pos <= 2, JSON.stringify(seen));
  }
});

test('--version, a token from --token-file, and nooms:// saying what is wrong with the certificate', async (t) => {
  const v = ingest(['--version']);
  assert.equal((await v.wait(10000)).code, 0, v.out);
  assert.match(v.out, /^noom-ingest \d+\.\d+/);

  const clip = await makeClip('token.mkv', 2);
  const secret = path.join(work, 'secret');
  fs.writeFileSync(secret, 'a secret of the room server, long enough to be one\n');
  const server = await new Server(0, ['--token-secret', secret]).start();
  t.after(() => server.stop());
  const tokenFile = path.join(work, 'token');
  fs.writeFileSync(tokenFile, `${await mintToken(secret, 'tok', 'publish')}\n`);
  const ing = ingest(['-q', '--token-file', tokenFile, clip, server.uri('tok')]);
  await server.waitJoin((e) => e.room === 'tok' && e.nickname === 'ingest', 'the ingest with --token-file');
  assert.equal((await ing.wait(30000)).code, 0, ing.out);

  const certs = await makeCertificate(work);
  if (!certs) {
    t.diagnostic('no openssl: nooms:// not tested');
    return;
  }
  const tls = await new Server(0, ['--tls-cert', certs.cert, '--tls-key', certs.key]).start();
  t.after(() => tls.stop());
  const bad = ingest(['-q', clip, tls.uri('tls').replace('noom://', 'nooms://')]);
  assert.equal((await bad.wait(30000)).code, 1, bad.out);
  assert.match(bad.out, /certificate .*self-signed/);
  assert.match(bad.out, /--accept-invalid-certificates/);
});
