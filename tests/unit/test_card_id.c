/* SPDX-License-Identifier: BSD-2-Clause */
/* test_card_id.c — CPLC, CHUID and FASC-N decoders (tests/vectors/cplc.txt, chuid.txt,
 * fascn.txt), the SPEC §1 APDU sequence against scripted fake cards, comparison and
 * log tags; and the reader layer's pure card-transition rule (pcsc.h), which has no
 * test file of its own yet. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <winscard.h>

#include "autoconf.h"
#include "core/card_id.h"
#include "drivers/pcsc.h"

#include "vectors.h"

typedef void (*vector_fn)(const char *name, const uint8_t *buf, size_t len,
    char *expect);

/* Reads "name | hex | expectation" lines and hands each to fn, with the bytes in an
 * exact-size allocation so that ASan sees any overrun. Returns the line count. */
static int
each_vector(const char *file, vector_fn fn)
{
	FILE	*f;
	char	*line = NULL, *s1, *s2 = NULL, *name;
	size_t	 cap = 0;
	uint8_t	*buf, *exact;
	long	 n;
	int	 count = 0;

	buf = malloc(VEC_MAX);
	assert_non_null(buf);
	f = fopen(file, "r");
	if (f == NULL)
		fail_msg("cannot open %s", file);
	while (getline(&line, &cap, f) != -1) {
		if (line[0] == '#' || trim(line)[0] == '\0')
			continue;
		if ((s1 = strchr(line, '|')) == NULL ||
		    (s2 = strchr(s1 + 1, '|')) == NULL)
			fail_msg("%s: bad line: %s", file, line);
		*s1 = *s2 = '\0';
		name = trim(line);
		if ((n = unhex(trim(s1 + 1), buf, VEC_MAX)) == -1)
			fail_msg("%s: %s: bad hex", file, name);
		exact = malloc(n > 0 ? (size_t)n : 1);
		assert_non_null(exact);
		memcpy(exact, buf, (size_t)n);
		fn(name, exact, (size_t)n, trim(s2 + 1));
		free(exact);
		count++;
	}
	free(line);
	fclose(f);
	free(buf);
	return count;
}

/* An identity full of a marker byte, to see what a failed parse leaves alone. */
static void
marked(struct card_identity *id)
{
	memset(id, 0x5a, sizeof(*id));
	id->has_cplc = id->has_chuid = id->has_fascn = id->has_guid =
	    id->has_expiry = 7;
}

static void
cplc_vector(const char *name, const uint8_t *buf, size_t len, char *expect)
{
	struct card_identity	id, ref;
	uint8_t			want[CARD_CPLC_LEN];

	marked(&id);
	marked(&ref);
	if (strcmp(expect, "err") == 0) {
		if (card_parse_cplc(buf, len, &id) != -1)
			fail_msg("%s: expected err", name);
		if (memcmp(&id, &ref, sizeof(id)) != 0)
			fail_msg("%s: id changed on error", name);
		return;
	}
	if (strncmp(expect, "ok ", 3) != 0 ||
	    unhex(expect + 3, want, sizeof(want)) != CARD_CPLC_LEN)
		fail_msg("%s: bad expectation", name);
	if (card_parse_cplc(buf, len, &id) != 0)
		fail_msg("%s: expected ok", name);
	assert_int_equal(id.has_cplc, 1);
	assert_memory_equal(id.cplc, want, CARD_CPLC_LEN);
}

static void
test_cplc_vectors(void **state)
{
	(void)state;
	assert_true(each_vector(VECTORS_DIR "/cplc.txt", cplc_vector) >= 10);
}

/* Checks one "field=<hex|->" token against the parsed field. */
static void
check_field(const char *name, const char *tok, const char *key, int has,
    const uint8_t *val, size_t len)
{
	uint8_t	want[64];
	size_t	klen = strlen(key);

	if (strncmp(tok, key, klen) != 0 || tok[klen] != '=')
		fail_msg("%s: expected %s= in %s", name, key, tok);
	tok += klen + 1;
	if (strcmp(tok, "-") == 0) {
		if (has)
			fail_msg("%s: %s should be absent", name, key);
		return;
	}
	if (!has)
		fail_msg("%s: %s should be present", name, key);
	if (unhex(tok, want, sizeof(want)) != (long)len ||
	    memcmp(want, val, len) != 0)
		fail_msg("%s: %s differs", name, key);
}

