/* SPDX-License-Identifier: BSD-2-Clause */
/* card_id.c — a card's identity: decoders for CPLC and CHUID (pure), the APDU
 * sequence that reads them (through apdu_xmit_fn only), comparison and log tags. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "autoconf.h"
#include "base/hex.h"
#include "core/tlv.h"
#include "core/apdu.h"
#include "core/card_id.h"

#define TAG_CPLC	0x9f7fu
#define TAG_CHUID	0x53u
#define TAG_FASCN	0x30u
#define TAG_GUID	0x34u
#define TAG_EXPIRY	0x35u

#define SW_OK		0x9000

/*
 * The CPLC fields fixed when the chip is made: ICFabricator, ICType (offsets 0..4)
 * and ICSerialNumber, ICBatchIdentifier (12..18). The rest (perso dates, equipment
 * IDs) can be written at issuance, so a card being issued at the kiosk must not turn
 * into "another card" because of them.
 */
#define CPLC_CHIP_A_OFF	0
#define CPLC_CHIP_A_LEN	4
#define CPLC_CHIP_B_OFF	12
#define CPLC_CHIP_B_LEN	6

/* see card_id.h */
int
card_parse_cplc(const uint8_t *data, size_t len, struct card_identity *id)
{
	struct tlv	t;

	if (data == NULL)
		return -1;
	if (len == CARD_CPLC_LEN) {
		t.val = data;
		t.len = len;
	} else if (tlv_find(data, len, TAG_CPLC, &t) != 1)
		return -1;
	if (t.len != CARD_CPLC_LEN)
		return -1;
	memcpy(id->cplc, t.val, CARD_CPLC_LEN);
	id->has_cplc = 1;
	return 0;
}

static int
all_digits(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return 1;
}

/* see card_id.h */
int
card_parse_chuid(const uint8_t *data, size_t len, struct card_identity *id)
{
	const uint8_t	*p, *end;
	struct tlv	 outer, t;
	int		 fascn = 0, guid = 0, expiry = 0;

	if (data == NULL || len == 0)
		return -1;
	/* The object must start with its 53 tag: no guessing past leading bytes. */
	p = data;
	if (tlv_next(&p, data + len, &outer) != 1 || outer.tag != TAG_CHUID)
		return -1;

	/*
	 * Inside, walk until the end or the first malformed TLV. Fields read before
	 * garbage were complete and length-checked, so they are kept; whatever follows
	 * garbage cannot be framed and is treated as absent. The first occurrence of a
	 * tag wins: a second FASC-N is not allowed to override the first.
	 */
	p = outer.val;
	end = outer.val + outer.len;
	while (tlv_next(&p, end, &t) == 1) {
		switch (t.tag) {
		case TAG_FASCN:
			if (fascn == 0) {
				fascn = t.len == CARD_FASCN_LEN ? 1 : -1;
				if (fascn == 1)
					memcpy(id->fascn, t.val, CARD_FASCN_LEN);
			}
			break;
		case TAG_GUID:
			if (guid == 0) {
				guid = t.len == CARD_GUID_LEN ? 1 : -1;
				if (guid == 1)
					memcpy(id->guid, t.val, CARD_GUID_LEN);
			}
			break;
		case TAG_EXPIRY:
			if (expiry == 0) {
				expiry = t.len == CARD_EXPIRY_LEN &&
				    all_digits(t.val, t.len) ? 1 : -1;
				if (expiry == 1) {
					memcpy(id->expiry, t.val, CARD_EXPIRY_LEN);
					id->expiry[CARD_EXPIRY_LEN] = '\0';
				}
			}
			break;
		default:
			break;
		}
	}

	id->has_chuid = 1;
	id->has_fascn = fascn == 1;
	id->has_guid = guid == 1;
	id->has_expiry = expiry == 1;
	if (!id->has_fascn)
		memset(id->fascn, 0, sizeof(id->fascn));
	if (!id->has_guid)
		memset(id->guid, 0, sizeof(id->guid));
	if (!id->has_expiry)
		memset(id->expiry, 0, sizeof(id->expiry));
	return 0;
}

/* ---- FASC-N ---------------------------------------------------------------------- */

#define FASCN_CHARS	40
#define FASCN_SS	0xbu
#define FASCN_FS	0xdu
#define FASCN_ES	0xfu

/* Character i (0..39): 5 bits at bit offset 5*i, most significant bit first. */
static unsigned int
fascn_char(const uint8_t *raw, unsigned int i)
{
	unsigned int bit = 5 * i, byte = bit / 8, shift = bit % 8, w;

	/* Two bytes always hold the 5 bits; the last character ends the buffer. */
	w = (unsigned int)raw[byte] << 8;
	if (byte + 1 < CARD_FASCN_LEN)
		w |= raw[byte + 1];
	return (w >> (11 - shift)) & 0x1fu;
}

