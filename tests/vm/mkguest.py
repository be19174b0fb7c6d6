#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Assembles the QEMU guest of `make vm-test`: the product's board image laid over a
minimal base made of Debian packages, as one initramfs (newc cpio, uncompressed), plus the
kernel. Reproducible: same inputs, same bytes (sorted entries, fixed owners, every time
stamp SOURCE_DATE_EPOCH, no compression).

Layers, later ones win:
  1. base: from the .debs fetched by tests/vm/fetch-debs.sh: BusyBox (init, shell,
     start-stop-daemon ...), udev, pcscd, libccid, and every shared library that the ELF
     files of all layers need (DT_NEEDED closure; libgcc_s, which glibc dlopens for
     pcscd's threads, too); the kernel modules of the QEMU "virt" board and their
     dependencies; tests/vm/base (inittab, rcS/rcK, S01modules ... S20network);
     /etc/passwd and /etc/group made from the image's sysusers.d (as Buildroot's
     mkusers does from CARDUPD_USERS).
  2. the product image tarball (build/image/cardupd-BOARD.tar.gz) with its own owners and
     modes: S45pcscd, S50cardupd, cardupd, cardupctl, /etc/cardupd ...
  3. with --agent: the test-only agent (tests/vm/agent/vm-agent, vm-pcsc-watch) and its
     inittab line on the virtio console.

usage: mkguest.py --arch arm64 --debs DIR --image TARBALL [--agent DIR --watch BIN]
                  --out DIR         (writes DIR/initrd.img, DIR/vmlinuz, DIR/manifest.txt)
Standard library only; needs `readelf` (binutils) and qemu-user-static for the list of
BusyBox applets.
"""

import argparse
import gzip
import hashlib
import io
import json
import lzma
import os
import posixpath
import stat
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

ARCHES = {
    "arm64": {"triplet": "aarch64-linux-gnu", "qemu_user": "qemu-aarch64-static",
              "ld": "ld-linux-aarch64.so.1"},
    "armhf": {"triplet": "arm-linux-gnueabihf", "qemu_user": "qemu-arm-static",
              "ld": "ld-linux-armhf.so.3"},
}

# Packages whose files go in whole (minus documentation and other init systems' files);
# from all the others only the shared libraries the closure asks for.
FULL_PKGS = ("busybox", "udev", "pcscd", "libccid")
DROP_PREFIXES = ("usr/share/doc/", "usr/share/man/", "usr/share/locale/", "usr/share/info/",
                 "usr/share/lintian/", "usr/share/bug/", "usr/share/initramfs-tools/",
                 "usr/share/bash-completion/", "usr/share/zsh/", "usr/lib/systemd/system/",
                 "usr/lib/systemd/network/", "usr/lib/udev/hwdb.d/", "usr/bin/systemd-hwdb",
                 "etc/init.d/", "etc/init/", "usr/lib/tmpfiles.d/",
                 "usr/lib/pcsc/drivers/serial/")
# The QEMU "virt" board's devices that Debian's kernels build as modules: PCI virtio
# (console, disk, network, entropy), the xHCI USB controller and ext4 for the disk.
# Packages the guest needs nothing from (apt pulled them in for maintainer scripts).
SKIP_PKGS = ("perl", "perl-base", "perl-modules-5.36", "libperl5.36", "dpkg", "debconf",
             "adduser", "passwd", "usrmerge", "tar", "init-system-helpers")
MODULES = ("virtio_pci", "virtio_console", "virtio_blk", "virtio_net", "virtio_rng",
           "xhci_pci", "crc32c_generic", "ext4")


# ---- reading .debs -------------------------------------------------------------------

def deb_members(path):
    """The members of a .deb's data archive: yields (TarInfo, bytes or None)."""
    with open(path, "rb") as f:
        blob = f.read()
    if blob[:8] != b"!<arch>\n":
        raise ValueError("%s: not an ar archive" % path)
    i = 8
    while i + 60 <= len(blob):
        name = blob[i:i + 16].decode().strip().rstrip("/")
        size = int(blob[i + 48:i + 58].decode().strip())
        data = blob[i + 60:i + 60 + size]
        i += 60 + size + (size & 1)
        if not name.startswith("data.tar"):
            continue
        if name.endswith(".xz"):
            data = lzma.decompress(data)
        elif name.endswith(".gz"):
            data = gzip.decompress(data)
        elif name.endswith(".zst"):
            data = subprocess.run(["zstd", "-dc"], input=data, stdout=subprocess.PIPE,
                                  check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(data)) as t:
            for m in t:
                yield m, (t.extractfile(m).read() if m.isreg() else None)
        return
    raise ValueError("%s: no data.tar" % path)


