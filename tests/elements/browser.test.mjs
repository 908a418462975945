// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The elements with Chromium in the room: the web client decodes noomsink's
// video and audio whichever joined first, and a browser's fake camera and
// microphone reach noomsrc as decoded frames and audio.  The pipelines are
// gst-launch-1.0 processes with the plugin from $GST_PLUGIN_PATH.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServerAndBrowser, Pipeline, openPage, join, waitState, receivesFrom, until,
} from '../browser/harness.mjs';

let server, browser;

useServerAndBrowser((s, b) => {
  server = s;
  browser = b;
});


function publisher(room, nickname) {
  return new Pipeline([
    'videotestsrc', 'is-live=true', '!', 'video/x-raw,width=320,height=240,framerate=15/1', '!',
    'noomsink', 'name=s', `uri=noom://127.0.0.1:${server.port}/${room}?nickname=${nickname}`,
    'audiotestsrc', 'is-live=true', 'wave=sine', '!', 's.',
  ]);
}

async function participantId(page, nickname) {
  await waitState(page, (s, n) => s.participants.some((p) => p.nickname === n),
    nickname, `${nickname} in the room`);
  return page.evaluate((n) => window.noom.state().participants.find((p) => p.nickname === n).id,
    nickname);
}

async function browserReceivesPublisher(order) {
  const room = `pub-${order}`;
  let page, pipeline;
  if (order === 'browser-first') {
    page = await openPage(browser, server.url + '/');
    await join(page, room, 'Web');
    pipeline = publisher(room, 'gst');
  } else {
    pipeline = publisher(room, 'gst');
    await until(async () => pipeline.count(/Joined room/), (n) => n > 0, 'noomsink joined', 20000);
    page = await openPage(browser, server.url + '/');
    await join(page, room, 'Web');
  }
  const id = await participantId(page, 'gst');
  await receivesFrom(page, [id]);
  // noomsink leaving is seen at once
  assert.equal(await pipeline.stop(), 0, pipeline.output.slice(-2000));
  await waitState(page, (s, i) => !s.participants.some((p) => p.id === i), id, 'noomsink gone', 5000);
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

test('a browser already in the room decodes noomsink video and audio', async () => {
  await browserReceivesPublisher('browser-first');
});

test('a browser joining after noomsink decodes its video and audio', async () => {
  await browserReceivesPublisher('gst-first');
});

async function noomsrcReceivesBrowser(order) {
  const room = `sub-${order}`;
  const args = [
    'noomsrc', 'name=s', `uri=noom://127.0.0.1:${server.port}/${room}?nickname=rx`,
    's.', '!', 'queue', '!', 'fakesink', 'name=out0', 'silent=false', 'sync=false',
    's.', '!', 'queue', '!', 'fakesink', 'name=out1', 'silent=false', 'sync=false',
  ];
  let page, pipeline;
  if (order === 'browser-first') {
    page = await openPage(browser, server.url + '/');
    await join(page, room, 'Web');
    pipeline = new Pipeline(args);
  } else {
    pipeline = new Pipeline(args);
    await until(async () => pipeline.count(/Joined room/), (n) => n > 0, 'noomsrc joined', 20000);
    page = await openPage(browser, server.url + '/');
    await join(page, room, 'Web');
  }
  // both of the browser's tracks arrive decoded, with its nickname
  await until(async () => ({
    video: pipeline.count(/GstNoomSrcPad:video_0: caps = video\/x-raw/),
    audio: pipeline.count(/GstNoomSrcPad:audio_0: caps = audio\/x-raw/),
    chains: pipeline.count(/last-message = chain/),
    title: pipeline.count(/title\\=\\\(string\\\)Web/),
  }), (s) => s.video > 0 && s.audio > 0 && s.chains > 100 && s.title > 0,
  'decoded audio and video from the browser', 40000).catch((e) => {
    throw new Error(`${e.message}\n${pipeline.output.slice(-3000)}`);
  });
  assert.equal(await pipeline.stop(), 0, pipeline.output.slice(-2000));
  assert.deepEqual(page.errors, []);
  await page.context().close();
}

test('noomsrc joining after a browser decodes its camera and microphone', async () => {
  await noomsrcReceivesBrowser('browser-first');
});

test('a browser joining after noomsrc reaches it decoded', async () => {
  await noomsrcReceivesBrowser('gst-first');
});

// Issue 13: a camera that goes on after noomsrc joined is a new pad then;
// off and on again, its frames come back on that same pad (the browser
// keeps its sender and replaces the track), and no second pad appears.
test('a camera turned on late reaches noomsrc as a new pad; off and on again it resumes on that pad', async () => {
  const room = 'late-camera';
  const page = await openPage(browser, server.url + '/');
  await join(page, room, 'Late');
  await page.click('#camera');
  await waitState(page, (s) => s.cameraOff, null, 'camera off');
  // gst-launch links s.video_0 when that pad appears, however late.  The
  // sinks are async=false: an async sink that has no data yet holds a live
  // pipeline's other sinks in PAUSED (GstBin waits for its preroll).
  const pipeline = new Pipeline([
    'noomsrc', 'name=s', `uri=noom://127.0.0.1:${server.port}/${room}?nickname=rx`,
    's.audio_0', '!', 'queue', '!', 'fakesink', 'name=aud', 'silent=false', 'sync=false', 'async=false',
    's.video_0', '!', 'queue', '!', 'fakesink', 'name=vid', 'silent=false', 'sync=false', 'async=false',
  ]);
  const n = (re) => pipeline.count(re);
  const videoFrames = () => n(/vid: last-message = chain/);
  const fail = (e) => {
    const log = pipeline.output.split('\n').filter((l) => !l.includes('stats =')).join('\n');
    throw new Error(`${e.message}\n${log.slice(-3000)}`);
  };
  try {
    await until(async () => n(/aud: last-message = chain/), (c) => c > 50, 'the microphone decoded', 40000).catch(fail);
    // 3 s more with the camera off: audio only, no video pad
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(n(/GstNoomSrcPad:video_/), 0, pipeline.output.slice(-2000));

    await page.click('#camera');
    await waitState(page, (s) => !s.cameraOff, null, 'camera on');
    await until(async () => videoFrames(), (c) => c > 20, 'the late camera decoded on video_0', 40000).catch(fail);
    assert.ok(n(/GstNoomSrcPad:video_0: caps = video\/x-raw/) > 0);

    await page.click('#camera');
    await waitState(page, (s) => s.cameraOff, null, 'camera off again');
    await until(async () => {
      const a = videoFrames();
      await new Promise((r) => setTimeout(r, 1500));
      return videoFrames() - a;
    }, (d) => d === 0, 'no frames with the camera off', 20000, 0).catch(fail);
    const mark = videoFrames();
    await page.click('#camera');
    await waitState(page, (s) => !s.cameraOff, null, 'camera on again');
    await until(async () => videoFrames(), (c) => c > mark + 20, 'frames again on video_0', 40000).catch(fail);
    assert.equal(n(/GstNoomSrcPad:video_1/), 0, 'no second video pad');
    assert.equal(await pipeline.stop(), 0, pipeline.output.slice(-2000));
    assert.deepEqual(page.errors, []);
  } finally {
    await pipeline.stop();
    await page.context().close();
  }
});
