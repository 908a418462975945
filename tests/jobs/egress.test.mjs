// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-record's live egress (issue 19, docs/tools.md): the composite laid
// out (letterboxed, labelled, re-flowing, speaker), encoded once and sent
// to real servers: nginx with the RTMP module (killed and restarted
// mid-run), an SRT listener, HLS played through hlsdemux, MP4 and
// Matroska files; --audio-only. Every output is checked with GstDiscoverer
// and decoded (noom-probe-file), and frames of the composite are looked at.

import test from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { scaled } from '../wait.mjs';
import { Server, Proc, env, probeFile, tmpDir, listFiles, until, delay, haveBrowser, record, waitMkv, freeTcpPort, frameAt } from './lib.mjs';

const W = 1280, H = 720;
const NGINX = '/usr/sbin/nginx';
const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';


// A participant of a single colour (white by default: a videotestsrc
// pattern), 4:3, with a sound that is silent or a loud tone.
function participant(uri, { pattern = 'pattern=white', loud = false, video = true } = {}) {
  const args = ['-e'];
  if (video)
    args.push('videotestsrc', 'is-live=true', ...pattern.split(' '), '!',
      'video/x-raw,width=320,height=240,framerate=15/1', '!', 's.');
  args.push('audiotestsrc', 'is-live=true', loud ? 'wave=sine' : 'wave=silence', 'volume=0.8', '!', 's.');
  args.push('noomsink', 'name=s', `uri=${uri}`);
  return new Proc('gst-launch-1.0', args);
}



function freeUdpPort() {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}


const WHITE = (v) => v > 200;
const BLACK = (v) => v < 40;

// The white picture's extent along a row or a column through (x, y).
function extent(frame, x, y, horizontal) {
  const n = horizontal ? W : H;
  let from = -1, to = -1;
  for (let i = 0; i < n; i++) {
    const v = horizontal ? frame.at(i, y) : frame.at(x, i);
    if (WHITE(v)) {
      if (from < 0)
        from = i;
      to = i;
    }
  }
  return [from, to];
}

// Pixels of a rectangle that are not white (a label's shading and letters).
function marked(frame, x0, y0, x1, y1) {
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++)
      if (!WHITE(frame.at(x, y)))
        n++;
  return n;
}

