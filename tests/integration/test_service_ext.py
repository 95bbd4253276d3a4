# SPDX-License-Identifier: LGPL-2.1-or-later
"""cpod's own io.cpod interface on the service started as `cpod system service --varlink ADDRESS`: raw
calls for networks, play kube, rename, port, cp (tar streams over upgraded connections both ways), image
export (fetched with io.podman's ReceiveFile) and mounts, system check and df; the errors (NetworkNotFound,
NetworkAlreadyExists, NetworkInUse, ContainerNotFound, ImageNotFound, InvalidKube, ErrorOccurred,
InvalidParameter) and bad input (wrong types, missing members, malformed YAML
and tar streams); and that `system service` exits after its --timeout."""

import io
import json
import os
import socket
import subprocess
import tarfile
import time

import pytest

from conftest import build_dir, wait_for_address

CPOD = "io.cpod"
CALL_TIMEOUT = 60
TIMEOUT = 120


def recv_message(s, buf=b""):
    """One NUL-terminated message and what followed it."""
    while b"\0" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError(buf)
        buf += chunk
    msg, _, rest = buf.partition(b"\0")
    return json.loads(msg), rest


def recv_all(s, buf=b""):
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return buf
        buf += chunk


class Service:
    def __init__(self, address, cli):
        self.address = address
        self.cli = cli

    def run(self, *args):
        return subprocess.run([*self.cli, *args], capture_output=True, text=True, timeout=TIMEOUT)

    def cpod(self, *args):
        p = self.run(*args)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip()

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(CALL_TIMEOUT)
        s.connect(self.address[len("unix:"):])
        return s

    def call(self, method, parameters=None, iface=CPOD, **flags):
        with self.connect() as s:
            s.sendall(json.dumps({"method": f"{iface}.{method}", "parameters": parameters or {}, **flags})
                      .encode() + b"\0")
            return recv_message(s)[0]

    def ok(self, method, parameters=None, **kw):
        r = self.call(method, parameters, **kw)
        assert "error" not in r, r
        return r.get("parameters", {})

    def error(self, method, parameters=None, **kw):
        r = self.call(method, parameters, **kw)
        assert "error" in r, r
        return r["error"], r.get("parameters", {})


@pytest.fixture
def service(servers, tmp_sock_dir):
    """`cpod system service --varlink ADDRESS` on a private store holding busybox."""
    cli = build_dir() / "src" / "cpod" / "cpod"
    image = build_dir() / "images" / "busybox.docker.tar"
    if not os.access(cli, os.X_OK) or not image.exists():
        pytest.skip("cpod or the bundled test images are not built")
    store = [str(cli), "--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run")]
    subprocess.run([*store, "load", "-i", str(image)], check=True, capture_output=True, timeout=TIMEOUT)
    address = f"unix:{tmp_sock_dir / 'io.podman'}"
    servers.start([*store, "system", "service", "--varlink", "--timeout", "0", address], address=address)
    yield Service(address, store)
    subprocess.run([*store, "pod", "rm", "-af"], capture_output=True, timeout=TIMEOUT)
    subprocess.run([*store, "rm", "-af"], capture_output=True, timeout=TIMEOUT)
    subprocess.run(["sh", "-c", f'grep -o " {tmp_sock_dir}[^ ]*" /proc/self/mounts | sort -r | '
                                f'xargs -r -n1 umount -l'], capture_output=True)


# ---- the interface ----

def test_interface_is_served_and_described(service):
    info = service.ok("GetInfo", iface="org.varlink.service")
    assert CPOD in info["interfaces"] and "io.podman" in info["interfaces"]
    desc = service.ok("GetInterfaceDescription", {"interface": CPOD}, iface="org.varlink.service")
    text = desc["description"]
    assert text.startswith("# ") and "\ninterface io.cpod\n" in text
    for member in ("method ListNetworks", "method PlayKube", "method CopyToContainer", "method ExportImageRootfs",
                   "method MountImage", "method UnmountAllImages", "error NetworkNotFound", "error ImageNotFound"):
        assert member in text


def test_system_service_help(service):
    p = service.run("system", "service", "--help")
    assert p.returncode == 0 and "--timeout MS" in p.stdout and "--varlink" in p.stdout
    p = service.run("system", "service", "--varlink=false")
    assert p.returncode == 125 and "only the Varlink API" in p.stderr


def test_system_service_exits_after_timeout(tmp_sock_dir):
    cli = build_dir() / "src" / "cpod" / "cpod"
    if not os.access(cli, os.X_OK):
        pytest.skip("cpod is not built")
    address = f"unix:{tmp_sock_dir / 'svc.sock'}"
    store = ["--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run")]
    proc = subprocess.Popen([str(cli), *store, "system", "service", "--varlink", "--timeout", "300", address],
                            stderr=subprocess.PIPE, text=True)
    try:
        wait_for_address(address, proc)
        svc = Service(address, [str(cli), *store])
        assert svc.ok("GetVersion", iface="io.podman")["version"]
        # idle again: it ends by itself, and removes the socket it bound
        assert proc.wait(timeout=60) == 0, proc.stderr.read()
        assert not (tmp_sock_dir / "svc.sock").exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


