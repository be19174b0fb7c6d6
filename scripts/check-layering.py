#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make check-layering: the rooms' include rules (docs/architecture.md, "Floors").

Every project include names its room ("core/agent.h"); a room may include only the rooms
below it (or beside it, where the table says so), and the pure core may not include the
headers of an edge (pcsc-lite, libmicrohttpd, GnuTLS, sockets, threads, files, randomness)
nor call the clock, the file system or the random source.  Exit 0 when clean, 1 with one
line per violation ("file:line: what"), 2 on usage errors.  Standard library only."""
import os
import re
import sys

# room -> rooms it may include (besides itself).  Generated headers (autoconf.h,
# version.h) are open to everyone.
ROOMS = {
    "firmware/base": set(),
    "firmware/core": {"firmware/base"},
    "drivers": {"firmware/base", "firmware/core"},
    "firmware/cms": {"firmware/base", "firmware/core"},
    "web": {"firmware/base", "firmware/core"},
    "web/kiosk": {"firmware/base", "firmware/core", "web"},
    "web/admin": {"firmware/base", "firmware/core", "web"},
    "firmware": {"firmware/base", "firmware/core", "firmware/cms", "drivers", "web",
                 "web/kiosk", "web/admin"},
    "tools": {"firmware/base", "firmware/core"},
}
GENERATED = {"autoconf.h", "version.h"}

# System headers that only an edge may include: header regex -> rooms allowed.
EDGE_HEADERS = [
    (r"winscard\.h|PCSC/", {"drivers"}),
    (r"microhttpd\.h", {"web", "web/kiosk", "web/admin"}),
    (r"gnutls/", set()),	# nowhere: BearSSL does all TLS (web/admin/tls_term.c)
    (r"crypt\.h", {"web/admin"}),
]
# What the pure core may not include or call (I/O, threads, clock, randomness).  BearSSL's
# decoders and hashes are pure computation and allowed; its sockets side lives in cms/.
CORE_BANNED_HEADERS = r"(sys/socket|netdb|poll|fcntl|pthread|sys/random|sys/stat|dirent|" \
                      r"unistd|spawn|signal|sys/eventfd)\.h"
CORE_BANNED_CALLS = r"\b(fopen|open|openat|read|write|close|getrandom|clock_gettime|time|" \
                    r"gettimeofday|pthread_create|socket|connect|sleep|usleep|nanosleep|" \
                    r"rand|random|getenv)\s*\("

INC = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def room_of(path):
    d = os.path.dirname(path)
    best = None
    for r in ROOMS:
        if d == r or d.startswith(r + "/"):
            if best is None or len(r) > len(best):
                best = r
    return best


def header_room(name):
    """Room of a project include written as "room/file.h" (None: not a room path)."""
    for prefix, room in (("base/", "firmware/base"), ("core/", "firmware/core"),
                         ("cms/", "firmware/cms"), ("drivers/", "drivers"),
                         ("web/kiosk/", "web/kiosk"), ("web/admin/", "web/admin"),
                         ("web/", "web")):
        if name.startswith(prefix):
            return room
    return None


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", lambda m: "\n" * m.group(0).count("\n"), text, flags=re.S)
    text = re.sub(r"//[^\n]*", "", text)
    return re.sub(r'"(\\.|[^"\\\n])*"', '""', text)


def check(path, out):
    room = room_of(path)
    if room is None:
        return
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for n, line in enumerate(lines, 1):
        m = INC.match(line)
        if not m:
            continue
        kind, name = m.groups()
        if kind == '"':
            if name in GENERATED:
                continue
            hr = header_room(name)
            if hr is None:
                # A firmware top-level header ("evq.h") or a bare name: only the top may.
                if room == "firmware" and os.path.exists(os.path.join("firmware", name)):
                    continue
                out.append("%s:%d: \"%s\" does not name its room (write \"room/%s\")"
                           % (path, n, name, name))
                continue
            if hr != room and hr not in ROOMS[room]:
                out.append("%s:%d: %s includes %s (\"%s\"): not below it"
                           % (path, n, room, hr, name))
        else:
            for rx, allowed in EDGE_HEADERS:
                if re.match(rx, name) and room not in allowed and room != "firmware":
                    out.append("%s:%d: <%s> belongs to %s only"
                               % (path, n, name, ", ".join(sorted(allowed))))
            if room == "firmware/core" and re.fullmatch(CORE_BANNED_HEADERS, name):
                out.append("%s:%d: the pure core includes <%s> (an edge)" % (path, n, name))
    if room == "firmware/core":
        body = strip_comments("\n".join(lines)).split("\n")
        for n, line in enumerate(body, 1):
            for m in re.finditer(CORE_BANNED_CALLS, line):
                out.append("%s:%d: the pure core calls %s()" % (path, n, m.group(1)))


def main():
    roots = sys.argv[1:] or ["firmware", "drivers", "web", "tools"]
    out = []
    for root in roots:
        for dirpath, _, files in os.walk(root):
            for fn in sorted(files):
                if fn.endswith((".c", ".h")):
                    check(os.path.join(dirpath, fn), out)
    for line in out:
        print(line)
    print("check-layering: %d violation(s)" % len(out))
    return 1 if out else 0


if __name__ == "__main__":
    sys.exit(main())
