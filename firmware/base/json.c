/* json.c — see json.h. */
#include <limits.h>

#include "base/json.h"

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
	root = json_tokener_parse_ex(tok, s, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (root == NULL || e != json_tokener_success) {
		/* json_tokener_continue: the text ended inside a value */
		*why = e == json_tokener_success ? "not JSON" : e == json_tokener_continue ?
		    "truncated JSON" : json_tokener_error_desc(e);
		json_object_put(root);
		return NULL;
	}
	for (; end < len; end++)
		if (s[end] != ' ' && s[end] != '\t' && s[end] != '\n' && s[end] != '\r') {
			*why = "trailing data";
			json_object_put(root);
			return NULL;
		}
	if (!json_object_is_type(root, json_type_object)) {
		*why = "not a JSON object";
		json_object_put(root);
		return NULL;
	}
	return root;
}
