// Noom
// Copyright (C) 2026 Noom developers
// SPDX-License-Identifier: LGPL-2.1-or-later
//
// Waiting in tests, shared by the browser harness and the jobs library:
// tests wait on a condition with a deadline, never sleep and hope.

export const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// Every deadline of the tests is multiplied by NOOM_TEST_TIME_SCALE (a
// float, default 1): on a loaded machine one factor stretches them all.
export const TIME_SCALE = Number(process.env.NOOM_TEST_TIME_SCALE) > 0 ?
  Number(process.env.NOOM_TEST_TIME_SCALE) : 1;
export const scaled = (ms) => Math.round(ms * TIME_SCALE);

// Polls `probe` until `ok(value)` holds, or fails after `timeout` ms
// (scaled) with the last value seen.
export async function until(probe, ok, what, timeout = 30000, every = 250) {
  timeout = scaled(timeout);
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    last = await probe();
    if (ok(last))
      return last;
    if (Date.now() > end)
      throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await delay(every);
  }
}
