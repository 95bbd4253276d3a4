# SPDX-License-Identifier: LGPL-2.1-or-later
"""cpod killed with SIGKILL at random points of `run` (attached and detached), `rm -f` of a running
container and `commit` of a changed container leaves a store that tells the truth and can be cleaned:

- the next `ps -a` lists every container once, running (or paused) only while its process exists and
  never running once it is gone;
- `system check` finds the store clean, or `system check --repair` repairs it in one go and a second
  check finds nothing;
- after `rm -a -f` nothing is left: no rows, no mounts below the store, no conmon for a removed
  container, no cgroup of a removed container below the runtime's cgroup parent (`/cpod`).

CPOD_CRASH_ITERATIONS (default 15 per command) and CPOD_TEST_SEED (printed on failure) tune a run.
"""

import glob
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import tempfile
import time

import pytest

import cpodlib
import storelib

BUSYBOX = 'docker.io/library/busybox:latest'
ITERATIONS = int(os.environ.get('CPOD_CRASH_ITERATIONS', '15'))
HOST_SETUP = os.path.join(cpodlib.ROOT, 'tools', 'host-setup.sh')
CGROUP_PARENT = 'cpod'  # the spec's cgroupsPath is /cpod/<id>
COMMIT_NAME = 'localhost/crashcommit:latest'


