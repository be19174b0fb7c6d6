/* SPDX-License-Identifier: BSD-2-Clause */
/* test_auth.c — admin credentials: yescrypt hashing and verification (also of hashes
 * made by mkpasswd), constant-time comparisons, setup codes, sessions with idle and
 * absolute expiry, the lock-out arithmetic with time as an input (a full table, the
 * global budget, refusals counted), API tokens, and request bodies whose passwords are
 * wiped before json-c frees them (free() is wrapped: mk/admin.mk links json-c
 * statically with -Wl,--wrap=free, so every block json-c frees is seen here). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>
#include <json-c/json.h>

#include "web/admin/auth.h"
#include "web/admin/body.h"

/* ---- free() seen from inside: was a secret still in a block being freed? ---------- */

void __real_free(void *p);
void __wrap_free(void *p);

static const char *g_secret;	/* armed while set */
static int g_secret_freed;

void
__wrap_free(void *p)
{
	if (p != NULL && g_secret != NULL &&
	    memmem(p, malloc_usable_size(p), g_secret, strlen(g_secret)) != NULL)
		g_secret_freed++;
	__real_free(p);
}

static void
test_ct_equal(void **state)
{
	(void)state;
	assert_true(auth_ct_equal("abc", 3, "abc", 3));
	assert_false(auth_ct_equal("abc", 3, "abd", 3));
	assert_false(auth_ct_equal("abc", 3, "abcd", 4));
	assert_false(auth_ct_equal("", 0, "a", 1));
	assert_true(auth_ct_equal("", 0, "", 0));
	assert_true(auth_ct_streq("token", "token"));
	assert_false(auth_ct_streq("token", NULL));
	assert_false(auth_ct_streq(NULL, NULL));
	assert_false(auth_ct_streq("tokeN", "token"));
}

static void
test_hash_verify(void **state)
{
	char h[AUTH_HASH_MAX], h2[AUTH_HASH_MAX];

	(void)state;
	assert_int_equal(auth_hash_password("correct horse battery", h, sizeof(h)), 0);
	assert_memory_equal(h, "$y$", 3);
	assert_true(auth_verify_password("correct horse battery", h));
	assert_false(auth_verify_password("correct horse batterY", h));
	assert_false(auth_verify_password("", h));
	/* fresh salt every time */
	assert_int_equal(auth_hash_password("correct horse battery", h2, sizeof(h2)), 0);
	assert_string_not_equal(h, h2);
	/* Made by `mkpasswd -m yescrypt` and `mkpasswd -m sha-512` (package whois). */
	assert_true(auth_verify_password("correct horse battery",
	    "$y$j9T$gdyARmZ6MqvuybAmguHSr1$bmYswf3AxVAhIynEufgjn5pLQRQr0d0nF5hMzCDGf2C"));
	assert_false(auth_verify_password("correct horse batter",
	    "$y$j9T$gdyARmZ6MqvuybAmguHSr1$bmYswf3AxVAhIynEufgjn5pLQRQr0d0nF5hMzCDGf2C"));
	assert_true(auth_verify_password("correct horse battery",
	    "$6$hwxt7V9fiN701hiN$Jb9IXf3oeHZTmmrWqsVNQyyN6vFaXLyh95FFRPittS9Q20X8sIoFcfswDG"
	    "cH9dFQ.mXKpMm/uVPQqoF5.Ew8u/"));
	assert_false(auth_verify_password("x", ""));
	assert_false(auth_verify_password("x", "*"));
	assert_false(auth_verify_password("x", "$y$garbage"));
	assert_int_equal(auth_hash_password("x", h, 10), -1);	/* does not fit */
}

