/*
 * sse.c - Server-Sent Events out: GET /sse?topic=a.b&topic=c.&match=prefix streams the
 * EVENTs of those topics as text/event-stream:
 *
 *     id: <publication id>
 *     data: {"topic": "a.b", "args": [...], "kwargs": {...}}
 *
 * with a comment line (": ping") every `heartbeat` seconds. Each stream is an internal
 * WAMP subscriber session: it sends HELLO with the listener's authentication (anonymous,
 * or ticket from "Authorization: Basic base64(authid:ticket)" or "Authorization: Bearer
 * <ticket>" with ?authid=), then one SUBSCRIBE per topic, so authentication and
 * authorization are those of any subscriber. The response starts (200) only once every
 * SUBSCRIBE succeeded; an ABORT or ERROR before that is answered with its HTTP status and
 * URI instead. A Last-Event-ID (header or ?last_event_id=) is looked up in the realm's
 * event store, in every history that covers one of the stream's (topic, match) patterns
 * (a history on "com.app." prefix covers a stream on the exact topic com.app.x: it holds
 * all of that stream's events; broker_history_read); the events after it that the stream's
 * patterns match are sent first, then the live ones. The store may answer later (redis):
 * live events arriving meanwhile are held (rendered, at most SSE_MAX_HELD) and sent after
 * the replay, those the replay had left out. The same publication matching two of the
 * stream's subscriptions is sent once.
 *
 * Encoding: the SSE rendition of an EVENT is cached by the EVENT's shared buffer, so every
 * stream of one subscription gets the same refcounted bytes (one rendition per
 * publication, not per reader). Each stream's queue is bounded by limits.send_queue_bytes
 * (http_stream_push): a slow reader is disconnected.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sodium.h>
#include <sys/time.h>
#include <utlist.h>

#include "common/log.h"
#include "router/core/conn.h"
#include "router/http/httpsvc.h"
#include "router/core/protocol.h"

struct sse_svc;

struct sse_stream {
	struct conn conn;             /* the connection core's (router/core/conn.h): first. Its
	                                 session (NULL until admitted) and address; its bytes
	                                 wait in the HTTP connection's queue (http_stream_push) */
	struct sse_svc *svc;
	struct http_conn *c;          /* NULL once the connection is gone */
	char **topics;
	size_t ntopics;
	uint64_t *subs;               /* subscription id per topic (0: not yet) */
	size_t nsubscribed;
	enum match_policy match;
	char authid[128];
	char ticket[256];
	bool authenticate;            /* a CHALLENGE is to be answered */
	bool subscribe;               /* WELCOME came: SUBSCRIBEs are to be sent */
	bool streaming;
	bool failed;
	uint64_t last_event;          /* Last-Event-ID asked for (0: none) */
	uint64_t last_sent;           /* publication id of the last event sent */
	struct broker_read *replay;   /* the store's answer awaited (Last-Event-ID) */
	bool replaying;               /* live events are held until the replay is sent */
	struct sse_held {
		uint64_t publication;
		struct wamp_out *sse;
	} *held;
	size_t nheld;
	struct realm_timer *step;     /* continues the handshake from the loop */
	struct realm_timer *beat;     /* heartbeat */
	struct realm_timer *reap;     /* frees a stream that failed before streaming */
	struct sse_stream *prev, *next;
};

struct sse_svc {
	struct httpsvc svc;
	struct sse_stream *streams;
	/* the SSE rendition of the last EVENT buffer seen (shared by every stream of the
	 * service it reaches: one EVENT is rendered once) */
	struct {
		struct wamp_out *event;
		struct wamp_out *sse;
	} cache;
};

static void sse_cache_clear(struct sse_svc *ss)
{
	wamp_out_unref(ss->cache.event);
	wamp_out_unref(ss->cache.sse);
	ss->cache.event = ss->cache.sse = NULL;
}

static void sse_free(struct sse_stream *st)
{
	struct router *rt = st->svc->svc.rt;

	httpsvc_timer_cancel(rt, &st->step);
	httpsvc_timer_cancel(rt, &st->beat);
	httpsvc_timer_cancel(rt, &st->reap);
	broker_read_cancel(st->replay);
	for (size_t i = 0; i < st->nheld; i++)
		wamp_out_unref(st->held[i].sse);
	free(st->held);
	if (st->conn.session) {
		proto_transport_closed(rt, st->conn.session);
		session_free(st->conn.session);
		st->conn.session = NULL;
	}
	conn_release(&st->conn);
	for (size_t i = 0; i < st->ntopics; i++)
		free(st->topics[i]);
	free(st->topics);
	free(st->subs);
	DL_DELETE(st->svc->streams, st);
	sodium_memzero(st->ticket, sizeof(st->ticket));
	free(st);
}

