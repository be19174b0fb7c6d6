/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_http.c — libFuzzer target for http.c: the response parser (with the first input
 * byte choosing eof and max_body), the URL parser and Retry-After on the same bytes.
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Ibuild -Ifirmware \
 *       tests/fuzz/fuzz_http.c firmware/core/http.c -o build/fuzz_http
 *   build/fuzz_http -dict=... tests/vectors (seeds: any file works as a corpus) */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "autoconf.h"
#include "core/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[4] = { 0, 16, 4096, CONFIG_CMS_MAX_RESPONSE_BYTES };
	struct http_response r;
	struct http_url u;
	uint8_t *buf, *copy;
	char *s;
	size_t len, max, i;
	int eof, rc, rc0;

	if (size == 0)
		return 0;
	eof = data[0] & 1;
	max = maxes[(data[0] >> 1) & 3];
	len = size - 1;

	/* an exact-size heap copy so ASan sees any read past the end */
	buf = malloc(len ? len : 1);
	copy = malloc(len ? len : 1);
	if (buf == NULL || copy == NULL)
		abort();
	memcpy(buf, data + 1, len);
	memcpy(copy, data + 1, len);
	rc = http_parse_response(buf, len, eof, max, &r);
	if (rc == 0 && memcmp(buf, copy, len) != 0)
		abort();		/* "buf untouched" when more is needed */
	if (rc == 1) {
		if (r.status < 100 || r.status > 599 || r.body_len > max ||
		    r.body < buf || r.body + r.body_len > buf + len)
			abort();
		/* what keep-alive trusts: the response ends inside the buffer and
		 * after its body */
		if (r.consumed > len ||
		    r.consumed < (size_t)(r.body - buf) + r.body_len)
			abort();
		if (memchr(r.retry_after, '\0', sizeof r.retry_after) == NULL ||
		    memchr(r.content_type, '\0', sizeof r.content_type) == NULL)
			abort();
	}
	/* a complete answer stays complete when more bytes follow it (eof 0) */
	if (!eof && rc == 1 && len > 0) {
		memcpy(buf, copy, len);
		rc0 = http_parse_response(buf, len - 1, 0, max, &r);
		if (rc0 == -1) {
			/* a shorter prefix may only fail if the full one could not have
			 * been valid: never for a complete response */
			abort();
		}
	}
	free(buf);
	free(copy);

	s = malloc(len + 1);
	if (s == NULL)
		abort();
	memcpy(s, data + 1, len);
	s[len] = '\0';
	if (http_parse_url(s, &u) == 0) {
		if (strlen(u.host) == 0 || u.path[0] != '/' ||
		    strncmp(u.origin, "https://", 8) != 0)
			abort();
		for (i = 0; u.path[i] != '\0'; i++)
			if ((unsigned char)u.path[i] <= 0x20 ||
			    (unsigned char)u.path[i] >= 0x7f)
				abort();
	}
	{
		long ra = http_retry_after_s(s, 1700000000LL);

		if (ra < -1 || ra > 86400)
			abort();
	}
	free(s);
	return 0;
}
