#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make soak: N insert/remove cycles on the real rig (private pcscd + vpcd, TLS test CMS,
cardupd), printing the daemon's open fds, threads, RSS and CPU time every 10 %.

Every cycle inserts the test card, waits until cardupd has read it and checked it with the
CMS (up_to_date; every 10th cycle the CMS has an update pending and the prompt must show),
removes it and waits until the reader is idle with no card.  A cycle that does not reach
its state within its bound is a failed cycle.  Exit 0 only with 0 failed cycles, the daemon
alive and stopping cleanly, and fds/threads back to their warm-up figures at the end (a
leak of one per cycle would show as hundreds).  RSS is printed, and judged only as a
growth over the warm-up figure larger than RSS_SLACK_KIB (allocator noise).

usage: soak.py [CYCLES]   (default 1000, or $SOAK_CYCLES)"""

import os
import sys
import time

from common import Rig, guid_hex

RSS_SLACK_KIB = 512
# One idle keep-alive connection to the CMS may be open or already closed at a sample.
FD_SLACK = 1


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("SOAK_CYCLES", 1000))
    failed = 0
    t0 = time.monotonic()
    with Rig() as rig:
        cms = rig.cms
        nothing = cms.nothing_pending("soak", recheck_after_s=0)
        pending = cms.pending("soak", recheck_after_s=0)
        card = rig.card()
        warm = None
        print("soak: %d cycles; cardupd pid %d" % (n, rig.daemon.proc.pid))
        print("  %6s %5s %7s %8s %8s %s" % ("cycle", "fds", "threads", "RSS KiB", "CPU s",
                                          "failed"))
        step = max(1, n // 10)
        for i in range(1, n + 1):
            prompt = i % 10 == 0
            cms.script(guid_hex(), pending if prompt else nothing)
            try:
                card.insert(rig.pcscd.port)
                rig.wait_reader(0, phase="prompt" if prompt else "up_to_date",
                                card="present")
                card.remove()
                rig.wait_reader(0, phase="idle", card="absent")
            except AssertionError as e:
                failed += 1
                print("soak: cycle %d failed: %s" % (i, str(e).splitlines()[0]))
                try:
                    card.remove()
                except Exception:
                    pass
                if failed > 10:
                    break
            if i == step:
                warm = rig.figures()
            if i % step == 0 or i == n:
                fds, thr, rss, cpu = rig.figures()
                print("  %6d %5d %7d %8d %8.2f %d" % (i, fds, thr, rss, cpu, failed),
                      flush=True)
        end = rig.figures()
        alive = rig.daemon.alive()
        rc = rig.close()
    wall = time.monotonic() - t0
    print("soak: %d cycles in %.0f s (%.2f s/cycle), %d failed" % (i, wall, wall / i, failed))
    problems = []
    if failed:
        problems.append("%d failed cycles" % failed)
    if not alive or rc != 0:
        problems.append("cardupd died or did not stop cleanly (rc %s)" % rc)
    if warm is not None:
        if end[0] > warm[0] + FD_SLACK:
            problems.append("fds grew from %d to %d" % (warm[0], end[0]))
        if end[1] > warm[1]:
            problems.append("threads grew from %d to %d" % (warm[1], end[1]))
        if end[2] > warm[2] + RSS_SLACK_KIB:
            problems.append("RSS grew from %d to %d KiB" % (warm[2], end[2]))
    for p in problems:
        print("soak: FAILED: " + p)
    print("soak: %s" % ("ok" if not problems else "FAILED"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
