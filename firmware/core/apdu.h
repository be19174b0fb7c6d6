/* SPDX-License-Identifier: BSD-2-Clause */
/* apdu.h — ISO 7816-4 command/response exchange over an abstract transmit function,
 * so that the same logic runs on PC/SC (pcsc.c) and on unit-test fakes. */
#ifndef CARDUPD_APDU_H
#define CARDUPD_APDU_H

#include <stddef.h>
#include <stdint.h>

#define APDU_RESP_MAX	(258)		/* one short response: 256 data + SW */
#define APDU_DATA_MAX	(4096)		/* a reassembled reply (61xx chains) */

/* One raw exchange. Sends cmd[0..clen) and writes at most *rlen bytes of the reply
 * into resp, setting *rlen to the number written. Returns 0, or -1 on a transport
 * failure (card removed, reader gone, timeout). */
typedef int (*apdu_xmit_fn)(void *ctx, const uint8_t *cmd, size_t clen,
    uint8_t *resp, size_t *rlen);

/* Sends one command APDU and returns the complete answer: handles 61xx (GET RESPONSE
 * 00 C0 00 00 xx, repeated and concatenated) and 6Cxx (resend with Le = xx, once).
 * Data (without SW) goes to data[0..*dlen) with at most dmax bytes; *sw gets the final
 * status word. Every raw reply is checked for at least 2 bytes.
 * Returns 0 when an SW was obtained (any SW, the caller judges it), -1 on transport
 * failure, a reply shorter than 2 bytes, or data longer than dmax. */
int apdu_transceive(apdu_xmit_fn xmit, void *ctx, const uint8_t *cmd, size_t clen,
    uint8_t *data, size_t dmax, size_t *dlen, uint16_t *sw);

#endif
