# SPDX-License-Identifier: LGPL-2.1-or-later
"""Working with a running container from the outside: exec (exit codes, env, user, workdir, tty, detach),
top, stats, diff, export, mount/unmount, commit and cp (docker cp's path rules, no escape through
symlinks in the container)."""

import os
import re
import shutil
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
SCRIPT = 'touch /tmp/x; mkdir /newd; echo hi > /newd/f; rm /bin/ls; echo ready > /ready; sleep 1000'


def new_store():
    # short base: the attach socket path (run root + 64-hex ID) must fit in a socket address
    return cpodlib.Store(tempfile.mkdtemp(prefix='co', dir='/tmp'))


@pytest.fixture(scope='module')
def ctr():
    """One store with a running container that changed its files (shared: starting one is slow)."""
    storelib.require_cpod()
    if os.path.exists(HOST_SETUP) and os.geteuid() == 0:
        subprocess.run(['sh', HOST_SETUP], capture_output=True, timeout=120)
    s = new_store()
    try:
        s.ok('load', '-i', storelib.image_file('busybox.docker.tar'))
        p = s.run('run', '-d', '--name', 'ops', '--network', 'none', BUSYBOX, 'sh', '-c', SCRIPT, timeout=60)
        if p.returncode != 0:
            pytest.skip('containers cannot run here (%d): %s' % (p.returncode, p.stderr.strip()))
        for _ in range(100):
            if s.run('exec', 'ops', 'test', '-f', '/ready').returncode == 0:
                break
            time.sleep(0.05)
        yield s
    finally:
        s.run('rm', '-af', timeout=60)
        s.cleanup()


def fail(p, code=ERROR):
    assert p.returncode == code, (p.returncode, p.stdout, p.stderr)
    assert p.stderr.startswith('Error: '), p.stderr
    return p.stderr


def cells(line):
    return re.split(r'\s{2,}', line.strip())


# ---- exec ----

def test_exec_exit_codes(ctr):
    assert ctr.run('exec', 'ops', 'sh', '-c', 'exit 7').returncode == 7
    assert 'not found' in fail(ctr.run('exec', 'ops', 'no-such-command'), 127)
    assert 'ermission denied' in fail(ctr.run('exec', 'ops', '/etc/passwd'), 126)
    fail(ctr.run('exec', 'no-such-container', 'true'))


def test_exec_stdio_env_user_workdir(ctr):
    assert ctr.ok('exec', 'ops', 'echo', 'out') == 'out\n'
    p = ctr.run('exec', 'ops', 'sh', '-c', 'echo err >&2')
    assert p.stderr == 'err\n'
    assert ctr.ok('exec', '-i', 'ops', 'cat', input='piped\n') == 'piped\n'
    assert ctr.ok('exec', 'ops', 'cat', input='ignored\n') == ''  # stdin only with -i
    out = ctr.ok('exec', '-e', 'FOO=bar', '-w', '/tmp', 'ops', 'sh', '-c', 'echo $FOO; pwd; echo $HOME')
    assert out == 'bar\n/tmp\n/root\n'
    assert ctr.ok('exec', '-u', '1000:1000', 'ops', 'id').strip() == 'uid=1000 gid=1000'
    assert ctr.ok('exec', '-u', 'daemon', 'ops', 'id', '-u').strip() == '1'
    p = ctr.run('exec', 'ops', 'tty')
    assert (p.returncode, p.stdout.strip()) == (1, 'not a tty')


