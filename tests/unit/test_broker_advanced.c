/*
 * test_broker_advanced.c - Advanced Profile PubSub: pattern-based subscriptions (EVENT
 * carries `topic`), publisher identification, black/white listing, event retention,
 * event history, subscription revocation, payload passthru keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/ids.h"
#include "realm/realm.h"
#include "tests/lib/realm_fixture.h"

#define N 5

/* a publisher and four subscribers (the last on MessagePack), with identities and roles for
 * the black/white lists */
static int setup(void **state)
{
	static const char *const authids[N] = {"pub", "a", "b", "c", "d"};
	static const char *const roles[N] = {"admin", "user", "user", "guest", "guest"};
	struct rf_spec spec = RF_SPEC(N);

	for (int i = 0; i < N; i++) {
		spec.peers[i].authid = authids[i];
		spec.peers[i].authrole = roles[i];
		spec.peers[i].features = SF_SUBSCRIBER_REVOCATION;
	}
	spec.peers[4].ser = WAMP_SER_MSGPACK;
	return rf_setup(state, &spec);
}

/* Which subscribers got an EVENT for the last publication (bit set), draining them. */
static unsigned receivers(struct realm_fixture *f)
{
	unsigned set = 0;
	struct wamp_msg m;

	for (int i = 0; i < N; i++) {
		while (fake_peer_next(&f->p[i], &m)) {
			if (m.type == WAMP_EVENT)
				set |= 1u << i;
			wamp_msg_clear(&m);
		}
	}
	return set;
}

static void test_pattern_subscriptions(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t exact = rf_subscribe(f, 1, "{}", "com.news.sport");
	uint64_t prefix = rf_subscribe(f, 2, "{\"match\": \"prefix\"}", "com.news");
	uint64_t wild = rf_subscribe(f, 3, "{\"match\": \"wildcard\"}", "com..sport");

	assert_int_equal(rf_subscribe(f, 1, "{\"match\": \"prefix\"}", "com.news"),
	                 prefix); /* shared */
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.news.sport\", [1]]"),
	                 WAMPD_OK);
	rf_expect(f, 1, WAMP_EVENT, &m); /* exact first */
	assert_int_equal(m.id[0], exact);
	assert_null(json_object_get(m.dict, "topic"));
	wamp_msg_clear(&m);
	rf_expect(f, 1, WAMP_EVENT, &m); /* then its prefix subscription: a second EVENT */
	assert_int_equal(m.id[0], prefix);
	assert_string_equal(wamp_dict_str(m.dict, "topic", ""), "com.news.sport");
	wamp_msg_clear(&m);
	rf_expect(f, 2, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], prefix);
	wamp_msg_clear(&m);
	rf_expect(f, 3, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], wild);
	assert_string_equal(wamp_dict_str(m.dict, "topic", ""), "com.news.sport");
	wamp_msg_clear(&m);
	assert_int_equal(receivers(f), 0);

	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 2, {}, \"com.weather.sport\"]"),
	                 WAMPD_OK);
	assert_int_equal(receivers(f), 1u << 3);
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 3, {}, \"com.newsroom\"]"),
	                 WAMPD_OK);
	assert_int_equal(receivers(f), (1u << 1) | (1u << 2)); /* string prefix */
}

static void test_publisher_identification(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	rf_subscribe(f, 1, "{}", "com.t");
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"disclose_me\": true}, \"com.t\"]"), WAMPD_OK);
	rf_expect(f, 1, WAMP_EVENT, &m);
	assert_int_equal(wamp_dict_int(m.dict, "publisher", 0), (int64_t)f->p[0].s->id);
	assert_string_equal(wamp_dict_str(m.dict, "publisher_authid", ""), "pub");
	assert_string_equal(wamp_dict_str(m.dict, "publisher_authrole", ""), "admin");
	wamp_msg_clear(&m);
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 2, {}, \"com.t\"]"), WAMPD_OK);
	rf_expect(f, 1, WAMP_EVENT, &m);
	assert_null(m.dict);
	wamp_msg_clear(&m);
}

