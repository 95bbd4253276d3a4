# SPDX-License-Identifier: LGPL-2.1-or-later
"""Remote mode for images (pull, push, load, save, import, search, image exists/prune, login/logout, manifest
inspect), volumes and pods: `cpod --url` against `cpod varlink` prints what local mode prints on the same store
and exits alike. Also the service's streamed LoadImage and ImageSave (`varlink call --more`) and the archive
transfers of SendFile and ReceiveFile over an upgraded connection."""

import json
import os
import socket
import subprocess
import tarfile

import pytest

from conftest import build_dir
from remotelib import TIMEOUT, remote, remote_run, run, same  # noqa: F401 (remote is a fixture)
from test_registry import BUSYBOX, Registry, oci_source, skopeo

IMAGES = build_dir() / "images"


def vcall(varlink_bin, address, method, params, *flags):
    return subprocess.run([str(varlink_bin), "call", *flags, "%s/io.podman.%s" % (address, method),
                           json.dumps(params)], capture_output=True, text=True, timeout=TIMEOUT)


def replies(out):
    """The replies `varlink call --more` printed, one JSON document after another."""
    dec = json.JSONDecoder()
    docs, i, out = [], 0, out.strip()
    while i < len(out):
        doc, i = dec.raw_decode(out, i)
        docs.append(doc)
        while i < len(out) and out[i].isspace():
            i += 1
    return docs


def far(remote, *args, stdin=None):
    cli, _, address = remote
    e = {k: v for k, v in os.environ.items() if k not in ("CONTAINER_HOST", "PODMAN_VARLINK_ADDRESS")}
    return subprocess.run([cli, *client_options(remote), *args], capture_output=True, timeout=TIMEOUT, env=e,
                          stdin=stdin)


def client_options(remote):
    """--url, and the registries.conf of the store for what the client asks registries itself (--all-tags,
    --list-tags)."""
    _, store, address = remote
    conf = store[store.index("--registries-conf") + 1] if "--registries-conf" in store else None
    return ["--url", address] + (["--registries-conf", conf] if conf else [])


def same_reg(remote, *args):
    return same(remote, *args, how=client_options(remote))


def local(remote, *args):
    cli, store, _ = remote
    return run([cli, *store, *args])


def full_name(remote, ref):
    """The name the store gives ref (short names are qualified on load)."""
    return local(remote, "image", "inspect", "--format", "{{index .RepoTags 0}}", ref).stdout.strip()


@pytest.fixture
def remote_tmp(servers, tmp_sock_dir):
    """Like `remote`, with the service's temporary files (SendFile uploads, ImageSave archives) in a directory
    of their own, which must be empty at the end: nothing is left behind on the service's host."""
    cli = build_dir() / "src" / "cpod" / "cpod"
    images = [IMAGES / n for n in ("busybox.docker.tar", "busybox-httpd.docker.tar")]
    if not os.access(cli, os.X_OK) or not all(i.exists() for i in images):
        pytest.skip("cpod or the bundled test images are not built")
    store = ["--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run")]
    for image in images:
        subprocess.run([str(cli), *store, "load", "-i", str(image)], check=True, capture_output=True,
                       timeout=TIMEOUT)
    tmp = tmp_sock_dir / "service-tmp"
    tmp.mkdir()
    address = "unix:%s" % (tmp_sock_dir / "io.podman")
    servers.start([str(cli), *store, "varlink", "--timeout", "0", address], address=address,
                  env=dict(os.environ, TMPDIR=str(tmp)))
    yield str(cli), store, address
    assert os.listdir(tmp) == []


# ---- the service: LoadImage and ImageSave stream with more ----

def test_image_tree_method(remote, varlink_bin):
    _, _, address = remote
    p = vcall(varlink_bin, address, "ImageTree", {"name": "busybox", "whatRequires": False})
    assert p.returncode == 0, p.stderr
    tree = json.loads(p.stdout)["tree"]
    assert tree.startswith("Image ID: %s\nTags:     [%s]\n" % (BUSYBOX["id"][:12], full_name(remote, "busybox")))
    assert tree == local(remote, "image", "tree", "busybox").stdout
    p = vcall(varlink_bin, address, "ImageTree", {"name": "nosuch", "whatRequires": False})
    assert p.returncode != 0 and "ImageNotFound" in p.stderr


