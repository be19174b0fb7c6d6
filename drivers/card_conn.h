/* SPDX-License-Identifier: BSD-2-Clause */
/* card_conn.h — one connection to the card in one reader, through pcsc-lite: its own
 * context, connect (shared, T=0 or T=1), transactions, the ATR and the SPEC §1
 * identity, and APDU exchange with GET RESPONSE (61xx) and Le correction (6Cxx). The
 * one copy used by the reader watcher's card reads (pcsc.c) and by the card update
 * sessions (card_session.c). A connection belongs to one thread at a time. */
#ifndef CARDUPD_CARD_CONN_H
#define CARDUPD_CARD_CONN_H

#include <stddef.h>
#include <stdint.h>

#include <winscard.h>

#include "core/card_id.h"
#include "core/reader.h"

/* Why the last call failed, for the caller to word or map to a code. */
enum card_conn_fail {
	CARD_CONN_OK,
	CARD_CONN_GONE,		/* card removed, reset or swapped; reader gone */
	CARD_CONN_SHORT,	/* a reply without status word (card pulled or broken) */
	CARD_CONN_TOO_LONG,	/* an answer longer than the buffer, or never ending */
	CARD_CONN_PROTOCOL,	/* neither T=0 nor T=1 was negotiated; ATR unusable */
	CARD_CONN_PCSC,		/* any other pcsc-lite error (rv says which) */
};

struct card_conn {
	SCARDCONTEXT		 ctx;
	SCARDHANDLE		 card;
	const SCARD_IO_REQUEST	*pci;
	char			 reader[READER_NAME_MAX];
	int			 have_ctx;	/* a context was established */
	int			 connected;
	int			 in_tx;
	int			 atr_read;	/* card_conn_identity got past the ATR */
	enum card_conn_fail	 fail;		/* last failure */
	LONG			 rv;		/* last pcsc-lite error (SCARD_S_SUCCESS: none) */
};

/* Establishes a context of the connection's own (pcsc-lite contexts are not shared
 * between threads) and connects in shared mode to the card in reader, with T=0 or
 * T=1. Returns 0, or -1 with c->fail/c->rv set and the pcsc-lite call and error in
 * err; c holds nothing to close then. */
int card_conn_open(struct card_conn *c, const char *reader, char *err, size_t errlen);

/* Begins a transaction. Fails (-1, err) when the card was removed, reset or swapped
 * since card_conn_open: the connection is then useless. */
int card_conn_begin(struct card_conn *c, char *err, size_t errlen);

/* Ends the transaction begun by card_conn_begin, leaving the card as it is. Nothing
 * when none is open. */
void card_conn_end(struct card_conn *c);

/* Reads the ATR (SCardStatus) and the SPEC §1 identity (CPLC, CHUID) into *id, inside
 * a transaction the caller began. Returns 0, or -1 with c->fail and err (the card gone
 * mid-read, a reply without status word, an over-long answer, an ATR of no use). */
int card_conn_identity(struct card_conn *c, struct card_identity *id, char *err,
    size_t errlen);

/* Sends one C-APDU and stores the R-APDU (data and SW, 61xx GET RESPONSE chains
 * joined, 6Cxx resent) in resp[0..*rlen) of at most rmax bytes. Every raw reply is
 * checked for at least 2 bytes. Returns 0, or -1 with c->fail (*rlen = 0). */
int card_conn_transmit(struct card_conn *c, const uint8_t *capdu, size_t clen,
    uint8_t *resp, size_t rmax, size_t *rlen);

/* Ends a transaction still open, disconnects (leaving the card powered) and releases
 * the context. A connection that failed to open is accepted. */
void card_conn_close(struct card_conn *c);

/* 1 when rv means the card (or its reader) is no longer there. */
int card_conn_gone_rv(LONG rv);

#endif
