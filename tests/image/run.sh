#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make image-test: checks each board's image as an integrator would receive it.
#   1. reproducible: the binaries rebuilt from scratch give the same image bytes
#   2. unpacked: the expected files with their owners and modes, nothing else: root:root
#      but /etc/cardupd (0700) and cardupd.conf (0600), user cardupd's, whose fixed UID/GID
#      sysusers.d and Buildroot's CARDUPD_USERS agree on
#   3. the systemd unit passes `systemd-analyze verify` (and its exposure score is shown),
#      runs cardupd on /etc/cardupd/cardupd.conf with /etc/cardupd writable; the init
#      scripts, hook and launcher pass `sh -n`; own-config hands a root-owned /etc/cardupd
#      over once, without following links
#   4. the launcher restarts the browser, with a new profile, when the hook fires
#   5. the board's cardupd runs under qemu-user: --version, --check-config on the board's
#      own example configuration (with a generated trust anchor), also as the daemon's
#      UID in the unpacked /etc/cardupd, which it can replace a file in (as the admin does);
#      its cardupctl answers --version and --help; the static binaries too when there are
#      (make static-<arch>: no sysroot, ADMIN off)
# BOARD-static is the image of the static build (make image-static-<arch>, in
# build/image-static): the same checks but the clean rebuild (it would rebuild pcsc-lite
# and libmicrohttpd from source), its binaries run without a sysroot and must be static.
# usage: tests/image/run.sh BOARD[-static]...   (after `make image`; run from the top folder)
set -u
top=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-image-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
. "$(dirname "$0")/../lib/check.sh"
check_prefix() { printf '%s: ' "$board"; }

# Mode of every path the image must hold; anything else in the image is an error.
expected() {
	cat <<LIST
0755 etc
0700 etc/cardupd
0600 etc/cardupd/cardupd.conf
0755 etc/default
0644 etc/default/cardupd-kiosk
0644 etc/default/pcscd
0755 etc/init.d
0755 etc/init.d/S45pcscd
0755 etc/init.d/S50cardupd
0755 usr
0755 usr/bin
0755 usr/bin/cardupctl
0755 usr/bin/cardupd-kiosk
0755 usr/lib
0755 usr/lib/systemd
0755 usr/lib/systemd/system
0644 usr/lib/systemd/system/cardupd.service
0755 usr/lib/sysusers.d
0644 usr/lib/sysusers.d/cardupd.conf
0755 usr/lib/tmpfiles.d
0644 usr/lib/tmpfiles.d/cardupd.conf
0755 usr/libexec
0755 usr/libexec/cardupd
0755 usr/libexec/cardupd/kiosk-session-end
0755 usr/libexec/cardupd/own-config
0755 usr/sbin
0755 usr/sbin/cardupd
0755 usr/share
0755 usr/share/polkit-1
0755 usr/share/polkit-1/rules.d
0644 usr/share/polkit-1/rules.d/50-cardupd-pcscd.rules
LIST
	# Optional entries: present only when their source is.
	[ -f "$root/etc/default/cardupd" ] && echo "0644 etc/default/cardupd"
	true
}

# The daemon's fixed UID/GID: sysusers.d (what image.sh uses) and Buildroot's users table
# must agree, and Buildroot's permission table must give it /etc/cardupd.
board=common
sysusers=board/common/rootfs/usr/lib/sysusers.d/cardupd.conf
mk=board/buildroot/package/cardupd/cardupd.mk
uid=$(awk '$1 == "u" && $2 == "cardupd" { sub(/:.*/, "", $3); print $3 }' "$sysusers")
gid=$(awk '$1 == "g" && $2 == "cardupd" { print $3 }' "$sysusers")
br=$(awk '$1 == "cardupd" && $3 == "cardupd" { print $2 " " $4 }' "$mk")
if [ -n "$uid" ] && [ "$br" = "$uid $gid" ]; then
	ok "cardupd UID/GID $uid/$gid: sysusers.d and CARDUPD_USERS agree"
else
	bad "cardupd UID/GID" "sysusers.d: '$uid' '$gid', CARDUPD_USERS: '$br'"
