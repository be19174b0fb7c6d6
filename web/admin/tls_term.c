/* SPDX-License-Identifier: BSD-2-Clause */
/* tls_term.c — see tls_term.h. One thread runs poll() over the listening socket, a wake
 * pipe and, per connection, the client's TCP socket and our end of its socketpair; each
 * connection's BearSSL engine is pumped without ever blocking (BearSSL's
 * tools/sslio.c run_ssl_engine(), turned inside out for many connections). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <bearssl.h>

#include "base/clock.h"
#include "base/log.h"
#include "core/tls_policy.h"
#include "core/tlscred.h"
#include "web/admin/tls_term.h"

#define TERM_STACK	(128 * 1024)	/* BearSSL's deepest (RSA signing) touches ~20 KiB */
#define TERM_CACHE	(48 * 100)	/* 48 resumable sessions (100 bytes each) */
#define TERM_LINGER_MS	2000		/* the client's unread upload drained after the
					 * answer (else our close resets the connection and
					 * the client never reads the answer) */
#define TERM_DRAIN_READS 32		/* lingering: reads of 2 KiB per wake-up */
#define TERM_ACCEPT_PAUSE_MS 1000	/* accept4 failing (no fds, no memory): the
					 * listening socket stays readable, so it is
					 * left out of poll() this long, not spun on */
#define TERM_ACCEPTS	16		/* accepted per wake-up, so that one flood cannot
					 * starve the connections already held */

/* A connection: its engine and its buffer in one mapping of its own (~38 KiB), so that
 * its pages go back to the system when it closes instead of staying in the heap. */
struct term_conn {
	br_ssl_server_context	 sc;
	int			 tcp;		/* the client */
	int			 app;		/* our end of the socketpair; MHD has the other */
	int64_t			 deadline;	/* monotonic ms; 0: none (MHD's timeouts rule) */
	int			 hs_done;
	int			 closing;	/* MHD closed: the alert leaves, then we close */
	int			 app_hup;	/* MHD's end hung up: not polled any more */
	int			 app_wdead;	/* MHD reads no more: the client's data dropped */
	int			 lingering;	/* all sent and shut down: draining the client */
	char			 peer[INET6_ADDRSTRLEN];
	unsigned char		 iobuf[BR_SSL_BUFSIZE_BIDI];
};

struct tls_term {
	int			 lfd;
	int			 wake[2];
	struct MHD_Daemon	*d;
	pthread_t		 thread;
	int			 started;
	unsigned		 max;
	long			 deadline_ms;
	struct tlscred		 cred;
	br_ssl_session_cache_lru lru;
	unsigned char		 cache[TERM_CACHE];
	struct term_conn	**conns;	/* max slots */
	struct pollfd		*pfd;		/* 2 + 2 * max */
	atomic_ulong		 handshakes, failures, timeouts, refused;
	int64_t			 accept_paused;	/* monotonic ms until accepting resumes */
};

