/* SPDX-License-Identifier: BSD-2-Clause */
/* auth.h — the admin listener's credentials: password hashing (libxcrypt yescrypt),
 * random tokens, constant-time comparisons, the session table, the lock-out table and
 * the hashed API tokens. Pure apart from getrandom and crypt_r: time is an input, no
 * locking (the caller serialises), no files (the caller persists what *_format gives). */
#ifndef CARDUPD_AUTH_H
#define CARDUPD_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include "autoconf.h"

#define AUTH_TOKEN_BUF		44	/* 32 random bytes, base64url, NUL */
#define AUTH_SOURCE_MAX		64	/* a peer address as text */
#define AUTH_HASH_MAX		256	/* a crypt(3) string, as cfg.admin_password_hash */
#define AUTH_CODE_BUF		16	/* setup code "XXXX-XXXX-XXXX" */
#define AUTH_PASSWORD_MIN	10
#define AUTH_PASSWORD_MAX	128
#define AUTH_LOCK_SLOTS		64
#define AUTH_LOCK_FORGET_S	3600	/* failures older than this are forgotten */
#define AUTH_API_TOKEN_BUF	(4 + AUTH_TOKEN_BUF)	/* "cdt_" + token */
#define AUTH_TOKEN_ID_BUF	9	/* 8 hex digits */
#define AUTH_TOKEN_NAME_MAX	48

/* ---- primitives ----------------------------------------------------------- */

/* 1 when the two buffers are equal. The time taken depends on the lengths only,
 * never on where the bytes differ. */
int auth_ct_equal(const void *a, size_t alen, const void *b, size_t blen);

/* auth_ct_equal on two NUL-terminated strings (NULL never equals anything). */
int auth_ct_streq(const char *a, const char *b);

/* Writes 32 random bytes (getrandom) as base64url into out. Returns 0 or -1. */
int auth_random_token(char out[AUTH_TOKEN_BUF]);

/* Writes a one-time setup code "XXXX-XXXX-XXXX" (Crockford base32: 60 bits) into
 * out. Returns 0 or -1. auth_code_equal compares a typed code with it, ignoring
 * case, dashes and spaces, in constant time. */
int auth_setup_code(char out[AUTH_CODE_BUF]);
int auth_code_equal(const char *typed, const char *code);

/* ---- passwords -------------------------------------------------------------- */

/* 0 when pw is acceptable as a new password, else -1 with a reason in *why. */
int auth_password_acceptable(const char *pw, const char **why);

/* Hashes pw with yescrypt and a fresh salt into out (at least AUTH_HASH_MAX).
 * Returns 0 or -1. */
int auth_hash_password(const char *pw, char *out, size_t cap);

/* 1 when pw matches hash (any method libxcrypt knows: yescrypt, sha512crypt...),
 * 0 when it does not or hash is empty/invalid. */
int auth_verify_password(const char *pw, const char *hash);

/* ---- sessions ----------------------------------------------------------------- */

struct auth_session {
	int	used;
	char	token[AUTH_TOKEN_BUF];	/* the cookie value */
	char	csrf[AUTH_TOKEN_BUF];	/* sent back in X-CSRF-Token on every change */
	char	source[AUTH_SOURCE_MAX];
	int64_t	created, last_used;	/* seconds, any monotonic clock */
};

struct auth_sessions {
	struct auth_session	s[CONFIG_ADMIN_MAX_SESSIONS];
	int			idle_s, max_s;
};

void auth_sessions_init(struct auth_sessions *t, int idle_s, int max_s);

/* Starts a session with fresh random token and CSRF token (the least recently used
 * one is ended when the table is full). Returns it, or NULL when no randomness. */
const struct auth_session *auth_session_new(struct auth_sessions *t, const char *source,
    int64_t now);

/* The live session whose token is token, or NULL (unknown, idle too long or too old:
 * then it is ended). Marks it used at now. */
const struct auth_session *auth_session_find(struct auth_sessions *t, const char *token,
    int64_t now);

/* Ends the session with this token (a no-op when there is none). Tokens are wiped. */
void auth_session_end(struct auth_sessions *t, const char *token);

/* Ends every session (password change). */
void auth_sessions_clear(struct auth_sessions *t);

