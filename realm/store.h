/*
 * store.h - a realm's event store: its event histories and its retained events, behind one
 * table of operations, with the backend chosen per realm in the configuration:
 *
 *   memory  realm/store_memory.c: in this process (lost on restart), the default;
 *   lmdb    router/store/store_lmdb.c: an embedded, crash-safe LMDB file of this node;
 *   redis   router/cluster/store_redis.c: Redis Streams on the cluster backplane's Redis,
 *           the same history and retained events for every node ("shared").
 *
 * The broker (realm/broker.c) is the store's only writer; the meta API (get_events), SSE
 * resume and retained-event delivery read it. What is stored for an event (struct
 * stored_event): the publication id, the wall-clock time it was recorded, the topic, the
 * publisher disclosure (details) and the payload as it arrived (encoded bytes of one
 * serializer, or values for the router's own publications).
 *
 * Asynchrony: every write takes an optional completion (store_done_fn) called once the
 * write is durable as the backend understands it, or failed; every read a callback with
 * the events. A backend may call them before the operation returns (memory always; lmdb for
 * reads, which are memory-mapped) or later from the event loop (lmdb's writes, committed
 * once per loop iteration; every redis operation). Callers handle both: nothing they hold
 * may be freed by the call, and they must not rely on being called back later. No backend
 * ever blocks the event loop on the network; lmdb's commit (and its fsync when durable) runs
 * once per loop iteration for all the writes of that iteration.
 *
 * Limits (struct store_limits, per realm): the number of retained events and their bytes;
 * the bytes of all the realm's histories; per history, the number of events (limit) and
 * their age (max_age_ms). Over a history's count or age its oldest events go; over the
 * realm's history bytes the realm's oldest events (of any history) go, as a ring: history is
 * a window on the recent past. A retained event that does not fit its budget is refused
 * (store_ops.retain_check says so before the delivery where the backend can know;
 * otherwise the write's completion fails with WAMPD_ERR_LIMIT).
 *
 * Failures: a write that fails (full map, I/O error, Redis unreachable or refusing) is
 * counted (stats.failures), logged (at most once a second per store) and reported to its
 * completion: WAMPD_ERR_LIMIT when the store is full, WAMPD_ERR_STORE otherwise. Never a
 * silent loss.
 */
#ifndef WAMPD_REALM_STORE_H
#define WAMPD_REALM_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "realm/match.h"
#include "serializers/wamp_msg.h"

struct realms;

/* A copy of a publication kept after its delivery (retained event, history entry). */
struct stored_event {
	uint64_t publication;
	int64_t timestamp_ms;       /* wall clock, when recorded */
	char *topic;                /* owned (or, in a read's result, borrowed from the store) */
	json_t *details;            /* publisher disclosure etc. (owned, may be NULL) */
	struct wamp_payload payload;/* spans point into `bytes` (owned) or values (owned) */
	uint8_t *bytes;
	size_t cost;                /* bytes charged to the store's budget */
};

/* An event history configured for a realm: every publication whose topic (uri, match)
 * matches is recorded, within limit events and max_age_ms (0: no age limit). */
struct history_config {
	char *uri;
	enum match_policy match;
	uint32_t limit;
	int64_t max_age_ms;
};

/* The realm's budgets (realms[].max_retained, max_retained_bytes, max_history_bytes). */
struct store_limits {
	uint32_t max_retained;        /* 0: retention off */
	uint64_t max_retained_bytes;
	uint64_t max_history_bytes;
};

#define STORE_DEFAULT_MAX_RETAINED 10000
#define STORE_DEFAULT_MAX_RETAINED_BYTES (UINT64_C(64) << 20)
#define STORE_DEFAULT_MAX_HISTORY_BYTES (UINT64_C(64) << 20)

/* What the store holds and what it refused or lost (metrics; this node's view). */
struct store_stats {
	uint32_t nretained;
	uint64_t retained_bytes;
	uint64_t retained_refused;   /* retained events refused for the count or byte budget */
	uint64_t history_bytes;
	uint64_t history_evicted;    /* history entries evicted early for the byte budget */
	uint64_t history_refused;    /* events larger than the whole budget: not recorded */
	uint64_t retained_failed;    /* retained writes that failed (full, I/O, Redis) */
	uint64_t history_failed;     /* history appends that failed */
};

/* A write's completion: err WAMPD_OK (durable), WAMPD_ERR_LIMIT (the store is full) or
 * WAMPD_ERR_STORE; why: a static or short-lived text for the log and the ERROR. */
typedef void (*store_done_fn)(void *arg, enum wampd_err err, const char *why);

/* A read's answer: n events (borrowed for the duration of the call), oldest first unless
 * reverse was asked. err != WAMPD_OK: nothing could be read (n == 0). */
typedef void (*store_read_fn)(void *arg, enum wampd_err err, const struct stored_event *const *evs,
                              size_t n);

struct store_history;  /* one configured history, owned by its store */

/* A history read: the newest `limit` events (0: all), newest first when reverse; only
 * those on exactly `topic` (NULL: any). */
