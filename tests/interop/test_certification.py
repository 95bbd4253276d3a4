# SPDX-License-Identifier: LGPL-2.1-or-later
"""The Varlink certification suite, both ways, against Debian's Go peer.

Our client must pass against the Go server, the Go client against our
server, over unix and tcp sockets; and our own pair over every transport
libvl has (exec:, socket activation with a listening or a connected fd).
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('CPOD_BUILD_DIR', os.path.join(ROOT, 'build'))
OURS = os.path.join(BUILD, 'src', 'certification', 'varlink-certification')
GO = shutil.which('varlink-go-certification')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(address, proc, timeout=10):
    kind, rest = address.split(':', 1)
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError('server exited with %d' % proc.returncode)
        try:
            if kind == 'tcp':
                host, port = rest.rsplit(':', 1)
                socket.create_connection((host, int(port)), timeout=1).close()
            else:
                s = socket.socket(socket.AF_UNIX)
                s.connect(rest if not rest.startswith('@') else '\0' + rest[1:])
                s.close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('server did not come up at %s' % address)


@pytest.fixture
def tmp():
    d = tempfile.mkdtemp(prefix='vl-cert-')
    yield d
    shutil.rmtree(d, ignore_errors=True)


def addresses(tmp):
    return {
        'unix': 'unix:%s/cert.sock' % tmp,
        'tcp': 'tcp:127.0.0.1:%d' % free_port(),
    }


def serve(server, address):
    p = subprocess.Popen([server, '--varlink=' + address], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(address, p)
    return p


def stop(p):
    p.terminate()
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


@pytest.mark.parametrize('transport', ['unix', 'tcp'])
def test_our_client_against_go_server(tmp, transport):
    if not GO:
        pytest.fail('varlink-go-certification is not installed (package varlink-go)')
    address = addresses(tmp)[transport]
    p = serve(GO, address)
    try:
        r = subprocess.run([OURS, '--client', '--varlink=' + address], capture_output=True, text=True, timeout=30)
    finally:
        stop(p)
    assert r.returncode == 0, r.stdout + r.stderr
    assert 'all_ok: true' in r.stdout


@pytest.mark.parametrize('transport', ['unix', 'tcp'])
def test_go_client_against_our_server(tmp, transport):
    if not GO:
        pytest.fail('varlink-go-certification is not installed (package varlink-go)')
    address = addresses(tmp)[transport]
    p = serve(OURS, address)
    try:
        r = subprocess.run([GO, '--client', '--varlink=' + address], capture_output=True, text=True, timeout=30)
    finally:
        stop(p)
    # the Go client always exits 0; its last line tells the result
    assert "End: 'true'" in r.stdout, r.stdout + r.stderr


@pytest.mark.parametrize('transport', ['unix', 'tcp'])
def test_our_pair(tmp, transport):
    address = addresses(tmp)[transport]
    p = serve(OURS, address)
    try:
        r = subprocess.run([OURS, '--client', '--varlink=' + address], capture_output=True, text=True, timeout=30)
    finally:
        stop(p)
    assert r.returncode == 0, r.stdout + r.stderr


def test_abstract_socket():
    address = 'unix:@vl-cert-test-%d' % os.getpid()
    p = serve(OURS, address)
    try:
        r = subprocess.run([OURS, '--client', '--varlink=' + address], capture_output=True, text=True, timeout=30)
    finally:
        stop(p)
    assert r.returncode == 0, r.stdout + r.stderr


def test_exec_address():
    """exec: spawns the service with a connected socket on fd 3."""
    r = subprocess.run([OURS, '--client', '--varlink=exec:' + OURS], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize('accept', [False, True])
def test_socket_activation(tmp, accept):
    """systemd-socket-activate hands over a listening socket, or with
    --accept a connected one per connection."""
    sock = os.path.join(tmp, 'activated.sock')
    args = ['systemd-socket-activate', '-l', sock] + (['--accept'] if accept else []) + [OURS]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while not os.path.exists(sock) and time.time() < deadline:
            time.sleep(0.05)
        r = subprocess.run([OURS, '--client', '--varlink=unix:' + sock], capture_output=True, text=True,
                           timeout=30)
        if GO and not accept:
            g = subprocess.run([GO, '--client', '--varlink=unix:' + sock], capture_output=True, text=True,
                               timeout=30)
            assert "End: 'true'" in g.stdout, g.stdout
    finally:
        stop(p)
    assert r.returncode == 0, r.stdout + r.stderr


def test_client_fails_on_wrong_server(tmp):
    """Against a server that is not a certification service the client fails."""
    address = 'unix:%s/other.sock' % tmp
    srv = socket.socket(socket.AF_UNIX)
    srv.bind(address[5:])
    srv.listen(1)
    p = subprocess.Popen([OURS, '--client', '--varlink=' + address], stdout=subprocess.PIPE, text=True)
    conn, _ = srv.accept()
    conn.recv(4096)
    conn.sendall(b'{"error":"org.varlink.service.MethodNotFound","parameters":{"method":"x"}}\0')
    conn.close()
    out, _ = p.communicate(timeout=30)
    srv.close()
    assert p.returncode != 0
    assert 'all_ok: false' in out
