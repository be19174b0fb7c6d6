/* SPDX-License-Identifier: BSD-2-Clause */
/* body.c — see body.h. json-c keeps two kinds of copies of a string it parses: the
 * tokener's scratch buffer (base/json sizes it for the whole text, so it never moves,
 * and wipes it) and the string objects themselves (admin_body_free wipes them). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "base/json.h"
#include "web/admin/body.h"
#include "web/admin/server.h"

/* see body.h */
json_object *
admin_parse_body(const char *content_type, const char *body, size_t len)
{
	const char *why;

	/* application/json cannot be posted cross-origin without a preflight. */
	if (content_type == NULL || strncasecmp(content_type, "application/json", 16) != 0 ||
	    body == NULL || len > INT_MAX)
		return NULL;
	/* base/json wipes the tokener's copies; admin_body_free wipes the object's. */
	return json_parse_object(body, len, ADMIN_JSON_DEPTH, &why);
}

/* see body.h */
void
admin_body_free(json_object *o)
{
	json_put_wiped(o);
}

/* see server.h */
json_object *
adm_body_json(struct MHD_Connection *conn, const struct req *rq)
{
	return admin_parse_body(MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
	    "Content-Type"), rq->body.buf, rq->body.len);
}

/* see server.h */
const char *
adm_jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o == NULL || !json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}
