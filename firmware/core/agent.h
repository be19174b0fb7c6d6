/* SPDX-License-Identifier: BSD-2-Clause */
/* agent.h — the pure state machine of cardupd (DESIGN.md): one state per reader,
 * events in, actions out. No I/O, no clock reads (time is an input), no threads.
 * Only the main loop owns a struct agent. */
#ifndef CARDUPD_AGENT_H
#define CARDUPD_AGENT_H

#include <stddef.h>
#include <stdint.h>
#include "autoconf.h"
#include "core/card_id.h"
#include "core/cms.h"
#include "core/reader.h"

#define AGENT_PROMPT_ID_MAX	24
#define AGENT_MSG_MAX		160
#define AGENT_SESSION_ID_MAX	33	/* a SERAM sessionId (32 hex digits) + NUL */
/* SERVICE_DOWN ends every reader at once: up to 3 actions each. */
#define AGENT_MAX_ACTIONS	(3 * CONFIG_MAX_READERS + 1)

enum agent_phase {
	AGENT_IDLE, AGENT_READING, AGENT_CHECKING, AGENT_PROMPT, AGENT_UP_TO_DATE,
	AGENT_CHECK_FAILED, AGENT_PORTAL, AGENT_REINSERT,
};

struct agent_reader {
	int			used;
	char			name[READER_NAME_MAX];
	int			card_present;
	int			id_valid;	/* identity read (possibly ATR only) */
	struct card_identity	id;
	enum agent_phase	phase;
	int			manual;		/* the current check/prompt is manual */
	uint32_t		check_seq;	/* in-flight check; 0 = none */
	uint32_t		prompt_no;
	char			prompt_id[AGENT_PROMPT_ID_MAX];
	int64_t			prompt_deadline_ms;
	struct cms_result	result;		/* last answer (prompt contents) */
	char			message[AGENT_MSG_MAX];	/* "" = none (manual checks) */
	char			code[CMS_CODE_MAX];
	char			session_id[AGENT_SESSION_ID_MAX];	/* SERAM sessionId offered */
	int			session;	/* a SERAM session runs on this card */
	unsigned		session_serial;
	char			progress[AGENT_MSG_MAX];	/* session progress text */
	int			portal_open;	/* Proceed was pressed and the card has
						   not left since: its removal ends the
						   browser session (on_session_end) */
	int			portal_card;	/* a card of this reader went to the portal */
	struct card_identity	portal_id;	/* ... this one */
	int			followup;	/* current check follows an update */
};

struct agent_counters {
	unsigned long	insertions, checks, checks_failed, prompts_shown,
			prompts_proceeded, prompts_closed, prompts_timed_out,
			sessions_started, sessions_ok, sessions_failed;
};

struct agent {
	struct agent_reader	r[CONFIG_MAX_READERS];
	int			top;	/* 1 + the highest slot ever used: the slots
					   from top on were never written, and loops
					   over the readers stop there, so their pages
					   are never touched (docs/performance.md) */
	uint32_t		next_seq;	/* check ids */
	uint32_t		next_prompt;
	unsigned		next_session;
	int			prompt_timeout_s;
	struct agent_counters	count;
};

enum agent_event_type {
	AGENT_EV_READER_ADDED, AGENT_EV_READER_REMOVED, AGENT_EV_SERVICE_DOWN,
	AGENT_EV_CARD_INSERTED, AGENT_EV_CARD_IDENTITY, AGENT_EV_CARD_READ_FAILED,
	AGENT_EV_CARD_REMOVED, AGENT_EV_CHECK_DONE, AGENT_EV_MANUAL_CHECK,
	AGENT_EV_PROCEED, AGENT_EV_CLOSE, AGENT_EV_TICK,
	AGENT_EV_SESSION_PROGRESS, AGENT_EV_SESSION_DONE, AGENT_EV_SESSION_CANCEL,
};

