/* SPDX-License-Identifier: BSD-2-Clause */
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
#include "core/config_keys.h"
#include "core/anchors.h"
#include "core/pem.h"
#include "core/tlscred.h"
#include "web/admin/server.h"

/* The settings the page shows and changes: the key table (core/config_keys.h) without
 * CFG_F_NOEDIT keys (the password hash has its own form). CFG_F_PATH: names a file or
 * folder, which must be inside the configuration directory (so that no setting can
 * point the daemon at a FIFO, a device or another program's files); CFG_F_SESSION: an
 * API token cannot change it, only a logged-in administrator. */
static int
editable(const struct cfg_key *k)
{
	return !(k->flags & CFG_F_NOEDIT);
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
	char v[CFG_VALUE_MAX];

	pthread_mutex_lock(&as->mu);
	if (as->snap == NULL) {
		pthread_mutex_unlock(&as->mu);
		json_object_put(o);
		json_object_put(vals);
		json_object_put(keys);
		return web_send_error(conn, &admin_site, MHD_HTTP_SERVICE_UNAVAILABLE, "starting");
	}
	for (size_t i = 0; i < cfg_nkeys; i++) {
		const struct cfg_key *ck = &cfg_keys[i];
		char name[48];
		json_object *k;

		if (!editable(ck))
			continue;
		k = json_object_new_object();
		snprintf(name, sizeof(name), "%s.%s", ck->section, ck->key);
		cfg_key_format(&as->snap->cfg, ck, v, sizeof(v));
		json_object_object_add(vals, name, json_object_new_string(v));
		json_object_object_add(k, "name", json_object_new_string(name));
		json_object_object_add(k, "restart",
		    json_object_new_boolean(ck->flags & CFG_F_RESTART));
		json_object_object_add(k, "editable", json_object_new_boolean(
		    settings_may_change(ck->flags & ~(unsigned)CFG_F_PATH,
		    c->who == WHO_SESSION, hook_editable(), "", "", NULL) == NULL));
		json_object_array_add(keys, k);
	}
	pthread_mutex_unlock(&as->mu);
	json_object_object_add(o, "values", vals);
	json_object_object_add(o, "keys", keys);
	json_object_object_add(o, "file", json_object_new_string(as->cfg_path));
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, NULL);
}

/* Maps the parser's errors to fields ("section.key") by their codes and names; an error
 * of no known key (a syntax error) is the general one, with its line. */
static void
errors_to_fields(const char *path, const struct cfg_errors *ce, json_object *errs,
    json_object **general)
{
	size_t shown = ce->n < CFG_ERRORS_MAX ? ce->n : CFG_ERRORS_MAX;

	for (size_t i = 0; i < shown; i++) {
		const struct cfg_error *e = &ce->e[i];
		char name[160], line[1024];

		snprintf(name, sizeof(name), "%s.%s", e->section, e->key);
		if (e->section[0] != '\0' && cfg_key_by_name(name) != NULL) {
			if (!json_object_object_get_ex(errs, name, NULL))
				json_object_object_add(errs, name,
				    json_object_new_string(e->message));
			continue;
		}
		if (*general == NULL) {
			snprintf(line, sizeof(line), "%s:%d: %s", path, e->line, e->message);
			*general = json_object_new_string(line);
		}
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
	static struct cfg_errors ce;
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
	if (cfg_parse(ntext, NULL, &nc, &ce) == -1) {
		errors_to_fields(as->cfg_path, &ce, errs, general);
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
may_change(const struct admin_server *as, const struct cfg_key *k, const struct caller *c,
    const char *value)
{
	return settings_may_change(k->flags, c->who == WHO_SESSION, hook_editable(), value,
	    as->conf_dir, strcmp(k->key, "state_dir") == 0 ?
	    CONFIG_ADMIN_STATE_DIR_DEFAULT : NULL);
}

/* see server.h */
enum MHD_Result
adm_post_settings(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = adm_body_json(conn, rq), *vals, *errs, *general = NULL, *o,
	    *changed = json_object_new_array(), *restart = json_object_new_array();
	static char olds[CFG_KEYS_MAX][CFG_VALUE_MAX];	/* under as->io_mu */
	struct settings_change ch[CFG_KEYS_MAX];
	const char *fields[CFG_KEYS_MAX];
	char names[CFG_KEYS_MAX][48];
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
		const struct cfg_key *k = cfg_key_by_name(name);

		if (k == NULL || !editable(k) || !json_object_is_type(v, json_type_string)) {
			json_object_object_add(errs, name, json_object_new_string(
			    k == NULL || !editable(k) ? "no such setting" : "expected a string"));
			bad = 1;
			continue;
		}
		cfg_key_format(&as->snap->cfg, k, olds[n], sizeof(olds[n]));
		if (strcmp(olds[n], json_object_get_string(v)) == 0)
			continue;	/* unchanged */
		if ((why = may_change(as, k, c, json_object_get_string(v))) != NULL) {
			json_object_object_add(errs, name, json_object_new_string(why));
			bad = 1;
			continue;
		}
		snprintf(names[n], sizeof(names[n]), "%s", name);
		ch[n].section = k->section;
		ch[n].key = k->key;
		ch[n].value = json_object_get_string(v);
		fields[n] = names[n];
		if (k->flags & CFG_F_RESTART)
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
