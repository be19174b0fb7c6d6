/* anchors.c — the CMS trust anchors page: the list of the anchors file's certificates,
 * and an upload checked as a file by the CMS client's own loader before it replaces
 * anything. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/file.h"
#include "base/log.h"
#include "cms/trust.h"
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
	char path[CFG_PATH_MAX], tmp[CFG_PATH_MAX + 16], err[1024];
	struct trust_anchors ta;
	struct trust_pem_obj *objs = NULL;
	size_t nobj = 0;

	if (ct == NULL || strncasecmp(ct, "application/x-pem-file", 22) != 0)
		return web_send_error(conn, &admin_site, MHD_HTTP_UNSUPPORTED_MEDIA_TYPE,
		    "Content-Type must be application/x-pem-file");
	if (rq->body.len == 0)
		return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT, "empty upload");
	/* A PEM file is text: a NUL byte anywhere would load here but be refused by
	 * the status page's reader later. */
	if (memchr(rq->body.buf, '\0', rq->body.len) != NULL)
		return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT,
		    "not a PEM text file (contains NUL bytes)");
	pthread_mutex_lock(&as->mu);
	snprintf(path, sizeof(path), "%s", as->snap ? as->snap->cfg.cms_anchors : "");
	pthread_mutex_unlock(&as->mu);
	if (path[0] == '\0')
		return web_send_error(conn, &admin_site, MHD_HTTP_CONFLICT, "cms.trust_anchors is not set");
	snprintf(tmp, sizeof(tmp), "%s.upload", path);
	/* Checked as a file by the same loader the CMS client uses, before anything is
	 * replaced. */
	if (file_write_atomic(tmp, rq->body.buf, rq->body.len, 0644, err, sizeof(err)) == -1)
		return web_send_error(conn, &admin_site, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	err[0] = '\0';
	if (trust_pem_read(tmp, &objs, &nobj, err, sizeof(err)) == 0) {
		int ok = nobj > 0;

		for (size_t i = 0; i < nobj && ok; i++)
			if (strcmp(objs[i].name, "CERTIFICATE") != 0) {
				snprintf(err, sizeof(err), "only CERTIFICATE objects belong here, "
				    "found %.60s", objs[i].name);
				ok = 0;
			}
		if (nobj == 0)
			snprintf(err, sizeof(err), "no PEM certificate found");
		trust_pem_free(objs, nobj);
		if (ok && trust_load(tmp, &ta, err, sizeof(err)) == 0) {
			size_t n = ta.n;
			json_object *o;

			trust_free(&ta);
			unlink(tmp);
			/* The checked bytes, saved like the config file (fsync, rename,
			 * directory fsync). */
			if (file_write_atomic(path, rq->body.buf, rq->body.len, 0644, err,
			    sizeof(err)) == -1)
				return web_send_error(conn, &admin_site, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
			audit_log(as->audit, time(NULL), rq->source, c->name, "anchors",
			    "%s replaced: %zu trust anchors", path, n);
			if (adm_post_cmd(as, ADMIN_CMD_RELOAD, NULL, rq->source) == -1)
				log_warnx("admin: reload not queued after the anchors upload");
			o = json_object_new_object();
			json_object_object_add(o, "ok", json_object_new_boolean(1));
			json_object_object_add(o, "anchors", json_object_new_int64((int64_t)n));
			return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, NULL);
		}
	}
	unlink(tmp);
	audit_log(as->audit, time(NULL), rq->source, c->name, "anchors_rejected", "%s", err);
	return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT, err);
}
