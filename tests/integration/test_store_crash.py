# SPDX-License-Identifier: LGPL-2.1-or-later
"""`cpod load` killed with SIGKILL at random points leaves the store either in
its old state or in the new one: `system check` finds it consistent, or
consistent after `system check --repair`; a repeated load then succeeds and
the image is listed exactly once, with intact layers. At the end nothing is
left behind.

CPOD_CRASH_ITERATIONS (default 60, at least 50 is the point) and
CPOD_TEST_SEED (printed on failure) tune a run.
"""

import glob
import hashlib
import os
import random
import signal
import statistics
import subprocess
import time

import pytest

import cpodlib
import storelib

ITERATIONS = int(os.environ.get('CPOD_CRASH_ITERATIONS', '60'))
TIME_BUDGET = 55.0  # seconds; the loop stops early (after 50 rounds) when a slow machine would exceed it


@pytest.fixture
def store():
    storelib.require_cpod()
    s = cpodlib.Store()
    yield s
    s.cleanup()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def check_layers_intact(store, busybox_sha):
    """The extracted layers hold complete files: bin/busybox equals the host's, www/index.html exists.
    Only where the store keeps layers/<id>/diff (DESIGN.md §3)."""
    layers = os.path.join(store.root, 'layers')
    if not os.path.isdir(layers):
        return
    found = glob.glob(os.path.join(layers, '*', 'diff', 'bin', 'busybox'))
    assert len(found) == 1, 'bin/busybox in %d layers: %s' % (len(found), found)
    assert sha256_file(found[0]) == busybox_sha, 'bin/busybox in %s is damaged' % found[0]
    assert glob.glob(os.path.join(layers, '*', 'diff', 'www', 'index.html')), 'www/index.html missing'


def load_killed(store, archive, delay):
    """Start `cpod load`, SIGKILL it (and anything it started) after delay seconds; returns its exit status
    (negative: killed, >= 0: it finished first)."""
    p = subprocess.Popen(store.args() + ['load', '-i', archive], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL, start_new_session=True)
    time.sleep(delay)
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return p.wait()


def test_load_killed_at_random_points(store):
    seed = int(os.environ.get('CPOD_TEST_SEED') or random.SystemRandom().randrange(1 << 32))
    rng = random.Random(seed)
    info = storelib.image_info('busybox-httpd')
    name, iid = info['name'], info['id']
    archives = [storelib.image_file('busybox-httpd.docker.tar'), storelib.image_file('busybox-httpd.oci.tar')]
    with open('/bin/busybox', 'rb') as f:
        busybox_sha = hashlib.sha256(f.read()).hexdigest()

    # the normal duration of a load into a store without the image
    durations = []
    for archive in archives + archives[:1]:
        t0 = time.monotonic()
        store.ok('load', '-i', archive)
        durations.append(time.monotonic() - t0)
        assert storelib.list_images(store) == {iid: [name]}
        check_layers_intact(store, busybox_sha)
        store.ok('rmi', name)
        assert storelib.list_images(store) == {}
    normal = statistics.median(durations)

    started = time.monotonic()
    repaired = finished_first = 0
    rounds = 0
    for rounds in range(1, ITERATIONS + 1):
        ctx = 'seed %d, round %d' % (seed, rounds)
        present = iid in storelib.list_images(store)
        if present and rng.random() < 0.85:  # mostly crash a load into a store without the image
            store.ok('rmi', name)
            present = False
        archive = archives[rounds % 2]
        delay = rng.uniform(0, normal)
        status = load_killed(store, archive, delay)
        if status >= 0:
            assert status == 0, '%s: load exited %d by itself' % (ctx, status)
            finished_first += 1

        # old state or new state, never a half image
        imgs = storelib.list_images(store)
        assert imgs in ({}, {iid: [name]}), '%s: after the kill: %r' % (ctx, imgs)
        if present:
            assert imgs == {iid: [name]}, '%s: a killed load lost the image that was there' % ctx

        c = storelib.check(store)
        if c.returncode != 0:
            r = storelib.check(store, repair=True)
            assert r.returncode == 0, '%s: system check --repair exit %d\n%s%s\n(check said: %s%s)' % (
                ctx, r.returncode, r.stdout, r.stderr, c.stdout, c.stderr)
            storelib.assert_clean(store, 'after --repair (%s)' % ctx)
            repaired += 1
        assert storelib.list_images(store) == imgs, '%s: repair changed the images' % ctx

        p = store.run('load', '-i', archive)
        assert p.returncode == 0, '%s: load after the crash failed (%d): %s' % (ctx, p.returncode, p.stderr)
        assert storelib.list_images(store) == {iid: [name]}, ctx
        check_layers_intact(store, busybox_sha)
        if rounds >= 50 and time.monotonic() - started > TIME_BUDGET:
            break

    assert rounds >= 50
    print('%d rounds (seed %d, load %.0f ms), %d repaired, %d loads finished before the kill' % (
        rounds, seed, normal * 1000, repaired, finished_first))

    # no leftovers: staging empty, check clean, and removing the image empties the blob and layer stores
    tmp = os.path.join(store.root, 'tmp')
    if os.path.isdir(tmp):
        assert os.listdir(tmp) == [], 'leftovers in root/tmp: %s' % os.listdir(tmp)
    storelib.assert_clean(store, 'at the end')
    store.ok('rmi', name)
    assert storelib.list_images(store) == {}
    storelib.assert_clean(store, 'after removing the image')
    for sub in ('blobs/sha256', 'layers'):
        d = os.path.join(store.root, sub)
        if os.path.isdir(d):
            assert os.listdir(d) == [], 'unreferenced files in root/%s: %s' % (sub, os.listdir(d))
    if os.path.isdir(tmp):
        assert os.listdir(tmp) == [], 'leftovers in root/tmp: %s' % os.listdir(tmp)
