/* SPDX-License-Identifier: BSD-2-Clause */
/* test_apdu.c — apdu_transceive() against a fake card scripted by a table: each
 * step is the command expected (hex) and the raw reply to give (hex, or a transport
 * failure). The fake fails the test on any command out of script. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/apdu.h"
#include "vectors.h"

#define XFAIL	NULL		/* reply: transport failure */

struct step {
	const char	*cmd;		/* expected command, hex */
	const char	*reply;		/* raw reply (data + SW), hex; XFAIL */
};

struct script {
	const struct step	*steps;
	size_t			 n, at;
	size_t			 lie;	/* when set: claim this reply length */
};

/* The script's hex (blanks allowed): a bad script fails the test. */
static size_t
script_hex(const char *s, uint8_t *out, size_t max)
{
	long n = unhex(s, out, max);

	if (n < 0)
		fail_msg("bad hex in script (or longer than %zu bytes): %s", max, s);
	return (size_t)n;
}

static int
fake_xmit(void *ctx, const uint8_t *cmd, size_t clen, uint8_t *resp,
    size_t *rlen)
{
	struct script		*sc = ctx;
	const struct step	*st;
	uint8_t			 want[300];
	size_t			 wlen, n;

	if (sc->at >= sc->n)
		fail_msg("unexpected command #%zu", sc->at);
	st = &sc->steps[sc->at++];
	wlen = script_hex(st->cmd, want, sizeof(want));
	if (wlen != clen || memcmp(want, cmd, clen) != 0)
		fail_msg("step %zu: command differs from %s", sc->at - 1, st->cmd);
	if (st->reply == XFAIL)
		return -1;
	n = script_hex(st->reply, resp, *rlen);
	*rlen = sc->lie ? sc->lie : n;
	return 0;
}

/* Runs cmd through the script; checks the whole script was used. */
static int
run(const struct step *steps, size_t n, const char *cmdhex, uint8_t *data,
    size_t dmax, size_t *dlen, uint16_t *sw)
{
	struct script	sc = { steps, n, 0, 0 };
	uint8_t		cmd[300];
	size_t		clen;
	int		r;

	clen = script_hex(cmdhex, cmd, sizeof(cmd));
	r = apdu_transceive(fake_xmit, &sc, cmd, clen, data, dmax, dlen, sw);
	assert_int_equal(sc.at, sc.n);
	return r;
}

#define RUN(steps, cmd, data, dmax, dlen, sw) \
	run(steps, sizeof(steps) / sizeof(steps[0]), cmd, data, dmax, dlen, sw)

static void
test_plain(void **state)
{
	static const struct step s[] = {
		{ "00a4040000", "0102039000" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00a4040000", data, sizeof(data), &dlen, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(dlen, 3);
	assert_memory_equal(data, "\x01\x02\x03", 3);
}

static void
test_sw_only_error(void **state)
{
	static const struct step s[] = {
		{ "80ca9f7f00", "6a88" },
	};
	uint8_t		data[16];
	size_t		dlen = 99;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "80ca9f7f00", data, sizeof(data), &dlen, &sw), 0);
	assert_int_equal(sw, 0x6a88);
	assert_int_equal(dlen, 0);
}

