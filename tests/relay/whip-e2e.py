#!/usr/bin/python3
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# WHIP and WHEP end to end (docs/server.md, "WHIP and WHEP"): noom-server
# --sfu with the real noom-relay, WHIP and WHEP clients that Noom did not
# write, and the room's own participants watching.  Cases:
#
#   whip-client   simple-whip-client (Debian's whip-client, webrtcbin and
#                 libnice), trickling its candidates with PATCH, publishes
#                 VP8 and Opus into a room: an SFU participant (aiortc and
#                 python-socketio) and a noomsrc decode its video and audio,
#                 and see it as a participant of kind publisher with the
#                 nickname given in the URL; when it stops (SIGINT: it
#                 DELETEs its session), they see it leave
#   whip-client-no-trickle  the same with --no-trickle: its candidates are
#                 in the offer
#                 (Debian 12's whip-client aborts at start: it links libsoup
#                 2, and webrtcbin's libnice links libsoup 3 through gupnp
#                 1.6; both cases then skip, saying so)
#   whip-aiortc   the same with aiortc publishing over plain HTTP, its
#                 candidates in its offer; it DELETEs its session at the end
#   whip-h264     the same with H.264 video only, as OBS sends: the relay
#                 offers the room H.264 for it, and noomsrc and the SFU
#                 participant decode it
#   jobs          noom-record and noom-ingest unchanged in an SFU room: the
#                 room decodes noom-ingest's stream, and noom-record writes a
#                 file for it (VP8, Opus) and one for an H.264 WHIP
#                 publisher (H.264, Opus)
#   whep-noomsink aiortc as a WHEP player (only HTTP: POST, then DELETE)
#                 decodes a noomsink publisher's video and audio, named by
#                 nickname, by participant id, and by the room alone (the
#                 first participant that sends video); the DELETE takes it
#                 out of the room at once
#
# libnice leaves loopback interfaces out of its candidates, and
# simple-whip-client has no way to add one: the test makes a veth pair
# with both ends in a network namespace of the case's own (nested in the
# run's, gone with the case), so that its traffic stays there and no
# other test sees the pair.  Run it in one with only loopback:
#   unshare -n sh -c 'ip link set lo up; meson test -C build --suite whip'
# Usage: whip-e2e.py CASE; needs $NOOM_SERVER, $NOOM_RELAY and the plugin
# on $GST_PLUGIN_PATH.  `whip-e2e.py noomsrc URI` is the noomsrc watcher's
# process: it prints what its pads carried, one JSON line every 100 ms.

import asyncio
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
_spec = importlib.util.spec_from_file_location(
    "sfu_aiortc", os.path.join(HERE, "sfu-aiortc.py"))
sfu = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(sfu)

import aiohttp  # noqa: E402
from aiortc import RTCPeerConnection, RTCRtpSender  # noqa: E402
from aiortc import RTCSessionDescription  # noqa: E402

scaled, until, now = sfu.scaled, sfu.until, sfu.now
ROOM = "whip"
VETH = ("10.77.0.1", "10.77.0.2")


def own_namespace():
    """The veth pair must not outlive the case: other tests of the same
    run (libnice with TURN) would gather its addresses.  So the case runs
    in a network namespace of its own, nested in the run's, which goes
    with it."""
    if os.environ.get("NOOM_WHIP_OWN_NETNS"):
        return
    if not shutil.which("unshare") or subprocess.run(
            ["unshare", "-n", "true"], capture_output=True).returncode != 0:
        print("SKIP: cannot make a network namespace of its own (unshare "
              "-n needs root and util-linux)")
        sys.exit(77)
    env = dict(os.environ, NOOM_WHIP_OWN_NETNS="1")
    r = subprocess.run(["unshare", "-n", "sh", "-c",
                        'ip link set lo up && exec "$0" "$@"',
                        sys.executable] + sys.argv, env=env)
    sys.exit(r.returncode)


def make_veth():
    """A veth pair with both ends in this namespace: libnice gathers its
    addresses, and packets between them never leave the namespace."""
    cmds = [["ip", "link", "add", "noomw0", "type", "veth", "peer", "name",
             "noomw1"],
            ["ip", "addr", "add", VETH[0] + "/24", "dev", "noomw0"],
            ["ip", "addr", "add", VETH[1] + "/24", "dev", "noomw1"],
            ["ip", "link", "set", "noomw0", "up"],
            ["ip", "link", "set", "noomw1", "up"]]
    for c in cmds:
        r = subprocess.run(c, capture_output=True, text=True)
        if r.returncode != 0 and "File exists" not in r.stderr:
            print("SKIP: cannot make a veth pair (%s): run the test as root "
                  "in a network namespace of its own" % r.stderr.strip())
            sys.exit(77)


