/* SPDX-License-Identifier: BSD-2-Clause */
/* config_keys.c — see config_keys.h. Adding a key: a field in struct cfg, one row here
 * (the parser, the admin page, the man page and the fuzzers follow), a line in
 * README.md's example file. */
#include <stdio.h>
#include <string.h>

#include "autoconf.h"
#include "core/config.h"
#include "core/config_keys.h"

/* Without the admin listener (Kconfig ADMIN off) its options are not in autoconf.h; the
 * [admin] keys are still parsed (the loop warns about a set admin.listen), with these
 * defaults. */
#ifndef CONFIG_ADMIN_LISTEN_DEFAULT
#define CONFIG_ADMIN_LISTEN_DEFAULT	""
#endif
#ifndef CONFIG_ADMIN_STATE_DIR_DEFAULT
#define CONFIG_ADMIN_STATE_DIR_DEFAULT	"/var/lib/cardupd"
#endif

#if defined(CONFIG_LOG_LEVEL_DEBUG)
#define LOG_DEF	"debug"
#elif defined(CONFIG_LOG_LEVEL_WARN)
#define LOG_DEF	"warn"
#elif defined(CONFIG_LOG_LEVEL_ERROR)
#define LOG_DEF	"error"
#else
#define LOG_DEF	"info"
#endif
#ifdef CONFIG_LOG_SYSLOG_DEFAULT
#define SYSLOG_DEF	"yes"
#else
#define SYSLOG_DEF	"no"
#endif

#define STR_(x)	#x
#define STR(x)	STR_(x)
#define AT(f)	offsetof(struct cfg, f), sizeof(((struct cfg *)0)->f)

_Static_assert(sizeof(enum log_level) == sizeof(int), "log level stored as an int");
_Static_assert(CMS_MAX_ORIGINS * CMS_ORIGIN_MAX + 1 <= CFG_VALUE_MAX, "CFG_VALUE_MAX");
_Static_assert(CFG_CMD_MAX <= CFG_VALUE_MAX && CMS_URL_MAX <= CFG_VALUE_MAX, "CFG_VALUE_MAX");

const char *const cfg_sections[] = { "device", "cms", "kiosk", "admin", "hooks", "log", NULL };

