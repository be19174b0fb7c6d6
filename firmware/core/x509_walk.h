/* SPDX-License-Identifier: BSD-2-Clause */
/* x509_walk.h — pure DER walks over one X.509 certificate for what BearSSL's minimal
 * engine does not tell: whether an iPAddress subjectAltName holds a given address (it
 * matches dNSName only), whether the certificate is signed with a weak hash (its
 * error for an unavailable hash is a generic "unsupported"), its validity period and
 * its subject as text (the admin page's anchor list). Bytes in, no allocation. */
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

/* Largest subject text x509_subject_str writes (NUL included). */
#define X509_DN_MAX	1024

/* A DER UTCTime (tag 0x17, "YYMMDDHHMMSSZ"; YY 50..99 is 19YY, 00..49 is 20YY) or
 * GeneralizedTime (tag 0x18, "YYYYMMDDHHMMSSZ") value v[0..len) as unix seconds in
 * *t. Returns 0, or -1 for another tag or length, a non-digit, a missing Z, a field
 * out of range (month 1..12, the month's days, 23:59:59; a leap second 60 is taken). */
int x509_time_decode(int tag, const unsigned char *v, size_t len, long long *t);

/* The validity period of the certificate der[0..len). Returns 0, or -1 for malformed
 * DER or a malformed time. */
int x509_validity(const unsigned char *der, size_t len, long long *not_before,
    long long *not_after);

/* The subject of the certificate der[0..len) as an RFC 4514 string the way GnuTLS's
 * gnutls_x509_crt_get_dn3 prints it (what the admin pages showed before): the last
 * RDN first, RDNs joined by ',', the attributes of a multi-valued RDN by '+' in DER
 * order; GnuTLS's short names (CN, O, OU, C, L, ST, DC, UID, EMAIL, street, title,
 * serialNumber, surName, givenName, ...), otherwise the dotted OID with '#' and the
 * value's DER in hex; ',', '+', '"', '\', '<', '>', ';', a leading '#' or space and
 * a trailing space escaped with '\'; BMPString converted to UTF-8; a value that is not
 * text GnuTLS can print (another string type, not UTF-8) as '#' and hex. Writes the
 * NUL-terminated text into out[0..cap). Returns 0, or -1 for malformed DER, a NUL in a
 * value, or a text longer than cap - 1. */
int x509_subject_str(const unsigned char *der, size_t len, char *out, size_t cap);

#endif
