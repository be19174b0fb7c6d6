/* SPDX-License-Identifier: BSD-2-Clause */
/* x509_walk.c — see x509_walk.h. A minimal DER reader: every length is checked against
 * the end of its enclosing element before it is used. */
#include <stdio.h>
#include <string.h>

#include "core/civil.h"
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

/* The TBSCertificate fields up to the subject: offsets of the issuer's, the
 * validity's and the subject's values and their ends. */
struct tbs_pos {
	size_t	 val, val_end, subj, subj_end;
};

static int
tbs_walk(const unsigned char *der, size_t len, struct tbs_pos *t)
{
	size_t off = 0, l, tbs_end;
	int tag, i;

	if (der_next(der, len, &off, &tag, &l) == -1 || tag != 0x30)
		return -1;
	if (der_next(der, off + l, &off, &tag, &l) == -1 || tag != 0x30)
		return -1;
	tbs_end = off + l;
	if (der_next(der, tbs_end, &off, &tag, &l) == -1)
		return -1;
	if (tag == 0xa0) {			/* [0] version */
		off += l;
		if (der_next(der, tbs_end, &off, &tag, &l) == -1)
			return -1;
	}
	if (tag != 0x02)			/* serialNumber */
		return -1;
	off += l;
	for (i = 0; i < 4; i++) {		/* signature, issuer, validity, subject */
		if (der_next(der, tbs_end, &off, &tag, &l) == -1 || tag != 0x30)
			return -1;
		if (i == 2) {
			t->val = off;
			t->val_end = off + l;
		} else if (i == 3) {
			t->subj = off;
			t->subj_end = off + l;
		}
		off += l;
	}
	return 0;
}

static int
num(const unsigned char *v, size_t n, unsigned *out)
{
	unsigned r = 0;

	while (n-- > 0) {
		if (*v < '0' || *v > '9')
			return -1;
		r = r * 10 + (unsigned)(*v++ - '0');
	}
	*out = r;
	return 0;
}

/* see x509_walk.h */
int
x509_time_decode(int tag, const unsigned char *v, size_t len, long long *t)
{
	static const unsigned char mdays[12] =
	    { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	unsigned y, mo, d, h, mi, s;
	size_t yl;

	if (tag == 0x17 && len == 13)
		yl = 2;
	else if (tag == 0x18 && len == 15)
		yl = 4;
	else
		return -1;
	if (v[len - 1] != 'Z' || num(v, yl, &y) == -1 || num(v + yl, 2, &mo) == -1 ||
	    num(v + yl + 2, 2, &d) == -1 || num(v + yl + 4, 2, &h) == -1 ||
	    num(v + yl + 6, 2, &mi) == -1 || num(v + yl + 8, 2, &s) == -1)
		return -1;
	if (yl == 2)
		y += y < 50 ? 2000 : 1900;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 ||
	    s > 60)
		return -1;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -1;
	*t = civil_days(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	return 0;
}

/* see x509_walk.h */
int
x509_validity(const unsigned char *der, size_t len, long long *not_before,
    long long *not_after)
{
	struct tbs_pos t;
	size_t off, l;
	int tag;

	if (tbs_walk(der, len, &t) == -1)
		return -1;
	off = t.val;
	if (der_next(der, t.val_end, &off, &tag, &l) == -1 ||
	    x509_time_decode(tag, der + off, l, not_before) == -1)
		return -1;
	off += l;
	if (der_next(der, t.val_end, &off, &tag, &l) == -1 ||
	    x509_time_decode(tag, der + off, l, not_after) == -1)
		return -1;
	return off + l == t.val_end ? 0 : -1;
}

/* The subject text under construction. */
struct dn_out {
	char	*p;
	size_t	 len, cap;
	int	 err;
};

static void
dn_put(struct dn_out *o, const void *b, size_t n)
{
	if (o->err || n >= o->cap - o->len) {
		o->err = 1;
		return;
	}
	memcpy(o->p + o->len, b, n);
	o->len += n;
	o->p[o->len] = '\0';
}

static void
dn_hex(struct dn_out *o, const unsigned char *b, size_t n)
{
	static const char hx[] = "0123456789abcdef";
	char c[2];

	while (n-- > 0) {
		c[0] = hx[*b >> 4];
		c[1] = hx[*b++ & 15];
		dn_put(o, c, 2);
	}
}

/* GnuTLS's escaping of one decoded value (RFC 4514, 2.4). */
static void
dn_escaped(struct dn_out *o, const unsigned char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (memchr(",+\"\\<>;", b[i], 7) != NULL ||
		    (i == 0 && (b[i] == '#' || b[i] == ' ')) ||
		    (i == n - 1 && b[i] == ' '))
			dn_put(o, "\\", 1);
		dn_put(o, b + i, 1);
	}
}