# ---- networks ----

def test_network_lifecycle(service):
    name = service.ok("CreateNetwork", {"create": {"name": "ext1", "subnets": ["10.123.4.0/24"],
                                                   "gateways": ["10.123.4.254"], "labels": {"a": "b"},
                                                   "internal": True}})["name"]
    assert name == "ext1"
    nets = {n["name"]: n for n in service.ok("ListNetworks", {"filters": []})["networks"]}
    assert set(nets) == {"ext1", "podman"}
    n = nets["ext1"]
    assert n["subnets"] == [{"subnet": "10.123.4.0/24", "gateway": "10.123.4.254"}]
    assert n["labels"] == {"a": "b"} and n["internal"] is True and n["driver"] == "bridge"
    # the inspect document is the one local mode prints
    doc = json.loads(service.ok("InspectNetwork", {"name": "ext1"})["network"])
    assert doc == json.loads(service.cpod("network", "inspect", "ext1"))[0]
    assert doc["id"] == n["id"]
    # by ID prefix, and filters
    assert json.loads(service.ok("InspectNetwork", {"name": n["id"][:12]})["network"])["name"] == "ext1"
    only = service.ok("ListNetworks", {"filters": ["label=a=b"]})["networks"]
    assert [x["name"] for x in only] == ["ext1"]
    assert service.ok("NetworkExists", {"name": "ext1"}) == {"exists": True}
    assert service.ok("NetworkExists", {"name": "nope"}) == {"exists": False}
    # a second one with that name
    err, p = service.error("CreateNetwork", {"create": {"name": "ext1"}})
    assert err == "io.cpod.NetworkAlreadyExists" and p["name"] == "ext1" and p["reason"]
    # defaults: the next free name
    auto = service.ok("CreateNetwork", {"create": {}})["name"]
    assert auto.startswith("podman") and auto != "podman"
    assert service.ok("RemoveNetwork", {"name": "ext1", "force": False}) == {"name": "ext1"}
    assert sorted(service.ok("PruneNetworks")["names"]) == [auto]
    assert [x["name"] for x in service.ok("ListNetworks", {"filters": []})["networks"]] == ["podman"]


def test_network_errors(service):
    for method, params in (("InspectNetwork", {"name": "nope"}), ("RemoveNetwork", {"name": "nope", "force": False})):
        err, p = service.error(method, params)
        assert err == "io.cpod.NetworkNotFound", (method, err)
        assert p["name"] == "nope" and "network not found" in p["reason"]
    # the default network stays
    err, p = service.error("RemoveNetwork", {"name": "podman", "force": True})
    assert err == "io.cpod.ErrorOccurred" and p["reason"]
    # bad values reach the engine's checks
    err, p = service.error("CreateNetwork", {"create": {"subnets": ["10.1.2.300/24"]}})
    assert err == "io.cpod.ErrorOccurred" and p["reason"]
    err, p = service.error("CreateNetwork", {"create": {"driver": "nonesuch"}})
    assert err == "io.cpod.ErrorOccurred" and "nonesuch" in p["reason"]
    err, p = service.error("ListNetworks", {"filters": ["colour=red"]})
    assert err == "io.cpod.ErrorOccurred" and p["reason"]


@pytest.mark.parametrize("method,params,bad", [
    ("InspectNetwork", {"name": 5}, "name"),
    ("InspectNetwork", {}, "name"),
    ("InspectNetwork", {"name": ""}, "name"),
    ("ListNetworks", {"filters": "name=x"}, "filters"),
    ("ListNetworks", {"filters": [1]}, "filters"),
    ("CreateNetwork", {"create": {"internal": "yes"}}, "create"),
    ("CreateNetwork", {"create": {"labels": ["a=b"]}}, "create"),
    ("RemoveNetwork", {"name": "x", "force": "no"}, "force"),
    ("ConnectNetwork", {"network": "podman", "container": "x", "aliases": "a", "ip": ""}, "aliases"),
    ("RenameContainer", {"name": "x", "newName": None}, "newName"),
    ("PlayKube", {"yaml": 5}, "yaml"),
    ("SystemCheck", {"repair": 1}, "repair"),
    ("CopyToContainer", {"name": "x", "path": "/", "entry": "a/b", "contents": False, "source": "s"}, "entry"),
    ("CopyToContainer", {"name": "x", "path": "/", "entry": "..", "contents": False, "source": "s"}, "entry"),
    ("CopyToContainer", {"name": "x", "path": "/", "entry": ".", "contents": True, "source": "s"}, "entry"),
    ("CopyToContainer", {"name": "x", "path": "/", "entry": "e", "contents": "no", "source": "s"}, "contents"),
    ("ExportImageRootfs", {"name": 5, "path": ""}, "name"),
    ("ExportImageRootfs", {"name": "", "path": ""}, "name"),
    ("ExportImageRootfs", {"name": "busybox", "path": ["/tmp/x"]}, "path"),
    ("ExportImageRootfs", {"name": "busybox", "path": "x.tar"}, "path"),
    ("ExportImageRootfs", {"name": "busybox", "path": "-"}, "path"),
    ("MountImage", {}, "name"),
    ("MountImage", {"name": None}, "name"),
    ("UnmountImage", {"name": "busybox", "force": "yes"}, "force"),
    ("UnmountImage", {"name": {"id": "busybox"}, "force": False}, "name"),
])
def test_invalid_parameters(service, method, params, bad):
    err, p = service.error(method, params)
    assert err == "org.varlink.service.InvalidParameter", (method, err, p)
    assert p["parameter"].split(".")[0] == bad


