/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_x509_walk.c — libFuzzer target for the certificate walks of core/x509_walk.c
 * (the server's certificate chain is untrusted input: the walks run on every received
 * certificate, before BearSSL has validated it). The first byte chooses the address
 * length (4 or 16) and the address is taken from the next bytes; the whole input is
 * the certificate. Checked: no crash, results in range, a match for 127.0.0.1 only when
 * those bytes occur in the certificate. The subject text (NUL-terminated within its
 * buffer), the validity, and the input read as a time (first byte the tag): a time
 * decoded is encoded again (core/x509_write.c) and decodes to the same value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/x509_walk.h"
#include "core/x509_write.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char lo4[4] = { 127, 0, 0, 1 };
	unsigned char ip[16];
	size_t iplen;
	unsigned char tb[16];
	char dn[X509_DN_MAX];
	long long nb, na, t, t2;
	enum x509_sig s;
	size_t tl;
	int tag;

	memset(dn, 'x', sizeof(dn));
	if (x509_subject_str(data, size, dn, sizeof(dn)) == 0 &&
	    memchr(dn, '\0', sizeof(dn)) == NULL)
		abort();
	(void)x509_validity(data, size, &nb, &na);
	if (size >= 1 && x509_time_decode(data[0], data + 1, size - 1, &t) == 0) {
		if ((tag = x509_time_encode(t, tb, &tl)) == -1 ||
		    x509_time_decode(tag, tb, tl, &t2) == -1 || t2 != t)
			abort();
	}
	s = x509_sig_hash(data, size);
	if (s < X509_SIG_MALFORMED || s > X509_SIG_MD5)
		abort();
	if (x509_has_ip(data, size, lo4, 4) && memmem(data, size, lo4, 4) == NULL)
		abort();
	if (size < 1)
		return 0;
	iplen = data[0] & 1 ? 16 : 4;
	if (size < 1 + iplen)
		return 0;
	memcpy(ip, data + 1, iplen);
	(void)x509_has_ip(data, size, ip, iplen);
	return 0;
}
