/* https.c — the BearSSL HTTPS client for the CMS: name resolution, connect, handshake,
 * one POST and its response under a single deadline, with the engine driven from
 * poll(). Owns the client's TLS contexts, I/O and response buffers, the session cache
 * and the one kept-alive connection; parsing is http.c's, anchors come from trust.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <bearssl.h>

#include "autoconf.h"
#include "version.h"
#include "base/clock.h"
#include "cms/https.h"

/* Response buffer: the header block plus the largest body we accept. Chunk framing is
 * counted in that space too, so a chunked body close to the limit may not fit. */
#define HTTPS_RBUF_SIZE	(CONFIG_HTTP_MAX_HEADER_BYTES + CONFIG_CMS_MAX_RESPONSE_BYTES)
/* Largest EE certificate kept for the IP-address check (BearSSL only streams it). */
#define HTTPS_EE_MAX	16384
/* Most bytes of caller-supplied extra request headers. */
#define HTTPS_EXTRA_MAX	4096
/* close_notify is a courtesy: never spend more than this on it. */
#define HTTPS_CLOSE_MS	200

/*
 * BearSSL's minimal X.509 engine matches the server name only against dNSName entries
 * of the subjectAltName extension (or the subject CN when there is no SAN at all), as
 * a case-insensitive string with a leading "*." wildcard; iPAddress SANs are skipped.
 * Passing "127.0.0.1" as the server name therefore fails against a certificate that
 * (correctly) carries IP:127.0.0.1, succeeds only against one with DNS:127.0.0.1 or a
 * CN-only certificate, and would even accept a wildcard "*.0.0.1". It would also send
 * the literal as SNI, which RFC 6066 forbids. So for an IP literal we give BearSSL no
 * server name (no SNI, no name check) and wrap its engine: after the chain validates,
 * the EE certificate's iPAddress SANs must hold the address, byte for byte.
 */
struct ipcheck {
	const br_x509_class	 *vtable;	/* first: BearSSL passes &vtable */
	const br_x509_class	**inner;	/* the minimal engine doing the real work */
	int			  active;	/* host is an IP literal */
	unsigned char		  ip[16];
	size_t			  iplen;
	size_t			  ncert;
	unsigned char		  ee[HTTPS_EE_MAX];
	size_t			  ee_len;
	int			  ee_over;
};

struct https_client {
	struct trust_anchors	 anchors;

	/* optional client certificate for mutual TLS */
	br_x509_certificate	*chain;
	size_t			 chain_len;
	int			 key_type;	/* 0, BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	br_rsa_private_key	 rsa;
	br_ec_private_key	 ec;
	unsigned char		*key_mem;	/* holds every private key buffer */
	size_t			 key_mem_len;
	unsigned		 issuer_key_type;

	/* one connection at a time; kept in the client so its memory is not per call */
	br_ssl_client_context	 cc;
	br_x509_minimal_context	 xc;
	struct ipcheck		 ipc;
	unsigned char		 iobuf[BR_SSL_BUFSIZE_BIDI];

	/* session cache: the last session, for the host:port it was made with */
	int			 have_session;
	char			 session_key[HTTP_HOST_MAX + 8];
	br_ssl_session_parameters session;

	/* keep-alive: the idle connection (its TLS state is cc/iobuf above), -1 if none */
	int			 ka_fd;
	char			 ka_key[HTTP_HOST_MAX + 8];
	long long		 ka_idle_since;	/* clock_mono_ms() when its last response ended */
	unsigned		 ka_uses;	/* requests it carried */

	uint8_t			 rbuf[HTTPS_RBUF_SIZE];
};

/* One TCP+TLS connection. Separate from the request so that keep-alive can later keep
 * it open across https_post calls. */
struct conn {
	struct https_client	*c;
	int			 fd;
	long long		 deadline;	/* CLOCK_MONOTONIC ms */
	int			 tcp_eof;
	int			 io_errno;	/* of the failed send/recv/poll */
	int			 wdead;		/* send failed: only draining input */
	int			 offered;	/* a session was offered for resumption */
	unsigned char		 offered_id[32];
	size_t			 offered_id_len;
	size_t			 got;		/* response bytes received */
	int			 keep;		/* reusable after this response */
};

enum pump { PUMP_OK, PUMP_CLOSED, PUMP_TIMEOUT, PUMP_EOF, PUMP_IO };

static void ka_drop(struct https_client *);