def test_unknown_method(service):
    err, p = service.error("Nonesuch")
    assert err == "org.varlink.service.MethodNotFound"


def test_connect_disconnect(service):
    service.cpod("network", "create", "ext2")
    service.cpod("network", "create", "ext3")
    ctr = service.cpod("create", "--name", "linked", "--network", "ext3", "busybox", "true")
    service.ok("ConnectNetwork", {"network": "ext2", "container": "linked", "aliases": ["web"], "ip": ""})
    # now in use
    err, p = service.error("RemoveNetwork", {"name": "ext2", "force": False})
    assert err == "io.cpod.NetworkInUse" and p["name"] == "ext2" and p["reason"]
    err, p = service.error("ConnectNetwork", {"network": "ext2", "container": "linked", "aliases": [], "ip": ""})
    assert err == "io.cpod.ErrorOccurred" and "already connected" in p["reason"]
    service.ok("DisconnectNetwork", {"network": "ext2", "container": ctr[:12], "force": False})
    err, _ = service.error("ConnectNetwork", {"network": "nope", "container": "linked", "aliases": [], "ip": ""})
    assert err == "io.cpod.NetworkNotFound"
    err, p = service.error("ConnectNetwork", {"network": "ext2", "container": "nope", "aliases": [], "ip": ""})
    assert err == "io.cpod.ContainerNotFound" and p["id"] == "nope"
    err, p = service.error("DisconnectNetwork", {"network": "ext2", "container": "linked", "force": False})
    assert err == "io.cpod.ErrorOccurred" and "not connected" in p["reason"]
    assert service.ok("RemoveNetwork", {"name": "ext2", "force": False}) == {"name": "ext2"}


# ---- play kube ----

POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: extpod
spec:
  containers:
  - name: sleeper
    image: busybox
    command: ["sleep", "1000"]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: extclaim
