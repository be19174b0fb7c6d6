# SPDX-License-Identifier: BSD-2-Clause
"""Remote administration (SPEC §6, issue 6) on the real rig: the daemon's own HTTPS
listener with its self-signed certificate (pinned here by the SHA-256 fingerprint it
logs), the setup code, login and logout, a settings change applied live, trust anchor
uploads, API tokens and /metrics, actions and the audit log.

The Admin client below is also used by test_admin_security.py and test_admin_cli.py."""

import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import stat
import time

import pytest

from daemon import free_port
from vcard import DEFAULT_GUID

GUID = DEFAULT_GUID.hex()
PASSWORD = "correct horse battery"


class Admin:
    """An HTTPS client of the admin listener that pins the certificate by the
    fingerprint the daemon logged, and keeps the session cookie and CSRF token."""

    def __init__(self, port, fingerprint):
        self.port = port
        self.fingerprint = fingerprint
        self.cookie = None
        self.csrf = None
        self.last_set_cookie = None

    def context(self):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE     # self-signed: pinned below instead
        return ctx

    def connect(self):
        c = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.context(),
                                        timeout=10)
        c.connect()
        der = c.sock.getpeercert(binary_form=True)
        got = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
        assert got == self.fingerprint, "certificate is not the one the daemon logged"
        return c

    def request(self, method, path, body=None, headers=None, raw=None, ctype=None,
                csrf=True, cookie=None, auth=None):
        h = {}
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        if ctype:
            h["Content-Type"] = ctype
        ck = cookie if cookie is not None else self.cookie
        if ck:
            h["Cookie"] = "__Host-cardupd=" + ck
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        if auth:
            h["Authorization"] = "Bearer " + auth
        h.update(headers or {})
        c = self.connect()
        try:
            c.request(method, path, body=data, headers=h)
            r = c.getresponse()
            status, hdrs, payload = r.status, r.headers, r.read()
        finally:
            c.close()
        sc = hdrs.get("Set-Cookie")
        if sc:
            self.last_set_cookie = sc
            m = re.match(r"__Host-cardupd=([^;]*)", sc)
            if m:
                self.cookie = m.group(1) or None
        if hdrs.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(payload)
        return status, hdrs, payload

    def get(self, path, **kw):
        s, _, js = self.request("GET", path, **kw)
        return s, js

    def post(self, path, body=None, **kw):
        s, _, js = self.request("POST", path, body if body is not None else {}, **kw)
        return s, js

    def setup(self, code, password=PASSWORD):
        s, js = self.post("/api/v1/admin/setup", {"code": code, "password": password})
        if s == 200:
            self.csrf = js["csrf"]
        return s, js

    def login(self, password=PASSWORD):
        s, js = self.post("/api/v1/admin/login", {"password": password})
        if s == 200:
            self.csrf = js["csrf"]
        return s, js

    def settings(self, values):
        return self.post("/api/v1/admin/settings", {"values": values})

    def status(self):
        s, js = self.get("/api/v1/admin/status")
        assert s == 200, js
        return js

    def wait_status(self, pred, timeout=30.0, what="condition"):
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            last = self.status()
            if pred(last):
                return last
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s: %s" % (what, json.dumps(last)))


RELOADED = "admin: configuration reloaded"


def wait_reloads(daemon, n, timeout=20.0):
    """Waits until the main loop has logged n configuration reloads (a wait on the
    daemon's state, not on time)."""
    end = time.monotonic() + timeout
    while daemon.log().count(RELOADED) < n:
        assert time.monotonic() < end, "fewer than %d reloads:\n%s" % (n, daemon.log()[-3000:])
        time.sleep(0.02)


