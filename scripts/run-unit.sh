#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Runs each cmocka test binary given; prints one line per binary and a summary.
# Exit status: number of failed binaries (0 = all passed).
fail=0; pass=0
for t in "$@"; do
	if out=$("$t" 2>&1); then
		pass=$((pass + 1)); echo "  PASS  $(basename "$t")"
	else
		fail=$((fail + 1)); echo "  FAIL  $(basename "$t")"; echo "$out" | sed 's/^/        /'
	fi
done
echo "unit: $pass passed, $fail failed"
exit $fail
