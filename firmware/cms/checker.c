/* SPDX-License-Identifier: BSD-2-Clause */
/* checker.c — see checker.h. Jobs wait in a small ring; the worker takes one, builds
 * the request, and tries up to 1 + cms.retries times. Failures that another attempt
 * cannot mend (an untrusted certificate, an answer of the wrong shape, a forbidden
 * portal) are not retried. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "autoconf.h"
#include "core/breaker.h"
#include "cms/checker.h"
#include "base/clock.h"
#include "cms/https.h"
#include "base/log.h"
#include "version.h"

#define JOBS_MAX	(2 * CONFIG_MAX_READERS)
#define BACKOFF_BASE_MS	400
#define BACKOFF_MAX_MS	5000
#define RETRY_AFTER_MAX_S 10	/* longer Retry-After: fail now, the card is waiting */

struct settings {
	struct https_client	*https;
	struct http_url		 url;		/* .../card-status */
	struct cms_origins	 origins;
	int			 timeout_ms, retries;
	struct breaker_cfg	 breaker;	/* from cms.breaker_cooldown_s */
	char			 device_id[64];
};

struct checker {
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct check_job	 jobs[JOBS_MAX];
	size_t			 head, len;
	int			 stopping;
	struct settings		*cur, *next;	/* next: swapped in between jobs */
	atomic_uint		 live[CONFIG_MAX_READERS];
	checker_done_cb		 cb;
	void			*arg;
	struct breaker		 breaker;	/* the worker's own: recheck window,
						   circuit breaker */
};

static void
settings_free(struct settings *s)
{
	if (s == NULL)
		return;
	https_client_free(s->https);
	free(s);
}

static struct settings *
settings_new(const struct cfg *cfg, char *err, size_t errlen)
{
	struct settings *s;
	char url[CMS_URL_MAX + 16];
	size_t n;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	n = strlen(cfg->cms_url);
	while (n > 0 && cfg->cms_url[n - 1] == '/')
		n--;
	snprintf(url, sizeof(url), "%.*s/card-status", (int)n, cfg->cms_url);
	if (http_parse_url(url, &s->url) == -1) {
		snprintf(err, errlen, "cms.url: not a usable https URL");
		free(s);
		return NULL;
	}
	s->https = https_client_new(cfg->cms_anchors, cfg->cms_client_cert,
	    cfg->cms_client_key, err, errlen);
	if (s->https == NULL) {
		free(s);
		return NULL;
	}
	s->origins = cfg->portal_origins;
	s->timeout_ms = cfg->cms_timeout_ms;
	s->retries = cfg->cms_retries;
	s->breaker = breaker_cfg_cooldown(cfg->cms_breaker_cooldown_s);
	snprintf(s->device_id, sizeof(s->device_id), "%s", cfg->device_id);
	return s;
}

static int
retryable(const struct cms_result *r)
{
	static const char *const never[] = { "tls_untrusted", "tls_hostname",
	    "tls_expired", "tls_clock", "tls_version", "tls_no_shared_cipher",
	    "tls_no_forward_secrecy", "tls_weak_cipher", "tls_weak_signature",
	    "bad_response", "portal_not_allowed", "cms_down" };

	if (r->outcome != CMS_OUT_FAILED)
		return 0;
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++)
		if (strcmp(r->code, never[i]) == 0)
			return 0;
	if (strcmp(r->code, "http_status") == 0)
		return r->http_status >= 500 || r->http_status == 429;
	return 1;
}

/* Waits ms unless the job is cancelled or the checker stops. Returns 0 to go on. */
static int
wait_ms(struct checker *c, const struct check_job *job, long ms)
{
	struct timespec ts;
	int go;

	clock_mono_in(&ts, ms);
	pthread_mutex_lock(&c->mu);
	while (!c->stopping && atomic_load(&c->live[job->reader_idx]) == job->check_seq)
		if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) == ETIMEDOUT)
			break;
	go = !c->stopping && atomic_load(&c->live[job->reader_idx]) == job->check_seq;
	pthread_mutex_unlock(&c->mu);
	return go ? 0 : -1;
}

static void
attempt(struct checker *c, struct settings *s, const char *body,
    struct cms_result *out)
{
	struct https_result hr;
	uint32_t rnd = 0;

