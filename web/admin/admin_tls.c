/* SPDX-License-Identifier: BSD-2-Clause */
/* admin_tls.c — see admin_tls.h. BearSSL for the key and the signature, core/x509_write
 * for the certificate's DER, core/x509_walk for what the anchor list shows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bearssl.h>

#include "base/file.h"
#include "base/rand.h"
#include "core/pem.h"
#include "core/tlscred.h"
#include "core/x509_walk.h"
#include "core/x509_write.h"
#include "web/admin/admin_tls.h"
#include "web/admin/settings.h"

#define PEM_MAX		(256 * 1024)
#define VALID_FOR	(10LL * 365 * 86400)	/* ten years */

/* SHA-256 of the first certificate of pem as "AB:CD:...". */
static int
fingerprint(const char *what, const char *pem, char *out, size_t cap, char *err,
    size_t errlen)
{
	struct pem_obj *o;
	br_sha256_context h;
	unsigned char fp[32];
	size_t n, i, k, w = 0;

	if (pem_decode(what, (const unsigned char *)pem, strlen(pem), &o, &n, err,
	    errlen) == -1)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(o[i].name, "CERTIFICATE") == 0 ||
		    strcmp(o[i].name, "X509 CERTIFICATE") == 0)
			break;
	if (i == n) {
		pem_free(o, n);
		snprintf(err, errlen, "%s: no certificate found", what);
		return -1;
	}
	br_sha256_init(&h);
	br_sha256_update(&h, o[i].data, o[i].len);
	br_sha256_out(&h, fp);
	pem_free(o, n);
	for (k = 0; k < sizeof(fp) && w + 3 < cap; k++)
		w += (size_t)snprintf(out + w, cap - w, "%s%02X", k ? ":" : "", fp[k]);
	return 0;
}

/* x509_sign_fn: BearSSL's ECDSA is deterministic (RFC 6979), no randomness here. */
static size_t
ec_sign(void *ctx, const unsigned char hash[32], unsigned char *sig)
{
	return br_ecdsa_sign_asn1_get_default()(br_ec_get_default(), &br_sha256_vtable,
	    hash, ctx, sig);
}

/* DER as a NUL-terminated PEM text (owned), or NULL. */
static char *
pem_of(const void *der, size_t len, const char *banner)
{
	size_t n = br_pem_encode(NULL, der, len, banner, BR_PEM_LINE64);
	char *p;

	if ((p = malloc(n + 1)) != NULL)
		br_pem_encode(p, der, len, banner, BR_PEM_LINE64);
	return p;
}

/* Makes a self-signed certificate for the admin listener: an ECDSA P-256 key from an
 * HMAC-DRBG seeded by the kernel, CN = device id, O = "cardupd self-signed", valid
 * from an hour ago (clocks differ) for ten years, subjectAltName localhost, the device
 * id when it is a host name and the listen address when it is one. */
