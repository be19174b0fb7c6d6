/* admin.c — see admin.h. One libmicrohttpd daemon with TLS and its own polling thread;
 * every handler runs on that thread. A watchdog thread cuts connections that have not
 * finished their request within CONFIG_ADMIN_REQUEST_DEADLINE_S (MHD's own timeout is
 * an idle timeout, which a client sending one byte at a time never hits); it sleeps
 * while no connection is open. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <json-c/json.h>
#include <microhttpd.h>

#include "web/admin/admin.h"
#include "web/admin/admin_tls.h"
#include "web/assets.h"
#include "web/admin/audit.h"
#include "web/admin/auth.h"
#include "autoconf.h"
#include "cms/https.h"
#include "web/listen.h"
#include "base/file.h"
#include "base/clock.h"
#include "base/log.h"
#include "web/admin/settings.h"
#include "cms/trust.h"
#include "version.h"

#define CSP "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " \
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
#define COOKIE		"__Host-cardupd"
#define CFG_FILE_MAX	(64 * 1024)
#define TOKENS_FILE_MAX	(16 * 1024)
#define AUDIT_TAIL	(32 * 1024)
#define WD_SLOTS	(CONFIG_ADMIN_MAX_CONNECTIONS + 4)

/* A connection as the watchdog sees it. */
struct wd_slot {
	int		used;
	int		fd;
	int64_t		deadline;	/* monotonic ms; 0: not running a request */
};

struct admin_server {
	struct MHD_Daemon	*d;
	pthread_mutex_t		 mu;		/* everything below but wd */
	struct admin_snapshot	*snap;
	char			 password_hash[AUTH_HASH_MAX];
	struct auth_sessions	 sessions;
	struct auth_lockout	 lockout;
	struct auth_api_tokens	 tokens;
	struct audit		*audit;
	struct admin_tls	 tls;
	char			 cfg_path[CFG_PATH_MAX];
	char			 state_dir[CFG_PATH_MAX];
	admin_cmd_cb		 cb;
	void			*arg;

	pthread_t		 wd_thread;
	pthread_mutex_t		 wd_mu;
	pthread_cond_t		 wd_cv;
	struct wd_slot		 wd[WD_SLOTS];
	int			 wd_stop;
};

/* Per-request state, allocated on the first call. */
struct req {
	char		source[AUTH_SOURCE_MAX];	/* peer address */
	char		lock_source[AUTH_SOURCE_MAX];	/* the same, IPv6 cut to /64 */
	size_t		len, cap;
	int		too_big;
	char		*body;
};

static char		g_setup_code[AUTH_CODE_BUF];
static atomic_int	g_setup_live;
static char		g_fingerprint[ADMIN_FPR_MAX];
static atomic_int	g_fpr_live;

/* see admin.h */
const char *
admin_setup_code(void)
{
	return atomic_load(&g_setup_live) ? g_setup_code : NULL;
}

/* see admin.h */
const char *
admin_fingerprint(void)
{
	return atomic_load(&g_fpr_live) ? g_fingerprint : NULL;
}

static int64_t
mono_s(void)
{
	return clock_mono_ms() / 1000;
}

/* ---- the watchdog --------------------------------------------------------------- */

static void *
watchdog(void *arg)
{
	struct admin_server *as = arg;

	pthread_mutex_lock(&as->wd_mu);
	while (!as->wd_stop) {
		int64_t now = clock_mono_ms(), next = 0;

		for (size_t i = 0; i < WD_SLOTS; i++) {
			struct wd_slot *w = &as->wd[i];

			if (!w->used || w->deadline == 0)
				continue;
			if (w->deadline <= now) {
				/* MHD notices the closed socket and frees the connection;
				 * the fd stays MHD's until its CLOSED notification, which
				 * takes wd_mu: it cannot be reused under us. */
				shutdown(w->fd, SHUT_RDWR);
				w->deadline = 0;
				log_info("admin: connection cut: request not complete within "
				    "%d s", CONFIG_ADMIN_REQUEST_DEADLINE_S);
			} else if (next == 0 || w->deadline < next)
				next = w->deadline;
		}
		if (next == 0)
			pthread_cond_wait(&as->wd_cv, &as->wd_mu);	/* idle: no wake-ups */
		else {
			struct timespec ts = { (time_t)(next / 1000), (long)(next % 1000) * 1000000L };

			pthread_cond_timedwait(&as->wd_cv, &as->wd_mu, &ts);
		}
	}
	pthread_mutex_unlock(&as->wd_mu);
	return NULL;
}

static void
wd_arm(struct admin_server *as, struct wd_slot *w, int on)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&as->wd_mu);
	if (w->used) {
		w->deadline = on ? clock_mono_ms() + CONFIG_ADMIN_REQUEST_DEADLINE_S * 1000L : 0;
		if (on)
			pthread_cond_signal(&as->wd_cv);
	}
	pthread_mutex_unlock(&as->wd_mu);
}

static struct wd_slot *
wd_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

static void
notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe)
{
	struct admin_server *as = cls;
	const union MHD_ConnectionInfo *ci;
	struct wd_slot *w = *socket_context;

	if (toe == MHD_CONNECTION_NOTIFY_CLOSED) {
		if (w != NULL) {
			pthread_mutex_lock(&as->wd_mu);
			memset(w, 0, sizeof(*w));
			pthread_mutex_unlock(&as->wd_mu);
		}
		*socket_context = NULL;
		return;
	}
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL)
		return;
	pthread_mutex_lock(&as->wd_mu);
	for (size_t i = 0; i < WD_SLOTS; i++)
		if (!as->wd[i].used) {
			w = &as->wd[i];
			w->used = 1;
			w->fd = ci->connect_fd;
			w->deadline = clock_mono_ms() + CONFIG_ADMIN_REQUEST_DEADLINE_S * 1000L;
			*socket_context = w;
			pthread_cond_signal(&as->wd_cv);
			break;
		}
	if (*socket_context == NULL)
		shutdown(ci->connect_fd, SHUT_RDWR);	/* no slot: fail closed */
	pthread_mutex_unlock(&as->wd_mu);
}

/* ---- responses ---------------------------------------------------------------- */

static void
common_headers(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Content-Security-Policy", CSP);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	MHD_add_response_header(r, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(r, "Cross-Origin-Opener-Policy", "same-origin");
	MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
}

static enum MHD_Result
send_buf(struct MHD_Connection *conn, unsigned status, const char *type, const void *data,
    size_t len, const char *cookie)
{
	struct MHD_Response *r;
	enum MHD_Result ret;

	r = MHD_create_response_from_buffer(len, (void *)(uintptr_t)data,
	    MHD_RESPMEM_MUST_COPY);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	if (cookie != NULL)
		MHD_add_response_header(r, "Set-Cookie", cookie);
	common_headers(r);
	ret = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* Sends o (consumed). */
static enum MHD_Result
send_json(struct MHD_Connection *conn, unsigned status, json_object *o, const char *cookie)
{
	const char *s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	enum MHD_Result ret;

	ret = send_buf(conn, status, "application/json", s, strlen(s), cookie);
	json_object_put(o);
	return ret;
}

static enum MHD_Result
send_error(struct MHD_Connection *conn, unsigned status, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "error", json_object_new_string(msg));
	return send_json(conn, status, o, NULL);
}

static enum MHD_Result
send_ok(struct MHD_Connection *conn, unsigned status)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return send_json(conn, status, o, NULL);
}

