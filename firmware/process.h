/* SPDX-License-Identifier: BSD-2-Clause */
/* process.h — the cardupd process's own set-up, linked into the executable only. */
#ifndef CARDUPD_PROCESS_H
#define CARDUPD_PROCESS_H

/* Called first in main(), before any thread exists: one malloc arena, large blocks from
 * mmap(), a 256 KiB default thread stack (process.c says why). Linked to Debian's
 * libmicrohttpd (MHD=system), process.c also keeps GnuTLS, which that library maps,
 * from ever being initialised. */
void process_setup(void);

#endif
