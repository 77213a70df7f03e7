/*
 * admin.c - the admin HTTP listener (see admin.h), after lws v4.1.6's minimal-http-server
 * dynamic and SSE examples.
 *
 * One lws vhost with a single "http" protocol. A request is answered from
 * LWS_CALLBACK_HTTP: the whole body is built there (metrics text, JSON, or the embedded
 * page, which is static) and written in chunks of ADMIN_CHUNK bytes, one lws_write per
 * HTTP_WRITEABLE callback. An event stream (/status/events) stays open: a 1 s timer marks
 * every stream due and asks for a WRITEABLE callback, which writes one "data: {...}" event
 * of the router's counters (the page computes rates from consecutive samples).
 *
 * A second timer measures event-loop lag: it is scheduled every 100 ms and records how
 * late it ran (the loop's rt->metrics.loop_lag).
 *
 * Tickets are compared as BLAKE2b hashes with sodium_memcmp: constant time, whatever the
 * lengths.
 *
 * Detached resumable sessions (docs/resumption.md) have no connection; /status.json lists
 * them per realm under "detached" from what realm/replay.h's replay_status shows of them
 * (since when, the window left, the replay log against its bound, the calls waiting), which
 * holds nothing secret: a resume token is never kept, and its hash is not in the view.
 */
#include "router/admin/admin.h"

#include <libwebsockets.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utlist.h>

#include "common/clock.h"
#include "common/log.h"
#include "common/metrics.h"
#include "realm/replay.h"
#include "router/admin/status_page.h"
#include "router/workers/workers.h"
#include "router/net/loop.h"

#define ADMIN_CHUNK 16384         /* body bytes per lws_write */
#define ADMIN_SSE_MAX 32          /* concurrent event streams */
#define ADMIN_SSE_INTERVAL_MS 1000
#define ADMIN_LAG_INTERVAL_MS 100
#define ADMIN_LIST_MAX 1000       /* sessions, registrations, subscriptions per realm listed */

struct admin_conn {
	char *body;                   /* response body being written (owned), or NULL */
	size_t body_len;
	size_t body_off;
	bool sse;                     /* an open event stream (in admin->streams) */
	bool sse_due;                 /* a sample is to be written */
	struct lws *wsi;
	struct admin_conn *prev, *next;
};

struct admin {
	struct router *rt;
	struct lws_context *ctx;
	struct lws_vhost *vhost;
	struct lws_protocols protocols[2];
	unsigned char ticket_hash[crypto_generichash_BYTES];
	bool have_ticket;
	struct admin_conn *streams;
	unsigned nstreams;
	lws_sorted_usec_list_t sse_sul;
	lws_sorted_usec_list_t lag_sul;
	lws_usec_t lag_due;
	double lag_last_s;
	double start_time_s;
	int64_t start_mono_ms;
};

/* ---------------------------------------------------------------------------------- */
/* timers                                                                               */

static void admin_lag_tick(lws_sorted_usec_list_t *sul)
{
	struct admin *a = lws_container_of(sul, struct admin, lag_sul);
	lws_usec_t now = lws_now_usecs();
	uint64_t late = now > a->lag_due ? (uint64_t)(now - a->lag_due) : 0;

	metrics_observe(&a->rt->metrics.loop_lag, late);
	a->lag_last_s = (double)late / 1e6;
	a->lag_due = now + ADMIN_LAG_INTERVAL_MS * LWS_US_PER_MS;
	lws_sul_schedule(a->ctx, 0, &a->lag_sul, admin_lag_tick, ADMIN_LAG_INTERVAL_MS * LWS_US_PER_MS);
}

static void admin_sse_tick(lws_sorted_usec_list_t *sul)
{
	struct admin *a = lws_container_of(sul, struct admin, sse_sul);
	struct admin_conn *c;

	DL_FOREACH(a->streams, c) {
		c->sse_due = true;
		lws_callback_on_writable(c->wsi);
	}
	lws_sul_schedule(a->ctx, 0, &a->sse_sul, admin_sse_tick, ADMIN_SSE_INTERVAL_MS * LWS_US_PER_MS);
}

/* ---------------------------------------------------------------------------------- */
/* bodies                                                                               */

static uint64_t sum_types(const uint64_t *counts)
{
	uint64_t n = 0;

	for (int t = 0; t < METRICS_MSG_TYPES; t++)
		n += counts[t];
	return n;
}