static enum MHD_Result
serve_asset(struct MHD_Connection *conn, const char *url)
{
	const struct asset *a = NULL;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (strcmp(url, "/") == 0)
		url = "/index.html";
	/* Exact names from the embedded table only: no path ever reaches the disk. */
	for (const struct asset *p = admin_assets; p->path != NULL; p++)
		if (strcmp(p->path, url) == 0)
			a = p;
	if (a == NULL)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "not found");
	r = MHD_create_response_from_buffer(a->len, (void *)(uintptr_t)a->data,
	    MHD_RESPMEM_PERSISTENT);
	if (r == NULL)
		return MHD_NO;
	MHD_add_response_header(r, "Content-Type", a->type);
	MHD_add_response_header(r, "ETag", a->etag);
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	common_headers(r);
	ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- request helpers --------------------------------------------------------------- */

static void
peer_source(struct MHD_Connection *conn, struct req *rq)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(rq->source, sizeof(rq->source), "?");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && (sa = ci->client_addr) != NULL) {
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			    rq->source, sizeof(rq->source));
		else if (sa->sa_family == AF_INET6) {
			struct in6_addr a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

			inet_ntop(AF_INET6, &a, rq->source, sizeof(rq->source));
			/* One host of IPv6 owns a /64: lock the prefix, not one address. */
			if (!IN6_IS_ADDR_V4MAPPED(&a))
				memset(a.s6_addr + 8, 0, 8);
			inet_ntop(AF_INET6, &a, rq->lock_source, sizeof(rq->lock_source));
		}
	}
	if (rq->lock_source[0] == '\0')
		snprintf(rq->lock_source, sizeof(rq->lock_source), "%s", rq->source);
}

