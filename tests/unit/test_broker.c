/*
 * test_broker.c - broker unit tests through the fake transport.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/ids.h"
#include "realm/realm.h"
#include "tests/lib/realm_fixture.h"

/* six sessions, 0..3 JSON and 4..5 MessagePack, at most 3 subscriptions each */
static int setup(void **state)
{
	struct rf_spec spec = RF_SPEC(6);

	spec.limits.max_subscriptions_per_session = 3;
	spec.peers[4].ser = spec.peers[5].ser = WAMP_SER_MSGPACK;
	return rf_setup(state, &spec);
}

static void test_subscription_shared(void **state)
{
	struct realm_fixture *f = *state;
	uint64_t a = rf_subscribe(f, 0, "{}", "com.t");
	uint64_t b = rf_subscribe(f, 0, "{}", "com.t");
	uint64_t c = rf_subscribe(f, 1, "{}", "com.t");
	uint64_t d = rf_subscribe(f, 1, "{}", "com.other");

	assert_true(ids_valid(a));
	assert_int_equal(a, b); /* same session, same topic: same id */
	assert_int_equal(a, c); /* all sessions on one topic share the id */
	assert_int_not_equal(a, d);
	assert_int_equal(broker_subscription(&f->r->broker, a)->count, 2);
	assert_int_equal(f->p[0].s->nsubs, 1);
}

static void test_publish_event_and_exclusion(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t sub = rf_subscribe(f, 0, "{}", "com.t");

	rf_subscribe(f, 1, "{}", "com.t");
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {}, \"com.t\", [1, \"x\"], {\"k\": true}]"), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* publisher excluded by default */
	rf_expect(f, 1, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], sub);
	assert_true(ids_valid(m.id[1]));
	assert_memory_equal(m.payload.args, "[1, \"x\"]", 8);
	assert_memory_equal(m.payload.kwargs, "{\"k\": true}", 11);
	wamp_msg_clear(&m);

	/* exclude_me: false delivers to the publisher as well */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 2, {\"exclude_me\": false}, \"com.t\"]"), WAMPD_OK);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_null(m.payload.args);
	wamp_msg_clear(&m);
	rf_expect(f, 1, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
}

static void test_publish_acknowledge(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 9, {}, \"com.nobody\"]"), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* no ack unless asked */
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 10, {\"acknowledge\": true}, \"com.nobody\"]"), WAMPD_OK);
	rf_expect(f, 0, WAMP_PUBLISHED, &m);
	assert_int_equal(m.id[0], 10);
	assert_true(ids_valid(m.id[1]));
	wamp_msg_clear(&m);
}

static void test_encode_once_per_serializer(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	for (int i = 1; i < 6; i++)
		rf_subscribe(f, i, "{}", "com.fan");
	assert_int_equal(rf_broker(f, 0, broker_publish,
	                           "[16, 1, {}, \"com.fan\", [\"\\u0000AQID\"]]"), WAMPD_OK);
	/* JSON receivers 1..3 share one buffer, msgpack receivers 4..5 share another */
	assert_ptr_equal(f->p[1].sent[f->p[1].nsent - 1], f->p[2].sent[f->p[2].nsent - 1]);
	assert_ptr_equal(f->p[2].sent[f->p[2].nsent - 1], f->p[3].sent[f->p[3].nsent - 1]);
	assert_ptr_equal(f->p[4].sent[f->p[4].nsent - 1], f->p[5].sent[f->p[5].nsent - 1]);
	assert_ptr_not_equal(f->p[1].sent[f->p[1].nsent - 1], f->p[4].sent[f->p[4].nsent - 1]);
	/* 1 creator ref dropped + 3 queue refs */
	assert_int_equal(f->p[1].sent[f->p[1].nsent - 1]->refs, 3);

	/* the binary argument reaches msgpack receivers as bin 01 02 03 */
	f->p[4].taken = f->p[4].nsent - 1;
	rf_expect(f, 4, WAMP_EVENT, &m);
	assert_non_null(m.payload.args);
	assert_memory_equal(m.payload.args, "\x91\xc4\x03\x01\x02\x03", 6);
	wamp_msg_clear(&m);
}

