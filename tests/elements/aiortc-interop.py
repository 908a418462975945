#!/usr/bin/python3
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A third-party WebRTC stack in the room: aiortc, driven by python-socketio,
# written only from docs/protocol.md.  Each case starts noom-server and one
# gst-launch-1.0 pipeline (noomsink or noomsrc) and checks that frames
# actually flow, in the given join order:
#
#   aiortc-to-noomsrc  aiortc-first | gst-first
#   noomsink-to-aiortc aiortc-first | gst-first
#   codec-mismatch     aiortc-first: aiortc takes only H.264 video, which
#                      noomsink (VP8) cannot send: a warning naming the
#                      codecs, and the audio still flows
#   trickle-bundled    aiortc-first: aiortc's offer carries no candidates;
#                      they follow as `ice` for the second (bundled) m-line
#                      only, and aiortc ignores noomsrc's candidates, so the
#                      connection comes up only if noomsrc applies them to
#                      the tagged m-line (webrtcbin has no ICE stream for
#                      m-line 1 under BUNDLE: "Unknown mline 1, ignoring")
#   refused-offer      gst-first: aiortc answers noomsink's offer with
#                      offer_failed; noomsink gives that connection up with
#                      a warning carrying the reason
#   bad-offer          aiortc-first: aiortc's offer lacks ice-ufrag, which
#                      noomsrc cannot apply: aiortc gets offer_failed
#                      (docs/protocol.md §5) with a reason
#   noomsink-remb      aiortc-first | gst-first: aiortc receives noomsink's
#                      video.  It takes no TWCC, only REMB (goog-remb with
#                      abs-send-time): noomsink writes abs-send-time for it,
#                      aiortc sends REMB, and noomsink's estimate for it
#                      (noom-bandwidth, feedback=remb) and its encoder's
#                      bitrate follow those.  Root in a network namespace
#                      with only lo (meson test under unshare -n): once
#                      the estimate has climbed, UDP on lo is capped with
#                      tc (htb, as tests/elements/bandwidth.test.mjs), and
#                      estimate and encoder fall under the cap; elsewhere
#                      only the first part runs.
#
# "aiortc-first" makes aiortc the offerer (docs/protocol.md §7), so the
# elements apply aiortc's offer: one ice-ufrag per bundled m-line and its own
# payload types (Opus 96, VP8 97).
#
# Loopback: aioice (aiortc's ICE) leaves 127.0.0.1 out of its host
# candidates (aioice.ice.get_host_addresses() skips it, and aiortc exposes no
# option for it), and the test's network namespace has nothing else, so the
# test replaces that function to return 127.0.0.1 only.
#
# Usage: aiortc-interop.py DIRECTION ORDER; needs $NOOM_SERVER and the
# plugin on $GST_PLUGIN_PATH.  Deadlines scale with $NOOM_TEST_TIME_SCALE.

import asyncio
import os
import re
import subprocess
import sys

import aioice.ice
import aiortc.rtcrtpreceiver

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]

import socketio  # noqa: E402
from aiortc import (RTCPeerConnection, RTCRtpReceiver,  # noqa: E402
                    RTCSessionDescription)
from aiortc.mediastreams import AudioStreamTrack, VideoStreamTrack  # noqa
from aiortc.sdp import candidate_from_sdp  # noqa: E402

SCALE = float(os.environ.get("NOOM_TEST_TIME_SCALE", "1") or 1)
FRAMES = 30

# Every REMB aiortc sends (bit/s), as its receiver packs it.
REMBS = []
_pack_remb_fci = aiortc.rtcrtpreceiver.pack_remb_fci


def _record_remb(bitrate, ssrcs):
    REMBS.append(bitrate)
    return _pack_remb_fci(bitrate, ssrcs)


aiortc.rtcrtpreceiver.pack_remb_fci = _record_remb


def scaled(seconds):
    return seconds * SCALE


