#!/bin/sh
# make test: unit tests, then integration tests on the real pcscd + vpcd rig.
# usage: run-tests.sh BUILD_DIR UNIT_BIN...
build=$1; shift
echo "== unit tests"
scripts/run-unit.sh "$@"; unit=$?
echo "== integration tests (real pcscd + vpcd + scripted card + TLS test CMS)"
CARDUPD_BIN="$PWD/$build/cardupd" /usr/bin/python3 -m pytest -q -p no:cacheprovider \
	tests/integration; integ=$?
echo "== summary: unit $( [ $unit -eq 0 ] && echo ok || echo "FAILED ($unit)" )," \
     "integration $( [ $integ -eq 0 ] && echo ok || echo FAILED )"
[ $unit -eq 0 ] && [ $integ -eq 0 ]
