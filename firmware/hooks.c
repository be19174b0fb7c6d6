/* hooks.c — see hooks.h. posix_spawn keeps the daemon's memory out of the child's
 * way (no fork of a multi-threaded process followed by arbitrary work). */
#include <errno.h>
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
	if ((rc = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, envp)) != 0) {
		errno = rc;
		log_warn("hook %s: cannot start", what);
		return -1;
	}
	log_debug("hook %s: started pid %d", what, (int)pid);
	return 0;
}
