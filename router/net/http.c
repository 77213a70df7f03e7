/*
 * http.c - HTTP/1.1 connections on the front door's raw lws connections (see http.h).
 *
 * Reading: bytes accumulate in one buffer; once a head parses and its Content-Length body
 * is complete, the route's handler runs with the request pointing into that buffer. The
 * bytes of one request are dropped (memmove) only after it was answered, so pipelined
 * requests wait in the buffer (bounded by the head limit plus the largest body). Requests
 * that are answered later (held) are continued from the WRITEABLE callback, never from the
 * code that answered them (which may be running inside a realm dispatch).
 *
 * Writing: every response, and every chunk of a stream, is a refcounted wamp_out in a
 * byte-bounded queue (router/core/outq.c); one lws_write per WRITEABLE callback. A body
 * read while it is written (http_respond_body: a file) adds one chunk to the queue each
 * time WRITEABLE finds it empty, so one chunk per connection is in memory at a time. An
 * error that leaves the body unread (413, 400 on a malformed head) answers with
 * "Connection: close"; the rest of a too-large body is read and discarded, for a bounded
 * time, so the client sees the answer instead of a reset. A HEAD request gets the head
 * only; 204 and 304 have no body and no Content-Length. On plain connections (lws' raw
 * role) nothing is read while lws holds a part of a write the socket did not take
 * (lwsconn_raw_wrote in lwsconn.h), so that a client that does not read cannot keep the
 * loop waking for its input; TLS connections have their own throttle (http_throttle).
 *
 * Closing: after the last answer (http_end) the callback returns -1, on lws' HTTP role
 * with reading and the write throttle stopped first: lws' TLS close then waits for the
 * client's close_notify in a state where lws 4.1.6 busy-loops on a connection that holds
 * unread bytes and may read. On an error (http_fail) a TLS connection is dropped at once.
 */
#include "router/net/http.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/log.h"
#include "router/core/conn.h"
#include "router/net/lwsconn.h"
#include "router/net/front.h"
#include "router/core/iplimit.h"
#include "router/core/outq.h"
#include "router/core/router.h"
#include "router/net/tlspeer.h"

#define HTTP_CLOSE_FLUSH_S 5      /* closing: time to write what is queued */
#define HTTP_DRAIN_MAX (16u << 20) /* bytes of an unwanted body read before hanging up */

struct http_conn {
	struct conn conn;          /* the connection core's (router/core/conn.h): first. No session:
	                              registered (shutdown, queue statistics), not counted */
	struct lws *wsi;
	const struct http_routes *routes;
	char origin[HTTP_ORIGIN_MAX + 1]; /* the request's Origin when the route allows it, or "" */
	uint8_t *in;
	size_t in_len, in_cap;
	struct http_request req;
	size_t log_path_len;       /* of req.path shown in logs (a route's rest_secret hidden) */
	size_t req_bytes;          /* head + body of the request being answered */
	bool busy;                 /* a request is being answered (or streamed) */
	bool answered;             /* ... and its response is queued */
	bool keep;                 /* keep the connection after this response */
	bool continued;            /* "100 Continue" sent for the current request */
	bool in_process;           /* inside http_process (handlers run synchronously) */
	bool streaming;
	size_t drain;              /* body bytes still to discard before closing */
	struct http_body body;     /* a response body still being read (http_respond_body) */
	uint64_t body_left;        /* ... and its bytes not read yet */
	void (*gone)(void *ctx);
	void *gone_ctx;
	/* on lws' HTTP role (TLS listeners, see http.h) */
	bool lws_role;
	bool txn;                  /* a request lws parsed is being served */
	bool txn_answered;         /* ... and its answer is queued */
	bool body_done;            /* lws said the request's body is complete */
	bool pipelined;            /* lws holds the client's next request: close after this */
	bool no_keep;              /* close after this request (lws' HTTP role: always) */
	bool throttled;            /* lws' HTTP role: a write waits for the client (http_throttle) */
	bool rx_off;               /* plain (lws' raw role): reading is off while lws holds a
	                              partial write (lwsconn_raw_wrote) */
	lws_usec_t throttle_us;    /* ... and looks at the socket again after this long */
	struct iplimit *ipl;       /* counted there under ip until the connection closes */
	char ip[IPLIMIT_ADDR_MAX];
};

/* conn_ops.close (c->conn.closing is set): after what is queued and the body still to
 * discard, or now */
static void http_conn_close(struct conn *cc, int code, const char *reason, bool now)
{
	struct http_conn *c = (struct http_conn *)cc;

	(void)code, (void)reason;
	lwsconn_close(c->wsi, now || (!c->conn.q.count && !c->drain), HTTP_CLOSE_FLUSH_S);
}

static void http_kick(struct conn *c)
{
	lws_callback_on_writable(((struct http_conn *)c)->wsi);
}

static int http_fd(struct conn *c)
{
	return lws_get_socket_fd(((struct http_conn *)c)->wsi);
}

