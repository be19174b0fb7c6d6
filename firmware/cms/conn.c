/* SPDX-License-Identifier: BSD-2-Clause */
/* conn.c — see conn.h. The engine loop follows BearSSL's tools/sslio.c: flush what the
 * engine wants to send, hand it what arrives, poll() for the one that blocks. */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "base/clock.h"
#include "cms/conn.h"

/* see conn.h */
void
net_fail(struct net_err *e, const char *code, const char *fmt, ...)
{
	va_list ap;

	(void)snprintf(e->code, sizeof e->code, "%s", code);
	va_start(ap, fmt);
	(void)vsnprintf(e->detail, sizeof e->detail, fmt, ap);
	va_end(ap);
}

/* see conn.h */
int
conn_remaining_ms(int64_t deadline)
{
	int64_t r = deadline - clock_mono_ms();

	if (r <= 0)
		return 0;
	return r > 0x7fffffff ? 0x7fffffff : (int)r;
}

static void
addr_str(const struct addrinfo *ai, char *buf, size_t len)
{
	const void *a = ai->ai_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;

	if (inet_ntop(ai->ai_family, a, buf, (socklen_t)len) == NULL)
		(void)snprintf(buf, len, "?");
}

/* see conn.h */
int
conn_connect(const char *host, const char *port, const struct addrinfo *list,
    int64_t deadline, struct net_err *e)
{
	const struct addrinfo *ai;
	struct pollfd pfd;
	char addr[INET6_ADDRSTRLEN];
	int fd, n = 0, left, soerr, one = 1, r;
	socklen_t sl;
	int64_t slice_end;

	for (ai = list; ai != NULL; ai = ai->ai_next)
		n++;
	net_fail(e, "connect", "%s: no address to connect to", host);
	for (ai = list; ai != NULL; ai = ai->ai_next, n--) {
		if ((left = conn_remaining_ms(deadline)) == 0)
			break;
		slice_end = clock_mono_ms() + left / n;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		addr_str(ai, addr, sizeof addr);
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			net_fail(e, "connect", "%s: socket: %s", host, strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			goto connected;
		if (errno != EINPROGRESS) {
			net_fail(e, "connect", "%s (%s) port %s: %s", host, addr, port,
			    strerror(errno));
			close(fd);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		for (;;) {
			r = poll(&pfd, 1, conn_remaining_ms(slice_end));
			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				net_fail(e, "timeout", "%s (%s) port %s: connect timed out",
				    host, addr, port);
				break;
			}
			sl = sizeof soerr;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
				soerr = errno;
			if (soerr == 0)
				goto connected;
			net_fail(e, "connect", "%s (%s) port %s: %s", host, addr, port,
			    strerror(soerr));
			break;
		}
		close(fd);
	}
	if (conn_remaining_ms(deadline) == 0)
		net_fail(e, "timeout", "%s port %s: no connection within the time limit",
		    host, port);
	return -1;
connected:
	/* the request goes out in one flush; don't let Nagle hold its tail */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	e->code[0] = '\0';
	e->detail[0] = '\0';
	return fd;
}

/* see conn.h */
void
conn_init(struct conn *cn, br_ssl_engine_context *eng, int fd, int64_t deadline)
{
	memset(cn, 0, sizeof *cn);
	cn->eng = eng;
	cn->fd = fd;
	cn->deadline = deadline;
}

/* see conn.h */
enum pump
conn_pump(struct conn *cn, unsigned want)
{
	br_ssl_engine_context *eng = cn->eng;
	struct pollfd pfd;
	unsigned st;
	unsigned char *buf;
	size_t len, k;
	ssize_t n;
	int r, ms;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return PUMP_CLOSED;
		pfd.events = 0;
		if ((st & BR_SSL_SENDREC) && !cn->wdead) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			n = send(cn->fd, buf, len, MSG_NOSIGNAL);
			if (n > 0) {
				br_ssl_engine_sendrec_ack(eng, (size_t)n);
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
				/* the peer may have closed right after a fatal alert (a
				 * refused client certificate): read it rather than report
				 * a bare EPIPE, but only for a moment */
				cn->io_errno = errno;
				cn->wdead = 1;
				if (want == 0 || !(st & BR_SSL_RECVREC))
					return PUMP_IO;
				if (cn->deadline > clock_mono_ms() + CONN_CLOSE_MS)
					cn->deadline = clock_mono_ms() + CONN_CLOSE_MS;
				continue;
			}
			pfd.events |= POLLOUT;
		}
		if (want != 0 && (st & want))
			return PUMP_OK;
		if (want == 0 && !(st & BR_SSL_SENDREC))
			return PUMP_OK;
		if ((st & BR_SSL_RECVREC) && want != 0) {
			if (cn->tcp_eof)
				return PUMP_EOF;
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			n = recv(cn->fd, buf, len, 0);
			if (n > 0) {
				if (cn->peek_len < sizeof cn->peek) {
					k = sizeof cn->peek - cn->peek_len;
					if (k > (size_t)n)
						k = (size_t)n;
					memcpy(cn->peek + cn->peek_len, buf, k);
					cn->peek_len += k;
					if (cn->peek_only) {
						struct tls_peek pk;

						tls_peek_server(cn->peek, cn->peek_len, &pk);
						if (pk.kind != TLS_PEEK_NONE)
							return PUMP_PEEKED;
					}
				}
				br_ssl_engine_recvrec_ack(eng, (size_t)n);
				continue;
			}
			if (n == 0) {
				cn->tcp_eof = 1;
				return cn->wdead ? PUMP_IO : PUMP_EOF;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				cn->io_errno = errno;
				return PUMP_IO;
			}
			pfd.events |= POLLIN;
		}
		if (pfd.events == 0) {
			if (!cn->wdead)		/* nothing to wait for: engine stuck */
				cn->io_errno = EPROTO;
			return PUMP_IO;
		}
		if ((ms = conn_remaining_ms(cn->deadline)) == 0)
			return cn->wdead ? PUMP_IO : PUMP_TIMEOUT;
		pfd.fd = cn->fd;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno != EINTR) {
			cn->io_errno = errno;
			return PUMP_IO;
		}
		if (r == 0)
			return PUMP_TIMEOUT;
	}
}

/* see conn.h */
int
conn_write(struct conn *cn, const void *data, size_t len, enum pump *why)
{
	const unsigned char *p = data;
	unsigned char *buf;
	size_t alen;

	while (len > 0) {
		if ((*why = conn_pump(cn, BR_SSL_SENDAPP)) != PUMP_OK)
			return -1;
		buf = br_ssl_engine_sendapp_buf(cn->eng, &alen);
		if (alen > len)
			alen = len;
		memcpy(buf, p, alen);
		br_ssl_engine_sendapp_ack(cn->eng, alen);
		p += alen;
		len -= alen;
	}
	return 0;
}

/* see conn.h */
void
conn_close(struct conn *cn)
{
	int64_t d;

	if (cn->fd == -1)
		return;
	if (!(br_ssl_engine_current_state(cn->eng) & BR_SSL_CLOSED)) {
		br_ssl_engine_close(cn->eng);
		d = clock_mono_ms() + CONN_CLOSE_MS;
		if (d < cn->deadline)
			cn->deadline = d;
		(void)conn_pump(cn, 0);
	}
	close(cn->fd);
	cn->fd = -1;
}

/* see conn.h */
void
conn_abort(struct conn *cn)
{
	if (cn->fd != -1)
		close(cn->fd);
	cn->fd = -1;
}
