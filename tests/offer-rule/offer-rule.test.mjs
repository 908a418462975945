// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// The web client's offer rule (tools/noom-server/web/offer-rule.js, which
// mesh.js follows) against the shared table that noom_offer_plan() also
// passes (tests/unit/test-room.c): every pair of kinds in both join
// orders, every pair of `sends`.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { cases } = JSON.parse(fs.readFileSync(path.join(here, 'cases.json'), 'utf8'));
const { offerPlan } = await import(path.join(here, '../../tools/noom-server/web/offer-rule.js'));

test('the table covers every pair of kinds in both join orders', () => {
  const kinds = ['browser', 'publisher', 'subscriber', 'recorder'];
  for (const l of kinds)
    for (const r of kinds)
      for (const first of [true, false])
        assert.ok(cases.some((c) => c.local_kind === l && c.remote_kind === r && c.local_was_first === first),
          `${l} / ${r} / ${first}`);
});

test('the web client follows the offer rule of docs/protocol.md §7', () => {
  for (const c of cases) {
    const plan = offerPlan(c.local_was_first, c.local_sends, c.remote_sends);
    assert.deepEqual(plan, { connect: c.connect, offer: c.offer, audio: c.audio, video: c.video },
      JSON.stringify(c));
  }
});

test('for every pair exactly one side offers, and the two sides\' directions mirror', () => {
  const mirror = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', none: 'none' };
  for (const c of cases.filter((x) => x.local_was_first)) {
    const a = offerPlan(true, c.local_sends, c.remote_sends);
    const b = offerPlan(false, c.remote_sends, c.local_sends);
    assert.equal(a.connect, b.connect);
    assert.equal(a.offer && b.offer, false);
    assert.equal(a.offer || b.offer, a.connect);
    assert.equal(b.audio, mirror[a.audio]);
    assert.equal(b.video, mirror[a.video]);
  }
});
