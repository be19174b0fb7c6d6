/* SPDX-License-Identifier: BSD-2-Clause */
/* x509_write.c — see x509_write.h. A forward DER writer: a constructed element is
 * opened (its tag written), filled, then closed, which slides its content right to
 * make room for the minimal length octets. Every write is checked against cap. */
#include <string.h>

#include <bearssl.h>

#include "core/x509_write.h"

struct der {
	unsigned char	*p;
	size_t		 len, cap;
	int		 err;
};

static void
put(struct der *d, const void *b, size_t n)
{
	if (d->err || n > d->cap - d->len) {
		d->err = 1;
		return;
	}
	memcpy(d->p + d->len, b, n);
	d->len += n;
}

static void
put1(struct der *d, unsigned char c)
{
	put(d, &c, 1);
}

/* Writes tag and returns where the content starts (where the length goes). */
static size_t
open_(struct der *d, unsigned char tag)
{
	put1(d, tag);
	return d->len;
}

static void
close_(struct der *d, size_t mark)
{
	size_t clen, h, i;
	unsigned char hdr[5];

	if (d->err)
		return;
	clen = d->len - mark;
	if (clen < 0x80) {
		hdr[0] = (unsigned char)clen;
		h = 1;
	} else {
		for (h = 0, i = clen; i > 0; i >>= 8)
			h++;
		hdr[0] = (unsigned char)(0x80 | h);
		for (i = 0; i < h; i++)
			hdr[1 + i] = (unsigned char)(clen >> (8 * (h - 1 - i)));
		h++;
	}
	if (h > d->cap - d->len) {
		d->err = 1;
		return;
	}
	memmove(d->p + mark + h, d->p + mark, clen);
	memcpy(d->p + mark, hdr, h);
	d->len += h;
}

/* A primitive element. */
static void
prim(struct der *d, unsigned char tag, const void *v, size_t n)
{
	size_t m = open_(d, tag);

	put(d, v, n);
	close_(d, m);
}

static void
oid(struct der *d, const unsigned char *o, size_t n)
{
	prim(d, 0x06, o, n);
}

/* 1.2.840.10045.4.3.2 ecdsa-with-SHA256, no parameters (RFC 5758). */
static const unsigned char OID_ECDSA_SHA256[] =
    { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 };
static const unsigned char OID_EC_PUBKEY[] =		/* 1.2.840.10045.2.1 */
    { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };
