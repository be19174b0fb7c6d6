/* SPDX-License-Identifier: BSD-2-Clause */
/* cfgkeys.c — prints the configuration key table (core/config_keys.h) as tab-separated
 * lines for tools/gen-man-conf.py, which makes cardupd.conf(5) from it (make man-conf).
 * One line a key: section, key, type, flags, min, max, choices, default ("-": none),
 * longest value, doc. Built by mk/man.mk against the default Kconfig. */
#include <stdio.h>

#include "core/config.h"
#include "core/config_keys.h"

static const char *const types[] = {
	[CFG_T_TEXT] = "text", [CFG_T_PATH] = "path", [CFG_T_COMMAND] = "command",
	[CFG_T_URL] = "url", [CFG_T_ORIGINS] = "origins", [CFG_T_LISTEN] = "listen",
	[CFG_T_INT] = "int", [CFG_T_BOOL] = "bool", [CFG_T_CHOICE] = "choice",
	[CFG_T_NAME] = "name", [CFG_T_HASH] = "hash",
};

static const struct {
	unsigned	 bit;
	const char	*name;
} flags[] = {
	{ CFG_F_REQUIRED, "required" }, { CFG_F_RESTART, "restart" },
	{ CFG_F_SECRET, "secret" }, { CFG_F_PATH, "path" }, { CFG_F_SESSION, "session" },
	{ CFG_F_HOOK, "hook" }, { CFG_F_NOEDIT, "noedit" }, { CFG_F_NONEMPTY, "nonempty" },
	{ CFG_F_EMPTY_OK, "empty_ok" }, { CFG_F_ABSOLUTE, "absolute" },
};

int
main(void)
{
	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];
		const char *sep = "";
		size_t maxlen = k->size > 0 ? k->size - 1 : 0;

		if (k->type == CFG_T_ORIGINS)
			maxlen = CMS_MAX_ORIGINS * CMS_ORIGIN_MAX - 1;
		printf("%s\t%s\t%s\t", k->section, k->key, types[k->type]);
		for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++)
			if (k->flags & flags[f].bit) {
				printf("%s%s", sep, flags[f].name);
				sep = ",";
			}
		printf("%s\t%ld\t%ld\t%s\t%s\t%zu\t%s\n", *sep ? "" : "-", k->min, k->max,
		    k->choices ? k->choices : "-", k->def ? k->def : "-", maxlen, k->doc);
	}
	return 0;
}
