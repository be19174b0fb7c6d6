# SPDX-License-Identifier: BSD-2-Clause
"""cardupctl (SPEC §4) against the running daemon's loopback kiosk API: status,
readers, check [READER], events; exit codes 0 ok, 1 runtime failure, 2 usage or
configuration error."""

import os
import subprocess
import time

from vcard import DEFAULT_GUID

GUID = DEFAULT_GUID.hex()
CTL = os.path.join(os.path.dirname(os.environ.get("CARDUPD_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "cardupd")), "cardupctl")


def ctl(*args, timeout=20):
    p = subprocess.run([CTL] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def test_status_readers_check(daemon, pcscd, cms, cards):
    r0 = pcscd.reader_names[0]
    rc, out, err = ctl("-c", daemon.conf_path, "readers")      # kiosk.listen from the file
    assert rc == 0, err
    assert out.splitlines() == [r["name"] for r in daemon.state()["readers"]]
    rc, out, err = ctl("-u", daemon.url, "status")
    assert rc == 0 and r0 + ": card absent, idle" in out
    rc, out, err = ctl("-u", daemon.url, "check", r0)
    assert rc == 2 and "no card" in err                         # usage: nothing to check
    cms.script(GUID, cms.nothing_pending("card-ctl"))
    cards().insert(pcscd.port)
    daemon.wait_phase(r0, "up_to_date")
    rc, out, err = ctl("-u", daemon.url, "check", r0)
    assert rc == 0, (out, err)
    assert out.startswith(r0 + ": ") and "no update" in out.lower(), out
    cms.script(GUID, cms.pending("card-ctl", updates=[("card_unlock", "Unlock it")]))
    rc, out, err = ctl("-u", daemon.url, "check")               # the one reader with a card
    assert rc == 0, (out, err)
    assert "update found" in out and "card_unlock: Unlock it" in out
    cms.script(GUID, {"status": 500, "json": {"error": "boom"}})
    daemon.post("/api/v1/prompt/close", {"reader": r0, "prompt": daemon.reader(r0)["prompt"]["id"]})
    rc, out, err = ctl("-u", daemon.url, "check", r0)
    assert rc == 1, (out, err)
    assert "http_status" in out


def test_events_stream(daemon, pcscd, cms, cards):
    p = subprocess.Popen([CTL, "-u", daemon.url, "events"], stdout=subprocess.PIPE, text=True)
    try:
        first = p.stdout.readline()
        assert '"readers"' in first
        cms.script(GUID, cms.nothing_pending("card-ev"))
        cards().insert(pcscd.port)
        seen = ""
        end = time.monotonic() + 30
        while "up_to_date" not in seen and time.monotonic() < end:
            seen += p.stdout.readline()
        assert "up_to_date" in seen
    finally:
        p.terminate()
        p.wait(5)


def test_exit_codes(daemon, tmp_path):
    assert ctl()[0] == 2
    assert ctl("frobnicate")[0] == 2
    assert ctl("-u", "not a url", "status")[0] == 2
    bad = tmp_path / "bad.conf"
    bad.write_text("[cms]\nurl = nope\n")
    rc, out, err = ctl("-c", str(bad), "status")
    assert rc == 2 and "bad.conf" in err
    rc, out, err = ctl("-u", "http://127.0.0.1:1", "status")     # nobody there
    assert rc == 1
