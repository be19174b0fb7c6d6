/* SPDX-License-Identifier: BSD-2-Clause */
/* card_port.h — the card as a card update session sees it: an interface (a table of
 * functions) so that the SERAM session (firmware/cms/session.c) never includes a
 * driver. The loop wires it to drivers/card_session.c (card_session_port); a unit test
 * may wire a fake. Every function is called from the session's one thread. */
#ifndef CARDUPD_CARD_PORT_H
#define CARDUPD_CARD_PORT_H

#include <stddef.h>
#include <stdint.h>
#include "core/card_id.h"

/* Why open failed, as a code (never prose to be parsed back). */
enum card_port_fail {
	CARD_PORT_UNAVAILABLE,	/* no card, pcscd unreachable, unreadable */
	CARD_PORT_DIFFERENT,	/* another card than expect is in the reader */
};

struct card_port {
	/* Connects to the card in reader, reads its identity and compares it with expect
	 * (card_same). Returns a handle, or NULL with *why and a reason in err. */
	void	*(*open)(const char *reader, const struct card_identity *expect,
		    enum card_port_fail *why, char *err, size_t errlen);
	/* Starts one transaction. -1 (err) when the card was removed, reset or
	 * swapped since open: the handle is then useless and the session ends. */
	int	 (*begin)(void *h, char *err, size_t errlen);
	/* One C-APDU inside the transaction; the R-APDU (data + SW, 61xx chains joined,
	 * 6Cxx resent) into resp[0..*rlen) of at most rmax bytes. 0, or -1 on a
	 * transport failure or an over-long answer (*rlen = 0). */
	int	 (*apdu)(void *h, const uint8_t *capdu, size_t clen, uint8_t *resp,
		    size_t rmax, size_t *rlen);
	/* Ends the transaction, leaving the card as it is. */
	void	 (*end)(void *h);
	/* Disconnects (leaving the card powered) and frees. NULL is accepted. */
	void	 (*close)(void *h);
};

#endif
