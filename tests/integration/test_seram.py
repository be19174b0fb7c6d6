# SPDX-License-Identifier: BSD-2-Clause
"""Card updates through cardupd as a GlobalPlatform SERAM local agent (SPEC §7), on the
real rig: private pcscd + vpcd, a scripted PIV card, the TLS test CMS with a scripted
remote agent (tests/rig/testseram.py) that writes a new certificate with PUT DATA."""

import time
import urllib.parse

from testseram import RemoteAgent, apdus, get_data, notify, put_data, select_piv, start, stop
from vcard import DEFAULT_CPLC, DEFAULT_GUID

GUID = DEFAULT_GUID.hex()
CERT_TAG = bytes.fromhex("5FC105")          # PIV Authentication certificate
NEW_CERT = bytes.fromhex("7082") + b"new certificate from the CMS" + bytes(range(40))


def offer(cms, ra, card_id="c-seram"):
    cms.script(GUID, cms.pending(card_id, agent={"seram_url": ra.url}))


def proceed(daemon, reader):
    r = daemon.wait_phase(reader, "prompt")
    status, js = daemon.post("/api/v1/prompt/proceed",
                             {"reader": reader, "prompt": r["prompt"]["id"]})
    assert status == 200, js
    return js["portal_url"]


def update_script():
    return [start(), notify("Writing your new certificate"),
            apdus([select_piv(), put_data(CERT_TAG, NEW_CERT), get_data(CERT_TAG)]),
            notify("Almost done"), stop()]


def test_update_session_end_to_end(daemon, pcscd, cms, cards):
    """insert → prompt → Proceed → session: handshake, start, notification, APDUs
    (PUT DATA writes a certificate), stop → reinsert → re-insert → up to date."""
    ra = RemoteAgent(cms, update_script())
    offer(cms, ra)
    r0 = pcscd.reader_names[0]
    card = cards()
    card.insert(pcscd.port)
    url = proceed(daemon, r0)
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    sid = q["seram_session"][0]
    assert len(sid) == 32 and int(sid, 16) >= 0

    sid_hs, hs = ra.wait_handshake()
    assert sid_hs == sid
    assert hs["supportedVersions"] == ["2.0.0"]
    se = hs["secureElements"][0]
    assert se["seType"] == "undefined"
    assert se["seId"] == DEFAULT_CPLC[12:16].hex()       # ICSerialNumber

    r = daemon.wait_phase(r0, "reinsert", timeout=15)
    assert "re-insert" in r["message"]
    # The card holds the new certificate.
    assert card.objects[CERT_TAG] == NEW_CERT
    # The reports: a void poll first, then the APDU answers in order.
    reports = [js for s, js in ra.reports]
    assert all(s == sid for s, js in ra.reports)
    assert reports[0]["localAgentStatus"]["localAgentStatusEnum"] == "POLLING"
    processed = [js for js in reports
                 if js["localAgentStatus"]["localAgentStatusEnum"] == "PROCESSED"]
    assert len(processed) == 1
    rapdus = processed[0]["ramResponses"][0]["listOfRAPDU"]
    assert len(rapdus) == 3
    assert rapdus[0].endswith("9000") and rapdus[1] == "9000"
    assert rapdus[2].endswith("9000") and NEW_CERT.hex().upper() in rapdus[2]
    assert processed[0]["localAgentStatus"]["executedSeRamCommands"] == 1
    # Nothing is asked after the stop command.
    n = len(ra.reports)
    time.sleep(1.2)
    assert len(ra.reports) == n
    # APDU payloads are not in the log.
    assert NEW_CERT.hex().upper() not in daemon.log().upper()
    # The session and its outcome are in the log (and in the admin audit log when the
    # admin listener runs: test_admin.py covers the audit file).
    assert "card_update" in daemon.log() or "finished: 3 APDUs" in daemon.log()

    # Remove and re-insert: the follow-up check says the card is up to date.
    cms.script(GUID, cms.nothing_pending("c-seram"))
    card.remove()
    daemon.wait_phase(r0, "idle")
    card.insert(pcscd.port)
    r = daemon.wait_phase(r0, "up_to_date")
    assert "up to date" in r["message"]


