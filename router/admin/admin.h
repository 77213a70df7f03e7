/*
 * admin.h - the admin HTTP listener: Prometheus metrics, health, and the live status page.
 *
 * Off unless the configuration has an "admin" object. It is a separate lws vhost on the
 * router's own event loop (no thread), listening on its own address and port:
 *
 *   GET /health          200 "ok" while the router serves; 503 while it shuts down
 *   GET /metrics         Prometheus text exposition format 0.0.4 (admin_metrics.c)
 *   GET /status          the status page: one self-contained HTML document (status_page.html,
 *                        embedded in the binary at build time)
 *   GET /status.json     realms, sessions, detached resumable sessions (replay_status),
 *                        registrations, subscriptions, and the supervised processes
 *                        ("workers": router/workers/workers.h)
 *   GET /status/events   Server-Sent Events: one sample of the router's counters a second
 *
 * With admin.ticket set, every path but /health needs it, as "Authorization: Bearer <ticket>"
 * or as "?ticket=<ticket>" (the page passes its own ?ticket= on to the JSON and the event
 * stream, which a browser's EventSource cannot give headers); otherwise 401.
 */
#ifndef WAMPD_ROUTER_ADMIN_H
#define WAMPD_ROUTER_ADMIN_H

#include <stdbool.h>
#include <stddef.h>

#include "router/core/router.h"

struct admin;
struct loop;

/*
 * Start the admin listener of rt->cfg.admin on the event loop `loop`. Prints
 * "listening admin http://HOST:PORT/" to stdout once it listens. Returns true with *out set
 * (NULL when the admin listener is not configured); false (after logging why) when it
 * cannot listen. rt and loop are borrowed and must outlive the admin listener.
 */
bool admin_start(struct router *rt, struct loop *loop, struct admin **out);

/* Free the admin listener's state. Call after loop_free (the lws context, which owns
 * the admin vhost and its connections, must be gone). NULL is ignored. */
void admin_free(struct admin *a);

/* ---------------------------------------------------------------------------------- */
/* for admin_metrics.c and the unit tests                                               */

/* A growable text buffer; on allocation failure `failed` is set and appends are dropped. */
struct abuf {
	char *p;
	size_t len;
	size_t cap;
	bool failed;
};

void abuf_printf(struct abuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a Prometheus label value (backslash, quote and newline escaped). */
void abuf_label(struct abuf *b, const char *s);
void abuf_free(struct abuf *b);

/* The counters of every loop the admin listener reports on, summed into *sum (zeroed
 * first): today the one router's (rt->metrics); with a loop per core, each loop's. */
void admin_metrics_total(const struct router *rt, struct metrics *sum);

/* What the exposition needs beyond the router and its counters. */
struct admin_view {
	struct router *rt;
	double start_time_s;       /* process start, seconds since the epoch */
	double loop_lag_last_s;    /* the latest event-loop lag sample */
};

/* Write the Prometheus text exposition of every metric into b. */
void admin_metrics_text(const struct admin_view *v, struct abuf *b);

#endif
