// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Every property, signal and action gst-inspect-1.0 shows for noomsink,
// noomsrc and noomsrc's pads has its gtk-doc block in gst/
// (GstNoomSink:prop:, GstNoomBaseBin::signal:, ...) with a Since: marker.

import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const gstDir = path.join(here, '../../gst');
const sources = fs.readdirSync(gstDir).filter((f) => f.endsWith('.c'))
  .map((f) => fs.readFileSync(path.join(gstDir, f), 'utf8')).join('\n');
// GstObject's, GstElement's and GstBin's own, documented by GStreamer
const INHERITED = new Set(['name', 'parent', 'async-handling', 'message-forward',
  'pad-added', 'pad-removed', 'no-more-pads']);
const OWNERS = 'GstNoom(?:BaseBin|Sink|Src|SrcPad)';

function inspect(element) {
  return execFileSync('gst-inspect-1.0', [element], { encoding: 'utf8' });
}

function section(text, title) {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === title);
  assert.ok(start >= 0, `no "${title}" in gst-inspect-1.0's output`);
  const out = [];
  for (const l of lines.slice(start + 1)) {
    if (/^\S/.test(l) || (out.length && l.trim() === '' && !/^\s{4}/.test(l)))
      break;
    out.push(l);
  }
  return out;
}

function names(lines, re) {
  return [...new Set(lines.map((l) => re.exec(l)).filter((m) => m).map((m) => m[1]))];
}

function documented(kind, name) {
  const sep = kind === 'signal' ? '::' : ':';
  const block = new RegExp(`/\\*\\*\\s*\\n\\s*\\* ${OWNERS}${sep}${name}:\\n([^]*?)\\*/`);
  const m = block.exec(sources);
  return m && /\* Since: \d/.test(m[1]) ? m[1] : null;
}

for (const element of ['noomsink', 'noomsrc']) {
  test(`${element}: every property and signal has a doc block with Since:`, () => {
    const text = inspect(element);
    const props = names(section(text, 'Element Properties:'), /^ {2}([a-z][a-z0-9-]*)\s+:/)
      .filter((n) => !INHERITED.has(n));
    assert.ok(props.length >= 10, props.join(' '));
    const signals = names(section(text, 'Element Signals:'), /^ {2}"([a-z-]+)"/)
      .filter((n) => !INHERITED.has(n));
    assert.equal(signals.filter((n) => n.startsWith('participant-')).length, 5,
      signals.join(' '));
    assert.ok(signals.includes('chat-message'), signals.join(' '));
    const actions = names(section(text, 'Element Actions:'), /^ {2}"([a-z-]+)"/);
    assert.ok(actions.includes('send-chat'), actions.join(' '));
    signals.push(...actions);
    const missing = [
      ...props.filter((n) => !documented('property', n)).map((n) => `property ${n}`),
      ...signals.filter((n) => !documented('signal', n)).map((n) => `signal ${n}`),
    ];
    if (element === 'noomsrc') {
      const padProps = names(text.split('\n'), /^ {6}([a-z][a-z0-9-]*)\s+:/);
      assert.ok(padProps.includes('participant-id'), padProps.join(' '));
      missing.push(...padProps.filter((n) => !documented('property', n)).map((n) => `pad property ${n}`));
    }
    assert.deepEqual(missing, [], `undocumented in gst/*.c: ${missing.join(', ')}`);
  });
}
