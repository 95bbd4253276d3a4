# SPDX-License-Identifier: LGPL-2.1-or-later
"""Remote mode, the container commands that talk to a container: foreground run, start -a, attach, exec,
top, stats, diff, export, commit, mount, umount, events, container exists and container prune print what
local mode prints and exit with the same code."""

import os
import re
import signal
import subprocess
import time

import pytest

from remotelib import TIMEOUT, remote, remote_run, same  # noqa: F401 (remote is a fixture)


def env():
    e = dict(os.environ)
    for k in ("CONTAINER_HOST", "PODMAN_VARLINK_ADDRESS", "PODMAN_VARLINK_BRIDGE"):
        e.pop(k, None)
    return e


def go(remote, far, *args, input=b"", text=True):
    """Run a command locally (far False) or remotely, with input on its standard input."""
    cli, store, address = remote
    how = ["--url", address] if far else store
    if text and isinstance(input, str):
        input = input.encode()
    p = subprocess.run([cli, *how, *args], input=input, capture_output=True, timeout=TIMEOUT, env=env())
    if text:
        p.stdout, p.stderr = p.stdout.decode(), p.stderr.decode()
    return p


def both(remote, make_args, input=b"", text=True):
    """make_args(tag) gives the arguments for each mode ("l" and "r", so names do not collide); the two runs
    must print the same and exit alike. Returns the local run."""
    local = go(remote, False, *make_args("l"), input=input, text=text)
    far = go(remote, True, *make_args("r"), input=input, text=text)
    assert (far.stdout, far.returncode) == (local.stdout, local.returncode), (local.stderr, far.stderr)
    return local


def tty(remote, far, *args, input=""):
    """Run under a terminal (script(1)); its output, with the terminal's line endings."""
    cli, store, address = remote
    how = ["--url", address] if far else store
    cmd = "stty rows 33 cols 101; " + " ".join(f"'{a}'" for a in [cli, *how, *args])
    p = subprocess.run(["script", "-qefc", cmd, "/dev/null"], input=input.encode(), capture_output=True,
                       timeout=TIMEOUT, env=env())
    return p.stdout.decode(), p.returncode


def test_run_foreground(remote):
    both(remote, lambda t: ["run", "--rm", "busybox", "echo", "hello"])
    p = both(remote, lambda t: ["run", "--name", f"fg-{t}", "busybox", "sh", "-c", "echo out; echo err >&2; exit 3"])
    assert p.stdout == "out\n" and p.returncode == 3
    far = go(remote, True, "run", "--rm", "busybox", "sh", "-c", "echo err >&2")
    assert far.stderr == "err\n"
    for args in (["busybox", "nosuchcommand"], ["busybox", "/etc"], ["nosuchimage", "true"],
                 ["--badflag", "busybox"], ["busybox", "sh", "-c", "exit 130"]):
        p = both(remote, lambda t: ["run", "--rm", *args])
        assert p.returncode != 0
    assert both(remote, lambda t: ["run", "--rm", "busybox", "nosuchcommand"]).returncode == 127
    # --rm removed every container, run or not; the named ones stay
    same(remote, "ps", "-a", "--format", "{{.Names}} {{.Status}}")
    assert set(remote_run(remote, "ps", "-aq", "--no-trunc").split()) == {
        remote_run(remote, "inspect", "--format", "{{.Id}}", n) for n in ("fg-l", "fg-r")}


def test_run_stdin(remote):
    data = "".join(f"line {i}\n" for i in range(3000))
    p = both(remote, lambda t: ["run", "-i", "--rm", "busybox", "sh", "-c", "cat; echo done"], input=data)
    assert p.stdout == data + "done\n"
    # without -i the container reads nothing
    p = both(remote, lambda t: ["run", "--rm", "busybox", "sh", "-c", "cat; echo done"], input="ignored\n")
    assert p.stdout == "done\n"
    p = both(remote, lambda t: ["run", "-i", "--rm", "busybox", "sh", "-c", "read x; exit $x"], input="42\n")
    assert p.returncode == 42


