#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# libmicrohttpd without HTTPS, static, from Debian's own source package: the one copy of
# this build for every cardupd that links it (the host's `MHD=plain`, the cross boards,
# the static builds of scripts/cross-static.sh). Debian's libmicrohttpd.so is built with
# HTTPS and maps GnuTLS and its eight libraries (~1.8 MiB resident, docs/performance.md)
# even in a daemon that never uses them.
#
#   mhd-plain.sh fetch      the source into build/mhd/src (a private apt with deb-src
#                           entries for the machine's Debian sources: /etc/apt is never
#                           touched); once, then kept. Run by `make deps`.
#   mhd-plain.sh ARCH       (host|arm64|armhf) build/mhd/ARCH/libmicrohttpd.a and
#                           build/mhd/ARCH/include/microhttpd.h from that source; no
#                           network. Once, then kept (rebuilt when this script changes).
#
# Flags: hardened as the Makefile's own objects (stack protector, stack clash, fortify,
# -fPIE: the host's executable is PIE; the static ARM binaries are not, and PIE code
# links there too). Cross builds use Debian's cross compiler on the sysroot that
# scripts/cross-setup.sh assembles.
set -eu
# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
what=${1:?usage: mhd-plain.sh fetch|host|arm64|armhf}
top=$(pwd)
root=$top/build/mhd
src=$root/src

fetch() {
	[ -f "$src/.fetched" ] && return 0
	command -v dpkg-source >/dev/null 2>&1 ||
	    { echo "mhd-plain: dpkg-source missing (dpkg-dev: make deps)" >&2; exit 1; }
	echo "mhd-plain: fetching Debian's libmicrohttpd source into build/mhd/src"
	papt_init "$root/apt" "$(dpkg --print-architecture)"
	# Source entries only (no binary indexes to download): deb-src twins of the
	# machine's Debian entries, in the private apt only.
	for f in "$root"/apt/sources/*; do
		case $f in
		*.sources) sed -i 's/^Types: deb$/Types: deb-src/' "$f" ;;
		*.list) sed -i -n 's/^deb \(.*\)$/deb-src \1/p' "$f" ;;
		esac
	done
	papt_update "$root/apt-update.log" mhd-plain
	rm -rf "$src"; mkdir -p "$src"
	(cd "$src" && papt apt-get source libmicrohttpd >"$root/apt-source.log" 2>&1) ||
	    { tail -5 "$root/apt-source.log" >&2; exit 1; }
	ls -d "$src"/libmicrohttpd-*/configure >/dev/null 2>&1 ||
	    { echo "mhd-plain: apt-get source gave no libmicrohttpd-*/configure" >&2; exit 1; }
	rm -rf "$root"/apt/lists "$root"/apt/cache
	touch "$src/.fetched"
}

if [ "$what" = fetch ]; then
	fetch
	exit 0
fi

arch=$what
case $arch in
host) triplet=""; cc=${MHD_CC:-cc} ;;
arm64) triplet=aarch64-linux-gnu ;;
armhf) triplet=arm-linux-gnueabihf ;;
*) echo "mhd-plain: unknown architecture '$arch' (host|arm64|armhf)" >&2; exit 2 ;;
esac
if [ -n "$triplet" ]; then
	sysroot=$top/build/cross/$arch/sysroot
	[ -d "$sysroot/usr/include" ] ||
	    { echo "mhd-plain: no $arch sysroot (make cross-setup-$arch)" >&2; exit 2; }
	cc="$triplet-gcc --sysroot=$sysroot"
fi
mhd=$(find "$src" -maxdepth 1 -type d -name 'libmicrohttpd-*' 2>/dev/null | head -1)
if [ ! -f "$src/.fetched" ] || [ -z "$mhd" ]; then
	echo "mhd-plain: no libmicrohttpd source in build/mhd/src: run 'make deps'" \
	    "(or 'scripts/mhd-plain.sh fetch'), or build with MHD=system (Debian's" \
	    "libmicrohttpd, with HTTPS and GnuTLS)" >&2
	exit 2
fi

out=$root/$arch
obj=$out/obj
echo "  MHD     libmicrohttpd without HTTPS ($arch, ${mhd##*/})"
rm -rf "$out"; mkdir -p "$obj"
cflags="-O2 -g -fPIE -fstack-protector-strong -fstack-clash-protection"
cppflags="-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2"
(cd "$obj" && "$mhd/configure" ${triplet:+--host="$triplet"} CC="$cc" \
    CFLAGS="$cflags" CPPFLAGS="$cppflags" \
    --enable-static --disable-shared --with-pic --disable-https --disable-doc \
    --disable-examples --disable-curl --disable-tools >configure.log 2>&1 &&
    make -C src/microhttpd libmicrohttpd.la >make.log 2>&1) ||
    { tail -20 "$obj/configure.log" "$obj/make.log" >&2 2>/dev/null; exit 1; }
grep -q '^#define HTTPS_SUPPORT' "$obj/MHD_config.h" &&
    { echo "mhd-plain: configure kept HTTPS_SUPPORT" >&2; exit 1; }
mkdir -p "$out/include"
cp "$mhd/src/include/microhttpd.h" "$out/include/"
# The archive last: it is what make waits for.
cp "$obj/src/microhttpd/.libs/libmicrohttpd.a" "$out/libmicrohttpd.a.tmp"
mv "$out/libmicrohttpd.a.tmp" "$out/libmicrohttpd.a"
echo "  MHD     build/mhd/$arch/libmicrohttpd.a ($(wc -c < "$out/libmicrohttpd.a") bytes)"
