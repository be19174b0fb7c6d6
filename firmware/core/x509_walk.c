/* SPDX-License-Identifier: BSD-2-Clause */
/* x509_walk.c — see x509_walk.h. A minimal DER reader: every length is checked against
 * the end of its enclosing element before it is used. */
#include <string.h>

#include "core/x509_walk.h"

/* Reads a DER header at *off: single-byte tags, definite lengths up to 4 bytes, the
 * value inside [*off, end). */
static int
der_next(const unsigned char *p, size_t end, size_t *off, int *tag, size_t *vlen)
{
	size_t o = *off, n, l = 0;

	if (o > end || end - o < 2)
		return -1;
	*tag = p[o++];
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	if (p[o] < 0x80) {
		l = p[o++];
	} else {
		n = p[o++] & 0x7f;
		if (n == 0 || n > 4 || end - o < n)
			return -1;
		while (n-- > 0)
			l = (l << 8) | p[o++];
	}
	if (l > end - o)
		return -1;
	*off = o;
	*vlen = l;
	return 0;
}

/* see x509_walk.h */
int
x509_has_ip(const unsigned char *der, size_t len, const unsigned char *ip, size_t iplen)
{
	static const unsigned char san_oid[] = { 0x55, 0x1d, 0x11 };	/* 2.5.29.17 */
	size_t off = 0, l, tbs_end, ext_end, e_end, s_end;
	int tag;

	/* Certificate SEQUENCE, TBSCertificate SEQUENCE */
	if (der_next(der, len, &off, &tag, &l) == -1 || tag != 0x30)
		return 0;
	if (der_next(der, off + l, &off, &tag, &l) == -1 || tag != 0x30)
		return 0;
	tbs_end = off + l;
	/* skip to the [3] extensions: version, serial, sig, issuer, validity, subject,
	 * spki, [1], [2] are all skipped whole */
	for (;;) {
		if (off >= tbs_end || der_next(der, tbs_end, &off, &tag, &l) == -1)
			return 0;
		if (tag == 0xa3)
			break;
		off += l;
	}
	if (der_next(der, off + l, &off, &tag, &l) == -1 || tag != 0x30)
		return 0;
	ext_end = off + l;
	while (off < ext_end) {
		if (der_next(der, ext_end, &off, &tag, &l) == -1 || tag != 0x30)
			return 0;
		e_end = off + l;
		if (der_next(der, e_end, &off, &tag, &l) == -1 || tag != 0x06)
			return 0;
		if (l != sizeof san_oid || memcmp(der + off, san_oid, l) != 0) {
			off = e_end;
			continue;
		}
		off += l;
		if (der_next(der, e_end, &off, &tag, &l) == -1)
			return 0;
		if (tag == 0x01) {		/* critical flag */
			off += l;
			if (der_next(der, e_end, &off, &tag, &l) == -1)
				return 0;
		}
		if (tag != 0x04 ||
		    der_next(der, off + l, &off, &tag, &l) == -1 || tag != 0x30)
			return 0;
		s_end = off + l;
		while (off < s_end) {
			if (der_next(der, s_end, &off, &tag, &l) == -1)
				return 0;
			/* iPAddress [7] IMPLICIT OCTET STRING */
			if (tag == 0x87 && l == iplen && memcmp(der + off, ip, l) == 0)
				return 1;
			off += l;
		}
		return 0;
	}
	return 0;
}

/* see x509_walk.h */
enum x509_sig
x509_sig_hash(const unsigned char *der, size_t len)
{
	static const struct {
		unsigned char	 oid[9];
		size_t		 len;
		enum x509_sig	 sig;
	} weak[] = {
		/* 1.2.840.113549.1.1.5 sha1WithRSAEncryption */
		{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05 }, 9, X509_SIG_SHA1 },
		/* 1.2.840.10045.4.1 ecdsa-with-SHA1 */
		{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x01 }, 7, X509_SIG_SHA1 },
		/* 1.2.840.10040.4.3 dsa-with-SHA1 */
		{ { 0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x03 }, 7, X509_SIG_SHA1 },
		/* 1.2.840.113549.1.1.4 md5WithRSAEncryption, .2 md2, .3 md4 */
		{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x04 }, 9, X509_SIG_MD5 },
		{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x02 }, 9, X509_SIG_MD5 },
		{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x03 }, 9, X509_SIG_MD5 },
	};
	size_t off = 0, l, end, i;
	int tag;

	/* Certificate SEQUENCE { tbs SEQUENCE, signatureAlgorithm SEQUENCE { OID, ...} } */
	if (der_next(der, len, &off, &tag, &l) == -1 || tag != 0x30)
		return X509_SIG_MALFORMED;
	end = off + l;
	if (der_next(der, end, &off, &tag, &l) == -1 || tag != 0x30)
		return X509_SIG_MALFORMED;
	off += l;
	if (der_next(der, end, &off, &tag, &l) == -1 || tag != 0x30)
		return X509_SIG_MALFORMED;
	end = off + l;
	if (der_next(der, end, &off, &tag, &l) == -1 || tag != 0x06)
		return X509_SIG_MALFORMED;
	for (i = 0; i < sizeof weak / sizeof weak[0]; i++)
		if (l == weak[i].len && memcmp(der + off, weak[i].oid, l) == 0)
			return weak[i].sig;
	return X509_SIG_OK;
}
