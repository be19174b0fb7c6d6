/* SPDX-License-Identifier: BSD-2-Clause */
/* test_agent.c — the state machine, driven by events with time as an input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "core/agent.h"

#define R0 "Virtual PCD 00 00"
#define R1 "Virtual PCD 00 01"

static struct agent A;
static struct agent_action acts[AGENT_MAX_ACTIONS];
static int changed;

static size_t
ev(enum agent_event_type t, const char *reader, int64_t now)
{
	struct agent_event e;

	memset(&e, 0, sizeof(e));
	e.type = t;
	e.reader = reader;
	e.now_ms = now;
	return agent_handle(&A, &e, acts, &changed);
}

static struct card_identity
card(uint8_t guid0)
{
	struct card_identity id;

	memset(&id, 0, sizeof(id));
	id.atr_len = 2;
	id.atr[0] = 0x3b;
	id.has_chuid = id.has_guid = 1;
	id.guid[0] = guid0;
	return id;
}

static size_t
identity(const char *reader, const struct card_identity *id, int startup, int64_t now)
{
	struct agent_event e;

	memset(&e, 0, sizeof(e));
	e.type = AGENT_EV_CARD_IDENTITY;
	e.reader = reader;
	e.id = id;
	e.startup = startup;
	e.now_ms = now;
	return agent_handle(&A, &e, acts, &changed);
}

static size_t
done(const char *reader, uint32_t seq, enum cms_outcome out, size_t nup, int64_t now)
{
	struct agent_event e;
	static struct cms_result res;

	memset(&res, 0, sizeof(res));
	res.outcome = out;
	res.n_updates = nup;
	for (size_t i = 0; i < nup; i++)
		strcpy(res.updates[i].type, "certificate_renewal");
	strcpy(res.portal_url, "https://cms.example/portal");
	if (out == CMS_OUT_FAILED)
		strcpy(res.code, "timeout");
	memset(&e, 0, sizeof(e));
	e.type = AGENT_EV_CHECK_DONE;
	e.reader = reader;
	e.check_seq = seq;
	e.result = &res;
	e.now_ms = now;
	return agent_handle(&A, &e, acts, &changed);
}

static size_t
prompt_cmd(enum agent_event_type t, const char *reader, const char *id, int64_t now)
{
	struct agent_event e;

	memset(&e, 0, sizeof(e));
	e.type = t;
	e.reader = reader;
	e.prompt_id = id;
	e.now_ms = now;
	return agent_handle(&A, &e, acts, &changed);
}

static int
setup(void **state)
{
	(void)state;
	agent_init(&A, 60);
	ev(AGENT_EV_READER_ADDED, R0, 0);
	ev(AGENT_EV_READER_ADDED, R1, 0);
	return 0;
}

/* insertion → reading → checking → prompt → proceed → portal → removal → idle */
static void
test_happy_path(void **state)
{
	struct card_identity id = card(1);
	uint32_t seq;
	size_t n;
	int i = agent_find(&A, R0);

	(void)state;
	assert_int_equal(ev(AGENT_EV_CARD_INSERTED, R0, 100), 0);
	assert_int_equal(A.r[i].phase, AGENT_READING);
	assert_true(changed);
	n = identity(R0, &id, 0, 150);
	assert_int_equal(n, 1);
	assert_int_equal(acts[0].type, AGENT_ACT_START_CHECK);
	assert_int_equal(acts[0].trigger, CMS_TRIGGER_INSERTION);
	assert_int_equal(A.r[i].phase, AGENT_CHECKING);
	seq = acts[0].check_seq;
	assert_int_not_equal(seq, 0);
	assert_int_equal(agent_next_deadline(&A), -1);	/* nothing timed: sleep */

	n = done(R0, seq, CMS_OUT_PENDING, 2, 1000);
	assert_int_equal(A.r[i].phase, AGENT_PROMPT);
	assert_int_equal(n, 1);
	assert_int_equal(acts[0].type, AGENT_ACT_HOOK);
	assert_int_equal(acts[0].hook, AGENT_HOOK_PROMPT);
	assert_int_equal(agent_next_deadline(&A), 61000);
	assert_int_equal(agent_prompt_left_s(&A, i, 1000), 60);
	assert_int_equal(A.count.prompts_shown, 1);

	/* A stale prompt id is ignored. */
	prompt_cmd(AGENT_EV_PROCEED, R0, "nope", 2000);
	assert_false(changed);
	assert_int_equal(A.r[i].phase, AGENT_PROMPT);

	n = prompt_cmd(AGENT_EV_PROCEED, R0, A.r[i].prompt_id, 2000);
	assert_int_equal(A.r[i].phase, AGENT_PORTAL);
	assert_int_equal(n, 1);
	assert_int_equal(acts[0].hook, AGENT_HOOK_PROCEED);
	assert_int_equal(agent_next_deadline(&A), -1);

	n = ev(AGENT_EV_CARD_REMOVED, R0, 3000);
	assert_int_equal(A.r[i].phase, AGENT_IDLE);
	assert_false(A.r[i].card_present);
	assert_int_equal(n, 1);
	assert_int_equal(acts[0].hook, AGENT_HOOK_SESSION_END);

	/* The same card comes back: the follow-up check reports "up to date". */
	ev(AGENT_EV_CARD_INSERTED, R0, 4000);
	identity(R0, &id, 0, 4100);
	seq = acts[0].check_seq;
	done(R0, seq, CMS_OUT_NONE, 0, 4200);
	assert_int_equal(A.r[i].phase, AGENT_UP_TO_DATE);
	assert_string_equal(A.r[i].message, "Your card is up to date.");
}

