/* SPDX-License-Identifier: BSD-2-Clause */
/* seram.h — the GlobalPlatform SERAM HTTP REST binding 2.0.0 messages (SPEC §7), as the
 * local agent: the handshake command, the orders the remote agent sends, and the reports
 * cardupd answers with. Pure: bytes in, values out; every list and string bounded. */
#ifndef CARDUPD_SERAM_H
#define CARDUPD_SERAM_H

#include <stddef.h>
#include <stdint.h>
#include "autoconf.h"

#define SERAM_MAX_COMMANDS	16	/* ramCommands in one order */
#define SERAM_MAX_CAPDUS	64	/* listOfCAPDU in one seRamCommand */
#define SERAM_APDU_MAX		(5 + 255 + 1)	/* a short C-APDU: no extended length */
#define SERAM_RAPDU_MAX		(2048 + 2)	/* 61xx chains reassembled */
#define SERAM_NOTE_MAX		200
#define SERAM_ORDER_MAX_BYTES	(256 * 1024)
#define SERAM_DEFAULT_DELAY_MS	1000	/* the binding text's default, not the schema's */
#define SERAM_MAX_DELAY_MS	30000

enum seram_cmd_type {
	SERAM_CMD_START, SERAM_CMD_SE_RAM, SERAM_CMD_NOTIFY, SERAM_CMD_STOP,
};

struct seram_capdu {
	uint8_t		bytes[SERAM_APDU_MAX];
	size_t		len;
};

struct seram_cmd {
	enum seram_cmd_type	 type;
	size_t			 n_capdu;	/* SE_RAM */
	struct seram_capdu	*capdu;		/* points into seram_order.pool */
	char			 note[SERAM_NOTE_MAX];	/* NOTIFY, control chars replaced */
};

struct seram_order {
	long			delay_ms;	/* default SERAM_DEFAULT_DELAY_MS */
	int			has_chosen_se;
	char			chosen_se_id[64];
	size_t			n_cmds;
	struct seram_cmd	cmds[SERAM_MAX_COMMANDS];
	size_t			n_pool;
	struct seram_capdu	pool[SERAM_MAX_CAPDUS];	/* C-APDUs of all commands */
};

/* Parses an order (HTTP 200 body). Accepts both spellings of the commands
 * ("ramStartCommand"/"startCommand", "ramStopCommand"/"stopCommand"). Rejects
 * (returns -1 with a reason in err) anything not JSON of the schema's shape: unknown
 * command types, an seRamCommand without listOfCAPDU, APDUs that are not even-length
 * hex of 4..SERAM_APDU_MAX bytes, more than SERAM_MAX_COMMANDS commands or
 * SERAM_MAX_CAPDUS APDUs in all, a delay that is not an integer in 0..30000.
 * Returns 0 and fills *out otherwise. An empty body means a void order. */
int seram_parse_order(const uint8_t *body, size_t len, struct seram_order *out,
    char *err, size_t errlen);

/* The handshake command: {"secureElements":[{"seType":"undefined","seId":se_id}],
 * "supportedTransportProtocols":["HTTPS"],"supportedDataFormats":["application/json"],
 * "supportedVersions":["2.0.0"]}. Returns a malloc'd string or NULL. */
char *seram_build_handshake(const char *se_id);

/* Checks a handshake response: chosenVersion must be "2.0.0" when present, a chosen
 * transport other than HTTPS or data format other than JSON is refused. 0 or -1. */
int seram_check_handshake(const uint8_t *body, size_t len, char *err, size_t errlen);

enum seram_status {
	SERAM_ST_POLLING, SERAM_ST_PROCESSED, SERAM_ST_UNAVAILABLE_SE,
	SERAM_ST_UNKNOWN_FAILURE, SERAM_ST_UNGRANTED_ACCESS,
};

struct seram_rapdu {
	uint8_t		bytes[SERAM_RAPDU_MAX];
	size_t		len;		/* 0: no answer, reported as "" */
};

/* One seRamResponse: the R-APDUs (data + SW) for each C-APDU, in order. */
struct seram_response {
	size_t			 n;
	struct seram_rapdu	*rapdu;
};

/* Builds a report. responses may be NULL when n_resp is 0; executed is the number of
 * seRamCommands executed; error_msg NULL or a short reason. Returns a malloc'd string
 * or NULL. */
char *seram_build_report(enum seram_status st, int executed,
    const struct seram_response *responses, size_t n_resp, const char *error_msg);

/* The session identifier for a new session: the 16 random bytes rnd (the caller reads
 * them, e.g. base/rand) as 32 lowercase hex chars and a NUL in out. */
void seram_session_id(const uint8_t rnd[16], char out[33]);

#endif
