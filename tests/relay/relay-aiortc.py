#!/usr/bin/python3
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# noom-relay on its own: the test plays noom-server's part on the relay's
# control channel (stdin/stdout, one JSON object per line, as
# docs/server-internals.md says) and puts real WebRTC stacks (aiortc) at
# the participants' ends.  Cases:
#
#   forward     a publisher (audio and video) and two subscribers: both
#               decode the publisher's video and audio, through the relay,
#               which offers every connection and says whose each m-line is
#   late        a subscriber joins a running publisher and decodes video
#               within a few seconds: the relay asks the publisher for a
#               keyframe (aiortc sends one only when asked)
#   leave       the publisher leaves: the subscriber gets a new offer whose
#               m-lines are inactive and whose `tracks` is empty; a new
#               publisher's tracks then reach it on new m-lines
#   publisher-kind  a participant of kind publisher gets only upload m-lines
#   bad-input   lines that are not JSON, unknown ops, unknown participants
#               and an answer with no offer are logged and skipped: the
#               relay goes on forwarding
#
# Usage: relay-aiortc.py CASE; needs $NOOM_RELAY.  Deadlines scale with
# $NOOM_TEST_TIME_SCALE.  aioice leaves 127.0.0.1 out of its host
# candidates, and the test's namespace has nothing else: the test makes it
# offer 127.0.0.1 (as tests/elements/aiortc-interop.py does).

import asyncio
import json
import os
import sys

import aioice.ice

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack  # noqa
from aiortc.sdp import candidate_from_sdp  # noqa: E402

SCALE = float(os.environ.get("NOOM_TEST_TIME_SCALE", "1") or 1)
ROOM = "r"


def scaled(seconds):
    return seconds * SCALE


async def until(pred, what, seconds):
    deadline = asyncio.get_running_loop().time() + scaled(seconds)
    while not pred():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("timed out waiting for " + what)
        await asyncio.sleep(0.05)


