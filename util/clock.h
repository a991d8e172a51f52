/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Clock readings as integer nanoseconds or milliseconds: the one helper
 * every module uses instead of its own timespec arithmetic. */
#ifndef EBPFDUMP_UTIL_CLOCK_H
#define EBPFDUMP_UTIL_CLOCK_H

#include <stdint.h>
#include <time.h>

#define NSEC_PER_SEC 1000000000ull
#define NSEC_PER_MSEC 1000000ull

static inline uint64_t timespec_to_ns(const struct timespec *ts)
{
	return (uint64_t)ts->tv_sec * NSEC_PER_SEC + (uint64_t)ts->tv_nsec;
}

/* Now on clock id (CLOCK_MONOTONIC, CLOCK_REALTIME, CLOCK_BOOTTIME), in ns. */
static inline uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return timespec_to_ns(&ts);
}

static inline uint64_t clock_ms(clockid_t id)
{
	return clock_ns(id) / NSEC_PER_MSEC;
}

/* CLOCK_REALTIME minus CLOCK_BOOTTIME, in ns: kernel time stamps
 * (bpf_ktime_get_boot_ns) plus this are wall-clock times. Sampled from the
 * tightest of a few realtime/boottime/realtime readings, so the error is
 * half that pair's gap; taken once per capture, every event shifts by the
 * same amount and their order and spacing stay as measured. */
static inline int64_t clock_boot_to_realtime_ns(void)
{
	int64_t best_gap = INT64_MAX, offset = 0;

	for (int i = 0; i < 5; i++) {
		uint64_t r1 = clock_ns(CLOCK_REALTIME);
		uint64_t b = clock_ns(CLOCK_BOOTTIME);
		uint64_t r2 = clock_ns(CLOCK_REALTIME);
		int64_t gap = (int64_t)(r2 - r1);

		if (gap >= 0 && gap < best_gap) {
			best_gap = gap;
			offset = (int64_t)(r1 + (uint64_t)gap / 2) - (int64_t)b;
		}
	}
	return offset;
}

#endif
