/*
 * admin_metrics.c - the Prometheus text exposition (format 0.0.4) of wampd's metrics.
 *
 * Counters are the loops' struct metrics summed per scrape (admin_metrics_total: one
 * router today, every loop's with several) and the router's stats; gauges are computed from
 * the router's own tables (sessions per realm/transport/serializer, registrations,
 * subscriptions, send queues), so nothing is maintained on the hot path for them. A scrape
 * walks every session once: O(sessions), a few ms at 100,000 sessions.
 *
 * Every family is written as "# HELP", "# TYPE", then its samples; label values are escaped;
 * histograms have cumulative _bucket{le=...} samples ending with le="+Inf", then _sum and
 * _count (tests/wire/test_admin.py parses all of it strictly).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth/auth.h"
#include "common/metrics.h"
#include "realm/replay.h"
#include "router/admin/admin.h"
#include "router/core/conn.h"
#include "router/net/loop.h"
#include "serializers/wamp_msg.h"

void abuf_printf(struct abuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t ncap = b->cap ? b->cap * 2 : 4096;
			char *np;

			while (ncap - b->len <= (size_t)n)
				ncap *= 2;
			if (!(np = realloc(b->p, ncap))) {
				b->failed = true;
				return;
			}
			b->p = np;
			b->cap = ncap;
		}
	}
}

void abuf_label(struct abuf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			abuf_printf(b, "\\\\");
		else if (*s == '"')
			abuf_printf(b, "\\\"");
		else if (*s == '\n')
			abuf_printf(b, "\\n");
		else
			abuf_printf(b, "%c", *s);
	}
}

void abuf_free(struct abuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

static void family(struct abuf *b, const char *name, const char *type, const char *help)
{
	abuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void histogram(struct abuf *b, const char *name, const char *help,
                      const struct metrics_histogram *h)
{
	uint64_t cum = 0;

	family(b, name, "histogram", help);
	for (unsigned i = 0; i < METRICS_BUCKETS; i++) {
		cum += h->buckets[i];
		abuf_printf(b, "%s_bucket{le=\"%g\"} %llu\n", name, (double)metrics_bucket_us[i] / 1e6,
		            (unsigned long long)cum);
	}
	cum += h->buckets[METRICS_BUCKETS];
	abuf_printf(b, "%s_bucket{le=\"+Inf\"} %llu\n", name, (unsigned long long)cum);
	abuf_printf(b, "%s_sum %.6f\n%s_count %llu\n", name, (double)h->sum_us / 1e6, name,
	            (unsigned long long)h->count);
}

/* Distinct transport kinds seen while counting sessions (websocket, rawsocket first). */
#define KINDS_MAX 8

struct session_counts {
	const char *kind[KINDS_MAX];
	unsigned nkinds;
	uint64_t n[KINDS_MAX][WAMP_SER__COUNT];
};

static unsigned kind_slot(struct session_counts *sc, const char *kind)
{
	for (unsigned i = 0; i < sc->nkinds; i++)
		if (sc->kind[i] == kind || !strcmp(sc->kind[i], kind))
			return i;
	if (sc->nkinds == KINDS_MAX)
		return KINDS_MAX - 1; /* more kinds than slots: the last one collects them */
	sc->kind[sc->nkinds] = kind;
	return sc->nkinds++;
}

static void sessions_family(struct abuf *b, struct router *rt)
{
	struct realm *r, *tmp;

	family(b, "wampd_sessions", "gauge",
	       "Established WAMP sessions by realm, transport and serializer.");
	HASH_ITER(hh, rt->realms.by_name, r, tmp) {
		struct session_counts sc = {.kind = {"websocket", "rawsocket"}, .nkinds = 2};
		struct session *s, *stmp;

		HASH_ITER(hh, r->sessions, s, stmp) {
			unsigned k = kind_slot(&sc, s->ops->kind ? s->ops->kind : "other");

			if ((unsigned)s->ser < WAMP_SER__COUNT)
				sc.n[k][s->ser]++;
		}
		for (unsigned k = 0; k < sc.nkinds; k++) {
			for (int ser = 0; ser < WAMP_SER__COUNT; ser++) {
				if (!wamp_ser_supported((enum wamp_ser)ser))
					continue;
				abuf_printf(b, "wampd_sessions{realm=\"");
				abuf_label(b, r->name);
				abuf_printf(b, "\",transport=\"");
				abuf_label(b, sc.kind[k]);
				abuf_printf(b, "\",serializer=\"%s\"} %llu\n",
				            wamp_ser_name((enum wamp_ser)ser),
				            (unsigned long long)sc.n[k][ser]);
			}
		}
	}
}

