/* SPDX-License-Identifier: BSD-2-Clause */
/* tlv.c — BER-TLV walking over card replies. Pure: no allocation, no I/O; every
 * byte read is checked against `end` first, because the bytes come from the card. */
#include <stddef.h>
#include <stdint.h>

#include "core/tlv.h"

#define TLV_TAG_BYTES_MAX	3
#define TLV_LEN_BYTES_MAX	3

/* see tlv.h */
int
tlv_next(const uint8_t **p, const uint8_t *end, struct tlv *out)
{
	const uint8_t	*q = *p;
	uint32_t	 tag;
	size_t		 len, avail;
	int		 i, n;

	if (q >= end)
		return 0;

	tag = *q++;
	/*
	 * 0x00 and 0xFF are not valid first tag bytes (ISO 7816-4 5.2.2.1: padding);
	 * 0xFF has all tag-number bits set, and read by BER it would swallow the
	 * following bytes as a multi-byte tag. Keep both single-byte so that callers
	 * see padding as a tag of its own, as tlv.h promises.
	 */
	if ((tag & 0x1f) == 0x1f && tag != 0xff) {
		/* Subsequent tag bytes: bit 8 set means another one follows. */
		for (i = 1; ; i++) {
			if (i >= TLV_TAG_BYTES_MAX || q >= end)
				return -1;
			tag = (tag << 8) | *q;
			if ((*q++ & 0x80) == 0)
				break;
		}
	}

	if (q >= end)
		return -1;
	len = *q++;
	if (len & 0x80) {
		n = (int)(len & 0x7f);
		/* 0x80 is the indefinite form: not allowed in card replies. */
		if (n == 0 || n > TLV_LEN_BYTES_MAX)
			return -1;
		if ((size_t)(end - q) < (size_t)n)
			return -1;
		for (len = 0; n > 0; n--)
			len = (len << 8) | *q++;
	}

	avail = (size_t)(end - q);
	if (len > avail)
		return -1;

	out->tag = tag;
	out->val = q;
	out->len = len;
	*p = q + len;
	return 1;
}

/* see tlv.h */
int
tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out)
{
	const uint8_t	*p = buf, *end = buf + len;
	struct tlv	 t;
	int		 r;

	if (buf == NULL)
		return 0;
	while ((r = tlv_next(&p, end, &t)) == 1) {
		if (t.tag == tag) {
			*out = t;
			return 1;
		}
	}
	return r;
}
