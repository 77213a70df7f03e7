/*
 * test_sse.c - the Server-Sent Events service (router/http/sse.c) on fake HTTP connections
 * (tests/lib/fake_http.h) of a router built from a configuration (tests/lib/http_fixture.h):
 * the handshake of its internal subscriber session, the stream's framing, an event
 * rendered once for every reader, Last-Event-ID from the event history, the heartbeat,
 * the slow-consumer bound, every refusal (method, query, credentials, authorization,
 * admission) with its status and URI, and how a stream ends (client gone, session killed,
 * router shutdown).
 *
 * The handshake continues from the loop (sse_step runs from a 0 ms timer): a test advances
 * the fake clock by 0 to let it go on, as the loop's next turn would.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>
#include <utlist.h>

#include "router/core/conn.h"
#include "router/core/protocol.h"
#include "tests/lib/http_fixture.h"

static const char config[] =
	"{\"listeners\": [{\"type\": \"websocket\", \"port\": 0,"
	"  \"auth\": {\"anonymous\": {\"type\": \"static\", \"role\": \"anonymous\"},"
	"             \"ticket\": {\"type\": \"static\", \"principals\":"
	"                {\"joe\": {\"ticket\": \"s3cret\", \"role\": \"reader\"}}}},"
	"  \"http\": {\"/sse\": {\"type\": \"sse\", \"realm\": \"realm1\", \"heartbeat\": 5,"
	"                        \"max_topics\": 2},"
	"            \"/sse-prefix\": {\"type\": \"sse\", \"realm\": \"realm1\", \"match\": \"prefix\","
	"                        \"heartbeat\": 0}}}],"
	" \"realms\": [{\"name\": \"realm1\","
	"   \"event_history\": [{\"uri\": \"com.hist\", \"limit\": 10}],"
	"   \"roles\": [{\"name\": \"anonymous\", \"permissions\": ["
	"       {\"uri\": \"com.\", \"match\": \"prefix\", \"allow\": {\"call\": true, "
	"        \"register\": true, \"publish\": true, \"subscribe\": true}},"
	"       {\"uri\": \"com.secret\", \"allow\": {}},"
	"       {\"uri\": \"wamp.session.\", \"match\": \"prefix\", \"allow\": {\"call\": true}}]},"
	"     {\"name\": \"reader\", \"permissions\": ["
	"       {\"uri\": \"com.secret\", \"allow\": {\"subscribe\": true}}]}]}]}";

static int setup(void **state)
{
	return hf_setup(state, config);
}

/* A stream of path?query (headers: extra request lines or NULL), its handshake run to the
 * end: the connection, answered 200 as a stream, the stream's greeting read. */
static struct http_conn *stream(struct http_fixture *f, const char *target, const char *headers)
{
	struct http_conn *c = hf_request(f, "GET", target, headers, NULL);

	assert_true(c->held);          /* nothing before every SUBSCRIBE is answered */
	assert_int_equal(c->nanswers, 0);
	fake_timers_advance(0);        /* the loop's next turn: SUBSCRIBEs, SUBSCRIBED */
	assert_int_equal(c->nanswers, 1);
	assert_true(c->answers[0].stream);
	assert_int_equal(c->answers[0].status, 200);
	assert_string_equal(c->answers[0].content_type, "text/event-stream; charset=utf-8");
	assert_string_equal(c->answers[0].headers, "X-Accel-Buffering: no\r\n");
	fake_http_read(c);
	return c;
}

/* Publish (acknowledged) as client who; the publication id. */
static uint64_t publish(struct http_fixture *f, int who, const char *topic, const char *payload)
{
	static int req = 100;
	struct wamp_msg m;
	uint64_t id;

	hf_send(f, who, "[16, %d, {\"acknowledge\": true}, \"%s\"%s%s]", ++req, topic,
	        payload ? ", " : "", payload ? payload : "");
	hf_expect(f, who, WAMP_PUBLISHED, &m);
	id = m.id[1];
	wamp_msg_clear(&m);
	return id;
}

/* The SSE stream's own connection (kind "sse") in the registry, the only one. */
static struct conn *sse_conn(struct http_fixture *f)
{
	struct conn *c, *found = NULL;