test('layout: letterboxed 4:3 pictures with name labels in a grid that re-flows, a named tile for audio only; MP4, HLS and Matroska from one encode', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-egress-');
  const room = 'egress-grid';
  const mp4 = path.join(dir, 'show.mp4');
  const hls = path.join(dir, 'hls', 'show.m3u8');
  fs.mkdirSync(path.dirname(hls));
  const rec = record(server, room, dir, ['--composite', '--stream', mp4, '--stream', hls, '--hls-segment', '3']);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');
  // the composite's time 0 is about now (it starts with the recorder)
  const t0 = Date.now();

  const alice = participant(server.uri(room, '?nickname=alice'));
  t.after(() => alice.kill('SIGKILL'));
  await waitMkv(path.join(dir, room), 2, 'alice\'s file and the composite');
  await delay(5000);
  const aloneAt = (Date.now() - t0) / 1000 - 1.5;

  const bob = participant(server.uri(room, '?nickname=bob'));
  t.after(() => bob.kill('SIGKILL'));
  await waitMkv(path.join(dir, room), 3, 'bob\'s file');
  await delay(6000);
  const bothAt = (Date.now() - t0) / 1000 - 1.5;

  // carl sends no video: a tile with his name, centred on a last row
  const carl = participant(server.uri(room, '?nickname=carl'), { video: false });
  t.after(() => carl.kill('SIGKILL'));
  await waitMkv(path.join(dir, room), 4, 'carl\'s file');
  await delay(4000);
  const threeAt = (Date.now() - t0) / 1000 - 1.5;
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);

  // alice alone: a 4:3 picture in the 16:9 frame, 960x720 between two
  // black bars (stretched, it filled the frame)
  const one = await frameAt(mp4, aloneAt);
  t.diagnostic(`alone at ${aloneAt.toFixed(1)} s: row ${extent(one, 0, 300, true)}, column ${extent(one, 640, 0, false)}`);
  const [x0, x1] = extent(one, 0, 300, true);
  const [y0, y1] = extent(one, 640, 0, false);
  assert.ok(BLACK(one.at(60, 300)) && BLACK(one.at(W - 60, 300)), 'black bars left and right');
  const aspect = (x1 - x0 + 1) / (y1 - y0 + 1);
  t.diagnostic(`picture ${x1 - x0 + 1}x${y1 - y0 + 1}: aspect ${aspect.toFixed(3)}`);
  assert.ok(Math.abs(aspect - 4 / 3) < 0.04, `aspect ratio ${aspect}, not 4:3`);
  assert.ok(Math.abs((x0 + x1) / 2 - W / 2) < 8, `centred: ${x0}..${x1}`);
  // alice's label: at the bottom left of her picture, not elsewhere
  const label = marked(one, x0, y1 - 130, x0 + 400, y1 + 1);
  const noLabel = marked(one, x1 - 400, y0, x1 + 1, y0 + 130);
  t.diagnostic(`label area: ${label} marked pixels; top right: ${noLabel}`);
  assert.ok(label > 2000, `no name label at the bottom left of the tile (${label} pixels)`);
  assert.ok(noLabel < 50, `the picture is not white elsewhere (${noLabel} pixels)`);

  // two: side by side, each 640 wide, 4:3 (480 high) centred vertically
  const two = await frameAt(mp4, bothAt);
  const rows = [extent(two, 320, 0, false), extent(two, 960, 0, false)];
  t.diagnostic(`both at ${bothAt.toFixed(1)} s: columns ${JSON.stringify(rows)}, row ${extent(two, 0, 360, true)}`);
  for (const [from, to] of rows) {
    assert.ok(Math.abs(to - from + 1 - 480) <= 6, `a 640x480 tile: ${from}..${to}`);
    assert.ok(Math.abs((from + to) / 2 - H / 2) < 8, `centred: ${from}..${to}`);
  }
  assert.ok(BLACK(two.at(320, 40)) && BLACK(two.at(960, H - 40)), 'bars above and below');
  assert.ok(marked(two, 0, 480, 300, 601) > 1000 && marked(two, 640, 480, 940, 601) > 1000, 'two labels');

  // three: 2x2, the last row centred: carl's named tile, 640x360 from
  // (320, 360), grey with white letters in the middle
  const three = await frameAt(mp4, threeAt);
  let letters = 0;
  for (let y = 480; y < 600; y++)
    for (let x = 440; x < 840; x++)
      if (WHITE(three.at(x, y)))
        letters++;
  t.diagnostic(`three at ${threeAt.toFixed(1)} s: carl's tile ${three.at(340, 380)} ${three.at(940, 700)}, outside ${three.at(300, 380)}, ${letters} white pixels of his name`);
  for (const [x, y] of [[340, 380], [940, 700], [340, 700]])
    assert.ok(three.at(x, y) > 40 && three.at(x, y) < 100, `carl's tile at ${x},${y}: ${three.at(x, y)}`);
  assert.ok(BLACK(three.at(300, 380)) && BLACK(three.at(980, 380)), 'the last row centred');
  assert.ok(letters > 300, `carl's name on his tile: ${letters} white pixels`);
  assert.ok(WHITE(three.at(320, 180)) && WHITE(three.at(960, 180)), 'alice and bob above');

  // every output of the one encode plays: MP4, HLS through hlsdemux, the
  // Matroska of --composite
  const composite = listFiles(path.join(dir, room)).find((f) => path.basename(f).startsWith('composite-'));
  for (const file of [mp4, hls, composite]) {
    const info = await probeFile(file);
    t.diagnostic(`${path.basename(file)}: ${info.duration} s, ${info.videoFrames} frames`);
    assert.ok(info.discovered && info.decoded, `${file}: ${JSON.stringify(info)}`);
    assert.deepEqual(info.video, ['video/x-h264'], file);
    assert.deepEqual(info.audio, ['audio/mpeg'], file);
    assert.ok(info.decodedEnd > threeAt, `${file}: decodes to ${info.decodedEnd} s`);
    assert.ok(info.videoFrames > 10 * threeAt, `${file}: ${info.videoFrames} frames`);
  }
  assert.ok(listFiles(path.dirname(hls)).filter((f) => f.endsWith('.ts')).length >= 4, 'HLS segments');
  assert.match(fs.readFileSync(hls, 'utf8'), /#EXT-X-ENDLIST/);
  // --hls-segment 3: segments of 3 s (key frames every 1.5 s by the clock,
  // whatever frames a loaded machine drops)
  const lengths = [...fs.readFileSync(hls, 'utf8').matchAll(/#EXTINF:([\d.]+)/g)].map((m) => Number(m[1]));
  const middle = lengths.slice(1, -1).sort((a, b) => a - b);
  t.diagnostic(`HLS segments: ${lengths.map((x) => x.toFixed(1)).join(' ')}`);
  assert.ok(Math.abs(middle[middle.length >> 1] - 3) <= 0.5, `HLS segments of 3 s: ${lengths}`);
});

test('RTMP to nginx: played back through rtmp2src; the server killed and restarted, the stream resumes and the MP4 goes on', async (t) => {
  if (!fs.existsSync(NGINX) || !fs.existsSync(RTMP_MODULE)) {
    t.skip('nginx with the RTMP module (libnginx-mod-rtmp) is not installed');
    return;
  }
  const ng = tmpDir('noom-nginx-');
  const port = await freeTcpPort();
  fs.writeFileSync(path.join(ng, 'nginx.conf'), `load_module ${RTMP_MODULE};
daemon off;
master_process off;
pid ${ng}/nginx.pid;
error_log ${ng}/error.log info;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:${port}; application live { live on; record off; } } }
`);
  const startNginx = async () => {
    const p = new Proc(NGINX, ['-p', ng, '-c', path.join(ng, 'nginx.conf'), '-e', path.join(ng, 'error.log')]);
    await until(() => new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => { c.destroy(); resolve(true); });
      c.on('error', () => resolve(false));
    }), (ok) => ok, 'nginx listening', 10000, 100);
    return p;
  };
  let nginx = await startNginx();
  t.after(() => nginx.kill('SIGKILL'));

  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-egress-');
  const room = 'egress-rtmp';
  const url = `rtmp://127.0.0.1:${port}/live/room`;
  const mp4 = path.join(dir, 'show.mp4');
  const rec = record(server, room, dir, ['--stream', url, '--stream', mp4]);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');
  const t0 = Date.now();
  const carol = participant(server.uri(room, '?nickname=carol'));
  t.after(() => carol.kill('SIGKILL'));
  await waitMkv(path.join(dir, room), 1, 'carol\'s file');
  await delay(3000);

  // what a viewer gets from the RTMP server, kept in an FLV file
  const play = async (name) => {
    const flv = path.join(dir, name);
    const p = new Proc('gst-launch-1.0', ['-e', 'rtmp2src', `location=${url}`, '!', 'filesink', `location=${flv}`]);
    t.after(() => p.kill('SIGKILL'));
    await until(() => fs.existsSync(flv) && fs.statSync(flv).size, (n) => n > 200000, `${name} from the RTMP server`, 20000);
    p.kill('SIGINT');
    await p.wait(10000);
    return flv;
  };
  const before = await play('before.flv');

  nginx.kill('SIGKILL');
  await nginx.wait(5000);
  const downAt = Date.now();
  await rec.waitOutput(/RTMP output \S+ failed: .*; retrying in \d+ s/, 'the RTMP failure reported');
  await delay(3000);
  nginx = await startNginx();
  await rec.waitOutput(/RTMP output \S+: started again \(attempt \d+\)/, 'the RTMP output started again', 40000);
  const after = await play('after.flv');
  const downFor = (Date.now() - downAt) / 1000;
  await delay(1000);
  const stopAt = (Date.now() - t0) / 1000;
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
  assert.ok(carol.running, 'carol goes on');

  for (const flv of [before, after]) {
    const info = await probeFile(flv);
    t.diagnostic(`${path.basename(flv)}: ${info.videoFrames} frames, ${info.audioBuffers} audio buffers`);
    assert.ok(info.discovered && info.decoded, `${flv}: ${JSON.stringify(info)}`);
    assert.deepEqual(info.video, ['video/x-h264']);
    assert.deepEqual(info.audio, ['audio/mpeg']);
    assert.ok(info.videoFrames >= 15, `${flv}: ${info.videoFrames} frames`);
    // carol's picture, letterboxed, is in the stream
    const frame = await frameAt(flv, info.videoEnd - 0.3);
    const [x0, x1] = extent(frame, 0, 300, true);
    assert.ok(Math.abs(x1 - x0 + 1 - 960) <= 6, `${flv}: picture ${x0}..${x1}`);
  }

  // the MP4 beside it went on through the outage, without a gap
  const info = await probeFile(mp4);
  t.diagnostic(`${path.basename(mp4)}: ${info.duration} s, ${info.videoFrames} frames, gaps ${JSON.stringify(info.videoGaps)}; RTMP down ${downFor.toFixed(1)} s`);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  assert.deepEqual(info.videoGaps, []);
  assert.ok(info.decodedEnd >= stopAt - 2, `MP4 decodes to ${info.decodedEnd} s of ${stopAt} s`);
});

