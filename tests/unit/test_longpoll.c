/*
 * test_longpoll.c - the WAMP HTTP long-poll transport (router/http/longpoll.c) on fake HTTP
 * connections (tests/lib/fake_http.h) of a router built from a configuration
 * (tests/lib/http_fixture.h): /open and its token, send, receive (held, answered by a
 * message, by the poll timeout, released by a newer receive), close, the batched and
 * MessagePack variants, and what is refused: wrong methods and paths, unknown, malformed
 * and forged tokens, a request without the transport's client certificate, empty and
 * malformed sends, the transport limits (max_transports, max_sessions, shutdown), the
 * body bound (limits.max_message_size), an idle transport, a slow consumer, and a
 * transport the router closed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <utlist.h>

#include "router/core/conn.h"
#include "router/core/protocol.h"
#include "router/http/lpreq.h"
#include "tests/lib/http_fixture.h"

static const char config[] =
	"{\"listeners\": [{\"type\": \"websocket\", \"port\": 0, \"serializers\": [\"json\", \"msgpack\"],"
	"  \"http\": {\"/lp\": {\"type\": \"longpoll\", \"poll_timeout\": 10, \"idle_timeout\": 30},"
	"            \"/lp1\": {\"type\": \"longpoll\", \"max_transports\": 1}}}],"
	" \"realms\": [{\"name\": \"realm1\"}],"
	" \"limits\": {\"max_message_size\": 4096, \"hello_timeout\": 60}}";

static const char hello[] = "[1, \"realm1\", {\"roles\": {\"subscriber\": {}, \"publisher\": {}}}]";

static int setup(void **state)
{
	return hf_setup(state, config);
}

/* A token: what /open answered, NUL-terminated. */
struct token {
	char s[LP_TOKEN_LEN + 1];
};

/* POST base/open offering protocols (a JSON list); the token of the 200 answer. */
static struct token lp_open(struct http_fixture *f, const char *base, const char *protocols,
                            const char *want_protocol)
{
	char target[64], body[128];
	struct http_conn *c;
	struct token t;
	json_t *v;
	const char *tok;

	snprintf(target, sizeof(target), "%s/open", base);
	snprintf(body, sizeof(body), "{\"protocols\": %s}", protocols);
	c = hf_request(f, "POST", target, "Content-Type: application/json\r\n", body);
	assert_int_equal(fake_http_last(c)->status, 200);
	v = fake_http_json(c);
	assert_string_equal(json_string_value(json_object_get(v, "protocol")), want_protocol);
	tok = json_string_value(json_object_get(v, "transport"));
	assert_non_null(tok);
	assert_int_equal(strlen(tok), LP_TOKEN_LEN);
	assert_int_equal(strspn(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                             "0123456789-_"), LP_TOKEN_LEN);
	memcpy(t.s, tok, LP_TOKEN_LEN + 1);
	json_decref(v);
	fake_http_drop(c);
	return t;
}

/* POST base/<token>/<action> with a body (len bytes) on a new connection (tls_cn: the
 * client certificate it presents, or NULL). */
static struct http_conn *lp_post_cert(struct http_fixture *f, const char *base,
                                      const char *token, const char *action, const void *body,
                                      size_t len, const char *tls_cn)
{
	char target[128];
	struct http_conn *c = fake_http_new(&f->rt, NULL);

	if (tls_cn)
		c->tls_cn = strdup(tls_cn);
	snprintf(target, sizeof(target), "%s/%s/%s", base, token, action);
	fake_http_request(c, f->routes, "POST", target, NULL, body, len);
	return c;
}

static struct http_conn *lp_post(struct http_fixture *f, const struct token *t, const char *action,
                                 const char *body)
{
	return lp_post_cert(f, "/lp", t->s, action, body, body ? strlen(body) : 0, NULL);
}

