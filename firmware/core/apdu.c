/* SPDX-License-Identifier: BSD-2-Clause */
/* apdu.c — one ISO 7816-4 command and its complete answer: T=0 GET RESPONSE chains
 * (61xx) and wrong-Le retries (6Cxx), over whatever transmit function the caller has.
 * Pure: fixed buffers on the stack, the caller's data buffer, no allocation. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/apdu.h"

/* Longest short-form command: header(4) + Lc(1) + 255 data + Le(1). */
#define APDU_CMD_MAX		(4 + 1 + 255 + 1)

/*
 * A card that answers 61xx forever (or with empty chunks) must not keep us here:
 * 4096 bytes in chunks of 256 need 16 GET RESPONSEs, so 64 exchanges leave room for
 * cards that hand out smaller pieces while still bounding a misbehaving one.
 */
#define APDU_EXCHANGES_MAX	64

/*
 * Builds into out the command `cmd` with its Le set to `le`. Returns the new length,
 * or 0 when the command's shape is not a short APDU we can rewrite (extended length,
 * or an Lc that disagrees with the length): then the 6Cxx goes back to the caller.
 */
static size_t
set_le(const uint8_t *cmd, size_t clen, uint8_t le, uint8_t *out)
{
	size_t lc;

	if (clen < 4 || clen > APDU_CMD_MAX)
		return 0;
	memmove(out, cmd, clen);	/* cmd may be out (a GET RESPONSE) */
	if (clen == 4) {			/* case 1: append Le */
		out[4] = le;
		return 5;
	}
	if (clen == 5) {			/* case 2: byte 4 is Le */
		out[4] = le;
		return 5;
	}
	lc = cmd[4];
	if (lc == 0)				/* 00 here means extended length */
		return 0;
	if (clen == 5 + lc) {			/* case 3: append Le */
		if (clen + 1 > APDU_CMD_MAX)
			return 0;
		out[clen] = le;
		return clen + 1;
	}
	if (clen == 6 + lc) {			/* case 4: last byte is Le */
		out[clen - 1] = le;
		return clen;
	}
	return 0;
}

/* see apdu.h */
int
apdu_transceive(apdu_xmit_fn xmit, void *ctx, const uint8_t *cmd, size_t clen,
    uint8_t *data, size_t dmax, size_t *dlen, uint16_t *sw)
{
	uint8_t		 cur[APDU_CMD_MAX], resp[APDU_RESP_MAX];
	const uint8_t	*send = cmd;
	size_t		 slen = clen, rlen, n, total = 0, nl;
	int		 resent = 0, i;
	uint8_t		 sw1, sw2;

	*dlen = 0;
	for (i = 0; i < APDU_EXCHANGES_MAX; i++) {
		rlen = sizeof(resp);
		if (xmit(ctx, send, slen, resp, &rlen) == -1)
			return -1;
		/* A dropped vpcd card can give "success" with 0 bytes: no SW, no answer. */
		if (rlen < 2 || rlen > sizeof(resp))
			return -1;
		sw1 = resp[rlen - 2];
		sw2 = resp[rlen - 1];
		n = rlen - 2;

		if (sw1 == 0x6c && !resent) {
			/* Wrong Le: the card tells the right one; its data (if any) is void. */
			if ((nl = set_le(send, slen, sw2, cur)) == 0)
				goto done;
			send = cur;
			slen = nl;
			resent = 1;
			continue;
		}

		if (n > dmax - total)
			return -1;
		memcpy(data + total, resp, n);
		total += n;

		if (sw1 != 0x61)
			goto done;

		/* More data waiting: GET RESPONSE for sw2 bytes (00 means 256). */
		cur[0] = 0x00;
		cur[1] = 0xc0;
		cur[2] = 0x00;
		cur[3] = 0x00;
		cur[4] = sw2;
		send = cur;
		slen = 5;
		resent = 0;		/* a GET RESPONSE may itself get one 6Cxx */
	}
	/* Chain did not end: treat like an overflow, the answer cannot be trusted. */
	return -1;

 done:
	*dlen = total;
	*sw = (uint16_t)((sw1 << 8) | sw2);
	return 0;
}
