/* SPDX-License-Identifier: BSD-2-Clause */
/* http.c — the pure HTTP/1.1 pieces of the CMS client: https URL parsing, the response
 * parser (RFC 9112 framing, strict on everything that could desynchronise a length) and
 * Retry-After. No I/O, no allocation, no clock: time is an argument. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>

#include "autoconf.h"
#include "base/hex.h"
#include "core/civil.h"
#include "core/http.h"

/* Longest chunk-size line (size + extensions) we accept; real servers send < 20 bytes. */
#define CHUNK_LINE_MAX	1024
/* Hex digits in a chunk size before it is an overflow, whatever the leading zeros. */
#define CHUNK_HEX_MAX	16

static int
lower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

static int
is_digit(int c)
{
	return c >= '0' && c <= '9';
}

/* RFC 9110 tchar */
static int
is_tchar(int c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c))
		return 1;
	return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar / SP / HTAB, obs-text tolerated: what may appear in a value or reason */
static int
is_value_char(int c)
{
	return c == ' ' || c == '\t' || (c > 0x20 && c != 0x7f);
}

static int
eq_nocase(const uint8_t *a, size_t alen, const char *b)
{
	size_t n = strlen(b);

	if (alen != n)
		return 0;
	while (n-- > 0)
		if (lower(a[n]) != lower((unsigned char)b[n]))
			return 0;
	return 1;
}

/* ---- URL ------------------------------------------------------------------------ */

static int
is_host_char(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
	    c == '-' || c == '.' || c == '_';
}

