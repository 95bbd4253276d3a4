# SPDX-License-Identifier: LGPL-2.1-or-later
"""The container lifecycle with `--runtime runc` behaves as with crun (the default): run with the
container's exit code, run -d and stop, logs, exec, kill, rm, pause and unpause (where the freezer
works). Every test runs with both runtimes, so a difference shows as one of the pair failing.
Afterwards nothing is left: no rows, no mounts, no conmon, no runtime state, no cgroup."""

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

import cpodlib
import storelib

BUSYBOX = 'docker.io/library/busybox:latest'
ERROR = 125
HOST_SETUP = os.path.join(cpodlib.ROOT, 'tools', 'host-setup.sh')
RUNTIMES = ('crun', 'runc')


@pytest.fixture(scope='module')
def host_ready():
    storelib.require_cpod()
    if os.path.exists(HOST_SETUP) and os.geteuid() == 0:
        subprocess.run(['sh', HOST_SETUP], capture_output=True, timeout=120)


def conmon_pids(base):
    pids = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open('/proc/%s/cmdline' % pid, 'rb') as f:
                cmd = f.read().split(b'\0')
        except OSError:
            continue
        if cmd and os.path.basename(cmd[0]) == b'conmon' and any(base.encode() in a for a in cmd):
            pids.append(int(pid))
    return pids


