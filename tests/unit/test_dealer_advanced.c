/*
 * test_dealer_advanced.c - Advanced Profile RPC: shared registrations (each invocation
 * policy, fairness, removal while rotating), pattern-based registrations, progressive
 * results and invocations, call canceling (skip, kill, killnowait), call timeouts on a fake
 * clock, caller identification, registration revocation.
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
#include "tests/lib/fake_timers.h"
#include "tests/lib/realm_fixture.h"

#define N 5

/* five JSON sessions (alice, then bob four times, all "user") announcing every advanced
 * RPC feature, on the fake clock */
static int setup(void **state)
{
	struct rf_spec spec = RF_SPEC(N);

	spec.timers = true;
	for (int i = 0; i < N; i++) {
		spec.peers[i].authid = i == 0 ? "alice" : "bob";
		spec.peers[i].authrole = "user";
		spec.peers[i].features = SF_CALLER_PROGRESSIVE_RESULTS |
		                         SF_CALLEE_PROGRESSIVE_RESULTS | SF_CALLEE_CALL_CANCELING |
		                         SF_CALLEE_PROGRESSIVE_INVOCATIONS |
		                         SF_CALLER_PROGRESSIVE_INVOCATIONS |
		                         SF_CALLEE_REGISTRATION_REVOCATION;
	}
	return rf_setup(state, &spec);
}

/* Which callee (index) received the next INVOCATION; returns its invocation id in *inv. */
static int who_got_invocation(struct realm_fixture *f, uint64_t *inv, struct wamp_msg *out)
{
	*inv = 0; /* callers read it even when fail_msg() below ends the test */
	for (int i = 0; i < N; i++) {
		if (fake_peer_pending(&f->p[i])) {
			struct wamp_msg m;

			rf_expect(f, i, WAMP_INVOCATION, &m);
			*inv = m.id[0];
			if (out)
				*out = m;
			else
				wamp_msg_clear(&m);
			return i;
		}
	}
	fail_msg("no invocation sent");
	return -1;
}

static void test_shared_roundrobin_fair_and_removal(void **state)
{
	struct realm_fixture *f = *state;
	int hits[N] = {0};
	uint64_t inv, regid;

	regid = rf_register(f, 1, "{\"invoke\": \"roundrobin\"}", "com.rr");
	assert_int_equal(rf_register(f, 2, "{\"invoke\": \"roundrobin\"}", "com.rr"), regid);
	assert_int_equal(rf_register(f, 3, "{\"invoke\": \"roundrobin\"}", "com.rr"), regid);
	/* a different policy on the same URI is refused */
	assert_int_equal(rf_dealer(f, 4, dealer_register,
	                           "[64, 1, {\"invoke\": \"random\"}, \"com.rr\"]"),
	                 WAMPD_ERR_PROCEDURE_EXISTS);
	/* and so is a second registration by the same callee */
	assert_int_equal(rf_dealer(f, 1, dealer_register,
	                           "[64, 1, {\"invoke\": \"roundrobin\"}, \"com.rr\"]"),
	                 WAMPD_ERR_PROCEDURE_EXISTS);

	for (int i = 0; i < 30; i++) {
		assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, %d, {}, \"com.rr\"]", 100 + i),
		                 WAMPD_OK);
		hits[who_got_invocation(f, &inv, NULL)]++;
	}
	assert_int_equal(hits[1] + hits[2] + hits[3], 30);
	assert_int_equal(hits[1], 10);
	assert_int_equal(hits[2], 10);
	assert_int_equal(hits[3], 10);

	/* remove the callee that is next in the rotation: no callee skipped or repeated */
	struct registration *r = dealer_registration(&f->r->dealer, regid);
	int next = 1;

	for (int i = 1; i <= 3; i++)
		if (r->rr_next && r->rr_next->session == f->p[i].s)
			next = i;
	assert_int_equal(rf_dealer(f, next, dealer_unregister, "[66, 9, %llu]",
	                           (unsigned long long)regid), WAMPD_OK);
	rf_drain(f);
	int seen[N] = {0};
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, %d, {}, \"com.rr\"]", 5000 + i),
		                 WAMPD_OK);
		seen[who_got_invocation(f, &inv, NULL)]++;
	}
	assert_int_equal(seen[next], 0);
	for (int i = 1; i <= 3; i++)
		if (i != next)
			assert_int_equal(seen[i], 2);
}

