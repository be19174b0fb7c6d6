# SPDX-License-Identifier: BSD-2-Clause
"""The QEMU guest of `make vm-test` and `make vm-demo`, seen from the host.

Owns: starting qemu-system-aarch64 (or -arm) on the guest built by mkguest.py with a USB
CCID reader (qemu-xhci + usb-ccid + ccid-card-passthru), the virtio console of the guest's
agent, QMP, the VSCard bridge of the card (tests/rig/vscard.py), and stopping all of it,
also when the caller fails (QEMU dies with this process: PR_SET_PDEATHSIG).

    g = Guest(build_dir, work_dir, arch="arm64", disk=..., hostfwd=[(8443, 8443)]).start()
    g.wait_hello()                        # the agent is up: the init scripts ran
    g.run("id cardupd")                   # -> (rc, output) of a shell script in the guest
    g.wait_state(lambda st: ...)          # the kiosk state as `cardupctl events` reports it
    g.wait_pcsc("present")                # the guest's PC/SC anchor (vm-pcsc-watch)
    g.bridge.insert(card)                 # the card, over USB
    g.replug_reader()                     # QMP device_del + device_add of the reader
    g.stop()

Every agent line is kept with the time.monotonic() at which it arrived (figures).
Standard library only.
"""

import base64
import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "rig"))

from vscard import VSCardBridge  # noqa: E402

QEMU = {
    "arm64": ["qemu-system-aarch64", "-M", "virt", "-cpu", "cortex-a72"],
    "armhf": ["qemu-system-arm", "-M", "virt,highmem=off", "-cpu", "cortex-a15"],
}
CONSOLE = {"arm64": "ttyAMA0", "armhf": "ttyAMA0"}
PR_SET_PDEATHSIG = 1


def _die_with_parent():
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


class GuestError(RuntimeError):
    pass


