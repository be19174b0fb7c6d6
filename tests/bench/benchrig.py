# SPDX-License-Identifier: BSD-2-Clause
"""The rig the benchmarks start (not a benchmark itself: scripts/bench.sh runs bench_*.py).

    from benchrig import rig
    with rig("cardupd-idle-") as r:        # r.tmp, r.pki, r.pcscd, r.cms, r.d, r.card, r.reader
        r.cms.script(DEFAULT_GUID.hex(), r.cms.nothing_pending("idle"))
        r.card.insert(r.pcscd.port)
        r.d.wait_phase(r.reader, "up_to_date")

A fresh folder (prefix), certificates made there (tests/rig/certs.py), a private pcscd with
two vpcd readers, the TLS test CMS, a scripted Card (not inserted) and, unless daemon=False,
cardupd ($CARDUPD_BIN, default build/cardupd) started on them with warnings only in its
log. r.cardupd(conf, binary, tmp) makes another (not started) on the same rig. On the way
out, even on failure, the card is removed, everything started is stopped and the folder
is removed."""

import contextlib
import os
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(HERE, "..", "rig"))

from certs import make_pki            # noqa: E402
from daemon import Cardupd            # noqa: E402
from pcscd import PrivatePcscd        # noqa: E402
from testcms import TestCMS           # noqa: E402
from vcard import Card                # noqa: E402

QUIET = {"log": {"level": "warn"}}


def cardupd_bin():
    """The cardupd under test: $CARDUPD_BIN, else build/cardupd of this checkout."""
    return os.path.abspath(os.environ.get("CARDUPD_BIN",
                                          os.path.join(ROOT, "build", "cardupd")))


class Rig:
    def __init__(self, tmp):
        self.tmp = tmp
        self.binary = cardupd_bin()
        self.pki = self.pcscd = self.cms = self.d = self.reader = None
        self.card = Card()

    def cardupd(self, conf=None, binary=None, tmp=None):
        """A cardupd (not started) on this rig's pcscd and CMS; conf: its configuration
        sections (default: warnings only in the log)."""
        return Cardupd(os.path.abspath(binary or self.binary), tmp or self.tmp,
                       self.pcscd.env, self.cms.url, self.pki["ca_cert"], [self.cms.origin],
                       QUIET if conf is None else conf)


@contextlib.contextmanager
def rig(prefix, daemon=True):
    r = Rig(tempfile.mkdtemp(prefix=prefix))
    try:
        r.pki = make_pki(r.tmp)
        r.pcscd = PrivatePcscd(r.tmp).start()
        r.reader = r.pcscd.reader_names[0]
        r.cms = TestCMS(r.pki["server_cert"], r.pki["server_key"]).start()
        if daemon:
            r.d = r.cardupd().start()
        yield r
    finally:
        r.card.remove()
        for x in (r.d, r.cms, r.pcscd):
            if x is not None:
                x.stop()
        shutil.rmtree(r.tmp, ignore_errors=True)
