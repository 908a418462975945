#!/usr/bin/python3
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# noom-record's live egress under load (issue 19, docs/performance.md): one
# 720p30 composite of 4 participants sent to nginx's RTMP module, all on
# loopback.  Measures
#  - noom-record's CPU (utime + stime from /proc) and its split per thread:
#    GStreamer names a queue's thread after it (venc-q:src is the H.264
#    encoder, grid:src the compositor, cv-N:src one participant's decoder
#    and label ...);
#  - the latency from a participant to an RTMP viewer: one participant is
#    published from this process and flips from black to white every 10 s;
#    a viewer here (rtmp2src, decoded) sees its tile flip.  That includes
#    the participant's own VP8 encoding and the viewer's decoding, so it is
#    an upper bound of room -> RTMP server input;
#  - whether the stream keeps up with real time: stream time against wall
#    time at the viewer, and frames per second.
#
#   unshare -n sh -c 'ip link set lo up; bench/egress-bench.py build 600'

import atexit
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'build')
seconds = int(sys.argv[2]) if len(sys.argv) > 2 else 60
WARMUP = 15
os.environ['GST_PLUGIN_PATH'] = os.path.join(build, 'gst')

import gi  # noqa: E402
gi.require_version('Gst', '1.0')
from gi.repository import Gst, GLib  # noqa: E402

Gst.init(None)
HZ = os.sysconf('SC_CLK_TCK')


def wait(seconds):
    # rtmp2src works from the default main context: keep it turning
    end = time.monotonic() + seconds
    ctx = GLib.MainContext.default()
    while time.monotonic() < end:
        if not ctx.iteration(False):
            time.sleep(0.01)


def free_port():
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


tmp = tempfile.mkdtemp(prefix='noom-egress-bench-')
procs = []
# whatever happens, nothing is left running
atexit.register(lambda: [p.kill() for p in procs if p.poll() is None])


def spawn(args, log):
    p = subprocess.Popen(args, stdout=open(os.path.join(tmp, log), 'w'), stderr=subprocess.STDOUT)
    procs.append(p)
    return p


rtmp_port = free_port()
with open(os.path.join(tmp, 'nginx.conf'), 'w') as f:
    f.write(f'''load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;
daemon off;
master_process off;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log info;
events {{ worker_connections 64; }}
rtmp {{ server {{ listen 127.0.0.1:{rtmp_port}; application live {{ live on; record off; }} }} }}
''')
spawn(['nginx', '-p', tmp, '-c', os.path.join(tmp, 'nginx.conf'), '-e', os.path.join(tmp, 'nginx-error.log')], 'nginx.log')
port = free_port()
spawn([os.path.join(build, 'tools/noom-server/noom-server'), '--port', str(port), '--host', '127.0.0.1'], 'server.log')
time.sleep(1)
room = f'noom://127.0.0.1:{port}/bench'
url = f'rtmp://127.0.0.1:{rtmp_port}/live/bench'

# the participant that flips, first: the top left tile of the 2x2 grid
flip = Gst.parse_launch(
    'videotestsrc name=v is-live=true pattern=black ! video/x-raw,width=640,height=360,framerate=30/1 ! s. '
    'audiotestsrc is-live=true wave=silence ! s. '
    f'noomsink name=s uri={room}?nickname=flip')
flip.set_state(Gst.State.PLAYING)
time.sleep(3)
rec = spawn([os.path.join(build, 'tools/jobs/noom-record'), '-q', '-v', '-o', tmp, '--stream', url, room], 'record.log')
time.sleep(2)
for i in range(3):
    spawn(['gst-launch-1.0', '-q', 'videotestsrc', 'is-live=true', 'pattern=ball', '!',
           'video/x-raw,width=640,height=360,framerate=30/1', '!', 's.',
           'audiotestsrc', 'is-live=true', 'wave=sine', 'volume=0.05', '!', 's.',
           'noomsink', 'name=s', f'uri={room}?nickname=p{i}'], f'pub{i}.log')
    time.sleep(1)

lock = threading.Lock()
frames = []            # (wall, pts)
flips = []             # (wall, white)
latencies = []
seen_white = [False]


def on_sample(sink):
    sample = sink.emit('pull-sample')
    buf = sample.get_buffer()
    now = time.monotonic()
    ok, info = buf.map(Gst.MapFlags.READ)
    data = info.data
    # the mean of the top left tile's centre (GRAY8, 1280 wide)
    total = 0
    n = 0
    for y in range(120, 240, 8):
        row = data[y * 1280 + 200:y * 1280 + 440:8]
        total += sum(row)
        n += len(row)
    buf.unmap(info)
    white = total / n > 128
    with lock:
        if white != seen_white[0]:
            seen_white[0] = white
            pending = [f for f in flips if f[1] == white]
            if pending:
                latencies.append(now - pending[-1][0])
    return Gst.FlowReturn.OK