static void
chuid_vector(const char *name, const uint8_t *buf, size_t len, char *expect)
{
	struct card_identity	 id, ref;
	char			*tok[4], *save = NULL;
	int			 i;

	marked(&id);
	marked(&ref);
	if (strcmp(expect, "err") == 0) {
		if (card_parse_chuid(buf, len, &id) != -1)
			fail_msg("%s: expected err", name);
		if (memcmp(&id, &ref, sizeof(id)) != 0)
			fail_msg("%s: id changed on error", name);
		return;
	}
	for (i = 0; i < 4; i++)
		if ((tok[i] = strtok_r(i == 0 ? expect : NULL, " ", &save)) == NULL)
			fail_msg("%s: bad expectation", name);
	assert_string_equal(tok[0], "ok");
	if (card_parse_chuid(buf, len, &id) != 0)
		fail_msg("%s: expected ok", name);
	assert_int_equal(id.has_chuid, 1);
	check_field(name, tok[1], "fascn", id.has_fascn, id.fascn,
	    CARD_FASCN_LEN);
	check_field(name, tok[2], "guid", id.has_guid, id.guid, CARD_GUID_LEN);
	if (strcmp(tok[3], "expiry=-") == 0) {
		if (id.has_expiry)
			fail_msg("%s: expiry should be absent", name);
	} else {
		if (!id.has_expiry || strncmp(tok[3], "expiry=", 7) != 0 ||
		    strcmp(tok[3] + 7, id.expiry) != 0)
			fail_msg("%s: expiry differs", name);
	}
	/* The CPLC is not the CHUID parser's business. */
	assert_int_equal(id.has_cplc, 7);
}

static void
test_chuid_vectors(void **state)
{
	(void)state;
	assert_true(each_vector(VECTORS_DIR "/chuid.txt", chuid_vector) >= 20);
}

/* ---- card_read_identity() against scripted cards ------------------------------ */

#define XFAIL	NULL

struct step {
	const char	*cmd;
	const char	*reply;		/* hex, XFAIL for a transport failure */
};

struct script {
	const struct step	*steps;
	size_t			 n, at;
};

static int
fake_xmit(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *resp,
    size_t *rlen)
{
	struct script		*sc = ctx;
	const struct step	*st;
	uint8_t			 want[300];
	long			 n;

	if (sc->at >= sc->n)
		fail_msg("unexpected command #%zu", sc->at);
	st = &sc->steps[sc->at++];
	n = unhex(st->cmd, want, sizeof(want));
	if (n != (long)clen || memcmp(want, cmd, clen) != 0)
		fail_msg("step %zu: expected %s", sc->at - 1, st->cmd);
	if (st->reply == XFAIL)
		return -1;
	if ((n = unhex(st->reply, resp, *rlen)) == -1)
		fail_msg("step %zu: bad reply", sc->at - 1);
	*rlen = (size_t)n;
	return 0;
}

#define CMD_CPLC	"80ca9f7f00"
#define CMD_SEL_CM	"00a4040000"
#define CMD_SEL_PIV	"00a4040009a0000003080000100000"
#define CMD_CHUID	"00cb3fff055c035fc10200"

#define CPLC_BODY \
	"47905167479182510001825200000001000f48128253481382544814825511223344" \
	"481582565566"
#define CPLC_REPLY	"9f7f2a" CPLC_BODY "77889000"

#define FASCN	"d4e739da739ced39ce739d836858210842108421c84210c3eb"
#define GUID	"3f2a1b0c4d5e6f708192a3b4c5d6e7f8"
#define CHUID_BODY \
	"533b3019" FASCN "3410" GUID "3508" "3230333031323331" "3e00fe00"

