/* main.c — the daemon: command line, configuration, and the event loop that owns the
 * agent. Other threads (pcsc watcher, CMS worker, web server) only post events; this
 * loop applies them to the agent, turns its actions into I/O, and publishes state.
 * Idle, it sleeps in poll() with no timeout. The remote administration (and the metrics
 * that only it shows) is there with Kconfig ADMIN only. */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/signalfd.h>

#include "autoconf.h"
#ifdef CONFIG_ADMIN
#include "web/admin/admin.h"
#endif
#include "core/agent.h"
#include "cms/checker.h"
#include "base/clock.h"
#include "core/config.h"
#include "evq.h"
#include "hooks.h"
#include "base/log.h"
#include "base/rand.h"
#ifdef CONFIG_ADMIN
#include "core/metrics.h"
#endif
#include "drivers/card_session.h"
#include "drivers/pcsc.h"
#include "core/seram.h"
#include "web/kiosk/kiosk.h"
#include "cms/session.h"
#include "state.h"
#include "cms/trust.h"
#include "version.h"

enum ev_kind { EV_PCSC, EV_CHECK, EV_WEB, EV_SESSION, EV_ADMIN };

struct event {
	enum ev_kind	kind;
	union {
		struct pcsc_event	pcsc;
		struct {
			struct check_job	job;
			struct cms_result	res;
			long			latency_ms;
		} check;
		struct web_cmd		web;
		struct session_report	session;
#ifdef CONFIG_ADMIN
		struct admin_cmd	admin;
#endif
	} u;
};

struct daemon {
	struct cfg		 cfg;
	const char		*cfg_path;
	struct agent		 agent;
	struct evq		*q;
	struct checker		*checker;
	struct web_server	*web;
	struct pcsc_watcher	*pcsc;
#ifdef CONFIG_ADMIN
	struct admin_server	*admin;
	struct metrics		 metrics;
#endif
	int			 pcsc_up, pcsc_was_up;
	int			 foreground;
	long long		 started;
	struct session		*sess[CONFIG_MAX_READERS];	/* SERAM sessions */
	unsigned		 sess_serial[CONFIG_MAX_READERS];
	unsigned long		 seq;
	char			 kiosk_origin[96];
};

static void
post(struct daemon *d, struct event *ev, const char *what)
{
	if (evq_push(d->q, ev) == -1) {
		log_warnx("event queue full: dropped %s", what);
		free(ev);
	}
}

static void
on_pcsc(void *arg, const struct pcsc_event *pe)
{
	struct daemon *d = arg;
	struct event *ev = malloc(sizeof(*ev));

	if (ev == NULL)
		return;
	ev->kind = EV_PCSC;
	ev->u.pcsc = *pe;
	post(d, ev, "a reader event");
}

static void
on_check(void *arg, const struct check_job *job, const struct cms_result *res,
    long latency_ms)
{
	struct daemon *d = arg;
	struct event *ev = malloc(sizeof(*ev));

	if (ev == NULL)
		return;
	ev->kind = EV_CHECK;
	ev->u.check.job = *job;
	ev->u.check.res = *res;
	ev->u.check.latency_ms = latency_ms;
	post(d, ev, "a check result");
}

static void
on_session(void *arg, const struct session_report *rep)
{
	struct daemon *d = arg;
	struct event *ev = malloc(sizeof(*ev));

	if (ev == NULL)
		return;
	ev->kind = EV_SESSION;
	ev->u.session = *rep;
	post(d, ev, "a card update session report");
}

static int
on_web(void *arg, const struct web_cmd *cmd)
{
	struct daemon *d = arg;
	struct event *ev = malloc(sizeof(*ev));

	if (ev == NULL)
		return -1;
	ev->kind = EV_WEB;
	ev->u.web = *cmd;
	if (evq_push(d->q, ev) == -1) {
		free(ev);
		return -1;
	}
	return 0;
}

