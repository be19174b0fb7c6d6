/* SPDX-License-Identifier: BSD-2-Clause */
/* tls_policy.h — the one TLS policy of cardupd's two TLS ends, the CMS client
 * (cms/tls.c) and the admin listener's terminator (web/admin/tls_term.c): TLS 1.2 only,
 * forward secrecy and AEAD only (docs/cms-client.md). Pure: it only sets fields of a
 * BearSSL engine. */
#ifndef CARDUPD_TLS_POLICY_H
#define CARDUPD_TLS_POLICY_H

#include <bearssl.h>

/* Restricts eng, already initialised (client or server), to TLS 1.2 and the policy's
 * suites in its order: ECDHE (ECDSA or RSA) with AES-128-GCM first (the cheapest with
 * AES-NI and PCLMULQDQ), ChaCha20-Poly1305 next (fast in portable code), AES-256-GCM
 * last. The engine keeps those its key or its peer can use. */
void tls_policy_apply(br_ssl_engine_context *eng);

#endif
