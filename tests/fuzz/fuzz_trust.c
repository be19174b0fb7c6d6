/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_trust.c — libFuzzer target for an uploaded trust anchor file, through what
 * post_anchors and get_anchors run on it: trust_pem_read, trust_load (BearSSL, PEM or
 * DER, through core/pem.c and core/anchors.c), anchors_check_upload (the upload rule on
 * the bytes) and admin_anchors_describe (core/x509_walk.c). They take a path, so the input is written
 * to a file in /dev/shm (one per process, removed at exit). An input that is not PEM
 * is also run wrapped as one PEM certificate, so that mutations of DER bytes reach
 * the PEM paths and the anchor list as well.
 * Checked: no crash or leak; on success every PEM label NUL-terminated within its
 * buffer and every object's bytes readable, at least one anchor each with a DN and a
 * key of its type; on failure an empty result and a message naming the file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "web/admin/admin_tls.h"
#include "core/anchors.h"
#include "cms/trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char path[64];

static void
cleanup(void)
{
	unlink(path);
}

static void
put_file(const uint8_t *data, size_t size)
{
	FILE *f;

	if (path[0] == '\0') {
		snprintf(path, sizeof(path), "/dev/shm/fuzz_trust.%ld.pem", (long)getpid());
		atexit(cleanup);
	}
	if ((f = fopen(path, "wb")) == NULL ||
	    (size > 0 && fwrite(data, 1, size, f) != size) || fclose(f) != 0)
		abort();
}

/* A failure leaves a message that names the file. */
static void
check_err(const char *err, size_t cap)
{
	if (memchr(err, '\0', cap) == NULL || strstr(err, path) == NULL)
		abort();
}

static void run(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pem;
	size_t n;

	run(data, size);
	if (memmem(data, size, "-----BEGIN ", 11) != NULL)
		return 0;
	n = br_pem_encode(NULL, data, size, "CERTIFICATE", size & 1 ? BR_PEM_CRLF : 0);
	if ((pem = malloc(n + 1)) == NULL)
		abort();
	br_pem_encode(pem, data, size, "CERTIFICATE", size & 1 ? BR_PEM_CRLF : 0);
	run((const uint8_t *)pem, n);
	free(pem);
	return 0;
}

static void
run(const uint8_t *data, size_t size)
{
	struct pem_obj *objs = NULL;
	struct trust_anchors ta;
	json_object *arr;
	size_t n = 99;
	char err[512];

	put_file(data, size);

	memset(err, 'x', sizeof(err));
	if (trust_pem_read(path, &objs, &n, err, sizeof(err)) == 0) {
		if ((n > 0) != (objs != NULL))
			abort();
		for (size_t i = 0; i < n; i++) {
			unsigned char sum = 0;

			if (memchr(objs[i].name, '\0', sizeof(objs[i].name)) == NULL)
				abort();
			if (objs[i].len > 0 && objs[i].data == NULL)
				abort();
			for (size_t j = 0; j < objs[i].len; j++)	/* ASan: all there */
				sum ^= objs[i].data[j];
			*(volatile unsigned char *)&sum;
		}
		pem_free(objs, n);
	} else {
		if (objs != NULL || n != 0)
			abort();
		check_err(err, sizeof(err));
	}

	memset(err, 'x', sizeof(err));
	if (trust_load(path, &ta, err, sizeof(err)) == 0) {
		if (ta.n == 0 || ta.ta == NULL)
			abort();
		for (size_t i = 0; i < ta.n; i++) {
			const br_x509_trust_anchor *a = &ta.ta[i];

			if (a->dn.data == NULL && a->dn.len > 0)
				abort();
			if (a->flags & ~(unsigned)BR_X509_TA_CA)
				abort();
			switch (a->pkey.key_type) {
			case BR_KEYTYPE_RSA:
				if (a->pkey.key.rsa.n == NULL || a->pkey.key.rsa.e == NULL ||
				    a->pkey.key.rsa.nlen == 0 || a->pkey.key.rsa.elen == 0)
					abort();
				break;
			case BR_KEYTYPE_EC:
				if (a->pkey.key.ec.q == NULL || a->pkey.key.ec.qlen == 0)
					abort();
				break;
			default:
				abort();
			}
		}
		trust_free(&ta);
		if (ta.ta != NULL || ta.n != 0)
			abort();
	} else {
		if (ta.ta != NULL || ta.n != 0)
			abort();
		check_err(err, sizeof(err));
	}
	trust_free(&ta);	/* twice is fine */

	/* The admin upload rule on the bytes (core/anchors.c): what it accepts, the
	 * CMS client loads, with as many anchors. */
	memset(err, 'x', sizeof(err));
	{
		int up = anchors_check_upload(data, size, err, sizeof(err));

		if (up == -1 && memchr(err, '\0', sizeof(err)) == NULL)
			abort();
		if (up == 0 || up < -1)
			abort();
		if (up > 0) {
			if (trust_load(path, &ta, err, sizeof(err)) == -1 ||
			    ta.n != (size_t)up)
				abort();
			trust_free(&ta);
		}
	}

	/* The admin page's list of what the file holds. */
	memset(err, 'x', sizeof(err));
	if ((arr = admin_anchors_describe(path, 1732530000, err, sizeof(err))) != NULL) {
		if (!json_object_is_type(arr, json_type_array))
			abort();
		(void)json_object_to_json_string(arr);
		json_object_put(arr);
	} else
		check_err(err, sizeof(err));
}
