# SPDX-License-Identifier: BSD-2-Clause
"""The reader and card layer on the real rig (issue 3): private pcscd + vpcd, the
scripted card (tests/rig/vcard.py), the TLS test CMS and cardupd itself.

Every reader at once, every kind of card, every failure: what the CMS was asked
(cms.requests) proves what was read; the kiosk state (GET /api/v1/state) and the
daemon log show what the daemon made of it.  No fixed sleeps: every wait is on a
condition with a timeout.

Not covered here: a card pulled and put back within one of pcscd's 400 ms polls of
vpcd.  pcscd does not see that at all with vpcd (the driver reports "present" at
both polls and pcscd keeps the old card's state and ATR, see tests/rig/vcard.py), so
its event counter never moves and there is nothing for cardupd to notice.  With a
real CCID reader the counter moves; the rule that turns a moved counter into
"removed + inserted" is pcsc_transition() in drivers/pcsc.c, unit-tested in
tests/unit/test_card_id.c (test_transitions).

The CMS scripts here answer "nothing pending" with recheck_after_s 0: these tests are
about readers and cards, and re-insert the same card expecting a new check (the recheck
window has its own tests in test_cms_client.py)."""

import os
import re
import time

import pytest

from pcscd import PrivatePcscd
from vcard import Card, DEFAULT_ATR, DEFAULT_CPLC, DEFAULT_GUID, T0_ATR

GUID_A = DEFAULT_GUID
GUID_B = bytes.fromhex("0123456789abcdeffedcba9876543210")
WAIT = 8.0


# ---- an independent FASC-N encoder (SP 800-73-4 / TIG), for cards with a real one ---

def fascn_encode(agency, system, credential, cs, ici, pi, oc, oi, poa):
    """25 bytes: 40 characters of b1 b2 b4 b8 + odd parity, SS .. ES LRC."""
    ss, fs, es = 0xB, 0xD, 0xF
    digits = lambda s: [int(c) for c in s]      # noqa: E731
    chars = ([ss] + digits(agency) + [fs] + digits(system) + [fs] + digits(credential)
             + [fs] + digits(cs) + [fs] + digits(ici) + [fs] + digits(pi) + digits(oc)
             + digits(oi) + digits(poa) + [es])
    lrc = 0
    for c in chars:
        lrc ^= c
    bits = ""
    for c in chars + [lrc]:
        data = [(c >> k) & 1 for k in range(4)]
        bits += "".join(map(str, data)) + str(1 - sum(data) % 2)
    return bytes(int(bits[i:i + 8], 2) for i in range(0, 200, 8))


FASCN_FED = fascn_encode("1234", "5678", "246813", "1", "2", "1357924680", "1", "1234", "1")


# ---- helpers ------------------------------------------------------------------------

def readers(pcscd):
    return pcscd.reader_names[0], pcscd.reader_names[1]


def wait_reader(d, name, timeout=WAIT, what=None, **want):
    """Waits until reader `name` shows all of want (phase=..., card=...)."""
    def ok(st):
        r = next((r for r in st["readers"] if r["name"] == name), None)
        return r is not None and all(r.get(k) == v for k, v in want.items())
    st = d.wait_for(ok, timeout, what or "%s: %s" % (name, want))
    return next(r for r in st["readers"] if r["name"] == name)


def requests_for(cms, reader):
    return [r["json"] for r in list(cms.requests) if r["json"]["reader"] == reader]


def wait_log(d, pattern, count=1, since=0, timeout=WAIT):
    """Waits until the daemon log (from offset `since`) matches `pattern` count times."""
    rx = re.compile(pattern)
    end = time.monotonic() + timeout
    while True:
        found = rx.findall(d.log()[since:])
        if len(found) >= count:
            return found
        if time.monotonic() > end:
            raise AssertionError("log: %r seen %d times, wanted %d\n%s"
                                 % (pattern, len(found), count, d.log()[since:][-3000:]))
        time.sleep(0.02)


def assert_no_identifiers(d, *secrets):
    """No full GUID or FASC-N (any case) in the daemon log."""
    log = d.log().lower()
    for s in (GUID_A, GUID_B, FASCN_FED) + secrets:
        assert s.hex() not in log, "identifier %s... in the log" % s.hex()[:6]


def read_timeout_s():
    """CONFIG_PCSC_READ_TIMEOUT_MS of the binary under test (drivers/pcsc.c default)."""
    binary = os.environ.get("CARDUPD_BIN") or "build/cardupd"
    try:
        with open(os.path.join(os.path.dirname(binary), "autoconf.h")) as f:
            m = re.search(r"CONFIG_PCSC_READ_TIMEOUT_MS (\d+)", f.read())
            if m:
                return int(m.group(1)) / 1000.0
    except OSError:
        pass
    return 5.0


