# SPDX-License-Identifier: BSD-2-Clause
"""The admin listener's TLS (web/admin/tls_term.c: BearSSL in front of a plain-HTTP
libmicrohttpd): TLS 1.2 only, ECDHE with AEAD suites only (the CMS client's policy), with
an EC (self-signed) or an RSA (configured) certificate; sessions resumed; clients that
never finish a handshake cut at the deadline; garbage and floods of connections never
stop the listener. Real clients: Python's ssl (OpenSSL)."""

import os
import socket
import ssl
import subprocess
import time

import pytest

from test_admin import PASSWORD, Admin, log_value, make_admin, anchors, read_all, closed_within  # noqa: F401

DEADLINE = 10        # CONFIG_ADMIN_REQUEST_DEADLINE_S
EC_AEAD = ("ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-CHACHA20-POLY1305",
           "ECDHE-ECDSA-AES256-GCM-SHA384")


def client(maximum=None, minimum=None, ciphers=None):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if minimum is not None or maximum is not None or ciphers is not None:
        # let OpenSSL itself offer what its defaults refuse (TLS 1.0/1.1, SHA-1)
        ctx.set_ciphers((ciphers or "DEFAULT") + ":@SECLEVEL=0")
    if minimum is not None:
        ctx.minimum_version = minimum
    if maximum is not None:
        ctx.maximum_version = maximum
    return ctx


def handshake(port, ctx, session=None):
    """A connected TLS socket (the caller closes it)."""
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        return ctx.wrap_socket(raw, session=session)
    except BaseException:
        raw.close()
        raise


def refused(port, ctx):
    """The reason OpenSSL gives for the handshake the server refused."""
    with pytest.raises((ssl.SSLError, ConnectionResetError)) as e:
        handshake(port, ctx).close()
    reason = getattr(e.value, "reason", None) or str(e.value)
    # the client did offer what the test asked for: refused by the server, not by it
    assert reason not in ("NO_PROTOCOLS_AVAILABLE", "NO_CIPHERS_AVAILABLE"), reason
    return reason


def http_get(t, path="/api/v1/admin/info", close=True):
    t.sendall(b"GET %s HTTP/1.1\r\nHost: x\r\n%s\r\n" % (
        path.encode(), b"Connection: close\r\n" if close else b""))


def metrics(a):
    s, body = a.get("/metrics")
    assert s == 200, body
    out = {}
    for line in body.decode().splitlines():
        if line.startswith("cardupd_admin_"):
            k, v = line.rsplit(" ", 1)
            out[k] = int(float(v))
    return out


HS_OK = 'cardupd_admin_tls_handshakes_total{result="ok"}'
HS_FAILED = 'cardupd_admin_tls_handshakes_total{result="failed"}'
HS_TIMEOUT = 'cardupd_admin_tls_handshakes_total{result="timeout"}'


def test_tls12_ecdhe_aead(make_admin):
    d, a = make_admin()
    with handshake(a.port, client()) as t:
        # BearSSL has no TLS 1.3: 1.2, and the server's first choice of its AEAD suites
        assert t.version() == "TLSv1.2", t.version()
        assert t.cipher()[0] == "ECDHE-ECDSA-AES128-GCM-SHA256", t.cipher()
        http_get(t)
        assert read_all(t).startswith(b"HTTP/1.1 200 OK")
    # ChaCha20 when the client offers nothing else
    with handshake(a.port, client(maximum=ssl.TLSVersion.TLSv1_2,
                                  ciphers="ECDHE-ECDSA-CHACHA20-POLY1305")) as t:
        assert t.cipher()[0] == "ECDHE-ECDSA-CHACHA20-POLY1305"
    before = metrics(a)
    # TLS 1.0 and 1.1, whatever the suites; TLS 1.3 only
    for v in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        refused(a.port, client(minimum=v, maximum=v))
    refused(a.port, client(minimum=ssl.TLSVersion.TLSv1_3))
    # TLS 1.2 with CBC suites only (ECDHE, SHA-1 and SHA-256 MACs)
    refused(a.port, client(maximum=ssl.TLSVersion.TLSv1_2,
                           ciphers="ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA384:"
                                   "ECDHE-ECDSA-AES128-SHA:ECDHE-ECDSA-AES256-SHA"))
    after = metrics(a)
    assert after[HS_FAILED] - before[HS_FAILED] == 4, (before, after)
    # failures are told at debug level only: a scanner does not flood the log
    told = [l for l in d.log().splitlines() if "admin: TLS handshake" in l]
    assert len(told) == 4 and all("[debug]" in l for l in told), told
    assert a.get("/api/v1/admin/status")[0] == 200