static void
identity_run(const struct step *steps, size_t n, int want_r,
    struct card_identity *id)
{
	struct script sc = { steps, n, 0 };

	memset(id, 0, sizeof(*id));
	id->atr_len = 2;
	id->atr[0] = 0x3b;
	id->atr[1] = 0x00;
	assert_int_equal(card_read_identity(fake_xmit, &sc, id), want_r);
	if (want_r == 0)
		assert_int_equal(sc.at, sc.n);
	/* The ATR is the caller's: never touched. */
	assert_int_equal(id->atr_len, 2);
	assert_int_equal(id->atr[0], 0x3b);
}

#define IDRUN(steps, r, id) \
	identity_run(steps, sizeof(steps) / sizeof(steps[0]), r, id)

static void
test_read_full_card(void **state)
{
#ifdef CONFIG_CARD_READ_CPLC
	static const struct step s[] = {
		{ CMD_CPLC, CPLC_REPLY },
		{ CMD_SEL_PIV, "61 11" },
		{ "00c0000011", "4f0b a000000308000010000100 7902 4f00 9000" },
		{ CMD_CHUID, CHUID_BODY "9000" },
	};
#else
	static const struct step s[] = {
		{ CMD_SEL_PIV, "9000" },
		{ CMD_CHUID, CHUID_BODY "9000" },
	};
#endif
	struct card_identity	id;
	char			hex[2 * CARD_GUID_LEN + 1];

	(void)state;
	IDRUN(s, 0, &id);
#ifdef CONFIG_CARD_READ_CPLC
	assert_int_equal(id.has_cplc, 1);
	assert_int_equal(id.cplc[0], 0x47);
	assert_int_equal(id.cplc[41], 0x88);
#endif
	assert_int_equal(id.has_chuid, 1);
	assert_int_equal(id.has_fascn, 1);
	assert_int_equal(id.has_guid, 1);
	assert_string_equal(card_hex(id.guid, CARD_GUID_LEN, hex), GUID);
	assert_int_equal(id.has_expiry, 1);
	assert_string_equal(id.expiry, "20301231");
}

/* CPLC only after selecting the card manager; CHUID in T=0 pieces with a 6Cxx. */
static void
test_read_cplc_after_cm_and_t0_chuid(void **state)
{
#ifdef CONFIG_CARD_READ_CPLC
	static const struct step s[] = {
		{ CMD_CPLC, "6a88" },
		{ CMD_SEL_CM, "6f10 8408a000000003000000 9000" },
		{ CMD_CPLC, "6c2d" },
		{ "80ca9f7f2d", CPLC_REPLY },
		{ CMD_SEL_PIV, "9000" },
		{ CMD_CHUID, "6120" },
		{ "00c0000020", "53393019" FASCN "34 6120" },
		{ "00c0000020", "10" GUID "3508" "32303330313233" "6104" },
		{ "00c0000004", "6c03" },
		{ "00c0000003", "31 3e00 9000" },
	};
	struct card_identity id;

	(void)state;
	IDRUN(s, 0, &id);
	assert_int_equal(id.has_cplc, 1);
	assert_int_equal(id.has_fascn, 1);
	assert_int_equal(id.has_guid, 1);
	/* No "fe00" here: the object is framed by its 53 length alone. */
	assert_int_equal(id.has_expiry, 1);
#else
	(void)state;
	skip();
#endif
}

static void
test_read_atr_only(void **state)
{
#ifdef CONFIG_CARD_READ_CPLC
	static const struct step s[] = {
		{ CMD_CPLC, "6d00" },
		{ CMD_SEL_CM, "6a82" },
		{ CMD_CPLC, "6d00" },
		{ CMD_SEL_PIV, "6a82" },
	};
#else
	static const struct step s[] = {
		{ CMD_SEL_PIV, "6a82" },
	};
#endif
	struct card_identity id;

	(void)state;
	IDRUN(s, 0, &id);
	assert_int_equal(id.has_cplc, 0);
	assert_int_equal(id.has_chuid, 0);
	assert_int_equal(id.has_guid, 0);
}

