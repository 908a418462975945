// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-record against a real room: one file per participant and presence,
// durations as long as the participant was there, nicknames in the tags,
// SIGINT finishing the files, kill -9 leaving playable ones.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { scaled, TIME_SCALE } from '../wait.mjs';
import { Server, Proc, env, publisher, probeFile, tmpDir, listFiles, until, delay, haveBrowser, mintToken, makeCertificate } from './lib.mjs';

function record(server, room, dir, extra = []) {
  return new Proc(env('NOOM_RECORD'), ['-v', '-o', dir, ...extra, server.uri(room)]);
}

async function startRecorder(server, room, dir, extra) {
  const rec = record(server, room, dir, extra);
  const joined = await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');
  return { rec, joined };
}

// A file appears in dir (the participant's first track arrived).
async function waitFiles(dir, n, what, timeout = 30000) {
  return until(() => listFiles(dir).filter((f) => f.endsWith('.mkv')), (f) => f.length >= n, what, timeout);
}

async function stopPublisher(server, pub) {
  pub.kill('SIGINT');
  assert.equal((await pub.wait(15000)).code, 0, pub.out);
}

test('two participants, a noomsink and a browser page: a file each, durations of their presence, nicknames in the tags', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-two';
  const { rec, joined } = await startRecorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));

  // (plain checks, not subtests: meson's TAP reader does not know nested
  // subtests)
  assert.equal(joined.kind, 'recorder',
    'the recorder joins as kind "recorder" (the web clients show the badge)');

  // bob: a browser page when Chromium is there, else another noomsink.
  // Chromium starts before alice joins: its start-up would slow down her
  // connection set-up on two cores.
  let h, page;
  if (await haveBrowser()) {
    h = await import('../browser/harness.mjs');
    const browser = await h.launchBrowser();
    t.after(() => browser.close());
    page = await h.openPage(browser, `http://127.0.0.1:${server.port}/`);
  }

  const alice = publisher(server.uri(room, '?nickname=alice'));
  t.after(() => alice.kill('SIGKILL'));
  const aliceJoin = await server.waitJoin((e) => e.nickname === 'alice', 'alice');
  await waitFiles(path.join(dir, room), 1, 'alice\'s file');

  let bob, bobJoin, closeBob;
  if (page) {
    await h.join(page, room, 'bob');
    bobJoin = await server.waitJoin((e) => e.nickname === 'bob', 'bob');
    assert.equal(bobJoin.kind, 'browser');
    // the page shows the recording badge
    await h.waitState(page, (st) => st.recording, null, 'the recording badge', 5000);
    closeBob = async () => {
      await page.click('#leave').catch(() => page.close());
    };
  } else {
    bob = publisher(server.uri(room, '?nickname=bob'));
    bobJoin = await server.waitJoin((e) => e.nickname === 'bob', 'bob');
    closeBob = () => stopPublisher(server, bob);
  }
  await waitFiles(path.join(dir, room), 2, 'two files');

  // Long enough presences that connection set-up (a few seconds) stays
  // within the 10 % of the issue.
  await delay(Math.max(0, bobJoin.t + 28000 - Date.now()));
  await closeBob();
  await server.waitLeave(bobJoin.id);
  await delay(Math.max(0, aliceJoin.t + 36000 - Date.now()));
  await stopPublisher(server, alice);
  await server.waitLeave(aliceJoin.id);

  // both files finish as their participant leaves, before any signal
  await rec.waitOutput(/bob left: /, 'bob\'s file finished');
  await rec.waitOutput(/alice left: /, 'alice\'s file finished');
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);

  const files = listFiles(path.join(dir, room));
  assert.equal(files.length, 2, files.join(' '));
  for (const [who, join] of [['alice', aliceJoin], ['bob', bobJoin]]) {
    const file = files.find((f) => path.basename(f).startsWith(`${who}-${join.id}-`));
    assert.ok(file, `${who}'s file is named NICKNAME-ID-STARTTIME.mkv: ${files.join(' ')}`);
    assert.match(path.basename(file), /^[^-]+-.{20}-\d{8}T\d{6}Z\.mkv$/);
    const info = await probeFile(file);
    assert.ok(info.discovered && info.decoded, JSON.stringify(info));
    assert.deepEqual(info.video, ['video/x-vp8'], 'video as received, not transcoded');
    assert.deepEqual(info.audio, ['audio/x-opus']);
    assert.ok(info.tags.title.includes(who), JSON.stringify(info.tags));
    assert.ok(info.tags.artist.includes(who), JSON.stringify(info.tags));
    const presence = server.presence(join.id);
    t.diagnostic(`${who}: present ${presence.toFixed(2)} s, file ${info.duration.toFixed(2)} s, decoded to ${info.decodedEnd.toFixed(2)} s, ${info.videoFrames} frames`);
    assert.ok(Math.abs(info.duration - presence) <= 0.1 * presence,
      `${who}: file ${info.duration} s vs presence ${presence} s`);
    assert.ok(info.videoFrames > 10 * presence * 0.8, `${who}: ${info.videoFrames} frames`);
  }
  assert.match(rec.out, /2 files in /);
});

