# SPDX-License-Identifier: LGPL-2.1-or-later
"""`cpod varlink`: the seed blog post's varlink command lines against the socket-activated service, and the
service's process model (idle timeout, socket file, parallel connections, protocol errors)."""

import hashlib
import io
import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tarfile
import threading
import time

import pytest

from conftest import build_dir, read_message, wait_for_address
from cpodlib import CPOD, Store

ATOMIC = "io.projectatomic.podman"
CALL_TIMEOUT = 20


@pytest.fixture(scope="session")
def service_bin():
    """The service as a command line: `cpod varlink` (its options follow)."""
    path = build_dir() / "src" / "cpod" / "cpod"
    if not os.access(path, os.X_OK):
        pytest.skip(f"cpod is not built in {build_dir()}")
    return [str(path), "varlink"]


@pytest.fixture
def store():
    s = Store()
    yield s
    s.cleanup()


def socket_activate():
    path = shutil.which("systemd-socket-activate")
    if not path:
        pytest.skip("systemd-socket-activate is not installed")
    return path


def tar_bytes(members):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in members:
            ti = tarfile.TarInfo(name)
            ti.size, ti.mtime, ti.mode = len(data), 1524142000, 0o644
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def docker_archive(path, tag, labels, created="2018-04-19T13:03:59Z"):
    """A one-layer docker-archive like the seed's Fedora image; returns its image ID."""
    layer = tar_bytes([("etc/fedora-release", b"Fedora release 28 (Twenty Eight)\n")])
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": created,
        "config": {"Cmd": ["/bin/bash"], "Labels": labels},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        "history": [{"created": created, "created_by": "/bin/sh -c #(nop) ADD file in /"}],
    }).encode()
    image_id = hashlib.sha256(config).hexdigest()
    manifest = json.dumps([{"Config": image_id + ".json", "RepoTags": [tag], "Layers": ["layer.tar"]}]).encode()
    with open(path, "wb") as f:
        f.write(tar_bytes([(image_id + ".json", config), ("layer.tar", layer), ("manifest.json", manifest)]))
    return image_id


FEDORA_LABELS = {"license": "MIT", "name": "fedora", "vendor": "Fedora Project", "version": "28"}


def vcall(varlink, *args, check=True):
    p = subprocess.run([str(varlink), *map(str, args)], capture_output=True, text=True, timeout=CALL_TIMEOUT)
    if check:
        assert p.returncode == 0, f"varlink {' '.join(map(str, args))}: {p.returncode} {p.stdout} {p.stderr}"
    return p


def raw_call(address, method, parameters=None, sock=None):
    """One call over a fresh (or given) connection; returns the decoded reply."""
    s = sock or connect(address)
    try:
        msg = {"method": method}
        if parameters is not None:
            msg["parameters"] = parameters
        s.sendall(json.dumps(msg).encode() + b"\0")
        return json.loads(read_message(s))
    finally:
        if sock is None:
            s.close()


def connect(address, timeout=CALL_TIMEOUT):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(address[len("unix:"):].split(";")[0])
    return s


class Activated:
    """The service behind systemd-socket-activate on a socket at path, serving store."""

    def __init__(self, servers, service_bin, store, path, extra=()):
        self.path = str(path)
        self.address = "unix:" + self.path
        argv = [socket_activate(), "-l", self.path, *service_bin, "--root", store.root,
                "--runroot", store.runroot, *extra]
        self.proc = servers.start(argv, address=self.address)


@pytest.fixture
def activated(servers, service_bin, store, tmp_sock_dir):
    return Activated(servers, service_bin, store, tmp_sock_dir / "io.projectatomic.podman")


def load_fedora(varlink, address, tmpdir):
    archive = os.path.join(tmpdir, "fedora.tar")
    image_id = docker_archive(archive, "registry.fedoraproject.org/fedora:28", FEDORA_LABELS)
    p = vcall(varlink, "call", f"{address}/io.podman.LoadImage",
              json.dumps({"name": "", "inputFile": archive, "quiet": False, "deleteFile": False}))
    assert json.loads(p.stdout)["reply"]["id"] == "registry.fedoraproject.org/fedora:28"
    return image_id


