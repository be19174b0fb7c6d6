#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""Runs inside the systemd guest of `make systemd-test` (tests/pkg/systemd/run.sh), as
root, from systest.service once the system is up. Test-only: nothing here is part of
the product; the product is the .deb installed with dpkg -i and its unit.

  1. dpkg -i cardupd_*.deb: user cardupd, /etc/cardupd given to it, the unit enabled
  2. the site's configuration (the rig's TLS test CMS on the guest's loopback, its CA as
     the trust anchor, an admin password hash, an on_prompt hook) written as an
     administrator would, then `systemctl start cardupd` (the real unit, every sandbox
     setting): the service is active as user cardupd
  3. a card in the vpcd reader (the rig's scripted PIV card, pcscd socket-activated by
     Debian's pcscd.socket) gives a prompt on the kiosk API
  4. the on_prompt hook ran, as user cardupd, inside the sandbox
  5. an admin save (HTTPS login, CSRF, POST settings) persists in /etc/cardupd and survives
     `systemctl restart cardupd`
Prints "SYSTEST PASS|FAIL name" lines and "SYSTEST END pass=N fail=M" on the console,
then powers the guest off. Standard library only (the rig's modules are in /root/rig).
"""

import glob
import hashlib
import http.client
import json
import os
import pwd
import re
import ssl
import subprocess
import sys
import time
import urllib.request

sys.path.insert(0, "/root/rig")
from testcms import TestCMS        # noqa: E402
from vcard import Card, DEFAULT_GUID  # noqa: E402

PASSWORD = "systemd guest password"
RESULTS = []


def say(line):
    print(line, flush=True)     # systest.service: StandardOutput=journal+console


def result(name, ok, detail=""):
    RESULTS.append(ok)
    say("SYSTEST %s %s%s" % ("PASS" if ok else "FAIL", name,
                             "" if ok or not detail else ": " + str(detail)[:600]))
    return ok


def run(*cmd, check=False):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), p.stdout))
    return p.returncode, p.stdout


def wait(pred, timeout, what):
    end = time.monotonic() + timeout
    last = None
    while time.monotonic() < end:
        try:
            last = pred()
            if last:
                return last
        except Exception as e:       # not up yet
            last = e
        time.sleep(0.2)
    raise TimeoutError("%s (last: %r)" % (what, last))


def state():
    with urllib.request.urlopen("http://127.0.0.1:8080/api/v1/state", timeout=5) as r:
        return json.load(r)


class Admin:
    """HTTPS client of the admin listener (self-signed certificate: this is the daemon
    on the same machine), keeping the session cookie and CSRF token."""

    def __init__(self):
        self.cookie = self.csrf = None

    def req(self, method, path, body=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = http.client.HTTPSConnection("127.0.0.1", 8443, context=ctx, timeout=10)
        h = {"Content-Type": "application/json"}
        if self.cookie:
            h["Cookie"] = "__Host-cardupd=" + self.cookie
        if self.csrf:
            h["X-CSRF-Token"] = self.csrf
        try:
            c.request(method, path, body=json.dumps(body).encode() if body is not None
                      else None, headers=h)
            r = c.getresponse()
            data = r.read()
            m = re.match(r"__Host-cardupd=([^;]*)", r.headers.get("Set-Cookie") or "")
            if m:
                self.cookie = m.group(1)
            return r.status, json.loads(data) if data[:1] in (b"{", b"[") else data
        finally:
            c.close()

    def login(self):
        s, js = self.req("POST", "/api/v1/admin/login", {"password": PASSWORD})
        if s == 200:
            self.csrf = js["csrf"]
        return s, js


def main():
    with open("/root/systest.json") as f:
        env = json.load(f)
    say("SYSTEST BEGIN systemd %s" % run("systemctl", "--version")[1].split("\n")[0])

    # ---- 1. dpkg -i ----------------------------------------------------------------
    deb = glob.glob("/root/cardupd_*.deb")[0]
    rc, out = run("dpkg", "-i", deb)
    result("dpkg -i %s" % os.path.basename(deb), rc == 0, out)
    try:
        u = pwd.getpwnam("cardupd")
        st = os.stat("/etc/cardupd")
        sc = os.stat("/etc/cardupd/cardupd.conf")
        ok = (u.pw_uid < 1000 and st.st_uid == u.pw_uid and oct(st.st_mode & 0o777) == "0o700"
              and sc.st_uid == u.pw_uid and oct(sc.st_mode & 0o777) == "0o600")
        result("postinst: system user cardupd (uid %d) owns /etc/cardupd 0700, cardupd.conf "
               "0600" % u.pw_uid, ok, (st, sc))
    except KeyError:
        result("postinst: system user cardupd", False, "no user cardupd")
        u = None
    rc, out = run("systemctl", "is-enabled", "cardupd.service")
    result("the unit is enabled (deb-systemd-helper)", out.strip() == "enabled", out)

    # ---- 2. site configuration, start through the unit -----------------------------------
    cms = TestCMS(env["pki"]["server_cert"], env["pki"]["server_key"]).start()
    guid = DEFAULT_GUID.hex()
    cms.script(guid, cms.pending("systemd-card"))
    with open("/etc/cardupd/cms-ca.pem", "w") as f:
        f.write(open(env["pki"]["ca_cert"]).read())
    conf = """\
[device]
id = systemd-guest

[cms]
url = %s
trust_anchors = /etc/cardupd/cms-ca.pem
portal_origins = %s

[kiosk]
listen = 127.0.0.1:8080
readers = *

[admin]
listen = 127.0.0.1:8443
password_hash = %s

[hooks]
on_prompt = /usr/local/libexec/systest-hook

[log]
level = info
syslog = yes
""" % (cms.url, cms.origin, env["password_hash"])
    with open("/etc/cardupd/cardupd.conf", "w") as f:
        f.write(conf)
    for p in ("/etc/cardupd/cardupd.conf", "/etc/cardupd/cms-ca.pem"):
        os.chown(p, u.pw_uid, u.pw_gid)
        os.chmod(p, 0o600)
    t0 = time.monotonic()
    rc, out = run("systemctl", "start", "cardupd.service")
    t_start = time.monotonic() - t0
    _, show = run("systemctl", "show", "cardupd.service", "-p",
                  "ActiveState,SubState,Type,MainPID,User,NRestarts")
    props = dict(l.split("=", 1) for l in show.split("\n") if "=" in l)
    pid = int(props.get("MainPID", "0"))
    uid = None
    if pid:
        # Type=simple returns at fork: read the uid once the process is cardupd itself
        # (systemd changes credentials just before exec).
        try:
            wait(lambda: open("/proc/%d/comm" % pid).read().strip() == "cardupd", 10,
                 "MainPID exec'd cardupd")
            with open("/proc/%d/status" % pid) as f:
                uid = int(re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1))
        except Exception as e:
            uid = repr(e)
    result("systemctl start cardupd: active (%s), Type=%s, MainPID %d runs as uid %s (cardupd), "
           "start took %.2f s" % (props.get("SubState"), props.get("Type"), pid, uid, t_start),
           rc == 0 and props.get("ActiveState") == "active" and u is not None and
           uid == u.pw_uid, (out, show, run("journalctl", "-u", "cardupd", "--no-pager")[1][-1500:]))
    if props.get("Type") == "notify":
        # READY=1 comes after the listeners are up: the kiosk API answers at once.
        try:
            state()
            result("Type=notify: the kiosk API answers as soon as systemctl start returns", True)
        except Exception as e:
            result("Type=notify: the kiosk API answers as soon as systemctl start returns",
                   False, e)
    _, sec = run("systemd-analyze", "security", "cardupd.service", "--no-pager")
    m = re.search(r"Overall exposure level for cardupd.service: (.*)", sec)
    say("SYSTEST FIGURE systemd-analyze security: %s" % (m.group(1) if m else "?"))

    # ---- 3. a card in gives a prompt ----------------------------------------------------
    try:
        wait(lambda: len(state()["readers"]) >= 1, 30, "readers listed (pcscd socket-activated)")
        card = Card()
        t0 = time.monotonic()
        card.insert(35963, timeout=20)
        st = wait(lambda: [r for r in state()["readers"] if r["phase"] == "prompt"], 60,
                  "a prompt")
        result("card in: prompt on the kiosk API in %.2f s (%s)" % (
            time.monotonic() - t0, st[0]["prompt"]["updates"][0]["type"]), True)
    except Exception as e:
        result("card in: prompt on the kiosk API", False,
               "%s; %s" % (e, run("journalctl", "-u", "cardupd", "--no-pager")[1][-1500:]))

    # ---- 4. the hook ran, as cardupd, in the sandbox ---------------------------------------
    try:
        out = wait(lambda: open("/var/lib/cardupd/hook.out").read(), 10, "hook output")
        result("on_prompt hook ran as user cardupd inside the unit's sandbox: %s" %
               out.strip().replace("\n", " "),
               ("uid=%d " % u.pw_uid) in out + " " and "ro=yes" in out, out)
    except Exception as e:
        result("on_prompt hook ran", False, e)

    # ---- 5. an admin save persists ------------------------------------------------------
    try:
        a = Admin()
        s, js = wait(lambda: (lambda r: r if r[0] == 200 else None)(a.login()), 10, "login")
        s, js = a.req("POST", "/api/v1/admin/settings",
                      {"values": {"kiosk.prompt_timeout_s": "77"}})
        saved = open("/etc/cardupd/cardupd.conf").read()
        ok = s == 200 and re.search(r"^prompt_timeout_s\s*=\s*77\s*$", saved, re.M)
        sc = os.stat("/etc/cardupd/cardupd.conf")
        result("admin save (HTTPS login, CSRF): written to /etc/cardupd/cardupd.conf "
               "(owner uid %d, mode %o)" % (sc.st_uid, sc.st_mode & 0o777),
               bool(ok) and sc.st_uid == u.pw_uid, (s, js, saved))
        rc, out = run("systemctl", "restart", "cardupd.service")
        a = Admin()
        wait(lambda: a.login()[0] == 200, 20, "login after restart")
        s, js = a.req("GET", "/api/v1/admin/settings")
        v = js.get("values", {}).get("kiosk.prompt_timeout_s") if isinstance(js, dict) else None
        result("after systemctl restart the saved setting is in force (prompt_timeout_s=%s)" % v,
               v == "77", (s, js))
    except Exception as e:
        result("admin save persists", False,
               "%s; %s" % (e, run("journalctl", "-u", "cardupd", "--no-pager")[1][-1500:]))

    # Logging under systemd: one copy of each message in the journal (even with
    # syslog = yes), without cardupd's own time prefix, at syslog priorities.
    _, j = run("journalctl", "-u", "cardupd", "--no-pager", "-o", "cat")
    starts = [l for l in j.splitlines() if "kiosk page on" in l]
    stamped = [l for l in j.splitlines() if re.match(r"^\d\d:\d\d:\d\d", l)]
    _, pj = run("journalctl", "-u", "cardupd", "--no-pager", "-o", "json")
    prios = sorted({json.loads(l).get("PRIORITY") for l in pj.splitlines()
                    if l.startswith("{") and json.loads(l).get("_COMM") == "cardupd"})
    result("journal: one copy per message with syslog = yes (%d start lines for 2 starts), no "
           "time prefix, priorities %s" % (len(starts), ",".join(p or "?" for p in prios)),
           len(starts) == 2 and not stamped and len(prios) >= 1, (starts, stamped[:3]))
    say("SYSTEST FIGURE journal lines of cardupd: %d" % len(j.splitlines()))
    cms.stop()
    say("SYSTEST END pass=%d fail=%d" % (RESULTS.count(True), RESULTS.count(False)))


if __name__ == "__main__":
    try:
        main()
    except Exception as e:
        say("SYSTEST FAIL crashed: %r" % e)
        say("SYSTEST END pass=%d fail=%d" % (RESULTS.count(True), RESULTS.count(False) + 1))
    finally:
        subprocess.run(["systemctl", "poweroff", "--no-block"])
