#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A fully static cardupd for ARCH (arm64, armhf, host: x86_64 with the machine's own gcc
# and its /usr/lib/<multiarch> archives, no sysroot): Debian ships libjson-c.a,
# libbearssl.a, and libc.a, but no libpcsclite.a, and its libmicrohttpd.a needs GnuTLS
# (whose p11-kit has no .a). So the pcsc-lite client library is built here from Debian's
# source package (for arm64/armhf fetched by the same private apt as the sysroot, deb-src
# entries added there only; for the host by `make deps` through `cross-static.sh fetch`,
# a private apt of its own with source entries only; built once and kept), libmicrohttpd
# without HTTPS by scripts/mhd-plain.sh (the one build of it, shared with the dynamic
# builds: build/mhd/ARCH), then linked with the objects that `make static-ARCH` built in
# build/ARCH-static from a Kconfig file with the remote administration off (ADMIN:
# libcrypt), so nothing else is needed.
# cardupctl likewise: every image carries it, the static one too.
# usage: cross-static.sh ARCH           writes build/ARCH-static/cardupd and cardupctl
#        cross-static.sh fetch          the pcsc-lite source for ARCH host (network; once)
set -eu
# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/private-apt.sh"
what=${1:?usage: cross-static.sh arm64|armhf|host|fetch}
arch=$what
[ "$what" = fetch ] && arch=host
case $arch in
arm64) triplet=aarch64-linux-gnu ;;
armhf) triplet=arm-linux-gnueabihf ;;
host) triplet="" ;;
*) echo "cross-static: unknown architecture '$arch'" >&2; exit 2 ;;
esac
top=$(pwd)
root=$top/build/cross/$arch	# host: only apt/ and src/ (the pcsc-lite source)
apt_dir=$root/apt
src=$root/src
out=$top/build/$arch-static
if [ -n "$triplet" ]; then
	sysroot=$root/sysroot
	cc="$triplet-gcc --sysroot=$sysroot"
	lib=$sysroot/usr/lib/$triplet
else
	cc=cc
	lib=/usr/lib/$($cc -print-multiarch)
fi