fi
perms=$(awk '$1 ~ /^\/etc\/cardupd/ { print $1, $2, $3, $4, $5 }' "$mk" | LC_ALL=C sort)
want_perms=$(printf '%s\n' "/etc/cardupd d 0700 cardupd cardupd" \
    "/etc/cardupd/cardupd.conf f 0600 cardupd cardupd")
[ "$perms" = "$want_perms" ] && ok "CARDUPD_PERMISSIONS: /etc/cardupd 0700, cardupd.conf 0600, cardupd's" ||
    bad "CARDUPD_PERMISSIONS" "$perms"

# The static build's checks: STATIC_CARDUPD, STATIC_CARDUPCTL (the binaries in the static
# image, or build/<arch>-static's), run by qemu-user without a sysroot.
static_checks() {
	for b in "$1" "$2"; do
		dyn=$(readelf -ld "$b" 2>&1 | grep -E 'INTERP|NEEDED')
		[ -z "$dyn" ] && ok "static ${b##*/}: no interpreter, no shared libraries" ||
		    bad "static ${b##*/} is not static" "$dyn"
		check "static ${b##*/} --version (no sysroot)" "$sq" "$b" --version
	done
	check "static cardupctl --help (no sysroot)" "$sq" "$2" --help
	check "static cardupd --check-config (no sysroot)" \
	    "$sq" "$1" --check-config -c "$tmp/$board.conf"
	printf '[admin]\nlisten = 0.0.0.0:8443\n' | cat "$tmp/$board.conf" - > "$tmp/$board-admin.conf"
	out=$("$sq" "$1" --check-config -c "$tmp/$board-admin.conf" 2>&1) &&
	    printf '%s' "$out" | grep -q 'ignored, .*without the admin listener' &&
	    ok "static cardupd: admin.listen accepted and reported as ignored (no admin listener)" ||
	    bad "static cardupd with [admin] listen" "$out"
}