static const unsigned char OID_P256[] =			/* 1.2.840.10045.3.1.7 */
    { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const unsigned char OID_CN[] = { 0x55, 0x04, 0x03 };
static const unsigned char OID_O[] = { 0x55, 0x04, 0x0a };
static const unsigned char OID_BASIC[] = { 0x55, 0x1d, 0x13 };
static const unsigned char OID_KU[] = { 0x55, 0x1d, 0x0f };
static const unsigned char OID_EKU[] = { 0x55, 0x1d, 0x25 };
static const unsigned char OID_SAN[] = { 0x55, 0x1d, 0x11 };
static const unsigned char OID_SERVER_AUTH[] =		/* 1.3.6.1.5.5.7.3.1 */
    { 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x01 };

static void
sig_alg(struct der *d)
{
	size_t m = open_(d, 0x30);

	oid(d, OID_ECDSA_SHA256, sizeof OID_ECDSA_SHA256);
	close_(d, m);
}

/* One RelativeDistinguishedName: SET { SEQUENCE { type, UTF8String value } }. */
static void
rdn(struct der *d, const unsigned char *type, size_t typelen, const char *value)
{
	size_t set = open_(d, 0x31), seq = open_(d, 0x30);

	oid(d, type, typelen);
	prim(d, 0x0c, value, strlen(value));
	close_(d, seq);
	close_(d, set);
}

static void
name(struct der *d, const struct x509_self *s)
{
	size_t m = open_(d, 0x30);

	rdn(d, OID_CN, sizeof OID_CN, s->cn);
	rdn(d, OID_O, sizeof OID_O, s->org);
	close_(d, m);
}

/* Days since 1970-01-01 to a proleptic Gregorian date (H. Hinnant's civil_from_days). */
static void
civil(long long z, long long *y, unsigned *mo, unsigned *dd)
{
	long long era, yy;
	unsigned doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	yy = (long long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*dd = doy - (153 * mp + 2) / 5 + 1;
	*mo = mp < 10 ? mp + 3 : mp - 9;
	*y = yy + (*mo <= 2);
}

static void
digits(unsigned char *o, unsigned v, int n)
{
	while (n-- > 0) {
		o[n] = (unsigned char)('0' + v % 10);
		v /= 10;
	}
}

/* see x509_write.h */
int
x509_time_encode(long long t, unsigned char *out, size_t *len)
{
	long long days, y, sod;
	unsigned mo, dd;
	size_t o = 0;
	int tag;

	/* floor division: times before 1970 are negative */
	days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	sod = t - days * 86400;
	civil(days, &y, &mo, &dd);
	if (y < 0 || y > 9999)
		return -1;
	if (y >= 1950 && y <= 2049) {
		tag = 0x17;
		digits(out, (unsigned)(y % 100), 2);
		o = 2;
	} else {
		tag = 0x18;
		digits(out, (unsigned)y, 4);
		o = 4;
	}
	digits(out + o, mo, 2);
	digits(out + o + 2, dd, 2);
	digits(out + o + 4, (unsigned)(sod / 3600), 2);
	digits(out + o + 6, (unsigned)(sod / 60 % 60), 2);
	digits(out + o + 8, (unsigned)(sod % 60), 2);
	out[o + 10] = 'Z';
	*len = o + 11;
	return tag;
}

/* see x509_write.h */
int
x509_dns_name_ok(const char *s)
{
	size_t n = strlen(s), lab = 0, i;
	int alpha = 0;

	if (n == 0 || n > 253)
		return 0;
	for (i = 0; i <= n; i++) {
		char c = s[i];

		if (c == '.' || c == '\0') {
			if (lab == 0 || lab > 63 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (c == '-') {
			if (lab == 0)
				return 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			alpha = 1;
		} else if (c < '0' || c > '9') {
			return 0;
		}
		if (c == '-')
			alpha = 1;
		lab++;
	}
	return alpha;
}

static int
args_ok(const struct x509_self *s)
{
	size_t i;

	if (s->serial == NULL || s->serial_len == 0 || s->serial_len > 20 ||
	    s->cn == NULL || s->org == NULL || strlen(s->cn) == 0 ||
	    strlen(s->cn) > 64 || strlen(s->org) == 0 || strlen(s->org) > 64 ||
	    s->ec_pub == NULL || s->ec_pub_len != 65 || s->ec_pub[0] != 0x04 ||
	    s->n_dns > X509_SAN_MAX || s->n_ip > X509_SAN_MAX ||
	    s->not_after < s->not_before)
		return 0;
	for (i = 0; i < s->n_dns; i++)
		if (s->dns[i] == NULL || strlen(s->dns[i]) == 0 || strlen(s->dns[i]) > 253)
			return 0;
	for (i = 0; i < s->n_ip; i++)
		if (s->ip[i] == NULL || (s->ip_len[i] != 4 && s->ip_len[i] != 16))
			return 0;
	return 1;
}

static void
serial(struct der *d, const struct x509_self *s)
{
	const unsigned char *p = s->serial;
	size_t n = s->serial_len, m;

	while (n > 1 && p[0] == 0) {
		p++;
		n--;
	}
	m = open_(d, 0x02);
	if (p[0] & 0x80)
		put1(d, 0x00);
	put(d, p, n);
	close_(d, m);
}

static int
validity(struct der *d, const struct x509_self *s)
{
	unsigned char t[16];
	size_t tl, m = open_(d, 0x30);
	int tag;

	if ((tag = x509_time_encode(s->not_before, t, &tl)) == -1)
		return -1;
	prim(d, (unsigned char)tag, t, tl);
	if ((tag = x509_time_encode(s->not_after, t, &tl)) == -1)
		return -1;
	prim(d, (unsigned char)tag, t, tl);
	close_(d, m);
	return 0;
}

static void
spki(struct der *d, const struct x509_self *s)
{
	size_t m = open_(d, 0x30), a, b;

	a = open_(d, 0x30);
	oid(d, OID_EC_PUBKEY, sizeof OID_EC_PUBKEY);
	oid(d, OID_P256, sizeof OID_P256);
	close_(d, a);
	b = open_(d, 0x03);
	put1(d, 0x00);			/* no unused bits */
	put(d, s->ec_pub, s->ec_pub_len);
	close_(d, b);
	close_(d, m);
}

/* Opens an Extension: SEQUENCE { extnID, critical (when true), extnValue OCTET
 * STRING {; the caller writes the value and closes both (see ext_close). */
static void
ext_open(struct der *d, const unsigned char *o, size_t n, int critical, size_t m[2])
{
	static const unsigned char t[] = { 0x01, 0x01, 0xff };

	m[0] = open_(d, 0x30);
	oid(d, o, n);
	if (critical)
		put(d, t, sizeof t);
	m[1] = open_(d, 0x04);
}

static void
ext_close(struct der *d, size_t m[2])
{
	close_(d, m[1]);
	close_(d, m[0]);
}

static void
extensions(struct der *d, const struct x509_self *s)
{
	static const unsigned char ku[] = { 0x03, 0x02, 0x07, 0x80 };	/* bit 0 */
	size_t x = open_(d, 0xa3), seq = open_(d, 0x30), m[2], v, i;

	ext_open(d, OID_BASIC, sizeof OID_BASIC, 1, m);
	put(d, "\x30\x00", 2);		/* cA DEFAULT FALSE: omitted */
	ext_close(d, m);
	ext_open(d, OID_KU, sizeof OID_KU, 1, m);
	put(d, ku, sizeof ku);
	ext_close(d, m);
	ext_open(d, OID_EKU, sizeof OID_EKU, 0, m);
	v = open_(d, 0x30);
	oid(d, OID_SERVER_AUTH, sizeof OID_SERVER_AUTH);
	close_(d, v);
	ext_close(d, m);
	if (s->n_dns + s->n_ip > 0) {
		ext_open(d, OID_SAN, sizeof OID_SAN, 0, m);
		v = open_(d, 0x30);
		for (i = 0; i < s->n_dns; i++)
			prim(d, 0x82, s->dns[i], strlen(s->dns[i]));	/* [2] IA5 */
		for (i = 0; i < s->n_ip; i++)
			prim(d, 0x87, s->ip[i], s->ip_len[i]);		/* [7] OCTETS */
		close_(d, v);
		ext_close(d, m);
	}
	close_(d, seq);
	close_(d, x);
}

/* see x509_write.h */
int
x509_write_self_signed(const struct x509_self *s, x509_sign_fn sign, void *ctx,
    unsigned char *out, size_t cap, size_t *len)
{
	struct der d = { out, 0, cap, 0 };
	br_sha256_context h;
	unsigned char hash[32], sig[X509_SIG_MAX];
	size_t cert, tbs, tbs_at, v, sl;

	if (!args_ok(s) || sign == NULL)
		return -1;
	cert = open_(&d, 0x30);
	tbs_at = d.len;
	tbs = open_(&d, 0x30);
	put(&d, "\xa0\x03\x02\x01\x02", 5);	/* [0] version v3 (2) */
	serial(&d, s);
	sig_alg(&d);
	name(&d, s);				/* issuer */
	if (validity(&d, s) == -1)
		return -1;
	name(&d, s);				/* subject */
	spki(&d, s);
	extensions(&d, s);
	close_(&d, tbs);
	if (d.err)
		return -1;
	/* the TBS (from its tag at tbs_at) is final: only the outer length moves it */
	br_sha256_init(&h);
	br_sha256_update(&h, d.p + tbs_at, d.len - tbs_at);
	br_sha256_out(&h, hash);
	if ((sl = sign(ctx, hash, sig)) == 0 || sl > sizeof sig)
		return -1;
	sig_alg(&d);
	v = open_(&d, 0x03);
	put1(&d, 0x00);
	put(&d, sig, sl);
	close_(&d, v);
	close_(&d, cert);
	if (d.err)
		return -1;
	*len = d.len;
	return 0;
}
