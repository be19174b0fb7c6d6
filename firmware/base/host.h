/* SPDX-License-Identifier: BSD-2-Clause */
/* host.h — what the daemon asks about the machine it runs on. Owns no state. */
#ifndef CARDUPD_HOST_H
#define CARDUPD_HOST_H

#include <stddef.h>

/* Writes the host name (gethostname), or "cardupd" when there is none, into out
 * (cap > 1; truncated, always NUL-terminated). Returns out. */
char *host_name(char *out, size_t cap);

#endif