/* 1 when b[0..n) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
static int
utf8_ok(const unsigned char *b, size_t n)
{
	size_t i = 0, k;
	unsigned long cp;

	while (i < n) {
		unsigned char c = b[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			k = 1, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			k = 2, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			k = 3, cp = c & 0x07;
		else
			return 0;
		if (n - i - 1 < k)
			return 0;
		for (size_t j = 1; j <= k; j++) {
			if ((b[i + j] & 0xc0) != 0x80)
				return 0;
			cp = (cp << 6) | (b[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		i += k + 1;
	}
	return 1;
}

static void
put_utf8(struct dn_out *o, unsigned long cp)
{
	unsigned char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (unsigned char)(0xc0 | cp >> 6);
		u[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (unsigned char)(0xe0 | cp >> 12);
		u[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (unsigned char)(0xf0 | cp >> 18);
		u[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		u[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		u[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	dn_put(o, u, n);
}

/* A BMPString (UTF-16BE, surrogate pairs taken) as UTF-8 into a scratch text, then
 * escaped; -1 when it is not valid UTF-16 (the caller prints hex). */
static int
dn_bmp(struct dn_out *o, const unsigned char *b, size_t n)
{
	char tmp[X509_DN_MAX];
	struct dn_out t = { tmp, 0, sizeof tmp, 0 };
	unsigned long cp, lo;
	size_t i;

	if (n % 2 != 0)
		return -1;
	for (i = 0; i < n; i += 2) {
		cp = (unsigned long)b[i] << 8 | b[i + 1];
		if (cp >= 0xd800 && cp <= 0xdbff) {
			if (i + 3 >= n)
				return -1;
			lo = (unsigned long)b[i + 2] << 8 | b[i + 3];
			if (lo < 0xdc00 || lo > 0xdfff)
				return -1;
			cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
			i += 2;
		} else if ((cp >= 0xdc00 && cp <= 0xdfff) || cp == 0) {
			return -1;
		}
		put_utf8(&t, cp);
	}
	if (t.err) {
		o->err = 1;
		return 0;
	}
	dn_escaped(o, (const unsigned char *)tmp, t.len);
	return 0;
}

/* GnuTLS's names for the attribute types it knows (lib/x509/common.c, _oid2str). */
static const struct {
	const char	*oid;	/* dotted */
	const char	*name;
} dn_names[] = {
	{ "1.3.6.1.5.5.7.9.2", "placeOfBirth" },
	{ "1.3.6.1.5.5.7.9.3", "gender" },
	{ "1.3.6.1.5.5.7.9.4", "countryOfCitizenship" },
	{ "1.3.6.1.5.5.7.9.5", "countryOfResidence" },
	{ "2.5.4.6", "C" },
	{ "2.5.4.9", "street" },
	{ "2.5.4.12", "title" },
	{ "2.5.4.10", "O" },
	{ "2.5.4.11", "OU" },
	{ "2.5.4.3", "CN" },
	{ "2.5.4.7", "L" },
	{ "2.5.4.8", "ST" },
	{ "2.5.4.13", "description" },
	{ "2.5.4.5", "serialNumber" },
	{ "2.5.4.20", "telephoneNumber" },
	{ "2.5.4.4", "surName" },
	{ "2.5.4.43", "initials" },
	{ "2.5.4.44", "generationQualifier" },
	{ "2.5.4.42", "givenName" },
	{ "2.5.4.65", "pseudonym" },
	{ "2.5.4.46", "dnQualifier" },
	{ "2.5.4.17", "postalCode" },
	{ "2.5.4.41", "name" },
	{ "2.5.4.15", "businessCategory" },
	{ "0.9.2342.19200300.100.1.25", "DC" },
	{ "0.9.2342.19200300.100.1.1", "UID" },
	{ "1.2.840.113556.1.4.656", "userPrincipalName" },
	{ "1.3.6.1.4.1.311.60.2.1.1", "jurisdictionOfIncorporationLocalityName" },
	{ "1.3.6.1.4.1.311.60.2.1.2", "jurisdictionOfIncorporationStateOrProvinceName" },
	{ "1.3.6.1.4.1.311.60.2.1.3", "jurisdictionOfIncorporationCountryName" },
	{ "1.2.840.113549.1.9.1", "EMAIL" },
	{ "1.3.6.1.5.5.7.8.5", "XmppAddr" },
};

/* The dotted form of the OID o[0..n) into buf (at least 160 bytes); -1 malformed
 * (empty, a truncated arc, an arc over 32 bits, a non-minimal arc). */