"""


def test_play_kube(service):
    reports = service.ok("PlayKube", {"yaml": POD_YAML})["reports"]
    kinds = [r["kind"] for r in reports]
    assert sorted(kinds) == ["pod", "volume"]
    pod = next(r for r in reports if r["kind"] == "pod")
    vol = next(r for r in reports if r["kind"] == "volume")
    assert vol == {"kind": "volume", "id": "extclaim", "containers": []}
    assert len(pod["id"]) == 64 and len(pod["containers"]) == 1
    assert json.loads(service.cpod("pod", "inspect", "extpod"))["Id"] == pod["id"]
    assert service.ok("PlayKubeDown", {"yaml": POD_YAML})["pods"] == [pod["id"]]
    assert service.run("pod", "exists", "extpod").returncode == 1
    # pods that are gone are skipped
    assert service.ok("PlayKubeDown", {"yaml": POD_YAML})["pods"] == []


@pytest.mark.parametrize("text", [
    "kind: [\n",
    "apiVersion: v1\nkind: Deployment\nmetadata:\n  name: x\n",
    "\t- bad indentation\n",
    "x" * (1024 * 1024 + 10),
    "- a\nb: c\n",
], ids=["flow", "kind", "tab", "too-big", "mixed"])
def test_play_kube_bad_yaml(service, text):
    err, p = service.error("PlayKube", {"yaml": text})
    assert err == "io.cpod.InvalidKube", (err, p)
    assert p["reason"]
    assert service.cpod("pod", "ps", "-q") == ""


# ---- rename, port ----

def test_rename_and_port(service):
    ctr = service.cpod("create", "--name", "old", "-p", "18080:80", "-p", "127.0.0.1::53/udp", "busybox")
    assert service.ok("RenameContainer", {"name": "old", "newName": "new"}) == {"container": ctr}
    assert service.cpod("ps", "-a", "--format", "{{.Names}}") == "new"
    err, p = service.error("RenameContainer", {"name": "old", "newName": "newer"})
    assert err == "io.cpod.ContainerNotFound" and p["id"] == "old"
    ports = service.ok("ContainerPort", {"name": "new"})["ports"]
    assert ports == [
        {"host_port": "18080", "host_ip": "0.0.0.0", "protocol": "tcp", "container_port": "80"},
        {"host_port": "0", "host_ip": "127.0.0.1", "protocol": "udp", "container_port": "53"},
    ]
    err, p = service.error("ContainerPort", {"name": "nope"})
    assert err == "io.cpod.ContainerNotFound"
    # only running containers are listed
    assert service.ok("ListContainerPorts") == {"containers": []}


# ---- cp ----

def upgrade_call(service, method, params):
    s = service.connect()
    s.sendall(json.dumps({"method": f"{CPOD}.{method}", "parameters": params, "upgrade": True}).encode() + b"\0")
    reply, rest = recv_message(s)
    return s, reply, rest


def make_tar(files):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in files.items():
            if data is None:
                info = tarfile.TarInfo(name)
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
                t.addfile(info)
            else:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                info.mode = 0o640
                t.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def copy_to(service, ctr, path, entry, tar_bytes, contents=False):
    s, reply, rest = upgrade_call(service, "CopyToContainer",
                                  {"name": ctr, "path": path, "entry": entry, "contents": contents, "source": entry})
    with s:
        assert "error" not in reply, reply
        assert rest == b""
        s.sendall(tar_bytes)
        s.shutdown(socket.SHUT_WR)
        status, _ = recv_message(s)
    return status


def test_copy_both_ways(service, tmp_path):
    service.cpod("create", "--name", "box", "busybox")
    status = copy_to(service, "box", "/tmp", "d", make_tar({"d": None, "d/f": b"hello\n", "d/e/": None}))
    assert status == {"parameters": {}}
    # what local mode sees
    service.cpod("cp", "box:/tmp/d", str(tmp_path / "out"))
    assert (tmp_path / "out" / "f").read_bytes() == b"hello\n"
    assert (tmp_path / "out" / "e").is_dir()

    s, reply, rest = upgrade_call(service, "CopyFromContainer", {"name": "box", "path": "/tmp/d"})
    with s:
        assert reply == {"parameters": {"entry": "d", "contents": False}}
        data = recv_all(s, rest)
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        names = sorted(m.name.rstrip("/") for m in t.getmembers())
        assert names == ["d", "d/e", "d/f"]
        assert t.extractfile("d/f").read() == b"hello\n"
        assert t.getmember("d/f").mode & 0o777 == 0o640
    # a directory's contents: the directory is sent, marked
    s, reply, rest = upgrade_call(service, "CopyFromContainer", {"name": "box", "path": "/tmp/d/."})
    with s:
        assert reply == {"parameters": {"entry": "d", "contents": True}}
        data = recv_all(s, rest)
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        assert sorted(m.name.rstrip("/") for m in t.getmembers()) == ["d", "d/e", "d/f"]
    s, reply, rest = upgrade_call(service, "CopyFromContainer", {"name": "box", "path": "/"})
    s.close()
    assert reply == {"parameters": {"entry": "root", "contents": True}}
    # contents into an existing directory
    status = copy_to(service, "box", "/tmp/d", "n", make_tar({"n": None, "n/g": b"g"}), contents=True)
    assert status == {"parameters": {}}
    service.cpod("cp", "box:/tmp/d/g", str(tmp_path / "g"))
    assert (tmp_path / "g").read_bytes() == b"g"


def test_copy_errors(service):
    service.cpod("create", "--name", "box2", "busybox")
    # without upgrade
    err, p = service.error("CopyFromContainer", {"name": "box2", "path": "/etc"})
    assert err == "io.cpod.ErrorOccurred" and "upgrade" in p["reason"]
    err, p = service.error("CopyToContainer", {"name": "box2", "path": "/", "entry": "x", "contents": False,
                                               "source": "x"})
    assert err == "io.cpod.ErrorOccurred" and "upgrade" in p["reason"]
    # answered before the upgrade
    s, reply, _ = upgrade_call(service, "CopyFromContainer", {"name": "nope", "path": "/etc"})
    s.close()
    assert reply["error"] == "io.cpod.ContainerNotFound"
    s, reply, _ = upgrade_call(service, "CopyFromContainer", {"name": "box2", "path": "/nonexistent"})
    s.close()
    assert reply["error"] == "io.cpod.ErrorOccurred" and "/nonexistent" in reply["parameters"]["reason"]
    s, reply, _ = upgrade_call(service, "CopyToContainer",
                               {"name": "nope", "path": "/", "entry": "x", "contents": False, "source": "x"})
    s.close()
    assert reply["error"] == "io.cpod.ContainerNotFound"
    # a stream that is no tar, one that lacks the entry, one that climbs out
    status = copy_to(service, "box2", "/tmp", "x", b"this is not a tar archive" * 100)
    assert status["error"] == "io.cpod.ErrorOccurred" and status["parameters"]["reason"]
    status = copy_to(service, "box2", "/tmp", "x", make_tar({"y": b"1"}))
    assert status["error"] == "io.cpod.ErrorOccurred"
    assert "x" in status["parameters"]["reason"] and "/var/lib" not in status["parameters"]["reason"]
    status = copy_to(service, "box2", "/tmp", "x", make_tar({"../../escape": b"1"}))
    assert status["error"] == "io.cpod.ErrorOccurred"
    # a client that goes away mid-stream ends its connection only
    s, reply, _ = upgrade_call(service, "CopyToContainer",
                               {"name": "box2", "path": "/", "entry": "x", "contents": False, "source": "x"})
    s.sendall(make_tar({"x": b"1" * 100000})[:5000])
    s.close()
    assert service.ok("GetVersion", iface="io.podman")["version"]
    # and leaves no staging directory behind
    tmp = os.path.join(service.cli[2], "tmp")
    for _ in range(600):
        if not any(n.startswith("cp-") for n in os.listdir(tmp)):
            break
        time.sleep(0.05)
    assert not any(n.startswith("cp-") for n in os.listdir(tmp))


# ---- images ----

def receive_file(service, path):
    """io.podman.ReceiveFile with delete: the file's bytes."""
    s = service.connect()
    with s:
        s.sendall(json.dumps({"method": "io.podman.ReceiveFile", "parameters": {"path": path, "delete": True},
                              "upgrade": True}).encode() + b"\0")
        reply, rest = recv_message(s)
        assert "error" not in reply, reply
        data = recv_all(s, rest)
    assert len(data) == reply["parameters"]["len"]
    return data


