/* metrics.c — see metrics.h. */
#include <stdarg.h>
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
	if (res->http_status != 0) {
		if (res->resumed)
			m->tls_resumed++;
		else
			m->tls_full++;
	}
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

/* see metrics.h */
const struct metrics_check *
metrics_recent(const struct metrics *m, size_t i)
{
	if (i >= m->recent_n)
		return NULL;
	return &m->recent[(m->recent_next + METRICS_RECENT - 1 - i) % METRICS_RECENT];
}

struct buf {
	char	*p;
	size_t	 len, cap;
	int	 oom;
};

static void
bprintf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
bprintf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = 1;
			return;
		}
		if ((size_t)n < b->cap - b->len) {
			b->len += (size_t)n;
			return;
		}
		char *np = realloc(b->p, b->cap * 2 + (size_t)n);

		if (np == NULL) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = b->cap * 2 + (size_t)n;
	}
}

/* see metrics.h */
char *
metrics_render(const struct metrics *m, const struct agent_counters *ac)
{
	struct buf b = { malloc(4096), 0, 4096, 0 };
	unsigned long cum = 0;

	if (b.p == NULL)
		return NULL;
	b.p[0] = '\0';
	bprintf(&b, "# HELP cardupd_checks_total CMS checks by result "
	    "(none, pending, or the failure code).\n# TYPE cardupd_checks_total counter\n");
	for (size_t i = 0; i < m->n_codes; i++)
		bprintf(&b, "cardupd_checks_total{result=\"%s\"} %lu\n", m->by_result[i].code,
		    m->by_result[i].n);
	if (m->other)
		bprintf(&b, "cardupd_checks_total{result=\"other\"} %lu\n", m->other);
	bprintf(&b, "# HELP cardupd_check_duration_seconds Time of a CMS check, all "
	    "attempts included.\n# TYPE cardupd_check_duration_seconds histogram\n");
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		cum += m->bucket[i];
		bprintf(&b, "cardupd_check_duration_seconds_bucket{le=\"%g\"} %lu\n",
		    (double)metrics_bucket_ms[i] / 1000.0, cum);
	}
	bprintf(&b, "cardupd_check_duration_seconds_bucket{le=\"+Inf\"} %lu\n"
	    "cardupd_check_duration_seconds_sum %.3f\n"
	    "cardupd_check_duration_seconds_count %lu\n", m->lat_count, m->lat_sum_s,
	    m->lat_count);
	bprintf(&b, "# HELP cardupd_card_insertions_total Cards inserted.\n"
	    "# TYPE cardupd_card_insertions_total counter\n"
	    "cardupd_card_insertions_total %lu\n", ac->insertions);
	bprintf(&b, "# HELP cardupd_prompts_total Prompts by what became of them.\n"
	    "# TYPE cardupd_prompts_total counter\n"
	    "cardupd_prompts_total{event=\"shown\"} %lu\n"
	    "cardupd_prompts_total{event=\"proceeded\"} %lu\n"
	    "cardupd_prompts_total{event=\"closed\"} %lu\n"
	    "cardupd_prompts_total{event=\"timed_out\"} %lu\n",
	    ac->prompts_shown, ac->prompts_proceeded, ac->prompts_closed,
	    ac->prompts_timed_out);
	bprintf(&b, "# HELP cardupd_pcscd_reconnects_total Reconnections to pcscd.\n"
	    "# TYPE cardupd_pcscd_reconnects_total counter\n"
	    "cardupd_pcscd_reconnects_total %lu\n", m->pcscd_reconnects);
	bprintf(&b, "# HELP cardupd_tls_handshakes_total TLS handshakes with the CMS.\n"
	    "# TYPE cardupd_tls_handshakes_total counter\n"
	    "cardupd_tls_handshakes_total{kind=\"full\"} %lu\n"
	    "cardupd_tls_handshakes_total{kind=\"resumed\"} %lu\n",
	    m->tls_full, m->tls_resumed);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
