# SPDX-License-Identifier: LGPL-2.1-or-later
"""Eight processes share one store for CPOD_STRESS_SECONDS (default 30):
they load the test images, tag them under names of their own, untag and
remove their own names, and now and then untag or remove the shared names
(docker.io/library/busybox:latest and :httpd) that the others tag from.

Every failure is collected and classified. The only allowed ones are the
documented conflicts: a command naming an image that another process just
removed or untagged ("image not known", exit 125, or exit 1 for rmi, as
podman). Anything else -- a lost or duplicated name, "database is locked",
a crash -- fails the test. At the end every name a worker added and did not
remove exists exactly once, no removed name is left, and `system check` is
clean.
"""

import os
import random
import re
import subprocess
import threading
import time
from collections import Counter

import pytest

import cpodlib
import storelib

SECONDS = float(os.environ.get('CPOD_STRESS_SECONDS', '30'))
WORKERS = 8
SHARED = ['docker.io/library/busybox:latest', 'docker.io/library/busybox:httpd']
ARCHIVES = ['busybox.docker.tar', 'busybox-httpd.docker.tar', 'busybox-httpd.oci.tar', 'busybox.oci.tar']
NOT_KNOWN = re.compile(r'image not known|no such image', re.I)


@pytest.fixture
def store():
    storelib.require_cpod()
    s = cpodlib.Store()
    yield s
    s.cleanup()


class Worker(threading.Thread):
    """One process at a time, run in a loop until the deadline."""

    def __init__(self, n, store, deadline, seed):
        super().__init__(name='worker-%d' % n)
        self.n = n
        self.store = store
        self.deadline = deadline
        self.rng = random.Random(seed)
        self.names = set()      # added and not removed
        self.removed = set()    # added, then removed
        self.counter = 0
        self.ops = Counter()
        self.conflicts = Counter()
        self.errors = []        # unexpected failures

    def cpod(self, *args):
        return subprocess.run(self.store.args() + list(args), capture_output=True, text=True, timeout=120)

    def record(self, op, args, p, allowed):
        """Classify a result: success, an allowed conflict, or an error."""
        self.ops[op] += 1
        if p.returncode == 0:
            return True
        if allowed and allowed(p):
            self.conflicts['%s: exit %d %s' % (op, p.returncode, NOT_KNOWN.search(p.stderr).group(0))] += 1
            return False
        self.errors.append('worker %d: cpod %s: exit %d: %s' % (self.n, ' '.join(args), p.returncode,
                                                                 (p.stderr or p.stdout).strip()))
        return False

    def run(self):
        try:
            while time.monotonic() < self.deadline and len(self.errors) < 20:
                self.step()
        except Exception as e:  # a timeout or a bug of the test: report it as an error
            self.errors.append('worker %d: %r' % (self.n, e))

    def new_name(self):
        self.counter += 1
        return 'localhost/stress/w%d:t%d' % (self.n, self.counter)

    def step(self):
        rng = self.rng
        r = rng.random()
        not_known_125 = lambda p: p.returncode == 125 and NOT_KNOWN.search(p.stderr)
        not_known_rmi = lambda p: p.returncode in (1, 125) and NOT_KNOWN.search(p.stderr)
        if r < 0.15:
            args = ['load', '-i', storelib.image_file(rng.choice(ARCHIVES))]
            self.record('load', args, self.cpod(*args), None)
        elif r < 0.50:
            # tag from a shared name or from one of our names
            own = sorted(self.names)
            src = rng.choice(own) if own and rng.random() < 0.3 else rng.choice(SHARED)
            name = self.new_name()
            args = ['tag', src, name]
            if self.record('tag', args, self.cpod(*args), None if src in self.names else not_known_125):
                self.names.add(name)
            else:
                self.removed.add(name)  # never created: must not exist
        elif r < 0.65 and self.names:
            name = rng.choice(sorted(self.names))
            args = ['untag', name, name]
            self.record('untag', args, self.cpod(*args), None)
            self.names.discard(name)
            self.removed.add(name)
        elif r < 0.80 and self.names:
            name = rng.choice(sorted(self.names))
            args = ['rmi', name]
            self.record('rmi', args, self.cpod(*args), None)
            self.names.discard(name)
            self.removed.add(name)
        elif r < 0.86:
            name = rng.choice(SHARED)
            args = ['untag', name, name]
            self.record('untag-shared', args, self.cpod(*args), not_known_125)
        elif r < 0.92:
            args = ['rmi', rng.choice(SHARED)]
            self.record('rmi-shared', args, self.cpod(*args), not_known_rmi)
        else:
            args = ['images', '--format', 'json']
            self.record('images', args, self.cpod(*args), None)


def test_parallel_tag_untag_load_rmi(store):
    seed = int(os.environ.get('CPOD_TEST_SEED') or random.SystemRandom().randrange(1 << 32))
    for a in ARCHIVES[:2]:
        store.ok('load', '-i', storelib.image_file(a))

    deadline = time.monotonic() + SECONDS
    workers = [Worker(n, store, deadline, seed + n) for n in range(WORKERS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()

    ops = sum((w.ops for w in workers), Counter())
    conflicts = sum((w.conflicts for w in workers), Counter())
    errors = [e for w in workers for e in w.errors]
    print('seed %d, %d commands: %s' % (seed, sum(ops.values()), dict(sorted(ops.items()))))
    print('allowed conflicts: %s' % dict(sorted(conflicts.items())))
    assert not errors, 'seed %d, %d unexpected failures:\n%s' % (seed, len(errors), '\n'.join(errors[:40]))
    assert ops['tag'] > 0 and ops['load'] > 0

    # no lost tag, no duplicate, no resurrected name
    names = storelib.all_names(store)  # fails on a name that is on two images
    expected = set().union(*(w.names for w in workers))
    present = {n for n in names if n.startswith('localhost/stress/')}
    lost = expected - present
    extra = present - expected
    assert not lost, 'lost names: %s' % sorted(lost)[:20]
    assert not extra, 'names that were removed or never added: %s' % sorted(extra)[:20]

    p = storelib.check(store)
    assert p.returncode == 0, 'system check: exit %d\n%s%s' % (p.returncode, p.stdout, p.stderr)
    tmp = os.path.join(store.root, 'tmp')
    if os.path.isdir(tmp):
        assert os.listdir(tmp) == [], 'leftovers in root/tmp: %s' % os.listdir(tmp)

    # and the store still works: everything can be removed, leaving nothing behind
    for iid in storelib.list_images(store):
        store.ok('rmi', '--force', iid)
    assert storelib.list_images(store) == {}
    storelib.assert_clean(store, 'after removing everything')