def wait_for(pred, timeout=15.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


class RtStore:
    """A store whose container commands all run with one runtime."""

    def __init__(self, runtime):
        self.runtime = runtime
        # short base: the attach socket path (run root + 64-hex ID) must fit in a socket address
        self.s = cpodlib.Store(tempfile.mkdtemp(prefix='rt', dir='/tmp'))
        self.ids = set()

    def run(self, *args, **kw):
        return self.s.run('run', '--runtime', self.runtime, '--network', 'none', *args, **kw)

    def state(self, name):
        return self.s.ok('ps', '-a', '--filter', 'name=^%s$' % name, '--format', '{{.State}}').strip()

    def inspect(self, name):
        return json.loads(self.s.ok('inspect', name))[0]


@pytest.fixture(params=RUNTIMES)
def rt(request, host_ready):
    if not shutil.which(request.param):
        pytest.skip('%s is not installed' % request.param)
    x = RtStore(request.param)
    x.s.ok('load', '-i', storelib.image_file('busybox.docker.tar'))
    p = x.run('--rm', BUSYBOX, 'true', timeout=60)
    if p.returncode != 0:
        x.s.cleanup()
        pytest.skip('containers cannot run with %s here (%d): %s' % (x.runtime, p.returncode, p.stderr.strip()))
    yield x
    try:
        x.ids.update(x.s.ok('ps', '-a', '-q', '--no-trunc').split())
        p = x.s.run('rm', '-a', '-f', '-t', '0', timeout=60)
        assert p.returncode == 0, p.stderr
        assert x.s.ok('ps', '-a', '-q') == ''
        assert wait_for(lambda: not conmon_pids(x.s.base), 10), 'conmon left: %s' % conmon_pids(x.s.base)
        with open('/proc/self/mounts') as f:
            mounts = [l for l in f if x.s.base in l]
        assert mounts == [], mounts
        state = os.path.join(x.s.runroot, 'runtime')
        assert not os.path.isdir(state) or os.listdir(state) == [], 'runtime state left: %s' % os.listdir(state)
        cgroups = [g for i in x.ids for g in glob.glob('/sys/fs/cgroup/*/cpod/%s' % i) +
                   glob.glob('/sys/fs/cgroup/cpod/%s' % i)]
        assert cgroups == [], 'cgroups left: %s' % cgroups
        assert storelib.check(x.s).returncode == 0
    finally:
        for pid in conmon_pids(x.s.base):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        x.s.cleanup()


def fail(p, code=ERROR):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith('Error: '), p.stderr
    return p.stderr


def test_run_exit_code_and_output(rt):
    p = rt.run('--name', 'ec', BUSYBOX, 'sh', '-c', 'echo out; echo err >&2; exit 3')
    assert (p.returncode, p.stdout, p.stderr) == (3, 'out\n', 'err\n')
    assert rt.state('ec') == 'exited'
    info = rt.inspect('ec')
    rt.ids.add(info['Id'])
    assert info['State']['ExitCode'] == 3
    assert os.path.basename(info['OCIRuntime']) == rt.runtime
    assert rt.s.ok('wait', 'ec') == '3\n'
    # stdin with -i, the exit codes of a missing and an unexecutable command
    assert rt.run('--rm', '-i', BUSYBOX, 'cat', input='piped\n').stdout == 'piped\n'
    assert rt.run('--rm', BUSYBOX, 'no-such-command').returncode == 127
    assert rt.run('--rm', BUSYBOX, '/etc/passwd').returncode == 126
    # the container sees what the spec says: hostname, no new privileges, its own pid namespace
    out = rt.run('--rm', '--hostname', 'box', BUSYBOX, 'sh', '-c',
                 'hostname; grep NoNewPrivs /proc/self/status; echo $$').stdout.split('\n')
    assert out[0] == 'box' and out[2] == '1', out
    rt.s.ok('rm', 'ec')


def test_run_detached_stop_start_restart(rt):
    cid = rt.run('-d', '--name', 'sl', BUSYBOX, 'sleep', '1000').stdout.strip()
    assert re.fullmatch(r'[0-9a-f]{64}', cid)
    rt.ids.add(cid)
    assert rt.state('sl') == 'running'
    pid = rt.inspect('sl')['State']['Pid']
    assert pid > 0 and os.path.exists('/proc/%d' % pid)
    # sleep as PID 1 ignores SIGTERM: stop falls back to SIGKILL after the timeout
    t0 = time.monotonic()
    assert rt.s.ok('stop', '-t', '1', 'sl') == 'sl\n'
    assert time.monotonic() - t0 < 8
    assert rt.state('sl') == 'exited'
    assert rt.inspect('sl')['State']['ExitCode'] == 137
    assert not os.path.exists('/proc/%d' % pid) or open('/proc/%d/stat' % pid).read().split()[2] == 'Z'
    assert rt.s.ok('stop', 'sl') == 'sl\n'  # stopping a stopped container is fine
    assert rt.s.ok('start', 'sl') == 'sl\n'
    assert rt.state('sl') == 'running'
    assert rt.s.ok('restart', '-t', '0', 'sl') == cid + '\n'
    assert rt.state('sl') == 'running'
    # a container with a TERM handler stops with its own exit code
    rt.run('-d', '--name', 'trap', BUSYBOX, 'sh', '-c', 'trap "exit 7" TERM; while :; do sleep 0.1; done')
    time.sleep(0.3)
    assert rt.s.ok('stop', 'trap') == 'trap\n'
    assert rt.inspect('trap')['State']['ExitCode'] == 7


def test_logs(rt):
    rt.run('--name', 'lg', BUSYBOX, 'sh', '-c', 'echo one; echo two >&2; echo three')
    p = rt.s.run('logs', 'lg')
    assert (p.returncode, p.stdout, p.stderr) == (0, 'one\nthree\n', 'two\n')
    assert rt.s.ok('logs', '--tail', '1', 'lg') in ('three\n', '')
    rt.run('-d', '--name', 'fl', BUSYBOX, 'sh', '-c', 'for i in 1 2 3; do echo line$i; sleep 0.2; done')
    p = rt.s.run('logs', '-f', 'fl', timeout=30)
    assert (p.returncode, p.stdout) == (0, 'line1\nline2\nline3\n'), p


def test_exec(rt):
    rt.run('-d', '--name', 'ex', BUSYBOX, 'sleep', '1000')
    assert rt.s.ok('exec', 'ex', 'echo', 'hello') == 'hello\n'
    assert rt.s.run('exec', 'ex', 'sh', '-c', 'exit 5').returncode == 5
    assert 'not found' in fail(rt.s.run('exec', 'ex', 'no-such-command'), 127)
    assert rt.s.ok('exec', '-i', 'ex', 'cat', input='in\n') == 'in\n'
    out = rt.s.ok('exec', '-e', 'FOO=bar', '-w', '/tmp', '-u', '1000:1000', 'ex', 'sh', '-c', 'echo $FOO; pwd; id')
    assert out == 'bar\n/tmp\nuid=1000 gid=1000\n', out
    # exec joins the container's pid namespace: sleep is PID 1 there
    assert rt.s.ok('exec', 'ex', 'cat', '/proc/1/cmdline') == 'sleep\x001000\x00'
    assert rt.s.run('exec', '-d', 'ex', 'sh', '-c', 'touch /detached').returncode == 0
    assert wait_for(lambda: rt.s.run('exec', 'ex', 'test', '-f', '/detached').returncode == 0, 10)
    rt.s.ok('create', '--runtime', rt.runtime, '--name', 'stopped', BUSYBOX, 'true')
    fail(rt.s.run('exec', 'stopped', 'true'))


def test_kill(rt):
    rt.run('-d', '--name', 'k', BUSYBOX, 'sh', '-c', 'trap "exit 9" USR1; while :; do sleep 0.1; done')
    time.sleep(0.3)
    assert rt.s.ok('kill', '-s', 'USR1', 'k') == 'k\n'
    assert rt.s.ok('wait', 'k') == '9\n'
    rt.s.ok('start', 'k')
    assert rt.s.ok('kill', 'k') == 'k\n'  # SIGKILL by default
    assert rt.s.ok('wait', 'k') == '137\n'
    assert rt.state('k') == 'exited'
    fail(rt.s.run('kill', 'k'))  # not running
    fail(rt.s.run('kill', '-s', 'NOSUCHSIG', 'k'))


def test_rm(rt):
    rt.run('-d', '--name', 'busy', BUSYBOX, 'sleep', '1000')
    cid = rt.inspect('busy')['Id']
    rt.ids.add(cid)
    p = rt.s.run('rm', 'busy')
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert rt.state('busy') == 'running'
    assert rt.s.ok('rm', '-f', 'busy') == 'busy\n'
    assert rt.s.ok('ps', '-a', '-q') == ''
    assert wait_for(lambda: not conmon_pids(rt.s.base), 10)
    assert not os.path.exists(os.path.join(rt.s.runroot, 'runtime', cid))
    assert glob.glob('/sys/fs/cgroup/*/cpod/%s' % cid) + glob.glob('/sys/fs/cgroup/cpod/%s' % cid) == []
    # --rm of a detached container: removed when it ends
    rt.run('-d', '--rm', '--name', 'auto', BUSYBOX, 'sh', '-c', 'sleep 0.3')
    assert wait_for(lambda: rt.s.ok('ps', '-a', '-q') == '', 15)


def freezer_works():
    """The freezer exists for cgroup v1 (a freezer hierarchy) or v2 (cgroup.freeze in the unified tree)."""
    if os.path.exists('/sys/fs/cgroup/cgroup.controllers'):
        return True
    return os.path.isdir('/sys/fs/cgroup/freezer')


def test_pause_unpause(rt):
    if not freezer_works():
        pytest.skip('no cgroup freezer on this host')
    rt.run('-d', '--name', 'pz', BUSYBOX, 'sh', '-c', 'i=0; while :; do i=$((i+1)); echo $i > /count; sleep 0.05; done')
    time.sleep(0.3)
    p = rt.s.run('pause', 'pz')
    if p.returncode != 0 and 'freez' in p.stderr:
        pytest.skip('the freezer does not work here: %s' % p.stderr.strip())
    assert p.stdout == 'pz\n', p
    assert rt.state('pz') == 'paused'
    pid = rt.inspect('pz')['State']['Pid']
    with open('/proc/%d/stat' % pid) as f:
        assert f.read().rsplit(')', 1)[1].split()[0] in ('D', 'S', 'T'), 'not frozen'
    c1 = rt.s.ok('mount', 'pz').strip()
    before = open(os.path.join(c1, 'count')).read()
    time.sleep(0.3)
    assert open(os.path.join(c1, 'count')).read() == before, 'the count went on while paused'
    rt.s.ok('unmount', 'pz')
    fail(rt.s.run('pause', 'pz'))  # already paused
    assert rt.s.ok('unpause', 'pz') == 'pz\n'
    assert rt.state('pz') == 'running'
    assert wait_for(lambda: rt.s.ok('exec', 'pz', 'cat', '/count') != before, 5)
    fail(rt.s.run('unpause', 'pz'))  # not paused
    # a paused container can be removed with force
    rt.s.ok('pause', 'pz')
    assert rt.s.ok('rm', '-f', 'pz') == 'pz\n'
    assert rt.s.ok('ps', '-a', '-q') == ''
