#!/bin/sh
# make test: unit tests, then integration tests on the real pcscd + vpcd rig.
# usage: run-tests.sh BUILD_DIR UNIT_BIN...
build=$1; shift
echo "== unit tests"
scripts/run-unit.sh "$@"; unit=$?
echo "== integration tests (real pcscd + vpcd + scripted card + TLS test CMS)"
CARDUPD_BIN="$PWD/$build/cardupd" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	tests/integration; integ=$?
browser=0
if [ -f tests/browser/run.mjs ]; then
	echo "== browser tests (Playwright + Debian Chromium on the real daemon)"
	CARDUPD_BIN="$PWD/$build/cardupd" node tests/browser/run.mjs; browser=$?
	if [ -f tests/browser/admin.mjs ]; then
		CARDUPD_BIN="$PWD/$build/cardupd" node tests/browser/admin.mjs || browser=1
	fi
fi
echo "== summary: unit $( [ $unit -eq 0 ] && echo ok || echo "FAILED ($unit)" )," \
     "integration $( [ $integ -eq 0 ] && echo ok || echo FAILED )," \
     "browser $( [ $browser -eq 0 ] && echo ok || echo FAILED )"
[ $unit -eq 0 ] && [ $integ -eq 0 ] && [ $browser -eq 0 ]