def test_export_image_rootfs(service, tmp_path):
    local = tmp_path / "local.tar"
    service.cpod("image", "export", "-o", str(local), "busybox")
    # to a temporary file on the service's host, fetched and removed with ReceiveFile
    temp = service.ok("ExportImageRootfs", {"name": "busybox", "path": ""})["tarfile"]
    assert os.path.isabs(temp) and os.path.isfile(temp)
    assert receive_file(service, temp) == local.read_bytes()
    assert not os.path.exists(temp)
    # to a path of the caller's choosing
    out = tmp_path / "out.tar"
    assert service.ok("ExportImageRootfs", {"name": "busybox", "path": str(out)}) == {"tarfile": str(out)}
    assert out.read_bytes() == local.read_bytes()
    with tarfile.open(out) as t:
        assert t.extractfile("etc/os-release").read().startswith(b"NAME=")
    # the export leaves the image unmounted
    err, p = service.error("UnmountImage", {"name": "busybox", "force": False})
    assert err == "io.cpod.ErrorOccurred" and "not mounted" in p["reason"]


def test_export_image_errors(service, tmp_path):
    err, p = service.error("ExportImageRootfs", {"name": "nope", "path": ""})
    assert err == "io.cpod.ImageNotFound" and p["id"] == "nope" and "nope" in p["reason"]
    # a missing directory is the caller's path, not a missing image
    err, p = service.error("ExportImageRootfs", {"name": "busybox", "path": str(tmp_path / "no" / "x.tar")})
    assert err == "io.cpod.ErrorOccurred" and str(tmp_path / "no" / "x.tar") in p["reason"]
    err, p = service.error("ExportImageRootfs", {"name": "not a reference!", "path": ""})
    assert err == "io.cpod.ErrorOccurred" and "invalid reference format" in p["reason"]
    assert not (tmp_path / "no").exists()


def test_mount_unmount(service):
    image_id = json.loads(service.cpod("image", "inspect", "busybox"))[0]["Id"]
    path = service.ok("MountImage", {"name": "busybox"})["path"]
    assert os.path.isfile(os.path.join(path, "etc", "os-release"))
    # counted, and shared with local mode
    assert service.ok("MountImage", {"name": image_id[:12]}) == {"path": path}
    assert service.cpod("image", "mount", "busybox") == path
    assert service.ok("UnmountImage", {"name": "busybox", "force": False}) == {"id": image_id}
    assert os.path.isfile(os.path.join(path, "etc", "os-release"))
    assert service.ok("UnmountImage", {"name": "busybox", "force": True}) == {"id": image_id}
    assert not os.path.exists(os.path.join(path, "etc", "os-release"))
    err, p = service.error("UnmountImage", {"name": "busybox", "force": True})
    assert err == "io.cpod.ErrorOccurred" and image_id in p["reason"]
    # force may be left out
    service.ok("MountImage", {"name": "busybox"})
    assert service.ok("UnmountImage", {"name": "busybox"}) == {"id": image_id}
    # all: only what was mounted
    assert service.ok("UnmountAllImages") == {"ids": []}
    service.ok("MountImage", {"name": "busybox"})
    service.ok("MountImage", {"name": "busybox"})
    assert service.ok("UnmountAllImages") == {"ids": [image_id]}
    assert service.ok("UnmountAllImages") == {"ids": []}
    for method, params in (("MountImage", {"name": "nope"}), ("UnmountImage", {"name": "nope", "force": False})):
        err, p = service.error(method, params)
        assert err == "io.cpod.ImageNotFound" and p["id"] == "nope" and p["reason"], (method, err)