def test_run_detached_cidfile(remote, tmp_path):
    cid = tmp_path / "cid"
    out = remote_run(remote, "run", "-d", "--cidfile", str(cid), "busybox", "true")
    assert cid.read_text() == out and len(out) == 64
    p = go(remote, True, "run", "-d", "--cidfile", str(cid), "busybox", "true")
    assert p.returncode == 125 and "cidfile" in p.stderr


def test_run_tty(remote):
    local = tty(remote, False, "run", "--rm", "-t", "busybox", "sh", "-c", "echo hi; test -t 1 && echo tty")
    far = tty(remote, True, "run", "--rm", "-t", "busybox", "sh", "-c", "echo hi; test -t 1 && echo tty")
    assert far == local and local[0].replace("\r", "") == "hi\ntty\n"
    # -it: the input goes through the terminal, the size of the client's terminal reaches the container
    # the size and the input reach conmon by different paths, in no fixed order: ask until the size is there
    script = 'read x; echo got $x; for i in $(seq 100); do s=$(stty size 2>/dev/null) && break; sleep 0.1; done; echo "$s"'
    local = tty(remote, False, "run", "--rm", "-it", "busybox", "sh", "-c", script, input="abc\n")
    far = tty(remote, True, "run", "--rm", "-it", "busybox", "sh", "-c", script, input="abc\n")
    assert "got abc" in far[0] and far[1] == local[1] == 0
    assert far[0].split()[-2:] == local[0].split()[-2:] == ["33", "101"]


def test_start_attach(remote):
    for t in ("l", "r"):
        remote_run(remote, "create", "--name", f"sa-{t}", "busybox", "sh", "-c", "echo out; echo err >&2; exit 2")
        remote_run(remote, "create", "-i", "--name", f"si-{t}", "busybox", "sh", "-c", "read x; echo got $x")
    p = both(remote, lambda t: ["start", "-a", f"sa-{t}"])
    assert (p.stdout, p.returncode) == ("out\n", 2)
    p = both(remote, lambda t: ["start", "-i", f"si-{t}"], input="hello\n")
    assert (p.stdout, p.returncode) == ("got hello\n", 0)
    assert both(remote, lambda t: ["start", "-a", "nosuch"]).returncode == 125
    assert both(remote, lambda t: ["start", "-a", f"sa-{t}", f"si-{t}"]).returncode == 125


def test_attach(remote):
    for t in ("l", "r"):
        remote_run(remote, "run", "-d", "-i", "--name", f"at-{t}", "busybox", "sh", "-c",
                   "read x; echo got $x; echo bye >&2; exit 5")
    p = both(remote, lambda t: ["attach", f"at-{t}"], input="hello\n")
    assert (p.stdout, p.returncode) == ("got hello\n", 5)
    assert both(remote, lambda t: ["attach", f"at-{t}"]).returncode == 125  # it is not running any more
    assert both(remote, lambda t: ["attach", "nosuch"]).returncode == 125


def test_sig_proxy(remote):
    cli, store, address = remote
    p = subprocess.Popen([cli, "--url", address, "run", "--rm", "busybox", "sh", "-c",
                          "trap 'echo got TERM; exit 7' TERM; echo ready; while :; do sleep 0.1; done"],
                         stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env())
    try:
        assert p.stdout.readline() == "ready\n"
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=TIMEOUT)
    finally:
        p.kill()
    assert (out, p.returncode) == ("got TERM\n", 7)