	DL_FOREACH(f->rt.conns, c)
		if (!strcmp(c->ops->kind, "sse")) {
			assert_null(found);
			found = c;
		}
	assert_non_null(found);
	return found;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p && (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* ---- streaming --------------------------------------------------------------------- */

static void test_stream_events(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	struct http_conn *c = stream(f, "/sse?topic=com.news", NULL);
	char want[256];
	uint64_t id;

	assert_string_equal(c->stream, ": wampd event stream\nretry: 2000\n\n");
	/* the reader is a counted connection with a session in realm1 */
	assert_int_equal(f->rt.nconns, 1);
	assert_non_null(sse_conn(f)->session);
	assert_int_equal(sse_conn(f)->session->state, SESSION_ESTABLISHED);

	id = publish(f, pub, "com.news", "[1, \"x\"], {\"k\": true}");
	publish(f, pub, "com.other", "[2]");         /* not subscribed: not streamed */
	free(c->stream);
	c->stream = NULL;
	c->stream_len = 0;
	fake_http_read(c);
	snprintf(want, sizeof(want),
	         "id: %llu\ndata: {\"topic\":\"com.news\",\"args\":[1,\"x\"],\"kwargs\":{\"k\":true}}\n\n",
	         (unsigned long long)id);
	assert_string_equal(c->stream, want);

	/* no payload: empty args and kwargs, not absent ones */
	id = publish(f, pub, "com.news", NULL);
	free(c->stream);
	c->stream = NULL;
	c->stream_len = 0;
	fake_http_read(c);
	snprintf(want, sizeof(want), "id: %llu\ndata: {\"topic\":\"com.news\",\"args\":[],\"kwargs\":{}}\n\n",
	         (unsigned long long)id);
	assert_string_equal(c->stream, want);
	assert_int_equal(c->ignored, 0);
}

/* One EVENT is rendered once: every reader's queue holds the same buffer. */
static void test_rendered_once(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	struct http_conn *a = stream(f, "/sse?topic=com.news", NULL);
	struct http_conn *b = stream(f, "/sse?topic=com.news", NULL);

	publish(f, pub, "com.news", "[\"shared\"]");
	assert_int_equal(a->conn.q.count, 1);
	assert_int_equal(b->conn.q.count, 1);
	assert_ptr_equal(outq_peek(&a->conn.q), outq_peek(&b->conn.q));
	assert_int_equal(f->rt.nconns, 2);
}

/* A publication that matches two of the stream's subscriptions is sent once. */
static void test_overlapping_topics_once(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	struct http_conn *c = stream(f, "/sse-prefix?topic=com.app.&topic=com.app.news", NULL);
	uint64_t id;
	char want[64];

	id = publish(f, pub, "com.app.news", "[1]");
	fake_http_read(c);
	snprintf(want, sizeof(want), "id: %llu\n", (unsigned long long)id);
	assert_int_equal(count(c->stream, want), 1);
	assert_int_equal(count(c->stream, "data: "), 1);
	publish(f, pub, "com.app.other", "[2]"); /* the prefix only */
	fake_http_read(c);
	assert_int_equal(count(c->stream, "data: "), 2);
}

/* ?match= overrides the service's default (exact here): a prefix stream. */
static void test_match_parameter(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	struct http_conn *exact = stream(f, "/sse?topic=com.app", NULL);
	struct http_conn *prefix = stream(f, "/sse?topic=com.app&match=prefix", NULL);

	publish(f, pub, "com.app.x", "[1]");
	fake_http_read(exact);
	fake_http_read(prefix);
	assert_int_equal(count(exact->stream, "data: "), 0);
	assert_int_equal(count(prefix->stream, "\"topic\":\"com.app.x\""), 1);
}

static void test_heartbeat(void **state)
{
	struct http_fixture *f = *state;
	struct http_conn *c = stream(f, "/sse?topic=com.news", NULL);
	size_t before = c->stream_len;

	fake_timers_advance(4999);
	assert_int_equal(fake_http_read(c), 0);
	fake_timers_advance(1);
	fake_http_read(c);
	assert_string_equal(c->stream + before, ": ping\n\n");
	fake_timers_advance(5000); /* and again */
	fake_http_read(c);
	assert_int_equal(count(c->stream, ": ping\n\n"), 2);
}

/* ---- Last-Event-ID ------------------------------------------------------------------- */

static void test_last_event_id_resumes(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	uint64_t id[4];
	char hdr[64], want[256];
	struct http_conn *c;
	const char *p;

	for (int i = 0; i < 4; i++) {
		char payload[16];

		snprintf(payload, sizeof(payload), "[%d]", i);
		id[i] = publish(f, pub, "com.hist", payload);
	}
	snprintf(hdr, sizeof(hdr), "Last-Event-ID: %llu\r\n", (unsigned long long)id[1]);
	c = stream(f, "/sse?topic=com.hist", hdr);
	/* the greeting, then the events after id[1] in order, nothing before it */
	p = c->stream;
	assert_non_null(p = strstr(p, "retry: 2000\n\n"));
	snprintf(want, sizeof(want), "id: %llu\ndata: {\"topic\":\"com.hist\",\"args\":[2],\"kwargs\":{}}\n\n"
	         "id: %llu\ndata: {\"topic\":\"com.hist\",\"args\":[3],\"kwargs\":{}}\n\n",
	         (unsigned long long)id[2], (unsigned long long)id[3]);
	assert_string_equal(p + strlen("retry: 2000\n\n"), want);

	/* then live ones */
	id[0] = publish(f, pub, "com.hist", "[4]");
	fake_http_read(c);
	snprintf(want, sizeof(want), "id: %llu\n", (unsigned long long)id[0]);
	assert_int_equal(count(c->stream, want), 1);
	assert_int_equal(count(c->stream, "data: "), 3);
}

/* ?last_event_id= does the same (EventSource cannot set headers on the first request). */
static void test_last_event_id_query(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	uint64_t a = publish(f, pub, "com.hist", "[\"a\"]");
	uint64_t b = publish(f, pub, "com.hist", "[\"b\"]");
	char target[96], want[64];
	struct http_conn *c;

	snprintf(target, sizeof(target), "/sse?topic=com.hist&last_event_id=%llu",
	         (unsigned long long)a);
	c = stream(f, target, NULL);
	snprintf(want, sizeof(want), "id: %llu\n", (unsigned long long)b);
	assert_int_equal(count(c->stream, want), 1);
	snprintf(want, sizeof(want), "id: %llu\n", (unsigned long long)a);
	assert_int_equal(count(c->stream, want), 0);
}

/* An id the history does not hold: a comment says so, nothing is replayed. */
static void test_last_event_id_unknown(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	struct http_conn *c;

	publish(f, pub, "com.hist", "[1]");
	c = stream(f, "/sse?topic=com.hist", "Last-Event-ID: 12345\r\n");
	assert_int_equal(count(c->stream, ": the event history does not reach back to Last-Event-ID\n\n"), 1);
	assert_int_equal(count(c->stream, "data: "), 0);
}

/* ---- the slow-consumer bound --------------------------------------------------------- */

static void test_slow_reader_closed(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	struct http_conn *c = stream(f, "/sse?topic=com.news", NULL);
	char big[400];
	int sent = 0;

	f->rt.cfg.send_queue_bytes = 2000;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	while (!c->closed && sent < 50) {
		char payload[450];

		snprintf(payload, sizeof(payload), "[\"%s\"]", big);
		publish(f, pub, "com.news", payload);
		sent++;
		assert_true(http_queued_bytes(c) <= f->rt.cfg.send_queue_bytes);
	}
	/* closed at once (not after a flush), once, and counted */
	assert_true(c->closed);
	assert_true(c->close_now);
	assert_true(sent > 3 && sent < 10);
	assert_int_equal(f->rt.stats.slow_consumer_closes, 1);
	/* nothing more is queued to a closing connection */
	publish(f, pub, "com.news", "[1]");
	assert_int_equal(f->rt.stats.slow_consumer_closes, 1);
	/* the close completes: the stream's session leaves, the others are served */
	fake_http_drop(c);
	assert_int_equal(f->rt.nconns, 0);
	publish(f, pub, "com.news", "[2]");
}

/* ---- refusals ------------------------------------------------------------------------ */

/* A refused request: answered at once, the stream freed from the loop, nothing left. */
static void refused(struct http_fixture *f, struct http_conn *c, int status, const char *uri)
{
	fake_http_expect_error(c, status, uri);
	assert_false(c->streaming);
	fake_timers_advance(0);
	assert_null(f->rt.conns->next); /* the fake connection alone is left */
	assert_int_equal(f->rt.nconns, 0);
	assert_int_equal(c->ignored, 0);
}

static void test_refuse_method(void **state)
{
	struct http_fixture *f = *state;
	struct http_conn *c = hf_request(f, "POST", "/sse?topic=com.news", NULL, NULL);

	fake_http_expect_error(c, 405, "wampd.http.method_not_allowed");
	assert_string_equal(fake_http_last(c)->headers, "Allow: GET, OPTIONS\r\n");
	assert_int_equal(f->rt.nconns, 0);
}

static void test_refuse_query(void **state)
{
	static const struct {
		const char *target;
		const char *why; /* in the message */
	} cases[] = {
		{"/sse", "at least one ?topic="},
		{"/sse?match=prefix", "at least one ?topic="},
		{"/sse?topic=a.b&topic=c.d&topic=e.f", "too many topics"},
		{"/sse?topic=com.news&match=regex", "match must be"},
		{"/sse?topic=com.news&colour=red", "unknown query parameter \\\"colour\\\""},
		{"/sse?topic=com%zznews", "malformed query string"},
	};
	struct http_fixture *f = *state;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_conn *c = hf_request(f, "GET", cases[i].target, NULL, NULL);

		refused(f, c, 400, "wamp.error.invalid_argument");
		if (!strstr(fake_http_last(c)->body, cases[i].why))
			fail_msg("%s: %s", cases[i].target, fake_http_last(c)->body);
		fake_http_drop(c);
	}
}

static void test_refuse_bad_topic(void **state)
{
	struct http_fixture *f = *state;
	struct http_conn *c = hf_request(f, "GET", "/sse?topic=com..news", NULL, NULL);

	assert_int_equal(c->nanswers, 0);
	fake_timers_advance(0);
	refused(f, c, 400, "wamp.error.invalid_uri");
}

static void test_refuse_not_authorized(void **state)
{
	struct http_fixture *f = *state;
	/* the second topic is denied: no stream at all, though the first was granted */
	struct http_conn *c = hf_request(f, "GET", "/sse?topic=com.news&topic=com.secret", NULL, NULL);

	fake_timers_advance(0);
	refused(f, c, 403, "wamp.error.not_authorized");
}

/* Authentication is the listener's: a ticket principal gets its role's permissions. */
static void test_ticket_credentials(void **state)
{
	struct http_fixture *f = *state;
	char hdr[128], b64[64];
	struct http_conn *c;

	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)"joe:s3cret", 10,
	                  sodium_base64_VARIANT_ORIGINAL);
	snprintf(hdr, sizeof(hdr), "Authorization: Basic %s\r\n", b64);
	c = hf_request(f, "GET", "/sse?topic=com.secret", hdr, NULL);
	assert_int_equal(c->nanswers, 0);           /* CHALLENGE came: answered from the loop */
	fake_timers_advance(0);                     /* AUTHENTICATE, WELCOME, SUBSCRIBE */
	assert_true(c->streaming);
	assert_string_equal(sse_conn(f)->session->authid, "joe");
	assert_string_equal(sse_conn(f)->session->authrole, "reader");

	/* Bearer with ?authid= is the same principal */
	c = hf_request(f, "GET", "/sse?topic=com.secret&authid=joe", "Authorization: Bearer s3cret\r\n",
	               NULL);
	fake_timers_advance(0);
	assert_true(c->streaming);
	assert_int_equal(f->rt.nconns, 2);
}