static void sse_reap(void *arg)
{
	struct sse_stream *st = arg;

	st->reap = NULL;
	sse_free(st);
}

/* The connection is gone (or the answer was an error): the stream ends. */
static void sse_gone(void *arg)
{
	struct sse_stream *st = arg;

	st->c = NULL;
	sse_free(st);
}

/* Answer with an error before the stream started; the stream is freed from the loop. */
static void sse_fail(struct sse_stream *st, int status, const char *uri, const char *why)
{
	if (st->streaming) {
		/* too late for a status: the stream ends (sse_gone frees it) */
		if (st->c)
			http_close(st->c, false);
		return;
	}
	if (st->failed)
		return;
	st->failed = true;
	if (st->c) {
		wlog_info("http", "sse refused peer=%s: %d %s %s", st->conn.addr, status, uri, why ? why : "");
		http_respond_error(st->c, status, uri, why);
		st->c = NULL;
	}
	if (!st->reap)
		st->reap = httpsvc_timer(st->svc->svc.rt, 0, sse_reap, st);
}

struct wamp_out *sse_render(uint64_t publication, const char *topic, json_t *args,
                            json_t *kwargs)
{
	json_t *data = json_pack("{s:s, s:o, s:o}", "topic", topic, "args",
	                         args ? json_incref(args) : json_array(), "kwargs",
	                         kwargs ? json_incref(kwargs) : json_object());
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	struct wamp_out *o = NULL;
	size_t n;

	json_decref(data);
	if (text && (o = wamp_out_new(strlen(text) + 48))) {
		n = (size_t)snprintf((char *)wamp_out_data(o), o->cap, "id: %llu\ndata: %s\n\n",
		                     (unsigned long long)publication, text);
		o->len = n;
	}
	free(text);
	return o;
}

/* A slow reader is closed there (and logged, once) */
static void sse_push(struct sse_stream *st, struct wamp_out *o)
{
	if (st->c)
		http_stream_push(st->c, o);
}

/* The topic of a subscription of this stream. */
static const char *sse_topic_of(struct sse_stream *st, uint64_t sub)
{
	for (size_t i = 0; i < st->ntopics; i++)
		if (st->subs[i] == sub)
			return st->topics[i];
	return "";
}

#define SSE_MAX_HELD 4096

static void sse_note(struct sse_stream *st, const char *note, size_t len)
{
	struct wamp_out *o = wamp_out_new(len + 1);

	if (o) {
		memcpy(wamp_out_data(o), note, len);
		o->len = len;
		sse_push(st, o);
		wamp_out_unref(o);
	}
}

/* The store's answer: what follows Last-Event-ID, then the live events held meanwhile that
 * the answer did not hold (a publication it holds was sent now or seen before). */
static void sse_replayed(void *arg, enum wampd_err err, const struct stored_event *const *evs,
                         size_t n)
{
	static const char note[] = ": the event history does not reach back to Last-Event-ID\n\n";
	struct sse_stream *st = arg;
	size_t at = n;

	st->replay = NULL;
	st->replaying = false;
	for (size_t i = 0; err == WAMPD_OK && i < n && at == n; i++)
		if (evs[i]->publication == st->last_event)
			at = i;
	if (at == n)
		sse_note(st, note, sizeof(note) - 1);
	for (size_t i = at + 1; i < n && st->c; i++) {
		const struct stored_event *ev = evs[i];
		json_t *args, *kwargs;
		struct wamp_out *o;

		if (ev->publication == st->last_sent)
			continue;
		args = wamp_payload_args(&ev->payload, &err);
		kwargs = wamp_payload_kwargs(&ev->payload, &err);
		o = sse_render(ev->publication, ev->topic, args, kwargs);
		json_decref(args);
		json_decref(kwargs);
		if (o) {
			st->last_sent = ev->publication;
			sse_push(st, o);
			wamp_out_unref(o);
		}
	}
	for (size_t i = 0; i < st->nheld; i++) {
		bool replayed = false;

		for (size_t k = 0; k < n && !replayed; k++)
			replayed = evs[k]->publication == st->held[i].publication;
		if (!replayed && st->held[i].publication != st->last_sent) {
			st->last_sent = st->held[i].publication;
			sse_push(st, st->held[i].sse);
		}
		wamp_out_unref(st->held[i].sse);
	}
	free(st->held);
	st->held = NULL;
	st->nheld = 0;
}

