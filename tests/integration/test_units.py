# SPDX-License-Identifier: LGPL-2.1-or-later
"""The unit files `make install` installs pass `systemd-analyze verify` (with @bindir@ pointing at the build)."""

import os
import shutil
import subprocess

import pytest

from conftest import REPO, build_dir

UNITS = REPO / "data" / "systemd"


def test_units_verify(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed")
    bindir = build_dir() / "src" / "cpod"
    names = []
    for src in sorted(UNITS.glob("*.in")):
        name = src.name[:-3].replace(".user.", ".")
        sub = tmp_path / ("user" if ".user." in src.name else "system")
        sub.mkdir(exist_ok=True)
        (sub / name).write_text(src.read_text().replace("@bindir@", str(bindir)))
        names.append(sub / name)
    assert len(names) == 6
    for sub in ("system", "user"):
        files = [str(n) for n in names if n.parent.name == sub]
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", *(["--user"] if sub == "user" else []),
                            *files], capture_output=True, text=True, timeout=120,
                           env=dict(os.environ, XDG_RUNTIME_DIR=str(tmp_path)))
        assert p.returncode == 0, p.stderr
        assert "io.podman" not in p.stderr and "cpod" not in p.stderr, p.stderr