/* see tls_term.h */
struct tls_term *
tls_term_open(const struct sockaddr *sa, socklen_t salen, const char *cert_pem,
    const char *key_pem, unsigned max_conns, long deadline_ms, char *err, size_t errlen)
{
	struct tls_term *t;
	int one = 1;

	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->lfd = t->wake[0] = t->wake[1] = -1;
	t->max = max_conns;
	t->deadline_ms = deadline_ms;
	if ((t->conns = calloc(max_conns, sizeof(*t->conns))) == NULL ||
	    (t->pfd = calloc(2 + 2 * (size_t)max_conns, sizeof(*t->pfd))) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (tlscred_decode("admin certificate", (const unsigned char *)cert_pem,
	    strlen(cert_pem), "admin key", (const unsigned char *)key_pem, strlen(key_pem),
	    &t->cred, err, errlen) == -1)
		goto fail;
	br_ssl_session_cache_lru_init(&t->lru, t->cache, sizeof(t->cache));
	if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) == -1) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	if ((t->lfd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		goto fail;
	}
	(void)setsockopt(t->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* as libmicrohttpd did without MHD_USE_DUAL_STACK: an IPv6 address is IPv6 only */
	if (sa->sa_family == AF_INET6)
		(void)setsockopt(t->lfd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(t->lfd, sa, salen) == -1 || listen(t->lfd, 64) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		goto fail;
	}
	return t;
fail:
	tls_term_close(t);
	return NULL;
}

/* Closes and wipes one connection. */
static void
conn_free(struct term_conn *c)
{
	if (c->tcp != -1)
		close(c->tcp);
	if (c->app != -1)
		close(c->app);
	explicit_bzero(c, sizeof(*c));
	munmap(c, sizeof(*c));
}

/* A handshake that did not end well: counted, and told at debug level only (scanners
 * and wrong clients would flood the log). */
static void
hs_failed(struct tls_term *t, struct term_conn *c, const char *why, int code)
{
	atomic_fetch_add(&t->failures, 1);
	log_debug("admin: TLS handshake with %s failed: %s (BearSSL error %d)", c->peer,
	    why, code);
}

/* MHD is done with the connection: the engine closes (a close_notify alert for the
 * client), which pump() sends before it closes the socket. */
static void
app_gone(struct tls_term *t, struct term_conn *c)
{
	if (c->closing)
		return;
	if (!c->hs_done) {
		/* cut by the watchdog (its deadline, or room for a newer one) */
		atomic_fetch_add(&t->timeouts, 1);
		log_debug("admin: TLS handshake with %s cut before its end", c->peer);
	}
	c->closing = 1;
	c->app_hup = 1;
	br_ssl_engine_close(&c->sc.eng);
	c->deadline = clock_mono_ms() + t->deadline_ms;
}

/* Moves bytes between the client, the engine and MHD until nothing moves without
 * waiting. Returns 0 to keep the connection, -1 to close it. */
static int
pump(struct tls_term *t, struct term_conn *c)
{
	br_ssl_engine_context *eng = &c->sc.eng;

	if (c->lingering) {
		unsigned char sink[2048];
		ssize_t n = 0;

		/* at most TERM_DRAIN_READS per wake-up: a client sending as fast as we
		 * read must not keep the thread (and every other connection) here; poll()
		 * reports the rest, and the linger deadline ends it */
		for (int k = 0; k < TERM_DRAIN_READS; k++)
			if ((n = recv(c->tcp, sink, sizeof(sink), 0)) <= 0)
				break;
		return n > 0 || (n == -1 && (errno == EAGAIN || errno == EINTR)) ? 0 : -1;
	}
	for (;;) {
		unsigned st = br_ssl_engine_current_state(eng);
		unsigned char *buf;
		size_t len;
		ssize_t n;
		int moved = 0;

		if (st == BR_SSL_CLOSED) {
			int e = br_ssl_engine_last_error(eng);

			if (!c->hs_done && !c->closing)
				hs_failed(t, c, "closed", e);
			else if (e != BR_ERR_OK)
				log_debug("admin: TLS with %s: BearSSL error %d", c->peer, e);
			return -1;
		}
		if (!c->hs_done && (st & (BR_SSL_SENDAPP | BR_SSL_RECVAPP))) {
			c->hs_done = 1;
			if (!c->closing)
				c->deadline = 0;
			atomic_fetch_add(&t->handshakes, 1);
		}
		if (st & BR_SSL_SENDREC) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			n = send(c->tcp, buf, len, MSG_NOSIGNAL);
			if (n > 0) {
				br_ssl_engine_sendrec_ack(eng, (size_t)n);
				moved = 1;
				/* MHD has hung up: a deadline for a client that
				 * stalls, not for one that reads slowly */
				if (c->app_hup && c->hs_done && !c->closing)
					c->deadline = clock_mono_ms() + t->deadline_ms;
			} else if (n == -1 && errno != EAGAIN && errno != EINTR)
				return -1;
		} else if (c->closing) {
			int unread = 0;

			/* the closing alert is out: no need to wait for theirs. But a
			 * client still sending (an upload MHD answered early) would get
			 * a reset for its next bytes, and a reset makes its system drop
			 * our answer unread: that one is drained a while (linger). */
			if (!c->app_wdead && (ioctl(c->tcp, FIONREAD, &unread) == -1 ||
			    unread == 0))
				return -1;
			if (shutdown(c->tcp, SHUT_WR) == -1)
				return -1;
			c->lingering = 1;
			c->deadline = clock_mono_ms() + TERM_LINGER_MS;
			return pump(t, c);
		}
		if (st & BR_SSL_RECVAPP) {
			buf = br_ssl_engine_recvapp_buf(eng, &len);
			if (c->closing || c->app_wdead)
				n = (ssize_t)len;	/* MHD reads no more: dropped */
			else
				n = send(c->app, buf, len, MSG_NOSIGNAL);
			if (n > 0) {
				br_ssl_engine_recvapp_ack(eng, (size_t)n);
				moved = 1;
			} else if (n == -1 && errno != EAGAIN && errno != EINTR) {
				/* MHD answered early and closed (a body too large): its
				 * answer may still be waiting to be read, below */
				c->app_wdead = 1;
				moved = 1;
			}
		}
		if (st & BR_SSL_RECVREC) {
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			n = recv(c->tcp, buf, len, 0);
			if (n > 0) {
				br_ssl_engine_recvrec_ack(eng, (size_t)n);
				moved = 1;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				if (!c->hs_done && !c->closing)
					hs_failed(t, c, n == 0 ? "end of stream" :
					    strerror(errno), br_ssl_engine_last_error(eng));
				return -1;	/* the client is gone (or truncated) */
			}
		}
		if ((st & BR_SSL_SENDAPP) && !c->closing) {
			buf = br_ssl_engine_sendapp_buf(eng, &len);
			n = recv(c->app, buf, len, 0);
			if (n > 0) {
				br_ssl_engine_sendapp_ack(eng, (size_t)n);
				br_ssl_engine_flush(eng, 0);
				moved = 1;
			} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
				app_gone(t, c);
				moved = 1;
			}
		}
		if (!moved)
			return 0;
	}
}

