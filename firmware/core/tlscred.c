/* SPDX-License-Identifier: BSD-2-Clause */
/* tlscred.c — see tlscred.h. BearSSL's key decoder lends pointers into its context:
 * the key is copied into one owned buffer and the context wiped. */
#include <stdlib.h>
#include <string.h>

#include "core/pem.h"
#include "core/tlscred.h"

static int
load_chain(struct tlscred *c, const char *what, const unsigned char *d, size_t len,
    char *err, size_t errlen)
{
	struct pem_obj *o;
	br_x509_decoder_context dc;
	size_t n, i;

	if (pem_decode(what, d, len, &o, &n, err, errlen) == -1)
		return -1;
	if ((c->chain = calloc(n ? n : 1, sizeof *c->chain)) == NULL) {
		pem_free(o, n);
		pem_seterr(err, errlen, "%s: out of memory", what);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(o[i].name, "CERTIFICATE") != 0 &&
		    strcmp(o[i].name, "X509 CERTIFICATE") != 0)
			continue;
		c->chain[c->chain_len].data = o[i].data;	/* ownership moves */
		c->chain[c->chain_len].data_len = o[i].len;
		c->chain_len++;
		o[i].data = NULL;
	}
	pem_free(o, n);
	if (c->chain_len == 0) {
		pem_seterr(err, errlen, "%s: no certificate found", what);
		return -1;
	}
	/* static ECDH needs to know who signed our certificate (TLS 1.0/1.1 only) */
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
	if (br_x509_decoder_get_pkey(&dc) == NULL) {
		pem_seterr(err, errlen, "%s: cannot decode the client certificate "
		    "(BearSSL error %d)", what, br_x509_decoder_last_error(&dc));
		return -1;
	}
	c->issuer_key_type = (unsigned)br_x509_decoder_get_signer_key_type(&dc);
	return 0;
}

static int
load_key(struct tlscred *c, const char *what, const unsigned char *d, size_t len,
    char *err, size_t errlen)
{
	struct pem_obj *o;
	br_skey_decoder_context kd;
	const br_rsa_private_key *rk;
	const br_ec_private_key *ek;
	size_t n, i, klen;
	unsigned char *m;
	int found = 0, r = -1;

	if (pem_decode(what, d, len, &o, &n, err, errlen) == -1)
		return -1;
	br_skey_decoder_init(&kd);
	for (i = 0; i < n && !found; i++) {
		if (strcmp(o[i].name, "PRIVATE KEY") == 0 ||
		    strcmp(o[i].name, "RSA PRIVATE KEY") == 0 ||
		    strcmp(o[i].name, "EC PRIVATE KEY") == 0) {
			br_skey_decoder_push(&kd, o[i].data, o[i].len);
			found = 1;
		}
	}
	if (!found) {
		pem_seterr(err, errlen, "%s: no private key found (PEM PRIVATE KEY, RSA "
		    "PRIVATE KEY or EC PRIVATE KEY)", what);
		goto out;
	}
	if (br_skey_decoder_last_error(&kd) != 0) {
		pem_seterr(err, errlen, "%s: cannot decode the private key (BearSSL error "
		    "%d; encrypted keys are not supported)", what,
		    br_skey_decoder_last_error(&kd));
		goto out;
	}
	switch (br_skey_decoder_key_type(&kd)) {
	case BR_KEYTYPE_RSA:
		rk = br_skey_decoder_get_rsa(&kd);
		klen = rk->plen + rk->qlen + rk->dplen + rk->dqlen + rk->iqlen;
		if ((m = malloc(klen)) == NULL)
			break;
		c->rsa.n_bitlen = rk->n_bitlen;
		c->rsa.p = m;
		memcpy(m, rk->p, c->rsa.plen = rk->plen);
		c->rsa.q = m += rk->plen;
		memcpy(m, rk->q, c->rsa.qlen = rk->qlen);
		c->rsa.dp = m += rk->qlen;
		memcpy(m, rk->dp, c->rsa.dplen = rk->dplen);
		c->rsa.dq = m += rk->dplen;
		memcpy(m, rk->dq, c->rsa.dqlen = rk->dqlen);
		c->rsa.iq = m += rk->dqlen;
		memcpy(m, rk->iq, c->rsa.iqlen = rk->iqlen);
		c->key_mem = c->rsa.p;
		c->key_mem_len = klen;
		c->key_type = BR_KEYTYPE_RSA;
		r = 0;
		break;
	case BR_KEYTYPE_EC:
		ek = br_skey_decoder_get_ec(&kd);
		if ((m = malloc(ek->xlen)) == NULL)
			break;
		memcpy(m, ek->x, ek->xlen);
		c->ec.curve = ek->curve;
		c->ec.x = m;
		c->ec.xlen = ek->xlen;
		c->key_mem = m;
		c->key_mem_len = ek->xlen;
		c->key_type = BR_KEYTYPE_EC;
		r = 0;
		break;
	default:
		pem_seterr(err, errlen, "%s: unsupported private key type", what);
		goto out;
	}
	if (r == -1)
		pem_seterr(err, errlen, "%s: out of memory", what);
out:
	explicit_bzero(&kd, sizeof kd);
	pem_free(o, n);
	return r;
}

/* see tlscred.h */
int
tlscred_decode(const char *cert_what, const unsigned char *cert, size_t cert_len,
    const char *key_what, const unsigned char *key, size_t key_len,
    struct tlscred *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof *out);
	if (load_chain(out, cert_what, cert, cert_len, err, errlen) == -1 ||
	    load_key(out, key_what, key, key_len, err, errlen) == -1) {
		tlscred_free(out);
		return -1;
	}
	return 0;
}

/* see tlscred.h */
void
tlscred_free(struct tlscred *c)
{
	size_t i;

	if (c == NULL)
		return;
	if (c->key_mem != NULL) {
		explicit_bzero(c->key_mem, c->key_mem_len);
		free(c->key_mem);
	}
	for (i = 0; i < c->chain_len; i++)
		free(c->chain[i].data);
	free(c->chain);
	explicit_bzero(c, sizeof *c);
}
