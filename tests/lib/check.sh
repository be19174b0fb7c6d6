# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# check.sh — the PASS/FAIL lines and counters of the project's shell test scripts
# (tests/pkg/run.sh, deb.sh, buildroot.sh, tests/image/run.sh). Sourced:
#   . "$(dirname "$0")/../lib/check.sh"
# ok NAME                 a PASS line; pass += 1
# bad NAME [DETAIL]       a FAIL line, DETAIL indented below it; fail += 1
# check NAME COMMAND...   ok when COMMAND succeeds, else bad with its output
# check_prefix            prints what goes before each NAME (default nothing); a script
#                         redefines it after sourcing (e.g. the board being checked).
pass=0; fail=0
check_prefix() { :; }
ok()  { pass=$((pass + 1)); echo "  PASS  $(check_prefix)$1"; }
bad() {
	fail=$((fail + 1)); echo "  FAIL  $(check_prefix)$1"
	if [ $# -gt 1 ]; then printf '%s\n' "$2" | sed 's/^/        /'; fi
}
check() {
	_check_name=$1; shift
	if _check_out=$("$@" 2>&1); then ok "$_check_name"; else bad "$_check_name" "$_check_out"; fi
}