# every frame the RTMP server sends, counted before decoding (the viewer's
# decoder may drop frames on a loaded machine, the stream does not)
def on_frame(pad, info):
    buf = info.get_buffer()
    with lock:
        frames.append((time.monotonic(), buf.pts / Gst.SECOND))
    return Gst.PadProbeReturn.OK


viewer = None
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    viewer = Gst.parse_launch(
        f'rtmp2src location={url} ! flvdemux name=d d.video ! queue ! h264parse name=p ! avdec_h264 ! '
        'videoconvert ! video/x-raw,format=GRAY8 ! appsink name=s emit-signals=true sync=false max-buffers=30 drop=true '
        'd.audio ! queue ! fakesink')
    viewer.get_by_name('s').connect('new-sample', on_sample)
    viewer.get_by_name('p').get_static_pad('sink').add_probe(Gst.PadProbeType.BUFFER, on_frame)
    viewer.set_state(Gst.State.PLAYING)
    wait(6)
    with lock:
        if frames:
            break
    msg = viewer.get_bus().pop_filtered(Gst.MessageType.ERROR)
    if msg:
        print('viewer:', msg.parse_error()[0].message, file=sys.stderr)
    viewer.set_state(Gst.State.NULL)
    viewer = None
if not viewer:
    for p in procs:
        p.terminate()
    sys.exit('no RTMP stream within 60 s; logs in ' + tmp)


def cpu_of(pid):
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / HZ


def threads_of(pid):
    out = {}
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/comm') as f:
                comm = f.read().strip()
            out[tid] = (comm, cpu_of(f'{pid}/task/{tid}'))
        except OSError:
            pass
    return out


wait(WARMUP)
c0, w0 = cpu_of(rec.pid), time.monotonic()
t0 = threads_of(rec.pid)
with lock:
    f0 = len(frames)
    first = frames[-1]
end = w0 + seconds
white = False
next_flip = time.monotonic() + 2
while time.monotonic() < end:
    if time.monotonic() >= next_flip:
        white = not white
        flip.get_by_name('v').set_property('pattern', 'white' if white else 'black')
        with lock:
            flips.append((time.monotonic(), white))
        next_flip += 10
    wait(0.05)
c1, w1 = cpu_of(rec.pid), time.monotonic()
t1 = threads_of(rec.pid)
with lock:
    last = frames[-1]
    f1 = len(frames)
    lat = sorted(latencies)

cpu = (c1 - c0) / (w1 - w0)
groups = {}
for tid, (comm, c) in t1.items():
    before = t0.get(tid, (comm, 0.0))[1]
    name = comm.split(':')[0]
    if name.startswith('cv-'):
        name = 'cv-N (VP8 decode, label; each participant)'
    elif name.startswith('ca-'):
        name = 'ca-N (Opus decode, level; each participant)'
    elif name.startswith('queue') and name[5:].isdigit():
        name = 'queueN (participant files, WebRTC receive)'
    groups[name] = groups.get(name, 0.0) + (c - before)
wall = w1 - w0
print(f'noom-record: {cpu * 100:.0f} % of one core over {wall:.0f} s (4 participants, 1280x720 at 30 fps, x264 veryfast, to RTMP)')
print('per thread (% of one core):')
for name, c in sorted(groups.items(), key=lambda kv: -kv[1]):
    if c / wall >= 0.005:
        print(f'  {name:45s} {c / wall * 100:5.1f}')
drift = (last[0] - first[0]) - (last[1] - first[1])
print(f'viewer: {f1 - f0} frames in {wall:.0f} s = {(f1 - f0) / wall:.1f} fps; '
      f'stream time {last[1] - first[1]:.1f} s for wall time {last[0] - first[0]:.1f} s (behind by {drift:.2f} s)')
if lat:
    print(f'latency participant -> RTMP viewer: {len(lat)} flips, median {lat[len(lat) // 2] * 1000:.0f} ms, '
          f'p90 {lat[min(len(lat) - 1, len(lat) * 9 // 10)] * 1000:.0f} ms, min {lat[0] * 1000:.0f} ms, max {lat[-1] * 1000:.0f} ms, {sum(1 for x in lat if x > 2)} over 2 s')

viewer.set_state(Gst.State.NULL)
flip.set_state(Gst.State.NULL)
for p in reversed(procs):
    p.terminate()
for p in procs:
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
print('logs in', tmp)
