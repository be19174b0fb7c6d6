/* SPDX-License-Identifier: BSD-2-Clause */
/* settings.c — see settings.h. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/file.h"
#include "core/config_keys.h"
#include "web/admin/settings.h"

/* see settings.h */
int
settings_value_ok(const char *value, const char **why)
{
	size_t n = strlen(value);

	for (const unsigned char *p = (const unsigned char *)value; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*why = "control characters (line breaks, tabs) are not allowed";
			return -1;
		}
	if (n > 0 && (value[0] == ' ' || value[n - 1] == ' ')) {
		*why = "leading or trailing spaces are not allowed";
		return -1;
	}
	if (strstr(value, " ;") != NULL || value[0] == ';' || value[0] == '#') {
		*why = "\" ;\" would start a comment";
		return -1;
	}
	return 0;
}

static void
put_kv(struct buf *o, const struct settings_change *c)
{
	buf_puts(o, c->key);
	buf_puts(o, " = ");
	buf_puts(o, c->value);
	buf_puts(o, "\n");
}

/* Trimmed [start, end) of a line. */
static void
trim(const char **s, const char **e)
{
	while (*s < *e && (**s == ' ' || **s == '\t'))
		(*s)++;
	while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
		(*e)--;
}

/* Section name of a "[name]" line into sec; 1 when the line is one. */
static int
section_line(const char *s, const char *e, char *sec, size_t cap)
{
	const char *rb;

	trim(&s, &e);
	if (s >= e || *s != '[' || (rb = memchr(s, ']', (size_t)(e - s))) == NULL)
		return 0;
	s++;
	e = rb;
	trim(&s, &e);
	snprintf(sec, cap, "%.*s", (int)(e - s), s);
	return 1;
}

/* Key of a "key = value" / "key: value" line into key; 1 when the line is one. */
static int
key_line(const char *s, const char *e, char *key, size_t cap)
{
	const char *eq;

	trim(&s, &e);
	if (s >= e || *s == ';' || *s == '#')
		return 0;
	for (eq = s; eq < e && *eq != '=' && *eq != ':'; eq++)
		;
	if (eq == e)
		return 0;
	e = eq;
	trim(&s, &e);
	snprintf(key, cap, "%.*s", (int)(e - s), s);
	return 1;
}

/* see settings.h */
char *
settings_update_text(const char *text, const struct settings_change *ch, size_t n,
    const char **why, size_t *bad)
{
	struct buf o = BUF_INIT;
	unsigned char *done;
	char *out;
	char sec[128] = "", key[128];
	const char *p = text;

	for (size_t i = 0; i < n; i++)
		if (settings_value_ok(ch[i].value, why) == -1) {
			*bad = i;
			return NULL;
		}
	if ((done = calloc(n + 1, 1)) == NULL) {
		*why = "out of memory";
		*bad = n;
		return NULL;
	}
	for (;;) {
		const char *eol = strchr(p, '\n');
		const char *end = eol ? eol : p + strlen(p);
		char nsec[128];
		int skip = 0;

		if (*p == '\0' || section_line(p, end, nsec, sizeof(nsec))) {
			/* Leaving sec: add its keys that were not there. */
			for (size_t i = 0; i < n; i++)
				if (!done[i] && strcmp(ch[i].section, sec) == 0 &&
				    sec[0] != '\0') {
					if (o.len > 0 && o.p[o.len - 1] != '\n')
						buf_puts(&o, "\n");
					put_kv(&o, &ch[i]);
					done[i] = 1;
				}
			if (*p == '\0')
				break;
			snprintf(sec, sizeof(sec), "%s", nsec);
		} else if (key_line(p, end, key, sizeof(key))) {
			for (size_t i = 0; i < n; i++)
				if (strcmp(ch[i].section, sec) == 0 &&
				    strcmp(ch[i].key, key) == 0) {
					if (!done[i])
						put_kv(&o, &ch[i]);
					done[i] = 1;
					skip = 1;
					break;
				}
		}
		if (!skip)
			buf_put(&o, p, (size_t)(end - p) + (eol ? 1 : 0));
		p = eol ? eol + 1 : end;
	}
	/* Sections that did not exist at all. */
	for (size_t i = 0; i < n; i++) {
		if (done[i])
			continue;
		if (o.len > 0 && o.p[o.len - 1] != '\n')
			buf_puts(&o, "\n");
		buf_puts(&o, "\n[");
		buf_puts(&o, ch[i].section);
		buf_puts(&o, "]\n");
		for (size_t j = i; j < n; j++)
			if (!done[j] && strcmp(ch[j].section, ch[i].section) == 0) {
				put_kv(&o, &ch[j]);
				done[j] = 1;
			}
	}
	free(done);
	if ((out = o.p != NULL ? buf_take(&o, NULL) : NULL) == NULL) {
		*why = "out of memory";
		*bad = n;
	}
	return out;
}

/* see settings.h */
const char *
settings_may_change(unsigned flags, int session, int edit_hooks, const char *value,
    const char *conf_dir, const char *also_ok)
{
	if ((flags & CFG_F_HOOK) && !edit_hooks)
		return "hooks are changed on the device only (Kconfig ADMIN_EDIT_HOOKS)";
	if ((flags & CFG_F_SESSION) && !session)
		return "only a logged-in administrator can change this, not an API token";
	if ((flags & CFG_F_PATH) && value[0] != '\0' && !file_path_under(value, conf_dir) &&
	    (also_ok == NULL || strcmp(value, also_ok) != 0))
		return "must name a file inside the configuration directory";
	return NULL;
}
