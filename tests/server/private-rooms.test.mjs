// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Private rooms (docs/protocol.md §1 "Access", docs/server.md "Access"):
// with --private-rooms, and by default with --token-secret, no client gets
// room_change; --public-rooms shows it to "*" tokens again.  A room is still
// reached by its name.  Every case is run against the same steps that give
// a room_change on an open server, so "nothing came" means something.
import { after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  SERVER, startServer, connect, ack, sync, closeAll, test, jwt,
} from './lib/server.mjs';

const SECRET = 'test-secret-0123456789abcdef0123';
const dir = mkdtempSync(join(tmpdir(), 'noom-private-'));
const secretFile = join(dir, 'secret');
writeFileSync(secretFile, SECRET + '\n');
after(() => rmSync(dir, { recursive: true, force: true }));

const token = (room) => jwt({ room, sub: 'u', can: ['publish', 'subscribe', 'chat'],
  exp: Math.floor(Date.now() / 1000) + 600 }, { secret: SECRET });

// A member in room "hidden", a client in no room that connects, leaves a
// room and watches the member leave and come back: the room_change events
// the watcher got.
async function watch(args, auth) {
  const server = await startServer(args);
  try {
    const member = await connect(server.url, { auth: auth && { token: auth('hidden') } });
    assert.equal((await ack(member, 'enter_room', 'hidden')).ok, true);
    const watcher = await connect(server.url, { auth: auth && { token: auth('*') } });
    await sync(watcher);
    assert.equal((await ack(watcher, 'enter_room', 'hidden')).ok, true,
      'a private room is still reached by its name');
    await ack(watcher, 'leave_room');
    await sync(watcher);
    await ack(member, 'leave_room');
    await ack(member, 'enter_room', 'hidden');
    await sync(watcher);
    const lists = watcher.received.filter(([n]) => n === 'room_change');
    closeAll(member, watcher);
    return lists;
  } finally {
    await server.stop();
  }
}

test('an open server lists the rooms (the control)', async () => {
  const lists = await watch([]);
  assert.ok(lists.some(([, names]) => names.includes('hidden')), JSON.stringify(lists));
});

test('--private-rooms: no room_change at all, joining by name works', async () => {
  assert.deepEqual(await watch(['--private-rooms']), []);
});

test('--token-secret: private by default, even for a "*" token', async () => {
  assert.deepEqual(await watch(['--token-secret', secretFile], token), []);
});

test('--token-secret --public-rooms: a "*" token gets the list', async () => {
  const lists = await watch(['--token-secret', secretFile, '--public-rooms'], token);
  assert.ok(lists.some(([, names]) => names.includes('hidden')), JSON.stringify(lists));
});

for (const args of [['--private-rooms', '--public-rooms', '--token-secret', secretFile], ['--public-rooms']]) {
  test(`${args.filter((a) => a.startsWith('--')).join(' ')}: a usage error (status 2)`, async () => {
    const code = await new Promise((resolve) => execFile(SERVER, ['--port', '0', ...args],
      (err) => resolve(err ? err.code : 0)));
    assert.equal(code, 2);
  });
}
