#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make size: figures, never pass/fail. Stripped size of cardupd per architecture (dynamic,
# and static where a static build exists), its dynamic libraries, and each image's size.
# usage: size.sh HOST_BUILD_DIR ARCH...
set -u
hb=$1; shift
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-size.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
row() { # row LABEL BINARY STRIP
	[ -x "$2" ] || return 0
	"$3" --strip-all -o "$tmp/bin" "$2" 2>/dev/null || return 0
	libs=$(readelf -d "$tmp/bin" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' |
	    sed 's/\.so.*//; s/^lib//' | tr '\n' ' ')
	printf '  %-22s %9s bytes  %s\n' "$1" "$(wc -c < "$tmp/bin")" \
	    "${libs:+needs: $libs}"
}
echo "== cardupd, stripped"
row "host (x86_64)" "$hb/cardupd" strip
for a in "$@"; do
	case $a in
	arm64) s=aarch64-linux-gnu-strip ;;
	armhf) s=arm-linux-gnueabihf-strip ;;
	*) continue ;;
	esac
	row "$a" "build/$a/cardupd" "$s"
	row "$a static, no admin" "build/$a-static/cardupd" "$s"
done
if ls build/image/*.tar.gz >/dev/null 2>&1; then
	echo "== images"
	for f in build/image/*.tar.gz build/image/*.squashfs; do
		[ -f "$f" ] && printf '  %-34s %9s bytes\n' "$(basename "$f")" "$(wc -c < "$f")"
	done
fi
