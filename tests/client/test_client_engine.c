/*
 * test_client_engine.c - libwampc's sans-I/O engine (client/) against a fake router: the
 * test is the adapter (it opens and closes the "connection", moves the bytes) and the
 * router (it reads the client's RawSocket handshake and frames, decodes them with wampd's
 * codecs, and writes messages it builds from JSON text, encoded in the serializer under
 * test and fed in uneven chunks), with a fake clock and a fake random source. Every test
 * runs once per serializer (JSON, MessagePack, CBOR).
 *
 * Covered: the session (HELLO roles/features, WELCOME, ABORT, the four authentication
 * methods with their signatures checked independently, GOODBYE both ways and its timeout),
 * protocol violations of every kind the engine detects, the caller (results, progressive
 * results, errors, cancel, timeouts, late answers), the callee (registration options,
 * invocations, progressive yields, errors, INTERRUPT, unknown registrations, revocation),
 * the publisher (options, acknowledgements, errors), the subscriber (match policies,
 * retained events, pattern topics, shared subscriptions, unsubscribe), zero-copy payload
 * forwarding, reconnect timing (backoff, jitter, cap, max_retries, reset on WELCOME), the
 * restore of subscriptions and registrations, the offline queue and its drop policies,
 * RawSocket PING/PONG and the keepalive, back-pressure, message framing, freeing the
 * client from a callback, the value API, and resumable sessions (counts, ACK both ways,
 * suspend on a lost link, the resume HELLO, the exact replay, and every way a resume ends:
 * not resumed, refused, the window passed, a GOODBYE; wampc_reconnect resumes). And what
 * adapters rely on: the URL forms, the adapter slot and its update hook,
 * wampc_hold/wampc_release, the transport error text and the channel binding's lifetime,
 * the configuration view, the tls method.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <sodium.h>

#include "client/wampc.h"
#include "serializers/codec.h"
#include "serializers/rawsocket.h"

static enum wamp_ser g_ser;

/* ---------------------------------------------------------------- the fake router */

#define MAX_EVENTS 64

struct fake {
	wampc *c;
	int64_t now;
	uint32_t rnd;
	uint8_t *in;            /* bytes the client wrote, not yet parsed */
	size_t in_len;
	uint8_t *frame;         /* the last frame taken (decoded messages point into it) */
	enum rs_frame frame_type;
	bool handshake_done;
	unsigned clock_reads;   /* calls of the fake clock */
	/* what the callbacks saw */
	int joined, left, restore_failed, revoked, suspended, resumed;
	uint64_t session;
	bool reconnecting, connected;
	char reason[128], uri[128], authid[64], transport_error[128];
	int replies;
	struct wampc_reply last;
	char last_error[128];
	bool last_progress;
	char last_json[512];    /* the args and kwargs of the last reply/event/invocation */
	int events;
	char event_topic[128];
	bool event_retained;
	uint64_t event_publisher;
	int invocations;
	struct wampc_invocation inv;
	char inv_procedure[128];
	int interrupts;
	char interrupt_mode[32];
	bool free_in_callback;
	bool yield_in_interrupt;
	struct wampc_payload fwd;  /* an event payload to forward */
	bool forward;
};

static int64_t fclock(void *ud)
{
	((struct fake *)ud)->clock_reads++;
	return ((struct fake *)ud)->now;
}

static uint32_t frand(void *ud)
{
	return ((struct fake *)ud)->rnd;
}

static void on_session(wampc *c, const struct wampc_session_info *info, void *ud)
{
	struct fake *f = ud;

	switch (info->event) {
	case WAMPC_JOINED:
		f->joined++;
		f->session = info->session;
		snprintf(f->authid, sizeof(f->authid), "%s", info->authid ? info->authid : "");
		break;
	case WAMPC_LEFT:
		f->left++;
		f->reconnecting = info->reconnecting;
		f->connected = info->connected;
		snprintf(f->reason, sizeof(f->reason), "%s", info->reason ? info->reason : "");
		snprintf(f->transport_error, sizeof(f->transport_error), "%s",
		         info->transport_error ? info->transport_error : "-");
		break;
	case WAMPC_RESTORE_FAILED:
		f->restore_failed++;
		snprintf(f->reason, sizeof(f->reason), "%s", info->reason);
		snprintf(f->uri, sizeof(f->uri), "%s", info->uri);
		break;
	case WAMPC_REVOKED:
		f->revoked++;
		snprintf(f->reason, sizeof(f->reason), "%s", info->reason ? info->reason : "");
		snprintf(f->uri, sizeof(f->uri), "%s", info->uri);
		break;
	case WAMPC_SUSPENDED:
		f->suspended++;
		f->session = info->session;
		break;
	case WAMPC_RESUMED:
		f->resumed++;
		f->session = info->session;
		break;
	}
	if (f->free_in_callback) {
		wampc_free(c);
		f->c = NULL;
	}
}

/* "args kwargs" of a payload as JSON text */
static void payload_text(const struct wampc_payload *p, char *out, size_t n)
{
	enum wampd_err err;
	wampc_value *a = wampc_payload_args(p, &err), *kw;
	char *ta, *tk;

	assert_int_equal(err, WAMPD_OK);
	kw = wampc_payload_kwargs(p, &err);
	assert_int_equal(err, WAMPD_OK);
	ta = a ? wampc_value_to_json(a) : NULL;
	tk = kw ? wampc_value_to_json(kw) : NULL;
	snprintf(out, n, "%s %s", ta ? ta : "-", tk ? tk : "-");
	free(ta);
	free(tk);
	wampc_value_free(a);
	wampc_value_free(kw);
}

static void on_reply(wampc *c, const struct wampc_reply *r, void *ud)
{
	struct fake *f = ud;

	f->replies++;
	f->last = *r;
	f->last_progress = r->progress;
	snprintf(f->last_error, sizeof(f->last_error), "%s", r->error ? r->error : "");
	assert_non_null(r->payload);
	payload_text(r->payload, f->last_json, sizeof(f->last_json));
	f->last.payload = NULL;
	f->last.details = NULL;
	if (f->free_in_callback) {
		wampc_free(c);
		f->c = NULL;
	}
}

static void on_event(wampc *c, const struct wampc_event *e, void *ud)
{
	struct fake *f = ud;

	f->events++;
	snprintf(f->event_topic, sizeof(f->event_topic), "%s", e->topic);
	f->event_retained = e->retained;
	f->event_publisher = e->publisher;
	payload_text(e->payload, f->last_json, sizeof(f->last_json));
	if (f->forward)
		assert_int_equal(wampc_publish(c, "com.fwd", NULL, e->payload, NULL, NULL, NULL),
		                 WAMPD_OK);
}

static void on_invoke(wampc *c, const struct wampc_invocation *inv, void *ud)
{
	struct fake *f = ud;

	f->invocations++;
	f->inv = *inv;
	snprintf(f->inv_procedure, sizeof(f->inv_procedure), "%s", inv->procedure);
	payload_text(inv->payload, f->last_json, sizeof(f->last_json));
	f->inv.payload = NULL;
	f->inv.details = NULL;
	f->inv.procedure = NULL;
}

static void on_interrupt(wampc *c, uint64_t request, const char *mode, void *ud)
{
	struct fake *f = ud;

	f->interrupts++;
	snprintf(f->interrupt_mode, sizeof(f->interrupt_mode), "%s", mode);
	if (f->yield_in_interrupt)
		assert_int_equal(wampc_invocation_error(c, request, "com.app.stopped", NULL),
		                 WAMPD_OK);
}

static struct fake *fake_new(struct wampc_config *cfg)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct wampc_config def = {0};
	enum wampd_err err;

	assert_non_null(f);
	if (!cfg)
		cfg = &def;
	if (!cfg->realm)
		cfg->realm = "realm1";
	cfg->serializer = (enum wampc_ser)g_ser;
	cfg->clock_ms = fclock;
	cfg->random_u32 = frand;
	cfg->clock_ud = f;
	cfg->on_session = on_session;
	cfg->ud = f;
	f->now = 1000000;
	f->c = wampc_new(cfg, &err);
	assert_int_equal(err, WAMPD_OK);
	assert_non_null(f->c);
	return f;
}

static void fake_free(struct fake *f)
{
	wampc_free(f->c);
	free(f->in);
	free(f->frame);
	free(f);
}

/* Take everything the client has to write, consumed in uneven pieces (7 bytes at most per
 * consumed() call, to exercise partial writes). */
static void pull(struct fake *f)
{
	const uint8_t *d;
	size_t n;

	while ((n = wampc_transport_output(f->c, &d, NULL)) > 0) {
		size_t take = n < 7 ? n : 7;

		f->in = realloc(f->in, f->in_len + take);
		assert_non_null(f->in);
		memcpy(f->in + f->in_len, d, take);
		f->in_len += take;
		wampc_transport_consumed(f->c, take);
	}
}

static void drop_in(struct fake *f, size_t n)
{
	memmove(f->in, f->in + n, f->in_len - n);
	f->in_len -= n;
}

/* The next frame the client wrote; false when there is none. */
static bool next_frame(struct fake *f, enum rs_frame *t, uint32_t *len)
{
	uint32_t n;

	pull(f);
	if (f->in_len < 4)
		return false;
	assert_true(rs_parse_prefix(f->in, t, &n));
	assert_true(f->in_len >= 4 + (size_t)n);
	free(f->frame);
	f->frame = malloc(n ? n : 1);
	memcpy(f->frame, f->in + 4, n);
	drop_in(f, 4 + n);
	*len = n;
	return true;
}

/* The next message the client wrote must be of `type`; decoded into m (clear it). */
static void expect(struct fake *f, enum wamp_type type, struct wamp_msg *m)
{
	enum rs_frame t;
	uint32_t n;
	char why[160] = "";

	assert_true(next_frame(f, &t, &n));
	assert_int_equal(t, RS_MSG);
	assert_int_equal(wamp_decode(g_ser, f->frame, n, NULL, m, why, sizeof(why)), WAMPD_OK);
	if (m->type != type)
		fail_msg("expected %s, got %s", wamp_type_name(type), wamp_type_name(m->type));
}

static void expect_nothing(struct fake *f)
{
	pull(f);
	assert_int_equal(f->in_len, 0);
}

/* Bytes of a message given as JSON text, in the serializer under test, with the frame
 * prefix. *len set; caller frees. */
static uint8_t *encode_json(const char *json, size_t *len)
{
	struct wamp_msg m;
	struct wamp_out *o;
	enum wampd_err err;
	uint8_t *buf;
	char why[160];

	if (wamp_decode(WAMP_SER_JSON, (const uint8_t *)json, strlen(json), NULL, &m, why,
	                sizeof(why)) != WAMPD_OK)
		fail_msg("bad test message %s: %s", json, why);
	o = wamp_encode(g_ser, &m, &err);
	assert_non_null(o);
	buf = malloc(o->len + 4);
	rs_prefix(buf, RS_MSG, (uint32_t)o->len);
	memcpy(buf + 4, wamp_out_data(o), o->len);
	*len = o->len + 4;
	wamp_out_unref(o);
	wamp_msg_clear(&m);
	return buf;
}

/* Feed raw bytes in two uneven chunks. */
static enum wampd_err feed_bytes(struct fake *f, const uint8_t *b, size_t n)
{
	size_t half = n / 3;
	enum wampd_err err = wampc_transport_input(f->c, b, half);

	if (err != WAMPD_OK || !f->c)
		return err;
	return wampc_transport_input(f->c, b + half, n - half);
}

/* The router sends the message written as JSON. */
static enum wampd_err send_json(struct fake *f, const char *json)
{
	size_t n;
	uint8_t *b = encode_json(json, &n);
	enum wampd_err err = feed_bytes(f, b, n);

	free(b);
	return err;
}

static enum wampd_err vsend(struct fake *f, const char *fmt, va_list ap)
{
	char buf[2048];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	return send_json(f, buf);
}

/* The router sends a message (printf-style JSON); the client must take it. */
static void sendf(struct fake *f, const char *fmt, ...)
{
	va_list ap;
	enum wampd_err err;

	va_start(ap, fmt);
	err = vsend(f, fmt, ap);
	va_end(ap);
	assert_int_equal(err, WAMPD_OK);
}

/* The same, and the client must end the connection with `want`. */
static void send_fails(struct fake *f, enum wampd_err want, const char *fmt, ...)
{
	va_list ap;
	enum wampd_err err;

	va_start(ap, fmt);
	err = vsend(f, fmt, ap);
	va_end(ap);
	assert_int_equal(err, want);
}

/* The adapter opens the connection; the router answers the RawSocket handshake. */
static void open_transport(struct fake *f)
{
	uint8_t reply[4];
	enum wamp_ser ser;
	uint32_t peer_max;

	assert_int_equal(wampc_want(f->c), WAMPC_WANT_CONNECT);
	assert_int_equal(wampc_transport_open(f->c), WAMPD_OK);
	assert_true(wampc_want(f->c) & WAMPC_WANT_WRITE);
	pull(f);
	assert_true(f->in_len >= 4);
	assert_int_equal(rs_handshake(f->in, 0x7, 1u << 20, reply, &ser, &peer_max), RS_OK);
	assert_int_equal(ser, g_ser);
	assert_int_equal(peer_max, 1u << 20); /* the default max_message */
	drop_in(f, 4);
	assert_int_equal(wampc_transport_input(f->c, reply, 4), WAMPD_OK);
}

/* Connect and join as session 42. */
static void join(struct fake *f)
{
	struct wamp_msg m;
	int joined = f->joined;

	if (wampc_want(f->c) == 0 && wampc_stopped(f->c))
		wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	assert_string_equal(m.uri, "realm1");
	wamp_msg_clear(&m);
	sendf(f, "[2, 42, {\"authid\": \"dev\", \"authrole\": \"r\", \"authmethod\": \"anonymous\","
	         " \"roles\": {\"broker\": {}, \"dealer\": {}}}]");
	assert_int_equal(f->joined, joined + 1);
	assert_true(wampc_joined(f->c));
	assert_int_equal(wampc_session_id(f->c), 42);
}

/* The adapter sees the engine wants the connection closed, and closes it. */
static void close_transport(struct fake *f)
{
	assert_true(wampc_want(f->c) & WAMPC_WANT_CLOSE);
	pull(f);
	wampc_transport_closed(f->c);
	free(f->in);
	f->in = NULL;
	f->in_len = 0;
}

/* The connection drops under the client. */
static void lose(struct fake *f)
{
	wampc_transport_closed(f->c);
	free(f->in);
	f->in = NULL;
	f->in_len = 0;
}

static void expect_abort(struct fake *f, const char *reason)
{
	struct wamp_msg m;

	expect(f, WAMP_ABORT, &m);
	assert_string_equal(m.uri, reason);
	wamp_msg_clear(&m);
	assert_true(wampc_want(f->c) & WAMPC_WANT_CLOSE);
}

static const char *dict_str(const json_t *d, const char *k)
{
	const char *s = wamp_dict_str(d, k, NULL);

	if (!s)
		fail_msg("no %s in the dict", k);
	return s;
}

static struct fake *joined(struct wampc_config *cfg)
{
	struct fake *f = fake_new(cfg);

	wampc_start(f->c);
	join(f);
	return f;
}

/* ------------------------------------------------------------------------ session */

