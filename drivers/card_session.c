/* SPDX-License-Identifier: BSD-2-Clause */
/* card_session.c — see card_session.h. The connection, the identity read and the APDU
 * exchange are card_conn.c's (the same code as the watcher's card reads), on a
 * connection of the session's own. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drivers/card_conn.h"
#include "drivers/card_session.h"

struct card_session {
	struct card_conn	conn;
};

/* see card_session.h */
struct card_session *
card_session_open(const char *reader, const struct card_identity *expect,
    enum card_port_fail *why, char *err, size_t errlen)
{
	struct card_session *s;
	struct card_identity now;
	char e[160];
	int rc;

	*why = CARD_PORT_UNAVAILABLE;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (card_conn_open(&s->conn, reader, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "no card: %s", e);
		free(s);
		return NULL;
	}
	if (card_conn_begin(&s->conn, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "transaction: %s", e);
		goto fail;
	}
	rc = card_conn_identity(&s->conn, &now, e, sizeof(e));
	card_conn_end(&s->conn);
	if (rc == -1) {
		snprintf(err, errlen, "reading the card: %s", e);
		goto fail;
	}
	if (!card_same(&now, expect)) {
		*why = CARD_PORT_DIFFERENT;
		snprintf(err, errlen, "a different card is in the reader");
		goto fail;
	}
	explicit_bzero(&now, sizeof(now));
	return s;
fail:
	explicit_bzero(&now, sizeof(now));
	card_conn_close(&s->conn);
	free(s);
	return NULL;
}

/* see card_session.h */
int
card_session_begin(struct card_session *s, char *err, size_t errlen)
{
	char e[160];

	if (card_conn_begin(&s->conn, e, sizeof(e)) == -1) {
		snprintf(err, errlen, "card no longer available: %s", e);
		return -1;
	}
	return 0;
}

/* see card_session.h */
int
card_session_apdu(struct card_session *s, const uint8_t *capdu, size_t clen,
    uint8_t *resp, size_t rmax, size_t *rlen)
{
	return card_conn_transmit(&s->conn, capdu, clen, resp, rmax, rlen);
}

/* see card_session.h */
void
card_session_end(struct card_session *s)
{
	card_conn_end(&s->conn);
}

/* see card_session.h */
void
card_session_close(struct card_session *s)
{
	if (s == NULL)
		return;
	card_conn_close(&s->conn);
	free(s);
}

/* The port's functions take the handle as void *. */
static void *
port_open(const char *reader, const struct card_identity *expect,
    enum card_port_fail *why, char *err, size_t errlen)
{
	return card_session_open(reader, expect, why, err, errlen);
}

static int
port_begin(void *h, char *err, size_t errlen)
{
	return card_session_begin(h, err, errlen);
}

static int
port_apdu(void *h, const uint8_t *capdu, size_t clen, uint8_t *resp, size_t rmax,
    size_t *rlen)
{
	return card_session_apdu(h, capdu, clen, resp, rmax, rlen);
}

static void
port_end(void *h)
{
	card_session_end(h);
}

static void
port_close(void *h)
{
	card_session_close(h);
}

/* see card_session.h */
const struct card_port card_session_port = {
	.open = port_open, .begin = port_begin, .apdu = port_apdu, .end = port_end,
	.close = port_close,
};
