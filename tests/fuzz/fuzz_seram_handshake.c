/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_seram_handshake.c — libFuzzer target for the SERAM handshake answer check
 * (core/seram.c's seram_check_handshake: untrusted JSON from the remote agent).
 * Checked: no crash or leak; a refusal leaves a NUL-terminated message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/seram.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256];

	memset(err, 0x5a, sizeof err);
	if (seram_check_handshake(data, size, err, sizeof err) == -1 &&
	    memchr(err, '\0', sizeof err) == NULL)
		abort();
	return 0;
}