/* Ask the store for what followed Last-Event-ID on the stream's patterns. */
static void sse_replay(struct sse_stream *st)
{
	static const char note[] = ": no event history covers this stream's topics\n\n";
	struct broker *b = &st->conn.session->realm->broker;
	enum match_policy *policies = calloc(st->ntopics, sizeof(*policies));
	struct store_query q = {0};

	if (!policies)
		return;
	for (size_t i = 0; i < st->ntopics; i++)
		policies[i] = st->match;
	st->replaying = true;
	if (!broker_history_read(b, (const char *const *)st->topics, policies, st->ntopics, &q,
	                         sse_replayed, st, &st->replay)) {
		st->replaying = false;
		sse_note(st, note, sizeof(note) - 1);
	}
	free(policies);
}

static void sse_heartbeat(void *arg)
{
	static const char ping[] = ": ping\n\n";
	struct sse_stream *st = arg;
	struct wamp_out *o = wamp_out_new(sizeof(ping));

	st->beat = NULL;
	if (o && st->c) {
		memcpy(wamp_out_data(o), ping, sizeof(ping) - 1);
		o->len = sizeof(ping) - 1;
		sse_push(st, o);
	}
	wamp_out_unref(o);
	if (st->c)
		st->beat = httpsvc_timer(st->svc->svc.rt, st->svc->svc.cfg->heartbeat_s * 1000,
		                         sse_heartbeat, st);
}

/* Every SUBSCRIBE succeeded: 200, the history, then live events. */
static void sse_start(struct sse_stream *st)
{
	static const char hello[] = ": wampd event stream\nretry: 2000\n\n";
	struct wamp_out *o;

	if (!st->c || !http_stream_begin(st->c, "text/event-stream; charset=utf-8",
	                                 "X-Accel-Buffering: no\r\n", sse_gone, st)) {
		sse_fail(st, 500, "wamp.error.runtime_error", "cannot start the stream");
		return;
	}
	st->streaming = true;
	wlog_info("http", "sse stream session=%llu peer=%s topics=%zu", (unsigned long long)st->conn.session->id,
	          st->conn.addr, st->ntopics);
	if ((o = wamp_out_new(sizeof(hello)))) {
		memcpy(wamp_out_data(o), hello, sizeof(hello) - 1);
		o->len = sizeof(hello) - 1;
		sse_push(st, o);
		wamp_out_unref(o);
	}
	if (st->last_event)
		sse_replay(st);
	if (st->svc->svc.cfg->heartbeat_s)
		st->beat = httpsvc_timer(st->svc->svc.rt, st->svc->svc.cfg->heartbeat_s * 1000,
		                         sse_heartbeat, st);
}

/* An EVENT for this stream (the shared encoded buffer out, decoded as m). */
static void sse_event(struct sse_stream *st, struct wamp_out *out, json_t *m)
{
	uint64_t sub = (uint64_t)json_integer_value(json_array_get(m, 1));
	uint64_t pub = (uint64_t)json_integer_value(json_array_get(m, 2));
	const char *topic = wamp_dict_str(json_array_get(m, 3), "topic", NULL);

	if (!st->streaming || pub == st->last_sent)
		return;
	if (st->svc->cache.event != out) {
		struct wamp_out *o = sse_render(pub, topic ? topic : sse_topic_of(st, sub),
		                                json_array_get(m, 4), json_array_get(m, 5));

		if (!o)
			return;
		sse_cache_clear(st->svc);
		st->svc->cache.event = wamp_out_ref(out);
		st->svc->cache.sse = o;
	}
	if (st->replaying) { /* after the replay (sse_replayed) */
		struct sse_held *h;

		if (st->nheld == SSE_MAX_HELD ||
		    !(h = realloc(st->held, (st->nheld + 1) * sizeof(*h)))) {
			wlog_info("http", "sse stream peer=%s: too many events while replaying its "
			          "history; closing it", st->conn.addr);
			if (st->c)
				http_close(st->c, false);
			return;
		}
		st->held = h;
		h[st->nheld].publication = pub;
		h[st->nheld++].sse = wamp_out_ref(st->svc->cache.sse);
		return;
	}
	st->last_sent = pub;
	sse_push(st, st->svc->cache.sse);
}

