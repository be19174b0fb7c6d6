/* SPDX-License-Identifier: BSD-2-Clause */
/* hex.h — the one hexadecimal codec: bytes to hex text (either case) and back. Pure;
 * owns no state and no memory (callers size the buffers). */
#ifndef CARDUPD_HEX_H
#define CARDUPD_HEX_H

#include <stddef.h>
#include <stdint.h>

/* The value of one hex digit ('0'-'9', 'a'-'f', 'A'-'F'), or -1 for anything else. */
int hex_value(int c);

/* Writes the len bytes at buf as 2 * len hex digits (upper case when upper) and a NUL
 * into out, which holds at least 2 * len + 1 chars. Returns out. */
char *hex_encode(const void *buf, size_t len, char *out, int upper);

/* Decodes the n hex digits at s (either case; no separators, no prefix) into out of
 * cap bytes. Returns the byte count n / 2, or -1 when n is odd, a character is not a
 * hex digit, or n / 2 > cap (out may then be partly written). */
long hex_decode(const char *s, size_t n, uint8_t *out, size_t cap);

#endif
