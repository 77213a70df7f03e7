/*
 * test_protocol.c - the session state machine (router/core/protocol.c) through the fake
 * transport: HELLO/WELCOME/ABORT/GOODBYE, state checks, and how errors reach the wire.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "common/ids.h"
#include "router/core/protocol.h"
#include "tests/lib/fake_peer.h"

struct fixture {
	struct router rt;
	struct fake_peer p[2];
};

static int setup(void **state)
{
	static struct fixture f;
	struct config cfg;

	memset(&f, 0, sizeof(f));
	assert_true(config_default(&cfg));
	assert_true(router_init(&f.rt, &cfg, NULL));
	fake_peer_session(&f.p[0], WAMP_SER_JSON, &f.rt.metrics);
	fake_peer_session(&f.p[1], WAMP_SER_MSGPACK, &f.rt.metrics);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 2; i++) {
		proto_transport_closed(&f->rt, f->p[i].s);
		fake_peer_destroy(&f->p[i]);
	}
	router_destroy(&f->rt);
	return 0;
}

/* Feed a message written as JSON, re-encoded for a MessagePack session. */
static void feed(struct fixture *f, int who, const char *json)
{
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;

	if (f->p[who].s->ser == WAMP_SER_JSON) {
		proto_receive(&f->rt, f->p[who].s, (const uint8_t *)json, strlen(json));
		return;
	}
	fake_msg(json, &m);
	o = wamp_encode(f->p[who].s->ser, &m, &err);
	assert_non_null(o);
	wamp_msg_clear(&m);
	proto_receive(&f->rt, f->p[who].s, wamp_out_data(o), o->len);
	wamp_out_unref(o);
}

static void expect(struct fixture *f, int who, enum wamp_type type, struct wamp_msg *m)
{
	assert_true(fake_peer_next(&f->p[who], m));
	assert_int_equal(m->type, type);
}

static void expect_abort(struct fixture *f, int who, const char *reason, int code)
{
	struct wamp_msg m;

	expect(f, who, WAMP_ABORT, &m);
	assert_string_equal(m.uri, reason);
	assert_true(json_is_string(json_object_get(m.dict, "message")));
	wamp_msg_clear(&m);
	assert_true(f->p[who].closed);
	assert_int_equal(f->p[who].close_code, code);
	assert_int_equal(f->p[who].s->state, SESSION_CLOSING);
}

static void hello(struct fixture *f, int who)
{
	struct wamp_msg m;

	feed(f, who, "[1, \"realm1\", {\"roles\": {\"caller\": {\"features\": "
	             "{\"progressive_call_results\": true}}, \"subscriber\": {}}}]");
	expect(f, who, WAMP_WELCOME, &m);
	assert_true(ids_valid(m.id[0]));
	assert_int_equal(m.id[0], f->p[who].s->id);
	assert_string_equal(wamp_dict_str(m.dict, "realm", ""), "realm1");
	assert_string_equal(wamp_dict_str(m.dict, "authrole", ""), "anonymous");
	assert_string_equal(wamp_dict_str(m.dict, "authmethod", ""), "anonymous");
	assert_non_null(json_object_get(json_object_get(json_object_get(m.dict, "roles"), "broker"),
	                                "features"));
	assert_non_null(json_object_get(json_object_get(m.dict, "roles"), "dealer"));
	wamp_msg_clear(&m);
	assert_int_equal(f->p[who].s->state, SESSION_ESTABLISHED);
	assert_true(f->p[who].s->features & SF_CALLER_PROGRESSIVE_RESULTS);
}

static void test_hello_welcome(void **state)
{
	struct fixture *f = *state;

	hello(f, 0);
	hello(f, 1);
	assert_int_not_equal(f->p[0].s->id, f->p[1].s->id);
}

static void test_no_such_realm(void **state)
{
	struct fixture *f = *state;

	feed(f, 0, "[1, \"nope\", {}]");
	expect_abort(f, 0, "wamp.error.no_such_realm", 1000);
}

static void test_auto_create_realm(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	f->rt.cfg.auto_create_realms = true;
	feed(f, 0, "[1, \"fresh.realm\", {}]");
	expect(f, 0, WAMP_WELCOME, &m);
	assert_string_equal(wamp_dict_str(m.dict, "realm", ""), "fresh.realm");
	wamp_msg_clear(&m);
}

