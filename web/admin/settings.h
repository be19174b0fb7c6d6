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

#endif