	if (breaker_allow(&c->breaker, clock_mono_ms()) == BREAKER_FAIL_FAST) {
		memset(out, 0, sizeof(*out));
		out->recheck_after_s = out->retry_after_s = -1;
		cms_result_fail(out, "cms_down", "the CMS failed repeatedly; not asking "
		    "it again for %ld s", (breaker_retry_in_ms(&c->breaker, clock_mono_ms()) +
		    999) / 1000);
		return;
	}
	memset(&hr, 0, sizeof(hr));
	if (https_post(s->https, &s->url, NULL, body, strlen(body), s->timeout_ms,
	    &hr) == -1) {
		memset(out, 0, sizeof(*out));
		out->recheck_after_s = out->retry_after_s = -1;
		cms_result_fail(out, hr.code[0] ? hr.code : "io", "%s", hr.detail);
	} else {
		cms_judge_answer(hr.status, hr.retry_after, hr.body, hr.body_len,
		    &s->origins, (long long)time(NULL), out);
		out->resumed = hr.resumed;
		out->reused = hr.reused;
	}
	/* Jitter only: without entropy (never in practice) the breaker still works. */
	if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		rnd = 0;
	breaker_record(&c->breaker, out->outcome == CMS_OUT_FAILED &&
	    breaker_is_down(out->code, out->http_status), clock_mono_ms(), rnd);
}

/* The recheck window's key: every identifier the card gave (two cards may share a
 * chip serial in test fleets, or a GUID when it is unset). */
static uint64_t
identity_key(const struct card_identity *id)
{
	uint8_t buf[CARD_ATR_MAX + CARD_CPLC_LEN + CARD_GUID_LEN + CARD_FASCN_LEN];
	size_t n = 0;

	memcpy(buf + n, id->atr, id->atr_len);
	n += id->atr_len;
	if (id->has_cplc) {
		memcpy(buf + n, id->cplc, CARD_CPLC_LEN);
		n += CARD_CPLC_LEN;
	}
	if (id->has_guid) {
		memcpy(buf + n, id->guid, CARD_GUID_LEN);
		n += CARD_GUID_LEN;
	}
	if (id->has_fascn) {
		memcpy(buf + n, id->fascn, CARD_FASCN_LEN);
		n += CARD_FASCN_LEN;
	}
	return breaker_card_key(buf, n);
}

static void
run_job(struct checker *c, struct settings *s, const struct check_job *job)
{
	struct cms_result *res;
	char tag[9], *body;
	int64_t t0 = clock_mono_ms();
	long backoff = BACKOFF_BASE_MS;
	uint64_t key;

	if ((res = calloc(1, sizeof(*res))) == NULL) {
		log_warnx("cms: out of memory for a check");
		return;
	}
	card_log_tag(&job->id, tag);
	key = identity_key(&job->id);
	/* Only a plain re-insertion waits out the window: a manual check, and the check
	 * of a card found at start-up or after pcscd came back, always ask. */
	if (job->trigger == CMS_TRIGGER_INSERTION &&
	    breaker_recheck_skip(&c->breaker, key, clock_mono_ms())) {
		/* the CMS said "nothing pending, ask again after recheck_after_s" */
		res->outcome = CMS_OUT_NONE;
		res->recheck_after_s = res->retry_after_s = -1;
		log_info("cms: card %s on \"%s\": nothing pending at its last check; "
		    "not asking again yet", tag, job->reader);
		goto report;
	}
	body = cms_build_request(s->device_id, CARDUPD_VERSION, job->reader, job->trigger,
	    &job->id);
	if (body == NULL) {
		cms_result_fail(res, "io", "out of memory building the request");
		goto report;
	}
	for (int n = 0;; n++) {
		attempt(c, s, body, res);
		if (!retryable(res) || n >= s->retries)
			break;
		long delay = backoff;
		uint32_t jitter = 0;

		if (res->retry_after_s >= 0) {
			if (res->retry_after_s > RETRY_AFTER_MAX_S)
				break;
			delay = res->retry_after_s * 1000;
		} else if (getrandom(&jitter, sizeof(jitter), 0) == sizeof(jitter))
			delay += (long)(jitter % (uint32_t)(backoff / 2 + 1));	/* 0..50% */
		log_info("cms: card %s on \"%s\": %s (%s); retry %d/%d in %ld ms", tag,
		    job->reader, res->code, res->detail, n + 1, s->retries, delay);
		if (wait_ms(c, job, delay) == -1) {
			free(body);
			free(res);
			return;
		}
		backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
	}
	free(body);
	breaker_recheck_note(&c->breaker, key, res->outcome == CMS_OUT_NONE,
	    res->recheck_after_s, clock_mono_ms());
report:
	res->breaker_open = c->breaker.state != BREAKER_CLOSED;	/* for /metrics */
	if (atomic_load(&c->live[job->reader_idx]) != job->check_seq) {
		free(res);
		return;		/* cancelled while on the wire */
	}
	c->cb(c->arg, job, res, (long)(clock_mono_ms() - t0));
	free(res);
}

