/* SPDX-License-Identifier: BSD-2-Clause */
/* watchdog.c — cuts connections that have not finished their request within
 * CONFIG_ADMIN_REQUEST_DEADLINE_S (MHD's own timeout is an idle timeout, which a client
 * sending one byte at a time never hits), closes idle ones near the connection limit,
 * and writes the audit records the main loop queues (so that the loop never waits for
 * the disk). One thread; it sleeps while no request runs and nothing is queued. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>

#include "base/log.h"
#include "web/admin/server.h"

static void *
watchdog(void *arg)
{
	struct admin_server *as = arg;

	pthread_mutex_lock(&as->wd_mu);
	while (!as->wd_stop || as->dev_n > 0) {
		int64_t now = clock_mono_ms(), next = 0;

		if (as->dev_n > 0) {
			struct dev_record r = as->dev[as->dev_head];
			unsigned long dropped = as->dev_dropped;

			as->dev_head = (as->dev_head + 1) % ADMIN_DEV_QUEUE;
			as->dev_n--;
			as->dev_dropped = 0;
			pthread_mutex_unlock(&as->wd_mu);
			if (dropped > 0)
				audit_log(as->audit, r.when, "device", "cardupd", "not_recorded",
				    "%lu device records dropped (queue full)", dropped);
			audit_log(as->audit, r.when, "device", "cardupd", r.action, "%s",
			    r.detail);
			pthread_mutex_lock(&as->wd_mu);
			continue;
		}
		if (as->wd_stop)
			break;

		for (size_t i = 0; i < ADMIN_WD_SLOTS; i++) {
			struct wd_slot *w = &as->wd[i];

			if (!w->used || w->deadline == 0)
				continue;
			if (w->deadline <= now) {
				/* MHD notices the closed socket and frees the connection;
				 * the fd stays MHD's until its CLOSED notification, which
				 * takes wd_mu: it cannot be reused under us. */
				shutdown(w->fd, SHUT_RDWR);
				w->cut = 1;
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

/* see server.h */
void
adm_wd_arm(struct admin_server *as, struct wd_slot *w, int on)
{
	if (w == NULL)
		return;
	pthread_mutex_lock(&as->wd_mu);
	if (w->used && !w->cut) {
		w->deadline = on ? clock_mono_ms() + CONFIG_ADMIN_REQUEST_DEADLINE_S * 1000L : 0;
		if (on)
			pthread_cond_signal(&as->wd_cv);
	}
	pthread_mutex_unlock(&as->wd_mu);
}

/* see server.h */
struct wd_slot *
adm_wd_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci;

	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci != NULL ? ci->socket_context : NULL;
}

/* When the connections are near the limit (ADMIN_WD_SPARE free places left), the one
 * that has waited longest without a complete request (a handshake never finished,
 * headers trickling, a kept-alive connection idle) is closed, never one whose request
 * is being answered: a few addresses holding idle connections cannot lock everyone
 * out. fresh (just admitted) is spared. Called with wd_mu held. */
static void
make_room(struct admin_server *as, const struct wd_slot *fresh)
{
	struct wd_slot *oldest = NULL;
	int live = 0;

	for (size_t i = 0; i < ADMIN_WD_SLOTS; i++) {
		struct wd_slot *w = &as->wd[i];

		if (!w->used || w->cut)
			continue;
		live++;
		if (w != fresh && w->deadline != 0 &&
		    (oldest == NULL || w->deadline < oldest->deadline))
			oldest = w;
	}
	if (live <= CONFIG_ADMIN_MAX_CONNECTIONS - ADMIN_WD_SPARE || oldest == NULL)
		return;
	/* MHD notices the closed socket and frees the connection; the fd stays MHD's
	 * until its CLOSED notification, which takes wd_mu. */
	shutdown(oldest->fd, SHUT_RDWR);
	oldest->cut = 1;
	oldest->deadline = 0;
	log_info("admin: connection closed: %d open, the oldest without a complete "
	    "request makes room", live);
}

/* see server.h */
void
adm_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
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
	for (size_t i = 0; i < ADMIN_WD_SLOTS; i++)
		if (!as->wd[i].used) {
			w = &as->wd[i];
			memset(w, 0, sizeof(*w));
			w->used = 1;
			w->fd = ci->connect_fd;
			w->deadline = clock_mono_ms() + CONFIG_ADMIN_REQUEST_DEADLINE_S * 1000L;
			*socket_context = w;
			pthread_cond_signal(&as->wd_cv);
			break;
		}
	if (*socket_context == NULL)
		shutdown(ci->connect_fd, SHUT_RDWR);	/* no slot: fail closed */
	else
		make_room(as, w);
	pthread_mutex_unlock(&as->wd_mu);
}

/* see server.h */
void
adm_wd_post_audit(struct admin_server *as, time_t when, const char *action,
    const char *detail)
{
	struct dev_record *r;

	pthread_mutex_lock(&as->wd_mu);
	if (as->dev_n == ADMIN_DEV_QUEUE || as->wd_stop)
		as->dev_dropped++;
	else {
		r = &as->dev[(as->dev_head + as->dev_n) % ADMIN_DEV_QUEUE];
		r->when = when;
		snprintf(r->action, sizeof(r->action), "%s", action);
		snprintf(r->detail, sizeof(r->detail), "%s", detail);
		as->dev_n++;
		pthread_cond_signal(&as->wd_cv);
	}
	pthread_mutex_unlock(&as->wd_mu);
}

/* see server.h */
int
adm_wd_start(struct admin_server *as)
{
	return pthread_create(&as->wd_thread, NULL, watchdog, as);
}

/* see server.h */
void
adm_wd_stop(struct admin_server *as)
{
	pthread_mutex_lock(&as->wd_mu);
	as->wd_stop = 1;
	pthread_cond_signal(&as->wd_cv);
	pthread_mutex_unlock(&as->wd_mu);
	pthread_join(as->wd_thread, NULL);
}
