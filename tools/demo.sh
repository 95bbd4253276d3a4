#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo behind `make demo`: load the bundled offline busybox image, run a
# container, then start the API service the way systemd would (socket
# activation, here by systemd-socket-activate) and talk to it with `varlink`,
# as the 2018 blog post did.
set -euo pipefail
PREFIX=${PREFIX:-/usr/local}
BUILD=${BUILD:-build}
cpod=$PREFIX/bin/cpod
varlink=$PREFIX/bin/varlink
dir=$(mktemp -d /tmp/cpod-demo.XXXXXX)
store=(--root "$dir/root" --runroot "$dir/run")
sock=$dir/io.projectatomic.podman
activator=
cleanup() {
        [ -n "$activator" ] && kill "$activator" 2>/dev/null
        "$cpod" "${store[@]}" rm -a -f >/dev/null 2>&1 || true
        rm -rf "$dir"
}
trap cleanup EXIT

run() {
        echo "\$ $*" | sed "s|$dir|\$DEMO|g; s|$PREFIX/bin/||g"
        "$@"
        echo
}

echo "# a private store in \$DEMO=$dir"
echo
run "$cpod" "${store[@]}" load -i "$BUILD/images/busybox.docker.tar"
run "$cpod" "${store[@]}" images
run "$cpod" "${store[@]}" run --rm --network none busybox sh -c 'echo "hello from $(hostname), a busybox container"'

# systemd-socket-activate holds the socket and starts the service on the first connection
systemd-socket-activate -l "$sock" "$cpod" "${store[@]}" --varlink="unix:$sock" >/dev/null 2>&1 &
activator=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

run "$varlink" call "unix:$sock/io.projectatomic.podman.Ping"
run "$varlink" info "unix:$sock"
run "$varlink" call "unix:$sock/io.projectatomic.podman.GetVersion"
run "$varlink" call "unix:$sock/io.projectatomic.podman.ListImages"
id=$("$cpod" "${store[@]}" images -q | head -n 1)
run "$varlink" call "unix:$sock/io.projectatomic.podman.TagImage" "{\"name\": \"$id\", \"tagged\": \"demo:latest\"}"
run "$cpod" "${store[@]}" images