def usr_merged(p):
    """Debian 12 paths as on a merged-/usr system: /bin, /sbin, /lib* live in /usr."""
    p = p.lstrip("./")
    for top in ("bin", "sbin", "lib", "lib64", "lib32"):
        if p == top or p.startswith(top + "/"):
            return "usr/" + p
    return p


class Entry:
    __slots__ = ("kind", "mode", "uid", "gid", "data", "target", "rdev", "origin")

    def __init__(self, kind, mode, uid=0, gid=0, data=b"", target="", rdev=(0, 0),
                 origin=""):
        self.kind, self.mode, self.uid, self.gid = kind, mode, uid, gid
        self.data, self.target, self.rdev, self.origin = data, target, rdev, origin


class Tree:
    """The guest's file system being built: path (no leading /) -> Entry."""

    def __init__(self):
        self.e = {}

    def mkdir(self, p, mode=0o755, uid=0, gid=0, origin="base"):
        parts = p.strip("/").split("/")
        for i in range(1, len(parts) + 1):
            q = "/".join(parts[:i])
            cur = self.e.get(q)
            if cur is None or cur.kind != "dir":
                if cur is not None and cur.kind == "sym":
                    continue            # a merged-/usr link stands for the directory
                self.e[q] = Entry("dir", 0o755 if i < len(parts) else mode, origin=origin)
        ent = self.e[p.strip("/")]
        if ent.kind == "dir":
            ent.mode, ent.uid, ent.gid = mode, uid, gid

    def put(self, p, ent):
        p = p.strip("/")
        parent = posixpath.dirname(p)
        if parent and parent not in self.e:
            self.mkdir(parent, origin=ent.origin)
        if ent.kind == "dir":
            self.mkdir(p, ent.mode, ent.uid, ent.gid, ent.origin)
        else:
            self.e[p] = ent

    def file(self, p, data, mode=0o644, uid=0, gid=0, origin="base"):
        self.put(p, Entry("file", mode, uid, gid, data=data, origin=origin))

    def symlink(self, p, target, origin="base"):
        self.put(p, Entry("sym", 0o777, target=target, origin=origin))

    def resolve(self, p, depth=0):
        """p with every symlink in it followed (inside the tree), or None."""
        parts = p.strip("/").split("/")
        cur = ""
        for i, part in enumerate(parts):
            nxt = part if not cur else cur + "/" + part
            ent = self.e.get(nxt)
            if ent is not None and ent.kind == "sym":
                if depth > 20:
                    return None
                t = ent.target
                base = "" if t.startswith("/") else cur
                nxt = posixpath.normpath(posixpath.join("/" + base, t)).lstrip("/")
                rest = "/".join(parts[i + 1:])
                return self.resolve(nxt + ("/" + rest if rest else ""), depth + 1)
            cur = nxt
        return cur if cur in self.e else None


# ---- ELF -------------------------------------------------------------------------------

def needed(data):
    """DT_NEEDED names of an ELF image (bytes): 32/64-bit, little-endian."""
    if data[:4] != b"\x7fELF" or data[5] != 1:
        return []
    b64 = data[4] == 2
    u = (lambda off, n: int.from_bytes(data[off:off + n], "little"))
    if b64:
        phoff, phentsize, phnum = u(0x20, 8), u(0x36, 2), u(0x38, 2)
    else:
        phoff, phentsize, phnum = u(0x1C, 4), u(0x2A, 2), u(0x2C, 2)
    loads, dyn = [], None
    for i in range(phnum):
        o = phoff + i * phentsize
        ptype = u(o, 4)
        if b64:
            off, vaddr, filesz = u(o + 8, 8), u(o + 16, 8), u(o + 32, 8)
        else:
            off, vaddr, filesz = u(o + 4, 4), u(o + 8, 4), u(o + 16, 4)
        if ptype == 1:
            loads.append((vaddr, off, filesz))
        elif ptype == 2:
            dyn = (off, filesz)
    if dyn is None:
        return []

    def file_off(addr):
        for vaddr, off, filesz in loads:
            if vaddr <= addr < vaddr + filesz:
                return addr - vaddr + off
        return None

    w = 8 if b64 else 4
    entries, strtab = [], None
    for o in range(dyn[0], dyn[0] + dyn[1], 2 * w):
        tag, val = u(o, w), u(o + w, w)
        if tag == 0:
            break
        if tag == 1:
            entries.append(val)
        elif tag == 5:
            strtab = file_off(val)
    if strtab is None:
        return []
    out = []
    for off in entries:
        end = data.index(b"\0", strtab + off)
        out.append(data[strtab + off:end].decode())
    return out


