#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Registry benchmark with a large image: four layers of ~50 MB of pseudo-random bytes each, generated
# here from a fixed seed (no download) as an OCI layout with gzip layers, pushed with skopeo to a
# loopback docker-registry started here on a free port with a temporary storage root.
#
# Pull, each run into a fresh destination:
#   cpod     `cpod pull` into a private store (download, verify, extract, record)
#   skopeo   `skopeo copy` to an OCI layout directory (download only)
#   curl     GET /v2/<repo>/blobs/<digest> of the config and the four layers, all at once, to files:
#            the network floor
#   podman   `podman pull` into a private store (optional)
# Push, each run to a new repository of a second registry whose storage is emptied before the run
# (so that no blob is already there and no cross-repository mount can stand in for an upload):
#   cpod     `cpod push` from a store holding the image (loaded once from the OCI layout)
#   skopeo   `skopeo copy` from the OCI layout
# The tools run in interleaved rounds (the order rotates each round); a run is a whole process timed
# from fork to wait4, with its peak RSS from wait4 (bench-measure.c), and `sync` runs untimed before
# each. Prints medians, MB/s and ratios with the targets: cpod <= 1.2x skopeo for pull and for push.
# The exit code is 0 when every run succeeded: the figures are the output.
#
# usage: bench/bench-registry-large.sh [BUILD_DIR]        (default: ./build)
# env:   RUNS (5), NO_PODMAN=1, PODMAN_DRIVER (vfs), LAYER_MB (50), BENCH_TMPDIR (/tmp)
set -euo pipefail

NAME=bench-registry-large
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")
BUILD=$(cd "${1:-$REPO/build}" 2>/dev/null && pwd) || {
        echo "$NAME: no build directory ${1:-$REPO/build}" >&2
        exit 1
}
CPOD=$BUILD/src/cpod/cpod
PY=${PYTHON:-/usr/bin/python3}
RUNS=${RUNS:-5}
LAYER_MB=${LAYER_MB:-50}
PODMAN_DRIVER=${PODMAN_DRIVER:-vfs}

