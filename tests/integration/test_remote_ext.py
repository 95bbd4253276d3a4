# SPDX-License-Identifier: LGPL-2.1-or-later
"""Remote mode over io.cpod: network create/ls/inspect/exists/rm/prune/connect/disconnect, play kube (the
YAML read by the client), rename, port, cp both ways, image export (the same bytes), image mount/umount, info,
system check/df/reset. Each prints what local mode prints on the same store and exits alike; the changes a
remote command makes are seen locally. The service commands themselves stay local."""

import json
import os
import subprocess
import tarfile

from remotelib import remote, run, same, remote_run  # noqa: F401 (remote is a fixture)


def local(remote, *args):
    cli, store, _ = remote
    p = run([cli, *store, *args])
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def far(remote, *args):
    cli, _, address = remote
    return run([cli, "--url", address, *args])


def both_fail_alike(remote, *args):
    """Same exit code and the same error message on both sides."""
    cli, store, address = remote
    lo = run([cli, *store, *args])
    re = run([cli, "--url", address, *args])
    assert lo.returncode != 0
    assert (re.returncode, re.stdout, re.stderr) == (lo.returncode, lo.stdout, lo.stderr), args
    return lo


def test_network_commands(remote):
    assert remote_run(remote, "network", "create", "--label", "k=v", "--subnet", "10.124.1.0/24",
                      "--gateway", "10.124.1.1", "rnet") == "rnet"
    assert local(remote, "network", "exists", "rnet") == ""
    created = remote_run(remote, "network", "create")
    for args in (["network", "ls"], ["network", "list"], ["network", "ls", "--no-trunc"],
                 ["network", "ls", "-q"], ["network", "ls", "--noheading"],
                 ["network", "ls", "--format", "json"], ["network", "ls", "--format", "{{.Name}} {{.Labels}}"],
                 ["network", "ls", "--filter", "label=k=v"], ["network", "ls", "--filter", "name=rnet"],
                 ["network", "inspect", "rnet"], ["network", "inspect", "rnet", created],
                 ["network", "inspect", "--format", "{{.Name}}/{{.Driver}}", "rnet"],
                 ["network", "exists", "rnet"], ["network", "exists", "nope"]):
        same(remote, *args)
    for args in (["network", "inspect", "nope"], ["network", "inspect", "rnet", "nope"],
                 ["network", "rm", "nope"], ["network", "rm", "podman"], ["network", "ls", "--filter", "x=y"],
                 ["network", "create", "rnet"], ["network", "create", "--subnet", "10.124.1.0/24", "other"],
                 ["network", "create", "--driver", "bogus"], ["network", "connect", "nope", "nope"],
                 ["network", "disconnect", "rnet", "nope"], ["network", "ls", "--bogus"],
                 ["network", "exists"]):
        both_fail_alike(remote, *args)
    same(remote, "network", "ls", "--help")
    same(remote, "network", "create", "--help")