static void test_refuse_credentials(void **state)
{
	struct http_fixture *f = *state;
	char hdr[128], b64[64];
	struct http_conn *c;

	/* a wrong ticket: ABORT authentication_failed after the CHALLENGE */
	sodium_bin2base64(b64, sizeof(b64), (const unsigned char *)"joe:wrong", 9,
	                  sodium_base64_VARIANT_ORIGINAL);
	snprintf(hdr, sizeof(hdr), "Authorization: Basic %s\r\n", b64);
	c = hf_request(f, "GET", "/sse?topic=com.news", hdr, NULL);
	fake_timers_advance(0);
	refused(f, c, 401, "wamp.error.authentication_failed");
	fake_http_drop(c);

	/* a scheme it does not know, and Bearer without ?authid=: refused before any session */
	c = hf_request(f, "GET", "/sse?topic=com.news", "Authorization: Digest x=1\r\n", NULL);
	refused(f, c, 401, "wamp.error.authentication_failed");
	fake_http_drop(c);
	c = hf_request(f, "GET", "/sse?topic=com.news", "Authorization: Bearer s3cret\r\n", NULL);
	refused(f, c, 401, "wamp.error.authentication_failed");
	fake_http_drop(c);
	/* Basic that is not base64, or has no authid */
	c = hf_request(f, "GET", "/sse?topic=com.news", "Authorization: Basic !!!\r\n", NULL);
	refused(f, c, 401, "wamp.error.authentication_failed");
	assert_int_equal(f->rt.stats.sessions_opened, 1); /* the wrong ticket's only */
}

