/* SPDX-License-Identifier: BSD-2-Clause */
/* anchors.c — see anchors.h. BearSSL's X.509 decoder lends its DN and key pointers:
 * each anchor gets owned copies. */
#include <stdlib.h>
#include <string.h>

#include "core/anchors.h"
#include "core/pem.h"

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
add_anchor(const char *what, size_t idx, const unsigned char *der, size_t len,
    br_x509_trust_anchor *ta, long long *not_after, char *err, size_t errlen)
{
	long long na;
	br_x509_decoder_context dc;
	struct pem_buf dn = { 0 };
	const br_x509_pkey *pk;
	int e;

	memset(ta, 0, sizeof *ta);
	br_x509_decoder_init(&dc, pem_buf_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	pk = br_x509_decoder_get_pkey(&dc);
	if (pk == NULL) {
		e = br_x509_decoder_last_error(&dc);
		pem_seterr(err, errlen, "%s: certificate %zu: %s (BearSSL error %d)",
		    what, idx + 1, x509_errname(e), e);
		pem_buf_free(&dn);
		return -1;
	}
	if (dn.oom) {
		pem_seterr(err, errlen, "%s: certificate %zu: out of memory", what,
		    idx + 1);
		pem_buf_free(&dn);
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
		pem_seterr(err, errlen, "%s: certificate %zu: unsupported public key type",
		    what, idx + 1);
		free_anchor(ta);
		return -1;
	}
	return 0;
oom:
	pem_seterr(err, errlen, "%s: certificate %zu: out of memory", what, idx + 1);
	free_anchor(ta);
	return -1;
}

static int
is_cert_label(const char *name)
{
	return strcmp(name, "CERTIFICATE") == 0 || strcmp(name, "X509 CERTIFICATE") == 0;
}

/* see anchors.h */
int
anchors_decode(const char *what, const unsigned char *d, size_t len,
    struct anchors *out, char *err, size_t errlen)
{
	struct pem_obj *objs = NULL;
	size_t nobj = 0, i, ncert = 0;

	memset(out, 0, sizeof *out);
	if (len == 0) {
		pem_seterr(err, errlen, "%s: empty file", what);
		return -1;
	}
	if (!pem_looks_like(d, len)) {
		/* DER: exactly one certificate */
		if ((out->ta = calloc(1, sizeof *out->ta)) == NULL) {
			pem_seterr(err, errlen, "%s: out of memory", what);
			return -1;
		}
		if (add_anchor(what, 0, d, len, &out->ta[0], &out->not_after, err,
		    errlen) == -1)
			goto fail;
		out->n = 1;
		return 0;
	}
	if (pem_decode(what, d, len, &objs, &nobj, err, errlen) == -1)
		goto fail;
	for (i = 0; i < nobj; i++)
		ncert += is_cert_label(objs[i].name);
	if (ncert == 0) {
		pem_seterr(err, errlen, "%s: no certificate found", what);
		goto fail;
	}
	if ((out->ta = calloc(ncert, sizeof *out->ta)) == NULL) {
		pem_seterr(err, errlen, "%s: out of memory", what);
		goto fail;
	}
	for (i = 0; i < nobj; i++) {
		if (!is_cert_label(objs[i].name))
			continue;	/* a stray key or CRL in a bundle is harmless */
		if (add_anchor(what, out->n, objs[i].data, objs[i].len,
		    &out->ta[out->n], &out->not_after, err, errlen) == -1)
			goto fail;
		out->n++;
	}
	pem_free(objs, nobj);
	return 0;
fail:
	pem_free(objs, nobj);
	anchors_free(out);
	return -1;
}

/* see anchors.h */
void
anchors_free(struct anchors *a)
{
	size_t i;

	if (a == NULL)
		return;
	if (a->ta != NULL) {
		for (i = 0; i < a->n; i++)
			free_anchor(&a->ta[i]);
		free(a->ta);
	}
	a->ta = NULL;
	a->n = 0;
	a->not_after = 0;
}

/* see anchors.h */
int
anchors_check_upload(const unsigned char *d, size_t len, char *err, size_t errlen)
{
	struct pem_obj *objs = NULL;
	struct anchors a;
	size_t nobj = 0, i;
	int n;

	if (len == 0) {
		pem_seterr(err, errlen, "empty upload");
		return -1;
	}
	if (memchr(d, '\0', len) != NULL) {
		pem_seterr(err, errlen, "not a PEM text file (contains NUL bytes)");
		return -1;
	}
	if (pem_decode("upload", d, len, &objs, &nobj, err, errlen) == -1)
		return -1;
	if (nobj == 0) {
		pem_seterr(err, errlen, "no PEM certificate found");
		return -1;
	}
	for (i = 0; i < nobj; i++)
		if (strcmp(objs[i].name, "CERTIFICATE") != 0) {
			pem_seterr(err, errlen, "only CERTIFICATE objects belong here, "
			    "found %.60s", objs[i].name);
			pem_free(objs, nobj);
			return -1;
		}
	pem_free(objs, nobj);
	if (anchors_decode("upload", d, len, &a, err, errlen) == -1)
		return -1;
	n = a.n > 0x7fffffff ? 0x7fffffff : (int)a.n;
	anchors_free(&a);
	return n;
}
