/*
 * metrics.h - the router's operational counters (exposed as Prometheus text by
 * router/admin/admin_metrics.c).
 *
 * One struct of plain integers per event loop: its owner (today the router, rt->metrics;
 * realm/ and each session borrow a pointer to it) is the only writer, so bumping a counter
 * is one add, with no atomics, no locks and no allocation. What is exposed is the sum of
 * every loop's struct, made when scraped (metrics_add: counters, gauges and histogram
 * buckets all add up). Counters that realm/ must bump live here (below realm/) so the
 * layering holds; gauges that can be read from the router's own tables (sessions,
 * registrations, subscriptions, send queues) are not kept here but computed when scraped.
 *
 * Histograms (call latency, event-loop lag) use fixed bucket bounds in microseconds; an
 * observation walks at most METRICS_BUCKETS compares and bumps one slot (the cumulative
 * counts Prometheus wants are summed when exposed).
 */
#ifndef WAMPD_COMMON_METRICS_H
#define WAMPD_COMMON_METRICS_H

#include <stdint.h>

#include "common/err.h"

#define METRICS_MSG_TYPES 71   /* WAMP message type codes 0..70 */
#define METRICS_AUTH_METHODS 8 /* enum auth_method values (auth/auth.h), last = unknown */
#define METRICS_BUCKETS 16     /* finite histogram buckets (+Inf is implicit) */

/* Why a detached resumable session ended (router/core/resume.c; the exposition names them
 * in admin_metrics.c). */
enum metrics_detached_end {
	METRICS_DETACHED_EXPIRED = 0, /* its resume window passed */
	METRICS_DETACHED_CLOSED,      /* killed, replay log full, a resume that could not be
	                                 made, router shutdown */
	METRICS_DETACHED_BUDGET,      /* the oldest when the realm's detached sessions went
	                                 over resume.max_detached_bytes */
	METRICS_DETACHED_ENDS,
};

/* Upper bounds of the histogram buckets, in microseconds (100 us .. 10 s). */
extern const uint64_t metrics_bucket_us[METRICS_BUCKETS];

struct metrics_histogram {
	uint64_t buckets[METRICS_BUCKETS + 1]; /* per bucket (not cumulative); last: > max */
	uint64_t count;
	uint64_t sum_us;
};

struct metrics {
	uint64_t msgs_in[METRICS_MSG_TYPES];   /* decoded messages received, by type */
	uint64_t msgs_out[METRICS_MSG_TYPES];  /* messages queued to a transport, by type */
	uint64_t bytes_in;                     /* WAMP bytes read from transports */
	uint64_t bytes_out;                    /* WAMP bytes written to transports */
	uint64_t auth_ok[METRICS_AUTH_METHODS];   /* authentications that ended in WELCOME */
	uint64_t auth_fail[METRICS_AUTH_METHODS]; /* that ended in ABORT */
	uint64_t pending_calls;                /* gauge: calls routed and not yet answered */
	uint64_t publish_refused[WAMPD_ERR__COUNT]; /* PUBLISHes refused with a request-level
	                                          error (ERROR, or only logged when not
	                                          acknowledged), by error */
	uint64_t sessions_detached;            /* resumable sessions detached (transport lost) */
	uint64_t sessions_resumed;             /* sessions resumed on a new connection */
	uint64_t detached_ended[METRICS_DETACHED_ENDS]; /* detached sessions that ended, by why */
	struct metrics_histogram call_latency; /* CALL -> final RESULT/ERROR from the callee */
	struct metrics_histogram loop_lag;     /* how late the event loop ran a timer */
};

/* Record one observation of `us` microseconds in h. */
void metrics_observe(struct metrics_histogram *h, uint64_t us);

/* Count one message of WAMP type `type` in counts (types out of range are ignored). */
static inline void metrics_count_type(uint64_t *counts, unsigned type)
{
	if (type < METRICS_MSG_TYPES)
		counts[type]++;
}

/* Monotonic microseconds (for latencies). */
uint64_t metrics_now_us(void);

/* Add every counter, gauge and histogram of m to sum (the exposition's total over the
 * loops: start from a zeroed struct). */
void metrics_add(struct metrics *sum, const struct metrics *m);

#endif