def log_value(daemon, pattern, timeout=5.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        m = re.search(pattern, daemon.log())
        if m:
            return m.group(1)
        time.sleep(0.02)
    raise AssertionError("%r not in the log:\n%s" % (pattern, daemon.log()[-3000:]))


def closed_within(s, limit):
    """Seconds until the server closed s (at most a TLS alert record before the end),
    or None when it is still open after limit seconds."""
    t0 = time.monotonic()
    s.settimeout(limit)
    got = b""
    try:
        while True:
            b = s.recv(64)
            if not b:
                break
            got += b
            assert len(got) <= 64 and got[:1] == b"\x15", got
    except socket.timeout:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - t0


def read_all(t):
    """Everything the server sends on t until it closes (a reset or a TLS error ends
    it too)."""
    out = b""
    while True:
        try:
            chunk = t.recv(65536)
        except (ssl.SSLError, ConnectionResetError):
            break
        if not chunk:
            break
        out += chunk
    return out


@pytest.fixture
def anchors(tmp_path, pki):
    """A private copy of the CA file: uploads replace it, not the session's PKI. It is
    the configuration directory's cms-ca.pem, the one file uploads write."""
    p = tmp_path / "cms-ca.pem"
    shutil.copy(pki["ca_cert"], p)
    return str(p)


@pytest.fixture
def make_admin(make_daemon, tmp_path, anchors):
    """make_admin(setup=True, conf=None) -> (daemon, Admin), with the admin listener on
    a free port, its state in tmp_path/admin; setup=True sets PASSWORD and logs in."""
    def make(setup=True, conf=None):
        port = free_port()
        c = {"admin": {"listen": "127.0.0.1:%d" % port,
                       "state_dir": str(tmp_path / "admin")}}
        for s, kv in (conf or {}).items():
            c.setdefault(s, {}).update(kv)
        d = make_daemon(conf=c, anchors=anchors)
        fpr = log_value(d, r"certificate SHA-256 ([0-9A-F:]{95})")
        a = Admin(port, fpr)
        a.daemon = d
        if setup:
            code = log_value(d, r"setup code ([0-9A-Z-]{14})")
            s, js = a.setup(code)
            assert s == 200, js
        return d, a
    return make


def reader0(pcscd):
    return pcscd.reader_names[0]


# ---- access -------------------------------------------------------------------------

def test_setup_code_then_password(make_admin, tmp_path):
    d, a = make_admin(setup=False)
    log = d.log()
    code = log_value(d, r"setup code ([0-9A-Z-]{14})")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){2}", code)
    # The self-signed key is private to the daemon's user; its fingerprint is in the
    # log and on the setup page.
    key = tmp_path / "admin" / "admin-key.pem"
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    assert "BEGIN" not in log
    s, info = a.get("/api/v1/admin/info")
    assert s == 200 and info["setup_needed"] is True
    assert info["fingerprint"] == a.fingerprint
    # Nothing without a password or the code.
    assert a.login("anything at all")[0] == 401
    assert a.setup("AAAA-BBBB-CCCC")[0] == 401
    assert a.setup(code, "short")[0] == 422
    s, js = a.setup(code.lower().replace("-", " "))       # typed as people type
    assert s == 200, js
    sc = a.last_set_cookie
    for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"):
        assert flag in sc, sc
    assert a.status()["device"] == "test-kiosk"
    # The hash went to the config file, in yescrypt, and the code is spent.
    conf = open(d.conf_path).read()
    assert re.search(r"password_hash = \$y\$\S+", conf)
    assert PASSWORD not in conf
    assert stat.S_IMODE(os.stat(d.conf_path).st_mode) & 0o007 == 0
    assert a.get("/api/v1/admin/info")[1]["setup_needed"] is False
    assert Admin(a.port, a.fingerprint).setup(code)[0] == 409
    # A restart keeps the certificate and the password; no new setup code.
    d.stop()
    open(d.log_path, "w").close()
    d.start()
    assert log_value(d, r"certificate SHA-256 ([0-9A-F:]{95})") == a.fingerprint
    assert "setup code" not in d.log()
    b = Admin(a.port, a.fingerprint)
    assert b.login()[0] == 200


def test_login_logout(make_admin):
    d, a = make_admin()
    b = Admin(a.port, a.fingerprint)
    assert b.get("/api/v1/admin/status")[0] == 401
    assert b.login("wrong password")[0] == 401
    assert b.login()[0] == 200
    assert b.get("/api/v1/admin/status")[0] == 200
    old = b.cookie
    s, js = b.post("/api/v1/admin/logout")
    assert s == 200, js
    assert "Max-Age=0" in b.last_set_cookie
    assert b.get("/api/v1/admin/status", cookie=old)[0] == 401
    # the other session is untouched
    assert a.get("/api/v1/admin/status")[0] == 200


