# SPDX-License-Identifier: BSD-2-Clause
"""Shared set-up of `make soak` and `make faults` (tests/robust/): one private pcscd with
vpcd, the TLS test CMS with a PKI made now, and cardupd under test, all torn down by
`Rig.close()` (also on failure: use it as a context manager).  Resource figures are read
from /proc/PID of the daemon.  Standard library only; needs root (private pcscd)."""

import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "rig"))

from certs import make_pki                  # noqa: E402
from daemon import Cardupd                  # noqa: E402
from pcscd import PrivatePcscd              # noqa: E402
from testcms import TestCMS                 # noqa: E402
from vcard import Card, DEFAULT_GUID        # noqa: E402

BIN = os.environ.get("CARDUPD_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "cardupd")


class Rig:
    def __init__(self, conf=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="cardupd-robust-")
        d = self.tmp.name
        self.pki = make_pki(os.path.join(d, "pki"))
        self.pcscd = PrivatePcscd(os.path.join(d, "pcscd"))
        self.cms = None
        self.daemon = None
        self.cards = []
        try:
            os.makedirs(os.path.join(d, "pcscd"), exist_ok=True)
            self.pcscd.start()
            self.cms = TestCMS(self.pki["server_cert"], self.pki["server_key"]).start()
            self.daemon = Cardupd(os.path.abspath(BIN), d, self.pcscd.env, self.cms.url,
                                  self.pki["ca_cert"], [self.cms.origin],
                                  dict({"log": {"level": "info"}}, **(conf or {})))
            self.daemon.start()
            self.daemon.wait_for(lambda st: len(st["readers"]) >= 2, 10, "readers listed")
            self.readers = self.pcscd.reader_names
        except BaseException:
            self.close()
            raise

    def card(self, **kw):
        c = Card(**kw)
        self.cards.append(c)
        return c

    def reader(self, i=0):
        return self.daemon.reader(self.readers[i])

    def wait_reader(self, i, timeout=10.0, **want):
        name = self.readers[i]

        def ok(st):
            for r in st["readers"]:
                if r["name"] == name:
                    return all(r.get(k) == v for k, v in want.items())
            return False
        return self.daemon.wait_for(ok, timeout, "%s: %s" % (name, want))

    def figures(self):
        """(open fds, threads, RSS KiB, CPU seconds) of the daemon now."""
        pid = self.daemon.proc.pid
        fds = len(os.listdir("/proc/%d/fd" % pid))
        threads = len(os.listdir("/proc/%d/task" % pid))
        rss = 0
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    rss = int(line.split()[1])
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        return fds, threads, rss, cpu

    def close(self):
        for c in self.cards:
            try:
                c.remove()
            except Exception:
                pass
        rc = None
        if self.daemon is not None:
            rc = self.daemon.stop()
        if self.cms is not None:
            self.cms.stop()
        self.pcscd.stop()
        self.tmp.cleanup()
        return rc

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def guid_hex():
    return DEFAULT_GUID.hex()


def now():
    return time.monotonic()