test('SRT to a listener; the MP4 beside it survives kill -9', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-egress-');
  const room = 'egress-srt';
  const port = await freeUdpPort();
  const ts = path.join(dir, 'received.ts');
  const listener = new Proc('gst-launch-1.0', ['-e', 'srtsrc', `uri=srt://127.0.0.1:${port}?mode=listener`, '!', 'filesink', `location=${ts}`]);
  t.after(() => listener.kill('SIGKILL'));
  const mp4 = path.join(dir, 'show.mp4');
  const rec = record(server, room, dir, ['--stream', `srt://127.0.0.1:${port}`, '--stream', mp4, '--size', '640x360', '--framerate', '25']);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');
  const dan = participant(server.uri(room, '?nickname=dan'));
  t.after(() => dan.kill('SIGKILL'));
  await waitMkv(path.join(dir, room), 1, 'dan\'s file');
  await until(() => fs.existsSync(ts) && fs.statSync(ts).size, (n) => n > 300000, 'the SRT stream', 30000);
  rec.kill('SIGKILL');
  await rec.wait(5000);
  listener.kill('SIGINT');
  await listener.wait(10000);

  const info = await probeFile(ts);
  t.diagnostic(`SRT: ${info.videoFrames} frames; ${JSON.stringify(info.video)} ${JSON.stringify(info.audio)}`);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  assert.deepEqual(info.video, ['video/x-h264']);
  assert.deepEqual(info.audio, ['audio/mpeg']);
  assert.ok(info.videoFrames >= 25, JSON.stringify(info));
  const m = await probeFile(mp4);
  t.diagnostic(`MP4 after kill -9: ${m.decodedEnd} s, ${m.videoFrames} frames`);
  assert.ok(m.discovered && m.decoded && m.videoFrames >= 25, `a killed MP4 plays: ${JSON.stringify(m)}`);
});

