/* SPDX-License-Identifier: BSD-2-Clause */
/* checker.h — the CMS worker: one thread that runs checks off the main loop (a check
 * can take seconds), retries with backoff and jitter, and reports each result through
 * a callback. It owns the HTTPS client. */
#ifndef CARDUPD_CHECKER_H
#define CARDUPD_CHECKER_H

#include <stdint.h>
#include "core/card_id.h"
#include "core/cms.h"
#include "core/config.h"
#include "core/reader.h"

struct check_job {
	int			reader_idx;
	uint32_t		check_seq;
	char			reader[READER_NAME_MAX];
	enum cms_trigger	trigger;
	struct card_identity	id;
};

/* Called on the worker thread with the final result of a job (not for cancelled
 * ones). latency_ms covers all attempts. */
typedef void (*checker_done_cb)(void *arg, const struct check_job *job,
    const struct cms_result *res, long latency_ms);

struct checker;

/* Loads the trust anchors and client credentials of cfg and starts the worker.
 * Returns NULL with a reason in err (e.g. an unreadable anchors file). */
struct checker *checker_start(const struct cfg *cfg, checker_done_cb cb, void *arg,
    char *err, size_t errlen);

/* Queues a job (copied). Returns 0, or -1 when the queue is full. */
int checker_submit(struct checker *c, const struct check_job *job);

/* Abandons job check_seq for reader_idx: it is not started, not retried, and its
 * result is not reported. An attempt already on the wire finishes within its
 * deadline. */
void checker_cancel(struct checker *c, int reader_idx, uint32_t check_seq);

/* Switches to cfg's CMS settings for the next job. The new anchors and credentials
 * are loaded first; on failure the old settings stay and -1 is returned with err. */
int checker_reconfigure(struct checker *c, const struct cfg *cfg, char *err,
    size_t errlen);

/* Stops the worker (waits for an attempt in flight) and frees everything. */
void checker_stop(struct checker *c);

#endif
