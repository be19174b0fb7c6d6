/* edit.c — the settings editor: which keys the admin API shows and changes, their
 * values as the file would say them, and a change checked with the daemon's own parser
 * (and the CMS credentials it names) before the file is rewritten and reloaded. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "base/file.h"
#include "base/log.h"
#include "core/anchors.h"
#include "core/pem.h"
#include "core/tlscred.h"
#include "web/admin/server.h"

/* S_PATH: names a file or folder, which must be inside the configuration directory
 * (so that no setting can point the daemon at a FIFO, a device or another program's
 * files); S_SESSION: an API token cannot change it, only a logged-in administrator. */
enum { S_RESTART = 1, S_HOOK = 2, S_SECRET = 4, S_PATH = 8, S_SESSION = 16 };

static const struct skey {
	const char	*section, *key;
	int		 flags;
} skeys[] = {
	{ "device", "id", 0 },
	{ "cms", "url", 0 }, { "cms", "trust_anchors", S_PATH | S_SESSION },
	{ "cms", "portal_origins", 0 },
	{ "cms", "timeout_ms", 0 }, { "cms", "retries", 0 },
	{ "cms", "client_cert", S_PATH | S_SESSION }, { "cms", "client_key", S_PATH | S_SESSION },
	{ "kiosk", "listen", S_RESTART }, { "kiosk", "prompt_timeout_s", 0 },
	{ "kiosk", "readers", 0 }, { "kiosk", "language", 0 }, { "kiosk", "manual_check", 0 },
	{ "kiosk", "return_url_param", 0 },
	{ "admin", "listen", S_RESTART },
	{ "admin", "tls_cert", S_RESTART | S_PATH | S_SESSION },
	{ "admin", "tls_key", S_RESTART | S_PATH | S_SESSION },
	{ "admin", "state_dir", S_RESTART | S_PATH | S_SESSION },
	{ "hooks", "on_prompt", S_HOOK | S_SESSION },
	{ "hooks", "on_proceed", S_HOOK | S_SESSION },
	{ "hooks", "on_session_end", S_HOOK | S_SESSION },
	{ "log", "level", 0 }, { "log", "syslog", 0 },
};
#define NSKEYS	(sizeof(skeys) / sizeof(skeys[0]))

/* The value of a key in c, as the file would say it. */
static void
cfg_value(const struct cfg *c, const struct skey *k, char *out, size_t cap)
{
	static const char *const lv[] = { "error", "warn", "info", "debug" };
#define K(s, n) (strcmp(k->section, s) == 0 && strcmp(k->key, n) == 0)
	out[0] = '\0';
	if (K("device", "id"))
		snprintf(out, cap, "%s", c->device_id);
	else if (K("cms", "url"))
		snprintf(out, cap, "%s", c->cms_url);
	else if (K("cms", "trust_anchors"))
		snprintf(out, cap, "%s", c->cms_anchors);
	else if (K("cms", "portal_origins")) {
		size_t o = 0;

		for (size_t i = 0; i < c->portal_origins.n && o < cap; i++)
			o += (size_t)snprintf(out + o, cap - o, "%s%s", i ? " " : "",
			    c->portal_origins.o[i]);
	} else if (K("cms", "timeout_ms"))
		snprintf(out, cap, "%d", c->cms_timeout_ms);
	else if (K("cms", "retries"))
		snprintf(out, cap, "%d", c->cms_retries);
	else if (K("cms", "client_cert"))
		snprintf(out, cap, "%s", c->cms_client_cert);
	else if (K("cms", "client_key"))
		snprintf(out, cap, "%s", c->cms_client_key);
	else if (K("kiosk", "listen"))
		snprintf(out, cap, "%s", c->kiosk_listen);
	else if (K("kiosk", "prompt_timeout_s"))
		snprintf(out, cap, "%d", c->prompt_timeout_s);
	else if (K("kiosk", "readers"))
		snprintf(out, cap, "%s", c->kiosk_readers);
	else if (K("kiosk", "language"))
		snprintf(out, cap, "%s", c->kiosk_lang);
	else if (K("kiosk", "manual_check"))
		snprintf(out, cap, "%s", c->kiosk_manual_check ? "yes" : "no");
	else if (K("kiosk", "return_url_param"))
		snprintf(out, cap, "%s", c->kiosk_return_param);
	else if (K("admin", "listen"))
		snprintf(out, cap, "%s", c->admin_listen);
	else if (K("admin", "tls_cert"))
		snprintf(out, cap, "%s", c->admin_tls_cert);
	else if (K("admin", "tls_key"))
		snprintf(out, cap, "%s", c->admin_tls_key);
	else if (K("admin", "state_dir"))
		snprintf(out, cap, "%s", c->admin_state_dir);
	else if (K("hooks", "on_prompt"))
		snprintf(out, cap, "%s", c->hook_on_prompt);
	else if (K("hooks", "on_proceed"))
		snprintf(out, cap, "%s", c->hook_on_proceed);
	else if (K("hooks", "on_session_end"))
		snprintf(out, cap, "%s", c->hook_on_session_end);
	else if (K("log", "level"))
		snprintf(out, cap, "%s", lv[c->log_level]);
	else if (K("log", "syslog"))
		snprintf(out, cap, "%s", c->log_syslog ? "yes" : "no");
#undef K
}

