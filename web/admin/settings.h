/* SPDX-License-Identifier: BSD-2-Clause */
/* settings.h — changing the configuration file from the admin page: the new text is
 * made from the old one with only the changed keys rewritten (comments, order and
 * other keys kept); the caller writes it with base/file's file_write_atomic (a crash or
 * SIGKILL at any instant leaves the old file or the new one, whole). */
#ifndef CARDUPD_SETTINGS_H
#define CARDUPD_SETTINGS_H

#include <stddef.h>
#include <sys/types.h>

struct settings_change {
	const char	*section;
	const char	*key;
	const char	*value;		/* "" writes an empty value */
};

/* 0 when value can be written as an INI value that reads back identically: no
 * control characters (a newline would smuggle in another key), no leading or
 * trailing blanks, no " ;" that inih would cut as a comment. Else -1 with *why. */
int settings_value_ok(const char *value, const char **why);

/* Pure. Applies n changes to the INI text: the first "key = value" line of the key in
 * its section is rewritten, further ones removed; a key not present is added at the
 * end of its section, a section not present at the end. Returns the new text
 * (malloc'd, caller frees), or NULL with *why and *bad (index of the offending
 * change, or n for out of memory). */
char *settings_update_text(const char *text, const struct settings_change *ch,
    size_t n, const char **why, size_t *bad);

/* Pure. Whether a caller may set a key with these flags (core/config_keys.h's CFG_F_)
 * to value: session is 1 for a logged-in administrator, 0 for an API token (CFG_F_HOOK
 * and CFG_F_SESSION keys: sessions only); edit_hooks is Kconfig ADMIN_EDIT_HOOKS (a
 * CFG_F_HOOK key is refused without it); a CFG_F_PATH value must be empty, lexically
 * inside conf_dir (absolute, no "." or ".." component) or equal to also_ok (NULL: none;
 * the key's built-in default). Returns NULL when it may, else why not (a static English
 * sentence). */
const char *settings_may_change(unsigned flags, int session, int edit_hooks,
    const char *value, const char *conf_dir, const char *also_ok);

#endif
