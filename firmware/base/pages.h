/* SPDX-License-Identifier: BSD-2-Clause */
/* pages.h — zeroed memory straight from the kernel, for the few large structures made
 * once at start-up (the loop with its agent, the event queue): a page becomes resident
 * only when it is first written, so the slots of readers that never appear cost
 * nothing. malloc() cannot promise that: a block it carves from the heap's top is
 * cleared whole by calloc() (docs/performance.md). Owns no state. */
#ifndef CARDUPD_PAGES_H
#define CARDUPD_PAGES_H

#include <stddef.h>

/* Returns size bytes of zeroed, page-aligned memory, or NULL with errno. Free it with
 * pages_free and the same size. */
void *pages_alloc(size_t size);

/* Gives back what pages_alloc(size) returned. NULL is accepted. */
void pages_free(void *p, size_t size);

#endif
