/*
 * store_memory.c - the memory event store (store.h): the default, what this process holds
 * and loses when it stops.
 *
 * Each history is a ring of `limit` stored events; every history entry of the realm is also
 * linked, oldest first, into one list, so the realm's byte budget evicts the realm's oldest
 * entry in O(1): the list is in recording order and so is each ring, so the realm's oldest
 * entry is always the oldest of its own ring. Age is enforced the same way, per history, at
 * each append and skipped at each read. Retained events are a hash by topic (uthash).
 *
 * Bytes are what this process holds for an event (store_event_heap_cost): payload, topic,
 * details and the entry's bookkeeping, not only the payload. Every operation completes
 * before it returns.
 */
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "common/clock.h"
#include "common/log.h"
#include "realm/store.h"

struct mem_entry {
	struct stored_event ev;
	struct store_history *history;
	struct mem_entry *older, *newer;  /* the realm's list of history entries */
};

struct store_history {
	uint32_t limit;             /* capacity of ring */
	uint32_t count;
	uint32_t head;              /* index of the oldest event */
	int64_t max_age_ms;
	struct mem_entry *ring;
	struct store_history *next; /* the store's list */
};

struct mem_retained {
	struct stored_event ev;     /* ev.topic is the key */
	UT_hash_handle hh;
};

struct mem_store {
	struct store st;
	struct store_history *histories;
	struct mem_entry *oldest, *newest;
	struct mem_retained *retained;
};

#define MEM(st) ((struct mem_store *)(st))

/* Drop the oldest entry of history h, unlinking it from the realm's list and the budget. */
static void mem_drop_oldest(struct mem_store *m, struct store_history *h)
{
	struct mem_entry *e = &h->ring[h->head];

	if (e->older)
		e->older->newer = e->newer;
	else
		m->oldest = e->newer;
	if (e->newer)
		e->newer->older = e->older;
	else
		m->newest = e->older;
	m->st.stats.history_bytes -= e->ev.cost;
	stored_event_clear(&e->ev);
	e->older = e->newer = NULL;
	h->head = (h->head + 1) % h->limit;
	h->count--;
}

static struct store_history *mem_history_add(struct store *st, const struct history_config *hc)
{
	struct store_history *h = calloc(1, sizeof(*h));

	if (!h || !(h->ring = calloc(hc->limit, sizeof(*h->ring)))) {
		free(h);
		return NULL;
	}
	h->limit = hc->limit;
	h->max_age_ms = hc->max_age_ms;
	h->next = MEM(st)->histories;
	MEM(st)->histories = h;
	return h;
}

static bool mem_expired(const struct store_history *h, const struct stored_event *ev, int64_t now)
{
	return h->max_age_ms > 0 && ev->timestamp_ms < now - h->max_age_ms;
}

static size_t mem_cost(struct store *st, const struct store_event *ev)
{
	(void)st;
	return store_event_heap_cost(ev);
}

/*
 * Record ev in h: its count limit and age drop h's oldest entries; the realm's byte budget
 * drops the realm's oldest, of any history. An event larger than the whole budget is not
 * recorded (counted in history_refused; not a failure: the budget says so).
 */
static void mem_append(struct store *st, struct store_history *h, const struct store_event *ev,
                       int64_t now, store_done_fn done, void *arg)
{
	struct mem_store *m = MEM(st);
	size_t cost = store_event_heap_cost(ev);
	struct mem_entry *slot;

	if (cost > st->limits.max_history_bytes) {
		st->stats.history_refused++;
		wlog_debug("broker", "not recording topic=%.*s publication=%llu in its history: %zu "
		           "bytes, over the realm's max_history_bytes", (int)ev->topic_len, ev->topic,
		           (unsigned long long)ev->publication, cost);
		if (done)
			done(arg, WAMPD_OK, NULL);
		return;
	}
	while (h->count && mem_expired(h, &h->ring[h->head].ev, now))
		mem_drop_oldest(m, h);
	if (h->count == h->limit) /* full: the oldest makes room */
		mem_drop_oldest(m, h);
	while (st->stats.history_bytes + cost > st->limits.max_history_bytes) {
		mem_drop_oldest(m, m->oldest->history);
		st->stats.history_evicted++;
	}
	slot = &h->ring[(h->head + h->count) % h->limit];
	if (!stored_event_copy(&slot->ev, ev, now)) {
		store_failed(st, false, WAMPD_ERR_STORE, "out of memory", done, arg);
		return;
	}
	slot->ev.cost = cost;
	slot->history = h;
	slot->older = m->newest;
	slot->newer = NULL;
	if (m->newest)
		m->newest->newer = slot;
	else
		m->oldest = slot;
	m->newest = slot;
	st->stats.history_bytes += cost;
	h->count++;
	if (done)
		done(arg, WAMPD_OK, NULL);
}

