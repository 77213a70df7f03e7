/*
 * test_store.c - one suite for every event-store backend (realm/store.h), run once per
 * backend: `test_store memory`, `test_store lmdb` (a fresh directory under $TMPDIR), `test_store
 * redis` (WAMPD_TEST_REDIS_PORT: a private redis-server, started by
 * tests/store/with_redis.py). The redis store talks to Redis through a test link: a
 * synchronous hiredis connection whose replies are held and handed over only when the test
 * settles, so the store's answers come later, as on the event loop. Each test keeps its
 * keys apart (a fresh prefix per test).
 *
 * What every backend must do alike: histories (order, limit, reverse, topic filter, count
 * limit, age, the realm's byte budget evicting the realm's oldest), payloads of every kind
 * (spans, values, details, transparent) read back as written, retained events (set, replace,
 * get by exact and pattern, clear, count and byte budgets refusing), a completion per
 * write, and for the persistent ones: what was written is there after the store is closed
 * and opened again; a failing store fails the write's completion.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <hiredis/hiredis.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/clock.h"
#include "router/cluster/store_redis.h"
#include "router/store/store_lmdb.h"

static const char *backend;
static char lmdb_dir[256];
static int test_no;

/* ------------------------------------------------------------------------------------ */
/* the redis test link: replies held until settle()                                      */

struct held_reply {
	void (*fn)(void *, void *);
	void *arg;
	redisReply *r;
};

static struct {
	redisContext *c;
	struct held_reply held[256];
	size_t n;
	bool down;               /* command() refuses: Redis unreachable */
	char prefix[64];
} rl;

static bool link_command(void *ctx, void (*fn)(void *, void *), void *arg, int argc,
                         const char **argv, const size_t *lens)
{
	(void)ctx;
	if (rl.down || rl.n == sizeof(rl.held) / sizeof(rl.held[0]))
		return false;
	rl.held[rl.n++] = (struct held_reply){fn, arg, redisCommandArgv(rl.c, argc, argv, lens)};
	return true;
}

static void settle(void)
{
	while (rl.n) {
		struct held_reply h = rl.held[0];

		memmove(rl.held, rl.held + 1, --rl.n * sizeof(rl.held[0]));
		h.fn(h.arg, h.r);
		freeReplyObject(h.r);
	}
}

/* ------------------------------------------------------------------------------------ */
/* opening a store of the backend under test                                              */

static const struct store_limits big = {1000, UINT64_C(1) << 30, UINT64_C(1) << 30};

static struct store *open_store(const struct store_limits *lim, uint64_t map_size)
{
	struct store *st = NULL;
	char err[200];

	if (!strcmp(backend, "memory")) {
		st = store_memory_new("realm1");
		st->limits = *lim;
	} else if (!strcmp(backend, "lmdb")) {
		st = store_lmdb_open(lmdb_dir, "realm1", map_size, true, lim, NULL, err, sizeof(err));
		if (!st)
			fail_msg("lmdb: %s", err);
	} else {
		struct store_redis_link link = {.command = link_command, .prefix = rl.prefix};

		st = store_redis_new("realm1", true, lim);
		store_redis_link(st, &link);
	}
	assert_non_null(st);
	return st;
}

static bool persistent(void)
{
	return strcmp(backend, "memory") != 0;
}

static int setup(void **state)
{
	(void)state;
	test_no++;
	if (!strcmp(backend, "lmdb")) {
		char cmd[300];

		snprintf(lmdb_dir, sizeof(lmdb_dir), "%s/wampd-store-test-%d-%d",
		         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid(), test_no);
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", lmdb_dir);
		assert_int_equal(system(cmd), 0);
	}
	snprintf(rl.prefix, sizeof(rl.prefix), "wampd:test%d-%d:", (int)getpid(), test_no);
	rl.down = false;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	settle();
	if (!strcmp(backend, "lmdb")) {
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", lmdb_dir);
		assert_int_equal(system(cmd), 0);
	}
	return 0;
}

