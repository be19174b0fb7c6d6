/* SPDX-License-Identifier: BSD-2-Clause */
/* seram.c — see seram.h. The remote agent is trusted only as far as TLS says who it
 * is: its orders are parsed like any untrusted input, with fixed bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "base/hex.h"
#include "base/json.h"
#include "core/seram.h"

static int
parse_hex_apdu(const char *s, size_t n, struct seram_capdu *out)
{
	long got;

	if (n / 2 < 4 || (got = hex_decode(s, n, out->bytes, SERAM_APDU_MAX)) == -1)
		return -1;
	out->len = (size_t)got;
	return 0;
}

static int
fail(char *err, size_t errlen, const char *msg)
{
	snprintf(err, errlen, "%s", msg);
	return -1;
}

static int
parse_command(json_object *c, struct seram_order *out, size_t idx, char *err,
    size_t errlen)
{
	struct seram_cmd *cmd = &out->cmds[idx];
	json_object *t, *v;
	const char *type;

	memset(cmd, 0, sizeof(*cmd));
	if (!json_object_is_type(c, json_type_object) ||
	    !json_object_object_get_ex(c, "ramCommandType", &t) ||
	    !json_object_is_type(t, json_type_string)) {
		snprintf(err, errlen, "ramCommands[%zu]: no ramCommandType", idx);
		return -1;
	}
	type = json_object_get_string(t);
	if (!strcmp(type, "ramStartCommand") || !strcmp(type, "startCommand"))
		cmd->type = SERAM_CMD_START;
	else if (!strcmp(type, "ramStopCommand") || !strcmp(type, "stopCommand"))
		cmd->type = SERAM_CMD_STOP;
	else if (!strcmp(type, "notificationCommand")) {
		const char *s;
		size_t n;

		cmd->type = SERAM_CMD_NOTIFY;
		if (!json_object_object_get_ex(c, "deviceAppNotification", &v) ||
		    !json_object_is_type(v, json_type_string)) {
			snprintf(err, errlen, "ramCommands[%zu]: no deviceAppNotification", idx);
			return -1;
		}
		s = json_object_get_string(v);
		n = (size_t)json_object_get_string_len(v);
		if (n >= sizeof(cmd->note))
			n = sizeof(cmd->note) - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80 && n < strlen(s))
			n--;	/* do not cut a UTF-8 sequence */
		memcpy(cmd->note, s, n);
		cmd->note[n] = '\0';
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)cmd->note[i] < 0x20 || cmd->note[i] == 0x7f)
				cmd->note[i] = ' ';
	} else if (!strcmp(type, "seRamCommand")) {
		size_t n;

		cmd->type = SERAM_CMD_SE_RAM;
		if (!json_object_object_get_ex(c, "listOfCAPDU", &v) ||
		    !json_object_is_type(v, json_type_array)) {
			snprintf(err, errlen, "ramCommands[%zu]: no listOfCAPDU array", idx);
			return -1;
		}
		n = json_object_array_length(v);
		if (n > SERAM_MAX_CAPDUS - out->n_pool) {
			snprintf(err, errlen, "more than %d APDUs in one order", SERAM_MAX_CAPDUS);
			return -1;
		}
		cmd->capdu = &out->pool[out->n_pool];
		for (size_t i = 0; i < n; i++) {
			json_object *a = json_object_array_get_idx(v, i);

			if (a == NULL || !json_object_is_type(a, json_type_string) ||
			    parse_hex_apdu(json_object_get_string(a),
			    (size_t)json_object_get_string_len(a), &cmd->capdu[i]) == -1) {
				snprintf(err, errlen, "ramCommands[%zu].listOfCAPDU[%zu]: not a "
				    "hex APDU of 4..%d bytes", idx, i, SERAM_APDU_MAX);
				return -1;
			}
		}
		cmd->n_capdu = n;
		out->n_pool += n;
	} else {
		snprintf(err, errlen, "ramCommands[%zu]: unknown type \"%.40s\"", idx, type);
		return -1;
	}
	return 0;
}

