#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Figure (never pass/fail): does cardupd wake up while idle? With a card in a reader
(checked, nothing pending) and a kiosk page following /api/v1/events, count the context
switches of every cardupd thread over 10 s, and report its memory (RSS)."""

import glob
import os
import time
import urllib.request

from benchrig import rig              # first: it puts tests/rig on the path
from vcard import DEFAULT_GUID

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
    with rig("cardupd-idle-") as r:
        r.cms.script(DEFAULT_GUID.hex(), r.cms.nothing_pending("idle"))
        r.card.insert(r.pcscd.port)
        r.d.wait_phase(r.reader, "up_to_date")
        events = urllib.request.urlopen(r.d.url + "/api/v1/events", timeout=30)
        events.readline()
        time.sleep(1.5)                 # pcscd powers the idle card down after ~1 s
        pid = r.d.proc.pid
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


if __name__ == "__main__":
    main()
