#!/bin/sh
# make image: the cardupd component of a board's root filesystem, as a reproducible
# tarball (and a squashfs when mksquashfs is installed): same sources, same bytes.
#   board/common/rootfs + board/BOARD/rootfs  (units, init scripts, kiosk launcher, configs)
#   BUILD_DIR/cardupd -> /usr/sbin/cardupd, BUILD_DIR/cardupctl -> /usr/bin/cardupctl (if built)
#   board/BOARD/post-build.sh ROOTFS          (the same hook Buildroot calls)
# Every file root:root; binaries and scripts 0755, /etc/cardupd/*.conf 0640, the rest 0644;
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
[ -x "$bdir/cardupd" ] || { echo "image: $bdir/cardupd not built" >&2; exit 2; }
: "${SOURCE_DATE_EPOCH:=$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
export SOURCE_DATE_EPOCH

# Staged outside build/: a rootfs holds init.d/, sysusers.d/... and the top Makefile
# -includes every build/**/*.d.
stage=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-image.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM
root=$stage/rootfs
mkdir -p "$root"
cp -R board/common/rootfs/. "$root/"
[ -d "board/$board/rootfs" ] && cp -R "board/$board/rootfs/." "$root/"
mkdir -p "$root/usr/sbin" "$root/usr/bin"
"$strip" --strip-all -o "$root/usr/sbin/cardupd" "$bdir/cardupd"
if [ -x "$bdir/cardupctl" ]; then
	"$strip" --strip-all -o "$root/usr/bin/cardupctl" "$bdir/cardupctl"
fi
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
for f in "$root"/etc/cardupd/*.conf; do
	[ -f "$f" ] && chmod 0640 "$f"
done
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

mkdir -p "$out"
name=cardupd-$board
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort > "$stage/files")
tar -C "$root" --sort=name --owner=0 --group=0 --numeric-owner --format=gnu \
    --mtime="@$SOURCE_DATE_EPOCH" --no-recursion -cf - -T "$stage/files" |
    gzip -n -9 > "$out/$name.tar.gz.tmp"
mv "$out/$name.tar.gz.tmp" "$out/$name.tar.gz"
sums="$name.tar.gz"
if ! command -v mksquashfs >/dev/null 2>&1; then	# optional: the tarball is the product
	SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends \
	    squashfs-tools >/dev/null 2>&1 || echo "image: no mksquashfs, tarball only" >&2
fi
if command -v mksquashfs >/dev/null 2>&1; then
	rm -f "$out/$name.squashfs"
	# -all-root and SOURCE_DATE_EPOCH (read from the environment by squashfs-tools
	# >= 4.5 for every time stamp): reproducible.
	mksquashfs "$root" "$out/$name.squashfs" -noappend -all-root -no-xattrs -quiet \
	    -no-progress -comp xz >/dev/null
	sums="$sums $name.squashfs"
fi
(cd "$out" && sha256sum $sums > "$name.sha256")
echo "  IMAGE   $out/$name.tar.gz$( [ -f "$out/$name.squashfs" ] && echo " + .squashfs")" \
    "($(wc -c < "$out/$name.tar.gz") bytes, SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH)"
