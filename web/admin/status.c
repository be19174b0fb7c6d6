/* SPDX-License-Identifier: BSD-2-Clause */
/* status.c — what the dashboard and fleets read (status, info, metrics, audit log) and
 * the actions (manual check, reconnect to pcscd). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "web/admin/server.h"
#include "web/admin/tls_term.h"

#define AUDIT_TAIL	(32 * 1024)

/* see server.h */
enum MHD_Result
adm_post_check(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = adm_body_json(conn, rq);
	const char *r = adm_jstr(body, "reader");
	char name[READER_NAME_MAX] = "", want[READER_NAME_MAX] = "";
	const char *reader = NULL;
	enum view_pick pick;
	size_t i = 0;

	if (r != NULL) {
		if (strlen(r) >= sizeof(want)) {
			json_object_put(body);
			return web_send_error(conn, &admin_site, MHD_HTTP_NOT_FOUND, "no such reader");
		}
		memcpy(want, r, strlen(r) + 1);
		reader = want;
	}
	json_object_put(body);	/* reader points into want from here on */

	/* The same choice as the kiosk's (core/view.c). */
	pthread_mutex_lock(&as->mu);
	pick = view_pick_reader(as->snap != NULL ? as->snap->r : NULL,
	    as->snap != NULL ? as->snap->n : 0, reader, &i);
	if (pick == VIEW_PICK_OK)
		snprintf(name, sizeof(name), "%s", as->snap->r[i].name);
	pthread_mutex_unlock(&as->mu);
	if (pick == VIEW_PICK_AMBIGUOUS)
		return web_send_error(conn, &admin_site, MHD_HTTP_CONFLICT, "name the reader");
	if (pick == VIEW_PICK_UNKNOWN)
		return web_send_error(conn, &admin_site, MHD_HTTP_NOT_FOUND, "no such reader");
	if (pick == VIEW_PICK_NO_CARD)
		return web_send_error(conn, &admin_site, MHD_HTTP_CONFLICT, "no card in this reader");
	if (adm_post_cmd(as, ADMIN_CMD_CHECK, name, rq->source) == -1)
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "busy, try again");
	audit_log(as->audit, time(NULL), rq->source, c->name, "check", "manual check on "
	    "\"%s\"", name);
	return adm_send_ok(conn, MHD_HTTP_ACCEPTED);
}

/* see server.h */
enum MHD_Result
adm_get_status(struct admin_server *as, struct MHD_Connection *conn)
{
	char path[CFG_PATH_MAX], err[512];
	json_object *root, *anchors, *pre, *p;
	size_t n;

	pthread_mutex_lock(&as->mu);
	if (as->snap == NULL) {
		pthread_mutex_unlock(&as->mu);
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	root = json_tokener_parse(as->snap->status_json);
	snprintf(path, sizeof(path), "%s", as->snap->cfg.cms_anchors);
	pthread_mutex_unlock(&as->mu);
	if (root == NULL)
		return web_send_error(conn, &admin_site, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
	anchors = admin_anchors_describe(path, (long long)time(NULL), err, sizeof(err));
	n = anchors ? json_object_array_length(anchors) : 0;
	if (json_object_object_get_ex(root, "prerequisites", &pre)) {
		char detail[600];

		p = json_object_new_object();
		if (anchors == NULL)
			snprintf(detail, sizeof(detail), "%s", err);
		else
			snprintf(detail, sizeof(detail), "%zu in %s", n, path);
		json_object_object_add(p, "id", json_object_new_string("anchors"));
		json_object_object_add(p, "name", json_object_new_string("Trust anchors loaded"));
		json_object_object_add(p, "ok", json_object_new_boolean(n > 0));
		json_object_object_add(p, "detail", json_object_new_string(detail));
		json_object_array_add(pre, p);
	}
	json_object_object_add(root, "anchors", anchors ? anchors : json_object_new_array());
	json_object_object_add(root, "tls_fingerprint",
	    json_object_new_string(as->tls.fingerprint));
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, root, NULL);
}

/* see server.h */
enum MHD_Result
adm_get_info(struct admin_server *as, struct MHD_Connection *conn, const struct caller *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "setup_needed",
	    json_object_new_boolean(admin_setup_code() != NULL));
	json_object_object_add(o, "fingerprint", json_object_new_string(as->tls.fingerprint));
	json_object_object_add(o, "logged_in", json_object_new_boolean(c->who == WHO_SESSION));
	if (c->who == WHO_SESSION)
		json_object_object_add(o, "csrf", json_object_new_string(c->csrf));
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, NULL);
}