class Relay:
    """noom-relay, and noom-server's side of its control channel."""

    async def start(self):
        self.proc = await asyncio.create_subprocess_exec(
            os.environ["NOOM_RELAY"], stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        self.members = {}
        self.ready = asyncio.Event()
        self.reader = asyncio.ensure_future(self.read())
        await asyncio.wait_for(self.ready.wait(), scaled(10))

    async def read(self):
        while True:
            line = await self.proc.stdout.readline()
            if not line:
                return
            msg = json.loads(line)
            op = msg.get("op")
            if op == "ready":
                self.ready.set()
            elif msg.get("to") in self.members:
                await self.members[msg["to"]].from_relay(msg)
            else:
                raise AssertionError("a message for nobody: %r" % msg)

    def send(self, msg):
        self.proc.stdin.write((json.dumps(msg) + "\n").encode())

    def raw(self, text):
        self.proc.stdin.write(text.encode())

    async def stop(self):
        self.proc.stdin.close()
        try:
            code = await asyncio.wait_for(self.proc.wait(), scaled(10))
        except asyncio.TimeoutError:
            self.proc.kill()
            raise AssertionError("noom-relay did not exit when its stdin "
                                 "closed")
        self.reader.cancel()
        assert code == 0, "noom-relay exited with %d" % code


class Member:
    """A participant with one aiortc connection to the relay, which it
    only answers (docs/protocol.md §11)."""

    def __init__(self, relay, pid, nickname, kind, sends):
        self.relay, self.id = relay, pid
        self.participant = {"id": pid, "nickname": nickname, "kind": kind,
                            "sends": sends}
        self.pc = RTCPeerConnection()
        self.frames = {}            # participant id -> kind -> frames
        self.offers = []            # the descriptions, in order
        self.errors = []
        self.mids = {}              # mid -> track entry, from `tracks`
        self.local = {"audio": AudioStreamTrack(),
                      "video": VideoStreamTrack()}
        relay.members[pid] = self

        @self.pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self.consume(track))

    def join(self):
        self.relay.send({"op": "join", "room": ROOM,
                         "participant": self.participant})

    def leave(self):
        self.relay.send({"op": "leave", "room": ROOM, "id": self.id})

    def count(self, who, kind):
        return self.frames.get(who, {}).get(kind, 0)

    async def consume(self, track):
        # whose: the transceiver's mid, looked up in the offer's tracks
        mid = next((t.mid for t in self.pc.getTransceivers()
                    if t.receiver.track is track), None)
        entry = self.mids.get(mid)
        assert entry and not entry.get("upload"), \
            "a track on m-line %s, which the offer gave nobody" % mid
        who = entry["id"]
        while True:
            try:
                await track.recv()
            except Exception:
                return
            per = self.frames.setdefault(who, {})
            per[track.kind] = per.get(track.kind, 0) + 1

    async def from_relay(self, msg):
        op = msg["op"]
        if op == "offer":
            d = msg["description"]
            self.offers.append(d)
            for t in d["tracks"]:
                self.mids[t["mid"]] = t
            await self.pc.setRemoteDescription(
                RTCSessionDescription(sdp=d["sdp"], type="offer"))
            for t in self.pc.getTransceivers():
                entry = self.mids.get(t.mid)
                if entry and entry.get("upload") and t.sender.track is None:
                    t.direction = "sendonly"
                    t.sender.replaceTrack(self.local[entry["kind"]])
            await self.pc.setLocalDescription(await self.pc.createAnswer())
            self.relay.send({"op": "answer", "room": ROOM, "from": self.id,
                             "description": {
                                 "type": "answer",
                                 "sdp": self.pc.localDescription.sdp}})
        elif op == "ice":
            c = msg["candidate"]
            cand = candidate_from_sdp(c["candidate"].split(":", 1)[1])
            cand.sdpMLineIndex = c.get("sdpMLineIndex", 0)
            cand.sdpMid = self.pc.getTransceivers()[0].mid
            await self.pc.addIceCandidate(cand)
        elif op == "error":
            self.errors.append(msg)
        else:
            raise AssertionError("unexpected op from the relay: %r" % msg)

    async def close(self):
        await self.pc.close()


def active_mids(sdp):
    """The mids of the m-lines that are not inactive."""
    mids, mid, inactive = [], None, False
    for line in sdp.splitlines() + ["m="]:
        if line.startswith("m="):
            if mid is not None and not inactive:
                mids.append(mid)
            mid, inactive = None, False
        elif line.startswith("a=mid:"):
            mid = line[6:]
        elif line == "a=inactive":
            inactive = True
    return mids


async def case_forward(relay):
    pub = Member(relay, "pub00000000000000000", "alice", "browser",
                 ["audio", "video"])
    subs = [Member(relay, "sub%017d" % i, "bob%d" % i, "subscriber", [])
            for i in range(2)]
    pub.join()
    for s in subs:
        s.join()
    for s in subs:
        await until(lambda: s.count(pub.id, "video") >= 30
                    and s.count(pub.id, "audio") >= 30,
                    "%s to decode alice's video and audio" % s.id, 20)
        kinds = sorted((t["kind"], t["id"], t["nickname"])
                       for t in s.offers[-1]["tracks"])
        assert kinds == [("audio", pub.id, "alice"),
                         ("video", pub.id, "alice")], kinds
    ups = [t for t in pub.offers[0]["tracks"] if t.get("upload")]
    assert sorted(t["kind"] for t in ups) == ["audio", "video"], ups
    # webrtcbin 1.22 writes the stream id on the a=ssrc lines
    assert "msid:" + pub.id + " " in subs[0].offers[-1]["sdp"], \
        "the m-lines do not carry the publisher's id as their stream id"
    for m in [pub] + subs:
        await m.close()