/* One event-stream sample of the counters (an "event: sample" with JSON data). */
static int admin_sample(struct admin *a, char *buf, size_t cap)
{
	struct realm *r, *tmp;
	uint64_t sessions = 0, calls = 0, pubs = 0;
	struct metrics m;

	admin_metrics_total(a->rt, &m);
	HASH_ITER(hh, a->rt->realms.by_name, r, tmp) {
		sessions += r->nsessions;
		calls += r->dealer.calls;
		pubs += r->broker.publications;
	}
	return snprintf(buf, cap,
	                "event: sample\ndata: {\"t\":%lld,\"msgs_in\":%llu,\"msgs_out\":%llu,"
	                "\"bytes_in\":%llu,\"bytes_out\":%llu,\"sessions\":%llu,"
	                "\"connections\":%u,\"calls\":%llu,\"publications\":%llu,"
	                "\"pending_calls\":%llu,\"loop_lag_ms\":%.3f}\n\n",
	                (long long)clock_wall_ms(), (unsigned long long)sum_types(m.msgs_in),
	                (unsigned long long)sum_types(m.msgs_out), (unsigned long long)m.bytes_in,
	                (unsigned long long)m.bytes_out, (unsigned long long)sessions,
	                a->rt->nconns, (unsigned long long)calls, (unsigned long long)pubs,
	                (unsigned long long)m.pending_calls,
	                a->lag_last_s * 1000.0);
}

static json_t *admin_sessions_json(struct realm *r, int64_t now_ms)
{
	json_t *list = json_array();
	struct session *s, *tmp;
	unsigned n = 0;

	HASH_ITER(hh, r->sessions, s, tmp) {
		if (n++ == ADMIN_LIST_MAX)
			break;
		json_array_append_new(
			list, json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I}", "id",
		                        (json_int_t)s->id, "authid", s->authid ? s->authid : "",
		                        "authrole", s->authrole ? s->authrole : "", "authmethod",
		                        s->authmethod ? s->authmethod : "", "transport",
		                        s->ops->kind ? s->ops->kind : "other", "serializer",
		                        wamp_ser_name(s->ser), "peer", s->ops->address(s->peer),
		                        "age_s", (json_int_t)((now_ms - s->joined_at_ms) / 1000)));
	}
	return list;
}

/* The realm's detached sessions (at most ADMIN_LIST_MAX); *count gets how many there are. */
static json_t *admin_detached_json(struct realm *r, int64_t now_mono_ms, json_int_t *count)
{
	json_t *list = json_array();
	struct session *s, *tmp;
	struct replay_status st;

	*count = 0;
	HASH_ITER(hh, r->sessions, s, tmp) {
		if (!replay_status(s, now_mono_ms, &st) || (*count)++ >= ADMIN_LIST_MAX)
			continue;
		json_array_append_new(
			list, json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "id",
		                        (json_int_t)s->id, "authid", s->authid ? s->authid : "",
		                        "authrole", s->authrole ? s->authrole : "", "peer",
		                        s->ops->address(s->peer), "detached_at_ms",
		                        (json_int_t)st.detached_at_ms, "detached_for_ms",
		                        (json_int_t)st.detached_for_ms, "window_left_ms",
		                        (json_int_t)st.window_left_ms, "log_messages",
		                        (json_int_t)st.log_messages, "log_bytes",
		                        (json_int_t)st.log_bytes, "log_max_bytes",
		                        (json_int_t)st.max_bytes, "waiting_calls",
		                        (json_int_t)st.waiting_calls));
	}
	return list;
}

static json_t *admin_registrations_json(struct realm *r)
{
	json_t *list = json_array();
	struct registration *reg, *tmp;
	unsigned n = 0;

	HASH_ITER(hh_id, r->dealer.by_id, reg, tmp) {
		if (reg->builtin)
			continue;
		if (n++ == ADMIN_LIST_MAX)
			break;
		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:s, s:I}", "id",
		                                      (json_int_t)reg->id, "uri", reg->item.uri,
		                                      "match", match_policy_name(reg->item.policy),
		                                      "invoke", invoke_policy_name(reg->invoke),
		                                      "callees", (json_int_t)reg->count));
	}
	return list;
}