/* The admin listener's own TLS counters (tls_term.c), after the daemon's series.
 * Returns text grown by them (text freed), or NULL. */
static char *
tls_series(struct admin_server *as, char *text)
{
	struct tls_term_stats st;
	size_t len = strlen(text), cap = len + 1024;
	char *out;

	tls_term_stats(as->term, &st);
	if ((out = realloc(text, cap)) == NULL) {
		free(text);
		return NULL;
	}
	snprintf(out + len, cap - len,
	    "# HELP cardupd_admin_tls_handshakes_total TLS handshakes on the admin "
	    "listener, by result.\n"
	    "# TYPE cardupd_admin_tls_handshakes_total counter\n"
	    "cardupd_admin_tls_handshakes_total{result=\"ok\"} %lu\n"
	    "cardupd_admin_tls_handshakes_total{result=\"failed\"} %lu\n"
	    "cardupd_admin_tls_handshakes_total{result=\"timeout\"} %lu\n"
	    "# HELP cardupd_admin_connections_refused_total Admin connections closed at "
	    "once: over the connection or per-address limit.\n"
	    "# TYPE cardupd_admin_connections_refused_total counter\n"
	    "cardupd_admin_connections_refused_total %lu\n",
	    st.handshakes, st.failures, st.timeouts, st.refused);
	return out;
}

/* see server.h. The text is rendered now, from the counters the main loop published
 * (core/view.c copies them into the snapshot): a scrape every 15 s or so costs less
 * than rendering on every state change. They are copied out first, so the lock is
 * held for a copy, never for the rendering. */
enum MHD_Result
adm_get_metrics(struct admin_server *as, struct MHD_Connection *conn)
{
	struct metrics *m;
	struct metrics_gauges g;
	char *text;
	enum MHD_Result ret;

	if ((m = malloc(sizeof(*m))) == NULL)
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	pthread_mutex_lock(&as->mu);
	if (as->snap == NULL) {
		pthread_mutex_unlock(&as->mu);
		free(m);
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	*m = as->snap->metrics;
	g = as->snap->gauges;
	pthread_mutex_unlock(&as->mu);
	text = metrics_render(m, &g);
	free(m);
	if (text != NULL)
		text = tls_series(as, text);
	if (text == NULL)
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	ret = web_send_buf(conn, &admin_site, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
	    text, strlen(text), NULL);
	free(text);
	return ret;
}

/* see server.h */
enum MHD_Result
adm_get_audit(struct admin_server *as, struct MHD_Connection *conn)
{
	char *buf = malloc(AUDIT_TAIL);
	size_t n;
	enum MHD_Result ret;

	if (buf == NULL)
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	n = audit_tail(as->audit, buf, AUDIT_TAIL);
	ret = web_send_buf(conn, &admin_site, MHD_HTTP_OK, "text/plain; charset=utf-8", buf, n, NULL);
	free(buf);
	return ret;
}

/* see server.h */
enum MHD_Result
adm_post_reconnect(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	if (adm_post_cmd(as, ADMIN_CMD_RECONNECT, NULL, rq->source) == -1)
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE,
		    "busy, try again");
	audit_log(as->audit, time(NULL), rq->source, c->name, "reconnect",
	    "reconnect to pcscd");
	return adm_send_ok(conn, MHD_HTTP_ACCEPTED);
}