/* see admin.h */
json_object *
admin_parse_body(const char *content_type, const char *body, size_t len)
{
	json_tokener *tok;
	json_object *o;

	/* application/json cannot be posted cross-origin without a preflight. */
	if (content_type == NULL || strncasecmp(content_type, "application/json", 16) != 0 ||
	    body == NULL || len > INT_MAX)
		return NULL;
	if ((tok = json_tokener_new_ex(ADMIN_JSON_DEPTH)) == NULL)
		return NULL;
	o = json_tokener_parse_ex(tok, body, (int)len);
	if (o != NULL && (json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(o, json_type_object))) {
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

/* The JSON object of a request body, or NULL. */
static json_object *
body_json(struct MHD_Connection *conn, const struct req *rq)
{
	return admin_parse_body(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Content-Type"), rq->body, rq->len);
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

enum who { WHO_NONE, WHO_SESSION, WHO_TOKEN };

struct caller {
	enum who	who;
	char		name[64];	/* "admin" or "token:<id>" for the audit log */
	char		csrf[AUTH_TOKEN_BUF];
	char		token[AUTH_TOKEN_BUF];
};

/* Who is calling: a live session (cookie) or an API token (bearer). */
static void
identify(struct admin_server *as, struct MHD_Connection *conn, struct caller *c)
{
	const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE);
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Authorization");
	const struct auth_session *s;
	int i;

	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&as->mu);
	if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0) {
		if ((i = auth_api_token_check(&as->tokens, authz + 7)) >= 0) {
			c->who = WHO_TOKEN;
			snprintf(c->name, sizeof(c->name), "token:%s", as->tokens.t[i].id);
		}
	} else if (cookie != NULL && (s = auth_session_find(&as->sessions, cookie,
	    mono_s())) != NULL) {
		c->who = WHO_SESSION;
		snprintf(c->name, sizeof(c->name), "admin");
		memcpy(c->csrf, s->csrf, sizeof(c->csrf));
		memcpy(c->token, s->token, sizeof(c->token));
	}
	pthread_mutex_unlock(&as->mu);
}

/* A change by a session needs its CSRF token in X-CSRF-Token; a bearer token is not
 * sent by browsers on their own and needs none. */
static int
csrf_ok(struct MHD_Connection *conn, const struct caller *c)
{
	const char *h;

	if (c->who == WHO_TOKEN)
		return 1;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
	return c->who == WHO_SESSION && auth_ct_streq(h, c->csrf);
}

static void
session_cookie(char *out, size_t cap, const char *token)
{
	if (token == NULL)
		snprintf(out, cap, COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; "
		    "Max-Age=0");
	else
		snprintf(out, cap, COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
		    "Max-Age=%d", token, CONFIG_ADMIN_SESSION_MAX_S);
}

static int
post_cmd(struct admin_server *as, enum admin_cmd_type type, const char *reader,
    const char *source)
{
	struct admin_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = type;
	if (reader != NULL)
		snprintf(cmd.reader, sizeof(cmd.reader), "%s", reader);
	snprintf(cmd.source, sizeof(cmd.source), "%s", source);
	return as->cb(as->arg, &cmd);
}

/* ---- settings ------------------------------------------------------------------ */

enum { S_RESTART = 1, S_HOOK = 2, S_SECRET = 4 };

static const struct skey {
	const char	*section, *key;
	int		 flags;
} skeys[] = {
	{ "device", "id", 0 },
	{ "cms", "url", 0 }, { "cms", "trust_anchors", 0 }, { "cms", "portal_origins", 0 },
	{ "cms", "timeout_ms", 0 }, { "cms", "retries", 0 }, { "cms", "client_cert", 0 },
	{ "cms", "client_key", 0 },
	{ "kiosk", "listen", S_RESTART }, { "kiosk", "prompt_timeout_s", 0 },
	{ "kiosk", "readers", 0 }, { "kiosk", "language", 0 }, { "kiosk", "manual_check", 0 },
	{ "kiosk", "return_url_param", 0 },
	{ "admin", "listen", S_RESTART }, { "admin", "tls_cert", S_RESTART },
	{ "admin", "tls_key", S_RESTART }, { "admin", "state_dir", S_RESTART },
	{ "hooks", "on_prompt", S_HOOK }, { "hooks", "on_proceed", S_HOOK },
	{ "hooks", "on_session_end", S_HOOK },
	{ "log", "level", 0 }, { "log", "syslog", 0 },
};
#define NSKEYS	(sizeof(skeys) / sizeof(skeys[0]))

/* The value of a key in c, as the file would say it. */
static void
cfg_value(const struct cfg *c, const struct skey *k, char *out, size_t cap)
{
	static const char *const lv[] = { "error", "warn", "info", "debug" };
#define K(s, n) (strcmp(k->section, s) == 0 && strcmp(k->key, n) == 0)
	out[0] = '\0';
	if (K("device", "id"))
		snprintf(out, cap, "%s", c->device_id);
	else if (K("cms", "url"))
		snprintf(out, cap, "%s", c->cms_url);
	else if (K("cms", "trust_anchors"))
		snprintf(out, cap, "%s", c->cms_anchors);
	else if (K("cms", "portal_origins")) {
		size_t o = 0;

		for (size_t i = 0; i < c->portal_origins.n && o < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? " " : "",
			    c->portal_origins.o[i]);
	} else if (K("cms", "timeout_ms"))
		snprintf(out, cap, "%d", c->cms_timeout_ms);
	else if (K("cms", "retries"))
		snprintf(out, cap, "%d", c->cms_retries);
	else if (K("cms", "client_cert"))
		snprintf(out, cap, "%s", c->cms_client_cert);
	else if (K("cms", "client_key"))
		snprintf(out, cap, "%s", c->cms_client_key);
	else if (K("kiosk", "listen"))
		snprintf(out, cap, "%s", c->kiosk_listen);
	else if (K("kiosk", "prompt_timeout_s"))
		snprintf(out, cap, "%d", c->prompt_timeout_s);
	else if (K("kiosk", "readers"))
		snprintf(out, cap, "%s", c->kiosk_readers);
	else if (K("kiosk", "language"))
		snprintf(out, cap, "%s", c->kiosk_lang);
	else if (K("kiosk", "manual_check"))
		snprintf(out, cap, "%s", c->kiosk_manual_check ? "yes" : "no");
	else if (K("kiosk", "return_url_param"))
		snprintf(out, cap, "%s", c->kiosk_return_param);
	else if (K("admin", "listen"))
		snprintf(out, cap, "%s", c->admin_listen);
	else if (K("admin", "tls_cert"))
		snprintf(out, cap, "%s", c->admin_tls_cert);
	else if (K("admin", "tls_key"))
		snprintf(out, cap, "%s", c->admin_tls_key);
	else if (K("admin", "state_dir"))
		snprintf(out, cap, "%s", c->admin_state_dir);
	else if (K("hooks", "on_prompt"))
		snprintf(out, cap, "%s", c->hook_on_prompt);
	else if (K("hooks", "on_proceed"))
		snprintf(out, cap, "%s", c->hook_on_proceed);
	else if (K("hooks", "on_session_end"))
		snprintf(out, cap, "%s", c->hook_on_session_end);
	else if (K("log", "level"))
		snprintf(out, cap, "%s", lv[c->log_level]);
	else if (K("log", "syslog"))
		snprintf(out, cap, "%s", c->log_syslog ? "yes" : "no");
#undef K
}

static int
hook_editable(void)
{
#ifdef CONFIG_ADMIN_EDIT_HOOKS
	return 1;
#else
	return 0;
#endif
}

static enum MHD_Result
get_settings(struct admin_server *as, struct MHD_Connection *conn)
{
	json_object *o = json_object_new_object(), *vals = json_object_new_object(),
	    *keys = json_object_new_array();
	char v[CMS_MAX_ORIGINS * CMS_ORIGIN_MAX + 16];

	pthread_mutex_lock(&as->mu);
	if (as->snap == NULL) {
		pthread_mutex_unlock(&as->mu);
		json_object_put(o);
		json_object_put(vals);
		json_object_put(keys);
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	for (size_t i = 0; i < NSKEYS; i++) {
		char name[48];
		json_object *k = json_object_new_object();

		snprintf(name, sizeof(name), "%s.%s", skeys[i].section, skeys[i].key);
		cfg_value(&as->snap->cfg, &skeys[i], v, sizeof(v));
		json_object_object_add(vals, name, json_object_new_string(v));
		json_object_object_add(k, "name", json_object_new_string(name));
		json_object_object_add(k, "restart",
		    json_object_new_boolean(skeys[i].flags & S_RESTART));
		json_object_object_add(k, "editable", json_object_new_boolean(
		    !(skeys[i].flags & S_HOOK) || hook_editable()));
		json_object_array_add(keys, k);
	}
	pthread_mutex_unlock(&as->mu);
	json_object_object_add(o, "values", vals);
	json_object_object_add(o, "keys", keys);
	json_object_object_add(o, "file", json_object_new_string(as->cfg_path));
	return send_json(conn, MHD_HTTP_OK, o, NULL);
}

/* Maps the parser's "file:LINE: [section] key: reason" lines to fields. */
static void
errors_to_fields(const char *err, json_object *errs, json_object **general)
{
	const char *p = err;

	while (*p) {
		const char *eol = strchr(p, '\n'), *lb, *rb, *colon;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[512], name[96];

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (eol ? 1 : 0);
		lb = strstr(line, ": [");
		/* rb[1] first: rb + 2 is past the string when the line ends at ']' */
		if (lb != NULL && (rb = strchr(lb, ']')) != NULL && rb[1] == ' ' &&
		    (colon = strchr(rb + 2, ':')) != NULL) {
			snprintf(name, sizeof(name), "%.*s.%.*s", (int)(rb - lb - 3), lb + 3,
			    (int)(colon - rb - 2), rb + 2);
			if (!json_object_object_get_ex(errs, name, NULL))
				json_object_object_add(errs, name,
				    json_object_new_string(colon + 2));
			continue;
		}
		if (*general == NULL)
			*general = json_object_new_string(line);
	}
}

/* Rewrites the config file with changes after checking the whole result with the
 * daemon's own parser (and the CMS credentials it names) and posts a reload. Returns
 * 0; -1 with field errors in errs (or a general one in *general). */
static int
apply_changes(struct admin_server *as, const struct settings_change *ch, size_t n,
    const char **fields, json_object *errs, json_object **general, const char *source)
{
	static char err[CFG_ERR_MAX];
	static struct cfg nc;
	char *text = NULL, *ntext;
	const char *why = NULL;
	size_t bad = 0;
	struct https_client *hc;

	if ((text = file_read_text(as->cfg_path, CFG_FILE_MAX, err, sizeof(err))) == NULL) {
		*general = json_object_new_string(err);
		return -1;
	}
	ntext = settings_update_text(text, ch, n, &why, &bad);
	free(text);
	if (ntext == NULL) {
		if (bad < n)
			json_object_object_add(errs, fields[bad], json_object_new_string(why));
		else
			*general = json_object_new_string(why);
		return -1;
	}
	if (cfg_parse_string(as->cfg_path, ntext, &nc, err, sizeof(err)) == -1) {
		errors_to_fields(err, errs, general);
		free(ntext);
		return -1;
	}
	/* What the reload would load next: refuse now rather than half-apply later. */
	hc = https_client_new(nc.cms_anchors, nc.cms_client_cert, nc.cms_client_key, err,
	    sizeof(err));
	if (hc == NULL) {
		json_object_object_add(errs, nc.cms_client_cert[0] && strstr(err,
		    nc.cms_client_cert) ? "cms.client_cert" : "cms.trust_anchors",
		    json_object_new_string(err));
		free(ntext);
		return -1;
	}
	https_client_free(hc);
	if (file_write_atomic(as->cfg_path, ntext, strlen(ntext), 0600, err,
	    sizeof(err)) == -1) {
		*general = json_object_new_string(err);
		free(ntext);
		return -1;
	}
	explicit_bzero(ntext, strlen(ntext));
	free(ntext);
	if (nc.admin_password_hash[0] != '\0') {
		struct stat st;

		/* The file now holds a password hash: not for everyone's eyes. */
		if (stat(as->cfg_path, &st) == 0 && (st.st_mode & S_IRWXO) != 0)
			chmod(as->cfg_path, st.st_mode & 07770);
	}
	if (post_cmd(as, ADMIN_CMD_RELOAD, NULL, source) == -1)
		log_warnx("admin: reload not queued; send SIGHUP to apply %s", as->cfg_path);
	return 0;
}

static enum MHD_Result
post_settings(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = body_json(conn, rq), *vals, *errs, *general = NULL, *o,
	    *changed = json_object_new_array(), *restart = json_object_new_array();
	struct settings_change ch[NSKEYS];
	const char *fields[NSKEYS];
	char names[NSKEYS][48], olds[NSKEYS][CMS_MAX_ORIGINS * CMS_ORIGIN_MAX + 16];
	size_t n = 0;
	int bad = 0;

	errs = json_object_new_object();
	if (body == NULL || !json_object_object_get_ex(body, "values", &vals) ||
	    !json_object_is_type(vals, json_type_object)) {
		json_object_put(body);
		json_object_put(errs);
		json_object_put(changed);
		json_object_put(restart);
		return send_error(conn, MHD_HTTP_BAD_REQUEST,
		    "expected {\"values\": {\"section.key\": \"value\"}}");
	}
	pthread_mutex_lock(&as->mu);
	json_object_object_foreach(vals, name, v) {
		size_t i;

		for (i = 0; i < NSKEYS; i++) {
			char full[48];

			snprintf(full, sizeof(full), "%s.%s", skeys[i].section, skeys[i].key);
			if (strcmp(full, name) == 0)
				break;
		}
		if (i == NSKEYS || !json_object_is_type(v, json_type_string)) {
			json_object_object_add(errs, name, json_object_new_string(
			    i == NSKEYS ? "no such setting" : "expected a string"));
			bad = 1;
			continue;
		}
		cfg_value(&as->snap->cfg, &skeys[i], olds[n], sizeof(olds[n]));
		if (strcmp(olds[n], json_object_get_string(v)) == 0)
			continue;	/* unchanged */
		if ((skeys[i].flags & S_HOOK) && !hook_editable()) {
			json_object_object_add(errs, name, json_object_new_string(
			    "hooks are changed on the device only (Kconfig ADMIN_EDIT_HOOKS)"));
			bad = 1;
			continue;
		}
		snprintf(names[n], sizeof(names[n]), "%s", name);
		ch[n].section = skeys[i].section;
		ch[n].key = skeys[i].key;
		ch[n].value = json_object_get_string(v);
		fields[n] = names[n];
		if (skeys[i].flags & S_RESTART)
			json_object_array_add(restart, json_object_new_string(name));
		json_object_array_add(changed, json_object_new_string(name));
		n++;
	}
	if (!bad && n > 0 && apply_changes(as, ch, n, fields, errs, &general, rq->source) == 0) {
		for (size_t i = 0; i < n; i++)
			audit_log(as->audit, time(NULL), rq->source, c->name, "setting",
			    "%s: \"%s\" -> \"%s\"", names[i], olds[i], ch[i].value);
	} else if (n > 0 || bad)
		bad = 1;
	pthread_mutex_unlock(&as->mu);
	json_object_put(body);
	if (bad) {
		o = json_object_new_object();
		json_object_object_add(o, "errors", errs);
		if (general != NULL)
			json_object_object_add(o, "error", general);
		else
			json_object_object_add(o, "error", json_object_new_string(
			    "nothing was changed: see the fields"));
		json_object_put(changed);
		json_object_put(restart);
		return send_json(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, o, NULL);
	}
	json_object_put(errs);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "changed", changed);
	json_object_object_add(o, "restart_needed", restart);
	return send_json(conn, MHD_HTTP_OK, o, NULL);
}

/* Sets the admin password: the hash goes into the config file like any setting. */
static int
set_password(struct admin_server *as, const char *pw, const char *source,
    json_object **general)
{
	char hash[AUTH_HASH_MAX];
	struct settings_change ch = { "admin", "password_hash", hash };
	const char *field = "admin.password_hash";
	json_object *errs = json_object_new_object();
	int rc;

	if (auth_hash_password(pw, hash, sizeof(hash)) == -1) {
		*general = json_object_new_string("cannot hash the password");
		json_object_put(errs);
		return -1;
	}
	rc = apply_changes(as, &ch, 1, &field, errs, general, source);
	if (rc == 0) {
		memcpy(as->password_hash, hash, sizeof(hash));
		atomic_store(&g_setup_live, 0);
	} else if (*general == NULL)
		*general = json_object_new_string(json_object_to_json_string(errs));
	json_object_put(errs);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

/* ---- log in, setup, password -------------------------------------------------------- */

/* Starts a session for rq's source and answers with the cookie and CSRF token.
 * Called with as->mu held. */
static enum MHD_Result
start_session(struct admin_server *as, struct MHD_Connection *conn, struct req *rq)
{
	const char *old = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, COOKIE);
	const struct auth_session *s;
	char cookie[160];
	json_object *o;

	/* Whatever cookie came with the login is never the session after it. */
	auth_session_end(&as->sessions, old);
	if ((s = auth_session_new(&as->sessions, rq->source, mono_s())) == NULL) {
		pthread_mutex_unlock(&as->mu);
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "no randomness");
	}
	session_cookie(cookie, sizeof(cookie), s->token);
	o = json_object_new_object();
	json_object_object_add(o, "csrf", json_object_new_string(s->csrf));
	pthread_mutex_unlock(&as->mu);
	return send_json(conn, MHD_HTTP_OK, o, cookie);
}

