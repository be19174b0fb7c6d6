#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make deb / make deb-test: the Debian package, built as Debian builds it.
#   dpkg-buildpackage -us -uc -b [-a ARCH] in a copy of the tree (tracked and new files,
#   not build/ or .config: the checkout's own build is not touched), then
#   - lintian: no error (--fail-on error; warnings are shown)
#   - the package holds the daemon, cardupctl, the unit, the man pages, the default
#     configuration (a conffile; its owner and modes come from dpkg-statoverride in the
#     postinst) and maintainer scripts that create user cardupd
#   - the daemon in the package is hardened and carries the package's version
# The .deb files are copied to OUT_DIR (build/deb).
# usage: tests/pkg/deb.sh OUT_DIR [ARCH]      (run from the top folder)
set -u
out=$1; arch=${2:-}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/../lib/check.sh"

src=$tmp/cardupd
mkdir -p "$src"
git ls-files --cached --others --exclude-standard | while IFS= read -r f; do
	[ -e "$f" ] && printf '%s\n' "$f"
done | tar cf - -T - | tar xf - -C "$src"
t0=$(date +%s)
aopt=""; [ -n "$arch" ] && aopt="-a$arch"
if (cd "$src" && dpkg-buildpackage -us -uc -b $aopt) > "$tmp/build.log" 2>&1; then
	ok "dpkg-buildpackage -us -uc -b $aopt ($(( $(date +%s) - t0 )) s)"
else
	bad "dpkg-buildpackage -us -uc -b $aopt" "$(tail -30 "$tmp/build.log")"
	echo "== deb-test: $pass passed, $fail failed"; exit 1
fi
deb=$(ls "$tmp"/cardupd_*.deb)
changes=$(ls "$tmp"/cardupd_*.changes)
mkdir -p "$out"
cp "$tmp"/*.deb "$out/"
echo "  .deb: $out/$(basename "$deb") ($(wc -c < "$deb") bytes)"

# lintian as root complains about root: run it as nobody when we are root.
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	chmod -R a+rX "$tmp"
	lint="setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=$tmp"
else
	lint=""
fi
if lo=$($lint lintian --fail-on error --display-info "$changes" 2>&1); then
	ok "lintian: no errors$(echo "$lo" | grep -c '^[WI]:' | sed 's/^/, warnings+info: /')"
	echo "$lo" | grep '^[EW]:' | sed 's/^/        /'
else
	bad "lintian" "$lo"
fi

dpkg-deb -c "$deb" | awk '{ print $1, $2, $6 }' > "$tmp/contents"
missing=""
for want in "-rwxr-xr-x root/root ./usr/sbin/cardupd" \
    "-rwxr-xr-x root/root ./usr/bin/cardupctl" \
    "-rw-r--r-- root/root ./lib/systemd/system/cardupd.service" \
    "-rw-r--r-- root/root ./usr/lib/sysusers.d/cardupd.conf" \
    "-rw-r--r-- root/root ./usr/lib/tmpfiles.d/cardupd.conf" \
    "-rw-r--r-- root/root ./etc/cardupd/cardupd.conf" \
    "-rw-r--r-- root/root ./usr/share/man/man8/cardupd.8.gz" \
    "-rw-r--r-- root/root ./usr/share/man/man1/cardupctl.1.gz" \
    "-rw-r--r-- root/root ./usr/share/man/man1/cardupd-kiosk.1.gz"; do
	grep -qxF -- "$want" "$tmp/contents" || missing="$missing
$want"
done
if [ -f docs/man/cardupd.conf.5 ] && ! grep -q 'man5/cardupd.conf.5.gz$' "$tmp/contents"; then
	missing="$missing
usr/share/man/man5/cardupd.conf.5.gz"
fi
if [ -z "$missing" ]; then ok "contents: daemon, cardupctl, unit, sysusers/tmpfiles, default config, man pages"
else bad "contents: missing or wrong mode:" "$missing"; fi

mkdir -p "$tmp/ctrl" "$tmp/root"
dpkg-deb -e "$deb" "$tmp/ctrl"
dpkg-deb -x "$deb" "$tmp/root"
if grep -q 'adduser --system' "$tmp/ctrl/postinst" &&
    grep -q 'dpkg-statoverride --update --add cardupd cardupd 0700 /etc/cardupd$' "$tmp/ctrl/postinst" &&
    grep -q 'deb-systemd-helper' "$tmp/ctrl/postinst" && sh -n "$tmp/ctrl/postinst" &&
    grep -qx '/etc/cardupd/cardupd.conf' "$tmp/ctrl/conffiles"; then
	ok "postinst creates user cardupd, gives it /etc/cardupd, enables the unit; cardupd.conf is a conffile"
else
	bad "maintainer scripts" "$(cat "$tmp/ctrl/postinst" "$tmp/ctrl/conffiles" 2>&1 | head -40)"
fi
ver=$(dpkg-deb -f "$deb" Version)
if [ -z "$arch" ] || [ "$arch" = "$(dpkg --print-architecture)" ]; then
	v=$("$tmp/root/usr/sbin/cardupd" --version 2>&1)
	if [ "$v" = "cardupd $ver" ]; then ok "packaged cardupd --version: $v"
	else bad "packaged cardupd --version" "got '$v', package version $ver"; fi
fi
dyn=$(readelf -d "$tmp/root/usr/sbin/cardupd")
if echo "$dyn" | grep -q 'FLAGS_1.*NOW.*PIE\|FLAGS_1.*PIE.*NOW' &&
    readelf -W --dyn-syms "$tmp/root/usr/sbin/cardupd" | grep -q '__[a-z0-9_]*_chk'; then
	ok "packaged cardupd: PIE, BIND_NOW, fortified"
else
	bad "packaged cardupd not hardened" "$dyn"
fi

echo "== deb-test: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