static void
fail(struct https_result *res, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
fail(struct https_result *res, const char *code, const char *fmt, ...)
{
	va_list ap;

	(void)snprintf(res->code, sizeof res->code, "%s", code);
	va_start(ap, fmt);
	(void)vsnprintf(res->detail, sizeof res->detail, fmt, ap);
	va_end(ap);
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static int
remaining_ms(long long deadline)
{
	long long r = deadline - clock_mono_ms();

	if (r <= 0)
		return 0;
	return r > 0x7fffffff ? 0x7fffffff : (int)r;
}

/* ---- error names -------------------------------------------------------------- */

static const struct {
	int		 err;
	const char	*name;
} br_errs[] = {
	{ BR_ERR_BAD_PARAM, "BR_ERR_BAD_PARAM" },
	{ BR_ERR_BAD_STATE, "BR_ERR_BAD_STATE" },
	{ BR_ERR_UNSUPPORTED_VERSION, "BR_ERR_UNSUPPORTED_VERSION" },
	{ BR_ERR_BAD_VERSION, "BR_ERR_BAD_VERSION" },
	{ BR_ERR_BAD_LENGTH, "BR_ERR_BAD_LENGTH" },
	{ BR_ERR_TOO_LARGE, "BR_ERR_TOO_LARGE" },
	{ BR_ERR_BAD_MAC, "BR_ERR_BAD_MAC" },
	{ BR_ERR_NO_RANDOM, "BR_ERR_NO_RANDOM" },
	{ BR_ERR_UNKNOWN_TYPE, "BR_ERR_UNKNOWN_TYPE" },
	{ BR_ERR_UNEXPECTED, "BR_ERR_UNEXPECTED" },
	{ BR_ERR_BAD_CCS, "BR_ERR_BAD_CCS" },
	{ BR_ERR_BAD_ALERT, "BR_ERR_BAD_ALERT" },
	{ BR_ERR_BAD_HANDSHAKE, "BR_ERR_BAD_HANDSHAKE" },
	{ BR_ERR_OVERSIZED_ID, "BR_ERR_OVERSIZED_ID" },
	{ BR_ERR_BAD_CIPHER_SUITE, "BR_ERR_BAD_CIPHER_SUITE" },
	{ BR_ERR_BAD_COMPRESSION, "BR_ERR_BAD_COMPRESSION" },
	{ BR_ERR_BAD_FRAGLEN, "BR_ERR_BAD_FRAGLEN" },
	{ BR_ERR_BAD_SECRENEG, "BR_ERR_BAD_SECRENEG" },
	{ BR_ERR_EXTRA_EXTENSION, "BR_ERR_EXTRA_EXTENSION" },
	{ BR_ERR_BAD_SNI, "BR_ERR_BAD_SNI" },
	{ BR_ERR_BAD_HELLO_DONE, "BR_ERR_BAD_HELLO_DONE" },
	{ BR_ERR_LIMIT_EXCEEDED, "BR_ERR_LIMIT_EXCEEDED" },
	{ BR_ERR_BAD_FINISHED, "BR_ERR_BAD_FINISHED" },
	{ BR_ERR_RESUME_MISMATCH, "BR_ERR_RESUME_MISMATCH" },
	{ BR_ERR_INVALID_ALGORITHM, "BR_ERR_INVALID_ALGORITHM" },
	{ BR_ERR_BAD_SIGNATURE, "BR_ERR_BAD_SIGNATURE" },
	{ BR_ERR_WRONG_KEY_USAGE, "BR_ERR_WRONG_KEY_USAGE" },
	{ BR_ERR_NO_CLIENT_AUTH, "BR_ERR_NO_CLIENT_AUTH" },
	{ BR_ERR_IO, "BR_ERR_IO" },
	{ BR_ERR_X509_INVALID_VALUE, "BR_ERR_X509_INVALID_VALUE" },
	{ BR_ERR_X509_TRUNCATED, "BR_ERR_X509_TRUNCATED" },
	{ BR_ERR_X509_EMPTY_CHAIN, "BR_ERR_X509_EMPTY_CHAIN" },
	{ BR_ERR_X509_INNER_TRUNC, "BR_ERR_X509_INNER_TRUNC" },
	{ BR_ERR_X509_BAD_TAG_CLASS, "BR_ERR_X509_BAD_TAG_CLASS" },
	{ BR_ERR_X509_BAD_TAG_VALUE, "BR_ERR_X509_BAD_TAG_VALUE" },
	{ BR_ERR_X509_INDEFINITE_LENGTH, "BR_ERR_X509_INDEFINITE_LENGTH" },
	{ BR_ERR_X509_EXTRA_ELEMENT, "BR_ERR_X509_EXTRA_ELEMENT" },
	{ BR_ERR_X509_UNEXPECTED, "BR_ERR_X509_UNEXPECTED" },
	{ BR_ERR_X509_NOT_CONSTRUCTED, "BR_ERR_X509_NOT_CONSTRUCTED" },
	{ BR_ERR_X509_NOT_PRIMITIVE, "BR_ERR_X509_NOT_PRIMITIVE" },
	{ BR_ERR_X509_PARTIAL_BYTE, "BR_ERR_X509_PARTIAL_BYTE" },
	{ BR_ERR_X509_BAD_BOOLEAN, "BR_ERR_X509_BAD_BOOLEAN" },
	{ BR_ERR_X509_OVERFLOW, "BR_ERR_X509_OVERFLOW" },
	{ BR_ERR_X509_BAD_DN, "BR_ERR_X509_BAD_DN" },
	{ BR_ERR_X509_BAD_TIME, "BR_ERR_X509_BAD_TIME" },
	{ BR_ERR_X509_UNSUPPORTED, "BR_ERR_X509_UNSUPPORTED" },
	{ BR_ERR_X509_LIMIT_EXCEEDED, "BR_ERR_X509_LIMIT_EXCEEDED" },
	{ BR_ERR_X509_WRONG_KEY_TYPE, "BR_ERR_X509_WRONG_KEY_TYPE" },
	{ BR_ERR_X509_BAD_SIGNATURE, "BR_ERR_X509_BAD_SIGNATURE" },
	{ BR_ERR_X509_TIME_UNKNOWN, "BR_ERR_X509_TIME_UNKNOWN" },
	{ BR_ERR_X509_EXPIRED, "BR_ERR_X509_EXPIRED" },
	{ BR_ERR_X509_DN_MISMATCH, "BR_ERR_X509_DN_MISMATCH" },
	{ BR_ERR_X509_BAD_SERVER_NAME, "BR_ERR_X509_BAD_SERVER_NAME" },
	{ BR_ERR_X509_CRITICAL_EXTENSION, "BR_ERR_X509_CRITICAL_EXTENSION" },
	{ BR_ERR_X509_NOT_CA, "BR_ERR_X509_NOT_CA" },
	{ BR_ERR_X509_FORBIDDEN_KEY_USAGE, "BR_ERR_X509_FORBIDDEN_KEY_USAGE" },
	{ BR_ERR_X509_WEAK_PUBLIC_KEY, "BR_ERR_X509_WEAK_PUBLIC_KEY" },
	{ BR_ERR_X509_NOT_TRUSTED, "BR_ERR_X509_NOT_TRUSTED" },
};

static const char *
br_errname(int err)
{
	size_t i;

	for (i = 0; i < sizeof br_errs / sizeof br_errs[0]; i++)
		if (br_errs[i].err == err)
			return br_errs[i].name;
	if (err >= BR_ERR_SEND_FATAL_ALERT)
		return "BR_ERR_SEND_FATAL_ALERT";
	if (err >= BR_ERR_RECV_FATAL_ALERT)
		return "BR_ERR_RECV_FATAL_ALERT";
	return "unknown";
}

/* Unix time of the build day: a clock before it cannot be right. */
static long long
build_epoch(void)
{
#ifdef CARDUPD_BUILD_EPOCH
	return (long long)CARDUPD_BUILD_EPOCH;
#else
	static const char mon[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	const char *d = __DATE__;	/* "Mmm dd yyyy", day space-padded */
	const char *p;
	long long y, m, day, era, yoe, doy, doe;

	if ((p = strstr(mon, (char[4]){ d[0], d[1], d[2], '\0' })) == NULL)
		return 0;
	m = (p - mon) / 3 + 1;
	day = (d[4] == ' ' ? 0 : d[4] - '0') * 10 + (d[5] - '0');
	y = atoll(d + 7);
	/* days_from_civil, as in http.c */
	y -= m <= 2;
	era = y / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + day - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return (era * 146097 + doe - 719468) * 86400;
#endif
}

/* Maps an engine error to res->code / detail. */
static void
tls_fail(struct https_result *res, const struct http_url *u, int err)
{
	const char *host = u->host;

	switch (err) {
	case BR_ERR_X509_NOT_TRUSTED:
		fail(res, "tls_untrusted", "%s: TLS: the server certificate does not "
		    "chain to a configured trust anchor (%s)", host, br_errname(err));
		return;
	case BR_ERR_X509_BAD_SERVER_NAME:
		fail(res, "tls_hostname", "%s: TLS: the server certificate is not valid "
		    "for this host name (%s)", host, br_errname(err));
		return;
	case BR_ERR_X509_EXPIRED:
		if ((long long)time(NULL) < build_epoch()) {
			fail(res, "tls_clock", "%s: TLS: certificate dates do not match "
			    "the system clock, which is before this build: is the clock "
			    "set?", host);
			return;
		}
		fail(res, "tls_expired", "%s: TLS: the server certificate is expired or "
		    "not yet valid (%s)", host, br_errname(err));
		return;
	case BR_ERR_X509_TIME_UNKNOWN:
		fail(res, "tls_clock", "%s: TLS: no usable system time to check the "
		    "certificate", host);
		return;
	}
	if (err >= BR_ERR_X509_OK && err <= BR_ERR_X509_NOT_TRUSTED) {
		fail(res, "tls_untrusted", "%s: TLS: server certificate rejected: %s (%d)",
		    host, br_errname(err), err);
		return;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT) {
		fail(res, "tls", "%s: TLS: the server sent fatal alert %d%s", host,
		    err - BR_ERR_RECV_FATAL_ALERT,
		    err - BR_ERR_RECV_FATAL_ALERT == 116 ? " (certificate required)" :
		    err - BR_ERR_RECV_FATAL_ALERT == 40 ? " (handshake failure)" : "");
		return;
	}
	if (err >= BR_ERR_SEND_FATAL_ALERT) {
		fail(res, "tls", "%s: TLS: sent fatal alert %d", host,
		    err - BR_ERR_SEND_FATAL_ALERT);
		return;
	}
	fail(res, "tls", "%s: TLS: error %d (%s)", host, err, br_errname(err));
}

/* ---- IP-address check around the minimal X.509 engine ------------------------------- */

/* Reads a DER header at *off: single-byte tags, definite lengths up to 4 bytes. */
static int
der_next(const unsigned char *p, size_t end, size_t *off, int *tag, size_t *vlen)
{
	size_t o = *off, n, l = 0;

	if (end - o < 2)
		return -1;
	*tag = p[o++];
	if ((*tag & 0x1f) == 0x1f)
		return -1;
	if (p[o] < 0x80) {
		l = p[o++];
	} else {
		n = p[o++] & 0x7f;
		if (n == 0 || n > 4 || end - o < n)
			return -1;
		while (n-- > 0)
			l = (l << 8) | p[o++];
	}
	if (l > end - o)
		return -1;
	*off = o;
	*vlen = l;
	return 0;
}

/* Returns 1 when the certificate's subjectAltName has an iPAddress equal to ip. */
static int
cert_has_ip(const unsigned char *der, size_t len, const unsigned char *ip, size_t iplen)
{
	static const unsigned char san_oid[] = { 0x55, 0x1d, 0x11 };	/* 2.5.29.17 */
	size_t off = 0, l, tbs_end, ext_end, e_end, s_end;
	int tag;

	/* Certificate SEQUENCE, TBSCertificate SEQUENCE */
	if (der_next(der, len, &off, &tag, &l) == -1 || tag != 0x30)
		return 0;
	if (der_next(der, off + l, &off, &tag, &l) == -1 || tag != 0x30)
		return 0;
	tbs_end = off + l;
	/* skip to the [3] extensions: version, serial, sig, issuer, validity, subject,
	 * spki, [1], [2] are all skipped whole */
	for (;;) {
		if (off >= tbs_end || der_next(der, tbs_end, &off, &tag, &l) == -1)
			return 0;
		if (tag == 0xa3)
			break;
		off += l;
	}
	if (der_next(der, off + l, &off, &tag, &l) == -1 || tag != 0x30)
		return 0;
	ext_end = off + l;
	while (off < ext_end) {
		if (der_next(der, ext_end, &off, &tag, &l) == -1 || tag != 0x30)
			return 0;
		e_end = off + l;
		if (der_next(der, e_end, &off, &tag, &l) == -1 || tag != 0x06)
			return 0;
		if (l != sizeof san_oid || memcmp(der + off, san_oid, l) != 0) {
			off = e_end;
			continue;
		}
		off += l;
		if (der_next(der, e_end, &off, &tag, &l) == -1)
			return 0;
		if (tag == 0x01) {		/* critical flag */
			off += l;
			if (der_next(der, e_end, &off, &tag, &l) == -1)
				return 0;
		}
		if (tag != 0x04 ||
		    der_next(der, off + l, &off, &tag, &l) == -1 || tag != 0x30)
			return 0;
		s_end = off + l;
		while (off < s_end) {
			if (der_next(der, s_end, &off, &tag, &l) == -1)
				return 0;
			/* iPAddress [7] IMPLICIT OCTET STRING */
			if (tag == 0x87 && l == iplen && memcmp(der + off, ip, l) == 0)
				return 1;
			off += l;
		}
		return 0;
	}
	return 0;
}

static void
ipc_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct ipcheck *x = (struct ipcheck *)(void *)ctx;

	x->ncert = 0;
	x->ee_len = 0;
	x->ee_over = 0;
	(*x->inner)->start_chain(x->inner, x->active ? NULL : server_name);
}

static void
ipc_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct ipcheck *x = (struct ipcheck *)(void *)ctx;

	(*x->inner)->start_cert(x->inner, length);
}

static void
ipc_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct ipcheck *x = (struct ipcheck *)(void *)ctx;

	if (x->active && x->ncert == 0) {
		if (len > sizeof x->ee - x->ee_len)
			x->ee_over = 1;
		else {
			memcpy(x->ee + x->ee_len, buf, len);
			x->ee_len += len;
		}
	}
	(*x->inner)->append(x->inner, buf, len);
}