static void test_refuse_admission(void **state)
{
	struct http_fixture *f = *state;
	struct http_conn *c;

	f->rt.cfg.max_sessions = 1;
	stream(f, "/sse?topic=com.news", NULL);
	c = hf_request(f, "GET", "/sse?topic=com.news", NULL, NULL);
	fake_http_expect_error(c, 503, "wamp.error.limit_exceeded");
	fake_timers_advance(0);
	assert_int_equal(f->rt.nconns, 1);
	fake_http_drop(c);

	f->rt.cfg.max_sessions = 10;
	f->rt.shutting_down = true;
	c = hf_request(f, "GET", "/sse?topic=com.news", NULL, NULL);
	fake_http_expect_error(c, 503, "wamp.error.limit_exceeded");
	fake_timers_advance(0);
	assert_int_equal(f->rt.nconns, 1);
}

/* ---- how a stream ends --------------------------------------------------------------- */

static void test_client_gone(void **state)
{
	struct http_fixture *f = *state;
	int pub = hf_join(f, "realm1");
	struct http_conn *c = stream(f, "/sse?topic=com.news", NULL);
	struct http_conn *mid;

	fake_http_drop(c);
	assert_int_equal(f->rt.nconns, 0);
	assert_null(f->rt.conns);
	publish(f, pub, "com.news", "[1]"); /* no subscriber left to reach */

	/* gone during the handshake: the session is freed, the pending step finds nothing */
	mid = hf_request(f, "GET", "/sse?topic=com.news", NULL, NULL);
	fake_http_drop(mid);
	fake_timers_advance(0);
	assert_int_equal(f->rt.nconns, 0);
	assert_int_equal(fake_timers_pending(), 0); /* no step, heartbeat or reap left behind */
}