static void test_black_white_lists(void **state)
{
	struct realm_fixture *f = *state;
	unsigned long long id1 = f->p[1].s->id, id2 = f->p[2].s->id;

	for (int i = 0; i < N; i++)
		rf_subscribe(f, i, "{}", "com.bw");
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.bw\"]"), WAMPD_OK);
	assert_int_equal(receivers(f), 0x1e); /* all but the publisher */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"exclude\": [%llu]}, \"com.bw\"]", id1), WAMPD_OK);
	assert_int_equal(receivers(f), 0x1c);
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"eligible\": [%llu, %llu]}, \"com.bw\"]", id1, id2),
	                 WAMPD_OK);
	assert_int_equal(receivers(f), 0x06);
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"exclude_authrole\": [\"guest\"]}, \"com.bw\"]"),
	                 WAMPD_OK);
	assert_int_equal(receivers(f), 0x06);
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"eligible_authrole\": [\"guest\"]}, \"com.bw\"]"),
	                 WAMPD_OK);
	assert_int_equal(receivers(f), 0x18);
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"eligible_authid\": [\"a\", \"d\"]}, \"com.bw\"]"),
	                 WAMPD_OK);
	assert_int_equal(receivers(f), 0x12);
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"exclude_authid\": [\"a\"], \"eligible_authrole\": "
	                           "[\"user\"]}, \"com.bw\"]"), WAMPD_OK);
	assert_int_equal(receivers(f), 0x04);
	/* exclude_me false + eligible containing the publisher */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"exclude_me\": false, \"eligible_authid\": "
	                           "[\"pub\"]}, \"com.bw\"]"), WAMPD_OK);
	assert_int_equal(receivers(f), 0x01);
}

static void test_retained_events(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	/* nobody subscribed yet: the retained event waits */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"retain\": true}, \"com.state\", [\"old\"]]"),
	                 WAMPD_OK);
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 2, {\"retain\": true, \"disclose_me\": true}, "
	                           "\"com.state\", [\"\\u0000AQI=\"]]"), WAMPD_OK);
	/* only the latest per topic is kept; a subscriber that asks gets it */
	rf_subscribe(f, 1, "{\"get_retained\": true}", "com.state");
	rf_expect(f, 1, WAMP_EVENT, &m);
	assert_true(wamp_dict_bool(m.dict, "retained", false));
	assert_int_equal(wamp_dict_int(m.dict, "publisher", 0), (int64_t)f->p[0].s->id);
	assert_memory_equal(m.payload.args, "[\"\\u0000AQI=\"]", 12);
	wamp_msg_clear(&m);
	/* a msgpack subscriber gets it converted (bin) */
	rf_subscribe(f, 4, "{\"get_retained\": true}", "com.state");
	rf_expect(f, 4, WAMP_EVENT, &m);
	assert_memory_equal(m.payload.args, "\x91\xc4\x02\x01\x02", 5);
	wamp_msg_clear(&m);
	/* without get_retained: nothing */
	rf_subscribe(f, 2, "{}", "com.state");
	assert_int_equal(fake_peer_pending(&f->p[2]), 0);
	/* pattern subscription: all matching retained topics, with topic */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 3, {\"retain\": true}, \"com.other\"]"), WAMPD_OK);
	receivers(f);
	rf_subscribe(f, 3, "{\"match\": \"prefix\", \"get_retained\": true}", "com.");
	rf_expect(f, 3, WAMP_EVENT, &m);
	assert_true(json_is_string(json_object_get(m.dict, "topic")));
	wamp_msg_clear(&m);
	rf_expect(f, 3, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[3]), 0);
	assert_int_equal(f->r->broker.store->stats.nretained, 2);
}

static json_t *history_of(struct realm_fixture *f, const struct subscription *s);

static void test_event_history(void **state)
{
	struct realm_fixture *f = *state;
	struct subscription *s;
	json_t *ev, *list;

	assert_int_equal(broker_add_history(&f->r->broker, "com.log", MATCH_PREFIX, 3), WAMPD_OK);
	for (int i = 0; i < 5; i++)
		assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.log.x\", [%d]]",
		                           i), WAMPD_OK);
	s = (struct subscription *)match_get(&f->r->broker.index, "com.log", 7, MATCH_PREFIX);
	assert_non_null(s);
	assert_true(s->persistent);
	list = history_of(f, s);
	assert_int_equal(json_array_size(list), 3); /* bounded: the newest 3 */
	ev = json_array_get(list, 0);
	assert_string_equal(json_string_value(json_object_get(ev, "topic")), "com.log.x");
	assert_int_equal(json_integer_value(json_array_get(json_object_get(ev, "args"), 0)), 2);
	assert_true(json_is_string(json_object_get(ev, "timestamp")));
	json_decref(list);
	/* subscribing and leaving does not delete a persistent subscription */
	assert_int_equal(rf_subscribe(f, 1, "{\"match\": \"prefix\"}", "com.log"), s->id);
	realm_leave(f->p[1].s);
	assert_ptr_equal(broker_subscription(&f->r->broker, s->id), s);
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
}