test('--layout speaker: the loud participant takes the big cell; single:NICK shows NICK alone; --audio-only writes sound only', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-egress-');
  const room = 'egress-speaker';
  const mp4 = path.join(dir, 'show.mp4');
  const m4a = path.join(dir, 'podcast.mp4');
  const rec = record(server, room, dir, ['--layout', 'speaker', '--stream', mp4]);
  t.after(() => rec.kill('SIGKILL'));
  const pod = record(server, room, path.join(dir, 'pod'), ['-n', 'podcast', '--audio-only', '--stream', m4a]);
  t.after(() => pod.kill('SIGKILL'));
  const single = path.join(dir, 'single.mp4');
  const one = record(server, room, path.join(dir, 'one'), ['-n', 'single', '--layout', 'single:quiet', '--stream', single]);
  t.after(() => one.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');
  const t0 = Date.now();
  // first a quiet blue one (the first tile), then a loud white one
  const quiet = participant(server.uri(room, '?nickname=quiet'), { pattern: 'pattern=solid-color foreground-color=0xff2020c0' });
  t.after(() => quiet.kill('SIGKILL'));
  await waitMkv(path.join(dir, room), 1, 'quiet\'s file');
  const loud = participant(server.uri(room, '?nickname=loud'), { loud: true });
  t.after(() => loud.kill('SIGKILL'));
  await waitMkv(path.join(dir, room), 2, 'loud\'s file');
  await rec.waitOutput(/active speaker: /, 'an active speaker', 20000);
  await delay(4000);
  const at = (Date.now() - t0) / 1000 - 1;
  rec.kill('SIGINT');
  pod.kill('SIGINT');
  one.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
  assert.equal((await pod.wait(20000)).code, 0, pod.out);
  assert.equal((await one.wait(20000)).code, 0, one.out);

  // the big cell (the top three quarters) shows the loud one's white
  // picture; the strip below, the quiet one's blue
  const frame = await frameAt(mp4, at);
  t.diagnostic(`big cell centre ${frame.at(640, 270)}, strip ${frame.at(W / 2, 600)}`);
  assert.ok(WHITE(frame.at(640, 270)), `the loud one is large: ${frame.at(640, 270)}`);
  const [y0, y1] = extent(frame, 640, 0, false);
  assert.ok(y1 < H * 3 / 4 + 2 && y1 - y0 > 400, `the big cell: ${y0}..${y1}`);
  const strip = [frame.at(W / 2, 600), frame.at(W / 2 - 60, 600)];
  assert.ok(strip.some((v) => v > 30 && v < 120), `the quiet one's blue in the strip: ${strip}`);

  // --layout single:quiet: only quiet, full frame (4:3, letterboxed)
  const alone = await frameAt(single, at);
  t.diagnostic(`single:quiet centre ${alone.at(640, 360)}, bars ${alone.at(60, 360)} ${alone.at(W - 60, 360)}`);
  assert.ok(alone.at(640, 360) > 30 && alone.at(640, 360) < 120, `quiet's blue, full frame: ${alone.at(640, 360)}`);
  assert.ok(alone.at(200, 100) > 30 && alone.at(200, 100) < 120, `quiet's picture 960 wide: ${alone.at(200, 100)}`);
  assert.ok(BLACK(alone.at(60, 360)) && BLACK(alone.at(W - 60, 360)), 'letterboxed');

  const info = await probeFile(m4a);
  t.diagnostic(`--audio-only: ${JSON.stringify(info.video)} ${JSON.stringify(info.audio)} ${info.audioBuffers} buffers`);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  assert.deepEqual(info.video, []);
  assert.deepEqual(info.audio, ['audio/mpeg']);
  assert.ok(info.audioBuffers > 100, JSON.stringify(info));
});