/* see seram.h */
int
seram_parse_order(const uint8_t *body, size_t len, struct seram_order *out, char *err,
    size_t errlen)
{
	json_object *root = NULL, *v;
	const char *why;
	int rc = -1;

	memset(out, 0, sizeof(*out));
	out->delay_ms = SERAM_DEFAULT_DELAY_MS;
	if (len == 0)
		return 0;	/* a void order */
	if (len > SERAM_ORDER_MAX_BYTES)
		return fail(err, errlen, "order larger than the limit");
	if ((root = json_parse_object(body, len, 8, &why)) == NULL)
		return fail(err, errlen, "order is not a JSON object");
	if (json_object_object_get_ex(root, "delay", &v) && v != NULL) {
		int64_t d;

		if (!json_object_is_type(v, json_type_int) ||
		    (d = json_object_get_int64(v)) < 0 || d > SERAM_MAX_DELAY_MS) {
			fail(err, errlen, "delay: not an integer of 0..30000 ms");
			goto done;
		}
		out->delay_ms = (long)d;
	}
	if (json_object_object_get_ex(root, "chosenSecureElement", &v) && v != NULL) {
		json_object *id;

		if (!json_object_is_type(v, json_type_object) ||
		    !json_object_object_get_ex(v, "seId", &id) ||
		    !json_object_is_type(id, json_type_string) ||
		    (size_t)json_object_get_string_len(id) >= sizeof(out->chosen_se_id)) {
			fail(err, errlen, "chosenSecureElement: no usable seId");
			goto done;
		}
		strcpy(out->chosen_se_id, json_object_get_string(id));
		out->has_chosen_se = 1;
	}
	if (json_object_object_get_ex(root, "ramCommands", &v) && v != NULL) {
		size_t n;

		if (!json_object_is_type(v, json_type_array)) {
			fail(err, errlen, "ramCommands: not an array");
			goto done;
		}
		n = json_object_array_length(v);
		if (n > SERAM_MAX_COMMANDS) {
			fail(err, errlen, "too many commands in one order");
			goto done;
		}
		for (size_t i = 0; i < n; i++)
			if (parse_command(json_object_array_get_idx(v, i), out, i, err,
			    errlen) == -1)
				goto done;
		out->n_cmds = n;
	}
	rc = 0;
done:
	json_object_put(root);
	return rc;
}

/* see seram.h */
char *
seram_build_handshake(const char *se_id)
{
	json_object *root = json_object_new_object(), *ses = json_object_new_array(),
	    *se = json_object_new_object(), *a;
	char *out;

	json_object_object_add(se, "seType", json_object_new_string("undefined"));
	json_object_object_add(se, "seId", json_object_new_string(se_id));
	json_object_array_add(ses, se);
	json_object_object_add(root, "secureElements", ses);
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("HTTPS"));
	json_object_object_add(root, "supportedTransportProtocols", a);
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("application/json"));
	json_object_object_add(root, "supportedDataFormats", a);
	a = json_object_new_array();
	json_object_array_add(a, json_object_new_string("2.0.0"));
	json_object_object_add(root, "supportedVersions", a);
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

/* see seram.h */
int
seram_check_handshake(const uint8_t *body, size_t len, char *err, size_t errlen)
{
	json_object *root, *v;
	const char *why;
	int rc = -1;

	if (len == 0 || len > 16384)
		return fail(err, errlen, "handshake response empty or too large");
	if ((root = json_parse_object(body, len, 4, &why)) == NULL)
		return fail(err, errlen, "handshake response is not a JSON object");
	if (json_object_object_get_ex(root, "chosenVersion", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "2.0.0") != 0)) {
		fail(err, errlen, "remote agent chose a version other than 2.0.0");
		goto done;
	}
	if (json_object_object_get_ex(root, "chosenTransportProtocol", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "HTTPS") != 0)) {
		fail(err, errlen, "remote agent chose a transport other than HTTPS");
		goto done;
	}
	if (json_object_object_get_ex(root, "chosenDataFormat", &v) && v != NULL &&
	    (!json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), "application/json") != 0)) {
		fail(err, errlen, "remote agent chose a data format other than JSON");
		goto done;
	}
	rc = 0;
done:
	json_object_put(root);
	return rc;
}

/* see seram.h */
char *
seram_build_report(enum seram_status st, int executed,
    const struct seram_response *responses, size_t n_resp, const char *error_msg)
{
	static const char *const names[] = { "POLLING", "PROCESSED", "UNAVAILABLE_SE",
	    "UNKNOWN_FAILURE", "UNGRANTED_ACCESS" };
	json_object *root = json_object_new_object(), *las = json_object_new_object();
	char *out, *hex;

	json_object_object_add(las, "localAgentStatusEnum",
	    json_object_new_string(names[st]));
	json_object_object_add(las, "executedSeRamCommands", json_object_new_int(executed));
	if (error_msg != NULL)
		json_object_object_add(las, "errorMsg", json_object_new_string(error_msg));
	json_object_object_add(root, "localAgentStatus", las);
	if (n_resp > 0) {
		json_object *arr = json_object_new_array();

		if ((hex = malloc(2 * SERAM_RAPDU_MAX + 1)) == NULL) {
			json_object_put(root);
			json_object_put(arr);
			return NULL;
		}
		for (size_t r = 0; r < n_resp; r++) {
			json_object *resp = json_object_new_object(), *list = json_object_new_array();

			json_object_object_add(resp, "ramResponseType",
			    json_object_new_string("seRamResponse"));
			for (size_t i = 0; i < responses[r].n; i++) {
				const struct seram_rapdu *ra = &responses[r].rapdu[i];

				json_object_array_add(list, json_object_new_string(
				    hex_encode(ra->bytes, ra->len, hex, 1)));
			}
			json_object_object_add(resp, "listOfRAPDU", list);
			json_object_array_add(arr, resp);
		}
		free(hex);
		json_object_object_add(root, "ramResponses", arr);
	}
	out = strdup(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN));
	json_object_put(root);
	return out;
}

/* see seram.h */
void
seram_session_id(const uint8_t rnd[16], char out[33])
{
	hex_encode(rnd, 16, out, 0);
}