def is_elf(ent):
    return ent.kind == "file" and ent.data[:4] == b"\x7fELF"


# ---- the kernel ------------------------------------------------------------------------

def mod_deps(data):
    """The depends= names of a module's .modinfo."""
    for s in data.split(b"\0"):
        if s.startswith(b"depends="):
            return [d.replace("-", "_") for d in s[8:].decode().split(",") if d]
    return []


def module_order(mods, builtin):
    """MODULES and their dependencies, dependencies first."""
    order = []

    def visit(name):
        if name in order or name in builtin or name not in mods:
            return
        for d in mod_deps(mods[name][1]):
            visit(d)
        order.append(name)

    for name in MODULES:
        visit(name)
    return order


def kernel_parts(deb):
    """(vmlinuz bytes, version, builtin module names, {name: (path, data)} of the modules
    module_order() needs), from the kernel package; cached beside it (unpacking the
    kernel package's 300 MB is the slowest step of the whole assembly)."""
    key = hashlib.sha256(("%s %s" % (os.path.basename(deb), " ".join(MODULES))).encode())
    cache = os.path.join(os.path.dirname(os.path.abspath(deb)), "..",
                         "kernel-%s.tar" % key.hexdigest()[:16])
    if os.path.exists(cache):
        with tarfile.open(cache) as c:
            files = {m.name: c.extractfile(m).read() for m in c if m.isreg()}
        kver = files["version"].decode()
        mods = {k[len("mod/"):]: (files["path/" + k[len("mod/"):]].decode(), v)
                for k, v in files.items() if k.startswith("mod/")}
        return files["vmlinuz"], kver, set(files["builtin"].decode().split()), mods
    kernel = kver = None
    mods, builtin = {}, set()
    for m, data in deb_members(deb):
        p = usr_merged(m.name)
        if p.startswith("boot/vmlinuz-"):
            kernel, kver = data, p[len("boot/vmlinuz-"):]
        elif p.endswith(".ko"):
            mods[posixpath.basename(p)[:-3].replace("-", "_")] = (p, data)
        elif p.endswith("/modules.builtin"):
            builtin = {posixpath.basename(x)[:-3].replace("-", "_") for x in data.decode().split()}
    if kernel is None:
        sys.exit("mkguest: %s: no /boot/vmlinuz-*" % deb)
    mods = {n: mods[n] for n in module_order(mods, builtin)}
    with tarfile.open(cache + ".tmp", "w") as c:
        def add(name, data):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            c.addfile(ti, io.BytesIO(data))
        add("vmlinuz", kernel)
        add("version", kver.encode())
        add("builtin", " ".join(sorted(builtin)).encode())
        for n, (p, data) in mods.items():
            add("mod/" + n, data)
            add("path/" + n, p.encode())
    os.replace(cache + ".tmp", cache)
    return kernel, kver, builtin, mods


# ---- cpio ------------------------------------------------------------------------------

def cpio_newc(tree, epoch):
    out = io.BytesIO()
    ino = 1

    def hdr(name, mode, uid, gid, nlink, size, rmaj=0, rmin=0):
        nonlocal ino
        name_b = name.encode() + b"\0"
        h = b"070701" + b"".join(b"%08X" % v for v in (
            ino, mode, uid, gid, nlink, epoch, size, 0, 0, rmaj, rmin, len(name_b), 0))
        ino += 1
        out.write(h + name_b)
        out.write(b"\0" * ((4 - out.tell() % 4) % 4))

    for p in sorted(tree.e):
        ent = tree.e[p]
        if ent.kind == "dir":
            hdr(p, stat.S_IFDIR | ent.mode, ent.uid, ent.gid, 2, 0)
        elif ent.kind == "sym":
            t = ent.target.encode()
            hdr(p, stat.S_IFLNK | 0o777, ent.uid, ent.gid, 1, len(t))
            out.write(t)
        elif ent.kind == "chr":
            hdr(p, stat.S_IFCHR | ent.mode, ent.uid, ent.gid, 1, 0, *ent.rdev)
            continue
        else:
            hdr(p, stat.S_IFREG | ent.mode, ent.uid, ent.gid, 1, len(ent.data))
            out.write(ent.data)
        out.write(b"\0" * ((4 - out.tell() % 4) % 4))
    ino = 0
    hdr("TRAILER!!!", 0, 0, 0, 1, 0)
    return out.getvalue()


