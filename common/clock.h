/*
 * clock.h - wall-clock and monotonic milliseconds.
 */
#ifndef WAMPD_COMMON_CLOCK_H
#define WAMPD_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since the Unix epoch (for timestamps shown to users). */
static inline int64_t clock_wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds of a monotonic clock (for durations and deadlines). */
static inline int64_t clock_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#endif