def test_password_change_ends_sessions(make_admin):
    d, a = make_admin()
    b = Admin(a.port, a.fingerprint)
    assert b.login()[0] == 200
    s, js = a.post("/api/v1/admin/password", {"current": "nope nope nope", "new": "x" * 12})
    assert s == 403
    s, js = a.post("/api/v1/admin/password", {"current": PASSWORD, "new": "a new passphrase"})
    assert s == 200, js
    a.csrf = js["csrf"]
    assert b.get("/api/v1/admin/status")[0] == 401        # ended
    assert a.get("/api/v1/admin/status")[0] == 200        # fresh session
    assert Admin(a.port, a.fingerprint).login()[0] == 401
    assert Admin(a.port, a.fingerprint).login("a new passphrase")[0] == 200


# ---- settings -----------------------------------------------------------------------

def test_settings_change_applied_live(make_admin, pcscd, cms, cards):
    d, a = make_admin()
    s, js = a.get("/api/v1/admin/settings")
    assert s == 200
    assert js["values"]["kiosk.prompt_timeout_s"] == "60"
    assert js["values"]["cms.url"] == cms.url
    names = {k["name"] for k in js["keys"]}
    for k in ("device.id", "cms.url", "cms.trust_anchors", "cms.portal_origins",
              "cms.timeout_ms", "cms.retries", "cms.client_cert", "cms.client_key",
              "kiosk.listen", "kiosk.prompt_timeout_s", "kiosk.readers", "admin.listen",
              "admin.tls_cert", "admin.tls_key", "hooks.on_prompt", "hooks.on_proceed",
              "hooks.on_session_end", "log.level", "log.syslog"):
        assert k in names, k

    before = open(d.conf_path).read()
    s, js = a.settings({"kiosk.prompt_timeout_s": "20", "cms.timeout_ms": "2500"})
    assert s == 200, js
    assert sorted(js["changed"]) == ["cms.timeout_ms", "kiosk.prompt_timeout_s"]
    after = open(d.conf_path).read()
    assert "prompt_timeout_s = 20" in after and "timeout_ms = 2500" in after
    assert after.count("[kiosk]") == 1
    assert before.splitlines()[0] == after.splitlines()[0]
    assert not os.path.exists(d.conf_path + ".tmp")

    # Applied without a restart: the next prompt has the new timeout.
    end = time.monotonic() + 30
    while a.get("/api/v1/admin/settings")[1]["values"]["kiosk.prompt_timeout_s"] != "20":
        assert time.monotonic() < end, d.log()[-2000:]
        time.sleep(0.05)
    cms.script(GUID, cms.pending("card-a"))
    cards().insert(pcscd.port)
    r = d.wait_phase(reader0(pcscd), "prompt")
    assert 0 < r["prompt"]["expires_in_s"] <= 20
    assert "admin: configuration reloaded" in d.log()


def test_settings_bad_value_changes_nothing(make_admin):
    d, a = make_admin()
    before = open(d.conf_path, "rb").read()
    s, js = a.settings({"kiosk.prompt_timeout_s": "2", "cms.url": "http://plain.example",
                        "log.level": "debug"})
    assert s == 422, js
    assert "out of range" in js["errors"]["kiosk.prompt_timeout_s"]
    assert "https" in js["errors"]["cms.url"]
    assert open(d.conf_path, "rb").read() == before
    # A value that would smuggle another key in is refused outright.
    s, js = a.settings({"device.id": "x\n[admin]\npassword_hash = $y$evil"})
    assert s == 422 and "device.id" in js["errors"]
    s, js = a.settings({"no.such": "1"})
    assert s == 422 and "no.such" in js["errors"]
    # Anchors that do not load are refused before the file is touched.
    s, js = a.settings({"cms.trust_anchors": "/nonexistent/ca.pem"})
    assert s == 422 and "cms.trust_anchors" in js["errors"], js
    # Hooks run commands: read-only from the network by default.
    s, js = a.settings({"hooks.on_prompt": "touch /tmp/pwned"})
    assert s == 422 and "hooks.on_prompt" in js["errors"]
    assert open(d.conf_path, "rb").read() == before
    s, js = a.get("/api/v1/admin/settings")
    assert js["values"]["kiosk.prompt_timeout_s"] == "60"


