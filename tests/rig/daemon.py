#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The cardupd daemon under test (test rig).

Owns: writing a configuration for a test, starting `cardupd -f` against the private
pcscd and the test CMS, talking to its kiosk API on loopback, and stopping it (also at
exit, so a failing test never leaves it running).  Standard library only.
"""

import atexit
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
import weakref

_live = weakref.WeakSet()


@atexit.register
def _cleanup_all():
    for d in list(_live):
        try:
            d.stop(timeout=1)
        except Exception:
            pass


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class DaemonError(RuntimeError):
    pass


class Cardupd:
    """cardupd with its own config file and log in `dir`.  conf: dict of
    {section: {key: value}} merged over the defaults that point at the test rig."""

    def __init__(self, binary, dir, pcscd_env, cms_url, anchors, origins, conf=None,
                 die_with_parent=False):
        self.binary = binary
        # SIGTERM to cardupd when the thread that started it dies (setpriv --pdeathsig):
        # only for a cardupd started from a thread that outlives it (pytest's main one).
        self.die_with_parent = die_with_parent
        self.dir = dir
        self.port = free_port()
        self.env = dict(pcscd_env)
        self.conf_path = os.path.join(dir, "cardupd.conf")
        self.log_path = os.path.join(dir, "cardupd.log")
        self.base = {
            "device": {"id": "test-kiosk"},
            "cms": {"url": cms_url, "trust_anchors": anchors,
                    "portal_origins": " ".join(origins), "timeout_ms": "3000",
                    "retries": "0"},
            "kiosk": {"listen": "127.0.0.1:%d" % self.port, "prompt_timeout_s": "60"},
            "log": {"level": "debug"},
        }
        self.write_config(conf or {})
        self.proc = None
        self._log = None

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def write_config(self, conf=None, raw=None):
        """Writes the config file: the rig defaults merged with conf, or raw text."""
        if raw is None:
            merged = {s: dict(kv) for s, kv in self.base.items()}
            for s, kv in (conf or {}).items():
                merged.setdefault(s, {}).update(kv)
            raw = "".join("[%s]\n%s\n" % (s, "".join("%s = %s\n" % kv for kv in kv_.items()))
                          for s, kv_ in merged.items())
        with open(self.conf_path, "w") as f:
            f.write(raw)

    def start(self, wait=True, timeout=30.0):
        self._log = open(self.log_path, "ab")
        pre = ["setpriv", "--pdeathsig", "TERM"] if self.die_with_parent else []
        self.proc = subprocess.Popen(pre + [self.binary, "-f", "-c", self.conf_path],
                                     env=self.env, stdout=self._log, stderr=self._log)
        _live.add(self)
        if wait:
            self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout=30.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise DaemonError("cardupd exited with %d:\n%s" % (self.proc.returncode,
                                                                   self.log()))
            try:
                self.state()
                return
            except (OSError, urllib.error.URLError, DaemonError):
                time.sleep(0.02)
        raise DaemonError("cardupd not answering after %.1f s:\n%s" % (timeout, self.log()))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig):
        self.proc.send_signal(sig)

    def stop(self, timeout=20.0):
        """SIGTERM, then SIGKILL after timeout (generous: a sanitizer build on a loaded
        machine takes seconds to exit, and a SIGKILL fails the test). Returns the exit
        status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        rc = self.proc.returncode
        self.proc = None
        if self._log:
            self._log.close()
            self._log = None
        _live.discard(self)
        return rc

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    # ---- kiosk API ----

    def request(self, method, path, body=None, headers=None, raw=None, timeout=5.0):
        """Returns (status, headers, parsed JSON or raw bytes)."""
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        h = {"Content-Type": "application/json"} if data is not None else {}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, hdrs, payload = r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            status, hdrs, payload = e.code, dict(e.headers), e.read()
        if hdrs.get("Content-Type", "").startswith("application/json"):
            try:
                payload = json.loads(payload)
            except ValueError:
                pass
        return status, hdrs, payload

    def state(self):
        status, _, js = self.request("GET", "/api/v1/state", timeout=10.0)
        if status != 200:
            raise DaemonError("state: HTTP %d" % status)
        return js

    def post(self, path, body):
        status, _, js = self.request("POST", path, body)
        return status, js

    def reader(self, name):
        for r in self.state()["readers"]:
            if r["name"] == name:
                return r
        return None

    def wait_for(self, pred, timeout=20.0, what="condition"):
        """Polls the state until pred(state) is true; returns that state.  The timeout
        only bounds a failure: generous, for a loaded 2-core machine."""
        end = time.monotonic() + timeout
        last = None
        while time.monotonic() < end:
            last = self.state()
            if pred(last):
                return last
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %s; last state: %s\n--- cardupd log:\n%s"
                             % (what, json.dumps(last), self.log()[-4000:]))

    def wait_phase(self, reader, phase, timeout=20.0):
        def ok(st):
            return any(r["name"] == reader and r["phase"] == phase for r in st["readers"])
        st = self.wait_for(ok, timeout, "%s to reach %s" % (reader, phase))
        return next(r for r in st["readers"] if r["name"] == reader)
