/* SPDX-License-Identifier: BSD-2-Clause */
/* view.h — what the two listeners show, built from the agent by the main loop and
 * published immutable: the kiosk snapshot (SPEC §5 state document plus what the kiosk
 * handlers need: prompt ids, portal URLs) and the admin snapshot (dashboard JSON, the
 * counters GET /metrics renders when scraped, the running configuration). A reader's
 * update list is rendered once for both; the manual-check reader choice both listeners
 * make is here too.
 * Pure: everything comes from the arguments; nothing identifying the card holder goes
 * into either snapshot. */
#ifndef CARDUPD_VIEW_H
#define CARDUPD_VIEW_H

#include <stddef.h>
#include <stdint.h>
#include "autoconf.h"
#include "core/agent.h"
#include "core/cms.h"
#include "core/config.h"
#include "core/metrics.h"
#include "core/reader.h"

/* A reader as a listener's handler may choose it. */
struct view_reader {
	char	name[READER_NAME_MAX];
	int	card_present;
};

/* What a kiosk handler may know of one reader beyond the public JSON. */
struct web_reader_view {
	char	name[READER_NAME_MAX];
	int	card_present;
	char	prompt_id[AGENT_PROMPT_ID_MAX];	/* "" when no prompt */
	char	portal_url[CMS_URL_MAX + 64];	/* for Proceed */
};

/* The kiosk snapshot. Immutable once published; web_publish takes ownership. */
struct web_snapshot {
	unsigned long		seq;
	char			*json;		/* SPEC §5 state document */
	size_t			 json_len;
	size_t			 n;
	struct web_reader_view	 r[CONFIG_MAX_READERS];
	struct view_reader	 rd[CONFIG_MAX_READERS];	/* the same n, for choosing */
};

/* The admin snapshot. Immutable once published; admin_publish takes ownership. */
struct admin_snapshot {
	unsigned long		 seq;
	char			*status_json;	/* readers, recent checks, CMS, prerequisites */
	struct metrics		 metrics;	/* copies, for metrics_render() when */
	struct metrics_gauges	 gauges;	/*   GET /metrics is scraped */
	struct cfg		 cfg;		/* the running configuration */
	size_t			 n;
	struct view_reader	 r[CONFIG_MAX_READERS];
};

/* Builds the kiosk snapshot (the caller owns it until web_publish). now_ms is
 * monotonic, for the prompts' remaining seconds. kiosk_origin ("http://127.0.0.1:8080/")
 * is the return URL given to the portal when kiosk.return_url_param is set. setup_code
 * and admin_fingerprint (NULL: none) are shown while no admin password is set.
 * admin_error (NULL: none) is why the admin listener did not start: a failed
 * "admin" prerequisite. NULL on allocation failure. */
struct web_snapshot *view_kiosk(const struct agent *a, const struct cfg *cfg,
    const char *kiosk_origin, const char *setup_code, const char *admin_fingerprint,
    const char *admin_error, int64_t now_ms, unsigned long seq);

/* Frees a kiosk snapshot. NULL is accepted. */
void web_snapshot_free(struct web_snapshot *snap);

/* Builds the admin snapshot (the caller owns it until admin_publish). pcsc_up:
 * connected to pcscd now; wall and started are unix times (now, daemon start). NULL on
 * allocation failure. */
struct admin_snapshot *view_admin(const struct agent *a, const struct cfg *cfg,
    const struct metrics *m, int pcsc_up, long long wall, long long started);

/* Frees an admin snapshot. NULL is accepted. */
void admin_snapshot_free(struct admin_snapshot *snap);

/* The manual-check reader choice, the same for the kiosk and the admin listeners. */
enum view_pick {
	VIEW_PICK_OK,		/* *idx is the reader */
	VIEW_PICK_UNKNOWN,	/* want names no reader (HTTP 404 "no such reader") */
	VIEW_PICK_AMBIGUOUS,	/* none named and not exactly one card (409 "name the
				   reader") */
	VIEW_PICK_NO_CARD,	/* the reader named holds no card (409) */
};

/* Chooses among r[0..n) the reader a manual check is for: want (NULL or "": the one
 * reader holding a card, when exactly one does). */
enum view_pick view_pick_reader(const struct view_reader *r, size_t n, const char *want,
    size_t *idx);

/* Appends "<param>=<percent-encoded value>" to url with '?' or '&' into out.
 * Returns 0, or -1 when it does not fit. */
int view_add_query(char *out, size_t cap, const char *url, const char *param,
    const char *value);

#endif
