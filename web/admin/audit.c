/* SPDX-License-Identifier: BSD-2-Clause */
/* audit.c — see audit.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "web/admin/audit.h"
#include "base/log.h"

struct audit {
	pthread_mutex_t	mu;
	char		path[PATH_MAX];
	int		fd;
	size_t		size, max_bytes;
	int		keep;
	long long	anon_minute;	/* the minute anon_written counts in */
	unsigned	anon_written;
	unsigned long	anon_dropped;	/* anonymous records not written, not yet told */
};

static int
open_log(struct audit *a)
{
	struct stat st;

	/* O_NONBLOCK and the type check: a FIFO planted as audit.log must not block. */
	a->fd = open(a->path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK, 0600);
	if (a->fd == -1)
		return -1;
	if (fstat(a->fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		close(a->fd);
		a->fd = -1;
		errno = EINVAL;
		return -1;
	}
	a->size = (size_t)st.st_size;
	return 0;
}

/* see audit.h */
struct audit *
audit_open(const char *dir, size_t max_bytes, int keep, char *err, size_t errlen)
{
	struct audit *a;

	if ((a = calloc(1, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (snprintf(a->path, sizeof(a->path), "%s/audit.log", dir) >= (int)sizeof(a->path) - 4) {
		snprintf(err, errlen, "%s: path too long", dir);
		free(a);
		return NULL;
	}
	a->max_bytes = max_bytes;
	a->keep = keep;
	if (open_log(a) == -1) {
		snprintf(err, errlen, "%s: %s", a->path, strerror(errno));
		free(a);
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	return a;
}

static void
rotate(struct audit *a)
{
	char from[PATH_MAX + 16], to[PATH_MAX + 16];

	close(a->fd);
	a->fd = -1;
	for (int i = a->keep; i >= 1; i--) {
		if (i == 1)
			snprintf(from, sizeof(from), "%s", a->path);
		else
			snprintf(from, sizeof(from), "%s.%d", a->path, i - 1);
		snprintf(to, sizeof(to), "%s.%d", a->path, i);
		if (rename(from, to) == -1 && errno != ENOENT)
			log_warn("audit: rename %s", from);
	}
	if (open_log(a) == -1)
		log_warn("audit: %s", a->path);
}

/* Copies s into out replacing control characters by '?' and spaces by '_' when
 * nospace (the fixed fields), so that fields and records stay apart. */
static void
clean(char *out, size_t cap, const char *s, int nospace)
{
	size_t o = 0;

	for (; s != NULL && *s && o + 1 < cap; s++) {
		unsigned char c = (unsigned char)*s;

		out[o++] = c < 0x20 || c == 0x7f ? '?' : (nospace && c == ' ') ? '_' : (char)c;
	}
	out[o] = '\0';
	if (o == 0 && cap > 1)
		snprintf(out, cap, "-");
}

/* Formats one record into line (cap AUDIT_LINE_MAX). Returns its length (>0). */
static int
format_line(char *line, time_t when, const char *source, const char *who,
    const char *action, const char *detail)
{
	char d2[600], src[80], w[80], act[48], ts[32];
	struct tm tm;
	int n;

	clean(d2, sizeof(d2), detail, 0);
	clean(src, sizeof(src), source, 1);
	clean(w, sizeof(w), who, 1);
	clean(act, sizeof(act), action, 1);
	gmtime_r(&when, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = snprintf(line, AUDIT_LINE_MAX, "%s %s %s %s %s\n", ts, src, w, act, d2);
	if (n < 0)
		return 0;
	if (n >= AUDIT_LINE_MAX) {
		n = AUDIT_LINE_MAX - 1;
		line[n - 1] = '\n';
	}
	log_info("audit: %s %s %s %s", src, w, act, d2);
	return n;
}

/* Appends line (n bytes) and syncs it; rotates first when it would not fit and
 * may_rotate. Returns 0, or -1 when it was not written. Called with a->mu held. */
static int
append(struct audit *a, const char *line, size_t n, int may_rotate)
{
	if (a->fd != -1 && a->size + n > a->max_bytes && a->size > 0) {
		if (!may_rotate)
			return -1;
		rotate(a);
	}
	if (a->fd == -1 || write(a->fd, line, n) != (ssize_t)n) {
		log_warn("audit: cannot write %s", a->path);
		return -1;
	}
	a->size += n;
	if (fdatasync(a->fd) == -1)
		log_warn("audit: fdatasync %s", a->path);
	return 0;
}

/* Writes the count of anonymous records not written, when there is one. */
static void
tell_dropped(struct audit *a, time_t when, int may_rotate)
{
	char line[AUDIT_LINE_MAX], detail[128];
	int n;

	if (a->anon_dropped == 0)
		return;
	snprintf(detail, sizeof(detail), "%lu records of unauthenticated callers not "
	    "written (rate or size limit)", a->anon_dropped);
	n = format_line(line, when, "-", "-", "anon_not_recorded", detail);
	if (n > 0 && append(a, line, (size_t)n, may_rotate) == 0)
		a->anon_dropped = 0;
}

static void
log_record(struct audit *a, time_t when, const char *source, const char *who,
    const char *action, int anon, const char *fmt, va_list ap)
{
	char detail[600], line[AUDIT_LINE_MAX];
	int n;

	vsnprintf(detail, sizeof(detail), fmt, ap);
	if (a == NULL) {
		format_line(line, when, source, who, action, detail);
		return;
	}
	pthread_mutex_lock(&a->mu);
	if (anon) {
		long long minute = (long long)when / 60;

		if (minute != a->anon_minute) {
			a->anon_minute = minute;
			a->anon_written = 0;
		}
		/* the count itself takes one of the minute's records */
		if (a->anon_written + (a->anon_dropped > 0) >= AUDIT_ANON_PER_MIN) {
			a->anon_dropped++;
			pthread_mutex_unlock(&a->mu);
			return;
		}
	}
	if (anon && a->anon_dropped > 0) {
		tell_dropped(a, when, 0);
		a->anon_written++;
	}
	if (!anon)
		tell_dropped(a, when, 1);
	n = format_line(line, when, source, who, action, detail);
	if (n > 0 && append(a, line, (size_t)n, !anon) == -1 && anon)
		a->anon_dropped++;
	else if (anon)
		a->anon_written++;
	pthread_mutex_unlock(&a->mu);
}

/* see audit.h */
void
audit_log(struct audit *a, time_t when, const char *source, const char *who,
    const char *action, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_record(a, when, source, who, action, 0, fmt, ap);
	va_end(ap);
}

/* see audit.h */
void
audit_log_anon(struct audit *a, time_t when, const char *source, const char *action,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_record(a, when, source, "-", action, 1, fmt, ap);
	va_end(ap);
}

/* see audit.h */
size_t
audit_tail(struct audit *a, char *out, size_t cap)
{
	char *buf;
	size_t want = cap - 1, got = 0, start = 0;
	off_t from;
	ssize_t r;
	int fd;

	out[0] = '\0';
	if (a == NULL || cap < 2)
		return 0;
	if ((buf = malloc(want)) == NULL)
		return 0;
	pthread_mutex_lock(&a->mu);
	from = a->size > want ? (off_t)(a->size - want) : 0;
	fd = open(a->path, O_RDONLY | O_CLOEXEC);
	pthread_mutex_unlock(&a->mu);
	if (fd != -1) {
		while (got < want && (r = pread(fd, buf + got, want - got, from + (off_t)got)) > 0)
			got += (size_t)r;
		close(fd);
	}
	if (from > 0) {	/* drop the partial first line */
		char *nl = memchr(buf, '\n', got);

		start = nl ? (size_t)(nl - buf) + 1 : got;
	}
	memcpy(out, buf + start, got - start);
	out[got - start] = '\0';
	free(buf);
	return got - start;
}

/* see audit.h */
void
audit_close(struct audit *a)
{
	if (a == NULL)
		return;
	if (a->fd != -1)
		close(a->fd);
	pthread_mutex_destroy(&a->mu);
	free(a);
}
