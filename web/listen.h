/* SPDX-License-Identifier: BSD-2-Clause */
/* listen.h — turns a configured listen address ("IP:PORT", "[v6]:PORT") into the socket
 * address and flags libmicrohttpd takes; shared by the kiosk and admin listeners. */
#ifndef CARDUPD_LISTEN_H
#define CARDUPD_LISTEN_H

#include <sys/socket.h>

/* Fills *ss from listen and sets *ipv6 to 1 for an IPv6 address (the caller adds
 * MHD_USE_IPv6). Returns the port (1..65535), or -1 when listen is not IP:PORT. */
int web_listen_addr(const char *listen, struct sockaddr_storage *ss, int *ipv6);

#endif
