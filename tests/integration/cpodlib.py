# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers for tests that run cpod: a private store per test, the built
binaries, and the bundled test images."""

import json
import os
import shutil
import subprocess
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get('CPOD_BUILD_DIR', os.path.join(ROOT, 'build'))
CPOD = os.path.join(BUILD, 'src', 'cpod', 'cpod')
IMAGES = os.path.join(BUILD, 'images')  # built by tools/mkimage.py (meson target "test-images")


def image_path(name):
    """Path of a bundled test image archive, e.g. image_path('busybox.docker.tar')."""
    return os.path.join(IMAGES, name)


class Store:
    """A private cpod store (root and runroot in a temp dir)."""

    def __init__(self, base=None):
        self.base = base or tempfile.mkdtemp(prefix='cpod-test-')
        self.root = os.path.join(self.base, 'root')
        self.runroot = os.path.join(self.base, 'run')

    def args(self):
        return [CPOD, '--root', self.root, '--runroot', self.runroot]

    def run(self, *args, check=False, input=None, timeout=120, env=None):
        """Run cpod with this store; returns CompletedProcess (text)."""
        p = subprocess.run(self.args() + list(args), capture_output=True, text=True, input=input,
                           timeout=timeout, env=env)
        if check and p.returncode != 0:
            raise AssertionError('cpod %s failed (%d): %s%s' % (' '.join(args), p.returncode, p.stdout, p.stderr))
        return p

    def ok(self, *args, **kw):
        """Run and require success; returns stdout."""
        return self.run(*args, check=True, **kw).stdout

    def json(self, *args):
        return json.loads(self.ok(*args))

    def cleanup(self):
        # unmount anything left below the store before removing it
        subprocess.run(['sh', '-c', 'grep -o " %s[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l'
                        % self.base], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)
