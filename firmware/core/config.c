/* SPDX-License-Identifier: BSD-2-Clause */
/* config.c — see config.h. The INI reader (core/ini.c) hands over lines; each key is
 * looked up in the one key table (core/config_keys.c) and its value checked by its type;
 * every error is collected with its line, section, key and code. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "autoconf.h"
#include "base/file.h"
#include "base/host.h"
#include "core/config.h"
#include "core/config_keys.h"
#include "core/http.h"
#include "core/ini.h"

struct parse_state {
	struct cfg		*c;
	struct cfg_errors	*errs;
	uint64_t		 seen;	/* bit per key: set in the text (well or badly) */
};

static void
add_error(struct cfg_errors *errs, int line, enum cfg_err_code code, const char *section,
    const char *key, const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void
add_error(struct cfg_errors *errs, int line, enum cfg_err_code code, const char *section,
    const char *key, const char *fmt, ...)
{
	struct cfg_error *e;
	va_list ap;

	if (errs->n++ >= CFG_ERRORS_MAX)
		return;
	e = &errs->e[errs->n - 1];
	e->line = line;
	e->code = code;
	snprintf(e->section, sizeof(e->section), "%s", section ? section : "");
	snprintf(e->key, sizeof(e->key), "%s", key ? key : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

/* see config.h */
int
cfg_split_listen(const char *s, char *host, size_t hostlen, unsigned *port)
{
	const char *colon, *h = s;
	size_t hl;
	char *end;
	unsigned long p;
	unsigned char tmp[16];
	char hbuf[64];

	if (*s == '[') {
		const char *rb = strchr(s, ']');

		if (rb == NULL || rb[1] != ':')
			return -1;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -1;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= sizeof(hbuf) || hl >= hostlen)
		return -1;
	memcpy(hbuf, h, hl);
	hbuf[hl] = '\0';
	if (inet_pton(AF_INET, hbuf, tmp) != 1 && inet_pton(AF_INET6, hbuf, tmp) != 1)
		return -1;
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || errno != 0 || p == 0 || p > 65535)
		return -1;
	memcpy(host, hbuf, hl + 1);
	*port = (unsigned)p;
	return 0;
}

/* "expected a, b or c" for the choices "a|b|c". */
static void
expected_choices(const char *choices, char *out, size_t cap)
{
	size_t n = (size_t)snprintf(out, cap, "expected ");

	for (const char *p = choices; *p != '\0' && n < cap;) {
		size_t l = strcspn(p, "|");
		int last = p[l] == '\0', w;

		w = snprintf(out + n, cap - n, "%s%.*s", p == choices ? "" : last ? " or " : ", ",
		    (int)l, p);
		if (w < 0)
			break;
		n += (size_t)w;
		p += l + !last;
	}
}

/* The index of v among the choices "a|b|c", or -1. */
static int
choice_index(const char *choices, const char *v)
{
	size_t vl = strlen(v);
	int i = 0;

	for (const char *p = choices;; i++) {
		size_t l = strcspn(p, "|");

		if (l == vl && strncmp(p, v, l) == 0)
			return i;
		if (p[l] == '\0')
			return -1;
		p += l + 1;
	}
}

/* Checks v as a value of k and stores it into c. Returns 0, or -1 with *code and a
 * reason in why. */
static int
apply(struct cfg *c, const struct cfg_key *k, const char *v, enum cfg_err_code *code,
    char *why, size_t whylen)
{
	char *base = (char *)c + k->off, host[64];
	size_t n = strlen(v);
	unsigned port;

	*code = CFG_E_VALUE;
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			snprintf(why, whylen, "control character in value");
			return -1;
		}
	if ((k->flags & CFG_F_NONEMPTY) && n == 0) {
		snprintf(why, whylen, "must not be empty%s", strcmp(k->key, "readers") == 0 ?
		    " (use * for all readers)" : "");
		return -1;
	}
	switch (k->type) {
	case CFG_T_INT: {
		char *end;
		long x;

		errno = 0;
		x = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0) {
			snprintf(why, whylen, "not a whole number");
			return -1;
		}
		if (x < k->min || x > k->max) {
			*code = CFG_E_RANGE;
			snprintf(why, whylen, "out of range %ld..%ld", k->min, k->max);
			return -1;
		}
		*(int *)(void *)base = (int)x;
		return 0;
	}
	case CFG_T_BOOL:
		if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
		    !strcasecmp(v, "on"))
			*(int *)(void *)base = 1;
		else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
		    !strcasecmp(v, "off"))
			*(int *)(void *)base = 0;
		else {
			snprintf(why, whylen, "expected yes or no");
			return -1;
		}
		return 0;
	case CFG_T_CHOICE: {
		int i = choice_index(k->choices, v);

		if (i == -1) {
			expected_choices(k->choices, why, whylen);
			return -1;
		}
		if (k->size == 0) {
			*(int *)(void *)base = i;
			return 0;
		}
		break;
	}
	case CFG_T_ORIGINS: {
		struct cms_origins *o = (void *)base;
		char buf[CMS_MAX_ORIGINS * CMS_ORIGIN_MAX], *tok, *save = NULL;

		if (n >= sizeof(buf)) {
			*code = CFG_E_TOO_LONG;
			snprintf(why, whylen, "value too long (at most %zu characters)",
			    sizeof(buf) - 1);
			return -1;
		}
		memcpy(buf, v, n + 1);
		o->n = 0;
		for (tok = strtok_r(buf, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save))
			if (cms_origins_add(o, tok) == -1) {
				snprintf(why, whylen, "\"%.*s\" is not an https origin (or more "
				    "than %d origins)", CMS_ORIGIN_MAX, tok, CMS_MAX_ORIGINS);
				return -1;
			}
		if (o->n == 0) {
			snprintf(why, whylen, "needs at least one https origin");
			return -1;
		}
		return 0;
	}
	case CFG_T_URL: {
		struct http_url u;

		if (http_parse_url(v, &u) == -1) {
			snprintf(why, whylen, "not an https URL");
			return -1;
		}
		break;
	}
	case CFG_T_LISTEN:
		if (!(n == 0 && (k->flags & CFG_F_EMPTY_OK)) &&
		    cfg_split_listen(v, host, sizeof(host), &port) == -1) {
			snprintf(why, whylen, "expected IP:PORT or [IPv6]:PORT");
			return -1;
		}
		break;
	case CFG_T_NAME:
		for (const char *p = v; *p; p++)
			if (!(*p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) {
				snprintf(why, whylen, "letters, digits, - and _ only");
				return -1;
			}
		break;
	case CFG_T_HASH:
		if (n > 0 && *v != '$') {
			snprintf(why, whylen, "expected a crypt(3) hash such as mkpasswd -m "
			    "yescrypt prints");
			return -1;
		}
		break;
	case CFG_T_PATH:
		if ((k->flags & CFG_F_ABSOLUTE) && v[0] != '/') {
			snprintf(why, whylen, "must be an absolute path");
			return -1;
		}
		break;
	case CFG_T_TEXT:
	case CFG_T_COMMAND:
		break;
	}
	if (n >= k->size) {
		*code = CFG_E_TOO_LONG;
		snprintf(why, whylen, "value too long (at most %zu characters)", k->size - 1);
		return -1;
	}
	memcpy(base, v, n + 1);
	return 0;
}

