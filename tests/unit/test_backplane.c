/*
 * test_backplane.c - the realm side of the cluster backplane (realm/backplane.c) on an
 * in-process cluster of three nodes (tests/lib/fake_backplane.c): ids shared by every node,
 * publications across nodes (exactly once, in order, with exclusion and black/white
 * lists), SUBSCRIBED held until the interest is effective, retained events from the store,
 * calls to callees on other nodes (results, progressive results, errors, cancel, timeout,
 * caller disclosure), shared and conflicting registrations, the lookup of a procedure
 * registered elsewhere an instant ago, meta API answers for the cluster, a node that dies
 * (canceled calls, testaments, vanished procedures) and a node that loses the backplane.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/ids.h"
#include "realm/backplane.h"
#include "realm/realm.h"
#include "tests/lib/fake_backplane.h"
#include "tests/lib/fake_timers.h"
#include "tests/lib/realm_fixture.h"

#define NODES 3
#define PEERS 3

/* a node: its realm set with PEERS sessions (realm_fixture.h) */
struct node {
	struct realm_fixture f;
	int resumed;
};

static struct node nodes[NODES];

static void on_resume(struct session *s, void *ctx)
{
	(void)s;
	((struct node *)ctx)->resumed++;
}

/* rf_spec.attach: the node's realm set joins the cluster before its realm exists */
static void attach_node(struct realm_fixture *f, void *arg)
{
	struct node *nd = arg;

	f->realms.resume = on_resume;
	f->realms.resume_ctx = nd;
	fake_bp_attach(&f->realms, (int)(nd - nodes));
}

/* three nodes of three sessions each: alice (user), bob (admin), bob (user, MessagePack) */
static int setup(void **state)
{
	struct rf_spec spec = RF_SPEC(PEERS);

	(void)state;
	spec.timers = true;
	spec.attach = attach_node;
	for (int i = 0; i < PEERS; i++) {
		spec.peers[i].authid = i == 0 ? "alice" : "bob";
		spec.peers[i].authrole = i == 1 ? "admin" : "user";
		spec.peers[i].features = SF_CALLER_PROGRESSIVE_RESULTS |
		                         SF_CALLEE_PROGRESSIVE_RESULTS | SF_CALLEE_CALL_CANCELING |
		                         SF_CALLEE_REGISTRATION_REVOCATION;
	}
	spec.peers[2].ser = WAMP_SER_MSGPACK;
	fake_bp_reset();
	memset(nodes, 0, sizeof(nodes));
	for (int n = 0; n < NODES; n++) {
		spec.attach_arg = &nodes[n];
		rf_open(&nodes[n].f, &spec);
		nodes[n].f.r->call_timeout_ms = 0;
	}
	fake_bp_flush();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	for (int n = 0; n < NODES; n++) {
		rf_leave_all(&nodes[n].f);
		fake_bp_flush();
	}
	for (int n = 0; n < NODES; n++)
		rf_close(&nodes[n].f);
	fake_bp_reset();
	assert_int_equal(fake_timers_pending(), 0);
	return 0;
}

/* Feed the message (printf format) of peer `who` of node n to a dealer or broker handler. */
#define dcall(n, who, h, ...) rf_dealer(&nodes[n].f, who, h, __VA_ARGS__)
#define bcall(n, who, h, ...) rf_broker(&nodes[n].f, who, h, __VA_ARGS__)

static struct fake_peer *peer(int n, int who)
{
	return &nodes[n].f.p[who];
}

static uint64_t sid(int n, int who)
{
	return nodes[n].f.p[who].s->id;
}

static void expect(int n, int who, enum wamp_type type, struct wamp_msg *m)
{
	rf_expect(&nodes[n].f, who, type, m);
}

static void expect_none(int n, int who)
{
	assert_int_equal(fake_peer_pending(peer(n, who)), 0);
}

/* First positional argument of a message's payload as an integer. */
static json_int_t arg0_int(const struct wamp_msg *m)
{
	enum wampd_err err;
	json_t *a = wamp_payload_args(&m->payload, &err);
	json_int_t v = json_integer_value(json_array_get(a, 0));

	json_decref(a);
	return v;
}

