// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// noom-record's live egress as an operator runs it (issue 19,
// docs/tools.md): RTMPS to nginx behind a TLS terminator with a private
// certificate authority (--ca-file), a participant who renames itself
// (its label follows), and the summary's line for every --stream output.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Server, Proc, env, probeFile, tmpDir, until, delay, makeCertificate, record, waitMkv, freeTcpPort, frameAt } from './lib.mjs';

const NGINX = '/usr/sbin/nginx';
const RTMP_MODULE = '/usr/lib/nginx/modules/ngx_rtmp_module.so';
const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';




// A white 4:3 participant whose noomsink renames it to NEWNAME on SIGUSR1
// (noomsink's nickname can change while it plays).
const RENAMER = `
import signal, sys
import gi
gi.require_version('Gst', '1.0')
from gi.repository import Gst, GLib
Gst.init(None)
p = Gst.parse_launch('videotestsrc is-live=true pattern=white ! '
    'video/x-raw,width=320,height=240,framerate=15/1 ! s. '
    'audiotestsrc is-live=true wave=silence ! s. noomsink name=s uri=' + sys.argv[1])
loop = GLib.MainLoop()
def rename():
    p.get_by_name('s').set_property('nickname', sys.argv[2])
    return GLib.SOURCE_REMOVE
def stop():
    loop.quit()
    return GLib.SOURCE_REMOVE
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGUSR1, rename)
GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, stop)
p.set_state(Gst.State.PLAYING)
loop.run()
p.set_state(Gst.State.NULL)
`;


// Pixels of a rectangle that are not white: a label's shading and letters.
function marked(frame, x0, y0, x1, y1) {
  let n = 0;
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++)
      if (frame.at(x, y) <= 200)
        n++;
  return n;
}

// The summary's tab-separated line for TARGET: [path, (kind), duration, bytes, note].
function summaryLine(out, target) {
  const line = out.split('\n').find((l) => l.startsWith(`${target}\t`));
  assert.ok(line, `no summary line for ${target} in:\n${out}`);
  return line.split('\t');
}

test('a rename: the tile\'s label follows, the log says so; the summary lists every --stream output', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const dir = tmpDir('noom-egress-');
  const room = 'egress-rename';
  const mp4 = path.join(dir, 'show.mp4');
  const hls = path.join(dir, 'show.m3u8');
  const rec = record(server, room, dir, ['--stream', mp4, '--stream', hls]);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.room === room && e.nickname === 'recorder', 'the recorder');
  const t0 = Date.now();
  const al = new Proc('/usr/bin/python3', ['-c', RENAMER, server.uri(room, '?nickname=al'), 'alexandra-the-great']);
  t.after(() => al.kill('SIGKILL'));
  await waitMkv(path.join(dir, room), 1, 'al\'s file');
  await delay(4000);
  const beforeAt = (Date.now() - t0) / 1000 - 1.5;
  al.kill('SIGUSR1');
  await rec.waitOutput(/al is now called alexandra-the-great/, 'the rename in the log');
  await delay(4000);
  const afterAt = (Date.now() - t0) / 1000 - 1.5;
  rec.kill('SIGINT');
  const { code } = await rec.wait(20000);
  assert.equal(code, 0, rec.out);

  // the label at the bottom left of the letterboxed picture (960x720 from
  // x=160) grows with the name
  const before = await frameAt(mp4, beforeAt);
  const after = await frameAt(mp4, afterAt);
  const area = (f) => marked(f, 160, 600, 1120, 720);
  t.diagnostic(`label at ${beforeAt.toFixed(1)} s: ${area(before)} marked pixels; at ${afterAt.toFixed(1)} s: ${area(after)}`);
  assert.ok(area(before) > 1000, `al's label: ${area(before)} pixels`);
  assert.ok(area(after) > 2.5 * area(before), `the label did not follow the rename: ${area(before)} -> ${area(after)} pixels`);

  // one line per --stream output: where, what, how long, how many bytes
  const [, kind, duration, bytes, note] = summaryLine(rec.out, mp4);
  assert.equal(kind, '(mp4)');
  assert.match(duration, /^00:00:(0[5-9]|[1-5]\d)$/);
  assert.equal(Number(bytes), fs.statSync(mp4).size);
  assert.equal(note, undefined, 'no failure, no restart');
  const [, hkind, , hbytes] = summaryLine(rec.out, hls);
  assert.equal(hkind, '(hls)');
  assert.ok(Number(hbytes) > 100000, `HLS bytes: ${hbytes}`);
  assert.ok((await probeFile(mp4)).decoded);
});

