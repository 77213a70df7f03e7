/*
 * test_http_bridge.c - the HTTP bridge (router/http/http_bridge.c: publisher, caller,
 * webhook) on fake HTTP connections (tests/lib/fake_http.h) of a router built from a
 * configuration (tests/lib/http_fixture.h), with WAMP clients (a subscriber, a callee) on
 * fake transports: a publication and its id, a call answered by a result or by the
 * callee's error, what is refused (method 405, Content-Type 415, JSON 400, authorization
 * 403, no callee 404, max_pending 503, tickets and signed requests 400/401, a webhook's
 * foreign Origin 403 and bad GitHub signature 401), a call that times out (504, the callee
 * interrupted) or whose client leaves (interrupted), and the bridge session's end (killed:
 * its requests answered 503, then a new session; router shutdown).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <cmocka.h>
#include <sodium.h>

#include "router/http/httpsig.h"
#include "tests/lib/http_fixture.h"

static const char config[] =
	"{\"listeners\": [{\"type\": \"websocket\", \"port\": 0, \"http\": {"
	"   \"/publish\": {\"type\": \"publisher\", \"realm\": \"realm1\", \"role\": \"pub\"},"
	"   \"/call\": {\"type\": \"caller\", \"realm\": \"realm1\", \"role\": \"caller\","
	"              \"call_timeout\": 1000, \"max_pending\": 2},"
	"   \"/tcall\": {\"type\": \"caller\", \"realm\": \"realm1\", \"role\": \"caller\","
	"               \"auth\": {\"type\": \"ticket\", \"tickets\": [\"s3cret\", \"other\"]}},"
	"   \"/spub\": {\"type\": \"publisher\", \"realm\": \"realm1\", \"role\": \"pub\","
	"               \"auth\": {\"type\": \"signed\", \"key\": \"k1\", \"secret\": \"sec\","
	"                        \"timestamp_delta_limit\": 300}},"
	"   \"/hook\": {\"type\": \"webhook\", \"realm\": \"realm1\", \"topic\": \"com.hook\","
	"              \"github_secret\": \"gh\", \"allowed_origins\": [\"https://ok.example\"]}}}],"
	" \"realms\": [{\"name\": \"realm1\", \"roles\": ["
	"   {\"name\": \"anonymous\", \"permissions\": ["
	"     {\"uri\": \"com.\", \"match\": \"prefix\", \"allow\": {\"call\": true, \"register\": true,"
	"      \"publish\": true, \"subscribe\": true}},"
	"     {\"uri\": \"wamp.session.\", \"match\": \"prefix\", \"allow\": {\"call\": true}}]},"
	"   {\"name\": \"pub\", \"permissions\": ["
	"     {\"uri\": \"com.news\", \"match\": \"prefix\", \"allow\": {\"publish\": true}}]},"
	"   {\"name\": \"caller\", \"permissions\": ["
	"     {\"uri\": \"com.\", \"match\": \"prefix\", \"allow\": {\"call\": true}}]}]}]}";

static const char json_ct[] = "Content-Type: application/json\r\n";

static int setup(void **state)
{
	return hf_setup(state, config);
}

/* A JSON POST to path. */
static struct http_conn *post(struct http_fixture *f, const char *path, const char *body)
{
	return hf_request(f, "POST", path, json_ct, body);
}

/* A client subscribed to topic (exact). */
static int subscriber(struct http_fixture *f, const char *topic)
{
	int who = hf_join(f, "realm1");
	struct wamp_msg m;

	hf_send(f, who, "[32, 1, {}, \"%s\"]", topic);
	hf_expect(f, who, WAMP_SUBSCRIBED, &m);
	wamp_msg_clear(&m);
	return who;
}

/* A client that registered proc. */
static int callee(struct http_fixture *f, const char *proc)
{
	int who = hf_join(f, "realm1");
	struct wamp_msg m;

	hf_send(f, who, "[64, 1, {}, \"%s\"]", proc);
	hf_expect(f, who, WAMP_REGISTERED, &m);
	wamp_msg_clear(&m);
	return who;
}

