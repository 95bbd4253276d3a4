#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Pod lifecycle: `pod create` + `pod start` + `pod rm -f` of an empty pod
# (infra container only), cpod against podman, each in a private store, the
# same host, no network (--network none for both). Prints the median wall time
# of one cycle for each and the ratio; the target is cpod >= 3x faster.
#
# Result on the development machine (Debian 12, 2 cores, crun 1.8.1, conmon
# 2.1.6, podman 4.3.1; N=5): cpod 84.7 ms, podman 273.7 ms: 3.2x.
#
# usage: bench/bench-pod.sh [BUILD_DIR]      (default: ./build)
# env:   N (10)   cycles per tool
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$(cd "${1:-$REPO/build}" && pwd)
CPOD=$BUILD/src/cpod/cpod
N=${N:-10}

[ -x "$CPOD" ] || { echo "bench-pod: $CPOD is not built" >&2; exit 1; }
WORK=$(mktemp -d /tmp/bench-pod.XXXXXX)
cleanup() {
        [ -d "$WORK/podman" ] && "${P[@]}" system reset -f >/dev/null 2>&1 || true
        grep -o " $WORK[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$WORK"
}
trap cleanup EXIT

C=("$CPOD" --root "$WORK/cpod/root" --runroot "$WORK/cpod/run")
P=(podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --cgroup-manager cgroupfs
   --events-backend file)

now() { date +%s%N; }

# median of the cycle times (ns) given as arguments
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

cycle() { # tool-array-name
        local -n T=$1
        local t0 t1
        t0=$(now)
        "${T[@]}" pod create --name benchpod --network none >/dev/null
        "${T[@]}" pod start benchpod >/dev/null
        "${T[@]}" pod rm -f benchpod >/dev/null
        t1=$(now)
        echo $((t1 - t0))
}

run_tool() { # name array-name
        local times=() i
        cycle "$2" >/dev/null # warm-up: builds (cpod) or pulls nothing; podman needs its infra image
        for ((i = 0; i < N; i++)); do times+=("$(cycle "$2")"); done
        median "${times[@]}"
}

cpod_ns=$(run_tool cpod C)
printf 'cpod   pod create+start+rm -f: %6.1f ms (median of %d)\n' "$(echo "$cpod_ns / 1000000" | bc -l)" "$N"
if ! command -v podman >/dev/null; then
        echo "podman not installed: no ratio"
        exit 0
fi
# podman's default infra image comes from a registry; give it ours (catatonit, built by cpod) instead
"${C[@]}" save -o "$WORK/infra.tar" localhost/cpod-infra:latest >/dev/null
"${P[@]}" load -i "$WORK/infra.tar" >/dev/null
# rlimits no higher than this host's hard limits (host-notes.md), as cpod does by itself
printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\n' "$(ulimit -Hn)" "$(ulimit -Hn)" \
        >"$WORK/containers.conf"
export CONTAINERS_CONF=$WORK/containers.conf
podman_cycle() {
        local t0 t1
        t0=$(now)
        "${P[@]}" pod create --name benchpod --network none --infra-image localhost/cpod-infra:latest \
                --infra-command /catatonit >/dev/null
        "${P[@]}" pod start benchpod >/dev/null
        "${P[@]}" pod rm -f benchpod >/dev/null
        t1=$(now)
        echo $((t1 - t0))
}
podman_cycle >/dev/null
times=()
for ((i = 0; i < N; i++)); do times+=("$(podman_cycle)"); done
podman_ns=$(median "${times[@]}")
printf 'podman pod create+start+rm -f: %6.1f ms (median of %d)\n' "$(echo "$podman_ns / 1000000" | bc -l)" "$N"
printf 'ratio (podman / cpod): %.1fx (target >= 3x)\n' "$(echo "$podman_ns / $cpod_ns" | bc -l)"
