/* SPDX-License-Identifier: BSD-2-Clause */
/* login.c — the doors: log in, first-time setup with the setup code, password change
 * and logout, with the lock-out of guessing sources. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "base/log.h"
#include "web/admin/server.h"

/* Sets the admin password: the hash goes into the config file like any setting, and
 * becomes the one the listener checks (the reload that follows finds it unchanged, so
 * it ends no session). Called with io_mu held and mu not held. */
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
	rc = adm_apply_changes(as, &ch, 1, &field, errs, general, source);
	if (rc == 0) {
		pthread_mutex_lock(&as->mu);
		memcpy(as->password_hash, hash, sizeof(hash));
		pthread_mutex_unlock(&as->mu);
		adm_setup_code_end();
	} else if (*general == NULL)
		*general = json_object_new_string(json_object_to_json_string(errs));
	json_object_put(errs);
	explicit_bzero(hash, sizeof(hash));
	return rc;
}

/* When rq's source must still wait (its own lock-out or the global failure budget):
 * the 429 answer, with the first refusal of the lock-out written to the audit log and
 * the next ones only counted. Else 0 with *answered unset. Called with mu held; unlocks
 * it when it answers. */
static enum MHD_Result
refuse_if_locked(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const char *action, int *answered);

/* Starts a session for rq's source and answers with the cookie and CSRF token.
 * Called with as->mu held. */
static enum MHD_Result
start_session(struct admin_server *as, struct MHD_Connection *conn, struct req *rq)
{
	const char *old = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, ADMIN_COOKIE);
	const struct auth_session *s;
	char cookie[160];
	json_object *o;

	/* Whatever cookie came with the login is never the session after it. */
	auth_session_end(&as->sessions, old);
	if ((s = auth_session_new(&as->sessions, rq->source, adm_now_s())) == NULL) {
		pthread_mutex_unlock(&as->mu);
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "no randomness");
	}
	adm_session_cookie(cookie, sizeof(cookie), s->token);
	o = json_object_new_object();
	json_object_object_add(o, "csrf", json_object_new_string(s->csrf));
	pthread_mutex_unlock(&as->mu);
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, cookie);
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
	web_mhd_headers(r, &admin_site);
	ret = MHD_queue_response(conn, MHD_HTTP_TOO_MANY_REQUESTS, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
refuse_if_locked(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const char *action, int *answered)
{
	long wait = auth_lockout_wait(&as->lockout, rq->lock_source, adm_now_s());
	int first;

	*answered = 0;
	if (wait <= 0)
		return MHD_NO;
	first = auth_lockout_refused(&as->lockout, rq->lock_source, adm_now_s());
	pthread_mutex_unlock(&as->mu);
	*answered = 1;
	if (first)
		audit_log_anon(as->audit, time(NULL), rq->source, action, "refused: locked out "
		    "for %ld s more (further attempts meanwhile are counted, not logged)", wait);
	return locked_out(conn, wait);
}

/* " (N attempts refused during the lock-out)" or "", for the record of a failure. */
static void
refused_note(char *out, size_t cap, unsigned refused)
{
	out[0] = '\0';
	if (refused > 1)
		snprintf(out, cap, "; %u attempts refused during the lock-out", refused);
}

/* see server.h: POST /api/v1/admin/login {"password"} and /setup {"code", "password"}. */
enum MHD_Result
adm_post_login(struct admin_server *as, struct MHD_Connection *conn, struct req *rq, int setup)
{
	json_object *body = adm_body_json(conn, rq), *general = NULL;
	const char *pw = adm_jstr(body, "password"), *code = adm_jstr(body, "code"), *why;
	char hash[AUTH_HASH_MAX], note[64];
	enum MHD_Result ret;
	long wait;
	int ok, rc, answered;

	if (pw == NULL || (setup && code == NULL)) {
		admin_body_free(body);
		return web_send_error(conn, &admin_site, MHD_HTTP_BAD_REQUEST, setup ?
		    "expected {\"code\": s, \"password\": s}" : "expected {\"password\": s}");
	}
	pthread_mutex_lock(&as->mu);
	ret = refuse_if_locked(as, conn, rq, setup ? "setup_locked" : "login_locked",
	    &answered);
	if (answered) {
		admin_body_free(body);
		return ret;
	}
	if (setup) {
		const char *sc = admin_setup_code();

		if (sc == NULL) {
			pthread_mutex_unlock(&as->mu);
			admin_body_free(body);
			return web_send_error(conn, &admin_site, MHD_HTTP_CONFLICT,
			    "a password is already set: log in");
		}
		ok = auth_code_equal(code, sc);
	} else {
		memcpy(hash, as->password_hash, sizeof(hash));
		/* yescrypt takes a while: do not hold the lock meanwhile. */
		pthread_mutex_unlock(&as->mu);
		ok = hash[0] != '\0' && auth_verify_password(pw, hash);
		explicit_bzero(hash, sizeof(hash));
		pthread_mutex_lock(&as->mu);
	}
	if (!ok) {
		int nohash = as->password_hash[0] == '\0';

		wait = auth_lockout_fail(&as->lockout, rq->lock_source, adm_now_s());
		refused_note(note, sizeof(note), auth_lockout_take_refused(&as->lockout,
		    rq->lock_source));
		pthread_mutex_unlock(&as->mu);
		admin_body_free(body);
		audit_log_anon(as->audit, time(NULL), rq->source, setup ? "setup_failed" :
		    "login_failed", "%s%s%s", setup ? "wrong setup code" : "wrong password",
		    wait > 0 ? "; source locked out" : "", note);
		return web_send_error(conn, &admin_site, MHD_HTTP_UNAUTHORIZED, setup ?
		    "wrong setup code" : !nohash ? "wrong password" :
		    "no password is set yet: use the setup code");
	}
	if (setup) {
		if (auth_password_acceptable(pw, &why) == -1) {
			pthread_mutex_unlock(&as->mu);
			admin_body_free(body);
			return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT,
			    why);
		}
		pthread_mutex_unlock(&as->mu);
		pthread_mutex_lock(&as->io_mu);
		rc = set_password(as, pw, rq->source, &general);
		pthread_mutex_unlock(&as->io_mu);
		if (rc == -1) {
			admin_body_free(body);
			log_warnx("admin: setting the first password: %s",
			    json_object_get_string(general));
			json_object_put(general);
			return web_send_error(conn, &admin_site, MHD_HTTP_INTERNAL_SERVER_ERROR,
			    "cannot save the password (see the log)");
		}
		pthread_mutex_lock(&as->mu);
	}
	auth_lockout_success(&as->lockout, rq->lock_source);
	pthread_mutex_unlock(&as->mu);
	admin_body_free(body);
	audit_log(as->audit, time(NULL), rq->source, "admin", setup ? "setup" : "login",
	    "%s", setup ? "first password set with the setup code; logged in" : "logged in");
	pthread_mutex_lock(&as->mu);
	return start_session(as, conn, rq);	/* unlocks */
}