def test_exec(remote):
    remote_run(remote, "run", "-d", "--name", "ex", "busybox", "sleep", "300")
    remote_run(remote, "create", "--name", "ex-stopped", "busybox", "true")
    for args in (["ex", "echo", "hi"], ["ex", "sh", "-c", "echo out; echo err >&2; exit 4"],
                 ["-e", "A=1", "-e", "B=two", "ex", "sh", "-c", "echo $A $B"],
                 ["-u", "1000:1000", "ex", "id"], ["-w", "/etc", "ex", "pwd"], ["--privileged", "ex", "true"],
                 ["ex", "nosuchcommand"], ["ex", "/etc"], ["nosuch", "true"], ["ex-stopped", "true"], ["ex"],
                 ["ex", "cat"]):
        same(remote, "exec", *args)
    p = both(remote, lambda t: ["exec", "-i", "ex", "sh", "-c", "cat; exit 3"], input="some input\n")
    assert (p.stdout, p.returncode) == ("some input\n", 3)
    assert both(remote, lambda t: ["exec", "ex", "nosuchcommand"]).returncode == 127
    # -d: the command runs on in the container
    p = go(remote, True, "exec", "-d", "ex", "sh", "-c", "echo detached > /tmp/marker; sleep 300")
    assert (p.stdout, p.returncode) == ("", 0), p.stderr
    assert remote_run(remote, "exec", "ex", "sh", "-c", "while ! test -s /tmp/marker; do sleep 0.1; done; "
                                                        "cat /tmp/marker") == "detached"


def test_exec_tty(remote):
    remote_run(remote, "run", "-d", "--name", "ext", "busybox", "sleep", "300")
    for args in (["-t", "ext", "sh", "-c", "test -t 0 && echo tty; exit 3"], ["ext", "echo", "plain"]):
        assert tty(remote, True, "exec", *args) == tty(remote, False, "exec", *args)
    out, code = tty(remote, True, "exec", "-it", "ext", "sh", "-c", "read x; echo got $x", input="abc\n")
    assert "got abc" in out and code == 0


def test_top_stats_diff(remote):
    remote_run(remote, "run", "-d", "--name", "ts", "busybox", "sh", "-c", "mkdir /new; rm -r /home; sleep 300")
    remote_run(remote, "exec", "ts", "sh", "-c", "while test -d /home; do sleep 0.1; done")
    for args in (["top", "ts", "pid", "args"], ["top", "ts", "user", "comm", "ppid"], ["top", "nosuch"],
                 ["container", "top", "ts", "args"],
                 ["stats", "--no-stream", "--format", "{{.ID}} {{.Name}} {{.PIDS}} {{.NetIO}}"],
                 ["stats", "--no-stream", "--format", "{{.Name}}", "ts"], ["stats", "--no-stream", "nosuch"],
                 ["diff", "ts"], ["diff", "--format", "json", "ts"], ["container", "diff", "ts"],
                 ["diff", "--format", "xml", "ts"], ["diff", "nosuch"]):
        same(remote, *args)
    local = go(remote, False, "top", "ts")
    far = go(remote, True, "top", "ts")
    # column widths follow the values (ELAPSED grows), so compare the header's words
    assert far.stdout.splitlines()[0].split() == local.stdout.splitlines()[0].split() and far.returncode == 0
    assert "sleep 300" in far.stdout
    head = go(remote, True, "stats", "--no-stream", "ts").stdout.splitlines()[0]
    assert head.split() == go(remote, False, "stats", "--no-stream", "ts").stdout.splitlines()[0].split()


def test_export_commit(remote, tmp_path):
    remote_run(remote, "run", "-d", "--name", "ec", "busybox", "sh", "-c", "echo data > /file; sleep 300")
    remote_run(remote, "exec", "ec", "sh", "-c", "while ! test -s /file; do sleep 0.1; done")
    temps = {n for n in os.listdir("/var/tmp") if n.startswith("cpod-export-")}
    local = go(remote, False, "export", "ec", text=False)
    far = go(remote, True, "export", "ec", text=False)
    assert far.returncode == local.returncode == 0 and far.stdout == local.stdout and len(far.stdout) > 10000
    assert go(remote, True, "export", "-o", str(tmp_path / "x.tar"), "ec").returncode == 0
    assert (tmp_path / "x.tar").read_bytes() == local.stdout
    same(remote, "export", "nosuch")
    same(remote, "export", "-o", str(tmp_path / "no" / "such" / "dir.tar"), "ec")
    # fetched and removed: the service deletes the file once its last byte is sent, maybe after we exit
    deadline = time.monotonic() + 30
    while {n for n in os.listdir("/var/tmp") if n.startswith("cpod-export-")} != temps and time.monotonic() < deadline:
        time.sleep(0.05)
    assert {n for n in os.listdir("/var/tmp") if n.startswith("cpod-export-")} == temps

    p = go(remote, True, "commit", "-a", "someone", "-m", "a message", "-c", "LABEL k=v", "-c", "ENV E=1", "ec",
           "committed:r")
    assert p.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}\n", p.stdout), p.stderr
    fmt = "{{.Author}}|{{.Comment}}|{{.Config.Labels}}|{{.Config.Env}}"
    out = remote_run(remote, "image", "inspect", "--format", fmt, "committed:r")
    assert out.startswith("someone|a message|map[k:v]|[PATH=") and out.endswith(" E=1]"), out
    assert remote_run(remote, "run", "--rm", "committed:r", "cat", "/file") == "data"
    p = go(remote, True, "commit", "-p", "-q", "-f", "docker", "ec")
    assert p.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}\n", p.stdout), p.stderr
    for args in (["nosuch"], ["-f", "bogus", "ec"], ["ec", "bad::name"], []):
        same(remote, "commit", *args)


