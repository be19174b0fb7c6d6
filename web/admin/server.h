/* SPDX-License-Identifier: BSD-2-Clause */
/* server.h — inside the admin listener (not for other rooms): the server's state, the
 * per-request state, and the functions the admin files share. admin.c starts and stops
 * the server; route.c is MHD's handler and calls the pages' handlers (access.c, body.c,
 * edit.c, login.c, anchors.c, tokens.c, status.c); watchdog.c cuts slow requests.
 *
 * Locks: mu guards the admin state (snapshot, password hash, sessions, lock-out, API
 * tokens) and is the only one the main loop takes (admin_publish, admin_reconfigure):
 * it is never held across file I/O, password hashing or a callback. io_mu serialises
 * the writers of files (configuration, tokens, anchors); wd_mu guards the watchdog's
 * table. Every handler runs on MHD's polling thread. */
#ifndef CARDUPD_ADMIN_SERVER_H
#define CARDUPD_ADMIN_SERVER_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <microhttpd.h>

#include "autoconf.h"
#include "base/clock.h"
#include "core/config.h"
#include "web/admin/admin.h"
#include "web/admin/admin_tls.h"
#include "web/admin/audit.h"
#include "web/admin/auth.h"
#include "web/admin/body.h"
#include "web/admin/settings.h"
#include "web/mhd.h"

struct json_object;

#define ADMIN_COOKIE		"__Host-cardupd"
#define ADMIN_CFG_FILE_MAX	(64 * 1024)
#define ADMIN_TOKENS_FILE_MAX	(16 * 1024)
/* MHD admits up to ADMIN_WD_SLOTS connections; the watchdog keeps at most
 * CONFIG_ADMIN_MAX_CONNECTIONS - ADMIN_WD_SPARE waiting for a request (watchdog.c). */
#define ADMIN_WD_SLOTS		(CONFIG_ADMIN_MAX_CONNECTIONS + 4)
#define ADMIN_WD_SPARE		2
#define ADMIN_ANCHORS_FILE	"cms-ca.pem"	/* in the configuration directory */

/* The admin pages' CSP, assets and log prefix (route.c). */
extern const struct web_site admin_site;

/* A record of the device itself, queued by the main loop for the watchdog thread to
 * write (the main loop never waits for the disk). */
#define ADMIN_DEV_QUEUE		8
struct dev_record {
	time_t	when;
	char	action[32];
	char	detail[AUDIT_LINE_MAX / 2];
};

/* A connection as the watchdog sees it. */
struct wd_slot {
	int		used;
	int		fd;
	int64_t		deadline;	/* monotonic ms; 0: not running a request */
	int		cut;		/* shut down by us, waiting for MHD to close it */
};

struct tls_term;

struct admin_server {
	struct MHD_Daemon	*d;		/* plain HTTP, no listen socket */
	struct tls_term		*term;		/* TLS: listens, feeds d (tls_term.c) */
	pthread_mutex_t		 mu;		/* the state below, up to cfg_path */
	pthread_mutex_t		 io_mu;		/* file writers */
	struct admin_snapshot	*snap;
	char			 password_hash[AUTH_HASH_MAX];
	struct auth_sessions	 sessions;
	struct auth_lockout	 lockout;
	struct auth_api_tokens	 tokens;
	struct audit		*audit;
	struct admin_tls	 tls;
	char			 cfg_path[CFG_PATH_MAX];
	char			 conf_dir[CFG_PATH_MAX];	/* where path settings may point */
	char			 anchors_path[CFG_PATH_MAX];	/* conf_dir/cms-ca.pem: uploads */
	char			 state_dir[CFG_PATH_MAX];
	admin_cmd_cb		 cb;
	void			*arg;

	pthread_t		 wd_thread;
	pthread_mutex_t		 wd_mu;
	pthread_cond_t		 wd_cv;
	struct wd_slot		 wd[ADMIN_WD_SLOTS];
	int			 wd_stop;
	struct dev_record	 dev[ADMIN_DEV_QUEUE];	/* under wd_mu */
	size_t			 dev_head, dev_n;
	unsigned long		 dev_dropped;
};

/* Per-request state, allocated on the first call. */
struct req {
	char		source[AUTH_SOURCE_MAX];	/* peer address */
	char		lock_source[AUTH_SOURCE_MAX];	/* the same, IPv6 cut to /64 */
	struct web_body	body;
};

enum who { WHO_NONE, WHO_SESSION, WHO_TOKEN };

/* Who is calling (access.c). */
struct caller {
	enum who	who;
	char		name[64];	/* "admin" or "token:<id>" for the audit log */
	char		csrf[AUTH_TOKEN_BUF];
	char		token[AUTH_TOKEN_BUF];
};

/* Monotonic seconds: the clock of sessions and the lock-out. */
static inline int64_t
adm_now_s(void)
{
	return clock_mono_ms() / 1000;
}

