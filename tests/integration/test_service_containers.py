# SPDX-License-Identifier: LGPL-2.1-or-later
"""io.podman's container methods on `cpod varlink` (socket-activated): the lifecycle through the varlink
tool and raw calls, streamed logs and events, Attach and ExecContainer over upgraded connections with
podman's frame protocol, errors."""

import json
import os
import shutil
import socket
import struct
import subprocess
import tarfile
import time

import pytest

from conftest import build_dir

PODMAN = "io.podman"
ATOMIC = "io.projectatomic.podman"
CALL_TIMEOUT = 30
STDOUT, STDIN, STDERR, RESIZE, EXIT, HANGUP = range(6)


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
    yield address
    subprocess.run([str(cli), *store, "rm", "-af"], capture_output=True, timeout=120)
    subprocess.run(["sh", "-c", f'grep -o " {tmp_sock_dir}[^ ]*" /proc/self/mounts | sort -r | '
                                f'xargs -r -n1 umount -l'], capture_output=True)


class Conn:
    """A raw Varlink connection that never reads past a message (upgraded connections go on in frames)."""

    def __init__(self, address, timeout=CALL_TIMEOUT):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(address[len("unix:"):])
        self.buf = b""

    def send(self, method, parameters=None, **flags):
        msg = {"method": method, "parameters": parameters or {}}
        msg.update(flags)
        self.sock.sendall(json.dumps(msg).encode() + b"\0")

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

    def stream(self, method, parameters=None):
        self.send(method, parameters, more=True)
        while True:
            r = self.reply()
            yield r
            if not r.get("continues"):
                return

    # ---- frames after an upgrade ----

    def frame(self):
        self._fill(lambda: len(self.buf) >= 8)
        kind, length = self.buf[0], struct.unpack(">I", self.buf[4:8])[0]
        self._fill(lambda: len(self.buf) >= 8 + length)
        payload, self.buf = self.buf[8:8 + length], self.buf[8 + length:]
        return kind, payload

    def send_frame(self, kind, payload=b""):
        self.sock.sendall(struct.pack(">B3xI", kind, len(payload)) + payload)

    def output(self):
        """Frames up to the exit code frame: (stdout, stderr, exit code)."""
        out, err = b"", b""
        while True:
            kind, payload = self.frame()
            if kind == STDOUT:
                out += payload
            elif kind == STDERR:
                err += payload
            elif kind == EXIT:
                return out, err, struct.unpack(">I", payload)[0]

    def close(self):
        self.sock.close()


def call(address, method, parameters=None):
    c = Conn(address)
    try:
        return c.call(method, parameters)
    finally:
        c.close()


def ok(address, method, parameters=None):
    r = call(address, method, parameters)
    assert "error" not in r, r
    return r["parameters"]


def create(address, *command, name=None, **fields):
    create = {"args": ["busybox", *command], **fields}
    if name:
        create["name"] = name
    return ok(address, f"{PODMAN}.CreateContainer", {"create": create})["container"]


def wait_for(pred, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.1)
    return False


def status(address, ref):
    return ok(address, f"{PODMAN}.GetContainer", {"id": ref})["container"]["status"]


# ---- the lifecycle ----

