#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Image store benchmarks: cpod against podman, measured in the same run, each
# with a private store in a temporary directory (podman: --root/--runroot
# there, storage driver overlay when it works, else vfs; $PODMAN_DRIVER
# overrides). Never touches either tool's system store.
#
#   images    with 1 image, 100 / 1,000 / 10,000 images each with its own
#             top layer, and one image with 100 / 1,000 / 10,000 tags
#   load      of the bundled busybox-httpd docker-archive into an empty store
#   inspect   `image inspect` of the bundled image
#
# For each: median wall time of whole processes and their median peak RSS
# (wait4's ru_maxrss, through bench-measure.c), and the ratio cpod/podman. Targets are checked at the
# end; the exit code stays 0 (the figures are the output).
#
# usage: bench/bench-images.sh [BUILD_DIR]      (default: ./build)
# env:   RUNS (50)            runs of the small cases
#        SIZES ("100 1000 10000")      stores of N images
#        TAG_SIZES ("100 1000 10000")  names of the one image of the tags cases
#        PODMAN_MAX (1000)    largest store podman is measured on (its
#                             load of 10,000 images and its tagging of
#                             10,000 names take many minutes)
#        LOAD_RUNS (10)       runs of load (each into a fresh store)
#        NO_PODMAN=1          measure cpod only
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$(cd "${1:-$REPO/build}" && pwd)
CPOD=$BUILD/src/cpod/cpod
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-50}
SIZES=${SIZES:-100 1000 10000}
TAG_SIZES=${TAG_SIZES:-100 1000 10000}
PODMAN_MAX=${PODMAN_MAX:-1000}
LOAD_RUNS=${LOAD_RUNS:-10}

[ -x "$CPOD" ] || { echo "bench-images: $CPOD is not built" >&2; exit 1; }
T=$(mktemp -d /tmp/cpod-bench-images.XXXXXX)
cleanup() {
        grep -o " $T[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT

IMAGES=$BUILD/images
if [ ! -f "$IMAGES/images.json" ]; then
        IMAGES=$T/images
        "$PY" "$REPO/tools/mkimage.py" "$IMAGES"
fi

HAVE_PODMAN=0
if [ -z "${NO_PODMAN:-}" ] && command -v podman >/dev/null; then
        HAVE_PODMAN=1
        PODMAN_VERSION=$(podman version --format '{{.Client.Version}}' 2>/dev/null || echo '?')
        if [ -z "${PODMAN_DRIVER:-}" ]; then
                PODMAN_DRIVER=vfs
                probe=$T/probe
                if podman --root "$probe/root" --runroot "$probe/run" --storage-driver overlay \
                        load -i "$IMAGES/busybox.docker.tar" >/dev/null 2>&1; then
                        PODMAN_DRIVER=overlay
                fi
                podman --root "$probe/root" --runroot "$probe/run" --storage-driver "$PODMAN_DRIVER" \
                        rmi -af >/dev/null 2>&1 || true
                cleanup_probe=$(grep -o " $probe[^ ]*" /proc/self/mounts | sort -r || true)
                [ -z "$cleanup_probe" ] || echo "$cleanup_probe" | xargs -r -n1 umount -l
                rm -rf "$probe"
        fi
fi

# --- helpers ---------------------------------------------------------------

# bench-measure RUNS [--before CMD] -- CMD...: median wall ms and median peak RSS KiB of CMD (stdout and
# stderr discarded), every run must exit 0; --before runs a shell command untimed before each run. A small
# C program: a command spawned from Python would report Python's resident size as its own peak.
cc -O2 -o "$T/bench-measure" "$HERE/bench-measure.c"

# genarchive.py OUT N MODE [FIRST]: a docker-archive of N tiny images named localhost/bench/imgI:latest,
# I from FIRST (0). MODE own: each image has its own one-file layer; MODE shared: one layer, N configs.
cat >"$T/genarchive.py" <<'EOF'
import hashlib, io, json, sys, tarfile
out, n, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
first = int(sys.argv[4]) if len(sys.argv) > 4 else 0
def layer(i):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode='w', format=tarfile.USTAR_FORMAT) as tf:
        data = ('image %d\n' % i).encode()
        ti = tarfile.TarInfo('id'); ti.size = len(data); ti.mtime = 1700000000; ti.mode = 0o644
        tf.addfile(ti, io.BytesIO(data))
    return b.getvalue()
