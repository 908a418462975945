/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * Who speaks: the audio level of every participant, read from getStats
 * (inbound-rtp audioLevel of each remote participant; media-source
 * audioLevel of our own microphone), four times a second.
 *
 * Hysteresis, so that a ring neither flickers between words nor lights on
 * background noise: a participant starts speaking when its level reaches
 * START, and stops only after it stayed below STOP for HOLD_MS.  The
 * active speaker (for the speaker-first layout) is the loudest one
 * speaking; it stays the active speaker until someone else speaks.
 */

const START = 0.04;
const STOP = 0.015;
const HOLD_MS = 1500;
const PERIOD_MS = 250;

export class Speakers {
  /* levels(): Promise of Map id -> level (0..1); onChange(speaking, active)
   * with the Set of ids speaking and the active speaker's id (or null). */
  constructor(levels, onChange) {
    this.levels = levels;
    this.onChange = onChange;
    this.speaking = new Set();
    this.active = null;
    this.lastLoud = new Map();  /* id -> time its level was last >= STOP */
    this.timer = null;
    this.busy = false;
  }

  start() {
    if (!this.timer)
      this.timer = setInterval(() => this.tick(), PERIOD_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.speaking.clear();
    this.lastLoud.clear();
    this.active = null;
    this.onChange(this.speaking, this.active);
  }

  async tick() {
    if (this.busy)
      return;
    this.busy = true;
    let levels;
    try {
      levels = await this.levels();
    } catch (e) {
      levels = new Map();
    } finally {
      this.busy = false;
    }
    if (!this.timer)
      return;
    const now = performance.now();
    let changed = false;
    let loudest = null;
    for (const [id, level] of levels) {
      if (level >= STOP)
        this.lastLoud.set(id, now);
      if (!this.speaking.has(id) && level >= START) {
        this.speaking.add(id);
        changed = true;
      }
      if (this.speaking.has(id) && level >= START &&
          (!loudest || level > loudest.level))
        loudest = { id, level };
    }
    for (const id of [...this.speaking]) {
      const last = this.lastLoud.get(id) || 0;
      if (!levels.has(id) || now - last > HOLD_MS) {
        this.speaking.delete(id);
        this.lastLoud.delete(id);
        changed = true;
      }
    }
    if (loudest && loudest.id !== this.active) {
      this.active = loudest.id;
      changed = true;
    }
    if (this.active && !levels.has(this.active)) {
      this.active = null;
      changed = true;
    }
    if (changed)
      this.onChange(this.speaking, this.active);
  }
}

/* The levels of a room's calls (mesh.js or sfu.js): remote participants by
 * their id, ours as "self" (zero while muted). */
export async function callLevels(calls, owners, muted) {
  const out = new Map();
  let self = 0;
  for (const [id, pc] of calls.pcs) {
    const stats = await pc.getStats();
    stats.forEach((s) => {
      if (s.type === "inbound-rtp" && s.kind === "audio") {
        const who = owners ? owners.get(s.mid) : id;
        if (who)
          out.set(who, Math.max(out.get(who) || 0, s.audioLevel || 0));
      } else if (s.type === "media-source" && s.kind === "audio") {
        self = Math.max(self, s.audioLevel || 0);
      }
    });
  }
  out.set("self", muted ? 0 : self);
  return out;
}
