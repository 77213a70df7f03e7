/*
 * test_meta.c - the meta API: session/registration/subscription procedures, meta events
 * (and that each is sent only after its state is visible), testaments.
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

#define N 4

/* joe (0, 1) and ann (2, 3), users but for the admin 3 */
static int setup(void **state)
{
	struct rf_spec spec = RF_SPEC(N);

	for (int i = 0; i < N; i++) {
		spec.peers[i].authid = i < 2 ? "joe" : "ann";
		spec.peers[i].authrole = i == 3 ? "admin" : "user";
		spec.peers[i].authmethod = "anonymous";
		spec.peers[i].authprovider = "static";
	}
	return rf_setup(state, &spec);
}

/* Call a meta procedure as session `who`; returns the RESULT's args (new ref) or NULL
 * when it answered ERROR (whose URI is copied to err_uri if given). */
static json_t *call(struct realm_fixture *f, int who, char *err_uri, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static json_t *call(struct realm_fixture *f, int who, char *err_uri, const char *fmt, ...)
{
	struct wamp_msg m;
	enum wampd_err err;
	json_t *args = NULL;
	va_list ap;

	va_start(ap, fmt);
	err = rf_vfeed(f, who, (struct rf_handler){.dealer = dealer_call}, fmt, ap);
	va_end(ap);
	if (err != WAMPD_OK) {
		if (err_uri)
			strcpy(err_uri, wampd_err_uri(err));
		return NULL;
	}
	assert_true(fake_peer_next(&f->p[who], &m));
	if (m.type == WAMP_ERROR && err_uri) { /* answered by the procedure itself */
		strcpy(err_uri, m.uri);
		wamp_msg_clear(&m);
		return NULL;
	}
	if (m.type != WAMP_RESULT)
		fail_msg("%s answered %s %s", fmt, wamp_type_name(m.type), m.uri ? m.uri : "");
	args = wamp_payload_args(&m.payload, &err);
	wamp_msg_clear(&m);
	return args ? args : json_array();
}

static int64_t int0(json_t *args)
{
	int64_t v = json_integer_value(json_array_get(args, 0));

	json_decref(args);
	return v;
}

static void test_session_procedures(void **state)
{
	struct realm_fixture *f = *state;
	json_t *r;
	char uri[64] = "";

	assert_int_equal(int0(call(f, 0, NULL, "[48, 1, {}, \"wamp.session.count\"]")), N);
	assert_int_equal(int0(call(f, 0, NULL, "[48, 2, {}, \"wamp.session.count\", [[\"admin\"]]]")), 1);
	r = call(f, 0, NULL, "[48, 3, {}, \"wamp.session.list\"]");
	assert_int_equal(json_array_size(json_array_get(r, 0)), N);
	json_decref(r);
	r = call(f, 0, NULL, "[48, 4, {}, \"wamp.session.get\", [%llu]]",
	         (unsigned long long)f->p[3].s->id);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "authrole")), "admin");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(r, 0), "session")),
	                 (json_int_t)f->p[3].s->id);
	json_decref(r);
	assert_null(call(f, 0, uri, "[48, 5, {}, \"wamp.session.get\", [12345]]"));
	assert_string_equal(uri, "wamp.error.no_such_session");
	assert_null(call(f, 0, uri, "[48, 6, {}, \"wamp.session.get\", [\"x\"]]"));
	assert_string_equal(uri, "wamp.error.invalid_argument");
}

