/* SPDX-License-Identifier: BSD-2-Clause */
/* hooks.h — the configured [hooks] commands: run with /bin/sh -c, details in the
 * environment (never card identifiers), not waited for (SIGCHLD is set to reap). */
#ifndef CARDUPD_HOOKS_H
#define CARDUPD_HOOKS_H

/* Starts cmd (a shell command line; "" = no hook) with the current environment plus
 * the NAME=value strings of env (NULL-terminated), an empty signal mask and every
 * signal at its default disposition (not the daemon's blocked/ignored set). Returns 0 when started or when
 * there is no hook, -1 when it could not be started (logged). */
int hooks_run(const char *what, const char *cmd, const char *const env[]);

#endif