def test_lifecycle_with_raw_calls(service):
    ident = create(service, "sh", "-c", "echo hello; echo oops >&2; exec sleep 60", name="life",
                   env=["A=1"], label=["k=v"], workDir="/tmp")
    assert len(ident) == 64
    ctr = ok(service, f"{PODMAN}.GetContainer", {"id": "life"})["container"]
    assert ctr["id"] == ident and ctr["names"] == "life" and ctr["status"] in ("configured", "created")
    assert ctr["labels"] == {"k": "v"} and ctr["ports"] == [] and ctr["containerrunning"] is False
    assert ctr["createdat"].endswith("Z") and "T" in ctr["createdat"]

    assert ok(service, f"{PODMAN}.StartContainer", {"name": "life"}) == {"container": ident}
    assert status(service, ident) == "running"
    listed = ok(service, f"{PODMAN}.ListContainers")["containers"]
    assert [c["names"] for c in listed if c["id"] == ident] == ["life"]
    assert ok(service, f"{PODMAN}.GetContainersByStatus", {"status": ["running"]})["containerS"][0]["id"] == ident
    assert ok(service, f"{PODMAN}.ContainerExists", {"name": "life"}) == {"exists": 0}
    assert ok(service, f"{PODMAN}.ContainerExists", {"name": "nope"}) == {"exists": 1}
    ps = ok(service, f"{PODMAN}.Ps", {"opts": {"all": True}})["containers"]
    assert ps[0]["names"] == "life" and ps[0]["state"] == "running" and ps[0]["status"].startswith("Up ")

    doc = json.loads(ok(service, f"{PODMAN}.InspectContainer", {"name": "life"})["container"])
    assert doc["Id"] == ident and doc["Config"]["Cmd"][0] == "sh" and "A=1" in doc["Config"]["Env"]

    assert wait_for(lambda: len(ok(service, f"{PODMAN}.GetContainerLogs", {"name": ident})["container"]) == 2)
    lines = ok(service, f"{PODMAN}.GetContainerLogs", {"name": ident})["container"]
    assert any(line.endswith(" stdout F hello\n") for line in lines)
    assert any(line.endswith(" stderr F oops\n") for line in lines)

    top = ok(service, f"{PODMAN}.ListContainerProcesses", {"name": ident, "opts": ["pid", "args"]})["container"]
    assert top[0].split("\t") == ["PID", "COMMAND"] and any("sleep" in row for row in top[1:])

    assert ok(service, f"{PODMAN}.PauseContainer", {"name": ident}) == {"container": ident}
    assert status(service, ident) == "paused"
    assert ok(service, f"{PODMAN}.UnpauseContainer", {"name": ident}) == {"container": ident}
    assert ok(service, f"{PODMAN}.StopContainer", {"name": ident, "timeout": 1}) == {"container": ident}
    assert status(service, ident) in ("exited", "stopped")
    assert ok(service, f"{PODMAN}.WaitContainer", {"name": ident, "interval": 100}) == {"exitcode": 137}
    assert ok(service, f"{PODMAN}.RemoveContainer", {"name": ident}) == {"container": ident}
    assert ok(service, f"{PODMAN}.ContainerExists", {"name": ident}) == {"exists": 1}


def test_lifecycle_with_the_varlink_tool(service, varlink_bin):
    def vl(method, params=None, check=True):
        p = subprocess.run([str(varlink_bin), "call", f"{service}/{method}", json.dumps(params or {})],
                           capture_output=True, text=True, timeout=CALL_TIMEOUT)
        if check:
            assert p.returncode == 0, p.stderr
            return json.loads(p.stdout)
        return p

    ident = vl(f"{PODMAN}.CreateContainer", {"create": {"args": ["busybox", "sh", "-c", "exit 7"]}})["container"]
    vl(f"{PODMAN}.StartContainer", {"name": ident})
    assert vl(f"{PODMAN}.WaitContainer", {"name": ident, "interval": 100}) == {"exitcode": 7}
    assert vl(f"{PODMAN}.GetContainer", {"id": ident[:12]})["container"]["status"] == "exited"
    # io.projectatomic.podman's shapes on the same containers
    assert [c["id"] for c in vl(f"{ATOMIC}.ListContainers")["containers"]] == [ident]
    assert vl(f"{PODMAN}.DeleteStoppedContainers") == {"containers": [ident]}
    p = vl(f"{PODMAN}.GetContainer", {"id": ident}, check=False)
    assert p.returncode != 0 and "ContainerNotFound" in p.stderr


