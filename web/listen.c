/* SPDX-License-Identifier: BSD-2-Clause */
/* listen.c — see listen.h. */
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "core/config.h"
#include "web/listen.h"

/* see listen.h */
int
web_listen_addr(const char *listen, struct sockaddr_storage *ss, int *ipv6)
{
	char host[64];
	unsigned port;

	memset(ss, 0, sizeof(*ss));
	if (cfg_split_listen(listen, host, sizeof(host), &port) == -1)
		return -1;
	*ipv6 = strchr(host, ':') != NULL;
	if (*ipv6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;

		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		inet_pton(AF_INET6, host, &in6->sin6_addr);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;

		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)port);
		inet_pton(AF_INET, host, &in->sin_addr);
	}
	return (int)port;
}