/* T=0: the data comes in pieces, each announced by 61xx. */
static void
test_get_response_chain(void **state)
{
	static const struct step s[] = {
		{ "00cb3fff055c035fc10200", "6103" },
		{ "00c0000003", "0102036102" },
		{ "00c0000002", "04056100" },
		{ "00c0000000", "069000" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00cb3fff055c035fc10200", data, sizeof(data),
	    &dlen, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(dlen, 6);
	assert_memory_equal(data, "\x01\x02\x03\x04\x05\x06", 6);
}

/* T=1 cards may send data with a 61xx too: it is kept. */
static void
test_data_with_61(void **state)
{
	static const struct step s[] = {
		{ "00b0000000", "aabb6101" },
		{ "00c0000001", "cc9000" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00b0000000", data, sizeof(data), &dlen, &sw), 0);
	assert_int_equal(dlen, 3);
	assert_memory_equal(data, "\xaa\xbb\xcc", 3);
}

static void
test_wrong_le_case2(void **state)
{
	static const struct step s[] = {
		{ "80ca9f7f00", "6c2d" },
		{ "80ca9f7f2d", "01029000" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "80ca9f7f00", data, sizeof(data), &dlen, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(dlen, 2);
}

static void
test_wrong_le_case4(void **state)
{
	static const struct step s[] = {
		{ "00cb3fff055c035fc10200", "6c40" },
		{ "00cb3fff055c035fc10240", "539000" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00cb3fff055c035fc10200", data, sizeof(data),
	    &dlen, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(dlen, 1);
}

static void
test_wrong_le_case1_and_3(void **state)
{
	static const struct step s1[] = {
		{ "00b00000", "6c04" },
		{ "00b0000004", "010203049000" },
	};
	static const struct step s3[] = {
		{ "00a4040002aabb", "6c10" },
		{ "00a4040002aabb10", "9000" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s1, "00b00000", data, sizeof(data), &dlen, &sw), 0);
	assert_int_equal(dlen, 4);
	assert_int_equal(RUN(s3, "00a4040002aabb", data, sizeof(data), &dlen,
	    &sw), 0);
	assert_int_equal(sw, 0x9000);
}

/* Resend once only: a card that keeps saying 6Cxx gets its SW back. */
static void
test_wrong_le_twice(void **state)
{
	static const struct step s[] = {
		{ "80ca9f7f00", "6c2d" },
		{ "80ca9f7f2d", "6c2e" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "80ca9f7f00", data, sizeof(data), &dlen, &sw), 0);
	assert_int_equal(sw, 0x6c2e);
	assert_int_equal(dlen, 0);
}

/* 6Cxx then 61xx, and a GET RESPONSE answered with 6Cxx. */
static void
test_wrong_le_in_chain(void **state)
{
	static const struct step s[] = {
		{ "80ca9f7f00", "6c05" },
		{ "80ca9f7f05", "6105" },
		{ "00c0000005", "6c03" },
		{ "00c0000003", "0102039000" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "80ca9f7f00", data, sizeof(data), &dlen, &sw), 0);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(dlen, 3);
}

/* An extended-length command cannot be rewritten: the 6Cxx goes back. */
static void
test_wrong_le_extended(void **state)
{
	static const struct step s[] = {
		{ "00cb3fff00000100", "6c10" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00cb3fff00000100", data, sizeof(data), &dlen,
	    &sw), 0);
	assert_int_equal(sw, 0x6c10);
}

static void
test_empty_reply(void **state)
{
	static const struct step s[] = {
		{ "00a4040000", "" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00a4040000", data, sizeof(data), &dlen, &sw), -1);
}

static void
test_one_byte_reply(void **state)
{
	static const struct step s[] = {
		{ "00a4040000", "90" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00a4040000", data, sizeof(data), &dlen, &sw), -1);
}

static void
test_one_byte_in_chain(void **state)
{
	static const struct step s[] = {
		{ "00a4040000", "6110" },
		{ "00c0000010", "61" },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00a4040000", data, sizeof(data), &dlen, &sw), -1);
}

static void
test_transport_failure(void **state)
{
	static const struct step s[] = {
		{ "00a4040000", XFAIL },
	};
	static const struct step chain[] = {
		{ "00a4040000", "01026102" },
		{ "00c0000002", XFAIL },
	};
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(s, "00a4040000", data, sizeof(data), &dlen, &sw), -1);
	assert_int_equal(RUN(chain, "00a4040000", data, sizeof(data), &dlen,
	    &sw), -1);
}

static void
test_overflow(void **state)
{
	static const struct step one[] = {
		{ "00b0000000", "01020304059000" },
	};
	static const struct step chain[] = {
		{ "00b0000000", "0102036103" },
		{ "00c0000003", "0405069000" },
	};
	static const struct step fits[] = {
		{ "00b0000000", "01029000" },
	};
	uint8_t		data[8];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(RUN(one, "00b0000000", data, 4, &dlen, &sw), -1);
	assert_int_equal(RUN(chain, "00b0000000", data, 5, &dlen, &sw), -1);
	/* Exactly dmax is fine; 0 room is fine for an SW-only answer. */
	assert_int_equal(RUN(fits, "00b0000000", data, 2, &dlen, &sw), 0);
	assert_int_equal(dlen, 2);
}

/* A reassembled answer bigger than one response (the CHUID with a signature). */
static void
test_long_chain_to_data_max(void **state)
{
	struct step	 steps[20];
	char		 bufs[20][2 * 258 + 1];
	uint8_t		*data;
	size_t		 i, dlen, n = 0;
	uint16_t	 sw;
	struct script	 sc;
	static const uint8_t cmd[] = { 0x00, 0xcb, 0x3f, 0xff, 0x05, 0x5c, 0x03,
	    0x5f, 0xc1, 0x02, 0x00 };

	(void)state;
	data = malloc(APDU_DATA_MAX);
	assert_non_null(data);
	/* First answer 256 bytes + 6100, then 15 more of 256: 4096 bytes total. */
	steps[n].cmd = "00cb3fff055c035fc10200";
	for (i = 0; i < 16; i++) {
		memset(bufs[i], 'a', 512);
		strcpy(bufs[i] + 512, i == 15 ? "9000" : "6100");
		steps[n].reply = bufs[i];
		n++;
		steps[n].cmd = "00c0000000";
	}
	sc = (struct script){ steps, n, 0, 0 };
	assert_int_equal(apdu_transceive(fake_xmit, &sc, cmd, sizeof(cmd), data,
	    APDU_DATA_MAX, &dlen, &sw), 0);
	assert_int_equal(dlen, APDU_DATA_MAX);
	assert_int_equal(sw, 0x9000);
	assert_int_equal(data[APDU_DATA_MAX - 1], 0xaa);
	free(data);
}

/* A card that announces more data forever is cut off. */
static void
test_endless_chain(void **state)
{
	struct step	steps[100];
	size_t		i;
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;
	struct script	sc;
	static const uint8_t cmd[] = { 0x00, 0xb0, 0x00, 0x00, 0x00 };

	(void)state;
	steps[0] = (struct step){ "00b0000000", "6101" };
	for (i = 1; i < 100; i++)
		steps[i] = (struct step){ "00c0000001", "6101" };
	sc = (struct script){ steps, 100, 0, 0 };
	assert_int_equal(apdu_transceive(fake_xmit, &sc, cmd, sizeof(cmd), data,
	    sizeof(data), &dlen, &sw), -1);
	assert_true(sc.at < 100);
}

/* A transport that claims more bytes than the buffer holds is not believed. */
static void
test_transport_lies(void **state)
{
	static const struct step s[] = {
		{ "00b0000000", "9000" },
	};
	struct script	sc = { s, 1, 0, APDU_RESP_MAX + 1 };
	static const uint8_t cmd[] = { 0x00, 0xb0, 0x00, 0x00, 0x00 };
	uint8_t		data[16];
	size_t		dlen;
	uint16_t	sw;

	(void)state;
	assert_int_equal(apdu_transceive(fake_xmit, &sc, cmd, sizeof(cmd), data,
	    sizeof(data), &dlen, &sw), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_sw_only_error),
		cmocka_unit_test(test_get_response_chain),
		cmocka_unit_test(test_data_with_61),
		cmocka_unit_test(test_wrong_le_case2),
		cmocka_unit_test(test_wrong_le_case4),
		cmocka_unit_test(test_wrong_le_case1_and_3),
		cmocka_unit_test(test_wrong_le_twice),
		cmocka_unit_test(test_wrong_le_in_chain),
		cmocka_unit_test(test_wrong_le_extended),
		cmocka_unit_test(test_empty_reply),
		cmocka_unit_test(test_one_byte_reply),
		cmocka_unit_test(test_one_byte_in_chain),
		cmocka_unit_test(test_transport_failure),
		cmocka_unit_test(test_overflow),
		cmocka_unit_test(test_long_chain_to_data_max),
		cmocka_unit_test(test_endless_chain),
		cmocka_unit_test(test_transport_lies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
