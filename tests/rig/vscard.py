#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""The test rig's scripted cards in QEMU's emulated USB CCID reader (test rig).

Owns: the client end of QEMU's `ccid-card-passthru` chardev, which speaks libcacard's
VSCard protocol, serving the card personalities of vcard.py (Card objects: PIV with
CPLC and CHUID, T=0 chaining with 61xx, ATR-only, garbage, a card that stops answering
after `hang_after` APDUs).  Standard library only.

VSCard protocol (libcacard's vscard_common.h, version 0.0.2): every message is a 12-byte
header (type, reader id, payload length: big-endian u32) and the payload.  Types: 1 Init
(payload: magic "VSCD", version u32, capabilities u32...), 2 Error (code u32; QEMU
acknowledges every message with Error code 0), 3 ReaderAdd, 4 ReaderRemove, 5 ATR (the
card is inserted, with this ATR), 6 CardRemove, 7 APDU (QEMU -> card: a command; card ->
QEMU: its response), 8 Flush, 9 FlushComplete.  QEMU's usb-ccid answers the guest's power-up itself from the ATR
it was given, and exchanges T=0 TPDUs only: give cards a T=0-capable ATR (T0_ATR, or
QEMU_PIV_ATR which offers T=0 and T=1).

    bridge = VSCardBridge(path_of_the_chardev_socket).start()
    card = Card(atr=T0_ATR)       # tests/rig/vcard.py
    bridge.insert(card)           # VSC ATR: the guest's pcscd sees a card 6-30 ms later
    bridge.remove()               # VSC CardRemove
    bridge.close()

After a QMP device_del/device_add of the usb-ccid reader and its ccid-card-passthru,
QEMU sends Init again on the same connection (wait_init(n)); the reader is empty until
the next insert().

CLI (for QEMU started by hand, docs/boards.md):
    /usr/bin/python3 tests/rig/vscard.py --socket PATH [--personality piv] [--t0]
then type i / insert, r / remove, q / quit on stdin.
"""

import argparse
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from vcard import Card, T0_ATR  # noqa: E402

VSC_INIT, VSC_ERROR, VSC_READER_ADD, VSC_READER_REMOVE, VSC_ATR, VSC_CARD_REMOVE, \
    VSC_APDU, VSC_FLUSH, VSC_FLUSH_COMPLETE = range(1, 10)
VSC_GENERAL_ERROR = 1
VSCARD_MAGIC = b"VSCD"
VSCARD_VERSION = 2                  # MAKE_VERSION(0, 0, 2)
READER_ID = 0
HEADER = struct.Struct(">III")
#: A PIV-like ATR offering T=0 and T=1 (historical bytes "QEMUPIV1"), TCK correct.
QEMU_PIV_ATR = bytes.fromhex("3b88800151454d55504956317b")


class VSCardError(RuntimeError):
    pass


class VSCardBridge:
    """The card side of one ccid-card-passthru chardev (a unix socket QEMU listens on).

    Attributes for tests: card (the Card inserted, or None), inits (Init messages seen
    from QEMU), inserted_at / removed_at (time.monotonic() of the last ATR / CardRemove
    sent), errors (non-zero Error codes from QEMU)."""

    def __init__(self, path, reader_name="cardupd test reader"):
        self.path = path
        self.reader_name = reader_name
        self.card = None
        self.inits = 0
        self.acks = 0
        self.errors = []
        self.inserted_at = self.removed_at = None
        self.apdu_pending = False       # QEMU waits for the card's answer
        self._sock = None
        self._thread = None
        self._wlock = threading.Lock()
        self._cond = threading.Condition()
        self._closed = False

    # ---- connection ----

    def start(self, timeout=10.0):
        """Connects (QEMU must be listening: retried up to `timeout` s) and sends Init
        and ReaderAdd."""
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(self.path)
                break
            except OSError as e:
                s.close()
                if time.monotonic() >= deadline:
                    raise VSCardError("no VSCard chardev at %s: %s" % (self.path, e))
                time.sleep(0.05)
        self._sock = s
        self._thread = threading.Thread(target=self._serve, name="vscard", daemon=True)
        self._thread.start()
        self._send(VSC_INIT, VSCARD_MAGIC + struct.pack(">II", VSCARD_VERSION, 0),
                   reader=0xFFFFFFFF)
        self._send(VSC_READER_ADD, self.reader_name.encode() + b"\0")
        return self

    def close(self):
        self._closed = True
        s, self._sock = self._sock, None
        if s is not None:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(5)
        self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    # ---- the card ----

    def insert(self, card):
        """Inserts `card` (a vcard.Card): VSC ATR with its ATR; the card is reset."""
        if self.card is not None:
            raise VSCardError("a card is already in the reader")
        card.reset()
        self.apdu_pending = False
        self.card = card
        self.inserted_at = time.monotonic()
        self._send(VSC_ATR, bytes(card.atr))
        return self.inserted_at

    def remove(self):
        """Removes the card (VSC CardRemove); idempotent.

        QEMU's reader drops an answer it has not delivered yet when the card goes
        (passthru: flush, then reset): an APDU still unanswered at that moment, or an
        answer sent just before, never reaches the guest, and libccid waits for it
        up to its read timeout (minutes for some ATRs: docs/readers.md). A real
        reader fails the exchange instead: fail_exchange() first, and let the guest
        take that answer (e.g. wait until the read failed), then remove()."""
        if self.card is None:
            return None
        self.card = None
        self.apdu_pending = False
        self.removed_at = time.monotonic()
        self._send(VSC_CARD_REMOVE, b"")
        return self.removed_at

    def fail_exchange(self):
        """Fails the APDU QEMU is waiting on the card for (VSC Error: QEMU answers it
        with a failed, empty data block), as a reader does when the card leaves or is
        mute. Returns False when no APDU was pending."""
        if not self.apdu_pending:
            return False
        self.apdu_pending = False
        self._send(VSC_ERROR, struct.pack(">I", VSC_GENERAL_ERROR))
        return True

    def forget(self):
        """The reader was unplugged (QMP device_del): the card is out without a
        CardRemove message (QEMU dropped the device that would take it)."""
        self.card = None

    def wait_init(self, n, timeout=10.0):
        """Blocks until QEMU sent its n-th Init (1 at connection, one more per replug)."""
        with self._cond:
            if not self._cond.wait_for(lambda: self.inits >= n or self._closed, timeout):
                raise TimeoutError("QEMU sent %d VSCard Init messages, wanted %d"
                                   % (self.inits, n))

    # ---- wire ----

    def _send(self, mtype, payload, reader=READER_ID):
        s = self._sock
        if s is None:
            raise VSCardError("not connected")
        with self._wlock:
            s.sendall(HEADER.pack(mtype, reader, len(payload)) + payload)

    def _recv_exact(self, n):
        buf = b""
        while len(buf) < n:
            s = self._sock
            if s is None:
                return None
            try:
                chunk = s.recv(n - len(buf))
            except OSError:
                return None
            if not chunk:
                return None
            buf += chunk
        return buf

    def _serve(self):
        while True:
            hdr = self._recv_exact(HEADER.size)
            if hdr is None:
                break
            mtype, _reader, length = HEADER.unpack(hdr)
            payload = self._recv_exact(length) if length else b""
            if payload is None:
                break
            if mtype == VSC_INIT:
                with self._cond:
                    self.inits += 1
                    self._cond.notify_all()
            elif mtype == VSC_ERROR:
                code = struct.unpack(">I", payload[:4])[0] if len(payload) >= 4 else -1
                with self._cond:
                    self.acks += 1
                    if code != 0:
                        self.errors.append(code)
                    self._cond.notify_all()
            elif mtype == VSC_FLUSH:
                self._send(VSC_FLUSH_COMPLETE, b"")
            elif mtype == VSC_APDU:
                card = self.card
                if card is None:
                    continue            # removed meanwhile: QEMU flushed the request
                self.apdu_pending = True
                reply = card.transmit(payload)
                if reply is not None and self.card is card:
                    self.apdu_pending = False
                    try:
                        self._send(VSC_APDU, reply)
                    except (OSError, VSCardError):
                        break
        with self._cond:
            self._closed = True
            self._cond.notify_all()


# ---- CLI ------------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--socket", required=True, help="the ccid-card-passthru chardev socket")
    ap.add_argument("--personality", default="piv",
                    choices=["piv", "nopiv", "atr_only", "garbage"])
    ap.add_argument("--t0", action="store_true", help="answer with 61xx (T=0 chaining)")
    ap.add_argument("--guid", help="16-byte GUID in hex")
    ap.add_argument("--atr", help="ATR in hex (T=0-capable: QEMU's reader is T=0 only)")
    ap.add_argument("--no-insert", action="store_true", help="start removed")
    a = ap.parse_args(argv)
    kw = {"personality": a.personality, "t0": a.t0,
          "atr": bytes.fromhex(a.atr) if a.atr else (T0_ATR if a.t0 else QEMU_PIV_ATR)}
    if a.guid:
        kw["guid"] = bytes.fromhex(a.guid)
    card = Card(**kw)
    bridge = VSCardBridge(a.socket).start()

    def say(msg):
        print(msg, flush=True)

    if not a.no_insert:
        bridge.insert(card)
        say("inserted %r" % card)
    for line in sys.stdin:
        cmd = line.strip().lower()
        if cmd in ("i", "insert"):
            if bridge.card is not None:
                say("already inserted")
            else:
                bridge.insert(card)
                say("inserted")
        elif cmd in ("r", "remove"):
            bridge.remove()
            say("removed")
        elif cmd in ("q", "quit"):
            break
        elif cmd:
            say("commands: i(nsert) r(emove) q(uit)")
    bridge.remove()
    bridge.close()
    say("bye")
    return 0


if __name__ == "__main__":
    sys.exit(main())