static const struct conn_ops http_conn_ops = {
	.kind = "http",
	.kick = http_kick,
	.close = http_conn_close,
	.fd = http_fd,
	.keep_on_shutdown = true, /* its requests are answered by the services' shutdown */
};

struct http_conn *http_conn_new(const struct http_routes *rs, struct lws *wsi, const char *addr)
{
	struct http_conn *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->wsi = wsi;
	c->routes = rs;
	c->conn.ops = &http_conn_ops;
	c->conn.rt = rs->rt;
	snprintf(c->conn.addr, sizeof(c->conn.addr), "%s", addr);
	conn_open(&c->conn);
	lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, (int)c->conn.rt->cfg.hello_timeout_s);
	return c;
}

const char *http_conn_address(const struct http_conn *c)
{
	return c->conn.addr;
}

struct router *http_conn_router(const struct http_conn *c)
{
	return c->conn.rt;
}

char *http_conn_tls_cn(const struct http_conn *c)
{
	return c->lws_role ? tlspeer_cn(c->wsi) : NULL;
}

json_t *http_conn_tls_cert(const struct http_conn *c)
{
	return c->lws_role ? tlspeer_cert_facts(c->wsi) : NULL;
}

size_t http_queued_bytes(const struct http_conn *c)
{
	return c->conn.q.bytes;
}

void http_close(struct http_conn *c, bool now)
{
	conn_close(&c->conn, 0, NULL, now);
}

/* lws' HTTP role: the write throttle stops, its timer too (http_throttle) */
static void throttle_stop(struct http_conn *c)
{
	c->throttled = false;
	lws_set_timer_usecs(c->wsi, LWS_SET_TIMER_USEC_CANCEL);
}

/*
 * The connection ends after its last answer, which is written out: lws holds none of it
 * (what the WRITEABLE callback returns: -1, lws closes the connection). A plain connection
 * (lws' raw role) is closed at once. On lws' HTTP role (TLS) lws sends close_notify and
 * then waits, up to timeout_secs, for the client's, reading and discarding what the client
 * still sends (so that no reset cuts off the end of the answer); in that state
 * (LRS_SHUTDOWN) lws 4.1.6 services a connection that holds unread bytes (a pipelined
 * request in its buffer) in a busy loop that consumes nothing, unless reading is off. So
 * reading stops here, and the throttle with it: its timer, still armed, would turn reading
 * on again (http_throttle) and keep wampd at one core for as long as a client that
 * pipelined keeps the connection open.
 */
static int http_end(struct http_conn *c)
{
	if (c->lws_role) {
		throttle_stop(c);
		lws_rx_flow_control(c->wsi, 0);
	}
	return -1;
}

/*
 * An error ends the connection at once (what the callback returns). Plain connections: -1.
 * On lws' HTTP role the connection is dropped from the loop (LWS_TO_KILL_ASYNC), not handed
 * to lws' TLS close, which would first flush what lws holds, in this role only while
 * reading is on, and then wait as in http_end; what is unsent is lost, as on a plain
 * connection.
 */
static int http_fail(struct http_conn *c)
{
	if (!c->lws_role)
		return -1;
	throttle_stop(c);
	http_close(c, true);
	return 0;
}

static bool queue_bytes(struct http_conn *c, const char *a, size_t an, const void *b, size_t bn)
{
	struct wamp_out *o = wamp_out_bytes(a, an, b, bn);
	bool ok;

	if (!o)
		return false;
	/* a response: bounded by what it answers, not by the stream limit */
	ok = outq_push(&c->conn.q, o, SIZE_MAX);
	wamp_out_unref(o);
	if (ok) {
		c->conn.rt->stats.msgs_out++;
		lws_callback_on_writable(c->wsi);
	}
	return ok;
}

/* Whether the header lines `extra` (each ending in CRLF, or NULL) have one called name. */
static bool has_header(const char *extra, const char *name)
{
	size_t k = strlen(name);

	for (const char *l = extra, *e; l && *l; l = e ? e + 2 : NULL) {
		if (!strncasecmp(l, name, k) && l[k] == ':')
			return true;
		e = strstr(l, "\r\n");
	}
	return false;
}

/* The status line and the headers every response carries (the default Cache-Control
 * unless extra, the caller's own header lines, has one). */
static int head_common(struct http_conn *c, char *buf, size_t cap, int status,
                       const char *content_type, const char *extra)
{
	int n = snprintf(buf, cap, "HTTP/1.1 %d %s\r\nServer: wampd\r\n%s", status,
	                 http_status_text(status),
	                 has_header(extra, "cache-control")
	                 ? "" : "Cache-Control: no-store, no-cache, must-revalidate, max-age=0\r\n");

	if (content_type)
		n += snprintf(buf + n, cap - (size_t)n, "Content-Type: %s\r\n", content_type);
	if (c->origin[0]) /* allowed by the route (http_process): see http.h, CORS */
		n += snprintf(buf + n, cap - (size_t)n,
		              "Access-Control-Allow-Origin: %s\r\n"
		              "Access-Control-Allow-Credentials: true\r\nVary: Origin\r\n",
		              c->origin);
	return n;
}

