/*
 * test_protocol_auth.c - authentication and authorization in the session state machine,
 * through the fake transport: CHALLENGE/AUTHENTICATE, a dynamic authenticator that is a
 * real (fake-transport) session, roles, static denial, and a dynamic authorizer whose
 * pending decision parks the request (and the ones after it) until it answers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "common/ids.h"
#include "router/core/protocol.h"
#include "tests/lib/fake_peer.h"
#include "tests/lib/fake_timers.h"

struct fixture {
	struct router rt;
	struct auth_config auth;
	struct fake_peer p[3]; /* 0: client under test, 1: authenticator/authorizer, 2: other */
};

static struct authz_role *add_role(struct realm *r, const char *name)
{
	struct authz_role *role = calloc(1, sizeof(*role));

	role->name = strdup(name);
	HASH_ADD_KEYPTR(hh, r->authz.roles, role->name, strlen(role->name), role);
	return role;
}

/* The transport opens peer i's session with the fixture's authentication (deadline: and
 * the HELLO..WELCOME deadline); an open one is closed first (the client reconnects). */
static void open_peer(struct fixture *f, int i, bool deadline)
{
	struct proto_peer peer = {.auth = &f->auth, .hello_deadline = deadline};

	if (f->p[i].s) {
		proto_transport_closed(&f->rt, f->p[i].s);
		fake_peer_destroy(&f->p[i]);
	}
	fake_peer_session(&f->p[i], WAMP_SER_JSON, &f->rt.metrics);
	assert_true(proto_transport_open(&f->rt, f->p[i].s, &peer));
}

static int setup(void **state)
{
	static struct fixture f;
	struct config cfg;
	struct auth_principal *joe = calloc(1, sizeof(*joe));
	struct realm *r;
	struct authz_role *user;

	memset(&f, 0, sizeof(f));
	assert_true(config_default(&cfg));
	assert_true(router_init(&f.rt, &cfg, NULL));
	fake_timers_install(&f.rt.realms);
	r = realms_add(&f.rt.realms, "realm1", URI_LOOSE);

	/* roles of realm1: "user" may call com.app.*, "svc" anything, "dyn" asks com.authz */
	user = add_role(r, "user");
	user->perms = calloc(1, sizeof(*user->perms));
	user->nperms = 1;
	user->perms[0].uri = strdup("com.app.");
	user->perms[0].uri_len = 8;
	user->perms[0].match = AUTHZ_PREFIX;
	user->perms[0].allow[AUTHZ_CALL] = true;
	user->perms[0].allow[AUTHZ_SUBSCRIBE] = true;
	user->perms[0].has_trustlevel = true; /* call_trustlevels */
	user->perms[0].trustlevel = 1;
	{
		struct authz_role *svc = add_role(r, "svc");

		svc->perms = calloc(1, sizeof(*svc->perms));
		svc->nperms = 1;
		svc->perms[0].uri = strdup("");
		svc->perms[0].match = AUTHZ_PREFIX;
		for (int a = 0; a < AUTHZ__COUNT; a++)
			svc->perms[0].allow[a] = true;
	}
	add_role(r, "dyn")->authorizer = strdup("com.authz");

	/* listener authentication: ticket joe (user), dynamic wampcra, anonymous as svc */
	joe->authid = strdup("joe");
	joe->role = strdup("user");
	{
		json_t *cred = json_pack("{s:s}", "ticket", "t1");
		char err[128];

		assert_true(auth_principal_configure(AUTH_TICKET, joe, cred, err, sizeof(err)));
		json_decref(cred);
	}
	f.auth.m[AUTH_TICKET].enabled = true;
	HASH_ADD_KEYPTR(hh, f.auth.m[AUTH_TICKET].principals, joe->authid, 3, joe);
	f.auth.m[AUTH_ANONYMOUS].enabled = true;
	f.auth.m[AUTH_ANONYMOUS].role = strdup("svc");
	for (int i = 0; i < 3; i++)
		open_peer(&f, i, false);
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 3; i++) {
		proto_transport_closed(&f->rt, f->p[i].s);
		fake_peer_destroy(&f->p[i]);
	}
	router_destroy(&f->rt);
	auth_config_clear(&f->auth);
	assert_int_equal(fake_timers_pending(), 0);
	return 0;
}

