/* SPDX-License-Identifier: BSD-2-Clause */
/* test_metrics.c — counters and the Prometheus exposition: results by label, the
 * cumulative latency histogram, TLS handshakes full vs resumed, the recent ring, the
 * build and state gauges, per-reader health counters, label escaping. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "autoconf.h"
#include "core/metrics.h"
#include "version.h"

/* Every line of the exposition is a comment or `name{labels} value` with the labels
 * well-formed: a scraper that rejects one line drops the whole scrape. */
static void
assert_well_formed(const char *t)
{
	const char *line = t;

	while (*line) {
		const char *end = strchr(line, '\n'), *p = line;

		assert_non_null(end);
		if (*p != '#') {
			assert_true(strncmp(p, "cardupd_", 8) == 0);
			while (p < end && *p != '{' && *p != ' ')
				p++;
			if (*p == '{') {
				int inq = 0;

				for (p++; p < end; p++) {
					if (inq && *p == '\\') {
						p++;
						assert_true(*p == '\\' || *p == '"' || *p == 'n');
					} else if (*p == '"')
						inq = !inq;
					else if (!inq && *p == '}')
						break;
					else
						assert_true((unsigned char)*p >= 0x20 &&
						    (unsigned char)*p < 0x7f);
				}
				assert_true(p < end && !inq);
				p++;
			}
			assert_true(*p == ' ');
		}
		line = end + 1;
	}
}

/* The exposition as a scrape renders it: the gauges taken from the agent, as the main
 * loop takes them when it publishes. */
static char *
render(const struct metrics *m, const struct agent *a, int pcscd_up)
{
	struct metrics_gauges g;

	metrics_gauges_take(&g, a, pcscd_up);
	return metrics_render(m, &g);
}

static void
check(struct metrics *m, enum cms_outcome o, const char *code, int http, int resumed,
    long ms)
{
	struct cms_result r;

	memset(&r, 0, sizeof(r));
	r.outcome = o;
	snprintf(r.code, sizeof(r.code), "%s", code);
	r.http_status = http;
	r.resumed = resumed;
	metrics_record_check(m, "Reader 0", "insertion", &r, ms, 1700000000);
}

static void
test_render(void **state)
{
	static struct metrics m;
	static struct agent a;
	struct agent_counters *ac = &a.count;
	char *t;

	(void)state;
	memset(&a, 0, sizeof(a));
	ac->insertions = 3;
	ac->prompts_shown = 2;
	ac->prompts_proceeded = 1;
	ac->prompts_timed_out = 1;
	metrics_init(&m);
	check(&m, CMS_OUT_NONE, "", 200, 0, 40);
	check(&m, CMS_OUT_PENDING, "", 200, 1, 120);
	check(&m, CMS_OUT_FAILED, "tls_untrusted", 0, 0, 7000);
	check(&m, CMS_OUT_NONE, "", 404, 1, 90000);
	metrics_pcscd_reconnect(&m);
	t = render(&m, &a, 1);
	assert_non_null(t);
	assert_non_null(strstr(t, "cardupd_checks_total{result=\"none\"} 2\n"));
	assert_non_null(strstr(t, "cardupd_checks_total{result=\"pending\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_checks_total{result=\"tls_untrusted\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_check_duration_seconds_bucket{le=\"0.05\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_check_duration_seconds_bucket{le=\"0.25\"} 2\n"));
	assert_non_null(strstr(t, "cardupd_check_duration_seconds_bucket{le=\"10\"} 3\n"));
	assert_non_null(strstr(t, "cardupd_check_duration_seconds_bucket{le=\"30\"} 3\n"));
	assert_non_null(strstr(t, "cardupd_check_duration_seconds_bucket{le=\"+Inf\"} 4\n"));
	assert_non_null(strstr(t, "cardupd_check_duration_seconds_sum 97.160\n"));
	assert_non_null(strstr(t, "cardupd_card_insertions_total 3\n"));
	assert_non_null(strstr(t, "cardupd_prompts_total{event=\"shown\"} 2\n"));
	assert_non_null(strstr(t, "cardupd_prompts_total{event=\"timed_out\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_pcscd_reconnects_total 1\n"));
	assert_non_null(strstr(t, "cardupd_tls_handshakes_total{kind=\"full\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_tls_handshakes_total{kind=\"resumed\"} 2\n"));
	assert_non_null(strstr(t, "# TYPE cardupd_check_duration_seconds histogram\n"));
	assert_well_formed(t);
	free(t);
	assert_string_equal(metrics_recent(&m, 0)->result, "none");
	assert_int_equal(metrics_recent(&m, 0)->latency_ms, 90000);
	assert_string_equal(metrics_recent(&m, 1)->result, "tls_untrusted");
	assert_null(metrics_recent(&m, 4));
}

