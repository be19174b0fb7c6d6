/* SPDX-License-Identifier: BSD-2-Clause */
/* x509_write.h — the DER of a self-signed X.509 v3 server certificate (the admin
 * listener's), pure: the caller passes the time, the serial, the public key and a
 * signing callback; no I/O, no clock, no randomness, no allocation. */
#ifndef CARDUPD_X509_WRITE_H
#define CARDUPD_X509_WRITE_H

#include <stddef.h>

#define X509_SAN_MAX	8	/* dNSName entries, and iPAddress entries, each */
#define X509_SIG_MAX	160	/* an ASN.1 ECDSA signature, P-521 included */
#define X509_CERT_MAX	2048	/* enough for the certificate described below */

/* What the certificate says. Subject = issuer = CN=cn, O=org (UTF8String, in that
 * order: GnuTLS prints "O=org,CN=cn"). */
struct x509_self {
	const unsigned char	*serial;	/* big-endian magnitude, 1..20 bytes: an
						   INTEGER made positive (a 0x00 is put in
						   front of a high bit), leading zeros dropped */
	size_t			 serial_len;
	long long		 not_before;	/* unix seconds: UTCTime 1950..2049, */
	long long		 not_after;	/* GeneralizedTime 0000..1949 and 2050..9999 */
	const char		*cn;		/* 1..64 bytes */
	const char		*org;		/* 1..64 bytes */
	const unsigned char	*ec_pub;	/* P-256 uncompressed point (65 bytes) */
	size_t			 ec_pub_len;
	const char		*dns[X509_SAN_MAX];	/* dNSName entries (IA5), 1..253 */
	size_t			 n_dns;
	const unsigned char	*ip[X509_SAN_MAX];	/* iPAddress entries, 4 or 16 */
	size_t			 ip_len[X509_SAN_MAX];
	size_t			 n_ip;
};

/* Signs the SHA-256 hash of the TBSCertificate with the key whose public point is
 * x509_self.ec_pub: writes an ASN.1 (DER) ECDSA signature into sig (X509_SIG_MAX
 * bytes) and returns its length, or 0 on failure. */
typedef size_t (*x509_sign_fn)(void *ctx, const unsigned char hash[32],
    unsigned char *sig);

/* Writes the certificate (ecdsa-with-SHA256; extensions: basicConstraints CA:FALSE
 * and keyUsage digitalSignature, both critical; extKeyUsage serverAuth;
 * subjectAltName when n_dns + n_ip > 0) into out[0..cap) and its length into *len.
 * Returns 0, or -1 (an argument out of range, a time that has no X.509 form, cap too
 * small, the signer failed) with out unspecified. */
int x509_write_self_signed(const struct x509_self *s, x509_sign_fn sign, void *ctx,
    unsigned char *out, size_t cap, size_t *len);

/* 1 when name is a host name a dNSName may hold: 1..253 bytes, labels of 1..63
 * letters, digits and hyphens, no label starting or ending with a hyphen, not all
 * digits and dots (an IPv4 address is not a DNS name); 0 otherwise. */
int x509_dns_name_ok(const char *name);

/* The DER time of unix time t into out (at least 16 bytes): the tag (0x17 UTCTime,
 * 0x18 GeneralizedTime) is returned and *len set; -1 for a year outside 0..9999. */
int x509_time_encode(long long t, unsigned char *out, size_t *len);

#endif