static const char *arg0_str(const struct wamp_msg *m, char *buf, size_t n)
{
	enum wampd_err err;
	json_t *a = wamp_payload_args(&m->payload, &err);

	snprintf(buf, n, "%s", json_string_value(json_array_get(a, 0)) ?: "");
	json_decref(a);
	return buf;
}

static uint64_t subscribe(int n, int who, const char *opts, const char *topic)
{
	struct wamp_msg m;
	uint64_t id;

	assert_int_equal(bcall(n, who, broker_subscribe, "[32, 7, %s, \"%s\"]", opts, topic),
	                 WAMPD_OK);
	fake_bp_flush();
	expect(n, who, WAMP_SUBSCRIBED, &m);
	id = m.id[1];
	wamp_msg_clear(&m);
	return id;
}

static uint64_t reg(int n, int who, const char *opts, const char *proc)
{
	struct wamp_msg m;
	uint64_t id;

	assert_int_equal(dcall(n, who, dealer_register, "[64, 9, %s, \"%s\"]", opts, proc), WAMPD_OK);
	expect_none(n, who); /* REGISTERED waits for the store */
	fake_bp_flush();
	expect(n, who, WAMP_REGISTERED, &m);
	id = m.id[1];
	wamp_msg_clear(&m);
	return id;
}

/* ------------------------------------------------------------------------------------ */

static void test_ids_are_the_same_on_every_node(void **state)
{
	(void)state;
	uint64_t a = subscribe(0, 0, "{}", "com.ids.t");
	uint64_t b = subscribe(1, 0, "{}", "com.ids.t");
	uint64_t c = subscribe(2, 0, "{\"match\": \"prefix\"}", "com.ids.t");

	assert_int_equal(a, b);
	assert_int_equal(a, backplane_id('s', "com.ids.t", 9, MATCH_EXACT));
	assert_int_not_equal(a, c);
	assert_int_equal(reg(1, 1, "{}", "com.ids.p"), backplane_id('r', "com.ids.p", 9, MATCH_EXACT));
	/* the mirror on the other nodes has the same registration id */
	assert_non_null(dealer_registration(&nodes[0].f.r->dealer,
	                                    backplane_id('r', "com.ids.p", 9, MATCH_EXACT)));
}

static void test_events_exactly_once_in_order_with_lists(void **state)
{
	struct wamp_msg m;
	char buf[32];

	(void)state;
	subscribe(1, 0, "{}", "com.ev.t");
	subscribe(1, 0, "{\"match\": \"prefix\"}", "com.ev");
	subscribe(1, 1, "{}", "com.ev.t");
	subscribe(0, 0, "{}", "com.ev.t"); /* the publisher itself */
	fake_bp_duplicate_publications(true); /* node 1 hears every publication twice */
	for (int i = 0; i < 3; i++)
		assert_int_equal(bcall(0, 0, broker_publish, "[16, %d, {}, \"com.ev.t\", [%d]]", i + 1, i),
		                 WAMPD_OK);
	fake_bp_flush();
	for (int i = 0; i < 3; i++) { /* one event per subscription, in order, no duplicate */
		expect(1, 0, WAMP_EVENT, &m);
		assert_int_equal(arg0_int(&m), i);
		wamp_msg_clear(&m);
		expect(1, 0, WAMP_EVENT, &m);
		assert_int_equal(arg0_int(&m), i);
		assert_string_equal(wamp_dict_str(m.dict, "topic", ""), "com.ev.t");
		wamp_msg_clear(&m);
		expect(1, 1, WAMP_EVENT, &m);
		assert_int_equal(arg0_int(&m), i);
		wamp_msg_clear(&m);
	}
	expect_none(1, 0);
	expect_none(0, 0); /* publisher excluded */
	/* eligible by session id of another node, exclude_authrole, disclose_me */
	bcall(0, 0, broker_publish, "[16, 9, {\"eligible\": [%llu], \"disclose_me\": true}, "
	      "\"com.ev.t\", [\"only\"]]", (unsigned long long)sid(1, 1));
	bcall(0, 0, broker_publish, "[16, 10, {\"exclude_authrole\": [\"admin\"], \"exclude_me\": "
	      "false}, \"com.ev.t\", [\"not-admin\"]]");
	fake_bp_flush();
	expect(1, 1, WAMP_EVENT, &m);
	assert_string_equal(arg0_str(&m, buf, sizeof(buf)), "only");
	assert_int_equal(wamp_dict_int(m.dict, "publisher", 0), (int64_t)sid(0, 0));
	wamp_msg_clear(&m);
	expect_none(1, 1); /* admin: excluded from the second */
	expect(1, 0, WAMP_EVENT, &m);
	assert_string_equal(arg0_str(&m, buf, sizeof(buf)), "not-admin");
	wamp_msg_clear(&m);
	expect(1, 0, WAMP_EVENT, &m); /* and on its prefix subscription */
	wamp_msg_clear(&m);
	expect(0, 0, WAMP_EVENT, &m); /* exclude_me false */
	wamp_msg_clear(&m);
}

