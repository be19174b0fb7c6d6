#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make pkg-test: what a packager relies on, checked with the tools packagers run.
#   1. make install into a temporary DESTDIR (PREFIX=/usr with INIT=systemd and INIT=sysv,
#      PREFIX=/usr/local): every file with its mode and nothing else; the paths the unit
#      and init script name exist in the tree; an existing configuration is kept
#   2. the host build is hardened: readelf shows PIE, BIND_NOW, GNU_RELRO, the stack
#      protector and fortified calls (__*_chk); a binary built without hardening fails the
#      same check (the check can fail)
#   3. pkg-config is asked per package: with one .pc file missing, the build stops and
#      names that package
#   4. the man pages are clean under `mandoc -T lint` and `man --warnings`
#   5. cardupd and cardupctl: --help (exit 0, long options listed), --version, an unknown
#      option exits 2
# usage: tests/pkg/run.sh BUILD_DIR       (after make; run from the top folder)
set -u
bdir=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-pkg-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/../lib/check.sh"
MAKE="make --no-print-directory"

# ---- 1. make install --------------------------------------------------------------------
# expected PREFIX INIT: "MODE PATH" of every entry make install must write.
expected() {
	p=${1#/}
	e=etc; [ "$1" = /usr ] || e=$p/etc
	cat <<LIST
0755 $e
0700 $e/cardupd
0600 $e/cardupd/cardupd.conf
0755 $e/default
0644 $e/default/cardupd-kiosk
0644 $e/default/pcscd
0755 $p
0755 $p/bin
0755 $p/bin/cardupctl
0755 $p/bin/cardupd-kiosk
0755 $p/libexec
0755 $p/libexec/cardupd
0755 $p/libexec/cardupd/kiosk-session-end
0755 $p/libexec/cardupd/own-config
0755 $p/sbin
0755 $p/sbin/cardupd
0755 $p/share
0755 $p/share/polkit-1
0755 $p/share/polkit-1/rules.d
0644 $p/share/polkit-1/rules.d/50-cardupd-pcscd.rules
0755 $p/share/man
0755 $p/share/man/man1
0644 $p/share/man/man1/cardupctl.1
0644 $p/share/man/man1/cardupd-kiosk.1
0755 $p/share/man/man8
0644 $p/share/man/man8/cardupd.8
LIST
	if [ -f docs/man/cardupd.conf.5 ]; then
		printf '%s\n' "0755 $p/share/man/man5" "0644 $p/share/man/man5/cardupd.conf.5"
	fi
	case $2 in
	systemd) cat <<LIST
0755 $p/lib
0755 $p/lib/systemd
0755 $p/lib/systemd/system
0644 $p/lib/systemd/system/cardupd.service
0755 $p/lib/sysusers.d
0644 $p/lib/sysusers.d/cardupd.conf
0755 $p/lib/tmpfiles.d
0644 $p/lib/tmpfiles.d/cardupd.conf
LIST
	;;
	sysv) cat <<LIST
0755 $e/init.d
0755 $e/init.d/S45pcscd
0755 $e/init.d/S50cardupd
LIST
	;;
	esac
	[ "$1" = /usr ] || { d=$p; while [ "$d" != . ] && [ "$d" != "$p/etc" ]; do
		d=$(dirname "$d"); [ "$d" = . ] || echo "0755 $d"; done; }
}

