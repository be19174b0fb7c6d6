/* SPDX-License-Identifier: BSD-2-Clause */
/* admin_tls.c — see admin_tls.h. The only file that uses GnuTLS's X.509 API. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <sys/stat.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "base/file.h"
#include "web/admin/admin_tls.h"
#include "web/admin/settings.h"

#define PEM_MAX		(256 * 1024)

static int
fingerprint(const char *pem, char *out, size_t cap, char *err, size_t errlen)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d = { (unsigned char *)(uintptr_t)pem, (unsigned)strlen(pem) };
	unsigned char fp[32];
	size_t fplen = sizeof(fp), o = 0;
	int rc;

	if (gnutls_x509_crt_init(&crt) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	if (rc == 0)
		rc = gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, fp, &fplen);
	gnutls_x509_crt_deinit(crt);
	if (rc < 0) {
		snprintf(err, errlen, "certificate: %s", gnutls_strerror(rc));
		return -1;
	}
	for (size_t i = 0; i < fplen && o + 3 < cap; i++)
		o += (size_t)snprintf(out + o, cap - o, "%s%02X", i ? ":" : "", fp[i]);
	return 0;
}

/* Makes a self-signed certificate for the admin listener. */
static int
make_self_signed(const struct cfg *c, char **cert_pem, char **key_pem, char *err,
    size_t errlen)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dc = { NULL, 0 }, dk = { NULL, 0 };
	unsigned char serial[16], ip[16];
	char host[64];
	unsigned port;
	time_t now = time(NULL);
	int rc;

	if ((rc = gnutls_x509_privkey_init(&key)) < 0 ||
	    (rc = gnutls_x509_privkey_generate(key, GNUTLS_PK_ECDSA,
	    GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1), 0)) < 0 ||
	    (rc = gnutls_x509_crt_init(&crt)) < 0)
		goto fail;
	if (getrandom(serial, sizeof(serial), 0) != sizeof(serial)) {
		rc = GNUTLS_E_RANDOM_FAILED;
		goto fail;
	}
	serial[0] &= 0x7f;	/* a positive INTEGER */
	serial[0] |= 0x01;
	if ((rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, now - 3600)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, now + 10L * 365 * 86400)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0,
	    c->device_id, (unsigned)strlen(c->device_id))) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0,
	    "cardupd self-signed", 19)) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0 ||
	    (rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt, GNUTLS_KP_TLS_WWW_SERVER, 0)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, "localhost",
	    9, GNUTLS_FSAN_APPEND)) < 0)
		goto fail;
	/* The device id when it can be a host name, and the listen address. */
	if (strspn(c->device_id, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-.") == strlen(c->device_id))
		gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_DNSNAME, c->device_id,
		    (unsigned)strlen(c->device_id), GNUTLS_FSAN_APPEND);
	if (cfg_split_listen(c->admin_listen, host, sizeof(host), &port) == 0) {
		if (inet_pton(AF_INET, host, ip) == 1 && strcmp(host, "0.0.0.0") != 0)
			gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 4,
			    GNUTLS_FSAN_APPEND);
		else if (inet_pton(AF_INET6, host, ip) == 1 && strcmp(host, "::") != 0)
			gnutls_x509_crt_set_subject_alt_name(crt, GNUTLS_SAN_IPADDRESS, ip, 16,
			    GNUTLS_FSAN_APPEND);
	}
	if ((rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0 ||
	    (rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &dc)) < 0 ||
	    (rc = gnutls_x509_privkey_export2(key, GNUTLS_X509_FMT_PEM, &dk)) < 0)
		goto fail;
	*cert_pem = strndup((const char *)dc.data, dc.size);
	*key_pem = strndup((const char *)dk.data, dk.size);
	gnutls_free(dc.data);
	explicit_bzero(dk.data, dk.size);
	gnutls_free(dk.data);
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	if (*cert_pem == NULL || *key_pem == NULL) {
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
fail:
	snprintf(err, errlen, "making a self-signed certificate: %s", gnutls_strerror(rc));
	if (crt != NULL)
		gnutls_x509_crt_deinit(crt);
	if (key != NULL)
		gnutls_x509_privkey_deinit(key);
	return -1;
}

static void
wipe_free(char *s)
{
	if (s != NULL) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

/* The pair as the listener will load it, checked now so that a failure names its cause
 * (MHD would only say that it cannot start): a key of another certificate, a file that
 * is not PEM. */
static int
pair_usable(const struct admin_tls *t, const char *cpath, const char *kpath, char *err,
    size_t errlen)
{
	gnutls_certificate_credentials_t cr;
	gnutls_datum_t cd = { (unsigned char *)t->cert_pem, (unsigned)strlen(t->cert_pem) };
	gnutls_datum_t kd = { (unsigned char *)t->key_pem, (unsigned)strlen(t->key_pem) };
	int rc;

	if (gnutls_certificate_allocate_credentials(&cr) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rc = gnutls_certificate_set_x509_key_mem(cr, &cd, &kd, GNUTLS_X509_FMT_PEM);
	gnutls_certificate_free_credentials(cr);
	if (rc < 0) {
		snprintf(err, errlen, "%s and %s: %s", cpath, kpath,
		    rc == GNUTLS_E_CERTIFICATE_KEY_MISMATCH ?
		    "the certificate and the key do not match" : gnutls_strerror(rc));
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
			/* key first: a certificate on disk always has its key */
			if (file_write_atomic(kpath, t->key_pem, strlen(t->key_pem), 0600,
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
	if (fingerprint(t->cert_pem, t->fingerprint, sizeof(t->fingerprint), err,
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
	gnutls_x509_crt_t *crts = NULL;
	unsigned n = 0;
	gnutls_datum_t d;
	char *text = NULL;
	json_object *arr;
	int rc;

	/* PEM only (file_read_text refuses the NUL bytes of DER). */
	if ((text = file_read_text(path, PEM_MAX, err, errlen)) == NULL)
		return NULL;
	d.data = (unsigned char *)text;
	d.size = (unsigned)strlen(text);
	rc = gnutls_x509_crt_list_import2(&crts, &n, &d, GNUTLS_X509_FMT_PEM, 0);
	free(text);
	if (rc < 0) {
		snprintf(err, errlen, "%s: %s", path, gnutls_strerror(rc));
		return NULL;
	}
	arr = json_object_new_array();
	for (unsigned i = 0; i < n; i++) {
		gnutls_datum_t dn = { NULL, 0 };
		json_object *o = json_object_new_object();
		time_t exp = gnutls_x509_crt_get_expiration_time(crts[i]);

		if (gnutls_x509_crt_get_dn3(crts[i], &dn, 0) == 0) {
			json_object_object_add(o, "subject", json_object_new_string_len(
			    (const char *)dn.data, (int)dn.size));
			gnutls_free(dn.data);
		} else
			json_object_object_add(o, "subject", json_object_new_string("?"));
		json_object_object_add(o, "not_after", json_object_new_int64((int64_t)exp));
		json_object_object_add(o, "expired", json_object_new_boolean(exp < now));
		json_object_array_add(arr, o);
		gnutls_x509_crt_deinit(crts[i]);
	}
	gnutls_free(crts);
	return arr;
}
