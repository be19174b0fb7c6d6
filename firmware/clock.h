/* clock.h — the two clock questions the daemon asks: what time is it on the monotonic
 * clock (for deadlines and durations), and what absolute time is "ms from now" for
 * pthread_cond_timedwait (which waits on CLOCK_REALTIME by default). */
#ifndef CARDUPD_CLOCK_H
#define CARDUPD_CLOCK_H

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC in milliseconds. */
int64_t clock_mono_ms(void);

/* Sets *ts to CLOCK_REALTIME now + ms (ms >= 0), normalised. */
void clock_realtime_in(struct timespec *ts, long ms);

#endif
