/*
 * test_dealer.c - dealer unit tests through the fake transport.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/ids.h"
#include "common/metrics.h"
#include "realm/realm.h"
#include "tests/lib/realm_fixture.h"

/* four sessions, the last on MessagePack; small pending-call limits */
static int setup(void **state)
{
	struct rf_spec spec = RF_SPEC(4);

	spec.limits.max_pending_calls_per_session = 2;
	spec.limits.max_pending_calls_per_callee = 3;
	spec.peers[3].ser = WAMP_SER_MSGPACK;
	return rf_setup(state, &spec);
}

/* CALL from `caller`, returns the INVOCATION request id the callee got. */
static uint64_t call(struct realm_fixture *f, int caller, int callee, uint64_t req,
                     const char *proc)
{
	struct wamp_msg m;
	uint64_t inv;

	assert_int_equal(rf_dealer(f, caller, dealer_call,
	                           "[48, %llu, {}, \"%s\", [\"a\", 2], {\"k\": [1]}]",
	                           (unsigned long long)req, proc), WAMPD_OK);
	rf_expect(f, callee, WAMP_INVOCATION, &m);
	inv = m.id[0];
	wamp_msg_clear(&m);
	return inv;
}

static void test_register_and_call(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	char json[256];
	uint64_t regid = rf_register(f, 0, "{}", "com.add");
	uint64_t inv;

	assert_true(ids_valid(regid));
	assert_int_equal(rf_dealer(f, 1, dealer_register, "[64, 6, {}, \"com.add\"]"),
	                 WAMPD_ERR_PROCEDURE_EXISTS);

	assert_int_equal(rf_dealer(f, 1, dealer_call,
	                           "[48, 11, {}, \"com.add\", [\"a\", 2], {\"k\": [1]}]"),
	                 WAMPD_OK);
	rf_expect(f, 0, WAMP_INVOCATION, &m);
	inv = m.id[0];
	assert_int_equal(inv, 1); /* session-scope ids start at 1 */
	assert_int_equal(m.id[1], regid);
	assert_memory_equal(m.payload.args, "[\"a\", 2]", 8);
	assert_memory_equal(m.payload.kwargs, "{\"k\": [1]}", 10);
	wamp_msg_clear(&m);

	snprintf(json, sizeof(json), "[70, %llu, {}, [5]]", (unsigned long long)inv);
	assert_int_equal(rf_dealer(f, 0, dealer_yield, "%s", json), WAMPD_OK);
	rf_expect(f, 1, WAMP_RESULT, &m);
	assert_int_equal(m.id[0], 11);
	assert_memory_equal(m.payload.args, "[5]", 3);
	wamp_msg_clear(&m);

	/* a second answer to the same invocation is a late one: dropped, not an error */
	assert_int_equal(rf_dealer(f, 0, dealer_yield, "%s", json), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
	/* an invocation id never issued is a protocol violation */
	assert_int_equal(rf_dealer(f, 0, dealer_yield, "[70, 999, {}]"), WAMPD_ERR_PROTOCOL);
}

static void test_no_such_procedure(void **state)
{
	struct realm_fixture *f = *state;

	assert_int_equal(rf_dealer(f, 1, dealer_call, "[48, 1, {}, \"com.none\"]"),
	                 WAMPD_ERR_NO_SUCH_PROCEDURE);
	assert_int_equal(rf_dealer(f, 1, dealer_call, "[48, 1, {}, \"com..none\"]"),
	                 WAMPD_ERR_INVALID_URI);
	assert_int_equal(rf_dealer(f, 1, dealer_register, "[64, 1, {}, \"wamp.mine\"]"),
	                 WAMPD_ERR_INVALID_URI);
}

static void test_callee_error_forwarded(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv;

	rf_register(f, 0, "{}", "com.fail");
	inv = call(f, 1, 0, 21, "com.fail");
	assert_int_equal(rf_dealer(f, 0, dealer_error,
	                           "[8, 68, %llu, {\"x\": 1}, \"com.myapp.error\", [\"bad\"], "
	                           "{\"why\": \"because\"}]", (unsigned long long)inv), WAMPD_OK);
	rf_expect(f, 1, WAMP_ERROR, &m);
	assert_int_equal(m.id[0], WAMP_CALL);
	assert_int_equal(m.id[1], 21);
	assert_string_equal(m.uri, "com.myapp.error");
	assert_memory_equal(m.payload.args, "[\"bad\"]", 7);
	assert_memory_equal(m.payload.kwargs, "{\"why\": \"because\"}", 17);
	assert_int_equal(json_integer_value(json_object_get(m.dict, "x")), 1);
	wamp_msg_clear(&m);

	/* ERROR for anything but an INVOCATION is a protocol violation */
	assert_int_equal(rf_dealer(f, 0, dealer_error, "[8, 48, 1, {}, \"com.e\"]"),
	                 WAMPD_ERR_PROTOCOL);
}

static void test_cross_serializer_call(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv;

	rf_register(f, 3, "{}", "com.mp"); /* msgpack callee */
	assert_int_equal(rf_dealer(f, 1, dealer_call,
	                           "[48, 1, {}, \"com.mp\", [\"\\u0000AQID\", 7]]"), WAMPD_OK);
	rf_expect(f, 3, WAMP_INVOCATION, &m);
	inv = m.id[0];
	/* binary arrives as msgpack bin */
	assert_memory_equal(m.payload.args, "\x92\xc4\x03\x01\x02\x03\x07", 7);
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 3, dealer_yield, "[70, %llu, {}, [\"\\u0000BAU=\"]]",
	                           (unsigned long long)inv), WAMPD_OK);
	rf_expect(f, 1, WAMP_RESULT, &m);
	assert_memory_equal(m.payload.args, "[\"\\u0000BAU=\"]", 13);
	wamp_msg_clear(&m);
}