/* A send, answered 204 without a body. */
static void lp_send(struct http_fixture *f, const struct token *t, const char *msg)
{
	struct http_conn *c = lp_post(f, t, "send", msg);

	assert_int_equal(fake_http_last(c)->status, 204);
	assert_int_equal(fake_http_last(c)->len, 0);
	fake_http_drop(c);
}

/* A receive answered at once with one JSON message of type `type`: the message. */
static json_t *lp_receive(struct http_fixture *f, const struct token *t, enum wamp_type type)
{
	struct http_conn *c = lp_post(f, t, "receive", NULL);
	const struct fake_http_answer *a = fake_http_last(c);
	json_t *v = fake_http_json(c);

	assert_int_equal(a->status, 200);
	assert_string_equal(a->content_type, "application/json; charset=utf-8");
	assert_true(json_is_array(v));
	if (json_integer_value(json_array_get(v, 0)) != (json_int_t)type)
		fail_msg("received %s, expected type %d", a->body, (int)type);
	fake_http_drop(c);
	return v;
}

/* Open, HELLO, WELCOME: a joined JSON transport of /lp. */
static struct token lp_join(struct http_fixture *f)
{
	struct token t = lp_open(f, "/lp", "[\"wamp.2.json\"]", "wamp.2.json");

	lp_send(f, &t, hello);
	json_decref(lp_receive(f, &t, WAMP_WELCOME));
	return t;
}

/* The transport's own connection (kind "longpoll") of the registry, the only one. */
static struct conn *lp_conn(struct http_fixture *f)
{
	struct conn *c, *found = NULL;

	DL_FOREACH(f->rt.conns, c)
		if (!strcmp(c->ops->kind, "longpoll")) {
			assert_null(found);
			found = c;
		}
	assert_non_null(found);
	return found;
}

/* ---- the transport ----------------------------------------------------------------- */

static void test_open(void **state)
{
	struct http_fixture *f = *state;
	struct token a = lp_open(f, "/lp", "[\"wamp.2.cbor\", \"wamp.2.json\"]", "wamp.2.json");
	struct token b = lp_open(f, "/lp", "[\"wamp.2.json\"]", "wamp.2.json");
	json_t *desc;
	char *text;

	assert_string_not_equal(a.s, b.s);
	assert_int_equal(f->rt.nconns, 2);
	fake_http_drop_all();
	lp_post(f, &b, "close", NULL);
	/* the transport's description names its public id, never the token */
	desc = conn_peer_transport(lp_conn(f));
	text = json_dumps(desc, JSON_COMPACT);
	assert_non_null(strstr(text, "\"type\":\"longpoll\""));
	assert_non_null(strstr(text, "\"id\":1"));
	assert_null(strstr(text, a.s));
	free(text);
	json_decref(desc);
}

static void test_send_receive(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	json_t *m;

	lp_send(f, &t, "[32, 7, {}, \"com.news\"]");
	m = lp_receive(f, &t, WAMP_SUBSCRIBED);
	assert_int_equal(json_integer_value(json_array_get(m, 1)), 7);
	json_decref(m);
	assert_int_equal(lp_conn(f)->session->state, SESSION_ESTABLISHED);
}

/* A receive with nothing queued is held until a message comes. */
static void test_receive_held(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	int pub = hf_join(f, "realm1");
	struct http_conn *rx;
	json_t *m;

	lp_send(f, &t, "[32, 7, {}, \"com.news\"]");
	json_decref(lp_receive(f, &t, WAMP_SUBSCRIBED));
	rx = lp_post(f, &t, "receive", NULL);
	assert_true(rx->held);
	assert_int_equal(rx->nanswers, 0);
	hf_send(f, pub, "[16, 1, {}, \"com.news\", [\"hi\"]]");
	assert_int_equal(rx->nanswers, 1);
	m = fake_http_json(rx);
	assert_int_equal(json_integer_value(json_array_get(m, 0)), WAMP_EVENT);
	assert_string_equal(json_string_value(json_array_get(json_array_get(m, 4), 0)), "hi");
	json_decref(m);
}

