/* SPDX-License-Identifier: BSD-2-Clause */
/* test_settings.c — the admin page's configuration writer: only the changed keys are
 * rewritten (comments and order kept), values that would not read back the same are
 * refused, and the atomic save survives a SIGKILL at any instant: a hundred writers
 * killed mid-save never leave a broken or missing file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "base/file.h"
#include "core/config.h"
#include "core/config_keys.h"
#include "web/admin/settings.h"
#include "scratch.h"

#define BASE "; kiosk 17, hall B\n[cms]\nurl = https://cms.example.org/api\n" \
	"trust_anchors = /etc/ca.pem ; pinned\n" \
	"portal_origins = https://portal.example.org\n\n[kiosk]\nprompt_timeout_s=30\n"

static void
test_update_in_place(void **state)
{
	struct settings_change ch[] = {
		{ "cms", "timeout_ms", "2500" },		/* new key, old section */
		{ "kiosk", "prompt_timeout_s", "45" },		/* rewritten */
		{ "log", "level", "debug" },			/* new section */
		{ "log", "syslog", "yes" },
	};
	const char *why = NULL;
	size_t bad = 99;
	char *t = settings_update_text(BASE, ch, 4, &why, &bad);
	static struct cfg c;
	char err[CFG_ERR_MAX];

	(void)state;
	assert_non_null(t);
	assert_non_null(strstr(t, "; kiosk 17, hall B\n"));		/* comment kept */
	assert_non_null(strstr(t, "trust_anchors = /etc/ca.pem ; pinned\n"));
	assert_non_null(strstr(t, "prompt_timeout_s = 45\n"));
	assert_null(strstr(t, "prompt_timeout_s=30"));
	assert_true(strstr(t, "timeout_ms = 2500") < strstr(t, "[kiosk]"));
	assert_non_null(strstr(t, "\n[log]\nlevel = debug\nsyslog = yes\n"));
	assert_int_equal(cfg_parse_string("t", t, &c, err, sizeof(err)), 0);
	assert_int_equal(c.cms_timeout_ms, 2500);
	assert_int_equal(c.prompt_timeout_s, 45);
	assert_int_equal(c.log_level, LOG_LVL_DEBUG);
	assert_string_equal(c.cms_anchors, "/etc/ca.pem");
	free(t);
}

static void
test_duplicates_and_empty(void **state)
{
	struct settings_change ch = { "kiosk", "readers", "Virtual*" };
	const char *why;
	size_t bad;
	char *t = settings_update_text("[kiosk]\nreaders = a\nreaders: b\n[x]\nreaders = c",
	    &ch, 1, &why, &bad);

	(void)state;
	assert_non_null(t);
	assert_string_equal(t, "[kiosk]\nreaders = Virtual*\n[x]\nreaders = c");
	free(t);
	t = settings_update_text("", &ch, 1, &why, &bad);
	assert_string_equal(t, "\n[kiosk]\nreaders = Virtual*\n");
	free(t);
	ch.value = "";
	t = settings_update_text("[kiosk]\nreaders = a", &ch, 1, &why, &bad);
	assert_string_equal(t, "[kiosk]\nreaders = \n");
	free(t);
}

static void
test_refused_values(void **state)
{
	static const char *const badv[] = {
		"x\n[admin]\npassword_hash = $y$evil", "a\rb", "tab\there", " lead",
		"trail ", "a ;comment", ";x", "#x",
	};
	struct settings_change ch[2] = { { "cms", "retries", "1" }, { "device", "id", NULL } };
	const char *why;
	size_t bad = 99;

	(void)state;
	for (size_t i = 0; i < sizeof(badv) / sizeof(badv[0]); i++) {
		ch[1].value = badv[i];
		why = NULL;
		assert_null(settings_update_text(BASE, ch, 2, &why, &bad));
		assert_int_equal(bad, 1);
		assert_non_null(why);
	}
	assert_int_equal(settings_value_ok("https://a.example https://b.example", &why), 0);
	assert_int_equal(settings_value_ok("<script>alert(1)</script>", &why), 0);
	assert_int_equal(settings_value_ok("a;b", &why), 0);
}

/* Two complete, valid configurations of a few dozen KiB each, so that a kill lands
 * in the middle of a write often. */