# ---- the seed's command lines ----

def test_seed_ping(varlink_bin, activated):
    p = vcall(varlink_bin, "call", f"{activated.address}/io.projectatomic.podman.Ping")
    assert json.loads(p.stdout) == {"ping": {"message": "OK"}}


def test_seed_info(varlink_bin, activated):
    p = vcall(varlink_bin, "info", activated.address)
    lines = p.stdout.splitlines()
    fields = dict(line.split(": ", 1) for line in lines if ": " in line)
    for key in ("Vendor", "Product", "Version", "URL"):
        assert fields.get(key), f"{key} missing in {p.stdout}"
    assert "Interfaces:" in lines
    interfaces = [line.strip() for line in lines[lines.index("Interfaces:") + 1:]]
    assert "org.varlink.service" in interfaces
    assert ATOMIC in interfaces
    assert "io.podman" in interfaces


def test_seed_help(varlink_bin, activated):
    p = vcall(varlink_bin, "help", f"{activated.address}/io.projectatomic.podman")
    assert p.stdout.startswith("#")
    assert "interface io.projectatomic.podman" in p.stdout
    assert "method Ping() -> (ping: StringResponse)" in p.stdout
    assert "method GetVersion() -> (version: Version)" in p.stdout
    assert "method ListImages() -> (images: []ImageInList)" in p.stdout
    assert "method TagImage(name: string, tagged: string) -> ()" in p.stdout
    for error in ("error ImageNotFound (imagename: string)", "error ErrorOccurred (reason: string)",
                  "error RuntimeError (reason: string)"):
        assert error in p.stdout


def test_seed_get_version(varlink_bin, activated):
    p = vcall(varlink_bin, "call", f"{activated.address}/io.projectatomic.podman.GetVersion")
    v = json.loads(p.stdout)["version"]
    assert sorted(v) == ["built", "git_commit", "go_version", "os_arch", "version"]
    assert isinstance(v["built"], int)
    assert all(isinstance(v[k], str) for k in ("version", "git_commit", "go_version", "os_arch"))
    assert re.fullmatch(r"linux/\w+", v["os_arch"])
    if os.uname().machine == "x86_64":
        assert v["os_arch"] == "linux/amd64"


def test_seed_list_and_tag_images(varlink_bin, activated, store, tmp_sock_dir):
    image_id = load_fedora(varlink_bin, activated.address, str(tmp_sock_dir))
    p = vcall(varlink_bin, "call", f"{activated.address}/io.projectatomic.podman.ListImages")
    images = json.loads(p.stdout)["images"]
    assert len(images) == 1
    img = images[0]
    assert sorted(img) == sorted(["containers", "created", "id", "labels", "parentId", "repoDigests", "repoTags",
                                  "size", "virtualSize"])
    assert img["id"] == image_id
    assert img["created"] == "2018-04-19 13:03:59 +0000 UTC"
    assert img["labels"] == FEDORA_LABELS
    assert img["parentId"] == ""
    assert img["repoTags"] == ["registry.fedoraproject.org/fedora:28"]
    assert len(img["repoDigests"]) == 1
    assert re.fullmatch(r"registry\.fedoraproject\.org/fedora@sha256:[0-9a-f]{64}", img["repoDigests"][0])
    assert img["containers"] == 0 and img["size"] >= 0 and img["virtualSize"] >= 0

    # the seed's TagImage line, with our image's ID prefix
    p = vcall(varlink_bin, "call", f"{activated.address}/io.projectatomic.podman.TagImage",
              json.dumps({"name": image_id[:17], "tagged": "f28:latest"}))
    assert json.loads(p.stdout) == {}
    p = vcall(varlink_bin, "call", f"{activated.address}/io.projectatomic.podman.ListImages")
    tags = json.loads(p.stdout)["images"][0]["repoTags"]
    assert "localhost/f28:latest" in tags and "registry.fedoraproject.org/fedora:28" in tags

    # the seed checks the tag with `podman images`
    if os.access(CPOD, os.X_OK):
        r = store.run("images")
        if r.returncode == 0 and "REPOSITORY" in r.stdout:
            assert re.search(r"^localhost/f28\s+latest\s+%s" % image_id[:12], r.stdout, re.M), r.stdout


