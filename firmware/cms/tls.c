/* SPDX-License-Identifier: BSD-2-Clause */
/* tls.c — see tls.h. The engine is set up by hand rather than with
 * br_ssl_client_init_full(), which enables TLS 1.0-1.2, static RSA and ECDH, CBC and
 * 3DES suites and every hash down to MD5. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/civil.h"
#include "core/tls_peek.h"
#include "core/tls_policy.h"
#include "core/x509_walk.h"
#include "cms/tls.h"

/* ---- the policy ---------------------------------------------------------------------- */

/* TLS 1.2, forward secrecy and AEAD only: core/tls_policy.c, shared with the admin
 * listener. */

/* SHA-2 only: without MD5 and SHA-1 the engine neither offers nor accepts them for
 * handshake signatures, and the X.509 engine cannot verify a certificate signed with
 * them. (TLS 1.2 with AEAD suites needs neither: its PRF is SHA-256 or SHA-384.) */
static const struct {
	int			 id;
	const br_hash_class	*impl;
} hashes[] = {
	{ br_sha224_ID, &br_sha224_vtable },
	{ br_sha256_ID, &br_sha256_vtable },
	{ br_sha384_ID, &br_sha384_vtable },
	{ br_sha512_ID, &br_sha512_vtable },
};

static const br_x509_class xcheck_vtable;

/* The symmetric back-ends, chosen once per process: BearSSL's default_* set-ups ask
 * the CPU (CPUID, a trap to the hypervisor in a VM) on every connection. The fastest
 * the CPU has, else the constant-time portable code BearSSL itself falls back to. */
static struct {
	const br_block_ctr_class	*aes_ctr;
	br_ghash			 ghash;
	br_chacha20_run			 chacha20;
	br_poly1305_run			 poly1305;
} be;
static pthread_once_t be_once = PTHREAD_ONCE_INIT;

static void
be_choose(void)
{
	int wide = sizeof(void *) >= 8;

	if ((be.aes_ctr = br_aes_x86ni_ctr_get_vtable()) == NULL &&
	    (be.aes_ctr = br_aes_pwr8_ctr_get_vtable()) == NULL)
		be.aes_ctr = wide ? &br_aes_ct64_ctr_vtable : &br_aes_ct_ctr_vtable;
	if ((be.ghash = br_ghash_pclmul_get()) == 0 &&
	    (be.ghash = br_ghash_pwr8_get()) == 0)
		be.ghash = wide ? br_ghash_ctmul64 : br_ghash_ctmul;
	if ((be.chacha20 = br_chacha20_sse2_get()) == 0)
		be.chacha20 = br_chacha20_ct_run;
	if ((be.poly1305 = br_poly1305_ctmulq_get()) == 0)
		be.poly1305 = br_poly1305_ctmul_run;
}

