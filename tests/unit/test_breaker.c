/* SPDX-License-Identifier: BSD-2-Clause */
/* test_breaker.c — breaker.c: the circuit breaker's states, cool-down growth, jitter
 * bounds and lost probes; the recheck window's table, caps and eviction. Time and
 * randomness are inputs, so every case is exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/breaker.h"

static const struct breaker_cfg cfg3 = { 3, 1000, 16000, 30000, 3600 };

/* Opens a fresh breaker (threshold 3) at t with rnd for the jitter. */
static void
open_it(struct breaker *b, int64_t t, uint32_t rnd)
{
	int i;

	for (i = 0; i < 3; i++) {
		assert_int_equal(breaker_allow(b, t), BREAKER_GO);
		breaker_record(b, 1, t, rnd);
	}
	assert_int_equal(b->state, BREAKER_OPEN);
}

static void
test_defaults_and_clamps(void **state)
{
	struct breaker b;
	struct breaker_cfg bad = { 0, 0, -5, 0, -1 };

	(void)state;
	breaker_init(&b, NULL);
	assert_int_equal(b.cfg.fail_threshold, 3);
	assert_int_equal(b.cfg.cooldown_min_ms, 1000);
	assert_int_equal(b.cfg.cooldown_max_ms, 64000);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_int_equal(breaker_allow(&b, 0), BREAKER_GO);
	assert_int_equal(breaker_retry_in_ms(&b, 0), 0);

	breaker_init(&b, &bad);
	assert_int_equal(b.cfg.fail_threshold, 1);
	assert_true(b.cfg.cooldown_min_ms >= 1);
	assert_true(b.cfg.cooldown_max_ms >= b.cfg.cooldown_min_ms);
	assert_true(b.cfg.probe_timeout_ms >= 1);
	/* threshold 1: the first failure opens */
	breaker_record(&b, 1, 0, 0);
	assert_int_equal(b.state, BREAKER_OPEN);
}

static void
test_cfg_from_cooldown_key(void **state)
{
	/* cms.breaker_cooldown_s: the first cool-down, a ceiling of 64 times it, at
	 * most 5 minutes, the other fields the defaults */
	static const struct { long s, min, max; } t[] = {
		{ 1, 1000, 64000 }, { 0, 1000, 64000 }, { -7, 1000, 64000 },
		{ 4, 4000, 256000 }, { 5, 5000, 300000 }, { 300, 300000, 300000 },
		{ 100000, 300000, 300000 },
	};
	struct breaker b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof t / sizeof t[0]; i++) {
		struct breaker_cfg c = breaker_cfg_cooldown(t[i].s);

		assert_int_equal(c.cooldown_min_ms, t[i].min);
		assert_int_equal(c.cooldown_max_ms, t[i].max);
		assert_int_equal(c.fail_threshold, 3);
		assert_int_equal(c.probe_timeout_ms, 60000);
		assert_int_equal(c.recheck_max_s, 86400);
	}
	/* the default key value gives the default configuration */
	{
		struct breaker_cfg c = breaker_cfg_cooldown(BREAKER_COOLDOWN_S_DEFAULT);

		breaker_init(&b, NULL);
		assert_int_equal(c.cooldown_min_ms, b.cfg.cooldown_min_ms);
		assert_int_equal(c.cooldown_max_ms, b.cfg.cooldown_max_ms);
	}
}

static void
test_opens_after_threshold_consecutive(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, &cfg3);
	/* two failures, a success, two failures: never three in a row */
	breaker_record(&b, 1, 0, 0);
	breaker_record(&b, 1, 10, 0);
	breaker_record(&b, 0, 20, 0);
	breaker_record(&b, 1, 30, 0);
	breaker_record(&b, 1, 40, 0);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_int_equal(breaker_allow(&b, 50), BREAKER_GO);
	breaker_record(&b, 1, 50, 0);
	assert_int_equal(b.state, BREAKER_OPEN);
	/* rnd 0: the low end of the jitter, 3/4 of 1000 */
	assert_int_equal(b.open_until_ms, 50 + 750);
	assert_int_equal(breaker_allow(&b, 51), BREAKER_FAIL_FAST);
	assert_int_equal(breaker_allow(&b, 799), BREAKER_FAIL_FAST);
	assert_int_equal(breaker_retry_in_ms(&b, 100), 700);
}

