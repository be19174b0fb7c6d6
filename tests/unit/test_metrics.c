/* test_metrics.c — counters and the Prometheus exposition: results by label, the
 * cumulative latency histogram, TLS handshakes full vs resumed, the recent ring. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <cmocka.h>

#include "core/metrics.h"

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
	struct agent_counters ac;
	char *t;

	(void)state;
	memset(&ac, 0, sizeof(ac));
	ac.insertions = 3;
	ac.prompts_shown = 2;
	ac.prompts_proceeded = 1;
	ac.prompts_timed_out = 1;
	metrics_init(&m);
	check(&m, CMS_OUT_NONE, "", 200, 0, 40);
	check(&m, CMS_OUT_PENDING, "", 200, 1, 120);
	check(&m, CMS_OUT_FAILED, "tls_untrusted", 0, 0, 7000);
	check(&m, CMS_OUT_NONE, "", 404, 1, 90000);
	metrics_pcscd_reconnect(&m);
	t = metrics_render(&m, &ac);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
