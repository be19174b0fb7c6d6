/* SPDX-License-Identifier: BSD-2-Clause */
/* loop.c — the owner of state. Every other thread only posts events (evq.h, one event
 * type); this loop takes them one at a time, applies each to the agent, carries out the
 * agent's actions (each carries its payload: the loop never reads the agent's readers),
 * and publishes what the listeners show (core/view.h). It never blocks on a join, a
 * file or the network: checks and card update sessions run on their own threads, and
 * their outcomes come back as events. Idle, it sleeps in poll() with no timeout. */
#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "autoconf.h"
#include "base/clock.h"
#include "base/log.h"
#include "base/pages.h"
#include "base/rand.h"
#include "cms/checker.h"
#include "cms/session.h"
#include "cms/trust.h"
#include "core/agent.h"
#include "core/metrics.h"
#include "core/seram.h"
#include "core/view.h"
#include "drivers/card_session.h"
#include "drivers/pcsc.h"
#include "evq.h"
#include "hooks.h"
#include "loop.h"
#include "web/admin/admin.h"
#include "web/kiosk/kiosk.h"
#include "version.h"

#define STOP_WAIT_MS	3000	/* for session threads at exit */
/* Quiet time after the last event before the heap's free pages go back to the kernel:
 * a burst (checks, snapshots, Server-Sent Events, connections) leaves the heap at its
 * high-water mark, ~36 KiB resident more after twenty card insertions (malloc_trim(0)
 * from gdb; docs/performance.md). One wake-up per burst, never while idle. */
#define TRIM_AFTER_MS	1000

struct loop {
	struct cfg		 cfg;
	const char		*cfg_path;
	int			 foreground;
	struct agent		 agent;
	struct metrics		 metrics;
	struct evq		*q;
	struct checker		*checker;
	struct web_server	*web;
	struct admin_server	*admin;		/* NULL: not configured or not built */
	char			 admin_error[512];	/* why it did not start ("": it did) */
	struct pcsc_watcher	*pcsc;
	int			 pcsc_up, pcsc_was_up;
	long long		 started;
	int64_t			 trim_at;	/* clock_mono_ms() to trim the heap at;
						   0: nothing to give back */
	struct session		*sess[CONFIG_MAX_READERS];	/* by agent slot */
	unsigned		 sess_serial[CONFIG_MAX_READERS];
	unsigned long		 seq;
	char			 kiosk_origin[96];
	struct event		 ev;		/* the event being handled */
};

static void on_pcsc(void *arg, const struct pcsc_event *pe);
static void on_check(void *arg, const struct check_job *job, const struct cms_result *res,
    long latency_ms);
static void on_session(void *arg, const struct session_report *rep);
static int on_web(void *arg, const struct web_cmd *cmd);
static int on_admin(void *arg, const struct admin_cmd *cmd);
static void handle(struct loop *l, const struct event *ev);
static void act(struct loop *l, const struct agent_event *aev);
static void publish(struct loop *l);
static void reload(struct loop *l, const char *why);
static void restart_watcher(struct loop *l, const char *glob);
static void note_anchors(struct loop *l);

/* ---- start, run, stop ------------------------------------------------------------ */