/* The INVOCATION client who got: its request id (args checked by the caller via *m). */
static uint64_t invocation(struct http_fixture *f, int who, struct wamp_msg *m)
{
	hf_expect(f, who, WAMP_INVOCATION, m);
	return m->id[0];
}

/* The answer is status with exactly the JSON body want. */
static void expect_json(struct http_conn *c, int status, const char *want)
{
	json_t *v = fake_http_json(c), *w = json_loads(want, 0, NULL);

	assert_non_null(w);
	if (fake_http_last(c)->status != status || !json_equal(v, w))
		fail_msg("expected %d %s, got %d %s", status, want, fake_http_last(c)->status,
		         fake_http_last(c)->body);
	json_decref(v);
	json_decref(w);
}

/* The message's arguments are args and kwargs (JSON texts; NULL: absent). */
static void expect_payload(const struct wamp_msg *m, const char *args, const char *kwargs)
{
	enum wampd_err err;
	json_t *a = wamp_payload_args(&m->payload, &err), *k = wamp_payload_kwargs(&m->payload, &err);
	json_t *wa = args ? json_loads(args, 0, NULL) : NULL, *wk = kwargs ? json_loads(kwargs, 0, NULL) : NULL;

	if (!(a ? wa && json_equal(a, wa) : !wa) || !(k ? wk && json_equal(k, wk) : !wk))
		fail_msg("payload %s %s, expected %s %s", a ? json_dumps(a, 0) : "-",
		         k ? json_dumps(k, 0) : "-", args ? args : "-", kwargs ? kwargs : "-");
	json_decref(a);
	json_decref(k);
	json_decref(wa);
	json_decref(wk);
}

/* ---- publisher ------------------------------------------------------------------------ */

static void test_publish(void **state)
{
	struct http_fixture *f = *state;
	int sub = subscriber(f, "com.news");
	struct http_conn *c = post(f, "/publish", "{\"topic\": \"com.news\", \"args\": [1, \"x\"], "
	                                          "\"kwargs\": {\"k\": true}}");
	struct wamp_msg m;
	char want[128];

	hf_expect(f, sub, WAMP_EVENT, &m);
	expect_payload(&m, "[1, \"x\"]", "{\"k\": true}");
	snprintf(want, sizeof(want), "{\"id\": %llu}", (unsigned long long)m.id[1]);
	wamp_msg_clear(&m);
	expect_json(c, 200, want);
	assert_false(c->held);
	assert_int_equal(c->ignored, 0);
}

static void test_publish_refusals(void **state)
{
	static const struct {
		const char *headers, *body;
		int status;
		const char *uri, *why;
	} cases[] = {
		/* not JSON to a browser form's eyes: 415 */
		{NULL, "{\"topic\": \"com.news\"}", 415, "wamp.error.invalid_argument", "Content-Type"},
		{"Content-Type: text/plain\r\n", "{\"topic\": \"com.news\"}", 415, NULL, "Content-Type"},
		{"Content-Type: application/x-www-form-urlencoded\r\n", "topic=com.news", 415, NULL, NULL},
		{"Content-Type: application/json; charset=latin1\r\n", "{\"topic\": \"com.news\"}", 415,
		 NULL, "UTF-8"},
		/* JSON, but not what a publisher takes: 400 */
		{json_ct, "{\"topic\": ", 400, "wamp.error.invalid_argument", "invalid JSON"},
		{json_ct, "[\"com.news\"]", 400, "wamp.error.invalid_argument", "JSON object"},
		{json_ct, "{\"args\": [1]}", 400, "wamp.error.invalid_argument", "\\\"topic\\\""},
		{json_ct, "{\"topic\": \"com.news\", \"args\": {}}", 400, NULL, "must be a list"},
		{json_ct, "{\"topic\": \"com.news\", \"argz\": []}", 400, NULL, "unknown key"},
		{json_ct, "{\"topic\": \"com.news\", \"topic\": \"com.x\"}", 400, NULL, "invalid JSON"},
		{json_ct, "{\"topic\": \"com..news\"}", 400, "wamp.error.invalid_uri", NULL},
		/* the bridge session's role may not publish there: 403 */
		{json_ct, "{\"topic\": \"com.secret\"}", 403, "wamp.error.not_authorized", NULL},
	};
	struct http_fixture *f = *state;
	int sub = subscriber(f, "com.secret");

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_conn *c = hf_request(f, "POST", "/publish", cases[i].headers, cases[i].body);

		fake_http_expect_error(c, cases[i].status, cases[i].uri);
		if (cases[i].why && !strstr(fake_http_last(c)->body, cases[i].why))
			fail_msg("case %zu: %s", i, fake_http_last(c)->body);
		fake_http_drop(c);
	}
	assert_int_equal(fake_peer_pending(&f->p[sub]), 0); /* no event got through */
}