static int
known_section(const char *s)
{
	for (size_t i = 0; cfg_sections[i] != NULL; i++)
		if (strcmp(cfg_sections[i], s) == 0)
			return 1;
	return 0;
}

/* The known section nearest to s (one letter off, or a prefix), or NULL. */
static const char *
nearest_section(const char *s)
{
	size_t sl = strlen(s);

	for (size_t i = 0; cfg_sections[i] != NULL; i++) {
		const char *k = cfg_sections[i];
		size_t kl = strlen(k);

		if ((sl + 1 == kl && strncmp(k, s, sl) == 0) ||
		    (kl + 1 == sl && strncmp(k, s, kl) == 0) ||
		    (kl == sl && strcasecmp(k, s) == 0))
			return k;
	}
	return NULL;
}

static int
on_item(void *arg, const struct ini_item *it)
{
	struct parse_state *ps = arg;
	const struct cfg_key *k, *near;
	enum cfg_err_code code;
	char why[512];

	switch (it->kind) {
	case INI_ERROR:
		add_error(ps->errs, it->line, it->err == INI_E_LONG ? CFG_E_LINE_LONG :
		    CFG_E_SYNTAX, NULL, NULL, "%s", ini_strerror(it->err));
		return 0;
	case INI_SECTION:
		return 0;	/* an unknown one is reported with its keys */
	case INI_KEY:
		break;
	}
	if (it->section[0] == '\0') {
		near = cfg_key_nearest(NULL, it->key);
		add_error(ps->errs, it->line, CFG_E_NO_SECTION, NULL, it->key,
		    "key \"%s\" outside any [section]%s%s%s", it->key,
		    near ? " (it belongs in [" : "", near ? near->section : "", near ? "])" : "");
		return 0;
	}
	if (!known_section(it->section)) {
		const char *ns = nearest_section(it->section);

		add_error(ps->errs, it->line, CFG_E_SECTION, it->section, it->key,
		    "unknown section [%s]%s%s%s", it->section, ns ? " \xe2\x80\x94 did you mean [" :
		    "", ns ? ns : "", ns ? "]?" : "");
		return 0;
	}
	if ((k = cfg_key_find(it->section, it->key)) == NULL) {
		if ((near = cfg_key_nearest(it->section, it->key)) != NULL)
			add_error(ps->errs, it->line, CFG_E_KEY, it->section, it->key,
			    "unknown key \xe2\x80\x94 did you mean %s?", near->key);
		else if ((near = cfg_key_nearest(NULL, it->key)) != NULL)
			add_error(ps->errs, it->line, CFG_E_KEY, it->section, it->key,
			    "unknown key \xe2\x80\x94 did you mean [%s] %s?", near->section,
			    near->key);
		else
			add_error(ps->errs, it->line, CFG_E_KEY, it->section, it->key,
			    "unknown key");
		return 0;
	}
	ps->seen |= (uint64_t)1 << (k - cfg_keys);
	if (apply(ps->c, k, it->value, &code, why, sizeof(why)) == -1)
		add_error(ps->errs, it->line, code, it->section, it->key, "%s", why);
	return 0;
}