test('SIGINT finishes the file of a participant still in the room and exits 0', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-sigint';
  const { rec } = await startRecorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));
  const carol = publisher(server.uri(room, '?nickname=carol'));
  t.after(() => carol.kill('SIGKILL'));
  const [file] = await waitFiles(path.join(dir, room), 1, 'carol\'s file');
  const began = Date.now();
  await delay(6000);
  rec.kill('SIGINT');
  const stoppedAt = Date.now();
  assert.equal((await rec.wait(15000)).code, 0, rec.out);
  // the recorder left: carol is alone
  assert.ok(carol.running);
  const info = await probeFile(file);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  // finished: the muxer wrote the duration (a crashed file has none)
  const recorded = (stoppedAt - began) / 1000;
  t.diagnostic(`recorded ${recorded} s, duration ${info.duration} s`);
  assert.ok(info.duration > recorded - 1.5 && info.duration < recorded + 1.5, JSON.stringify(info));
  assert.ok(info.tags.title.includes('carol'), JSON.stringify(info.tags));
  assert.match(rec.out, /carol.*\t00:00:0\d\t\d+\n/);
});

test('kill -9 leaves a file that plays up to about the last second', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-crash';
  const { rec } = await startRecorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));
  const dave = publisher(server.uri(room, '?nickname=dave'));
  t.after(() => dave.kill('SIGKILL'));
  const [file] = await waitFiles(path.join(dir, room), 1, 'dave\'s file');
  const began = Date.now();
  await delay(8000);
  rec.kill('SIGKILL');
  const killedAt = Date.now();
  assert.equal((await rec.wait(5000)).signal, 'SIGKILL');
  const info = await probeFile(file);
  const recorded = (killedAt - began) / 1000;
  t.diagnostic(`recorded ${recorded} s before kill -9; decodes to ${info.decodedEnd} s, ${info.videoFrames} frames`);
  assert.ok(info.discovered, JSON.stringify(info));
  assert.ok(info.decoded, JSON.stringify(info));
  assert.deepEqual(info.video, ['video/x-vp8']);
  assert.ok(info.decodedEnd >= recorded - 1.5, `plays to ${info.decodedEnd} s of ${recorded} s`);
});

test('a participant who leaves and comes back gets a second file', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-return';
  const { rec } = await startRecorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));

  const ids = [];
  for (let i = 0; i < 2; i++) {
    const erin = publisher(server.uri(room, '?nickname=erin'));
    t.after(() => erin.kill('SIGKILL'));
    const j = await server.waitJoin((e) => e.nickname === 'erin' && !ids.includes(e.id), 'erin');
    ids.push(j.id);
    await waitFiles(path.join(dir, room), i + 1, `erin's file ${i + 1}`);
    await delay(3000);
    await stopPublisher(server, erin);
    await server.waitLeave(j.id);
    await until(() => (rec.out.match(/erin left: /g) || []).length, (n) => n === i + 1, `erin's file ${i + 1} finished`);
  }
  rec.kill('SIGTERM');
  assert.equal((await rec.wait(15000)).code, 0, rec.out);
  const files = listFiles(path.join(dir, room));
  assert.equal(files.length, 2, files.join(' '));
  for (let i = 0; i < 2; i++) {
    const file = files.find((f) => path.basename(f).startsWith(`erin-${ids[i]}-`));
    assert.ok(file, files.join(' '));
    const info = await probeFile(file);
    assert.ok(info.discovered && info.decoded && info.videoFrames > 0, JSON.stringify(info));
    assert.ok(info.tags.title.includes('erin'));
  }
});

