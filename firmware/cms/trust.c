/* SPDX-License-Identifier: BSD-2-Clause */
/* trust.c — see trust.h: a file read and a call into core/anchors.c or core/pem.c. */
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "core/anchors.h"
#include "core/pem.h"
#include "cms/trust.h"

/* see trust.h */
int
trust_load(const char *path, struct trust_anchors *out, char *err, size_t errlen)
{
	struct file_buf fb;
	struct anchors a;
	int r;

	memset(out, 0, sizeof *out);
	if (path == NULL || *path == '\0') {
		pem_seterr(err, errlen, "no trust anchor file configured");
		return -1;
	}
	if (file_read(path, PEM_INPUT_MAX, FILE_NONEMPTY, &fb, err, errlen) == -1)
		return -1;
	r = anchors_decode(path, (const unsigned char *)fb.p, fb.len, &a, err, errlen);
	file_free(&fb);
	if (r == 0) {
		out->ta = a.ta;		/* ownership moves */
		out->n = a.n;
		out->not_after = a.not_after;
	}
	return r;
}

/* see trust.h */
void
trust_free(struct trust_anchors *ta)
{
	struct anchors a;

	if (ta == NULL)
		return;
	a.ta = ta->ta;
	a.n = ta->n;
	anchors_free(&a);
	ta->ta = NULL;
	ta->n = 0;
	ta->not_after = 0;
}

/* see trust.h */
int
trust_pem_read(const char *path, struct pem_obj **objs, size_t *n, char *err,
    size_t errlen)
{
	struct file_buf fb;
	int r;

	*objs = NULL;
	*n = 0;
	if (file_read(path, PEM_INPUT_MAX, FILE_SECRET | FILE_NONEMPTY, &fb, err,
	    errlen) == -1)
		return -1;
	r = pem_decode(path, (const unsigned char *)fb.p, fb.len, objs, n, err, errlen);
	file_free(&fb);
	if (r == -1) {			/* pem_decode allocated nothing */
		*objs = NULL;
		*n = 0;
	} else if (*n == 0) {		/* no PEM at all: an empty list, as documented */
		pem_free(*objs, 0);
		*objs = NULL;
	}
	return r;
}