static void
test_password_policy(void **state)
{
	const char *why;
	char long_pw[200];

	(void)state;
	assert_int_equal(auth_password_acceptable("short", &why), -1);
	assert_int_equal(auth_password_acceptable("ten chars!", &why), 0);
	assert_int_equal(auth_password_acceptable("ten chars\n!", &why), -1);
	memset(long_pw, 'a', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	assert_int_equal(auth_password_acceptable(long_pw, &why), -1);
}

static void
test_random_and_codes(void **state)
{
	char a[AUTH_TOKEN_BUF], b[AUTH_TOKEN_BUF], code[AUTH_CODE_BUF];

	(void)state;
	assert_int_equal(auth_random_token(a), 0);
	assert_int_equal(auth_random_token(b), 0);
	assert_int_equal(strlen(a), 43);
	assert_string_not_equal(a, b);
	assert_int_equal(strspn(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_"), 43);
	assert_int_equal(auth_setup_code(code), 0);
	assert_int_equal(strlen(code), 14);
	assert_true(code[4] == '-' && code[9] == '-');
	assert_true(auth_code_equal(code, code));
	assert_true(auth_code_equal("abcd efgh-jkmn", "ABCD-EFGH-JKMN"));
	assert_true(auth_code_equal("0I1L", "O111"));	/* Crockford look-alikes */
	assert_false(auth_code_equal("ABCD-EFGH-JKMP", "ABCD-EFGH-JKMN"));
	assert_false(auth_code_equal("", "ABCD"));
	assert_false(auth_code_equal("ABCD", ""));
}

static void
test_sessions(void **state)
{
	struct auth_sessions t;
	const struct auth_session *s, *s2;
	char tok[AUTH_TOKEN_BUF], csrf[AUTH_TOKEN_BUF];

	(void)state;
	auth_sessions_init(&t, 100, 1000);
	s = auth_session_new(&t, "10.0.0.1", 5000);
	assert_non_null(s);
	strcpy(tok, s->token);
	strcpy(csrf, s->csrf);
	assert_string_not_equal(tok, csrf);
	assert_ptr_equal(auth_session_find(&t, tok, 5050), s);
	assert_null(auth_session_find(&t, "not-a-token", 5050));
	assert_null(auth_session_find(&t, NULL, 5050));
	/* idle expiry counts from the last use */
	assert_non_null(auth_session_find(&t, tok, 5149));
	assert_null(auth_session_find(&t, tok, 5249));
	assert_null(auth_session_find(&t, tok, 5250));	/* ended for good */
	/* absolute expiry, however busy */
	s = auth_session_new(&t, "10.0.0.1", 10000);
	strcpy(tok, s->token);
	for (int64_t now = 10000; now < 10999; now += 50)
		assert_non_null(auth_session_find(&t, tok, now));
	assert_null(auth_session_find(&t, tok, 11000));
	/* logout */
	s = auth_session_new(&t, "10.0.0.1", 20000);
	strcpy(tok, s->token);
	auth_session_end(&t, tok);
	assert_null(auth_session_find(&t, tok, 20001));
	/* a full table drops the least recently used */
	auth_sessions_init(&t, 100000, 100000);
	s = auth_session_new(&t, "a", 1);
	strcpy(tok, s->token);
	for (int i = 0; i < CONFIG_ADMIN_MAX_SESSIONS; i++)
		assert_non_null(s2 = auth_session_new(&t, "b", 2 + i));
	assert_null(auth_session_find(&t, tok, 100));
	auth_sessions_clear(&t);
	assert_null(auth_session_find(&t, s2->token, 100));
}

static void
test_lockout(void **state)
{
	struct auth_lockout l;

	(void)state;
	auth_lockout_init(&l, 5, 30, 900);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 1000 + i), 0);
		assert_int_equal(auth_lockout_wait(&l, "10.0.0.9", 1000 + i), 0);
	}
	/* fifth failure: locked for base seconds */
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 1004), 30);
	assert_int_equal(auth_lockout_wait(&l, "10.0.0.9", 1004), 30);
	assert_int_equal(auth_lockout_wait(&l, "10.0.0.9", 1020), 14);
	assert_int_equal(auth_lockout_wait(&l, "10.0.0.10", 1020), 0);	/* others go on */
	assert_int_equal(auth_lockout_wait(&l, "10.0.0.9", 1034), 0);
	/* the wait doubles with every further failure, up to the ceiling */
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 1034), 60);
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 1100), 120);
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 1300), 240);
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 1600), 480);
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 2100), 900);
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 3100), 900);
	for (int i = 0; i < 100; i++)
		assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 4100 + i * 1000), 900);
	/* success forgets */
	auth_lockout_success(&l, "10.0.0.9");
	assert_int_equal(auth_lockout_wait(&l, "10.0.0.9", 200000), 0);
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.9", 200000), 0);
	/* failures an hour old are forgotten */
	for (int i = 0; i < 3; i++)
		auth_lockout_fail(&l, "10.0.0.7", 300000);
	assert_int_equal(auth_lockout_fail(&l, "10.0.0.7", 300000 + AUTH_LOCK_FORGET_S), 0);
	/* many sources never overflow the table */
	for (int i = 0; i < 1000; i++) {
		char src[32];

		snprintf(src, sizeof(src), "10.1.%d.%d", i / 256, i % 256);
		auth_lockout_fail(&l, src, 400000 + i);
	}
}

