/* SPDX-License-Identifier: BSD-2-Clause */
/* dns.c — see dns.h. A request is shared by the waiter and its thread; whoever drops
 * the last reference frees it, so nothing a live thread may touch is ever freed under
 * it. The live-thread count is decremented by the thread itself as its very last
 * access to shared state. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "core/http.h"
#include "cms/dns.h"

/* A resolver thread needs little stack (glibc's resolver keeps its packet buffers on
 * the heap); this leaves room for NSS modules and a sanitizer build. */
#define DNS_THREAD_STACK	(256 * 1024)

struct dnsreq {
	atomic_int		 refs;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 done;
	int			 rc;
	struct addrinfo		*res;
	char			 host[HTTP_HOST_MAX];
	char			 port[6];
};

static atomic_int live_threads;

/* see dns.h */
int
dns_threads_live(void)
{
	return atomic_load(&live_threads);
}

static void
dnsreq_unref(struct dnsreq *r)
{
	if (atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	if (r->res != NULL)
		freeaddrinfo(r->res);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void *
dns_thread(void *arg)
{
	struct dnsreq *r = arg;
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	rc = getaddrinfo(r->host, r->port, &hints, &res);
	pthread_mutex_lock(&r->mu);
	r->rc = rc;
	r->res = rc == 0 ? res : NULL;
	r->done = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	dnsreq_unref(r);
	atomic_fetch_sub(&live_threads, 1);
	return NULL;
}

/* Takes a thread slot; 0 when DNS_THREADS_MAX are alive. */
static int
slot_take(void)
{
	int n = atomic_load(&live_threads);

	do {
		if (n >= DNS_THREADS_MAX)
			return 0;
	} while (!atomic_compare_exchange_weak(&live_threads, &n, n + 1));
	return 1;
}

/* see dns.h */
int
dns_resolve(const char *host, const char *port, int64_t deadline,
    struct addrinfo **out, struct net_err *e)
{
	struct addrinfo hints;
	struct dnsreq *r;
	pthread_attr_t ta;
	pthread_t tid;
	struct timespec ts;
	int rc = 0, waitrc = 0, done;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, out) == 0)
		return 0;

	if (strlen(host) >= sizeof r->host || strlen(port) >= sizeof r->port) {
		net_fail(e, "dns", "%s: name too long", host);
		return -1;
	}
	if (!slot_take()) {
		net_fail(e, "dns", "%s: %d earlier name lookups are still stuck in the "
		    "resolver; not starting another", host, DNS_THREADS_MAX);
		return -1;
	}
	if ((r = calloc(1, sizeof *r)) == NULL) {
		atomic_fetch_sub(&live_threads, 1);
		net_fail(e, "dns", "%s: out of memory", host);
		return -1;
	}
	atomic_init(&r->refs, 2);
	(void)snprintf(r->host, sizeof r->host, "%s", host);
	(void)snprintf(r->port, sizeof r->port, "%s", port);
	pthread_mutex_init(&r->mu, NULL);
	clock_cond_init(&r->cv);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	(void)pthread_attr_setstacksize(&ta, DNS_THREAD_STACK);
	rc = pthread_create(&tid, &ta, dns_thread, r);
	pthread_attr_destroy(&ta);
	if (rc != 0) {
		atomic_fetch_sub(&live_threads, 1);
		atomic_store(&r->refs, 1);
		dnsreq_unref(r);
		net_fail(e, "dns", "%s: cannot start the resolver: %s", host,
		    strerror(rc));
		return -1;
	}

	/* the deadline is in clock_mono_ms() terms, which are CLOCK_MONOTONIC */
	ts.tv_sec = (time_t)(deadline / 1000);
	ts.tv_nsec = (long)(deadline % 1000) * 1000000;
	pthread_mutex_lock(&r->mu);
	while (!r->done && waitrc != ETIMEDOUT)
		waitrc = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	done = r->done;
	if (done) {
		rc = r->rc;
		*out = r->res;
		r->res = NULL;		/* ours now */
	}
	pthread_mutex_unlock(&r->mu);
	dnsreq_unref(r);

	if (!done) {
		net_fail(e, "timeout", "%s: name resolution did not finish in time", host);
		return -1;
	}
	if (rc != 0) {
		net_fail(e, "dns", "%s: cannot resolve: %s", host, gai_strerror(rc));
		return -1;
	}
	return 0;
}
