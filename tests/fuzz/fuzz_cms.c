/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_cms.c — libFuzzer target for cms_judge_answer(), the judge of every CMS answer
 * (json-c with depth and size limits, field types, string bounds, portal origins).
 * Input: byte 0 picks the HTTP status, byte 1 says whether a Retry-After value follows
 * (then up to the first '\n', at most 40 bytes), the rest is the body. Seeds in
 * tests/fuzz/seeds/fuzz_cms come from tests/vectors/cms_answers.txt.
 *   make fuzz FUZZ_SECONDS=30   (scripts/fuzz.sh builds and runs it) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autoconf.h"
#include "core/cms.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
terminated(const char *s, size_t cap)
{
	return memchr(s, '\0', cap) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[16] = { 200, 200, 200, 200, 200, 200, 200, 404,
	    429, 503, 500, 302, 204, 401, 100, 599 };
	static struct cms_origins origins;
	static int ready;
	struct cms_result *out;
	char ra[48], *rap = NULL;
	const uint8_t *body;
	size_t len, n;
	uint8_t *copy;
	int status, rc;

	if (!ready) {
		if (cms_origins_add(&origins, "https://portal.example.org") == -1 ||
		    cms_origins_add(&origins, "https://cms.example.org:8443") == -1 ||
		    cms_origins_add(&origins, "https://[::1]:8443") == -1)
			abort();
		ready = 1;
	}
	if (size < 2)
		return 0;
	status = statuses[data[0] & 15];
	body = data + 2;
	len = size - 2;
	if (data[1] & 1) {
		for (n = 0; n < len && n < sizeof ra - 1 && body[n] != '\n'; n++)
			ra[n] = (char)body[n];
		ra[n] = '\0';
		rap = ra;
		if (n < len)
			n++;		/* the '\n' */
		body += n;
		len -= n;
	}

	/* an exact-size heap copy so ASan sees any read past the end */
	if ((copy = malloc(len ? len : 1)) == NULL ||
	    (out = malloc(sizeof *out)) == NULL)
		abort();
	memcpy(copy, body, len);
	memset(out, 0xa5, sizeof *out);		/* nothing may be read before written */
	rc = cms_judge_answer(status, rap, copy, len, &origins, 1700000000LL, out);

	if ((rc == -1) != (out->outcome == CMS_OUT_FAILED))
		abort();
	if (out->outcome != CMS_OUT_PENDING && out->outcome != CMS_OUT_NONE &&
	    out->outcome != CMS_OUT_FAILED)
		abort();
	if (!terminated(out->code, sizeof out->code) ||
	    !terminated(out->detail, sizeof out->detail) ||
	    !terminated(out->card_id, sizeof out->card_id) ||
	    !terminated(out->portal_url, sizeof out->portal_url) ||
	    !terminated(out->seram_url, sizeof out->seram_url))
		abort();
	if ((out->code[0] != '\0') != (out->outcome == CMS_OUT_FAILED))
		abort();
	if (out->outcome == CMS_OUT_PENDING) {
		if (status != 200 || out->n_updates == 0 ||
		    out->n_updates > CONFIG_CMS_MAX_PENDING)
			abort();
		/* Proceed only ever goes to an allowed https origin */
		if (!cms_origin_allowed(&origins, out->portal_url))
			abort();
		if (out->seram_url[0] != '\0' &&
		    !cms_origin_allowed(&origins, out->seram_url))
			abort();
		for (n = 0; n < out->n_updates; n++)
			if (!terminated(out->updates[n].id, sizeof out->updates[n].id) ||
			    !terminated(out->updates[n].type, sizeof out->updates[n].type) ||
			    !terminated(out->updates[n].description,
			    sizeof out->updates[n].description))
				abort();
	}
	if (out->outcome == CMS_OUT_NONE && status != 200 && status != 404)
		abort();
	if (out->outcome != CMS_OUT_FAILED && out->recheck_after_s < -1)
		abort();
	if (out->retry_after_s < -1 || out->retry_after_s > 86400)
		abort();
	free(copy);
	free(out);
	return 0;
}
