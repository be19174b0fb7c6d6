/* SPDX-License-Identifier: BSD-2-Clause */
/* json.c — see json.h. */
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <json-c/printbuf.h>

#include "base/json.h"

static void wipe_strings(json_object *o);

/* see json.h */
json_object *
json_parse_object(const void *text, size_t len, int depth, const char **why)
{
	const char *s = text;
	json_tokener *tok;
	json_object *root;
	enum json_tokener_error e;
	size_t end;

	if (len > INT_MAX || depth < 1) {
		*why = "too large";
		return NULL;
	}
	if ((tok = json_tokener_new_ex(depth)) == NULL) {
		*why = "out of memory";
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	/* The tokener copies each string into its scratch printbuf, which realloc() would
	 * free unwiped as it grows: no string is longer than the text, so size it for the
	 * whole text first (its struct is public in json-c 0.16, if deprecated). */
	if (printbuf_memset(tok->pb, 0, 0, (int)len + 1) == -1) {
		json_tokener_free(tok);
		*why = "out of memory";
		return NULL;
	}
	printbuf_reset(tok->pb);
	root = json_tokener_parse_ex(tok, s, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	explicit_bzero(tok->pb->buf, (size_t)tok->pb->size);
	/* What the tokener still holds (an object refused for trailing data, one cut
	 * short) is freed by json_tokener_free: wipe its strings first. */
	for (int i = 0; i <= tok->depth && i < tok->max_depth; i++)
		if (tok->stack[i].current != NULL)
			wipe_strings(tok->stack[i].current);
	json_tokener_free(tok);
	if (root == NULL || e != json_tokener_success) {
		/* json_tokener_continue: the text ended inside a value */
		*why = e == json_tokener_success ? "not JSON" : e == json_tokener_continue ?
		    "truncated JSON" : json_tokener_error_desc(e);
		json_put_wiped(root);
		return NULL;
	}
	for (; end < len; end++)
		if (s[end] != ' ' && s[end] != '\t' && s[end] != '\n' && s[end] != '\r') {
			*why = "trailing data";
			json_put_wiped(root);
			return NULL;
		}
	if (!json_object_is_type(root, json_type_object)) {
		*why = "not a JSON object";
		json_put_wiped(root);
		return NULL;
	}
	return root;
}

/* see json.h */
void
json_put_wiped(json_object *o)
{
	if (o == NULL)
		return;
	wipe_strings(o);
	json_object_put(o);
}

static void
wipe_strings(json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_string:
		/* The object owns these bytes; json-c hands them out const only so that
		 * callers do not change them behind its back. */
		explicit_bzero((char *)(uintptr_t)json_object_get_string(o),
		    (size_t)json_object_get_string_len(o));
		break;
	case json_type_object: {
		json_object_object_foreach(o, k, v) {
			(void)k;
			if (v != NULL)
				wipe_strings(v);
		}
		break;
	}
	case json_type_array:
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			json_object *v = json_object_array_get_idx(o, i);

			if (v != NULL)
				wipe_strings(v);
		}
		break;
	default:
		break;
	}
}
