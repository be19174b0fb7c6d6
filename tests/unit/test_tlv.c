/* SPDX-License-Identifier: BSD-2-Clause */
/* test_tlv.c — BER-TLV walking: the data-driven cases in tests/vectors/tlv.txt and
 * the tlv_find() contract. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/tlv.h"

#include "vectors.h"

/* Runs one vector line "name | hex | TAG:LEN ... end|err". */
static void
run_vector(const char *name, const uint8_t *buf, size_t len, char *expect)
{
	const uint8_t	*p = buf, *end = buf + len, *before;
	struct tlv	 t;
	char		*tok, *save = NULL, *colon;
	unsigned long	 etag, elen;
	int		 r;

	for (tok = strtok_r(expect, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " ", &save)) {
		before = p;
		r = tlv_next(&p, end, &t);
		if (strcmp(tok, "end") == 0) {
			if (r != 0)
				fail_msg("%s: expected end, got %d", name, r);
			return;
		}
		if (strcmp(tok, "err") == 0) {
			if (r != -1)
				fail_msg("%s: expected err, got %d", name, r);
			if (p != before)
				fail_msg("%s: *p moved on error", name);
			return;
		}
		if ((colon = strchr(tok, ':')) == NULL)
			fail_msg("%s: bad expectation %s", name, tok);
		*colon = '\0';
		etag = strtoul(tok, NULL, 16);
		elen = strtoul(colon + 1, NULL, 10);
		if (r != 1)
			fail_msg("%s: expected %lx:%lu, got %d", name, etag, elen,
			    r);
		if (t.tag != etag || t.len != elen)
			fail_msg("%s: expected %lx:%lu, got %x:%zu", name, etag,
			    elen, (unsigned)t.tag, t.len);
		/* The value must lie inside the buffer and *p just past it. */
		assert_true(t.val >= buf && t.val + t.len <= end);
		assert_ptr_equal(p, t.val + t.len);
	}
	fail_msg("%s: expectation without end/err", name);
}

static void
test_vectors(void **state)
{
	FILE	*f;
	char	*line = NULL, *name, *hex, *expect, *s1, *s2 = NULL;
	size_t	 cap = 0;
	uint8_t	*buf;
	long	 n;
	int	 count = 0;

	(void)state;
	buf = malloc(VEC_MAX);
	assert_non_null(buf);
	f = fopen(VECTORS_DIR "/tlv.txt", "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) != -1) {
		if (line[0] == '#' || trim(line)[0] == '\0')
			continue;
		if ((s1 = strchr(line, '|')) == NULL ||
		    (s2 = strchr(s1 + 1, '|')) == NULL)
			fail_msg("tlv.txt: bad line: %s", line);
		*s1 = *s2 = '\0';
		name = trim(line);
		hex = trim(s1 + 1);
		expect = trim(s2 + 1);
		if ((n = unhex(hex, buf, VEC_MAX)) == -1)
			fail_msg("tlv.txt: %s: bad hex", name);
		/*
		 * Copy into an exact-size allocation so that ASan catches any
		 * read one byte past the end.
		 */
		{
			uint8_t *exact = malloc(n > 0 ? (size_t)n : 1);

			assert_non_null(exact);
			memcpy(exact, buf, (size_t)n);
			run_vector(name, exact, (size_t)n, expect);
			free(exact);
		}
		count++;
	}
	free(line);
	fclose(f);
	free(buf);
	assert_true(count >= 20);
}

static void
test_find(void **state)
{
	static const uint8_t	buf[] = { 0x30, 0x01, 0xaa, 0x5f, 0xc1, 0x02,
	    0x02, 0xbb, 0xcc, 0x34, 0x01, 0xdd };
	static const uint8_t	bad[] = { 0x30, 0x01, 0xaa, 0x34, 0x05, 0x01,
	    0x35, 0x00 };
	struct tlv		t;

	(void)state;
	assert_int_equal(tlv_find(buf, sizeof(buf), 0x5fc102, &t), 1);
	assert_int_equal(t.len, 2);
	assert_ptr_equal(t.val, buf + 7);
	assert_int_equal(tlv_find(buf, sizeof(buf), 0x34, &t), 1);
	assert_int_equal(t.val[0], 0xdd);
	assert_int_equal(tlv_find(buf, sizeof(buf), 0x53, &t), 0);
	/* Found before the damage, malformed when the damage comes first. */
	assert_int_equal(tlv_find(bad, sizeof(bad), 0x30, &t), 1);
	assert_int_equal(tlv_find(bad, sizeof(bad), 0x35, &t), -1);
	assert_int_equal(tlv_find(buf, 0, 0x30, &t), 0);
	assert_int_equal(tlv_find(NULL, 0, 0x30, &t), 0);
}

static void
test_next_at_end(void **state)
{
	static const uint8_t	 buf[] = { 0x53, 0x00 };
	const uint8_t		*p = buf + sizeof(buf);
	struct tlv		 t;

	(void)state;
	assert_int_equal(tlv_next(&p, buf + sizeof(buf), &t), 0);
	p = buf;
	assert_int_equal(tlv_next(&p, buf + sizeof(buf), &t), 1);
	assert_int_equal(t.tag, 0x53);
	assert_int_equal(t.len, 0);
	assert_ptr_equal(p, buf + 2);
}

/* Every prefix of a good object is either complete or an error, never an overrun. */
static void
test_all_truncations(void **state)
{
	static const uint8_t	 obj[] = { 0x5f, 0xc1, 0x02, 0x82, 0x00, 0x04,
	    0x01, 0x02, 0x03, 0x04 };
	const uint8_t		*p;
	struct tlv		 t;
	size_t			 n;
	uint8_t			*b;

	(void)state;
	for (n = 1; n <= sizeof(obj); n++) {
		b = malloc(n);
		assert_non_null(b);
		memcpy(b, obj, n);
		p = b;
		assert_int_equal(tlv_next(&p, b + n, &t),
		    n == sizeof(obj) ? 1 : -1);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_find),
		cmocka_unit_test(test_next_at_end),
		cmocka_unit_test(test_all_truncations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