static void test_session_kill(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	json_t *r;
	char uri[64] = "";

	/* one's own session is not "another session" */
	assert_null(call(f, 0, uri, "[48, 1, {}, \"wamp.session.kill\", [%llu]]",
	                 (unsigned long long)f->p[0].s->id));
	assert_string_equal(uri, "wamp.error.no_such_session");
	r = call(f, 0, NULL, "[48, 2, {}, \"wamp.session.kill\", [%llu], {\"message\": \"bye\"}]",
	         (unsigned long long)f->p[2].s->id);
	json_decref(r);
	rf_expect(f, 2, WAMP_GOODBYE, &m);
	assert_string_equal(m.uri, "wamp.close.killed");
	assert_string_equal(wamp_dict_str(m.dict, "message", ""), "bye");
	wamp_msg_clear(&m);
	assert_true(f->p[2].closed);
	assert_int_equal(f->p[2].s->state, SESSION_CLOSING);
	/* killed sessions are gone for the procedures at once */
	assert_int_equal(int0(call(f, 0, NULL, "[48, 3, {}, \"wamp.session.count\"]")), N - 1);
	/* kill by authid excludes the caller: joe(0) kills joe(1) */
	r = call(f, 0, NULL, "[48, 4, {}, \"wamp.session.kill_by_authid\", [\"joe\"]]");
	assert_int_equal(json_array_size(json_array_get(r, 0)), 1);
	json_decref(r);
	assert_true(f->p[1].closed);
	assert_null(call(f, 0, uri, "[48, 5, {}, \"wamp.session.kill_all\", [], {\"reason\": \"bad uri\"}]"));
	assert_string_equal(uri, "wamp.error.invalid_uri");
	assert_int_equal(int0(call(f, 0, NULL, "[48, 6, {}, \"wamp.session.kill_by_authrole\", [\"admin\"]]")),
	                 1);
	assert_int_equal(int0(call(f, 0, NULL, "[48, 7, {}, \"wamp.session.count\"]")), 1);
	for (int i = 1; i < N; i++)
		f->p[i].s->state = SESSION_ESTABLISHED; /* let teardown leave normally */
}

static void test_registration_procedures(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	json_t *r;
	uint64_t regid;

	for (int i = 1; i <= 2; i++)
		assert_int_equal(rf_dealer(f, i, dealer_register, "[64, 1, {\"match\": \"prefix\", "
		                           "\"invoke\": \"roundrobin\"}, \"com.api\"]"), WAMPD_OK);
	rf_expect(f, 1, WAMP_REGISTERED, &m);
	regid = m.id[1];
	wamp_msg_clear(&m);

	r = call(f, 0, NULL, "[48, 1, {}, \"wamp.registration.list\"]");
	assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0), "prefix")), 1);
	assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0), "exact")), 0);
	json_decref(r);
	assert_int_equal(int0(call(f, 0, NULL, "[48, 2, {}, \"wamp.registration.lookup\", [\"com.api\", {\"match\": \"prefix\"}]]")),
	                 (int64_t)regid);
	r = call(f, 0, NULL, "[48, 3, {}, \"wamp.registration.lookup\", [\"com.api\"]]");
	assert_true(json_is_null(json_array_get(r, 0)));
	json_decref(r);
	assert_int_equal(int0(call(f, 0, NULL, "[48, 4, {}, \"wamp.registration.match\", [\"com.api.x\"]]")),
	                 (int64_t)regid);
	r = call(f, 0, NULL, "[48, 5, {}, \"wamp.registration.get\", [%llu]]", (unsigned long long)regid);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "match")), "prefix");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "invoke")), "roundrobin");
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "uri")), "com.api");
	json_decref(r);
	r = call(f, 0, NULL, "[48, 6, {}, \"wamp.registration.list_callees\", [%llu]]",
	         (unsigned long long)regid);
	assert_int_equal(json_array_size(json_array_get(r, 0)), 2);
	json_decref(r);
	assert_int_equal(int0(call(f, 0, NULL, "[48, 7, {}, \"wamp.registration.count_callees\", [%llu]]",
	                           (unsigned long long)regid)), 2);
	char uri[64];
	assert_null(call(f, 0, uri, "[48, 8, {}, \"wamp.registration.get\", [99999]]"));
	assert_string_equal(uri, "wamp.error.no_such_registration");
	/* meta procedures themselves are not listed and cannot be registered over */
	assert_int_equal(rf_dealer(f, 1, dealer_register, "[64, 1, {}, \"wamp.session.count\"]"),
	                 WAMPD_ERR_INVALID_URI);
}

