#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Part of make pkg-test: the Buildroot package (board/buildroot) checked without Buildroot
# (which downloads its sources and cannot run here). The rules are Buildroot's own, as
# utils/check-package (checkpackagelib/lib_sysv.py, lib_mk.py) and the manual state them:
#   - init scripts: DAEMON a name (no path), PIDFILE (when set) "/var/run/$DAEMON.pid", file
#     name S<nn>$DAEMON, indented with tabs, shellcheck clean, sh -n
#   - cardupd.mk: LICENSE/LICENSE_FILES set, the .hash digest of LICENSE is the file's
#   - each library the Makefile links for a Kconfig choice is selected in Config.in and
#     depended on in cardupd.mk (ADMIN: libxcrypt; never GnuTLS or libmicrohttpd's HTTPS)
#   - kconfiglib from Buildroot's host-python3 + host-python-kconfiglib, never /usr/bin
# usage: tests/pkg/buildroot.sh       (run from the top folder; prints PASS/FAIL lines)
set -u
br=board/buildroot/package
. "$(dirname "$0")/../lib/check.sh"
check_prefix() { printf 'buildroot: '; }

for s in board/common/rootfs/etc/init.d/S*; do
	p=""
	daemon=$(sed -n 's/^DAEMON=["'\'']\{0,1\}\([^"'\'']*\)["'\'']\{0,1\}$/\1/p' "$s")
	case $daemon in
	'') p="$p; no DAEMON=" ;;
	*/*) p="$p; DAEMON holds a path: $daemon" ;;
	esac
	[ "$(grep -c '^DAEMON=' "$s")" -le 1 ] || p="$p; DAEMON redefined"
	pid=$(sed -n 's/^PIDFILE=["'\'']\{0,1\}\([^"'\'']*\)["'\'']\{0,1\}$/\1/p' "$s")
	case $pid in ''|'/var/run/$DAEMON.pid'|'/var/run/${DAEMON}.pid') ;; *) p="$p; PIDFILE=$pid" ;; esac
	echo "${s##*/}" | grep -Eq "^S[0-9][0-9]$daemon\$" || p="$p; file name is not S<nn>$daemon"
	grep -n '^[	]* ' "$s" | grep -v '^[0-9]*:[	 ]*$' | sed 's/^/spaces: /' > /tmp/.br-indent.$$
	[ -s /tmp/.br-indent.$$ ] && p="$p; indented with spaces: $(head -3 /tmp/.br-indent.$$)"
	rm -f /tmp/.br-indent.$$
	sh -n "$s" || p="$p; sh -n"
	if command -v shellcheck >/dev/null 2>&1; then
		o=$(shellcheck -s sh "$s" 2>&1) || p="$p; shellcheck: $o"
	fi
	if [ -z "$p" ]; then ok "${s##*/}: Buildroot init-script rules (DAEMON=\"$daemon\"${pid:+, PIDFILE=$pid}), shellcheck clean"
	else bad "${s##*/}" "${p#; }"; fi
done

mk=$br/cardupd/cardupd.mk
lic=$(sed -n 's/^CARDUPD_LICENSE = //p' "$mk"); files=$(sed -n 's/^CARDUPD_LICENSE_FILES = //p' "$mk")
want=$(sha256sum LICENSE | cut -d' ' -f1)
have=$(awk '$1 == "sha256" && $3 == "LICENSE" { print $2 }' "$br/cardupd/cardupd.hash")
if [ "$lic" = BSD-2-Clause ] && [ "$files" = LICENSE ] && grep -q 'BSD 2-Clause' LICENSE &&
    [ "$want" = "$have" ]; then
	ok "CARDUPD_LICENSE = $lic, LICENSE_FILES = $files, cardupd.hash matches LICENSE"
else
	bad "licence fields" "LICENSE='$lic' FILES='$files' hash: file $want, .hash '$have'"
fi

cfg=$br/cardupd/Config.in
p=""
# What the Makefile adds for ADMIN, and what Buildroot must build for it.
grep -q '^ADMIN_PKGS' Makefile && p="$p; Makefile's ADMIN_PKGS is back: review Config.in"
grep -q '^ADMIN_LIBS := -lcrypt' Makefile ||
    p="$p; Makefile's ADMIN_LIBS changed: review Config.in"
