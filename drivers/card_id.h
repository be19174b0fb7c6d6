/* card_id.h — a card's identity (SPEC §1): ATR, GlobalPlatform CPLC, PIV CHUID.
 * Decoders are pure; card_read_identity() drives the APDUs through apdu.h. */
#ifndef CARDUPD_CARD_ID_H
#define CARDUPD_CARD_ID_H

#include <stddef.h>
#include <stdint.h>
#include "apdu.h"

#define CARD_ATR_MAX	33
#define CARD_CPLC_LEN	42
#define CARD_FASCN_LEN	25
#define CARD_GUID_LEN	16
#define CARD_EXPIRY_LEN	8

struct card_identity {
	uint8_t		atr[CARD_ATR_MAX];
	size_t		atr_len;
	int		has_cplc;
	uint8_t		cplc[CARD_CPLC_LEN];
	int		has_chuid;		/* a CHUID object was found */
	int		has_fascn;
	uint8_t		fascn[CARD_FASCN_LEN];
	int		has_guid;
	uint8_t		guid[CARD_GUID_LEN];
	int		has_expiry;
	char		expiry[CARD_EXPIRY_LEN + 1];	/* "YYYYMMDD", digits checked */
};

/* Decodes a GET DATA 9F7F reply body (without SW): "9F 7F 2A" + 42 bytes (a bare
 * 42-byte body is accepted too). Sets has_cplc and cplc on success and returns 0;
 * returns -1 and leaves id untouched when malformed. */
int card_parse_cplc(const uint8_t *data, size_t len, struct card_identity *id);

/* Decodes a PIV GET DATA 5FC102 reply body (without SW): 53 L { 30 FASC-N(25),
 * 34 GUID(16), 35 expiry(8), ... }. Sub-fields that are missing or of the wrong size
 * are recorded as absent. Returns 0 when the outer 53 object is well formed (has_chuid
 * set), -1 otherwise (id untouched). */
int card_parse_chuid(const uint8_t *data, size_t len, struct card_identity *id);

/* Reads CPLC and CHUID with the SPEC §1 APDUs through xmit. The ATR must already be in
 * id. A part that is missing or malformed is left absent; only a transport failure
 * (card pulled, reader gone) makes it return -1. Returns 0 otherwise. */
int card_read_identity(apdu_xmit_fn xmit, void *ctx, struct card_identity *id);

/* Writes lowercase hex of buf[0..len) into out (2*len+1 bytes). Returns out. */
char *card_hex(const uint8_t *buf, size_t len, char *out);

/* A short, non-reversible tag for logs: 8 hex chars of a hash over the identity
 * (CPLC serial, GUID, FASC-N or ATR). Never log the full identifiers. out: 9 bytes. */
void card_log_tag(const struct card_identity *id, char out[9]);

/* 1 when a and b are the same card (same identifiers that both have), else 0. */
int card_same(const struct card_identity *a, const struct card_identity *b);

#endif
