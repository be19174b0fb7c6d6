/* SPDX-License-Identifier: BSD-2-Clause */
/* vectors.h — helpers shared by the unit tests that read data-driven vectors from
 * tests/vectors/: hex decoding (base/hex.h, blanks allowed) and line trimming. Test code
 * only (static functions). */
#ifndef CARDUPD_TEST_VECTORS_H
#define CARDUPD_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"
#include "core/pem.h"

#ifndef VECTORS_DIR
#define VECTORS_DIR "tests/vectors"
#endif

#define VEC_MAX	8192

static inline char *vec_slurp(const char *name, size_t *len);

/* The PEM objects of the vector file name (pem_decode; *n of them), or NULL when it
 * cannot be read or decoded. The caller frees with pem_free. */
static inline struct pem_obj *
vec_pem(const char *name, size_t *n)
{
	struct pem_obj *o = NULL;
	char err[200];
	size_t len;
	char *pem = vec_slurp(name, &len);

	*n = 0;
	if (pem != NULL && pem_decode(name, (unsigned char *)pem, len, &o, n, err,
	    sizeof err) == -1)
		o = NULL;
	free(pem);
	return o;
}

/* The whole file VECTORS_DIR/name, NUL-terminated (*len without the NUL), or NULL. The
 * caller frees it. */
static inline char *
vec_slurp(const char *name, size_t *len)
{
	char path[512], *p = NULL;
	FILE *f;
	long n;

	*len = 0;
	snprintf(path, sizeof path, "%s/%s", VECTORS_DIR, name);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
	    (p = malloc((size_t)n + 1)) != NULL) {
		if (fread(p, 1, (size_t)n, f) == (size_t)n) {
			p[n] = '\0';
			*len = (size_t)n;
		} else {
			free(p);
			p = NULL;
		}
	}
	fclose(f);
	return p;
}

/* Decodes hex with blanks (spaces, tabs) anywhere between the digits into out: the
 * blanks dropped, then base/hex's one decoder. Returns the byte count or -1. */
static inline long
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t	n = 0;
	char	*digits = malloc(strlen(s) + 1);
	long	r;

	if (digits == NULL)
		return -1;
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t')
			digits[n++] = *s;
	r = hex_decode(digits, n, out, max);
	free(digits);
	return r;
}

/* Strips blanks and line ends at both ends, in place. */
static inline char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' ||
	    e[-1] == '\r'))
		*--e = '\0';
	return s;
}

#endif
