#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# make systemd-test: cardupd as it really runs on a Debian kiosk. An x86_64 Debian 12 guest
# with systemd as PID 1 boots under qemu-system-x86_64 (TCG: this machine has no KVM and
# no systemd of its own), installs the .deb of `make deb` with dpkg -i and starts cardupd
# through its real unit as user cardupd with every sandbox setting; then a card in gives a
# prompt, the on_prompt hook runs, an admin save persists across a restart
# (tests/pkg/systemd/systest.py, run in the guest by a test-only unit).
#
# The guest: Debian packages assembled by mmdebstrap (systemd-sysv, pcscd with the vpcd
# virtual reader, the libraries the .deb depends on, python3 for the rig's TLS test CMS
# and scripted card) into build/systest/rootfs-*.tar (made once, reused), Debian's kernel,
# all as one initramfs: no disk, no network device (the CMS, the reader and the card are
# on the guest's own loopback; nothing leaves it). Everything started here is stopped
# here, even on failure.
# usage: tests/pkg/systemd/run.sh DEB        (run from the top folder, as root)
set -eu
deb=$(readlink -f "$1")
for c in mmdebstrap qemu-system-x86_64 cpio zstd mkpasswd; do
	command -v "$c" >/dev/null 2>&1 || { echo "systemd-test: no $c (make deps)" >&2; exit 1; }
done
top=$(pwd)
out=$top/build/systest
mkdir -p "$out"
PKGS="systemd-sysv,pcscd,vsmartcard-vpcd,python3,libmicrohttpd12,libjson-c5,\
libbearssl0,libgnutls30,libpcsclite1,libcrypt1,adduser"
t_all=$(date +%s)

# ---- the base system (cached) ------------------------------------------------------------
key=$(printf '%s\n' "$PKGS" bookworm | sha256sum | cut -c1-12)
rootfs=$out/rootfs-$key.tar
if [ ! -s "$rootfs" ]; then
	echo "systemd-test: mmdebstrap bookworm ($PKGS) -> ${rootfs#"$top"/}"
	rm -f "$out"/rootfs-*.tar
	mmdebstrap --variant=apt --mode=root --format=tar --include="$PKGS" \
	    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
	    --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
	    bookworm "$rootfs.tmp" > "$out/mmdebstrap.log" 2>&1 ||
	    { tail -20 "$out/mmdebstrap.log" >&2; rm -rf "$rootfs.tmp"; exit 1; }
	mv "$rootfs.tmp" "$rootfs"
fi
kernel=$(ls "$out"/vmlinuz-* 2>/dev/null | head -1)
if [ -z "$kernel" ]; then
	kpkg=$(apt-cache depends linux-image-amd64 |
	    sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -1)
	(cd "$out" && apt-get download "$kpkg" > /dev/null 2>&1) ||
	    { echo "systemd-test: cannot download $kpkg" >&2; exit 1; }
	dpkg-deb --fsys-tarfile "$out/$kpkg"_*.deb | tar -x -C "$out" --strip-components=2 \
	    --wildcards './boot/vmlinuz-*'
	rm -f "$out/$kpkg"_*.deb
	kernel=$(ls "$out"/vmlinuz-* | head -1)
fi
t_base=$(date +%s)