static int
make_self_signed(const struct cfg *c, char **cert_pem, char **key_pem, char *err,
    size_t errlen)
{
	const br_ec_impl *ec = br_ec_get_default();
	br_hmac_drbg_context rng;
	br_ec_private_key sk;
	br_ec_public_key pk;
	struct x509_self s;
	unsigned char seed[32], kbuf[BR_EC_KBUF_PRIV_MAX_SIZE];
	unsigned char pbuf[BR_EC_KBUF_PUB_MAX_SIZE], serial[16], ip[16];
	unsigned char der[X509_CERT_MAX], kder[256];
	char host[64];
	const char *why = NULL;
	size_t dlen = 0, klen = 0;
	unsigned port;
	long long now = (long long)time(NULL);

	*cert_pem = *key_pem = NULL;
	memset(&s, 0, sizeof(s));
	if (rand_bytes(seed, sizeof(seed)) == -1 ||
	    rand_bytes(serial, sizeof(serial)) == -1) {
		why = "no random bytes from the kernel";
		goto out;
	}
	br_hmac_drbg_init(&rng, &br_sha256_vtable, seed, sizeof(seed));
	if (br_ec_keygen(&rng.vtable, ec, &sk, kbuf, BR_EC_secp256r1) == 0 ||
	    br_ec_compute_pub(ec, &pk, pbuf, &sk) == 0) {
		why = "no P-256 key";
		goto out;
	}
	serial[0] &= 0x7f;	/* a positive INTEGER of 16 bytes */
	serial[0] |= 0x01;
	s.serial = serial;
	s.serial_len = sizeof(serial);
	s.not_before = now - 3600;
	s.not_after = now + VALID_FOR;
	s.cn = c->device_id;
	s.org = "cardupd self-signed";
	s.ec_pub = pk.q;
	s.ec_pub_len = pk.qlen;
	s.dns[s.n_dns++] = "localhost";
	/* The device id when it can be a host name, and the listen address. */
	if (x509_dns_name_ok(c->device_id) && strcasecmp(c->device_id, "localhost") != 0)
		s.dns[s.n_dns++] = c->device_id;
	if (cfg_split_listen(c->admin_listen, host, sizeof(host), &port) == 0) {
		if (inet_pton(AF_INET, host, ip) == 1 && strcmp(host, "0.0.0.0") != 0) {
			s.ip[s.n_ip] = ip;
			s.ip_len[s.n_ip++] = 4;
		} else if (inet_pton(AF_INET6, host, ip) == 1 && strcmp(host, "::") != 0) {
			s.ip[s.n_ip] = ip;
			s.ip_len[s.n_ip++] = 16;
		}
	}
	if (x509_write_self_signed(&s, ec_sign, &sk, der, sizeof(der), &dlen) == -1) {
		why = "cannot encode the certificate";
		goto out;
	}
	if ((klen = br_encode_ec_raw_der(NULL, &sk, &pk)) == 0 || klen > sizeof(kder) ||
	    br_encode_ec_raw_der(kder, &sk, &pk) != klen) {
		why = "cannot encode the key";
		goto out;
	}
	if ((*cert_pem = pem_of(der, dlen, "CERTIFICATE")) == NULL ||
	    (*key_pem = pem_of(kder, klen, "EC PRIVATE KEY")) == NULL)
		why = "out of memory";
out:
	explicit_bzero(seed, sizeof(seed));
	explicit_bzero(&rng, sizeof(rng));
	explicit_bzero(kbuf, sizeof(kbuf));
	explicit_bzero(kder, sizeof(kder));
	explicit_bzero(&sk, sizeof(sk));
	if (why != NULL) {
		free(*cert_pem);
		if (*key_pem != NULL) {
			explicit_bzero(*key_pem, strlen(*key_pem));
			free(*key_pem);
		}
		*cert_pem = *key_pem = NULL;
		snprintf(err, errlen, "making a self-signed certificate: %s", why);
		return -1;
	}
	return 0;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* 1 when the big-endian integers a and b are equal, leading zeros aside. */
static int
same_int(const unsigned char *a, size_t alen, const unsigned char *b, size_t blen)
{
	while (alen > 0 && *a == 0)
		a++, alen--;
	while (blen > 0 && *b == 0)
		b++, blen--;
	return alen == blen && memcmp(a, b, alen) == 0;
}

/* 1 when the private key of cr is the one of the public key pk: the EC point
 * recomputed from the private key; for RSA the modulus recomputed from p and q, and a
 * signature made with the private key that the certificate's key (its exponent)
 * verifies (BearSSL recomputes the public exponent only when p, q = 3 mod 4). */
static int
key_matches(const struct tlscred *cr, const br_x509_pkey *pk)
{
	static const unsigned char hash[32] = "cardupd: is it the cert's key?";
	unsigned char pub[BR_EC_KBUF_PUB_MAX_SIZE], *n, sig[4096 / 8];
	unsigned char back[32];
	br_ec_public_key ep;
	size_t nlen;
	int ok;

	if (cr->key_type == BR_KEYTYPE_EC && pk->key_type == BR_KEYTYPE_EC) {
		if (cr->ec.curve != pk->key.ec.curve ||
		    br_ec_compute_pub(br_ec_get_default(), &ep, pub, &cr->ec) == 0)
			return 0;
		return ep.qlen == pk->key.ec.qlen && memcmp(ep.q, pk->key.ec.q, ep.qlen) == 0;
	}
	if (cr->key_type != BR_KEYTYPE_RSA || pk->key_type != BR_KEYTYPE_RSA ||
	    (cr->rsa.n_bitlen + 7) / 8 > sizeof(sig))
		return 0;
	if ((nlen = br_rsa_compute_modulus_get_default()(NULL, &cr->rsa)) == 0 ||
	    (n = malloc(nlen)) == NULL)
		return 0;
	ok = br_rsa_compute_modulus_get_default()(n, &cr->rsa) == nlen &&
	    same_int(n, nlen, pk->key.rsa.n, pk->key.rsa.nlen);
	free(n);
	return ok &&
	    br_rsa_pkcs1_sign_get_default()(BR_HASH_OID_SHA256, hash, sizeof(hash),
	    &cr->rsa, sig) == 1 &&
	    br_rsa_pkcs1_vrfy_get_default()(sig, (cr->rsa.n_bitlen + 7) / 8,
	    BR_HASH_OID_SHA256, sizeof(back), &pk->key.rsa, back) == 1 &&
	    memcmp(back, hash, sizeof(hash)) == 0;
}

/* The pair as the listener will load it, checked now so that a failure names its cause
 * (the listener would only say that it cannot start): a key of another certificate, a
 * file that is not PEM. */
static int
pair_usable(const struct admin_tls *t, const char *cpath, const char *kpath, char *err,
    size_t errlen)
{
	struct tlscred cr;
	br_x509_decoder_context dc;
	const br_x509_pkey *pk;
	int ok;

	if (tlscred_decode(cpath, (const unsigned char *)t->cert_pem, strlen(t->cert_pem),
	    kpath, (const unsigned char *)t->key_pem, strlen(t->key_pem), &cr, err,
	    errlen) == -1)
		return -1;
	br_x509_decoder_init(&dc, NULL, NULL);
	br_x509_decoder_push(&dc, cr.chain[0].data, cr.chain[0].data_len);
	ok = (pk = br_x509_decoder_get_pkey(&dc)) != NULL && key_matches(&cr, pk);
	tlscred_free(&cr);
	if (!ok) {
		snprintf(err, errlen, "%s and %s: the certificate and the key do not match",
		    cpath, kpath);
		return -1;
	}
	return 0;
}

/* see admin_tls.h */
int
admin_tls_load(const struct cfg *c, struct admin_tls *t, char *err, size_t errlen)
{
	char cpath[CFG_PATH_MAX + 32], kpath[CFG_PATH_MAX + 32], e2[256];
	struct stat st;

	memset(t, 0, sizeof(*t));
	if (c->admin_tls_cert[0] != '\0') {
		snprintf(cpath, sizeof(cpath), "%s", c->admin_tls_cert);
		snprintf(kpath, sizeof(kpath), "%s", c->admin_tls_key);
	} else {
		snprintf(cpath, sizeof(cpath), "%s/admin-cert.pem", c->admin_state_dir);
		snprintf(kpath, sizeof(kpath), "%s/admin-key.pem", c->admin_state_dir);
		t->self_signed = 1;
		if (stat(cpath, &st) == -1 || stat(kpath, &st) == -1) {
			if (make_self_signed(c, &t->cert_pem, &t->key_pem, err, errlen) == -1)
				return -1;
			/* key first: a certificate on disk always has its key. An old
			 * key is removed first: file_write_atomic keeps a replaced file's
			 * mode, and a key restored or copied as 0644 must not pass that
			 * on to the new one */
			e2[0] = '\0';
			if (unlink(kpath) == -1 && errno != ENOENT)
				snprintf(e2, sizeof(e2), "removing the old key: %s",
				    strerror(errno));
			if (e2[0] != '\0' ||
			    file_write_atomic(kpath, t->key_pem, strlen(t->key_pem), 0600,
			    e2, sizeof(e2)) == -1 ||
			    file_write_atomic(cpath, t->cert_pem, strlen(t->cert_pem), 0644,
			    e2, sizeof(e2)) == -1) {
				snprintf(err, errlen, "saving the self-signed certificate: %s", e2);
				admin_tls_free(t);
				return -1;
			}
			goto done;
		}
	}
	if ((t->cert_pem = file_read_text(cpath, PEM_MAX, err, errlen)) == NULL ||
	    (t->key_pem = file_read_text(kpath, PEM_MAX, err, errlen)) == NULL) {
		admin_tls_free(t);
		return -1;
	}
	if (stat(kpath, &st) == 0 && (st.st_mode & 077) != 0 && t->self_signed)
		chmod(kpath, 0600);
done:
	if (fingerprint(cpath, t->cert_pem, t->fingerprint, sizeof(t->fingerprint), err,
	    errlen) == -1 || pair_usable(t, cpath, kpath, err, errlen) == -1) {
		admin_tls_free(t);
		return -1;
	}
	return 0;
}

/* see admin_tls.h */
void
admin_tls_free(struct admin_tls *t)
{
	free(t->cert_pem);
	wipe_free(t->key_pem);
	memset(t, 0, sizeof(*t));
}

/* see admin_tls.h */
json_object *
admin_anchors_describe(const char *path, long long now, char *err, size_t errlen)
{
	struct pem_obj *o;
	char *text, dn[X509_DN_MAX];
	long long nb, na;
	size_t n, i, k = 0;
	json_object *arr;

	/* PEM only (file_read_text refuses the NUL bytes of DER). */
	if ((text = file_read_text(path, PEM_MAX, err, errlen)) == NULL)
		return NULL;
	if (pem_decode(path, (const unsigned char *)text, strlen(text), &o, &n, err,
	    errlen) == -1) {
		free(text);
		return NULL;
	}
	free(text);
	/* every certificate readable, or none listed (as GnuTLS's list import did) */
	for (i = 0; i < n; i++) {
		if (strcmp(o[i].name, "CERTIFICATE") != 0 &&
		    strcmp(o[i].name, "X509 CERTIFICATE") != 0)
			continue;
		k++;
		if (x509_validity(o[i].data, o[i].len, &nb, &na) == -1) {
			snprintf(err, errlen, "%s: certificate %zu: malformed (no readable "
			    "validity)", path, k);
			pem_free(o, n);
			return NULL;
		}
	}
	if (k == 0) {
		snprintf(err, errlen, "%s: no certificate found", path);
		pem_free(o, n);
		return NULL;
	}
	arr = json_object_new_array();
	for (i = 0; i < n; i++) {
		json_object *e;

		if (strcmp(o[i].name, "CERTIFICATE") != 0 &&
		    strcmp(o[i].name, "X509 CERTIFICATE") != 0)
			continue;
		(void)x509_validity(o[i].data, o[i].len, &nb, &na);
		e = json_object_new_object();
		/* "?" for what GnuTLS could not print either (an empty subject) */
		if (x509_subject_str(o[i].data, o[i].len, dn, sizeof(dn)) == -1 ||
		    dn[0] == '\0')
			snprintf(dn, sizeof(dn), "?");
		json_object_object_add(e, "subject", json_object_new_string(dn));
		json_object_object_add(e, "not_after", json_object_new_int64((int64_t)na));
		json_object_object_add(e, "expired", json_object_new_boolean(na < now));
		json_object_array_add(arr, e);
	}
	pem_free(o, n);
	return arr;
}
