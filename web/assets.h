/* SPDX-License-Identifier: BSD-2-Clause */
/* assets.h — the kiosk page's files, embedded at build time by scripts/embed.py. */
#ifndef CARDUPD_ASSETS_H
#define CARDUPD_ASSETS_H

#include <stddef.h>

struct asset {
	const char		*path;	/* "/index.html" */
	const char		*type;	/* Content-Type */
	const unsigned char	*data;
	size_t			 len;
	const char		*etag;	/* quoted */
};

/* Terminated by an entry whose path is NULL. web_assets: web/kiosk/, admin_assets:
 * web/admin/ (empty when there is no such folder). */
extern const struct asset web_assets[];
extern const struct asset admin_assets[];

#endif
