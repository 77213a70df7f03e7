/*
 * test_resume.c - resumable sessions, the router's side (router/core/resume.c,
 * realm/replay.c), through the state machine with fake transports and a fake clock:
 * the offer at WELCOME, counting and ACK pacing, detaching on a lost transport, resuming
 * with the exact replay, what is refused (wrong, used or another authid's token; ACK
 * without resumable), what ends a detached session (window, kill, log bound) and what it
 * then does (calls canceled, testaments), the takeover of a half-open connection, the
 * place a detached session keeps in the connection limits, and what the admin status page
 * and the metrics see of detached sessions (replay_status, the counters), and how the
 * dealer chooses among the callees of a shared registration when some are detached
 * (attached ones first, for every invoke policy; a call already routed stays).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/clock.h"
#include "realm/replay.h"
#include "router/core/iplimit.h"
#include "router/core/protocol.h"
#include "router/core/resume.h"
#include "tests/lib/fake_peer.h"
#include "tests/lib/fake_timers.h"

#define NPEERS 8
#define WINDOW_S 30

struct fixture {
	struct router rt;
	struct auth_config auth;
	struct auth_config auth2; /* another listener's (test_resume_takes_connection) */
	struct fake_peer p[NPEERS];
};

static struct realm *realm1(struct fixture *f)
{
	return realms_find(&f->rt.realms, "realm1");
}

static void add_ticket(struct fixture *f, const char *authid, const char *ticket)
{
	struct auth_principal *pr = calloc(1, sizeof(*pr));
	json_t *cred = json_pack("{s:s}", "ticket", ticket);
	char err[128];

	pr->authid = strdup(authid);
	pr->role = strdup("user");
	assert_true(auth_principal_configure(AUTH_TICKET, pr, cred, err, sizeof(err)));
	json_decref(cred);
	HASH_ADD_KEYPTR(hh, f->auth.m[AUTH_TICKET].principals, pr->authid, strlen(pr->authid), pr);
}

/* The transport opens p[who]'s session: serializer ser, the fixture's authentication. */
static void open_peer(struct fixture *f, int who, enum wamp_ser ser)
{
	struct proto_peer peer = {.auth = &f->auth};

	fake_peer_session(&f->p[who], ser, &f->rt.metrics);
	assert_true(proto_transport_open(&f->rt, f->p[who].s, &peer));
}

static int setup_max(void **state, size_t max_bytes)
{
	static struct fixture f;
	struct config cfg;

	memset(&f, 0, sizeof(f));
	assert_true(config_default(&cfg));
	cfg.realms[0].resume_window_s = WINDOW_S;
	cfg.realms[0].resume_max_bytes = max_bytes;
	assert_true(router_init(&f.rt, &cfg, NULL));
	fake_timers_install(&f.rt.realms);
	f.auth.m[AUTH_ANONYMOUS].enabled = true;
	f.auth.m[AUTH_ANONYMOUS].role = strdup("anonymous");
	f.auth.m[AUTH_TICKET].enabled = true;
	add_ticket(&f, "joe", "t-joe");
	add_ticket(&f, "amy", "t-amy");
	for (int i = 0; i < NPEERS; i++)
		open_peer(&f, i, WAMP_SER_JSON);
	*state = &f;
	return 0;
}

static int setup(void **state)
{
	return setup_max(state, 1u << 20);
}

static int setup_small(void **state)
{
	return setup_max(state, 2048);
}

/* The transport of p[who] is gone (as ws.c/raw.c do it: the session is freed unless it
 * was detached, which leaves the peer without one). */
static void lose(struct fixture *f, int who)
{
	struct fake_peer *p = &f->p[who];

	if (!p->s)
		return;
	proto_transport_closed(&f->rt, p->s);
	session_free(p->s);
	p->s = NULL;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	f->rt.shutting_down = true; /* nothing detaches any more */
	for (int i = 0; i < NPEERS; i++) {
		lose(f, i);
		fake_peer_reset(&f->p[i]);
	}
	resume_end_all(&f->rt);
	assert_int_equal(realm1(f)->nsessions, 0);
	router_destroy(&f->rt);
	auth_config_clear(&f->auth);
	auth_config_clear(&f->auth2);
	assert_int_equal(fake_timers_pending(), 0);
	return 0;
}

