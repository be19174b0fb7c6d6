/* SPDX-License-Identifier: BSD-2-Clause */
/* session.h — one card update session: cardupd as the GlobalPlatform SERAM local agent
 * (SPEC §7). A thread runs the handshake and the polling loop against the remote agent
 * with the CMS client's trust, executes its orders on the card in one reader, and
 * reports progress and the outcome through a callback. The card is reached through a
 * core/card_port.h the caller gives (the loop wires drivers/card_session.c). The main
 * loop owns the handle. */
#ifndef CARDUPD_SESSION_H
#define CARDUPD_SESSION_H

#include "autoconf.h"
#include "core/card_id.h"
#include "core/card_port.h"
#include "core/cms.h"
#include "core/config.h"
#include "core/reader.h"

#define SESSION_ID_LEN		32
#define SESSION_RESPONSE_TIMEOUT_MS	40000	/* the binding: 40 s per response */
#define SESSION_RECONNECT_S	300		/* the binding: retry for 5 minutes */

enum session_ev_type {
	SESSION_EV_PROGRESS,	/* text: a notificationCommand, or our own step */
	SESSION_EV_DONE,	/* ok: ramStopCommand received; else code/text say why */
};

struct session_report {
	enum session_ev_type	type;
	int			reader_idx;
	char			reader[READER_NAME_MAX];
	unsigned		serial;		/* which session of this reader */
	int			ok;
	char			code[CMS_CODE_MAX];	/* DONE && !ok */
	char			text[200];
	int			apdus;		/* DONE: APDUs sent to the card */
	long			duration_ms;	/* DONE */
};

/* Called on the session thread; copy what you need. */
typedef void (*session_cb)(void *arg, const struct session_report *rep);

struct session_params {
	int			reader_idx;
	unsigned		serial;
	char			reader[READER_NAME_MAX];
	struct card_identity	id;		/* the card the user pressed Proceed with */
	char			seram_url[CMS_URL_MAX];	/* ".../gp/seram" */
	char			session_id[SESSION_ID_LEN + 1];
	int			max_s;		/* whole session cap */
	const struct card_port	*port;		/* how to reach the card */
};

struct session;

/* Starts the session thread. cfg gives the trust anchors and client credentials (the
 * same as the CMS check); p->port reaches the card. cb is called on the session's
 * thread, last with the DONE report: what it touches must outlive the thread (see
 * session_wait_idle). Returns NULL with err on failure to start, or when
 * SESSION_THREADS_MAX session threads are alive. */
struct session *session_start(const struct session_params *p, const struct cfg *cfg,
    session_cb cb, void *arg, char *err, size_t errlen);

/* Asks the session to end (card removed, Cancel, shutdown): nothing more is sent to
 * the card, the remote agent is told if it can be, and a DONE report follows. Returns
 * at once. */
void session_cancel(struct session *s, const char *why);

/* Drops the caller's handle without waiting: the thread (detached) ends on its own —
 * after session_cancel within its current exchange's deadline — and frees the rest.
 * Call after its DONE report, or after session_cancel. NULL is accepted. */
void session_release(struct session *s);

/* Session threads still alive (started and not yet past their last report), whoever
 * holds their handles. At most SESSION_THREADS_MAX: session_start refuses beyond. */
#define SESSION_THREADS_MAX	(2 * CONFIG_MAX_READERS)
int session_live(void);

/* Waits at most wait_ms for every session thread to have ended (each has made its last
 * callback and touches nothing of the caller's any more). Returns 1 when none is
 * alive, 0 when some still are (then what their callback touches must stay). */
int session_wait_idle(int wait_ms);

/* The se ID presented to the remote agent: CPLC IC serial (hex) or, without CPLC, the
 * CHUID GUID (hex), else the ATR (hex). out: at least 65 bytes. */
void session_se_id(const struct card_identity *id, char *out, size_t outlen);

#endif
