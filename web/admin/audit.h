/* SPDX-License-Identifier: BSD-2-Clause */
/* audit.h — the admin audit log: one line per login, failure and change (when, from
 * where, who, what), appended to <state_dir>/audit.log with O_APPEND and fdatasync,
 * rotated to audit.log.1..N past a size, kept across restarts. Records of
 * unauthenticated callers are bounded (per minute, and never rotating the log), so
 * that nobody can wipe the log or wear the flash from the network. Thread-safe. */
#ifndef CARDUPD_AUDIT_H
#define CARDUPD_AUDIT_H

#include <stddef.h>
#include <time.h>

#define AUDIT_LINE_MAX		1024
#define AUDIT_ANON_PER_MIN	10	/* unauthenticated records written per minute */

struct audit;

/* Opens (creating, 0600) dir/audit.log. max_bytes: rotation size; keep: rotated
 * files kept. Returns NULL with err. */
struct audit *audit_open(const char *dir, size_t max_bytes, int keep, char *err,
    size_t errlen);

/* Appends "2024-05-01T12:00:00Z <source> <who> <action> <detail>". Control
 * characters in any part are replaced so that one record is always one line. Also
 * logged at info level. Errors are logged, never returned: auditing never blocks an
 * action that already happened. */
void audit_log(struct audit *a, time_t when, const char *source, const char *who,
    const char *action, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* audit_log() for what an unauthenticated caller caused (a wrong password or setup
 * code, an attempt refused during a lock-out): who is "-". At most AUDIT_ANON_PER_MIN
 * such records are written per minute (of when), and never one that would make the
 * log rotate: those beyond are counted, and the count is written as an
 * "anon_not_recorded" record before the next record that is written. */
void audit_log_anon(struct audit *a, time_t when, const char *source, const char *action,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Writes the last lines of the current log (newest last), at most cap-1 bytes of
 * whole lines, into out. Returns the length. */
size_t audit_tail(struct audit *a, char *out, size_t cap);

/* Closes the log. NULL is accepted. */
void audit_close(struct audit *a);

#endif
