/* SPDX-License-Identifier: BSD-2-Clause */
/* pcsc.c — the reader watcher: one thread blocked in SCardGetStatusChange over all
 * watched readers (plus "\\?PnP?\Notification"), surviving pcscd restarts; each card
 * read runs on its own short-lived thread so that a stuck card blocks only its reader.
 * The card itself is reached through card_conn.c (connect, identity, transmit). */
#include <errno.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <winscard.h>

#include "autoconf.h"
#include "base/clock.h"
#include "base/log.h"
#include "core/card_id.h"
#include "drivers/card_conn.h"
#include "drivers/pcsc.h"

#define PNP_READER		"\\\\?PnP?\\Notification"
#define BACKOFF_MIN_MS		250
#define GLOB_MAX		256
/* How often a finished read re-sends its wake-up until the watcher has taken it:
 * SCardCancel is a no-op unless the watcher is inside SCardGetStatusChange. */
#define WAKE_RETRY_MS		50
/* Unexpected errors in a row before the watcher slows down (no hot loops). */
#define ERRORS_BEFORE_BACKOFF	3
/*
 * A card read that has not ended by then is given up (CARD_READ_FAILED): a real
 * reader's driver times a silent card out itself (CCID: the card's waiting time),
 * vpcd never does. A slow T=0 card reads a signed CHUID in ~3 s at 9600 baud.
 */
#ifndef CONFIG_PCSC_READ_TIMEOUT_MS
#define CONFIG_PCSC_READ_TIMEOUT_MS	5000
#endif

/* pcscd's event counter lives in the upper 16 bits of dwEventState. */
#define EVENT_COUNT(s)		(((s) >> 16) & 0xffff)

/*
 * State shared between the watcher, its read threads and pcsc_stop(). Refcounted:
 * a read thread stuck in SCardTransmit (vpcd has no timeout) may outlive the
 * watcher, so it must not point into the watcher itself.
 */
struct hub {
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* CLOCK_MONOTONIC */
	int		 refs;
	int		 stopping;
	int		 exited;	/* watcher thread is past its loop */
	int		 have_ctx;
	SCARDCONTEXT	 ctx;		/* the watcher's, for SCardCancel */
};

/* One card read, owned jointly by its thread and the watcher (refs, hub->lock). */
struct read_job {
	struct hub		*hub;
	int			 refs;
	int			 done;		/* thread finished: result valid */
	int			 collected;	/* watcher took the result */
	int			 orphan;	/* nobody wants the result any more */
	char			 reader[PCSC_READER_NAME_MAX];
	int			 ok;
	enum reader_error	 error;		/* !ok: why */
	struct card_identity	 id;
};

/* A watched reader; touched by the watcher thread only. */
struct reader {
	char		 name[PCSC_READER_NAME_MAX];
	DWORD		 state;		/* last dwEventState; UNAWARE at first */
	int		 seen;		/* state has been read once */
	int		 present;	/* CARD_INSERTED posted, no CARD_REMOVED yet */
	int		 startup;	/* a card present at first sight is "startup" */
	int		 read_pending;	/* insertion seen while a read was running */
	int		 post_result;	/* the running read's card is still here */
	int		 card_startup;	/* the present card was there at start */
	struct read_job	*job;		/* running read, or NULL */
	int64_t		 read_deadline;	/* CLOCK_MONOTONIC ms; job given up after */
};

struct pcsc_watcher {
	struct hub	*hub;
	pthread_t	 thread;
	char		 glob[GLOB_MAX];
	pcsc_event_cb	 cb;
	void		*arg;
	unsigned int	 seed;		/* backoff jitter */
	unsigned int	 backoff_ms;
	int		 errors;	/* unexpected GetStatusChange errors in a row */
	int		 pnp_said;	/* "no hotplug notification" logged once */
	size_t		 n;
	struct reader	 readers[CONFIG_MAX_READERS];
	SCARDCONTEXT	 ctx;
};