// Pixels of a rectangle that are not black.
function lit(frame, x0, y0, x1, y1) {
  let n = 0;
  for (let y = y0; y < y1; y += 2)
    for (let x = x0; x < x1; x += 2)
      if (!BLACK(frame.at(x, y)))
        n++;
  return n / (((x1 - x0) / 2) * ((y1 - y0) / 2));
}

test('a shared screen takes the big cell, the camera goes in the strip', { skip: !(await haveBrowser()) && 'no Chromium' }, async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-egress-');
  const room = 'egress-screen';
  const mp4 = path.join(dir, 'show.mp4');
  const rec = record(server, room, dir, ['--stream', mp4]);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');
  const t0 = Date.now();
  const h = await import('../browser/harness.mjs');
  const browser = await h.launchBrowser();
  t.after(() => browser.close());
  const page = await h.openPage(browser, `http://127.0.0.1:${server.port}/`);
  await h.join(page, room, 'alice');
  await page.click('#share');
  await h.waitState(page, (st) => st.sharing, null, 'sharing');
  await rec.waitOutput(/alice shares a screen: \S+/, 'the screen\'s file', 40000);
  await delay(6000);
  const at = (Date.now() - t0) / 1000 - 1.5;
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);

  // the screen in the top three quarters, the camera (320x180 cell) in the
  // middle of the strip below, black on either side of it; side by side in
  // a grid, the strip's rows would be black
  const frame = await frameAt(mp4, at);
  const big = lit(frame, 0, 0, W, 540), camera = lit(frame, 500, 610, 780, 710);
  const sides = lit(frame, 0, 610, 400, 710) + lit(frame, 880, 610, W, 710);
  t.diagnostic(`lit: big cell ${big.toFixed(2)}, camera in the strip ${camera.toFixed(2)}, strip sides ${sides.toFixed(2)}`);
  // (Chromium's fake screen and camera are mostly black, with a white
  // shape, a clock and corner squares: how much of the camera's cell is
  // lit depends on where its shape is, 0.02 to 0.06 in runs; an empty
  // cell is 0.00)
  assert.ok(big > 0.01, `the screen in the big cell: ${big}`);
  assert.ok(camera > 0.01, `the camera in the strip: ${camera}`);
  assert.ok(sides < 0.01, `nothing else in the strip: ${sides}`);
});