struct agent_event {
	enum agent_event_type		 type;
	int64_t				 now_ms;	/* monotonic */
	const char			*reader;	/* all but TICK, SERVICE_DOWN */
	int				 startup;	/* CARD_INSERTED/IDENTITY */
	const struct card_identity	*id;		/* CARD_IDENTITY */
	uint32_t			 check_seq;	/* CHECK_DONE */
	const struct cms_result		*result;	/* CHECK_DONE */
	const char			*prompt_id;	/* PROCEED, CLOSE (NULL: any) */
	const char			*session_id;	/* CHECK_DONE: SERAM id to offer */
	unsigned			 serial;	/* SESSION_PROGRESS/DONE */
	int				 ok;		/* SESSION_DONE */
	const char			*code;		/* SESSION_DONE when !ok */
	const char			*text;		/* SESSION_PROGRESS */
};

enum agent_action_type {
	AGENT_ACT_START_CHECK,	/* run a CMS check: name, id, trigger, check_seq */
	AGENT_ACT_CANCEL_CHECK,	/* abandon check_seq of reader */
	AGENT_ACT_HOOK,		/* run a configured hook: hook, name, updates, url */
	AGENT_ACT_START_SESSION,	/* start SERAM session serial: name, id, url, session_id */
	AGENT_ACT_CANCEL_SESSION,	/* end session serial of reader: why */
};

enum agent_hook { AGENT_HOOK_PROMPT, AGENT_HOOK_PROCEED, AGENT_HOOK_SESSION_END };

#define AGENT_UPDATES_MAX	(CONFIG_CMS_MAX_PENDING * (CMS_TYPE_MAX + 1))

/* An action carries everything needed to carry it out: the loop never reads the
 * agent's readers. */
struct agent_action {
	enum agent_action_type	type;
	int			reader;		/* the reader's slot (0..CONFIG_MAX_READERS-1):
						   a key for the loop's per-reader handles */
	char			name[READER_NAME_MAX];	/* the reader's name */
	uint32_t		check_seq;	/* START_CHECK, CANCEL_CHECK */
	enum cms_trigger	trigger;	/* START_CHECK */
	struct card_identity	id;		/* START_CHECK, START_SESSION: the card */
	enum agent_hook		hook;		/* HOOK */
	char			updates[AGENT_UPDATES_MAX];	/* HOOK: update types, "a,b" */
	char			url[CMS_URL_MAX];	/* HOOK: portal URL ("" for session_end);
						   START_SESSION: the SERAM URL */
	char			session_id[AGENT_SESSION_ID_MAX];	/* START_SESSION */
	unsigned		serial;		/* START_SESSION, CANCEL_SESSION */
	const char		*why;		/* CANCEL_SESSION: a static text for the log
						   and the remote agent */
};

/* Starts with no readers. prompt_timeout_s: how long a prompt stays up. */
void agent_init(struct agent *a, int prompt_timeout_s);

/* agent_init for an agent already all zeros (static, calloc'd, fresh pages): writes
 * only what is not zero, so the pages of reader slots never used stay untouched (not
 * resident: the agent is 63 KiB with 8 slots). */
void agent_init_zeroed(struct agent *a, int prompt_timeout_s);

/* Applies one event. Writes at most AGENT_MAX_ACTIONS actions to acts and returns
 * their number; each carries its payload (struct agent_action). *changed is set to 1
 * when the visible state changed (publish it). Unknown readers, stale check results,
 * stale prompt ids and reports of older sessions are ignored. */
size_t agent_handle(struct agent *a, const struct agent_event *ev,
    struct agent_action *acts, int *changed);

/* The earliest time (monotonic ms) at which a TICK would change something, or -1
 * when nothing is timed: then the main loop sleeps until an event arrives. */
int64_t agent_next_deadline(const struct agent *a);

/* Index of the reader called name, or -1. */
int agent_find(const struct agent *a, const char *name);

/* Phase name as in SPEC §5 ("idle", "prompt", ...). */
const char *agent_phase_name(enum agent_phase p);

/* Seconds left on reader i's prompt at now (0 when none). */
long agent_prompt_left_s(const struct agent *a, int i, int64_t now_ms);

/* Plain-language reason for a failure code, for manual-check messages. */
const char *agent_failure_text(const char *code);

#endif
