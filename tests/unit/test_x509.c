/* SPDX-License-Identifier: BSD-2-Clause */
/* test_x509.c — the admin listener's certificate without GnuTLS: core/x509_write.c
 * (the self-signed certificate's DER: BearSSL decodes and verifies it, OpenSSL reads
 * and verifies it when it is installed), core/x509_walk.c's validity and subject text
 * (vectors: tests/vectors/x509_times.txt, and x509_dn.pem/.txt printed by GnuTLS), and,
 * in builds with the administration, web/admin/admin_tls.c (files, modes, fingerprint,
 * the key/certificate match check, the anchor list). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <bearssl.h>

#include "autoconf.h"
#include "core/pem.h"
#include "core/x509_walk.h"
#include "core/x509_write.h"
#include "scratch.h"
#include "vectors.h"
#if CONFIG_ADMIN
#include "core/config.h"
#include "core/tlscred.h"
#include "web/admin/admin_tls.h"
#endif

static struct pem_obj *
certs_of(const char *name, size_t *n)
{
	struct pem_obj *o = vec_pem(name, n);

	assert_non_null(o);
	return o;
}

/* ---- times -------------------------------------------------------------------- */

static void
test_time_vectors(void **state)
{
	char path[512], line[256], val[64], exp[32];
	int tag, n = 0;
	long long t;
	FILE *f;

	(void)state;
	snprintf(path, sizeof path, "%s/x509_times.txt", VECTORS_DIR);
	assert_non_null(f = fopen(path, "r"));
	while (fgets(line, sizeof line, f) != NULL) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_int_equal(sscanf(line, "%x %63s %31s", (unsigned *)&tag, val, exp), 3);
		t = 12345;
		if (strcmp(exp, "ERR") == 0) {
			if (x509_time_decode(tag, (unsigned char *)val, strlen(val), &t) != -1)
				fail_msg("%s: accepted as %lld", val, t);
			assert_int_equal(t, 12345);
		} else {
			if (x509_time_decode(tag, (unsigned char *)val, strlen(val), &t) != 0)
				fail_msg("%s: refused", val);
			if (t != strtoll(exp, NULL, 10))
				fail_msg("%s: %lld, not %s", val, t, exp);
		}
		n++;
	}
	fclose(f);
	assert_true(n >= 30);
}

/* encode then decode gives the time back; the form switches at 1950 and 2050 */
static void
test_time_roundtrip(void **state)
{
	static const long long ts[] = {
		0, 1, -1, 86399, 86400, 951782400, 2147483647, 2147483648LL,
		2524607999LL, 2524608000LL, -631152000LL, -631152001LL, 253402300799LL,
		-62167219200LL,		/* 0000-01-01 */
		1764374400LL + 10LL * 365 * 86400,
	};
	unsigned char b[16];
	size_t len, i;
	long long t;
	int tag;

	(void)state;
	for (i = 0; i < sizeof ts / sizeof ts[0]; i++) {
		tag = x509_time_encode(ts[i], b, &len);
		assert_true(tag == 0x17 || tag == 0x18);
		assert_int_equal(len, tag == 0x17 ? 13 : 15);
		assert_int_equal(tag == 0x17, ts[i] >= -631152000LL && ts[i] < 2524608000LL);
		assert_int_equal(x509_time_decode(tag, b, len, &t), 0);
		assert_int_equal(t, ts[i]);
	}
	assert_int_equal(x509_time_encode(2524608000LL, b, &len), 0x18);
	assert_memory_equal(b, "20500101000000Z", 15);
	assert_int_equal(x509_time_encode(2524607999LL, b, &len), 0x17);
	assert_memory_equal(b, "491231235959Z", 13);
	assert_int_equal(x509_time_encode(253402300800LL, b, &len), -1);	/* 10000 */
	assert_int_equal(x509_time_encode(-62167219201LL, b, &len), -1);	/* -1 */
}

/* ---- subjects ------------------------------------------------------------------ */

/* Subjects and expiry of x509_dn.pem then anchor_ca.pem against what GnuTLS printed
 * (x509_dn.txt). GnuTLS's "?" (it refused an empty subject) is our empty text. */
