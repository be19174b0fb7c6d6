#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make faults: the daemon under the faults a kiosk meets, on the real rig (private pcscd +
vpcd, TLS test CMS, cardupd), with the recovery time after each fault ends.

Faults: pcscd killed (SIGKILL) and restarted ×20 with a card in; pcscd stopped (the readers
gone) and back; the CMS down (not listening), slow (answers after the client's deadline),
resetting connections, answering garbage — each for three manual checks, so the circuit
breaker opens; a card pulled mid-read (it stops answering, then is removed).

Recovery is measured from the end of the fault to the state a user needs again: the card
checked and "up to date" (for the CMS faults: the first manual check that succeeds, the
kiosk retrying every 100 ms as a user pressing "check" would; for the card: the reader
idle again, then the next card checked).  Figures, printed beside the 2 s goal; the exit
status says only whether the daemon stayed up, every fault ended in the wanted state and
it stopped cleanly.  usage: faults.py [PCSCD_KILLS]  (default 20)"""

import signal
import statistics
import sys
import time

from common import Rig, guid_hex

GOAL_S = 2.0
TIMEOUT_MS = 1000       # the CMS client's deadline in this run (cms.timeout_ms)


def until(pred, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise AssertionError("timed out: " + what)


def manual_check(rig):
    """POST /api/v1/check on reader 0 and wait for its outcome: (phase, code)."""
    d = rig.daemon
    seq = d.state()["seq"]
    status, _ = d.post("/api/v1/check", {"reader": rig.readers[0]})
    if status != 202:
        return ("refused", str(status))

    def done():
        st = d.state()
        if st["seq"] == seq:
            return None
        r = next(x for x in st["readers"] if x["name"] == rig.readers[0])
        if r["phase"] in ("reading", "checking"):
            return None
        return (r["phase"], r.get("code"))
    return until(done, 10 + TIMEOUT_MS / 1000 * 4, "manual check outcome")


def recover_by_manual_checks(rig, bound=60.0):
    """Seconds from now until a manual check succeeds (retried every 100 ms)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < bound:
        phase, code = manual_check(rig)
        if phase in ("up_to_date", "prompt") and code in (None, "", "updated"):
            return time.monotonic() - t0
        time.sleep(0.1)
    raise AssertionError("no successful check within %.0f s" % bound)


def fault_pcscd(rig, card, kills, sig):
    out = []
    for _ in range(kills):
        if sig == signal.SIGKILL:
            rig.pcscd.kill()
        else:
            rig.pcscd.stop()
        rig.daemon.wait_for(lambda st: st["readers"] == [], 10, "readers gone")
        try:
            card.remove()
        except Exception:
            pass
        rig.pcscd.start()
        t0 = time.monotonic()
        card.insert(rig.pcscd.port)
        rig.wait_reader(0, timeout=30, phase="up_to_date", card="present")
        out.append(time.monotonic() - t0)
    return out


def fault_cms(rig, kind):
    cms = rig.cms
    if kind == "down":
        cms.stop()                  # no new connections...
        cms.drop_connections()      # ...and the kept-alive one is gone too
    elif kind == "slow":
        cms.script(guid_hex(), dict(cms.nothing_pending("f", recheck_after_s=0),
                                    delay_s=TIMEOUT_MS / 1000 * 2))
    elif kind == "reset":
        cms.script(guid_hex(), {"status": 200, "reset": 0, "json": {}})
    elif kind == "garbage":
        cms.script(guid_hex(), {"status": 200, "raw": b"\x00garbage{]"})
    try:
        codes = [manual_check(rig)[1] for _ in range(3)]
    finally:
        if kind == "down":
            cms.start()          # same port (kept by TestCMS)
        cms.script(guid_hex(), cms.nothing_pending("f", recheck_after_s=0))
    if any(c in (None, "", "updated") for c in codes):
        raise AssertionError("CMS %s: a check succeeded during the fault: %s" % (kind, codes))
    return [recover_by_manual_checks(rig)], codes


def fault_card_pulled(rig, rounds=5):
    out = []
    for _ in range(rounds):
        stuck = rig.card(hang_after=1)
        stuck.insert(rig.pcscd.port)
        stuck.wait_apdus(1)
        rig.wait_reader(0, phase="reading")
        stuck.remove()
        t0 = time.monotonic()
        rig.wait_reader(0, phase="idle", card="absent")
        good = rig.card()
        good.insert(rig.pcscd.port)
        rig.wait_reader(0, phase="up_to_date", card="present")
        out.append(time.monotonic() - t0)
        good.remove()
        rig.wait_reader(0, phase="idle", card="absent")
    return out


def main():
    kills = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    rows, failures = [], []
    with Rig({"cms": {"timeout_ms": str(TIMEOUT_MS), "retries": "0"}}) as rig:
        rig.cms.script(guid_hex(), rig.cms.nothing_pending("f", recheck_after_s=0))
        card = rig.card()
        card.insert(rig.pcscd.port)
        rig.wait_reader(0, phase="up_to_date", card="present")
        plan = [
            ("pcscd killed and restarted, card in", lambda: (fault_pcscd(rig, card, kills, signal.SIGKILL), None)),
            ("pcscd stopped (readers gone) and back", lambda: (fault_pcscd(rig, card, 3, signal.SIGTERM), None)),
            ("CMS down", lambda: fault_cms(rig, "down")),
            ("CMS slow (past the deadline)", lambda: fault_cms(rig, "slow")),
            ("CMS resetting connections", lambda: fault_cms(rig, "reset")),
            ("CMS answering garbage", lambda: fault_cms(rig, "garbage")),
        ]
        for name, run in plan:
            try:
                times, codes = run()
                rows.append((name, times, codes))
            except AssertionError as e:
                failures.append("%s: %s" % (name, str(e).splitlines()[0]))
                rows.append((name, [], None))
            if not rig.daemon.alive():
                failures.append("%s: cardupd died" % name)
                break
        if rig.daemon.alive():
            try:
                card.remove()
                rig.wait_reader(0, phase="idle", card="absent")
                rows.append(("card pulled mid-read", fault_card_pulled(rig), None))
            except AssertionError as e:
                failures.append("card pulled mid-read: %s" % str(e).splitlines()[0])
        alive = rig.daemon.alive()
        rc = rig.close()
    print("faults: recovery after each fault ends (goal <= %.1f s; figures, not pass/fail)"
          % GOAL_S)
    print("  %-42s %4s %8s %8s  %s" % ("fault", "n", "median", "max", "codes seen during"))
    for name, times, codes in rows:
        if times:
            print("  %-42s %4d %7.2fs %7.2fs  %s" % (name, len(times), statistics.median(times),
                                                  max(times), ",".join(codes or []) or "-"))
        else:
            print("  %-42s %4s %8s %8s" % (name, "-", "FAILED", ""))
    if not alive or rc != 0:
        failures.append("cardupd died or did not stop cleanly (rc %s)" % rc)
    for f in failures:
        print("faults: FAILED: " + f)
    print("faults: %s" % ("ok: the daemon stayed up through every fault" if not failures
                          else "FAILED"))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
