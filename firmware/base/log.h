/* log.h — the daemon's logging: stderr in the foreground, syslog when configured.
 * Thread-safe (one write per message). Messages never carry full card identifiers. */
#ifndef CARDUPD_LOG_H
#define CARDUPD_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets where messages go and which are kept. Callable again (SIGHUP). */
void log_init(enum log_level level, int to_syslog, int to_stderr);
void log_set_level(enum log_level level);

/* Parses "error|warn|info|debug". Returns 0 and sets *out, or -1. */
int log_level_parse(const char *s, enum log_level *out);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* + strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
