# SPDX-License-Identifier: BSD-2-Clause
"""The world around the QEMU guest of `make vm-test` / `make vm-demo`: a network namespace
of our own, the test PKI with a CMS certificate for the guest's host name `cms.test`, the
rig's TLS test CMS answering there, and the guest's persistent disk provisioned as a site
would provision a device (its /etc/cardupd from the product image, with the image's owners
and modes, and the site's settings and trust anchor).

Network: enter_netns() moves this process (and so QEMU, started later) into a new,
empty network namespace with only `lo` up. QEMU's user-mode network maps the guest's
10.0.2.2 to 127.0.0.1 in that namespace, where the test CMS listens on port 443; ports
forwarded to the guest (hostfwd) are bound to 127.0.0.1 there too. No packet can leave:
the namespace has no other interface, and it disappears with the last process in it.
"""

import ctypes
import fcntl
import os
import socket
import struct
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rig"))

from certs import make_pki          # noqa: E402
from testcms import TestCMS         # noqa: E402

CMS_HOST = "cms.test"               # tests/vm/base/etc/hosts: 10.0.2.2
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def enter_netns():
    """Moves this (still single-threaded) process into a new network namespace and
    brings its loopback up. Root only."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "unshare(CLONE_NEWNET): %s (root needed)" % os.strerror(e))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifr = struct.pack("16sh14x", b"lo", 0)
        flags = struct.unpack("16sh14x", fcntl.ioctl(s, SIOCGIFFLAGS, ifr))[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sh14x", b"lo", flags | IFF_UP))
    finally:
        s.close()


def site_pki(dir):
    """make_pki() of the rig plus a server certificate for CMS_HOST by the same test CA
    (the guest checks the CMS's name as a device would)."""
    pki = make_pki(dir)
    cert, key = os.path.join(dir, "cms-test.pem"), os.path.join(dir, "cms-test.key")
    env = dict(os.environ, OPENSSL_CONF=pki["openssl_cnf"], CARDUPD_SAN="DNS:" + CMS_HOST,
               CARDUPD_CADIR=os.path.join(dir, "ca-db"))
    subprocess.run(["openssl", "req", "-config", pki["openssl_cnf"], "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc", "-CA", pki["ca_cert"],
                    "-CAkey", pki["ca_key"], "-keyout", key, "-out", cert,
                    "-subj", "/CN=" + CMS_HOST, "-days", "825", "-extensions", "v3_server",
                    "-sha256"], env=env, check=True, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    pki["cms_cert"], pki["cms_key"] = cert, key
    return pki


class SiteCMS(TestCMS):
    """The rig's test CMS, on 127.0.0.1:443 of the namespace, named as the guest knows
    it (https://cms.test): its portal and SERAM URLs carry that origin."""

    __test__ = False

    def __init__(self, pki, port=443, **kw):
        super().__init__(pki["cms_cert"], pki["cms_key"], host="127.0.0.1", port=port, **kw)

    @property
    def origin(self):
        return cms_origin(self.port)


def cms_origin(port=443):
    return "https://" + CMS_HOST + ("" if port == 443 else ":%d" % port)


def set_ini(text, section, key, value):
    """text with [section] key = value set (replaced in place, else added)."""
    lines = text.splitlines()
    cur, sec_end, found = None, None, False
    for i, ln in enumerate(lines):
        s = ln.strip()
        if s.startswith("[") and s.endswith("]"):
            if cur == section and not found:
                sec_end = i
            cur = s[1:-1].strip()
            continue
        if cur == section and "=" in s and not s.startswith(("#", ";")) \
                and s.split("=", 1)[0].strip() == key:
            lines[i] = "%s = %s" % (key, value)
            found = True
    if not found:
        if cur == section and sec_end is None:
            sec_end = len(lines)
        if sec_end is None:
            lines += ["", "[%s]" % section]
            sec_end = len(lines)
        while sec_end > 0 and not lines[sec_end - 1].strip():
            sec_end -= 1
        lines.insert(sec_end, "%s = %s" % (key, value))
    return "\n".join(lines) + "\n"


def make_disk(image, path, stage, pki, settings, size_mb=16):
    """The guest's persistent disk (ext4, tests/vm/base S02persist mounts it): etc/cardupd
    as the product image ships it (owners, modes), its cardupd.conf with the site's
    `settings` ({(section, key): value}) and the test CA as cms-ca.pem; an empty
    var/lib/cardupd owned like /etc/cardupd. Returns (uid, gid) of the daemon."""
    uid = gid = None
    conf = None
    os.makedirs(stage, exist_ok=True)
    with tarfile.open(image) as t:
        for m in t:
            p = m.name.lstrip("./")
            if not (p == "etc/cardupd" or p.startswith("etc/cardupd/")):
                continue
            dst = os.path.join(stage, p)
            if m.isdir():
                os.makedirs(dst, exist_ok=True)
                uid, gid = m.uid, m.gid
            elif m.isreg():
                with open(dst, "wb") as f:
                    f.write(t.extractfile(m).read())
                if p == "etc/cardupd/cardupd.conf":
                    conf = dst
            else:
                continue
            os.chown(dst, m.uid, m.gid)
            os.chmod(dst, m.mode & 0o7777)
    if conf is None or uid is None:
        raise RuntimeError("%s: no etc/cardupd/cardupd.conf" % image)
    with open(conf) as f:
        text = f.read()
    for (sec, key), value in settings.items():
        text = set_ini(text, sec, key, value)
    with open(conf, "w") as f:
        f.write(text)
    ca = os.path.join(stage, "etc/cardupd/cms-ca.pem")
    with open(pki["ca_cert"], "rb") as src, open(ca, "wb") as f:
        f.write(src.read())
    os.chown(ca, uid, gid)
    os.chmod(ca, 0o600)
    var = os.path.join(stage, "var/lib/cardupd")
    os.makedirs(var, exist_ok=True)
    os.chown(var, uid, gid)
    os.chmod(var, 0o700)
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["mke2fs", "-q", "-F", "-t", "ext4", "-L", "cardupd-data", "-d", stage,
                    path, "%dM" % size_mb], check=True, stdin=subprocess.DEVNULL)
    return uid, gid


def site_settings(admin=True, device_id="vm-kiosk", cms_port=443):
    """What a site sets on the device: its id, the CMS by host name, the trust anchor,
    the remote administration on all addresses (reached through QEMU's forwarding)."""
    s = {("device", "id"): device_id,
         ("cms", "url"): cms_origin(cms_port) + "/cms",
         ("cms", "trust_anchors"): "/etc/cardupd/cms-ca.pem",
         ("cms", "portal_origins"): cms_origin(cms_port),
         ("log", "level"): "debug"}
    if admin:
        s[("admin", "listen")] = "0.0.0.0:%d" % ADMIN_PORT
    return s


ADMIN_PORT = 8443
