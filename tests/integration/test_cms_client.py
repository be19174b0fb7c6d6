# SPDX-License-Identifier: BSD-2-Clause
"""The CMS client on a hostile network (issue 4), on the real rig: private pcscd + vpcd,
a scripted card, the TLS test CMS with a fault, cardupd itself.  Each test inserts a
card (or asks for a manual check), waits for the reader's phase and checks the failure
code in the kiosk state and in the log, and that the daemon is still up afterwards."""

import re
import time

import pytest

from testcms import TestCMS
from vcard import DEFAULT_GUID

GUID = DEFAULT_GUID.hex()


@pytest.fixture
def other_cms(pki):
    """other_cms(cert="expired", mtls=False, host=...) -> a started TestCMS, stopped at
    the end of the test."""
    made = []

    def make(cert="good", **kw):
        c = TestCMS.with_pki(pki, cert, **kw).start()
        made.append(c)
        return c
    yield make
    for c in made:
        c.stop()


def insert_and_wait(d, pcscd, cards, phase, timeout=8.0):
    r0 = pcscd.reader_names[0]
    cards().insert(pcscd.port)
    return d.wait_phase(r0, phase, timeout=timeout)


def assert_failed(d, r, code):
    """The reader shows check_failed with `code`, the log names it, the daemon lives."""
    assert r["phase"] == "check_failed", r
    assert r["code"] == code, (r, d.log()[-3000:])
    assert r["prompt"] is None
    assert "failed: %s:" % code in d.log()
    assert d.alive()
    assert d.state()["readers"]


def fails_with(make_daemon, pcscd, cards, srv, code, conf=None, timeout=8.0):
    d = make_daemon(cms_url=srv.url, origins=[srv.origin], conf=conf)
    r = insert_and_wait(d, pcscd, cards, "check_failed", timeout)
    assert_failed(d, r, code)
    return d, r


# ---- trust -----------------------------------------------------------------------------

@pytest.mark.parametrize("cert,code", [
    ("expired", "tls_expired"),
    ("wronghost", "tls_hostname"),
    ("rogue", "tls_untrusted"),
    ("selfsigned", "tls_untrusted"),
])
def test_tls_refused(make_daemon, pcscd, cards, other_cms, cert, code):
    srv = other_cms(cert)
    srv.script("*", srv.pending("card-x"))
    fails_with(make_daemon, pcscd, cards, srv, code)
    assert srv.requests == []        # no request body ever reached the server


def test_mtls_with_client_certificate(make_daemon, pcscd, cards, other_cms, pki):
    srv = other_cms("good", mtls=True)
    srv.script(GUID, srv.nothing_pending("card-m"))
    d = make_daemon(cms_url=srv.url, origins=[srv.origin],
                    conf={"cms": {"client_cert": pki["client_cert"],
                                  "client_key": pki["client_key"]}})
    insert_and_wait(d, pcscd, cards, "up_to_date")
    req = srv.wait_requests(1)[0]
    assert req["client_cert"] is not None
    assert dict(x[0] for x in req["client_cert"]["subject"])["commonName"] == \
        "cardupd test device"


def test_mtls_without_client_certificate(make_daemon, pcscd, cards, other_cms):
    srv = other_cms("good", mtls=True)
    srv.script("*", srv.nothing_pending("card-m"))
    d, r = fails_with(make_daemon, pcscd, cards, srv, "tls")
    assert srv.requests == []
    assert srv.tls_errors


def test_ipv6_loopback(make_daemon, pcscd, cards, other_cms):
    try:
        srv = other_cms("good", host="::1")
    except OSError as e:
        pytest.skip("no IPv6 loopback here: %s" % e)
    srv.script(GUID, srv.nothing_pending("card-6"))
    assert srv.url.startswith("https://[::1]:")
    d = make_daemon(cms_url=srv.url, origins=[srv.origin])
    insert_and_wait(d, pcscd, cards, "up_to_date")
    assert srv.wait_requests(1)[0]["peer"][0] == "::1"
    # Host header with brackets (RFC 9112 3.2)
    assert srv.requests[0]["headers"]["Host"] == "[::1]:%d" % srv.port


# ---- deadlines -------------------------------------------------------------------------