# ---- system ----

def test_system_check_and_df(service):
    rep = service.ok("SystemCheck", {"repair": False})["report"]
    assert rep == {"problems": [], "repaired": 0}
    df = service.ok("SystemDf")["df"]
    assert df["images"] == 1 and df["layers"] >= 1 and df["imagesSize"] > 0
    # the figures local mode prints
    rows = service.cpod("system", "df", "--format", "{{.Type}}|{{.Total}}|{{.Active}}|{{.RawSize}}|"
                                                   "{{.RawReclaimable}}").splitlines()
    assert rows == [f"Images|{df['images']}|{df['imagesActive']}|{df['imagesSize']}|{df['imagesReclaimable']}",
                    f"Containers|{df['containers']}|0|0|0", f"Local Volumes|{df['volumes']}|0|0|0"]


# ---- volumes with filters, pod create with every option, pull and push with registry options ----

@pytest.mark.parametrize("method,params,bad", [
    ("ListVolumes", {"filters": "label=a"}, "filters"),
    ("ListVolumes", {"filters": [1]}, "filters"),
    ("PruneVolumes", {"filters": [None]}, "filters"),
    ("CreatePod", {"create": {"network": 5}}, "create"),
    ("CreatePod", {"create": {"labels": {"a": "b"}}}, "create"),
    ("CreatePod", {"create": {"publish": "80:80"}}, "create"),
    ("CreatePod", {"create": {"labels": ["x"] * 5000}}, "create"),
    ("PullImage", {}, "name"),
    ("PullImage", {"name": ""}, "name"),
    ("PullImage", {"name": "busybox", "tlsVerify": "no"}, "tlsVerify"),
    ("PullImage", {"name": "busybox", "certDir": "certs"}, "certDir"),
    ("PullImage", {"name": "busybox", "os": ["linux"]}, "os"),
    ("PushImage", {"name": "", "destination": ""}, "name"),
    ("PushImage", {"name": "busybox", "destination": "", "creds": 5}, "creds"),
    ("PushImage", {"name": "busybox", "destination": "", "certDir": "../x"}, "certDir"),
])
def test_registry_pod_volume_invalid_parameters(service, method, params, bad):
    err, p = service.error(method, params)
    assert err == "org.varlink.service.InvalidParameter", (method, err, p)
    assert p["parameter"].split(".")[0] == bad


def test_volume_filter_methods(service):
    service.cpod("volume", "create", "-l", "team=a", "va")
    service.cpod("volume", "create", "vb")
    assert service.ok("ListVolumes", {"filters": []}) == {"names": ["va", "vb"]}
    assert service.ok("ListVolumes", {"filters": ["label=team=a"]}) == {"names": ["va"]}
    for method in ("ListVolumes", "PruneVolumes"):
        for filters in (["bogus=1"], ["nonsense"]):
            err, p = service.error(method, {"filters": filters})
            assert err == "io.cpod.ErrorOccurred" and p["reason"], (method, filters, err, p)
    assert service.ok("PruneVolumes", {"filters": ["label=team=b"]}) == {"names": []}
    assert service.ok("PruneVolumes", {"filters": ["label=team=a"]}) == {"names": ["va"]}
    assert service.cpod("volume", "ls", "-q") == "vb"


def test_create_pod_method(service):
    pod = service.ok("CreatePod", {"create": {"name": "xp", "network": "none", "hostname": "xh",
                                              "labels": ["a=b"], "share": "net,uts"}})["pod"]
    assert len(pod) == 64
    out = service.cpod("pod", "inspect", "--format",
                       "{{.Name}} {{.Hostname}} {{.Labels}} {{.InfraConfig.NetworkMode}} {{.SharedNamespaces}}", "xp")
    assert out == "xp xh map[a:b] none [net uts]"
    for create in ({"name": "xp"}, {"network": "nosuch"}, {"name": "bad/name"}, {"publish": ["notaport"]},
                   {"share": "bogus"}, {"infraImage": "nosuch-image"}):
        err, p = service.error("CreatePod", {"create": create})
        assert err == "io.cpod.ErrorOccurred" and p["reason"], (create, err, p)
    # the defaults: every member may be left out
    pod2 = service.ok("CreatePod", {"create": {}})["pod"]
    assert service.cpod("pod", "inspect", "--format", "{{.Id}}", pod2) == pod2


