/* SPDX-License-Identifier: BSD-2-Clause */
/* cms.c — see cms.h. The answer is untrusted: every field's type is checked, every
 * string bounded and stripped of control characters; anything off-shape fails the
 * check rather than showing half an answer. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/json.h"
#include "core/cms.h"

static const char *const known_types[] = {
	"certificate_renewal", "credential_add", "credential_remove", "card_lock",
	"card_unlock", "card_issuance", "temporary_replacement", "permanent_replacement",
};

/* see cms.h */
const char *
cms_trigger_name(enum cms_trigger t)
{
	switch (t) {
	case CMS_TRIGGER_MANUAL:	return "manual";
	case CMS_TRIGGER_STARTUP:	return "startup";
	default:			return "insertion";
	}
}

/* see cms.h */
void
cms_result_fail(struct cms_result *out, const char *code, const char *fmt, ...)
{
	va_list ap;

	out->outcome = CMS_OUT_FAILED;
	out->n_updates = 0;
	out->portal_url[0] = '\0';
	out->seram_url[0] = '\0';
	snprintf(out->code, sizeof(out->code), "%s", code);
	va_start(ap, fmt);
	vsnprintf(out->detail, sizeof(out->detail), fmt, ap);
	va_end(ap);
}

/* see cms.h */
int
cms_origins_add(struct cms_origins *list, const char *origin)
{
	struct http_url u;
	char buf[CMS_ORIGIN_MAX + 2];
	size_t n = strlen(origin);

	if (list->n >= CMS_MAX_ORIGINS || n == 0 || n >= CMS_ORIGIN_MAX)
		return -1;
	/* An origin has no path: accept "https://h[:p]" and "https://h[:p]/" only. */
	memcpy(buf, origin, n + 1);
	if (buf[n - 1] != '/')
		strcat(buf, "/");
	if (http_parse_url(buf, &u) == -1 || strcmp(u.path, "/") != 0)
		return -1;
	snprintf(list->o[list->n++], CMS_ORIGIN_MAX, "%s", u.origin);
	return 0;
}

/* see cms.h */
int
cms_origin_allowed(const struct cms_origins *list, const char *url)
{
	struct http_url u;

	if (http_parse_url(url, &u) == -1)
		return 0;
	for (size_t i = 0; i < list->n; i++)
		if (strcmp(list->o[i], u.origin) == 0)
			return 1;
	return 0;
}

/* see cms.h */
char *
cms_build_request(const char *device_id, const char *firmware, const char *reader,
    enum cms_trigger trigger, const struct card_identity *id)
{
	char hex[2 * CARD_CPLC_LEN + 1];
	json_object *root, *dev, *card, *chuid;
	char *out;

	root = json_object_new_object();
	dev = json_object_new_object();
	card = json_object_new_object();
	if (root == NULL || dev == NULL || card == NULL) {
		json_object_put(root);
		json_object_put(dev);
		json_object_put(card);
		return NULL;
	}
	json_object_object_add(root, "protocol", json_object_new_string("cardupd-cms/1"));
	json_object_object_add(dev, "id", json_object_new_string(device_id));
	json_object_object_add(dev, "firmware", json_object_new_string(firmware));
	json_object_object_add(root, "device", dev);
	json_object_object_add(root, "reader", json_object_new_string(reader));
	json_object_object_add(root, "trigger",
	    json_object_new_string(cms_trigger_name(trigger)));
	json_object_object_add(card, "atr",
	    json_object_new_string(card_hex(id->atr, id->atr_len, hex)));
	json_object_object_add(card, "cplc", id->has_cplc ?
	    json_object_new_string(card_hex(id->cplc, CARD_CPLC_LEN, hex)) : NULL);
	if (id->has_chuid && (id->has_fascn || id->has_guid)) {
		chuid = json_object_new_object();
		json_object_object_add(chuid, "fascn", id->has_fascn ?
		    json_object_new_string(card_hex(id->fascn, CARD_FASCN_LEN, hex)) : NULL);
		json_object_object_add(chuid, "guid", id->has_guid ?
		    json_object_new_string(card_hex(id->guid, CARD_GUID_LEN, hex)) : NULL);
		json_object_object_add(chuid, "expiry", id->has_expiry ?
		    json_object_new_string(id->expiry) : NULL);
		json_object_object_add(card, "chuid", chuid);
	} else
		json_object_object_add(card, "chuid", NULL);
	json_object_object_add(root, "card", card);
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

/* Copies a JSON string field into dst. Control characters become spaces; a string
 * that does not fit is an error (a truncated id or URL would be a different one). */
static int
get_string(json_object *obj, const char *key, char *dst, size_t cap, int required,
    int may_truncate)
{
	json_object *v;
	const char *s;
	size_t n;

	if (!json_object_object_get_ex(obj, key, &v) || v == NULL) {
		dst[0] = '\0';
		return required ? -1 : 0;
	}
	if (!json_object_is_type(v, json_type_string))
		return -1;
	s = json_object_get_string(v);
	n = (size_t)json_object_get_string_len(v);
	if (memchr(s, '\0', n) != NULL)
		return -1;
	if (n >= cap) {
		if (!may_truncate)
			return -1;
		n = cap - 1;
		/* Do not cut a UTF-8 sequence in half. */
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7f)
			dst[i] = ' ';
	return 0;
}

static int
get_seconds(json_object *obj, const char *key, long *out)
{
	json_object *v;
	int64_t n;

	*out = -1;
	if (!json_object_object_get_ex(obj, key, &v) || v == NULL)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -1;
	n = json_object_get_int64(v);
	if (n < 0 || n > 30L * 86400)
		return -1;
	*out = (long)n;
	return 0;
}

/* SPEC §7: the SERAM base URL ends in "/gp/seram" (one trailing "/" allowed: the session
 * drops it), with no query or fragment after it. */
static int
seram_path_ok(const char *url)
{
	static const char tail[] = "/gp/seram";
	size_t n = strlen(url), t = sizeof(tail) - 1;

	if (n > 0 && url[n - 1] == '/')
		n--;
	return n >= t && memcmp(url + n - t, tail, t) == 0 && strcspn(url, "?#") >= n;
}

static int
judge_body(const uint8_t *body, size_t len, const struct cms_origins *origins,
    struct cms_result *out)
{
	json_object *root, *pending, *agent;
	const char *why;
	size_t n;
	int rc = -1;