/* see loop.h */
struct loop *
loop_start(const struct cfg *cfg, const char *cfg_path, int foreground, int *exit_code,
    char *err, size_t errlen)
{
	struct loop *l;
	char e[CFG_ERR_MAX];

	*exit_code = 1;
	/* Zeroed pages, not calloc (base/pages.h): the agent and the metrics hold a slot
	 * per CONFIG_MAX_READERS reader (63 + 8 KiB); only those of readers that appear
	 * are ever written, so only theirs become resident. Hence agent_init_zeroed, and
	 * no metrics_init: a zeroed struct metrics is initialised. */
	if ((l = pages_alloc(sizeof(*l))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->cfg = *cfg;
	l->cfg_path = cfg_path;
	l->foreground = foreground;
	l->started = (long long)time(NULL);
	agent_init_zeroed(&l->agent, cfg->prompt_timeout_s);
	snprintf(l->kiosk_origin, sizeof(l->kiosk_origin), "http://%s/", cfg->kiosk_listen);
	if ((l->q = evq_new(CONFIG_EVENT_QUEUE_MAX)) == NULL) {
		snprintf(err, errlen, "event queue: %s", strerror(errno));
		goto fail;
	}
	if ((l->checker = checker_start(&l->cfg, on_check, l, e, sizeof(e))) == NULL) {
		snprintf(err, errlen, "%s: [cms] %s", cfg_path, e);
		*exit_code = 2;
		goto fail;
	}
	if ((l->web = web_start(cfg->kiosk_listen, on_web, l, e, sizeof(e))) == NULL) {
		snprintf(err, errlen, "kiosk page: %s", e);
		goto fail;
	}
	note_anchors(l);
	l->admin = admin_start(&l->cfg, cfg_path, on_admin, l, e, sizeof(e));
	if (l->admin == NULL && e[0] != '\0') {
		/* Remote administration is not the kiosk: it goes on, and says why on its
		 * state (a failing start looping under systemd would help nobody). */
		snprintf(l->admin_error, sizeof(l->admin_error), "%.*s",
		    (int)sizeof(l->admin_error) - 1, e);
		log_error("admin listener: %s (the kiosk goes on without remote "
		    "administration)", e);
	}
	publish(l);
	if ((l->pcsc = pcsc_start(cfg->kiosk_readers, on_pcsc, l)) == NULL) {
		snprintf(err, errlen, "cannot start the reader watcher: %s", strerror(errno));
		goto fail;
	}
	log_info("cardupd %s: kiosk page on %s, CMS %s", CARDUPD_VERSION, l->kiosk_origin,
	    cfg->cms_url);
	return l;
fail:
	admin_stop(l->admin);
	web_stop(l->web);
	checker_stop(l->checker);
	evq_free(l->q);
	pages_free(l, sizeof(*l));
	return NULL;
}

/* Gives the heap's free pages back to the kernel (glibc; elsewhere nothing). */
static void
trim_heap(void)
{
#ifdef __GLIBC__
	(void)malloc_trim(0);
#endif
}

/* see loop.h */
int
loop_run(struct loop *l, int sfd)
{
	struct pollfd pfd[2] = {
		{ .fd = evq_fd(l->q), .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};

	for (;;) {
		int64_t deadline = agent_next_deadline(&l->agent), wake = deadline, now;
		int timeout = -1;

		if (l->trim_at > 0 && (wake < 0 || l->trim_at < wake))
			wake = l->trim_at;
		if (wake >= 0) {
			now = clock_mono_ms();
			timeout = wake <= now ? 0 : (int)(wake - now);
		}
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR) {
			log_warn("poll");
			return 1;
		}
		if (pfd[0].revents & POLLIN || pfd[1].revents & POLLIN)
			l->trim_at = clock_mono_ms() + TRIM_AFTER_MS;
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo != SIGHUP) {
					log_info("signal %u: stopping", si.ssi_signo);
					return 0;
				}
				reload(l, "SIGHUP");
			}
		}
		if (pfd[0].revents & POLLIN) {
			evq_drain_fd(l->q);
			while (evq_pop(l->q, &l->ev))
				handle(l, &l->ev);
		}
		if (deadline >= 0 && clock_mono_ms() >= deadline) {
			struct agent_event aev = { .type = AGENT_EV_TICK,
			    .now_ms = clock_mono_ms() };

			act(l, &aev);
		}
		if (l->trim_at > 0 && clock_mono_ms() >= l->trim_at) {
			l->trim_at = 0;
			trim_heap();
		}
	}
}

/* see loop.h */
void
loop_stop(struct loop *l)
{
	int idle;

	if (l == NULL)
		return;
	for (int i = 0; i < CONFIG_MAX_READERS; i++) {
		session_cancel(l->sess[i], "device shutting down");
		session_release(l->sess[i]);
		l->sess[i] = NULL;
	}
	pcsc_stop(l->pcsc);
	web_stop(l->web);
	checker_stop(l->checker);
	/* A session thread reports once more when it ends, and its report may touch the
	 * queue and the admin audit log: both must outlive every such thread. */
	idle = session_wait_idle(STOP_WAIT_MS);
	if (!idle) {
		log_warnx("%d card update session(s) still ending; leaving them", session_live());
		return;
	}
	admin_stop(l->admin);
	evq_free(l->q);
	pages_free(l, sizeof(*l));
}