static int
hook_editable(void)
{
#ifdef CONFIG_ADMIN_EDIT_HOOKS
	return 1;
#else
	return 0;
#endif
}

/* see server.h */
enum MHD_Result
adm_get_settings(struct admin_server *as, struct MHD_Connection *conn,
    const struct caller *c)
{
	json_object *o = json_object_new_object(), *vals = json_object_new_object(),
	    *keys = json_object_new_array();
	char v[CMS_MAX_ORIGINS * CMS_ORIGIN_MAX + 16];

	pthread_mutex_lock(&as->mu);
	if (as->snap == NULL) {
		pthread_mutex_unlock(&as->mu);
		json_object_put(o);
		json_object_put(vals);
		json_object_put(keys);
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	for (size_t i = 0; i < NSKEYS; i++) {
		char name[48];
		json_object *k = json_object_new_object();

		snprintf(name, sizeof(name), "%s.%s", skeys[i].section, skeys[i].key);
		cfg_value(&as->snap->cfg, &skeys[i], v, sizeof(v));
		json_object_object_add(vals, name, json_object_new_string(v));
		json_object_object_add(k, "name", json_object_new_string(name));
		json_object_object_add(k, "restart",
		    json_object_new_boolean(skeys[i].flags & S_RESTART));
		json_object_object_add(k, "editable", json_object_new_boolean(
		    (!(skeys[i].flags & S_HOOK) || hook_editable()) &&
		    (!(skeys[i].flags & S_SESSION) || c->who == WHO_SESSION)));
		json_object_array_add(keys, k);
	}
	pthread_mutex_unlock(&as->mu);
	json_object_object_add(o, "values", vals);
	json_object_object_add(o, "keys", keys);
	json_object_object_add(o, "file", json_object_new_string(as->cfg_path));
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, NULL);
}

/* Maps the parser's "file:LINE: [section] key: reason" lines to fields. */
static void
errors_to_fields(const char *err, json_object *errs, json_object **general)
{
	const char *p = err;

	while (*p) {
		const char *eol = strchr(p, '\n'), *lb, *rb, *colon;
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[512], name[96];

		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		p += len + (eol ? 1 : 0);
		lb = strstr(line, ": [");
		/* rb[1] first: rb + 2 is past the string when the line ends at ']' */
		if (lb != NULL && (rb = strchr(lb, ']')) != NULL && rb[1] == ' ' &&
		    (colon = strchr(rb + 2, ':')) != NULL) {
			snprintf(name, sizeof(name), "%.*s.%.*s", (int)(rb - lb - 3), lb + 3,
			    (int)(colon - rb - 2), rb + 2);
			if (!json_object_object_get_ex(errs, name, NULL))
				json_object_object_add(errs, name,
				    json_object_new_string(colon + 2));
			continue;
		}
		if (*general == NULL)
			*general = json_object_new_string(line);
	}
}

/* What the reload would load next, checked as the CMS client loads it (the same
 * decoders in core/, the files read by base/file: regular files only, never blocking).
 * Returns 0, or -1 with the field to blame and the reason in err. */
