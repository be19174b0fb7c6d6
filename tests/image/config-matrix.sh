#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make config-matrix (and image-test): checks a host build made with Kconfig ADMIN off,
# after the Makefile built it and passed its unit tests:
#   - nothing of the admin listener is in it, and it needs neither GnuTLS nor libcrypt
#   - --version runs; --check-config accepts [admin] keys, says that admin.listen is
#     ignored in this build, and exits 0
# usage: tests/image/config-matrix.sh BUILD_DIR       (run from the top folder)
set -u
b=${1:?usage: config-matrix.sh BUILD_DIR}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-matrix.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "  PASS  noadmin: $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL  noadmin: $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/        /'; }

echo "== config matrix: ADMIN off ($b)"
grep -qx '# CONFIG_ADMIN is not set' "$b/.config" && ! grep -q 'CONFIG_ADMIN\b' "$b/autoconf.h" &&
    ok "$b/.config and autoconf.h: ADMIN off" || bad "$b/.config: ADMIN not off"
needs=$(readelf -d "$b/cardupd" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')
case $needs in
*gnutls*|*crypt*) bad "needs GnuTLS or libcrypt" "$needs" ;;
*) ok "needs no GnuTLS, no libcrypt: $needs" ;;
esac
# web/admin/admin_none.c stands in (admin.h as no-ops), and core/view.c's admin snapshot
# free; nothing else of the admin room.
syms=$(nm "$b/cardupd" | grep -E ' [TDRB] (admin_|auth_|settings_|audit_)' |
    grep -vE ' admin_(start|publish|reconfigure|stop|audit_device|setup_code|fingerprint|snapshot_free)$' |
    head -5)
[ -z "$syms" ] && ok "no admin, auth, settings or audit code (admin_none.c's no-ops only)" ||
    bad "admin code linked in" "$syms"
out=$("$b/cardupd" --version 2>&1) && ok "--version: $out" || bad "--version" "$out"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
    -subj "/CN=cardupd config-matrix CA" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" >/dev/null 2>&1
cat > "$tmp/a.conf" <<EOF
[cms]
url = https://cms.example.org/api
trust_anchors = $tmp/ca.pem
portal_origins = https://portal.example.org
[admin]
listen = 0.0.0.0:8443
password_hash = \$y\$j9T\$abc
EOF
out=$("$b/cardupd" --check-config -c "$tmp/a.conf" 2>&1); rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -q 'listen = 0.0.0.0:8443: ignored, .*without the admin listener'; then
	ok "--check-config accepts [admin], warns that admin.listen is ignored (exit 0)"
else
	bad "--check-config with [admin] listen (exit $rc)" "$out"
fi
sed '/^listen = /d' "$tmp/a.conf" > "$tmp/b.conf"
out=$("$b/cardupd" --check-config -c "$tmp/b.conf" 2>&1); rc=$?
if [ $rc -eq 0 ] && ! printf '%s' "$out" | grep -q ignored; then
	ok "--check-config without admin.listen: no warning"
else
	bad "--check-config without admin.listen (exit $rc)" "$out"
fi
echo "config matrix: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
