/* SPDX-License-Identifier: BSD-2-Clause */
/* anchors.h — trust anchors for BearSSL from the bytes of a PEM bundle (one or more
 * certificates) or of one DER certificate (pure: no I/O). Used by the CMS client's
 * credentials (cms/creds.c), by `cardupd --check`, and by the admin upload check,
 * which therefore need not include anything of cms/. */
#ifndef CARDUPD_ANCHORS_H
#define CARDUPD_ANCHORS_H

#include <stddef.h>
#include <bearssl.h>

struct anchors {
	br_x509_trust_anchor	*ta;	/* owned; freed by anchors_free */
	size_t			 n;
	long long		 not_after;	/* the earliest expiry among them
						   (unix time) */
};

/* Decodes every certificate of d[0..len) as a trust anchor: a CA certificate as a CA
 * anchor, any other as a pinned server certificate (BearSSL's direct trust). PEM
 * objects other than certificates (a stray key or CRL in a bundle) are skipped; input
 * without "-----BEGIN " is taken as exactly one DER certificate. what names the input
 * in messages. Returns 0 with out->n >= 1, or -1 with "what: reason" in err (no
 * certificate found, malformed PEM, "certificate N: bad DER encoding", unsupported
 * key) and *out empty. Free with anchors_free. */
int anchors_decode(const char *what, const unsigned char *d, size_t len,
    struct anchors *out, char *err, size_t errlen);

/* Frees the anchors and zeroes *a. Safe on an empty or zeroed struct, and twice. */
void anchors_free(struct anchors *a);

/* The admin upload rule, stricter than anchors_decode: PEM text only (no NUL byte, no
 * DER), at least one object, every object a "CERTIFICATE", each one a usable anchor.
 * Returns the number of anchors (>= 1), or -1 with a reason in err. */
int anchors_check_upload(const unsigned char *d, size_t len, char *err, size_t errlen);

#endif
