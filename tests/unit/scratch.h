/* SPDX-License-Identifier: BSD-2-Clause */
/* scratch.h — the scratch folder of a unit test that writes files: made under /tmp
 * (mkdtemp, 0700) before the group runs, removed with all it holds after it, whatever
 * the tests left there (no shell). Test code only (static functions). Use:
 *	cmocka_run_group_tests(tests, scratch_setup, scratch_teardown)
 * or call scratch_make() / scratch_remove() from a group setup/teardown of one's own;
 * scratch_dir is the folder, scratch_path("name") a file in it. */
#ifndef CARDUPD_TEST_SCRATCH_H
#define CARDUPD_TEST_SCRATCH_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char scratch_dir[] = "/tmp/cardupd-test-XXXXXX";

static inline int
scratch_make(void)
{
	return mkdtemp(scratch_dir) == NULL ? -1 : 0;
}

static inline int
scratch_unlink(const char *path, const struct stat64 *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Removes the folder and everything below it (links removed, not followed). nftw64:
 * 64-bit directory offsets whatever the including file defines (a 32-bit build under
 * qemu-user on a 64-bit host's file system gets EOVERFLOW from the 32-bit readdir). */
static inline int
scratch_remove(void)
{
	return nftw64(scratch_dir, scratch_unlink, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : -1;
}

static inline int
scratch_setup(void **state)
{
	(void)state;
	return scratch_make();
}

static inline int
scratch_teardown(void **state)
{
	(void)state;
	return scratch_remove();
}

/* DIR/name in a static buffer (the next call overwrites it). */
static inline const char *
scratch_path(const char *name)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/%s", scratch_dir, name);
	return path;
}

#endif