static void test_method(void **state)
{
	struct http_fixture *f = *state;
	struct http_conn *c = hf_request(f, "GET", "/publish?topic=com.news", NULL, NULL);

	fake_http_expect_error(c, 405, "wampd.http.method_not_allowed");
	assert_string_equal(fake_http_last(c)->headers, "Allow: POST, PUT, OPTIONS\r\n");
	/* PUT is a POST */
	c = hf_request(f, "PUT", "/publish", json_ct, "{\"topic\": \"com.news\"}");
	assert_int_equal(fake_http_last(c)->status, 200);
}

/* ---- caller ----------------------------------------------------------------------------- */

static void test_call_result(void **state)
{
	struct http_fixture *f = *state;
	int ce = callee(f, "com.add");
	struct http_conn *c = post(f, "/call", "{\"procedure\": \"com.add\", \"args\": [2, 3], "
	                                       "\"kwargs\": {\"round\": false}}");
	struct wamp_msg m;
	uint64_t inv;

	assert_true(c->held);
	assert_int_equal(c->nanswers, 0);
	inv = invocation(f, ce, &m);
	expect_payload(&m, "[2, 3]", "{\"round\": false}");
	wamp_msg_clear(&m);
	hf_send(f, ce, "[70, %llu, {}, [5], {\"exact\": true}]", (unsigned long long)inv);
	expect_json(c, 200, "{\"args\": [5], \"kwargs\": {\"exact\": true}}");

	/* a result without payload: empty args and kwargs */
	c = post(f, "/call", "{\"procedure\": \"com.add\"}");
	inv = invocation(f, ce, &m);
	wamp_msg_clear(&m);
	hf_send(f, ce, "[70, %llu, {}]", (unsigned long long)inv);
	expect_json(c, 200, "{\"args\": [], \"kwargs\": {}}");
}

static void test_call_error(void **state)
{
	struct http_fixture *f = *state;
	int ce = callee(f, "com.fail");
	struct http_conn *c = post(f, "/call", "{\"procedure\": \"com.fail\"}");
	struct wamp_msg m;
	uint64_t inv = invocation(f, ce, &m);

	wamp_msg_clear(&m);
	/* the callee's own error URI: 500 with its payload */
	hf_send(f, ce, "[8, 68, %llu, {}, \"com.app.oops\", [\"bad\"], {\"x\": 1}]",
	        (unsigned long long)inv);
	expect_json(c, 500, "{\"error\": \"com.app.oops\", \"args\": [\"bad\"], \"kwargs\": {\"x\": 1}}");
	/* a router error URI from the callee keeps its status */
	c = post(f, "/call", "{\"procedure\": \"com.fail\"}");
	inv = invocation(f, ce, &m);
	wamp_msg_clear(&m);
	hf_send(f, ce, "[8, 68, %llu, {}, \"wamp.error.invalid_argument\"]", (unsigned long long)inv);
	expect_json(c, 400, "{\"error\": \"wamp.error.invalid_argument\", \"args\": [], \"kwargs\": {}}");
	/* nobody registered: 404 at once */
	c = post(f, "/call", "{\"procedure\": \"com.nobody\"}");
	fake_http_expect_error(c, 404, "wamp.error.no_such_procedure");
	assert_false(c->held && c->busy);
}

