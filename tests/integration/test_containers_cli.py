# SPDX-License-Identifier: LGPL-2.1-or-later
"""The cpod CLI's container commands as a podman user sees them: exit codes, stdio, logs, exec, restart
policies, resource limits, copies, commits, and a store left clean after every test (no mounts, no conmon,
no rows)."""

import json
import os
import re
import subprocess
import tarfile
import tempfile
import time

import pytest

import cpodlib
import storelib

BUSYBOX = 'docker.io/library/busybox:latest'
ERROR = 125
HOST_SETUP = os.path.join(cpodlib.ROOT, 'tools', 'host-setup.sh')


@pytest.fixture(scope='session')
def host_ready():
    """Apply the host fixes once (the cgroup layout crun needs), then check a container can run at all."""
    storelib.require_cpod()
    if os.path.exists(HOST_SETUP) and os.geteuid() == 0:
        subprocess.run(['sh', HOST_SETUP], capture_output=True, timeout=120)
    s = new_store()
    try:
        s.ok('load', '-i', storelib.image_file('busybox.docker.tar'))
        p = s.run('run', '--rm', '--network', 'none', BUSYBOX, 'true', timeout=60)
        if p.returncode != 0:
            pytest.skip('containers cannot run here (%d): %s' % (p.returncode, p.stderr.strip()))
    finally:
        s.run('rm', '-af')
        s.cleanup()


def new_store():
    """A store under a short path: the attach socket's path (run root + 64-hex ID) must fit in a socket
    address."""
    return cpodlib.Store(tempfile.mkdtemp(prefix='cp', dir='/tmp'))


def conmon_pids(base):
    """PIDs of conmon processes whose command line names this store."""
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


def store_mounts(base):
    with open('/proc/self/mounts') as f:
        return [l for l in f if base in l]