/* poll_timeout without a message: 200 with an empty body; the transport lives on. */
static void test_poll_timeout(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	struct http_conn *rx = lp_post(f, &t, "receive", NULL);

	fake_timers_advance(9999);
	assert_int_equal(rx->nanswers, 0);
	fake_timers_advance(1);
	assert_int_equal(fake_http_last(rx)->status, 200);
	assert_int_equal(fake_http_last(rx)->len, 0);
	assert_int_equal(f->rt.nconns, 1);
	lp_send(f, &t, "[32, 8, {}, \"com.news\"]");
	json_decref(lp_receive(f, &t, WAMP_SUBSCRIBED));
}

/* One receive at a time: a newer one releases the older with an empty answer. */
static void test_one_receive_at_a_time(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	struct http_conn *old = lp_post(f, &t, "receive", NULL);
	struct http_conn *new = lp_post(f, &t, "receive", NULL);

	assert_int_equal(fake_http_last(old)->status, 200);
	assert_int_equal(fake_http_last(old)->len, 0);
	assert_int_equal(new->nanswers, 0);
	lp_send(f, &t, "[32, 9, {}, \"com.news\"]");
	assert_int_equal(new->nanswers, 1);
	assert_int_equal(old->nanswers, 1);
	/* the client dropping a held receive: the transport keeps going */
	new = lp_post(f, &t, "receive", NULL);
	fake_http_drop(new);
	lp_send(f, &t, "[32, 10, {}, \"com.news\"]");
	json_decref(lp_receive(f, &t, WAMP_SUBSCRIBED));
}

static void test_close(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	struct token other = lp_join(f);
	struct http_conn *rx = lp_post(f, &other, "receive", NULL);
	struct http_conn *c;

	c = lp_post(f, &t, "close", NULL);
	assert_int_equal(fake_http_last(c)->status, 204);
	assert_int_equal(f->rt.nconns, 1);
	/* the token opens nothing any more */
	c = lp_post(f, &t, "send", "[32, 1, {}, \"com.news\"]");
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
	/* closing a transport with a held receive answers that receive */
	lp_post(f, &other, "close", NULL);
	fake_http_expect_error(rx, 404, "wamp.close.transport_closed");
	assert_int_equal(f->rt.nconns, 0);
}

static void test_batched(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_open(f, "/lp", "[\"wamp.2.json.batched\"]", "wamp.2.json.batched");
	char batch[256];
	struct http_conn *c;
	const struct fake_http_answer *a;

	snprintf(batch, sizeof(batch), "%s\x1e[32, 1, {}, \"com.a\"]\x1e[32, 2, {}, \"com.b\"]\x1e",
	         hello);
	lp_send(f, &t, batch);
	/* every queued message in one answer, each followed by 0x1E */
	c = lp_post(f, &t, "receive", NULL);
	a = fake_http_last(c);
	assert_int_equal(a->status, 200);
	assert_int_equal(a->body[a->len - 1], 0x1e);
	assert_non_null(strstr(a->body, "[2,"));       /* WELCOME */
	assert_non_null(strstr(a->body, "\x1e[33,1,")); /* SUBSCRIBED 1 */
	assert_non_null(strstr(a->body, "\x1e[33,2,")); /* SUBSCRIBED 2 */
	assert_int_equal(lp_conn(f)->q.count, 0);

	/* a batch without its final separator: the session is failed */
	lp_send(f, &t, "[32, 3, {}, \"com.c\"]");
	c = lp_post(f, &t, "receive", NULL);
	assert_non_null(strstr(fake_http_last(c)->body, "wamp.error.protocol_violation"));
}

