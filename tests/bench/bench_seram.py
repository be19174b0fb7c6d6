#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Figure (never pass/fail): a scripted 20-APDU card update session on loopback —
(the remote agent sets delay 0, so the figure is cardupd + TLS + card, no waiting)
Proceed → handshake → 20 APDUs (in 4 orders of 5) → stop → "reinsert" — and cardupd's
own CPU time during it, over several runs, on the real rig (private pcscd + vpcd card,
TLS test CMS with the scripted remote agent)."""

import os
import statistics
import time

from benchrig import rig              # first: it puts tests/rig on the path
from testseram import RemoteAgent, apdus, get_data, select_piv, start, stop
from vcard import DEFAULT_GUID

RUNS = int(os.environ.get("BENCH_RUNS", "20"))
TICK = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def main():
    wall, cpu = [], []
    cpu_all = 0.0
    with rig("cardupd-bench-") as r:
        for _ in range(RUNS):
            orders = [dict(start(), delay=0)] + [apdus([select_piv()] + [get_data(bytes.fromhex("5FC102"))] * 4)
                                  for _ in range(4)] + [stop()]
            ra = RemoteAgent(r.cms, orders)
            r.cms.script(DEFAULT_GUID.hex(), r.cms.pending("bench", agent={"seram_url": ra.url}))
            r.card.insert(r.pcscd.port)
            st = r.d.wait_phase(r.reader, "prompt", timeout=10)
            c0, t0 = cpu_s(r.d.proc.pid), time.monotonic()
            r.d.post("/api/v1/prompt/proceed", {"reader": r.reader, "prompt": st["prompt"]["id"]})
            r.d.wait_for(lambda s: any(x["name"] == r.reader and x["phase"] == "reinsert"
                                       for x in s["readers"]), timeout=20, what="session end")
            wall.append((time.monotonic() - t0) * 1000)
            cpu.append((cpu_s(r.d.proc.pid) - c0) * 1000)
            cpu_all += cpu[-1]
            n_apdus = sum(len(c.get("listOfCAPDU", [])) for o in orders
                          for c in o.get("ramCommands", []))
            assert n_apdus == 20
            r.card.remove()
            r.d.wait_phase(r.reader, "idle")
        print("SERAM session, 20 APDUs in 4 orders, loopback, %d runs:" % RUNS)
        print("  wall time Proceed -> reinsert: median %.0f ms (min %.0f, max %.0f)"
              % (statistics.median(wall), min(wall), max(wall)))
        # The kernel counts CPU time in 10 ms ticks: the mean over all runs is the
        # figure; it includes answering this bench's state polls.
        print("  cardupd CPU time in it:        mean %.1f ms per session over %d sessions"
              % (cpu_all / RUNS, RUNS))


if __name__ == "__main__":
    main()
