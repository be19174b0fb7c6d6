/* SPDX-License-Identifier: BSD-2-Clause */
/* test_buf.c — base/buf: appends of every kind across the growth steps, the text
 * NUL-terminated after each, what buf_take hands over (an empty buffer gives ""), and a
 * formatted append that does not fit the room left. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/buf.h"

static void
test_appends(void **state)
{
	struct buf b = BUF_INIT;
	char want[8192];
	size_t len, o = 0;
	char *t;

	(void)state;
	for (int i = 0; i < 600; i++) {
		buf_puts(&b, "ab");
		buf_put(&b, "c\0d", 3);		/* bytes, NUL included */
		buf_printf(&b, "[%d]", i);
		memcpy(want + o, "abc\0d", 5);
		o += 5;
		o += (size_t)snprintf(want + o, sizeof(want) - o, "[%d]", i);
		assert_int_equal(b.len, o);
		assert_int_equal(b.p[b.len], '\0');
		assert_true(b.cap > b.len);
	}
	assert_true(o > 4096);		/* several growth steps */
	assert_non_null(t = buf_take(&b, &len));
	assert_int_equal(len, o);
	assert_memory_equal(t, want, o);
	assert_null(b.p);
	assert_int_equal(b.len, 0);
	free(t);
}

static void
test_printf_longer_than_room(void **state)
{
	struct buf b = BUF_INIT;
	char big[3000];
	char *t;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_puts(&b, "<");
	buf_printf(&b, "%s>%d", big, 42);	/* more than the first 1024 bytes hold */
	assert_non_null(t = buf_take(&b, NULL));
	assert_int_equal(strlen(t), 1 + 2999 + 3);
	assert_int_equal(t[0], '<');
	assert_string_equal(t + 3000, ">42");
	free(t);
}

static void
test_take_empty(void **state)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *t;

	(void)state;
	assert_non_null(t = buf_take(&b, &len));
	assert_string_equal(t, "");
	assert_int_equal(len, 0);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_appends),
		cmocka_unit_test(test_printf_longer_than_room),
		cmocka_unit_test(test_take_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
