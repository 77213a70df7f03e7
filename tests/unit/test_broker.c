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
#include "tests/lib/fake_peer.h"

struct fixture {
	struct realms realms;
	struct realm *r;
	struct fake_peer p[6];
};

static int setup(void **state)
{
	static struct fixture f;
	struct realm_limits lim = REALM_LIMITS_DEFAULT;

	memset(&f, 0, sizeof(f));
	lim.max_subscriptions_per_session = 3;
	realms_init(&f.realms, &lim);
	f.r = realms_add(&f.realms, "realm1", URI_LOOSE);
	assert_non_null(f.r);
	for (int i = 0; i < 6; i++) {
		struct session *s = fake_peer_session(&f.p[i], i < 4 ? WAMP_SER_JSON : WAMP_SER_MSGPACK);

		assert_int_equal(realm_join(f.r, s), WAMPD_OK);
	}
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 6; i++) {
		realm_leave(f->p[i].s);
		fake_peer_destroy(&f->p[i]);
	}
	realms_destroy(&f->realms);
	return 0;
}

/* Feed a JSON literal to a broker handler. */
static enum wampd_err run(struct fixture *f, int who,
                          enum wampd_err (*h)(struct broker *, struct session *,
                                              const struct wamp_msg *),
                          const char *json)
{
	struct wamp_msg m;
	enum wampd_err err;

	fake_msg(json, &m);
	err = h(&f->r->broker, f->p[who].s, &m);
	wamp_msg_clear(&m);
	return err;
}

/* Take the next message of peer `who` and check its type; returns it (caller clears). */
static void expect(struct fixture *f, int who, enum wamp_type type, struct wamp_msg *m)
{
	assert_true(fake_peer_next(&f->p[who], m));
	assert_int_equal(m->type, type);
}

static uint64_t subscribe(struct fixture *f, int who, const char *topic)
{
	char json[256];
	struct wamp_msg m;
	uint64_t id;

	snprintf(json, sizeof(json), "[32, 7, {}, \"%s\"]", topic);
	assert_int_equal(run(f, who, broker_subscribe, json), WAMPD_OK);
	expect(f, who, WAMP_SUBSCRIBED, &m);
	assert_int_equal(m.id[0], 7);
	id = m.id[1];
	wamp_msg_clear(&m);
	return id;
}

static void test_subscription_shared(void **state)
{
	struct fixture *f = *state;
	uint64_t a = subscribe(f, 0, "com.t");
	uint64_t b = subscribe(f, 0, "com.t");
	uint64_t c = subscribe(f, 1, "com.t");
	uint64_t d = subscribe(f, 1, "com.other");

	assert_true(ids_valid(a));
	assert_int_equal(a, b); /* same session, same topic: same id */
	assert_int_equal(a, c); /* all sessions on one topic share the id */
	assert_int_not_equal(a, d);
	assert_int_equal(broker_subscription(&f->r->broker, a)->count, 2);
	assert_int_equal(f->p[0].s->nsubs, 1);
}

