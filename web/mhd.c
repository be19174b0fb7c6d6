/* SPDX-License-Identifier: BSD-2-Clause */
/* mhd.c — see mhd.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/log.h"
#include "web/mhd.h"

/* see mhd.h */
void
web_mhd_headers(struct MHD_Response *r, const struct web_site *site)
{
	if (site->csp != NULL)
		MHD_add_response_header(r, "Content-Security-Policy", site->csp);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

/* see mhd.h */
enum MHD_Result
web_send_buf(struct MHD_Connection *conn, const struct web_site *site, unsigned status,
    const char *type, const void *data, size_t len, const char *cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	/* MHD does not write through the pointer with MUST_COPY: the cast only drops const. */
	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	web_mhd_headers(r, site);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* see mhd.h */
enum MHD_Result
web_send_json(struct MHD_Connection *conn, const struct web_site *site, unsigned status,
    json_object *o, const char *cookie)
{
	const char *s;
	enum MHD_Result ret;

	if (o == NULL)
		return MHD_NO;
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	ret = s == NULL ? MHD_NO :
	    web_send_buf(conn, site, status, "application/json", s, strlen(s), cookie);
	json_object_put(o);
	return ret;
}

/* see mhd.h */
enum MHD_Result
web_send_error(struct MHD_Connection *conn, const struct web_site *site, unsigned status,
    const char *msg)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return MHD_NO;
	json_object_object_add(o, "error", json_object_new_string(msg));
	return web_send_json(conn, site, status, o, NULL);
}

/* see mhd.h */
const struct asset *
web_find_asset(const struct web_site *site, const char *url)
{
	if (strcmp(url, "/") == 0)
		url = "/index.html";
	for (const struct asset *a = site->assets; a->path != NULL; a++)
		if (strcmp(a->path, url) == 0)
			return a;
	return NULL;
}

/* see mhd.h */
enum MHD_Result
web_send_asset(struct MHD_Connection *conn, const struct web_site *site,
    const struct asset *a)
{
	const char *inm = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "If-None-Match");
	struct MHD_Response *r;
	enum MHD_Result ret;
	unsigned status = MHD_HTTP_OK;

	if (inm != NULL && strcmp(inm, a->etag) == 0) {
		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		status = MHD_HTTP_NOT_MODIFIED;
	} else {
		/* PERSISTENT: MHD never writes to it, the cast only drops const. */
		r = MHD_create_response_from_buffer(a->len, (void *)(uintptr_t)a->data,
		    MHD_RESPMEM_PERSISTENT);
		if (r != NULL)
			MHD_add_response_header(r, "Content-Type", a->type);
	}
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "ETag", a->etag);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	web_mhd_headers(r, site);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* see mhd.h */
int
web_body_add(struct web_body *b, const char *data, size_t n)
{
	if (b->too_big || n == 0)
		return 0;
	if (n > b->max || b->len > b->max - n) {
		b->too_big = 1;
		return 0;
	}
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 1024;
		char *nb;

		while (ncap < b->len + n + 1)
			ncap *= 2;
		if ((nb = malloc(ncap)) == NULL)
			return -1;
		if (b->buf != NULL) {
			memcpy(nb, b->buf, b->len);
			explicit_bzero(b->buf, b->cap);		/* passwords */
			free(b->buf);
		}
		b->buf = nb;
		b->cap = ncap;
	}
	memcpy(b->buf + b->len, data, n);
	b->len += n;
	b->buf[b->len] = '\0';
	return 0;
}

/* see mhd.h */
void
web_body_free(struct web_body *b)
{
	size_t max = b->max;

	if (b->buf != NULL) {
		explicit_bzero(b->buf, b->cap);
		free(b->buf);
	}
	memset(b, 0, sizeof(*b));
	b->max = max;
}

/* see mhd.h */
void
web_mhd_log(void *cls, const char *fmt, va_list ap)
{
	const struct web_site *site = cls;
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	if (site->log_quiet)
		log_debug("%s: %s", site->log_prefix, msg);
	else
		log_warnx("%s: %s", site->log_prefix, msg);
}