/* ---- lock-out ------------------------------------------------------------------ */

/* Every source together: after AUTH_GLOBAL_BURST failures, at most one failure per
 * AUTH_GLOBAL_INTERVAL_S is looked at, whatever the number of sources (a /56 of IPv6
 * gives an attacker more sources than any table has slots). */
#define AUTH_GLOBAL_INTERVAL_S	6
#define AUTH_GLOBAL_BURST	30

struct auth_lock_entry {
	char		source[AUTH_SOURCE_MAX];	/* "" = free slot */
	unsigned	failures;
	int64_t		last_fail, until;
	unsigned	refused;	/* attempts refused during the lock-out, not yet told */
};

struct auth_lockout {
	struct auth_lock_entry	e[AUTH_LOCK_SLOTS];
	/* Shared by every source that finds the table full of slots that may not be
	 * forgotten yet (locked, or failed within AUTH_LOCK_FORGET_S). */
	struct auth_lock_entry	overflow;
	int64_t			global_tat;	/* GCRA: theoretical arrival time */
	long			global_interval_s;	/* AUTH_GLOBAL_INTERVAL_S; 0: off */
	unsigned		global_burst;		/* AUTH_GLOBAL_BURST */
	unsigned		threshold;
	long			base_s, max_s;
};

void auth_lockout_init(struct auth_lockout *l, unsigned threshold, long base_s,
    long max_s);

/* Seconds source must still wait before its next attempt is even looked at (0: go):
 * its own lock-out, the shared overflow slot's when the table has no slot for it, or
 * the global failure budget's, whichever is longest. */
long auth_lockout_wait(const struct auth_lockout *l, const char *source, int64_t now);

/* Records a failure of source at now. From the threshold-th failure on, the source
 * waits base_s << (failures - threshold), at most max_s. A slot is reused only when it
 * is free or neither locked nor within AUTH_LOCK_FORGET_S of its last failure; with no
 * such slot, the source shares the overflow slot. Every failure also spends the global
 * budget. Returns the source's new wait. */
long auth_lockout_fail(struct auth_lockout *l, const char *source, int64_t now);

/* An attempt of source was refused because it had to wait. Returns 1 for the first
 * refusal of the current lock-out (the one to write down), 0 for the next ones, which
 * are only counted (auth_lockout_take_refused). */
int auth_lockout_refused(struct auth_lockout *l, const char *source, int64_t now);

/* The number of source's attempts refused since the last call (and resets it). */
unsigned auth_lockout_take_refused(struct auth_lockout *l, const char *source);

/* Forgets source's failures (a successful login). */
void auth_lockout_success(struct auth_lockout *l, const char *source);

/* ---- API tokens ----------------------------------------------------------------- */

struct auth_api_token {
	char		id[AUTH_TOKEN_ID_BUF];
	char		name[AUTH_TOKEN_NAME_MAX];
	unsigned char	hash[32];	/* SHA-256 of the whole token string */
	int64_t		created;	/* unix time */
};

struct auth_api_tokens {
	struct auth_api_token	t[CONFIG_ADMIN_MAX_TOKENS];
	size_t			n;
};

/* Adds a token named name (letters, digits, space, ".-_", 1..47 characters) and writes
 * the token itself ("cdt_" + 43 characters; shown once, never stored) into secret.
 * Returns the new entry's index, or -1 with *why (bad name, table full, no
 * randomness). */
int auth_api_token_create(struct auth_api_tokens *t, const char *name, int64_t now,
    char secret[AUTH_API_TOKEN_BUF], const char **why);

/* Index of the token presented (an "Authorization: Bearer" value), or -1. Every
 * stored hash is compared, in constant time. */
int auth_api_token_check(const struct auth_api_tokens *t, const char *presented);

/* Removes the token with this id. Returns 0, or -1 when there is none. */
int auth_api_token_delete(struct auth_api_tokens *t, const char *id);

/* The tokens file: one "id created sha256hex name" line per token. _parse returns 0,
 * or -1 on a malformed line (then *t is empty); _format returns the length written,
 * or -1 when cap is too small. */
int auth_api_tokens_parse(const char *text, struct auth_api_tokens *t);
int auth_api_tokens_format(const struct auth_api_tokens *t, char *out, size_t cap);

#endif