/* ------------------------------------------------------------------------------------ */
/* helpers: writes, completions, reads                                                    */

struct done_log {
	int calls, ok, limit, failed;
};

static void on_done(void *arg, enum wampd_err err, const char *why)
{
	struct done_log *d = arg;

	(void)why;
	d->calls++;
	if (err == WAMPD_OK)
		d->ok++;
	else if (err == WAMPD_ERR_LIMIT)
		d->limit++;
	else
		d->failed++;
}

static void append(struct store *st, struct store_history *h, uint64_t pub, const char *topic,
                   const char *args_json, int64_t now, struct done_log *d)
{
	struct wamp_payload p = {.ser = WAMP_SER_JSON, .args = (const uint8_t *)args_json,
	                         .args_len = strlen(args_json)};
	struct store_event ev = {.publication = pub, .topic = topic, .topic_len = strlen(topic),
	                         .payload = &p};

	st->ops->append(st, h, &ev, now, on_done, d);
}

/* What a read answered: publication ids and first args, in order. */
struct got {
	int calls;
	enum wampd_err err;
	size_t n;
	uint64_t pub[64];
	char topic[64][64];
	json_t *ev[64];            /* store_event_json of each */
};

static void on_read(void *arg, enum wampd_err err, const struct stored_event *const *evs,
                    size_t n)
{
	struct got *g = arg;

	g->calls++;
	g->err = err;
	g->n = n;
	for (size_t i = 0; i < n && i < 64; i++) {
		g->pub[i] = evs[i]->publication;
		snprintf(g->topic[i], sizeof(g->topic[i]), "%s", evs[i]->topic);
		g->ev[i] = store_event_json(evs[i], 7);
	}
}

static void got_clear(struct got *g)
{
	for (size_t i = 0; i < g->n && i < 64; i++)
		json_decref(g->ev[i]);
	memset(g, 0, sizeof(*g));
}

static void read_h(struct store *st, struct store_history *h, uint32_t limit, bool reverse,
                   const char *topic, struct got *g)
{
	struct store_query q = {.limit = limit, .reverse = reverse, .topic = topic};

	got_clear(g);
	st->ops->read(st, h, &q, on_read, g);
	settle();
	assert_int_equal(g->calls, 1);
	assert_int_equal(g->err, WAMPD_OK);
}

static void retained(struct store *st, const char *uri, enum match_policy policy, struct got *g)
{
	got_clear(g);
	st->ops->retain_get(st, uri, policy, on_read, g);
	settle();
	assert_int_equal(g->calls, 1);
	assert_int_equal(g->err, WAMPD_OK);
}

/* Keep a retained event (if the store's check lets it): WAMPD_OK, or WAMPD_ERR_LIMIT from
 * the check or the write's completion. */
static enum wampd_err retain(struct store *st, const char *topic, const char *args_json,
                             uint64_t pub)
{
	struct wamp_payload p = {.ser = WAMP_SER_JSON, .args = (const uint8_t *)args_json,
	                         .args_len = strlen(args_json)};
	struct store_event ev = {.publication = pub, .topic = topic, .topic_len = strlen(topic),
	                         .payload = &p};
	struct done_log d = {0};

	if (st->ops->retain_check(st, topic, strlen(topic), st->ops->cost(st, &ev)) != WAMPD_OK)
		return WAMPD_ERR_LIMIT;
	st->ops->retain_set(st, &ev, clock_wall_ms(), on_done, &d);
	settle();
	assert_int_equal(d.calls, 1);
	return d.ok ? WAMPD_OK : d.limit ? WAMPD_ERR_LIMIT : WAMPD_ERR_STORE;
}

static int64_t arg0(const struct got *g, size_t i)
{
	return json_integer_value(json_array_get(json_object_get(g->ev[i], "args"), 0));
}

static struct store_history *history(struct store *st, const char *uri, enum match_policy m,
                                     uint32_t limit, int64_t max_age_ms)
{
	struct history_config hc = {.uri = (char *)uri, .match = m, .limit = limit,
	                            .max_age_ms = max_age_ms};
	struct store_history *h = st->ops->history_add(st, &hc);

	assert_non_null(h);
	return h;
}

