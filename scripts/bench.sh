#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make bench: runs every benchmark in tests/bench/ (bench_*.py with Debian's python,
# bench_*.mjs with node). They print figures; none of them passes or fails on time.
set -u
status=0
for b in tests/bench/bench_*.py tests/bench/bench_*.mjs; do
	[ -e "$b" ] || continue
	echo "== $(basename "$b")"
	case "$b" in
	*.py)  /usr/bin/python3 "$b" || status=1 ;;
	*.mjs) node "$b" || status=1 ;;
	esac
done
exit $status
