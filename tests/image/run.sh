#!/bin/sh
# make image-test: checks each board's image as an integrator would receive it.
#   1. reproducible: the binaries rebuilt from scratch give the same image bytes
#   2. unpacked: the expected files, root:root, the right modes, nothing else
#   3. the systemd unit passes `systemd-analyze verify` (and its exposure score is shown);
#      the init scripts, hook and launcher pass `sh -n`
#   4. the launcher restarts the browser, with a new profile, when the hook fires
#   5. the board's cardupd runs under qemu-user: --version, --check-config on the board's
#      own example configuration (with a generated trust anchor)
# usage: tests/image/run.sh BOARD...       (after `make image`; run from the top folder)
set -u
top=$(pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-image-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0; fail=0
ok()  { pass=$((pass + 1)); echo "  PASS  $board: $1"; }
bad() { fail=$((fail + 1)); echo "  FAIL  $board: $1"; [ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/        /'; }
check() { # check NAME COMMAND...: PASS when the command succeeds, output shown on failure
	name=$1; shift
	if out=$("$@" 2>&1); then ok "$name"; else bad "$name" "$out"; fi
}

# Mode of every path the image must hold; anything else in the image is an error.
expected() {
	cat <<LIST
0755 etc
0755 etc/cardupd
0640 etc/cardupd/cardupd.conf
0755 etc/default
0644 etc/default/cardupd-kiosk
0644 etc/default/pcscd
0755 etc/init.d
0755 etc/init.d/S45pcscd
0755 etc/init.d/S50cardupd
0755 usr
0755 usr/bin
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
0755 usr/sbin
0755 usr/sbin/cardupd
0755 usr/share
0755 usr/share/polkit-1
0755 usr/share/polkit-1/rules.d
0644 usr/share/polkit-1/rules.d/50-cardupd-pcscd.rules
LIST
	# Optional entries: present only when their source is.
	[ -f "$root/etc/default/cardupd" ] && echo "0644 etc/default/cardupd"
	[ -n "$bdir" ] && [ -x "$bdir/cardupctl" ] && echo "0755 usr/bin/cardupctl"
	true
}

for board in "$@"; do
	arch=$(sed -n 's/^BOARD_ARCH=//p' "board/$board/board.env")
	case $arch in
	host)  bdir=${BUILD:-build}; qemu="" ;;
	arm64) bdir=build/arm64; qemu="qemu-aarch64-static -L $top/build/cross/arm64/sysroot" ;;
	armhf) bdir=build/armhf; qemu="qemu-arm-static -L $top/build/cross/armhf/sysroot" ;;
	esac
	img=build/image/cardupd-$board.tar.gz
	echo "== image $board ($arch): $img"
	[ -f "$img" ] || { bad "no $img (make image)"; continue; }
	root=$tmp/$board
	mkdir -p "$root"

	# 1. Reproducible: rebuild the binaries from nothing, make the image again, compare.
	cp "build/image/cardupd-$board.sha256" "$tmp/$board.sha256.first"
	if [ "$arch" != host ]; then
		rm -rf "$bdir"
		make --no-print-directory -s "image-$board" >"$tmp/$board.rebuild.log" 2>&1 ||
		    bad "rebuild" "$(tail -20 "$tmp/$board.rebuild.log")"
		if cmp -s "$tmp/$board.sha256.first" "build/image/cardupd-$board.sha256"; then
			ok "reproducible (clean rebuild, same sha256: $(cut -c1-16 "$tmp/$board.sha256.first" | tr '\n' ' '))"
		else
			bad "reproducible" "$(diff "$tmp/$board.sha256.first" "build/image/cardupd-$board.sha256")"
		fi
	fi

	# 2. Contents, owners, modes. The tar listing gives owners as stored (numeric).
	owners=$(tar -tvzf "$img" | awk '$2 != "0/0" { print }')
	[ -z "$owners" ] && ok "every entry root:root (0/0)" || bad "owners" "$owners"
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
	if [ -f "build/image/cardupd-$board.squashfs" ] && command -v unsquashfs >/dev/null; then
		n=$(unsquashfs -lls "build/image/cardupd-$board.squashfs" | awk '/squashfs-root\// && $2 != "root/root"' | wc -l)
		[ "$n" -eq 0 ] && ok "squashfs: every entry root/root" || bad "squashfs owners ($n not root)"
	fi

	# 3. The unit (binary paths pointed into the unpacked tree: verify checks they are
	# executable) and the shell scripts.
	if command -v systemd-analyze >/dev/null 2>&1; then
		mkdir -p "$tmp/$board-unit"
		sed -e "s#/usr/sbin/cardupd#$root/usr/sbin/cardupd#g" \
		    "$root/usr/lib/systemd/system/cardupd.service" > "$tmp/$board-unit/cardupd.service"
		check "systemd-analyze verify cardupd.service" \
		    systemd-analyze verify --man=no "$tmp/$board-unit/cardupd.service"
		score=$(systemd-analyze security --offline=yes --root="$root" cardupd.service 2>/dev/null |
		    sed -n 's/.*Overall exposure level for cardupd.service: //p')
		[ -n "$score" ] && echo "        systemd-analyze security: exposure $score"
	else
		echo "  SKIP  $board: systemd-analyze not installed"
	fi
	for s in etc/init.d/S45pcscd etc/init.d/S50cardupd usr/bin/cardupd-kiosk \
	    usr/libexec/cardupd/kiosk-session-end; do
		check "sh -n $s" sh -n "$root/$s"
	done

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
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	    -subj "/CN=cardupd image test CA" -keyout "$tmp/$board-ca.key" \
	    -out "$tmp/$board-ca.pem" >/dev/null 2>&1
	sed "s#^trust_anchors = .*#trust_anchors = $tmp/$board-ca.pem#" \
	    "$root/etc/cardupd/cardupd.conf" > "$tmp/$board.conf"
	check "cardupd --check-config (board's cardupd.conf)" \
	    $qemu "$root/usr/sbin/cardupd" --check-config -c "$tmp/$board.conf"
	printf '[cms]\nurl = http://insecure.example/\n' > "$tmp/$board-bad.conf"
	if $qemu "$root/usr/sbin/cardupd" --check-config -c "$tmp/$board-bad.conf" >/dev/null 2>&1; then
		bad "cardupd --check-config rejects a bad file"
	else
		ok "cardupd --check-config rejects a bad file (exit 2)"
	fi
	# The static build, when there is one (make static-<arch>): no sysroot needed.
	if [ "$arch" != host ] && [ -x "build/$arch-static/cardupd" ]; then
		sq=${qemu%% *}
		check "static cardupd --check-config (no sysroot)" \
		    "$sq" "build/$arch-static/cardupd" --check-config -c "$tmp/$board.conf"
	fi
done
echo "image: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