/* ------------------------------------------------------------------------------------ */
/* histories                                                                              */

static void test_history_order_limit_filter(void **state)
{
	struct store *st = open_store(&big, 1u << 24);
	struct store_history *h = history(st, "com.log.", MATCH_PREFIX, 3, 0);
	struct done_log d = {0};
	struct got g = {0};
	char args[16];

	(void)state;
	for (int i = 0; i < 5; i++) {
		snprintf(args, sizeof(args), "[%d]", i);
		append(st, h, 100 + i, i == 3 ? "com.log.b" : "com.log.a", args, clock_wall_ms(), &d);
	}
	settle();
	assert_int_equal(d.calls, 5); /* one completion per write, each OK */
	assert_int_equal(d.ok, 5);
	read_h(st, h, 0, false, NULL, &g); /* the newest 3 (limit), oldest first */
	assert_int_equal(g.n, 3);
	assert_int_equal(g.pub[0], 102);
	assert_int_equal(g.pub[2], 104);
	assert_int_equal(arg0(&g, 0), 2);
	assert_string_equal(g.topic[1], "com.log.b");
	read_h(st, h, 2, false, NULL, &g); /* the newest 2 */
	assert_int_equal(g.n, 2);
	assert_int_equal(g.pub[0], 103);
	read_h(st, h, 0, true, NULL, &g); /* newest first */
	assert_int_equal(g.pub[0], 104);
	assert_int_equal(g.pub[2], 102);
	read_h(st, h, 0, false, "com.log.a", &g); /* one topic */
	assert_int_equal(g.n, 2);
	assert_int_equal(g.pub[0], 102);
	assert_int_equal(g.pub[1], 104);
	read_h(st, h, 1, false, "com.log.a", &g); /* limit counted after the filter */
	assert_int_equal(g.n, 1);
	assert_int_equal(g.pub[0], 104);
	got_clear(&g);
	st->ops->destroy(st);
}

static void on_raw(void *arg, enum wampd_err err, const struct stored_event *const *evs,
                   size_t n)
{
	assert_int_equal(err, WAMPD_OK);
	assert_int_equal(n, 3);
	assert_int_equal(evs[1]->payload.ser, WAMP_SER_MSGPACK);
	assert_int_equal(evs[1]->payload.args_len, 2);
	assert_memory_equal(evs[1]->payload.kwargs, "\x81\xa1x\x02", 4);
	assert_false(evs[1]->payload.transparent);
	assert_true(evs[2]->payload.transparent);
	assert_memory_equal(evs[2]->payload.args, "\xc4\x03\x00\x01\x02", 5);
	(*(int *)arg)++;
}

