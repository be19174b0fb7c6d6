/* SPDX-License-Identifier: BSD-2-Clause */
/* breaker.h — two pure guards in front of the CMS: the per-card recheck window (a card
 * the CMS said was up to date is not asked about again, on re-insertion, before its
 * recheck_after_s ends) and a circuit breaker (after repeated transport failures the
 * CMS is taken for down: checks fail fast with "cms_down" for a growing, jittered
 * cool-down, then one probe is let through). No I/O, no clock reads, no threads, no
 * allocation: time and randomness are inputs. One owner (the CMS worker). */
#ifndef CARDUPD_BREAKER_H
#define CARDUPD_BREAKER_H

#include <stddef.h>
#include <stdint.h>

/* Cards remembered at once; the entry whose window ends first makes room. */
#define BREAKER_CARDS_MAX	32

struct breaker_cfg {
	unsigned	fail_threshold;		/* consecutive failures that open (>= 1) */
	long		cooldown_min_ms;	/* first cool-down */
	long		cooldown_max_ms;	/* ceiling, jitter included */
	long		probe_timeout_ms;	/* a probe not reported by then is lost */
	long		recheck_max_s;		/* longest recheck_after_s honoured */
};

/* The defaults: 3 failures; 1 s doubling to 64 s; a lost probe after 60 s; a recheck
 * window of at most one day. A short first cool-down ends a blip (a CMS restarting)
 * within about a second; probes go only with a check (a person at a kiosk), never on a
 * timer, so a short cool-down does not load a CMS that is down. The ceiling bounds how
 * long a kiosk keeps saying "cms_down" after a long outage has ended. */
#define BREAKER_COOLDOWN_S_DEFAULT	1
#define BREAKER_CFG_DEFAULT	{ 3, 1000, 64000, 60000, 86400 }

/* Ceiling of the cool-down: 64 times the first, at most 5 minutes. */
#define BREAKER_COOLDOWN_GROWTH	64
#define BREAKER_COOLDOWN_MAX_MS	300000

enum breaker_state { BREAKER_CLOSED, BREAKER_OPEN, BREAKER_HALF_OPEN };

/* What breaker_allow() lets the caller do. */
enum breaker_verdict {
	BREAKER_GO,		/* closed: attempt normally */
	BREAKER_PROBE,		/* this attempt is the probe: report it with breaker_record */
	BREAKER_FAIL_FAST,	/* open: do not touch the network, fail with "cms_down" */
};

struct breaker_card {
	uint64_t	key;		/* 0: free slot */
	int64_t		until_ms;	/* no automatic re-check before this */
};

struct breaker {
	struct breaker_cfg	cfg;
	enum breaker_state	state;
	unsigned		fails;		/* consecutive, while closed */
	unsigned		trips;		/* opens since the last success */
	int64_t			open_until_ms;	/* OPEN: when the next probe may go */
	int64_t			probe_since_ms;	/* HALF_OPEN: when the probe went */
	struct breaker_card	cards[BREAKER_CARDS_MAX];
};

/* Initialises b (closed, no card remembered) with cfg, or the defaults when cfg is
 * NULL. Out-of-range values are clamped (threshold >= 1, 0 < min <= max). */
void breaker_init(struct breaker *b, const struct breaker_cfg *cfg);

/* The defaults with a first cool-down of cooldown_s seconds (cms.breaker_cooldown_s;
 * < 1 is taken as 1) and a ceiling of BREAKER_COOLDOWN_GROWTH times that, at most
 * BREAKER_COOLDOWN_MAX_MS (and never below the first). */
struct breaker_cfg breaker_cfg_cooldown(long cooldown_s);

/* ---- circuit breaker ---- */

/* Asks whether an attempt may go to the CMS at now_ms (monotonic). Closed: GO. Open
 * before its cool-down ends: FAIL_FAST. Open after it, or half-open with the probe
 * lost (probe_timeout_ms): PROBE, and the breaker is half-open until the probe is
 * recorded; other attempts meanwhile get FAIL_FAST. */
enum breaker_verdict breaker_allow(struct breaker *b, int64_t now_ms);

/* Records the outcome of an attempt that went to the network (GO or PROBE). down: the
 * attempt says the CMS is unreachable (see breaker_is_down). rnd: any random 32 bits,
 * for the jitter. A success closes the breaker and forgets the failures; the
 * fail_threshold-th consecutive failure, or a failed probe, opens it for
 *   c = min(cooldown_max, cooldown_min * 2^(trips - 1)),  jittered to [3c/4, 5c/4],
 * never more than cooldown_max. */
void breaker_record(struct breaker *b, int down, int64_t now_ms, uint32_t rnd);

/* Milliseconds until a probe may go (0 when closed or when one may go now). */
long breaker_retry_in_ms(const struct breaker *b, int64_t now_ms);

/* 1 when a failure code (https/cms codes) with its HTTP status (0 when none) means the
 * CMS or the way to it is down: "dns", "connect", "timeout", "io", and HTTP 502, 503
 * and 504. TLS, answer and portal failures are not outages (the CMS answered). */
int breaker_is_down(const char *code, int http_status);

/* ---- recheck window ---- */

/* A key for a card from identity bytes (e.g. its card_log_tag): 64-bit FNV-1a, never
 * 0. */
uint64_t breaker_card_key(const void *p, size_t len);

/* 1 when an automatic check of card key at now_ms should be skipped because the CMS
 * said recently that nothing was pending for it; 0 otherwise (an ended window is
 * forgotten). Manual checks should not ask. */
int breaker_recheck_skip(struct breaker *b, uint64_t key, int64_t now_ms);

/* Records the result of a check of card key that reached the CMS. nothing_pending: the
 * answer was "nothing to do". recheck_after_s: the answer's value (< 1: no window). A
 * window (at most recheck_max_s) is remembered only for nothing_pending answers;
 * anything else forgets the card, so it is asked again next time. */
void breaker_recheck_note(struct breaker *b, uint64_t key, int nothing_pending,
    long recheck_after_s, int64_t now_ms);

/* Forgets card key (e.g. after the user went to the portal). */
void breaker_card_forget(struct breaker *b, uint64_t key);

#endif