// Issue 13: noomsrc keeps its pads through a server restart and gives them
// back to the participants who return (by nickname and kind: they come
// back with new ids), so the recording of a presence goes on in its file.
test('the server restarts: noom-record rejoins by itself and the participant\'s recording goes on in the same file', async (t) => {
  const first = await new Server().start();
  t.after(() => first.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-restart';
  const { rec } = await startRecorder(first, room, dir);
  t.after(() => rec.kill('SIGKILL'));
  const fay = publisher(first.uri(room, '?nickname=fay'));
  t.after(() => fay.kill('SIGKILL'));
  const j1 = await first.waitJoin((e) => e.nickname === 'fay', 'fay');
  await waitFiles(path.join(dir, room), 1, 'fay\'s file');
  await delay(3000);

  // kill -9: nobody leaves, the server is just gone for 3 s
  first.proc.kill('SIGKILL');
  await delay(3000);
  const second = await new Server(first.port).start();
  t.after(() => second.stop());
  await second.waitJoin((e) => e.room === room && e.nickname === 'recorder' && e.kind === 'recorder', 'the recorder again', 30000);
  const j2 = await second.waitJoin((e) => e.nickname === 'fay', 'fay again', 30000);
  assert.notEqual(j2.id, j1.id);
  await delay(6000);
  assert.ok(rec.running, rec.out);
  assert.doesNotMatch(rec.out, /fay left: /, 'the file was not finished by the restart');

  rec.kill('SIGTERM');
  assert.equal((await rec.wait(15000)).code, 0, rec.out);
  const files = listFiles(path.join(dir, room));
  assert.equal(files.length, 1, files.join(' '));
  assert.ok(path.basename(files[0]).startsWith(`fay-${j1.id}-`), files[0]);
  const info = await probeFile(files[0]);
  t.diagnostic(JSON.stringify(info));
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  // video before the crash, a pause while the server was away and the
  // connections were made again, video after
  assert.ok(info.videoGaps.length >= 1, JSON.stringify(info.videoGaps));
  const [from, to] = info.videoGaps[info.videoGaps.length - 1];
  assert.ok(from >= 2, `video before the restart: up to ${from} s`);
  assert.ok(info.videoEnd - to >= 3, `video after the restart: ${to}..${info.videoEnd} s`);
});

test('bad arguments: a clear error, no crash', async () => {
  for (const [args, re] of [[[], /expected one room URI/], [['http://x/y'], /http:\/\/x\/y/], [['noom://127.0.0.1:1/r', 'extra'], /expected one room URI/]]) {
    const p = new Proc(env('NOOM_RECORD'), args);
    const { code } = await p.wait(10000);
    assert.equal(code, 2, p.out);
    assert.match(p.out, re);
  }
  // a server nobody runs: the element's error, exit 1, and no empty
  // DIR/ROOM (nor DIR, when it made it) left behind, with --composite too
  for (const extra of [[], ['--composite']]) {
    const out = path.join(tmpDir('noom-record-'), 'new');
    const p = new Proc(env('NOOM_RECORD'), [...extra, '-o', out, 'noom://127.0.0.1:1/nobody']);
    const { code } = await p.wait(30000);
    assert.equal(code, 1, p.out);
    assert.match(p.out, /Could not reach the Noom server at http:\/\/127\.0\.0\.1:1/);
    assert.ok(!fs.existsSync(out), `${out} left behind: ${extra}`);
  }
});

test('the composite counts as a file in the status line and the summary; spaces in names become _', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'my room';
  // script(1) gives it a terminal; killing script would kill it too, so
  // timeout(1) sends the SIGINT that ends it with a summary.
  const tty = new Proc('script', ['-qfc', `timeout -s INT ${Math.round(scaled(12000) / 1000)} ${env('NOOM_RECORD')} --composite -o ${dir} '${server.uri(room)}'`, '/dev/null']);
  t.after(() => tty.kill('SIGKILL'));
  await tty.waitOutput(/● REC my room {2}00:00:0[1-9] {2}0 participants {2}1 file {2}/, 'the status line counting the composite');
  const pub = publisher(server.uri(room, '?nickname=ann%20lee'));
  t.after(() => pub.kill('SIGKILL'));
  await waitFiles(path.join(dir, 'my_room'), 2, 'the participant\'s file and the composite');
  await tty.wait(30000);
  const files = listFiles(path.join(dir, 'my_room')).map((f) => path.basename(f));
  assert.ok(files.some((f) => f.startsWith('ann_lee-')), files.join(' '));
  // PATH NICKNAME HH:MM:SS BYTES for the composite too, and it is counted
  assert.match(tty.out, /\/composite-\S+\.mkv\t\(composite\)\t\d\d:\d\d:\d\d\t\d+\r?\n/);
  assert.match(tty.out, /noom-record: 2 files in /);
});