static int
check_cms_files(const struct cfg *nc, const char **field, char *err, size_t errlen)
{
	struct file_buf fa = { 0 }, fc = { 0 }, fk = { 0 };
	struct anchors ta;
	struct tlscred tc;
	int rc = -1;

	*field = "cms.trust_anchors";
	if (file_read(nc->cms_anchors, PEM_INPUT_MAX, FILE_NONEMPTY, &fa, err, errlen) == -1 ||
	    anchors_decode(nc->cms_anchors, (const unsigned char *)fa.p, fa.len, &ta, err,
	    errlen) == -1)
		goto out;
	anchors_free(&ta);
	*field = "cms.client_cert";
	if ((nc->cms_client_cert[0] == '\0') != (nc->cms_client_key[0] == '\0')) {
		snprintf(err, errlen, "a client certificate needs its key and a key its "
		    "certificate");
		goto out;
	}
	if (nc->cms_client_cert[0] != '\0') {
		if (file_read(nc->cms_client_cert, PEM_INPUT_MAX, FILE_NONEMPTY, &fc, err,
		    errlen) == -1)
			goto out;
		*field = "cms.client_key";
		if (file_read(nc->cms_client_key, PEM_INPUT_MAX, FILE_NONEMPTY | FILE_SECRET, &fk,
		    err, errlen) == -1)
			goto out;
		*field = "cms.client_cert";
		if (tlscred_decode(nc->cms_client_cert, (const unsigned char *)fc.p, fc.len,
		    nc->cms_client_key, (const unsigned char *)fk.p, fk.len, &tc, err,
		    errlen) == -1)
			goto out;
		tlscred_free(&tc);
	}
	rc = 0;
out:
	file_free(&fa);
	file_free(&fc);
	file_free(&fk);
	return rc;
}

/* see server.h */
int
adm_apply_changes(struct admin_server *as, const struct settings_change *ch, size_t n,
    const char **fields, json_object *errs, json_object **general, const char *source)
{
	static char err[CFG_ERR_MAX];
	static struct cfg nc;
	char *text = NULL, *ntext;
	const char *why = NULL;
	size_t bad = 0;
	const char *field;

	if ((text = file_read_text(as->cfg_path, ADMIN_CFG_FILE_MAX, err, sizeof(err))) == NULL) {
		*general = json_object_new_string(err);
		return -1;
	}
	ntext = settings_update_text(text, ch, n, &why, &bad);
	free(text);
	if (ntext == NULL) {
		if (bad < n)
			json_object_object_add(errs, fields[bad], json_object_new_string(why));
		else
			*general = json_object_new_string(why);
		return -1;
	}
	if (cfg_parse_string(as->cfg_path, ntext, &nc, err, sizeof(err)) == -1) {
		errors_to_fields(err, errs, general);
		free(ntext);
		return -1;
	}
	/* What the reload would load next: refuse now rather than half-apply later. */
	if (check_cms_files(&nc, &field, err, sizeof(err)) == -1) {
		json_object_object_add(errs, field, json_object_new_string(err));
		free(ntext);
		return -1;
	}
	if (file_write_atomic(as->cfg_path, ntext, strlen(ntext), 0600, err,
	    sizeof(err)) == -1) {
		*general = json_object_new_string(err);
		free(ntext);
		return -1;
	}
	explicit_bzero(ntext, strlen(ntext));
	free(ntext);
	if (nc.admin_password_hash[0] != '\0') {
		struct stat st;

		/* The file now holds a password hash: not for everyone's eyes. */
		if (stat(as->cfg_path, &st) == 0 && (st.st_mode & S_IRWXO) != 0)
			chmod(as->cfg_path, st.st_mode & 07770);
	}
	if (adm_post_cmd(as, ADMIN_CMD_RELOAD, NULL, source) == -1)
		log_warnx("admin: reload not queued; send SIGHUP to apply %s", as->cfg_path);
	return 0;
}

