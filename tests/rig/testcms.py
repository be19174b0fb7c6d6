#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A scriptable HTTPS CMS speaking `cardupd-cms/1` (SPEC.md §2) for tests (test rig).

Owns: the test CMS server (POST <base>/card-status, GET /portal), its scripting API and
request recording, and the `make demo` CMS CLI.  Standard library only (ssl +
http.server.ThreadingHTTPServer in a background thread, HTTP/1.1 keep-alive, every
answer with Content-Length).

    cms = TestCMS(pki["server_cert"], pki["server_key"]).start()
    cms.url                        # "https://127.0.0.1:PORT/cms"  (client appends /card-status)
    cms.script(guid_hex, cms.pending("card-1"))
    cms.script("atr:3bf8...", {"status": 429, "headers": {"Retry-After": "5"}})
    cms.script("*", {"status": 200, "raw": b"not json"})
    ...
    cms.requests[-1]["json"]["card"]["chuid"]["guid"]
    cms.stop()

Answers (dicts): status (default 200), json (object, sent as JSON), raw (bytes, sent
as is), headers (dict), delay_s (sleep first), gate (a threading.Event: answer once it
is set, at most gate_max_s, default 25 s, later), close (True: drop the connection without
answering).  An answer may also be a list (used in order, the last one repeats) or a
callable(request_dict) -> answer.

Fault modes (answer keys, for tests of a client on a hostile network):
    chunked: True or N     body sent with Transfer-Encoding: chunked (N-byte chunks)
    drip_s: S              head at once, then the body in ~10 pieces, S seconds apart
    body_delay_s: S        head and half the body, S seconds of silence, the rest
    truncate: N            Content-Length of the whole body, only N bytes of it, then a
                           TCP close without TLS close_notify
    reset: N               head and N body bytes, then a TCP reset (SO_LINGER 0)
    huge: N                an N-byte JSON-looking body (with Content-Length)
    keep_alive: False      answer with "Connection: close" and close after it
TLS-level faults are server settings: TestCMS(cert, key, client_ca=...) or
TestCMS.with_pki(pki, "expired" | "wronghost" | "rogue" | "selfsigned" | "good",
mtls=True), and TLS policy faults: TestCMS.with_pki(pki, ..., tls="tls10" | "tls11" |
"static_rsa" | "legacy") and HelloServer (a server that chooses a version and cipher
suite the client did not offer, e.g. 3DES).  Each recorded request says on which TLS connection it came ("conn", a
counter) and whether that connection resumed a session ("tls_resumed").  Matching order: GUID (lowercase hex of the CHUID
GUID), "cplc:<hex>", "atr:<hex>", then "*"; unknown cards get 404 {"error": ...}.
"""

import argparse
import hashlib
import http.server
import json
import os
import socket
import ssl
import struct
import sys
import threading
import time
import urllib.parse

MAX_BODY = 64 * 1024
BASE_PATH = "/cms"

PORTAL_HTML = b"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>CMS Portal</title></head>
<body><h1>CMS portal</h1><p>CMS portal: your card updates would be done here.</p></body>
</html>
"""