static void test_revocation(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t id = rf_subscribe(f, 1, "{}", "com.rev");

	broker_revoke(&f->r->broker, broker_subscription(&f->r->broker, id), f->p[1].s, NULL);
	rf_expect(f, 1, WAMP_UNSUBSCRIBED, &m);
	assert_int_equal(m.id[0], 0);
	assert_int_equal(wamp_dict_int(m.dict, "subscription", 0), (int64_t)id);
	assert_string_equal(wamp_dict_str(m.dict, "reason", ""), "wamp.error.revoked");
	wamp_msg_clear(&m);
	assert_null(broker_subscription(&f->r->broker, id));
}

static void test_payload_passthru(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	rf_subscribe(f, 1, "{}", "com.e2e");
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                     "[16, 1, {\"ppt_scheme\": \"x_custom\", \"ppt_serializer\": \"cbor\"},"
	                     " \"com.e2e\", [\"\\u0000AAEC\"]]"), WAMPD_OK);
	rf_expect(f, 1, WAMP_EVENT, &m);
	assert_string_equal(wamp_dict_str(m.dict, "ppt_scheme", ""), "x_custom");
	assert_string_equal(wamp_dict_str(m.dict, "ppt_serializer", ""), "cbor");
	assert_memory_equal(m.payload.args, "[\"\\u0000AAEC\"]", 12);
	wamp_msg_clear(&m);
}

static void test_internal_publish(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	json_t *args = json_pack("[s]", "hi");

	rf_subscribe(f, 1, "{}", "com.sys");
	broker_publish_internal(&f->r->broker, "com.sys", args, NULL, NULL);
	json_decref(args);
	rf_expect(f, 1, WAMP_EVENT, &m);
	assert_memory_equal(m.payload.args, "[\"hi\"]", 6);
	wamp_msg_clear(&m);
	assert_true(broker_has_subscription(&f->r->broker, "com.sys"));
	assert_false(broker_has_subscription(&f->r->broker, "com.nobody"));
}

/* The bytes the (memory) store charges for an event of topic with JSON Arguments args. */
static size_t cost_of(struct realm_fixture *f, const char *topic, const char *args)
{
	struct wamp_payload p = {.ser = WAMP_SER_JSON, .args = (const uint8_t *)args,
	                         .args_len = strlen(args)};

	return broker_event_cost(&f->r->broker, strlen(topic), NULL, &p);
}

/* What a history holds, as get_events shows it (oldest first): a new list. */
static void on_read(void *arg, enum wampd_err err, const struct stored_event *const *evs,
                    size_t n)
{
	json_t **list = arg;

	assert_int_equal(err, WAMPD_OK);
	*list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(*list, store_event_json(evs[i], 0));
}

static json_t *history_of(struct realm_fixture *f, const struct subscription *s)
{
	struct store *st = f->r->broker.store;
	struct store_query q = {0};
	json_t *list = NULL;

	st->ops->read(st, s->history, &q, on_read, &list); /* the memory store answers now */
	assert_non_null(list);
	return list;
}

static size_t history_count(struct realm_fixture *f, const struct subscription *s)
{
	json_t *list = history_of(f, s);
	size_t n = json_array_size(list);

	json_decref(list);
	return n;
}

/* The first positional argument of a history entry (its JSON form), as an int. */
static int64_t entry_arg(struct realm_fixture *f, const struct subscription *s, uint32_t i)
{
	json_t *list = history_of(f, s);
	int64_t v = json_integer_value(json_array_get(json_object_get(json_array_get(list, i),
	                                                              "args"), 0));

	json_decref(list);
	return v;
}

/* Retained events within max_retained_bytes: a new topic one byte over it is refused as a
 * whole (no EVENT, no PUBLISHED), exactly the budget is accepted, a replacement that fits is
 * fine, one that does not keeps the old event; the router's own publications are delivered
 * without being retained. */