/* see http.h */
int
http_parse_url(const char *url, struct http_url *u)
{
	const char *p, *auth, *aend, *hend, *pend;
	size_t hlen, plen, i;
	unsigned long port = 443;
	int v6 = 0;
	unsigned char tmp[16];
	char v6buf[HTTP_HOST_MAX];

	memset(u, 0, sizeof *u);
	if (url == NULL || strncasecmp(url, "https://", 8) != 0)
		return -1;
	/* controls, spaces and raw non-ASCII anywhere make the URL ambiguous */
	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;

	auth = url + 8;
	aend = auth + strcspn(auth, "/?#");
	if (memchr(auth, '@', (size_t)(aend - auth)) != NULL)
		return -1;		/* userinfo: never sent, only confuses origins */

	if (*auth == '[') {
		hend = memchr(auth, ']', (size_t)(aend - auth));
		if (hend == NULL)
			return -1;
		hlen = (size_t)(hend - auth - 1);
		if (hlen == 0 || hlen >= sizeof v6buf)
			return -1;
		memcpy(v6buf, auth + 1, hlen);
		v6buf[hlen] = '\0';
		/* zone ids ("%25eth0") are not routable from a kiosk to a CMS */
		if (inet_pton(AF_INET6, v6buf, tmp) != 1)
			return -1;
		v6 = 1;
		p = hend + 1;
	} else {
		hend = auth;
		while (hend < aend && *hend != ':')
			hend++;
		hlen = (size_t)(hend - auth);
		if (hlen == 0)
			return -1;
		for (i = 0; i < hlen; i++)
			if (!is_host_char((unsigned char)auth[i]))
				return -1;
		if (auth[0] == '.' || auth[0] == '-' ||
		    memmem(auth, hlen, "..", 2) != NULL)
			return -1;
		p = hend;
	}
	if (hlen >= sizeof u->host)
		return -1;
	for (i = 0; i < hlen; i++)
		u->host[i] = (char)lower((unsigned char)auth[i + (v6 ? 1 : 0)]);
	u->host[hlen] = '\0';

	if (p < aend) {
		if (*p != ':' || p + 1 == aend || aend - (p + 1) > 5)
			return -1;
		port = 0;
		for (p++; p < aend; p++) {
			if (!is_digit((unsigned char)*p))
				return -1;
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (port == 0 || port > 65535)
			return -1;
	}
	(void)snprintf(u->port, sizeof u->port, "%lu", port);

	/* the fragment is the client's business and is never sent */
	pend = aend + strcspn(aend, "#");
	plen = (size_t)(pend - aend);
	if (plen == 0 || *aend == '?') {
		if (plen + 1 >= sizeof u->path)
			return -1;
		u->path[0] = '/';
		memcpy(u->path + 1, aend, plen);
		u->path[plen + 1] = '\0';
	} else {
		if (plen >= sizeof u->path)
			return -1;
		memcpy(u->path, aend, plen);
		u->path[plen] = '\0';
	}

	if (snprintf(u->origin, sizeof u->origin, "https://%s%s%s%s%s",
	    v6 ? "[" : "", u->host, v6 ? "]" : "", port != 443 ? ":" : "",
	    port != 443 ? u->port : "") >= (int)sizeof u->origin)
		return -1;
	return 0;
}

/* ---- response ------------------------------------------------------------------- */

struct line {
	const uint8_t	*p;
	size_t		 len;	/* without CRLF */
};

/* Finds the next CRLF-terminated line in buf[*off..end). Returns 1 with *l set and *off
 * past the CRLF, 0 when no complete line is there yet, -1 on a bare CR or LF (a framing
 * ambiguity smuggling attacks rely on) or a NUL. */
static int
next_line(const uint8_t *buf, size_t end, size_t *off, struct line *l)
{
	size_t i;

	for (i = *off; i < end; i++) {
		if (buf[i] == '\n' || buf[i] == '\0')
			return -1;
		if (buf[i] == '\r') {
			if (i + 1 == end)
				return 0;
			if (buf[i + 1] != '\n')
				return -1;
			l->p = buf + *off;
			l->len = i - *off;
			*off = i + 2;
			return 1;
		}
	}
	return 0;
}

struct hdrs {
	int		 status;
	int		 minor;		/* HTTP/1.<minor> */
	int		 chunked;
	int		 have_cl;
	size_t		 cl;
	int		 conn_close;
	int		 conn_keep_alive;
	size_t		 body_start;
};

static void
copy_value(char *dst, size_t dstlen, const uint8_t *v, size_t vlen)
{
	/* truncation only shortens an informative value; it never changes framing */
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

/* Content-Length: 1*DIGIT; a repeated header must repeat the same value. */
static int
parse_cl(const uint8_t *v, size_t vlen, size_t max_body, struct hdrs *h)
{
	size_t n = 0, i;

	if (vlen == 0)
		return -1;
	for (i = 0; i < vlen; i++) {
		if (!is_digit(v[i]))
			return -1;	/* also rejects "-1", "+5", "5, 5", "0x10" */
		if (n > (SIZE_MAX - 9) / 10)
			return -1;
		n = n * 10 + (size_t)(v[i] - '0');
	}
	if (n > max_body)
		return -1;
	if (h->have_cl && h->cl != n)
		return -1;
	h->have_cl = 1;
	h->cl = n;
	return 0;
}

/* Connection: comma-separated tokens; only close and keep-alive matter to us. */
static void
parse_connection(const uint8_t *v, size_t vlen, struct hdrs *h)
{
	size_t i = 0, s, e;

	while (i < vlen) {
		while (i < vlen && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < vlen && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (eq_nocase(v + s, e - s, "close"))
			h->conn_close = 1;
		else if (eq_nocase(v + s, e - s, "keep-alive"))
			h->conn_keep_alive = 1;
	}
}

/* Parses one header block starting at *off. Returns 1 (complete; h filled, *off at the
 * body), 0 (incomplete), -1 (malformed or over a limit). */
static int
parse_head(const uint8_t *buf, size_t len, size_t *off, size_t max_body, struct hdrs *h,
    struct http_response *out)
{
	size_t start = *off, pos = *off, i, vs, ve, nhdr = 0;
	size_t limit;
	struct line l;
	int r, have_te = 0;

	memset(h, 0, sizeof *h);
	/* never look further than the header limit: a peer that never sends CRLFCRLF
	 * fails here instead of filling the buffer */
	limit = len - start > CONFIG_HTTP_MAX_HEADER_BYTES ?
	    start + CONFIG_HTTP_MAX_HEADER_BYTES : len;

	if ((r = next_line(buf, limit, &pos, &l)) != 1)
		return (r == 0 && limit - start >= CONFIG_HTTP_MAX_HEADER_BYTES) ? -1 : r;
	/* HTTP/1.x SP 3DIGIT [SP reason] */
	if (l.len < 12 || memcmp(l.p, "HTTP/1.", 7) != 0 || !is_digit(l.p[7]) ||
	    l.p[8] != ' ' || !is_digit(l.p[9]) || !is_digit(l.p[10]) ||
	    !is_digit(l.p[11]) || (l.len > 12 && l.p[12] != ' '))
		return -1;
	h->minor = l.p[7] - '0';
	h->status = (l.p[9] - '0') * 100 + (l.p[10] - '0') * 10 + (l.p[11] - '0');
	if (h->status < 100 || h->status > 599)
		return -1;
	for (i = 12; i < l.len; i++)
		if (!is_value_char(l.p[i]))
			return -1;

	for (;;) {
		if ((r = next_line(buf, limit, &pos, &l)) != 1)
			return (r == 0 && limit - start >= CONFIG_HTTP_MAX_HEADER_BYTES) ?
			    -1 : r;
		if (l.len == 0)
			break;
		if (++nhdr > CONFIG_HTTP_MAX_HEADERS)
			return -1;
		/* obs-fold, or whitespace before the first name: both are smuggling tools */
		if (l.p[0] == ' ' || l.p[0] == '\t')
			return -1;
		for (i = 0; i < l.len && l.p[i] != ':'; i++)
			if (!is_tchar(l.p[i]))
				return -1;	/* also "Name : v" */
		if (i == 0 || i == l.len)
			return -1;
		vs = i + 1;
		ve = l.len;
		while (vs < ve && (l.p[vs] == ' ' || l.p[vs] == '\t'))
			vs++;
		while (ve > vs && (l.p[ve - 1] == ' ' || l.p[ve - 1] == '\t'))
			ve--;
		for (size_t k = vs; k < ve; k++)
			if (!is_value_char(l.p[k]))
				return -1;

		if (eq_nocase(l.p, i, "content-length")) {
			if (parse_cl(l.p + vs, ve - vs, max_body, h) == -1)
				return -1;
		} else if (eq_nocase(l.p, i, "transfer-encoding")) {
			/* only "chunked" alone: any other coding would have to be undone
			 * and a list is where parsers disagree */
			if (have_te || !eq_nocase(l.p + vs, ve - vs, "chunked"))
				return -1;
			have_te = 1;
			h->chunked = 1;
		} else if (eq_nocase(l.p, i, "retry-after")) {
			copy_value(out->retry_after, sizeof out->retry_after,
			    l.p + vs, ve - vs);
		} else if (eq_nocase(l.p, i, "content-type")) {
			copy_value(out->content_type, sizeof out->content_type,
			    l.p + vs, ve - vs);
		} else if (eq_nocase(l.p, i, "connection")) {
			parse_connection(l.p + vs, ve - vs, h);
		}
	}
	/* RFC 9112 6.1/6.3: both framings at once, or chunked in 1.0, is an attack */
	if (h->chunked && (h->have_cl || h->minor == 0))
		return -1;
	h->body_start = pos;
	*off = pos;
	return 1;
}

/* Walks a chunked body starting at off. When decode is 0, only validates: returns 1 with
 * *blen (decoded length) and *end (offset after the trailers) when complete, 0 when
 * incomplete, -1 when malformed or over max_body. When decode is 1 (called only after a
 * successful validation), moves the chunk data down to buf[off..off+*blen). */
static int
walk_chunked(uint8_t *buf, size_t len, size_t off, size_t max_body, int decode,
    size_t *blen, size_t *end)
{
	size_t pos = off, total = 0, size, i, ntrail = 0, tstart;
	struct line l;
	int r, d, nd;

	for (;;) {
		size_t lstart = pos;

		r = next_line(buf, len, &pos, &l);
		if (r == -1)
			return -1;
		if (r == 0)
			return (len - lstart > CHUNK_LINE_MAX) ? -1 : 0;
		if (l.len > CHUNK_LINE_MAX)
			return -1;
		size = 0;
		nd = 0;
		for (i = 0; i < l.len && (d = hex_value((unsigned char)l.p[i])) != -1; i++) {
			if (++nd > CHUNK_HEX_MAX || size > (SIZE_MAX >> 4))
				return -1;
			size = (size << 4) | (size_t)d;
		}
		if (nd == 0)
			return -1;
		/* chunk-ext: BWS ";" ...; we ignore extensions but keep them printable */
		while (i < l.len && (l.p[i] == ' ' || l.p[i] == '\t'))
			i++;
		if (i < l.len && l.p[i] != ';')
			return -1;
		for (; i < l.len; i++)
			if (!is_value_char(l.p[i]))
				return -1;
		if (size == 0)
			break;
		if (size > max_body - total)
			return -1;
		if (len - pos < size + 2) {
			/* the CRLF after the data must be right, even before it is all here */
			if (len - pos > size && buf[pos + size] != '\r')
				return -1;
			return 0;
		}
		if (buf[pos + size] != '\r' || buf[pos + size + 1] != '\n')
			return -1;
		if (decode)
			memmove(buf + off + total, buf + pos, size);
		total += size;
		pos += size + 2;
	}

	/* trailer section: header lines until an empty line; content ignored */
	tstart = pos;
	for (;;) {
		r = next_line(buf, len, &pos, &l);
		if (r == -1)
			return -1;
		if (r == 0)
			return (len - tstart > CONFIG_HTTP_MAX_HEADER_BYTES) ? -1 : 0;
		if (pos - tstart > CONFIG_HTTP_MAX_HEADER_BYTES)
			return -1;
		if (l.len == 0)
			break;
		if (++ntrail > CONFIG_HTTP_MAX_HEADERS || l.p[0] == ' ' ||
		    l.p[0] == '\t')
			return -1;
		for (i = 0; i < l.len && l.p[i] != ':'; i++)
			if (!is_tchar(l.p[i]))
				return -1;
		if (i == 0 || i == l.len)
			return -1;
		for (i++; i < l.len; i++)
			if (!is_value_char(l.p[i]))
				return -1;
	}
	*blen = total;
	*end = pos;
	return 1;
}

/* see http.h */
int
http_parse_response(uint8_t *buf, size_t len, int eof, size_t max_body,
    struct http_response *out)
{
	struct hdrs h;
	size_t off = 0, avail, blen, end;
	int r;

	memset(out, 0, sizeof *out);
	for (;;) {
		out->retry_after[0] = '\0';
		out->content_type[0] = '\0';
		r = parse_head(buf, len, &off, max_body, &h, out);
		if (r == 0)
			return eof ? -1 : 0;
		if (r == -1)
			return -1;
		if (h.status >= 200)
			break;
		/* 1xx: never a body (framing headers on it mean nothing); 101 would
		 * switch to a protocol we never asked for */
		if (h.status == 101)
			return -1;
	}

	out->status = h.status;
	avail = len - h.body_start;
	out->keep_alive = h.minor >= 1 ? !h.conn_close : h.conn_keep_alive;

	if (h.status == 204 || h.status == 304) {
		/* RFC 9112 6.3: never a body, whatever the headers claim */
		out->body = buf + h.body_start;
		out->body_len = 0;
		out->consumed = h.body_start;
		return 1;
	}
	if (h.chunked) {
		r = walk_chunked(buf, len, h.body_start, max_body, 0, &blen, &end);
		if (r == 0)
			return eof ? -1 : 0;
		if (r == -1)
			return -1;
		(void)walk_chunked(buf, len, h.body_start, max_body, 1, &blen, &end);
		out->body = buf + h.body_start;
		out->body_len = blen;
		out->consumed = end;
		return 1;
	}
	if (h.have_cl) {
		if (avail < h.cl)
			return eof ? -1 : 0;
		out->body = buf + h.body_start;
		out->body_len = h.cl;
		out->consumed = h.body_start + h.cl;
		return 1;
	}
	/* neither: the body runs to the end of the stream and the connection is spent */
	out->keep_alive = 0;
	if (avail > max_body)
		return -1;
	if (!eof)
		return 0;
	out->body = buf + h.body_start;
	out->body_len = avail;
	out->consumed = len;
	return 1;
}

/* ---- Retry-After ---------------------------------------------------------------- */

static const char *const months[12] = {
	"jan", "feb", "mar", "apr", "may", "jun",
	"jul", "aug", "sep", "oct", "nov", "dec"
};
static const char *const wdays[7] = {
	"mon", "tue", "wed", "thu", "fri", "sat", "sun"
};
static const char *const wdays_long[7] = {
	"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"
};

/* Reads exactly n digits at *s. */
static int
digits(const char **s, int n, int *v)
{
	*v = 0;
	while (n-- > 0) {
		if (!is_digit((unsigned char)**s))
			return -1;
		*v = *v * 10 + (**s - '0');
		(*s)++;
	}
	return 0;
}

static int
word(const char **s, const char *const *tab, int n, size_t wlen)
{
	int i;

	for (i = 0; i < n; i++) {
		size_t tl = strlen(tab[i]);

		if ((wlen == 0 || tl == wlen) && strncasecmp(*s, tab[i], tl) == 0) {
			*s += tl;
			return i;
		}
	}
	return -1;
}

static int
lit(const char **s, const char *l)
{
	size_t n = strlen(l);

	if (strncmp(*s, l, n) != 0)
		return -1;
	*s += n;
	return 0;
}

static int
hms(const char **s, int *h, int *mi, int *se)
{
	if (digits(s, 2, h) == -1 || lit(s, ":") == -1 || digits(s, 2, mi) == -1 ||
	    lit(s, ":") == -1 || digits(s, 2, se) == -1)
		return -1;
	return (*h > 23 || *mi > 59 || *se > 60) ? -1 : 0;
}

/* The three HTTP-date forms of RFC 9110 5.6.7, to unix seconds. */
static int
parse_http_date(const char *s, long long *t)
{
	int d, mo, y, h, mi, se;
	size_t wl = strcspn(s, ", ");

	if (s[wl] == ',' && wl == 3) {		/* IMF-fixdate */
		if (word(&s, wdays, 7, 3) == -1 || lit(&s, ", ") == -1 ||
		    digits(&s, 2, &d) == -1 || lit(&s, " ") == -1 ||
		    (mo = word(&s, months, 12, 0)) == -1 || lit(&s, " ") == -1 ||
		    digits(&s, 4, &y) == -1 || lit(&s, " ") == -1 ||
		    hms(&s, &h, &mi, &se) == -1 || lit(&s, " GMT") == -1)
			return -1;
	} else if (s[wl] == ',') {		/* rfc850-date */
		if (word(&s, wdays_long, 7, wl) == -1 || lit(&s, ", ") == -1 ||
		    digits(&s, 2, &d) == -1 || lit(&s, "-") == -1 ||
		    (mo = word(&s, months, 12, 0)) == -1 || lit(&s, "-") == -1 ||
		    digits(&s, 2, &y) == -1 || lit(&s, " ") == -1 ||
		    hms(&s, &h, &mi, &se) == -1 || lit(&s, " GMT") == -1)
			return -1;
		/* two-digit years: RFC 9110 says read them as within 50 years of now;
		 * a back-off hint does not need that precision */
		y += y < 70 ? 2000 : 1900;
	} else {				/* asctime-date */
		if (word(&s, wdays, 7, 3) == -1 || lit(&s, " ") == -1 ||
		    (mo = word(&s, months, 12, 0)) == -1 || lit(&s, " ") == -1)
			return -1;
		if (*s == ' ') {
			s++;
			if (digits(&s, 1, &d) == -1)
				return -1;
		} else if (digits(&s, 2, &d) == -1)
			return -1;
		if (lit(&s, " ") == -1 || hms(&s, &h, &mi, &se) == -1 ||
		    lit(&s, " ") == -1 || digits(&s, 4, &y) == -1)
			return -1;
	}
	if (*s != '\0' || d < 1 || d > 31)
		return -1;
	*t = civil_days(y, (unsigned)mo + 1, (unsigned)d) * 86400 +
	    h * 3600 + mi * 60 + se;
	return 0;
}

/* see http.h */
long
http_retry_after_s(const char *value, long long now)
{
	char v[64];
	size_t s = 0, e, i;
	long long n = 0, t;

	if (value == NULL)
		return -1;
	e = strlen(value);
	while (s < e && (value[s] == ' ' || value[s] == '\t'))
		s++;
	while (e > s && (value[e - 1] == ' ' || value[e - 1] == '\t'))
		e--;
	if (e == s || e - s >= sizeof v)
		return -1;
	memcpy(v, value + s, e - s);
	v[e - s] = '\0';

	if (is_digit((unsigned char)v[0])) {
		for (i = 0; v[i] != '\0'; i++) {
			if (!is_digit((unsigned char)v[i]))
				return -1;
			if (n <= 86400)		/* saturate: huge values clamp */
				n = n * 10 + (v[i] - '0');
		}
		return n > 86400 ? 86400 : (long)n;
	}
	if (parse_http_date(v, &t) == -1)
		return -1;
	t -= now;
	if (t < 0)
		return 0;
	return t > 86400 ? 86400 : (long)t;
}