/* ---- one event ---------------------------------------------------------------------- */

/* The agent's event for each of ours, where there is one. */
static const enum agent_event_type to_agent[] = {
	[EV_SERVICE_DOWN] = AGENT_EV_SERVICE_DOWN,
	[EV_READER_ADDED] = AGENT_EV_READER_ADDED,
	[EV_READER_REMOVED] = AGENT_EV_READER_REMOVED,
	[EV_CARD_INSERTED] = AGENT_EV_CARD_INSERTED,
	[EV_CARD_IDENTITY] = AGENT_EV_CARD_IDENTITY,
	[EV_CARD_READ_FAILED] = AGENT_EV_CARD_READ_FAILED,
	[EV_CARD_REMOVED] = AGENT_EV_CARD_REMOVED,
	[EV_CHECK_DONE] = AGENT_EV_CHECK_DONE,
	[EV_SESSION_PROGRESS] = AGENT_EV_SESSION_PROGRESS,
	[EV_SESSION_DONE] = AGENT_EV_SESSION_DONE,
	[EV_MANUAL_CHECK] = AGENT_EV_MANUAL_CHECK,
	[EV_PROCEED] = AGENT_EV_PROCEED,
	[EV_CLOSE] = AGENT_EV_CLOSE,
	[EV_SESSION_CANCEL] = AGENT_EV_SESSION_CANCEL,
};

/* Logs an event, does what only the loop does with it (pcscd's state, metrics, the
 * SERAM session id, the loop's own requests), then hands it to the agent. */
static void
handle(struct loop *l, const struct event *ev)
{
	static char sid[SESSION_ID_LEN + 1];
	uint8_t rnd[16];
	struct agent_event aev;
	char tag[9];

	memset(&aev, 0, sizeof(aev));
	switch (ev->type) {
	case EV_SERVICE_DOWN:
		log_warnx("pcscd is not reachable; waiting for it");
		l->pcsc_up = 0;
		aev.type = AGENT_EV_SERVICE_DOWN;
		aev.now_ms = clock_mono_ms();
		act(l, &aev);
		publish(l);	/* pcscd's state changed even if no reader's did */
		return;
	case EV_SERVICE_UP:
		log_info("connected to pcscd");
		for (unsigned n = l->pcsc_was_up ? 0 : 1; n < ev->reconnects; n++)
			metrics_pcscd_reconnect(&l->metrics);
		l->pcsc_up = l->pcsc_was_up = 1;
		publish(l);
		return;
	case EV_READER_ADDED:
		log_info("reader \"%s\" added", ev->reader);
		metrics_reader_appeared(&l->metrics, ev->reader);
		break;
	case EV_READER_REMOVED:
		log_info("reader \"%s\" removed", ev->reader);
		metrics_reader_gone(&l->metrics, ev->reader);
		break;
	case EV_CARD_INSERTED:
		log_info("card inserted in \"%s\"%s", ev->reader,
		    ev->startup ? " (present at start)" : "");
		break;
	case EV_CARD_IDENTITY:
		card_log_tag(&ev->id, tag);
		log_info("card %s in \"%s\": cplc %s, chuid %s", tag, ev->reader,
		    ev->id.has_cplc ? "yes" : "no", ev->id.has_chuid ? "yes" : "no");
		break;
	case EV_CARD_READ_FAILED:
		log_warnx("card in \"%s\" could not be read", ev->reader);
		metrics_read_error(&l->metrics, ev->reader, ev->error);
		break;
	case EV_CARD_REMOVED:
		log_info("card removed from \"%s\"", ev->reader);
		break;
	case EV_CHECK_DONE:
		card_log_tag(&ev->id, tag);
		if (ev->result->outcome == CMS_OUT_FAILED)
			log_warnx("check: card %s on \"%s\": failed: %s: %s (%ld ms)", tag,
			    ev->reader, ev->result->code, ev->result->detail, ev->latency_ms);
		else
			log_info("check: card %s on \"%s\": %zu pending (%ld ms)", tag,
			    ev->reader, ev->result->n_updates, ev->latency_ms);
		metrics_record_check(&l->metrics, ev->reader, cms_trigger_name(ev->trigger),
		    ev->result, ev->latency_ms, (int64_t)time(NULL));
		/* A fresh sessionId for each prompt that may lead to a SERAM session. */
		if (ev->result->outcome == CMS_OUT_PENDING && ev->result->seram_url[0] != '\0') {
			if (rand_bytes(rnd, sizeof(rnd)) == 0) {
				seram_session_id(rnd, sid);
				aev.session_id = sid;
			} else
				log_warn("session: no random session id; updates without it");
		}
		break;
	case EV_SESSION_DONE:
		/* The thread is ending on its own: drop the handle (no join). */
		if (l->sess[ev->slot] != NULL && l->sess_serial[ev->slot] == ev->serial) {
			session_release(l->sess[ev->slot]);
			l->sess[ev->slot] = NULL;
		}
		break;
	case EV_SESSION_PROGRESS:
		break;
	case EV_MANUAL_CHECK:
		if (ev->source[0] != '\0')
			log_info("manual check requested on \"%s\" (admin, %s)", ev->reader,
			    ev->source);
		else
			log_info("manual check requested on \"%s\"", ev->reader);
		break;
	case EV_PROCEED:
		log_info("prompt on \"%s\": proceed", ev->reader);
		break;
	case EV_CLOSE:
		log_info("prompt on \"%s\": close", ev->reader);
		break;
	case EV_SESSION_CANCEL:
		log_info("card update on \"%s\": cancel", ev->reader);
		break;
	case EV_RECONNECT:
		restart_watcher(l, l->cfg.kiosk_readers);
		return;
	case EV_RELOAD:
		reload(l, "admin");
		return;
	}
	aev.type = to_agent[ev->type];
	aev.now_ms = clock_mono_ms();
	aev.reader = ev->reader;
	aev.startup = ev->startup;
	aev.id = &ev->id;
	aev.check_seq = ev->check_seq;
	aev.result = ev->result;
	aev.prompt_id = ev->prompt_id[0] != '\0' ? ev->prompt_id : NULL;
	aev.serial = ev->serial;
	aev.ok = ev->ok;
	aev.code = ev->code;
	aev.text = ev->text;
	act(l, &aev);
}

