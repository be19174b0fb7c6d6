/* SPDX-License-Identifier: BSD-2-Clause */
/* test_http.c — http.c against the data-driven vectors in tests/vectors/http_*.txt, plus
 * the limits of autoconf.h built programmatically. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "autoconf.h"
#include "core/http.h"

#ifndef VECTORS_DIR
#define VECTORS_DIR "tests/vectors"
#endif

#define MAXDATA	65536

/* Decodes \r \n \t \s \\ \xHH; returns the length or -1. */
static long
unescape(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	unsigned v;

	while (*s != '\0') {
		if (n >= cap)
			return -1;
		if (*s != '\\') {
			out[n++] = (uint8_t)*s++;
			continue;
		}
		switch (s[1]) {
		case 'r': out[n++] = '\r'; break;
		case 'n': out[n++] = '\n'; break;
		case 't': out[n++] = '\t'; break;
		case 's': out[n++] = ' '; break;
		case '\\': out[n++] = '\\'; break;
		case 'x':
			if (sscanf(s + 2, "%2x", &v) != 1)
				return -1;
			out[n++] = (uint8_t)v;
			s += 2;
			break;
		default:
			return -1;
		}
		s += 2;
	}
	return (long)n;
}

static FILE *
open_vectors(const char *name)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", VECTORS_DIR, name);
	f = fopen(path, "r");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	return f;
}

static void
chomp(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

/* ---- responses ---------------------------------------------------------------- */

struct rcase {
	char	name[256];
	int	eof;
	size_t	max;
	uint8_t	data[MAXDATA];
	size_t	len;
	char	expect[1024];
	int	line;
};

static void
check_fields(const struct rcase *c, const struct http_response *r)
{
	char buf[1024], *tok, *save = NULL;
	uint8_t want[1024];
	long wl;

	snprintf(buf, sizeof buf, "%s", c->expect);
	tok = strtok_r(buf, " ", &save);	/* the result code */
	while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
		char *eq = strchr(tok, '=');

		if (eq == NULL)
			fail_msg("line %d: bad check %s", c->line, tok);
		*eq++ = '\0';
		wl = unescape(eq, want, sizeof want);
		assert_true(wl >= 0);
		if (strcmp(tok, "status") == 0) {
			if (r->status != atoi(eq))
				fail_msg("%s: status %d, want %s", c->name, r->status, eq);
		} else if (strcmp(tok, "keep_alive") == 0) {
			if (r->keep_alive != atoi(eq))
				fail_msg("%s: keep_alive %d", c->name, r->keep_alive);
		} else if (strcmp(tok, "consumed") == 0) {
			if (r->consumed != (size_t)atol(eq))
				fail_msg("%s: consumed %zu, want %s", c->name, r->consumed,
				    eq);
		} else if (strcmp(tok, "body") == 0) {
			if (r->body_len != (size_t)wl ||
			    (wl > 0 && memcmp(r->body, want, (size_t)wl) != 0))
				fail_msg("%s: body '%.*s' (%zu), want '%s'", c->name,
				    (int)r->body_len, (const char *)r->body, r->body_len, eq);
		} else if (strcmp(tok, "retry_after") == 0) {
			want[wl] = '\0';
			if (strcmp(r->retry_after, (char *)want) != 0)
				fail_msg("%s: retry_after '%s'", c->name, r->retry_after);
		} else if (strcmp(tok, "content_type") == 0) {
			want[wl] = '\0';
			if (strcmp(r->content_type, (char *)want) != 0)
				fail_msg("%s: content_type '%s'", c->name, r->content_type);
		} else
			fail_msg("line %d: unknown check %s", c->line, tok);
	}
}