/* Takes one accepted client: an engine, a socketpair, and MHD's end to MHD. Any
 * failure closes the client at once. */
static void
admit(struct tls_term *t, int fd, const struct sockaddr_storage *peer, socklen_t plen)
{
	struct term_conn *c;
	br_ssl_engine_context *eng;
	unsigned slot;
	int sv[2];

	for (slot = 0; slot < t->max && t->conns[slot] != NULL; slot++)
		;
	/* full: one that is only finishing (MHD is done with it) makes room */
	for (unsigned i = 0; slot == t->max && i < t->max; i++)
		if (t->conns[i]->closing) {
			conn_free(t->conns[i]);
			t->conns[i] = NULL;
			slot = i;
		}
	if (slot == t->max) {
		atomic_fetch_add(&t->refused, 1);
		log_debug("admin: connection refused: %u connections held", t->max);
		close(fd);
		return;
	}
	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (c == MAP_FAILED) {
		log_warn("admin: connection dropped: mmap");
		close(fd);
		return;
	}
	c->tcp = fd;
	c->app = -1;
	if (peer->ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)peer)->sin6_addr, c->peer,
		    sizeof(c->peer));
	else
		inet_ntop(AF_INET, &((const struct sockaddr_in *)peer)->sin_addr, c->peer,
		    sizeof(c->peer));
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) == -1) {
		log_warn("admin: connection from %s dropped: socketpair", c->peer);
		conn_free(c);
		return;
	}
	c->app = sv[0];
	eng = &c->sc.eng;
	if (t->cred.key_type == BR_KEYTYPE_EC)
		br_ssl_server_init_full_ec(&c->sc, t->cred.chain, t->cred.chain_len,
		    t->cred.issuer_key_type, &t->cred.ec);
	else
		br_ssl_server_init_full_rsa(&c->sc, t->cred.chain, t->cred.chain_len,
		    &t->cred.rsa);
	/* the CMS client's policy (docs/cms-client.md): TLS 1.2, ECDHE + AEAD; the engine
	 * keeps the suites its key can serve (ECDSA for an EC key, RSA for an RSA key) */
	tls_policy_apply(eng);
	/* SHA-2 only for handshake signatures, as the CMS client (TLS 1.2's PRF with these
	 * suites is SHA-256 or SHA-384) */
	br_ssl_engine_set_hash(eng, br_md5_ID, NULL);
	br_ssl_engine_set_hash(eng, br_sha1_ID, NULL);
	br_ssl_engine_add_flags(eng, BR_OPT_ENFORCE_SERVER_PREFERENCES |
	    BR_OPT_NO_RENEGOTIATION);
	br_ssl_server_set_cache(&c->sc, &t->lru.vtable);
	br_ssl_engine_set_buffer(eng, c->iobuf, sizeof(c->iobuf), 1);
	if (!br_ssl_server_reset(&c->sc)) {
		log_warnx("admin: connection from %s dropped: TLS engine error %d", c->peer,
		    br_ssl_engine_last_error(eng));
		close(sv[1]);
		conn_free(c);
		return;
	}
	c->deadline = clock_mono_ms() + t->deadline_ms;
	/* MHD owns sv[1] from here, and closes it itself when it refuses it */
	if (MHD_add_connection(t->d, sv[1], (const struct sockaddr *)peer, plen) != MHD_YES) {
		atomic_fetch_add(&t->refused, 1);
		log_debug("admin: connection from %s refused by the HTTP server", c->peer);
		conn_free(c);
		return;
	}
	t->conns[slot] = c;
}

