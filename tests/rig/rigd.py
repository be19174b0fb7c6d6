#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Rig controller for the browser tests and the kiosk bench (test rig).

Owns: one private pcscd (pcscd.py), the TLS test CMS (testcms.py) with a test PKI made now
(certs.py), cardupd (daemon.py) and the scripted cards (vcard.py), driven by another
program (tests/browser/run.mjs, tests/bench/bench_kiosk_latency.mjs) over stdin/stdout.
It only wires the rig modules together; it re-implements none of them.  Standard library
only; needs root (the private pcscd); run with /usr/bin/python3.

    /usr/bin/python3 tests/rig/rigd.py --cardupd build/cardupd [--no-daemon] [--keep]

Protocol: JSON lines.  rigd writes exactly one line when ready (or a failure line and
exits 1):

    {"event": "ready", "kiosk_url": "http://127.0.0.1:P/", "readers": [...],
     "vpcd_port": P, "cms_url": ..., "cms_origin": ..., "portal_url": ...,
     "spki": "<base64 sha256 of the test CMS server key's SubjectPublicKeyInfo>",
     "guid": "<default test card GUID hex>", "fascn": "<default FASC-N hex>", "dir": ...}

then reads requests, one JSON object per line, and answers each with one line carrying
the same "id" (requests run in their own threads, so answers may come out of order):

    -> {"id": 7, "cmd": "insert", "reader": 1, "card": "b", "guid": "00ff..."}
    <- {"id": 7, "ok": true, "result": {...}}      or  {"id": 7, "ok": false, "error": "..."}