def wait_for(pred, timeout=15.0, step=0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


@pytest.fixture
def store(host_ready):
    """A store with busybox loaded; after the test every container is removed and nothing may be left
    behind: no rows, no mounts below the store, no conmon for it."""
    s = new_store()
    s.ok('load', '-i', storelib.image_file('busybox.docker.tar'))
    yield s
    try:
        p = s.run('rm', '-a', '-f', timeout=60)
        assert p.returncode == 0, p.stderr
        assert s.ok('ps', '-a', '-q') == ''
        assert s.ok('ps', '-a', '--noheading') == ''
        assert wait_for(lambda: not conmon_pids(s.base), 10), 'conmon left: %s' % conmon_pids(s.base)
        assert store_mounts(s.base) == [], store_mounts(s.base)
    finally:
        for pid in conmon_pids(s.base):
            try:
                os.kill(pid, 9)
            except OSError:
                pass
        s.cleanup()


def fail(p, code=ERROR):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith('Error: '), p.stderr
    return p.stderr


def cells(line):
    return re.split(r'\s{2,}', line.strip())


def run(store, *args, **kw):
    return store.run('run', '--network', 'none', *args, **kw)


def state(store, name):
    return store.ok('ps', '-a', '--filter', 'name=^%s$' % name, '--format', '{{.State}}').strip()


# ---- the command line ----

def test_help_lists_container_commands(store):
    out = store.ok('--help')
    for verb in ('run', 'ps', 'exec', 'logs', 'container', 'events', 'cp', 'commit'):
        assert re.search(r'^  %s\s' % verb, out, re.M), verb
    assert 'cleanup' not in out
    out = store.ok('container', '--help')
    assert 'prune' in out and 'exists' in out and 'cleanup' not in out
    assert '--memory' in store.ok('run', '--help')
    fail(store.run('container', 'bogus'))


def test_create_flags_are_checked(store):
    e = fail(store.run('create', '--memory', 'abc', BUSYBOX))
    assert "invalid size: 'abc'" in e
    fail(store.run('create', '-m', '10x', BUSYBOX))
    e = fail(store.run('create', '-v', '/nonexistent-cpod-src:/x', BUSYBOX))
    assert 'statfs /nonexistent-cpod-src: no such file or directory' in e
    fail(store.run('create', '--mount', 'type=bind,src=/nonexistent-cpod-src,dst=/x', BUSYBOX))
    fail(store.run('create', '--mount', 'type=weird,dst=/x', BUSYBOX))
    e = fail(store.run('create', '--network', 'slirp4netns', BUSYBOX))
    assert 'not supported' in e
    fail(store.run('create', '--restart', 'sometimes', BUSYBOX))
    fail(store.run('create', '--rm', '--restart', 'always', BUSYBOX))
    fail(store.run('create', '--log-driver', 'journald', BUSYBOX))
    fail(store.run('create', '--stop-signal', 'SIGNOPE', BUSYBOX))
    fail(store.run('create', 'no-such-image-here'))
    fail(store.run('create'))
    assert store.ok('ps', '-a', '-q') == ''


# ---- create, ps, inspect, rm ----

def test_create_ps_inspect_rm(store):
    cid = store.ok('create', '--name', 'c1', '-l', 'app=web', '-e', 'A=1', BUSYBOX, 'echo', 'hello').strip()
    assert re.fullmatch(r'[0-9a-f]{64}', cid)
    assert store.ok('ps', '-q') == ''
    out = store.ok('ps', '-a')
    lines = out.splitlines()
    assert cells(lines[0]) == ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES']
    assert lines[1].startswith(cid[:12] + '  ')
    assert 'Created' in lines[1] and lines[1].rstrip().endswith('c1') and BUSYBOX in lines[1]
    assert store.ok('ps', '-aq') == cid[:12] + '\n'
    assert store.ok('ps', '-aq', '--no-trunc') == cid + '\n'
    assert store.ok('ps', '-a', '--format', '{{.Names}} {{.Status}} {{.Command}}') == 'c1 Created echo hello\n'
    items = json.loads(store.ok('ps', '-a', '--format', 'json'))
    assert len(items) == 1 and items[0]['Id'] == cid and items[0]['Names'] == ['c1']
    assert items[0]['State'] == 'created' and items[0]['Labels'] == {'app': 'web'}
    assert items[0]['Command'] == ['echo', 'hello'] and items[0]['Image'] == BUSYBOX
    # filters
    assert store.ok('ps', '-aq', '--filter', 'label=app=web') == cid[:12] + '\n'
    assert store.ok('ps', '-aq', '--filter', 'label=app=db') == ''
    assert store.ok('ps', '-aq', '--filter', 'name=c1') == cid[:12] + '\n'
    assert store.ok('ps', '-aq', '--filter', 'id=' + cid[:5]) == cid[:12] + '\n'
    assert store.ok('ps', '-aq', '--filter', 'status=created') == cid[:12] + '\n'
    assert store.ok('ps', '-aq', '--filter', 'status=running') == ''
    assert store.ok('ps', '-aq', '--filter', 'ancestor=' + BUSYBOX) == cid[:12] + '\n'
    fail(store.run('ps', '--filter', 'bogus=1'))
    # inspect: containers first, then images
    doc = json.loads(store.ok('inspect', 'c1'))
    assert doc[0]['Id'] == cid
    assert store.ok('inspect', '--format', '{{.Id}}', 'c1').strip() == cid
    assert json.loads(store.ok('container', 'inspect', cid[:12]))[0]['Id'] == cid
    img = json.loads(store.ok('inspect', BUSYBOX))
    assert img[0]['Id'].endswith(storelib.image_info('busybox')['id'])
    fail(store.run('container', 'inspect', BUSYBOX))
    assert store.run('container', 'exists', 'c1').returncode == 0
    assert store.run('container', 'exists', 'nope').returncode == 1
    e = fail(store.run('create', '--name', 'c1', BUSYBOX))
    assert 'c1' in e
    # rename, rm
    assert store.run('rename', 'c1', 'c2').returncode == 0
    assert store.ok('ps', '-a', '--format', '{{.Names}}') == 'c2\n'
    assert store.ok('rm', 'c2') == 'c2\n'
    assert store.run('rm', 'c2').returncode == 1
    assert store.ok('ps', '-a', '-q') == ''


# ---- run: exit codes and stdio ----

def test_run_exit_codes(store):
    assert run(store, '--rm', BUSYBOX, 'true').returncode == 0
    assert run(store, '--rm', BUSYBOX, 'sh', '-c', 'exit 3').returncode == 3
    assert run(store, '--rm', BUSYBOX, 'false').returncode == 1
    fail(run(store, '--rm', 'no-such-image-here', 'true'))
    fail(run(store, '--rm', '--memory', 'lots', BUSYBOX, 'true'))
    fail(run(store, '--rm', '-v', '/nonexistent-cpod-src:/x', BUSYBOX, 'true'))
    fail(run(store, '--rm', BUSYBOX, '/nonexistent'), 127)
    fail(run(store, '--rm', BUSYBOX, '/etc/passwd'), 126)
    assert store.ok('ps', '-a', '-q') == ''


def test_run_stdout_stderr_and_stdin(store):
    p = run(store, '--rm', BUSYBOX, 'sh', '-c', 'echo out; echo err >&2; echo out2')
    assert p.returncode == 0, p.stderr
    assert p.stdout == 'out\nout2\n'
    assert p.stderr == 'err\n'
    p = run(store, '--rm', '-i', BUSYBOX, 'sh', '-c', 'cat; echo done', input='line one\nline two\n')
    assert p.returncode == 0, p.stderr
    assert p.stdout == 'line one\nline two\ndone\n'
    # without -i the container's stdin is not ours
    p = run(store, '--rm', BUSYBOX, 'sh', '-c', 'cat; echo done', input='ignored\n')
    assert p.stdout == 'done\n'


def test_run_forwards_signals(store):
    """podman's --sig-proxy: a signal to the foreground cpod goes to the container."""
    proc = subprocess.Popen(store.args() + ['run', '--network', 'none', BUSYBOX, 'sh', '-c',
                                            'trap "echo got TERM; exit 7" TERM; echo ready; '
                                            'while :; do sleep 0.1; done'],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline() == 'ready\n'
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 7, err
    assert out == 'got TERM\n'


def test_run_config_flags(store):
    p = run(store, '--rm', '-e', 'A=one', '--env', 'B=two', '-w', '/tmp', '-u', '1234:5678', '-h', 'myhost',
            BUSYBOX, 'sh', '-c', 'echo $A $B; pwd; id -u; id -g; hostname')
    assert p.returncode == 0, p.stderr
    assert p.stdout.split('\n')[:5] == ['one two', '/tmp', '1234', '5678', 'myhost']
    envfile = os.path.join(store.base, 'env')
    with open(envfile, 'w') as f:
        f.write('# comment\nFROM_FILE=yes\n\n')
    assert run(store, '--rm', '--env-file', envfile, BUSYBOX, 'sh', '-c', 'echo $FROM_FILE').stdout == 'yes\n'
    p = run(store, '--rm', '--entrypoint', 'echo', BUSYBOX, 'via', 'entrypoint')
    assert p.stdout == 'via entrypoint\n'
    p = run(store, '--rm', '--entrypoint', '["sh","-c"]', BUSYBOX, 'echo json')
    assert p.stdout == 'json\n'
    # read-only root, tmpfs
    p = run(store, '--rm', '--read-only', BUSYBOX, 'sh', '-c', 'touch /x')
    assert p.returncode != 0
    p = run(store, '--rm', '--read-only', '--tmpfs', '/scratch', BUSYBOX, 'sh', '-c',
            'echo hi > /scratch/f && cat /scratch/f')
    assert p.stdout == 'hi\n', p.stderr


def test_volumes_and_mounts(store):
    src = os.path.join(store.base, 'src')
    os.makedirs(src)
    with open(os.path.join(src, 'f'), 'w') as f:
        f.write('from host\n')
    p = run(store, '--rm', '-v', '%s:/data' % src, BUSYBOX, 'sh', '-c', 'cat /data/f; echo back > /data/g')
    assert p.returncode == 0, p.stderr
    assert p.stdout == 'from host\n'
    assert open(os.path.join(src, 'g')).read() == 'back\n'
    p = run(store, '--rm', '-v', '%s:/data:ro' % src, BUSYBOX, 'sh', '-c', 'echo x > /data/h')
    assert p.returncode != 0 and not os.path.exists(os.path.join(src, 'h'))
    p = run(store, '--rm', '--mount', 'type=bind,src=%s,dst=/m,ro' % src, BUSYBOX, 'cat', '/m/f')
    assert p.stdout == 'from host\n', p.stderr
    p = run(store, '--rm', '--mount', 'type=tmpfs,dst=/t', BUSYBOX, 'sh', '-c', 'grep " /t " /proc/mounts')
    assert 'tmpfs' in p.stdout, p.stderr


def test_network_modes(store):
    p = store.run('run', '--rm', '--network', 'none', BUSYBOX, 'ls', '/sys/class/net')
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ['lo']
    p = store.run('run', '--rm', '--network', 'host', BUSYBOX, 'ls', '/sys/class/net')
    assert p.returncode == 0, p.stderr
    assert sorted(p.stdout.split()) == sorted(os.listdir('/sys/class/net'))
    e = fail(store.run('run', '--rm', '--network', 'mynet', BUSYBOX, 'true'))
    assert 'network not found' in e


def test_run_rm_removes(store):
    assert run(store, '--rm', '--name', 'gone', BUSYBOX, 'true').returncode == 0
    assert store.ok('ps', '-a', '-q') == ''
    assert store.run('container', 'exists', 'gone').returncode == 1
    # the exit command (waiting while the run removed the container) ends without anything left: no
    # run directory, lock file, container directory or mount, and the store's log short: the last
    # close checkpoints a log over 256 KiB (the run leaves that to the exit command)
    assert wait_for(lambda: not conmon_pids(store.base), 20)
    for d in ('run/containers', 'run/locks', 'root/containers'):
        path = os.path.join(store.base, d)
        assert not os.path.isdir(path) or os.listdir(path) == [], (d, os.listdir(path))
    assert store_mounts(store.base) == []
    wal = os.path.join(store.root, 'cpod.db-wal')
    assert not os.path.exists(wal) or os.path.getsize(wal) <= 256 * 1024
    storelib.assert_clean(store)
    cid = run(store, '-d', '--rm', BUSYBOX, 'sh', '-c', 'sleep 0.5').stdout.strip()
    assert re.fullmatch(r'[0-9a-f]{64}', cid)
    assert wait_for(lambda: store.ok('ps', '-a', '-q') == '', 20)


# ---- lifecycle ----

def test_lifecycle(store):
    cid = run(store, '-d', '--name', 'sl', BUSYBOX, 'sleep', '1000').stdout.strip()
    assert re.fullmatch(r'[0-9a-f]{64}', cid)
    assert state(store, 'sl') == 'running'
    line = store.ok('ps').splitlines()[1]
    assert re.search(r'Up .* ago', line), line
    assert store.ok('ps', '-q') == cid[:12] + '\n'
    assert store.ok('pause', 'sl') == 'sl\n'
    assert state(store, 'sl') == 'paused'
    assert store.ok('unpause', 'sl') == 'sl\n'
    assert state(store, 'sl') == 'running'
    assert store.ok('stop', '-t', '1', 'sl') == 'sl\n'
    assert state(store, 'sl') == 'exited'
    assert re.search(r'Exited \(\d+\) .* ago', store.ok('ps', '-a'))
    # stopping a stopped container is fine
    assert store.ok('stop', 'sl') == 'sl\n'
    assert store.ok('start', 'sl') == 'sl\n'
    assert state(store, 'sl') == 'running'
    assert store.ok('kill', 'sl') == 'sl\n'
    assert store.ok('wait', 'sl') == '137\n'
    assert store.ok('restart', 'sl') == cid + '\n'
    assert state(store, 'sl') == 'running'
    # sleep is PID 1 and has no TERM handler: only KILL ends it
    assert store.ok('kill', '-s', 'SIGKILL', 'sl') == 'sl\n'
    assert store.ok('wait', 'sl') == '137\n'
    fail(store.run('kill', '-s', 'NOSUCHSIG', 'sl'))
    fail(store.run('stop', 'nosuchcontainer'))


def test_rm_running_needs_force(store):
    run(store, '-d', '--name', 'busy', BUSYBOX, 'sleep', '1000')
    p = store.run('rm', 'busy')
    assert p.returncode == 2, (p.returncode, p.stderr)
    assert store.ok('rm', '-f', 'busy') == 'busy\n'
    assert store.ok('ps', '-a', '-q') == ''


def test_start_attach(store):
    store.ok('create', '--name', 'att', '--network', 'none', BUSYBOX, 'sh', '-c', 'echo attached; exit 4')
    p = store.run('start', '-a', 'att')
    assert p.returncode == 4 and p.stdout == 'attached\n', (p.returncode, p.stdout, p.stderr)
    store.ok('create', '--name', 'in', '-i', '--network', 'none', BUSYBOX, 'cat')
    p = store.run('start', '-ai', 'in', input='through start\n')
    assert p.returncode == 0 and p.stdout == 'through start\n', (p.stdout, p.stderr)


def test_prune(store):
    store.ok('create', '--name', 'p1', BUSYBOX)
    run(store, '--name', 'p2', BUSYBOX, 'true')
    run(store, '-d', '--name', 'p3', BUSYBOX, 'sleep', '1000')
    out = store.ok('container', 'prune', '-f')
    assert len(out.split()) == 2
    assert store.ok('ps', '-a', '--format', '{{.Names}}') == 'p3\n'


# ---- logs ----

def test_logs(store):
    run(store, '--name', 'lg', BUSYBOX, 'sh', '-c', 'echo one; echo two >&2; echo three')
    p = store.run('logs', 'lg')
    assert p.returncode == 0, p.stderr
    assert p.stdout == 'one\nthree\n' and p.stderr == 'two\n'
    # conmon orders lines of different streams as it reads them: --tail on one stream only
    run(store, '--name', 'lg2', BUSYBOX, 'sh', '-c', 'echo a; echo b; echo c')
    assert store.ok('logs', '--tail', '1', 'lg2') == 'c\n'
    assert store.ok('logs', '--tail', '2', 'lg2') == 'b\nc\n'
    assert store.ok('logs', '--tail', '0', 'lg2') == ''
    out = store.ok('logs', '-t', 'lg')
    for line in out.splitlines():
        assert re.match(r'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}(Z|[+-]\d\d:\d\d) ', line), line
    assert store.ok('logs', '--since', '1h', 'lg') == 'one\nthree\n'
    assert store.ok('logs', '--until', '2000-01-01T00:00:00Z', 'lg') == ''
    fail(store.run('logs', 'nosuch'))


def test_logs_follow(store):
    run(store, '-d', '--name', 'fl', BUSYBOX, 'sh', '-c',
        'for i in 1 2 3 4; do echo line$i; sleep 0.3; done')
    p = store.run('logs', '-f', 'fl', timeout=30)
    assert p.returncode == 0, p.stderr
    assert p.stdout == 'line1\nline2\nline3\nline4\n'


# ---- exec ----

def test_exec(store):
    run(store, '-d', '--name', 'ex', BUSYBOX, 'sleep', '1000')
    assert store.ok('exec', 'ex', 'echo', 'hi') == 'hi\n'
    assert store.run('exec', 'ex', 'sh', '-c', 'exit 5').returncode == 5
    assert store.ok('exec', '-e', 'X=y', '-w', '/tmp', 'ex', 'sh', '-c', 'echo $X; pwd') == 'y\n/tmp\n'
    assert store.ok('exec', '-u', '99', 'ex', 'id', '-u') == '99\n'
    assert store.ok('exec', '-i', 'ex', 'cat', input='piped\n') == 'piped\n'
    p = store.run('exec', 'ex', 'sh', '-c', 'echo o; echo e >&2')
    assert p.stdout == 'o\n' and p.stderr == 'e\n'
    fail(store.run('exec', 'ex', '/nonexistent'), 127)
    assert store.run('exec', '-d', 'ex', 'sh', '-c', 'echo bg > /tmp/bg').returncode == 0
    assert wait_for(lambda: store.run('exec', 'ex', 'cat', '/tmp/bg').stdout == 'bg\n', 10)
    store.ok('create', '--name', 'notrunning', BUSYBOX)
    fail(store.run('exec', 'notrunning', 'true'))


# ---- restart policy, limits ----

def test_restart_on_failure(store):
    run(store, '-d', '--name', 'rs', '--restart', 'on-failure:2', BUSYBOX, 'sh', '-c', 'sleep 0.3; exit 1')

    def done():
        items = json.loads(store.ok('ps', '-a', '--format', 'json'))
        return items if items and items[0]['State'] == 'exited' and items[0]['Restarts'] == 2 else None
    items = wait_for(done, 40, 0.3)
    assert items, store.ok('ps', '-a', '--format', 'json')
    assert items[0]['ExitCode'] == 1
    time.sleep(1)
    assert json.loads(store.ok('ps', '-a', '--format', 'json'))[0]['Restarts'] == 2


def test_resource_limits_in_cgroup(store):
    script = ('cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; '
              'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max')
    p = run(store, '--rm', '--memory', '64m', '--pids-limit', '77', BUSYBOX, 'sh', '-c', script)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [str(64 * 1024 * 1024), '77']
    p = run(store, '--rm', '--cpus', '0.5', BUSYBOX, 'sh', '-c',
            'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d" " -f1 /sys/fs/cgroup/cpu.max')
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == '50000'
    p = run(store, '--rm', '--ulimit', 'nofile=512:1024', BUSYBOX, 'sh', '-c', 'ulimit -n; ulimit -Hn')
    assert p.stdout.split() == ['512', '1024'], p.stderr


# ---- filesystem: cp, commit, diff, export, mount ----

def test_cp_round_trip(store, tmp_path):
    src = tmp_path / 'in.txt'
    src.write_text('round trip\n')
    store.ok('create', '--name', 'cpc', BUSYBOX)
    store.ok('cp', str(src), 'cpc:/tmp/in.txt')
    store.ok('cp', 'cpc:/tmp/in.txt', str(tmp_path / 'out.txt'))
    assert (tmp_path / 'out.txt').read_text() == 'round trip\n'
    d = tmp_path / 'dir'
    d.mkdir()
    (d / 'a').write_text('A')
    store.ok('cp', str(d), 'cpc:/tmp/')
    store.ok('cp', 'cpc:/tmp/dir', str(tmp_path / 'back'))
    assert (tmp_path / 'back' / 'a').read_text() == 'A'
    assert run(store, '--rm', BUSYBOX, 'true').returncode == 0
    fail(store.run('cp', 'cpc:/nonexistent', str(tmp_path / 'x')))
    fail(store.run('cp', str(src), str(tmp_path / 'y')))
    fail(store.run('cp', 'cpc:/a', 'cpc:/b'))
    # a running container too
    run(store, '-d', '--name', 'cpr', BUSYBOX, 'sleep', '1000')
    store.ok('cp', str(src), 'cpr:/in.txt')
    assert store.ok('exec', 'cpr', 'cat', '/in.txt') == 'round trip\n'


def test_commit_then_run(store):
    run(store, '--name', 'cm', BUSYBOX, 'sh', '-c', 'echo hello > /greeting')
    changes = store.ok('diff', 'cm').splitlines()
    assert 'A /greeting' in changes
    assert 'added' in json.loads(store.ok('diff', '--format', 'json', 'cm'))
    iid = store.ok('commit', '-m', 'greet', '-a', 'tester', '-c', 'CMD ["cat","/greeting"]', 'cm',
                   'localhost/greet:1').strip()
    assert re.fullmatch(r'[0-9a-f]{64}', iid)
    assert 'localhost/greet' in store.ok('images')
    assert run(store, '--rm', 'localhost/greet:1').stdout == 'hello\n'
    assert run(store, '--rm', iid[:12], 'cat', '/greeting').stdout == 'hello\n'
    store.ok('rm', 'cm')
    store.ok('rmi', 'localhost/greet:1')


def test_export_and_mount(store, tmp_path):
    run(store, '--name', 'xp', BUSYBOX, 'sh', '-c', 'echo exported > /marker')
    out = tmp_path / 'x.tar'
    store.ok('export', '-o', str(out), 'xp')
    with tarfile.open(out) as t:
        names = [n.lstrip('./') for n in t.getnames()]
        assert 'marker' in names and 'bin/busybox' in names
    path = store.ok('mount', 'xp').strip()
    assert open(os.path.join(path, 'marker')).read() == 'exported\n'
    assert store.ok('container', 'mount', 'xp').strip() == path
    listed = cells(store.ok('mount'))
    assert listed[0] == store.ok('ps', '-aq').strip() and listed[1] == path
    assert store.ok('umount', 'xp') == 'xp\n'
    store.ok('container', 'umount', '-f', 'xp')
    assert not any(path in l for l in store_mounts(store.base))


# ---- top, stats, port, attach ----

def test_top_stats_port(store):
    run(store, '-d', '--name', 'tp', BUSYBOX, 'sleep', '1000')
    out = store.ok('top', 'tp')
    assert 'PID' in out.splitlines()[0] and 'sleep 1000' in out
    out = store.ok('top', 'tp', 'pid', 'args')
    assert cells(out.splitlines()[0]) == ['PID', 'COMMAND']
    out = store.ok('stats', '--no-stream')
    assert out.splitlines()[0].startswith('ID')
    assert 'tp' in out
    items = json.loads(store.ok('stats', '--no-stream', '--format', 'json', 'tp'))
    assert items[0]['name'] == 'tp'
    assert store.ok('stats', '--no-stream', '--format', '{{.Name}}', 'tp') == 'tp\n'
    assert store.ok('port', 'tp') == ''
    fail(store.run('port', 'nosuch'))


def test_attach(store):
    run(store, '-d', '--name', 'at', BUSYBOX, 'sh', '-c', 'sleep 1; echo late; exit 6')
    p = store.run('attach', '--no-stdin', 'at', timeout=30)
    assert p.returncode == 6, (p.returncode, p.stderr)
    assert 'late' in p.stdout


# ---- events ----

def test_events_from_log(store):
    """The reader, on a log written here: podman's line format, filters, times, JSON and templates."""
    os.makedirs(os.path.join(store.runroot, 'events'), exist_ok=True)
    evs = [
        {'Time': '2026-01-02T03:04:05.000000001Z', 'Type': 'container', 'Status': 'create', 'ID': 'a' * 64,
         'Name': 'one', 'Image': BUSYBOX, 'timeNano': 1767323045000000001},
        {'Time': '2026-01-02T03:04:06.5Z', 'Type': 'container', 'Status': 'start', 'ID': 'a' * 64,
         'Name': 'one', 'Image': BUSYBOX, 'timeNano': 1767323046500000000},
        {'Time': '2026-01-02T03:04:07Z', 'Type': 'image', 'Status': 'pull', 'ID': 'b' * 64,
         'Name': BUSYBOX, 'timeNano': 1767323047000000000},
    ]
    with open(os.path.join(store.runroot, 'events', 'events.log'), 'w') as f:
        f.write(''.join(json.dumps(e) + '\n' for e in evs) + 'torn{\n')
    env = dict(os.environ, TZ='UTC')
    out = store.run('events', '--stream=false', env=env).stdout.splitlines()
    assert out == [
        '2026-01-02 03:04:05.000000001 +0000 UTC container create %s (image=%s, name=one)' % ('a' * 64, BUSYBOX),
        '2026-01-02 03:04:06.500000000 +0000 UTC container start %s (image=%s, name=one)' % ('a' * 64, BUSYBOX),
        '2026-01-02 03:04:07.000000000 +0000 UTC image pull %s (name=%s)' % ('b' * 64, BUSYBOX),
    ]
    f = store.ok('events', '--stream=false', '--filter', 'type=container', '--filter', 'event=start',
                 '--format', '{{.Status}} {{.Name}}')
    assert f == 'start one\n'
    assert store.ok('events', '--stream=false', '--filter', 'container=one', '--format', '{{.Status}}') == \
        'create\nstart\n'
    assert store.ok('events', '--stream=false', '--since', '2026-01-02T03:04:06Z', '--until',
                    '2026-01-02T03:04:06.9Z', '--format', '{{.Status}}') == 'start\n'
    items = [json.loads(l) for l in store.ok('events', '--stream=false', '--format', 'json').splitlines()]
    assert [i['Status'] for i in items] == ['create', 'start', 'pull']
    assert items[0]['ID'] == 'a' * 64 and items[0]['TimeNano'] == 1767323045000000001
    fail(store.run('events', '--since', 'yesterday-ish'))
    fail(store.run('events', '--filter', 'novalue'))


def test_events(store):
    store.ok('create', '--name', 'ev', BUSYBOX)
    store.ok('rm', 'ev')
    out = store.ok('events', '--stream=false')
    assert re.search(r'container create [0-9a-f]{64} \(image=%s, name=ev\)' % re.escape(BUSYBOX), out), out
    assert 'container remove' in out
    items = [json.loads(l) for l in store.ok('events', '--stream=false', '--format', 'json').splitlines()]
    assert any(i['Status'] == 'create' and i['Name'] == 'ev' for i in items)
    out = store.ok('events', '--stream=false', '--filter', 'event=create', '--format', '{{.Status}} {{.Name}}')
    assert 'create ev' in out.splitlines() and 'remove ev' not in out
    assert store.ok('events', '--stream=false', '--until', '2000-01-01T00:00:00Z') == ''
    # follow: a new event shows up while streaming
    proc = subprocess.Popen(store.args() + ['events', '--filter', 'container=ev2', '--format',
                                            '{{.Status}}'], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(0.5)
        store.ok('create', '--name', 'ev2', BUSYBOX)
        line = proc.stdout.readline()
        assert line.strip() == 'create'
    finally:
        proc.kill()
        proc.wait()


# ---- the container group and the -a forms ----

def test_container_group_and_all_flags(store, tmp_path):
    cidfile = tmp_path / 'cid'
    cid = store.ok('container', 'create', '--cidfile', str(cidfile), '--name', 'g1', '--network', 'none',
                   BUSYBOX, 'sleep', '1000').strip()
    assert cidfile.read_text() == cid
    store.ok('container', 'create', '--name', 'g2', '--network', 'none', BUSYBOX, 'sleep', '1000')
    assert store.ok('container', 'start', 'g1', 'g2') == 'g1\ng2\n'
    assert sorted(store.ok('container', 'ls', '--format', '{{.Names}}').split()) == ['g1', 'g2']
    assert store.ok('container', 'list', '-n', '1', '--format', '{{.Names}}') == 'g2\n'
    assert store.ok('ps', '--latest', '--format', '{{.Names}}') == 'g2\n'
    assert store.ok('container', 'wait', '--condition', 'running', 'g1') == '0\n'
    out = store.ok('container', 'stop', '-a', '-t', '0')
    assert len(out.split()) == 2
    assert store.ok('ps', '-q') == ''
    assert store.ok('ps', '-a', '--filter', 'status=exited', '--format', '{{.Names}}').split() == ['g2', 'g1']
    assert store.ok('ps', '-a', '--filter', 'exited=137', '-q') != '' or \
        store.ok('ps', '-a', '--filter', 'exited=143', '-q') != ''
    assert store.ok('container', 'port', 'g1') == ''
    assert store.ok('container', 'exists', 'g1') == ''
    assert len(store.ok('container', 'rm', '-a').split()) == 2
    assert store.ok('rm', '-a') == ''
    assert store.run('rm', '-i', 'gone').returncode == 0


# ---- long run roots ----

def test_long_runroot(host_ready, tmp_path):
    """A run root far longer than a socket address (108 bytes) and than the sun_path detour through
    /proc/self/fd needs: run, attach, exec and the exit code all work."""
    base = tempfile.mkdtemp(prefix='cp', dir='/tmp')
    s = cpodlib.Store(base)
    s.runroot = os.path.join(base, *(['r' * 200] * 5), 'run')
    assert len(s.runroot) > 1000
    try:
        s.ok('load', '-i', storelib.image_file('busybox.docker.tar'))
        p = s.run('run', '--rm', '--network', 'none', BUSYBOX, 'sh', '-c', 'echo hello; exit 3')
        assert (p.returncode, p.stdout) == (3, 'hello\n'), p.stderr
        s.ok('run', '-d', '--network', 'none', '--name', 'lr', BUSYBOX, 'sh', '-c', 'sleep 1; echo late; exit 4')
        assert s.ok('exec', 'lr', 'echo', 'in').strip() == 'in'
        p = s.run('attach', '--no-stdin', 'lr', timeout=30)
        assert p.returncode == 4 and 'late' in p.stdout, (p.returncode, p.stdout, p.stderr)
        assert s.ok('logs', 'lr') == 'late\n'
        s.ok('rm', 'lr')
        assert s.ok('ps', '-aq') == ''
        assert wait_for(lambda: not conmon_pids(base), 10)
        assert store_mounts(base) == []
    finally:
        s.run('rm', '-af')
        for pid in conmon_pids(base):
            os.kill(pid, 9)
        s.cleanup()
