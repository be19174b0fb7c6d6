/* SPDX-License-Identifier: BSD-2-Clause */
/* rand.h — random bytes from the kernel (getrandom), for identifiers the pure core
 * formats (the SERAM sessionId). Owns no state. */
#ifndef CARDUPD_RAND_H
#define CARDUPD_RAND_H

#include <stddef.h>

/* Fills buf with n (at most 256) random bytes; blocks only until the kernel's pool is
 * initialised at boot. Returns 0, or -1 (buf then unusable). */
int rand_bytes(void *buf, size_t n);

#endif
