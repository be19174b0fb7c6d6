/* SPDX-License-Identifier: BSD-2-Clause */
/* body.h — the admin API's request bodies: a JSON object of bounded depth posted as
 * application/json, and its disposal with every string wiped (bodies carry passwords;
 * json-c frees its strings without wiping them). Pure: no I/O. */
#ifndef CARDUPD_ADMIN_BODY_H
#define CARDUPD_ADMIN_BODY_H

#include <stddef.h>

/* Request bodies are parsed no deeper than this (json-c tokener depth). */
#define ADMIN_JSON_DEPTH	6

struct json_object;

/* The JSON object an admin API request body holds: content_type (the request's
 * Content-Type header, NULL when absent) must start with "application/json" (a
 * cross-origin page cannot post that without a preflight), and body[0..len) (need not
 * be NUL-terminated; NULL: no body) must start with a JSON object nested at most
 * ADMIN_JSON_DEPTH deep (bytes after it are ignored). Every copy json-c's tokener made
 * of the body's strings is wiped before it is freed. Returns the object (the caller
 * drops it with admin_body_free), or NULL for anything else. */
struct json_object *admin_parse_body(const char *content_type, const char *body,
    size_t len);

/* Wipes every string value of o (at any depth) and drops it (json_object_put). NULL is
 * accepted. Strings other code still references through a json_object_get() are wiped
 * too. */
void admin_body_free(struct json_object *o);

#endif
