#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# "varlink call" as a whole process, next to a raw C client (bench/raw-call.c):
# median wall time and peak RSS of one call, over RUNS runs each.
#
#   bench/bench-varlink-cli.sh [RUNS]
#
# CPOD_BUILD_DIR: the build directory (default: <repo>/build).
# SERVER: the service to call (default: our certification server).
# METHOD: the method to call (default: org.varlink.certification.Start; Go's
#   certification server crashes after ~100 Starts, use org.varlink.service.GetInfo).
# Targets: at most 2 ms wall and 2 MB peak RSS per call.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${CPOD_BUILD_DIR:-$repo/build}
runs=${1:-200}
varlink=$build/src/varlink/varlink
server=${SERVER:-$build/src/certification/varlink-certification}
method=${METHOD:-org.varlink.certification.Start}
cc=${CC:-cc}

for p in "$varlink" "$server"; do
        [[ -x $p ]] || { echo "missing $p (build first, or set CPOD_BUILD_DIR/SERVER)" >&2; exit 1; }
done
command -v hyperfine >/dev/null || { echo "hyperfine is needed" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is needed" >&2; exit 1; }

tmp=$(mktemp -d /tmp/cpod-bench.XXXXXX)
server_pid=
cleanup() {
        [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

"$cc" -O2 -o "$tmp/raw-call" "$repo/bench/raw-call.c"

sock=$tmp/cert.sock
"$server" --varlink="unix:$sock" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 100); do
        [[ -S $sock ]] && "$tmp/raw-call" "$sock" 2>/dev/null && break
        sleep 0.05
done

raw=("$tmp/raw-call" "$sock" "$method")
cli=("$varlink" call "unix:$sock/$method")
"${cli[@]}" >/dev/null

# Median wall time in ms, from hyperfine (no shell in between).
median_ms() {
        local json=$tmp/h.json
        hyperfine -N --style none --warmup 20 --runs "$runs" --export-json "$json" -- "$(printf '%q ' "$@")" \
                >/dev/null 2>&1
        python3 -c 'import json,sys; print("%.3f" % (json.load(open(sys.argv[1]))["results"][0]["median"] * 1e3))' "$json"
}

# Median of the peak RSS (KiB) of each run.
median_rss_kb() {
        local i
        for ((i = 0; i < runs; i++)); do
                /usr/bin/time -f '%M' -o "$tmp/rss" "$@" >/dev/null
                cat "$tmp/rss"
        done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

raw_ms=$(median_ms "${raw[@]}")
cli_ms=$(median_ms "${cli[@]}")
raw_kb=$(median_rss_kb "${raw[@]}")
cli_kb=$(median_rss_kb "${cli[@]}")

printf '%-18s %12s %14s\n' "" "median wall" "peak RSS"
printf '%-18s %9s ms %11s KiB\n' "raw C client" "$raw_ms" "$raw_kb"
printf '%-18s %9s ms %11s KiB\n' "varlink call" "$cli_ms" "$cli_kb"
awk -v a="$cli_ms" -v b="$raw_ms" -v c="$cli_kb" -v d="$raw_kb" \
        'BEGIN { printf "%-18s %11.2fx %13.2fx\n", "ratio", a / b, c / d }'
awk -v a="$cli_ms" -v c="$cli_kb" 'BEGIN {
        printf "target: <= 2 ms and <= 2048 KiB: %s\n", (a <= 2 && c <= 2048) ? "met" : "NOT met" }'
