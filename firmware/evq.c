/* SPDX-License-Identifier: BSD-2-Clause */
/* evq.c — see evq.h. Under one mutex: a table of per-reader pending states (what the
 * loop has not been told yet about each reader, as flags in delivery order), pcscd's
 * up/down flags, a slot per agent reader for check results and session reports, a ring
 * of commands, and two flags; plus an eventfd counter to wake the loop.
 *
 * A reader's pending state, in the order evq_pop delivers it:
 *   rm    READER_REMOVED (the loop knew the reader: it was delivered ADDED)
 *   add   READER_ADDED
 *   gone  CARD_REMOVED (a card the loop may know of left)
 *   ins   CARD_INSERTED (startup)
 *   res   the read's result: IDENTITY (id) or READ_FAILED
 * A newer fact overwrites what it makes moot (a removal drops an insertion and read
 * result not yet delivered; SERVICE_DOWN, delivered before any reader's, leaves only
 * the removals), so the table never holds more than the watcher's readers
 * plus those the loop knows and must hear are gone: 2 * CONFIG_MAX_READERS. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "base/pages.h"
#include "evq.h"

#define RDR_SLOTS	(2 * CONFIG_MAX_READERS + 1)

enum res { RES_NONE, RES_IDENTITY, RES_FAILED };

struct rdr {
	int			used;
	char			name[READER_NAME_MAX];
	int			rm, add, gone, ins;
	enum res		res;
	int			ins_startup, res_startup;
	enum reader_error	res_error;
	struct card_identity	id;
};

/* A command as queued: what the listeners send, without the bulk of struct event. */
struct cmd {
	enum ev_type	type;
	char		reader[READER_NAME_MAX];
	char		prompt_id[AGENT_PROMPT_ID_MAX];
	char		source[64];
};

/* One allocation of zeroed pages (base/pages.h): a page is resident only once written,
 * so the slots of readers that never report and the commands never queued cost
 * nothing (the ring starts over at its first entry whenever it empties). */
struct evq {
	pthread_mutex_t	 mu;
	int		 fd;
	int		 down;		/* SERVICE_DOWN pending */
	unsigned	 ups;		/* SERVICE_UP pending (how many) */
	int		 reconnect, reload;
	size_t		 size;		/* of this allocation */
	size_t		 cap, head, len;
	int		 check[CONFIG_MAX_READERS];	/* pending flags */
	int		 prog[CONFIG_MAX_READERS], done[CONFIG_MAX_READERS];
	struct rdr	 rdr[RDR_SLOTS];
	struct event	 checks[CONFIG_MAX_READERS];
	struct event	 progs[CONFIG_MAX_READERS], dones[CONFIG_MAX_READERS];
	struct cms_result popped;	/* the result evq_pop handed out last */
	struct cms_result results[CONFIG_MAX_READERS];	/* the checks' results */
	struct cmd	 cmds[];	/* cap */
};

/* see evq.h */
struct evq *
evq_new(size_t cmd_cap)
{
	struct evq *q;
	size_t size;

	if (cmd_cap == 0 || cmd_cap > (SIZE_MAX - sizeof(*q)) / sizeof(q->cmds[0])) {
		errno = EINVAL;
		return NULL;
	}
	size = sizeof(*q) + cmd_cap * sizeof(q->cmds[0]);
	if ((q = pages_alloc(size)) == NULL)
		return NULL;
	if ((q->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		int e = errno;

		pages_free(q, size);
		errno = e;
		return NULL;
	}
	pthread_mutex_init(&q->mu, NULL);
	q->size = size;
	q->cap = cmd_cap;
	return q;
}

/* see evq.h */
void
evq_free(struct evq *q)
{
	if (q == NULL)
		return;
	close(q->fd);
	pthread_mutex_destroy(&q->mu);
	pages_free(q, q->size);
}

static void
wake(struct evq *q)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is saturated, the loop is awake anyway. */
	if (write(q->fd, &one, sizeof(one)) < 0) {
		/* nothing to do */
	}
}

static struct rdr *
rdr_find(struct evq *q, const char *name)
{
	for (int i = 0; i < RDR_SLOTS; i++)
		if (q->rdr[i].used && strcmp(q->rdr[i].name, name) == 0)
			return &q->rdr[i];
	return NULL;
}