static void test_shared_first_last_random_single(void **state)
{
	struct realm_fixture *f = *state;
	uint64_t inv;
	int hits[N] = {0};

	rf_register(f, 1, "{\"invoke\": \"first\"}", "com.first");
	rf_register(f, 2, "{\"invoke\": \"first\"}", "com.first");
	rf_register(f, 1, "{\"invoke\": \"last\"}", "com.last");
	rf_register(f, 2, "{\"invoke\": \"last\"}", "com.last");
	rf_register(f, 3, "{\"invoke\": \"last\"}", "com.last");
	rf_register(f, 1, "{\"invoke\": \"random\"}", "com.random");
	rf_register(f, 2, "{\"invoke\": \"random\"}", "com.random");
	rf_register(f, 1, "{}", "com.single");
	assert_int_equal(rf_dealer(f, 2, dealer_register, "[64, 1, {}, \"com.single\"]"),
	                 WAMPD_ERR_PROCEDURE_EXISTS);

	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 1, {}, \"com.first\"]"), WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv, NULL), 1);
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 2, {}, \"com.last\"]"), WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv, NULL), 3);
	for (int i = 0; i < 200; i++) {
		assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, %d, {}, \"com.random\"]",
		                           10 + i), WAMPD_OK);
		hits[who_got_invocation(f, &inv, NULL)]++;
	}
	assert_true(hits[1] > 40 && hits[2] > 40); /* both drawn (p of failing < 1e-15) */

	/* the last callee of "last" leaves (its pending call is canceled): the previous one
	 * takes over */
	realm_leave(f->p[3].s);
	struct wamp_msg m;
	rf_expect(f, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 999, {}, \"com.last\"]"), WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv, NULL), 2);
	assert_int_equal(realm_join(f->r, f->p[3].s), WAMPD_OK);
}

static void test_pattern_registration(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv;

	rf_register(f, 1, "{\"match\": \"prefix\"}", "com.app");
	rf_register(f, 2, "{\"match\": \"wildcard\"}", "com..get");
	rf_register(f, 3, "{}", "com.app.exact");
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 1, {}, \"com.app.exact\"]"), WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv, &m), 3);
	assert_null(json_object_get(m.dict, "procedure")); /* exact: not repeated */
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 2, {}, \"com.app.other\"]"), WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv, &m), 1);
	assert_string_equal(wamp_dict_str(m.dict, "procedure", ""), "com.app.other");
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 3, {}, \"com.users.get\"]"), WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv, &m), 2);
	assert_string_equal(wamp_dict_str(m.dict, "procedure", ""), "com.users.get");
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 4, {}, \"com.users.put\"]"),
	                 WAMPD_ERR_NO_SUCH_PROCEDURE);
	/* a pattern must still be a valid pattern */
	assert_int_equal(rf_dealer(f, 1, dealer_register,
	                           "[64, 1, {\"match\": \"prefix\"}, \"com app\"]"),
	                 WAMPD_ERR_INVALID_URI);
	assert_int_equal(rf_dealer(f, 1, dealer_register, "[64, 1, {}, \"com..get\"]"),
	                 WAMPD_ERR_INVALID_URI);
}

