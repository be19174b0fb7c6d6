/* SPDX-License-Identifier: BSD-2-Clause */
/* x509_walk.h — pure DER walks over one X.509 certificate for what BearSSL's minimal
 * engine does not tell: whether an iPAddress subjectAltName holds a given address (it
 * matches dNSName only), and whether the certificate is signed with a weak hash (its
 * error for an unavailable hash is a generic "unsupported"). Bytes in, no allocation. */
#ifndef CARDUPD_X509_WALK_H
#define CARDUPD_X509_WALK_H

#include <stddef.h>

/* 1 when the certificate der[0..len) has a subjectAltName iPAddress entry equal to
 * ip[0..iplen) (4 or 16 bytes, network order), byte for byte; 0 otherwise, including
 * for malformed or truncated DER (single-byte tags, definite lengths up to 4 bytes). */
int x509_has_ip(const unsigned char *der, size_t len, const unsigned char *ip,
    size_t iplen);

enum x509_sig {
	X509_SIG_MALFORMED = -1,	/* not a certificate we can walk */
	X509_SIG_OK = 0,		/* SHA-2 or anything not known to be weak */
	X509_SIG_SHA1 = 1,		/* sha1WithRSAEncryption, ecdsa-with-SHA1,
					   dsa-with-SHA1 */
	X509_SIG_MD5 = 2,		/* md5WithRSAEncryption (or MD2/MD4) */
};

/* The weakness of the hash in der[0..len)'s outer signatureAlgorithm. */
enum x509_sig x509_sig_hash(const unsigned char *der, size_t len);

#endif
