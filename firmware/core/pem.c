/* SPDX-License-Identifier: BSD-2-Clause */
/* pem.c — see pem.h. BearSSL's PEM decoder only lends pointers into its own context:
 * everything returned here is copied into owned, wipeable memory. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bearssl.h>

#include "core/pem.h"

/* see pem.h */
void
pem_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* see pem.h */
void
pem_buf_append(void *ctx, const void *data, size_t len)
{
	struct pem_buf *b = ctx;
	unsigned char *np;
	size_t ncap;

	if (b->oom)
		return;
	if (len > b->cap - b->len) {
		if (len > PEM_INPUT_MAX || b->len > PEM_INPUT_MAX - len) {
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

/* see pem.h */
void
pem_buf_free(struct pem_buf *b)
{
	if (b->p != NULL) {
		explicit_bzero(b->p, b->cap);
		free(b->p);
	}
	memset(b, 0, sizeof *b);
}

/* see pem.h */
int
pem_looks_like(const unsigned char *d, size_t len)
{
	return memmem(d, len, "-----BEGIN ", 11) != NULL;
}

/* see pem.h */
int
pem_decode(const char *what, const unsigned char *d, size_t len,
    struct pem_obj **objs, size_t *n, char *err, size_t errlen)
{
	br_pem_decoder_context pc;
	struct pem_obj *v = NULL, *nv;
	struct pem_buf cur = { 0 };
	size_t nv_len = 0, off = 0;
	int inobj = 0, flushed = 0;

	*objs = NULL;
	*n = 0;
	if (len > PEM_INPUT_MAX) {
		pem_seterr(err, errlen, "%s: larger than 1 MiB", what);
		return -1;
	}
	if (!pem_looks_like(d, len))
		return 0;
	br_pem_decoder_init(&pc);
	/* the decoder only finishes the last line at a newline: feed one at the end */
	while (off < len || !flushed) {
		if (off < len)
			off += br_pem_decoder_push(&pc, d + off, len - off);
		else {
			(void)br_pem_decoder_push(&pc, "\n", 1);
			flushed = 1;
		}
		switch (br_pem_decoder_event(&pc)) {
		case 0:
			break;
		case BR_PEM_BEGIN_OBJ:
			pem_buf_free(&cur);
			br_pem_decoder_setdest(&pc, pem_buf_append, &cur);
			inobj = 1;
			break;
		case BR_PEM_END_OBJ:
			if (!inobj)
				break;
			inobj = 0;
			if (cur.oom) {
				pem_seterr(err, errlen, "%s: PEM object too large or out of "
				    "memory", what);
				goto fail;
			}
			if ((nv = realloc(v, (nv_len + 1) * sizeof *v)) == NULL) {
				pem_seterr(err, errlen, "%s: out of memory", what);
				goto fail;
			}
			v = nv;
			memset(&v[nv_len], 0, sizeof v[nv_len]);
			(void)snprintf(v[nv_len].name, sizeof v[nv_len].name, "%s",
			    br_pem_decoder_name(&pc));
			v[nv_len].data = cur.p;		/* ownership moves */
			v[nv_len].len = cur.len;
			nv_len++;
			memset(&cur, 0, sizeof cur);
			break;
		case BR_PEM_ERROR:
		default:
			pem_seterr(err, errlen, "%s: malformed PEM (after byte %zu)", what,
			    off);
			goto fail;
		}
	}
	if (inobj) {
		pem_seterr(err, errlen, "%s: truncated PEM object (no END line)", what);
		goto fail;
	}
	pem_buf_free(&cur);
	explicit_bzero(&pc, sizeof pc);
	*objs = v;
	*n = nv_len;
	return 0;
fail:
	pem_buf_free(&cur);
	explicit_bzero(&pc, sizeof pc);
	pem_free(v, nv_len);
	return -1;
}

/* see pem.h */
void
pem_free(struct pem_obj *objs, size_t n)
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
