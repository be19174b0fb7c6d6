/* pcsc.h — the reader watcher: one thread blocked in SCardGetStatusChange over all
 * readers; on insertion it reads the card's identity and reports through a callback.
 * The only file (with pcsc.c) that talks to pcsc-lite. */
#ifndef CARDUPD_PCSC_H
#define CARDUPD_PCSC_H

#include "card_id.h"

#define PCSC_READER_NAME_MAX	128

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
};

/* Called from the watcher thread for every event. Must not block for long; the
 * event is only valid during the call (copy it). */
typedef void (*pcsc_event_cb)(void *arg, const struct pcsc_event *ev);

struct pcsc_watcher;

/* Starts the watcher thread. reader_glob (fnmatch pattern, "*" for all) filters the
 * readers. Works even when pcscd is not running yet (it retries with a capped backoff).
 * Returns a watcher, or NULL with errno set when the thread cannot be created. */
struct pcsc_watcher *pcsc_start(const char *reader_glob, pcsc_event_cb cb, void *arg);

/* Stops the thread (SCardCancel) and frees everything. NULL is accepted. */
void pcsc_stop(struct pcsc_watcher *w);

#endif
