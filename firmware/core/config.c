/* config.c — see config.h. A table maps each [section] key to a setter that validates
 * the value; inih reads the lines through a counting reader so that every error can
 * name its line (Debian's inih is built without INI_HANDLER_LINENO). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <arpa/inet.h>

#include <ini.h>

#include "autoconf.h"
#include "base/file.h"
#include "core/config.h"
#include "core/http.h"

#define CFG_FILE_MAX	(64 * 1024)

/* Without the admin listener (Kconfig ADMIN off) its options are not in autoconf.h; the
 * [admin] keys are still parsed (main.c warns about a set admin.listen). */
#ifndef CONFIG_ADMIN
#define CONFIG_ADMIN_LISTEN_DEFAULT	""
#define CONFIG_ADMIN_STATE_DIR_DEFAULT	"/var/lib/cardupd"
#endif

struct parse_state {
	const char	*name;
	const char	*text, *pos;
	int		 line;
	struct cfg	*c;
	char		*err;
	size_t		 errlen, errused;
	int		 nerr;
	unsigned	 seen;		/* bit per required key */
};

static void
add_error(struct parse_state *ps, const char *section, const char *key,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
add_error(struct parse_state *ps, const char *section, const char *key,
    const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	int n;

	ps->nerr++;
	if (ps->err == NULL || ps->errused + 1 >= ps->errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (section != NULL)
		n = snprintf(ps->err + ps->errused, ps->errlen - ps->errused,
		    "%s:%d: [%s] %s: %s\n", ps->name, ps->line, section, key, msg);
	else
		n = snprintf(ps->err + ps->errused, ps->errlen - ps->errused,
		    "%s:%d: %s\n", ps->name, ps->line, msg);
	if (n > 0)
		ps->errused += (size_t)n < ps->errlen - ps->errused ?
		    (size_t)n : ps->errlen - ps->errused - 1;
}

/* Copies a string value; refuses control characters and values that do not fit. */
static int
set_str(char *dst, size_t cap, const char *v, const char **why)
{
	size_t n = strlen(v);

	if (n >= cap) {
		*why = "value too long";
		return -1;
	}
	for (const char *p = v; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f) {
			*why = "control character in value";
			return -1;
		}
	memcpy(dst, v, n + 1);
	return 0;
}

static int
set_int(int *dst, const char *v, long lo, long hi, const char **why)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || errno != 0) {
		*why = "not a whole number";
		return -1;
	}
	if (n < lo || n > hi) {
		/* only read right away by the caller; thread-local: the admin thread
		 * parses too */
		static _Thread_local char buf[64];

		snprintf(buf, sizeof(buf), "out of range %ld..%ld", lo, hi);
		*why = buf;
		return -1;
	}
	*dst = (int)n;
	return 0;
}

static int
set_bool(int *dst, const char *v, const char **why)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
	    !strcasecmp(v, "on"))
		*dst = 1;
	else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
	    !strcasecmp(v, "off"))
		*dst = 0;
	else {
		*why = "expected yes or no";
		return -1;
	}
	return 0;
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

enum { REQ_URL = 1, REQ_ANCHORS = 2, REQ_ORIGINS = 4 };

