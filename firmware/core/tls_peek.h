/* SPDX-License-Identifier: BSD-2-Clause */
/* tls_peek.h — reads what a TLS server said first (pure: bytes in): its ServerHello's
 * version and cipher suite, or the alert it answered our ClientHello with. The CMS
 * client keeps the first bytes of every connection so that a refused handshake can
 * name the policy the server broke (BearSSL only reports "bad version" or "bad cipher
 * suite" and does not record what the server chose). */
#ifndef CARDUPD_TLS_PEEK_H
#define CARDUPD_TLS_PEEK_H

#include <stddef.h>

/* Enough server bytes for a record header, the handshake header and a ServerHello up
 * to its cipher suite (5 + 4 + 2 + 32 + 1 + 32 + 2). */
#define TLS_PEEK_BYTES	80

enum tls_peek_kind {
	TLS_PEEK_NONE,		/* not enough bytes, or neither of the below */
	TLS_PEEK_ALERT,		/* the first record is an alert */
	TLS_PEEK_HELLO,		/* the first record starts with a ServerHello */
};

struct tls_peek {
	enum tls_peek_kind	kind;
	unsigned		alert;		/* ALERT: its description (40, 70...) */
	unsigned		version;	/* HELLO: server_version (0x0301...) */
	unsigned		suite;		/* HELLO: the chosen cipher suite */
};

/* Parses in[0..len), the first bytes the server sent on a connection. */
void tls_peek_server(const unsigned char *in, size_t len, struct tls_peek *out);

/* Properties of an IANA cipher suite number, for the client's policy diagnosis. */
int tls_suite_forward_secret(unsigned suite);	/* ECDHE or DHE key exchange */
int tls_suite_aead(unsigned suite);		/* AES-GCM, AES-CCM, ChaCha20-Poly1305 */
int tls_suite_3des(unsigned suite);		/* 3DES_EDE_CBC */

#endif
