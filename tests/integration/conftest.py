# SPDX-License-Identifier: BSD-2-Clause
"""pytest fixtures for the integration tests: the real pcscd with vpcd, scripted cards,
the TLS test CMS with certificates made now, and the cardupd binary under test.
Everything is started per test and torn down even when the test fails."""

import os
import signal
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "rig"))

from certs import make_pki                  # noqa: E402
from daemon import Cardupd                  # noqa: E402
from pcscd import PrivatePcscd              # noqa: E402
from testcms import TestCMS                 # noqa: E402
from vcard import Card                      # noqa: E402
import openapi                              # noqa: E402

BIN = os.environ.get("CARDUPD_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "cardupd")


@pytest.fixture(autouse=True)
def api_contracts():
    """Every kiosk and admin API request and answer of a test is checked against
    docs/api/*.openapi.yaml (tests/rig/openapi.py): an undocumented route or a
    non-conforming body fails the test where it happens."""
    openapi.enforce(sys.modules)


def pytest_configure(config):
    # SIGTERM (a CI timeout, a developer's kill) ends pytest like Ctrl-C does, so every
    # fixture's teardown still stops what the test started (cardupd, pcscd, the CMS).
    def on_term(signum, frame):
        raise KeyboardInterrupt("SIGTERM")
    signal.signal(signal.SIGTERM, on_term)


@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    return make_pki(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def pcscd(tmp_path):
    p = PrivatePcscd(str(tmp_path), die_with_parent=True)   # even if pytest is killed
    p.start()
    yield p
    p.stop()


@pytest.fixture
def cms(pki):
    c = TestCMS(pki["server_cert"], pki["server_key"]).start()
    yield c
    c.stop()


@pytest.fixture
def cards():
    """Cards made by a test; all removed at the end."""
    made = []

    def make(*a, **kw):
        c = Card(*a, **kw)
        made.append(c)
        return c
    yield make
    for c in made:
        try:
            c.remove()
        except Exception:
            pass


@pytest.fixture
def make_daemon(tmp_path, pcscd, cms, pki):
    """make_daemon(conf={...}, cms_url=..., anchors=...) -> started Cardupd."""
    started = []

    def make(conf=None, start=True, cms_url=None, anchors=None, origins=None,
             wait_readers=True):
        d = Cardupd(os.path.abspath(BIN), str(tmp_path), pcscd.env,
                    cms_url or cms.url, anchors or pki["ca_cert"],
                    origins or [cms.origin], conf, die_with_parent=True)
        started.append(d)
        if start:
            d.start()
            if wait_readers:
                # The kiosk API answers before the watcher has listed the readers.
                d.wait_for(lambda st: len(st["readers"]) >= 1, what="readers listed")
        return d
    yield make
    # Every daemon must stop cleanly on SIGTERM, with no sanitizer finding (in the
    # SANITIZE=1 build a leak or UB report fails the test here).
    problems = []
    for d in started:
        rc = d.stop()
        log = d.log()
        for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            if marker in log:
                problems.append("sanitizer finding (%s):\n%s" % (marker, log[-6000:]))
        if rc not in (None, 0):
            problems.append("cardupd exited with %s on SIGTERM:\n%s" % (rc, log[-4000:]))
    assert not problems, "\n".join(problems)


@pytest.fixture
def daemon(make_daemon):
    return make_daemon()