def test_seed_tag_unknown_image(varlink_bin, activated):
    p = vcall(varlink_bin, "call", f"{activated.address}/io.projectatomic.podman.TagImage",
              json.dumps({"name": "doesnotexist", "tagged": "f28:latest"}), check=False)
    assert p.returncode != 0
    assert "io.projectatomic.podman.ImageNotFound" in p.stderr
    reply = raw_call(activated.address, "io.projectatomic.podman.TagImage",
                     {"name": "doesnotexist", "tagged": "f28:latest"})
    assert reply == {"error": "io.projectatomic.podman.ImageNotFound", "parameters": {"imagename": "doesnotexist"}}


def test_io_podman_image_not_found(activated):
    reply = raw_call(activated.address, "io.podman.GetImage", {"id": "doesnotexist"})
    assert reply["error"] == "io.podman.ImageNotFound"
    assert reply["parameters"]["id"] == "doesnotexist" and reply["parameters"]["reason"]


def test_seed_path(varlink_bin, servers, service_bin, store):
    """The seed's own address, /run/io.projectatomic.podman."""
    path = "/run/io.projectatomic.podman"
    if not os.access("/run", os.W_OK):
        pytest.skip("/run is not writable")
    if os.path.exists(path):
        pytest.skip(f"{path} exists (another service?)")
    try:
        Activated(servers, service_bin, store, path)
        p = vcall(varlink_bin, "call", "unix:/run/io.projectatomic.podman/io.projectatomic.podman.Ping")
        assert json.loads(p.stdout) == {"ping": {"message": "OK"}}
        p = vcall(varlink_bin, "info", "unix:/run/io.projectatomic.podman")
        assert ATOMIC in p.stdout
    finally:
        servers.stop()
        if os.path.exists(path):
            os.unlink(path)


# ---- protocol errors ----

def test_wrong_parameter_type(activated):
    reply = raw_call(activated.address, "io.projectatomic.podman.TagImage", {"name": 1, "tagged": "x"})
    assert reply["error"] == "org.varlink.service.InvalidParameter"
    assert reply["parameters"] == {"parameter": "name"}


def test_unknown_method(activated):
    reply = raw_call(activated.address, "io.projectatomic.podman.NoSuchMethod")
    assert reply["error"] == "org.varlink.service.MethodNotFound"
    assert reply["parameters"]["method"].endswith("NoSuchMethod")


def test_unimplemented_method(activated):
    reply = raw_call(activated.address, "io.projectatomic.podman.CreateImage")
    assert reply["error"] == "org.varlink.service.MethodNotImplemented"


# ---- the process: binding, socket file, idle timeout, signals, parallel connections ----

def start_bound(service_bin, store, address, *extra):
    return subprocess.Popen([*service_bin, "--root", store.root, "--runroot", store.runroot, *extra, address],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def stop(proc):
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    proc.stderr.close()


def test_socket_mode_and_removal(service_bin, store, tmp_sock_dir):
    path = tmp_sock_dir / "sub" / "io.podman"
    proc = start_bound(service_bin, store, f"unix:{path}")
    try:
        wait_for_address(f"unix:{path}", proc)
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert raw_call(f"unix:{path}", "io.projectatomic.podman.Ping") == {"parameters": {"ping": {"message": "OK"}}}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
        assert not os.path.exists(path)
    finally:
        stop(proc)


def test_socket_mode_from_address(service_bin, store, tmp_sock_dir):
    path = tmp_sock_dir / "io.podman"
    proc = start_bound(service_bin, store, f"unix:{path};mode=0660")
    try:
        wait_for_address(f"unix:{path}", proc)
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o660
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=5) == 0
        assert not os.path.exists(path)
    finally:
        stop(proc)


