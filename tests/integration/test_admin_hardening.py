# SPDX-License-Identifier: BSD-2-Clause
"""The admin listener against a hostile LAN (issue 13, items 1-9): settings that name
files, the anchors upload, the lock-out and its audit trail, password resets, the login
pages' claims, and connections held open. Each test failed on the main of the day the
issue was filed."""

import crypt
import os
import re
import shutil
import signal
import socket
import threading
import time

import pytest

from test_admin import PASSWORD, Admin, log_value, make_admin, anchors  # noqa: F401


def token_of(a):
    s, js = a.post("/api/v1/admin/tokens", {"name": "fleet"})
    assert s == 201, js
    return js["token"]


# ---- 1, 2: settings that name files ------------------------------------------------

def test_path_settings_stay_in_the_configuration_directory(make_admin, tmp_path, pki):
    d, a = make_admin()
    before = open(d.conf_path, "rb").read()
    # A FIFO: refused at once (never opened blocking), the kiosk answering meanwhile.
    fifo = tmp_path / "trap.pem"
    os.mkfifo(fifo)
    t0 = time.monotonic()
    s, js = a.settings({"cms.trust_anchors": str(fifo)})
    assert time.monotonic() - t0 < 5
    assert s == 422 and "regular file" in js["errors"]["cms.trust_anchors"], js
    assert d.state()["readers"] is not None
    # A good CA file outside the configuration directory: refused too.
    outside = tmp_path.parent / ("outside-%d.pem" % os.getpid())
    shutil.copy(pki["ca_cert"], outside)
    try:
        for key in ("cms.trust_anchors", "cms.client_cert", "admin.tls_cert"):
            s, js = a.settings({key: str(outside)})
            assert s == 422 and "configuration directory" in js["errors"][key], (key, js)
        s, js = a.settings({"admin.state_dir": "/tmp"})
        assert s == 422 and "configuration directory" in js["errors"]["admin.state_dir"]
        s, js = a.settings({"cms.trust_anchors": str(tmp_path / ".." / outside.name)})
        assert s == 422, js
    finally:
        outside.unlink()
    assert open(d.conf_path, "rb").read() == before
    # Inside it, a file of the right kind is fine.
    inside = tmp_path / "other-ca.pem"
    shutil.copy(pki["ca_cert"], inside)
    s, js = a.settings({"cms.trust_anchors": str(inside)})
    assert s == 200, js


def test_api_tokens_cannot_change_paths(make_admin, tmp_path):
    """The attack of item 2: a token points cms.trust_anchors at the admin certificate
    and uploads a CA over it, so that the next start fails."""
    d, a = make_admin()
    tok = token_of(a)
    anon = Admin(a.port, a.fingerprint)
    cert = tmp_path / "admin" / "admin-cert.pem"
    original = open(cert, "rb").read()
    for key, value in (("cms.trust_anchors", str(cert)),
                       ("cms.client_cert", str(cert)),
                       ("admin.state_dir", str(tmp_path / "elsewhere"))):
        s, _, js = anon.request("POST", "/api/v1/admin/settings",
                                body={"values": {key: value}}, auth=tok)
        assert s == 422 and "logged-in administrator" in js["errors"][key], (key, js)
    # What a token may change is shown to it as such.
    s, _, js = anon.request("GET", "/api/v1/admin/settings", auth=tok)
    editable = {k["name"]: k["editable"] for k in js["keys"]}
    assert editable["cms.trust_anchors"] is False and editable["log.level"] is True
    assert editable["hooks.on_prompt"] is False
    assert open(cert, "rb").read() == original