test('an output that cannot connect is retried with backoff and shown on the status line; the files go on', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-egress-');
  const port = await freeTcpPort();
  const url = `rtmp://127.0.0.1:${port}/live/nobody`;
  const mp4 = path.join(dir, 'show.mp4');
  // script(1) gives it a terminal; timeout(1) sends the SIGINT that ends it
  const tty = new Proc('script', ['-qfc', `timeout -s INT ${Math.round(scaled(12000) / 1000)} ${env('NOOM_RECORD')} -q --stream ${url} --stream ${mp4} -o ${dir} '${server.uri('egress-retry')}'`, '/dev/null']);
  t.after(() => tty.kill('SIGKILL'));
  await tty.waitOutput(new RegExp(`1/2 outputs {2}rtmp://127\\.0\\.0\\.1:${port}/live/\\*\\*\\*\\*: retry in [124] s \\(.*refused`), 'the failing output on the status line');
  await tty.waitOutput(/retry in 4 s/, 'the backoff growing', 20000);
  await tty.wait(30000);
  const info = await probeFile(mp4);
  assert.ok(info.discovered && info.decoded && info.videoFrames > 0, `the MP4 beside it: ${JSON.stringify(info)}`);
});

test('bad egress options: exit 2 with the reason', async () => {
  for (const [args, re] of [[['--stream', 'ftp://x/y'], /--stream ftp:\/\/x\/y: expected/], [['--stream', 'a.mp4', '--layout', 'mosaic'], /--layout mosaic/], [['--stream', 'a.mp4', '--size', '12'], /--size 12/]]) {
    const p = new Proc(env('NOOM_RECORD'), [...args, 'noom://127.0.0.1:1/r']);
    const { code } = await p.wait(scaled(10000));
    assert.equal(code, 2, p.out);
    assert.match(p.out, re);
  }
});