def test_slow_headers_timeout(make_daemon, pcscd, cards, cms):
    cms.script("*", dict(cms.nothing_pending("card-s"), delay_s=2.5))
    t0 = time.monotonic()
    d, r = fails_with(make_daemon, pcscd, cards, cms, "timeout",
                      conf={"cms": {"timeout_ms": "700"}})
    assert time.monotonic() - t0 < 2.4


def test_slow_body_one_deadline(make_daemon, pcscd, cards, cms):
    """Every piece of the body arrives well within timeout_ms of the previous one, but
    the whole answer does not: one deadline for the exchange, not one per read."""
    cms.script("*", dict(cms.nothing_pending("card-s"), drip_s=0.25))
    d, r = fails_with(make_daemon, pcscd, cards, cms, "timeout",
                      conf={"cms": {"timeout_ms": "800"}})


# ---- framing ---------------------------------------------------------------------------

def test_truncated_body(make_daemon, pcscd, cards, cms):
    cms.script("*", dict(cms.nothing_pending("card-t"), truncate=10))
    d = make_daemon()
    r = insert_and_wait(d, pcscd, cards, "check_failed")
    assert r["code"] in ("io", "bad_response")
    assert_failed(d, r, r["code"])


def test_reset_mid_response(make_daemon, pcscd, cards, cms):
    cms.script("*", dict(cms.nothing_pending("card-r"), reset=10))
    fails_with(make_daemon, pcscd, cards, cms, "io")


def test_chunked_body_works(make_daemon, pcscd, cards, cms):
    cms.script(GUID, dict(cms.pending("card-c"), chunked=5))
    d = make_daemon()
    r = insert_and_wait(d, pcscd, cards, "prompt")
    assert r["prompt"]["updates"][0]["type"] == "certificate_renewal"


@pytest.mark.parametrize("answer", [
    {"huge": 70000},
    {"huge": 70000, "chunked": 4096},
    {"raw": b"<html>not json</html>"},
    {"json": {"card_id": 5, "pending": "none", "recheck_after_s": "soon"}},
], ids=["huge", "huge-chunked", "not-json", "wrong-types"])
def test_bad_response(make_daemon, pcscd, cards, cms, answer):
    cms.script("*", answer)
    fails_with(make_daemon, pcscd, cards, cms, "bad_response")


# ---- statuses --------------------------------------------------------------------------

def test_503_http_status(make_daemon, pcscd, cards, cms):
    cms.script("*", {"status": 503, "json": {"error": "maintenance"}})
    fails_with(make_daemon, pcscd, cards, cms, "http_status")


def test_redirect_not_followed(make_daemon, pcscd, cards, cms):
    cms.script("*", {"status": 302, "headers": {"Location": cms.url + "/card-status"}})
    fails_with(make_daemon, pcscd, cards, cms, "http_status")
    time.sleep(0.3)
    assert len(cms.requests) == 1


def test_429_retry_after_honoured(make_daemon, pcscd, cards, cms):
    cms.script(GUID, [{"status": 429, "headers": {"Retry-After": "1"}},
                      cms.nothing_pending("card-b")])
    d = make_daemon(conf={"cms": {"retries": "1"}})
    insert_and_wait(d, pcscd, cards, "up_to_date")
    reqs = cms.wait_requests(2)
    gap = reqs[1]["time"] - reqs[0]["time"]
    assert 0.9 <= gap <= 1.6, gap
    assert "retry 1/1 in 1000 ms" in d.log()


# ---- connection reuse ------------------------------------------------------------------

def manual_check(d, r0, phase):
    status, js = d.post("/api/v1/check", {"reader": r0})
    assert status == 202, js
    return d.wait_for(lambda st: any(x["name"] == r0 and x["message"] and
                                     x["phase"] == phase for x in st["readers"]),
                      what="manual check on %s" % r0)


def test_keepalive_reuses_connection(make_daemon, pcscd, cards, cms):
    """A second check goes over the kept-alive connection of the first."""
    cms.script(GUID, cms.nothing_pending("card-k"))
    d = make_daemon()
    r0 = pcscd.reader_names[0]
    insert_and_wait(d, pcscd, cards, "up_to_date")
    manual_check(d, r0, "up_to_date")
    reqs = cms.wait_requests(2)
    assert reqs[0]["headers"]["Connection"].lower() == "keep-alive"
    assert reqs[0]["conn"] == reqs[1]["conn"]
    assert cms.connections == 1