static struct rdr *
rdr_get(struct evq *q, const char *name)
{
	struct rdr *r = rdr_find(q, name);

	if (r != NULL)
		return r;
	for (int i = 0; i < RDR_SLOTS; i++)
		if (!q->rdr[i].used) {
			r = &q->rdr[i];
			memset(r, 0, sizeof(*r));
			r->used = 1;
			snprintf(r->name, sizeof(r->name), "%s", name);
			return r;
		}
	return NULL;	/* cannot happen: see the bound above */
}

static void
rdr_free_if_idle(struct rdr *r)
{
	if (!r->rm && !r->add && !r->gone && !r->ins && r->res == RES_NONE) {
		explicit_bzero(r, sizeof(*r));
		r->used = 0;
	}
}

/* Applies one reader/card event to its reader's pending state. */
static int
post_reader(struct evq *q, const struct event *ev)
{
	struct rdr *r = rdr_get(q, ev->reader);

	if (r == NULL)
		return -1;
	switch (ev->type) {
	case EV_READER_ADDED:
		r->add = 1;
		break;
	case EV_READER_REMOVED:
		/* Never delivered as added: the loop need not hear of it at all. */
		if (r->add && !r->rm) {
			explicit_bzero(r, sizeof(*r));
			r->used = 0;
			return 0;
		}
		r->rm = 1;
		r->add = r->gone = r->ins = 0;
		r->res = RES_NONE;
		break;
	case EV_CARD_INSERTED:
		r->ins = 1;
		r->ins_startup = ev->startup;
		r->res = RES_NONE;
		break;
	case EV_CARD_IDENTITY:
		r->res = RES_IDENTITY;
		r->res_startup = ev->startup;
		r->id = ev->id;
		break;
	case EV_CARD_READ_FAILED:
		r->res = RES_FAILED;
		r->res_startup = ev->startup;
		r->res_error = ev->error;
		break;
	case EV_CARD_REMOVED:
		r->gone = 1;
		r->ins = 0;
		r->res = RES_NONE;
		break;
	default:
		break;
	}
	rdr_free_if_idle(r);
	return 0;
}

/* see evq.h */
int
evq_post(struct evq *q, const struct event *ev)
{
	int rc = 0;

	if (strnlen(ev->reader, sizeof(ev->reader)) == sizeof(ev->reader) ||
	    ((ev->type == EV_CHECK_DONE || ev->type == EV_SESSION_PROGRESS ||
	    ev->type == EV_SESSION_DONE) &&
	    (ev->slot < 0 || ev->slot >= CONFIG_MAX_READERS)) ||
	    (ev->type == EV_CHECK_DONE && ev->result == NULL)) {
		errno = EINVAL;
		return -1;
	}
	pthread_mutex_lock(&q->mu);
	switch (ev->type) {
	case EV_SERVICE_DOWN:
		/* pcscd gone: the loop forgets every reader (SERVICE_DOWN is delivered
		 * first); what was pending for them is moot but for their removal, which
		 * the loop still counts (the watcher re-announces what it finds). */
		q->down = 1;
		q->ups = 0;
		for (int i = 0; i < RDR_SLOTS; i++) {
			struct rdr *r = &q->rdr[i];

			if (!r->used)
				continue;
			r->add = r->gone = r->ins = 0;
			r->res = RES_NONE;
			rdr_free_if_idle(r);
		}
		break;
	case EV_SERVICE_UP:
		q->ups++;
		break;
	case EV_READER_ADDED:
	case EV_READER_REMOVED:
	case EV_CARD_INSERTED:
	case EV_CARD_IDENTITY:
	case EV_CARD_READ_FAILED:
	case EV_CARD_REMOVED:
		rc = post_reader(q, ev);
		break;
	case EV_CHECK_DONE:
		q->checks[ev->slot] = *ev;
		q->checks[ev->slot].result = NULL;
		q->results[ev->slot] = *ev->result;
		q->check[ev->slot] = 1;
		break;
	case EV_SESSION_PROGRESS:
		q->progs[ev->slot] = *ev;
		q->prog[ev->slot] = 1;
		break;
	case EV_SESSION_DONE:
		q->dones[ev->slot] = *ev;
		q->done[ev->slot] = 1;
		break;
	case EV_MANUAL_CHECK:
	case EV_PROCEED:
	case EV_CLOSE:
	case EV_SESSION_CANCEL: {
		struct cmd *c;

		if (q->len == q->cap) {
			rc = -1;
			errno = ENOBUFS;
			break;
		}
		c = &q->cmds[(q->head + q->len++) % q->cap];
		c->type = ev->type;
		memcpy(c->reader, ev->reader, sizeof(c->reader));
		memcpy(c->prompt_id, ev->prompt_id, sizeof(c->prompt_id));
		c->prompt_id[sizeof(c->prompt_id) - 1] = '\0';
		memcpy(c->source, ev->source, sizeof(c->source));
		c->source[sizeof(c->source) - 1] = '\0';
		break;
	}
	case EV_RECONNECT:
		q->reconnect = 1;
		break;
	case EV_RELOAD:
		q->reload = 1;
		break;
	}
	pthread_mutex_unlock(&q->mu);
	if (rc == 0)
		wake(q);
	return rc;
}

