/* SPDX-License-Identifier: BSD-2-Clause */
/* tlscred.h — a TLS client's own certificate chain and private key for BearSSL, decoded
 * from PEM bytes (pure: no I/O). The key lives in one owned allocation that is wiped
 * before it is freed. Used by the CMS client's credentials (cms/creds.c). */
#ifndef CARDUPD_TLSCRED_H
#define CARDUPD_TLSCRED_H

#include <stddef.h>
#include <bearssl.h>

struct tlscred {
	br_x509_certificate	*chain;		/* owned, chain_len entries, EE first */
	size_t			 chain_len;
	int			 key_type;	/* BR_KEYTYPE_RSA or BR_KEYTYPE_EC */
	br_rsa_private_key	 rsa;		/* key_type RSA: points into key_mem */
	br_ec_private_key	 ec;		/* key_type EC: points into key_mem */
	unsigned char		*key_mem;	/* every private key buffer, wiped */
	size_t			 key_mem_len;
	unsigned		 issuer_key_type;	/* of the EE's signer */
};

/* Decodes the certificates of cert[0..cert_len) (PEM "CERTIFICATE" objects, EE first)
 * and the first private key of key[0..key_len) (PEM "PRIVATE KEY", "RSA PRIVATE KEY"
 * or "EC PRIVATE KEY"; unencrypted). cert_what and key_what name the inputs in
 * messages. Returns 0, or -1 with "what: reason" in err and *out empty. Free with
 * tlscred_free. */
int tlscred_decode(const char *cert_what, const unsigned char *cert, size_t cert_len,
    const char *key_what, const unsigned char *key, size_t key_len,
    struct tlscred *out, char *err, size_t errlen);

/* Wipes the key, frees everything and zeroes *c. Safe on a zeroed struct. */
void tlscred_free(struct tlscred *c);

#endif