static enum MHD_Result
locked_out(struct MHD_Connection *conn, long wait)
{
	char msg[96], ra[24];
	struct MHD_Response *r;
	json_object *o = json_object_new_object();
	const char *s;
	enum MHD_Result ret;

	snprintf(msg, sizeof(msg), "too many failed attempts: try again in %ld s", wait);
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "retry_after_s", json_object_new_int64(wait));
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	r = MHD_create_response_from_buffer(strlen(s), (void *)(uintptr_t)s,
	    MHD_RESPMEM_MUST_COPY);
	json_object_put(o);
	if (r == NULL)
		return MHD_NO;
	snprintf(ra, sizeof(ra), "%ld", wait);
	MHD_add_response_header(r, "Retry-After", ra);
	MHD_add_response_header(r, "Content-Type", "application/json");
	MHD_add_response_header(r, "Cache-Control", "no-store");
	common_headers(r);
	ret = MHD_queue_response(conn, MHD_HTTP_TOO_MANY_REQUESTS, r);
	MHD_destroy_response(r);
	return ret;
}

/* POST /api/v1/admin/login {"password"} and /setup {"code", "password"}. */
static enum MHD_Result
post_login(struct admin_server *as, struct MHD_Connection *conn, struct req *rq, int setup)
{
	json_object *body = body_json(conn, rq), *general = NULL;
	const char *pw = jstr(body, "password"), *code = jstr(body, "code"), *why;
	char hash[AUTH_HASH_MAX];
	long wait;
	int ok;

	if (pw == NULL || (setup && code == NULL)) {
		json_object_put(body);
		return send_error(conn, MHD_HTTP_BAD_REQUEST, setup ?
		    "expected {\"code\": s, \"password\": s}" : "expected {\"password\": s}");
	}
	pthread_mutex_lock(&as->mu);
	if ((wait = auth_lockout_wait(&as->lockout, rq->lock_source, mono_s())) > 0) {
		pthread_mutex_unlock(&as->mu);
		json_object_put(body);
		audit_log(as->audit, time(NULL), rq->source, "-", setup ? "setup_locked" :
		    "login_locked", "refused: locked out for %ld s more", wait);
		return locked_out(conn, wait);
	}
	if (setup) {
		if (admin_setup_code() == NULL) {
			pthread_mutex_unlock(&as->mu);
			json_object_put(body);
			return send_error(conn, MHD_HTTP_CONFLICT,
			    "a password is already set: log in");
		}
		ok = auth_code_equal(code, g_setup_code);
	} else {
		memcpy(hash, as->password_hash, sizeof(hash));
		/* yescrypt takes a while: do not hold the lock meanwhile. */
		pthread_mutex_unlock(&as->mu);
		ok = hash[0] != '\0' && auth_verify_password(pw, hash);
		explicit_bzero(hash, sizeof(hash));
		pthread_mutex_lock(&as->mu);
	}
	if (!ok) {
		wait = auth_lockout_fail(&as->lockout, rq->lock_source, mono_s());
		pthread_mutex_unlock(&as->mu);
		json_object_put(body);
		audit_log(as->audit, time(NULL), rq->source, "-", setup ? "setup_failed" :
		    "login_failed", "%s%s", setup ? "wrong setup code" : "wrong password",
		    wait > 0 ? "; source locked out" : "");
		return send_error(conn, MHD_HTTP_UNAUTHORIZED, setup ? "wrong setup code" :
		    as->password_hash[0] ? "wrong password" :
		    "no password is set yet: use the setup code");
	}
	if (setup) {
		if (auth_password_acceptable(pw, &why) == -1) {
			pthread_mutex_unlock(&as->mu);
			json_object_put(body);
			return send_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, why);
		}
		if (set_password(as, pw, rq->source, &general) == -1) {
			pthread_mutex_unlock(&as->mu);
			json_object_put(body);
			log_warnx("admin: setting the first password: %s",
			    json_object_get_string(general));
			json_object_put(general);
			return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot save the password (see the log)");
		}
	}
	auth_lockout_success(&as->lockout, rq->lock_source);
	json_object_put(body);
	audit_log(as->audit, time(NULL), rq->source, "admin", setup ? "setup" : "login",
	    "%s", setup ? "first password set with the setup code; logged in" : "logged in");
	return start_session(as, conn, rq);	/* unlocks */
}