static void test_progressive_results(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv;

	rf_register(f, 1, "{}", "com.stream");
	assert_int_equal(rf_dealer(f, 0, dealer_call,
	                           "[48, 7, {\"receive_progress\": true}, \"com.stream\"]"),
	                 WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv, &m), 1);
	assert_true(wamp_dict_bool(m.dict, "receive_progress", false));
	wamp_msg_clear(&m);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rf_dealer(f, 1, dealer_yield,
		                           "[70, %llu, {\"progress\": true}, [%d]]",
		                           (unsigned long long)inv, i), WAMPD_OK);
		rf_expect(f, 0, WAMP_RESULT, &m);
		assert_int_equal(m.id[0], 7);
		assert_true(wamp_dict_bool(m.dict, "progress", false));
		wamp_msg_clear(&m);
	}
	assert_int_equal(rf_dealer(f, 1, dealer_yield, "[70, %llu, {}, [\"done\"]]",
	                           (unsigned long long)inv), WAMPD_OK);
	rf_expect(f, 0, WAMP_RESULT, &m);
	assert_false(wamp_dict_bool(m.dict, "progress", false));
	wamp_msg_clear(&m);
	assert_int_equal(f->p[0].s->ncalls, 0);

	/* a caller that did not ask for progress never sees chunks, only the final result */
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 8, {}, \"com.stream\"]"), WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv, &m), 1);
	assert_false(wamp_dict_bool(m.dict, "receive_progress", false));
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 1, dealer_yield, "[70, %llu, {\"progress\": true}, [1]]",
	                     (unsigned long long)inv), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(rf_dealer(f, 1, dealer_yield, "[70, %llu, {}, [2]]",
	                           (unsigned long long)inv), WAMPD_OK);
	rf_expect(f, 0, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
}

static void test_progressive_invocations(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv, inv2;

	rf_register(f, 1, "{\"invoke\": \"roundrobin\"}", "com.upload");
	rf_register(f, 2, "{\"invoke\": \"roundrobin\"}", "com.upload");
	assert_int_equal(rf_dealer(f, 0, dealer_call,
	                           "[48, 11, {\"progress\": true}, \"com.upload\", [1]]"),
	                 WAMPD_OK);
	int callee = who_got_invocation(f, &inv, &m);
	assert_true(wamp_dict_bool(m.dict, "progress", false));
	wamp_msg_clear(&m);
	/* continuations go to the same callee with the same invocation id */
	assert_int_equal(rf_dealer(f, 0, dealer_call,
	                           "[48, 11, {\"progress\": true}, \"com.upload\", [2]]"),
	                 WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv2, &m), callee);
	assert_int_equal(inv2, inv);
	assert_memory_equal(m.payload.args, "[2]", 3);
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 11, {}, \"com.upload\", [3]]"),
	                 WAMPD_OK);
	assert_int_equal(who_got_invocation(f, &inv2, &m), callee);
	assert_false(wamp_dict_bool(m.dict, "progress", false));
	wamp_msg_clear(&m);
	/* the call is no longer open for chunks: the same id again is a protocol violation */
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 11, {}, \"com.upload\"]"),
	                 WAMPD_ERR_PROTOCOL);
	assert_int_equal(rf_dealer(f, callee, dealer_yield, "[70, %llu, {}, [\"ok\"]]",
	                           (unsigned long long)inv), WAMPD_OK);
	rf_expect(f, 0, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	/* a late continuation of the completed call is discarded silently */
	assert_int_equal(rf_dealer(f, 0, dealer_call,
	                           "[48, 11, {\"progress\": true}, \"com.upload\"]"), WAMPD_OK);
	for (int i = 0; i < N; i++)
		assert_int_equal(fake_peer_pending(&f->p[i]), 0);

	/* a callee without the feature: wamp.error.feature_not_supported */
	f->p[3].s->features = 0;
	rf_register(f, 3, "{}", "com.plain");
	assert_int_equal(rf_dealer(f, 0, dealer_call,
	                           "[48, 12, {\"progress\": true}, \"com.plain\"]"),
	                 WAMPD_ERR_FEATURE_NOT_SUPPORTED);
	/* a caller without the feature sending progress: protocol violation */
	f->p[4].s->features = 0;
	assert_int_equal(rf_dealer(f, 4, dealer_call,
	                           "[48, 1, {\"progress\": true}, \"com.upload\"]"),
	                 WAMPD_ERR_PROTOCOL);
}

