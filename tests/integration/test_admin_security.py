# SPDX-License-Identifier: BSD-2-Clause
"""The admin listener under attack: every one of these must fail to get in. No session,
a wrong CSRF token, a foreign Origin, password guessing (lock-out), session fixation,
markup in settings and CMS strings, path traversal, oversized bodies, slow clients."""

import os
import socket
import ssl
import time

from test_admin import PASSWORD, Admin, GUID, log_value, make_admin, anchors, reader0, read_all, closed_within  # noqa: F401

PROTECTED = [
    ("GET", "/api/v1/admin/status"), ("GET", "/api/v1/admin/settings"),
    ("POST", "/api/v1/admin/settings"), ("GET", "/api/v1/admin/anchors"),
    ("POST", "/api/v1/admin/anchors"), ("POST", "/api/v1/admin/check"),
    ("POST", "/api/v1/admin/reconnect"), ("GET", "/api/v1/admin/audit"),
    ("GET", "/api/v1/admin/tokens"), ("POST", "/api/v1/admin/tokens"),
    ("DELETE", "/api/v1/admin/tokens/00000000"), ("POST", "/api/v1/admin/password"),
    ("POST", "/api/v1/admin/logout"), ("GET", "/metrics"),
]


def test_no_session_no_entry(make_admin):
    d, a = make_admin()
    anon = Admin(a.port, a.fingerprint)
    before = open(d.conf_path, "rb").read()
    for method, path in PROTECTED:
        body = {"values": {"log.level": "error"}} if method != "GET" else None
        s, _, js = anon.request(method, path, body=body)
        assert s == 401, (method, path, s, js)
        # a made-up cookie or token is no better
        s, _, js = anon.request(method, path, body=body, cookie="A" * 43)
        assert s == 401, (method, path, s)
        s, _, js = anon.request(method, path, body=body, auth="cdt_" + "B" * 43)
        assert s == 401, (method, path, s)
    assert open(d.conf_path, "rb").read() == before


def test_wrong_csrf_token(make_admin):
    d, a = make_admin()
    before = open(d.conf_path, "rb").read()
    good = a.csrf
    for token in (None, "", "x" * 43, good[:-1] + ("A" if good[-1] != "A" else "B")):
        a.csrf = token
        s, js = a.settings({"log.level": "error"})
        assert s == 403, (token, js)
        s, js = a.post("/api/v1/admin/tokens", {"name": "sneaky"})
        assert s == 403
        s, js = a.post("/api/v1/admin/logout")
        assert s == 403
    a.csrf = good
    assert open(d.conf_path, "rb").read() == before
    assert a.get("/api/v1/admin/tokens")[1]["tokens"] == []
    assert a.get("/api/v1/admin/status")[0] == 200      # still logged in
    # The CSRF token of one session is worthless in another.
    b = Admin(a.port, a.fingerprint)
    assert b.login()[0] == 200
    b.csrf = good
    assert b.settings({"log.level": "error"})[0] == 403
    assert "csrf_refused" in a.request("GET", "/api/v1/admin/audit")[2].decode()


def test_foreign_origin_refused(make_admin):
    d, a = make_admin()
    s, _, js = a.request("POST", "/api/v1/admin/settings", body={"values": {}},
                         headers={"Origin": "https://evil.example"})
    assert s == 403 and "cross-origin" in js["error"]
    # a form post (not JSON) is refused too
    s, _, js = a.request("POST", "/api/v1/admin/login", raw=b"password=" + PASSWORD.encode(),
                         ctype="application/x-www-form-urlencoded")
    assert s == 400


def test_lockout_after_five_failures(make_admin):
    d, a = make_admin()
    b = Admin(a.port, a.fingerprint)
    for i in range(5):
        s, js = b.login("guess %d" % i)
        assert s == 401, (i, js)
    # The sixth attempt is not even looked at, even with the right password.
    s, hdrs, js = b.request("POST", "/api/v1/admin/login", body={"password": PASSWORD})
    assert s == 429, js
    assert 25 <= int(hdrs["Retry-After"]) <= 30
    assert js["retry_after_s"] == int(hdrs["Retry-After"])
    assert b.cookie is None
    # The setup door is shut the same way, and the session already open still works.
    assert b.post("/api/v1/admin/setup", {"code": "AAAA", "password": PASSWORD})[0] == 429
    assert a.get("/api/v1/admin/status")[0] == 200
    audit = a.request("GET", "/api/v1/admin/audit")[2].decode()
    assert audit.count("login_failed") == 5
    assert "source locked out" in audit and "login_locked" in audit