/* ---- the agent's actions ---------------------------------------------------------- */

static void start_check(struct loop *l, const struct agent_action *a);
static void run_hook(struct loop *l, const struct agent_action *a);
static void start_session(struct loop *l, const struct agent_action *a);

/* Applies one agent event and carries out its actions. A failure to carry one out
 * comes back as an event (never a nested call into the agent). */
static void
act(struct loop *l, const struct agent_event *aev)
{
	static struct agent_action acts[AGENT_MAX_ACTIONS];
	size_t n;
	int changed;

	n = agent_handle(&l->agent, aev, acts, &changed);
	for (size_t i = 0; i < n; i++) {
		const struct agent_action *a = &acts[i];

		switch (a->type) {
		case AGENT_ACT_START_CHECK:
			start_check(l, a);
			break;
		case AGENT_ACT_CANCEL_CHECK:
			checker_cancel(l->checker, a->reader, a->check_seq);
			break;
		case AGENT_ACT_HOOK:
			run_hook(l, a);
			break;
		case AGENT_ACT_START_SESSION:
			start_session(l, a);
			break;
		case AGENT_ACT_CANCEL_SESSION:
			if (l->sess[a->reader] != NULL &&
			    l->sess_serial[a->reader] == a->serial) {
				log_info("session: %s: cancelled", a->name);
				session_cancel(l->sess[a->reader], a->why);
			}
			break;
		}
	}
	if (changed)
		publish(l);
}

static void
start_check(struct loop *l, const struct agent_action *a)
{
	struct check_job job;
	char tag[9];

	memset(&job, 0, sizeof(job));
	job.reader_idx = a->reader;
	job.check_seq = a->check_seq;
	job.trigger = a->trigger;
	snprintf(job.reader, sizeof(job.reader), "%s", a->name);
	job.id = a->id;
	card_log_tag(&a->id, tag);
	log_info("check: card %s on \"%s\" (%s)", tag, a->name, cms_trigger_name(a->trigger));
	if (checker_submit(l->checker, &job) == -1) {
		static struct cms_result busy;

		log_warnx("check: queue full, card %s on \"%s\" not checked", tag, a->name);
		memset(&busy, 0, sizeof(busy));
		cms_result_fail(&busy, "busy", "too many checks queued");
		on_check(l, &job, &busy, 0);
	}
}

