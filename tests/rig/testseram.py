#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A scripted GlobalPlatform SERAM remote agent (test rig), mounted on the test CMS.

Owns: the server side of the SERAM HTTP REST binding 2.0.0 (POST <base>/gp/seram/
handshake and /remoteManagement ?sessionId=...) for tests of cardupd's local agent
(SPEC §7). It answers with a script of orders, records every handshake and report,
and has fault modes. Standard library only.

    ra = RemoteAgent(cms, [start(), notify("Writing"), apdus([...]), stop()])
    cms.script(guid, cms.pending("c", agent={"seram_url": ra.url}))

An order in the script is a dict (the JSON order) or a dict with rig keys:
  {"_close": True}          drop the connection instead of answering
  {"_delay_s": 2, ...}      answer after 2 s (long poll)
  {"_gate": threading.Event()}  answer when the event is set (at most "_gate_max_s", 25 s)
  {"_raw": b"..."}          answer these bytes as the body
After the script, void orders {"delay": idle_delay_ms} are sent, each held for
idle_hold_s (a long poll).
"""

import threading
import time
import urllib.parse

PIV_AID = "A000000308000010000100"


def start(spelling="ramStartCommand"):
    return {"ramCommands": [{"ramCommandType": spelling}]}


def stop(spelling="ramStopCommand"):
    return {"ramCommands": [{"ramCommandType": spelling}]}


def notify(text):
    return {"ramCommands": [{"ramCommandType": "notificationCommand",
                             "deviceAppNotification": text}]}


def apdus(hexlist, delay=0):
    return {"delay": delay,
            "ramCommands": [{"ramCommandType": "seRamCommand", "listOfCAPDU": list(hexlist)}]}


def select_piv():
    return "00A4040009" + PIV_AID + "00"


def put_data(tag3, content):
    """PUT DATA of a PIV object: 00 DB 3F FF Lc 5C 03 <tag> 53 L <content> (short)."""
    obj = bytes.fromhex("5C03") + tag3 + b"\x53" + bytes([len(content)]) + content
    assert len(content) < 128 and len(obj) <= 255
    return "00DB3FFF%02X" % len(obj) + obj.hex().upper()


def get_data(tag3):
    return "00CB3FFF055C03" + tag3.hex().upper() + "00"


class RemoteAgent:
    __test__ = False

    def __init__(self, cms, script, base="/gp/seram", idle_delay_ms=100, idle_hold_s=0.2,
                 after_stop=None):
        self.cms = cms
        self.base = base
        self.script = list(script)
        self.idle_delay_ms = idle_delay_ms
        self.idle_hold_s = idle_hold_s
        self.after_stop = after_stop      # orders to answer if polled after stop
        self.handshakes = []              # (sessionId, json)
        self.reports = []                 # (sessionId, json)
        self.step = 0
        self.stopped = False
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        cms.route("POST", base + "/handshake", self._handshake)
        cms.route("POST", base + "/remoteManagement", self._remote)

    @property
    def url(self):
        return self.cms.origin + self.base

    @staticmethod
    def _sid(req):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(req["path"]).query)
        return (q.get("sessionId") or [None])[0]

    def _handshake(self, req):
        with self.cond:
            self.handshakes.append((self._sid(req), req["json"]))
            self.cond.notify_all()
        return {"status": 200, "json": {"chosenTransportProtocol": "HTTPS",
                                        "chosenDataFormat": "application/json",
                                        "chosenVersion": "2.0.0"}}

    def _remote(self, req):
        with self.cond:
            self.reports.append((self._sid(req), req["json"]))
            self.cond.notify_all()
            if self.stopped:
                order = self.after_stop or {"delay": self.idle_delay_ms}
            elif self.step < len(self.script):
                order = self.script[self.step]
                self.step += 1
            else:
                order = {"delay": self.idle_delay_ms, "_delay_s": self.idle_hold_s}
            cmds = order.get("ramCommands") or []
            if any(c.get("ramCommandType") in ("ramStopCommand", "stopCommand")
                   for c in cmds if isinstance(c, dict)):
                self.stopped = True
        gate = order.get("_gate")
        if gate is not None:
            # A long poll that ends when the test says so (gate.set()), not after a time:
            # the test can look at every step of the session, however slow the machine.
            # Bounded below the SPEC's 30 s long poll, so the client never times out.
            gate.wait(order.get("_gate_max_s", 25.0))
        ans = {k: v for k, v in order.items() if not k.startswith("_")}
        out = {"status": 200}
        if order.get("_close"):
            return {"close": True}
        if "_raw" in order:
            out["raw"] = order["_raw"]
        else:
            out["json"] = ans
        if order.get("_delay_s"):
            out["delay_s"] = order["_delay_s"]
        return out

    def wait_reports(self, n, timeout=10.0):
        with self.cond:
            if not self.cond.wait_for(lambda: len(self.reports) >= n, timeout):
                raise TimeoutError("remote agent got %d reports, wanted %d"
                                   % (len(self.reports), n))
            return list(self.reports)

    def wait_handshake(self, timeout=10.0):
        with self.cond:
            if not self.cond.wait_for(lambda: self.handshakes, timeout):
                raise TimeoutError("no handshake")
            return self.handshakes[0]