static void test_subscription_procedures(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	json_t *r;
	uint64_t subid;

	assert_int_equal(rf_broker(f, 1, broker_subscribe,
	                           "[32, 1, {\"match\": \"wildcard\"}, \"com..x\"]"), WAMPD_OK);
	rf_expect(f, 1, WAMP_SUBSCRIBED, &m);
	subid = m.id[1];
	wamp_msg_clear(&m);
	r = call(f, 0, NULL, "[48, 1, {}, \"wamp.subscription.match\", [\"com.a.x\"]]");
	assert_int_equal(json_integer_value(json_array_get(json_array_get(r, 0), 0)), (json_int_t)subid);
	json_decref(r);
	r = call(f, 0, NULL, "[48, 2, {}, \"wamp.subscription.match\", [\"com.a.y\"]]");
	assert_true(json_is_null(json_array_get(r, 0)));
	json_decref(r);
	assert_int_equal(int0(call(f, 0, NULL, "[48, 3, {}, \"wamp.subscription.lookup\", [\"com..x\", {\"match\": \"wildcard\"}]]")),
	                 (int64_t)subid);
	assert_int_equal(int0(call(f, 0, NULL, "[48, 4, {}, \"wamp.subscription.count_subscribers\", [%llu]]",
	                           (unsigned long long)subid)), 1);
	r = call(f, 0, NULL, "[48, 5, {}, \"wamp.subscription.list_subscribers\", [%llu]]",
	         (unsigned long long)subid);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(r, 0), 0)),
	                 (json_int_t)f->p[1].s->id);
	json_decref(r);
	r = call(f, 0, NULL, "[48, 6, {}, \"wamp.subscription.get\", [%llu]]", (unsigned long long)subid);
	assert_string_equal(json_string_value(json_object_get(json_array_get(r, 0), "match")), "wildcard");
	json_decref(r);
	r = call(f, 0, NULL, "[48, 7, {}, \"wamp.subscription.list\"]");
	assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0), "wildcard")), 1);
	json_decref(r);
	r = call(f, 0, NULL, "[48, 8, {}, \"wamp.subscription.get_events\", [%llu]]",
	         (unsigned long long)subid);
	assert_int_equal(json_array_size(json_array_get(r, 0)), 0); /* no history configured */
	json_decref(r);
}

static void test_get_events(void **state)
{
	struct realm_fixture *f = *state;
	json_t *r, *events;
	uint64_t subid;

	assert_int_equal(broker_add_history(&f->r->broker, "com.hist", MATCH_EXACT, 10), WAMPD_OK);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rf_broker(f, 1, broker_publish,
		                           "[16, 1, {}, \"com.hist\", [%d], {\"n\": %d}]", i, i),
		                 WAMPD_OK);
	}
	subid = ((struct subscription *)match_get(&f->r->broker.index, "com.hist", 8, MATCH_EXACT))->id;
	r = call(f, 0, NULL, "[48, 1, {}, \"wamp.subscription.get_events\", [%llu], {\"limit\": 2}]",
	         (unsigned long long)subid);
	events = json_array_get(r, 0);
	assert_int_equal(json_array_size(events), 2);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(events, 0), "args"), 0)), 2);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(json_array_get(events, 1), "kwargs"), "n")), 3);
	json_decref(r);
	r = call(f, 0, NULL, "[48, 2, {}, \"wamp.subscription.get_events\", [%llu], {\"reverse\": true}]",
	         (unsigned long long)subid);
	events = json_array_get(r, 0);
	assert_int_equal(json_array_size(events), 4);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(json_array_get(events, 0), "args"), 0)), 3);
	json_decref(r);
}

