/* SPDX-License-Identifier: BSD-2-Clause */
/* test_session.c — session.c's thread bookkeeping: session threads are capped
 * (SESSION_THREADS_MAX), counted while alive whoever holds their handle, and the owner
 * can wait until none can call back any more — the case of a session released (detached)
 * before shutdown that later reports to a queue the owner had freed. The card is a fake
 * core/card_port.h that holds open() until the test lets it go, then answers "a different
 * card": the outcome arrives as the code different_card (a code, not parsed prose). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <unistd.h>
#include <cmocka.h>

#include "cms/session.h"
#include "scratch.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int gate_open, reports, dones;
static char last_code[CMS_CODE_MAX];
static struct cfg cfg;

static void *
fake_open(const char *reader, const struct card_identity *expect,
    enum card_port_fail *why, char *err, size_t errlen)
{
	(void)reader;
	(void)expect;
	pthread_mutex_lock(&mu);
	while (!gate_open)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	*why = CARD_PORT_DIFFERENT;
	snprintf(err, errlen, "another card");
	return NULL;
}

static int fake_begin(void *h, char *e, size_t n) { (void)h; (void)e; (void)n; return -1; }
static int fake_apdu(void *h, const uint8_t *c, size_t cl, uint8_t *r, size_t rm, size_t *rl)
{ (void)h; (void)c; (void)cl; (void)r; (void)rm; *rl = 0; return -1; }
static void fake_end(void *h) { (void)h; }
static void fake_close(void *h) { (void)h; }

static const struct card_port fake_port = {
	.open = fake_open, .begin = fake_begin, .apdu = fake_apdu, .end = fake_end,
	.close = fake_close,
};

static void
on_report(void *arg, const struct session_report *rep)
{
	(void)arg;
	pthread_mutex_lock(&mu);
	reports++;
	if (rep->type == SESSION_EV_DONE) {
		dones++;
		snprintf(last_code, sizeof(last_code), "%s", rep->code);
	}
	pthread_mutex_unlock(&mu);
}

static void
gate(int open)
{
	pthread_mutex_lock(&mu);
	gate_open = open;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

static struct session *
start(unsigned serial, char *err, size_t errlen)
{
	struct session_params p;

	memset(&p, 0, sizeof(p));
	p.serial = serial;
	snprintf(p.reader, sizeof(p.reader), "R");
	snprintf(p.seram_url, sizeof(p.seram_url), "https://127.0.0.1:9/gp/seram");
	snprintf(p.session_id, sizeof(p.session_id), "00112233445566778899aabbccddeeff");
	p.max_s = 30;
	p.port = &fake_port;
	return session_start(&p, &cfg, on_report, NULL, err, errlen);
}

static int
setup(void **state)
{
	char cmd[512];

	(void)state;
	if (scratch_make() != 0)
		return -1;
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=test -keyout %s/k.pem "
	    "-out %s/ca.pem >/dev/null 2>&1", scratch_dir, scratch_dir);
	if (system(cmd) != 0)
		return -1;
	snprintf(cfg.cms_anchors, sizeof(cfg.cms_anchors), "%s", scratch_path("ca.pem"));
	return 0;
}

/* Released before it ended: still counted; the owner waits before freeing. */
static void
test_released_session_is_waited_for(void **state)
{
	char err[200];
	struct session *s;
	int n;

	(void)state;
	gate(0);
	assert_non_null(s = start(1, err, sizeof(err)));
	session_cancel(s, "device shutting down");
	session_release(s);
	assert_int_equal(session_live(), 1);
	assert_int_equal(session_wait_idle(50), 0);	/* it may still call back */
	gate(1);
	assert_int_equal(session_wait_idle(10000), 1);
	assert_int_equal(session_live(), 0);
	pthread_mutex_lock(&mu);
	n = reports;
	assert_int_equal(dones, 1);
	assert_string_equal(last_code, "different_card");
	pthread_mutex_unlock(&mu);
	/* Past session_wait_idle, nothing calls back any more. */
	usleep(20000);
	pthread_mutex_lock(&mu);
	assert_int_equal(reports, n);
	pthread_mutex_unlock(&mu);
}

static void
test_threads_are_capped(void **state)
{
	struct session *s[SESSION_THREADS_MAX];
	char err[200];

	(void)state;
	gate(0);
	for (int i = 0; i < SESSION_THREADS_MAX; i++)
		assert_non_null(s[i] = start((unsigned)i + 10, err, sizeof(err)));
	assert_int_equal(session_live(), SESSION_THREADS_MAX);
	assert_null(start(99, err, sizeof(err)));
	assert_non_null(strstr(err, "still ending"));
	for (int i = 0; i < SESSION_THREADS_MAX; i++) {
		session_cancel(s[i], "test");
		session_release(s[i]);
	}
	gate(1);
	assert_int_equal(session_wait_idle(10000), 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_released_session_is_waited_for),
		cmocka_unit_test(test_threads_are_capped),
	};

	return cmocka_run_group_tests(tests, setup, scratch_teardown);
}