/* call_timeout: 504, the call canceled (the callee interrupted), a late YIELD ignored. */
static void test_call_timeout(void **state)
{
	struct http_fixture *f = *state;
	int ce = callee(f, "com.slow");
	struct http_conn *c = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	struct wamp_msg m;
	uint64_t inv = invocation(f, ce, &m);

	wamp_msg_clear(&m);
	fake_timers_advance(999);
	assert_int_equal(c->nanswers, 0);
	fake_timers_advance(1);
	fake_http_expect_error(c, 504, "wamp.error.timeout");
	hf_expect(f, ce, WAMP_INTERRUPT, &m);
	assert_int_equal(m.id[0], inv);
	assert_string_equal(wamp_dict_str(m.dict, "mode", ""), "killnowait");
	wamp_msg_clear(&m);
	hf_send(f, ce, "[70, %llu, {}, [\"late\"]]", (unsigned long long)inv);
	assert_int_equal(c->nanswers, 1);
	assert_int_equal(c->ignored, 0);
}

/* The client leaves mid-call: the call is canceled; its answer goes nowhere. */
static void test_call_client_gone(void **state)
{
	struct http_fixture *f = *state;
	int ce = callee(f, "com.slow");
	struct http_conn *c = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	struct wamp_msg m;
	uint64_t inv = invocation(f, ce, &m);

	wamp_msg_clear(&m);
	fake_http_drop(c);
	hf_expect(f, ce, WAMP_INTERRUPT, &m);
	assert_int_equal(m.id[0], inv);
	wamp_msg_clear(&m);
	hf_send(f, ce, "[70, %llu, {}, [1]]", (unsigned long long)inv);
	assert_int_equal(fake_timers_pending(), 0); /* its timeout is gone with it */
}

/* max_pending calls in flight; beyond: 503 at once. */
static void test_max_pending(void **state)
{
	struct http_fixture *f = *state;
	int ce = callee(f, "com.slow");
	struct http_conn *a = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	struct http_conn *b = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	struct http_conn *c = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	struct wamp_msg m;
	uint64_t inv;

	fake_http_expect_error(c, 503, "wamp.error.limit_exceeded");
	assert_int_equal(a->nanswers + b->nanswers, 0);
	inv = invocation(f, ce, &m);
	wamp_msg_clear(&m);
	hf_send(f, ce, "[70, %llu, {}, [1]]", (unsigned long long)inv);
	assert_int_equal(fake_http_last(a)->status, 200);
	/* one finished: room for one more */
	c = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	assert_true(c->held);
	assert_int_equal(c->nanswers, 0);
}

/* ---- authentication ------------------------------------------------------------------ */

static void test_ticket(void **state)
{
	struct http_fixture *f = *state;
	static const char body[] = "{\"procedure\": \"com.nobody\"}";
	struct http_conn *c = post(f, "/tcall", body);

	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
	assert_string_equal(fake_http_last(c)->headers, "WWW-Authenticate: Bearer realm=\"wampd\"\r\n");
	c = hf_request(f, "POST", "/tcall",
	               "Content-Type: application/json\r\nAuthorization: Bearer s3cre\r\n", body);
	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
	c = hf_request(f, "POST", "/tcall",
	               "Content-Type: application/json\r\nAuthorization: Basic czNjcmV0\r\n", body);
	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
	/* either ticket, Bearer or Ticket: through to the router (no such procedure) */
	c = hf_request(f, "POST", "/tcall",
	               "Content-Type: application/json\r\nAuthorization: Bearer s3cret\r\n", body);
	fake_http_expect_error(c, 404, "wamp.error.no_such_procedure");
	c = hf_request(f, "POST", "/tcall",
	               "Content-Type: application/json\r\nAuthorization: Ticket other\r\n", body);
	fake_http_expect_error(c, 404, "wamp.error.no_such_procedure");
}

/* A signed request's query for body at now + skew_s (seconds), with seq, signed with
 * secret (the service's: "sec"). */