class Guest:
    def __init__(self, build_dir, work_dir, arch="arm64", disk=None, hostfwd=(),
                 net=False, mem=512, append=""):
        self.build_dir = build_dir
        self.dir = work_dir
        self.arch = arch
        self.disk = disk
        self.hostfwd = list(hostfwd)
        self.net = net or bool(self.hostfwd)
        self.mem = mem
        self.append = append
        self.proc = None
        self.bridge = None
        self.started_at = None
        self.lines = []             # (t, kind, text) of every agent line
        self.states = []            # (t, state dict) from "ev" lines
        self.pcsc = []              # (t, "present NAME ATR" ...) from "pcsc" lines
        self.hellos = []            # (t, guest uptime) per boot
        self._results = {}
        self._outputs = {}
        self._next_id = 1
        self._cond = threading.Condition()
        self._agent = None
        self._qmp = None
        self._qmp_file = None
        self._qmp_events = []
        self._qmp_lock = threading.Lock()
        self.replugs = 0

    # ---- paths ----

    def path(self, name):
        return os.path.join(self.dir, name)

    @property
    def console_log(self):
        return self.path("console.log")

    # ---- lifecycle ----

    def argv(self):
        a = list(QEMU[self.arch]) + [
            "-smp", "1", "-m", str(self.mem), "-display", "none", "-nodefaults",
            "-no-user-config", "-kernel", os.path.join(self.build_dir, "vmlinuz"),
            "-initrd", os.path.join(self.build_dir, "initrd.img"),
            "-append", ("console=%s panic=-1 rdinit=/sbin/init loglevel=4 %s"
                        % (CONSOLE[self.arch], self.append)).strip(),
            # A guest reboot powers QEMU off; reboot() starts it again (a board reset).
            # QEMU's own warm reset was seen to unpack the initramfs 50-100x slower.
            "-no-reboot",
            "-chardev", "file,id=con0,path=%s,append=on" % self.console_log,
            "-serial", "chardev:con0",
            "-qmp", "unix:%s,server=on,wait=off" % self.path("qmp.sock"),
            "-device", "virtio-rng-pci",
            "-device", "virtio-serial-pci,id=vser",
            "-chardev", "socket,id=agent,path=%s,server=on,wait=off" % self.path("agent.sock"),
            "-device", "virtconsole,chardev=agent,bus=vser.0",
            "-device", "qemu-xhci,id=xhci",
            "-chardev", "socket,id=vsc0,path=%s,server=on,wait=off" % self.path("vsc.sock"),
        ] + self.reader_devices()
        if self.disk:
            a += ["-drive", "file=%s,if=none,id=disk0,format=raw" % self.disk,
                  "-device", "virtio-blk-pci,drive=disk0"]
        if self.net:
            fwd = "".join(",hostfwd=tcp:127.0.0.1:%d-:%d" % hf for hf in self.hostfwd)
            # romfile= : no iPXE option ROM (ipxe-qemu is not needed).
            a += ["-netdev", "user,id=n0,ipv6=off" + fwd,
                  "-device", "virtio-net-pci,netdev=n0,romfile="]
        else:
            a += ["-nic", "none"]
        return a

    @staticmethod
    def reader_devices(bus="xhci.0"):
        return ["-device", "usb-ccid,id=ccid0,bus=%s" % bus,
                "-device", "ccid-card-passthru,id=card0,bus=ccid0.0,chardev=vsc0"]

    def start(self):
        os.makedirs(self.dir, exist_ok=True)
        names = ("qmp.sock", "agent.sock", "vsc.sock")
        for n in names + (() if self.started_at else ("console.log",)):
            try:
                os.unlink(self.path(n))
            except FileNotFoundError:
                pass
        self.replugs = 0
        self.started_at = time.monotonic()
        self._qemu_log = open(self.path("qemu.log"), "ab")
        self.proc = subprocess.Popen(self.argv(), stdin=subprocess.DEVNULL,
                                     stdout=self._qemu_log, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        self._qmp_connect()
        self._agent = self._connect(self.path("agent.sock"))
        self._gen = getattr(self, "_gen", 0) + 1
        threading.Thread(target=self._agent_reader, args=(self._gen,), name="vm-agent",
                         daemon=True).start()
        self.bridge = VSCardBridge(self.path("vsc.sock")).start()
        return self

    def _connect(self, path, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise GuestError("QEMU exited with %d:\n%s" % (self.proc.returncode,
                                                               self.qemu_log()))
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
                return s
            except OSError:
                s.close()
                if time.monotonic() > deadline:
                    raise GuestError("QEMU did not open %s" % path)
                time.sleep(0.02)

    def reboot(self, timeout=120.0):
        """The guest reboots (its init scripts stopped, file systems unmounted): QEMU
        powers off on it (-no-reboot) and is started again on the same disk, as a
        board resets. Returns the time QEMU started again."""
        self.send("sync; reboot")
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise GuestError("the guest did not go down within %.0f s\n%s" % (
                timeout, self.console(1500)))
        self.stop()
        self.start()
        return self.started_at

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=10.0):
        """Powers the guest off (QMP quit), kills QEMU if it lingers; idempotent."""
        if self.bridge is not None:
            self.bridge.close()
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.qmp("quit", timeout=3)
            except Exception:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        agent, self._agent = self._agent, None
        for s in (agent, self._qmp):
            if s is not None:
                try:
                    s.close()
                except OSError:
                    pass
        self._qmp = None
        if getattr(self, "_qemu_log", None):
            self._qemu_log.close()
            self._qemu_log = None
        for n in ("qmp.sock", "agent.sock", "vsc.sock"):
            try:
                os.unlink(self.path(n))
            except FileNotFoundError:
                pass
        return self.proc.returncode if self.proc else None

    def qemu_log(self):
        try:
            with open(self.path("qemu.log"), "rb") as f:
                return f.read().decode(errors="replace")[-3000:]
        except OSError:
            return ""

    def console(self, tail=4000):
        try:
            with open(self.console_log, "rb") as f:
                return f.read().decode(errors="replace")[-tail:]
        except OSError:
            return ""

    # ---- QMP ----

    def _qmp_connect(self):
        self._qmp = self._connect(self.path("qmp.sock"))
        self._qmp_file = self._qmp.makefile("rb")
        self._qmp_read()                        # greeting
        self.qmp("qmp_capabilities")

    def _qmp_read(self):
        line = self._qmp_file.readline()
        if not line:
            raise GuestError("QMP connection closed")
        return json.loads(line)

    def qmp(self, command, timeout=60.0, **args):
        """Runs a QMP command, returns its "return" value; events are kept."""
        with self._qmp_lock:
            self._qmp.settimeout(timeout)
            msg = {"execute": command}
            if args:
                msg["arguments"] = args
            self._qmp.sendall(json.dumps(msg).encode() + b"\n")
            while True:
                m = self._qmp_read()
                if "event" in m:
                    self._qmp_events.append((time.monotonic(), m))
                    continue
                if "error" in m:
                    raise GuestError("QMP %s: %s" % (command, m["error"]))
                return m.get("return")

    def wait_qmp_event(self, name, pred=lambda ev: True, timeout=10.0):
        end = time.monotonic() + timeout
        with self._qmp_lock:
            while True:
                for t, ev in self._qmp_events:
                    if ev["event"] == name and pred(ev):
                        self._qmp_events.remove((t, ev))
                        return t, ev
                left = end - time.monotonic()
                if left <= 0:
                    raise TimeoutError("no QMP event %s" % name)
                self._qmp.settimeout(left)
                try:
                    self._qmp_events.append((time.monotonic(), self._qmp_read()))
                except socket.timeout:
                    raise TimeoutError("no QMP event %s" % name)

    def unplug_reader(self):
        """QMP device_del of the usb-ccid reader (its card device goes with it);
        returns when QEMU reports the device deleted."""
        t0 = time.monotonic()
        self.qmp("device_del", id="ccid0")
        self.wait_qmp_event("DEVICE_DELETED", lambda ev: ev["data"].get("device") == "ccid0")
        self.bridge.forget()
        return t0

    def plug_reader(self):
        """QMP device_add of a new usb-ccid reader and its ccid-card-passthru on the same
        chardev (QEMU sends the bridge a new Init). Returns the time of the device_add."""
        n = self.bridge.inits
        t0 = time.monotonic()
        self.qmp("device_add", driver="usb-ccid", id="ccid0", bus="xhci.0")
        self.qmp("device_add", driver="ccid-card-passthru", id="card0", bus="ccid0.0",
                 chardev="vsc0")
        self.bridge.wait_init(n + 1)
        self.replugs += 1
        return t0

    # ---- the agent ----

    def _agent_reader(self, gen):
        # The console's socket can be reset while QEMU runs (the guest closes the
        # port): connect again, for as long as this QEMU (generation) runs.
        while True:
            sock = self._agent
            if sock is None or gen != self._gen:
                return
            try:
                for raw in sock.makefile("rb"):
                    self._agent_line(time.monotonic(), raw)
            except OSError:
                pass
            if not self.alive() or self._agent is None or gen != self._gen:
                return
            try:
                new = self._connect(self.path("agent.sock"), timeout=30)
            except GuestError:
                break
            if self._agent is None or gen != self._gen:
                new.close()
                return
            self._agent = new
        with self._cond:
            self.lines.append((time.monotonic(), "eof", ""))
            self._cond.notify_all()

    def _agent_line(self, t, raw):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        kind, _, rest = line.partition(" ")
        with self._cond:
            self.lines.append((t, kind, rest))
            if kind == "ev":
                try:
                    self.states.append((t, json.loads(rest)))
                except ValueError:
                    pass
            elif kind == "pcsc":
                self.pcsc.append((t, rest))
            elif kind == "hello":
                self.hellos.append((t, rest))
            elif kind == "out":
                cid, _, chunk = rest.partition(" ")
                self._outputs.setdefault(cid, []).append(chunk)
            elif kind == "ret":
                cid, _, rc = rest.partition(" ")
                self._results[cid] = int(rc) if rc.lstrip("-").isdigit() else -1
            self._cond.notify_all()

    def wait_hello(self, n=1, timeout=180.0):
        """Blocks until the n-th boot's agent said hello; returns its arrival time."""
        self._wait(lambda: len(self.hellos) >= n, timeout,
                   "the guest's agent (boot %d)" % n)
        return self.hellos[n - 1][0]

    def _wait(self, pred, timeout, what):
        with self._cond:
            if not self._cond.wait_for(lambda: pred() or not self.alive(), timeout) \
                    or not pred():
                raise GuestError("timed out waiting for %s%s\n--- console:\n%s" % (
                    what, "" if self.alive() else " (QEMU exited)", self.console(2500)))

    def send(self, script):
        cid = str(self._next_id)
        self._next_id += 1
        self._agent.sendall(cid.encode() + b" " + base64.b64encode(script.encode()) + b"\n")
        return cid

    def run(self, script, timeout=60.0, check=True):
        """Runs a shell script in the guest (as root); returns (rc, output)."""
        cid = self.send(script)
        self._wait(lambda: cid in self._results, timeout, "command %r" % script[:80])
        with self._cond:
            rc = self._results.pop(cid)
            out = base64.b64decode("".join(self._outputs.pop(cid, []))).decode("utf-8", "replace")
        if check and rc != 0:
            raise GuestError("guest command failed (%d): %s\n%s" % (rc, script, out))
        return rc, out

    def out(self, script, timeout=60.0):
        return self.run(script, timeout)[1]

    def wait_state(self, pred, timeout=60.0, since=None, what="kiosk state"):
        """The first kiosk state (from `cardupctl events` in the guest) for which pred
        is true, arrived at or after `since` (time.monotonic()); returns (t, state)."""
        since = since if since is not None else 0

        def found():
            for t, st in self.states:
                if t >= since and pred(st):
                    return t, st
            return None
        self._wait(lambda: found() is not None, timeout, what + self._last_state())
        return found()

    def _last_state(self):
        return (": last state %s" % json.dumps(self.states[-1][1])[:1500]) if self.states else ""

    def wait_pcsc(self, prefix, timeout=60.0, since=None):
        """The first vm-pcsc-watch line starting with prefix at or after since."""
        since = since if since is not None else 0

        def found():
            for t, ln in self.pcsc:
                if t >= since and ln.startswith(prefix):
                    return t, ln
            return None
        self._wait(lambda: found() is not None, timeout, "pcsc %r" % prefix)
        return found()

    def state(self):
        return self.states[-1][1] if self.states else None