def test_upload_goes_to_the_one_anchors_file(make_admin, tmp_path, pki, anchors):
    d, a = make_admin()
    # The configuration names another file (in the configuration directory).
    other = tmp_path / "other-ca.pem"
    shutil.copy(pki["ca_cert"], other)
    os.unlink(anchors)
    s, js = a.settings({"cms.trust_anchors": str(other)})
    assert s == 200, js
    a.wait_status(lambda st: st["anchors"] and True, what="anchors listed")
    kept = open(other, "rb").read()
    both = kept + open(pki["rogue_ca_cert"], "rb").read()
    s, _, js = a.request("POST", "/api/v1/admin/anchors", raw=both,
                         ctype="application/x-pem-file")
    assert s == 200 and js["anchors"] == 2, js
    assert open(other, "rb").read() == kept           # never written
    fixed = tmp_path / "cms-ca.pem"
    assert open(fixed, "rb").read() == both
    assert js["path"] == str(fixed)
    end = time.monotonic() + 30
    while a.get("/api/v1/admin/settings")[1]["values"]["cms.trust_anchors"] != str(fixed):
        assert time.monotonic() < end, d.log()[-2000:]
        time.sleep(0.05)
    assert "cms.trust_anchors" in a.request("GET", "/api/v1/admin/audit")[2].decode()


# ---- 3, 4, 5: guessing, its trail, the password form ------------------------------------

def test_password_change_waits_like_login(make_admin):
    d, a = make_admin()
    b = Admin(a.port, a.fingerprint)
    for i in range(5):
        assert b.login("guess %d" % i)[0] == 401
    assert b.login()[0] == 429
    # The session's password form is a guessing door too: same source, same wait.
    s, js = a.post("/api/v1/admin/password", {"current": PASSWORD, "new": "a new passphrase"})
    assert s == 429, js
    assert js["retry_after_s"] > 0
    assert Admin(a.port, a.fingerprint).login("a new passphrase")[0] in (401, 429)


def test_password_form_failures_count(make_admin):
    d, a = make_admin()
    for i in range(5):
        s, js = a.post("/api/v1/admin/password", {"current": "guess %d xx" % i,
                                                  "new": "a new passphrase"})
        assert s == 403, (i, js)
    s, js = a.post("/api/v1/admin/password", {"current": PASSWORD, "new": "a new passphrase"})
    assert s == 429, js


def test_audit_log_survives_anonymous_volume(make_admin, tmp_path):
    """Item 4: bad guesses from the network neither rotate earlier records away nor
    write a line each; refusals during a lock-out are logged once."""
    state = tmp_path / "admin"
    state.mkdir(mode=0o700)
    log = state / "audit.log"
    marker = "2026-01-01T00:00:00Z 10.0.0.1 admin setting the record that must stay\n"
    filler = "2026-01-01T00:00:01Z 10.0.0.1 admin setting %s\n" % ("x" * 60)
    with open(log, "w") as f:
        f.write(marker)
        while f.tell() < 256 * 1024 - 400:
            f.write(filler)
    os.chmod(log, 0o600)
    d, a = make_admin()             # the setup record still fits
    b = Admin(a.port, a.fingerprint)
    for i in range(8):
        assert b.login("guess %d" % i)[0] in (401, 429)
    for i in range(40):
        assert b.login("guess again %d" % i)[0] == 429
    assert not os.path.exists(str(log) + ".1"), "rotated by unauthenticated volume"
    text = open(log).read()
    assert text.startswith(marker)
    assert os.path.getsize(log) <= 256 * 1024
    # The administrator's own records may rotate; the count of what was not written
    # comes with them.
    a.settings({"log.level": "info"})
    assert os.path.exists(str(log) + ".1")
    text = open(str(log) + ".1").read() + open(log).read()
    assert text.startswith(marker)
    assert "anon_not_recorded" in text
    assert text.count("login_locked") <= 1


def test_lockout_refusals_logged_once(make_admin):
    d, a = make_admin()
    b = Admin(a.port, a.fingerprint)
    for i in range(5):
        assert b.login("guess %d" % i)[0] == 401
    for i in range(30):
        assert b.login("guess again %d" % i)[0] == 429
    audit = a.request("GET", "/api/v1/admin/audit")[2].decode()
    assert audit.count("login_locked") == 1, audit
    assert "further attempts meanwhile are counted" in audit


# ---- 6: a password reset in the file ---------------------------------------------------