/* The 4 data bits (sent b1 first, so reversed in the 5-bit group) as a value. */
static unsigned int
fascn_value(unsigned int c)
{
	return (c >> 4 & 1u) | (c >> 2 & 2u) | (c & 4u) | (c << 2 & 8u);
}

static int
odd_parity(unsigned int c)
{
	unsigned int n = 0;

	for (; c != 0; c >>= 1)
		n += c & 1u;
	return n & 1u;
}

/* Copies characters [from, from+n) as digits into dst (n+1 bytes). */
static int
fascn_digits(const unsigned int *v, unsigned int from, unsigned int n,
    char *dst)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (v[from + i] > 9)
			return -1;
		dst[i] = (char)('0' + v[from + i]);
	}
	dst[n] = '\0';
	return 0;
}

/* see card_id.h */
int
card_decode_fascn(const uint8_t raw[CARD_FASCN_LEN], struct card_fascn *out)
{
	static const unsigned int fs_at[] = { 5, 10, 17, 19, 21 };
	unsigned int	v[FASCN_CHARS], lrc = 0, i, c;
	const char	*err = NULL;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < FASCN_CHARS; i++) {
		c = fascn_char(raw, i);
		if (!odd_parity(c)) {
			err = "parity";
			goto fail;
		}
		v[i] = fascn_value(c);
		if (i < FASCN_CHARS - 1)
			lrc ^= v[i];
	}
	if (v[0] != FASCN_SS) {
		err = "start sentinel";
		goto fail;
	}
	for (i = 0; i < sizeof(fs_at) / sizeof(fs_at[0]); i++)
		if (v[fs_at[i]] != FASCN_FS) {
			err = "field separator";
			goto fail;
		}
	if (v[38] != FASCN_ES) {
		err = "end sentinel";
		goto fail;
	}
	if (fascn_digits(v, 1, 4, out->agency) == -1 ||
	    fascn_digits(v, 6, 4, out->system) == -1 ||
	    fascn_digits(v, 11, 6, out->credential) == -1 ||
	    fascn_digits(v, 18, 1, out->series) == -1 ||
	    fascn_digits(v, 20, 1, out->issue) == -1 ||
	    fascn_digits(v, 22, 10, out->person) == -1 ||
	    fascn_digits(v, 32, 1, out->org_category) == -1 ||
	    fascn_digits(v, 33, 4, out->org_id) == -1 ||
	    fascn_digits(v, 37, 1, out->association) == -1) {
		err = "digit";
		goto fail;
	}
	if (v[39] != lrc) {
		err = "LRC";
		goto fail;
	}
	out->no_credential = strcmp(out->agency, "9999") == 0 &&
	    strcmp(out->system, "9999") == 0 &&
	    strcmp(out->credential, "999999") == 0;
	explicit_bzero(v, sizeof(v));
	return 0;

 fail:
	explicit_bzero(v, sizeof(v));
	memset(out, 0, sizeof(*out));
	out->error = err;
	return -1;
}

/* SPEC §1 commands. */
static const uint8_t apdu_select_piv[] = { 0x00, 0xa4, 0x04, 0x00, 0x09,
    0xa0, 0x00, 0x00, 0x03, 0x08, 0x00, 0x00, 0x10, 0x00, 0x00 };
static const uint8_t apdu_get_chuid[] = { 0x00, 0xcb, 0x3f, 0xff, 0x05,
    0x5c, 0x03, 0x5f, 0xc1, 0x02, 0x00 };

#ifdef CONFIG_CARD_READ_CPLC
static const uint8_t apdu_get_cplc[] = { 0x80, 0xca, 0x9f, 0x7f, 0x00 };
static const uint8_t apdu_select_cm[] = { 0x00, 0xa4, 0x04, 0x00, 0x00 };

/* The answers of a card whose GET DATA 9F7F belongs to the card manager. */
static int
cplc_needs_cm(uint16_t sw)
{
	return sw == 0x6a88 || sw == 0x6a82 || sw == 0x6d00 || sw == 0x6e00;
}

static int
read_cplc(apdu_xmit_fn xmit, void *ctx, struct card_identity *id,
    uint8_t *buf, size_t bufsz)
{
	size_t		n;
	uint16_t	sw;

	if (apdu_transceive(xmit, ctx, apdu_get_cplc, sizeof(apdu_get_cplc),
	    buf, bufsz, &n, &sw) == -1)
		return -1;
	if (cplc_needs_cm(sw)) {
		/* Whatever the SELECT answers, the retry tells whether it helped. */
		if (apdu_transceive(xmit, ctx, apdu_select_cm,
		    sizeof(apdu_select_cm), buf, bufsz, &n, &sw) == -1)
			return -1;
		if (apdu_transceive(xmit, ctx, apdu_get_cplc,
		    sizeof(apdu_get_cplc), buf, bufsz, &n, &sw) == -1)
			return -1;
	}
	if (sw == SW_OK)
		(void)card_parse_cplc(buf, n, id);	/* malformed: stays absent */
	return 0;
}
#endif