static void
test_probe_success_closes(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, &cfg3);
	open_it(&b, 0, 0);
	assert_int_equal(breaker_allow(&b, 750), BREAKER_PROBE);
	assert_int_equal(b.state, BREAKER_HALF_OPEN);
	/* only one probe at a time */
	assert_int_equal(breaker_allow(&b, 760), BREAKER_FAIL_FAST);
	assert_int_equal(breaker_allow(&b, 5000), BREAKER_FAIL_FAST);
	breaker_record(&b, 0, 5000, 0);
	assert_int_equal(b.state, BREAKER_CLOSED);
	assert_int_equal(b.trips, 0);
	assert_int_equal(breaker_allow(&b, 5001), BREAKER_GO);
	/* after a success it takes threshold failures again */
	breaker_record(&b, 1, 5002, 0);
	breaker_record(&b, 1, 5003, 0);
	assert_int_equal(b.state, BREAKER_CLOSED);
}

static void
test_cooldown_grows_to_ceiling(void **state)
{
	/* with rnd 0 the cool-down is exactly 3/4 of 1000 * 2^(trips-1), capped at 16000
	 * before the jitter */
	static const long want[] = { 750, 1500, 3000, 6000, 12000, 12000, 12000 };
	struct breaker b;
	int64_t t = 0;
	size_t i;

	(void)state;
	breaker_init(&b, &cfg3);
	open_it(&b, t, 0);
	for (i = 0; i < sizeof want / sizeof want[0]; i++) {
		assert_int_equal(b.open_until_ms - t, want[i]);
		t = b.open_until_ms;
		assert_int_equal(breaker_allow(&b, t - 1), BREAKER_FAIL_FAST);
		assert_int_equal(breaker_allow(&b, t), BREAKER_PROBE);
		breaker_record(&b, 1, t, 0);		/* the probe fails */
		assert_int_equal(b.state, BREAKER_OPEN);
	}
}

static void
test_jitter_bounds(void **state)
{
	struct breaker b;
	uint32_t rnds[] = { 0, 1, 499, 500, 501, 12345, 0x7fffffff, 0xffffffff };
	size_t i;
	int trips;
	long c, d;

	(void)state;
	for (trips = 1; trips <= 8; trips++) {
		for (i = 0; i < sizeof rnds / sizeof rnds[0]; i++) {
			int64_t t = 0;

			breaker_init(&b, &cfg3);
			open_it(&b, t, rnds[i]);
			while ((int)b.trips < trips) {
				t = b.open_until_ms;
				assert_int_equal(breaker_allow(&b, t), BREAKER_PROBE);
				breaker_record(&b, 1, t, rnds[i]);
			}
			c = 1000L << (trips - 1);
			if (c > 16000)
				c = 16000;
			d = (long)(b.open_until_ms - t);
			assert_true(d >= c - c / 4);
			assert_true(d <= c + c / 4);
			assert_true(d <= 16000);
		}
	}
	/* direct check of the interval on the first trip */
	for (i = 0; i < sizeof rnds / sizeof rnds[0]; i++) {
		breaker_init(&b, &cfg3);
		open_it(&b, 100, rnds[i]);
		d = (long)(b.open_until_ms - 100);
		assert_true(d >= 750);
		assert_true(d <= 1250);
	}
	/* near the ceiling the jitter never exceeds it */
	{
		struct breaker_cfg cc = { 1, 10000, 12000, 1000, 10 };

		for (i = 0; i < sizeof rnds / sizeof rnds[0]; i++) {
			breaker_init(&b, &cc);
			breaker_record(&b, 1, 0, rnds[i]);
			assert_true(b.open_until_ms >= 7500);
			assert_true(b.open_until_ms <= 12000);
			breaker_allow(&b, b.open_until_ms);
			breaker_record(&b, 1, b.open_until_ms, rnds[i]);
			assert_true(b.open_until_ms >= 9000);	/* >= 3/4 of 12000 */
		}
	}
	/* two different random values give different cool-downs */
	{
		struct breaker b2;

		breaker_init(&b, &cfg3);
		breaker_init(&b2, &cfg3);
		open_it(&b, 0, 0);
		open_it(&b2, 0, 400);
		assert_int_not_equal(b.open_until_ms, b2.open_until_ms);
	}
}

static void
test_lost_probe_lets_another_through(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, &cfg3);
	open_it(&b, 0, 0);
	assert_int_equal(breaker_allow(&b, 1000), BREAKER_PROBE);
	assert_int_equal(breaker_retry_in_ms(&b, 1000), 30000);
	assert_int_equal(breaker_allow(&b, 30999), BREAKER_FAIL_FAST);
	assert_int_equal(breaker_allow(&b, 31000), BREAKER_PROBE);
	breaker_record(&b, 0, 31100, 0);
	assert_int_equal(b.state, BREAKER_CLOSED);
}