static void
run_rcase(struct rcase *c)
{
	static uint8_t buf[MAXDATA], orig[MAXDATA];
	struct http_response r;
	int want = atoi(c->expect), got;
	size_t n;

	memcpy(buf, c->data, c->len);
	got = http_parse_response(buf, c->len, c->eof, c->max, &r);
	if (got != want)
		fail_msg("%s (line %d): got %d, want %d", c->name, c->line, got, want);
	if (got == 0 && memcmp(buf, c->data, c->len) != 0)
		fail_msg("%s: buffer modified on 0", c->name);
	if (got == 1) {
		if (r.consumed > c->len || r.consumed < r.body_len)
			fail_msg("%s: consumed %zu of %zu", c->name, r.consumed, c->len);
		check_fields(c, &r);
	}

	/* a response arriving a byte at a time: no prefix is ever malformed */
	if (want != 1 || c->eof)
		return;
	for (n = 0; n < c->len; n++) {
		memcpy(buf, c->data, n);
		memcpy(orig, c->data, n);
		got = http_parse_response(buf, n, 0, c->max, &r);
		if (got == -1)
			fail_msg("%s: prefix of %zu bytes rejected", c->name, n);
		if (got == 0 && memcmp(buf, orig, n) != 0)
			fail_msg("%s: prefix of %zu bytes modified", c->name, n);
	}
}

static void
test_response_vectors(void **state)
{
	static struct rcase c;
	char line[4096];
	long l;
	int lineno = 0, ncase = 0, have = 0;
	FILE *f = open_vectors("http_responses.txt");

	(void)state;
	memset(&c, 0, sizeof c);
	c.max = 65536;
	for (;;) {
		char *ok = fgets(line, sizeof line, f);

		lineno++;
		if (ok != NULL)
			chomp(line);
		if (ok == NULL || line[0] == '\0') {
			if (have) {
				if (c.expect[0] == '\0')
					fail_msg("case at line %d has no expect", c.line);
				run_rcase(&c);
				ncase++;
			}
			memset(&c, 0, sizeof c);
			c.max = 65536;
			have = 0;
			if (ok == NULL)
				break;
			continue;
		}
		if (line[0] == '#')
			continue;
		if (!have)
			c.line = lineno;
		have = 1;
		if (strncmp(line, "name:", 5) == 0)
			snprintf(c.name, sizeof c.name, "%s", line + 5 + (line[5] == ' '));
		else if (strncmp(line, "eof:", 4) == 0)
			c.eof = atoi(line + 4);
		else if (strncmp(line, "max:", 4) == 0)
			c.max = (size_t)strtoul(line + 4, NULL, 10);
		else if (strncmp(line, "expect:", 7) == 0)
			snprintf(c.expect, sizeof c.expect, "%s", line + 7 + (line[7] == ' '));
		else if (strncmp(line, "data:", 5) == 0) {
			l = unescape(line + 5 + (line[5] == ' '), c.data + c.len,
			    sizeof c.data - c.len);
			if (l < 0)
				fail_msg("line %d: bad escape", lineno);
			c.len += (size_t)l;
		} else
			fail_msg("line %d: unknown key: %s", lineno, line);
	}
	fclose(f);
	assert_true(ncase >= 50);
}

/* ---- limits from autoconf.h --------------------------------------------------- */

