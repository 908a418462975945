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
#   whip        an HTTP publisher (a join with its offer, as noom-server
#               sends for POST /whip): the relay answers it, with its ICE
#               candidates in the answer, and forwards its audio and video
#               to a subscriber
#   whep        an HTTP player (a join with its offer and `play`) decodes a
#               publisher's audio and video; aiortc numbers VP8 and Opus
#               otherwise than the relay, so this covers the payload types
#               mapped per subscriber
#   whip-gone   an HTTP publisher that never connects is `gone` once
#               --connect-timeout passed after its answer; one that
#               connects is not
#   whip-h264   an HTTP publisher offering H.264 only (as OBS does): a
#               subscriber the relay offers it to and a WHEP player both
#               decode it
#   whip-codec  an HTTP publisher offering PCMU audio only gets
#               unsupported_codec naming it; one playing nobody gets no_media; one whose offer
#               is not SDP gets bad_offer
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

from aiortc import RTCPeerConnection, RTCRtpSender  # noqa: E402
from aiortc import RTCSessionDescription  # noqa: E402
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

    async def start(self, *args):
        self.proc = await asyncio.create_subprocess_exec(
            os.environ["NOOM_RELAY"], *args, stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE)
        self.members = {}
        self.stats = None
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
            elif op == "stats":
                # every 2 s: what it forwarded (noom-server's /metrics)
                self.stats = msg
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


class HttpMember:
    """A WHIP publisher or WHEP player: it offers, once, with its
    candidates in the offer (aiortc gathers before it describes), and the
    relay answers (noom-server hands the offer over in the join)."""

    def __init__(self, relay, pid, nickname, play=None, codec=None,
                 apply=True):
        self.relay, self.id, self.play = relay, pid, play
        self.apply = apply
        self.participant = {"id": pid, "nickname": nickname,
                            "kind": "subscriber" if play else "publisher",
                            "sends": [] if play else ["audio", "video"]}
        # aiortc 1.4 offers a transport per m-line in its BUNDLE group,
        # which webrtcbin 1.22 refuses: the relay must take it
        self.pc = RTCPeerConnection()
        self.frames = {}
        self.answers, self.errors, self.gone = [], [], []
        relay.members[pid] = self
        if play:
            for kind in ("audio", "video"):
                self.pc.addTransceiver(kind, direction="recvonly")
        else:
            senders = {"audio": self.pc.addTrack(AudioStreamTrack()),
                       "video": self.pc.addTrack(VideoStreamTrack())}
            if codec:
                kind = codec.split("/")[0]
                tr = next(x for x in self.pc.getTransceivers()
                          if x.sender == senders[kind])
                caps = RTCRtpSender.getCapabilities(kind).codecs
                tr.setCodecPreferences([c for c in caps
                                        if c.mimeType == codec])

        @self.pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self.consume(track))

    async def consume(self, track):
        while True:
            try:
                await track.recv()
            except Exception:
                return
            self.frames[track.kind] = self.frames.get(track.kind, 0) + 1

    def count(self, kind):
        return self.frames.get(kind, 0)

    async def join(self, offer=None):
        await self.pc.setLocalDescription(await self.pc.createOffer())
        msg = {"op": "join", "room": ROOM, "participant": self.participant,
               "offer": offer or self.pc.localDescription.sdp}
        if self.play:
            msg["play"] = self.play
        self.relay.send(msg)

    async def from_relay(self, msg):
        op = msg["op"]
        if op == "answer":
            d = msg["description"]
            assert d["type"] == "answer", d
            self.answers.append(d["sdp"])
            if not self.apply:
                return
            await self.pc.setRemoteDescription(
                RTCSessionDescription(sdp=d["sdp"], type="answer"))
        elif op == "error":
            self.errors.append(msg)
        elif op == "gone":
            self.gone.append(msg)
        elif op == "ice":
            pass            # noom-server drops these for HTTP participants
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
    # op "stats": alice's 2 tracks, 4 copies, each byte in sent twice
    first = relay.stats
    await until(lambda: relay.stats is not first and relay.stats
                and relay.stats["tracks"] == 2
                and relay.stats["branches"] == 4
                and relay.stats["bytes_out"] > 0,
                "the relay's stats of 2 tracks and 4 copies", 10)
    st = relay.stats
    assert st["packets_out"] > 1.2 * st["packets_in"], st
    assert st["keyframe_requests"] >= 1, st
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


async def case_whip(relay):
    pub = HttpMember(relay, "whip0000000000000000", "obs")
    sub = Member(relay, "sub00000000000000001", "bob", "subscriber", [])
    sub.join()
    await pub.join()
    await until(lambda: pub.answers or pub.errors, "the relay's answer", 10)
    assert not pub.errors, pub.errors
    answer = pub.answers[0]
    assert "a=candidate:" in answer, "the answer carries no candidates"
    assert answer.count("a=recvonly") == 2, answer
    await until(lambda: sub.count(pub.id, "video") >= 30
                and sub.count(pub.id, "audio") >= 30,
                "the subscriber to decode the WHIP publisher", 20)
    kinds = sorted((t["kind"], t["id"]) for t in sub.offers[-1]["tracks"])
    assert kinds == [("audio", pub.id), ("video", pub.id)], kinds
    # it leaves like anyone: the subscriber's m-lines go inactive
    offers = len(sub.offers)
    relay.send({"op": "leave", "room": ROOM, "id": pub.id})
    await until(lambda: len(sub.offers) > offers, "an offer after the leave",
                10)
    assert active_mids(sub.offers[-1]["sdp"]) == []
    for m in (pub, sub):
        await m.close()