def test_atomic_create_and_errors(service):
    ident = ok(service, f"{ATOMIC}.CreateContainer",
               {"create": {"image": "busybox", "command": ["true"], "env": {"B": "2"}, "name": "old"}})["container"]
    assert ok(service, f"{ATOMIC}.GetContainer", {"name": "old"})["container"]["id"] == ident
    assert ok(service, f"{ATOMIC}.StartContainer", {"name": "old"}) == {"container": ident}
    assert ok(service, f"{ATOMIC}.WaitContainer", {"name": "old"}) == {"exitcode": 0}
    r = call(service, f"{ATOMIC}.GetContainer", {"name": "gone"})
    assert r == {"error": f"{ATOMIC}.ContainerNotFound", "parameters": {"name": "gone"}}
    assert ok(service, f"{ATOMIC}.RemoveContainer", {"name": "old", "force": False}) == {"container": ident}


def test_errors(service):
    r = call(service, f"{PODMAN}.StopContainer", {"name": 1, "timeout": 1})
    assert r["error"] == "org.varlink.service.InvalidParameter" and r["parameters"] == {"parameter": "name"}
    r = call(service, f"{PODMAN}.KillContainer", {"name": "x", "signal": "KILL"})
    assert r["error"] == "org.varlink.service.InvalidParameter" and r["parameters"] == {"parameter": "signal"}
    r = call(service, f"{PODMAN}.StartContainer", {"name": "missing"})
    assert r["error"] == f"{PODMAN}.ContainerNotFound"
    assert r["parameters"]["id"] == "missing" and "missing" in r["parameters"]["reason"]
    r = call(service, f"{PODMAN}.CreateContainer", {"create": {"args": ["no-such-image:1"]}})
    assert r["error"] == f"{PODMAN}.ImageNotFound"
    ident = create(service, "true")
    r = call(service, f"{PODMAN}.PauseContainer", {"name": ident})
    assert r["error"] == f"{PODMAN}.InvalidState" and r["parameters"]["id"] == ident and r["parameters"]["reason"]
    r = call(service, f"{PODMAN}.ContainerCheckpoint",
             {"name": ident, "keep": False, "leaveRunning": False, "tcpEstablished": False})
    assert r["error"] == "org.varlink.service.MethodNotImplemented"
    # missing fields are zero values (cockpit leaves out force)
    assert ok(service, f"{PODMAN}.RemoveContainer", {"name": ident}) == {"container": ident}


# ---- streams ----

LOG_ARGS = {"follow": True, "latest": False, "since": "", "tail": -1, "timestamps": False}


def test_logs_follow_until_exit_and_empty_last_line(service):
    ident = create(service, "sh", "-c", "for i in 1 2 3 4; do echo line$i; sleep 0.3; done")
    ok(service, f"{PODMAN}.StartContainer", {"name": ident})
    c = Conn(service)
    try:
        replies = list(c.stream(f"{PODMAN}.GetContainersLogs", dict(LOG_ARGS, names=[ident])))
        # the connection serves the next call after the stream
        assert c.call(f"{PODMAN}.ContainerExists", {"name": ident})["parameters"] == {"exists": 0}
    finally:
        c.close()
    assert all(r.get("continues") for r in replies[:-1]) and "continues" not in replies[-1]
    logs = [r["parameters"]["log"] for r in replies]
    assert [l["msg"] for l in logs[:-1]] == ["line1", "line2", "line3", "line4"]
    assert all(l["device"] == "stdout" and l["cid"] == ident and l["parseLogType"] == "F" for l in logs[:-1])
    assert logs[-1] == {"device": "", "parseLogType": "", "time": "", "msg": "", "cid": ""}
    # tail without follow
    replies = list(Conn(service).stream(f"{PODMAN}.GetContainersLogs",
                                        dict(LOG_ARGS, names=[ident], follow=False, tail=2)))
    assert [r["parameters"]["log"]["msg"] for r in replies] == ["line3", "line4", ""]


def test_logs_without_more_and_of_unknown_container(service):
    r = call(service, f"{PODMAN}.GetContainersLogs", dict(LOG_ARGS, names=["x"]))
    assert r["error"] == "org.varlink.service.ExpectedMore"
    c = Conn(service)
    try:
        replies = list(c.stream(f"{PODMAN}.GetContainersLogs", dict(LOG_ARGS, names=["nope"])))
    finally:
        c.close()
    assert len(replies) == 1 and replies[0]["error"] == f"{PODMAN}.ContainerNotFound"