static void test_meta_events(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	json_t *args;
	enum wampd_err err;
	static const char *const topics[] = {
		"wamp.session.on_join", "wamp.session.on_leave", "wamp.registration.on_create",
		"wamp.registration.on_register", "wamp.registration.on_unregister",
		"wamp.registration.on_delete", "wamp.subscription.on_create",
		"wamp.subscription.on_subscribe",
	};
	uint64_t ids[8];

	for (int i = 0; i < 8; i++) {
		assert_int_equal(rf_broker(f, 0, broker_subscribe, "[32, 1, {}, \"%s\"]", topics[i]),
		                 WAMPD_OK);
		rf_expect(f, 0, WAMP_SUBSCRIBED, &m);
		ids[i] = m.id[1];
		wamp_msg_clear(&m);
		f->p[0].taken = f->p[0].nsent; /* meta events about these very subscriptions */
	}

	/* register: on_create then on_register, with the registration visible */
	assert_int_equal(rf_dealer(f, 1, dealer_register, "[64, 1, {}, \"com.proc\"]"), WAMPD_OK);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], ids[2]);
	args = wamp_payload_args(&m.payload, &err);
	assert_int_equal(json_integer_value(json_array_get(args, 0)), (json_int_t)f->p[1].s->id);
	assert_string_equal(json_string_value(json_object_get(json_array_get(args, 1), "uri")), "com.proc");
	json_decref(args);
	wamp_msg_clear(&m);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], ids[3]);
	wamp_msg_clear(&m);

	/* the callee leaves: on_unregister, on_delete, on_leave (in that order) */
	uint64_t left = f->p[1].s->id;
	realm_leave(f->p[1].s);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], ids[4]);
	wamp_msg_clear(&m);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], ids[5]);
	wamp_msg_clear(&m);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], ids[1]);
	args = wamp_payload_args(&m.payload, &err);
	assert_int_equal(json_integer_value(json_array_get(args, 0)), (json_int_t)left);
	assert_string_equal(json_string_value(json_array_get(args, 1)), "joe");
	json_decref(args);
	wamp_msg_clear(&m);
	/* it comes back: on_join with details */
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_int_equal(m.id[0], ids[0]);
	args = wamp_payload_args(&m.payload, &err);
	assert_string_equal(json_string_value(json_object_get(json_array_get(args, 0), "authmethod")),
	                    "anonymous");
	json_decref(args);
	wamp_msg_clear(&m);
}

static void test_testaments(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	json_t *r;

	assert_int_equal(rf_broker(f, 0, broker_subscribe, "[32, 1, {}, \"com.gone\"]"), WAMPD_OK);
	rf_expect(f, 0, WAMP_SUBSCRIBED, &m);
	wamp_msg_clear(&m);

	r = call(f, 1, NULL, "[48, 1, {}, \"wamp.session.add_testament\", [\"com.gone\", [\"destroyed\"], {}]]");
	json_decref(r);
	r = call(f, 1, NULL, "[48, 2, {}, \"wamp.session.add_testament\", [\"com.gone\", [\"detached\"], {}],"
	                     " {\"scope\": \"detached\"}]");
	json_decref(r);
	r = call(f, 2, NULL, "[48, 3, {}, \"wamp.session.add_testament\", [\"com.gone\", [\"flushed\"], {}]]");
	json_decref(r);
	assert_int_equal(int0(call(f, 2, NULL, "[48, 4, {}, \"wamp.session.flush_testaments\"]")), 1);
	char uri[64];
	assert_null(call(f, 1, uri, "[48, 5, {}, \"wamp.session.add_testament\", [\"com.gone\"], {\"scope\": \"x\"}]"));
	assert_string_equal(uri, "wamp.error.invalid_argument");

	/* leaving publishes detached first, then destroyed, exactly once */
	realm_leave(f->p[1].s);
	realm_leave(f->p[2].s);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_memory_equal(m.payload.args, "[\"detached\"]", 12);
	wamp_msg_clear(&m);
	rf_expect(f, 0, WAMP_EVENT, &m);
	assert_memory_equal(m.payload.args, "[\"destroyed\"]", 13);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
	assert_int_equal(realm_join(f->r, f->p[2].s), WAMPD_OK);
	realm_leave(f->p[1].s); /* nothing left to publish */
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
}

/* Testaments within limits.max_testament_bytes_per_session (both scopes together): exactly
 * the limit is accepted, a byte more refused with limit_exceeded; flushing and leaving give
 * the bytes back; the bytes are the testament's size, not a count. */