/* The current request has its answer queued: drop its bytes and go on (now, when the
 * answer came from inside http_process; else from WRITEABLE). */
static void request_done(struct http_conn *c)
{
	c->answered = true;
	c->txn_answered = c->txn;
	c->gone = NULL;
	c->gone_ctx = NULL;
	if (!c->keep)
		http_close(c, false);
	else
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, HTTP_IDLE_S);
	lws_callback_on_writable(c->wsi);
}

#define HTTP_RESPONSE_HEAD_MAX 4096

/*
 * Queue the answer's head (with Content-Length clen, except on 204 and 304) and, unless
 * the request is HEAD or the status has no body, body[0..blen). false when it could not
 * be queued (the connection is then closing).
 */
static bool respond_head(struct http_conn *c, int status, const char *content_type,
                         uint64_t clen, const char *extra, const void *body, size_t blen)
{
	char head[HTTP_RESPONSE_HEAD_MAX], length[48] = "";
	bool no_body = status == 204 || status == 304;
	int n;

	if (!no_body)
		snprintf(length, sizeof(length), "Content-Length: %llu\r\n", (unsigned long long)clen);
	if (no_body || !strcmp(c->req.method, "HEAD"))
		blen = 0;
	n = head_common(c, head, sizeof(head), status, content_type, extra);
	if ((size_t)n < sizeof(head))
		n += snprintf(head + n, sizeof(head) - (size_t)n, "%s%sConnection: %s\r\n\r\n",
		              extra ? extra : "", length, c->keep ? "keep-alive" : "close");
	if ((size_t)n >= sizeof(head) || !queue_bytes(c, head, (size_t)n, body, blen)) {
		http_close(c, true);
		c->answered = true;
		return false;
	}
	wlog_debug("http", "%s %.*s -> %d peer=%s", c->req.method, (int)c->log_path_len,
	           c->req.path, status, c->conn.addr);
	return true;
}

void http_respond(struct http_conn *c, int status, const char *content_type, const void *body,
                  size_t len, const char *extra_headers)
{
	if (!c->busy || c->answered || c->streaming || c->body.read)
		return;
	if (respond_head(c, status, content_type, len, extra_headers, body, len))
		request_done(c);
}

static void body_end(struct http_conn *c)
{
	struct http_body b = c->body;

	memset(&c->body, 0, sizeof(c->body));
	c->body_left = 0;
	if (b.close)
		b.close(b.ctx);
}

void http_respond_body(struct http_conn *c, int status, const char *content_type, uint64_t len,
                       const char *extra_headers, const struct http_body *body)
{
	if (!c->busy || c->answered || c->streaming || c->body.read) {
		body->close(body->ctx);
		return;
	}
	if (!respond_head(c, status, content_type, len, extra_headers, NULL, 0)) {
		body->close(body->ctx);
		return;
	}
	if (!len || !strcmp(c->req.method, "HEAD") || status == 204 || status == 304) {
		body->close(body->ctx);
		request_done(c);
		return;
	}
	/* read from WRITEABLE (body_fill), one chunk each time the queue is empty; the
	 * request is done once the last chunk is queued */
	c->body = *body;
	c->body_left = len;
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, HTTP_IDLE_S);
	lws_callback_on_writable(c->wsi);
}

/* The next chunk of a response body into the (empty) queue. -1: close the connection. */
static int body_fill(struct http_conn *c)
{
	size_t n = c->body_left < HTTP_BODY_CHUNK ? (size_t)c->body_left : HTTP_BODY_CHUNK;
	struct wamp_out *o = wamp_out_new(n);
	long got = o ? c->body.read(c->body.ctx, wamp_out_data(o), n) : -1;
	bool ok;

	if (got <= 0 || (size_t)got > n) {
		wlog_info("http", "%s %.*s: the body could not be read to its end (%llu bytes "
		          "missing), closing peer=%s", c->req.method, (int)c->log_path_len,
		          c->req.path, (unsigned long long)c->body_left, c->conn.addr);
		wamp_out_unref(o);
		body_end(c);
		return -1;
	}
	o->len = (size_t)got;
	ok = outq_push(&c->conn.q, o, SIZE_MAX);
	wamp_out_unref(o);
	if (!ok) {
		body_end(c);
		return -1;
	}
	c->body_left -= (uint64_t)got;
	/* a client that stops reading is dropped after HTTP_IDLE_S without a WRITEABLE */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, HTTP_IDLE_S);
	if (!c->body_left) {
		body_end(c);
		request_done(c);
	}
	return 0;
}

/* lws' HTTP role reads nothing while a request is held: look at the socket instead */
#define HTTP_PROBE_US (1000 * LWS_US_PER_MS)
/* ... and while a write waits for the client to read (http_throttle): first after 1 ms,
 * then twice as long each time the socket is still full, up to 64 ms */
#define HTTP_THROTTLE_MIN_US (1 * LWS_US_PER_MS)
#define HTTP_THROTTLE_MAX_US (64 * LWS_US_PER_MS)