static void
test_bounded(void **state)
{
	static struct metrics m;
	char code[16];

	(void)state;
	metrics_init(&m);
	for (int i = 0; i < 100; i++) {
		snprintf(code, sizeof(code), "code_%d", i);
		check(&m, CMS_OUT_FAILED, code, 0, 0, 1);
	}
	check(&m, CMS_OUT_FAILED, "bad\"label", 0, 0, 1);
	assert_int_equal(m.n_codes, METRICS_CODES);
	assert_int_equal(m.other, 100 - METRICS_CODES + 1);
	assert_int_equal(m.recent_n, METRICS_RECENT);
	assert_string_equal(metrics_recent(&m, 0)->result, "bad\"label");
	assert_string_equal(metrics_recent(&m, 1)->result, "code_99");
}

static void
test_gauges(void **state)
{
	static struct metrics m;
	static struct agent a;
	struct cms_result r;
	char *t, want[160];

	(void)state;
	memset(&a, 0, sizeof(a));
	metrics_init(&m);
	t = render(&m, &a, 0);
	assert_non_null(t);
	snprintf(want, sizeof(want), "cardupd_build_info{version=\"%s\"} 1\n", CARDUPD_VERSION);
	assert_non_null(strstr(t, want));
	assert_non_null(strstr(t, "# TYPE cardupd_build_info gauge\n"));
	assert_non_null(strstr(t, "\ncardupd_pcscd_up 0\n"));
	assert_non_null(strstr(t, "\ncardupd_cms_breaker_open 0\n"));
	assert_non_null(strstr(t, "\ncardupd_readers_present 0\n"));
	assert_non_null(strstr(t, "\ncardupd_cards_present 0\n"));
	/* anchors unknown: no gauge rather than a false "expired in 1970" */
	assert_null(strstr(t, "cardupd_trust_anchors"));
	free(t);

	/* Slot indices from the board's CONFIG_MAX_READERS (2 on rpi4, 8 on the host): the
	 * first and the last slot hold a reader with a card; with room for more, a middle
	 * slot holds a reader without one and another a stale card flag (not counted). */
	a.top = CONFIG_MAX_READERS;	/* slots set by hand, not through the agent */
	a.r[0].used = 1;
	a.r[0].card_present = 1;
	a.r[CONFIG_MAX_READERS - 1].used = 1;
	a.r[CONFIG_MAX_READERS - 1].card_present = 1;
#if CONFIG_MAX_READERS >= 4
	a.r[1].used = 1;
	a.r[2].card_present = 1;	/* not used: not counted */
#define WANT_READERS	"3"
#elif CONFIG_MAX_READERS >= 2
#define WANT_READERS	"2"
#else
#define WANT_READERS	"1"
#endif
#define WANT_CARDS	(CONFIG_MAX_READERS >= 2 ? "2" : "1")
	memset(&r, 0, sizeof(r));
	r.outcome = CMS_OUT_FAILED;
	snprintf(r.code, sizeof(r.code), "connect");
	r.breaker_open = 1;
	metrics_record_check(&m, "R", "manual", &r, 5, 1700000000);
	metrics_set_anchors(&m, 2, 1893456000);
	t = render(&m, &a, 1);
	assert_non_null(t);
	assert_non_null(strstr(t, "\ncardupd_pcscd_up 1\n"));
	assert_non_null(strstr(t, "\ncardupd_cms_breaker_open 1\n"));
	assert_non_null(strstr(t, "\ncardupd_readers_present " WANT_READERS "\n"));
	{
		char cards[64];

		snprintf(cards, sizeof(cards), "\ncardupd_cards_present %s\n", WANT_CARDS);
		assert_non_null(strstr(t, cards));
	}
	assert_non_null(strstr(t, "\ncardupd_trust_anchors 2\n"));
	assert_non_null(strstr(t, "\ncardupd_trust_anchors_expiry_timestamp_seconds 1893456000\n"));
	assert_well_formed(t);
	free(t);

	/* the next good answer closes it again */
	r.outcome = CMS_OUT_NONE;
	r.code[0] = '\0';
	r.http_status = 200;
	r.breaker_open = 0;
	metrics_record_check(&m, "R", "manual", &r, 5, 1700000000);
	metrics_set_anchors(&m, 0, 1893456000);
	t = render(&m, &a, 1);
	assert_non_null(strstr(t, "\ncardupd_cms_breaker_open 0\n"));
	assert_null(strstr(t, "cardupd_trust_anchors"));
	free(t);
}

