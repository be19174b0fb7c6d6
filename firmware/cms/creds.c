/* SPDX-License-Identifier: BSD-2-Clause */
/* creds.c — see creds.h. The shared copy is one slot under a mutex; a load for other
 * paths (a configuration change) replaces it, and clients still holding the old copy
 * keep it until they drop their reference. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/file.h"
#include "core/pem.h"
#include "cms/creds.h"

static pthread_mutex_t shared_mu = PTHREAD_MUTEX_INITIALIZER;
static struct cms_creds *shared;

static int
set(const char *s)
{
	return s != NULL && *s != '\0';
}

static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

/* The key of three paths: each with its NUL, back to back. Sets *len (0 on failure)
 * and returns the malloc'd key, or NULL. */
static char *
make_key(const char *a, const char *c, const char *k, size_t *len)
{
	const char *part[3] = { str(a), str(c), str(k) };
	size_t n[3], total = 0;
	char *key, *p;

	for (int i = 0; i < 3; i++)
		total += (n[i] = strlen(part[i]) + 1);
	*len = 0;
	if ((key = p = malloc(total)) == NULL)
		return NULL;
	for (int i = 0; i < 3; i++) {
		memcpy(p, part[i], n[i]);
		p += n[i];
	}
	*len = total;
	return key;
}

/* 1 when b was loaded from these three paths. */
static int
key_matches(const struct cms_creds *b, const char *a, const char *c, const char *k)
{
	const char *part[3] = { str(a), str(c), str(k) };
	size_t off = 0;

	if (b->key == NULL)
		return 0;
	for (int i = 0; i < 3; i++) {
		size_t n = strlen(part[i]) + 1;

		if (b->key_len - off < n || memcmp(b->key + off, part[i], n) != 0)
			return 0;
		off += n;
	}
	return off == b->key_len;
}

static void
box_free(struct cms_creds *b)
{
	anchors_free(&b->anchors);
	tlscred_free(&b->cred);
	free(b->key);
	explicit_bzero(b, sizeof *b);
	free(b);
}

/* see creds.h */
struct cms_creds *
cms_creds_ref(struct cms_creds *c)
{
	atomic_fetch_add(&c->refs, 1);
	return c;
}

/* see creds.h */
void
cms_creds_unref(struct cms_creds *c)
{
	if (c != NULL && atomic_fetch_sub(&c->refs, 1) == 1)
		box_free(c);
}

static int
read_pem(const char *path, unsigned flags, struct file_buf *fb, char *err, size_t errlen)
{
	return file_read(path, PEM_INPUT_MAX, flags | FILE_NONEMPTY, fb, err, errlen);
}

/* see creds.h */
struct cms_creds *
cms_creds_load(const char *anchors_path, const char *client_cert,
    const char *client_key, char *err, size_t errlen)
{
	struct cms_creds *b, *old;
	struct file_buf fa, fc, fk;

	if (set(client_cert) != set(client_key)) {
		pem_seterr(err, errlen, "a client certificate needs its key and a key "
		    "its certificate");
		return NULL;
	}
	if (!set(anchors_path)) {
		pem_seterr(err, errlen, "no trust anchor file configured");
		return NULL;
	}
	if ((b = calloc(1, sizeof *b)) == NULL) {
		pem_seterr(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&b->refs, 1);
	/* no key (out of memory): loaded all the same, only not shared */
	b->key = make_key(anchors_path, client_cert, client_key, &b->key_len);
	if (read_pem(anchors_path, 0, &fa, err, errlen) == -1)
		goto fail;
	if (anchors_decode(anchors_path, (const unsigned char *)fa.p, fa.len,
	    &b->anchors, err, errlen) == -1) {
		file_free(&fa);
		goto fail;
	}
	file_free(&fa);
	if (set(client_cert)) {
		if (read_pem(client_cert, 0, &fc, err, errlen) == -1)
			goto fail;
		if (read_pem(client_key, FILE_SECRET, &fk, err, errlen) == -1) {
			file_free(&fc);
			goto fail;
		}
		if (tlscred_decode(client_cert, (const unsigned char *)fc.p, fc.len,
		    client_key, (const unsigned char *)fk.p, fk.len, &b->cred, err,
		    errlen) == -1) {
			file_free(&fc);
			file_free(&fk);
			goto fail;
		}
		file_free(&fc);
		file_free(&fk);
		b->has_cred = 1;
	}
	if (b->key_len > 0) {
		cms_creds_ref(b);		/* the shared slot's reference */
		pthread_mutex_lock(&shared_mu);
		old = shared;
		shared = b;
		pthread_mutex_unlock(&shared_mu);
		if (old != NULL)
			cms_creds_unref(old);
	}
	return b;
fail:
	box_free(b);
	return NULL;
}

/* see creds.h */
struct cms_creds *
cms_creds_shared(const char *anchors_path, const char *client_cert,
    const char *client_key, char *err, size_t errlen)
{
	struct cms_creds *c = NULL;

	pthread_mutex_lock(&shared_mu);
	if (shared != NULL && key_matches(shared, anchors_path, client_cert, client_key))
		c = cms_creds_ref(shared);
	pthread_mutex_unlock(&shared_mu);
	if (c != NULL)
		return c;
	return cms_creds_load(anchors_path, client_cert, client_key, err, errlen);
}