# ---- readers ------------------------------------------------------------------------

def test_two_readers_two_cards(daemon, pcscd, cms, cards):
    """Two readers with cards at once: both checked, each with its own state."""
    r0, r1 = readers(pcscd)
    cms.script(GUID_A.hex(), cms.nothing_pending("card-a", recheck_after_s=0))
    cms.script(GUID_B.hex(), cms.pending("card-b"))
    a, b = cards(guid=GUID_A), cards(guid=GUID_B, fascn=FASCN_FED)
    a.insert(pcscd.port)
    b.insert(pcscd.port + 1)
    wait_reader(daemon, r0, phase="up_to_date", card="present")
    st = wait_reader(daemon, r1, phase="prompt", card="present")
    assert st["prompt"]["updates"]
    assert daemon.reader(r0)["prompt"] is None

    q0, q1 = requests_for(cms, r0), requests_for(cms, r1)
    assert len(q0) == 1 and len(q1) == 1
    assert q0[0]["card"]["chuid"]["guid"] == GUID_A.hex()
    assert q1[0]["card"]["chuid"]["guid"] == GUID_B.hex()
    assert q1[0]["card"]["chuid"]["fascn"] == FASCN_FED.hex()
    assert q1[0]["card"]["chuid"]["expiry"] == "20301231"
    assert q0[0]["card"]["cplc"] == DEFAULT_CPLC.hex()
    assert q0[0]["trigger"] == q1[0]["trigger"] == "insertion"

    # One card out: only its reader changes.
    a.remove()
    wait_reader(daemon, r0, phase="idle", card="absent")
    assert daemon.reader(r1)["phase"] == "prompt"

    # Out and in again (after a poll period): a new insertion, a new check.
    a.insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date", card="present")
    q0 = requests_for(cms, r0)
    assert len(q0) == 2 and q0[1]["trigger"] == "insertion"

    # The FASC-N is decoded for diagnostics: issuer codes only, never the rest.
    assert "fasc-n agency 1234 system 5678" in daemon.log()
    assert "fasc-n of a non-federal issuer" in daemon.log()     # the SP 800-73 sample
    log = daemon.log()
    for part in ("246813", "1357924680"):                      # credential, person
        assert part not in log
    assert_no_identifiers(daemon)


def test_reader_glob(make_daemon, pcscd, cms, cards):
    """kiosk.readers = "*01": only the second reader is watched."""
    r0, r1 = readers(pcscd)
    d = make_daemon(conf={"kiosk": {"readers": "*01"}})
    cms.script("*", cms.nothing_pending("any", recheck_after_s=0))
    c0 = cards(guid=GUID_A)
    c0.insert(pcscd.port)
    c0.wait_seen()
    cards(guid=GUID_B).insert(pcscd.port + 1)
    wait_reader(d, r1, phase="up_to_date")
    assert [r["name"] for r in d.state()["readers"]] == [r1]
    assert [q["reader"] for q in (r["json"] for r in cms.requests)] == [r1]
    assert c0.apdus == []          # cardupd never talked to the unwatched reader


# ---- cards --------------------------------------------------------------------------

def test_t0_card_get_response(daemon, pcscd, cms, cards):
    """A T=0 card answering 61xx: the data comes through GET RESPONSE."""
    r0, _ = readers(pcscd)
    cms.script(GUID_A.hex(), cms.nothing_pending("t0", recheck_after_s=0))
    card = cards(t0=True)
    card.insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date")
    body = cms.requests[0]["json"]["card"]
    assert body["atr"] == T0_ATR.hex()
    assert body["cplc"] == DEFAULT_CPLC.hex()
    assert body["chuid"]["guid"] == GUID_A.hex()
    assert body["chuid"]["expiry"] == "20301231"
    assert any(a[:2] == b"\x00\xc0" for a in card.apdus), card.apdus


def test_wrong_le_card(daemon, pcscd, cms, cards):
    """A card answering 6Cxx: the command is sent again with the Le it asked for."""
    r0, _ = readers(pcscd)
    cms.script(GUID_A.hex(), cms.nothing_pending("6c", recheck_after_s=0))
    card = cards(wrong_le=True)
    card.insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date")
    body = cms.requests[0]["json"]["card"]
    assert body["cplc"] == DEFAULT_CPLC.hex()
    assert body["chuid"]["guid"] == GUID_A.hex()
    assert bytes.fromhex("80ca9f7f2d") in card.apdus     # 3 + 42 bytes
    assert any(a[:4] == bytes.fromhex("00cb3fff") and a[-1] != 0 for a in card.apdus)