static void test_unsubscribe(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	char json[128];
	uint64_t sub = rf_subscribe(f, 1, "{}", "com.u");

	/* another session cannot unsubscribe what it does not hold */
	snprintf(json, sizeof(json), "[34, 3, %llu]", (unsigned long long)sub);
	assert_int_equal(rf_broker(f, 2, broker_unsubscribe, "%s", json),
	                 WAMPD_ERR_NO_SUCH_SUBSCRIPTION);
	assert_int_equal(rf_broker(f, 1, broker_unsubscribe, "%s", json), WAMPD_OK);
	rf_expect(f, 1, WAMP_UNSUBSCRIBED, &m);
	assert_int_equal(m.id[0], 3);
	wamp_msg_clear(&m);
	assert_null(broker_subscription(&f->r->broker, sub)); /* last member gone */
	assert_int_equal(rf_broker(f, 1, broker_unsubscribe, "%s", json),
	                 WAMPD_ERR_NO_SUCH_SUBSCRIPTION);
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.u\"]"), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
}

static void test_invalid_uris(void **state)
{
	struct realm_fixture *f = *state;

	assert_int_equal(rf_broker(f, 0, broker_subscribe, "[32, 1, {}, \"a..b\"]"),
	                 WAMPD_ERR_INVALID_URI);
	assert_int_equal(rf_broker(f, 0, broker_subscribe, "[32, 1, {}, \"a b\"]"),
	                 WAMPD_ERR_INVALID_URI);
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"a#b\"]"),
	                 WAMPD_ERR_INVALID_URI);
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"wamp.x\"]"),
	                 WAMPD_ERR_INVALID_URI);
	/* subscribing to meta topics is fine */
	rf_subscribe(f, 0, "{}", "wamp.session.on_join");
	assert_int_equal(rf_broker(f, 0, broker_subscribe, "[32, 1, {\"match\": \"fuzzy\"}, \"a\"]"),
	                 WAMPD_ERR_OPTION_NOT_ALLOWED);
}

static void test_subscription_limit(void **state)
{
	struct realm_fixture *f = *state;

	rf_subscribe(f, 0, "{}", "com.a");
	rf_subscribe(f, 0, "{}", "com.b");
	rf_subscribe(f, 0, "{}", "com.c");
	assert_int_equal(rf_broker(f, 0, broker_subscribe, "[32, 1, {}, \"com.d\"]"),
	                 WAMPD_ERR_LIMIT);
	rf_subscribe(f, 0, "{}", "com.a"); /* an existing subscription is not a new one */
}

static void test_leave_detaches(void **state)
{
	struct realm_fixture *f = *state;
	uint64_t sub = rf_subscribe(f, 1, "{}", "com.leave");

	rf_subscribe(f, 2, "{}", "com.leave");
	realm_leave(f->p[1].s);
	assert_int_equal(f->p[1].s->nsubs, 0);
	assert_int_equal(broker_subscription(&f->r->broker, sub)->count, 1);
	realm_leave(f->p[2].s);
	assert_null(broker_subscription(&f->r->broker, sub));
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
	assert_int_equal(realm_join(f->r, f->p[2].s), WAMPD_OK);
}