static void
test_api_tokens(void **state)
{
	struct auth_api_tokens t, t2;
	char secret[AUTH_API_TOKEN_BUF], secret2[AUTH_API_TOKEN_BUF], text[4096];
	const char *why;
	int i;

	(void)state;
	memset(&t, 0, sizeof(t));
	i = auth_api_token_create(&t, "prometheus scraper", 1700000000, secret, &why);
	assert_int_equal(i, 0);
	assert_memory_equal(secret, "cdt_", 4);
	assert_int_equal(strlen(secret), AUTH_API_TOKEN_BUF - 1);
	assert_int_equal(auth_api_token_check(&t, secret), 0);
	assert_int_equal(auth_api_token_create(&t, "fleet-1", 1700000001, secret2, &why), 1);
	assert_int_equal(auth_api_token_check(&t, secret2), 1);
	secret2[10] ^= 1;
	assert_int_equal(auth_api_token_check(&t, secret2), -1);
	assert_int_equal(auth_api_token_check(&t, "cdt_"), -1);
	assert_int_equal(auth_api_token_create(&t, "bad\nname", 1, secret2, &why), -1);
	assert_int_equal(auth_api_token_create(&t, "", 1, secret2, &why), -1);
	assert_int_equal(auth_api_token_create(&t, "<script>", 1, secret2, &why), -1);
	/* the file keeps hashes only, and reads back the same */
	assert_true(auth_api_tokens_format(&t, text, sizeof(text)) > 0);
	assert_null(strstr(text, secret + 4));
	assert_int_equal(auth_api_tokens_parse(text, &t2), 0);
	assert_int_equal(t2.n, 2);
	assert_string_equal(t2.t[0].name, "prometheus scraper");
	assert_int_equal(auth_api_token_check(&t2, secret), 0);
	assert_int_equal(auth_api_token_delete(&t2, t2.t[0].id), 0);
	assert_int_equal(auth_api_token_check(&t2, secret), -1);
	assert_int_equal(auth_api_token_delete(&t2, "nope"), -1);
	assert_int_equal(auth_api_tokens_parse("zz 1 00 x\n", &t2), -1);
	assert_int_equal(t2.n, 0);
	/* an id in upper case could never be deleted (ids are lower case everywhere) */
	assert_int_equal(auth_api_tokens_parse("0CB17D91 1 973da0e380e976b30a030cacf087c639"
	    "e73e28eaded693cca6f7b2a6c8c3a63f x\n", &t2), -1);
	assert_int_equal(auth_api_tokens_parse("0cb17d91 1 973da0e380e976b30a030cacf087c639"
	    "e73e28eaded693cca6f7b2a6c8c3a63f x\n", &t2), 0);
	assert_int_equal(auth_api_tokens_parse("", &t2), 0);
	assert_int_equal(auth_api_tokens_format(&t, text, 10), -1);
}

/* A full table of sources that are locked, or failed recently, never frees a slot for
 * a new source by forgetting one of them: more sources than slots share one. */
static void
test_lockout_full_table(void **state)
{
	struct auth_lockout l;
	char src[32];

	(void)state;
	auth_lockout_init(&l, 5, 30, 900);
	l.global_interval_s = 0;	/* the table alone (test_lockout_global: the budget) */
	/* 64 sources, each locked (5 failures) */
	for (int i = 0; i < AUTH_LOCK_SLOTS; i++) {
		snprintf(src, sizeof(src), "2001:db8:0:%x::", i);
		for (int k = 0; k < 5; k++)
			auth_lockout_fail(&l, src, 10000 + i * 10 + k);
	}
	int64_t now = 10000 + AUTH_LOCK_SLOTS * 10;
	/* every one of them is still locked or within its forget window */
	snprintf(src, sizeof(src), "2001:db8:0:%x::", 0);
	assert_true(auth_lockout_wait(&l, src, 10000 + 25) > 0);
	/* the 65th source and more: they share the overflow slot, which locks too */
	for (int i = 0; i < 5; i++) {
		snprintf(src, sizeof(src), "2001:db8:1:%x::", i);
		auth_lockout_fail(&l, src, now + i * 10);
	}
	snprintf(src, sizeof(src), "2001:db8:1:%x::", 99);
	assert_true(auth_lockout_wait(&l, src, now + 50) > 0);
	/* nobody was evicted: the first source still has its failures (a 6th locks it
	 * for 60 s, not 0) */
	snprintf(src, sizeof(src), "2001:db8:0:%x::", 0);
	assert_int_equal(auth_lockout_fail(&l, src, now + 60), 60);
	/* after the forget window, slots are reused again */
	now += AUTH_LOCK_FORGET_S + 2000;
	assert_int_equal(auth_lockout_wait(&l, "198.51.100.7", now), 0);
	assert_int_equal(auth_lockout_fail(&l, "198.51.100.7", now), 0);
	assert_int_equal(auth_lockout_wait(&l, "198.51.100.8", now), 0);
}

