/* SPDX-License-Identifier: BSD-2-Clause */
/* tokens.c — API tokens for fleets: kept in state_dir/tokens (hashes only), listed,
 * made (the secret shown once) and deleted. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "base/file.h"
#include "web/admin/server.h"

/* Writes the token table to state_dir/tokens. Called with io_mu held, mu not held: the
 * table is copied under mu, the file written without it. */
static int
save_tokens(struct admin_server *as, char *err, size_t errlen)
{
	char buf[ADMIN_TOKENS_FILE_MAX], path[CFG_PATH_MAX + 16];
	int n;

	pthread_mutex_lock(&as->mu);
	n = auth_api_tokens_format(&as->tokens, buf, sizeof(buf));
	pthread_mutex_unlock(&as->mu);
	if (n < 0) {
		snprintf(err, errlen, "tokens do not fit");
		return -1;
	}
	snprintf(path, sizeof(path), "%s/tokens", as->state_dir);
	return file_write_atomic(path, buf, (size_t)n, 0600, err, errlen);
}

/* see server.h */
int
adm_load_tokens(struct admin_server *as, char *err, size_t errlen)
{
	char path[CFG_PATH_MAX + 16], *text = NULL;

	snprintf(path, sizeof(path), "%s/tokens", as->state_dir);
	if (access(path, F_OK) == -1)
		return 0;
	if ((text = file_read_text(path, ADMIN_TOKENS_FILE_MAX, err, errlen)) == NULL)
		return -1;
	if (auth_api_tokens_parse(text, &as->tokens) == -1) {
		snprintf(err, errlen, "%s: malformed (no API token will work until it is "
		    "fixed or removed)", path);
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

/* see server.h */
enum MHD_Result
adm_get_tokens(struct admin_server *as, struct MHD_Connection *conn)
{
	json_object *arr = json_object_new_array(), *o = json_object_new_object();

	pthread_mutex_lock(&as->mu);
	for (size_t i = 0; i < as->tokens.n; i++) {
		json_object *t = json_object_new_object();

		json_object_object_add(t, "id", json_object_new_string(as->tokens.t[i].id));
		json_object_object_add(t, "name", json_object_new_string(as->tokens.t[i].name));
		json_object_object_add(t, "created",
		    json_object_new_int64(as->tokens.t[i].created));
		json_object_array_add(arr, t);
	}
	pthread_mutex_unlock(&as->mu);
	json_object_object_add(o, "tokens", arr);
	return web_send_json(conn, &admin_site, MHD_HTTP_OK, o, NULL);
}

/* see server.h */
enum MHD_Result
adm_post_token(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c)
{
	json_object *body = adm_body_json(conn, rq), *o;
	const char *name = adm_jstr(body, "name"), *why = "expected {\"name\": s}";
	char secret[AUTH_API_TOKEN_BUF], err[256], id[AUTH_TOKEN_ID_BUF];
	int i = -1;

	pthread_mutex_lock(&as->io_mu);
	pthread_mutex_lock(&as->mu);
	if (name != NULL)
		i = auth_api_token_create(&as->tokens, name, time(NULL), secret, &why);
	if (i >= 0)
		memcpy(id, as->tokens.t[i].id, sizeof(id));
	pthread_mutex_unlock(&as->mu);
	if (i >= 0 && save_tokens(as, err, sizeof(err)) == -1) {
		pthread_mutex_lock(&as->mu);
		auth_api_token_delete(&as->tokens, id);
		pthread_mutex_unlock(&as->mu);
		pthread_mutex_unlock(&as->io_mu);
		explicit_bzero(secret, sizeof(secret));
		json_object_put(body);
		return web_send_error(conn, &admin_site, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	}
	pthread_mutex_unlock(&as->io_mu);
	if (i < 0) {
		json_object_put(body);
		return web_send_error(conn, &admin_site, MHD_HTTP_UNPROCESSABLE_CONTENT, why);
	}
	audit_log(as->audit, time(NULL), rq->source, c->name, "token_created",
	    "token %s \"%s\"", id, name);
	json_object_put(body);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_object_new_string(id));
	json_object_object_add(o, "token", json_object_new_string(secret));
	explicit_bzero(secret, sizeof(secret));
	return web_send_json(conn, &admin_site, MHD_HTTP_CREATED, o, NULL);
}

/* see server.h */
enum MHD_Result
adm_delete_token(struct admin_server *as, struct MHD_Connection *conn, struct req *rq,
    const struct caller *c, const char *id)
{
	char err[256];
	int rc;

	pthread_mutex_lock(&as->io_mu);
	pthread_mutex_lock(&as->mu);
	rc = auth_api_token_delete(&as->tokens, id);
	pthread_mutex_unlock(&as->mu);
	if (rc == 0 && save_tokens(as, err, sizeof(err)) == -1) {
		pthread_mutex_unlock(&as->io_mu);
		return web_send_error(conn, &admin_site, MHD_HTTP_INTERNAL_SERVER_ERROR, err);
	}
	pthread_mutex_unlock(&as->io_mu);
	if (rc == -1)
		return web_send_error(conn, &admin_site, MHD_HTTP_NOT_FOUND, "no such token");
	audit_log(as->audit, time(NULL), rq->source, c->name, "token_deleted", "token %.8s",
	    id);
	return adm_send_ok(conn, MHD_HTTP_OK);
}