/* One gauge or counter per realm, from `value`. */
static void per_realm(struct abuf *b, struct router *rt, const char *name, const char *type,
                      const char *help, uint64_t (*value)(struct realm *r))
{
	struct realm *r, *tmp;

	family(b, name, type, help);
	HASH_ITER(hh, rt->realms.by_name, r, tmp) {
		abuf_printf(b, "%s{realm=\"", name);
		abuf_label(b, r->name);
		abuf_printf(b, "\"} %llu\n", (unsigned long long)value(r));
	}
}

static uint64_t realm_registrations(struct realm *r)
{
	struct registration *reg, *tmp;
	uint64_t n = 0;

	HASH_ITER(hh_id, r->dealer.by_id, reg, tmp)
		if (!reg->builtin) /* the meta API's procedures are not registrations of anyone */
			n++;
	return n;
}

static uint64_t realm_subscriptions(struct realm *r)
{
	struct subscription *sub, *tmp;
	uint64_t n = 0;

	HASH_ITER(hh_id, r->broker.by_id, sub, tmp)
		if (sub->count) /* configured event histories without subscribers are not */
			n++;
	return n;
}

static uint64_t realm_detached(struct realm *r)
{
	struct session *s, *tmp;
	uint64_t n = 0;

	HASH_ITER(hh, r->sessions, s, tmp)
		if (replay_detached(s))
			n++;
	return n;
}

static uint64_t realm_calls(struct realm *r)
{
	return r->dealer.calls;
}

static uint64_t realm_publications(struct realm *r)
{
	return r->broker.publications;
}

/* The realm's stores bounded by byte budgets (retained events, event history,
 * testaments): bytes held, refusals and evictions, one row per store. */
static uint64_t retained_bytes(struct realm *r)
{
	return r->broker.store->stats.retained_bytes;
}

static uint64_t retained_refused(struct realm *r)
{
	return r->broker.store->stats.retained_refused;
}

static uint64_t history_bytes(struct realm *r)
{
	return r->broker.store->stats.history_bytes;
}

static uint64_t history_refused(struct realm *r)
{
	return r->broker.store->stats.history_refused;
}

static uint64_t history_evicted(struct realm *r)
{
	return r->broker.store->stats.history_evicted;
}

static uint64_t retained_failed(struct realm *r)
{
	return r->broker.store->stats.retained_failed;
}

static uint64_t history_failed(struct realm *r)
{
	return r->broker.store->stats.history_failed;
}

static uint64_t testament_bytes(struct realm *r)
{
	struct session *s, *tmp;
	uint64_t n = 0;

	HASH_ITER(hh, r->sessions, s, tmp)
		n += s->testament_bytes;
	return n;
}

static uint64_t testaments_refused(struct realm *r)
{
	return r->testaments_refused;
}

enum store_column { STORE_BYTES, STORE_REFUSED, STORE_EVICTED, STORE_FAILED, STORE__COLUMNS };

static const struct {
	const char *store;
	uint64_t (*value[STORE__COLUMNS])(struct realm *r); /* NULL: not for this store */
} stores[] = {
	{"retained", {retained_bytes, retained_refused, NULL, retained_failed}},
	{"history", {history_bytes, history_refused, history_evicted, history_failed}},
	{"testaments", {testament_bytes, testaments_refused, NULL, NULL}},
};

static void store_family(struct abuf *b, struct router *rt, const char *name, const char *type,
                         const char *help, enum store_column column)
{
	struct realm *r, *tmp;

	family(b, name, type, help);
	HASH_ITER(hh, rt->realms.by_name, r, tmp) {
		for (size_t i = 0; i < sizeof(stores) / sizeof(stores[0]); i++) {
			uint64_t (*value)(struct realm *) = stores[i].value[column];

			if (!value)
				continue;
			abuf_printf(b, "%s{realm=\"", name);
			abuf_label(b, r->name);
			abuf_printf(b, "\",store=\"%s\"} %llu\n", stores[i].store,
			            (unsigned long long)value(r));
		}
	}
}

/* Refused PUBLISHes by error URI (several errors share one URI: summed). */
static void publish_refused_family(struct abuf *b, const struct metrics *metrics)
{
	family(b, "wampd_publications_refused_total", "counter",
	       "PUBLISHes refused (ERROR, or only logged when not acknowledged), by error URI.");
	for (int e = WAMPD_OK + 1; e < WAMPD_ERR__COUNT; e++) {
		const char *uri = wampd_err_uri((enum wampd_err)e);
		uint64_t n = 0;
		bool first = true;

		if (wampd_err_is_fatal((enum wampd_err)e))
			continue;
		for (int f = WAMPD_OK + 1; f < WAMPD_ERR__COUNT; f++) {
			if (wampd_err_is_fatal((enum wampd_err)f) ||
			    strcmp(wampd_err_uri((enum wampd_err)f), uri))
				continue;
			first = first && f >= e;
			n += metrics->publish_refused[f];
		}
		if (first) /* one row per URI, at its first error */
			abuf_printf(b, "wampd_publications_refused_total{error=\"%s\"} %llu\n", uri,
			            (unsigned long long)n);
	}
}