static void feed(struct fixture *f, int who, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void feed(struct fixture *f, int who, const char *fmt, ...)
{
	char json[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(json, sizeof(json), fmt, ap);
	va_end(ap);
	assert_non_null(f->p[who].s);
	proto_receive(&f->rt, f->p[who].s, (const uint8_t *)json, strlen(json));
}

static void expect(struct fixture *f, int who, enum wamp_type type, struct wamp_msg *m)
{
	if (!fake_peer_next(&f->p[who], m))
		fail_msg("peer %d got nothing, expected %s", who, wamp_type_name(type));
	if (m->type != type)
		fail_msg("peer %d got %s %s, expected %s", who, wamp_type_name(m->type),
		         m->uri ? m->uri : "", wamp_type_name(type));
}

static void expect_nothing(struct fixture *f, int who)
{
	struct wamp_msg m;

	if (fake_peer_next(&f->p[who], &m))
		fail_msg("peer %d got %s, expected nothing", who, wamp_type_name(m.type));
}

static void expect_abort(struct fixture *f, int who, const char *uri)
{
	struct wamp_msg m;

	expect(f, who, WAMP_ABORT, &m);
	assert_string_equal(m.uri, uri);
	wamp_msg_clear(&m);
}

struct joined {
	uint64_t id;
	char token[REPLAY_TOKEN_B64];
	bool resumable, resumed;
	json_int_t received;
};

/* HELLO (details: a JSON object's members, may be ""), as anonymous or, with ticket,
 * as that ticket's authid; WELCOME expected. */
static struct joined join_as(struct fixture *f, int who, const char *authid, const char *ticket,
                             const char *details)
{
	struct joined j = {0};
	struct wamp_msg m;
	const char *tok;

	if (ticket) {
		feed(f, who, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"%s\"%s%s}]",
		     authid, *details ? ", " : "", details);
		expect(f, who, WAMP_CHALLENGE, &m);
		wamp_msg_clear(&m);
		feed(f, who, "[5, \"%s\", {}]", ticket);
	} else {
		feed(f, who, "[1, \"realm1\", {%s}]", details);
	}
	expect(f, who, WAMP_WELCOME, &m);
	j.id = m.id[0];
	j.resumable = wamp_dict_bool(m.dict, "resumable", false);
	j.resumed = wamp_dict_bool(m.dict, "resumed", false);
	j.received = wamp_dict_int(m.dict, "received", -1);
	tok = wamp_dict_str(m.dict, "resume-token", NULL);
	if (tok) {
		assert_int_equal(strlen(tok), REPLAY_TOKEN_B64 - 1);
		strcpy(j.token, tok);
		assert_int_equal(wamp_dict_int(m.dict, "resume_window_s", 0), WINDOW_S);
	}
	wamp_msg_clear(&m);
	return j;
}

static struct joined join(struct fixture *f, int who, const char *details)
{
	return join_as(f, who, NULL, NULL, details);
}

/* HELLO asking to resume `id` with `token` having received n messages. */
static struct joined resume(struct fixture *f, int who, uint64_t id, const char *token,
                            long long n)
{
	char d[256];

	snprintf(d, sizeof(d), "\"resumable\": true, \"resume\": {\"session\": %llu, \"token\": "
	         "\"%s\", \"received\": %lld}", (unsigned long long)id, token, n);
	return join(f, who, d);
}

/* HELLO asking to resume `id` with `token` (nothing received): refused with ABORT
 * wamp.error.authentication_failed. */
static void resume_refused(struct fixture *f, int who, uint64_t id, const char *token)
{
	feed(f, who, "[1, \"realm1\", {\"resume\": {\"session\": %llu, \"token\": \"%s\", "
	     "\"received\": 0}}]", (unsigned long long)id, token);
	expect_abort(f, who, "wamp.error.authentication_failed");
}

/* The next message of p[who] is EVENT with args [n]. */
static void expect_event(struct fixture *f, int who, int n)
{
	struct wamp_msg m;
	enum wampd_err perr;
	json_t *args;

	expect(f, who, WAMP_EVENT, &m);
	args = wamp_payload_args(&m.payload, &perr);
	if (json_integer_value(json_array_get(args, 0)) != n)
		fail_msg("peer %d: event %lld, expected %d", who,
		         (long long)json_integer_value(json_array_get(args, 0)), n);
	json_decref(args);
	wamp_msg_clear(&m);
}

static void publish(struct fixture *f, int who, int n)
{
	feed(f, who, "[16, %d, {}, \"com.t\", [%d]]", 1000 + n, n);
}

static void subscribe(struct fixture *f, int who)
{
	struct wamp_msg m;

	feed(f, who, "[32, 1, {}, \"com.t\"]");
	expect(f, who, WAMP_SUBSCRIBED, &m);
	wamp_msg_clear(&m);
}

static struct session *in_realm(struct fixture *f, uint64_t id)
{
	return realm_session(realm1(f), id);
}

/* ------------------------------------------------------------------------------------ */

static void test_offer(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true");
	struct joined b = join(f, 1, "");
	struct wamp_msg m;

	assert_true(a.resumable);
	assert_false(a.resumed);
	assert_non_null(f->p[0].s->resume);
	/* one who did not ask gets nothing of it, and may not send ACK */
	assert_false(b.resumable);
	assert_null(f->p[1].s->resume);
	feed(f, 1, "[7, 0]");
	expect(f, 1, WAMP_ABORT, &m);
	assert_string_equal(m.uri, "wamp.error.protocol_violation");
	assert_non_null(strstr(wamp_dict_str(m.dict, "message", ""),
	                       "ACK on a session that did not negotiate resumable"));
	wamp_msg_clear(&m);
	/* a realm that does not offer it: resumable false */
	realm1(f)->resume.window_s = 0;
	a = join(f, 2, "\"resumable\": true");
	assert_false(a.resumable);
	assert_null(f->p[2].s->resume);
	/* and asking to resume there: an ordinary new session, resumed false */
	feed(f, 3, "[1, \"realm1\", {\"resume\": {\"session\": 1, \"token\": \"x\", "
	     "\"received\": 0}}]");
	expect(f, 3, WAMP_WELCOME, &m);
	assert_true(json_is_false(json_object_get(m.dict, "resumed")));
	wamp_msg_clear(&m);
}

static void test_ack_pacing(void **state)
{
	struct fixture *f = *state;
	struct wamp_msg m;

	join(f, 0, "\"resumable\": true");
	for (int i = 1; i < REPLAY_ACK_EVERY; i++)
		publish(f, 0, i);
	expect_nothing(f, 0);
	publish(f, 0, REPLAY_ACK_EVERY);
	expect(f, 0, WAMP_ACK, &m);
	assert_int_equal(m.id[0], REPLAY_ACK_EVERY);
	wamp_msg_clear(&m);
	fake_peer_reset(&f->p[0]); /* written: the transport let go of it */
	/* one more: acknowledged a second later, not before */
	publish(f, 0, 100);
	fake_timers_advance(REPLAY_ACK_DELAY_MS - 1);
	expect_nothing(f, 0);
	fake_timers_advance(1);
	expect(f, 0, WAMP_ACK, &m);
	assert_int_equal(m.id[0], REPLAY_ACK_EVERY + 1);
	wamp_msg_clear(&m);
	/* an ACK still queued (not written): no second one piles up behind it */
	for (int i = 0; i < REPLAY_ACK_EVERY; i++)
		publish(f, 0, i);
	expect_nothing(f, 0);
	fake_peer_reset(&f->p[0]);
	fake_timers_advance(REPLAY_ACK_DELAY_MS);
	expect(f, 0, WAMP_ACK, &m);
	assert_int_equal(m.id[0], 2 * REPLAY_ACK_EVERY + 1);
	wamp_msg_clear(&m);
	/* idle: none */
	fake_timers_advance(10 * REPLAY_ACK_DELAY_MS);
	expect_nothing(f, 0);
}

static void test_client_ack(void **state)
{
	struct fixture *f = *state;
	struct session_resume *rs;

	join(f, 0, "\"resumable\": true");
	join(f, 1, "");
	subscribe(f, 0);
	for (int i = 1; i <= 3; i++)
		publish(f, 1, i);
	rs = f->p[0].s->resume;
	assert_int_equal(rs->sent, 4); /* SUBSCRIBED and three EVENTs */
	assert_int_equal(rs->count, 4);
	feed(f, 0, "[7, 3]");
	assert_int_equal(rs->count, 1);
	feed(f, 0, "[7, 3]"); /* the same again: nothing */
	assert_int_equal(rs->count, 1);
	assert_int_equal(rs->received, 1); /* the SUBSCRIBE; ACKs are not counted */
	/* backwards, or beyond what was sent: a protocol violation, saying why */
	feed(f, 0, "[7, 5]");
	{
		struct wamp_msg m = {0};

		/* after what it was sent (SUBSCRIBED, EVENTs), the ABORT */
		while (fake_peer_next(&f->p[0], &m) && m.type != WAMP_ABORT)
			wamp_msg_clear(&m);
		assert_int_equal(m.type, WAMP_ABORT);
		assert_string_equal(m.uri, "wamp.error.protocol_violation");
		assert_non_null(strstr(wamp_dict_str(m.dict, "message", ""),
		                       "ACK of 5 messages: 4 were sent, 3 acknowledged before"));
		wamp_msg_clear(&m);
	}
	fake_peer_reset(&f->p[0]);
	assert_int_equal(f->p[0].s->state, SESSION_CLOSING);
}

static void test_detach_resume_replay(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true"), b;
	struct session *s = f->p[0].s;
	struct wamp_msg m;

	join(f, 1, "");
	subscribe(f, 0);
	for (int i = 1; i <= 3; i++) {
		publish(f, 1, i);
		expect_event(f, 0, i);
	}
	/* the client saw SUBSCRIBED and events 1, 2 when the link dropped */
	lose(f, 0);
	assert_ptr_equal(in_realm(f, a.id), s);
	assert_true(s->resume->detached);
	assert_int_equal(s->state, SESSION_ESTABLISHED);
	/* the meta API shows it detached */
	feed(f, 1, "[48, 7, {}, \"wamp.session.get\", [%llu]]", (unsigned long long)a.id);
	expect(f, 1, WAMP_RESULT, &m);
	{
		enum wampd_err perr;
		json_t *args = wamp_payload_args(&m.payload, &perr);

		assert_true(json_is_true(json_object_get(json_array_get(args, 0), "detached")));
		json_decref(args);
	}
	wamp_msg_clear(&m);
	/* meanwhile: kept for it */
	publish(f, 1, 4);
	publish(f, 1, 5);
	b = resume(f, 2, a.id, a.token, 3);
	assert_int_equal(b.id, a.id);
	assert_true(b.resumed);
	assert_true(b.resumable);
	assert_int_equal(b.received, 1); /* the router had its SUBSCRIBE */
	assert_string_not_equal(b.token, a.token);
	assert_ptr_equal(f->p[2].s, s);
	assert_false(s->resume->detached);
	/* exactly what it missed, in order, then the live stream */
	expect_event(f, 2, 3);
	expect_event(f, 2, 4);
	expect_event(f, 2, 5);
	expect_nothing(f, 2);
	publish(f, 1, 6);
	expect_event(f, 2, 6);
	assert_int_equal(realm1(f)->nsessions, 2);
}

static void test_refused_tokens(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true"), b;
	char wrong[REPLAY_TOKEN_B64];

	lose(f, 0);
	strcpy(wrong, a.token);
	wrong[0] = wrong[0] == 'A' ? 'B' : 'A';
	feed(f, 1, "[1, \"realm1\", {\"resumable\": true, \"resume\": {\"session\": %llu, "
	     "\"token\": \"%s\", \"received\": 0}}]", (unsigned long long)a.id, wrong);
	expect_abort(f, 1, "wamp.error.authentication_failed");
	feed(f, 2, "[1, \"realm1\", {\"resume\": {\"session\": %llu, \"token\": \"short\", "
	     "\"received\": 0}}]", (unsigned long long)a.id);
	expect_abort(f, 2, "wamp.error.authentication_failed");
	/* untouched by the attempts */
	assert_non_null(in_realm(f, a.id));
	assert_true(in_realm(f, a.id)->resume->detached);
	b = resume(f, 3, a.id, a.token, 0);
	assert_true(b.resumed);
	/* the token worked once: once the client spoke on the resumed connection (it has the
	 * new token), a second use is refused, the session left alone */
	feed(f, 3, "[16, 1, {}, \"com.spoke\"]");
	lose(f, 3);
	resume_refused(f, 4, a.id, a.token);
	assert_true(resume(f, 5, a.id, b.token, 0).resumed);
}

/* A resume WELCOME lost with its link (the client never spoke on that connection): the
 * token it resumed with works once more, the lost WELCOME's token does not, and once the
 * client speaks the one it resumed with is used up. */
static void test_lost_welcome_token(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true"), lost, b;

	lose(f, 0);
	lost = resume(f, 1, a.id, a.token, 0);
	assert_true(lost.resumed);
	lose(f, 1); /* before the client read the WELCOME */
	b = resume(f, 2, a.id, a.token, 0);
	assert_true(b.resumed);
	assert_int_equal(b.id, a.id);
	assert_string_not_equal(b.token, lost.token);
	lose(f, 2);
	/* the lost WELCOME's token was replaced */
	resume_refused(f, 3, a.id, lost.token);
	/* the client speaks on its next resume: the token it resumed with is used up */
	lost = resume(f, 4, a.id, b.token, 0);
	assert_true(lost.resumed);
	feed(f, 4, "[16, 1, {}, \"com.spoke\"]");
	lose(f, 4);
	resume_refused(f, 5, a.id, b.token);
	assert_true(resume(f, 6, a.id, lost.token, 0).resumed);
}

static void test_other_authid(void **state)
{
	struct fixture *f = *state;
	struct joined a = join_as(f, 0, "joe", "t-joe", "\"resumable\": true"), b;
	char d[256];

	lose(f, 0);
	snprintf(d, sizeof(d), "\"resumable\": true, \"resume\": {\"session\": %llu, \"token\": "
	         "\"%s\", \"received\": 0}", (unsigned long long)a.id, a.token);
	/* amy holding joe's token */
	feed(f, 1, "[1, \"realm1\", {\"authmethods\": [\"ticket\"], \"authid\": \"amy\", %s}]", d);
	{
		struct wamp_msg m;

		expect(f, 1, WAMP_CHALLENGE, &m);
		wamp_msg_clear(&m);
	}
	feed(f, 1, "[5, \"t-amy\", {}]");
	expect_abort(f, 1, "wamp.error.authentication_failed");
	/* an anonymous connection holding it */
	feed(f, 2, "[1, \"realm1\", {%s}]", d);
	expect_abort(f, 2, "wamp.error.authentication_failed");
	/* joe himself */
	b = join_as(f, 3, "joe", "t-joe", d);
	assert_true(b.resumed);
	assert_int_equal(b.id, a.id);
}

static void test_window_expires(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true"), b;
	struct wamp_msg m;

	join(f, 1, "");
	/* p0: a callee with a testament; p1 watches the testament's topic and calls p0 */
	feed(f, 0, "[64, 1, {}, \"com.p\"]");
	expect(f, 0, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	feed(f, 0, "[48, 2, {}, \"wamp.session.add_testament\", [\"com.gone\", [1], {}], "
	     "{\"scope\": \"destroyed\"}]");
	expect(f, 0, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	feed(f, 1, "[32, 1, {}, \"com.gone\"]");
	expect(f, 1, WAMP_SUBSCRIBED, &m);
	wamp_msg_clear(&m);
	lose(f, 0);
	/* detached: its testament does not fire, a call to it waits */
	expect_nothing(f, 1);
	feed(f, 1, "[48, 9, {}, \"com.p\", [1]]");
	expect_nothing(f, 1);
	fake_timers_advance(WINDOW_S * 1000 - 1);
	assert_non_null(in_realm(f, a.id));
	expect_nothing(f, 1);
	/* the window passes: it ends as a session ends */
	fake_timers_advance(1);
	assert_null(in_realm(f, a.id));
	expect(f, 1, WAMP_ERROR, &m);
	assert_int_equal(m.id[0], WAMP_CALL);
	assert_int_equal(m.id[1], 9);
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	expect(f, 1, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
	/* too late: an ordinary new session */
	b = resume(f, 2, a.id, a.token, 0);
	assert_false(b.resumed);
	assert_int_not_equal(b.id, a.id);
	assert_true(b.resumable);
}

static void test_call_answered_once(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true");
	struct wamp_msg m;
	uint64_t inv;

	join(f, 1, "");
	feed(f, 0, "[64, 1, {}, \"com.p\"]");
	expect(f, 0, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	lose(f, 0);
	feed(f, 1, "[48, 9, {}, \"com.p\", [1]]");
	/* the callee comes back, having received only REGISTERED */
	assert_true(resume(f, 2, a.id, a.token, 1).resumed);
	expect(f, 2, WAMP_INVOCATION, &m);
	inv = m.id[0];
	wamp_msg_clear(&m);
	expect_nothing(f, 2);
	feed(f, 2, "[70, %llu, {}, [2]]", (unsigned long long)inv);
	expect(f, 1, WAMP_RESULT, &m);
	assert_int_equal(m.id[0], 9);
	wamp_msg_clear(&m);
	expect_nothing(f, 1);
}

static void test_client_replays(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true"), b;

	join(f, 1, "");
	subscribe(f, 1);
	/* the router received two publications; the client sent a third that was lost */
	publish(f, 0, 1);
	publish(f, 0, 2);
	expect_event(f, 1, 1);
	expect_event(f, 1, 2);
	lose(f, 0);
	b = resume(f, 2, a.id, a.token, 0);
	assert_true(b.resumed);
	assert_int_equal(b.received, 2); /* so the client sends its third again, only it */
	publish(f, 2, 3);
	expect_event(f, 1, 3);
	expect_nothing(f, 1);
}

static void test_takeover_half_open(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true"), b;
	struct session *s = f->p[0].s;

	/* the router has not seen p0's connection die: a resume takes the session over */
	b = resume(f, 1, a.id, a.token, 0);
	assert_true(b.resumed);
	assert_true(f->p[0].closed);
	assert_true(f->p[0].close_now);
	assert_null(f->p[0].s);
	assert_ptr_equal(f->p[1].s, s);
	feed(f, 1, "[16, 1, {}, \"com.spoke\"]"); /* p1 has the new token */
	/* a used token cannot take over a live session */
	resume_refused(f, 2, a.id, a.token);
	assert_false(f->p[1].closed);
	assert_ptr_equal(f->p[1].s, s);
}

static void test_cannot_resume_ends_old(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true"), b;

	lose(f, 0);
	/* a count beyond what the router sent: the right token, but no resume; the old
	 * session ends at once instead of holding its registrations for the window */
	b = resume(f, 1, a.id, a.token, 5);
	assert_false(b.resumed);
	assert_int_not_equal(b.id, a.id);
	fake_timers_advance(0);
	assert_null(in_realm(f, a.id));
	/* another serializer likewise */
	a = join(f, 2, "\"resumable\": true");
	lose(f, 2);
	lose(f, 3);
	open_peer(f, 3, WAMP_SER_MSGPACK);
	{
		char json[256];
		struct wamp_msg m;
		struct wamp_out *o;
		enum wampd_err err;

		snprintf(json, sizeof(json), "[1, \"realm1\", {\"resume\": {\"session\": %llu, "
		         "\"token\": \"%s\", \"received\": 0}}]", (unsigned long long)a.id, a.token);
		fake_msg(json, &m);
		o = wamp_encode(WAMP_SER_MSGPACK, &m, &err);
		wamp_msg_clear(&m);
		proto_receive(&f->rt, f->p[3].s, wamp_out_data(o), o->len);
		wamp_out_unref(o);
		expect(f, 3, WAMP_WELCOME, &m);
		assert_true(json_is_false(json_object_get(m.dict, "resumed")));
		wamp_msg_clear(&m);
	}
	fake_timers_advance(0);
	assert_null(in_realm(f, a.id));
}

/* The transport opens p[who]'s session with `auth` and a verified client certificate
 * (common name cn, SHA-1 all `fp`, channel binding all `fp`, facts for dynamic
 * authenticators {"sha1": "fp" in hex}), with the HELLO deadline or not. */
static void open_tls_peer(struct fixture *f, int who, const struct auth_config *auth,
                          const char *cn, uint8_t fp, bool deadline)
{
	struct proto_peer peer = {.auth = auth, .tls_cn = strdup(cn), .tls_cert_sha1 = malloc(20),
	                          .tls_channel_id = malloc(32), .hello_deadline = deadline};
	char hex[3];

	snprintf(hex, sizeof(hex), "%02x", fp);
	peer.tls_cert = json_pack("{s:s}", "sha1", hex);

	memset(peer.tls_cert_sha1, fp, 20);
	memset(peer.tls_channel_id, fp, 32);
	fake_peer_session(&f->p[who], WAMP_SER_JSON, &f->rt.metrics);
	assert_true(proto_transport_open(&f->rt, f->p[who].s, &peer));
}

/*
 * A resumed session is carried by the new connection with everything the state machine
 * knows of that connection: its listener's authentication, its TLS identity (common name,
 * certificate SHA-1, channel binding) and its HELLO deadline; the old connection's are freed
 * with the spent session (ASan). Seen after a GOODBYE, when the same connection says HELLO
 * again: with the old connection's facts the tls method would name another principal (or
 * none), and no HELLO deadline would close an idle connection.
 */
static void test_resume_takes_connection(void **state)
{
	struct fixture *f = *state;
	struct auth_principal *pr = calloc(1, sizeof(*pr));
	json_t *cred = json_pack("{s:s}", "certificate-sha1",
	                         "2222222222222222222222222222222222222222");
	struct joined a, b;
	struct session *s;
	struct wamp_msg m;
	char err[128], d[256];

	/* both listeners: tls for the certificate of fingerprint 22..22, as authid dev, role
	 * user; the old connection's certificate names itself dev-old, the new one dev-new */
	f->auth.m[AUTH_TLS].enabled = true;
	f->auth2.m[AUTH_TLS].enabled = true;
	pr->authid = strdup("dev");
	pr->role = strdup("user");
	assert_true(auth_principal_configure(AUTH_TLS, pr, cred, err, sizeof(err)));
	json_decref(cred);
	HASH_ADD_KEYPTR(hh, f->auth.m[AUTH_TLS].principals, pr->authid, strlen(pr->authid), pr);
	pr = calloc(1, sizeof(*pr));
	cred = json_pack("{s:s}", "certificate-sha1", "2222222222222222222222222222222222222222");
	pr->authid = strdup("dev");
	pr->role = strdup("user");
	assert_true(auth_principal_configure(AUTH_TLS, pr, cred, err, sizeof(err)));
	json_decref(cred);
	HASH_ADD_KEYPTR(hh, f->auth2.m[AUTH_TLS].principals, pr->authid, strlen(pr->authid), pr);

	lose(f, 0);
	open_tls_peer(f, 0, &f->auth, "dev-old", 0x22, false);
	a = join(f, 0, "\"authmethods\": [\"tls\"], \"resumable\": true");
	assert_true(a.resumable);
	s = f->p[0].s;
	assert_string_equal(s->authid, "dev");
	lose(f, 0);
	assert_true(s->resume->detached);

	snprintf(d, sizeof(d), "\"authmethods\": [\"tls\"], \"resumable\": true, \"resume\": "
	         "{\"session\": %llu, \"token\": \"%s\", \"received\": 0}",
	         (unsigned long long)a.id, a.token);
	/* through another listener, the same identity and the right token: the session is as
	 * unknown there, a new session, and it is left alone */
	lose(f, 1);
	open_tls_peer(f, 1, &f->auth2, "dev-new", 0x22, true);
	b = join(f, 1, d);
	assert_false(b.resumed);
	assert_true(b.id != a.id);
	assert_true(s->resume->detached);
	assert_false(s->resume->ended);

	lose(f, 1);
	fake_peer_reset(&f->p[1]); /* what it was sent */
	open_tls_peer(f, 1, &f->auth, "dev-new", 0x22, true);
	b = join(f, 1, d);
	assert_true(b.resumed);
	assert_ptr_equal(f->p[1].s, s);
	assert_string_equal(proto_tls_cn(s), "dev-new");

	/* GOODBYE, then HELLO again on the new connection: its listener, its certificate */
	feed(f, 1, "[6, {}, \"wamp.close.close_realm\"]");
	expect(f, 1, WAMP_GOODBYE, &m);
	wamp_msg_clear(&m);
	feed(f, 1, "[1, \"realm1\", {\"authmethods\": [\"tls\"]}]");
	expect(f, 1, WAMP_WELCOME, &m);
	assert_string_equal(wamp_dict_str(m.dict, "authid", ""), "dev");
	assert_string_equal(wamp_dict_str(m.dict, "authmethod", ""), "tls");
	wamp_msg_clear(&m);
	/* and its HELLO deadline: idle after another GOODBYE, it is closed */
	feed(f, 1, "[6, {}, \"wamp.close.close_realm\"]");
	expect(f, 1, WAMP_GOODBYE, &m);
	wamp_msg_clear(&m);
	fake_timers_advance(f->rt.cfg.hello_timeout_s * 1000u - 1);
	assert_false(f->p[1].closed);
	fake_timers_advance(1);
	assert_true(f->p[1].closed);
}

/* The dynamic authenticator p[2] serves: the next INVOCATION's details name the client
 * certificate whose facts are {"sha1": sha1} and hold no resume token; it answers `role`. */
static void authenticator_answers(struct fixture *f, const char *sha1, const char *role)
{
	struct wamp_msg m;
	enum wampd_err err;
	const json_t *d;
	json_t *args;

	expect(f, 2, WAMP_INVOCATION, &m);
	args = wamp_payload_args(&m.payload, &err);
	d = json_array_get(args, 2);
	assert_string_equal(wamp_dict_str(json_object_get(json_object_get(d, "transport"),
	                                                  "client_cert"), "sha1", ""), sha1);
	assert_null(json_object_get(json_object_get(d, "resume"), "token"));
	json_decref(args);
	feed(f, 2, "[70, %llu, {}, [\"%s\"]]", (unsigned long long)m.id[0], role);
	wamp_msg_clear(&m);
}

/*
 * The certificate's facts a dynamic authenticator is shown move with the connection too:
 * a resume authenticated by a dynamic tls authenticator (its answer resumes the session,
 * from the dealer's dispatch), then a HELLO after GOODBYE on the new connection shows the
 * new connection's certificate, not the old one's.
 */
static void test_resume_takes_certificate_facts(void **state)
{
	struct fixture *f = *state;
	struct joined a;
	struct session *s;
	struct wamp_msg m;
	char d[256];

	f->auth.m[AUTH_TLS].enabled = true;
	f->auth.m[AUTH_TLS].role = strdup("user");
	f->auth2.m[AUTH_TLS].enabled = true;
	f->auth2.m[AUTH_TLS].dynamic = true;
	f->auth2.m[AUTH_TLS].authenticator = strdup("com.tlsauth");
	join(f, 2, "");
	feed(f, 2, "[64, 1, {}, \"com.tlsauth\"]");
	expect(f, 2, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);

	/* both connections through the dynamic listener (a session resumes only through the
	 * listener it was established on) */
	lose(f, 0);
	open_tls_peer(f, 0, &f->auth2, "dev", 0x11, false);
	feed(f, 0, "[1, \"realm1\", {\"authmethods\": [\"tls\"], \"resumable\": true}]");
	authenticator_answers(f, "11", "user");
	expect(f, 0, WAMP_WELCOME, &m);
	a.id = m.id[0];
	snprintf(a.token, sizeof(a.token), "%s", wamp_dict_str(m.dict, "resume-token", ""));
	wamp_msg_clear(&m);
	s = f->p[0].s;
	lose(f, 0);
	lose(f, 1);
	open_tls_peer(f, 1, &f->auth2, "dev", 0x22, false);
	snprintf(d, sizeof(d), "[1, \"realm1\", {\"authmethods\": [\"tls\"], \"resumable\": "
	         "true, \"resume\": {\"session\": %llu, \"token\": \"%s\", \"received\": 0}}]",
	         (unsigned long long)a.id, a.token);
	proto_receive(&f->rt, f->p[1].s, (const uint8_t *)d, strlen(d));
	authenticator_answers(f, "22", "user");
	expect(f, 1, WAMP_WELCOME, &m);
	assert_true(wamp_dict_bool(m.dict, "resumed", false));
	wamp_msg_clear(&m);
	assert_ptr_equal(f->p[1].s, s);
	assert_int_equal(s->id, a.id);

	feed(f, 1, "[6, {}, \"wamp.close.close_realm\"]");
	expect(f, 1, WAMP_GOODBYE, &m);
	wamp_msg_clear(&m);
	feed(f, 1, "[1, \"realm1\", {\"authmethods\": [\"tls\"]}]");
	authenticator_answers(f, "22", "user");
	expect(f, 1, WAMP_WELCOME, &m);
	assert_string_equal(wamp_dict_str(m.dict, "authid", ""), "dev");
	wamp_msg_clear(&m);
}

static void test_kill_detached(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true");
	struct wamp_msg m;

	join(f, 1, "");
	lose(f, 0);
	feed(f, 1, "[48, 3, {}, \"wamp.session.kill\", [%llu]]", (unsigned long long)a.id);
	expect(f, 1, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	fake_timers_advance(0);
	assert_null(in_realm(f, a.id));
	assert_false(resume(f, 2, a.id, a.token, 0).resumed);
}

static void test_goodbye_ends(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true");
	struct wamp_msg m;

	feed(f, 0, "[6, {}, \"wamp.close.close_realm\"]");
	expect(f, 0, WAMP_GOODBYE, &m);
	wamp_msg_clear(&m);
	assert_null(f->p[0].s->resume);
	lose(f, 0);
	assert_null(in_realm(f, a.id));
	assert_int_equal(fake_timers_pending(), 0);
}

static void test_log_bound_detached(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true");
	char big[600];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	join(f, 1, "");
	subscribe(f, 0);
	lose(f, 0);
	/* 2048 bytes of log: the fourth event of ~620 bytes does not fit, the session ends */
	for (int i = 0; i < 3; i++)
		feed(f, 1, "[16, %d, {}, \"com.t\", [\"%s\"]]", 10 + i, big);
	assert_non_null(in_realm(f, a.id));
	feed(f, 1, "[16, 20, {}, \"com.t\", [\"%s\"]]", big);
	fake_timers_advance(0);
	assert_null(in_realm(f, a.id));
	assert_false(resume(f, 2, a.id, a.token, 1).resumed);
}

/*
 * The realm's budget for the logs of its detached sessions (resume.max_detached_bytes, here
 * 4096 with logs of at most 2048): three detached sessions receive events in turn; when
 * the sum would pass the budget the oldest detached one ends (not the one receiving), and
 * the others resume with everything they were sent. A resumed session leaves the budget.
 */
static void test_detached_budget(void **state)
{
	struct fixture *f = *state;
	struct joined a[3], b;
	struct realm *r = realm1(f);
	char big[600];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	r->resume.max_detached_bytes = 4096;
	join(f, 3, "");
	for (int i = 0; i < 3; i++) {
		a[i] = join(f, i, "\"resumable\": true");
		subscribe(f, i); /* all on com.t: one shared buffer, counted in each log */
	}
	for (int i = 0; i < 3; i++)
		lose(f, i);
	assert_true(r->resume.detached_bytes < 100); /* their SUBSCRIBEDs, not acknowledged */
	/* 2 events of ~620 bytes for each of 3 logs: 3720 bytes, within the budget */
	for (int i = 0; i < 2; i++)
		feed(f, 3, "[16, %d, {}, \"com.t\", [\"%s\"]]", 10 + i, big);
	assert_true(r->resume.detached_bytes <= 4096);
	for (int i = 0; i < 3; i++)
		assert_non_null(in_realm(f, a[i].id));
	/* the third event does not fit for all: the oldest, a[0], ends, the others keep it */
	feed(f, 3, "[16, 12, {}, \"com.t\", [\"%s\"]]", big);
	assert_true(r->resume.detached_bytes <= 4096);
	fake_timers_advance(0);
	assert_null(in_realm(f, a[0].id));
	assert_false(resume(f, 4, a[0].id, a[0].token, 1).resumed);
	/* a[1] resumes with its three events; its log leaves the budget */
	b = resume(f, 5, a[1].id, a[1].token, 1);
	assert_true(b.resumed);
	for (int i = 0; i < 3; i++) {
		struct wamp_msg m;

		expect(f, 5, WAMP_EVENT, &m);
		wamp_msg_clear(&m);
	}
	assert_true(r->resume.detached_bytes > 0 && r->resume.detached_bytes <= 2048);
	assert_non_null(in_realm(f, a[2].id));
}

static void test_log_bound_attached(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true");
	char big[600];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	join(f, 1, "");
	subscribe(f, 0);
	/* a reader that never acknowledges: closed as a slow consumer, not resumable */
	for (int i = 0; i < 4; i++)
		feed(f, 1, "[16, %d, {}, \"com.t\", [\"%s\"]]", 10 + i, big);
	assert_true(f->p[0].closed);
	assert_true(f->p[0].close_now);
	assert_int_equal(f->p[0].s->state, SESSION_CLOSING);
	lose(f, 0);
	assert_null(in_realm(f, a.id));
}

static void test_detached_counts(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true");
	uint32_t before = f->rt.nconns;

	/* a detached session keeps its place in limits.max_sessions and per address */
	lose(f, 0);
	assert_int_equal(f->rt.nconns, before + 1);
	assert_true(resume(f, 1, a.id, a.token, 0).resumed);
	assert_int_equal(f->rt.nconns, before);
	lose(f, 1);
	assert_int_equal(f->rt.nconns, before + 1);
	fake_timers_advance(WINDOW_S * 1000);
	assert_null(in_realm(f, a.id));
	assert_int_equal(f->rt.nconns, before);
	/* no room left at its address: it ends instead of detaching */
	a = join(f, 2, "\"resumable\": true");
	f->rt.ipl.max_conns = 1;
	assert_true(iplimit_conn_open(&f->rt.ipl, "fake"));
	lose(f, 2);
	assert_null(in_realm(f, a.id));
	assert_int_equal(f->rt.nconns, before);
	iplimit_conn_close(&f->rt.ipl, "fake");
}

/* What the status page shows of a detached session: when, the window left, the log
 * against its bound, the calls waiting; nothing for an attached or plain session. And the
 * counters of detaches, resumes and ends, by why. */
static void test_detached_status(void **state)
{
	struct fixture *f = *state;
	struct joined a = join(f, 0, "\"resumable\": true"), c;
	struct replay_status st;
	struct wamp_msg m;
	struct session *s;
	int64_t before_wall = clock_wall_ms(), before_mono;
	char big[300];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	join(f, 1, "");
	feed(f, 0, "[64, 1, {}, \"com.p\"]");
	expect(f, 0, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	subscribe(f, 0);
	s = in_realm(f, a.id);
	assert_false(replay_detached(s));
	assert_false(replay_status(s, clock_mono_ms(), &st)); /* attached */
	assert_false(replay_status(f->p[1].s, clock_mono_ms(), &st)); /* not resumable */

	before_mono = clock_mono_ms();
	lose(f, 0);
	assert_int_equal(f->rt.metrics.sessions_detached, 1);
	/* two calls to its registration wait; one event goes to its log */
	feed(f, 1, "[48, 7, {}, \"com.p\", [1]]");
	feed(f, 1, "[48, 8, {}, \"com.p\", [2]]");
	feed(f, 1, "[16, 9, {}, \"com.t\", [\"%s\"]]", big);
	expect_nothing(f, 1);
	assert_true(replay_detached(s));
	assert_true(replay_status(s, s->resume->detached_mono_ms + 1000, &st));
	assert_true(st.detached_at_ms >= before_wall && st.detached_at_ms <= clock_wall_ms());
	assert_true(s->resume->detached_mono_ms >= before_mono);
	assert_int_equal(st.detached_for_ms, 1000);
	assert_int_equal(st.window_left_ms, WINDOW_S * 1000 - 1000);
	/* REGISTERED, SUBSCRIBED (never acknowledged), two INVOCATIONs, the EVENT */
	assert_int_equal(st.log_messages, 5);
	assert_int_equal(st.log_bytes, s->resume->bytes);
	assert_true(st.log_bytes > sizeof(big));
	assert_int_equal(st.max_bytes, 1u << 20);
	assert_int_equal(st.waiting_calls, 2);
	/* at the end of its window, and after it (the timer decides when it ends) */
	assert_true(replay_status(s, s->resume->detached_mono_ms + WINDOW_S * 1000, &st));
	assert_int_equal(st.window_left_ms, 0);
	assert_true(replay_status(s, s->resume->detached_mono_ms + WINDOW_S * 2000, &st));
	assert_int_equal(st.window_left_ms, 0);
	/* a clock read before the detach counts as the detach */
	assert_true(replay_status(s, s->resume->detached_mono_ms - 5, &st));
	assert_int_equal(st.detached_for_ms, 0);
	assert_int_equal(st.window_left_ms, WINDOW_S * 1000);

	/* resumed: attached again, counted */
	assert_true(resume(f, 2, a.id, a.token, 2).resumed);
	assert_false(replay_status(s, clock_mono_ms(), &st));
	assert_int_equal(f->rt.metrics.sessions_resumed, 1);
	for (int i = 0; i < 3; i++) {
		expect(f, 2, i < 2 ? WAMP_INVOCATION : WAMP_EVENT, &m);
		wamp_msg_clear(&m);
	}
	/* lost again: the window passes (expired) */
	lose(f, 2);
	assert_int_equal(f->rt.metrics.sessions_detached, 2);
	fake_timers_advance(WINDOW_S * 1000);
	assert_null(in_realm(f, a.id));
	assert_int_equal(f->rt.metrics.detached_ended[METRICS_DETACHED_EXPIRED], 1);
	assert_int_equal(f->rt.metrics.detached_ended[METRICS_DETACHED_CLOSED], 0);
	/* killed while detached (closed) */
	c = join(f, 3, "\"resumable\": true");
	lose(f, 3);
	feed(f, 1, "[48, 3, {}, \"wamp.session.kill\", [%llu]]", (unsigned long long)c.id);
	fake_timers_advance(0);
	assert_null(in_realm(f, c.id));
	assert_int_equal(f->rt.metrics.detached_ended[METRICS_DETACHED_CLOSED], 1);
	assert_int_equal(f->rt.metrics.detached_ended[METRICS_DETACHED_EXPIRED], 1);
	assert_int_equal(f->rt.metrics.sessions_detached, 3);
	assert_int_equal(f->rt.metrics.sessions_resumed, 1);
}

/* ---- shared registrations: attached callees first (dealer_pick) ----------------------- */

/* A resumable callee of the shared registration "com.s": its peer, its session, and what
 * its client received before its link was cut (the count it resumes with). */
struct callee {
	int who;
	struct joined j;
	uint64_t got;
};

/* p[who] joins as a resumable callee of com.s with invoke policy `invoke`. */
static struct callee shared_callee(struct fixture *f, int who, const char *invoke)
{
	struct callee c = {.who = who, .j = join(f, who, "\"resumable\": true")};
	struct wamp_msg m;

	feed(f, who, "[64, 1, {\"invoke\": \"%s\"}, \"com.s\"]", invoke);
	expect(f, who, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	return c;
}

/* c's link is cut: its client received everything sent so far (the fake transport
 * delivers at once), `unreceived` messages aside (lost with the link). */
static void cut(struct fixture *f, struct callee *c, uint64_t unreceived)
{
	struct session *s = f->p[c->who].s;

	c->got = s->resume->sent - unreceived;
	lose(f, c->who);
	assert_true(replay_detached(in_realm(f, c->j.id)));
}

/* c's client resumes its session on a new connection of the same peer slot. */
static void come_back(struct fixture *f, struct callee *c)
{
	struct joined b;

	fake_peer_reset(&f->p[c->who]);
	open_peer(f, c->who, WAMP_SER_JSON);
	b = resume(f, c->who, c->j.id, c->j.token, (long long)c->got);
	assert_true(b.resumed);
	assert_int_equal(b.id, c->j.id);
	memcpy(c->j.token, b.token, sizeof(b.token));
	assert_false(replay_detached(f->p[c->who].s));
}

/* The next message of p[who] that is not an ACK, if any. */
static bool next_no_ack(struct fixture *f, int who, struct wamp_msg *m)
{
	while (f->p[who].s && fake_peer_next(&f->p[who], m)) {
		if (m->type != WAMP_ACK)
			return true;
		wamp_msg_clear(m);
	}
	return false;
}

/* p[who] answers the INVOCATION it was given (it must have one) with YIELD [n]. */
static void answer(struct fixture *f, int who, int n)
{
	struct wamp_msg m;

	if (!next_no_ack(f, who, &m))
		fail_msg("peer %d has no INVOCATION", who);
	assert_int_equal(m.type, WAMP_INVOCATION);
	feed(f, who, "[70, %llu, {}, [%d]]", (unsigned long long)m.id[0], n);
	wamp_msg_clear(&m);
}

/* The next message of p[who] is RESULT for CALL request `req` with args [n]. */
static void expect_result(struct fixture *f, int who, uint64_t req, int n)
{
	struct wamp_msg m;
	enum wampd_err perr;
	json_t *args;

	expect(f, who, WAMP_RESULT, &m);
	assert_int_equal(m.id[0], req);
	args = wamp_payload_args(&m.payload, &perr);
	assert_int_equal(json_integer_value(json_array_get(args, 0)), n);
	json_decref(args);
	wamp_msg_clear(&m);
}

/*
 * p[caller] calls com.s (request req): the index in cs[0..n) of the callee whose attached
 * peer got the INVOCATION, which it answers at once, the caller then having its RESULT;
 * -1 when no attached peer got it (it went to a detached callee's log: the caller has
 * nothing yet). Fails when two peers got it.
 */
static int routed_to(struct fixture *f, int caller, struct callee *cs, int n, uint64_t req)
{
	int got = -1;

	feed(f, caller, "[48, %llu, {}, \"com.s\", [%llu]]", (unsigned long long)req,
	     (unsigned long long)req);
	for (int i = 0; i < n; i++) {
		struct fake_peer *p = &f->p[cs[i].who];
		struct wamp_msg m;

		if (!p->s || p->taken == p->nsent)
			continue;
		if (!next_no_ack(f, cs[i].who, &m))
			continue; /* ACKs only */
		if (m.type != WAMP_INVOCATION)
			fail_msg("peer %d got %s, expected INVOCATION", cs[i].who,
			         wamp_type_name(m.type));
		if (got >= 0)
			fail_msg("call %llu invoked on two callees", (unsigned long long)req);
		got = i;
		feed(f, cs[i].who, "[70, %llu, {}, [%d]]", (unsigned long long)m.id[0], i);
		wamp_msg_clear(&m);
	}
	if (got >= 0)
		expect_result(f, caller, req, got);
	else
		expect_nothing(f, caller);
	return got;
}

/* Calls waiting for a callee (its invocations). */
static unsigned waiting(struct fixture *f, const struct callee *c)
{
	return HASH_CNT(hh_callee, in_realm(f, c->j.id)->invocations);
}

/* first and last: the first (last) attached callee; a callee that comes back is first
 * (last) again. */
static void shared_first_last(struct fixture *f, const char *invoke, int edge, int inner)
{
	struct callee cs[3];
	uint64_t req = 1;

	join(f, 0, "");
	for (int i = 0; i < 3; i++)
		cs[i] = shared_callee(f, 1 + i, invoke);
	assert_int_equal(routed_to(f, 0, cs, 3, req++), edge);
	cut(f, &cs[edge], 0);
	for (int i = 0; i < 4; i++) /* answered at once by the next one in line */
		assert_int_equal(routed_to(f, 0, cs, 3, req++), 1);
	cut(f, &cs[1], 0);
	assert_int_equal(routed_to(f, 0, cs, 3, req++), inner);
	assert_int_equal(waiting(f, &cs[edge]) + waiting(f, &cs[1]), 0);
	come_back(f, &cs[edge]);
	expect_nothing(f, cs[edge].who); /* nothing waited for it */
	assert_int_equal(routed_to(f, 0, cs, 3, req++), edge);
}

static void test_shared_first(void **state)
{
	shared_first_last(*state, "first", 0, 2);
}

static void test_shared_last(void **state)
{
	shared_first_last(*state, "last", 2, 0);
}

/* roundrobin: the turn goes round the attached callees evenly, the detached one keeping
 * its place; once it is back it gets its share again. */
static void test_shared_roundrobin(void **state)
{
	struct fixture *f = *state;
	struct callee cs[3];
	int counts[3] = {0};
	uint64_t req = 1;

	join(f, 0, "");
	for (int i = 0; i < 3; i++)
		cs[i] = shared_callee(f, 1 + i, "roundrobin");
	for (int i = 0; i < 3; i++)
		assert_int_equal(routed_to(f, 0, cs, 3, req++), i);
	cut(f, &cs[1], 0);
	/* 0, 2, 0, 2, ...: every call answered now, none waits for 1 */
	for (int i = 0; i < 8; i++)
		assert_int_equal(routed_to(f, 0, cs, 3, req++), i % 2 ? 2 : 0);
	assert_int_equal(waiting(f, &cs[1]), 0);
	come_back(f, &cs[1]);
	expect_nothing(f, cs[1].who);
	/* the turn was at 0 again: 0, 1, 2 */
	for (int i = 0; i < 9; i++)
		counts[routed_to(f, 0, cs, 3, req++)]++;
	for (int i = 0; i < 3; i++)
		assert_int_equal(counts[i], 3);
	/* the cursor on a detached callee: the next attached one, and the turn after it */
	cut(f, &cs[0], 0);
	assert_int_equal(routed_to(f, 0, cs, 3, req++), 1);
	assert_int_equal(routed_to(f, 0, cs, 3, req++), 2);
	assert_int_equal(routed_to(f, 0, cs, 3, req++), 1);
	assert_int_equal(waiting(f, &cs[0]), 0);
}

/* random: uniform among the attached callees. The callee after a detached one must not
 * get its share too (a draw that moved on to the next member would give callee 1 two
 * thirds of the calls). */
static void test_shared_random(void **state)
{
	struct fixture *f = *state;
	struct callee cs[3];
	int counts[3] = {0};
	const int calls = 1200;

	join(f, 0, "");
	for (int i = 0; i < 3; i++)
		cs[i] = shared_callee(f, 1 + i, "random");
	cut(f, &cs[0], 0);
	for (int i = 0; i < calls; i++) {
		int k = routed_to(f, 0, cs, 3, (uint64_t)i + 1);

		assert_true(k == 1 || k == 2); /* never -1: none waits for the detached one */
		counts[k]++;
		if (f->p[0].nsent > FAKE_PEER_MAX / 2)
			fake_peer_reset(&f->p[0]);
		for (int j = 1; j < 3; j++)
			if (f->p[cs[j].who].nsent > FAKE_PEER_MAX / 2)
				fake_peer_reset(&f->p[cs[j].who]);
	}
	assert_int_equal(waiting(f, &cs[0]), 0);
	/* 600 each expected (standard deviation 17); 800 / 400 with the bias */
	if (counts[1] < 500 || counts[1] > 700)
		fail_msg("callee 1 got %d of %d calls, callee 2 %d", counts[1], calls, counts[2]);
}

/* Every callee detached: the call goes to one as the policy says and waits in its log;
 * a callee that comes back takes new calls at once, and the call waiting for the other
 * one stays with it (it gets it when it resumes). */
static void test_shared_all_detached(void **state)
{
	struct fixture *f = *state;
	struct callee cs[2];

	join(f, 0, "");
	for (int i = 0; i < 2; i++)
		cs[i] = shared_callee(f, 1 + i, "roundrobin");
	cut(f, &cs[0], 0);
	cut(f, &cs[1], 0);
	assert_int_equal(routed_to(f, 0, cs, 2, 1), -1); /* waits for 0, the turn's */
	assert_int_equal(waiting(f, &cs[0]), 1);
	assert_int_equal(waiting(f, &cs[1]), 0);
	come_back(f, &cs[1]);
	expect_nothing(f, cs[1].who);
	/* the turn is at 1 now, and 1 is the only one attached anyway */
	assert_int_equal(routed_to(f, 0, cs, 2, 2), 1);
	assert_int_equal(routed_to(f, 0, cs, 2, 3), 1);
	come_back(f, &cs[0]);
	answer(f, cs[0].who, 7); /* the call that waited for it, replayed */
	expect_result(f, 0, 1, 7);
	expect_nothing(f, 0);
}

/* A callee that detaches with an invocation in flight keeps it (it is in its log): the
 * call is neither given to the attached callee nor answered twice; the callee answers it
 * when it resumes, the INVOCATION lost with the link being replayed. */
static void test_shared_inflight_stays(void **state)
{
	struct fixture *f = *state;
	struct callee cs[2];

	join(f, 0, "");
	for (int i = 0; i < 2; i++)
		cs[i] = shared_callee(f, 1 + i, "roundrobin");
	feed(f, 0, "[48, 1, {}, \"com.s\", [1]]");
	fake_peer_reset(&f->p[cs[0].who]); /* the INVOCATION, not received ... */
	cut(f, &cs[0], 1);                 /* ... lost with the link */
	assert_int_equal(waiting(f, &cs[0]), 1);
	for (uint64_t req = 2; req < 6; req++)
		assert_int_equal(routed_to(f, 0, cs, 2, req), 1);
	expect_nothing(f, cs[1].who);
	assert_int_equal(waiting(f, &cs[0]), 1);
	come_back(f, &cs[0]);
	answer(f, cs[0].who, 9);
	expect_result(f, 0, 1, 9);
	expect_nothing(f, 0);
	expect_nothing(f, cs[0].who);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_offer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_pacing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_ack, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detach_resume_replay, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lost_welcome_token, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_authid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_window_expires, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_answered_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_replays, setup, teardown),
		cmocka_unit_test_setup_teardown(test_takeover_half_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cannot_resume_ends_old, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_takes_connection, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resume_takes_certificate_facts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kill_detached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_goodbye_ends, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detached_counts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_detached_status, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_bound_detached, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_log_bound_attached, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_detached_budget, setup_small, teardown),
		cmocka_unit_test_setup_teardown(test_shared_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_last, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_roundrobin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_all_detached, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shared_inflight_stays, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
