/* SPDX-License-Identifier: BSD-2-Clause */
/* auth.c — see auth.h. Secrets never leave this file un-hashed except to the caller
 * who asked for them; every comparison of a secret runs in constant time. */
#include <crypt.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <bearssl.h>

#include "base/hex.h"
#include "web/admin/auth.h"

/* see auth.h */
int
auth_ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *pa = a, *pb = b;
	unsigned char diff = alen != blen;
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		diff |= pa[i] ^ pb[i];
	return diff == 0;
}

/* see auth.h */
int
auth_ct_streq(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return 0;
	return auth_ct_equal(a, strlen(a), b, strlen(b));
}

static int
random_bytes(void *buf, size_t len)
{
	unsigned char *p = buf;
	size_t got = 0;
	ssize_t r;

	while (got < len) {
		r = getrandom(p + got, len - got, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* see auth.h */
int
auth_random_token(char out[AUTH_TOKEN_BUF])
{
	static const char b64[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
	unsigned char r[33];	/* 32 used; a multiple of 3 to encode */
	size_t o = 0;

	if (random_bytes(r, 32) == -1)
		return -1;
	r[32] = 0;
	for (size_t i = 0; i < 33; i += 3) {
		uint32_t v = (uint32_t)r[i] << 16 | (uint32_t)r[i + 1] << 8 | r[i + 2];

		out[o++] = b64[(v >> 18) & 63];
		out[o++] = b64[(v >> 12) & 63];
		out[o++] = b64[(v >> 6) & 63];
		out[o++] = b64[v & 63];
	}
	out[AUTH_TOKEN_BUF - 1] = '\0';	/* 43 characters carry the 256 bits */
	explicit_bzero(r, sizeof(r));
	return 0;
}

static const char crockford[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/* see auth.h */
int
auth_setup_code(char out[AUTH_CODE_BUF])
{
	unsigned char r[12];
	size_t o = 0;

	if (random_bytes(r, sizeof(r)) == -1)
		return -1;
	for (size_t i = 0; i < 12; i++) {
		if (i > 0 && i % 4 == 0)
			out[o++] = '-';
		out[o++] = crockford[r[i] & 31];
	}
	out[o] = '\0';
	explicit_bzero(r, sizeof(r));
	return 0;
}

/* Canonical form of a code: upper case, no separators, O→0, I/L→1 (Crockford). */
static size_t
canon_code(const char *s, char *out, size_t cap)
{
	size_t o = 0;

	for (; *s && o + 1 < cap; s++) {
		char c = *s;

		if (c == '-' || c == ' ')
			continue;
		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c == 'O')
			c = '0';
		else if (c == 'I' || c == 'L')
			c = '1';
		out[o++] = c;
	}
	out[o] = '\0';
	return o;
}

/* see auth.h */
int
auth_code_equal(const char *typed, const char *code)
{
	char a[64], b[64];
	size_t na, nb;
	int eq;

	if (typed == NULL || code == NULL || code[0] == '\0' || strlen(typed) >= sizeof(a))
		return 0;
	na = canon_code(typed, a, sizeof(a));
	nb = canon_code(code, b, sizeof(b));
	eq = auth_ct_equal(a, na, b, nb);
	explicit_bzero(a, sizeof(a));
	explicit_bzero(b, sizeof(b));
	return eq;
}

/* see auth.h */
int
auth_password_acceptable(const char *pw, const char **why)
{
	size_t n = strlen(pw);

	if (n < AUTH_PASSWORD_MIN) {
		*why = "at least 10 characters";
		return -1;
	}
	if (n > AUTH_PASSWORD_MAX) {
		*why = "at most 128 characters";
		return -1;
	}
	for (const unsigned char *p = (const unsigned char *)pw; *p; p++)
		if (*p < 0x20 || *p == 0x7f) {
			*why = "no control characters";
			return -1;
		}
	return 0;
}

/* see auth.h */
int
auth_hash_password(const char *pw, char *out, size_t cap)
{
	char salt[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	/* NULL random bytes: libxcrypt reads them from the kernel itself. */
	if (crypt_gensalt_rn("$y$", 0, NULL, 0, salt, sizeof(salt)) == NULL)
		return -1;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return -1;
	h = crypt_r(pw, salt, cd);
	if (h != NULL && h[0] == '$' && strlen(h) < cap) {
		memcpy(out, h, strlen(h) + 1);
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}

/* see auth.h */
int
auth_verify_password(const char *pw, const char *hash)
{
	struct crypt_data *cd;
	const char *h;
	int ok = 0;

	/* Longer than any password we let anyone set: refused before hashing, so an
	 * oversized login body cannot buy a long crypt_r() on the server's thread. */
	if (hash == NULL || hash[0] != '$' || pw == NULL ||
	    strnlen(pw, AUTH_PASSWORD_MAX + 1) > AUTH_PASSWORD_MAX)
		return 0;
	if ((cd = calloc(1, sizeof(*cd))) == NULL)
		return 0;
	h = crypt_r(pw, hash, cd);
	/* A failed crypt_r returns "*0"/"*1", which never equals a '$' hash. */
	if (h != NULL && h[0] == '$')
		ok = auth_ct_streq(h, hash);
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return ok;
}

/* ---- sessions ----------------------------------------------------------------- */

/* see auth.h */
void
auth_sessions_init(struct auth_sessions *t, int idle_s, int max_s)
{
	memset(t, 0, sizeof(*t));
	t->idle_s = idle_s;
	t->max_s = max_s;
}

static void
session_wipe(struct auth_session *s)
{
	explicit_bzero(s, sizeof(*s));
}

/* see auth.h */
const struct auth_session *
auth_session_new(struct auth_sessions *t, const char *source, int64_t now)
{
	struct auth_session *slot = NULL;

	for (size_t i = 0; i < CONFIG_ADMIN_MAX_SESSIONS; i++) {
		struct auth_session *s = &t->s[i];

		if (s->used && (now - s->last_used >= t->idle_s ||
		    now - s->created >= t->max_s))
			session_wipe(s);
		if (!s->used && slot == NULL)
			slot = s;
	}
	if (slot == NULL) {
		slot = &t->s[0];
		for (size_t i = 1; i < CONFIG_ADMIN_MAX_SESSIONS; i++)
			if (t->s[i].last_used < slot->last_used)
				slot = &t->s[i];
		session_wipe(slot);
	}
	if (auth_random_token(slot->token) == -1 || auth_random_token(slot->csrf) == -1) {
		session_wipe(slot);
		return NULL;
	}
	snprintf(slot->source, sizeof(slot->source), "%s", source);
	slot->created = slot->last_used = now;
	slot->used = 1;
	return slot;
}

/* see auth.h */
const struct auth_session *
auth_session_find(struct auth_sessions *t, const char *token, int64_t now)
{
	struct auth_session *found = NULL;

	if (token == NULL || strlen(token) != AUTH_TOKEN_BUF - 1)
		return NULL;
	/* Look at every slot so that the time does not say which one matched. */
	for (size_t i = 0; i < CONFIG_ADMIN_MAX_SESSIONS; i++)
		if (auth_ct_streq(t->s[i].token, token) & t->s[i].used)
			found = &t->s[i];
	if (found == NULL)
		return NULL;
	if (now - found->last_used >= t->idle_s || now - found->created >= t->max_s) {
		session_wipe(found);
		return NULL;
	}
	found->last_used = now;
	return found;
}

/* see auth.h */
void
auth_session_end(struct auth_sessions *t, const char *token)
{
	if (token == NULL)
		return;
	for (size_t i = 0; i < CONFIG_ADMIN_MAX_SESSIONS; i++)
		if (t->s[i].used && auth_ct_streq(t->s[i].token, token))
			session_wipe(&t->s[i]);
}

/* see auth.h */
void
auth_sessions_clear(struct auth_sessions *t)
{
	for (size_t i = 0; i < CONFIG_ADMIN_MAX_SESSIONS; i++)
		session_wipe(&t->s[i]);
}

/* ---- lock-out ------------------------------------------------------------------ */

/* see auth.h */
void
auth_lockout_init(struct auth_lockout *l, unsigned threshold, long base_s, long max_s)
{
	memset(l, 0, sizeof(*l));
	l->threshold = threshold;
	l->base_s = base_s;
	l->max_s = max_s;
	l->global_interval_s = AUTH_GLOBAL_INTERVAL_S;
	l->global_burst = AUTH_GLOBAL_BURST;
}

static struct auth_lock_entry *
lock_find(const struct auth_lockout *l, const char *source)
{
	for (size_t i = 0; i < AUTH_LOCK_SLOTS; i++)
		if (l->e[i].source[0] != '\0' && strcmp(l->e[i].source, source) == 0)
			return (struct auth_lock_entry *)(uintptr_t)&l->e[i];	/* const-less view */
	return NULL;
}

/* A slot that may be given to another source: free, or neither locked nor inside its
 * forget window. */
static int
lock_reusable(const struct auth_lock_entry *e, int64_t now)
{
	return e->source[0] == '\0' ||
	    (e->until <= now && now - e->last_fail >= AUTH_LOCK_FORGET_S);
}

/* The entry that holds source's failures: its own slot, or the overflow slot when the
 * table has no reusable one (NULL for a source not seen: nothing to wait for). */
static struct auth_lock_entry *
lock_of(const struct auth_lockout *l, const char *source, int64_t now)
{
	struct auth_lock_entry *e = lock_find(l, source);

	if (e != NULL)
		return e;
	for (size_t i = 0; i < AUTH_LOCK_SLOTS; i++)
		if (lock_reusable(&l->e[i], now))
			return NULL;
	return (struct auth_lock_entry *)(uintptr_t)&l->overflow;	/* const-less view */
}

static long
global_wait(const struct auth_lockout *l, int64_t now)
{
	int64_t w = l->global_tat - (int64_t)l->global_interval_s * l->global_burst - now;

	return w > 0 ? (long)w : 0;
}

/* see auth.h */
long
auth_lockout_wait(const struct auth_lockout *l, const char *source, int64_t now)
{
	const struct auth_lock_entry *e = lock_of(l, source, now);
	long w = 0, g = global_wait(l, now);

	if (e != NULL && e->until > now)
		w = (long)(e->until - now);
	return w > g ? w : g;
}

/* see auth.h */
long
auth_lockout_fail(struct auth_lockout *l, const char *source, int64_t now)
{
	struct auth_lock_entry *e = lock_find(l, source);
	long wait;

	l->global_tat = (l->global_tat > now ? l->global_tat : now) + l->global_interval_s;
	if (e == NULL) {
		/* A free slot, else the reusable one that failed longest ago; never a slot
		 * that is locked or may still count towards a lock-out. */
		for (size_t i = 0; i < AUTH_LOCK_SLOTS; i++) {
			if (l->e[i].source[0] == '\0') {
				e = &l->e[i];
				break;
			}
			if (lock_reusable(&l->e[i], now) &&
			    (e == NULL || l->e[i].last_fail < e->last_fail))
				e = &l->e[i];
		}
		if (e != NULL) {
			memset(e, 0, sizeof(*e));
			snprintf(e->source, sizeof(e->source), "%s", source);
		} else
			e = &l->overflow;
	}
	if (now - e->last_fail >= AUTH_LOCK_FORGET_S && e->until <= now)
		e->failures = 0;
	if (e->failures < 1000)
		e->failures++;
	e->last_fail = now;
	if (e->failures < l->threshold)
		return 0;
	wait = l->base_s;
	for (unsigned i = l->threshold; i < e->failures && wait < l->max_s; i++)
		wait *= 2;
	if (wait > l->max_s)
		wait = l->max_s;
	e->until = now + wait;
	return wait;
}

/* see auth.h */
int
auth_lockout_refused(struct auth_lockout *l, const char *source, int64_t now)
{
	struct auth_lock_entry *e = lock_of(l, source, now);

	if (e == NULL)
		e = &l->overflow;	/* the global budget refused it: count it there */
	if (e->refused < UINT_MAX)
		e->refused++;
	return e->refused == 1;
}

/* see auth.h */
unsigned
auth_lockout_take_refused(struct auth_lockout *l, const char *source)
{
	struct auth_lock_entry *e = lock_find(l, source);
	unsigned n;

	if (e == NULL)
		e = &l->overflow;
	n = e->refused;
	e->refused = 0;
	return n;
}

/* see auth.h */
void
auth_lockout_success(struct auth_lockout *l, const char *source)
{
	struct auth_lock_entry *e = lock_find(l, source);

	if (e != NULL)
		memset(e, 0, sizeof(*e));
}

/* ---- API tokens ----------------------------------------------------------------- */

static void
sha256(const char *s, unsigned char out[32])
{
	br_sha256_context ctx;

	br_sha256_init(&ctx);
	br_sha256_update(&ctx, s, strlen(s));
	br_sha256_out(&ctx, out);
}

static int
name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= AUTH_TOKEN_NAME_MAX)
		return 0;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr(" .-_", *p) != NULL))
			return 0;
	return name[0] != ' ' && name[n - 1] != ' ';
}

/* see auth.h */
int
auth_api_token_create(struct auth_api_tokens *t, const char *name, int64_t now,
    char secret[AUTH_API_TOKEN_BUF], const char **why)
{
	struct auth_api_token *e;
	char tok[AUTH_TOKEN_BUF];
	unsigned char idb[4];

	if (!name_ok(name)) {
		*why = "name: 1 to 47 letters, digits, spaces, '.', '-' or '_'";
		return -1;
	}
	if (t->n >= CONFIG_ADMIN_MAX_TOKENS) {
		*why = "too many tokens: delete one first";
		return -1;
	}
	if (auth_random_token(tok) == -1 || random_bytes(idb, sizeof(idb)) == -1) {
		*why = "no randomness";
		return -1;
	}
	e = &t->t[t->n];
	memset(e, 0, sizeof(*e));
	hex_encode(idb, 4, e->id, 0);
	snprintf(e->name, sizeof(e->name), "%s", name);
	e->created = now;
	snprintf(secret, AUTH_API_TOKEN_BUF, "cdt_%s", tok);
	sha256(secret, e->hash);
	explicit_bzero(tok, sizeof(tok));
	return (int)t->n++;
}

/* see auth.h */
int
auth_api_token_check(const struct auth_api_tokens *t, const char *presented)
{
	unsigned char h[32];
	int found = -1;

	if (presented == NULL || strlen(presented) != AUTH_API_TOKEN_BUF - 1)
		return -1;
	sha256(presented, h);
	for (size_t i = 0; i < t->n; i++)
		if (auth_ct_equal(h, 32, t->t[i].hash, 32))
			found = (int)i;
	return found;
}

/* see auth.h */
int
auth_api_token_delete(struct auth_api_tokens *t, const char *id)
{
	for (size_t i = 0; i < t->n; i++)
		if (strcmp(t->t[i].id, id) == 0) {
			memmove(&t->t[i], &t->t[i + 1], (t->n - i - 1) * sizeof(t->t[0]));
			t->n--;
			memset(&t->t[t->n], 0, sizeof(t->t[0]));
			return 0;
		}
	return -1;
}

/* see auth.h */
int
auth_api_tokens_parse(const char *text, struct auth_api_tokens *t)
{
	const char *p = text;

	memset(t, 0, sizeof(*t));
	while (*p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p) : strlen(p);
		char line[256], id[16], hex[80], name[AUTH_TOKEN_NAME_MAX + 1];
		long long created;
		struct auth_api_token *e;
		int off = 0;

		if (len == 0) {
			p += eol ? 1 : 0;
			continue;
		}
		if (len >= sizeof(line) || t->n >= CONFIG_ADMIN_MAX_TOKENS)
			goto bad;
		memcpy(line, p, len);
		line[len] = '\0';
		p += len + (eol ? 1 : 0);
		if (sscanf(line, "%15s %lld %79s %n", id, &created, hex, &off) != 3 ||
		    off <= 0 || strlen(id) != 8 || strlen(hex) != 64)
			goto bad;
		snprintf(name, sizeof(name), "%s", line + off);
		if (!name_ok(name))
			goto bad;
		e = &t->t[t->n];
		/* ids are made, written and looked up in lower case only */
		for (size_t i = 0; i < 8; i++)
			if (hex_value((unsigned char)id[i]) < 0 || (id[i] >= 'A' && id[i] <= 'F'))
				goto bad;
		if (hex_decode(hex, 64, e->hash, sizeof(e->hash)) != 32)
			goto bad;
		memcpy(e->id, id, 9);
		memcpy(e->name, name, strlen(name) + 1);	/* name_ok: it fits */
		e->created = created;
		t->n++;
	}
	return 0;
bad:
	memset(t, 0, sizeof(*t));
	return -1;
}

/* see auth.h */
int
auth_api_tokens_format(const struct auth_api_tokens *t, char *out, size_t cap)
{
	size_t o = 0;

	if (cap == 0)
		return -1;
	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		char hex[65];
		int n;

		hex_encode(t->t[i].hash, 32, hex, 0);
		n = snprintf(out + o, cap - o, "%s %lld %s %s\n", t->t[i].id,
		    (long long)t->t[i].created, hex, t->t[i].name);
		if (n < 0 || (size_t)n >= cap - o)
			return -1;
		o += (size_t)n;
	}
	return (int)o;
}