static void signed_target(char *out, size_t cap, const char *secret, const char *body,
                          int skew_s, int seq)
{
	struct timeval tv;
	struct tm tm;
	time_t t;
	char ts[40], sq[16], sig[HTTPSIG_B64_LEN + 1], enc[3 * sizeof(sig)];
	size_t o = 0;

	gettimeofday(&tv, NULL);
	t = tv.tv_sec + skew_s;
	gmtime_r(&t, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + strlen(ts), sizeof(ts) - strlen(ts), ".%03dZ", (int)(tv.tv_usec / 1000));
	snprintf(sq, sizeof(sq), "%d", seq);
	httpsig_compute(secret, "k1", ts, sq, "77", (const uint8_t *)body, strlen(body), sig);
	for (const char *p = sig; *p; p++)
		o += (size_t)(*p == '=' ? snprintf(enc + o, sizeof(enc) - o, "%%3D")
		                        : snprintf(enc + o, sizeof(enc) - o, "%c", *p));
	snprintf(out, cap, "/spub?key=k1&timestamp=%s&seq=%s&nonce=77&signature=%s", ts, sq, enc);
}

static void test_signed(void **state)
{
	struct http_fixture *f = *state;
	static const char body[] = "{\"topic\": \"com.news\"}";
	char target[256];
	struct http_conn *c;

	signed_target(target, sizeof(target), "sec", body, 0, 1);
	c = post(f, target, body);
	assert_int_equal(fake_http_last(c)->status, 200);
	/* the same request again: a replay */
	c = post(f, target, body);
	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
	assert_non_null(strstr(fake_http_last(c)->body, "replayed"));
	/* another body under that signature */
	signed_target(target, sizeof(target), "sec", body, 0, 2);
	c = post(f, target, "{\"topic\": \"com.news.x\"}");
	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
	/* another secret */
	signed_target(target, sizeof(target), "not-sec", body, 0, 3);
	c = post(f, target, body);
	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
	/* outside the window (300 s) */
	signed_target(target, sizeof(target), "sec", body, -400, 4);
	c = post(f, target, body);
	fake_http_expect_error(c, 400, "wamp.error.authentication_failed");
	assert_non_null(strstr(fake_http_last(c)->body, "window"));
	/* unsigned */
	c = post(f, "/spub", body);
	fake_http_expect_error(c, 400, "wamp.error.authentication_failed");
	c = post(f, "/spub?key=k1&timestamp=yesterday&seq=1&nonce=1&signature=x", body);
	fake_http_expect_error(c, 400, "wamp.error.authentication_failed");
}

/* ---- webhook -------------------------------------------------------------------------- */

static void test_webhook(void **state)
{
	struct http_fixture *f = *state;
	int sub = subscriber(f, "com.hook");
	static const char body[] = "payload=1";
	uint8_t mac[32];
	char hdr[256], hex[65];
	struct http_conn *c;
	struct wamp_msg m;
	enum wampd_err err;
	json_t *args;

	crypto_auth_hmacsha256_state st;

	/* GitHub's signature: HMAC-SHA256 of the body under the secret, in hex */
	crypto_auth_hmacsha256_init(&st, (const uint8_t *)"gh", 2);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)body, strlen(body));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2hex(hex, sizeof(hex), mac, sizeof(mac));
	snprintf(hdr, sizeof(hdr), "X-Hub-Signature-256: sha256=%s\r\nX-GitHub-Event: push\r\n"
	         "Authorization: Bearer not-for-subscribers\r\n", hex);
	c = hf_request(f, "POST", "/hook", hdr, body);
	assert_int_equal(fake_http_last(c)->status, 202);
	hf_expect(f, sub, WAMP_EVENT, &m);
	args = wamp_payload_args(&m.payload, &err);
	assert_string_equal(json_string_value(json_object_get(json_array_get(args, 0), "body")), body);
	assert_string_equal(json_string_value(json_object_get(
	                            json_object_get(json_array_get(args, 0), "headers"), "x-github-event")),
	                    "push");
	assert_null(json_object_get(json_object_get(json_array_get(args, 0), "headers"), "authorization"));
	json_decref(args);
	wamp_msg_clear(&m);

	/* an allowed web page may post too */
	snprintf(hdr, sizeof(hdr), "X-Hub-Signature-256: sha256=%s\r\nOrigin: https://ok.example\r\n", hex);
	c = hf_request(f, "POST", "/hook", hdr, body);
	assert_int_equal(fake_http_last(c)->status, 202);
	hf_expect(f, sub, WAMP_EVENT, &m);
	wamp_msg_clear(&m);
}