/* Payloads of every kind come back as written. */
static void test_payload_kinds(void **state)
{
	struct store *st = open_store(&big, 1u << 24);
	struct store_history *h = history(st, "com.p", MATCH_EXACT, 10, 0);
	json_t *args = json_pack("[s, i]", "values", 5), *kwargs = json_pack("{s:b}", "k", 1);
	json_t *details = json_pack("{s:I, s:s}", "publisher", (json_int_t)42, "publisher_authid",
	                            "alice");
	struct wamp_payload values = {.args_v = args, .kwargs_v = kwargs};
	struct wamp_payload spans = {.ser = WAMP_SER_MSGPACK, .args = (const uint8_t *)"\x91\x01",
	                             .args_len = 2, .kwargs = (const uint8_t *)"\x81\xa1x\x02",
	                             .kwargs_len = 4};
	struct wamp_payload bin = {.ser = WAMP_SER_MSGPACK, .transparent = true,
	                           .args = (const uint8_t *)"\xc4\x03\x00\x01\x02", .args_len = 5};
	struct store_event e1 = {.publication = 1, .topic = "com.p", .topic_len = 5,
	                         .details = details, .payload = &values};
	struct store_event e2 = {.publication = 2, .topic = "com.p", .topic_len = 5,
	                         .payload = &spans};
	struct store_event e3 = {.publication = 3, .topic = "com.p", .topic_len = 5, .payload = &bin};
	struct done_log d = {0};
	struct got g = {0};
	json_t *o;

	(void)state;
	st->ops->append(st, h, &e1, 1000, on_done, &d);
	st->ops->append(st, h, &e2, clock_wall_ms(), on_done, &d);
	st->ops->append(st, h, &e3, clock_wall_ms(), on_done, &d);
	settle();
	assert_int_equal(d.ok, 3);
	read_h(st, h, 0, false, NULL, &g);
	assert_int_equal(g.n, 3);
	o = g.ev[0];
	assert_true(json_equal(json_object_get(o, "args"), args));
	assert_true(json_equal(json_object_get(o, "kwargs"), kwargs));
	assert_true(json_equal(json_object_get(o, "details"), details));
	assert_string_equal(json_string_value(json_object_get(o, "timestamp")),
	                    "1970-01-01T00:00:01.000Z");
	o = g.ev[1];
	assert_int_equal(json_integer_value(json_array_get(json_object_get(o, "args"), 0)), 1);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "kwargs"), "x")), 2);
	got_clear(&g);
	/* the spans' serializer and bytes, and the transparent flag, survive */
	{
		struct store_query q = {0};
		int seen = 0;

		st->ops->read(st, h, &q, on_raw, &seen);
		settle();
		assert_int_equal(seen, 1);
	}
	json_decref(args);
	json_decref(kwargs);
	json_decref(details);
	st->ops->destroy(st);
}

/* The age limit: events older than max_age are neither read nor kept. */
static void test_history_age(void **state)
{
	struct store *st = open_store(&big, 1u << 24);
	struct store_history *h = history(st, "com.age", MATCH_EXACT, 10, 1000);
	struct done_log d = {0};
	struct got g = {0};

	(void)state;
	append(st, h, 1, "com.age", "[1]", clock_wall_ms() - 60000, &d); /* a minute ago */
	settle();
	read_h(st, h, 0, false, NULL, &g);
	assert_int_equal(g.n, 0);
	append(st, h, 2, "com.age", "[2]", clock_wall_ms(), &d);
	settle();
	assert_int_equal(d.ok, 2);
	read_h(st, h, 0, false, NULL, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.pub[0], 2);
	got_clear(&g);
	st->ops->destroy(st);
}

/* The realm's byte budget: the realm's oldest entries go, of whichever history; held bytes
 * never exceed the budget; an event larger than the budget is not recorded. */