/* Malformed answers leave the part absent; they are not failures. */
static void
test_read_malformed(void **state)
{
#ifdef CONFIG_CARD_READ_CPLC
	static const struct step s[] = {
		{ CMD_CPLC, "9f7f2a0102039000" },
		{ CMD_SEL_PIV, "9000" },
		{ CMD_CHUID, "5382ffff30199000" },
	};
#else
	static const struct step s[] = {
		{ CMD_SEL_PIV, "9000" },
		{ CMD_CHUID, "5382ffff30199000" },
	};
#endif
	struct card_identity id;

	(void)state;
	IDRUN(s, 0, &id);
	assert_int_equal(id.has_cplc, 0);
	assert_int_equal(id.has_chuid, 0);
}

/* GET DATA refused (6A82: no CHUID) and a CPLC refused for good (6985). */
static void
test_read_refusals(void **state)
{
#ifdef CONFIG_CARD_READ_CPLC
	static const struct step s[] = {
		{ CMD_CPLC, "6985" },
		{ CMD_SEL_PIV, "9000" },
		{ CMD_CHUID, "6a82" },
	};
#else
	static const struct step s[] = {
		{ CMD_SEL_PIV, "9000" },
		{ CMD_CHUID, "6a82" },
	};
#endif
	struct card_identity id;

	(void)state;
	IDRUN(s, 0, &id);
	assert_int_equal(id.has_cplc, 0);
	assert_int_equal(id.has_chuid, 0);
}

static void
test_read_card_pulled(void **state)
{
#ifdef CONFIG_CARD_READ_CPLC
	static const struct step first[] = {
		{ CMD_CPLC, XFAIL },
	};
	static const struct step mid[] = {
		{ CMD_CPLC, CPLC_REPLY },
		{ CMD_SEL_PIV, "9000" },
		{ CMD_CHUID, "6120" },
		{ "00c0000020", "" },		/* vpcd: "success", 0 bytes */
	};
	static const struct step cm[] = {
		{ CMD_CPLC, "6e00" },
		{ CMD_SEL_CM, XFAIL },
	};
	struct card_identity id;

	(void)state;
	IDRUN(first, -1, &id);
	IDRUN(mid, -1, &id);
	IDRUN(cm, -1, &id);
#else
	static const struct step first[] = {
		{ CMD_SEL_PIV, XFAIL },
	};
	struct card_identity id;

	(void)state;
	IDRUN(first, -1, &id);
#endif
}

/* Stale fields from an earlier read must not survive a new one. */
static void
test_read_clears_stale(void **state)
{
#ifdef CONFIG_CARD_READ_CPLC
	static const struct step s[] = {
		{ CMD_CPLC, "6985" },
		{ CMD_SEL_PIV, "6a82" },
	};
#else
	static const struct step s[] = {
		{ CMD_SEL_PIV, "6a82" },
	};
#endif
	struct script		sc = { s, sizeof(s) / sizeof(s[0]), 0 };
	struct card_identity	id;

	(void)state;
	memset(&id, 0, sizeof(id));
	id.has_cplc = id.has_chuid = id.has_guid = id.has_fascn = 1;
	id.has_expiry = 1;
	id.guid[0] = 1;
	assert_int_equal(card_read_identity(fake_xmit, &sc, &id), 0);
	assert_int_equal(id.has_cplc + id.has_chuid + id.has_guid +
	    id.has_fascn + id.has_expiry, 0);
	assert_int_equal(id.guid[0], 0);
}

/* ---- hex, tags, comparison --------------------------------------------------- */

static void
test_hex(void **state)
{
	static const uint8_t	b[] = { 0x00, 0x0f, 0xa5, 0xff };
	char			out[9];

	(void)state;
	assert_string_equal(card_hex(b, sizeof(b), out), "000fa5ff");
	assert_string_equal(card_hex(b, 0, out), "");
}

