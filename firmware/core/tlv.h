/* SPDX-License-Identifier: BSD-2-Clause */
/* tlv.h — BER-TLV walking for card replies (pure, no allocation).
 * Tags of 1-3 bytes, lengths in short form or long form of up to 3 length bytes
 * (0x81 xx, 0x82 xx xx, 0x83 xx xx xx). Every length is checked against the buffer. */
#ifndef CARDUPD_TLV_H
#define CARDUPD_TLV_H

#include <stddef.h>
#include <stdint.h>

struct tlv {
	uint32_t	 tag;	/* tag bytes big-endian, e.g. 0x5FC102 */
	const uint8_t	*val;	/* points into the caller's buffer */
	size_t		 len;
};

/* Reads the TLV at *p (p < end). On success stores it in *out, advances *p past the
 * value and returns 1. Returns 0 when *p == end (nothing left), -1 when the bytes are
 * malformed (tag or length running past end, length form 0x80 or > 3 bytes, a length
 * that exceeds the remaining buffer). *p is unchanged on -1. 0x00/0xFF padding is not
 * skipped: callers see it as a tag. */
int tlv_next(const uint8_t **p, const uint8_t *end, struct tlv *out);

/* Finds the first TLV with tag `tag` at the top level of buf[0..len). Returns 1 and
 * fills *out when found, 0 when absent, -1 when the buffer is malformed before the
 * tag is reached. */
int tlv_find(const uint8_t *buf, size_t len, uint32_t tag, struct tlv *out);

#endif