static void test_message_before_hello(void **state)
{
	struct fixture *f = *state;

	feed(f, 0, "[32, 1, {}, \"com.t\"]");
	expect_abort(f, 0, "wamp.error.protocol_violation", 1002);
	/* nothing more is processed once closing */
	feed(f, 0, "[1, \"realm1\", {}]");
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
}

static void test_second_hello(void **state)
{
	struct fixture *f = *state;

	hello(f, 0);
	feed(f, 0, "[1, \"realm1\", {}]");
	expect_abort(f, 0, "wamp.error.protocol_violation", 1002);
}

static void test_router_only_messages(void **state)
{
	static const char *const msgs[] = {
		"[2, 1, {}]", "[36, 1, 2, {}]", "[50, 1, {}]", "[68, 1, 2, {}]", "[33, 1, 2]",
		"[65, 1, 2]", "[17, 1, 2]", "[4, \"ticket\", {}]",
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		proto_transport_closed(&f->rt, f->p[0].s);
		fake_peer_destroy(&f->p[0]);
		fake_peer_session(&f->p[0], WAMP_SER_JSON, &f->rt.metrics);
		hello(f, 0);
		feed(f, 0, msgs[i]);
		expect_abort(f, 0, "wamp.error.protocol_violation", 1002);
	}
}

static void test_malformed(void **state)
{
	struct fixture *f = *state;

	hello(f, 0);
	feed(f, 0, "[48, 1, {}, \"com.x\"");
	expect_abort(f, 0, "wamp.error.protocol_violation", 1002);
}

static void test_goodbye_then_new_session(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;
	uint64_t first;

	hello(f, 0);
	first = f->p[0].s->id;
	feed(f, 0, "[6, {}, \"wamp.close.close_realm\"]");
	expect(f, 0, WAMP_GOODBYE, &m);
	assert_string_equal(m.uri, "wamp.close.goodbye_and_out");
	wamp_msg_clear(&m);
	assert_int_equal(f->p[0].s->state, SESSION_OPEN);
	assert_false(f->p[0].closed);
	hello(f, 0);
	assert_int_not_equal(first, f->p[0].s->id);
}

static void test_request_error_keeps_session(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	hello(f, 0);
	feed(f, 0, "[48, 77, {}, \"com.none\"]");
	expect(f, 0, WAMP_ERROR, &m);
	assert_int_equal(m.id[0], WAMP_CALL);
	assert_int_equal(m.id[1], 77);
	assert_string_equal(m.uri, "wamp.error.no_such_procedure");
	assert_non_null(m.payload.args); /* a human-readable message */
	wamp_msg_clear(&m);
	assert_int_equal(f->p[0].s->state, SESSION_ESTABLISHED);
}

static void test_unacknowledged_publish_error_is_silent(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	hello(f, 0);
	feed(f, 0, "[16, 1, {}, \"a..b\"]");
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	feed(f, 0, "[16, 2, {\"acknowledge\": true}, \"a..b\"]");
	expect(f, 0, WAMP_ERROR, &m);
	assert_int_equal(m.id[0], WAMP_PUBLISH);
	assert_string_equal(m.uri, "wamp.error.invalid_uri");
	wamp_msg_clear(&m);
}

static void test_shutdown_goodbye(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	hello(f, 0);
	proto_shutdown(&f->rt, f->p[0].s);
	proto_shutdown(&f->rt, f->p[1].s); /* never joined: closed without a message */
	assert_true(f->p[1].closed);
	expect(f, 0, WAMP_GOODBYE, &m);
	assert_string_equal(m.uri, "wamp.close.system_shutdown");
	wamp_msg_clear(&m);
	assert_int_equal(f->p[0].s->state, SESSION_SHUTTING_DOWN);
	feed(f, 0, "[32, 1, {}, \"com.ignored\"]"); /* ignored while shutting down */
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	feed(f, 0, "[6, {}, \"wamp.close.goodbye_and_out\"]");
	assert_true(f->p[0].closed);
	assert_int_equal(f->p[0].close_code, 1000);
	assert_null(f->p[0].s->realm);
}

static void test_authmethods_without_anonymous(void **state)
{
	struct fixture *f = *state;

	feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"joe\"}]");
	expect_abort(f, 0, "wamp.error.no_matching_auth_method", 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_hello_welcome, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_such_realm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_auto_create_realm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_message_before_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_hello, setup, teardown),
		cmocka_unit_test_setup_teardown(test_router_only_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_goodbye_then_new_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_error_keeps_session, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unacknowledged_publish_error_is_silent, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_shutdown_goodbye, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authmethods_without_anonymous, setup, teardown),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