static void
base_identity(struct card_identity *id)
{
	static const uint8_t atr[] = { 0x3b, 0x8a, 0x80, 0x01 };
	long n;

	memset(id, 0, sizeof(*id));
	memcpy(id->atr, atr, sizeof(atr));
	id->atr_len = sizeof(atr);
	n = unhex(GUID, id->guid, sizeof(id->guid));
	assert_int_equal(n, CARD_GUID_LEN);
	n = unhex(FASCN, id->fascn, sizeof(id->fascn));
	assert_int_equal(n, CARD_FASCN_LEN);
	n = unhex(CPLC_BODY "7788", id->cplc, sizeof(id->cplc));
	assert_int_equal(n, CARD_CPLC_LEN);
	id->has_chuid = id->has_guid = id->has_fascn = id->has_cplc = 1;
}

static int
is_hex8(const char *s)
{
	size_t i;

	if (strlen(s) != 8)
		return 0;
	for (i = 0; i < 8; i++)
		if (hex_value((unsigned char)s[i]) == -1 || (s[i] >= 'A' &&
		    s[i] <= 'F'))
			return 0;
	return 1;
}

static void
test_log_tag(void **state)
{
	struct card_identity	a, b;
	char			ta[9], tb[9], full[2 * CARD_CPLC_LEN + 1];

	(void)state;
	base_identity(&a);
	card_log_tag(&a, ta);
	assert_true(is_hex8(ta));
	card_log_tag(&a, tb);
	assert_string_equal(ta, tb);		/* stable */

	/* Never a piece of an identifier. */
	assert_null(strstr(card_hex(a.guid, CARD_GUID_LEN, full), ta));
	assert_null(strstr(card_hex(a.fascn, CARD_FASCN_LEN, full), ta));
	assert_null(strstr(card_hex(a.cplc, CARD_CPLC_LEN, full), ta));

	/* The perso part of the CPLC does not change the tag; the serial does. */
	b = a;
	b.cplc[40] ^= 0xff;
	card_log_tag(&b, tb);
	assert_string_equal(ta, tb);
	b.cplc[13] ^= 0x01;
	card_log_tag(&b, tb);
	assert_string_not_equal(ta, tb);

	/* Without CPLC: GUID; a zero GUID falls to FASC-N; then ATR. */
	b = a;
	b.has_cplc = 0;
	card_log_tag(&b, ta);
	memset(b.guid, 0, sizeof(b.guid));
	card_log_tag(&b, tb);
	assert_string_not_equal(ta, tb);
	b.has_fascn = 0;
	card_log_tag(&b, ta);
	assert_true(is_hex8(ta));
	assert_string_not_equal(ta, tb);
	b.has_guid = b.has_chuid = 0;
	card_log_tag(&b, tb);
	assert_string_equal(ta, tb);		/* both from the ATR */
}

static void
test_same(void **state)
{
	struct card_identity	a, b;

	(void)state;
	base_identity(&a);
	b = a;
	assert_int_equal(card_same(&a, &b), 1);

	/* CPLC decides when both have it, whatever the rest says. */
	b.guid[0] ^= 1;
	b.atr[1] ^= 1;
	assert_int_equal(card_same(&a, &b), 1);
	b.cplc[14] ^= 1;
	assert_int_equal(card_same(&a, &b), 0);
	b = a;
	b.cplc[36] ^= 1;		/* personalization date: same chip */
	assert_int_equal(card_same(&a, &b), 1);

	/* One without CPLC: the GUID decides. */
	b = a;
	b.has_cplc = 0;
	assert_int_equal(card_same(&a, &b), 1);
	b.guid[15] ^= 1;
	assert_int_equal(card_same(&a, &b), 0);

	/* Zero GUIDs name no card: FASC-N decides. */
	b = a;
	a.has_cplc = b.has_cplc = 0;
	memset(a.guid, 0, sizeof(a.guid));
	memset(b.guid, 0, sizeof(b.guid));
	assert_int_equal(card_same(&a, &b), 1);
	b.fascn[3] ^= 1;
	assert_int_equal(card_same(&a, &b), 0);

	/* Nothing but ATRs. */
	base_identity(&a);
	a.has_cplc = a.has_guid = a.has_fascn = a.has_chuid = 0;
	b = a;
	assert_int_equal(card_same(&a, &b), 1);
	b.atr_len = 3;
	assert_int_equal(card_same(&a, &b), 0);
	b = a;
	b.atr[3] ^= 1;
	assert_int_equal(card_same(&a, &b), 0);
}