#ifdef CONFIG_ADMIN
static int
on_admin(void *arg, const struct admin_cmd *cmd)
{
	struct daemon *d = arg;
	struct event *ev = malloc(sizeof(*ev));

	if (ev == NULL)
		return -1;
	ev->kind = EV_ADMIN;
	ev->u.admin = *cmd;
	if (evq_push(d->q, ev) == -1) {
		free(ev);
		return -1;
	}
	return 0;
}
#else
/* [admin] keys stay valid in a build without the admin listener (one file format for
 * every build), but nothing serves them: say so rather than ignore it silently. */
static void
warn_no_admin(const struct cfg *c, const char *path)
{
	if (c->admin_listen[0] != '\0')
		log_warnx("%s: [admin] listen = %s: ignored, this cardupd is built without the "
		    "admin listener (Kconfig ADMIN)", path, c->admin_listen);
}
#endif

#ifdef CONFIG_ADMIN
/* Reader health for /metrics (SERVICE_UP, a reconnection, is counted where it is
 * handled). */
static void
count_pcsc(struct metrics *m, const struct pcsc_event *pe)
{
	if (pe->type == PCSC_EV_READER_ADDED)
		metrics_reader_appeared(m, pe->reader);
	else if (pe->type == PCSC_EV_READER_REMOVED)
		metrics_reader_gone(m, pe->reader);
	else if (pe->type == PCSC_EV_CARD_READ_FAILED)
		metrics_read_error(m, pe->reader, pe->error);
}

/* The trust anchors' count and earliest expiry for /metrics, read from the file the
 * checker loads (at start and after each reload). */
static void
note_anchors(struct daemon *d)
{
	struct trust_anchors ta;
	char err[256];

	if (trust_load(d->cfg.cms_anchors, &ta, err, sizeof(err)) == -1) {
		metrics_set_anchors(&d->metrics, 0, 0);
		return;
	}
	metrics_set_anchors(&d->metrics, ta.n, ta.not_after);
	trust_free(&ta);
}
#endif

static void
publish(struct daemon *d)
{
	struct web_snapshot *s;

#ifdef CONFIG_ADMIN
	if (d->admin != NULL) {
		struct admin_snapshot *as = admin_snapshot_build(&d->agent, &d->cfg,
		    &d->metrics, d->pcsc_up, clock_mono_ms(), (long long)time(NULL), d->started);

		if (as == NULL)
			log_warnx("cannot build the admin snapshot: out of memory");
		else
			admin_publish(d->admin, as);
	}
#endif

	s = state_snapshot(&d->agent, &d->cfg, d->kiosk_origin, clock_mono_ms(), ++d->seq);
	if (s == NULL) {
		log_warnx("cannot build the state snapshot: out of memory");
		return;
	}
	web_publish(d->web, s);
}

static void handle(struct daemon *d, const struct agent_event *aev);

static void
start_session(struct daemon *d, const struct agent_action *act)
{
	const struct agent_reader *r = &d->agent.r[act->reader];
	struct session_params p;
	char err[200];

	memset(&p, 0, sizeof(p));
	p.reader_idx = act->reader;
	p.serial = act->serial;
	snprintf(p.reader, sizeof(p.reader), "%s", r->name);
	p.id = r->id;
	snprintf(p.seram_url, sizeof(p.seram_url), "%s", r->result.seram_url);
	snprintf(p.session_id, sizeof(p.session_id), "%s", r->session_id);
	p.max_s = d->cfg.cms_session_timeout_s;
	p.port = &card_session_port;
	/* A cancelled session may still be finishing its last long poll: let it go. */
	session_free(d->sess[act->reader], 0);
	d->sess[act->reader] = session_start(&p, &d->cfg, on_session, d, err, sizeof(err));
	d->sess_serial[act->reader] = act->serial;
	log_info("session: %s: card update session %u started", r->name, act->serial);
	if (d->sess[act->reader] == NULL) {
		struct agent_event aev;

		log_warnx("session: %s: %s", r->name, err);
		memset(&aev, 0, sizeof(aev));
		aev.type = AGENT_EV_SESSION_DONE;
		aev.now_ms = clock_mono_ms();
		aev.reader = r->name;
		aev.serial = act->serial;
		aev.code = "session_failed";
		handle(d, &aev);
	}
}