for case in "/usr systemd" "/usr sysv" "/usr/local systemd"; do
	set -- $case; prefix=$1; init=$2
	dest=$tmp/dest-$init-$(echo "$prefix" | tr / _)
	if ! out=$($MAKE install-files BUILD="$bdir" DESTDIR="$dest" PREFIX="$prefix" \
	    INIT="$init" 2>&1); then
		bad "make install PREFIX=$prefix INIT=$init" "$out"; continue
	fi
	expected "$prefix" "$init" | LC_ALL=C sort -u -k2 > "$tmp/want"
	(cd "$dest" && find . -mindepth 1 -printf '%#m %P\n' | sed 's/^0*\([0-7]\{4\}\) /\1 /') |
	    LC_ALL=C sort -k2 > "$tmp/got"
	if diff -u "$tmp/want" "$tmp/got" > "$tmp/diff"; then
		ok "make install PREFIX=$prefix INIT=$init: $(wc -l < "$tmp/got") entries, modes as expected"
	else
		bad "make install PREFIX=$prefix INIT=$init: tree" "$(cat "$tmp/diff")"
	fi
	# Every absolute path of this install that the unit / init script / config names
	# (daemon, helpers, configuration) is in the tree.
	missing=""
	for f in $(find "$dest" -type f \( -name cardupd.service -o -name S50cardupd \
	    -o -name cardupd.conf -path '*/cardupd/*' \) ); do
		for pth in $(grep -o "$prefix/[a-z]*bin/cardupd[a-z-]*\|$prefix/libexec/cardupd/[a-z-]*\|/[a-z/]*etc/cardupd/cardupd.conf" "$f" | sort -u); do
			[ -e "$dest$pth" ] || missing="$missing $(basename "$f"):$pth"
		done
	done
	if [ -z "$missing" ]; then ok "PREFIX=$prefix INIT=$init: the paths the unit/init script/config name are installed"
	else bad "PREFIX=$prefix INIT=$init: named but not installed:$missing"; fi
done
# A second install keeps the administrator's configuration.
dest=$tmp/dest-systemd-_usr
echo "# edited" >> "$dest/etc/cardupd/cardupd.conf"
out=$($MAKE install-files BUILD="$bdir" DESTDIR="$dest" PREFIX=/usr 2>&1)
if tail -1 "$dest/etc/cardupd/cardupd.conf" | grep -qx '# edited' && echo "$out" | grep -q KEPT; then
	ok "make install again: the existing cardupd.conf is kept"
else
	bad "make install again: cardupd.conf replaced" "$out"
fi
check "the installed cardupd accepts the installed unit's command line (--check-config finds the config)" \
    sh -c "'$dest/usr/sbin/cardupd' --check-config -c '$dest/etc/cardupd/cardupd.conf' 2>&1 | grep -q 'trust_anchors'"
if command -v systemd-analyze >/dev/null 2>&1; then
	check "installed unit: systemd-analyze verify" sh -c \
	    "sed 's|^ExecStart\(Pre\)\{0,1\}=+\{0,1\}|&$dest|' '$dest/usr/lib/systemd/system/cardupd.service' > '$tmp/cardupd.service' &&
	     systemd-analyze verify '$tmp/cardupd.service' 2>&1 | grep -v 'pcscd.socket\|network-online' | (! grep .)"
fi

# ---- 2. hardening -------------------------------------------------------------------------
# hardened BINARY: "" when readelf shows every property, else what is missing.
hardened() {
	miss=""
	readelf -h "$1" | grep -q 'Type:.*DYN' || miss="$miss PIE(type)"
	readelf -d "$1" | grep -q 'FLAGS_1.*PIE' || miss="$miss PIE(flag)"
	readelf -d "$1" | grep -Eq 'BIND_NOW|FLAGS_1.*NOW' || miss="$miss BIND_NOW"
	readelf -lW "$1" | grep -q GNU_RELRO || miss="$miss RELRO"
	syms=$(readelf -W --dyn-syms "$1")
	echo "$syms" | grep -q '__stack_chk_fail' || miss="$miss stack-protector"
	echo "$syms" | grep -Eq ' __[a-z0-9_]+_chk(@|$)' || miss="$miss fortify(__*_chk)"
	echo "$miss"
}
for b in cardupd cardupctl; do
	m=$(hardened "$bdir/$b")
	if [ -z "$m" ]; then
		ok "$bdir/$b hardened: PIE, BIND_NOW, RELRO, stack protector, $(readelf -W --dyn-syms "$bdir/$b" | grep -Eo ' __[a-z0-9_]+_chk' | sort -u | wc -l) fortified functions"
	else
		bad "$bdir/$b not hardened: missing$m"
	fi
