/* SPDX-License-Identifier: BSD-2-Clause */
/* card_id.h — a card's identity (SPEC §1): ATR, GlobalPlatform CPLC, PIV CHUID.
 * Decoders are pure; card_read_identity() drives the APDUs through apdu.h. */
#ifndef CARDUPD_CARD_ID_H
#define CARDUPD_CARD_ID_H

#include <stddef.h>
#include <stdint.h>
#include "core/apdu.h"

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

/*
 * A FASC-N decoded (SP 800-73-4 Part 1 §3.1.2, TIG SCEPACS 2.3): 25 bytes are 40
 * characters of 5 bits (4 data bits least significant first, then an odd parity
 * bit), read most significant bit of byte 0 first:
 *
 *   SS AAAA FS SSSS FS CCCCCC FS S FS I FS PPPPPPPPPP O OOOO A ES LRC
 *
 * SS start sentinel (0xB), FS field separator (0xD), ES end sentinel (0xF), LRC the
 * XOR of the 4 data bits of the 39 characters before it; every field character is a
 * digit 0-9. Fields are kept as NUL-terminated digit strings (leading zeros matter).
 * Together they name a person: log none of them in full (agency and system codes
 * name the issuer, not the holder).
 */
struct card_fascn {
	char		 agency[5];	/* Agency Code */
	char		 system[5];	/* System Code (site) */
	char		 credential[7];	/* Credential Number */
	char		 series[2];	/* Credential Series (CS) */
	char		 issue[2];	/* Individual Credential Issue (ICI) */
	char		 person[11];	/* Person Identifier (PI) */
	char		 org_category[2];	/* OC: 1 federal, 2 state, 3 commercial,
					 * 4 foreign government */
	char		 org_id[5];	/* Organizational Identifier (OI) */
	char		 association[2];	/* Person/Organization Association (POA):
					 * 1 employee, 2 civil, 3 executive staff,
					 * 4 uniformed service, 5 contractor,
					 * 6 affiliate, 7 beneficiary */
	/* 1 for agency 9999, system 9999, credential 999999: the FASC-N of a card
	 * from a non-federal issuer (PIV-I), which names no credential (the GUID
	 * does). */
	int		 no_credential;
	/* On failure: what was wrong, a static string ("parity", "start sentinel",
	 * "field separator", "end sentinel", "digit", "LRC"); NULL on success. */
	const char	*error;
};

/* Decodes and checks a raw FASC-N: the parity of all 40 characters, the sentinels,
 * the five separators, digits in every field and the LRC. Returns 0 with out filled,
 * or -1 with out zeroed except out->error. Pure; raw is not kept. */
int card_decode_fascn(const uint8_t raw[CARD_FASCN_LEN], struct card_fascn *out);

/* Writes lowercase hex of buf[0..len) into out (2*len+1 bytes). Returns out. */
char *card_hex(const uint8_t *buf, size_t len, char *out);

/* A short, non-reversible tag for logs: 8 hex chars of a hash over the identity
 * (CPLC serial, GUID, FASC-N or ATR). Never log the full identifiers. out: 9 bytes. */
void card_log_tag(const struct card_identity *id, char out[9]);

/* 1 when a and b are the same card (same identifiers that both have), else 0. */
int card_same(const struct card_identity *a, const struct card_identity *b);

#endif