/* see tls.h */
const char *
tls_setup(br_ssl_client_context *cc, br_x509_minimal_context *xc,
    struct tls_xcheck *xk, const struct cms_creds *cr, unsigned char *iobuf,
    size_t iolen, const char *host)
{
	br_ssl_engine_context *eng = &cc->eng;
	unsigned char ip[16];
	size_t i;
	int ip4;

	br_ssl_client_zero(cc);
	tls_policy_apply(eng);
	br_x509_minimal_init(xc, &br_sha256_vtable, cr->anchors.ta, cr->anchors.n);
	for (i = 0; i < sizeof hashes / sizeof hashes[0]; i++) {
		br_ssl_engine_set_hash(eng, hashes[i].id, hashes[i].impl);
		br_x509_minimal_set_hash(xc, hashes[i].id, hashes[i].impl);
	}
	br_ssl_engine_set_prf_sha256(eng, &br_tls12_sha256_prf);
	br_ssl_engine_set_prf_sha384(eng, &br_tls12_sha384_prf);
	/* AES-NI or POWER8 AES with PCLMULQDQ/POWER8 GHASH, SSE2 ChaCha20 with the
	 * 64-bit-multiply Poly1305 when the CPU has them (be_choose); the i62/i31 RSA
	 * verifier and BearSSL's fastest EC code (P-256 and Curve25519 with 31-bit limbs:
	 * this BearSSL has no 64-bit EC code) through the default set-ups, which ask the
	 * CPU nothing. No static-RSA key exchange back-end
	 * (br_ssl_client_set_default_rsapub) is installed: nothing could use it. */
	(void)pthread_once(&be_once, be_choose);
	br_ssl_engine_set_default_rsavrfy(eng);
	br_ssl_engine_set_default_ecdsa(eng);
	br_ssl_engine_set_aes_ctr(eng, be.aes_ctr);
	br_ssl_engine_set_ghash(eng, be.ghash);
	br_ssl_engine_set_gcm(eng, &br_sslrec_in_gcm_vtable, &br_sslrec_out_gcm_vtable);
	br_ssl_engine_set_chacha20(eng, be.chacha20);
	br_ssl_engine_set_poly1305(eng, be.poly1305);
	br_ssl_engine_set_chapol(eng, &br_sslrec_in_chapol_vtable,
	    &br_sslrec_out_chapol_vtable);
	br_x509_minimal_set_rsa(xc, br_ssl_engine_get_rsavrfy(eng));
	br_x509_minimal_set_ecdsa(xc, br_ssl_engine_get_ec(eng),
	    br_ssl_engine_get_ecdsa(eng));
	br_ssl_engine_set_buffer(eng, iobuf, iolen, 1);

	if (cr->has_cred && cr->cred.key_type == BR_KEYTYPE_RSA)
		br_ssl_client_set_single_rsa(cc, cr->cred.chain, cr->cred.chain_len,
		    &cr->cred.rsa, br_rsa_pkcs1_sign_get_default());
	else if (cr->has_cred && cr->cred.key_type == BR_KEYTYPE_EC)
		br_ssl_client_set_single_ec(cc, cr->cred.chain, cr->cred.chain_len,
		    &cr->cred.ec, BR_KEYTYPE_SIGN, cr->cred.issuer_key_type,
		    br_ec_get_default(), br_ecdsa_sign_asn1_get_default());

	memset(xk, 0, offsetof(struct tls_xcheck, cert));
	xk->vtable = &xcheck_vtable;
	xk->inner = &xc->vtable;
	ip4 = inet_pton(AF_INET, host, ip) == 1;
	if (ip4 || inet_pton(AF_INET6, host, ip) == 1) {
		xk->ip_active = 1;
		xk->iplen = ip4 ? 4 : 16;
		memcpy(xk->ip, ip, xk->iplen);
	}
	br_ssl_engine_set_x509(eng, &xk->vtable);
	return xk->ip_active ? NULL : host;
}

/* see tls.h */
const char *
tls_setup_probe(br_ssl_client_context *cc, br_x509_minimal_context *xc,
    const struct cms_creds *cr, unsigned char *iobuf, size_t iolen, const char *host)
{
	unsigned char ip[16];

	br_ssl_client_init_full(cc, xc, cr->anchors.ta, cr->anchors.n);
	br_ssl_engine_set_buffer(&cc->eng, iobuf, iolen, 1);
	return inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1 ?
	    NULL : host;
}

/* see tls.h */
int
tls_refused_hello(const unsigned char *peek, size_t peek_len)
{
	struct tls_peek pk;

	tls_peek_server(peek, peek_len, &pk);
	return pk.kind == TLS_PEEK_ALERT;
}

/* ---- the X.509 wrapper ------------------------------------------------------------- */

static void
xk_start_chain(const br_x509_class **ctx, const char *server_name)
{
	struct tls_xcheck *x = (struct tls_xcheck *)(void *)ctx;

	x->ncert = 0;
	x->ee_ip_ok = 0;
	x->weak_sig = 0;
	(*x->inner)->start_chain(x->inner, x->ip_active ? NULL : server_name);
}

static void
xk_start_cert(const br_x509_class **ctx, uint32_t length)
{
	struct tls_xcheck *x = (struct tls_xcheck *)(void *)ctx;

	x->cert_len = 0;
	x->cert_over = 0;
	(*x->inner)->start_cert(x->inner, length);
}

static void
xk_append(const br_x509_class **ctx, const unsigned char *buf, size_t len)
{
	struct tls_xcheck *x = (struct tls_xcheck *)(void *)ctx;

	if (len > sizeof x->cert - x->cert_len)
		x->cert_over = 1;
	else {
		memcpy(x->cert + x->cert_len, buf, len);
		x->cert_len += len;
	}
	(*x->inner)->append(x->inner, buf, len);
}