def test_mount(remote):
    remote_run(remote, "create", "--name", "mt", "busybox", "true")
    same(remote, "mount")
    p = same(remote, "mount", "mt")
    assert p.stdout.strip().endswith("/merged")
    same(remote, "mount")
    same(remote, "mount", "--no-trunc")
    same(remote, "mount", "nosuch")
    assert remote_run(remote, "umount", "mt") == "mt"
    same(remote, "mount")
    same(remote, "umount", "nosuch")
    same(remote, "mount", "-a")
    assert remote_run(remote, "unmount", "-a") == ""
    same(remote, "mount")


def test_events(remote):
    remote_run(remote, "run", "--rm", "--name", "ev", "busybox", "true")
    remote_run(remote, "create", "--name", "ev2", "busybox", "true")
    for args in (["--stream=false"], ["--stream=false", "--format", "json"],
                 ["--stream=false", "--filter", "event=create", "--filter", "event=remove"],
                 ["--stream=false", "--filter", "container=ev", "--format", "{{.Name}} {{.Status}}"],
                 ["--stream=false", "--filter", "type=container", "--filter", "event=start"],
                 ["--since", "10m", "--until", "0s"], ["--until", "0s", "--format", "{{.Status}}"],
                 ["--stream=false", "--since", "2000-01-01T00:00:00Z", "--format", "{{.ID}}"],
                 ["--stream=false", "--filter", "nonsense"], ["--stream=false", "--format", "{{.Bad"],
                 ["--stream=false", "--until", "not a time"]):
        same(remote, "events", *args)
    assert "ev2 create" in same(remote, "events", "--stream=false", "--format", "{{.Name}} {{.Status}}").stdout


def test_events_follow(remote):
    cli, store, address = remote
    p = subprocess.Popen([cli, "--url", address, "events", "--filter", "container=evf", "--format",
                          "{{.Name}} {{.Status}}"], stdout=subprocess.PIPE, text=True, env=env())
    try:
        remote_run(remote, "create", "--name", "evf", "busybox", "true")
        assert p.stdout.readline() == "evf create\n"
        remote_run(remote, "rm", "evf")
        assert p.stdout.readline() == "evf remove\n"
    finally:
        p.kill()
        p.wait()


def test_exists_prune(remote):
    remote_run(remote, "create", "--name", "pr1", "busybox", "true")
    remote_run(remote, "run", "-d", "--name", "pr2", "busybox", "sleep", "300")
    for args in (["container", "exists", "pr1"], ["container", "exists", "nosuch"], ["container", "exists"],
                 ["container", "prune", "--filter", "x=y"]):
        same(remote, *args)
    p = go(remote, True, "container", "prune", input="n\n")
    assert (p.stdout, p.returncode) == ("", 0)
    ids = {remote_run(remote, "inspect", "--format", "{{.Id}}", "pr1")}
    p = go(remote, True, "container", "prune", "-f")
    assert p.returncode == 0 and set(p.stdout.split()) == ids, p.stderr
    same(remote, "container", "exists", "pr1")
    same(remote, "ps", "-a", "--format", "{{.Names}}")


