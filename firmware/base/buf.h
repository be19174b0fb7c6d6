/* SPDX-License-Identifier: BSD-2-Clause */
/* buf.h — the one growing text buffer (documents written piece by piece: the kiosk
 * state, the Prometheus text, the settings file). Appends never fail midway: the first
 * allocation failure sticks (oom) and later appends do nothing, so the caller checks once,
 * at buf_take. The text is NUL-terminated after every append. */
#ifndef CARDUPD_BUF_H
#define CARDUPD_BUF_H

#include <stddef.h>

struct buf {
	char	*p;		/* NULL until the first append */
	size_t	 len, cap;
	int	 oom;
};

#define BUF_INIT	{ NULL, 0, 0, 0 }

/* Appends the n bytes at s. */
void buf_put(struct buf *b, const void *s, size_t n);

/* Appends the string s. */
void buf_puts(struct buf *b, const char *s);

/* Appends printf-formatted text. */
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hands the text over (malloc'd, the caller frees it; "" when nothing was appended) and
 * stores its length in *len when len != NULL. NULL after an allocation failure (the
 * buffer is then freed). Either way b is empty again. */
char *buf_take(struct buf *b, size_t *len);

#endif