# ---- assembly --------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", required=True, choices=sorted(ARCHES))
    ap.add_argument("--debs", required=True)
    ap.add_argument("--image", required=True, help="the product image tarball")
    ap.add_argument("--agent", help="folder with vm-agent (test-only layer)")
    ap.add_argument("--watch", help="the vm-pcsc-watch binary (test-only layer)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    arch = ARCHES[a.arch]
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or 0)

    # Nothing to do when no input changed (make rewrites the image tarball every time).
    h = hashlib.sha256()
    inputs = [os.path.abspath(__file__), a.image] + sorted(
        os.path.join(a.debs, d) for d in os.listdir(a.debs) if d.endswith(".deb"))
    for dp, dns, fns in os.walk(os.path.join(HERE, "base")):
        dns.sort()
        inputs += [os.path.join(dp, fn) for fn in sorted(fns)]
    if a.agent:
        inputs += [os.path.join(a.agent, "vm-agent"), a.watch]
    for p in inputs:
        h.update(p.encode() + b"\0")
        if p.endswith(".deb"):
            st = os.stat(p)
            h.update(b"%d %d\0" % (st.st_size, st.st_mtime_ns))
        else:
            with open(p, "rb") as f:
                h.update(hashlib.sha256(f.read()).digest())
    h.update(("%s %d %s" % (a.arch, epoch, bool(a.agent))).encode())
    stamp = os.path.join(a.out, "inputs.sha256")
    if all(os.path.exists(os.path.join(a.out, n)) for n in ("initrd.img", "vmlinuz", "guest.json")):
        try:
            with open(stamp) as f:
                if f.read().strip() == h.hexdigest():
                    print("  GUEST   %s/initrd.img up to date" % a.out)
                    return
        except OSError:
            pass

    # Every package's files, merged-/usr paths; the kernel aside.
    pool = {}           # path -> Entry (first package wins, as dpkg refuses overwrites)
    debs = sorted(f for f in os.listdir(a.debs) if f.endswith(".deb"))
    kdeb = [d for d in debs if d.startswith("linux-image-")]
    if len(kdeb) != 1:
        sys.exit("mkguest: expected one linux-image package in %s" % a.debs)
    kernel, kver, builtin, mods = kernel_parts(os.path.join(a.debs, kdeb[0]))
    for deb in debs:
        pkg = deb.split("_", 1)[0]
        if deb in kdeb or pkg in SKIP_PKGS or pkg.endswith("-perl"):
            continue
        for m, data in deb_members(os.path.join(a.debs, deb)):
            p = usr_merged(m.name)
            if not p:
                continue
            if m.isdir():
                ent = Entry("dir", m.mode & 0o7777, origin=pkg)
            elif m.issym():
                ent = Entry("sym", 0o777, target=m.linkname, origin=pkg)
            elif m.islnk():
                ent = Entry("hard", m.mode & 0o7777, target=usr_merged(m.linkname), origin=pkg)
            elif m.isreg():
                ent = Entry("file", m.mode & 0o7777, data=data, origin=pkg)
            else:
                continue
            pool.setdefault(p, ent)
    for p, ent in pool.items():         # hard links as copies
        if ent.kind == "hard":
            src = pool.get(ent.target)
            ent.kind, ent.data = "file", (src.data if src is not None else b"")

    t = Tree()
    for top in ("bin", "sbin", "lib"):
        t.symlink(top, "usr/" + top)
    if a.arch == "arm64":
        t.symlink("lib64", "usr/lib64")
    for d in ("dev", "proc", "sys", "run", "tmp", "root", "etc", "var/log", "var/lib",
              "usr/bin", "usr/sbin", "usr/lib", "usr/lib64" if a.arch == "arm64" else "usr/lib"):
        t.mkdir(d)
    t.symlink("var/run", "../run")
    t.e["tmp"].mode = 0o1777
    t.e["root"].mode = 0o700
    # The kernel needs a console before /dev is mounted.
    t.put("dev/console", Entry("chr", 0o600, rdev=(5, 1)))
    t.put("dev/null", Entry("chr", 0o666, rdev=(1, 3)))

    def drop(p):
        return any(p.startswith(x) or p == x.rstrip("/") for x in DROP_PREFIXES)

    for p, ent in sorted(pool.items()):
        if ent.origin in FULL_PKGS and not drop(p):
            if ent.kind == "dir":
                t.mkdir(p, ent.mode)
            else:
                t.put(p, ent)

    # Base files of this repository.
    base = os.path.join(HERE, "base")
    for dp, dns, fns in os.walk(base):
        dns.sort()
        for fn in sorted(fns):
            src = os.path.join(dp, fn)
            rel = os.path.relpath(src, base)
            with open(src, "rb") as f:
                t.file(rel, f.read(), 0o755 if os.access(src, os.X_OK) else 0o644)

    # BusyBox applets, as `busybox --install -s` would link them (where nothing else is):
    # the list from the binary itself, run under qemu-user with its own libraries.
    def pool_file(p):
        for _ in range(20):
            ent = pool.get(p)
            if ent is None or ent.kind != "sym":
                return ent
            p = usr_merged(posixpath.normpath(posixpath.join(
                "/" + posixpath.dirname(p), ent.target)).lstrip("/"))
        return None

    with tempfile.TemporaryDirectory() as qroot:
        os.makedirs(os.path.join(qroot, "lib"))
        bbpath = os.path.join(qroot, "busybox")
        bbdata = pool_file("usr/bin/busybox").data
        for name, data in [("busybox", bbdata)] + [
                ("lib/" + so, pool_file("usr/lib/%s/%s" % (arch["triplet"], so)).data)
                for so in needed(bbdata) + [arch["ld"]]]:
            with open(os.path.join(qroot, name), "wb") as f:
                f.write(data)
        os.chmod(bbpath, 0o755)
        applets = subprocess.run([arch["qemu_user"], "-L", qroot, "-E", "LD_LIBRARY_PATH=/lib",
                                  bbpath, "--list-full"], stdout=subprocess.PIPE,
                                 check=True).stdout.decode().split()
    for ap_path in applets:
        p = usr_merged(ap_path)
        if p not in t.e and t.resolve(p) is None:
            t.symlink(p, "/usr/bin/busybox")

    # The product image, with its owners and modes.
    with tarfile.open(a.image) as img:
        for m in img:
            p = m.name.lstrip("./")
            if not p:
                continue
            p = usr_merged(p)
            if m.isdir():
                t.put(p, Entry("dir", m.mode & 0o7777, m.uid, m.gid, origin="image"))
            elif m.issym():
                t.put(p, Entry("sym", 0o777, m.uid, m.gid, target=m.linkname, origin="image"))
            elif m.isreg():
                t.put(p, Entry("file", m.mode & 0o7777, m.uid, m.gid,
                               data=img.extractfile(m).read(), origin="image"))

    # Users and groups from the image's sysusers.d (u NAME UID:GID, g NAME GID).
    passwd = ["root:x:0:0:root:/root:/bin/sh"]
    group = ["root:x:0:"]
    sysusers = sorted(p for p in t.e if p.startswith("usr/lib/sysusers.d/"))
    users = []
    for p in sysusers:
        for line in t.e[p].data.decode().splitlines():
            f = line.split()
            if len(f) >= 3 and f[0] == "g":
                group.append("%s:x:%s:" % (f[1], f[2]))
            elif len(f) >= 3 and f[0] == "u":
                uid, _, gid = f[2].partition(":")
                gid = gid if gid.isdigit() else next(
                    (g.split(":")[2] for g in group if g.split(":")[0] == (gid or f[1])), uid)
                home = f[-1] if f[-1].startswith("/") else "/"
                users.append("%s:x:%s:%s::%s:/usr/sbin/nologin" % (f[1], uid, gid, home))
    passwd += users
    t.file("etc/passwd", ("\n".join(passwd) + "\n").encode())
    t.file("etc/group", ("\n".join(group) + "\n").encode())
    t.file("etc/shadow", b"root::1::::::\n", 0o600)

    # Kernel modules: MODULES and what they depend on, in load order.
    order = module_order(mods, builtin)
    mdir = "usr/lib/modules/%s" % kver
    dep_lines = []
    for name in order:
        path, data = mods[name]
        rel = path[len(mdir) + 1:] if path.startswith(mdir + "/") else path.split(
            "/modules/%s/" % kver, 1)[1]
        t.file("%s/%s" % (mdir, rel), data)
        deps = [mods[d][0].split("/modules/%s/" % kver, 1)[1] for d in mod_deps(data)
                if d in mods and d not in builtin]
        dep_lines.append(("%s: %s" % (rel, " ".join(deps))).rstrip())
    t.file(mdir + "/modules.dep", ("\n".join(dep_lines) + "\n").encode())
    t.file(mdir + "/modules.builtin", ("\n".join(sorted(builtin)) + "\n").encode())
    t.file("etc/modules-load.list", ("\n".join(order) + "\n").encode())

    # Test-only layer: the agent on the virtio console.
    if a.agent:
        with open(os.path.join(a.agent, "vm-agent"), "rb") as f:
            t.file("usr/libexec/vm-agent/vm-agent", f.read(), 0o755, origin="agent")
        with open(a.watch, "rb") as f:
            t.file("usr/libexec/vm-agent/vm-pcsc-watch", f.read(), 0o755, origin="agent")
        inittab = t.e["etc/inittab"]
        inittab.data += (b"# Test-only (make vm-test): the agent on the virtio console.\n"
                         b"::respawn:/usr/libexec/vm-agent/vm-agent\n")

    # Shared libraries: the DT_NEEDED closure of every ELF file in the tree.
    libdirs = ["usr/lib/%s" % arch["triplet"], "usr/lib", "usr/lib/%s/pulseaudio" % arch["triplet"]]
    # Not in any DT_NEEDED: libgcc_s (glibc dlopens it for thread cancellation: pcscd
    # aborts without it) and the NSS modules a static binary's getaddrinfo() loads to
    # read /etc/hosts (dynamic ones have them built into libc.so.6 since glibc 2.34).
    want = set(["libgcc_s.so.1", "libnss_files.so.2", "libnss_dns.so.2"])
    done = set()
    missing = set()
    while True:
        for p in list(t.e):
            ent = t.e[p]
            if p not in done and is_elf(ent):
                done.add(p)
                want.update(needed(ent.data))
        added = False
        for so in sorted(want):
            if any(t.resolve("%s/%s" % (d, so)) for d in libdirs):
                continue
            for d in libdirs:
                cand = "%s/%s" % (d, so)
                chain = cand
                for _ in range(10):
                    ent = pool.get(chain)
                    if ent is None:
                        break
                    t.put(chain, ent)
                    if ent.kind != "sym":
                        added = True
                        break
                    chain = posixpath.normpath(posixpath.join(
                        "/" + posixpath.dirname(chain), ent.target)).lstrip("/")
                    chain = usr_merged(chain)
                if cand in t.e:
                    break
            else:
                missing.add(so)
        if not added:
            break
    missing = {m for m in missing
               if not any(t.resolve("%s/%s" % (d, m)) for d in libdirs)}
    # The program interpreter, /lib/ld-linux-*.so.*: a link in libc6 to the real file.
    interp = "usr/lib/" + arch["ld"]
    if interp in pool and t.resolve(interp) is None:
        t.put(interp, pool[interp])
    if t.resolve(interp) is None:
        missing.add(arch["ld"])
    if missing:
        sys.exit("mkguest: libraries not found in the packages: %s" % " ".join(sorted(missing)))

    os.makedirs(a.out, exist_ok=True)
    raw = cpio_newc(t, epoch)
    # Not compressed: under emulation the guest's kernel unpacks it several times faster
    # (a memory copy instead of inflating), and the host loads it in no time.
    with open(os.path.join(a.out, "initrd.img.tmp"), "wb") as f:
        f.write(raw)
    os.replace(os.path.join(a.out, "initrd.img.tmp"), os.path.join(a.out, "initrd.img"))
    with open(os.path.join(a.out, "vmlinuz.tmp"), "wb") as f:
        f.write(kernel)
    os.replace(os.path.join(a.out, "vmlinuz.tmp"), os.path.join(a.out, "vmlinuz"))
    with open(os.path.join(a.out, "guest.json"), "w") as f:
        json.dump({"arch": a.arch, "kernel": kver, "image": os.path.abspath(a.image),
                   "agent": bool(a.agent)}, f, indent=1, sort_keys=True)
    with open(os.path.join(a.out, "manifest.txt"), "w") as f:
        for p in sorted(t.e):
            ent = t.e[p]
            f.write("%s %s %o %d:%d %s\n" % (ent.origin or "-", ent.kind, ent.mode, ent.uid,
                                            ent.gid, p))
    with open(stamp, "w") as f:
        f.write(h.hexdigest() + "\n")
    print("  GUEST   %s/initrd.img (%d files, %.1f MB unpacked, %d modules, kernel %s)"
          % (a.out, len(t.e), len(raw) / 1e6, len(order), kver))


if __name__ == "__main__":
    main()