async def case_whep(relay):
    pub = Member(relay, "pub00000000000000000", "alice", "browser",
                 ["audio", "video"])
    pub.join()
    # joining at once: the relay waits for alice's tracks before answering
    player = HttpMember(relay, "whep0000000000000001", "player", play=pub.id)
    await player.join()
    await until(lambda: player.answers or player.errors, "the answer", 10)
    assert not player.errors, player.errors
    assert player.answers[0].count("a=sendonly") == 2, player.answers[0]
    await until(lambda: player.count("video") >= 30
                and player.count("audio") >= 30,
                "the WHEP player to decode alice", 20)
    # a second player later: its first frame needs a keyframe
    late = HttpMember(relay, "whep0000000000000002", "late", play=pub.id)
    await late.join()
    await until(lambda: late.count("video") >= 10, "the late player", 10)
    for m in (pub, player, late):
        await m.close()


async def case_whip_h264(relay):
    pub = HttpMember(relay, "whip0000000000000001", "obs", codec="video/H264")
    sub = Member(relay, "sub00000000000000001", "bob", "subscriber", [])
    sub.join()
    await pub.join()
    await until(lambda: pub.answers or pub.errors, "the answer", 10)
    assert not pub.errors, pub.errors
    assert "H264" in pub.answers[0], pub.answers[0]
    await until(lambda: sub.count(pub.id, "video") >= 30,
                "the subscriber to decode the H.264 publisher", 20)
    assert "H264" in sub.offers[-1]["sdp"]
    player = HttpMember(relay, "whep0000000000000001", "player", play=pub.id)
    await player.join()
    await until(lambda: player.answers or player.errors, "the answer", 10)
    assert not player.errors, player.errors
    await until(lambda: player.count("video") >= 30,
                "the WHEP player to decode the H.264 publisher", 20)
    for m in (pub, sub, player):
        await m.close()


async def case_whip_codec(relay):
    pcmu = HttpMember(relay, "whip0000000000000001", "phone",
                      codec="audio/PCMU")
    await pcmu.join()
    await until(lambda: pcmu.errors or pcmu.answers, "an error", 10)
    assert not pcmu.answers
    err = pcmu.errors[0]
    assert err["code"] == "unsupported_codec" and "PCMU" in err["message"], \
        err

    nobody = HttpMember(relay, "whep0000000000000001", "p",
                        play="no-such-participant")
    await nobody.join()
    await until(lambda: nobody.errors, "no_media", 10)
    assert nobody.errors[0]["code"] == "no_media", nobody.errors

    bad = HttpMember(relay, "whip0000000000000002", "bad")
    await bad.join(offer="this is no SDP")
    await until(lambda: bad.errors, "bad_offer", 10)
    assert bad.errors[0]["code"] == "bad_offer", bad.errors

    # the relay still works
    pub = HttpMember(relay, "whip0000000000000003", "obs2")
    sub = Member(relay, "sub00000000000000001", "bob", "subscriber", [])
    sub.join()
    await pub.join()
    await until(lambda: sub.count(pub.id, "video") >= 10, "frames", 20)
    for m in (pcmu, nobody, bad, pub, sub):
        await m.close()


async def case_whip_gone(relay):
    # started with --connect-timeout 2 (RELAY_ARGS)
    ghost = HttpMember(relay, "whip0000000000000001", "ghost", apply=False)
    await ghost.join()
    await until(lambda: ghost.answers, "the answer", 10)
    # its client never takes the answer: no connection ever comes up
    await until(lambda: ghost.gone, "gone for a client that never connects",
                2 + 10)
    assert "did not come up" in ghost.gone[0]["reason"], ghost.gone
    # one that connects is not gone
    pub = HttpMember(relay, "whip0000000000000002", "obs")
    sub = Member(relay, "sub00000000000000001", "bob", "subscriber", [])
    sub.join()
    await pub.join()
    await until(lambda: sub.count(pub.id, "video") >= 10, "frames", 20)
    await asyncio.sleep(scaled(3))
    assert not pub.gone, pub.gone
    for m in (ghost, pub, sub):
        await m.close()


RELAY_ARGS = {"whip-gone": ["--connect-timeout", "2"]}

CASES = {
    "forward": case_forward,
    "late": case_late,
    "leave": case_leave,
    "publisher-kind": case_publisher_kind,
    "bad-input": case_bad_input,
    "whip": case_whip,
    "whep": case_whep,
    "whip-h264": case_whip_h264,
    "whip-codec": case_whip_codec,
    "whip-gone": case_whip_gone,
}


async def main(case):
    relay = Relay()
    await relay.start(*RELAY_ARGS.get(case, []))
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
