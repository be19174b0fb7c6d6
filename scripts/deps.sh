#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Installs what building, running and testing cardupd need. Idempotent: packages that are
# already installed are not fetched again, and apt-get update runs only when an install
# is needed. Called by `make deps`, `make test` and `make demo`.
set -eu

PKGS="gcc make pkg-config libc6-dev
libpcsclite-dev pcscd libccid vsmartcard-vpcd
libbearssl-dev libmicrohttpd-dev libjson-c-dev libcmocka-dev
libcrypt-dev whois mandoc
python3-kconfiglib python3-pytest python3-yaml python3-jsonschema openssl curl util-linux procps
prometheus
clang libclang-rt-14-dev
chromium
nginx-light wrk opensc
mandoc man-db dpkg-dev debhelper lintian shellcheck flex
mmdebstrap qemu-system-x86 zstd cpio
qemu-system-arm qemu-user-static e2fsprogs"

# Node.js and npm for the browser tests: Debian's, only when none is on PATH (a newer Node
# installed otherwise is kept).
command -v node >/dev/null 2>&1 || PKGS="$PKGS nodejs"
command -v npm >/dev/null 2>&1 || PKGS="$PKGS npm"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		missing="$missing $p"
	fi
done

if [ -n "$missing" ]; then
	echo "deps: installing:$missing"
	SUDO=""
	[ "$(id -u)" -eq 0 ] || SUDO="sudo"
	$SUDO apt-get update -q
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
else
	echo "deps: all Debian packages present"
fi

# libmicrohttpd without HTTPS (MHD=plain, the Makefile's default where it applies): Debian's
# source package, fetched once into build/mhd/src by a private apt with deb-src entries
# (the machine's /etc/apt is not touched); the build itself needs no network.
scripts/mhd-plain.sh fetch
# pcsc-lite's source likewise, for the host's static build (`make static-host`, shown by
# `make bench`; the ARM static builds fetch theirs with their sysroot's private apt).
scripts/cross-static.sh fetch

# Browser tests: playwright-core (it drives Debian's /usr/bin/chromium; never
# downloads a browser) and @axe-core/playwright (the accessibility audit).
if [ -f tests/browser/package.json ] && { [ ! -d tests/browser/node_modules/playwright-core ] ||
    [ ! -d tests/browser/node_modules/@axe-core/playwright ]; }; then
	echo "deps: npm install in tests/browser"
	(cd tests/browser && npm install --no-audit --no-fund --loglevel=error)
fi

# OpenAPI lint: Redocly CLI (tests/openapi/package.json; telemetry off in its
# redocly.yaml and in the test's environment).
if [ -f tests/openapi/package.json ] && [ ! -d tests/openapi/node_modules/@redocly/cli ]; then
	echo "deps: npm install in tests/openapi"
	(cd tests/openapi && npm install --no-audit --no-fund --loglevel=error)
fi
