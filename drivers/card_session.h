/* SPDX-License-Identifier: BSD-2-Clause */
/* card_session.h — exclusive use of the card in one reader on behalf of a remote agent
 * (SPEC §7): connect, make sure it is the card the user pressed Proceed with, then run
 * APDU lists each inside one PC/SC transaction (card_conn.h underneath). One caller
 * thread per session. It implements core/card_port.h: card_session_port is what the
 * loop hands to a card update session. */
#ifndef CARDUPD_CARD_SESSION_H
#define CARDUPD_CARD_SESSION_H

#include <stddef.h>
#include <stdint.h>
#include "core/card_id.h"
#include "core/card_port.h"

struct card_session;

/* The functions below as a struct card_port. */
extern const struct card_port card_session_port;

/* Connects (shared mode) to the card in reader, reads its identity and compares it with
 * expect (card_same). Returns a session, or NULL with *why (CARD_PORT_DIFFERENT for
 * another card, else CARD_PORT_UNAVAILABLE: no card, pcscd unreachable) and a reason
 * in err. */
struct card_session *card_session_open(const char *reader,
    const struct card_identity *expect, enum card_port_fail *why, char *err,
    size_t errlen);

/* Starts one transaction. Fails (-1, err) when the card was removed, reset or swapped
 * since card_session_open: the handle is then useless and the session should end. */
int card_session_begin(struct card_session *s, char *err, size_t errlen);

/* Sends one C-APDU inside the transaction and stores the R-APDU (data and SW, 61xx
 * GET RESPONSE chains joined, 6Cxx resent) in resp[0..*rlen) of at most rmax bytes.
 * Returns 0, or -1 on a transport failure or an over-long answer (*rlen = 0). */
int card_session_apdu(struct card_session *s, const uint8_t *capdu, size_t clen,
    uint8_t *resp, size_t rmax, size_t *rlen);

/* Ends the transaction, leaving the card as it is. */
void card_session_end(struct card_session *s);

/* Disconnects (leaving the card powered) and frees. NULL is accepted. */
void card_session_close(struct card_session *s);

#endif