done
# The same check on a binary built the way an unhardened build links: it must fail.
cat > "$tmp/plain.c" <<'EOF'
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) { char b[16]; strcpy(b, argc > 5 ? argv[1] : "x"); puts(b); return 0; }
EOF
cc -O2 -U_FORTIFY_SOURCE -fno-stack-protector -no-pie -Wl,-z,lazy -Wl,-z,norelro \
    -o "$tmp/plain" "$tmp/plain.c"
m=$(hardened "$tmp/plain")
case $m in
*PIE*BIND_NOW*RELRO*stack-protector*fortify*) ok "an unhardened binary fails the same check (missing$m)" ;;
*) bad "the hardening check passes an unhardened binary" "missing: '$m'" ;;
esac

# ---- 3. pkg-config, package by package ---------------------------------------------------
# The default build asks for libpcsclite and json-c (its libmicrohttpd is built here:
# MHD=plain); MHD=system asks for libmicrohttpd too.
for gone in json-c libpcsclite libmicrohttpd; do
	mhd=""; [ "$gone" = libmicrohttpd ] && mhd="MHD=system"
	pcdir=$tmp/pc-$gone; mkdir -p "$pcdir"
	for p in libpcsclite libmicrohttpd json-c; do
		[ "$p" = "$gone" ] && continue
		src=$(pkg-config --variable=pcfiledir "$p" 2>/dev/null)/$p.pc
		[ -f "$src" ] && cp "$src" "$pcdir/"
	done
	out=$(PKG_CONFIG_LIBDIR=$pcdir $MAKE $mhd BUILD="$tmp/b-$gone" "$tmp/b-$gone/cardupd" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && echo "$out" | grep -q "'$gone'.*not found\|finds no $gone" &&
	    [ ! -e "$tmp/b-$gone/firmware" ]; then
		ok "no $gone.pc${mhd:+ ($mhd)}: the build stops before compiling and names $gone"
	else
		bad "no $gone.pc${mhd:+ ($mhd)}: rc=$rc" "$(echo "$out" | tail -5)"
	fi
done

# ---- 4. man pages -------------------------------------------------------------------------
for m in docs/man/*.[1-8]; do
	[ -f "$m" ] || continue
	check "$m: mandoc -T lint -W warning clean" sh -c "out=\$(mandoc -T lint -W warning '$m' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
	check "$m: man --warnings clean" sh -c "out=\$(MANWIDTH=80 man --warnings -l '$m' 2>&1 >/dev/null); [ -z \"\$out\" ] || { echo \"\$out\"; false; }"
done

# ---- 5. command lines ---------------------------------------------------------------------
check "cardupctl --help: exit 0, long options listed" sh -c \
    "'$bdir/cardupctl' --help | grep -q -- '--url' && '$bdir/cardupctl' --help | grep -q -- '--timeout'"
check "cardupctl --version" sh -c "'$bdir/cardupctl' --version | grep -q '^cardupctl '"
check "cardupctl --url URL --timeout 1 status: long options parsed (daemon unreachable: exit 1)" \
    sh -c "'$bdir/cardupctl' --url http://127.0.0.1:9 --timeout 1 status; [ \$? -eq 1 ]"
check "cardupctl --no-such-option: exit 2" sh -c "'$bdir/cardupctl' --no-such-option status; [ \$? -eq 2 ]"
check "cardupd --help: exit 0" sh -c "'$bdir/cardupd' --help | grep -q -- '--check-config'"
check "cardupd --no-such-option: exit 2" sh -c "'$bdir/cardupd' --no-such-option; [ \$? -eq 2 ]"

echo "== pkg-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
