#!/usr/bin/env python3
"""Tests scripts/retry-failed and scripts/test-summary together, with a
real meson: a project of its own, in a temporary directory, whose tests
fail the first time or every time, as TAP points, as GstCheck-style
checks and as plain tests.  TAP output."""
import os
import subprocess
import sys
import tempfile

SCRIPTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                       'scripts')

# Each test is a python script; "once" fails until its marker exists.
MESON = """project('retry', [])
py = find_program('python3')
foreach t : ['plain-once', 'plain-always', 'tap-once', 'check-once', 'check-always', 'good']
  test(t, py, args : [meson.current_source_dir() / 'case.py', t,
    meson.current_build_dir()], protocol : t.startswith('tap') ? 'tap' : 'exitcode')
endforeach
"""

CASE = r"""import os, sys
name, build = sys.argv[1], sys.argv[2]
marker = os.path.join(build, name + '.ran')
first = not os.path.exists(marker)
open(marker, 'a').close()
bad = first or name.endswith('always')
if name.startswith('plain'):
    sys.exit(1 if bad else 0)
if name.startswith('tap'):
    print('ok 1 - steady')
    print(('not ok' if bad else 'ok') + ' 2 - wobbly')
    print('1..2')
    sys.exit(0)
if name.startswith('check'):
    # libcheck's way: only failures are named; GST_CHECKS picks cases
    picked = os.environ.get('GST_CHECKS')
    cases = picked.split(',') if picked else ['test_a', 'test_b']
    fails = [c for c in cases if c == 'test_b' and bad]
    print('%d%%: Checks: %d, Failures: %d, Errors: 0' % (
        100 * (len(cases) - len(fails)) // len(cases), len(cases),
        len(fails)))
    for c in fails:
        print('../case.c:12:F:tc:%s:0: it broke' % c)
    sys.exit(1 if fails else 0)
sys.exit(0)
"""

n = 0
failed = 0


def check(desc, cond, detail=''):
    global n, failed
    n += 1
    print(('ok' if cond else 'not ok') + ' %d - %s' % (n, desc))
    if not cond:
        failed += 1
        for line in str(detail).splitlines():
            print('# ' + line)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        src, build = os.path.join(tmp, 'src'), os.path.join(tmp, 'build')
        os.mkdir(src)
        with open(os.path.join(src, 'meson.build'), 'w') as f:
            f.write(MESON)
        with open(os.path.join(src, 'case.py'), 'w') as f:
            f.write(CASE)
        r = run(['meson', 'setup', build, src])
        if r.returncode:
            print('1..0 # SKIP meson setup failed: ' + r.stderr[-200:])
            return 0
        first = run(['meson', 'test', '-C', build])
        check('the first run fails', first.returncode != 0, first.stdout)
        log = os.path.join(build, 'meson-logs', 'testlog.json')
        before = run([sys.executable, os.path.join(SCRIPTS, 'test-summary'),
                      log])
        check('without retries the summary counts every failure',
              before.stdout.strip().endswith('4 passed, 5 failed, 0 skipped')
              and before.returncode == 1, before.stdout)
        retry = run([sys.executable, os.path.join(SCRIPTS, 'retry-failed'),
                     log, '--', 'meson', 'test', '-C', build])
        check('the retry fails: some tests always fail',
              retry.returncode == 1, retry.stdout + retry.stderr)
        check('a check binary runs again with only its failed checks',
              'check-once (test_b)' in retry.stdout, retry.stdout)
        check('a test that passed is not run again',
              'good' not in retry.stdout, retry.stdout)
        logs = sorted(os.listdir(os.path.join(build, 'meson-logs')))
        retried = [l for l in logs if l.startswith('testlog-retry')
                   and l.endswith('.json')]
        check('each retried test has its log', len(retried) == 5, logs)
        after = run([sys.executable, os.path.join(SCRIPTS, 'test-summary'),
                     log])
        out = after.stdout
        check('flaky points count as passed, the others still fail',
              out.strip().endswith('7 passed, 2 failed, 0 skipped')
              and after.returncode == 1, out)
        flaky = [l for l in out.splitlines() if 'FLAKY' in l]
        check('each flaky test is named with its first failure',
              len(flaky) == 3
              and any('plain-once' in l for l in flaky)
              and any('tap-once: not ok 2 - wobbly' in l for l in flaky)
              and any('check-once: ../case.c:12:F:tc:test_b' in l
                      for l in flaky), out)
        still = [l for l in out.splitlines() if 'FAILED' in l]
        check('tests failing twice are named failed',
              len(still) == 2 and any('plain-always' in l for l in still)
              and any('check-always' in l and 'test_b' in l
                      for l in still), out)
        # retry logs of an older run must not count for a new one
        again = run([sys.executable, os.path.join(SCRIPTS, 'retry-failed'),
                     log, '--', 'meson', 'test', '-C', build])
        logs2 = [l for l in os.listdir(os.path.join(build, 'meson-logs'))
                 if l.startswith('testlog-retry') and l.endswith('.json')]
        check('a second retry replaces the logs of the first',
              len(logs2) == 5, logs2)
    print('1..%d' % n)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
