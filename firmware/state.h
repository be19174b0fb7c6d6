/* state.h — turns the agent's state into the published snapshot: the SPEC §5 state
 * document for the kiosk page, plus what handlers need (prompt ids, portal URLs).
 * Pure: nothing identifying the card holder goes into it. */
#ifndef CARDUPD_STATE_H
#define CARDUPD_STATE_H

#include <stdint.h>
#include "core/agent.h"
#include "core/config.h"
#include "web/kiosk/kiosk.h"

/* Builds a snapshot (caller owns it; hand it to web_publish). now_ms is monotonic,
 * for the prompts' remaining seconds. kiosk_origin ("http://127.0.0.1:8080") is the
 * return URL given to the portal when kiosk.return_url_param is set. NULL on
 * allocation failure. */
struct web_snapshot *state_snapshot(const struct agent *a, const struct cfg *cfg,
    const char *kiosk_origin, int64_t now_ms, unsigned long seq);

/* Appends "<param>=<percent-encoded value>" to url with '?' or '&' into out.
 * Returns 0, or -1 when it does not fit. */
int state_add_query(char *out, size_t cap, const char *url, const char *param,
    const char *value);

#endif