/* see config.h */
void
cfg_defaults(struct cfg *c)
{
	enum cfg_err_code code;
	char why[512];

	memset(c, 0, sizeof(*c));
	host_name(c->device_id, sizeof(c->device_id));
	for (size_t i = 0; i < cfg_nkeys; i++)
		if (cfg_keys[i].def != NULL)
			/* the table's defaults are valid values (test_config checks) */
			(void)apply(c, &cfg_keys[i], cfg_keys[i].def, &code, why, sizeof(why));
}

/* see config.h */
int
cfg_parse(const char *text, const struct cfg *defaults, struct cfg *c,
    struct cfg_errors *errs)
{
	struct parse_state ps;

	memset(errs, 0, sizeof(*errs));
	if (defaults != NULL)
		memcpy(c, defaults, sizeof(*c));
	else
		cfg_defaults(c);
	memset(&ps, 0, sizeof(ps));
	ps.c = c;
	ps.errs = errs;
	(void)ini_parse(text, on_item, &ps);
	for (size_t i = 0; i < cfg_nkeys; i++)
		if ((cfg_keys[i].flags & CFG_F_REQUIRED) && !(ps.seen & ((uint64_t)1 << i)))
			add_error(errs, 0, CFG_E_MISSING, cfg_keys[i].section, cfg_keys[i].key,
			    "required key missing: add \"%s = ...\" to the [%s] section",
			    cfg_keys[i].key, cfg_keys[i].section);
	if ((c->admin_tls_cert[0] == '\0') != (c->admin_tls_key[0] == '\0'))
		add_error(errs, 0, CFG_E_PAIR, "admin", c->admin_tls_cert[0] ? "tls_key" :
		    "tls_cert", "tls_cert and tls_key go together");
	if ((c->cms_client_cert[0] == '\0') != (c->cms_client_key[0] == '\0'))
		add_error(errs, 0, CFG_E_PAIR, "cms", c->cms_client_cert[0] ? "client_key" :
		    "client_cert", "client_cert and client_key go together");
	return errs->n == 0 ? 0 : -1;
}

/* see config.h */
char *
cfg_errors_format(const char *name, const struct cfg_errors *errs, char *out, size_t cap)
{
	size_t used = 0, shown = errs->n < CFG_ERRORS_MAX ? errs->n : CFG_ERRORS_MAX, i;
	char line[CFG_ERR_MAX < 640 ? CFG_ERR_MAX : 640];

	out[0] = '\0';
	for (i = 0; i < shown; i++) {
		const struct cfg_error *e = &errs->e[i];
		char where[96] = "";
		int n;

		if (e->section[0] != '\0')
			snprintf(where, sizeof(where), " [%s] %s:", e->section, e->key);
		else if (e->key[0] != '\0' && e->code != CFG_E_NO_SECTION)
			snprintf(where, sizeof(where), " %s:", e->key);
		if (e->line > 0)
			n = snprintf(line, sizeof(line), "%s:%d:%s %s\n", name, e->line, where,
			    e->message);
		else
			n = snprintf(line, sizeof(line), "%s:%s %s\n", name, where, e->message);
		/* keep room for the "more" line */
		if (n < 0 || used + (size_t)n + 40 >= cap)
			break;
		memcpy(out + used, line, (size_t)n + 1);
		used += (size_t)n;
	}
	if (i < errs->n && used + 40 < cap)
		snprintf(out + used, cap - used, "%s: ...and %zu more errors\n", name,
		    errs->n - i);
	return out;
}

/* see config.h */
int
cfg_parse_string(const char *name, const char *text, struct cfg *c, char *err,
    size_t errlen)
{
	/* 14 KiB: not on the stack, nor thread-local (every thread's TLS block is
	 * cleared when the thread starts, so it would be resident in each of them). */
	struct cfg_errors *errs = malloc(sizeof(*errs));
	int rc;

	if (errs == NULL) {
		if (err != NULL && errlen > 0)
			snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	rc = cfg_parse(text, NULL, c, errs);
	if (err != NULL && errlen > 0)
		cfg_errors_format(name, errs, err, errlen);
	free(errs);
	return rc;
}

/* see config.h */
int
cfg_load(const char *path, struct cfg *c, char *err, size_t errlen)
{
	struct file_buf b;
	int rc;

	/* The configuration's own path comes from the command line (root's choice), so a
	 * link to it is followed; files named inside it are not. */
	if (file_read(path, CFG_FILE_MAX, FILE_TEXT | FILE_SECRET | FILE_FOLLOW, &b, err,
	    errlen) == -1) {
		size_t n = strlen(err);

		if (n + 1 < errlen)	/* every message of this module ends in a newline */
			memcpy(err + n, "\n", 2);
		return -1;
	}
	rc = cfg_parse_string(path, b.p, c, err, errlen);
	file_free(&b);
	return rc;
}