def test_seed_global_varlink_option(service_bin, store, tmp_sock_dir):
    """The seed's unit file ran `podman --varlink=ADDRESS`: the same as `cpod varlink ADDRESS`."""
    address = f"unix:{tmp_sock_dir / 'io.projectatomic.podman'}"
    proc = subprocess.Popen([service_bin[0], "--root", store.root, "--runroot", store.runroot,
                             f"--varlink={address}"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for_address(address, proc)
        assert raw_call(address, f"{ATOMIC}.Ping") == {"parameters": {"ping": {"message": "OK"}}}
        assert raw_call(address, "io.podman.ListContainers") == {"parameters": {"containers": []}}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        stop(proc)


def test_idle_timeout_without_connections(service_bin, store, tmp_sock_dir):
    path = tmp_sock_dir / "io.podman"
    start = time.monotonic()
    proc = start_bound(service_bin, store, f"unix:{path}", "--timeout", "500")
    try:
        assert proc.wait(timeout=5) == 0
        assert time.monotonic() - start < 1.5
        assert not os.path.exists(path)
    finally:
        stop(proc)


def test_idle_timeout_waits_for_open_connection(service_bin, store, tmp_sock_dir):
    address = f"unix:{tmp_sock_dir / 'io.podman'}"
    proc = start_bound(service_bin, store, address, "--timeout", "500")
    try:
        wait_for_address(address, proc)
        conn = connect(address)
        time.sleep(1.2)
        assert proc.poll() is None, "exited while a connection was open"
        assert raw_call(address, "io.projectatomic.podman.Ping", sock=conn)["parameters"]["ping"]["message"] == "OK"
        conn.close()
        assert proc.wait(timeout=3) == 0
    finally:
        stop(proc)


def test_timeout_zero_means_forever(service_bin, store, tmp_sock_dir):
    address = f"unix:{tmp_sock_dir / 'io.podman'}"
    proc = start_bound(service_bin, store, address, "--timeout=0")
    try:
        wait_for_address(address, proc)
        time.sleep(1.0)
        assert proc.poll() is None
    finally:
        stop(proc)


def test_blocked_call_does_not_stall_others(varlink_bin, activated, tmp_sock_dir):
    """A call blocked in the engine (loading from a FIFO nobody writes yet) leaves other connections served."""
    fifo = tmp_sock_dir / "image.fifo"
    os.mkfifo(fifo)
    archive = tmp_sock_dir / "image.tar"
    docker_archive(str(archive), "localhost/slow:1", {})
    result = {}

    def slow():
        result["reply"] = raw_call(activated.address, "io.podman.LoadImage",
                                   {"name": "", "inputFile": str(fifo), "quiet": True, "deleteFile": False})

    t = threading.Thread(target=slow)
    t.start()
    try:
        time.sleep(0.3)
        assert "reply" not in result
        for _ in range(3):
            begin = time.monotonic()
            assert raw_call(activated.address, "io.projectatomic.podman.Ping")["parameters"]["ping"]["message"] == "OK"
            assert time.monotonic() - begin < 2
        assert "reply" not in result
    finally:
        with open(fifo, "wb") as f:
            f.write(archive.read_bytes())
        t.join(timeout=CALL_TIMEOUT)
    assert result["reply"]["parameters"]["reply"]["id"] == "localhost/slow:1"


def test_parallel_connections(activated):
    conns = [connect(activated.address) for _ in range(8)]
    try:
        for c in conns:
            c.sendall(json.dumps({"method": "io.projectatomic.podman.Ping"}).encode() + b"\0")
        for c in reversed(conns):
            assert json.loads(read_message(c)) == {"parameters": {"ping": {"message": "OK"}}}
    finally:
        for c in conns:
            c.close()