static void test_subscribed_waits_until_the_cluster_routes_here(void **state)
{
	struct wamp_msg m;

	(void)state;
	fake_bp_defer_interest(2, true);
	assert_int_equal(bcall(2, 0, broker_subscribe, "[32, 5, {}, \"com.wait\"]"), WAMPD_OK);
	assert_int_equal(bcall(2, 1, broker_subscribe, "[32, 6, {}, \"com.wait\"]"), WAMPD_OK);
	expect_none(2, 0);
	expect_none(2, 1);
	assert_int_equal(fake_bp_stats(2)->interest_on, 1); /* one interest per topic and node */
	fake_bp_flush();
	expect(2, 0, WAMP_SUBSCRIBED, &m);
	assert_int_equal(m.id[0], 5);
	wamp_msg_clear(&m);
	expect(2, 1, WAMP_SUBSCRIBED, &m);
	assert_int_equal(m.id[0], 6);
	wamp_msg_clear(&m);
	/* the last subscriber leaving withdraws the interest */
	bcall(2, 0, broker_unsubscribe, "[34, 8, %llu]",
	      (unsigned long long)backplane_id('s', "com.wait", 8, MATCH_EXACT));
	assert_int_equal(fake_bp_stats(2)->interest_off, 0);
	bcall(2, 1, broker_unsubscribe, "[34, 8, %llu]",
	      (unsigned long long)backplane_id('s', "com.wait", 8, MATCH_EXACT));
	assert_int_equal(fake_bp_stats(2)->interest_off, 1);
}

static void test_retained_event_from_another_node(void **state)
{
	struct wamp_msg m;
	char buf[16];

	(void)state;
	bcall(0, 0, broker_publish, "[16, 1, {\"retain\": true}, \"com.ret.a\", [\"kept\"]]");
	fake_bp_flush();
	assert_int_equal(bcall(2, 2, broker_subscribe, "[32, 3, {\"match\": \"prefix\", "
	                       "\"get_retained\": true}, \"com.ret\"]"), WAMPD_OK);
	fake_bp_flush();
	expect(2, 2, WAMP_SUBSCRIBED, &m);
	wamp_msg_clear(&m);
	expect(2, 2, WAMP_EVENT, &m);
	assert_true(wamp_dict_bool(m.dict, "retained", false));
	assert_string_equal(wamp_dict_str(m.dict, "topic", ""), "com.ret.a");
	assert_string_equal(arg0_str(&m, buf, sizeof(buf)), "kept");
	wamp_msg_clear(&m);
}