def test_network_rm_prune_connect(remote):
    remote_run(remote, "network", "create", "used")
    remote_run(remote, "network", "create", "other")
    remote_run(remote, "network", "create", "unused")
    local(remote, "create", "--name", "user", "--network", "used", "busybox", "true")
    # in use: exit code 2 and podman's message on both sides
    lo = both_fail_alike(remote, "network", "rm", "used")
    assert lo.returncode == 2
    remote_run(remote, "network", "connect", "--alias", "a1", "other", "user")
    both_fail_alike(remote, "network", "connect", "other", "user")
    assert both_fail_alike(remote, "network", "rm", "other").returncode == 2
    remote_run(remote, "network", "disconnect", "other", "user")
    assert remote_run(remote, "network", "prune", "-f").split() == ["other", "unused"]
    assert local(remote, "network", "ls", "-q").split() == ["podman", "used"]
    assert remote_run(remote, "network", "rm", "-f", "used") == "used"
    assert local(remote, "ps", "-aq") == ""
    # prune asks first; "no" keeps everything
    remote_run(remote, "network", "create", "kept")
    cli, _, address = remote
    p = subprocess.run([cli, "--url", address, "network", "prune"], input="n\n", capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and p.stdout == ""
    assert "kept" in local(remote, "network", "ls", "-q").split()


POD_YAML = """\
apiVersion: v1
kind: Pod
metadata:
  name: rpod
spec:
  containers:
  - name: sleeper
    image: busybox
    command: ["sleep", "1000"]
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: rclaim
"""


def test_play_kube(remote, tmp_path):
    f = tmp_path / "pod.yaml"
    f.write_text(POD_YAML)
    out = remote_run(remote, "play", "kube", str(f))
    pod = json.loads(local(remote, "pod", "inspect", "rpod"))
    ctrs = [c["Id"] for c in pod["Containers"] if c["Id"] != pod["InfraContainerID"]]
    assert out.splitlines() == ["Volume:", "rclaim", "Pod:", pod["Id"], "Containers:", *ctrs]
    assert local(remote, "volume", "ls", "-q") == "rclaim"
    out = remote_run(remote, "play", "kube", "--down", str(f))
    assert out.splitlines() == ["Pods stopped:", pod["Id"], "Pods removed:", pod["Id"]]
    assert run([remote[0], *remote[1], "pod", "exists", "rpod"]).returncode == 1
    # nothing left to take down: both print nothing
    same(remote, "play", "kube", "--down", str(f))
    # the file's errors are the client's, named by the path, as in local mode
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: [\n")
    both_fail_alike(remote, "play", "kube", str(bad))
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text("apiVersion: v1\nkind: Deployment\nmetadata:\n  name: x\n")
    both_fail_alike(remote, "play", "kube", str(wrong))
    both_fail_alike(remote, "play", "kube", str(tmp_path / "missing.yaml"))
    same(remote, "play", "kube", "--help")


def test_rename_and_port(remote):
    local(remote, "create", "--name", "before", "-p", "18081:80", "-p", "127.0.0.1::53/udp", "busybox")
    remote_run(remote, "rename", "before", "after")
    assert local(remote, "ps", "-a", "--format", "{{.Names}}") == "after"
    remote_run(remote, "container", "rename", "after", "later")
    assert local(remote, "ps", "-a", "--format", "{{.Names}}") == "later"
    both_fail_alike(remote, "rename", "before", "x")
    both_fail_alike(remote, "rename", "later")
    for args in (["port", "later"], ["port", "later", "80"], ["port", "later", "80/tcp"], ["port", "later", "53/udp"],
                 ["port", "later", "99"], ["container", "port", "later"], ["port", "-a"], ["port", "--help"]):
        same(remote, *args)
    both_fail_alike(remote, "port", "nope")
    both_fail_alike(remote, "port")


def tree(root):
    """Relative paths, kinds, modes and contents under root."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ("l", os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ("d", st.st_mode & 0o7777)
            else:
                with open(p, "rb") as fh:
                    out[rel] = ("f", st.st_mode & 0o7777, fh.read())
    return out


def test_cp_both_ways(remote, tmp_path):
    local(remote, "create", "--name", "box", "busybox")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "f").write_text("hello\n")
    (src / "x").write_text("x\n")
    os.chmod(src / "x", 0o751)
    os.symlink("sub/f", src / "link")
    # into the container, remote; out again, local and remote, into fresh places
    remote_run(remote, "cp", str(src), "box:/tmp/")
    local(remote, "cp", "box:/tmp/src", str(tmp_path / "lo"))
    remote_run(remote, "cp", "box:/tmp/src", str(tmp_path / "re"))
    assert tree(tmp_path / "re") == tree(tmp_path / "lo") == tree(src)
    # the rules of `cpod cp`: into an existing directory, a directory's contents, a file renamed
    for spec, dst in (("box:/tmp/src", "exists"), ("box:/tmp/src/.", "contents"), ("box:/tmp/src/x", "file"),
                      ("box:/tmp/src/sub/", "sub2")):
        (tmp_path / "l").mkdir(exist_ok=True)
        (tmp_path / "r").mkdir(exist_ok=True)
        if dst == "exists":
            (tmp_path / "l" / dst).mkdir()
            (tmp_path / "r" / dst).mkdir()
        local(remote, "cp", spec, str(tmp_path / "l" / dst))
        remote_run(remote, "cp", spec, str(tmp_path / "r" / dst))
    assert tree(tmp_path / "r") == tree(tmp_path / "l")
    # a single file in, then over an existing one; contents of a directory into another
    remote_run(remote, "cp", str(src / "x"), "box:/etc/x2")
    (tmp_path / "x3").write_text("replaced\n")
    remote_run(remote, "cp", str(tmp_path / "x3"), "box:/etc/x2")
    remote_run(remote, "cp", str(src) + "/.", "box:/srv")
    local(remote, "cp", "box:/etc/x2", str(tmp_path / "x2"))
    local(remote, "cp", "box:/srv", str(tmp_path / "srv"))
    assert (tmp_path / "x2").read_text() == "replaced\n"
    assert tree(tmp_path / "srv") == tree(src)


def test_cp_errors(remote, tmp_path):
    local(remote, "create", "--name", "box3", "busybox")
    (tmp_path / "f").write_text("f\n")
    for args in (["cp", "box3:/nonexistent", str(tmp_path / "o")], ["cp", str(tmp_path / "missing"), "box3:/tmp"],
                 ["cp", "nope:/etc", str(tmp_path / "o")], ["cp", str(tmp_path / "f"), "nope:/tmp"],
                 ["cp", "box3:/etc", "box3:/tmp"], ["cp", str(tmp_path / "f"), str(tmp_path / "g")],
                 ["cp", str(tmp_path / "f")], ["cp", str(tmp_path / "f"), "box3:/nonexistent/dir/"],
                 ["cp", "box3:/etc", str(tmp_path / "f")]):
        lo = both_fail_alike(remote, *args)
        assert lo.returncode == 125
    same(remote, "cp", "--help")


def test_system_commands(remote):
    for args in (["system", "check"], ["system", "df"], ["system", "df", "--format", "{{.Type}}:{{.Total}}"],
                 ["system", "df", "--format", "json"], ["system", "check", "--help"]):
        same(remote, *args)
    local(remote, "create", "busybox")
    same(remote, "system", "df")
    same(remote, "system", "check", "--repair")
    both_fail_alike(remote, "system", "df", "extra")
    remote_run(remote, "system", "reset", "--force")
    assert local(remote, "ps", "-aq") == "" and local(remote, "images", "-q") == ""
    same(remote, "system", "df")


def test_info(remote):
    fields = "{{.store.graph_root}} {{.store.run_root}} {{.store.images}} {{.store.graph_driver_name}} " \
             "{{.host.os}} {{.host.arch}} {{.host.hostname}} {{.podman.podman_version}} {{.registries.search}}"
    same(remote, "info", "--format", fields)
    same(remote, "system", "info", "--format", fields)
    same(remote, "info", "--help")
    both_fail_alike(remote, "info", "extra")
    lo = json.loads(local(remote, "info", "--format", "json"))
    re = json.loads(remote_run(remote, "system", "info", "--format", "json"))
    assert re.keys() == lo.keys() == {"host", "registries", "store", "podman"}
    for k in ("host", "store", "podman"):
        assert re[k].keys() == lo[k].keys()
    # the default output is YAML with the same members, in the same order
    keys = [line.split(":")[0] for line in local(remote, "info").splitlines()]
    assert keys == [line.split(":")[0] for line in remote_run(remote, "info").splitlines()]


def export_bytes(argv):
    """The tar `image export` writes to stdout."""
    p = subprocess.run(argv, capture_output=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def test_image_export(remote, tmp_path):
    cli, store, address = remote
    lo, re = tmp_path / "local.tar", tmp_path / "remote.tar"
    assert local(remote, "image", "export", "-o", str(lo), "busybox") == ""
    assert remote_run(remote, "image", "export", "--output", str(re), "busybox") == ""
    assert lo.read_bytes() == re.read_bytes()
    assert oct(re.stat().st_mode & 0o777) == oct(lo.stat().st_mode & 0o777)
    with tarfile.open(re) as t:
        assert "bin/busybox" in t.getnames() and "etc/os-release" in t.getnames()
    # to stdout, "-o -" too, by ID prefix: the same bytes
    image_id = json.loads(local(remote, "image", "inspect", "busybox"))[0]["Id"][:12]
    for args in (["busybox"], ["-o", "-", "busybox"], [image_id]):
        assert export_bytes([cli, "--url", address, "image", "export", *args]) == lo.read_bytes(), args
    # an existing file is replaced
    re.write_bytes(b"x" * 10_000_000)
    remote_run(remote, "image", "export", "-o", str(re), "busybox")
    assert re.read_bytes() == lo.read_bytes()
    # errors: the same message and exit code, and no file left where there was none
    for args in (["image", "export", "-o", str(tmp_path / "none.tar"), "nope"],
                 ["image", "export", "-o", str(tmp_path / "no" / "dir.tar"), "busybox"],
                 ["image", "export", "-o", str(tmp_path / "x.tar")], ["image", "export", "a", "b"],
                 ["image", "export", "--bogus", "busybox"], ["image", "export", "-o", "/dev/null", "not a ref!"]):
        assert both_fail_alike(remote, *args).returncode == 125
    assert not (tmp_path / "none.tar").exists() and not (tmp_path / "x.tar").exists()
    # a terminal is refused before anything is exported
    outs = []
    for argv in ([cli, *store], [cli, "--url", address]):
        primary, secondary = os.openpty()
        try:
            p = subprocess.run([*argv, "image", "export", "busybox"], stdout=secondary, stderr=subprocess.PIPE,
                               timeout=120)
        finally:
            os.close(secondary)
            os.close(primary)
        outs.append((p.returncode, p.stderr))
    assert outs[0] == outs[1] and outs[0][0] == 125 and b"terminal" in outs[0][1]
    same(remote, "image", "export", "--help")


def mounted(path):
    """Whether path is a mount point (a one-layer image is a bind mount: same device as its parent)."""
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == path for line in f)


def test_image_mount_umount(remote):
    cli, store, _ = remote
    image_id = json.loads(local(remote, "image", "inspect", "busybox"))[0]["Id"]
    path = remote_run(remote, "image", "mount", "busybox")
    assert os.path.isfile(os.path.join(path, "bin", "busybox")) and mounted(path)
    # the same mount point locally; the mount is counted, whoever made it
    assert local(remote, "image", "mount", image_id[:12]) == path
    assert remote_run(remote, "image", "umount", "busybox") == image_id
    assert mounted(path)
    assert local(remote, "image", "unmount", "busybox") == image_id
    assert not mounted(path)
    both_fail_alike(remote, "image", "umount", "busybox")  # not mounted
    # --force releases every count at once, on either side
    for side in (local, remote_run):
        side(remote, "image", "mount", "busybox")
        side(remote, "image", "mount", "busybox")
        assert side(remote, "image", "umount", "-f", "busybox") == image_id
        assert not mounted(path)
    # --all prints what it released, nothing when nothing is mounted
    for side in (local, remote_run):
        local(remote, "image", "mount", "busybox")
        local(remote, "image", "mount", "busybox:httpd")
        both = json.loads(local(remote, "image", "inspect", "busybox", "busybox:httpd"))
        assert sorted(side(remote, "image", "umount", "--all").split()) == sorted(i["Id"] for i in both)
        assert not mounted(path)
    same(remote, "image", "umount", "-a")
    # a name that is not an image: mount stops there, umount goes on with the others
    lo = both_fail_alike(remote, "image", "mount", "busybox", "nope", "busybox:httpd")
    assert lo.stdout == path + "\n"
    assert local(remote, "image", "umount", "-a") == image_id
    local(remote, "image", "mount", "busybox")
    lo = run([cli, *store, "image", "umount", "nope", "busybox"])
    local(remote, "image", "mount", "busybox")
    re = far(remote, "image", "umount", "nope", "busybox")
    assert (re.returncode, re.stdout, re.stderr) == (lo.returncode, lo.stdout, lo.stderr)
    assert (re.returncode, re.stdout) == (125, image_id + "\n") and "nope" in re.stderr
    assert not mounted(path)
    for args in (["image", "mount"], ["image", "umount"], ["image", "umount", "-a", "busybox"],
                 ["image", "mount", "--bogus", "busybox"], ["image", "umount", "nope"]):
        assert both_fail_alike(remote, *args).returncode == 125
    for args in (["image", "mount", "--help"], ["image", "umount", "--help"], ["image", "unmount", "-h"]):
        same(remote, *args)


def test_service_commands_stay_local(remote):
    cli, _, address = remote
    for args in (["system", "service"], ["varlink"], ["system", "service", "--timeout", "1", "unix:@x"],
                 ["--varlink=unix:@cpod-remote-test"]):
        p = run([cli, "--url", address, *args])
        assert p.returncode == 125 and p.stdout == "", args
        assert "serves the local store and cannot run in remote mode" in p.stderr, (args, p.stderr)
    same(remote, "varlink", "--help")
