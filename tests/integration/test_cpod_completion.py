# SPDX-License-Identifier: LGPL-2.1-or-later
"""shell/cpod.bash: commands, subcommands and flags come from cpod's own --help; names from the store."""

import os
import shutil
import subprocess

import pytest

from conftest import REPO, build_dir
from cpodlib import Store, image_path

SCRIPT = REPO / "shell" / "cpod.bash"


def complete(*words, store=None):
    cli = str(build_dir() / "src" / "cpod" / "cpod")
    line = [cli, *(store.args()[1:] if store else []), *words]
    program = (f"source {SCRIPT}\nCOMP_WORDS=({' '.join(_quote(w) for w in line)})\n"
               "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_cpod\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "-c", program], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return [w for w in p.stdout.split("\n") if w]


def _quote(w):
    return "'" + w.replace("'", "'\\''") + "'"


@pytest.fixture(autouse=True)
def need_bash():
    if not shutil.which("bash") or not os.access(build_dir() / "src" / "cpod" / "cpod", os.X_OK):
        pytest.skip("bash or cpod missing")


def test_commands_and_subcommands():
    assert complete("po") == ["pod", "port"]
    assert complete("pod", "st") == ["start", "stats", "stop"]
    assert "create" in complete("network", "")
    assert "service" in complete("system", "")
    assert "exists" in complete("volume", "")


def test_flags_come_from_help():
    assert complete("run", "--rm", "--net") == ["--network", "--network-alias"]
    assert "--force" in complete("image", "rm", "--f")
    assert complete("network", "create", "-d", "") == ["bridge", "macvlan"]
    assert complete("--log-level", "") == ["debug", "info", "warn", "error"]


def test_names_from_the_store(tmp_path):
    store = Store(str(tmp_path))
    try:
        store.ok("load", "-i", image_path("busybox.docker.tar"))
        store.ok("volume", "create", "compvol")
        assert complete("run", "docker.io/library/b", store=store) == ["docker.io/library/busybox:latest"]
        assert complete("volume", "inspect", "comp", store=store) == ["compvol"]
    finally:
        store.cleanup()