def test_client_vanishing_mid_stream(service):
    ident = create(service, "sh", "-c", "while true; do echo tick; sleep 0.2; done")
    ok(service, f"{PODMAN}.StartContainer", {"name": ident})
    # service processes that exist already (other tests' sessions winding down) are not ours to judge
    before = set(_service_children())
    gone, stays = Conn(service), Conn(service)
    try:
        g, s = gone.stream(f"{PODMAN}.GetContainersLogs", dict(LOG_ARGS, names=[ident])), \
            stays.stream(f"{PODMAN}.GetContainersLogs", dict(LOG_ARGS, names=[ident]))
        assert next(g)["parameters"]["log"]["msg"] == "tick"
        assert next(s)["parameters"]["log"]["msg"] == "tick"
        gone.close()
        waiter = Conn(service)  # a wait for a container that does not exit, abandoned
        waiter.send(f"{PODMAN}.WaitContainer", {"name": ident, "interval": 100})
        time.sleep(0.3)
        waiter.close()
        begin = time.monotonic()
        assert status(service, ident) == "running"
        assert time.monotonic() - begin < 2
        for _ in range(5):  # the other stream goes on
            assert next(s)["parameters"]["log"]["msg"] == "tick"
    finally:
        gone.close()
        stays.close()
    # the processes serving the streams and the wait went away with their clients
    assert wait_for(lambda: not set(_service_children()) - before, timeout=20)
    ok(service, f"{PODMAN}.StopContainer", {"name": ident, "timeout": 0})


def _service_children():
    return [p for p in os.listdir("/proc") if p.isdigit() and _is_service_child(p)]


