#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Pod lifecycle: `pod create` + `pod start` + `pod rm -f` of an empty pod
# (infra container only), cpod against podman, each in a private store, the
# same host, no network (--network none for both). One cycle is the three
# commands, timed together. The tools are measured interleaved, one cycle of
# each per round, the order alternating from round to round, so a busy
# machine slows both alike; what a cycle leaves running (conmon's exit
# command, podman's cleanup process) is waited for, untimed, before the next
# cycle starts. Prints the median, min and p90 of a cycle for
# each, and the ratio; the target is cpod >= 3x faster than podman.
#
# Result on the development machine (Debian 12, 2 cores shared with other
# jobs, crun 1.8.1, conmon 2.1.6, podman 4.3.1):
#   before interleaving (all cpod cycles, then all podman cycles; N=5):
#     cpod 84.7 ms, podman 273.7 ms: 3.2x; another day 82 vs 238 ms: 2.9x
#   interleaved, `pod rm -f` killing the pod's processes itself (no runtime
#     `kill` process, no exit-file watch per container; engine/pod.c), 30
#     rounds with BASELINE=the build before that change: at load 1.1 cpod
#     45.9 ms (p90 57.2) | baseline 72.5 ms (0.63x) | podman 264 ms: 5.75x;
#     at load 0.9-1.5 cpod 53.4 ms | baseline 83.6 ms (0.64x) | podman
#     281 ms: 5.26x (the baseline alone: 3.4-3.6x)
#
# usage: bench/bench-pod.sh [BUILD_DIR]      (default: ./build)
# env:   N (30)        rounds
#        NO_PODMAN=1   leave podman out
#        BASELINE=DIR  another build directory of cpod, measured as one more case (own store) in
#                      the same rounds: an A/B of a change
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$(cd "${1:-$REPO/build}" && pwd)
CPOD=$BUILD/src/cpod/cpod
N=${N:-30}
BASELINE=${BASELINE:+$(cd "$BASELINE" && pwd)}

[ -x "$CPOD" ] || { echo "bench-pod: $CPOD is not built" >&2; exit 1; }
[ -z "$BASELINE" ] || [ -x "$BASELINE/src/cpod/cpod" ] ||
        { echo "bench-pod: $BASELINE/src/cpod/cpod is not built" >&2; exit 1; }
WORK=$(mktemp -d /tmp/bench-pod.XXXXXX)
HAVE_PODMAN=
cleanup() {
        set +e
        [ -n "$HAVE_PODMAN" ] && "${P[@]}" system reset -f >/dev/null 2>&1
        for t in C B; do
                local -n T=$t
                [ "${#T[@]}" -gt 0 ] && "${T[@]}" pod rm -f benchpod >/dev/null 2>&1
        done
        grep -o " ${WORK}[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
        rm -rf "$WORK"
}
trap cleanup EXIT

C=("$CPOD" --root "$WORK/cpod/root" --runroot "$WORK/cpod/run")
B=() # used through a name reference (cycle, cleanup)
# shellcheck disable=SC2034
[ -n "$BASELINE" ] && B=("$BASELINE/src/cpod/cpod" --root "$WORK/base/root" --runroot "$WORK/base/run")
P=(podman --root "$WORK/podman/root" --runroot "$WORK/podman/run" --cgroup-manager cgroupfs
   --events-backend file)

now() { date +%s%N; }

cycle() { # tool-array-name [extra pod create options...]: the cycle's wall time in ns
        local -n T=$1
        shift
        local t0 t1
        t0=$(now)
        "${T[@]}" pod create --name benchpod --network none "$@" >/dev/null
        "${T[@]}" pod start benchpod >/dev/null
        "${T[@]}" pod rm -f benchpod >/dev/null
        t1=$(now)
        echo $((t1 - t0))
        settle "${T[2]}"
}

