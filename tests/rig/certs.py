#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Test PKI made at test time with the `openssl` command (test rig).

Owns: make_pki(dir) -> dict of PEM paths (good CA + server/client/expired/wrong-host
certificates, a rogue CA with its own server certificate, a self-signed certificate) and
anchors_bundle(paths, out).  All keys are EC P-256, unencrypted PKCS#8 PEM.  Nothing is
cached between calls.  Debian 12's OpenSSL 3.0 has no `x509 -not_before`, so the expired
certificate is made with `openssl ca -startdate/-enddate`; the others with
`openssl req -x509 -CA` (one command per certificate).

CLI: /usr/bin/python3 tests/rig/certs.py OUTDIR   (prints the paths as JSON)
"""

import json
import os
import subprocess
import sys

SAN_GOOD = "DNS:localhost,IP:127.0.0.1,IP:::1"

_CNF = """\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = ${ENV::CARDUPD_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_rsa]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = ${ENV::CARDUPD_SAN}
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[v3_client]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = clientAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[ca]
default_ca = testca
[testca]
database = ${ENV::CARDUPD_CADIR}/index.txt
new_certs_dir = ${ENV::CARDUPD_CADIR}
serial = ${ENV::CARDUPD_CADIR}/serial
default_md = sha256
policy = pol_any
unique_subject = no
copy_extensions = none
[pol_any]
commonName = supplied
"""


def _run(args, env):
    r = subprocess.run(["openssl"] + args, env=env, stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("openssl %s failed:\n%s" % (" ".join(args),
                                                        r.stderr.decode(errors="replace")))


def make_pki(dir):
    """Create the test PKI in `dir` (created if needed); return a dict of paths:

    ca_cert, ca_key                  "cardupd test CA" (EC P-256, 10 years)
    server_cert, server_key          by the CA; SAN DNS:localhost, IP:127.0.0.1, IP:::1
    rogue_ca_cert, rogue_ca_key      "cardupd rogue CA", unknown to the client
    rogue_server_cert/_key           same SANs, by the rogue CA
    expired_server_cert/_key         by the CA, valid 2020-01-01 .. 2021-01-01 only
    wronghost_server_cert/_key       by the CA, SAN DNS:wrong.example only
    selfsigned_cert/_key             self-signed, same SANs as the server
    client_cert, client_key          by the CA, extendedKeyUsage clientAuth (mTLS)
    rsa_server_cert/_key             by the CA, RSA 2048 (keyEncipherment: static RSA)
    sha1_server_cert/_key            by the CA, signed with ecdsa-with-SHA1
    openssl_cnf                      the config used (for making more)
    """
    d = os.path.abspath(str(dir))
    os.makedirs(d, exist_ok=True)
    cadir = os.path.join(d, "ca-db")
    os.makedirs(cadir, exist_ok=True)
    cnf = os.path.join(d, "openssl.cnf")
    with open(cnf, "w") as f:
        f.write(_CNF)
    env = dict(os.environ, OPENSSL_CONF=cnf, CARDUPD_SAN=SAN_GOOD, CARDUPD_CADIR=cadir)
    p = {"openssl_cnf": cnf}

    def path(name):
        return os.path.join(d, name)

    newkey = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"]

    def ca(name, cn):
        cert, key = path(name + ".pem"), path(name + ".key")
        _run(["req", "-config", cnf, "-x509"] + newkey +
             ["-keyout", key, "-out", cert, "-subj", "/CN=" + cn, "-days", "3650",
              "-extensions", "v3_ca", "-sha256"], env)
        return cert, key

    def leaf(name, cn, ca_cert, ca_key, ext="v3_server", san=SAN_GOOD, md="-sha256"):
        """A certificate signed by ca_cert (or self-signed when ca_cert is None)."""
        cert, key = path(name + ".pem"), path(name + ".key")
        signer = ["-CA", ca_cert, "-CAkey", ca_key] if ca_cert else []
        _run(["req", "-config", cnf, "-x509"] + newkey + signer +
             ["-keyout", key, "-out", cert, "-subj", "/CN=" + cn, "-days", "825",
              "-extensions", ext, md], dict(env, CARDUPD_SAN=san))
        return cert, key

    p["ca_cert"], p["ca_key"] = ca("ca", "cardupd test CA")
    p["server_cert"], p["server_key"] = leaf("server", "localhost", p["ca_cert"], p["ca_key"])
    p["rogue_ca_cert"], p["rogue_ca_key"] = ca("rogue-ca", "cardupd rogue CA")
    p["rogue_server_cert"], p["rogue_server_key"] = leaf(
        "rogue-server", "localhost", p["rogue_ca_cert"], p["rogue_ca_key"])
    p["wronghost_server_cert"], p["wronghost_server_key"] = leaf(
        "wronghost-server", "wrong.example", p["ca_cert"], p["ca_key"],
        san="DNS:wrong.example")
    # Self-signed: no -CA; authorityKeyIdentifier=keyid then refers to its own key.
    p["selfsigned_cert"], p["selfsigned_key"] = leaf("selfsigned", "localhost", None, None)
    p["client_cert"], p["client_key"] = leaf("client", "cardupd test device",
                                             p["ca_cert"], p["ca_key"], ext="v3_client")

    # TLS policy faults (issue 13 item 15): an RSA server certificate (for a server
    # that only speaks static RSA key exchange) and an EC one whose CA signature uses
    # SHA-1.
    rsa_cert, rsa_key = path("rsa-server.pem"), path("rsa-server.key")
    _run(["req", "-config", cnf, "-x509", "-newkey", "rsa:2048", "-noenc",
          "-CA", p["ca_cert"], "-CAkey", p["ca_key"], "-keyout", rsa_key, "-out",
          rsa_cert, "-subj", "/CN=localhost", "-days", "825", "-extensions", "v3_rsa",
          "-sha256"], env)
    p["rsa_server_cert"], p["rsa_server_key"] = rsa_cert, rsa_key
    p["sha1_server_cert"], p["sha1_server_key"] = leaf("sha1-server", "localhost",
                                                       p["ca_cert"], p["ca_key"],
                                                       md="-sha1")

    # Expired: CSR + `openssl ca` with explicit dates.
    key, csr, cert = path("expired-server.key"), path("expired-server.csr"), \
        path("expired-server.pem")
    _run(["req", "-config", cnf, "-new"] + newkey +
         ["-keyout", key, "-out", csr, "-subj", "/CN=localhost"], env)
    with open(os.path.join(cadir, "index.txt"), "w"):
        pass
    with open(os.path.join(cadir, "serial"), "w") as f:
        f.write(os.urandom(8).hex().upper() + "\n")
    _run(["ca", "-config", cnf, "-batch", "-notext", "-cert", p["ca_cert"],
          "-keyfile", p["ca_key"], "-in", csr, "-out", cert,
          "-startdate", "20200101000000Z", "-enddate", "20210101000000Z",
          "-extensions", "v3_server"], env)
    p["expired_server_cert"], p["expired_server_key"] = cert, key
    return p


def anchors_bundle(paths, out):
    """Concatenate the PEM files `paths` into `out` (a trust-anchor bundle); returns out."""
    with open(out, "w") as o:
        for pth in paths:
            with open(pth) as f:
                data = f.read()
            o.write(data if data.endswith("\n") else data + "\n")
    return out


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: certs.py OUTDIR")
    print(json.dumps(make_pki(sys.argv[1]), indent=1))
