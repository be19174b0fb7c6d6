/* SPDX-License-Identifier: BSD-2-Clause */
/* test_config.c — the INI configuration: defaults, every key, every error named with
 * file, line and key, and all errors reported at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/config_keys.h"

#define BASE "[cms]\nurl = https://cms.example.org/api\ntrust_anchors = /etc/ca.pem\n" \
	"portal_origins = https://portal.example.org https://cms.example.org:8443/\n"

static struct cfg C;
static char err[CFG_ERR_MAX];

static void
test_minimal_and_defaults(void **state)
{
	(void)state;
	assert_int_equal(cfg_parse_string("t.conf", BASE, &C, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_string_equal(C.cms_url, "https://cms.example.org/api");
	assert_int_equal(C.portal_origins.n, 2);
	assert_string_equal(C.portal_origins.o[0], "https://portal.example.org");
	assert_string_equal(C.portal_origins.o[1], "https://cms.example.org:8443");
	assert_int_equal(C.cms_timeout_ms, CONFIG_CMS_TIMEOUT_MS);
	assert_int_equal(C.cms_retries, CONFIG_CMS_RETRIES);
	assert_int_equal(C.cms_breaker_cooldown_s, CONFIG_CMS_BREAKER_COOLDOWN_S);
	assert_string_equal(C.kiosk_listen, CONFIG_KIOSK_LISTEN_DEFAULT);
	assert_int_equal(C.prompt_timeout_s, CONFIG_KIOSK_PROMPT_TIMEOUT_S);
	assert_string_equal(C.kiosk_readers, "*");
	assert_true(C.device_id[0] != '\0');
}

static void
test_every_key(void **state)
{
	const char *text = BASE
	    "timeout_ms = 2500\nretries = 0\nbreaker_cooldown_s = 30\nclient_cert = /c.pem\nclient_key = /k.pem\n"
	    "[device]\nid = kiosk-17 ; inline comment\n"
	    "[kiosk]\nlisten = [::1]:9000\nprompt_timeout_s = 30\nreaders = Virtual*\n"
	    "language = fr\nmanual_check = no\nreturn_url_param = return_to\n"
	    "[admin]\nlisten = 0.0.0.0:8443\ntls_cert = /a.pem\ntls_key = /a.key\n"
	    "password_hash = $y$j9T$abc\n"
	    "[hooks]\non_prompt = logger prompt\non_proceed = true\non_session_end = "
	    "/usr/lib/cardupd/restart-browser\n"
	    "[log]\nlevel = debug\nsyslog = yes\n";

	(void)state;
	assert_int_equal(cfg_parse_string("t.conf", text, &C, err, sizeof(err)), 0);
	assert_string_equal(C.device_id, "kiosk-17");
	assert_int_equal(C.cms_timeout_ms, 2500);
	assert_int_equal(C.cms_retries, 0);
	assert_int_equal(C.cms_breaker_cooldown_s, 30);
	assert_string_equal(C.kiosk_listen, "[::1]:9000");
	assert_int_equal(C.prompt_timeout_s, 30);
	assert_string_equal(C.kiosk_readers, "Virtual*");
	assert_string_equal(C.kiosk_lang, "fr");
	assert_int_equal(C.kiosk_manual_check, 0);
	assert_string_equal(C.kiosk_return_param, "return_to");
	assert_string_equal(C.admin_listen, "0.0.0.0:8443");
	assert_string_equal(C.admin_password_hash, "$y$j9T$abc");
	assert_string_equal(C.hook_on_session_end, "/usr/lib/cardupd/restart-browser");
	assert_int_equal(C.log_level, LOG_LVL_DEBUG);
	assert_int_equal(C.log_syslog, 1);
}

/* Typos are errors naming file, line and key; every one is reported. */
static void
test_errors_name_line_and_key(void **state)
{
	const char *text = BASE			/* lines 1-4 */
	    "timeout_ms = soon\n"		/* 5 */
	    "[kiosk]\n"				/* 6 */
	    "promt_timeout_s = 30\n"		/* 7: typo */
	    "listen = localhost:80\n"		/* 8: not numeric */
	    "[logg]\n"				/* 9 */
	    "level = loud\n"			/* 10: unknown section */
	    "[log]\n"				/* 11 */
	    "level = loud\n"			/* 12 */
	    "this is not ini\n";		/* 13 */

	(void)state;
	assert_int_equal(cfg_parse_string("/etc/cardupd/cardupd.conf", text, &C, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "/etc/cardupd/cardupd.conf:5: [cms] timeout_ms: not a whole number"));
	assert_non_null(strstr(err, ":7: [kiosk] promt_timeout_s: unknown key"));
	assert_non_null(strstr(err, ":8: [kiosk] listen: expected IP:PORT"));
	assert_non_null(strstr(err, ":10: [logg] level: unknown section"));
	assert_non_null(strstr(err, ":12: [log] level: expected error, warn, info or debug"));
	assert_non_null(strstr(err, ":13: syntax error"));
}