struct store_query {
	uint32_t limit;
	bool reverse;
	const char *topic;
};

/* A view of an event to store (borrowed for the call; the backend copies what it keeps). */
struct store_event {
	uint64_t publication;
	const char *topic;
	size_t topic_len;
	const json_t *details;
	const struct wamp_payload *payload;
};

struct store;

struct store_ops {
	const char *name;      /* "memory", "lmdb", "redis" (config, logs, metrics) */
	bool shared;           /* every node of the cluster reads and writes the same store */
	/* A configured history on (uri, match); NULL on failure (logged). Before any write. */
	struct store_history *(*history_add)(struct store *st, const struct history_config *hc);
	/* Record ev in h at the time `now_ms`; done (may be NULL) as described above. */
	void (*append)(struct store *st, struct store_history *h, const struct store_event *ev,
	               int64_t now_ms, store_done_fn done, void *arg);
	void (*read)(struct store *st, struct store_history *h, const struct store_query *q,
	             store_read_fn fn, void *arg);
	/* May an event of `cost` bytes be kept as topic's retained event? WAMPD_OK, or
	 * WAMPD_ERR_LIMIT (counted in stats.retained_refused). Backends that cannot know now
	 * answer WAMPD_OK and decide in retain_set. */
	enum wampd_err (*retain_check)(struct store *st, const char *topic, size_t len,
	                               size_t cost);
	/* Keep ev as its topic's retained event (replacing the one before). */
	void (*retain_set)(struct store *st, const struct store_event *ev, int64_t now_ms,
	                   store_done_fn done, void *arg);
	void (*retain_clear)(struct store *st, const char *topic, size_t len, store_done_fn done,
	                     void *arg);
	/* The retained events whose topic (uri, policy) matches. */
	void (*retain_get)(struct store *st, const char *uri, enum match_policy policy,
	                   store_read_fn fn, void *arg);
	/* The bytes an event costs against the budgets (before it is stored). */
	size_t (*cost)(struct store *st, const struct store_event *ev);
	/* Optional (NULL: nothing is deferred): commit now what waits for the end of the loop
	 * iteration, and every later write at once (the event loop and its timers are going
	 * away). */
	void (*flush)(struct store *st);
	/* Free the store: pending writes are committed (lmdb) or abandoned (their completions
	 * run with WAMPD_ERR_STORE). */
	void (*destroy)(struct store *st);
};

struct store {
	const struct store_ops *ops;
	struct store_limits limits;
	struct store_stats stats;
	bool durable;           /* an acknowledged PUBLISH is answered once its event is stored */
	const char *realm;      /* the realm's name (borrowed; logs, keys) */
	struct realms *rs;      /* timers (lmdb's per-iteration commit), may be NULL */
	int64_t failure_logged_ms;
};

/* ------------------------------------------------------------------------------------ */
/* the memory backend (realm/store_memory.c)                                             */

/* A memory store for realm `realm` (borrowed name) with the default limits; NULL on
 * allocation failure. */
struct store *store_memory_new(const char *realm);

/* ------------------------------------------------------------------------------------ */
/* helpers shared by the backends (realm/store.c)                                         */

/* The memory bytes of keeping ev (payload, topic, details and bookkeeping as allocated). */
size_t store_event_heap_cost(const struct store_event *ev);

/* Copy ev into out (owned copies; out->timestamp_ms = now_ms). false on NOMEM (out is then
 * empty). */
bool stored_event_copy(struct stored_event *out, const struct store_event *ev, int64_t now_ms);

/* Free what ev owns and zero it. */
void stored_event_clear(struct stored_event *ev);

/*
 * The record a persistent backend keeps for ev (a binary header, the topic, the details as
 * JSON and the payload spans or values as JSON): *len bytes, malloc'd (the caller frees), or
 * NULL on NOMEM. store_record_view fills out with pointers into rec (topic, spans: valid
 * while rec is) and owned details/values; release it with store_record_view_clear. false
 * for a record that is not one (logged by the caller).
 */
uint8_t *store_record_encode(const struct store_event *ev, int64_t now_ms, size_t *len);
bool store_record_view(const uint8_t *rec, size_t len, struct stored_event *out);
void store_record_view_clear(struct stored_event *ev);

/* The record's publication id and time without decoding it (0 if it is not a record). */
uint64_t store_record_publication(const uint8_t *rec, size_t len, int64_t *timestamp_ms);

/* Count a failed write, log it (at most once a second per store) and complete it. */
void store_failed(struct store *st, bool retained, enum wampd_err err, const char *why,
                  store_done_fn done, void *arg);

/*
 * Does every topic the pattern (uri, policy) can match also match (huri, hpolicy)? (A
 * history on (huri, hpolicy) then holds every event a subscriber of (uri, policy) gets:
 * SSE resume and get_events can read it.)
 */
bool store_pattern_covers(const char *huri, enum match_policy hpolicy, const char *uri,
                          enum match_policy policy);

/* A stored event as the dict wamp.subscription.get_events returns (new reference). */
json_t *store_event_json(const struct stored_event *ev, uint64_t subscription);

#endif