/* Nothing pending on an automatic check: no message (the user is not alerted). */
static void
test_nothing_pending_is_silent(void **state)
{
	struct card_identity id = card(2);
	int i = agent_find(&A, R0);

	(void)state;
	ev(AGENT_EV_CARD_INSERTED, R0, 0);
	identity(R0, &id, 1, 10);
	assert_int_equal(acts[0].trigger, CMS_TRIGGER_STARTUP);
	done(R0, acts[0].check_seq, CMS_OUT_NONE, 0, 20);
	assert_int_equal(A.r[i].phase, AGENT_UP_TO_DATE);
	assert_string_equal(A.r[i].message, "");
	/* Failed automatic check: phase says so, no message either. */
	prompt_cmd(AGENT_EV_MANUAL_CHECK, R0, NULL, 30);
	assert_int_equal(acts[0].trigger, CMS_TRIGGER_MANUAL);
	done(R0, acts[0].check_seq, CMS_OUT_FAILED, 0, 40);
	assert_int_equal(A.r[i].phase, AGENT_CHECK_FAILED);
	assert_string_equal(A.r[i].code, "timeout");
	assert_string_not_equal(A.r[i].message, "");	/* manual: shown */
	/* OK on the result dialog dismisses it. */
	prompt_cmd(AGENT_EV_CLOSE, R0, NULL, 50);
	assert_true(changed);
	assert_int_equal(A.r[i].phase, AGENT_IDLE);
	assert_true(A.r[i].card_present);
}

/* A result for a card that was removed in the meantime is dropped. */
static void
test_stale_result_dropped(void **state)
{
	struct card_identity id = card(3);
	uint32_t seq;
	size_t n;
	int i = agent_find(&A, R1);

	(void)state;
	ev(AGENT_EV_CARD_INSERTED, R1, 0);
	identity(R1, &id, 0, 10);
	seq = acts[0].check_seq;
	n = ev(AGENT_EV_CARD_REMOVED, R1, 20);
	assert_int_equal(n, 1);
	assert_int_equal(acts[0].type, AGENT_ACT_CANCEL_CHECK);
	assert_int_equal(acts[0].check_seq, seq);
	done(R1, seq, CMS_OUT_PENDING, 1, 30);
	assert_false(changed);
	assert_int_equal(A.r[i].phase, AGENT_IDLE);
	/* Unknown reader: ignored. */
	assert_int_equal(ev(AGENT_EV_CARD_REMOVED, "nope", 40), 0);
	assert_false(changed);
}

/* The prompt times out; close dismisses; each reader is independent. */
static void
test_timeout_and_close(void **state)
{
	struct card_identity a = card(4), b = card(5);
	int i0 = agent_find(&A, R0), i1 = agent_find(&A, R1);

	(void)state;
	ev(AGENT_EV_CARD_INSERTED, R0, 0);
	identity(R0, &a, 0, 0);
	done(R0, acts[0].check_seq, CMS_OUT_PENDING, 1, 1000);
	ev(AGENT_EV_CARD_INSERTED, R1, 0);
	identity(R1, &b, 0, 0);
	done(R1, acts[0].check_seq, CMS_OUT_PENDING, 1, 5000);
	assert_int_equal(agent_next_deadline(&A), 61000);
	ev(AGENT_EV_TICK, NULL, 60999);
	assert_false(changed);
	ev(AGENT_EV_TICK, NULL, 61000);
	assert_true(changed);
	assert_int_equal(A.r[i0].phase, AGENT_IDLE);
	assert_int_equal(A.r[i1].phase, AGENT_PROMPT);
	assert_int_equal(A.count.prompts_timed_out, 1);
	assert_int_equal(agent_next_deadline(&A), 65000);
	prompt_cmd(AGENT_EV_CLOSE, R1, A.r[i1].prompt_id, 6000);
	assert_int_equal(A.r[i1].phase, AGENT_IDLE);
	assert_int_equal(A.count.prompts_closed, 1);
	assert_int_equal(agent_next_deadline(&A), -1);
}