/* The events c waits for, from its engine's state. */
static void
want(const struct term_conn *c, struct pollfd *tcp, struct pollfd *app)
{
	unsigned st = br_ssl_engine_current_state(&c->sc.eng);

	tcp->fd = c->tcp;
	tcp->events = 0;
	if (c->lingering) {
		tcp->events = POLLIN;
		app->fd = -1;
		return;
	}
	if (st & BR_SSL_SENDREC)
		tcp->events |= POLLOUT;
	if ((st & BR_SSL_RECVREC) && !c->closing)
		tcp->events |= POLLIN;
	/* a hung-up end would be reported at every poll: pump() drains it when it runs */
	app->fd = c->app_hup ? -1 : c->app;
	app->events = 0;
	if ((st & BR_SSL_SENDAPP) && !c->closing)
		app->events |= POLLIN;
	if ((st & BR_SSL_RECVAPP) && !c->closing && !c->app_wdead)
		app->events |= POLLOUT;
}

static void *
term_thread(void *arg)
{
	struct tls_term *t = arg;

	for (;;) {
		int64_t now = clock_mono_ms(), next = 0;
		int timeout;

		if (t->accept_paused != 0 && t->accept_paused <= now)
			t->accept_paused = 0;
		t->pfd[0].fd = t->accept_paused != 0 ? -1 : t->lfd;
		t->pfd[0].events = POLLIN;
		t->pfd[0].revents = 0;
		next = t->accept_paused;
		t->pfd[1].fd = t->wake[0];
		t->pfd[1].events = POLLIN;
		for (unsigned i = 0; i < t->max; i++) {
			struct term_conn *c = t->conns[i];
			struct pollfd *p = &t->pfd[2 + 2 * i];

			if (c == NULL) {
				p[0].fd = p[1].fd = -1;
				continue;
			}
			want(c, &p[0], &p[1]);
			if (c->deadline != 0 && (next == 0 || c->deadline < next))
				next = c->deadline;
		}
		timeout = next == 0 ? -1 : next <= now ? 0 : (int)(next - now);
		if (poll(t->pfd, 2 + 2 * (nfds_t)t->max, timeout) == -1) {
			if (errno == EINTR)
				continue;
			if (errno == ENOMEM) {	/* transient: retried */
				log_warn("admin: TLS terminator: poll");
				(void)poll(NULL, 0, 100);
				continue;
			}
			log_warn("admin: TLS terminator: poll; the admin listener stops");
			break;
		}
		if (t->pfd[1].revents != 0)
			break;	/* tls_term_close */
		now = clock_mono_ms();
		for (unsigned i = 0; i < t->max; i++) {
			struct term_conn *c = t->conns[i];
			struct pollfd *p = &t->pfd[2 + 2 * i];
			int drop = 0;

			if (c == NULL)
				continue;
			if (p[1].revents & (POLLHUP | POLLERR)) {
				c->app_hup = 1;
				if (!c->hs_done)
					app_gone(t, c);
				else if (c->deadline == 0)
					/* MHD is done (perhaps timed out on a client
					 * that reads nothing): what it left in the
					 * socketpair leaves only as the client reads,
					 * and a client that stops reading must not hold
					 * the slot (pump() pushes this on while it reads) */
					c->deadline = now + t->deadline_ms;
			}
			if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
				drop = 1;	/* reset, or closed both ways: nothing to say */
			else if (p[0].revents != 0 || p[1].revents != 0)
				drop = pump(t, c) == -1;
			if (!drop && c->deadline != 0 && c->deadline <= now) {
				if (!c->hs_done && !c->closing) {
					atomic_fetch_add(&t->timeouts, 1);
					log_debug("admin: TLS handshake with %s not done within "
					    "%ld ms", c->peer, t->deadline_ms);
				}
				drop = 1;
			}
			if (drop) {
				conn_free(c);
				t->conns[i] = NULL;
			}
		}
		if (t->pfd[0].revents & POLLIN) {
			for (int k = 0; k < TERM_ACCEPTS; k++) {
				struct sockaddr_storage peer;
				socklen_t plen = sizeof(peer);
				int fd = accept4(t->lfd, (struct sockaddr *)&peer, &plen,
				    SOCK_NONBLOCK | SOCK_CLOEXEC);

				if (fd == -1) {
					if (errno == EMFILE || errno == ENFILE ||
					    errno == ENOBUFS || errno == ENOMEM) {
						log_warn("admin: accept (paused %d ms)",
						    TERM_ACCEPT_PAUSE_MS);
						t->accept_paused = clock_mono_ms() +
						    TERM_ACCEPT_PAUSE_MS;
					} else if (errno != EAGAIN && errno != EINTR &&
					    errno != ECONNABORTED)
						log_warn("admin: accept");
					break;
				}
				admit(t, fd, &peer, plen);
			}
		}
	}
	return NULL;
}