def test_load_image_streams(remote, varlink_bin):
    _, _, address = remote
    archive = str(IMAGES / "busybox.docker.tar")
    name = full_name(remote, "busybox")
    params = {"name": "", "inputFile": archive, "quiet": False, "deleteFile": False}
    p = vcall(varlink_bin, address, "LoadImage", params, "--more")
    assert p.returncode == 0, p.stderr
    docs = replies(p.stdout)
    assert len(docs) == 2
    assert docs[0]["reply"] == {"logs": ["Loaded image(s): " + name], "id": ""}
    assert docs[1]["reply"] == {"logs": [], "id": name}
    # without more: one reply with the logs and the names, as podman clients expect
    p = vcall(varlink_bin, address, "LoadImage", params)
    assert p.returncode == 0, p.stderr
    assert replies(p.stdout) == [{"reply": {"logs": ["Loaded image(s): " + name], "id": name}}]
    # quiet: no log lines, just the final reply
    p = vcall(varlink_bin, address, "LoadImage", dict(params, quiet=True), "--more")
    assert replies(p.stdout) == [{"reply": {"logs": [], "id": name}}]
    p = vcall(varlink_bin, address, "LoadImage", dict(params, inputFile="/nonexistent/x.tar"), "--more")
    assert p.returncode != 0 and "ErrorOccurred" in p.stderr
    p = vcall(varlink_bin, address, "LoadImage", dict(params, inputFile=""))
    assert p.returncode != 0 and "InvalidParameter" in p.stderr


def test_image_save_streams(remote, varlink_bin, tmp_path):
    _, _, address = remote
    out = tmp_path / "oci.tar"
    opts = {"name": "busybox", "format": "oci-archive", "output": str(out), "outputType": "", "moreTags": [],
            "quiet": False, "compress": False}
    p = vcall(varlink_bin, address, "ImageSave", {"options": opts}, "--more")
    assert p.returncode == 0, p.stderr
    docs = replies(p.stdout)
    assert len(docs) == 3
    assert all(d["reply"]["id"] == "" and len(d["reply"]["logs"]) == 1 for d in docs[:-1])
    assert docs[-1]["reply"] == {"logs": [], "id": BUSYBOX["id"]}
    assert docs[-2]["reply"]["logs"] == ["Writing manifest to image destination"]
    assert tarfile.open(out).getmember("index.json")
    p = vcall(varlink_bin, address, "ImageSave", {"options": dict(opts, quiet=True)})
    assert replies(p.stdout) == [{"reply": {"logs": [], "id": BUSYBOX["id"]}}]
    # no output: a temporary file on the service's host, named in the final reply
    p = vcall(varlink_bin, address, "ImageSave", {"options": dict(opts, output="", quiet=True)}, "--more")
    path = replies(p.stdout)[-1]["reply"]["id"]
    assert os.path.isfile(path) and os.path.getsize(path) == os.path.getsize(out)
    os.unlink(path)
    p = vcall(varlink_bin, address, "ImageSave", {"options": dict(opts, name="nosuch")}, "--more")
    assert p.returncode != 0 and "ImageNotFound" in p.stderr
    p = vcall(varlink_bin, address, "ImageSave", {"options": dict(opts, format="dir")})
    assert p.returncode != 0 and "ErrorOccurred" in p.stderr