static void test_testament_byte_budget(void **state)
{
	struct realm_fixture *f = *state;
	struct session *s = f->p[1].s;
	uint32_t *limit = &f->realms.limits.max_testament_bytes_per_session;
	static const char add[] = "[48, %d, {}, \"wamp.session.add_testament\", [\"com.gone\","
	                          " [\"bye\"], {}], {\"scope\": \"%s\"}]";
	char uri[64];
	size_t one;
	json_t *big;

	json_decref(call(f, 1, NULL, add, 1, "destroyed"));
	one = s->testament_bytes;
	assert_true(one > 0);
	assert_int_equal(int0(call(f, 1, NULL, "[48, 2, {}, \"wamp.session.flush_testaments\"]")), 1);
	assert_int_equal(s->testament_bytes, 0);

	*limit = (uint32_t)(2 * one - 1);
	json_decref(call(f, 1, NULL, add, 3, "destroyed"));
	assert_null(call(f, 1, uri, add, 4, "detached")); /* one byte over: refused */
	assert_string_equal(uri, "wamp.error.limit_exceeded");
	assert_int_equal(s->testament_bytes, one);
	assert_int_equal(f->r->testaments_refused, 1);
	*limit = (uint32_t)(2 * one); /* exactly: accepted */
	json_decref(call(f, 1, NULL, add, 5, "detached"));
	assert_int_equal(s->testament_bytes, 2 * one);
	assert_null(call(f, 1, uri, add, 6, "destroyed"));
	assert_string_equal(uri, "wamp.error.limit_exceeded");
	assert_int_equal(f->r->testaments_refused, 2);

	/* the size counts, not the number: one large testament alone is refused */
	assert_int_equal(int0(call(f, 1, NULL, "[48, 7, {}, \"wamp.session.flush_testaments\","
	                                   " [], {\"scope\": \"detached\"}]")), 1);
	assert_int_equal(s->testament_bytes, one);
	assert_int_equal(int0(call(f, 1, NULL, "[48, 8, {}, \"wamp.session.flush_testaments\"]")), 1);
	assert_int_equal(s->testament_bytes, 0);
	*limit = 420; /* room for the 400 bytes, not for their bookkeeping */
	assert_null(call(f, 1, uri, "[48, 9, {}, \"wamp.session.add_testament\", [\"com.gone\","
	                            " [\"%0400d\"]]]", 1));
	assert_string_equal(uri, "wamp.error.limit_exceeded");
	*limit = 4096;
	big = call(f, 1, uri, "[48, 10, {}, \"wamp.session.add_testament\", [\"com.gone\","
	                      " [\"%0400d\"]]]", 1);
	assert_non_null(big);
	json_decref(big);
	assert_true(s->testament_bytes > 400);

	/* leaving publishes them and gives the bytes back */
	realm_leave(s);
	assert_int_equal(s->testament_bytes, 0);
	assert_int_equal(realm_join(f->r, s), WAMPD_OK);
}

/* A leaving session is not sent the meta events of its own detaching (it has been sent
 * GOODBYE already): here p0 watches on_unsubscribe/on_delete and leaves, p1 watches too. */
static void test_no_meta_events_to_the_leaving_session(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	/* (the watched topics last: each membership removed publishes to the rest) */
	static const char *const topics[] = {"com.own", "wamp.subscription.on_delete",
	                                     "wamp.subscription.on_unsubscribe"};

	for (int who = 0; who < 2; who++)
		for (int i = 0; i < 3; i++) {
			assert_int_equal(rf_broker(f, who, broker_subscribe, "[32, %d, {}, \"%s\"]",
			                           i + 1, topics[i]), WAMPD_OK);
			rf_expect(f, who, WAMP_SUBSCRIBED, &m);
			wamp_msg_clear(&m);
		}
	f->p[0].taken = f->p[0].nsent;
	f->p[1].taken = f->p[1].nsent;
	realm_leave(f->p[0].s);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	/* p1 is told about each of p0's three subscriptions */
	for (int i = 0; i < 3; i++) {
		rf_expect(f, 1, WAMP_EVENT, &m);
		wamp_msg_clear(&m);
	}
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
	assert_int_equal(realm_join(f->r, f->p[0].s), WAMPD_OK);
}

/*
 * "No meta event before the state it announces is visible through the procedures", checked
 * at the moment each event is handed to the transport: p0 watches every meta topic, and a
 * send hook on p0 calls the matching procedure (as p3) before the event is even queued.
 */
static struct {
	struct realm_fixture *f;
	uint64_t sub_ids[10];
	bool busy;
	int probed, failed;
	char why[256];
} vis;

static const char *const vis_topics[10] = {
	"wamp.session.on_join", "wamp.session.on_leave",
	"wamp.registration.on_create", "wamp.registration.on_register",
	"wamp.registration.on_unregister", "wamp.registration.on_delete",
	"wamp.subscription.on_create", "wamp.subscription.on_subscribe",
	"wamp.subscription.on_unsubscribe", "wamp.subscription.on_delete",
};

/* true if the id list `list` (RESULT args[0]) holds id */
static bool ids_hold(json_t *res, json_int_t id)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_array_get(res, 0), i, v)
		if (json_integer_value(v) == id)
			return true;
	return false;
}

