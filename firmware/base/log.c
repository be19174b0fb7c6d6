/* log.c — see log.h. One formatted line per message, written with a single write(2)
 * so that lines from the watcher, worker and web threads never interleave. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"

static enum log_level	cur_level = LOG_LVL_INFO;
static int		use_syslog;
static int		use_stderr = 1;

static const char *const names[] = { "error", "warn", "info", "debug" };

/* see log.h */
void
log_init(enum log_level level, int to_syslog, int to_stderr)
{
	cur_level = level;
	if (to_syslog && !use_syslog)
		openlog("cardupd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	else if (!to_syslog && use_syslog)
		closelog();
	use_syslog = to_syslog;
	use_stderr = to_stderr;
}

/* see log.h */
void
log_set_level(enum log_level level)
{
	cur_level = level;
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
	char msg[1024], line[1100];
	int saved = errno, n;
	size_t len;

	if (lvl > cur_level)
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
	if (use_syslog)
		syslog(prio[lvl], "%s", msg);
	if (use_stderr) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%03ld cardupd[%s] %s\n",
		    tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000000, names[lvl], msg);
		if (n > 0) {
			len = (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1;
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