class Crash:
    """A private store plus what a crash test needs to look at: every container ID it has seen."""

    def __init__(self, rng, seed):
        # short base: the attach socket path (run root + 64-hex ID) must fit in a socket address
        self.s = cpodlib.Store(tempfile.mkdtemp(prefix='cc', dir='/tmp'))
        self.rng = rng
        self.seed = seed
        self.seen = set()
        self.repaired = 0
        self.finished_first = 0
        self.busy = 0
        self.problems = set()  # the kinds of problems repaired

    # ---- running cpod ----

    def killed(self, args, delay):
        """Start cpod with args, SIGKILL that process (only it: conmon and the container are meant to
        outlive cpod) after delay seconds; its exit status (negative: killed, >= 0: it finished first)."""
        p = subprocess.Popen(self.s.args() + list(args), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        status = p.wait()
        if status >= 0:
            self.finished_first += 1
        return status

    def timed(self, *args):
        t0 = time.monotonic()
        self.s.ok(*args, timeout=60)
        return time.monotonic() - t0

    # ---- what is there ----

    def ps(self, ctx):
        p = self.s.run('ps', '-a', '--format', 'json', timeout=60)
        assert p.returncode == 0, '%s: ps -a failed (%d): %s' % (ctx, p.returncode, p.stderr)
        items = json.loads(p.stdout or '[]')
        ids = [c['Id'] for c in items]
        assert len(ids) == len(set(ids)), '%s: a container listed twice: %s' % (ctx, ids)
        names = [n for c in items for n in c.get('Names') or []]
        assert len(names) == len(set(names)), '%s: a name listed twice: %s' % (ctx, names)
        self.seen.update(ids)
        return items

    def files_ids(self):
        """IDs with anything on disk or a conmon (the ones a killed create may not have printed)."""
        ids = set()
        for d in ('root/containers', 'run/containers', 'run/runtime'):
            path = os.path.join(self.s.base, d)
            if os.path.isdir(path):
                ids.update(n for n in os.listdir(path) if len(n) == 64)
        ids.update(self.conmons())
        self.seen.update(ids)
        return ids

    def conmons(self):
        """{container id: conmon pid} of the conmon processes serving this store."""
        out = {}
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    argv = f.read().split(b'\0')
            except OSError:
                continue
            if not argv or not argv[0].endswith(b'conmon'):
                continue
            if not any(self.s.base.encode() in a for a in argv):
                continue
            if b'-c' in argv:
                out[argv[argv.index(b'-c') + 1].decode()] = int(pid)
        return out

    def mounts(self):
        with open('/proc/self/mounts') as f:
            return [l.split()[1] for l in f if self.s.base in l.split()[1]]

    def cgroups(self, ids):
        found = []
        for cid in ids:
            found += glob.glob('/sys/fs/cgroup/*/%s/%s' % (CGROUP_PARENT, cid))
            found += glob.glob('/sys/fs/cgroup/%s/%s' % (CGROUP_PARENT, cid))
        return found

    # ---- the checks after every kill ----

    def check_ps(self, ctx):
        """Every container's state agrees with its processes. A container may end between ps and our
        look at its process: then ps must say so within moments (conmon reaps it and writes the exit
        file first)."""
        for c in self.ps(ctx):
            state, pid = c.get('State'), c.get('Pid') or 0
            what = '%s: container %s (%s, pid %d)' % (ctx, c['Id'][:12], state, pid)
            if state in ('running', 'paused'):
                assert pid > 0, what
                deadline = time.monotonic() + 3
                while not pid_alive(pid) and time.monotonic() < deadline:
                    now = [d for d in self.ps(ctx) if d['Id'] == c['Id']]
                    if not now or now[0]['State'] not in ('running', 'paused'):
                        break
                    time.sleep(0.05)
                else:
                    assert pid_alive(pid), '%s: listed %s but its process is gone' % (what, state)
            elif state == 'exited':
                assert pid == 0 or not pid_alive(pid), '%s: exited with a live process' % what
            else:
                assert state in ('created', 'configured', 'stopped', 'initialized'), what

    def exit_commands(self):
        """The exit commands (`cpod container cleanup ID`, started by conmon when a container ends) that
        are running for this store."""
        found = []
        for pid in os.listdir('/proc'):
            if not pid.isdigit():
                continue
            try:
                with open('/proc/%s/cmdline' % pid, 'rb') as f:
                    argv = f.read().split(b'\0')
            except OSError:
                continue
            if argv and argv[0].endswith(b'cpod') and b'cleanup' in argv and \
                    any(self.s.base.encode() in a for a in argv):
                found.append(int(pid))
        return found

    def check(self, repair=False):
        """system check [--repair] once no exit command is pending: a container that ended a moment ago
        is still mounted until its exit command has run, and that waits while a check has the store.
        Again while another cpod process has the store open: a check needs it alone."""
        deadline = time.monotonic() + 20
        while self.exit_commands() and time.monotonic() < deadline:
            time.sleep(0.02)
        while True:
            p = storelib.check(self.s, repair)
            if 'in use by other cpod processes' not in p.stderr or time.monotonic() > deadline:
                return p
            self.busy += 1
            time.sleep(0.05)

    def check_store(self, ctx):
        """`system check` is clean, or one `--repair` makes it clean."""
        c = self.check()
        if c.returncode == 0:
            return
        r = self.check(repair=True)
        assert r.returncode == 0, '%s: system check --repair exit %d\n%s%s\n(check said: %s%s)' % (
            ctx, r.returncode, r.stdout, r.stderr, c.stdout, c.stderr)
        again = self.check()
        assert again.returncode == 0, '%s: system check after --repair: exit %d\n%s%s\n(check said: %s%s)' % (
            ctx, again.returncode, again.stdout, again.stderr, c.stdout, c.stderr)
        self.repaired += 1
        self.problems.update(l.split(':', 1)[-1].strip() for l in c.stdout.splitlines() if ':' in l)

    def after_kill(self, ctx):
        self.files_ids()
        self.check_ps(ctx)
        self.check_store(ctx)
        self.check_ps(ctx + ', after the check')

    def remove_all(self, ctx):
        """rm -a -f leaves nothing behind: rows, mounts, conmons, cgroups."""
        self.files_ids()
        p = self.s.run('rm', '-a', '-f', '-t', '0', timeout=60)
        assert p.returncode == 0, '%s: rm -a -f failed (%d): %s%s' % (ctx, p.returncode, p.stdout, p.stderr)
        assert self.ps(ctx) == [], '%s: rows after rm -a -f' % ctx
        # the exit commands of containers removed at their exit may still be running: give them a moment
        deadline = time.monotonic() + 10
        while True:
            left = (self.conmons(), self.mounts(), self.cgroups(self.seen))
            if not any(left) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        conmons, mounts, cgroups = left
        assert not conmons, '%s: conmon still runs for removed containers: %s' % (ctx, conmons)
        assert not mounts, '%s: mounts left below the store: %s' % (ctx, mounts)
        assert not cgroups, '%s: cgroups left for removed containers: %s' % (ctx, cgroups)
        for d in ('root/containers', 'run/containers', 'run/runtime', 'run/locks'):
            path = os.path.join(self.s.base, d)
            if os.path.isdir(path):
                assert os.listdir(path) == [], '%s: files left in %s: %s' % (ctx, d, os.listdir(path))
        p = self.check()
        assert p.returncode == 0, '%s: system check: exit %d\n%s%s' % (ctx, p.returncode, p.stdout, p.stderr)

    def report(self):
        print('seed %d: %d repaired, %d finished before the kill, %d checks waited for another process%s' % (
            self.seed, self.repaired, self.finished_first, self.busy,
            ''.join('\n  repaired: ' + p for p in sorted(self.problems))))

    def cleanup(self):
        self.s.run('rm', '-a', '-f', '-t', '0', timeout=60)
        for pid in self.conmons().values():  # only this store's conmons
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.s.cleanup()


def pid_alive(pid):
    try:
        with open('/proc/%d/stat' % pid) as f:
            return f.read().rsplit(')', 1)[1].split()[0] != 'Z'
    except (OSError, IndexError):
        return False


@pytest.fixture
def crash():
    storelib.require_cpod()
    if os.path.exists(HOST_SETUP) and os.geteuid() == 0:
        subprocess.run(['sh', HOST_SETUP], capture_output=True, timeout=120)
    seed = int(os.environ.get('CPOD_TEST_SEED') or random.SystemRandom().randrange(1 << 32))
    x = Crash(random.Random(seed), seed)
    try:
        x.s.ok('load', '-i', storelib.image_file('busybox.docker.tar'))
        p = x.s.run('run', '--rm', '--network', 'none', BUSYBOX, 'true', timeout=60)
        if p.returncode != 0:
            pytest.skip('containers cannot run here (%d): %s' % (p.returncode, p.stderr.strip()))
        yield x
    finally:
        x.cleanup()


def delays(x, normal):
    """ITERATIONS delays spread over [0, 1.2 * normal]: one per stratum, so the whole command is covered."""
    n = ITERATIONS
    return [(i + x.rng.random()) * 1.2 * normal / n for i in range(n)]


# A run killed while conmon creates the container (the row still "configured", conmon.pid perhaps not
# written yet): removal and the next start find that conmon, wait for its create and delete what it made.
def test_run_attached_killed(crash):
    x = crash
    args = ['run', '--network', 'none', BUSYBOX, 'sh', '-c', 'sleep 0.2; echo x']
    normal = statistics.median(x.timed(*args) for _ in range(3))
    x.remove_all('before')
    for i, delay in enumerate(delays(x, normal)):
        ctx = 'seed %d, attached run %d, kill after %.0f ms' % (x.seed, i, delay * 1000)
        x.killed(args, delay)
        x.after_kill(ctx)
        if i % 3 == 2:
            x.remove_all(ctx)
    # containers of killed foreground runs finish on their own and are listed exited
    deadline = time.monotonic() + 10
    while any(c['State'] == 'running' for c in x.ps('at the end')) and time.monotonic() < deadline:
        time.sleep(0.1)
    x.check_ps('at the end')
    assert all(c['State'] != 'running' for c in x.ps('at the end')), 'still running after 10 s'
    x.remove_all('at the end')
    x.report()


def slow_create_env(tmp_path):
    """An environment whose PATH starts with a `crun` that sleeps a second before each create: a run
    killed in that second leaves conmon inside the runtime's create, the row still "configured"."""
    wrapper = tmp_path / 'crun'
    wrapper.write_text('#!/bin/sh\ncase " $* " in *" create "*) sleep 1;; esac\nexec %s "$@"\n'
                       % shutil.which('crun'))
    wrapper.chmod(0o755)
    return dict(os.environ, PATH='%s:%s' % (tmp_path, os.environ.get('PATH', '')))


def kill_during_create(x, env, args):
    """Start cpod with args, SIGKILL it once conmon runs the (slowed) create; the container ID."""
    p = subprocess.Popen(x.s.args() + args, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while not x.conmons() and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    ids = list(x.conmons())
    assert len(ids) == 1, 'no conmon creating the container: %s' % ids
    return ids[0]


def test_run_killed_during_create(crash, tmp_path):
    """A run killed while conmon creates the container: `ps -a` lists it once, not running; `rm -f`
    right away waits for that create and deletes what it made (conmon, container, cgroup, state); a
    `start` instead starts it. The same for a run --rm."""
    x = crash
    env = slow_create_env(tmp_path)
    for i, rm in enumerate((False, True, False)):
        ctx = 'kill during create %d' % i
        cid = kill_during_create(x, env, ['run'] + (['--rm'] if rm else []) + ['--network', 'none', BUSYBOX,
                                                                                'sh', '-c', 'exit 3'])
        items = x.ps(ctx)
        assert [c['Id'] for c in items] == [cid], '%s: %s' % (ctx, items)
        assert items[0]['State'] in ('configured', 'created'), '%s: %s' % (ctx, items)
        if i == 2:
            x.s.ok('start', cid, timeout=60)
            assert x.s.ok('wait', cid, timeout=60).strip() == '3'
            x.check_store(ctx)
        x.remove_all(ctx)


def test_run_detached_killed(crash):
    x = crash
    args = ['run', '-d', '--network', 'none', BUSYBOX, 'sleep', '1000']
    normal = statistics.median(x.timed(*args) for _ in range(3))
    x.remove_all('before')
    for i, delay in enumerate(delays(x, normal)):
        ctx = 'seed %d, run -d %d, kill after %.0f ms' % (x.seed, i, delay * 1000)
        x.killed(args, delay)
        x.after_kill(ctx)
        # whatever the kill left can be started, stopped and removed
        for c in x.ps(ctx):
            if c['State'] in ('created', 'configured'):
                p = x.s.run('start', c['Id'], timeout=60)
                assert p.returncode == 0, '%s: start after the kill failed: %s' % (ctx, p.stderr)
        x.check_ps(ctx + ', after start')
        if i % 3 == 2:
            x.remove_all(ctx)
    x.remove_all('at the end')
    x.report()


def test_rm_force_killed(crash):
    x = crash
    run = ['run', '-d', '--network', 'none', BUSYBOX, 'sleep', '1000']
    durations = []
    for _ in range(3):
        cid = x.s.ok(*run).strip()
        durations.append(x.timed('rm', '-f', cid))
    normal = statistics.median(durations)
    x.remove_all('before')
    for i, delay in enumerate(delays(x, normal)):
        ctx = 'seed %d, rm -f %d, kill after %.0f ms' % (x.seed, i, delay * 1000)
        cid = x.s.ok(*run).strip()
        x.seen.add(cid)
        x.killed(['rm', '-f', cid], delay)
        x.after_kill(ctx)
        left = [c for c in x.ps(ctx) if c['Id'] == cid]
        if left:
            # a second rm -f finishes the job
            p = x.s.run('rm', '-f', cid, timeout=60)
            assert p.returncode == 0, '%s: rm -f after the kill failed: %s' % (ctx, p.stderr)
        assert x.ps(ctx) == []
        x.remove_all(ctx)
    x.report()


def image_names(x):
    return [n for names in storelib.list_images(x.s).values() for n in names]


def test_commit_killed(crash):
    x = crash
    script = 'echo changed > /changed; dd if=/dev/zero of=/big bs=64k count=32 2>/dev/null; rm /bin/ls; ' \
             'echo ready > /ready; sleep 1000'
    cid = x.s.ok('run', '-d', '--name', 'changed', '--network', 'none', BUSYBOX, 'sh', '-c', script).strip()
    x.seen.add(cid)
    for _ in range(100):
        if x.s.run('exec', cid, 'test', '-f', '/ready').returncode == 0:
            break
        time.sleep(0.05)
    durations = []
    for _ in range(3):
        durations.append(x.timed('commit', cid, COMMIT_NAME))
        x.s.ok('rmi', COMMIT_NAME)
    normal = statistics.median(durations)
    before = storelib.list_images(x.s)
    for i, delay in enumerate(delays(x, normal)):
        ctx = 'seed %d, commit %d, kill after %.0f ms' % (x.seed, i, delay * 1000)
        x.killed(['commit', cid, COMMIT_NAME], delay)
        x.after_kill(ctx)
        # the container is untouched: still running (not left paused), same files
        items = x.ps(ctx)
        assert [(c['Id'], c['State']) for c in items] == [(cid, 'running')], '%s: %s' % (ctx, items)
        imgs = storelib.list_images(x.s)
        extra = {k: v for k, v in imgs.items() if k not in before}
        assert {k: v for k, v in imgs.items() if k in before} == before, '%s: %s' % (ctx, imgs)
        assert list(extra.values()) in ([], [[COMMIT_NAME]]), '%s: half a commit: %s' % (ctx, imgs)
        if extra:
            # a whole image: it runs and holds the changes
            out = x.s.ok('run', '--rm', '--network', 'none', COMMIT_NAME, 'sh', '-c',
                         'cat /changed; test -e /bin/ls || echo no-ls; wc -c < /big', timeout=60)
            assert out.split() == ['changed', 'no-ls', str(64 * 1024 * 32)], '%s: %r' % (ctx, out)
            x.s.ok('rmi', COMMIT_NAME)
        assert storelib.list_images(x.s) == before
        x.check_store(ctx + ', after rmi')
    # a commit after all that works
    x.s.ok('commit', cid, COMMIT_NAME)
    x.s.ok('rmi', COMMIT_NAME)
    x.remove_all('at the end')
    x.report()
