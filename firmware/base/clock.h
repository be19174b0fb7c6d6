/* SPDX-License-Identifier: BSD-2-Clause */
/* clock.h — the two clock questions the daemon asks: what time is it on the monotonic
 * clock (for deadlines and durations), and what absolute time is "ms from now" for
 * pthread_cond_timedwait on a monotonic condition variable. */
#ifndef CARDUPD_CLOCK_H
#define CARDUPD_CLOCK_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_mono_ms(void);

/* Sets *ts to CLOCK_MONOTONIC now + ms (ms >= 0), normalised: the deadline for
 * pthread_cond_timedwait on a condition variable made by clock_cond_init(). */
void clock_mono_in(struct timespec *ts, long ms);

/* Initialises cv to wait on CLOCK_MONOTONIC, so that a wall clock step (NTP at boot)
 * neither cuts a backoff short nor stretches it. Returns pthread_cond_init's result. */
int clock_cond_init(pthread_cond_t *cv);

#endif
