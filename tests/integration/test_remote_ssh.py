# SPDX-License-Identifier: LGPL-2.1-or-later
"""cpod --url ssh://USER@HOST:PORT/PATH through the system's ssh client and a real sshd on 127.0.0.1:
the remote side runs `varlink bridge --connect unix:/PATH`, as podman 1.x's remote client did."""

import os
import shutil
import socket
import subprocess
import time

import pytest

from conftest import build_dir
from remotelib import TIMEOUT, remote, run, same  # noqa: F401 (remote is a fixture)

SSHD = "/usr/sbin/sshd"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sshd(tmp_path):
    if os.geteuid() != 0 or not os.access(SSHD, os.X_OK) or not shutil.which("ssh"):
        pytest.skip("needs root, sshd and ssh")
    d = tmp_path / "ssh"
    d.mkdir(mode=0o700)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "host")], check=True)
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "client")], check=True)
    (d / "authorized").write_text((d / "client.pub").read_text())
    os.chmod(d / "authorized", 0o600)
    port = free_port()
    varlink_dir = build_dir() / "src" / "varlink"
    (d / "sshd_config").write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {d / 'host'}\nAuthorizedKeysFile {d / 'authorized'}\n"
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "UsePAM no\nStrictModes no\nPidFile none\n"
        f"SetEnv PATH={varlink_dir}:/usr/local/bin:/usr/bin:/bin\n")
    os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation directory
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(d / "sshd_config")], stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.05)
    # the client's options: the test's key and no host key prompt, given by a wrapper first in PATH
    (d / "ssh_config").write_text(f"IdentityFile {d / 'client'}\nStrictHostKeyChecking no\n"
                                  "UserKnownHostsFile /dev/null\nLogLevel ERROR\n")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "ssh").write_text(f'#!/bin/sh\nexec {shutil.which("ssh")} -F {d / "ssh_config"} "$@"\n')
    os.chmod(bindir / "ssh", 0o755)
    yield port, str(bindir)
    proc.terminate()
    proc.wait(timeout=20)


def test_ssh_url(remote, sshd):
    cli, store, address = remote
    port, bindir = sshd
    env = {"PATH": f"{bindir}:{os.environ['PATH']}"}
    url = f"ssh://root@127.0.0.1:{port}{address[len('unix:'):]}"
    for args in (["images"], ["ps", "-a"], ["image", "inspect", "busybox"], ["version"]):
        same(remote, *args, how=["--url", url], env=env)
    p = run([cli, "--url", url, "run", "--rm", "busybox", "echo", "over ssh"], env=env)
    assert (p.stdout, p.returncode) == ("over ssh\n", 0), p.stderr
    # CONTAINER_HOST takes the same URL
    same(remote, "images", how=["--remote"], env=dict(env, CONTAINER_HOST=url))


@pytest.mark.parametrize("url", ["ssh://root@127.0.0.1", "ssh://ro;ot@h/x", "ssh://h:1a/x", "ssh://h/x y",
                                 "ssh://$(id)@h/x"])
def test_ssh_url_bad(url):
    cli = build_dir() / "src" / "cpod" / "cpod"
    p = run([str(cli), "--url", url, "ps"])
    assert p.returncode == 125 and p.stdout == "" and "Invalid argument" in p.stderr