static size_t
build_headers(uint8_t *buf, size_t cap, int nhdr, size_t pad_to)
{
	size_t n;
	int i;

	n = (size_t)snprintf((char *)buf, cap, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n");
	for (i = 1; i < nhdr; i++)
		n += (size_t)snprintf((char *)buf + n, cap - n, "X-H%d: v\r\n", i);
	if (pad_to > 0) {
		/* one header padded so that the whole block is exactly pad_to bytes */
		size_t fixed = n + strlen("X-Pad: \r\n") + 2;

		assert_true(pad_to > fixed);
		n += (size_t)snprintf((char *)buf + n, cap - n, "X-Pad: ");
		memset(buf + n, 'p', pad_to - fixed);
		n += pad_to - fixed;
		n += (size_t)snprintf((char *)buf + n, cap - n, "\r\n");
	}
	n += (size_t)snprintf((char *)buf + n, cap - n, "\r\nok");
	return n;
}

static void
test_header_count_limit(void **state)
{
	static uint8_t buf[MAXDATA];
	struct http_response r;
	size_t n;

	(void)state;
	n = build_headers(buf, sizeof buf, CONFIG_HTTP_MAX_HEADERS, 0);
	assert_int_equal(http_parse_response(buf, n, 0, 100, &r), 1);
	n = build_headers(buf, sizeof buf, CONFIG_HTTP_MAX_HEADERS + 1, 0);
	assert_int_equal(http_parse_response(buf, n, 0, 100, &r), -1);
}

static void
test_header_bytes_limit(void **state)
{
	static uint8_t buf[MAXDATA];
	struct http_response r;
	size_t n;

	(void)state;
	n = build_headers(buf, sizeof buf, 1, CONFIG_HTTP_MAX_HEADER_BYTES);
	assert_int_equal(http_parse_response(buf, n, 0, 100, &r), 1);
	assert_memory_equal(r.body, "ok", 2);
	n = build_headers(buf, sizeof buf, 1, CONFIG_HTTP_MAX_HEADER_BYTES + 1);
	assert_int_equal(http_parse_response(buf, n, 0, 100, &r), -1);
	/* a header block that never ends is refused once it passes the limit, not
	 * waited for */
	memset(buf, 'a', CONFIG_HTTP_MAX_HEADER_BYTES + 1);
	memcpy(buf, "HTTP/1.1 200 OK\r\nX: ", 20);
	assert_int_equal(http_parse_response(buf, CONFIG_HTTP_MAX_HEADER_BYTES, 0, 100,
	    &r), -1);
	assert_int_equal(http_parse_response(buf, CONFIG_HTTP_MAX_HEADER_BYTES - 1, 0,
	    100, &r), 0);
}

static void
test_chunked_in_place(void **state)
{
	uint8_t buf[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n";
	struct http_response r;

	(void)state;
	assert_int_equal(http_parse_response(buf, sizeof buf - 1, 0, 100, &r), 1);
	assert_ptr_equal(r.body, (uint8_t *)strstr((char *)buf, "\r\n\r\n") + 4);
	assert_int_equal(r.body_len, 7);
	assert_memory_equal(r.body, "abcdefg", 7);
}

static void
test_max_body_cms(void **state)
{
	static uint8_t buf[CONFIG_HTTP_MAX_HEADER_BYTES + CONFIG_CMS_MAX_RESPONSE_BYTES];
	struct http_response r;
	size_t n;

	(void)state;
	n = (size_t)snprintf((char *)buf, sizeof buf,
	    "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", CONFIG_CMS_MAX_RESPONSE_BYTES);
	memset(buf + n, 'x', CONFIG_CMS_MAX_RESPONSE_BYTES);
	assert_int_equal(http_parse_response(buf, n + CONFIG_CMS_MAX_RESPONSE_BYTES, 0,
	    CONFIG_CMS_MAX_RESPONSE_BYTES, &r), 1);
	assert_int_equal(r.body_len, CONFIG_CMS_MAX_RESPONSE_BYTES);
	n = (size_t)snprintf((char *)buf, sizeof buf,
	    "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
	    CONFIG_CMS_MAX_RESPONSE_BYTES + 1);
	assert_int_equal(http_parse_response(buf, n, 0, CONFIG_CMS_MAX_RESPONSE_BYTES,
	    &r), -1);
}

/* ---- URLs ------------------------------------------------------------------------ */

static void
test_url_vectors(void **state)
{
	char line[4096], url[2048], *sp, *tok, *save = NULL;
	uint8_t raw[2048];
	struct http_url u;
	long l;
	int lineno = 0, n = 0, r;
	FILE *f = open_vectors("http_urls.txt");

	(void)state;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		chomp(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if ((sp = strchr(line, ' ')) == NULL)
			fail_msg("line %d: no expectation", lineno);
		*sp++ = '\0';
		l = unescape(line, raw, sizeof raw - 1);
		assert_true(l >= 0);
		memcpy(url, raw, (size_t)l);
		url[l] = '\0';
		r = http_parse_url(url, &u);
		if (strcmp(sp, "-1") == 0) {
			if (r != -1)
				fail_msg("line %d: %s accepted", lineno, line);
			n++;
			continue;
		}
		if (r != 0)
			fail_msg("line %d: %s rejected", lineno, line);
		for (tok = strtok_r(sp, " ", &save); tok != NULL;
		    tok = strtok_r(NULL, " ", &save)) {
			const char *got = NULL, *want = strchr(tok, '=') + 1;

			if (strncmp(tok, "host=", 5) == 0)
				got = u.host;
			else if (strncmp(tok, "port=", 5) == 0)
				got = u.port;
			else if (strncmp(tok, "path=", 5) == 0)
				got = u.path;
			else if (strncmp(tok, "origin=", 7) == 0)
				got = u.origin;
			else
				fail_msg("line %d: unknown field %s", lineno, tok);
			if (strcmp(got, want) != 0)
				fail_msg("line %d: %s: got '%s'", lineno, tok, got);
		}
		n++;
	}
	fclose(f);
	assert_true(n >= 40);
}

static void
test_url_lengths(void **state)
{
	char url[HTTP_PATH_MAX + HTTP_HOST_MAX + 64];
	struct http_url u;
	size_t n;

	(void)state;
	/* longest host that fits, and one more */
	n = (size_t)snprintf(url, sizeof url, "https://");
	memset(url + n, 'h', HTTP_HOST_MAX - 1);
	strcpy(url + n + HTTP_HOST_MAX - 1, "/");
	assert_int_equal(http_parse_url(url, &u), 0);
	memset(url + n, 'h', HTTP_HOST_MAX);
	strcpy(url + n + HTTP_HOST_MAX, "/");
	assert_int_equal(http_parse_url(url, &u), -1);
	/* longest path that fits, and one more */
	n = (size_t)snprintf(url, sizeof url, "https://h/");
	memset(url + n, 'p', HTTP_PATH_MAX - 2);
	url[n + HTTP_PATH_MAX - 2] = '\0';
	assert_int_equal(http_parse_url(url, &u), 0);
	assert_int_equal(strlen(u.path), HTTP_PATH_MAX - 1);
	strcat(url, "p");
	assert_int_equal(http_parse_url(url, &u), -1);
	assert_int_equal(http_parse_url(NULL, &u), -1);
}

/* ---- Retry-After ------------------------------------------------------------------ */

static void
test_retry_after_vectors(void **state)
{
	char line[1024], val[256], nowbuf[64];
	uint8_t raw[256];
	long want, got, l;
	int lineno = 0, n = 0;
	FILE *f = open_vectors("http_retry_after.txt");

	(void)state;
	while (fgets(line, sizeof line, f) != NULL) {
		lineno++;
		chomp(line);
		if (line[0] == '#' || line[0] == '\0')
			continue;
		if (sscanf(line, "%255s %63s %ld", val, nowbuf, &want) != 3)
			fail_msg("line %d: bad vector", lineno);
		l = unescape(val, raw, sizeof raw - 1);
		assert_true(l >= 0);
		raw[l] = '\0';
		got = http_retry_after_s((char *)raw, atoll(nowbuf));
		if (got != want)
			fail_msg("line %d: '%s' -> %ld, want %ld", lineno, val, got, want);
		n++;
	}
	fclose(f);
	assert_true(n >= 20);
	assert_int_equal(http_retry_after_s(NULL, 0), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_response_vectors),
		cmocka_unit_test(test_header_count_limit),
		cmocka_unit_test(test_header_bytes_limit),
		cmocka_unit_test(test_chunked_in_place),
		cmocka_unit_test(test_max_body_cms),
		cmocka_unit_test(test_url_vectors),
		cmocka_unit_test(test_url_lengths),
		cmocka_unit_test(test_retry_after_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