def make_rsa(tmp_path):
    cert, key = str(tmp_path / "admin-rsa.pem"), str(tmp_path / "admin-rsa-key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                    key, "-out", cert, "-subj", "/CN=cardupd admin test", "-days", "2"],
                   check=True, capture_output=True)
    os.chmod(key, 0o600)
    return cert, key


def test_rsa_certificate(make_admin, tmp_path):
    cert, key = make_rsa(tmp_path)
    d, a = make_admin(conf={"admin": {"tls_cert": cert, "tls_key": key}})
    assert "configured certificate" in d.log()
    with handshake(a.port, client()) as t:
        assert t.version() == "TLSv1.2"
        assert t.cipher()[0] == "ECDHE-RSA-AES128-GCM-SHA256", t.cipher()
    # no forward secrecy (static RSA key exchange), or CBC: refused
    refused(a.port, client(maximum=ssl.TLSVersion.TLSv1_2,
                           ciphers="AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:"
                                   "AES128-SHA"))
    refused(a.port, client(maximum=ssl.TLSVersion.TLSv1_2,
                           ciphers="ECDHE-RSA-AES128-SHA256:ECDHE-RSA-AES128-SHA"))
    # the whole admin works over it (Admin pins the configured certificate)
    assert a.get("/api/v1/admin/status")[0] == 200


def test_session_resumed(make_admin):
    d, a = make_admin()
    ctx = client()
    with handshake(a.port, ctx) as t:
        http_get(t)
        assert read_all(t).startswith(b"HTTP/1.1 200")
        sess = t.session
    assert sess is not None and sess.id
    with handshake(a.port, ctx, session=sess) as t:
        assert t.session_reused, "the session was not resumed"
        # and two requests on the one kept-alive connection
        http_get(t, close=False)
        first = b""
        while b"\r\n\r\n" not in first or b'"setup_needed"' not in first:
            chunk = t.recv(65536)
            assert chunk, first
            first += chunk
        assert first.startswith(b"HTTP/1.1 200")
        http_get(t)
        assert read_all(t).startswith(b"HTTP/1.1 200")


def test_silent_client_cut_at_deadline(make_admin):
    d, a = make_admin()
    before = metrics(a)
    t0 = time.monotonic()
    silent = socket.create_connection(("127.0.0.1", a.port), timeout=30)
    # a client that stops in the middle of its ClientHello (a record header only)
    half = socket.create_connection(("127.0.0.1", a.port), timeout=30)
    half.sendall(b"\x16\x03\x01\x02\x00")
    try:
        # meanwhile, everyone else gets in
        b = Admin(a.port, a.fingerprint)
        assert b.login()[0] == 200
        assert b.get("/api/v1/admin/status")[0] == 200
        for s in (silent, half):
            left = DEADLINE + 5 - (time.monotonic() - t0)
            assert closed_within(s, left) is not None, "a silent client was never cut"
            took = time.monotonic() - t0
            assert DEADLINE - 1 <= took <= DEADLINE + 5, took
    finally:
        silent.close()
        half.close()
    after = metrics(a)
    assert after[HS_TIMEOUT] - before[HS_TIMEOUT] == 2, (before, after)


def test_garbage_closed(make_admin):
    d, a = make_admin()
    before = metrics(a)
    for junk in (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", os.urandom(3000),
                 b"\x16\x03\x03\xff\xff" + b"\x01" * 100,      # a record too long
                 b"\x15\x03\x03\x00\x02\x02\x28"):              # an alert first
        with socket.create_connection(("127.0.0.1", a.port), timeout=10) as s:
            try:
                s.sendall(junk)
            except (BrokenPipeError, ConnectionResetError):
                pass
            took = closed_within(s, 5)
            assert took is not None, junk[:20]
    assert metrics(a)[HS_FAILED] - before[HS_FAILED] == 4
    assert a.get("/api/v1/admin/status")[0] == 200