static void test_retained_byte_budget(void **state)
{
	struct realm_fixture *f = *state;
	struct broker *b = &f->r->broker;
	size_t a = cost_of(f, "com.a", "[\"aaaa\"]");
	struct wamp_msg m;
	json_t *args, *opts;

	assert_int_equal(a, cost_of(f, "com.b", "[\"bbbb\"]"));
	assert_true(a > sizeof(struct stored_event) + 5 + 8); /* bookkeeping is charged too */
	rf_subscribe(f, 1, "{}", "com.b");
	b->store->limits.max_retained_bytes = 2 * a - 1;
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {\"retain\": true}, \"com.a\", [\"aaaa\"]]"), WAMPD_OK);
	assert_int_equal(b->store->stats.retained_bytes, a);
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 2, {\"retain\": true, \"acknowledge\": true}, \"com.b\", "
	                           "[\"bbbb\"]]"), WAMPD_ERR_LIMIT);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* no PUBLISHED */
	assert_int_equal(receivers(f), 0);                /* nobody got it */
	assert_int_equal(b->store->stats.retained_refused, 1);
	assert_int_equal(b->store->stats.nretained, 1);
	assert_int_equal(b->store->stats.retained_bytes, a);

	b->store->limits.max_retained_bytes = 2 * a; /* exactly what both take */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 3, {\"retain\": true, \"acknowledge\": true}, \"com.b\", "
	                           "[\"bbbb\"]]"), WAMPD_OK);
	rf_expect(f, 0, WAMP_PUBLISHED, &m);
	wamp_msg_clear(&m);
	assert_int_equal(receivers(f), 1u << 1);
	assert_int_equal(b->store->stats.retained_bytes, 2 * a);
	assert_int_equal(b->store->stats.nretained, 2);

	/* replacing: the same size fits, a larger one does not (and the old event stays) */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 4, {\"retain\": true}, \"com.a\", [\"AAAA\"]]"), WAMPD_OK);
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 5, {\"retain\": true}, \"com.a\","
	                                           " [\"%040d\"]]", 5), WAMPD_ERR_LIMIT);
	assert_int_equal(b->store->stats.retained_bytes, 2 * a);
	assert_int_equal(b->store->stats.retained_refused, 2);
	b->store->limits.max_retained_bytes = 2 * a - 1; /* a replacement is checked without the old event */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 5, {\"retain\": true}, \"com.a\", [\"BBBB\"]]"),
	                 WAMPD_ERR_LIMIT);
	b->store->limits.max_retained_bytes = 2 * a;
	assert_int_equal(b->store->stats.retained_refused, 3);
	rf_subscribe(f, 2, "{\"get_retained\": true}", "com.a");
	rf_expect(f, 2, WAMP_EVENT, &m);
	assert_memory_equal(m.payload.args, "[\"AAAA\"]", 8);
	wamp_msg_clear(&m);

	/* the count limit refuses a new topic alike */
	b->store->limits.max_retained_bytes = UINT64_MAX;
	b->store->limits.max_retained = 2;
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 6, {\"retain\": true}, \"com.c\"]"),
	                 WAMPD_ERR_LIMIT);
	assert_int_equal(b->store->stats.retained_refused, 4);

	/* the router's own publication: delivered, not retained */
	b->store->limits.max_retained = 10;
	b->store->limits.max_retained_bytes = 2 * a;
	args = json_pack("[s]", "cccc");
	opts = json_pack("{s:b}", "retain", 1);
	broker_publish_internal(b, "com.b", args, NULL, opts); /* bigger as values than as span */
	json_decref(args);
	json_decref(opts);
	assert_int_equal(receivers(f), 1u << 1);
	assert_int_equal(b->store->stats.retained_refused, 5);
	assert_int_equal(b->store->stats.retained_bytes, 2 * a);
}

/* Event history within max_history_bytes (per realm): the realm's oldest entries are
 * evicted, from whichever history holds them, so that exactly the budget is used; an event
 * larger than the whole budget is delivered but not recorded. */
