/* SPDX-License-Identifier: BSD-2-Clause */
/* test_dns.c — cms/dns.c through https_post: a name lookup that never returns (a dead
 * resolver) leaves its thread behind when the deadline passes; the number of such
 * threads is capped (issue 13 item 11), the lookups over the cap fail at once with
 * "dns", and the threads left behind finish and free on their own once the resolver
 * answers. getaddrinfo() is replaced here by one that blocks until the test lets it go
 * (the test program's definition wins over libc's for libcardupd.a). */
#include <errno.h>
#include <netdb.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cms/dns.h"
#include "cms/https.h"

#define LOOKUPS	(DNS_THREADS_MAX + 3)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int inflight, max_inflight, released;

int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
    struct addrinfo **res)
{
	(void)service;
	(void)res;
	if (hints != NULL && (hints->ai_flags & AI_NUMERICHOST))
		return EAI_NONAME;	/* not an IP literal: go to the resolver */
	pthread_mutex_lock(&mu);
	if (++inflight > max_inflight)
		max_inflight = inflight;
	pthread_cond_broadcast(&cv);
	while (!released)
		pthread_cond_wait(&cv, &mu);
	inflight--;
	pthread_mutex_unlock(&mu);
	(void)node;
	return EAI_AGAIN;
}

struct job {
	struct https_client	*c;
	struct https_result	 res;
	int			 rc;
};

static void *
post(void *arg)
{
	struct job *j = arg;
	struct http_url u;

	if (http_parse_url("https://cms.invalid:8443/cms/card-status", &u) == -1)
		return NULL;
	j->rc = https_post(j->c, &u, NULL, "{}", 2, 300, &j->res);
	return NULL;
}

static void
test_stuck_resolver_threads_capped(void **state)
{
	struct job jobs[LOOKUPS];
	pthread_t t[LOOKUPS];
	struct timespec ts = { 0, 2 * 1000 * 1000 };
	char err[256];
	int i, timeouts = 0, capped = 0, spins;

	(void)state;
	for (i = 0; i < LOOKUPS; i++) {
		memset(&jobs[i], 0, sizeof jobs[i]);
		jobs[i].c = https_client_new(VECTORS_DIR "/anchor_ca.pem", NULL, NULL, err,
		    sizeof err);
		assert_non_null(jobs[i].c);
	}
	/* one after the other, so that every earlier lookup is stuck when the next
	 * starts: the first DNS_THREADS_MAX time out, the rest hit the cap */
	for (i = 0; i < LOOKUPS; i++) {
		assert_int_equal(pthread_create(&t[i], NULL, post, &jobs[i]), 0);
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_int_equal(jobs[i].rc, -1);
		if (strcmp(jobs[i].res.code, "timeout") == 0)
			timeouts++;
		else if (strcmp(jobs[i].res.code, "dns") == 0 &&
		    strstr(jobs[i].res.detail, "still stuck") != NULL)
			capped++;
	}
	pthread_mutex_lock(&mu);
	assert_int_equal(max_inflight, DNS_THREADS_MAX);
	assert_int_equal(inflight, DNS_THREADS_MAX);
	pthread_mutex_unlock(&mu);
	assert_int_equal(dns_threads_live(), DNS_THREADS_MAX);
	assert_int_equal(timeouts, DNS_THREADS_MAX);
	assert_int_equal(capped, LOOKUPS - DNS_THREADS_MAX);

	/* the clients go away while their lookups are still running: the requests
	 * belong to the threads now (ASan would see a use after free) */
	for (i = 0; i < LOOKUPS; i++)
		https_client_free(jobs[i].c);

	/* the resolver answers: every thread finishes and frees its request */
	pthread_mutex_lock(&mu);
	released = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	for (spins = 0; dns_threads_live() > 0 && spins < 2500; spins++)
		nanosleep(&ts, NULL);
	assert_int_equal(dns_threads_live(), 0);

	/* and lookups start again */
	jobs[0].c = https_client_new(VECTORS_DIR "/anchor_ca.pem", NULL, NULL, err,
	    sizeof err);
	assert_non_null(jobs[0].c);
	post(&jobs[0]);
	assert_string_equal(jobs[0].res.code, "dns");
	assert_non_null(strstr(jobs[0].res.detail, "cannot resolve"));
	https_client_free(jobs[0].c);
	for (spins = 0; dns_threads_live() > 0 && spins < 2500; spins++)
		nanosleep(&ts, NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stuck_resolver_threads_capped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