static enum MHD_Result
post_password(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = body_json(conn, rq), *general = NULL;
	const char *cur = jstr(body, "current"), *pw = jstr(body, "new"), *why;
	char hash[AUTH_HASH_MAX];
	int ok;

	if (cur == NULL || pw == NULL) {
		json_object_put(body);
		return send_error(conn, MHD_HTTP_BAD_REQUEST,
		    "expected {\"current\": s, \"new\": s}");
	}
	if (auth_password_acceptable(pw, &why) == -1) {
		json_object_put(body);
		return send_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, why);
	}
	pthread_mutex_lock(&as->mu);
	memcpy(hash, as->password_hash, sizeof(hash));
	pthread_mutex_unlock(&as->mu);
	ok = auth_verify_password(cur, hash);
	explicit_bzero(hash, sizeof(hash));
	pthread_mutex_lock(&as->mu);
	if (!ok) {
		auth_lockout_fail(&as->lockout, rq->lock_source, mono_s());
		pthread_mutex_unlock(&as->mu);
		json_object_put(body);
		audit_log(as->audit, time(NULL), rq->source, c->name, "password_failed",
		    "wrong current password");
		return send_error(conn, MHD_HTTP_FORBIDDEN, "the current password is wrong");
	}
	if (set_password(as, pw, rq->source, &general) == -1) {
		pthread_mutex_unlock(&as->mu);
		json_object_put(body);
		log_warnx("admin: changing the password: %s", json_object_get_string(general));
		json_object_put(general);
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot save the password (see the log)");
	}
	json_object_put(body);
	/* Every other session ends with the old password; this one starts afresh. */
	auth_sessions_clear(&as->sessions);
	audit_log(as->audit, time(NULL), rq->source, c->name, "password",
	    "password changed; all sessions ended");
	return start_session(as, conn, rq);	/* unlocks */
}

/* ---- anchors, tokens, audit, actions ------------------------------------------------ */

static enum MHD_Result
get_anchors(struct admin_server *as, struct MHD_Connection *conn)
{
	char path[CFG_PATH_MAX], err[512];
	json_object *o, *arr;

	pthread_mutex_lock(&as->mu);
	snprintf(path, sizeof(path), "%s", as->snap ? as->snap->cfg.cms_anchors : "");
	pthread_mutex_unlock(&as->mu);
	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	if ((arr = admin_anchors_describe(path, (long long)time(NULL), err, sizeof(err))) ==
	    NULL) {
		json_object_object_add(o, "error", json_object_new_string(err));
		arr = json_object_new_array();
	}
	json_object_object_add(o, "anchors", arr);
	return send_json(conn, MHD_HTTP_OK, o, NULL);
}

static enum MHD_Result
post_anchors(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	char path[CFG_PATH_MAX], tmp[CFG_PATH_MAX + 16], err[1024];
	struct trust_anchors ta;
	struct trust_pem_obj *objs = NULL;
	size_t nobj = 0;

	if (ct == NULL || strncasecmp(ct, "application/x-pem-file", 22) != 0)
		return send_error(conn, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "Content-Type must be application/x-pem-file");
	if (rq->body == NULL || rq->len == 0)
		return send_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, "empty upload");
	/* A PEM file is text: a NUL byte anywhere would load here but be refused by
	 * the status page's reader later. */
	if (memchr(rq->body, '\0', rq->len) != NULL)
		return send_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "not a PEM text file (contains NUL bytes)");
	pthread_mutex_lock(&as->mu);
	snprintf(path, sizeof(path), "%s", as->snap ? as->snap->cfg.cms_anchors : "");
	pthread_mutex_unlock(&as->mu);
	if (path[0] == '\0')
		return send_error(conn, MHD_HTTP_CONFLICT, "cms.trust_anchors is not set");
	snprintf(tmp, sizeof(tmp), "%s.upload", path);
	/* Checked as a file by the same loader the CMS client uses, before anything is
	 * replaced. */
	if (file_write_atomic(tmp, rq->body, rq->len, 0644, err, sizeof(err)) == -1)
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	err[0] = '\0';
	if (trust_pem_read(tmp, &objs, &nobj, err, sizeof(err)) == 0) {
		int ok = nobj > 0;

		for (size_t i = 0; i < nobj && ok; i++)
			if (strcmp(objs[i].name, "CERTIFICATE") != 0) {
				snprintf(err, sizeof(err), "only CERTIFICATE objects belong here, "
				    "found %.60s", objs[i].name);
				ok = 0;
			}
		if (nobj == 0)
			snprintf(err, sizeof(err), "no PEM certificate found");
		trust_pem_free(objs, nobj);
		if (ok && trust_load(tmp, &ta, err, sizeof(err)) == 0) {
			size_t n = ta.n;
			json_object *o;

			trust_free(&ta);
			unlink(tmp);
			/* The checked bytes, saved like the config file (fsync, rename,
			 * directory fsync). */
			if (file_write_atomic(path, rq->body, rq->len, 0644, err,
			    sizeof(err)) == -1)
				return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
			audit_log(as->audit, time(NULL), rq->source, c->name, "anchors",
			    "%s replaced: %zu trust anchors", path, n);
			if (post_cmd(as, ADMIN_CMD_RELOAD, NULL, rq->source) == -1)
				log_warnx("admin: reload not queued after the anchors upload");
			o = json_object_new_object();
			json_object_object_add(o, "ok", json_object_new_boolean(1));
			json_object_object_add(o, "anchors", json_object_new_int64((int64_t)n));
			return send_json(conn, MHD_HTTP_OK, o, NULL);
		}
	}
	unlink(tmp);
	audit_log(as->audit, time(NULL), rq->source, c->name, "anchors_rejected", "%s", err);
	return send_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, err);
}

