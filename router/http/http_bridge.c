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
 * Crossbar's signed requests (router/http/httpsig.c). What a request's body and headers ask
 * for is read by router/http/bridge_msg.c (pure, fuzzed on its own).
 *
 * Cross-site requests (CSRF): a web page on any site can make a browser POST to the bridge
 * without asking (no CORS preflight) only with a body type an HTML form can send. So
 * publisher and caller require Content-Type: application/json (415 otherwise, in
 * bridge_msg.c), which makes a browser ask first and then refuse unless the origin is
 * allowed (router/net/http.c); a webhook, which takes any body, refuses requests that carry a
 * foreign Origin instead.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <uthash.h>

#include "common/log.h"
#include "router/http/bridge_msg.h"
#include "router/core/conn.h"
#include "router/http/httpsig.h"
#include "router/http/httpsvc.h"
#include "router/core/protocol.h"

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
	struct conn conn;            /* the connection core's face of the internal session (its
	                                peer; not registered: no network connection). Its
	                                address names the service */
	struct session *s;           /* the internal session, NULL until first use */
	bool s_dead;                 /* closed by the router (killed, shutdown): replace it */
	struct realm_timer *reap;    /* frees a dead session from the loop */
	struct bridge_req *pending;  /* by id */
	uint32_t npending;
	uint64_t next_id;
	struct httpsig_replay replay;
	const char **headers;        /* route->headers of a webhook (owned array, borrowed names) */
};

#define BRIDGE_OF(c) ((struct bridge *)((char *)(c) - offsetof(struct bridge, conn)))

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
	struct bridge *b = BRIDGE_OF(peer);
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
	b->conn.session = NULL;
	b->s_dead = false;
}

/* conn_ops.close: the router closed the internal session (killed, shutdown) */
static void bridge_close(struct conn *c, int code, const char *reason, bool now)
{
	struct bridge *b = BRIDGE_OF(c);

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

static json_t *bridge_transport(struct conn *c)
{
	struct bridge *b = BRIDGE_OF(c);

	return json_pack("{s:s, s:s, s:s}", "type", "http", "service",
	                 (const char *[]){"publisher", "caller", "webhook"}[b->svc.cfg->type], "path",
	                 b->svc.cfg->path);
}

static const struct conn_ops bridge_conn_ops = {
	.kind = "http",
	.close = bridge_close,
	.transport = bridge_transport,
};

/* Not the core's send: the session's answers go to the requests waiting for them */
static const struct peer_ops bridge_ops = {
	.send = bridge_peer_send,
	.close = conn_peer_close,
	.address = conn_peer_address,
	.transport = conn_peer_transport,
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
	if (!(s = session_new(&bridge_ops, &b->conn, WAMP_SER_JSON, &b->svc.rt->metrics))) {
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
	b->conn.session = s;
	b->conn.closing = false; /* a new session: the old one's close is history */
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

			http_respond_json_text(c, 401, body, sizeof(body) - 1,
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

/* Send the message m (borrowed) asks for, for the request on c. */
static void bridge_send(struct bridge *b, struct http_conn *c, const struct bridge_msg *m)
{
	struct session *s;
	struct bridge_req *q;
	const char *why = "";
	char vwhy[200];
	json_t *w;

	if (!(s = bridge_session(b, &why))) {
		http_respond_error(c, 503, "wamp.error.canceled", why);
		return;
	}
	if (m->type == WAMP_CALL && b->npending >= b->svc.cfg->max_pending) {
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
	q->type = m->type;
	w = bridge_msg_wamp(m, q->id);
	HASH_ADD(hh, b->pending, id, sizeof(q->id), q);
	b->npending++;
	q->listed = true;
	http_hold(c, req_gone, q);
	if (m->type == WAMP_CALL)
		q->timer = httpsvc_timer(b->svc.rt, b->svc.cfg->call_timeout_ms, req_timeout, q);
	if (!w || !httpsvc_feed(b->svc.rt, s, w, vwhy, sizeof(vwhy))) {
		q->c = NULL;
		req_free(q);
		http_respond_error(c, 400, "wamp.error.invalid_argument", w ? vwhy : "out of memory");
	}
	json_decref(w);
	/* the answer may already have come (a built-in procedure, an authorization error) */
}

/* A publisher's, caller's or webhook's request: its message sent, or refused. */
static void bridge_request(struct bridge *b, struct http_conn *c, const struct http_request *req)
{
	struct bridge_msg m;

	if (!bridge_msg_parse(b->svc.cfg, req, &m)) {
		if (m.status == 401)
			wlog_notice("http", "request refused path=%s peer=%s: %s", b->svc.cfg->path,
			            http_conn_address(c), m.why);
		http_respond_error(c, m.status, m.error, m.why);
		return;
	}
	bridge_send(b, c, &m);
	bridge_msg_clear(&m);
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

		http_respond_json_text(c, 405, body, sizeof(body) - 1, "Allow: POST, PUT, OPTIONS\r\n");
		return;
	}
	if (!bridge_auth(b, c, req))
		return;
	bridge_request(b, c, req);
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
	b->conn.ops = &bridge_conn_ops;
	b->conn.rt = rt;
	snprintf(b->conn.addr, sizeof(b->conn.addr), "http-bridge%s", cfg->path);
	route->handle = bridge_handle;
	if (cfg->type == HTTP_SVC_WEBHOOK && !webhook_route_headers(b, cfg, route)) {
		bridge_destroy(&b->svc);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	return &b->svc;
}