static void
cancel_session(struct daemon *d, const struct agent_action *act)
{
	if (d->sess[act->reader] != NULL && d->sess_serial[act->reader] == act->serial) {
		log_info("session: %s: cancelled", d->agent.r[act->reader].name);
		session_cancel(d->sess[act->reader], d->agent.r[act->reader].card_present ?
		    "cancelled at the kiosk" : "card removed");
	}
}

static void
run_hook(struct daemon *d, const struct agent_action *act)
{
	const struct agent_reader *r = &d->agent.r[act->reader];
	char ev[40], reader[PCSC_READER_NAME_MAX + 20], types[512], portal[CMS_URL_MAX + 24];
	const char *env[5] = { ev, reader, NULL, NULL, NULL };
	const char *cmd, *name;
	size_t o = 0;

	switch (act->hook) {
	case AGENT_HOOK_PROMPT:
		cmd = d->cfg.hook_on_prompt;
		name = "prompt";
		break;
	case AGENT_HOOK_PROCEED:
		cmd = d->cfg.hook_on_proceed;
		name = "proceed";
		break;
	default:
		cmd = d->cfg.hook_on_session_end;
		name = "session_end";
		break;
	}
	snprintf(ev, sizeof(ev), "CARDUPD_EVENT=%s", name);
	snprintf(reader, sizeof(reader), "CARDUPD_READER=%s", r->name);
	types[0] = '\0';
	o = (size_t)snprintf(types, sizeof(types), "CARDUPD_UPDATES=");
	for (size_t i = 0; i < r->result.n_updates && o < sizeof(types); i++)
		o += (size_t)snprintf(types + o, sizeof(types) - o, "%s%s", i ? "," : "",
		    r->result.updates[i].type);
	env[2] = types;
	if (act->hook != AGENT_HOOK_SESSION_END && r->result.portal_url[0] != '\0') {
		snprintf(portal, sizeof(portal), "CARDUPD_PORTAL_URL=%s", r->result.portal_url);
		env[3] = portal;
	}
	hooks_run(name, cmd, env);
}

static void
start_check(struct daemon *d, const struct agent_action *act)
{
	const struct agent_reader *r = &d->agent.r[act->reader];
	struct check_job job;
	char tag[9];

	memset(&job, 0, sizeof(job));
	job.reader_idx = act->reader;
	job.check_seq = act->check_seq;
	job.trigger = act->trigger;
	snprintf(job.reader, sizeof(job.reader), "%s", r->name);
	job.id = r->id;
	card_log_tag(&r->id, tag);
	log_info("check: card %s on \"%s\" (%s)", tag, r->name, cms_trigger_name(act->trigger));
	if (checker_submit(d->checker, &job) == -1) {
		struct cms_result res;
		struct agent_event aev;

		memset(&res, 0, sizeof(res));
		cms_result_fail(&res, "busy", "too many checks queued");
		memset(&aev, 0, sizeof(aev));
		aev.type = AGENT_EV_CHECK_DONE;
		aev.now_ms = clock_mono_ms();
		aev.reader = r->name;
		aev.check_seq = act->check_seq;
		aev.result = &res;
		log_warnx("check: queue full, card %s on \"%s\" not checked", tag, r->name);
		handle(d, &aev);
	}
}

/* Applies one agent event and carries out its actions. */
static void
handle(struct daemon *d, const struct agent_event *aev)
{
	struct agent_action acts[AGENT_MAX_ACTIONS];
	size_t n;
	int changed;

	n = agent_handle(&d->agent, aev, acts, &changed);
	for (size_t i = 0; i < n; i++)
		switch (acts[i].type) {
		case AGENT_ACT_START_CHECK:
			start_check(d, &acts[i]);
			break;
		case AGENT_ACT_CANCEL_CHECK:
			checker_cancel(d->checker, acts[i].reader, acts[i].check_seq);
			break;
		case AGENT_ACT_HOOK:
			run_hook(d, &acts[i]);
			break;
		case AGENT_ACT_START_SESSION:
			start_session(d, &acts[i]);
			break;
		case AGENT_ACT_CANCEL_SESSION:
			cancel_session(d, &acts[i]);
			break;
		}
	if (changed)
		publish(d);
}

