# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared by the remote-mode tests: a `cpod varlink` service on a private store holding the bundled test
images (the `remote` fixture: cli path, store arguments, address), and helpers that run a command locally
and remotely and compare."""

import os
import subprocess

import pytest

from conftest import build_dir

TIMEOUT = 120


@pytest.fixture
def remote(servers, tmp_sock_dir):
    cli = build_dir() / "src" / "cpod" / "cpod"
    images = [build_dir() / "images" / n for n in ("busybox.docker.tar", "busybox-httpd.docker.tar")]
    if not os.access(cli, os.X_OK) or not all(i.exists() for i in images):
        pytest.skip("cpod or the bundled test images are not built")
    store = ["--root", str(tmp_sock_dir / "root"), "--runroot", str(tmp_sock_dir / "run")]
    for image in images:
        subprocess.run([str(cli), *store, "load", "-i", str(image)], check=True, capture_output=True,
                       timeout=TIMEOUT)
    address = f"unix:{tmp_sock_dir / 'io.podman'}"
    servers.start([str(cli), *store, "varlink", "--timeout", "0", address], address=address)
    yield str(cli), store, address
    subprocess.run([str(cli), *store, "rm", "-af"], capture_output=True, timeout=TIMEOUT)
    subprocess.run(["sh", "-c", f'grep -o " {tmp_sock_dir}[^ ]*" /proc/self/mounts | sort -r | '
                                f'xargs -r -n1 umount -l'], capture_output=True)


def run(argv, env=None):
    e = dict(os.environ)
    for k in ("CONTAINER_HOST", "PODMAN_VARLINK_ADDRESS", "PODMAN_VARLINK_BRIDGE"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT, env=e)


def same(remote, *args, env=None, how=None):
    """Run args locally and remotely; both must print the same and exit alike."""
    cli, store, address = remote
    local = run([cli, *store, *args])
    far = run([cli, *(how if how is not None else ["--url", address]), *args], env=env)
    if (far.stdout, far.returncode) != (local.stdout, local.returncode):
        # relative times ("1 second ago") may have crossed a boundary between the two runs
        local = run([cli, *store, *args])
    assert (far.stdout, far.returncode) == (local.stdout, local.returncode), (args, local.stderr, far.stderr)
    return local


def remote_run(remote, *args):
    cli, _, address = remote
    p = run([cli, "--url", address, *args])
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()