# What a cycle leaves running (conmon's exit command, podman's cleanup process) would slow the next
# case down: wait for it, untimed, before the next cycle starts (at most 10 s).
settle() { # the tool's --root
        local i
        for ((i = 0; i < 2000; i++)); do
                pgrep -f -- "$(dirname "$1")/" >/dev/null || return 0
                sleep 0.005
        done
}

# the cases measured in every round: name, tool array, extra create options
NAMES=("cpod") TOOLS=("C") EXTRA=("")
if [ -n "$BASELINE" ]; then
        NAMES+=("baseline") TOOLS+=("B") EXTRA+=("")
fi
if [ -z "${NO_PODMAN:-}" ] && command -v podman >/dev/null; then
        HAVE_PODMAN=1
        # podman's default infra image comes from a registry; give it ours (catatonit, built by cpod)
        cycle C >/dev/null # builds cpod's infra image (and warms cpod up)
        "${C[@]}" save -o "$WORK/infra.tar" localhost/cpod-infra:latest >/dev/null
        "${P[@]}" load -i "$WORK/infra.tar" >"$WORK/load.log" 2>&1 || { cat "$WORK/load.log" >&2; exit 1; }
        # rlimits no higher than this host's hard limits (host-notes.md), as cpod does by itself
        printf '[containers]\ndefault_ulimits = ["nofile=%s:%s", "nproc=4096:4096"]\n' "$(ulimit -Hn)" \
                "$(ulimit -Hn)" >"$WORK/containers.conf"
        export CONTAINERS_CONF=$WORK/containers.conf
        NAMES+=("podman") TOOLS+=("P") EXTRA+=("--infra-image localhost/cpod-infra:latest --infra-command /catatonit")
fi

# one warm-up cycle each (cpod builds its infra image on first use), then N rounds
for k in "${!NAMES[@]}"; do
        # shellcheck disable=SC2086 # EXTRA holds words
        cycle "${TOOLS[$k]}" ${EXTRA[$k]} >/dev/null
        : >"$WORK/times.$k"
done
echo "# pod lifecycle benchmark ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg))"
echo "# $N interleaved rounds of pod create + pod start + pod rm -f (--network none); cpod: $CPOD"
ncase=${#NAMES[@]}
for ((i = 0; i < N; i++)); do
        for ((j = 0; j < ncase; j++)); do
                k=$(((i + j) % ncase)) # the order rotates: each case goes first in turn
                # shellcheck disable=SC2086
                cycle "${TOOLS[$k]}" ${EXTRA[$k]} >>"$WORK/times.$k"
        done
done

stats() { # file: median min p90 in ms
        sort -n "$1" | awk '{a[NR] = $1 / 1e6} END {
                p = int(NR * 0.9 + 0.999999); if (p < 1) p = 1; if (p > NR) p = NR
                m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
                printf "%.1f %.1f %.1f\n", m, a[1], a[p] }'
}
printf '%-10s %10s %10s %10s\n' case median min p90
declare -A MED
for k in "${!NAMES[@]}"; do
        read -r med min p90 < <(stats "$WORK/times.$k")
        MED[${NAMES[$k]}]=$med
        printf '%-10s %7.1f ms %7.1f ms %7.1f ms\n' "${NAMES[$k]}" "$med" "$min" "$p90"
done
[ -n "$BASELINE" ] && echo "cpod / baseline: $(echo "${MED[cpod]} ${MED[baseline]}" | awk '{printf "%.2fx", $1 / $2}')"
if [ -z "$HAVE_PODMAN" ]; then
        echo "podman not measured: no ratio"
        exit 0
fi
[ -n "$BASELINE" ] && echo "podman / baseline: $(echo "${MED[podman]} ${MED[baseline]}" | awk '{printf "%.2fx", $1 / $2}')"
echo "target: cpod pod create+start+rm -f >= 3x faster than podman: $(echo "${MED[podman]} ${MED[cpod]}" |
        awk '{r = $1 / $2; print (r >= 3 ? "met" : "NOT met") " (" sprintf("%.2f", r) "x)"}')"