static void reload(struct daemon *d, const char *why);

/* Stops the reader watcher and starts a new one (a new reader glob, or a reconnection
 * to pcscd asked from the admin page): the new watcher re-announces every reader. */
static void
restart_watcher(struct daemon *d, const char *glob)
{
	struct agent_event aev = { .type = AGENT_EV_SERVICE_DOWN, .now_ms = clock_mono_ms() };

	pcsc_stop(d->pcsc);
	d->pcsc = NULL;
	d->pcsc_up = 0;
	handle(d, &aev);
	if ((d->pcsc = pcsc_start(glob, on_pcsc, d)) == NULL)
		log_warn("cannot restart the reader watcher");
}

static void
dispatch(struct daemon *d, struct event *ev)
{
	struct agent_event aev;
	char tag[9];

	memset(&aev, 0, sizeof(aev));
	aev.now_ms = clock_mono_ms();
	switch (ev->kind) {
	case EV_PCSC: {
		const struct pcsc_event *pe = &ev->u.pcsc;

		aev.reader = pe->reader;
		aev.startup = pe->startup;
#ifdef CONFIG_ADMIN
		count_pcsc(&d->metrics, pe);
#endif
		switch (pe->type) {
		case PCSC_EV_READER_ADDED:
			log_info("reader \"%s\" added", pe->reader);
			aev.type = AGENT_EV_READER_ADDED;
			break;
		case PCSC_EV_READER_REMOVED:
			log_info("reader \"%s\" removed", pe->reader);
			aev.type = AGENT_EV_READER_REMOVED;
			break;
		case PCSC_EV_CARD_INSERTED:
			log_info("card inserted in \"%s\"%s", pe->reader,
			    pe->startup ? " (present at start)" : "");
			aev.type = AGENT_EV_CARD_INSERTED;
			break;
		case PCSC_EV_CARD_IDENTITY:
			card_log_tag(&pe->id, tag);
			log_info("card %s in \"%s\": cplc %s, chuid %s", tag, pe->reader,
			    pe->id.has_cplc ? "yes" : "no", pe->id.has_chuid ? "yes" : "no");
			aev.type = AGENT_EV_CARD_IDENTITY;
			aev.id = &pe->id;
			break;
		case PCSC_EV_CARD_READ_FAILED:
			log_warnx("card in \"%s\" could not be read", pe->reader);
			aev.type = AGENT_EV_CARD_READ_FAILED;
			break;
		case PCSC_EV_CARD_REMOVED:
			log_info("card removed from \"%s\"", pe->reader);
			aev.type = AGENT_EV_CARD_REMOVED;
			break;
		case PCSC_EV_SERVICE_DOWN:
			log_warnx("pcscd is not reachable; waiting for it");
			d->pcsc_up = 0;
			aev.type = AGENT_EV_SERVICE_DOWN;
			handle(d, &aev);
			publish(d);	/* pcscd's state changed even if no reader's did */
			return;
		case PCSC_EV_SERVICE_UP:
			log_info("connected to pcscd");
#ifdef CONFIG_ADMIN
			if (d->pcsc_was_up)
				metrics_pcscd_reconnect(&d->metrics);
#endif
			d->pcsc_up = d->pcsc_was_up = 1;
			publish(d);
			return;
		}
		break;
	}
	case EV_CHECK: {
		const struct cms_result *res = &ev->u.check.res;
		static char sid[SESSION_ID_LEN + 1];
		uint8_t rnd[16];

		card_log_tag(&ev->u.check.job.id, tag);
		if (res->outcome == CMS_OUT_FAILED)
			log_warnx("check: card %s on \"%s\": failed: %s: %s (%ld ms)", tag,
			    ev->u.check.job.reader, res->code, res->detail, ev->u.check.latency_ms);
		else
			log_info("check: card %s on \"%s\": %zu pending (%ld ms)", tag,
			    ev->u.check.job.reader, res->n_updates, ev->u.check.latency_ms);
#ifdef CONFIG_ADMIN
		metrics_record_check(&d->metrics, ev->u.check.job.reader,
		    cms_trigger_name(ev->u.check.job.trigger), res, ev->u.check.latency_ms,
		    (int64_t)time(NULL));
#endif
		aev.type = AGENT_EV_CHECK_DONE;
		aev.reader = ev->u.check.job.reader;
		aev.check_seq = ev->u.check.job.check_seq;
		aev.result = res;
		/* A fresh sessionId for each prompt that may lead to a SERAM session. */
		if (res->outcome == CMS_OUT_PENDING && res->seram_url[0] != '\0') {
			if (rand_bytes(rnd, sizeof(rnd)) == 0) {
				seram_session_id(rnd, sid);
				aev.session_id = sid;
			} else
				log_warn("session: no random session id; updates without it");
		}
		break;
	}
	case EV_SESSION: {
		const struct session_report *rep = &ev->u.session;
		int i = rep->reader_idx;

		if (i < 0 || i >= CONFIG_MAX_READERS)
			return;
		if (rep->type == SESSION_EV_DONE && d->sess[i] != NULL &&
		    d->sess_serial[i] == rep->serial) {
			session_free(d->sess[i], 1000);	/* its thread is returning */
			d->sess[i] = NULL;
		}
#ifdef CONFIG_ADMIN
		/* Every card update session, with its outcome, in the audit log. */
		if (rep->type == SESSION_EV_DONE)
			admin_audit_device(d->admin, "card_update", "reader=\"%s\" session=%u "
			    "outcome=%s apdus=%d duration_ms=%ld%s%s",
			    d->agent.r[i].name, rep->serial, rep->ok ? "ok" : rep->code,
			    rep->apdus, rep->duration_ms, rep->ok ? "" : " reason=",
			    rep->ok ? "" : rep->text);
#endif
		aev.type = rep->type == SESSION_EV_DONE ? AGENT_EV_SESSION_DONE :
		    AGENT_EV_SESSION_PROGRESS;
		aev.reader = d->agent.r[i].name;
		aev.serial = rep->serial;
		aev.ok = rep->ok;
		aev.code = rep->code;
		aev.text = rep->text;
		break;
	}
	case EV_WEB:
		aev.reader = ev->u.web.reader;
		aev.prompt_id = ev->u.web.prompt_id[0] ? ev->u.web.prompt_id : NULL;
		switch (ev->u.web.type) {
		case WEB_CMD_CHECK:
			log_info("manual check requested on \"%s\"", ev->u.web.reader);
			aev.type = AGENT_EV_MANUAL_CHECK;
			break;
		case WEB_CMD_PROCEED:
			log_info("prompt on \"%s\": proceed", ev->u.web.reader);
			aev.type = AGENT_EV_PROCEED;
			break;
		case WEB_CMD_CLOSE:
			log_info("prompt on \"%s\": close", ev->u.web.reader);
			aev.type = AGENT_EV_CLOSE;
			break;
		case WEB_CMD_CANCEL_SESSION:
			log_info("card update on \"%s\": cancel", ev->u.web.reader);
			aev.type = AGENT_EV_SESSION_CANCEL;
			break;
		}
		break;
	case EV_ADMIN:
#ifdef CONFIG_ADMIN
		switch (ev->u.admin.type) {
		case ADMIN_CMD_CHECK:
			log_info("manual check requested on \"%s\" (admin, %s)",
			    ev->u.admin.reader, ev->u.admin.source);
			aev.type = AGENT_EV_MANUAL_CHECK;
			aev.reader = ev->u.admin.reader;
			break;
		case ADMIN_CMD_RECONNECT:
			log_info("reconnecting to pcscd (admin, %s)", ev->u.admin.source);
			restart_watcher(d, d->cfg.kiosk_readers);
			return;
		case ADMIN_CMD_RELOAD:
			reload(d, "admin");
			return;
		}
#endif
		break;
	}
	handle(d, &aev);
}

