/* SPDX-License-Identifier: BSD-2-Clause */
/* file.c — see file.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/file.h"

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* see file.h */
void
file_free(struct file_buf *b)
{
	if (b->p != NULL) {
		if (b->flags & FILE_SECRET)
			explicit_bzero(b->p, b->len + 1);
		free(b->p);
	}
	memset(b, 0, sizeof(*b));
}

/* see file.h */
int
file_read(const char *path, size_t max, unsigned flags, struct file_buf *out,
    char *err, size_t errlen)
{
	struct stat st;
	size_t got = 0, cap = 0;
	ssize_t r;
	int fd, e;
	char extra;

	memset(out, 0, sizeof(*out));
	out->flags = flags;
	/* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY |
	    ((flags & FILE_FOLLOW) ? 0 : O_NOFOLLOW));
	if (fd == -1) {
		if (errno == ELOOP)
			seterr(err, errlen, "%s: is a symbolic link (refused)", path);
		else
			seterr(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		seterr(err, errlen, "%s: not a regular file", path);
		goto fail;
	}
	if (st.st_size < 0 || (unsigned long long)st.st_size > max) {
		seterr(err, errlen, "%s: larger than %zu bytes", path, max);
		goto fail;
	}
	cap = (size_t)st.st_size;
	if ((out->p = malloc(cap + 1)) == NULL) {
		seterr(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while (got < cap) {
		r = read(fd, out->p + got, cap - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			e = errno;
			seterr(err, errlen, "%s: %s", path, strerror(e));
			goto fail;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	out->len = got;
	out->p[got] = '\0';
	if (got != cap) {
		seterr(err, errlen, "%s: short read (changed while being read)", path);
		goto fail;
	}
	do
		r = read(fd, &extra, 1);
	while (r == -1 && errno == EINTR);
	if (r != 0) {
		seterr(err, errlen, r > 0 ? "%s: changed while being read" : "%s: read error",
		    path);
		goto fail;
	}
	close(fd);
	fd = -1;
	if ((flags & FILE_NONEMPTY) && got == 0) {
		seterr(err, errlen, "%s: empty file", path);
		goto fail;
	}
	if ((flags & FILE_TEXT) && memchr(out->p, '\0', got) != NULL) {
		seterr(err, errlen, "%s: contains NUL bytes (not a text file)", path);
		goto fail;
	}
	return 0;
fail:
	if (fd != -1)
		close(fd);
	if (out->p != NULL && (flags & FILE_SECRET))
		explicit_bzero(out->p, cap + 1);
	free(out->p);
	memset(out, 0, sizeof(*out));
	return -1;
}

/* see file.h */
char *
file_read_text(const char *path, size_t max, char *err, size_t errlen)
{
	struct file_buf b;

	if (file_read(path, max, FILE_TEXT, &b, err, errlen) == -1)
		return NULL;
	return b.p;
}

/* Copies the directory part of path ("." for a bare name) into dir. */
static int
dir_of(const char *path, char *dir, size_t dirlen)
{
	const char *slash = strrchr(path, '/');
	size_t n;

	if (slash == NULL)
		return snprintf(dir, dirlen, ".") < (int)dirlen ? 0 : -1;
	n = slash == path ? 1 : (size_t)(slash - path);
	if (n >= dirlen)
		return -1;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return 0;
}

/* see file.h */
int
file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen)
{
	char tmp[PATH_MAX], dir[PATH_MAX];
	const char *p = data;
	struct stat st;
	size_t off = 0;
	int fd, dfd, e;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp) ||
	    dir_of(path, dir, sizeof(dir)) == -1) {
		seterr(err, errlen, "%s: path too long", path);
		return -1;
	}
	if (lstat(path, &st) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	/* mkostemp: O_CREAT|O_EXCL, mode 0600 until the fchmod below. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		seterr(err, errlen, "%s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fchmod(fd, mode) == -1)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, p + off, len - off);

		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fdatasync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	/* The rename is only durable once the directory is on disk too. */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 || fsync(dfd) == -1) {
		e = errno;
		if (dfd != -1)
			close(dfd);
		seterr(err, errlen, "%s: fsync of its directory: %s", path, strerror(e));
		return -1;
	}
	close(dfd);
	return 0;
fail:
	e = errno;
	seterr(err, errlen, "%s: %s", tmp, strerror(e));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

/* 1 when the absolute path s has no empty, "." or ".." component (one trailing slash
 * is allowed when trailing_ok). */
static int
clean_abs(const char *s, int trailing_ok)
{
	const char *c;

	if (s[0] != '/')
		return 0;
	for (c = s + 1;;) {
		const char *e = strchr(c, '/');
		size_t n = e != NULL ? (size_t)(e - c) : strlen(c);

		if (n == 0) {
			/* "/" alone, or a trailing slash */
			if (e == NULL && (trailing_ok || c == s + 1))
				return 1;
			return 0;
		}
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (e == NULL)
			return 1;
		c = e + 1;
	}
}

/* see file.h */
int
file_path_under(const char *path, const char *dir)
{
	size_t dl;

	if (path == NULL || dir == NULL || !clean_abs(dir, 1) || !clean_abs(path, 0))
		return 0;
	dl = strlen(dir);
	while (dl > 0 && dir[dl - 1] == '/')
		dl--;
	/* dir "/" (dl 0): every clean absolute path but "/" itself */
	return strncmp(path, dir, dl) == 0 && path[dl] == '/' && path[dl + 1] != '\0';
}
