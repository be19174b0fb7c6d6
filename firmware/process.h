/* SPDX-License-Identifier: BSD-2-Clause */
/* process.h — the cardupd process's own set-up, linked into the executable only. */
#ifndef CARDUPD_PROCESS_H
#define CARDUPD_PROCESS_H

/* Called first in main(), before any thread exists: one malloc arena, large blocks from
 * mmap(), a 256 KiB default thread stack (process.c says why), and the mark after which
 * a call of gnutls_global_init() reaches GnuTLS (before it, libmicrohttpd's constructor's
 * call does nothing: GnuTLS is initialised only by the admin listener). */
void process_setup(void);

#endif