static void
test_dn_vectors(void **state)
{
	struct pem_obj *o[2];
	size_t n[2], k = 0, i;
	char *txt, *line, *save = NULL, dn[X509_DN_MAX];
	size_t tlen;
	long long nb, na;

	(void)state;
	o[0] = certs_of("x509_dn.pem", &n[0]);
	o[1] = certs_of("anchor_ca.pem", &n[1]);
	assert_non_null(txt = vec_slurp("x509_dn.txt", &tlen));
	for (line = strtok_r(txt, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		char *tab = strchr(line, '\t');
		struct pem_obj *c;

		if (line[0] == '#')
			continue;
		assert_non_null(tab);
		*tab = '\0';
		c = k < n[0] ? &o[0][k] : &o[1][k - n[0]];
		assert_true(k < n[0] + n[1]);
		assert_int_equal(x509_subject_str(c->data, c->len, dn, sizeof dn), 0);
		if (strcmp(tab + 1, "?") == 0)
			assert_string_equal(dn, "");
		else if (strcmp(dn, tab + 1) != 0)
			fail_msg("certificate %zu: \"%s\", GnuTLS: \"%s\"", k, dn, tab + 1);
		assert_int_equal(x509_validity(c->data, c->len, &nb, &na), 0);
		assert_int_equal(na, strtoll(line, NULL, 10));
		assert_true(nb < na);
		k++;
	}
	assert_int_equal(k, n[0] + n[1]);
	/* too small a buffer: refused, never cut */
	{
		struct pem_obj *c = &o[1][0];	/* "CN=cardupd test CA": 18 bytes */

		assert_int_equal(x509_subject_str(c->data, c->len, dn, 18), -1);
		assert_string_equal(dn, "");
		assert_int_equal(x509_subject_str(c->data, c->len, dn, 19), 0);
		assert_int_equal(x509_subject_str(c->data, c->len, dn, 0), -1);
	}
	free(txt);
	for (i = 0; i < 2; i++)
		pem_free(o[i], n[i]);
}

/* Every truncation fails closed; every single-byte change leaves a NUL-terminated
 * text or a refusal (ASan in the sanitizer build checks the reads). */
static void
test_dn_malformed(void **state)
{
	static const unsigned char junk[] = { 0x00, 0x01, 0x30, 0x31, 0x7f, 0x80, 0x81,
	    0x84, 0x85, 0xff };
	struct pem_obj *o;
	size_t n, i, cut, pos, j;
	char dn[X509_DN_MAX];
	long long nb, na;

	(void)state;
	o = certs_of("x509_dn.pem", &n);
	for (i = 0; i < n; i++) {
		for (cut = 0; cut < o[i].len; cut++) {
			assert_int_equal(x509_subject_str(o[i].data, cut, dn, sizeof dn), -1);
			assert_int_equal(x509_validity(o[i].data, cut, &nb, &na), -1);
		}
		for (pos = 0; pos < o[i].len && pos < 400; pos++) {
			unsigned char keep = o[i].data[pos];

			for (j = 0; j < sizeof junk; j++) {
				o[i].data[pos] = junk[j];
				memset(dn, 'x', sizeof dn);
				if (x509_subject_str(o[i].data, o[i].len, dn, sizeof dn) == 0)
					assert_true(strlen(dn) < sizeof dn);
				(void)x509_validity(o[i].data, o[i].len, &nb, &na);
			}
			o[i].data[pos] = keep;
		}
	}
	assert_int_equal(x509_subject_str((const unsigned char *)"", 0, dn, sizeof dn), -1);
	assert_int_equal(x509_validity((const unsigned char *)"\x30\x00", 2, &nb, &na), -1);
	pem_free(o, n);
}

static void
test_dns_name(void **state)
{
	static const struct { const char *s; int ok; } v[] = {
		{ "localhost", 1 }, { "kiosk-7", 1 }, { "kiosk-7.example.org", 1 },
		{ "K1", 1 }, { "a", 1 }, { "1a", 1 }, { "x-1.2", 1 },
		{ "", 0 }, { ".", 0 }, { "a..b", 0 }, { ".a", 0 }, { "a.", 0 },
		{ "-a", 0 }, { "a-", 0 }, { "a.-b", 0 }, { "a_b", 0 }, { "a b", 0 },
		{ "10.0.0.1", 0 }, { "123", 0 }, { "kiosk\xc3\xa9", 0 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 1 },
		{ "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		if (x509_dns_name_ok(v[i].s) != v[i].ok)
			fail_msg("\"%s\": %d", v[i].s, !v[i].ok);
}

/* ---- the self-signed certificate -------------------------------------------------- */

struct key {
	br_ec_private_key	 sk;
	br_ec_public_key	 pk;
	unsigned char		 kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	unsigned char		 pbuf[BR_EC_KBUF_PUB_MAX_SIZE];
};

static void
make_key(struct key *k, unsigned char seedbyte)
{
	br_hmac_drbg_context rng;
	unsigned char seed[32];

	memset(seed, seedbyte, sizeof seed);
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof seed);
	assert_true(br_ec_keygen(&rng.vtable, br_ec_get_default(), &k->sk, k->kbuf,
	    BR_EC_secp256r1) > 0);
	assert_int_equal(br_ec_compute_pub(br_ec_get_default(), &k->pk, k->pbuf, &k->sk),
	    65);
}

static size_t
sign_cb(void *ctx, const unsigned char hash[32], unsigned char *sig)
{
	return br_ecdsa_i31_sign_asn1(br_ec_get_default(), &br_sha256_vtable, hash, ctx,
	    sig);
}

static size_t
sign_fails(void *ctx, const unsigned char hash[32], unsigned char *sig)
{
	(void)ctx;
	(void)hash;
	(void)sig;
	return 0;
}

#define T_NOW	1764374400LL	/* 2025-11-29 */

static const unsigned char IP4[4] = { 127, 0, 0, 1 };
static const unsigned char IP6[16] = { [15] = 1 };
static const unsigned char SERIAL[16] = { 0x81, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
    13, 14, 15, 16 };

static void
fill(struct x509_self *s, const struct key *k)
{
	memset(s, 0, sizeof *s);
	s->serial = SERIAL;
	s->serial_len = sizeof SERIAL;
	s->not_before = T_NOW - 3600;
	s->not_after = T_NOW + 10LL * 365 * 86400;
	s->cn = "kiosk-7.example";
	s->org = "cardupd self-signed";
	s->ec_pub = k->pk.q;
	s->ec_pub_len = k->pk.qlen;
	s->dns[s->n_dns++] = "localhost";
	s->dns[s->n_dns++] = "kiosk-7.example";
	s->ip[s->n_ip] = IP4;
	s->ip_len[s->n_ip++] = 4;
	s->ip[s->n_ip] = IP6;
	s->ip_len[s->n_ip++] = 16;
}

/* Runs BearSSL's X.509 minimal engine on the one certificate with itself as the trust
 * anchor (direct trust: not a CA) at time t for server name sn: its error code. */
static int
minimal_verify(const unsigned char *der, size_t len, const br_ec_public_key *pk,
    long long t, const char *sn)
{
	br_x509_decoder_context dc;
	br_x509_minimal_context mc;
	struct pem_buf dn = { 0 };
	br_x509_trust_anchor ta;
	unsigned days;
	int r;

	br_x509_decoder_init(&dc, pem_buf_append, &dn);
	br_x509_decoder_push(&dc, der, len);
	assert_non_null(br_x509_decoder_get_pkey(&dc));
	memset(&ta, 0, sizeof ta);
	ta.dn.data = dn.p;
	ta.dn.len = dn.len;
	ta.flags = 0;
	ta.pkey.key_type = BR_KEYTYPE_EC;
	ta.pkey.key.ec = *pk;
	br_x509_minimal_init_full(&mc, &ta, 1);
	days = (unsigned)(t / 86400 + 719528);		/* days since 0000-01-01 */
	br_x509_minimal_set_time(&mc, days, (uint32_t)(t % 86400));
	mc.vtable->start_chain(&mc.vtable, sn);
	mc.vtable->start_cert(&mc.vtable, (uint32_t)len);
	mc.vtable->append(&mc.vtable, der, len);
	mc.vtable->end_cert(&mc.vtable);
	r = (int)mc.vtable->end_chain(&mc.vtable);
	pem_buf_free(&dn);
	return r;
}

static void
test_write_self_signed(void **state)
{
	static const unsigned char lo2[4] = { 127, 0, 0, 2 };
	struct x509_self s;
	struct key k;
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	unsigned char der[X509_CERT_MAX];
	char dn[X509_DN_MAX];
	size_t len, len2, cut;
	long long nb, na;

	(void)state;
	make_key(&k, 7);
	fill(&s, &k);
	assert_int_equal(x509_write_self_signed(&s, sign_cb, &k.sk, der, sizeof der, &len),
	    0);
	assert_true(len > 300 && len < 1000);
	/* BearSSL's decoder: its key, an EC signer, not a CA */
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, der, len);
	assert_non_null(pk = br_x509_decoder_get_pkey(&dc));
	assert_int_equal(pk->key_type, BR_KEYTYPE_EC);
	assert_int_equal(pk->key.ec.curve, BR_EC_secp256r1);
	assert_memory_equal(pk->key.ec.q, k.pk.q, 65);
	assert_int_equal(br_x509_decoder_isCA(&dc), 0);
	assert_int_equal(br_x509_decoder_get_signer_key_type(&dc), BR_KEYTYPE_EC);
	/* the minimal engine with itself as anchor: valid inside its validity only, for
	 * its names only; the signature checked */
	assert_int_equal(minimal_verify(der, len, &k.pk, T_NOW, "localhost"), 0);
	assert_int_equal(minimal_verify(der, len, &k.pk, T_NOW, "kiosk-7.example"), 0);
	assert_int_equal(minimal_verify(der, len, &k.pk, T_NOW, "other.example"),
	    BR_ERR_X509_BAD_SERVER_NAME);
	assert_int_equal(minimal_verify(der, len, &k.pk, T_NOW - 7200, "localhost"),
	    BR_ERR_X509_EXPIRED);
	assert_int_equal(minimal_verify(der, len, &k.pk, T_NOW + 11LL * 365 * 86400,
	    "localhost"), BR_ERR_X509_EXPIRED);
	/* the IP SANs, the times, the subject */
	assert_int_equal(x509_has_ip(der, len, IP4, 4), 1);
	assert_int_equal(x509_has_ip(der, len, IP6, 16), 1);
	assert_int_equal(x509_has_ip(der, len, lo2, 4), 0);
	assert_int_equal(x509_sig_hash(der, len), X509_SIG_OK);
	assert_int_equal(x509_validity(der, len, &nb, &na), 0);
	assert_int_equal(nb, s.not_before);
	assert_int_equal(na, s.not_after);
	assert_int_equal(x509_subject_str(der, len, dn, sizeof dn), 0);
	assert_string_equal(dn, "O=cardupd self-signed,CN=kiosk-7.example");
	/* the serial: a positive INTEGER, 0x00 before the high bit: 02 11 00 81 02 ... */
	assert_non_null(memmem(der, len, "\x02\x11\x00\x81\x02\x03", 6));
	/* deterministic (RFC 6979 signatures): the same input, the same bytes */
	{
		unsigned char der2[X509_CERT_MAX];

		assert_int_equal(x509_write_self_signed(&s, sign_cb, &k.sk, der2,
		    sizeof der2, &len2), 0);
		assert_int_equal(len2, len);
		assert_memory_equal(der2, der, len);
	}
	/* every buffer too small is refused without writing past it */
	for (cut = 0; cut < len; cut++) {
		unsigned char *small = malloc(cut ? cut : 1);

		assert_non_null(small);
		assert_int_equal(x509_write_self_signed(&s, sign_cb, &k.sk, small, cut,
		    &len2), -1);
		free(small);
	}
	/* a failing signer, arguments out of range */
	assert_int_equal(x509_write_self_signed(&s, sign_fails, NULL, der, sizeof der,
	    &len2), -1);
	s.n_dns = X509_SAN_MAX + 1;
	assert_int_equal(x509_write_self_signed(&s, sign_cb, &k.sk, der, sizeof der,
	    &len2), -1);
	fill(&s, &k);
	s.not_after = 253402300800LL;			/* year 10000 */
	assert_int_equal(x509_write_self_signed(&s, sign_cb, &k.sk, der, sizeof der,
	    &len2), -1);
	fill(&s, &k);
	s.ec_pub_len = 33;
	assert_int_equal(x509_write_self_signed(&s, sign_cb, &k.sk, der, sizeof der,
	    &len2), -1);
}

/* A certificate past 2050 (GeneralizedTime) without SAN nor high serial bit. */
static void
test_write_generalized_time(void **state)
{
	static const unsigned char one[] = { 0, 0, 1 };
	struct x509_self s;
	struct key k;
	unsigned char der[X509_CERT_MAX];
	size_t len;
	long long nb, na;

	(void)state;
	make_key(&k, 9);
	fill(&s, &k);
	s.n_dns = s.n_ip = 0;
	s.serial = one;
	s.serial_len = sizeof one;
	s.not_before = 2524607999LL;		/* 2049-12-31T23:59:59Z: UTCTime */
	s.not_after = 2524608000LL;		/* 2050-01-01T00:00:00Z: GeneralizedTime */
	assert_int_equal(x509_write_self_signed(&s, sign_cb, &k.sk, der, sizeof der, &len),
	    0);
	assert_non_null(memmem(der, len, "\x17\x0d" "491231235959Z", 15));
	assert_non_null(memmem(der, len, "\x18\x0f" "20500101000000Z", 17));
	assert_non_null(memmem(der, len, "\xa0\x03\x02\x01\x02\x02\x01\x01", 8));
	assert_int_equal(x509_validity(der, len, &nb, &na), 0);
	assert_int_equal(nb, 2524607999LL);
	assert_int_equal(na, 2524608000LL);
	assert_int_equal(minimal_verify(der, len, &k.pk, 2524607999LL, "localhost"),
	    BR_ERR_X509_BAD_SERVER_NAME);	/* valid then, but no name: CN is not used */
}

/* ---- OpenSSL reads and verifies it (skipped when openssl is not installed) -------- */

static int
sh(const char *cmd)
{
	int r = system(cmd);

	return WIFEXITED(r) ? WEXITSTATUS(r) : -1;
}

static void
write_file(const char *path, const void *d, size_t n)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(d, 1, n, f), n);
	assert_int_equal(fclose(f), 0);
}