static void test_cancel_modes(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv;

	rf_register(f, 1, "{}", "com.long");
	/* skip: ERROR now, callee not told, its answer dropped */
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 21, {}, \"com.long\"]"), WAMPD_OK);
	who_got_invocation(f, &inv, NULL);
	assert_int_equal(rf_dealer(f, 0, dealer_cancel, "[49, 21, {\"mode\": \"skip\"}]"),
	                 WAMPD_OK);
	rf_expect(f, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.canceled");
	assert_int_equal(m.id[1], 21);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
	assert_int_equal(rf_dealer(f, 1, dealer_yield, "[70, %llu, {}]", (unsigned long long)inv),
	                 WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);

	/* killnowait: INTERRUPT and ERROR now, answer dropped */
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 22, {}, \"com.long\"]"), WAMPD_OK);
	who_got_invocation(f, &inv, NULL);
	assert_int_equal(rf_dealer(f, 0, dealer_cancel, "[49, 22, {\"mode\": \"killnowait\"}]"),
	                 WAMPD_OK);
	rf_expect(f, 1, WAMP_INTERRUPT, &m);
	assert_int_equal(m.id[0], inv);
	assert_string_equal(wamp_dict_str(m.dict, "mode", ""), "killnowait");
	wamp_msg_clear(&m);
	rf_expect(f, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 1, dealer_error, "[8, 68, %llu, {}, \"wamp.error.canceled\"]",
	                     (unsigned long long)inv), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);

	/* kill: INTERRUPT now, the callee's answer is the caller's answer */
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 23, {}, \"com.long\"]"), WAMPD_OK);
	who_got_invocation(f, &inv, NULL);
	assert_int_equal(rf_dealer(f, 0, dealer_cancel, "[49, 23, {\"mode\": \"kill\"}]"),
	                 WAMPD_OK);
	rf_expect(f, 1, WAMP_INTERRUPT, &m);
	assert_string_equal(wamp_dict_str(m.dict, "mode", ""), "kill");
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(rf_dealer(f, 1, dealer_error,
	                           "[8, 68, %llu, {}, \"wamp.error.canceled\", [\"stopped\"]]",
	                           (unsigned long long)inv), WAMPD_OK);
	rf_expect(f, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.canceled");
	assert_memory_equal(m.payload.args, "[\"stopped\"]", 11);
	wamp_msg_clear(&m);

	/* a callee without call_canceling: kill degrades to skip */
	f->p[1].s->features = 0;
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 24, {}, \"com.long\"]"), WAMPD_OK);
	who_got_invocation(f, &inv, NULL);
	assert_int_equal(rf_dealer(f, 0, dealer_cancel, "[49, 24, {\"mode\": \"kill\"}]"),
	                 WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
	rf_expect(f, 0, WAMP_ERROR, &m);
	wamp_msg_clear(&m);

	/* canceling something already answered does nothing; a bad mode is an error */
	assert_int_equal(rf_dealer(f, 0, dealer_cancel, "[49, 24, {}]"), WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(rf_dealer(f, 0, dealer_cancel, "[49, 24, {\"mode\": \"nuke\"}]"),
	                 WAMPD_ERR_INVALID_ARGUMENT);
}

static void test_call_timeout(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv;

	rf_register(f, 1, "{}", "com.slow");
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 31, {\"timeout\": 1000}, \"com.slow\"]"),
	                 WAMPD_OK);
	who_got_invocation(f, &inv, NULL);
	assert_int_equal(fake_timers_pending(), 1);
	fake_timers_advance(999);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	fake_timers_advance(1);
	rf_expect(f, 1, WAMP_INTERRUPT, &m);
	assert_string_equal(wamp_dict_str(m.dict, "mode", ""), "killnowait");
	wamp_msg_clear(&m);
	rf_expect(f, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.timeout");
	assert_int_equal(m.id[1], 31);
	wamp_msg_clear(&m);
	/* the late YIELD is dropped */
	assert_int_equal(rf_dealer(f, 1, dealer_yield, "[70, %llu, {}]", (unsigned long long)inv),
	                 WAMPD_OK);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);

	/* answered in time: the timer is gone */
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 32, {\"timeout\": 1000}, \"com.slow\"]"),
	                 WAMPD_OK);
	who_got_invocation(f, &inv, NULL);
	assert_int_equal(rf_dealer(f, 1, dealer_yield, "[70, %llu, {}]", (unsigned long long)inv),
	                 WAMPD_OK);
	assert_int_equal(fake_timers_pending(), 0);
	rf_expect(f, 0, WAMP_RESULT, &m);
	wamp_msg_clear(&m);

	/* forward_timeout: the callee gets the timeout and the dealer keeps no timer */
	rf_register(f, 2, "{\"forward_timeout\": true}", "com.fwd");
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 33, {\"timeout\": 500}, \"com.fwd\"]"),
	                 WAMPD_OK);
	who_got_invocation(f, &inv, &m);
	assert_int_equal(wamp_dict_int(m.dict, "timeout", 0), 500);
	wamp_msg_clear(&m);
	assert_int_equal(fake_timers_pending(), 0);

	/* the realm default applies when the CALL has none */
	f->r->call_timeout_ms = 200;
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 34, {}, \"com.slow\"]"), WAMPD_OK);
	who_got_invocation(f, &inv, NULL);
	fake_timers_advance(200);
	rf_drain(f);
	assert_int_equal(f->p[0].s->ncalls, 1); /* com.fwd still pending */
	f->r->call_timeout_ms = 0;
}

