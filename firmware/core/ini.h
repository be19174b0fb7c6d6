/* SPDX-License-Identifier: BSD-2-Clause */
/* ini.h — the INI syntax of the configuration file, read from a string one line at a
 * time (pure: no I/O, no allocation). It owns the syntax only; what the keys mean is
 * config.c's job (core/config_keys.h).
 *
 * Why our own reader and not inih: Debian builds libinih with a 200-byte line limit
 * (INI_MAX_LINE is compile-time), so a long hook command or URL was refused ("line longer
 * than 198 characters"); feeding inih line by line ourselves would still cut lines at its
 * buffer, and a copy of inih would be a second syntax to keep in step with the admin
 * page's writer (web/admin/settings.c). The syntax is small, so this is ~120 lines,
 * unit-tested and fuzzed (tests/fuzz/fuzz_config.c, fuzz_settings.c).
 *
 * The syntax, which web/admin/settings.c writes:
 *   - lines end at "\n" (a "\r" before it is dropped); a UTF-8 BOM may start the text;
 *     blanks (space, tab) around lines, names and values are not part of them;
 *   - empty lines and lines starting with ";" or "#" are comments;
 *   - "[section]", optionally followed by a comment;
 *   - "key = value" or "key: value" (the first "=" or ":" separates); in the value, a
 *     ";" after a blank starts a comment;
 *   - anything else, an empty key, and a line longer than INI_LINE_MAX are errors
 *     (reported, then the reader goes on with the next line). */
#ifndef CARDUPD_INI_H
#define CARDUPD_INI_H

#include <stddef.h>

/* The longest line (without its "\n") read: room for the longest value the daemon
 * accepts (a URL of CMS_URL_MAX, eight portal origins, a hook command) with its key. */
#define INI_LINE_MAX		4096
#define INI_SECTION_MAX		64	/* longer section names are a syntax error */

enum ini_kind {
	INI_SECTION,	/* a "[section]" line: section set */
	INI_KEY,	/* a "key = value" line: section (the current one, "" before any),
			 * key and value set */
	INI_ERROR,	/* a line that is none of these: err set */
};

enum ini_err {
	INI_E_SYNTAX = 1,	/* not a comment, section or key = value line */
	INI_E_SECTION,		/* "[" without "]", empty or over-long name, text after "]" */
	INI_E_EMPTY_KEY,	/* "= value" */
	INI_E_LONG,		/* longer than INI_LINE_MAX */
};

/* One line as the callback sees it. The strings live until the callback returns. */
struct ini_item {
	enum ini_kind	 kind;
	int		 line;		/* 1-based */
	const char	*section;
	const char	*key, *value;	/* INI_KEY only */
	enum ini_err	 err;		/* INI_ERROR only */
};

/* Called for every non-comment line; returns 0 to go on, anything else to stop. */
typedef int (*ini_cb)(void *arg, const struct ini_item *it);

/* Reads the NUL-terminated text and calls cb for each section line, key line and
 * erroneous line, in order. Returns 0, or the callback's non-zero value when it stopped
 * the reading. */
int ini_parse(const char *text, ini_cb cb, void *arg);

/* A short English description of an ini_err ("line longer than 4096 characters"). */
const char *ini_strerror(enum ini_err e);

#endif
