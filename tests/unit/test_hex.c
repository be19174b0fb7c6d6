/* SPDX-License-Identifier: BSD-2-Clause */
/* test_hex.c — base/hex: both cases out and in, odd lengths, bad digits, bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "base/hex.h"

static void
test_encode(void **state)
{
	const uint8_t b[] = { 0x00, 0x0f, 0xa5, 0xff };
	char out[9];

	(void)state;
	assert_string_equal(hex_encode(b, sizeof(b), out, 0), "000fa5ff");
	assert_string_equal(hex_encode(b, sizeof(b), out, 1), "000FA5FF");
	assert_string_equal(hex_encode(b, 0, out, 0), "");
}

static void
test_decode(void **state)
{
	uint8_t out[4];

	(void)state;
	assert_int_equal(hex_decode("000fA5Ff", 8, out, sizeof(out)), 4);
	assert_int_equal(out[0], 0x00);
	assert_int_equal(out[2], 0xa5);
	assert_int_equal(out[3], 0xff);
	assert_int_equal(hex_decode("", 0, out, sizeof(out)), 0);
	assert_int_equal(hex_decode("abc", 3, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("0g", 2, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("0 ", 2, out, sizeof(out)), -1);
	assert_int_equal(hex_decode("0011223344", 10, out, sizeof(out)), -1);
	assert_int_equal(hex_value('F'), 15);
	assert_int_equal(hex_value('/'), -1);
	assert_int_equal(hex_value(':'), -1);
	assert_int_equal(hex_value('G'), -1);
	assert_int_equal(hex_value(0x80 | 'a'), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_decode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