def test_pull_push_methods_errors(service, tmp_path):
    # nothing listens on port 1: the pull fails after the checks, as an ErrorOccurred
    err, p = service.error("PullImage", {"name": "127.0.0.1:1/x:latest", "tlsVerify": False,
                                         "creds": "u:secret-password", "os": "linux", "arch": "amd64"})
    assert err in ("io.cpod.ErrorOccurred", "io.cpod.ImageNotFound") and p["reason"], (err, p)
    assert "secret-password" not in json.dumps(p)
    err, p = service.error("PullImage", {"name": "Bad:Name:x"})
    assert err == "io.cpod.ErrorOccurred" and p["reason"], (err, p)
    err, p = service.error("PushImage", {"name": "nosuch", "destination": "oci:%s" % (tmp_path / "o")})
    assert err == "io.cpod.ImageNotFound" and p["id"] == "nosuch", (err, p)
    # a push to a layout on the service's host, called with more
    with service.connect() as s:
        s.sendall(json.dumps({"method": "io.cpod.PushImage", "more": True,
                              "parameters": {"name": "busybox", "destination": "oci:%s" % (tmp_path / "o")}})
                  .encode() + b"\0")
        buf, replies = b"", []
        while True:
            r, buf = recv_message(s, buf)
            replies.append(r)
            if not r.get("continues"):
                break
    assert "error" not in replies[-1], replies[-1]
    assert all(r["parameters"]["reply"]["logs"] for r in replies[:-1]), replies
    assert (tmp_path / "o" / "index.json").exists()


# ---- CreateContainer, ExecDetached, ExecContainer ----

CREATE = {"args": ["busybox", "true"]}
EXEC = {"name": "x", "tty": False, "privileged": False, "cmd": ["true"]}


@pytest.mark.parametrize("method,params,bad", [
    ("CreateContainer", {"extra": {}}, "create"),
    ("CreateContainer", {"create": ["busybox"], "extra": {}}, "create"),
    ("CreateContainer", {"create": {}, "extra": {}}, "create"),
    ("CreateContainer", {"create": {"args": "busybox"}, "extra": {}}, "create"),
    ("CreateContainer", {"create": CREATE, "extra": {"dns": "1.1.1.1"}}, "extra"),
    ("CreateContainer", {"create": CREATE, "extra": {"publishAll": "yes"}}, "extra"),
    ("CreateContainer", {"create": CREATE, "extra": {"runtime": 5}}, "extra"),
    ("CreateContainer", {"create": CREATE, "extra": {"volume": ["relative"]}}, "extra"),
    ("CreateContainer", {"create": CREATE, "extra": {"volume": [""]}}, "extra"),
    ("CreateContainer", {"create": CREATE, "extra": {"addHost": [""]}}, "extra"),
    ("CreateContainer", {"create": CREATE, "extra": {"networkAlias": ["a"] * 2000}}, "extra"),
    ("ExecDetached", {}, "opts"),
    ("ExecDetached", {"opts": {**EXEC, "cmd": []}}, "opts"),
    ("ExecDetached", {"opts": {**EXEC, "cmd": [""]}}, "opts"),
    ("ExecDetached", {"opts": {**EXEC, "name": ""}}, "opts"),
    ("ExecDetached", {"opts": {**EXEC, "cmd": "true"}}, "opts"),
    ("ExecContainer", {"opts": EXEC, "width": 80}, "height"),
    ("ExecContainer", {"opts": EXEC, "width": -1, "height": 24}, "width"),
    ("ExecContainer", {"opts": EXEC, "width": 80, "height": 70000}, "height"),
])
def test_container_methods_invalid_parameters(service, method, params, bad):
    err, p = service.error(method, params)
    assert err == "org.varlink.service.InvalidParameter", (method, err, p)
    assert p["parameter"].split(".")[0] == bad


