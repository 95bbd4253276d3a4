#!/usr/bin/env bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The demo behind `make demo`: a socket-activated Varlink service started on
# demand by systemd-socket-activate, discovered and called with `varlink`.
set -euo pipefail
PREFIX=${PREFIX:-/usr/local}
varlink=$PREFIX/bin/varlink
service=$PREFIX/bin/varlink-certification
dir=$(mktemp -d)
sock=$dir/org.varlink.certification
trap 'kill $activator 2>/dev/null || true; rm -rf "$dir"' EXIT

run() {
        echo "\$ $*"
        "$@"
        echo
}

# systemd-socket-activate holds the socket and starts the service on the first connection
systemd-socket-activate -l "$sock" "$service" >/dev/null 2>&1 &
activator=$!
for _ in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done

run "$varlink" info "unix:$sock"
run "$varlink" help "unix:$sock/org.varlink.certification"
id=$("$varlink" call --json=short "unix:$sock/org.varlink.certification.Start" | sed 's/.*"client_id":"\([0-9a-f]*\)".*/\1/')
run "$varlink" call "unix:$sock/org.varlink.certification.Test01" "{\"client_id\": \"$id\"}"
echo "\$ $varlink call unix:$sock/org.nope.Method   # errors exit non-zero"
"$varlink" call "unix:$sock/org.nope.Method" || echo "(exit code $?)"