const struct cfg_key cfg_keys[] = {
	{ "device", "id", CFG_T_TEXT, CFG_F_NONEMPTY, 0, 0, NULL, NULL,
	  "The name of this kiosk in the CMS requests and the admin pages "
	  "(default: the host name).", AT(device_id) },

	{ "cms", "url", CFG_T_URL, CFG_F_REQUIRED, 0, 0, NULL, NULL,
	  "The CMS base URL (https); checks are POSTed to URL/card-status.", AT(cms_url) },
	{ "cms", "trust_anchors", CFG_T_PATH, CFG_F_REQUIRED | CFG_F_PATH | CFG_F_SESSION,
	  0, 0, NULL, NULL,
	  "PEM (or DER) file of the CA certificates the CMS and SERAM servers must chain to.",
	  AT(cms_anchors) },
	{ "cms", "portal_origins", CFG_T_ORIGINS, CFG_F_REQUIRED, 0, 0, NULL, NULL,
	  "The https origins (scheme, host, port) portal and SERAM URLs of the CMS may use, "
	  "separated by blanks or commas; at most " STR(CMS_MAX_ORIGINS) ".",
	  AT(portal_origins) },
	{ "cms", "timeout_ms", CFG_T_INT, 0, 100, 120000, NULL, STR(CONFIG_CMS_TIMEOUT_MS),
	  "Time allowed for one check (connect, TLS, request, answer), in milliseconds.",
	  AT(cms_timeout_ms) },
	{ "cms", "retries", CFG_T_INT, 0, 0, 10, NULL, STR(CONFIG_CMS_RETRIES),
	  "Retries of a check that failed for a network reason.", AT(cms_retries) },
	{ "cms", "breaker_cooldown_s", CFG_T_INT, 0, 1, 300, NULL,
	  STR(CONFIG_CMS_BREAKER_COOLDOWN_S),
	  "After 3 checks in a row found the CMS unreachable, checks fail at once with "
	  "cms_down for this many seconds (+-25 %), then one goes through as a probe; each "
	  "failed probe doubles the wait, up to 64 times this (at most 300).",
	  AT(cms_breaker_cooldown_s) },
	{ "cms", "session_timeout_s", CFG_T_INT, 0, 5, 3600, NULL,
	  STR(CONFIG_SERAM_SESSION_MAX_S),
	  "The longest a SERAM card update session may last, in seconds.",
	  AT(cms_session_timeout_s) },
	{ "cms", "client_cert", CFG_T_PATH, CFG_F_PATH | CFG_F_SESSION, 0, 0, NULL, "",
	  "PEM client certificate for mutual TLS with the CMS (with client_key; empty: none).",
	  AT(cms_client_cert) },
	{ "cms", "client_key", CFG_T_PATH, CFG_F_PATH | CFG_F_SESSION, 0, 0, NULL, "",
	  "PEM private key of client_cert.", AT(cms_client_key) },

	{ "kiosk", "listen", CFG_T_LISTEN, CFG_F_RESTART, 0, 0, NULL,
	  CONFIG_KIOSK_LISTEN_DEFAULT,
	  "Address of the kiosk page and API (loopback peers only).", AT(kiosk_listen) },
	{ "kiosk", "prompt_timeout_s", CFG_T_INT, 0, 5, 3600, NULL,
	  STR(CONFIG_KIOSK_PROMPT_TIMEOUT_S),
	  "How long an update prompt waits for Proceed or Cancel, in seconds.",
	  AT(prompt_timeout_s) },
	{ "kiosk", "readers", CFG_T_TEXT, CFG_F_NONEMPTY, 0, 0, NULL, "*",
	  "fnmatch(3) glob of the PC/SC reader names to watch.", AT(kiosk_readers) },
	{ "kiosk", "language", CFG_T_CHOICE, 0, 0, 0, "en|fr", "en",
	  "Language of the kiosk page.", AT(kiosk_lang) },
	{ "kiosk", "manual_check", CFG_T_BOOL, 0, 0, 0, NULL, "yes",
	  "Show \"Check for card update\" on the idle screen.", AT(kiosk_manual_check) },
	{ "kiosk", "return_url_param", CFG_T_NAME, 0, 0, 0, NULL, "",
	  "Query parameter that hands the portal the kiosk page's URL to return to "
	  "(empty: none).", AT(kiosk_return_param) },

	{ "admin", "listen", CFG_T_LISTEN, CFG_F_RESTART | CFG_F_EMPTY_OK, 0, 0, NULL,
	  CONFIG_ADMIN_LISTEN_DEFAULT,
	  "Address of the TLS admin listener (empty: off).", AT(admin_listen) },
	{ "admin", "tls_cert", CFG_T_PATH, CFG_F_RESTART | CFG_F_PATH | CFG_F_SESSION, 0, 0,
	  NULL, "",
	  "PEM certificate of the admin listener (with tls_key; empty: a self-signed one "
	  "in state_dir).", AT(admin_tls_cert) },
	{ "admin", "tls_key", CFG_T_PATH, CFG_F_RESTART | CFG_F_PATH | CFG_F_SESSION, 0, 0,
	  NULL, "", "PEM private key of tls_cert.", AT(admin_tls_key) },
	{ "admin", "password_hash", CFG_T_HASH, CFG_F_SECRET | CFG_F_NOEDIT, 0, 0, NULL, "",
	  "crypt(3) hash of the admin password, as mkpasswd -m yescrypt prints it "
	  "(empty: a setup code is shown on the kiosk).", AT(admin_password_hash) },
	{ "admin", "state_dir", CFG_T_PATH,
	  CFG_F_RESTART | CFG_F_PATH | CFG_F_SESSION | CFG_F_ABSOLUTE, 0, 0, NULL,
	  CONFIG_ADMIN_STATE_DIR_DEFAULT,
	  "Directory of the admin key and certificate, API tokens and audit log.",
	  AT(admin_state_dir) },

	{ "hooks", "on_prompt", CFG_T_COMMAND, CFG_F_HOOK | CFG_F_SESSION, 0, 0, NULL, "",
	  "Command run when an update prompt is shown (details in the environment).",
	  AT(hook_on_prompt) },
	{ "hooks", "on_proceed", CFG_T_COMMAND, CFG_F_HOOK | CFG_F_SESSION, 0, 0, NULL, "",
	  "Command run when the user presses Proceed.", AT(hook_on_proceed) },
	{ "hooks", "on_session_end", CFG_T_COMMAND, CFG_F_HOOK | CFG_F_SESSION, 0, 0, NULL,
	  "", "Command run when the card of a Proceed is removed (e.g. a fresh browser).",
	  AT(hook_on_session_end) },

	{ "log", "level", CFG_T_CHOICE, 0, 0, 0, "error|warn|info|debug", LOG_DEF,
	  "Least severe message kept.", offsetof(struct cfg, log_level), 0 },
	{ "log", "syslog", CFG_T_BOOL, 0, 0, 0, NULL, SYSLOG_DEF,
	  "Log to syslog (as well as to stderr in the foreground).", AT(log_syslog) },
};