static void
test_readers(void **state)
{
	static struct metrics m;
	static struct agent a;
	char name[32], *t;

	(void)state;
	memset(&a, 0, sizeof(a));
	metrics_init(&m);
	metrics_reader_appeared(&m, "Virtual PCD 00 00");
	metrics_reader_gone(&m, "Virtual PCD 00 00");
	metrics_reader_appeared(&m, "Virtual PCD 00 00");
	metrics_reader_appeared(&m, "Odd \"reader\" \\ 1\n\x01\xc3\xa9");
	metrics_read_error(&m, "Virtual PCD 00 00", READER_ERR_TIMEOUT);
	metrics_read_error(&m, "Virtual PCD 00 00", READER_ERR_TIMEOUT);
	metrics_read_error(&m, "Virtual PCD 00 00", READER_ERR_CONNECT);
	metrics_read_error(&m, "Virtual PCD 00 00", (enum reader_error)99);
	metrics_read_error(&m, "Virtual PCD 00 01", READER_ERR_ANSWER);
	t = render(&m, &a, 1);
	assert_non_null(t);
	assert_non_null(strstr(t, "# TYPE cardupd_reader_appeared_total counter\n"));
	assert_non_null(strstr(t, "cardupd_reader_appeared_total{reader=\"Virtual PCD 00 00\"} 2\n"));
	assert_non_null(strstr(t, "cardupd_reader_gone_total{reader=\"Virtual PCD 00 00\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_card_read_errors_total{reader=\"Virtual PCD 00 00\","
	    "kind=\"timeout\"} 2\n"));
	assert_non_null(strstr(t, "cardupd_card_read_errors_total{reader=\"Virtual PCD 00 00\","
	    "kind=\"connect\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_card_read_errors_total{reader=\"Virtual PCD 00 00\","
	    "kind=\"other\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_card_read_errors_total{reader=\"Virtual PCD 00 00\","
	    "kind=\"transmit\"} 0\n"));
	/* a reader seen only through a read error still gets every series */
	assert_non_null(strstr(t, "cardupd_reader_appeared_total{reader=\"Virtual PCD 00 01\"} 0\n"));
	assert_non_null(strstr(t, "cardupd_card_read_errors_total{reader=\"Virtual PCD 00 01\","
	    "kind=\"answer\"} 1\n"));
	assert_non_null(strstr(t, "cardupd_reader_appeared_total{reader="
	    "\"Odd \\\"reader\\\" \\\\ 1\\n???\"} 1\n"));
	assert_null(strstr(t, "reader=\"other\""));
	assert_well_formed(t);
	free(t);

	/* bounded: names past METRICS_READERS share reader="other" */
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "Reader %d", i);
		metrics_reader_appeared(&m, name);
	}
	assert_int_equal(m.n_readers, METRICS_READERS);
	t = render(&m, &a, 1);
	assert_non_null(strstr(t, "cardupd_reader_appeared_total{reader=\"other\"} 27\n"));
	assert_non_null(strstr(t, "cardupd_reader_appeared_total{reader=\"Reader 12\"} 1\n"));
	assert_null(strstr(t, "reader=\"Reader 13\""));
	assert_well_formed(t);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_gauges),
		cmocka_unit_test(test_readers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
