/* SPDX-License-Identifier: BSD-2-Clause */
/* config_keys.h — the one table of configuration keys (issue 12): for every [section]
 * key its type, bounds, default, where it lives in struct cfg, and what changing it
 * means (restart, secret, path, who may edit it). The parser (config.c), the admin
 * settings editor, the man page generator (tools/cfgkeys.c, cardupd.conf(5)) and the
 * fuzzers all read it; nothing else lists keys. Pure. */
#ifndef CARDUPD_CONFIG_KEYS_H
#define CARDUPD_CONFIG_KEYS_H

#include <stddef.h>

struct cfg;

enum cfg_type {
	CFG_T_TEXT,	/* free text, no control characters */
	CFG_T_PATH,	/* a file or directory name */
	CFG_T_COMMAND,	/* a shell command line (hooks) */
	CFG_T_URL,	/* an https URL */
	CFG_T_ORIGINS,	/* https origins separated by blanks or commas */
	CFG_T_LISTEN,	/* IP:PORT or [IPv6]:PORT */
	CFG_T_INT,	/* a whole number in min..max */
	CFG_T_BOOL,	/* yes/no, true/false, on/off, 1/0 */
	CFG_T_CHOICE,	/* one of choices ("en|fr") */
	CFG_T_NAME,	/* letters, digits, - and _ */
	CFG_T_HASH,	/* a crypt(3) hash ("$...") */
};

/* flags */
#define CFG_F_REQUIRED	0x001	/* no default: the file must set it */
#define CFG_F_RESTART	0x002	/* a change takes effect at the next start, not on reload */
#define CFG_F_SECRET	0x004	/* never shown (admin page, logs) */
#define CFG_F_PATH	0x008	/* names a file the daemon opens: keep it in the
				 * configuration directory */
#define CFG_F_SESSION	0x010	/* changed by a logged-in administrator only, never by an
				 * API token (paths and hooks: issue 13 items 2 and 7) */
#define CFG_F_HOOK	0x020	/* a command run by the daemon: editable remotely only
				 * with Kconfig ADMIN_EDIT_HOOKS */
#define CFG_F_NOEDIT	0x040	/* not on the admin settings page (the password hash has
				 * its own form) */
#define CFG_F_NONEMPTY	0x080	/* "" is refused */
#define CFG_F_EMPTY_OK	0x100	/* CFG_T_LISTEN: "" means off */
#define CFG_F_ABSOLUTE	0x200	/* CFG_T_PATH: must start with "/" */

struct cfg_key {
	const char	*section, *key;
	enum cfg_type	 type;
	unsigned	 flags;
	long		 min, max;	/* CFG_T_INT: the range */
	const char	*choices;	/* CFG_T_CHOICE: "a|b|c" */
	const char	*def;		/* the default as the file would say it; NULL: none
					 * (required, or computed: see doc) */
	const char	*doc;		/* one sentence for the man page and the admin page */
	size_t		 off, size;	/* where in struct cfg; size of a string buffer */
};

#define CFG_KEYS_MAX	64	/* the most keys the table may grow to */

/* The table, in file order (sections grouped), and its length. */
extern const struct cfg_key cfg_keys[];
extern const size_t cfg_nkeys;

/* The sections, in order, NULL-terminated. */
extern const char *const cfg_sections[];

/* The key section.key, or NULL. */
const struct cfg_key *cfg_key_find(const char *section, const char *key);

/* The key named "section.key" (as the admin API names fields), or NULL. */
const struct cfg_key *cfg_key_by_name(const char *name);

/* Writes k's value in c as the configuration file would say it (a number in decimal,
 * a boolean "yes"/"no", origins separated by one space) into out (cap > 0; truncated).
 * Secrets are written as they are: the caller decides whether to show them. */
void cfg_key_format(const struct cfg *c, const struct cfg_key *k, char *out, size_t cap);

/* The longest value cfg_key_format can write for any key, with its NUL. */
#define CFG_VALUE_MAX	2304

/* The key of section whose name is nearest to key (edit distance at most 2, or key is
 * a prefix of it), or NULL; section NULL: any section. For "did you mean" messages. */
const struct cfg_key *cfg_key_nearest(const char *section, const char *key);

#endif
