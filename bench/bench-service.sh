#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `cpod varlink` benchmarks, each next to an anchor measured in the same run:
#
#   a  cold start: systemd-socket-activate holds the socket, a fresh service
#      process each time; connect + Ping until the reply (median of COLD_RUNS).
#      Anchor: libvl's own ping server (bench/vl-ping-server.c) started the
#      same way.
#   b  idle VmRSS of the parent after start and after use, next to podman's
#      REST service (`podman system service`) on an equivalent store.
#   c  ListImages (100 images) and ListContainers (100 containers) over the
#      API, next to podman's REST equivalents (/libpod/images/json,
#      /libpod/containers/json?all=true); one Python client for both, which
#      reads whole replies and parses neither.
#   d  Ping throughput over one connection: io.projectatomic.podman.Ping
#      through the service vs org.example.ping.Ping on libvl's ping server,
#      the same libvl client (bench/svc-client.c) for both; median of 3 runs.
#
# Every store is private (a temporary directory); the system stores are never
# touched. The exit code stays 0 unless something fails to run.
#
# usage: bench/bench-service.sh [BUILD_DIR]     (default: <repo>/build-bench)
# env:   COLD_RUNS (50)   cold starts per server
#        CALLS (50)       calls per case of c (after 3 unmeasured ones)
#        SECS (3)         length of each throughput run of d
#        N (100)          images and containers of c
#        BENCH_ONE_CPU=N  run the servers and clients of d on CPU N only
#        NO_PODMAN=1      measure cpod only
#        CC               the C compiler (default cc)
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=${1:-${CPOD_BENCH_BUILD:-$REPO/build-bench}}
if [ ! -f "$BUILD/build.ninja" ]; then
        meson setup "$BUILD" "$REPO" --buildtype=release -Db_ndebug=true -Dvalidate_replies=false >/dev/null
fi
ninja -C "$BUILD" src/cpod/cpod src/libvl/libvl-static.a images/busybox.docker.tar >/dev/null
BUILD=$(cd "$BUILD" && pwd)
CPOD=$BUILD/src/cpod/cpod
PY=${PYTHON:-/usr/bin/python3}
COLD_RUNS=${COLD_RUNS:-50}
CALLS=${CALLS:-50}
SECS=${SECS:-3}
N=${N:-100}
CC=${CC:-cc}
SA=$(command -v systemd-socket-activate) || { echo "bench-service: needs systemd-socket-activate" >&2; exit 1; }

T=$(mktemp -d /tmp/cpod-bench-service.XXXXXX)
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
        if [ -d "$T/cpod" ]; then "$CPOD" --root "$T/cpod/root" --runroot "$T/cpod/run" rm -af >/dev/null 2>&1 || true; fi
        grep -o " ${T}[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        rm -rf "$T"
}
trap cleanup EXIT

quiet() { "$@" >"$T/setup.log" 2>&1 || { echo "bench-service: failed: $*" >&2; cat "$T/setup.log" >&2; exit 1; }; }

for p in svc-client vl-ping-server; do
        "$CC" -std=gnu17 -O2 -Wall -Wextra -I"$REPO/include" -o "$T/$p" "$HERE/$p.c" \
                "$BUILD/src/libvl/libvl-static.a" -lpthread
done

HAVE_PODMAN=0
if [ -z "${NO_PODMAN:-}" ] && command -v podman >/dev/null && command -v curl >/dev/null; then
        HAVE_PODMAN=1
        PODMAN_VERSION=$(podman version --format '{{.Client.Version}}' 2>/dev/null || echo '?')
fi

cpod_() { "$CPOD" --root "$T/cpod/root" --runroot "$T/cpod/run" "$@"; }
podman_() { podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver "$PODMAN_DRIVER" "$@"; }

