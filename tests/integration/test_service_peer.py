# SPDX-License-Identifier: LGPL-2.1-or-later
"""The service checks its unix peers' credentials: root and its own user are served, others are not,
even when the socket's mode lets them connect."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import build_dir

NOBODY = 65534
CLIENT = r"""
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(20)
s.connect(sys.argv[1])
data = b""
try:
    s.sendall(b'{"method":"io.podman.GetVersion"}\0')
    while not data.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
except (ConnectionResetError, BrokenPipeError):
    pass  # closed by the service
sys.stdout.write(data.decode(errors="replace"))
"""


@pytest.fixture
def service():
    if os.geteuid() != 0:
        pytest.skip("needs root to connect as another user")
    d = tempfile.mkdtemp(prefix="cpod-peer-")
    os.chmod(d, 0o755)
    sock = os.path.join(d, "io.podman")
    cli = str(build_dir() / "src" / "cpod" / "cpod")
    proc = subprocess.Popen([cli, "--root", f"{d}/root", "--runroot", f"{d}/run", "varlink", "--timeout", "0",
                             f"unix:{sock}"], stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not os.path.exists(sock) and time.monotonic() < deadline:
        time.sleep(0.02)
    os.chmod(sock, 0o666)  # wider than the service makes it: the credential check must still hold
    yield sock, proc
    proc.terminate()
    proc.wait(timeout=20)
    shutil.rmtree(d, ignore_errors=True)


def call_as(sock, user=None):
    return subprocess.run([sys.executable, "-c", CLIENT, sock], capture_output=True, text=True, timeout=60,
                          user=user)


def test_root_served_other_users_refused(service):
    sock, proc = service
    p = call_as(sock)
    assert p.returncode == 0 and "version" in json.loads(p.stdout.rstrip("\0"))["parameters"], p.stderr
    p = call_as(sock, user=NOBODY)
    assert p.returncode == 0 and p.stdout == "", (p.stdout, p.stderr)  # closed without a reply
    p = call_as(sock)  # the service goes on
    assert "version" in json.loads(p.stdout.rstrip("\0"))["parameters"]
    proc.terminate()
    assert "refusing a connection from another user" in proc.communicate(timeout=20)[1]