def test_progress_visible_in_state(daemon, pcscd, cms, cards):
    """notificationCommand text reaches the kiosk state while the session runs."""
    ra = RemoteAgent(cms, [start(), dict(notify("Step 2 of 5"), _delay_s=0.1),
                           {"delay": 0, "_delay_s": 1.5}, stop()])
    offer(cms, ra)
    r0 = pcscd.reader_names[0]
    cards().insert(pcscd.port)
    proceed(daemon, r0)
    st = daemon.wait_for(lambda s: any((x.get("session") or {}).get("progress") == "Step 2 of 5"
                                       for x in s["readers"]), what="progress text")
    r = next(x for x in st["readers"] if x["name"] == r0)
    assert r["phase"] == "portal"
    daemon.wait_phase(r0, "reinsert", timeout=15)


def test_card_removed_mid_session(daemon, pcscd, cms, cards):
    """Removal aborts the session: the remote agent hears why, nothing more goes to
    the card, and the reader is back to idle."""
    ra = RemoteAgent(cms, [start(), {"delay": 0, "_delay_s": 2.0},
                           apdus([select_piv()]), stop()])
    offer(cms, ra)
    r0 = pcscd.reader_names[0]
    card = cards()
    card.insert(pcscd.port)
    proceed(daemon, r0)
    ra.wait_reports(2)                     # the long poll is on
    n_apdus = len(card.apdus)
    card.remove()
    daemon.wait_phase(r0, "idle")
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        states = [js["localAgentStatus"]["localAgentStatusEnum"] for s, js in ra.reports]
        if "UNAVAILABLE_SE" in states:
            break
        time.sleep(0.05)
    assert "UNAVAILABLE_SE" in states, states
    assert len(card.apdus) == n_apdus
    assert "session" in daemon.log()


def test_kiosk_cancel(daemon, pcscd, cms, cards):
    """Cancel on the kiosk page ends the session; the card stays, the reader is idle."""
    ra = RemoteAgent(cms, [start(), {"delay": 0, "_delay_s": 1.0}], idle_hold_s=0.5)
    offer(cms, ra)
    r0 = pcscd.reader_names[0]
    cards().insert(pcscd.port)
    proceed(daemon, r0)
    ra.wait_reports(1)
    status, _ = daemon.post("/api/v1/session/cancel", {"reader": r0})
    assert status == 200
    r = daemon.wait_phase(r0, "idle")
    assert r["card"] == "present" and r["session"] is None
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline and not any(
            js["localAgentStatus"].get("errorMsg") == "cancelled at the kiosk"
            for s, js in ra.reports):
        time.sleep(0.05)
    assert any(js["localAgentStatus"].get("errorMsg") == "cancelled at the kiosk"
               for s, js in ra.reports)


def test_dropped_connection_is_resumed(daemon, pcscd, cms, cards):
    """The remote agent drops the connection once: cardupd reconnects at once and
    the update completes."""
    ra = RemoteAgent(cms, [start(), {"_close": True}, apdus([select_piv()]), stop()])
    offer(cms, ra)
    r0 = pcscd.reader_names[0]
    cards().insert(pcscd.port)
    proceed(daemon, r0)
    daemon.wait_phase(r0, "reinsert", timeout=15)


def test_malformed_and_oversized_orders(make_daemon, pcscd, cms, cards):
    """Malformed JSON, and an APDU list over the limit: the session ends with
    bad_response and nothing is sent to the card."""
    d = make_daemon()
    r0 = pcscd.reader_names[0]
    for bad in ({"_raw": b"{not json"},
                apdus(["00A4040000"] * 65),
                apdus(["zz"]),
                {"ramCommands": [{"ramCommandType": "formatCard"}]}):
        ra = RemoteAgent(cms, [start(), bad, stop()])
        offer(cms, ra)
        card = cards()
        card.insert(pcscd.port)
        proceed(d, r0)
        r = d.wait_phase(r0, "check_failed", timeout=10)
        assert r["code"] == "bad_response"
        assert "did not finish" in r["message"]
        assert not any(a[1] == 0xA4 and a[4] == 0 for a in card.apdus), "APDU reached the card"
        card.remove()
        d.wait_phase(r0, "idle")
    assert d.alive()