static void vis_check(bool ok, const char *topic)
{
	vis.probed++;
	if (!ok) {
		vis.failed++;
		snprintf(vis.why, sizeof(vis.why), "%s sent before its state was visible", topic);
	}
}

static void visibility_probe(struct fake_peer *p, void *arg)
{
	struct realm_fixture *f = vis.f;
	struct wamp_out *out = p->sent[p->nsent - 1];
	struct wamp_msg m;
	char why[128], uri[64] = "";
	enum wampd_err err;
	json_t *args, *res;
	int t = -1;

	(void)arg;
	if (vis.busy)
		return;
	if (wamp_decode((enum wamp_ser)out->ser, wamp_out_data(out), out->len, NULL, &m, why,
	                sizeof(why)) != WAMPD_OK)
		fail_msg("undecodable: %s", why);
	for (int i = 0; i < 10; i++)
		if (m.type == WAMP_EVENT && m.id[0] == vis.sub_ids[i])
			t = i;
	if (t < 0) {
		wamp_msg_clear(&m);
		return;
	}
	vis.busy = true;
	args = wamp_payload_args(&m.payload, &err);
	json_int_t a0 = json_integer_value(json_array_get(args, 0));
	json_int_t a1 = json_integer_value(json_array_get(args, 1));
	json_int_t obj_id = json_integer_value(json_object_get(json_array_get(args, 1), "id"));
	switch (t) {
	case 0: /* on_join: session.get finds it */
		a0 = json_integer_value(json_object_get(json_array_get(args, 0), "session"));
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.session.get\", [%lld]]", (long long)a0);
		vis_check(res != NULL, vis_topics[t]);
		break;
	case 1: /* on_leave: gone */
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.session.get\", [%lld]]", (long long)a0);
		vis_check(res == NULL && !strcmp(uri, "wamp.error.no_such_session"), vis_topics[t]);
		break;
	case 2: /* registration.on_create: get finds it */
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.registration.get\", [%lld]]", (long long)obj_id);
		vis_check(res != NULL, vis_topics[t]);
		break;
	case 3: /* on_register: the callee is listed */
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.registration.list_callees\", [%lld]]", (long long)a1);
		vis_check(res && ids_hold(res, a0), vis_topics[t]);
		break;
	case 4: /* on_unregister: the callee is not listed (or the registration is gone) */
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.registration.list_callees\", [%lld]]", (long long)a1);
		vis_check(!res || !ids_hold(res, a0), vis_topics[t]);
		break;
	case 5: /* on_delete: gone */
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.registration.get\", [%lld]]", (long long)a1);
		vis_check(res == NULL && !strcmp(uri, "wamp.error.no_such_registration"), vis_topics[t]);
		break;
	case 6:
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.subscription.get\", [%lld]]", (long long)obj_id);
		vis_check(res != NULL, vis_topics[t]);
		break;
	case 7:
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.subscription.list_subscribers\", [%lld]]", (long long)a1);
		vis_check(res && ids_hold(res, a0), vis_topics[t]);
		break;
	case 8:
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.subscription.list_subscribers\", [%lld]]", (long long)a1);
		vis_check(!res || !ids_hold(res, a0), vis_topics[t]);
		break;
	default:
		res = call(f, 3, uri, "[48, 90, {}, \"wamp.subscription.get\", [%lld]]", (long long)a1);
		vis_check(res == NULL && !strcmp(uri, "wamp.error.no_such_subscription"), vis_topics[t]);
		break;
	}
	json_decref(res);
	json_decref(args);
	wamp_msg_clear(&m);
	vis.busy = false;
}

