/* SPDX-License-Identifier: BSD-2-Clause */
/* admin.c — see admin.h: starting and stopping the listener (the TLS terminator on
 * BearSSL, tls_term.c, in front of one plain-HTTP libmicrohttpd daemon with its own
 * polling thread and no listen socket, plus the watchdog), the snapshot the main loop
 * publishes, configuration reloads, and the setup code and fingerprint the kiosk shows.
 * The pages' handlers are in the other files of web/admin (server.h). */
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#include <microhttpd.h>

#include "base/log.h"
#include "web/listen.h"
#include "web/admin/server.h"
#include "web/admin/tls_term.h"

/* Two buffers: a new code is made in the one not shown, then published by g_setup_live
 * (0: none, 1 or 2: which buffer), so that the kiosk thread never reads a half-made
 * code. */
static char		g_setup_code[2][AUTH_CODE_BUF];
static atomic_int	g_setup_live;
static char		g_fingerprint[ADMIN_FPR_MAX];
static atomic_int	g_fpr_live;

/* see server.h */
void
adm_setup_code_end(void)
{
	atomic_store(&g_setup_live, 0);
}

/* Makes a new setup code and shows it. Returns 0, or -1 without randomness. */
static int
new_setup_code(void)
{
	int next = atomic_load(&g_setup_live) == 1 ? 2 : 1;

	if (auth_setup_code(g_setup_code[next - 1]) == -1)
		return -1;
	atomic_store(&g_setup_live, next);
	return 0;
}

/* see admin.h */
const char *
admin_setup_code(void)
{
	int live = atomic_load(&g_setup_live);

	return live ? g_setup_code[live - 1] : NULL;
}

/* see admin.h */
const char *
admin_fingerprint(void)
{
	return atomic_load(&g_fpr_live) ? g_fingerprint : NULL;
}

/* The absolute, symlink-free directory of the configuration file: path settings
 * must stay inside it. */
static int
conf_dir_of(const char *cfg_path, char *out, size_t cap)
{
	char tmp[CFG_PATH_MAX], *real;

	snprintf(tmp, sizeof(tmp), "%s", cfg_path);
	if ((real = realpath(dirname(tmp), NULL)) == NULL)
		return -1;
	if (snprintf(out, cap, "%s", real) >= (int)cap) {
		free(real);
		return -1;
	}
	free(real);
	return 0;
}

/* Frees what admin_start made, once the listener and the watchdog are stopped (or were
 * never started): the audit log, the TLS credentials, the locks, the struct. */
static void
release(struct admin_server *as)
{
	audit_close(as->audit);
	admin_tls_free(&as->tls);
	pthread_mutex_destroy(&as->mu);
	pthread_mutex_destroy(&as->io_mu);
	pthread_mutex_destroy(&as->wd_mu);
	pthread_cond_destroy(&as->wd_cv);
	free(as);
}

