#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""make vm-demo: the rpi4 board image booted under QEMU (arm64, emulated) with a USB CCID
reader, a scripted PIV card you insert and remove from the terminal, and the demo CMS
(updates pending for every card), all inside a network namespace of its own.

usage: demo.py BUILD_DIR IMAGE_TARBALL     (make vm-demo passes build/vm/rpi4 and the image)
Root only. Ctrl-C or q stops everything (QEMU, CMS, namespace).
"""

import json
import os
import shutil
import signal
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "rig"))
sys.path.insert(0, HERE)

import vmsite                       # noqa: E402
from guest import Guest             # noqa: E402
from vcard import T0_ATR, Card      # noqa: E402
from vscard import QEMU_PIV_ATR     # noqa: E402

HELP = """  i [piv|t0|atr_only|garbage]  insert a card (default: a PIV card, T=0/T=1 ATR)
  r                            remove it
  s                            the kiosk state, as `cardupctl status` in the guest says it
  p                            Proceed on the prompt (prints the portal URL)
  u                            unplug the reader and plug it back (QMP device_del/add)
  ! COMMAND                    run a shell command in the guest, as root
  q                            quit (or Ctrl-C)"""


def card_for(kind):
    if kind == "t0":
        return Card(t0=True)
    if kind in ("atr_only", "garbage"):
        return Card(personality=kind, atr=T0_ATR)
    return Card(atr=QEMU_PIV_ATR)


def follow(g, stop):
    """Prints every change of a reader's phase and every PC/SC event, as they come."""
    seen_s = seen_p = 0
    last = {}
    while not stop.is_set():
        with g._cond:
            g._cond.wait(0.5)
            states, pcsc = g.states[seen_s:], g.pcsc[seen_p:]
            seen_s, seen_p = len(g.states), len(g.pcsc)
        for t, ln in pcsc:
            print("  [%6.1f s] pcsc: %s" % (t - g.started_at, ln), flush=True)
        for t, st in states:
            for r in st.get("readers", []):
                key = (r["card"], r["phase"], (r.get("prompt") or {}).get("id"), r.get("message"))
                if last.get(r["name"]) != key:
                    last[r["name"]] = key
                    extra = ""
                    if r.get("prompt"):
                        extra = " — " + "; ".join(u["description"] for u in r["prompt"]["updates"])
                    elif r.get("message"):
                        extra = " — " + r["message"]
                    print("  [%6.1f s] kiosk: card %s, %s%s" % (
                        t - g.started_at, r["card"], r["phase"], extra), flush=True)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    build, image = sys.argv[1], sys.argv[2]
    if os.geteuid() != 0:
        sys.exit("vm-demo: needs root (its own network namespace; disk owners)")
    work = os.path.abspath("build/vm/demo")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    vmsite.enter_netns()
    pki = vmsite.site_pki(os.path.join(work, "pki"))
    cms = vmsite.SiteCMS(pki).start()
    cms.script("*", cms.pending("demo-card", updates=[
        ("certificate_renewal", "Your PIV authentication certificate expires in 12 days."),
        ("credential_add", "A new Wi-Fi credential is waiting for you.")]))
    disk = os.path.join(work, "data.img")
    vmsite.make_disk(image, disk, os.path.join(work, "stage"), pki,
                     vmsite.site_settings(device_id="vm-demo"))
    with open(os.path.join(build, "guest.json")) as f:
        arch = json.load(f)["arch"]
    g = Guest(build, work, arch=arch, disk=disk, hostfwd=[(18443, vmsite.ADMIN_PORT)])
    stop = threading.Event()
    card = None
    try:
        g.start()
        print("  booting the rpi4 image under QEMU (emulated: a minute or more)...\n"
              "  serial console: %s" % os.path.relpath(g.console_log), flush=True)
        g.wait_hello(timeout=600)
        _, st = g.wait_state(lambda st: st.get("readers"), timeout=300,
                             what="the kiosk API with the reader")
        ui = st.get("ui") or {}
        print("""
  cardupd is running in the guest (user cardupd, started by /etc/init.d/S50cardupd).
    reader     : %s
    CMS        : https://cms.test/cms (the test CMS: updates pending for every card)
    admin      : https://127.0.0.1:18443/ inside this demo's network namespace
                 (nsenter --net=/proc/%d/ns/net curl -k https://127.0.0.1:18443/...),
                 setup code %s
    logs       : `! logread` ; QEMU's console in %s
%s
""" % (st["readers"][0]["name"], os.getpid(), ui.get("setup_code"),
            os.path.relpath(g.console_log), HELP), flush=True)
        threading.Thread(target=follow, args=(g, stop), daemon=True).start()
        for line in sys.stdin:
            cmd, _, arg = line.strip().partition(" ")
            try:
                if cmd == "i":
                    if g.bridge.card is not None:
                        print("  a card is in the reader already")
                    else:
                        card = card_for(arg.strip() or "piv")
                        g.bridge.insert(card)
                elif cmd == "r":
                    g.bridge.remove()
                elif cmd == "s":
                    print(g.out("cardupctl status"))
                elif cmd == "p":
                    st = g.state()
                    r = st["readers"][0] if st and st.get("readers") else None
                    if not r or not r.get("prompt"):
                        print("  no prompt on the kiosk")
                        continue
                    body = json.dumps({"reader": r["name"], "prompt": r["prompt"]["id"]})
                    print(g.out("wget -q -O - --header 'Content-Type: application/json' "
                                "--post-data '%s' http://127.0.0.1:8080/api/v1/prompt/proceed"
                                % body))
                elif cmd == "u":
                    had = g.bridge.card
                    g.unplug_reader()
                    time.sleep(1)
                    g.plug_reader()
                    if had is not None:
                        g.bridge.insert(had)
                elif cmd == "!":
                    rc, out = g.run(arg, timeout=120, check=False)
                    print(out.rstrip() + ("\n  (exit %d)" % rc if rc else ""))
                elif cmd == "q":
                    break
                elif cmd:
                    print(HELP)
            except Exception as e:          # noqa: BLE001 — the demo goes on
                print("  %s: %s" % (type(e).__name__, e))
    except KeyboardInterrupt:
        pass
    finally:
        print("\n  stopping...", flush=True)
        stop.set()
        g.stop()
        cms.stop()


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(143))
    main()
