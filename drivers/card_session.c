/* card_session.c — see card_session.h. The remote agent's APDUs go to the card through
 * the same apdu_transceive() as the identity read, on a handle of the session's own
 * context (pcsc-lite contexts are not shared across threads). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <winscard.h>

#include "core/apdu.h"
#include "drivers/card_session.h"
#include "base/log.h"
#include "drivers/pcsc.h"

struct card_session {
	SCARDCONTEXT		 ctx;
	SCARDHANDLE		 card;
	const SCARD_IO_REQUEST	*pci;
	char			 reader[PCSC_READER_NAME_MAX];
	LONG			 rv;		/* last transport error */
	int			 in_tx;
};

static int
xmit(void *arg, const uint8_t *cmd, size_t clen, uint8_t *resp, size_t *rlen)
{
	struct card_session *s = arg;
	DWORD n = (DWORD)*rlen;
	LONG rv;

	rv = SCardTransmit(s->card, s->pci, cmd, (DWORD)clen, NULL, resp, &n);
	if (rv != SCARD_S_SUCCESS) {
		s->rv = rv;
		return -1;
	}
	/* vpcd reports a card dropped mid-command as success with 0 bytes. */
	if (n < 2 || n > *rlen) {
		s->rv = SCARD_W_REMOVED_CARD;
		return -1;
	}
	*rlen = n;
	return 0;
}

/* see card_session.h */
struct card_session *
card_session_open(const char *reader, const struct card_identity *expect, char *err,
    size_t errlen)
{
	struct card_session *s;
	struct card_identity now;
	DWORD proto, state, namelen, atrlen;
	BYTE atr[MAX_ATR_SIZE];
	char name[PCSC_READER_NAME_MAX * 2];
	LONG rv;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(s->reader, sizeof(s->reader), "%s", reader);
	rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &s->ctx);
	if (rv != SCARD_S_SUCCESS) {
		snprintf(err, errlen, "pcscd: %s", pcsc_stringify_error(rv));
		free(s);
		return NULL;
	}
	rv = SCardConnect(s->ctx, reader, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &s->card, &proto);
	if (rv != SCARD_S_SUCCESS) {
		snprintf(err, errlen, "no card: %s", pcsc_stringify_error(rv));
		SCardReleaseContext(s->ctx);
		free(s);
		return NULL;
	}
	s->pci = proto == SCARD_PROTOCOL_T0 ? SCARD_PCI_T0 : SCARD_PCI_T1;
	memset(&now, 0, sizeof(now));
	if ((rv = SCardBeginTransaction(s->card)) != SCARD_S_SUCCESS) {
		snprintf(err, errlen, "transaction: %s", pcsc_stringify_error(rv));
		goto fail;
	}
	namelen = sizeof(name);
	atrlen = sizeof(atr);
	rv = SCardStatus(s->card, name, &namelen, &state, &proto, atr, &atrlen);
	if (rv != SCARD_S_SUCCESS || atrlen == 0 || atrlen > CARD_ATR_MAX) {
		snprintf(err, errlen, "card status: %s", pcsc_stringify_error(rv));
		SCardEndTransaction(s->card, SCARD_LEAVE_CARD);
		goto fail;
	}
	memcpy(now.atr, atr, atrlen);
	now.atr_len = atrlen;
	rv = card_read_identity(xmit, s, &now) == -1 ? s->rv : SCARD_S_SUCCESS;
	SCardEndTransaction(s->card, SCARD_LEAVE_CARD);
	if (rv != SCARD_S_SUCCESS) {
		snprintf(err, errlen, "reading the card: %s", pcsc_stringify_error(rv));
		goto fail;
	}
	if (!card_same(&now, expect)) {
		snprintf(err, errlen, "different card");
		goto fail;
	}
	explicit_bzero(&now, sizeof(now));
	return s;
fail:
	explicit_bzero(&now, sizeof(now));
	SCardDisconnect(s->card, SCARD_LEAVE_CARD);
	SCardReleaseContext(s->ctx);
	free(s);
	return NULL;
}

/* see card_session.h */
int
card_session_begin(struct card_session *s, char *err, size_t errlen)
{
	LONG rv;

	/* Removal, reset or a swap invalidates this handle: pcsc-lite answers
	 * SCARD_W_REMOVED_CARD / SCARD_W_RESET_CARD, and the session must end. */
	if ((rv = SCardBeginTransaction(s->card)) != SCARD_S_SUCCESS) {
		snprintf(err, errlen, "card no longer available: %s", pcsc_stringify_error(rv));
		return -1;
	}
	s->in_tx = 1;
	return 0;
}

/* see card_session.h */
int
card_session_apdu(struct card_session *s, const uint8_t *capdu, size_t clen,
    uint8_t *resp, size_t rmax, size_t *rlen)
{
	uint16_t sw;
	size_t dlen = 0;

	*rlen = 0;
	if (rmax < 2)
		return -1;
	if (apdu_transceive(xmit, s, capdu, clen, resp, rmax - 2, &dlen, &sw) == -1)
		return -1;
	resp[dlen] = (uint8_t)(sw >> 8);
	resp[dlen + 1] = (uint8_t)sw;
	*rlen = dlen + 2;
	return 0;
}

/* see card_session.h */
void
card_session_end(struct card_session *s)
{
	if (s->in_tx)
		SCardEndTransaction(s->card, SCARD_LEAVE_CARD);
	s->in_tx = 0;
}

/* see card_session.h */
void
card_session_close(struct card_session *s)
{
	if (s == NULL)
		return;
	card_session_end(s);
	SCardDisconnect(s->card, SCARD_LEAVE_CARD);
	SCardReleaseContext(s->ctx);
	free(s);
}
