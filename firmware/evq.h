/* SPDX-License-Identifier: BSD-2-Clause */
/* evq.h — the mailbox through which the pcsc watcher, the CMS worker, the SERAM session
 * threads and the web handlers hand events to the main loop (DESIGN.md, "one owner of
 * state"): one event type for all of them, an eventfd to wake the loop.
 *
 * What must never be lost is never refused: reader and card events coalesce per reader
 * (the latest state wins, and a card that left and came back still shows as a removal
 * then an insertion), pcscd's up/down as flags, check results and session reports per
 * reader slot (the latest wins). Only commands (kiosk and admin requests) are bounded:
 * when cmd_cap of them wait, the next is refused and its handler answers 503. All the
 * storage is allocated by evq_new: posting never allocates. */
#ifndef CARDUPD_EVQ_H
#define CARDUPD_EVQ_H

#include <stddef.h>
#include <stdint.h>
#include "autoconf.h"
#include "core/agent.h"
#include "core/card_id.h"
#include "core/cms.h"
#include "core/reader.h"

enum ev_type {
	/* from the reader watcher: coalesced, never lost */
	EV_SERVICE_DOWN, EV_SERVICE_UP,
	EV_READER_ADDED, EV_READER_REMOVED,
	EV_CARD_INSERTED, EV_CARD_IDENTITY, EV_CARD_READ_FAILED, EV_CARD_REMOVED,
	/* from the CMS worker and the session threads: per reader slot, never lost */
	EV_CHECK_DONE, EV_SESSION_PROGRESS, EV_SESSION_DONE,
	/* commands from the kiosk and admin listeners: bounded */
	EV_MANUAL_CHECK, EV_PROCEED, EV_CLOSE, EV_SESSION_CANCEL,
	/* admin requests to the loop itself: flags */
	EV_RECONNECT, EV_RELOAD,
};

/* The one event type. Which fields are set depends on type (below). A check's result
 * (7 KiB) is not inside: the event stays small enough for any thread's stack. */
struct event {
	enum ev_type		type;
	char			reader[READER_NAME_MAX];	/* all but SERVICE_*, RELOAD,
								   RECONNECT */
	int			startup;	/* CARD_INSERTED, CARD_IDENTITY, READ_FAILED */
	enum reader_error	error;		/* CARD_READ_FAILED: why */
	struct card_identity	id;		/* CARD_IDENTITY; CHECK_DONE: the card checked */
	int			slot;		/* CHECK_DONE, SESSION_*: the agent's slot
						   (0..CONFIG_MAX_READERS-1) */
	uint32_t		check_seq;	/* CHECK_DONE */
	enum cms_trigger	trigger;	/* CHECK_DONE */
	const struct cms_result	*result;	/* CHECK_DONE: posted, the result to copy;
						   popped, the queue's copy, valid until
						   the next evq_pop */
	long			latency_ms;	/* CHECK_DONE; SESSION_DONE: duration */
	unsigned		serial;		/* SESSION_* */
	int			ok;		/* SESSION_DONE */
	char			code[CMS_CODE_MAX];	/* SESSION_DONE when !ok */
	char			text[200];	/* SESSION_PROGRESS; SESSION_DONE: reason */
	int			apdus;		/* SESSION_DONE */
	char			prompt_id[AGENT_PROMPT_ID_MAX];	/* PROCEED, CLOSE ("" none) */
	char			source[64];	/* commands: who asked, for the log */
	unsigned		reconnects;	/* SERVICE_UP: how many since the last pop */
};

struct evq;

/* Creates a mailbox holding at most cmd_cap commands (>= 1) besides the coalesced
 * events. Returns NULL with errno on failure. */
struct evq *evq_new(size_t cmd_cap);

/* Frees the mailbox. The caller makes sure no thread can post any more. NULL is
 * accepted. */
void evq_free(struct evq *q);

/* Copies ev in (and *ev->result for CHECK_DONE) and wakes the loop. Returns 0, or -1
 * only for a command when cmd_cap commands are waiting (errno ENOBUFS), or for an event
 * whose reader name does not fit, whose slot is out of range or, for CHECK_DONE, whose
 * result is NULL (EINVAL). Never blocks for long; any thread. */
int evq_post(struct evq *q, const struct event *ev);

/* Takes the next event into *out: pcscd's state first, then each reader's events in
 * their order (READER_REMOVED, READER_ADDED, CARD_REMOVED, CARD_INSERTED, the read
 * result), then check results, session reports, commands, RECONNECT, RELOAD.
 * Returns 1, or 0 when there is nothing. The main loop only. */
int evq_pop(struct evq *q, struct event *out);

/* The descriptor to poll for POLLIN; call evq_drain_fd() when it is readable, then
 * evq_pop() until it returns 0. */
int evq_fd(const struct evq *q);
void evq_drain_fd(struct evq *q);

#endif