die() {
        echo "$NAME: $*" >&2
        exit 1
}
[[ $RUNS =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer"
[[ $LAYER_MB =~ ^[1-9][0-9]*$ ]] || die "LAYER_MB must be a positive integer"
[ -x "$CPOD" ] || die "$CPOD is not built"
for tool in docker-registry skopeo curl cc; do
        command -v "$tool" >/dev/null || die "$tool is missing (make test-deps installs it)"
done
[ -x "$PY" ] || die "$PY is missing"
PODMAN=
if [ -z "${NO_PODMAN:-}" ] && command -v podman >/dev/null; then
        PODMAN=podman
fi

# Short: podman limits the runroot's length.
T=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/cprl.XXXXXX")
REG_PIDS=()
cleanup() {
        local pid
        set +e # a killed registry's status must not end the cleanup early
        for pid in "${REG_PIDS[@]}"; do
                kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
        done
        grep -o " ${T}[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null
        rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Room for the source layout, two registries, and one destination per tool (cpod's store holds the
# blobs and the extracted layers): about 12 times the image.
NEED_KB=$((LAYER_MB * 4 * 1000 * 12))
AVAIL_KB=$(df -Pk "$T" | awk 'NR == 2 { print $4 }')
[ "$AVAIL_KB" -ge "$NEED_KB" ] || die "$T has $((AVAIL_KB / 1000)) MB free, needs $((NEED_KB / 1000)) MB"

# The image: an OCI layout in $T/src.oci, ref "latest", built from a fixed seed. Each layer holds
# four files of pseudo-random bytes (gzip cannot shrink them: its blobs are stored deflate blocks,
# whatever the level, so level 0 is used to build it quickly), tar members sorted, owned by 0:0,
# with a pinned mtime. Prints the manifest digest and the bytes of the config and layers.
"$PY" - "$T/src.oci" "$LAYER_MB" >"$T/image.txt" <<'EOF'
import gzip, hashlib, io, json, os, platform, random, sys, tarfile

out, layer_mb = sys.argv[1], int(sys.argv[2])
LAYERS, FILES, EPOCH, SEED = 4, 4, 1700000000, 'cpod-bench-registry-large'
ARCH = {'x86_64': 'amd64', 'aarch64': 'arm64', 'armv7l': 'arm', 'ppc64le': 'ppc64le',
        's390x': 's390x', 'riscv64': 'riscv64', 'i686': '386'}.get(platform.machine(), 'amd64')
blobs = os.path.join(out, 'blobs', 'sha256')
os.makedirs(blobs)

def put(data):
    digest = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, digest), 'wb') as f:
        f.write(data)
    return {'digest': 'sha256:' + digest, 'size': len(data)}

def member(name, size, mode):
    ti = tarfile.TarInfo(name)
    ti.size, ti.mode, ti.mtime, ti.uid, ti.gid = size, mode, EPOCH, 0, 0
    if size is None:
        ti.type, ti.size = tarfile.DIRTYPE, 0
    return ti

layers, diff_ids, history = [], [], []
for i in range(LAYERS):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(member('data', None, 0o755))
        tar.addfile(member('data/%d' % i, None, 0o755))
        for j in range(FILES):
            size = layer_mb * 1000 * 1000 // FILES
            data = random.Random('%s/%d/%d' % (SEED, i, j)).randbytes(size)
            tar.addfile(member('data/%d/f%d.bin' % (i, j), size, 0o644), io.BytesIO(data))
    plain = buf.getvalue()
    diff_ids.append('sha256:' + hashlib.sha256(plain).hexdigest())
    layers.append(dict(mediaType='application/vnd.oci.image.layer.v1.tar+gzip',
                       **put(gzip.compress(plain, compresslevel=0, mtime=0))))
    history.append({'created': '2023-11-14T22:13:20Z',
                    'created_by': 'layer %d: %d random files' % (i, FILES)})
config = {'created': '2023-11-14T22:13:20Z', 'architecture': ARCH, 'os': 'linux',
          'config': {'Env': ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']},
          'rootfs': {'type': 'layers', 'diff_ids': diff_ids}, 'history': history}
cfg = dict(mediaType='application/vnd.oci.image.config.v1+json',
           **put(json.dumps(config, sort_keys=True, separators=(',', ':')).encode()))
manifest = {'schemaVersion': 2, 'mediaType': 'application/vnd.oci.image.manifest.v1+json',
            'config': cfg, 'layers': layers}
man = dict(mediaType='application/vnd.oci.image.manifest.v1+json',
           **put(json.dumps(manifest, sort_keys=True, separators=(',', ':')).encode()),
           annotations={'org.opencontainers.image.ref.name': 'latest'})
with open(os.path.join(out, 'index.json'), 'w') as f:
    json.dump({'schemaVersion': 2, 'manifests': [man]}, f)
with open(os.path.join(out, 'oci-layout'), 'w') as f:
    json.dump({'imageLayoutVersion': '1.0.0'}, f)
print(man['digest'], sum(d['size'] for d in [cfg] + layers), cfg['digest'], *(l['digest'] for l in layers))
EOF
read -r MANIFEST_DIGEST TOTAL_BYTES BLOB_DIGESTS <"$T/image.txt"
TOTAL_MB=$("$PY" -c "print('%.1f' % ($TOTAL_BYTES / 1e6))")

# start_registry NAME: a docker-registry on a free loopback port, storage in $T/NAME; sets PORT.
start_registry() {
        local pid
        PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])')
        cat >"$T/$1.yml" <<EOF
version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage:
  filesystem: {rootdirectory: $T/$1}
http: {addr: 127.0.0.1:$PORT, secret: bench-only}
EOF
        docker-registry serve "$T/$1.yml" >"$T/$1.log" 2>&1 &
        pid=$!
        REG_PIDS+=("$pid")
        for _ in $(seq 200); do
                curl -fs "http://127.0.0.1:$PORT/v2/" >/dev/null && return 0
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.05
        done
        cat "$T/$1.log" >&2
        die "docker-registry ($1) did not start on 127.0.0.1:$PORT"
}
start_registry registry
SRC=127.0.0.1:$PORT
start_registry push-registry
DST=127.0.0.1:$PORT
REF=$SRC/bench/large:latest
skopeo copy -q --dest-tls-verify=false "oci:$T/src.oci:latest" "docker://$REF" ||
        die "skopeo could not push the image to $REF"

# bench-measure 1 --before CMD -- CMD...: wall ms and peak RSS KiB of one run of CMD, forked from a
# small C process (a child spawned by a large process reports the parent's resident size as its peak).
cc -O2 -o "$T/bench-measure" "$HERE/bench-measure.c"
declare -A MS KB
# run KEY BEFORE CMD...: one measured run of CMD, appended to MS[KEY] and KB[KEY].
run() {
        local key=$1 before=$2 ms kb
        shift 2
        # In the foreground, so that a signal's cleanup waits for the run instead of removing its files.
        "$T/bench-measure" 1 --before "$before" -- "$@" >"$T/measure.out" ||
                die "$key: \`$*\` failed (run it by hand to see why)"
        read -r ms kb <"$T/measure.out"
        MS[$key]+="$ms "
        KB[$key]+="$kb "
}
median() {
        tr ' ' '\n' <<<"$1" | grep . | sort -g |
                awk '{ v[NR] = $1 } END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
calc() { "$PY" -c "print('%.${2:-2}f' % ($1))"; }

# Pull. A fresh destination per run; the umount covers what a store may have mounted (podman's overlay
# driver mounts its own directory).
FRESH="grep -o ' $T/[cp]/[^ ]*' /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
rm -rf $T/c $T/s $T/p $T/curl && mkdir $T/curl && sync"
CURL_ARGS=(-fsS --parallel --parallel-max 8)
for d in $BLOB_DIGESTS; do
        CURL_ARGS+=(-o "$T/curl/${d#sha256:}" "http://$SRC/v2/bench/large/blobs/$d")
done
pull_one() {
        case $1 in
        cpod) run cpod "$FRESH" "$CPOD" --root "$T/c/root" --runroot "$T/c/run" \
                pull -q --tls-verify=false "$REF" ;;
        skopeo) run skopeo "$FRESH" skopeo copy -q --src-tls-verify=false "docker://$REF" \
                "oci:$T/s:latest" ;;
        curl)
                run curl "$FRESH" curl "${CURL_ARGS[@]}"
                # The floor must have fetched every byte.
                [ "$(du -sb "$T/curl" | cut -f1)" -ge "$TOTAL_BYTES" ] ||
                        die "curl fetched fewer bytes than the blobs hold"
                ;;
        podman) run podman "$FRESH" podman --root "$T/p/root" --runroot "$T/p/run" \
                --storage-driver "$PODMAN_DRIVER" pull -q --tls-verify=false "$REF" ;;
        esac
}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
PULL_TOOLS=(cpod skopeo curl ${PODMAN:+podman})
echo "$NAME: image $MANIFEST_DIGEST, config and 4 layers $TOTAL_MB MB; $RUNS rounds of ${PULL_TOOLS[*]}" >&2
for ((r = 0; r < RUNS; r++)); do
        n=${#PULL_TOOLS[@]}
        for ((i = 0; i < n; i++)); do
                pull_one "${PULL_TOOLS[(r + i) % n]}"
        done
done

# Push. The store gets the image from the OCI layout (a pulled image would remember the source
# repository and mount its blobs from there instead of uploading them).
P=$T/push
"$CPOD" --root "$P/root" --runroot "$P/run" load -q -i "$T/src.oci" >/dev/null ||
        die "cpod load of the image failed"
IMAGE_ID=$("$CPOD" --root "$P/root" --runroot "$P/run" images -q --no-trunc | head -n1)
[ -n "$IMAGE_ID" ] || die "cpod load left no image in the store"
EMPTY="rm -rf $T/push-registry/docker; sync"
push_one() {
        case $1 in
        cpod) run push-cpod "$EMPTY" "$CPOD" --root "$P/root" --runroot "$P/run" push -q --tls-verify=false \
                "$IMAGE_ID" "docker://$DST/bench/cpod-$2:latest" ;;
        skopeo) run push-skopeo "$EMPTY" skopeo copy -q --dest-tls-verify=false "oci:$T/src.oci:latest" \
                "docker://$DST/bench/skopeo-$2:latest" ;;
        esac
        # Every blob must have been uploaded (none skipped, none mounted).
        [ "$(du -sb "$T/push-registry/docker/registry/v2/blobs" | cut -f1)" -ge "$TOTAL_BYTES" ] ||
                die "$1 push stored fewer bytes than the image holds"
}
PUSH_TOOLS=(cpod skopeo)
for ((r = 0; r < RUNS; r++)); do
        for ((i = 0; i < 2; i++)); do
                push_one "${PUSH_TOOLS[(r + i) % 2]}" "$r"
        done
