/*
 * metrics.c - see metrics.h. Bucket search is linear over 16 bounds: at most 16 compares,
 * no branches that depend on allocation, cheaper than a binary search at this size.
 */
#include "common/metrics.h"

#include <string.h>
#include <time.h>

struct metrics metrics;

const uint64_t metrics_bucket_us[METRICS_BUCKETS] = {
	100,    250,    500,     1000,    2500,    5000,    10000,   25000,
	50000,  100000, 250000,  500000,  1000000, 2500000, 5000000, 10000000,
};

void metrics_observe(struct metrics_histogram *h, uint64_t us)
{
	unsigned i = 0;

	while (i < METRICS_BUCKETS && us > metrics_bucket_us[i])
		i++;
	h->buckets[i]++;
	h->count++;
	h->sum_us += us;
}

uint64_t metrics_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void metrics_reset(void)
{
	memset(&metrics, 0, sizeof(metrics));
}
