#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tests/vm/timed.sh FILE LABEL COMMAND...: runs COMMAND, appends "SECONDS LABEL" to FILE
# (make vm-test prints where the time went). Exit status: COMMAND's.
file=$1; label=$2; shift 2
t0=$(date +%s.%N)
"$@"; rc=$?
awk -v a="$t0" -v b="$(date +%s.%N)" -v l="$label" 'BEGIN { printf "%.1f %s\n", b - a, l }' >> "$file"
exit $rc