/* Returns 0, or -1 with *why set. *known is 0 when section/key is not a key at all. */
static int
apply(struct parse_state *ps, const char *s, const char *k, const char *v,
    int *known, const char **why)
{
	struct cfg *c = ps->c;
	char host[64];
	unsigned port;

	*known = 1;
#define IS(sec, key) (strcmp(s, sec) == 0 && strcmp(k, key) == 0)
	if (IS("device", "id")) {
		if (*v == '\0') {
			*why = "must not be empty";
			return -1;
		}
		return set_str(c->device_id, sizeof(c->device_id), v, why);
	}
	if (IS("cms", "url")) {
		struct http_url u;

		if (http_parse_url(v, &u) == -1) {
			*why = "not an https URL";
			return -1;
		}
		ps->seen |= REQ_URL;
		return set_str(c->cms_url, sizeof(c->cms_url), v, why);
	}
	if (IS("cms", "trust_anchors")) {
		ps->seen |= REQ_ANCHORS;
		return set_str(c->cms_anchors, sizeof(c->cms_anchors), v, why);
	}
	if (IS("cms", "portal_origins")) {
		char buf[CMS_MAX_ORIGINS * CMS_ORIGIN_MAX], *tok, *save = NULL;

		if (set_str(buf, sizeof(buf), v, why) == -1)
			return -1;
		c->portal_origins.n = 0;
		for (tok = strtok_r(buf, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save))
			if (cms_origins_add(&c->portal_origins, tok) == -1) {
				static _Thread_local char msg[CMS_ORIGIN_MAX + 64];

				snprintf(msg, sizeof(msg), "\"%.*s\" is not an https origin "
				    "(or more than %d origins)", CMS_ORIGIN_MAX, tok,
				    CMS_MAX_ORIGINS);
				*why = msg;
				return -1;
			}
		if (c->portal_origins.n == 0) {
			*why = "needs at least one https origin";
			return -1;
		}
		ps->seen |= REQ_ORIGINS;
		return 0;
	}
	if (IS("cms", "timeout_ms"))
		return set_int(&c->cms_timeout_ms, v, 100, 120000, why);
	if (IS("cms", "retries"))
		return set_int(&c->cms_retries, v, 0, 10, why);
	if (IS("cms", "session_timeout_s"))
		return set_int(&c->cms_session_timeout_s, v, 5, 3600, why);
	if (IS("cms", "client_cert"))
		return set_str(c->cms_client_cert, sizeof(c->cms_client_cert), v, why);
	if (IS("cms", "client_key"))
		return set_str(c->cms_client_key, sizeof(c->cms_client_key), v, why);
	if (IS("kiosk", "listen")) {
		if (cfg_split_listen(v, host, sizeof(host), &port) == -1) {
			*why = "expected IP:PORT or [IPv6]:PORT";
			return -1;
		}
		return set_str(c->kiosk_listen, sizeof(c->kiosk_listen), v, why);
	}
	if (IS("kiosk", "prompt_timeout_s"))
		return set_int(&c->prompt_timeout_s, v, 5, 3600, why);
	if (IS("kiosk", "readers")) {
		if (*v == '\0') {
			*why = "must not be empty (use * for all readers)";
			return -1;
		}
		return set_str(c->kiosk_readers, sizeof(c->kiosk_readers), v, why);
	}
	if (IS("kiosk", "language")) {
		if (strcmp(v, "en") != 0 && strcmp(v, "fr") != 0) {
			*why = "expected en or fr";
			return -1;
		}
		return set_str(c->kiosk_lang, sizeof(c->kiosk_lang), v, why);
	}
	if (IS("kiosk", "manual_check"))
		return set_bool(&c->kiosk_manual_check, v, why);
	if (IS("kiosk", "return_url_param")) {
		for (const char *p = v; *p; p++)
			if (!(*p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))) {
				*why = "letters, digits, - and _ only";
				return -1;
			}
		return set_str(c->kiosk_return_param, sizeof(c->kiosk_return_param), v, why);
	}
	if (IS("admin", "listen")) {
		if (*v != '\0' && cfg_split_listen(v, host, sizeof(host), &port) == -1) {
			*why = "expected IP:PORT or [IPv6]:PORT";
			return -1;
		}
		return set_str(c->admin_listen, sizeof(c->admin_listen), v, why);
	}
	if (IS("admin", "tls_cert"))
		return set_str(c->admin_tls_cert, sizeof(c->admin_tls_cert), v, why);
	if (IS("admin", "tls_key"))
		return set_str(c->admin_tls_key, sizeof(c->admin_tls_key), v, why);
	if (IS("admin", "password_hash")) {
		if (*v != '\0' && *v != '$') {
			*why = "expected a crypt(3) hash such as mkpasswd -m yescrypt prints";
			return -1;
		}
		return set_str(c->admin_password_hash, sizeof(c->admin_password_hash), v, why);
	}
	if (IS("admin", "state_dir")) {
		if (v[0] != '/') {
			*why = "must be an absolute path";
			return -1;
		}
		return set_str(c->admin_state_dir, sizeof(c->admin_state_dir), v, why);
	}
	if (IS("hooks", "on_prompt"))
		return set_str(c->hook_on_prompt, sizeof(c->hook_on_prompt), v, why);
	if (IS("hooks", "on_proceed"))
		return set_str(c->hook_on_proceed, sizeof(c->hook_on_proceed), v, why);
	if (IS("hooks", "on_session_end"))
		return set_str(c->hook_on_session_end, sizeof(c->hook_on_session_end), v, why);
	if (IS("log", "level")) {
		if (log_level_parse(v, &c->log_level) == -1) {
			*why = "expected error, warn, info or debug";
			return -1;
		}
		return 0;
	}
	if (IS("log", "syslog"))
		return set_bool(&c->log_syslog, v, why);
#undef IS
	*known = 0;
	return -1;
}

static const char *const sections[] = { "device", "cms", "kiosk", "admin", "hooks", "log" };

static int
handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse_state *ps = user;
	const char *why = NULL;
	int known, sec_ok = 0;

	if (name == NULL)	/* a bare [section] line (INI_CALL_HANDLER_ON_NEW_SECTION) */
		return 1;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strcmp(section, sections[i]) == 0)
			sec_ok = 1;
	if (!sec_ok) {
		if (*section == '\0')
			add_error(ps, NULL, NULL, "key \"%s\" outside any [section]", name);
		else
			add_error(ps, section, name, "unknown section [%s]", section);
		return 1;
	}
	if (apply(ps, section, name, value, &known, &why) == 0)
		return 1;
	if (!known)
		add_error(ps, section, name, "unknown key");
	else
		add_error(ps, section, name, "%s", why ? why : "invalid value");
	return 1;	/* keep going: report every error at once */
}