/* ---- FASC-N ------------------------------------------------------------------- */

/* Checks one "key=value" token against a decoded field. */
static void
check_digits(const char *name, const char *tok, const char *key,
    const char *got)
{
	size_t klen = strlen(key);

	if (strncmp(tok, key, klen) != 0 || tok[klen] != '=')
		fail_msg("%s: expected %s= in %s", name, key, tok);
	if (strcmp(tok + klen + 1, got) != 0)
		fail_msg("%s: %s is %s, expected %s", name, key, got, tok + klen + 1);
}

static void
fascn_vector(const char *name, const uint8_t *buf, size_t len, char *expect)
{
	struct card_fascn	 f;
	char			*tok[11], *save = NULL;
	int			 i;

	if (len != CARD_FASCN_LEN)
		fail_msg("%s: %zu bytes, not %d", name, len, CARD_FASCN_LEN);
	memset(&f, 0x5a, sizeof(f));
	if (strncmp(expect, "err ", 4) == 0) {
		if (card_decode_fascn(buf, &f) != -1)
			fail_msg("%s: expected err", name);
		if (f.error == NULL || strcmp(f.error, expect + 4) != 0)
			fail_msg("%s: error \"%s\", expected \"%s\"", name,
			    f.error ? f.error : "(null)", expect + 4);
		/* Nothing of a half-decoded FASC-N is left behind. */
		assert_int_equal(f.agency[0], 0);
		assert_int_equal(f.person[0], 0);
		assert_int_equal(f.no_credential, 0);
		return;
	}
	for (i = 0; i < 11; i++)
		if ((tok[i] = strtok_r(i == 0 ? expect : NULL, " ", &save)) == NULL)
			fail_msg("%s: bad expectation", name);
	assert_string_equal(tok[0], "ok");
	if (card_decode_fascn(buf, &f) != 0)
		fail_msg("%s: expected ok, got %s", name, f.error);
	assert_null(f.error);
	check_digits(name, tok[1], "agency", f.agency);
	check_digits(name, tok[2], "system", f.system);
	check_digits(name, tok[3], "credential", f.credential);
	check_digits(name, tok[4], "cs", f.series);
	check_digits(name, tok[5], "ici", f.issue);
	check_digits(name, tok[6], "pi", f.person);
	check_digits(name, tok[7], "oc", f.org_category);
	check_digits(name, tok[8], "oi", f.org_id);
	check_digits(name, tok[9], "poa", f.association);
	check_digits(name, tok[10], "nocred", f.no_credential ? "1" : "0");
}

static void
test_fascn_vectors(void **state)
{
	(void)state;
	assert_true(each_vector(VECTORS_DIR "/fascn.txt", fascn_vector) >= 30);
}

/* Every single-bit error in a good FASC-N is caught (odd parity per character). */
static void
test_fascn_bit_flips(void **state)
{
	struct card_fascn	f;
	uint8_t			raw[CARD_FASCN_LEN];
	int			bit;

	(void)state;
	for (bit = 0; bit < CARD_FASCN_LEN * 8; bit++) {
		assert_int_equal(unhex(FASCN, raw, sizeof(raw)), CARD_FASCN_LEN);
		assert_int_equal(card_decode_fascn(raw, &f), 0);
		raw[bit / 8] ^= (uint8_t)(0x80 >> (bit % 8));
		if (card_decode_fascn(raw, &f) != -1)
			fail_msg("bit %d flipped: accepted", bit);
		assert_string_equal(f.error, "parity");
	}
}