def test_card_without_cplc(daemon, pcscd, cms, cards):
    """No CPLC (6A88 even from the card manager): cplc null, the CHUID still read."""
    r0, _ = readers(pcscd)
    cms.script(GUID_A.hex(), cms.nothing_pending("nocplc", recheck_after_s=0))
    card = cards(cplc=None)
    card.insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date")
    body = cms.requests[0]["json"]["card"]
    assert body["cplc"] is None
    assert body["chuid"]["guid"] == GUID_A.hex()
    assert body["chuid"]["fascn"] is not None


def test_cplc_needs_card_manager(daemon, pcscd, cms, cards):
    """CPLC only once the card manager is selected (empty-AID SELECT), then PIV."""
    r0, _ = readers(pcscd)
    cms.script(GUID_A.hex(), cms.nothing_pending("isd", recheck_after_s=0))
    card = cards(cplc_needs_isd=True)
    card.insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date")
    body = cms.requests[0]["json"]["card"]
    assert body["cplc"] == DEFAULT_CPLC.hex()
    assert body["chuid"]["guid"] == GUID_A.hex()
    hexes = [a.hex() for a in card.apdus]
    assert hexes[:3] == ["80ca9f7f00", "00a4040000", "80ca9f7f00"], hexes


def test_atr_only_card(daemon, pcscd, cms, cards):
    """A card that refuses everything is its ATR: still checked, chuid and cplc null."""
    r0, _ = readers(pcscd)
    cms.script("atr:" + DEFAULT_ATR.hex(), cms.nothing_pending("atr", recheck_after_s=0))
    cards("atr_only").insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date")
    body = cms.requests[0]["json"]["card"]
    assert body == {"atr": DEFAULT_ATR.hex(), "cplc": None, "chuid": None}


def test_garbage_card(daemon, pcscd, cms, cards):
    """A card answering garbage: no crash, the daemon keeps running.  Its first answer
    is one byte (no status word): the read fails, no check is sent, the reader shows
    the card as present with code card_unreadable (no message: nobody is alerted),
    and a manual check says the card is unreadable."""
    r0, r1 = readers(pcscd)
    card = cards("garbage")
    card.insert(pcscd.port)
    card.wait_apdus(1)
    wait_log(daemon, r"reply without status word")
    r = wait_reader(daemon, r0, phase="check_failed", card="present")
    assert r["prompt"] is None and r["code"] == "card_unreadable" and r["message"] is None
    assert cms.requests == []
    status, _ = daemon.post("/api/v1/check", {"reader": r0})
    assert status == 202
    r = daemon.wait_for(lambda st: any(x["name"] == r0 and x["message"] for x in st["readers"]),
                        what="manual check message")
    r = next(x for x in r["readers"] if x["name"] == r0)
    assert r["phase"] == "check_failed" and r["code"] == "card_unreadable"
    assert cms.requests == []

    # Second insertion: the card goes on through its list of malformed answers
    # (a broken TLV as CPLC, an over-long 53 length to SELECT, random bytes as
    # CHUID).  None of it is usable: the card is its ATR, and that is checked.
    card.remove()
    wait_reader(daemon, r0, card="absent")
    card.insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date", card="present")
    assert len(cms.requests) == 1
    assert cms.requests[0]["json"]["card"] == {"atr": card.atr.hex(), "cplc": None,
                                               "chuid": None}
    assert daemon.alive()

    # The other reader is unaffected.
    cms.script(GUID_B.hex(), cms.nothing_pending("b", recheck_after_s=0))
    cards(guid=GUID_B).insert(pcscd.port + 1)
    wait_reader(daemon, r1, phase="up_to_date")


def test_card_pulled_mid_read(daemon, pcscd, cms, cards):
    """Pulled while cardupd waits for an answer: the read is dropped, no check is
    sent, the reader is idle; the next card there is read normally."""
    r0, _ = readers(pcscd)
    card = cards(hang_after=1)           # answers the first APDU, then silence
    card.insert(pcscd.port)
    card.wait_apdus(2)
    wait_reader(daemon, r0, phase="reading", card="present")
    card.remove()
    wait_reader(daemon, r0, phase="idle", card="absent")
    assert cms.requests == []
    # vpcd hands the pending SCardTransmit "success" with 0 bytes when the card
    # goes; pcscd reports the removal only at its next poll.
    assert re.search(r"card pulled|reply without status word", daemon.log())

    cms.script(GUID_B.hex(), cms.nothing_pending("next", recheck_after_s=0))
    cards(guid=GUID_B).insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date", card="present")
    assert len(cms.requests) == 1
    assert cms.requests[0]["json"]["trigger"] == "insertion"


