#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Every benchmark ("make bench"): libvl server and client (run-libvl.sh),
# then, when present, the varlink command line tool (bench-varlink-cli.sh)
# and JSON parsing and writing against json-c (bench-json.c); then, as root,
# cpod's own against podman, crun, skopeo and curl (bench/README.md lists
# them). CPOD_BENCH_ONLY=libvl stops after the first three.
#
# CPOD_BENCH_BUILD: the optimised build dir (default <repo>/build-bench,
# configured and built when missing).

set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
build=${CPOD_BENCH_BUILD:-$repo/build-bench}
cc=${CC:-cc}
status=0

if [[ ! -f $build/build.ninja ]]; then
        meson setup "$build" "$repo" --buildtype=release -Db_ndebug=true -Dvalidate_replies=false >/dev/null
fi
ninja -C "$build" >/dev/null || { echo "warning: ninja -C $build failed; benchmarks may be skipped" >&2; status=1; }

echo "== libvl server and client"
CPOD_BENCH_BUILD=$build "$repo/bench/run-libvl.sh" || status=1

if [[ -x $repo/bench/bench-varlink-cli.sh ]]; then
        echo
        echo "== varlink command line"
        CPOD_BUILD_DIR=$build "$repo/bench/bench-varlink-cli.sh" || status=1
fi

if [[ -f $repo/bench/bench-json.c ]]; then
        echo
        echo "== JSON (libvl vs json-c)"
        tmp=$(mktemp -d /tmp/cpod-bench-json.XXXXXX)
        trap 'rm -rf "$tmp"' EXIT
        # shellcheck disable=SC2046 # pkg-config output is a list of words
        if "$cc" -O2 -I"$repo/include" -o "$tmp/bench-json" "$repo/bench/bench-json.c" \
                "$build/src/libvl/libvl-static.a" $(pkg-config --cflags --libs json-c); then
                (cd "$repo" && "$tmp/bench-json") || status=1
        else
                status=1
        fi
fi

if [[ ${CPOD_BENCH_ONLY:-} == libvl ]]; then
        exit $status
fi
if [[ $(id -u) != 0 ]]; then
        echo "cpod benchmarks skipped: they need root (containers, networks, a registry)" >&2
        exit $status
fi
for b in bench-images bench-pull bench-registry-large bench-run bench-ps bench-ctr-mem bench-network \
        bench-pod bench-service bench-remote bench-python; do
        [[ -x $repo/bench/$b.sh ]] || continue
        echo
        echo "== $b"
        CPOD_BUILD_DIR=$build "$repo/bench/$b.sh" "$build" || status=1
done

exit $status