static void
test_late_failure_while_open_keeps_cooldown(void **state)
{
	struct breaker b;
	int64_t until;

	(void)state;
	breaker_init(&b, &cfg3);
	open_it(&b, 0, 0);
	until = b.open_until_ms;
	breaker_record(&b, 1, 10, 0xffffffff);
	assert_int_equal(b.state, BREAKER_OPEN);
	assert_int_equal(b.open_until_ms, until);
	assert_int_equal(b.trips, 1);
}

static void
test_big_times_and_many_trips(void **state)
{
	struct breaker b;
	int64_t t = INT64_C(1) << 50;
	int i;

	(void)state;
	breaker_init(&b, NULL);
	for (i = 0; i < 200; i++) {
		breaker_record(&b, 1, t, (uint32_t)i * 2654435761u);
		if (b.state == BREAKER_OPEN) {
			assert_true(b.open_until_ms - t <= 300000);
			assert_true(b.open_until_ms - t >= 1);
			t = b.open_until_ms;
			assert_int_equal(breaker_allow(&b, t), BREAKER_PROBE);
		}
	}
	assert_true(b.trips <= 64);
}

static void
test_is_down(void **state)
{
	(void)state;
	assert_true(breaker_is_down("dns", 0));
	assert_true(breaker_is_down("connect", 0));
	assert_true(breaker_is_down("timeout", 0));
	assert_true(breaker_is_down("io", 0));
	assert_true(breaker_is_down("http_status", 502));
	assert_true(breaker_is_down("http_status", 503));
	assert_true(breaker_is_down("http_status", 504));
	assert_false(breaker_is_down("http_status", 500));
	assert_false(breaker_is_down("http_status", 429));
	assert_false(breaker_is_down("http_status", 404));
	assert_false(breaker_is_down("tls_untrusted", 0));
	assert_false(breaker_is_down("tls", 0));
	assert_false(breaker_is_down("bad_response", 200));
	assert_false(breaker_is_down("portal_not_allowed", 200));
	assert_false(breaker_is_down("", 200));
	assert_false(breaker_is_down(NULL, 0));
	assert_false(breaker_is_down("cms_down", 0));	/* fail-fast is not news */
}

/* ---- recheck window ---- */

static void
test_card_key(void **state)
{
	uint64_t a, b;

	(void)state;
	a = breaker_card_key("1a2b3c4d", 8);
	b = breaker_card_key("1a2b3c4e", 8);
	assert_int_not_equal(a, 0);
	assert_int_not_equal(a, b);
	assert_true(a == breaker_card_key("1a2b3c4d", 8));
	assert_int_not_equal(breaker_card_key("", 0), 0);
}

static void
test_window_skips_until_it_ends(void **state)
{
	struct breaker b;
	uint64_t k = breaker_card_key("card-a", 6);

	(void)state;
	breaker_init(&b, &cfg3);
	assert_false(breaker_recheck_skip(&b, k, 0));
	breaker_recheck_note(&b, k, 1, 60, 1000);
	assert_true(breaker_recheck_skip(&b, k, 1000));
	assert_true(breaker_recheck_skip(&b, k, 60999));
	assert_false(breaker_recheck_skip(&b, k, 61000));
	/* an ended window is forgotten */
	assert_false(breaker_recheck_skip(&b, k, 2000));
	/* other cards are not affected */
	breaker_recheck_note(&b, k, 1, 60, 0);
	assert_false(breaker_recheck_skip(&b, breaker_card_key("card-b", 6), 10));
}

static void
test_window_only_for_nothing_pending(void **state)
{
	struct breaker b;
	uint64_t k = breaker_card_key("card-a", 6);

	(void)state;
	breaker_init(&b, &cfg3);
	breaker_recheck_note(&b, k, 0, 600, 0);		/* pending: no window */
	assert_false(breaker_recheck_skip(&b, k, 1));
	breaker_recheck_note(&b, k, 1, -1, 0);		/* absent: no window */
	assert_false(breaker_recheck_skip(&b, k, 1));
	breaker_recheck_note(&b, k, 1, 0, 0);
	assert_false(breaker_recheck_skip(&b, k, 1));
	/* a window, then a pending answer (e.g. a manual check) forgets it */
	breaker_recheck_note(&b, k, 1, 600, 0);
	assert_true(breaker_recheck_skip(&b, k, 1));
	breaker_recheck_note(&b, k, 0, 600, 2);
	assert_false(breaker_recheck_skip(&b, k, 3));
	/* forget */
	breaker_recheck_note(&b, k, 1, 600, 0);
	breaker_card_forget(&b, k);
	assert_false(breaker_recheck_skip(&b, k, 1));
	breaker_card_forget(&b, k);			/* twice is fine */
	/* a newer answer replaces the window */
	breaker_recheck_note(&b, k, 1, 600, 0);
	breaker_recheck_note(&b, k, 1, 10, 5000);
	assert_false(breaker_recheck_skip(&b, k, 15000));
}