def set_hash(d, value):
    text = open(d.conf_path).read()
    text, n = re.subn(r"(?m)^password_hash = .*$", "password_hash = " + value, text)
    assert n == 1
    with open(d.conf_path, "w") as f:
        f.write(text)
    d.signal(signal.SIGHUP)


def test_new_hash_in_the_file_ends_sessions(make_admin):
    d, a = make_admin()
    assert a.get("/api/v1/admin/status")[0] == 200
    set_hash(d, crypt.crypt("another passphrase", crypt.mksalt(crypt.METHOD_SHA512)))
    log_value(d, r"(the password hash changed)")
    assert a.get("/api/v1/admin/status")[0] == 401
    b = Admin(a.port, a.fingerprint)
    assert b.login()[0] == 401
    assert b.login("another passphrase")[0] == 200


def test_emptied_hash_makes_a_new_setup_code(make_admin):
    d, a = make_admin()
    first = log_value(d, r"setup code ([0-9A-Z-]{14})")
    set_hash(d, "")
    code = log_value(d, r"new setup code ([0-9A-Z-]{14})")
    assert code != first
    assert a.get("/api/v1/admin/status")[0] == 401
    b = Admin(a.port, a.fingerprint)
    assert b.get("/api/v1/admin/info")[1]["setup_needed"] is True
    assert b.setup(first)[0] == 401
    assert b.setup(code)[0] == 200


# ---- 8: what the pages claim -------------------------------------------------------------

def test_login_pages_do_not_claim_proof(make_admin):
    d, a = make_admin(setup=False)
    page = a.request("GET", "/")[2].decode()
    assert "Check that this page's certificate has" not in page
    assert "cannot prove" in page and "certificate viewer" in page
    assert "kiosk screen" in page


# ---- 9: connections held open ---------------------------------------------------------------

def test_idle_connections_make_room(make_admin):
    d, a = make_admin()
    hogs = []
    try:
        # three addresses, six connections each (the per-address limit): more than the
        # 16 the listener takes, none of them ever starting TLS
        for host in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
            for _ in range(6):
                s = socket.socket()
                s.bind((host, 0))
                s.settimeout(5)
                s.connect(("127.0.0.1", a.port))
                hogs.append(s)
        time.sleep(0.2)     # (nothing to wait on: MHD has accepted them or not)
        t0 = time.monotonic()
        s, js = a.get("/api/v1/admin/status")
        assert s == 200, js
        assert time.monotonic() - t0 < 5
        assert "makes room" in d.log()
    finally:
        for h in hogs:
            h.close()


# ---- 2: the admin listener failing at start-up ----------------------------------------

def admin_prereq(st):
    return [p for p in st["prerequisites"] if p["id"] == "admin"]


def test_admin_start_failure_keeps_the_kiosk(make_daemon, tmp_path, pki, pcscd, cms, cards):
    """A port taken by another program, or a key that is not the certificate's: the
    kiosk goes on, and its state says why the administration is not there."""
    from daemon import free_port
    from test_admin import GUID
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    try:
        port = busy.getsockname()[1]
        d = make_daemon(conf={"admin": {"listen": "127.0.0.1:%d" % port,
                                        "state_dir": str(tmp_path / "admin")}})
        pre = admin_prereq(d.state())
        assert pre and pre[0]["ok"] is False, d.state()
        assert "cannot listen on 127.0.0.1:%d" % port in pre[0]["detail"]
        assert "kiosk goes on" in d.log()
        # the kiosk does its work
        cms.script(GUID, cms.pending("card-k"))
        cards().insert(pcscd.port)
        d.wait_phase(pcscd.reader_names[0], "prompt")
    finally:
        busy.close()
    d.stop()
    # The attack of issue 13 item 2 done by hand: the admin certificate is not the key's.
    d.write_config({"admin": {"listen": "127.0.0.1:%d" % free_port(),
                              "tls_cert": pki["server_cert"], "tls_key": pki["ca_key"],
                              "state_dir": str(tmp_path / "admin")}})
    d.start()
    pre = admin_prereq(d.state())
    assert pre and "do not match" in pre[0]["detail"], d.state()
