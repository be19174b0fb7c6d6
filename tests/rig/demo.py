#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""`make demo`: a private pcscd with vpcd, a scripted PIV card you insert and remove
from the terminal, a demo CMS that has updates pending for every card, and cardupd
with a demo configuration. Prints the kiosk URL. Ctrl-C (or q) stops everything."""

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from certs import make_pki          # noqa: E402
from daemon import Cardupd          # noqa: E402
from pcscd import PrivatePcscd      # noqa: E402
from testcms import TestCMS         # noqa: E402
from vcard import Card              # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cardupd", default="build/cardupd")
    ap.add_argument("--port", type=int, default=0, help="kiosk port (default: a free one)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("demo: needs root (the private pcscd runs in its own mount namespace)")
    tmp = tempfile.mkdtemp(prefix="cardupd-demo-")
    pcscd = cms = d = None
    card = Card()
    try:
        pki = make_pki(tmp)
        pcscd = PrivatePcscd(tmp).start()
        cms = TestCMS(pki["server_cert"], pki["server_key"]).start()
        cms.script("*", cms.pending("demo-card", updates=[
            ("certificate_renewal", "Your PIV authentication certificate expires in 12 days."),
            ("credential_add", "A new Wi-Fi credential is waiting for you."),
            ("card_unlock", "Your card was locked after too many PIN attempts.")]))
        d = Cardupd(os.path.abspath(args.cardupd), tmp, pcscd.env, cms.url, pki["ca_cert"],
                    [cms.origin], {"log": {"level": "info"}})
        if args.port:
            d.port = args.port
            d.base["kiosk"]["listen"] = "127.0.0.1:%d" % args.port
            d.write_config()
        d.start()
        print("""
  cardupd demo is running.

    kiosk page : %s/
    CMS        : %s   (answers every card with 3 pending updates)
    readers    : %s
    logs       : %s

  Open the kiosk page in a browser (on this machine), then type:
    i + Enter   insert the card into "%s"
    r + Enter   remove it
    q + Enter   quit (or Ctrl-C)
  The portal uses the demo CA (%s): your browser will warn about it.
""" % (d.url, cms.url, ", ".join(pcscd.reader_names), d.log_path, pcscd.reader_names[0],
            pki["ca_cert"]))
        signal.signal(signal.SIGTERM, lambda *a: sys.exit(0))
        for line in sys.stdin:
            cmd = line.strip().lower()
            if cmd in ("i", "insert"):
                if card.connected:
                    print("  the card is already in")
                else:
                    card.insert(pcscd.port)
                    print("  card inserted")
            elif cmd in ("r", "remove"):
                card.remove()
                print("  card removed")
            elif cmd in ("q", "quit", "exit"):
                break
            elif cmd:
                print("  i = insert, r = remove, q = quit")
    except KeyboardInterrupt:
        pass
    finally:
        print("\n  stopping...")
        card.remove()
        if d:
            d.stop()
        if cms:
            cms.stop()
        if pcscd:
            pcscd.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