class Watcher:
    """noomsrc in a process of its own (this file's `noomsrc` mode)."""

    def __init__(self, uri):
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "noomsrc", uri],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.last = {}
        self.err = []
        asyncio.get_running_loop().run_in_executor(None, self._read)
        asyncio.get_running_loop().run_in_executor(None, self._read_err)

    def _read(self):
        for line in self.proc.stdout:
            try:
                self.last = json.loads(line)
            except ValueError:
                pass

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line)

    def buffers(self, nickname, kind):
        return self.last.get("pads", {}).get(nickname, {}).get(kind, 0)

    def eos(self, nickname):
        return nickname in self.last.get("eos", [])

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=scaled(10))
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def noomsrc_main(uri):
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import GLib, Gst
    Gst.init(None)
    pads, eos = {}, []
    pipeline = Gst.Pipeline()
    src = Gst.ElementFactory.make("noomsrc")
    src.set_property("uri", uri)
    src.set_property("decode", False)
    pipeline.add(src)

    def on_pad(_src, pad):
        nick, kind = pad.get_property("nickname"), pad.get_name().split("_")[0]
        sink = Gst.ElementFactory.make("fakesink")
        sink.set_property("sync", False)
        sink.set_property("async", False)
        pipeline.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

        def probe(_pad, info):
            if info.type & Gst.PadProbeType.BUFFER:
                per = pads.setdefault(nick, {})
                per[kind] = per.get(kind, 0) + 1
            elif info.get_event().type == Gst.EventType.EOS:
                eos.append(nick)
            return Gst.PadProbeReturn.OK
        pad.add_probe(Gst.PadProbeType.BUFFER
                      | Gst.PadProbeType.EVENT_DOWNSTREAM, probe)

    src.connect("pad-added", on_pad)
    loop = GLib.MainLoop()

    def report():
        print(json.dumps({"pads": pads, "eos": eos}), flush=True)
        return True

    def on_message(_bus, msg):
        if msg.type == Gst.MessageType.ERROR:
            print("noomsrc: %s" % msg.parse_error()[0].message,
                  file=sys.stderr, flush=True)
            loop.quit()

    bus = pipeline.get_bus()
    bus.add_signal_watch()
    bus.connect("message", on_message)
    GLib.timeout_add(100, report)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, loop.quit)
    pipeline.set_state(Gst.State.PLAYING)
    loop.run()
    pipeline.set_state(Gst.State.NULL)


async def watchers(servers, clients):
    server = sfu.Server()
    servers.append(server)
    await server.ready()
    viewer = sfu.SfuClient(server.url, ROOM, "viewer", [], kind="subscriber")
    clients.append(viewer)
    await viewer.join()
    port = urllib.parse.urlparse(server.url).port
    src = Watcher("noom://127.0.0.1:%d/%s" % (port, ROOM))
    return server, viewer, src


def participant_of(args):
    """welcome and bye: (nickname, count, participant)."""
    return args[2] if len(args) > 2 and isinstance(args[2], dict) else {}


def welcomed(viewer, nickname):
    for args in viewer.got("welcome"):
        p = participant_of(args)
        if p.get("nickname") == nickname:
            return p
    return None


def left(viewer, pid):
    return viewer.got("bye", lambda a: participant_of(a).get("id") == pid)


async def watch_publisher(server, viewer, src, nick, stop, why_not=None):
    """The room's view of a WHIP publisher named @nick: the viewer sees it
    join as a publisher and decodes it, noomsrc carries its video and
    audio; after stop(), the viewer sees it leave.  why_not() names a
    reason the publisher could not run at all (the case skips)."""
    def joined():
        if why_not and why_not():
            print("SKIP: " + why_not())
            sys.exit(77)
        return welcomed(viewer, nick)
    try:
        await until(joined, "the viewer to see %s join" % nick, 15)
        p = welcomed(viewer, nick)
        assert p["kind"] == "publisher", p
        await viewer.decodes([type("P", (), {"id": p["id"], "nickname": nick})],
                             seconds=30)
        await until(lambda: src.buffers(nick, "video") >= 30
                    and src.buffers(nick, "audio") >= 30,
                    "noomsrc to carry %s's video and audio (%r; %s)" % (
                        nick, src.last, "".join(src.err[-5:])), 30)
    finally:
        await stop()
    await until(lambda: left(viewer, p["id"]),
                "the viewer to see %s leave" % nick, 15)