def test_session_timeout(make_daemon, pcscd, cms, cards):
    """A remote agent that never ends the session: it is abandoned after
    cms.session_timeout_s and the kiosk says so."""
    d = make_daemon(conf={"cms": {"session_timeout_s": "5"}})
    ra = RemoteAgent(cms, [start()], idle_delay_ms=0, idle_hold_s=1.0)
    offer(cms, ra)
    r0 = pcscd.reader_names[0]
    cards().insert(pcscd.port)
    proceed(d, r0)
    r = d.wait_phase(r0, "check_failed", timeout=15)
    assert r["code"] == "timeout"
    assert any(js["localAgentStatus"]["localAgentStatusEnum"] == "UNKNOWN_FAILURE"
               for s, js in ra.reports)


def test_different_card_aborts(daemon, pcscd, cms, cards):
    """The card is swapped during the session: the session is abandoned and the new
    card never sees the remote agent's APDUs."""
    ra = RemoteAgent(cms, [start(), {"delay": 0, "_delay_s": 2.0},
                           apdus([select_piv(), put_data(CERT_TAG, NEW_CERT)]), stop()])
    offer(cms, ra)
    r0 = pcscd.reader_names[0]
    first = cards()
    first.insert(pcscd.port)
    proceed(daemon, r0)
    ra.wait_reports(2)
    first.remove()
    other = cards(guid=bytes(16 * [0x42]))
    other.insert(pcscd.port)
    daemon.wait_for(lambda s: any(x["name"] == r0 and x["card"] == "present" and
                                  x["phase"] in ("up_to_date", "check_failed", "prompt")
                                  for x in s["readers"]), what="second card checked")
    time.sleep(2.5)                            # past the remote agent's long poll
    assert CERT_TAG not in other.objects
    assert CERT_TAG not in first.objects


def test_orders_after_stop_ignored(daemon, pcscd, cms, cards):
    """A stop command in the middle of an order: the commands after it are discarded
    and no further report is sent."""
    ra = RemoteAgent(cms, [{"ramCommands": [{"ramCommandType": "startCommand"},
                                            {"ramCommandType": "stopCommand"},
                                            {"ramCommandType": "seRamCommand",
                                             "listOfCAPDU": [put_data(CERT_TAG, NEW_CERT)]}]}],
                     after_stop=apdus([put_data(CERT_TAG, b"evil")]))
    offer(cms, ra)
    r0 = pcscd.reader_names[0]
    card = cards()
    card.insert(pcscd.port)
    proceed(daemon, r0)
    daemon.wait_phase(r0, "reinsert", timeout=10)
    n = len(ra.reports)
    time.sleep(1.5)
    assert len(ra.reports) == n == 1       # the first poll got start+stop: no more
    assert CERT_TAG not in card.objects


def test_session_in_audit_log(make_daemon, pcscd, cms, cards, tmp_path):
    """With the admin listener on, every session is written to the audit log with its
    outcome: one that finished, one the card's removal ended."""
    from daemon import free_port
    state = tmp_path / "admin-state"
    d = make_daemon(conf={"admin": {"listen": "127.0.0.1:%d" % free_port(),
                                    "state_dir": str(state)}})
    r0 = pcscd.reader_names[0]
    ra = RemoteAgent(cms, update_script())
    offer(cms, ra)
    card = cards()
    card.insert(pcscd.port)
    proceed(d, r0)
    d.wait_phase(r0, "reinsert", timeout=15)
    card.remove()
    d.wait_phase(r0, "idle")
    ra = RemoteAgent(cms, [start(), {"delay": 0, "_delay_s": 2.0}, stop()])
    offer(cms, ra)
    card = cards()
    card.insert(pcscd.port)
    proceed(d, r0)
    ra.wait_reports(2)
    card.remove()
    d.wait_phase(r0, "idle")
    deadline = time.monotonic() + 8
    lines = []
    while time.monotonic() < deadline:
        audit = (state / "audit.log").read_text() if (state / "audit.log").exists() else ""
        lines = [l for l in audit.splitlines() if " card_update " in l]
        if len(lines) >= 2:
            break
        time.sleep(0.1)
    assert len(lines) == 2, lines
    assert "outcome=ok apdus=3" in lines[0]
    assert "outcome=cancelled" in lines[1] and "reason=card removed" in lines[1]
    assert NEW_CERT.hex() not in "\n".join(lines).lower()