static void test_call_to_a_callee_on_another_node(void **state)
{
	struct wamp_msg m;
	uint64_t regid, inv;
	char buf[16];

	(void)state;
	regid = reg(1, 2, "{\"disclose_caller\": true}", "com.add");
	assert_int_equal(dcall(0, 0, dealer_call, "[48, 77, {\"receive_progress\": true}, "
	                       "\"com.add\", [2, 3]]"), WAMPD_OK);
	fake_bp_flush();
	expect(1, 2, WAMP_INVOCATION, &m); /* a msgpack callee of a JSON caller */
	assert_int_equal(m.id[1], regid);
	assert_int_equal(wamp_dict_int(m.dict, "caller", 0), (int64_t)sid(0, 0));
	assert_string_equal(wamp_dict_str(m.dict, "caller_authid", ""), "alice");
	assert_true(wamp_dict_bool(m.dict, "receive_progress", false));
	inv = m.id[0];
	wamp_msg_clear(&m);
	dcall(1, 2, dealer_yield, "[70, %llu, {\"progress\": true}, [\"half\"]]",
	      (unsigned long long)inv);
	dcall(1, 2, dealer_yield, "[70, %llu, {}, [5]]", (unsigned long long)inv);
	fake_bp_flush();
	expect(0, 0, WAMP_RESULT, &m);
	assert_int_equal(m.id[0], 77);
	assert_true(wamp_dict_bool(m.dict, "progress", false));
	assert_string_equal(arg0_str(&m, buf, sizeof(buf)), "half");
	wamp_msg_clear(&m);
	expect(0, 0, WAMP_RESULT, &m);
	assert_false(wamp_dict_bool(m.dict, "progress", false));
	assert_int_equal(arg0_int(&m), 5);
	wamp_msg_clear(&m);
	assert_int_equal(nodes[0].f.p[0].s->ncalls, 0);
	/* an ERROR of the callee */
	dcall(0, 0, dealer_call, "[48, 78, {}, \"com.add\", []]");
	fake_bp_flush();
	expect(1, 2, WAMP_INVOCATION, &m);
	inv = m.id[0];
	wamp_msg_clear(&m);
	dcall(1, 2, dealer_error, "[8, 68, %llu, {}, \"com.app.bad\", [1]]", (unsigned long long)inv);
	fake_bp_flush();
	expect(0, 0, WAMP_ERROR, &m);
	assert_int_equal(m.id[1], 78);
	assert_string_equal(m.uri, "com.app.bad");
	wamp_msg_clear(&m);
}