static json_t *admin_subscriptions_json(struct realm *r)
{
	json_t *list = json_array();
	struct subscription *sub, *tmp;
	unsigned n = 0;

	HASH_ITER(hh_id, r->broker.by_id, sub, tmp) {
		if (!sub->count)
			continue;
		if (n++ == ADMIN_LIST_MAX)
			break;
		json_array_append_new(list, json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)sub->id,
		                                      "uri", sub->item.uri, "match",
		                                      match_policy_name(sub->item.policy),
		                                      "subscribers", (json_int_t)sub->count));
	}
	return list;
}

/* /status.json: a new string (caller frees), or NULL on allocation failure. */
static char *admin_status_json(struct admin *a)
{
	json_t *doc, *realms = json_array();
	struct realm *r, *tmp;
	int64_t now = clock_wall_ms(), mono = clock_mono_ms();
	char *text;

	HASH_ITER(hh, a->rt->realms.by_name, r, tmp) {
		json_t *regs = admin_registrations_json(r), *subs = admin_subscriptions_json(r);
		json_int_t ndetached;
		json_t *detached = admin_detached_json(r, mono, &ndetached);

		json_array_append_new(
			realms, json_pack("{s:s, s:I, s:o, s:I, s:o, s:I, s:o, s:I, s:o}", "name",
		                          r->name, "session_count", (json_int_t)r->nsessions,
		                          "sessions", admin_sessions_json(r, now), "detached_count",
		                          ndetached, "detached", detached, "registration_count",
		                          (json_int_t)json_array_size(regs), "registrations", regs,
		                          "subscription_count", (json_int_t)json_array_size(subs),
		                          "subscriptions", subs));
	}
	doc = json_pack("{s:s, s:I, s:I, s:I, s:b, s:I, s:o, s:o}", "version", WAMPD_VERSION,
	                "now_ms", (json_int_t)now, "uptime_s",
	                (json_int_t)((clock_mono_ms() - a->start_mono_ms) / 1000), "connections",
	                (json_int_t)a->rt->nconns, "shutting_down", a->rt->shutting_down,
	                "list_max", (json_int_t)ADMIN_LIST_MAX, "realms", realms, "workers",
	                workers_status_json(a->rt->workers));
	text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return text;
}

/* ---------------------------------------------------------------------------------- */
/* HTTP                                                                                 */

static bool admin_ticket_ok(struct admin *a, struct lws *wsi)
{
	char buf[512];
	const char *given = NULL;
	unsigned char h[crypto_generichash_BYTES];
	int n;

	if (!a->have_ticket)
		return true;
	n = lws_hdr_copy(wsi, buf, sizeof(buf), WSI_TOKEN_HTTP_AUTHORIZATION);
	if (n > 7 && !strncasecmp(buf, "Bearer ", 7))
		given = buf + 7;
	else
		given = lws_get_urlarg_by_name(wsi, "ticket=", buf, sizeof(buf));
	if (!given)
		return false;
	crypto_generichash(h, sizeof(h), (const unsigned char *)given, strlen(given), NULL, 0);
	return sodium_memcmp(h, a->ticket_hash, sizeof(h)) == 0;
}

/* Write the response head; the body (if any) follows from WRITEABLE. */
static int admin_head(struct lws *wsi, unsigned status, const char *type, lws_filepos_t len,
                      const char *const *extra)
{
	uint8_t buf[LWS_PRE + 2048], *start = buf + LWS_PRE, *p = start, *end = buf + sizeof(buf) - 1;

	if (lws_add_http_common_headers(wsi, status, type, len, &p, end))
		return -1;
	if (lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
	                                (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
	                                (const unsigned char *)"nosniff", 7, &p, end))
		return -1;
	for (; extra && extra[0]; extra += 2)
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)extra[0],
		                                (const unsigned char *)extra[1], (int)strlen(extra[1]),
		                                &p, end))
			return -1;
	if (lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	return 0;
}

/* Answer with `body` (taken over; freed by the connection) of `len` bytes. */
static int admin_respond(struct admin_conn *c, struct lws *wsi, unsigned status,
                         const char *type, char *body, size_t len, const char *const *extra)
{
	free(c->body);
	c->body = body;
	c->body_len = len;
	c->body_off = 0;
	if (admin_head(wsi, status, type, len, extra))
		return -1;
	lws_callback_on_writable(wsi);
	return 0;
}

static int admin_respond_text(struct admin_conn *c, struct lws *wsi, unsigned status,
                              const char *text, const char *const *extra)
{
	char *body = strdup(text);

	if (!body)
		return -1;
	return admin_respond(c, wsi, status, "text/plain; charset=utf-8", body, strlen(body), extra);
}

