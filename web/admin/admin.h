/* SPDX-License-Identifier: BSD-2-Clause */
/* admin.h — the remote administration listener (SPEC §6): HTTPS (libmicrohttpd with
 * GnuTLS) on admin.listen, the admin pages from web/admin/, the JSON API under
 * /api/v1/admin/ and GET /metrics. Like the kiosk server, handlers never touch the
 * agent: they read the snapshot the main loop publishes and post commands through a
 * callback. What the admin listener owns itself (sessions, lock-out, API tokens, the
 * setup code, the audit log) lives behind its own lock. */
#ifndef CARDUPD_ADMIN_H
#define CARDUPD_ADMIN_H

#include <stddef.h>
#include <stdint.h>
#include "core/agent.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/reader.h"
#include "core/view.h"

enum admin_cmd_type {
	ADMIN_CMD_CHECK,	/* manual check on reader (same as the kiosk's) */
	ADMIN_CMD_RECONNECT,	/* restart the reader watcher: reconnect to pcscd */
	ADMIN_CMD_RELOAD,	/* the config file changed: reload it (as SIGHUP) */
};

struct admin_cmd {
	enum admin_cmd_type	type;
	char			reader[READER_NAME_MAX];
	char			source[64];	/* who asked, for the log */
};

/* Called on the server thread; copies cmd. Returns 0, or -1 when it could not be
 * queued (the handler answers 503). */
typedef int (*admin_cmd_cb)(void *arg, const struct admin_cmd *cmd);

/* struct admin_snapshot, what the main loop publishes for the admin handlers, is
 * core/view.h's (built by view_admin(), freed by admin_snapshot_free()). */

struct admin_server;

/* Starts the listener when cfg->admin_listen is set: creates admin.state_dir (0700),
 * loads or makes the TLS certificate (logs its SHA-256 fingerprint), loads the API
 * tokens, opens the audit log, and — when no password is set — makes the one-time
 * setup code (logged, and returned by admin_setup_code()). cfg_path is the file that
 * settings changes rewrite. Returns NULL with err on failure; NULL with err = ""
 * when admin.listen is empty (administration off). */
struct admin_server *admin_start(const struct cfg *cfg, const char *cfg_path,
    admin_cmd_cb cb, void *arg, char *err, size_t errlen);

/* Replaces the published snapshot; the server takes ownership. NULL server: the
 * snapshot is freed. Thread-safe; waits at most for a pointer swap or a copy out of the
 * snapshot (the admin lock is never held across file I/O or password hashing). */
void admin_publish(struct admin_server *as, struct admin_snapshot *snap);

/* The configuration was reloaded: take the new password hash. A hash that changed ends
 * every session; a hash set in the file ends the setup code, an emptied one makes a new
 * setup code at once (logged, and on the kiosk screen). Takes the admin lock only
 * briefly (never held across I/O). Listener address and certificate changes need a
 * restart. */
void admin_reconfigure(struct admin_server *as, const struct cfg *cfg);

/* Stops the listener, wipes sessions and keys. NULL is accepted. */
void admin_stop(struct admin_server *as);

/* Writes an event of the device itself (not of an administrator) to the audit log,
 * e.g. a card update session and its outcome: source "device", who "cardupd". The
 * record is queued and written by the admin side's own thread: the caller (the main
 * loop) never waits for the disk; a full queue drops it and counts it. Thread-safe;
 * NULL server (admin listener off): nothing. */
void admin_audit_device(struct admin_server *as, const char *action, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The one-time setup code while no admin password is set ("XXXX-XXXX-XXXX"), else
 * NULL. The string never changes once made; callable from any thread (the kiosk
 * page shows it). */
const char *admin_setup_code(void);

/* SHA-256 fingerprint of the admin listener's certificate ("AB:CD:..."), or NULL
 * when the listener is off. Never changes once the listener started; any thread. */
const char *admin_fingerprint(void);

#endif