def test_session_fixation(make_admin):
    d, a = make_admin()
    # A cookie planted before the login is never the session after it.
    planted = "P" * 43
    b = Admin(a.port, a.fingerprint)
    b.cookie = planted
    assert b.login()[0] == 200
    assert b.cookie != planted
    assert b.get("/api/v1/admin/status")[0] == 200
    assert b.get("/api/v1/admin/status", cookie=planted)[0] == 401
    # A real session cookie carried into a new login is ended by it.
    old = b.cookie
    assert b.login()[0] == 200
    assert b.cookie != old
    assert b.get("/api/v1/admin/status", cookie=old)[0] == 401
    assert b.get("/api/v1/admin/status")[0] == 200


def test_markup_is_data(make_admin, pcscd, cms, cards):
    d, a = make_admin()
    evil = '<img src=x onerror="alert(1)">'
    s, js = a.settings({"device.id": evil})
    assert s == 200, js
    cms.script(GUID, cms.pending("card-x", updates=[
        ("certificate_renewal", "<script>alert(2)</script>")]))
    cards().insert(pcscd.port)
    st = a.wait_status(lambda st: st["device"] == evil and st["readers"] and
                       st["readers"][0]["phase"] == "prompt", what="markup in status")
    assert st["readers"][0]["updates"][0]["description"] == "<script>alert(2)</script>"
    s, hdrs, raw = a.request("GET", "/api/v1/admin/status")
    assert hdrs["Content-Type"] == "application/json"
    assert hdrs["X-Content-Type-Options"] == "nosniff"
    # The page: strict CSP, no inline script or style, and the script only ever
    # writes text.
    s, hdrs, page = a.request("GET", "/")
    csp = hdrs["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
    assert hdrs["X-Frame-Options"] == "DENY"
    assert b"<script>" not in page and b"style=" not in page and b"onclick" not in page
    js_src = a.request("GET", "/admin.js")[2]
    for sink in (b"innerHTML", b"outerHTML", b"insertAdjacentHTML", b"document.write",
                 b"eval("):
        assert sink not in js_src, sink


def raw_tls(port, data, timeout=5.0):
    """Sends raw bytes over TLS (no URL normalisation) and returns the answer."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        with ctx.wrap_socket(s) as t:
            t.sendall(data)
            return read_all(t)


def test_path_traversal(make_admin, tmp_path):
    d, a = make_admin()
    secret = open(d.conf_path, "rb").read()
    for path in ("/../cardupd.conf", "/%2e%2e/cardupd.conf", "/..%2fcardupd.conf",
                 "/admin.js/../../cardupd.conf", "/../../../../etc/passwd",
                 "/%2e%2e%2f%2e%2e%2fetc%2fpasswd", "//etc/passwd", "/admin/admin-key.pem",
                 "/admin-key.pem", "/api/v1/admin/../../admin-key.pem",
                 "/.%2e/admin/admin-key.pem", "/index.html%00/../../cardupd.conf"):
        out = raw_tls(a.port, b"GET " + path.encode() + b" HTTP/1.0\r\nHost: x\r\n\r\n")
        status = out.split(b" ", 2)[1]
        # %00 cuts the decoded path: at most the embedded page itself answers.
        ok = (b"404", b"400", b"401") + ((b"200",) if "%00" in path else ())
        assert status in ok, (path, out[:200])
        if status == b"200":
            assert out.endswith(a.request("GET", "/index.html")[2])
        assert b"root:" not in out and b"PRIVATE KEY" not in out
        assert b"password_hash" not in out and secret[:40] not in out


def post_big(port, path, ctype, body):
    """POSTs body, tolerating the server's early answer and close; returns the
    status line received."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    chunked = isinstance(body, list)        # a list of chunks: no length announced
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with ctx.wrap_socket(raw) as t:
            t.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: %s\r\n%s\r\n" % (
                path.encode(), ctype.encode(),
                b"Transfer-Encoding: chunked\r\n" if chunked else
                b"Content-Length: %d\r\n" % len(body)))
            try:
                if chunked:
                    for c in body:
                        t.sendall(b"%x\r\n%s\r\n" % (len(c), c))
                    t.sendall(b"0\r\n\r\n")
                else:
                    for i in range(0, len(body), 16384):
                        t.sendall(body[i:i + 16384])
            except (OSError, ssl.SSLError):
                pass        # answered and closed before the whole body went
            out = b""
            try:
                while b"\r\n" not in out:
                    chunk = t.recv(4096)
                    if not chunk:
                        break
                    out += chunk
            except (OSError, ssl.SSLError):
                pass
            return out.split(b"\r\n", 1)[0]