static bool socket_writable(struct lws *wsi)
{
	struct pollfd p = {.fd = lws_get_socket_fd(wsi), .events = POLLOUT};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLOUT | POLLHUP | POLLERR));
}

/*
 * lws' HTTP role, after a write with more to write: lws may keep a part of it
 * (lws_partial_buffered) or the socket may be full (the client does not read as fast).
 * lws 4.1.6 services a connection again at once, without waiting in poll, for as long as
 * it holds bytes of a next (pipelined) request and the transaction is open (see http.h):
 * with a large answer (a file) and a slow reader, a busy loop for as long as the download
 * takes. So until lws has written what it holds and the socket takes more, a timer looks
 * at the connection instead: while
 * the socket takes nothing, lws is told to read nothing (rx flow control, which takes the
 * connection off lws' busy list) and the looks back off (HTTP_THROTTLE_MIN_US doubling to
 * HTTP_THROTTLE_MAX_US); once it takes bytes, reading is allowed again, lws writes what it
 * holds (its own POLLOUT) and the looks are frequent again; once lws holds nothing and the
 * socket takes more, WRITEABLE is asked for and the queue, the body or the end of the
 * request go on from there. What is left of the busy loop is the time between the socket
 * draining and the next look (lws' own POLLOUT, which it does not service under rx flow
 * control), paid for by the client reading. Called by the timer too, which the end of the
 * connection cancels (throttle_stop: it would turn reading on again in lws' TLS close).
 */
static void http_throttle(struct http_conn *c)
{
	bool writable = socket_writable(c->wsi);

	if (writable && !lws_partial_buffered(c->wsi)) {
		c->throttled = false;
		lws_rx_flow_control(c->wsi, 1);
		lws_callback_on_writable(c->wsi);
		return;
	}
	if (!c->throttled || writable)
		c->throttle_us = HTTP_THROTTLE_MIN_US;
	else if (c->throttle_us < HTTP_THROTTLE_MAX_US)
		c->throttle_us *= 2;
	c->throttled = true;
	lws_rx_flow_control(c->wsi, writable ? 1 : 0);
	if (writable)
		lws_callback_on_writable(c->wsi); /* lws writes what it holds (not our WRITEABLE) */
	lws_set_timer_usecs(c->wsi, c->throttle_us);
}

void http_hold(struct http_conn *c, void (*gone)(void *ctx), void *ctx)
{
	c->gone = gone;
	c->gone_ctx = ctx;
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	if (c->lws_role)
		lws_set_timer_usecs(c->wsi, HTTP_PROBE_US);
}

bool http_stream_begin(struct http_conn *c, const char *content_type, const char *extra_headers,
                       void (*gone)(void *ctx), void *ctx)
{
	char head[HTTP_RESPONSE_HEAD_MAX];
	int n;

	if (!c->busy || c->answered || c->body.read)
		return false;
	n = head_common(c, head, sizeof(head), 200, content_type, extra_headers);
	n += snprintf(head + n, sizeof(head) - (size_t)n, "%sConnection: close\r\n\r\n",
	              extra_headers ? extra_headers : "");
	c->keep = false;
	if ((size_t)n >= sizeof(head) || !queue_bytes(c, head, (size_t)n, NULL, 0)) {
		http_close(c, true);
		return false;
	}
	c->streaming = true;
	c->gone = gone;
	c->gone_ctx = ctx;
	lws_set_timeout(c->wsi, NO_PENDING_TIMEOUT, 0);
	if (c->lws_role) {
		/* the request head is not needed any more: give lws' header table back */
		lws_http_headers_detach(c->wsi);
		lws_set_timer_usecs(c->wsi, HTTP_PROBE_US);
	}
	return true;
}

enum wampd_err http_stream_push(struct http_conn *c, struct wamp_out *chunk)
{
	return conn_send(&c->conn, chunk); /* bounded; a slow reader is closed (logged there) */
}

/* Answer a request the connection refuses by itself, and stop reading requests. */
static void refuse(struct http_conn *c, int status, const char *text)
{
	char body[256];
	int n = snprintf(body, sizeof(body), "{\"error\":\"wampd.http.%s\",\"args\":[\"%s\"],"
	                 "\"kwargs\":{}}", status == 413 ? "body_too_large"
	                                   : status == 404 ? "not_found"
	                                   : status == 405 ? "method_not_allowed"
	                                   : "bad_request", text);

	c->busy = true;
	c->answered = false;
	c->keep = false;
	http_respond_json_text(c, status, body, (size_t)n, NULL);
}

/*
 * OPTIONS: a CORS preflight from an allowed origin is answered with the methods and the
 * fixed list of request headers the services read (the body's type, credentials, the
 * event stream's resume point; signed requests carry their signature in the query), not
 * with what Access-Control-Request-Headers asked for. Any other OPTIONS gets only Allow:
 * a browser then refuses the cross-origin request.
 */
static void cors_preflight(struct http_conn *c)
{
	http_respond(c, 204, NULL, NULL, 0,
	             c->origin[0] ? "Allow: GET, POST, OPTIONS\r\n"
	                            "Access-Control-Allow-Methods: GET, POST, OPTIONS\r\n"
	                            "Access-Control-Allow-Headers: Content-Type, Authorization, "
	                            "Last-Event-ID\r\nAccess-Control-Max-Age: 86400\r\n"
	                          : "Allow: GET, POST, OPTIONS\r\n");
}

