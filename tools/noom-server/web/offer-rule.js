/* Noom
 * Copyright (C) 2026 Noom developers
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
/*
 * Who offers, and with which directions (docs/protocol.md §7): the web
 * client's copy of noom_offer_plan() (lib/noom-room.c), which the elements
 * call.  Both pass the same table, tests/offer-rule/cases.json.
 *
 * For the pair (local, remote): localWasFirst is true when the local side
 * was in the room first (it learnt of the remote side through `welcome`).
 * The one that was first offers.  No connection when neither side sends.
 * Each kind: sendrecv when both send it, sendonly when only the local side
 * does, recvonly when only the remote side does, none when neither.
 */

export const KINDS = ["audio", "video"];

export function offerPlan(localWasFirst, localSends, remoteSends) {
  const ours = localSends || [];
  const theirs = remoteSends || [];
  const connect = KINDS.some((k) => ours.includes(k) || theirs.includes(k));
  const plan = { connect, offer: connect && localWasFirst };
  for (const kind of KINDS) {
    const we = ours.includes(kind);
    const they = theirs.includes(kind);
    plan[kind] = we && they ? "sendrecv" : we ? "sendonly" : they ? "recvonly" : "none";
  }
  return plan;
}