/* Resumable sessions: detached and resumed, and the ends of detached ones by why. */
static const char *const detached_end_names[METRICS_DETACHED_ENDS] = {
	[METRICS_DETACHED_EXPIRED] = "expired",
	[METRICS_DETACHED_CLOSED] = "closed",
	[METRICS_DETACHED_BUDGET] = "budget",
};

static void resume_families(struct abuf *b, struct router *rt, const struct metrics *sum)
{
	per_realm(b, rt, "wampd_sessions_detached", "gauge",
	          "Resumable sessions detached from their transport, waiting to be resumed, by "
	          "realm (also counted in wampd_sessions as transport detached).",
	          realm_detached);
	family(b, "wampd_sessions_detached_total", "counter",
	       "Resumable sessions that lost their transport and were kept, detached.");
	abuf_printf(b, "wampd_sessions_detached_total %llu\n",
	            (unsigned long long)sum->sessions_detached);
	family(b, "wampd_sessions_resumed_total", "counter",
	       "Sessions resumed on a new connection.");
	abuf_printf(b, "wampd_sessions_resumed_total %llu\n",
	            (unsigned long long)sum->sessions_resumed);
	family(b, "wampd_sessions_detached_ended_total", "counter",
	       "Detached sessions that ended without being resumed: expired (the resume window "
	       "passed) or closed (killed, replay log full, a resume that could not be made, "
	       "shutdown).");
	for (unsigned i = 0; i < METRICS_DETACHED_ENDS; i++)
		abuf_printf(b, "wampd_sessions_detached_ended_total{reason=\"%s\"} %llu\n",
		            detached_end_names[i], (unsigned long long)sum->detached_ended[i]);
}

static void messages_family(struct abuf *b, const char *name, const char *help,
                            const uint64_t *counts)
{
	family(b, name, "counter", help);
	for (int t = 0; t < METRICS_MSG_TYPES; t++) {
		if (!wamp_schema(t))
			continue;
		abuf_printf(b, "%s{type=\"%s\"} %llu\n", name, wamp_type_name(t),
		            (unsigned long long)counts[t]);
	}
}