median() { sort -n | awk '{v[NR] = $1} END {if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {if (b > 0) printf "%.2f", a / b; else print "-"}'; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
# the pid of the (only) process whose parent is $1 and whose command is $2
child_of() { pgrep -P "$1" -x "$2" | head -n1; }
wait_sock() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }

echo "# cpod varlink benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(uname -r))"
echo "# cpod: $CPOD"
[ $HAVE_PODMAN = 1 ] && echo "# podman $PODMAN_VERSION, private --root/--runroot"

# --- a: cold start ---------------------------------------------------------------------------------------
# cold SERVER-COMMAND... (after --): svc-client options before it
cold() {
        local opts=() s=$T/cold.sock
        while [ "$1" != -- ]; do opts+=("$1"); shift; done
        shift
        for _ in $(seq "$COLD_RUNS"); do
                rm -f "$s"
                "$SA" -l "$s" "$@" >/dev/null 2>&1 &
                local sa=$!
                "$T/svc-client" "unix:$s" --first "${opts[@]}"
                kill "$sa" 2>/dev/null || true
                wait "$sa" 2>/dev/null || true
        done | median
}
mkdir -p "$T/cpod"
quiet cpod_ load -i "$BUILD/images/busybox.docker.tar"
echo "a. cold start, socket-activated, connect + Ping to reply (median of $COLD_RUNS, µs)"
cold_cpod=$(cold -- "$CPOD" --root "$T/cpod/root" --runroot "$T/cpod/run" varlink)
cold_vl=$(cold -m org.example.ping.Ping -p '{"ping":"x"}' -- "$T/vl-ping-server" "unix:$T/unused.sock")
printf '   cpod varlink %8.0f µs   libvl ping server %8.0f µs   ratio %s\n' "$cold_cpod" "$cold_vl" \
        "$(ratio "$cold_cpod" "$cold_vl")"

# --- c: stores with N images and N containers ----------------------------------------------------------------
"$PY" - "$T/images.tar" "$N" <<'EOF'
# a docker-archive of N tiny images, each with its own one-file layer
import hashlib, io, json, sys, tarfile
out, n = sys.argv[1], int(sys.argv[2])
def add(tf, name, data):
    ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000; ti.mode = 0o644
    tf.addfile(ti, io.BytesIO(data))
manifest = []
with tarfile.open(out, 'w', format=tarfile.USTAR_FORMAT) as tf:
    for i in range(n):
        b = io.BytesIO()
        with tarfile.open(fileobj=b, mode='w', format=tarfile.USTAR_FORMAT) as lt:
            add(lt, 'id', ('image %d\n' % i).encode())
        layer = b.getvalue()
        lh = hashlib.sha256(layer).hexdigest()
        add(tf, lh + '/layer.tar', layer)
        cfg = json.dumps({'architecture': 'amd64', 'os': 'linux', 'created': '2023-11-14T22:13:20Z',
                          'config': {'Cmd': ['sh'], 'Labels': {'n': str(i)}},
                          'rootfs': {'type': 'layers', 'diff_ids': ['sha256:' + lh]},
                          'history': [{'created': '2023-11-14T22:13:20Z'}]}, sort_keys=True).encode()
        ch = hashlib.sha256(cfg).hexdigest()
        add(tf, ch + '.json', cfg)
        manifest.append({'Config': ch + '.json', 'RepoTags': ['localhost/bench/img%d:latest' % i],
                         'Layers': [lh + '/layer.tar']})
    add(tf, 'manifest.json', json.dumps(manifest).encode())
EOF
# N images in total: busybox (the containers' image) and N - 1 generated ones
"$PY" - "$T/images.tar" "$T/images-1.tar" <<'EOF'
import json, sys, tarfile
src, dst = sys.argv[1], sys.argv[2]
with tarfile.open(src) as t:
    m = json.load(t.extractfile('manifest.json'))[:-1]
    keep = {e['Config'] for e in m} | {l for e in m for l in e['Layers']}
    with tarfile.open(dst, 'w', format=tarfile.USTAR_FORMAT) as o:
        for ti in t.getmembers():
            if ti.name in keep:
                o.addfile(ti, t.extractfile(ti))
        data = json.dumps(m).encode()
        ti = tarfile.TarInfo('manifest.json'); ti.size = len(data); ti.mtime = 1700000000
        import io; o.addfile(ti, io.BytesIO(data))
