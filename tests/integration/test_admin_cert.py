# SPDX-License-Identifier: BSD-2-Clause
"""The admin listener's self-signed certificate (web/admin/admin_tls.c, made with
BearSSL and core/x509_write.c) as clients see it: Python's ssl verifies the served
certificate with the file in state_dir as the only trust anchor, for the names it
carries (localhost, the listen address; the device id is no host name here) and for
no other; OpenSSL reads the file as a v3 server certificate."""

import shutil
import socket
import ssl
import subprocess

import pytest

from test_admin import Admin, make_admin, anchors  # noqa: F401


def handshake(port, cafile, server_hostname):
    """A verified TLS handshake with the admin listener; the peer's DER."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)     # CERT_REQUIRED, check_hostname
    ctx.load_verify_locations(cafile=cafile)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname=server_hostname) as t:
            return t.getpeercert(binary_form=True)


def test_self_signed_verifies(make_admin, tmp_path):
    d, a = make_admin(setup=False)
    cert = str(tmp_path / "admin" / "admin-cert.pem")
    with open(cert) as f:
        pem = f.read()
    assert pem.startswith("-----BEGIN CERTIFICATE-----\n")
    with open(tmp_path / "admin" / "admin-key.pem") as f:
        assert f.read().startswith("-----BEGIN EC PRIVATE KEY-----\n")
    # what the listener serves is the file, verified for both of its names
    served = handshake(a.port, cert, "localhost")
    assert ssl.DER_cert_to_PEM_cert(served).split() == pem.split()
    handshake(a.port, cert, "127.0.0.1")
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(a.port, cert, "elsewhere.example")
    # the pinned client of the other tests sees the logged fingerprint
    assert a.get("/api/v1/admin/info")[0] == 200
    if shutil.which("openssl"):
        out = subprocess.run(["openssl", "x509", "-noout", "-text", "-in", cert],
                             capture_output=True, text=True, check=True).stdout
        for want in ("Version: 3 (0x2)", "ecdsa-with-SHA256", "NIST CURVE: P-256",
                     "CA:FALSE", "TLS Web Server Authentication",
                     "DNS:localhost", "IP Address:127.0.0.1",
                     "O = cardupd self-signed"):
            assert want in out, out