static void test_caller_identification(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv;

	rf_register(f, 1, "{}", "com.who");
	rf_register(f, 2, "{\"disclose_caller\": true}", "com.who2");
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 41, {}, \"com.who\"]"), WAMPD_OK);
	who_got_invocation(f, &inv, &m);
	assert_null(json_object_get(m.dict, "caller"));
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_call,
	                           "[48, 42, {\"disclose_me\": true}, \"com.who\"]"), WAMPD_OK);
	who_got_invocation(f, &inv, &m);
	assert_int_equal(wamp_dict_int(m.dict, "caller", 0), (int64_t)f->p[0].s->id);
	assert_string_equal(wamp_dict_str(m.dict, "caller_authid", ""), "alice");
	assert_string_equal(wamp_dict_str(m.dict, "caller_authrole", ""), "user");
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 0, dealer_call, "[48, 43, {}, \"com.who2\"]"), WAMPD_OK);
	who_got_invocation(f, &inv, &m);
	assert_int_equal(wamp_dict_int(m.dict, "caller", 0), (int64_t)f->p[0].s->id);
	wamp_msg_clear(&m);
}

static void test_revocation_and_caller_leaving(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	uint64_t inv, regid = rf_register(f, 1, "{}", "com.rev");

	dealer_revoke(&f->r->dealer, dealer_registration(&f->r->dealer, regid), f->p[1].s,
	              "wamp.error.admin");
	rf_expect(f, 1, WAMP_UNREGISTERED, &m);
	assert_int_equal(m.id[0], 0);
	assert_int_equal(wamp_dict_int(m.dict, "registration", 0), (int64_t)regid);
	assert_string_equal(wamp_dict_str(m.dict, "reason", ""), "wamp.error.admin");
	wamp_msg_clear(&m);
	assert_null(dealer_registration(&f->r->dealer, regid));

	/* caller leaving: the callee gets INTERRUPT killnowait */
	rf_register(f, 2, "{}", "com.work");
	assert_int_equal(rf_dealer(f, 3, dealer_call, "[48, 51, {\"timeout\": 5000}, \"com.work\"]"),
	                 WAMPD_OK);
	who_got_invocation(f, &inv, NULL);
	realm_leave(f->p[3].s);
	rf_expect(f, 2, WAMP_INTERRUPT, &m);
	assert_string_equal(wamp_dict_str(m.dict, "mode", ""), "killnowait");
	wamp_msg_clear(&m);
	assert_int_equal(rf_dealer(f, 2, dealer_yield, "[70, %llu, {}]", (unsigned long long)inv),
	                 WAMPD_OK);
	assert_int_equal(fake_timers_pending(), 0);
	assert_int_equal(realm_join(f->r, f->p[3].s), WAMPD_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_shared_roundrobin_fair_and_removal, setup,
		                                rf_teardown),
		cmocka_unit_test_setup_teardown(test_shared_first_last_random_single, setup,
		                                rf_teardown),
		cmocka_unit_test_setup_teardown(test_pattern_registration, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_progressive_results, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_progressive_invocations, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_cancel_modes, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_call_timeout, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_caller_identification, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_revocation_and_caller_leaving, setup,
		                                rf_teardown),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