for board in "$@"; do
	bname=${board%-static}
	arch=$(sed -n 's/^BOARD_ARCH=//p' "board/$bname/board.env")
	case $arch in
	host)  bdir=${BUILD:-build}; qemu="" ;;
	arm64) bdir=build/arm64; qemu="qemu-aarch64-static -L $top/build/cross/arm64/sysroot" ;;
	armhf) bdir=build/armhf; qemu="qemu-arm-static -L $top/build/cross/armhf/sysroot" ;;
	esac
	sq=${qemu%% *}
	idir=build/image
	if [ "$bname" != "$board" ]; then	# the static build's image
		bdir=build/$arch-static; idir=build/image-static; qemu=$sq
	fi
	img=$idir/cardupd-$bname.tar.gz
	echo "== image $board ($arch): $img"
	[ -f "$img" ] || { bad "no $img (make image, make image-static-$arch)"; continue; }
	root=$tmp/$board
	mkdir -p "$root"

	# 1. Reproducible: rebuild the binaries from nothing, make the image again, compare.
	cp "$idir/cardupd-$bname.sha256" "$tmp/$board.sha256.first"
	if [ "$arch" != host ] && [ "$bname" = "$board" ]; then
		rm -rf "$bdir"
		make --no-print-directory -s "image-$board" >"$tmp/$board.rebuild.log" 2>&1 ||
		    bad "rebuild" "$(tail -20 "$tmp/$board.rebuild.log")"
		if cmp -s "$tmp/$board.sha256.first" "build/image/cardupd-$board.sha256"; then
			ok "reproducible (clean rebuild, same sha256: $(cut -c1-16 "$tmp/$board.sha256.first" | tr '\n' ' '))"
		else
			bad "reproducible" "$(diff "$tmp/$board.sha256.first" "build/image/cardupd-$board.sha256")"
		fi
	fi

	# 2. Contents, owners, modes. The tar listing gives owners as stored: numbers, then
	# names (none for root's entries, cardupd for the daemon's).
	owners=$(tar --numeric-owner -tvzf "$img" | awk -v c="$uid/$gid" '
	    { want = ($6 ~ /^\.\/etc\/cardupd(\/|$)/) ? c : "0/0" }
	    $2 != want { print "want " want ": " $0 }')
	names=$(tar -tvzf "$img" | awk '
	    { want = ($6 ~ /^\.\/etc\/cardupd(\/|$)/) ? "cardupd/cardupd" : "0/0" }
	    $2 != want { print "want " want ": " $0 }')
	if [ -z "$owners$names" ]; then
		ok "owners: root (0/0), /etc/cardupd and its files cardupd/cardupd ($uid/$gid)"
	else
		bad "owners" "$owners$names"
	fi
	tar -C "$root" -xzf "$img"
	expected | LC_ALL=C sort -k2 > "$tmp/$board.want"
	(cd "$root" && find . -mindepth 1 -printf '%m %P\n' | awk '{ printf "%04d %s\n", $1, $2 }' |
	    LC_ALL=C sort -k2) > "$tmp/$board.got"
	if cmp -s "$tmp/$board.want" "$tmp/$board.got"; then
		ok "files and modes ($(wc -l < "$tmp/$board.got") entries)"
	else
		bad "files and modes (- expected, + found)" \
		    "$(diff "$tmp/$board.want" "$tmp/$board.got" | grep '^[<>]' | sed 's/^</-/; s/^>/+/')"
	fi
	if [ -f "$idir/cardupd-$bname.squashfs" ] && command -v unsquashfs >/dev/null; then
		sqo=$(unsquashfs -lln "$idir/cardupd-$bname.squashfs" | awk -v c="$uid/$gid" '
		    $6 ~ /^squashfs-root/ {
			want = ($6 ~ /^squashfs-root\/etc\/cardupd(\/|$)/) ? c : "0/0"
			if ($6 ~ /^squashfs-root\/etc\/cardupd$/) want = want " drwx------"
			else if ($6 ~ /^squashfs-root\/etc\/cardupd\//) want = want " -rw-------"
			got = $2; if (want ~ / /) got = got " " $1
			if (got != want) print "want " want ": " $0 }')
		[ -z "$sqo" ] && ok "squashfs: root/root, /etc/cardupd $uid/$gid 0700, its files 0600" ||
		    bad "squashfs owners" "$sqo"
	fi

	# 3. The unit (binary paths pointed into the unpacked tree: verify checks they are
	# executable) and the shell scripts.
	if command -v systemd-analyze >/dev/null 2>&1; then
		mkdir -p "$tmp/$board-unit"
		sed -e "s#/usr/sbin/cardupd#$root/usr/sbin/cardupd#g" \
		    -e "s#/usr/libexec/cardupd/#$root/usr/libexec/cardupd/#g" \
		    "$root/usr/lib/systemd/system/cardupd.service" > "$tmp/$board-unit/cardupd.service"
		check "systemd-analyze verify cardupd.service" \
		    systemd-analyze verify --man=no "$tmp/$board-unit/cardupd.service"
		score=$(systemd-analyze security --offline=yes --root="$root" cardupd.service 2>/dev/null |
		    sed -n 's/.*Overall exposure level for cardupd.service: //p')
		[ -n "$score" ] && echo "        systemd-analyze security: exposure $score"
	else
		echo "  SKIP  $board: systemd-analyze not installed"
	fi
	# The daemon owns its configuration: it runs on /etc/cardupd/cardupd.conf itself (no
	# copy elsewhere), /etc/cardupd is writable in its sandbox, reload is SIGHUP only.
	unit=$root/usr/lib/systemd/system/cardupd.service
	problems=$(
		grep -qx 'ExecStart=/usr/sbin/cardupd -f -c /etc/cardupd/cardupd.conf' "$unit" ||
		    echo "ExecStart is not 'cardupd -f -c /etc/cardupd/cardupd.conf'"
		[ "$(grep '^ExecReload=' "$unit")" = 'ExecReload=/bin/kill -HUP $MAINPID' ] ||
		    echo "ExecReload is not only 'kill -HUP \$MAINPID': $(grep '^ExecReload=' "$unit")"
		rw=" $(sed -n 's/^ReadWritePaths=//p' "$unit" | tr '\n' ' ') "
		for d in /etc/cardupd /var/lib/cardupd; do
			case $rw in *" $d "*) ;; *) echo "ReadWritePaths lacks $d:$rw" ;; esac
		done
		grep -q '^ProtectSystem=strict' "$unit" || echo "ProtectSystem=strict gone"
		grep -nE '/run/cardupd([/" ]|$)' "$unit" \
		    "$root/etc/init.d/S50cardupd" |
		    sed 's/^/still stages the configuration: /'
		grep -q -- '-c "\$CONF"' "$root/etc/init.d/S50cardupd" ||
		    echo "S50cardupd does not run cardupd -c \$CONF"
		grep -qx 'CONF=/etc/cardupd/cardupd.conf' "$root/etc/init.d/S50cardupd" ||
		    echo "S50cardupd: CONF is not /etc/cardupd/cardupd.conf"
		# The admin writes uploaded trust anchors next to [cms] trust_anchors (temp file,
		# rename): the board's file must sit in a folder the daemon may write.
		ta=$(sed -n 's/^trust_anchors *= *//p' "$root/etc/cardupd/cardupd.conf")
		case ${ta%/*} in /etc/cardupd|/var/lib/cardupd) ;;
		*) echo "trust_anchors $ta: not in /etc/cardupd or /var/lib/cardupd" ;; esac
	)
	[ -z "$problems" ] && ok "unit and S50cardupd run cardupd on /etc/cardupd/cardupd.conf, writable" ||
	    bad "configuration in place" "$problems"
	for s in etc/init.d/S45pcscd etc/init.d/S50cardupd usr/bin/cardupd-kiosk \
	    usr/libexec/cardupd/kiosk-session-end usr/libexec/cardupd/own-config; do
		check "sh -n $s" sh -n "$root/$s"
	done
	# own-config (root only: it changes owners), with nobody standing in for cardupd.
	if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
		oc=$tmp/$board-own
		mkdir -p "$oc/old/cardupd" "$oc/link/cardupd" "$oc/done/cardupd"
		printf 'x\n' > "$oc/old/cardupd/cardupd.conf"; chmod 0640 "$oc/old/cardupd/cardupd.conf"
		printf 'secret\n' > "$oc/target"; chmod 0640 "$oc/target"
		ln -s "$oc/target" "$oc/link/cardupd/cardupd.conf"
		printf 'x\n' > "$oc/done/cardupd/cardupd.conf"; chmod 0644 "$oc/done/cardupd/cardupd.conf"
		chown nobody "$oc/done/cardupd"
		ng=$(id -gn nobody)
		for c in old link done; do
			CARDUPD_CONF_DIR=$oc/$c/cardupd CARDUPD_USER=nobody CARDUPD_GROUP=$ng \
			    sh "$root/usr/libexec/cardupd/own-config" || echo "own-config $c failed"
		done
		got=$(cd "$oc" && stat -c '%n %U %a' old/cardupd old/cardupd/cardupd.conf \
		    link/cardupd target done/cardupd/cardupd.conf)
		want=$(printf '%s\n' "old/cardupd nobody 700" "old/cardupd/cardupd.conf nobody 600" \
		    "link/cardupd nobody 700" "target root 640" "done/cardupd/cardupd.conf root 644")
		[ "$got" = "$want" ] && ok "own-config: root's /etc/cardupd handed over once, links not followed" ||
		    bad "own-config" "$(printf 'want:\n%s\ngot:\n%s' "$want" "$got")"
	fi

	# 4. Launcher + hook: a fake browser records its profile; the hook must make the
	# launcher start a second one with another, fresh profile (the first one removed).
	kt=$tmp/$board-kiosk
	mkdir -p "$kt"
	mkfifo "$kt/restart"
	cat > "$kt/browser" <<FAKE
#!/bin/sh
for a; do case \$a in --user-data-dir=*) echo "\${a#*=}" >> "$kt/profiles" ;; esac; done
exec sleep 30
FAKE
	chmod +x "$kt/browser"
	nprofiles() { if [ -f "$kt/profiles" ]; then wc -l < "$kt/profiles"; else echo 0; fi; }
	CARDUPD_KIOSK_DEFAULTS=/dev/null CARDUPD_KIOSK_BROWSER="$kt/browser" \
	    CARDUPD_KIOSK_FIFO="$kt/restart" TMPDIR="$kt" sh "$root/usr/bin/cardupd-kiosk" 2>"$kt/log" &
	launcher=$!
	i=0; while [ "$(nprofiles)" -lt 1 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	CARDUPD_KIOSK_FIFO="$kt/restart" sh "$root/usr/libexec/cardupd/kiosk-session-end"
	i=0; while [ "$(nprofiles)" -lt 2 ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	kill "$launcher" 2>/dev/null; wait "$launcher" 2>/dev/null
	first=$(sed -n 1p "$kt/profiles" 2>/dev/null); second=$(sed -n 2p "$kt/profiles" 2>/dev/null)
	if [ -n "$second" ] && [ "$first" != "$second" ] && [ ! -e "$first" ]; then
		ok "on_session_end hook restarts the browser with a fresh profile"
	else
		bad "kiosk launcher restart" "profiles seen: $(cat "$kt/profiles" 2>/dev/null | tr '\n' ' ')"
	fi

	# 5. The binary in the image, under qemu-user for the cross boards.
	# shellcheck disable=SC2086 # $qemu is a command with options
	check "cardupd --version" $qemu "$root/usr/sbin/cardupd" --version
	# shellcheck disable=SC2086
	check "cardupctl --version" $qemu "$root/usr/bin/cardupctl" --version
	# shellcheck disable=SC2086
	check "cardupctl --help" $qemu "$root/usr/bin/cardupctl" --help
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	    -subj "/CN=cardupd image test CA" -keyout "$tmp/$board-ca.key" \
	    -out "$tmp/$board-ca.pem" >/dev/null 2>&1
	sed "s#^trust_anchors = .*#trust_anchors = $tmp/$board-ca.pem#" \
	    "$root/etc/cardupd/cardupd.conf" > "$tmp/$board.conf"
	check "cardupd --check-config (board's cardupd.conf)" \
	    $qemu "$root/usr/sbin/cardupd" --check-config -c "$tmp/$board.conf"
	# As the daemon's UID in the unpacked tree (tar as root restores the owners; no user
	# cardupd here, so the stored number): it reads its configuration and replaces a file
	# in /etc/cardupd the way the admin saves (temp file, rename).
	if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
		chmod 0711 "$tmp"
		cp "$tmp/$board.conf" "$root/etc/cardupd/check.conf"
		chown "$uid:$gid" "$root/etc/cardupd/check.conf"
		chmod 0644 "$tmp/$board-ca.pem"
		as() { setpriv --reuid="$uid" --regid="$gid" --clear-groups "$@"; }
		check "cardupd --check-config as UID $uid in the image's /etc/cardupd" \
		    as $qemu "$root/usr/sbin/cardupd" --check-config -c "$root/etc/cardupd/check.conf"
		check "UID $uid replaces cardupd.conf in /etc/cardupd (temp file + rename)" \
		    as sh -c 'cp "$1" "$1.tmp" && mv "$1.tmp" "$1" && test -O "$1"' sh \
		    "$root/etc/cardupd/cardupd.conf"
		rm -f "$root/etc/cardupd/check.conf"
	fi
	printf '[cms]\nurl = http://insecure.example/\n' > "$tmp/$board-bad.conf"
	if $qemu "$root/usr/sbin/cardupd" --check-config -c "$tmp/$board-bad.conf" >/dev/null 2>&1; then
		bad "cardupd --check-config rejects a bad file"
	else
		ok "cardupd --check-config rejects a bad file (exit 2)"
	fi
	# The static build: its image's binaries; beside a dynamic board's image, those of
	# make static-<arch> when they are there.
	if [ "$bname" != "$board" ]; then
		static_checks "$root/usr/sbin/cardupd" "$root/usr/bin/cardupctl"
	elif [ "$arch" != host ] && [ -x "build/$arch-static/cardupd" ]; then
		case " $* " in
		*" $board-static "*) ;;		# its image is checked
		*) static_checks "build/$arch-static/cardupd" "build/$arch-static/cardupctl" ;;
		esac
	fi
done
echo "image: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