static void test_meta_events_visible_when_sent(void **state)
{
	struct realm_fixture *f = *state;
	struct wamp_msg m;

	memset(&vis, 0, sizeof(vis));
	vis.f = f;
	for (int i = 0; i < 10; i++) {
		assert_int_equal(rf_broker(f, 0, broker_subscribe, "[32, %d, {}, \"%s\"]", i + 1,
		                           vis_topics[i]), WAMPD_OK);
		/* (past the meta events about p0's own earlier subscriptions) */
		while (assert_true(fake_peer_next(&f->p[0], &m)), m.type != WAMP_SUBSCRIBED)
			wamp_msg_clear(&m);
		vis.sub_ids[i] = m.id[1];
		wamp_msg_clear(&m);
	}
	f->p[0].on_send = visibility_probe;
	/* a session leaves and comes back */
	realm_leave(f->p[1].s);
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
	/* a registration's whole life, then a subscription's */
	assert_int_equal(rf_dealer(f, 1, dealer_register, "[64, 1, {}, \"com.vis.proc\"]"),
	                 WAMPD_OK);
	rf_expect(f, 1, WAMP_REGISTERED, &m);
	assert_int_equal(rf_dealer(f, 1, dealer_unregister, "[66, 2, %llu]",
	                           (unsigned long long)m.id[1]), WAMPD_OK);
	wamp_msg_clear(&m);
	assert_int_equal(rf_broker(f, 2, broker_subscribe, "[32, 3, {}, \"com.vis.topic\"]"),
	                 WAMPD_OK);
	/* ... and the subscriber leaves (on_unsubscribe, on_delete, on_leave) */
	realm_leave(f->p[2].s);
	f->p[0].on_send = NULL;
	assert_string_equal(vis.failed ? vis.why : "", "");
	assert_int_equal(vis.probed, 2 + 4 + 4 + 1);
	assert_int_equal(realm_join(f->r, f->p[2].s), WAMPD_OK);
}

/* Roles for the authorization tests: "user" may call the meta API, publish and subscribe
 * under com.app. but not com.app.secret; "admin" may do anything. */
static void user_and_admin_roles(struct realm_fixture *f)
{
	rf_allow(f, "user", "wamp.", AUTHZ_PREFIX, "c");
	rf_allow(f, "user", "com.app.", AUTHZ_PREFIX, "ps");
	rf_allow(f, "user", "com.app.secret", AUTHZ_EXACT, "");
	rf_allow(f, "admin", "", AUTHZ_PREFIX, "crps");
}

/* #17 finding 4: a testament is a PUBLISH of its session: authorized as one when added,
 * never to a wamp.* topic, with only the publish options that mean something then */
static void test_testament_authorized(void **state)
{
	static const struct {
		const char *call, *error;
	} refused[] = {
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"com.other\", [1], {}]]",
		 "wamp.error.not_authorized"},
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"com.app.secret\", [1], {}]]",
		 "wamp.error.not_authorized"},
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"wamp.session.on_leave\", [1], {}]]",
		 "wamp.error.invalid_uri"},
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"com..x\", [1], {}]]",
		 "wamp.error.invalid_uri"},
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"com.app.x\", [1], {}], "
		 "{\"publish_options\": {\"ppt_scheme\": \"x\"}}]", "wamp.error.invalid_argument"},
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"com.app.x\", [1], {}], "
		 "{\"publish_options\": {\"retain\": \"yes\"}}]", "wamp.error.invalid_argument"},
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"com.app.x\", [1], {}], "
		 "{\"publish_options\": {\"forward_for\": []}}]", "wamp.error.invalid_argument"},
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"com.app.x\", [1], {}], "
		 "{\"publish_options\": {\"mine\": 1}}]", "wamp.error.invalid_argument"},
		{"[48, 1, {}, \"wamp.session.add_testament\", [\"com.app.x\", [1], {}], "
		 "{\"publish_options\": {\"exclude\": [\"x\"]}}]", "wamp.error.invalid_argument"},
	};
	struct realm_fixture *f = *state;
	struct wamp_msg m;
	char uri[64];

	user_and_admin_roles(f);
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		uri[0] = '\0';
		assert_null(call(f, 1, uri, "%s", refused[i].call));
		if (strcmp(uri, refused[i].error))
			fail_msg("%s: %s, expected %s", refused[i].call, uri, refused[i].error);
	}
	/* not even an admin publishes to wamp.* through a testament */
	assert_null(call(f, 3, uri, "[48, 2, {}, \"wamp.session.add_testament\", "
	                            "[\"wamp.session.on_leave\", [1], {}]]"));
	assert_string_equal(uri, "wamp.error.invalid_uri");
	json_decref(call(f, 1, NULL, "[48, 3, {}, \"wamp.session.add_testament\", [\"com.app.x\", "
	                             "[\"bye\"], {}], {\"publish_options\": {\"acknowledge\": true, "
	                             "\"exclude_me\": false, \"disclose_me\": true, \"exclude\": [%llu],"
	                             " \"retain\": true}}]",
	                 (unsigned long long)f->p[2].s->id));
	rf_subscribe(f, 0, "{}", "com.app.x");
	rf_subscribe(f, 2, "{}", "com.app.x");
	rf_subscribe(f, 3, "{\"match\": \"prefix\"}", "com.");

	realm_leave(f->p[1].s);
	rf_expect(f, 0, WAMP_EVENT, &m); /* the one testament kept, without a publisher */
	assert_memory_equal(m.payload.args, "[\"bye\"]", 7);
	assert_null(json_object_get(m.dict, "publisher"));
	wamp_msg_clear(&m);
	rf_expect(f, 3, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	assert_int_equal(fake_peer_pending(&f->p[2]), 0); /* excluded */
	assert_int_equal(fake_peer_pending(&f->p[3]), 0); /* nothing refused went out */
	/* kept retained (the session could have published with retain itself) */
	rf_subscribe(f, 3, "{\"get_retained\": true}", "com.app.x");
	rf_expect(f, 3, WAMP_EVENT, &m);
	assert_true(wamp_dict_bool(m.dict, "retained", false));
	assert_memory_equal(m.payload.args, "[\"bye\"]", 7);
	wamp_msg_clear(&m);
	assert_int_equal(realm_join(f->r, f->p[1].s), WAMPD_OK);
}

