/* SPDX-License-Identifier: BSD-2-Clause */
/* json.h — the one strict JSON input set-up (json-c) for everything that parses bodies
 * from the network: RFC 8259 syntax only, valid UTF-8, bounded nesting, one object and
 * nothing after it. Owns no state. */
#ifndef CARDUPD_JSON_H
#define CARDUPD_JSON_H

#include <stddef.h>
#include <json-c/json.h>

/* Parses the len bytes at text (no NUL needed) as exactly one JSON object: strict syntax
 * (JSON_TOKENER_STRICT: no comments, trailing commas or bare words; json-c 0.16 still
 * takes 'single-quoted' strings and NaN), valid UTF-8, nested at most depth levels as json-c
 * counts them (json_tokener_new_ex: a flat object needs 2), followed by nothing but
 * JSON white space. Returns the object (the caller json_object_put()s it), or NULL with
 * *why set to a static English reason ("trailing data", "not a JSON object", json-c's
 * description of the syntax error, "out of memory"). len must be at most INT_MAX; the
 * caller bounds it further before reading the body. The tokener's scratch copies of
 * the text's strings are wiped before they are freed (bodies may hold passwords), and so
 * is a refused object (json_put_wiped). */
json_object *json_parse_object(const void *text, size_t len, int depth, const char **why);

/* Wipes every string value of o, at any depth, then json_object_put()s it (json-c frees
 * strings without wiping them). NULL is accepted. */
void json_put_wiped(json_object *o);

#endif