/* Serve what is buffered: requests one after the other while each is answered at once. */
static void http_process(struct http_conn *c)
{
	c->in_process = true;
	while (!c->busy && !c->conn.closing && c->in_len) {
		struct http_request *req = &c->req;
		enum http_parse_result r;
		const struct http_route *route;
		const char *rest;
		size_t head_len = 0, rest_len = 0, body_len, ol = 0;
		const char *origin;

		c->origin[0] = '\0'; /* no CORS for this request unless its route allows it */
		r = http_parse_head((const char *)c->in, c->in_len, req, &head_len);
		c->log_path_len = req->path_len;
		if (r == HTTP_PARSE_INCOMPLETE) {
			if (c->in_len > FRONT_HEAD_MAX)
				refuse(c, 431, "request head too large");
			break;
		}
		if (r != HTTP_PARSE_OK) {
			refuse(c, r == HTTP_PARSE_TOO_MANY_HEADERS ? 431 : 400,
			       r == HTTP_PARSE_BAD_LENGTH ? "malformed Content-Length"
			                                  : "malformed request head");
			break;
		}
		route = http_route_find(c->routes, req->path, req->path_len, &rest, &rest_len);
		if (route && route->rest_secret)
			c->log_path_len = req->path_len - rest_len;
		if (!route) {
			refuse(c, 404, "no service at this path");
			break;
		}
		if ((origin = http_header_get(req, "origin", &ol))) {
			if (http_origin_allowed(route->origins, origin, ol)) {
				memcpy(c->origin, origin, ol); /* ol <= HTTP_ORIGIN_MAX */
				c->origin[ol] = '\0';
			} else {
				wlog_debug("http", "%s %.*s: origin not allowed (no CORS headers) peer=%s",
				           req->method, (int)req->path_len, req->path, c->conn.addr);
			}
		}
		if (req->chunked) {
			refuse(c, 411, "chunked request bodies are not accepted: send Content-Length");
			break;
		}
		body_len = req->content_length > 0 ? (size_t)req->content_length : 0;
		if (body_len > route->max_body) {
			char why[96];

			snprintf(why, sizeof(why), "request body of %zu bytes exceeds the limit of %zu",
			         body_len, route->max_body);
			wlog_info("http", "%s %.*s: %s peer=%s", req->method, (int)c->log_path_len,
			          req->path, why, c->conn.addr);
			c->drain = body_len - (c->in_len - head_len < body_len ? c->in_len - head_len
			                                                       : body_len);
			if (c->drain > HTTP_DRAIN_MAX)
				c->drain = 0; /* not worth reading: hang up after the answer */
			c->in_len = 0;
			refuse(c, 413, why);
			break;
		}
		if (c->in_len - head_len < body_len) {
			if (req->expect_continue && !c->continued) {
				static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";

				c->continued = true;
				if (!queue_bytes(c, cont, sizeof(cont) - 1, NULL, 0))
					http_close(c, true);
			}
			break;
		}
		req->body = c->in + head_len;
		req->body_len = body_len;
		c->req_bytes = head_len + body_len;
		c->busy = true;
		c->answered = false;
		c->keep = req->keep_alive && !c->conn.rt->shutting_down && !c->no_keep;
		c->conn.rt->stats.msgs_in++;
		lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, (int)c->conn.rt->cfg.hello_timeout_s);
		if (!strcmp(req->method, "OPTIONS"))
			cors_preflight(c);
		else
			route->handle(route, c, req, rest, rest_len);
		if (c->busy && c->answered && !c->streaming) {
			/* answered at once: drop the request and look at the next one */
			memmove(c->in, c->in + c->req_bytes, c->in_len - c->req_bytes);
			c->in_len -= c->req_bytes;
			c->req_bytes = 0;
			c->busy = false;
			c->continued = false;
		}
	}
	c->in_process = false;
}

int http_conn_receive(struct http_conn *c, const uint8_t *in, size_t len)
{
	size_t limit = FRONT_HEAD_MAX;

	if (c->drain) {
		size_t k = len < c->drain ? len : c->drain;

		c->drain -= k;
		if (!c->drain && c->conn.closing && !c->conn.q.count) {
			if (!c->lws_role)
				return -1;
			/* the end comes from WRITEABLE (http_end), once lws holds nothing */
			lws_callback_on_writable(c->wsi);
		}
		return 0;
	}
	if (c->conn.closing || c->streaming)
		return 0; /* nothing more is read from a closing or streaming connection */
	/* a request head plus the largest body any route accepts, pipelined requests included */
	for (size_t i = 0; i < c->routes->n; i++)
		if (c->routes->v[i].max_body + FRONT_HEAD_MAX > limit)
			limit = c->routes->v[i].max_body + FRONT_HEAD_MAX;
	if (c->in_len + len > limit) {
		if (c->busy) {
			wlog_info("http", "too many pipelined bytes, closing peer=%s", c->conn.addr);
			return http_fail(c);
		}
		/* the head did not parse within the limit, or a body beyond it: process()
		 * answers from what is buffered */
		len = limit - c->in_len;
	}
	if (c->in_len + len > c->in_cap) {
		size_t ncap = c->in_cap ? c->in_cap : 1024;
		uint8_t *n;

		while (ncap < c->in_len + len)
			ncap *= 2;
		if (!(n = realloc(c->in, ncap)))
			return http_fail(c);
		c->in = n;
		c->in_cap = ncap;
	}
	memcpy(c->in + c->in_len, in, len);
	c->in_len += len;
	if (!c->busy)
		http_process(c);
	return 0;
}

