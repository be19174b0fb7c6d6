/* SPDX-License-Identifier: BSD-2-Clause */
/* https.c — the HTTPS client for the CMS and the SERAM remote agent: one POST and its
 * response under one deadline, the TLS session cache (resumption) and the one
 * kept-alive connection. Owns the client's engine contexts and buffers; names come
 * from dns.c, sockets and the engine loop from conn.c, the TLS policy from tls.c, the
 * credentials from creds.c, HTTP parsing from core/http.c. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bearssl.h>

#include "autoconf.h"
#include "version.h"
#include "base/clock.h"
#include "cms/conn.h"
#include "cms/dns.h"
#include "cms/https.h"
#include "cms/tls.h"

/* Response buffer: the header block plus the largest body we accept. Chunk framing is
 * counted in that space too, so a chunked body close to the limit may not fit. */
#define HTTPS_RBUF_SIZE	(CONFIG_HTTP_MAX_HEADER_BYTES + CONFIG_CMS_MAX_RESPONSE_BYTES)
/* Most bytes of caller-supplied extra request headers. */
#define HTTPS_EXTRA_MAX	4096

struct https_client {
	struct cms_creds	*creds;		/* one reference */

	/* one connection at a time; kept in the client so its memory is not per call */
	br_ssl_client_context	 cc;
	br_x509_minimal_context	 xc;
	struct tls_xcheck	 xk;
	unsigned char		 iobuf[BR_SSL_BUFSIZE_BIDI];

	/* session cache: the last session, for the host:port it was made with */
	int			 have_session;
	char			 session_key[HTTP_HOST_MAX + 8];
	br_ssl_session_parameters session;

	/* keep-alive: the idle connection (its TLS state is cc/iobuf above), -1 if none */
	int			 ka_fd;
	char			 ka_key[HTTP_HOST_MAX + 8];
	int64_t			 ka_idle_since;	/* clock_mono_ms() when it went idle */
	unsigned		 ka_uses;	/* requests it carried */

	uint8_t			 rbuf[HTTPS_RBUF_SIZE];
};

/* One request's view of a connection: the socket and engine loop, and what the
 * response left (got: response bytes received; keep: reusable afterwards). */
struct exch {
	struct conn		 cn;
	size_t			 got;
	int			 keep;
};

static void
fail(struct https_result *res, const struct net_err *e)
{
	memcpy(res->code, e->code, sizeof res->code);
	memcpy(res->detail, e->detail, sizeof res->detail);
}

/* Turns a failed pump into e. */
static void
pump_fail(struct https_client *c, struct conn *cn, enum pump p, const char *host,
    const char *what, struct net_err *e)
{
	int err = br_ssl_engine_last_error(&c->cc.eng);

	switch (p) {
	case PUMP_TIMEOUT:
		net_fail(e, "timeout", "%s: no answer in time (%s)", host, what);
		break;
	case PUMP_EOF:
		net_fail(e, "io", "%s: connection closed by the server (%s)", host, what);
		break;
	case PUMP_IO:
		if (err == 0 || err == BR_ERR_IO)
			net_fail(e, "io", "%s: network error (%s): %s", host, what,
			    strerror(cn->io_errno));
		else
			tls_failure(e, host, err, &c->xk, cn->peek, cn->peek_len, NULL,
			    0);
		break;
	case PUMP_CLOSED:
		if (err == 0)
			net_fail(e, "io", "%s: TLS connection closed by the server (%s)",
			    host, what);
		else
			tls_failure(e, host, err, &c->xk, cn->peek, cn->peek_len, NULL,
			    0);
		break;
	case PUMP_OK:
	case PUMP_PEEKED:
		break;
	}
}

static void
session_key(const struct http_url *u, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%s:%s", u->host, u->port);
}

/* The server refused our ClientHello outright (x's peek holds its alert): ask once
 * more on a new connection, offering everything BearSSL has, read only the
 * ServerHello and drop the connection, so that e says what the server insists on
 * (an old version, static RSA, 3DES) instead of a bare handshake failure. Within the
 * same deadline; the failure stands whatever the probe finds. */