def test_exec_tty(ctr):
    # a terminal for the caller too: script(1) gives cpod one
    if not shutil.which('script'):
        pytest.skip('script(1) is not installed')
    cmd = ' '.join(ctr.args() + ['exec', '-t', 'ops', 'tty'])
    p = subprocess.run(['script', '-qec', cmd, '/dev/null'], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p
    assert re.search(r'/dev/pts/\d+', p.stdout), p.stdout


def test_exec_detach(ctr):
    assert ctr.run('exec', '-d', 'ops', 'sh', '-c', 'sleep 0.2; touch /detached').returncode == 0
    for _ in range(100):
        if ctr.run('exec', 'ops', 'test', '-f', '/detached').returncode == 0:
            break
        time.sleep(0.05)
    else:
        pytest.fail('the detached exec did not run')


def test_exec_needs_running_container(ctr):
    ctr.ok('create', '--name', 'stopped', BUSYBOX, 'true')
    try:
        fail(ctr.run('exec', 'stopped', 'true'))
        fail(ctr.run('top', 'stopped'))
    finally:
        ctr.run('rm', '-f', 'stopped')


# ---- top and stats ----

def test_top(ctr):
    lines = ctr.ok('top', 'ops').rstrip('\n').split('\n')
    assert cells(lines[0]) == ['USER', 'PID', 'PPID', '%CPU', 'ELAPSED', 'TTY', 'TIME', 'COMMAND']
    rows = [cells(l) for l in lines[1:]]
    init = [r for r in rows if r[1] == '1']
    assert init, rows
    assert init[0][0] == 'root' and init[0][2] == '0' and init[0][5] == '?'
    assert init[0][7] == 'sleep 1000'
    assert re.fullmatch(r'\d+\.\d{3}', init[0][3])
    assert re.fullmatch(r'[\dhms.µn]+', init[0][4])


def test_stats(ctr):
    out = ctr.ok('stats', '--no-stream', 'ops').rstrip('\n').split('\n')
    assert len(out) == 2
    head, row = cells(out[0]), cells(out[1])
    assert head[:2] == ['ID', 'NAME'] and 'PIDS' in head
    assert row[1] == 'ops'
    assert int(row[head.index('PIDS')]) >= 1
    usage, limit = row[head.index('MEM USAGE / LIMIT')].split(' / ')
    assert not usage.startswith('0B') and limit != '0B'


def test_stats_memory_limit(ctr):
    ctr.ok('run', '-d', '--name', 'limited', '--network', 'none', '--memory', '64m', BUSYBOX, 'sleep', '100')
    try:
        out = ctr.ok('stats', '--no-stream', '--format', '{{.MemUsage}}', 'limited')
        assert out.strip().endswith('/ 67.1MB'), out  # podman's units: powers of 1000
    finally:
        ctr.run('rm', '-f', 'limited', timeout=60)


# ---- diff, export, mount ----

def test_diff(ctr):
    lines = ctr.ok('diff', 'ops').split('\n')
    for want in ('C /bin', 'D /bin/ls', 'A /newd', 'A /newd/f', 'C /tmp', 'A /tmp/x'):
        assert want in lines, lines
    # mount points the runtime made (hosts, hostname, resolv.conf) are not changes
    assert not any(l.startswith('A /etc/') for l in lines), lines
    paths = [l[2:] for l in lines if l]
    assert paths == sorted(paths)


def test_export(ctr, tmp_path):
    out = tmp_path / 'ops.tar'
    ctr.ok('export', '-o', str(out), 'ops')
    with tarfile.open(out) as t:
        names = set(t.getnames())
        assert 'newd/f' in names and 'bin/sh' in names
        assert 'bin/ls' not in names
        assert not any('.wh.' in n for n in names)
        assert t.extractfile('newd/f').read() == b'hi\n'
    p = subprocess.run(ctr.args() + ['export', 'ops'], capture_output=True, timeout=60)
    assert p.returncode == 0 and len(p.stdout) > 10240


def test_mount_counts(ctr):
    ctr.ok('create', '--name', 'idle', BUSYBOX, 'true')
    try:
        path = ctr.ok('mount', 'idle').strip()
        assert os.path.exists(os.path.join(path, 'bin', 'busybox'))
        assert ctr.ok('mount', 'idle').strip() == path
        ctr.ok('umount', 'idle')
        assert os.path.exists(os.path.join(path, 'bin', 'busybox'))  # one user left
        ctr.ok('umount', 'idle')
        assert not os.path.exists(os.path.join(path, 'bin', 'busybox'))
        fail(ctr.run('umount', 'idle'))
    finally:
        ctr.run('rm', '-f', 'idle')


def test_unmount_keeps_running_root(ctr):
    ctr.ok('mount', 'ops')
    ctr.ok('umount', 'ops')
    assert ctr.ok('exec', 'ops', 'cat', '/newd/f') == 'hi\n'


# ---- commit ----

def test_commit(ctr):
    out = ctr.ok('commit', '-m', 'a message', '-a', 'someone', '-c', 'ENV FOO=bar',
                 '-c', 'CMD ["cat", "/newd/f"]', 'ops', 'committed')
    assert re.fullmatch(r'[0-9a-f]{64}', out.strip().split('\n')[-1])
    assert ctr.ok('run', '--rm', '--network', 'none', 'committed', timeout=60) == 'hi\n'
    p = ctr.run('run', '--rm', '--network', 'none', 'committed', 'sh', '-c',
                'echo $FOO; test -e /bin/ls || echo gone; cat /tmp/x && echo kept', timeout=60)
    assert p.stdout == 'bar\ngone\nkept\n', p
    info = ctr.json('image', 'inspect', 'committed')[0]
    assert info['Author'] == 'someone'
    assert info['History'][-1]['comment'] == 'a message'
    assert len(info['RootFS']['Layers']) == 2
    ctr.ok('rmi', 'committed')


def test_commit_bad_change(ctr):
    fail(ctr.run('commit', '-c', 'NOPE x', 'ops', 'bad'))
    assert ctr.run('image', 'exists', 'bad').returncode != 0


# ---- cp ----

@pytest.fixture
def tree(tmp_path):
    src = tmp_path / 'src'
    (src / 'sub').mkdir(parents=True)
    (src / 'a').write_text('a\n')
    (src / 'sub' / 'b').write_text('b\n')
    os.symlink('/etc/shadow', src / 'link')
    return src


def test_cp_into_container(ctr, tree):
    ctr.ok('cp', str(tree), 'ops:/dst1')  # missing destination: the directory is created as it
    assert ctr.ok('exec', 'ops', 'cat', '/dst1/sub/b') == 'b\n'
    assert ctr.ok('exec', 'ops', 'readlink', '/dst1/link') == '/etc/shadow\n'
    ctr.ok('cp', str(tree), 'ops:/dst1')  # existing directory: copied into it
    assert ctr.ok('exec', 'ops', 'cat', '/dst1/src/a') == 'a\n'
    ctr.ok('exec', 'ops', 'mkdir', '/dst2')
    ctr.ok('cp', str(tree) + '/.', 'ops:/dst2')  # "/." copies the contents
    assert ctr.ok('exec', 'ops', 'cat', '/dst2/a') == 'a\n'
    ctr.ok('cp', str(tree / 'a'), 'ops:/renamed')
    assert ctr.ok('exec', 'ops', 'cat', '/renamed') == 'a\n'
    assert ctr.ok('exec', 'ops', 'stat', '-c', '%u:%g', '/renamed').strip() == '0:0'
    assert 'does not exist' in fail(ctr.run('cp', str(tree / 'a'), 'ops:/nodir/'))
    assert 'directory' in fail(ctr.run('cp', str(tree), 'ops:/renamed'))


def test_cp_out_of_container(ctr, tmp_path):
    ctr.ok('cp', 'ops:/newd', str(tmp_path))
    assert (tmp_path / 'newd' / 'f').read_text() == 'hi\n'
    ctr.ok('cp', 'ops:/newd/.', str(tmp_path / 'flat'))
    assert (tmp_path / 'flat' / 'f').read_text() == 'hi\n'
    ctr.ok('cp', 'ops:/newd/f', str(tmp_path / 'file'))
    assert (tmp_path / 'file').read_text() == 'hi\n'
    fail(ctr.run('cp', 'ops:/no/such/file', str(tmp_path)))


def test_cp_symlinks_stay_in_container(ctr, tmp_path):
    # an absolute link in the container means the container's /etc, not the host's
    ctr.ok('exec', 'ops', 'ln', '-s', '/etc', '/etclink')
    ctr.ok('cp', 'ops:/etclink/passwd', str(tmp_path / 'passwd'))
    with open('/etc/passwd') as f:
        host = f.read()
    assert (tmp_path / 'passwd').read_text() != host
    # writing through a link that points at a host directory stays inside the container
    host_dir = tmp_path / 'hostdir'
    host_dir.mkdir()
    ctr.ok('exec', 'ops', 'ln', '-s', str(host_dir), '/hostlink')
    p = ctr.run('cp', '/etc/hostname', 'ops:/hostlink/x')
    assert not os.path.exists(host_dir / 'x')
    ctr.ok('exec', 'ops', 'mkdir', '-p', str(host_dir))
    ctr.ok('cp', '/etc/hostname', 'ops:/hostlink/x')
    assert not os.path.exists(host_dir / 'x')
    assert ctr.run('exec', 'ops', 'test', '-f', str(host_dir / 'x')).returncode == 0
    # a relative link climbing out is resolved against the container's root too
    ctr.ok('exec', 'ops', 'ln', '-s', '../../../../../../etc/passwd', '/climb')
    ctr.ok('cp', 'ops:/climb', str(tmp_path / 'climb'))
    assert os.path.islink(tmp_path / 'climb')  # the link itself is copied
    del p