class Server:
    def __init__(self):
        self.proc = subprocess.Popen(
            [os.environ["NOOM_SERVER"], "--host", "127.0.0.1", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"listening on (http://\S+)", line)
        if not m:
            raise RuntimeError("noom-server did not start: " + line)
        self.url = m.group(1)
        self.port = int(self.url.rsplit(":", 1)[1])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


class Pipeline:
    """gst-launch-1.0 -e -v (and -m: the element messages); its output is
    read on a thread of its own."""

    def __init__(self, args):
        self.output = ""
        self.proc = subprocess.Popen(["gst-launch-1.0", "-e", "-v", "-m"] +
                                     args,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True)
        loop = asyncio.get_running_loop()
        self.reader = loop.run_in_executor(None, self._read)

    def _read(self):
        for line in self.proc.stdout:
            self.output += line

    def count(self, pattern):
        return len(re.findall(pattern, self.output))

    async def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(2)
            try:
                await asyncio.wait_for(self.reader, scaled(10))
            except asyncio.TimeoutError:
                self.proc.kill()
        return self.proc.wait()


async def until(pred, what, seconds):
    deadline = asyncio.get_running_loop().time() + scaled(seconds)
    while not pred():
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError("timed out waiting for " + what)
        await asyncio.sleep(0.1)


class Client:
    """A participant written from docs/protocol.md: joins with `kind`
    browser, offers to newcomers (§7), answers offers, applies trickled
    candidates; aiortc puts its own candidates in its SDP."""

    def __init__(self, url, room, sends, break_offers=False,
                 video_codec=None):
        self.url, self.room, self.sends = url, room, sends
        self.break_offers = break_offers
        self.video_codec = video_codec
        self.trickle_bundled = False
        self.refuse_offers = False
        self.sio = socketio.AsyncClient()
        self.pcs = {}
        self.frames = {"audio": 0, "video": 0}
        self.failures = []
        self.others = {}
        sio = self.sio
        sio.on("welcome", self.on_welcome)
        sio.on("offer", self.on_offer)
        sio.on("answer", self.on_answer)
        sio.on("ice", self.on_ice)
        sio.on("bye", self.on_bye)
        sio.on("offer_failed", self.on_offer_failed)

    async def join(self):
        await self.sio.connect(self.url, transports=["websocket"])
        ack = await self.sio.call("join_room", (self.room, {
            "nickname": "aiortc", "kind": "browser", "sends": self.sends}),
            timeout=scaled(10))
        assert ack.get("ok"), ack
        for p in ack["participants"]:
            self.others[p["id"]] = p

    def new_pc(self, peer_id):
        pc = RTCPeerConnection()
        self.pcs[peer_id] = pc

        @pc.on("track")
        def on_track(track):
            asyncio.ensure_future(self.consume(track))
        return pc

    async def consume(self, track):
        while True:
            try:
                await track.recv()
            except Exception:
                return
            self.frames[track.kind] += 1

    def add_media(self, pc, theirs):
        """§7: sendrecv if both send a kind, sendonly if only we do,
        recvonly if only they do."""
        for kind, track in (("audio", AudioStreamTrack),
                            ("video", VideoStreamTrack)):
            we, they = kind in self.sends, kind in theirs
            if we and they:
                pc.addTransceiver(track(), "sendrecv")
            elif we:
                pc.addTransceiver(track(), "sendonly")
            elif they:
                t = pc.addTransceiver(kind, "recvonly")
                if kind == "video" and self.video_codec:
                    caps = RTCRtpReceiver.getCapabilities("video")
                    t.setCodecPreferences([
                        c for c in caps.codecs
                        if c.mimeType == "video/" + self.video_codec])

    async def on_welcome(self, nickname, count, participant):
        pid = participant["id"]
        self.others[pid] = participant
        if not self.sends and not participant.get("sends"):
            return
        pc = self.new_pc(pid)
        self.add_media(pc, participant.get("sends", []))
        await pc.setLocalDescription(await pc.createOffer())
        d = pc.localDescription
        sdp = d.sdp
        if self.break_offers:
            sdp = re.sub(r"a=ice-ufrag:[^\r\n]*\r\n", "", sdp)
        cands = []
        if self.trickle_bundled:
            first = sdp.split("\r\nm=")[1]
            cands = re.findall(r"a=(candidate:[^\r\n]*)\r\n", first)
            sdp = re.sub(r"a=(candidate:[^\r\n]*|end-of-candidates)\r\n",
                         "", sdp)
        await self.sio.emit("offer", ({"type": d.type, "sdp": sdp},
                                      self.room, pid))
        for c in cands:
            await self.sio.emit("ice", ({"candidate": c, "sdpMid": "1",
                                         "sdpMLineIndex": 1}, self.room, pid))

    async def on_offer(self, desc, frm):
        if self.refuse_offers:
            await self.sio.emit("offer_failed", ({"reason": "refused by the "
                                                  "test"}, self.room, frm))
            return
        old = self.pcs.pop(frm, None)
        if old:
            await old.close()       # §7: a new offer replaces the connection
        pc = self.new_pc(frm)
        await pc.setRemoteDescription(RTCSessionDescription(**desc))
        # addTrack() takes the offered transceiver of that kind and makes
        # it send, as in a browser.
        for t in pc.getTransceivers():
            if t.kind in self.sends:
                pc.addTrack(AudioStreamTrack() if t.kind == "audio"
                            else VideoStreamTrack())
        await pc.setLocalDescription(await pc.createAnswer())
        d = pc.localDescription
        await self.sio.emit("answer", ({"type": d.type, "sdp": d.sdp},
                                       self.room, frm))

    async def on_answer(self, desc, frm):
        pc = self.pcs.get(frm)
        if pc:
            await pc.setRemoteDescription(RTCSessionDescription(**desc))

    async def on_ice(self, cand, frm):
        pc = self.pcs.get(frm)
        if not pc or not cand or not cand.get("candidate"):
            return
        if self.trickle_bundled:
            return
        text = cand["candidate"]
        if text.startswith("candidate:"):
            text = text[len("candidate:"):]
        c = candidate_from_sdp(text)
        c.sdpMid = cand.get("sdpMid")
        c.sdpMLineIndex = cand.get("sdpMLineIndex")
        await pc.addIceCandidate(c)

    async def on_bye(self, nickname, count, participant):
        pc = self.pcs.pop(participant["id"], None)
        if pc:
            await pc.close()

    async def on_offer_failed(self, info, frm):
        self.failures.append(info)

    async def close(self):
        for pc in self.pcs.values():
            await pc.close()
        await self.sio.disconnect()


def gst_args(direction, port, room):
    uri = "noom://127.0.0.1:%d/%s?nickname=gst" % (port, room)
    if direction == "noomsink-remb":
        # noise: the encoder spends every bit it is given
        return ["videotestsrc", "is-live=true", "pattern=snow", "!",
                "video/x-raw,width=320,height=240,framerate=15/1", "!",
                "noomsink", "uri=" + uri, "max-bitrate=1000000",
                "start-bitrate=250000"]
    if direction in ("noomsink-to-aiortc", "codec-mismatch"):
        return ["videotestsrc", "is-live=true", "!",
                "video/x-raw,width=320,height=240,framerate=15/1", "!",
                "noomsink", "name=s", "uri=" + uri,
                "audiotestsrc", "is-live=true", "wave=sine", "!", "s."]
    return ["noomsrc", "name=s", "uri=" + uri,
            "s.", "!", "queue", "!", "fakesink", "name=out0", "silent=false",
            "sync=false",
            "s.", "!", "queue", "!", "fakesink", "name=out1", "silent=false",
            "sync=false"]


def private_namespace():
    """Root with nothing but lo: tc may change lo's qdisc."""
    if os.getuid() != 0:
        return False
    with open("/proc/self/net/dev") as f:
        devs = [line.split(":")[0].strip() for line in f.readlines()[2:]]
    return [d for d in devs if d] == ["lo"]


def cap_udp(kbit):
    """UDP on lo (the media and RTCP, not the signalling) through a @kbit
    link with a 40-packet queue."""
    for args in (
            ["qdisc", "add", "dev", "lo", "root", "handle", "1:", "htb",
             "default", "1"],
            ["class", "add", "dev", "lo", "parent", "1:", "classid", "1:1",
             "htb", "rate", "10gbit"],
            ["class", "add", "dev", "lo", "parent", "1:", "classid", "1:10",
             "htb", "rate", "%dkbit" % kbit, "ceil", "%dkbit" % kbit,
             "burst", "16k"],
            ["qdisc", "add", "dev", "lo", "parent", "1:10", "handle", "10:",
             "pfifo", "limit", "40"],
            ["filter", "add", "dev", "lo", "parent", "1:", "protocol", "ip",
             "prio", "1", "u32", "match", "ip", "protocol", "17", "0xff",
             "flowid", "1:10"]):
        subprocess.run(["tc"] + args, check=True)


def uncap():
    subprocess.run(["tc", "qdisc", "del", "dev", "lo", "root"], check=False,
                   stderr=subprocess.DEVNULL)


BANDWIDTH = re.compile(
    r"noom-bandwidth, .*nickname=\(string\)aiortc.*"
    r"estimated-bitrate=\(uint\)(\d+).*feedback=\(string\)(\w+).*"
    r"encoder-bitrate=\(uint\)(\d+)")


def bandwidth(pipeline):
    """noomsink's noom-bandwidth messages about aiortc: (estimate,
    feedback, encoder bitrate) each."""
    return [(int(m.group(1)), m.group(2), int(m.group(3)))
            for m in BANDWIDTH.finditer(pipeline.output)]


async def remb(pipeline, client):
    """noomsink follows aiortc's REMB, and (shaped) under a cap too."""
    start = 250000
    cap = 300
    await until(lambda: any(f == "remb" and e != start
                            for e, f, _ in bandwidth(pipeline))
                and client.frames["video"] > FRAMES,
                "an estimate from aiortc's REMB", 40)
    assert REMBS, "aiortc sent no REMB"
    assert pipeline.count(r"feedback=\(string\)twcc") == 0
    print("REMB from aiortc (kbit/s): %s" % [r // 1000 for r in REMBS])
    if not private_namespace():
        print("not root in a namespace of lo only: no cap")
        return
    # up first, then under the cap
    await until(lambda: any(e > 2 * cap * 1000
                            for e, f, _ in bandwidth(pipeline)),
                "the estimate to climb past %d kbit/s" % (2 * cap), 40)
    before = len(bandwidth(pipeline))
    print("free: REMB (kbit/s) %s; noomsink (estimate, encoder, kbit/s) %s"
          % ([r // 1000 for r in REMBS],
             [(e // 1000, enc // 1000) for e, _, enc in
              bandwidth(pipeline)]))
    REMBS.clear()
    cap_udp(cap)
    try:
        await until(lambda: any(f == "remb" and e < cap * 1000 and
                                enc < cap * 1000
                                for e, f, enc in
                                bandwidth(pipeline)[before:]),
                    "estimate and encoder under the %d kbit/s cap" % cap, 40)
        frames = client.frames["video"]
        await until(lambda: client.frames["video"] > frames + 15,
                    "frames under the cap", 20)
    finally:
        uncap()
    print("under %d kbit/s: REMB (kbit/s) %s; noomsink (estimate, "
          "encoder, kbit/s) %s" % (
              cap, [r // 1000 for r in REMBS],
              [(e // 1000, enc // 1000)
               for e, _, enc in bandwidth(pipeline)[before:]]))


async def run(direction, order):
    server = Server()
    room = "aiortc-%s-%s" % (direction, order)
    refuse = direction == "refused-offer"
    if refuse:
        direction = "noomsink-to-aiortc"
    if direction == "trickle-bundled":
        direction = "aiortc-to-noomsrc"
        trickle = True
    else:
        trickle = False
    receives = direction in ("noomsink-to-aiortc", "codec-mismatch",
                             "noomsink-remb")
    sends = [] if receives else ["audio", "video"]
    client = Client(server.url, room, sends, direction == "bad-offer",
                    "H264" if direction == "codec-mismatch" else None)
    client.trickle_bundled = trickle
    client.refuse_offers = refuse
    pipeline = None
    try:
        if order == "aiortc-first":
            await client.join()
            pipeline = Pipeline(gst_args(direction, server.port, room))
        else:
            pipeline = Pipeline(gst_args(direction, server.port, room))
            await until(lambda: pipeline.count(r"Joined room") > 0,
                        "the element to join", 20)
            await client.join()
        if refuse:
            await until(lambda: pipeline.count(
                r"WARNING: from element .*GstNoomSink.*The connection to "
                r"aiortc failed") > 0 and pipeline.count(
                r"could not apply our offer: refused by the test") > 0,
                "noomsink to give up with the reason", 20)
        elif direction == "bad-offer":
            await until(lambda: client.failures, "offer_failed", 20)
            reason = client.failures[0].get("reason", "")
            assert "ice-ufrag" in reason, client.failures
            client.failures = []
        elif direction == "codec-mismatch":
            await until(lambda: pipeline.count(
                r"WARNING: from element .*GstNoomSink.*offers no VP8 on its "
                r"video m-line") > 0 and pipeline.count(r"H264/90000") > 0
                and client.frames["audio"] > FRAMES,
                "a warning naming VP8 and H264, and audio", 40)
        elif direction == "noomsink-remb":
            await remb(pipeline, client)
        elif direction == "aiortc-to-noomsrc":
            await until(lambda: (
                pipeline.count(r"GstNoomSrcPad:video_0: caps = video/x-raw")
                > 0 and
                pipeline.count(r"GstNoomSrcPad:audio_0: caps = audio/x-raw")
                > 0 and
                pipeline.count(r"out0: last-message = chain") > FRAMES and
                pipeline.count(r"out1: last-message = chain") > FRAMES),
                "noomsrc to decode aiortc's audio and video", 40)
        else:
            await until(lambda: client.frames["video"] > FRAMES
                        and client.frames["audio"] > FRAMES,
                        "aiortc to decode noomsink's audio and video", 40)
        assert not client.failures, client.failures
        print("ok: %s %s: %s" % (direction, order, client.frames))
    except Exception:
        if pipeline:
            print(pipeline.output[-4000:], file=sys.stderr)
        print("aiortc frames: %s, offer_failed: %s, REMB sent: %s" %
              (client.frames, client.failures, REMBS[-20:]), file=sys.stderr)
        raise
    finally:
        await client.close()
        if pipeline:
            await pipeline.stop()
        server.stop()


if __name__ == "__main__":
    asyncio.run(run(sys.argv[1], sys.argv[2]))