/* Continue the handshake from the loop (a peer_ops.send must not re-enter realm/). */
static void sse_step(void *arg)
{
	struct sse_stream *st = arg;
	char why[200];

	st->step = NULL;
	if (st->failed || !st->conn.session)
		return;
	if (st->authenticate) {
		json_t *m = json_pack("[i, s, {}]", WAMP_AUTHENTICATE, st->ticket);

		st->authenticate = false;
		httpsvc_feed(st->svc->svc.rt, st->conn.session, m, why, sizeof(why));
		json_decref(m);
	}
	if (st->subscribe) {
		st->subscribe = false;
		for (size_t i = 0; i < st->ntopics && !st->failed && st->conn.session->state == SESSION_ESTABLISHED;
		     i++) {
			json_t *m = json_pack("[i, I, {s:s}, s]", WAMP_SUBSCRIBE, (json_int_t)(i + 1),
			                      "match", match_policy_name(st->match), st->topics[i]);

			if (!httpsvc_feed(st->svc->svc.rt, st->conn.session, m, why, sizeof(why)))
				sse_fail(st, 400, "wamp.error.invalid_uri", why);
			json_decref(m);
		}
	}
}

static void sse_later(struct sse_stream *st)
{
	if (!st->step)
		st->step = httpsvc_timer(st->svc->svc.rt, 0, sse_step, st);
}

int sse_refusal_status(const char *uri)
{
	if (!strcmp(uri, "wamp.error.no_such_realm"))
		return 404;
	if (!strcmp(uri, "wamp.error.not_authorized") || !strcmp(uri, "wamp.error.no_such_role"))
		return 403;
	if (!strcmp(uri, "wamp.error.invalid_uri"))
		return 400;
	if (!strcmp(uri, "wamp.close.system_shutdown") || !strcmp(uri, "wamp.error.limit_exceeded"))
		return 503;
	return 401;
}

static enum wampd_err sse_peer_send(void *peer, struct wamp_out *out)
{
	struct sse_stream *st = peer;
	json_t *m;
	int type;

	if (st->failed)
		return WAMPD_OK;
	if (!(m = httpsvc_decode(out)))
		return WAMPD_OK;
	type = (int)json_integer_value(json_array_get(m, 0));
	switch (type) {
	case WAMP_EVENT:
		sse_event(st, out, m);
		break;
	case WAMP_CHALLENGE:
		st->authenticate = true;
		sse_later(st);
		break;
	case WAMP_WELCOME:
		st->subscribe = true;
		sse_later(st);
		break;
	case WAMP_SUBSCRIBED: {
		uint64_t req = (uint64_t)json_integer_value(json_array_get(m, 1));

		if (req >= 1 && req <= st->ntopics && !st->subs[req - 1]) {
			st->subs[req - 1] = (uint64_t)json_integer_value(json_array_get(m, 2));
			if (++st->nsubscribed == st->ntopics)
				sse_start(st);
		}
		break;
	}
	case WAMP_ERROR: {
		const char *uri = json_string_value(json_array_get(m, 4));
		const char *text = json_string_value(json_array_get(json_array_get(m, 5), 0));

		uri = uri ? uri : "wamp.error.runtime_error";
		sse_fail(st, sse_refusal_status(uri) == 401 ? 400 : sse_refusal_status(uri), uri,
		         text);
		break;
	}
	case WAMP_ABORT: {
		const char *uri = json_string_value(json_array_get(m, 2));

		uri = uri ? uri : "wamp.error.authentication_failed";
		sse_fail(st, sse_refusal_status(uri), uri,
		         wamp_dict_str(json_array_get(m, 1), "message", NULL));
		break;
	}
	case WAMP_GOODBYE: {
		/* router shutdown or kill: a stream ends (no reply needed: the close follows); a
		 * handshake still under way is answered 503 with the GOODBYE's reason */
		const char *uri = json_string_value(json_array_get(m, 2));

		sse_fail(st, 503, uri ? uri : "wamp.close.system_shutdown",
		         "the router closed the session");
		break;
	}
	default:
		break;
	}
	json_decref(m);
	return WAMPD_OK;
}