static void test_cancel_and_timeout_across_nodes(void **state)
{
	struct wamp_msg m;
	uint64_t inv;

	(void)state;
	reg(1, 0, "{}", "com.slow");
	dcall(0, 1, dealer_call, "[48, 5, {}, \"com.slow\", []]");
	fake_bp_flush();
	expect(1, 0, WAMP_INVOCATION, &m);
	inv = m.id[0];
	wamp_msg_clear(&m);
	assert_int_equal(dcall(0, 1, dealer_cancel, "[49, 5, {\"mode\": \"killnowait\"}]"), WAMPD_OK);
	fake_bp_flush();
	expect(1, 0, WAMP_INTERRUPT, &m);
	assert_int_equal(m.id[0], inv);
	wamp_msg_clear(&m);
	expect(0, 1, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	/* the callee's node runs the timeout */
	dcall(0, 1, dealer_call, "[48, 6, {\"timeout\": 100}, \"com.slow\", []]");
	fake_bp_flush();
	expect(1, 0, WAMP_INVOCATION, &m);
	wamp_msg_clear(&m);
	fake_timers_advance(100);
	fake_bp_flush();
	expect(0, 1, WAMP_ERROR, &m);
	assert_int_equal(m.id[1], 6);
	assert_string_equal(m.uri, "wamp.error.timeout");
	wamp_msg_clear(&m);
	expect(1, 0, WAMP_INTERRUPT, &m); /* the callee is told too */
	wamp_msg_clear(&m);
	/* a caller that leaves: its callee is interrupted on the other node */
	dcall(0, 1, dealer_call, "[48, 7, {}, \"com.slow\", []]");
	fake_bp_flush();
	expect(1, 0, WAMP_INVOCATION, &m);
	wamp_msg_clear(&m);
	peer(1, 0)->taken = peer(1, 0)->nsent;
	realm_leave(nodes[0].f.p[1].s);
	fake_bp_flush();
	expect(1, 0, WAMP_INTERRUPT, &m);
	wamp_msg_clear(&m);
	fake_timers_advance(10); /* the stub of the caller is swept */
	assert_null(nodes[1].f.r->remote);
}

static void test_shared_and_conflicting_registrations(void **state)
{
	struct wamp_msg m;
	int hits[NODES] = {0};

	(void)state;
	reg(0, 0, "{\"invoke\": \"roundrobin\"}", "com.rr");
	reg(1, 0, "{\"invoke\": \"roundrobin\"}", "com.rr");
	for (int i = 0; i < 4; i++) {
		dcall(2, 0, dealer_call, "[48, %d, {}, \"com.rr\", []]", 10 + i);
		fake_bp_flush();
		for (int n = 0; n < 2; n++) {
			if (fake_peer_next(peer(n, 0), &m)) {
				assert_int_equal(m.type, WAMP_INVOCATION);
				hits[n]++;
				dcall(n, 0, dealer_yield, "[70, %llu, {}, []]", (unsigned long long)m.id[0]);
				wamp_msg_clear(&m);
			}
		}
		fake_bp_flush();
	}
	assert_int_equal(hits[0], 2);
	assert_int_equal(hits[1], 2);
	/* single: taken on node 0, refused on node 1 (checked by the store) */
	reg(0, 1, "{}", "com.one");
	assert_int_equal(dcall(1, 1, dealer_register, "[64, 3, {}, \"com.one\"]"),
	                 WAMPD_ERR_PROCEDURE_EXISTS); /* the mirror knows already */
	/* both at once: the store decides, the loser gets ERROR instead of REGISTERED */
	assert_int_equal(dcall(0, 2, dealer_register, "[64, 4, {}, \"com.race\"]"), WAMPD_OK);
	assert_int_equal(dcall(1, 2, dealer_register, "[64, 4, {}, \"com.race\"]"), WAMPD_OK);
	fake_bp_flush();
	expect(0, 2, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	expect(1, 2, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.procedure_already_exists");
	wamp_msg_clear(&m);
}

static void test_call_just_registered_elsewhere_is_looked_up(void **state)
{
	struct wamp_msg m;

	(void)state;
	assert_null(peer(0, 0)->s->bp); /* no cluster state until a session needs one */
	/* registered on node 1, the store has it, node 0's mirror not yet */
	assert_int_equal(dcall(1, 0, dealer_register, "[64, 2, {}, \"com.fresh\"]"), WAMPD_OK);
	fake_bp_flush();
	expect(1, 0, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	dealer_forget_stub(&nodes[0].f.r->dealer,
	                   nodes[0].f.r->remote); /* as if the "reg" message were still on its way */
	assert_null(match_best(&nodes[0].f.r->dealer.index, "com.fresh", 9));
	assert_int_equal(dcall(0, 0, dealer_call, "[48, 3, {}, \"com.fresh\", []]"),
	                 WAMPD_ERR_AUTHZ_PENDING); /* parked */
	fake_bp_flush();
	assert_int_equal(nodes[0].resumed, 1);
	assert_non_null(peer(0, 0)->s->bp);           /* the lookup's state ... */
	assert_null(backplane_node_of(peer(0, 0)->s)); /* ... of a session of this node */
	assert_int_equal(dcall(0, 0, dealer_call, "[48, 3, {}, \"com.fresh\", []]"), WAMPD_OK);
	fake_bp_flush();
	expect(1, 0, WAMP_INVOCATION, &m);
	wamp_msg_clear(&m);
	/* unknown everywhere: asked once, then no_such_procedure */
	assert_int_equal(dcall(0, 0, dealer_call, "[48, 4, {}, \"com.none\", []]"),
	                 WAMPD_ERR_AUTHZ_PENDING);
	fake_bp_flush();
	assert_int_equal(dcall(0, 0, dealer_call, "[48, 4, {}, \"com.none\", []]"),
	                 WAMPD_ERR_NO_SUCH_PROCEDURE);
}

/* Node n's stub for session id (NULL: none). */
static struct session *stub_of(int n, uint64_t id)
{
	struct session *s = NULL;

	HASH_FIND(hh, nodes[n].f.r->remote, &id, sizeof(id), s);
	return s;
}

/* A stub knows the node it stands for (backplane_node_of, its peer address); a session id
 * listed again from another node (that node restarted it) is addressed there from then on. */
static void test_stub_follows_its_node(void **state)
{
	static const char reg_fmt[] =
		"{\"t\": \"reg\", \"r\": \"realm1\", \"uri\": \"com.moved\", \"match\": \"exact\", "
		"\"invoke\": \"single\", \"callees\": [{\"node\": \"%s\", \"session\": \"42\", "
		"\"authid\": \"x\", \"authrole\": \"user\", \"ser\": 1, \"f\": 0}]}\n";
	const char *const on[] = {"n9", "n8"};
	struct session *stub;
	char msg[512];

	(void)state;
	for (int i = 0; i < 2; i++) {
		snprintf(msg, sizeof(msg), reg_fmt, on[i]);
		backplane_receive(&nodes[0].f.realms, (const uint8_t *)msg, strlen(msg));
		assert_non_null(stub = stub_of(0, 42));
		assert_non_null(backplane_node_of(stub));
		assert_string_equal(backplane_node_of(stub), on[i]);
		assert_string_equal(stub->ops->address(stub->peer), on[i]);
		assert_non_null(match_best(&nodes[0].f.r->dealer.index, "com.moved", 9));
	}
	assert_null(backplane_node_of(peer(0, 0)->s));
}

static void test_meta_api_answers_for_the_cluster(void **state)
{
	struct wamp_msg m;
	enum wampd_err err;
	json_t *a;

	(void)state;
	assert_int_equal(dcall(0, 0, dealer_call, "[48, 1, {}, \"wamp.session.count\", []]"),
	                 WAMPD_OK);
	expect_none(0, 0);
	fake_bp_flush();
	expect(0, 0, WAMP_RESULT, &m);
	assert_int_equal(arg0_int(&m), NODES * PEERS);
	wamp_msg_clear(&m);
	subscribe(1, 0, "{}", "com.meta.t");
	subscribe(2, 1, "{}", "com.meta.t");
	dcall(0, 0, dealer_call, "[48, 2, {}, \"wamp.subscription.list_subscribers\", [%llu]]",
	      (unsigned long long)backplane_id('s', "com.meta.t", 10, MATCH_EXACT));
	fake_bp_flush();
	expect(0, 0, WAMP_RESULT, &m);
	a = wamp_payload_args(&m.payload, &err);
	assert_int_equal(json_array_size(json_array_get(a, 0)), 2);
	json_decref(a);
	wamp_msg_clear(&m);
	dcall(0, 0, dealer_call, "[48, 3, {}, \"wamp.session.get\", [%llu]]",
	      (unsigned long long)sid(2, 2));
	fake_bp_flush();
	expect(0, 0, WAMP_RESULT, &m);
	a = wamp_payload_args(&m.payload, &err);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(a, 0), "session")),
	                 (json_int_t)sid(2, 2));
	json_decref(a);
	wamp_msg_clear(&m);
	/* registration meta: each node lists its own callees, so nothing twice */
	reg(1, 1, "{}", "com.meta.p");
	dcall(0, 0, dealer_call, "[48, 5, {}, \"wamp.registration.list_callees\", [%llu]]",
	      (unsigned long long)backplane_id('r', "com.meta.p", 10, MATCH_EXACT));
	fake_bp_flush();
	expect(0, 0, WAMP_RESULT, &m);
	a = wamp_payload_args(&m.payload, &err);
	assert_int_equal(json_array_size(json_array_get(a, 0)), 1);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(a, 0), 0)),
	                 (json_int_t)sid(1, 1));
	json_decref(a);
	wamp_msg_clear(&m);
	dcall(2, 0, dealer_call, "[48, 6, {}, \"wamp.registration.count_callees\", [%llu]]",
	      (unsigned long long)backplane_id('r', "com.meta.p", 10, MATCH_EXACT));
	fake_bp_flush();
	expect(2, 0, WAMP_RESULT, &m);
	assert_int_equal(arg0_int(&m), 1);
	wamp_msg_clear(&m);
	dcall(0, 0, dealer_call, "[48, 4, {}, \"wamp.session.get\", [12345]]");
	fake_bp_flush();
	expect(0, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.no_such_session");
	wamp_msg_clear(&m);
}

