#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host fixes cpod's runtime tests need on cgroup v1 machines with a cgroup2
# hierarchy that holds controllers ("hybrid" mode, which crun refuses):
# mount each such controller as a v1 hierarchy. Idempotent; safe to run
# repeatedly; does nothing where it is not needed or not allowed.
set -u

unified=/sys/fs/cgroup/unified
if [ -r "$unified/cgroup.controllers" ] && [ "$(id -u)" = 0 ]; then
        for c in $(cat "$unified/cgroup.controllers"); do
                mkdir -p "/sys/fs/cgroup/$c" 2>/dev/null || continue
                if ! mountpoint -q "/sys/fs/cgroup/$c"; then
                        mount -t cgroup -o "$c" cgroup "/sys/fs/cgroup/$c" ||
                                echo "host-setup: could not mount the $c cgroup controller" >&2
                fi
        done
fi
exit 0
