#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make vm-test: the product's board images booted under QEMU with a USB CCID reader, and
the whole journey run there (issue 11).

Each guest is built by tests/vm/mkguest.py (the board image over a Debian base, BusyBox
init running the image's S45pcscd and S50cardupd, cardupd as user cardupd). Its card
is one of the rig's scripted cards (tests/rig/vcard.py) in QEMU's usb-ccid reader,
driven through the VSCard bridge (tests/rig/vscard.py); the CMS is the rig's TLS test
CMS (tests/rig/testcms.py + testseram.py), reached as https://cms.test from inside a
network namespace this program creates (tests/vm/vmsite.py). Everything in the guest is
observed through its agent on the virtio console: `cardupctl events`, the PC/SC anchor
vm-pcsc-watch, and shell commands.

usage: run.py [--work DIR] [--timings FILE] [--only TEXT] GUEST...
    GUEST = NAME:BUILD_DIR:IMAGE_TARBALL[:full|noadmin|smoke]
The first guest runs alone (its figures are the reference), the others side by side.
Prints PASS/FAIL per journey, the figures (never pass/fail) and where the time went.
Exit status 1 when a journey failed. Root only (network namespace, disk owners).
"""

import argparse
import json
import os
import re
import shlex
import shutil
import signal
import sys
import threading
import time
import traceback
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "rig"))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
sys.path.insert(0, HERE)

import vmsite                       # noqa: E402
from guest import Guest, GuestError  # noqa: E402
from testseram import (RemoteAgent, apdus, get_data, notify, put_data,  # noqa: E402
                       select_piv, start, stop)
from vcard import T0_ATR, Card      # noqa: E402
from vscard import QEMU_PIV_ATR     # noqa: E402

KIOSK = "http://127.0.0.1:8080"     # [kiosk] listen of the boards' cardupd.conf
CERT_TAG = bytes.fromhex("5FC105")
NEW_CERT = bytes.fromhex("7082") + b"new certificate from the CMS, over USB" + bytes(range(40))
#: An ATR-only card and a garbage card: T=0 ATRs of their own (the CMS matches "atr:").
ATR_ONLY_ATR = T0_ATR[:-1] + b"\x01"
GARBAGE_ATR = T0_ATR[:-1] + b"\x02"


def guid(n):
    return bytes.fromhex("C0FFEE%02X" % n) + bytes(range(1, 13))


class Timer:
    def __init__(self):
        self.steps = []

    def step(self, name):
        timer = self

        class _Step:
            def __enter__(self):
                self.t0 = time.monotonic()

            def __exit__(self, *exc):
                timer.steps.append((name, time.monotonic() - self.t0))
        return _Step()


class Suite:
    """What the guests share: the namespace, the PKI, the results, figures and timings."""

    def __init__(self, args, work):
        self.args = args
        self.work = work
        self.timer = Timer()
        self.results = []           # (guest, journey, ok, detail, seconds)
        self.figures = []           # (guest, what, value, anchor, unit)
        self.pki = None
        self.t0 = time.monotonic()

    def report(self, build_timings):
        print("\n== figures (QEMU TCG on this machine: absolute times are slow; "
              "the anchor is the guest's PC/SC client vm-pcsc-watch on the same pcscd)")
        order = []
        for f in self.figures:
            if f[0] not in order:
                order.append(f[0])
        for gname, what, v, anchor, unit in sorted(self.figures, key=lambda f: order.index(f[0])):
            a = ""
            if anchor is not None and isinstance(anchor, (int, float)):
                a = "   pcsc anchor %.3f %s" % (anchor, unit)
                if anchor > 0 and unit in ("s", "MiB"):
                    a += "  (x%.1f)" % (v / anchor)
            print("  %-9s %-62s %8.3f %s%s" % (gname, what, v, unit, a))
        print("\n== where the time went")
        total = 0.0
        for name, dt in build_timings + self.timer.steps:
            print("  %7.1f s  %s" % (dt, name))
            total += dt
        print("  %7.1f s  total of the steps (guests after the first run in parallel: "
              "%.1f s of wall time in run.py)" % (total, time.monotonic() - self.t0))
        failed = [r for r in self.results if not r[2]]
        print("\n== vm-test: %d journeys passed, %d failed" % (
            len(self.results) - len(failed), len(failed)))
        for gname, name, _, detail, _ in failed:
            print("  FAILED  %s: %s" % (gname, name))
        return 1 if failed else 0


    def setup_site(self):
        with self.timer.step("site: network namespace, PKI"):
            vmsite.enter_netns()
            self.pki = vmsite.site_pki(os.path.join(self.work, "pki"))


class VmTest:
    """One guest and its journeys, with a test CMS of its own (guests run in parallel)."""

    def __init__(self, suite, index):
        self.suite = suite
        self.args = suite.args
        self.work = suite.work
        self.timer = suite.timer
        self.results = suite.results
        self.figures = suite.figures
        self.pki = suite.pki
        self.index = index
        self.cms = None
        self.g = None

    # ---- helpers -------------------------------------------------------------------

    def journey(self, gname, name, fn, *a):
        t0 = time.monotonic()
        try:
            detail = fn(*a) or ""
            ok = True
        except Exception as e:      # noqa: BLE001 — every failure is reported
            ok = False
            detail = "%s: %s" % (type(e).__name__, e)
            if not isinstance(e, (AssertionError, GuestError, TimeoutError)):
                detail += "\n" + traceback.format_exc()
            detail += self.diagnostics()
            self.reset_reader()
        dt = time.monotonic() - t0
        self.timer.steps.append(("%s: %s" % (gname, name), dt))
        self.results.append((gname, name, ok, detail, dt))
        print("  %s  %-9s %s (%.1f s)%s" % ("PASS" if ok else "FAIL", gname, name, dt,
                                             ("\n" + _indent(detail)) if detail else ""),
              flush=True)
        return ok

    def diagnostics(self):
        g = getattr(self, "g", None)
        if g is None:
            return ""
        out = ["", "--- last agent lines (s since QEMU start):"]
        for t, kind, rest in [x for x in g.lines if x[1] in ("ev", "pcsc", "hello")][-16:]:
            if kind == "ev":
                try:
                    st = json.loads(rest)
                    rest = json.dumps([(r["card"], r["phase"], r.get("code"), r["name"][-24:])
                                       for r in st.get("readers", [])])
                except ValueError:
                    pass
            if kind in ("ev", "pcsc", "hello"):
                out.append("  %8.2f %s %s" % (t - g.started_at, kind, rest[:160]))
        out += ["--- guest console (tail):", g.console(600)]
        if g.alive():
            try:
                out += ["--- guest logread (tail):",
                        g.run("logread 2>/dev/null | tail -40", timeout=20, check=False)[1]]
            except Exception:
                pass
        return "\n".join(out)

    def reset_reader(self):
        """After a failed journey: the card out, the reader idle (best effort), so that
        the next journey starts as it expects."""
        g = getattr(self, "g", None)
        if g is None or not g.alive():
            return
        try:
            if g.bridge.card is not None:
                t = g.bridge.remove()
                g.wait_state(lambda st: not st.get("readers") or
                             self.reader0(st)["card"] == "absent", since=t, timeout=60)
        except Exception:
            pass

    def figure(self, gname, what, value, anchor=None, unit="s"):
        self.figures.append((gname, what, value, anchor, unit))

    @staticmethod
    def reader0(st):
        return st["readers"][0] if st and st.get("readers") else None

    def phase(self, phase, card=None):
        def pred(st):
            r = self.reader0(st)
            return r is not None and r["phase"] == phase and (card is None or r["card"] == card)
        return pred

    def none_card(self):
        """The T=0 card (61xx chaining) with nothing pending; no re-check window, so
        that every insertion, replug and restart checks it again."""
        self.cms.script(guid(2).hex(), self.cms.nothing_pending("c-none", recheck_after_s=0))
        return Card(t0=True, guid=guid(2))

    def requests_since(self, n):
        return self.cms.requests[n:]

    # ---- the guest and its CMS -------------------------------------------------------

    def boot(self, gname, build, image, admin):
        gdir = os.path.join(self.work, gname)
        os.makedirs(gdir, exist_ok=True)
        cms_port = 443 + 1000 * self.index
        with self.timer.step("%s: test CMS, persistent disk" % gname):
            self.cms = vmsite.SiteCMS(self.pki, port=cms_port).start()
            disk = os.path.join(gdir, "data.img")
            self.uid, self.gid = vmsite.make_disk(
                image, disk, os.path.join(gdir, "stage"), self.pki,
                vmsite.site_settings(admin=admin, device_id="vm-" + gname,
                                     cms_port=cms_port))
        with open(os.path.join(build, "guest.json")) as f:
            meta = json.load(f)
        self.admin_port = None
        fwd = []
        if admin:
            self.admin_port = 18443 + self.index
            fwd = [(self.admin_port, vmsite.ADMIN_PORT)]
        g = Guest(build, gdir, arch=meta["arch"], disk=disk, hostfwd=fwd, net=True)
        self.g = g
        g.start()
        return g

    # ---- journeys -----------------------------------------------------------------------

    def j_boot(self, gname):
        g = self.g
        t_hello = g.wait_hello(timeout=300)
        t_ready, st = g.wait_state(lambda st: len(st.get("readers", [])) >= 1, timeout=120,
                                   what="the kiosk API with the USB reader listed")
        t_pcsc, _ = g.wait_pcsc("ready", timeout=60)
        t_reader, line = g.wait_pcsc("reader+", timeout=60)
        name = self.reader0(st)["name"]
        assert "CCID" in name and "USB" in name, "not libccid's USB reader: %r" % name
        assert line[len("reader+ "):] == name, (line, name)
        self.figure(gname, "QEMU start -> kiosk API ready, USB reader listed",
                    t_ready - g.started_at, t_reader - g.started_at)
        self.figure(gname, "  (guest uptime at agent start)", float(g.hellos[-1][1]), None)
        # The image's owners and modes, the service user, its init scripts.
        out = g.out("stat -c '%n %u:%g %a' /etc/cardupd /etc/cardupd/cardupd.conf; "
                    "pid=$(pidof cardupd); "
                    "echo uid $(awk '/^Uid:/ {print $2}' /proc/$pid/status); "
                    "echo exe $(readlink /proc/$pid/exe); "
                    "echo pcscd $(pidof pcscd)")
        want = ["/etc/cardupd %d:%d 700" % (self.uid, self.gid),
                "/etc/cardupd/cardupd.conf %d:%d 600" % (self.uid, self.gid),
                "uid %d" % self.uid, "exe /usr/sbin/cardupd"]
        for w in want:
            assert w in out, "%r not in:\n%s" % (w, out)
        assert re.search(r"pcscd \d+", out), out
        self.reader_name = name
        return "reader %r; cardupd uid %d; boot to kiosk %.1f s (pcscd's reader %.1f s)" % (
            name, self.uid, t_ready - g.started_at, t_reader - g.started_at)

    def proceed(self, st):
        r = self.reader0(st)
        body = json.dumps({"reader": r["name"], "prompt": r["prompt"]["id"]})
        out = self.g.out("wget -q -O - --header 'Content-Type: application/json' "
                         "--post-data %s %s/api/v1/prompt/proceed" % (shlex.quote(body), KIOSK))
        return json.loads(out)["portal_url"]

    def j_update_session(self, gname):
        """card in -> identity over libccid -> check -> prompt -> Proceed -> SERAM session
        (APDUs on the USB card) -> remove and re-insert -> up to date."""
        g, cms = self.g, self.cms
        gid = guid(1)
        # T=0 only, answering 61xx: the session's GET RESPONSE chains go over USB too.
        card = Card(t0=True, guid=gid)
        ra = RemoteAgent(cms, [start(), notify("Writing your new certificate"),
                               apdus([select_piv(), put_data(CERT_TAG, NEW_CERT),
                                      get_data(CERT_TAG)]), notify("Almost done"), stop()])
        cms.script(gid.hex(), cms.pending("c-usb", agent={"seram_url": ra.url}))
        n = len(cms.requests)
        t_in = g.bridge.insert(card)
        t_prompt, st = g.wait_state(self.phase("prompt"), since=t_in, timeout=90,
                                    what="the prompt")
        t_present, _ = g.wait_pcsc("present", since=t_in)
        self.figure(gname, "VSC ATR (card in) -> prompt on the guest's kiosk API",
                    t_prompt - t_in, t_present - t_in)
        req = self.requests_since(n)[0]["json"]
        assert req["reader"] == self.reader_name, req["reader"]
        assert req["trigger"] == "insertion", req
        assert req["card"]["chuid"]["guid"] == gid.hex(), req["card"]
        assert req["card"]["cplc"] == card.cplc.hex(), req["card"]
        assert req["card"]["atr"].lower() == T0_ATR.hex(), req["card"]
        url = self.proceed(st)
        sid = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)["seram_session"][0]
        assert ra.wait_handshake(timeout=60)[0] == sid
        t_re, st = g.wait_state(self.phase("reinsert"), timeout=120, since=t_prompt,
                                what="the request to re-insert the card")
        assert card.objects.get(CERT_TAG) == NEW_CERT, "PUT DATA did not reach the card"
        done = [js for _, js in ra.reports
                if js["localAgentStatus"]["localAgentStatusEnum"] == "PROCESSED"]
        assert done, ra.reports
        rapdus = done[0]["ramResponses"][0]["listOfRAPDU"]
        assert len(rapdus) == 3 and rapdus[1] == "9000", rapdus
        assert rapdus[2].endswith("9000") and NEW_CERT.hex().upper() in rapdus[2].upper(), rapdus
        cms.script(gid.hex(), cms.nothing_pending("c-usb"))
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out, what="the reader idle")
        t_in = g.bridge.insert(card)
        g.wait_state(self.phase("up_to_date"), since=t_in, timeout=60, what="up to date")
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        return "session %s: %d APDUs over USB, reinsert after %.1f s" % (
            sid[:8], len(card.apdus), t_re - t_prompt)

    def j_nothing_pending(self, gname):
        """A T=0 card answering 61xx (GET RESPONSE chaining) with nothing pending: checked,
        up to date, never a prompt."""
        g, cms = self.g, self.cms
        gid = guid(2)
        card = self.none_card()
        n = len(cms.requests)
        t_in = g.bridge.insert(card)
        t_up, _ = g.wait_state(self.phase("up_to_date"), since=t_in, timeout=60)
        assert not [st for t, st in g.states if t >= t_in and self.phase("prompt")(st)], \
            "a prompt was shown"
        req = self.requests_since(n)[0]["json"]
        assert req["card"]["chuid"]["guid"] == gid.hex(), req["card"]
        assert any(a[1] == 0xC0 for a in card.apdus), "no GET RESPONSE reached the card"
        self.figure(gname, "VSC ATR -> up to date (nothing pending, T=0 61xx card)",
                    t_up - t_in, g.wait_pcsc("present", since=t_in)[0] - t_in)
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        return "%d APDUs, %d GET RESPONSE" % (len(card.apdus),
                                              sum(1 for a in card.apdus if a[1] == 0xC0))

    def j_odd_cards(self, gname):
        """An ATR-only card (its identity is its ATR: checked) and a card answering
        garbage (first answer without a status word: unreadable, nothing checked, nobody
        alerted), as on the vpcd rig (tests/integration/test_readers.py)."""
        g, cms = self.g, self.cms
        notes = []
        card = Card(personality="atr_only", atr=ATR_ONLY_ATR)
        cms.script("atr:" + ATR_ONLY_ATR.hex(), cms.nothing_pending("c-atr-only"))
        n = len(cms.requests)
        t_in = g.bridge.insert(card)
        t_up, st = g.wait_state(self.phase("up_to_date", "present"), since=t_in, timeout=60,
                                what="the ATR-only card up to date")
        reqs = self.requests_since(n)
        assert reqs, "no check for the ATR-only card"
        assert reqs[0]["json"]["card"] == {"atr": ATR_ONLY_ATR.hex(), "cplc": None,
                                           "chuid": None}, reqs[0]["json"]["card"]
        notes.append("ATR-only: up to date after %.1f s, %d APDUs" % (t_up - t_in,
                                                                      len(card.apdus)))
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)

        card = Card(personality="garbage", atr=GARBAGE_ATR)
        n = len(cms.requests)
        t_in = g.bridge.insert(card)
        t_f, st = g.wait_state(self.phase("check_failed", "present"), since=t_in, timeout=60,
                               what="the garbage card unreadable")
        r = self.reader0(st)
        assert r["code"] == "card_unreadable" and r["prompt"] is None and \
            r["message"] is None, r
        assert not self.requests_since(n), "a garbage card was checked"
        notes.append("garbage: card_unreadable after %.1f s, nothing checked" % (t_f - t_in))
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        return "; ".join(notes)

    def j_pulled_mid_read(self, gname):
        """The card is pulled while QEMU holds cardupd's APDU for it: the reader fails
        that exchange (fail_exchange, as a reader does when the card leaves: QEMU
        itself would drop the answer, docs/readers.md), then the card is out. Nothing
        is checked, the reader is idle; the next card is fine."""
        g, cms = self.g, self.cms
        gid = guid(3)
        card = Card(atr=T0_ATR, guid=gid, hang_after=1)
        cms.script(gid.hex(), cms.nothing_pending("c-pulled"))
        n = len(cms.requests)
        t_in = g.bridge.insert(card)
        card.wait_apdus(2, timeout=60)           # the second APDU is left unanswered
        t_pull = time.monotonic()
        assert g.bridge.fail_exchange(), "no APDU pending"
        t_fail, st = g.wait_state(self.phase("check_failed", "present"), since=t_in,
                                  timeout=60, what="the read failed at the exchange")
        t_out = g.bridge.remove()
        t_idle, _ = g.wait_state(self.phase("idle", "absent"), since=t_out, timeout=60)
        t_empty, _ = g.wait_pcsc("empty", since=t_out)
        self.figure(gname, "card pulled mid-APDU -> reader idle", t_idle - t_pull,
                    t_empty - t_pull)
        bad = [r for r in self.requests_since(n)
               if (r["json"].get("card") or {}).get("atr", "").lower() == T0_ATR.hex()]
        assert not bad, "checked a card pulled mid-read: %s" % bad[0]["json"]["card"]
        return "read failed %.2f s after the pull (%s), idle %.2f s after; %s" % (
            t_fail - t_pull, self.reader0(st)["code"], t_idle - t_out,
            self.good_card_again("after the pull"))

    def good_card_again(self, why):
        g = self.g
        card = self.none_card()
        t_in = g.bridge.insert(card)
        g.wait_state(self.phase("up_to_date"), since=t_in, timeout=60,
                     what="a good card up to date %s" % why)
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        return "a good card is checked %s" % why

    def j_stops_answering(self, gname):
        """A card that stops answering after its first APDU and stays in. libccid waits
        for it as long as its T=0 read timeout says (minutes with QEMU's reader, where
        vpcd would wait for ever); cardupd gives up after PCSC_READ_TIMEOUT_MS and
        stays responsive. Then the card is pulled and the reader is free again."""
        g = self.g
        card = Card(atr=T0_ATR, guid=guid(4), hang_after=1)
        n = len(self.cms.requests)
        t_in = g.bridge.insert(card)
        card.wait_apdus(2, timeout=60)
        t_gave, st = g.wait_state(self.phase("check_failed", "present"), since=t_in,
                                  timeout=90, what="cardupd giving up on the silent card")
        r = self.reader0(st)
        assert r["code"] == "card_unreadable" and r["message"] is None, r
        assert not self.requests_since(n), "a silent card was checked"
        self.figure(gname, "silent card in -> cardupd gives up reading", t_gave - t_in)
        # cardupd still answers while its read thread is stuck in SCardTransmit (the
        # kiosk API itself, asked directly).
        assert "Gemalto" in g.out("wget -q -O - %s/api/v1/state" % KIOSK, timeout=30)
        # Pulled: the reader fails the exchange; once pcscd has the reader back (a
        # PC/SC connect returns), the card goes.
        assert g.bridge.fail_exchange(), "no APDU pending"
        probe = g.out("/usr/libexec/vm-agent/vm-pcsc-watch --probe %s"
                      % shlex.quote(self.reader_name), timeout=60)
        assert "probe OK" in probe, probe
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out, timeout=60)
        return "card_unreadable after %.1f s (%d APDUs, none checked); %s" % (
            t_gave - t_in, len(card.apdus), self.good_card_again("after the silent card"))

    def j_replug(self, gname):
        """The reader is unplugged and plugged back (QMP device_del/device_add): it comes
        back under a new name, and the card in it is checked again."""
        g, cms = self.g, self.cms
        card = self.none_card()
        t_in = g.bridge.insert(card)
        g.wait_state(self.phase("up_to_date"), since=t_in, timeout=60)
        old = self.reader_name
        t_del = g.unplug_reader()
        t_gone, _ = g.wait_state(lambda st: not st.get("readers"), since=t_del, timeout=60,
                                 what="the reader gone")
        t_pgone, _ = g.wait_pcsc("reader-", since=t_del)
        self.figure(gname, "reader unplugged -> gone from the kiosk state", t_gone - t_del,
                    t_pgone - t_del)
        n = len(cms.requests)
        t_add = g.plug_reader()
        g.bridge.insert(card)                   # the card stayed in the reader
        t_back, st = g.wait_state(
            lambda st: self.reader0(st) and self.reader0(st)["name"] != old and
            self.reader0(st)["card"] == "present", since=t_add, timeout=60,
            what="the reader back under a new name, with its card")
        t_pback, _ = g.wait_pcsc("reader+", since=t_add)
        new = self.reader0(st)["name"]
        t_up, _ = g.wait_state(self.phase("up_to_date"), since=t_back, timeout=60)
        self.figure(gname, "reader replugged (device_add) -> back in the kiosk state",
                    t_back - t_add, t_pback - t_add)
        reqs = self.requests_since(n)
        assert reqs and reqs[-1]["json"]["reader"] == new, [r["json"]["reader"] for r in reqs]
        self.reader_name = new
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        return "%r -> %r, checked again %.1f s after the replug" % (old[-22:], new[-22:],
                                                                    t_up - t_add)

    def j_pcscd_killed(self, gname):
        """pcscd is killed and restarted by its init script; cardupd (same process)
        finds it again, with the card that is in."""
        g, cms = self.g, self.cms
        card = self.none_card()
        t_in = g.bridge.insert(card)
        g.wait_state(self.phase("up_to_date"), since=t_in, timeout=60)
        pid = g.out("pidof cardupd").strip()
        n = len(cms.requests)
        t_kill = time.monotonic()
        g.out("kill -9 $(pidof pcscd)")
        g.wait_pcsc("lost", since=t_kill)
        out = g.out("/etc/init.d/S45pcscd restart 2>&1; sleep 0.1; pidof pcscd", timeout=60)
        assert re.search(r"\d+\s*$", out), "pcscd not running after its init script:\n" + out
        t_down, _ = g.wait_state(lambda st: not st.get("readers") or
                                 self.reader0(st)["card"] == "absent", since=t_kill,
                                 timeout=60, what="cardupd noticing pcscd gone")
        t_back, st = g.wait_state(self.phase("up_to_date", "present"), since=t_down,
                                  timeout=60, what="cardupd back on the new pcscd")
        assert g.out("pidof cardupd").strip() == pid, "cardupd restarted"
        assert g.out("kill -0 %s && echo alive" % pid).strip() == "alive"
        reqs = self.requests_since(n)
        assert reqs and reqs[-1]["json"]["reader"] == self.reader_name, \
            "the card was not checked again on the new pcscd"
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        return "readers back %.1f s after the kill; %d checks meanwhile; init script said %r" % (
            t_back - t_kill, len(self.requests_since(n)), " ".join(out.split())[:80])

    def j_cardupd_killed(self, gname):
        """cardupd is killed and restarted by its init script; the card already in is
        checked at start-up."""
        g, cms = self.g, self.cms
        gid = guid(2)
        card = self.none_card()
        t_in = g.bridge.insert(card)
        g.wait_state(self.phase("up_to_date"), since=t_in, timeout=60)
        old = g.out("pidof cardupd").strip()
        n = len(cms.requests)
        t_kill = time.monotonic()
        g.out("kill -9 %s" % old)
        out = g.out("/etc/init.d/S50cardupd start 2>&1", timeout=60)
        assert "OK" in out, out
        t_up, _ = g.wait_state(self.phase("up_to_date"), since=t_kill, timeout=90,
                               what="the restarted daemon's start-up check")
        new = g.out("pidof cardupd").strip()
        assert new != old
        assert g.out("awk '/^Uid:/ {print $2}' /proc/%s/status" % new).strip() == str(self.uid)
        reqs = self.requests_since(n)
        assert reqs and reqs[0]["json"]["trigger"] == "startup", [
            r["json"]["trigger"] for r in reqs]
        assert reqs[0]["json"]["card"]["chuid"]["guid"] == gid.hex()
        self.figure(gname, "cardupd killed -> restarted, card checked at start-up",
                    t_up - t_kill)
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        return "pid %s -> %s, start-up check after %.1f s" % (old, new, t_up - t_kill)

    @staticmethod
    def admin_client(port, fpr):
        """test_admin.Admin, with a TLS timeout for an emulated guest."""
        import hashlib
        import http.client
        from test_admin import Admin

        class SlowAdmin(Admin):
            def connect(self):
                c = http.client.HTTPSConnection("127.0.0.1", self.port,
                                                context=self.context(), timeout=60)
                c.connect()
                der = c.sock.getpeercert(binary_form=True)
                got = ":".join("%02X" % b for b in hashlib.sha256(der).digest())
                assert got == self.fingerprint, "not the certificate the guest showed"
                return c
        return SlowAdmin(port, fpr)

    def j_admin(self, gname):
        """The admin listener from the host side through the forwarded port: the setup
        code read from the guest's console (the kiosk state), a password, a setting saved,
        /metrics scraped with a token."""
        from test_admin import PASSWORD
        g = self.g
        ui = g.state()["ui"]
        code, fpr = ui.get("setup_code"), ui.get("admin_fingerprint")
        assert code and fpr, ui
        a = self.admin_client(self.admin_port, fpr)
        s, js = a.setup(code)
        assert s == 200, js
        s, js = a.settings({"kiosk.prompt_timeout_s": "45"})
        assert s == 200, js
        s, js = a.post("/api/v1/admin/tokens", {"name": "vm-scraper"})
        assert s == 201, js
        anon = self.admin_client(self.admin_port, fpr)
        s, _, body = anon.request("GET", "/metrics", auth=js["token"])
        assert s == 200, body
        text = body.decode()
        m = re.search(r"^cardupd_card_insertions_total (\d+)", text, re.M)
        assert m, text[:500]
        conf = g.out("cat /etc/cardupd/cardupd.conf")
        assert "prompt_timeout_s = 45" in conf and "password_hash = $y$" in conf, conf
        self.admin = (fpr, PASSWORD)
        g.wait_state(lambda st: st["ui"].get("setup_code") is None, timeout=30,
                     what="the setup code gone from the kiosk")
        return "metrics: %d lines, %s insertions" % (len(text.splitlines()), m.group(1))

    def j_reboot(self, gname):
        """A reboot of the guest keeps what the admin saved (the persistent disk)."""
        g = self.g
        boots = len(g.hellos)
        t0 = time.monotonic()
        g.reboot()
        g.wait_hello(boots + 1, timeout=300)
        t_ready, st = g.wait_state(lambda st: len(st.get("readers", [])) >= 1, since=t0,
                                   timeout=120, what="the kiosk after the reboot")
        assert st["ui"].get("setup_code") is None, "setup code again after the reboot"
        assert "prompt_timeout_s = 45" in g.out("cat /etc/cardupd/cardupd.conf")
        fpr, pw = self.admin
        a = self.admin_client(self.admin_port, fpr)      # same certificate: pinned
        s, js = a.login(pw)
        assert s == 200, js
        s, js = a.get("/api/v1/admin/settings")
        assert js["values"]["kiosk.prompt_timeout_s"] == "45", js["values"]
        # The setting is in force: the next prompt counts down from 45 s.
        gid = guid(5)
        self.cms.script(gid.hex(), self.cms.pending("c-after-reboot"))
        t_in = g.bridge.insert(Card(atr=QEMU_PIV_ATR, guid=gid))
        _, st = g.wait_state(self.phase("prompt"), since=t_in, timeout=90)
        exp = self.reader0(st)["prompt"]["expires_in_s"]
        assert 0 < exp <= 45, exp
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        self.figure(gname, "reboot -> kiosk API ready again", t_ready - t0)
        return "rebooted in %.1f s (guest uptime %s s at its agent); prompt expires in %d s" % (
            t_ready - t0, g.hellos[-1][1], exp)

    def usage(self, gname):
        """RSS and CPU time of cardupd, pcscd and the PC/SC anchor, now."""
        out = self.g.out(
            "for n in cardupd pcscd vm-pcsc-watch; do p=$(pidof $n | cut -d' ' -f1); "
            "echo $n $(awk '/^VmRSS:/ {print $2}' /proc/$p/status) "
            "$(cut -d' ' -f14,15 /proc/$p/stat) $(cut -d' ' -f22 /proc/$p/stat); done; "
            "cut -d' ' -f1 /proc/uptime")
        lines = out.split("\n")
        up = float(lines[-2] if not lines[-1].strip() else lines[-1])
        u = {}
        for ln in lines:
            f = ln.split()
            if len(f) == 5:
                # ticks of 1/100 s (USER_HZ); start time in ticks since boot
                u[f[0]] = (int(f[1]), (int(f[2]) + int(f[3])) / 100.0, up - int(f[4]) / 100.0)
        return u

    def j_usage(self, gname):
        u = self.usage(gname)
        c, w = u["cardupd"], u["vm-pcsc-watch"]
        self.figure(gname, "cardupd RSS", c[0] / 1024.0, w[0] / 1024.0, "MiB")
        self.figure(gname, "cardupd CPU time (over %.0f s of its life)" % c[2], c[1], w[1], "s")
        self.figure(gname, "  pcscd RSS", u["pcscd"][0] / 1024.0, None, "MiB")
        self.figure(gname, "  pcscd CPU time", u["pcscd"][1], None, "s")
        return "cardupd %d KiB, %.2f s CPU in %.0f s" % (c[0], c[1], c[2])

    # ---- smoke (other builds of the image) ----------------------------------------------------

    def j_smoke(self, gname, admin):
        """Boot, card in -> prompt, a nothing-pending card -> up to date."""
        g, cms = self.g, self.cms
        detail = self.j_boot(gname)
        gid = guid(0x10 + len(self.results))
        cms.script(gid.hex(), cms.pending("c-" + gname))
        t_in = g.bridge.insert(Card(atr=QEMU_PIV_ATR, guid=gid))
        t_p, st = g.wait_state(self.phase("prompt"), since=t_in, timeout=90)
        self.figure(gname, "VSC ATR (card in) -> prompt", t_p - t_in,
                    g.wait_pcsc("present", since=t_in)[0] - t_in)
        t_out = g.bridge.remove()
        g.wait_state(self.phase("idle", "absent"), since=t_out)
        if not admin:
            assert st["ui"].get("setup_code") is None
            assert "admin" not in g.out("logread | grep -i 'admin:' | head -3 || true")
        detail += "; " + self.good_card_again("(nothing pending)")
        u = self.usage(gname)
        self.figure(gname, "cardupd RSS", u["cardupd"][0] / 1024.0,
                    u["vm-pcsc-watch"][0] / 1024.0, "MiB")
        return detail

    # ---- running -------------------------------------------------------------------------

    def run_guest(self, gname, build, image, mode):
        admin = mode == "full"
        try:
            with self.timer.step("%s: boot to the agent" % gname):
                g = self.boot(gname, build, image, admin)
                g.wait_hello(timeout=300)
            if mode in ("full", "noadmin"):
                if not self.journey(gname, "boot: image, user, USB reader", self.j_boot, gname):
                    return
                for name, fn in (
                        ("card in -> prompt -> Proceed -> SERAM on the USB card -> "
                         "re-insert -> up to date", self.j_update_session),
                        ("nothing pending (T=0 card, 61xx chaining) -> no prompt",
                         self.j_nothing_pending),
                        ("card pulled mid-read", self.j_pulled_mid_read),
                        ("card stops answering", self.j_stops_answering),
                        # After the two above: on QEMU's reader, a card pulled mid-APDU
                        # after one of these can leave libccid waiting (docs/readers.md).
                        ("ATR-only and garbage cards", self.j_odd_cards),
                        ("reader unplug/replug (QMP)", self.j_replug),
                        ("pcscd killed -> restarted by S45pcscd", self.j_pcscd_killed),
                        ("admin over TLS from the host: setup, setting, metrics", self.j_admin),
                        ("figures: RSS and CPU time", self.j_usage),
                        ("cardupd killed -> restarted by S50cardupd, start-up check",
                         self.j_cardupd_killed),
                        ("reboot keeps the admin setting", self.j_reboot)):
                    if self.args.only and not any(o in name for o in self.args.only):
                        continue
                    if mode == "noadmin" and fn in (self.j_admin, self.j_reboot):
                        continue
                    if not self.g.alive():
                        self.results.append((gname, name, False, "QEMU is gone", 0))
                        continue
                    self.journey(gname, name, fn, gname)
            else:
                self.journey(gname, "boot, card in -> prompt, nothing pending -> up to date",
                             self.j_smoke, gname, admin)
        except Exception as e:      # noqa: BLE001
            self.results.append((gname, "boot", False, "%s: %s%s" % (
                type(e).__name__, e, self.diagnostics()), 0))
            print("  FAIL  %-9s boot\n%s" % (gname, _indent(self.results[-1][3])), flush=True)
        finally:
            with self.timer.step("%s: power off" % gname):
                if self.g is not None:
                    self.g.stop()
                    self.g = None
                if self.cms is not None:
                    self.cms.stop()

def _indent(text):
    return "\n".join("        " + ln for ln in text.splitlines())


def read_build_timings(path):
    out = []
    try:
        with open(path) as f:
            for ln in f:
                secs, _, name = ln.strip().partition(" ")
                out.append((name, float(secs)))
    except (OSError, ValueError):
        pass
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("guests", nargs="+", help="NAME:BUILD_DIR:IMAGE[:full|noadmin|smoke]")
    ap.add_argument("--only", action="append",
                    help="run only the journeys whose name holds this text (repeatable)")
    ap.add_argument("--timings", help="file of 'SECONDS STEP' lines of the build steps")
    ap.add_argument("--work", default="build/vm/run",
                    help="work folder (emptied first; logs, disks, sockets)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("vm-test: needs root (its own network namespace; disk owners)")
    work = os.path.abspath(args.work)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    suite = Suite(args, work)
    specs = []
    for spec in args.guests:
        f = spec.split(":")
        specs.append((f[0], f[1], f[2], f[3] if len(f) > 3 else "full"))
    rc = 1
    tests = []
    try:
        suite.setup_site()
        # The first guest alone: its figures are not shared with another emulator.
        # The others side by side (two cores: one TCG guest each).
        for i, (name, build, image, mode) in enumerate(specs[:1]):
            print("== %s (%s)" % (name, mode), flush=True)
            t = VmTest(suite, i)
            tests.append(t)
            t.run_guest(name, build, image, mode)
        threads = []
        if specs[1:]:
            print("== %s, side by side" % ", ".join("%s (%s)" % (s[0], s[3]) for s in specs[1:]),
                  flush=True)
        for i, (name, build, image, mode) in enumerate(specs[1:], 1):
            t = VmTest(suite, i)
            tests.append(t)
            th = threading.Thread(target=t.run_guest, args=(name, build, image, mode),
                                  name="vm-" + name)
            th.start()
            threads.append(th)
        for th in threads:
            th.join()
        rc = suite.report(read_build_timings(args.timings) if args.timings else [])
    finally:
        for t in tests:
            if t.g is not None:
                t.g.stop()
            if t.cms is not None:
                t.cms.stop()
        # The logs stay (consoles, QEMU, disks); sockets are gone with the guests.
        print("vm-test: consoles and logs in %s" % os.path.relpath(work))
    sys.exit(rc)


if __name__ == "__main__":
    threading.current_thread().name = "vm-test"
    # SIGTERM (a CI timeout, make interrupted) stops the guests and the CMS through the
    # finally clauses, as Ctrl-C does; QEMU also dies with this process (PDEATHSIG).
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    main()