def test_session_resumed_on_new_connection(make_daemon, pcscd, cards, cms):
    """The server closes after each answer: the next check resumes the TLS session."""
    cms.script(GUID, dict(cms.nothing_pending("card-k"), keep_alive=False))
    d = make_daemon()
    r0 = pcscd.reader_names[0]
    insert_and_wait(d, pcscd, cards, "up_to_date")
    manual_check(d, r0, "up_to_date")
    reqs = cms.wait_requests(2)
    assert reqs[0]["conn"] != reqs[1]["conn"]
    assert not reqs[0]["tls_resumed"]
    assert reqs[1]["tls_resumed"]


def test_kept_connection_closed_by_server(make_daemon, pcscd, cards, other_cms):
    """The server ends the idle connection (its keep-alive timeout, with close_notify):
    the next check notices before sending, opens a new connection, resumes the TLS
    session."""
    srv = other_cms("good", idle_timeout_s=0.3)
    srv.script(GUID, srv.nothing_pending("card-k"))
    d = make_daemon(cms_url=srv.url, origins=[srv.origin])
    r0 = pcscd.reader_names[0]
    insert_and_wait(d, pcscd, cards, "up_to_date")
    srv.wait_no_connection()        # the server closed the kept-alive connection
    manual_check(d, r0, "up_to_date")
    reqs = srv.wait_requests(2)
    assert reqs[0]["conn"] != reqs[1]["conn"]
    assert reqs[1]["tls_resumed"]


def test_kept_connection_dropped_abruptly(make_daemon, pcscd, cards, cms):
    """The same when the connection is cut without close_notify (a NAT or firewall
    forgetting it, then a FIN)."""
    cms.script(GUID, cms.nothing_pending("card-k"))
    d = make_daemon()
    r0 = pcscd.reader_names[0]
    insert_and_wait(d, pcscd, cards, "up_to_date")
    assert cms.drop_connections() == 1
    time.sleep(0.1)
    manual_check(d, r0, "up_to_date")
    reqs = cms.wait_requests(2)
    assert reqs[0]["conn"] != reqs[1]["conn"]


def test_kept_connection_dies_on_reuse(make_daemon, pcscd, cards, cms):
    """The kept connection looks healthy but the server drops it without answering the
    request sent on it: the check is retried once on a fresh connection."""
    cms.script(GUID, [cms.nothing_pending("card-k"), {"close": True},
                      cms.nothing_pending("card-k")])
    d = make_daemon()
    r0 = pcscd.reader_names[0]
    insert_and_wait(d, pcscd, cards, "up_to_date")
    manual_check(d, r0, "up_to_date")
    reqs = cms.wait_requests(3)
    assert [r["conn"] for r in reqs] == [1, 1, 2]
    assert "failed" not in d.log()


# ---- recheck window and circuit breaker (firmware/core/breaker.c, used by checker.c) --------

def count_in_log(d, s):
    return d.log().count(s)


def test_recheck_window_skips_reinsertion(make_daemon, pcscd, cms, cards):
    """Nothing pending, recheck_after_s 60: the card re-inserted at once is not sent to
    the CMS again; a manual check is."""
    cms.script(GUID, cms.nothing_pending("card-w", recheck_after_s=60))
    d = make_daemon()
    r0 = pcscd.reader_names[0]
    card = cards()
    card.insert(pcscd.port)
    d.wait_phase(r0, "up_to_date")
    card.remove()
    d.wait_phase(r0, "idle")
    card.insert(pcscd.port)
    d.wait_phase(r0, "up_to_date")
    time.sleep(0.2)
    assert len(cms.requests) == 1
    manual_check(d, r0, "up_to_date")
    assert len(cms.wait_requests(2)) == 2


def test_breaker_fails_fast_while_cms_down(make_daemon, pcscd, cms, cards):
    """Three attempts refused (retries 2): the breaker opens and the next check fails
    at once with cms_down, without touching the network. (A cool-down of 60 s: the
    check after it must come before the cool-down ends, however loaded the machine.)"""
    from daemon import free_port
    url = "https://127.0.0.1:%d/cms" % free_port()         # nothing listens there
    d = make_daemon(cms_url=url, conf={"cms": {"retries": "2", "breaker_cooldown_s": "60"}})
    r0 = pcscd.reader_names[0]
    r = insert_and_wait(d, pcscd, cards, "check_failed", timeout=10)
    assert r["code"] == "connect"
    d.post("/api/v1/prompt/close", {"reader": r0})
    t0 = time.monotonic()
    status, js = d.post("/api/v1/check", {"reader": r0})
    assert status == 202, js
    d.wait_for(lambda s: count_in_log(d, "failed: cms_down") >= 1, what="cms_down")
    assert time.monotonic() - t0 < 1.0
    st = d.wait_for(lambda s: any(x["name"] == r0 and x["code"] == "cms_down"
                                  for x in s["readers"]), what="cms_down in the state")
    r = next(x for x in st["readers"] if x["name"] == r0)
    assert r["message"]
    said = retry_in_said(d)
    assert said and all(40 <= s <= 75 for s in said), said     # 60 s +-25 %, less time gone
    assert d.alive()