static void
set_origin(struct daemon *d)
{
	snprintf(d->kiosk_origin, sizeof(d->kiosk_origin), "http://%s/", d->cfg.kiosk_listen);
}

/* Reloads the configuration file: on SIGHUP, and after the admin page saved it
 * (why says which, for the log). A bad file changes nothing. */
static void
reload(struct daemon *d, const char *why)
{
	static char err[CFG_ERR_MAX];
	static struct cfg nc;

	if (cfg_load(d->cfg_path, &nc, err, sizeof(err)) == -1) {
		log_warnx("%s: %s: rejected, keeping the running configuration:\n%s",
		    why, d->cfg_path, err);
		return;
	}
	if (checker_reconfigure(d->checker, &nc, err, sizeof(err)) == -1) {
		log_warnx("%s: %s: rejected, keeping the running configuration: %s",
		    why, d->cfg_path, err);
		return;
	}
	if (strcmp(nc.kiosk_listen, d->cfg.kiosk_listen) != 0)
		log_warnx("%s: kiosk.listen changes take effect at the next start", why);
#ifdef CONFIG_ADMIN
	if (strcmp(nc.admin_listen, d->cfg.admin_listen) != 0 ||
	    strcmp(nc.admin_tls_cert, d->cfg.admin_tls_cert) != 0 ||
	    strcmp(nc.admin_tls_key, d->cfg.admin_tls_key) != 0 ||
	    strcmp(nc.admin_state_dir, d->cfg.admin_state_dir) != 0)
		log_warnx("%s: admin.listen, tls_cert, tls_key and state_dir changes take "
		    "effect at the next start", why);
#else
	warn_no_admin(&nc, d->cfg_path);
#endif
	if (strcmp(nc.kiosk_readers, d->cfg.kiosk_readers) != 0)
		restart_watcher(d, nc.kiosk_readers);
	snprintf(nc.kiosk_listen, sizeof(nc.kiosk_listen), "%s", d->cfg.kiosk_listen);
	d->cfg = nc;
	d->agent.prompt_timeout_s = nc.prompt_timeout_s;
#ifdef CONFIG_ADMIN
	note_anchors(d);
	admin_reconfigure(d->admin, &nc);
#endif
	log_init(nc.log_level, nc.log_syslog, d->foreground);
	log_info("%s: configuration reloaded from %s", why, d->cfg_path);
	publish(d);
}