int http_conn_writeable(struct http_conn *c)
{
	struct wamp_out *out;

	if (!c->lws_role) /* lws holds nothing now: reading is on */
		lwsconn_raw_wrote(c->wsi, &c->rx_off);
	if (!c->conn.q.count && c->body.read && !c->conn.closing && body_fill(c) < 0)
		return http_fail(c);
	out = outq_peek(&c->conn.q);

	if (out) {
		int n = lws_write(c->wsi, wamp_out_data(out), out->len,
		                  c->lws_role ? LWS_WRITE_HTTP : LWS_WRITE_RAW);

		if (!c->lws_role) /* off while lws holds a rest of it */
			lwsconn_raw_wrote(c->wsi, &c->rx_off);
		conn_pop(&c->conn);
		if (n < 0)
			return http_fail(c);
	}
	if (c->lws_role && (lws_partial_buffered(c->wsi) || c->conn.q.count ||
	                    (c->body.read && !c->conn.closing))) {
		/* WRITEABLE comes again once lws has written what it holds and the socket
		 * takes more */
		http_throttle(c);
		return 0;
	}
	if (c->conn.q.count || (c->body.read && !c->conn.closing)) {
		/* more queued, or the next chunk of a body to read (body_fill) */
		lws_callback_on_writable(c->wsi);
		return 0;
	}
	if (c->conn.closing) /* everything is written: the end, after the unwanted body */
		return c->drain ? 0 : http_end(c);
	if (c->busy && c->answered && !c->streaming && !c->in_process) {
		/* a response given later: its request's bytes go now, then the next request */
		memmove(c->in, c->in + c->req_bytes, c->in_len - c->req_bytes);
		c->in_len -= c->req_bytes;
		c->req_bytes = 0;
		c->busy = false;
		c->continued = false;
		http_process(c);
		if (c->conn.q.count)
			lws_callback_on_writable(c->wsi);
	}
	if (c->txn && c->txn_answered && !c->busy && !c->conn.q.count) {
		/* lws' HTTP role: the answer is out, lws takes the connection back for the next
		 * request (keep-alive; 1: it closes it) */
		c->txn = c->txn_answered = false;
		c->continued = false;
		if (c->pipelined)
			return http_end(c); /* see lws_completed() */
		return lws_http_transaction_completed(c->wsi) ? http_end(c) : 0;
	}
	return 0;
}

void http_conn_closed(struct http_conn *c)
{
	void (*gone)(void *) = c->gone;

	c->gone = NULL;
	c->conn.closing = true;
	if (gone)
		gone(c->gone_ctx);
	body_end(c);
	conn_release(&c->conn);
	free(c->in);
	free(c);
}

/* ------------------------------------------------------------------------------------ */
/* lws' HTTP role (TLS listeners): lws parses, the same reader serves (see http.h)        */

static const struct {
	enum lws_token_indexes tok;
	const char *name;
} lws_methods[] = {
	{WSI_TOKEN_GET_URI, "GET"},       {WSI_TOKEN_POST_URI, "POST"},
	{WSI_TOKEN_OPTIONS_URI, "OPTIONS"}, {WSI_TOKEN_PUT_URI, "PUT"},
	{WSI_TOKEN_PATCH_URI, "PATCH"},   {WSI_TOKEN_DELETE_URI, "DELETE"},
	{WSI_TOKEN_HEAD_URI, "HEAD"},
};

/* Append s[0..n) to buf at *o, percent-encoding every byte that is neither unreserved
 * (RFC 3986) nor in keep. false when it does not fit. */
static bool put_pct(char *buf, size_t cap, size_t *o, const char *s, size_t n, const char *keep)
{
	static const char hex[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		             (ch >= '0' && ch <= '9') || (ch && strchr("-._~", ch)) ||
		             (ch && strchr(keep, ch));

		if (*o + 4 > cap)
			return false;
		if (plain) {
			buf[(*o)++] = (char)ch;
		} else {
			buf[(*o)++] = '%';
			buf[(*o)++] = hex[ch >> 4];
			buf[(*o)++] = hex[ch & 15];
		}
	}
	return true;
}

static bool put(char *buf, size_t cap, size_t *o, const char *s, size_t n)
{
	if (*o + n + 1 > cap)
		return false;
	memcpy(buf + *o, s, n);
	*o += n;
	return true;
}