test('RTMPS to nginx behind TLS: refused without the private authority (on the status, in the summary); with --ca-file, played back', async (t) => {
  for (const m of [NGINX, RTMP_MODULE, STREAM_MODULE]) {
    if (!fs.existsSync(m)) {
      t.skip(`${m} is not installed (nginx, libnginx-mod-rtmp, libnginx-mod-stream)`);
      return;
    }
  }
  const ng = tmpDir('noom-nginx-');
  const cert = await makeCertificate(ng);
  if (!cert) {
    t.skip('no openssl');
    return;
  }
  const port = await freeTcpPort();
  const tlsPort = await freeTcpPort();
  // nginx's stream module ends TLS in front of its RTMP module, as a
  // deployment without an RTMPS-speaking server does
  fs.writeFileSync(path.join(ng, 'nginx.conf'), `load_module ${RTMP_MODULE};
load_module ${STREAM_MODULE};
daemon off;
master_process off;
pid ${ng}/nginx.pid;
error_log ${ng}/error.log info;
events { worker_connections 64; }
rtmp { server { listen 127.0.0.1:${port}; application live { live on; record off; } } }
stream { server { listen 127.0.0.1:${tlsPort} ssl; ssl_certificate ${cert.cert}; ssl_certificate_key ${cert.key}; proxy_pass 127.0.0.1:${port}; } }
`);
  const nginx = new Proc(NGINX, ['-p', ng, '-c', path.join(ng, 'nginx.conf'), '-e', path.join(ng, 'error.log')]);
  t.after(() => nginx.kill('SIGKILL'));
  await until(() => new Promise((resolve) => {
    const c = net.connect(tlsPort, '127.0.0.1', () => { c.destroy(); resolve(true); });
    c.on('error', () => resolve(false));
  }), (ok) => ok, 'nginx listening', 10000, 100);

  const server = await new Server().start();
  t.after(() => server.stop());
  const room = 'egress-rtmps';
  // the stream key and a password in the URL are secrets: logs, status
  // and summary show ****
  const url = `rtmps://bob:pa55word@127.0.0.1:${tlsPort}/live/s3cret-key`;
  const shown = `rtmps://bob:****@127.0.0.1:${tlsPort}/live/****`;
  const carol = new Proc('gst-launch-1.0', ['-e', 'videotestsrc', 'is-live=true', 'pattern=white', '!',
    'video/x-raw,width=320,height=240,framerate=15/1', '!', 's.', 'audiotestsrc', 'is-live=true', 'wave=sine', '!', 's.',
    'noomsink', 'name=s', `uri=${server.uri(room, '?nickname=carol')}`]);
  t.after(() => carol.kill('SIGKILL'));

  // without the authority: the certificate is refused, retried, and the
  // summary says the output never sent
  const dir1 = tmpDir('noom-egress-');
  const refused = record(server, room, dir1, ['--stream', url]);
  t.after(() => refused.kill('SIGKILL'));
  await refused.waitOutput(/RTMP output rtmps:\S+\/live\/\*\*\*\* failed: .*TLS certificate.*; retrying in \d+ s/, 'the refused certificate');
  refused.kill('SIGINT');
  assert.equal((await refused.wait(20000)).code, 0, refused.out);
  const [, kind, , , note] = summaryLine(refused.out, shown);
  assert.equal(kind, '(rtmp)');
  assert.match(note, /^\(never sent: .*TLS certificate.*\)$/);

  // with it: nginx gets the stream, a player reads it
  const dir2 = tmpDir('noom-egress-');
  const rec = record(server, room, dir2, ['--ca-file', cert.cert, '--stream', url]);
  t.after(() => rec.kill('SIGKILL'));
  await waitMkv(path.join(dir2, room), 1, 'carol\'s file');
  await delay(3000);
  const flv = path.join(dir2, 'played.flv');
  const play = new Proc('gst-launch-1.0', ['-e', 'rtmp2src', `location=rtmp://127.0.0.1:${port}/live/s3cret-key`, '!', 'filesink', `location=${flv}`]);
  t.after(() => play.kill('SIGKILL'));
  await until(() => fs.existsSync(flv) && fs.statSync(flv).size, (n) => n > 200000, 'the stream from the RTMP server', 20000);
  play.kill('SIGINT');
  await play.wait(10000);
  rec.kill('SIGINT');
  assert.equal((await rec.wait(20000)).code, 0, rec.out);
  const info = await probeFile(flv);
  t.diagnostic(`played.flv: ${info.videoFrames} frames, ${info.audioBuffers} audio buffers`);
  assert.ok(info.discovered && info.decoded, JSON.stringify(info));
  assert.deepEqual(info.video, ['video/x-h264']);
  assert.deepEqual(info.audio, ['audio/mpeg']);
  assert.ok(info.videoFrames >= 15, `${info.videoFrames} frames`);
  const [, , , bytes, ok] = summaryLine(rec.out, shown);
  assert.ok(Number(bytes) > 200000, `bytes sent: ${bytes}`);
  assert.equal(ok, undefined);
  for (const p of [refused, rec]) {
    assert.ok(!p.out.includes('s3cret-key'), `the stream key in noom-record's output:\n${p.out}`);
    assert.ok(!p.out.includes('pa55word'), `the password in noom-record's output:\n${p.out}`);
  }
});

test('--ca-file that cannot be read: exit 2 with the reason', async () => {
  const p = new Proc(env('NOOM_RECORD'), ['--ca-file', '/nonexistent/ca.pem', 'noom://127.0.0.1:1/r']);
  const { code } = await p.wait(10000);
  assert.equal(code, 2, p.out);
  assert.match(p.out, /--ca-file \/nonexistent\/ca\.pem: /);
});