static void test_history_byte_budget(void **state)
{
	struct realm_fixture *f = *state;
	struct broker *b = &f->r->broker;
	size_t c = cost_of(f, "com.log.x", "[1]");
	struct subscription *log, *audit;

	assert_int_equal(c, cost_of(f, "com.audit", "[1]"));
	assert_int_equal(broker_add_history(b, "com.log", MATCH_PREFIX, 10), WAMPD_OK);
	assert_int_equal(broker_add_history(b, "com.audit", MATCH_EXACT, 10), WAMPD_OK);
	log = (struct subscription *)match_get(&b->index, "com.log", 7, MATCH_PREFIX);
	audit = (struct subscription *)match_get(&b->index, "com.audit", 9, MATCH_EXACT);
	b->store->limits.max_history_bytes = 3 * c;
	for (int i = 0; i < 3; i++)
		assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.log.x\", [%d]]",
		                           i), WAMPD_OK);
	assert_int_equal(history_count(f, log), 3);
	assert_int_equal(b->store->stats.history_bytes, 3 * c); /* exactly the budget: all kept */
	assert_int_equal(b->store->stats.history_evicted, 0);

	/* one more byte than the budget: the oldest goes */
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.log.x\", [3]]"),
	                 WAMPD_OK);
	assert_int_equal(history_count(f, log), 3);
	assert_int_equal(entry_arg(f, log, 0), 1);
	assert_int_equal(b->store->stats.history_evicted, 1);
	/* another history's event evicts the realm's oldest, whichever history holds it */
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.audit\", [4]]"),
	                 WAMPD_OK);
	assert_int_equal(history_count(f, audit), 1);
	assert_int_equal(history_count(f, log), 2);
	assert_int_equal(entry_arg(f, log, 0), 2);
	assert_int_equal(b->store->stats.history_evicted, 2);
	assert_int_equal(b->store->stats.history_bytes, 3 * c);

	/* larger than the whole budget: delivered, not recorded, nothing evicted */
	b->store->limits.max_history_bytes = c - 1;
	rf_subscribe(f, 1, "{\"match\": \"prefix\"}", "com.log");
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.log.x\", [5]]"),
	                 WAMPD_OK);
	assert_int_equal(receivers(f), 1u << 1);
	assert_int_equal(b->store->stats.history_refused, 1);
	assert_int_equal(history_count(f, log), 2);
	assert_int_equal(b->store->stats.history_bytes, 3 * c);
}

/* A durable store whose writes complete only when the test says so (the memory store's
 * writes with their completions held), as lmdb's after a commit, redis' after a reply. */
static struct {
	const struct store_ops *mem;
	struct store_ops ops;
	store_done_fn done[8];
	void *arg[8];
	int n;
} held;

static void held_append(struct store *st, struct store_history *h, const struct store_event *ev,
                        int64_t now, store_done_fn done, void *arg)
{
	held.mem->append(st, h, ev, now, NULL, NULL);
	held.done[held.n] = done;
	held.arg[held.n++] = arg;
}

static void held_retain_set(struct store *st, const struct store_event *ev, int64_t now,
                            store_done_fn done, void *arg)
{
	held.mem->retain_set(st, ev, now, NULL, NULL);
	held.done[held.n] = done;
	held.arg[held.n++] = arg;
}

static void release(int i, enum wampd_err err)
{
	assert_non_null(held.done[i]); /* the broker awaits every write of an acknowledged one */
	held.done[i](held.arg[i], err, err == WAMPD_OK ? NULL : "the test said so");
	held.done[i] = NULL;
}

/* On a durable store an acknowledged PUBLISH is answered once every write of its event
 * completed: PUBLISHED, or the first failure's ERROR (one answer, whatever the order); a
 * publisher gone meanwhile gets nothing; an unacknowledged one waits for nothing. */
static void test_durable_acknowledgement(void **state)
{
	struct realm_fixture *f = *state;
	struct store *st = f->r->broker.store;
	struct wamp_msg m;

	assert_int_equal(broker_add_history(&f->r->broker, "com.d", MATCH_EXACT, 10), WAMPD_OK);
	held.mem = st->ops;
	held.ops = *st->ops;
	held.ops.append = held_append;
	held.ops.retain_set = held_retain_set;
	held.n = 0;
	st->ops = &held.ops;
	st->durable = true;
	rf_subscribe(f, 1, "{}", "com.d");

	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 7, {\"acknowledge\": true}, \"com.d\", [1]]"), WAMPD_OK);
	assert_int_equal(receivers(f), 1u << 1);          /* delivered at once */
	assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* not acknowledged yet */
	release(0, WAMPD_OK);
	rf_expect(f, 0, WAMP_PUBLISHED, &m);
	assert_int_equal(m.id[0], 7);
	wamp_msg_clear(&m);

	/* two writes (history, retained): the failing one decides, one answer */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 8, {\"acknowledge\": true, \"retain\": true}, \"com.d\", "
	                           "[2]]"), WAMPD_OK);
	assert_int_equal(held.n, 3);
	release(2, WAMPD_ERR_LIMIT);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	release(1, WAMPD_OK);
	rf_expect(f, 0, WAMP_ERROR, &m);
	assert_int_equal(m.id[1], 8);
	assert_string_equal(m.uri, "wamp.error.limit_exceeded");
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);

	/* unacknowledged: nothing awaited */
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 9, {}, \"com.d\", [3]]"), WAMPD_OK);
	assert_null(held.done[3]);
	held.done[3] = NULL;

	/* the publisher leaves before the store answered */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 10, {\"acknowledge\": true}, \"com.d\", [4]]"), WAMPD_OK);
	realm_leave(f->p[0].s);
	release(4, WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(realm_join(f->r, f->p[0].s), WAMPD_OK);
	st->ops = held.mem;
}

