/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_config.c — libFuzzer target for the configuration parser (core/ini.c +
 * core/config.c: cfg_parse), the text of a file an installer or the admin page wrote.
 * Input: the file's text (cut at a NUL, as base/file refuses NULs).
 * Checked: no crash or leak; 0 exactly when no error was listed; every error with a
 * known code, a line within the text (0 only for file-wide errors) and NUL-terminated
 * names and message; the formatted errors NUL-terminated within any buffer size; and for
 * an accepted text, every key written back as cfg_key_format says it ("[section]\nkey =
 * value") parses again to the very same values (what the admin page relies on). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/config_keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_errors(const struct cfg_errors *e, const char *text)
{
	size_t shown = e->n < CFG_ERRORS_MAX ? e->n : CFG_ERRORS_MAX;
	int lines = 1;
	static char small[97], big[CFG_ERR_MAX];

	for (const char *p = text; *p; p++)
		lines += *p == '\n';
	for (size_t i = 0; i < shown; i++) {
		const struct cfg_error *x = &e->e[i];

		if (x->code < CFG_E_SYNTAX || x->code > CFG_E_FILE || x->line < 0 ||
		    x->line > lines)
			abort();
		if ((x->line == 0) != (x->code == CFG_E_MISSING || x->code == CFG_E_PAIR))
			abort();
		if (memchr(x->section, '\0', sizeof(x->section)) == NULL ||
		    memchr(x->key, '\0', sizeof(x->key)) == NULL ||
		    memchr(x->message, '\0', sizeof(x->message)) == NULL || x->message[0] == '\0')
			abort();
	}
	cfg_errors_format("f.conf", e, small, sizeof(small));
	if (memchr(small, '\0', sizeof(small)) == NULL)
		abort();
	cfg_errors_format("f.conf", e, big, sizeof(big));
	if (memchr(big, '\0', sizeof(big)) == NULL || (e->n > 0 && big[0] == '\0'))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cfg defaults, c, c2;
	static struct cfg_errors errs;
	static int init;
	static char back[CFG_KEYS_MAX * (CFG_VALUE_MAX + 96)];
	char *text, v[CFG_VALUE_MAX], v2[CFG_VALUE_MAX];
	size_t n = memchr(data, '\0', size) ? strlen((const char *)data) : size, o = 0;
	int rc;

	if (!init) {
		cfg_defaults(&defaults);
		init = 1;
	}
	if ((text = malloc(n + 1)) == NULL)
		return 0;
	memcpy(text, data, n);
	text[n] = '\0';
	rc = cfg_parse(text, &defaults, &c, &errs);
	if ((rc == 0) != (errs.n == 0))
		abort();
	check_errors(&errs, text);
	free(text);
	if (rc != 0)
		return 0;
	/* accepted: write every key back and read it again */
	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *k = &cfg_keys[i];

		cfg_key_format(&c, k, v, sizeof(v));
		if (k->type == CFG_T_INT) {
			long x = strtol(v, NULL, 10);

			if (x < k->min || x > k->max)
				abort();
		}
		o += (size_t)snprintf(back + o, sizeof(back) - o, "[%s]\n%s = %s\n",
		    k->section, k->key, v);
	}
	if (cfg_parse(back, &defaults, &c2, &errs) != 0) {
		fprintf(stderr, "written back, refused: %s (line %d)\n%s\n", errs.e[0].message,
		    errs.e[0].line, back);
		abort();
	}
	for (size_t i = 0; i < cfg_nkeys; i++) {
		cfg_key_format(&c, &cfg_keys[i], v, sizeof(v));
		cfg_key_format(&c2, &cfg_keys[i], v2, sizeof(v2));
		if (strcmp(v, v2) != 0) {
			fprintf(stderr, "[%s] %s: \"%s\" read back as \"%s\"\n",
			    cfg_keys[i].section, cfg_keys[i].key, v, v2);
			abort();
		}
	}
	return 0;
}
