# SPDX-License-Identifier: BSD-2-Clause
"""cardupd under systemd (issue 15): Type=notify readiness and one journal copy per message.

No systemd runs here: the tests play its part. READY=1 arrives on $NOTIFY_SOCKET (a datagram
socket the test binds) only once the kiosk listener answers, STOPPING=1 on SIGTERM; with
stderr named by $JOURNAL_STREAM (device:inode, as systemd sets it) every line is one
"<N>message" with its syslog priority, no time prefix, even with [log] syslog = yes."""
import os
import re
import socket

import pytest


@pytest.fixture
def notify_sock(tmp_path):
    path = str(tmp_path / "notify.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    s.settimeout(15)
    yield path, s
    s.close()


def test_ready_after_listeners_then_stopping(make_daemon, notify_sock):
    path, sock = notify_sock
    d = make_daemon(start=False)
    d.env["NOTIFY_SOCKET"] = path
    d.start(wait=False)
    assert sock.recv(256) == b"READY=1"
    # Ready means ready: the kiosk API answers at once, no retry.
    assert "readers" in d.state()
    assert d.stop() == 0
    assert sock.recv(256) == b"STOPPING=1"


def test_journal_gets_one_copy_with_priorities(make_daemon):
    d = make_daemon(conf={"log": {"syslog": "yes", "level": "info"}}, start=False)
    open(d.log_path, "ab").close()
    st = os.stat(d.log_path)
    d.env["JOURNAL_STREAM"] = "%d:%d" % (st.st_dev, st.st_ino)
    d.start()
    d.wait_for(lambda s: len(s["readers"]) >= 1, what="readers listed")
    assert d.stop() == 0
    lines = [l for l in d.log().splitlines() if l]
    assert lines, "no log"
    bad = [l for l in lines if not re.match(r"<[0-7]>\S", l)]
    assert not bad, "lines without a priority prefix: %r" % bad[:5]
    assert not [l for l in lines if re.search(r"\d\d:\d\d:\d\d\.\d{3} cardupd\[", l)]
    started = [l for l in lines if "kiosk page on" in l]
    assert len(started) == 1 and started[0].startswith("<6>cardupd ")
    assert "<6>stopped" in lines