static void test_webhook_refusals(void **state)
{
	struct http_fixture *f = *state;
	int sub = subscriber(f, "com.hook");
	struct http_conn *c;

	/* a web page of another origin: 403 before anything else is looked at */
	c = hf_request(f, "POST", "/hook", "Origin: https://evil.example\r\n", "x");
	fake_http_expect_error(c, 403, "wamp.error.not_authorized");
	c = hf_request(f, "GET", "/hook", "Origin: https://evil.example\r\n", NULL);
	fake_http_expect_error(c, 403, "wamp.error.not_authorized");
	/* no signature, a wrong one */
	c = hf_request(f, "POST", "/hook", NULL, "x");
	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
	c = hf_request(f, "POST", "/hook", "X-Hub-Signature-256: sha256=00\r\n", "x");
	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
	assert_int_equal(fake_peer_pending(&f->p[sub]), 0);
}

/* ---- the bridge session's end ---------------------------------------------------------- */

/* Killed: its waiting requests are answered 503; a request right after is told to retry;
 * from the loop's next turn a new session serves. */
static void test_session_killed(void **state)
{
	struct http_fixture *f = *state;
	int ce = callee(f, "com.slow");
	int admin = hf_join(f, "realm1");
	struct http_conn *c = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	struct wamp_msg m;
	uint64_t inv;

	inv = invocation(f, ce, &m);
	wamp_msg_clear(&m);
	hf_send(f, admin, "[48, 9, {}, \"wamp.session.kill_by_authid\", [\"http:/call\"]]");
	hf_expect(f, admin, WAMP_RESULT, &m);
	wamp_msg_clear(&m);
	fake_http_expect_error(c, 503, "wamp.error.canceled");
	c = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	fake_http_expect_error(c, 503, "wamp.error.canceled");
	assert_non_null(strstr(fake_http_last(c)->body, "retry"));
	/* the loop's next turn frees the killed session: its call is canceled at the callee */
	assert_int_equal(fake_peer_pending(&f->p[ce]), 0);
	fake_timers_advance(0);
	hf_expect(f, ce, WAMP_INTERRUPT, &m);
	assert_int_equal(m.id[0], inv);
	wamp_msg_clear(&m);
	hf_send(f, ce, "[70, %llu, {}, [1]]", (unsigned long long)inv); /* goes nowhere */
	c = post(f, "/call", "{\"procedure\": \"com.slow\"}");
	assert_true(c->held);
	hf_expect(f, ce, WAMP_INVOCATION, &m);
	inv = m.id[0];
	wamp_msg_clear(&m);
	hf_send(f, ce, "[70, %llu, {}, [2]]", (unsigned long long)inv);
	expect_json(c, 200, "{\"args\": [2], \"kwargs\": {}}");
}

static void test_shutdown(void **state)
{
	struct http_fixture *f = *state;
	struct wamp_msg m;
	int ce = callee(f, "com.slow");
	struct http_conn *c = post(f, "/call", "{\"procedure\": \"com.slow\"}");

	invocation(f, ce, &m);
	wamp_msg_clear(&m);
	f->rt.shutting_down = true;
	httpsvc_shutdown_all(&f->rt);
	fake_http_expect_error(c, 503, "wamp.close.system_shutdown");
	/* a service without a session yet gets none while shutting down */
	c = post(f, "/publish", "{\"topic\": \"com.news\"}");
	fake_http_expect_error(c, 503, "wamp.error.canceled");
	assert_non_null(strstr(fake_http_last(c)->body, "shutting down"));
	/* authentication still comes first */
	c = post(f, "/tcall", "{\"procedure\": \"com.slow\"}");
	fake_http_expect_error(c, 401, "wamp.error.authentication_failed");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, hf_teardown)
		T(test_publish),
		T(test_publish_refusals),
		T(test_method),
		T(test_call_result),
		T(test_call_error),
		T(test_call_timeout),
		T(test_call_client_gone),
		T(test_max_pending),
		T(test_ticket),
		T(test_signed),
		T(test_webhook),
		T(test_webhook_refusals),
		T(test_session_killed),
		T(test_shutdown),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
