/* SPDX-License-Identifier: BSD-2-Clause */
/* host.c — see host.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/host.h"

/* see host.h */
char *
host_name(char *out, size_t cap)
{
	memset(out, 0, cap);
	if (gethostname(out, cap - 1) == -1 || out[0] == '\0')
		snprintf(out, cap, "cardupd");
	return out;
}
