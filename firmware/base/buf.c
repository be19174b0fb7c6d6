/* SPDX-License-Identifier: BSD-2-Clause */
/* buf.c — see buf.h. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

/* Room for n more bytes and the NUL: 0, or -1 (oom set). */
static int
reserve(struct buf *b, size_t n)
{
	size_t cap = b->cap ? b->cap : 1024;
	char *np;

	if (b->oom)
		return -1;
	if (b->len + n + 1 <= b->cap)
		return 0;
	while (cap < b->len + n + 1)
		cap *= 2;
	if ((np = realloc(b->p, cap)) == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = cap;
	return 0;
}

/* see buf.h */
void
buf_put(struct buf *b, const void *s, size_t n)
{
	if (reserve(b, n) == -1)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

/* see buf.h */
void
buf_puts(struct buf *b, const char *s)
{
	buf_put(b, s, strlen(s));
}

/* see buf.h */
void
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (reserve(b, 0) == -1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->p[b->len] = '\0';
		b->oom = 1;
		return;
	}
	if ((size_t)n >= b->cap - b->len) {	/* did not fit: once more with room */
		if (reserve(b, (size_t)n) == -1) {
			b->p[b->len] = '\0';
			return;
		}
		va_start(ap, fmt);
		vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	b->len += (size_t)n;
}

/* see buf.h */
char *
buf_take(struct buf *b, size_t *len)
{
	char *p = b->p;

	if (!b->oom && p == NULL && reserve(b, 0) == 0) {
		p = b->p;
		p[0] = '\0';
	}
	if (b->oom) {
		free(b->p);
		p = NULL;
	}
	if (len != NULL)
		*len = p != NULL ? b->len : 0;
	b->p = NULL;
	b->len = b->cap = 0;
	b->oom = 0;
	return p;
}