static int
save_tokens(struct admin_server *as, char *err, size_t errlen)
{
	char buf[TOKENS_FILE_MAX], path[CFG_PATH_MAX + 16];
	int n = auth_api_tokens_format(&as->tokens, buf, sizeof(buf));

	if (n < 0) {
		snprintf(err, errlen, "tokens do not fit");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/tokens", as->state_dir);
	return file_write_atomic(path, buf, (size_t)n, 0600, err, errlen);
}

static enum MHD_Result
get_tokens(struct admin_server *as, struct MHD_Connection *conn)
{
	json_object *arr = json_object_new_array(), *o = json_object_new_object();

	pthread_mutex_lock(&as->mu);
	for (size_t i = 0; i < as->tokens.n; i++) {
		json_object *t = json_object_new_object();

		json_object_object_add(t, "id", json_object_new_string(as->tokens.t[i].id));
		json_object_object_add(t, "name", json_object_new_string(as->tokens.t[i].name));
		json_object_object_add(t, "created",
		    json_object_new_int64(as->tokens.t[i].created));
		json_object_array_add(arr, t);
	}
	pthread_mutex_unlock(&as->mu);
	json_object_object_add(o, "tokens", arr);
	return send_json(conn, MHD_HTTP_OK, o, NULL);
}

static enum MHD_Result
post_token(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = body_json(conn, rq), *o;
	const char *name = jstr(body, "name"), *why = "expected {\"name\": s}";
	char secret[AUTH_API_TOKEN_BUF], err[256], id[AUTH_TOKEN_ID_BUF];
	int i = -1;

	pthread_mutex_lock(&as->mu);
	if (name != NULL)
		i = auth_api_token_create(&as->tokens, name, time(NULL), secret, &why);
	if (i >= 0 && save_tokens(as, err, sizeof(err)) == -1) {
		auth_api_token_delete(&as->tokens, as->tokens.t[i].id);
		pthread_mutex_unlock(&as->mu);
		json_object_put(body);
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	}
	if (i >= 0)
		memcpy(id, as->tokens.t[i].id, sizeof(id));
	pthread_mutex_unlock(&as->mu);
	if (i < 0) {
		json_object_put(body);
		return send_error(conn, MHD_HTTP_UNPROCESSABLE_CONTENT, why);
	}
	audit_log(as->audit, time(NULL), rq->source, c->name, "token_created",
	    "token %s \"%s\"", id, name);
	json_object_put(body);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "token", json_object_new_string(secret));
	explicit_bzero(secret, sizeof(secret));
	return send_json(conn, MHD_HTTP_CREATED, o, NULL);
}

static enum MHD_Result
delete_token(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c, const char *id)
{
	char err[256];
	int rc;

	pthread_mutex_lock(&as->mu);
	rc = auth_api_token_delete(&as->tokens, id);
	if (rc == 0 && save_tokens(as, err, sizeof(err)) == -1) {
		pthread_mutex_unlock(&as->mu);
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	}
	pthread_mutex_unlock(&as->mu);
	if (rc == -1)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "no such token");
	audit_log(as->audit, time(NULL), rq->source, c->name, "token_deleted", "token %.8s",
	    id);
	return send_ok(conn, MHD_HTTP_OK);
}

static enum MHD_Result
post_check(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = body_json(conn, rq);
	const char *r = jstr(body, "reader");
	char name[READER_NAME_MAX] = "", want[READER_NAME_MAX] = "";
	const char *reader = NULL;
	int found = 0, present = 0, with_card = 0;

	if (r != NULL) {
		if (strlen(r) >= sizeof(want)) {
			json_object_put(body);
			return send_error(conn, MHD_HTTP_NOT_FOUND, "no such reader");
		}
		memcpy(want, r, strlen(r) + 1);
		reader = want;
	}
	json_object_put(body);	/* reader points into want from here on */

	pthread_mutex_lock(&as->mu);
	for (size_t i = 0; as->snap != NULL && i < as->snap->n; i++) {
		if (as->snap->r[i].card_present && (reader == NULL || reader[0] == '\0')) {
			with_card++;
			snprintf(name, sizeof(name), "%s", as->snap->r[i].name);
		}
		if (reader != NULL && strcmp(reader, as->snap->r[i].name) == 0) {
			found = 1;
			present = as->snap->r[i].card_present;
			snprintf(name, sizeof(name), "%s", reader);
		}
	}
	pthread_mutex_unlock(&as->mu);
	if (reader == NULL || reader[0] == '\0') {
		if (with_card != 1)
			return send_error(conn, MHD_HTTP_CONFLICT, "name the reader");
		found = present = 1;
	}
	if (!found)
		return send_error(conn, MHD_HTTP_NOT_FOUND, "no such reader");
	if (!present)
		return send_error(conn, MHD_HTTP_CONFLICT, "no card in this reader");
	if (post_cmd(as, ADMIN_CMD_CHECK, name, rq->source) == -1)
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy, try again");
	audit_log(as->audit, time(NULL), rq->source, c->name, "check", "manual check on "
	    "\"%s\"", name);
	return send_ok(conn, MHD_HTTP_ACCEPTED);
}

static enum MHD_Result
get_status(struct admin_server *as, struct MHD_Connection *conn)
{
	char path[CFG_PATH_MAX], err[512];
	json_object *root, *anchors, *pre, *p;
	size_t n;

	pthread_mutex_lock(&as->mu);
	if (as->snap == NULL) {
		pthread_mutex_unlock(&as->mu);
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	root = json_tokener_parse(as->snap->status_json);
	snprintf(path, sizeof(path), "%s", as->snap->cfg.cms_anchors);
	pthread_mutex_unlock(&as->mu);
	if (root == NULL)
		return send_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
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
	return send_json(conn, MHD_HTTP_OK, root, NULL);
}

static enum MHD_Result
get_info(struct admin_server *as, struct MHD_Connection *conn, const struct caller *c)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "setup_needed",
	    json_object_new_boolean(admin_setup_code() != NULL));
	json_object_object_add(o, "fingerprint", json_object_new_string(as->tls.fingerprint));
	json_object_object_add(o, "logged_in", json_object_new_boolean(c->who == WHO_SESSION));
	if (c->who == WHO_SESSION)
		json_object_object_add(o, "csrf", json_object_new_string(c->csrf));
	return send_json(conn, MHD_HTTP_OK, o, NULL);
}

static enum MHD_Result
get_metrics(struct admin_server *as, struct MHD_Connection *conn)
{
	enum MHD_Result ret;

	pthread_mutex_lock(&as->mu);
	if (as->snap == NULL) {
		pthread_mutex_unlock(&as->mu);
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	ret = send_buf(conn, MHD_HTTP_OK, "text/plain; version=0.0.4; charset=utf-8",
	    as->snap->metrics, strlen(as->snap->metrics), NULL);
	pthread_mutex_unlock(&as->mu);
	return ret;
}

static enum MHD_Result
get_audit(struct admin_server *as, struct MHD_Connection *conn)
{
	char *buf = malloc(AUDIT_TAIL);
	size_t n;
	enum MHD_Result ret;

	if (buf == NULL)
		return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "out of memory");
	n = audit_tail(as->audit, buf, AUDIT_TAIL);
	ret = send_buf(conn, MHD_HTTP_OK, "text/plain; charset=utf-8", buf, n, NULL);
	free(buf);
	return ret;
}