def raw_upgrade(address, method, params):
    """Call method with upgrade on a fresh connection; returns the reply and the socket."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(TIMEOUT)
    s.connect(address[len("unix:"):])
    s.sendall(json.dumps({"method": "io.podman." + method, "parameters": params, "upgrade": True}).encode() + b"\0")
    buf = b""
    while b"\0" not in buf:
        chunk = s.recv(1)  # one byte at a time: nothing past the reply is consumed
        assert chunk, "connection closed before the reply"
        buf += chunk
    return json.loads(buf[:-1]), s


def read_all(s):
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_send_and_receive_file(remote_tmp, varlink_bin):
    remote = remote_tmp
    _, _, address = remote
    payload = bytes(range(256)) * 1000 + b"end"
    reply, s = raw_upgrade(address, "SendFile", {"type": "", "length": len(payload)})
    path = reply["parameters"]["file_handle"]
    s.sendall(payload)
    assert read_all(s) == path.encode() + b":"
    s.close()
    with open(path, "rb") as f:
        assert f.read() == payload
    assert os.stat(path).st_mode & 0o077 == 0
    reply, s = raw_upgrade(address, "ReceiveFile", {"path": path, "delete": True})
    assert reply["parameters"] == {"len": len(payload)}
    assert read_all(s) == payload
    s.close()
    assert not os.path.exists(path)
    # a client that hangs up early leaves no file behind
    reply, s = raw_upgrade(address, "SendFile", {"type": "", "length": 10 ** 6})
    path = reply["parameters"]["file_handle"]
    s.sendall(b"short")
    s.close()
    assert remote_run(remote, "images", "-q")  # the service still answers
    assert not os.path.exists(path)
    # without upgrade, and bad parameters
    for method, params, error in (("SendFile", {"type": "", "length": 3}, "ErrorOccurred"),
                                  ("ReceiveFile", {"path": "/nonexistent", "delete": False}, "ErrorOccurred")):
        p = vcall(varlink_bin, address, method, params)
        assert p.returncode != 0 and error in p.stderr, p.stderr
    reply, s = raw_upgrade(address, "SendFile", {"type": "", "length": -1})
    assert reply["error"] == "org.varlink.service.InvalidParameter"
    s.close()
    reply, s = raw_upgrade(address, "ReceiveFile", {"path": "/", "delete": False})
    assert reply["error"] == "io.podman.ErrorOccurred"
    s.close()


# ---- load, save, import ----

def test_save_and_load(remote_tmp, tmp_path):
    remote = remote_tmp
    mine, theirs = tmp_path / "remote.tar", tmp_path / "local.tar"
    assert far(remote, "save", "-o", str(mine), "busybox").returncode == 0
    assert local(remote, "save", "-o", str(theirs), "busybox").returncode == 0
    assert mine.read_bytes() == theirs.read_bytes()
    p = far(remote, "save", "busybox", stdin=subprocess.DEVNULL)
    assert p.returncode == 0 and p.stdout == theirs.read_bytes()
    for fmt in ("oci-archive", "docker-archive"):
        assert far(remote, "save", "--format", fmt, "-o", str(mine), "busybox", "busybox:httpd").returncode == 0
        assert local(remote, "save", "--format", fmt, "-o", str(theirs), "busybox", "busybox:httpd").returncode == 0
        assert mine.read_bytes() == theirs.read_bytes(), fmt
    same(remote, "save", "-o", str(mine), "nosuch")
    same(remote, "save", "--format", "dir", "-o", str(mine), "busybox")
    same(remote, "save", "-m", "--format", "oci-archive", "-o", str(mine), "busybox")
    same(remote, "save", "-o", str(tmp_path / "nodir" / "x.tar"), "busybox")

    httpd = full_name(remote, "busybox:httpd")
    remote_run(remote, "rmi", "busybox:httpd")
    out = same(remote, "load", "-i", str(theirs)).stdout
    assert "Loaded image: %s\n" % httpd in out
    remote_run(remote, "rmi", "busybox:httpd")
    with open(theirs, "rb") as f:
        p = far(remote, "load", stdin=f)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == out
    same(remote, "images")
    same(remote, "load", "-i", str(tmp_path / "missing.tar"))
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"not an archive")
    same(remote, "load", "-i", str(bad))


def test_import(remote_tmp, tmp_path):
    remote = remote_tmp
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "etc" / "motd").write_text("hello\n")
    tarball = tmp_path / "rootfs.tar"
    with tarfile.open(tarball, "w") as t:
        t.add(rootfs, arcname=".")
    image_id = remote_run(remote, "import", "-c", "CMD /bin/true", "-m", "made remotely", str(tarball),
                          "localhost/imported:1")
    assert image_id.startswith("sha256:") and len(image_id) == 71
    assert remote_run(remote, "inspect", "--format", "{{.Id}} {{.Config.Cmd}} {{.Comment}}",
                      "localhost/imported:1") == "%s [/bin/sh -c /bin/true] made remotely" % image_id[7:]
    with open(tarball, "rb") as f:
        p = far(remote, "import", "-", "localhost/imported:2", stdin=f)
    assert p.returncode == 0 and p.stdout.decode().startswith("sha256:"), p.stderr
    same(remote, "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}", "localhost/imported")
    same(remote, "import", str(tmp_path / "missing.tar"))
    same(remote, "import")


def test_exists_and_prune(remote_tmp, tmp_path):
    remote = remote_tmp
    for ref in ("busybox", full_name(remote, "busybox"), "nosuch", BUSYBOX["id"][:12]):
        same(remote, "image", "exists", ref)
        same(remote, "image", "tree", ref)
    same(remote, "image", "tree", "--whatrequires", "busybox:httpd")
    same(remote, "image", "exists")
    tarball = tmp_path / "empty.tar"
    with tarfile.open(tarball, "w"):
        pass
    dangling = {remote_run(remote, "import", "-m", m, str(tarball))[7:] for m in ("a", "b")}
    out = remote_run(remote, "image", "prune", "-f")
    assert {line.replace("sha256:", "") for line in out.split()} == dangling
    same(remote, "image", "prune", "-f")
    same(remote, "image", "prune", "--filter", "until=1h", "-f")
    same(remote, "images")


def test_login_logout_run_locally(remote, tmp_path):
    auth = tmp_path / "auth.json"
    auth.write_text('{"auths": {"example.com": {"auth": "dTpw"}}}')
    same(remote, "logout", "--authfile", str(auth), "nosuch.example.com")
    same(remote, "logout", "--authfile", str(auth), "--all")


# ---- registry: pull, push, search, manifest inspect ----

@pytest.fixture(scope="module")
def registry():
    reg = Registry()
    skopeo("copy", "-q", "--dest-tls-verify=false", oci_source("busybox"), "docker://%s/busybox:latest" % reg.host)
    skopeo("copy", "-q", "--dest-tls-verify=false", oci_source("busybox"), "docker://%s/busybox:second" % reg.host)
    yield reg
    reg.stop()


@pytest.fixture
def remote_reg(registry, servers, tmp_sock_dir):
    """Like `remote`, with a registries.conf marking the test registry insecure for both modes, and an empty
    store."""
    cli = build_dir() / "src" / "cpod" / "cpod"
    if not os.access(cli, os.X_OK):
        pytest.skip("cpod is not built")
    conf = tmp_sock_dir / "registries.conf"
    conf.write_text('[[registry]]\nlocation = "%s"\ninsecure = true\n' % registry.host)
    store = ["--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run"),
             "--registries-conf", str(conf)]
    address = "unix:%s" % (tmp_sock_dir / "io.podman")
    servers.start([str(cli), *store, "varlink", "--timeout", "0", address], address=address)
    yield str(cli), store, address
    subprocess.run([str(cli), *store, "rmi", "-af"], capture_output=True, timeout=TIMEOUT)


def test_pull_push(registry, remote_reg):
    ref = "%s/busybox:latest" % registry.host
    p = far(remote_reg, "pull", ref)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == BUSYBOX["id"] + "\n"
    assert "Copying blob" in p.stderr.decode() and "Writing manifest to image destination" in p.stderr.decode()
    p = far(remote_reg, "pull", "-q", ref)
    assert (p.returncode, p.stdout.decode(), p.stderr.decode()) == (0, BUSYBOX["id"] + "\n", "")
    same_reg(remote_reg, "pull", "-q", ref)
    same_reg(remote_reg, "pull", "--creds", "u:p", "-q", ref)
    same_reg(remote_reg, "pull", "-q", "%s/nosuch:latest" % registry.host)
    same_reg(remote_reg, "pull", "-q", "%s/busybox:nosuch" % registry.host)
    same_reg(remote_reg, "images")

    # push under a new name, then pull that back locally
    target = "%s/pushed:remote" % registry.host
    p = far(remote_reg, "push", ref, target, "--digestfile", str(remote_reg[1][1] + ".digest"))
    assert p.returncode == 0, p.stderr
    with open(remote_reg[1][1] + ".digest") as f:
        assert f.read() == BUSYBOX["manifest_digest"]
    p = far(remote_reg, "push", "-q", ref)
    assert (p.returncode, p.stdout, p.stderr) == (0, b"", b"")
    same_reg(remote_reg, "push", "nosuch", target)
    remote_run(remote_reg, "rmi", "-a")
    same_reg(remote_reg, "pull", "-q", target)
    same_reg(remote_reg, "image", "inspect", "--format", "{{.RepoDigests}}", target)


def test_pull_all_tags(registry, remote_reg):
    repo = "%s/busybox" % registry.host
    p = far(remote_reg, "pull", "--all-tags", "-q", repo)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == BUSYBOX["id"] + "\n" + BUSYBOX["id"] + "\n"
    same_reg(remote_reg, "pull", "-a", "-q", repo)
    same_reg(remote_reg, "images")
    same_reg(remote_reg, "pull", "-a", "-q", repo + ":latest")


def test_search_and_manifest(registry, remote_reg):
    for args in (["search", registry.host + "/"], ["search", registry.host + "/busy"],
                 ["search", "--limit", "1", registry.host + "/"],
                 ["search", "--format", "{{.Index}} {{.Name}}", registry.host + "/"],
                 ["search", "--format", "json", registry.host + "/busybox"],
                 ["search", "--list-tags", registry.host + "/busybox"],
                 ["search", "--limit", "x", registry.host + "/"],
                 ["manifest", "inspect", registry.host + "/busybox:latest"],
                 ["manifest", "inspect", registry.host + "/nosuch:latest"]):
        same_reg(remote_reg, *args)


# ---- volumes ----

def test_volumes(remote):
    assert remote_run(remote, "volume", "create", "-l", "a=b", "--label", "c", "v1") == "v1"
    assert remote_run(remote, "volume", "create", "--opt", "type=tmpfs", "--opt", "device=tmpfs", "v2") == "v2"
    anonymous = remote_run(remote, "volume", "create")
    assert len(anonymous) == 64
    for args in (["volume", "ls"], ["volume", "ls", "-q"], ["volume", "ls", "--noheading"],
                 ["volume", "ls", "--format", "json"], ["volume", "ls", "--format", "{{.Name}} {{.Labels}}"],
                 ["volume", "list", "--format", "table {{.Name}} {{.Mountpoint}}"],
                 ["volume", "inspect", "v1"], ["volume", "inspect", "v1", "v2"], ["volume", "inspect", "--all"],
                 ["volume", "inspect", "-f", "{{.Name}} {{.Options}}", "v2"], ["volume", "inspect", "v1", "nosuch"],
                 ["volume", "inspect"], ["volume", "exists", "v1"], ["volume", "exists", "nosuch"],
                 ["volume", "create", "v1"], ["volume", "create", "bad/name"], ["volume", "rm", "nosuch"],
                 ["volume", "rm"]):
        same(remote, *args)
    # in use: rm refuses with exit code 2, prune keeps it
    assert local(remote, "create", "--name", "user", "-v", "v1:/data", "busybox", "true").returncode == 0
    for args in (["volume", "rm", "v1"], ["volume", "inspect", "--format", "{{.Name}}", "v1"]):
        same(remote, *args)
    p = far(remote, "volume", "rm", "v2", "nosuch")
    assert (p.returncode, p.stdout) == (1, b"v2\n"), p.stderr
    assert far(remote, "volume", "prune", "-f").stdout.decode() == anonymous + "\n"
    assert far(remote, "volume", "rm", "-f", "v1").stdout == b"v1\n"
    same(remote, "volume", "ls")
    same(remote, "volume", "rm", "-a")


# ---- pods ----

def test_pods(remote):
    pod_id = remote_run(remote, "pod", "create", "--name", "rp1", "-l", "team=a", "--share", "ipc,uts")
    assert len(pod_id) == 64
    remote_run(remote, "pod", "create", "rp2")
    views = (["pod", "ps"], ["pod", "ps", "-q"],
             ["pod", "ls", "--no-trunc", "--ctr-names", "--ctr-status", "--ctr-ids"],
             ["pod", "ps", "--format", "json"], ["pod", "ps", "--format", "{{.Name}} {{.Status}} {{.Labels}}"],
             ["pod", "ps", "--filter", "name=rp1"], ["pod", "ps", "--filter", "label=team=a", "-q"],
             ["pod", "inspect", "rp1"], ["pod", "inspect", "rp1", "rp2"], ["pod", "inspect", "-f", "{{.Name}}", "rp2"],
             ["pod", "inspect", "nosuch"], ["pod", "exists", "rp1"], ["pod", "exists", "nosuch"])
    for args in views:
        same(remote, *args)
    same(remote, "pod", "create", "rp1")
    assert remote_run(remote, "pod", "start", "rp1") == pod_id
    for args in views[:6]:
        same(remote, *args)
    p = far(remote, "pod", "top", "rp1")
    assert p.returncode == 0 and p.stdout.decode().split()[:2] == ["USER", "PID"], p.stderr
    # stats: the same table, figures aside
    p = far(remote, "pod", "stats", "--no-stream", "rp1")
    lines = p.stdout.decode().splitlines()
    assert p.returncode == 0 and lines[0].split()[:3] == ["POD", "CID", "NAME"], p.stderr
    assert len(lines) == 2 and lines[1].split()[0] == pod_id[:12]
    assert local(remote, "pod", "stats", "--no-stream", "rp1").stdout.splitlines()[1].split()[:3] == \
        lines[1].split()[:3]
    same(remote, "pod", "stats", "--no-stream", "rp2")
    for args in (["generate", "kube", "rp1"], ["generate", "kube", "-s", "rp1"], ["generate", "kube", "nosuch"],
                 ["generate", "kube"]):
        same(remote, *args)
    assert remote_run(remote, "pod", "pause", "rp1") == pod_id
    same(remote, "pod", "ps", "--filter", "status=paused", "-q")
    assert remote_run(remote, "pod", "unpause", "rp1") == pod_id
    assert remote_run(remote, "pod", "kill", "-s", "TERM", "rp1") == pod_id
    assert remote_run(remote, "pod", "restart", "rp1") == pod_id
    assert remote_run(remote, "pod", "stop", "-t", "1", "rp1") == pod_id
    for args in (["pod", "stop", "nosuch"], ["pod", "rm", "-i", "nosuch"], ["pod", "kill", "-s", "BOGUS", "rp1"],
                 ["pod", "start"], ["pod", "start", "-a", "rp1"], ["pod", "top", "rp1"]):
        same(remote, *args)
    stopped = sorted(remote_run(remote, "pod", "ps", "-q", "--no-trunc").split())
    assert len(stopped) == 2
    assert sorted(remote_run(remote, "pod", "prune").split()) == stopped
    same(remote, "pod", "ps")


def test_pod_rm_all(remote):
    ids = sorted(remote_run(remote, "pod", "create", name) for name in ("ra", "rb"))
    assert sorted(remote_run(remote, "pod", "rm", "-a").split()) == ids
    same(remote, "pod", "ps", "-q")


def test_save_load_through_bridge(remote_tmp, tmp_path):
    """The archive transfers open connections of their own: through PODMAN_VARLINK_BRIDGE too."""
    cli, store, address = remote_tmp
    bridge = build_dir() / "src" / "varlink" / "varlink"
    if not os.access(bridge, os.X_OK):
        pytest.skip("varlink is not built")
    env = {"PODMAN_VARLINK_BRIDGE": f"{bridge} bridge --connect {address}"}
    archive = tmp_path / "b.tar"
    p = run([cli, "--remote", "save", "-o", str(archive), "busybox"], env=env)
    assert p.returncode == 0, p.stderr
    assert local(remote_tmp, "save", "-o", str(tmp_path / "l.tar"), "busybox").returncode == 0
    assert archive.read_bytes() == (tmp_path / "l.tar").read_bytes()
    same(remote_tmp, "load", "-i", str(archive), env=env, how=["--remote"])


# ---- flags io.podman has no field for: io.cpod's ListVolumes, PruneVolumes, CreatePod, PullImage, PushImage;
# save --format oci-dir unpacked on the client ----

from test_registry import basic_registry  # noqa: E402,F401 (a fixture)


def test_volume_filters(remote):
    remote_run(remote, "volume", "create", "-l", "team=a", "fa")
    remote_run(remote, "volume", "create", "-l", "team=b", "--label", "keep", "fb")
    remote_run(remote, "volume", "create", "fc")
    for args in (["volume", "ls", "--filter", "label=team=a"], ["volume", "ls", "-f", "label=team", "-q"],
                 ["volume", "ls", "--filter", "name=fb", "--format", "json"],
                 ["volume", "ls", "--filter", "label=team", "--filter", "name=fa"],
                 ["volume", "ls", "--filter", "label=nosuch"], ["volume", "ls", "--filter", "bogus=1"],
                 ["volume", "ls", "--filter", "nonsense"], ["volume", "prune", "-f", "--filter", "bogus=1"]):
        same(remote, *args)
    assert far(remote, "volume", "prune", "-f", "--filter", "label=team=a").stdout == b"fa\n"
    assert far(remote, "volume", "prune", "-f", "--filter", "label=nosuch").stdout == b""
    same(remote, "volume", "ls", "-q")
    assert far(remote, "volume", "prune", "-f", "--filter", "label!=keep").stdout == b"fc\n"
    same(remote, "volume", "ls", "-q")


def test_pod_create_network_hostname(remote):
    pod_id = remote_run(remote, "pod", "create", "--network", "none", "--hostname", "far-host", "-l", "k=v",
                        "--share", "net,uts", "rnet")
    assert local(remote, "pod", "create", "--network", "none", "--hostname", "far-host", "-l", "k=v",
                 "--share", "net,uts", "lnet").returncode == 0
    fmt = "{{.Hostname}} {{.Labels}} {{.InfraConfig.NetworkMode}} {{.SharedNamespaces}} {{.NumContainers}}"
    far_doc = local(remote, "pod", "inspect", "--format", fmt, pod_id).stdout
    assert far_doc == local(remote, "pod", "inspect", "--format", fmt, "lnet").stdout
    assert far_doc.startswith("far-host map[k:v] none ")
    remote_run(remote, "pod", "create", "--hostname", "h2", "rhost")
    assert local(remote, "pod", "inspect", "--format", "{{.Hostname}}", "rhost").stdout == "h2\n"
    for args in (["pod", "create", "--network", "nosuch", "x1"], ["pod", "create", "--net", "host", "rnet"],
                 ["pod", "create", "--network", "none", "--name", "a", "b"]):
        same(remote, *args)
    remote_run(remote, "pod", "rm", "-a")


def test_pull_push_registry_options(registry, remote_reg, tmp_path):
    ref = "%s/busybox:latest" % registry.host
    for args, code in ((["pull", "-q", "--tls-verify=false", ref], 0),
                       (["pull", "-q", "--platform", "linux/amd64", ref], 0),
                       (["pull", "-q", "--os", "linux", "--arch", "amd64", ref], 0),
                       (["pull", "-q", "--arch", "s390x", ref], None),
                       (["pull", "-q", "--platform", "linux", ref], 125),
                       (["pull", "-q", "--tls-verify=maybe", ref], 125),
                       (["pull", "-q", "--tls-verify=true", ref], 125),
                       (["pull", "-q", "--cert-dir", str(tmp_path), ref], 0),
                       (["pull", "-q", "--cert-dir", "relative", ref], None),
                       (["pull", "-q", "--authfile", str(tmp_path / "nosuch.json"), ref], None)):
        p = same_reg(remote_reg, *args)
        assert code is None or p.returncode == code, (args, p.stderr)
    # the status lines stream through io.cpod as through io.podman
    p = far(remote_reg, "pull", "--tls-verify=false", ref)
    assert p.returncode == 0 and p.stdout.decode() == BUSYBOX["id"] + "\n", p.stderr
    assert "Writing manifest to image destination" in p.stderr.decode()
    target = "%s/pushed:options" % registry.host
    p = far(remote_reg, "push", "--tls-verify=false", "--digestfile", str(tmp_path / "digest"), ref, target)
    assert p.returncode == 0, p.stderr
    assert (tmp_path / "digest").read_text() == BUSYBOX["manifest_digest"]
    for args in (["search", "--tls-verify=false", registry.host + "/busy"], ["search", "--tls-verify=true",
                 registry.host + "/"], ["search", "--authfile", str(tmp_path / "nosuch.json"), registry.host + "/"],
                 ["search", "--tls-verify=maybe", registry.host + "/"]):
        same_reg(remote_reg, *args)
    for args in (["push", "-q", "--tls-verify=true", ref, target],
                 ["push", "-q", "--tls-verify=false", "nosuch", target],
                 ["push", "-q", "--cert-dir", "relative", ref, target]):
        same_reg(remote_reg, *args)


@pytest.fixture
def remote_basic(basic_registry, servers, tmp_sock_dir):
    """A service whose registries.conf marks the htpasswd registry insecure, and an empty store."""
    cli = build_dir() / "src" / "cpod" / "cpod"
    if not os.access(cli, os.X_OK):
        pytest.skip("cpod is not built")
    conf = tmp_sock_dir / "registries.conf"
    conf.write_text('[[registry]]\nlocation = "%s"\ninsecure = true\n' % basic_registry.host)
    store = ["--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run"),
             "--registries-conf", str(conf)]
    address = "unix:%s" % (tmp_sock_dir / "io.podman")
    servers.start([str(cli), *store, "varlink", "--timeout", "0", address], address=address,
                  env=dict(os.environ, REGISTRY_AUTH_FILE=str(tmp_sock_dir / "service-auth.json")))
    yield str(cli), store, address
    subprocess.run([str(cli), *store, "rmi", "-af"], capture_output=True, timeout=TIMEOUT)


def test_credentials(basic_registry, remote_basic, tmp_path):
    """--creds, and the client's auth file: the credential for the registry travels with the call."""
    ref = "%s/busybox:latest" % basic_registry.host
    target = "%s/pushed:creds" % basic_registry.host
    auth = tmp_path / "auth.json"
    env = {"REGISTRY_AUTH_FILE": str(tmp_path / "default-auth.json")}
    for args, code in ((["pull", "-q", ref], 125), (["pull", "-q", "--creds", "alice:wrong", ref], 125),
                       (["pull", "-q", "--creds", "alice:s3cret", ref], 0),
                       (["push", "-q", "--creds", "alice:wrong", ref, target], 125),
                       (["push", "-q", "--creds", "alice:s3cret", ref, target], 0),
                       (["push", "-q", "--creds", "alice:s3cret", "--tls-verify=false", ref, target], 0)):
        p = same(remote_basic, *args, env=env, how=client_options(remote_basic))
        assert p.returncode == code, (args, p.stderr)
    p = far(remote_basic, "login", "--authfile", str(auth), "-u", "alice", "-p", "s3cret", basic_registry.host)
    assert p.returncode == 0, p.stderr
    remote_run(remote_basic, "rmi", "-a")
    for args in (["pull", "-q", "--authfile", str(auth), target], ["images", "--format", "{{.Repository}}"],
                 ["push", "-q", "--authfile", str(auth), target, target + "2"]):
        p = same(remote_basic, *args, env=env, how=client_options(remote_basic))
        assert p.returncode == 0, (args, p.stderr)
    # the client's default auth file ($REGISTRY_AUTH_FILE) serves as local mode's does
    p = far(remote_basic, "login", "--authfile", env["REGISTRY_AUTH_FILE"], "-u", "alice", "-p", "s3cret",
            basic_registry.host)
    assert p.returncode == 0, p.stderr
    remote_run(remote_basic, "rmi", "-a")
    cli, store, _ = remote_basic
    here = run([cli, *store, "pull", "-q", target + "2"], env=env)
    remote_run(remote_basic, "rmi", "-a")
    there = run([cli, *client_options(remote_basic), "pull", "-q", target + "2"], env=env)
    assert (there.returncode, there.stdout) == (here.returncode, here.stdout) == (0, BUSYBOX["id"] + "\n"), \
        (here.stderr, there.stderr)