# ---- trust anchors ------------------------------------------------------------------

def test_anchor_upload_good_and_bad(make_admin, pcscd, cms, cards, pki, anchors):
    d, a = make_admin()
    s, js = a.get("/api/v1/admin/anchors")
    assert s == 200 and len(js["anchors"]) == 1
    assert "cardupd test CA" in js["anchors"][0]["subject"]
    original = open(anchors, "rb").read()

    for bad, why in ((b"not a certificate at all", "PEM"),
                     (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", ""),
                     (open(pki["ca_key"], "rb").read(), "CERTIFICATE"),
                     (b"", "empty")):
        s, _, js = a.request("POST", "/api/v1/admin/anchors", raw=bad,
                             ctype="application/x-pem-file")
        assert s == 422, (bad[:30], js)
        assert why in js["error"], js
        assert open(anchors, "rb").read() == original
    s, _, js = a.request("POST", "/api/v1/admin/anchors", raw=original, ctype="text/plain")
    assert s == 415

    # Only the rogue CA: the real CMS is no longer trusted.
    rogue = open(pki["rogue_ca_cert"], "rb").read()
    reloads = d.log().count(RELOADED)
    s, _, js = a.request("POST", "/api/v1/admin/anchors", raw=rogue,
                         ctype="application/x-pem-file")
    assert s == 200 and js["anchors"] == 1, js
    assert open(anchors, "rb").read() == rogue
    a.wait_status(lambda st: any("rogue" in x["subject"] for x in st["anchors"]),
                  what="rogue anchor listed")
    wait_reloads(d, reloads + 1)    # the reload runs on the main loop
    cms.script(GUID, cms.nothing_pending("card-b"))
    cards().insert(pcscd.port)
    r = d.wait_phase(reader0(pcscd), "check_failed")
    assert r["code"] == "tls_untrusted"

    # Both CAs: a manual check from the admin page goes through again.
    reloads = d.log().count(RELOADED)
    s, _, js = a.request("POST", "/api/v1/admin/anchors", raw=original + rogue,
                         ctype="application/x-pem-file")
    assert s == 200 and js["anchors"] == 2, js
    wait_reloads(d, reloads + 1)
    s, js = a.post("/api/v1/admin/check", {"reader": reader0(pcscd)})
    assert s == 202, js
    d.wait_phase(reader0(pcscd), "up_to_date")


# ---- fleets: tokens and metrics --------------------------------------------------------

def test_tokens_and_metrics(make_admin, pcscd, cms, cards):
    d, a = make_admin()
    cms.script(GUID, cms.nothing_pending("card-m"))
    cards().insert(pcscd.port)
    d.wait_phase(reader0(pcscd), "up_to_date")

    s, js = a.post("/api/v1/admin/tokens", {"name": "prometheus"})
    assert s == 201, js
    tok, tid = js["token"], js["id"]
    assert tok.startswith("cdt_")
    state_tokens = open(os.path.join(os.path.dirname(d.conf_path), "admin", "tokens")).read()
    assert tok not in state_tokens and tok[4:] not in state_tokens
    assert tid in state_tokens

    anon = Admin(a.port, a.fingerprint)
    assert anon.request("GET", "/metrics")[0] == 401
    assert anon.request("GET", "/metrics", auth="cdt_" + "A" * 43)[0] == 401
    s, hdrs, body = anon.request("GET", "/metrics", auth=tok)
    assert s == 200
    assert hdrs["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    assert 'cardupd_checks_total{result="none"} 1' in text
    assert "cardupd_card_insertions_total 1" in text
    assert 'cardupd_check_duration_seconds_bucket{le="+Inf"} 1' in text
    assert 'cardupd_tls_handshakes_total{kind="full"} 1' in text
    assert 'cardupd_prompts_total{event="shown"} 0' in text
    assert "cardupd_pcscd_reconnects_total 0" in text
    # the session may scrape too
    assert a.request("GET", "/metrics")[0] == 200
    # A token reads status and settings and starts checks, with no CSRF token...
    s, _, js = anon.request("GET", "/api/v1/admin/status", auth=tok)
    assert s == 200 and js["readers"][0]["name"] == reader0(pcscd)
    assert js["checks"][0]["result"] == "none"
    s, _, js = anon.request("POST", "/api/v1/admin/check", body={"reader": reader0(pcscd)},
                            auth=tok)
    assert s == 202, js
    s, _, js = anon.request("POST", "/api/v1/admin/settings",
                            body={"values": {"log.level": "info"}}, auth=tok)
    assert s == 200, js
    # ...but manages no credentials.
    s, _, js = anon.request("POST", "/api/v1/admin/tokens", body={"name": "x"}, auth=tok)
    assert s == 403
    s, _, js = anon.request("GET", "/api/v1/admin/audit", auth=tok)
    assert s == 403
    s, _, js = a.request("DELETE", "/api/v1/admin/tokens/" + tid)
    assert s == 200, js
    assert anon.request("GET", "/metrics", auth=tok)[0] == 401


# ---- actions and audit ----------------------------------------------------------------

def test_actions_check_and_reconnect(make_admin, pcscd, cms, cards):
    d, a = make_admin()
    r0 = reader0(pcscd)
    s, js = a.post("/api/v1/admin/check", {"reader": r0})
    assert s == 409                                     # no card
    s, js = a.post("/api/v1/admin/check", {"reader": "no such reader"})
    assert s == 404
    cms.script(GUID, cms.pending("card-c", updates=[("card_unlock", "Unlock <b>now</b>")]))
    cards().insert(pcscd.port)
    d.wait_phase(r0, "prompt")
    st = a.wait_status(lambda st: st["readers"] and st["readers"][0]["phase"] == "prompt")
    assert st["readers"][0]["updates"][0]["description"] == "Unlock <b>now</b>"
    cms.script(GUID, cms.nothing_pending("card-c"))
    d.post("/api/v1/prompt/close", {"reader": r0, "prompt": d.reader(r0)["prompt"]["id"]})
    s, js = a.post("/api/v1/admin/check", {"reader": r0})
    assert s == 202, js
    r = d.wait_for(lambda st: st["readers"][0]["message"], what="manual check message")
    assert r["readers"][0]["phase"] == "up_to_date"
    # Reconnect: the watcher is restarted and the readers come back.
    s, js = a.post("/api/v1/admin/reconnect")
    assert s == 202
    a.wait_status(lambda st: st["counters"]["pcscd_reconnects"] >= 1 and st["readers"] and
                  st["readers"][0]["card"] == "present", what="reconnected")
    assert "reconnecting to pcscd (admin" in d.log()


def test_audit_log_persisted(make_admin, tmp_path):
    d, a = make_admin()
    Admin(a.port, a.fingerprint).login("wrong password")
    a.settings({"log.level": "info"})
    s, _, text = a.request("GET", "/api/v1/admin/audit")
    assert s == 200
    text = text.decode()
    lines = text.strip().splitlines()
    assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1 admin setup ", lines[0])
    assert " login_failed wrong password" in text
    assert 'admin setting log.level: "debug" -> "info"' in text
    # Kept across a restart, appended to.
    d.stop()
    d.start()
    b = Admin(a.port, a.fingerprint)
    assert b.login()[0] == 200
    text2 = b.request("GET", "/api/v1/admin/audit")[2].decode()
    assert text2.startswith(text)
    assert text2.rstrip().endswith("admin login logged in")
    path = tmp_path / "admin" / "audit.log"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_admin_off_by_default(daemon):
    """No admin.listen: no listener, no setup code (the kiosk is all there is)."""
    assert "admin:" not in daemon.log()
    assert "setup code" not in daemon.log()