static void test_callee_leaves_cancels(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	rf_register(f, 0, "{}", "com.slow");
	call(f, 1, 0, 31, "com.slow");
	call(f, 2, 0, 32, "com.slow");
	realm_leave(f->p[0].s);
	rf_expect(f, 1, WAMP_ERROR, &m);
	assert_int_equal(m.id[0], WAMP_CALL);
	assert_int_equal(m.id[1], 31);
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	rf_expect(f, 2, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	assert_int_equal(f->p[1].s->ncalls, 0);
	assert_int_equal(rf_dealer(f, 1, dealer_call, "[48, 33, {}, \"com.slow\"]"),
	                 WAMPD_ERR_NO_SUCH_PROCEDURE);
	assert_int_equal(realm_join(f->r, f->p[0].s), WAMPD_OK);
}

static void test_caller_leaves_late_yield_dropped(void **state)
{
	struct realm_fixture *f = *state;
	uint64_t inv;

	rf_register(f, 0, "{}", "com.slow");
	inv = call(f, 1, 0, 41, "com.slow");
	realm_leave(f->p[1].s);
	assert_int_equal(rf_dealer(f, 0, dealer_yield, "[70, %llu, {}, [1]]",
	                           (unsigned long long)inv), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
	assert_null(f->p[0].s->invocations);
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
}

/* The dealer's metrics: pending calls (gauge), latency observed for answered calls only,
 * INVOCATION/RESULT counted as sent. */
static void test_metrics(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv1, inv2, inv3;

	memset(&f->metrics, 0, sizeof(f->metrics));
	rf_register(f, 0, "{}", "com.m");
	inv1 = call(f, 1, 0, 51, "com.m");
	inv2 = call(f, 2, 0, 52, "com.m");
	assert_int_equal(f->metrics.pending_calls, 2);
	assert_int_equal(f->metrics.msgs_out[WAMP_INVOCATION], 2);
	assert_int_equal(rf_dealer(f, 0, dealer_yield, "[70, %llu, {\"progress\": true}, [1]]",
	                           (unsigned long long)inv1),
	                 WAMPD_OK); /* progress: still pending */
	assert_int_equal(f->metrics.pending_calls, 2);
	assert_int_equal(f->metrics.call_latency.count, 0);
	assert_int_equal(rf_dealer(f, 0, dealer_yield, "[70, %llu, {}, [1]]",
	                           (unsigned long long)inv1), WAMPD_OK);
	rf_expect(f, 1, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	assert_int_equal(f->metrics.pending_calls, 1);
	assert_int_equal(f->metrics.call_latency.count, 1);
	assert_int_equal(f->metrics.msgs_out[WAMP_RESULT], 1);
	assert_int_equal(rf_dealer(f, 0, dealer_error, "[8, 68, %llu, {}, \"com.err\"]",
	                           (unsigned long long)inv2), WAMPD_OK);
	rf_expect(f, 2, WAMP_ERROR, &m);
	wamp_msg_clear(&m);
	assert_int_equal(f->metrics.pending_calls, 0);
	assert_int_equal(f->metrics.call_latency.count, 2);
	/* a call whose caller left is not a latency sample, and stops being pending when the
	 * callee's late answer is dropped */
	inv3 = call(f, 1, 0, 53, "com.m");
	assert_int_equal(f->metrics.pending_calls, 1);
	realm_leave(f->p[1].s);
	assert_int_equal(rf_dealer(f, 0, dealer_yield, "[70, %llu, {}, [1]]",
	                           (unsigned long long)inv3), WAMPD_OK);
	assert_int_equal(f->metrics.pending_calls, 0);
	assert_int_equal(f->metrics.call_latency.count, 2);
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
}

static void test_request_id_reuse_and_limit(void **state)
{
	struct realm_fixture *f = *state;

	rf_register(f, 0, "{}", "com.p");
	call(f, 1, 0, 51, "com.p");
	assert_int_equal(rf_dealer(f, 1, dealer_call, "[48, 51, {}, \"com.p\"]"),
	                 WAMPD_ERR_PROTOCOL);
	call(f, 1, 0, 52, "com.p");
	assert_int_equal(rf_dealer(f, 1, dealer_call, "[48, 53, {}, \"com.p\"]"), WAMPD_ERR_LIMIT);
}

/* A callee that stops answering holds at most max_pending_calls_per_callee calls; an
 * answer frees a slot. */
static void test_pending_per_callee_limit(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv;

	rf_register(f, 0, "{}", "com.p");
	inv = call(f, 1, 0, 1, "com.p");
	call(f, 1, 0, 2, "com.p");
	call(f, 2, 0, 1, "com.p");
	assert_int_equal(rf_dealer(f, 2, dealer_call, "[48, 2, {}, \"com.p\"]"), WAMPD_ERR_LIMIT);
	assert_int_equal(rf_dealer(f, 3, dealer_call, "[48, 1, {}, \"com.p\"]"), WAMPD_ERR_LIMIT);
	assert_int_equal(rf_dealer(f, 0, dealer_yield, "[70, %llu, {}]", (unsigned long long)inv),
	                 WAMPD_OK);
	rf_expect(f, 1, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	call(f, 3, 0, 1, "com.p");
}

static void test_unregister(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	char json[128];
	uint64_t id = rf_register(f, 0, "{}", "com.u");

	snprintf(json, sizeof(json), "[66, 8, %llu]", (unsigned long long)id);
	assert_int_equal(rf_dealer(f, 1, dealer_unregister, "%s", json),
	                 WAMPD_ERR_NO_SUCH_REGISTRATION);
	assert_int_equal(rf_dealer(f, 0, dealer_unregister, "%s", json), WAMPD_OK);
	rf_expect(f, 0, WAMP_UNREGISTERED, &m);
	assert_int_equal(m.id[0], 8);
	wamp_msg_clear(&m);
	assert_null(dealer_registration(&f->r->dealer, id));
	assert_int_equal(rf_dealer(f, 0, dealer_unregister, "%s", json),
	                 WAMPD_ERR_NO_SUCH_REGISTRATION);
	rf_register(f, 1, "{}", "com.u"); /* free again */
}

static void test_unknown_options_refused(void **state)
{
	struct realm_fixture *f = *state;

	assert_int_equal(rf_dealer(f, 0, dealer_register,
	                           "[64, 1, {\"invoke\": \"sometimes\"}, \"a.b\"]"),
	                 WAMPD_ERR_OPTION_NOT_ALLOWED);
	assert_int_equal(rf_dealer(f, 0, dealer_register,
	                           "[64, 1, {\"match\": \"regex\"}, \"a.b\"]"),
	                 WAMPD_ERR_OPTION_NOT_ALLOWED);
}

/* #17: no registration may reach the reserved wamp. namespace, whatever its match policy
 * (a prefix "wam" would otherwise catch calls to wamp.* procedures the router lacks) */
static void test_reserved_namespace(void **state)
{
	static const char *const refused[] = {
		"[64, 1, {}, \"wamp.x\"]",
		"[64, 1, {\"match\": \"prefix\"}, \"wamp.\"]",
		"[64, 1, {\"match\": \"prefix\"}, \"wamp.session.x\"]",
		"[64, 1, {\"match\": \"prefix\"}, \"wamp\"]",
		"[64, 1, {\"match\": \"prefix\"}, \"wam\"]",
		"[64, 1, {\"match\": \"prefix\"}, \"w\"]",
		"[64, 1, {\"match\": \"wildcard\"}, \".session.count\"]",
		"[64, 1, {\"match\": \"wildcard\"}, \"wamp..\"]",
		"[64, 1, {\"match\": \"wildcard\"}, \"..\"]",
		"[64, 1, {\"match\": \"wildcard\"}, \".x\"]",
		"[64, 1, {\"match\": \"wildcard\"}, \"wamp.\"]",
	};
	static const char *const fine[] = {
		"[64, 2, {}, \"wamp\"]",
		"[64, 2, {\"match\": \"prefix\"}, \"wampx\"]",
		"[64, 2, {\"match\": \"prefix\"}, \"com.wamp.\"]",
		"[64, 2, {\"match\": \"wildcard\"}, \"wampx.\"]",
		"[64, 2, {\"match\": \"wildcard\"}, \"x.wamp\"]",
		"[64, 2, {\"match\": \"wildcard\"}, \"com..\"]",
		"[64, 2, {\"match\": \"wildcard\"}, \"\"]",
	};
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		if (rf_dealer(f, 0, dealer_register, "%s", refused[i]) != WAMPD_ERR_INVALID_URI)
			fail_msg("%s was not refused", refused[i]);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	for (size_t i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		enum wampd_err err = rf_dealer(f, 0, dealer_register, "%s", fine[i]);

		/* "" is no valid pattern at all: refused as such, not as reserved */
		if (i == sizeof(fine) / sizeof(fine[0]) - 1) {
			assert_int_equal(err, WAMPD_ERR_INVALID_URI);
			continue;
		}
		if (err != WAMPD_OK)
			fail_msg("%s refused: %s", fine[i], wampd_err_uri(err));
		rf_expect(f, 0, WAMP_REGISTERED, &m);
		wamp_msg_clear(&m);
	}
	/* a wamp.* procedure the router lacks reaches no callee */
	assert_int_equal(rf_dealer(f, 1, dealer_call, "[48, 3, {}, \"wamp.session.nope\"]"),
	                 WAMPD_ERR_NO_SUCH_PROCEDURE);
}

/* #17 finding 5: a pattern registration is authorized on everything it can reach */
static void test_pattern_registration_authorized(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	rf_allow(f, "svc", "com.svc.", AUTHZ_PREFIX, "cr");
	rf_allow(f, "svc", "com.svc.admin", AUTHZ_EXACT, "");
	rf_allow(f, "svc", "com.pub.news", AUTHZ_EXACT, "r");
	rf_set_role(f, 0, "svc");

	assert_int_equal(rf_dealer(f, 0, dealer_register,
	                           "[64, 1, {\"match\": \"prefix\"}, \"com.svc.\"]"),
	                 WAMPD_ERR_NOT_AUTHORIZED); /* reaches com.svc.admin */
	assert_int_equal(rf_dealer(f, 0, dealer_register,
	                           "[64, 1, {\"match\": \"wildcard\"}, \"com.svc.\"]"),
	                 WAMPD_ERR_NOT_AUTHORIZED);
	assert_int_equal(rf_dealer(f, 0, dealer_register,
	                           "[64, 1, {\"match\": \"prefix\"}, \"com.pub.news\"]"),
	                 WAMPD_ERR_NOT_AUTHORIZED); /* an exact grant only */
	assert_int_equal(rf_dealer(f, 0, dealer_register, "[64, 1, {}, \"com.svc.admin\"]"),
	                 WAMPD_ERR_NOT_AUTHORIZED);
	assert_int_equal(rf_dealer(f, 1, dealer_register, "[64, 1, {}, \"com.pub.news\"]"),
	                 WAMPD_ERR_NOT_AUTHORIZED); /* no role */
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(rf_dealer(f, 0, dealer_register,
	                           "[64, 2, {\"match\": \"prefix\"}, \"com.svc.pub.\"]"), WAMPD_OK);
	rf_expect(f, 0, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_register, "[64, 3, {}, \"com.pub.news\"]"),
	                 WAMPD_OK);
	rf_expect(f, 0, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_register,
	                           "[64, 4, {\"match\": \"wildcard\"}, \"com.svc..x\"]"), WAMPD_OK);
	rf_expect(f, 0, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
}

/* WELCOME's dealer features: testaments work, so they are announced */
static void test_features(void **state)
{
	json_t *features = dealer_features();

	(void)state;
	assert_true(json_is_true(json_object_get(features, "testament_meta_api")));
	assert_true(json_is_true(json_object_get(features, "session_meta_api")));
	json_decref(features);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_register_and_call, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_no_such_procedure, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_callee_error_forwarded, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_cross_serializer_call, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_callee_leaves_cancels, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_caller_leaves_late_yield_dropped, setup,
		                                rf_teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_request_id_reuse_and_limit, setup,
		                                rf_teardown),
		cmocka_unit_test_setup_teardown(test_pending_per_callee_limit, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_unregister, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_options_refused, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_reserved_namespace, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_pattern_registration_authorized, setup,
		                                rf_teardown),
		cmocka_unit_test(test_features),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
