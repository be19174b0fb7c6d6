#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""What the private pcscd says about its readers, seen as a PC/SC client (test rig).

Owns: waiting until pcscd itself reports a reader empty or holding a card, so that the
rig waits on pcscd's state instead of on its 400 ms vpcd poll period.  Standard library
only (ctypes on Debian's libpcsclite.so.1).

    w = ReaderWatch(pcscd.socket_path)
    card.remove()
    w.wait("Virtual PCD 00 00", present=False, timeout=10)   # pcscd says: empty

pcsc-lite's client library reads PCSCLITE_CSOCK_NAME once per process (pthread_once), so
one process can watch one pcscd socket path only: rigd (one pcscd per process) can, a
pytest process (a pcscd per test) cannot.  A ReaderWatch for another path raises.
Each wait uses its own PC/SC context, so waits from several threads do not serialize.
"""

import ctypes
import os
import threading
import time

SCARD_S_SUCCESS = 0
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_SCOPE_SYSTEM = 2
SCARD_STATE_UNAWARE = 0x0000
SCARD_STATE_CHANGED = 0x0002
SCARD_STATE_UNKNOWN = 0x0004
SCARD_STATE_EMPTY = 0x0010
SCARD_STATE_PRESENT = 0x0020
SCARD_STATE_MUTE = 0x0200

# pcsclite.h on Linux: DWORD is unsigned long, LONG is long, SCARDCONTEXT a LONG.
DWORD = ctypes.c_ulong
LONG = ctypes.c_long


class SCARD_READERSTATE(ctypes.Structure):
    _fields_ = [("szReader", ctypes.c_char_p), ("pvUserData", ctypes.c_void_p),
                ("dwCurrentState", DWORD), ("dwEventState", DWORD),
                ("cbAtr", DWORD), ("rgbAtr", ctypes.c_ubyte * 33)]


_lib = None
_path = None
_lib_lock = threading.Lock()


def _load(socket_path):
    global _lib, _path
    with _lib_lock:
        if _path is not None and _path != socket_path:
            raise RuntimeError("pcscwatch: this process already watches %s (pcsc-lite reads "
                               "PCSCLITE_CSOCK_NAME once per process)" % _path)
        if _lib is None:
            os.environ["PCSCLITE_CSOCK_NAME"] = socket_path
            lib = ctypes.CDLL("libpcsclite.so.1")
            lib.SCardEstablishContext.argtypes = [DWORD, ctypes.c_void_p, ctypes.c_void_p,
                                                  ctypes.POINTER(LONG)]
            lib.SCardEstablishContext.restype = LONG
            lib.SCardReleaseContext.argtypes = [LONG]
            lib.SCardReleaseContext.restype = LONG
            lib.SCardGetStatusChange.argtypes = [LONG, DWORD, ctypes.POINTER(SCARD_READERSTATE),
                                                 DWORD]
            lib.SCardGetStatusChange.restype = LONG
            _lib = lib
            _path = socket_path
        return _lib


def _u32(rv):
    return rv & 0xFFFFFFFF


class ReaderWatch:
    def __init__(self, socket_path):
        self.socket_path = socket_path
        self.lib = _load(socket_path)

    def wait(self, reader, present, timeout=10.0):
        """Blocks until pcscd reports `reader` holding a card (present=True: PRESENT and
        not MUTE, i.e. powered up with its ATR read) or empty (present=False).  Returns
        the reader's event state; raises TimeoutError with the last state seen."""
        end = time.monotonic() + timeout
        last = None
        while True:
            left = end - time.monotonic()
            ctx = LONG(0)
            rv = _u32(self.lib.SCardEstablishContext(SCARD_SCOPE_SYSTEM, None, None,
                                                     ctypes.byref(ctx)))
            if rv == SCARD_S_SUCCESS:
                try:
                    st = SCARD_READERSTATE(reader.encode(), None, SCARD_STATE_UNAWARE, 0, 0)
                    while True:
                        rv = _u32(self.lib.SCardGetStatusChange(ctx, 0, ctypes.byref(st), 1))
                        if rv != SCARD_S_SUCCESS:
                            break
                        last = st.dwEventState
                        if self._is(last, present):
                            return last
                        left = end - time.monotonic()
                        if left <= 0:
                            break
                        # Block until the state moves on (pcscd pushes the change).
                        st.dwCurrentState = st.dwEventState & ~SCARD_STATE_CHANGED
                        rv = _u32(self.lib.SCardGetStatusChange(
                            ctx, int(min(left, 1.0) * 1000) or 1, ctypes.byref(st), 1))
                        if rv not in (SCARD_S_SUCCESS, SCARD_E_TIMEOUT):
                            break
                        st.dwCurrentState = SCARD_STATE_UNAWARE
                finally:
                    self.lib.SCardReleaseContext(ctx)
            if time.monotonic() >= end:
                raise TimeoutError("pcscd did not report %r %s within %.1f s (last state "
                                   "0x%s, last result 0x%08X)"
                                   % (reader, "present" if present else "empty", timeout,
                                      "%X" % last if last is not None else "?", rv))
            # pcscd restarting (no service, reader unknown for a moment): try again.
            time.sleep(0.05)

    @staticmethod
    def _is(state, present):
        if state & SCARD_STATE_UNKNOWN:
            return False
        if present:
            return bool(state & SCARD_STATE_PRESENT) and not state & SCARD_STATE_MUTE
        return bool(state & SCARD_STATE_EMPTY)
