#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""A private pcscd for one test run (test rig).

Owns: starting, stopping, restarting and killing a pcscd that serves only two vpcd
virtual readers on free TCP ports, in its own mount namespace, so that a system pcscd
(and /run/pcscd of the host) is never touched.  Standard library only; needs root
(for `unshare -m` and the bind mounts).

How (see MACHINE-NOTES "pcscd and the vpcd virtual reader"): pcscd 1.9.9 always listens
on /run/pcscd/pcscd.comm, so it runs as

    unshare -m sh -c '... mount --bind RUNDIR /run/pcscd ... exec pcscd -f -c CONFDIR'

and clients reach it through PCSCLITE_CSOCK_NAME=RUNDIR/pcscd.comm (see `.env`).
`unshare` and `sh` exec in place, so the Popen pid *is* pcscd's pid.

USB: by default (hide_usb=True) every /usr/lib/pcsc/drivers/*.bundle is covered by an
empty directory inside the namespace, so that on a developer machine with a real USB
reader the private pcscd does not grab it from the system pcscd.

Env: CARDUPD_PCSCD_DEBUG=1 adds `-a` (APDU log), =2 adds `-a -d`.  The log is in
`.log_path` (appended across restarts).
"""

import atexit
import os
import signal
import socket
import subprocess
import tempfile
import time
import weakref

READER_FRIENDLY = "Virtual PCD"
VPCD_LIB = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
DRIVERS_DIR = "/usr/lib/pcsc/drivers"

_live = weakref.WeakSet()


def _cleanup_all():
    for p in list(_live):
        try:
            p.kill()
        except Exception:
            pass


atexit.register(_cleanup_all)


def _port_free(port):
    """True if nothing is bound to TCP `port` on any address (IPv4 and IPv6)."""
    for fam, addr in ((socket.AF_INET, "0.0.0.0"), (socket.AF_INET6, "::")):
        s = socket.socket(fam, socket.SOCK_STREAM)
        try:
            if fam == socket.AF_INET6:
                s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            s.bind((addr, port))
        except OSError:
            return False
        finally:
            s.close()
    return True


def find_free_port_pair():
    """A base port P with P and P+1 both free (P from the kernel's ephemeral range)."""
    for _ in range(200):
        s = socket.socket()
        s.bind(("0.0.0.0", 0))
        p = s.getsockname()[1]
        s.close()
        if p < 65535 and _port_free(p) and _port_free(p + 1):
            return p
    raise RuntimeError("no free pair of TCP ports found")


def tcp_listening(port):
    """True if some socket listens on TCP `port` (read from /proc, no connect:
    connecting to a vpcd port would look like a card insertion)."""
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    local, state = parts[1], parts[3]
                    if state == "0A" and int(local.rsplit(":", 1)[1], 16) == port:
                        return True
        except OSError:
            pass
    return False


class PcscdError(RuntimeError):
    pass


class PrivatePcscd:
    """A private pcscd with readers "Virtual PCD 00 00" (vpcd port .port) and
    "Virtual PCD 00 01" (.port + 1).  Use as a context manager or start()/stop()."""

    START_TIMEOUT = 30.0       # bounds a failure only (a loaded machine is slow)
    STOP_TIMEOUT = 15.0

    def __init__(self, tmpdir=None, port=None, hide_usb=True, debug=None,
                 die_with_parent=False):
        if tmpdir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="cardupd-pcscd-")
            tmpdir = self._tmp.name
        self.dir = os.path.abspath(str(tmpdir))
        self.rundir = os.path.join(self.dir, "pcscd-run")
        self.confdir = os.path.join(self.dir, "pcscd-conf")
        self.emptydir = os.path.join(self.dir, "pcscd-empty")
        for d in (self.rundir, self.confdir, self.emptydir):
            os.makedirs(d, exist_ok=True)
        self.port = port or find_free_port_pair()
        self.reader_names = ["%s 00 00" % READER_FRIENDLY, "%s 00 01" % READER_FRIENDLY]
        self.socket_path = os.path.join(self.rundir, "pcscd.comm")
        self.log_path = os.path.join(self.dir, "pcscd.log")
        self.env = dict(os.environ, PCSCLITE_CSOCK_NAME=self.socket_path)
        self.hide_usb = hide_usb
        # pcscd gets SIGTERM when the thread that started it dies (PR_SET_PDEATHSIG via
        # setpriv): a test process killed outright leaves no pcscd behind.  Only for a
        # pcscd started and restarted from a thread that lives as long as it should.
        self.die_with_parent = die_with_parent
        if debug is None:
            debug = os.environ.get("CARDUPD_PCSCD_DEBUG", "")
        self.debug = str(debug)
        self.proc = None
        with open(os.path.join(self.confdir, "vpcd"), "w") as f:
            f.write('FRIENDLYNAME "%s"\n'
                    "DEVICENAME /dev/null:0x%04X\n"
                    "LIBPATH %s\n"
                    "CHANNELID 0x%04X\n" % (READER_FRIENDLY, self.port, VPCD_LIB, self.port))

    # ---- lifecycle ----

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def start(self):
        """Start pcscd; return once pcscd.comm exists and both vpcd ports listen."""
        if os.geteuid() != 0:
            raise PcscdError("PrivatePcscd needs root (unshare -m + bind mounts)")
        if self.running:
            raise PcscdError("pcscd already running (pid %d)" % self.pid)
        for leftover in ("pcscd.comm", "pcscd.pid"):
            try:
                os.unlink(os.path.join(self.rundir, leftover))
            except FileNotFoundError:
                pass
        for p in (self.port, self.port + 1):
            if tcp_listening(p):
                raise PcscdError("vpcd port %d is already in use" % p)
        args = ["pcscd", "-f", "-c", self.confdir]
        if self.debug not in ("", "0"):
            args.append("-a")
            if self.debug == "2":
                args.append("-d")
        script = ('set -e; mkdir -p /run/pcscd; mount --bind "$0" /run/pcscd; '
                  'if [ -n "$2" ]; then for b in %s/*.bundle; do '
                  '[ -d "$b" ] && mount --bind "$2" "$b"; done; fi; '
                  'shift 2; exec "$@"' % DRIVERS_DIR)
        cmd = (["setpriv", "--pdeathsig", "TERM"] if self.die_with_parent else []) + [
               "unshare", "-m", "--propagation", "private", "sh", "-c", script,
               self.rundir, self.confdir, self.emptydir if self.hide_usb else ""] + args
        log = open(self.log_path, "ab")
        log.write(b"=== %s: %s\n" % (time.strftime("%H:%M:%S").encode(),
                                      " ".join(args).encode()))
        log.flush()
        try:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        finally:
            log.close()
        _live.add(self)
        deadline = time.monotonic() + self.START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                rc = self.proc.returncode
                self.proc = None
                raise PcscdError("pcscd exited with %s during start; log:\n%s"
                                 % (rc, self.log_tail()))
            if (os.path.exists(self.socket_path) and tcp_listening(self.port)
                    and tcp_listening(self.port + 1)):
                return self
            if time.monotonic() > deadline:
                self.kill()
                raise PcscdError("pcscd not ready after %.0f s; log:\n%s"
                                 % (self.START_TIMEOUT, self.log_tail()))
            time.sleep(0.005)

    def stop(self):
        """SIGTERM, wait (pcscd takes ~1.3 s), then SIGKILL if needed; always reaps."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
                self.proc.wait(self.STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        _live.discard(self)

    def kill(self):
        """SIGKILL + reap (simulates pcscd dying)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc = None
        _live.discard(self)

    def restart(self):
        self.stop()
        return self.start()

    def log_tail(self, n=4000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
            return data[-n:].decode(errors="replace")
        except OSError:
            return "(no log)"

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def __del__(self):
        try:
            self.kill()
        except Exception:
            pass

    def __repr__(self):
        return "<PrivatePcscd port=%d pid=%s %s>" % (self.port, self.pid, self.socket_path)


if __name__ == "__main__":
    # Manual check: start, print what clients need, wait for Enter, stop.
    with PrivatePcscd() as p:
        print("pcscd pid %d\nexport PCSCLITE_CSOCK_NAME=%s\nreaders: %s on ports %d, %d"
              % (p.pid, p.socket_path, p.reader_names, p.port, p.port + 1), flush=True)
        try:
            input("Enter to stop ")
        except (EOFError, KeyboardInterrupt):
            pass
