/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_card_id.c — libFuzzer target for everything that parses card replies: TLV
 * walking (flat and nested), the CPLC, CHUID and FASC-N decoders, and the whole APDU
 * sequence of card_read_identity() against a "card" whose answers are the input.
 * Seeds: tests/fuzz/seeds/fuzz_card_id/ (the test vectors, and whole card sessions).
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Idrivers -Ibuild \
 *       firmware/core/tlv.c firmware/core/card_id.c firmware/core/apdu.c tests/fuzz/fuzz_card_id.c
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/tlv.h"
#include "core/apdu.h"
#include "core/card_id.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NEST_MAX	8

/* Walks every TLV, descending into each value as if it were constructed. */
static void
walk(const uint8_t *p, const uint8_t *end, int depth)
{
	struct tlv	t;
	volatile size_t	sum = 0;

	while (tlv_next(&p, end, &t) == 1) {
		if (t.len > 0)		/* touch both ends: ASan checks the bounds */
			sum += t.val[0] + t.val[t.len - 1];
		if (depth < NEST_MAX)
			walk(t.val, t.val + t.len, depth + 1);
	}
	(void)sum;
}

/* The input, cut into replies: each starts with a length byte. */
struct feed {
	const uint8_t	*p, *end;
};

static int
fake_xmit(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *resp,
    size_t *rlen)
{
	struct feed	*f = ctx;
	size_t		 n;

	(void)cmd;
	(void)clen;
	if (f->p >= f->end)
		return -1;			/* card pulled */
	n = *f->p++;
	if (n == 0xff)
		return -1;			/* transport failure */
	if (n > (size_t)(f->end - f->p))
		n = (size_t)(f->end - f->p);
	if (n > *rlen)
		n = *rlen;
	memcpy(resp, f->p, n);
	f->p += n;
	*rlen = n;
	return 0;
}

static int
digits(const char *s, size_t n)
{
	size_t i;

	if (strlen(s) != n)
		return 0;
	for (i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* Decodes a FASC-N and checks the contract of card_decode_fascn(). */
static void
check_fascn(const uint8_t *raw)
{
	struct card_fascn f;

	if (card_decode_fascn(raw, &f) == -1) {
		if (f.error == NULL || f.agency[0] != '\0' || f.person[0] != '\0')
			abort();
		return;
	}
	if (f.error != NULL || !digits(f.agency, 4) || !digits(f.system, 4) ||
	    !digits(f.credential, 6) || !digits(f.series, 1) ||
	    !digits(f.issue, 1) || !digits(f.person, 10) ||
	    !digits(f.org_category, 1) || !digits(f.org_id, 4) ||
	    !digits(f.association, 1))
		abort();
}

static void
check_identity(const struct card_identity *id)
{
	char tag[9], hex[2 * CARD_CPLC_LEN + 1];

	card_log_tag(id, tag);
	if (strlen(tag) != 8)
		abort();
	if (id->has_expiry && strlen(id->expiry) != CARD_EXPIRY_LEN)
		abort();
	if (id->has_cplc)
		card_hex(id->cplc, CARD_CPLC_LEN, hex);
	if (!card_same(id, id))
		abort();
	if (id->has_fascn)
		check_fascn(id->fascn);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct card_identity	 id, copy;
	struct tlv		 t;
	struct feed		 f;
	const uint8_t		*p;

	/* Flat and nested walking; tlv_find on the tags we use. */
	walk(data, data + size, 0);
	(void)tlv_find(data, size, 0x53, &t);
	(void)tlv_find(data, size, 0x9f7f, &t);
	p = data;
	if (tlv_next(&p, data + size, &t) == -1 && p != data)
		abort();			/* *p must not move on error */

	/* The decoders, each on the whole input; "untouched on error". */
	memset(&id, 0xa5, sizeof(id));
	copy = id;
	if (card_parse_cplc(data, size, &id) == -1 &&
	    memcmp(&id, &copy, sizeof(id)) != 0)
		abort();
	memset(&id, 0, sizeof(id));
	if (card_parse_chuid(data, size, &id) == 0)
		check_identity(&id);
	else if (id.has_chuid)
		abort();

	/* The FASC-N decoder on the first 25 bytes (a vector seed is exactly that). */
	if (size >= CARD_FASCN_LEN)
		check_fascn(data);

	/* The APDU sequence, with the input as the card's replies. */
	memset(&id, 0, sizeof(id));
	id.atr_len = size < CARD_ATR_MAX ? size : CARD_ATR_MAX;
	memcpy(id.atr, data, id.atr_len);
	f.p = data;
	f.end = data + size;
	(void)card_read_identity(fake_xmit, &f, &id);
	check_identity(&id);
	return 0;
}
