# SPDX-License-Identifier: BSD-2-Clause
"""End to end on the real rig: private pcscd + vpcd, scripted card, TLS test CMS,
cardupd itself. Issue 2's three journeys plus the daemon's refusal of bad input."""

import json
import os
import signal
import subprocess
import time

from vcard import DEFAULT_GUID

GUID = DEFAULT_GUID.hex()


def reader0(pcscd):
    return pcscd.reader_names[0]


def test_pending_update_prompt_proceed_remove(daemon, pcscd, cms, cards):
    """(1) PIV card in → phase prompt with the CMS's updates → proceed gives the portal
    URL → card out → idle."""
    cms.script(GUID, cms.pending("card-1", updates=[
        ("certificate_renewal", "Your PIV authentication certificate expires on 1 Dec"),
        ("card_unlock", "Unlock after 3 wrong PINs")]))
    r0 = reader0(pcscd)
    card = cards()
    card.insert(pcscd.port)
    r = daemon.wait_phase(r0, "prompt")
    assert r["card"] == "present"
    p = r["prompt"]
    assert [u["type"] for u in p["updates"]] == ["certificate_renewal", "card_unlock"]
    assert p["updates"][0]["description"].startswith("Your PIV authentication")
    assert 0 < p["expires_in_s"] <= 60
    assert p["manual"] is False

    # What the CMS was asked (SPEC §2).
    req = cms.wait_requests(1)[0]
    body = req["json"]
    assert req["path"] == "/cms/card-status"
    assert body["protocol"] == "cardupd-cms/1"
    assert body["trigger"] == "insertion"
    assert body["reader"] == r0
    assert body["device"]["id"] == "test-kiosk"
    assert body["card"]["chuid"]["guid"] == GUID
    assert len(body["card"]["chuid"]["fascn"]) == 50
    assert body["card"]["atr"] == card.atr.hex()
    assert req["headers"]["User-Agent"].startswith("cardupd/")

    # The full GUID never reaches the log.
    assert GUID not in daemon.log()

    # A wrong prompt id is refused; the right one gives the portal URL.
    status, js = daemon.post("/api/v1/prompt/proceed", {"reader": r0, "prompt": "p999"})
    assert status == 409
    status, js = daemon.post("/api/v1/prompt/proceed", {"reader": r0, "prompt": p["id"]})
    assert status == 200, js
    assert js["portal_url"] == cms.portal_url
    daemon.wait_phase(r0, "portal")

    card.remove()
    r = daemon.wait_phase(r0, "idle")
    assert r["card"] == "absent"
    assert r["prompt"] is None


def test_nothing_pending_no_prompt(daemon, pcscd, cms, cards):
    """(2) A card the CMS has nothing for: checked, no prompt, nothing shown."""
    cms.script(GUID, cms.nothing_pending("card-2"))
    r0 = reader0(pcscd)
    cards().insert(pcscd.port)
    r = daemon.wait_phase(r0, "up_to_date")
    assert r["prompt"] is None
    assert r["message"] is None        # automatic check: the user is not alerted
    assert len(cms.requests) == 1


def test_unknown_card_404_no_prompt(daemon, pcscd, cms, cards):
    """A card the CMS does not know (404) is "nothing pending"."""
    r0 = reader0(pcscd)
    cards(guid=bytes(range(16))).insert(pcscd.port)
    r = daemon.wait_phase(r0, "up_to_date")
    assert r["prompt"] is None


def test_untrusted_cms_no_prompt(make_daemon, pcscd, pki, cards):
    """(3) A CMS whose certificate comes from an unknown CA: no prompt, the failure
    logged, the daemon still running and answering."""
    from testcms import TestCMS
    rogue = TestCMS(pki["rogue_server_cert"], pki["rogue_server_key"]).start()
    try:
        rogue.script("*", rogue.pending("card-3"))
        d = make_daemon(cms_url=rogue.url, origins=[rogue.origin])
        r0 = reader0(pcscd)
        cards().insert(pcscd.port)
        r = d.wait_phase(r0, "check_failed")
        assert r["prompt"] is None
        assert r["code"] == "tls_untrusted"
        assert r["message"] is None
        assert "tls_untrusted" in d.log()
        assert d.alive()
        assert d.state()["readers"]
        # No request body ever reached the rogue server's application.
        assert rogue.requests == []
    finally:
        rogue.stop()


def test_manual_check_reports(daemon, pcscd, cms, cards):
    """A manual check always reports, and failures say why in plain words."""
    r0 = reader0(pcscd)
    cms.script(GUID, cms.nothing_pending("card-4"))
    status, js = daemon.post("/api/v1/check", {"reader": r0})
    assert status == 409                   # no card yet
    cards().insert(pcscd.port)
    daemon.wait_phase(r0, "up_to_date")
    status, js = daemon.post("/api/v1/check", {"reader": r0})
    assert status == 202, js
    r = daemon.wait_for(lambda st: any(x["message"] for x in st["readers"]),
                        what="manual check message")["readers"]
    r = next(x for x in r if x["name"] == r0)
    assert r["phase"] == "up_to_date"
    assert "No update" in r["message"]
    assert cms.requests[-1]["json"]["trigger"] == "manual"

    cms.script(GUID, {"status": 500, "raw": b"boom"})
    daemon.post("/api/v1/prompt/close", {"reader": r0})
    daemon.wait_phase(r0, "idle")
    daemon.post("/api/v1/check", {"reader": r0})
    r = daemon.wait_phase(r0, "check_failed")
    assert r["code"] == "http_status"
    assert r["message"]