static void
run_hook(struct loop *l, const struct agent_action *a)
{
	static const char *const names[] = { "prompt", "proceed", "session_end" };
	char ev[40], reader[READER_NAME_MAX + 20], types[AGENT_UPDATES_MAX + 20];
	char portal[CMS_URL_MAX + 24];
	const char *env[5] = { ev, reader, types, NULL, NULL };
	const char *cmds[] = { l->cfg.hook_on_prompt, l->cfg.hook_on_proceed,
	    l->cfg.hook_on_session_end };

	snprintf(ev, sizeof(ev), "CARDUPD_EVENT=%s", names[a->hook]);
	snprintf(reader, sizeof(reader), "CARDUPD_READER=%s", a->name);
	snprintf(types, sizeof(types), "CARDUPD_UPDATES=%s", a->updates);
	if (a->url[0] != '\0') {
		snprintf(portal, sizeof(portal), "CARDUPD_PORTAL_URL=%s", a->url);
		env[3] = portal;
	}
	hooks_run(names[a->hook], cmds[a->hook], env);
}

static void
start_session(struct loop *l, const struct agent_action *a)
{
	struct session_params p;
	struct session_report rep;
	char err[200];

	memset(&p, 0, sizeof(p));
	p.reader_idx = a->reader;
	p.serial = a->serial;
	snprintf(p.reader, sizeof(p.reader), "%s", a->name);
	p.id = a->id;
	snprintf(p.seram_url, sizeof(p.seram_url), "%s", a->url);
	snprintf(p.session_id, sizeof(p.session_id), "%s", a->session_id);
	p.max_s = l->cfg.cms_session_timeout_s;
	p.port = &card_session_port;
	/* A cancelled session may still be finishing its last long poll: let it go. */
	session_release(l->sess[a->reader]);
	l->sess[a->reader] = session_start(&p, &l->cfg, on_session, l, err, sizeof(err));
	l->sess_serial[a->reader] = a->serial;
	log_info("session: %s: card update session %u started", a->name, a->serial);
	if (l->sess[a->reader] == NULL) {
		log_warnx("session: %s: %s", a->name, err);
		memset(&rep, 0, sizeof(rep));
		rep.type = SESSION_EV_DONE;
		rep.reader_idx = a->reader;
		snprintf(rep.reader, sizeof(rep.reader), "%s", a->name);
		rep.serial = a->serial;
		snprintf(rep.code, sizeof(rep.code), "session_failed");
		snprintf(rep.text, sizeof(rep.text), "%s", err);
		on_session(l, &rep);
	}
}

/* ---- publish, reload ------------------------------------------------------------- */

static void
publish(struct loop *l)
{
	struct web_snapshot *s;

	if (l->admin != NULL) {
		struct admin_snapshot *as = view_admin(&l->agent, &l->cfg, &l->metrics,
		    l->pcsc_up, (long long)time(NULL), l->started);

		if (as == NULL)
			log_warnx("cannot build the admin snapshot: out of memory");
		else
			admin_publish(l->admin, as);
	}
	s = view_kiosk(&l->agent, &l->cfg, l->kiosk_origin, admin_setup_code(),
	    admin_fingerprint(), l->admin_error[0] ? l->admin_error : NULL, clock_mono_ms(),
	    ++l->seq);
	if (s == NULL) {
		log_warnx("cannot build the state snapshot: out of memory");
		return;
	}
	web_publish(l->web, s);
}

/* Reloads the configuration file: on SIGHUP, and after the admin page saved it (why
 * says which, for the log). A bad file changes nothing. */
