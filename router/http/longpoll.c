/*
 * longpoll.c - the WAMP HTTP long-poll transport (advanced profile, "HTTP Longpoll
 * Transport"; as Crossbar serves it and Autobahn|JS speaks it):
 *
 *   POST <base>/open             {"protocols": ["wamp.2.json", ...]}
 *                                -> 200 {"protocol": "wamp.2.json", "transport": "<token>"}
 *   POST <base>/<token>/send     one WAMP message (a batch for *.batched)  -> 204
 *   POST <base>/<token>/receive  -> 200 with one message (all queued ones, batched, for
 *                                   *.batched), or 200 with an empty body after
 *                                   poll_timeout seconds without one
 *   POST <base>/<token>/close    -> 204, the session is gone
 *
 * The token is the transport's secret, its session's only credential (router/http/lpreq.h):
 * random, given to the client once, kept only as a hash the transports are found by.
 * Session details (wamp.session.get, on_join), logs and the status page name a transport
 * by its public id, a number that opens nothing: /<id>/send is "no such transport".
 *
 * A transport is a real transport of one session (struct peer_ops): the state machine
 * sees it like a WebSocket connection. Its outgoing messages wait in a queue bounded by
 * limits.send_queue_bytes (a client that stops receiving is disconnected as a slow
 * consumer); at most one receive is held at a time (a newer one releases the older with an
 * empty answer). A transport without any request for idle_timeout seconds is closed, and
 * so is one the router closed, once its last messages (ABORT, GOODBYE) were received;
 * after that its requests get 404. Transports count in max_sessions and per service in
 * max_transports. Answers are 204 where the spec says 202 "no content": Autobahn|JS accepts
 * 200 and 204 only, and Crossbar answers 204. Over https, a verified client certificate
 * presented with /open names the session's client (the tls authentication method, as over
 * wss://; a dynamic authenticator is shown its facts), and the transport's later requests
 * must present a certificate with that name (403 otherwise).
 *
 * Paths and /open bodies are read by the pure functions of router/http/lpreq.c; this file
 * keeps the transports and answers.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "auth/auth.h"
#include "common/log.h"
#include "router/core/batched.h"
#include "router/core/conn.h"
#include "router/http/httpsvc.h"
#include "router/http/lpreq.h"
#include "router/core/outq.h"
#include "router/core/protocol.h"

struct lp_svc;

struct lp_transport {
	struct conn conn;              /* the connection core's (router/core/conn.h): first. Its
	                                  session, queue, address; closing: the router closed
	                                  the session: drain, then go */
	uint8_t key[LP_KEY_LEN];       /* hash of the token (the secret); the table's key */
	unsigned long long id;         /* public: what details and logs show */
	struct lp_svc *svc;
	bool batched;
	struct http_conn *rx;          /* the receive request held open, or NULL */
	struct realm_timer *poll;      /* its timeout */
	struct realm_timer *idle;
	struct realm_timer *reap;
	UT_hash_handle hh;
};

struct lp_svc {
	struct httpsvc svc;
	unsigned long long next_id;    /* public ids of its transports (with the path: unique) */
	struct lp_transport *by_key;
	uint32_t count;
};


static void lp_free(struct lp_transport *t)
{
	struct router *rt = t->svc->svc.rt;

	httpsvc_timer_cancel(rt, &t->poll);
	httpsvc_timer_cancel(rt, &t->idle);
	httpsvc_timer_cancel(rt, &t->reap);
	if (t->rx) {
		struct http_conn *c = t->rx;

		t->rx = NULL;
		http_respond_error(c, 404, "wamp.close.transport_closed", "the transport is closed");
	}
	if (t->conn.session) {
		proto_transport_closed(rt, t->conn.session);
		session_free(t->conn.session);
		t->conn.session = NULL;
	}
	conn_release(&t->conn);
	HASH_DEL(t->svc->by_key, t);
	t->svc->count--;
	wlog_debug("http", "long-poll transport %llu closed", t->id);
	free(t);
}

static void lp_reap(void *arg)
{
	struct lp_transport *t = arg;

	t->reap = NULL;
	lp_free(t);
}

static void lp_idle(void *arg)
{
	struct lp_transport *t = arg;

	t->idle = NULL;
	wlog_info("http", "long-poll transport %llu idle for %u s: closing", t->id,
	          t->svc->svc.cfg->idle_timeout_s);
	lp_free(t);
}