def test_prompt_close_and_events(daemon, pcscd, cms, cards):
    """Close dismisses; the SSE stream carries each change."""
    import urllib.request
    cms.script(GUID, cms.pending("card-5"))
    r0 = reader0(pcscd)
    stream = urllib.request.urlopen(daemon.url + "/api/v1/events", timeout=10)
    assert stream.headers["Content-Type"] == "text/event-stream"
    cards().insert(pcscd.port)
    seen = []
    deadline = time.monotonic() + 8
    while time.monotonic() < deadline:
        line = stream.readline().decode()
        if line.startswith("data: "):
            st = json.loads(line[6:])
            seen.append([r["phase"] for r in st["readers"] if r["name"] == r0][0])
            if seen[-1] == "prompt":
                break
    assert seen[-1] == "prompt", seen
    assert "checking" in seen or "reading" in seen
    p = daemon.reader(r0)["prompt"]
    status, _ = daemon.post("/api/v1/prompt/close", {"reader": r0, "prompt": p["id"]})
    assert status == 200
    line = ""
    while not line.startswith("data: "):
        line = stream.readline().decode()
    st = json.loads(line[6:])
    assert [r["phase"] for r in st["readers"] if r["name"] == r0] == ["idle"]
    stream.close()


def test_bad_requests_refused(daemon):
    """Garbage on the kiosk API gets clear errors; the daemon keeps answering."""
    assert daemon.request("POST", "/api/v1/check", raw=b"{not json")[0] == 400
    assert daemon.request("POST", "/api/v1/check", raw=b"x" * 100000)[0] == 413
    assert daemon.request("POST", "/api/v1/check", raw=b"{}",
                          headers={"Content-Type": "text/plain"})[0] == 415
    assert daemon.request("POST", "/api/v1/prompt/proceed",
                          {"reader": 5, "prompt": []})[0] == 400
    assert daemon.request("POST", "/api/v1/prompt/proceed",
                          {"reader": "nope", "prompt": "p1"})[0] == 404
    assert daemon.request("DELETE", "/api/v1/state")[0] == 405
    assert daemon.request("GET", "/../../etc/passwd")[0] == 404
    assert daemon.request("GET", "/api/v1/state", headers={"Host": "evil.example"})[0] == 421
    status, hdrs, body = daemon.request("GET", "/")
    assert status == 200
    assert "default-src 'self'" in hdrs["Content-Security-Policy"]
    etag = hdrs["ETag"]
    assert daemon.request("GET", "/", headers={"If-None-Match": etag})[0] == 304
    assert daemon.alive()


def test_check_config_and_bad_config(make_daemon, tmp_path):
    """--check-config names file, line and key; the daemon refuses to start on errors;
    SIGHUP with a bad file keeps the running configuration."""
    d = make_daemon(start=False)
    out = subprocess.run([d.binary, "--check-config", "-c", d.conf_path],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "1 trust anchors" in out.stdout

    good = open(d.conf_path).read()
    d.write_config(raw=good + "[kiosk]\npromt_timeout_s = 5\n")
    out = subprocess.run([d.binary, "--check-config", "-c", d.conf_path],
                         capture_output=True, text=True)
    assert out.returncode == 2
    assert "[kiosk] promt_timeout_s: unknown key" in out.stderr
    assert d.conf_path + ":" in out.stderr
    proc = subprocess.run([d.binary, "-f", "-c", d.conf_path], capture_output=True,
                          text=True, timeout=10)
    assert proc.returncode == 2

    d.write_config(raw=good)
    d.start()
    d.write_config(raw=good.replace("[log]", "[log]\nlevel = loud\n[x]"))
    d.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "rejected" not in d.log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "rejected, keeping the running configuration" in d.log()
    assert d.alive() and d.state() is not None
    assert d.stop() == 0


def test_state_keeps_connection_alive_and_follows_state(daemon, pcscd, cms, cards):
    """GET /api/v1/state keeps the connection open (it was answered with Connection:
    close, one TCP handshake per poll) and the pre-rendered answer follows every newly
    published state on that same connection, with every security header."""
    import http.client
    cms.script(GUID, cms.nothing_pending("keepalive"))
    r0 = reader0(pcscd)
    c = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=5)
    try:
        c.request("GET", "/api/v1/state")
        r = c.getresponse()
        first = json.loads(r.read())
        assert r.status == 200
        assert r.getheader("Connection", "").lower() != "close"
        assert not r.will_close
        sock = c.sock
        assert [x["phase"] for x in first["readers"] if x["name"] == r0] == ["idle"]
        cards().insert(pcscd.port)
        daemon.wait_phase(r0, "up_to_date")
        c.request("GET", "/api/v1/state")
        r = c.getresponse()
        st = json.loads(r.read())
        assert c.sock is sock            # the same connection answered again
        assert r.status == 200
        assert [x["phase"] for x in st["readers"] if x["name"] == r0] == ["up_to_date"]
        for h in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options",
                  "Referrer-Policy", "Cross-Origin-Opener-Policy",
                  "Cross-Origin-Resource-Policy"):
            assert r.getheader(h), h
        assert r.getheader("Cache-Control") == "no-store"
        assert r.getheader("Content-Type") == "application/json"
        c.request("HEAD", "/api/v1/state")
        r = c.getresponse()
        assert r.status == 200 and r.read() == b""
        # the Host check still holds on a kept-alive connection
        c.request("GET", "/api/v1/state", headers={"Host": "evil.example"})
        assert c.getresponse().status == 421
    finally:
        c.close()