/* strlcpy() is glibc 2.38; Debian 12 has 2.36. Truncates, always terminates. */
static void
copy_str(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* ---- hub and jobs ---------------------------------------------------------------- */

static void
hub_unref_locked(struct hub *h)
{
	if (--h->refs > 0) {
		pthread_mutex_unlock(&h->lock);
		return;
	}
	pthread_mutex_unlock(&h->lock);
	pthread_cond_destroy(&h->cond);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* Drops a job reference; called with hub->lock held, returns with it released. */
static void
job_unref_locked(struct read_job *j)
{
	struct hub *h = j->hub;

	if (--j->refs == 0) {
		explicit_bzero(&j->id, sizeof(j->id));
		free(j);
		hub_unref_locked(h);	/* the job's reference on the hub */
		return;
	}
	pthread_mutex_unlock(&h->lock);
}

/* ---- events ----------------------------------------------------------------------- */

static void
post(struct pcsc_watcher *w, enum pcsc_event_type type, const char *reader,
    int startup, const struct card_identity *id)
{
	struct pcsc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = type;
	if (reader != NULL)
		copy_str(ev.reader, reader, sizeof(ev.reader));
	ev.startup = startup;
	if (id != NULL)
		ev.id = *id;
	w->cb(w->arg, &ev);
	explicit_bzero(&ev.id, sizeof(ev.id));
}

static void
post_failed(struct pcsc_watcher *w, const char *reader, int startup,
    enum reader_error why)
{
	struct pcsc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = PCSC_EV_CARD_READ_FAILED;
	copy_str(ev.reader, reader, sizeof(ev.reader));
	ev.startup = startup;
	ev.error = why;
	w->cb(w->arg, &ev);
}

/* ---- the read thread ------------------------------------------------------------ */

/*
 * The FASC-N as a diagnostic: only the issuer's codes (agency, system), which name
 * no person; the credential and person numbers stay out of the log.
 */
static void
log_fascn(const char *reader, const uint8_t *raw)
{
	struct card_fascn f;

	if (card_decode_fascn(raw, &f) == -1)
		log_info("pcsc: %s: fasc-n present but malformed (%s)", reader,
		    f.error);
	else if (f.no_credential)
		log_info("pcsc: %s: fasc-n of a non-federal issuer (no credential "
		    "number)", reader);
	else
		log_info("pcsc: %s: fasc-n agency %s system %s", reader, f.agency,
		    f.system);
	explicit_bzero(&f, sizeof(f));
}

/* Connects, reads the identity inside one transaction, leaves the card as it was
 * (card_conn.c). Returns 0 with j->id filled, or -1. */
static int
read_card(struct read_job *j)
{
	struct card_conn	c;
	char			err[160], tag[9];
	int			r = -1;

	if (card_conn_open(&c, j->reader, err, sizeof(err)) == -1) {
		j->error = !c.have_ctx ? READER_ERR_OTHER : c.fail == CARD_CONN_PROTOCOL ?
		    READER_ERR_ATR : READER_ERR_CONNECT;
		if (c.fail == CARD_CONN_GONE)
			log_info("pcsc: %s: card went away before it was read",
			    j->reader);
		else
			log_warnx("pcsc: %s: %s", j->reader, err);
		return -1;
	}
	if (card_conn_begin(&c, err, sizeof(err)) == -1) {
		j->error = READER_ERR_CONNECT;
		log_warnx("pcsc: %s: %s", j->reader, err);
		goto out;
	}
	if (card_conn_identity(&c, &j->id, err, sizeof(err)) == -1) {
		j->error = !c.atr_read ? READER_ERR_ATR : c.fail == CARD_CONN_TOO_LONG ?
		    READER_ERR_ANSWER : READER_ERR_TRANSMIT;
		if (c.fail == CARD_CONN_GONE)
			log_info("pcsc: %s: %s", j->reader, err);
		else
			log_warnx("pcsc: %s: reading the card: %s", j->reader, err);
		goto out;
	}
	card_log_tag(&j->id, tag);
	log_info("pcsc: %s: card %s: atr %zu bytes%s%s%s%s", j->reader, tag,
	    j->id.atr_len, j->id.has_cplc ? ", cplc" : "",
	    j->id.has_chuid ? ", chuid" : "", j->id.has_guid ? ", guid" : "",
	    j->id.has_expiry ? ", expiry" : "");
	if (j->id.has_fascn)
		log_fascn(j->reader, j->id.fascn);
	r = 0;
 out:
	card_conn_close(&c);
	return r;
}

static void *
read_main(void *arg)
{
	struct read_job	*j = arg;
	struct hub	*h = j->hub;
	struct timespec	 ts;
	SCARDCONTEXT	 ctx;
	int		 ok;

	ok = read_card(j) == 0;

	/*
	 * Hand the result to the watcher, which is blocked in SCardGetStatusChange:
	 * SCardCancel wakes it, but only if it is inside the call at that moment,
	 * so repeat until it has taken the result (or nobody wants it).
	 */
	pthread_mutex_lock(&h->lock);
	j->ok = ok;
	j->done = 1;
	while (!j->collected && !j->orphan && !h->stopping) {
		if (h->have_ctx) {
			ctx = h->ctx;
			pthread_mutex_unlock(&h->lock);
			(void)SCardCancel(ctx);
			pthread_mutex_lock(&h->lock);
		}
		if (j->collected || j->orphan || h->stopping)
			break;
		clock_mono_in(&ts, WAKE_RETRY_MS);
		(void)pthread_cond_timedwait(&h->cond, &h->lock, &ts);
	}
	job_unref_locked(j);
	return NULL;
}

/* Starts a read on r. Returns 0, or -1 (READ_FAILED is then the caller's to post). */
static int
start_read(struct pcsc_watcher *w, struct reader *r)
{
	struct read_job	*j;
	pthread_attr_t	 attr;
	pthread_t	 t;
	int		 e;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		log_warn("pcsc: %s: read", r->name);
		return -1;
	}
	j->hub = w->hub;
	j->refs = 2;			/* the thread's and the reader's */
	copy_str(j->reader, r->name, sizeof(j->reader));

	pthread_mutex_lock(&w->hub->lock);
	w->hub->refs++;			/* the job's */
	pthread_mutex_unlock(&w->hub->lock);

	/* Detached: a thread stuck in SCardTransmit is abandoned, never joined. */
	if ((e = pthread_attr_init(&attr)) == 0) {
		(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		e = pthread_create(&t, &attr, read_main, j);
		(void)pthread_attr_destroy(&attr);
	}
	if (e != 0) {
		errno = e;
		log_warn("pcsc: %s: read thread", r->name);
		pthread_mutex_lock(&w->hub->lock);
		j->refs = 1;
		job_unref_locked(j);
		return -1;
	}
	r->job = j;
	r->post_result = 1;
	r->read_pending = 0;
	r->read_deadline = clock_mono_ms() + CONFIG_PCSC_READ_TIMEOUT_MS;
	return 0;
}

/* The reader will never look at its running job again (reader gone, reconnect, stop). */
static void
orphan_job(struct reader *r)
{
	struct read_job *j = r->job;

	if (j == NULL)
		return;
	pthread_mutex_lock(&j->hub->lock);
	j->orphan = 1;
	pthread_cond_broadcast(&j->hub->cond);
	job_unref_locked(j);
	r->job = NULL;
}

static void
card_arrived(struct pcsc_watcher *w, struct reader *r, int startup)
{
	r->present = 1;
	r->card_startup = startup;
	post(w, PCSC_EV_CARD_INSERTED, r->name, startup, NULL);
	if (r->job != NULL) {
		/*
		 * The previous card's read is still running (a stuck card): this one
		 * is read when that thread returns, which it does once the old card's
		 * connection is gone.
		 */
		log_info("pcsc: %s: reader busy, read deferred", r->name);
		r->read_pending = 1;
		return;
	}
	if (start_read(w, r) == -1)
		post_failed(w, r->name, startup, READER_ERR_OTHER);
}

static void
card_left(struct pcsc_watcher *w, struct reader *r)
{
	r->present = 0;
	r->read_pending = 0;
	r->post_result = 0;	/* a result still to come is the old card's */
	post(w, PCSC_EV_CARD_REMOVED, r->name, 0, NULL);
}

/* Takes the results of finished reads and posts them (from this thread only, so
 * that a card's events always arrive in order). */
static void
collect_reads(struct pcsc_watcher *w)
{
	struct reader		*r;
	struct read_job		*j;
	struct card_identity	 id;
	enum reader_error	 why = READER_ERR_OTHER;
	size_t			 i;
	int			 done, ok;

	for (i = 0; i < w->n; i++) {
		r = &w->readers[i];
		if ((j = r->job) == NULL)
			continue;
		pthread_mutex_lock(&w->hub->lock);
		if ((done = j->done)) {
			j->collected = 1;
			ok = j->ok;
			why = j->error;
			id = j->id;
			pthread_cond_broadcast(&w->hub->cond);
			job_unref_locked(j);
			r->job = NULL;
		} else
			pthread_mutex_unlock(&w->hub->lock);
		if (!done)
			continue;
		if (r->post_result && r->present && ok)
			post(w, PCSC_EV_CARD_IDENTITY, r->name, r->card_startup, &id);
		else if (r->post_result && r->present)
			post_failed(w, r->name, r->card_startup, why);
		explicit_bzero(&id, sizeof(id));
		r->post_result = 0;
		if (r->present && r->read_pending && start_read(w, r) == -1)
			post_failed(w, r->name, r->card_startup, READER_ERR_OTHER);
	}
}

/*
 * Gives up on reads that ran past their deadline: the reader reports
 * CARD_READ_FAILED now, and its thread is left to return whenever the card
 * answers or goes (the reader stays busy until then). Returns how long the watcher
 * may wait for the next deadline, INFINITE when no read is running (idle: no
 * wake-ups).
 */
static DWORD
expire_reads(struct pcsc_watcher *w)
{
	struct reader	*r;
	int64_t		 now = clock_mono_ms(), left, min = -1;
	size_t		 i;

	for (i = 0; i < w->n; i++) {
		r = &w->readers[i];
		if (r->job == NULL || !r->post_result)
			continue;
		if ((left = r->read_deadline - now) > 0) {
			if (min == -1 || left < min)
				min = left;
			continue;
		}
		log_warnx("pcsc: %s: card not answering after %d ms; read given "
		    "up (reader busy until the card answers or is removed)",
		    r->name, CONFIG_PCSC_READ_TIMEOUT_MS);
		r->post_result = 0;
		if (r->present)
			post_failed(w, r->name, r->card_startup, READER_ERR_TIMEOUT);
	}
	return min == -1 ? INFINITE : (DWORD)min;
}

/* ---- the watcher ------------------------------------------------------------------- */

static int
stopping(struct pcsc_watcher *w)
{
	int s;

	pthread_mutex_lock(&w->hub->lock);
	s = w->hub->stopping;
	pthread_mutex_unlock(&w->hub->lock);
	return s;
}

/* Sleeps ms unless pcsc_stop() comes first. Returns -1 when stopping. */
static int
nap(struct pcsc_watcher *w, unsigned int ms)
{
	struct timespec	ts;
	int		s;

	clock_mono_in(&ts, ms);
	pthread_mutex_lock(&w->hub->lock);
	while (!w->hub->stopping &&
	    pthread_cond_timedwait(&w->hub->cond, &w->hub->lock, &ts) != ETIMEDOUT)
		;
	s = w->hub->stopping;
	pthread_mutex_unlock(&w->hub->lock);
	return s ? -1 : 0;
}

/* The next wait: the current backoff minus up to a quarter of jitter, then doubled. */
static unsigned int
next_backoff(struct pcsc_watcher *w)
{
	unsigned int ms = w->backoff_ms;

	ms -= (unsigned int)rand_r(&w->seed) % (ms / 4 + 1);
	w->backoff_ms *= 2;
	if (w->backoff_ms > CONFIG_PCSC_RETRY_MAX_MS)
		w->backoff_ms = CONFIG_PCSC_RETRY_MAX_MS;
	return ms;
}

/* Establishes the watcher's context, retrying while pcscd is away. Returns -1 only
 * when stopping. */
static int
establish(struct pcsc_watcher *w, int *down_posted)
{
	SCARDCONTEXT	ctx;
	LONG		rv;

	for (;;) {
		if (stopping(w))
			return -1;
		rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx);
		if (rv == SCARD_S_SUCCESS)
			break;
		if (!*down_posted) {
			log_warnx("pcsc: SCardEstablishContext: %s; retrying",
			    pcsc_stringify_error(rv));
			post(w, PCSC_EV_SERVICE_DOWN, NULL, 0, NULL);
			*down_posted = 1;
		} else
			log_debug("pcsc: SCardEstablishContext: %s",
			    pcsc_stringify_error(rv));
		if (nap(w, next_backoff(w)) == -1)
			return -1;
	}

	pthread_mutex_lock(&w->hub->lock);
	w->ctx = w->hub->ctx = ctx;
	w->hub->have_ctx = 1;
	pthread_mutex_unlock(&w->hub->lock);
	if (*down_posted)
		log_info("pcsc: pcscd is back");
	*down_posted = 0;
	post(w, PCSC_EV_SERVICE_UP, NULL, 0, NULL);
	return 0;
}

static void
release(struct pcsc_watcher *w)
{
	LONG rv;

	pthread_mutex_lock(&w->hub->lock);
	if (!w->hub->have_ctx) {
		pthread_mutex_unlock(&w->hub->lock);
		return;
	}
	w->hub->have_ctx = 0;
	pthread_mutex_unlock(&w->hub->lock);
	/* After a pcscd restart this fails too; the context is gone either way. */
	rv = SCardReleaseContext(w->ctx);
	if (rv != SCARD_S_SUCCESS)
		log_debug("pcsc: SCardReleaseContext: %s",
		    pcsc_stringify_error(rv));
}

/* Forgets reader i, posting CARD_REMOVED first when a card was there. */
static void
drop_reader(struct pcsc_watcher *w, size_t i, int notify)
{
	struct reader *r = &w->readers[i];

	if (notify) {
		if (r->present)
			card_left(w, r);
		post(w, PCSC_EV_READER_REMOVED, r->name, 0, NULL);
	}
	log_info("pcsc: reader %s: gone", r->name);
	orphan_job(r);
	memmove(r, r + 1, (w->n - i - 1) * sizeof(*r));
	w->n--;
}

static int
in_list(const char *list, const char *name)
{
	const char *p;

	for (p = list; *p != '\0'; p += strlen(p) + 1)
		if (strcmp(p, name) == 0)
			return 1;
	return 0;
}

/*
 * Brings the watched set in line with pcscd's reader list. startup: readers found
 * now (at start, after a reconnect) count their cards as "already there".
 * Returns 0, or -1 when the context is lost.
 */
static int
relist(struct pcsc_watcher *w, int startup, LONG *lost)
{
	LPSTR		 list = NULL;
	DWORD		 len = SCARD_AUTOALLOCATE;
	const char	*p, *none = "\0";
	struct reader	*r;
	size_t		 i, n;
	LONG		 rv;

	rv = SCardListReaders(w->ctx, NULL, (LPSTR)&list, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE) {
		list = NULL;
		p = none;
	} else if (rv != SCARD_S_SUCCESS) {
		log_warnx("pcsc: SCardListReaders: %s", pcsc_stringify_error(rv));
		*lost = rv;
		return -1;
	} else
		p = list;

	/* Gone first, so that their slots are free for newcomers. */
	for (i = 0; i < w->n; )
		if (!in_list(p, w->readers[i].name))
			drop_reader(w, i, 1);
		else
			i++;

	for (; *p != '\0'; p += strlen(p) + 1) {
		if (fnmatch(w->glob, p, 0) != 0)
			continue;
		for (i = 0; i < w->n; i++)
			if (strcmp(w->readers[i].name, p) == 0)
				break;
		if (i < w->n)
			continue;
		if ((n = strlen(p)) >= PCSC_READER_NAME_MAX) {
			log_warnx("pcsc: reader name of %zu bytes ignored", n);
			continue;
		}
		if (w->n >= CONFIG_MAX_READERS) {
			log_warnx("pcsc: %s: ignored, already watching %d readers",
			    p, CONFIG_MAX_READERS);
			continue;
		}
		r = &w->readers[w->n++];
		memset(r, 0, sizeof(*r));
		memcpy(r->name, p, n + 1);
		r->state = SCARD_STATE_UNAWARE;
		r->startup = startup;
		log_info("pcsc: reader %s: watching", r->name);
		post(w, PCSC_EV_READER_ADDED, r->name, 0, NULL);
	}
	if (list != NULL)
		(void)SCardFreeMemory(w->ctx, list);
	return 0;
}

/* see pcsc.h */
int
pcsc_transition(int seen, int was_present, unsigned long old_state,
    unsigned long new_state)
{
	int now = (new_state & SCARD_STATE_PRESENT) != 0, swapped, t = 0;

	/*
	 * Out and back in between two of pcscd's polls looks like "still present";
	 * the event counter tells that it was another insertion. Before the first
	 * answer (UNAWARE) there is no counter to compare with.
	 */
	swapped = seen && was_present && now &&
	    EVENT_COUNT(new_state) != EVENT_COUNT(old_state);
	if (was_present && (!now || swapped))
		t |= PCSC_T_LEFT;
	if (now && (!was_present || swapped))
		t |= PCSC_T_ARRIVED;
	return t;
}

/* Acts on one reader's new state. Returns 1 when the reader list must be re-read. */
static int
reader_changed(struct pcsc_watcher *w, struct reader *r, DWORD st)
{
	int t;

	if (st & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE))
		return 1;
	t = pcsc_transition(r->seen, r->present, r->state, st);
	if (t & PCSC_T_LEFT)
		card_left(w, r);
	if (t & PCSC_T_ARRIVED)
		card_arrived(w, r, !r->seen && r->startup);
	r->state = st & ~SCARD_STATE_CHANGED;
	r->seen = 1;
	return 0;
}

