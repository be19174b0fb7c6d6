/* SPDX-License-Identifier: BSD-2-Clause */
/* log.h — the daemon's logging: one copy of each message, to stderr or to syslog.
 * Thread-safe: one write per message, and log_init may run (SIGHUP) while other threads
 * log — each message sees one whole configuration, old or new. Messages never carry
 * full card identifiers. */
#ifndef CARDUPD_LOG_H
#define CARDUPD_LOG_H

enum log_level { LOG_LVL_ERROR, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Sets where messages go and which are kept; callable again at any time (SIGHUP).
 * - stderr is the journal (systemd: $JOURNAL_STREAM names stderr's device:inode):
 *   stderr only, each line "<N>message" with N its syslog priority (sd-daemon(3)),
 *   no time prefix, never syslog as well — the journal keeps one copy.
 * - otherwise foreground (-f): stderr, "HH:MM:SS.mmm cardupd[level] message" (UTC),
 *   plus syslog when to_syslog.
 * - otherwise: syslog when to_syslog, else stderr with "<N>" prefixes. */
void log_init(enum log_level level, int to_syslog, int foreground);

/* Keeps only messages at level or more severe. Any thread. */
void log_set_level(enum log_level level);

/* 1 when stderr is the systemd journal's stream ($JOURNAL_STREAM matches it). */
int log_stderr_is_journal(void);

/* Parses "error|warn|info|debug". Returns 0 and sets *out, or -1. */
int log_level_parse(const char *s, enum log_level *out);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));	/* + strerror(errno) */
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
