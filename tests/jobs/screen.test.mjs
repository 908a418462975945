// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-record and a shared screen: a browser page (Chromium's fake display
// capture) shares its screen, and the recorder writes it as a file of its
// own, NICKNAME-screen-ID-STARTTIME.mkv, next to the camera and microphone's
// NICKNAME-ID-STARTTIME.mkv; kill -9 leaves it playable like the others.
// Needs Chromium: skipped without it.

import test from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { Server, Proc, env, probeFile, tmpDir, listFiles, until, delay, haveBrowser } from './lib.mjs';

async function shareScreen(t, server, room, nickname) {
  const h = await import('../browser/harness.mjs');
  const browser = await h.launchBrowser();
  t.after(() => browser.close());
  const page = await h.openPage(browser, `http://127.0.0.1:${server.port}/`);
  await h.join(page, room, nickname);
  const id = await h.selfId(page);
  await page.click('#share');
  await h.waitState(page, (s) => s.sharing, null, 'sharing');
  return { page, id };
}

const screenFile = (dir, who, id) => listFiles(dir)
  .find((f) => path.basename(f).startsWith(`${who}-screen-${id}-`));

test('a shared screen is recorded in a file of its own, with its tags; the camera\'s file has no screen', { skip: !(await haveBrowser()) && 'no Chromium' }, async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-screen';
  const rec = new Proc(env('NOOM_RECORD'), ['-v', '-o', dir, server.uri(room)]);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');

  const { page, id } = await shareScreen(t, server, room, 'alice');
  await rec.waitOutput(/alice shares a screen: \S+/, 'the screen\'s file', 40000);
  const began = Date.now();
  await delay(8000);
  await page.click('#leave');
  await rec.waitOutput(/alice left: \S*alice-screen-/, 'the screen\'s file finished', 20000);
  await rec.waitOutput(/alice left: \S*alice-[^s]/, 'the camera\'s file finished', 20000);
  const shared = (Date.now() - began) / 1000;
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);

  const files = listFiles(path.join(dir, room));
  assert.equal(files.length, 2, files.join(' '));
  const screen = screenFile(path.join(dir, room), 'alice', id);
  assert.ok(screen, `NICKNAME-screen-ID-STARTTIME.mkv: ${files.join(' ')}`);
  assert.match(path.basename(screen), /^alice-screen-.{20}-\d{8}T\d{6}Z\.mkv$/);
  const info = await probeFile(screen);
  t.diagnostic(`screen: ${info.duration} s, ${info.videoFrames} frames, ${JSON.stringify(info.tags)}`);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  assert.deepEqual(info.video, ['video/x-vp8'], 'the screen as received');
  assert.deepEqual(info.audio, [], 'the screen\'s file has the screen only');
  assert.ok(info.tags.title.includes('alice\'s screen'), JSON.stringify(info.tags));
  assert.ok(info.tags.artist.includes('alice'), JSON.stringify(info.tags));
  assert.ok(info.videoFrames > 2 * shared, `${info.videoFrames} frames in ${shared} s`);

  const camera = files.find((f) => f !== screen);
  assert.match(path.basename(camera), new RegExp(`^alice-${id}-`));
  const cam = await probeFile(camera);
  assert.ok(cam.discovered && cam.decoded, JSON.stringify(cam));
  assert.deepEqual(cam.video, ['video/x-vp8'], 'one video track: the camera');
  assert.deepEqual(cam.audio, ['audio/x-opus']);
  assert.match(rec.out, /2 files in /);
});

test('kill -9 while a screen is shared leaves a screen file that plays', { skip: !(await haveBrowser()) && 'no Chromium' }, async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-record-');
  const room = 'rec-screen-crash';
  const rec = new Proc(env('NOOM_RECORD'), ['-v', '-o', dir, server.uri(room)]);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');

  const { id } = await shareScreen(t, server, room, 'dave');
  await rec.waitOutput(/dave shares a screen: \S+/, 'the screen\'s file', 40000);
  const screen = await until(() => screenFile(path.join(dir, room), 'dave', id), (f) => f,
    'the screen\'s file', 10000);
  const began = Date.now();
  await delay(8000);
  rec.kill('SIGKILL');
  const recorded = (Date.now() - began) / 1000;
  assert.equal((await rec.wait(5000)).signal, 'SIGKILL');
  const info = await probeFile(screen);
  t.diagnostic(`recorded ${recorded} s before kill -9; decodes to ${info.decodedEnd} s, ${info.videoFrames} frames`);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  assert.deepEqual(info.video, ['video/x-vp8']);
  assert.ok(info.decodedEnd >= recorded - 2.5, `plays to ${info.decodedEnd} s of ${recorded} s`);
});
