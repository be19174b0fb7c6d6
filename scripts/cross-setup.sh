#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Cross toolchain and sysroot for one Debian architecture (arm64 or armhf). Idempotent.
# Host tools (cross gcc, qemu-user) come from apt, installed only when missing. The sysroot
# is Debian's own packages for ARCH, resolved and downloaded by a *private* apt instance
# (its own state, cache and architecture under build/cross/ARCH/apt) and unpacked with
# dpkg -x: the machine's dpkg architectures, sources and lists are never touched, so
# nothing here can make the machine's `apt-get update` fail.
#
# usage: cross-setup.sh ARCH          prints nothing on success when everything is in place
set -eu
# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/private-apt.sh"

arch=${1:?usage: cross-setup.sh arm64|armhf}
case $arch in
arm64) triplet=aarch64-linux-gnu ;;
armhf) triplet=arm-linux-gnueabihf ;;
*) echo "cross-setup: unknown architecture '$arch' (arm64|armhf)" >&2; exit 2 ;;
esac

# Libraries cardupd and its unit tests link against; apt adds their dependencies
# (gnutls & co for Debian's libmicrohttpd, linked with MHD=system; libc6 for qemu's -L).
SYSROOT_PKGS="libc6-dev libpcsclite-dev libmicrohttpd-dev libjson-c-dev
libbearssl-dev libcmocka-dev"
TOOLS="gcc-$triplet binutils-$triplet libc6-dev-$arch-cross qemu-user-static"

top=$(pwd)
root=$top/build/cross/$arch
sysroot=$root/sysroot
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

# ---- host tools ------------------------------------------------------------------
missing=""
for p in $TOOLS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "cross-setup: installing:$missing"
	$SUDO apt-get update -q || true	# a broken foreign index must not stop us
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
fi

# Debian's libmicrohttpd source, for the builds without HTTPS (scripts/mhd-plain.sh:
# MHD=plain, the static builds); silent once fetched.
"$(dirname "$0")/mhd-plain.sh" fetch

# ---- sysroot ---------------------------------------------------------------------
want=$(printf '%s\n' "$arch" $SYSROOT_PKGS | sha256sum | cut -c1-16)
if [ -f "$root/sysroot.stamp" ] && [ "$(cat "$root/sysroot.stamp")" = "$want" ] &&
    [ -d "$sysroot/usr/include" ]; then
	exit 0
fi
echo "cross-setup: building the $arch sysroot in ${sysroot#"$top"/}"
rm -rf "$sysroot" "$root/sysroot.stamp"
mkdir -p "$sysroot"
papt_init "$root/apt" "$arch"
papt_update "$root/apt-update.log" cross-setup
papt apt-get install -d -y --no-install-recommends $SYSROOT_PKGS >"$root/apt-download.log" 2>&1 ||
    { tail -20 "$root/apt-download.log" >&2; exit 1; }
n=0
for deb in "$root"/apt/cache/archives/*.deb; do
	dpkg -x "$deb" "$sysroot"
	n=$((n + 1))
done
# Absolute symlinks (/lib/... in some -dev packages) must point inside the sysroot:
# made relative, so the checkout can move.
find "$sysroot" -type l | while read -r l; do
	t=$(readlink "$l")
	case $t in
	/*) ln -sfn "$(realpath -m --relative-to="$(dirname "$l")" "$sysroot$t")" "$l" ;;
	esac
done
# Nothing under build/ may be named *.d: the top Makefile -includes every build/**/*.d.
find "$sysroot" -name '*.d' -prune -exec rm -rf {} +
rm -rf "$sysroot/usr/share/doc" "$sysroot/usr/share/man" "$sysroot/usr/share/locale"
rm -rf "$root"/apt/cache/archives/*.deb "$root"/apt/cache/*.bin
echo "$want" > "$root/sysroot.stamp"
echo "cross-setup: $arch sysroot ready ($n packages, $(du -sh "$sysroot" | cut -f1))"
