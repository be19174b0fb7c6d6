/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_auth.c — libFuzzer target for auth.c on what a remote peer or the state
 * directory hands it: the API tokens file (auth_api_tokens_parse, then _format and a
 * re-parse), a bearer token (auth_api_token_check), a session cookie
 * (auth_session_find), a token name (auth_api_token_create), a setup code
 * (auth_code_equal), a new password (auth_password_acceptable) and, when bit 0 of the
 * first byte is set, a password to verify (auth_verify_password, against a cheap
 * sha512crypt hash and an md5crypt hash with the fuzzed salt). The rest of the input,
 * cut at a NUL (settings_read_file refuses NULs, C strings end there), is the text.
 * Checked: no crash, every id and name NUL-terminated and well-formed, a table that
 * parsed always fits the 16 KiB the admin listener saves it in and reads back equal,
 * a failed parse leaves an empty table, and no input is taken for a secret it is not. */
#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "web/admin/auth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define TOKENS_FILE_MAX	(16 * 1024)	/* as web/admin/admin.c */
#define PW		"correct horse battery"
#define CODE		"7KQM-2XHD-R9VA"

static int
hex_lower(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return s[n] == '\0';
}

static int
name_well_formed(const char *name)
{
	const char *z = memchr(name, '\0', AUTH_TOKEN_NAME_MAX);
	size_t n;

	if (z == NULL || (n = (size_t)(z - name)) == 0 || name[0] == ' ' ||
	    name[n - 1] == ' ')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
		    (name[i] >= '0' && name[i] <= '9') || strchr(" .-_", name[i]) != NULL))
			return 0;
	return 1;
}

static int
all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		if (b[i] != 0)
			return 0;
	return 1;
}

static void
check_tokens(const char *text, size_t cap_small)
{
	static struct auth_api_tokens t, t2;
	static char out[TOKENS_FILE_MAX], small[256];
	int len;

	if (auth_api_tokens_parse(text, &t) == -1) {
		if (!all_zero(&t, sizeof(t)))
			abort();		/* "then *t is empty" */
		return;
	}
	if (t.n > CONFIG_ADMIN_MAX_TOKENS)
		abort();
	for (size_t i = 0; i < t.n; i++)
		if (!hex_lower(t.t[i].id, 8) || !name_well_formed(t.t[i].name))
			abort();
	/* What was loaded can always be saved again (save_tokens, 16 KiB). */
	if ((len = auth_api_tokens_format(&t, out, sizeof(out))) < 0 ||
	    (size_t)len >= sizeof(out) || strlen(out) != (size_t)len)
		abort();
	if (auth_api_tokens_parse(out, &t2) != 0 || memcmp(&t, &t2, sizeof(t)) != 0)
		abort();
	/* A short buffer: -1, or the whole text, NUL-terminated either way. */
	len = auth_api_tokens_format(&t, small, cap_small);
	if (cap_small > 0 && memchr(small, '\0', cap_small) == NULL)
		abort();
	if (len >= 0 && ((size_t)len >= cap_small || strcmp(small, out) != 0))
		abort();
	/* A wrong bearer token never matches; one of each stored id's shape neither. */
	if (auth_api_token_check(&t, text) >= (int)t.n)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char hash6[CRYPT_OUTPUT_SIZE];
	static struct auth_api_tokens t;
	static struct auth_sessions ss;
	struct crypt_data *cd;
	const struct auth_session *s;
	const char *why;
	char *text, secret[AUTH_API_TOKEN_BUF], tok[AUTH_TOKEN_BUF];
	uint8_t mode;
	size_t len;
	int i, rc;

	if (size == 0)
		return 0;
	mode = data[0];
	data++;
	size--;
	len = strnlen((const char *)data, size);
	if ((text = malloc(len + 1)) == NULL)
		abort();
	memcpy(text, data, len);
	text[len] = '\0';

	check_tokens(text, (size_t)(mode >> 1));

	/* A token name from a request body. */
	memset(&t, 0, sizeof(t));
	why = NULL;
	i = auth_api_token_create(&t, text, 1700000000, secret, &why);
	if (i == -1) {
		if (why == NULL || t.n != 0 ||
		    (name_well_formed(text) && len < AUTH_TOKEN_NAME_MAX))
			abort();	/* refused with a reason, and only a bad name */
	} else {
		if (i != 0 || t.n != 1 || strcmp(t.t[0].name, text) != 0 ||
		    !hex_lower(t.t[0].id, 8) || strlen(secret) != AUTH_API_TOKEN_BUF - 1 ||
		    strncmp(secret, "cdt_", 4) != 0 || auth_api_token_check(&t, secret) != 0)
			abort();
		if (strcmp(text, secret) != 0 && auth_api_token_check(&t, text) != -1)
			abort();
		explicit_bzero(secret, sizeof(secret));
	}

	/* A bearer token or a cookie: only the real one opens. */
	if (auth_api_token_check(&t, text) != -1 && i == -1)
		abort();
	auth_sessions_init(&ss, 900, 28800);
	if ((s = auth_session_new(&ss, "192.0.2.1", 100)) == NULL)
		abort();
	memcpy(tok, s->token, sizeof(tok));
	if (auth_session_find(&ss, text, 101) != NULL && strcmp(text, tok) != 0)
		abort();
	if (auth_session_find(&ss, tok, 102) != s)
		abort();
	auth_session_end(&ss, text);

	/* A setup code as typed. */
	rc = auth_code_equal(text, CODE);
	if (strcmp(text, CODE) == 0 && rc != 1)
		abort();
	if (rc == 1 && len >= 64)
		abort();
	(void)auth_code_equal(CODE, text);	/* a code is never empty, but still */

	/* A new password. */
	why = NULL;
	if (auth_password_acceptable(text, &why) == 0) {
		if (len < AUTH_PASSWORD_MIN || len > AUTH_PASSWORD_MAX)
			abort();
		for (size_t k = 0; k < len; k++)
			if ((unsigned char)text[k] < 0x20 || text[k] == 0x7f)
				abort();
	} else if (why == NULL)
		abort();

	/* A password to check: crypt_r costs, so only on some inputs and short ones. */
	if ((mode & 1) && len <= 512) {
		char md5[64];

		if (hash6[0] == '\0') {
			if ((cd = calloc(1, sizeof(*cd))) == NULL)
				abort();
			snprintf(hash6, sizeof(hash6), "%s",
			    crypt_r(PW, "$6$rounds=1000$fuzzsalt", cd));
			free(cd);
			if (hash6[0] != '$' || auth_verify_password(PW, hash6) != 1)
				abort();
		}
		if (auth_verify_password(text, hash6) != (strcmp(text, PW) == 0))
			abort();
		/* md5crypt: a fixed cost whatever the salt says. */
		snprintf(md5, sizeof(md5), "$1$%.40s", text);
		(void)auth_verify_password(PW, md5);
	}
	free(text);
	return 0;
}