/* see server.h */
enum MHD_Result
adm_post_password(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = adm_body_json(conn, rq), *general = NULL;
	const char *cur = adm_jstr(body, "current"), *pw = adm_jstr(body, "new"), *why;
	char hash[AUTH_HASH_MAX], note[64];
	enum MHD_Result ret;
	int ok, rc, answered;
	long wait;

	if (cur == NULL || pw == NULL) {
		admin_body_free(body);
		return web_send_error(conn, &admin_site, MHD_HTTP_BAD_REQUEST,
		    "expected {\"current\": s, \"new\": s}");
	}
	if (auth_password_acceptable(pw, &why) == -1) {
		admin_body_free(body);
		return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT, why);
	}
	/* The current password is guessed like at /login: the same lock-out applies. */
	pthread_mutex_lock(&as->mu);
	ret = refuse_if_locked(as, conn, rq, "password_locked", &answered);
	if (answered) {
		admin_body_free(body);
		return ret;
	}
	memcpy(hash, as->password_hash, sizeof(hash));
	pthread_mutex_unlock(&as->mu);
	ok = hash[0] != '\0' && auth_verify_password(cur, hash);
	explicit_bzero(hash, sizeof(hash));
	if (!ok) {
		pthread_mutex_lock(&as->mu);
		wait = auth_lockout_fail(&as->lockout, rq->lock_source, adm_now_s());
		refused_note(note, sizeof(note), auth_lockout_take_refused(&as->lockout,
		    rq->lock_source));
		pthread_mutex_unlock(&as->mu);
		admin_body_free(body);
		audit_log(as->audit, time(NULL), rq->source, c->name, "password_failed",
		    "wrong current password%s%s", wait > 0 ? "; source locked out" : "", note);
		return web_send_error(conn, &admin_site, MHD_HTTP_FORBIDDEN,
		    "the current password is wrong");
	}
	pthread_mutex_lock(&as->io_mu);
	rc = set_password(as, pw, rq->source, &general);
	pthread_mutex_unlock(&as->io_mu);
	admin_body_free(body);
	if (rc == -1) {
		log_warnx("admin: changing the password: %s", json_object_get_string(general));
		json_object_put(general);
		return web_send_error(conn, &admin_site, MHD_HTTP_INTERNAL_SERVER_ERROR,
		    "cannot save the password (see the log)");
	}
	audit_log(as->audit, time(NULL), rq->source, c->name, "password",
	    "password changed; all sessions ended");
	pthread_mutex_lock(&as->mu);
	auth_lockout_success(&as->lockout, rq->lock_source);
	/* Every other session ends with the old password; this one starts afresh. */
	auth_sessions_clear(&as->sessions);
	return start_session(as, conn, rq);	/* unlocks */
}

/* see server.h */
enum MHD_Result
adm_post_logout(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	char cookie[160];
	json_object *o;

	pthread_mutex_lock(&as->mu);
	auth_session_end(&as->sessions, c->token);
	pthread_mutex_unlock(&as->mu);
	audit_log(as->audit, time(NULL), rq->source, c->name, "logout", "logged out");
	adm_session_cookie(cookie, sizeof(cookie), NULL);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, cookie);
}