/* #17 (b): a subscription's history, asked of the whole cluster, is answered by each node
 * only if the asking session's role (sent with the query) may subscribe to its pattern */
static void test_get_events_authorized_across_nodes(void **state)
{
	uint64_t secret = backplane_id('s', "com.secret", 10, MATCH_EXACT);
	uint64_t ok = backplane_id('s', "com.ok.x", 8, MATCH_EXACT);
	struct wamp_msg m;
	enum wampd_err err;
	json_t *a;

	(void)state;
	for (int n = 0; n < NODES; n++) {
		rf_allow(&nodes[n].f, "user", "wamp.", AUTHZ_PREFIX, "c");
		rf_allow(&nodes[n].f, "user", "com.ok.", AUTHZ_PREFIX, "s");
		rf_allow(&nodes[n].f, "admin", "", AUTHZ_PREFIX, "crps");
	}
	assert_int_equal(broker_add_history(&nodes[1].f.r->broker, "com.secret", MATCH_EXACT, 5),
	                 WAMPD_OK);
	assert_int_equal(broker_add_history(&nodes[1].f.r->broker, "com.ok.x", MATCH_EXACT, 5),
	                 WAMPD_OK);
	assert_int_equal(bcall(1, 1, broker_publish, "[16, 1, {}, \"com.secret\", [\"s\"]]"),
	                 WAMPD_OK);
	assert_int_equal(bcall(1, 1, broker_publish, "[16, 2, {}, \"com.ok.x\", [\"o\"]]"),
	                 WAMPD_OK);
	fake_bp_flush();

	/* a user on node 0: the history is on node 1, which refuses its role */
	assert_int_equal(dcall(0, 0, dealer_call, "[48, 1, {}, \"wamp.subscription.get_events\", "
	                                          "[%llu]]", (unsigned long long)secret), WAMPD_OK);
	fake_bp_flush();
	expect(0, 0, WAMP_ERROR, &m);
	assert_true(!strcmp(m.uri, "wamp.error.not_authorized") ||
	            !strcmp(m.uri, "wamp.error.no_such_subscription"));
	wamp_msg_clear(&m);
	/* what it may subscribe to it gets, and the admin gets everything */
	dcall(0, 0, dealer_call, "[48, 2, {}, \"wamp.subscription.get_events\", [%llu]]",
	      (unsigned long long)ok);
	fake_bp_flush();
	expect(0, 0, WAMP_RESULT, &m);
	a = wamp_payload_args(&m.payload, &err);
	assert_int_equal(json_array_size(json_array_get(a, 0)), 1);
	json_decref(a);
	wamp_msg_clear(&m);
	dcall(0, 1, dealer_call, "[48, 3, {}, \"wamp.subscription.get_events\", [%llu]]",
	      (unsigned long long)secret);
	fake_bp_flush();
	expect(0, 1, WAMP_RESULT, &m);
	a = wamp_payload_args(&m.payload, &err);
	assert_int_equal(json_array_size(json_array_get(a, 0)), 1);
	json_decref(a);
	wamp_msg_clear(&m);
}

