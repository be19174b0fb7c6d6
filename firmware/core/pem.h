/* SPDX-License-Identifier: BSD-2-Clause */
/* pem.h — PEM text to DER objects (pure: bytes in, owned bytes out, no I/O). The
 * decoder under the trust anchors, the CMS client's certificate chain and key, and the
 * admin upload check. What passes through may be a private key: every buffer is wiped
 * before it is freed or moved. */
#ifndef CARDUPD_PEM_H
#define CARDUPD_PEM_H

#include <stddef.h>

/* Largest input (and largest decoded object) accepted: 1 MiB. */
#define PEM_INPUT_MAX	(1024 * 1024)

/* One object of a PEM text: its label ("CERTIFICATE", "EC PRIVATE KEY"...) and the
 * decoded bytes (owned; freed by pem_free). */
struct pem_obj {
	char		 name[128];	/* as long as BearSSL's PEM label buffer */
	unsigned char	*data;
	size_t		 len;
};

/* 1 when d holds a "-----BEGIN " line anywhere (PEM, as opposed to DER). */
int pem_looks_like(const unsigned char *d, size_t len);

/* Decodes every PEM object of d[0..len) into a new array (*objs, *n). Text without any
 * "-----BEGIN " gives 0 with *n = 0 and *objs NULL. what names the input in messages
 * (a path, "upload"). Returns 0, or -1 with "what: reason" in err (malformed PEM, an
 * object without END line, over PEM_INPUT_MAX, out of memory) and nothing allocated.
 * The caller frees with pem_free. */
int pem_decode(const char *what, const unsigned char *d, size_t len,
    struct pem_obj **objs, size_t *n, char *err, size_t errlen);

/* Wipes (they may be keys) and frees objects from pem_decode. NULL is accepted. */
void pem_free(struct pem_obj *objs, size_t n);

/* A growing byte buffer for BearSSL's decoder callbacks (DNs, PEM objects) that never
 * leaves a copy behind when it grows; bounded by PEM_INPUT_MAX (then oom is set and
 * further bytes are dropped). Zero-initialise; release with pem_buf_free. */
struct pem_buf {
	unsigned char	*p;
	size_t		 len, cap;
	int		 oom;
};

/* Appends len bytes to the pem_buf ctx (a br_pem/br_x509 "dest" callback). */
void pem_buf_append(void *ctx, const void *data, size_t len);

/* Wipes and frees b's bytes and zeroes *b. */
void pem_buf_free(struct pem_buf *b);

/* printf into err (NULL or errlen 0: nothing). Shared by the decoders of core/. */
void pem_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
