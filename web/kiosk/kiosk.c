/* SPDX-License-Identifier: BSD-2-Clause */
/* kiosk.c — see kiosk.h. libmicrohttpd runs its own polling thread. Event streams
 * are suspended while there is nothing new (a content reader that returns 0 without
 * suspending would make MHD spin) and resumed by web_publish(): idle, nothing wakes. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "web/assets.h"
#include "autoconf.h"
#include "core/config.h"
#include "web/listen.h"
#include "web/mhd.h"
#include "base/json.h"
#include "base/log.h"
#include "web/kiosk/kiosk.h"

#define CSP "default-src 'self'; connect-src 'self'; img-src 'self' data:; " \
	"style-src 'self'; script-src 'self'; frame-ancestors 'none'; base-uri 'none'; " \
	"form-action 'self'"

struct sse_client {
	struct sse_client	*next, *prev;
	struct web_server	*ws;
	struct MHD_Connection	*conn;
	unsigned long		 last_seq;
	int			 suspended;
	int			 evict;		/* end this stream: a newer page wants the slot */
	int			 started;
	char			*buf;
	size_t			 len, off;
};

struct web_server {
	struct MHD_Daemon	*d;
	pthread_mutex_t		 mu;
	struct web_snapshot	*snap;
	struct MHD_Response	*state_resp;	/* GET /api/v1/state of snap, shared; or NULL */
	struct sse_client	*clients;
	int			 n_clients;
	int			 stopping;
	web_cmd_cb		 cb;
	void			*arg;
};

#define KIOSK_THREAD_STACK	(256 * 1024)	/* the MHD polling thread's */

static const struct web_site kiosk_site = { CSP, web_assets, "web", 0 };

static int marker_get;	/* *con_cls for requests without a body */

static int
peer_is_loopback(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return 0;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;

		return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			return 1;
		return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127;
	}
	return 0;
}

/* A page from another site must not reach the kiosk API through DNS rebinding:
 * the Host header has to name the loopback interface. */
static int
host_is_loopback(struct MHD_Connection *conn)
{
	const char *h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	static const char *const ok[] = { "127.0.0.1", "localhost", "[::1]" };

	if (h == NULL)
		return 1;	/* HTTP/1.0 clients such as curl -0 */
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t n = strlen(ok[i]);

		if (strncasecmp(h, ok[i], n) == 0 && (h[n] == '\0' || h[n] == ':'))
			return 1;
	}
	return 0;
}

/* The answer to GET /api/v1/state for snap, built once per published state: MHD
 * responses are reference-counted and may be queued on any number of connections. */