static int admin_open_stream(struct admin *a, struct admin_conn *c, struct lws *wsi)
{
	if (a->nstreams >= ADMIN_SSE_MAX)
		return admin_respond_text(c, wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
		                          "too many event streams\n", NULL);
	if (admin_head(wsi, HTTP_STATUS_OK, "text/event-stream", LWS_ILLEGAL_HTTP_CONTENT_LEN, NULL))
		return -1;
	/* an HTTP/1.1 stream (no TLS here, so no h2): no timeout while it is open
	 * (lws_http_mark_sse() is for h2 substreams only in lws 4.1) */
	lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);
	c->sse = true;
	c->sse_due = true; /* the first sample at once: the page has a baseline */
	DL_APPEND(a->streams, c);
	a->nstreams++;
	lws_callback_on_writable(wsi);
	return 0;
}

static void admin_conn_done(struct admin *a, struct admin_conn *c)
{
	if (c->sse) {
		DL_DELETE(a->streams, c);
		a->nstreams--;
		c->sse = false;
	}
	free(c->body);
	c->body = NULL;
}

static int admin_request(struct admin *a, struct admin_conn *c, struct lws *wsi, const char *path)
{
	static const char *const auth_hdr[] = {"www-authenticate:", "Bearer realm=\"wampd admin\"",
	                                       NULL};
	static const char *const page_hdr[] = {
		"content-security-policy:",
		"default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
		"connect-src 'self'; img-src data:; frame-ancestors 'none'",
		"x-frame-options:", "DENY", NULL};
	char peer[64] = "";

	memset(c, 0, sizeof(*c));
	c->wsi = wsi;
	lws_get_peer_simple(wsi, peer, sizeof(peer));
	if (!lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI)) {
		static const char *const allow[] = {"allow:", "GET", NULL};

		wlog_info("admin", "refused method path=%s peer=%s status=405", path, peer);
		return admin_respond_text(c, wsi, HTTP_STATUS_METHOD_NOT_ALLOWED, "only GET\n", allow);
	}
	if (!strcmp(path, "/health")) {
		bool ok = !a->rt->shutting_down;

		return admin_respond_text(c, wsi, ok ? HTTP_STATUS_OK : HTTP_STATUS_SERVICE_UNAVAILABLE,
		                          ok ? "ok\n" : "shutting down\n", NULL);
	}
	if (!admin_ticket_ok(a, wsi)) {
		wlog_notice("admin", "unauthorized request path=%s peer=%s status=401", path, peer);
		return admin_respond_text(c, wsi, HTTP_STATUS_UNAUTHORIZED,
		                          "admin ticket required (Authorization: Bearer <ticket>, or "
		                          "?ticket=<ticket>)\n", auth_hdr);
	}
	wlog_debug("admin", "request path=%s peer=%s", path, peer);
	if (!strcmp(path, "/metrics")) {
		struct admin_view v = {.rt = a->rt, .start_time_s = a->start_time_s,
		                       .loop_lag_last_s = a->lag_last_s};
		struct abuf b = {0};

		admin_metrics_text(&v, &b);
		if (b.failed) {
			abuf_free(&b);
			return admin_respond_text(c, wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR,
			                          "out of memory\n", NULL);
		}
		return admin_respond(c, wsi, HTTP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8",
		                     b.p, b.len, NULL);
	}
	if (!strcmp(path, "/status") || !strcmp(path, "/status/") || !strcmp(path, "/")) {
		char *page = malloc(sizeof(status_page_html));

		if (!page)
			return -1;
		memcpy(page, status_page_html, sizeof(status_page_html));
		return admin_respond(c, wsi, HTTP_STATUS_OK, "text/html; charset=utf-8", page,
		                     sizeof(status_page_html), page_hdr);
	}
	if (!strcmp(path, "/status.json")) {
		char *text = admin_status_json(a);

		if (!text)
			return admin_respond_text(c, wsi, HTTP_STATUS_INTERNAL_SERVER_ERROR,
			                          "out of memory\n", NULL);
		return admin_respond(c, wsi, HTTP_STATUS_OK, "application/json", text, strlen(text),
		                     NULL);
	}
	if (!strcmp(path, "/status/events"))
		return admin_open_stream(a, c, wsi);
	return admin_respond_text(c, wsi, HTTP_STATUS_NOT_FOUND,
	                          "not found (/metrics, /health, /status, /status.json, "
	                          "/status/events)\n", NULL);
}