static char *
read_all(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "rb");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* scratch_path's one static buffer, copied: a command names several files. */
static const char *
sp(char *buf, const char *name)
{
	snprintf(buf, 512, "%s", scratch_path(name));
	return buf;
}

static void
test_openssl_accepts(void **state)
{
	char p1[512], p2[512], p3[512];
	struct x509_self s;
	struct key k;
	unsigned char der[X509_CERT_MAX], fp[32];
	char pem[4096], cmd[2048], want[100], *out;
	br_sha256_context h;
	size_t len, i, w = 0;

	(void)state;
	if (sh("command -v openssl >/dev/null 2>&1") != 0) {
		skip();
		return;
	}
	make_key(&k, 11);
	fill(&s, &k);
	s.not_before = T_NOW - 3600;		/* now is inside: openssl verify uses now */
	s.not_after = 4102444800LL;		/* 2100: GeneralizedTime */
	assert_int_equal(x509_write_self_signed(&s, sign_cb, &k.sk, der, sizeof der, &len),
	    0);
	br_pem_encode(pem, der, len, "CERTIFICATE", BR_PEM_LINE64);
	write_file(scratch_path("self.pem"), pem, strlen(pem));
	snprintf(cmd, sizeof cmd, "openssl x509 -noout -text -fingerprint -sha256 "
	    "-in %s > %s 2>&1", sp(p1, "self.pem"), sp(p2, "text"));
	if (sh(cmd) != 0)
		fail_msg("openssl x509: %s", read_all(scratch_path("text")));
	out = read_all(scratch_path("text"));
	assert_non_null(strstr(out, "Version: 3 (0x2)"));
	assert_non_null(strstr(out, "ecdsa-with-SHA256"));
	assert_non_null(strstr(out, "NIST CURVE: P-256"));
	assert_non_null(strstr(out, "CA:FALSE"));
	assert_non_null(strstr(out, "X509v3 Key Usage: critical"));
	assert_non_null(strstr(out, "Digital Signature"));
	assert_non_null(strstr(out, "TLS Web Server Authentication"));
	assert_non_null(strstr(out, "DNS:localhost, DNS:kiosk-7.example, "
	    "IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1"));
	assert_non_null(strstr(out, "Not After : Jan  1 00:00:00 2100 GMT"));
	assert_non_null(strstr(out, "Subject: CN = kiosk-7.example, O = cardupd self-signed"));
	assert_non_null(strstr(out, "Serial Number:"));
	br_sha256_init(&h);
	br_sha256_update(&h, der, len);
	br_sha256_out(&h, fp);
	for (i = 0; i < sizeof fp; i++)
		w += (size_t)snprintf(want + w, sizeof want - w, "%s%02X", i ? ":" : "", fp[i]);
	assert_non_null(strstr(out, want));
	snprintf(cmd, sizeof cmd, "openssl verify -x509_strict -check_ss_sig "
	    "-purpose sslserver -CAfile %s %s > %s 2>&1", sp(p1, "self.pem"), sp(p2, "self.pem"),
	    sp(p3, "verify"));
	if (sh(cmd) != 0)
		fail_msg("openssl verify: %s", read_all(scratch_path("verify")));
	/* and a changed byte of the signature is not accepted */
	der[len - 5] ^= 1;
	br_pem_encode(pem, der, len, "CERTIFICATE", BR_PEM_LINE64);
	write_file(scratch_path("bad.pem"), pem, strlen(pem));
	snprintf(cmd, sizeof cmd, "openssl verify -check_ss_sig -CAfile %s %s "
	    ">/dev/null 2>&1",
	    sp(p1, "bad.pem"), sp(p2, "bad.pem"));
	assert_int_not_equal(sh(cmd), 0);
}