# Debian's pcsc-lite source into $src, once. arm64/armhf: deb-src twins of the sysroot's
# Debian entries, in its private apt only (at the first static build). host: a private
# apt of its own holding source entries only, as scripts/mhd-plain.sh's (`make deps`:
# the host's build stays offline).
fetch_src() {
	[ -f "$src/.fetched" ] && return 0
	if [ -n "$triplet" ]; then
		papt_use "$apt_dir" "$arch"
		for f in "$apt_dir"/sources/*.sources; do
			[ -f "$f" ] || continue
			case $f in *-src.sources) continue ;; esac
			sed 's/^Types: deb$/Types: deb-src/' "$f" > "${f%.sources}-src.sources"
		done
	else
		command -v dpkg-source >/dev/null 2>&1 ||
		    { echo "cross-static: dpkg-source missing (dpkg-dev: make deps)" >&2; exit 1; }
		echo "cross-static: fetching Debian's pcsc-lite source into build/cross/host/src"
		papt_init "$apt_dir" "$(dpkg --print-architecture)"
		for f in "$apt_dir"/sources/*; do
			case $f in
			*.sources) sed -i 's/^Types: deb$/Types: deb-src/' "$f" ;;
			*.list) sed -i -n 's/^deb \(.*\)$/deb-src \1/p' "$f" ;;
			esac
		done
	fi
	papt_update "$root/apt-update-src.log" cross-static
	rm -rf "$src"; mkdir -p "$src"
	(cd "$src" && papt apt-get source pcsc-lite >"$root/apt-source.log" 2>&1) ||
	    { tail -5 "$root/apt-source.log" >&2; exit 1; }
	[ -n "$triplet" ] || rm -rf "$apt_dir/lists" "$apt_dir/cache"
	touch "$src/.fetched"
}
if [ "$what" = fetch ]; then
	fetch_src
	exit 0
fi

[ -f "$out/libcardupd.a" ] && [ -f "$out/firmware/main.o" ] && [ -f "$out/firmware/process.o" ] && [ -f "$out/tools/cardupctl.o" ] ||
    { echo "cross-static: no objects in build/$arch-static (make static-$arch)" >&2; exit 2; }
grep -qx '# CONFIG_ADMIN is not set' "$out/.config" 2>/dev/null ||
    { echo "cross-static: build/$arch-static/.config must have ADMIN off (make static-$arch)" >&2; exit 2; }
if [ -n "$triplet" ]; then
	[ -d "$apt_dir/sources" ] || { echo "cross-static: no sysroot (make cross-setup-$arch)" >&2; exit 2; }
elif [ ! -f "$src/.fetched" ]; then
	echo "cross-static: no pcsc-lite source in build/cross/host/src: run 'make deps'" \
	    "(or 'scripts/cross-static.sh fetch')" >&2
	exit 2
fi

# pcsc-lite's configure insists on flex, even for the client library alone.
if ! command -v flex >/dev/null 2>&1; then
	echo "cross-static: installing flex"
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends flex \
	    >/dev/null || { $SUDO apt-get update -q >/dev/null || true;
	    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends flex; }
fi

fetch_src
pcsc=$(find "$src" -maxdepth 1 -type d -name 'pcsc-lite-*' | head -1)
mkdir -p "$out"

if [ ! -f "$out/pcsc/src/.libs/libpcsclite.a" ]; then
	echo "cross-static: pcsc-lite client library ($arch)"
	rm -rf "$out/pcsc"; mkdir -p "$out/pcsc"
	(cd "$out/pcsc" && "$pcsc/configure" ${triplet:+--host="$triplet"} CC="$cc" \
	    --enable-static --disable-shared --disable-libsystemd --disable-libudev \
	    --disable-polkit --disable-serial --disable-usb >configure.log 2>&1 &&
	    make -C src libpcsclite.la >make.log 2>&1) ||
	    { tail -20 "$out/pcsc/configure.log" "$out/pcsc/make.log" >&2 2>/dev/null; exit 1; }
fi
mhd_a=$top/build/mhd/$arch/libmicrohttpd.a
if [ ! -f "$mhd_a" ]; then	# made by `make static-ARCH` already (mk/mhd.mk)
	"$(dirname "$0")/mhd-plain.sh" fetch
	"$(dirname "$0")/mhd-plain.sh" "$arch"
fi
pcsc_a=$out/pcsc/src/.libs/libpcsclite.a
# link NAME "OBJS": build/ARCH-static/NAME from its own objects and the static libraries
# (the linker takes from each only what NAME uses), unless newer than all of them.
link() {
	name=$1; main=$2	# word-split on purpose: one or more objects
	# shellcheck disable=SC2086
	if [ -x "$out/$name" ] && [ -z "$(find $main "$out/libcardupd.a" "$mhd_a" "$pcsc_a" \
	    -newer "$out/$name")" ]; then
		return 0	# up to date
	fi
	# shellcheck disable=SC2086
	$cc -static -o "$out/$name.tmp" $main "$out/libcardupd.a" "$mhd_a" "$pcsc_a" \
	    "$lib/libjson-c.a" "$lib/libbearssl.a" -lpthread 2>"$out/$name.link.log" ||
	    { cat "$out/$name.link.log" >&2; rm -f "$out/$name.tmp"; exit 1; }
	mv "$out/$name.tmp" "$out/$name"
	echo "  static  build/$arch-static/$name"
}
# The daemon's link log holds glibc's warning that static getaddrinfo needs the NSS
# modules of the target's libc at run time (docs/boards.md). cardupctl resolves no names
# (the kiosk API's address is numeric).
link cardupd "$out/firmware/main.o $out/firmware/process.o"
link cardupctl "$out/tools/cardupctl.o"
