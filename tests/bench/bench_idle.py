#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Figure (never pass/fail): does cardupd wake up while idle? With a card in a reader
(checked, nothing pending) and a kiosk page following /api/v1/events, count the context
switches of every cardupd thread over 10 s, and report its memory (RSS)."""

import glob
import os
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rig"))

from certs import make_pki            # noqa: E402
from daemon import Cardupd            # noqa: E402
from pcscd import PrivatePcscd        # noqa: E402
from testcms import TestCMS           # noqa: E402
from vcard import DEFAULT_GUID, Card  # noqa: E402

IDLE_S = float(os.environ.get("BENCH_IDLE_S", "10"))


def switches(pid):
    total, threads = 0, {}
    for st in glob.glob("/proc/%d/task/*/status" % pid):
        tid = st.split("/")[4]
        try:
            with open(st) as f:
                kv = dict(line.split(":", 1) for line in f if ":" in line)
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
        except OSError:
            continue
        n = int(kv["voluntary_ctxt_switches"]) + int(kv["nonvoluntary_ctxt_switches"])
        threads[tid] = (name, n)
        total += n
    return total, threads


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def main():
    binary = os.environ.get("CARDUPD_BIN", os.path.join(HERE, "..", "..", "build", "cardupd"))
    tmp = tempfile.mkdtemp(prefix="cardupd-idle-")
    pki = make_pki(tmp)
    pcscd = PrivatePcscd(tmp).start()
    cms = TestCMS(pki["server_cert"], pki["server_key"]).start()
    cms.script(DEFAULT_GUID.hex(), cms.nothing_pending("idle"))
    d = Cardupd(os.path.abspath(binary), tmp, pcscd.env, cms.url, pki["ca_cert"],
                [cms.origin], {"log": {"level": "warn"}}).start()
    card = Card()
    try:
        card.insert(pcscd.port)
        d.wait_phase(pcscd.reader_names[0], "up_to_date")
        events = urllib.request.urlopen(d.url + "/api/v1/events", timeout=30)
        events.readline()
        time.sleep(1.5)                 # pcscd powers the idle card down after ~1 s
        pid = d.proc.pid
        before, tb = switches(pid)
        time.sleep(IDLE_S)
        after, ta = switches(pid)
        print("cardupd idle for %.0f s (card in, nothing pending, one kiosk page on SSE):"
              % IDLE_S)
        print("  context switches, all threads: %d" % (after - before))
        for tid, (name, n) in sorted(ta.items()):
            print("    %-16s %d" % (name, n - tb.get(tid, (name, n))[1]))
        print("  RSS: %d KiB" % rss_kb(pid))
        events.close()
    finally:
        card.remove()
        d.stop()
        cms.stop()
        pcscd.stop()


if __name__ == "__main__":
    main()
