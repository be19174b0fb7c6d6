/* SPDX-License-Identifier: BSD-2-Clause */
/* route.c — libmicrohttpd's handler for the admin listener: the request body gathered
 * within its limit, then the method, origin, caller and CSRF checks, and the dispatch of
 * each URL to its page's handler. Every handler runs on MHD's polling thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <microhttpd.h>

#include "autoconf.h"
#include "web/admin/server.h"

#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

const struct web_site admin_site = { CSP, admin_assets, "admin", 1 };

static enum MHD_Result
route(struct admin_server *as, struct MHD_Connection *conn, const char *url,
    const char *method, struct req *rq)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0;
	const char *origin, *host;
	struct caller c;

	if (rq->body.too_big)
		return web_send_error(conn, &admin_site, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	if (!get && !post && !del)
		return web_send_error(conn, &admin_site, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	if (strncmp(url, "/api/", 5) != 0 && strcmp(url, "/metrics") != 0) {
		if (!get)
			return web_send_error(conn, &admin_site, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
		const struct asset *a = web_find_asset(&admin_site, url);

		if (a == NULL)
			return web_send_error(conn, &admin_site, MHD_HTTP_NOT_FOUND, "not found");
		return web_send_asset(conn, &admin_site, a);
	}
	/* A change from a page of another origin is refused even before CSRF. */
	origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	if (!get && origin != NULL && (host == NULL || strncmp(origin, "https://", 8) != 0 ||
	    strcmp(origin + 8, host) != 0))
		return web_send_error(conn, &admin_site, MHD_HTTP_FORBIDDEN, "cross-origin request refused");
	adm_identify(as, conn, &c);

	/* Open to anyone: what the login page needs. */
	if (get && strcmp(url, "/api/v1/admin/info") == 0)
		return adm_get_info(as, conn, &c);
	if (post && strcmp(url, "/api/v1/admin/login") == 0)
		return adm_post_login(as, conn, rq, 0);
	if (post && strcmp(url, "/api/v1/admin/setup") == 0)
		return adm_post_login(as, conn, rq, 1);

	if (c.who == WHO_NONE)
		return web_send_error(conn, &admin_site, MHD_HTTP_UNAUTHORIZED, "log in first");
	if (!get && !adm_csrf_ok(conn, &c)) {
		audit_log(as->audit, time(NULL), rq->source, c.name, "csrf_refused", "%s %s",
		    method, url);
		return web_send_error(conn, &admin_site, MHD_HTTP_FORBIDDEN, "missing or wrong CSRF token");
	}

	/* Sessions and tokens. */
	if (get && strcmp(url, "/metrics") == 0)
		return adm_get_metrics(as, conn);
	if (get && strcmp(url, "/api/v1/admin/status") == 0)
		return adm_get_status(as, conn);
	if (get && strcmp(url, "/api/v1/admin/settings") == 0)
		return adm_get_settings(as, conn, &c);
	if (post && strcmp(url, "/api/v1/admin/settings") == 0)
		return adm_post_settings(as, conn, rq, &c);
	if (get && strcmp(url, "/api/v1/admin/anchors") == 0)
		return adm_get_anchors(as, conn);
	if (post && strcmp(url, "/api/v1/admin/anchors") == 0)
		return adm_post_anchors(as, conn, rq, &c);
	if (post && strcmp(url, "/api/v1/admin/check") == 0)
		return adm_post_check(as, conn, rq, &c);
	if (post && strcmp(url, "/api/v1/admin/reconnect") == 0)
		return adm_post_reconnect(as, conn, rq, &c);

	/* Sessions only: credentials and the audit trail. */
	if (c.who != WHO_SESSION)
		return web_send_error(conn, &admin_site, MHD_HTTP_FORBIDDEN, "API tokens cannot do this");
	if (post && strcmp(url, "/api/v1/admin/logout") == 0)
		return adm_post_logout(as, conn, rq, &c);
	if (post && strcmp(url, "/api/v1/admin/password") == 0)
		return adm_post_password(as, conn, rq, &c);
	if (get && strcmp(url, "/api/v1/admin/audit") == 0)
		return adm_get_audit(as, conn);
	if (get && strcmp(url, "/api/v1/admin/tokens") == 0)
		return adm_get_tokens(as, conn);
	if (post && strcmp(url, "/api/v1/admin/tokens") == 0)
		return adm_post_token(as, conn, rq, &c);
	if (del && strncmp(url, "/api/v1/admin/tokens/", 21) == 0)
		return adm_delete_token(as, conn, rq, &c, url + 21);
	return web_send_error(conn, &admin_site, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

/* see server.h */
enum MHD_Result
adm_handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls)
{
	struct admin_server *as = cls;
	struct req *rq = *con_cls;

	(void)version;
	if (rq == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    "Content-Length");

		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		rq->body.max = CONFIG_ADMIN_MAX_BODY_BYTES;
		adm_peer_source(conn, rq);
		*con_cls = rq;
		if (cl != NULL && strtoull(cl, NULL, 10) > CONFIG_ADMIN_MAX_BODY_BYTES) {
			/* Answered before the body is read; MHD then closes the
			 * connection instead of reading what was announced. */
			rq->body.too_big = 1;
			adm_wd_arm(as, adm_wd_of(conn), 0);
			return web_send_error(conn, &admin_site, MHD_HTTP_CONTENT_TOO_LARGE,
			    "request body too large");
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		if (web_body_add(&rq->body, upload_data, *upload_data_size) == -1)
			return MHD_NO;
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->body.len > 0 && memchr(rq->body.buf, '\0', rq->body.len) != NULL)
		return web_send_error(conn, &admin_site, MHD_HTTP_BAD_REQUEST, "NUL byte in the body");
	adm_wd_arm(as, adm_wd_of(conn), 0);	/* the request is in: the response is MHD's */
	return route(as, conn, url, method, rq);
}

/* see server.h */
void
adm_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct admin_server *as = cls;
	struct req *rq = *con_cls;

	(void)toe;
	if (rq != NULL) {
		web_body_free(&rq->body);
		free(rq);
	}
	*con_cls = NULL;
	/* Kept alive: the next request has the same deadline from now. */
	adm_wd_arm(as, adm_wd_of(conn), 1);
}