/* The router ends the session (wamp.session.kill): the stream closes after what is queued. */
static void test_session_killed(void **state)
{
	struct http_fixture *f = *state;
	int admin = hf_join(f, "realm1");
	struct http_conn *c = stream(f, "/sse?topic=com.news", NULL);
	struct wamp_msg m;

	hf_send(f, admin, "[48, 1, {}, \"wamp.session.kill\", [%llu]]",
	        (unsigned long long)sse_conn(f)->session->id);
	hf_expect(f, admin, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	assert_true(c->closed);
	assert_false(c->close_now);
	assert_int_equal(c->nanswers, 1); /* the stream's head only */
	fake_http_drop(c);
	assert_int_equal(f->rt.nconns, 0);

	/* killed during the handshake (WELCOME came, SUBSCRIBE not yet sent): answered 503 */
	c = hf_request(f, "GET", "/sse?topic=com.news", NULL, NULL);
	hf_send(f, admin, "[48, 2, {}, \"wamp.session.kill\", [%llu]]",
	        (unsigned long long)sse_conn(f)->session->id);
	hf_expect(f, admin, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	fake_timers_advance(0);
	refused(f, c, 503, "wamp.close.killed");
}

/* Router shutdown: a stream is closed; a handshake still under way is answered 503. */
static void test_shutdown(void **state)
{
	struct http_fixture *f = *state;
	struct http_conn *s = stream(f, "/sse?topic=com.news", NULL);
	struct http_conn *h = hf_request(f, "GET", "/sse?topic=com.news", NULL, NULL);

	f->rt.shutting_down = true;
	conn_shutdown_all(&f->rt);
	httpsvc_shutdown_all(&f->rt);
	fake_timers_advance(0);
	assert_true(s->closed);
	assert_int_equal(s->nanswers, 1);
	fake_http_expect_error(h, 503, "wamp.close.system_shutdown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, hf_teardown)
		T(test_stream_events),
		T(test_rendered_once),
		T(test_overlapping_topics_once),
		T(test_match_parameter),
		T(test_heartbeat),
		T(test_last_event_id_resumes),
		T(test_last_event_id_query),
		T(test_last_event_id_unknown),
		T(test_slow_reader_closed),
		T(test_refuse_method),
		T(test_refuse_query),
		T(test_refuse_bad_topic),
		T(test_refuse_not_authorized),
		T(test_ticket_credentials),
		T(test_refuse_credentials),
		T(test_refuse_admission),
		T(test_client_gone),
		T(test_session_killed),
		T(test_shutdown),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
