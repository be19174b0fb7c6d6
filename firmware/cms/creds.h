/* SPDX-License-Identifier: BSD-2-Clause */
/* creds.h — the CMS client's credentials, loaded once and shared: the trust anchors
 * and the optional client certificate and key, read from the files the configuration
 * names (base/file: regular files only, bounded, never blocking) and decoded by
 * core/anchors.c and core/tlscred.c. One immutable, reference-counted copy serves the
 * check worker and every card update session: a session started after a check uses
 * the copy the checker loaded instead of reading the files again. Thread-safe. */
#ifndef CARDUPD_CREDS_H
#define CARDUPD_CREDS_H

#include <stdatomic.h>
#include <stddef.h>

#include "core/anchors.h"
#include "core/tlscred.h"

/* Immutable after load; read by any thread holding a reference. */
struct cms_creds {
	struct anchors	 anchors;
	int		 has_cred;	/* a client certificate and key (mutual TLS) */
	struct tlscred	 cred;
	/* creds.c's own */
	atomic_int	 refs;
	size_t		 key_len;
	char		*key;		/* the three paths, NUL-separated (malloc'd:
					   12 KiB of room inline cost 3 resident
					   pages, and as much main-thread stack) */
};

/* Reads and decodes anchors_path and, when both are set (non-NULL, non-empty),
 * client_cert and client_key (one without the other is an error). Always reads the
 * files afresh, and the result becomes the shared copy for these three paths (see
 * cms_creds_shared). Returns a new reference, or NULL with a message naming the file
 * in err. */
struct cms_creds *cms_creds_load(const char *anchors_path, const char *client_cert,
    const char *client_key, char *err, size_t errlen);

/* A reference to the shared copy last loaded for exactly these three paths, or, when
 * there is none, a fresh cms_creds_load. Returns NULL with err on failure. */
struct cms_creds *cms_creds_shared(const char *anchors_path, const char *client_cert,
    const char *client_key, char *err, size_t errlen);

/* Takes one more reference; returns c. */
struct cms_creds *cms_creds_ref(struct cms_creds *c);

/* Drops a reference; the last one wipes the key and frees. NULL is accepted. */
void cms_creds_unref(struct cms_creds *c);

#endif