/* ---- routing ---------------------------------------------------------------------- */

static enum MHD_Result
route(struct admin_server *as, struct MHD_Connection *conn, const char *url,
    const char *method, struct req *rq)
{
	int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
	int post = strcmp(method, "POST") == 0, del = strcmp(method, "DELETE") == 0;
	const char *origin, *host;
	struct caller c;

	if (rq->too_big)
		return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE, "request body too large");
	if (!get && !post && !del)
		return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
	if (strncmp(url, "/api/", 5) != 0 && strcmp(url, "/metrics") != 0) {
		if (!get)
			return send_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed");
		return serve_asset(conn, url);
	}
	/* A change from a page of another origin is refused even before CSRF. */
	origin = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Origin");
	host = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Host");
	if (!get && origin != NULL && (host == NULL || strncmp(origin, "https://", 8) != 0 ||
	    strcmp(origin + 8, host) != 0))
		return send_error(conn, MHD_HTTP_FORBIDDEN, "cross-origin request refused");
	identify(as, conn, &c);

	/* Open to anyone: what the login page needs. */
	if (get && strcmp(url, "/api/v1/admin/info") == 0)
		return get_info(as, conn, &c);
	if (post && strcmp(url, "/api/v1/admin/login") == 0)
		return post_login(as, conn, rq, 0);
	if (post && strcmp(url, "/api/v1/admin/setup") == 0)
		return post_login(as, conn, rq, 1);

	if (c.who == WHO_NONE)
		return send_error(conn, MHD_HTTP_UNAUTHORIZED, "log in first");
	if (!get && !csrf_ok(conn, &c)) {
		audit_log(as->audit, time(NULL), rq->source, c.name, "csrf_refused", "%s %s",
		    method, url);
		return send_error(conn, MHD_HTTP_FORBIDDEN, "missing or wrong CSRF token");
	}

	/* Sessions and tokens. */
	if (get && strcmp(url, "/metrics") == 0)
		return get_metrics(as, conn);
	if (get && strcmp(url, "/api/v1/admin/status") == 0)
		return get_status(as, conn);
	if (get && strcmp(url, "/api/v1/admin/settings") == 0)
		return get_settings(as, conn);
	if (post && strcmp(url, "/api/v1/admin/settings") == 0)
		return post_settings(as, conn, rq, &c);
	if (get && strcmp(url, "/api/v1/admin/anchors") == 0)
		return get_anchors(as, conn);
	if (post && strcmp(url, "/api/v1/admin/anchors") == 0)
		return post_anchors(as, conn, rq, &c);
	if (post && strcmp(url, "/api/v1/admin/check") == 0)
		return post_check(as, conn, rq, &c);
	if (post && strcmp(url, "/api/v1/admin/reconnect") == 0) {
		if (post_cmd(as, ADMIN_CMD_RECONNECT, NULL, rq->source) == -1)
			return send_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE, "busy, try again");
		audit_log(as->audit, time(NULL), rq->source, c.name, "reconnect",
		    "reconnect to pcscd");
		return send_ok(conn, MHD_HTTP_ACCEPTED);
	}

	/* Sessions only: credentials and the audit trail. */
	if (c.who != WHO_SESSION)
		return send_error(conn, MHD_HTTP_FORBIDDEN, "API tokens cannot do this");
	if (post && strcmp(url, "/api/v1/admin/logout") == 0) {
		char cookie[160];

		pthread_mutex_lock(&as->mu);
		auth_session_end(&as->sessions, c.token);
		pthread_mutex_unlock(&as->mu);
		audit_log(as->audit, time(NULL), rq->source, c.name, "logout", "logged out");
		session_cookie(cookie, sizeof(cookie), NULL);
		json_object *o = json_object_new_object();

		json_object_object_add(o, "ok", json_object_new_boolean(1));
		return send_json(conn, MHD_HTTP_OK, o, cookie);
	}
	if (post && strcmp(url, "/api/v1/admin/password") == 0)
		return post_password(as, conn, rq, &c);
	if (get && strcmp(url, "/api/v1/admin/audit") == 0)
		return get_audit(as, conn);
	if (get && strcmp(url, "/api/v1/admin/tokens") == 0)
		return get_tokens(as, conn);
	if (post && strcmp(url, "/api/v1/admin/tokens") == 0)
		return post_token(as, conn, rq, &c);
	if (del && strncmp(url, "/api/v1/admin/tokens/", 21) == 0)
		return delete_token(as, conn, rq, &c, url + 21);
	return send_error(conn, MHD_HTTP_NOT_FOUND, "no such endpoint");
}

static enum MHD_Result
handler(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload_data, size_t *upload_data_size,
    void **con_cls)
{
	struct admin_server *as = cls;
	struct req *rq = *con_cls;
	enum MHD_Result ret;

	(void)version;
	if (rq == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
		    "Content-Length");

		if ((rq = calloc(1, sizeof(*rq))) == NULL)
			return MHD_NO;
		peer_source(conn, rq);
		*con_cls = rq;
		if (cl != NULL && strtoull(cl, NULL, 10) > CONFIG_ADMIN_MAX_BODY_BYTES) {
			/* Answered before the body is read; MHD then closes the
			 * connection instead of reading what was announced. */
			rq->too_big = 1;
			wd_arm(as, wd_of(conn), 0);
			return send_error(conn, MHD_HTTP_CONTENT_TOO_LARGE,
			    "request body too large");
		}
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		size_t n = *upload_data_size;

		if (!rq->too_big && rq->len + n > CONFIG_ADMIN_MAX_BODY_BYTES)
			rq->too_big = 1;
		if (!rq->too_big) {
			if (rq->len + n + 1 > rq->cap) {
				size_t ncap = rq->cap ? rq->cap : 4096;
				char *nb;

				while (ncap < rq->len + n + 1)
					ncap *= 2;
				if ((nb = malloc(ncap)) == NULL)
					return MHD_NO;
				if (rq->body != NULL) {
					memcpy(nb, rq->body, rq->len);
					explicit_bzero(rq->body, rq->cap);	/* passwords */
					free(rq->body);
				}
				rq->body = nb;
				rq->cap = ncap;
			}
			memcpy(rq->body + rq->len, upload_data, n);
			rq->len += n;
			rq->body[rq->len] = '\0';
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (rq->body != NULL && memchr(rq->body, '\0', rq->len) != NULL)
		return send_error(conn, MHD_HTTP_BAD_REQUEST, "NUL byte in the body");
	wd_arm(as, wd_of(conn), 0);	/* the request is in: the response is MHD's */
	ret = route(as, conn, url, method, rq);
	return ret;
}

static void
completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct admin_server *as = cls;
	struct req *rq = *con_cls;

	(void)toe;
	if (rq != NULL) {
		if (rq->body != NULL) {
			explicit_bzero(rq->body, rq->cap);
			free(rq->body);
		}
		free(rq);
	}
	*con_cls = NULL;
	/* Kept alive: the next request has the same deadline from now. */
	wd_arm(as, wd_of(conn), 1);
}

static void
mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("admin: %s", msg);
}

/* ---- start, publish, stop ---------------------------------------------------------- */

