/* SPDX-License-Identifier: BSD-2-Clause */
/* pcsc.h — the reader watcher: one thread blocked in SCardGetStatusChange over all
 * readers; on insertion it reads the card's identity (through card_conn.h) and reports
 * through a callback. */
#ifndef CARDUPD_PCSC_H
#define CARDUPD_PCSC_H

#include "core/card_id.h"
#include "core/reader.h"

#define PCSC_READER_NAME_MAX	READER_NAME_MAX

enum pcsc_event_type {
	PCSC_EV_READER_ADDED,	/* reader appeared (or was present at start) */
	PCSC_EV_READER_REMOVED,
	PCSC_EV_CARD_INSERTED,	/* card seen; reading starts */
	PCSC_EV_CARD_IDENTITY,	/* identity read: ev->id valid */
	PCSC_EV_CARD_READ_FAILED,	/* card present but unreadable (still a card) */
	PCSC_EV_CARD_REMOVED,
	PCSC_EV_SERVICE_DOWN,	/* pcscd unreachable; watcher keeps retrying */
	PCSC_EV_SERVICE_UP,
};

struct pcsc_event {
	enum pcsc_event_type	type;
	char			reader[PCSC_READER_NAME_MAX];
	int			startup;	/* card was already there at start/reconnect */
	struct card_identity	id;	/* PCSC_EV_CARD_IDENTITY only */
	enum reader_error	error;	/* PCSC_EV_CARD_READ_FAILED only: why */
};

/* Called from the watcher thread for every event. Must not block for long; the
 * event is only valid during the call (copy it).
 *
 * Order and meaning, per reader: READER_ADDED, then for each card CARD_INSERTED,
 * then at most one of CARD_IDENTITY / CARD_READ_FAILED, then CARD_REMOVED. A card
 * pulled before its read ended gets CARD_REMOVED and no read result. startup is
 * set on CARD_INSERTED and on the read result of a card that was present when
 * the watcher (re)connected to pcscd.
 *
 * When pcscd goes away (or restarts) the watcher posts CARD_REMOVED and
 * READER_REMOVED for every known reader, then SERVICE_DOWN (once per outage);
 * on reconnection SERVICE_UP, READER_ADDED and CARD_INSERTED (startup=1) for the
 * cards found. SERVICE_DOWN is also posted when pcscd is not there at start.
 *
 * Card reads run on a short-lived thread per read, so a card that never answers
 * blocks only its own reader. A read still running after
 * CONFIG_PCSC_READ_TIMEOUT_MS gets CARD_READ_FAILED; the reader then stays busy
 * (a new card there is read once the stuck thread returns, which it does when the
 * card answers or is removed) and the stuck thread is abandoned, not joined.
 * Results still reach the callback from the watcher thread only. */
typedef void (*pcsc_event_cb)(void *arg, const struct pcsc_event *ev);

struct pcsc_watcher;

/* Starts the watcher thread. reader_glob (fnmatch pattern, "*" for all) filters the
 * readers. Works even when pcscd is not running yet (it retries with a capped backoff).
 * Returns a watcher, or NULL with errno set when the thread cannot be created. */
struct pcsc_watcher *pcsc_start(const char *reader_glob, pcsc_event_cb cb, void *arg);

/* Stops the thread (SCardCancel) and frees everything. NULL is accepted. No
 * callback runs after it returns; a read thread stuck in the card is left behind
 * and frees its own state if it ever returns. */
void pcsc_stop(struct pcsc_watcher *w);

/* What a reader's new dwEventState means for the card in it, given the state the
 * watcher acted on last (old_state, valid when seen) and whether it reported a card
 * there (was_present): a mask of PCSC_T_LEFT (the card that was there is gone) and
 * PCSC_T_ARRIVED (a card is there that was not reported yet). A card pulled and
 * put back between two of the driver's polls keeps SCARD_STATE_PRESENT but moves
 * pcscd's event counter (upper 16 bits): that is both, LEFT then ARRIVED. Pure;
 * exported for the unit tests. */
#define PCSC_T_LEFT	0x1
#define PCSC_T_ARRIVED	0x2
int pcsc_transition(int seen, int was_present, unsigned long old_state,
    unsigned long new_state);

#endif