/* conn_ops.close (the router closes the session): a stream ends, a handshake fails */
static void sse_close(struct conn *c, int code, const char *reason, bool now)
{
	struct sse_stream *st = (struct sse_stream *)c;

	(void)code;
	if (st->streaming && st->c)
		http_close(st->c, now);
	else if (!st->streaming)
		sse_fail(st, 503, "wamp.error.canceled", reason);
}

static json_t *sse_transport(struct conn *c)
{
	struct sse_stream *st = (struct sse_stream *)c;

	return json_pack("{s:s, s:s, s:s}", "type", "sse", "path", st->svc->svc.cfg->path, "peer",
	                 st->conn.addr);
}

static const struct conn_ops sse_conn_ops = {
	.kind = "sse",
	.close = sse_close,
	.transport = sse_transport,
};

/* Not the core's send: the session's messages drive the stream (events become SSE) */
static const struct peer_ops sse_ops = {
	.send = sse_peer_send,
	.close = conn_peer_close,
	.address = conn_peer_address,
	.transport = conn_peer_transport,
	.kind = "sse",
};

bool sse_credentials(const struct http_request *req, char *authid, size_t authid_size,
                     char *ticket, size_t ticket_size)
{
	size_t n = 0;
	const char *h = http_header_get(req, "authorization", &n);

	if (!h)
		return true;
	if (n > 6 && !strncasecmp(h, "Basic ", 6)) {
		unsigned char dec[400];
		size_t dl = 0;
		char *colon;

		if (sodium_base642bin(dec, sizeof(dec) - 1, h + 6, n - 6, " ", &dl, NULL,
		                      sodium_base64_VARIANT_ORIGINAL))
			return false;
		dec[dl] = '\0';
		colon = memchr(dec, ':', dl);
		if (!colon || (size_t)(colon - (char *)dec) >= authid_size ||
		    strlen(colon + 1) >= ticket_size || strlen((char *)dec) != dl)
			return false;
		*colon = '\0';
		/* both lengths were checked against their fields above */
		memcpy(authid, dec, (size_t)(colon - (char *)dec) + 1);
		memcpy(ticket, colon + 1, strlen(colon + 1) + 1);
		sodium_memzero(dec, sizeof(dec));
		return authid[0] != '\0';
	}
	if (n > 7 && !strncasecmp(h, "Bearer ", 7) && n - 7 < ticket_size) {
		memcpy(ticket, h + 7, n - 7);
		ticket[n - 7] = '\0';
		return http_query_get(req->query, req->query_len, "authid", authid,
		                      authid_size) && authid[0];
	}
	return false;
}