def retry_in_said(d):
    """The seconds each cms_down failure in the log said the breaker would wait."""
    return [int(x) for x in re.findall(r"not asking it again for (\d+) s", d.log())]


def check_outcome(d, r0):
    """A manual check on r0, and its outcome once the state moved past it: (phase, code)."""
    seq = d.state()["seq"]
    status, js = d.post("/api/v1/check", {"reader": r0})
    assert status == 202, js

    def reader(st):
        return next(x for x in st["readers"] if x["name"] == r0)
    st = d.wait_for(lambda st: st["seq"] != seq and
                    reader(st)["phase"] not in ("reading", "checking"),
                    what="manual check outcome")
    return reader(st)["phase"], reader(st)["code"]


def test_breaker_short_outage_ends_after_the_first_cooldown(make_daemon, pcscd, cms, cards):
    """The CMS restarts (down for three checks): the breaker opens for its first
    cool-down, about 1 s by default (cms.breaker_cooldown_s), says so, and once the CMS
    is back the first check after the cool-down reaches it and closes the breaker. (It
    was 5 s, growing to 5 min: after a blip a kiosk said "cms_down" for seconds.)"""
    cms.script(GUID, cms.nothing_pending("card-b", recheck_after_s=0))
    d = make_daemon(conf={"cms": {"retries": "0"}})
    r0 = pcscd.reader_names[0]
    insert_and_wait(d, pcscd, cards, "up_to_date")
    cms.stop()
    cms.drop_connections()
    try:
        codes = [check_outcome(d, r0)[1] for _ in range(3)]
        assert codes == ["connect"] * 3, codes
        phase, code = check_outcome(d, r0)
        assert (phase, code) == ("check_failed", "cms_down")
    finally:
        cms.start()
    said = retry_in_said(d)
    assert said and max(said) <= 2, said                        # 1 s +-25 %, rounded up
    requests = len(cms.requests)
    end = time.monotonic() + 20
    while check_outcome(d, r0) != ("up_to_date", None):
        assert time.monotonic() < end, "no check reached the CMS again: " + d.log()[-3000:]
        time.sleep(0.1)
    assert len(cms.requests) == requests + 1


# ---- TLS policy (issue 13 item 15): TLS 1.2, ECDHE + AEAD, SHA-2 signatures --------------

@pytest.mark.parametrize("mode", ["tls10", "tls11"])
def test_tls_old_version_refused(make_daemon, pcscd, cards, other_cms, mode):
    """A server that speaks only TLS 1.0 (or 1.1) refuses our TLS 1.2-only hello; the
    diagnostic probe sees the version it speaks: tls_version."""
    srv = other_cms("good", tls=mode)
    srv.script("*", srv.nothing_pending("card-v"))
    d, r = fails_with(make_daemon, pcscd, cards, srv, "tls_version")
    assert srv.requests == []
    assert "TLS 1." in d.log() and "only TLS 1.2 is accepted" in d.log()


def test_tls_static_rsa_server_refused(make_daemon, pcscd, cards, other_cms):
    """A server with only static-RSA key exchange (no forward secrecy) shares no suite
    with the client, which offers ECDHE only; the diagnostic probe names why:
    tls_no_forward_secrecy."""
    srv = other_cms("rsa", tls="static_rsa")
    srv.script("*", srv.nothing_pending("card-r"))
    d, r = fails_with(make_daemon, pcscd, cards, srv, "tls_no_forward_secrecy")
    assert srv.requests == []
    assert srv.tls_errors          # the server saw no shared cipher
    assert "would only agree on" in d.log()


