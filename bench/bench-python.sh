#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python bindings' cost per call: sequential org.example.ping.Ping calls
# over one connection to the libvl ping server (bench/vl-ping-server.c) from
#   - cpod.varlink.Client.call() (untyped, and with the interface loaded),
#   - an interface proxy (ping.Ping("x")),
#   - a raw Python socket sending the same bytes (the floor for Python),
# and the `varlink` CLI, one process per call. Prints µs per call, calls/s,
# ratios, and the binding's overhead over the raw floor (target: ≤ 50 µs).
#
#   bench/bench-python.sh [CALLS] [ROUNDS] [CLI_CALLS]
#
# CPOD_BUILD_DIR: the build directory with libvl and the varlink tool
# (default: <repo>/build). PYTHON: the interpreter (default: python3).

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${CPOD_BUILD_DIR:-$repo/build}
calls=${1:-20000}
rounds=${2:-5}
cli_calls=${3:-300}
python=${PYTHON:-python3}
cc=${CC:-cc}
varlink=$build/src/varlink/varlink
libvl=$build/src/libvl/libvl-static.a

for p in "$varlink" "$libvl"; do
        [[ -e $p ]] || { echo "missing $p (build first, or set CPOD_BUILD_DIR)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/cpod-bench-py.XXXXXX)
server_pid=
cleanup() {
        [[ -n $server_pid ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT

"$cc" -O2 -I"$repo/include" "$repo/bench/vl-ping-server.c" "$libvl" -o "$tmp/vl-ping-server"
sock=$tmp/ping.sock
"$tmp/vl-ping-server" "unix:$sock" >/dev/null 2>&1 &
server_pid=$!
for _ in $(seq 100); do
        [[ -S $sock ]] && break
        sleep 0.05
done
[[ -S $sock ]] || { echo "the ping server did not start" >&2; exit 1; }

declare -A r
while read -r key value; do
        r[$key]=$value
done < <("$python" "$repo/bench/bench-python.py" "unix:$sock" "$calls" "$rounds")

# The CLI: a process per call.
"$varlink" call "unix:$sock/org.example.ping.Ping" '{"ping":"x"}' >/dev/null
start=$(date +%s%N)
for ((i = 0; i < cli_calls; i++)); do
        "$varlink" call "unix:$sock/org.example.ping.Ping" '{"ping":"x"}' >/dev/null
done
end=$(date +%s%N)
cli_us=$(awk -v d=$((end - start)) -v n="$cli_calls" 'BEGIN { printf "%.2f", d / n / 1000 }')

echo "Python bindings, one connection, sequential org.example.ping.Ping ($("$python" -V 2>&1), $calls calls x $rounds rounds, medians)"
awk -v raw="${r[raw_us]}" -v c="${r[client_us]}" -v t="${r[client_typed_us]}" -v p="${r[proxy_us]}" -v cli="$cli_us" '
function row(name, us) { printf "  %-44s %9.2f us/call %10.0f calls/s %8.2f x raw\n", name, us, 1e6 / us, us / raw }
BEGIN {
        row("raw Python socket (floor, no JSON)", raw)
        row("cpod.varlink Client.call()", c)
        row("Client.call() with the interface loaded", t)
        row("interface proxy ping.Ping(\"x\")", p)
        row("varlink CLI, one process per call", cli)
        printf "  binding overhead over the raw floor: %.2f us untyped, %.2f us typed, %.2f us proxy (target <= 50 us): %s\n",
                c - raw, t - raw, p - raw, (p - raw <= 50 && t - raw <= 50 && c - raw <= 50) ? "met" : "MISSED"
        printf "  the binding is %.0f x faster than a varlink CLI process per call\n", cli / c
}'
