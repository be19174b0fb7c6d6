/* SPDX-License-Identifier: BSD-2-Clause */
/* vm-pcsc-watch.c — the guest's PC/SC anchor for `make vm-test` figures: a minimal
 * PC/SC client (as pcsc_scan, without its ATR analysis and terminal output) that prints
 * one flushed line per event, so that the host can time cardupd against what any PC/SC
 * application sees through the same pcscd, libccid and USB path:
 *   ready UPTIME_S          first context established (pcscd answers)
 *   reader+ NAME / reader- NAME
 *   present NAME ATR / empty NAME
 *   lost ERROR              pcscd went away (the context is re-established)
 * `vm-pcsc-watch --probe READER` instead connects to the card in READER (shared) and
 * prints "probe OK PROTOCOL" or "probe ERROR": SCardConnect waits while another
 * exchange holds the reader, so its return proves the reader is free again.
 * Test-only: part of the guest's agent, never of the product image. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <PCSC/wintypes.h>

#define MAXR	8
#define PNP	"\\\\?PnP?\\Notification"

static void
uptime(char *buf, size_t n)
{
	FILE *f = fopen("/proc/uptime", "r");

	snprintf(buf, n, "?");
	if (f != NULL) {
		if (fscanf(f, "%31s", buf) != 1)
			snprintf(buf, n, "?");
		fclose(f);
	}
}

static void
event(const char *what, const char *name, const SCARD_READERSTATE *rs)
{
	printf("%s %s", what, name);
	if (rs != NULL) {
		putchar(' ');
		for (DWORD i = 0; i < rs->cbAtr; i++)
			printf("%02X", rs->rgbAtr[i]);
	}
	putchar('\n');
	fflush(stdout);
}

static int
probe(const char *reader)
{
	SCARDCONTEXT ctx;
	SCARDHANDLE card;
	DWORD proto;
	LONG rv;

	if ((rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx)) ==
	    SCARD_S_SUCCESS) {
		rv = SCardConnect(ctx, reader, SCARD_SHARE_SHARED,
		    SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1, &card, &proto);
		if (rv == SCARD_S_SUCCESS)
			(void)SCardDisconnect(card, SCARD_LEAVE_CARD);
		(void)SCardReleaseContext(ctx);
	}
	if (rv != SCARD_S_SUCCESS) {
		printf("probe %s\n", pcsc_stringify_error(rv));
		return 1;
	}
	printf("probe OK T=%d\n", proto == SCARD_PROTOCOL_T1 ? 1 : 0);
	return 0;
}

int
main(int argc, char **argv)
{
	SCARDCONTEXT ctx;
	SCARD_READERSTATE rs[MAXR + 1];
	char names[MAXR][256], buf[4096], up[32];
	int n = 0, first = 1;
	LONG rv;

	if (argc == 3 && strcmp(argv[1], "--probe") == 0)
		return probe(argv[2]);
	for (;;) {
		while (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) !=
		    SCARD_S_SUCCESS)
			usleep(50 * 1000);
		if (first) {
			uptime(up, sizeof(up));
			printf("ready %s\n", up);
			fflush(stdout);
			first = 0;
		}
		for (;;) {
			DWORD len = sizeof(buf);
			char now[MAXR][256];
			int m = 0;

			rv = SCardListReaders(ctx, NULL, buf, &len);
			if (rv == SCARD_S_SUCCESS)
				for (char *p = buf; *p != '\0' && m < MAXR; p += strlen(p) + 1)
					snprintf(now[m++], sizeof(now[0]), "%s", p);
			else if (rv != SCARD_E_NO_READERS_AVAILABLE)
				break;
			/* Readers gone and come. */
			for (int i = 0; i < n; i++) {
				int keep = 0;
				for (int j = 0; j < m; j++)
					keep |= strcmp(names[i], now[j]) == 0;
				if (!keep)
					event("reader-", names[i], NULL);
			}
			for (int j = 0; j < m; j++) {
				int old = 0;
				for (int i = 0; i < n; i++)
					old |= strcmp(names[i], now[j]) == 0;
				if (!old)
					event("reader+", now[j], NULL);
			}
			memcpy(names, now, sizeof(now));
			n = m;
			memset(rs, 0, sizeof(rs));
			for (int i = 0; i < n; i++) {
				rs[i].szReader = names[i];
				rs[i].dwCurrentState = SCARD_STATE_UNAWARE;
			}
			rs[n].szReader = PNP;
			rs[n].dwCurrentState = SCARD_STATE_UNAWARE;
			/* Wait on the readers until the list changes. */
			for (;;) {
				int relist = 0;

				rv = SCardGetStatusChange(ctx, INFINITE, rs, (DWORD)n + 1);
				if (rv != SCARD_S_SUCCESS)
					break;
				for (int i = 0; i < n; i++) {
					DWORD was = rs[i].dwCurrentState, st = rs[i].dwEventState;

					if (st & (SCARD_STATE_UNKNOWN | SCARD_STATE_IGNORE))
						relist = 1;
					else if ((st & SCARD_STATE_PRESENT) &&
					    !(was & SCARD_STATE_PRESENT))
						event("present", names[i], &rs[i]);
					else if ((st & SCARD_STATE_EMPTY) &&
					    !(was & SCARD_STATE_EMPTY))
						event("empty", names[i], NULL);
					rs[i].dwCurrentState = st & ~SCARD_STATE_CHANGED;
				}
				if (rs[n].dwEventState & SCARD_STATE_CHANGED)
					relist = 1;
				rs[n].dwCurrentState = rs[n].dwEventState & ~SCARD_STATE_CHANGED;
				if (relist)
					break;
			}
			if (rv != SCARD_S_SUCCESS)
				break;
		}
		printf("lost %s\n", pcsc_stringify_error(rv));
		fflush(stdout);
		SCardReleaseContext(ctx);
		usleep(100 * 1000);
	}
}
