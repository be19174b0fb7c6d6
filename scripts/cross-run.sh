#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Runs foreign test binaries under qemu-user (no binfmt_misc here), like run-unit.sh does
# for native ones. The target's root comes from QEMU_LD_PREFIX (the sysroot).
# usage: cross-run.sh QEMU BIN...     exit status: number of failed binaries
qemu=$1; shift
fail=0; pass=0
for t in "$@"; do
	if out=$("$qemu" "$t" 2>&1); then
		pass=$((pass + 1)); echo "  PASS  $(basename "$t")"
	else
		fail=$((fail + 1)); echo "  FAIL  $(basename "$t")"; echo "$out" | sed 's/^/        /'
	fi
done
echo "unit ($qemu): $pass passed, $fail failed"
exit $fail