static void
ipc_end_cert(const br_x509_class **ctx)
{
	struct ipcheck *x = (struct ipcheck *)(void *)ctx;

	x->ncert++;
	(*x->inner)->end_cert(x->inner);
}

static unsigned
ipc_end_chain(const br_x509_class **ctx)
{
	struct ipcheck *x = (struct ipcheck *)(void *)ctx;
	unsigned r;

	r = (*x->inner)->end_chain(x->inner);
	if (r != 0 || !x->active)
		return r;
	if (x->ee_over || !cert_has_ip(x->ee, x->ee_len, x->ip, x->iplen))
		return BR_ERR_X509_BAD_SERVER_NAME;
	return 0;
}

static const br_x509_pkey *
ipc_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct ipcheck *x = (const struct ipcheck *)(const void *)ctx;

	return (*x->inner)->get_pkey(x->inner, usages);
}

static const br_x509_class ipc_vtable = {
	sizeof(struct ipcheck),
	ipc_start_chain,
	ipc_start_cert,
	ipc_append,
	ipc_end_cert,
	ipc_end_chain,
	ipc_get_pkey
};

/* ---- client ----------------------------------------------------------------------- */

static void
free_key(struct https_client *c)
{
	if (c->key_mem != NULL) {
		explicit_bzero(c->key_mem, c->key_mem_len);
		free(c->key_mem);
	}
	c->key_mem = NULL;
	c->key_mem_len = 0;
	explicit_bzero(&c->rsa, sizeof c->rsa);
	explicit_bzero(&c->ec, sizeof c->ec);
	c->key_type = 0;
}

