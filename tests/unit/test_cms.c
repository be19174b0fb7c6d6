/* SPDX-License-Identifier: BSD-2-Clause */
/* test_cms.c — the CMS protocol: the request body and the judgement of answers, from
 * the vectors in tests/vectors/cms_answers.txt. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "core/cms.h"

static struct cms_origins origins;

/* Turns "\xff" escapes into bytes so vectors can hold invalid UTF-8. */
static size_t
unescape(char *s)
{
	char *o = s;

	for (char *p = s; *p; p++) {
		if (p[0] == '\\' && p[1] == 'x' && p[2] && p[3]) {
			char hex[3] = { p[2], p[3], 0 };

			*o++ = (char)strtol(hex, NULL, 16);
			p += 3;
		} else
			*o++ = *p;
	}
	*o = '\0';
	return (size_t)(o - s);
}

static void
test_vectors(void **state)
{
	char line[4096], *f[5];
	FILE *fp;
	int count = 0;

	(void)state;
	fp = fopen(VECTORS_DIR "/cms_answers.txt", "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		struct cms_result res;
		char *save = NULL, *tok = line, exp_code[32] = "";
		const char *retry;
		size_t blen = 0;
		int n = 0, rc, want_n = -1;
		long want_retry = -2;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		for (; n < 5 && (tok = strtok_r(n ? NULL : line, "|", &save)) != NULL; n++) {
			while (*tok == ' ')
				tok++;
			if (n < 4)
				tok[strcspn(tok, " ")] = '\0';
			else if (tok[strlen(tok) - 1] == ' ')
				tok[strlen(tok) - 1] = '\0';
			f[n] = tok;
		}
		assert_int_equal(n, 5);
		if (strcmp(f[4], "-") == 0)
			f[4][0] = '\0';
		blen = unescape(f[4]);
		retry = strcmp(f[2], "-") == 0 ? NULL : f[2];
		rc = cms_judge_answer(atoi(f[1]), retry, (const uint8_t *)f[4], blen, &origins,
		    0, &res);
		print_message("vector %s\n", f[0]);
		if (strncmp(f[3], "pending:", 8) == 0) {
			want_n = atoi(f[3] + 8);
			assert_int_equal(rc, 0);
			assert_int_equal(res.outcome, CMS_OUT_PENDING);
			assert_int_equal(res.n_updates, want_n);
			assert_true(res.portal_url[0] != '\0');
		} else if (strcmp(f[3], "none") == 0) {
			assert_int_equal(rc, 0);
			assert_int_equal(res.outcome, CMS_OUT_NONE);
		} else {
			char *r;

			assert_int_equal(rc, -1);
			assert_int_equal(res.outcome, CMS_OUT_FAILED);
			snprintf(exp_code, sizeof(exp_code), "%s", f[3] + 7);
			if ((r = strstr(exp_code, ":retry=")) != NULL) {
				want_retry = atol(r + 7);
				*r = '\0';
			}
			assert_string_equal(res.code, exp_code);
			if (want_retry != -2)
				assert_int_equal(res.retry_after_s, want_retry);
			assert_int_equal(res.n_updates, 0);
		}
		count++;
	}
	fclose(fp);
	assert_true(count >= 30);
}

static void
test_unknown_type_and_bounds(void **state)
{
	struct cms_result res;
	const char *body = "{\"pending\":[{\"id\":\"u1\",\"type\":\"format_c\",\"description\":"
	    "\"line1\\nline2\"}],\"portal_url\":\"https://portal.example.org/\"}";

	(void)state;
	assert_int_equal(cms_judge_answer(200, NULL, (const uint8_t *)body, strlen(body),
	    &origins, 0, &res), 0);
	assert_string_equal(res.updates[0].type, "card_update");
	assert_string_equal(res.updates[0].description, "line1 line2");
}

static void
test_too_many_pending_dropped(void **state)
{
	struct cms_result res;
	char body[8192];
	size_t o = 0;

	(void)state;
	o += (size_t)snprintf(body + o, sizeof(body) - o, "{\"pending\":[");
	for (int i = 0; i < CONFIG_CMS_MAX_PENDING + 5; i++)
		o += (size_t)snprintf(body + o, sizeof(body) - o,
		    "%s{\"id\":\"u%d\",\"type\":\"card_lock\",\"description\":\"d\"}",
		    i ? "," : "", i);
	snprintf(body + o, sizeof(body) - o, "],\"portal_url\":\"https://portal.example.org/\"}");
	assert_int_equal(cms_judge_answer(200, NULL, (const uint8_t *)body, strlen(body),
	    &origins, 0, &res), 0);
	assert_int_equal(res.n_updates, CONFIG_CMS_MAX_PENDING);
}

static void
test_request_body(void **state)
{
	struct card_identity id;
	json_object *root, *card, *v, *chuid;
	char *s;

	(void)state;
	memset(&id, 0, sizeof(id));
	id.atr_len = 3;
	memcpy(id.atr, "\x3b\x80\x01", 3);
	s = cms_build_request("kiosk\"1", "1.0", "Virtual PCD 00 00", CMS_TRIGGER_MANUAL, &id);
	assert_non_null(s);
	root = json_tokener_parse(s);
	assert_non_null(root);
	assert_true(json_object_object_get_ex(root, "protocol", &v));
	assert_string_equal(json_object_get_string(v), "cardupd-cms/1");
	assert_true(json_object_object_get_ex(root, "trigger", &v));
	assert_string_equal(json_object_get_string(v), "manual");
	assert_true(json_object_object_get_ex(root, "card", &card));
	assert_true(json_object_object_get_ex(card, "atr", &v));
	assert_string_equal(json_object_get_string(v), "3b8001");
	assert_true(json_object_object_get_ex(card, "cplc", &v));
	assert_null(v);
	assert_true(json_object_object_get_ex(card, "chuid", &v));
	assert_null(v);
	json_object_put(root);
	free(s);

	id.has_chuid = id.has_guid = id.has_fascn = id.has_expiry = 1;
	memset(id.guid, 0xab, sizeof(id.guid));
	strcpy(id.expiry, "20301231");
	s = cms_build_request("k", "1.0", "r", CMS_TRIGGER_INSERTION, &id);
	root = json_tokener_parse(s);
	json_object_object_get_ex(root, "card", &card);
	assert_true(json_object_object_get_ex(card, "chuid", &chuid));
	json_object_object_get_ex(chuid, "guid", &v);
	assert_string_equal(json_object_get_string(v), "abababababababababababababababab");
	json_object_object_get_ex(chuid, "expiry", &v);
	assert_string_equal(json_object_get_string(v), "20301231");
	json_object_put(root);
	free(s);
}

static int
setup(void **state)
{
	(void)state;
	memset(&origins, 0, sizeof(origins));
	assert_int_equal(cms_origins_add(&origins, "https://portal.example.org"), 0);
	assert_int_equal(cms_origins_add(&origins, "https://CMS.example.org:8443/"), 0);
	assert_int_equal(cms_origins_add(&origins, "http://plain.example"), -1);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_unknown_type_and_bounds),
		cmocka_unit_test(test_too_many_pending_dropped),
		cmocka_unit_test(test_request_body),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
