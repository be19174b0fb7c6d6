/* SPDX-License-Identifier: BSD-2-Clause */
/* tls_peek.c — see tls_peek.h. Only the first record is read, and only as far as the
 * cipher suite; anything short or unexpected is TLS_PEEK_NONE. */
#include <string.h>

#include "core/tls_peek.h"

/* see tls_peek.h */
void
tls_peek_server(const unsigned char *in, size_t len, struct tls_peek *out)
{
	size_t rlen, off, sid;

	memset(out, 0, sizeof *out);
	if (len < 5 || in[1] != 0x03)
		return;
	rlen = (size_t)in[3] << 8 | in[4];
	if (in[0] == 21) {			/* alert: level, description */
		if (rlen >= 2 && len >= 7) {
			out->kind = TLS_PEEK_ALERT;
			out->alert = in[6];
		}
		return;
	}
	/* handshake record holding a ServerHello: type 2, 3-byte length, version,
	 * random, session id, cipher suite */
	if (in[0] != 22 || len < 5 + 4 + 2 + 32 + 1 || in[5] != 2)
		return;
	off = 5 + 4;
	out->version = (unsigned)in[off] << 8 | in[off + 1];
	off += 2 + 32;
	sid = in[off++];
	if (sid > 32 || len < off + sid + 2 || rlen < off - 5 + sid + 2) {
		out->version = 0;
		return;
	}
	off += sid;
	out->suite = (unsigned)in[off] << 8 | in[off + 1];
	out->kind = TLS_PEEK_HELLO;
}

/* see tls_peek.h */
int
tls_suite_forward_secret(unsigned s)
{
	/* ECDHE_ECDSA and ECDHE_RSA in the 0xC0xx block (ECDH_* static ones sit
	 * between them), ECDHE in the ChaCha20 block, DHE in the 0x00xx block */
	if ((s >= 0xC006 && s <= 0xC00A) || (s >= 0xC010 && s <= 0xC014) ||
	    s == 0xC023 || s == 0xC024 || s == 0xC027 || s == 0xC028 ||
	    s == 0xC02B || s == 0xC02C || s == 0xC02F || s == 0xC030 ||
	    (s >= 0xC0AC && s <= 0xC0AF) || s == 0xCCA8 || s == 0xCCA9 || s == 0xCCAA)
		return 1;
	return s == 0x0013 || s == 0x0016 || s == 0x0032 || s == 0x0033 ||
	    s == 0x0038 || s == 0x0039 || s == 0x0040 || s == 0x0067 || s == 0x006A ||
	    s == 0x006B || s == 0x009E || s == 0x009F || s == 0x00A2 || s == 0x00A3 ||
	    (s >= 0xC09E && s <= 0xC09F) || (s >= 0xC0A2 && s <= 0xC0A3);
}

/* see tls_peek.h */
int
tls_suite_aead(unsigned s)
{
	return (s >= 0x009C && s <= 0x00A7) || (s >= 0xC02B && s <= 0xC032) ||
	    (s >= 0xC09C && s <= 0xC0AF) || (s >= 0xCCA8 && s <= 0xCCAE) ||
	    (s >= 0x1301 && s <= 0x1305);
}

/* see tls_peek.h */
int
tls_suite_3des(unsigned s)
{
	return s == 0x000A || s == 0x000D || s == 0x0010 || s == 0x0013 ||
	    s == 0x0016 || s == 0x001B || s == 0xC003 || s == 0xC008 || s == 0xC00D ||
	    s == 0xC012 || s == 0xC017;
}
