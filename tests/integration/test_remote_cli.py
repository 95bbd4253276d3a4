# SPDX-License-Identifier: LGPL-2.1-or-later
"""Remote mode: `cpod --remote` against `cpod varlink` prints what local mode prints on the same store, through
--url, PODMAN_VARLINK_ADDRESS and a bridge; commands without a remote implementation fail clearly."""

import os

import pytest

from conftest import build_dir
from remotelib import TIMEOUT, remote, remote_run, run, same  # noqa: F401 (remote is a fixture)


IMAGE_VIEWS = [
    ["images"], ["images", "-q"], ["images", "--no-trunc"], ["images", "-a", "--digests"],
    ["images", "--format", "json"], ["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}} {{.Labels}}"],
    ["images", "--format", "table {{.ID}} {{.Size}}"], ["images", "--sort", "tag", "-n"],
    ["images", "busybox"], ["images", "--filter", "reference=*httpd*"], ["image", "ls", "-q", "--no-trunc"],
    ["image", "inspect", "busybox"], ["inspect", "busybox-httpd"], ["inspect", "--format", "{{.Id}}", "busybox"],
    ["history", "busybox"], ["history", "--no-trunc", "--format", "json", "busybox"],
    ["history", "-q", "busybox-httpd"], ["image", "inspect", "nosuch"], ["history", "nosuch"],
]


@pytest.mark.parametrize("args", IMAGE_VIEWS, ids=lambda a: " ".join(a))
def test_image_views(remote, args):
    same(remote, *args)


def test_version(remote):
    same(remote, "version")
    same(remote, "version", "--format", "{{.Client.Version}}")


def test_tag_untag_rmi(remote):
    same(remote, "tag", "busybox", "example.com/a:b", "c:d")
    same(remote, "images")
    remote_run(remote, "untag", "busybox", "c:d")
    same(remote, "images")
    cli, store, address = remote
    p = run([cli, "--url", address, "rmi", "example.com/a:b"])
    assert (p.returncode, p.stdout) == (0, "Untagged: example.com/a:b\n"), p.stderr
    same(remote, "rmi", "nosuch")
    same(remote, "rmi", "-i", "nosuch")
    same(remote, "tag", "nosuch", "x:y")


def test_containers(remote):
    remote_run(remote, "create", "--name", "r1", "busybox", "true")
    remote_run(remote, "create", "--name", "r2", "-l", "k=v", "-e", "A=1", "busybox", "sh", "-c",
               "echo out; echo err >&2; exit 3")
    remote_run(remote, "run", "-d", "--name", "r3", "busybox", "sleep", "300")
    assert remote_run(remote, "start", "r2") == "r2"
    assert remote_run(remote, "wait", "r2") == "3"
    for args in (["ps"], ["ps", "-a"], ["ps", "-aq"], ["ps", "-a", "--no-trunc"], ["ps", "-a", "--format", "json"],
                 ["ps", "-a", "--format", "{{.Names}} {{.Status}} {{.Labels}} {{.ExitCode}} {{.Pid}}"],
                 ["ps", "-a", "--filter", "name=r2"], ["ps", "-a", "--filter", "ancestor=busybox"],
                 ["container", "inspect", "r1"], ["inspect", "r2"], ["inspect", "--format", "{{.State.Status}}", "r3"],
                 ["logs", "r2"], ["logs", "-t", "r2"], ["logs", "--tail", "1", "r2"], ["logs", "r1", "r2"],
                 ["wait", "r2"], ["wait", "--ignore", "nosuch"]):
        same(remote, *args)
    assert remote_run(remote, "pause", "r3") == "r3"
    same(remote, "ps")
    assert remote_run(remote, "unpause", "r3") == "r3"
    assert remote_run(remote, "stop", "-t", "1", "r3") == "r3"
    same(remote, "ps", "-a")
    same(remote, "kill", "r3")
    same(remote, "rm", "nosuch")
    same(remote, "stop", "nosuch")
    assert remote_run(remote, "rm", "r1", "r2", "r3") == "r1\nr2\nr3"
    same(remote, "ps", "-a")


def test_addresses(remote, tmp_sock_dir):
    cli, store, address = remote
    remote_run(remote, "create", "--name", "a1", "busybox", "true")
    same(remote, "ps", "-a", how=["--remote"], env={"PODMAN_VARLINK_ADDRESS": address})
    same(remote, "images", how=["--remote"], env={"CONTAINER_HOST": address})
    bridge = build_dir() / "src" / "varlink" / "varlink"
    if os.access(bridge, os.X_OK):
        env = {"PODMAN_VARLINK_BRIDGE": f"{bridge} bridge --connect {address}"}
        same(remote, "ps", "-a", how=["--remote"], env=env)
        same(remote, "image", "inspect", "busybox", how=["--remote"], env=env)
    p = run([cli, "--url", f"unix:{tmp_sock_dir}/nothing", "ps"])
    assert p.returncode == 125 and p.stdout == "" and "Error: connecting to" in p.stderr