/* The FASC-N read from a card's CHUID decodes as it was put there. */
static void
test_fascn_from_chuid(void **state)
{
	static const char	body[] = CHUID_BODY;
	uint8_t			buf[sizeof(body) / 2];
	struct card_identity	id;
	struct card_fascn	f;
	long			n;

	(void)state;
	memset(&id, 0, sizeof(id));
	n = unhex(body, buf, sizeof(buf));
	assert_true(n > 0);
	assert_int_equal(card_parse_chuid(buf, (size_t)n, &id), 0);
	assert_int_equal(id.has_fascn, 1);
	assert_int_equal(card_decode_fascn(id.fascn, &f), 0);
	assert_string_equal(f.agency, "9999");
	assert_int_equal(f.no_credential, 1);
}

/* ---- pcsc_transition(): what a reader's new state means ------------------------ */

#define ST(count, bits)	((unsigned long)(count) << 16 | (bits))

static void
test_transitions(void **state)
{
	const unsigned long	P = SCARD_STATE_PRESENT, E = SCARD_STATE_EMPTY;
	const unsigned long	C = SCARD_STATE_CHANGED, U = SCARD_STATE_INUSE;
	const unsigned long	M = SCARD_STATE_MUTE;

	(void)state;
	/* First answer (old state UNAWARE): a card there arrived, none: nothing. */
	assert_int_equal(pcsc_transition(0, 0, SCARD_STATE_UNAWARE, ST(3, P | C)),
	    PCSC_T_ARRIVED);
	assert_int_equal(pcsc_transition(0, 0, SCARD_STATE_UNAWARE, ST(3, E | C)), 0);
	/* Plain insertion and removal. */
	assert_int_equal(pcsc_transition(1, 0, ST(4, E), ST(5, P | C)),
	    PCSC_T_ARRIVED);
	assert_int_equal(pcsc_transition(1, 1, ST(5, P), ST(6, E | C)),
	    PCSC_T_LEFT);
	/* Out and in between two polls: still present, counter moved by 2. */
	assert_int_equal(pcsc_transition(1, 1, ST(5, P), ST(7, P | C)),
	    PCSC_T_LEFT | PCSC_T_ARRIVED);
	/* Same card, other bits changed (our own connection: INUSE): nothing. */
	assert_int_equal(pcsc_transition(1, 1, ST(5, P), ST(5, P | U | C)), 0);
	assert_int_equal(pcsc_transition(1, 1, ST(5, P | U), ST(5, P | C)), 0);
	/* A mute card is still a card (its read fails). */
	assert_int_equal(pcsc_transition(1, 0, ST(0, E), ST(1, P | M | C)),
	    PCSC_T_ARRIVED);
	/* The counter wraps at 16 bits. */
	assert_int_equal(pcsc_transition(1, 1, ST(0xffff, P), ST(0x0001, P | C)),
	    PCSC_T_LEFT | PCSC_T_ARRIVED);
	/* The watcher did not report the card (present == 0) yet pcscd says it is
	 * the same: it is reported now, once, not "left" first. */
	assert_int_equal(pcsc_transition(1, 0, ST(5, P), ST(5, P | C)),
	    PCSC_T_ARRIVED);
	/* Empty to empty with a moved counter (in and out between polls): the card
	 * came and went unseen; nothing to read. */
	assert_int_equal(pcsc_transition(1, 0, ST(5, E), ST(7, E | C)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cplc_vectors),
		cmocka_unit_test(test_chuid_vectors),
		cmocka_unit_test(test_read_full_card),
		cmocka_unit_test(test_read_cplc_after_cm_and_t0_chuid),
		cmocka_unit_test(test_read_atr_only),
		cmocka_unit_test(test_read_malformed),
		cmocka_unit_test(test_read_refusals),
		cmocka_unit_test(test_read_card_pulled),
		cmocka_unit_test(test_read_clears_stale),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_log_tag),
		cmocka_unit_test(test_same),
		cmocka_unit_test(test_fascn_vectors),
		cmocka_unit_test(test_fascn_bit_flips),
		cmocka_unit_test(test_fascn_from_chuid),
		cmocka_unit_test(test_transitions),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
