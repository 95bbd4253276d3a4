#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Remote against local listing: `cpod --remote ps -a` through `cpod varlink` and local `cpod ps -a`, on a
# private store holding 100 created containers. Prints the median wall time of each and their ratio
# (target: remote at most 1.5 times local).
#   bench/bench-remote.sh [BUILD_DIR] [RUNS]
set -eu
build=${1:-build}
runs=${2:-21}
cpod=$build/src/cpod/cpod
image=$build/images/busybox.docker.tar
tmp=$(mktemp -d)
store="--root $tmp/root --runroot $tmp/run"
sock=$tmp/io.podman
svc=
cleanup() {
        [ -n "$svc" ] && kill "$svc" 2>/dev/null || true
        $cpod $store rm -af >/dev/null 2>&1 || true
        rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

$cpod $store load -i "$image" >/dev/null
i=0
while [ $i -lt 100 ]; do
        $cpod $store create busybox true >/dev/null
        i=$((i + 1))
done
$cpod $store varlink --timeout 0 "unix:$sock" &
svc=$!
while [ ! -S "$sock" ]; do sleep 0.05; done

# median wall time in milliseconds of RUNS runs of the command
median() {
        n=0
        while [ $n -lt "$runs" ]; do
                s=$(date +%s%N)
                "$@" >/dev/null
                e=$(date +%s%N)
                echo $(((e - s) / 1000))
                n=$((n + 1))
        done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f\n", v[int((NR + 1) / 2)] / 1000 }'
}

# both must print the same
$cpod $store ps -a >"$tmp/local.out"
$cpod --url "unix:$sock" ps -a >"$tmp/remote.out"
cmp -s "$tmp/local.out" "$tmp/remote.out" || { echo "remote and local ps -a differ" >&2; exit 1; }

local_ms=$(median $cpod $store ps -a)
remote_ms=$(median $cpod --url "unix:$sock" ps -a)
echo "containers: 100  runs: $runs"
echo "local  ps -a: ${local_ms} ms (median)"
echo "remote ps -a: ${remote_ms} ms (median)"
awk -v l="$local_ms" -v r="$remote_ms" 'BEGIN { printf "ratio remote/local: %.2f (target <= 1.5)\n", r / l }'