done

# Report.
row() { # LABEL KEY
        local ms kb
        ms=$(median "${MS[$2]}")
        kb=$(median "${KB[$2]}")
        printf '%-34s %10.0f %8.1f %10.1f\n' "$1" "$ms" "$(calc "$TOTAL_BYTES / 1e6 / ($ms / 1e3)" 3)" \
                "$(calc "$kb / 1024" 3)"
}
header() { printf '%-34s %10s %8s %10s\n' "$1" 'wall ms' 'MB/s' 'RSS MB'; }
verdict() { "$PY" -c "print('met' if $1 else 'NOT met')"; }
echo "registry pull and push of a 4-layer image ($TOTAL_MB MB of gzip blobs) on loopback," \
        "median of $RUNS rounds"
echo "load average: $LOAD_START at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end ($(nproc) CPUs)"
echo
header pull
row "cpod (extracts into a store)" cpod
row "skopeo (to an OCI dir)" skopeo
row "curl (the blobs to files: floor)" curl
[ -n "$PODMAN" ] && row "podman ($PODMAN_DRIVER, extracts)" podman
echo
header "push (to an empty registry)"
row "cpod (from its store)" push-cpod
row "skopeo (from the OCI dir)" push-skopeo
echo

# ratios A B: the ratio of the medians of A and B, and the median of the ratios within each round
# (a round's runs follow one another, so they share the machine's load of the moment).
ratios() { "$PY" -c '
import statistics, sys
a, b = ([float(x) for x in s.split()] for s in sys.argv[1:3])
print("%.2f %.2f" % (statistics.median(a) / statistics.median(b),
                     statistics.median(x / y for x, y in zip(a, b))))
' "${MS[$1]}" "${MS[$2]}"; }
# claim LABEL A B [TARGET]: print A's ratio to B, and whether both figures meet TARGET (A <= TARGET x B).
claim() {
        local med paired
        read -r med paired < <(ratios "$2" "$3")
        printf '%s: %sx (median of per-round ratios %sx)' "$1" "$med" "$paired"
        [ -z "${4:-}" ] || printf '; target <= %sx: %s' "$4" "$(verdict "$med <= $4 and $paired <= $4")"
        echo
}
claim "pull cpod / skopeo wall" cpod skopeo 1.2
claim "pull cpod / curl wall" cpod curl
claim "pull skopeo / curl wall" skopeo curl
[ -z "$PODMAN" ] || claim "pull podman / cpod wall" podman cpod
claim "push cpod / skopeo wall" push-cpod push-skopeo 1.2
echo "cpod peak RSS: pull $(calc "$(median "${KB[cpod]}") / 1024" 1) MB," \
        "push $(calc "$(median "${KB[push-cpod]}") / 1024" 1) MB"
echo "skopeo copies the blobs only; cpod also verifies, decompresses and extracts every layer."
for key in cpod skopeo curl ${PODMAN:+podman} push-cpod push-skopeo; do
        echo "runs, wall ms, in order: $key ${MS[$key]}"
done
