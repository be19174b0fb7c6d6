/* SPDX-License-Identifier: BSD-2-Clause */
/* card_conn.c — see card_conn.h. The identity read and the remote agent's APDUs go
 * through the same raw transmit, so both get the same short-reply and protocol rules. */
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "drivers/card_conn.h"

/* see card_conn.h */
int
card_conn_gone_rv(LONG rv)
{
	return rv == SCARD_W_REMOVED_CARD || rv == SCARD_E_NO_SMARTCARD ||
	    rv == SCARD_W_RESET_CARD || rv == SCARD_E_READER_UNAVAILABLE ||
	    rv == SCARD_E_UNKNOWN_READER;
}

static void
failed(struct card_conn *c, LONG rv)
{
	c->rv = rv;
	c->fail = card_conn_gone_rv(rv) ? CARD_CONN_GONE : CARD_CONN_PCSC;
}

/* The raw exchange under apdu_transceive(). */
static int
xmit(void *arg, const uint8_t *cmd, size_t clen, uint8_t *resp, size_t *rlen)
{
	struct card_conn *c = arg;
	DWORD n = (DWORD)*rlen;
	LONG rv;

	rv = SCardTransmit(c->card, c->pci, cmd, (DWORD)clen, NULL, resp, &n);
	if (rv != SCARD_S_SUCCESS) {
		failed(c, rv);
		log_debug("pcsc: %s: SCardTransmit: %s", c->reader, pcsc_stringify_error(rv));
		return -1;
	}
	/* A vpcd card that drops mid-command gives "success" with 0 bytes; a card that
	 * answers 1 byte is broken. Neither reply carries a status word. */
	if (n < 2 || n > *rlen) {
		c->fail = CARD_CONN_SHORT;
		log_debug("pcsc: %s: SCardTransmit: %lu-byte reply", c->reader,
		    (unsigned long)n);
		return -1;
	}
	*rlen = n;
	return 0;
}

/* The protocol in effect on card, from SCardStatus; fallback when it cannot tell. */
static DWORD
status_protocol(SCARDHANDLE card, DWORD fallback)
{
	DWORD proto = 0, state = 0, namelen = 0, atrlen = 0;

	if (SCardStatus(card, NULL, &namelen, &state, &proto, NULL, &atrlen) !=
	    SCARD_S_SUCCESS)
		return fallback;
	return proto;
}

/* see card_conn.h */
int
card_conn_open(struct card_conn *c, const char *reader, char *err, size_t errlen)
{
	DWORD proto;
	LONG rv;

	memset(c, 0, sizeof(*c));
	snprintf(c->reader, sizeof(c->reader), "%s", reader);
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &c->ctx);
	if (rv != SCARD_S_SUCCESS) {
		failed(c, rv);
		snprintf(err, errlen, "SCardEstablishContext: %s", pcsc_stringify_error(rv));
		return -1;
	}
	c->have_ctx = 1;
	rv = SCardConnect(c->ctx, reader, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &c->card, &proto);
	if (rv != SCARD_S_SUCCESS) {
		failed(c, rv);
		snprintf(err, errlen, "SCardConnect: %s", pcsc_stringify_error(rv));
		SCardReleaseContext(c->ctx);
		return -1;
	}
	c->connected = 1;
	/* pcsc-lite may answer SCardConnect with no protocol (0) while another client's
	 * connection or pcscd's own power-up of a just-inserted card is still settling;
	 * the protocol in effect is then read back with SCardStatus (as the reads did
	 * before this file existed). Seen under load on the vpcd rig. */
	if (proto != SCARD_PROTOCOL_T0 && proto != SCARD_PROTOCOL_T1)
		proto = status_protocol(c->card, proto);
	if (proto == SCARD_PROTOCOL_T0)
		c->pci = SCARD_PCI_T0;
	else if (proto == SCARD_PROTOCOL_T1)
		c->pci = SCARD_PCI_T1;
	else {
		c->fail = CARD_CONN_PROTOCOL;
		snprintf(err, errlen, "unexpected protocol %lu", (unsigned long)proto);
		card_conn_close(c);
		return -1;
	}
	return 0;
}

