#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The guest's base system for `make vm-test`: Debian packages for ARCH (arm64, armhf),
# resolved and downloaded once by a *private* apt instance (its own state, cache and
# architecture under build/vm/ARCH/apt: scripts/private-apt.sh), kept as .debs in
# build/vm/ARCH/debs with their versions in build/vm/ARCH/packages.lock. Nothing of the
# machine's apt configuration is touched. Idempotent: prints nothing when in place.
# usage: fetch-debs.sh ARCH
set -eu
# shellcheck source=scripts/private-apt.sh
. "$(dirname "$0")/../../scripts/private-apt.sh"
arch=${1:?usage: fetch-debs.sh arm64|armhf}
case $arch in
arm64) kflavour=arm64 ;;
armhf) kflavour=armmp-lpae ;;
*) echo "fetch-debs: unknown architecture '$arch'" >&2; exit 2 ;;
esac

# What the guest runs, apart from the product image: BusyBox (init, shell, mount,
# start-stop-daemon), udev (reader hotplug for libccid/libusb), pcscd + libccid, and the
# libraries cardupd and cardupctl link (dynamic build). apt adds their dependencies.
PKGS="busybox udev pcscd libccid libpcsclite1 libmicrohttpd12 libjson-c5 libinih1
libbearssl0 libgnutls30 libcrypt1 libgcc-s1 libc6"

top=$(pwd)
root=$top/build/vm/$arch
apt_dir=$root/apt
debs=$root/debs
# shellcheck disable=SC2086 # PKGS is a list
want=$(printf '%s\n' "$arch" $PKGS "$kflavour" | sha256sum | cut -c1-16)
if [ -f "$root/debs.stamp" ] && [ "$(cat "$root/debs.stamp")" = "$want" ]; then
	exit 0
fi
echo "vm: fetching the $arch guest packages into ${debs#"$top"/}"
rm -rf "$debs" "$root/debs.stamp"
mkdir -p "$debs"
papt_init "$apt_dir" "$arch"
papt_update "$root/apt-update.log" vm
# The kernel alone (its own dependencies, initramfs-tools & co, are not wanted): the
# versioned image package the metapackage names.
kpkg=$(papt apt-cache depends "linux-image-$kflavour" 2>/dev/null |
    sed -n "s/^ *Depends: \(linux-image-[0-9].*-$kflavour\)$/\1/p" | head -1)
[ -n "$kpkg" ] || { echo "vm: no linux-image-$kflavour in the $arch index" >&2; exit 1; }
# shellcheck disable=SC2086 # PKGS is a list
papt apt-get install -d -y --no-install-recommends $PKGS >"$root/apt-download.log" 2>&1 ||
    { tail -20 "$root/apt-download.log" >&2; exit 1; }
(cd "$apt_dir/cache/archives" && papt apt-get download "$kpkg" >>"$root/apt-download.log" 2>&1) ||
    { tail -20 "$root/apt-download.log" >&2; exit 1; }
mv "$apt_dir"/cache/archives/*.deb "$debs/"
for d in "$debs"/*.deb; do
	# shellcheck disable=SC2016 # dpkg's fields, not the shell's
	dpkg-deb -W --showformat='${Package} ${Version} ${Architecture}\n' "$d"
done | LC_ALL=C sort > "$root/packages.lock"
rm -rf "$apt_dir/cache"/*.bin
echo "$want" > "$root/debs.stamp"
echo "vm: $arch guest packages ready ($(wc -l < "$root/packages.lock") packages," \
    "$(du -sh "$debs" | cut -f1)); versions in ${root#"$top"/}/packages.lock"
