#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libvl server and client throughput, latency, cost per call and memory,
# each next to an anchor measured in the same run:
#
#   1. one connection, sequential Ping: libvl client+server vs the raw
#      floor (bench/raw-pingpong.c), and vs the Go varlink server
#   2. server user-space instructions per Ping (valgrind callgrind)
#   3. 64 concurrent connections: libvl vs the raw floor; p99 vs p50
#   4. 1,000 idle connections: server RSS
#
#   bench/run-libvl.sh [SECONDS]
#
# SECONDS: length of each throughput run (default 3).
# CPOD_BENCH_BUILD: an optimised build dir (default <repo>/build-bench;
# configured and built here when libvl-static.a is missing).
# BENCH_ONE_CPU=N: run every server and client of the throughput measures
# on CPU N only (taskset). Off by default: nothing is pinned. On virtual
# machines whose idle vCPUs halt, each ping-pong wake-up of an idle vCPU can
# cost tens of microseconds, which then dominates all three sequential
# figures alike; sharing one CPU shows the user-space cost instead.
# BENCH_PROFILE=1: also print callgrind's per-function costs of the server.
# CC: the C compiler (default cc). Needs valgrind; the Go comparison needs
# golang-go and golang-github-varlink-go-dev and is skipped without them.

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${CPOD_BENCH_BUILD:-$repo/build-bench}
secs=${1:-3}
cc=${CC:-cc}
gocode=/usr/share/gocode

lib=$build/src/libvl/libvl-static.a
if [[ ! -f $lib ]]; then
        [[ -f $build/build.ninja ]] ||
                meson setup "$build" "$repo" --buildtype=release -Db_ndebug=true -Dvalidate_replies=false >/dev/null
        ninja -C "$build" src/libvl/libvl-static.a >/dev/null
fi