static char *
make_version(const char *timeout)
{
	size_t cap = 64 * 1024, o;
	char *t = malloc(cap);

	o = (size_t)snprintf(t, cap, "[cms]\nurl = https://cms.example.org/api\n"
	    "trust_anchors = /etc/ca.pem\nportal_origins = https://p.example.org\n"
	    "timeout_ms = %s\n", timeout);
	while (o + 80 < cap - 1024)
		o += (size_t)snprintf(t + o, cap - o, "; padding line to make the file long "
		    "enough: %s %zu\n", timeout, o);
	return t;
}

static void
test_sigkill_never_breaks(void **state)
{
	char path[128], err[256], *back;
	char *va = make_version("1111"), *vb = make_version("2222");
	static struct cfg c;
	static char perr[CFG_ERR_MAX];
	int survived_a = 0, survived_b = 0;

	(void)state;
	snprintf(path, sizeof(path), "%s/kill.conf", scratch_dir);
	assert_int_equal(file_write_atomic(path, va, strlen(va), 0600, err,
	    sizeof(err)), 0);
	for (int round = 0; round < 100; round++) {
		unsigned r = 0;
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			for (unsigned i = 0;; i++) {
				const char *v = i % 2 ? va : vb;

				if (file_write_atomic(path, v, strlen(v), 0600, err,
				    sizeof(err)) == -1)
					_exit(3);
			}
		}
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (unsigned)round * 7919;
		usleep(200 + r % 8000);	/* 0.2 .. 8.2 ms into the writes */
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		assert_non_null(back = file_read_text(path, 128 * 1024, err,
		    sizeof(err)));
		if (strcmp(back, va) == 0)
			survived_a++;
		else if (strcmp(back, vb) == 0)
			survived_b++;
		else
			fail_msg("round %d: the file is neither version (%zu bytes)", round,
			    strlen(back));
		assert_int_equal(cfg_parse_string(path, back, &c, perr, sizeof(perr)), 0);
		free(back);
	}
	print_message("after 100 SIGKILLs: old version %d times, new %d times\n",
	    survived_a, survived_b);
	free(va);
	free(vb);
}

/* Who may change what (issue 13 items 2 and 7): with ADMIN_EDIT_HOOKS=y an API token
 * still cannot change a hook, nor any setting that names a file; files stay inside the
 * configuration directory. */
static void
test_may_change(void **state)
{
	const unsigned hook = CFG_F_HOOK | CFG_F_SESSION;
	const unsigned path = CFG_F_PATH | CFG_F_SESSION;

	(void)state;
	assert_null(settings_may_change(hook, 1, 1, "touch /tmp/x", "/etc/cardupd", NULL));
	assert_non_null(settings_may_change(hook, 0, 1, "touch /tmp/x", "/etc/cardupd", NULL));
	assert_non_null(settings_may_change(hook, 1, 0, "touch /tmp/x", "/etc/cardupd", NULL));
	assert_null(settings_may_change(path, 1, 0, "/etc/cardupd/ca.pem", "/etc/cardupd", NULL));
	assert_null(settings_may_change(path, 1, 0, "", "/etc/cardupd", NULL));
	assert_non_null(settings_may_change(path, 0, 0, "/etc/cardupd/ca.pem", "/etc/cardupd",
	    NULL));
	assert_non_null(settings_may_change(path, 1, 0, "/var/lib/cardupd/admin-cert.pem",
	    "/etc/cardupd", NULL));
	assert_non_null(settings_may_change(path, 1, 0, "/etc/cardupd/../shadow",
	    "/etc/cardupd", NULL));
	assert_non_null(settings_may_change(path, 1, 0, "ca.pem", "/etc/cardupd", NULL));
	assert_null(settings_may_change(path, 1, 0, "/var/lib/cardupd", "/etc/cardupd",
	    "/var/lib/cardupd"));
	assert_null(settings_may_change(0, 0, 0, "debug", "/etc/cardupd", NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_update_in_place),
		cmocka_unit_test(test_duplicates_and_empty),
		cmocka_unit_test(test_refused_values),
		cmocka_unit_test(test_sigkill_never_breaks),
		cmocka_unit_test(test_may_change),
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