static void lp_touch(struct lp_transport *t)
{
	httpsvc_timer_cancel(t->svc->svc.rt, &t->idle);
	t->idle = httpsvc_timer(t->svc->svc.rt, t->svc->svc.cfg->idle_timeout_s * 1000, lp_idle, t);
}

/* Answer the held receive with what is queued (one message, or all of them batched). */
static void lp_deliver(struct lp_transport *t)
{
	struct http_conn *c = t->rx;
	enum wamp_ser ser = t->conn.session->ser;

	if (!c || !t->conn.q.count)
		return;
	t->rx = NULL;
	httpsvc_timer_cancel(t->svc->svc.rt, &t->poll);
	if (!t->batched) {
		struct wamp_out *o = outq_peek(&t->conn.q);

		http_respond(c, 200, wamp_ser_desc(ser)->content_type, wamp_out_data(o), o->len, NULL);
		outq_pop(&t->conn.q);
	} else {
		size_t total = 0, off = 0;
		uint8_t *buf;

		for (uint32_t k = 0; k < t->conn.q.count; k++)
			total += batch_framed_len(ser, t->conn.q.ring[(t->conn.q.head + k) & (t->conn.q.cap - 1)]->len);
		if (!(buf = malloc(total))) {
			http_respond_error(c, 500, "wamp.error.runtime_error", "out of memory");
			return;
		}
		while (t->conn.q.count) {
			struct wamp_out *o = outq_peek(&t->conn.q);

			off += batch_put(ser, BATCH_SEP_SPEC, buf + off, wamp_out_data(o), o->len);
			outq_pop(&t->conn.q);
		}
		http_respond(c, 200, wamp_ser_desc(ser)->content_type, buf, off, NULL);
		free(buf);
	}
	lp_touch(t);
	if (t->conn.closing && !t->conn.q.count && !t->reap)
		t->reap = httpsvc_timer(t->svc->svc.rt, 0, lp_reap, t);
}

static void lp_poll_timeout(void *arg)
{
	struct lp_transport *t = arg;
	struct http_conn *c = t->rx;

	t->poll = NULL;
	t->rx = NULL;
	if (c)
		http_respond(c, 200, wamp_ser_desc(t->conn.session->ser)->content_type, NULL, 0, NULL);
	lp_touch(t);
}

static void lp_rx_gone(void *arg)
{
	struct lp_transport *t = arg;

	t->rx = NULL;
	httpsvc_timer_cancel(t->svc->svc.rt, &t->poll);
	lp_touch(t);
}

/* ------------------------------------------------------------------------------------ */
/* peer_ops                                                                               */

/* conn_ops.kick: a message was queued: answer the held receive, if any */
static void lp_kick(struct conn *c)
{
	lp_deliver((struct lp_transport *)c);
}

/* conn_ops.close: what is queued (ABORT, GOODBYE) is still received, then the transport
 * goes; now: at once (a slow consumer) */
static void lp_conn_close(struct conn *c, int code, const char *reason, bool now)
{
	struct lp_transport *t = (struct lp_transport *)c;

	(void)code, (void)reason;
	if (now)
		outq_clear(&t->conn.q);
	if (!t->conn.q.count && !t->reap)
		t->reap = httpsvc_timer(t->svc->svc.rt, 0, lp_reap, t);
}

static json_t *lp_transport(struct conn *c)
{
	struct lp_transport *t = (struct lp_transport *)c;

	/* the public id, never the token */
	return json_pack("{s:s, s:s, s:s, s:I, s:b, s:s}", "type", "longpoll", "path",
	                 t->svc->svc.cfg->path, "serializer", wamp_ser_name(t->conn.session->ser),
	                 "id", (json_int_t)t->id, "batched", t->batched, "peer", t->conn.addr);
}

static const struct conn_ops lp_conn_ops = {
	.kind = "longpoll",
	.kick = lp_kick,
	.close = lp_conn_close,
	.transport = lp_transport,
};

static const struct peer_ops lp_ops = CONN_PEER_OPS("longpoll");

/* ------------------------------------------------------------------------------------ */
/* requests                                                                               */