/* #17 (b): a subscription's history is the topic's: only for who may subscribe to it, with
 * its match policy */
static void test_get_events_authorized(void **state)
{
	struct realm_fixture *f = *state;
	char uri[64];
	json_t *r;
	uint64_t ids[3];
	const char *topics[3] = {"com.app.x", "com.app.secret", "com.app."};

	user_and_admin_roles(f);
	assert_int_equal(broker_add_history(&f->r->broker, "com.app.x", MATCH_EXACT, 10), WAMPD_OK);
	assert_int_equal(broker_add_history(&f->r->broker, "com.app.secret", MATCH_EXACT, 10),
	                 WAMPD_OK);
	assert_int_equal(broker_add_history(&f->r->broker, "com.app.", MATCH_PREFIX, 10), WAMPD_OK);
	for (int i = 0; i < 3; i++)
		ids[i] = ((struct subscription *)match_get(&f->r->broker.index, topics[i],
		                                           strlen(topics[i]),
		                                           i == 2 ? MATCH_PREFIX : MATCH_EXACT))->id;
	assert_int_equal(rf_broker(f, 3, broker_publish,
	                           "[16, 1, {}, \"com.app.secret\", [\"salaries\"]]"), WAMPD_OK);
	assert_int_equal(rf_broker(f, 3, broker_publish, "[16, 2, {}, \"com.app.x\", [\"news\"]]"),
	                 WAMPD_OK);

	r = call(f, 0, NULL, "[48, 1, {}, \"wamp.subscription.get_events\", [%llu]]",
	         (unsigned long long)ids[0]);
	assert_int_equal(json_array_size(json_array_get(r, 0)), 1);
	json_decref(r);
	for (int i = 1; i < 3; i++) {
		uri[0] = '\0';
		assert_null(call(f, 0, uri, "[48, 2, {}, \"wamp.subscription.get_events\", [%llu]]",
		                 (unsigned long long)ids[i]));
		assert_string_equal(uri, "wamp.error.not_authorized");
	}
	r = call(f, 3, NULL, "[48, 3, {}, \"wamp.subscription.get_events\", [%llu]]",
	         (unsigned long long)ids[2]);
	assert_int_equal(json_array_size(json_array_get(r, 0)), 2); /* the admin may */
	json_decref(r);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_session_procedures, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_session_kill, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_registration_procedures, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_subscription_procedures, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_get_events, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_meta_events, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_testaments, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_testament_authorized, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_get_events_authorized, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_testament_byte_budget, setup, rf_teardown),
		cmocka_unit_test_setup_teardown(test_no_meta_events_to_the_leaving_session, setup,
		                                rf_teardown),
		cmocka_unit_test_setup_teardown(test_meta_events_visible_when_sent, setup,
		                                rf_teardown),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