/* see tls_term.h */
int
tls_term_start(struct tls_term *t, struct MHD_Daemon *d)
{
	pthread_attr_t attr;
	int rc;

	t->d = d;
	if ((rc = pthread_attr_init(&attr)) != 0)
		return rc;
	(void)pthread_attr_setstacksize(&attr, TERM_STACK);
	rc = pthread_create(&t->thread, &attr, term_thread, t);
	pthread_attr_destroy(&attr);
	if (rc == 0)
		t->started = 1;
	return rc;
}

/* see tls_term.h */
void
tls_term_close(struct tls_term *t)
{
	if (t == NULL)
		return;
	if (t->started) {
		while (write(t->wake[1], "x", 1) == -1 && errno == EINTR)
			;
		pthread_join(t->thread, NULL);
	}
	for (unsigned i = 0; t->conns != NULL && i < t->max; i++)
		if (t->conns[i] != NULL)
			conn_free(t->conns[i]);
	if (t->lfd != -1)
		close(t->lfd);
	if (t->wake[0] != -1) {
		close(t->wake[0]);
		close(t->wake[1]);
	}
	tlscred_free(&t->cred);
	free(t->conns);
	free(t->pfd);
	explicit_bzero(t, sizeof(*t));	/* the session cache: master secrets */
	free(t);
}

/* see tls_term.h */
void
tls_term_stats(const struct tls_term *t, struct tls_term_stats *out)
{
	out->handshakes = atomic_load(&t->handshakes);
	out->failures = atomic_load(&t->failures);
	out->timeouts = atomic_load(&t->timeouts);
	out->refused = atomic_load(&t->refused);
}
