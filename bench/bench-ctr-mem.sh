#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Memory per running container: start $N (100) detached `busybox sleep 1000`
# containers in a private store, check that no cpod process stays behind,
# and report what each container costs in host processes: conmon's RSS and
# PSS (its share of pages shared with the other conmons: libc, glib), and
# the container's own process for comparison. Everything is stopped and
# removed afterwards.
#
# Results on the development machine (Debian 12, 2 cores shared with other
# jobs at load 3-5, kernel 6.18, conmon 2.1.6, crun 1.8.1; 100 containers):
#   conmon: RSS 2.00 MB, PSS 0.35 MB per container (sums: 200 MB RSS,
#     35 MB PSS: most of conmon's resident pages are glib and libc, shared)
#   the container's process (busybox sleep): RSS 1.35 MB
#   cpod processes left once the `run -d` commands returned: 0
#   100 x `run -d`: 9.9 s (99 ms each, with the machine busy)
#
# usage: bench/bench-ctr-mem.sh [BUILD_DIR]      (default: ./build)
# env:   N (100)   containers
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$(cd "${1:-$REPO/build}" && pwd)
CPOD=$BUILD/src/cpod/cpod
IMAGES=$BUILD/images
N=${N:-100}

[ -x "$CPOD" ] || { echo "bench-ctr-mem: $CPOD is not built" >&2; exit 1; }
[ -f "$IMAGES/busybox.docker.tar" ] || { echo "bench-ctr-mem: $IMAGES has no test images" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench-ctr-mem: needs root" >&2; exit 1; }
"$REPO/tools/host-setup.sh"

T=$(mktemp -d /tmp/cpod-bench-mem.XXXXXX)
cpod_() { "$CPOD" --root "$T/root" --runroot "$T/run" "$@"; }
cleanup() {
        set +e
        cpod_ stop -a -t 0 >/dev/null 2>&1
        cpod_ rm -af >/dev/null 2>&1
        grep -o " $T[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

# PIDs of processes named $1 whose command line mentions this store
store_pids() {
        local p
        for p in $(pgrep -x "$1" || true); do
                tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null | grep -q -- "$T" && echo "$p"
        done
        return 0
}

cpod_ load -i "$IMAGES/busybox.docker.tar" >/dev/null
echo "# container memory benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), $N containers)"
t0=$(date +%s%N)
for i in $(seq "$N"); do
        cpod_ run -d --network none --name "mem$i" busybox sleep 1000 >/dev/null
done
t1=$(date +%s%N)
running=$(cpod_ ps -q | wc -l)
left=$(store_pids cpod | wc -l)
conmons=$(store_pids conmon)
# the containers' processes: the pids conmon reported
ctr_pids=$(cpod_ ps --format '{{.Pid}}')

# sum of VmRSS / Pss (kB) over pids
sum_kb() { # FIELD FILE PID...
        local field=$1 file=$2 total=0 p v
        shift 2
        for p in "$@"; do
                v=$(awk -v f="$field:" '$1 == f {print $2}' "/proc/$p/$file" 2>/dev/null || echo 0)
                total=$((total + ${v:-0}))
        done
        echo "$total"
}
# shellcheck disable=SC2086
rss=$(sum_kb VmRSS status $conmons)
# shellcheck disable=SC2086
pss=$(sum_kb Pss smaps_rollup $conmons)
# shellcheck disable=SC2086
crss=$(sum_kb VmRSS status $ctr_pids)
nc=$(echo "$conmons" | grep -c . || true)

printf 'containers running:             %d of %d\n' "$running" "$N"
printf 'conmon processes:               %d\n' "$nc"
printf 'cpod processes left:            %d\n' "$left"
printf '%d x run -d:                   %.1f s (%.0f ms each)\n' "$N" "$(echo "$t0 $t1" | awk '{print ($2 - $1) / 1e9}')" \
        "$(echo "$t0 $t1 $N" | awk '{print ($2 - $1) / 1e6 / $3}')"
printf 'conmon RSS per container:       %.2f MB (total %.1f MB)\n' "$(echo "$rss $nc" | awk '{print $1 / 1024 / ($2 ? $2 : 1)}')" \
        "$(echo "$rss" | awk '{print $1 / 1024}')"
printf 'conmon PSS per container:       %.2f MB (total %.1f MB)\n' "$(echo "$pss $nc" | awk '{print $1 / 1024 / ($2 ? $2 : 1)}')" \
        "$(echo "$pss" | awk '{print $1 / 1024}')"
printf 'container process RSS:          %.2f MB each\n' "$(echo "$crss $N" | awk '{print $1 / 1024 / $2}')"
[ "$left" = 0 ] || { echo "bench-ctr-mem: cpod processes remain:" >&2; store_pids cpod >&2; exit 1; }