EOF
quiet cpod_ load -i "$T/images-1.tar"
for i in $(seq "$N"); do quiet cpod_ create --name "c$i" docker.io/library/busybox:latest true; done

if [ $HAVE_PODMAN = 1 ]; then
        PODMAN_DRIVER=${PODMAN_DRIVER:-vfs}
        mkdir -p "$T/podman"
        quiet podman_ load -i "$BUILD/images/busybox.docker.tar"
        quiet podman_ load -i "$T/images-1.tar"
        for i in $(seq "$N"); do quiet podman_ create --name "c$i" docker.io/library/busybox:latest true; done
fi

# the client of c: CALLS timed requests (after 3 unmeasured) on one kept connection, or on a new connection
# each (varlink "new"); prints the median in µs
cat >"$T/calls.py" <<'EOF'
import http.client, socket, statistics, sys, time
kind, path, what, calls = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])

def varlink_conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s

def varlink_call(s):
    s.sendall(b'{"method":"%s","parameters":{}}\0' % what.encode())
    buf = bytearray()
    while not buf.endswith(b'\0'):
        chunk = s.recv(1 << 20)
        if not chunk:
            raise EOFError
        buf += chunk
    if buf.startswith(b'{"error"') or b'"error":' in buf[:64]:
        raise RuntimeError(bytes(buf[:200]))
    return len(buf)

class UnixHTTP(http.client.HTTPConnection):
    def connect(self):
        self.sock = varlink_conn()

def http_call(c):
    c.request('GET', what)
    r = c.getresponse()
    body = r.read()
    if r.status != 200:
        raise RuntimeError(r.status)
    return len(body)

times, size = [], 0
keep = varlink_conn() if kind == 'varlink' else UnixHTTP('localhost') if kind == 'http' else None
for i in range(calls + 3):
    t0 = time.perf_counter()
    if kind == 'varlink':
        size = varlink_call(keep)
    elif kind == 'http':
        size = http_call(keep)
    else:
        s = varlink_conn()
        size = varlink_call(s)
        s.close()
    if i >= 3:
        times.append((time.perf_counter() - t0) * 1e6)
print('%.0f %d' % (statistics.median(times), size))
EOF

rm -f "$T/svc.sock"
"$CPOD" --root "$T/cpod/root" --runroot "$T/cpod/run" varlink "unix:$T/svc.sock" >/dev/null 2>"$T/svc.log" &
svc=$!
PIDS+=("$svc")
wait_sock "$T/svc.sock"
sleep 0.2
rss_cpod_start=$(rss_kb "$svc")
if [ $HAVE_PODMAN = 1 ]; then
        podman --root "$T/podman/root" --runroot "$T/podman/run" --storage-driver "$PODMAN_DRIVER" \
                system service --time 0 "unix://$T/podman.sock" >/dev/null 2>"$T/podman.log" &
        pod=$!
        PIDS+=("$pod")
        wait_sock "$T/podman.sock"
        sleep 1
        rss_podman_start=$(rss_kb "$pod")
        curl -sf --unix-socket "$T/podman.sock" http://d/v4.0.0/libpod/_ping >/dev/null
fi

echo "c. $N images / $N containers: median of $CALLS calls (µs, reply bytes)"
call() { "$PY" "$T/calls.py" "$@" "$CALLS"; }
li=$(call varlink "$T/svc.sock" io.podman.ListImages)
lin=$(call new "$T/svc.sock" io.podman.ListImages)
lc=$(call varlink "$T/svc.sock" io.podman.ListContainers)
lcn=$(call new "$T/svc.sock" io.podman.ListContainers)
printf '   %-44s %9s µs %9s B\n' "cpod ListImages (kept connection)" $li "cpod ListImages (new connection each)" $lin \
        "cpod ListContainers (kept connection)" $lc "cpod ListContainers (new connection each)" $lcn
