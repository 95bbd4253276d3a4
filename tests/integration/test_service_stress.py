# SPDX-License-Identifier: LGPL-2.1-or-later
"""`cpod varlink` under load and under bad input (socket-activated, private store).

Load: 64 clients for CPOD_STRESS_SECONDS (default 30) mixing ListImages, ListContainers, GetContainer,
GetVersion, io.projectatomic.podman.Ping and CreateContainer/RemoveContainer, while one client follows the
logs of a running container and another loads the bundled archive in a loop. No errors, no stalled client,
and the final state is right. Bad input: wrong parameter types, unknown fields and methods, an oversized
message, clients vanishing mid-stream and mid-upgrade: the right error or a closed connection, and the
service and other clients unaffected."""

import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time

import pytest

from conftest import build_dir

PODMAN = "io.podman"
ATOMIC = "io.projectatomic.podman"
CLIENTS = 64
SECONDS = float(os.environ.get("CPOD_STRESS_SECONDS", "30"))
MAX_LATENCY = 5.0  # seconds any one call may take under load
CALL_TIMEOUT = 60
LOG_ARGS = {"follow": True, "latest": False, "since": "", "tail": -1, "timestamps": False}
STDIN, HANGUP = 1, 5


@pytest.fixture
def service(servers, tmp_sock_dir):
    """`cpod varlink` behind systemd-socket-activate on a private store holding busybox."""
    sa = shutil.which("systemd-socket-activate")
    cli = build_dir() / "src" / "cpod" / "cpod"
    image = build_dir() / "images" / "busybox.docker.tar"
    if not sa:
        pytest.skip("systemd-socket-activate is not installed")
    if not os.access(cli, os.X_OK) or not image.exists():
        pytest.skip("cpod or the bundled test images are not built")
    store = ["--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run")]
    subprocess.run([str(cli), *store, "load", "-i", str(image)], check=True, capture_output=True, timeout=120)
    path = tmp_sock_dir / "io.podman"
    address = f"unix:{path}"
    servers.start([sa, "-l", str(path), str(cli), *store, "varlink"], address=address)
    yield address, image
    subprocess.run([str(cli), *store, "rm", "-af"], capture_output=True, timeout=120)
    subprocess.run(["sh", "-c", f'grep -o " {tmp_sock_dir}[^ ]*" /proc/self/mounts | sort -r | '
                                f'xargs -r -n1 umount -l'], capture_output=True)


class Conn:
    """A raw Varlink connection that never reads past a message."""

    def __init__(self, address, timeout=CALL_TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address[len("unix:"):])
        self.buf = b""

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, method, parameters=None, **flags):
        msg = {"method": method, "parameters": parameters if parameters is not None else {}}
        msg.update(flags)
        self.send_raw(json.dumps(msg).encode() + b"\0")

    def _fill(self, pred):
        while not pred():
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError
            self.buf += chunk

    def reply(self):
        self._fill(lambda: b"\0" in self.buf)
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, parameters=None, **flags):
        self.send(method, parameters, **flags)
        return self.reply()

    def frame(self):
        self._fill(lambda: len(self.buf) >= 8)
        kind, length = self.buf[0], struct.unpack(">I", self.buf[4:8])[0]
        self._fill(lambda: len(self.buf) >= 8 + length)
        payload, self.buf = self.buf[8:8 + length], self.buf[8 + length:]
        return kind, payload

    def send_frame(self, kind, payload=b""):
        self.sock.sendall(struct.pack(">B3xI", kind, len(payload)) + payload)

    def close(self):
        self.sock.close()


def call(address, method, parameters=None, **flags):
    c = Conn(address)
    try:
        return c.call(method, parameters, **flags)
    finally:
        c.close()


def ok(address, method, parameters=None):
    r = call(address, method, parameters)
    assert "error" not in r, r
    return r["parameters"]


def create(address, *command, name=None):
    create = {"args": ["busybox", *command]}
    if name:
        create["name"] = name
    return ok(address, f"{PODMAN}.CreateContainer", {"create": create})["container"]


def alive(address):
    """The service answers a new connection quickly."""
    begin = time.monotonic()
    r = call(address, f"{ATOMIC}.Ping")
    assert r == {"parameters": {"ping": {"message": "OK"}}}, r
    assert time.monotonic() - begin < MAX_LATENCY


# ---- load ----