static void test_a_node_dies(void **state)
{
	struct wamp_msg m;
	char buf[16];

	(void)state;
	reg(2, 0, "{}", "com.doomed");
	subscribe(0, 2, "{}", "com.will");
	dcall(2, 1, dealer_call, "[48, 1, {}, \"wamp.session.add_testament\", [\"com.will\", "
	      "[\"gone\"], {}]]");
	expect(2, 1, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	dcall(0, 0, dealer_call, "[48, 5, {}, \"com.doomed\", []]");
	fake_bp_flush();
	expect(2, 0, WAMP_INVOCATION, &m);
	wamp_msg_clear(&m);
	fake_bp_kill(2);
	fake_bp_flush();
	expect(0, 0, WAMP_ERROR, &m); /* the pending call */
	assert_int_equal(m.id[1], 5);
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	expect(0, 2, WAMP_EVENT, &m); /* the dead node's testament, published by a survivor */
	assert_string_equal(arg0_str(&m, buf, sizeof(buf)), "gone");
	wamp_msg_clear(&m);
	assert_null(match_best(&nodes[0].f.r->dealer.index, "com.doomed", 10));
	assert_null(nodes[0].f.r->remote); /* no stub of the dead node left */
}

static void test_offline_node_serves_local_traffic(void **state)
{
	struct wamp_msg m;
	int published;

	(void)state;
	reg(1, 0, "{}", "com.far");
	dcall(0, 0, dealer_call, "[48, 5, {}, \"com.far\", []]");
	fake_bp_flush();
	expect(1, 0, WAMP_INVOCATION, &m);
	wamp_msg_clear(&m);
	fake_bp_set_online(0, false);
	expect(0, 0, WAMP_ERROR, &m); /* the call across nodes cannot be answered */
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	assert_null(nodes[0].f.r->remote);
	/* local PubSub and RPC go on, nothing is sent to the cluster */
	published = fake_bp_stats(0)->published;
	subscribe(0, 1, "{}", "com.local");
	bcall(0, 0, broker_publish, "[16, 1, {}, \"com.local\", [1]]");
	expect(0, 1, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_bp_stats(0)->published, published);
	assert_int_equal(dcall(0, 2, dealer_register, "[64, 1, {}, \"com.near\"]"), WAMPD_OK);
	expect(0, 2, WAMP_REGISTERED, &m); /* at once: no store to ask */
	wamp_msg_clear(&m);
	/* back online: announced again, the others see it */
	fake_bp_set_online(0, true);
	fake_bp_flush();
	assert_non_null(match_best(&nodes[1].f.r->dealer.index, "com.near", 8));
	assert_non_null(match_best(&nodes[0].f.r->dealer.index, "com.far", 7)); /* synced */
}

static void test_malformed_cluster_messages_are_dropped(void **state)
{
	static const char *const bad[] = {
		"", "\n", "not json\n", "[1,2]\n", "{\"t\": 5}\n", "{\"t\": \"nope\", \"r\": \"realm1\"}\n",
		"{\"t\": \"pub\", \"r\": \"realm1\", \"o\": \"n9\", \"q\": 1, \"topic\": \"com.bad\", "
		"\"ps\": 0, \"al\": 100}\n[1]", /* a span beyond the message */
		"{\"t\": \"pub\", \"r\": \"realm1\", \"o\": \"n9\", \"q\": 2, \"topic\": 7}\n",
		"{\"t\": \"pub\", \"r\": \"nowhere\", \"o\": \"n9\", \"q\": 3, \"topic\": \"com.bad\"}\n",
		"{\"t\": \"call\", \"r\": \"realm1\", \"o\": \"n9\", \"rq\": 1}\n",
		"{\"t\": \"dlv\", \"r\": \"realm1\", \"s\": 1, \"rq\": 1}\n",
		"{\"t\": \"reg\", \"r\": \"realm1\", \"uri\": \"com.bad\", \"match\": \"odd\"}\n",
		"{\"t\": \"mr\", \"q\": 99}\n",
		"{\"t\": \"down\"}\n",
	};

	(void)state;
	subscribe(1, 0, "{}", "com.bad");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		backplane_receive(&nodes[1].f.realms, (const uint8_t *)bad[i], strlen(bad[i]));
	fake_bp_flush();
	expect_none(1, 0); /* nothing delivered, nothing crashed (ASan) */
	assert_null(match_best(&nodes[1].f.r->dealer.index, "com.bad", 7));
}

static void test_without_backplane_ids_stay_sequential(void **state)
{
	static struct realm_fixture solo;
	struct wamp_msg m;

	(void)state;
	rf_open(&solo, &RF_SPEC(1));
	assert_null(solo.realms.bp);
	assert_int_equal(rf_broker(&solo, 0, broker_subscribe, "[32, 1, {}, \"com.solo\"]"),
	                 WAMPD_OK);
	rf_expect(&solo, 0, WAMP_SUBSCRIBED, &m);
	assert_int_equal(m.id[1], solo.realms.last_router_id); /* the next sequential id */
	wamp_msg_clear(&m);
	rf_leave_all(&solo);
	rf_close(&solo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ids_are_the_same_on_every_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_events_exactly_once_in_order_with_lists, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_subscribed_waits_until_the_cluster_routes_here,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_retained_event_from_another_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_to_a_callee_on_another_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_and_timeout_across_nodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_and_conflicting_registrations, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_call_just_registered_elsewhere_is_looked_up, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_stub_follows_its_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_meta_api_answers_for_the_cluster, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_events_authorized_across_nodes, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_a_node_dies, setup, teardown),
		cmocka_unit_test_setup_teardown(test_offline_node_serves_local_traffic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_cluster_messages_are_dropped, setup,
		                                teardown),
		cmocka_unit_test(test_without_backplane_ids_stay_sequential),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