static void process_family(struct abuf *b, double start_time_s)
{
	long pages = 0, page = sysconf(_SC_PAGESIZE);
	FILE *f = fopen("/proc/self/statm", "r");
	DIR *d;
	unsigned long fds = 0;

	if (f) {
		long size;

		if (fscanf(f, "%ld %ld", &size, &pages) != 2)
			pages = 0;
		fclose(f);
	}
	family(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
	abuf_printf(b, "process_resident_memory_bytes %llu\n",
	            (unsigned long long)pages * (unsigned long long)page);
	if ((d = opendir("/proc/self/fd"))) {
		struct dirent *e;

		while ((e = readdir(d)))
			if (e->d_name[0] != '.')
				fds++;
		closedir(d);
		family(b, "process_open_fds", "gauge", "Open file descriptors.");
		abuf_printf(b, "process_open_fds %lu\n", fds ? fds - 1 : 0); /* minus opendir's */
	}
	family(b, "process_start_time_seconds", "gauge",
	       "Start time of the process since the Unix epoch in seconds.");
	abuf_printf(b, "process_start_time_seconds %.3f\n", start_time_s);
}

void admin_metrics_total(const struct router *rt, struct metrics *sum)
{
	memset(sum, 0, sizeof(*sum));
	metrics_add(sum, &rt->metrics);
}

void admin_metrics_text(const struct admin_view *v, struct abuf *b)
{
	struct router *rt = v->rt;
	size_t qsum = 0, qmax = 0;
	struct metrics sum;

	admin_metrics_total(rt, &sum);

	family(b, "wampd_build_info", "gauge", "Always 1; the version is a label.");
	abuf_printf(b, "wampd_build_info{version=\"%s\"} 1\n", WAMPD_VERSION);
	family(b, "wampd_up", "gauge", "1 while the router serves, 0 while it shuts down.");
	abuf_printf(b, "wampd_up %d\n", rt->shutting_down ? 0 : 1);

	family(b, "wampd_connections", "gauge", "Open transport connections (WebSocket and RawSocket).");
	abuf_printf(b, "wampd_connections %u\n", rt->nconns);
	family(b, "wampd_connections_opened_total", "counter", "Transport connections accepted.");
	abuf_printf(b, "wampd_connections_opened_total %llu\n",
	            (unsigned long long)rt->stats.sessions_opened);
	sessions_family(b, rt);
	resume_families(b, rt, &sum);

	messages_family(b, "wampd_messages_received_total",
	                "WAMP messages received and decoded, by message type.", sum.msgs_in);
	messages_family(b, "wampd_messages_sent_total",
	                "WAMP messages queued to transports, by message type.", sum.msgs_out);
	family(b, "wampd_received_bytes_total", "counter", "WAMP transport bytes received.");
	abuf_printf(b, "wampd_received_bytes_total %llu\n", (unsigned long long)sum.bytes_in);
	family(b, "wampd_sent_bytes_total", "counter", "WAMP transport bytes written.");
	abuf_printf(b, "wampd_sent_bytes_total %llu\n", (unsigned long long)sum.bytes_out);

	conn_queue_stats(v->rt, &qsum, &qmax);
	family(b, "wampd_send_queue_bytes", "gauge", "Bytes queued for sending, all connections.");
	abuf_printf(b, "wampd_send_queue_bytes %zu\n", qsum);
	family(b, "wampd_send_queue_max_bytes", "gauge",
	       "Bytes queued for sending on the connection with the longest queue.");
	abuf_printf(b, "wampd_send_queue_max_bytes %zu\n", qmax);
	family(b, "wampd_slow_consumer_disconnects_total", "counter",
	       "Connections closed because their send queue exceeded limits.send_queue_bytes.");
	abuf_printf(b, "wampd_slow_consumer_disconnects_total %llu\n",
	            (unsigned long long)rt->stats.slow_consumer_closes);
	family(b, "wampd_protocol_errors_total", "counter",
	       "Messages rejected as malformed or not allowed (protocol violations).");
	abuf_printf(b, "wampd_protocol_errors_total %llu\n",
	            (unsigned long long)rt->stats.protocol_errors);

	family(b, "wampd_authentications_total", "counter",
	       "Authentications by method and result (method none: no method matched).");
	for (unsigned m = 0; m <= AUTH__COUNT; m++) {
		const char *name = m < AUTH__COUNT ? auth_method_name((enum auth_method)m) : "none";

		abuf_printf(b, "wampd_authentications_total{method=\"%s\",result=\"success\"} %llu\n",
		            name, (unsigned long long)sum.auth_ok[m]);
		abuf_printf(b, "wampd_authentications_total{method=\"%s\",result=\"failure\"} %llu\n",
		            name, (unsigned long long)sum.auth_fail[m]);
	}

	histogram(b, "wampd_call_duration_seconds",
	          "Time from CALL to the callee's final RESULT or ERROR.", &sum.call_latency);
	family(b, "wampd_pending_calls", "gauge", "Calls routed to a callee and not yet answered.");
	abuf_printf(b, "wampd_pending_calls %llu\n", (unsigned long long)sum.pending_calls);
	per_realm(b, rt, "wampd_calls_total", "counter", "CALLs routed to a callee, by realm.",
	          realm_calls);
	per_realm(b, rt, "wampd_publications_total", "counter", "PUBLISHes accepted, by realm.",
	          realm_publications);
	per_realm(b, rt, "wampd_registrations", "gauge", "Registrations, by realm.",
	          realm_registrations);
	per_realm(b, rt, "wampd_subscriptions", "gauge", "Subscriptions with subscribers, by realm.",
	          realm_subscriptions);
	publish_refused_family(b, &sum);
	store_family(b, rt, "wampd_store_bytes", "gauge",
	             "Bytes held by retained events, event history and testaments, by realm (the "
	             "budgets' measure).", STORE_BYTES);
	store_family(b, rt, "wampd_store_refusals_total", "counter",
	             "Retained events and testaments refused for their limits, history events too "
	             "large to record, by realm.", STORE_REFUSED);
	store_family(b, rt, "wampd_store_evictions_total", "counter",
	             "Event history entries evicted early to stay within max_history_bytes, by "
	             "realm.", STORE_EVICTED);
	store_family(b, rt, "wampd_store_failures_total", "counter",
	             "Retained events and history events the realm's event store (memory, lmdb, "
	             "redis) failed to keep: full, I/O error, Redis unreachable; by realm.",
	             STORE_FAILED);

	histogram(b, "wampd_event_loop_lag_seconds",
	          "How late the event loop ran a 100 ms timer.", &sum.loop_lag);
	family(b, "wampd_event_loop_lag_last_seconds", "gauge", "The latest event-loop lag sample.");
	abuf_printf(b, "wampd_event_loop_lag_last_seconds %.6f\n", v->loop_lag_last_s);

	process_family(b, v->start_time_s);
}