class Worker(threading.Thread):
    """One client on one connection, calling a mix of methods until the deadline; every fourth client
    also creates and removes containers of its own."""

    def __init__(self, address, index, deadline, keep):
        super().__init__(daemon=True)
        self.address, self.index, self.deadline, self.keep = address, index, deadline, keep
        self.calls, self.max_latency, self.errors = 0, 0.0, []
        self.created, self.removed = set(), set()

    def timed(self, c, method, parameters=None):
        begin = time.monotonic()
        r = c.call(method, parameters)
        self.max_latency = max(self.max_latency, time.monotonic() - begin)
        self.calls += 1
        if "error" in r:
            self.errors.append((method, r))
        return r.get("parameters", {})

    def run(self):
        try:
            c = Conn(self.address)
            step = 0
            while time.monotonic() < self.deadline:
                kind = (step + self.index) % 6
                step += 1
                if kind == 0:
                    assert self.timed(c, f"{PODMAN}.ListImages")["images"]
                elif kind == 1:
                    ctrs = self.timed(c, f"{PODMAN}.ListContainers")["containers"]
                    assert self.keep in {x["id"] for x in ctrs}
                elif kind == 2:
                    got = self.timed(c, f"{PODMAN}.GetContainer", {"id": self.keep})
                    assert got["container"]["id"] == self.keep
                elif kind == 3:
                    assert self.timed(c, f"{PODMAN}.GetVersion")["version"]
                elif kind == 4:
                    assert self.timed(c, f"{ATOMIC}.Ping")["ping"] == {"message": "OK"}
                elif self.index % 4 == 0:
                    name = f"stress-{self.index}-{step}"
                    ident = self.timed(c, f"{PODMAN}.CreateContainer",
                                       {"create": {"args": ["busybox", "true"], "name": name}}).get("container")
                    if ident:
                        self.created.add(ident)
                        if self.timed(c, f"{PODMAN}.RemoveContainer",
                                      {"name": ident, "force": True, "removeVolumes": True}).get("container"):
                            self.removed.add(ident)
                else:
                    self.timed(c, f"{PODMAN}.ContainerExists", {"name": self.keep})
            c.close()
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.errors.append(("exception", repr(e)))


class LogFollower(threading.Thread):
    """Follows the logs of a running container that prints a line every 0.1 s."""

    def __init__(self, address, ident, deadline):
        super().__init__(daemon=True)
        self.address, self.container, self.deadline = address, ident, deadline
        self.lines, self.max_gap, self.errors = 0, 0.0, []

    def run(self):
        try:
            c = Conn(self.address)
            c.send(f"{PODMAN}.GetContainersLogs", dict(LOG_ARGS, names=[self.container]), more=True)
            last = time.monotonic()
            while time.monotonic() < self.deadline:
                r = c.reply()
                now = time.monotonic()
                if "error" in r or not r.get("continues"):
                    self.errors.append(r)
                    return
                self.max_gap = max(self.max_gap, now - last)
                last = now
                self.lines += 1
            c.close()  # vanishing mid-stream ends this client's child, nothing else
        except Exception as e:  # noqa: BLE001
            self.errors.append(repr(e))


class Loader(threading.Thread):
    """Loads the bundled archive again and again over one connection."""

    def __init__(self, address, archive, deadline):
        super().__init__(daemon=True)
        self.address, self.archive, self.deadline = address, archive, deadline
        self.loads, self.max_latency, self.errors = 0, 0.0, []

    def run(self):
        try:
            c = Conn(self.address)
            while time.monotonic() < self.deadline:
                begin = time.monotonic()
                r = c.call(f"{PODMAN}.LoadImage", {"name": "", "inputFile": str(self.archive), "quiet": True,
                                                   "deleteFile": False})
                self.max_latency = max(self.max_latency, time.monotonic() - begin)
                if "error" in r:
                    self.errors.append(r)
                    return
                self.loads += 1
            c.close()
        except Exception as e:  # noqa: BLE001
            self.errors.append(repr(e))


def test_many_clients_mixed_load(service):
    address, archive = service
    keep = create(address, "true", name="stress-keep")
    talker = create(address, "sh", "-c", "while true; do echo line; sleep 0.1; done", name="stress-talker")
    ok(address, f"{PODMAN}.StartContainer", {"name": talker})

    deadline = time.monotonic() + SECONDS
    workers = [Worker(address, i, deadline, keep) for i in range(CLIENTS)]
    follower = LogFollower(address, talker, deadline)
    loader = Loader(address, archive, deadline)
    for t in [*workers, follower, loader]:
        t.start()
    for t in [*workers, follower, loader]:
        t.join(SECONDS + 120)
        assert not t.is_alive(), "a client is stuck"

    print(f"{sum(w.calls for w in workers)} calls by {CLIENTS} clients in {SECONDS:g} s, slowest "
          f"{max(w.max_latency for w in workers):.3f} s; {follower.lines} log lines; {loader.loads} loads")
    errors = [(w.index, e) for w in workers for e in w.errors]
    assert not errors, errors[:5]
    assert all(w.calls > 0 for w in workers)
    slowest = max(workers, key=lambda w: w.max_latency)
    assert slowest.max_latency < MAX_LATENCY, (slowest.index, slowest.max_latency)

    assert not follower.errors, follower.errors
    assert follower.lines >= SECONDS * 2, follower.lines  # the container prints ten lines a second
    assert follower.max_gap < MAX_LATENCY, follower.max_gap
    assert not loader.errors, loader.errors
    assert loader.loads > 0 and loader.max_latency < 30, (loader.loads, loader.max_latency)

    created = set().union(*(w.created for w in workers))
    removed = set().union(*(w.removed for w in workers))
    assert created and created == removed
    listed = {c["id"]: c for c in ok(address, f"{PODMAN}.ListContainers")["containers"]}
    assert set(listed) == {keep, talker}
    for ident in created:
        assert ok(address, f"{PODMAN}.ContainerExists", {"name": ident}) == {"exists": 1}
    assert listed[talker]["status"] == "running"
    images = ok(address, f"{PODMAN}.ListImages")["images"]
    assert [i for i in images if "docker.io/library/busybox:latest" in (i.get("repoTags") or [])]
    ok(address, f"{PODMAN}.StopContainer", {"name": talker, "timeout": 0})