static int
run(struct daemon *d, int sfd)
{
	struct pollfd pfd[2];

	pfd[0].fd = evq_fd(d->q);
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	for (;;) {
		int64_t deadline = agent_next_deadline(&d->agent), now;
		int timeout = -1;
		struct event *ev;

		if (deadline >= 0) {
			now = clock_mono_ms();
			timeout = deadline <= now ? 0 : (int)(deadline - now);
		}
		if (poll(pfd, 2, timeout) == -1 && errno != EINTR) {
			log_warn("poll");
			return 1;
		}
		if (pfd[1].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
				if (si.ssi_signo == SIGHUP)
					reload(d, "SIGHUP");
				else {
					log_info("signal %u: stopping", si.ssi_signo);
					return 0;
				}
			}
		}
		if (pfd[0].revents & POLLIN) {
			evq_drain_fd(d->q);
			while ((ev = evq_pop(d->q)) != NULL) {
				dispatch(d, ev);
				free(ev);
			}
		}
		if (deadline >= 0 && clock_mono_ms() >= deadline) {
			struct agent_event aev = { .type = AGENT_EV_TICK, .now_ms = clock_mono_ms() };

			handle(d, &aev);
		}
	}
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: cardupd [-c FILE] [-f] [--check-config] [--version]\n"
	    "  -c FILE          configuration file (default %s)\n"
	    "  -f               foreground: log to stderr\n"
	    "  --check-config   report configuration errors and exit\n"
	    "  --version        print the version and exit\n", CONFIG_CONFIG_PATH_DEFAULT);
}

