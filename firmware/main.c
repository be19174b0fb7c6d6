/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c — the daemon's command line, start and stop: reads the configuration, sets up
 * logging and signals, starts the loop (loop.c, the owner of state), tells systemd it
 * is ready, runs it until SIGTERM, stops it. Exit codes (SPEC §4): 0 ok, 1 runtime
 * failure, 2 usage or configuration error. */
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "autoconf.h"
#include "base/log.h"
#include "base/pages.h"
#include "cms/trust.h"
#include "core/config.h"
#include "loop.h"
#include "process.h"
#include "web/admin/admin.h"
#include "version.h"

static struct loop *start(const char *cfg_path, int foreground, int check_only, int *sfd,
    int *rc);
static void usage(FILE *f);
static int check_config(const char *path, const struct cfg *cfg);
static int signals_fd(void);
static void notify_systemd(const char *state);

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfg_path = CONFIG_CONFIG_PATH_DEFAULT;
	int ch, foreground = 0, check_only = 0, sfd, rc;
	struct loop *l;

	process_setup();
	while ((ch = getopt_long(argc, argv, "c:fh", longopts, NULL)) != -1)
		switch (ch) {
		case 'c':
			cfg_path = optarg;
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
	if ((l = start(cfg_path, foreground, check_only, &sfd, &rc)) == NULL)
		return rc;
	notify_systemd("READY=1");
	rc = loop_run(l, sfd);
	notify_systemd("STOPPING=1");
	loop_stop(l);
	close(sfd);
	log_info("stopped");
	return rc;
}

/* Reads the configuration and starts the loop with it (or, for --check-config, checks
 * it). The file's parsed copy and its error text (13 KiB) live on pages given back
 * once the loop holds its own copy: as statics they would stay resident for good.
 * Returns the loop, or NULL with *rc the exit code (0 after --check-config). */
static struct loop *
start(const char *cfg_path, int foreground, int check_only, int *sfd, int *rc)
{
	struct boot {
		struct cfg	cfg;
		char		err[CFG_ERR_MAX];
	} *b;
	struct loop *l = NULL;

	if ((b = pages_alloc(sizeof(*b))) == NULL) {
		fprintf(stderr, "cardupd: out of memory\n");
		*rc = 1;
		return NULL;
	}
	if (cfg_load(cfg_path, &b->cfg, b->err, sizeof(b->err)) == -1) {
		fprintf(stderr, "cardupd: configuration errors:\n%s", b->err);
		*rc = 2;
		goto out;
	}
	if (check_only) {
		*rc = check_config(cfg_path, &b->cfg);
		goto out;
	}
	log_init(b->cfg.log_level, b->cfg.log_syslog, foreground);
	if ((*sfd = signals_fd()) == -1) {
		*rc = 1;
		goto out;
	}
	if ((l = loop_start(&b->cfg, cfg_path, foreground, rc, b->err,
	    sizeof(b->err))) == NULL) {
		log_error("%s", b->err);
		close(*sfd);
	}
out:
	pages_free(b, sizeof(*b));
	return l;
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

/* --check-config: the file parsed already; the trust anchors must load too. */
static int
check_config(const char *path, const struct cfg *cfg)
{
	static char err[CFG_ERR_MAX];
	struct trust_anchors ta;

	/* What this build does with [admin]: a build without the listener says that
	 * admin.listen is ignored (web/admin/admin_none.c). */
	admin_reconfigure(NULL, cfg);
	if (trust_load(cfg->cms_anchors, &ta, err, sizeof(err)) == -1) {
		fprintf(stderr, "cardupd: %s: [cms] trust_anchors: %s\n", path, err);
		return 2;
	}
	printf("%s: ok (%zu trust anchors)\n", path, ta.n);
	trust_free(&ta);
	return 0;
}

/* SIGTERM, SIGINT and SIGHUP arrive through a signalfd: they are blocked here, before
 * any thread starts, so every thread inherits the mask (hooks do not: hooks.c).
 * SIGPIPE is ignored (a peer gone mid-write is an error return, not a death). */
static int
signals_fd(void)
{
	struct sigaction sa;
	sigset_t mask;
	int sfd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	if ((sfd = signalfd(-1, &mask, SFD_CLOEXEC)) == -1) {
		log_warn("signalfd");
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_flags = SA_NOCLDWAIT;	/* hooks are reaped by the kernel */
	sigaction(SIGCHLD, &sa, NULL);
	return sfd;
}

/* sd_notify(3) without libsystemd: one datagram to $NOTIFY_SOCKET (a path, or an
 * abstract name starting with '@'). Nothing when not started by systemd. */
static void
notify_systemd(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun;
	socklen_t len;
	size_t n;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    (n = strlen(path)) >= sizeof(sun.sun_path))
		return;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, n);
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) == -1) {
		log_warn("systemd notification: socket");
		return;
	}
	if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sun, len) == -1)
		log_warn("systemd notification: %s", path);
	close(fd);
}
