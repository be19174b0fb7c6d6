/* SPDX-License-Identifier: BSD-2-Clause */
/* main.c — the daemon's command line, start and stop: reads the configuration, sets up
 * logging and signals, starts the loop (loop.c, the owner of state), tells systemd it
 * is ready, runs it until SIGTERM, stops it. Exit codes (SPEC §4): 0 ok, 1 runtime
 * failure, 2 usage or configuration error. */
#include <dlfcn.h>
#include <getopt.h>
#include <malloc.h>
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
#include "cms/trust.h"
#include "core/config.h"
#include "loop.h"
#include "web/admin/admin.h"
#include "version.h"

static void usage(FILE *f);
static int check_config(const char *path, const struct cfg *cfg);
static int signals_fd(void);
static void notify_systemd(const char *state);
static void tune_memory(void);
int _gnutls_global_init_skip(void);
int gnutls_global_init(void);
void gnutls_global_deinit(void);

/* Set on entry to main(): the libraries' constructors are over. */
static int main_entered;

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "check-config", no_argument, NULL, 'C' },
		{ "version", no_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static struct cfg cfg;
	static char err[CFG_ERR_MAX];
	const char *cfg_path = CONFIG_CONFIG_PATH_DEFAULT;
	int ch, foreground = 0, check_only = 0, sfd, rc;
	struct loop *l;

	main_entered = 1;
	tune_memory();
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
	if (cfg_load(cfg_path, &cfg, err, sizeof(err)) == -1) {
		fprintf(stderr, "cardupd: configuration errors:\n%s", err);
		return 2;
	}
	if (check_only)
		return check_config(cfg_path, &cfg);
	log_init(cfg.log_level, cfg.log_syslog, foreground);
	if ((sfd = signals_fd()) == -1)
		return 1;
	if ((l = loop_start(&cfg, cfg_path, foreground, &rc, err, sizeof(err))) == NULL) {
		log_error("%s", err);
		return rc;
	}
	notify_systemd("READY=1");
	rc = loop_run(l, sfd);
	notify_systemd("STOPPING=1");
	loop_stop(l);
	close(sfd);
	log_info("stopped");
	return rc;
}

/* Idle memory (tests/bench/bench_footprint.py, docs/performance.md), set before the
 * first thread exists:
 * - one malloc arena: glibc gives every thread that mallocs an arena of its own (a
 *   64 MiB reservation, its touched pages resident for good); ours allocate rarely
 *   and briefly, so sharing the main one costs no measurable contention;
 * - blocks of MMAP_THRESHOLD and more straight from mmap(): the few large ones (the loop,
 *   the event queue's per-reader slots, the CMS client's TLS buffers) are made at
 *   start-up and calloc()ed; from the heap calloc() clears them whole, from mmap() the
 *   pages stay untouched until used. Nothing that large is allocated per event or per
 *   request (the largest, libmicrohttpd's 32 KiB connection pool, stays below);
 * - a default stack size for every thread created without one of its own (the CMS
 *   worker, the admin listener's threads, libraries'): glibc's default is RLIMIT_STACK
 *   (8 MiB), which transparent huge pages (enabled=always) can back with 2 MiB pages;
 *   the deepest of ours touches under 64 KiB. */
#define MMAP_THRESHOLD		(48 * 1024)
#define THREAD_STACK_DEFAULT	(256 * 1024)

static void
tune_memory(void)
{
	pthread_attr_t attr;

	(void)mallopt(M_ARENA_MAX, 1);
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	if (pthread_attr_init(&attr) == 0) {
		(void)pthread_attr_setstacksize(&attr, THREAD_STACK_DEFAULT);
		(void)pthread_setattr_default_np(&attr);
		(void)pthread_attr_destroy(&attr);
	}
}

/*
 * GnuTLS initialised by the admin listener when it starts (web/admin/admin.c calls
 * gnutls_global_init()), never by a library constructor. Debian's libmicrohttpd is
 * built with HTTPS: it links GnuTLS, whose constructor initialises it, and its own
 * (MHD_init) calls gnutls_global_init() too; that costs ~1 MiB of resident memory
 * (tests/bench/bench_footprint.py, docs/performance.md) in every cardupd, also one
 * whose admin listener is not configured or not built. Symbols the executable defines
 * come first in symbol lookup (the linker exports these three because the libraries
 * name them), so:
 * - _gnutls_global_init_skip() is GnuTLS's GNUTLS_SKIP_GLOBAL_INIT (gnutls.h): its
 *   constructor skips the implicit initialisation;
 * - gnutls_global_init() called before main() (by MHD_init) does nothing; called
 *   later, it is GnuTLS's (the next definition in lookup order);
 * - gnutls_global_deinit() undoes only what reached GnuTLS (MHD_fini's, at exit, pairs
 *   with the call MHD_init did not make).
 * Only the cardupd executable has them: unit tests and fuzzers get GnuTLS as it is.
 */
#if defined(CONFIG_ADMIN) && CONFIG_ADMIN
static int gnutls_live;	/* initialisations that reached GnuTLS, not yet undone */
#endif

int
_gnutls_global_init_skip(void)
{
	return 1;
}

int
gnutls_global_init(void)
{
#if defined(CONFIG_ADMIN) && CONFIG_ADMIN
	int (*real)(void);
	int rc;

	if (!main_entered)
		return 0;
	if ((real = (int (*)(void))dlsym(RTLD_NEXT, "gnutls_global_init")) == NULL)
		return -59;	/* GNUTLS_E_INTERNAL_ERROR: GnuTLS is not there */
	if ((rc = real()) >= 0)
		gnutls_live++;
	return rc;
#else
	return 0;	/* nothing in a build without the admin listener uses GnuTLS */
#endif
}

void
gnutls_global_deinit(void)
{
#if defined(CONFIG_ADMIN) && CONFIG_ADMIN
	void (*real)(void);

	if (gnutls_live == 0)
		return;
	if ((real = (void (*)(void))dlsym(RTLD_NEXT, "gnutls_global_deinit")) != NULL) {
		gnutls_live--;
		real();
	}
#endif
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