if [ $HAVE_PODMAN = 1 ]; then
        pi=$(call http "$T/podman.sock" /v4.0.0/libpod/images/json)
        pc=$(call http "$T/podman.sock" '/v4.0.0/libpod/containers/json?all=true')
        printf '   %-44s %9s µs %9s B\n' "podman GET /libpod/images/json" $pi \
                "podman GET /libpod/containers/json?all=true" $pc
        set -- "${li% *}" "${lin% *}" "${lc% *}" "${lcn% *}" "${pi% *}" "${pc% *}"
        printf '   podman/cpod: images %s× (new connection: %s×), containers %s× (new connection: %s×)\n' \
                "$(ratio "$5" "$1")" "$(ratio "$5" "$2")" "$(ratio "$6" "$3")" "$(ratio "$6" "$4")"
fi

# --- d: Ping throughput over one connection --------------------------------------------------------------------
pin=()
[ -n "${BENCH_ONE_CPU:-}" ] && pin=(taskset -c "$BENCH_ONE_CPU")
# the two servers' runs alternate, so that drift of the machine hits both alike
ping_runs() { # svc-client arguments: one run, one result line
        "${pin[@]}" "$T/svc-client" "$@"
}
median_line() { sort -t= -k5 -n | sed -n 2p; }
rm -f "$T/pin.sock" "$T/ping.sock"
"${pin[@]}" "$CPOD" --root "$T/cpod/root" --runroot "$T/cpod/run" varlink "unix:$T/pin.sock" >/dev/null 2>>"$T/svc.log" &
PIDS+=($!)
"${pin[@]}" "$T/vl-ping-server" "unix:$T/ping.sock" >/dev/null &
PIDS+=($!)
wait_sock "$T/pin.sock"
wait_sock "$T/ping.sock"
echo "d. Ping over one connection, ${SECS}s, median of 3 runs${BENCH_ONE_CPU:+ (all on CPU $BENCH_ONE_CPU)}"
: >"$T/d-cpod"
: >"$T/d-vl"
for _ in 1 2 3; do
        ping_runs "unix:$T/pin.sock" -t "$SECS" >>"$T/d-cpod"
        ping_runs "unix:$T/ping.sock" -t "$SECS" -m org.example.ping.Ping -p '{"ping":"x"}' >>"$T/d-vl"
done
d_cpod=$(median_line <"$T/d-cpod")
d_vl=$(median_line <"$T/d-vl")
echo "   cpod io.projectatomic.podman.Ping  $d_cpod"
echo "   libvl org.example.ping.Ping        $d_vl"
cps() { sed -n 's/.*calls_per_sec=\([0-9.]*\).*/\1/p' <<<"$1"; }
echo "   cpod/libvl: $(ratio "$(cps "$d_cpod")" "$(cps "$d_vl")")"

# --- b: RSS ---------------------------------------------------------------------------------------------------
rss_cpod_used=$(rss_kb "$svc")
echo "b. idle VmRSS of the service's parent (KiB)"
printf '   cpod varlink   after start %6s   after use %6s\n' "$rss_cpod_start" "$rss_cpod_used"
if [ $HAVE_PODMAN = 1 ]; then
        rss_podman_used=$(rss_kb "$pod")
        printf '   podman service after start %6s   after use %6s   podman/cpod after use: %s×\n' \
                "$rss_podman_start" "$rss_podman_used" "$(ratio "$rss_podman_used" "$rss_cpod_used")"
fi
if [ -s "$T/svc.log" ]; then
        echo "bench-service: the service wrote:" >&2
        cat "$T/svc.log" >&2
fi