/* Whatever the number of sources, failures beyond the burst are looked at no faster
 * than one per AUTH_GLOBAL_INTERVAL_S: 60 sources (room in the table, each under its own
 * threshold) trying in turn twice a second for two minutes. */
static void
test_lockout_global(void **state)
{
	struct auth_lockout l;
	char src[32];
	int looked = 0;

	(void)state;
	auth_lockout_init(&l, 5, 30, 900);
	for (int t = 0; t < 120; t++)
		for (int k = 0; k < 2; k++) {
			snprintf(src, sizeof(src), "10.0.0.%d", (t * 2 + k) % 60);
			if (auth_lockout_wait(&l, src, 50000 + t) > 0)
				continue;	/* refused, not looked at */
			auth_lockout_fail(&l, src, 50000 + t);
			looked++;
		}
	assert_true(looked > 0);
	assert_true(looked <= AUTH_GLOBAL_BURST + 120 / AUTH_GLOBAL_INTERVAL_S + 1);
	/* a quiet spell gives the budget back */
	assert_int_equal(auth_lockout_wait(&l, "192.0.2.1",
	    50120 + AUTH_GLOBAL_INTERVAL_S * (AUTH_GLOBAL_BURST + 1)), 0);
}

/* Refusals during a lock-out: the first is to be written down, the next ones counted. */
static void
test_lockout_refused(void **state)
{
	struct auth_lockout l;

	(void)state;
	auth_lockout_init(&l, 2, 30, 900);
	auth_lockout_fail(&l, "192.0.2.9", 100);
	assert_int_equal(auth_lockout_fail(&l, "192.0.2.9", 101), 30);
	assert_int_equal(auth_lockout_refused(&l, "192.0.2.9", 102), 1);
	for (int i = 0; i < 500; i++)
		assert_int_equal(auth_lockout_refused(&l, "192.0.2.9", 103), 0);
	assert_int_equal(auth_lockout_take_refused(&l, "192.0.2.9"), 501);
	assert_int_equal(auth_lockout_take_refused(&l, "192.0.2.9"), 0);
	/* the next lock-out is written down again */
	assert_int_equal(auth_lockout_fail(&l, "192.0.2.9", 140), 60);
	assert_int_equal(auth_lockout_refused(&l, "192.0.2.9", 141), 1);
}

/* No copy of a password in a request body outlives the body unwiped: neither the
 * tokener's scratch buffer (grown by realloc for long strings) nor the string objects. */
static void
test_body_passwords_wiped(void **state)
{
	static const char *const pws[] = {
		"short pw 12",
		"a much longer passphrase that outgrows json-c's first scratch buffer, twice over",
	};
	char body[512];
	json_object *o;

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		snprintf(body, sizeof(body), "{\"current\": \"%s\", \"new\": \"%s\"}",
		    pws[i], pws[i]);
		g_secret = pws[i];
		g_secret_freed = 0;
		o = admin_parse_body("application/json", body, strlen(body));
		assert_non_null(o);
		admin_body_free(o);
		/* refused bodies too: not an object, trailing data */
		snprintf(body, sizeof(body), "[\"%s\"]", pws[i]);
		assert_null(admin_parse_body("application/json", body, strlen(body)));
		snprintf(body, sizeof(body), "{\"password\": \"%s\"} x", pws[i]);
		assert_null(admin_parse_body("application/json", body, strlen(body)));
		g_secret = NULL;
		assert_int_equal(g_secret_freed, 0);
	}
	/* the check itself can fail: a plain json_object_put leaves the password behind */
	g_secret = pws[1];
	g_secret_freed = 0;
	o = json_object_new_string(pws[1]);
	json_object_put(o);
	g_secret = NULL;
	assert_true(g_secret_freed > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ct_equal),
		cmocka_unit_test(test_hash_verify),
		cmocka_unit_test(test_password_policy),
		cmocka_unit_test(test_random_and_codes),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_lockout),
		cmocka_unit_test(test_lockout_full_table),
		cmocka_unit_test(test_lockout_global),
		cmocka_unit_test(test_lockout_refused),
		cmocka_unit_test(test_body_passwords_wiped),
		cmocka_unit_test(test_api_tokens),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
