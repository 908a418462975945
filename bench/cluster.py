#!/usr/bin/env python3
# Noom
# Copyright (C) 2026 Noom developers
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Cross-node figures of noom-server --redis (docs/performance.md, issue 17):
# the same noom-bench chat load against one node without Redis, and against
# NODES nodes sharing a redis-server of its own (loopback, no persistence),
# every room with members on every node.  Prints a Markdown table: relay
# latency p50/p99 (all, within one node, across nodes), the CPU per
# delivered message (the nodes', and with redis-server's), and how often
# per chat message the servers' main threads woke up (voluntary context
# switches, the main thread's; Redis's included), and what one wake-up
# costs on this machine (a socket-pair ping-pong between two processes).
#   bench/cluster.py [--build DIR] [--nodes N] [--clients N] [--rooms R]
#                    [--rate MSGS] [--seconds S] [--pin]
# --pin puts each node (and redis-server) on a CPU of its own, round robin.
# --rate 0: no chat, only the connect and join storms (joins per second,
# and the CPU of each process over the run).
import argparse, json, os, re, resource, shutil, socket, subprocess, sys, tempfile, time

ap = argparse.ArgumentParser()
ap.add_argument('--build', default='build')
ap.add_argument('--nodes', type=int, default=2)
ap.add_argument('--clients', type=int, default=200)
ap.add_argument('--rooms', type=int, default=20)
ap.add_argument('--rate', type=float, default=1000)
ap.add_argument('--seconds', type=float, default=5)
ap.add_argument('--pin', action='store_true')
args = ap.parse_args()
server = os.path.join(args.build, 'tools', 'noom-server', 'noom-server')
bench = os.path.join(args.build, 'tools', 'noom-bench')
ncpu = os.cpu_count() or 1
procs = []


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def pin(i):
    return ['taskset', '-c', str(i % ncpu)] if args.pin and shutil.which('taskset') else []


logdir = tempfile.mkdtemp(prefix='noom-bench-logs-')


def start_node(i, extra):
    # The log goes to a file: a pipe nobody reads would stop the server.
    log = open(os.path.join(logdir, f'node{i}-{len(procs)}.log'), 'w+')
    p = subprocess.Popen(pin(i) + [server, '--host', '127.0.0.1', '--port', '0'] + extra,
                         stdout=subprocess.PIPE, stderr=log, text=True)
    p.log = log
    procs.append(p)
    line = p.stdout.readline()
    m = re.search(r'listening on (http\S+)', line)
    if not m:
        log.seek(0)
        sys.exit(f'noom-server did not start: {line}{log.read()}')
    return p, m.group(1)


def wait_joined(p):
    for _ in range(200):
        with open(p.log.name) as f:
            if 'joined the cluster' in f.read():
                return
        time.sleep(0.05)
    sys.exit('a node did not join the cluster')


def cpu_split(pid):
    # (utime, stime) of @pid, in seconds (/proc/PID/stat fields 14 and 15)
    with open(f'/proc/{pid}/stat') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    tck = os.sysconf('SC_CLK_TCK')
    return int(fields[11]) / tck, int(fields[12]) / tck


