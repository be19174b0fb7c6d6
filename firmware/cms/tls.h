/* SPDX-License-Identifier: BSD-2-Clause */
/* tls.h — the CMS client's TLS policy and its BearSSL engine set-up: TLS 1.2 only,
 * ECDHE with AEAD suites only (AES-GCM, ChaCha20-Poly1305), no SHA-1 or MD5 in the
 * certificate chain or the handshake signatures, the fastest constant-time back-ends
 * the CPU offers; the X.509 check around BearSSL's minimal engine (iPAddress SANs for
 * IP literals, a weak-hash diagnosis); and the mapping of engine errors to the
 * client's failure codes (docs/cms-client.md). */
#ifndef CARDUPD_TLS_H
#define CARDUPD_TLS_H

#include <stddef.h>

#include <bearssl.h>

#include "cms/conn.h"
#include "cms/creds.h"

/* Largest certificate of the server chain kept for the IP-address and hash checks
 * (BearSSL only streams it). */
#define TLS_CERT_MAX	16384

/*
 * BearSSL's minimal X.509 engine matches the server name only against dNSName entries
 * of the subjectAltName extension (or the subject CN when there is no SAN at all), as
 * a case-insensitive string with a leading "*." wildcard; iPAddress SANs are skipped.
 * Passing "127.0.0.1" as the server name therefore fails against a certificate that
 * (correctly) carries IP:127.0.0.1, succeeds only against one with DNS:127.0.0.1 or a
 * CN-only certificate, and would even accept a wildcard "*.0.0.1". It would also send
 * the literal as SNI, which RFC 6066 forbids. So for an IP literal BearSSL gets no
 * server name (no SNI, no name check) and this wrapper checks, after the chain
 * validates, that the EE certificate's iPAddress SANs hold the address, byte for byte.
 * It also notes a certificate signed with SHA-1 or MD5, which the engine refuses with
 * a bare "unsupported".
 */
struct tls_xcheck {
	const br_x509_class	 *vtable;	/* first: BearSSL passes &vtable */
	const br_x509_class	**inner;	/* the minimal engine doing the real work */
	int			  ip_active;	/* host is an IP literal */
	unsigned char		  ip[16];
	size_t			  iplen;
	size_t			  ncert;
	int			  ee_ip_ok;	/* the EE holds the address */
	int			  weak_sig;	/* an enum x509_sig > 0 was seen */
	size_t			  cert_len;
	int			  cert_over;
	unsigned char		  cert[TLS_CERT_MAX];
};

/* Sets cc (and xc, wrapped by xk) up for one connection to host under the policy, with
 * cr's anchors and, when it has one, its client certificate, and iobuf as the
 * engine's bidirectional buffer. Returns the server name to give br_ssl_client_reset:
 * host, or NULL for an IP literal (no SNI, checked by xk instead). */
const char *tls_setup(br_ssl_client_context *cc, br_x509_minimal_context *xc,
    struct tls_xcheck *xk, const struct cms_creds *cr, unsigned char *iobuf,
    size_t iolen, const char *host);

/* Sets cc up for a diagnostic ClientHello after a server refused ours outright: every
 * version and suite BearSSL has (br_ssl_client_init_full), so that the server's
 * ServerHello tells what it would have chosen. The caller reads only that ServerHello
 * (conn.peek_only) and drops the connection: no handshake is ever completed with
 * these settings. Returns the server name for br_ssl_client_reset. */
const char *tls_setup_probe(br_ssl_client_context *cc, br_x509_minimal_context *xc,
    const struct cms_creds *cr, unsigned char *iobuf, size_t iolen, const char *host);

/* Sets e from the engine error err of a connection to host: tls_version,
 * tls_no_shared_cipher, tls_no_forward_secrecy, tls_weak_cipher, tls_weak_signature,
 * tls_untrusted, tls_hostname, tls_expired, tls_clock or tls. peek/peek_len are the
 * first bytes the server sent (they tell what it chose when the engine does not);
 * probe/probe_len, when not NULL, those of a tls_setup_probe() connection. */
void tls_failure(struct net_err *e, const char *host, int err,
    const struct tls_xcheck *xk, const unsigned char *peek, size_t peek_len,
    const unsigned char *probe, size_t probe_len);

/* 1 when the first bytes of a failed handshake show the server refused our
 * ClientHello outright (an alert before any ServerHello): a probe can tell why. */
int tls_refused_hello(const unsigned char *peek, size_t peek_len);

#endif