static int
context_lost(LONG rv)
{
	return rv == SCARD_F_COMM_ERROR || rv == SCARD_E_NO_SERVICE ||
	    rv == SCARD_E_SERVICE_STOPPED || rv == SCARD_E_INVALID_HANDLE;
}

/* Runs on one context until it is lost (returns 0) or pcsc_stop() (returns -1). */
static int
watch(struct pcsc_watcher *w)
{
	SCARD_READERSTATE	 rs[CONFIG_MAX_READERS + 1];
	DWORD			 pnp = 0, timeout;
	LONG			 rv = SCARD_S_SUCCESS;
	size_t			 i, n;
	int			 again, first = 1;

	w->errors = 0;
	if (relist(w, 1, &rv) == -1)
		return stopping(w) ? -1 : 0;

	for (;;) {
		n = w->n;
		memset(rs, 0, sizeof(rs));
		for (i = 0; i < n; i++) {
			rs[i].szReader = w->readers[i].name;
			rs[i].dwCurrentState = w->readers[i].state;
		}
		rs[n].szReader = PNP_READER;
		rs[n].dwCurrentState = pnp;

		pthread_mutex_lock(&w->hub->lock);
		if (w->hub->stopping) {
			pthread_mutex_unlock(&w->hub->lock);
			return -1;
		}
		pthread_mutex_unlock(&w->hub->lock);

		/*
		 * No timeout unless a read is running: idle, the daemon must not wake
		 * up. Finished reads and pcsc_stop() come in through SCardCancel.
		 */
		timeout = expire_reads(w);
		rv = SCardGetStatusChange(w->ctx, timeout, rs, (DWORD)(n + 1));
		if (stopping(w))
			return -1;
		collect_reads(w);

		if (rv == SCARD_E_CANCELLED || rv == SCARD_E_TIMEOUT)
			continue;
		if (context_lost(rv)) {
			log_warnx("pcsc: SCardGetStatusChange: %s",
			    pcsc_stringify_error(rv));
			return 0;
		}
		if (rv == SCARD_E_UNKNOWN_READER ||
		    rv == SCARD_E_READER_UNAVAILABLE) {
			log_debug("pcsc: SCardGetStatusChange: %s; re-listing",
			    pcsc_stringify_error(rv));
			if (++w->errors > ERRORS_BEFORE_BACKOFF &&
			    nap(w, next_backoff(w)) == -1)
				return -1;
			if (relist(w, 0, &rv) == -1)
				return stopping(w) ? -1 : 0;
			continue;
		}
		if (rv != SCARD_S_SUCCESS) {
			log_warnx("pcsc: SCardGetStatusChange: %s",
			    pcsc_stringify_error(rv));
			if (++w->errors > ERRORS_BEFORE_BACKOFF)
				return 0;	/* start over on a new context */
			continue;
		}
		w->errors = 0;
		if (first) {
			w->backoff_ms = BACKOFF_MIN_MS;	/* pcscd is really there */
			first = 0;
		}

		/* The list may have changed under collect_reads: match by name. */
		again = 0;
		for (i = 0; i < n && i < w->n; i++) {
			if (rs[i].szReader != w->readers[i].name)
				continue;
			if ((rs[i].dwEventState & SCARD_STATE_CHANGED) == 0 &&
			    w->readers[i].seen)
				continue;
			again |= reader_changed(w, &w->readers[i],
			    rs[i].dwEventState);
		}
		if (rs[n].dwEventState & SCARD_STATE_CHANGED)
			again = 1;
		/*
		 * A pcsc-lite or driver without reader hotplug answers the PnP pseudo
		 * reader with UNKNOWN/IGNORE: say so once. Nothing polls for it; the
		 * list is re-read on the errors that mean it changed (above).
		 */
		if ((rs[n].dwEventState & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE)) &&
		    !w->pnp_said) {
			log_info("pcsc: reader hotplug notification not available; "
			    "re-listing readers when pcscd reports an unknown reader");
			w->pnp_said = 1;
		}
		pnp = rs[n].dwEventState & ~SCARD_STATE_CHANGED;
		if (again && relist(w, 0, &rv) == -1)
			return stopping(w) ? -1 : 0;
	}
}