async def whip_client(servers, clients, trickle):
    if not shutil.which("whip-client"):
        print("SKIP: no whip-client (Debian: simple-whip-client)")
        sys.exit(77)
    make_veth()
    server, viewer, src = await watchers(servers, clients)
    nick = "whipcam" + ("" if trickle else "2")
    args = ["whip-client", "-u", "%s/whip/%s?nickname=%s" % (
        server.url, ROOM, nick), "-l", "4",
        "-V", "videotestsrc is-live=true pattern=ball ! "
              "video/x-raw,width=320,height=240,framerate=15/1 ! "
              "videoconvert ! queue ! vp8enc deadline=1 ! "
              "rtpvp8pay pt=96 ssrc=2 ! queue ! "
              "application/x-rtp,media=video,encoding-name=VP8,payload=96",
        "-A", "audiotestsrc is-live=true wave=red-noise ! audioconvert "
              "! audioresample ! queue ! opusenc ! rtpopuspay pt=111 "
              "ssrc=1 ! queue ! application/x-rtp,media=audio,"
              "encoding-name=OPUS,payload=111"]
    if not trickle:
        args.append("--no-trickle")
    log = os.path.join(os.environ.get("MESON_BUILD_ROOT", "/tmp"),
                       "whip-client-%s.log" % nick)
    out = open(log, "w")
    # whip-client links libsoup 2: the Noom plugin (libsoup 3) must stay
    # out of its process, and out of the registry it reads
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("GST_PLUGIN_PATH")}
    env["GST_REGISTRY"] = log + ".registry"
    client = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT,
                              env=env)

    def why_not():
        # Debian 12's whip-client links libsoup 2, and webrtcbin's libnice
        # links gupnp 1.6, which links libsoup 3: libsoup aborts the
        # process (meetecho/simple-whip-client#20)
        if client.poll() is not None and "libsoup2 symbols detected" in \
                open(log).read():
            return ("whip-client cannot run here: it links libsoup 2 and "
                    "webrtcbin's libnice (through gupnp 1.6) libsoup 3, "
                    "which aborts the process (see %s)" % log)
        return None

    async def stop():
        if client.poll() is None:
            client.send_signal(signal.SIGINT)
            try:
                client.wait(timeout=scaled(10))
            except subprocess.TimeoutExpired:
                client.kill()
        out.close()
    try:
        await watch_publisher(server, viewer, src, nick, stop, why_not)
        if trickle:
            assert server.grep(r"PATCH|trickle"), \
                "whip-client trickled nothing:\n" + server.log()
    finally:
        src.stop()


async def whip_aiortc(servers, clients, codec=None):
    server, viewer, src = await watchers(servers, clients)
    pc = RTCPeerConnection()
    pc.addTrack(sfu.local_track("audio"))
    video = pc.addTrack(sfu.SmallVideo())
    if codec:
        tr = next(t for t in pc.getTransceivers() if t.sender == video)
        tr.setCodecPreferences([
            c for c in RTCRtpSender.getCapabilities("video").codecs
            if c.mimeType == codec])
    await pc.setLocalDescription(await pc.createOffer())
    http = aiohttp.ClientSession()
    async with http.post("%s/whip/%s?nickname=aiocam" % (server.url, ROOM),
                         data=pc.localDescription.sdp,
                         headers={"Content-Type": "application/sdp"}) as r:
        body = await r.text()
        assert r.status == 201, "%d %s" % (r.status, body)
        location = urllib.parse.urljoin(server.url, r.headers["Location"])
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body,
                                                        type="answer"))

    async def stop():
        async with http.delete(location) as r:
            assert r.status == 200, r.status
        await http.close()
        await pc.close()
    try:
        await watch_publisher(server, viewer, src, "aiocam", stop)
    finally:
        src.stop()


async def case_whip_aiortc(servers, clients):
    await whip_aiortc(servers, clients)


async def case_whip_h264(servers, clients):
    await whip_aiortc(servers, clients, "video/H264")


async def case_whip_client(servers, clients):
    await whip_client(servers, clients, True)


async def case_whip_client_no_trickle(servers, clients):
    await whip_client(servers, clients, False)