/* pcscd going away forgets every reader and cancels checks in flight. */
static void
test_service_down(void **state)
{
	struct card_identity a = card(6);
	size_t n;

	(void)state;
	ev(AGENT_EV_CARD_INSERTED, R0, 0);
	identity(R0, &a, 0, 0);
	n = ev(AGENT_EV_SERVICE_DOWN, NULL, 10);
	assert_int_equal(n, 1);
	assert_int_equal(acts[0].type, AGENT_ACT_CANCEL_CHECK);
	assert_int_equal(agent_find(&A, R0), -1);
	assert_int_equal(agent_find(&A, R1), -1);
}

/* Manual check: needs a card; a card that could not be read says so. */
static void
test_manual_check(void **state)
{
	int i = agent_find(&A, R0);
	size_t n;

	(void)state;
	n = prompt_cmd(AGENT_EV_MANUAL_CHECK, R0, NULL, 0);
	assert_int_equal(n, 0);
	assert_false(changed);
	ev(AGENT_EV_CARD_INSERTED, R0, 0);
	ev(AGENT_EV_CARD_READ_FAILED, R0, 10);
	assert_int_equal(A.r[i].phase, AGENT_CHECK_FAILED);
	assert_string_equal(A.r[i].code, "card_unreadable");
	assert_string_equal(A.r[i].message, "");
	n = prompt_cmd(AGENT_EV_MANUAL_CHECK, R0, NULL, 20);
	assert_int_equal(n, 0);
	assert_int_equal(A.r[i].phase, AGENT_CHECK_FAILED);
	assert_string_equal(A.r[i].code, "card_unreadable");
}

/* More readers than the table holds: the extra one is refused, not overflowing. */
static void
test_reader_table_full(void **state)
{
	char name[32];

	(void)state;
	for (int k = 0; k < CONFIG_MAX_READERS + 3; k++) {
		snprintf(name, sizeof(name), "reader %d", k);
		ev(AGENT_EV_READER_ADDED, name, 0);
	}
	snprintf(name, sizeof(name), "reader %d", CONFIG_MAX_READERS + 2);
	assert_int_equal(agent_find(&A, name), -1);
	assert_string_equal(agent_phase_name(AGENT_REINSERT), "reinsert");
}

static size_t
session_ev(enum agent_event_type t, const char *reader, unsigned serial, int ok,
    const char *code, const char *text)
{
	struct agent_event e;

	memset(&e, 0, sizeof(e));
	e.type = t;
	e.reader = reader;
	e.serial = serial;
	e.ok = ok;
	e.code = code;
	e.text = text;
	return agent_handle(&A, &e, acts, &changed);
}

/* Inserts id into reader and answers its check with one pending update and a SERAM
 * remote agent: the reader is then at a prompt whose Proceed starts a session. */
static void
seram_prompt(const char *reader, const struct card_identity *id)
{
	struct agent_event e;
	static struct cms_result res;

	ev(AGENT_EV_CARD_INSERTED, reader, 0);
	identity(reader, id, 0, 0);
	memset(&res, 0, sizeof(res));
	res.outcome = CMS_OUT_PENDING;
	res.n_updates = 1;
	strcpy(res.portal_url, "https://cms.example/portal");
	strcpy(res.seram_url, "https://cms.example/gp/seram");
	memset(&e, 0, sizeof(e));
	e.type = AGENT_EV_CHECK_DONE;
	e.reader = reader;
	e.check_seq = acts[0].check_seq;
	e.result = &res;
	e.session_id = "0123456789abcdef0123456789abcdef";
	agent_handle(&A, &e, acts, &changed);
}

