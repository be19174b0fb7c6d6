/* SPDX-License-Identifier: BSD-2-Clause */
/* metrics_text.c — see metrics.h: the Prometheus text exposition, rendered by the admin
 * listener when GET /metrics is scraped (web/admin/status.c) from the counters the main
 * loop published; never by the loop itself. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "core/metrics.h"
#include "version.h"

static const char *const read_error_name[READER_ERR_KINDS] = {
	[READER_ERR_OTHER] = "other", [READER_ERR_CONNECT] = "connect",
	[READER_ERR_ATR] = "atr", [READER_ERR_TRANSMIT] = "transmit",
	[READER_ERR_ANSWER] = "answer", [READER_ERR_TIMEOUT] = "timeout",
};

/* A label value as the text format wants it: backslash, double quote and newline
 * escaped; other control bytes and non-ASCII bytes (the exposition must be UTF-8, a
 * reader name need not be) become '?'. */
static void
label_value(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '\\' || c == '"') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c == '\n') {
			out[o++] = '\\';
			out[o++] = 'n';
		} else
			out[o++] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
}

static void
render_reader(struct buf *b, const struct metrics_reader *r, const char *name, int what)
{
	char lv[READER_NAME_MAX * 2 + 1];

	label_value(lv, sizeof(lv), name);
	if (what == 0)
		buf_printf(b, "cardupd_reader_appeared_total{reader=\"%s\"} %lu\n", lv,
		    r->appeared);
	else if (what == 1)
		buf_printf(b, "cardupd_reader_gone_total{reader=\"%s\"} %lu\n", lv, r->gone);
	else
		for (int k = 0; k < READER_ERR_KINDS; k++)
			buf_printf(b, "cardupd_card_read_errors_total{reader=\"%s\",kind=\"%s\"} "
			    "%lu\n", lv, read_error_name[k], r->read_errors[k]);
}