static void
xk_end_cert(const br_x509_class **ctx)
{
	struct tls_xcheck *x = (struct tls_xcheck *)(void *)ctx;
	enum x509_sig s;

	if (!x->cert_over) {
		if (x->ncert == 0 && x->ip_active)
			x->ee_ip_ok = x509_has_ip(x->cert, x->cert_len, x->ip, x->iplen);
		if ((s = x509_sig_hash(x->cert, x->cert_len)) > 0 && x->weak_sig == 0)
			x->weak_sig = (int)s;
	}
	x->ncert++;
	(*x->inner)->end_cert(x->inner);
}

static unsigned
xk_end_chain(const br_x509_class **ctx)
{
	struct tls_xcheck *x = (struct tls_xcheck *)(void *)ctx;
	unsigned r;

	r = (*x->inner)->end_chain(x->inner);
	if (r != 0 || !x->ip_active)
		return r;
	if (!x->ee_ip_ok)
		return BR_ERR_X509_BAD_SERVER_NAME;
	return 0;
}

static const br_x509_pkey *
xk_get_pkey(const br_x509_class *const *ctx, unsigned *usages)
{
	const struct tls_xcheck *x = (const struct tls_xcheck *)(const void *)ctx;

	return (*x->inner)->get_pkey(x->inner, usages);
}

static const br_x509_class xcheck_vtable = {
	sizeof(struct tls_xcheck),
	xk_start_chain,
	xk_start_cert,
	xk_append,
	xk_end_cert,
	xk_end_chain,
	xk_get_pkey
};

/* ---- failure codes ------------------------------------------------------------------ */

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
	long long y;
	unsigned m, day;

	if ((p = strstr(mon, (char[4]){ d[0], d[1], d[2], '\0' })) == NULL)
		return 0;
	m = (unsigned)((p - mon) / 3 + 1);
	day = (unsigned)((d[4] == ' ' ? 0 : d[4] - '0') * 10 + (d[5] - '0'));
	y = atoll(d + 7);
	return civil_days(y, m, day) * 86400;
#endif
}

static const char *
version_name(unsigned v)
{
	switch (v) {
	case 0x0300: return "SSL 3.0";
	case 0x0301: return "TLS 1.0";
	case 0x0302: return "TLS 1.1";
	case 0x0303: return "TLS 1.2";
	case 0x0304: return "TLS 1.3";
	default: return "an unknown version";
	}
}

/* The policy the server broke, from what it chose (peek) or the engine's error.
 * Returns 1 when e was set. */
static int
policy_failure(struct net_err *e, const char *host, int err,
    const struct tls_peek *pk, int probed)
{
	int alert = err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT ?
	    err - BR_ERR_RECV_FATAL_ALERT : -1;

	if (pk->kind == TLS_PEEK_HELLO && pk->version < 0x0303) {
		net_fail(e, "tls_version", "%s: TLS: the server %s %s (0x%04x); only "
		    "TLS 1.2 is accepted", host, probed ? "speaks only" : "chose",
		    version_name(pk->version), pk->version);
		return 1;
	}
	if (err == BR_ERR_UNSUPPORTED_VERSION || alert == 70) {
		net_fail(e, "tls_version", "%s: TLS: the server does not speak TLS 1.2 "
		    "(%s)", host, alert == 70 ? "alert protocol_version" :
		    "BR_ERR_UNSUPPORTED_VERSION");
		return 1;
	}
	if (pk->kind == TLS_PEEK_HELLO && (err == BR_ERR_BAD_CIPHER_SUITE || probed)) {
		const char *how = probed ? "would only agree on" : "chose";

		if (tls_suite_3des(pk->suite))
			net_fail(e, "tls_weak_cipher", "%s: TLS: the server %s a 3DES "
			    "cipher suite (0x%04x); only AES-GCM and ChaCha20-Poly1305 are "
			    "accepted", host, how, pk->suite);
		else if (!tls_suite_forward_secret(pk->suite))
			net_fail(e, "tls_no_forward_secrecy", "%s: TLS: the server %s a "
			    "cipher suite without forward secrecy (0x%04x, static RSA or "
			    "ECDH key exchange); only ECDHE is accepted", host, how,
			    pk->suite);
		else if (!tls_suite_aead(pk->suite))
			net_fail(e, "tls_weak_cipher", "%s: TLS: the server %s a "
			    "non-AEAD cipher suite (0x%04x); only AES-GCM and "
			    "ChaCha20-Poly1305 are accepted", host, how, pk->suite);
		else if (!probed)
			net_fail(e, "tls_weak_cipher", "%s: TLS: the server chose cipher "
			    "suite 0x%04x, which was not offered", host, pk->suite);
		else
			return 0;
		return 1;
	}
	if (pk->kind == TLS_PEEK_ALERT && (alert == 40 || alert == 71)) {
		/* refused our ClientHello outright: nothing we offer is acceptable */
		net_fail(e, "tls_no_shared_cipher", "%s: TLS: the server accepts none of "
		    "the offered cipher suites (TLS 1.2, ECDHE with AES-GCM or "
		    "ChaCha20-Poly1305): alert %d", host, alert);
		return 1;
	}
	return 0;
}

