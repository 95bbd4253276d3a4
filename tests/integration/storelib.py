# SPDX-License-Identifier: LGPL-2.1-or-later
"""Helpers of the store tests (crash, concurrency, interop): the bundled test
images, a view of `cpod images` that does not depend on the table layout, and
`cpod system check`."""

import json
import os
import subprocess
import sys
import tempfile

import pytest

import cpodlib

_images_dir = None


def require_cpod():
    """Skip unless the cpod binary is built and answers `version`."""
    if not os.access(cpodlib.CPOD, os.X_OK):
        pytest.skip('cpod is not built in %s' % cpodlib.BUILD)
    p = subprocess.run([cpodlib.CPOD, 'version'], capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip('cpod version fails (%d): %s' % (p.returncode, p.stderr.strip()))


def images_dir():
    """The directory of the test images: the build's images/ (meson target), else built once per session
    into a temporary directory with tools/mkimage.py."""
    global _images_dir
    if _images_dir:
        return _images_dir
    if os.path.exists(os.path.join(cpodlib.IMAGES, 'images.json')):
        _images_dir = cpodlib.IMAGES
    else:
        d = tempfile.mkdtemp(prefix='cpod-images-')
        subprocess.run([sys.executable, os.path.join(cpodlib.ROOT, 'tools', 'mkimage.py'), d], check=True)
        _images_dir = d
    return _images_dir


def image_file(name):
    return os.path.join(images_dir(), name)


def image_info(key):
    """What mkimage.py recorded for 'busybox' or 'busybox-httpd': id, manifest_digest, diff_ids, name."""
    with open(image_file('images.json')) as f:
        return json.load(f)[key]


def list_images(store):
    """{image id (hex): sorted list of names} from `cpod images --format json`."""
    p = store.run('images', '--format', 'json')
    assert p.returncode == 0, 'cpod images failed (%d): %s' % (p.returncode, p.stderr)
    out = {}
    for img in json.loads(p.stdout or '[]'):
        iid = img.get('Id') or img.get('ID') or img.get('id')
        assert iid, 'no Id in %r' % img
        iid = iid.split(':', 1)[-1]
        assert iid not in out, 'image %s listed twice: %s' % (iid, p.stdout)
        out[iid] = sorted(img.get('Names') or [])
    return out


def all_names(store):
    """Every name in the store, with the image it is on; a name on two images fails."""
    names = {}
    for iid, ns in list_images(store).items():
        for n in ns:
            assert n not in names, 'name %s is on %s and %s' % (n, names[n], iid)
            names[n] = iid
    return names


def check(store, repair=False):
    """Run `cpod system check [--repair]`; returns the CompletedProcess."""
    args = ['system', 'check'] + (['--repair'] if repair else [])
    return store.run(*args, timeout=120)


def assert_clean(store, what=''):
    p = check(store)
    assert p.returncode == 0, 'system check %s: exit %d\n%s%s' % (what, p.returncode, p.stdout, p.stderr)


def tree_listing(path, skip=()):
    """Sorted relative paths (with type and size) below path, leaving out top-level names in skip."""
    rows = []
    for dirpath, dirnames, filenames in os.walk(path):
        rel = os.path.relpath(dirpath, path)
        if rel == '.':
            dirnames[:] = [d for d in dirnames if d not in skip]
            filenames = [f for f in filenames if f not in skip]
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            st = os.lstat(full)
            size = 0 if os.path.isdir(full) and not os.path.islink(full) else st.st_size
            rows.append('%s %o %d' % (os.path.normpath(os.path.join(rel, name)), st.st_mode, size))
    return sorted(rows)
