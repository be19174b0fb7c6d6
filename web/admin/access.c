/* SPDX-License-Identifier: BSD-2-Clause */
/* access.c — who is calling the admin listener (peer address, session cookie or API
 * token), the CSRF check, the session cookie, and the commands posted to the main loop. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "web/admin/server.h"

/* see server.h */
void
adm_peer_source(struct MHD_Connection *conn, struct req *rq)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(rq->source, sizeof(rq->source), "?");
	ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci != NULL && (sa = ci->client_addr) != NULL) {
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
			    rq->source, sizeof(rq->source));
		else if (sa->sa_family == AF_INET6) {
			struct in6_addr a = ((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;

			inet_ntop(AF_INET6, &a, rq->source, sizeof(rq->source));
			/* One host of IPv6 owns a /64: lock the prefix, not one address. */
			if (!IN6_IS_ADDR_V4MAPPED(&a))
				memset(a.s6_addr + 8, 0, 8);
			inet_ntop(AF_INET6, &a, rq->lock_source, sizeof(rq->lock_source));
		}
	}
	if (rq->lock_source[0] == '\0')
		snprintf(rq->lock_source, sizeof(rq->lock_source), "%s", rq->source);
}

/* see server.h */
void
adm_identify(struct admin_server *as, struct MHD_Connection *conn, struct caller *c)
{
	const char *cookie = MHD_lookup_connection_value(conn, MHD_COOKIE_KIND, ADMIN_COOKIE);
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Authorization");
	const struct auth_session *s;
	int i;

	memset(c, 0, sizeof(*c));
	pthread_mutex_lock(&as->mu);
	if (authz != NULL && strncasecmp(authz, "Bearer ", 7) == 0) {
		if ((i = auth_api_token_check(&as->tokens, authz + 7)) >= 0) {
			c->who = WHO_TOKEN;
			snprintf(c->name, sizeof(c->name), "token:%s", as->tokens.t[i].id);
		}
	} else if (cookie != NULL && (s = auth_session_find(&as->sessions, cookie,
	    adm_now_s())) != NULL) {
		c->who = WHO_SESSION;
		snprintf(c->name, sizeof(c->name), "admin");
		memcpy(c->csrf, s->csrf, sizeof(c->csrf));
		memcpy(c->token, s->token, sizeof(c->token));
	}
	pthread_mutex_unlock(&as->mu);
}

/* see server.h: a bearer token is not sent by browsers on their own and needs no CSRF
 * token. */
int
adm_csrf_ok(struct MHD_Connection *conn, const struct caller *c)
{
	const char *h;

	if (c->who == WHO_TOKEN)
		return 1;
	h = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-CSRF-Token");
	return c->who == WHO_SESSION && auth_ct_streq(h, c->csrf);
}

/* see server.h */
void
adm_session_cookie(char *out, size_t cap, const char *token)
{
	if (token == NULL)
		snprintf(out, cap, ADMIN_COOKIE "=; Path=/; Secure; HttpOnly; SameSite=Strict; "
		    "Max-Age=0");
	else
		snprintf(out, cap, ADMIN_COOKIE "=%s; Path=/; Secure; HttpOnly; SameSite=Strict; "
		    "Max-Age=%d", token, CONFIG_ADMIN_SESSION_MAX_S);
}

/* see server.h */
int
adm_post_cmd(struct admin_server *as, enum admin_cmd_type type, const char *reader,
    const char *source)
{
	struct admin_cmd cmd;

	memset(&cmd, 0, sizeof(cmd));
	cmd.type = type;
	if (reader != NULL)
		snprintf(cmd.reader, sizeof(cmd.reader), "%s", reader);
	snprintf(cmd.source, sizeof(cmd.source), "%s", source);
	return as->cb(as->arg, &cmd);
}

/* see server.h */
enum MHD_Result
adm_send_ok(struct MHD_Connection *conn, unsigned status)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	return web_send_json(conn, &admin_site, status, o, NULL);
}