static int admin_writeable(struct admin *a, struct admin_conn *c, struct lws *wsi)
{
	uint8_t buf[LWS_PRE + ADMIN_CHUNK];
	size_t n;
	bool last;

	if (c->sse) {
		int k;

		if (!c->sse_due)
			return 0;
		c->sse_due = false;
		k = admin_sample(a, (char *)buf + LWS_PRE, ADMIN_CHUNK);
		if (k <= 0 || k >= ADMIN_CHUNK)
			return -1;
		return lws_write(wsi, buf + LWS_PRE, (size_t)k, LWS_WRITE_HTTP) == k ? 0 : -1;
	}
	if (!c->body)
		return 0;
	n = c->body_len - c->body_off;
	if (n > ADMIN_CHUNK)
		n = ADMIN_CHUNK;
	last = c->body_off + n == c->body_len;
	memcpy(buf + LWS_PRE, c->body + c->body_off, n);
	if (lws_write(wsi, buf + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
		return -1;
	c->body_off += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	free(c->body);
	c->body = NULL;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int admin_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user,
                          void *in, size_t len)
{
	struct admin *a = lws_vhost_user(lws_get_vhost(wsi));
	struct admin_conn *c = user;

	switch (reason) {
	case LWS_CALLBACK_HTTP:
		if (!a || !c)
			return -1;
		admin_conn_done(a, c);
		return admin_request(a, c, wsi, in ? (const char *)in : "/");
	case LWS_CALLBACK_HTTP_BODY:
		return 0; /* GET only: a body is ignored */
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		/* a request with a body (refused with 405): lws lets the answer go out now */
		lws_callback_on_writable(wsi);
		return 0;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!a || !c)
			return -1;
		return admin_writeable(a, c, wsi);
	case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
	case LWS_CALLBACK_CLOSED_HTTP:
		if (a && c)
			admin_conn_done(a, c);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

/* ---------------------------------------------------------------------------------- */
/* lifetime                                                                             */

bool admin_start(struct router *rt, struct loop *loop, struct admin **out)
{
	const struct admin_config *cfg = &rt->cfg.admin;
	struct lws_context_creation_info info;
	struct admin *a;

	*out = NULL;
	if (!cfg->enabled)
		return true;
	if (!(a = calloc(1, sizeof(*a))))
		return false;
	a->rt = rt;
	a->ctx = loop_context(loop);
	a->start_time_s = (double)clock_wall_ms() / 1000.0;
	a->start_mono_ms = clock_mono_ms();
	if (cfg->ticket) {
		crypto_generichash(a->ticket_hash, sizeof(a->ticket_hash),
		                   (const unsigned char *)cfg->ticket, strlen(cfg->ticket), NULL, 0);
		a->have_ticket = true;
	}
	a->protocols[0].name = "http";
	a->protocols[0].callback = admin_callback;
	a->protocols[0].per_session_data_size = sizeof(struct admin_conn);

	memset(&info, 0, sizeof(info));
	info.port = cfg->port;
	info.iface = cfg->host;
	info.protocols = a->protocols;
	info.user = a;
	info.vhost_name = "admin";
	info.options = LWS_SERVER_OPTION_DISABLE_IPV6;
	a->vhost = lws_create_vhost(a->ctx, &info);
	if (!a->vhost) {
		wlog_error("admin", "cannot listen on %s:%d", cfg->host ? cfg->host : "*", cfg->port);
		free(a);
		return false;
	}
	printf("listening admin http://%s:%d/\n", cfg->host ? cfg->host : "0.0.0.0",
	       lws_get_vhost_listen_port(a->vhost));
	fflush(stdout);
	wlog_notice("admin", "listening url=http://%s:%d/ ticket=%s", cfg->host ? cfg->host : "0.0.0.0",
	            lws_get_vhost_listen_port(a->vhost), a->have_ticket ? "required" : "none");
	a->lag_due = lws_now_usecs() + ADMIN_LAG_INTERVAL_MS * LWS_US_PER_MS;
	lws_sul_schedule(a->ctx, 0, &a->lag_sul, admin_lag_tick, ADMIN_LAG_INTERVAL_MS * LWS_US_PER_MS);
	lws_sul_schedule(a->ctx, 0, &a->sse_sul, admin_sse_tick, ADMIN_SSE_INTERVAL_MS * LWS_US_PER_MS);
	*out = a;
	return true;
}

void admin_free(struct admin *a)
{
	free(a);
}