/* Takes the first pending item of reader r into out. */
static void
pop_reader(struct rdr *r, struct event *out)
{
	snprintf(out->reader, sizeof(out->reader), "%s", r->name);
	if (r->rm) {
		out->type = EV_READER_REMOVED;
		r->rm = 0;
	} else if (r->add) {
		out->type = EV_READER_ADDED;
		r->add = 0;
	} else if (r->gone) {
		out->type = EV_CARD_REMOVED;
		r->gone = 0;
	} else if (r->ins) {
		out->type = EV_CARD_INSERTED;
		out->startup = r->ins_startup;
		r->ins = 0;
	} else if (r->res == RES_IDENTITY) {
		out->type = EV_CARD_IDENTITY;
		out->startup = r->res_startup;
		out->id = r->id;
		r->res = RES_NONE;
	} else {
		out->type = EV_CARD_READ_FAILED;
		out->startup = r->res_startup;
		out->error = r->res_error;
		r->res = RES_NONE;
	}
	rdr_free_if_idle(r);
}

/* see evq.h */
int
evq_pop(struct evq *q, struct event *out)
{
	int got = 1;

	memset(out, 0, sizeof(*out));
	pthread_mutex_lock(&q->mu);
	if (q->down) {
		out->type = EV_SERVICE_DOWN;
		q->down = 0;
		goto out;
	}
	if (q->ups > 0) {
		out->type = EV_SERVICE_UP;
		out->reconnects = q->ups;
		q->ups = 0;
		goto out;
	}
	for (int i = 0; i < RDR_SLOTS; i++)
		if (q->rdr[i].used) {
			pop_reader(&q->rdr[i], out);
			goto out;
		}
	for (int i = 0; i < CONFIG_MAX_READERS; i++) {
		if (q->check[i]) {
			*out = q->checks[i];
			q->popped = q->results[i];
			out->result = &q->popped;
			q->check[i] = 0;
			goto out;
		}
		if (q->prog[i]) {
			*out = q->progs[i];
			q->prog[i] = 0;
			goto out;
		}
		if (q->done[i]) {
			*out = q->dones[i];
			q->done[i] = 0;
			goto out;
		}
	}
	if (q->len > 0) {
		struct cmd *c = &q->cmds[q->head];

		out->type = c->type;
		memcpy(out->reader, c->reader, sizeof(out->reader));
		memcpy(out->prompt_id, c->prompt_id, sizeof(out->prompt_id));
		memcpy(out->source, c->source, sizeof(out->source));
		q->head = (q->head + 1) % q->cap;
		if (--q->len == 0)
			q->head = 0;	/* the ring's later pages stay untouched */
		goto out;
	}
	if (q->reconnect) {
		out->type = EV_RECONNECT;
		q->reconnect = 0;
		goto out;
	}
	if (q->reload) {
		out->type = EV_RELOAD;
		q->reload = 0;
		goto out;
	}
	got = 0;
out:
	pthread_mutex_unlock(&q->mu);
	return got;
}

/* see evq.h */
int
evq_fd(const struct evq *q)
{
	return q->fd;
}

/* see evq.h */
void
evq_drain_fd(struct evq *q)
{
	uint64_t n;

	if (read(q->fd, &n, sizeof(n)) < 0) {
		/* EAGAIN: nothing to drain */
	}
}
