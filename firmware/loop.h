/* SPDX-License-Identifier: BSD-2-Clause */
/* loop.h — the owner of state (DESIGN.md, "one owner of state"): the agent, the running
 * configuration, the published snapshots and every handle of the edges (reader watcher,
 * CMS worker, card update sessions, kiosk and admin listeners). main.c starts it, runs
 * it and stops it. */
#ifndef CARDUPD_LOOP_H
#define CARDUPD_LOOP_H

#include <stddef.h>
#include "core/config.h"

struct loop;

/* Starts the edges on cfg (copied): the CMS worker, the kiosk listener, the admin
 * listener (when configured and built), the reader watcher, and publishes the first
 * state. cfg_path is the file SIGHUP and admin saves reload; foreground is -f (for
 * log_init on reload). Returns the loop, or NULL with a message in err and *exit_code
 * set (2: configuration, e.g. trust anchors; 1: runtime). */
struct loop *loop_start(const struct cfg *cfg, const char *cfg_path, int foreground,
    int *exit_code, char *err, size_t errlen);

/* Runs until SIGTERM/SIGINT arrives on sfd (a signalfd for SIGTERM, SIGINT and SIGHUP;
 * SIGHUP reloads). Idle, it sleeps in poll() with no timeout. Returns the exit code:
 * 0 after a signal, 1 on a failure of poll. */
int loop_run(struct loop *l, int sfd);

/* Ends the card update sessions (each is told why), stops the edges and frees what
 * no thread can still touch. Waits at most a few seconds for session threads in a long
 * poll; what they may touch is left allocated when they outlive the wait (the process
 * is exiting). NULL is accepted. */
void loop_stop(struct loop *l);

#endif
