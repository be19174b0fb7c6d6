/* SPDX-License-Identifier: BSD-2-Clause */
/* https.h — the HTTPS client of the CMS check and the SERAM session: one POST and its
 * response under one deadline (DNS, connect, handshake, request, response), strict
 * trust (configured anchors, host name or IP address, the TLS policy of cms/tls.h), a
 * TLS session cache for resumption and one kept-alive connection for reuse. Not
 * thread-safe: one caller at a time per client; clients share credentials
 * (cms/creds.h). */
#ifndef CARDUPD_HTTPS_H
#define CARDUPD_HTTPS_H

#include <stddef.h>
#include <stdint.h>
#include "core/http.h"
#include "cms/conn.h"
#include "cms/creds.h"

#define HTTPS_CODE_MAX		NET_CODE_MAX
#define HTTPS_DETAIL_MAX	NET_DETAIL_MAX

/* A kept-alive connection idle longer than this is closed (lazily: at the next
 * https_post or at https_client_free; nothing wakes up for it) instead of reused.
 * Servers commonly end idle connections after 5 to 75 s; one that closed it earlier
 * is noticed before the request is sent. */
#ifndef HTTPS_KEEPALIVE_IDLE_MS
#define HTTPS_KEEPALIVE_IDLE_MS	30000
#endif
/* Requests on one connection before it is closed anyway. */
#ifndef HTTPS_KEEPALIVE_MAX_USES
#define HTTPS_KEEPALIVE_MAX_USES 100
#endif

struct https_client;

/* Creates a client with its own reference to cr (the caller keeps its own). Returns
 * NULL when out of memory. */
struct https_client *https_client_new_creds(struct cms_creds *cr);

/* Creates a client trusting the anchors in anchors_path, read now (cms_creds_load:
 * the copy becomes the shared one for these paths). client_cert and client_key (PEM)
 * are optional (NULL or "") for mutual TLS. Returns NULL with a message naming the
 * file in err on failure. */
struct https_client *https_client_new(const char *anchors_path,
    const char *client_cert, const char *client_key, char *err, size_t errlen);

/* Frees the client: closes a kept-alive connection (close_notify, bounded), wipes keys
 * and session parameters. NULL is accepted. */
void https_client_free(struct https_client *c);

struct https_result {
	int		 status;	/* HTTP status when a response was received */
	char		 retry_after[32];
	char		 content_type[64];
	const uint8_t	*body;		/* points into the client's buffer; valid until
					   the next call on this client */
	size_t		 body_len;
	int		 resumed;	/* a handshake took place and resumed a session */
	int		 reused;	/* sent on a kept-alive connection (no handshake:
					   resumed is 0) */
	int		 kept;		/* the connection was kept for the next request */
	char		 code[HTTPS_CODE_MAX];	/* failure code, "" on success */
	char		 detail[HTTPS_DETAIL_MAX];	/* human-readable failure */
};

/* POSTs body (Content-Type: application/json) to u (u->path is the request target),
 * with extra_headers (NULL or "Name: value\r\n"...) and waits at most timeout_ms in
 * total for the whole exchange (DNS, connect, handshake, request, response).
 * Keep-alive: the request says "Connection: keep-alive"; after a response the server
 * lets us keep (and with nothing unread behind it), the connection stays open for the
 * next call to the same host:port. That call reuses it when it is younger than
 * HTTPS_KEEPALIVE_IDLE_MS and shows no sign of having been closed (a non-blocking
 * poll); if the reused connection fails before any byte of the response arrived, the
 * request is sent once more on a fresh connection within the same deadline (callers
 * must only POST what may safely arrive twice).
 * Returns 0 when a complete HTTP response arrived (any status; res->status etc. set),
 * -1 otherwise with res->code one of: "dns", "connect", "timeout", "tls_untrusted",
 * "tls_hostname", "tls_expired", "tls_clock", "tls_version", "tls_no_shared_cipher",
 * "tls_no_forward_secrecy", "tls_weak_cipher", "tls_weak_signature", "tls", "io",
 * "bad_response", and a detail sentence (docs/cms-client.md). The response body is limited to CONFIG_CMS_MAX_RESPONSE_BYTES. */
int https_post(struct https_client *c, const struct http_url *u,
    const char *extra_headers, const char *body, size_t body_len, int timeout_ms,
    struct https_result *res);

#endif
