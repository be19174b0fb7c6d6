/* SPDX-License-Identifier: BSD-2-Clause */
/* session.c — see session.h. The loop follows the binding text: a void report first,
 * the order's delay (default 1 s) between a response and the next request, a 40 s
 * response timeout, immediate reconnection when a connection drops, and giving up
 * after 5 minutes without a successful exchange. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/clock.h"
#include "cms/https.h"
#include "base/log.h"
#include "core/seram.h"
#include "cms/session.h"

/* Live session threads: counted so that none is left beyond the cap, and so that the
 * owner can wait for every one before freeing what their callbacks touch. */
static pthread_mutex_t	live_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t	live_cv;
static pthread_once_t	live_once = PTHREAD_ONCE_INIT;
static int		live;

static void
live_init(void)
{
	clock_cond_init(&live_cv);
}

struct session {
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 refs;		/* owner + thread */
	int			 cancelled;
	char			 why[80];
	struct session_params	 p;
	struct https_client	*https;
	session_cb		 cb;
	void			*arg;
	/* thread-only */
	void			*card;		/* p.port's handle */
	struct http_url		 hs_url, rm_url;
	int			 apdus;
	struct seram_order	 order;
	struct seram_response	 resp[SERAM_MAX_COMMANDS];
	struct seram_rapdu	*rpool;		/* SERAM_MAX_CAPDUS entries */
};

/* see session.h */
void
session_se_id(const struct card_identity *id, char *out, size_t outlen)
{
	char hex[2 * CARD_ATR_MAX + 1];

	if (id->has_cplc)	/* ICSerialNumber: 4 bytes at offset 12 */
		snprintf(out, outlen, "%s", card_hex(id->cplc + 12, 4, hex));
	else if (id->has_guid)
		snprintf(out, outlen, "%s", card_hex(id->guid, CARD_GUID_LEN, hex));
	else
		snprintf(out, outlen, "%s", card_hex(id->atr, id->atr_len, hex));
}

static void
unref(struct session *s)
{
	int last;

	pthread_mutex_lock(&s->mu);
	last = --s->refs == 0;
	pthread_mutex_unlock(&s->mu);
	if (!last)
		return;
	https_client_free(s->https);
	free(s->rpool);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	explicit_bzero(s, sizeof(*s));
	free(s);
}

static int
is_cancelled(struct session *s)
{
	int c;

	pthread_mutex_lock(&s->mu);
	c = s->cancelled;
	pthread_mutex_unlock(&s->mu);
	return c;
}

/* Sleeps ms unless cancelled. Returns -1 when cancelled. */
static int
pause_ms(struct session *s, long ms)
{
	struct timespec ts;
	int c;

	clock_mono_in(&ts, ms);
	pthread_mutex_lock(&s->mu);
	while (!s->cancelled)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &ts) == ETIMEDOUT)
			break;
	c = s->cancelled;
	pthread_mutex_unlock(&s->mu);
	return c ? -1 : 0;
}

static void
report(struct session *s, enum session_ev_type t, int ok, const char *code,
    const char *text, int64_t t0)
{
	struct session_report r;

	memset(&r, 0, sizeof(r));
	r.type = t;
	r.reader_idx = s->p.reader_idx;
	snprintf(r.reader, sizeof(r.reader), "%s", s->p.reader);
	r.serial = s->p.serial;
	r.ok = ok;
	snprintf(r.code, sizeof(r.code), "%s", code ? code : "");
	snprintf(r.text, sizeof(r.text), "%s", text ? text : "");
	r.apdus = s->apdus;
	r.duration_ms = (long)(clock_mono_ms() - t0);
	s->cb(s->arg, &r);
}

