/* SPDX-License-Identifier: BSD-2-Clause */
/* anchors.c — the CMS trust anchors page: the list of the anchors file's certificates,
 * and an upload checked by the CMS client's own decoder (core/anchors.h) before it
 * replaces the one anchors file of the configuration directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/file.h"
#include "base/log.h"
#include "core/anchors.h"
#include "web/admin/server.h"

/* see server.h */
enum MHD_Result
adm_get_anchors(struct admin_server *as, struct MHD_Connection *conn)
{
	char path[CFG_PATH_MAX], err[512];
	json_object *o, *arr;

	pthread_mutex_lock(&as->mu);
	snprintf(path, sizeof(path), "%s", as->snap ? as->snap->cfg.cms_anchors : "");
	pthread_mutex_unlock(&as->mu);
	o = json_object_new_object();
	json_object_object_add(o, "path", json_object_new_string(path));
	if ((arr = admin_anchors_describe(path, (long long)time(NULL), err, sizeof(err))) ==
	    NULL) {
		json_object_object_add(o, "error", json_object_new_string(err));
		arr = json_object_new_array();
	}
	json_object_object_add(o, "anchors", arr);
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, NULL);
}

/* see server.h */
enum MHD_Result
adm_post_anchors(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
	const char *field = "cms.trust_anchors";
	char cur[CFG_PATH_MAX], err[1024];
	struct settings_change ch = { "cms", "trust_anchors", as->anchors_path };
	json_object *o, *errs, *general = NULL;
	int n;

	if (ct == NULL || strncasecmp(ct, "application/x-pem-file", 22) != 0)
		return web_send_error(conn, &admin_site, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "Content-Type must be application/x-pem-file");
	if (rq->body.len == 0)
		return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "empty upload");
	/* A PEM file is text: a NUL byte anywhere would load here but be refused by
	 * the status page's reader later. */
	if (memchr(rq->body.buf, '\0', rq->body.len) != NULL)
		return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "not a PEM text file (contains NUL bytes)");
	/* Checked in memory by the CMS client's own decoder, with the upload's stricter
	 * rule (PEM text, CERTIFICATE objects only, each a usable anchor). */
	if ((n = anchors_check_upload((const unsigned char *)rq->body.buf, rq->body.len, err,
	    sizeof(err))) < 0) {
		audit_log(as->audit, time(NULL), rq->source, c->name, "anchors_rejected", "%s",
		    err);
		return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT, err);
	}
	/* Always the one file in the configuration directory, whatever cms.trust_anchors
	 * names: an upload can never replace another file the daemon reads. */
	pthread_mutex_lock(&as->io_mu);
	/* The checked bytes, saved like the config file (fsync, rename, directory fsync). */
	if (file_write_atomic(as->anchors_path, rq->body.buf, rq->body.len, 0644, err,
	    sizeof(err)) == -1) {
		pthread_mutex_unlock(&as->io_mu);
		return web_send_error(conn, &admin_site, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	}
	audit_log(as->audit, time(NULL), rq->source, c->name, "anchors",
	    "%s replaced: %d trust anchors", as->anchors_path, n);
	pthread_mutex_lock(&as->mu);
	snprintf(cur, sizeof(cur), "%s", as->snap ? as->snap->cfg.cms_anchors : "");
	pthread_mutex_unlock(&as->mu);
	if (strcmp(cur, as->anchors_path) != 0) {
		/* The configuration named another file: from now on it names this one. */
		errs = json_object_new_object();
		if (adm_apply_changes(as, &ch, 1, &field, errs, &general, rq->source) == 0)
			audit_log(as->audit, time(NULL), rq->source, c->name, "setting",
			    "cms.trust_anchors: \"%s\" -> \"%s\"", cur, as->anchors_path);
		else
			log_warnx("admin: %s saved, but cms.trust_anchors still names %s: %s",
			    as->anchors_path, cur, general ? json_object_get_string(general) :
			    json_object_to_json_string(errs));
		json_object_put(errs);
		json_object_put(general);
	} else if (adm_post_cmd(as, ADMIN_CMD_RELOAD, NULL, rq->source) == -1)
		log_warnx("admin: reload not queued after the anchors upload");
	pthread_mutex_unlock(&as->io_mu);
	o = json_object_new_object();
	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "anchors", json_object_new_int64(n));
	json_object_object_add(o, "path", json_object_new_string(as->anchors_path));
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, NULL);
}
