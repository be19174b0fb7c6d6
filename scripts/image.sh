#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make image: the cardupd component of a board's root filesystem, as a reproducible
# tarball (and a squashfs when mksquashfs is installed): same sources, same bytes.
#   make install-files INIT=all BOARD=BOARD (mk/install.mk: binaries, units, init scripts,
#   kiosk launcher, the board's configuration), binaries stripped
#   board/BOARD/post-build.sh ROOTFS          (the same hook Buildroot calls)
# Every entry root:root, except /etc/cardupd (0700) and what it holds (0600), which belong
# to user and group cardupd: the daemon saves its settings and trust anchors there. Their
# numeric UID/GID are the fixed ones of usr/lib/sysusers.d/cardupd.conf (the tarball also
# stores the names, the squashfs only numbers). Binaries and scripts 0755, the rest 0644;
# every time stamp SOURCE_DATE_EPOCH (default: the last commit's time).
# usage: image.sh BOARD BUILD_DIR OUT_DIR
set -eu
board=$1; bdir=$2; out=$3
[ -f "board/$board/board.env" ] || { echo "image: no board/$board/board.env" >&2; exit 2; }
arch=$(sed -n 's/^BOARD_ARCH=//p' "board/$board/board.env")
case $arch in
host)  strip="strip" ;;
arm64) strip=aarch64-linux-gnu-strip ;;
armhf) strip=arm-linux-gnueabihf-strip ;;
*) echo "image: board/$board: unknown BOARD_ARCH '$arch'" >&2; exit 2 ;;
esac
# Every image carries the daemon and its shell client (README: the one install list).
for b in cardupd cardupctl; do
	[ -x "$bdir/$b" ] || { echo "image: $bdir/$b not built" >&2; exit 2; }
done
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH

# Staged outside build/: a rootfs holds init.d/, sysusers.d/... and the top Makefile
# -includes every build/**/*.d.
stage=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-image.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
root=$stage/rootfs
mkdir -p "$root"
# The one install list (mk/install.mk): both init systems, no man pages on a device, the
# board's configuration; then the binaries stripped for the target.
${MAKE:-make} --no-print-directory install-files DESTDIR="$root" PREFIX=/usr INIT=all \
    INSTALL_MAN=0 BOARD="$board" BUILD="$bdir" >/dev/null
for f in "$root/usr/sbin/cardupd" "$root/usr/bin/cardupctl"; do
	if [ -f "$f" ]; then "$strip" --strip-all "$f"; fi
done
if [ -x "board/$board/post-build.sh" ]; then
	"board/$board/post-build.sh" "$root"
fi
# Modes are set here, not taken from the checkout (umask, git's 0644/0755 only).
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f -exec chmod 0644 {} +
for f in "$root"/usr/sbin/* "$root"/usr/bin/* "$root"/usr/libexec/cardupd/* \
    "$root"/etc/init.d/*; do
	[ -f "$f" ] && chmod 0755 "$f"
done
if [ -d "$root/etc/cardupd" ]; then
	chmod 0700 "$root/etc/cardupd"
	find "$root/etc/cardupd" -mindepth 1 -type d -exec chmod 0700 {} +
	find "$root/etc/cardupd" -type f -exec chmod 0600 {} +
fi
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# The daemon's UID/GID: fixed in sysusers.d (g cardupd N / u cardupd N:cardupd), the same
# as Buildroot's CARDUPD_USERS (checked by tests/image/run.sh).
sysusers=$root/usr/lib/sysusers.d/cardupd.conf
uid=$(awk '$1 == "u" && $2 == "cardupd" { sub(/:.*/, "", $3); print $3 }' "$sysusers")
gid=$(awk '$1 == "g" && $2 == "cardupd" { print $3 }' "$sysusers")
case $uid$gid in
''|*[!0-9]*) echo "image: $sysusers: no fixed numeric UID/GID for cardupd" >&2; exit 2 ;;
esac
# owner ./PATH: "root 0 0" or "cardupd UID GID".
owner() {
	case ${1#./} in
	etc/cardupd|etc/cardupd/*) echo "cardupd $uid $gid" ;;
	*) echo "root 0 0" ;;
	esac
}

mkdir -p "$out"
name=cardupd-$board
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort > "$stage/files")
# One sorted archive written in runs of entries with the same owner (tar -r appends a run
# with its own --owner/--group): root's entries numeric only, as always; cardupd's with the
# name too, so that GNU and BusyBox tar, extracting as root, give them to the target's
# cardupd user whatever its UID (the number serves where the name is unknown).
tarball=$stage/$name.tar
rm -f "$tarball"
run=""; runfile=$stage/run; : > "$runfile"
flush() {
	[ -s "$runfile" ] || return 0
	set -- $run
	if [ "$1" = root ]; then ids="--owner=0 --group=0 --numeric-owner"
	else ids="--owner=$1:$2 --group=$1:$3"; fi
	# shellcheck disable=SC2086 # $ids holds options
	tar -C "$root" $ids --format=gnu --mtime="@$SOURCE_DATE_EPOCH" --no-recursion \
	    -$( [ -f "$tarball" ] && echo r || echo c )f "$tarball" -T "$runfile"
	: > "$runfile"
}
while IFS= read -r p; do
	o=$(owner "$p")
	[ "$o" = "$run" ] || { flush; run=$o; }
	printf '%s\n' "$p" >> "$runfile"
done < "$stage/files"
flush
gzip -n -9 < "$tarball" > "$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
sums="$name.tar.gz"
if ! command -v mksquashfs >/dev/null 2>&1; then	# optional: the tarball is the product
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
	    squashfs-tools >/dev/null 2>&1 || echo "image: no mksquashfs, tarball only" >&2
fi
if command -v mksquashfs >/dev/null 2>&1; then
	rm -f "$out/$name.squashfs"
	# Owners and modes of every entry from a pseudo file ("PATH m MODE UID GID"), not
	# from the staging folder, and SOURCE_DATE_EPOCH (read from the environment by
	# squashfs-tools >= 4.5 for every time stamp): reproducible.
	while IFS= read -r p; do
		set -- $(owner "$p")
		printf '%s m %s %s %s\n' "${p#./}" "$(stat -c %a "$root/$p")" "$2" "$3"
	done < "$stage/files" > "$stage/pseudo"
	mksquashfs "$root" "$out/$name.squashfs" -noappend -no-xattrs -quiet -no-progress \
	    -root-uid 0 -root-gid 0 -root-mode 0755 -pf "$stage/pseudo" -comp xz >/dev/null
	sums="$sums $name.squashfs"
fi
(cd "$out" && sha256sum $sums > "$name.sha256")
echo "  IMAGE   $out/$name.tar.gz$( [ -f "$out/$name.squashfs" ] && echo " + .squashfs")" \
    "($(wc -c < "$out/$name.tar.gz") bytes, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
