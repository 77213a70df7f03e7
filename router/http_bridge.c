/*
 * http_bridge.c - the HTTP bridge (Crossbar's REST bridge semantics): publisher, caller
 * and webhook services.
 *
 *   POST /publish {"topic", "args", "kwargs", "options"} -> PUBLISH (acknowledged)
 *        200 {"id": <publication id>}
 *   POST /call    {"procedure", "args", "kwargs", "options"} -> CALL
 *        200 {"args": [...], "kwargs": {...}}  or  <status> {"error": uri, "args", "kwargs"}
 *   POST /webhook/<name> (any body) -> PUBLISH to the configured topic of
 *        [{"headers": {...}, "body": "<text>"}] (body_base64 when not UTF-8); 202 {"id"}
 *
 * Each service is one internal session of its realm with the configured authrole (joined
 * on first use, and again after it was killed), so every request is authorized like any
 * session's (realm_authorize in the broker and dealer, dynamic authorizers included).
 * Requests go through the state machine as JSON (httpsvc_feed) with request ids of the
 * bridge's own; PUBLISHED, RESULT and ERROR come back through peer_ops.send and are
 * matched to the waiting HTTP request by that id (uthash). Pending calls are bounded
 * (max_pending: 503 beyond) and time out (call_timeout: 504, and the call is canceled with
 * killnowait); a client that disconnects mid-call has its call canceled likewise.
 *
 * Authentication per service: none, a bearer ticket (Authorization: Bearer <ticket>), or
 * Crossbar's signed requests (router/httpsig.c).
 *
 * Cross-site requests (CSRF): a web page on any site can make a browser POST to the bridge
 * without asking (no CORS preflight) only with a body type an HTML form can send. So
 * publisher and caller require Content-Type: application/json (415 otherwise), which makes
 * a browser ask first and then refuse unless the origin is allowed (router/http.c); a
 * webhook, which takes any body, refuses requests that carry a foreign Origin instead.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <uthash.h>

#include "common/log.h"
#include "router/httpsig.h"
#include "router/httpsvc.h"
#include "router/protocol.h"

#define BRIDGE_REPLAY_MAX 65536

struct bridge;

struct bridge_req {
	uint64_t id;                 /* the bridge session's request id */
	struct bridge *b;
	struct http_conn *c;         /* NULL once the client is gone */
	enum wamp_type type;         /* PUBLISH or CALL */
	struct realm_timer *timer;   /* call timeout */
	bool listed;                 /* in b->pending (answers find it) */
	UT_hash_handle hh;
};

struct bridge {
	struct httpsvc svc;
	struct session *s;           /* the internal session, NULL until first use */
	bool s_dead;                 /* closed by the router (killed, shutdown): replace it */
	struct realm_timer *reap;    /* frees a dead session from the loop */
	struct bridge_req *pending;  /* by id */
	uint32_t npending;
	uint64_t next_id;
	struct httpsig_replay replay;
	const char **headers;        /* route->headers of a webhook (owned array, borrowed names) */
	char addr[160];
};

/* ------------------------------------------------------------------------------------ */
/* answers                                                                                */