static void
free_chain(struct https_client *c)
{
	size_t i;

	for (i = 0; i < c->chain_len; i++)
		free(c->chain[i].data);
	free(c->chain);
	c->chain = NULL;
	c->chain_len = 0;
}

static int
load_chain(struct https_client *c, const char *path, char *err, size_t errlen)
{
	struct trust_pem_obj *o;
	br_x509_decoder_context dc;
	size_t n, i;

	if (trust_pem_read(path, &o, &n, err, errlen) == -1)
		return -1;
	if ((c->chain = calloc(n ? n : 1, sizeof *c->chain)) == NULL) {
		trust_pem_free(o, n);
		seterr(err, errlen, "%s: out of memory", path);
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (strcmp(o[i].name, "CERTIFICATE") != 0 &&
		    strcmp(o[i].name, "X509 CERTIFICATE") != 0)
			continue;
		c->chain[c->chain_len].data = o[i].data;	/* ownership moves */
		c->chain[c->chain_len].data_len = o[i].len;
		c->chain_len++;
		o[i].data = NULL;
	}
	trust_pem_free(o, n);
	if (c->chain_len == 0) {
		seterr(err, errlen, "%s: no certificate found", path);
		return -1;
	}
	/* static ECDH needs to know who signed our certificate (TLS 1.0/1.1 only) */
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, c->chain[0].data, c->chain[0].data_len);
	if (br_x509_decoder_get_pkey(&dc) == NULL) {
		seterr(err, errlen, "%s: cannot decode the client certificate (BearSSL "
		    "error %d)", path, br_x509_decoder_last_error(&dc));
		return -1;
	}
	c->issuer_key_type = (unsigned)br_x509_decoder_get_signer_key_type(&dc);
	return 0;
}

/* Copies the decoded key into one owned, wipeable allocation. */
static int
load_key(struct https_client *c, const char *path, char *err, size_t errlen)
{
	struct trust_pem_obj *o;
	br_skey_decoder_context kd;
	const br_rsa_private_key *rk;
	const br_ec_private_key *ek;
	size_t n, i, len;
	unsigned char *m;
	int found = 0, r = -1;

	if (trust_pem_read(path, &o, &n, err, errlen) == -1)
		return -1;
	br_skey_decoder_init(&kd);
	for (i = 0; i < n && !found; i++) {
		if (strcmp(o[i].name, "PRIVATE KEY") == 0 ||
		    strcmp(o[i].name, "RSA PRIVATE KEY") == 0 ||
		    strcmp(o[i].name, "EC PRIVATE KEY") == 0) {
			br_skey_decoder_push(&kd, o[i].data, o[i].len);
			found = 1;
		}
	}
	if (!found) {
		seterr(err, errlen, "%s: no private key found (PEM PRIVATE KEY, RSA "
		    "PRIVATE KEY or EC PRIVATE KEY)", path);
		goto out;
	}
	if (br_skey_decoder_last_error(&kd) != 0) {
		seterr(err, errlen, "%s: cannot decode the private key (BearSSL error "
		    "%d; encrypted keys are not supported)", path,
		    br_skey_decoder_last_error(&kd));
		goto out;
	}
	switch (br_skey_decoder_key_type(&kd)) {
	case BR_KEYTYPE_RSA:
		rk = br_skey_decoder_get_rsa(&kd);
		len = rk->plen + rk->qlen + rk->dplen + rk->dqlen + rk->iqlen;
		if ((m = malloc(len)) == NULL)
			break;
		c->rsa.n_bitlen = rk->n_bitlen;
		c->rsa.p = m;
		memcpy(m, rk->p, c->rsa.plen = rk->plen);
		c->rsa.q = m += rk->plen;
		memcpy(m, rk->q, c->rsa.qlen = rk->qlen);
		c->rsa.dp = m += rk->qlen;
		memcpy(m, rk->dp, c->rsa.dplen = rk->dplen);
		c->rsa.dq = m += rk->dplen;
		memcpy(m, rk->dq, c->rsa.dqlen = rk->dqlen);
		c->rsa.iq = m += rk->dqlen;
		memcpy(m, rk->iq, c->rsa.iqlen = rk->iqlen);
		c->key_mem = c->rsa.p;
		c->key_mem_len = len;
		c->key_type = BR_KEYTYPE_RSA;
		r = 0;
		break;
	case BR_KEYTYPE_EC:
		ek = br_skey_decoder_get_ec(&kd);
		if ((m = malloc(ek->xlen)) == NULL)
			break;
		memcpy(m, ek->x, ek->xlen);
		c->ec.curve = ek->curve;
		c->ec.x = m;
		c->ec.xlen = ek->xlen;
		c->key_mem = m;
		c->key_mem_len = ek->xlen;
		c->key_type = BR_KEYTYPE_EC;
		r = 0;
		break;
	default:
		seterr(err, errlen, "%s: unsupported private key type", path);
		goto out;
	}
	if (r == -1)
		seterr(err, errlen, "%s: out of memory", path);
out:
	explicit_bzero(&kd, sizeof kd);
	trust_pem_free(o, n);
	return r;
}