static void test_msgpack(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_open(f, "/lp", "[\"wamp.2.msgpack\"]", "wamp.2.msgpack");
	struct wamp_msg m;
	enum wampd_err err;
	struct wamp_out *o;
	struct http_conn *c;
	char why[128];

	fake_msg(hello, &m);
	o = wamp_encode(WAMP_SER_MSGPACK, &m, &err);
	wamp_msg_clear(&m);
	assert_non_null(o);
	c = lp_post_cert(f, "/lp", t.s, "send", wamp_out_data(o), o->len, NULL);
	wamp_out_unref(o);
	assert_int_equal(fake_http_last(c)->status, 204);
	c = lp_post(f, &t, "receive", NULL);
	assert_string_equal(fake_http_last(c)->content_type, "application/x-msgpack");
	assert_int_equal(wamp_decode(WAMP_SER_MSGPACK, (const uint8_t *)fake_http_last(c)->body,
	                             fake_http_last(c)->len, NULL, &m, why, sizeof(why)),
	                 WAMPD_OK);
	assert_int_equal(m.type, WAMP_WELCOME);
	wamp_msg_clear(&m);
}

/* ---- refusals ------------------------------------------------------------------------ */

static void test_refuse_method_and_path(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	char target[96];
	struct http_conn *c = hf_request(f, "GET", "/lp/open", NULL, NULL);

	fake_http_expect_error(c, 405, "wampd.http.method_not_allowed");
	assert_string_equal(fake_http_last(c)->headers, "Allow: POST, OPTIONS\r\n");
	snprintf(target, sizeof(target), "/lp/%s/receive", t.s);
	c = hf_request(f, "GET", target, NULL, NULL);
	fake_http_expect_error(c, 405, "wampd.http.method_not_allowed");
	assert_int_equal(lp_conn(f)->q.count, 0); /* nothing happened to the transport */
	c = hf_request(f, "POST", "/lp/nothing", NULL, NULL);
	fake_http_expect_error(c, 404, "wampd.http.not_found");
	snprintf(target, sizeof(target), "/lp/%s/delete", t.s);
	c = hf_request(f, "POST", target, NULL, NULL);
	fake_http_expect_error(c, 404, "wampd.http.not_found");
}

static void test_refuse_open(void **state)
{
	static const char *const bodies[] = {
		"", "[]", "{}", "{\"protocols\": \"wamp.2.json\"}", "not json",
		"{\"protocols\": [\"wamp.2.cbor\"]}",            /* not on this listener */
		"{\"protocols\": [\"wamp.2.xml\", \"mqtt\"]}",
	};
	struct http_fixture *f = *state;

	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		struct http_conn *c = fake_http_new(&f->rt, NULL);

		fake_http_request(c, f->routes, "POST", "/lp/open", NULL, bodies[i], strlen(bodies[i]));
		fake_http_expect_error(c, 400, "wamp.error.invalid_argument");
	}
	assert_int_equal(f->rt.nconns, 0);
}

/* Unknown, malformed, forged tokens and the public id: "no such transport". */
static void test_refuse_tokens(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	struct token forged = t;
	struct http_conn *c;

	forged.s[LP_TOKEN_LEN - 1] = forged.s[LP_TOKEN_LEN - 1] == 'A' ? 'B' : 'A';
	c = lp_post(f, &forged, "send", "[32, 1, {}, \"com.x\"]");
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
	c = lp_post_cert(f, "/lp", "1", "receive", NULL, 0, NULL); /* the public id */
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
	c = lp_post_cert(f, "/lp", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "close", NULL, 0, NULL);
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
	/* a token of another service is not one of this service */
	c = lp_post_cert(f, "/lp1", t.s, "close", NULL, 0, NULL);
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
	/* none of it touched the transport */
	assert_int_equal(f->rt.nconns, 1);
	assert_int_equal(lp_conn(f)->q.count, 0);
	assert_int_equal(lp_conn(f)->session->state, SESSION_ESTABLISHED);
}

