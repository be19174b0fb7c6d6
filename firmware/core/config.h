/* SPDX-License-Identifier: BSD-2-Clause */
/* config.h — the run-time configuration (SPEC §3): struct cfg, its defaults (Kconfig,
 * through autoconf.h) and the parser of the INI file (core/ini.h) that checks every key
 * against the one key table (core/config_keys.h). cfg_parse with given defaults is pure;
 * cfg_defaults (and so cfg_parse without defaults, cfg_parse_string) asks base/host for
 * the host name, and cfg_load reads the file through base/file (so that cardupd and
 * cardupctl load it the same way). Errors are structured
 * (struct cfg_error: line, section, key, code) for programs, and formatted as
 * "file:LINE: [section] key: reason" lines for people. */
#ifndef CARDUPD_CONFIG_H
#define CARDUPD_CONFIG_H

#include <stddef.h>
#include "core/cms.h"
#include "base/log.h"

#define CFG_PATH_MAX	512
#define CFG_CMD_MAX	1024
#define CFG_ERR_MAX	4096
#define CFG_FILE_MAX	(64 * 1024)	/* the largest configuration file read */

struct cfg {
	char			device_id[64];
	/* [cms] */
	char			cms_url[CMS_URL_MAX];
	char			cms_anchors[CFG_PATH_MAX];
	struct cms_origins	portal_origins;
	int			cms_timeout_ms;
	int			cms_retries;
	int			cms_breaker_cooldown_s;
	char			cms_client_cert[CFG_PATH_MAX];
	char			cms_client_key[CFG_PATH_MAX];
	int			cms_session_timeout_s;	/* SERAM session cap */
	/* [kiosk] */
	char			kiosk_listen[80];
	int			prompt_timeout_s;
	char			kiosk_readers[128];	/* fnmatch glob */
	char			kiosk_lang[4];		/* "en" | "fr" */
	int			kiosk_manual_check;
	char			kiosk_return_param[32];	/* "" = no return URL */
	/* [admin] */
	char			admin_listen[80];
	char			admin_tls_cert[CFG_PATH_MAX];
	char			admin_tls_key[CFG_PATH_MAX];
	char			admin_password_hash[256];
	char			admin_state_dir[CFG_PATH_MAX];	/* key, certificate, tokens, audit */
	/* [hooks] */
	char			hook_on_prompt[CFG_CMD_MAX];
	char			hook_on_proceed[CFG_CMD_MAX];
	char			hook_on_session_end[CFG_CMD_MAX];
	/* [log] */
	enum log_level		log_level;
	int			log_syslog;
};

enum cfg_err_code {
	CFG_E_SYNTAX = 1,	/* a line that is not INI (core/ini.h) */
	CFG_E_LINE_LONG,	/* a line longer than INI_LINE_MAX */
	CFG_E_NO_SECTION,	/* a key before any [section] */
	CFG_E_SECTION,		/* an unknown [section] */
	CFG_E_KEY,		/* an unknown key (the message names the nearest one) */
	CFG_E_VALUE,		/* a value of the wrong form */
	CFG_E_RANGE,		/* a number out of its range */
	CFG_E_TOO_LONG,		/* a value longer than its buffer */
	CFG_E_MISSING,		/* a required key not set (line 0) */
	CFG_E_PAIR,		/* one of two keys that go together */
	CFG_E_FILE,		/* the file could not be read (cfg_load; line 0) */
};

/* One error. line is 0 when it is not about a line (a missing key, the file). section
 * and key are "" when unknown (a syntax error). */
struct cfg_error {
	int			line;
	enum cfg_err_code	code;
	char			section[64];
	char			key[64];
	char			message[320];
};

#define CFG_ERRORS_MAX	32

/* Every error of one parse, in line order, missing keys last. n counts all of them;
 * only the first CFG_ERRORS_MAX are kept in e[]. */
struct cfg_errors {
	size_t			n;
	struct cfg_error	e[CFG_ERRORS_MAX];
};

/* Fills *c with the defaults of the key table (Kconfig's where it has one; the device
 * id: the host name, or "cardupd"). */
void cfg_defaults(struct cfg *c);

/* Parses text over defaults (a copy of cfg_defaults' result; NULL: cfg_defaults is
 * called, which reads the host name; else pure) into *c and lists every error in *errs (zeroed first). Unknown
 * keys and sections name the nearest known one; a required key that is missing says
 * which section it belongs in, unless the key was set (and refused) already. The
 * whole text is checked: returns 0, or -1 when there was at least one error (then *c
 * must not be used). */
int cfg_parse(const char *text, const struct cfg *defaults, struct cfg *c,
    struct cfg_errors *errs);

/* Writes errs as lines "name:LINE: [section] key: message\n" ("name: ..." when line is
 * 0) into out (cap > 0), truncated at a line boundary with "...and N more" when it does
 * not fit. Returns out. */
char *cfg_errors_format(const char *name, const struct cfg_errors *errs, char *out,
    size_t cap);

/* cfg_parse(text, NULL, ...) with the errors formatted by cfg_errors_format into err
 * (errlen > 0). Returns 0 or -1. */
int cfg_parse_string(const char *name, const char *text, struct cfg *c,
    char *err, size_t errlen);

/* Reads the file at path with base/file (a regular file of at most CFG_FILE_MAX bytes,
 * text, never a FIFO or a link) and parses it like cfg_parse_string. */
int cfg_load(const char *path, struct cfg *c, char *err, size_t errlen);

/* Pure. Splits "host:port" / "[v6]:port" into a numeric host and port. Returns 0 or -1. */
int cfg_split_listen(const char *s, char *host, size_t hostlen, unsigned *port);

#endif
