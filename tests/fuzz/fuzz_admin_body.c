/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_admin_body.c — libFuzzer target for the admin API's request bodies: admin.c's
 * admin_parse_body (Content-Type chosen by the first byte, the rest an exact-size
 * heap copy of the body, as the handler accumulates it without a NUL), then what the
 * handlers take from the object: the login/setup/password/token/check strings and the
 * settings "values" object, applied to a real configuration file with
 * settings_update_text and read back with core/ini.c as the daemon would.
 * Checked: no crash or leak, NULL unless the type is application/json and the body is
 * an object, no duplicate keys (post_settings has one slot per known key), an object
 * that survives json-c's own serialisation, and every accepted setting reading back
 * exactly as sent (a value smuggling in a line or a comment would not). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "core/config_keys.h"
#include "core/ini.h"
#include "web/admin/admin.h"
#include "web/admin/body.h"
#include "web/admin/auth.h"
#include "web/admin/settings.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const types[8] = {
	"application/json", "application/json; charset=utf-8", "APPLICATION/JSON",
	NULL, "text/plain", "application/x-www-form-urlencoded", "application/jso",
	"application/jsonp",
};

/* What post_settings accepts: the key table (core/config_keys.h) but CFG_F_NOEDIT. */
#define NSKEYS	64

/* board/host's cardupd.conf */
static const char conf[] =
    "# /etc/cardupd/cardupd.conf\n"
    "\n"
    "[device]\n"
    "id = dev-host\n"
    "\n"
    "[cms]\n"
    "url = https://cms.example.org/api/v1/check\n"
    "# PEM file of the CA certificates that may sign the CMS's chain.\n"
    "trust_anchors = /etc/cardupd/cms-ca.pem\n"
    "portal_origins = https://portal.example.org\n"
    "timeout_ms = 5000\n"
    "retries = 2\n"
    "\n"
    "[kiosk]\n"
    "listen = 127.0.0.1:8080\n"
    "prompt_timeout_s = 60\n"
    "readers = *\n"
    "\n"
    "[hooks]\n"
    "on_session_end = /usr/libexec/cardupd/kiosk-session-end\n"
    "\n"
    "[log]\n"
    "level = debug\n"
    "syslog = no\n";

struct readback {
	const struct settings_change	*ch;
	size_t				 n;
	const char			*last[NSKEYS];
	char				*owned[NSKEYS];
	int				 bad;
};

static int
on_kv(void *arg, const struct ini_item *it)
{
	struct readback *rb = arg;
	const char *sec = it->section, *key = it->key, *val = it->value;

	if (it->kind == INI_ERROR)
		return 1;
	if (it->kind != INI_KEY)
		return 0;
	for (size_t i = 0; i < rb->n; i++)
		if (strcmp(rb->ch[i].section, sec) == 0 && strcmp(rb->ch[i].key, key) == 0) {
			free(rb->owned[i]);
			if ((rb->owned[i] = strdup(val)) == NULL)
				abort();
			rb->last[i] = rb->owned[i];
		}
	return 0;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* post_settings: the "values" object to changes, applied to conf. */
static void
settings(json_object *body)
{
	struct settings_change ch[NSKEYS];
	struct readback rb = { 0 };
	json_object *vals;
	const char *why = NULL;
	size_t n = 0, bad = 0, seen = 0;
	int all_ok = 1, short_values = 1;
	char *out;

	if (!json_object_object_get_ex(body, "values", &vals) ||
	    !json_object_is_type(vals, json_type_object))
		return;
	json_object_object_foreach(vals, name, v) {
		const struct cfg_key *k;
		const char *s;

		if (++seen > (size_t)json_object_object_length(vals))
			abort();		/* a key twice */
		k = cfg_key_by_name(name);
		if (k == NULL || (k->flags & CFG_F_NOEDIT) ||
		    !json_object_is_type(v, json_type_string))
			continue;
		for (size_t j = 0; j < n; j++)
			if (ch[j].section == k->section && ch[j].key == k->key)
				abort();	/* one slot per key is all post_settings has */
		s = json_object_get_string(v);
		ch[n].section = k->section;
		ch[n].key = k->key;
		ch[n].value = s;
		all_ok &= settings_value_ok(s, &why) == 0;
		short_values &= strlen(s) <= INI_LINE_MAX - 200;
		n++;
	}
	if (n == 0)
		return;
	out = settings_update_text(conf, ch, n, &why, &bad);
	if ((out != NULL) != all_ok)
		abort();
	if (out == NULL)
		return;
	if (short_values) {
		rb.ch = ch;
		rb.n = n;
		if (ini_parse(out, on_kv, &rb) != 0)
			abort();
		for (size_t i = 0; i < n; i++)
			if (rb.last[i] == NULL || strcmp(rb.last[i], ch[i].value) != 0) {
				fprintf(stderr, "%s.%s = \"%s\" reads back as \"%s\"\n",
				    ch[i].section, ch[i].key, ch[i].value,
				    rb.last[i] ? rb.last[i] : "(nothing)");
				abort();
			}
		for (size_t i = 0; i < n; i++)
			free(rb.owned[i]);
	}
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ct, *s;
	json_object *o, *o2;
	char *body;

	if (size == 0)
		return 0;
	ct = types[data[0] & 7];
	data++;
	size--;
	/* an exact-size heap copy: ASan sees a read past the body */
	if ((body = malloc(size ? size : 1)) == NULL)
		abort();
	memcpy(body, data, size);

	o = admin_parse_body(ct, size ? body : NULL, size);
	if (o != NULL && (ct == NULL || strncasecmp(ct, "application/json", 16) != 0 ||
	    !json_object_is_type(o, json_type_object)))
		abort();
	(void)admin_parse_body(ct, NULL, 0);
	free(body);
	if (o == NULL)
		return 0;

	/* What json-c writes of it (the audit log, the answers) parses again. */
	s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if (s == NULL)
		abort();
	o2 = admin_parse_body("application/json", s, strlen(s));
	/* (the same text again, rather than json_object_equal: NaN is a number here) */
	if (o2 == NULL || strcmp(json_object_to_json_string_ext(o2, JSON_C_TO_STRING_PLAIN),
	    s) != 0)
		abort();
	json_object_put(o2);

	/* post_login, setup, post_password, post_token, post_check */
	if ((s = jstr(o, "password")) != NULL) {
		const char *why = NULL;

		if (auth_password_acceptable(s, &why) == -1 && why == NULL)
			abort();
	}
	if ((s = jstr(o, "code")) != NULL)
		(void)auth_code_equal(s, "7KQM-2XHD-R9VA");
	if ((s = jstr(o, "new")) != NULL) {
		const char *why = NULL;

		if (auth_password_acceptable(s, &why) == -1 && why == NULL)
			abort();
	}
	(void)jstr(o, "current");
	if ((s = jstr(o, "name")) != NULL) {
		static struct auth_api_tokens t;
		char secret[AUTH_API_TOKEN_BUF];
		const char *why = NULL;

		memset(&t, 0, sizeof(t));
		if (auth_api_token_create(&t, s, 1700000000, secret, &why) == 0 &&
		    (strcmp(t.t[0].name, s) != 0 || auth_api_token_check(&t, secret) != 0))
			abort();
	}
	(void)jstr(o, "reader");
	settings(o);
	json_object_put(o);
	return 0;
}
