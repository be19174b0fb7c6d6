/* SPDX-License-Identifier: BSD-2-Clause */
/* metrics.c — see metrics.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"

const long metrics_bucket_ms[METRICS_BUCKETS] = {
	50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
};

/* see metrics.h */
void
metrics_init(struct metrics *m)
{
	memset(m, 0, sizeof(*m));
}

/* see metrics.h */
const char *
metrics_result_label(const struct cms_result *res)
{
	switch (res->outcome) {
	case CMS_OUT_PENDING:
		return "pending";
	case CMS_OUT_NONE:
		return "none";
	default:
		return res->code[0] ? res->code : "failed";
	}
}

/* Label values are codes from our own code, but keep the exposition well-formed
 * whatever they hold. */
static int
label_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* see metrics.h */
void
metrics_record_check(struct metrics *m, const char *reader, const char *trigger,
    const struct cms_result *res, long latency_ms, int64_t now)
{
	const char *label = metrics_result_label(res);
	struct metrics_check *c;
	size_t i;

	for (i = 0; i < m->n_codes; i++)
		if (strcmp(m->by_result[i].code, label) == 0)
			break;
	if (i == m->n_codes && m->n_codes < METRICS_CODES && label_ok(label) &&
	    strlen(label) < CMS_CODE_MAX)
		snprintf(m->by_result[m->n_codes++].code, CMS_CODE_MAX, "%s", label);
	if (i < m->n_codes)
		m->by_result[i].n++;
	else
		m->other++;
	for (i = 0; i < METRICS_BUCKETS && latency_ms > metrics_bucket_ms[i]; i++)
		;
	if (i < METRICS_BUCKETS)
		m->bucket[i]++;
	m->lat_count++;
	m->lat_sum_s += (double)latency_ms / 1000.0;
	if (res->http_status != 0 && !res->reused) {	/* kept-alive: no handshake */
		if (res->resumed)
			m->tls_resumed++;
		else
			m->tls_full++;
	}
	m->cms_breaker_open = res->breaker_open != 0;
	c = &m->recent[m->recent_next];
	memset(c, 0, sizeof(*c));
	c->when = now;
	snprintf(c->reader, sizeof(c->reader), "%s", reader);
	snprintf(c->trigger, sizeof(c->trigger), "%s", trigger);
	snprintf(c->result, sizeof(c->result), "%s", label);
	c->latency_ms = latency_ms;
	c->http_status = res->http_status;
	m->recent_next = (m->recent_next + 1) % METRICS_RECENT;
	if (m->recent_n < METRICS_RECENT)
		m->recent_n++;
}

/* see metrics.h */
void
metrics_pcscd_reconnect(struct metrics *m)
{
	m->pcscd_reconnects++;
}

/* The counters of reader name: its own slot, a new one, or "other" once the table is
 * full. */
static struct metrics_reader *
reader_slot(struct metrics *m, const char *name)
{
	struct metrics_reader *r;

	for (size_t i = 0; i < m->n_readers; i++)
		if (strcmp(m->readers[i].name, name) == 0)
			return &m->readers[i];
	if (m->n_readers == METRICS_READERS)
		return &m->other_reader;
	r = &m->readers[m->n_readers++];
	snprintf(r->name, sizeof(r->name), "%s", name);
	return r;
}

/* see metrics.h */
void
metrics_reader_appeared(struct metrics *m, const char *reader)
{
	reader_slot(m, reader)->appeared++;
}

/* see metrics.h */
void
metrics_reader_gone(struct metrics *m, const char *reader)
{
	reader_slot(m, reader)->gone++;
}

/* see metrics.h */
void
metrics_read_error(struct metrics *m, const char *reader, enum reader_error kind)
{
	if ((unsigned)kind >= READER_ERR_KINDS)
		kind = READER_ERR_OTHER;
	reader_slot(m, reader)->read_errors[kind]++;
}

/* see metrics.h */
void
metrics_set_anchors(struct metrics *m, size_t n, int64_t earliest_not_after)
{
	m->anchors_n = n;
	m->anchors_not_after = n ? earliest_not_after : 0;
}

/* see metrics.h */
const struct metrics_check *
metrics_recent(const struct metrics *m, size_t i)
{
	if (i >= m->recent_n)
		return NULL;
	return &m->recent[(m->recent_next + METRICS_RECENT - 1 - i) % METRICS_RECENT];
}

/* see metrics.h */
void
metrics_gauges_take(struct metrics_gauges *g, const struct agent *a, int pcscd_up)
{
	memset(g, 0, sizeof(*g));
	g->count = a->count;
	g->pcscd_up = pcscd_up != 0;
	for (int i = 0; i < a->top; i++)
		if (a->r[i].used) {
			g->readers++;
			g->cards += a->r[i].card_present != 0;
		}
}
