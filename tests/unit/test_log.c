/* SPDX-License-Identifier: BSD-2-Clause */
/* test_log.c — log.c: under systemd's journal (stderr named by $JOURNAL_STREAM) one
 * copy of each message with its syslog priority ("<N>") and no time prefix; in the
 * foreground on a terminal/pipe the time-prefixed line; and log_init (SIGHUP) running
 * while other threads log. The last test is built a second time with ThreadSanitizer
 * (mk/loop.mk), which fails it on any data race. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "base/log.h"

/* Points stderr at a fresh file; returns the saved stderr. */
static int
capture(char *path, size_t cap)
{
	int fd, saved = dup(STDERR_FILENO);

	snprintf(path, cap, "/tmp/test_log.XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	close(fd);
	return saved;
}

static const char *
release(int saved, const char *path)
{
	static char buf[4096];
	ssize_t n;
	int fd;

	dup2(saved, STDERR_FILENO);
	close(saved);
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	close(fd);
	unlink(path);
	return buf;
}

static void
test_journal_once_with_priority(void **state)
{
	char path[64], js[64];
	struct stat st;
	const char *out;
	int saved;

	(void)state;
	saved = capture(path, sizeof(path));
	assert_int_equal(fstat(STDERR_FILENO, &st), 0);
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
	    (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	assert_int_equal(log_stderr_is_journal(), 1);
	/* syslog asked for: still one copy, on the journal's stream. */
	log_init(LOG_LVL_INFO, 1, 1);
	log_warnx("hello %d", 1);
	log_info("two");
	log_debug("not kept");
	out = release(saved, path);
	unsetenv("JOURNAL_STREAM");
	assert_string_equal(out, "<4>hello 1\n<6>two\n");
}

static void
test_foreground_time_prefix(void **state)
{
	char path[64];
	const char *out;
	int saved;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	saved = capture(path, sizeof(path));
	assert_int_equal(log_stderr_is_journal(), 0);
	log_init(LOG_LVL_DEBUG, 0, 1);
	log_error("bad\nline");
	out = release(saved, path);
	/* "HH:MM:SS.mmm cardupd[error] bad?line" */
	assert_int_equal(strlen(out), 13 + strlen("cardupd[error] bad?line\n"));
	assert_string_equal(out + 13, "cardupd[error] bad?line\n");
	assert_int_equal(out[2], ':');
}

static void
test_daemon_without_syslog_prefixes(void **state)
{
	char path[64];
	const char *out;
	int saved;

	(void)state;
	unsetenv("JOURNAL_STREAM");
	saved = capture(path, sizeof(path));
	log_init(LOG_LVL_INFO, 0, 0);
	log_info("plain");
	out = release(saved, path);
	assert_string_equal(out, "<6>plain\n");
}

static int stop_logging;

static void *
logger(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop_logging, __ATOMIC_SEQ_CST))
		log_info("from a worker thread");
	return NULL;
}

/* SIGHUP's log_init while the watcher, worker and web threads log. */
static void
test_reload_while_logging(void **state)
{
	pthread_t t[2];
	int saved, devnull;

	(void)state;
	saved = dup(STDERR_FILENO);
	devnull = open("/dev/null", O_WRONLY);
	dup2(devnull, STDERR_FILENO);
	close(devnull);
	stop_logging = 0;
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, logger, NULL), 0);
	for (int i = 0; i < 2000; i++) {
		log_init(i % 2 ? LOG_LVL_DEBUG : LOG_LVL_INFO, 0, i % 3 == 0);
		log_set_level(LOG_LVL_INFO);
	}
	__atomic_store_n(&stop_logging, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	dup2(saved, STDERR_FILENO);
	close(saved);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_once_with_priority),
		cmocka_unit_test(test_foreground_time_prefix),
		cmocka_unit_test(test_daemon_without_syslog_prefixes),
		cmocka_unit_test(test_reload_while_logging),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