def test_create_container_extra(service):
    ctr = service.ok("CreateContainer", {"create": {"args": ["busybox", "cat", "/etc/resolv.conf", "/etc/hosts"],
                                                    "name": "ex1", "network": "bridge"},
                                         "extra": {"volume": ["/anon:ro"], "dns": ["9.9.9.9"],
                                                   "addHost": ["foo:1.2.3.4"], "networkAlias": ["al"],
                                                   "ip": "10.88.0.201", "macAddress": "92:d0:c6:0a:29:34",
                                                   "publish": ["18093:80"], "publishAll": True,
                                                   "runtime": "crun"}})["container"]
    doc = json.loads(service.cpod("inspect", "ex1"))[0]
    assert doc["Id"] == ctr and doc["OCIRuntime"] == "crun"
    assert [m["Destination"] for m in doc["Mounts"]] == ["/anon"] and doc["Mounts"][0]["RW"] is False
    assert {"host_port": "18093", "host_ip": "0.0.0.0", "protocol": "tcp", "container_port": "80"} in \
        service.ok("ContainerPort", {"name": "ex1"})["ports"]
    out = service.cpod("start", "-a", "ex1")
    assert "nameserver 9.9.9.9" in out and "1.2.3.4\tfoo" in out and "10.88.0.201" in out, out
    # what the engine refuses is ErrorOccurred with its message; a missing image ImageNotFound
    err, p = service.error("CreateContainer", {"create": CREATE, "extra": {"ip": "bad"}})
    assert err == "io.cpod.ErrorOccurred" and "bad" in p["reason"]
    err, p = service.error("CreateContainer", {"create": {"args": ["nosuchimage"]}, "extra": {}})
    assert err.endswith(".ImageNotFound"), (err, p)
    err, p = service.error("CreateContainer", {"create": CREATE, "extra": {"runtime": "/no/such/runtime"}})
    assert "/no/such/runtime" in p["reason"], (err, p)
    # an empty extra is io.podman's CreateContainer
    ctr = service.ok("CreateContainer", {"create": {**CREATE, "name": "plain"}, "extra": {}})["container"]
    assert service.cpod("inspect", "--format", "{{.Id}}", "plain") == ctr


def test_exec_detached(service):
    service.cpod("run", "-d", "--name", "ed", "busybox", "sleep", "300")
    service.cpod("create", "--name", "ed-stopped", "busybox", "true")
    assert service.ok("ExecDetached", {"opts": {**EXEC, "name": "ed",
                                                "cmd": ["sh", "-c", "echo $A > /tmp/mark; sleep 300"],
                                                "env": ["A=ran"]}}) == {}
    assert service.cpod("exec", "ed", "sh", "-c", "while ! test -s /tmp/mark; do sleep 0.1; done; cat /tmp/mark") \
        == "ran"
    err, p = service.error("ExecDetached", {"opts": {**EXEC, "name": "ed", "cmd": ["nosuchcommand"]}})
    assert err == "io.cpod.CommandNotFound" and p["command"] == "nosuchcommand" and "not found" in p["reason"]
    err, p = service.error("ExecDetached", {"opts": {**EXEC, "name": "ed", "cmd": ["/etc"]}})
    assert err == "io.cpod.CommandNotExecutable" and p["command"] == "/etc"
    err, p = service.error("ExecDetached", {"opts": {**EXEC, "name": "nosuch"}})
    assert err == "io.cpod.ContainerNotFound" and p["id"] == "nosuch"
    err, p = service.error("ExecDetached", {"opts": {**EXEC, "name": "ed-stopped"}})
    assert err == "io.cpod.ErrorOccurred" and "running" in p["reason"]
    err, p = service.error("ExecDetached", {"opts": {**EXEC, "name": "ed", "user": "nosuchuser"}})
    assert err == "io.cpod.CommandNotFound" and "nosuchuser" in p["reason"]  # 127, as local mode exits


def frames(data):
    """The (kind, payload) frames of an Attach/ExecContainer stream."""
    out = []
    while len(data) >= 8:
        n = int.from_bytes(data[4:8], "big")
        out.append((data[0], data[8:8 + n]))
        data = data[8 + n:]
    return out


def test_exec_container_sized(service):
    service.cpod("run", "-d", "--name", "es", "busybox", "sleep", "300")
    # the runtime hands the terminal over as the command starts, so the size may arrive just after it
    size = "for i in $(seq 100); do busybox stty size 2>/dev/null && exit; sleep 0.1; done; echo none"
    s, reply, rest = upgrade_call(service, "ExecContainer", {"opts": {**EXEC, "name": "es", "tty": True,
                                                                      "cmd": ["sh", "-c", size]},
                                                             "width": 123, "height": 45})
    with s:
        assert reply == {"parameters": {}}, reply
        s.sendall(b"\1\0\0\0\0\0\0\0")  # the end of the input
        got = frames(rest + recv_all(s))
    out = b"".join(p for k, p in got if k == 0)
    assert out.replace(b"\x04", b"").strip() == b"45 123" and (4, b"\0\0\0\0") in got, got
    # without upgrade, and on a missing container, an error reply
    err, p = service.error("ExecContainer", {"opts": {**EXEC, "name": "es"}, "width": 80, "height": 24})
    assert err.endswith(".ErrorOccurred") and "upgrade" in p["reason"], (err, p)
    s, reply, _ = upgrade_call(service, "ExecContainer", {"opts": {**EXEC, "name": "nosuch"}, "width": 0,
                                                          "height": 0})
    s.close()
    assert reply["error"].endswith("ContainerNotFound"), reply