async def whep_play(url, what):
    """aiortc as a WHEP player: POST its offer (candidates in it), take
    the answer; returns (pc, frames per kind, session URL, timings)."""
    pc = RTCPeerConnection()
    frames = {}
    first = {}
    for kind in ("audio", "video"):
        pc.addTransceiver(kind, direction="recvonly")

    @pc.on("track")
    def on_track(track):
        async def consume():
            while True:
                try:
                    await track.recv()
                except Exception:
                    return
                frames[track.kind] = frames.get(track.kind, 0) + 1
                first.setdefault(track.kind, now())
        asyncio.ensure_future(consume())

    await pc.setLocalDescription(await pc.createOffer())
    t0 = now()
    async with aiohttp.ClientSession() as http:
        async with http.post(url, data=pc.localDescription.sdp, headers={
                "Content-Type": "application/sdp"}) as r:
            body = await r.text()
            assert r.status == 201, "%s: %d %s" % (what, r.status, body)
            assert r.headers["Content-Type"].startswith("application/sdp")
            location = urllib.parse.urljoin(url, r.headers["Location"])
    await pc.setRemoteDescription(RTCSessionDescription(sdp=body,
                                                        type="answer"))
    return pc, frames, location, {"post": t0, "first": first}


async def case_whep_noomsink(servers, clients):
    server = sfu.Server()
    servers.append(server)
    await server.ready()
    port = urllib.parse.urlparse(server.url).port
    viewer = sfu.SfuClient(server.url, ROOM, "viewer", [], kind="subscriber")
    clients.append(viewer)
    await viewer.join()
    pub = subprocess.Popen(
        ["gst-launch-1.0", "-q", "videotestsrc", "is-live=true", "!",
         "video/x-raw,width=320,height=240,framerate=15/1", "!", "noomsink",
         "name=s", "uri=noom://127.0.0.1:%d/%s" % (port, ROOM),
         "nickname=cam", "audiotestsrc", "is-live=true", "!", "s."],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    pcs = []
    try:
        await until(lambda: welcomed(viewer, "cam"), "noomsink to join", 15)
        cam = welcomed(viewer, "cam")["id"]
        base = "%s/whep/%s" % (server.url, ROOM)
        for what in (base + "/cam", base + "/" + cam, base):
            pc, frames, location, t = await whep_play(what, what)
            pcs.append(pc)
            await until(lambda: frames.get("video", 0) >= 30
                        and frames.get("audio", 0) >= 30,
                        "the WHEP player of %s to decode (%r)" % (what,
                                                                  frames), 20)
            print("%s: first video %.0f ms after the POST" % (
                what, (t["first"]["video"] - t["post"]) * 1000))
            players = [participant_of(a) for a in viewer.got("welcome")
                       if participant_of(a).get("kind") == "subscriber"]
            assert players, "the WHEP player is not in the room"
            async with aiohttp.ClientSession() as http:
                async with http.delete(location) as r:
                    assert r.status == 200, r.status
                async with http.delete(location) as r:
                    assert r.status == 404, "a second DELETE: %d" % r.status
            gone = players[-1]["id"]
            await until(lambda: left(viewer, gone),
                        "the player's bye after its DELETE", 10)
            await pc.close()
    finally:
        for pc in pcs:
            await pc.close()
        pub.send_signal(signal.SIGINT)
        try:
            pub.wait(timeout=scaled(10))
        except subprocess.TimeoutExpired:
            pub.kill()


async def case_jobs(servers, clients):
    """noom-record and noom-ingest in an SFU room, unchanged: the recorder
    writes a file for an H.264 WHIP publisher and one for noom-ingest,
    whose stream the room decodes."""
    import tempfile
    server, viewer, src = await watchers(servers, clients)
    src.stop()
    port = urllib.parse.urlparse(server.url).port
    uri = "noom://127.0.0.1:%d/%s" % (port, ROOM)
    tmp = tempfile.mkdtemp(prefix="noom-jobs-")
    clip = os.path.join(tmp, "clip.webm")
    subprocess.run(["gst-launch-1.0", "-q", "videotestsrc", "num-buffers=60",
                    "!", "video/x-raw,width=320,height=240,framerate=30/1",
                    "!", "vp8enc", "keyframe-max-dist=15", "!", "webmmux",
                    "name=m", "!", "filesink", "location=" + clip,
                    "audiotestsrc", "num-buffers=100", "!", "opusenc", "!",
                    "m."], check=True, timeout=scaled(60))
    procs = []

    def job(*args):
        p = subprocess.Popen(list(args), stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
        procs.append(p)
        return p

    async def stop(p):
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
            for _ in range(int(scaled(15) * 10)):
                if p.poll() is not None:
                    break
                await asyncio.sleep(0.1)
        if p.poll() is None:
            p.kill()
        return p.wait()
    try:
        rec = job(os.environ["NOOM_RECORD"], "-o", tmp, "-v", uri)
        await until(lambda: welcomed(viewer, "recorder"), "noom-record", 15)
        ing = job(os.environ["NOOM_INGEST"], "--loop", "-q", clip, uri)
        await until(lambda: welcomed(viewer, "ingest"), "noom-ingest", 15)
        ingest = welcomed(viewer, "ingest")
        assert ingest["kind"] == "publisher", ingest
        await viewer.decodes([type("P", (), {"id": ingest["id"],
                                             "nickname": "ingest"})],
                             seconds=30)

        pc = RTCPeerConnection()
        pc.addTrack(sfu.local_track("audio"))
        video = pc.addTrack(sfu.SmallVideo())
        tr = next(t for t in pc.getTransceivers() if t.sender == video)
        tr.setCodecPreferences([
            c for c in RTCRtpSender.getCapabilities("video").codecs
            if c.mimeType == "video/H264"])
        await pc.setLocalDescription(await pc.createOffer())
        async with aiohttp.ClientSession() as http:
            async with http.post("%s/whip/%s?nickname=obs" % (
                    server.url, ROOM), data=pc.localDescription.sdp,
                    headers={"Content-Type": "application/sdp"}) as r:
                body = await r.text()
                assert r.status == 201, "%d %s" % (r.status, body)
                location = urllib.parse.urljoin(server.url,
                                                r.headers["Location"])
            await pc.setRemoteDescription(RTCSessionDescription(
                sdp=body, type="answer"))
            await until(lambda: welcomed(viewer, "obs"), "obs to join", 15)
            obs = welcomed(viewer, "obs")
            await viewer.decodes([type("P", (), {"id": obs["id"],
                                                 "nickname": "obs"})],
                                 seconds=30)
            await asyncio.sleep(scaled(3))
            async with http.delete(location) as r:
                assert r.status == 200, r.status
        await pc.close()
        assert await stop(ing) == 0, "noom-ingest: " + ing.stderr.read()
        await until(lambda: left(viewer, ingest["id"]), "ingest's bye", 15)
        assert await stop(rec) == 0, "noom-record: " + rec.stderr.read()
        files = os.listdir(os.path.join(tmp, ROOM))
        for nick, codec in (("obs", "H.264"), ("ingest", "VP8")):
            mine = [f for f in files if f.startswith(nick + "-")]
            assert mine, "no file for %s in %r" % (nick, files)
            info = subprocess.run(
                ["gst-discoverer-1.0", os.path.join(tmp, ROOM, mine[0])],
                capture_output=True, text=True, timeout=scaled(30)).stdout
            assert codec in info, "%s's file:\n%s" % (nick, info)
            assert "Opus" in info, "%s's file:\n%s" % (nick, info)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


CASES = {
    "jobs": case_jobs,
    "whip-aiortc": case_whip_aiortc,
    "whip-h264": case_whip_h264,
    "whip-client": case_whip_client,
    "whip-client-no-trickle": case_whip_client_no_trickle,
    "whep-noomsink": case_whep_noomsink,
}


async def main(case):
    servers, clients = [], []
    try:
        await asyncio.wait_for(CASES[case](servers, clients), scaled(150))
    except BaseException:
        for s in servers:
            print("---- noom-server --sfu:\n%s" % s.log(), file=sys.stderr)
        raise
    finally:
        for c in clients:
            try:
                await c.close()
            except Exception:
                pass
        for s in servers:
            s.stop()
            if os.environ.get("NOOM_TEST_VERBOSE"):
                print(s.log(), file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "noomsrc":
        noomsrc_main(sys.argv[2])
        sys.exit(0)
    if len(sys.argv) != 2 or sys.argv[1] not in CASES:
        sys.exit("usage: whip-e2e.py %s" % "|".join(CASES))
    if sys.argv[1].startswith("whip-client"):
        own_namespace()
    asyncio.run(main(sys.argv[1]))
    print("ok: " + sys.argv[1])