def add(tf, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000; ti.mode = 0o644
    tf.addfile(ti, io.BytesIO(data))
manifest = []
with tarfile.open(out, 'w', format=tarfile.USTAR_FORMAT) as tf:
    shared = layer(0)
    seen = set()
    for i in range(first, first + n):
        l = shared if mode == 'shared' else layer(i)
        lh = hashlib.sha256(l).hexdigest()
        if lh not in seen:
            add(tf, lh + '/layer.tar', l)
            seen.add(lh)
        cfg = json.dumps({'architecture': 'amd64', 'os': 'linux', 'created': '2023-11-14T22:13:20Z',
                          'config': {'Cmd': ['sh'], 'Labels': {'n': str(i)}},
                          'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + lh]},
                          'history': [{'created': '2023-11-14T22:13:20Z'}]}, sort_keys=True).encode()
        ch = hashlib.sha256(cfg).hexdigest()
        add(tf, ch + '.json', cfg)
        manifest.append({'Config': ch + '.json', 'RepoTags': ['localhost/bench/img%d:latest' % i],
                         'Layers': [lh + '/layer.tar']})
    add(tf, 'manifest.json', json.dumps(manifest).encode())
EOF

# run a setup command quietly; show its output only when it fails
quiet() { "$@" >"$T/setup.log" 2>&1 || { echo "bench-images: failed: $*" >&2; cat "$T/setup.log" >&2; exit 1; }; }

cpod_() { "$CPOD" --root "$T/cpod/$1/root" --runroot "$T/cpod/$1/run" "${@:2}"; }
podman_() {
        podman --root "$T/podman/$1/root" --runroot "$T/podman/$1/run" --storage-driver "$PODMAN_DRIVER" "${@:2}"
}
cpod_cmd() { echo "$CPOD" --root "$T/cpod/$1/root" --runroot "$T/cpod/$1/run"; }
podman_cmd() {
        echo podman --root "$T/podman/$1/root" --runroot "$T/podman/$1/run" --storage-driver "$PODMAN_DRIVER"
}

# tag IMAGE with N names in chunks of 500 (both tools take several names in one call)
tag_many() { # tool store n
        local tool=$1 store=$2 n=$3 i=0
        while [ $i -lt "$n" ]; do
                local names=() j
                for ((j = i; j < i + 500 && j < n; j++)); do names+=("localhost/bench/tag$j:latest"); done
                quiet "${tool}_" "$store" tag docker.io/library/busybox:latest "${names[@]}"
                i=$j
        done
}

count_images() { "${1}_" "$2" images --format json | "$PY" -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

RESULTS=$T/results
: >"$RESULTS"
# record CASE TOOL "ms kib"
record() { echo "$1|$2|$3" >>"$RESULTS"; printf '  %-24s %-7s %10.2f ms %8.1f MB\n' "$1" "$2" $(echo "$3" | awk '{print $1, $2/1024}'); }

measure() { # case tool runs [--before CMD] -- cmd...
        local c=$1 t=$2 r=$3
        shift 3
        record "$c" "$t" "$("$T/bench-measure" "$r" "$@")"
}

tools="cpod"
[ $HAVE_PODMAN = 1 ] && tools="cpod podman"

echo "# cpod image benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r))"
echo "# cpod: $CPOD"
[ $HAVE_PODMAN = 1 ] && echo "# podman $PODMAN_VERSION, storage driver $PODMAN_DRIVER, private --root/--runroot"

# --- images with 1 image, inspect ---------------------------------------------
echo "images / image inspect, 1 image ($RUNS runs)"
for tool in $tools; do
        quiet "${tool}_" one load -i "$IMAGES/busybox-httpd.docker.tar"
        measure "images 1" "$tool" "$RUNS" -- $(${tool}_cmd one) images
        measure "image inspect" "$tool" "$RUNS" -- $(${tool}_cmd one) image inspect docker.io/library/busybox:httpd
done

# --- load ----------------------------------------------------------------------
echo "load busybox-httpd.docker.tar into an empty store ($LOAD_RUNS runs)"
for tool in $tools; do
        measure "load" "$tool" "$LOAD_RUNS" --before \
                "grep -o ' $T/$tool/load[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l; rm -rf $T/$tool/load" \
                -- $(${tool}_cmd load) load -i "$IMAGES/busybox-httpd.docker.tar"
done

# --- images with N images, each with its own layer --------------------------
# A load takes at most 1,024 images (the archive limit): bigger stores load several archives of 1,000.
load_images() { # tool store n
        local i=0 k
        while [ $i -lt "$3" ]; do
                k=$(($3 - i < 1000 ? $3 - i : 1000))
                "$PY" "$T/genarchive.py" "$T/own.tar" "$k" own "$i"
                quiet "${1}_" "$2" load -i "$T/own.tar"
                i=$((i + k))
        done
        rm -f "$T/own.tar"
}

for n in $SIZES; do
        runs=$RUNS
        [ "$n" -ge 1000 ] && runs=10
        [ "$n" -ge 10000 ] && runs=5
        echo "images, $n images with their own layer"
        for tool in $tools; do
                if [ "$tool" = podman ] && [ "$n" -gt "$PODMAN_MAX" ]; then
                        echo "  (podman skipped above PODMAN_MAX=$PODMAN_MAX)"
                        continue
                fi
                t0=$(date +%s.%N)
                load_images "$tool" "own$n" "$n"
                got=$(count_images "$tool" "own$n")
                printf '  (%s load of %d images: %.1f s; lists %d)\n' "$tool" "$n" \
                        "$(awk "BEGIN{print $(date +%s.%N) - $t0}")" "$got"
                r=$runs
                [ "$tool" = podman ] && [ "$n" -ge 1000 ] && r=3
                measure "images $n" "$tool" "$r" -- $(${tool}_cmd "own$n") images
        done
done

# --- one image with N tags -----------------------------------------------------
for n in $TAG_SIZES; do
        echo "images, one image with $n tags"
        for tool in $tools; do
                if [ "$tool" = podman ] && [ "$n" -gt "$PODMAN_MAX" ]; then
                        echo "  (podman skipped above PODMAN_MAX=$PODMAN_MAX)"
                        continue
                fi
                t0=$(date +%s.%N)
                quiet "${tool}_" "tags$n" load -i "$IMAGES/busybox.docker.tar"
                tag_many "$tool" "tags$n" "$n"
                printf '  (%s tagging %d names: %.1f s)\n' "$tool" "$n" "$(awk "BEGIN{print $(date +%s.%N) - $t0}")"
                r=10
                [ "$n" -ge 10000 ] && r=5
                [ "$tool" = podman ] && [ "$n" -ge 1000 ] && r=3
                measure "images $n tags" "$tool" "$r" -- $(${tool}_cmd "tags$n") images
        done
done

# --- summary -------------------------------------------------------------------
echo
"$PY" - "$RESULTS" "$SIZES" "$TAG_SIZES" <<'EOF'
import sys
rows = {}
for line in open(sys.argv[1]):
    case, tool, vals = line.strip().split('|')
    ms, kib = vals.split()
    rows.setdefault(case, {})[tool] = (float(ms), int(kib))
print('| case | cpod ms | cpod MB | podman ms | podman MB | cpod/podman time | speed-up |')
print('|---|---:|---:|---:|---:|---:|---:|')
for case, t in rows.items():
    c = t.get('cpod'); p = t.get('podman')
    f = lambda v: '%.2f' % v[0] if v else '—'
    m = lambda v: '%.1f' % (v[1] / 1024) if v else '—'
    ratio = '%.3f' % (c[0] / p[0]) if c and p else '—'
    speed = ('%.0f×' if p[0] / c[0] >= 10 else '%.1f×') % (p[0] / c[0]) if c and p else '—'
    print('| %s | %s | %s | %s | %s | %s | %s |' % (case, f(c), m(c), f(p), m(p), ratio, speed))
print()
def get(case, tool):
    return rows.get(case, {}).get(tool)
checks = []
c1 = get('images 1', 'cpod')
if c1:
    checks.append(('images(1) <= 3 ms', c1[0] <= 3.0, '%.2f ms' % c1[0]))
    checks.append(('images(1) <= 4 MB peak RSS', c1[1] <= 4096, '%.1f MB' % (c1[1] / 1024)))
for case, want in (('images 1000', 20), ('images 1000 tags', 20), ('load', 5), ('image inspect', 5)):
    c, p = get(case, 'cpod'), get(case, 'podman')
    if c and p:
        checks.append(('%s >= %d× faster than podman' % (case, want), p[0] / c[0] >= want,
                       '%.1f×' % (p[0] / c[0])))
def linear(label, case, sizes):
    # growth per item between the two largest stores vs between the two smallest non-trivial ones
    pts = [(n, get(case % n, 'cpod')) for n in sizes if n >= 100]
    pts = [(n, v[0]) for n, v in pts if v]
    if len(pts) < 3:
        return (label, True, 'n/a (needs three sizes >= 100)')
    (n1, t1), (n2, t2) = pts[-2], pts[-1]
    per = (t2 - t1) / (n2 - n1) * 1000
    (m1, u1), (m2, u2) = pts[-3], pts[-2]
    per0 = (u2 - u1) / (m2 - m1) * 1000
    return (label, per <= max(per0, 1.0) * 2.0,
            '%.2f µs/item (%d→%d), %.2f µs/item (%d→%d)' % (per0, m1, m2, per, n1, n2))
checks.append(linear('images grows linearly (images)', 'images %d', [int(s) for s in sys.argv[2].split()]))
checks.append(linear('images grows linearly (tags)', 'images %d tags', [int(s) for s in sys.argv[3].split()]))
for name, ok, val in checks:
    print('%-44s %-5s %s' % (name, 'ok' if ok else 'MISS', val))
EOF