const size_t cfg_nkeys = sizeof(cfg_keys) / sizeof(cfg_keys[0]);

_Static_assert(sizeof(cfg_keys) / sizeof(cfg_keys[0]) <= CFG_KEYS_MAX, "config.c: one bit per key");

/* see config_keys.h */
const struct cfg_key *
cfg_key_find(const char *section, const char *key)
{
	for (size_t i = 0; i < cfg_nkeys; i++)
		if (strcmp(cfg_keys[i].section, section) == 0 &&
		    strcmp(cfg_keys[i].key, key) == 0)
			return &cfg_keys[i];
	return NULL;
}

/* see config_keys.h */
const struct cfg_key *
cfg_key_by_name(const char *name)
{
	const char *dot = strchr(name, '.');
	char sec[32];

	if (dot == NULL || (size_t)(dot - name) >= sizeof(sec))
		return NULL;
	memcpy(sec, name, (size_t)(dot - name));
	sec[dot - name] = '\0';
	return cfg_key_find(sec, dot + 1);
}

/* see config_keys.h */
void
cfg_key_format(const struct cfg *c, const struct cfg_key *k, char *out, size_t cap)
{
	const char *base = (const char *)c + k->off;

	out[0] = '\0';
	switch (k->type) {
	case CFG_T_INT:
		snprintf(out, cap, "%d", *(const int *)(const void *)base);
		break;
	case CFG_T_BOOL:
		snprintf(out, cap, "%s", *(const int *)(const void *)base ? "yes" : "no");
		break;
	case CFG_T_ORIGINS: {
		const struct cms_origins *o = (const void *)base;
		size_t n = 0;

		for (size_t i = 0; i < o->n && n < cap; i++) {
			int w = snprintf(out + n, cap - n, "%s%s", i ? " " : "", o->o[i]);

			if (w < 0)
				break;
			n += (size_t)w;
		}
		break;
	}
	case CFG_T_CHOICE:
		if (k->size == 0) {	/* stored as the index of the choice */
			int idx = *(const int *)(const void *)base;
			const char *p = k->choices;

			for (int i = 0; i < idx && p != NULL; i++)
				if ((p = strchr(p, '|')) != NULL)
					p++;
			if (p != NULL)
				snprintf(out, cap, "%.*s", (int)strcspn(p, "|"), p);
			break;
		}
		/* FALLTHROUGH */
	default:
		snprintf(out, cap, "%.*s", (int)k->size, base);
		break;
	}
}

/* Levenshtein distance of a and b, capped: anything above 3 is 3. */
static int
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[65], prev, tmp;

	if (la > 64 || lb > 64)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int best = prev + (a[i - 1] != b[j - 1]);

			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb] > 3 ? 3 : row[lb];
}

/* see config_keys.h */
const struct cfg_key *
cfg_key_nearest(const char *section, const char *key)
{
	const struct cfg_key *best = NULL;
	int bestd = 3;
	size_t kl = strlen(key);

	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		int d;

		if (section != NULL && strcmp(k->section, section) != 0)
			continue;
		d = distance(key, k->key);
		if (d > 2 && kl >= 4 && strncmp(k->key, key, kl) == 0)
			d = 2;	/* a prefix: "prompt" for prompt_timeout_s */
		if (d < bestd) {
			bestd = d;
			best = k;
		}
	}
	return best;
}