# ---- this run's guest: base + the .deb + the test's own files ----------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cardupd-systemd-test.XXXXXX")
qpid=""
cleanup() {
	if [ -n "$qpid" ]; then kill "$qpid" 2>/dev/null; wait "$qpid" 2>/dev/null; fi
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM
root=$tmp/root
mkdir -p "$root"
tar -x -C "$root" -f "$rootfs"
cp "$deb" "$root/root/"
mkdir -p "$root/root/rig" "$root/usr/local/libexec"
cp tests/rig/testcms.py tests/rig/vcard.py "$root/root/rig/"
cp tests/pkg/systemd/systest.py "$root/root/systest.py"
/usr/bin/python3 tests/rig/certs.py "$root/root/pki" > "$tmp/pki.json"
hash=$(mkpasswd -m yescrypt "systemd guest password")
/usr/bin/python3 - "$tmp/pki.json" "$root" "$hash" > "$root/root/systest.json" <<'EOF'
import json, sys
pki = {k: v.replace(sys.argv[2], "", 1) for k, v in json.load(open(sys.argv[1])).items()}
print(json.dumps({"pki": pki, "password_hash": sys.argv[3]}))
EOF
cat > "$root/usr/local/libexec/systest-hook" <<'EOF'
#!/bin/sh
# on_prompt hook of the systemd guest test: who runs it, and whether /usr is read-only.
ro=yes
if /usr/bin/touch /usr/.systest-hook 2>/dev/null; then ro=no; /usr/bin/rm -f /usr/.systest-hook; fi
printf 'uid=%s ro=%s\n' "$(/usr/bin/id -u)" "$ro" > /var/lib/cardupd/hook.out
EOF
chmod 0755 "$root/usr/local/libexec/systest-hook"
cat > "$root/etc/systemd/system/systest.service" <<'EOF'
[Unit]
Description=cardupd systemd guest test (test only)
After=basic.target sockets.target systemd-tmpfiles-setup.service

[Service]
Type=simple
ExecStart=/usr/bin/python3 /root/systest.py
StandardOutput=journal+console
StandardError=journal+console
Environment=PYTHONUNBUFFERED=1

[Install]
WantedBy=multi-user.target
EOF
ln -s /etc/systemd/system/systest.service \
    "$root/etc/systemd/system/multi-user.target.wants/systest.service"
echo systest > "$root/etc/hostname"
: > "$root/etc/machine-id"
initrd=$tmp/initrd.zst
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) > "$tmp/initrd.cpio"
zstd -q -T2 -3 --rm "$tmp/initrd.cpio" -o "$initrd"
t_guest=$(date +%s)
echo "systemd-test: guest $(du -sm "$root" | cut -f1) MiB, initramfs" \
    "$(($(wc -c < "$initrd") / 1048576)) MiB, kernel ${kernel##*/}"
rm -rf "$root"

# ---- boot -------------------------------------------------------------------------------
log=$out/console.log
: > "$log"
qemu-system-x86_64 -M q35 -cpu max -smp 2 -m 2048 -display none -monitor none \
    -nic none -no-reboot -serial "file:$log" \
    -kernel "$kernel" -initrd "$initrd" \
    -append "console=ttyS0 rdinit=/lib/systemd/systemd panic=-1 quiet systemd.show_status=0 systemd.firstboot=no" &
qpid=$!
deadline=$(( $(date +%s) + ${SYSTEMD_TEST_TIMEOUT:-900} ))
while kill -0 "$qpid" 2>/dev/null; do
	grep -q 'SYSTEST END' "$log" 2>/dev/null && break
	[ "$(date +%s)" -lt "$deadline" ] || { echo "systemd-test: timeout" >&2; break; }
	sleep 1
done
# The guest powers itself off after END; give it a moment, then stop QEMU.
for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$qpid" 2>/dev/null || break; sleep 1; done
kill "$qpid" 2>/dev/null || true
wait "$qpid" 2>/dev/null || true
qpid=""
t_end=$(date +%s)

# The console prefixes the unit's lines ("[ time] python3[pid]: SYSTEST ...").
tr -d '\r' < "$log" | sed -n 's/^.*SYSTEST /SYSTEST /p' > "$out/results.txt"
sed 's/^SYSTEST /  /' "$out/results.txt"
echo "systemd-test: base $((t_base - t_all)) s, guest assembly $((t_guest - t_base)) s," \
    "boot + test $((t_end - t_guest)) s (console: ${log#"$top"/})"
end=$(grep '^SYSTEST END' "$out/results.txt" | tail -1)
case $end in
*" fail=0") exit 0 ;;
*) echo "systemd-test: FAILED (see ${log#"$top"/})" >&2; exit 1 ;;
esac
