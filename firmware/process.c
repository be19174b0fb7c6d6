/* SPDX-License-Identifier: BSD-2-Clause */
/* process.c — see process.h: how the cardupd process is set up before its work starts
 * (memory, and GnuTLS left uninitialised until the admin listener wants it). Linked
 * into the cardupd executable only (Makefile, board/board.mk, scripts/cross-static.sh):
 * unit tests, fuzzers and cardupctl get glibc's defaults and GnuTLS as it is. */
#include <dlfcn.h>
#include <malloc.h>
#include <pthread.h>

#include "autoconf.h"
#include "process.h"

int _gnutls_global_init_skip(void);
int gnutls_global_init(void);
void gnutls_global_deinit(void);

/* Set by process_setup(), on entry to main(): the libraries' constructors are over. */
static int main_entered;

/* Idle memory (tests/bench/bench_footprint.py, docs/performance.md), set before the
 * first thread exists:
 * - one malloc arena: glibc gives every thread that mallocs an arena of its own (a
 *   64 MiB reservation, its touched pages resident for good); ours allocate rarely
 *   and briefly, so sharing the main one costs no measurable contention;
 * - blocks of MMAP_THRESHOLD and more straight from mmap(): the few large ones (the loop,
 *   the event queue's per-reader slots, the CMS client's TLS buffers) are made at
 *   start-up and calloc()ed; from the heap calloc() clears them whole, from mmap() the
 *   pages stay untouched until used. Nothing that large is allocated per event or per
 *   request (the largest, libmicrohttpd's 32 KiB connection pool, stays below);
 * - a default stack size for every thread created without one of its own (the CMS
 *   worker, the admin listener's threads, libraries'): glibc's default is RLIMIT_STACK
 *   (8 MiB), which transparent huge pages (enabled=always) can back with 2 MiB pages;
 *   the deepest of ours touches under 64 KiB. */
#define MMAP_THRESHOLD		(48 * 1024)
#define THREAD_STACK_DEFAULT	(256 * 1024)

static void
tune_memory(void)
{
	pthread_attr_t attr;

	(void)mallopt(M_ARENA_MAX, 1);
	(void)mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD);
	if (pthread_attr_init(&attr) == 0) {
		(void)pthread_attr_setstacksize(&attr, THREAD_STACK_DEFAULT);
		(void)pthread_setattr_default_np(&attr);
		(void)pthread_attr_destroy(&attr);
	}
}

/*
 * GnuTLS initialised by the admin listener when it starts (web/admin/admin.c calls
 * gnutls_global_init()), never by a library constructor. Debian's libmicrohttpd is
 * built with HTTPS: it links GnuTLS, whose constructor initialises it, and its own
 * (MHD_init) calls gnutls_global_init() too; that costs ~1 MiB of resident memory
 * (tests/bench/bench_footprint.py, docs/performance.md) in every cardupd, also one
 * whose admin listener is not configured or not built. Symbols the executable defines
 * come first in symbol lookup (the linker exports these three because the libraries
 * name them), so:
 * - _gnutls_global_init_skip() is GnuTLS's GNUTLS_SKIP_GLOBAL_INIT (gnutls.h): its
 *   constructor skips the implicit initialisation;
 * - gnutls_global_init() called before main() (by MHD_init) does nothing; called
 *   later, it is GnuTLS's (the next definition in lookup order);
 * - gnutls_global_deinit() undoes only what reached GnuTLS (MHD_fini's, at exit, pairs
 *   with the call MHD_init did not make).
 * Only the cardupd executable has them: unit tests and fuzzers get GnuTLS as it is.
 */
#if defined(CONFIG_ADMIN) && CONFIG_ADMIN
static int gnutls_live;	/* initialisations that reached GnuTLS, not yet undone */
#endif

int
_gnutls_global_init_skip(void)
{
	return 1;
}

int
gnutls_global_init(void)
{
#if defined(CONFIG_ADMIN) && CONFIG_ADMIN
	int (*real)(void);
	int rc;

	if (!main_entered)
		return 0;
	if ((real = (int (*)(void))dlsym(RTLD_NEXT, "gnutls_global_init")) == NULL)
		return -59;	/* GNUTLS_E_INTERNAL_ERROR: GnuTLS is not there */
	if ((rc = real()) >= 0)
		gnutls_live++;
	return rc;
#else
	return 0;	/* nothing in a build without the admin listener uses GnuTLS */
#endif
}

void
gnutls_global_deinit(void)
{
#if defined(CONFIG_ADMIN) && CONFIG_ADMIN
	void (*real)(void);

	if (gnutls_live == 0)
		return;
	if ((real = (void (*)(void))dlsym(RTLD_NEXT, "gnutls_global_deinit")) != NULL) {
		gnutls_live--;
		real();
	}
#endif
}

/* see process.h */
void
process_setup(void)
{
	main_entered = 1;
	tune_memory();
}