/* NULL when c may set key k to value, else why not. */
static const char *
may_change(const struct admin_server *as, const struct skey *k, const struct caller *c,
    const char *value)
{
	if ((k->flags & S_HOOK) && !hook_editable())
		return "hooks are changed on the device only (Kconfig ADMIN_EDIT_HOOKS)";
	if ((k->flags & S_SESSION) && c->who != WHO_SESSION)
		return "only a logged-in administrator can change this, not an API token";
	if ((k->flags & S_PATH) && value[0] != '\0' && !file_path_under(value, as->conf_dir) &&
	    !(strcmp(k->key, "state_dir") == 0 && strcmp(value, CONFIG_ADMIN_STATE_DIR_DEFAULT) == 0))
		return "must name a file inside the configuration directory";
	return NULL;
}

/* see server.h */
enum MHD_Result
adm_post_settings(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = adm_body_json(conn, rq), *vals, *errs, *general = NULL, *o,
	    *changed = json_object_new_array(), *restart = json_object_new_array();
	struct settings_change ch[NSKEYS];
	const char *fields[NSKEYS];
	char names[NSKEYS][48], olds[NSKEYS][CMS_MAX_ORIGINS * CMS_ORIGIN_MAX + 16];
	const char *why;
	size_t n = 0;
	int bad = 0;

	errs = json_object_new_object();
	if (body == NULL || !json_object_object_get_ex(body, "values", &vals) ||
	    !json_object_is_type(vals, json_type_object)) {
		json_object_put(body);
		json_object_put(errs);
		json_object_put(changed);
		json_object_put(restart);
		return web_send_error(conn, &admin_site, MHD_HTTP_BAD_REQUEST,
		    "expected {\"values\": {\"section.key\": \"value\"}}");
	}
	pthread_mutex_lock(&as->io_mu);
	pthread_mutex_lock(&as->mu);
	if (as->snap == NULL) {
		pthread_mutex_unlock(&as->mu);
		pthread_mutex_unlock(&as->io_mu);
		json_object_put(body);
		json_object_put(errs);
		json_object_put(changed);
		json_object_put(restart);
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	json_object_object_foreach(vals, name, v) {
		size_t i;

		for (i = 0; i < NSKEYS; i++) {
			char full[48];

			snprintf(full, sizeof(full), "%s.%s", skeys[i].section, skeys[i].key);
			if (strcmp(full, name) == 0)
				break;
		}
		if (i == NSKEYS || !json_object_is_type(v, json_type_string)) {
			json_object_object_add(errs, name, json_object_new_string(
			    i == NSKEYS ? "no such setting" : "expected a string"));
			bad = 1;
			continue;
		}
		cfg_value(&as->snap->cfg, &skeys[i], olds[n], sizeof(olds[n]));
		if (strcmp(olds[n], json_object_get_string(v)) == 0)
			continue;	/* unchanged */
		if ((why = may_change(as, &skeys[i], c, json_object_get_string(v))) != NULL) {
			json_object_object_add(errs, name, json_object_new_string(why));
			bad = 1;
			continue;
		}
		snprintf(names[n], sizeof(names[n]), "%s", name);
		ch[n].section = skeys[i].section;
		ch[n].key = skeys[i].key;
		ch[n].value = json_object_get_string(v);
		fields[n] = names[n];
		if (skeys[i].flags & S_RESTART)
			json_object_array_add(restart, json_object_new_string(name));
		json_object_array_add(changed, json_object_new_string(name));
		n++;
	}
	pthread_mutex_unlock(&as->mu);
	if (!bad && n > 0 && adm_apply_changes(as, ch, n, fields, errs, &general, rq->source) == 0) {
		for (size_t i = 0; i < n; i++)
			audit_log(as->audit, time(NULL), rq->source, c->name, "setting",
			    "%s: \"%s\" -> \"%s\"", names[i], olds[i], ch[i].value);
	} else if (n > 0 || bad)
		bad = 1;
	pthread_mutex_unlock(&as->io_mu);
	json_object_put(body);
	if (bad) {
		o = json_object_new_object();
		json_object_object_add(o, "errors", errs);
		if (general != NULL)
			json_object_object_add(o, "error", general);
		else
			json_object_object_add(o, "error", json_object_new_string(
			    "nothing was changed: see the fields"));
		json_object_put(changed);
		json_object_put(restart);
		return web_send_json(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT, o, NULL);
	}
	json_object_put(errs);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "changed", changed);
	json_object_object_add(o, "restart_needed", restart);
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, NULL);
}
