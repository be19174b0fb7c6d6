/* SPDX-License-Identifier: BSD-2-Clause */
/* admin_none.c — web/admin/admin.h for builds without the remote administration
 * (Kconfig ADMIN=n, chosen by the Makefile instead of the other web/admin files): the
 * same interface, doing nothing, so that the loop has no #ifdef. [admin] keys stay
 * valid in such a build (one file format for every build), but nothing serves them:
 * it says so rather than ignore them silently. */
#include <stddef.h>

#include "base/log.h"
#include "web/admin/admin.h"

static void
warn_ignored(const struct cfg *cfg)
{
	if (cfg->admin_listen[0] != '\0')
		log_warnx("[admin] listen = %s: ignored, this cardupd is built without the "
		    "admin listener (Kconfig ADMIN)", cfg->admin_listen);
}

/* see admin.h: never a listener (NULL with err = "", as for admin.listen empty). */
struct admin_server *
admin_start(const struct cfg *cfg, const char *cfg_path, admin_cmd_cb cb, void *arg,
    char *err, size_t errlen)
{
	(void)cfg_path;
	(void)cb;
	(void)arg;
	warn_ignored(cfg);
	if (errlen > 0)
		err[0] = '\0';
	return NULL;
}

/* see admin.h */
void
admin_publish(struct admin_server *as, struct admin_snapshot *snap)
{
	(void)as;
	admin_snapshot_free(snap);
}

/* see admin.h */
void
admin_reconfigure(struct admin_server *as, const struct cfg *cfg)
{
	(void)as;
	warn_ignored(cfg);
}

/* see admin.h */
void
admin_stop(struct admin_server *as)
{
	(void)as;
}

/* see admin.h */
void
admin_audit_device(struct admin_server *as, const char *action, const char *fmt, ...)
{
	(void)as;
	(void)action;
	(void)fmt;
}

/* see admin.h */
const char *
admin_setup_code(void)
{
	return NULL;
}

/* see admin.h */
const char *
admin_fingerprint(void)
{
	return NULL;
}