static void test_hello(void **state)
{
	struct wampc_config cfg = {.authid = "dev-1"};
	struct fake *f = fake_new(&cfg);
	struct wamp_msg m;
	json_t *roles, *methods;

	assert_int_equal(wampc_want(f->c), 0);       /* not started */
	assert_true(wampc_stopped(f->c));
	assert_int_equal(wampc_transport_open(f->c), WAMPD_ERR_INVALID_ARGUMENT);
	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	assert_string_equal(m.uri, "realm1");
	roles = json_object_get(m.dict, "roles");
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(roles, "caller"),
	                                                         "features"),
	                                         "progressive_call_results")));
	assert_true(json_is_true(json_object_get(json_object_get(json_object_get(roles, "callee"),
	                                                         "features"),
	                                         "pattern_based_registration")));
	assert_true(json_is_true(json_object_get(
		json_object_get(json_object_get(roles, "publisher"), "features"),
		"subscriber_blackwhite_listing")));
	assert_true(json_is_true(json_object_get(
		json_object_get(json_object_get(roles, "subscriber"), "features"),
		"pattern_based_subscription")));
	methods = json_object_get(m.dict, "authmethods");
	assert_int_equal(json_array_size(methods), 1);
	assert_string_equal(json_string_value(json_array_get(methods, 0)), "anonymous");
	assert_string_equal(dict_str(m.dict, "authid"), "dev-1");
	assert_non_null(strstr(dict_str(m.dict, "agent"), "wampc/"));
	wamp_msg_clear(&m);
	/* anonymous without an authid: the HELLO needs no authmethods (the spec's default) */
	{
		struct fake *g = fake_new(NULL);

		wampc_start(g->c);
		open_transport(g);
		expect(g, WAMP_HELLO, &m);
		assert_null(json_object_get(m.dict, "authmethods"));
		assert_null(json_object_get(m.dict, "authid"));
		wamp_msg_clear(&m);
		fake_free(g);
	}
	assert_false(wampc_joined(f->c));
	sendf(f, "[2, 77, {\"authid\": \"dev-1\", \"authrole\": \"x\"}]");
	assert_int_equal(f->joined, 1);
	assert_int_equal(f->session, 77);
	assert_string_equal(f->authid, "dev-1");
	assert_true(wampc_joined(f->c));
	fake_free(f);
}

/* Only the announced roles are in HELLO, and only their requests are made. */
static void test_roles(void **state)
{
	struct wampc_config cfg = {.roles = WAMPC_ROLE_PUBLISHER | WAMPC_ROLE_CALLEE};
	struct fake *f = fake_new(&cfg);
	struct wamp_msg m;
	json_t *roles;
	wampc_reg *reg;

	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	roles = json_object_get(m.dict, "roles");
	assert_int_equal(json_object_size(roles), 2);
	assert_true(json_is_true(json_object_get(
		json_object_get(json_object_get(roles, "publisher"), "features"), "publisher_exclusion")));
	assert_true(json_is_true(json_object_get(
		json_object_get(json_object_get(roles, "callee"), "features"), "shared_registration")));
	wamp_msg_clear(&m);
	sendf(f, "[2, 5, {}]");
	assert_int_equal(wampc_subscribe(f->c, "com.t", NULL, on_event, f, NULL, NULL, NULL),
	                 WAMPD_ERR_FEATURE_NOT_SUPPORTED);
	assert_int_equal(wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, NULL),
	                 WAMPD_ERR_FEATURE_NOT_SUPPORTED);
	expect_nothing(f);
	assert_int_equal(wampc_publish(f->c, "com.t", NULL, NULL, NULL, NULL, NULL), WAMPD_OK);
	expect(f, WAMP_PUBLISH, &m);
	wamp_msg_clear(&m);
	assert_int_equal(wampc_register(f->c, "com.p", NULL, on_invoke, f, NULL, NULL, &reg),
	                 WAMPD_OK);
	expect(f, WAMP_REGISTER, &m);
	wamp_msg_clear(&m);
	fake_free(f);
	/* a publisher alone has no registration to make */
	cfg.roles = WAMPC_ROLE_PUBLISHER;
	f = joined(&cfg);
	assert_int_equal(wampc_register(f->c, "com.p", NULL, on_invoke, f, NULL, NULL, &reg),
	                 WAMPD_ERR_FEATURE_NOT_SUPPORTED);
	fake_free(f);
	/* unknown role bits are a configuration error */
	{
		struct wampc_config bad = {.realm = "r", .roles = 1u << 9};
		enum wampd_err err;

		assert_null(wampc_new(&bad, &err));
		assert_int_equal(err, WAMPD_ERR_INVALID_ARGUMENT);
	}
}

static void test_abort_on_join(void **state)
{
	struct fake *f = fake_new(NULL);
	struct wamp_msg m;

	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	wamp_msg_clear(&m);
	sendf(f, "[3, {\"message\": \"no\"}, \"wamp.error.no_such_realm\"]");
	close_transport(f);
	assert_int_equal(f->left, 1);
	assert_string_equal(f->reason, "wamp.error.no_such_realm");
	assert_false(f->reconnecting);
	assert_true(wampc_stopped(f->c));
	assert_int_equal(f->joined, 0);
	fake_free(f);
}

static void test_join_timeout(void **state)
{
	struct wampc_config cfg = {.join_timeout = 500, .reconnect = true, .retry_jitter = 1,
	                           .retry_initial = 100};
	struct fake *f = fake_new(&cfg);

	/* a connect that never completes */
	wampc_start(f->c);
	assert_int_equal(wampc_next_timeout(f->c), 500);
	f->now += 500;
	wampc_tick(f->c);
	assert_int_equal(wampc_want(f->c), WAMPC_WANT_CLOSE);
	wampc_transport_closed(f->c);
	assert_string_equal(f->reason, "wamp.error.timeout");
	assert_true(f->reconnecting);
	assert_int_equal(wampc_next_timeout(f->c), 100);
	f->now += 100;
	wampc_tick(f->c);
	/* a router that never answers: the deadline counts from the attempt's start */
	f->now += 100;
	open_transport(f);
	assert_int_equal(wampc_next_timeout(f->c), 400);
	f->now += 399;
	wampc_tick(f->c);
	assert_false(wampc_want(f->c) & WAMPC_WANT_CLOSE);
	f->now += 1;
	wampc_tick(f->c);
	close_transport(f);
	assert_string_equal(f->reason, "wamp.error.timeout");
	fake_free(f);
}

static void test_handshake_refused(void **state)
{
	struct fake *f = fake_new(NULL);
	uint8_t refuse[4] = {0x7F, 0x10, 0, 0}; /* error 1: serializer unsupported */

	wampc_start(f->c);
	assert_int_equal(wampc_transport_open(f->c), WAMPD_OK);
	pull(f);
	drop_in(f, 4);
	assert_int_equal(wampc_transport_input(f->c, refuse, 4), WAMPD_ERR_PROTOCOL);
	assert_true(wampc_want(f->c) & WAMPC_WANT_CLOSE);
	expect_nothing(f); /* no HELLO, no ABORT: there is no session */
	close_transport(f);
	assert_string_equal(f->reason, "wamp.error.protocol_violation");
	fake_free(f);
}

static void test_ticket(void **state)
{
	struct wampc_config cfg = {.authid = "joe", .ticket = "t1cket",
	                           .authmethods = WAMPC_AUTH_TICKET | WAMPC_AUTH_ANONYMOUS};
	struct fake *f = fake_new(&cfg);
	struct wamp_msg m;
	json_t *methods;

	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	methods = json_object_get(m.dict, "authmethods");
	assert_int_equal(json_array_size(methods), 2);
	assert_string_equal(json_string_value(json_array_get(methods, 0)), "ticket");
	assert_string_equal(json_string_value(json_array_get(methods, 1)), "anonymous");
	wamp_msg_clear(&m);
	sendf(f, "[4, \"ticket\", {}]");
	expect(f, WAMP_AUTHENTICATE, &m);
	assert_string_equal(m.uri, "t1cket");
	wamp_msg_clear(&m);
	sendf(f, "[2, 5, {\"authmethod\": \"ticket\"}]");
	assert_true(wampc_joined(f->c));
	fake_free(f);
}

static void test_ticket_needs_ticket(void **state)
{
	struct wampc_config cfg = {.realm = "realm1", .authmethods = WAMPC_AUTH_TICKET};
	enum wampd_err err;

	assert_null(wampc_new(&cfg, &err));
	assert_int_equal(err, WAMPD_ERR_INVALID_ARGUMENT);
	cfg.authmethods = 0;
	cfg.realm = NULL;
	assert_null(wampc_new(&cfg, &err));
	assert_int_equal(err, WAMPD_ERR_INVALID_ARGUMENT);
	cfg.realm = "r";
	cfg.url = "http://x:1";
	assert_null(wampc_new(&cfg, &err));
	assert_int_equal(err, WAMPD_ERR_INVALID_ARGUMENT);
	cfg.url = "rs://[::1]:8080";
	wampc_free(wampc_new(&cfg, &err));
	assert_int_equal(err, WAMPD_OK);
}

/* base64(HMAC-SHA256(key, msg)), computed here independently of the library */
static void hmac_b64(const char *key, const char *msg, char *out, size_t n)
{
	uint8_t mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const uint8_t *)key, strlen(key));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)msg, strlen(msg));
	crypto_auth_hmacsha256_final(&st, mac);
	sodium_bin2base64(out, n, mac, sizeof(mac), sodium_base64_VARIANT_ORIGINAL);
}

static void test_wampcra(void **state)
{
	struct wampc_config cfg = {.authid = "joe", .secret = "s3cr3t",
	                           .authmethods = WAMPC_AUTH_WAMPCRA};
	struct fake *f = fake_new(&cfg);
	const char *ch = "{\\\"nonce\\\": \\\"abc\\\", \\\"session\\\": 5}";
	const char *ch_plain = "{\"nonce\": \"abc\", \"session\": 5}";
	char expected[128], key[128];
	uint8_t dk[32];
	struct wamp_msg m;

	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	wamp_msg_clear(&m);
	sendf(f, "[4, \"wampcra\", {\"challenge\": \"%s\"}]", ch);
	expect(f, WAMP_AUTHENTICATE, &m);
	hmac_b64("s3cr3t", ch_plain, expected, sizeof(expected));
	assert_string_equal(m.uri, expected);
	wamp_msg_clear(&m);
	/* a salted secret: the key is base64(PBKDF2-HMAC-SHA256(secret, salt, 100, 32)) */
	sendf(f, "[4, \"wampcra\", {\"challenge\": \"%s\", \"salt\": \"pepper\", \"iterations\": 100,"
	         " \"keylen\": 32}]", ch);
	expect(f, WAMP_AUTHENTICATE, &m);
	assert_int_equal(PKCS5_PBKDF2_HMAC("s3cr3t", 6, (const unsigned char *)"pepper", 6, 100,
	                                   EVP_sha256(), 32, dk), 1);
	sodium_bin2base64(key, sizeof(key), dk, 32, sodium_base64_VARIANT_ORIGINAL);
	hmac_b64(key, ch_plain, expected, sizeof(expected));
	assert_string_equal(m.uri, expected);
	wamp_msg_clear(&m);
	/* a router asking for absurd work is refused */
	send_fails(f, WAMPD_ERR_AUTH_FAILED,
	           "[4, \"wampcra\", {\"challenge\": \"x\", \"salt\": \"s\", \"iterations\": 100000000}]");
	expect_abort(f, "wamp.error.authentication_failed");
	fake_free(f);
}

static void cryptosign_case(bool binding)
{
	uint8_t seed[32], pk[32], sk[64], challenge[32], blob[96], cb[32];
	struct wampc_config cfg = {.authid = "alice", .authmethods = WAMPC_AUTH_CRYPTOSIGN,
	                           .cryptosign_seed = seed};
	char pkhex[65], chhex[65];
	struct fake *f;
	struct wamp_msg m;
	json_t *extra;
	size_t n;

	for (int i = 0; i < 32; i++) {
		seed[i] = (uint8_t)i;
		challenge[i] = (uint8_t)(0xA0 + i);
		cb[i] = (uint8_t)(0x33 * i);
	}
	crypto_sign_seed_keypair(pk, sk, seed);
	sodium_bin2hex(pkhex, sizeof(pkhex), pk, 32);
	sodium_bin2hex(chhex, sizeof(chhex), challenge, 32);
	f = fake_new(&cfg);
	if (binding)
		wampc_set_channel_binding(f->c, cb);
	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	extra = json_object_get(m.dict, "authextra");
	assert_string_equal(dict_str(extra, "pubkey"), pkhex);
	if (binding)
		assert_string_equal(dict_str(extra, "channel_binding"), "tls-unique");
	else
		assert_null(json_object_get(extra, "channel_binding"));
	wamp_msg_clear(&m);
	if (binding)
		sendf(f, "[4, \"cryptosign\", {\"challenge\": \"%s\", \"channel_binding\": "
		         "\"tls-unique\"}]", chhex);
	else
		sendf(f, "[4, \"cryptosign\", {\"challenge\": \"%s\"}]", chhex);
	expect(f, WAMP_AUTHENTICATE, &m);
	assert_int_equal(m.uri_len, 192);
	assert_int_equal(sodium_hex2bin(blob, sizeof(blob), m.uri, 192, NULL, &n, NULL), 0);
	if (binding)
		for (int i = 0; i < 32; i++)
			challenge[i] ^= cb[i];
	assert_memory_equal(blob + 64, challenge, 32);
	assert_int_equal(crypto_sign_verify_detached(blob, challenge, 32, pk), 0);
	wamp_msg_clear(&m);
	fake_free(f);
}

static void test_cryptosign(void **state)
{
	cryptosign_case(false);
	cryptosign_case(true);
}

static void test_cryptosign_binding_unavailable(void **state)
{
	uint8_t seed[32] = {1};
	struct wampc_config cfg = {.authmethods = WAMPC_AUTH_CRYPTOSIGN, .cryptosign_seed = seed};
	struct fake *f = fake_new(&cfg);
	struct wamp_msg m;
	char hex[65];

	memset(hex, 'a', 64);
	hex[64] = 0;
	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	wamp_msg_clear(&m);
	send_fails(f, WAMPD_ERR_AUTH_FAILED,
	           "[4, \"cryptosign\", {\"challenge\": \"%s\", \"channel_binding\": \"tls-unique\"}]",
	           hex);
	expect_abort(f, "wamp.error.authentication_failed");
	fake_free(f);
}

static void test_challenge_not_offered(void **state)
{
	struct fake *f = fake_new(NULL);
	struct wamp_msg m;

	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	wamp_msg_clear(&m);
	send_fails(f, WAMPD_ERR_AUTH_FAILED, "[4, \"ticket\", {}]"); /* we offered anonymous only */
	expect_abort(f, "wamp.error.authentication_failed");
	close_transport(f);
	assert_string_equal(f->reason, "wamp.error.authentication_failed");
	fake_free(f);
}

static void test_goodbye_from_router(void **state)
{
	struct fake *f = joined(NULL);
	struct wamp_msg m;

	sendf(f, "[6, {\"message\": \"bye\"}, \"wamp.close.system_shutdown\"]");
	expect(f, WAMP_GOODBYE, &m);
	assert_string_equal(m.uri, "wamp.close.goodbye_and_out");
	wamp_msg_clear(&m);
	close_transport(f);
	assert_int_equal(f->left, 1);
	assert_string_equal(f->reason, "wamp.close.system_shutdown");
	assert_false(wampc_joined(f->c));
	fake_free(f);
}