static bool put_header(char *buf, size_t cap, size_t *o, const char *name, size_t nl,
                       const char *value, size_t vl)
{
	return put(buf, cap, o, name, nl) && put(buf, cap, o, ": ", 2) &&
	       put(buf, cap, o, value, vl) && put(buf, cap, o, "\r\n", 2);
}

/*
 * The request lws parsed, written back as an HTTP/1.1 head into buf: the method, the path
 * and query (lws decoded them: encoded again, pair by pair), the version, every header lws
 * stores by name and those of route->headers it stored as custom headers. scratch has cap
 * bytes too. Returns the head's length; 0 if it does not fit.
 */
static size_t lws_head(struct lws *wsi, const struct http_route *route, char *buf,
                       char *scratch, size_t cap)
{
	size_t o = 0;
	int k = -1;

	for (size_t i = 0; i < sizeof(lws_methods) / sizeof(lws_methods[0]); i++)
		if (lws_hdr_total_length(wsi, lws_methods[i].tok)) {
			k = (int)i;
			break;
		}
	if (k < 0 || lws_hdr_copy(wsi, scratch, (int)cap, lws_methods[k].tok) < 0 ||
	    !put(buf, cap, &o, lws_methods[k].name, strlen(lws_methods[k].name)) ||
	    !put(buf, cap, &o, " ", 1) ||
	    !put_pct(buf, cap, &o, scratch, strlen(scratch), "/!$&'()*+,;=:@"))
		return 0;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_URI_ARGS)) {
		int n;

		for (int i = 0; (n = lws_hdr_copy_fragment(wsi, scratch, (int)cap,
		                                           WSI_TOKEN_HTTP_URI_ARGS, i)) >= 0; i++) {
			const char *eq = memchr(scratch, '=', (size_t)n);
			size_t kl = eq ? (size_t)(eq - scratch) : (size_t)n;

			if (!put(buf, cap, &o, i ? "&" : "?", 1) ||
			    !put_pct(buf, cap, &o, scratch, kl, "") ||
			    (eq && (!put(buf, cap, &o, "=", 1) ||
			            !put_pct(buf, cap, &o, eq + 1, (size_t)n - kl - 1, ""))))
				return 0;
		}
	}
	if (lws_hdr_copy(wsi, scratch, (int)cap, WSI_TOKEN_HTTP) < 0)
		return 0;
	if (!put(buf, cap, &o, " ", 1) ||
	    !put(buf, cap, &o, strncmp(scratch, "HTTP/1.1", 8) ? "HTTP/1.0\r\n" : "HTTP/1.1\r\n", 10))
		return 0;
	for (int t = 0; t < (int)_WSI_TOKEN_CLIENT_SENT_PROTOCOLS; t++) {
		const char *name = (const char *)lws_token_to_string((enum lws_token_indexes)t);
		size_t nl = name ? strlen(name) : 0;
		int vl;

		/* headers only ("name:"): not the methods, the version, the query or h2's
		 * pseudo-headers */
		if (nl < 2 || name[nl - 1] != ':' || name[0] == ':' ||
		    !lws_hdr_total_length(wsi, (enum lws_token_indexes)t))
			continue;
		if ((vl = lws_hdr_copy(wsi, scratch, (int)cap, (enum lws_token_indexes)t)) < 0 ||
		    !put_header(buf, cap, &o, name, nl - 1, scratch, (size_t)vl))
			return 0;
	}
	for (size_t i = 0; route && route->headers && route->headers[i]; i++) {
		char name[128];
		int nl = snprintf(name, sizeof(name), "%s:", route->headers[i]), vl;

		if (nl >= (int)sizeof(name) || lws_hdr_custom_length(wsi, name, nl) < 0)
			continue;
		if ((vl = lws_hdr_custom_copy(wsi, scratch, (int)cap, name, nl)) < 0 ||
		    !put_header(buf, cap, &o, name, (size_t)nl - 1, scratch, (size_t)vl))
			return 0;
	}
	return put(buf, cap, &o, "\r\n", 2) ? o : 0;
}

/*
 * LWS_CALLBACK_HTTP_BODY_COMPLETION. lws 4.1.6 calls it again on every service of the
 * connection while it holds bytes of a next (pipelined) request: a busy loop for as long
 * as the answer takes (a held call, a long-poll receive; see http.h). So the second call
 * is taken as "the client pipelines": an answer already queued is written and the
 * connection closed after it, as always on this role; a request still held is given up
 * at once (its `gone` runs: a call is canceled, a long-poll receive ends) and answered 503
 * with the reason. The client sends what it pipelined again on a new connection, as
 * RFC 9112 9.3.2 expects of a pipelining client.
 */
