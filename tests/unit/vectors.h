/* SPDX-License-Identifier: BSD-2-Clause */
/* vectors.h — helpers shared by the unit tests that read data-driven vectors from
 * tests/vectors/: hex decoding and line trimming. Test code only (static functions). */
#ifndef CARDUPD_TEST_VECTORS_H
#define CARDUPD_TEST_VECTORS_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#ifndef VECTORS_DIR
#define VECTORS_DIR "tests/vectors"
#endif

#define VEC_MAX	8192

static inline int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes hex (spaces and tabs allowed) into out; returns the byte count or -1. */
static inline long
unhex(const char *s, uint8_t *out, size_t max)
{
	size_t	n = 0;
	int	hi = -1, v;

	for (; *s != '\0'; s++) {
		if (*s == ' ' || *s == '\t')
			continue;
		if ((v = hexval((unsigned char)*s)) == -1)
			return -1;
		if (hi == -1) {
			hi = v;
			continue;
		}
		if (n >= max)
			return -1;
		out[n++] = (uint8_t)(hi << 4 | v);
		hi = -1;
	}
	return hi == -1 ? (long)n : -1;
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
