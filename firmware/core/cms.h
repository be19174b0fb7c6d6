/* SPDX-License-Identifier: BSD-2-Clause */
/* cms.h — the CMS check protocol cardupd-cms/1 (SPEC §2): the request body and the
 * validation of the answer. Pure: bytes in, values out; no I/O, no clock reads. */
#ifndef CARDUPD_CMS_H
#define CARDUPD_CMS_H

#include <stddef.h>
#include "autoconf.h"
#include "core/card_id.h"
#include "core/http.h"

#define CMS_ID_MAX		64
#define CMS_TYPE_MAX		32
#define CMS_DESC_MAX		256
#define CMS_URL_MAX		512
#define CMS_CODE_MAX		24
#define CMS_DETAIL_MAX		160
#define CMS_MAX_ORIGINS		8
#define CMS_ORIGIN_MAX		(HTTP_HOST_MAX + 16)

enum cms_trigger { CMS_TRIGGER_INSERTION, CMS_TRIGGER_MANUAL, CMS_TRIGGER_STARTUP };

enum cms_outcome {
	CMS_OUT_PENDING,	/* updates to offer: a prompt */
	CMS_OUT_NONE,		/* nothing pending (200 with empty list, or 404) */
	CMS_OUT_FAILED,		/* code/detail say why; retry_after_s may be set */
};

struct cms_update {
	char	id[CMS_ID_MAX];
	char	type[CMS_TYPE_MAX];	/* one of SPEC §2's types or "card_update" */
	char	description[CMS_DESC_MAX];	/* untrusted text: escape when shown */
};

struct cms_result {
	enum cms_outcome	outcome;
	char			code[CMS_CODE_MAX];	/* stable failure code, "" if none */
	char			detail[CMS_DETAIL_MAX];	/* human-readable, for logs */
	char			card_id[CMS_ID_MAX];
	struct cms_update	updates[CONFIG_CMS_MAX_PENDING];
	size_t			n_updates;
	char			portal_url[CMS_URL_MAX];
	char			seram_url[CMS_URL_MAX];	/* "" when absent */
	long			recheck_after_s;	/* -1 when absent */
	long			retry_after_s;		/* -1 when absent */
	int			http_status;		/* 0 when no answer */
	int			resumed;	/* TLS session resumed (when http_status) */
	int			breaker_open;	/* the CMS worker's circuit breaker is
						   open (or probing) after this check */
	int			reused;		/* sent on a kept-alive connection: no
						   handshake at all (when http_status) */
};

/* Allowed portal origins, normalised like http_url.origin ("https://host[:port]"). */
struct cms_origins {
	char	o[CMS_MAX_ORIGINS][CMS_ORIGIN_MAX];
	size_t	n;
};

/* Adds one origin given as "https://host[:port]" (a trailing "/" is accepted).
 * Returns 0, or -1 when it is not an https origin or the list is full. */
int cms_origins_add(struct cms_origins *list, const char *origin);

/* 1 when url is an https URL whose origin is in list, else 0. */
int cms_origin_allowed(const struct cms_origins *list, const char *url);

/* Builds the JSON request body of SPEC §2. Returns a malloc'd NUL-terminated string
 * (caller frees) or NULL on allocation failure. */
char *cms_build_request(const char *device_id, const char *firmware,
    const char *reader, enum cms_trigger trigger, const struct card_identity *id);

/* Judges one HTTP answer (status, Retry-After value or NULL, body) and fills *out.
 * 200 with a valid body → PENDING or NONE; 404 → NONE; 429/503 → FAILED with
 * retry_after_s; anything else, or a body that is not JSON of the SPEC §2 shape
 * (types checked, strings bounded, at most CONFIG_CMS_JSON_MAX_DEPTH deep) → FAILED
 * "http_status" / "bad_response"; a PENDING answer whose portal_url is not https on an
 * allowed origin → FAILED "portal_not_allowed" (and the same for agent.seram_url, which
 * must also end in /gp/seram, else "bad_response").
 * now is unix time, for an HTTP-date Retry-After. Returns 0 unless FAILED (-1). */
int cms_judge_answer(int status, const char *retry_after, const uint8_t *body,
    size_t len, const struct cms_origins *origins, long long now, struct cms_result *out);

/* Sets out to FAILED with the given code and detail (formatted). */
void cms_result_fail(struct cms_result *out, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A short label for a trigger ("insertion", "manual", "startup"). */
const char *cms_trigger_name(enum cms_trigger t);

#endif