static void mem_read(struct store *st, struct store_history *h, const struct store_query *q,
                     store_read_fn fn, void *arg)
{
	const struct stored_event **evs = NULL;
	int64_t now = clock_wall_ms();
	size_t n = 0;

	(void)st;
	if (h->count && !(evs = malloc(h->count * sizeof(*evs)))) {
		fn(arg, WAMPD_ERR_NOMEM, NULL, 0);
		return;
	}
	/* the newest first, up to limit, then put in the order asked for */
	for (uint32_t k = h->count; k-- > 0;) {
		const struct stored_event *ev = &h->ring[(h->head + k) % h->limit].ev;

		if (mem_expired(h, ev, now))
			break;
		if (q->topic && strcmp(q->topic, ev->topic))
			continue;
		evs[n++] = ev;
		if (q->limit && n == q->limit)
			break;
	}
	if (!q->reverse)
		for (size_t i = 0; i < n / 2; i++) {
			const struct stored_event *t = evs[i];

			evs[i] = evs[n - 1 - i];
			evs[n - 1 - i] = t;
		}
	fn(arg, WAMPD_OK, (const struct stored_event *const *)evs, n);
	free(evs);
}

static enum wampd_err mem_retain_check(struct store *st, const char *topic, size_t len,
                                       size_t cost)
{
	struct mem_retained *old = NULL;

	HASH_FIND(hh, MEM(st)->retained, topic, len, old);
	if ((!old && st->stats.nretained >= st->limits.max_retained) ||
	    st->stats.retained_bytes - (old ? old->ev.cost : 0) + cost >
	            st->limits.max_retained_bytes) {
		st->stats.retained_refused++;
		return WAMPD_ERR_LIMIT;
	}
	return WAMPD_OK;
}

static void mem_retain_drop(struct store *st, struct mem_retained *r)
{
	HASH_DEL(MEM(st)->retained, r);
	st->stats.retained_bytes -= r->ev.cost;
	st->stats.nretained--;
	stored_event_clear(&r->ev);
	free(r);
}

/* Keep ev for its topic (retain_check said it fits). On allocation failure the topic keeps
 * nothing (a failure). */
static void mem_retain_set(struct store *st, const struct store_event *ev, int64_t now,
                           store_done_fn done, void *arg)
{
	struct mem_retained *r = NULL;
	size_t cost = store_event_heap_cost(ev);

	HASH_FIND(hh, MEM(st)->retained, ev->topic, ev->topic_len, r);
	if (r)
		mem_retain_drop(st, r);
	if (!(r = calloc(1, sizeof(*r))) || !stored_event_copy(&r->ev, ev, now)) {
		free(r);
		store_failed(st, true, WAMPD_ERR_STORE, "out of memory", done, arg);
		return;
	}
	r->ev.cost = cost;
	st->stats.retained_bytes += cost;
	st->stats.nretained++;
	HASH_ADD_KEYPTR(hh, MEM(st)->retained, r->ev.topic, ev->topic_len, r);
	if (done)
		done(arg, WAMPD_OK, NULL);
}

static void mem_retain_clear(struct store *st, const char *topic, size_t len, store_done_fn done,
                             void *arg)
{
	struct mem_retained *r = NULL;

	HASH_FIND(hh, MEM(st)->retained, topic, len, r);
	if (r)
		mem_retain_drop(st, r);
	if (done)
		done(arg, WAMPD_OK, NULL);
}

static void mem_retain_get(struct store *st, const char *uri, enum match_policy policy,
                           store_read_fn fn, void *arg)
{
	struct mem_retained *r = NULL, *tmp;
	const struct stored_event **evs;
	struct match_item item = {.uri = (char *)uri, .uri_len = strlen(uri), .policy = policy};
	size_t n = 0;

	if (policy == MATCH_EXACT) {
		const struct stored_event *one;

		HASH_FIND(hh, MEM(st)->retained, uri, item.uri_len, r);
		one = r ? &r->ev : NULL;
		fn(arg, WAMPD_OK, &one, r ? 1 : 0);
		return;
	}
	if (!(evs = malloc((HASH_COUNT(MEM(st)->retained) + 1) * sizeof(*evs)))) {
		fn(arg, WAMPD_ERR_NOMEM, NULL, 0);
		return;
	}
	HASH_ITER(hh, MEM(st)->retained, r, tmp)
		if (match_item_matches(&item, r->ev.topic, strlen(r->ev.topic)))
			evs[n++] = &r->ev;
	fn(arg, WAMPD_OK, (const struct stored_event *const *)evs, n);
	free(evs);
}

static void mem_destroy(struct store *st)
{
	struct mem_store *m = MEM(st);
	struct store_history *h, *next;
	struct mem_retained *r, *tmp;

	for (h = m->histories; h; h = next) {
		next = h->next;
		while (h->count)
			mem_drop_oldest(m, h);
		free(h->ring);
		free(h);
	}
	HASH_ITER(hh, m->retained, r, tmp)
		mem_retain_drop(st, r);
	free(m);
}

static const struct store_ops mem_ops = {
	.name = "memory",
	.shared = false,
	.history_add = mem_history_add,
	.append = mem_append,
	.read = mem_read,
	.retain_check = mem_retain_check,
	.retain_set = mem_retain_set,
	.retain_clear = mem_retain_clear,
	.retain_get = mem_retain_get,
	.cost = mem_cost,
	.destroy = mem_destroy,
};

struct store *store_memory_new(const char *realm)
{
	struct mem_store *m = calloc(1, sizeof(*m));

	if (!m)
		return NULL;
	m->st.ops = &mem_ops;
	m->st.realm = realm;
	m->st.limits = (struct store_limits){STORE_DEFAULT_MAX_RETAINED,
	                                     STORE_DEFAULT_MAX_RETAINED_BYTES,
	                                     STORE_DEFAULT_MAX_HISTORY_BYTES};
	return &m->st;
}