static void lp_open(struct lp_svc *svc, struct http_conn *c, const struct http_request *req)
{
	struct router *rt = svc->svc.rt;
	struct lp_protocol proto;
	struct lp_transport *t;
	struct proto_peer peer = {.hello_deadline = true};
	char token[LP_TOKEN_LEN + 1];

	switch (lp_open_negotiate(req->body, req->body_len, svc->svc.serializers, &proto)) {
	case LP_OPEN_OK:
		break;
	case LP_OPEN_BAD_BODY:
		http_respond_error(c, 400, "wamp.error.invalid_argument",
		                   "open needs a JSON body {\"protocols\": [\"wamp.2.json\", ...]}");
		return;
	default:
		http_respond_error(c, 400, "wamp.error.invalid_argument",
		                   "no supported protocol offered (" WAMP_SER_SUBPROTOCOLS
		                   ", their .batched variants)");
		return;
	}
	if (!conn_admit(rt, "http", http_conn_address(c)) ||
	    svc->count >= svc->svc.cfg->max_transports) {
		wlog_warn("http", "long-poll open refused peer=%s: %s", http_conn_address(c),
		          rt->shutting_down ? "shutting down" : "session limit reached");
		http_respond_error(c, 503, "wamp.error.limit_exceeded", "no more sessions");
		return;
	}
	if (!(t = calloc(1, sizeof(*t))) ||
	    !(t->conn.session = session_new(&lp_ops, &t->conn, proto.ser, &rt->metrics))) {
		free(t);
		http_respond_error(c, 500, "wamp.error.runtime_error", "out of memory");
		return;
	}
	t->conn.ops = &lp_conn_ops;
	t->conn.rt = rt;
	lp_token_new(token, t->key);
	t->id = ++svc->next_id;
	t->svc = svc;
	t->batched = proto.batched;
	peer.auth = svc->svc.auth;
	/* over https: the client certificate of /open names the client (the tls method) */
	peer.tls_cn = http_conn_tls_cn(c);
	if (auth_config_asks(peer.auth)) /* only an authenticator is shown them */
		peer.tls_cert = http_conn_tls_cert(c);
	snprintf(t->conn.addr, sizeof(t->conn.addr), "%s", http_conn_address(c));
	HASH_ADD(hh, svc->by_key, key, sizeof(t->key), t);
	svc->count++;
	conn_open(&t->conn);
	conn_count(&t->conn);
	if (!proto_transport_open(rt, t->conn.session, &peer)) /* the HELLO..WELCOME deadline */
		session_close(t->conn.session, 1011, "out of memory");
	lp_touch(t);
	wlog_debug("http", "long-poll transport %llu opened protocol=%s peer=%s", t->id,
	           proto.name, t->conn.addr);
	/* the token goes to the client, once; the router keeps its hash only */
	http_respond_json(c, 200, json_pack("{s:s, s:s}", "protocol", proto.name, "transport",
	                                    token));
	sodium_memzero(token, sizeof(token));
}

static bool lp_msg(void *ctx, const uint8_t *msg, size_t len)
{
	struct lp_transport *t = ctx;
	struct router *rt = t->svc->svc.rt;

	proto_receive(rt, t->conn.session, msg, len);
	return t->conn.session->state != SESSION_CLOSING;
}

static void lp_send(struct lp_transport *t, struct http_conn *c, const struct http_request *req)
{
	if (t->conn.closing || t->conn.session->state == SESSION_CLOSING) {
		http_respond(c, 204, NULL, NULL, 0, NULL); /* ignored: the session is ending */
		return;
	}
	if (!req->body_len) {
		http_respond_error(c, 400, "wamp.error.invalid_argument", "send needs a WAMP message");
		return;
	}
	if (t->batched) {
		enum batch_result r = batch_split(t->conn.session->ser, BATCH_SEP_SPEC, req->body, req->body_len,
		                                  lp_msg, t);

		if (r == BATCH_EMPTY || r == BATCH_MALFORMED)
			session_fail(t->conn.session, 0, 0, WAMPD_ERR_PROTOCOL, "malformed batch");
	} else {
		proto_receive(t->svc->svc.rt, t->conn.session, req->body, req->body_len);
	}
	http_respond(c, 204, NULL, NULL, 0, NULL);
}