static void test_leave(void **state)
{
	struct fake *f = joined(NULL);
	struct wamp_msg m;

	assert_int_equal(wampc_leave(f->c, NULL), WAMPD_OK);
	expect(f, WAMP_GOODBYE, &m);
	assert_string_equal(m.uri, "wamp.close.close_realm");
	wamp_msg_clear(&m);
	assert_false(wampc_want(f->c) & WAMPC_WANT_CLOSE);
	/* events that cross our GOODBYE are ignored, not a violation */
	sendf(f, "[36, 5, 6, {}]");
	sendf(f, "[6, {}, \"wamp.close.goodbye_and_out\"]");
	close_transport(f);
	assert_true(wampc_stopped(f->c));
	assert_string_equal(f->reason, "wamp.close.close_realm");
	fake_free(f);
}

static void test_leave_timeout(void **state)
{
	struct wampc_config cfg = {.goodbye_timeout = 300, .reconnect = true};
	struct fake *f = joined(&cfg);
	struct wamp_msg m;

	wampc_leave(f->c, "wamp.close.system_shutdown");
	expect(f, WAMP_GOODBYE, &m);
	wamp_msg_clear(&m);
	assert_int_equal(wampc_next_timeout(f->c), 300);
	f->now += 300;
	wampc_tick(f->c);
	close_transport(f);
	assert_true(wampc_stopped(f->c)); /* no reconnect after leaving */
	assert_false(f->reconnecting);
	fake_free(f);
}

/* -------------------------------------------------------------- protocol violations */

static void violation(const char *json, bool join_first)
{
	struct fake *f = fake_new(NULL);
	struct wamp_msg m;

	wampc_start(f->c);
	if (join_first) {
		join(f);
	} else {
		open_transport(f);
		expect(f, WAMP_HELLO, &m);
		wamp_msg_clear(&m);
	}
	assert_int_equal(send_json(f, json), WAMPD_ERR_PROTOCOL);
	expect_abort(f, "wamp.error.protocol_violation");
	/* nothing more is read once the session is ending */
	assert_int_equal(send_json(f, "[36, 1, 2, {}]"), WAMPD_OK);
	assert_false(wampc_want(f->c) & WAMPC_WANT_READ);
	close_transport(f);
	assert_string_equal(f->reason, "wamp.error.protocol_violation");
	fake_free(f);
}

static void test_violations(void **state)
{
	violation("[48, 1, {}, \"com.x\"]", true);          /* CALL: routers only */
	violation("[1, \"realm1\", {}]", true);             /* HELLO */
	violation("[2, 5, {}]", true);                      /* WELCOME while joined */
	violation("[4, \"ticket\", {}]", true);             /* CHALLENGE while joined */
	violation("[50, 1, {}]", false);                    /* RESULT before WELCOME */
	violation("[36, 1, 2, {}]", false);                 /* EVENT before WELCOME */
	violation("[6, {}, \"wamp.close.x\"]", false);      /* GOODBYE before WELCOME */
	violation("[8, 36, 1, {}, \"wamp.error.x\"]", true); /* ERROR for an EVENT */
	violation("[8, 68, 1, {}, \"wamp.error.x\"]", true); /* ERROR for an INVOCATION */
}

static void test_violation_bytes(void **state)
{
	struct fake *f = joined(NULL);
	uint8_t junk[8] = {0, 0, 0, 4, 0xc1, 0xc1, 0xff, 0xff};
	uint8_t reserved[4] = {0xf0, 0, 0, 1};

	assert_int_equal(feed_bytes(f, junk, sizeof(junk)), WAMPD_ERR_PROTOCOL);
	expect_abort(f, "wamp.error.protocol_violation");
	fake_free(f);
	f = joined(NULL);
	assert_int_equal(wampc_transport_input(f->c, reserved, 4), WAMPD_ERR_PROTOCOL);
	expect_abort(f, "wamp.error.protocol_violation");
	fake_free(f);
}

static void test_too_big(void **state)
{
	struct wampc_config cfg = {.max_message = 1024};
	struct fake *f = fake_new(&cfg);
	uint8_t reply[4], prefix[4];
	enum wamp_ser ser;
	uint32_t peer_max;
	struct wamp_msg m;

	wampc_start(f->c);
	assert_int_equal(wampc_transport_open(f->c), WAMPD_OK);
	pull(f);
	assert_int_equal(rs_handshake(f->in, 0x7, 1u << 20, reply, &ser, &peer_max), RS_OK);
	assert_int_equal(peer_max, 1024);
	drop_in(f, 4);
	wampc_transport_input(f->c, reply, 4);
	expect(f, WAMP_HELLO, &m);
	wamp_msg_clear(&m);
	sendf(f, "[2, 1, {}]");
	rs_prefix(prefix, RS_MSG, 1025);
	assert_int_equal(wampc_transport_input(f->c, prefix, 4), WAMPD_ERR_TOO_BIG);
	expect_abort(f, "wamp.error.protocol_violation");
	fake_free(f);
}

static void test_mismatched_answers(void **state)
{
	struct fake *f = joined(NULL);
	uint64_t req;

	assert_int_equal(wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, &req), WAMPD_OK);
	/* PUBLISHED / SUBSCRIBED / REGISTERED for a call's request id */
	assert_int_equal(send_json(f, "[17, 1, 5]"), WAMPD_ERR_PROTOCOL);
	fake_free(f);
	f = joined(NULL);
	wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, &req);
	assert_int_equal(send_json(f, "[33, 1, 5]"), WAMPD_ERR_PROTOCOL);
	fake_free(f);
	f = joined(NULL);
	wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, &req);
	assert_int_equal(send_json(f, "[8, 32, 1, {}, \"wamp.error.x\"]"), WAMPD_ERR_PROTOCOL);
	/* answers for unknown requests are ignored (late answers) */
	fake_free(f);
	f = joined(NULL);
	sendf(f, "[50, 999, {}]");
	sendf(f, "[17, 999, 5]");
	sendf(f, "[8, 48, 999, {}, \"wamp.error.x\"]");
	sendf(f, "[36, 999, 1, {}]");
	sendf(f, "[69, 999, {}]");
	assert_true(wampc_joined(f->c));
	expect_nothing(f);
	fake_free(f);
}

/* ------------------------------------------------------------------------ caller */

static void test_call(void **state)
{
	struct fake *f = joined(NULL);
	struct wampc_call_opts o = {.receive_progress = true, .disclose_me = true};
	wampc_value *args = wampc_value_from_json("[1, \"two\"]");
	wampc_value *kw = wampc_value_from_json("{\"k\": true}");
	struct wamp_msg m;
	uint64_t req;

	assert_int_equal(wampc_call(f->c, "com.app.add", &o, WAMPC_ARGS(args, kw), on_reply, f, &req),
	                 WAMPD_OK);
	expect(f, WAMP_CALL, &m);
	assert_int_equal(m.id[0], req);
	assert_string_equal(m.uri, "com.app.add");
	assert_true(wamp_dict_bool(m.dict, "receive_progress", false));
	assert_true(wamp_dict_bool(m.dict, "disclose_me", false));
	assert_null(json_object_get(m.dict, "timeout"));
	{
		enum wampd_err err;
		json_t *a = wamp_payload_args(&m.payload, &err), *k = wamp_payload_kwargs(&m.payload, &err);
		char *ta = json_dumps(a, JSON_COMPACT), *tk = json_dumps(k, JSON_COMPACT);

		assert_string_equal(ta, "[1,\"two\"]");
		assert_string_equal(tk, "{\"k\":true}");
		free(ta);
		free(tk);
		json_decref(a);
		json_decref(k);
	}
	wamp_msg_clear(&m);
	sendf(f, "[50, %llu, {\"progress\": true}, [\"chunk1\"]]", (unsigned long long)req);
	assert_int_equal(f->replies, 1);
	assert_true(f->last_progress);
	assert_string_equal(f->last_json, "[\"chunk1\"] -");
	sendf(f, "[50, %llu, {}, [3], {\"sum\": 3}]", (unsigned long long)req);
	assert_int_equal(f->replies, 2);
	assert_false(f->last_progress);
	assert_string_equal(f->last_error, "");
	assert_string_equal(f->last_json, "[3] {\"sum\":3}");
	/* finished: a late RESULT is ignored, cancel refused */
	sendf(f, "[50, %llu, {}, [4]]", (unsigned long long)req);
	assert_int_equal(f->replies, 2);
	assert_int_equal(wampc_cancel(f->c, req, WAMPC_CANCEL_KILL), WAMPD_ERR_INVALID_ARGUMENT);
	/* an ERROR with payload */
	wampc_call(f->c, "com.app.fail", NULL, NULL, on_reply, f, &req);
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	sendf(f, "[8, 48, %llu, {\"x\": 1}, \"com.app.error.nope\", [\"why\"]]",
	      (unsigned long long)req);
	assert_int_equal(f->replies, 3);
	assert_string_equal(f->last_error, "com.app.error.nope");
	assert_string_equal(f->last_json, "[\"why\"] -");
	wampc_value_free(args);
	wampc_value_free(kw);
	fake_free(f);
}

static void test_call_refused(void **state)
{
	struct wampc_config cfg = {.max_pending = 2};
	struct fake *f = fake_new(&cfg);
	wampc_value *notlist = wampc_int(1);

	assert_int_equal(wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, NULL),
	                 WAMPD_ERR_TRANSPORT_LOST);
	wampc_start(f->c);
	join(f);
	assert_int_equal(wampc_call(f->c, "", NULL, NULL, on_reply, f, NULL), WAMPD_ERR_INVALID_URI);
	assert_int_equal(wampc_call(f->c, "com.p", NULL, NULL, NULL, NULL, NULL),
	                 WAMPD_ERR_INVALID_ARGUMENT);
	assert_int_equal(wampc_call(f->c, "com.p", NULL, WAMPC_ARGS(notlist, NULL), on_reply, f, NULL),
	                 WAMPD_ERR_INVALID_ARGUMENT);
	assert_int_equal(wampc_call(f->c, "com.\xff", NULL, NULL, on_reply, f, NULL),
	                 WAMPD_ERR_INVALID_URI);
	assert_int_equal(wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, NULL), WAMPD_OK);
	assert_int_equal(wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, NULL), WAMPD_OK);
	assert_int_equal(wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, NULL), WAMPD_ERR_LIMIT);
	assert_int_equal(f->replies, 0);
	wampc_value_free(notlist);
	fake_free(f);
}

static void test_call_timeout_and_cancel(void **state)
{
	struct fake *f = joined(NULL);
	struct wampc_call_opts o = {.timeout = 250};
	struct wamp_msg m;
	uint64_t req, req2;

	assert_int_equal(wampc_call(f->c, "com.slow", &o, NULL, on_reply, f, &req), WAMPD_OK);
	expect(f, WAMP_CALL, &m);
	assert_int_equal(wamp_dict_int(m.dict, "timeout", 0), 250);
	wamp_msg_clear(&m);
	o.timeout = 100;
	wampc_call(f->c, "com.slow2", &o, NULL, on_reply, f, &req2);
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	assert_int_equal(wampc_next_timeout(f->c), 100); /* the earlier deadline first */
	f->now += 100;
	wampc_tick(f->c);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last.request, req2);
	assert_string_equal(f->last_error, "wamp.error.timeout");
	expect(f, WAMP_CANCEL, &m);
	assert_int_equal(m.id[0], req2);
	assert_string_equal(dict_str(m.dict, "mode"), "killnowait");
	wamp_msg_clear(&m);
	assert_int_equal(wampc_next_timeout(f->c), 150);
	/* cancel the other one (kill): the router's ERROR ends it */
	assert_int_equal(wampc_cancel(f->c, req, WAMPC_CANCEL_KILL), WAMPD_OK);
	expect(f, WAMP_CANCEL, &m);
	assert_string_equal(dict_str(m.dict, "mode"), "kill");
	wamp_msg_clear(&m);
	sendf(f, "[8, 48, %llu, {}, \"wamp.error.canceled\"]", (unsigned long long)req);
	assert_int_equal(f->replies, 2);
	assert_string_equal(f->last_error, "wamp.error.canceled");
	assert_int_equal(wampc_next_timeout(f->c), -1);
	/* the late answer of the timed-out call is ignored */
	sendf(f, "[50, %llu, {}]", (unsigned long long)req2);
	assert_int_equal(f->replies, 2);
	fake_free(f);
}

/* ------------------------------------------------------------------------ callee */

