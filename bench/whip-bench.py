#!/usr/bin/python3
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# WHIP and WHEP timings against noom-server --sfu (docs/performance.md,
# "WHIP and WHEP"), with aiortc as the HTTP client:
#
#   whip  RUNS publishers one after the other: POST to 201, and POST to
#         the first frame an SFU participant in the room (aiortc and
#         python-socketio) decodes; each publisher then DELETEs
#   whep  with a noomsink publishing in the room, RUNS players one after
#         the other: POST to 201, and POST to the player's first decoded
#         frame
#
# Runs are --pause ms apart (default 1500).
#
#   publish  (--url URL --room R --seconds S) one aiortc WHIP publisher in a
#         room of a running server, for noom-media-bench room-load N 2
#         --room R (its noomsink and this publisher, to N noomsrc)
#
# Prints one JSON object per measure: min, median and max in ms.
# Usage, in a namespace with only loopback (the clients use 127.0.0.1):
#   unshare -n sh -c 'ip link set lo up; NOOM_SERVER=build/tools/noom-server/noom-server \
#     NOOM_RELAY=build/tools/relay/noom-relay GST_PLUGIN_PATH=build/gst \
#     /usr/bin/python3 bench/whip-bench.py --runs 20'

import argparse
import asyncio
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


e2e = load("whip_e2e", os.path.join(HERE, "..", "tests", "relay",
                                    "whip-e2e.py"))
sfu = e2e.sfu

import aiohttp  # noqa: E402
from aiortc import RTCPeerConnection, RTCSessionDescription  # noqa: E402

ROOM = "whip-bench"
PAUSE = 1.5


def report(name, values):
    values = sorted(values)
    print(json.dumps({"bench": name, "runs": len(values),
                      "min_ms": round(values[0], 1),
                      "median_ms": round(statistics.median(values), 1),
                      "max_ms": round(values[-1], 1)}), flush=True)


async def whip_runs(server, runs):
    viewer = sfu.SfuClient(server.url, ROOM, "viewer", [], kind="subscriber")
    await viewer.join()
    created, first = [], []
    try:
        for i in range(runs):
            pc = RTCPeerConnection()
            pc.addTrack(sfu.local_track("audio"))
            pc.addTrack(sfu.SmallVideo())
            await pc.setLocalDescription(await pc.createOffer())
            nick = "bench%d" % i
            async with aiohttp.ClientSession() as http:
                t0 = sfu.now()
                async with http.post("%s/whip/%s?nickname=%s" % (
                        server.url, ROOM, nick),
                        data=pc.localDescription.sdp,
                        headers={"Content-Type": "application/sdp"}) as r:
                    body = await r.text()
                    t1 = sfu.now()
                    assert r.status == 201, (r.status, body)
                    location = urllib.parse.urljoin(server.url,
                                                    r.headers["Location"])
                await pc.setRemoteDescription(
                    RTCSessionDescription(sdp=body, type="answer"))
                await sfu.until(lambda: e2e.welcomed(viewer, nick),
                                "the viewer to see " + nick, 10)
                pid = e2e.welcomed(viewer, nick)["id"]
                await sfu.until(lambda: viewer.count(pid, "video") > 0,
                                "a frame of " + nick, 10)
                t2 = viewer.frames[pid]["video"][0]
                created.append((t1 - t0) * 1000)
                first.append((t2 - t0) * 1000)
                async with http.delete(location) as r:
                    assert r.status == 200, r.status
            await pc.close()
            await asyncio.sleep(PAUSE)
    finally:
        await viewer.close()
    report("whip-post-to-201", created)
    report("whip-post-to-first-frame-in-room", first)


async def whep_runs(server, runs):
    port = urllib.parse.urlparse(server.url).port
    pub = subprocess.Popen(
        ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
         "video/x-raw,width=640,height=360,framerate=30/1", "!", "noomsink",
         "name=s", "uri=noom://127.0.0.1:%d/%s" % (port, ROOM),
         "nickname=cam", "audiotestsrc", "is-live=true", "!", "s."],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    created, first = [], []
    try:
        await asyncio.sleep(3)
        for i in range(runs):
            url = "%s/whep/%s/cam" % (server.url, ROOM)
            pc, frames, location, t = await e2e.whep_play(url, url)
            t1 = sfu.now()
            await sfu.until(lambda: "video" in t["first"], "a frame", 10)
            created.append((t1 - t["post"]) * 1000)
            first.append((t["first"]["video"] - t["post"]) * 1000)
            async with aiohttp.ClientSession() as http:
                async with http.delete(location) as r:
                    assert r.status == 200, r.status
            await pc.close()
            await asyncio.sleep(PAUSE)
    finally:
        pub.send_signal(signal.SIGINT)
        pub.wait()
    report("whep-post-to-answer-applied", created)
    report("whep-post-to-first-decoded-frame", first)


async def publish(url, room, seconds):
    """An aiortc WHIP publisher in @room for @seconds (for noom-media-bench
    room-load against the same server)."""
    pc = RTCPeerConnection()
    pc.addTrack(sfu.local_track("audio"))
    pc.addTrack(sfu.SmallVideo())
    await pc.setLocalDescription(await pc.createOffer())
    async with aiohttp.ClientSession() as http:
        async with http.post("%s/whip/%s?nickname=whip" % (url, room),
                             data=pc.localDescription.sdp,
                             headers={"Content-Type": "application/sdp"}) as r:
            body = await r.text()
            assert r.status == 201, (r.status, body)
            location = urllib.parse.urljoin(url, r.headers["Location"])
        await pc.setRemoteDescription(RTCSessionDescription(sdp=body,
                                                            type="answer"))
        await asyncio.sleep(seconds)
        async with http.delete(location) as r:
            assert r.status == 200, r.status
    await pc.close()


async def main(args):
    if args.what == "publish":
        await publish(args.url, args.room, args.seconds)
        return
    server = sfu.Server()
    try:
        await server.ready()
        if args.what in ("whip", "all"):
            await whip_runs(server, args.runs)
        if args.what in ("whep", "all"):
            await whep_runs(server, args.runs)
    except BaseException:
        print(server.log(), file=sys.stderr)
        raise
    finally:
        server.stop()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description="WHIP and WHEP timings")
    ap.add_argument("what", nargs="?", default="all",
                    choices=["whip", "whep", "all", "publish"])
    ap.add_argument("--url", help="publish: noom-server's URL")
    ap.add_argument("--room", default=ROOM, help="publish: the room")
    ap.add_argument("--seconds", type=float, default=60,
                    help="publish: how long")
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--pause", type=int, default=1500,
                    help="ms between two runs (default 1500: more than the "
                    "relay's one keyframe request per second and track, "
                    "so that every player is a newcomer the relay asks a "
                    "keyframe for at once)")
    args = ap.parse_args()
    PAUSE = args.pause / 1000
    asyncio.run(main(args))
