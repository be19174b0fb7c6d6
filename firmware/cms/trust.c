/* trust.c — trust anchors for BearSSL from PEM or DER files, and the PEM reader that
 * https.c also uses for the client chain and key. Everything returned is owned memory:
 * BearSSL's decoders only lend pointers into their own contexts. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/file.h"
#include "cms/trust.h"

#define TRUST_FILE_MAX	(1024 * 1024)

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* A growing byte buffer that never leaves a copy behind when it moves: what passes
 * through it may be a private key. */
struct gbuf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 oom;
};

static void
gbuf_append(void *ctx, const void *data, size_t len)
{
	struct gbuf *b = ctx;
	unsigned char *np;
	size_t ncap;

	if (b->oom)
		return;
	if (len > b->cap - b->len) {
		if (len > TRUST_FILE_MAX || b->len > TRUST_FILE_MAX) {
			b->oom = 1;
			return;
		}
		ncap = b->cap ? b->cap : 1024;
		while (ncap - b->len < len)
			ncap *= 2;
		if ((np = malloc(ncap)) == NULL) {
			b->oom = 1;
			return;
		}
		if (b->len > 0)
			memcpy(np, b->p, b->len);
		if (b->p != NULL) {
			explicit_bzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
}

static void
gbuf_free(struct gbuf *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof *b);
}

/* Reads a whole (small) file: base/file's bounded reader (regular files only, never
 * blocks on a FIFO); the caller wipes and frees *data. */
static int
read_file(const char *path, unsigned char **data, size_t *len, char *err, size_t errlen)
{
	struct file_buf b;

	*data = NULL;
	*len = 0;
	if (file_read(path, TRUST_FILE_MAX, FILE_SECRET | FILE_NONEMPTY, &b, err, errlen) == -1)
		return -1;
	*data = (unsigned char *)b.p;
	*len = b.len;
	return 0;
}

static int
looks_like_pem(const unsigned char *d, size_t len)
{
	return memmem(d, len, "-----BEGIN ", 11) != NULL;
}

/* Decodes PEM text; on error *objs is freed. */
static int
pem_decode(const char *path, const unsigned char *d, size_t len,
    struct trust_pem_obj **objs, size_t *n, char *err, size_t errlen)
{
	br_pem_decoder_context pc;
	struct trust_pem_obj *v = NULL, *nv;
	struct gbuf cur = { 0 };
	size_t nv_len = 0, off = 0, pushed;
	int inobj = 0, ev, flushed = 0;

	br_pem_decoder_init(&pc);
	/* the decoder only finishes the last line at a newline: feed one at the end */
	while (off < len || !flushed) {
		if (off < len) {
			pushed = br_pem_decoder_push(&pc, d + off, len - off);
			off += pushed;
		} else {
			pushed = br_pem_decoder_push(&pc, "\n", 1);
			flushed = 1;
		}
		switch ((ev = br_pem_decoder_event(&pc))) {
		case 0:
			break;
		case BR_PEM_BEGIN_OBJ:
			gbuf_free(&cur);
			br_pem_decoder_setdest(&pc, gbuf_append, &cur);
			inobj = 1;
			break;
		case BR_PEM_END_OBJ:
			if (!inobj)
				break;
			inobj = 0;
			if (cur.oom) {
				seterr(err, errlen, "%s: PEM object too large or out of "
				    "memory", path);
				goto fail;
			}
			if ((nv = realloc(v, (nv_len + 1) * sizeof *v)) == NULL) {
				seterr(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			v = nv;
			memset(&v[nv_len], 0, sizeof v[nv_len]);
			(void)snprintf(v[nv_len].name, sizeof v[nv_len].name, "%s",
			    br_pem_decoder_name(&pc));
			v[nv_len].data = cur.p;
			v[nv_len].len = cur.len;
			nv_len++;
			memset(&cur, 0, sizeof cur);
			break;
		case BR_PEM_ERROR:
		default:
			seterr(err, errlen, "%s: malformed PEM (after byte %zu)", path,
			    off);
			goto fail;
		}
	}
	if (inobj) {
		seterr(err, errlen, "%s: truncated PEM object (no END line)", path);
		goto fail;
	}
	gbuf_free(&cur);
	explicit_bzero(&pc, sizeof pc);
	*objs = v;
	*n = nv_len;
	return 0;
fail:
	gbuf_free(&cur);
	explicit_bzero(&pc, sizeof pc);
	trust_pem_free(v, nv_len);
	return -1;
}

/* see trust.h */
int
trust_pem_read(const char *path, struct trust_pem_obj **objs, size_t *n, char *err,
    size_t errlen)
{
	unsigned char *d;
	size_t len;
	int r;

	*objs = NULL;
	*n = 0;
	if (read_file(path, &d, &len, err, errlen) == -1)
		return -1;
	r = looks_like_pem(d, len) ? pem_decode(path, d, len, objs, n, err, errlen) : 0;
	explicit_bzero(d, len);
	explicit_bzero(d, len);
	free(d);
	return r;
}

/* see trust.h */
void
trust_pem_free(struct trust_pem_obj *objs, size_t n)
{
	size_t i;

	if (objs == NULL)
		return;
	for (i = 0; i < n; i++) {
		if (objs[i].data != NULL) {
			explicit_bzero(objs[i].data, objs[i].len);
			free(objs[i].data);
		}
	}
	free(objs);
}

static void
free_anchor(br_x509_trust_anchor *ta)
{
	free(ta->dn.data);
	if (ta->pkey.key_type == BR_KEYTYPE_RSA) {
		free(ta->pkey.key.rsa.n);
		free(ta->pkey.key.rsa.e);
	} else if (ta->pkey.key_type == BR_KEYTYPE_EC) {
		free(ta->pkey.key.ec.q);
	}
	memset(ta, 0, sizeof *ta);
}

static unsigned char *
dup_bytes(const unsigned char *p, size_t len)
{
	unsigned char *d;

	if ((d = malloc(len ? len : 1)) != NULL && len > 0)
		memcpy(d, p, len);
	return d;
}

static const char *
x509_errname(int e)
{
	switch (e) {
	case BR_ERR_X509_INVALID_VALUE:	return "invalid value";
	case BR_ERR_X509_TRUNCATED:	return "truncated certificate";
	case BR_ERR_X509_EMPTY_CHAIN:	return "empty certificate";
	case BR_ERR_X509_INNER_TRUNC:	return "truncated inner element";
	case BR_ERR_X509_BAD_TAG_CLASS:
	case BR_ERR_X509_BAD_TAG_VALUE:
	case BR_ERR_X509_INDEFINITE_LENGTH:
	case BR_ERR_X509_EXTRA_ELEMENT:
	case BR_ERR_X509_UNEXPECTED:
	case BR_ERR_X509_NOT_CONSTRUCTED:
	case BR_ERR_X509_NOT_PRIMITIVE:
	case BR_ERR_X509_PARTIAL_BYTE:
	case BR_ERR_X509_BAD_BOOLEAN:
	case BR_ERR_X509_OVERFLOW:	return "bad DER encoding";
	case BR_ERR_X509_BAD_DN:	return "bad distinguished name";
	case BR_ERR_X509_BAD_TIME:	return "bad validity date";
	case BR_ERR_X509_UNSUPPORTED:	return "unsupported key or algorithm";
	case BR_ERR_X509_LIMIT_EXCEEDED:	return "element too large";
	default:			return "cannot decode certificate";
	}
}

/* Decodes one DER certificate into an anchor with owned DN and key; lowers
 * *not_after (0: none yet) to its expiry. */
static int
add_anchor(const char *path, size_t idx, const unsigned char *der, size_t len,
    br_x509_trust_anchor *ta, long long *not_after, char *err, size_t errlen)
{
	long long na;
	br_x509_decoder_context dc;
	struct gbuf dn = { 0 };
	const br_x509_pkey *pk;
	int e;

	memset(ta, 0, sizeof *ta);
	br_x509_decoder_init(&dc, gbuf_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL) {
		e = br_x509_decoder_last_error(&dc);
		seterr(err, errlen, "%s: certificate %zu: %s (BearSSL error %d)", path,
		    idx + 1, x509_errname(e), e);
		gbuf_free(&dn);
		return -1;
	}
	if (dn.oom) {
		seterr(err, errlen, "%s: certificate %zu: out of memory", path, idx + 1);
		gbuf_free(&dn);
		return -1;
	}
	/* BearSSL counts days from 0000-01-01; 1970-01-01 is day 719528 */
	na = ((long long)dc.notafter_days - 719528) * 86400 + dc.notafter_seconds;
	if (*not_after == 0 || na < *not_after)
		*not_after = na;
	ta->dn.data = dn.p;		/* ownership moves to the anchor */
	ta->dn.len = dn.len;
	/* a CA certificate anchors chains; any other certificate is pinned as the
	 * server's own (BearSSL "direct trust": DN and key must match the EE) */
	ta->flags = br_x509_decoder_isCA(&dc) ? BR_X509_TA_CA : 0;
	switch (pk->key_type) {
	case BR_KEYTYPE_RSA:
		ta->pkey.key_type = BR_KEYTYPE_RSA;
		ta->pkey.key.rsa.n = dup_bytes(pk->key.rsa.n, pk->key.rsa.nlen);
		ta->pkey.key.rsa.nlen = pk->key.rsa.nlen;
		ta->pkey.key.rsa.e = dup_bytes(pk->key.rsa.e, pk->key.rsa.elen);
		ta->pkey.key.rsa.elen = pk->key.rsa.elen;
		if (ta->pkey.key.rsa.n == NULL || ta->pkey.key.rsa.e == NULL)
			goto oom;
		break;
	case BR_KEYTYPE_EC:
		ta->pkey.key_type = BR_KEYTYPE_EC;
		ta->pkey.key.ec.curve = pk->key.ec.curve;
		ta->pkey.key.ec.q = dup_bytes(pk->key.ec.q, pk->key.ec.qlen);
		ta->pkey.key.ec.qlen = pk->key.ec.qlen;
		if (ta->pkey.key.ec.q == NULL)
			goto oom;
		break;
	default:
		seterr(err, errlen, "%s: certificate %zu: unsupported public key type",
		    path, idx + 1);
		free_anchor(ta);
		return -1;
	}
	return 0;
oom:
	seterr(err, errlen, "%s: certificate %zu: out of memory", path, idx + 1);
	free_anchor(ta);
	return -1;
}

static int
is_cert_label(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0;
}

/* see trust.h */
int
trust_load(const char *path, struct trust_anchors *out, char *err, size_t errlen)
{
	struct trust_pem_obj *objs = NULL;
	unsigned char *d = NULL;
	size_t nobj = 0, len, i, ncert = 0;

	memset(out, 0, sizeof *out);
	if (path == NULL || *path == '\0') {
		seterr(err, errlen, "no trust anchor file configured");
		return -1;
	}
	if (read_file(path, &d, &len, err, errlen) == -1)
		return -1;

	if (!looks_like_pem(d, len)) {
		/* DER: exactly one certificate */
		if ((out->ta = calloc(1, sizeof *out->ta)) == NULL) {
			seterr(err, errlen, "%s: out of memory", path);
			goto fail;
		}
		if (add_anchor(path, 0, d, len, &out->ta[0], &out->not_after, err, errlen) == -1)
			goto fail;
		out->n = 1;
		free(d);
		return 0;
	}
	if (pem_decode(path, d, len, &objs, &nobj, err, errlen) == -1)
		goto fail;
	for (i = 0; i < nobj; i++)
		ncert += is_cert_label(objs[i].name);
	if (ncert == 0) {
		seterr(err, errlen, "%s: no certificate found", path);
		goto fail;
	}
	if ((out->ta = calloc(ncert, sizeof *out->ta)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	for (i = 0; i < nobj; i++) {
		if (!is_cert_label(objs[i].name))
			continue;	/* a stray key or CRL in a bundle is harmless */
		if (add_anchor(path, out->n, objs[i].data, objs[i].len,
		    &out->ta[out->n], &out->not_after, err, errlen) == -1)
			goto fail;
		out->n++;
	}
	trust_pem_free(objs, nobj);
	explicit_bzero(d, len);
	free(d);
	return 0;
fail:
	trust_pem_free(objs, nobj);
	explicit_bzero(d, len);
	free(d);
	trust_free(out);
	return -1;
}

/* see trust.h */
void
trust_free(struct trust_anchors *ta)
{
	size_t i;

	if (ta == NULL)
		return;
	if (ta->ta != NULL) {
		for (i = 0; i < ta->n; i++)
			free_anchor(&ta->ta[i]);
		free(ta->ta);
	}
	ta->ta = NULL;
	ta->n = 0;
}