static void lp_receive(struct lp_transport *t, struct http_conn *c)
{
	if (t->rx) {
		/* one receive at a time: the older one is released empty */
		struct http_conn *old = t->rx;

		t->rx = NULL;
		httpsvc_timer_cancel(t->svc->svc.rt, &t->poll);
		http_respond(old, 200, wamp_ser_desc(t->conn.session->ser)->content_type, NULL, 0, NULL);
	}
	t->rx = c;
	http_hold(c, lp_rx_gone, t);
	httpsvc_timer_cancel(t->svc->svc.rt, &t->idle); /* not idle while a receive waits */
	if (t->conn.q.count) {
		lp_deliver(t);
		return;
	}
	if (t->conn.closing) {
		t->rx = NULL;
		http_respond_error(c, 404, "wamp.close.transport_closed", "the transport is closed");
		if (!t->reap)
			t->reap = httpsvc_timer(t->svc->svc.rt, 0, lp_reap, t);
		return;
	}
	t->poll = httpsvc_timer(t->svc->svc.rt, t->svc->svc.cfg->poll_timeout_s * 1000,
	                        lp_poll_timeout, t);
}

/* /<token>/close */
static void lp_close(struct lp_transport *t, struct http_conn *c, const struct http_request *req)
{
	(void)req;
	http_respond(c, 204, NULL, NULL, 0, NULL);
	lp_free(t);
}

static void lp_receive_req(struct lp_transport *t, struct http_conn *c,
                           const struct http_request *req)
{
	(void)req;
	lp_receive(t, c);
}

/* What a transport's requests do, by action (router/http/lpreq.h). */
static void (*const lp_do[])(struct lp_transport *t, struct http_conn *c,
                             const struct http_request *req) = {
	[LP_SEND] = lp_send,
	[LP_RECEIVE] = lp_receive_req,
	[LP_CLOSE] = lp_close,
};

static void lp_handle(const struct http_route *route, struct http_conn *c,
                      const struct http_request *req, const char *rest, size_t rest_len)
{
	struct lp_svc *svc = route->ctx;
	struct lp_transport *t = NULL;
	const char *token;
	size_t token_len;
	uint8_t key[LP_KEY_LEN];
	enum lp_action a = lp_route(req->method, rest, rest_len, &token, &token_len);

	switch (a) {
	case LP_BAD_METHOD: {
		static const char body[] = "{\"error\":\"wampd.http.method_not_allowed\",\"args\":"
		                           "[\"use POST\"],\"kwargs\":{}}";

		http_respond_json_text(c, 405, body, sizeof(body) - 1, "Allow: POST, OPTIONS\r\n");
		return;
	}
	case LP_OPEN:
		lp_open(svc, c, req);
		return;
	case LP_NOT_FOUND:
		http_respond_error(c, 404, "wampd.http.not_found",
		                   "long-poll paths: /open, /<transport>/send|receive|close");
		return;
	case LP_NO_TRANSPORT:
		http_respond_error(c, 404, "wamp.close.transport_closed", "no such transport");
		return;
	default:
		break;
	}
	/* by the token's hash: the lookup's timing says nothing about the token */
	lp_token_key(token, token_len, key);
	HASH_FIND(hh, svc->by_key, key, sizeof(key), t);
	if (!t) {
		http_respond_error(c, 404, "wamp.close.transport_closed", "no such transport");
		return;
	}
	if (proto_tls_cn(t->conn.session)) {
		/* opened with a client certificate: the transport is that client's only */
		char *cn = http_conn_tls_cn(c);
		bool same = cn && !strcmp(cn, proto_tls_cn(t->conn.session));

		free(cn);
		if (!same) {
			wlog_notice("http", "long-poll transport %llu: request without its client "
			            "certificate refused peer=%s", t->id, http_conn_address(c));
			http_respond_error(c, 403, "wamp.error.not_authorized",
			                   "this transport was opened with another client certificate");
			return;
		}
	}
	lp_touch(t);
	lp_do[a](t, c, req);
}

static void lp_destroy(struct httpsvc *svc)
{
	struct lp_svc *ls = (struct lp_svc *)svc;
	struct lp_transport *t, *tmp;

	HASH_ITER(hh, ls->by_key, t, tmp) {
		t->rx = NULL; /* its connection is gone with the context */
		lp_free(t);
	}
	free(ls);
}

struct httpsvc *longpoll_service_new(struct router *rt, const struct http_service_config *cfg,
                                     struct http_route *route, char *err, size_t errlen)
{
	struct lp_svc *s = calloc(1, sizeof(*s));

	(void)rt;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	(void)cfg;
	/* no shutdown hook: the connection core tells every session goodbye */
	s->svc.destroy = lp_destroy;
	route->handle = lp_handle;
	return &s->svc;
}