admin=$(awk '/^config BR2_PACKAGE_CARDUPD_ADMIN$/ { on = 1; next } /^(config|comment|endif)/ { on = 0 } on' "$cfg")
echo "$admin" | grep -q "select BR2_PACKAGE_LIBXCRYPT\$" || p="$p; CARDUPD_ADMIN does not select BR2_PACKAGE_LIBXCRYPT"
# The listener's TLS is BearSSL's: GnuTLS and libmicrohttpd's HTTPS are not needed.
for sel in BR2_PACKAGE_GNUTLS BR2_PACKAGE_LIBMICROHTTPD_SSL; do
	grep -q "select $sel\$" "$cfg" && p="$p; Config.in selects $sel (unused since tls_term.c)"
done
grep -q 'CARDUPD_DEPENDENCIES += libxcrypt$' "$mk" || p="$p; no libxcrypt dependency"
grep -q 'gnutls' "$mk" && p="$p; cardupd.mk depends on gnutls"
# Buildroot's own libmicrohttpd (its SSL option decides HTTPS), never the project's copy
# built from Debian's source (the Makefile's default, MHD=plain).
grep -q '^	MHD=system \\$' "$mk" || p="$p; cardupd.mk does not pass MHD=system"
grep -q 'KCONFIG_ENABLE_OPT,CONFIG_ADMIN' "$mk" && grep -q 'KCONFIG_DISABLE_OPT,CONFIG_ADMIN' "$mk" ||
    p="$p; BR2_PACKAGE_CARDUPD_ADMIN does not decide CONFIG_ADMIN"
for lib in pcsc-lite:PCSC_LITE libmicrohttpd:LIBMICROHTTPD json-c:JSON_C bearssl:BEARSSL; do
	grep -q "select BR2_PACKAGE_${lib#*:}\$" "$cfg" || p="$p; not selected: ${lib#*:}"
	grep -A2 '^CARDUPD_DEPENDENCIES =' "$mk" | grep -q "[ 	]${lib%%:*}\( \|$\)" || p="$p; no dependency on ${lib%%:*}"
done
if [ -z "$p" ]; then ok "Config.in selects and cardupd.mk depends on what each Kconfig choice links (ADMIN: libxcrypt; no GnuTLS)"
else bad "dependencies" "${p#; }"; fi

p=""
grep -n '/usr/bin/python3' "$mk" && p="$p; names the build machine's python3"
grep -q '^CARDUPD_PY = $(HOST_DIR)/bin/python3' "$mk" || p="$p; PY is not host-python3"
grep -q '^CARDUPD_KCONFIG_DEPENDENCIES = host-python3 host-python-kconfiglib' "$mk" ||
    p="$p; configurators lack host-python3/host-python-kconfiglib"
kmk=$br/python-kconfiglib/python-kconfiglib.mk
grep -q 'host-python-package' "$kmk" && grep -q '^PYTHON_KCONFIGLIB_LICENSE = ISC' "$kmk" &&
    grep -q 'kconfiglib-14.1.0.tar.gz' "$br/python-kconfiglib/python-kconfiglib.hash" ||
    p="$p; package/python-kconfiglib incomplete"
# The kconfiglib modules the Makefile runs are in that release (Debian ships the same one).
for m in $(grep -o '$(PY) -m [a-z]*' Makefile board/board.mk | awk '{ print $3 }' | sort -u); do
	/usr/bin/python3 -c "import $m" 2>/dev/null || p="$p; kconfiglib 14.1 has no module $m"
done
if [ -z "$p" ]; then ok "kconfiglib 14.1.0 from host-python3 + host-python-kconfiglib (not the build host's Python)"
else bad "kconfiglib" "${p#; }"; fi

p=""
grep -q 'install-files' "$mk" || p="$p; cardupd.mk does not use make install"
grep -n 'INSTALL) -D' "$mk" && p="$p; cardupd.mk keeps its own install list"
grep -q 'HARDEN=0' "$mk" || p="$p; cardupd.mk does not leave hardening to Buildroot"
if [ -z "$p" ]; then ok "cardupd.mk installs with the project's make install-files, hardening left to BR2_* options"
else bad "install" "${p#; }"; fi

echo "== buildroot: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
