/* SPDX-License-Identifier: BSD-2-Clause */
/* tls_term.h — the admin listener's TLS (BearSSL): a terminator that owns the listening
 * socket and one thread, and hands each client's plaintext to a libmicrohttpd daemon
 * started without TLS and without a listen socket, over one end of a socketpair given
 * to MHD_add_connection() with the client's own address (so that MHD's per-address
 * limit, the lock-out and the audit log see the real client). TLS 1.2 only, ECDHE with
 * AEAD suites only (the CMS client's policy, docs/cms-client.md), sessions resumed from
 * a small shared cache. */
#ifndef CARDUPD_ADMIN_TLS_TERM_H
#define CARDUPD_ADMIN_TLS_TERM_H

#include <stddef.h>
#include <sys/socket.h>
#include <microhttpd.h>

struct tls_term;

/* What the terminator has done since it started; read by any thread. */
struct tls_term_stats {
	unsigned long	handshakes;	/* completed (full or resumed) */
	unsigned long	failures;	/* refused or broken handshakes (debug log only) */
	unsigned long	timeouts;	/* handshakes not done within the deadline */
	unsigned long	refused;	/* accepted and closed at once: over the limit,
					 * or refused by MHD (its per-address limit) */
};

/* Decodes the certificate chain (PEM, leaf first) and the private key (PEM, RSA or EC)
 * and binds and listens on sa (IPv4 or IPv6-only; SO_REUSEADDR, non-blocking,
 * close-on-exec). max_conns: connections held at once (the accepted ones beyond are
 * closed at once); deadline_ms: the time a client has from its connection to the end
 * of its handshake, and later for the closing alert to leave. Nothing runs yet.
 * Returns the terminator, or NULL with err. */
struct tls_term *tls_term_open(const struct sockaddr *sa, socklen_t salen,
    const char *cert_pem, const char *key_pem, unsigned max_conns, long deadline_ms,
    char *err, size_t errlen);

/* Starts the thread, which feeds the connections to d (started with
 * MHD_USE_NO_LISTEN_SOCKET and MHD_USE_ITC, and stopped only after tls_term_close).
 * Returns 0, or an errno value. */
int tls_term_start(struct tls_term *t, struct MHD_Daemon *d);

/* Stops and joins the thread (when started), closes the listening socket and every
 * connection (MHD sees each end of stream), wipes the key, the session cache and the
 * connections' TLS state, and frees t. NULL: nothing. */
void tls_term_close(struct tls_term *t);

/* Copies the counters. */
void tls_term_stats(const struct tls_term *t, struct tls_term_stats *out);

#endif
