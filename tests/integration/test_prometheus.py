# SPDX-License-Identifier: BSD-2-Clause
"""Fleet monitoring (issue 15): GET /metrics scraped over the admin TLS listener with a
bearer token, as Prometheus does, on the real rig. Every series of docs/monitoring.md is
checked with the value the rig's events must give it: build info, the state gauges
(pcscd connected, CMS circuit breaker, readers and cards present, trust anchor expiry)
and the per-reader health counters (appeared, gone, card read errors by kind, pcscd
reconnects)."""

import datetime
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

from conftest import BIN
from daemon import Cardupd, free_port
from test_admin import Admin, GUID, log_value, make_admin, anchors, reader0  # noqa: F401

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


# ---- the rules and the dashboard with the real tools --------------------------------

CONTRIB = os.path.join(os.path.dirname(__file__), "..", "..", "contrib")
RULES = os.path.join(CONTRIB, "prometheus", "cardupd.rules.yml")
DASHBOARD = os.path.join(CONTRIB, "grafana", "cardupd-fleet.json")


def test_promtool_rules():
    """The shipped rules are valid and behave as their unit tests say (promtool from
    Debian's prometheus package)."""
    for args in (["check", "rules", "cardupd.rules.yml"],
                 ["test", "rules", "cardupd.rules.test.yml"]):
        r = subprocess.run(["promtool"] + args, cwd=os.path.dirname(RULES),
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
        assert "SUCCESS" in r.stdout


def test_example_config(tmp_path):
    """prometheus.example.yml is a valid configuration once its files exist."""
    text = open(os.path.join(CONTRIB, "prometheus", "prometheus.example.yml")).read()
    d = tmp_path / "etc"
    d.mkdir()
    text = text.replace("/etc/prometheus/cardupd/", str(d) + "/")
    (d / "kiosk-lobby-1.token").write_text("cdt_x\n")
    shutil.copy(RULES, tmp_path / "cardupd.rules.yml")
    (tmp_path / "prometheus.yml").write_text(text)
    # any certificate will do for the syntax check
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=x", "-days", "1",
                    "-keyout", str(d / "k.pem"), "-out", str(d / "kiosk-lobby-1.pem")],
                   check=True, capture_output=True)
    r = subprocess.run(["promtool", "check", "config", str(tmp_path / "prometheus.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def dashboard_exprs():
    dash = json.load(open(DASHBOARD))
    assert dash["uid"] == "cardupd-fleet"
    out = []
    for p in dash["panels"]:
        for t in p.get("targets", []):
            out.append((p["title"], t["expr"]))
    for v in dash["templating"]["list"]:
        if v["type"] == "query":
            out.append(("variable " + v["name"], v["definition"]))
    assert len(out) >= 15
    return out


class Prometheus:
    """Debian's real prometheus on loopback with a private data directory. Stopped by
    stop() (SIGTERM, then SIGKILL), which the fixture calls even on failure."""

    def __init__(self, dir, config):
        self.dir = dir
        self.port = free_port()
        self.config = os.path.join(dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write(config)
        self.log_path = os.path.join(dir, "prometheus.log")
        self.proc = None

    def start(self):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            ["prometheus", "--config.file=" + self.config,
             "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
             "--web.listen-address=127.0.0.1:%d" % self.port,
             "--web.console.templates=" + self.dir, "--web.console.libraries=" + self.dir],
            stdout=self._log, stderr=self._log)
        end = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(self.url("/-/ready"), timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > end:
                raise AssertionError("prometheus did not start:\n" + self.log())
            time.sleep(0.1)

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def api(self, path, **params):
        q = "?" + urllib.parse.urlencode(params) if params else ""
        try:
            with urllib.request.urlopen(self.url("/api/v1/" + path + q), timeout=10) as r:
                js = json.load(r)
        except urllib.error.HTTPError as e:
            js = json.load(e)
        return js

    def query(self, expr):
        js = self.api("query", query=expr)
        assert js["status"] == "success", (expr, js)
        return js["data"]["result"]

    def log(self):
        try:
            return open(self.log_path, errors="replace").read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._log.close()


def wait_until(pred, what, timeout=30.0, last=lambda: ""):
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError("timed out waiting for %s\n%s" % (what, last()))
        time.sleep(0.2)


@pytest.mark.skipif(shutil.which("prometheus") is None, reason="Debian package prometheus")
def test_prometheus_scrapes_fleet(tmp_path, pcscd, cms, pki, cards):
    """Two kiosks on the rig, each with one reader, scraped by the real Prometheus over
    their admin TLS listeners with their own bearer tokens; kiosk k2 cannot reach its
    CMS. Prometheus sees every series, evaluates the shipped rules (their `for`
    shortened to 0s so that the test does not wait minutes) and fires
    CardupdCMSUnreachable for k2 alone, and the fleet alert (1 kiosk in 2); every
    Grafana panel's query evaluates without error on the real data."""
    import yaml

    r0, r1 = pcscd.reader_names
    kiosks, prom = [], None
    try:
        for name, reader, url in (("k1", r0, cms.url), ("k2", r1, closed_port_url())):
            kdir = tmp_path / name
            kdir.mkdir()
            port = free_port()
            d = Cardupd(os.path.abspath(BIN), str(kdir), pcscd.env, url, pki["ca_cert"],
                        [cms.origin], {
                            "device": {"id": name},
                            "kiosk": {"readers": reader},
                            "admin": {"listen": "127.0.0.1:%d" % port,
                                      "state_dir": str(kdir / "admin")}})
            kiosks.append(d)
            d.start()
            d.wait_for(lambda st: len(st["readers"]) == 1, what="its reader")
            a = Admin(port, log_value(d, r"certificate SHA-256 ([0-9A-F:]{95})"))
            assert a.setup(log_value(d, r"setup code ([0-9A-Z-]{14})"))[0] == 200
            (kdir / "token").write_text(make_token(a))
            shutil.copy(kdir / "admin" / "admin-cert.pem", kdir / "cert.pem")
            d.admin, d.name, d.reader = a, name, reader

        rules = yaml.safe_load(open(RULES))
        for g in rules["groups"]:
            for r in g["rules"]:
                if "for" in r:
                    r["for"] = "0s"
        with open(tmp_path / "rules.yml", "w") as f:
            yaml.safe_dump(rules, f)
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": [str(tmp_path / "rules.yml")],
            # One scrape config per kiosk (own token, own self-signed certificate),
            # all relabelled job="cardupd" as prometheus.example.yml does. The
            # certificate is pinned as the CA: Go accepts a self-signed leaf that is
            # itself a root, and it names 127.0.0.1 (the listen address), so the name
            # is verified too; no insecure_skip_verify.
            "scrape_configs": [{
                "job_name": "kiosk-" + d.name, "scheme": "https",
                "authorization": {"type": "Bearer",
                                  "credentials_file": os.path.join(d.dir, "token")},
                "tls_config": {"ca_file": os.path.join(d.dir, "cert.pem")},
                "static_configs": [{"targets": ["127.0.0.1:%d" % d.admin.port],
                                    "labels": {"kiosk": d.name}}],
                "relabel_configs": [{"target_label": "job", "replacement": "cardupd"}],
            } for d in kiosks],
        }
        pdir = tmp_path / "prometheus"
        pdir.mkdir()
        prom = Prometheus(str(pdir), yaml.safe_dump(config)).start()

        # k1: a card, nothing pending. k2: its CMS is unreachable; three checks open
        # the circuit breaker.
        k1, k2 = kiosks
        cms.script(GUID, cms.nothing_pending("card-1"))
        cards().insert(pcscd.port)
        k1.wait_phase(r0, "up_to_date")
        cards().insert(pcscd.port + 1)
        k2.wait_phase(r1, "check_failed")
        for _ in range(2):
            before = len(re.findall(r"check: card \w+ on .*: failed", k2.log()))
            assert k2.post("/api/v1/check", {"reader": r1})[0] == 202
            wait_until(lambda: len(re.findall(r"check: card \w+ on .*: failed",
                                              k2.log())) > before, "k2's check", 10)

        def targets_up():
            t = prom.api("targets")["data"]["activeTargets"]
            return len(t) == 2 and all(x["health"] == "up" for x in t) and t
        wait_until(targets_up, "both targets up", last=lambda: json.dumps(
            prom.api("targets")) + prom.log())

        def value(expr, kiosk):
            for s in prom.query(expr):
                if s["metric"].get("kiosk") == kiosk:
                    return float(s["value"][1])
            return None

        wait_until(lambda: value("cardupd_cms_breaker_open", "k2") == 1,
                   "k2's breaker open in Prometheus", last=prom.log)
        wait_until(lambda: value('cardupd_checks_total{result="none"}', "k1") == 1,
                   "k1's check in Prometheus", last=prom.log)
        version = subprocess.run([BIN, "--version"], capture_output=True, text=True,
                                 check=True).stdout.split()[1]
        for k in ("k1", "k2"):
            assert value('up{job="cardupd"}', k) == 1
            assert value('cardupd_build_info{version="%s"}' % version, k) == 1
            assert value("cardupd_pcscd_up", k) == 1
            assert value("cardupd_readers_present", k) == 1
            assert value("cardupd_cards_present", k) == 1
            assert value("cardupd_trust_anchors", k) == 1
            assert value("cardupd_trust_anchors_expiry_timestamp_seconds", k) == \
                cert_not_after(pki["ca_cert"])
            assert value("cardupd_pcscd_reconnects_total", k) == 0
        assert value("cardupd_cms_breaker_open", "k1") == 0
        assert value('cardupd_checks_total{result="connect"}', "k2") == 3
        assert value('cardupd_reader_appeared_total{reader="%s"}' % r0, "k1") == 1
        assert value('cardupd_reader_appeared_total{reader="%s"}' % r1, "k2") == 1
        assert value('sum by (kiosk) (cardupd_card_read_errors_total)', "k1") == 0

        def firing():
            return {(a["labels"]["alertname"], a["labels"].get("kiosk"))
                    for a in prom.api("alerts")["data"]["alerts"] if a["state"] == "firing"}
        wait_until(lambda: ("CardupdCMSUnreachable", "k2") in firing() and
                   ("CardupdCMSUnreachableFleet", None) in firing(),
                   "the CMS alerts", last=lambda: repr(firing()) + prom.log())
        assert firing() == {("CardupdCMSUnreachable", "k2"),
                            ("CardupdCMSUnreachableFleet", None)}, firing()

        # The dashboard's queries, as Grafana would send them, on this data.
        names = {x for x in prom.api("label/__name__/values")["data"]}
        for title, expr in dashboard_exprs():
            for m in re.findall(r"\b(cardupd_[a-z_]+)", expr):
                assert m in names or re.sub(r"_(bucket|sum|count)$", "", m) in names and \
                    m.endswith(("_bucket", "_sum", "_count")), (title, m)
            q = expr.replace("$__rate_interval", "1m").replace("$instance", ".*")
            if q.startswith("label_values("):
                metric, label = re.match(r"label_values\((\w+), (\w+)\)", q).groups()
                got = prom.api("label/%s/values" % label, **{"match[]": metric})
                assert got["status"] == "success" and len(got["data"]) == 2, got
                continue
            prom.query(q)       # asserts success
        assert len(prom.query('count(up{job="cardupd"} == 1) or vector(0)')) == 1
    finally:
        if prom is not None:
            prom.stop()
        problems = []
        for d in kiosks:
            rc = d.stop()
            if rc not in (None, 0):
                problems.append("cardupd %s exited with %s:\n%s" % (d.dir, rc, d.log()[-3000:]))
            for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
                if marker in d.log():
                    problems.append("sanitizer finding in %s:\n%s" % (d.dir, d.log()[-6000:]))
        assert not problems, "\n".join(problems)
