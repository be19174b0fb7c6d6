/* SPDX-License-Identifier: BSD-2-Clause */
/* file.h — the daemon's whole-file I/O: a bounded reader that opens only regular files
 * and never blocks on a FIFO or follows a final symbolic link, an atomic writer (a crash
 * at any instant leaves the old file or the new one, whole), and the lexical check that a
 * path stays inside a directory. Owns no state; every buffer it returns is the caller's. */
#ifndef CARDUPD_FILE_H
#define CARDUPD_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* file_read() flags */
#define FILE_TEXT	0x1	/* refuse NUL bytes ("contains NUL bytes") */
#define FILE_SECRET	0x2	/* file_free() wipes the bytes; failed reads wipe too */
#define FILE_NONEMPTY	0x4	/* refuse an empty file ("empty file") */
#define FILE_FOLLOW	0x8	/* follow a final symbolic link (only for a path the
				   integrator gave, e.g. cardupd -c FILE: read-only-root
				   images link their configuration elsewhere) */

/* What file_read() returns. p is malloc'd with one NUL byte after the len bytes, so a
 * FILE_TEXT read is a C string. Release with file_free(). */
struct file_buf {
	char		*p;
	size_t		 len;
	unsigned	 flags;	/* the flags of the read (file_free wipes FILE_SECRET) */
};

/* Reads the whole file at path, of at most max bytes, into *out (zeroed first).
 * The file is opened O_RDONLY|O_NONBLOCK|O_NOFOLLOW|O_CLOEXEC and fstat()ed before any
 * read: anything but a regular file ("%s: not a regular file": FIFOs, devices,
 * directories, sockets) and a final symbolic link (unless FILE_FOLLOW) are refused
 * without blocking. The size
 * is checked against max before and while reading (a file that grows is refused too).
 * Returns 0, or -1 with a message naming path in err (errlen > 0) and *out empty. */
int file_read(const char *path, size_t max, unsigned flags, struct file_buf *out,
    char *err, size_t errlen);

/* file_read(path, max, FILE_TEXT, ...) for callers that want a C string: returns the
 * malloc'd text (the caller free()s it; wipes it first if it is a secret), or NULL with
 * err. */
char *file_read_text(const char *path, size_t max, char *err, size_t errlen);

/* Frees what file_read() returned (wiping it first when it was a FILE_SECRET read) and
 * zeroes *b. Safe on a zeroed or already freed struct. */
void file_free(struct file_buf *b);

/* Replaces path with the len bytes at data: writes a fresh temporary file in the same
 * directory (O_EXCL, never a link), fdatasync()s it, renames it over path and fsync()s
 * the directory. The new file keeps the old one's permission bits when path existed as
 * a regular file, else gets mode. Concurrent writers of one path are safe (each has its
 * own temporary file; the last rename wins). Returns 0, or -1 with err; on failure path
 * is untouched and no temporary file is left behind. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
    char *err, size_t errlen);

/* Pure, lexical (no realpath, no file system access): 1 when path is an absolute path
 * strictly inside the absolute directory dir ("/etc/cardupd/a.pem" under "/etc/cardupd"
 * or "/etc/cardupd/"), with no empty, "." or ".." component in either; else 0. Symbolic
 * links are not resolved: pair it with file_read()'s O_NOFOLLOW for the last component
 * and a directory that only the daemon's owner can write. */
int file_path_under(const char *path, const char *dir);

#endif
