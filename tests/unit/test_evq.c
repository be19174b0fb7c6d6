/* SPDX-License-Identifier: BSD-2-Clause */
/* test_evq.c — evq.c: reader and card events are never lost whatever the flood
 * (coalesced per reader, the latest state wins, a card out and back in is still a
 * removal then an insertion), pcscd's down/up, check results and session reports per
 * slot; only commands are bounded. On the old queue (a ring of CONFIG_EVENT_QUEUE_MAX
 * malloc'd events) the flood below dropped the final CARD_REMOVED. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "evq.h"

static struct event ev, out;

static void
post(struct evq *q, enum ev_type t, const char *reader)
{
	memset(&ev, 0, sizeof(ev));
	ev.type = t;
	snprintf(ev.reader, sizeof(ev.reader), "%s", reader);
	assert_int_equal(evq_post(q, &ev), 0);
}

static void
expect(struct evq *q, enum ev_type t, const char *reader)
{
	assert_int_equal(evq_pop(q, &out), 1);
	assert_int_equal(out.type, t);
	if (reader != NULL)
		assert_string_equal(out.reader, reader);
}

static void
test_flood_keeps_the_last_removal(void **state)
{
	struct evq *q = evq_new(4);

	(void)state;
	post(q, EV_READER_ADDED, "R");
	for (int i = 0; i < 10 * CONFIG_EVENT_QUEUE_MAX; i++) {
		post(q, EV_CARD_INSERTED, "R");
		memset(&ev, 0, sizeof(ev));
		ev.type = EV_CARD_IDENTITY;
		snprintf(ev.reader, sizeof(ev.reader), "R");
		ev.id.atr_len = 2;
		assert_int_equal(evq_post(q, &ev), 0);
		post(q, EV_CARD_REMOVED, "R");
	}
	expect(q, EV_READER_ADDED, "R");
	expect(q, EV_CARD_REMOVED, "R");
	assert_int_equal(evq_pop(q, &out), 0);
	evq_free(q);
}

static void
test_out_and_back_in(void **state)
{
	struct evq *q = evq_new(4);

	(void)state;
	post(q, EV_READER_ADDED, "R");
	expect(q, EV_READER_ADDED, "R");
	post(q, EV_CARD_INSERTED, "R");
	expect(q, EV_CARD_INSERTED, "R");
	/* identity, out, in again, identity: the loop must see the card leave. */
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_CARD_IDENTITY;
	snprintf(ev.reader, sizeof(ev.reader), "R");
	ev.id.atr_len = 1;
	assert_int_equal(evq_post(q, &ev), 0);
	post(q, EV_CARD_REMOVED, "R");
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_CARD_INSERTED;
	ev.startup = 0;
	snprintf(ev.reader, sizeof(ev.reader), "R");
	assert_int_equal(evq_post(q, &ev), 0);
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_CARD_IDENTITY;
	snprintf(ev.reader, sizeof(ev.reader), "R");
	ev.id.atr_len = 7;
	assert_int_equal(evq_post(q, &ev), 0);
	expect(q, EV_CARD_REMOVED, "R");
	expect(q, EV_CARD_INSERTED, "R");
	expect(q, EV_CARD_IDENTITY, "R");
	assert_int_equal(out.id.atr_len, 7);
	assert_int_equal(evq_pop(q, &out), 0);
	evq_free(q);
}

static void
test_readers_and_pcscd(void **state)
{
	struct evq *q = evq_new(4);

	(void)state;
	/* A reader the loop never heard of comes and goes: nothing to say. */
	post(q, EV_READER_ADDED, "A");
	post(q, EV_READER_REMOVED, "A");
	assert_int_equal(evq_pop(q, &out), 0);
	/* Known reader B with a card: pcscd restarts; what was pending is moot. */
	post(q, EV_READER_ADDED, "B");
	expect(q, EV_READER_ADDED, "B");
	post(q, EV_CARD_INSERTED, "B");
	post(q, EV_SERVICE_UP, "");
	post(q, EV_CARD_REMOVED, "B");
	post(q, EV_READER_REMOVED, "B");
	post(q, EV_SERVICE_DOWN, "");
	post(q, EV_SERVICE_UP, "");
	post(q, EV_READER_ADDED, "B");
	post(q, EV_CARD_INSERTED, "B");
	expect(q, EV_SERVICE_DOWN, NULL);
	expect(q, EV_SERVICE_UP, NULL);
	assert_int_equal(out.reconnects, 1);
	expect(q, EV_READER_REMOVED, "B");	/* still counted (metrics) */
	expect(q, EV_READER_ADDED, "B");
	expect(q, EV_CARD_INSERTED, "B");
	assert_int_equal(evq_pop(q, &out), 0);
	/* More readers than the agent holds, all churning: every slot still fits. */
	for (int i = 0; i < CONFIG_MAX_READERS; i++) {
		char n[8];

		snprintf(n, sizeof(n), "K%d", i);
		post(q, EV_READER_ADDED, n);
		expect(q, EV_READER_ADDED, n);
	}
	for (int i = 0; i < CONFIG_MAX_READERS; i++) {
		char n[8], m[8];

		snprintf(n, sizeof(n), "K%d", i);
		snprintf(m, sizeof(m), "N%d", i);
		post(q, EV_READER_REMOVED, n);
		post(q, EV_READER_ADDED, m);
		post(q, EV_CARD_INSERTED, m);
	}
	for (int i = 0; i < 3 * CONFIG_MAX_READERS; i++)
		assert_int_equal(evq_pop(q, &out), 1);
	assert_int_equal(evq_pop(q, &out), 0);
	evq_free(q);
}