static void
apply_config(struct loop *l, const char *why, struct cfg *nc, char *err, size_t errlen)
{
	if (cfg_load(l->cfg_path, nc, err, errlen) == -1) {
		log_warnx("%s: %s: rejected, keeping the running configuration:\n%s",
		    why, l->cfg_path, err);
		return;
	}
	if (checker_reconfigure(l->checker, nc, err, errlen) == -1) {
		log_warnx("%s: %s: rejected, keeping the running configuration: %s",
		    why, l->cfg_path, err);
		return;
	}
	if (strcmp(nc->kiosk_listen, l->cfg.kiosk_listen) != 0)
		log_warnx("%s: kiosk.listen changes take effect at the next start", why);
	if (strcmp(nc->admin_listen, l->cfg.admin_listen) != 0 ||
	    strcmp(nc->admin_tls_cert, l->cfg.admin_tls_cert) != 0 ||
	    strcmp(nc->admin_tls_key, l->cfg.admin_tls_key) != 0 ||
	    strcmp(nc->admin_state_dir, l->cfg.admin_state_dir) != 0)
		log_warnx("%s: admin.listen, tls_cert, tls_key and state_dir changes take "
		    "effect at the next start", why);
	if (strcmp(nc->kiosk_readers, l->cfg.kiosk_readers) != 0)
		restart_watcher(l, nc->kiosk_readers);
	snprintf(nc->kiosk_listen, sizeof(nc->kiosk_listen), "%s", l->cfg.kiosk_listen);
	l->cfg = *nc;
	l->agent.prompt_timeout_s = nc->prompt_timeout_s;
	note_anchors(l);
	admin_reconfigure(l->admin, nc);
	log_init(nc->log_level, nc->log_syslog, l->foreground);
	log_info("%s: configuration reloaded from %s", why, l->cfg_path);
	publish(l);
}

/* The new configuration and its error text (13 KiB) on pages given back afterwards:
 * as statics they would stay resident after the first reload. */
static void
reload(struct loop *l, const char *why)
{
	struct reload_buf {
		struct cfg	nc;
		char		err[CFG_ERR_MAX];
	} *b;

	if ((b = pages_alloc(sizeof(*b))) == NULL) {
		log_warnx("%s: %s: out of memory, keeping the running configuration", why,
		    l->cfg_path);
		return;
	}
	apply_config(l, why, &b->nc, b->err, sizeof(b->err));
	pages_free(b, sizeof(*b));
}

/* The trust anchors' count and earliest expiry for /metrics, read from the file the
 * checker loads (at start and after each reload). */
static void
note_anchors(struct loop *l)
{
	struct trust_anchors ta;
	char err[256];

	if (trust_load(l->cfg.cms_anchors, &ta, err, sizeof(err)) == -1) {
		metrics_set_anchors(&l->metrics, 0, 0);
		return;
	}
	metrics_set_anchors(&l->metrics, ta.n, ta.not_after);
	trust_free(&ta);
}

/* Stops the reader watcher and starts a new one (a new reader glob, or a reconnection
 * to pcscd asked from the admin page). pcsc_stop returns once the watcher left
 * SCardGetStatusChange (SCardCancel: milliseconds); what the old one posted and the
 * loop has not taken yet is made moot by SERVICE_DOWN, and the new watcher
 * re-announces every reader. */
static void
restart_watcher(struct loop *l, const char *glob)
{
	struct event ev = { .type = EV_SERVICE_DOWN };

	pcsc_stop(l->pcsc);
	l->pcsc = NULL;
	evq_post(l->q, &ev);
	if ((l->pcsc = pcsc_start(glob, on_pcsc, l)) == NULL)
		log_warn("cannot restart the reader watcher");
}

/* ---- what the other threads post (each on its own thread) ------------------------ */

static void
post(struct loop *l, const struct event *ev, const char *what)
{
	if (evq_post(l->q, ev) == -1)
		log_warn("cannot queue %s", what);
}

