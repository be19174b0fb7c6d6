/* SPDX-License-Identifier: BSD-2-Clause */
/* test_hooks.c — hooks.c: a hook starts with an empty signal mask and every signal at
 * its default disposition, whatever the daemon blocks (signalfd) or ignores (SIGPIPE),
 * and with its CARDUPD_ variables. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "hooks.h"

#define STANDARD	0x7fffffffULL	/* signals 1..31 */

/* Runs a hook that copies its /proc status lines and CARDUPD_EVENT into a file, waits
 * for it to end, and returns the file's content (static buffer). */
static const char *
run_probe(void)
{
	static char buf[4096];
	char dir[] = "/tmp/test_hooks.XXXXXX", cmd[1400], path[64];
	const char *env[] = { "CARDUPD_EVENT=probe", NULL };
	FILE *f;
	size_t n;
	int status;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/out", dir);
	/* $$: the shell the hook runs in, as spawned. */
	snprintf(cmd, sizeof(cmd), "echo \"$CARDUPD_EVENT\" > %s.tmp && grep -E "
	    "'^Sig(Blk|Ign)' /proc/$$/status >> %s.tmp; mv %s.tmp %s", path, path, path,
	    path);
	assert_int_equal(hooks_run("probe", cmd, env), 0);
	/* The only child: wait for it (SIGCHLD is at its default here). */
	while (wait(&status) > 0)
		;
	assert_non_null(f = fopen(path, "r"));
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	rmdir(dir);
	return buf;
}

static void
test_hook_starts_with_clean_signals(void **state)
{
	sigset_t mask;
	const char *out, *p;

	(void)state;
	/* What the daemon does before it starts threads and hooks. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	out = run_probe();
	assert_non_null(strstr(out, "probe\n"));
	assert_non_null(p = strstr(out, "SigBlk:\t"));
	assert_int_equal(strtoull(p + 8, NULL, 16) & STANDARD, 0);
	/* SIGPIPE (bit 12) above all. glibc's own real-time signals 32 and 33 are not
	 * the daemon's doing. */
	assert_non_null(p = strstr(out, "SigIgn:\t"));
	assert_int_equal(strtoull(p + 8, NULL, 16) & STANDARD, 0);
	pthread_sigmask(SIG_UNBLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_DFL);
}

static void
test_no_hook_is_fine(void **state)
{
	(void)state;
	assert_int_equal(hooks_run("none", "", NULL), 0);
	assert_int_equal(hooks_run("none", NULL, NULL), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook_starts_with_clean_signals),
		cmocka_unit_test(test_no_hook_is_fine),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
