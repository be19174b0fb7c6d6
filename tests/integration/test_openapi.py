# SPDX-License-Identifier: BSD-2-Clause
"""The API contracts (issue 15): docs/api/kiosk.openapi.yaml and admin.openapi.yaml are
linted with Redocly CLI, the validator of the test clients (tests/rig/openapi.py, hooked
into every integration test by conftest.py) refuses what it must, and every documented
operation of both APIs is exercised here on the real daemon, each request and answer
validated."""

import http.client
import json
import os
import shutil
import subprocess

import pytest

import openapi
from test_admin import Admin, GUID, log_value, make_admin, anchors, reader0  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
LINT_DIR = os.path.join(HERE, "..", "openapi")
API_DIR = os.path.join(HERE, "..", "..", "docs", "api")


def operations(name):
    c = openapi.contract(name)
    return {(m.upper(), t) for t, item in c.spec["paths"].items()
            for m in item if m in ("get", "post", "delete", "put", "patch")}


def test_lint():
    """Redocly CLI (npm, installed by scripts/deps.sh into tests/openapi) finds no
    error in either description. Telemetry and the update check are off: it sends
    nothing anywhere."""
    cli = os.path.join(LINT_DIR, "node_modules", "@redocly", "cli", "bin", "cli.js")
    assert os.path.exists(cli), "run make deps (npm install in tests/openapi)"
    env = dict(os.environ, REDOCLY_TELEMETRY="off", REDOCLY_SUPPRESS_UPDATE_NOTICE="true",
               NO_COLOR="1")
    r = subprocess.run(["node", cli, "lint", "--format=stylish", "--config", "redocly.yaml",
                        os.path.join(API_DIR, "kiosk.openapi.yaml"),
                        os.path.join(API_DIR, "admin.openapi.yaml")],
                       cwd=LINT_DIR, env=env, capture_output=True, text=True, timeout=180)
    out = r.stdout + r.stderr
    assert r.returncode == 0, out
    assert "error" not in out.replace("0 errors", ""), out


def test_validator_refuses():
    """Each kind of contract violation raises, and what conforms passes."""
    k = openapi.contract("kiosk")
    json_h = {"Content-Type": "application/json"}
    state = {"seq": 3, "ui": {"lang": "en", "manual_check": True, "setup_code": None,
                              "admin_fingerprint": None},
             "readers": [{"name": "R 00 00", "card": "absent", "phase": "idle",
                          "prompt": None, "session": None, "message": None, "code": None}]}
    k.check("GET", "/api/v1/state", {}, None, 200, json_h, state)
    # an answer with a field the contract does not have
    bad = json.loads(json.dumps(state))
    bad["readers"][0]["extra"] = 1
    with pytest.raises(openapi.ContractError, match="does not conform"):
        k.check("GET", "/api/v1/state", {}, None, 200, json_h, bad)
    # a wrong enum value, a missing field
    bad = json.loads(json.dumps(state))
    bad["readers"][0]["phase"] = "sleeping"
    with pytest.raises(openapi.ContractError):
        k.check("GET", "/api/v1/state", {}, None, 200, json_h, bad)
    bad = json.loads(json.dumps(state))
    del bad["ui"]
    with pytest.raises(openapi.ContractError):
        k.check("GET", "/api/v1/state", {}, None, 200, json_h, bad)
    # an undocumented route that answers
    with pytest.raises(openapi.ContractError, match="undocumented route"):
        k.check("GET", "/api/v1/secret", {}, None, 200, json_h, {"ok": True})
    with pytest.raises(openapi.ContractError, match="undocumented route"):
        k.check("DELETE", "/api/v1/state", {}, None, 200, json_h, {"ok": True})
    # ...but refusing it is what the contract says any route may do
    k.check("GET", "/api/v1/secret", {}, None, 404, json_h, {"error": "not found"})
    # an undocumented status of a documented operation
    with pytest.raises(openapi.ContractError, match="not documented"):
        k.check("POST", "/api/v1/check", json_h, b"{}", 418, json_h, {"error": "teapot"})
    # a non-conforming request that is accepted
    with pytest.raises(openapi.ContractError, match="refuses was accepted"):
        k.check("POST", "/api/v1/prompt/proceed", json_h, b'{"reader": "R"}', 200, json_h,
                {"portal_url": "https://portal.example/x"})
    with pytest.raises(openapi.ContractError, match="refuses was accepted"):
        k.check("POST", "/api/v1/check", {"Content-Type": "text/plain"}, b"{}", 202, json_h,
                {"ok": True})
    # ...and refused: fine
    k.check("POST", "/api/v1/prompt/proceed", json_h, b'{"reader": "R"}', 409, json_h,
            {"error": "no such prompt"})
    # a wrong Content-Type on the answer
    with pytest.raises(openapi.ContractError, match="Content-Type"):
        k.check("GET", "/api/v1/state", {}, None, 200, {"Content-Type": "text/html"}, b"<p>")
    a = openapi.contract("admin")
    a.check("DELETE", "/api/v1/admin/tokens/0123abcd", {}, None, 200, json_h, {"ok": True})
    with pytest.raises(openapi.ContractError):
        a.check("POST", "/api/v1/admin/tokens", json_h, b'{"name": "x"}', 201, json_h,
                {"id": "0123abcd", "token": "not-a-token"})


