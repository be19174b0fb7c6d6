# SPDX-License-Identifier: BSD-2-Clause
"""Nothing in cardupd uses GnuTLS: the admin listener's TLS (web/admin/tls_term.c) and
certificate (web/admin/admin_tls.c) are BearSSL's.  The default build (MHD=plain, a
libmicrohttpd without HTTPS) does not even map it: that is checked in /proc/PID/maps
when the build folder says MHD=plain (build/mhd.choice).  Linked to Debian's
libmicrohttpd (MHD=system, the Debian package), GnuTLS is mapped but never initialised
(firmware/process.c): not by its own library constructor nor by libmicrohttpd's
(MHD_init), which cost ~1 MiB of resident memory (docs/performance.md).
GNUTLS_DEBUG_LEVEL makes gnutls_global_init() say "Enabled GnuTLS ... logging" on
stderr, which the rig keeps in the daemon's log."""

import os
import socket
import ssl
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "rig"))

from daemon import free_port  # noqa: E402

MARK = "Enabled GnuTLS"


def mhd_choice(d):
    """'plain' or 'system' from the build folder of the binary under test, or None."""
    try:
        with open(os.path.join(os.path.dirname(d.binary), "mhd.choice")) as f:
            return f.read().split()[0]
    except (OSError, IndexError):
        return None


def check_gnutls(d):
    with open("/proc/%d/maps" % d.proc.pid) as f:
        mapped = "libgnutls" in f.read()
    if mhd_choice(d) == "plain":
        assert not mapped, "MHD=plain build maps libgnutls"
    if mapped:
        assert MARK not in d.log(), d.log()[-2000:]


def start_traced(make_daemon, conf=None):
    d = make_daemon(conf=conf, start=False)
    d.env["GNUTLS_DEBUG_LEVEL"] = "2"
    d.start()
    d.wait_for(lambda st: len(st["readers"]) >= 1, what="readers listed")
    return d


def test_no_gnutls_without_admin_listener(make_daemon):
    d = start_traced(make_daemon)
    assert d.state()["readers"]
    check_gnutls(d)


def test_admin_listener_needs_no_gnutls(make_daemon, tmp_path):
    port = free_port()
    d = start_traced(make_daemon, {"admin": {"listen": "127.0.0.1:%d" % port,
                                             "state_dir": str(tmp_path / "admin")}})
    # its TLS works: a handshake and an answer (the certificate is self-signed, made now)
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            assert s.recv(64).startswith(b"HTTP/1.1 200"), "admin page over TLS"
    check_gnutls(d)