/* Opened with a client certificate: requests without it, or with another, get 403. */
static void test_refuse_other_certificate(void **state)
{
	struct http_fixture *f = *state;
	struct http_conn *c = fake_http_new(&f->rt, NULL);
	static const char body[] = "{\"protocols\": [\"wamp.2.json\"]}";
	char token[LP_TOKEN_LEN + 1];
	json_t *v;

	c->tls_cn = strdup("alice");
	fake_http_request(c, f->routes, "POST", "/lp/open", NULL, body, strlen(body));
	v = fake_http_json(c);
	snprintf(token, sizeof(token), "%s", json_string_value(json_object_get(v, "transport")));
	json_decref(v);
	assert_string_equal(proto_tls_cn(lp_conn(f)->session), "alice");

	c = lp_post_cert(f, "/lp", token, "send", hello, strlen(hello), NULL);
	fake_http_expect_error(c, 403, "wamp.error.not_authorized");
	c = lp_post_cert(f, "/lp", token, "close", NULL, 0, "mallory");
	fake_http_expect_error(c, 403, "wamp.error.not_authorized");
	assert_int_equal(f->rt.nconns, 1);
	assert_int_equal(lp_conn(f)->session->state, SESSION_OPEN); /* no HELLO went through */
	c = lp_post_cert(f, "/lp", token, "send", hello, strlen(hello), "alice");
	assert_int_equal(fake_http_last(c)->status, 204);
}

static void test_refuse_send(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	struct http_conn *c = lp_post(f, &t, "send", NULL);
	json_t *m;

	fake_http_expect_error(c, 400, "wamp.error.invalid_argument");
	/* not WAMP: the session is failed with ABORT, received, then the transport goes */
	lp_send(f, &t, "this is not json");
	m = lp_receive(f, &t, WAMP_ABORT);
	assert_string_equal(json_string_value(json_array_get(m, 2)), "wamp.error.protocol_violation");
	json_decref(m);
	/* sends to an ending session are ignored; the reap frees the transport */
	lp_send(f, &t, "[32, 1, {}, \"com.x\"]");
	fake_timers_advance(0);
	assert_int_equal(f->rt.nconns, 0);
	c = lp_post(f, &t, "receive", NULL);
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
}

/* The body bound: limits.max_message_size (the connection answers 413 beyond it). */
static void test_body_bound(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	const char *rest;
	size_t rest_len;
	char target[96], msg[4096 + 1];
	const struct http_route *r;
	int n;

	snprintf(target, sizeof(target), "/lp/%s/send", t.s);
	r = http_route_find(f->routes, target, strlen(target), &rest, &rest_len);
	assert_non_null(r);
	assert_int_equal(r->max_body, 4096);
	assert_true(r->rest_secret); /* the token is not logged */
	/* a message of exactly the bound goes through */
	n = snprintf(msg, sizeof(msg), "[16, 1, {}, \"com.x\", [\"");
	memset(msg + n, 'x', 4096 - (size_t)n - 3);
	memcpy(msg + 4096 - 3, "\"]]", 4);
	assert_int_equal(strlen(msg), 4096);
	lp_send(f, &t, msg);
	assert_int_equal(lp_conn(f)->session->state, SESSION_ESTABLISHED);
}

static void test_refuse_limits(void **state)
{
	struct http_fixture *f = *state;
	struct token one = lp_open(f, "/lp1", "[\"wamp.2.json\"]", "wamp.2.json");
	struct http_conn *c;

	/* max_transports of /lp1: 1 */
	c = hf_request(f, "POST", "/lp1/open", NULL, "{\"protocols\": [\"wamp.2.json\"]}");
	fake_http_expect_error(c, 503, "wamp.error.limit_exceeded");
	c = lp_post_cert(f, "/lp1", one.s, "close", NULL, 0, NULL);
	assert_int_equal(fake_http_last(c)->status, 204);
	lp_open(f, "/lp1", "[\"wamp.2.json\"]", "wamp.2.json");
	/* limits.max_sessions: every connection's */
	f->rt.cfg.max_sessions = f->rt.nconns;
	c = hf_request(f, "POST", "/lp/open", NULL, "{\"protocols\": [\"wamp.2.json\"]}");
	fake_http_expect_error(c, 503, "wamp.error.limit_exceeded");
	f->rt.cfg.max_sessions = 100;
	f->rt.shutting_down = true;
	c = hf_request(f, "POST", "/lp/open", NULL, "{\"protocols\": [\"wamp.2.json\"]}");
	fake_http_expect_error(c, 503, "wamp.error.limit_exceeded");
	assert_int_equal(f->rt.nconns, 1);
}