static void test_callee(void **state)
{
	struct fake *f = joined(NULL);
	struct wampc_register_opts o = {.match = WAMPC_MATCH_PREFIX, .invoke = WAMPC_INVOKE_ROUNDROBIN,
	                                .disclose_caller = true, .on_interrupt = on_interrupt};
	wampc_value *res = wampc_value_from_json("[\"r\"]");
	struct wamp_msg m;
	wampc_reg *reg;

	assert_int_equal(wampc_register(f->c, "com.app.", &o, on_invoke, f, on_reply, f, &reg),
	                 WAMPD_OK);
	expect(f, WAMP_REGISTER, &m);
	assert_string_equal(m.uri, "com.app.");
	assert_string_equal(dict_str(m.dict, "match"), "prefix");
	assert_string_equal(dict_str(m.dict, "invoke"), "roundrobin");
	assert_true(wamp_dict_bool(m.dict, "disclose_caller", false));
	sendf(f, "[65, %llu, 900]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last.id, 900);
	/* an invocation with progressive results */
	sendf(f, "[68, 11, 900, {\"procedure\": \"com.app.x\", \"caller\": 7, \"receive_progress\": true,"
	         " \"timeout\": 500}, [1, 2], {\"a\": \"\\u0000AAEC\"}]");
	assert_int_equal(f->invocations, 1);
	assert_int_equal(f->inv.request, 11);
	assert_int_equal(f->inv.registration, 900);
	assert_string_equal(f->inv_procedure, "com.app.x");
	assert_int_equal(f->inv.caller, 7);
	assert_int_equal(f->inv.timeout, 500);
	assert_true(f->inv.receive_progress);
	assert_ptr_equal(f->inv.reg, reg);
	assert_string_equal(f->last_json, "[1,2] {\"a\":\"\\u0000AAEC\"}");
	assert_int_equal(wampc_yield(f->c, 11, true, WAMPC_ARGS(res, NULL)), WAMPD_OK);
	expect(f, WAMP_YIELD, &m);
	assert_int_equal(m.id[0], 11);
	assert_true(wamp_dict_bool(m.dict, "progress", false));
	wamp_msg_clear(&m);
	assert_int_equal(wampc_yield(f->c, 11, false, NULL), WAMPD_OK);
	expect(f, WAMP_YIELD, &m);
	assert_false(wamp_dict_bool(m.dict, "progress", false));
	wamp_msg_clear(&m);
	assert_int_equal(wampc_yield(f->c, 11, false, NULL), WAMPD_ERR_INVALID_ARGUMENT);
	/* no receive_progress: a progressive yield is refused; an error answers */
	sendf(f, "[68, 12, 900, {}, []]");
	assert_string_equal(f->inv_procedure, "com.app.");
	assert_int_equal(wampc_yield(f->c, 12, true, NULL), WAMPD_ERR_INVALID_ARGUMENT);
	assert_int_equal(wampc_invocation_error(f->c, 12, "com.app.error.bad", WAMPC_ARGS(res, NULL)),
	                 WAMPD_OK);
	expect(f, WAMP_ERROR, &m);
	assert_int_equal(m.id[0], WAMP_INVOCATION);
	assert_int_equal(m.id[1], 12);
	assert_string_equal(m.uri, "com.app.error.bad");
	wamp_msg_clear(&m);
	/* INTERRUPT: told, then canceled for us; a later answer is refused */
	sendf(f, "[68, 13, 900, {}]");
	sendf(f, "[69, 13, {\"mode\": \"killnowait\"}]");
	assert_int_equal(f->interrupts, 1);
	assert_string_equal(f->interrupt_mode, "killnowait");
	expect(f, WAMP_ERROR, &m);
	assert_int_equal(m.id[1], 13);
	assert_string_equal(m.uri, "wamp.error.canceled");
	wamp_msg_clear(&m);
	assert_int_equal(wampc_yield(f->c, 13, false, NULL), WAMPD_ERR_INVALID_ARGUMENT);
	/* ... unless the callback answered itself */
	f->yield_in_interrupt = true;
	sendf(f, "[68, 14, 900, {}]");
	sendf(f, "[69, 14, {}]");
	assert_string_equal(f->interrupt_mode, "kill");
	expect(f, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "com.app.stopped");
	wamp_msg_clear(&m);
	expect_nothing(f);
	/* an invocation for a registration we do not have */
	sendf(f, "[68, 15, 901, {}]");
	assert_int_equal(f->invocations, 4);
	expect(f, WAMP_ERROR, &m);
	assert_string_equal(m.uri, "wamp.error.no_such_registration");
	wamp_msg_clear(&m);
	/* a request id in use twice is a violation */
	sendf(f, "[68, 16, 900, {}]");
	assert_int_equal(send_json(f, "[68, 16, 900, {}]"), WAMPD_ERR_PROTOCOL);
	wampc_value_free(res);
	fake_free(f);
}

static void test_invocation_limit(void **state)
{
	struct wampc_config cfg = {.max_pending = 1};
	struct fake *f = joined(&cfg);
	struct wamp_msg m;

	wampc_register(f->c, "com.p", NULL, on_invoke, f, NULL, NULL, NULL);
	expect(f, WAMP_REGISTER, &m);
	sendf(f, "[65, %llu, 5]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	sendf(f, "[68, 1, 5, {}]");
	sendf(f, "[68, 2, 5, {}]");
	assert_int_equal(f->invocations, 1);
	expect(f, WAMP_ERROR, &m);
	assert_int_equal(m.id[1], 2);
	assert_string_equal(m.uri, "wamp.error.limit_exceeded");
	wamp_msg_clear(&m);
	fake_free(f);
}

static void test_unregister_and_revoke(void **state)
{
	struct fake *f = joined(NULL);
	struct wamp_msg m;
	wampc_reg *a, *b;

	wampc_register(f->c, "com.a", NULL, on_invoke, f, NULL, NULL, &a);
	wampc_register(f->c, "com.b", NULL, on_invoke, f, NULL, NULL, &b);
	expect(f, WAMP_REGISTER, &m);
	sendf(f, "[65, %llu, 1]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	expect(f, WAMP_REGISTER, &m);
	sendf(f, "[65, %llu, 2]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(wampc_unregister(f->c, a, on_reply, f), WAMPD_OK);
	assert_int_equal(wampc_unregister(f->c, a, on_reply, f), WAMPD_ERR_INVALID_ARGUMENT);
	expect(f, WAMP_UNREGISTER, &m);
	assert_int_equal(m.id[1], 1);
	sendf(f, "[68, 3, 1, {}]"); /* no longer ours */
	assert_int_equal(f->invocations, 0);
	wamp_msg_clear(&m);
	expect(f, WAMP_ERROR, &m);
	wamp_msg_clear(&m);
	sendf(f, "[67, %llu]", (unsigned long long)2);
	assert_int_equal(f->replies, 0);
	sendf(f, "[67, 3]");
	assert_int_equal(f->replies, 1);
	assert_string_equal(f->last_error, "");
	/* the router revokes b */
	sendf(f, "[67, 0, {\"registration\": 2, \"reason\": \"wamp.error.killed\"}]");
	assert_int_equal(f->revoked, 1);
	assert_string_equal(f->uri, "com.b");
	assert_string_equal(f->reason, "wamp.error.killed");
	sendf(f, "[68, 4, 2, {}]");
	assert_int_equal(f->invocations, 0);
	wamp_msg_clear(&m);
	expect(f, WAMP_ERROR, &m);
	wamp_msg_clear(&m);
	/* an inactive handle is dropped without telling the router */
	assert_int_equal(wampc_unregister(f->c, b, on_reply, f), WAMPD_OK);
	assert_int_equal(f->replies, 2);
	expect_nothing(f);
	fake_free(f);
}

/* ------------------------------------------------------------------------ publisher */

static void test_publish(void **state)
{
	struct fake *f = joined(NULL);
	uint64_t ids[2] = {7, 8}, ex[1] = {9};
	const char *aid[1] = {"joe"}, *roles[2] = {"a", "b"};
	struct wampc_publish_opts o = {.acknowledge = true, .include_me = true, .retain = true,
	                               .eligible = ids, .n_eligible = 2, .exclude = ex,
	                               .n_exclude = 1, .eligible_authid = aid,
	                               .n_eligible_authid = 1, .exclude_authrole = roles,
	                               .n_exclude_authrole = 2};
	wampc_value *args = wampc_array();
	struct wamp_msg m;
	uint64_t req;
	json_t *v;

	wampc_array_append(args, wampc_bytes("\x00\x01\xfe", 3));
	assert_int_equal(wampc_publish(f->c, "com.t", &o, WAMPC_ARGS(args, NULL), on_reply, f, &req),
	                 WAMPD_OK);
	expect(f, WAMP_PUBLISH, &m);
	assert_int_equal(m.id[0], req);
	assert_string_equal(m.uri, "com.t");
	assert_true(wamp_dict_bool(m.dict, "acknowledge", false));
	assert_false(wamp_dict_bool(m.dict, "exclude_me", true));
	assert_true(wamp_dict_bool(m.dict, "retain", false));
	v = json_object_get(m.dict, "eligible");
	assert_int_equal(json_array_size(v), 2);
	assert_int_equal(json_integer_value(json_array_get(v, 1)), 8);
	assert_int_equal(json_integer_value(json_array_get(json_object_get(m.dict, "exclude"), 0)), 9);
	assert_string_equal(json_string_value(json_array_get(json_object_get(m.dict, "eligible_authid"), 0)),
	                    "joe");
	assert_int_equal(json_array_size(json_object_get(m.dict, "exclude_authrole")), 2);
	wamp_msg_clear(&m);
	sendf(f, "[17, %llu, 5555]", (unsigned long long)req);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last.id, 5555);
	/* no options: an empty dict, and nothing to answer */
	assert_int_equal(wampc_publish(f->c, "com.t", NULL, NULL, on_reply, f, NULL), WAMPD_OK);
	expect(f, WAMP_PUBLISH, &m);
	assert_null(m.dict);
	assert_false(wamp_payload_present(&m.payload));
	wamp_msg_clear(&m);
	/* an acknowledged publication refused */
	wampc_publish(f->c, "com.t", &(struct wampc_publish_opts){.acknowledge = true}, NULL,
	              on_reply, f, &req);
	expect(f, WAMP_PUBLISH, &m);
	wamp_msg_clear(&m);
	sendf(f, "[8, 16, %llu, {}, \"wamp.error.not_authorized\"]", (unsigned long long)req);
	assert_int_equal(f->replies, 2);
	assert_string_equal(f->last_error, "wamp.error.not_authorized");
	assert_int_equal(wampc_publish(f->c, "", NULL, NULL, NULL, NULL, NULL), WAMPD_ERR_INVALID_URI);
	wampc_value_free(args);
	fake_free(f);
}

/* Options made only of the flags are made once per combination and reused: every
 * combination, twice, in an order where a wrong dict would show. */
static void test_publish_flag_options(void **state)
{
	struct fake *f = joined(NULL);
	struct wamp_msg m;

	for (int round = 0; round < 2; round++)
		for (unsigned k = 0; k < 8; k++) {
			unsigned bits = round ? 7 - k : k;
			struct wampc_publish_opts o = {.acknowledge = bits & 1, .include_me = bits & 2,
			                               .retain = bits & 4};

			assert_int_equal(wampc_publish(f->c, "com.t", &o, NULL, NULL, NULL, NULL),
			                 WAMPD_OK);
			expect(f, WAMP_PUBLISH, &m);
			assert_int_equal(json_object_size(m.dict), __builtin_popcount(bits));
			assert_int_equal(wamp_dict_bool(m.dict, "acknowledge", false), (bits & 1) != 0);
			assert_int_equal(wamp_dict_bool(m.dict, "exclude_me", true), !(bits & 2));
			assert_int_equal(wamp_dict_bool(m.dict, "retain", false), (bits & 4) != 0);
			wamp_msg_clear(&m);
		}
	fake_free(f);
}

/* ------------------------------------------------------------------------ subscriber */

static void test_subscribe(void **state)
{
	struct fake *f = joined(NULL);
	struct wampc_subscribe_opts o = {.match = WAMPC_MATCH_WILDCARD, .get_retained = true};
	struct wamp_msg m;
	wampc_sub *s1, *s2, *s3;

	assert_int_equal(wampc_subscribe(f->c, "com..temp", &o, on_event, f, on_reply, f, &s1),
	                 WAMPD_OK);
	expect(f, WAMP_SUBSCRIBE, &m);
	assert_string_equal(m.uri, "com..temp");
	assert_string_equal(dict_str(m.dict, "match"), "wildcard");
	assert_true(wamp_dict_bool(m.dict, "get_retained", false));
	sendf(f, "[33, %llu, 300]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last.id, 300);
	sendf(f, "[36, 300, 1, {\"topic\": \"com.kitchen.temp\", \"retained\": true, "
	         "\"publisher\": 99}, [21.5]]");
	assert_int_equal(f->events, 1);
	assert_string_equal(f->event_topic, "com.kitchen.temp");
	assert_true(f->event_retained);
	assert_int_equal(f->event_publisher, 99);
	assert_string_equal(f->last_json, "[21.5] -");
	/* an exact subscription: the topic is the subscribed URI; two local subscriptions the
	 * router merged into one id both get the event */
	wampc_subscribe(f->c, "com.x", NULL, on_event, f, NULL, NULL, &s2);
	wampc_subscribe(f->c, "com.x", NULL, on_event, f, NULL, NULL, &s3);
	expect(f, WAMP_SUBSCRIBE, &m);
	assert_null(m.dict);
	sendf(f, "[33, %llu, 301]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[33, %llu, 301]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	sendf(f, "[36, 301, 2, {}, [], {\"k\": null}]");
	assert_int_equal(f->events, 3);
	assert_string_equal(f->event_topic, "com.x");
	assert_string_equal(f->last_json, "[] {\"k\":null}");
	/* unsubscribing one of the two: the router is not told */
	assert_int_equal(wampc_unsubscribe(f->c, s2, on_reply, f), WAMPD_OK);
	assert_int_equal(f->replies, 2);
	expect_nothing(f);
	sendf(f, "[36, 301, 3, {}]");
	assert_int_equal(f->events, 4);
	/* the last one: UNSUBSCRIBE, no more events from now on */
	assert_int_equal(wampc_unsubscribe(f->c, s3, on_reply, f), WAMPD_OK);
	expect(f, WAMP_UNSUBSCRIBE, &m);
	assert_int_equal(m.id[1], 301);
	sendf(f, "[36, 301, 4, {}]");
	assert_int_equal(f->events, 4);
	sendf(f, "[35, %llu]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(f->replies, 3);
	/* refused subscription: the handle ends with the error */
	wampc_subscribe(f->c, "com.no", NULL, on_event, f, on_reply, f, NULL);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[8, 32, %llu, {}, \"wamp.error.not_authorized\"]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_string_equal(f->last_error, "wamp.error.not_authorized");
	assert_int_equal(f->replies, 4);
	/* revocation */
	sendf(f, "[35, 0, {\"subscription\": 300, \"reason\": \"wamp.error.gone\"}]");
	assert_int_equal(f->revoked, 1);
	assert_string_equal(f->uri, "com..temp");
	sendf(f, "[36, 300, 5, {}]");
	assert_int_equal(f->events, 4);
	(void)s1;
	fake_free(f);
}

static void test_unsubscribe_in_flight(void **state)
{
	struct fake *f = joined(NULL);
	struct wamp_msg m;
	wampc_sub *s;

	wampc_subscribe(f->c, "com.y", NULL, on_event, f, NULL, NULL, &s);
	expect(f, WAMP_SUBSCRIBE, &m);
	assert_int_equal(wampc_unsubscribe(f->c, s, on_reply, f), WAMPD_OK);
	assert_int_equal(f->replies, 1);
	/* the SUBSCRIBED that arrives for it is undone */
	sendf(f, "[33, %llu, 400]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	expect(f, WAMP_UNSUBSCRIBE, &m);
	assert_int_equal(m.id[1], 400);
	wamp_msg_clear(&m);
	sendf(f, "[36, 400, 1, {}]");
	assert_int_equal(f->events, 0);
	fake_free(f);
}

static void test_forward_raw(void **state)
{
	struct fake *f = joined(NULL);
	struct wamp_msg m;
	struct wamp_msg ev;
	size_t n;
	uint8_t *b;

	f->forward = true;
	wampc_subscribe(f->c, "com.in", NULL, on_event, f, NULL, NULL, NULL);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[33, %llu, 1]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	b = encode_json("[36, 1, 2, {}, [1, \"\\u0000AP8=\", {\"a\": [1.5]}], {\"z\": \"y\"}]", &n);
	assert_int_equal(feed_bytes(f, b, n), WAMPD_OK);
	assert_int_equal(f->events, 1);
	expect(f, WAMP_PUBLISH, &m);
	assert_string_equal(m.uri, "com.fwd");
	/* the payload bytes are the event's, as they were */
	assert_int_equal(wamp_decode(g_ser, b + 4, n - 4, NULL, &ev, NULL, 0), WAMPD_OK);
	assert_int_equal(m.payload.args_len, ev.payload.args_len);
	assert_memory_equal(m.payload.args, ev.payload.args, ev.payload.args_len);
	assert_int_equal(m.payload.kwargs_len, ev.payload.kwargs_len);
	assert_memory_equal(m.payload.kwargs, ev.payload.kwargs, ev.payload.kwargs_len);
	wamp_msg_clear(&ev);
	wamp_msg_clear(&m);
	free(b);
	fake_free(f);
}

/* ------------------------------------------------------------------------ reconnect */

static void test_backoff(void **state)
{
	struct wampc_config cfg = {.reconnect = true, .retry_initial = 100, .retry_max = 1000,
	                           .retry_jitter = 50, .max_retries = 6};
	struct fake *f = fake_new(&cfg);
	/* delays: 100, 200, 400, 800, 1000 (cap), 1000, minus rnd % (jitter + 1) */
	int64_t expect_delay[] = {100, 200, 400, 800, 1000, 1000};

	wampc_start(f->c);
	f->rnd = 0;
	for (int i = 0; i < 6; i++) {
		assert_int_equal(wampc_want(f->c), WAMPC_WANT_CONNECT);
		wampc_transport_closed(f->c); /* the attempt failed */
		assert_true(f->reconnecting);
		assert_int_equal(wampc_want(f->c), 0);
		assert_int_equal(wampc_next_timeout(f->c), expect_delay[i]);
		f->now += expect_delay[i] - 1;
		wampc_tick(f->c);
		assert_int_equal(wampc_want(f->c), 0);
		f->now += 1;
		wampc_tick(f->c);
	}
	/* the 7th failure is one too many */
	assert_int_equal(wampc_want(f->c), WAMPC_WANT_CONNECT);
	wampc_transport_closed(f->c);
	assert_false(f->reconnecting);
	assert_true(wampc_stopped(f->c));
	assert_int_equal(f->left, 7);
	/* jitter takes up to retry_jitter percent off: rnd 37 -> 37 % 51 */
	wampc_start(f->c);
	f->rnd = 37;
	wampc_transport_closed(f->c);
	assert_int_equal(wampc_next_timeout(f->c), 100 - 37 % 51);
	f->now += 100;
	wampc_tick(f->c);
	/* a WELCOME resets the series */
	wampc_transport_closed(f->c);
	assert_int_equal(wampc_next_timeout(f->c), 200 - 37 % 101);
	f->now += 200;
	wampc_tick(f->c);
	join(f);
	lose(f);
	assert_true(f->reconnecting);
	assert_int_equal(wampc_next_timeout(f->c), 100 - 37 % 51);
	{
		struct wampc_stats st;

		wampc_get_stats(f->c, &st);
		assert_int_equal(st.connects, 10);
		assert_int_equal(st.joins, 1);
	}
	fake_free(f);
}

static void test_restore(void **state)
{
	struct wampc_config cfg = {.reconnect = true};
	struct fake *f = joined(&cfg);
	struct wamp_msg m;
	struct wampc_stats st;
	uint64_t req;

	wampc_subscribe(f->c, "com.s", &(struct wampc_subscribe_opts){.match = WAMPC_MATCH_PREFIX},
	                on_event, f, on_reply, f, NULL);
	wampc_register(f->c, "com.r", NULL, on_invoke, f, on_reply, f, NULL);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[33, %llu, 10]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	expect(f, WAMP_REGISTER, &m);
	sendf(f, "[65, %llu, 20]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(f->replies, 2);
	/* a subscription made while its SUBSCRIBE is in flight when the link drops */
	wampc_subscribe(f->c, "com.t", NULL, on_event, f, on_reply, f, NULL);
	expect(f, WAMP_SUBSCRIBE, &m);
	wamp_msg_clear(&m);
	wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, &req);
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	lose(f);
	/* the call in flight ended; the subscribe in flight did not */
	assert_int_equal(f->replies, 3);
	assert_string_equal(f->last_error, "wamp.close.transport_lost");
	assert_int_equal(f->last.request, req);
	sendf(f, "[36, 10, 1, {}]"); /* not connected: ignored */
	assert_int_equal(f->events, 0);
	f->now += wampc_next_timeout(f->c);
	wampc_tick(f->c);
	join(f);
	/* everything is made again, in order, with the same options */
	expect(f, WAMP_SUBSCRIBE, &m);
	assert_string_equal(m.uri, "com.s");
	assert_string_equal(dict_str(m.dict, "match"), "prefix");
	sendf(f, "[33, %llu, 11]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	expect(f, WAMP_SUBSCRIBE, &m);
	assert_string_equal(m.uri, "com.t");
	sendf(f, "[33, %llu, 12]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(f->replies, 4); /* com.t's first answer, now */
	assert_int_equal(f->last.id, 12);
	expect(f, WAMP_REGISTER, &m);
	assert_string_equal(m.uri, "com.r");
	sendf(f, "[8, 64, %llu, {}, \"wamp.error.procedure_already_exists\"]",
	      (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(f->restore_failed, 1);
	assert_string_equal(f->uri, "com.r");
	assert_string_equal(f->reason, "wamp.error.procedure_already_exists");
	sendf(f, "[36, 11, 1, {\"topic\": \"com.s.a\"}]");
	assert_int_equal(f->events, 1);
	assert_string_equal(f->event_topic, "com.s.a");
	sendf(f, "[36, 10, 1, {}]"); /* the old id means nothing now */
	assert_int_equal(f->events, 1);
	wampc_get_stats(f->c, &st);
	assert_int_equal(st.restored, 2);
	assert_int_equal(st.joins, 2);
	fake_free(f);
}

static void test_offline_queue(void **state)
{
	struct wampc_config cfg = {.reconnect = true, .offline_queue_bytes = 200};
	struct fake *f = fake_new(&cfg);
	struct wampc_publish_opts ack = {.acknowledge = true};
	struct wampc_stats st;
	struct wamp_msg m;
	char topic[32];
	uint64_t req;
	int n;

	/* not started, no session: queued */
	for (n = 0; n < 100; n++) {
		snprintf(topic, sizeof(topic), "com.q.%d", n);
		if (wampc_publish(f->c, topic, n == 0 ? &ack : NULL, NULL, on_reply, f, n == 0 ? &req : NULL)
		    != WAMPD_OK)
			break;
	}
	assert_true(n > 2 && n < 100);
	assert_int_equal(wampc_publish(f->c, "com.q.x", NULL, NULL, NULL, NULL, NULL), WAMPD_ERR_LIMIT);
	wampc_get_stats(f->c, &st);
	assert_int_equal(st.offline_queued, n);
	assert_int_equal(st.offline_dropped, 2);
	assert_true(st.offline_bytes <= 200);
	wampc_start(f->c);
	join(f);
	for (int i = 0; i < n; i++) {
		expect(f, WAMP_PUBLISH, &m);
		snprintf(topic, sizeof(topic), "com.q.%d", i);
		assert_string_equal(m.uri, topic);
		wamp_msg_clear(&m);
	}
	expect_nothing(f);
	sendf(f, "[17, %llu, 1]", (unsigned long long)req);
	assert_int_equal(f->replies, 1);
	assert_string_equal(f->last_error, "");
	fake_free(f);
}

static void test_offline_drop_oldest(void **state)
{
	struct wampc_config cfg = {.reconnect = true, .offline_queue_bytes = 120,
	                           .offline_drop = WAMPC_DROP_OLDEST};
	struct fake *f = fake_new(&cfg);
	struct wampc_publish_opts ack = {.acknowledge = true};
	struct wampc_stats st;
	struct wamp_msg m;
	char topic[32];
	uint64_t req;

	assert_int_equal(wampc_publish(f->c, "com.q.first", &ack, NULL, on_reply, f, &req), WAMPD_OK);
	for (int i = 0; i < 20; i++) {
		snprintf(topic, sizeof(topic), "com.q.%d", i);
		assert_int_equal(wampc_publish(f->c, topic, NULL, NULL, NULL, NULL, NULL), WAMPD_OK);
	}
	/* the acknowledged first one was dropped: its callback said so */
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last.request, req);
	assert_string_equal(f->last_error, "wamp.error.limit_exceeded");
	wampc_get_stats(f->c, &st);
	assert_true(st.offline_dropped > 0);
	assert_int_equal(st.offline_queued, 21);
	wampc_start(f->c);
	join(f);
	/* the newest ones survive, in order, the last is com.q.19 */
	{
		char first[32] = "", last[32] = "";
		uint64_t count = 0;
		enum rs_frame t;
		uint32_t n;

		while (next_frame(f, &t, &n)) {
			assert_int_equal(wamp_decode(g_ser, f->frame, n, NULL, &m, NULL, 0), WAMPD_OK);
			assert_int_equal(m.type, WAMP_PUBLISH);
			if (!count++)
				snprintf(first, sizeof(first), "%s", m.uri);
			snprintf(last, sizeof(last), "%s", m.uri);
			wamp_msg_clear(&m);
		}
		assert_string_equal(last, "com.q.19");
		assert_string_not_equal(first, "com.q.first");
		assert_int_equal(count, 21 - st.offline_dropped);
	}
	fake_free(f);
}

static void test_requeue_on_loss(void **state)
{
	struct wampc_config cfg = {.reconnect = true, .offline_queue_bytes = 4096};
	struct fake *f = joined(&cfg);
	struct wampc_publish_opts ack = {.acknowledge = true};
	struct wamp_msg m;
	uint64_t req, req2;

	/* written (and lost with the link): its acknowledgement ends with transport_lost */
	wampc_publish(f->c, "com.sent", &ack, NULL, on_reply, f, &req);
	expect(f, WAMP_PUBLISH, &m);
	wamp_msg_clear(&m);
	/* not written yet: they go back to the offline queue, with the acknowledgement */
	wampc_publish(f->c, "com.unsent.1", &ack, NULL, on_reply, f, &req2);
	wampc_publish(f->c, "com.unsent.2", NULL, NULL, NULL, NULL, NULL);
	lose(f);
	assert_int_equal(f->replies, 1);
	assert_int_equal(f->last.request, req);
	assert_string_equal(f->last_error, "wamp.close.transport_lost");
	/* publishing goes on while offline */
	wampc_publish(f->c, "com.offline", NULL, NULL, NULL, NULL, NULL);
	f->now += wampc_next_timeout(f->c);
	wampc_tick(f->c);
	join(f);
	expect(f, WAMP_PUBLISH, &m);
	assert_string_equal(m.uri, "com.unsent.1");
	assert_int_equal(m.id[0], req2);
	wamp_msg_clear(&m);
	expect(f, WAMP_PUBLISH, &m);
	assert_string_equal(m.uri, "com.unsent.2");
	wamp_msg_clear(&m);
	expect(f, WAMP_PUBLISH, &m);
	assert_string_equal(m.uri, "com.offline");
	wamp_msg_clear(&m);
	sendf(f, "[17, %llu, 3]", (unsigned long long)req2);
	assert_int_equal(f->replies, 2);
	assert_int_equal(f->last.id, 3);
	fake_free(f);
}

static void test_no_offline_queue(void **state)
{
	struct fake *f = fake_new(NULL);

	assert_int_equal(wampc_publish(f->c, "com.t", NULL, NULL, NULL, NULL, NULL),
	                 WAMPD_ERR_TRANSPORT_LOST);
	fake_free(f);
}

/* -------------------------------------------------------------- RawSocket, limits */

static void test_ping_pong(void **state)
{
	struct wampc_config cfg = {.ping_interval = 1000, .ping_timeout = 300};
	struct fake *f = joined(&cfg);
	uint8_t ping[7];
	enum rs_frame t;
	uint32_t n;

	/* the router's PING is answered with its payload */
	rs_prefix(ping, RS_PING, 3);
	memcpy(ping + 4, "abc", 3);
	assert_int_equal(wampc_transport_input(f->c, ping, sizeof(ping)), WAMPD_OK);
	assert_true(next_frame(f, &t, &n));
	assert_int_equal(t, RS_PONG);
	assert_int_equal(n, 3);
	assert_memory_equal(f->frame, "abc", 3);
	/* silence: our PING, then a timeout */
	assert_int_equal(wampc_next_timeout(f->c), 1000);
	f->now += 1000;
	wampc_tick(f->c);
	assert_true(next_frame(f, &t, &n));
	assert_int_equal(t, RS_PING);
	assert_int_equal(wampc_next_timeout(f->c), 300);
	{ /* any input counts as life */
		uint8_t pong[4];

		rs_prefix(pong, RS_PONG, 0);
		assert_int_equal(wampc_transport_input(f->c, pong, 4), WAMPD_OK);
	}
	assert_int_equal(wampc_next_timeout(f->c), 1000);
	f->now += 1000;
	wampc_tick(f->c);
	assert_true(next_frame(f, &t, &n));
	f->now += 300;
	wampc_tick(f->c);
	close_transport(f);
	assert_string_equal(f->reason, "wamp.close.transport_lost");
	fake_free(f);
}

static void test_backpressure(void **state)
{
	struct wampc_config cfg = {.max_queue_bytes = 100};
	struct fake *f = joined(&cfg);
	enum wampd_err err = WAMPD_OK;
	int n = 0;

	while (n < 1000 && (err = wampc_publish(f->c, "com.a.topic", NULL, NULL, NULL, NULL, NULL)) ==
	                       WAMPD_OK)
		n++;
	assert_int_equal(err, WAMPD_ERR_LIMIT);
	assert_true(n > 1 && n < 20);
	assert_false(wampc_want(f->c) & WAMPC_WANT_READ); /* over the bound: input waits */
	assert_int_equal(wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, NULL), WAMPD_ERR_LIMIT);
	pull(f);
	assert_true(wampc_want(f->c) & WAMPC_WANT_READ);
	assert_int_equal(wampc_publish(f->c, "com.a.topic", NULL, NULL, NULL, NULL, NULL), WAMPD_OK);
	fake_free(f);
}

static void test_payload_size(void **state)
{
	struct fake *f = fake_new(NULL);
	uint8_t reply[4] = {0x7F, (uint8_t)(0x10 | (g_ser + 1)), 0, 0}; /* router max 1024 */
	struct wamp_msg m;
	char big[1100];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = 0;
	wampc_start(f->c);
	wampc_transport_open(f->c);
	pull(f);
	drop_in(f, 4);
	assert_int_equal(wampc_transport_input(f->c, reply, 4), WAMPD_OK);
	expect(f, WAMP_HELLO, &m);
	wamp_msg_clear(&m);
	sendf(f, "[2, 1, {}]");
	assert_int_equal(wampc_publish(f->c, big, NULL, NULL, NULL, NULL, NULL), WAMPD_ERR_PAYLOAD_SIZE);
	assert_int_equal(wampc_publish(f->c, "com.small", NULL, NULL, NULL, NULL, NULL), WAMPD_OK);
	fake_free(f);
}

static void test_message_framing(void **state)
{
	struct wampc_config cfg = {.framing = WAMPC_FRAMING_MESSAGE};
	struct fake *f = fake_new(&cfg);
	const uint8_t *d;
	struct wamp_msg m;
	bool binary;
	size_t n, len;
	uint8_t *b;

	wampc_start(f->c);
	assert_int_equal(wampc_transport_open(f->c), WAMPD_OK);
	n = wampc_transport_output(f->c, &d, &binary);
	assert_true(n > 0);
	assert_int_equal(binary, g_ser != WAMP_SER_JSON);
	assert_int_equal(wamp_decode(g_ser, d, n, NULL, &m, NULL, 0), WAMPD_OK);
	assert_int_equal(m.type, WAMP_HELLO);
	wamp_msg_clear(&m);
	wampc_transport_consumed(f->c, n);
	assert_int_equal(wampc_transport_output(f->c, &d, NULL), 0);
	b = encode_json("[2, 9, {}]", &len);
	assert_int_equal(wampc_transport_input(f->c, b, len), WAMPD_ERR_INVALID_ARGUMENT);
	assert_int_equal(wampc_transport_message(f->c, b + 4, len - 4), WAMPD_OK);
	free(b);
	assert_int_equal(wampc_session_id(f->c), 9);
	fake_free(f);
}

static void test_free_in_callback(void **state)
{
	struct fake *f = joined(NULL);
	struct wamp_msg m;
	uint64_t req;

	wampc_call(f->c, "com.p", NULL, NULL, on_reply, f, &req);
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	f->free_in_callback = true;
	/* the reply callback frees the client; the rest of the input is not looked at */
	{
		size_t n1, n2;
		uint8_t *a, *b, *both;
		char j[64];

		snprintf(j, sizeof(j), "[50, %llu, {}]", (unsigned long long)req);
		a = encode_json(j, &n1);
		b = encode_json("[36, 1, 1, {}]", &n2);
		both = malloc(n1 + n2);
		memcpy(both, a, n1);
		memcpy(both + n1, b, n2);
		assert_int_equal(wampc_transport_input(f->c, both, n1 + n2), WAMPD_OK);
		free(a);
		free(b);
		free(both);
	}
	assert_null(f->c);
	assert_int_equal(f->replies, 1);
	fake_free(f);
	/* from the session callback too */
	f = fake_new(NULL);
	wampc_start(f->c);
	f->free_in_callback = true;
	wampc_transport_closed(f->c);
	assert_null(f->c);
	fake_free(f);
}

/* ------------------------------------------------------------------ for adapters */

/* serializer names: the ones this build has, the rest refused */
static void test_ser_names(void **state)
{
	(void)state;
	assert_int_equal(wampc_ser_from_name("json"), WAMPC_JSON);
	assert_int_equal(wampc_ser_from_name("msgpack"), WAMPC_MSGPACK);
	assert_int_equal(wampc_ser_from_name("JSON"), -1);
	assert_int_equal(wampc_ser_from_name("json "), -1);
	assert_int_equal(wampc_ser_from_name(""), -1);
	assert_int_equal(wampc_ser_from_name(NULL), -1);
}

static void test_urls(void **state)
{
	static const struct {
		const char *url;
		bool ok, websocket, tls, unix_socket;
		const char *host;
		unsigned port;
		const char *path;
	} cases[] = {
		{"rs://127.0.0.1:8080", true, false, false, false, "127.0.0.1", 8080, ""},
		{"rawsocket://h:1/", true, false, false, false, "h", 1, ""},
		{"tcp://[::1]:9000", true, false, false, false, "::1", 9000, ""},
		{"rss://router.example:443", true, false, true, false, "router.example", 443, ""},
		{"unix:/run/w.sock", true, false, false, true, "", 0, "/run/w.sock"},
		{"unix:///run/w.sock", true, false, false, true, "", 0, "/run/w.sock"},
		{"ws://h", true, true, false, false, "h", 80, "/"},
		{"ws://h:81/ws?x=1", true, true, false, false, "h", 81, "/ws?x=1"},
		{"wss://[fe80::1]/", true, true, true, false, "fe80::1", 443, "/"},
	};
	static const char *const bad[] = {
		"rs://host", "rss://host:0", "rs://h:65536", "rs://h:1/path", "ws://[::1/ws",
		"ws://h:99999/ws", "ws://h:x/", "ws://:80/", "ws://u@h/", "http://h/", "unix:",
		"unix://", "",
	};
	struct wampc_url u;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		bool ok = wampc_url_parse(cases[i].url, &u);

		if (ok != cases[i].ok)
			fail_msg("%s: parsed %d, expected %d", cases[i].url, ok, cases[i].ok);
		if (!ok)
			continue;
		assert_int_equal(u.websocket, cases[i].websocket);
		assert_int_equal(u.tls, cases[i].tls);
		assert_int_equal(u.unix_socket, cases[i].unix_socket);
		assert_string_equal(u.host, cases[i].host);
		assert_int_equal(u.port, cases[i].port);
		assert_string_equal(u.path, cases[i].path);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (wampc_url_parse(bad[i], &u))
			fail_msg("%s parsed", bad[i]);
	assert_false(wampc_url_parse(NULL, &u));
}

static void test_config_checks(void **state)
{
	static const struct {
		const char *url;
		unsigned methods;
		const char *cert, *key;
		enum wampd_err want;
	} cases[] = {
		{"rs://h:1", 0, NULL, NULL, WAMPD_OK},
		{"wss://h/ws", WAMPC_AUTH_TLS, "c.pem", NULL, WAMPD_OK},
		{"rss://h:1", WAMPC_AUTH_TLS | WAMPC_AUTH_ANONYMOUS, "c.pem", "k.pem", WAMPD_OK},
		{NULL, WAMPC_AUTH_TLS, "c.pem", NULL, WAMPD_OK},   /* the adapter knows */
		{"rss://h:1", WAMPC_AUTH_TLS, NULL, NULL, WAMPD_ERR_INVALID_ARGUMENT},
		{"rs://h:1", WAMPC_AUTH_TLS, "c.pem", NULL, WAMPD_ERR_INVALID_ARGUMENT},
		{"ws://h/", WAMPC_AUTH_TLS, "c.pem", NULL, WAMPD_ERR_INVALID_ARGUMENT},
		{"rss://h:1", 0, NULL, "k.pem", WAMPD_ERR_INVALID_ARGUMENT},
		{"ftp://h/", 0, NULL, NULL, WAMPD_ERR_INVALID_ARGUMENT},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct wampc_config cfg = {.url = cases[i].url, .realm = "r",
		                           .authmethods = cases[i].methods,
		                           .tls = {.cert_file = cases[i].cert,
		                                   .key_file = cases[i].key}};
		enum wampd_err err = WAMPD_ERR_INTERNAL;
		wampc *c = wampc_new(&cfg, &err);

		if (err != cases[i].want)
			fail_msg("case %zu (%s): %s, expected %s", i, cases[i].url ? cases[i].url : "-",
			         wampd_err_str(err), wampd_err_str(cases[i].want));
		assert_true((c != NULL) == (cases[i].want == WAMPD_OK));
		wampc_free(c);
	}
}

/* A WebSocket URL means message framing: no RawSocket handshake, HELLO at once. */
static void test_websocket_url_framing(void **state)
{
	struct wampc_config cfg = {.url = "ws://127.0.0.1:8080/ws"};
	struct fake *f = fake_new(&cfg);
	const uint8_t *d;
	struct wamp_msg m;
	size_t n;

	wampc_start(f->c);
	assert_int_equal(wampc_transport_open(f->c), WAMPD_OK);
	n = wampc_transport_output(f->c, &d, NULL);
	assert_int_equal(wamp_decode(g_ser, d, n, NULL, &m, NULL, 0), WAMPD_OK);
	assert_int_equal(m.type, WAMP_HELLO);
	wamp_msg_clear(&m);
	fake_free(f);
}

/* The view of the configuration: what wampc_new kept, secrets left out. */
static void test_config_view(void **state)
{
	struct wampc_config cfg = {.url = "rss://r.example:9", .authid = "dev",
	                           .authmethods = WAMPC_AUTH_TICKET | WAMPC_AUTH_TLS,
	                           .ticket = "secret-ticket", .max_message = 4096,
	                           .tls = {.ca_file = "ca.pem", .ca_path = "/etc/ca",
	                                   .cert_file = "c.pem", .server_name = "r",
	                                   .channel_binding = true}};
	struct fake *f = fake_new(&cfg);
	struct wampc_config v;

	wampc_get_config(f->c, &v);
	assert_string_equal(v.url, "rss://r.example:9");
	assert_ptr_not_equal(v.url, cfg.url); /* the client's copy */
	assert_string_equal(v.realm, "realm1");
	assert_string_equal(v.authid, "dev");
	assert_int_equal(v.authmethods, WAMPC_AUTH_TICKET | WAMPC_AUTH_TLS);
	assert_null(v.ticket);
	assert_int_equal(v.max_message, 4096);
	assert_int_equal((int)v.serializer, (int)g_ser);
	assert_string_equal(v.tls.ca_file, "ca.pem");
	assert_string_equal(v.tls.ca_path, "/etc/ca");
	assert_string_equal(v.tls.cert_file, "c.pem");
	assert_null(v.tls.key_file);
	assert_string_equal(v.tls.server_name, "r");
	assert_true(v.tls.channel_binding);
	assert_false(v.tls.insecure);
	assert_false(v.resumable);
	fake_free(f);
	/* a resumable client says so */
	cfg = (struct wampc_config){.reconnect = true, .resumable = true};
	f = fake_new(&cfg);
	wampc_get_config(f->c, &v);
	assert_true(v.reconnect);
	assert_true(v.resumable);
	fake_free(f);
}

/* The tls method: offered first, no CHALLENGE; WELCOME names the certificate's authid. */
static void test_tls_method(void **state)
{
	struct wampc_config cfg = {.url = "rss://h:1", .authmethods = WAMPC_AUTH_TLS |
	                           WAMPC_AUTH_TICKET, .ticket = "t", .tls = {.cert_file = "c"}};
	struct fake *f = fake_new(&cfg);
	struct wamp_msg m;
	json_t *methods;

	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	methods = json_object_get(m.dict, "authmethods");
	assert_int_equal(json_array_size(methods), 2);
	assert_string_equal(json_string_value(json_array_get(methods, 0)), "tls");
	assert_string_equal(json_string_value(json_array_get(methods, 1)), "ticket");
	wamp_msg_clear(&m);
	sendf(f, "[2, 5, {\"authid\": \"device-7\", \"authmethod\": \"tls\", \"authrole\": \"d\"}]");
	assert_int_equal(f->joined, 1);
	assert_string_equal(f->authid, "device-7");
	/* a router that CHALLENGEs tls anyway is not answered: the method has none */
	fake_free(f);
	f = fake_new(&cfg);
	wampc_start(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	wamp_msg_clear(&m);
	send_fails(f, WAMPD_ERR_AUTH_FAILED, "[4, \"tls\", {}]");
	expect_abort(f, "wamp.error.authentication_failed");
	fake_free(f);
}

/* What the adapter says about a failed or lost connection reaches the LEFT event, with
 * whether the connection had opened; the channel binding ends with its connection. */
static void test_transport_error(void **state)
{
	uint8_t seed[32] = {7}, cb[32];
	struct wampc_config cfg = {.authmethods = WAMPC_AUTH_CRYPTOSIGN, .cryptosign_seed = seed,
	                           .reconnect = true};
	struct fake *f = fake_new(&cfg);
	struct wamp_msg m;

	memset(cb, 0x5a, sizeof(cb));
	wampc_start(f->c);
	wampc_transport_error(f->c, "connect: Connection refused");
	wampc_transport_error(f->c, "a second one is not kept");
	wampc_transport_closed(f->c);
	assert_int_equal(f->left, 1);
	assert_false(f->connected);
	assert_string_equal(f->transport_error, "connect: Connection refused");
	assert_string_equal(f->reason, "wamp.close.transport_lost");
	/* the next attempt opens, with a binding, then its connection is lost */
	f->now += wampc_next_timeout(f->c);
	wampc_tick(f->c);
	wampc_set_channel_binding(f->c, cb);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	assert_string_equal(dict_str(json_object_get(m.dict, "authextra"), "channel_binding"),
	                    "tls-unique");
	wamp_msg_clear(&m);
	lose(f);
	assert_int_equal(f->left, 2);
	assert_true(f->connected);
	assert_string_equal(f->transport_error, "-");
	/* the binding was that connection's: the next HELLO has none */
	f->now += wampc_next_timeout(f->c);
	wampc_tick(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	assert_null(json_object_get(json_object_get(m.dict, "authextra"), "channel_binding"));
	wamp_msg_clear(&m);
	fake_free(f);
}

struct adapter_probe {
	int updates, frees;
	unsigned last_want;
	bool free_in_event;
};

static void probe_update(wampc *c, void *state)
{
	struct adapter_probe *p = state;

	p->updates++;
	p->last_want = wampc_want(c);
}

static void probe_free(void *state)
{
	((struct adapter_probe *)state)->frees++;
}

static const struct wampc_adapter_ops probe_ops = {"probe", probe_update, probe_free};
static const struct wampc_adapter_ops other_ops = {"other", NULL, probe_free};

static void probe_event(wampc *c, const struct wampc_event *e, void *ud)
{
	struct adapter_probe *p = ud;

	/* a publication from inside a callback: no update until the outermost call returns */
	assert_int_equal(wampc_publish(c, "com.inner", NULL, NULL, NULL, NULL, NULL), WAMPD_OK);
	assert_int_equal(p->updates, 0);
	if (p->free_in_event)
		wampc_free(c);
}

/* The adapter slot: its state, its update hook after each outermost call (one, however
 * many calls a callback makes), its free; wampc_hold/wampc_release and a deferred free. */
static void test_adapter_slot(void **state)
{
	struct adapter_probe p = {0}, q = {0};
	struct fake *f = joined(NULL);
	struct wamp_msg m;
	wampc_sub *sub;

	pull(f);
	free(f->in);
	f->in = NULL;
	f->in_len = 0;
	assert_null(wampc_adapter(f->c, &probe_ops));
	wampc_set_adapter(f->c, &probe_ops, &p);
	assert_ptr_equal(wampc_adapter(f->c, &probe_ops), &p);
	assert_null(wampc_adapter(f->c, &other_ops));
	/* a publication from the application's own code: the adapter hears of it */
	assert_int_equal(wampc_publish(f->c, "com.a", NULL, NULL, NULL, NULL, NULL), WAMPD_OK);
	assert_int_equal(p.updates, 1);
	assert_true(p.last_want & WAMPC_WANT_WRITE);
	expect(f, WAMP_PUBLISH, &m);
	wamp_msg_clear(&m);
	/* every mutating call: subscribe, call, leave... */
	assert_int_equal(wampc_subscribe(f->c, "com.t", NULL, probe_event, &p, NULL, NULL, &sub),
	                 WAMPD_OK);
	assert_int_equal(p.updates, 2);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[33, %llu, 77]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	/* input with callbacks that publish: one update when the input call returns */
	p.updates = 0;
	wampc_hold(f->c);
	sendf(f, "[36, 77, 1, {}]");
	sendf(f, "[36, 77, 2, {}]");
	assert_int_equal(p.updates, 0);
	assert_false(wampc_release(f->c));
	assert_int_equal(p.updates, 1);
	assert_true(p.last_want & WAMPC_WANT_WRITE);
	/* another adapter replaces it: the first one's free runs */
	wampc_set_adapter(f->c, &other_ops, &q);
	assert_int_equal(p.frees, 1);
	assert_null(wampc_adapter(f->c, &probe_ops));
	/* a free from a callback inside the adapter's hold: release says it happened, and the
	 * adapter's state was freed with the client */
	wampc_set_adapter(f->c, &probe_ops, &p);
	assert_int_equal(q.frees, 1);
	p.free_in_event = true;
	p.updates = 0;
	wampc_hold(f->c);
	assert_int_equal(send_json(f, "[36, 77, 3, {}]"), WAMPD_OK);
	assert_true(wampc_release(f->c));
	assert_int_equal(p.frees, 2);
	assert_int_equal(p.updates, 0); /* not for a client being freed */
	f->c = NULL;
	fake_free(f);
}

/* wampc_reconnect: the connection dropped and made again at once (no backoff, even
 * without reconnect), the subscriptions restored; from a backoff and from idle too. */
static void test_reconnect_now(void **state)
{
	struct fake *f = joined(NULL);
	struct wamp_msg m;
	wampc_sub *sub;

	assert_int_equal(wampc_subscribe(f->c, "com.t", NULL, on_event, f, NULL, NULL, &sub),
	                 WAMPD_OK);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[33, %llu, 7]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(wampc_reconnect(f->c), WAMPD_OK);
	expect_nothing(f); /* no GOODBYE */
	close_transport(f);
	assert_int_equal(f->left, 1);
	assert_true(f->reconnecting);
	assert_string_equal(f->reason, "wamp.close.transport_lost");
	assert_int_equal(wampc_want(f->c), WAMPC_WANT_CONNECT); /* at once */
	join(f);
	expect(f, WAMP_SUBSCRIBE, &m); /* restored */
	assert_string_equal(m.uri, "com.t");
	wamp_msg_clear(&m);
	fake_free(f);
	/* from a backoff: now instead of later */
	{
		struct wampc_config cfg = {.reconnect = true};

		f = joined(&cfg);
		lose(f);
		assert_true(wampc_next_timeout(f->c) > 0);
		assert_int_equal(wampc_want(f->c), 0);
		wampc_reconnect(f->c);
		assert_int_equal(wampc_want(f->c), WAMPC_WANT_CONNECT);
		fake_free(f);
	}
	/* never started: it starts */
	f = fake_new(NULL);
	wampc_reconnect(f->c);
	assert_int_equal(wampc_want(f->c), WAMPC_WANT_CONNECT);
	/* and a leave after it wins: no new attempt */
	open_transport(f);
	wampc_reconnect(f->c);
	wampc_leave(f->c, NULL);
	close_transport(f);
	assert_true(wampc_stopped(f->c));
	assert_false(f->reconnecting);
	fake_free(f);
}

static void test_stop_flag(void **state)
{
	struct fake *f = fake_new(NULL);

	assert_false(wampc_stop_requested(f->c));
	wampc_stop(f->c);
	assert_true(wampc_stop_requested(f->c));
	assert_false(wampc_stop_requested(f->c)); /* read once */
	fake_free(f);
}

/* ------------------------------------------------------------------------ values */

static void test_values(void **state)
{
	wampc_value *m = wampc_map(), *a = wampc_array(), *copy;
	uint8_t buf[8];
	size_t len;
	char *text;
	int keys = 0;

	assert_int_equal(wampc_array_append(a, wampc_null()), WAMPD_OK);
	assert_int_equal(wampc_array_append(a, wampc_bool(true)), WAMPD_OK);
	assert_int_equal(wampc_array_append(a, wampc_int(-5)), WAMPD_OK);
	assert_int_equal(wampc_array_append(a, wampc_float(2.5)), WAMPD_OK);
	assert_int_equal(wampc_array_append(a, wampc_string("h\xc3\xa9")), WAMPD_OK);
	assert_int_equal(wampc_array_append(a, wampc_bytes("\x00\xff", 2)), WAMPD_OK);
	assert_int_equal(wampc_array_append(a, NULL), WAMPD_ERR_INVALID_ARGUMENT);
	assert_int_equal(wampc_array_append(m, wampc_int(1)), WAMPD_ERR_INVALID_ARGUMENT);
	assert_null(wampc_string("bad \xff"));
	assert_int_equal(wampc_map_set(m, "list", a), WAMPD_OK);
	assert_int_equal(wampc_map_set(m, "n", wampc_int(3)), WAMPD_OK);
	assert_int_equal(wampc_map_size(m), 2);
	a = (wampc_value *)wampc_map_get(m, "list");
	assert_int_equal(wampc_value_kind(m), WAMPC_MAP);
	assert_int_equal(wampc_value_kind(a), WAMPC_ARRAY);
	assert_int_equal(wampc_array_size(a), 6);
	assert_int_equal(wampc_value_kind(wampc_array_get(a, 0)), WAMPC_NULL);
	assert_true(wampc_value_bool(wampc_array_get(a, 1), false));
	assert_int_equal(wampc_value_int(wampc_array_get(a, 2), 0), -5);
	assert_true(wampc_value_float(wampc_array_get(a, 3), 0) == 2.5);
	assert_true(wampc_value_float(wampc_array_get(a, 2), 0) == -5.0);
	assert_string_equal(wampc_value_string(wampc_array_get(a, 4), &len), "h\xc3\xa9");
	assert_int_equal(len, 3);
	assert_int_equal(wampc_value_kind(wampc_array_get(a, 5)), WAMPC_BYTES);
	assert_null(wampc_value_string(wampc_array_get(a, 5), NULL));
	assert_int_equal(wampc_value_bytes(wampc_array_get(a, 5), buf, sizeof(buf)), 2);
	assert_memory_equal(buf, "\x00\xff", 2);
	assert_int_equal(wampc_value_bytes(wampc_array_get(a, 4), buf, sizeof(buf)), -1);
	assert_int_equal(wampc_value_int(wampc_array_get(a, 4), 7), 7);
	assert_null(wampc_array_get(a, 6));
	assert_int_equal(wampc_value_kind(NULL), WAMPC_INVALID);
	for (void *it = wampc_map_iter(m); it; it = wampc_map_next(m, it)) {
		assert_non_null(wampc_map_iter_key(it));
		assert_non_null(wampc_map_iter_value(it));
		keys++;
	}
	assert_int_equal(keys, 2);
	copy = wampc_value_copy(m);
	text = wampc_value_to_json(copy);
	assert_non_null(strstr(text, "\"n\":3"));
	free(text);
	wampc_value_free(copy);
	wampc_value_free(m);
	m = wampc_value_from_json("{\"x\": [1, {\"y\": null}]}");
	assert_int_equal(wampc_value_kind(wampc_array_get(wampc_map_get(m, "x"), 1)), WAMPC_MAP);
	wampc_value_free(m);
	assert_null(wampc_value_from_json("{nope"));
	/* a duplicate key is ambiguous: refused, and the parser says why */
	{
		char why[160] = "";

		assert_null(wampc_value_parse("{\"a\": 1, \"a\": 2}", why, sizeof(why)));
		assert_non_null(strstr(why, "duplicate"));
		assert_null(wampc_value_parse("hello", why, sizeof(why)));
		assert_true(why[0] != 0);
		m = wampc_value_parse("[1]", why, sizeof(why));
		assert_int_equal(wampc_array_size(m), 1);
		wampc_value_free(m);
	}
}

static void test_payload_decode(void **state)
{
	struct fake *f = joined(NULL);
	struct wampc_payload none = {0};
	enum wampd_err err;

	assert_null(wampc_payload_args(&none, &err));
	assert_int_equal(err, WAMPD_OK);
	assert_null(wampc_payload_args(NULL, NULL));
	{
		struct wampc_payload bad = {.ser = (enum wampc_ser)g_ser,
		                            .args = (const uint8_t *)"\xc1", .args_len = 1};
		/* not valid in any serializer */
		assert_null(wampc_payload_args(&bad, &err));
		assert_int_equal(err, WAMPD_ERR_SERIALIZATION);
	}
	fake_free(f);
}


/* ----------------------------------------------------------------- resumable sessions */

/* Connect and join as session 42 with a resumable WELCOME carrying token `tok`. */
static void join_resumable(struct fake *f, const char *tok)
{
	struct wamp_msg m;

	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	assert_true(wamp_dict_bool(m.dict, "resumable", false));
	assert_null(json_object_get(m.dict, "resume"));
	wamp_msg_clear(&m);
	sendf(f, "[2, 42, {\"authid\": \"dev\", \"authrole\": \"r\", \"resumable\": true, "
	         "\"resume-token\": \"%s\", \"resume_window_s\": 30, \"roles\": {}}]", tok);
	assert_true(wampc_joined(f->c));
}

/* After a lost link: the backoff passes, the adapter connects, HELLO asks to resume. */
static void expect_resume_hello(struct fake *f, const char *tok, long long received)
{
	struct wamp_msg m;
	const json_t *r;

	f->now += wampc_next_timeout(f->c);
	wampc_tick(f->c);
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	r = json_object_get(m.dict, "resume");
	assert_non_null(r);
	assert_int_equal(wamp_dict_int(r, "session", 0), 42);
	assert_string_equal(wamp_dict_str(r, "token", ""), tok);
	assert_int_equal(wamp_dict_int(r, "received", -1), received);
	assert_true(wamp_dict_bool(m.dict, "resumable", false));
	wamp_msg_clear(&m);
}

static struct fake *resumable_client(void)
{
	struct wampc_config cfg = {.reconnect = true, .resumable = true, .retry_initial = 10,
	                           .retry_jitter = 1};
	struct fake *f = fake_new(&cfg);

	wampc_start(f->c);
	join_resumable(f, "tok1");
	return f;
}

/* wampc_reconnect on a resumable session (a changed network): the session is suspended,
 * not ended, the new connection is made at once (no backoff), and it resumes there. */
static void test_resume_reconnect_now(void **state)
{
	struct fake *f = resumable_client();
	struct wamp_msg m;
	const json_t *r;
	wampc_sub *sub;

	wampc_subscribe(f->c, "com.t", NULL, on_event, f, NULL, NULL, &sub);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[33, %llu, 5]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	assert_int_equal(wampc_reconnect(f->c), WAMPD_OK);
	expect_nothing(f); /* no GOODBYE */
	close_transport(f);
	assert_int_equal(f->suspended, 1);
	assert_int_equal(f->left, 0);
	assert_int_equal(wampc_want(f->c), WAMPC_WANT_CONNECT); /* at once */
	open_transport(f);
	expect(f, WAMP_HELLO, &m);
	r = json_object_get(m.dict, "resume");
	assert_int_equal(wamp_dict_int(r, "session", 0), 42);
	assert_string_equal(wamp_dict_str(r, "token", ""), "tok1");
	assert_int_equal(wamp_dict_int(r, "received", -1), 1);
	wamp_msg_clear(&m);
	sendf(f, "[2, 42, {\"resumed\": true, \"resume-token\": \"tok2\", \"received\": 1}]");
	assert_int_equal(f->resumed, 1);
	assert_int_equal(f->left, 0);
	assert_true(wampc_joined(f->c));
	expect_nothing(f); /* the SUBSCRIBE arrived: not sent again, nor restored */
	sendf(f, "[36, 5, 300, {}, [\"e1\"]]");
	assert_int_equal(f->events, 1);
	fake_free(f);
}

static void test_resume_acks(void **state)
{
	struct fake *f = resumable_client();
	struct wamp_msg m;
	wampc_sub *sub;

	wampc_subscribe(f->c, "com.t", NULL, on_event, f, NULL, NULL, &sub);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[33, %llu, 5]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	/* SUBSCRIBED and 30 events: 31 received, not yet acknowledged */
	for (int i = 0; i < 30; i++)
		sendf(f, "[36, 5, %d, {}, [%d]]", 100 + i, i);
	expect_nothing(f);
	sendf(f, "[36, 5, 200, {}]");
	expect(f, WAMP_ACK, &m);
	assert_int_equal(m.id[0], 32);
	wamp_msg_clear(&m);
	/* one more: acknowledged a second later */
	sendf(f, "[36, 5, 201, {}]");
	assert_int_equal(wampc_next_timeout(f->c), 1000);
	f->now += 999;
	wampc_tick(f->c);
	expect_nothing(f);
	f->now += 1;
	wampc_tick(f->c);
	expect(f, WAMP_ACK, &m);
	assert_int_equal(m.id[0], 33);
	wamp_msg_clear(&m);
	/* the router's ACK: for what was sent (the SUBSCRIBE), not more */
	sendf(f, "[7, 1]");
	sendf(f, "[7, 1]");
	send_fails(f, WAMPD_ERR_PROTOCOL, "[7, 2]");
	expect_abort(f, "wamp.error.protocol_violation");
	fake_free(f);
}

static void test_resume_ack_needs_resumable(void **state)
{
	struct fake *f = joined(NULL);

	send_fails(f, WAMPD_ERR_PROTOCOL, "[7, 0]");
	expect_abort(f, "wamp.error.protocol_violation");
	fake_free(f);
}

static void test_resume_replays(void **state)
{
	struct fake *f = resumable_client();
	struct wamp_msg m;
	uint64_t call, subreq;
	wampc_sub *sub;
	wampc_reg *reg;

	wampc_subscribe(f->c, "com.t", NULL, on_event, f, NULL, NULL, &sub);  /* sent 1 */
	expect(f, WAMP_SUBSCRIBE, &m);
	subreq = m.id[0];
	wamp_msg_clear(&m);
	wampc_register(f->c, "com.p", NULL, on_invoke, f, NULL, NULL, &reg); /* sent 2 */
	expect(f, WAMP_REGISTER, &m);
	sendf(f, "[33, %llu, 5]", (unsigned long long)subreq);                 /* recv 1 */
	sendf(f, "[65, %llu, 6]", (unsigned long long)m.id[0]);               /* recv 2 */
	wamp_msg_clear(&m);
	wampc_call(f->c, "com.other", NULL, NULL, on_reply, f, &call);        /* sent 3 */
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	sendf(f, "[68, 77, 6, {}, [1]]");                                     /* recv 3 */
	sendf(f, "[36, 5, 300, {}, [\"e1\"]]");                               /* recv 4 */
	assert_int_equal(f->events, 1);
	sendf(f, "[7, 2]"); /* the router had SUBSCRIBE and REGISTER */
	/* the link drops: the session is suspended, nothing ends */
	lose(f);
	assert_int_equal(f->suspended, 1);
	assert_int_equal(f->left, 0);
	assert_int_equal(f->replies, 0);
	assert_false(wampc_joined(f->c));
	/* the application goes on: its answer and a publication wait in the log */
	assert_int_equal(wampc_yield(f->c, 77, false, NULL), WAMPD_OK);       /* sent 4 */
	assert_int_equal(wampc_publish(f->c, "com.x", NULL, NULL, NULL, NULL, NULL),
	                 WAMPD_OK);                                          /* sent 5 */
	expect_resume_hello(f, "tok1", 4);
	sendf(f, "[2, 42, {\"resumed\": true, \"resumable\": true, \"resume-token\": \"tok2\", "
	         "\"resume_window_s\": 30, \"received\": 2}]");
	assert_int_equal(f->resumed, 1);
	assert_int_equal(f->joined, 1);
	assert_true(wampc_joined(f->c));
	assert_int_equal(wampc_session_id(f->c), 42);
	/* exactly what the router did not receive, in order; no SUBSCRIBE/REGISTER again */
	expect(f, WAMP_CALL, &m);
	assert_int_equal(m.id[0], call);
	wamp_msg_clear(&m);
	expect(f, WAMP_YIELD, &m);
	assert_int_equal(m.id[0], 77);
	wamp_msg_clear(&m);
	expect(f, WAMP_PUBLISH, &m);
	assert_string_equal(m.uri, "com.x");
	wamp_msg_clear(&m);
	expect_nothing(f);
	/* the call is answered once; events go on with the router's ids of before */
	sendf(f, "[50, %llu, {}, [1]]", (unsigned long long)call);
	assert_int_equal(f->replies, 1);
	assert_string_equal(f->last_error, "");
	sendf(f, "[36, 5, 301, {}, [\"e2\"]]");
	assert_int_equal(f->events, 2);
	/* a second cut: the new token, and the count goes on (6 received) */
	lose(f);
	assert_int_equal(f->suspended, 2);
	expect_resume_hello(f, "tok2", 6);
	sendf(f, "[2, 42, {\"resumed\": true, \"resume-token\": \"tok3\", \"received\": 5}]");
	assert_int_equal(f->resumed, 2);
	expect_nothing(f);
	{
		struct wampc_stats st;

		wampc_get_stats(f->c, &st);
		assert_int_equal(st.resumes, 2);
		assert_int_equal(st.joins, 1);
	}
	fake_free(f);
}

static void test_resume_impossible_count(void **state)
{
	struct fake *f = resumable_client();

	lose(f);
	expect_resume_hello(f, "tok1", 0);
	send_fails(f, WAMPD_ERR_PROTOCOL, "[2, 42, {\"resumed\": true, \"resume-token\": \"t\", "
	           "\"received\": 3}]");
	expect_abort(f, "wamp.error.protocol_violation");
	fake_free(f);
}

static void test_resume_not_resumed(void **state)
{
	struct wampc_config cfg = {.reconnect = true, .resumable = true, .retry_initial = 10,
	                           .retry_jitter = 1, .offline_queue_bytes = 4096};
	struct fake *f = fake_new(&cfg);
	struct wampc_publish_opts ack = {.acknowledge = true};
	struct wamp_msg m;
	uint64_t call, pub;
	wampc_sub *sub;

	wampc_start(f->c);
	join_resumable(f, "tok1");
	wampc_subscribe(f->c, "com.t", NULL, on_event, f, NULL, NULL, &sub);
	expect(f, WAMP_SUBSCRIBE, &m);
	sendf(f, "[33, %llu, 5]", (unsigned long long)m.id[0]);
	wamp_msg_clear(&m);
	wampc_call(f->c, "com.other", NULL, NULL, on_reply, f, &call);
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	lose(f);
	/* suspended: a publication waits in the log */
	assert_int_equal(wampc_publish(f->c, "com.later", &ack, NULL, on_reply, f, &pub), WAMPD_OK);
	expect_resume_hello(f, "tok1", 1);
	/* the router had forgotten it: a new session; the old one ends first */
	sendf(f, "[2, 43, {\"resumed\": false, \"roles\": {}}]");
	assert_int_equal(f->left, 1);
	assert_true(f->reconnecting);
	assert_string_equal(f->reason, "wamp.close.transport_lost");
	assert_int_equal(f->replies, 1); /* the call, not the publication: it goes again */
	assert_int_equal(f->last.request, call);
	assert_string_equal(f->last_error, "wamp.close.transport_lost");
	assert_int_equal(f->joined, 2);
	assert_int_equal(wampc_session_id(f->c), 43);
	/* as after any lost link: the subscription made again, the publication sent again */
	expect(f, WAMP_SUBSCRIBE, &m);
	assert_string_equal(m.uri, "com.t");
	wamp_msg_clear(&m);
	expect(f, WAMP_PUBLISH, &m);
	assert_string_equal(m.uri, "com.later");
	assert_int_equal(m.id[0], pub);
	wamp_msg_clear(&m);
	expect_nothing(f);
	/* not resumable any more (the WELCOME did not say so): a lost link ends it */
	lose(f);
	assert_int_equal(f->left, 2);
	assert_int_equal(f->suspended, 1);
	fake_free(f);
}

static void test_resume_refused(void **state)
{
	struct fake *f = resumable_client();
	uint64_t call;
	struct wamp_msg m;

	wampc_call(f->c, "com.other", NULL, NULL, on_reply, f, &call);
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	lose(f);
	expect_resume_hello(f, "tok1", 0);
	sendf(f, "[3, {}, \"wamp.error.authentication_failed\"]");
	close_transport(f);
	assert_int_equal(f->left, 1);
	assert_string_equal(f->reason, "wamp.error.authentication_failed");
	assert_int_equal(f->replies, 1);
	assert_string_equal(f->last_error, "wamp.close.transport_lost");
	/* the next attempt is a plain HELLO */
	f->now += wampc_next_timeout(f->c);
	wampc_tick(f->c);
	join_resumable(f, "tok9");
	fake_free(f);
}

static void test_resume_give_up(void **state)
{
	struct fake *f = resumable_client();
	uint64_t call;
	struct wamp_msg m;

	wampc_call(f->c, "com.other", NULL, NULL, on_reply, f, &call);
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	lose(f);
	/* no connection comes back: attempts fail until the router's window has passed */
	for (int i = 0; i < 100 && f->left == 0; i++) {
		f->now += wampc_next_timeout(f->c);
		wampc_tick(f->c);
		if (wampc_want(f->c) == WAMPC_WANT_CONNECT)
			wampc_transport_closed(f->c);
		assert_true(f->left || f->now < 1000000 + 30000 + 20000);
	}
	assert_int_equal(f->left, 1);
	assert_true(f->now >= 1000000 + 30000);
	assert_int_equal(f->replies, 1);
	assert_string_equal(f->last_error, "wamp.close.transport_lost");
	fake_free(f);
}

/* A suspended session whose client gives up reconnecting (max_retries) before the window
 * passes is over there: its calls end, WAMPC_LEFT (not reconnecting), nothing waits. */
static void test_resume_max_retries(void **state)
{
	struct wampc_config cfg = {.reconnect = true, .resumable = true, .retry_initial = 10,
	                           .retry_jitter = 1, .max_retries = 2};
	struct fake *f = fake_new(&cfg);
	uint64_t call;
	struct wamp_msg m;

	wampc_start(f->c);
	join_resumable(f, "tok1");
	wampc_call(f->c, "com.other", NULL, NULL, on_reply, f, &call);
	expect(f, WAMP_CALL, &m);
	wamp_msg_clear(&m);
	lose(f);
	assert_int_equal(f->suspended, 1);
	for (int i = 0; i < 10 && !wampc_stopped(f->c); i++) {
		f->now += wampc_next_timeout(f->c);
		wampc_tick(f->c);
		if (wampc_want(f->c) == WAMPC_WANT_CONNECT)
			wampc_transport_closed(f->c); /* the attempt fails */
	}
	assert_true(wampc_stopped(f->c));
	assert_true(f->now < 1000000 + 30000); /* before the window */
	assert_int_equal(f->left, 1);
	assert_false(f->reconnecting);
	assert_int_equal(f->replies, 1);
	assert_string_equal(f->last_error, "wamp.close.transport_lost");
	assert_int_equal(wampc_next_timeout(f->c), -1); /* nothing left to wait for */
	fake_free(f);
}

static void test_resume_not_after_goodbye(void **state)
{
	struct fake *f = resumable_client();
	struct wamp_msg m;

	sendf(f, "[6, {}, \"wamp.close.killed\"]");
	expect(f, WAMP_GOODBYE, &m);
	wamp_msg_clear(&m);
	close_transport(f);
	assert_int_equal(f->suspended, 0);
	assert_int_equal(f->left, 1);
	assert_string_equal(f->reason, "wamp.close.killed");
	/* the next HELLO asks for a new resumable session, not a resume */
	f->now += wampc_next_timeout(f->c);
	wampc_tick(f->c);
	join_resumable(f, "tok2");
	fake_free(f);
}

/* One ACK waits in the send queue at a time: what arrives meanwhile is acknowledged by the
 * next one (after the delay when nothing else comes), and an ACK lost with the link
 * (queued, never written) does not stop the ACKs after the resume. */
static void test_resume_ack_waits(void **state)
{
	struct fake *f = resumable_client();
	struct wamp_msg m;
	int pub = 100;

	for (int i = 0; i < 32; i++)
		sendf(f, "[36, 5, %d, {}]", pub++);
	/* queued, not written (the adapter is busy reading): 40 more arrive, and the clock
	 * is read for them once (the delay's start), not once per message */
	f->clock_reads = 0;
	for (int i = 0; i < 40; i++)
		sendf(f, "[36, 5, %d, {}]", pub++);
	assert_true(f->clock_reads <= 2);
	assert_int_equal(wampc_next_timeout(f->c), 1000);
	expect(f, WAMP_ACK, &m);
	assert_int_equal(m.id[0], 32);
	wamp_msg_clear(&m);
	expect_nothing(f);
	/* nothing else comes: the delay acknowledges the 40 */
	f->now += 1000;
	wampc_tick(f->c);
	expect(f, WAMP_ACK, &m);
	assert_int_equal(m.id[0], 72);
	wamp_msg_clear(&m);
	expect_nothing(f);
	/* 32 more: an ACK queued, and the link is lost before it is written */
	for (int i = 0; i < 32; i++)
		sendf(f, "[36, 5, %d, {}]", pub++);
	lose(f);
	assert_int_equal(f->suspended, 1);
	expect_resume_hello(f, "tok1", 104);
	sendf(f, "[2, 42, {\"resumed\": true, \"resume-token\": \"tok2\", \"received\": 0}]");
	assert_int_equal(f->resumed, 1);
	expect_nothing(f);
	for (int i = 0; i < 31; i++)
		sendf(f, "[36, 5, %d, {}]", pub++);
	expect_nothing(f);
	sendf(f, "[36, 5, %d, {}]", pub++);
	expect(f, WAMP_ACK, &m);
	assert_int_equal(m.id[0], 136);
	wamp_msg_clear(&m);
	fake_free(f);
}

/* The POSIX adapter over a real Unix socket: one wampc_loop_read that reads a burst of
 * events writes the ACK the burst made due before it returns, without a wampc_loop_write
 * (client_resume found a subscriber that read 3,000 events in bursts, each cut before the
 * loop came round to writing, and so acknowledged none of them). */
static void test_posix_burst_writes_ack(void **state)
{
	char dir[] = "/tmp/wampc-test-XXXXXX", path[64];
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct fake *f = calloc(1, sizeof(*f));
	struct wampc_config cfg = {.resumable = true, .realm = "realm1"};
	uint8_t hs[4], reply[4], buf[8192], *burst = NULL;
	size_t burst_len = 0;
	enum wamp_ser ser;
	uint32_t peer_max, n;
	enum rs_frame t;
	struct wamp_msg m;
	char why[160];
	enum wampd_err err;
	int lfd, sfd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s", dir);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_true(lfd >= 0);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(lfd, 1), 0);
	snprintf((char *)buf, sizeof(buf), "unix:%s", path);
	cfg.url = (const char *)buf;
	cfg.serializer = (enum wampc_ser)g_ser;
	cfg.clock_ms = fclock;
	cfg.random_u32 = frand;
	cfg.clock_ud = f;
	cfg.on_session = on_session;
	cfg.ud = f;
	f->now = 1000000;
	f->c = wampc_new(&cfg, &err);
	assert_non_null(f->c);
	wampc_start(f->c);
	/* connect (a Unix connect completes at once), the handshake goes out on write */
	assert_int_equal(wampc_loop_misc(f->c), WAMPD_OK);
	assert_true(wampc_socket(f->c) >= 0);
	sfd = accept(lfd, NULL, NULL);
	assert_true(sfd >= 0);
	wampc_loop_write(f->c);
	assert_int_equal(recv(sfd, hs, 4, MSG_WAITALL), 4);
	assert_int_equal(rs_handshake(hs, 0x7, 1u << 20, reply, &ser, &peer_max), RS_OK);
	assert_int_equal(send(sfd, reply, 4, 0), 4);
	wampc_loop_read(f->c);
	wampc_loop_write(f->c);
	/* the HELLO */
	assert_int_equal(recv(sfd, hs, 4, MSG_WAITALL), 4);
	assert_true(rs_parse_prefix(hs, &t, &n));
	assert_true(n < sizeof(buf));
	assert_int_equal(recv(sfd, buf, n, MSG_WAITALL), (ssize_t)n);
	/* WELCOME and 40 events in one write: one read takes them all */
	{
		char json[160];
		size_t len;
		uint8_t *b;

		for (int i = 0; i <= 40; i++) {
			if (i == 0)
				snprintf(json, sizeof(json), "[2, 42, {\"resumable\": true, "
				         "\"resume-token\": \"tok\", \"roles\": {}}]");
			else
				snprintf(json, sizeof(json), "[36, 5, %d, {}]", 100 + i);
			b = encode_json(json, &len);
			burst = realloc(burst, burst_len + len);
			memcpy(burst + burst_len, b, len);
			burst_len += len;
			free(b);
		}
	}
	assert_true(burst_len < 4096);
	assert_int_equal(send(sfd, burst, burst_len, 0), (ssize_t)burst_len);
	free(burst);
	assert_int_equal(wampc_loop_read(f->c), WAMPD_OK);
	assert_true(wampc_joined(f->c));
	/* no wampc_loop_write: the ACK of the first 32 events is on the socket already */
	/* (-1, EAGAIN, here: the ACK would wait for the loop's next round) */
	assert_int_equal(recv(sfd, hs, 4, MSG_DONTWAIT), 4);
	assert_true(rs_parse_prefix(hs, &t, &n));
	assert_int_equal(t, RS_MSG);
	assert_true(n < sizeof(buf));
	assert_int_equal(recv(sfd, buf, n, MSG_WAITALL), (ssize_t)n);
	assert_int_equal(wamp_decode(g_ser, buf, n, NULL, &m, why, sizeof(why)), WAMPD_OK);
	assert_int_equal(m.type, WAMP_ACK);
	assert_int_equal(m.id[0], 32);
	wamp_msg_clear(&m);
	wampc_free(f->c);
	free(f);
	close(sfd);
	close(lfd);
	unlink(path);
	rmdir(dir);
}

#define T(fn) cmocka_unit_test(fn)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_hello), T(test_roles), T(test_abort_on_join), T(test_join_timeout), T(test_handshake_refused),
		T(test_ticket), T(test_ticket_needs_ticket), T(test_wampcra), T(test_cryptosign),
		T(test_cryptosign_binding_unavailable), T(test_challenge_not_offered),
		T(test_goodbye_from_router), T(test_leave), T(test_leave_timeout),
		T(test_violations), T(test_violation_bytes), T(test_too_big),
		T(test_mismatched_answers), T(test_call), T(test_call_refused),
		T(test_call_timeout_and_cancel), T(test_callee), T(test_invocation_limit),
		T(test_unregister_and_revoke), T(test_publish), T(test_publish_flag_options),
		T(test_subscribe),
		T(test_unsubscribe_in_flight), T(test_forward_raw), T(test_backoff), T(test_restore),
		T(test_offline_queue), T(test_offline_drop_oldest), T(test_requeue_on_loss),
		T(test_no_offline_queue), T(test_ping_pong), T(test_backpressure),
		T(test_payload_size), T(test_message_framing), T(test_free_in_callback),
		T(test_urls), T(test_ser_names), T(test_config_checks), T(test_websocket_url_framing),
		T(test_config_view), T(test_tls_method), T(test_transport_error),
		T(test_adapter_slot), T(test_reconnect_now), T(test_stop_flag), T(test_values),
		T(test_payload_decode), T(test_resume_acks),
		T(test_resume_ack_needs_resumable), T(test_resume_replays),
		T(test_resume_impossible_count), T(test_resume_not_resumed), T(test_resume_refused),
		T(test_resume_give_up), T(test_resume_not_after_goodbye),
		T(test_resume_reconnect_now), T(test_resume_max_retries), T(test_resume_ack_waits),
		T(test_posix_burst_writes_ack),
	};
	static const char *const names[] = {"json", "msgpack", "cbor"};
	int failed = 0;

	for (int s = 0; s < WAMP_SER__COUNT; s++) {
		char group[64];

		if (!wamp_ser_supported((enum wamp_ser)s))
			continue;
		g_ser = (enum wamp_ser)s;
		snprintf(group, sizeof(group), "client engine (%s)", names[s]);
		failed += _cmocka_run_group_tests(group, tests, sizeof(tests) / sizeof(tests[0]), NULL,
		                                  NULL);
	}
	return failed;
}
