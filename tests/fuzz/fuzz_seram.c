/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_seram.c — libFuzzer target for the SERAM order parser (untrusted bytes from the
 * remote agent). Also checks the parser's promises on what it accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/seram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seram_order o;
	char err[256];
	size_t total = 0;

	if (seram_parse_order(data, size, &o, err, sizeof(err)) == 0) {
		if (o.n_cmds > SERAM_MAX_COMMANDS || o.n_pool > SERAM_MAX_CAPDUS ||
		    o.delay_ms < 0 || o.delay_ms > SERAM_MAX_DELAY_MS)
			abort();
		for (size_t i = 0; i < o.n_cmds; i++) {
			const struct seram_cmd *c = &o.cmds[i];

			if (c->type == SERAM_CMD_SE_RAM) {
				if (c->n_capdu > 0 && (c->capdu < o.pool ||
				    c->capdu + c->n_capdu > o.pool + o.n_pool))
					abort();
				for (size_t k = 0; k < c->n_capdu; k++)
					if (c->capdu[k].len < 4 || c->capdu[k].len > SERAM_APDU_MAX)
						abort();
				total += c->n_capdu;
			}
			if (memchr(c->note, '\0', sizeof(c->note)) == NULL)
				abort();
		}
		if (total != o.n_pool)
			abort();
	} else if (memchr(err, '\0', sizeof(err)) == NULL)
		abort();
	return 0;
}