static void *
watcher_main(void *arg)
{
	struct pcsc_watcher	*w = arg;
	int			 down_posted = 0;
	size_t			 i;

	while (establish(w, &down_posted) == 0) {
		if (watch(w) == -1)
			break;
		/*
		 * Context lost (pcscd restarted or gone): we cannot know what happened
		 * to the readers meanwhile, so they are all reported removed, and the
		 * ones that come back are re-announced with their cards as "startup".
		 */
		release(w);
		while (w->n > 0)
			drop_reader(w, w->n - 1, 1);
		log_warnx("pcsc: lost pcscd; reconnecting");
		post(w, PCSC_EV_SERVICE_DOWN, NULL, 0, NULL);
		down_posted = 1;
		if (nap(w, next_backoff(w)) == -1)
			break;
	}

	release(w);
	for (i = 0; i < w->n; i++)
		orphan_job(&w->readers[i]);
	w->n = 0;
	pthread_mutex_lock(&w->hub->lock);
	w->hub->exited = 1;
	pthread_cond_broadcast(&w->hub->cond);
	pthread_mutex_unlock(&w->hub->lock);
	return NULL;
}

/* see pcsc.h */
struct pcsc_watcher *
pcsc_start(const char *reader_glob, pcsc_event_cb cb, void *arg)
{
	struct pcsc_watcher	*w;
	struct hub		*h;
	int			 e;

	if (reader_glob == NULL)
		reader_glob = "*";
	if (strlen(reader_glob) >= GLOB_MAX) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		free(w);
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	clock_cond_init(&h->cond);
	h->refs = 1;			/* the watcher's, dropped by pcsc_stop() */

	w->hub = h;
	copy_str(w->glob, reader_glob, sizeof(w->glob));
	w->cb = cb;
	w->arg = arg;
	w->backoff_ms = BACKOFF_MIN_MS;
	w->seed = (unsigned int)getpid() ^ (unsigned int)time(NULL) ^
	    (unsigned int)(uintptr_t)w;

	if ((e = pthread_create(&w->thread, NULL, watcher_main, w)) != 0) {
		pthread_mutex_lock(&h->lock);
		hub_unref_locked(h);
		free(w);
		errno = e;
		return NULL;
	}
	return w;
}

/* see pcsc.h */
void
pcsc_stop(struct pcsc_watcher *w)
{
	struct hub	*h;
	struct timespec	 ts;
	SCARDCONTEXT	 ctx;

	if (w == NULL)
		return;
	h = w->hub;
	pthread_mutex_lock(&h->lock);
	h->stopping = 1;
	pthread_cond_broadcast(&h->cond);
	/* As in read_main: a cancel only lands inside SCardGetStatusChange. */
	while (!h->exited) {
		if (h->have_ctx) {
			ctx = h->ctx;
			pthread_mutex_unlock(&h->lock);
			(void)SCardCancel(ctx);
			pthread_mutex_lock(&h->lock);
		}
		if (h->exited)
			break;
		clock_mono_in(&ts, WAKE_RETRY_MS);
		(void)pthread_cond_timedwait(&h->cond, &h->lock, &ts);
	}
	pthread_mutex_unlock(&h->lock);
	pthread_join(w->thread, NULL);

	pthread_mutex_lock(&h->lock);
	hub_unref_locked(h);
	free(w);
}