/* inih reader: hands out one line at a time and counts them. */
static char *
reader(char *buf, int size, void *stream)
{
	struct parse_state *ps = stream;
	size_t n = 0;

	if (*ps->pos == '\0' || size < 2)
		return NULL;
	while (ps->pos[n] != '\0' && ps->pos[n] != '\n' && n < (size_t)size - 2)
		n++;
	if (ps->pos[n] != '\0' && ps->pos[n] != '\n') {
		/* Over-long line: inih would split it into two; reject it whole. */
		ps->line++;
		add_error(ps, NULL, NULL, "line longer than %d characters", size - 2);
		ps->pos += n;
		while (*ps->pos != '\0' && *ps->pos++ != '\n')
			;
		strcpy(buf, ";\n");
		return buf;
	}
	if (ps->pos[n] == '\n')
		n++;
	memcpy(buf, ps->pos, n);
	buf[n] = '\0';
	ps->pos += n;
	ps->line++;
	return buf;
}

/* see config.h */
void
cfg_defaults(struct cfg *c)
{
	memset(c, 0, sizeof(*c));
	if (gethostname(c->device_id, sizeof(c->device_id) - 1) == -1 ||
	    c->device_id[0] == '\0')
		strcpy(c->device_id, "cardupd");
	c->cms_timeout_ms = CONFIG_CMS_TIMEOUT_MS;
	c->cms_retries = CONFIG_CMS_RETRIES;
	c->cms_session_timeout_s = CONFIG_SERAM_SESSION_MAX_S;
	snprintf(c->kiosk_listen, sizeof(c->kiosk_listen), "%s", CONFIG_KIOSK_LISTEN_DEFAULT);
	c->prompt_timeout_s = CONFIG_KIOSK_PROMPT_TIMEOUT_S;
	strcpy(c->kiosk_readers, "*");
	strcpy(c->kiosk_lang, "en");
	c->kiosk_manual_check = 1;
	snprintf(c->admin_listen, sizeof(c->admin_listen), "%s", CONFIG_ADMIN_LISTEN_DEFAULT);
	snprintf(c->admin_state_dir, sizeof(c->admin_state_dir), "%s",
	    CONFIG_ADMIN_STATE_DIR_DEFAULT);
#if defined(CONFIG_LOG_LEVEL_DEBUG)
	c->log_level = LOG_LVL_DEBUG;
#elif defined(CONFIG_LOG_LEVEL_WARN)
	c->log_level = LOG_LVL_WARN;
#elif defined(CONFIG_LOG_LEVEL_ERROR)
	c->log_level = LOG_LVL_ERROR;
#else
	c->log_level = LOG_LVL_INFO;
#endif
#ifdef CONFIG_LOG_SYSLOG_DEFAULT
	c->log_syslog = 1;
#endif
}

/* see config.h */
int
cfg_parse_string(const char *name, const char *text, struct cfg *c, char *err,
    size_t errlen)
{
	struct parse_state ps;
	int rc;

	memset(&ps, 0, sizeof(ps));
	ps.name = name;
	ps.text = ps.pos = text;
	ps.c = c;
	ps.err = err;
	ps.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	cfg_defaults(c);
	rc = ini_parse_stream(reader, &ps, handler, &ps);
	if (rc > 0 && rc <= ps.line) {
		/* A syntax error inih found itself (our handler never fails). */
		int saved = ps.line;

		ps.line = rc;
		add_error(&ps, NULL, NULL, "syntax error (expected [section] or key = value)");
		ps.line = saved;
	} else if (rc < 0)
		add_error(&ps, NULL, NULL, "out of memory while parsing");
	ps.line = 0;
	if (!(ps.seen & REQ_URL))
		add_error(&ps, "cms", "url", "required key missing");
	if (!(ps.seen & REQ_ANCHORS))
		add_error(&ps, "cms", "trust_anchors", "required key missing");
	if (!(ps.seen & REQ_ORIGINS))
		add_error(&ps, "cms", "portal_origins", "required key missing");
	if ((c->admin_tls_cert[0] == '\0') != (c->admin_tls_key[0] == '\0'))
		add_error(&ps, "admin", "tls_cert", "tls_cert and tls_key go together");
	if ((c->cms_client_cert[0] == '\0') != (c->cms_client_key[0] == '\0'))
		add_error(&ps, "cms", "client_cert", "client_cert and client_key go together");
	return ps.nerr == 0 ? 0 : -1;
}

/* see config.h */
int
cfg_load(const char *path, struct cfg *c, char *err, size_t errlen)
{
	struct file_buf b;
	int rc;

	if (file_read(path, CFG_FILE_MAX, FILE_TEXT | FILE_SECRET, &b, err, errlen) == -1) {
		size_t n = strlen(err);

		if (n + 1 < errlen)	/* every message of this module ends in a newline */
			memcpy(err + n, "\n", 2);
		return -1;
	}
	rc = cfg_parse_string(path, b.p, c, err, errlen);
	file_free(&b);
	return rc;
}