/* The reader watcher's events, one for one. */
static void
on_pcsc(void *arg, const struct pcsc_event *pe)
{
	static const enum ev_type types[] = {
		[PCSC_EV_READER_ADDED] = EV_READER_ADDED,
		[PCSC_EV_READER_REMOVED] = EV_READER_REMOVED,
		[PCSC_EV_CARD_INSERTED] = EV_CARD_INSERTED,
		[PCSC_EV_CARD_IDENTITY] = EV_CARD_IDENTITY,
		[PCSC_EV_CARD_READ_FAILED] = EV_CARD_READ_FAILED,
		[PCSC_EV_CARD_REMOVED] = EV_CARD_REMOVED,
		[PCSC_EV_SERVICE_DOWN] = EV_SERVICE_DOWN,
		[PCSC_EV_SERVICE_UP] = EV_SERVICE_UP,
	};
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = types[pe->type];
	memcpy(ev.reader, pe->reader, sizeof(ev.reader));
	ev.startup = pe->startup;
	ev.error = pe->error;
	ev.id = pe->id;
	post(arg, &ev, "a reader event");
	explicit_bzero(&ev.id, sizeof(ev.id));
}

/* The CMS worker's results (and a check the worker could not take). */
static void
on_check(void *arg, const struct check_job *job, const struct cms_result *res,
    long latency_ms)
{
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = EV_CHECK_DONE;
	ev.slot = job->reader_idx;
	memcpy(ev.reader, job->reader, sizeof(ev.reader));
	ev.id = job->id;
	ev.check_seq = job->check_seq;
	ev.trigger = job->trigger;
	ev.result = res;
	ev.latency_ms = latency_ms;
	post(arg, &ev, "a check result");
}

/* A card update session's reports. The outcome also goes to the admin audit log,
 * here on the session's thread (the audit log writes to flash). */
static void
on_session(void *arg, const struct session_report *rep)
{
	struct loop *l = arg;
	struct event ev;

	memset(&ev, 0, sizeof(ev));
	ev.type = rep->type == SESSION_EV_DONE ? EV_SESSION_DONE : EV_SESSION_PROGRESS;
	ev.slot = rep->reader_idx;
	memcpy(ev.reader, rep->reader, sizeof(ev.reader));
	ev.serial = rep->serial;
	ev.ok = rep->ok;
	memcpy(ev.code, rep->code, sizeof(ev.code));
	memcpy(ev.text, rep->text, sizeof(ev.text));
	ev.apdus = rep->apdus;
	ev.latency_ms = rep->duration_ms;
	if (rep->type == SESSION_EV_DONE)
		admin_audit_device(l->admin, "card_update", "reader=\"%s\" session=%u "
		    "outcome=%s apdus=%d duration_ms=%ld%s%s", rep->reader, rep->serial,
		    rep->ok ? "ok" : rep->code, rep->apdus, rep->duration_ms,
		    rep->ok ? "" : " reason=", rep->ok ? "" : rep->text);
	post(l, &ev, "a card update session report");
}

/* The kiosk's commands; -1 makes the handler answer 503. */
static int
on_web(void *arg, const struct web_cmd *cmd)
{
	static const enum ev_type types[] = {
		[WEB_CMD_CHECK] = EV_MANUAL_CHECK,
		[WEB_CMD_PROCEED] = EV_PROCEED,
		[WEB_CMD_CLOSE] = EV_CLOSE,
		[WEB_CMD_CANCEL_SESSION] = EV_SESSION_CANCEL,
	};
	struct event ev;
	struct loop *l = arg;

	memset(&ev, 0, sizeof(ev));
	ev.type = types[cmd->type];
	memcpy(ev.reader, cmd->reader, sizeof(ev.reader));
	memcpy(ev.prompt_id, cmd->prompt_id, sizeof(ev.prompt_id));
	return evq_post(l->q, &ev);
}

/* The admin listener's commands; -1 makes the handler answer 503. */
static int
on_admin(void *arg, const struct admin_cmd *cmd)
{
	struct event ev;
	struct loop *l = arg;

	memset(&ev, 0, sizeof(ev));
	switch (cmd->type) {
	case ADMIN_CMD_CHECK:
		ev.type = EV_MANUAL_CHECK;
		break;
	case ADMIN_CMD_RECONNECT:
		log_info("reconnecting to pcscd (admin, %s)", cmd->source);
		ev.type = EV_RECONNECT;
		break;
	case ADMIN_CMD_RELOAD:
		ev.type = EV_RELOAD;
		break;
	}
	memcpy(ev.reader, cmd->reader, sizeof(ev.reader));
	snprintf(ev.source, sizeof(ev.source), "%s", cmd->source);
	return evq_post(l->q, &ev);
}