# ---- bad input ----

def test_wrong_types_unknown_fields_and_methods(service):
    address, _ = service
    c = Conn(address)
    try:
        # the connection survives every error and answers the next call
        r = c.call(f"{PODMAN}.GetContainer", {"id": 42})
        assert r["error"] == "org.varlink.service.InvalidParameter" and r["parameters"]["parameter"] == "id"
        r = c.call(f"{PODMAN}.ListContainers", {"bogus": True})
        assert r["error"] == "org.varlink.service.InvalidParameter" and r["parameters"]["parameter"] == "bogus"
        r = c.call(f"{PODMAN}.CreateContainer", {"create": {"args": "busybox"}})
        assert r["error"] == "org.varlink.service.InvalidParameter"
        r = c.call(f"{PODMAN}.NoSuchMethod")
        assert r["error"] == "org.varlink.service.MethodNotFound"
        r = c.call("org.example.nothing.Call")
        assert r["error"] == "org.varlink.service.InterfaceNotFound"
        r = c.call(f"{ATOMIC}.Ping")
        assert r["parameters"]["ping"] == {"message": "OK"}
    finally:
        c.close()
    # a message that is not an object, and one that is not JSON: the connection is closed
    for junk in (b"[1,2,3]\0", b"{\"method\": \0"):
        c = Conn(address)
        try:
            c.send_raw(junk)
            with pytest.raises((EOFError, ConnectionResetError)):
                c.reply()
        finally:
            c.close()
    alive(address)


def test_oversized_message(service):
    address, _ = service
    other = Conn(address)
    c = Conn(address)
    try:
        # a call just over 16 MiB (varlink's message limit), without its NUL yet
        head = json.dumps({"method": f"{PODMAN}.GetContainer", "parameters": {"id": ""}}).encode()[:-3]
        body = head + b"x" * (16 * 1024 * 1024 + 1024)
        with pytest.raises((EOFError, ConnectionResetError, BrokenPipeError)):
            c.send_raw(body + b'"}}\0')
            c.reply()
    finally:
        c.close()
    assert other.call(f"{ATOMIC}.Ping")["parameters"]["ping"] == {"message": "OK"}
    other.close()
    alive(address)


def test_clients_vanishing_mid_stream_and_mid_upgrade(service):
    address, _ = service
    talker = create(address, "sh", "-c", "while true; do echo tick; sleep 0.1; done")
    ok(address, f"{PODMAN}.StartContainer", {"name": talker})
    other = Conn(address)
    try:
        for _ in range(5):
            # mid-stream: a log follower hangs up without reading
            c = Conn(address)
            c.send(f"{PODMAN}.GetContainersLogs", dict(LOG_ARGS, names=[talker]), more=True)
            assert c.reply().get("continues")
            c.close()
            # mid-upgrade: the upgrade call sent, the client gone before the reply
            c = Conn(address)
            c.send(f"{PODMAN}.Attach", {"name": talker, "detachKeys": "", "start": False}, upgrade=True)
            c.close()
            # after the upgrade: in the middle of frames, half a frame header sent
            c = Conn(address)
            assert c.call(f"{PODMAN}.Attach", {"name": talker, "detachKeys": "", "start": False},
                          upgrade=True) == {"parameters": {}}
            c.frame()
            c.send_raw(struct.pack(">B3xI", STDIN, 100)[:5])
            c.close()
            assert other.call(f"{ATOMIC}.Ping")["parameters"]["ping"] == {"message": "OK"}
        time.sleep(0.5)
        assert ok(address, f"{PODMAN}.GetContainer", {"id": talker})["container"]["status"] == "running"
        got = other.call(f"{PODMAN}.GetContainerLogs", {"name": talker})
        assert "error" not in got and got["parameters"]["container"]
    finally:
        other.close()
    alive(address)
    ok(address, f"{PODMAN}.StopContainer", {"name": talker, "timeout": 0})