/* The HTTP status for a WAMP error URI (README: "HTTP bridge"; httpsvc.h). */
int bridge_error_status(const char *uri)
{
	static const struct {
		const char *uri;
		int status;
	} map[] = {
		{"wamp.error.invalid_argument", 400}, {"wamp.error.invalid_uri", 400},
		{"wamp.error.option_not_allowed", 400}, {"wamp.error.not_authorized", 403},
		{"wamp.error.authorization_failed", 403}, {"wamp.error.no_such_procedure", 404},
		{"wamp.error.payload_size_exceeded", 413}, {"wamp.error.limit_exceeded", 429},
		{"wamp.error.feature_not_supported", 501}, {"wamp.error.no_available_callee", 503},
		{"wamp.error.canceled", 503}, {"wamp.close.system_shutdown", 503},
		{"wamp.error.timeout", 504},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (!strcmp(map[i].uri, uri))
			return map[i].status;
	return 500; /* the callee's own (application) error */
}

/* No answer will find q any more. */
static void req_unlist(struct bridge_req *q)
{
	if (!q->listed)
		return;
	HASH_DEL(q->b->pending, q);
	q->b->npending--;
	q->listed = false;
}

static void req_free(struct bridge_req *q)
{
	httpsvc_timer_cancel(q->b->svc.rt, &q->timer);
	req_unlist(q);
	free(q);
}

/* Cancel q's call (killnowait); q is unlisted first, so the answer to the CANCEL (an
 * ERROR wamp.error.canceled, maybe at once) finds nothing. */
static void req_cancel(struct bridge_req *q)
{
	struct bridge *b = q->b;
	char why[128];
	json_t *cancel;

	req_unlist(q);
	if (q->type != WAMP_CALL || !b->s || b->s_dead)
		return;
	cancel = json_pack("[i, I, {s:s}]", WAMP_CANCEL, (json_int_t)q->id, "mode", "killnowait");
	if (cancel)
		httpsvc_feed(b->svc.rt, b->s, cancel, why, sizeof(why));
	json_decref(cancel);
}

/* The client went away before the answer came. */
static void req_gone(void *ctx)
{
	struct bridge_req *q = ctx;

	q->c = NULL;
	if (q->type == WAMP_CALL)
		wlog_info("http", "client gone during call: canceling it path=%s", q->b->svc.cfg->path);
	req_cancel(q);
	req_free(q);
}

static void req_answer(struct bridge_req *q, int status, json_t *body)
{
	if (q->c)
		http_respond_json(q->c, status, body);
	else
		json_decref(body);
	req_free(q);
}

static void req_timeout(void *ctx)
{
	struct bridge_req *q = ctx;
	struct http_conn *c = q->c;

	q->timer = NULL;
	q->c = NULL;
	wlog_info("http", "call timed out after %u ms path=%s", q->b->svc.cfg->call_timeout_ms,
	          q->b->svc.cfg->path);
	req_cancel(q);
	if (c)
		http_respond_error(c, 504, "wamp.error.timeout", "the call did not complete in time");
	req_free(q);
}

static json_t *or_empty(json_t *v, bool list)
{
	return v ? json_incref(v) : list ? json_array() : json_object();
}

/* A message the router sent to the bridge session (never re-enters realm/). */
static void bridge_got(struct bridge *b, json_t *m)
{
	int type = (int)json_integer_value(json_array_get(m, 0));
	uint64_t id = 0;
	struct bridge_req *q = NULL;

	switch (type) {
	case WAMP_PUBLISHED:
	case WAMP_RESULT:
		id = (uint64_t)json_integer_value(json_array_get(m, 1));
		break;
	case WAMP_ERROR:
		id = (uint64_t)json_integer_value(json_array_get(m, 2));
		break;
	default:
		return; /* EVENT, GOODBYE, ABORT: the close callback handles the latter */
	}
	HASH_FIND(hh, b->pending, &id, sizeof(id), q);
	if (!q)
		return; /* timed out or the client left: a late answer */
	if (type == WAMP_PUBLISHED) {
		req_answer(q, q->type == WAMP_PUBLISH && b->svc.cfg->type == HTTP_SVC_WEBHOOK ? 202
		                                                                               : 200,
		           json_pack("{s:O}", "id", json_array_get(m, 2)));
	} else if (type == WAMP_RESULT) {
		if (wamp_dict_bool(json_array_get(m, 2), "progress", false))
			return; /* only the final result answers */
		req_answer(q, 200, json_pack("{s:o, s:o}", "args", or_empty(json_array_get(m, 3), true),
		                             "kwargs", or_empty(json_array_get(m, 4), false)));
	} else {
		const char *uri = json_string_value(json_array_get(m, 4));

		req_answer(q, bridge_error_status(uri ? uri : ""),
		           json_pack("{s:s, s:o, s:o}", "error", uri ? uri : "wamp.error.runtime_error",
		                     "args", or_empty(json_array_get(m, 5), true), "kwargs",
		                     or_empty(json_array_get(m, 6), false)));
	}
}

/* ------------------------------------------------------------------------------------ */
/* the internal session                                                                   */

static enum wampd_err bridge_peer_send(void *peer, struct wamp_out *out)
{
	struct bridge *b = peer;
	json_t *m = httpsvc_decode(out);

	if (m) {
		bridge_got(b, m);
		json_decref(m);
	}
	return WAMPD_OK;
}

/* Every request still waiting is answered: the session is gone. */
static void bridge_fail_pending(struct bridge *b, int status, const char *uri, const char *why)
{
	struct bridge_req *q, *tmp;

	HASH_ITER(hh, b->pending, q, tmp) {
		if (q->c)
			http_respond_error(q->c, status, uri, why);
		q->c = NULL;
		req_free(q);
	}
}

static void bridge_reap(void *arg)
{
	struct bridge *b = arg;

	b->reap = NULL;
	if (!b->s || !b->s_dead)
		return;
	proto_transport_closed(b->svc.rt, b->s);
	session_free(b->s);
	b->s = NULL;
	b->s_dead = false;
}

static void bridge_peer_close(void *peer, int code, const char *reason, bool now)
{
	struct bridge *b = peer;

	(void)code, (void)now;
	if (b->s_dead)
		return;
	wlog_notice("http", "bridge session of %s closed: %s", b->svc.cfg->path, reason ? reason : "");
	b->s_dead = true;
	bridge_fail_pending(b, 503, "wamp.error.canceled", "the bridge session was closed");
	/* freed from the loop: this runs inside a dispatch */
	if (!b->reap)
		b->reap = httpsvc_timer(b->svc.rt, 0, bridge_reap, b);
}

static const char *bridge_peer_address(void *peer)
{
	return ((struct bridge *)peer)->addr;
}

static json_t *bridge_peer_transport(void *peer)
{
	struct bridge *b = peer;

	return json_pack("{s:s, s:s, s:s}", "type", "http", "service",
	                 (const char *[]){"publisher", "caller", "webhook"}[b->svc.cfg->type], "path",
	                 b->svc.cfg->path);
}

static const struct peer_ops bridge_ops = {
	.send = bridge_peer_send,
	.close = bridge_peer_close,
	.address = bridge_peer_address,
	.transport = bridge_peer_transport,
	.kind = "http",
};

/* The bridge's session, joined to its realm on first use. NULL: not available. */
static struct session *bridge_session(struct bridge *b, const char **why)
{
	struct realm *r;
	struct session *s;
	char authid[160];

	if (b->s && !b->s_dead)
		return b->s;
	if (b->s) {
		*why = "the bridge session is being replaced: retry";
		return NULL;
	}
	if (b->svc.rt->shutting_down) {
		*why = "the router is shutting down";
		return NULL;
	}
	if (!(r = realms_find(&b->svc.rt->realms, b->svc.cfg->realm))) {
		*why = "the service's realm does not exist";
		return NULL;
	}
	if (!(s = session_new(&bridge_ops, b, WAMP_SER_JSON))) {
		*why = "out of memory";
		return NULL;
	}
	snprintf(authid, sizeof(authid), "http:%s", b->svc.cfg->path);
	if (!session_set_str(&s->authid, authid) || !session_set_str(&s->authrole, b->svc.cfg->role) ||
	    !session_set_str(&s->authmethod, b->svc.cfg->auth == HTTP_AUTH_NONE ? "anonymous"
	                                     : b->svc.cfg->auth == HTTP_AUTH_TICKET ? "ticket"
	                                                                            : "signature") ||
	    !session_set_str(&s->authprovider, "http") || realm_join(r, s) != WAMPD_OK) {
		session_free(s);
		*why = "the bridge session could not join its realm";
		return NULL;
	}
	wlog_info("http", "bridge session=%llu joined realm=%s authrole=%s path=%s",
	          (unsigned long long)s->id, r->name, s->authrole, b->svc.cfg->path);
	b->s = s;
	return s;
}

/* ------------------------------------------------------------------------------------ */
/* requests                                                                               */

/* The service's authentication. true: go on; false: answered. */
static bool bridge_auth(struct bridge *b, struct http_conn *c, const struct http_request *req)
{
	const struct http_service_config *cfg = b->svc.cfg;

	if (cfg->auth == HTTP_AUTH_TICKET) {
		size_t n = 0;
		const char *h = http_header_get(req, "authorization", &n);
		const char *t = NULL;
		size_t tn = 0;

		if (h && n > 7 && !strncasecmp(h, "Bearer ", 7))
			t = h + 7, tn = n - 7;
		else if (h && n > 7 && !strncasecmp(h, "Ticket ", 7))
			t = h + 7, tn = n - 7;
		if (!t) {
			static const char body[] =
				"{\"error\":\"wamp.error.authentication_failed\",\"args\":[\"missing "
				"Authorization: Bearer <ticket>\"],\"kwargs\":{}}";

			http_respond(c, 401, "application/json; charset=utf-8", body, sizeof(body) - 1,
			             "WWW-Authenticate: Bearer realm=\"wampd\"\r\n");
			return false;
		}
		for (size_t i = 0; i < cfg->ntickets; i++)
			if (httpsig_equal(t, tn, cfg->tickets[i], strlen(cfg->tickets[i])))
				return true;
		wlog_notice("http", "ticket refused path=%s peer=%s", cfg->path, http_conn_address(c));
		http_respond_error(c, 401, "wamp.error.authentication_failed", "ticket not accepted");
		return false;
	}
	if (cfg->auth == HTTP_AUTH_SIGNED) {
		struct timeval tv;
		const char *why = "";
		enum httpsig_result r;

		gettimeofday(&tv, NULL);
		r = httpsig_check(cfg->key, cfg->secret, cfg->timestamp_delta_s, req->query,
		                  req->query_len, req->body, req->body_len,
		                  (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000, &b->replay, &why);
		if (r == HTTPSIG_OK)
			return true;
		wlog_notice("http", "signed request refused path=%s peer=%s: %s", cfg->path,
		            http_conn_address(c), why);
		http_respond_error(c, r == HTTPSIG_CACHE_FULL ? 429
		                      : r >= HTTPSIG_UNKNOWN_KEY ? 401 : 400,
		                   "wamp.error.authentication_failed", why);
		return false;
	}
	return true;
}

/*
 * The JSON body as an object, or answered 400/415. The Content-Type must be
 * application/json (parameters allowed; a charset must be UTF-8): a request without one,
 * or with a type an HTML form can send (text/plain, form-encoded), is what a web page on
 * any site can make a browser send without asking (no CORS preflight), so it is refused.
 */
static json_t *bridge_body(struct http_conn *c, const struct http_request *req)
{
	size_t n = 0, csn = 0;
	const char *ct = http_header_get(req, "content-type", &n), *cs = NULL;
	json_error_t jerr;
	json_t *body;
	char why[300];

	if (!ct || !http_media_type(ct, n, "application/json", &cs, &csn)) {
		http_respond_error(c, 415, "wamp.error.invalid_argument",
		                   "the body must be JSON: send Content-Type: application/json");
		return NULL;
	}
	if (cs && !(csn == 5 && !strncasecmp(cs, "utf-8", 5)) &&
	    !(csn == 4 && !strncasecmp(cs, "utf8", 4))) {
		http_respond_error(c, 415, "wamp.error.invalid_argument",
		                   "the body must be UTF-8 JSON");
		return NULL;
	}
	if (!req->body_len) {
		http_respond_error(c, 400, "wamp.error.invalid_argument",
		                   "the request needs a JSON body");
		return NULL;
	}
	body = json_loadb((const char *)req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body) {
		snprintf(why, sizeof(why), "invalid JSON in the request body at line %d column %d: %s",
		         jerr.line, jerr.column, jerr.text);
		http_respond_error(c, 400, "wamp.error.invalid_argument", why);
		return NULL;
	}
	if (!json_is_object(body)) {
		json_decref(body);
		http_respond_error(c, 400, "wamp.error.invalid_argument",
		                   "the request body must be a JSON object");
		return NULL;
	}
	return body;
}

static bool check_field(struct http_conn *c, json_t *body, const char *key, bool (*ok)(const json_t *),
                        const char *what)
{
	json_t *v = json_object_get(body, key);
	char why[128];

	if (!v || json_is_null(v) || ok(v))
		return true;
	snprintf(why, sizeof(why), "\"%s\" must be %s", key, what);
	http_respond_error(c, 400, "wamp.error.invalid_argument", why);
	return false;
}

static bool is_array(const json_t *v) { return json_is_array(v); }
static bool is_object(const json_t *v) { return json_is_object(v); }

/* Send [type, id, options, uri, args?, kwargs?] for the request on c. */
static void bridge_send(struct bridge *b, struct http_conn *c, enum wamp_type type,
                        const char *uri, json_t *args, json_t *kwargs, json_t *options)
{
	struct session *s;
	struct bridge_req *q;
	const char *why = "";
	char vwhy[200];
	json_t *m;

	if (!(s = bridge_session(b, &why))) {
		http_respond_error(c, 503, "wamp.error.canceled", why);
		return;
	}
	if (type == WAMP_CALL && b->npending >= b->svc.cfg->max_pending) {
		wlog_warn("http", "max_pending=%u calls in flight on %s: refusing peer=%s",
		          b->svc.cfg->max_pending, b->svc.cfg->path, http_conn_address(c));
		http_respond_error(c, 503, "wamp.error.limit_exceeded",
		                   "too many calls in flight on this service: retry later");
		return;
	}
	if (!(q = calloc(1, sizeof(*q)))) {
		http_respond_error(c, 500, "wamp.error.runtime_error", "out of memory");
		return;
	}
	q->id = ++b->next_id;
	q->b = b;
	q->c = c;
	q->type = type;
	m = json_pack("[i, I, O, s]", type, (json_int_t)q->id, options, uri);
	if (m && (args || kwargs))
		json_array_append_new(m, args ? json_incref(args) : json_array());
	if (m && kwargs)
		json_array_append(m, kwargs);
	HASH_ADD(hh, b->pending, id, sizeof(q->id), q);
	b->npending++;
	q->listed = true;
	http_hold(c, req_gone, q);
	if (type == WAMP_CALL)
		q->timer = httpsvc_timer(b->svc.rt, b->svc.cfg->call_timeout_ms, req_timeout, q);
	if (!m || !httpsvc_feed(b->svc.rt, s, m, vwhy, sizeof(vwhy))) {
		q->c = NULL;
		req_free(q);
		http_respond_error(c, 400, "wamp.error.invalid_argument", m ? vwhy : "out of memory");
	}
	json_decref(m);
	/* the answer may already have come (a built-in procedure, an authorization error) */
}

static void bridge_publish_call(struct bridge *b, struct http_conn *c,
                                const struct http_request *req)
{
	bool call = b->svc.cfg->type == HTTP_SVC_CALLER;
	const char *key = call ? "procedure" : "topic";
	json_t *body = bridge_body(c, req), *uri, *options;

	if (!body)
		return;
	uri = json_object_get(body, key);
	if (!json_is_string(uri) || !json_string_length(uri)) {
		char why[96];

		snprintf(why, sizeof(why), "the body needs \"%s\": a URI string", key);
		http_respond_error(c, 400, "wamp.error.invalid_argument", why);
		goto out;
	}
	{
		static const char *const known[] = {"topic", "procedure", "args", "kwargs", "options",
		                                    NULL};
		const char *k;
		json_t *v;

		json_object_foreach(body, k, v) {
			const char *const *kk;

			for (kk = known; *kk && strcmp(*kk, k); kk++)
				;
			if (!*kk || !strcmp(k, call ? "topic" : "procedure")) {
				char why[160];

				snprintf(why, sizeof(why), "unknown key \"%.64s\" in the body (%s, args, kwargs, "
				         "options)", k, key);
				http_respond_error(c, 400, "wamp.error.invalid_argument", why);
				goto out;
			}
		}
	}
	if (!check_field(c, body, "args", is_array, "a list") ||
	    !check_field(c, body, "kwargs", is_object, "an object") ||
	    !check_field(c, body, "options", is_object, "an object"))
		goto out;
	options = json_is_object(json_object_get(body, "options"))
	              ? json_deep_copy(json_object_get(body, "options"))
	              : json_object();
	if (call) {
		json_object_del(options, "receive_progress"); /* one HTTP answer per call */
	} else {
		json_object_set_new(options, "acknowledge", json_true());
	}
	bridge_send(b, c, call ? WAMP_CALL : WAMP_PUBLISH, json_string_value(uri),
	            json_is_array(json_object_get(body, "args")) ? json_object_get(body, "args") : NULL,
	            json_is_object(json_object_get(body, "kwargs")) ? json_object_get(body, "kwargs")
	                                                            : NULL,
	            options);
	json_decref(options);
out:
	json_decref(body);
}

/* The headers a webhook publishes: the configured ones, or all but credentials. */
static json_t *webhook_headers(const struct http_service_config *cfg, const struct http_request *req)
{
	static const char *const secret[] = {"authorization", "cookie", "proxy-authorization", NULL};
	json_t *h = json_object();

	for (size_t i = 0; h && i < req->nheaders; i++) {
		const struct http_header *hd = &req->headers[i];
		char name[128];
		bool keep = !cfg->headers;

		if (hd->name_len >= sizeof(name))
			continue;
		for (size_t k = 0; k < hd->name_len; k++)
			name[k] = (char)(hd->name[k] >= 'A' && hd->name[k] <= 'Z' ? hd->name[k] + 32
			                                                          : hd->name[k]);
		name[hd->name_len] = '\0';
		for (size_t k = 0; cfg->headers && k < cfg->nheaders; k++)
			if (!strcmp(cfg->headers[k], name))
				keep = true;
		for (size_t k = 0; !cfg->headers && secret[k]; k++)
			if (!strcmp(secret[k], name))
				keep = false;
		if (keep) {
			json_t *v = json_stringn(hd->value, hd->value_len);

			if (v)
				json_object_set_new(h, name, v);
		}
	}
	return h;
}

static void bridge_webhook(struct bridge *b, struct http_conn *c, const struct http_request *req)
{
	const struct http_service_config *cfg = b->svc.cfg;
	json_t *event, *args, *options, *text;

	if (cfg->github_secret) {
		size_t n = 0;
		const char *sig = http_header_get(req, "x-hub-signature-256", &n);

		if (!httpsig_github_ok(cfg->github_secret, sig, n, req->body, req->body_len)) {
			wlog_notice("http", "webhook signature %s path=%s peer=%s",
			            sig ? "invalid" : "missing", cfg->path, http_conn_address(c));
			http_respond_error(c, 401, "wamp.error.authentication_failed",
			                   sig ? "X-Hub-Signature-256 does not match the body"
			                       : "X-Hub-Signature-256 is required");
			return;
		}
	}
	event = json_pack("{s:o}", "headers", webhook_headers(cfg, req));
	text = json_stringn((const char *)(req->body ? req->body : (const uint8_t *)""),
	                    req->body_len);
	if (event && text) {
		json_object_set_new(event, "body", text);
	} else if (event) {
		/* not UTF-8: the body travels as base64 */
		size_t cap = sodium_base64_encoded_len(req->body_len, sodium_base64_VARIANT_ORIGINAL);
		char *b64 = malloc(cap);

		if (b64) {
			sodium_bin2base64(b64, cap, req->body, req->body_len, sodium_base64_VARIANT_ORIGINAL);
			json_object_set_new(event, "body_base64", json_string(b64));
			free(b64);
		}
	}
	args = json_pack("[o]", event);
	options = json_pack("{s:b}", "acknowledge", 1);
	bridge_send(b, c, WAMP_PUBLISH, cfg->topic, args, NULL, options);
	json_decref(args);
	json_decref(options);
}

/*
 * A webhook takes any body (senders post form-encoded payloads too), so the Content-Type
 * cannot tell a browser's cross-site POST from a sender's. The Origin can: browsers send it
 * with every cross-origin POST, webhook senders (servers) do not. A request from a web
 * page whose origin the route does not allow is refused (403). true: go on.
 */
static bool webhook_origin_ok(const struct http_route *route, struct http_conn *c,
                              const struct http_request *req)
{
	size_t n = 0;
	const char *origin = http_header_get(req, "origin", &n);

	if (!origin || http_origin_allowed(route->origins, origin, n))
		return true;
	wlog_notice("http", "webhook request from a web page refused (origin not allowed) path=%s "
	            "peer=%s", route->path, http_conn_address(c));
	http_respond_error(c, 403, "wamp.error.not_authorized",
	                   "requests from web pages are not accepted here (allowed_origins)");
	return false;
}

static void bridge_handle(const struct http_route *route, struct http_conn *c,
                          const struct http_request *req, const char *rest, size_t rest_len)
{
	struct bridge *b = route->ctx;

	(void)rest, (void)rest_len;
	if (b->svc.cfg->type == HTTP_SVC_WEBHOOK && !webhook_origin_ok(route, c, req))
		return;
	if (strcmp(req->method, "POST") && strcmp(req->method, "PUT")) {
		static const char body[] = "{\"error\":\"wampd.http.method_not_allowed\",\"args\":"
		                           "[\"use POST\"],\"kwargs\":{}}";

		http_respond(c, 405, "application/json; charset=utf-8", body, sizeof(body) - 1,
		             "Allow: POST, PUT, OPTIONS\r\n");
		return;
	}
	if (!bridge_auth(b, c, req))
		return;
	if (b->svc.cfg->type == HTTP_SVC_WEBHOOK)
		bridge_webhook(b, c, req);
	else
		bridge_publish_call(b, c, req);
}

/* ------------------------------------------------------------------------------------ */
/* lifetime                                                                               */

static void bridge_shutdown(struct httpsvc *svc)
{
	struct bridge *b = (struct bridge *)svc;

	bridge_fail_pending(b, 503, "wamp.close.system_shutdown", "the router is shutting down");
}

static void bridge_destroy(struct httpsvc *svc)
{
	struct bridge *b = (struct bridge *)svc;
	struct bridge_req *q, *tmp;

	HASH_ITER(hh, b->pending, q, tmp) {
		q->c = NULL;
		req_free(q);
	}
	httpsvc_timer_cancel(svc->rt, &b->reap);
	if (b->s) {
		proto_transport_closed(svc->rt, b->s);
		session_free(b->s);
	}
	httpsig_replay_clear(&b->replay);
	free(b->headers);
	free(b);
}

/*
 * The headers a webhook reads beyond those lws knows by name (route->headers, for TLS
 * listeners): the configured ones, else these common webhook senders' (GitHub, GitLab,
 * Gitea, Bitbucket, Stripe, Slack); X-Hub-Signature-256 when a signature is checked.
 */
static bool webhook_route_headers(struct bridge *b, const struct http_service_config *cfg,
                                  struct http_route *route)
{
	static const char *const vendors[] = {
		"x-github-event", "x-github-delivery", "x-github-hook-id",
		"x-github-hook-installation-target-id", "x-github-hook-installation-target-type",
		"x-hub-signature-256", "x-gitlab-event", "x-gitlab-event-uuid", "x-gitlab-instance",
		"x-gitea-event", "x-gitea-delivery", "x-event-key", "x-hook-uuid", "x-request-id",
		"stripe-signature", "x-slack-signature", "x-slack-request-timestamp", NULL};
	const char *const *list = cfg->headers ? (const char *const *)cfg->headers : vendors;
	size_t n = 0, k = 0;

	while (list[n])
		n++;
	if (!(b->headers = calloc(n + 2, sizeof(*b->headers))))
		return false;
	for (size_t i = 0; i < n; i++)
		b->headers[k++] = list[i];
	if (cfg->github_secret)
		b->headers[k++] = "x-hub-signature-256";
	route->headers = b->headers;
	return true;
}

struct httpsvc *bridge_service_new(struct router *rt, const struct http_service_config *cfg,
                                   struct http_route *route, char *err, size_t errlen)
{
	struct bridge *b;

	if (!realms_find(&rt->realms, cfg->realm) && !rt->cfg.auto_create_realms) {
		snprintf(err, errlen, "http service %s: no such realm \"%s\"", cfg->path, cfg->realm);
		return NULL;
	}
	if (!(b = calloc(1, sizeof(*b)))) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (!realms_find(&rt->realms, cfg->realm))
		realms_add(&rt->realms, cfg->realm, URI_LOOSE);
	b->svc.shutdown = bridge_shutdown;
	b->svc.destroy = bridge_destroy;
	httpsig_replay_init(&b->replay, BRIDGE_REPLAY_MAX);
	snprintf(b->addr, sizeof(b->addr), "http-bridge%s", cfg->path);
	route->handle = bridge_handle;
	if (cfg->type == HTTP_SVC_WEBHOOK && !webhook_route_headers(b, cfg, route)) {
		bridge_destroy(&b->svc);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return &b->svc;
}
