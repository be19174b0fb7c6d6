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
#include <unistd.h>
#include <sys/mman.h>

#include <json-c/json.h>

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

/* o's member key (NULL when absent or null). */
static json_object *
get(json_object *o, const char *key)
{
	json_object *v = NULL;

	assert_true(json_object_object_get_ex(o, key, &v));
	return v;
}

/* The kiosk document is written without json-c (core/view.c): what a reader's name, a
 * message or an error may hold comes back intact through a JSON parser. */
static void
test_kiosk_json_escaping(void **state)
{
	/* the last slot (boards have as few as 2): only used slots are listed */
	const size_t last = CONFIG_MAX_READERS - 1;
	static struct agent a;
	static struct cfg cfg;
	const char *name = "Rdr \"q\" \\ /\n\t\x01\x1f \xc3\xa9";
	json_object *root, *rd, *pre;
	struct web_snapshot *k;

	(void)state;
	agent_init(&a, 60);
	snprintf(cfg.kiosk_lang, sizeof(cfg.kiosk_lang), "fr");
	cfg.kiosk_manual_check = 1;
	a.r[last].used = 1;
	a.top = last + 1;	/* a slot set by hand, not through the agent */
	snprintf(a.r[last].name, sizeof(a.r[last].name), "%s", name);
	snprintf(a.r[last].message, sizeof(a.r[last].message), "%s", "a \"b\"\r\n\bc\f");
	assert_non_null(k = view_kiosk(&a, &cfg, "", "ABCD", "AB:CD", "can't \"bind\"", 0,
	    4000000000UL));
	assert_null(strchr(k->json, '\n'));	/* one SSE data: line */
	assert_non_null(root = json_tokener_parse(k->json));
	assert_int_equal(json_object_get_int64(get(root, "seq")), 4000000000LL);
	assert_true(json_object_get_boolean(get(get(root, "ui"), "manual_check")));
	assert_string_equal(json_object_get_string(get(get(root, "ui"), "setup_code")), "ABCD");
	assert_string_equal(json_object_get_string(get(get(root, "ui"), "admin_fingerprint")),
	    "AB:CD");
	pre = json_object_array_get_idx(get(root, "prerequisites"), 0);
	assert_string_equal(json_object_get_string(get(pre, "detail")), "can't \"bind\"");
	assert_false(json_object_get_boolean(get(pre, "ok")));
	assert_int_equal(json_object_array_length(get(root, "readers")), 1);
	rd = json_object_array_get_idx(get(root, "readers"), 0);
	assert_string_equal(json_object_get_string(get(rd, "name")), name);
	assert_string_equal(json_object_get_string(get(rd, "message")), "a \"b\"\r\n\bc\f");
	assert_string_equal(json_object_get_string(get(rd, "card")), "absent");
	assert_null(get(rd, "code"));
	assert_null(get(rd, "prompt"));
	json_object_put(root);
	web_snapshot_free(k);
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
	{
		json_object *root = json_tokener_parse(k->json), *rd, *pr;

		assert_non_null(root);
		assert_int_equal(strlen(k->json), k->json_len);
		assert_int_equal(json_object_get_int64(get(root, "seq")), 7);
		assert_string_equal(json_object_get_string(get(get(root, "ui"), "lang")), "en");
		assert_false(json_object_get_boolean(get(get(root, "ui"), "manual_check")));
		rd = json_object_array_get_idx(get(root, "readers"), 0);
		assert_string_equal(json_object_get_string(get(rd, "phase")), "prompt");
		pr = get(rd, "prompt");
		assert_int_equal(json_object_get_int64(get(pr, "expires_in_s")), 60);
		assert_false(json_object_get_boolean(get(pr, "manual")));
		assert_null(get(rd, "session"));
		assert_int_equal(json_object_array_length(get(root, "prerequisites")), 0);
		json_object_put(root);
	}
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

/* The slots of readers that never appeared are never read nor written (struct agent's
 * top): on a kernel without a shared zero page (this project's bench VM) a read makes
 * a page resident too. Their pages are made inaccessible, then an insertion, a check,
 * a prompt, its timeout, both snapshots, a reader that leaves and comes back and
 * pcscd going away must not fault. Needs slots beyond a page past the first two. */
static void
test_unused_slots_untouched(void **state)
{
	long ps = sysconf(_SC_PAGESIZE);
	size_t size = (sizeof(struct agent) + (size_t)ps - 1) & ~((size_t)ps - 1);
	struct agent *g;
	struct agent_action acts[AGENT_MAX_ACTIONS];
	struct agent_event e;
	struct card_identity id;
	static struct cms_result res;
	static struct cfg cfg;
	static struct metrics m;
	struct metrics_gauges mg;
	uintptr_t lo, hi;
	uint32_t seq = 0;
	size_t n;
	int changed;

	(void)state;
	g = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(g != MAP_FAILED);
	agent_init_zeroed(g, 60);
	lo = ((uintptr_t)&g->r[2] + (uintptr_t)ps - 1) & ~((uintptr_t)ps - 1);
	hi = (uintptr_t)&g->r[CONFIG_MAX_READERS] & ~((uintptr_t)ps - 1);
	if (hi <= lo) {
		munmap(g, size);
		skip();		/* too few slots (a board's CONFIG_MAX_READERS) */
	}
	assert_int_equal(mprotect((void *)lo, hi - lo, PROT_NONE), 0);

	memset(&e, 0, sizeof(e));
	e.type = AGENT_EV_READER_ADDED;
	e.reader = "R0";
	agent_handle(g, &e, acts, &changed);
	e.reader = "R1";
	agent_handle(g, &e, acts, &changed);
	e.type = AGENT_EV_CARD_INSERTED;
	agent_handle(g, &e, acts, &changed);
	memset(&id, 0, sizeof(id));
	id.atr_len = 2;
	e.type = AGENT_EV_CARD_IDENTITY;
	e.id = &id;
	n = agent_handle(g, &e, acts, &changed);
	for (size_t i = 0; i < n; i++)
		if (acts[i].type == AGENT_ACT_START_CHECK)
			seq = acts[i].check_seq;
	assert_int_not_equal(seq, 0);
	res.outcome = CMS_OUT_PENDING;
	res.n_updates = 1;
	snprintf(res.updates[0].type, sizeof(res.updates[0].type), "renewal");
	snprintf(res.portal_url, sizeof(res.portal_url), "https://cms.example/p");
	e.type = AGENT_EV_CHECK_DONE;
	e.check_seq = seq;
	e.result = &res;
	e.now_ms = 1000;
	agent_handle(g, &e, acts, &changed);
	assert_int_equal(g->r[1].phase, AGENT_PROMPT);
	assert_true(agent_next_deadline(g) > 0);
	web_snapshot_free(view_kiosk(g, &cfg, "", NULL, NULL, NULL, 1000, 1));
	metrics_gauges_take(&mg, g, 1);
	assert_int_equal(mg.readers, 2);
	admin_snapshot_free(view_admin(g, &cfg, &m, 1, 0, 0));
	memset(&e, 0, sizeof(e));
	e.type = AGENT_EV_TICK;
	e.now_ms = 1000 + 61 * 1000;
	agent_handle(g, &e, acts, &changed);
	assert_int_equal(g->r[1].phase, AGENT_IDLE);
	e.type = AGENT_EV_READER_REMOVED;
	e.reader = "R0";
	agent_handle(g, &e, acts, &changed);
	e.type = AGENT_EV_READER_ADDED;
	e.reader = "R2";		/* takes the free slot 0 */
	agent_handle(g, &e, acts, &changed);
	assert_int_equal(agent_find(g, "R2"), 0);
	assert_int_equal(agent_find(g, "R9"), -1);
	e.type = AGENT_EV_SERVICE_DOWN;
	e.reader = NULL;
	agent_handle(g, &e, acts, &changed);
	assert_int_equal(g->top, 2);
	munmap(g, size);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_reader),
		cmocka_unit_test(test_both_snapshots),
		cmocka_unit_test(test_kiosk_json_escaping),
		cmocka_unit_test(test_unused_slots_untouched),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