async def case_late(relay):
    pub = Member(relay, "pub00000000000000000", "alice", "browser",
                 ["video"])
    first = Member(relay, "sub00000000000000001", "bob", "subscriber", [])
    pub.join()
    first.join()
    await until(lambda: first.count(pub.id, "video") >= 30,
                "the first subscriber's frames", 20)
    await asyncio.sleep(scaled(2))
    late = Member(relay, "sub00000000000000002", "carol", "subscriber", [])
    late.join()
    await until(lambda: late.count(pub.id, "video") >= 10,
                "the late subscriber's first frames (a keyframe)", 10)
    for m in (pub, first, late):
        await m.close()


async def case_leave(relay):
    pub = Member(relay, "pub00000000000000000", "alice", "browser",
                 ["video"])
    sub = Member(relay, "sub00000000000000001", "bob", "subscriber", [])
    pub.join()
    sub.join()
    await until(lambda: sub.count(pub.id, "video") >= 10, "frames", 20)
    offers = len(sub.offers)
    pub.leave()
    await until(lambda: len(sub.offers) > offers, "an offer after the leave",
                10)
    last = sub.offers[-1]
    assert last["tracks"] == [], last["tracks"]
    assert active_mids(last["sdp"]) == [], active_mids(last["sdp"])
    await pub.close()

    again = Member(relay, "pub00000000000000002", "alice", "browser",
                   ["video"])
    again.join()
    await until(lambda: sub.count(again.id, "video") >= 10,
                "frames from the publisher who came back", 20)
    assert len(active_mids(sub.offers[-1]["sdp"])) == 1
    await again.close()
    await sub.close()


async def case_publisher_kind(relay):
    a = Member(relay, "pub00000000000000001", "cam1", "publisher", ["video"])
    b = Member(relay, "pub00000000000000002", "cam2", "publisher", ["video"])
    sub = Member(relay, "sub00000000000000001", "bob", "subscriber", [])
    for m in (a, b, sub):
        m.join()
    await until(lambda: sub.count(a.id, "video") >= 10
                and sub.count(b.id, "video") >= 10, "both cameras", 20)
    for m in (a, b):
        assert all(t.get("upload") for t in m.offers[-1]["tracks"]), \
            m.offers[-1]["tracks"]
        assert len(m.offers[-1]["tracks"]) == 1
    for m in (a, b, sub):
        await m.close()


async def case_bad_input(relay):
    relay.raw("this is not json\n")
    relay.raw("[1,2,3]\n")
    relay.send({"op": "no-such-op"})
    relay.send({"op": "answer", "room": ROOM, "from": "nobody",
                "description": {"type": "answer", "sdp": "v=0"}})
    relay.send({"op": "ice", "room": "nowhere", "from": "x",
                "candidate": None})
    relay.send({"op": "join", "room": ROOM, "participant": {"nickname": "x"}})
    pub = Member(relay, "pub00000000000000000", "alice", "browser",
                 ["video"])
    sub = Member(relay, "sub00000000000000001", "bob", "subscriber", [])
    pub.join()
    sub.join()
    await until(lambda: sub.count(pub.id, "video") >= 10, "frames", 20)
    # an answer when no offer is out, and one that is not SDP
    relay.send({"op": "answer", "room": ROOM, "from": sub.id,
                "description": {"type": "answer", "sdp": "garbage"}})
    mark = sub.count(pub.id, "video")
    await until(lambda: sub.count(pub.id, "video") >= mark + 10,
                "frames after the bad input", 10)
    for m in (pub, sub):
        await m.close()


CASES = {
    "forward": case_forward,
    "late": case_late,
    "leave": case_leave,
    "publisher-kind": case_publisher_kind,
    "bad-input": case_bad_input,
}


async def main(case):
    relay = Relay()
    await relay.start()
    try:
        await CASES[case](relay)
    finally:
        for m in relay.members.values():
            await m.close()
        await relay.stop()


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit("usage: relay-aiortc.py %s" % "|".join(CASES))
    asyncio.run(main(sys.argv[1]))
    print("ok")