test('--composite also writes everyone in one grid with the audio mixed', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-grid';
  const { rec, joined } = await startRecorder(server, room, dir, ['--composite']);
  t.after(() => rec.kill('SIGKILL'));
  const pubs = ['gil', 'hal'].map((n) => publisher(server.uri(room, `?nickname=${n}`)));
  pubs.forEach((p) => t.after(() => p.kill('SIGKILL')));
  await waitFiles(path.join(dir, room), 3, 'two participants\' files and the composite');
  await delay(6000);
  // The grid runs from the recorder's start to its stop: its timeline is
  // the recording's wall clock (from the server's join to SIGINT).
  const wall = (Date.now() - joined.t) / 1000;
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
  const files = listFiles(path.join(dir, room));
  const grid = files.find((f) => path.basename(f).startsWith('composite-'));
  assert.ok(grid, files.join(' '));
  const info = await probeFile(grid);
  t.diagnostic(`composite: ${info.duration} s, ${info.videoFrames} frames, recording ${wall} s`);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  // one encode for every output of the composite (noom-composite.c)
  assert.deepEqual(info.video, ['video/x-h264']);
  assert.deepEqual(info.audio, ['audio/mpeg']);
  // A grid that cannot keep up with real time falls behind the clock and
  // is cut short at the end: the file must last as long as the recording,
  // decodable to its end. Frames may be dropped on a loaded machine (leaky
  // queue before the encoder), but not most of them: at least 5 a second
  // of the 30, fewer by NOOM_TEST_TIME_SCALE on a machine declared loaded.
  assert.ok(Math.abs(info.duration - wall) <= 0.1 * wall,
    `composite lasts ${info.duration} s, the recording ${wall} s`);
  assert.ok(Math.abs(info.decodedEnd - wall) <= 0.1 * wall, JSON.stringify(info));
  assert.ok(info.videoFrames >= 5 * wall / TIME_SCALE, JSON.stringify(info));
  for (const n of ['gil', 'hal'])
    assert.ok(files.some((f) => path.basename(f).startsWith(`${n}-`)), files.join(' '));
});

test('a status line on a terminal, nothing but the summary otherwise', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  // script(1) gives noom-record a terminal
  const tty = new Proc('script', ['-qfc', `${env('NOOM_RECORD')} -o ${dir} ${server.uri('rec-tty')}`, '/dev/null']);
  t.after(() => tty.kill('SIGKILL'));
  await tty.waitOutput(/● REC rec-tty {2}00:00:0[1-9] {2}0 participants {2}0 files {2}0 bytes/, 'the status line');
  const quiet = new Proc(env('NOOM_RECORD'), ['-o', dir, server.uri('rec-quiet')]);
  t.after(() => quiet.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === 'rec-quiet', 'the quiet recorder');
  await delay(2500);
  quiet.kill('SIGTERM');
  assert.equal((await quiet.wait(15000)).code, 0, quiet.out);
  const lines = quiet.out.split('\n').filter((l) => l);
  assert.deepEqual(lines, [`noom-record: 0 files in ${dir}/rec-quiet`]);
  tty.kill('SIGINT');
  await tty.wait(15000);
});

