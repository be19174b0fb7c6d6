/* SPDX-License-Identifier: BSD-2-Clause */
/* vectors.h — helpers shared by the unit tests that read data-driven vectors from
 * tests/vectors/: hex decoding (base/hex.h, blanks allowed) and line trimming. Test code
 * only (static functions). */
#ifndef CARDUPD_TEST_VECTORS_H
#define CARDUPD_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/hex.h"

#ifndef VECTORS_DIR
#define VECTORS_DIR "tests/vectors"
#endif

#define VEC_MAX	8192

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