static void test_slow_consumer_does_not_stop_others(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	rf_subscribe(f, 1, "{}", "com.slow");
	rf_subscribe(f, 2, "{}", "com.slow");
	f->p[1].queue_limit = f->p[1].nsent; /* full: the next send is refused */
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 1, {}, \"com.slow\", [1]]"),
	                 WAMPD_OK);
	assert_true(f->p[1].closed);
	assert_int_equal(f->p[1].s->state, SESSION_CLOSING);
	rf_expect(f, 2, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	/* the closing session gets nothing more and is not in the way */
	assert_int_equal(rf_broker(f, 0, broker_publish, "[16, 2, {}, \"com.slow\", [2]]"),
	                 WAMPD_OK);
	rf_expect(f, 2, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	f->p[1].s->state = SESSION_ESTABLISHED; /* let teardown leave normally */
}

static void test_features(void **state)
{
	json_t *features = broker_features();

	(void)state;
	assert_true(json_is_true(json_object_get(features, "publisher_exclusion")));
	json_decref(features);
}

/* #17 finding 5: a pattern subscription is authorized on everything it can reach; an exact
 * grant of com.pub.news is no permission for prefix com.pub.news (com.pub.news.internal,
 * com.pub.newsroom.salaries) */
static void test_pattern_subscription_authorized(void **state)
{
	static const char *const refused[] = {
		"[32, 1, {\"match\": \"prefix\"}, \"com.pub.news\"]",
		"[32, 1, {\"match\": \"prefix\"}, \"com.pub.\"]",
		"[32, 1, {\"match\": \"wildcard\"}, \"com.pub.\"]",
		"[32, 1, {\"match\": \"wildcard\"}, \"com..news\"]",
		"[32, 1, {}, \"com.pub.news.internal\"]",
		"[32, 1, {\"match\": \"prefix\"}, \"com.app.\"]",   /* reaches com.app.secret */
		"[32, 1, {\"match\": \"wildcard\"}, \"com.app.\"]",
	};
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	rf_allow(f, "reader", "com.pub.news", AUTHZ_EXACT, "s");
	rf_allow(f, "reader", "com.app.", AUTHZ_PREFIX, "s");
	rf_allow(f, "reader", "com.app.secret", AUTHZ_EXACT, "");
	rf_allow(f, "pub", "", AUTHZ_PREFIX, "p");
	rf_set_role(f, 0, "reader");
	rf_set_role(f, 1, "pub");

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (rf_broker(f, 0, broker_subscribe, "%s", refused[i]) != WAMPD_ERR_NOT_AUTHORIZED)
			fail_msg("%s was not refused", refused[i]);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	rf_subscribe(f, 0, "{}", "com.pub.news");
	assert_int_equal(rf_broker(f, 0, broker_subscribe,
	                     "[32, 2, {\"match\": \"prefix\"}, \"com.app.pub.\"]"), WAMPD_OK);
	rf_expect(f, 0, WAMP_SUBSCRIBED, &m);
	wamp_msg_clear(&m);

	/* what the refused patterns would have delivered reaches nobody */
	assert_int_equal(rf_broker(f, 1, broker_publish, "[16, 1, {}, \"com.pub.news.internal\"]"),
	                 WAMPD_OK);
	assert_int_equal(rf_broker(f, 1, broker_publish,
	                           "[16, 2, {}, \"com.pub.newsroom.salaries\"]"), WAMPD_OK);
	assert_int_equal(rf_broker(f, 1, broker_publish, "[16, 3, {}, \"com.app.secret\"]"),
	                 WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(rf_broker(f, 1, broker_publish, "[16, 4, {}, \"com.pub.news\"]"),
	                 WAMPD_OK);
	assert_int_equal(rf_broker(f, 1, broker_publish, "[16, 5, {}, \"com.app.pub.x\"]"),
	                 WAMPD_OK);
	rf_expect(f, 0, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	rf_expect(f, 0, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_subscription_shared, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_publish_event_and_exclusion, setup,
		                                rf_teardown),
		cmocka_unit_test_setup_teardown(test_publish_acknowledge, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_encode_once_per_serializer, setup,
		                                rf_teardown),
		cmocka_unit_test_setup_teardown(test_unsubscribe, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_invalid_uris, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_subscription_limit, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_leave_detaches, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_slow_consumer_does_not_stop_others, setup,
		                                rf_teardown),
		cmocka_unit_test_setup_teardown(test_pattern_subscription_authorized, setup,
		                                rf_teardown),
		cmocka_unit_test(test_features),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
