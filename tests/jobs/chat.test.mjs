// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The jobs in the room's chat, read by a socket.io-client in the room:
// noom-record says "Recording started" / "Recording stopped" (not with
// --quiet), noom-ingest --announce TEXT says TEXT once in the room.

import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';
import { Server, Proc, env, publisher, tmpDir, listFiles, until } from './lib.mjs';

const require = createRequire(import.meta.url);
const { io } = require('../node_modules/socket.io-client');

// Someone in @room who only reads the chat: .said is [{nickname, text}].
async function listener(server, room) {
  const s = io(`http://127.0.0.1:${server.port}`, { transports: ['websocket'], forceNew: true, reconnection: false });
  s.said = [];
  s.on('new_message', (line, d) => s.said.push({ nickname: d.nickname, text: d.text }));
  await new Promise((resolve, reject) => {
    s.once('connect', resolve);
    s.once('connect_error', reject);
  });
  const r = await s.timeout(5000).emitWithAck('enter_room', room, { kind: 'subscriber', sends: [] });
  assert.equal(r.ok, true, JSON.stringify(r));
  return s;
}

async function heard(s, re, what, timeout = 20000) {
  return until(() => s.said.find((m) => re.test(m.text)), (m) => m, `${what} in the chat: ${JSON.stringify(s.said)}`, timeout, 50);
}

function record(server, room, dir, extra = []) {
  return new Proc(env('NOOM_RECORD'), ['-v', '-o', dir, ...extra, server.uri(room)]);
}

async function stop(p, signal = 'SIGINT') {
  p.kill(signal);
  assert.equal((await p.wait(20000)).code, 0, p.out);
}

test('noom-record tells the chat when it starts and stops recording', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const room = 'chat-rec';
  const chat = await listener(server, room);
  t.after(() => chat.close());
  const rec = record(server, room, tmpDir('noom-chat-rec-'));
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.nickname === 'recorder', 'the recorder');

  const alice = publisher(server.uri(room, '?nickname=alice'), { audio: false });
  t.after(() => alice.kill('SIGKILL'));
  const started = await heard(chat, /^Recording started: alice \(alice-.*\.mkv\)$/, 'alice\'s start');
  assert.equal(started.nickname, 'recorder');
  await stop(alice);
  await heard(chat, /^Recording stopped: alice left \(\d\d:\d\d:\d\d\)$/, 'alice\'s stop');

  const bob = publisher(server.uri(room, '?nickname=bob'), { audio: false });
  t.after(() => bob.kill('SIGKILL'));
  await heard(chat, /^Recording started: bob /, 'bob\'s start');
  await stop(rec);
  await heard(chat, /^Recording stopped: bob$/, 'the recorder\'s stop');
  assert.equal(chat.said.filter((m) => m.nickname === 'recorder').length, 4, JSON.stringify(chat.said));
  await stop(bob);
});

test('noom-record --quiet says nothing in the chat', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const room = 'chat-quiet';
  const chat = await listener(server, room);
  t.after(() => chat.close());
  const dir = tmpDir('noom-chat-quiet-');
  const rec = record(server, room, dir, ['--quiet']);
  t.after(() => rec.kill('SIGKILL'));
  await server.waitJoin((e) => e.nickname === 'recorder', 'the recorder');

  const alice = publisher(server.uri(room, '?nickname=alice'), { audio: false });
  t.after(() => alice.kill('SIGKILL'));
  // the file is started (as the chat would have been told): a clip to the
  // stop and a word from alice to be sure the chat works
  await rec.waitOutput(/alice joined: /, 'alice\'s file');
  await until(() => listFiles(path.join(dir, room)), (f) => f.length === 1, 'alice\'s file', 20000);
  await stop(alice);
  await rec.waitOutput(/alice left: /, 'alice\'s file finished');
  await stop(rec);
  const other = await listener(server, room);
  t.after(() => other.close());
  other.emit('new_message', 'the end', room);
  await heard(chat, /^the end$/, 'the last word');
  assert.deepEqual(chat.said.filter((m) => m.nickname === 'recorder'), []);
});

test('noom-ingest --announce TEXT says TEXT once in the room', async (t) => {
  const work = tmpDir('noom-chat-ingest-');
  const clip = path.join(work, 'clip.mkv');
  const mk = new Proc('gst-launch-1.0', ['-q', 'videotestsrc', 'num-buffers=30', '!',
    'video/x-raw,width=160,height=120,framerate=15/1', '!', 'vp8enc', 'deadline=1', '!',
    'matroskamux', '!', 'filesink', `location=${clip}`]);
  assert.equal((await mk.wait(30000)).code, 0, mk.out);
  const server = await new Server().start();
  t.after(() => server.stop());
  const room = 'chat-ingest';
  const chat = await listener(server, room);
  t.after(() => chat.close());

  const ing = new Proc(env('NOOM_INGEST'), ['--announce', 'now playing: clip ♪', clip, server.uri(room, '?nickname=movie')]);
  t.after(() => ing.kill('SIGKILL'));
  const m = await heard(chat, /^now playing: clip ♪$/, 'the announcement');
  assert.equal(m.nickname, 'movie');
  assert.equal((await ing.wait(30000)).code, 0, ing.out);
  assert.equal(chat.said.length, 1, JSON.stringify(chat.said));
});

// examples/chat-bot.py: Python, through GObject introspection.
test('examples/chat-bot.py greets, answers !time and !echo, and leaves on SIGINT', async (t) => {
  const server = await new Server().start();
  t.after(() => server.stop());
  const room = 'chat-bot';
  const chat = await listener(server, room);
  t.after(() => chat.close());
  const bot = new Proc('/usr/bin/python3', [path.join(env('NOOM_EXAMPLES'), 'chat-bot.py'), server.uri(room)]);
  t.after(() => bot.kill('SIGKILL'));
  const hello = await heard(chat, /^chat-bot here: /, 'the greeting')
    .catch((e) => { throw new Error(`${e.message}\nchat-bot.py:\n${bot.out}`); });
  assert.equal(hello.nickname, 'chat-bot');

  chat.emit('new_message', '!time', room);
  await heard(chat, /^It is \d\d:\d\d:\d\d UTC$/, 'the time');
  chat.emit('new_message', '!echo hi there ✓', room);
  await heard(chat, /^hi there ✓$/, 'the echo');
  await bot.waitOutput(/Anon \(\S+\): !echo hi there ✓/, 'the message printed');
  const j = await server.waitJoin((e) => e.nickname === 'chat-bot', 'the bot');
  await stop(bot);
  await server.waitLeave(j.id);
});
