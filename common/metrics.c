/*
 * metrics.c - see metrics.h. Bucket search is linear over 16 bounds: at most 16 compares,
 * no branches that depend on allocation, cheaper than a binary search at this size.
 * metrics_add sums member by member (a static assertion keeps it complete).
 */
#include "common/metrics.h"

#include <time.h>

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

static void metrics_add_n(uint64_t *sum, const uint64_t *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum[i] += v[i];
}

static void metrics_add_histogram(struct metrics_histogram *sum,
                                  const struct metrics_histogram *h)
{
	metrics_add_n(sum->buckets, h->buckets, METRICS_BUCKETS + 1);
	sum->count += h->count;
	sum->sum_us += h->sum_us;
}

/* every member is a uint64_t (histograms too): a member added to struct metrics and not
 * summed below changes the size and stops the build here */
_Static_assert(sizeof(struct metrics) ==
                       sizeof(uint64_t) * (2 * METRICS_MSG_TYPES + 2 + 2 * METRICS_AUTH_METHODS +
                                           1 + WAMPD_ERR__COUNT + 2 + METRICS_DETACHED_ENDS) +
                               2 * sizeof(struct metrics_histogram),
               "metrics_add must sum every member of struct metrics");

void metrics_add(struct metrics *sum, const struct metrics *m)
{
	metrics_add_n(sum->msgs_in, m->msgs_in, METRICS_MSG_TYPES);
	metrics_add_n(sum->msgs_out, m->msgs_out, METRICS_MSG_TYPES);
	sum->bytes_in += m->bytes_in;
	sum->bytes_out += m->bytes_out;
	metrics_add_n(sum->auth_ok, m->auth_ok, METRICS_AUTH_METHODS);
	metrics_add_n(sum->auth_fail, m->auth_fail, METRICS_AUTH_METHODS);
	sum->pending_calls += m->pending_calls;
	metrics_add_n(sum->publish_refused, m->publish_refused, WAMPD_ERR__COUNT);
	sum->sessions_detached += m->sessions_detached;
	sum->sessions_resumed += m->sessions_resumed;
	metrics_add_n(sum->detached_ended, m->detached_ended, METRICS_DETACHED_ENDS);
	metrics_add_histogram(&sum->call_latency, &m->call_latency);
	metrics_add_histogram(&sum->loop_lag, &m->loop_lag);
}