class CIDict(dict):
    """dict with case-insensitive string keys (for recorded HTTP headers)."""

    def __init__(self, items=()):
        super().__init__()
        for k, v in items:
            self[k] = v

    def __setitem__(self, k, v):
        super().__setitem__(k.lower(), v)

    def __getitem__(self, k):
        return super().__getitem__(k.lower())

    def __contains__(self, k):
        return super().__contains__(k.lower())

    def get(self, k, default=None):
        return super().get(k.lower(), default)


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 64

    def __init__(self, addr, handler, cms, ctx, family):
        self.address_family = family
        self.cms = cms
        self.ctx = ctx
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the per-connection thread, so a client that
        # stalls or fails the handshake never blocks the accept loop.
        request.settimeout(self.cms.idle_timeout_s)
        try:
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError) as e:
            with self.cms._lock:
                self.cms.tls_errors.append({"peer": client_address, "error": str(e),
                                            "time": time.time()})
            return
        with self.cms._lock:
            self.cms.connections += 1
            tls.cardupd_conn = self.cms.connections
            if tls.session_reused:
                self.cms.resumed_connections += 1
            self.cms._live.add(tls)
        handler = None
        try:
            handler = self.RequestHandlerClass(tls, client_address, self)
        except OSError:
            pass
        finally:
            # close_notify (unwrap) on a normal end: OpenSSL drops from its cache the
            # session of a connection freed without one, and resumption would fail.
            if handler is None or not getattr(handler, "_no_close_notify", False):
                try:
                    tls.settimeout(0.2)
                    tls.unwrap()
                except (ssl.SSLError, OSError, ValueError):
                    pass
            with self.cms._lock:
                self.cms._live.discard(tls)
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass    # clients dropping connections is normal in tests


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "cardupd-testcms/1"

    def log_message(self, fmt, *args):
        if self.server.cms.verbose:
            sys.stderr.write("testcms: " + (fmt % args) + "\n")

    # ---- plumbing ----

    def _head(self, status, headers, clen=None, ctype="application/json", body=b""):
        """The status line and headers as bytes (nothing sent yet)."""
        self.send_response(status)
        hdrs = CIDict((headers or {}).items())
        if "content-type" not in hdrs and body:
            self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            if k.lower() != "content-length":
                self.send_header(k, str(v))
        if clen is not None:
            self.send_header("Content-Length", str(clen))
        self._headers_buffer.append(b"\r\n")
        head = b"".join(self._headers_buffer)
        self._headers_buffer = []
        return head

    def _send(self, status, body=b"", headers=None, ctype="application/json"):
        # Head and body in one write: two small TLS records sent back to back would
        # wait ~40 ms for the client's delayed ACK (Nagle).
        head = self._head(status, headers, len(body), ctype, body)
        self.wfile.write(head + (body if self.command != "HEAD" else b""))
        self.wfile.flush()

    def _abort(self, rst):
        """Drop the connection without close_notify (rst: with a TCP reset)."""
        self.close_connection = True
        self._no_close_notify = True
        sock = self.connection
        try:
            if rst:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                struct.pack("ii", 1, 0))
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _read_body(self):
        """Return the body bytes, or None after answering 413/400 (connection closed)."""
        te = (self.headers.get("Transfer-Encoding") or "").lower()
        if "chunked" in te:
            body = b""
            while True:
                line = self.rfile.readline(100)
                try:
                    n = int(line.split(b";")[0].strip(), 16)
                except ValueError:
                    self.close_connection = True
                    self._send(400, b'{"error":"bad chunk"}')
                    return None
                if n == 0:
                    while self.rfile.readline(1000) not in (b"\r\n", b"\n", b""):
                        pass
                    return body
                if len(body) + n > MAX_BODY:
                    self.close_connection = True
                    self._send(413, b'{"error":"body too large"}')
                    return None
                body += self.rfile.read(n)
                self.rfile.readline(10)
        try:
            n = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self.close_connection = True
            self._send(400, b'{"error":"bad Content-Length"}')
            return None
        if n > MAX_BODY:
            # Drain (up to 4 MiB) before answering, or closing with unread data would
            # reset the connection and the client would never see the 413.
            left = n if n <= 4 * MAX_BODY * 16 else 0
            while left > 0:
                chunk = self.rfile.read(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
            self.close_connection = True
            self._send(413, b'{"error":"body too large"}', headers={"Connection": "close"})
            return None
        return self.rfile.read(n) if n > 0 else b""

    def _record(self, body, parsed):
        cert = None
        try:
            cert = self.connection.getpeercert()
        except (AttributeError, ValueError):
            pass
        req = {"method": self.command, "path": self.path, "headers": CIDict(self.headers.items()),
               "body": body, "json": parsed, "peer": self.client_address,
               "client_cert": cert or None, "time": time.time(),
               "conn": getattr(self.connection, "cardupd_conn", 0),
               "tls_resumed": bool(getattr(self.connection, "session_reused", False))}
        return req

    # ---- routes ----

    def do_GET(self):
        cms = self.server.cms
        path = urllib.parse.urlsplit(self.path).path
        if path in ("/portal", "/portal/"):
            with cms._lock:
                cms.portal_visits.append({"path": self.path,
                                          "headers": CIDict(self.headers.items()),
                                          "time": time.time()})
            self._send(200, PORTAL_HTML, ctype="text/html; charset=utf-8")
            return
        if self._route("GET", path, b""):
            return
        self._send(404, b'{"error":"not found"}')

    def do_HEAD(self):
        self.do_GET()

    def do_POST(self):
        cms = self.server.cms
        body = self._read_body()
        if body is None:
            return
        path = urllib.parse.urlsplit(self.path).path
        if self._route("POST", path, body):
            return
        if path != BASE_PATH + "/card-status":
            self._send(404, b'{"error":"not found"}')
            return
        try:
            parsed = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            parsed = None
        req = self._record(body, parsed)
        with cms._lock:
            cms.requests.append(req)
            cms._cond.notify_all()
        if not isinstance(parsed, dict):
            self._send(400, b'{"error":"body is not a JSON object"}')
            return
        self._answer(cms._lookup(parsed, req), req)

    def do_PUT(self):
        self._send(405, b'{"error":"method not allowed"}', headers={"Allow": "GET, POST"})

    do_DELETE = do_PATCH = do_PUT

    def _route(self, method, path, body):
        """Extra routes added with TestCMS.route(); True if one answered."""
        fn = self.server.cms.routes.get((method, path))
        if fn is None:
            return False
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        req = self._record(body, parsed)
        with self.server.cms._lock:
            self.server.cms.route_requests.append(req)
        self._answer(fn(req), req)
        return True

    def _answer(self, ans, req):
        while callable(ans):
            ans = ans(req)
        ans = dict(ans or {})
        if ans.get("gate") is not None:
            ans["gate"].wait(ans.get("gate_max_s", 25.0))
        if ans.get("delay_s"):
            time.sleep(ans["delay_s"])
        if ans.get("close"):
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        status = ans.get("status", 200)
        headers = dict(ans.get("headers") or {})
        if "raw" in ans:
            body = ans["raw"] if isinstance(ans["raw"], bytes) else str(ans["raw"]).encode()
        elif "json" in ans:
            body = json.dumps(ans["json"]).encode()
        elif ans.get("huge"):
            n = int(ans["huge"])
            body = (b'{"card_id": "x", "pad": "' + b"a" * max(0, n - 27) + b'"}')[:n]
        else:
            body = b""
        if ans.get("keep_alive") is False:
            headers["Connection"] = "close"
            self.close_connection = True
        try:
            self._answer_faulty(status, headers, body, ans)
        except OSError:
            self.close_connection = True

    def _answer_faulty(self, status, headers, body, ans):
        w = self.wfile
        if ans.get("chunked"):
            n = ans["chunked"] if ans["chunked"] is not True else 7
            headers["Transfer-Encoding"] = "chunked"
            out = self._head(status, headers, None, body=body)
            for i in range(0, len(body), n):
                part = body[i:i + n]
                out += b"%x\r\n" % len(part) + part + b"\r\n"
            w.write(out + b"0\r\n\r\n")
            w.flush()
            return
        if "truncate" in ans or "reset" in ans:
            n = ans.get("truncate", ans.get("reset"))
            w.write(self._head(status, headers, len(body), body=body) + body[:n])
            w.flush()
            time.sleep(0.05)
            self._abort(rst="reset" in ans)
            return
        if ans.get("drip_s") or ans.get("body_delay_s"):
            w.write(self._head(status, headers, len(body), body=body))
            w.flush()
            if ans.get("drip_s"):
                step = max(1, (len(body) + 9) // 10)
                for i in range(0, len(body), step):
                    time.sleep(ans["drip_s"])
                    w.write(body[i:i + step])
                    w.flush()
            else:
                half = len(body) // 2
                w.write(body[:half])
                w.flush()
                time.sleep(ans["body_delay_s"])
                w.write(body[half:])
                w.flush()
            return
        self._send(status, body, headers)


class TestCMS:
    """The test CMS; see the module docstring.  Also a context manager."""

    __test__ = False    # not a pytest test class

    def __init__(self, cert, key, host="127.0.0.1", client_ca=None, port=0, verbose=False,
                 idle_timeout_s=10, tls=None):
        self.cert, self.key, self.host, self.client_ca = cert, key, host, client_ca
        # TLS policy fault (None: a modern TLS 1.2/1.3 server): "tls10" / "tls11" (that
        # version only), "suite:NAME" (TLS 1.2 with that one OpenSSL suite), "static_rsa" (TLS 1.2, RSA key exchange suites only: give it
        # an RSA certificate), "legacy" (TLS 1.0-1.2 at OpenSSL security level 0, for a
        # certificate signed with SHA-1)
        self.tls = tls
        # a connection silent this long (idle keep-alive, or a stalled client) is
        # closed, with close_notify
        self.idle_timeout_s = idle_timeout_s
        self.port = port
        self.verbose = verbose
        self.requests = []          # POST /cms/card-status, in order
        self.portal_visits = []     # GET /portal
        self.tls_errors = []        # failed handshakes (e.g. client rejected our cert)
        self.connections = 0        # TLS connections accepted (handshake done)
        self.resumed_connections = 0    # ... of which resumed a TLS session
        self.route_requests = []    # requests answered by route()
        self.routes = {}            # (method, path) -> callable(req) -> answer
        self._scripts = {}
        self._live = set()          # open TLS connections
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._httpd = None
        self._thread = None

    #: TestCMS.with_pki() certificate choices -> make_pki() key prefixes
    CERTS = {"good": "server", "expired": "expired_server", "wronghost": "wronghost_server",
             "rogue": "rogue_server", "selfsigned": "selfsigned", "rsa": "rsa_server",
             "sha1": "sha1_server"}

    @classmethod
    def with_pki(cls, pki, cert="good", mtls=False, **kw):
        """A TestCMS (not started) serving one of make_pki()'s certificates: "good",
        "expired", "wronghost", "rogue" (unknown CA) or "selfsigned"; mtls=True requires
        a client certificate from the test CA."""
        name = cls.CERTS[cert]
        return cls(pki[name + "_cert"], pki[name + "_key"],
                   client_ca=pki["ca_cert"] if mtls else None, **kw)

    # ---- lifecycle ----

    def start(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        _tls_fault(ctx, self.tls)
        ctx.load_cert_chain(self.cert, self.key)
        if self.client_ca:
            ctx.verify_mode = ssl.CERT_REQUIRED
            ctx.load_verify_locations(self.client_ca)
        fam = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._httpd = _Server((self.host, self.port), _Handler, self, ctx, fam)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.05},
                                        name="testcms:%d" % self.port, daemon=True)
        self._thread.start()
        return self

    def stop(self):
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._thread.join(5)
            self._httpd = None

    def wait_no_connection(self, timeout=20.0):
        """Blocks until no connection is open (e.g. after idle_timeout_s closed a kept-alive
        one); raises TimeoutError."""
        end = time.monotonic() + timeout
        while True:
            with self._lock:
                if not self._live:
                    return
            if time.monotonic() >= end:
                raise TimeoutError("the test CMS still has %d open connections" % len(self._live))
            time.sleep(0.01)

    def drop_connections(self):
        """Closes every open connection (TCP FIN, no close_notify), as a server or a
        middlebox ending idle keep-alive connections does.  Returns how many."""
        with self._lock:
            live = list(self._live)
        for t in live:
            try:
                t.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        return len(live)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def origin(self):
        h = "[%s]" % self.host if ":" in self.host else self.host
        return "https://%s:%d" % (h, self.port)

    @property
    def url(self):
        """The cms.url to configure; the client appends "/card-status"."""
        return self.origin + BASE_PATH

    @property
    def portal_url(self):
        return self.origin + "/portal"

    # ---- scripting ----

    def script(self, match, answer):
        """Script the answer for cards matching `match`: a GUID hex string (lowercase),
        "cplc:<hex>", "atr:<hex>" or "*" (default).  answer=None removes the script."""
        m = match.lower()
        with self._lock:
            if answer is None:
                self._scripts.pop(m, None)
            else:
                self._scripts[m] = [list(answer), 0] if isinstance(answer, list) else answer

    def reset(self):
        """Forget every script and extra route (a SERAM remote agent's), and every
        recording: the CMS as just started, on the same port and certificate, for the
        next test of a long-lived rig.  Open connections are dropped."""
        with self._lock:
            self._scripts.clear()
            self.routes.clear()
            for lst in (self.requests, self.portal_visits, self.tls_errors,
                        self.route_requests):
                del lst[:]
        self.drop_connections()

    def route(self, method, path, fn):
        """Add an extra endpoint (e.g. SERAM): fn(request_dict) -> answer dict."""
        self.routes[(method.upper(), path)] = fn

    def pending(self, card_id,
                updates=(("certificate_renewal", "Your certificate expires soon"),),
                portal_url=None, recheck_after_s=3600, **extra):
        """A 200 answer with the given pending updates ((type, description) pairs);
        extra keys (e.g. agent={...}) are added to the JSON."""
        js = {"card_id": card_id,
              "pending": [{"id": "u%d" % (i + 1), "type": t, "description": d}
                          for i, (t, d) in enumerate(updates)],
              "portal_url": portal_url or self.portal_url,
              "recheck_after_s": recheck_after_s}
        js.update(extra)
        return {"status": 200, "json": js}

    def nothing_pending(self, card_id, **kw):
        return self.pending(card_id, updates=(), **kw)

    def wait_requests(self, n, timeout=5.0):
        """Block until at least n card-status requests arrived; returns a copy."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.requests) >= n, timeout):
                raise TimeoutError("CMS got %d requests, wanted %d" % (len(self.requests), n))
            return list(self.requests)

    def _lookup(self, body, req):
        card = body.get("card") if isinstance(body.get("card"), dict) else {}
        chuid = card.get("chuid") if isinstance(card.get("chuid"), dict) else {}
        keys = []
        if isinstance(chuid.get("guid"), str):
            keys.append(chuid["guid"].lower())
        if isinstance(card.get("cplc"), str):
            keys.append("cplc:" + card["cplc"].lower())
        if isinstance(card.get("atr"), str):
            keys.append("atr:" + card["atr"].lower())
        keys.append("*")
        with self._lock:
            for k in keys:
                if k in self._scripts:
                    ans = self._scripts[k]
                    if isinstance(ans, list):        # [answers, index]: a sequence
                        seq, i = ans
                        ans[1] = min(i + 1, len(seq) - 1)
                        return seq[i]
                    return ans
        return {"status": 404, "json": {"error": "unknown card"}}


# ---- TLS policy faults (issue 13 item 15) -------------------------------------------

def _tls_fault(ctx, mode):
    """Turns a server context into one of the outdated servers a client must refuse."""
    if mode is None:
        return
    # Debian's OpenSSL refuses TLS < 1.2 and SHA-1 below security level 0.
    if mode in ("tls10", "tls11"):
        v = ssl.TLSVersion.TLSv1 if mode == "tls10" else ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ctx.maximum_version = v
    elif mode == "static_rsa":
        ctx.set_ciphers("AES128-GCM-SHA256:AES256-GCM-SHA384:AES128-SHA256:AES128-SHA"
                        ":@SECLEVEL=0")
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif mode.startswith("suite:"):       # TLS 1.2 with exactly this OpenSSL suite
        ctx.set_ciphers(mode[6:])
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    elif mode == "legacy":
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.minimum_version = ssl.TLSVersion.TLSv1
    else:
        raise ValueError("unknown TLS fault mode %r" % (mode,))


class HelloServer:
    """A TLS server that answers every ClientHello with a ServerHello of its own choice
    of version and cipher suite, whatever the client offered, and then says nothing
    more: a misconfigured or hostile server choosing what a client must refuse (for
    what OpenSSL here cannot serve, e.g. 3DES, or will not choose, e.g. a suite the
    client did not offer).  hellos counts the ClientHellos seen.

        with HelloServer(version=0x0303, suite=0xC008) as srv:   # ECDHE_ECDSA 3DES
            srv.url   # "https://127.0.0.1:PORT/cms"
    """

    SUITES = {"3des": 0xC008,          # TLS_ECDHE_ECDSA_WITH_3DES_EDE_CBC_SHA
              "3des_rsa": 0x000A,      # TLS_RSA_WITH_3DES_EDE_CBC_SHA
              "static_rsa": 0x009C,    # TLS_RSA_WITH_AES_128_GCM_SHA256
              "cbc": 0xC009,           # TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
              "good": 0xC02B}          # TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256

    def __init__(self, version=0x0303, suite=0xC02B, host="127.0.0.1"):
        self.version = version
        self.suite = self.SUITES.get(suite, suite)
        self.host = host
        self.hellos = 0
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, 0))
        self._sock.listen(8)
        self._sock.settimeout(0.1)
        self.port = self._sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = None

    @property
    def origin(self):
        return "https://%s:%d" % (self.host, self.port)

    @property
    def url(self):
        return self.origin + BASE_PATH

    def start(self):
        self._thread = threading.Thread(target=self._serve, daemon=True,
                                        name="hello:%d" % self.port)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._sock.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def _hello(self):
        body = struct.pack(">H", self.version) + os.urandom(32) + b"\x00" + \
            struct.pack(">HB", self.suite, 0)
        hs = b"\x02" + struct.pack(">I", len(body))[1:] + body
        return b"\x16" + struct.pack(">HH", self.version, len(hs)) + hs

    def _serve(self):
        while not self._stop.is_set():
            try:
                c, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            with c:
                c.settimeout(2.0)
                try:
                    head = c.recv(5)
                    if len(head) == 5 and head[0] == 22:
                        self.hellos += 1
                        c.sendall(self._hello())
                        c.recv(4096)      # the client's alert or close
                except OSError:
                    pass


# ---- CLI for `make demo` ------------------------------------------------------------

def _demo_answer(cms):
    def answer(req):
        card = req["json"].get("card") or {}
        ident = ((card.get("chuid") or {}).get("guid") or card.get("cplc")
                 or card.get("atr") or "unknown")
        card_id = "card-" + hashlib.sha256(str(ident).encode()).hexdigest()[:12]
        return cms.pending(card_id, updates=[
            ("certificate_renewal", "Your PIV authentication certificate expires soon"),
            ("credential_add", "A new Wi-Fi certificate is ready for your card"),
            ("card_unlock", "Reset your PIN retry counter"),
        ])
    return answer


def main(argv=None):
    ap = argparse.ArgumentParser(description="cardupd test CMS (cardupd-cms/1)")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--client-ca")
    ap.add_argument("--pending-for-all", action="store_true",
                    help="answer every card with three pending updates")
    a = ap.parse_args(argv)
    cms = TestCMS(a.cert, a.key, host=a.host, client_ca=a.client_ca, port=a.port,
                  verbose=True)
    if a.pending_for_all:
        cms.script("*", _demo_answer(cms))
    cms.start()
    print("testcms: url %s  portal %s" % (cms.url, cms.portal_url), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    cms.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
