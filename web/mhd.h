/* SPDX-License-Identifier: BSD-2-Clause */
/* mhd.h — the libmicrohttpd plumbing both listeners (kiosk and admin) share: responses
 * with one set of security headers, embedded assets with conditional GET (304), a
 * bounded request-body accumulator that wipes what it frees, and MHD's log. */
#ifndef CARDUPD_WEB_MHD_H
#define CARDUPD_WEB_MHD_H

#include <stdarg.h>
#include <stddef.h>
#include <microhttpd.h>

#include "web/assets.h"

struct json_object;

/* What differs between the listeners. Static for the daemon's life. */
struct web_site {
	const char		*csp;		/* Content-Security-Policy of every response */
	const struct asset	*assets;	/* the embedded pages (NULL-path terminated) */
	const char		*log_prefix;	/* "web", "admin": MHD's messages */
	int			 log_quiet;	/* MHD's messages at debug level, not warn */
};

/* Adds the headers every response of site carries: its Content-Security-Policy,
 * X-Content-Type-Options nosniff, X-Frame-Options DENY, Referrer-Policy no-referrer,
 * Cross-Origin-Opener-Policy and Cross-Origin-Resource-Policy same-origin. */
void web_mhd_headers(struct MHD_Response *r, const struct web_site *site);

/* Queues a response with a copy of data[0..len) of Content-Type type, Cache-Control
 * no-store, the site's headers and, when cookie != NULL, Set-Cookie: cookie. Returns
 * what MHD_queue_response returns (MHD_NO when out of memory). */
enum MHD_Result web_send_buf(struct MHD_Connection *conn, const struct web_site *site,
    unsigned status, const char *type, const void *data, size_t len, const char *cookie);

/* web_send_buf of o as compact JSON; o is consumed (put) in every case. */
enum MHD_Result web_send_json(struct MHD_Connection *conn, const struct web_site *site,
    unsigned status, struct json_object *o, const char *cookie);

/* {"error": msg} with status. */
enum MHD_Result web_send_error(struct MHD_Connection *conn, const struct web_site *site,
    unsigned status, const char *msg);

/* The embedded asset of site named by url ("/" is "/index.html"), or NULL. Exact names
 * only: no path ever reaches the disk. */
const struct asset *web_find_asset(const struct web_site *site, const char *url);

/* Queues a (200, ETag, Cache-Control no-cache), or 304 with no body when the request's
 * If-None-Match is a's ETag. */
enum MHD_Result web_send_asset(struct MHD_Connection *conn, const struct web_site *site,
    const struct asset *a);

/* A request body being received: grows up to max bytes, then only counts. Zero it to
 * start (and set max). */
struct web_body {
	size_t	 max;		/* refuse more than this */
	size_t	 len, cap;
	int	 too_big;	/* more than max arrived: buf holds nothing useful */
	char	*buf;		/* NUL-terminated when len > 0; owned */
};

/* Appends data[0..n). Past max, sets too_big and keeps nothing more. The old buffer is
 * wiped when it is moved (bodies hold passwords). Returns 0, or -1 out of memory. */
int web_body_add(struct web_body *b, const char *data, size_t n);

/* Wipes and frees the buffer; b is zeroed but keeps max. */
void web_body_free(struct web_body *b);

/* An MHD_OPTION_EXTERNAL_LOGGER: cls is the struct web_site; messages logged with the
 * site's prefix, one line each, at warn level (debug when log_quiet). */
void web_mhd_log(void *cls, const char *fmt, va_list ap);

#endif