static void
test_results_per_slot_commands_bounded(void **state)
{
	struct evq *q = evq_new(2);

	(void)state;
	static struct cms_result res;

	for (uint32_t seq = 1; seq <= 50; seq++) {
		memset(&ev, 0, sizeof(ev));
		ev.type = EV_CHECK_DONE;
		ev.slot = 1;
		ev.check_seq = seq;
		ev.result = &res;
		res.n_updates = seq;
		snprintf(res.portal_url, sizeof(res.portal_url), "https://cms/%u", seq);
		assert_int_equal(evq_post(q, &ev), 0);
	}
	/* The result was copied: what the worker does with its own is not seen. */
	memset(&res, 0, sizeof(res));
	ev.result = NULL;	/* a check without its result: refused */
	assert_int_equal(evq_post(q, &ev), -1);
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_SESSION_DONE;
	ev.slot = 1;
	ev.serial = 9;
	assert_int_equal(evq_post(q, &ev), 0);
	ev.slot = CONFIG_MAX_READERS;	/* out of range: refused, not written */
	assert_int_equal(evq_post(q, &ev), -1);
	post(q, EV_MANUAL_CHECK, "R");
	post(q, EV_PROCEED, "R");
	memset(&ev, 0, sizeof(ev));
	ev.type = EV_CLOSE;
	assert_int_equal(evq_post(q, &ev), -1);	/* the third command: 503 */
	ev.type = EV_RELOAD;
	assert_int_equal(evq_post(q, &ev), 0);
	assert_int_equal(evq_post(q, &ev), 0);
	expect(q, EV_CHECK_DONE, NULL);
	assert_int_equal(out.check_seq, 50);
	assert_non_null(out.result);
	assert_int_equal(out.result->n_updates, 50);
	assert_string_equal(out.result->portal_url, "https://cms/50");
	expect(q, EV_SESSION_DONE, NULL);
	assert_int_equal(out.serial, 9);
	expect(q, EV_MANUAL_CHECK, "R");
	expect(q, EV_PROCEED, "R");
	expect(q, EV_RELOAD, NULL);
	assert_int_equal(evq_pop(q, &out), 0);
	evq_free(q);
}

/* Commands keep their order across the ring's wrap and its restart at the first entry
 * whenever it empties (evq.c keeps the ring's later pages untouched that way). */
static void
test_commands_in_order(void **state)
{
	struct evq *q = evq_new(3);
	char n[16];
	int next = 0, popped = 0;

	(void)state;
	for (int round = 0; round < 20; round++) {
		int burst = 1 + round % 3;

		for (int i = 0; i < burst; i++) {
			snprintf(n, sizeof(n), "C%d", next++);
			post(q, EV_MANUAL_CHECK, n);
		}
		/* leave one waiting every other round: the ring wraps */
		for (int i = 0; i < burst - (round % 2) && popped < next; i++) {
			snprintf(n, sizeof(n), "C%d", popped++);
			expect(q, EV_MANUAL_CHECK, n);
		}
		while (round % 2 == 1 && popped < next) {
			snprintf(n, sizeof(n), "C%d", popped++);
			expect(q, EV_MANUAL_CHECK, n);
		}
	}
	assert_int_equal(evq_pop(q, &out), 0);
	evq_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flood_keeps_the_last_removal),
		cmocka_unit_test(test_out_and_back_in),
		cmocka_unit_test(test_readers_and_pcscd),
		cmocka_unit_test(test_results_per_slot_commands_bounded),
		cmocka_unit_test(test_commands_in_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