static void feed(struct fixture *f, int who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void feed(struct fixture *f, int who, const char *fmt, ...)
{
	char json[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(json, sizeof(json), fmt, ap);
	va_end(ap);
	proto_receive(&f->rt, f->p[who].s, (const uint8_t *)json, strlen(json));
}

static void expect(struct fixture *f, int who, enum wamp_type type, struct wamp_msg *m)
{
	assert_true(fake_peer_next(&f->p[who], m));
	if (m->type != type)
		fail_msg("peer %d got %s %s, expected %s", who, wamp_type_name(m->type),
		         m->uri ? m->uri : "", wamp_type_name(type));
}

/* The service session (anonymous -> role svc) joins and registers proc. */
static void service(struct fixture *f, const char *proc)
{
	struct wamp_msg m;

	feed(f, 1, "[1, \"realm1\", {}]");
	expect(f, 1, WAMP_WELCOME, &m);
	assert_string_equal(wamp_dict_str(m.dict, "authrole", ""), "svc");
	wamp_msg_clear(&m);
	feed(f, 1, "[64, 1, {}, \"%s\"]", proc);
	expect(f, 1, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
}

static void test_ticket_challenge(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"joe\"}]");
	expect(f, 0, WAMP_CHALLENGE, &m);
	assert_string_equal(m.uri, "ticket");
	wamp_msg_clear(&m);
	assert_int_equal(f->p[0].s->state, SESSION_AUTHENTICATING);
	/* anything but AUTHENTICATE now is a protocol violation; here: the right ticket */
	feed(f, 0, "[5, \"t1\", {}]");
	expect(f, 0, WAMP_WELCOME, &m);
	assert_string_equal(wamp_dict_str(m.dict, "authid", ""), "joe");
	assert_string_equal(wamp_dict_str(m.dict, "authrole", ""), "user");
	assert_string_equal(wamp_dict_str(m.dict, "authmethod", ""), "ticket");
	assert_int_equal(m.id[0], f->p[0].s->id);
	wamp_msg_clear(&m);
	/* authorization: user may call com.app.* but not register */
	feed(f, 0, "[64, 2, {}, \"com.app.x\"]");
	expect(f, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);
	feed(f, 0, "[48, 3, {}, \"com.app.none\"]");
	expect(f, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.no_such_procedure"); /* allowed, just absent */
	wamp_msg_clear(&m);
	feed(f, 0, "[48, 4, {}, \"wamp.session.count\"]"); /* meta procedures are authorized too */
	expect(f, 0, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);
	/* call_trustlevels: the permission's trust level reaches the callee, and only there */
	service(f, "com.app.echo");
	feed(f, 0, "[48, 5, {}, \"com.app.echo\"]");
	expect(f, 1, WAMP_INVOCATION, &m);
	assert_int_equal(wamp_dict_int(m.dict, "trustlevel", -1), 1);
	feed(f, 1, "[70, %llu, {}]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	expect(f, 0, WAMP_RESULT, &m);
	assert_int_equal(m.id[0], 5);
	assert_int_equal(wamp_dict_int(m.dict, "trustlevel", -1), -1);
	wamp_msg_clear(&m);
}

static void test_wrong_ticket_and_state(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"joe\"}]");
	expect(f, 0, WAMP_CHALLENGE, &m);
	wamp_msg_clear(&m);
	feed(f, 0, "[5, \"t2\", {}]");
	expect(f, 0, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.authentication_failed");
	wamp_msg_clear(&m);
	assert_true(f->p[0].closed);

	/* AUTHENTICATE without a CHALLENGE */
	feed(f, 2, "[5, \"t1\", {}]");
	expect(f, 2, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.protocol_violation");
	wamp_msg_clear(&m);
}

/* After max_auth_failures_per_ip failures, every HELLO from that address is refused (the
 * fake peers all share the address "fake"), anonymous ones included. */
static void test_failures_per_address_block(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	f->rt.ipl.max_failures = 2;
	for (int i = 0; i < 2; i++) {
		feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"joe\"}]");
		expect(f, 0, WAMP_CHALLENGE, &m);
		wamp_msg_clear(&m);
		feed(f, 0, "[5, \"wrong\", {}]");
		expect(f, 0, WAMP_ABORT, &m);
		assert_string_equal(m.uri, "wamp.error.authentication_failed");
		wamp_msg_clear(&m);
		open_peer(f, 0, false); /* the client reconnects */
	}
	feed(f, 2, "[1, \"realm1\", {}]");
	expect(f, 2, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.authentication_failed");
	assert_non_null(strstr(wamp_dict_str(m.dict, "message", ""), "too many"));
	wamp_msg_clear(&m);
	assert_true(f->p[2].closed);
	/* a different address is not affected */
	snprintf(f->p[0].addr, sizeof(f->p[0].addr), "10.9.9.9:1");
	feed(f, 0, "[1, \"realm1\", {}]");
	expect(f, 0, WAMP_WELCOME, &m);
	wamp_msg_clear(&m);
}

static void test_no_such_role(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	free(f->auth.m[AUTH_ANONYMOUS].role);
	f->auth.m[AUTH_ANONYMOUS].role = strdup("ghost");
	feed(f, 0, "[1, \"realm1\", {}]");
	expect(f, 0, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.no_such_role");
	wamp_msg_clear(&m);
}

static void test_dynamic_authenticator(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;
	json_t *args;
	enum wampd_err err;
	uint64_t inv;

	f->auth.m[AUTH_TICKET].dynamic = true;
	f->auth.m[AUTH_TICKET].authenticator = strdup("com.authenticate");
	service(f, "com.authenticate");

	feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"amy\"}]");
	expect(f, 0, WAMP_CHALLENGE, &m);
	wamp_msg_clear(&m);
	feed(f, 0, "[5, \"amys-ticket\", {}]");
	/* the authenticator is invoked with (realm, authid, details with the ticket) */
	expect(f, 1, WAMP_INVOCATION, &m);
	inv = m.id[0];
	args = wamp_payload_args(&m.payload, &err);
	assert_string_equal(json_string_value(json_array_get(args, 0)), "realm1");
	assert_string_equal(json_string_value(json_array_get(args, 1)), "amy");
	assert_string_equal(wamp_dict_str(json_array_get(args, 2), "ticket", ""), "amys-ticket");
	json_decref(args);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* still waiting */
	feed(f, 1, "[70, %llu, {}, [{\"role\": \"user\", \"extra\": {\"plan\": \"gold\"}}]]",
	     (unsigned long long)inv);
	expect(f, 0, WAMP_WELCOME, &m);
	assert_string_equal(wamp_dict_str(m.dict, "authid", ""), "amy");
	assert_string_equal(wamp_dict_str(m.dict, "authrole", ""), "user");
	assert_string_equal(wamp_dict_str(m.dict, "authprovider", ""), "dynamic");
	assert_string_equal(wamp_dict_str(json_object_get(m.dict, "authextra"), "plan", ""), "gold");
	wamp_msg_clear(&m);

	/* the authenticator refusing: ABORT */
	feed(f, 2, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"eve\"}]");
	expect(f, 2, WAMP_CHALLENGE, &m);
	wamp_msg_clear(&m);
	feed(f, 2, "[5, \"bad\", {}]");
	expect(f, 1, WAMP_INVOCATION, &m);
	inv = m.id[0];
	wamp_msg_clear(&m);
	feed(f, 1, "[8, 68, %llu, {}, \"wamp.error.not_authorized\"]", (unsigned long long)inv);
	expect(f, 2, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.authentication_failed");
	wamp_msg_clear(&m);
}

/* REGISTER of the router's own procedures (procguard.c): the authenticator of a listener
 * and the authorizer of a dynamic role, exactly or by a covering pattern, only by the pinned
 * authrole; without a pin, by a static role with an explicit register permission */
static void test_register_guard(void **state)
{
	struct fixture *f = *state;
	struct auth_method_config *mc = &f->rt.cfg.listeners[0].auth.m[AUTH_TICKET];
	struct realm *r = realms_find(&f->rt.realms, "realm1");
	struct authz_role *dyn = NULL;
	struct wamp_msg m;

	HASH_FIND_STR(r->authz.roles, "dyn", dyn);
	mc->enabled = mc->dynamic = true;
	mc->authenticator = strdup("com.authenticate");
	mc->authenticator_role = strdup("authn");
	service(f, "com.unrelated"); /* svc: may register anything (prefix "") */
	feed(f, 1, "[64, 2, {}, \"com.authenticate\"]");
	expect(f, 1, WAMP_ERROR, &m);
	assert_int_equal(m.id[1], 2); /* ERROR [8, 64, 2, ...] */
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);
	feed(f, 1, "[64, 3, {\"match\": \"prefix\"}, \"com.auth\"]");
	expect(f, 1, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);
	feed(f, 1, "[64, 4, {\"match\": \"wildcard\"}, \".authenticate\"]");
	expect(f, 1, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);
	/* the authorizer: no pin, svc's explicit permission suffices */
	feed(f, 1, "[64, 5, {}, \"com.authz\"]");
	expect(f, 1, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	/* ... a pin does not let it register it again (say after leaving) */
	dyn->authorizer_role = strdup("authz");
	feed(f, 1, "[64, 6, {\"match\": \"prefix\"}, \"com.au\"]");
	expect(f, 1, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);
	/* the pinned role may */
	free(mc->authenticator_role);
	mc->authenticator_role = strdup("svc");
	feed(f, 1, "[64, 7, {}, \"com.authenticate\"]");
	expect(f, 1, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	/* another realm's sessions are not concerned by an authenticator-realm elsewhere */
	mc->authenticator_realm = strdup("elsewhere");
	free(mc->authenticator_role);
	mc->authenticator_role = strdup("authn");
	feed(f, 1, "[64, 8, {\"match\": \"prefix\"}, \"com.authent\"]");
	expect(f, 1, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
}

/* limits.hello_timeout: from the transport's open to WELCOME, dynamic authentication
 * included; an expired challenge is an authentication failure (ABORT), a WELCOME made by a
 * dynamic authenticator's late-but-in-time answer keeps its session */
static void test_hello_deadline(void **state)
{
	struct fixture *f = *state;
	const uint64_t deadline = f->rt.cfg.hello_timeout_s * 1000;
	struct wamp_msg m;
	uint64_t inv;

	f->auth.m[AUTH_WAMPCRA].dynamic = true;
	f->auth.m[AUTH_WAMPCRA].enabled = true;
	f->auth.m[AUTH_WAMPCRA].authenticator = strdup("com.authenticate");
	service(f, "com.authenticate");
	for (int i = 0; i < 3; i += 2)
		open_peer(f, i, true);

	/* 0: a ticket challenge never answered */
	feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"joe\"}]");
	expect(f, 0, WAMP_CHALLENGE, &m);
	wamp_msg_clear(&m);
	/* 2: a dynamic authenticator asked first, answering well within the deadline */
	feed(f, 2, "[1, \"realm1\", {\"authmethods\": [\"wampcra\"], \"authid\": \"amy\"}]");
	expect(f, 1, WAMP_INVOCATION, &m);
	inv = m.id[0];
	wamp_msg_clear(&m);
	fake_timers_advance(deadline - 1);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* not yet */
	feed(f, 1, "[70, %llu, {}, [{\"role\": \"user\", \"secret\": \"s\"}]]",
	     (unsigned long long)inv);
	expect(f, 2, WAMP_CHALLENGE, &m); /* wampcra: the router's challenge */
	wamp_msg_clear(&m);

	fake_timers_advance(1);
	expect(f, 0, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.authentication_failed");
	assert_non_null(strstr(wamp_dict_str(m.dict, "message", ""), "hello_timeout"));
	wamp_msg_clear(&m);
	assert_int_equal(f->p[0].s->state, SESSION_CLOSING);
	/* the deadline counts for 2 as well: its challenge came in time, its answer did not */
	expect(f, 2, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.authentication_failed");
	wamp_msg_clear(&m);
	assert_int_equal(fake_timers_pending(), 0);
}

/* A session WELCOMEd in time has no deadline any more; after GOODBYE it has a new one. */
static void test_hello_deadline_ends_at_welcome(void **state)
{
	struct fixture *f = *state;
	const uint64_t deadline = f->rt.cfg.hello_timeout_s * 1000;
	struct wamp_msg m;

	open_peer(f, 0, true);
	feed(f, 0, "[1, \"realm1\", {}]");
	expect(f, 0, WAMP_WELCOME, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_timers_pending(), 0);
	fake_timers_advance(deadline * 3);
	assert_int_equal(f->p[0].s->state, SESSION_ESTABLISHED);
	feed(f, 0, "[6, {}, \"wamp.close.close_realm\"]");
	expect(f, 0, WAMP_GOODBYE, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_timers_pending(), 1);
	fake_timers_advance(deadline); /* no new HELLO: closed, without a message */
	assert_int_equal(f->p[0].s->state, SESSION_CLOSING);
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
}

static void test_authenticator_gone(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	f->auth.m[AUTH_TICKET].dynamic = true;
	f->auth.m[AUTH_TICKET].authenticator = strdup("com.authenticate");
	/* nobody registered it */
	feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"amy\"}]");
	expect(f, 0, WAMP_CHALLENGE, &m);
	wamp_msg_clear(&m);
	feed(f, 0, "[5, \"x\", {}]");
	expect(f, 0, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.authentication_failed");
	wamp_msg_clear(&m);
}

static void test_dynamic_authorizer_parks_requests(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;
	json_t *args;
	enum wampd_err err;
	uint64_t inv;

	service(f, "com.authz");
	free(f->auth.m[AUTH_ANONYMOUS].role);
	f->auth.m[AUTH_ANONYMOUS].role = strdup("dyn");
	realms_find(&f->rt.realms, "realm1")->authz.cache_ttl_ms = 60000;
	feed(f, 0, "[1, \"realm1\", {}]");
	expect(f, 0, WAMP_WELCOME, &m);
	wamp_msg_clear(&m);

	/* the publish waits for the authorizer, and so does the subscribe after it */
	feed(f, 0, "[16, 10, {\"acknowledge\": true}, \"com.news\"]");
	feed(f, 0, "[32, 11, {}, \"com.news\"]");
	assert_int_equal(fake_peer_pending(&f->p[0]), 0);
	expect(f, 1, WAMP_INVOCATION, &m);
	inv = m.id[0];
	args = wamp_payload_args(&m.payload, &err);
	assert_int_equal(wamp_dict_int(json_array_get(args, 0), "session", 0), (int64_t)f->p[0].s->id);
	assert_string_equal(json_string_value(json_array_get(args, 1)), "com.news");
	assert_string_equal(json_string_value(json_array_get(args, 2)), "publish");
	json_decref(args);
	wamp_msg_clear(&m);
	feed(f, 1, "[70, %llu, {}, [true]]", (unsigned long long)inv);
	fake_timers_advance(0); /* the replay runs from the event loop */
	expect(f, 0, WAMP_PUBLISHED, &m);
	assert_int_equal(m.id[0], 10);
	wamp_msg_clear(&m);
	/* the subscribe asked its own question */
	expect(f, 1, WAMP_INVOCATION, &m);
	inv = m.id[0];
	wamp_msg_clear(&m);
	feed(f, 1, "[70, %llu, {}, [{\"allow\": false}]]", (unsigned long long)inv);
	fake_timers_advance(0);
	expect(f, 0, WAMP_ERROR, &m);
	assert_int_equal(m.id[0], WAMP_SUBSCRIBE);
	assert_int_equal(m.id[1], 11);
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);

	/* the cached answer serves the next publish without asking again */
	feed(f, 0, "[16, 12, {\"acknowledge\": true}, \"com.news\"]");
	expect(f, 0, WAMP_PUBLISHED, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
}

/* The session under test joins with the dynamic role (the authorizer registered by the
 * service session first); `hello` is its HELLO.Details. */
static void join_dynamic(struct fixture *f, uint32_t ttl_ms, const char *hello)
{
	struct wamp_msg m;

	service(f, "com.authz");
	free(f->auth.m[AUTH_ANONYMOUS].role);
	f->auth.m[AUTH_ANONYMOUS].role = strdup("dyn");
	realms_find(&f->rt.realms, "realm1")->authz.cache_ttl_ms = ttl_ms;
	feed(f, 0, "[1, \"realm1\", %s]", hello);
	expect(f, 0, WAMP_WELCOME, &m);
	wamp_msg_clear(&m);
}

/* The authorizer's next question: its INVOCATION id; uri, action and options.match are
 * checked. */
static uint64_t question(struct fixture *f, const char *uri, const char *action,
                         const char *match)
{
	struct wamp_msg m;
	enum wampd_err err;
	json_t *args;
	uint64_t inv;

	expect(f, 1, WAMP_INVOCATION, &m);
	inv = m.id[0];
	args = wamp_payload_args(&m.payload, &err);
	assert_non_null(args);
	assert_string_equal(json_string_value(json_array_get(args, 1)), uri);
	assert_string_equal(json_string_value(json_array_get(args, 2)), action);
	assert_string_equal(wamp_dict_str(json_array_get(args, 3), "match", ""), match);
	json_decref(args);
	wamp_msg_clear(&m);
	return inv;
}

static void answer(struct fixture *f, uint64_t inv, const char *verdict)
{
	feed(f, 1, "[70, %llu, {}, [%s]]", (unsigned long long)inv, verdict);
	fake_timers_advance(0); /* the replay runs from the event loop */
}

/* #17 finding 5: the authorizer sees the match policy, and an answer for one policy is
 * never reused for another on the same URI */
static void test_dynamic_authorizer_match_policy(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	join_dynamic(f, 60000, "{}");
	feed(f, 0, "[32, 1, {}, \"com.pub.news\"]");
	answer(f, question(f, "com.pub.news", "subscribe", "exact"), "true");
	expect(f, 0, WAMP_SUBSCRIBED, &m);
	wamp_msg_clear(&m);
	/* the cached exact grant does not answer the prefix request: asked, and refused */
	feed(f, 0, "[32, 2, {\"match\": \"prefix\"}, \"com.pub.news\"]");
	answer(f, question(f, "com.pub.news", "subscribe", "prefix"), "false");
	expect(f, 0, WAMP_ERROR, &m);
	assert_int_equal(m.id[1], 2);
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);
	/* both answers are cached, each for its own policy */
	feed(f, 0, "[32, 3, {\"match\": \"prefix\"}, \"com.pub.news\"]");
	expect(f, 0, WAMP_ERROR, &m);
	wamp_msg_clear(&m);
	feed(f, 0, "[32, 4, {\"match\": \"wildcard\"}, \"com.pub.news\"]");
	answer(f, question(f, "com.pub.news", "subscribe", "wildcard"), "false");
	expect(f, 0, WAMP_ERROR, &m);
	wamp_msg_clear(&m);
	feed(f, 0, "[64, 5, {\"match\": \"prefix\", \"invoke\": \"roundrobin\"}, \"com.pub.\"]");
	answer(f, question(f, "com.pub.", "register", "prefix"), "true");
	expect(f, 0, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
}

/* #17 finding 4: a testament is authorized as a PUBLISH by the dynamic authorizer too; the
 * CALL asks two questions (the call, then the publish) and comes back whole for each, also
 * for a caller of progressive invocations (whose CALL ids are remembered). */
static void test_dynamic_testament(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;
	enum wampd_err err;
	json_t *args;
	uint64_t inv;

	join_dynamic(f, 0, "{\"roles\": {\"caller\": {\"features\": "
	                   "{\"progressive_call_invocations\": true}}}}");
	feed(f, 0, "[48, 1, {}, \"wamp.session.add_testament\", [\"com.t\", [1], {}], "
	           "{\"publish_options\": {\"retain\": true}}]");
	answer(f, question(f, "wamp.session.add_testament", "call", "exact"),
	       "{\"allow\": true, \"cache\": false}");
	expect(f, 1, WAMP_INVOCATION, &m);
	inv = m.id[0];
	args = wamp_payload_args(&m.payload, &err);
	assert_string_equal(json_string_value(json_array_get(args, 1)), "com.t");
	assert_string_equal(json_string_value(json_array_get(args, 2)), "publish");
	assert_true(wamp_dict_bool(json_array_get(args, 3), "retain", false)); /* its options */
	json_decref(args);
	wamp_msg_clear(&m);
	answer(f, inv, "false");
	expect(f, 0, WAMP_ERROR, &m);
	assert_int_equal(m.id[0], WAMP_CALL);
	assert_int_equal(m.id[1], 1);
	assert_string_equal(m.uri, "wamp.error.not_authorized");
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0); /* no third question */

	/* allowed: asked again (nothing cached), then RESULT */
	feed(f, 0, "[48, 2, {}, \"wamp.session.add_testament\", [\"com.t\", [2], {}]]");
	answer(f, question(f, "wamp.session.add_testament", "call", "exact"), "true");
	answer(f, question(f, "com.t", "publish", "exact"), "true");
	expect(f, 0, WAMP_RESULT, &m);
	assert_int_equal(m.id[0], 2);
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
	assert_int_equal(json_array_size(f->p[0].s->testaments_destroyed), 1);
}

/* What the transport knows of its peer is the state machine's from the open on (s->proto):
 * the TLS identity is taken over and offered to the tls method, HELLO.Details kept only
 * until WELCOME, and all of it freed when the transport closes. */
static void test_transport_state_belongs_to_the_state_machine(void **state)
{
	struct fixture *f = *state;
	struct proto_peer peer = {.auth = &f->auth, .tls_cn = strdup("joe")};
	struct wamp_msg m;

	f->auth.m[AUTH_TLS].enabled = true;
	f->auth.m[AUTH_TLS].role = strdup("user");
	proto_transport_closed(&f->rt, f->p[0].s);
	assert_null(f->p[0].s->proto);
	fake_peer_destroy(&f->p[0]);
	fake_peer_session(&f->p[0], WAMP_SER_JSON, &f->rt.metrics);
	assert_true(proto_transport_open(&f->rt, f->p[0].s, &peer));
	assert_null(peer.tls_cn); /* taken over */
	assert_non_null(f->p[0].s->proto);
	assert_string_equal(proto_tls_cn(f->p[0].s), "joe");
	feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"tls\"]}]");
	expect(f, 0, WAMP_WELCOME, &m);
	assert_string_equal(wamp_dict_str(m.dict, "authid", ""), "joe");
	assert_string_equal(wamp_dict_str(m.dict, "authmethod", ""), "tls");
	wamp_msg_clear(&m);
	proto_transport_closed(&f->rt, f->p[0].s);
	assert_null(f->p[0].s->proto); /* freed (ASan: nothing leaks) */
	assert_null(proto_tls_cn(f->p[0].s));
}

/* Dynamic tls through the state machine: the authenticator is invoked with the certificate's
 * CN and the facts the transport handed over (not the HELLO's claims); its role answer
 * WELCOMEs, its ERROR ABORTs; a session without a certificate is refused without an
 * invocation. The facts are the state machine's from the open on, freed at close. */
static void test_tls_dynamic_authenticator(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;
	json_t *args, *transport;
	enum wampd_err err;
	uint64_t inv;
	const char *forged = "[1, \"realm1\", {\"authmethods\": [\"tls\"], \"authid\": \"admin\", "
	                     "\"transport\": {\"client_cert\": {\"sha1\": \"00\", \"subject\": "
	                     "{\"cn\": \"admin\"}}, \"peer_cert\": {\"sha1\": \"00\"}}}]";

	f->auth.m[AUTH_TLS].enabled = true;
	f->auth.m[AUTH_TLS].dynamic = true;
	f->auth.m[AUTH_TLS].authenticator = strdup("com.authenticate.tls");
	service(f, "com.authenticate.tls");
	for (int round = 0; round < 2; round++) {
		struct proto_peer peer = {.auth = &f->auth, .tls_cn = strdup("device-7"),
		                          .tls_cert = json_pack("{s:s, s:{s:s}}", "sha1", "E0:E1",
		                                                "subject", "cn", "device-7")};

		proto_transport_closed(&f->rt, f->p[0].s);
		fake_peer_destroy(&f->p[0]);
		fake_peer_session(&f->p[0], WAMP_SER_JSON, &f->rt.metrics);
		assert_true(proto_transport_open(&f->rt, f->p[0].s, &peer));
		assert_null(peer.tls_cert); /* taken over */
		feed(f, 0, "%s", forged);
		expect(f, 1, WAMP_INVOCATION, &m);
		inv = m.id[0];
		args = wamp_payload_args(&m.payload, &err);
		assert_string_equal(json_string_value(json_array_get(args, 1)), "device-7");
		transport = json_object_get(json_array_get(args, 2), "transport");
		assert_string_equal(wamp_dict_str(json_object_get(transport, "client_cert"), "sha1",
		                                  ""), "E0:E1");
		assert_string_equal(wamp_dict_str(json_object_get(transport, "peer_cert"), "sha1",
		                                  ""), "E0:E1");
		json_decref(args);
		wamp_msg_clear(&m);
		assert_int_equal(fake_peer_pending(&f->p[0]), 0); /* waiting for the answer */
		if (round == 0) {
			feed(f, 1, "[70, %llu, {}, [\"user\"]]", (unsigned long long)inv);
			expect(f, 0, WAMP_WELCOME, &m);
			assert_string_equal(wamp_dict_str(m.dict, "authid", ""), "device-7");
			assert_string_equal(wamp_dict_str(m.dict, "authrole", ""), "user");
			assert_string_equal(wamp_dict_str(m.dict, "authmethod", ""), "tls");
			assert_string_equal(wamp_dict_str(m.dict, "authprovider", ""), "dynamic");
		} else {
			feed(f, 1, "[8, 68, %llu, {}, \"com.example.invalid_cert\"]",
			     (unsigned long long)inv);
			expect(f, 0, WAMP_ABORT, &m);
			assert_string_equal(m.uri, "wamp.error.authentication_failed");
		}
		wamp_msg_clear(&m);
	}
	/* no certificate: refused at HELLO, the authenticator never invoked */
	feed(f, 2, "%s", forged);
	expect(f, 2, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.no_matching_auth_method");
	wamp_msg_clear(&m);
	assert_int_equal(fake_peer_pending(&f->p[1]), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ticket_challenge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_transport_state_belongs_to_the_state_machine,
		                                setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_ticket_and_state, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failures_per_address_block, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_such_role, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dynamic_authenticator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_dynamic_authenticator, setup, teardown),
		cmocka_unit_test_setup_teardown(test_authenticator_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_register_guard, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_deadline_ends_at_welcome, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dynamic_authorizer_parks_requests, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_dynamic_authorizer_match_policy, setup,
		                                teardown),
		cmocka_unit_test_setup_teardown(test_dynamic_testament, setup, teardown),
	};

	ids_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