/* A transport without requests for idle_timeout is closed; a held receive keeps it. */
static void test_idle(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	struct token busy = lp_join(f);
	struct http_conn *c, *rx;

	fake_timers_advance(29999);
	rx = lp_post(f, &busy, "receive", NULL); /* held: not idle */
	assert_int_equal(f->rt.nconns, 2);
	fake_timers_advance(1);
	assert_int_equal(f->rt.nconns, 1);
	c = lp_post(f, &t, "receive", NULL);
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
	assert_int_equal(rx->nanswers, 0);
	fake_timers_advance(9999);          /* the poll timeout answers: idle from now */
	assert_int_equal(fake_http_last(rx)->status, 200);
	fake_timers_advance(29999);
	assert_int_equal(f->rt.nconns, 1);
	fake_timers_advance(1);
	assert_int_equal(f->rt.nconns, 0);
}

/* A client that stops receiving: its queue is bounded, then it is closed at once. */
static void test_slow_consumer(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	int pub = hf_join(f, "realm1");
	char payload[600];
	int sent = 0;
	struct http_conn *c;

	lp_send(f, &t, "[32, 7, {}, \"com.news\"]");
	json_decref(lp_receive(f, &t, WAMP_SUBSCRIBED));
	f->rt.cfg.send_queue_bytes = 3000;
	memset(payload, 'x', sizeof(payload) - 1);
	payload[sizeof(payload) - 1] = '\0';
	while (f->rt.nconns && sent < 50) {
		hf_send(f, pub, "[16, 1, {}, \"com.news\", [\"%s\"]]", payload);
		sent++;
		if (f->rt.conns)
			assert_true(f->rt.conns->q.bytes <= 3000);
		fake_timers_advance(0);
	}
	assert_true(sent > 3 && sent < 10);
	assert_int_equal(f->rt.stats.slow_consumer_closes, 1);
	c = lp_post(f, &t, "receive", NULL);
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
}

/* The router closes the session (GOODBYE on shutdown): what is queued is still received,
 * then the transport goes. */
static void test_router_closes(void **state)
{
	struct http_fixture *f = *state;
	struct token t = lp_join(f);
	json_t *m;
	struct http_conn *c;

	f->rt.shutting_down = true;
	conn_shutdown_all(&f->rt);
	m = lp_receive(f, &t, WAMP_GOODBYE);
	assert_string_equal(json_string_value(json_array_get(m, 2)), "wamp.close.system_shutdown");
	json_decref(m);
	lp_send(f, &t, "[6, {}, \"wamp.close.goodbye_and_out\"]");
	fake_timers_advance(0);
	assert_int_equal(f->rt.nconns, 0);
	c = lp_post(f, &t, "receive", NULL);
	fake_http_expect_error(c, 404, "wamp.close.transport_closed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, hf_teardown)
		T(test_open),
		T(test_send_receive),
		T(test_receive_held),
		T(test_poll_timeout),
		T(test_one_receive_at_a_time),
		T(test_close),
		T(test_batched),
		T(test_msgpack),
		T(test_refuse_method_and_path),
		T(test_refuse_open),
		T(test_refuse_tokens),
		T(test_refuse_other_certificate),
		T(test_refuse_send),
		T(test_body_bound),
		T(test_refuse_limits),
		T(test_idle),
		T(test_slow_consumer),
		T(test_router_closes),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