static int
make_url(struct session *s, const char *endpoint, struct http_url *u)
{
	char url[CMS_URL_MAX + 128];
	size_t n = strlen(s->p.seram_url);

	while (n > 0 && s->p.seram_url[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s/%s?sessionId=%s", (int)n, s->p.seram_url, endpoint,
	    s->p.session_id);
	return http_parse_url(url, u);
}

/* Runs one seRamCommand on the card. Returns 0, or -1 when the card is gone (the
 * remaining answers are empty strings). */
static int
run_apdus(struct session *s, const struct seram_cmd *cmd, struct seram_response *out,
    struct seram_rapdu *slots, char *err, size_t errlen)
{
	int rc = 0;

	out->n = cmd->n_capdu;
	out->rapdu = slots;
	for (size_t i = 0; i < cmd->n_capdu; i++)
		slots[i].len = 0;
	if (s->p.port->begin(s->card, err, errlen) == -1)
		return -1;
	for (size_t i = 0; i < cmd->n_capdu; i++) {
		const struct seram_capdu *c = &cmd->capdu[i];

		if (is_cancelled(s)) {
			snprintf(err, errlen, "session cancelled");
			rc = -1;
			break;
		}
		/* Never the payload: header and lengths only. */
		log_debug("session: %s: APDU %02X%02X%02X%02X (%zu bytes)", s->p.reader,
		    c->bytes[0], c->bytes[1], c->bytes[2], c->bytes[3], c->len);
		if (s->p.port->apdu(s->card, c->bytes, c->len, slots[i].bytes,
		    sizeof(slots[i].bytes), &slots[i].len) == -1) {
			snprintf(err, errlen, "the card stopped answering");
			rc = -1;
			break;
		}
		s->apdus++;
	}
	s->p.port->end(s->card);
	return rc;
}

/* One exchange with the remote agent; retries a dropped connection for up to
 * SESSION_RECONNECT_S. Returns 0 with an HTTP 200 body in *res, -1 with err. */
static int
exchange(struct session *s, const struct http_url *u, const char *body,
    struct https_result *res, char *code, char *err, size_t errlen)
{
	int64_t give_up = clock_mono_ms() + SESSION_RECONNECT_S * 1000L;
	long backoff = 250;

	for (;;) {
		memset(res, 0, sizeof(*res));
		if (https_post(s->https, u, NULL, body, strlen(body),
		    SESSION_RESPONSE_TIMEOUT_MS, res) == 0) {
			if (res->status == 200)
				return 0;
			if (res->status < 500 && res->status != 429) {
				snprintf(code, CMS_CODE_MAX, "http_status");
				snprintf(err, errlen, "remote agent answered HTTP %d", res->status);
				return -1;
			}
		} else if (strncmp(res->code, "tls_", 4) == 0) {
			/* Trust failures do not mend by retrying. */
			snprintf(code, CMS_CODE_MAX, "%s", res->code);
			snprintf(err, errlen, "%s", res->detail);
			return -1;
		}
		if (clock_mono_ms() >= give_up) {
			snprintf(code, CMS_CODE_MAX, "timeout");
			snprintf(err, errlen, "remote agent unreachable for %d s: %s",
			    SESSION_RECONNECT_S, res->code[0] ? res->detail : "server errors");
			return -1;
		}
		log_info("session: %s: %s; reconnecting", s->p.reader,
		    res->code[0] ? res->detail : "server error");
		/* At once the first time (the binding), then gently: no hot loop on a
		 * refused connection. */
		if (pause_ms(s, backoff == 250 ? 0 : backoff) == -1) {
			snprintf(code, CMS_CODE_MAX, "cancelled");
			snprintf(err, errlen, "session cancelled");
			return -1;
		}
		backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
	}
}

/* Tells the remote agent why the session ends, with a short deadline; best effort. */
static void
tell_failure(struct session *s, enum seram_status st, const char *why)
{
	struct https_result res;
	char *body = seram_build_report(st, 0, NULL, 0, why);

	if (body == NULL)
		return;
	https_post(s->https, &s->rm_url, NULL, body, strlen(body), 3000, &res);
	free(body);
}

static void *
session_main(void *arg)
{
	struct session *s = arg;
	struct https_result res;
	char se_id[80], err[200] = "", code[CMS_CODE_MAX] = "", *body = NULL;
	int64_t t0 = clock_mono_ms(), end = t0 + (int64_t)s->p.max_s * 1000;
	int ok = 0, executed = 0;
	size_t n_resp = 0;
	enum seram_status st = SERAM_ST_POLLING;
	enum card_port_fail why = CARD_PORT_UNAVAILABLE;

	session_se_id(&s->p.id, se_id, sizeof(se_id));
	if (make_url(s, "handshake", &s->hs_url) == -1 ||
	    make_url(s, "remoteManagement", &s->rm_url) == -1) {
		snprintf(code, sizeof(code), "bad_response");
		snprintf(err, sizeof(err), "unusable seram_url");
		goto done;
	}
	s->card = s->p.port->open(s->p.reader, &s->p.id, &why, err, sizeof(err));
	if (s->card == NULL) {
		snprintf(code, sizeof(code), why == CARD_PORT_DIFFERENT ? "different_card" :
		    "card_unavailable");
		goto done;
	}
	report(s, SESSION_EV_PROGRESS, 0, NULL, "Connecting to the card service…", t0);
	if ((body = seram_build_handshake(se_id)) == NULL ||
	    exchange(s, &s->hs_url, body, &res, code, err, sizeof(err)) == -1)
		goto done;
	if (seram_check_handshake(res.body, res.body_len, err, sizeof(err)) == -1) {
		snprintf(code, sizeof(code), "bad_response");
		goto done;
	}
	free(body);
	body = seram_build_report(SERAM_ST_POLLING, 0, NULL, 0, NULL);
	log_info("session: %s: handshake done, polling", s->p.reader);
	for (;;) {
		int stop = 0;

		if (body == NULL) {
			snprintf(code, sizeof(code), "io");
			snprintf(err, sizeof(err), "out of memory");
			goto done;
		}
		if (is_cancelled(s)) {
			pthread_mutex_lock(&s->mu);
			snprintf(err, sizeof(err), "%s", s->why);
			pthread_mutex_unlock(&s->mu);
			snprintf(code, sizeof(code), "cancelled");
			tell_failure(s, SERAM_ST_UNAVAILABLE_SE, err);
			goto done;
		}
		if (clock_mono_ms() >= end) {
			snprintf(code, sizeof(code), "timeout");
			snprintf(err, sizeof(err), "session took longer than %d s", s->p.max_s);
			tell_failure(s, SERAM_ST_UNKNOWN_FAILURE, err);
			goto done;
		}
		if (exchange(s, &s->rm_url, body, &res, code, err, sizeof(err)) == -1)
			goto done;
		free(body);
		body = NULL;
		if (seram_parse_order(res.body, res.body_len, &s->order, err,
		    sizeof(err)) == -1) {
			snprintf(code, sizeof(code), "bad_response");
			log_warnx("session: %s: malformed order: %s", s->p.reader, err);
			tell_failure(s, SERAM_ST_UNKNOWN_FAILURE, "malformed order");
			goto done;
		}
		executed = 0;
		n_resp = 0;
		st = SERAM_ST_POLLING;
		for (size_t i = 0; i < s->order.n_cmds && !stop; i++) {
			const struct seram_cmd *cmd = &s->order.cmds[i];

			switch (cmd->type) {
			case SERAM_CMD_START:
				report(s, SESSION_EV_PROGRESS, 0, NULL,
				    "Updating your card…", t0);
				break;
			case SERAM_CMD_NOTIFY:
				report(s, SESSION_EV_PROGRESS, 0, NULL, cmd->note, t0);
				break;
			case SERAM_CMD_STOP:
				stop = 1;	/* later commands and responses are discarded */
				break;
			case SERAM_CMD_SE_RAM:
				if (run_apdus(s, cmd, &s->resp[n_resp],
				    s->rpool + (cmd->capdu - s->order.pool), err,
				    sizeof(err)) == -1) {
					/* Report what was done, then end: the card is gone. */
					n_resp++;
					body = seram_build_report(SERAM_ST_UNAVAILABLE_SE, executed,
					    s->resp, n_resp, err);
					if (body != NULL)
						https_post(s->https, &s->rm_url, NULL, body,
						    strlen(body), 3000, &res);
					snprintf(code, sizeof(code), is_cancelled(s) ?
					    "cancelled" : "card_unavailable");
					goto done;
				}
				n_resp++;
				executed++;
				st = SERAM_ST_PROCESSED;
				break;
			}
		}
		if (stop) {
			ok = 1;
			goto done;
		}
		body = seram_build_report(st, executed, s->resp, n_resp, NULL);
		/* The binding: wait `delay` after a response before the next request, but
		 * not while answers are waiting to be delivered. */
		if (st == SERAM_ST_POLLING && pause_ms(s, s->order.delay_ms) == -1)
			continue;	/* cancelled: handled at the top */
	}
done:
	free(body);
	if (s->card != NULL)
		s->p.port->close(s->card);
	s->card = NULL;
	if (ok)
		log_info("session: %s: finished: %d APDUs in %ld ms", s->p.reader, s->apdus,
		    (long)(clock_mono_ms() - t0));
	else
		log_warnx("session: %s: ended: %s: %s (%d APDUs)", s->p.reader, code, err,
		    s->apdus);
	report(s, SESSION_EV_DONE, ok, code, ok ? NULL : err, t0);
	unref(s);
	/* The last thing this thread does: nothing of the owner's is touched after. */
	pthread_mutex_lock(&live_mu);
	live--;
	pthread_cond_broadcast(&live_cv);
	pthread_mutex_unlock(&live_mu);
	return NULL;
}

/* see session.h */
struct session *
session_start(const struct session_params *p, const struct cfg *cfg, session_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct cms_creds *cr;
	struct session *s;
	pthread_attr_t attr;

	pthread_once(&live_once, live_init);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->rpool = calloc(SERAM_MAX_CAPDUS, sizeof(*s->rpool))) == NULL) {
		if (s != NULL)
			free(s);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->p = *p;
	s->cb = cb;
	s->arg = arg;
	s->refs = 2;
	/* the credentials the checker loaded, not another read of the files */
	if ((cr = cms_creds_shared(cfg->cms_anchors, cfg->cms_client_cert,
	    cfg->cms_client_key, err, errlen)) != NULL) {
		if ((s->https = https_client_new_creds(cr)) == NULL)
			snprintf(err, errlen, "out of memory");
		cms_creds_unref(cr);
	}
	if (s->https == NULL) {
		free(s->rpool);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->mu, NULL);
	clock_cond_init(&s->cv);
	pthread_mutex_lock(&live_mu);
	if (live >= SESSION_THREADS_MAX) {
		pthread_mutex_unlock(&live_mu);
		snprintf(err, errlen, "%d card update sessions are still ending",
		    SESSION_THREADS_MAX);
		s->refs = 1;
		unref(s);
		return NULL;
	}
	live++;
	pthread_mutex_unlock(&live_mu);
	if ((errno = pthread_attr_init(&attr)) == 0) {
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		errno = pthread_create(&s->thread, &attr, session_main, s);
		pthread_attr_destroy(&attr);
	}
	if (errno != 0) {
		snprintf(err, errlen, "cannot start the session thread: %s", strerror(errno));
		pthread_mutex_lock(&live_mu);
		live--;
		pthread_cond_broadcast(&live_cv);
		pthread_mutex_unlock(&live_mu);
		s->refs = 1;
		unref(s);
		return NULL;
	}
	return s;
}

/* see session.h */
void
session_cancel(struct session *s, const char *why)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	if (!s->cancelled) {
		s->cancelled = 1;
		snprintf(s->why, sizeof(s->why), "%s", why);
	}
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* see session.h */
void
session_release(struct session *s)
{
	if (s != NULL)
		unref(s);
}

/* see session.h */
int
session_live(void)
{
	int n;

	pthread_mutex_lock(&live_mu);
	n = live;
	pthread_mutex_unlock(&live_mu);
	return n;
}

/* see session.h */
int
session_wait_idle(int wait_ms)
{
	struct timespec ts;
	int n;

	pthread_once(&live_once, live_init);
	clock_mono_in(&ts, wait_ms);
	pthread_mutex_lock(&live_mu);
	while (live > 0)
		if (pthread_cond_timedwait(&live_cv, &live_mu, &ts) == ETIMEDOUT)
			break;
	n = live;
	pthread_mutex_unlock(&live_mu);
	return n == 0;
}