static struct MHD_Response *
state_response(const struct web_snapshot *snap)
{
	struct MHD_Response *r;

	/* MUST_COPY: a connection may still be sending this response after the next
	 * publish freed snap. MHD does not write through the pointer: the cast only
	 * drops const. */
	r = MHD_create_response_from_buffer(snap->json_len, (void *)(uintptr_t)snap->json,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return NULL;
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	web_mhd_headers(r, &kiosk_site);
	return r;
}

static enum MHD_Result
serve_state(struct web_server *ws, struct MHD_Connection *conn)
{
	enum MHD_Result ret;

	pthread_mutex_lock(&ws->mu);
	if (ws->snap == NULL) {
		pthread_mutex_unlock(&ws->mu);
		return web_send_error(conn, &kiosk_site, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	if (ws->state_resp != NULL)
		ret = MHD_queue_response(conn, MHD_HTTP_OK, ws->state_resp);
	else	/* out of memory when it was published: copy, as before */
		ret = web_send_buf(conn, &kiosk_site, MHD_HTTP_OK, "application/json",
		    ws->snap->json, ws->snap->json_len, NULL);
	pthread_mutex_unlock(&ws->mu);
	return ret;
}

/* ---- Server-Sent Events ------------------------------------------------------- */

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_client *c = cls;
	struct web_server *ws = c->ws;
	size_t n;
	int len;

	(void)pos;
	pthread_mutex_lock(&ws->mu);
	if (c->off >= c->len) {
		free(c->buf);
		c->buf = NULL;
		c->len = c->off = 0;
		if (ws->stopping || c->evict) {
			pthread_mutex_unlock(&ws->mu);
			return MHD_CONTENT_READER_END_OF_STREAM;
		}
		if (ws->snap == NULL || ws->snap->seq == c->last_seq) {
			c->suspended = 1;
			MHD_suspend_connection(c->conn);
			pthread_mutex_unlock(&ws->mu);
			return 0;
		}
		len = asprintf(&c->buf, "%sevent: state\nid: %lu\ndata: %s\n\n",
		    c->started ? "" : "retry: 1000\n", ws->snap->seq, ws->snap->json);
		if (len < 0) {
			c->buf = NULL;
			pthread_mutex_unlock(&ws->mu);
			return MHD_CONTENT_READER_END_WITH_ERROR;
		}
		c->started = 1;
		c->len = (size_t)len;
		c->last_seq = ws->snap->seq;
	}
	n = c->len - c->off < max ? c->len - c->off : max;
	memcpy(buf, c->buf + c->off, n);
	c->off += n;
	pthread_mutex_unlock(&ws->mu);
	return (ssize_t)n;
}

static void
sse_free(void *cls)
{
	struct sse_client *c = cls;
	struct web_server *ws = c->ws;

	pthread_mutex_lock(&ws->mu);
	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		ws->clients = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	ws->n_clients--;
	pthread_mutex_unlock(&ws->mu);
	free(c->buf);
	free(c);
}

static enum MHD_Result
serve_events(struct web_server *ws, struct MHD_Connection *conn)
{
	struct sse_client *c, *oldest = NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return web_send_error(conn, &kiosk_site, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	c->ws = ws;
	c->conn = conn;
	pthread_mutex_lock(&ws->mu);
	if (ws->n_clients >= CONFIG_KIOSK_MAX_SSE) {
		/* A page that went away while suspended is only noticed on the next write:
		 * end the oldest stream so a reloaded page always gets one. */
		for (struct sse_client *p = ws->clients; p != NULL; p = p->next)
			if (!p->evict)
				oldest = p;
		if (oldest == NULL) {
			pthread_mutex_unlock(&ws->mu);
			free(c);
			return web_send_error(conn, &kiosk_site, MHD_HTTP_SERVICE_UNAVAILABLE,
			    "too many event streams");
		}
		oldest->evict = 1;
		if (oldest->suspended) {
			oldest->suspended = 0;
			MHD_resume_connection(oldest->conn);
		}
	}
	c->next = ws->clients;
	if (c->next != NULL)
		c->next->prev = c;
	ws->clients = c;
	ws->n_clients++;
	pthread_mutex_unlock(&ws->mu);

	r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, c, sse_free);
	if (r == NULL) {
		sse_free(c);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	web_mhd_headers(r, &kiosk_site);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* see kiosk.h */
void
web_publish(struct web_server *ws, struct web_snapshot *snap)
{
	struct web_snapshot *old;
	struct MHD_Response *old_resp, *resp = snap != NULL ? state_response(snap) : NULL;

	pthread_mutex_lock(&ws->mu);
	old = ws->snap;
	old_resp = ws->state_resp;
	ws->snap = snap;
	ws->state_resp = resp;
	for (struct sse_client *c = ws->clients; c != NULL; c = c->next)
		if (c->suspended) {
			c->suspended = 0;
			MHD_resume_connection(c->conn);
		}
	pthread_mutex_unlock(&ws->mu);
	if (old_resp != NULL)
		MHD_destroy_response(old_resp);	/* drops our reference only */
	web_snapshot_free(old);
}

/* ---- commands ---------------------------------------------------------------- */

/* Reads {"reader": s, "prompt": s|null} from a request body. */
static int
parse_cmd_body(const struct web_body *up, struct web_cmd *cmd, const char **why)
{
	json_object *root, *v;
	const char *jwhy;
	int rc = -1;

	if ((root = json_parse_object(up->buf != NULL ? up->buf : "", up->len, 4,
	    &jwhy)) == NULL) {
		*why = "body is not a JSON object";
		return -1;
	}
	if (json_object_object_get_ex(root, "reader", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    (size_t)json_object_get_string_len(v) >= sizeof(cmd->reader)) {
			*why = "reader: not a string of a usable length";
			goto done;
		}
		strcpy(cmd->reader, json_object_get_string(v));
	}
	if (json_object_object_get_ex(root, "prompt", &v) && v != NULL) {
		if (!json_object_is_type(v, json_type_string) ||
		    (size_t)json_object_get_string_len(v) >= sizeof(cmd->prompt_id)) {
			*why = "prompt: not a string of a usable length";
			goto done;
		}
		strcpy(cmd->prompt_id, json_object_get_string(v));
	}
	rc = 0;
done:
	json_object_put(root);
	return rc;
}

static enum MHD_Result
handle_command(struct web_server *ws, struct MHD_Connection *conn, const char *url,
    const struct web_body *up)
{
	struct web_cmd cmd;
	const struct web_reader_view *view = NULL;
	const char *why = NULL, *ct;
	char portal[CMS_URL_MAX + 64];
	json_object *o;

	memset(&cmd, 0, sizeof(cmd));
	if (strcmp(url, "/api/v1/check") == 0)
		cmd.type = WEB_CMD_CHECK;
	else if (strcmp(url, "/api/v1/prompt/proceed") == 0)
		cmd.type = WEB_CMD_PROCEED;
	else if (strcmp(url, "/api/v1/prompt/close") == 0)
		cmd.type = WEB_CMD_CLOSE;
	else if (strcmp(url, "/api/v1/session/cancel") == 0)
		cmd.type = WEB_CMD_CANCEL_SESSION;
	else
		return web_send_error(conn, &kiosk_site, MHD_HTTP_NOT_FOUND, "no such endpoint");
	if (up->too_big)
		return web_send_error(conn, &kiosk_site, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	/* application/json cannot be sent cross-origin without a CORS preflight, which
	 * this server never grants: other pages in the kiosk browser cannot post here. */
	ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
		return web_send_error(conn, &kiosk_site, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "Content-Type must be application/json");
	if (parse_cmd_body(up, &cmd, &why) == -1)
		return web_send_error(conn, &kiosk_site, MHD_HTTP_BAD_REQUEST, why);

	pthread_mutex_lock(&ws->mu);
	if (ws->snap == NULL) {
		pthread_mutex_unlock(&ws->mu);
		return web_send_error(conn, &kiosk_site, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	if (cmd.type == WEB_CMD_CHECK) {
		/* The same choice as the admin listener's (core/view.c). */
		size_t i = 0;
		enum view_pick pick = view_pick_reader(ws->snap->rd, ws->snap->n, cmd.reader,
		    &i);

		if (pick != VIEW_PICK_OK) {
			pthread_mutex_unlock(&ws->mu);
			if (pick == VIEW_PICK_NO_CARD)
				return web_send_error(conn, &kiosk_site, MHD_HTTP_CONFLICT,
				    "no card in this reader");
			return web_send_error(conn, &kiosk_site, pick == VIEW_PICK_UNKNOWN ?
			    MHD_HTTP_NOT_FOUND : MHD_HTTP_CONFLICT, pick == VIEW_PICK_UNKNOWN ?
			    "no such reader" : "name the reader");
		}
		view = &ws->snap->r[i];
		strcpy(cmd.reader, view->name);
	} else
		for (size_t i = 0; i < ws->snap->n; i++)
			if (strcmp(ws->snap->r[i].name, cmd.reader) == 0)
				view = &ws->snap->r[i];
	if (view == NULL) {
		pthread_mutex_unlock(&ws->mu);
		return web_send_error(conn, &kiosk_site, cmd.reader[0] ? MHD_HTTP_NOT_FOUND : MHD_HTTP_CONFLICT,
		    cmd.reader[0] ? "no such reader" : "name the reader");
	}
	if (cmd.type == WEB_CMD_PROCEED && (view->prompt_id[0] == '\0' ||
	    strcmp(view->prompt_id, cmd.prompt_id) != 0)) {
		pthread_mutex_unlock(&ws->mu);
		return web_send_error(conn, &kiosk_site, MHD_HTTP_CONFLICT, "no such prompt");
	}
	snprintf(portal, sizeof(portal), "%s", view->portal_url);
	pthread_mutex_unlock(&ws->mu);

	if (ws->cb(ws->arg, &cmd) == -1)
		return web_send_error(conn, &kiosk_site, MHD_HTTP_SERVICE_UNAVAILABLE, "busy, try again");
	o = json_object_new_object();
	if (cmd.type == WEB_CMD_PROCEED)
		json_object_object_add(o, "portal_url", json_object_new_string(portal));
	else
		json_object_object_add(o, "ok", json_object_new_boolean(1));
	return web_send_json(conn, &kiosk_site, cmd.type == WEB_CMD_CHECK ?
	    MHD_HTTP_ACCEPTED : MHD_HTTP_OK, o, NULL);
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls)
{
	struct web_server *ws = cls;
	struct web_body *up;
	int is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0 ||
	    strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	int is_post = strcmp(method, MHD_HTTP_METHOD_POST) == 0;

	(void)version;
	if (*con_cls == NULL) {
		if (!peer_is_loopback(conn)) {
			*con_cls = &marker_get;
			return web_send_error(conn, &kiosk_site, MHD_HTTP_FORBIDDEN,
			    "the kiosk API answers this device only");
		}
		if (!host_is_loopback(conn)) {
			*con_cls = &marker_get;
			return web_send_error(conn, &kiosk_site, MHD_HTTP_MISDIRECTED_REQUEST,
			    "Host must be the loopback address");
		}
		if (is_post) {
			if ((up = calloc(1, sizeof(*up))) == NULL)
				return MHD_NO;
			up->max = CONFIG_HTTP_MAX_REQUEST_BYTES;
			*con_cls = up;
			return MHD_YES;
		}
		/* Answer on the next call, not this one: a response queued while MHD is
		 * still at the headers makes it close the connection (no keep-alive). */
		*con_cls = &marker_get;
		return MHD_YES;
	}
	if (is_post) {
		up = *con_cls;
		if (*upload_data_size != 0) {
			if (web_body_add(up, upload_data, *upload_data_size) == -1)
				return MHD_NO;
			*upload_data_size = 0;
			return MHD_YES;
		}
		return handle_command(ws, conn, url, up);
	}
	if (!is_get) {
		struct MHD_Response *r;
		enum MHD_Result ret;

		r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Allow", "GET, HEAD, POST");
		ret = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, r);
		MHD_destroy_response(r);
		return ret;
	}
	if (strcmp(url, "/api/v1/state") == 0)
		return serve_state(ws, conn);
	if (strcmp(url, "/api/v1/events") == 0)
		return serve_events(ws, conn);
	if (strncmp(url, "/api/", 5) != 0) {
		const struct asset *a = web_find_asset(&kiosk_site, url);

		if (a != NULL)
			return web_send_asset(conn, &kiosk_site, a);
	}
	return web_send_error(conn, &kiosk_site, MHD_HTTP_NOT_FOUND, "not found");
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	(void)cls;
	(void)conn;
	(void)toe;
	if (*con_cls != NULL && *con_cls != &marker_get) {
		web_body_free(*con_cls);
		free(*con_cls);
	}
	*con_cls = NULL;
}

/* see kiosk.h */
struct web_server *
web_start(const char *listen, web_cmd_cb cb, void *arg, char *err, size_t errlen)
{
	struct web_server *ws;
	struct sockaddr_storage ss;
	int port, ipv6;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;

	if ((port = web_listen_addr(listen, &ss, &ipv6)) == -1) {
		snprintf(err, errlen, "kiosk.listen %s: expected IP:PORT", listen);
		return NULL;
	}
	if (ipv6)
		flags |= MHD_USE_IPv6;
	if ((ws = calloc(1, sizeof(*ws))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&ws->mu, NULL);
	ws->cb = cb;
	ws->arg = arg;
	ws->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, ws,
	    /* first: covers the others; the logger only reads the site */
	    MHD_OPTION_EXTERNAL_LOGGER, web_mhd_log, (void *)(uintptr_t)&kiosk_site,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, completed, ws,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONFIG_KIOSK_MAX_CONNECTIONS,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    /* 16 KiB touched idle (smaps), room for a sanitizer build; the default
	     * is RLIMIT_STACK's 8 MiB of address space */
	    MHD_OPTION_THREAD_STACK_SIZE, (size_t)KIOSK_THREAD_STACK,
	    MHD_OPTION_END);
	if (ws->d == NULL) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?)",
		    listen);
		pthread_mutex_destroy(&ws->mu);
		free(ws);
		return NULL;
	}
	return ws;
}

/* see kiosk.h */
void
web_stop(struct web_server *ws)
{
	if (ws == NULL)
		return;
	pthread_mutex_lock(&ws->mu);
	ws->stopping = 1;
	for (struct sse_client *c = ws->clients; c != NULL; c = c->next)
		if (c->suspended) {
			c->suspended = 0;
			MHD_resume_connection(c->conn);
		}
	pthread_mutex_unlock(&ws->mu);
	MHD_stop_daemon(ws->d);
	if (ws->state_resp != NULL)
		MHD_destroy_response(ws->state_resp);
	web_snapshot_free(ws->snap);
	pthread_mutex_destroy(&ws->mu);
	free(ws);
}
