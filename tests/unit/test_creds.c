/* SPDX-License-Identifier: BSD-2-Clause */
/* test_creds.c — cms/creds.c: the shared copy of the CMS credentials is found again by
 * its three paths (no path and an empty one are the same), and another path loads
 * another copy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "cms/creds.h"

#define CA	"tests/vectors/anchor_ca.pem"
#define CA2	"tests/vectors/./anchor_ca.pem"	/* the same file, another key */

static void
test_shared_by_paths(void **state)
{
	char err[256];
	struct cms_creds *a, *b, *c, *d;

	(void)state;
	assert_non_null(a = cms_creds_load(CA, NULL, NULL, err, sizeof(err)));
	assert_int_equal(a->anchors.n, 1);
	assert_non_null(b = cms_creds_shared(CA, "", "", err, sizeof(err)));
	assert_ptr_equal(a, b);
	assert_non_null(c = cms_creds_shared(CA2, NULL, NULL, err, sizeof(err)));
	assert_ptr_not_equal(a, c);
	/* c is the shared copy now: CA loads afresh, a stays valid */
	assert_non_null(d = cms_creds_shared(CA, NULL, NULL, err, sizeof(err)));
	assert_ptr_not_equal(a, d);
	assert_ptr_not_equal(c, d);
	assert_null(cms_creds_shared(CA, "tests/vectors/server_ip.pem", NULL, err,
	    sizeof(err)));
	cms_creds_unref(a);
	cms_creds_unref(b);
	cms_creds_unref(c);
	cms_creds_unref(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_by_paths),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
