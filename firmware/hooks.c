/* SPDX-License-Identifier: BSD-2-Clause */
/* hooks.c — see hooks.h. posix_spawn keeps the daemon's memory out of the child's
 * way (no fork of a multi-threaded process followed by arbitrary work). */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hooks.h"
#include "base/log.h"

extern char **environ;

#define HOOK_ENV_MAX	128

/* see hooks.h */
int
hooks_run(const char *what, const char *cmd, const char *const env[])
{
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	char *envp[HOOK_ENV_MAX + 1];
	size_t n = 0;
	posix_spawnattr_t attr;
	sigset_t none, all;
	pid_t pid;
	int rc;

	if (cmd == NULL || *cmd == '\0')
		return 0;
	for (size_t i = 0; env != NULL && env[i] != NULL && n < HOOK_ENV_MAX / 2; i++)
		envp[n++] = (char *)(uintptr_t)env[i];	/* posix_spawn's prototype is not const */
	for (char **e = environ; *e != NULL && n < HOOK_ENV_MAX; e++)
		if (strncmp(*e, "CARDUPD_", 8) != 0)
			envp[n++] = *e;
	envp[n] = NULL;
	argv[2] = (char *)(uintptr_t)cmd;
	/* The daemon blocks the signals it reads through signalfd and ignores SIGPIPE;
	 * a hook gets neither: an empty mask and every signal at its default. */
	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawnattr_init(&attr)) != 0) {
		errno = rc;
		log_warn("hook %s: cannot start", what);
		return -1;
	}
	if ((rc = posix_spawnattr_setsigmask(&attr, &none)) == 0 &&
	    (rc = posix_spawnattr_setsigdefault(&attr, &all)) == 0 &&
	    (rc = posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) == 0)
		rc = posix_spawn(&pid, "/bin/sh", NULL, &attr, argv, envp);
	posix_spawnattr_destroy(&attr);
	if (rc != 0) {
		errno = rc;
		log_warn("hook %s: cannot start", what);
		return -1;
	}
	log_debug("hook %s: started pid %d", what, (int)pid);
	return 0;
}
