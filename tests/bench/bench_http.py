#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Figures (never pass/fail): GET /api/v1/state under load, cardupd beside nginx serving the
same bytes, at equal thread count.

cardupd answers the kiosk API from one libmicrohttpd polling thread (epoll); nginx runs
one worker process (worker_processes 1) serving the identical JSON body from a file, on
loopback.  wrk (one thread, 16 connections, BENCH_HTTP_S seconds each) drives both; the
figure is requests/s and the ratio cardupd/nginx.  Needs Debian's wrk and nginx-light
(`make deps` installs them); says so and skips when missing."""

import os
import re
import shutil
import subprocess
import sys
import time
import urllib.request

from benchrig import rig              # first: it puts tests/rig on the path
from daemon import free_port
from vcard import DEFAULT_GUID

SECS = int(os.environ.get("BENCH_HTTP_S", "5"))
CONNS = 16


def wrk(url):
    out = subprocess.run(["wrk", "-t1", "-c%d" % CONNS, "-d%ds" % SECS, "--latency", url],
                         capture_output=True, text=True, timeout=SECS + 30).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = re.search(r"50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"99%\s+([\d.]+\w+)", out)
    return rps, p50.group(1) if p50 else "?", p99.group(1) if p99 else "?"


def nginx(body, tmp):
    root = os.path.join(tmp, "www")
    os.makedirs(os.path.join(root, "api", "v1"))
    with open(os.path.join(root, "api", "v1", "state"), "wb") as f:
        f.write(body)
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write("""worker_processes 1; daemon off; pid %(t)s/nginx.pid;
error_log %(t)s/error.log; events { worker_connections 256; }
http { access_log off; default_type application/json; keepalive_requests 1000000;
  client_body_temp_path %(t)s; proxy_temp_path %(t)s; fastcgi_temp_path %(t)s;
  uwsgi_temp_path %(t)s; scgi_temp_path %(t)s;
  server { listen 127.0.0.1:%(p)d; root %(r)s; } }
""" % {"t": tmp, "p": port, "r": root})
    p = subprocess.Popen(["nginx", "-c", conf, "-p", tmp], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d/api/v1/state" % port
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            break
        except OSError:
            time.sleep(0.02)
    return p, url


def main():
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None and not os.path.exists("/usr/sbin/" + tool):
            print("bench_http: %s not installed (make deps): skipped" % tool)
            return 0
    ng = None
    with rig("cardupd-http-") as r:
        try:
            r.cms.script(DEFAULT_GUID.hex(), r.cms.nothing_pending("http"))
            r.card.insert(r.pcscd.port)
            r.d.wait_phase(r.reader, "up_to_date")
            url = r.d.url + "/api/v1/state"
            body = urllib.request.urlopen(url).read()
            ng, ngurl = nginx(body, r.tmp)
            c = wrk(url)
            n = wrk(ngurl)
            print("GET /api/v1/state (%d bytes), wrk 1 thread, %d connections, %d s, loopback:"
                  % (len(body), CONNS, SECS))
            print("  %-28s %10s %8s %8s" % ("server", "req/s", "p50", "p99"))
            print("  %-28s %10.0f %8s %8s" % ("cardupd (1 MHD thread)", c[0], c[1], c[2]))
            print("  %-28s %10.0f %8s %8s" % ("nginx (1 worker, anchor)", n[0], n[1], n[2]))
            print("  ratio cardupd/nginx: %.2f" % (c[0] / n[0]))
        finally:
            if ng is not None:
                ng.terminate()
                ng.wait(5)
    return 0


if __name__ == "__main__":
    sys.exit(main())
