"""Fleet monitoring (issue 15): GET /metrics scraped over the admin TLS listener with a
bearer token, as Prometheus does, on the real rig. Every series of docs/monitoring.md is
checked with the value the rig's events must give it: build info, the state gauges
(pcscd connected, CMS circuit breaker, readers and cards present, trust anchor expiry)
and the per-reader health counters (appeared, gone, card read errors by kind, pcscd
reconnects)."""

import datetime
import re
import socket
import subprocess

import pytest

from test_admin import Admin, GUID, log_value, make_admin, anchors, reader0  # noqa: F401
from vcard import DEFAULT_GUID  # noqa: F401

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)')


def parse_exposition(text):
    """The text format, strictly: {(name, ((label, value), ...)): float}. Each sample's
    family must have been announced by a # TYPE line before it."""
    out, types = {}, {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in ("counter", "gauge", "histogram"), line
            types[name] = kind
            continue
        if line.startswith("# HELP "):
            continue
        m = SAMPLE.match(line)
        assert m, "malformed sample line: %r" % line
        name, labels = m.group(1), ()
        if m.group(3):
            rest, pairs = m.group(3), []
            while rest:
                lm = LABEL.match(rest)
                assert lm, "malformed labels: %r" % line
                pairs.append((lm.group(1), lm.group(2).replace('\\"', '"')
                              .replace("\\n", "\n").replace("\\\\", "\\")))
                rest = rest[lm.end():]
            labels = tuple(sorted(pairs))
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or family in types, "no # TYPE before %s" % name
        key = (name, labels)
        assert key not in out, "duplicate series %r" % (key,)
        out[key] = float(m.group(4))
    return out


def series(samples, name, **labels):
    key = (name, tuple(sorted(labels.items())))
    assert key in samples, "%s%s not exposed; have: %s" % (
        name, labels, sorted(k for k in samples if k[0] == name))
    return samples[key]


def scrape(anon, token):
    s, hdrs, body = anon.request("GET", "/metrics", auth=token)
    assert s == 200, body
    assert hdrs["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse_exposition(body.decode())


def make_token(a):
    s, js = a.post("/api/v1/admin/tokens", {"name": "prometheus"})
    assert s == 201, js
    return js["token"]


def cert_not_after(path):
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-in", path],
                         check=True, capture_output=True, text=True).stdout
    when = datetime.datetime.strptime(out.strip().split("=", 1)[1], "%b %d %H:%M:%S %Y %Z")
    return int(when.replace(tzinfo=datetime.timezone.utc).timestamp())


def wait_metric(anon, token, pred, what, timeout=10.0):
    import time
    end = time.monotonic() + timeout
    while True:
        m = scrape(anon, token)
        if pred(m):
            return m
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for %s" % what)
        time.sleep(0.05)


def test_metrics_series(make_admin, pcscd, cms, cards, anchors):
    d, a = make_admin()
    token = make_token(a)
    anon = Admin(a.port, a.fingerprint)
    r0, r1 = pcscd.reader_names

    m = scrape(anon, token)
    version = subprocess.run([d.binary, "--version"], capture_output=True, text=True,
                             check=True).stdout.split()[1]
    assert series(m, "cardupd_build_info", version=version) == 1
    assert series(m, "cardupd_pcscd_up") == 1
    assert series(m, "cardupd_readers_present") == 2
    assert series(m, "cardupd_cards_present") == 0
    assert series(m, "cardupd_cms_breaker_open") == 0
    assert series(m, "cardupd_trust_anchors") == 1
    assert series(m, "cardupd_trust_anchors_expiry_timestamp_seconds") == \
        cert_not_after(anchors)
    for r in (r0, r1):
        assert series(m, "cardupd_reader_appeared_total", reader=r) == 1
        assert series(m, "cardupd_reader_gone_total", reader=r) == 0
        for kind in ("connect", "atr", "transmit", "answer", "timeout", "other"):
            assert series(m, "cardupd_card_read_errors_total", reader=r, kind=kind) == 0
    assert series(m, "cardupd_pcscd_reconnects_total") == 0

    # A good card in reader 0, a card that answers garbage in reader 1.
    cms.script(GUID, cms.nothing_pending("card-m"))
    cards().insert(pcscd.port)
    d.wait_phase(r0, "up_to_date")
    bad = cards("garbage")
    bad.insert(pcscd.port + 1)
    d.wait_phase(r1, "check_failed")
    m = scrape(anon, token)
    assert series(m, "cardupd_cards_present") == 2
    assert series(m, "cardupd_checks_total", result="none") == 1
    assert series(m, "cardupd_card_read_errors_total", reader=r1, kind="transmit") == 1
    assert series(m, "cardupd_card_read_errors_total", reader=r0, kind="transmit") == 0

    # pcscd goes away and comes back: both readers gone once and back, one
    # reconnection, pcscd_up 0 while it is away.
    pcscd.stop()
    wait_metric(anon, token, lambda x: series(x, "cardupd_pcscd_up") == 0, "pcscd_up 0")
    m = scrape(anon, token)
    assert series(m, "cardupd_readers_present") == 0
    assert series(m, "cardupd_cards_present") == 0
    pcscd.start()
    m = wait_metric(anon, token, lambda x: series(x, "cardupd_pcscd_up") == 1 and
                    series(x, "cardupd_readers_present") == 2, "pcscd back")
    assert series(m, "cardupd_pcscd_reconnects_total") == 1
    for r in (r0, r1):
        assert series(m, "cardupd_reader_gone_total", reader=r) == 1
        assert series(m, "cardupd_reader_appeared_total", reader=r) == 2


def closed_port_url():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()           # nothing listens there: every attempt is "connect"
    return "https://127.0.0.1:%d" % port


def test_breaker_gauge(make_daemon, make_admin, pcscd, cms, cards):
    """Three checks that cannot reach the CMS open the circuit breaker (threshold 3):
    the gauge says so, and the checks after it fail fast with cms_down."""
    d, a = make_admin(conf={"cms": {"url": closed_port_url()}})
    token = make_token(a)
    anon = Admin(a.port, a.fingerprint)
    r0 = reader0(pcscd)
    cards().insert(pcscd.port)
    d.wait_phase(r0, "check_failed")
    assert series(scrape(anon, token), "cardupd_cms_breaker_open") == 0
    for n in (2, 3):
        assert d.post("/api/v1/check", {"reader": r0})[0] == 202
        wait_metric(anon, token, lambda x: series(x, "cardupd_checks_total",
                                                  result="connect") == n,
                    "%d failed checks" % n)
    m = scrape(anon, token)
    assert series(m, "cardupd_cms_breaker_open") == 1
    assert d.post("/api/v1/check", {"reader": r0})[0] == 202
    m = wait_metric(anon, token, lambda x: ("cardupd_checks_total", (("result", "cms_down"),))
                    in x, "a fail-fast check")
    assert series(m, "cardupd_cms_breaker_open") == 1
