// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// A redis-server of the test's own for noom-server --redis: on loopback,
// on a free port, in a directory of the test's, saving nothing.
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { deadline } from './server.mjs';

export const haveRedis = spawnSync('redis-server', ['--version']).status === 0;

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// redis-server on 127.0.0.1:@port in @dir, nothing saved.
export async function startRedis(port, dir) {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--dir', dir, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const reap = () => child.kill('SIGKILL');
  process.on('exit', reap);
  child.on('exit', () => process.off('exit', reap));
  await deadline(new Promise((resolve, reject) => {
    const t = setInterval(() => {
      if (/Ready to accept connections/.test(out)) { clearInterval(t); resolve(); }
      if (child.exitCode !== null) { clearInterval(t); reject(new Error(`redis-server exited: ${out}`)); }
    }, 20);
  }), 5000, 'redis-server to start');
  child.stopped = new Promise((resolve) => child.on('exit', resolve));
  return child;
}