def test_run_mounts(remote, tmp_path):
    (tmp_path / "f").write_text("bound\n")
    script = "cat /b/f /m/f; echo x > /v/x; ls /v; df /t | tail -1 | awk '{print $2}'; touch /b/y"
    p = both(remote, lambda t: ["run", "--rm", "-v", f"{tmp_path}:/b:ro", "-v", f"vol-{t}:/v", "--tmpfs",
                                "/t:size=1m", "--mount", f"type=bind,src={tmp_path},dst=/m", "busybox", "sh", "-c",
                                script])
    assert p.stdout == "bound\nbound\nx\n1024\n" and p.returncode == 1
    # anonymous volumes go through io.cpod's CreateContainer
    p = both(remote, lambda t: ["run", "--rm", "-v", "/anonymous", "--mount", "type=volume,dst=/m2", "busybox", "sh",
                                "-c", "echo x > /anonymous/f && cat /anonymous/f && ls -d /m2"])
    assert p.stdout == "x\n/m2\n" and p.returncode == 0


def test_bridge(remote):
    """Attach and exec sessions through PODMAN_VARLINK_BRIDGE, whose upgraded connection is a pipe pair."""
    from conftest import build_dir
    cli, store, address = remote
    bridge = build_dir() / "src" / "varlink" / "varlink"
    if not os.access(bridge, os.X_OK):
        pytest.skip("varlink is not built")
    e = env()
    e["PODMAN_VARLINK_BRIDGE"] = f"{bridge} bridge --connect {address}"
    p = subprocess.run([cli, "--remote", "run", "-i", "--rm", "busybox", "sh", "-c", "cat; exit 3"],
                       input="through\n", capture_output=True, text=True, timeout=TIMEOUT, env=e)
    assert (p.stdout, p.returncode) == ("through\n", 3), p.stderr
    remote_run(remote, "run", "-d", "--name", "br", "busybox", "sleep", "300")
    p = subprocess.run([cli, "--remote", "exec", "-i", "br", "sh", "-c", "cat; exit 4"], input="exec\n",
                       capture_output=True, text=True, timeout=TIMEOUT, env=e)
    assert (p.stdout, p.returncode) == ("exec\n", 4), p.stderr