static void sse_handle(const struct http_route *route, struct http_conn *c,
                       const struct http_request *req, const char *rest, size_t rest_len)
{
	struct sse_svc *svc = route->ctx;
	struct router *rt = svc->svc.rt;
	struct sse_stream *st;
	char key[32], val[512];
	size_t pos = 0, hl = 0;
	int r;
	const char *lei;
	json_t *hello;
	struct proto_peer peer = {.auth = svc->svc.auth}; /* its HELLO is the router's own */

	(void)rest, (void)rest_len;
	if (strcmp(req->method, "GET")) {
		static const char body[] = "{\"error\":\"wampd.http.method_not_allowed\",\"args\":"
		                           "[\"use GET\"],\"kwargs\":{}}";

		http_respond_json_text(c, 405, body, sizeof(body) - 1, "Allow: GET, OPTIONS\r\n");
		return;
	}
	if (!(st = calloc(1, sizeof(*st))) ||
	    !(st->topics = calloc(svc->svc.cfg->max_topics, sizeof(*st->topics))) ||
	    !(st->subs = calloc(svc->svc.cfg->max_topics, sizeof(*st->subs)))) {
		if (st)
			free(st->topics);
		free(st);
		http_respond_error(c, 500, "wamp.error.runtime_error", "out of memory");
		return;
	}
	st->svc = svc;
	st->c = c;
	st->match = svc->svc.cfg->match;
	st->conn.ops = &sse_conn_ops;
	st->conn.rt = rt;
	snprintf(st->conn.addr, sizeof(st->conn.addr), "%s", http_conn_address(c));
	conn_open(&st->conn);
	DL_APPEND(svc->streams, st);
	http_hold(c, sse_gone, st);
	while ((r = http_query_next(req->query, req->query_len, &pos, key, sizeof(key), val,
	                            sizeof(val))) != 0) {
		if (r < 0) {
			sse_fail(st, 400, "wamp.error.invalid_argument", "malformed query string");
			return;
		}
		if (!strcmp(key, "topic")) {
			if (st->ntopics == svc->svc.cfg->max_topics) {
				sse_fail(st, 400, "wamp.error.invalid_argument", "too many topics");
				return;
			}
			if (!(st->topics[st->ntopics++] = strdup(val))) {
				sse_fail(st, 500, "wamp.error.runtime_error", "out of memory");
				return;
			}
		} else if (!strcmp(key, "match")) {
			if (!match_policy_parse(val, &st->match)) {
				sse_fail(st, 400, "wamp.error.invalid_argument",
				         "match must be exact, prefix or wildcard");
				return;
			}
		} else if (!strcmp(key, "last_event_id")) {
			st->last_event = strtoull(val, NULL, 10);
		} else if (strcmp(key, "authid")) {
			char why[96];

			snprintf(why, sizeof(why), "unknown query parameter \"%s\"", key);
			sse_fail(st, 400, "wamp.error.invalid_argument", why);
			return;
		}
	}
	if (!st->ntopics) {
		sse_fail(st, 400, "wamp.error.invalid_argument", "give at least one ?topic=");
		return;
	}
	if ((lei = http_header_get(req, "last-event-id", &hl)) && hl && hl < 24) {
		char id[24];

		memcpy(id, lei, hl);
		id[hl] = '\0';
		st->last_event = strtoull(id, NULL, 10);
	}
	if (!sse_credentials(req, st->authid, sizeof(st->authid), st->ticket,
	                     sizeof(st->ticket))) {
		sse_fail(st, 401, "wamp.error.authentication_failed",
		         "Authorization must be Basic authid:ticket, or Bearer <ticket> with ?authid=");
		return;
	}
	if (!conn_admit(rt, "http", st->conn.addr)) {
		sse_fail(st, 503, "wamp.error.limit_exceeded", "no more sessions");
		return;
	}
	if (!(st->conn.session = session_new(&sse_ops, &st->conn, WAMP_SER_JSON, &rt->metrics))) {
		sse_fail(st, 500, "wamp.error.runtime_error", "out of memory");
		return;
	}
	conn_count(&st->conn);
	if (!proto_transport_open(rt, st->conn.session, &peer)) {
		sse_fail(st, 500, "wamp.error.runtime_error", "out of memory");
		return;
	}
	hello = json_pack("[i, s, {s:{s:{s:{s:b}}}, s:[s]}]", WAMP_HELLO, svc->svc.cfg->realm,
	                  "roles", "subscriber", "features", "pattern_based_subscription", 1,
	                  "authmethods", st->ticket[0] ? "ticket" : "anonymous");
	if (hello && st->authid[0])
		json_object_set_new(json_array_get(hello, 2), "authid", json_string(st->authid));
	{
		char why[200];

		if (!hello || !httpsvc_feed(rt, st->conn.session, hello, why, sizeof(why)))
			sse_fail(st, 400, "wamp.error.invalid_argument", hello ? why : "out of memory");
	}
	json_decref(hello);
}

static void sse_destroy(struct httpsvc *svc)
{
	struct sse_svc *ss = (struct sse_svc *)svc;

	while (ss->streams)
		sse_free(ss->streams);
	sse_cache_clear(ss);
	free(ss);
}

struct httpsvc *sse_service_new(struct router *rt, const struct http_service_config *cfg,
                                struct http_route *route, char *err, size_t errlen)
{
	struct sse_svc *s;

	if (!realms_find(&rt->realms, cfg->realm) && !rt->cfg.auto_create_realms) {
		snprintf(err, errlen, "http service %s: no such realm \"%s\"", cfg->path, cfg->realm);
		return NULL;
	}
	if (!(s = calloc(1, sizeof(*s)))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	/* no shutdown hook: the connection core tells every session goodbye (a stream then
	 * ends, a handshake is answered 503) */
	s->svc.destroy = sse_destroy;
	route->handle = sse_handle;
	route->max_body = 0;
	return &s->svc;
}