/* Which history covers a pattern: every topic the pattern matches, the history's does. */
static void test_pattern_covers(void **state)
{
	(void)state;
	assert_true(store_pattern_covers("com.a", MATCH_EXACT, "com.a", MATCH_EXACT));
	assert_false(store_pattern_covers("com.a", MATCH_EXACT, "com.a", MATCH_PREFIX));
	assert_true(store_pattern_covers("com.a.", MATCH_PREFIX, "com.a.x", MATCH_EXACT));
	assert_true(store_pattern_covers("com.a", MATCH_PREFIX, "com.ab", MATCH_PREFIX));
	assert_false(store_pattern_covers("com.a.", MATCH_PREFIX, "com.a", MATCH_PREFIX));
	assert_false(store_pattern_covers("com.a.", MATCH_PREFIX, "com.b.x", MATCH_EXACT));
	assert_true(store_pattern_covers("com.a.", MATCH_PREFIX, "com.a..x", MATCH_WILDCARD));
	assert_true(store_pattern_covers("com.a", MATCH_PREFIX, "com.ab..x", MATCH_WILDCARD));
	assert_false(store_pattern_covers("com.a.b", MATCH_PREFIX, "com.a..b", MATCH_WILDCARD));
	assert_false(store_pattern_covers("com.", MATCH_PREFIX, ".a.b", MATCH_WILDCARD));
	assert_true(store_pattern_covers("", MATCH_PREFIX, ".a.b", MATCH_WILDCARD));
	assert_true(store_pattern_covers("com..x", MATCH_WILDCARD, "com.a.x", MATCH_EXACT));
	assert_true(store_pattern_covers("com..", MATCH_WILDCARD, "com..x", MATCH_WILDCARD));
	assert_false(store_pattern_covers("com..x", MATCH_WILDCARD, "com...", MATCH_WILDCARD));
	assert_false(store_pattern_covers("com..x", MATCH_WILDCARD, "com.a.x.y", MATCH_EXACT));
	assert_false(store_pattern_covers("com..x", MATCH_WILDCARD, "com.", MATCH_PREFIX));
}

/* get_events reads every history covering the subscription's pattern, keeps what the
 * pattern matches, each publication once (two histories hold it), oldest first. */
static void test_get_events_covered(void **state)
{
	struct realm_fixture *f = *state;
	struct store_query q = {0};
	struct subscription *sub;
	json_t *events;

	assert_int_equal(broker_add_history(&f->r->broker, "com.", MATCH_PREFIX, 10), WAMPD_OK);
	assert_int_equal(broker_add_history(&f->r->broker, "com.a", MATCH_PREFIX, 10), WAMPD_OK);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"%s\", [%d]]",
		                           i % 2 ? "com.b" : "com.a.x", i), WAMPD_OK);
	sub = broker_subscription(&f->r->broker, rf_subscribe(f, 1, "{}", "com.a.x"));
	assert_int_equal(broker_history_events(&f->r->broker, f->p[1].s, sub, &q, &events),
	                 WAMPD_OK);
	assert_int_equal(json_array_size(events), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(
	                         json_array_get(events, 1), "args"), 0)), 2);
	json_decref(events);
	/* a subscription no history covers: none */
	sub = broker_subscription(&f->r->broker, rf_subscribe(f, 1, "{}", "org.x"));
	assert_int_equal(broker_history_events(&f->r->broker, f->p[1].s, sub, &q, &events),
	                 WAMPD_OK);
	assert_int_equal(json_array_size(events), 0);
	json_decref(events);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pattern_subscriptions, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_publisher_identification, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_black_white_lists, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_retained_events, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_event_history, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_revocation, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_payload_passthru, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_internal_publish, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_retained_byte_budget, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_history_byte_budget, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_durable_acknowledgement, setup, rf_teardown),
		cmocka_unit_test(test_pattern_covers),
		cmocka_unit_test_setup_teardown(test_get_events_covered, setup, rf_teardown),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