/* admin.c */
/* Ends the setup code (a password is set now). Any thread. */
void adm_setup_code_end(void);

/* watchdog.c (also the writer of the device's audit records) */
/* Queues a device record for the watchdog thread to write: takes wd_mu only for a
 * copy, never waits for the disk. Full queue: counted, and the count written later. */
void adm_wd_post_audit(struct admin_server *as, time_t when, const char *action,
    const char *detail);
/* Starts the watchdog thread. Returns 0, or an errno value. */
int adm_wd_start(struct admin_server *as);
/* Stops and joins it. */
void adm_wd_stop(struct admin_server *as);
/* MHD_OPTION_NOTIFY_CONNECTION: gives each connection a slot (no slot: it is shut). */
void adm_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
    enum MHD_ConnectionNotificationCode toe);
/* The slot of conn, or NULL. */
struct wd_slot *adm_wd_of(struct MHD_Connection *conn);
/* on: a request starts now (the deadline runs); off: the request is in. NULL: nothing. */
void adm_wd_arm(struct admin_server *as, struct wd_slot *w, int on);

/* access.c */
/* Fills rq->source and rq->lock_source from the peer address. */
void adm_peer_source(struct MHD_Connection *conn, struct req *rq);
/* Who is calling: a live session (cookie) or an API token (bearer). Takes as->mu. */
void adm_identify(struct admin_server *as, struct MHD_Connection *conn, struct caller *c);
/* 1 when a change may go on: a bearer token, or a session with its CSRF token in
 * X-CSRF-Token. */
int adm_csrf_ok(struct MHD_Connection *conn, const struct caller *c);
/* The Set-Cookie value for a session token (NULL: one that clears the cookie). */
void adm_session_cookie(char *out, size_t cap, const char *token);
/* Posts a command to the main loop. Returns the callback's answer (0 or -1). */
int adm_post_cmd(struct admin_server *as, enum admin_cmd_type type, const char *reader,
    const char *source);
/* {"ok": true} with status. */
enum MHD_Result adm_send_ok(struct MHD_Connection *conn, unsigned status);

/* body.c */
/* The JSON object of rq's body (admin_parse_body with the request's Content-Type), or
 * NULL. The caller puts it. */
struct json_object *adm_body_json(struct MHD_Connection *conn, const struct req *rq);
/* The string member key of o, or NULL (absent, not a string, o NULL). Points into o. */
const char *adm_jstr(struct json_object *o, const char *key);

/* edit.c */
enum MHD_Result adm_get_settings(struct admin_server *as, struct MHD_Connection *conn,
    const struct caller *c);
enum MHD_Result adm_post_settings(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, const struct caller *c);
/* Rewrites the config file with changes after checking the whole result with the
 * daemon's own parser (and the CMS credentials it names) and posts a reload. Call with
 * io_mu held and mu not held. Returns 0; -1 with field errors in errs (or a general one
 * in *general). */
int adm_apply_changes(struct admin_server *as, const struct settings_change *ch, size_t n,
    const char **fields, struct json_object *errs, struct json_object **general,
    const char *source);

/* login.c */
enum MHD_Result adm_post_login(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, int setup);
enum MHD_Result adm_post_password(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, const struct caller *c);
enum MHD_Result adm_post_logout(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, const struct caller *c);

/* anchors.c */
enum MHD_Result adm_get_anchors(struct admin_server *as, struct MHD_Connection *conn);
enum MHD_Result adm_post_anchors(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, const struct caller *c);

/* tokens.c */
/* Loads state_dir/tokens (absent: none). Returns 0, or -1 with err. */
int adm_load_tokens(struct admin_server *as, char *err, size_t errlen);
enum MHD_Result adm_get_tokens(struct admin_server *as, struct MHD_Connection *conn);
enum MHD_Result adm_post_token(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, const struct caller *c);
enum MHD_Result adm_delete_token(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, const struct caller *c, const char *id);

/* status.c */
enum MHD_Result adm_post_check(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, const struct caller *c);
enum MHD_Result adm_post_reconnect(struct admin_server *as, struct MHD_Connection *conn,
    struct req *rq, const struct caller *c);
enum MHD_Result adm_get_status(struct admin_server *as, struct MHD_Connection *conn);
enum MHD_Result adm_get_info(struct admin_server *as, struct MHD_Connection *conn,
    const struct caller *c);
enum MHD_Result adm_get_metrics(struct admin_server *as, struct MHD_Connection *conn);
enum MHD_Result adm_get_audit(struct admin_server *as, struct MHD_Connection *conn);

/* route.c */
/* MHD's access handler and completion callback; cls is the server. */
enum MHD_Result adm_handler(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data,
    size_t *upload_data_size, void **con_cls);
void adm_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
    enum MHD_RequestTerminationCode toe);

#endif
