#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shared library exports exactly the functions that the public headers
# declare, all under the LIBVL_0.1 version node. Prints TAP.
set -eu
lib=$1
incdir=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sed 's/@@.*//' | sort -u > "$tmp/exported"
cat "$incdir"/*.h | tr -s ' \t' ' ' | grep -o '\bvl_[a-z0-9_]*(' | tr -d '(' | sort -u > "$tmp/declared"
# macros that look like calls are not functions
grep -v -x -e 'vl_json_unrefp' "$tmp/declared" > /dev/null || true

n=0
fail=0
check() {
        n=$((n + 1))
        if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fail=1; fi
}

missing=$(comm -13 "$tmp/exported" "$tmp/declared")
extra=$(comm -23 "$tmp/exported" "$tmp/declared")
[ -z "$missing" ]; check $? "every declared function is exported"
[ -n "$missing" ] && echo "$missing" | sed 's/^/#   not exported: /'
[ -z "$extra" ]; check $? "nothing undeclared is exported"
[ -n "$extra" ] && echo "$extra" | sed 's/^/#   exported but undeclared: /'
bad=$(objdump -T "$lib" | awk '/ DF .text/ && $0 !~ /LIBVL_0\.1/' | wc -l)
[ "$bad" = 0 ]; check $? "every export carries the LIBVL_0.1 version"
echo "1..$n"
exit $fail