test('--version, a token from --token-file or --token, and nooms:// saying what is wrong with the certificate', async (t) => {
  const v = new Proc(env('NOOM_RECORD'), ['--version']);
  assert.equal((await v.wait(10000)).code, 0, v.out);
  assert.match(v.out, /^noom-record \d+\.\d+/);

  const dir = tmpDir('noom-record-token-');
  const secret = path.join(dir, 'secret');
  fs.writeFileSync(secret, 'a secret of the room server, long enough to be one\n');
  const server = await new Server(0, ['--token-secret', secret]).start();
  t.after(() => server.stop());
  const tokenFile = path.join(dir, 'token');
  const token = await mintToken(secret, 'tok', 'subscribe,record');
  fs.writeFileSync(tokenFile, `${token}\n`);

  // no token: refused, and told how to give one
  const none = new Proc(env('NOOM_RECORD'), ['-o', dir, server.uri('tok')]);
  assert.equal((await none.wait(30000)).code, 1, none.out);
  assert.match(none.out, /Not allowed/);
  assert.match(none.out, /--token-file/);
  for (const args of [['--token-file', tokenFile], ['--token', token]]) {
    const rec = new Proc(env('NOOM_RECORD'), [...args, '-o', dir, server.uri('tok')]);
    await server.waitJoin((e) => e.room === 'tok' && e.nickname === 'recorder' && !e.seen, `the recorder with ${args[0]}`)
      .then((e) => { e.seen = true; });
    rec.kill('SIGINT');
    assert.equal((await rec.wait(20000)).code, 0, rec.out);
  }

  const certs = await makeCertificate(dir);
  if (!certs) {
    t.diagnostic('no openssl: nooms:// not tested');
    return;
  }
  const tls = await new Server(0, ['--tls-cert', certs.cert, '--tls-key', certs.key]).start();
  t.after(() => tls.stop());
  const uri = tls.uri('tls').replace('noom://', 'nooms://');
  const bad = new Proc(env('NOOM_RECORD'), ['-o', dir, uri]);
  assert.equal((await bad.wait(30000)).code, 1, bad.out);
  assert.match(bad.out, /certificate .*self-signed/);
  assert.match(bad.out, /--accept-invalid-certificates/);
  const ok = new Proc(env('NOOM_RECORD'), ['--accept-invalid-certificates', '-o', dir, uri]);
  await tls.waitJoin((e) => e.room === 'tls' && e.nickname === 'recorder', 'the recorder over TLS');
  ok.kill('SIGINT');
  assert.equal((await ok.wait(20000)).code, 0, ok.out);
});

// Issue 13: every track a participant sends is recorded, whenever it
// starts.  A camera turned on after the file started cannot join that file
// (Matroska has its header): the presence goes on in NAME.part002.mkv with
// both tracks.  Then off and on again: the same track, a gap in the video.
test('a camera turned on late starts a second piece with both tracks; off and on again leaves a gap, not a loss', async (t) => {
  if (!await haveBrowser()) {
    t.skip('no Chromium');
    return;
  }
  const h = await import('../browser/harness.mjs');
  const server = await new Server().start();
  t.after(() => server.stop());
  const browser = await h.launchBrowser();
  t.after(() => browser.close());
  const dir = tmpDir('noom-record-');
  const room = 'rec-late';
  const page = await h.openPage(browser, `http://127.0.0.1:${server.port}/`);
  await h.join(page, room, 'gwen');
  await page.click('#camera');
  await h.waitState(page, (s) => s.cameraOff, null, 'camera off');
  const gwen = await server.waitJoin((e) => e.nickname === 'gwen', 'gwen');

  const { rec } = await startRecorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));
  // the first piece starts with the microphone only (its header written)
  const [first] = await until(() => listFiles(path.join(dir, room)),
    (f) => f.length === 1 && fs.statSync(f[0]).size > 2000, 'the first piece started', 30000);

  await page.click('#camera');
  await h.waitState(page, (s) => !s.cameraOff, null, 'camera on');
  await rec.waitOutput(/gwen: a video track started: .* goes on in .*\.part002\.mkv/, 'the second piece');
  const on1 = Date.now();
  await delay(4000);
  await page.click('#camera');
  await h.waitState(page, (s) => s.cameraOff, null, 'camera off again');
  await delay(3000);
  await page.click('#camera');
  await h.waitState(page, (s) => !s.cameraOff, null, 'camera on again');
  const on2 = Date.now();
  await delay(4000);

  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
  assert.doesNotMatch(rec.out, /not recorded|could not/);
  const files = listFiles(path.join(dir, room));
  assert.equal(files.length, 2, files.join(' '));
  assert.equal(files[0], first, 'the pieces sort in order');
  assert.equal(path.basename(files[1]), path.basename(first).replace(/\.mkv$/, '.part002.mkv'));
  assert.ok(path.basename(first).startsWith(`gwen-${gwen.id}-`));

  const a = await probeFile(files[0]);
  assert.ok(a.discovered && a.decoded, JSON.stringify(a));
  assert.deepEqual(a.video, [], 'the first piece: the microphone only');
  assert.deepEqual(a.audio, ['audio/x-opus']);

  const b = await probeFile(files[1]);
  t.diagnostic(`second piece: ${JSON.stringify(b)}`);
  assert.ok(b.discovered && b.decoded, JSON.stringify(b));
  assert.deepEqual(b.video, ['video/x-vp8'], 'the camera, as received');
  assert.deepEqual(b.audio, ['audio/x-opus'], 'the microphone moved on to the second piece');
  assert.ok(b.tags.title.includes('gwen'));
  // video from the first camera-on, a pause of about 3 s, then video again
  // until the end: the second camera-on is in the file too
  assert.equal(b.videoGaps.length, 1, `one pause in the video: ${JSON.stringify(b.videoGaps)}`);
  const [from, to] = b.videoGaps[0];
  assert.ok(to - from >= 1.5 && to - from <= 4 + 2 * TIME_SCALE, `the pause: ${from}..${to}`);
  assert.ok(b.videoEnd - to >= 2, `video after the camera came back: ${to}..${b.videoEnd}`);
  assert.ok(to >= (on2 - on1) / 1000 - 2, `the camera came back ${(on2 - on1) / 1000} s after it first went on; frames again at ${to}`);
  assert.deepEqual(page.errors, []);
});

