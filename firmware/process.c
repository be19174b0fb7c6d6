/* SPDX-License-Identifier: BSD-2-Clause */
/* process.c — see process.h: how the cardupd process is set up before its work starts
 * (memory; and, linked to Debian's libmicrohttpd, GnuTLS left uninitialised). Linked
 * into the cardupd executable only (Makefile, board/board.mk, scripts/cross-static.sh):
 * unit tests, fuzzers and cardupctl get glibc's defaults and GnuTLS as it is. */
#include <malloc.h>
#include <pthread.h>

#include "autoconf.h"
#include "process.h"

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
 * Nothing in cardupd uses GnuTLS (the admin listener's TLS and certificate are BearSSL's:
 * web/admin/tls_term.c, admin_tls.c), and the default build (MHD=plain) links a
 * libmicrohttpd without HTTPS, so GnuTLS is not even mapped. With MHD=system (the Debian
 * package: Debian's libmicrohttpd, built with HTTPS) GnuTLS and its eight libraries are
 * mapped, GnuTLS's constructor initialises it and libmicrohttpd's (MHD_init) calls
 * gnutls_global_init() too: ~1 MiB resident (docs/performance.md) for nothing, as no
 * daemon of ours asks libmicrohttpd for TLS. Symbols the executable defines come first
 * in symbol lookup (the linker exports these three because the libraries name them), so:
 * - _gnutls_global_init_skip() is GnuTLS's GNUTLS_SKIP_GLOBAL_INIT (gnutls.h): its
 *   constructor skips the implicit initialisation;
 * - gnutls_global_init() (MHD_init's) does nothing and succeeds;
 * - gnutls_global_deinit() (MHD_fini's, at exit) has nothing to undo.
 * tests/integration/test_gnutls_init.py checks it on whichever build it runs.
 */
#if defined(CARDUPD_MHD_SYSTEM)
int _gnutls_global_init_skip(void);
int gnutls_global_init(void);
void gnutls_global_deinit(void);

int
_gnutls_global_init_skip(void)
{
	return 1;
}

int
gnutls_global_init(void)
{
	return 0;
}

void
gnutls_global_deinit(void)
{
}
#endif

/* see process.h */
void
process_setup(void)
{
	tune_memory();
}