/* see https.h */
struct https_client *
https_client_new(const char *anchors_path, const char *client_cert,
    const char *client_key, char *err, size_t errlen)
{
	struct https_client *c;
	int has_cert = client_cert != NULL && *client_cert != '\0';
	int has_key = client_key != NULL && *client_key != '\0';

	if (has_cert != has_key) {
		seterr(err, errlen, "a client certificate needs its key and a key its "
		    "certificate");
		return NULL;
	}
	if ((c = calloc(1, sizeof *c)) == NULL) {
		seterr(err, errlen, "out of memory");
		return NULL;
	}
	c->ka_fd = -1;
	if (trust_load(anchors_path, &c->anchors, err, errlen) == -1)
		goto fail;
	if (has_cert && (load_chain(c, client_cert, err, errlen) == -1 ||
	    load_key(c, client_key, err, errlen) == -1))
		goto fail;
	return c;
fail:
	https_client_free(c);
	return NULL;
}

/* see https.h */
void
https_client_free(struct https_client *c)
{
	if (c == NULL)
		return;
	ka_drop(c);
	free_key(c);
	free_chain(c);
	trust_free(&c->anchors);
	/* the engine contexts and buffers held keys, master secrets and plaintext */
	explicit_bzero(c, sizeof *c);
	free(c);
}

/* ---- name resolution ---------------------------------------------------------------- */

/* getaddrinfo() cannot be interrupted, so a name is resolved on a detached thread and
 * waited for with the deadline. Whoever finishes last (waiter or thread) frees it. */
struct dnsreq {
	atomic_int		 refs;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	int			 done;
	int			 rc;
	struct addrinfo		*res;
	char			 host[HTTP_HOST_MAX];
	char			 port[6];
};

static void
dnsreq_unref(struct dnsreq *r)
{
	if (atomic_fetch_sub(&r->refs, 1) != 1)
		return;
	if (r->res != NULL)
		freeaddrinfo(r->res);
	pthread_cond_destroy(&r->cv);
	pthread_mutex_destroy(&r->mu);
	free(r);
}

static void *
dns_thread(void *arg)
{
	struct dnsreq *r = arg;
	struct addrinfo hints, *res = NULL;
	int rc;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG | AI_NUMERICSERV;
	rc = getaddrinfo(r->host, r->port, &hints, &res);
	pthread_mutex_lock(&r->mu);
	r->rc = rc;
	r->res = rc == 0 ? res : NULL;
	r->done = 1;
	pthread_cond_signal(&r->cv);
	pthread_mutex_unlock(&r->mu);
	dnsreq_unref(r);
	return NULL;
}

/* Resolves u->host. IP literals never leave this thread. Returns 0 with *out, or -1
 * with res filled. */
static int
resolve(const struct http_url *u, long long deadline, struct addrinfo **out,
    struct https_result *res)
{
	struct addrinfo hints;
	struct dnsreq *r;
	pthread_attr_t ta;
	pthread_t tid;
	struct timespec ts;
	long long left;
	int rc, waitrc = 0;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
	if (getaddrinfo(u->host, u->port, &hints, out) == 0)
		return 0;

	if ((r = calloc(1, sizeof *r)) == NULL) {
		fail(res, "dns", "%s: out of memory", u->host);
		return -1;
	}
	atomic_init(&r->refs, 2);
	(void)snprintf(r->host, sizeof r->host, "%s", u->host);
	(void)snprintf(r->port, sizeof r->port, "%s", u->port);
	pthread_mutex_init(&r->mu, NULL);
	clock_cond_init(&r->cv);
	pthread_attr_init(&ta);
	pthread_attr_setdetachstate(&ta, PTHREAD_CREATE_DETACHED);
	rc = pthread_create(&tid, &ta, dns_thread, r);
	pthread_attr_destroy(&ta);
	if (rc != 0) {
		atomic_store(&r->refs, 1);
		dnsreq_unref(r);
		fail(res, "dns", "%s: cannot start the resolver: %s", u->host,
		    strerror(rc));
		return -1;
	}

	/* the deadline is in clock_mono_ms() terms, which are CLOCK_MONOTONIC */
	ts.tv_sec = deadline / 1000;
	ts.tv_nsec = (long)(deadline % 1000) * 1000000;
	pthread_mutex_lock(&r->mu);
	while (!r->done && waitrc != ETIMEDOUT)
		waitrc = pthread_cond_timedwait(&r->cv, &r->mu, &ts);
	if (r->done) {
		rc = r->rc;
		*out = r->res;
		r->res = NULL;		/* ours now */
	}
	left = r->done;
	pthread_mutex_unlock(&r->mu);
	dnsreq_unref(r);