/* see metrics.h */
char *
metrics_render(const struct metrics *m, const struct metrics_gauges *g)
{
	static const char *const reader_help[3][2] = {
		{ "cardupd_reader_appeared_total", "Times a reader appeared (at start and "
		    "after a pcscd restart too)." },
		{ "cardupd_reader_gone_total", "Times a reader went away (a pcscd restart "
		    "too)." },
		{ "cardupd_card_read_errors_total", "Cards present that could not be read, "
		    "by reader and why." },
	};
	const struct agent_counters *ac = &g->count;
	struct buf b = BUF_INIT;
	unsigned long cum = 0;
	char lv[128];

	label_value(lv, sizeof(lv), CARDUPD_VERSION);
	buf_printf(&b, "# HELP cardupd_build_info The cardupd version running (value 1).\n"
	    "# TYPE cardupd_build_info gauge\ncardupd_build_info{version=\"%s\"} 1\n", lv);
	buf_printf(&b, "# HELP cardupd_pcscd_up 1 while cardupd is connected to pcscd.\n"
	    "# TYPE cardupd_pcscd_up gauge\ncardupd_pcscd_up %d\n", g->pcscd_up);
	buf_printf(&b, "# HELP cardupd_cms_breaker_open 1 while the CMS circuit breaker is open "
	    "(the CMS failed repeatedly; checks fail fast with cms_down), as the last check "
	    "left it.\n# TYPE cardupd_cms_breaker_open gauge\ncardupd_cms_breaker_open %d\n",
	    m->cms_breaker_open);
	buf_printf(&b, "# HELP cardupd_readers_present Readers present now.\n"
	    "# TYPE cardupd_readers_present gauge\ncardupd_readers_present %d\n", g->readers);
	buf_printf(&b, "# HELP cardupd_cards_present Readers with a card in them now.\n"
	    "# TYPE cardupd_cards_present gauge\ncardupd_cards_present %d\n", g->cards);
	if (m->anchors_n > 0)
		buf_printf(&b, "# HELP cardupd_trust_anchors CMS trust anchors loaded.\n"
		    "# TYPE cardupd_trust_anchors gauge\ncardupd_trust_anchors %zu\n"
		    "# HELP cardupd_trust_anchors_expiry_timestamp_seconds When the first of "
		    "the CMS trust anchors expires (unix time).\n"
		    "# TYPE cardupd_trust_anchors_expiry_timestamp_seconds gauge\n"
		    "cardupd_trust_anchors_expiry_timestamp_seconds %lld\n", m->anchors_n,
		    (long long)m->anchors_not_after);
	for (int w = 0; w < 3; w++) {
		buf_printf(&b, "# HELP %s %s\n# TYPE %s counter\n", reader_help[w][0],
		    reader_help[w][1], reader_help[w][0]);
		for (size_t i = 0; i < m->n_readers; i++)
			render_reader(&b, &m->readers[i], m->readers[i].name, w);
		if (m->n_readers == METRICS_READERS)
			render_reader(&b, &m->other_reader, "other", w);
	}
	buf_printf(&b, "# HELP cardupd_checks_total CMS checks by result "
	    "(none, pending, or the failure code).\n# TYPE cardupd_checks_total counter\n");
	for (size_t i = 0; i < m->n_codes; i++)
		buf_printf(&b, "cardupd_checks_total{result=\"%s\"} %lu\n", m->by_result[i].code,
		    m->by_result[i].n);
	if (m->other)
		buf_printf(&b, "cardupd_checks_total{result=\"other\"} %lu\n", m->other);
	buf_printf(&b, "# HELP cardupd_check_duration_seconds Time of a CMS check, all "
	    "attempts included.\n# TYPE cardupd_check_duration_seconds histogram\n");
	for (size_t i = 0; i < METRICS_BUCKETS; i++) {
		cum += m->bucket[i];
		buf_printf(&b, "cardupd_check_duration_seconds_bucket{le=\"%g\"} %lu\n",
		    (double)metrics_bucket_ms[i] / 1000.0, cum);
	}
	buf_printf(&b, "cardupd_check_duration_seconds_bucket{le=\"+Inf\"} %lu\n"
	    "cardupd_check_duration_seconds_sum %.3f\n"
	    "cardupd_check_duration_seconds_count %lu\n", m->lat_count, m->lat_sum_s,
	    m->lat_count);
	buf_printf(&b, "# HELP cardupd_card_insertions_total Cards inserted.\n"
	    "# TYPE cardupd_card_insertions_total counter\n"
	    "cardupd_card_insertions_total %lu\n", ac->insertions);
	buf_printf(&b, "# HELP cardupd_prompts_total Prompts by what became of them.\n"
	    "# TYPE cardupd_prompts_total counter\n"
	    "cardupd_prompts_total{event=\"shown\"} %lu\n"
	    "cardupd_prompts_total{event=\"proceeded\"} %lu\n"
	    "cardupd_prompts_total{event=\"closed\"} %lu\n"
	    "cardupd_prompts_total{event=\"timed_out\"} %lu\n",
	    ac->prompts_shown, ac->prompts_proceeded, ac->prompts_closed,
	    ac->prompts_timed_out);
	buf_printf(&b, "# HELP cardupd_pcscd_reconnects_total Reconnections to pcscd.\n"
	    "# TYPE cardupd_pcscd_reconnects_total counter\n"
	    "cardupd_pcscd_reconnects_total %lu\n", m->pcscd_reconnects);
	buf_printf(&b, "# HELP cardupd_tls_handshakes_total TLS handshakes with the CMS.\n"
	    "# TYPE cardupd_tls_handshakes_total counter\n"
	    "cardupd_tls_handshakes_total{kind=\"full\"} %lu\n"
	    "cardupd_tls_handshakes_total{kind=\"resumed\"} %lu\n",
	    m->tls_full, m->tls_resumed);
	buf_printf(&b, "# HELP cardupd_card_update_sessions_started_total Card update (SERAM) "
	    "sessions started.\n# TYPE cardupd_card_update_sessions_started_total counter\n"
	    "cardupd_card_update_sessions_started_total %lu\n"
	    "# HELP cardupd_card_update_sessions_total Card update (SERAM) sessions ended, "
	    "by outcome.\n# TYPE cardupd_card_update_sessions_total counter\n"
	    "cardupd_card_update_sessions_total{outcome=\"ok\"} %lu\n"
	    "cardupd_card_update_sessions_total{outcome=\"failed\"} %lu\n",
	    ac->sessions_started, ac->sessions_ok, ac->sessions_failed);
	return buf_take(&b, NULL);
}