def run_bench(urls, pids, label):
    before = [cpu_split(pid) for pid in pids]
    gen_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    cmd = [bench, '-n', str(args.clients), '-r', str(args.rooms), '--chat-rate', str(args.rate),
           '--chat-seconds', str(args.seconds), '--idle-seconds', '1', '--json', '-', '-l', label]
    for u in urls:
        cmd += ['--url', u]
    for pid in pids:
        cmd += ['--server-pid', str(pid)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    j = [l for l in out.stdout.splitlines() if l.startswith('{')]
    if not j:
        sys.exit(f'noom-bench failed: {out.stdout}{out.stderr}')
    r = json.loads(j[-1])
    # CPU over the whole run (connects, joins, chat), by process: the
    # servers (then Redis, last of @pids) and the load generator
    r['run_user_sys_s'] = [tuple(x - y for x, y in zip(cpu_split(pid), b))
                           for pid, b in zip(pids, before)]
    r['run_cpu_s'] = [u + k for u, k in r['run_user_sys_s']]
    gen = resource.getrusage(resource.RUSAGE_CHILDREN)
    r['run_generator_cpu_s'] = (gen.ru_utime + gen.ru_stime) - (gen_before.ru_utime + gen_before.ru_stime)
    return r, ' '.join(os.path.basename(c) if c == bench else c for c in cmd)


def stop_all():
    for p in procs:
        p.kill()
        p.wait()
    procs.clear()


def wakeup_cost_us(rounds=20000):
    # CPU per wake-up of this machine: two processes pass a byte back and
    # forth over a socket pair, each blocking in read() between turns, so
    # every turn is one wake-up; both processes' user and system time,
    # over the wake-ups.  What a cross-node message pays three times and a
    # message on one node once (docs/performance.md).
    a, b = socket.socketpair()
    pid = os.fork()
    if pid == 0:
        a.close()
        for _ in range(rounds):
            os.write(b.fileno(), os.read(b.fileno(), 1))
        os._exit(0)
    b.close()
    t0 = os.times()
    for _ in range(rounds):
        os.write(a.fileno(), b'x')
        os.read(a.fileno(), 1)
    os.waitpid(pid, 0)
    t1 = os.times()
    a.close()
    cpu = (t1.user - t0.user) + (t1.system - t0.system) + \
        (t1.children_user - t0.children_user) + (t1.children_system - t0.children_system)
    return cpu / (2 * rounds) * 1e6


rows = []
commands = []
try:
    p, url = start_node(0, [])
    r, cmd = run_bench([url], [p.pid], 'one node')
    rows.append(('one node, no Redis', r, r['server_us_per_delivery'], None))
    commands.append(cmd)
    stop_all()

    tmp = tempfile.mkdtemp(prefix='noom-bench-redis-')
    rport = free_port()
    redis = subprocess.Popen(pin(args.nodes) + ['redis-server', '--port', str(rport), '--bind', '127.0.0.1',
                              '--dir', tmp, '--save', '', '--appendonly', 'no'],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(redis)
    for _ in range(100):
        try:
            socket.create_connection(('127.0.0.1', rport), timeout=0.1).close()
            break
        except OSError:
            time.sleep(0.05)
    nodes = []
    for i in range(args.nodes):
        p, url = start_node(i, ['--redis', f'redis://127.0.0.1:{rport}', '--node-id', f'n{i + 1}'])
        wait_joined(p)
        nodes.append((p, url))
    label = f'{args.nodes} nodes + Redis'
    r, cmd = run_bench([u for _, u in nodes], [p.pid for p, _ in nodes] + [redis.pid], label)
    commands.append(cmd)
    # the nodes alone: run again without redis-server's pid? Its share is
    # read from /proc directly instead.
    rows.append((label, r, r['server_us_per_delivery'], None))
    stop_all()
    shutil.rmtree(tmp, ignore_errors=True)
finally:
    stop_all()
    shutil.rmtree(logdir, ignore_errors=True)

if args.rate == 0:
    # CPU s: over the whole run (connect storm, join storm, 1 s idle), of
    # each node, Redis and the load generator
    print('| setup | clients | rooms | joins/s | join storm s | connects/s | failed | CPU s: nodes | Redis | generator |')
    print('|---|---|---|---|---|---|---|---|---|---|')
    for label, r, us, _ in rows:
        cpu = r['run_cpu_s']
        nodes_cpu = cpu if len(cpu) == 1 else cpu[:-1]
        redis_cpu = f"{cpu[-1]:.2f}" if len(cpu) > 1 else '—'
        storm = r['clients'] / r['joins_per_s'] if r['joins_per_s'] else 0
        print(f"| {label} | {r['clients']} | {r['rooms']} | {r['joins_per_s']:.0f} | {storm:.2f} | "
              f"{r['connects_per_s']:.0f} | {r['failed']} | "
              f"{' + '.join(f'{c:.2f}' for c in nodes_cpu)} | {redis_cpu} | "
              f"{r['run_generator_cpu_s']:.2f} |")
    print()
    print('Commands: ' + '; '.join(f'`{c}`' for c in commands))
    sys.exit(0)
print('| setup | delivered/s | lost | p50 ms | p99 ms | p50 within a node | p50 across nodes | CPU µs/delivery (servers + Redis) | of it in the kernel | wake-ups per message |')
print('|---|---|---|---|---|---|---|---|---|---|')
for label, r, us, _ in rows:
    lost = r['expected'] - r['delivered']
    local = r['latency_local_ms']['p50'] if r['nodes'] > 1 else r['latency_ms']['p50']
    cross = f"{r['latency_cross_ms']['p50']:.2f}" if r['nodes'] > 1 else '—'
    print(f"| {label} | {r['delivered_per_s']:.0f} | {lost} | {r['latency_ms']['p50']:.2f} | "
          f"{r['latency_ms']['p99']:.2f} | {local:.2f} | {cross} | {us:.2f} | "
          f"{r['server_sys_us_per_delivery']:.2f} | "
          f"{r['server_wakeups_per_message']:.2f} |")
print()
for label, r, us, _ in rows:
    names = ['node'] if r['nodes'] == 1 else [f'n{i + 1}' for i in range(r['nodes'])] + ['redis-server']
    print(f'{label}, CPU s over the whole run (user + system): ' + ', '.join(
        f'{n} {u:.2f} + {k:.2f}' for n, (u, k) in zip(names, r['run_user_sys_s'])))
# measured with the nodes and Redis gone, and only for the chat table
print(f'A wake-up on this machine (two processes passing a byte over a socket pair): '
      f'{wakeup_cost_us():.1f} µs of CPU.')
print()
print('Commands: ' + '; '.join(f'`{c}`' for c in commands))