static int
read_chuid(apdu_xmit_fn xmit, void *ctx, struct card_identity *id,
    uint8_t *buf, size_t bufsz)
{
	size_t		n;
	uint16_t	sw;

	if (apdu_transceive(xmit, ctx, apdu_select_piv, sizeof(apdu_select_piv),
	    buf, bufsz, &n, &sw) == -1)
		return -1;
	if (sw != SW_OK)
		return 0;		/* no PIV application: not an error */
	if (apdu_transceive(xmit, ctx, apdu_get_chuid, sizeof(apdu_get_chuid),
	    buf, bufsz, &n, &sw) == -1)
		return -1;
	if (sw == SW_OK)
		(void)card_parse_chuid(buf, n, id);
	return 0;
}

/* see card_id.h */
int
card_read_identity(apdu_xmit_fn xmit, void *ctx, struct card_identity *id)
{
	uint8_t	buf[APDU_DATA_MAX];

	/* Only the ATR is an input: whatever a previous read left must not survive. */
	id->has_cplc = 0;
	memset(id->cplc, 0, sizeof(id->cplc));
	id->has_chuid = id->has_fascn = id->has_guid = id->has_expiry = 0;
	memset(id->fascn, 0, sizeof(id->fascn));
	memset(id->guid, 0, sizeof(id->guid));
	memset(id->expiry, 0, sizeof(id->expiry));

#ifdef CONFIG_CARD_READ_CPLC
	if (read_cplc(xmit, ctx, id, buf, sizeof(buf)) == -1)
		return -1;
#endif
	if (read_chuid(xmit, ctx, id, buf, sizeof(buf)) == -1)
		return -1;
	return 0;
}

/* see card_id.h */
char *
card_hex(const uint8_t *buf, size_t len, char *out)
{
	return hex_encode(buf, len, out, 0);
}

static int
all_zero(const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

/*
 * Older PIV cards carry a GUID of all zeros ("not used"): it names no card, so it
 * is skipped both for comparison and for the log tag.
 */
static int
guid_usable(const struct card_identity *id)
{
	return id->has_guid && !all_zero(id->guid, CARD_GUID_LEN);
}

static int
cplc_chip_equal(const struct card_identity *a, const struct card_identity *b)
{
	return memcmp(a->cplc + CPLC_CHIP_A_OFF, b->cplc + CPLC_CHIP_A_OFF,
	    CPLC_CHIP_A_LEN) == 0 &&
	    memcmp(a->cplc + CPLC_CHIP_B_OFF, b->cplc + CPLC_CHIP_B_OFF,
	    CPLC_CHIP_B_LEN) == 0;
}

#define FNV32_OFFSET	0x811c9dc5u
#define FNV32_PRIME	0x01000193u

static uint32_t
fnv1a(uint32_t h, const uint8_t *b, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= b[i];
		h *= FNV32_PRIME;
	}
	return h;
}

/* see card_id.h */
void
card_log_tag(const struct card_identity *id, char out[9])
{
	uint32_t	h = FNV32_OFFSET;
	uint8_t		kind, be[4];

	/* The kind byte keeps, say, a GUID from colliding with an ATR of the same bytes. */
	if (id->has_cplc) {
		kind = 'C';
		h = fnv1a(h, &kind, 1);
		h = fnv1a(h, id->cplc + CPLC_CHIP_A_OFF, CPLC_CHIP_A_LEN);
		h = fnv1a(h, id->cplc + CPLC_CHIP_B_OFF, CPLC_CHIP_B_LEN);
	} else if (guid_usable(id)) {
		kind = 'G';
		h = fnv1a(h, &kind, 1);
		h = fnv1a(h, id->guid, CARD_GUID_LEN);
	} else if (id->has_fascn) {
		kind = 'F';
		h = fnv1a(h, &kind, 1);
		h = fnv1a(h, id->fascn, CARD_FASCN_LEN);
	} else {
		kind = 'A';
		h = fnv1a(h, &kind, 1);
		h = fnv1a(h, id->atr,
		    id->atr_len <= CARD_ATR_MAX ? id->atr_len : CARD_ATR_MAX);
	}
	be[0] = (uint8_t)(h >> 24);
	be[1] = (uint8_t)(h >> 16);
	be[2] = (uint8_t)(h >> 8);
	be[3] = (uint8_t)h;
	card_hex(be, sizeof(be), out);
}

/* see card_id.h */
int
card_same(const struct card_identity *a, const struct card_identity *b)
{
	if (a->has_cplc && b->has_cplc)
		return cplc_chip_equal(a, b);
	if (guid_usable(a) && guid_usable(b))
		return memcmp(a->guid, b->guid, CARD_GUID_LEN) == 0;
	if (a->has_fascn && b->has_fascn)
		return memcmp(a->fascn, b->fascn, CARD_FASCN_LEN) == 0;
	if (a->atr_len > CARD_ATR_MAX || a->atr_len != b->atr_len)
		return 0;
	return memcmp(a->atr, b->atr, a->atr_len) == 0;
}