// Four browsers join at once, and the recorder with them: on two busy
// cores a participant's video may come seconds after its audio.  Every
// participant's recording has both tracks (one file, or pieces whose last
// has both), nothing is dropped.
test('four browsers joining together: every recording has both tracks', async (t) => {
  if (!await haveBrowser()) {
    t.skip('no Chromium');
    return;
  }
  const h = await import('../browser/harness.mjs');
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-four';
  const names = ['ann', 'ben', 'cat', 'dan'];
  // four browsers, as four people have: a Chromium process each
  const browsers = await Promise.all(names.map(() => h.launchBrowser()));
  t.after(() => Promise.all(browsers.map((b) => b.close())));
  const pages = await Promise.all(browsers.map((b) => h.openPage(b, `http://127.0.0.1:${server.port}/`)));
  await Promise.all(pages.map((p, i) => h.join(p, room, names[i])));
  const joins = {};
  for (const n of names)
    joins[n] = await server.waitJoin((e) => e.nickname === n, n);
  // the recorder joins the busy room: four offers to answer at once while
  // the browsers' meshes are still connecting
  const { rec } = await startRecorder(server, room, dir);
  t.after(() => rec.kill('SIGKILL'));
  await waitFiles(path.join(dir, room), 4, 'a file each', 60000);
  await delay(12000);
  await Promise.all(pages.map((p) => p.context().close()));
  for (const n of names)
    await server.waitLeave(joins[n].id);
  for (const n of names)
    await rec.waitOutput(new RegExp(`${n} left: `), `${n}'s recording finished`);
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
  assert.doesNotMatch(rec.out, /not recorded|could not/);

  const files = listFiles(path.join(dir, room));
  for (const n of names) {
    const mine = files.filter((f) => path.basename(f).startsWith(`${n}-${joins[n].id}-`));
    assert.ok(mine.length >= 1, `${n}: ${files.join(' ')}`);
    const infos = [];
    for (const f of mine)
      infos.push(await probeFile(f));
    t.diagnostic(`${n}: ${mine.length} file(s): ${infos.map((i) => `${i.video}+${i.audio} ${i.duration.toFixed(1)} s, ${i.videoFrames} frames`).join('; ')}`);
    for (const i of infos)
      assert.ok(i.discovered && i.decoded && i.audio.length === 1, `${n}: ${JSON.stringify(i)}`);
    const last = infos[infos.length - 1];
    assert.deepEqual(last.video, ['video/x-vp8'], `${n}: the video is recorded: ${JSON.stringify(last)}`);
    assert.ok(last.videoFrames > 20, `${n}: ${last.videoFrames} frames`);
  }
});