static int
load_tokens(struct admin_server *as, char *err, size_t errlen)
{
	char path[CFG_PATH_MAX + 16], *text = NULL;

	snprintf(path, sizeof(path), "%s/tokens", as->state_dir);
	if (access(path, F_OK) == -1)
		return 0;
	if ((text = file_read_text(path, TOKENS_FILE_MAX, err, errlen)) == NULL)
		return -1;
	if (auth_api_tokens_parse(text, &as->tokens) == -1) {
		snprintf(err, errlen, "%s: malformed (no API token will work until it is "
		    "fixed or removed)", path);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

/* see admin.h */
struct admin_server *
admin_start(const struct cfg *cfg, const char *cfg_path, admin_cmd_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct admin_server *as;
	struct sockaddr_storage ss;
	char e2[1024];
	int port, ipv6;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TLS |
	    MHD_USE_ERROR_LOG;

	err[0] = '\0';
	if (cfg->admin_listen[0] == '\0')
		return NULL;
	if ((port = web_listen_addr(cfg->admin_listen, &ss, &ipv6)) == -1) {
		snprintf(err, errlen, "admin.listen %s: expected IP:PORT", cfg->admin_listen);
		return NULL;
	}
	if (ipv6)
		flags |= MHD_USE_IPv6;
	if (mkdir(cfg->admin_state_dir, 0700) == -1 && errno != EEXIST) {
		snprintf(err, errlen, "admin.state_dir %s: %s", cfg->admin_state_dir,
		    strerror(errno));
		return NULL;
	}
	if ((as = calloc(1, sizeof(*as))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	snprintf(as->cfg_path, sizeof(as->cfg_path), "%s", cfg_path);
	snprintf(as->state_dir, sizeof(as->state_dir), "%s", cfg->admin_state_dir);
	snprintf(as->password_hash, sizeof(as->password_hash), "%s", cfg->admin_password_hash);
	as->cb = cb;
	as->arg = arg;
	auth_sessions_init(&as->sessions, CONFIG_ADMIN_SESSION_IDLE_S, CONFIG_ADMIN_SESSION_MAX_S);
	auth_lockout_init(&as->lockout, CONFIG_ADMIN_LOCKOUT_FAILURES, CONFIG_ADMIN_LOCKOUT_BASE_S,
	    CONFIG_ADMIN_LOCKOUT_MAX_S);
	if (admin_tls_load(cfg, &as->tls, err, errlen) == -1) {
		free(as);
		return NULL;
	}
	if (load_tokens(as, e2, sizeof(e2)) == -1)
		log_warnx("admin: %s", e2);
	if ((as->audit = audit_open(as->state_dir, (size_t)CONFIG_ADMIN_AUDIT_MAX_KB * 1024,
	    CONFIG_ADMIN_AUDIT_KEEP, err, errlen)) == NULL) {
		admin_tls_free(&as->tls);
		free(as);
		return NULL;
	}
	pthread_mutex_init(&as->mu, NULL);
	pthread_mutex_init(&as->wd_mu, NULL);
	clock_cond_init(&as->wd_cv);
	if ((errno = pthread_create(&as->wd_thread, NULL, watchdog, as)) != 0) {
		snprintf(err, errlen, "cannot start the admin watchdog: %s", strerror(errno));
		goto fail;
	}
	as->d = MHD_start_daemon(flags, (uint16_t)port, NULL, NULL, handler, as,
	    MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_HTTPS_MEM_CERT, as->tls.cert_pem,
	    MHD_OPTION_HTTPS_MEM_KEY, as->tls.key_pem,
	    MHD_OPTION_HTTPS_PRIORITIES, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2",
	    MHD_OPTION_NOTIFY_COMPLETED, completed, as,
	    MHD_OPTION_NOTIFY_CONNECTION, notify_connection, as,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONFIG_ADMIN_MAX_CONNECTIONS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONFIG_ADMIN_MAX_CONNECTIONS_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONFIG_ADMIN_REQUEST_DEADLINE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_END);
	if (as->d == NULL) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?)",
		    cfg->admin_listen);
		pthread_mutex_lock(&as->wd_mu);
		as->wd_stop = 1;
		pthread_cond_signal(&as->wd_cv);
		pthread_mutex_unlock(&as->wd_mu);
		pthread_join(as->wd_thread, NULL);
		goto fail;
	}
	snprintf(g_fingerprint, sizeof(g_fingerprint), "%s", as->tls.fingerprint);
	atomic_store(&g_fpr_live, 1);
	log_info("admin: listening on https://%s/ (%s certificate SHA-256 %s)",
	    cfg->admin_listen, as->tls.self_signed ? "self-signed" : "configured",
	    as->tls.fingerprint);
	if (as->password_hash[0] == '\0' && atomic_load(&g_setup_live) == 0) {
		if (auth_setup_code(g_setup_code) == -1) {
			snprintf(err, errlen, "cannot make a setup code: no randomness");
			admin_stop(as);
			return NULL;
		}
		atomic_store(&g_setup_live, 1);
	}
	if (as->password_hash[0] == '\0')
		log_warnx("admin: no admin password is set: open https://%s/ and enter the "
		    "setup code %s (also shown on the kiosk screen)", cfg->admin_listen,
		    g_setup_code);
	return as;
fail:
	audit_close(as->audit);
	admin_tls_free(&as->tls);
	pthread_mutex_destroy(&as->mu);
	pthread_mutex_destroy(&as->wd_mu);
	pthread_cond_destroy(&as->wd_cv);
	free(as);
	return NULL;
}

/* see admin.h */
void
admin_publish(struct admin_server *as, struct admin_snapshot *snap)
{
	struct admin_snapshot *old;

	if (as == NULL) {
		admin_snapshot_free(snap);
		return;
	}
	pthread_mutex_lock(&as->mu);
	old = as->snap;
	as->snap = snap;
	pthread_mutex_unlock(&as->mu);
	admin_snapshot_free(old);
}

/* see admin.h */
void
admin_reconfigure(struct admin_server *as, const struct cfg *cfg)
{
	if (as == NULL)
		return;
	pthread_mutex_lock(&as->mu);
	if (strcmp(as->password_hash, cfg->admin_password_hash) != 0) {
		snprintf(as->password_hash, sizeof(as->password_hash), "%s",
		    cfg->admin_password_hash);
		if (cfg->admin_password_hash[0] != '\0')
			atomic_store(&g_setup_live, 0);
	}
	pthread_mutex_unlock(&as->mu);
}

/* see admin.h */
void
admin_audit_device(struct admin_server *as, const char *action, const char *fmt, ...)
{
	char detail[AUDIT_LINE_MAX / 2];
	va_list ap;

	if (as == NULL || as->audit == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	audit_log(as->audit, time(NULL), "device", "cardupd", action, "%s", detail);
}

/* see admin.h */
void
admin_stop(struct admin_server *as)
{
	if (as == NULL)
		return;
	MHD_stop_daemon(as->d);
	pthread_mutex_lock(&as->wd_mu);
	as->wd_stop = 1;
	pthread_cond_signal(&as->wd_cv);
	pthread_mutex_unlock(&as->wd_mu);
	pthread_join(as->wd_thread, NULL);
	atomic_store(&g_fpr_live, 0);
	auth_sessions_clear(&as->sessions);
	explicit_bzero(as->password_hash, sizeof(as->password_hash));
	admin_snapshot_free(as->snap);
	audit_close(as->audit);
	admin_tls_free(&as->tls);
	pthread_mutex_destroy(&as->mu);
	pthread_mutex_destroy(&as->wd_mu);
	pthread_cond_destroy(&as->wd_cv);
	free(as);
}
