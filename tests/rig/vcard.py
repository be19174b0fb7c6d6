#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Scripted smart card for the vpcd virtual reader (test rig).

Owns: the card side of the vpcd wire protocol and the card personalities used by the
tests ("piv", "nopiv", "atr_only", "garbage"), including the T=0 (61xx / GET RESPONSE)
and wrong-Le (6Cxx) behaviours of SPEC.md §1.  The same Card objects serve QEMU's USB
CCID reader through tests/rig/vscard.py (Card.reset / Card.transmit).  Standard library
only.

vpcd wire protocol (the card is the TCP *client*): every message both ways is a 2-byte
big-endian length + payload.  From vpcd a 1-byte payload is a control code (0x00 power
off, 0x01 power on, 0x02 reset, 0x04 get ATR -> reply with the ATR; the others get no
reply); a longer payload is a command APDU and is answered with the response APDU.
Connecting = card inserted, closing = card removed.

Usage from tests:

    card = Card()                 # PIV card with the default test identity
    card.insert(pcscd.port)       # into "Virtual PCD 00 00"; pcscd.port + 1 is "... 00 01"
    card.wait_seen()              # optional: until pcscd powered it up (~0.4 s after insert)
    ...
    card.remove()

Timing (measured): pcscd polls vpcd every 400 ms.  insert() waits REINSERT_GAP_S (0.5 s)
after the last remove() on the same port, because a card swapped within one poll is not
seen as a removal + insertion at all (pcscd keeps the old card's state and ATR).

CLI (used by `make demo`):
    /usr/bin/python3 tests/rig/vcard.py --port P [--personality piv] [--guid HEX]
then type i / insert, r / remove, q / quit on stdin.
"""

import argparse
import os
import random
import socket
import struct
import sys
import threading
import time

# --- default test identity ---------------------------------------------------------

#: SP 800-73 sample FASC-N (25 bytes).
DEFAULT_FASCN = bytes.fromhex("D4E739DA739CED39CE739D836858210842108421C84210C3EB")
#: A fixed, recognisable test GUID.
DEFAULT_GUID = bytes.fromhex("C0FFEE00112233445566778899AABBCC")
DEFAULT_EXPIRY = "20301231"
#: 42 bytes of CPLC data; ICSerialNumber (offset 12..15) = 0x12345678.
DEFAULT_CPLC = bytes.fromhex(
    "4790"      # ICFabricator
    "5167"      # ICType
    "4791"      # OperatingSystemID
    "8205"      # OSReleaseDate
    "2800"      # OSReleaseLevel
    "6345"      # ICFabricationDate
    "12345678"  # ICSerialNumber
    "0042"      # ICBatchIdentifier
    "4812"      # ICModuleFabricator
    "6346"      # ICModulePackagingDate
    "0000"      # ICCManufacturer
    "6347"      # ICEmbeddingDate
    "0101"      # ICPrePersonalizer
    "6348"      # ICPrePersoEquipmentDate
    "00000001"  # ICPrePersoEquipmentID
    "0202"      # ICPersonalizer
    "6349"      # ICPersonalizationDate
    "00000002"  # ICPersoEquipmentID
)
assert len(DEFAULT_CPLC) == 42

#: A real YubiKey 4/5 ATR (T=1, TCK correct).
DEFAULT_ATR = bytes.fromhex("3BF81300008131FE15597562696B657934D4")
#: A T=0-only ATR (TA1=96, 12 historical bytes, no TCK needed for T=0 only).
T0_ATR = bytes.fromhex("3B1C96803180" "65B0850300EF120FFF")

PIV_AID = bytes.fromhex("A000000308000010000100")
#: GlobalPlatform card manager / ISD AIDs we answer with a minimal FCI.
ISD_AIDS = (bytes.fromhex("A000000151000000"), bytes.fromhex("A0000001510000"),
            bytes.fromhex("A000000003000000"))
CHUID_TAG = bytes.fromhex("5FC102")

SW_OK = b"\x90\x00"

#: Minimum time between a removal and the next insertion on the same vpcd port.
REINSERT_GAP_S = 0.5
_last_removal = {}      # (host, port) -> time.monotonic() of the last remove()


def removal_seen(port, host="127.0.0.1"):
    """Tell insert() that pcscd has reported the reader on `port` empty since the last
    remove() there (e.g. through pcscwatch.ReaderWatch): the next insertion is a new
    event whatever the time, so insert() needs no REINSERT_GAP_S."""
    _last_removal.pop((host, port), None)


# --- small BER-TLV helpers -----------------------------------------------------------

def ber_len(n):
    """BER length octets for n (up to 3 bytes as in SPEC §1, 4 for completeness)."""
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    if n < 0x10000:
        return bytes([0x82]) + n.to_bytes(2, "big")
    return bytes([0x83]) + n.to_bytes(3, "big")


def tlv(tag, value):
    """Encode one TLV; tag is an int (1..3 bytes) or bytes."""
    if isinstance(tag, int):
        tag = tag.to_bytes((tag.bit_length() + 7) // 8 or 1, "big")
    return tag + ber_len(len(value)) + value


def parse_ber_len(buf, i):
    """Return (length, next_index) for the BER length at buf[i]; raises ValueError."""
    if i >= len(buf):
        raise ValueError("truncated length")
    b = buf[i]
    if b < 0x80:
        return b, i + 1
    n = b & 0x7F
    if n == 0 or n > 3 or i + 1 + n > len(buf):
        raise ValueError("bad length")
    return int.from_bytes(buf[i + 1:i + 1 + n], "big"), i + 1 + n


def atr_with_tck(atr_without_tck):
    """Append the TCK (XOR of T0..last byte) to an ATR."""
    x = 0
    for b in atr_without_tck[1:]:
        x ^= b
    return bytes(atr_without_tck) + bytes([x])


def chuid_value(fascn, guid, expiry):
    """Contents of the CHUID object (what goes inside 53 L ...)."""
    exp = expiry.encode("ascii") if isinstance(expiry, str) else bytes(expiry)
    return (tlv(0x30, fascn) + tlv(0x34, guid) + tlv(0x35, exp)
            + tlv(0x3E, b"") + tlv(0xFE, b""))


def parse_apdu(apdu):
    """Split a command APDU into (cla, ins, p1, p2, data, le).

    le is None when absent; 0 in a short APDU means 256 (returned as 256).
    Extended-length APDUs are understood too (le 0 -> 65536).
    """
    cla, ins, p1, p2 = apdu[0], apdu[1], apdu[2], apdu[3]
    body = apdu[4:]
    if not body:                                   # case 1
        return cla, ins, p1, p2, b"", None
    if len(body) == 1:                             # case 2 short
        return cla, ins, p1, p2, b"", body[0] or 256
    if body[0] == 0 and len(body) >= 3:            # extended
        if len(body) == 3:                         # case 2E
            le = int.from_bytes(body[1:3], "big") or 65536
            return cla, ins, p1, p2, b"", le
        lc = int.from_bytes(body[1:3], "big")
        data = body[3:3 + lc]
        rest = body[3 + lc:]
        le = (int.from_bytes(rest, "big") or 65536) if len(rest) == 2 else None
        return cla, ins, p1, p2, data, le
    lc = body[0]
    data = body[1:1 + lc]
    rest = body[1 + lc:]
    le = (rest[0] or 256) if len(rest) == 1 else None
    return cla, ins, p1, p2, data, le


# --- the card ------------------------------------------------------------------------

class Card:
    """A scripted card; see the module docstring.

    Attributes useful to tests:
      apdus          list of command APDUs received (bytes), across insertions
      controls       list of control codes received (ints 0/1/2/4)
      objects        dict tag(bytes, e.g. b"\\x5f\\xc1\\x02") -> value inside 53 L
      extra_handler  None or callable(apdu: bytes) -> bytes | None; called first for
                     every APDU, a non-None result is sent as the response
      selected       "piv", "isd" or None (reset by power on / reset)
      require_select GET DATA (INS CB) needs the PIV application selected (default True)
      cplc_needs_isd CPLC only after selecting the card manager (default False); such
                     a card also takes the empty-AID SELECT (00 A4 04 00 00) as
                     selecting it, as GlobalPlatform cards do
      garbage_empty  "garbage" also sends empty replies (vpcd then hangs; default False)

    Quirk: a reply of 0 bytes is never passed on by vpcd: SCardTransmit blocks until the
    card is removed.  Use hang_after / an empty extra_handler reply to test that.
    """

    def __init__(self, personality="piv", guid=DEFAULT_GUID, fascn=DEFAULT_FASCN,
                 expiry=DEFAULT_EXPIRY, cplc=DEFAULT_CPLC, atr=None, t0=False,
                 wrong_le=False, hang_after=None, require_select=True,
                 cplc_needs_isd=False, garbage_empty=False, seed=1234):
        if personality not in ("piv", "nopiv", "atr_only", "garbage"):
            raise ValueError("unknown personality %r" % personality)
        self.personality = personality
        self.guid, self.fascn, self.expiry, self.cplc = guid, fascn, expiry, cplc
        self.atr = bytes(atr) if atr is not None else (T0_ATR if t0 else DEFAULT_ATR)
        self.t0 = t0
        self.wrong_le = wrong_le
        self.hang_after = hang_after
        self.require_select = require_select
        self.cplc_needs_isd = cplc_needs_isd
        self.garbage_empty = garbage_empty
        self.extra_handler = None
        self.objects = {}
        if personality == "piv":
            self.objects[CHUID_TAG] = chuid_value(fascn, guid, expiry)
        self.apdus = []
        self.controls = []
        self.selected = None
        self._pending = b""          # T=0 data waiting for GET RESPONSE
        self._chain = b""            # command chaining buffer (CLA bit 0x10)
        self._rng = random.Random(seed)
        self._garbage_i = 0
        self._sock = None
        self._seen = self._powered = False
        self._thread = None
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)

    # ---- connection management ----

    @property
    def connected(self):
        """True while inserted (socket open and the serving thread alive)."""
        t = self._thread
        return self._sock is not None and t is not None and t.is_alive()

    def insert(self, port, host="127.0.0.1", timeout=15.0):
        """Connect to vpcd (retrying up to `timeout` s) and serve in a daemon thread."""
        if self.connected:
            raise RuntimeError("card already inserted")
        self._join()
        # pcscd polls vpcd every 400 ms: a card inserted within one poll of the previous
        # removal on that port is taken for the old card still present (no removal, no
        # power-up, old ATR).  Keep a gap so every remove/insert is a real event.
        gap = _last_removal.get((host, port), 0) + REINSERT_GAP_S - time.monotonic()
        if gap > 0:
            time.sleep(gap)
        deadline = time.monotonic() + timeout
        while True:
            s = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
            try:
                s.connect((host, port))
                break
            except OSError as e:
                s.close()
                if time.monotonic() >= deadline:
                    raise RuntimeError("vpcd not listening on %s:%d: %s" % (host, port, e))
                time.sleep(0.05)
        self._quick(s)
        self._seen = self._powered = False
        self._addr = (host, port)
        self._sock = s
        self._thread = threading.Thread(target=self._serve, args=(s,),
                                        name="vcard:%d" % port, daemon=True)
        self._thread.start()

    def remove(self):
        """Close the socket (card removed) and join the serving thread. Idempotent."""
        s, self._sock = self._sock, None
        if s is not None:
            _last_removal[self._addr] = time.monotonic()
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()
        self._join()

    def _join(self):
        t, self._thread = self._thread, None
        if t is not None and t is not threading.current_thread():
            t.join(5)

    def wait_seen(self, timeout=10.0):
        """Block until pcscd has noticed this insertion (it powered the card up and read
        the ATR).  After a remove(), vpcd only accepts the next connection at
        a later 400 ms poll, so a re-insert can take up to ~0.8 s to be seen."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._seen, timeout):
                raise TimeoutError("pcscd did not power the card up within %.1f s" % timeout)
        time.sleep(0.02)    # pcscd updates the reader state just after the ATR read

    def wait_apdus(self, n, timeout=15.0):
        """Block until at least n APDUs were received in total; returns the list."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.apdus) >= n, timeout):
                raise TimeoutError("card got %d APDUs, wanted %d" % (len(self.apdus), n))
            return list(self.apdus)

    @staticmethod
    def _quick(s):
        # Debian's vpcd writes length and body separately: without QUICKACK after every
        # recv each APDU costs ~44 ms of delayed ACK (MACHINE-NOTES).
        try:
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        except OSError:
            pass

    def _recv_exact(self, s, n):
        buf = b""
        while len(buf) < n:
            chunk = s.recv(n - len(buf))
            self._quick(s)
            if not chunk:
                return None
            buf += chunk
        return buf

    def _serve(self, s):
        hung = False
        try:
            while True:
                hdr = self._recv_exact(s, 2)
                if hdr is None:
                    return
                (n,) = struct.unpack(">H", hdr)
                msg = self._recv_exact(s, n) if n else b""
                if msg is None:
                    return
                if hung:
                    continue            # keep reading so removal is still noticed
                if len(msg) == 1:
                    reply = self._control(msg[0])
                else:
                    reply = self.transmit(bytes(msg))
                    if reply is None:
                        hung = True
                        continue
                if reply is not None:
                    s.sendall(struct.pack(">H", len(reply)) + reply)
        except OSError:
            return

    def _control(self, code):
        with self._cond:
            self.controls.append(code)
            # pcscd handles an insertion by powering the card up (0x01) and reading the
            # ATR (0x04); only then does the reader state say "present".
            if code == 0x01:
                self._powered = True
            elif code == 0x04 and self._powered:
                self._seen = True
            self._cond.notify_all()
        if code == 0x04:
            return self.atr
        if code in (0x00, 0x01, 0x02):
            self.reset()
        return None

    # ---- APDU processing (any reader transport: vpcd here, QEMU's VSCard in vscard.py) ----

    def reset(self):
        """Power-up or warm reset: no application selected, no response waiting for a
        GET RESPONSE, no command chain."""
        self.selected = None
        self._pending = b""
        self._chain = b""

    def transmit(self, apdu):
        """One command APDU from the reader: recorded (apdus, wait_apdus), then answered.
        None once the card has stopped answering (more than hang_after APDUs)."""
        with self._cond:
            self.apdus.append(bytes(apdu))
            count = len(self.apdus)
            self._cond.notify_all()
        if self.hang_after is not None and count > self.hang_after:
            return None
        return self.respond(bytes(apdu))

    def respond(self, apdu):
        """Compute the response APDU for one command APDU (no wire I/O)."""
        if self.extra_handler is not None:
            r = self.extra_handler(apdu)
            if r is not None:
                return bytes(r)
        if self.personality == "garbage":
            return self._garbage()
        if self.personality == "atr_only":
            return b"\x6d\x00"
        if len(apdu) < 4:
            return b"\x67\x00"
        try:
            cla, ins, p1, p2, data, le = parse_apdu(apdu)
        except IndexError:
            return b"\x67\x00"

        # GET RESPONSE (T=0 continuation)
        if ins == 0xC0 and cla & 0x80 == 0:
            if not self._pending:
                return b"\x69\x85"
            n = le or 256
            out, self._pending = self._pending[:n], self._pending[n:]
            if self._pending:
                return out + bytes([0x61, min(len(self._pending), 256) & 0xFF])
            return out + SW_OK
        self._pending = b""

        # Command chaining: accumulate, answer 9000 until the last block.
        if cla & 0x10:
            self._chain += data
            return SW_OK
        if self._chain:
            data, self._chain = self._chain + data, b""

        if ins == 0xA4 and p1 == 0x04:
            return self._select(data)
        if cla & 0x80 and ins == 0xCA and p1 == 0x9F and p2 == 0x7F:
            if self.cplc is None or (self.cplc_needs_isd and self.selected != "isd"):
                return b"\x6a\x88"
            return self._data(b"\x9f\x7f" + ber_len(len(self.cplc)) + self.cplc, le)
        if self.personality == "piv" and cla & 0x80 == 0 and ins == 0xCB:
            if self.require_select and self.selected != "piv":
                return b"\x6d\x00"
            if (p1, p2) != (0x3F, 0xFF):
                return b"\x6a\x86"
            tag = self._tag_list(data)
            if tag is None:
                return b"\x6a\x80"
            if tag not in self.objects:
                return b"\x6a\x82"
            return self._data(tlv(0x53, self.objects[tag]), le)
        if self.personality == "piv" and cla & 0x80 == 0 and ins == 0xDB:
            if self.require_select and self.selected != "piv":
                return b"\x6d\x00"
            return self._put_data(p1, p2, data)
        return b"\x6d\x00"

    def _select(self, aid):
        # SELECT by name with no AID (00 A4 04 00 00) selects the Issuer Security
        # Domain on GlobalPlatform cards: that is how readers of the CPLC reach the card
        # manager without knowing its AID.  Only cards that need it (cplc_needs_isd)
        # answer it, so every other card keeps its old 6A82.
        if not aid and self.cplc_needs_isd:
            self.selected = "isd"
            return self._data(tlv(0x6F, tlv(0x84, ISD_AIDS[0])), None)
        if self.personality == "piv" and len(aid) >= 5 and PIV_AID.startswith(aid):
            self.selected = "piv"
            apt = tlv(0x61, tlv(0x4F, PIV_AID[5:]) + tlv(0x79, tlv(0x4F, PIV_AID[:5])))
            return self._data(apt, None)
        if aid in ISD_AIDS:
            self.selected = "isd"
            return self._data(tlv(0x6F, tlv(0x84, aid)), None)
        self.selected = None
        return b"\x6a\x82"

    @staticmethod
    def _tag_list(data):
        """The tag from a 5C L <tag> tag list, or None if malformed."""
        if len(data) < 2 or data[0] != 0x5C or data[1] != len(data) - 2 or data[1] == 0:
            return None
        return bytes(data[2:])

    def _put_data(self, p1, p2, data):
        if (p1, p2) != (0x3F, 0xFF):
            return b"\x6a\x86"
        try:
            if data[0] != 0x5C:
                return b"\x6a\x80"
            tag = bytes(data[2:2 + data[1]])
            i = 2 + data[1]
            if data[i] != 0x53:
                return b"\x6a\x80"
            n, j = parse_ber_len(data, i + 1)
            if j + n != len(data):
                return b"\x6a\x80"
        except (IndexError, ValueError):
            return b"\x6a\x80"
        self.objects[tag] = bytes(data[j:j + n])
        return SW_OK

    def _data(self, payload, le):
        """Return payload+9000, honouring wrong_le (6Cxx) and t0 (61xx)."""
        if self.wrong_le and le is not None and le != len(payload) and len(payload) <= 256:
            return bytes([0x6C, len(payload) & 0xFF])
        if self.wrong_le and le is not None:
            return payload + SW_OK
        if self.t0 and payload:
            self._pending = payload
            return bytes([0x61, min(len(payload), 256) & 0xFF])
        return payload + SW_OK

    def _garbage(self):
        """Cycle through malformed answers (deterministic per card)."""
        i = self._garbage_i
        self._garbage_i += 1
        choices = [
            b"\x6a",                                            # 1 byte
            b"\x53\x05\x30\x19\xd4" + SW_OK,                    # broken TLV + 9000
            b"\x53\x83\xff\xff\xff\x30\x19\xd4\xe7" + SW_OK,    # 53 overlong length
            bytes(self._rng.randrange(256) for _ in range(self._rng.randrange(1, 40))),
            b"\x9f\x7f\x2a\x01\x02" + SW_OK,                    # truncated CPLC
            b"\x53\x81" + SW_OK,                                # length cut off
            b"\x61\x10",                                        # 61xx with nothing behind
        ]
        if self.garbage_empty:
            # An empty reply makes vpcd wait for ever (SCardTransmit blocks until the
            # card is removed, then returns success with 0 bytes): opt-in only.
            choices.insert(1, b"")
        return choices[i % len(choices)]

    def __repr__(self):
        return "<Card %s guid=%s %s>" % (self.personality, self.guid.hex(),
                                         "inserted" if self.connected else "removed")


# --- CLI -----------------------------------------------------------------------------

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, required=True, help="vpcd port of the reader")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--personality", default="piv",
                    choices=["piv", "nopiv", "atr_only", "garbage"])
    ap.add_argument("--guid", help="16-byte GUID in hex")
    ap.add_argument("--atr", help="ATR in hex")
    ap.add_argument("--no-cplc", action="store_true")
    ap.add_argument("--t0", action="store_true")
    ap.add_argument("--no-insert", action="store_true", help="start removed")
    a = ap.parse_args(argv)
    kw = {"personality": a.personality, "t0": a.t0}
    if a.guid:
        kw["guid"] = bytes.fromhex(a.guid)
    if a.atr:
        kw["atr"] = bytes.fromhex(a.atr)
    if a.no_cplc:
        kw["cplc"] = None
    card = Card(**kw)

    def say(msg):
        print(msg, flush=True)

    if not a.no_insert:
        card.insert(a.port, a.host)
        say("inserted %r on port %d" % (card, a.port))
    for line in sys.stdin:
        cmd = line.strip().lower()
        if cmd in ("i", "insert"):
            if card.connected:
                say("already inserted")
            else:
                card.insert(a.port, a.host)
                say("inserted")
        elif cmd in ("r", "remove"):
            card.remove()
            say("removed")
        elif cmd in ("q", "quit"):
            break
        elif cmd:
            say("commands: i(nsert) r(emove) q(uit)")
    card.remove()
    say("bye")
    return 0


if __name__ == "__main__":
    sys.exit(main())