static int
oid_dotted(const unsigned char *o, size_t n, char *buf, size_t cap)
{
	size_t i = 0, w = 0;
	unsigned long v;
	int first = 1, k;

	if (n == 0 || n > 64)
		return -1;
	while (i < n) {
		v = 0;
		if (o[i] == 0x80)
			return -1;
		do {
			if (i >= n || v > 0x1ffffff)
				return -1;
			v = (v << 7) | (o[i] & 0x7f);
		} while (o[i++] & 0x80);
		if (first) {
			unsigned long a = v < 40 ? 0 : v < 80 ? 1 : 2;

			k = snprintf(buf + w, cap - w, "%lu.%lu", a, v - 40 * a);
			first = 0;
		} else
			k = snprintf(buf + w, cap - w, ".%lu", v);
		if (k < 0 || (size_t)k >= cap - w)
			return -1;
		w += (size_t)k;
	}
	return 0;
}

/* One AttributeTypeAndValue SEQUENCE's content p[off..end). */
static int
dn_ava(struct dn_out *o, const unsigned char *p, size_t off, size_t end)
{
	char dotted[160];
	const char *nm = NULL;
	size_t l, vstart, i;
	int tag;

	if (der_next(p, end, &off, &tag, &l) == -1 || tag != 0x06 ||
	    oid_dotted(p + off, l, dotted, sizeof dotted) == -1)
		return -1;
	off += l;
	vstart = off;
	if (der_next(p, end, &off, &tag, &l) == -1 || off + l != end)
		return -1;
	for (i = 0; i < sizeof dn_names / sizeof dn_names[0]; i++)
		if (strcmp(dn_names[i].oid, dotted) == 0)
			nm = dn_names[i].name;
	dn_put(o, nm != NULL ? nm : dotted, strlen(nm != NULL ? nm : dotted));
	dn_put(o, "=", 1);
	if (nm != NULL && (tag == 0x0c || tag == 0x13 || tag == 0x16 || tag == 0x14 ||
	    tag == 0x1e || tag == 0x1c)) {
		/* GnuTLS refuses a name with a NUL (BMP's and Universal's code units
		 * hold zero bytes: dn_bmp checks its characters) */
		if (tag != 0x1e && tag != 0x1c && memchr(p + off, 0, l) != NULL)
			return -1;
		switch (tag) {
		case 0x1e:
			if (dn_bmp(o, p + off, l) == 0)
				return 0;
			break;
		case 0x14:		/* Teletex: as is when ASCII */
			for (i = 0; i < l && p[off + i] < 0x80; i++)
				;
			if (i == l) {
				dn_escaped(o, p + off, l);
				return 0;
			}
			break;
		case 0x1c:
			break;
		default:
			if (utf8_ok(p + off, l)) {
				dn_escaped(o, p + off, l);
				return 0;
			}
			break;
		}
		/* GnuTLS prints a string it cannot convert as "#hex" of its content and
		 * then escapes the leading '#' */
		dn_put(o, "\\#", 2);
		dn_hex(o, p + off, l);
		return 0;
	}
	dn_put(o, "#", 1);
	dn_hex(o, p + vstart, end - vstart);
	return 0;
}

#define DN_RDN_MAX	64

/* see x509_walk.h */
int
x509_subject_str(const unsigned char *der, size_t len, char *out, size_t cap)
{
	struct tbs_pos t;
	struct dn_out o = { out, 0, cap, 0 };
	size_t rdn[DN_RDN_MAX], rdn_end[DN_RDN_MAX], n = 0, off, l, a, a_end;
	int tag, first;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	if (tbs_walk(der, len, &t) == -1)
		return -1;
	for (off = t.subj; off < t.subj_end; off += l) {
		if (n == DN_RDN_MAX ||
		    der_next(der, t.subj_end, &off, &tag, &l) == -1 || tag != 0x31 ||
		    l == 0)
			return -1;
		rdn[n] = off;
		rdn_end[n++] = off + l;
	}
	while (n-- > 0) {
		first = 1;
		for (a = rdn[n]; a < rdn_end[n]; a = a_end) {
			if (der_next(der, rdn_end[n], &a, &tag, &l) == -1 || tag != 0x30)
				return -1;
			a_end = a + l;
			if (!first)
				dn_put(&o, "+", 1);
			if (dn_ava(&o, der, a, a_end) == -1)
				return -1;
			first = 0;
		}
		if (n > 0)
			dn_put(&o, ",", 1);
	}
	if (o.err) {
		out[0] = '\0';
		return -1;
	}
	return 0;
}
