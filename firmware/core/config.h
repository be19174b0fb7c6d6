/* config.h — the run-time configuration file (SPEC §3): INI parsed with inih, every key
 * validated, errors naming file, line and key. Defaults come from Kconfig. */
#ifndef CARDUPD_CONFIG_H
#define CARDUPD_CONFIG_H

#include <stddef.h>
#include "core/cms.h"
#include "base/log.h"

#define CFG_PATH_MAX	512
#define CFG_CMD_MAX	512
#define CFG_ERR_MAX	2048

struct cfg {
	char			device_id[64];
	/* [cms] */
	char			cms_url[CMS_URL_MAX];
	char			cms_anchors[CFG_PATH_MAX];
	struct cms_origins	portal_origins;
	int			cms_timeout_ms;
	int			cms_retries;
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

/* Fills *c with the Kconfig defaults (device id: the host name). */
void cfg_defaults(struct cfg *c);

/* Parses text (named `name` in messages) over the defaults into *c. Every error is
 * reported, one per line "name:LINE: [section] key: reason", into err (truncated to
 * errlen). Returns 0, or -1 when there was at least one error (then *c must not be
 * used). Required keys: cms.url, cms.trust_anchors, cms.portal_origins. */
int cfg_parse_string(const char *name, const char *text, struct cfg *c,
    char *err, size_t errlen);

/* Reads (base/file: a regular text file of at most 64 KiB) and parses the file at
 * path like cfg_parse_string. */
int cfg_load(const char *path, struct cfg *c, char *err, size_t errlen);

/* Splits "host:port" / "[v6]:port" into a numeric host and port. Returns 0 or -1. */
int cfg_split_listen(const char *s, char *host, size_t hostlen, unsigned *port);

#endif