def _is_service_child(pid):
    """A process forked by `cpod varlink` (a connection, a stream producer): its parent is a service too."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
        with open(f"/proc/{pid}/stat") as f:
            ppid = int(f.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return False
    if b"varlink" not in argv:
        return False
    try:
        with open(f"/proc/{ppid}/cmdline", "rb") as f:
            return b"varlink" in f.read().split(b"\0")
    except OSError:
        return False


def test_events_stream(service):
    c = Conn(service)
    try:
        ident = create(service, "true", name="evt")
        stream = c.stream(f"{PODMAN}.GetEvents", {"filter": ["container=evt"], "since": "", "until": ""})
        first = next(stream)
        assert first["continues"] and first["parameters"]["events"]["name"] == "evt"
        assert first["parameters"]["events"]["type"] == "container"
        assert first["parameters"]["events"]["status"] == "create" and first["parameters"]["events"]["id"] == ident
        ok(service, f"{PODMAN}.StartContainer", {"name": ident})
        statuses = set()
        while "start" not in statuses:  # followed: events after the call came in
            statuses.add(next(stream)["parameters"]["events"]["status"])
    finally:
        c.close()


def test_commit_stream_export_changes_mount(service, tmp_sock_dir):
    ident = create(service, "sh", "-c", "echo data > /new-file")
    ok(service, f"{PODMAN}.StartContainer", {"name": ident})
    assert ok(service, f"{PODMAN}.WaitContainer", {"name": ident, "interval": 100}) == {"exitcode": 0}
    changes = ok(service, f"{PODMAN}.ListContainerChanges", {"name": ident})["container"]
    assert "/new-file" in changes["added"] and set(changes) == {"changed", "added", "deleted"}
    assert {"path": "/new-file", "changeType": "A"} in ok(service, f"{PODMAN}.Diff", {"name": ident})["diffs"]
    path = str(tmp_sock_dir / "export.tar")
    assert ok(service, f"{PODMAN}.ExportContainer", {"name": ident, "path": path}) == {"tarfile": path}
    with tarfile.open(path) as t:
        assert "new-file" in [m.name.lstrip("./") for m in t.getmembers()]
    mounted = ok(service, f"{PODMAN}.MountContainer", {"name": ident})["path"]
    assert open(os.path.join(mounted, "new-file")).read() == "data\n"
    assert ok(service, f"{PODMAN}.ListContainerMounts")["mounts"] == {ident: mounted}
    assert ok(service, f"{PODMAN}.UnmountContainer", {"name": ident, "force": True}) == {}

    c = Conn(service)
    try:
        replies = list(c.stream(f"{PODMAN}.Commit", {"name": ident, "image_name": "localhost/committed:1",
                                                     "changes": ["CMD [\"cat\", \"/new-file\"]"], "author": "me",
                                                     "message": "m", "pause": True, "manifestType": ""}))
    finally:
        c.close()
    image_id = replies[-1]["parameters"]["reply"]["id"]
    assert replies[0]["continues"] and len(image_id) == 64
    ctr = create(service, name="from-commit", args=["localhost/committed:1"])
    ok(service, f"{PODMAN}.StartContainer", {"name": ctr})
    ok(service, f"{PODMAN}.WaitContainer", {"name": ctr, "interval": 100})
    assert ok(service, f"{PODMAN}.GetContainerLogs", {"name": ctr})["container"][0].endswith(" stdout F data\n")


# ---- upgraded connections ----

def exec_call(conn, ident, cmd, **opts):
    opts = {"name": ident, "tty": False, "privileged": False, "cmd": cmd, **opts}
    return conn.call(f"{PODMAN}.ExecContainer", {"opts": opts}, upgrade=True)


def test_exec_over_upgrade(service):
    ident = create(service, "sleep", "60")
    ok(service, f"{PODMAN}.StartContainer", {"name": ident})
    c = Conn(service)
    try:
        assert exec_call(c, ident, ["sh", "-c", "echo out; echo err >&2; exit 3"], env=["X=1"]) == {"parameters": {}}
        assert c.output() == (b"out\n", b"err\n", 3)
    finally:
        c.close()
    # stdin, then a hang-up closes it
    c = Conn(service)
    try:
        exec_call(c, ident, ["sh", "-c", "cat; echo done"])
        c.send_frame(RESIZE, b'{"Width": 80, "Height": 24}')
        c.send_frame(STDIN, b"abc\n")
        c.send_frame(HANGUP)
        assert c.output() == (b"abc\ndone\n", b"", 0)
    finally:
        c.close()
    c = Conn(service)
    try:
        exec_call(c, ident, ["no-such-command"])
        out, err, code = c.output()
        assert code == 127 and err
    finally:
        c.close()
    ok(service, f"{PODMAN}.KillContainer", {"name": ident, "signal": 9})


def test_attach_over_upgrade(service):
    ident = create(service, "sh", "-c", "read line; echo got $line; echo bye >&2; exit 4", interactive=True)
    c = Conn(service)
    try:
        r = c.call(f"{PODMAN}.Attach", {"name": ident, "detachKeys": "", "start": True}, upgrade=True)
        assert r == {"parameters": {}}
        c.send_frame(STDIN, b"hello\n")
        out, err, code = c.output()
        assert (out, code) == (b"got hello\n", 4) and b"bye" in err
    finally:
        c.close()
    # a running container; the client hangs up: it runs on
    ident = create(service, "sh", "-c", "while true; do echo up; sleep 0.2; done")
    ok(service, f"{PODMAN}.StartContainer", {"name": ident})
    c = Conn(service)
    try:
        c.call(f"{PODMAN}.Attach", {"name": ident, "detachKeys": "", "start": False}, upgrade=True)
        kind, payload = c.frame()
        assert kind == STDOUT and b"up" in payload
        c.send_frame(HANGUP)
    finally:
        c.close()
    time.sleep(0.5)
    assert status(service, ident) == "running"
    ok(service, f"{PODMAN}.StopContainer", {"name": ident, "timeout": 0})


def test_upgrade_methods_need_upgrade(service):
    ident = create(service, "sleep", "60")
    r = call(service, f"{PODMAN}.Attach", {"name": ident, "detachKeys": "", "start": False})
    assert r["error"] == f"{PODMAN}.ErrorOccurred" and "upgrade" in r["parameters"]["reason"]
    c = Conn(service)
    try:
        r = exec_call(c, ident, ["true"])
        assert r["error"] == f"{PODMAN}.InvalidState"  # not running
        r = c.call(f"{PODMAN}.ExecContainer", {"opts": {"name": ident, "tty": False, "privileged": False,
                                                       "cmd": ["true"]}})
        assert r["error"] == f"{PODMAN}.ErrorOccurred"
    finally:
        c.close()


def test_attach_end_of_input_and_resize(service):
    """A stdin frame of length 0 closes the container's input; a resize frame sizes its terminal."""
    ident = create(service, "sh", "-c", "cat; echo eof", interactive=True)
    c = Conn(service)
    try:
        c.call(f"{PODMAN}.Attach", {"name": ident, "detachKeys": "", "start": True}, upgrade=True)
        c.send_frame(STDIN, b"one\n")
        c.send_frame(STDIN)
        assert c.output() == (b"one\neof\n", b"", 0)
    finally:
        c.close()
    # conmon applies a resize (its winsz fifo) and input (the attach socket) in no fixed order, so the
    # container asks again until the size is there
    ident = create(service, "sh", "-c", 'read x; for i in $(seq 100); do s=$(stty size 2>/dev/null) && '
                    'break; sleep 0.1; done; echo "$s"', interactive=True, tty=True)
    c = Conn(service)
    try:
        c.call(f"{PODMAN}.Attach", {"name": ident, "detachKeys": "", "start": True}, upgrade=True)
        c.send_frame(RESIZE, b'{"Width": 101, "Height": 33}')
        c.send_frame(STDIN, b"go\r")
        out, err, code = c.output()
        assert code == 0 and out.split()[-2:] == [b"33", b"101"], (out, err)
    finally:
        c.close()