def still_open(s):
    """False when the server closed s (after an alert, perhaps)."""
    s.settimeout(0.01)
    try:
        while True:
            if not s.recv(64):
                return False
    except (socket.timeout, ssl.SSLWantReadError):
        return True
    except (OSError, ssl.SSLError):
        return False


def test_more_connections_than_the_limit(make_admin):
    d, a = make_admin()
    flood = []
    try:
        # 10 addresses x 5 (under the per-address limit of 6): 50 connections, far more
        # than the listener holds (its limit is CONFIG_ADMIN_MAX_CONNECTIONS + 4 = 20),
        # half of them after a finished handshake, none sending a request
        ctx = client()
        for i in range(50):
            s = socket.socket()
            s.bind(("127.0.0.%d" % (2 + i % 10), 0))
            s.settimeout(10)
            s.connect(("127.0.0.1", a.port))
            if i % 2:
                try:
                    s = ctx.wrap_socket(s)
                except (ssl.SSLError, OSError):
                    pass        # closed to make room: allowed
            flood.append(s)
        # while they are held, a login gets in
        b = Admin(a.port, a.fingerprint)
        assert b.login()[0] == 200
        assert b.get("/api/v1/admin/status")[0] == 200
        # never more held than the limit
        held = sum(still_open(s) for s in flood)
        assert held <= 20, held
    finally:
        for s in flood:
            s.close()
    # and afterwards, the listener answers at once
    t0 = time.monotonic()
    assert a.get("/api/v1/admin/status")[0] == 200
    assert time.monotonic() - t0 < 3


def stalled_reader(port, source, ctx):
    """A client that completes its handshake, asks for much more than it will ever
    read (pipelined requests for the admin script, a 4 KiB receive buffer) and never
    reads: its answers stall in the terminator, MHD times the connection out and hangs
    up, and the bytes it left behind can only leave as the client reads."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.bind((source, 0))
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    t = ctx.wrap_socket(s)
    t.sendall(b"GET /admin.js HTTP/1.1\r\nHost: x\r\n\r\n" * 600)
    return t


def established_from(port, peers):
    """How many of the listener's TCP connections (local port) to the client ports
    peers are still ESTABLISHED, from /proc/net/tcp: a connection the server has
    closed is in FIN-WAIT even while its unread bytes keep the client from seeing it."""
    n = 0
    with open("/proc/net/tcp") as f:
        next(f)
        for line in f:
            fields = line.split()
            local, remote, st = fields[1], fields[2], fields[3]
            if (int(local.split(":")[1], 16) == port and st == "01"
                    and int(remote.split(":")[1], 16) in peers):
                n += 1
    return n


def test_stalled_reader_does_not_keep_its_slot(make_admin):
    """Clients that stop reading (their answers fill the kernel's buffers and stall in
    the terminator) are cut once MHD is done with them (its timeout) and the request
    deadline has passed. Before, the terminator kept each one for as long as the kernel
    kept its TCP connection (minutes), so 20 of them held every slot and the listener
    refused everyone."""
    d, a = make_admin()
    ctx = client()
    stalled = []
    try:
        # 4 addresses x 5 (under the per-address limit of 6)
        for i in range(20):
            stalled.append(stalled_reader(a.port, "127.0.0.%d" % (2 + i % 4), ctx))
        peers = {s.getsockname()[1] for s in stalled}
        # MHD's timeout (DEADLINE) and then the terminator's (DEADLINE): every one cut,
        # the clients still not reading
        t0 = time.monotonic()
        while established_from(a.port, peers) > 0:
            assert time.monotonic() - t0 < 2 * DEADLINE + 20, \
                "%d stalled clients still hold their slots" % established_from(a.port, peers)
            time.sleep(0.5)
        b = Admin(a.port, a.fingerprint)
        assert b.login()[0] == 200
        assert b.get("/api/v1/admin/status")[0] == 200
    finally:
        for s in stalled:
            s.close()
