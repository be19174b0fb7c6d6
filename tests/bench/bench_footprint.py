#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Figures (never pass/fail): cardupd's idle footprint and start-up, beside its anchors.

Set-up, as on a kiosk: a private pcscd with two vpcd readers, a card in one of them
(checked, nothing pending), one kiosk page following /api/v1/events.  For each cardupd
variant (the default build with the admin listener not configured; the same with it
configured; the ADMIN=n build from `make config-matrix` and the static ADMIN=n build from
`make static-host` when they exist):
  - RSS and its private part (Private_Dirty: what this process alone costs),
  - wake-ups while idle: context switches of every thread over BENCH_IDLE_S seconds,
  - start-up: exec -> kiosk API answering; exec -> the CMS has read the first check of
    the card already in the reader (wall clock; includes pcscd's answers and the card's
    APDUs, which on this rig take a few ms).
Anchors measured in the same run beside the same private pcscd: pcscd's own RSS, and
opensc-notify (OpenSC's card-event notifier: a PC/SC client that also waits for cards)
with its RSS and wake-ups, when Debian's opensc is installed."""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

from benchrig import ROOT, rig        # first: it puts tests/rig on the path
from daemon import free_port
from smaps import print_breakdown
from vcard import DEFAULT_GUID

IDLE_S = float(os.environ.get("BENCH_IDLE_S", "20"))
# BENCH_SMAPS=1: each cardupd variant's RSS broken down per mapping (tests/bench/smaps.py)
SMAPS = os.environ.get("BENCH_SMAPS", "") not in ("", "0")


def status_kb(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def private_dirty_kb(pid):
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                if line.startswith("Private_Dirty:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def switches(pid):
    total = 0
    for st in glob.glob("/proc/%d/task/*/status" % pid):
        try:
            with open(st) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt")):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def wait_api(d, timeout=10.0):
    """Returns once the kiosk API answers 200, polling every millisecond over a raw
    socket (the rig's wait_ready sleeps 20 ms between urllib attempts: too coarse for a
    start-up figure)."""
    end = time.monotonic() + timeout
    req = b"GET /api/v1/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    while time.monotonic() < end:
        if d.proc.poll() is not None:
            raise RuntimeError("cardupd exited with %d:\n%s" % (d.proc.returncode, d.log()))
        try:
            with socket.create_connection(("127.0.0.1", d.port), timeout=1) as s:
                s.sendall(req)
                if s.recv(16).startswith(b"HTTP/1.1 200"):
                    return
        except OSError:
            pass
        time.sleep(0.001)
    raise RuntimeError("cardupd: kiosk API not answering after %.1f s" % timeout)


def idle_wakeups(pid):
    a = switches(pid)
    time.sleep(IDLE_S)
    return (switches(pid) - a) / IDLE_S


def variant(name, binary, r, conf):
    tmp = tempfile.mkdtemp(prefix="cardupd-fp-")
    pcscd, cms = r.pcscd, r.cms
    n0 = len(cms.requests)
    d = r.cardupd(conf, binary=binary, tmp=tmp)
    t0 = time.monotonic()
    w0 = time.time()
    d.start(wait=False)
    try:
        wait_api(d)
        t_api = time.monotonic() - t0
        cms.wait_requests(n0 + 1, 10)
        t_check = cms.requests[n0]["time"] - w0
        d.wait_phase(pcscd.reader_names[0], "up_to_date")
        events = urllib.request.urlopen(d.url + "/api/v1/events", timeout=IDLE_S + 30)
        events.readline()
        time.sleep(1.5)              # pcscd powers the idle card down after ~1 s
        pid = d.proc.pid
        wk = idle_wakeups(pid)
        rss, priv = status_kb(pid, "VmRSS"), private_dirty_kb(pid)
        events.close()
        print("  %-34s %7d %8d %10.2f %9.1f %10.1f" % (name, rss, priv, wk, t_api * 1000,
                                                       t_check * 1000))
        if SMAPS:
            print_breakdown(pid)
    finally:
        d.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def anchor_opensc_notify(pcscd):
    exe = shutil.which("opensc-notify")
    if exe is None:
        print("  %-34s (Debian's opensc not installed)" % "opensc-notify")
        return
    p = subprocess.Popen([exe], env=pcscd.env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        if p.poll() is not None:
            print("  %-34s exited (%d)" % ("opensc-notify", p.returncode))
            return
        wk = idle_wakeups(p.pid)
        print("  %-34s %7d %8d %10.2f" % ("opensc-notify (anchor)", status_kb(p.pid, "VmRSS"),
                                          private_dirty_kb(p.pid), wk))
    finally:
        p.terminate()
        try:
            p.wait(3)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def main():
    noadmin = os.path.join(ROOT, "build", "noadmin", "cardupd")
    static = os.path.join(ROOT, "build", "host-static", "cardupd")
    with rig("cardupd-footprint-", daemon=False) as r:
        r.cms.script(DEFAULT_GUID.hex(), r.cms.nothing_pending("idle", recheck_after_s=0))
        r.card.insert(r.pcscd.port)
        r.card.wait_seen()
        print("idle footprint, two readers, a card in, one kiosk page on SSE; idle %.0f s"
              % IDLE_S)
        print("  %-34s %7s %8s %10s %9s %10s" % ("process", "RSS KiB", "priv KiB",
                                               "wakeups/s", "API ms", "1st chk ms"))
        base = {"log": {"level": "warn"}}
        variant("cardupd (admin not configured)", r.binary, r, base)
        st = tempfile.mkdtemp(prefix="cardupd-fp-admin-")
        variant("cardupd (admin listener on)", r.binary, r,
                dict(base, admin={"listen": "127.0.0.1:%d" % free_port(), "state_dir": st}))
        shutil.rmtree(st, ignore_errors=True)
        if os.path.exists(noadmin):
            variant("cardupd ADMIN=n build", noadmin, r, base)
        else:
            print("  %-34s (not built: make config-matrix)" % "cardupd ADMIN=n build")
        # fully static (glibc's libc.a, no ld.so): what issue 14's 2.0 MiB needs
        if os.path.exists(static):
            variant("cardupd ADMIN=n static", static, r, base)
        else:
            print("  %-34s (not built: make static-host)" % "cardupd ADMIN=n static")
        print("  %-34s %7d %8d" % ("pcscd (anchor, same rig)", status_kb(r.pcscd.pid, "VmRSS"),
                                   private_dirty_kb(r.pcscd.pid)))
        anchor_opensc_notify(r.pcscd)

if __name__ == "__main__":
    main()
