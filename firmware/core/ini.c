/* SPDX-License-Identifier: BSD-2-Clause */
/* ini.c — see ini.h. */
#include <string.h>

#include "core/ini.h"

static int
blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Trims blanks from both ends of [*s, *e). */
static void
trim(char **s, char **e)
{
	while (*s < *e && blank(**s))
		(*s)++;
	while (*e > *s && blank((*e)[-1]))
		(*e)--;
}

/* One line, in buf (NUL-terminated, no "\n"), into *it. */
static void
parse_line(char *buf, size_t len, char *section, struct ini_item *it)
{
	char *s = buf, *e = buf + len, *p;

	trim(&s, &e);
	*e = '\0';
	it->kind = INI_ERROR;
	it->err = INI_E_SYNTAX;
	if (s == e || *s == ';' || *s == '#') {
		it->kind = (enum ini_kind)-1;	/* a comment: no callback */
		return;
	}
	if (*s == '[') {
		char *n = s + 1, *rb = strchr(n, ']'), *ne;

		it->err = INI_E_SECTION;
		if (rb == NULL)
			return;
		for (p = rb + 1; blank(*p); p++)
			;
		if (*p != '\0' && *p != ';' && *p != '#')
			return;
		ne = rb;
		trim(&n, &ne);
		if (n == ne || (size_t)(ne - n) >= INI_SECTION_MAX)
			return;
		memcpy(section, n, (size_t)(ne - n));
		section[ne - n] = '\0';
		it->kind = INI_SECTION;
		return;
	}
	for (p = s; *p != '\0' && *p != '=' && *p != ':'; p++)
		;
	if (*p == '\0')
		return;
	{
		char *k = s, *ke = p, *v = p + 1, *ve;

		trim(&k, &ke);
		if (k == ke) {
			it->err = INI_E_EMPTY_KEY;
			return;
		}
		*ke = '\0';
		while (blank(*v))
			v++;
		/* an inline comment: ";" after a blank (the value's first character is
		 * never one: "a = ;x" has the value ";x", as inih read it) */
		for (ve = v; *ve != '\0' && !(*ve == ';' && ve > v && blank(ve[-1])); ve++)
			;
		trim(&v, &ve);
		*ve = '\0';
		it->kind = INI_KEY;
		it->key = k;
		it->value = v;
	}
}

/* see ini.h */
int
ini_parse(const char *text, ini_cb cb, void *arg)
{
	char buf[INI_LINE_MAX + 1], section[INI_SECTION_MAX] = "";
	const char *p = text;
	struct ini_item it;
	int line = 0, rc;

	if ((unsigned char)p[0] == 0xef && (unsigned char)p[1] == 0xbb &&
	    (unsigned char)p[2] == 0xbf)
		p += 3;
	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		line++;
		memset(&it, 0, sizeof(it));
		it.line = line;
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > INI_LINE_MAX) {
			it.kind = INI_ERROR;
			it.err = INI_E_LONG;
		} else {
			memcpy(buf, p, len);
			buf[len] = '\0';
			parse_line(buf, len, section, &it);
		}
		it.section = section;
		p = nl != NULL ? nl + 1 : p + strlen(p);
		if (it.kind == (enum ini_kind)-1)
			continue;
		if ((rc = cb(arg, &it)) != 0)
			return rc;
	}
	return 0;
}

/* see ini.h */
const char *
ini_strerror(enum ini_err e)
{
	switch (e) {
	case INI_E_SECTION:
		return "syntax error (expected [section] with a name of at most 63 "
		    "characters)";
	case INI_E_EMPTY_KEY:
		return "syntax error (no key before the = sign)";
	case INI_E_LONG:
		return "line longer than 4096 characters";
	case INI_E_SYNTAX:
	default:
		return "syntax error (expected [section] or key = value)";
	}
}