/* see card_conn.h */
int
card_conn_begin(struct card_conn *c, char *err, size_t errlen)
{
	LONG rv;

	/* Removal, reset or a swap invalidates the handle: pcsc-lite answers
	 * SCARD_W_REMOVED_CARD / SCARD_W_RESET_CARD. */
	if ((rv = SCardBeginTransaction(c->card)) != SCARD_S_SUCCESS) {
		failed(c, rv);
		snprintf(err, errlen, "SCardBeginTransaction: %s", pcsc_stringify_error(rv));
		return -1;
	}
	c->in_tx = 1;
	return 0;
}

/* see card_conn.h */
void
card_conn_end(struct card_conn *c)
{
	LONG rv;

	if (!c->in_tx)
		return;
	c->in_tx = 0;
	/* A card already gone answers with errors that tell nothing new. */
	rv = SCardEndTransaction(c->card, SCARD_LEAVE_CARD);
	if (rv != SCARD_S_SUCCESS && !card_conn_gone_rv(rv))
		log_debug("pcsc: %s: SCardEndTransaction: %s", c->reader,
		    pcsc_stringify_error(rv));
}

/* see card_conn.h */
int
card_conn_identity(struct card_conn *c, struct card_identity *id, char *err,
    size_t errlen)
{
	DWORD proto, state, namelen, atrlen;
	BYTE atr[MAX_ATR_SIZE];
	char name[READER_NAME_MAX * 2];
	LONG rv;

	memset(id, 0, sizeof(*id));
	c->atr_read = 0;
	namelen = sizeof(name);
	atrlen = sizeof(atr);
	rv = SCardStatus(c->card, name, &namelen, &state, &proto, atr, &atrlen);
	if (rv != SCARD_S_SUCCESS) {
		failed(c, rv);
		snprintf(err, errlen, "SCardStatus: %s", pcsc_stringify_error(rv));
		return -1;
	}
	if (atrlen == 0 || atrlen > CARD_ATR_MAX) {
		c->fail = CARD_CONN_PROTOCOL;
		snprintf(err, errlen, "ATR of %lu bytes", (unsigned long)atrlen);
		return -1;
	}
	memcpy(id->atr, atr, atrlen);
	id->atr_len = atrlen;
	c->atr_read = 1;
	c->fail = CARD_CONN_OK;
	c->rv = SCARD_S_SUCCESS;
	if (card_read_identity(xmit, c, id) == 0)
		return 0;
	if (c->fail == CARD_CONN_OK)	/* apdu.c gave up: over-long or endless answer */
		c->fail = CARD_CONN_TOO_LONG;
	switch (c->fail) {
	case CARD_CONN_GONE:
		snprintf(err, errlen, "card pulled during the read");
		break;
	case CARD_CONN_SHORT:
		snprintf(err, errlen, "reply without status word (card pulled or broken)");
		break;
	case CARD_CONN_TOO_LONG:
		snprintf(err, errlen, "answer too long or never ending");
		break;
	default:
		snprintf(err, errlen, "%s", pcsc_stringify_error(c->rv));
		break;
	}
	return -1;
}

/* see card_conn.h */
int
card_conn_transmit(struct card_conn *c, const uint8_t *capdu, size_t clen,
    uint8_t *resp, size_t rmax, size_t *rlen)
{
	uint16_t sw;
	size_t dlen = 0;

	*rlen = 0;
	c->fail = CARD_CONN_OK;
	if (rmax < 2) {
		c->fail = CARD_CONN_TOO_LONG;
		return -1;
	}
	if (apdu_transceive(xmit, c, capdu, clen, resp, rmax - 2, &dlen, &sw) == -1) {
		if (c->fail == CARD_CONN_OK)
			c->fail = CARD_CONN_TOO_LONG;
		return -1;
	}
	resp[dlen] = (uint8_t)(sw >> 8);
	resp[dlen + 1] = (uint8_t)sw;
	*rlen = dlen + 2;
	return 0;
}

/* see card_conn.h */
void
card_conn_close(struct card_conn *c)
{
	LONG rv;

	if (!c->connected)
		return;
	card_conn_end(c);
	rv = SCardDisconnect(c->card, SCARD_LEAVE_CARD);
	if (rv != SCARD_S_SUCCESS && !card_conn_gone_rv(rv))
		log_debug("pcsc: %s: SCardDisconnect: %s", c->reader, pcsc_stringify_error(rv));
	rv = SCardReleaseContext(c->ctx);
	if (rv != SCARD_S_SUCCESS)
		log_debug("pcsc: %s: SCardReleaseContext: %s", c->reader,
		    pcsc_stringify_error(rv));
	c->connected = 0;
}
