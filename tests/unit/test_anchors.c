/* SPDX-License-Identifier: BSD-2-Clause */
/* test_anchors.c — the pure certificate code under the CMS client: core/pem.c,
 * core/anchors.c (PEM/DER anchors and the admin upload rule), core/x509_walk.c (the
 * iPAddress SAN walk and the signature-hash check) and core/tls_peek.c (what a server
 * chose). Certificates from tests/vectors (made by tests/rig/certs.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "vectors.h"
#include "core/anchors.h"
#include "core/pem.h"
#include "core/tls_peek.h"
#include "core/x509_walk.h"

/* The DER of the first certificate of a PEM vector. */
static struct pem_obj *
der_of(const char *name, size_t *n)
{
	struct pem_obj *o = vec_pem(name, n);

	assert_non_null(o);
	assert_true(*n >= 1);
	assert_string_equal(o[0].name, "CERTIFICATE");
	return o;
}

static void
test_ip_san(void **state)
{
	static const unsigned char lo[4] = { 127, 0, 0, 1 }, lo2[4] = { 127, 0, 0, 2 };
	unsigned char v6[16] = { 0 };
	struct pem_obj *o;
	size_t n;

	(void)state;
	o = der_of("server_ip.pem", &n);
	v6[15] = 1;
	assert_int_equal(x509_has_ip(o[0].data, o[0].len, lo, 4), 1);
	assert_int_equal(x509_has_ip(o[0].data, o[0].len, v6, 16), 1);
	assert_int_equal(x509_has_ip(o[0].data, o[0].len, lo2, 4), 0);
	/* every truncation fails closed */
	for (size_t cut = 0; cut < o[0].len; cut++)
		assert_int_equal(x509_has_ip(o[0].data, cut, lo, 4), 0);
	assert_int_equal(x509_sig_hash(o[0].data, o[0].len), X509_SIG_OK);
	pem_free(o, n);
	o = der_of("server_sha1.pem", &n);
	assert_int_equal(x509_sig_hash(o[0].data, o[0].len), X509_SIG_SHA1);
	assert_int_equal(x509_sig_hash(o[0].data, 10), X509_SIG_MALFORMED);
	pem_free(o, n);
}

static void
test_anchors_decode(void **state)
{
	struct anchors a;
	struct pem_obj *o;
	char err[200], *pem;
	size_t len, n;

	(void)state;
	assert_non_null(pem = vec_slurp("anchor_ca.pem", &len));
	assert_int_equal(anchors_decode("ca", (unsigned char *)pem, len, &a, err,
	    sizeof err), 0);
	assert_int_equal(a.n, 1);
	assert_true(a.ta[0].flags & BR_X509_TA_CA);
	assert_int_equal(a.ta[0].pkey.key_type, BR_KEYTYPE_EC);
	assert_true(a.not_after > 1700000000LL);
	anchors_free(&a);
	anchors_free(&a);
	assert_int_equal(anchors_check_upload((unsigned char *)pem, len, err,
	    sizeof err), 1);
	/* DER works for the loader, not for an upload */
	o = der_of("anchor_ca.pem", &n);
	assert_int_equal(anchors_decode("ca.der", o[0].data, o[0].len, &a, err,
	    sizeof err), 0);
	assert_int_equal(a.n, 1);
	anchors_free(&a);
	assert_int_equal(anchors_check_upload(o[0].data, o[0].len, err, sizeof err), -1);
	pem_free(o, n);
	free(pem);

	assert_int_equal(anchors_check_upload((const unsigned char *)"-----BEGIN EC "
	    "PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", 58, err,
	    sizeof err), -1);
	assert_non_null(strstr(err, "only CERTIFICATE objects"));
	assert_int_equal(anchors_decode("x", (const unsigned char *)"-----BEGIN X", 12, &a,
	    err, sizeof err), -1);
	assert_int_equal(a.n, 0);
	assert_null(a.ta);
	assert_non_null(strstr(err, "x: "));
}

static void
test_tls_peek(void **state)
{
	unsigned char hello[5 + 4 + 2 + 32 + 1 + 2 + 1] = { 22, 3, 3, 0, 4 + 2 + 32 + 1 + 3,
	    2, 0, 0, 2 + 32 + 1 + 3, 3, 1 };
	static const unsigned char alert[] = { 21, 3, 3, 0, 2, 2, 40 };
	struct tls_peek pk;

	(void)state;
	hello[5 + 4 + 2 + 32 + 1] = 0xc0;
	hello[5 + 4 + 2 + 32 + 2] = 0x08;
	tls_peek_server(hello, sizeof hello, &pk);
	assert_int_equal(pk.kind, TLS_PEEK_HELLO);
	assert_int_equal(pk.version, 0x0301);
	assert_int_equal(pk.suite, 0xc008);
	assert_true(tls_suite_3des(pk.suite));
	assert_true(tls_suite_forward_secret(pk.suite));
	assert_false(tls_suite_aead(pk.suite));
	tls_peek_server(hello, 44, &pk);
	assert_int_equal(pk.kind, TLS_PEEK_NONE);
	tls_peek_server(alert, sizeof alert, &pk);
	assert_int_equal(pk.kind, TLS_PEEK_ALERT);
	assert_int_equal(pk.alert, 40);
	/* static RSA with AES-GCM: AEAD, no forward secrecy; ECDHE GCM: both */
	assert_false(tls_suite_forward_secret(0x009c));
	assert_true(tls_suite_aead(0x009c));
	assert_true(tls_suite_forward_secret(0xc02b) && tls_suite_aead(0xc02b));
	assert_true(tls_suite_forward_secret(0xcca9) && tls_suite_aead(0xcca9));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ip_san),
		cmocka_unit_test(test_anchors_decode),
		cmocka_unit_test(test_tls_peek),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