static void *
worker(void *arg)
{
	struct checker *c = arg;
	struct check_job job;

	for (;;) {
		pthread_mutex_lock(&c->mu);
		while (!c->stopping && c->len == 0)
			pthread_cond_wait(&c->cv, &c->mu);
		if (c->stopping) {
			pthread_mutex_unlock(&c->mu);
			return NULL;
		}
		job = c->jobs[c->head];
		c->head = (c->head + 1) % JOBS_MAX;
		c->len--;
		if (c->next != NULL) {
			settings_free(c->cur);
			c->cur = c->next;
			breaker_init(&c->breaker, &c->cur->breaker); /* maybe another CMS */
			c->next = NULL;
		}
		pthread_mutex_unlock(&c->mu);
		if (atomic_load(&c->live[job.reader_idx]) == job.check_seq)
			run_job(c, c->cur, &job);
	}
}

/* see checker.h */
struct checker *
checker_start(const struct cfg *cfg, checker_done_cb cb, void *arg, char *err,
    size_t errlen)
{
	struct checker *c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((c->cur = settings_new(cfg, err, errlen)) == NULL) {
		free(c);
		return NULL;
	}
	c->cb = cb;
	c->arg = arg;
	breaker_init(&c->breaker, &c->cur->breaker);
	pthread_mutex_init(&c->mu, NULL);
	clock_cond_init(&c->cv);
	if ((errno = pthread_create(&c->thread, NULL, worker, c)) != 0) {
		snprintf(err, errlen, "cannot start the CMS worker: %s", strerror(errno));
		settings_free(c->cur);
		free(c);
		return NULL;
	}
	return c;
}

/* see checker.h */
int
checker_submit(struct checker *c, const struct check_job *job)
{
	if (job->reader_idx < 0 || job->reader_idx >= CONFIG_MAX_READERS)
		return -1;
	pthread_mutex_lock(&c->mu);
	if (c->len == JOBS_MAX) {
		pthread_mutex_unlock(&c->mu);
		return -1;
	}
	atomic_store(&c->live[job->reader_idx], job->check_seq);
	c->jobs[(c->head + c->len) % JOBS_MAX] = *job;
	c->len++;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* see checker.h */
void
checker_cancel(struct checker *c, int reader_idx, uint32_t check_seq)
{
	if (reader_idx < 0 || reader_idx >= CONFIG_MAX_READERS)
		return;
	pthread_mutex_lock(&c->mu);
	if (atomic_load(&c->live[reader_idx]) == check_seq)
		atomic_store(&c->live[reader_idx], 0);
	pthread_cond_broadcast(&c->cv);	/* wakes a backoff wait */
	pthread_mutex_unlock(&c->mu);
}

/* see checker.h */
int
checker_reconfigure(struct checker *c, const struct cfg *cfg, char *err, size_t errlen)
{
	struct settings *s;

	if ((s = settings_new(cfg, err, errlen)) == NULL)
		return -1;
	pthread_mutex_lock(&c->mu);
	settings_free(c->next);
	c->next = s;
	pthread_mutex_unlock(&c->mu);
	return 0;
}

/* see checker.h */
void
checker_stop(struct checker *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stopping = 1;
	pthread_cond_broadcast(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	settings_free(c->cur);
	settings_free(c->next);
	pthread_mutex_destroy(&c->mu);
	pthread_cond_destroy(&c->cv);
	free(c);
}