#if CONFIG_ADMIN
/* ---- web/admin/admin_tls.c ------------------------------------------------------ */

static void
admin_cfg(struct cfg *c, const char *dir)
{
	cfg_defaults(c);
	snprintf(c->device_id, sizeof c->device_id, "kiosk-7");
	snprintf(c->admin_listen, sizeof c->admin_listen, "127.0.0.1:8443");
	snprintf(c->admin_state_dir, sizeof c->admin_state_dir, "%s", dir);
}

static void
test_admin_tls_self_signed(void **state)
{
	struct admin_tls t, t2;
	struct tlscred cr;
	struct pem_obj *o;
	struct cfg c;
	struct stat st;
	br_sha256_context h;
	unsigned char fp[32];
	char err[512], dir[512], want[100], dn[X509_DN_MAX];
	size_t n, i, w = 0;

	(void)state;
	snprintf(dir, sizeof dir, "%s", scratch_path("a"));
	assert_int_equal(mkdir(dir, 0700), 0);
	admin_cfg(&c, dir);
	if (admin_tls_load(&c, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(t.self_signed, 1);
	assert_non_null(strstr(t.cert_pem, "-----BEGIN CERTIFICATE-----"));
	assert_non_null(strstr(t.key_pem, "-----BEGIN EC PRIVATE KEY-----"));
	assert_int_equal(stat(scratch_path("a/admin-key.pem"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(stat(scratch_path("a/admin-cert.pem"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* the fingerprint is the SHA-256 of the certificate's DER */
	assert_int_equal(pem_decode("cert", (unsigned char *)t.cert_pem, strlen(t.cert_pem),
	    &o, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	br_sha256_init(&h);
	br_sha256_update(&h, o[0].data, o[0].len);
	br_sha256_out(&h, fp);
	for (i = 0; i < sizeof fp; i++)
		w += (size_t)snprintf(want + w, sizeof want - w, "%s%02X", i ? ":" : "", fp[i]);
	assert_string_equal(t.fingerprint, want);
	assert_int_equal(x509_subject_str(o[0].data, o[0].len, dn, sizeof dn), 0);
	assert_string_equal(dn, "O=cardupd self-signed,CN=kiosk-7");
	assert_int_equal(x509_has_ip(o[0].data, o[0].len, IP4, 4), 1);
	pem_free(o, n);
	/* the pair decodes as the CMS client's credentials would */
	assert_int_equal(tlscred_decode("c", (unsigned char *)t.cert_pem, strlen(t.cert_pem),
	    "k", (unsigned char *)t.key_pem, strlen(t.key_pem), &cr, err, sizeof err), 0);
	assert_int_equal(cr.key_type, BR_KEYTYPE_EC);
	tlscred_free(&cr);
	/* reloaded, not made again; a key file made readable to others is made private */
	assert_int_equal(chmod(scratch_path("a/admin-key.pem"), 0644), 0);
	if (admin_tls_load(&c, &t2, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_equal(t2.fingerprint, t.fingerprint);
	assert_string_equal(t2.cert_pem, t.cert_pem);
	assert_int_equal(stat(scratch_path("a/admin-key.pem"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	admin_tls_free(&t2);
	/* the certificate removed (to get a new one) while the key is 0644 (restored from
	 * a backup): the new key is 0600 all the same (file_write_atomic keeps a replaced
	 * file's mode: the old key is removed first) */
	assert_int_equal(chmod(scratch_path("a/admin-key.pem"), 0644), 0);
	assert_int_equal(unlink(scratch_path("a/admin-cert.pem")), 0);
	if (admin_tls_load(&c, &t2, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_string_not_equal(t2.fingerprint, t.fingerprint);
	assert_int_equal(stat(scratch_path("a/admin-key.pem"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	admin_tls_free(&t2);
	admin_tls_free(&t);
	assert_null(t.key_pem);
	/* a device id that is not a host name is no dNSName, and still the CN */
	snprintf(dir, sizeof dir, "%s", scratch_path("b"));
	assert_int_equal(mkdir(dir, 0700), 0);
	admin_cfg(&c, dir);
	snprintf(c.device_id, sizeof c.device_id, "Kiosk, hall 2");
	snprintf(c.admin_listen, sizeof c.admin_listen, "[::1]:8443");
	if (admin_tls_load(&c, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(pem_decode("cert", (unsigned char *)t.cert_pem, strlen(t.cert_pem),
	    &o, &n, err, sizeof err), 0);
	assert_int_equal(x509_subject_str(o[0].data, o[0].len, dn, sizeof dn), 0);
	assert_string_equal(dn, "O=cardupd self-signed,CN=Kiosk\\, hall 2");
	assert_int_equal(x509_has_ip(o[0].data, o[0].len, IP6, 16), 1);
	assert_non_null(memmem(o[0].data, o[0].len, "\x0c\x0dKiosk, hall 2", 15));
	assert_null(memmem(o[0].data, o[0].len, "\x82\x0dKiosk, hall 2", 15));
	pem_free(o, n);
	admin_tls_free(&t);
}

/* admin.tls_cert/tls_key of two different pairs: refused with the message the
 * integration tests look for; the right pair (EC, then RSA from openssl) is taken. */
static void
test_admin_tls_mismatch(void **state)
{
	struct admin_tls t;
	struct cfg c;
	char err[1024], cmd[1024];

	(void)state;
	assert_int_equal(mkdir(scratch_path("m1"), 0700), 0);
	assert_int_equal(mkdir(scratch_path("m2"), 0700), 0);
	admin_cfg(&c, scratch_path("m1"));
	assert_int_equal(admin_tls_load(&c, &t, err, sizeof err), 0);
	admin_tls_free(&t);
	admin_cfg(&c, scratch_path("m2"));
	assert_int_equal(admin_tls_load(&c, &t, err, sizeof err), 0);
	admin_tls_free(&t);
	snprintf(c.admin_tls_cert, sizeof c.admin_tls_cert, "%s",
	    scratch_path("m1/admin-cert.pem"));
	snprintf(c.admin_tls_key, sizeof c.admin_tls_key, "%s",
	    scratch_path("m2/admin-key.pem"));
	assert_int_equal(admin_tls_load(&c, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "the certificate and the key do not match"));
	assert_non_null(strstr(err, "m1/admin-cert.pem and "));
	snprintf(c.admin_tls_key, sizeof c.admin_tls_key, "%s",
	    scratch_path("m1/admin-key.pem"));
	if (admin_tls_load(&c, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	assert_int_equal(t.self_signed, 0);
	admin_tls_free(&t);
	/* not PEM at all */
	snprintf(c.admin_tls_key, sizeof c.admin_tls_key, "%s", VECTORS_DIR "/tlv.txt");
	assert_int_equal(admin_tls_load(&c, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "tlv.txt"));
	if (sh("command -v openssl >/dev/null 2>&1") != 0)
		return;
	/* RSA: the modulus and exponent recomputed from the private key */
	snprintf(cmd, sizeof cmd, "cd %s && openssl req -x509 -newkey rsa:2048 -nodes "
	    "-keyout r1.key -out r1.crt -subj /CN=r1 -days 2 >/dev/null 2>&1 && "
	    "openssl req -x509 -newkey rsa:2048 -nodes -keyout r2.key -out r2.crt "
	    "-subj /CN=r2 -days 2 >/dev/null 2>&1", scratch_dir);
	assert_int_equal(sh(cmd), 0);
	snprintf(c.admin_tls_cert, sizeof c.admin_tls_cert, "%s", scratch_path("r1.crt"));
	snprintf(c.admin_tls_key, sizeof c.admin_tls_key, "%s", scratch_path("r1.key"));
	if (admin_tls_load(&c, &t, err, sizeof err) != 0)
		fail_msg("%s", err);
	admin_tls_free(&t);
	snprintf(c.admin_tls_key, sizeof c.admin_tls_key, "%s", scratch_path("r2.key"));
	assert_int_equal(admin_tls_load(&c, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "do not match"));
	/* an RSA key for an EC certificate */
	snprintf(c.admin_tls_cert, sizeof c.admin_tls_cert, "%s",
	    scratch_path("m1/admin-cert.pem"));
	assert_int_equal(admin_tls_load(&c, &t, err, sizeof err), -1);
	assert_non_null(strstr(err, "do not match"));
}

static void
test_admin_anchors_describe(void **state)
{
	json_object *a, *e;
	char err[512];

	(void)state;
	a = admin_anchors_describe(VECTORS_DIR "/x509_dn.pem", 1796069500LL, err,
	    sizeof err);
	assert_non_null(a);
	assert_int_equal(json_object_array_length(a), 12);
	e = json_object_array_get_idx(a, 0);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "subject")),
	    "O=cardupd tests,CN=Test CA");
	assert_int_equal(json_object_get_int64(json_object_object_get(e, "not_after")),
	    1796069498LL);
	assert_true(json_object_get_boolean(json_object_object_get(e, "expired")));
	e = json_object_array_get_idx(a, 10);
	assert_string_equal(json_object_get_string(json_object_object_get(e, "subject")),
	    "?");
	assert_false(json_object_get_boolean(json_object_object_get(e, "expired")));
	json_object_put(a);
	/* no certificate, not there, not PEM */
	assert_null(admin_anchors_describe(VECTORS_DIR "/tlv.txt", 0, err, sizeof err));
	assert_non_null(strstr(err, "no certificate found"));
	assert_null(admin_anchors_describe(VECTORS_DIR "/absent.pem", 0, err, sizeof err));
	assert_non_null(strstr(err, "absent.pem"));
}

/* A PEM certificate whose DER is not a certificate: a clear error, no list. */
static void
test_admin_anchors_malformed(void **state)
{
	static const unsigned char bad[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
	char pem[256], err[512];

	(void)state;
	br_pem_encode(pem, bad, sizeof bad, "CERTIFICATE", BR_PEM_LINE64);
	write_file(scratch_path("bad-anchor.pem"), pem, strlen(pem));
	assert_null(admin_anchors_describe(scratch_path("bad-anchor.pem"), 0, err,
	    sizeof err));
	assert_non_null(strstr(err, "certificate 1: malformed"));
}
#endif

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_vectors),
		cmocka_unit_test(test_time_roundtrip),
		cmocka_unit_test(test_dn_vectors),
		cmocka_unit_test(test_dn_malformed),
		cmocka_unit_test(test_dns_name),
		cmocka_unit_test(test_write_self_signed),
		cmocka_unit_test(test_write_generalized_time),
		cmocka_unit_test(test_openssl_accepts),
#if CONFIG_ADMIN
		cmocka_unit_test(test_admin_tls_self_signed),
		cmocka_unit_test(test_admin_tls_mismatch),
		cmocka_unit_test(test_admin_anchors_describe),
		cmocka_unit_test(test_admin_anchors_malformed),
#endif
	};

	return cmocka_run_group_tests(tests, scratch_setup, scratch_teardown);
}
