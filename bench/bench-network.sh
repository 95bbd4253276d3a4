#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Bridge network benchmark: `cpod run --rm -p 127.0.0.1:8080:80 busybox true`
# (a new network namespace, netavark setup with a published port, the
# container, netavark teardown) against podman's same command, each with a
# private store in one temporary directory. The cases run interleaved, one
# run of each per round; wall time is the whole process.
#
# The share spent in netavark comes from cpod's own timing of its netavark
# calls (CPOD_NET_TIMING=1 prints each call's wall time to stderr, and how
# long cpod waited for it: cpod works while netavark runs), summed per run
# and divided by that run's wall time.
#
# Target: cpod run --rm at least 3x faster than podman (median).
#
# usage: bench/bench-network.sh [BUILD_DIR]      (default: ./build)
# env:   RUNS (20)     rounds
#        NO_PODMAN=1   leave podman out
#        CPOD_OTHER=PATH  a second cpod binary (another build) run as a third
#                      case, with its own store, for a before/after ratio
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$(cd "${1:-$REPO/build}" && pwd)
CPOD=$BUILD/src/cpod/cpod
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-20}
CPOD_OTHER=${CPOD_OTHER:-}
IMAGES=$BUILD/images

[ -x "$CPOD" ] || { echo "bench-network: $CPOD is not built" >&2; exit 1; }
[ -f "$IMAGES/busybox.docker.tar" ] || { echo "bench-network: $IMAGES has no test images" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench-network: needs root (network namespaces, iptables)" >&2; exit 1; }
"$REPO/tools/host-setup.sh"

T=$(mktemp -d /tmp/cpod-bench-net.XXXXXX)
cleanup() {
        set +e
        [ -n "${HAVE_PODMAN:-}" ] && podman_ rm -af >/dev/null 2>&1
        cpod_ rm -af >/dev/null 2>&1
        [ -n "$CPOD_OTHER" ] && other_ rm -af >/dev/null 2>&1
        grep -o " ${T}[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

quiet() { "$@" >"$T/setup.log" 2>&1 || { echo "bench-network: failed: $*" >&2; cat "$T/setup.log" >&2; exit 1; }; }
cpod_() { "$CPOD" --root "$T/cpod/root" --runroot "$T/cpod/run" "$@"; }
other_() { "$CPOD_OTHER" --root "$T/other/root" --runroot "$T/other/run" "$@"; }
podman_() { podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver overlay "$@"; }

quiet cpod_ load -i "$IMAGES/busybox.docker.tar"
[ -z "$CPOD_OTHER" ] || quiet other_ load -i "$IMAGES/busybox.docker.tar"
HAVE_PODMAN=
if [ -z "${NO_PODMAN:-}" ] && command -v podman >/dev/null; then
        quiet podman_ load -i "$IMAGES/busybox.docker.tar"
        HAVE_PODMAN=1
fi

"$PY" - "$RUNS" "$T" "$CPOD" "$HAVE_PODMAN" "$CPOD_OTHER" <<'EOF'
import os, re, statistics, subprocess, sys, time
runs, t, cpod, have_podman, other = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
c = [cpod, '--root', t + '/cpod/root', '--runroot', t + '/cpod/run']
p = ['podman', '--root', t + '/podman/root', '--runroot', t + '/podman/run', '--storage-driver', 'overlay']
args = ['run', '--rm', '-p', '127.0.0.1:8080:80', 'busybox', 'true']
cases = [('cpod run --rm -p', c + args)]
if other:
    cases.append(('other cpod run --rm -p', [other, '--root', t + '/other/root', '--runroot', t + '/other/run'] + args))
if have_podman:
    cases.append(('podman run --rm -p', p + ['run', '--rm', '--ulimit', 'nofile=20000:20000', '--ulimit',
                                            'nproc=4096:4096', '-p', '127.0.0.1:8080:80', 'busybox', 'true']))
env = dict(os.environ, CPOD_NET_TIMING='1')
walls = {n: [] for n, _ in cases}
failed = {n: 0 for n, _ in cases}
share, setup, teardown, waited, own = [], [], [], [], []
for i in range(runs + 2):
    for name, argv in cases:
        t0 = time.perf_counter()
        r = subprocess.run(argv, capture_output=True, text=True, env=env)
        wall = (time.perf_counter() - t0) * 1000
        if r.returncode != 0:
            failed[name] += 1
            sys.stderr.write('%s failed: %s' % (name, r.stderr))
        if i < 2:
            continue  # warm-up: first bridge and chain creation
        walls[name].append(wall)
        if name.startswith('cpod'):
            s = [float(x) for x in re.findall(r'netavark setup: ([0-9.]+) ms', r.stderr)]
            d = [float(x) for x in re.findall(r'netavark teardown: ([0-9.]+) ms', r.stderr)]
            w = [float(x) for x in re.findall(r'\(waited ([0-9.]+) ms\)', r.stderr)]
            setup += s
            teardown += d
            own.append(sum(s) + sum(d))
            share.append((sum(s) + sum(d)) / wall)
            waited.append(sum(w) / wall)
print('%-24s %10s %10s %10s %7s' % ('case', 'median', 'min', 'p90', 'failed'))
for name, _ in cases:
    w = walls[name]
    print('%-24s %7.1f ms %7.1f ms %7.1f ms %7d' % (name, statistics.median(w), min(w),
                                                    statistics.quantiles(w, n=10)[-1], failed[name]))
cm = statistics.median(walls['cpod run --rm -p'])
print('netavark in cpod run: setup %.1f ms, teardown %.1f ms (medians), %.0f%% of the wall time; '
      'cpod waiting for it: %.0f%%' %
      (statistics.median(setup or [0]), statistics.median(teardown or [0]), 100 * statistics.median(share or [0]),
       100 * statistics.median(waited or [0])))
if other:
    print('this cpod vs the other: %.2fx' % (statistics.median(walls['other cpod run --rm -p']) / cm))
if have_podman:
    pm = statistics.median(walls['podman run --rm -p'])
    ratio = pm / cm
    print('target: cpod >= 3x faster than podman: %s (%.2fx)' % ('met' if ratio >= 3 else 'NOT met', ratio))
    # setup and teardown must both finish inside the command: their sum bounds any cpod run from below
    floor = statistics.median(own or [0])
    if floor:
        print('netavark alone, setup + teardown: %.1f ms (median); podman / that: %.2fx, the most any cpod '
              'run can reach' % (floor, pm / floor))
EOF
