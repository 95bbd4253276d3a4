#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Pull benchmark: the one-layer busybox image from a loopback docker-registry
# (started here on a free port with a temporary storage root) into
#   cpod     a fresh private store (download, verify, extract, record)
#   skopeo   `skopeo copy` to a fresh OCI layout directory (download only)
#   podman   a fresh private store (--root/--runroot in the temp dir)
# Median wall time of whole processes and median peak RSS (wait4, from bench-measure.c), with the
# ratios against the targets: cpod <= 1.2x skopeo, >= 4x faster than podman,
# <= 10 MB peak RSS. The exit code stays 0: the figures are the output.
#
# usage: bench/bench-pull.sh [BUILD_DIR]        (default: ./build)
# env:   RUNS (20), NO_PODMAN=1, PODMAN_DRIVER (vfs)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$(cd "${1:-$REPO/build}" && pwd)
CPOD=$BUILD/src/cpod/cpod
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-20}
PODMAN_DRIVER=${PODMAN_DRIVER:-vfs}

[ -x "$CPOD" ] || { echo "bench-pull: $CPOD is not built" >&2; exit 1; }
command -v docker-registry >/dev/null || { echo "bench-pull: install docker-registry" >&2; exit 1; }
command -v skopeo >/dev/null || { echo "bench-pull: install skopeo" >&2; exit 1; }
T=$(mktemp -d /tmp/cpb.XXXXXX) # short: podman limits the runroot's length
REG_PID=
cleanup() {
        set +e
        [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
        grep -o " ${T}[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT

IMAGES=$BUILD/images
if [ ! -f "$IMAGES/images.json" ]; then
        IMAGES=$T/images
        "$PY" "$REPO/tools/mkimage.py" "$IMAGES"
fi

PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat >"$T/registry.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $T/registry}
http: {addr: 127.0.0.1:$PORT, secret: bench-only}
EOF
docker-registry serve "$T/registry.yml" >"$T/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do
        curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && break
        sleep 0.05
done
REF=127.0.0.1:$PORT/bench/busybox:latest
skopeo copy -q --dest-tls-verify=false "oci:$IMAGES/busybox.oci:latest" "docker://$REF"

# bench-measure RUNS --before CMD -- CMD...: median wall ms and median peak RSS KiB of CMD, forked from
# a small C process (spawned from Python, CMD would report Python's resident size as its peak).
cc -O2 -o "$T/bench-measure" "$HERE/bench-measure.c"
measure() { "$T/bench-measure" "$1" --before "$2" -- "${@:3}"; }

# A fresh store per run; the umount covers a layer the store may have mounted (none for a pull).
FRESH="umount -l $T/c/root/* 2>/dev/null; rm -rf $T/c $T/s $T/p"
read -r CPOD_MS CPOD_KB < <(measure "$RUNS" "$FRESH" \
        "$CPOD" --root "$T/c/root" --runroot "$T/c/run" pull -q --tls-verify=false "$REF")
read -r SKOPEO_MS SKOPEO_KB < <(measure "$RUNS" "$FRESH" \
        skopeo copy -q --src-tls-verify=false "docker://$REF" "oci:$T/s:latest")
PODMAN_MS=
if [ -z "${NO_PODMAN:-}" ] && command -v podman >/dev/null; then
        read -r PODMAN_MS PODMAN_KB < <(measure "$RUNS" "$FRESH" \
                podman --root "$T/p/root" --runroot "$T/p/run" --storage-driver "$PODMAN_DRIVER" \
                pull -q --tls-verify=false "$REF")
fi

ratio() { "$PY" -c "print('%.2f' % ($1 / $2))"; }
echo "pull of the one-layer busybox image from a loopback registry, median of $RUNS runs"
printf '%-8s %10s %12s\n' tool 'wall ms' 'peak RSS MB'
mb() { "$PY" -c "print('%.1f' % ($1 / 1024))"; }
printf '%-8s %10s %12s\n' cpod "$CPOD_MS" "$(mb "$CPOD_KB")"
printf '%-8s %10s %12s\n' skopeo "$SKOPEO_MS" "$(mb "$SKOPEO_KB")"
[ -n "$PODMAN_MS" ] && printf '%-8s %10s %12s\n' "podman" "$PODMAN_MS" "$(mb "$PODMAN_KB")"
echo
R_SKOPEO=$(ratio "$CPOD_MS" "$SKOPEO_MS")
echo "cpod / skopeo wall: ${R_SKOPEO}x (target <= 1.2x; skopeo does not extract the layer)"
if [ -n "$PODMAN_MS" ]; then
        R_PODMAN=$(ratio "$PODMAN_MS" "$CPOD_MS")
        echo "podman / cpod wall: ${R_PODMAN}x (target >= 4x; podman storage driver $PODMAN_DRIVER)"
fi
echo "cpod peak RSS: $(mb "$CPOD_KB") MB (target <= 10 MB)"
