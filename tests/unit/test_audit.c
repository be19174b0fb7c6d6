/* SPDX-License-Identifier: BSD-2-Clause */
/* test_audit.c — the audit log: one line per record whatever the input holds, appended
 * across reopenings, rotated past its size with N old files kept, tail of whole lines;
 * unauthenticated records bounded per minute, never rotating the log, and counted. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "web/admin/audit.h"
#include "scratch.h"

static void
test_lines_and_rotation(void **state)
{
	char err[256], buf[8192], path[128];
	struct audit *a;
	struct stat st;

	(void)state;
	assert_non_null(a = audit_open(scratch_dir, 1000, 2, err, sizeof(err)));
	audit_log(a, 0, "10.0.0.1", "admin", "login", "logged in");
	audit_log(a, 60, "10.0.0.1", "ad min", "setting", "device.id: \"a\" -> \"x\ny\"");
	audit_tail(a, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00Z 10.0.0.1 admin login logged in\n"
	    "1970-01-01T00:01:00Z 10.0.0.1 ad_min setting device.id: \"a\" -> \"x?y\"\n");
	audit_close(a);
	assert_non_null(a = audit_open(scratch_dir, 1000, 2, err, sizeof(err)));	/* appends */
	audit_log(a, 120, NULL, "", "x", "%s", "");
	audit_tail(a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "logged in\n"));
	assert_non_null(strstr(buf, "1970-01-01T00:02:00Z - - x -\n"));
	for (int i = 0; i < 100; i++)
		audit_log(a, 200 + i, "10.0.0.2", "admin", "setting", "record %03d padding "
		    "padding padding", i);
	snprintf(path, sizeof(path), "%s/audit.log", scratch_dir);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 1000);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(path, sizeof(path), "%s/audit.log.1", scratch_dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/audit.log.2", scratch_dir);
	assert_int_equal(stat(path, &st), 0);
	snprintf(path, sizeof(path), "%s/audit.log.3", scratch_dir);
	assert_int_equal(stat(path, &st), -1);		/* keep = 2 */
	audit_tail(a, buf, 100);			/* whole lines only */
	assert_true(strlen(buf) < 100);
	assert_non_null(strstr(buf, "record 099"));
	assert_true(buf[0] == '1' && buf[strlen(buf) - 1] == '\n');
	audit_close(a);
	assert_null(audit_open("/nonexistent/dir", 1000, 2, err, sizeof(err)));
	assert_non_null(strstr(err, "/nonexistent/dir/audit.log"));
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* 20,000 bad setup codes from the network: at most AUDIT_ANON_PER_MIN records a minute
 * reach the disk, what came before is never rotated away, and the rest is counted. */
static void
test_anonymous_volume(void **state)
{
	char err[256], sub[128], path[192], buf[16384];
	struct audit *a;
	struct stat st;
	FILE *f;

	(void)state;
	snprintf(sub, sizeof(sub), "%s/anon", scratch_dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_non_null(a = audit_open(sub, 4096, 2, err, sizeof(err)));
	audit_log(a, 0, "10.0.0.1", "admin", "setting", "the record to keep");
	for (int i = 0; i < 20000; i++)
		audit_log_anon(a, 60 + i / 200, "10.9.9.9", "setup_failed", "wrong setup code");
	snprintf(path, sizeof(path), "%s/audit.log.1", sub);
	assert_int_equal(stat(path, &st), -1);		/* never rotated */
	snprintf(path, sizeof(path), "%s/audit.log", sub);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size <= 4096);
	assert_non_null(f = fopen(path, "r"));
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	assert_non_null(strstr(buf, "the record to keep"));
	/* the first minute: AUDIT_ANON_PER_MIN records, then only counted */
	assert_true(count(buf, "1970-01-01T00:01:00Z") <= AUDIT_ANON_PER_MIN);
	assert_true(count(buf, "setup_failed") >= AUDIT_ANON_PER_MIN);
	/* an administrator's record tells how many were not written, and may rotate */
	audit_log(a, 200, "10.0.0.1", "admin", "login", "logged in");
	audit_tail(a, buf, sizeof(buf));
	assert_non_null(strstr(buf, "anon_not_recorded"));
	assert_non_null(strstr(buf, "logged in"));
	audit_close(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_rotation),
		cmocka_unit_test(test_anonymous_volume),
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