static void
probe(struct https_client *c, struct exch *x, const struct http_url *u,
    const struct addrinfo *ai, struct net_err *e)
{
	int err = br_ssl_engine_last_error(&c->cc.eng);
	unsigned char peek[TLS_PEEK_BYTES];
	size_t peek_len = x->cn.peek_len;
	struct net_err pe;
	struct conn pc;
	const char *sni;
	int fd;

	memcpy(peek, x->cn.peek, peek_len);
	conn_abort(&x->cn);
	if (conn_remaining_ms(x->cn.deadline) > 0 &&
	    (fd = conn_connect(u->host, u->port, ai, x->cn.deadline, &pe)) != -1) {
		conn_init(&pc, &c->cc.eng, fd, x->cn.deadline);
		pc.peek_only = 1;
		sni = tls_setup_probe(&c->cc, &c->xc, c->creds, c->iobuf,
		    sizeof c->iobuf, u->host);
		if (br_ssl_client_reset(&c->cc, sni, 0) &&
		    conn_pump(&pc, BR_SSL_SENDAPP) == PUMP_PEEKED) {
			conn_abort(&pc);
			tls_failure(e, u->host, err, &c->xk, peek, peek_len, pc.peek,
			    pc.peek_len);
			return;
		}
		conn_abort(&pc);
	}
	tls_failure(e, u->host, err, &c->xk, peek, peek_len, NULL, 0);
}

/* TCP connect and TLS handshake; resumes the cached session for this host:port. */
static int
open_tls(struct https_client *c, struct exch *x, const struct http_url *u,
    int64_t deadline, struct https_result *res, struct net_err *e)
{
	struct addrinfo *ai;
	br_ssl_session_parameters sp;
	char key[sizeof c->session_key];
	unsigned char offered_id[32];
	size_t offered_len = 0;
	const char *sni;
	enum pump p;
	int fd, offered = 0;

	memset(x, 0, sizeof *x);
	conn_init(&x->cn, &c->cc.eng, -1, deadline);
	if (dns_resolve(u->host, u->port, deadline, &ai, e) == -1)
		return -1;
	fd = conn_connect(u->host, u->port, ai, deadline, e);
	if (fd == -1) {
		freeaddrinfo(ai);
		return -1;
	}
	conn_init(&x->cn, &c->cc.eng, fd, deadline);

	sni = tls_setup(&c->cc, &c->xc, &c->xk, c->creds, c->iobuf, sizeof c->iobuf,
	    u->host);
	session_key(u, key, sizeof key);
	if (c->have_session && strcmp(key, c->session_key) == 0) {
		br_ssl_engine_set_session_parameters(&c->cc.eng, &c->session);
		offered = 1;
		memcpy(offered_id, c->session.session_id, sizeof offered_id);
		offered_len = c->session.session_id_len;
	}
	if (!br_ssl_client_reset(&c->cc, sni, offered)) {
		tls_failure(e, u->host, br_ssl_engine_last_error(&c->cc.eng), NULL, NULL,
		    0, NULL, 0);
		freeaddrinfo(ai);
		return -1;
	}

	/* SENDAPP appears once the handshake is over */
	if ((p = conn_pump(&x->cn, BR_SSL_SENDAPP)) != PUMP_OK) {
		if ((p == PUMP_CLOSED || p == PUMP_IO) &&
		    tls_refused_hello(x->cn.peek, x->cn.peek_len))
			probe(c, x, u, ai, e);
		else
			pump_fail(c, &x->cn, p, u->host, "TLS handshake", e);
		freeaddrinfo(ai);
		/* a session the server refuses, or one for a certificate that no longer
		 * verifies, must not be offered again */
		c->have_session = 0;
		explicit_bzero(&c->session, sizeof c->session);
		return -1;
	}
	freeaddrinfo(ai);
	br_ssl_engine_get_session_parameters(&c->cc.eng, &sp);
	res->resumed = offered && sp.session_id_len > 0 &&
	    sp.session_id_len == offered_len &&
	    memcmp(sp.session_id, offered_id, sp.session_id_len) == 0;
	if (sp.session_id_len > 0) {
		c->session = sp;
		(void)snprintf(c->session_key, sizeof c->session_key, "%s", key);
		c->have_session = 1;
	} else {
		c->have_session = 0;	/* server does not cache sessions */
	}
	explicit_bzero(&sp, sizeof sp);
	explicit_bzero(offered_id, sizeof offered_id);
	return 0;
}

/* "Name: value\r\n"... only: anything else could split or smuggle a request. */
static int
extra_headers_ok(const char *h)
{
	size_t i = 0, n;

	if (strlen(h) > HTTPS_EXTRA_MAX)
		return 0;
	while (h[i] != '\0') {
		for (n = 0; h[i] != ':' && h[i] != '\0'; i++, n++)
			if (h[i] <= 0x20 || h[i] >= 0x7f || strchr("\"(),/;<=>?@[\\]{}",
			    h[i]) != NULL)
				return 0;
		if (n == 0 || h[i] != ':')
			return 0;
		for (i++; h[i] != '\r'; i++)
			if (h[i] == '\0' || h[i] == '\n' || (h[i] < 0x20 && h[i] != '\t') ||
			    h[i] == 0x7f)
				return 0;
		if (h[i + 1] != '\n')
			return 0;
		i += 2;
	}
	return 1;
}