def test_kiosk_operations(daemon, pcscd, cms, cards):
    """Every operation of the kiosk API, through the validating client."""
    k = openapi.contract("kiosk")
    k.seen = set()
    r0 = reader0(pcscd)
    cms.script(GUID, cms.pending("card-k"))
    cards().insert(pcscd.port)
    p = daemon.wait_phase(r0, "prompt")["prompt"]
    assert daemon.post("/api/v1/prompt/close", {"reader": r0, "prompt": p["id"]})[0] == 200
    assert daemon.post("/api/v1/check", {"reader": r0})[0] == 202
    p = daemon.wait_phase(r0, "prompt")["prompt"]
    status, js = daemon.post("/api/v1/prompt/proceed", {"reader": r0, "prompt": p["id"]})
    assert status == 200 and js["portal_url"].startswith("https://")
    assert daemon.post("/api/v1/session/cancel", {"reader": r0})[0] == 200
    for asset in ("/", "/index.html", "/kiosk.css", "/kiosk.js", "/card.svg"):
        status, hdrs, _ = daemon.request("GET", asset)
        assert status == 200, asset
        assert daemon.request("HEAD", asset)[0] == 200
    # The event stream: its headers and first event, checked by hand (the client
    # would wait for the end of a stream that has none).
    c = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=5)
    try:
        c.request("GET", "/api/v1/events")
        r = c.getresponse()
        k.check("GET", "/api/v1/events", {}, None, r.status, dict(r.headers), None)
        lines = []
        while not lines or not lines[-1].startswith(b"data: "):
            lines.append(r.readline())          # chunked: HTTPResponse decodes it
        assert b"event: state\n" in lines, lines
        k.check("GET", "/api/v1/state", {}, None, 200, {"Content-Type": "application/json"},
                json.loads(lines[-1][6:]))
    finally:
        c.close()
    missing = operations("kiosk") - k.seen
    assert missing == set(), "kiosk operations not exercised: %s" % sorted(missing)


def test_admin_operations(make_admin, pcscd, cms, cards, anchors):
    """Every operation of the admin API, through the validating client."""
    a_c = openapi.contract("admin")
    a_c.seen = set()
    d, a = make_admin(setup=False)
    s, info = a.get("/api/v1/admin/info")
    assert s == 200 and info["setup_needed"]
    assert a.setup(log_value(d, r"setup code ([0-9A-Z-]{14})"))[0] == 200
    cms.script(GUID, cms.nothing_pending("card-a"))
    cards().insert(pcscd.port)
    d.wait_phase(reader0(pcscd), "up_to_date")
    assert a.get("/api/v1/admin/status")[0] == 200
    s, st = a.get("/api/v1/admin/settings")
    assert s == 200
    assert a.post("/api/v1/admin/settings", {"values": {"log.level": "info"}})[0] == 200
    assert a.get("/api/v1/admin/anchors")[0] == 200
    pem = open(anchors, "rb").read()
    s, _, js = a.request("POST", "/api/v1/admin/anchors", raw=pem, ctype="application/x-pem-file")
    assert s == 200, js
    assert a.post("/api/v1/admin/check", {"reader": reader0(pcscd)})[0] == 202
    assert a.post("/api/v1/admin/reconnect")[0] == 202
    s, js = a.post("/api/v1/admin/tokens", {"name": "scraper"})
    assert s == 201
    tok, tid = js["token"], js["id"]
    assert a.get("/api/v1/admin/tokens")[0] == 200
    assert a.request("GET", "/metrics", auth=tok)[0] == 200
    assert a.request("DELETE", "/api/v1/admin/tokens/" + tid)[0] == 200
    assert a.request("GET", "/api/v1/admin/audit")[0] == 200
    for asset in ("/", "/index.html", "/admin.css", "/admin.js"):
        assert a.request("GET", asset)[0] == 200, asset
    s, js = a.post("/api/v1/admin/password", {"current": "correct horse battery",
                                              "new": "another long passphrase"})
    assert s == 200, js
    a.csrf = js["csrf"]
    assert a.post("/api/v1/admin/logout")[0] == 200
    assert a.login("another long passphrase")[0] == 200
    missing = operations("admin") - a_c.seen
    assert missing == set(), "admin operations not exercised: %s" % sorted(missing)


def test_client_is_validating(daemon):
    """The hook is in place: a request through the rig's client is checked (an
    answer the contract does not describe would raise here)."""
    k = openapi.contract("kiosk")
    k.seen.discard(("GET", "/api/v1/state"))
    daemon.state()
    assert ("GET", "/api/v1/state") in k.seen


@pytest.mark.skipif(shutil.which("node") is None, reason="node")
def test_specs_are_json_schema_2020():
    """Both descriptions are OpenAPI 3.1 (their schemas are JSON Schema 2020-12, which
    the validator uses as is)."""
    for name in ("kiosk", "admin"):
        assert openapi.contract(name).spec["openapi"].startswith("3.1.")
