/* SPDX-License-Identifier: BSD-2-Clause */
/* pages.c — see pages.h. */
#include <stddef.h>
#include <sys/mman.h>

#include "base/pages.h"

/* see pages.h */
void *
pages_alloc(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* see pages.h */
void
pages_free(void *p, size_t size)
{
	if (p != NULL)
		(void)munmap(p, size);
}