static void
test_window_capped(void **state)
{
	struct breaker b;
	uint64_t k = breaker_card_key("card-a", 6);

	(void)state;
	breaker_init(&b, &cfg3);		/* recheck_max_s 3600 */
	breaker_recheck_note(&b, k, 1, 0x7fffffffL, 0);
	assert_true(breaker_recheck_skip(&b, k, 3599999));
	assert_false(breaker_recheck_skip(&b, k, 3600000));
	{
		struct breaker_cfg off = cfg3;

		off.recheck_max_s = 0;		/* windows disabled */
		breaker_init(&b, &off);
		breaker_recheck_note(&b, k, 1, 60, 0);
		assert_false(breaker_recheck_skip(&b, k, 1));
	}
}

static void
test_table_bounded_and_evicts_soonest(void **state)
{
	struct breaker b;
	char name[16];
	int i, kept = 0;

	(void)state;
	breaker_init(&b, &cfg3);
	/* card i gets a window of 100 + i seconds */
	for (i = 0; i < BREAKER_CARDS_MAX; i++) {
		snprintf(name, sizeof name, "card-%d", i);
		breaker_recheck_note(&b, breaker_card_key(name, strlen(name)), 1, 100 + i, 0);
	}
	for (i = 0; i < BREAKER_CARDS_MAX; i++) {
		snprintf(name, sizeof name, "card-%d", i);
		assert_true(breaker_recheck_skip(&b, breaker_card_key(name, strlen(name)), 1));
	}
	/* one more: card-0 (window ends first) makes room */
	breaker_recheck_note(&b, breaker_card_key("new", 3), 1, 50, 1);
	assert_true(breaker_recheck_skip(&b, breaker_card_key("new", 3), 2));
	assert_false(breaker_recheck_skip(&b, breaker_card_key("card-0", 6), 2));
	assert_true(breaker_recheck_skip(&b, breaker_card_key("card-1", 6), 2));
	/* once windows have ended, their slots are reused first */
	for (i = 0; i < 3 * BREAKER_CARDS_MAX; i++) {
		snprintf(name, sizeof name, "late-%d", i);
		breaker_recheck_note(&b, breaker_card_key(name, strlen(name)), 1, 10,
		    1000000 + (int64_t)i);
	}
	for (i = 0; i < 3 * BREAKER_CARDS_MAX; i++) {
		snprintf(name, sizeof name, "late-%d", i);
		kept += breaker_recheck_skip(&b, breaker_card_key(name, strlen(name)),
		    1000000 + 3 * BREAKER_CARDS_MAX);
	}
	assert_int_equal(kept, BREAKER_CARDS_MAX);
	/* the table is a fixed array: nothing grew */
	assert_int_equal(sizeof b.cards / sizeof b.cards[0], BREAKER_CARDS_MAX);
}

static void
test_key_zero_ignored(void **state)
{
	struct breaker b;

	(void)state;
	breaker_init(&b, &cfg3);
	breaker_recheck_note(&b, 0, 1, 60, 0);
	assert_false(breaker_recheck_skip(&b, 0, 1));
	breaker_card_forget(&b, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_clamps),
		cmocka_unit_test(test_opens_after_threshold_consecutive),
		cmocka_unit_test(test_probe_success_closes),
		cmocka_unit_test(test_cooldown_grows_to_ceiling),
		cmocka_unit_test(test_jitter_bounds),
		cmocka_unit_test(test_lost_probe_lets_another_through),
		cmocka_unit_test(test_late_failure_while_open_keeps_cooldown),
		cmocka_unit_test(test_big_times_and_many_trips),
		cmocka_unit_test(test_is_down),
		cmocka_unit_test(test_card_key),
		cmocka_unit_test(test_window_skips_until_it_ends),
		cmocka_unit_test(test_window_only_for_nothing_pending),
		cmocka_unit_test(test_window_capped),
		cmocka_unit_test(test_table_bounded_and_evicts_soonest),
		cmocka_unit_test(test_key_zero_ignored),
		cmocka_unit_test(test_cfg_from_cooldown_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