static int
path_ok(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

/* Sends the request and reads the response into c->rbuf. */
/* Sends the request and reads the response into c->rbuf. */
static int
do_request(struct https_client *c, struct exch *x, const struct http_url *u,
    const char *extra, const char *body, size_t body_len, struct https_result *res,
    struct net_err *e)
{
	br_ssl_engine_context *eng = &c->cc.eng;
	struct conn *cn = &x->cn;
	struct http_response hr;
	char head[HTTP_PATH_MAX + HTTP_HOST_MAX + 512];
	const unsigned char *ab;
	size_t rlen = 0, alen;
	enum pump p;
	int n, v6 = strchr(u->host, ':') != NULL, r;

	n = snprintf(head, sizeof head,
	    "POST %s HTTP/1.1\r\n"
	    "Host: %s%s%s%s%s\r\n"
	    "Content-Type: application/json\r\n"
	    "Accept: application/json\r\n"
	    "User-Agent: cardupd/%s\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: keep-alive\r\n",
	    u->path, v6 ? "[" : "", u->host, v6 ? "]" : "",
	    strcmp(u->port, "443") != 0 ? ":" : "",
	    strcmp(u->port, "443") != 0 ? u->port : "",
	    CARDUPD_VERSION, body_len);
	if (n < 0 || (size_t)n >= sizeof head) {
		net_fail(e, "io", "%s: request line too long", u->host);
		return -1;
	}
	if (conn_write(cn, head, (size_t)n, &p) == -1 ||
	    (extra != NULL && conn_write(cn, extra, strlen(extra), &p) == -1) ||
	    conn_write(cn, "\r\n", 2, &p) == -1 ||
	    conn_write(cn, body, body_len, &p) == -1) {
		pump_fail(c, cn, p, u->host, "sending the request", e);
		return -1;
	}
	br_ssl_engine_flush(eng, 0);

	for (;;) {
		p = conn_pump(cn, BR_SSL_RECVAPP);
		if (p == PUMP_CLOSED && br_ssl_engine_last_error(eng) == BR_ERR_OK) {
			/* close_notify: a clean end of stream, read-until-close is safe */
			r = http_parse_response(c->rbuf, rlen, 1,
			    CONFIG_CMS_MAX_RESPONSE_BYTES, &hr);
			if (r == 1)
				break;
			net_fail(e, "bad_response", "%s: %s", u->host, rlen == 0 ?
			    "the server closed the connection without answering" :
			    "malformed or incomplete HTTP response");
			return -1;
		}
		if (p != PUMP_OK) {
			/* a TCP close without close_notify may be a truncation: only a
			 * response whose length was announced is complete */
			pump_fail(c, cn, p, u->host, rlen == 0 ? "waiting for the response" :
			    "reading the response", e);
			return -1;
		}
		ab = br_ssl_engine_recvapp_buf(eng, &alen);
		if (alen > sizeof c->rbuf - rlen)
			alen = sizeof c->rbuf - rlen;
		if (alen == 0) {
			net_fail(e, "bad_response", "%s: response larger than %zu bytes",
			    u->host, sizeof c->rbuf);
			return -1;
		}
		memcpy(c->rbuf + rlen, ab, alen);
		br_ssl_engine_recvapp_ack(eng, alen);
		rlen += alen;
		x->got = rlen;
		r = http_parse_response(c->rbuf, rlen, 0, CONFIG_CMS_MAX_RESPONSE_BYTES,
		    &hr);
		if (r == 1)
			break;
		if (r == -1) {
			net_fail(e, "bad_response", "%s: malformed HTTP response or over a "
			    "limit (%zu bytes received)", u->host, rlen);
			return -1;
		}
	}
	/* reusable only when the server allows it and nothing follows the response:
	 * stray bytes would be taken for the start of the next one */
	x->keep = hr.keep_alive && hr.consumed == rlen &&
	    !(br_ssl_engine_current_state(eng) & (BR_SSL_RECVAPP | BR_SSL_CLOSED));
	res->status = hr.status;
	memcpy(res->retry_after, hr.retry_after, sizeof res->retry_after);
	memcpy(res->content_type, hr.content_type, sizeof res->content_type);
	res->body = hr.body;
	res->body_len = hr.body_len;
	return 0;
}

/* ---- keep-alive ------------------------------------------------------------------ */

/* Closes the kept connection, if any (close_notify, bounded). */
static void
ka_drop(struct https_client *c)
{
	struct conn cn;

	if (c->ka_fd == -1)
		return;
	conn_init(&cn, &c->cc.eng, c->ka_fd, clock_mono_ms() + CONN_CLOSE_MS);
	c->ka_fd = -1;
	conn_close(&cn);
}

/* 1 when the kept connection may carry a request to key now: same host:port, not idle
 * too long, not used up, and nothing arrived on it while idle. A server that ended it
 * sent close_notify and/or FIN (readable), or RST (POLLERR/POLLHUP); anything else
 * readable on an idle HTTP/1.1 connection is out of protocol. None of these is
 * consumed: the connection is closed either way. */
static int
ka_usable(struct https_client *c, const char *key, int64_t now)
{
	struct pollfd pfd;
	int r;

	if (c->ka_fd == -1 || strcmp(key, c->ka_key) != 0 ||
	    now - c->ka_idle_since >= HTTPS_KEEPALIVE_IDLE_MS ||
	    c->ka_uses >= HTTPS_KEEPALIVE_MAX_USES)
		return 0;
	if (!(br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_SENDAPP))
		return 0;
	pfd.fd = c->ka_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	while ((r = poll(&pfd, 1, 0)) == -1 && errno == EINTR)
		;
	return r == 0;
}

/* ---- the client --------------------------------------------------------------------- */

/* see https.h */
struct https_client *
https_client_new_creds(struct cms_creds *cr)
{
	struct https_client *c;

	if ((c = calloc(1, sizeof *c)) == NULL)
		return NULL;
	c->creds = cms_creds_ref(cr);
	c->ka_fd = -1;
	return c;
}

/* see https.h */
struct https_client *
https_client_new(const char *anchors_path, const char *client_cert,
    const char *client_key, char *err, size_t errlen)
{
	struct cms_creds *cr;
	struct https_client *c;

	if ((cr = cms_creds_load(anchors_path, client_cert, client_key, err,
	    errlen)) == NULL)
		return NULL;
	c = https_client_new_creds(cr);
	cms_creds_unref(cr);
	if (c == NULL)
		(void)snprintf(err, errlen, "out of memory");
	return c;
}

/* see https.h */
void
https_client_free(struct https_client *c)
{
	if (c == NULL)
		return;
	ka_drop(c);
	cms_creds_unref(c->creds);
	/* the engine contexts and buffers held keys, master secrets and plaintext */
	explicit_bzero(c, sizeof *c);
	free(c);
}

/* see https.h */
int
https_post(struct https_client *c, const struct http_url *u,
    const char *extra_headers, const char *body, size_t body_len, int timeout_ms,
    struct https_result *res)
{
	struct exch x;
	struct net_err e;
	char key[sizeof c->session_key];
	int64_t deadline;
	unsigned uses = 0;
	int r;

	memset(res, 0, sizeof *res);
	memset(&e, 0, sizeof e);
	if (c == NULL || u == NULL || (body == NULL && body_len > 0) || timeout_ms <= 0) {
		net_fail(&e, "io", "https_post: bad arguments");
		fail(res, &e);
		return -1;
	}
	if (u->host[0] == '\0' || !path_ok(u->path) ||
	    strspn(u->port, "0123456789") != strlen(u->port) || u->port[0] == '\0') {
		net_fail(&e, "io", "https_post: bad URL");
		fail(res, &e);
		return -1;
	}
	if (extra_headers != NULL && !extra_headers_ok(extra_headers)) {
		net_fail(&e, "io", "https_post: malformed extra headers");
		fail(res, &e);
		return -1;
	}
	if (body == NULL)
		body = "";
	deadline = clock_mono_ms() + timeout_ms;
	session_key(u, key, sizeof key);

	if (ka_usable(c, key, clock_mono_ms())) {
		memset(&x, 0, sizeof x);
		conn_init(&x.cn, &c->cc.eng, c->ka_fd, deadline);
		uses = c->ka_uses;
		c->ka_fd = -1;			/* ours now, kept again only on success */
		res->reused = 1;
		r = do_request(c, &x, u, extra_headers, body, body_len, res, &e);
		if (r == 0 || x.got > 0 || strcmp(e.code, "timeout") == 0 ||
		    conn_remaining_ms(deadline) == 0)
			goto done;
		/* the server dropped it before answering (its idle timeout racing our
		 * request): once more on a fresh connection, same deadline */
		conn_abort(&x.cn);
		memset(res, 0, sizeof *res);
		memset(&e, 0, sizeof e);
		uses = 0;
	}
	ka_drop(c);

	if (open_tls(c, &x, u, deadline, res, &e) == -1) {
		conn_abort(&x.cn);
		fail(res, &e);
		return -1;
	}
	r = do_request(c, &x, u, extra_headers, body, body_len, res, &e);
done:
	if (r == 0 && x.keep) {
		c->ka_fd = x.cn.fd;
		(void)snprintf(c->ka_key, sizeof c->ka_key, "%s", key);
		c->ka_idle_since = clock_mono_ms();
		c->ka_uses = uses + 1;
		res->kept = 1;
	} else {
		conn_close(&x.cn);
	}
	if (r == -1) {
		fail(res, &e);
		res->body = NULL;
		res->body_len = 0;
	}
	return r;
}
