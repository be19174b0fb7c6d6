#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Where a process's resident memory goes, per mapping (/proc/PID/smaps), grouped:
each shared library (all its segments), the executable, [heap], the main stack, each
thread's stack (found from the stack pointer in /proc/PID/task/TID/syscall, so it needs
the right to ptrace the process: root or the same user), glibc malloc arenas (anonymous
mappings aligned to the 64 MiB arena size) and the other anonymous mappings.
Run as a program: `smaps.py PID` prints the table.  Standard library only."""

import glob
import os
import sys

ARENA_ALIGN = 64 << 20      # glibc HEAP_MAX_SIZE on 64-bit (2 * 4 * 1 MiB * sizeof(long))


def _mappings(pid):
    maps, cur = [], None
    with open("/proc/%d/smaps" % pid) as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and not head[0].endswith(":"):
                lo, hi = (int(x, 16) for x in head[0].split("-"))
                cur = {"lo": lo, "hi": hi, "perms": head[1],
                       "path": head[5] if len(head) > 5 else "", "Rss": 0,
                       "Private_Dirty": 0}
                maps.append(cur)
            elif head[0].rstrip(":") in ("Rss", "Private_Dirty") and cur is not None:
                cur[head[0].rstrip(":")] = int(head[1])
    return maps


def _thread_sps(pid):
    """{stack pointer: thread name} for every thread blocked in a system call."""
    sps = {}
    for d in glob.glob("/proc/%d/task/*" % pid):
        try:
            with open(d + "/syscall") as f:
                parts = f.read().split()
            with open(d + "/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if len(parts) >= 8:
            tid = int(os.path.basename(d))
            sps[int(parts[-2], 16)] = "%s/%d%s" % (name, tid, " (main)" if tid == pid else "")
    return sps


def breakdown(pid):
    """[(group, rss KiB, private dirty KiB, mappings)] sorted by RSS, largest first."""
    maps = _mappings(pid)
    sps = _thread_sps(pid)
    groups = {}
    for i, m in enumerate(maps):
        path = m["path"]
        label = None
        for sp, name in sps.items():
            if m["lo"] <= sp < m["hi"]:
                label = "stack of " + name
        if label is None:
            if path.startswith("/"):
                label = os.path.basename(path)
            elif path in ("[heap]", "[stack]", "[vvar]", "[vdso]", "[vsyscall]"):
                label = path
            elif m["lo"] % ARENA_ALIGN == 0 and "rw" in m["perms"]:
                label = "malloc arena"
            elif "rw" in m["perms"] and i > 0 and maps[i - 1]["path"].startswith("/") \
                    and maps[i - 1]["hi"] == m["lo"]:
                label = os.path.basename(maps[i - 1]["path"]) + " (bss)"
            else:
                label = "anonymous"
        g = groups.setdefault(label, [0, 0, 0])
        g[0] += m["Rss"]
        g[1] += m["Private_Dirty"]
        g[2] += 1
    return sorted(((k, v[0], v[1], v[2]) for k, v in groups.items()),
                  key=lambda r: -r[1])


def print_breakdown(pid, indent="    ", out=sys.stdout):
    rows = breakdown(pid)
    print("%s%-40s %7s %8s %5s" % (indent, "mapping", "RSS KiB", "priv KiB", "maps"),
          file=out)
    for label, rss, priv, n in rows:
        if rss:
            print("%s%-40s %7d %8d %5d" % (indent, label[:40], rss, priv, n), file=out)
    print("%s%-40s %7d %8d" % (indent, "total", sum(r[1] for r in rows),
                               sum(r[2] for r in rows)), file=out)


if __name__ == "__main__":
    print_breakdown(int(sys.argv[1]), indent="")
