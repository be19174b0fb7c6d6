/* SPDX-License-Identifier: BSD-2-Clause */
/* log.c — see log.h. One formatted line per message, written with a single write(2)
 * so that lines from the watcher, worker and web threads never interleave. The whole
 * configuration is one atomic word, read once per message: a reload never shows a
 * message half the old and half the new way (lost, or written twice). */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/log.h"

/* The configuration word: level in the low bits, then where and how. */
#define CF_LEVEL	0x03u
#define CF_SYSLOG	0x04u	/* to syslog */
#define CF_STDERR	0x08u	/* to stderr */
#define CF_PRIO		0x10u	/* stderr lines "<N>message" (journal style), no time */

static _Atomic unsigned	conf = LOG_LVL_INFO | CF_STDERR;
static pthread_mutex_t	open_mu = PTHREAD_MUTEX_INITIALIZER;
static int		syslog_open;	/* under open_mu; never closed again */

static const char *const names[] = { "error", "warn", "info", "debug" };

/* see log.h */
int
log_stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) == -1)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

/* see log.h */
void
log_init(enum log_level level, int to_syslog, int foreground)
{
	unsigned c = (unsigned)level & CF_LEVEL;

	if (log_stderr_is_journal())
		c |= CF_STDERR | CF_PRIO;
	else if (foreground)
		c |= CF_STDERR | (to_syslog ? CF_SYSLOG : 0);
	else
		c |= to_syslog ? CF_SYSLOG : CF_STDERR | CF_PRIO;
	if (c & CF_SYSLOG) {
		pthread_mutex_lock(&open_mu);
		if (!syslog_open)
			openlog("cardupd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
		syslog_open = 1;
		pthread_mutex_unlock(&open_mu);
	}
	atomic_store(&conf, c);
}

/* see log.h */
void
log_set_level(enum log_level level)
{
	unsigned old = atomic_load(&conf);

	while (!atomic_compare_exchange_weak(&conf, &old,
	    (old & ~CF_LEVEL) | ((unsigned)level & CF_LEVEL)))
		;
}

/* see log.h */
int
log_level_parse(const char *s, enum log_level *out)
{
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcasecmp(s, names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

static void
vlog(enum log_level lvl, int with_errno, const char *fmt, va_list ap)
{
	static const int prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
	unsigned c = atomic_load(&conf);
	char msg[1024], line[1100];
	int saved = errno, n;
	size_t len;

	if ((unsigned)lvl > (c & CF_LEVEL))
		return;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (with_errno) {
		len = strlen(msg);
		snprintf(msg + len, sizeof(msg) - len, ": %s", strerror(saved));
	}
	/* Control characters from untrusted strings must not forge log lines. */
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	if (c & CF_SYSLOG)
		syslog(prio[lvl], "%s", msg);
	if (c & CF_STDERR) {
		if (c & CF_PRIO)
			n = snprintf(line, sizeof(line), "<%d>%s\n", prio[lvl], msg);
		else {
			struct timespec ts;
			struct tm tm;

			clock_gettime(CLOCK_REALTIME, &ts);
			gmtime_r(&ts.tv_sec, &tm);
			n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld cardupd[%s] %s\n",
			    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[lvl],
			    msg);
		}
		if (n > 0) {
			len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
			if (line[len - 1] != '\n')
				line[len - 1] = '\n';	/* truncated: still one line */
			if (write(STDERR_FILENO, line, len) < 0) {
				/* nowhere left to report it */
			}
		}
	}
	errno = saved;
}

#define DEFINE_LOG(fn, lvl, err)			\
void							\
fn(const char *fmt, ...)				\
{							\
	va_list ap;					\
	va_start(ap, fmt);				\
	vlog(lvl, err, fmt, ap);			\
	va_end(ap);					\
}

DEFINE_LOG(log_warn, LOG_LVL_WARN, 1)
DEFINE_LOG(log_warnx, LOG_LVL_WARN, 0)
DEFINE_LOG(log_error, LOG_LVL_ERROR, 0)
DEFINE_LOG(log_info, LOG_LVL_INFO, 0)
DEFINE_LOG(log_debug, LOG_LVL_DEBUG, 0)