static void
test_required_and_ranges(void **state)
{
	(void)state;
	assert_int_equal(cfg_parse_string("t.conf", "[kiosk]\nprompt_timeout_s = 1\n", &C,
	    err, sizeof(err)), -1);
	assert_non_null(strstr(err, "[cms] url: required key missing"));
	assert_non_null(strstr(err, "[cms] trust_anchors: required key missing"));
	assert_non_null(strstr(err, "[cms] portal_origins: required key missing"));
	assert_non_null(strstr(err, "t.conf:2: [kiosk] prompt_timeout_s: out of range 5..3600"));

	assert_int_equal(cfg_parse_string("t.conf", BASE "url = http://cms.example.org\n",
	    &C, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:5: [cms] url: not an https URL"));
	assert_int_equal(cfg_parse_string("t.conf", BASE
	    "portal_origins = https://ok.example http://plain.example\n", &C, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "\"http://plain.example\" is not an https origin"));
	assert_int_equal(cfg_parse_string("t.conf", BASE
	    "portal_origins = https://ok.example/with/path\n", &C, err, sizeof(err)), -1);
	assert_int_equal(cfg_parse_string("t.conf", BASE "client_cert = /c.pem\n", &C, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "client_cert and client_key go together"));
	assert_int_equal(cfg_parse_string("t.conf", BASE "[device]\nid =\n", &C, err,
	    sizeof(err)), -1);
}

/* Issue 15: Debian's inih refused lines over 198 characters; the limit is now the
 * longest value the code promises, and a longer line is refused whole, by name. */
static void
test_long_line_and_file(void **state)
{
	static char text[12000];
	static char cmd[CFG_CMD_MAX + 8];

	(void)state;
	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[0] = '/';
	cmd[300] = '\0';
	snprintf(text, sizeof(text), "%s[hooks]\non_prompt = %s\n", BASE, cmd);
	assert_int_equal(cfg_parse_string("t.conf", text, &C, err, sizeof(err)), 0);
	assert_int_equal(strlen(C.hook_on_prompt), 300);
	/* the longest hook command */
	memset(cmd, 'x', sizeof(cmd) - 1);
	cmd[CFG_CMD_MAX - 1] = '\0';
	snprintf(text, sizeof(text), "%s[hooks]\non_prompt = %s\n", BASE, cmd);
	assert_int_equal(cfg_parse_string("t.conf", text, &C, err, sizeof(err)), 0);
	/* one more character: the value is too long, said so */
	cmd[CFG_CMD_MAX - 1] = 'x';
	cmd[CFG_CMD_MAX] = '\0';
	snprintf(text, sizeof(text), "%s[hooks]\non_prompt = %s\n", BASE, cmd);
	assert_int_equal(cfg_parse_string("t.conf", text, &C, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:6: [hooks] on_prompt: value too long (at most 1023 "
	    "characters)"));
	/* a line over INI_LINE_MAX is refused whole; the next line is read */
	{
		size_t o = (size_t)snprintf(text, sizeof(text), "%s[hooks]\non_prompt = ", BASE);

		memset(text + o, 'y', 4100);
		o += 4100;
		snprintf(text + o, sizeof(text) - o, "\n[kiosk]\nprompt_timeout_s = 2\n");
	}
	assert_int_equal(cfg_parse_string("t.conf", text, &C, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:6: line longer than 4096 characters"));
	assert_non_null(strstr(err, "t.conf:8: [kiosk] prompt_timeout_s: out of range"));
	assert_int_equal(cfg_load("/nonexistent/cardupd.conf", &C, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/cardupd.conf: No such file"));
}

/* Issue 15: an unknown key names the nearest known one; a missing required key says
 * which section it belongs in (no "line 0"); a key already refused is not also
 * "missing". */
static void
test_helpful_errors(void **state)
{
	struct cfg_errors errs;

	(void)state;
	assert_int_equal(cfg_parse_string("t.conf", "[cms]\nurl = https://c.example/\n"
	    "trust_anchor = /etc/ca.pem\nportal_origins = https://c.example\n"
	    "[kiosks]\nlisten = 127.0.0.1:80\n[kiosk]\ntimeout_ms = 5\n", &C, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:3: [cms] trust_anchor: unknown key \xe2\x80\x94 "
	    "did you mean trust_anchors?"));
	assert_non_null(strstr(err, "t.conf:6: [kiosks] listen: unknown section [kiosks] "
	    "\xe2\x80\x94 did you mean [kiosk]?"));
	assert_non_null(strstr(err, "t.conf:8: [kiosk] timeout_ms: unknown key \xe2\x80\x94 "
	    "did you mean [cms] timeout_ms?"));
	assert_non_null(strstr(err, "t.conf: [cms] trust_anchors: required key missing: add "
	    "\"trust_anchors = ...\" to the [cms] section"));
	assert_null(strstr(err, ":0:"));

	/* url set but refused: one error for it, not also "missing" */
	assert_int_equal(cfg_parse(BASE "url = ftp://x\n", NULL, &C, &errs), -1);
	assert_int_equal(errs.n, 1);
	assert_int_equal(errs.e[0].line, 5);
	assert_int_equal(errs.e[0].code, CFG_E_VALUE);
	assert_string_equal(errs.e[0].section, "cms");
	assert_string_equal(errs.e[0].key, "url");
	assert_string_equal(errs.e[0].message, "not an https URL");

	/* structured: codes and fields, in line order, missing keys last */
	assert_int_equal(cfg_parse("x = 1\n[log]\nlevel = loud\n[kiosk]\n"
	    "prompt_timeout_s = 1\n", NULL, &C, &errs), -1);
	assert_int_equal(errs.n, 6);
	assert_int_equal(errs.e[0].code, CFG_E_NO_SECTION);
	assert_int_equal(errs.e[1].code, CFG_E_VALUE);
	assert_string_equal(errs.e[1].key, "level");
	assert_int_equal(errs.e[2].code, CFG_E_RANGE);
	assert_int_equal(errs.e[2].line, 5);
	assert_int_equal(errs.e[3].code, CFG_E_MISSING);
	assert_int_equal(errs.e[3].line, 0);
	assert_string_equal(errs.e[3].key, "url");
}

/* Many errors: all counted, the text cut at a line with a count of the rest. */
static void
test_many_errors(void **state)
{
	static char text[8192], small[300];
	struct cfg_errors errs;
	size_t o = 0;

	(void)state;
	for (int i = 0; i < 50; i++)
		o += (size_t)snprintf(text + o, sizeof(text) - o, "[cms]\nretries = %d\n", 20 + i);
	assert_int_equal(cfg_parse(text, NULL, &C, &errs), -1);
	assert_int_equal(errs.n, 53);
	assert_int_equal(cfg_parse_string("t.conf", text, &C, small, sizeof(small)), -1);
	assert_non_null(strstr(small, "more errors\n"));
	assert_true(strlen(small) < sizeof(small));
}

/* The INI syntax the admin page writes, and what it is not. */
static void
test_syntax(void **state)
{
	(void)state;
	assert_int_equal(cfg_parse_string("t.conf", "\xef\xbb\xbf; bom, comments\r\n"
	    "# hash comment\n  [ cms ]  ; section comment\n"
	    "\turl: https://cms.example.org/api\r\n"
	    "trust_anchors=/etc/ca.pem;not a comment\n"
	    "portal_origins = https://p.example.org ; a comment\n", &C, err, sizeof(err)), 0);
	assert_string_equal(C.cms_url, "https://cms.example.org/api");
	assert_string_equal(C.cms_anchors, "/etc/ca.pem;not a comment");
	assert_int_equal(cfg_parse_string("t.conf", BASE "[kiosk] x\n", &C, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:5: syntax error"));
	assert_int_equal(cfg_parse_string("t.conf", BASE "[kiosk\n= 5\n[]\n", &C, err,
	    sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:5: syntax error"));
	assert_non_null(strstr(err, "t.conf:6: syntax error (no key"));
	assert_non_null(strstr(err, "t.conf:7: syntax error"));
	/* the last of a key given twice wins, as with inih */
	assert_int_equal(cfg_parse_string("t.conf", BASE "retries = 3\nretries = 4\n", &C,
	    err, sizeof(err)), 0);
	assert_int_equal(C.cms_retries, 4);
}

/* The key table: every default is a valid value, formatted back the same, and every
 * key of struct cfg the parser knows is in it once. */
static void
test_key_table(void **state)
{
	char v[CFG_VALUE_MAX], text[CFG_VALUE_MAX + 512];
	struct cfg_errors errs;
	static struct cfg d;

	(void)state;
	cfg_defaults(&d);
	assert_true(cfg_nkeys >= 24);
	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		assert_ptr_equal(cfg_key_find(k->section, k->key), k);
		snprintf(text, sizeof(text), "%s.%s", k->section, k->key);
		assert_ptr_equal(cfg_key_by_name(text), k);
		assert_non_null(k->doc);
		if (k->def == NULL)
			continue;
		cfg_key_format(&d, k, v, sizeof(v));
		if (strcmp(v, k->def) != 0)
			fail_msg("%s.%s: default \"%s\" formats as \"%s\"", k->section,
			    k->key, k->def, v);
		/* the value, written back into a file, parses to the same */
		snprintf(text, sizeof(text), BASE "[%s]\n%s = %s\n", k->section, k->key, v);
		if (cfg_parse(text, NULL, &C, &errs) != 0 && !(k->flags & CFG_F_NONEMPTY))
			fail_msg("%s.%s = %s: %s", k->section, k->key, v, errs.e[0].message);
	}
	assert_null(cfg_key_find("cms", "nope"));
	assert_null(cfg_key_by_name("cms"));
	assert_ptr_equal(cfg_key_nearest("cms", "trust_anchor"), cfg_key_find("cms",
	    "trust_anchors"));
	assert_ptr_equal(cfg_key_nearest("kiosk", "prompt"), cfg_key_find("kiosk",
	    "prompt_timeout_s"));
	assert_null(cfg_key_nearest("cms", "zzzzzzzz"));
	/* session_timeout_s, which the admin page's own list had lost (issue 12) */
	assert_non_null(cfg_key_find("cms", "session_timeout_s"));
	cfg_key_format(&d, cfg_key_find("log", "level"), v, sizeof(v));
	assert_true(strcmp(v, "info") == 0 || strcmp(v, "warn") == 0 ||
	    strcmp(v, "error") == 0 || strcmp(v, "debug") == 0);
	assert_int_equal(cfg_parse_string("t.conf", BASE "portal_origins = https://a.example "
	    "https://b.example:8443\n", &C, err, sizeof(err)), 0);
	cfg_key_format(&C, cfg_key_find("cms", "portal_origins"), v, sizeof(v));
	assert_string_equal(v, "https://a.example https://b.example:8443");
}

static void
test_split_listen(void **state)
{
	char host[64];
	unsigned port;

	(void)state;
	assert_int_equal(cfg_split_listen("127.0.0.1:8080", host, sizeof(host), &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 8080);
	assert_int_equal(cfg_split_listen("[::1]:443", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(cfg_split_listen("127.0.0.1:0", host, sizeof(host), &port), -1);
	assert_int_equal(cfg_split_listen("127.0.0.1:65536", host, sizeof(host), &port), -1);
	assert_int_equal(cfg_split_listen("127.0.0.1", host, sizeof(host), &port), -1);
	assert_int_equal(cfg_split_listen("[::1]443", host, sizeof(host), &port), -1);
	assert_int_equal(cfg_split_listen("kiosk:80", host, sizeof(host), &port), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal_and_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_errors_name_line_and_key),
		cmocka_unit_test(test_required_and_ranges),
		cmocka_unit_test(test_long_line_and_file),
		cmocka_unit_test(test_helpful_errors),
		cmocka_unit_test(test_many_errors),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_key_table),
		cmocka_unit_test(test_split_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