Commands (arguments besides "id" and "cmd"):

  insert     card (name, default "a"), reader (index, default 0), personality ("piv"),
             guid (hex), fascn (hex), no_cplc (bool).  A card of the same name that is
             still inserted is removed first.  Result: {"t_connect_ms"} (wall clock, ms,
             just after the vpcd socket connected = "card inserted").
  remove     card (default "a"; "*" removes every card).  Returns once pcscd itself
             reports each reader that held one of them empty (a PC/SC client of the
             private pcscd, pcscwatch.py), so a later insert is always a new card.
  wait_seen  card, timeout (s, default 30): until pcscd has powered the card up, read its
             ATR and reports the reader holding a card.
  card_times card: {"t_connect_ms", "controls": [[t_ms, code], ...]} for the current
             insertion (code 1 = power on, 4 = get ATR: pcscd's detection of the card).
  cms        match (GUID hex | "cplc:.." | "atr:.." | "*"; default: the default GUID),
             answer: {"pending": [[type, description], ...], "portal_url"?, "card_id"?}
                   | {"nothing": true}
                   | any TestCMS answer dict ({"status", "json", "raw" (string),
                     "headers", "close"}); "delay_s" works with all of them, and
                     "gated": true holds the answer until a cms_release;
                   | a list of those (used in order, the last one repeats) | null (unscript).
  seram      hold_s (default 1.5), note (text): mounts a scripted SERAM remote agent
             (testseram.py) on the test CMS and scripts the default card's answer as
             pending + agent.seram_url: start, a long poll of hold_s, a notification,
             SELECT PIV + PUT DATA of a new certificate (tag 5FC105), a second long poll,
             stop.  Result: {"seram_url", "certificate" (hex written)}.
             gated (bool): each of the two long polls lasts until a seram_release
             instead of hold_s, so a test sees every step whatever the machine's speed.
  seram_release  ends the next gated long poll.  Result: {"released": its index}.
  cms_release  lets the oldest held "gated" CMS answer go.  Result: {"released": its index}.
  seram_reports  {"reports": the local agent's reports so far, "handshakes": n}.
  card_object card, tag (hex): {"value": hex of that data object on the card, or null}.
  cms_reset  forget every script and the recorded requests.
  cms_requests  since the last cms_reset: {"count", "requests": [{"path", "trigger",
             "reader", "guid", "t_ms" (wall clock when the CMS had read the request)}...]}.
  restart    conf: {section: {key: value}} over the rig defaults (replaces the overrides
             of the previous restart; {} = defaults).  Stops cardupd (SIGTERM), writes
             the config, starts it on the same kiosk port and waits until it lists
             `readers` readers (default 2).  Result: {"rc": exit status of the old one}.
  reset      the clean start of a test: stops cardupd, removes every card (waiting as
             remove does), forgets every CMS script, route (SERAM) and recorded
             request, drops the config overrides, starts cardupd with the rig defaults
             and waits until its /api/v1/state lists `readers` readers (default 2), each
             with no card and in phase idle.  Result: {"log_offset": the end of the
             cardupd log before this start}.
  stop       stop cardupd (SIGTERM).  Result: {"rc"}.
  start      start cardupd again with the current config; waits like restart.
  state      cardupd's GET /api/v1/state.
  log        offset (default 0): {"text": log from that byte offset, "offset": end}.
  ping       {}.
  shutdown   answers, then cleans up and exits 0.

Cleanup (cards removed, cardupd and pcscd stopped, the CMS stopped, the temporary folder
deleted unless --keep) runs on "shutdown", on end of stdin (the driving program died),
on SIGTERM/SIGINT/SIGHUP, and (PR_SET_PDEATHSIG) when the parent process dies.
Everything the rig modules print goes to stderr; stdout carries the protocol only.
"""

import argparse
import base64
import ctypes
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from certs import make_pki          # noqa: E402
from daemon import Cardupd          # noqa: E402
from pcscd import PrivatePcscd      # noqa: E402
from pcscwatch import ReaderWatch   # noqa: E402
from testcms import TestCMS         # noqa: E402
from vcard import DEFAULT_FASCN, DEFAULT_GUID, Card, removal_seen   # noqa: E402

#: How long rigd waits for pcscd or cardupd to reach a state: generous, since only a
#: failure ever waits that long (a loaded 2-core CI machine can be slow).
STATE_TIMEOUT_S = 30.0


def now_ms():
    return time.time() * 1000.0


class TimedCard(Card):
    """A scripted card that also records when it was connected and when each vpcd
    control message (power on/off, reset, get ATR) arrived, in wall-clock ms."""

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.t_connect_ms = None
        self.control_times = []

    def insert(self, port, host="127.0.0.1", timeout=15.0):
        self.control_times = []
        super().insert(port, host, timeout)
        self.t_connect_ms = now_ms()

    def _control(self, code):
        self.control_times.append((now_ms(), code))
        return super()._control(code)


def spki_sha256_b64(cert_path):
    """base64(sha256(SubjectPublicKeyInfo DER)): what Chromium's
    --ignore-certificate-errors-spki-list takes."""
    pub = subprocess.run(["openssl", "x509", "-in", cert_path, "-noout", "-pubkey"],
                         check=True, capture_output=True).stdout
    der = subprocess.run(["openssl", "pkey", "-pubin", "-outform", "DER"], input=pub,
                         check=True, capture_output=True).stdout
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class Rig:
    def __init__(self, binary, keep=False, want_daemon=True):
        self.binary = os.path.abspath(binary)
        self.keep = keep
        self.want_daemon = want_daemon
        self.tmp = tempfile.mkdtemp(prefix="cardupd-rigd-")
        self.pcscd = self.cms = self.daemon = None
        self.cards = {}
        self.scripted = set()
        self.req_offset = 0
        self.conf = {}
        self.expect_readers = 2
        self.life = threading.Lock()        # daemon start/stop/restart
        self.cards_lock = threading.Lock()
        self.gates = []                     # gated SERAM long polls (cmd_seram)
        self.cms_gates = []                 # gated CMS answers (cmd_cms), in order
        self.cms_gates_released = 0
        self.gates_released = 0
        self._closed = False

    # ---- lifecycle ----

    def start(self):
        self.pki = make_pki(os.path.join(self.tmp, "pki"))
        self.pcscd = PrivatePcscd(self.tmp, die_with_parent=True).start()   # main thread
        self.watch = ReaderWatch(self.pcscd.socket_path)
        self.cms = TestCMS(self.pki["server_cert"], self.pki["server_key"]).start()
        self.daemon = Cardupd(self.binary, self.tmp, self.pcscd.env, self.cms.url,
                              self.pki["ca_cert"], [self.cms.origin], {})
        if self.want_daemon:
            self._start_daemon()
        return {
            "event": "ready",
            "kiosk_url": self.daemon.url + "/",
            "readers": self.pcscd.reader_names,
            "vpcd_port": self.pcscd.port,
            "cms_url": self.cms.url,
            "cms_origin": self.cms.origin,
            "portal_url": self.cms.portal_url,
            "spki": spki_sha256_b64(self.pki["server_cert"]),
            "guid": DEFAULT_GUID.hex(),
            "fascn": DEFAULT_FASCN.hex(),
            "dir": self.tmp,
            "pid": os.getpid(),
        }

    def _start_daemon(self, timeout=STATE_TIMEOUT_S):
        self.daemon.write_config(self.conf)
        self.daemon.start(wait=True, timeout=timeout)
        # Ready means the reader watcher has listed the readers, not only that the
        # kiosk listener answers.
        want = self.expect_readers
        self._wait_daemon(lambda st: len(st.get("readers", [])) >= want,
                          "cardupd to list %d readers" % want, timeout)

    def _wait_daemon(self, pred, what, timeout=STATE_TIMEOUT_S):
        """Polls cardupd's state until pred(state); the last state goes in the error."""
        end = time.monotonic() + timeout
        last = None
        while True:
            last = self.daemon.state()
            if pred(last):
                return last
            if time.monotonic() >= end:
                raise RuntimeError("timed out after %.0f s waiting for %s; last state: %s"
                                   % (timeout, what, json.dumps(last)))
            time.sleep(0.02)

    def _remove(self, cards):
        """Removes cards and waits until pcscd reports each of their readers empty."""
        ports = set()
        for c in cards:
            addr = getattr(c, "_addr", None)
            if getattr(c, "_sock", None) is not None and addr is not None:
                ports.add(addr)     # in a reader now (not a card removed earlier)
            c.remove()
        for host, port in sorted(ports):
            self.watch.wait(self.pcscd.reader_names[port - self.pcscd.port], present=False,
                            timeout=STATE_TIMEOUT_S)
            removal_seen(port, host)

    def close(self):
        if self._closed:
            return
        self._closed = True
        self._release_gates()
        for c in list(self.cards.values()):
            try:
                c.remove()
            except Exception:
                pass
        for what in (self.daemon, self.cms, self.pcscd):
            if what is None:
                continue
            try:
                what.stop()
            except Exception:
                traceback.print_exc()
        if not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)

    # ---- commands ----

    def cmd_ping(self, a):
        return {}

    def cmd_insert(self, a):
        name = str(a.get("card", "a"))
        reader = int(a.get("reader", 0))
        if reader not in (0, 1):
            raise ValueError("reader: 0 or 1")
        kw = {"personality": a.get("personality", "piv")}
        if a.get("guid"):
            kw["guid"] = bytes.fromhex(a["guid"])
        if a.get("fascn"):
            kw["fascn"] = bytes.fromhex(a["fascn"])
        if a.get("no_cplc"):
            kw["cplc"] = None
        with self.cards_lock:
            old = self.cards.get(name)
        if old is not None:
            self._remove([old])
        card = TimedCard(**kw)      # same arguments, same identity: "the same card"
        with self.cards_lock:
            self.cards[name] = card
        card.insert(self.pcscd.port + reader)
        return {"t_connect_ms": card.t_connect_ms}

    def cmd_remove(self, a):
        name = str(a.get("card", "a"))
        with self.cards_lock:
            names = list(self.cards) if name == "*" else [name]
            cards = [self.cards[n] for n in names if n in self.cards]
        self._remove(cards)
        return {"removed": len(cards)}

    def _card(self, a):
        name = str(a.get("card", "a"))
        with self.cards_lock:
            if name not in self.cards:
                raise KeyError("no card %r" % name)
            return self.cards[name]

    def cmd_wait_seen(self, a):
        card = self._card(a)
        timeout = float(a.get("timeout", STATE_TIMEOUT_S))
        with card._cond:
            if not card._cond.wait_for(lambda: card._seen, timeout):
                raise TimeoutError("pcscd did not power the card up within %.1f s" % timeout)
        # ... and pcscd's reader state says so (it is updated just after the ATR read).
        self.watch.wait(self.pcscd.reader_names[card._addr[1] - self.pcscd.port],
                        present=True, timeout=timeout)
        return {}

    def cmd_card_times(self, a):
        c = self._card(a)
        return {"t_connect_ms": c.t_connect_ms,
                "controls": [[t, code] for t, code in list(c.control_times)]}

    def _answer(self, ans):
        if ans is None:
            return None
        if isinstance(ans, list):
            return [self._answer(x) for x in ans]
        ans = dict(ans)
        delay = ans.pop("delay_s", None)
        gated = ans.pop("gated", False)
        if "pending" in ans:
            kw = {}
            if ans.get("portal_url"):
                kw["portal_url"] = ans["portal_url"]
            out = self.cms.pending(ans.get("card_id", "card-test"),
                                   updates=[tuple(u) for u in ans["pending"]], **kw)
        elif ans.get("nothing"):
            out = self.cms.nothing_pending(ans.get("card_id", "card-test"))
        else:
            out = ans
            if isinstance(out.get("raw"), str):
                out["raw"] = out["raw"].encode()
        if delay:
            out["delay_s"] = float(delay)
        if gated:
            out["gate"] = threading.Event()
            self.cms_gates.append(out["gate"])
        return out

    def cmd_cms(self, a):
        match = str(a.get("match") or DEFAULT_GUID.hex()).lower()
        self.cms.script(match, self._answer(a.get("answer")))
        self.scripted.add(match)
        return {}

    def cmd_seram(self, a):
        import testseram as ts
        hold = float(a.get("hold_s", 1.5))
        self.gates = [threading.Event(), threading.Event()] if a.get("gated") else []
        self.gates_released = 0

        def poll(i):
            return ({"delay": 0, "_gate": self.gates[i]} if self.gates
                    else {"delay": 0, "_delay_s": hold})
        cert = bytes.fromhex("7082") + b"certificate written by the test CMS" + bytes(range(32))
        tag = bytes.fromhex("5FC105")
        self.ra = ts.RemoteAgent(self.cms, [
            dict(ts.start(), delay=0),
            poll(0),
            ts.notify(str(a.get("note", "Writing your new certificate"))),
            ts.apdus([ts.select_piv(), ts.put_data(tag, cert)]),
            poll(1),
            ts.stop()])
        match = DEFAULT_GUID.hex()
        self.cms.script(match, self.cms.pending("card-seram", updates=[
            ("certificate_renewal", "Your certificate is renewed here at the kiosk.")],
            agent={"seram_url": self.ra.url}))
        self.scripted.add(match)
        return {"seram_url": self.ra.url, "certificate": cert.hex()}

    def cmd_seram_release(self, a):
        gates = getattr(self, "gates", [])
        if self.gates_released >= len(gates):
            raise RuntimeError("no gated long poll left to release")
        gates[self.gates_released].set()
        self.gates_released += 1
        return {"released": self.gates_released - 1}

    def cmd_cms_release(self, a):
        if self.cms_gates_released >= len(self.cms_gates):
            raise RuntimeError("no gated CMS answer left to release")
        self.cms_gates[self.cms_gates_released].set()
        self.cms_gates_released += 1
        return {"released": self.cms_gates_released - 1}

    def _release_gates(self):
        for g in getattr(self, "gates", []) + self.cms_gates:
            g.set()         # no remote agent or CMS thread stays parked after its test
        self.cms_gates = []
        self.cms_gates_released = 0

    def cmd_seram_reports(self, a):
        ra = getattr(self, "ra", None)
        if ra is None:
            return {"reports": [], "handshakes": 0}
        return {"reports": [js for _, js in list(ra.reports)],
                "handshakes": len(ra.handshakes)}

    def cmd_card_object(self, a):
        value = self._card(a).objects.get(bytes.fromhex(str(a.get("tag", "5FC105"))))
        return {"value": value.hex() if value is not None else None}

    def cmd_cms_reset(self, a):
        for m in list(self.scripted):
            self.cms.script(m, None)
        self.scripted.clear()
        self.req_offset = len(self.cms.requests)
        return {}

    def cmd_cms_requests(self, a):
        out = []
        for r in list(self.cms.requests)[self.req_offset:]:
            js = r.get("json") if isinstance(r.get("json"), dict) else {}
            chuid = (js.get("card") or {}).get("chuid") or {}
            out.append({"path": r["path"], "trigger": js.get("trigger"),
                        "reader": js.get("reader"), "guid": chuid.get("guid"),
                        "t_ms": r["time"] * 1000.0})
        return {"count": len(out), "requests": out}

    def _conf(self, a):
        conf = a.get("conf") or {}
        if not isinstance(conf, dict):
            raise ValueError("conf: {section: {key: value}}")
        return {str(s): {str(k): ("yes" if v is True else "no" if v is False else str(v))
                         for k, v in kv.items()} for s, kv in conf.items()}

    def cmd_reset(self, a):
        with self.life:
            self.daemon.stop()
            with self.cards_lock:
                cards = list(self.cards.values())
                self.cards.clear()
            self._remove(cards)
            self._release_gates()
            self.cms.reset()
            self.scripted.clear()
            self.req_offset = 0
            self.ra = None
            self.conf = {}
            self.expect_readers = int(a.get("readers", 2))
            try:
                offset = os.path.getsize(self.daemon.log_path)
            except OSError:
                offset = 0
            self._start_daemon()
            want = self.expect_readers
            self._wait_daemon(lambda st: len(st["readers"]) == want and all(
                r.get("card") == "absent" and r.get("phase") == "idle" and
                not r.get("prompt") and not r.get("message") for r in st["readers"]),
                "%d readers, no card, idle" % want)
        return {"log_offset": offset}

    def cmd_restart(self, a):
        with self.life:
            rc = self.daemon.stop()
            self.conf = self._conf(a)
            self.expect_readers = int(a.get("readers", 2))
            self._start_daemon()
        return {"rc": rc}

    def cmd_stop(self, a):
        with self.life:
            return {"rc": self.daemon.stop()}

    def cmd_start(self, a):
        with self.life:
            if self.daemon.alive():
                raise RuntimeError("cardupd is already running")
            self._start_daemon()
        return {}

    def cmd_state(self, a):
        return self.daemon.state()

    def cmd_log(self, a):
        off = int(a.get("offset", 0))
        try:
            with open(self.daemon.log_path, "rb") as f:
                f.seek(off)
                data = f.read()
        except OSError:
            data = b""
        return {"text": data.decode("utf-8", "replace"), "offset": off + len(data)}


def main():
    ap = argparse.ArgumentParser(description="cardupd rig controller (JSON lines on stdio)")
    ap.add_argument("--cardupd", default=os.environ.get("CARDUPD_BIN") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "cardupd"))
    ap.add_argument("--no-daemon", action="store_true", help="do not start cardupd at first")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()

    # stdout is the protocol: everything else (rig modules, tracebacks) goes to stderr.
    proto = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    out_lock = threading.Lock()

    def send(obj):
        with out_lock:
            try:
                proto.write(json.dumps(obj) + "\n")
                proto.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass

    try:    # die with the parent even if stdin was handed to someone else
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)   # PR_SET_PDEATHSIG
    except Exception:
        pass

    if os.geteuid() != 0:
        send({"event": "failed", "error": "rigd needs root (private pcscd)"})
        return 1
    rig = Rig(args.cardupd, keep=args.keep, want_daemon=not args.no_daemon)
    done = threading.Event()

    def on_signal(signum, frame):
        raise KeyboardInterrupt
    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, on_signal)

    try:
        try:
            ready = rig.start()
        except Exception as e:
            traceback.print_exc()
            send({"event": "failed", "error": "%s: %s" % (type(e).__name__, e)})
            return 1
        send(ready)

        def run(req):
            rid = req.get("id")
            cmd = req.get("cmd")
            if cmd == "shutdown":
                send({"id": rid, "ok": True, "result": {}})
                done.set()
                return
            fn = getattr(rig, "cmd_%s" % cmd, None) if isinstance(cmd, str) else None
            if fn is None:
                send({"id": rid, "ok": False, "error": "unknown command %r" % (cmd,)})
                return
            try:
                send({"id": rid, "ok": True, "result": fn(req)})
            except Exception as e:
                traceback.print_exc()
                send({"id": rid, "ok": False, "error": "%s: %s" % (type(e).__name__, e)})

        def reader():
            for line in sys.stdin:
                line = line.strip()
                if not line:
                    continue
                try:
                    req = json.loads(line)
                    if not isinstance(req, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    send({"ok": False, "error": "bad request: %s" % e})
                    continue
                threading.Thread(target=run, args=(req,), daemon=True).start()
                if req.get("cmd") == "shutdown":
                    break
            done.set()      # end of stdin: the driving program has gone

        threading.Thread(target=reader, daemon=True).start()
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        rig.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