def test_save_oci_dir(remote_tmp, tmp_path):
    def tree(root):
        out = {}
        for dirpath, dirs, files in os.walk(root):
            for name in dirs + files:
                path = os.path.join(dirpath, name)
                st = os.lstat(path)
                data = open(path, "rb").read() if name in files else None
                out[os.path.relpath(path, root)] = (st.st_mode, data)
        return out

    cli, store, address = remote_tmp
    ref = full_name(remote_tmp, "busybox")
    here, there = tmp_path / "local", tmp_path / "remote"
    assert run([cli, *store, "save", "--format", "oci-dir", "-o", str(here), ref]).returncode == 0
    p = run([cli, "--url", address, "save", "--format", "oci-dir", "-o", str(there), ref])
    assert p.returncode == 0 and p.stdout == "", p.stderr
    assert tree(there) == tree(here) and "index.json" in tree(here)
    # into an existing directory, as local mode allows
    assert run([cli, "--url", address, "save", "--format", "oci-dir", "-o", str(there), ref]).returncode == 0
    assert tree(there) == tree(here)
    for args in (["save", "--format", "oci-dir", "-o", str(tmp_path / "x"), "nosuch"],
                 ["save", "--format", "oci-dir", ref],
                 ["save", "--format", "oci-dir", "-o", str(tmp_path / "no" / "such"), ref]):
        same(remote_tmp, *args)
        assert not (tmp_path / "x").exists()