/* see tls.h */
void
tls_failure(struct net_err *e, const char *host, int err,
    const struct tls_xcheck *xk, const unsigned char *peek, size_t peek_len,
    const unsigned char *probe, size_t probe_len)
{
	struct tls_peek pk, pp;

	tls_peek_server(peek, peek_len, &pk);
	if (pk.kind == TLS_PEEK_ALERT && probe != NULL) {
		/* what the server chose when offered everything tells why it refused
		 * what we offer */
		tls_peek_server(probe, probe_len, &pp);
		if (pp.kind == TLS_PEEK_HELLO && policy_failure(e, host, err, &pp, 1))
			return;
	}
	if (policy_failure(e, host, err, &pk, 0))
		return;
	switch (err) {
	case BR_ERR_X509_UNSUPPORTED:
		/* what the engine says when it has no hash for a signature */
		if (xk != NULL && xk->weak_sig > 0) {
			net_fail(e, "tls_weak_signature", "%s: TLS: the server's chain "
			    "holds a certificate signed with %s; only SHA-2 signatures "
			    "are accepted (%s)", host,
			    xk->weak_sig == X509_SIG_SHA1 ? "SHA-1" : "MD5",
			    br_errname(err));
			return;
		}
		break;
	case BR_ERR_X509_BAD_SERVER_NAME:
		net_fail(e, "tls_hostname", "%s: TLS: the server certificate is not valid "
		    "for this host name (%s)", host, br_errname(err));
		return;
	case BR_ERR_X509_EXPIRED:
		if ((long long)time(NULL) < build_epoch()) {
			net_fail(e, "tls_clock", "%s: TLS: certificate dates do not match "
			    "the system clock, which is before this build: is the clock "
			    "set?", host);
			return;
		}
		net_fail(e, "tls_expired", "%s: TLS: the server certificate is expired or "
		    "not yet valid (%s)", host, br_errname(err));
		return;
	case BR_ERR_X509_TIME_UNKNOWN:
		net_fail(e, "tls_clock", "%s: TLS: no usable system time to check the "
		    "certificate", host);
		return;
	}
	if (err == BR_ERR_X509_NOT_TRUSTED) {
		net_fail(e, "tls_untrusted", "%s: TLS: the server certificate does not "
		    "chain to a configured trust anchor (%s)", host, br_errname(err));
		return;
	}
	if (err >= BR_ERR_X509_OK && err <= BR_ERR_X509_NOT_TRUSTED) {
		net_fail(e, "tls_untrusted", "%s: TLS: server certificate rejected: %s "
		    "(%d)", host, br_errname(err), err);
		return;
	}
	if (err >= BR_ERR_RECV_FATAL_ALERT && err < BR_ERR_SEND_FATAL_ALERT) {
		net_fail(e, "tls", "%s: TLS: the server sent fatal alert %d%s", host,
		    err - BR_ERR_RECV_FATAL_ALERT,
		    err - BR_ERR_RECV_FATAL_ALERT == 116 ? " (certificate required)" :
		    err - BR_ERR_RECV_FATAL_ALERT == 40 ? " (handshake failure)" : "");
		return;
	}
	if (err >= BR_ERR_SEND_FATAL_ALERT) {
		net_fail(e, "tls", "%s: TLS: sent fatal alert %d", host,
		    err - BR_ERR_SEND_FATAL_ALERT);
		return;
	}
	net_fail(e, "tls", "%s: TLS: error %d (%s)", host, err, br_errname(err));
}