def test_stuck_card_other_reader_works(daemon, pcscd, cms, cards):
    """A card that never answers in reader 0 blocks neither reader 1 nor the daemon;
    its read is given up after the read timeout (card present, card_unreadable)."""
    r0, r1 = readers(pcscd)
    t_read = read_timeout_s()
    cms.script(GUID_B.hex(), cms.nothing_pending("b", recheck_after_s=0))
    stuck = cards(hang_after=0)
    stuck.insert(pcscd.port)
    stuck.wait_apdus(1)
    t_stuck = time.monotonic()
    wait_reader(daemon, r0, phase="reading")

    good = cards(guid=GUID_B)
    good.insert(pcscd.port + 1)
    wait_reader(daemon, r1, phase="up_to_date")
    good.remove()
    wait_reader(daemon, r1, phase="idle", card="absent")
    good.insert(pcscd.port + 1)
    wait_reader(daemon, r1, phase="up_to_date", card="present")
    assert len(requests_for(cms, r1)) == 2
    if time.monotonic() - t_stuck < t_read - 0.5:
        assert daemon.reader(r0)["phase"] == "reading"

    # Given up after the read timeout: present, unreadable, nothing sent, logged.
    wait_reader(daemon, r0, phase="check_failed", card="present", timeout=t_read + WAIT)
    assert time.monotonic() - t_stuck >= t_read - 0.5
    assert "card not answering" in daemon.log()
    assert requests_for(cms, r0) == []

    # Removing it frees the reader: the next card there is read.
    stuck.remove()
    wait_reader(daemon, r0, phase="idle", card="absent")
    cms.script(GUID_A.hex(), cms.nothing_pending("a", recheck_after_s=0))
    cards(guid=GUID_A).insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date", card="present")
    assert daemon.alive()

    # A card stuck at shutdown: SIGTERM still stops cardupd at once and cleanly
    # (the fixture checks the sanitizers); the stuck read is abandoned.
    good.remove()
    wait_reader(daemon, r1, card="absent")
    stuck2 = cards(hang_after=0)
    stuck2.insert(pcscd.port + 1)
    stuck2.wait_apdus(1)
    wait_reader(daemon, r1, phase="reading")
    t0 = time.monotonic()
    assert daemon.stop() == 0
    assert time.monotonic() - t0 < 2.0
    assert stuck2.connected          # the card was still stuck when it stopped


# ---- pcscd --------------------------------------------------------------------------

def test_pcscd_killed_and_restarted(daemon, pcscd, cms, cards):
    """pcscd dies (SIGKILL): the readers go, cardupd retries with a growing backoff
    (a few log lines, no flood), and once pcscd is back the card already in the reader
    is checked again with trigger "startup"."""
    r0, _ = readers(pcscd)
    cms.script(GUID_A.hex(), cms.nothing_pending("a", recheck_after_s=0))
    card = cards(guid=GUID_A)
    card.insert(pcscd.port)
    wait_reader(daemon, r0, phase="up_to_date")

    mark = len(daemon.log())
    pcscd.kill()
    daemon.wait_for(lambda st: st["readers"] == [], WAIT, "readers gone with pcscd")
    # Wait for the third failed reconnection: the next try is then >= 1.5 s away,
    # time enough for pcscd to come back with the card in before cardupd looks.
    wait_log(daemon, r"pcsc: SCardEstablishContext:", count=3, since=mark)
    pcscd.start()
    card.insert(pcscd.port)
    card.wait_seen()
    wait_reader(daemon, r0, phase="up_to_date", card="present", timeout=WAIT + 8)
    q = requests_for(cms, r0)
    assert [x["trigger"] for x in q] == ["insertion", "startup"]
    assert q[1]["card"]["chuid"]["guid"] == GUID_A.hex()

    outage = daemon.log()[mark:]
    assert "pcscd is back" in outage
    warnings = [ln for ln in outage.splitlines() if "SCardEstablishContext" in ln]
    assert len(warnings) <= 8, outage
    assert_no_identifiers(daemon)


def test_cardupd_before_pcscd(make_daemon, tmp_path, cms, cards):
    """cardupd starts with no pcscd: it runs, shows no readers, and picks pcscd up
    when it comes (readers appear, a card is checked)."""
    late = PrivatePcscd(str(tmp_path / "late"))
    d = make_daemon(start=False)
    d.env = dict(late.env)
    try:
        d.start()
        wait_log(d, r"pcscd is not reachable")
        assert d.state()["readers"] == []
        late.start()
        r0, r1 = late.reader_names
        d.wait_for(lambda st: sorted(r["name"] for r in st["readers"]) == [r0, r1],
                   WAIT + 8, "readers of the late pcscd")
        cms.script(GUID_A.hex(), cms.nothing_pending("a", recheck_after_s=0))
        cards(guid=GUID_A).insert(late.port + 1)
        wait_reader(d, r1, phase="up_to_date")
        assert cms.requests[0]["json"]["trigger"] == "insertion"
        assert cms.requests[0]["json"]["reader"] == r1
    finally:
        d.stop()
        late.stop()
