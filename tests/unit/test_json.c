/* SPDX-License-Identifier: BSD-2-Clause */
/* test_json.c — base/json: one strict object, nothing else. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "base/json.h"

static json_object *
parse(const char *s, int depth, const char **why)
{
	*why = NULL;
	return json_parse_object(s, strlen(s), depth, why);
}

static void
test_accepts(void **state)
{
	const char *why;
	json_object *o;

	(void)state;
	assert_non_null(o = parse("{\"a\":1}", 2, &why));
	json_object_put(o);
	assert_non_null(o = parse(" {\"a\": [1, {\"b\": \"\\u00e9\"}]}\r\n", 4, &why));
	json_object_put(o);
	assert_non_null(o = parse("{}", 2, &why));
	json_object_put(o);
	/* len bounds the text: what follows is not read */
	assert_non_null(o = json_parse_object("{}garbage", 2, 2, &why));
	json_object_put(o);
}

static void
test_refuses(void **state)
{
	static const char *const bad[] = {
		"", " ", "{", "{\"a\":1", "[]", "1", "\"s\"", "null",
		"{\"a\":1} {}", "{\"a\":1}x", "{a:1}", "{\"a\":1,}",
		"{\"a\":\"\xff\"}", "{\"a\":1}\0",
		"{\"a\":{\"b\":{\"c\":{}}}}",	/* 4 levels, depth 3 */
	};
	const char *why;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t len = strlen(bad[i]) + (i == 13);	/* the NUL one includes it */

		why = NULL;
		if (json_parse_object(bad[i], len, 3, &why) != NULL)
			fail_msg("accepted: %s", bad[i]);
		assert_non_null(why);
	}
	assert_null(parse("[1]", 3, &why));
	assert_string_equal(why, "not a JSON object");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts),
		cmocka_unit_test(test_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
