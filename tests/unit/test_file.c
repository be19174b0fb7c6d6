/* SPDX-License-Identifier: BSD-2-Clause */
/* test_file.c — base/file: the bounded reader refuses FIFOs (without blocking), links,
 * devices, directories, over-long and growing files; the atomic writer keeps modes and
 * leaves no temporary file; the lexical "path under directory" check. */
/* 64-bit directory offsets: a 32-bit build (armhf under qemu-user on a 64-bit host's
 * file system) would otherwise get EOVERFLOW from readdir and see an empty folder. */
#define _FILE_OFFSET_BITS 64
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "base/file.h"
#include "scratch.h"

static char err[512];

static void
put(const char *name, const char *data, size_t len)
{
	FILE *f;

	assert_non_null(f = fopen(scratch_path(name), "w"));
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static void
test_read_regular(void **state)
{
	struct file_buf b;

	(void)state;
	put("a.txt", "hello\n", 6);
	assert_int_equal(file_read(scratch_path("a.txt"), 6, FILE_TEXT,
	    &b, err, sizeof(err)), 0);
	assert_int_equal(b.len, 6);
	assert_string_equal(b.p, "hello\n");
	file_free(&b);
	assert_null(b.p);
	file_free(&b);	/* twice is harmless */
	/* one byte over the bound */
	assert_int_equal(file_read(scratch_path("a.txt"), 5, 0, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than 5 bytes"));
	assert_null(b.p);
	/* binary with FILE_SECRET, NUL bytes allowed without FILE_TEXT */
	put("k.bin", "a\0b", 3);
	assert_int_equal(file_read(scratch_path("k.bin"), 100, FILE_SECRET,
	    &b, err, sizeof(err)), 0);
	assert_int_equal(b.len, 3);
	assert_memory_equal(b.p, "a\0b", 3);
	file_free(&b);
	assert_int_equal(file_read(scratch_path("k.bin"), 100, FILE_TEXT,
	    &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "contains NUL bytes"));
	put("e", "", 0);
	assert_int_equal(file_read(scratch_path("e"), 100, 0, &b, err, sizeof(err)), 0);
	assert_int_equal(b.len, 0);
	assert_string_equal(b.p, "");
	file_free(&b);
	assert_int_equal(file_read(scratch_path("e"), 100, FILE_NONEMPTY,
	    &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "empty file"));
	assert_int_equal(file_read(scratch_path("missing"), 100, 0,
	    &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing: No such file"));
}

/* Issue 13 item 1: a FIFO named as a file must be refused at once, not block open(). */
static void
test_fifo_never_blocks(void **state)
{
	struct file_buf b;
	struct timespec t0, t1;

	(void)state;
	assert_int_equal(mkfifo(scratch_path("fifo"), 0600), 0);
	alarm(5);	/* a blocking open() would hang here: fail loudly instead */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(file_read(scratch_path("fifo"), 100, 0, &b, err, sizeof(err)), -1);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	alarm(0);
	assert_true(t1.tv_sec - t0.tv_sec < 2);
	assert_non_null(strstr(err, "fifo: not a regular file"));
}

static void
test_refuses_links_dirs_devices(void **state)
{
	struct file_buf b;
	char target[256];

	(void)state;
	put("target", "x", 1);
	snprintf(target, sizeof(target), "%s", scratch_path("target"));
	assert_int_equal(symlink(target, scratch_path("link")), 0);
	assert_int_equal(file_read(scratch_path("link"), 100, 0, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "symbolic link"));
	/* FILE_FOLLOW (the configuration's own path): the link is followed, and a link to
	 * something that is not a regular file is still refused. */
	assert_int_equal(file_read(scratch_path("link"), 100, FILE_FOLLOW,
	    &b, err, sizeof(err)), 0);
	assert_int_equal(b.len, 1);
	file_free(&b);
	assert_int_equal(symlink("/dev/zero", scratch_path("devlink")), 0);
	assert_int_equal(file_read(scratch_path("devlink"), 100, FILE_FOLLOW,
	    &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(file_read(scratch_dir, 100, 0, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	assert_int_equal(file_read("/dev/zero", 100, 0, &b, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/dev/zero: not a regular file"));
	assert_int_equal(file_read("/dev/null", 100, 0, &b, err, sizeof(err)), -1);
}

static int
count_entries(void)
{
	DIR *d = opendir(scratch_dir);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, "w.conf", 6) == 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_atomic(void **state)
{
	struct file_buf b;
	struct stat st;
	char path[256], *text;

	(void)state;
	snprintf(path, sizeof(path), "%s", scratch_path("w.conf"));
	assert_int_equal(file_write_atomic(path, "one\n", 4, 0640, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0640);
	chmod(path, 0600);
	assert_int_equal(file_write_atomic(path, "two\n", 4, 0644, err, sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);	/* the old mode is kept */
	assert_int_equal(file_read(path, 100, FILE_TEXT, &b, err, sizeof(err)), 0);
	assert_string_equal(b.p, "two\n");
	file_free(&b);
	/* the same bounded read as a C string */
	assert_non_null(text = file_read_text(path, 100, err, sizeof(err)));
	assert_string_equal(text, "two\n");
	free(text);
	assert_null(file_read_text(path, 2, err, sizeof(err)));
	assert_int_equal(count_entries(), 1);	/* no temporary file left */
	/* a link at path is replaced, its target untouched */
	put("t2", "keep", 4);
	unlink(path);
	{
		char target[256];

		snprintf(target, sizeof(target), "%s", scratch_path("t2"));
		assert_int_equal(symlink(target, path), 0);
	}
	assert_int_equal(file_write_atomic(path, "new", 3, 0600, err, sizeof(err)), 0);
	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(file_read(scratch_path("t2"), 100, 0, &b, err, sizeof(err)), 0);
	assert_string_equal(b.p, "keep");
	file_free(&b);
	snprintf(path, sizeof(path), "%s/missing/a.conf", scratch_dir);
	assert_int_equal(file_write_atomic(path, "x", 1, 0600, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "missing"));
	/* a bare name writes in the current directory */
	assert_int_equal(chdir(scratch_dir), 0);
	assert_int_equal(file_write_atomic("w.conf.bare", "b", 1, 0600, err, sizeof(err)), 0);
	assert_int_equal(file_read(scratch_path("w.conf.bare"), 10, 0,
	    &b, err, sizeof(err)), 0);
	file_free(&b);
}

static void
test_path_under(void **state)
{
	(void)state;
	assert_int_equal(file_path_under("/etc/cardupd/a.pem", "/etc/cardupd"), 1);
	assert_int_equal(file_path_under("/etc/cardupd/a.pem", "/etc/cardupd/"), 1);
	assert_int_equal(file_path_under("/etc/cardupd/sub/a.pem", "/etc/cardupd"), 1);
	assert_int_equal(file_path_under("/etc/a.pem", "/"), 1);
	assert_int_equal(file_path_under("/etc/cardupd", "/etc/cardupd"), 0);
	assert_int_equal(file_path_under("/etc/cardupd/", "/etc/cardupd"), 0);
	assert_int_equal(file_path_under("/etc/cardupdX/a", "/etc/cardupd"), 0);
	assert_int_equal(file_path_under("/etc/cardupd/../shadow", "/etc/cardupd"), 0);
	assert_int_equal(file_path_under("/etc/cardupd/./a", "/etc/cardupd"), 0);
	assert_int_equal(file_path_under("/etc/cardupd//a", "/etc/cardupd"), 0);
	assert_int_equal(file_path_under("/etc/cardupd/a/..", "/etc/cardupd"), 0);
	assert_int_equal(file_path_under("etc/cardupd/a", "etc/cardupd"), 0);
	assert_int_equal(file_path_under("/etc/cardupd/a", "/etc/../etc/cardupd"), 0);
	assert_int_equal(file_path_under("/var/lib/x", "/etc/cardupd"), 0);
	assert_int_equal(file_path_under("", "/"), 0);
	assert_int_equal(file_path_under("/", "/"), 0);
	assert_int_equal(file_path_under(NULL, "/"), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_regular),
		cmocka_unit_test(test_fifo_never_blocks),
		cmocka_unit_test(test_refuses_links_dirs_devices),
		cmocka_unit_test(test_write_atomic),
		cmocka_unit_test(test_path_under),
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