def test_oversized_bodies(make_admin):
    d, a = make_admin()
    big = b"{" + b'"a":"' + b"x" * (1024 * 1024) + b'"}'
    assert post_big(a.port, "/api/v1/admin/settings", "application/json",
                    big) == b"HTTP/1.1 413 Content Too Large"
    assert post_big(a.port, "/api/v1/admin/anchors", "application/x-pem-file",
                    b"A" * (2 * 1024 * 1024)) == b"HTTP/1.1 413 Content Too Large"
    # Just over the limit (64 KiB); and chunked, with no length announced.
    # (The server may answer and close while the client is still sending: the helpers
    # tolerate that and read the answer; a plain client would see an EOF error.)
    assert post_big(a.port, "/api/v1/admin/anchors", "application/x-pem-file",
                    b"A" * (64 * 1024 + 1)) == b"HTTP/1.1 413 Content Too Large"
    assert post_big(a.port, "/api/v1/admin/anchors", "application/x-pem-file",
                    [b"A" * 40000, b"A" * 40000]) == b"HTTP/1.1 413 Content Too Large"
    # A lying Content-Length is answered 413 before the body is read.
    out = raw_tls(a.port, b"POST /api/v1/admin/login HTTP/1.1\r\nHost: x\r\n"
                  b"Content-Type: application/json\r\nContent-Length: 99999999\r\n\r\n{}")
    assert out.startswith(b"HTTP/1.1 413"), out[:100]
    # Deep JSON is refused by the depth-limited parser, not the stack.
    s, _, js = a.request("POST", "/api/v1/admin/login", raw=b"[" * 5000 + b"]" * 5000,
                         ctype="application/json")
    assert s == 400
    # Huge headers hit MHD's memory limit.
    out = raw_tls(a.port, b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"h" * 64000 + b"\r\n\r\n")
    assert out == b"" or out.split(b" ", 2)[1] in (b"431", b"413", b"400"), out[:100]
    assert a.get("/api/v1/admin/status")[0] == 200


def test_slow_clients_cut_off(make_admin):
    d, a = make_admin()
    deadline = 10        # CONFIG_ADMIN_REQUEST_DEADLINE_S
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    # (1) headers one byte every 0.5 s: never idle, but cut at the deadline.
    t0 = time.monotonic()
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", a.port), timeout=30))
    # (2) a TCP connection that never starts TLS.
    idle = socket.create_connection(("127.0.0.1", a.port), timeout=30)
    req = b"GET /api/v1/admin/info HTTP/1.1\r\nHost: x\r\n" + b"X-Slow: " + b"y" * 200
    cut = None
    try:
        for i in range(len(req)):
            s.sendall(req[i:i + 1])
            time.sleep(0.5)
            if time.monotonic() - t0 > deadline + 10:
                break
    except (OSError, ssl.SSLError):
        cut = time.monotonic() - t0
    if cut is None:
        try:
            s.settimeout(5)
            cut = time.monotonic() - t0 if s.recv(1) == b"" else None
        except (OSError, ssl.SSLError):
            cut = time.monotonic() - t0
    s.close()
    assert cut is not None, "a byte-by-byte client was never cut off"
    assert deadline - 1 <= cut <= deadline + 4, cut
    # Closed: at most a TLS alert record (0x15: libmicrohttpd's own timeout may win the
    # race with the watchdog on a loaded machine), then the end of the stream.
    assert closed_within(idle, 5) is not None, "the idle connection is still open"
    idle.close()
    # (3) one address cannot take every connection.
    hogs = []
    try:
        for _ in range(12):
            hogs.append(socket.create_connection(("127.0.0.1", a.port), timeout=5))
        # Wait for the listener to close the ones over the limit (bounded: a failure
        # only), rather than for a fixed time a loaded machine may not meet.
        closed = set()
        end = time.monotonic() + 15
        while len(closed) < 6 and time.monotonic() < end:
            for i, h in enumerate(hogs):
                if i in closed:
                    continue
                h.settimeout(0.05)
                try:
                    if h.recv(1) == b"":
                        closed.add(i)
                except socket.timeout:
                    pass
                except ConnectionResetError:
                    closed.add(i)
        assert len(closed) >= 6, len(closed)      # per-IP limit 6
    finally:
        for h in hogs:
            h.close()
    assert "connection cut" in d.log()
    # Still serving everyone else, once MHD has noticed the closed hogs.
    end = time.monotonic() + 15
    while True:
        try:
            if a.get("/api/v1/admin/status")[0] == 200:
                break
        except OSError:
            pass
        assert time.monotonic() < end, "the admin listener no longer answers"
        time.sleep(0.1)


def test_plain_http_refused(make_admin):
    d, a = make_admin()
    with socket.create_connection(("127.0.0.1", a.port), timeout=5) as s:
        s.sendall(b"GET /api/v1/admin/info HTTP/1.0\r\n\r\n")
        s.settimeout(5)
        try:
            out = s.recv(1000)
        except ConnectionResetError:
            out = b""
    assert b"setup_needed" not in out and b"HTTP/1" not in out
