/* SPDX-License-Identifier: BSD-2-Clause */
/* conn.h — one TCP connection carrying a BearSSL engine, driven from poll() under one
 * deadline for everything (connect, handshake, request, response): connecting to the
 * resolved addresses in turn, pumping records between the engine and the socket, and
 * a bounded close. Also the failure record (code + sentence) the CMS client's layers
 * fill. Knows nothing of HTTP or of which engine settings are used. */
#ifndef CARDUPD_CONN_H
#define CARDUPD_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <netdb.h>

#include <bearssl.h>

#include "core/tls_peek.h"

#define NET_CODE_MAX	24
#define NET_DETAIL_MAX	160
/* close_notify is a courtesy: never spend more than this on it. */
#define CONN_CLOSE_MS	200

/* Why an operation failed: a stable code (docs/cms-client.md) and a sentence. */
struct net_err {
	char	code[NET_CODE_MAX];
	char	detail[NET_DETAIL_MAX];
};

/* Sets e's code and detail (printf). */
void net_fail(struct net_err *e, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

struct conn {
	br_ssl_engine_context	*eng;		/* not owned */
	int			 fd;		/* -1: none */
	int64_t			 deadline;	/* clock_mono_ms() terms */
	int			 tcp_eof;
	int			 io_errno;	/* of the failed send/recv/poll */
	int			 wdead;		/* send failed: only draining input */
	int			 peek_only;	/* stop (PUMP_PEEKED) once the peek
						   shows a ServerHello or an alert */
	/* the first bytes the server sent, for tls_peek_server() */
	unsigned char		 peek[TLS_PEEK_BYTES];
	size_t			 peek_len;
};

enum pump { PUMP_OK, PUMP_CLOSED, PUMP_TIMEOUT, PUMP_EOF, PUMP_IO, PUMP_PEEKED };

/* Milliseconds left until deadline (0 when passed), capped to INT_MAX. */
int conn_remaining_ms(int64_t deadline);

/* Connects to the addresses of list in turn (each gets an equal share of what is left
 * of the deadline, so one black-holed address does not starve the next), non-blocking,
 * TCP_NODELAY. host and port are for messages. Returns the socket, or -1 with e:
 * "connect" or "timeout". */
int conn_connect(const char *host, const char *port, const struct addrinfo *list,
    int64_t deadline, struct net_err *e);

/* Starts cn over socket fd (owned from now on) with engine eng (reset by the caller
 * before or after) and the deadline. */
void conn_init(struct conn *cn, br_ssl_engine_context *eng, int fd, int64_t deadline);

/* Runs the engine until `want` (BR_SSL_SENDAPP or BR_SSL_RECVAPP) is possible, or,
 * with want 0, until every pending record is written. Never blocks past the
 * deadline. With peek_only set, returns PUMP_PEEKED as soon as the server's first
 * bytes hold a ServerHello or an alert, before the engine sees them. */
enum pump conn_pump(struct conn *cn, unsigned want);

/* Writes len application bytes (pumping as needed). Returns 0, or -1 with *why. */
int conn_write(struct conn *cn, const void *data, size_t len, enum pump *why);

/* Bounded close: queues close_notify, gives it at most CONN_CLOSE_MS to leave, never
 * waits for the peer's, closes the socket. Safe on a closed conn. */
void conn_close(struct conn *cn);

/* Closes the socket at once, without close_notify (a connection being abandoned). */
void conn_abort(struct conn *cn);

#endif