	if (len == 0 || len > CONFIG_CMS_MAX_RESPONSE_BYTES || len > INT32_MAX) {
		cms_result_fail(out, "bad_response", "empty or oversized body (%zu bytes)", len);
		return -1;
	}
	if ((root = json_parse_object(body, len, CONFIG_CMS_JSON_MAX_DEPTH, &why)) == NULL) {
		cms_result_fail(out, "bad_response", "answer is not a JSON object: %s", why);
		return -1;
	}
	if (get_string(root, "card_id", out->card_id, sizeof(out->card_id), 0, 0) == -1) {
		cms_result_fail(out, "bad_response", "card_id: not a string of < %d bytes",
		    CMS_ID_MAX);
		goto done;
	}
	if (!json_object_object_get_ex(root, "pending", &pending) ||
	    !json_object_is_type(pending, json_type_array)) {
		cms_result_fail(out, "bad_response", "pending: missing or not an array");
		goto done;
	}
	if (get_seconds(root, "recheck_after_s", &out->recheck_after_s) == -1) {
		cms_result_fail(out, "bad_response", "recheck_after_s: not a number of seconds");
		goto done;
	}
	n = json_object_array_length(pending);
	out->n_updates = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *u = json_object_array_get_idx(pending, i);
		struct cms_update *cu;
		int known = 0;

		if (u == NULL || !json_object_is_type(u, json_type_object)) {
			cms_result_fail(out, "bad_response", "pending[%zu]: not an object", i);
			goto done;
		}
		if (out->n_updates == CONFIG_CMS_MAX_PENDING)
			continue;	/* counted below, dropped: the limit is ours */
		cu = &out->updates[out->n_updates];
		if (get_string(u, "id", cu->id, sizeof(cu->id), 1, 0) == -1 ||
		    get_string(u, "type", cu->type, sizeof(cu->type), 1, 1) == -1 ||
		    get_string(u, "description", cu->description, sizeof(cu->description),
		    0, 1) == -1) {
			cms_result_fail(out, "bad_response",
			    "pending[%zu]: id, type or description missing or not a string", i);
			goto done;
		}
		for (size_t t = 0; t < sizeof(known_types) / sizeof(known_types[0]); t++)
			if (strcmp(cu->type, known_types[t]) == 0)
				known = 1;
		if (!known)
			strcpy(cu->type, "card_update");
		out->n_updates++;
	}
	if (out->n_updates == 0) {
		out->outcome = CMS_OUT_NONE;
		rc = 0;
		goto done;
	}
	if (get_string(root, "portal_url", out->portal_url, sizeof(out->portal_url), 1,
	    0) == -1) {
		cms_result_fail(out, "bad_response", "portal_url: missing or not a string");
		goto done;
	}
	if (!cms_origin_allowed(origins, out->portal_url)) {
		cms_result_fail(out, "portal_not_allowed",
		    "portal_url is not https on an allowed origin");
		goto done;
	}
	if (json_object_object_get_ex(root, "agent", &agent) && agent != NULL) {
		if (!json_object_is_type(agent, json_type_object) ||
		    get_string(agent, "seram_url", out->seram_url, sizeof(out->seram_url), 0,
		    0) == -1) {
			cms_result_fail(out, "bad_response", "agent: not an object with seram_url");
			goto done;
		}
		if (out->seram_url[0] != '\0' && !cms_origin_allowed(origins, out->seram_url)) {
			cms_result_fail(out, "portal_not_allowed",
			    "agent.seram_url is not https on an allowed origin");
			goto done;
		}
		if (out->seram_url[0] != '\0' && !seram_path_ok(out->seram_url)) {
			cms_result_fail(out, "bad_response",
			    "agent.seram_url does not end in /gp/seram (SPEC \xc2\xa7" "7)");
			goto done;
		}
	}
	out->outcome = CMS_OUT_PENDING;
	rc = 0;
done:
	json_object_put(root);
	return rc;
}

/* see cms.h */
int
cms_judge_answer(int status, const char *retry_after, const uint8_t *body, size_t len,
    const struct cms_origins *origins, long long now, struct cms_result *out)
{
	memset(out, 0, sizeof(*out));
	out->recheck_after_s = -1;
	out->retry_after_s = -1;
	out->http_status = status;
	switch (status) {
	case 200:
		return judge_body(body, len, origins, out);
	case 404:
		out->outcome = CMS_OUT_NONE;
		return 0;
	case 429:
	case 503:
		cms_result_fail(out, "http_status", "HTTP %d (busy)", status);
		if (retry_after != NULL && *retry_after != '\0')
			out->retry_after_s = http_retry_after_s(retry_after, now);
		return -1;
	default:
		cms_result_fail(out, "http_status", "HTTP %d", status);
		return -1;
	}
}