def test_volume_prune_question(remote):
    """Without -f, remote volume prune asks local mode's question, naming the unused volumes that match."""
    cli, store, address = remote
    for name in ("pq-keep", "pq-a", "pq-b"):
        remote_run(remote, "volume", "create", "--label", f"set={name[3:]}", name)
    remote_run(remote, "create", "--name", "pq-user", "-v", "pq-keep:/data", "busybox", "true")
    env = {k: v for k, v in os.environ.items() if k not in ("CONTAINER_HOST", "PODMAN_VARLINK_ADDRESS")}
    for extra in ([], ["--filter", "label=set=a"]):
        local = subprocess.run([cli, *store, "volume", "prune", *extra], input="n\n", capture_output=True,
                               text=True, timeout=TIMEOUT, env=env)
        far = subprocess.run([cli, "--url", address, "volume", "prune", *extra], input="n\n",
                             capture_output=True, text=True, timeout=TIMEOUT, env=env)
        assert (far.stdout, far.stderr, far.returncode) == (local.stdout, local.stderr, local.returncode)
        assert "pq-a" in local.stderr and "pq-keep" not in local.stderr
        assert ("pq-b" in local.stderr) == (extra == [])
    remote_run(remote, "rm", "pq-user")
    remote_run(remote, "volume", "rm", "pq-keep", "pq-a", "pq-b")


def test_save_error_words(remote, tmp_path):
    """A save whose output cannot be opened fails with local mode's message, and leaves nothing behind."""
    cli, store, address = remote
    target = str(tmp_path / "no" / "such" / "x.tar")
    local = run([cli, *store, "save", "-o", target, "busybox"])
    far = run([cli, "--url", address, "save", "-o", target, "busybox"])
    assert (far.stdout, far.stderr, far.returncode) == (local.stdout, local.stderr, local.returncode)
    assert local.returncode == 125 and target in local.stderr