int
main(int argc, char *argv[])
{
	static struct daemon d;
	static char err[CFG_ERR_MAX];
	static const struct option longopts[] = {
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, foreground = 0, check_only = 0, sfd, rc, detached = 0;
	sigset_t mask;
	struct sigaction sa;

	d.cfg_path = CONFIG_CONFIG_PATH_DEFAULT;
	while ((ch = getopt_long(argc, argv, "c:fh", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			d.cfg_path = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'C':
			check_only = 1;
			break;
		case 'V':
			printf("cardupd %s\n", CARDUPD_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (cfg_load(d.cfg_path, &d.cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "cardupd: configuration errors:\n%s", err);
		return 2;
	}
	if (check_only) {
		struct trust_anchors ta;

#ifndef CONFIG_ADMIN
		warn_no_admin(&d.cfg, d.cfg_path);
#endif
		if (trust_load(d.cfg.cms_anchors, &ta, err, sizeof(err)) == -1) {
			fprintf(stderr, "cardupd: %s: [cms] trust_anchors: %s\n", d.cfg_path, err);
			return 2;
		}
		printf("%s: ok (%zu trust anchors)\n", d.cfg_path, ta.n);
		trust_free(&ta);
		return 0;
	}
	d.foreground = foreground;
	log_init(d.cfg.log_level, d.cfg.log_syslog, foreground);
#ifndef CONFIG_ADMIN
	warn_no_admin(&d.cfg, d.cfg_path);
#endif

	/* Signals arrive through signalfd; every thread inherits this mask. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		return 1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_flags = SA_NOCLDWAIT;	/* hooks are reaped by the kernel */
	sigaction(SIGCHLD, &sa, NULL);

	agent_init(&d.agent, d.cfg.prompt_timeout_s);
#ifdef CONFIG_ADMIN
	metrics_init(&d.metrics);
#endif
	d.started = (long long)time(NULL);
	set_origin(&d);
	if ((d.q = evq_new(CONFIG_EVENT_QUEUE_MAX)) == NULL) {
		log_warn("event queue");
		return 1;
	}
	if ((d.checker = checker_start(&d.cfg, on_check, &d, err, sizeof(err))) == NULL) {
		log_error("%s: [cms] %s", d.cfg_path, err);
		return 2;
	}
	if ((d.web = web_start(d.cfg.kiosk_listen, on_web, &d, err, sizeof(err))) == NULL) {
		log_error("kiosk page: %s", err);
		checker_stop(d.checker);
		return 1;
	}
#ifdef CONFIG_ADMIN
	note_anchors(&d);
	d.admin = admin_start(&d.cfg, d.cfg_path, on_admin, &d, err, sizeof(err));
	if (d.admin == NULL && err[0] != '\0') {
		log_error("admin listener: %s", err);
		web_stop(d.web);
		checker_stop(d.checker);
		return 1;
	}
#endif
	publish(&d);
	if ((d.pcsc = pcsc_start(d.cfg.kiosk_readers, on_pcsc, &d)) == NULL) {
		log_warn("cannot start the reader watcher");
#ifdef CONFIG_ADMIN
		admin_stop(d.admin);
#endif
		web_stop(d.web);
		checker_stop(d.checker);
		return 1;
	}
	log_info("cardupd %s: kiosk page on %s, CMS %s", CARDUPD_VERSION, d.kiosk_origin,
	    d.cfg.cms_url);
	rc = run(&d, sfd);
	for (int i = 0; i < CONFIG_MAX_READERS; i++)
		if (d.sess[i] != NULL) {
			session_cancel(d.sess[i], "device shutting down");
			if (!session_free(d.sess[i], 2000))
				detached = 1;
		}
	pcsc_stop(d.pcsc);
#ifdef CONFIG_ADMIN
	admin_stop(d.admin);
#endif
	web_stop(d.web);
	checker_stop(d.checker);
	/* A session thread still in a long poll may post once more before the process
	 * exits: its queue must outlive it. */
	if (!detached)
		evq_free(d.q, free);
	close(sfd);
	log_info("stopped");
	return rc;
}