/* see admin.h */
struct admin_server *
admin_start(const struct cfg *cfg, const char *cfg_path, admin_cmd_cb cb, void *arg,
    char *err, size_t errlen)
{
	struct admin_server *as;
	struct sockaddr_storage ss;
	char e2[1024];
	int ipv6;
	/* no listen socket: the terminator accepts, and hands MHD the plaintext end of a
	 * socketpair from its own thread (MHD_add_connection needs MHD_USE_ITC) */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL |
	    MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC | MHD_USE_ERROR_LOG;

	err[0] = '\0';
	if (cfg->admin_listen[0] == '\0')
		return NULL;
	if (web_listen_addr(cfg->admin_listen, &ss, &ipv6) == -1) {
		snprintf(err, errlen, "admin.listen %s: expected IP:PORT", cfg->admin_listen);
		return NULL;
	}
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
	if (conf_dir_of(cfg_path, as->conf_dir, sizeof(as->conf_dir)) == -1 ||
	    snprintf(as->anchors_path, sizeof(as->anchors_path), "%s/%s", as->conf_dir,
	    ADMIN_ANCHORS_FILE) >= (int)sizeof(as->anchors_path)) {
		snprintf(err, errlen, "%s: cannot resolve its directory", cfg_path);
		free(as);
		return NULL;
	}
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
	if (adm_load_tokens(as, e2, sizeof(e2)) == -1)
		log_warnx("admin: %s", e2);
	if ((as->audit = audit_open(as->state_dir, (size_t)CONFIG_ADMIN_AUDIT_MAX_KB * 1024,
	    CONFIG_ADMIN_AUDIT_KEEP, err, errlen)) == NULL) {
		admin_tls_free(&as->tls);
		free(as);
		return NULL;
	}
	pthread_mutex_init(&as->mu, NULL);
	pthread_mutex_init(&as->io_mu, NULL);
	pthread_mutex_init(&as->wd_mu, NULL);
	clock_cond_init(&as->wd_cv);
	if ((errno = adm_wd_start(as)) != 0) {
		snprintf(err, errlen, "cannot start the admin watchdog: %s", strerror(errno));
		goto fail;
	}
	if ((as->term = tls_term_open((struct sockaddr *)&ss, ipv6 ?
	    sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in), as->tls.cert_pem,
	    as->tls.key_pem, ADMIN_WD_SLOTS, CONFIG_ADMIN_REQUEST_DEADLINE_S * 1000L, e2,
	    sizeof(e2))) == NULL) {
		snprintf(err, errlen, "cannot listen on %s (in use, or not a local address?): "
		    "%s", cfg->admin_listen, e2);
		adm_wd_stop(as);
		goto fail;
	}
	as->d = MHD_start_daemon(flags, 0, NULL, NULL, adm_handler, as,
	    /* the logger only reads the site */
	    MHD_OPTION_EXTERNAL_LOGGER, web_mhd_log, (void *)(uintptr_t)&admin_site,
	    MHD_OPTION_NOTIFY_COMPLETED, adm_completed, as,
	    MHD_OPTION_NOTIFY_CONNECTION, adm_notify_connection, as,
	    /* the watchdog closes idle ones long before (make_room in watchdog.c) */
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)ADMIN_WD_SLOTS,
	    MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONFIG_ADMIN_MAX_CONNECTIONS_PER_IP,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONFIG_ADMIN_REQUEST_DEADLINE_S,
	    MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(32 * 1024),
	    MHD_OPTION_END);
	if (as->d == NULL) {
		snprintf(err, errlen, "cannot start the admin HTTP server");
		tls_term_close(as->term);
		adm_wd_stop(as);
		goto fail;
	}
	if ((errno = tls_term_start(as->term, as->d)) != 0) {
		snprintf(err, errlen, "cannot start the admin TLS thread: %s", strerror(errno));
		tls_term_close(as->term);
		MHD_stop_daemon(as->d);
		adm_wd_stop(as);
		goto fail;
	}
	snprintf(g_fingerprint, sizeof(g_fingerprint), "%s", as->tls.fingerprint);
	atomic_store(&g_fpr_live, 1);
	log_info("admin: listening on https://%s/ (%s certificate SHA-256 %s)",
	    cfg->admin_listen, as->tls.self_signed ? "self-signed" : "configured",
	    as->tls.fingerprint);
	if (as->password_hash[0] == '\0' && atomic_load(&g_setup_live) == 0) {
		if (new_setup_code() == -1) {
			snprintf(err, errlen, "cannot make a setup code: no randomness");
			admin_stop(as);
			return NULL;
		}
	}
	if (as->password_hash[0] == '\0')
		log_warnx("admin: no admin password is set: open https://%s/ and enter the "
		    "setup code %s (also shown on the kiosk screen)", cfg->admin_listen,
		    admin_setup_code());
	return as;
fail:
	release(as);
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
	int changed = 0;

	if (as == NULL)
		return;
	pthread_mutex_lock(&as->mu);
	if (strcmp(as->password_hash, cfg->admin_password_hash) != 0) {
		snprintf(as->password_hash, sizeof(as->password_hash), "%s",
		    cfg->admin_password_hash);
		/* A password reset in the file: whoever logged in with the old one is out. */
		auth_sessions_clear(&as->sessions);
		changed = 1;
	}
	pthread_mutex_unlock(&as->mu);
	if (!changed)
		return;
	if (cfg->admin_password_hash[0] != '\0') {
		atomic_store(&g_setup_live, 0);
		log_info("admin: the password hash changed: every session ended");
	} else if (new_setup_code() == -1)
		log_warnx("admin: the password hash was removed, and no setup code can be "
		    "made (no randomness): nobody can log in until one is set in the file");
	else
		log_warnx("admin: the password hash was removed: every session ended; open "
		    "https://%s/ and enter the new setup code %s (also shown on the kiosk "
		    "screen)", cfg->admin_listen, admin_setup_code());
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
	adm_wd_post_audit(as, time(NULL), action, detail);
}

/* see admin.h */
void
admin_stop(struct admin_server *as)
{
	if (as == NULL)
		return;
	tls_term_close(as->term);	/* first: MHD then sees every connection end */
	MHD_stop_daemon(as->d);
	adm_wd_stop(as);
	atomic_store(&g_fpr_live, 0);
	auth_sessions_clear(&as->sessions);
	explicit_bzero(as->password_hash, sizeof(as->password_hash));
	admin_snapshot_free(as->snap);
	release(as);
}
