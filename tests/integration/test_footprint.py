# SPDX-License-Identifier: BSD-2-Clause
"""cardupd's own resident memory (issue 14, docs/performance.md): what a change could
silently bring back.

- No thread-local storage in the executable: glibc clears a thread's static TLS block
  when the thread starts, so each __thread/_Thread_local byte is resident once per thread
  (five 7-14 KiB thread-local buffers once cost ~45 KiB in every thread)."""

import os
import struct

BIN = os.environ.get("CARDUPD_BIN") or os.path.join(
    os.path.dirname(__file__), "..", "..", "build", "cardupd")

PT_TLS = 7
TLS_MAX = 256       # bytes: a few counters at most, never a buffer


def tls_memsz(path):
    """The PT_TLS segment's size in memory (0 when there is none) of an ELF file."""
    with open(path, "rb") as f:
        ident = f.read(16)
        assert ident[:4] == b"\x7fELF", path
        is64, end = ident[4] == 2, "<" if ident[5] == 1 else ">"
        if is64:
            f.seek(0x20)
            phoff, = struct.unpack(end + "Q", f.read(8))
            f.seek(0x36)
        else:
            f.seek(0x1c)
            phoff, = struct.unpack(end + "I", f.read(4))
            f.seek(0x2a)
        phentsize, phnum = struct.unpack(end + "HH", f.read(4))
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            ph = f.read(phentsize)
            if is64:
                p_type, _, _, _, _, _, p_memsz, _ = struct.unpack(end + "IIQQQQQQ", ph[:56])
            else:
                p_type, _, _, _, _, p_memsz, _, _ = struct.unpack(end + "IIIIIIII", ph[:32])
            if p_type == PT_TLS:
                return p_memsz
    return 0


def test_no_thread_local_buffers():
    size = tls_memsz(BIN)
    assert size <= TLS_MAX, ("%s has %d bytes of thread-local storage: resident in every "
                             "thread (nm -S --size-sort shows the TLS symbols)" % (BIN, size))
