/* SPDX-License-Identifier: BSD-2-Clause */
/* breaker.c — see breaker.h. The circuit is the usual closed / open / half-open
 * machine; the card table is a small array searched linearly (32 entries: cheaper
 * than anything cleverer). */
#include <string.h>

#include "core/breaker.h"

/* see breaker.h */
void
breaker_init(struct breaker *b, const struct breaker_cfg *cfg)
{
	static const struct breaker_cfg def = BREAKER_CFG_DEFAULT;

	memset(b, 0, sizeof *b);
	b->cfg = cfg != NULL ? *cfg : def;
	if (b->cfg.fail_threshold < 1)
		b->cfg.fail_threshold = 1;
	if (b->cfg.cooldown_min_ms < 1)
		b->cfg.cooldown_min_ms = 1;
	if (b->cfg.cooldown_max_ms < b->cfg.cooldown_min_ms)
		b->cfg.cooldown_max_ms = b->cfg.cooldown_min_ms;
	if (b->cfg.probe_timeout_ms < 1)
		b->cfg.probe_timeout_ms = 1;
	if (b->cfg.recheck_max_s < 0)
		b->cfg.recheck_max_s = 0;
	b->state = BREAKER_CLOSED;
}

/* see breaker.h */
struct breaker_cfg
breaker_cfg_cooldown(long cooldown_s)
{
	static const struct breaker_cfg def = BREAKER_CFG_DEFAULT;
	struct breaker_cfg cfg = def;

	if (cooldown_s < 1)
		cooldown_s = 1;
	if (cooldown_s > BREAKER_COOLDOWN_MAX_MS / 1000)
		cooldown_s = BREAKER_COOLDOWN_MAX_MS / 1000;
	cfg.cooldown_min_ms = cooldown_s * 1000;
	cfg.cooldown_max_ms = cfg.cooldown_min_ms * BREAKER_COOLDOWN_GROWTH;
	if (cfg.cooldown_max_ms > BREAKER_COOLDOWN_MAX_MS)
		cfg.cooldown_max_ms = BREAKER_COOLDOWN_MAX_MS;
	return cfg;
}

/* ---- circuit breaker ---- */

/* see breaker.h */
enum breaker_verdict
breaker_allow(struct breaker *b, int64_t now_ms)
{
	switch (b->state) {
	case BREAKER_CLOSED:
		return BREAKER_GO;
	case BREAKER_OPEN:
		if (now_ms < b->open_until_ms)
			return BREAKER_FAIL_FAST;
		break;
	case BREAKER_HALF_OPEN:
		/* a probe whose result never came (cancelled, lost) must not keep the
		 * breaker shut for ever */
		if (now_ms - b->probe_since_ms < b->cfg.probe_timeout_ms)
			return BREAKER_FAIL_FAST;
		break;
	}
	b->state = BREAKER_HALF_OPEN;
	b->probe_since_ms = now_ms;
	return BREAKER_PROBE;
}

static void
trip(struct breaker *b, int64_t now_ms, uint32_t rnd)
{
	long c = b->cfg.cooldown_min_ms, max = b->cfg.cooldown_max_ms, span, d;
	unsigned i;

	if (b->trips < 64)
		b->trips++;
	for (i = 1; i < b->trips && c < max; i++)
		c = c > max / 2 ? max : c * 2;
	if (c > max)
		c = max;
	/* [3c/4, 5c/4]: breakers of many kiosks behind one dead CMS drift apart */
	span = c / 2;
	d = c - c / 4 + (span > 0 ? (long)(rnd % ((uint32_t)span + 1)) : 0);
	if (d > max)
		d = max;
	if (d < 1)
		d = 1;
	b->state = BREAKER_OPEN;
	b->open_until_ms = now_ms + d;
	b->fails = 0;
}

/* see breaker.h */
void
breaker_record(struct breaker *b, int down, int64_t now_ms, uint32_t rnd)
{
	if (!down) {
		b->state = BREAKER_CLOSED;
		b->fails = 0;
		b->trips = 0;
		return;
	}
	switch (b->state) {
	case BREAKER_CLOSED:
		if (++b->fails >= b->cfg.fail_threshold)
			trip(b, now_ms, rnd);
		break;
	case BREAKER_HALF_OPEN:
		trip(b, now_ms, rnd);
		break;
	case BREAKER_OPEN:
		/* a late result of an attempt that started before the breaker opened:
		 * it is already open, and the cool-down stands */
		break;
	}
}

/* see breaker.h */
long
breaker_retry_in_ms(const struct breaker *b, int64_t now_ms)
{
	int64_t left;

	switch (b->state) {
	case BREAKER_OPEN:
		left = b->open_until_ms - now_ms;
		break;
	case BREAKER_HALF_OPEN:
		left = b->probe_since_ms + b->cfg.probe_timeout_ms - now_ms;
		break;
	default:
		return 0;
	}
	return left > 0 ? (long)left : 0;
}

/* see breaker.h */
int
breaker_is_down(const char *code, int http_status)
{
	static const char *const down[] = { "dns", "connect", "timeout", "io" };
	size_t i;

	if (code == NULL)
		return 0;
	for (i = 0; i < sizeof down / sizeof down[0]; i++)
		if (strcmp(code, down[i]) == 0)
			return 1;
	if (strcmp(code, "http_status") == 0)
		return http_status == 502 || http_status == 503 || http_status == 504;
	return 0;
}

/* ---- recheck window ---- */

/* see breaker.h */
uint64_t
breaker_card_key(const void *p, size_t len)
{
	const unsigned char *s = p;
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h != 0 ? h : 1;
}

static struct breaker_card *
find(struct breaker *b, uint64_t key)
{
	size_t i;

	if (key == 0)
		return NULL;
	for (i = 0; i < BREAKER_CARDS_MAX; i++)
		if (b->cards[i].key == key)
			return &b->cards[i];
	return NULL;
}

/* see breaker.h */
int
breaker_recheck_skip(struct breaker *b, uint64_t key, int64_t now_ms)
{
	struct breaker_card *e = find(b, key);

	if (e == NULL)
		return 0;
	if (now_ms < e->until_ms)
		return 1;
	e->key = 0;
	return 0;
}

/* see breaker.h */
void
breaker_recheck_note(struct breaker *b, uint64_t key, int nothing_pending,
    long recheck_after_s, int64_t now_ms)
{
	struct breaker_card *e;
	size_t i;
	long s;

	if (key == 0)
		return;
	if (!nothing_pending || recheck_after_s < 1 || b->cfg.recheck_max_s < 1) {
		breaker_card_forget(b, key);
		return;
	}
	s = recheck_after_s < b->cfg.recheck_max_s ? recheck_after_s :
	    b->cfg.recheck_max_s;
	if ((e = find(b, key)) == NULL) {
		/* a free or ended slot, else the one whose window ends first */
		e = &b->cards[0];
		for (i = 0; i < BREAKER_CARDS_MAX; i++) {
			if (b->cards[i].key == 0 || b->cards[i].until_ms <= now_ms) {
				e = &b->cards[i];
				break;
			}
			if (b->cards[i].until_ms < e->until_ms)
				e = &b->cards[i];
		}
	}
	e->key = key;
	e->until_ms = now_ms + (int64_t)s * 1000;
}

/* see breaker.h */
void
breaker_card_forget(struct breaker *b, uint64_t key)
{
	struct breaker_card *e = find(b, key);

	if (e != NULL)
		e->key = 0;
}
