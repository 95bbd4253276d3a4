#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `ps -a` with many containers: cpod with 100 and 1,000 created (not
# started) busybox containers, podman with $PODMAN_N (1,000) in a private
# --root/--runroot store. Median wall time of $RUNS runs of `ps -a` with its
# output to /dev/null, and the peak RSS of one more run (/usr/bin/time %M).
#
# Target: cpod ps -a at least 10x faster than podman ps -a at 1,000
# containers, and time growing no faster than linearly from 100 to 1,000.
#
# Results on the development machine (Debian 12, 2 cores shared with other
# jobs at load 3-5, kernel 6.18, podman 4.3.1; medians of 15-21 runs, which
# vary by up to 2x with the load):
#   before (every row's conmon files read: two failed opens per created
#   container):  cpod 100: 15.7 ms 4.7 MB | cpod 1,000: 49.5 ms 11.4 MB |
#                podman 1,000: 745 ms 99.8 MB (15.1x cpod)
#   after (one read of the run root's directory; only started containers
#   are looked at): cpod 100: 3.6 ms 4.7 MB | cpod 1,000: 25.7 ms 11.5 MB
#                (7.1x the time for 10x the containers) | podman 1,000 as
#                before: 29x cpod
#   Of the 1,000-row time, `ps -aq` (the listing alone) is ~12 ms; the rest
#   is building and printing the rows (including the PORTS cell, which looks
#   for two network files per container).
#
# usage: bench/bench-ps.sh [BUILD_DIR]      (default: ./build)
# env:   RUNS (15)        runs per case
#        PODMAN_N (1000)  containers podman gets (creating them takes ~40 ms each); 0: no podman
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$(cd "${1:-$REPO/build}" && pwd)
CPOD=$BUILD/src/cpod/cpod
IMAGES=$BUILD/images
RUNS=${RUNS:-15}
PODMAN_N=${PODMAN_N:-1000}

[ -x "$CPOD" ] || { echo "bench-ps: $CPOD is not built" >&2; exit 1; }
[ -f "$IMAGES/busybox.docker.tar" ] || { echo "bench-ps: $IMAGES has no test images" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "bench-ps: needs root" >&2; exit 1; }
"$REPO/tools/host-setup.sh"
command -v podman >/dev/null || PODMAN_N=0

T=$(mktemp -d /tmp/cpod-bench-ps.XXXXXX)
cleanup() {
        set +e
        [ "$PODMAN_N" -gt 0 ] && podman_ rm -af >/dev/null 2>&1
        grep -o " $T[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT

cpod_() { "$CPOD" --root "$T/cpod/root" --runroot "$T/cpod/run" "$@"; }
podman_() { podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver overlay "$@"; }

# median wall time in ms of RUNS runs of "$@", then the peak RSS in MB of one more
measure() {
        python3 - "$RUNS" "$@" <<'EOF'
import os, statistics, subprocess, sys, time
runs, argv = int(sys.argv[1]), sys.argv[2:]
null = os.open(os.devnull, os.O_RDWR)
walls = []
for _ in range(runs):
    t0 = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=[(os.POSIX_SPAWN_DUP2, null, 1)])
    _, status, _ = os.wait4(pid, 0)
    walls.append((time.perf_counter() - t0) * 1000)
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit("bench-ps: failed: %s" % " ".join(argv))
out = subprocess.run(['/usr/bin/time', '-f', '%M'] + argv, stdout=subprocess.DEVNULL,
                     stderr=subprocess.PIPE, text=True, check=True).stderr
print('%.1f %.1f' % (statistics.median(walls), int(out.split()[-1]) / 1024))
EOF
}

create_cpod() { # up to N containers in the cpod store
        local have
        have=$(cpod_ ps -aq | wc -l)
        for _ in $(seq $((have + 1)) "$1"); do
                cpod_ create --network none busybox true >/dev/null
        done
}

cpod_ load -i "$IMAGES/busybox.docker.tar" >/dev/null
echo "# ps -a benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)); $RUNS runs"
printf '%-30s %10s %9s\n' case median "peak RSS"
declare -A MED
for n in 100 1000; do
        create_cpod "$n"
        read -r ms mb < <(measure "$CPOD" --root "$T/cpod/root" --runroot "$T/cpod/run" ps -a)
        MED[cpod$n]=$ms
        printf '%-30s %7.1f ms %6.1f MB\n' "cpod ps -a, $n containers" "$ms" "$mb"
done
if [ "$PODMAN_N" -gt 0 ]; then
        podman_ load -i "$IMAGES/busybox.docker.tar" >/dev/null 2>&1
        for _ in $(seq "$PODMAN_N"); do
                podman_ create --network none busybox true >/dev/null
        done
        read -r ms mb < <(measure podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver overlay ps -a)
        MED[podman]=$ms
        printf '%-30s %7.1f ms %6.1f MB\n' "podman ps -a, $PODMAN_N containers" "$ms" "$mb"
fi
echo "growth 100 -> 1000 containers: $(echo "${MED[cpod100]} ${MED[cpod1000]}" | awk '{printf "%.1fx", $2 / $1}') the time"
if [ -n "${MED[podman]:-}" ]; then
        r=$(echo "${MED[podman]} ${MED[cpod1000]}" | awk '{printf "%.1f", $1 / $2}')
        [ "$PODMAN_N" = 1000 ] || r="$r (podman with $PODMAN_N containers)"
        echo "target: cpod >= 10x faster than podman at 1000: $(awk -v r="${r%% *}" 'BEGIN {print (r >= 10 ? "met" : "NOT met")}') (${r}x)"
fi