	if (!left) {
		fail(res, "timeout", "%s: name resolution did not finish in time",
		    u->host);
		return -1;
	}
	if (rc != 0) {
		fail(res, "dns", "%s: cannot resolve: %s", u->host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

/* ---- connect ------------------------------------------------------------------------ */

static void
addr_str(const struct addrinfo *ai, char *buf, size_t len)
{
	const void *a = ai->ai_family == AF_INET6 ?
	    (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr :
	    (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr;

	if (inet_ntop(ai->ai_family, a, buf, (socklen_t)len) == NULL)
		(void)snprintf(buf, len, "?");
}

/* Tries each address in turn; each gets an equal share of what is left of the deadline
 * so one black-holed address does not starve the next. */
static int
connect_any(const struct http_url *u, struct addrinfo *list, long long deadline,
    struct https_result *res)
{
	struct addrinfo *ai;
	struct pollfd pfd;
	char addr[INET6_ADDRSTRLEN];
	int fd, n = 0, left, soerr, one = 1;
	socklen_t sl;
	long long slice_end;

	for (ai = list; ai != NULL; ai = ai->ai_next)
		n++;
	fail(res, "connect", "%s: no address to connect to", u->host);
	for (ai = list; ai != NULL; ai = ai->ai_next, n--) {
		if ((left = remaining_ms(deadline)) == 0)
			break;
		slice_end = clock_mono_ms() + left / n;
		if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
			continue;
		addr_str(ai, addr, sizeof addr);
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd == -1) {
			fail(res, "connect", "%s: socket: %s", u->host, strerror(errno));
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			goto connected;
		if (errno != EINPROGRESS) {
			fail(res, "connect", "%s (%s) port %s: %s", u->host, addr, u->port,
			    strerror(errno));
			close(fd);
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		for (;;) {
			int r = poll(&pfd, 1, remaining_ms(slice_end));

			if (r == -1 && errno == EINTR)
				continue;
			if (r <= 0) {
				fail(res, "timeout", "%s (%s) port %s: connect timed out",
				    u->host, addr, u->port);
				break;
			}
			sl = sizeof soerr;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
				soerr = errno;
			if (soerr == 0)
				goto connected;
			fail(res, "connect", "%s (%s) port %s: %s", u->host, addr, u->port,
			    strerror(soerr));
			break;
		}
		close(fd);
	}
	if (remaining_ms(deadline) == 0)
		fail(res, "timeout", "%s port %s: no connection within the time limit",
		    u->host, u->port);
	return -1;
connected:
	/* the request goes out in one flush; don't let Nagle hold its tail */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	res->code[0] = '\0';
	res->detail[0] = '\0';
	return fd;
}

/* ---- the engine, driven from poll() -------------------------------------------------- */

/* Runs the engine until `want` (BR_SSL_SENDAPP or BR_SSL_RECVAPP) is possible, or, with
 * want 0, until every pending record is written. Never blocks past the deadline. */
static enum pump
pump(struct conn *cn, unsigned want)
{
	br_ssl_engine_context *eng = &cn->c->cc.eng;
	struct pollfd pfd;
	unsigned st;
	unsigned char *buf;
	size_t len;
	ssize_t n;
	int r, ms;

	for (;;) {
		st = br_ssl_engine_current_state(eng);
		if (st & BR_SSL_CLOSED)
			return PUMP_CLOSED;
		pfd.events = 0;
		if ((st & BR_SSL_SENDREC) && !cn->wdead) {
			buf = br_ssl_engine_sendrec_buf(eng, &len);
			n = send(cn->fd, buf, len, MSG_NOSIGNAL);
			if (n > 0) {
				br_ssl_engine_sendrec_ack(eng, (size_t)n);
				continue;
			}
			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK) {
				/* the peer may have closed right after a fatal alert (a
				 * refused client certificate): read it rather than report
				 * a bare EPIPE, but only for a moment */
				cn->io_errno = errno;
				cn->wdead = 1;
				if (want == 0 || !(st & BR_SSL_RECVREC))
					return PUMP_IO;
				if (cn->deadline > clock_mono_ms() + HTTPS_CLOSE_MS)
					cn->deadline = clock_mono_ms() + HTTPS_CLOSE_MS;
				continue;
			}
			pfd.events |= POLLOUT;
		}
		if (want != 0 && (st & want))
			return PUMP_OK;
		if (want == 0 && !(st & BR_SSL_SENDREC))
			return PUMP_OK;
		if ((st & BR_SSL_RECVREC) && want != 0) {
			if (cn->tcp_eof)
				return PUMP_EOF;
			buf = br_ssl_engine_recvrec_buf(eng, &len);
			n = recv(cn->fd, buf, len, 0);
			if (n > 0) {
				br_ssl_engine_recvrec_ack(eng, (size_t)n);
				continue;
			}
			if (n == 0) {
				cn->tcp_eof = 1;
				return cn->wdead ? PUMP_IO : PUMP_EOF;
			}
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				cn->io_errno = errno;
				return PUMP_IO;
			}
			pfd.events |= POLLIN;
		}
		if (pfd.events == 0) {
			if (!cn->wdead)		/* nothing to wait for: engine stuck */
				cn->io_errno = EPROTO;
			return PUMP_IO;
		}
		if ((ms = remaining_ms(cn->deadline)) == 0)
			return cn->wdead ? PUMP_IO : PUMP_TIMEOUT;
		pfd.fd = cn->fd;
		r = poll(&pfd, 1, ms);
		if (r == -1 && errno != EINTR) {
			cn->io_errno = errno;
			return PUMP_IO;
		}
		if (r == 0)
			return PUMP_TIMEOUT;
	}
}

/* Turns a failed pump into res. */
static void
pump_fail(struct conn *cn, enum pump p, const struct http_url *u, const char *what,
    struct https_result *res)
{
	int err = br_ssl_engine_last_error(&cn->c->cc.eng);

	switch (p) {
	case PUMP_TIMEOUT:
		fail(res, "timeout", "%s: no answer in time (%s)", u->host, what);
		break;
	case PUMP_EOF:
		fail(res, "io", "%s: connection closed by the server (%s)", u->host,
		    what);
		break;
	case PUMP_IO:
		if (err == 0 || err == BR_ERR_IO)
			fail(res, "io", "%s: network error (%s): %s", u->host, what,
			    strerror(cn->io_errno));
		else
			tls_fail(res, u, err);
		break;
	case PUMP_CLOSED:
		if (err == 0)
			fail(res, "io", "%s: TLS connection closed by the server (%s)",
			    u->host, what);
		else
			tls_fail(res, u, err);
		break;
	case PUMP_OK:
		break;
	}
}

static int
app_write(struct conn *cn, const void *data, size_t len, enum pump *why)
{
	br_ssl_engine_context *eng = &cn->c->cc.eng;
	const unsigned char *p = data;
	unsigned char *buf;
	size_t alen;

	while (len > 0) {
		if ((*why = pump(cn, BR_SSL_SENDAPP)) != PUMP_OK)
			return -1;
		buf = br_ssl_engine_sendapp_buf(eng, &alen);
		if (alen > len)
			alen = len;
		memcpy(buf, p, alen);
		br_ssl_engine_sendapp_ack(eng, alen);
		p += alen;
		len -= alen;
	}
	return 0;
}

static void
session_key(const struct http_url *u, char *buf, size_t len)
{
	(void)snprintf(buf, len, "%s:%s", u->host, u->port);
}

/* TCP connect and TLS handshake; resumes the cached session for this host:port. */
static int
conn_open(struct conn *cn, struct https_client *c, const struct http_url *u,
    long long deadline, struct https_result *res)
{
	struct addrinfo *ai;
	br_ssl_session_parameters sp;
	char key[sizeof c->session_key];
	unsigned char ip[16];
	enum pump p;
	int ip4;

	memset(cn, 0, sizeof *cn);
	cn->c = c;
	cn->fd = -1;
	cn->deadline = deadline;

	if (resolve(u, deadline, &ai, res) == -1)
		return -1;
	cn->fd = connect_any(u, ai, deadline, res);
	freeaddrinfo(ai);
	if (cn->fd == -1)
		return -1;

	br_ssl_client_init_full(&c->cc, &c->xc, c->anchors.ta, c->anchors.n);
	br_ssl_engine_set_buffer(&c->cc.eng, c->iobuf, sizeof c->iobuf, 1);
	if (c->key_type == BR_KEYTYPE_RSA)
		br_ssl_client_set_single_rsa(&c->cc, c->chain, c->chain_len, &c->rsa,
		    br_rsa_pkcs1_sign_get_default());
	else if (c->key_type == BR_KEYTYPE_EC)
		br_ssl_client_set_single_ec(&c->cc, c->chain, c->chain_len, &c->ec,
		    BR_KEYTYPE_SIGN, c->issuer_key_type,
		    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());

	ip4 = inet_pton(AF_INET, u->host, ip) == 1;
	memset(&c->ipc, 0, offsetof(struct ipcheck, ee));
	c->ipc.vtable = &ipc_vtable;
	c->ipc.inner = &c->xc.vtable;
	if (ip4 || inet_pton(AF_INET6, u->host, ip) == 1) {
		c->ipc.active = 1;
		c->ipc.iplen = ip4 ? 4 : 16;
		memcpy(c->ipc.ip, ip, c->ipc.iplen);
	}
	br_ssl_engine_set_x509(&c->cc.eng, &c->ipc.vtable);

	session_key(u, key, sizeof key);
	if (c->have_session && strcmp(key, c->session_key) == 0) {
		br_ssl_engine_set_session_parameters(&c->cc.eng, &c->session);
		cn->offered = 1;
		memcpy(cn->offered_id, c->session.session_id, sizeof cn->offered_id);
		cn->offered_id_len = c->session.session_id_len;
	}
	/* with an IP literal: no SNI (RFC 6066) and the name is checked by ipcheck */
	if (!br_ssl_client_reset(&c->cc, c->ipc.active ? NULL : u->host, cn->offered)) {
		tls_fail(res, u, br_ssl_engine_last_error(&c->cc.eng));
		return -1;
	}

	/* SENDAPP appears once the handshake is over */
	if ((p = pump(cn, BR_SSL_SENDAPP)) != PUMP_OK) {
		pump_fail(cn, p, u, "TLS handshake", res);
		/* a session the server refuses, or one for a certificate that no longer
		 * verifies, must not be offered again */
		c->have_session = 0;
		explicit_bzero(&c->session, sizeof c->session);
		return -1;
	}
	br_ssl_engine_get_session_parameters(&c->cc.eng, &sp);
	res->resumed = cn->offered && sp.session_id_len > 0 &&
	    sp.session_id_len == cn->offered_id_len &&
	    memcmp(sp.session_id, cn->offered_id, sp.session_id_len) == 0;
	if (sp.session_id_len > 0) {
		c->session = sp;
		(void)snprintf(c->session_key, sizeof c->session_key, "%s", key);
		c->have_session = 1;
	} else {
		c->have_session = 0;	/* server does not cache sessions */
	}
	explicit_bzero(&sp, sizeof sp);
	return 0;
}

/* Bounded close: queue close_notify, give it a moment to leave, never wait for the
 * peer's. */
static void
conn_close(struct conn *cn)
{
	long long d;

	if (cn->fd == -1)
		return;
	if (!(br_ssl_engine_current_state(&cn->c->cc.eng) & BR_SSL_CLOSED)) {
		br_ssl_engine_close(&cn->c->cc.eng);
		d = clock_mono_ms() + HTTPS_CLOSE_MS;
		if (d < cn->deadline)
			cn->deadline = d;
		(void)pump(cn, 0);
	}
	close(cn->fd);
	cn->fd = -1;
}

/* "Name: value\r\n"... only: anything else could split or smuggle a request. */
static int
extra_headers_ok(const char *h)
{
	size_t i = 0, n;

	if (strlen(h) > HTTPS_EXTRA_MAX)
		return 0;
	while (h[i] != '\0') {
		for (n = 0; h[i] != ':' && h[i] != '\0'; i++, n++)
			if (h[i] <= 0x20 || h[i] >= 0x7f || strchr("\"(),/;<=>?@[\\]{}",
			    h[i]) != NULL)
				return 0;
		if (n == 0 || h[i] != ':')
			return 0;
		for (i++; h[i] != '\r'; i++)
			if (h[i] == '\0' || h[i] == '\n' || (h[i] < 0x20 && h[i] != '\t') ||
			    h[i] == 0x7f)
				return 0;
		if (h[i + 1] != '\n')
			return 0;
		i += 2;
	}
	return 1;
}

static int
path_ok(const char *p)
{
	if (p[0] != '/')
		return 0;
	for (; *p != '\0'; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

/* Sends the request and reads the response into c->rbuf. */
static int
conn_request(struct conn *cn, const struct http_url *u, const char *extra,
    const char *body, size_t body_len, struct https_result *res)
{
	struct https_client *c = cn->c;
	br_ssl_engine_context *eng = &c->cc.eng;
	struct http_response hr;
	char head[HTTP_PATH_MAX + HTTP_HOST_MAX + 512];
	const unsigned char *ab;
	size_t rlen = 0, alen;
	enum pump p;
	int n, v6 = strchr(u->host, ':') != NULL, r;

	n = snprintf(head, sizeof head,
	    "POST %s HTTP/1.1\r\n"
	    "Host: %s%s%s%s%s\r\n"
	    "Content-Type: application/json\r\n"
	    "Accept: application/json\r\n"
	    "User-Agent: cardupd/%s\r\n"
	    "Content-Length: %zu\r\n"
	    "Connection: keep-alive\r\n",
	    u->path, v6 ? "[" : "", u->host, v6 ? "]" : "",
	    strcmp(u->port, "443") != 0 ? ":" : "",
	    strcmp(u->port, "443") != 0 ? u->port : "",
	    CARDUPD_VERSION, body_len);
	if (n < 0 || (size_t)n >= sizeof head) {
		fail(res, "io", "%s: request line too long", u->host);
		return -1;
	}
	if (app_write(cn, head, (size_t)n, &p) == -1 ||
	    (extra != NULL && app_write(cn, extra, strlen(extra), &p) == -1) ||
	    app_write(cn, "\r\n", 2, &p) == -1 ||
	    app_write(cn, body, body_len, &p) == -1) {
		pump_fail(cn, p, u, "sending the request", res);
		return -1;
	}
	br_ssl_engine_flush(eng, 0);

	for (;;) {
		p = pump(cn, BR_SSL_RECVAPP);
		if (p == PUMP_CLOSED && br_ssl_engine_last_error(eng) == BR_ERR_OK) {
			/* close_notify: a clean end of stream, read-until-close is safe */
			r = http_parse_response(c->rbuf, rlen, 1,
			    CONFIG_CMS_MAX_RESPONSE_BYTES, &hr);
			if (r == 1)
				break;
			fail(res, "bad_response", "%s: %s", u->host, rlen == 0 ?
			    "the server closed the connection without answering" :
			    "malformed or incomplete HTTP response");
			return -1;
		}
		if (p != PUMP_OK) {
			/* a TCP close without close_notify may be a truncation: only a
			 * response whose length was announced is complete */
			pump_fail(cn, p, u, rlen == 0 ? "waiting for the response" :
			    "reading the response", res);
			return -1;
		}
		ab = br_ssl_engine_recvapp_buf(eng, &alen);
		if (alen > sizeof c->rbuf - rlen)
			alen = sizeof c->rbuf - rlen;
		if (alen == 0) {
			fail(res, "bad_response", "%s: response larger than %zu bytes",
			    u->host, sizeof c->rbuf);
			return -1;
		}
		memcpy(c->rbuf + rlen, ab, alen);
		br_ssl_engine_recvapp_ack(eng, alen);
		rlen += alen;
		cn->got = rlen;
		r = http_parse_response(c->rbuf, rlen, 0, CONFIG_CMS_MAX_RESPONSE_BYTES,
		    &hr);
		if (r == 1)
			break;
		if (r == -1) {
			fail(res, "bad_response", "%s: malformed HTTP response or over a "
			    "limit (%zu bytes received)", u->host, rlen);
			return -1;
		}
	}
	/* reusable only when the server allows it and nothing follows the response:
	 * stray bytes would be taken for the start of the next one */
	cn->keep = hr.keep_alive && hr.consumed == rlen &&
	    !(br_ssl_engine_current_state(eng) & (BR_SSL_RECVAPP | BR_SSL_CLOSED));
	res->status = hr.status;
	memcpy(res->retry_after, hr.retry_after, sizeof res->retry_after);
	memcpy(res->content_type, hr.content_type, sizeof res->content_type);
	res->body = hr.body;
	res->body_len = hr.body_len;
	return 0;
}

/* ---- keep-alive ------------------------------------------------------------------ */

/* Closes the kept connection, if any (close_notify, bounded). */
static void
ka_drop(struct https_client *c)
{
	struct conn cn;

	if (c->ka_fd == -1)
		return;
	memset(&cn, 0, sizeof cn);
	cn.c = c;
	cn.fd = c->ka_fd;
	cn.deadline = clock_mono_ms() + HTTPS_CLOSE_MS;
	c->ka_fd = -1;
	conn_close(&cn);
}

/* 1 when the kept connection may carry a request to key now: same host:port, not idle
 * too long, not used up, and nothing arrived on it while idle. A server that ended it
 * sent close_notify and/or FIN (readable), or RST (POLLERR/POLLHUP); anything else
 * readable on an idle HTTP/1.1 connection is out of protocol. None of these is
 * consumed: the connection is closed either way. */
static int
ka_usable(struct https_client *c, const char *key, long long now)
{
	struct pollfd pfd;
	int r;

	if (c->ka_fd == -1 || strcmp(key, c->ka_key) != 0 ||
	    now - c->ka_idle_since >= HTTPS_KEEPALIVE_IDLE_MS ||
	    c->ka_uses >= HTTPS_KEEPALIVE_MAX_USES)
		return 0;
	if (!(br_ssl_engine_current_state(&c->cc.eng) & BR_SSL_SENDAPP))
		return 0;
	pfd.fd = c->ka_fd;
	pfd.events = POLLIN;
	pfd.revents = 0;
	while ((r = poll(&pfd, 1, 0)) == -1 && errno == EINTR)
		;
	return r == 0;
}

/* see https.h */
int
https_post(struct https_client *c, const struct http_url *u,
    const char *extra_headers, const char *body, size_t body_len, int timeout_ms,
    struct https_result *res)
{
	struct conn cn;
	char key[sizeof c->session_key];
	long long deadline;
	unsigned uses = 0;
	int r;

	memset(res, 0, sizeof *res);
	if (c == NULL || u == NULL || (body == NULL && body_len > 0) || timeout_ms <= 0) {
		fail(res, "io", "https_post: bad arguments");
		return -1;
	}
	if (u->host[0] == '\0' || !path_ok(u->path) ||
	    strspn(u->port, "0123456789") != strlen(u->port) || u->port[0] == '\0') {
		fail(res, "io", "https_post: bad URL");
		return -1;
	}
	if (extra_headers != NULL && !extra_headers_ok(extra_headers)) {
		fail(res, "io", "https_post: malformed extra headers");
		return -1;
	}
	if (body == NULL)
		body = "";
	deadline = clock_mono_ms() + timeout_ms;
	session_key(u, key, sizeof key);

	if (ka_usable(c, key, clock_mono_ms())) {
		memset(&cn, 0, sizeof cn);
		cn.c = c;
		cn.fd = c->ka_fd;
		cn.deadline = deadline;
		uses = c->ka_uses;
		c->ka_fd = -1;			/* ours now, kept again only on success */
		res->reused = 1;
		r = conn_request(&cn, u, extra_headers, body, body_len, res);
		if (r == 0 || cn.got > 0 || strcmp(res->code, "timeout") == 0 ||
		    remaining_ms(deadline) == 0)
			goto done;
		/* the server dropped it before answering (its idle timeout racing our
		 * request): once more on a fresh connection, same deadline */
		close(cn.fd);
		memset(res, 0, sizeof *res);
		uses = 0;
	}
	ka_drop(c);

	if (conn_open(&cn, c, u, deadline, res) == -1) {
		if (cn.fd != -1)
			close(cn.fd);
		return -1;
	}
	r = conn_request(&cn, u, extra_headers, body, body_len, res);
done:
	if (r == 0 && cn.keep) {
		c->ka_fd = cn.fd;
		(void)snprintf(c->ka_key, sizeof c->ka_key, "%s", key);
		c->ka_idle_since = clock_mono_ms();
		c->ka_uses = uses + 1;
		res->kept = 1;
	} else {
		conn_close(&cn);
	}
	if (r == -1) {
		res->body = NULL;
		res->body_len = 0;
	}
	return r;
}
