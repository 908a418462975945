// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A browser's shared screen reaches noomsrc on a pad of its own
// (docs/protocol.md §7 "A shared screen", §11): Chromium's fake display
// capture (--use-fake-ui-for-media-stream picks it, 1280x720) is shared
// with the Share button, and a gst-launch-1.0 noomsrc gets a screen_0 pad
// whose tags say it is a screen, and decodes its frames, in a mesh room
// (either join order) and in an SFU room.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Server, useServerAndBrowser, Pipeline, openPage, join, waitState, until, selfId,
} from '../browser/harness.mjs';

let server, browser;

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
});

function receiver(port, room) {
  // The sinks are async=false: a pad that has no data yet (the screen, until
  // it is shared) must not hold the live pipeline in PAUSED.
  return new Pipeline([
    'noomsrc', 'name=s', `uri=noom://127.0.0.1:${port}/${room}?nickname=rx`,
    's.audio_0', '!', 'queue', '!', 'fakesink', 'name=aud', 'silent=false', 'sync=false', 'async=false',
    's.video_0', '!', 'queue', '!', 'fakesink', 'name=cam', 'silent=false', 'sync=false', 'async=false',
    's.screen_0', '!', 'queue', '!', 'fakesink', 'name=scr', 'silent=false', 'sync=false', 'async=false',
  ]);
}

function failWith(pipeline) {
  return (e) => {
    const lines = pipeline.output.split('\n');
    const events = lines.filter((l) => / last-message = event/.test(l)).join('\n');
    const log = lines.filter((l) => !l.includes('last-message = ')).join('\n');
    throw new Error(`${e.message}\n${events.slice(-4000)}\n${log.slice(-3000)}`);
  };
}

// The screen arrives on screen_0, decoded at the display's size, with the
// tags of a screen, while the camera goes on on video_0.
async function receivesScreen(pipeline, nickname) {
  const n = (re) => pipeline.count(re);
  await until(async () => ({
    pad: n(/GstNoomSrcPad:screen_0: caps = video\/x-raw.*width=\(int\)1280/),
    frames: n(/scr: last-message = chain/),
    // (only a screen's tags have these: no need to tie them to the scr
    // sink's line, which a busy gst-launch may print in pieces)
    tag: n(/noom-screen.{0,8}=.{0,8}\(boolean.{0,4}\)true/),
    title: n(new RegExp(`title.{0,8}=.{0,8}\\(string.{0,4}\\).{0,4}${nickname}.{0,8}s.{0,8}screen`)),
  }), (s) => s.pad > 0 && s.frames > 20 && s.tag > 0 && s.title > 0,
  'the screen decoded on screen_0, tagged as a screen', 40000).catch(failWith(pipeline));
  // one pad for the screen, none that takes it for a second camera
  assert.equal(n(/GstNoomSrcPad:screen_1/), 0);
  assert.equal(n(/GstNoomSrcPad:video_1/), 0);
  const cam = n(/cam: last-message = chain/);
  await until(async () => n(/cam: last-message = chain/), (c) => c > cam + 10,
    'the camera goes on beside the screen', 20000).catch(failWith(pipeline));
}

async function share(page) {
  await page.click('#share');
  await waitState(page, (s) => s.sharing && s.screens.includes('self'), null, 'sharing');
}

async function screenToNoomsrc(order) {
  const room = `screen-${order}`;
  let page, pipeline;
  if (order === 'browser-first') {
    page = await openPage(browser, server.url + '/');
    await join(page, room, 'Web');
    pipeline = receiver(server.port, room);
    await until(async () => pipeline.count(/Joined room/), (c) => c > 0, 'noomsrc joined', 20000)
      .catch(failWith(pipeline));
  } else {
    pipeline = receiver(server.port, room);
    await until(async () => pipeline.count(/Joined room/), (c) => c > 0, 'noomsrc joined', 20000)
      .catch(failWith(pipeline));
    page = await openPage(browser, server.url + '/');
    await join(page, room, 'Web');
  }
  // the web client sees noomsrc take screens (its join's features)
  await waitState(page, (s) => s.participants.some((p) => p.nickname === 'rx'
    && (p.features || []).includes('screen')), null, 'noomsrc announces screens');
  await until(async () => pipeline.count(/cam: last-message = chain/), (c) => c > 10,
    'the camera decoded', 40000).catch(failWith(pipeline));
  // nothing on a screen pad until the page shares
  assert.equal(pipeline.count(/GstNoomSrcPad:screen_/), 0);
  await share(page);
  await receivesScreen(pipeline, 'Web');
  // no renegotiation for the screen: one connection, offered once each way
  assert.equal(await pipeline.stop(), 0, pipeline.output.slice(-2000));
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

test('a browser already in the room shares its screen: noomsrc gets screen_0, tagged, decoded', async () => {
  await screenToNoomsrc('browser-first');
});

test('a browser joining after noomsrc shares its screen: noomsrc gets screen_0, tagged, decoded', async () => {
  await screenToNoomsrc('gst-first');
});

// docs/protocol.md §11: the relay takes the page's screen on its screen
// upload m-line and forwards it to noomsrc on a download m-line whose msid
// says "screen".
test('in an SFU room a browser shares its screen: noomsrc gets screen_0 through the relay, tagged, decoded', async (t) => {
  const sfu = await new Server(['--sfu']).start();
  t.after(() => sfu.stop());
  const room = 'screen-sfu';
  const page = await openPage(browser, sfu.url + '/');
  t.after(() => page.context().close());
  await join(page, room, 'Web');
  await waitState(page, (s) => s.media === 'sfu', null, 'an SFU room');
  const pipeline = receiver(sfu.port, room);
  t.after(() => pipeline.stop());
  await until(async () => pipeline.count(/cam: last-message = chain/), (c) => c > 10,
    'the camera decoded', 40000).catch(failWith(pipeline));
  assert.equal(pipeline.count(/GstNoomSrcPad:screen_/), 0);
  await share(page);
  await receivesScreen(pipeline, 'Web');
  // one connection, to the relay
  assert.deepEqual(await page.evaluate(() => [...window.noom.peers.keys()]), ['~sfu']);
  assert.equal(await pipeline.stop(), 0, pipeline.output.slice(-2000));
  assert.deepEqual(page.errors, []);
});