@pytest.fixture
def hello_server():
    made = []

    def make(**kw):
        from testcms import HelloServer
        s = HelloServer(**kw).start()
        made.append(s)
        return s
    yield make
    for s in made:
        s.stop()


@pytest.mark.parametrize("version,suite,code", [
    (0x0303, "3des", "tls_weak_cipher"),
    (0x0303, "3des_rsa", "tls_weak_cipher"),
    (0x0303, "static_rsa", "tls_no_forward_secrecy"),
    (0x0303, "cbc", "tls_weak_cipher"),
    (0x0301, "good", "tls_version"),
])
def test_tls_server_choice_refused(make_daemon, pcscd, cards, hello_server, version,
                                   suite, code):
    """A server that chooses, whatever was offered, a 3DES suite, static RSA, a CBC
    suite or TLS 1.0: the ServerHello is refused with the code of what it broke."""
    srv = hello_server(version=version, suite=suite)
    fails_with(make_daemon, pcscd, cards, srv, code)
    assert srv.hellos >= 1


def test_tls_sha1_chain_refused(make_daemon, pcscd, cards, other_cms):
    """The server certificate is signed by the trusted CA, with SHA-1: refused."""
    srv = other_cms("sha1", tls="legacy")
    srv.script("*", srv.nothing_pending("card-1"))
    d, r = fails_with(make_daemon, pcscd, cards, srv, "tls_weak_signature")
    assert srv.requests == []
    assert "SHA-1" in d.log()


@pytest.mark.parametrize("cert,suite", [
    ("good", "ECDHE-ECDSA-AES128-GCM-SHA256"),
    ("good", "ECDHE-ECDSA-AES256-GCM-SHA384"),
    ("good", "ECDHE-ECDSA-CHACHA20-POLY1305"),
    ("rsa", "ECDHE-RSA-AES128-GCM-SHA256"),
    ("rsa", "ECDHE-RSA-AES256-GCM-SHA384"),
    ("rsa", "ECDHE-RSA-CHACHA20-POLY1305"),
])
def test_tls_every_allowed_suite_works(make_daemon, pcscd, cards, other_cms, cert, suite):
    """Each suite of the policy, alone on the server, carries a check (and the
    back-ends chosen for it, AES-GCM and ChaCha20-Poly1305, work)."""
    srv = other_cms(cert, tls="suite:" + suite)
    srv.script(GUID, srv.nothing_pending("card-s"))
    d = make_daemon(cms_url=srv.url, origins=[srv.origin])
    insert_and_wait(d, pcscd, cards, "up_to_date")
    assert srv.wait_requests(1)


def test_tls_modern_rsa_server_works(make_daemon, pcscd, cards, other_cms):
    """The policy keeps what it should: ECDHE_RSA with AES-GCM over TLS 1.2."""
    srv = other_cms("rsa")
    srv.script(GUID, srv.nothing_pending("card-r"))
    d = make_daemon(cms_url=srv.url, origins=[srv.origin])
    insert_and_wait(d, pcscd, cards, "up_to_date")
    assert srv.wait_requests(1)


# ---- /metrics counts handshakes that happened (issue 15) ------------------------------

from test_admin import Admin, anchors, make_admin  # noqa: E402,F401


def test_metrics_kept_alive_checks_count_one_handshake(make_admin, pcscd, cards, cms):
    """Three checks over one kept-alive connection are one full TLS handshake."""
    cms.script(GUID, cms.nothing_pending("card-k"))
    d, a = make_admin()
    r0 = pcscd.reader_names[0]
    insert_and_wait(d, pcscd, cards, "up_to_date")
    manual_check(d, r0, "up_to_date")
    cms.wait_requests(2)
    manual_check(d, r0, "up_to_date")
    reqs = cms.wait_requests(3)
    assert len({r["conn"] for r in reqs}) == 1 and cms.connections == 1
    deadline = time.monotonic() + 8
    while True:                 # the third result reaches the loop after the CMS saw it
        s, _, body = a.request("GET", "/metrics")
        assert s == 200
        text = body.decode()
        if 'cardupd_checks_total{result="none"} 3\n' in text or \
                time.monotonic() > deadline:
            break
    assert 'cardupd_checks_total{result="none"} 3\n' in text, text
    assert 'cardupd_tls_handshakes_total{kind="full"} 1\n' in text, text
    assert 'cardupd_tls_handshakes_total{kind="resumed"} 0\n' in text, text
