/* SPDX-License-Identifier: BSD-2-Clause */
/* rand.c — see rand.h. */
#include <errno.h>
#include <sys/random.h>

#include "base/rand.h"

/* see rand.h */
int
rand_bytes(void *buf, size_t n)
{
	ssize_t r;

	if (n > 256)
		return -1;
	do
		r = getrandom(buf, n, 0);
	while (r == -1 && errno == EINTR);
	return r == (ssize_t)n ? 0 : -1;
}
