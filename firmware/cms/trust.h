/* SPDX-License-Identifier: BSD-2-Clause */
/* trust.h — trust anchors and PEM objects read from a file: file_read (base/file.h)
 * followed by the pure decoders of core/anchors.h and core/pem.h. Kept for callers
 * that have a path in hand (`cardupd --check`); code outside the daemon's top and
 * cms/ uses core/anchors.h on the bytes it has read. */
#ifndef CARDUPD_TRUST_H
#define CARDUPD_TRUST_H

#include <stddef.h>
#include <bearssl.h>

#include "core/pem.h"

struct trust_anchors {
	br_x509_trust_anchor	*ta;	/* owned; freed by trust_free */
	size_t			 n;
	long long		 not_after;	/* the earliest expiry among them
						   (unix time) */
};

/* Loads every certificate of `path` as a trust anchor (anchors_decode). Returns 0, or
 * -1 with a message naming the file and the reason in err (no certificate found, bad
 * PEM, unsupported key, not a regular file, over 1 MiB, unreadable). *out is empty on
 * failure. */
int trust_load(const char *path, struct trust_anchors *out, char *err, size_t errlen);

/* Frees the anchors and zeroes *ta. Safe on an empty or zeroed struct. */
void trust_free(struct trust_anchors *ta);

/* Reads every PEM object of `path` (pem_decode of core/pem.h) into a new array (*objs,
 * *n; *n may be 0 and *objs NULL when the file holds no PEM at all). Returns 0, or -1
 * with a message naming the file in err. The caller frees with pem_free. Files over
 * 1 MiB are refused. */
int trust_pem_read(const char *path, struct pem_obj **objs, size_t *n,
    char *err, size_t errlen);

#endif
