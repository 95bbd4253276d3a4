# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared fixtures of the integration tests.

The build directory comes from $CPOD_BUILD_DIR (default: <repo>/build).
Servers started through the fixtures listen on private temporary sockets and
are stopped when the test ends.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
START_TIMEOUT = 10.0


def build_dir() -> Path:
    return Path(os.environ.get("CPOD_BUILD_DIR", REPO / "build")).resolve()


def built_program(relpath: str) -> Path:
    path = build_dir() / relpath
    if not os.access(path, os.X_OK):
        pytest.skip(f"{relpath} is not built in {build_dir()}")
    return path


@pytest.fixture(scope="session")
def builddir() -> Path:
    return build_dir()


@pytest.fixture(scope="session")
def varlink_bin() -> Path:
    """The varlink command-line tool."""
    return built_program("src/varlink/varlink")


@pytest.fixture(scope="session")
def certification_bin() -> Path:
    """Our certification server (same command line as varlink-go-certification)."""
    return built_program("src/certification/varlink-certification")


@pytest.fixture(scope="session")
def go_certification_bin() -> Path:
    path = shutil.which("varlink-go-certification")
    if not path:
        pytest.skip("varlink-go-certification is not installed")
    return Path(path)


@pytest.fixture
def tmp_sock_dir():
    """A short temporary directory: socket paths must fit in 108 bytes."""
    d = tempfile.mkdtemp(prefix="cpod-", dir="/tmp")
    yield Path(d)
    shutil.rmtree(d, ignore_errors=True)


def free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def abstract_name() -> str:
    return f"cpod-test-{uuid.uuid4().hex[:12]}"


def connect_address(address: str, timeout: float = 1.0) -> socket.socket:
    """A connected socket for a unix:, unix:@ or tcp: address."""
    if address.startswith("unix:"):
        path = address[5:].split(";", 1)[0]
        if path.startswith("@"):
            path = "\0" + path[1:]
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        target = path
    elif address.startswith("tcp:"):
        host, port = address[4:].rsplit(":", 1)
        s = socket.socket(socket.AF_INET6 if host.startswith("[") else socket.AF_INET, socket.SOCK_STREAM)
        target = (host.strip("[]"), int(port))
    else:
        raise ValueError(f"cannot connect to {address} from Python")
    s.settimeout(timeout)
    try:
        s.connect(target)
    except OSError:
        s.close()
        raise
    return s


def wait_for_address(address: str, proc=None, timeout: float = START_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {address}")
        try:
            connect_address(address).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {address}")
            time.sleep(0.02)


class Servers:
    """Starts processes that serve an address and stops them all at the end."""

    def __init__(self):
        self.procs = []

    def start(self, argv, address=None, env=None, wait_address=None):
        """Runs argv; waits until wait_address (default: address) accepts connections."""
        proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, start_new_session=True)
        self.procs.append(proc)
        target = wait_address or address
        if target:
            wait_for_address(target, proc)
        return proc

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stderr:
                proc.stderr.close()
        self.procs.clear()


@pytest.fixture
def servers():
    s = Servers()
    yield s
    s.stop()


class SocketServer:
    """A Python server on a temporary unix socket: handler(conn) runs in a thread for each connection,
    for behaviours a real service would not show (half replies, silence)."""

    def __init__(self, path: Path, handler):
        self.path = path
        self.address = f"unix:{path}"
        self.handler = handler
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(16)
        self.stopping = False
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn):
        try:
            self.handler(conn)
        except OSError:
            pass

    def close(self):
        self.stopping = True
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


def read_message(conn) -> bytes:
    """One NUL-terminated message (without the NUL), or b"" at EOF."""
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = conn.recv(4096)
        if not chunk:
            return b""
        buf += chunk
    return buf[:-1]


@pytest.fixture
def socket_server(tmp_sock_dir):
    made = []

    def make(handler, name="py.sock"):
        s = SocketServer(tmp_sock_dir / name, handler)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()
