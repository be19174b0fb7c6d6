/* SPDX-License-Identifier: BSD-2-Clause */
/* kiosk.h — the kiosk web server (libmicrohttpd): the embedded page, the kiosk API of
 * SPEC §5 for loopback peers, and Server-Sent Events. Handlers never touch the agent:
 * they read the published snapshot and post commands through a callback. */
#ifndef CARDUPD_SERVER_H
#define CARDUPD_SERVER_H

#include <stddef.h>
#include "autoconf.h"
#include "core/cms.h"
#include "core/reader.h"
#include "core/agent.h"
#include "core/view.h"

/* struct web_snapshot, the published state, and web_snapshot_free are core/view.h's:
 * the main loop builds it with view_kiosk(). */

enum web_cmd_type { WEB_CMD_CHECK, WEB_CMD_PROCEED, WEB_CMD_CLOSE, WEB_CMD_CANCEL_SESSION };

struct web_cmd {
	enum web_cmd_type	type;
	char			reader[READER_NAME_MAX];
	char			prompt_id[AGENT_PROMPT_ID_MAX];	/* "" = none given */
};

/* Called on a server thread; copies cmd. Returns 0, or -1 when it could not be
 * queued (the handler answers 503). */
typedef int (*web_cmd_cb)(void *arg, const struct web_cmd *cmd);

struct web_server;

/* Starts listening on listen ("IP:PORT" or "[v6]:PORT"). The first snapshot must be
 * published before the server is useful; until then /api/v1/state answers 503.
 * Returns NULL with a reason in err. */
struct web_server *web_start(const char *listen, web_cmd_cb cb, void *arg,
    char *err, size_t errlen);

/* Replaces the published snapshot (the server takes ownership of snap) and wakes
 * every kiosk page waiting for events. Thread-safe. */
void web_publish(struct web_server *ws, struct web_snapshot *snap);

/* Ends every event stream, stops the server and frees it. NULL is accepted. */
void web_stop(struct web_server *ws);

#endif
