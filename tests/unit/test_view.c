/* SPDX-License-Identifier: BSD-2-Clause */
/* test_view.c — core/view.c: the manual-check reader choice the kiosk and admin listeners
 * share (they had two copies that differed), and both snapshots built from one agent
 * (the update list rendered once for both; setup code only when given); publishing
 * does not render the Prometheus text (GET /metrics renders it when scraped): this
 * test's metrics_render() counts the calls and stands in for firmware/core/
 * metrics_text.c, which the linker then leaves out of libcardupd.a. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/view.h"

static int renders;

char *
metrics_render(const struct metrics *m, const struct metrics_gauges *g)
{
	(void)m;
	(void)g;
	renders++;
	return strdup("");
}

static void
test_pick_reader(void **state)
{
	struct view_reader r[3] = { { "A", 0 }, { "B", 1 }, { "C", 0 } };
	size_t i = 99;

	(void)state;
	assert_int_equal(view_pick_reader(r, 3, NULL, &i), VIEW_PICK_OK);
	assert_int_equal(i, 1);
	assert_int_equal(view_pick_reader(r, 3, "", &i), VIEW_PICK_OK);
	assert_int_equal(view_pick_reader(r, 3, "C", &i), VIEW_PICK_NO_CARD);
	assert_int_equal(view_pick_reader(r, 3, "Z", &i), VIEW_PICK_UNKNOWN);
	r[2].card_present = 1;
	assert_int_equal(view_pick_reader(r, 3, NULL, &i), VIEW_PICK_AMBIGUOUS);
	assert_int_equal(view_pick_reader(r, 3, "C", &i), VIEW_PICK_OK);
	assert_int_equal(i, 2);
	assert_int_equal(view_pick_reader(NULL, 0, NULL, &i), VIEW_PICK_AMBIGUOUS);
	assert_int_equal(view_pick_reader(NULL, 0, "A", &i), VIEW_PICK_UNKNOWN);
}

static void
test_both_snapshots(void **state)
{
	static struct agent a;
	static struct cfg cfg;
	static struct metrics m;
	struct agent_action acts[AGENT_MAX_ACTIONS];
	struct agent_event e;
	struct card_identity id;
	static struct cms_result res;
	struct web_snapshot *k;
	struct admin_snapshot *s;
	int changed;

	(void)state;
	agent_init(&a, 60);
	metrics_init(&m);
	snprintf(cfg.kiosk_lang, sizeof(cfg.kiosk_lang), "en");
	memset(&e, 0, sizeof(e));
	e.type = AGENT_EV_READER_ADDED;
	e.reader = "R";
	agent_handle(&a, &e, acts, &changed);
	e.type = AGENT_EV_CARD_INSERTED;
	agent_handle(&a, &e, acts, &changed);
	memset(&id, 0, sizeof(id));
	id.atr_len = 1;
	e.type = AGENT_EV_CARD_IDENTITY;
	e.id = &id;
	agent_handle(&a, &e, acts, &changed);
	res.outcome = CMS_OUT_PENDING;
	res.n_updates = 1;
	snprintf(res.updates[0].type, sizeof(res.updates[0].type), "card_unlock");
	snprintf(res.updates[0].description, sizeof(res.updates[0].description), "Unlock");
	snprintf(res.portal_url, sizeof(res.portal_url), "https://p.example/x");
	e.type = AGENT_EV_CHECK_DONE;
	e.check_seq = acts[0].check_seq;
	e.result = &res;
	agent_handle(&a, &e, acts, &changed);

	assert_non_null(k = view_kiosk(&a, &cfg, "http://127.0.0.1:8080/", NULL, "AB:CD", NULL, 0, 7));
	assert_int_equal(k->n, 1);
	assert_string_equal(k->rd[0].name, "R");
	assert_true(k->rd[0].card_present);
	assert_string_equal(k->r[0].portal_url, "https://p.example/x");
	assert_non_null(strstr(k->json, "\"setup_code\":null"));
	assert_non_null(strstr(k->json, "\"admin_fingerprint\":null"));
	assert_non_null(strstr(k->json,
	    "\"updates\":[{\"type\":\"card_unlock\",\"description\":\"Unlock\"}]"));
	web_snapshot_free(k);
	assert_non_null(k = view_kiosk(&a, &cfg, "", "ABCD-EFGH-IJKL", "AB:CD", NULL, 0, 8));
	assert_non_null(strstr(k->json, "\"setup_code\":\"ABCD-EFGH-IJKL\""));
	web_snapshot_free(k);

	assert_non_null(s = view_admin(&a, &cfg, &m, 1, 1800000000LL, 1799999000LL));
	assert_int_equal(s->n, 1);
	assert_non_null(strstr(s->status_json,
	    "\"updates\":[{\"type\":\"card_unlock\",\"description\":\"Unlock\"}]"));
	assert_non_null(strstr(s->status_json, "\"uptime_s\":1000"));
	/* the counters travel for GET /metrics to render; publishing rendered nothing */
	assert_int_equal(s->gauges.readers, 1);
	assert_int_equal(s->gauges.cards, 1);
	assert_int_equal(s->gauges.pcscd_up, 1);
	assert_int_equal(s->gauges.count.insertions, a.count.insertions);
	assert_int_equal(renders, 0);
	admin_snapshot_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_reader),
		cmocka_unit_test(test_both_snapshots),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
