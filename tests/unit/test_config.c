/* test_config.c — the INI configuration: defaults, every key, every error named with
 * file, line and key, and all errors reported at once. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "core/config.h"

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
	assert_string_equal(C.kiosk_listen, CONFIG_KIOSK_LISTEN_DEFAULT);
	assert_int_equal(C.prompt_timeout_s, CONFIG_KIOSK_PROMPT_TIMEOUT_S);
	assert_string_equal(C.kiosk_readers, "*");
	assert_true(C.device_id[0] != '\0');
}

static void
test_every_key(void **state)
{
	const char *text = BASE
	    "timeout_ms = 2500\nretries = 0\nclient_cert = /c.pem\nclient_key = /k.pem\n"
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

static void
test_long_line_and_file(void **state)
{
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "%s[hooks]\non_prompt = %0300d\n", BASE, 7);
	assert_int_equal(cfg_parse_string("t.conf", text, &C, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "t.conf:6: line longer than"));
	assert_int_equal(cfg_load("/nonexistent/cardupd.conf", &C, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "/nonexistent/cardupd.conf: No such file"));
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
		cmocka_unit_test(test_split_listen),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
