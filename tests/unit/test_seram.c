/* SPDX-License-Identifier: BSD-2-Clause */
/* test_seram.c — SERAM order parsing (vectors in tests/vectors/seram_orders.txt),
 * limits, and the handshake and report messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <json-c/json.h>

#include "core/seram.h"

static struct seram_order order;

static void
test_vectors(void **state)
{
	char line[8192], err[256];
	FILE *fp;
	int count = 0;

	(void)state;
	fp = fopen(VECTORS_DIR "/seram_orders.txt", "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		char *name, *exp, *body, *p;
		int rc;

		line[strcspn(line, "\n")] = '\0';
		if (line[0] == '#' || line[0] == '\0')
			continue;
		name = line;
		p = strstr(name, " | ");
		assert_non_null(p);
		*p = '\0';
		exp = p + 3;
		p = strstr(exp, " | ");
		assert_non_null(p);
		*p = '\0';
		body = p + 3;
		if (strcmp(body, "-") == 0)
			body[0] = '\0';
		rc = seram_parse_order((const uint8_t *)body, strlen(body), &order, err,
		    sizeof(err));
		if (strcmp(exp, "err") == 0) {
			if (rc != -1)
				fail_msg("vector %s: parsed, expected an error", name);
			assert_true(err[0] != '\0');
		} else {
			unsigned ncmd, napdu;
			long delay;
			char types[32] = "", got[32] = "";
			size_t total = 0;

			if (rc != 0)
				fail_msg("vector %s: %s", name, err);
			sscanf(exp, "ok:%u:%u:%ld:%31s", &ncmd, &napdu, &delay, types);
			assert_int_equal(order.n_cmds, ncmd);
			assert_int_equal(order.delay_ms, delay);
			for (size_t i = 0; i < order.n_cmds; i++) {
				got[i] = "SANT"[order.cmds[i].type];
				total += order.cmds[i].n_capdu;
			}
			assert_int_equal(total, napdu);
			if (types[0])
				assert_string_equal(got, types);
		}
		count++;
	}
	fclose(fp);
	assert_true(count >= 25);
}

static void
test_limits(void **state)
{
	char *body, err[256];
	size_t o = 0, cap = 200000;

	(void)state;
	body = malloc(cap);
	/* Exactly SERAM_MAX_CAPDUS APDUs over two commands: fine; one more: refused. */
	for (int extra = 0; extra < 2; extra++) {
		o = (size_t)snprintf(body, cap, "{\"ramCommands\":[");
		for (int c = 0; c < 2; c++) {
			o += (size_t)snprintf(body + o, cap - o,
			    "%s{\"ramCommandType\":\"seRamCommand\",\"listOfCAPDU\":[", c ? "," : "");
			for (int i = 0; i < SERAM_MAX_CAPDUS / 2 + (c ? extra : 0); i++)
				o += (size_t)snprintf(body + o, cap - o, "%s\"00A4040000\"", i ? "," : "");
			o += (size_t)snprintf(body + o, cap - o, "]}");
		}
		o += (size_t)snprintf(body + o, cap - o, "]}");
		assert_int_equal(seram_parse_order((uint8_t *)body, o, &order, err, sizeof(err)),
		    extra ? -1 : 0);
		if (!extra)	/* the second command's APDUs follow the first's */
			assert_int_equal(order.cmds[1].capdu - order.pool, SERAM_MAX_CAPDUS / 2);
	}
	/* The longest short APDU (261 bytes) passes; 262 is refused. */
	for (int len = SERAM_APDU_MAX; len <= SERAM_APDU_MAX + 1; len++) {
		o = (size_t)snprintf(body, cap, "{\"ramCommands\":[{\"ramCommandType\":"
		    "\"seRamCommand\",\"listOfCAPDU\":[\"");
		for (int i = 0; i < len; i++)
			o += (size_t)snprintf(body + o, cap - o, "AB");
		o += (size_t)snprintf(body + o, cap - o, "\"]}]}");
		assert_int_equal(seram_parse_order((uint8_t *)body, o, &order, err, sizeof(err)),
		    len == SERAM_APDU_MAX ? 0 : -1);
	}
	/* Seventeen commands: refused. */
	o = (size_t)snprintf(body, cap, "{\"ramCommands\":[");
	for (int i = 0; i <= SERAM_MAX_COMMANDS; i++)
		o += (size_t)snprintf(body + o, cap - o, "%s{\"ramCommandType\":\"startCommand\"}",
		    i ? "," : "");
	o += (size_t)snprintf(body + o, cap - o, "]}");
	assert_int_equal(seram_parse_order((uint8_t *)body, o, &order, err, sizeof(err)), -1);
	free(body);
}

static void
test_notification_text(void **state)
{
	const char *body = "{\"ramCommands\":[{\"ramCommandType\":\"notificationCommand\","
	    "\"deviceAppNotification\":\"line1\\nline2 <b>x</b>\"}]}";
	char err[128];

	(void)state;
	assert_int_equal(seram_parse_order((const uint8_t *)body, strlen(body), &order, err,
	    sizeof(err)), 0);
	assert_string_equal(order.cmds[0].note, "line1 line2 <b>x</b>");
}

static void
test_messages(void **state)
{
	struct seram_rapdu r[2];
	struct seram_response resp = { 2, r };
	json_object *root, *v, *las, *list;
	char *s, err[128], id[33];

	(void)state;
	s = seram_build_handshake("a1b2c3d4");
	root = json_tokener_parse(s);
	assert_true(json_object_object_get_ex(root, "secureElements", &v));
	v = json_object_array_get_idx(v, 0);
	assert_true(json_object_object_get_ex(v, "seType", &las));
	assert_string_equal(json_object_get_string(las), "undefined");
	json_object_put(root);
	free(s);

	memcpy(r[0].bytes, "\x6f\x01\x90\x00", 4);
	r[0].len = 4;
	r[1].len = 0;
	s = seram_build_report(SERAM_ST_PROCESSED, 1, &resp, 1, NULL);
	root = json_tokener_parse(s);
	json_object_object_get_ex(root, "localAgentStatus", &las);
	json_object_object_get_ex(las, "localAgentStatusEnum", &v);
	assert_string_equal(json_object_get_string(v), "PROCESSED");
	json_object_object_get_ex(root, "ramResponses", &v);
	v = json_object_array_get_idx(v, 0);
	json_object_object_get_ex(v, "listOfRAPDU", &list);
	assert_string_equal(json_object_get_string(json_object_array_get_idx(list, 0)),
	    "6F019000");
	assert_string_equal(json_object_get_string(json_object_array_get_idx(list, 1)), "");
	json_object_put(root);
	free(s);

	assert_int_equal(seram_check_handshake((const uint8_t *)"{\"chosenVersion\":\"2.0.0\"}",
	    25, err, sizeof(err)), 0);
	assert_int_equal(seram_check_handshake((const uint8_t *)"{\"chosenVersion\":\"1.0\"}",
	    23, err, sizeof(err)), -1);
	{
		const uint8_t rnd[16] = { 0x00, 0x01, 0xab, 0xff, [15] = 0x7e };

		seram_session_id(rnd, id);
		assert_string_equal(id, "0001abff00000000000000000000007e");
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vectors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_notification_text),
		cmocka_unit_test(test_messages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