static void test_history_bytes(void **state)
{
	struct store_limits lim = big;
	struct store *st;
	struct store_history *a, *b;
	struct done_log d = {0};
	struct got g = {0};
	uint64_t one;

	(void)state;
	/* the cost of one event, measured: a budget of three */
	st = open_store(&big, 1u << 24);
	a = history(st, "com.a", MATCH_EXACT, 10, 0);
	append(st, a, 1, "com.a", "[1]", clock_wall_ms(), &d);
	settle();
	one = st->stats.history_bytes;
	assert_true(one > 3);
	st->ops->destroy(st);
	teardown(NULL);
	setup(NULL);

	lim.max_history_bytes = 3 * one;
	st = open_store(&lim, 1u << 24);
	a = history(st, "com.a", MATCH_EXACT, 10, 0);
	b = history(st, "com.b", MATCH_EXACT, 10, 0);
	for (int i = 0; i < 3; i++)
		append(st, a, 10 + i, "com.a", "[1]", clock_wall_ms(), &d);
	settle();
	assert_int_equal(st->stats.history_bytes, 3 * one);
	assert_int_equal(st->stats.history_evicted, 0);
	append(st, b, 20, "com.b", "[1]", clock_wall_ms(), &d); /* evicts a's oldest */
	settle();
	assert_int_equal(st->stats.history_bytes, 3 * one);
	assert_int_equal(st->stats.history_evicted, 1);
	read_h(st, a, 0, false, NULL, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(g.pub[0], 11);
	read_h(st, b, 0, false, NULL, &g);
	assert_int_equal(g.n, 1);
	/* larger than the whole budget: not recorded, nothing evicted, not a failure */
	{
		char big_args[2048];

		memset(big_args, 'x', sizeof(big_args));
		memcpy(big_args, "[\"", 2);
		memcpy(big_args + sizeof(big_args) - 3, "\"]", 3);
		assert_true(sizeof(big_args) > 3 * one);
		append(st, a, 30, "com.a", big_args, clock_wall_ms(), &d);
	}
	settle();
	assert_int_equal(st->stats.history_refused, 1);
	assert_int_equal(st->stats.history_evicted, 1);
	assert_int_equal(st->stats.history_failed, 0);
	read_h(st, a, 0, false, NULL, &g);
	assert_int_equal(g.n, 2);
	assert_int_equal(d.failed, 0);
	got_clear(&g);
	st->ops->destroy(st);
}

/* ------------------------------------------------------------------------------------ */
/* retained events                                                                        */

static void test_retained(void **state)
{
	struct store *st = open_store(&big, 1u << 24);
	struct done_log d = {0};
	struct got g = {0};

	(void)state;
	assert_int_equal(retain(st, "com.r.a", "[1]", 1), WAMPD_OK);
	assert_int_equal(retain(st, "com.r.b", "[2]", 2), WAMPD_OK);
	assert_int_equal(retain(st, "com.x", "[3]", 3), WAMPD_OK);
	assert_int_equal(retain(st, "com.r.a", "[4]", 4), WAMPD_OK); /* replaces */
	assert_int_equal(st->stats.nretained, 3);
	retained(st, "com.r.a", MATCH_EXACT, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.pub[0], 4);
	assert_int_equal(arg0(&g, 0), 4);
	retained(st, "com.nothing", MATCH_EXACT, &g);
	assert_int_equal(g.n, 0);
	retained(st, "com.r.", MATCH_PREFIX, &g);
	assert_int_equal(g.n, 2);
	retained(st, "com..b", MATCH_WILDCARD, &g);
	assert_int_equal(g.n, 1);
	assert_string_equal(g.topic[0], "com.r.b");
	st->ops->retain_clear(st, "com.r.a", 7, on_done, &d);
	settle();
	assert_int_equal(d.ok, 1);
	retained(st, "com.r.a", MATCH_EXACT, &g);
	assert_int_equal(g.n, 0);
	assert_int_equal(st->stats.nretained, 2);
	got_clear(&g);
	st->ops->destroy(st);
}

/* Over the count or the byte budget a retained event is refused and the old one stays. */
static void test_retained_budgets(void **state)
{
	struct store_limits lim = big;
	struct store *st;
	struct got g = {0};

	(void)state;
	lim.max_retained = 2;
	st = open_store(&lim, 1u << 24);
	assert_int_equal(retain(st, "com.a", "[1]", 1), WAMPD_OK);
	assert_int_equal(retain(st, "com.b", "[1]", 2), WAMPD_OK);
	assert_int_equal(retain(st, "com.c", "[1]", 3), WAMPD_ERR_LIMIT); /* a third topic */
	assert_int_equal(retain(st, "com.b", "[2]", 4), WAMPD_OK);       /* a replacement */
	assert_int_equal(st->stats.retained_refused, 1);
	/* bytes: exactly what two take; one that grows is refused, the old stays */
	st->limits.max_retained_bytes = st->stats.retained_bytes;
	assert_int_equal(retain(st, "com.a", "[\"a payload longer than the first by far\"]", 5),
	                 WAMPD_ERR_LIMIT);
	assert_int_equal(retain(st, "com.a", "[3]", 6), WAMPD_OK);
	assert_int_equal(st->stats.retained_refused, 2);
	retained(st, "com.a", MATCH_EXACT, &g);
	assert_int_equal(g.pub[0], 6);
	got_clear(&g);
	st->ops->destroy(st);
}

/* ------------------------------------------------------------------------------------ */
/* persistence and failures                                                               */

static void test_reopen(void **state)
{
	struct store *st;
	struct store_history *h;
	struct done_log d = {0};
	struct got g = {0};

	(void)state;
	if (!persistent())
		skip();
	st = open_store(&big, 1u << 24);
	h = history(st, "com.keep.", MATCH_PREFIX, 100, 0);
	for (int i = 0; i < 20; i++)
		append(st, h, 1000 + i, "com.keep.x", "[0]", clock_wall_ms(), &d);
	assert_int_equal(retain(st, "com.keep.state", "[42]", 77), WAMPD_OK);
	settle();
	assert_int_equal(d.ok, 20);
	st->ops->destroy(st);

	st = open_store(&big, 1u << 24);
	h = history(st, "com.keep.", MATCH_PREFIX, 100, 0);
	read_h(st, h, 0, false, NULL, &g);
	assert_int_equal(g.n, 20);
	for (int i = 0; i < 20; i++)
		assert_int_equal(g.pub[i], 1000 + i);
	retained(st, "com.keep.state", MATCH_EXACT, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(arg0(&g, 0), 42);
	assert_int_equal(st->stats.nretained, 1);
	/* and the history goes on after what it held */
	append(st, h, 2000, "com.keep.x", "[0]", clock_wall_ms(), &d);
	settle();
	read_h(st, h, 1, false, NULL, &g);
	assert_int_equal(g.pub[0], 2000);
	got_clear(&g);
	st->ops->destroy(st);
}

/* A store that cannot keep the event fails the write's completion (and counts it). */
static void test_failing_store(void **state)
{
	struct store *st;
	struct store_history *h;
	struct done_log d = {0};
	char *blob;

	(void)state;
	if (!persistent())
		skip();
	st = open_store(&big, 1u << 20); /* lmdb: a map of 1 MiB */
	h = history(st, "com.full", MATCH_EXACT, 100000, 0);
	if (!strcmp(backend, "redis"))
		rl.down = true; /* redis unreachable */
	blob = malloc(64 * 1024 + 8);
	memset(blob, 'x', 64 * 1024 + 8);
	blob[0] = '[';
	blob[1] = '"';
	memcpy(blob + 64 * 1024 + 4, "\"]", 3);
	for (int i = 0; i < 32 && !d.limit && !d.failed; i++) {
		append(st, h, 1 + i, "com.full", blob, clock_wall_ms(), &d);
		settle();
	}
	free(blob);
	assert_int_equal(d.limit + d.failed, 1);
	assert_int_equal(st->stats.history_failed, 1);
	if (!strcmp(backend, "lmdb"))
		assert_int_equal(d.limit, 1); /* MDB_MAP_FULL: the store is full */
	rl.down = false;
	st->ops->destroy(st);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_history_order_limit_filter, setup, teardown),
		cmocka_unit_test_setup_teardown(test_payload_kinds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_age, setup, teardown),
		cmocka_unit_test_setup_teardown(test_history_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retained, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retained_budgets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failing_store, setup, teardown),
	};
	int rc;

	backend = argc > 1 ? argv[1] : "memory";
	if (sodium_init() < 0)
		return 1;
	if (!strcmp(backend, "redis")) {
		const char *port = getenv("WAMPD_TEST_REDIS_PORT");

		if (!port || !(rl.c = redisConnect("127.0.0.1", atoi(port))) || rl.c->err) {
			fprintf(stderr, "test_store redis: set WAMPD_TEST_REDIS_PORT to a redis-server's "
			        "port (tests/store/with_redis.py does)\n");
			return 1;
		}
	} else if (strcmp(backend, "memory") && strcmp(backend, "lmdb")) {
		fprintf(stderr, "test_store: memory, lmdb or redis\n");
		return 2;
	}
	cmocka_set_message_output(CM_OUTPUT_STDOUT);
	rc = _cmocka_run_group_tests(backend, tests, sizeof(tests) / sizeof(tests[0]), NULL, NULL);
	if (rl.c)
		redisFree(rl.c);
	return rc;
}