static void lws_completed(struct http_conn *c)
{
	void (*gone)(void *ctx) = c->gone;
	void *ctx = c->gone_ctx;

	if (!c->body_done) {
		c->body_done = true;
		return;
	}
	if (c->pipelined)
		return;
	c->pipelined = true;
	c->keep = false;
	wlog_info("http", "pipelined request on a TLS listener: answering this one and closing "
	          "peer=%s", c->conn.addr);
	if (c->answered)
		return;
	c->gone = NULL;
	c->gone_ctx = NULL;
	if (gone)
		gone(ctx);
	http_respond_error(c, 503, "wamp.error.canceled",
	                   "pipelined requests are not served on TLS listeners; send the next "
	                   "request once this one is answered, or on another connection");
}

/* POLLRDHUP: the client shut its side down (or the connection broke). */
static bool lws_peer_gone(struct lws *wsi)
{
	struct pollfd p = {.fd = lws_get_socket_fd(wsi), .events = POLLRDHUP};

	return poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static void lws_conn_gone(struct lws *wsi)
{
	struct http_conn *c = lws_get_opaque_user_data(wsi);

	if (!c)
		return;
	lws_set_opaque_user_data(wsi, NULL);
	if (c->ipl)
		iplimit_conn_close(c->ipl, c->ip);
	http_conn_closed(c);
}

/* LWS_CALLBACK_HTTP: *mine false for a path without a route on a fresh connection. */
static int lws_request(const struct http_routes *rs, struct iplimit *ipl, struct lws *wsi,
                       const char *uri, size_t uri_len, bool *mine)
{
	struct http_conn *c = lws_get_opaque_user_data(wsi);
	const struct http_route *route;
	const char *rest;
	size_t rest_len, n = 0;
	char *head, *scratch;
	int rc;

	route = http_route_find(rs, uri, uri_len, &rest, &rest_len);
	*mine = c || route;
	if (!*mine)
		return 0;
	if (!c) {
		char ip[IPLIMIT_ADDR_MAX], addr[IPLIMIT_ADDR_MAX + 8];
		int port;

		iplimit_fd_peer(lws_get_socket_fd(wsi), ip, &port);
		if (ipl && !iplimit_conn_open(ipl, ip)) {
			wlog_warn("http", "refusing connection peer=%s:%d: max_sessions_per_ip=%u "
			          "reached", ip, port, ipl->max_conns);
			lws_return_http_status(wsi, 429, "too many connections from this address");
			return -1;
		}
		snprintf(addr, sizeof(addr), "%s:%d", ip, port);
		if (!(c = http_conn_new(rs, wsi, addr))) {
			if (ipl)
				iplimit_conn_close(ipl, ip);
			return -1;
		}
		c->lws_role = true;
		c->ipl = ipl;
		snprintf(c->ip, sizeof(c->ip), "%s", ip);
		lws_set_opaque_user_data(wsi, c);
	}
	if (c->txn || c->conn.closing)
		return http_fail(c); /* not expected: lws reads nothing while a request is served */
	c->txn = true;
	c->txn_answered = false;
	c->body_done = false;
	c->no_keep = true; /* one request per connection on lws' HTTP role: see http.h */
	head = malloc(FRONT_HEAD_MAX);
	scratch = malloc(FRONT_HEAD_MAX);
	if (head && scratch)
		n = lws_head(wsi, route, head, scratch, FRONT_HEAD_MAX);
	free(scratch);
	if (!head) {
		rc = http_fail(c);
	} else if (!n) {
		refuse(c, 431, "request head too large");
		rc = 0;
	} else {
		rc = http_conn_receive(c, (const uint8_t *)head, n);
	}
	free(head);
	return rc;
}

bool http_lws_serve(const struct http_routes *rs, struct iplimit *ipl, struct lws *wsi,
                    enum lws_callback_reasons reason, void *in, size_t len, int *ret)
{
	struct http_conn *c = lws_get_opaque_user_data(wsi);
	bool mine = true;

	*ret = 0;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		*ret = lws_request(rs, ipl, wsi, in, len, &mine);
		return mine;
	case LWS_CALLBACK_HTTP_BODY:
		if (!c)
			return false;
		if (len)
			*ret = http_conn_receive(c, in, len);
		return true;
	case LWS_CALLBACK_HTTP_BODY_COMPLETION:
		if (!c)
			return false;
		lws_completed(c);
		return true;
	case LWS_CALLBACK_HTTP_WRITEABLE:
		if (!c)
			return false;
		*ret = http_conn_writeable(c);
		return true;
	case LWS_CALLBACK_TIMER:
		if (!c)
			return false;
		if (c->throttled) {
			http_throttle(c);
			return true;
		}
		if (c->txn && c->gone && !c->conn.closing) {
			if (lws_peer_gone(wsi)) {
				wlog_debug("http", "client gone peer=%s", c->conn.addr);
				*ret = http_fail(c);
				return true;
			}
			lws_set_timer_usecs(wsi, HTTP_PROBE_US);
		}
		return true;
	case LWS_CALLBACK_CLOSED_HTTP:
		if (!c)
			return false;
		lws_conn_gone(wsi);
		return true;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* a kept-alive HTTP connection becomes a WebSocket: it is no http_conn any more */
		lws_conn_gone(wsi);
		return false;
	default:
		return false;
	}
}

void http_lws_destroyed(struct lws *wsi)
{
	lws_conn_gone(wsi);
}