tmp=$(mktemp -d /tmp/cpod-bench-libvl.XXXXXX)
server_pid=
cleanup() {
        [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

# ---- build ----
cflags=(-std=gnu17 -O2 -g -Wall -Wextra -I"$repo/include")
for p in raw-pingpong vl-ping-server vl-ping-client; do
        "$cc" "${cflags[@]}" -o "$tmp/$p" "$repo/bench/$p.c" "$lib" -lpthread
done
have_go=0
if command -v go >/dev/null && [[ -d $gocode/src/github.com/varlink/go/varlink ]]; then
        mkdir -p "$tmp/gopath"
        if (cd "$repo/bench/go-ping" && GOCACHE=$tmp/gocache GO111MODULE=off \
                GOPATH=$tmp/gopath:$gocode go build -o "$tmp/go-ping" .); then
                have_go=1
        fi
fi

# ---- helpers ----
# start_server SOCKET COMMAND...: runs a server and waits for its socket.
start_server() {
        local sock=$1
        shift
        rm -f "$sock"
        "$@" &
        server_pid=$!
        for _ in $(seq 1 200); do
                [[ -S $sock ]] && return 0
                sleep 0.05
        done
        echo "server did not come up: $*" >&2
        exit 1
}
stop_server() {
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
        server_pid=
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
median3() { printf '%s\n' "$@" | sort -g | sed -n 2p; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { ok = op == ">=" ? v >= t : v <= t; print ok ? "ok" : "MISSED" }'; }

pin=()
if [[ -n ${BENCH_ONE_CPU:-} ]]; then
        pin=(taskset -c "$BENCH_ONE_CPU")
fi

raw_sock=$tmp/raw.sock
vl_sock=$tmp/vl.sock
go_sock=$tmp/go.sock

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
if awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 1.0) }'; then
        echo "warning: load average $load_before: other work competes for the CPUs, the throughput" \
                "figures will be low and noisy" >&2
fi

# ---- 1: one connection, sequential ----
declare -a raw1 vl1 go1 vl1_p50 vl1_p99 raw1_p50 raw1_p99 go1_p50 go1_p99
for i in 1 2 3; do
        start_server "$raw_sock" "${pin[@]}" "$tmp/raw-pingpong" server "$raw_sock"
        out=$("${pin[@]}" "$tmp/raw-pingpong" client "$raw_sock" -t "$secs")
        stop_server
        raw1+=("$(field calls_per_sec "$out")") raw1_p50+=("$(field p50_us "$out")")
        raw1_p99+=("$(field p99_us "$out")")

        start_server "$vl_sock" "${pin[@]}" "$tmp/vl-ping-server" "unix:$vl_sock"
        out=$("${pin[@]}" "$tmp/vl-ping-client" "unix:$vl_sock" -t "$secs")
        stop_server
        vl1+=("$(field calls_per_sec "$out")") vl1_p50+=("$(field p50_us "$out")")
        vl1_p99+=("$(field p99_us "$out")")

        if ((have_go)); then
                start_server "$go_sock" "${pin[@]}" "$tmp/go-ping" "unix:$go_sock"
                out=$("${pin[@]}" "$tmp/vl-ping-client" "unix:$go_sock" -t "$secs")
                stop_server
                go1+=("$(field calls_per_sec "$out")") go1_p50+=("$(field p50_us "$out")")
                go1_p99+=("$(field p99_us "$out")")
        fi
done
raw_seq=$(median3 "${raw1[@]}")
vl_seq=$(median3 "${vl1[@]}")
go_seq=$( ((have_go)) && median3 "${go1[@]}" || echo 0)

# ---- 2: server instructions per call ----
cg_total() {
        start_server "$vl_sock" valgrind --tool=callgrind --callgrind-out-file="$tmp/callgrind.$1" \
                "$tmp/vl-ping-server" "unix:$vl_sock" 2>/dev/null
        "$tmp/vl-ping-client" "unix:$vl_sock" -n "$1" >/dev/null
        stop_server
        sed -n 's/^summary: *\([0-9]*\).*/\1/p;s/^totals: *\([0-9]*\).*/\1/p' "$tmp/callgrind.$1" | head -1
}
ir_small=$(cg_total 10000)
ir_big=$(cg_total 20000)
ir_per_call=$(((ir_big - ir_small) / 10000))

# ---- 3: 64 concurrent connections ----
start_server "$raw_sock" "${pin[@]}" "$tmp/raw-pingpong" server "$raw_sock"
raw64=$("${pin[@]}" "$tmp/raw-pingpong" client "$raw_sock" -t "$secs" -c 64)
stop_server
start_server "$vl_sock" "${pin[@]}" "$tmp/vl-ping-server" "unix:$vl_sock"
vl64=$("${pin[@]}" "$tmp/vl-ping-client" "unix:$vl_sock" -t "$secs" -c 64)
stop_server
raw64_cps=$(field calls_per_sec "$raw64")
vl64_cps=$(field calls_per_sec "$vl64")
vl64_p50=$(field p50_us "$vl64")
vl64_p99=$(field p99_us "$vl64")

# ---- 4: 1,000 idle connections ----
ulimit -n 4096
start_server "$vl_sock" "${pin[@]}" "$tmp/vl-ping-server" "unix:$vl_sock"
rss_before=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
coproc idle { "$tmp/vl-ping-client" "unix:$vl_sock" --idle 1000; }
read -r line <&"${idle[0]}"
[[ $line == ready ]] || { echo "idle client failed" >&2; exit 1; }
rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$server_pid/status")
eval "exec ${idle[1]}>&-"
wait "$idle_PID" 2>/dev/null || true
stop_server
rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')

# ---- table ----
r_raw=$(ratio "$vl_seq" "$raw_seq")
r_go=$( ((have_go)) && ratio "$vl_seq" "$go_seq" || echo n/a)
r_64=$(ratio "$vl64_cps" "$raw64_cps")
r_tail=$(ratio "$vl64_p99" "$vl64_p50")

echo
echo "libvl benchmarks ($(nproc) cores, ${secs}s runs; sequential: median of 3;" \
        "${pin[*]:-not pinned}; load average before: $load_before)"
echo
printf '%-42s %-46s %-10s %s\n' "measure" "figure" "target" "result"
printf '%-42s %-46s %-10s %s\n' "1 conn: raw floor" "$raw_seq calls/s (runs: ${raw1[*]})" "" ""
printf '%-42s %-46s %-10s %s\n' "1 conn: libvl client -> libvl server" "$vl_seq calls/s (runs: ${vl1[*]})" "" ""
if ((have_go)); then
        printf '%-42s %-46s %-10s %s\n' "1 conn: libvl client -> Go server" "$go_seq calls/s (runs: ${go1[*]})" "" ""
fi
printf '%-42s %-46s %-10s %s\n' "1 conn: libvl / raw" "$r_raw" ">= 0.80" "$(verdict "$r_raw" 0.80 '>=')"
if ((have_go)); then
        printf '%-42s %-46s %-10s %s\n' "1 conn: libvl server / Go server" "$r_go" ">= 2.5" "$(verdict "$r_go" 2.5 '>=')"
fi
printf '%-42s %-46s %-10s %s\n' "1 conn latency libvl p50 / p99 (us)" "$(median3 "${vl1_p50[@]}") / $(median3 "${vl1_p99[@]}")" "" ""
printf '%-42s %-46s %-10s %s\n' "1 conn latency raw p50 / p99 (us)" "$(median3 "${raw1_p50[@]}") / $(median3 "${raw1_p99[@]}")" "" ""
printf '%-42s %-46s %-10s %s\n' "server instructions per Ping (callgrind)" "$ir_per_call" "<= 8000" "$(verdict "$ir_per_call" 8000 '<=')"
printf '%-42s %-46s %-10s %s\n' "64 conns: raw floor" "$raw64_cps calls/s" "" ""
printf '%-42s %-46s %-10s %s\n' "64 conns: libvl" "$vl64_cps calls/s" "" ""
printf '%-42s %-46s %-10s %s\n' "64 conns: libvl / raw" "$r_64" ">= 0.60" "$(verdict "$r_64" 0.60 '>=')"
printf '%-42s %-46s %-10s %s\n' "64 conns: raw p50 / p99 (us)" "$(field p50_us "$raw64") / $(field p99_us "$raw64")" "" ""
printf '%-42s %-46s %-10s %s\n' "64 conns: libvl p50 / p99 (us)" "$vl64_p50 / $vl64_p99" "" ""
printf '%-42s %-46s %-10s %s\n' "64 conns: libvl p99 / p50" "$r_tail" "<= 4" "$(verdict "$r_tail" 4 '<=')"
printf '%-42s %-46s %-10s %s\n' "1000 idle conns: server VmRSS" "$rss_mb MB (idle server: $((rss_before / 1024)) MB)" "<= 20 MB" "$(verdict "$rss_mb" 20 '<=')"

if [[ ${BENCH_PROFILE:-0} == 1 ]] && command -v callgrind_annotate >/dev/null; then
        echo
        echo "server hotspots, 20,000 pings (callgrind, inclusive of startup):"
        callgrind_annotate --threshold=99 "$tmp/callgrind.20000" | sed -n '/^-\{5,\}$/,$p' | head -45
fi