/* A prompt with a SERAM URL: Proceed starts a session; progress; stop → reinsert. */
static void
test_seram_session(void **state)
{
	struct card_identity id = card(7);
	unsigned serial;
	size_t n;
	int i = agent_find(&A, R0);

	(void)state;
	seram_prompt(R0, &id);
	assert_string_equal(A.r[i].session_id, "0123456789abcdef0123456789abcdef");
	n = prompt_cmd(AGENT_EV_PROCEED, R0, A.r[i].prompt_id, 10);
	assert_int_equal(n, 2);
	assert_int_equal(acts[1].type, AGENT_ACT_START_SESSION);
	serial = acts[1].serial;
	assert_true(A.r[i].session);
	session_ev(AGENT_EV_SESSION_PROGRESS, R0, serial, 0, NULL, "Writing certificate");
	assert_true(changed);
	assert_string_equal(A.r[i].progress, "Writing certificate");
	session_ev(AGENT_EV_SESSION_PROGRESS, R0, serial + 1, 0, NULL, "stale");
	assert_false(changed);
	session_ev(AGENT_EV_SESSION_DONE, R0, serial, 1, NULL, NULL);
	assert_int_equal(A.r[i].phase, AGENT_REINSERT);
	assert_false(A.r[i].session);
	assert_int_equal(A.count.sessions_ok, 1);
	/* Removal in reinsert: session end hook; the same card back: up to date. */
	n = ev(AGENT_EV_CARD_REMOVED, R0, 20);
	assert_int_equal(acts[0].hook, AGENT_HOOK_SESSION_END);
	ev(AGENT_EV_CARD_INSERTED, R0, 30);
	identity(R0, &id, 0, 30);
	done(R0, acts[0].check_seq, CMS_OUT_NONE, 0, 40);
	assert_string_equal(A.r[i].message, "Your card is up to date.");
}

/* Removal during a session cancels it; a late DONE is ignored; Cancel from the page. */
static void
test_seram_session_cancel(void **state)
{
	struct card_identity id = card(8);
	unsigned serial;
	size_t n;
	int i = agent_find(&A, R0);

	(void)state;
	for (int round = 0; round < 2; round++) {
		seram_prompt(R0, &id);
		prompt_cmd(AGENT_EV_PROCEED, R0, A.r[i].prompt_id, 10);
		serial = acts[1].serial;
		if (round == 0) {
			n = ev(AGENT_EV_CARD_REMOVED, R0, 20);
			assert_int_equal(n, 2);
			assert_int_equal(acts[0].type, AGENT_ACT_CANCEL_SESSION);
			assert_int_equal(acts[0].serial, serial);
			assert_int_equal(acts[1].hook, AGENT_HOOK_SESSION_END);
		} else {
			n = prompt_cmd(AGENT_EV_SESSION_CANCEL, R0, NULL, 20);
			assert_int_equal(n, 1);
			assert_int_equal(acts[0].type, AGENT_ACT_CANCEL_SESSION);
			assert_int_equal(A.r[i].phase, AGENT_IDLE);
			assert_true(A.r[i].card_present);
		}
		session_ev(AGENT_EV_SESSION_DONE, R0, serial, 0, "cancelled", NULL);
		assert_false(changed);
	}
	/* A failed session says why. */
	seram_prompt(R0, &id);
	prompt_cmd(AGENT_EV_PROCEED, R0, A.r[i].prompt_id, 10);
	session_ev(AGENT_EV_SESSION_DONE, R0, acts[1].serial, 0, "timeout", NULL);
	assert_int_equal(A.r[i].phase, AGENT_CHECK_FAILED);
	assert_string_equal(A.r[i].code, "timeout");
	assert_non_null(strstr(A.r[i].message, "did not finish"));
}

/* Every action carries what it needs: the loop never reads the agent's readers. */
static void
test_actions_carry_their_payload(void **state)
{
	struct card_identity id = card(9);
	int i = agent_find(&A, R1);
	size_t n;

	(void)state;
	ev(AGENT_EV_CARD_INSERTED, R1, 0);
	n = identity(R1, &id, 0, 0);
	assert_int_equal(n, 1);
	assert_int_equal(acts[0].type, AGENT_ACT_START_CHECK);
	assert_int_equal(acts[0].reader, i);
	assert_string_equal(acts[0].name, R1);
	assert_true(card_same(&acts[0].id, &id));
	assert_int_equal(acts[0].trigger, CMS_TRIGGER_INSERTION);
	seram_prompt(R1, &id);
	assert_int_equal(acts[0].type, AGENT_ACT_HOOK);
	assert_int_equal(acts[0].hook, AGENT_HOOK_PROMPT);
	assert_string_equal(acts[0].url, "https://cms.example/portal");
	n = prompt_cmd(AGENT_EV_PROCEED, R1, A.r[i].prompt_id, 10);
	assert_int_equal(n, 2);
	assert_int_equal(acts[0].hook, AGENT_HOOK_PROCEED);
	assert_string_equal(acts[1].name, R1);
	assert_string_equal(acts[1].url, "https://cms.example/gp/seram");
	assert_string_equal(acts[1].session_id, "0123456789abcdef0123456789abcdef");
	assert_true(card_same(&acts[1].id, &id));
	n = ev(AGENT_EV_CARD_REMOVED, R1, 20);
	assert_int_equal(n, 2);
	assert_int_equal(acts[0].type, AGENT_ACT_CANCEL_SESSION);
	assert_string_equal(acts[0].why, "card removed");
	assert_int_equal(acts[1].hook, AGENT_HOOK_SESSION_END);
	assert_string_equal(acts[1].name, R1);
	assert_string_equal(acts[1].url, "");	/* no portal for session_end */
}

