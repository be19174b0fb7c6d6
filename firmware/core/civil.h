/* SPDX-License-Identifier: BSD-2-Clause */
/* civil.h — calendar arithmetic for the decoders of dates (HTTP dates, X.509 times, the
 * build date): pure, no clock, no time zone. */
#ifndef CARDUPD_CIVIL_H
#define CARDUPD_CIVIL_H

/* Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1-12, d 1-31; the
 * caller checks the ranges), negative before 1970 (H. Hinnant's days_from_civil). */
long long civil_days(long long y, unsigned m, unsigned d);

#endif
