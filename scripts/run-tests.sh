#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make test: unit tests, then integration tests on the real pcscd + vpcd rig, then the
# browser tests. Each part runs whatever the others gave; the summary says each one's
# result and time, and the exit status is 0 only if all passed.
# usage: run-tests.sh BUILD_DIR UNIT_BIN...
build=$1; shift
t0=$(date +%s)
echo "== unit tests"
scripts/run-unit.sh "$@"; unit=$?
t1=$(date +%s)
echo "== integration tests (real pcscd + vpcd + scripted card + TLS test CMS)"
CARDUPD_BIN="$PWD/$build/cardupd" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	tests/integration; integ=$?
t2=$(date +%s)
browser=0
if [ -f tests/browser/run.mjs ]; then
	echo "== browser tests (Playwright + Debian Chromium on the real daemon)"
	CARDUPD_BIN="$PWD/$build/cardupd" node tests/browser/run.mjs; browser=$?
	if [ -f tests/browser/admin.mjs ]; then
		CARDUPD_BIN="$PWD/$build/cardupd" node tests/browser/admin.mjs || browser=1
	fi
fi
t3=$(date +%s)
echo "== summary: unit $( [ $unit -eq 0 ] && echo ok || echo "FAILED ($unit)" ) ($((t1 - t0)) s)," \
     "integration $( [ $integ -eq 0 ] && echo ok || echo FAILED ) ($((t2 - t1)) s)," \
     "browser $( [ $browser -eq 0 ] && echo ok || echo FAILED ) ($((t3 - t2)) s)"
[ $unit -eq 0 ] && [ $integ -eq 0 ] && [ $browser -eq 0 ]
