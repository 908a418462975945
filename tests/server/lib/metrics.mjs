// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Reading GET /metrics in the tests: one sample's value, and Debian's
// `promtool check metrics` on a whole exposition.
import { spawnSync } from 'node:child_process';
import { http } from './server.mjs';

export const havePromtool = spawnSync('promtool', ['--version']).status === 0;

// The value of the sample @name (with its labels, as written).
export function sample(text, name) {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

export function promtool(text) {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

// The exposition of @server's /metrics.
export async function metrics(server) {
  return (await http(server, '/metrics')).body;
}