static int
has_hook(size_t n, enum agent_hook h)
{
	for (size_t k = 0; k < n; k++)
		if (acts[k].type == AGENT_ACT_HOOK && acts[k].hook == h)
			return 1;
	return 0;
}

/* After Proceed the browser may hold the user's portal session: removing the card
 * ends it (on_session_end) whatever happened in between — Cancel, a failed update,
 * a manual re-check — and only once. */
static void
test_session_end_hook_after_proceed(void **state)
{
	struct card_identity id = card(9);
	size_t n;
	int i = agent_find(&A, R0);

	(void)state;
	for (int flow = 0; flow < 3; flow++) {
		seram_prompt(R0, &id);
		prompt_cmd(AGENT_EV_PROCEED, R0, A.r[i].prompt_id, 10);
		if (flow == 0)
			prompt_cmd(AGENT_EV_SESSION_CANCEL, R0, NULL, 20);
		else if (flow == 1)
			session_ev(AGENT_EV_SESSION_DONE, R0, acts[1].serial, 0, "timeout", NULL);
		else {
			session_ev(AGENT_EV_SESSION_DONE, R0, acts[1].serial, 1, NULL, NULL);
			prompt_cmd(AGENT_EV_MANUAL_CHECK, R0, NULL, 30);
			done(R0, acts[0].check_seq, CMS_OUT_NONE, 0, 40);
		}
		assert_int_not_equal(A.r[i].phase, AGENT_PORTAL);
		n = ev(AGENT_EV_CARD_REMOVED, R0, 50);
		assert_true(has_hook(n, AGENT_HOOK_SESSION_END));
		/* Not twice: the next plain insertion and removal run no hook. */
		ev(AGENT_EV_CARD_INSERTED, R0, 60);
		n = ev(AGENT_EV_CARD_REMOVED, R0, 70);
		assert_false(has_hook(n, AGENT_HOOK_SESSION_END));
	}
}

/* pcscd lost with every reader busy: every action fits (none silently dropped). */
static void
test_service_down_all_readers_busy(void **state)
{
	struct card_identity id = card(10);
	char name[32];
	size_t n, cancels = 0;

	(void)state;
	agent_init(&A, 60);
	for (int k = 0; k < CONFIG_MAX_READERS; k++) {
		snprintf(name, sizeof(name), "busy %d", k);
		ev(AGENT_EV_CARD_INSERTED, name, 0);
		identity(name, &id, 0, 0);
	}
	n = ev(AGENT_EV_SERVICE_DOWN, NULL, 10);
	for (size_t k = 0; k < n; k++)
		cancels += acts[k].type == AGENT_ACT_CANCEL_CHECK;
	assert_int_equal(cancels, CONFIG_MAX_READERS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_happy_path, setup),
		cmocka_unit_test_setup(test_nothing_pending_is_silent, setup),
		cmocka_unit_test_setup(test_stale_result_dropped, setup),
		cmocka_unit_test_setup(test_timeout_and_close, setup),
		cmocka_unit_test_setup(test_service_down, setup),
		cmocka_unit_test_setup(test_manual_check, setup),
		cmocka_unit_test_setup(test_reader_table_full, setup),
		cmocka_unit_test_setup(test_seram_session, setup),
		cmocka_unit_test_setup(test_seram_session_cancel, setup),
		cmocka_unit_test_setup(test_session_end_hook_after_proceed, setup),
		cmocka_unit_test_setup(test_actions_carry_their_payload, setup),
		cmocka_unit_test(test_service_down_all_readers_busy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
