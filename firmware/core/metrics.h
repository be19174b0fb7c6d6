/* SPDX-License-Identifier: BSD-2-Clause */
/* metrics.h — counters and the recent checks for the admin dashboard and GET /metrics
 * (Prometheus text format). Pure. The main loop owns and records them (metrics.c) and
 * publishes a copy in the admin snapshot (core/view.c); the admin listener renders the
 * text from that copy when it is scraped (metrics_text.c, web/admin/status.c), not on
 * every state change. */
#ifndef CARDUPD_METRICS_H
#define CARDUPD_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include "core/agent.h"
#include "core/cms.h"
#include "core/reader.h"

#define METRICS_CODES	24	/* distinct result labels; more go to "other" */
#define METRICS_RECENT	20
#define METRICS_BUCKETS	9
#define METRICS_READERS	16	/* reader names counted; more go to reader="other" */

/* Upper bounds of the check latency histogram, in ms (+Inf is implicit). */
extern const long metrics_bucket_ms[METRICS_BUCKETS];

struct metrics_check {
	int64_t	when;				/* unix time */
	char	reader[READER_NAME_MAX];
	char	trigger[12];
	char	result[CMS_CODE_MAX];		/* "none", "pending" or a failure code */
	long	latency_ms;
	int	http_status;
};

/* Health counters of one reader name (kept after the reader is gone: counters never go
 * back). */
struct metrics_reader {
	char		name[READER_NAME_MAX];
	unsigned long	appeared, gone;
	unsigned long	read_errors[READER_ERR_KINDS];
};

struct metrics {
	struct {
		char		code[CMS_CODE_MAX];
		unsigned long	n;
	}			by_result[METRICS_CODES];
	size_t			n_codes;
	unsigned long		other;
	unsigned long		bucket[METRICS_BUCKETS];	/* not cumulative */
	unsigned long		lat_count;
	double			lat_sum_s;
	unsigned long		pcscd_reconnects, tls_full, tls_resumed;
	struct metrics_check	recent[METRICS_RECENT];	/* ring */
	size_t			recent_next, recent_n;
	struct metrics_reader	readers[METRICS_READERS];
	size_t			n_readers;
	struct metrics_reader	other_reader;	/* names past METRICS_READERS */
	int			cms_breaker_open;	/* as the last check left it */
	size_t			anchors_n;	/* trust anchors loaded (0: unknown) */
	int64_t			anchors_not_after;	/* earliest expiry, unix time */
};

/* What GET /metrics shows besides struct metrics, taken from the agent when the main
 * loop publishes. */
struct metrics_gauges {
	struct agent_counters	count;		/* the agent's counters */
	int			readers, cards;	/* readers present, those with a card */
	int			pcscd_up;	/* 1: connected to pcscd */
};

void metrics_init(struct metrics *m);

/* Fills g from the agent and pcscd_up (connected to pcscd now). */
void metrics_gauges_take(struct metrics_gauges *g, const struct agent *a, int pcscd_up);

/* The result label of a check: "none", "pending" or the failure code. */
const char *metrics_result_label(const struct cms_result *res);

/* Records one finished check at wall time now. A check that got an HTTP answer
 * over a new connection counts one TLS handshake, full or resumed (res->resumed);
 * one sent on a kept-alive connection (res->reused) counts none. res->breaker_open
 * becomes the circuit breaker gauge. */
void metrics_record_check(struct metrics *m, const char *reader, const char *trigger,
    const struct cms_result *res, long latency_ms, int64_t now);

/* Counts a reconnection to pcscd (not the first connection). */
void metrics_pcscd_reconnect(struct metrics *m);

/* Counts reader (a name from pcsc-lite) appearing (at start too, and after a pcscd
 * restart) or going away. */
void metrics_reader_appeared(struct metrics *m, const char *reader);
void metrics_reader_gone(struct metrics *m, const char *reader);

/* Counts a card in reader that could not be read, and why. */
void metrics_read_error(struct metrics *m, const char *reader, enum reader_error kind);

/* The CMS trust anchors loaded: how many, and the earliest expiry among them (unix
 * time). n = 0: not known (not loaded, or unreadable); the gauges are then left out. */
void metrics_set_anchors(struct metrics *m, size_t n, int64_t earliest_not_after);

/* The i-th most recent check (0 = newest), or NULL. */
const struct metrics_check *metrics_recent(const struct metrics *m, size_t i);

/* metrics_text.c */
/* Prometheus text exposition of m and g: every series in docs/monitoring.md. Returns
 * malloc'd text (caller frees) or NULL on allocation failure. Called when scraped. */
char *metrics_render(const struct metrics *m, const struct metrics_gauges *g);

#endif
