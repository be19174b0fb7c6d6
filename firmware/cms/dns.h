/* SPDX-License-Identifier: BSD-2-Clause */
/* dns.h — name resolution for the CMS client under a deadline. getaddrinfo() cannot be
 * interrupted, so a name is resolved on a detached thread and waited for until the
 * deadline; a thread that outlives its caller finishes on its own. Live resolver
 * threads are counted and capped (DNS_THREADS_MAX): when that many are still stuck
 * in getaddrinfo(), a new lookup fails at once instead of starting another. IP
 * literals are converted in the caller's thread. Thread-safe. */
#ifndef CARDUPD_DNS_H
#define CARDUPD_DNS_H

#include <netdb.h>
#include <stdint.h>

#include "cms/conn.h"

/* Most resolver threads alive at once (each stuck one holds a small stack and one
 * request). Two checks and a session resolving at once stay well under it. */
#ifndef DNS_THREADS_MAX
#define DNS_THREADS_MAX	4
#endif

/* Resolves host and the decimal port for a TCP connection (any family), waiting at
 * most until deadline (clock_mono_ms() terms). Returns 0 with *out (free with
 * freeaddrinfo), or -1 with e set: "dns" (no such name, resolver error, thread cap
 * reached) or "timeout" (the resolver thread is left to finish alone). */
int dns_resolve(const char *host, const char *port, int64_t deadline,
    struct addrinfo **out, struct net_err *e);

/* Resolver threads alive now (started and not yet finished). */
int dns_threads_live(void);

#endif
