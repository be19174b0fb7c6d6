/* SPDX-License-Identifier: BSD-2-Clause */
/* hex.c — see hex.h. */
#include "base/hex.h"

/* see hex.h */
int
hex_value(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* see hex.h */
char *
hex_encode(const void *buf, size_t len, char *out, int upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	const uint8_t *b = buf;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 0x0f];
	}
	out[2 * len] = '\0';
	return out;
}

/* see hex.h */
long
hex_decode(const char *s, size_t n, uint8_t *out, size_t cap)
{
	if (n % 2 != 0 || n / 2 > cap || n / 2 > (size_t)0x7fffffff)
		return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hex_value((unsigned char)s[i]), lo = hex_value((unsigned char)s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}