def test_exec_end_of_input(service):
    ident = create(service, "sleep", "60")
    ok(service, f"{PODMAN}.StartContainer", {"name": ident})
    c = Conn(service)
    try:
        exec_call(c, ident, ["sh", "-c", "cat; echo done; exit 5"])
        c.send_frame(STDIN, b"abc\n")
        c.send_frame(STDIN)
        assert c.output() == (b"abc\ndone\n", b"", 5)
    finally:
        c.close()
    ok(service, f"{PODMAN}.KillContainer", {"name": ident, "signal": 9})


def test_export_to_a_temporary_file(service):
    """Without a path the tarball goes to a temporary file on the service's side, fetched with ReceiveFile."""
    ident = create(service, "true")
    path = ok(service, f"{PODMAN}.ExportContainer", {"name": ident, "path": ""})["tarfile"]
    c = Conn(service)
    try:
        r = c.call(f"{PODMAN}.ReceiveFile", {"path": path, "delete": True}, upgrade=True)
        length = r["parameters"]["len"]
        c._fill(lambda: len(c.buf) >= length)
        assert length > 10000 and len(c.buf) == length
    finally:
        c.close()
    deadline = time.monotonic() + 30  # deleted once the last byte is sent, which may be after we read it
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not os.path.exists(path)
    r = call(service, f"{PODMAN}.ExportContainer", {"name": "nosuch", "path": ""})
    assert r["error"] == f"{PODMAN}.ContainerNotFound"


def test_events_until_end_with_an_empty_event(service):
    create(service, "true", name="evu")
    c = Conn(service)
    try:
        until = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time()))
        replies = list(c.stream(f"{PODMAN}.GetEvents", {"filter": ["container=evu"], "since": "", "until": until}))
    finally:
        c.close()
    assert [r["parameters"]["events"]["status"] for r in replies] == ["create", ""]
    assert replies[-1]["parameters"]["events"] == dict.fromkeys(("id", "image", "name", "status", "time", "type"), "")