def test_detach_keys(remote):
    """ctrl-p,ctrl-q typed at the terminal detaches: exit code 0, the container runs on."""
    cli, store, address = remote
    for t, how in (("l", store), ("r", ["--url", address])):
        cmd = " ".join([cli, *how, "run", "-it", "--name", f"det-{t}", "busybox", "sh"])
        p = subprocess.Popen(["script", "-qefc", cmd, "/dev/null"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             env=env())
        try:
            seen = b""
            while b"# " not in seen:
                chunk = os.read(p.stdout.fileno(), 4096)
                assert chunk, seen
                seen += chunk
            p.stdin.write(b"\x10\x11")
            p.stdin.flush()
            p.communicate(timeout=TIMEOUT)
        finally:
            p.kill()
        assert p.returncode == 0
    same(remote, "ps", "--format", "{{.Names}} {{.State}}", "--filter", "name=det")
    assert "det-r running" in remote_run(remote, "ps", "--format", "{{.Names}} {{.State}}")


# ---- the flags io.podman's Create cannot carry (io.cpod's CreateContainer) ----

def inspect_doc(remote, name):
    import json
    doc = json.loads(remote_run(remote, "inspect", name))[0]
    mounts = sorted((m["Type"], m["Destination"], m["RW"]) for m in doc["Mounts"])
    return doc["OCIRuntime"], mounts, doc["Config"]["Cmd"], doc["Config"]["Labels"]


def test_create_extra_flags(remote):
    flags = ["--runtime", "runc", "-v", "/anon", "-v", "/anon-ro:ro", "--dns", "9.9.9.9", "--add-host", "foo:1.2.3.4",
             "--network", "bridge", "--network-alias", "al", "--ip", "10.88.0.211", "--mac-address",
             "92:d0:c6:0a:29:35", "-p", "18095:80", "-P", "-l", "k=v"]
    for t in ("l", "r"):
        p = go(remote, t == "r", "create", "--name", f"cx-{t}", *flags, "busybox:httpd")
        assert p.returncode == 0 and re.fullmatch(r"[0-9a-f]{64}\n", p.stdout), p.stderr
    assert inspect_doc(remote, "cx-r") == inspect_doc(remote, "cx-l")
    assert inspect_doc(remote, "cx-r")[0] == "runc"
    local = go(remote, False, "port", "cx-l")
    far = go(remote, True, "port", "cx-r")
    assert (far.stdout, far.returncode) == (local.stdout, local.returncode) and "18095" in far.stdout
    # the same errors and exit codes as local mode
    for args in (["--ip", "bad"], ["--mac-address", "nope"], ["--add-host", "nocolon"], ["--runtime", "/no/such"],
                 ["-p", "notaport"], ["--network-alias", "a", "--network", "nosuchnet"]):
        both(remote, lambda t: ["run", "--rm", *args, "busybox", "true"])
    assert both(remote, lambda t: ["run", "--rm", "--ip", "bad", "busybox", "true"]).returncode == 125


def test_run_network_flags(remote):
    script = ("cat /etc/resolv.conf; grep foo /etc/hosts; ip addr show eth0 | grep -E 'ether|inet '; "
              "nslookup al 2>/dev/null | grep -c 10.88.0.212 || true")
    p = same(remote, "run", "--rm", "--network", "bridge", "--dns", "9.9.9.9", "--add-host", "foo:1.2.3.4",
             "--network-alias", "al", "--ip", "10.88.0.212", "--mac-address", "92:d0:c6:0a:29:36", "busybox", "sh",
             "-c", script)
    assert "nameserver 9.9.9.9" in p.stdout and "1.2.3.4\tfoo" in p.stdout and p.returncode == 0
    assert "92:d0:c6:0a:29:36" in p.stdout and "10.88.0.212/" in p.stdout
    p = same(remote, "run", "--rm", "--runtime", "runc", "busybox", "echo", "ran")
    assert (p.stdout, p.returncode) == ("ran\n", 0)


def test_exec_detached_errors(remote):
    remote_run(remote, "run", "-d", "--name", "exd", "busybox", "sleep", "300")
    remote_run(remote, "create", "--name", "exd-stopped", "busybox", "true")
    for args in (["exd", "nosuchcommand"], ["exd", "/etc"], ["nosuch", "true"], ["exd-stopped", "true"],
                 ["-u", "nosuchuser", "exd", "true"], ["exd", "true"], ["exd"]):
        same(remote, "exec", "-d", *args)
    assert go(remote, True, "exec", "-d", "exd", "nosuchcommand").returncode == 127
    assert go(remote, True, "exec", "-d", "exd", "/etc").returncode == 126


def test_exec_tty_size(remote):
    """The exec's terminal has the size of cpod's, with -t alone as with -it."""
    remote_run(remote, "run", "-d", "--name", "exs", "busybox", "sleep", "300")
    # the runtime hands the terminal over as the command starts, so the size may arrive just after it
    size = "for i in $(seq 100); do busybox stty size 2>/dev/null && exit; sleep 0.1; done; echo none"
    for flags in (["-t"], ["-it"]):
        for attempt in range(3):
            local = tty(remote, False, "exec", *flags, "exs", "sh", "-c", size)
            far = tty(remote, True, "exec", *flags, "exs", "sh", "-c", size)
            # seen once under load: a local exec -t that printed nothing at all (a known open problem
            # of the terminal relay, not of remote mode); ask again rather than compare an empty run
            if local[0].strip() and far[0].strip():
                break
        assert far[1] == local[1] == 0
        # the end of the input echoes as ^@ (or ^D) somewhere in the output
        words = [re.sub(r"\^.|\x04", "", o).split() for o in (local[0], far[0])]
        assert words[1] == words[0] == ["33", "101"], (local, far)