static void test_publish_event_and_exclusion(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;
	uint64_t sub = subscribe(f, 0, "com.t");

	subscribe(f, 1, "com.t");
	assert_int_equal(run(f, 0, broker_publish, "[16, 1, {}, \"com.t\", [1, \"x\"], {\"k\": true}]"),
	                 WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* publisher excluded by default */
	expect(f, 1, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], sub);
	assert_true(ids_valid(m.id[1]));
	assert_memory_equal(m.payload.args, "[1, \"x\"]", 8);
	assert_memory_equal(m.payload.kwargs, "{\"k\": true}", 11);
	wamp_msg_clear(&m);

	/* exclude_me: false delivers to the publisher as well */
	assert_int_equal(run(f, 0, broker_publish, "[16, 2, {\"exclude_me\": false}, \"com.t\"]"),
	                 WAMPD_OK);
	expect(f, 0, WAMP_EVENT, &m);
	assert_null(m.payload.args);
	wamp_msg_clear(&m);
	expect(f, 1, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
}

static void test_publish_acknowledge(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	assert_int_equal(run(f, 0, broker_publish, "[16, 9, {}, \"com.nobody\"]"), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* no ack unless asked */
	assert_int_equal(run(f, 0, broker_publish, "[16, 10, {\"acknowledge\": true}, \"com.nobody\"]"),
	                 WAMPD_OK);
	expect(f, 0, WAMP_PUBLISHED, &m);
	assert_int_equal(m.id[0], 10);
	assert_true(ids_valid(m.id[1]));
	wamp_msg_clear(&m);
}

static void test_encode_once_per_serializer(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	for (int i = 1; i < 6; i++)
		subscribe(f, i, "com.fan");
	assert_int_equal(run(f, 0, broker_publish, "[16, 1, {}, \"com.fan\", [\"\\u0000AQID\"]]"),
	                 WAMPD_OK);
	/* JSON receivers 1..3 share one buffer, msgpack receivers 4..5 share another */
	assert_ptr_equal(f->p[1].sent[f->p[1].nsent - 1], f->p[2].sent[f->p[2].nsent - 1]);
	assert_ptr_equal(f->p[2].sent[f->p[2].nsent - 1], f->p[3].sent[f->p[3].nsent - 1]);
	assert_ptr_equal(f->p[4].sent[f->p[4].nsent - 1], f->p[5].sent[f->p[5].nsent - 1]);
	assert_ptr_not_equal(f->p[1].sent[f->p[1].nsent - 1], f->p[4].sent[f->p[4].nsent - 1]);
	/* 1 creator ref dropped + 3 queue refs */
	assert_int_equal(f->p[1].sent[f->p[1].nsent - 1]->refs, 3);

	/* the binary argument reaches msgpack receivers as bin 01 02 03 */
	f->p[4].taken = f->p[4].nsent - 1;
	expect(f, 4, WAMP_EVENT, &m);
	assert_non_null(m.payload.args);
	assert_memory_equal(m.payload.args, "\x91\xc4\x03\x01\x02\x03", 6);
	wamp_msg_clear(&m);
}

static void test_unsubscribe(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;
	char json[128];
	uint64_t sub = subscribe(f, 1, "com.u");

	/* another session cannot unsubscribe what it does not hold */
	snprintf(json, sizeof(json), "[34, 3, %llu]", (unsigned long long)sub);
	assert_int_equal(run(f, 2, broker_unsubscribe, json), WAMPD_ERR_NO_SUCH_SUBSCRIPTION);
	assert_int_equal(run(f, 1, broker_unsubscribe, json), WAMPD_OK);
	expect(f, 1, WAMP_UNSUBSCRIBED, &m);
	assert_int_equal(m.id[0], 3);
	wamp_msg_clear(&m);
	assert_null(broker_subscription(&f->r->broker, sub)); /* last member gone */
	assert_int_equal(run(f, 1, broker_unsubscribe, json), WAMPD_ERR_NO_SUCH_SUBSCRIPTION);
	assert_int_equal(run(f, 0, broker_publish, "[16, 1, {}, \"com.u\"]"), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
}

static void test_invalid_uris(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(run(f, 0, broker_subscribe, "[32, 1, {}, \"a..b\"]"), WAMPD_ERR_INVALID_URI);
	assert_int_equal(run(f, 0, broker_subscribe, "[32, 1, {}, \"a b\"]"), WAMPD_ERR_INVALID_URI);
	assert_int_equal(run(f, 0, broker_publish, "[16, 1, {}, \"a#b\"]"), WAMPD_ERR_INVALID_URI);
	assert_int_equal(run(f, 0, broker_publish, "[16, 1, {}, \"wamp.x\"]"), WAMPD_ERR_INVALID_URI);
	/* subscribing to meta topics is fine */
	subscribe(f, 0, "wamp.session.on_join");
	assert_int_equal(run(f, 0, broker_subscribe, "[32, 1, {\"match\": \"fuzzy\"}, \"a\"]"),
	                 WAMPD_ERR_OPTION_NOT_ALLOWED);
}

static void test_subscription_limit(void **state)
{
	struct fixture *f = *state;

	subscribe(f, 0, "com.a");
	subscribe(f, 0, "com.b");
	subscribe(f, 0, "com.c");
	assert_int_equal(run(f, 0, broker_subscribe, "[32, 1, {}, \"com.d\"]"), WAMPD_ERR_LIMIT);
	subscribe(f, 0, "com.a"); /* an existing subscription is not a new one */
}

static void test_leave_detaches(void **state)
{
	struct fixture *f = *state;
	uint64_t sub = subscribe(f, 1, "com.leave");

	subscribe(f, 2, "com.leave");
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
	struct fixture *f = *state;
	struct wamp_msg m;

	subscribe(f, 1, "com.slow");
	subscribe(f, 2, "com.slow");
	f->p[1].queue_limit = f->p[1].nsent; /* full: the next send is refused */
	assert_int_equal(run(f, 0, broker_publish, "[16, 1, {}, \"com.slow\", [1]]"), WAMPD_OK);
	assert_true(f->p[1].closed);
	assert_int_equal(f->p[1].s->state, SESSION_CLOSING);
	expect(f, 2, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	/* the closing session gets nothing more and is not in the way */
	assert_int_equal(run(f, 0, broker_publish, "[16, 2, {}, \"com.slow\", [2]]"), WAMPD_OK);
	expect(f, 2, WAMP_EVENT, &m);
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
	struct fixture *f = *state;
	struct wamp_msg m;

	fake_role_perm(&f->r->authz, "reader", "com.pub.news", AUTHZ_EXACT, "s");
	fake_role_perm(&f->r->authz, "reader", "com.app.", AUTHZ_PREFIX, "s");
	fake_role_perm(&f->r->authz, "reader", "com.app.secret", AUTHZ_EXACT, "");
	fake_role_perm(&f->r->authz, "pub", "", AUTHZ_PREFIX, "p");
	f->p[0].s->authrole = strdup("reader");
	f->p[1].s->authrole = strdup("pub");

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (run(f, 0, broker_subscribe, refused[i]) != WAMPD_ERR_NOT_AUTHORIZED)
			fail_msg("%s was not refused", refused[i]);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	subscribe(f, 0, "com.pub.news");
	assert_int_equal(run(f, 0, broker_subscribe,
	                     "[32, 2, {\"match\": \"prefix\"}, \"com.app.pub.\"]"), WAMPD_OK);
	expect(f, 0, WAMP_SUBSCRIBED, &m);
	wamp_msg_clear(&m);

	/* what the refused patterns would have delivered reaches nobody */
	assert_int_equal(run(f, 1, broker_publish, "[16, 1, {}, \"com.pub.news.internal\"]"), WAMPD_OK);
	assert_int_equal(run(f, 1, broker_publish, "[16, 2, {}, \"com.pub.newsroom.salaries\"]"),
	                 WAMPD_OK);
	assert_int_equal(run(f, 1, broker_publish, "[16, 3, {}, \"com.app.secret\"]"), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(run(f, 1, broker_publish, "[16, 4, {}, \"com.pub.news\"]"), WAMPD_OK);
	assert_int_equal(run(f, 1, broker_publish, "[16, 5, {}, \"com.app.pub.x\"]"), WAMPD_OK);
	expect(f, 0, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	expect(f, 0, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_subscription_shared, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_event_and_exclusion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_publish_acknowledge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_encode_once_per_serializer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsubscribe, setup, teardown),
		cmocka_unit_test_setup_teardown(test_invalid_uris, setup, teardown),
		cmocka_unit_test_setup_teardown(test_subscription_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leave_detaches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_consumer_does_not_stop_others, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_pattern_subscription_authorized, setup,
		                                teardown),
		cmocka_unit_test(test_features),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
