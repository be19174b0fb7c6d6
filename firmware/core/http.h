/* SPDX-License-Identifier: BSD-2-Clause */
/* http.h — pure HTTP/1.1 pieces for the CMS client: https URL parsing and the response
 * parser (status line, headers, Content-Length, chunked, read-until-close), with the
 * limits of autoconf.h. No I/O, no allocation. */
#ifndef CARDUPD_HTTP_H
#define CARDUPD_HTTP_H

#include <stddef.h>
#include <stdint.h>

#define HTTP_HOST_MAX	256
#define HTTP_PATH_MAX	1024

struct http_url {
	char	host[HTTP_HOST_MAX];	/* no brackets for IPv6 literals */
	char	port[6];		/* decimal, "443" when absent */
	char	path[HTTP_PATH_MAX];	/* starts with '/', includes the query */
	char	origin[HTTP_HOST_MAX + 16];	/* "https://host[:port]" lowercase,
						   port only when not 443 */
};

/* Parses an absolute https URL ("https://host[:port][/path][?q]"; IPv6 as [::1]).
 * Rejects other schemes, userinfo, empty hosts, bad ports, control characters, spaces
 * and over-long parts. Returns 0 or -1. */
int http_parse_url(const char *url, struct http_url *u);

struct http_response {
	int		 status;		/* 100..599 */
	char		 retry_after[32];	/* raw Retry-After value or "" */
	char		 content_type[64];	/* raw, or "" */
	const uint8_t	*body;			/* valid only when complete */
	size_t		 body_len;
	int		 keep_alive;		/* server allows reuse of the connection */
	size_t		 consumed;		/* bytes of buf that made up the response
						   (interim ones included); any byte after
						   it is not ours: a connection with such
						   bytes must not be reused */
};

/* Parses the response held in buf[0..len). eof says the peer closed the stream.
 * Returns 1 when the response is complete (*out filled; a chunked body is decoded in
 * place inside buf, out->body points into buf), 0 when more bytes are needed (buf
 * untouched), -1 when it is malformed or breaks a limit (header block larger than
 * CONFIG_HTTP_MAX_HEADER_BYTES, more than CONFIG_HTTP_MAX_HEADERS headers, body larger
 * than max_body, bad chunk syntax, conflicting lengths, EOF inside a length-delimited
 * body). A 1xx interim response is skipped. */
int http_parse_response(uint8_t *buf, size_t len, int eof, size_t max_body,
    struct http_response *out);

/* Parses a Retry-After value: delta-seconds, or an HTTP-date relative to now (unix
 * seconds). Returns seconds (clamped to 0..86400) or -1 when unparseable. */
long http_retry_after_s(const char *value, long long now);

#endif
