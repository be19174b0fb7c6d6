/* SPDX-License-Identifier: BSD-2-Clause */
/* admin_tls.h — the admin listener's certificate (BearSSL): the configured one, or a
 * self-signed one made at first start and kept in the state directory (key 0600);
 * its SHA-256 fingerprint; and a description of the CMS trust anchors for the pages. */
#ifndef CARDUPD_ADMIN_TLS_H
#define CARDUPD_ADMIN_TLS_H

#include <stddef.h>
#include <json-c/json.h>
#include "core/config.h"

#define ADMIN_FPR_MAX	(32 * 3)	/* "AB:CD:...", 32 bytes */

struct admin_tls {
	char	*cert_pem;		/* NUL-terminated, owned */
	char	*key_pem;		/* NUL-terminated, owned, wiped on free */
	char	 fingerprint[ADMIN_FPR_MAX];	/* SHA-256 of the leaf certificate */
	int	 self_signed;		/* made (or reloaded) by cardupd */
};

/* Loads admin.tls_cert/tls_key, or when they are empty the self-signed pair in
 * admin.state_dir (admin-cert.pem, admin-key.pem), making it when absent: an ECDSA
 * P-256 key (PEM "EC PRIVATE KEY", 0600), CN = device id, valid 10 years. Checks that
 * the key is the certificate's ("the certificate and the key do not match") and sets
 * the fingerprint. Returns 0, or -1 with err. */
int admin_tls_load(const struct cfg *c, struct admin_tls *t, char *err, size_t errlen);

/* Frees and wipes. Safe on a zeroed struct. */
void admin_tls_free(struct admin_tls *t);

/* A JSON array [{"subject": s, "not_after": unix, "expired": bool}] of the
 * certificates in a PEM file, or NULL with err. */
json_object *admin_anchors_describe(const char *path, long long now, char *err,
    size_t errlen);

#endif
