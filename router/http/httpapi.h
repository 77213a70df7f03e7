/*
 * httpapi.h - the HTTP services' side of an HTTP connection: routes, and how a handler
 * answers a request (at once, held, or as a stream). No libwebsockets here: the services
 * (bridge, SSE, long-poll) compile and are tested without it (tests/lib/fake_http.c); the
 * connection itself lives in router/net/http.c (router/net/http.h, its glue to the front door and
 * to lws' HTTP role).
 *
 * A handler answers at once (http_respond*; a file with http_respond_body, which reads it
 * chunk by chunk as it is written), or later: http_hold() keeps the request open
 * (a call waiting for its result, a long-poll receive) and http_stream_begin() turns the
 * response into an open-ended stream (Server-Sent Events). Either way the handler learns
 * through its `gone` callback if the connection goes first, and must forget c then.
 */
#ifndef WAMPD_ROUTER_HTTPAPI_H
#define WAMPD_ROUTER_HTTPAPI_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "router/http/httpreq.h"
#include "serializers/wamp_out.h"

struct router;
struct http_conn;
struct http_route;

/*
 * A request for route: req (borrowed, valid until the response is given) with its body;
 * rest is the path after the route's own (for prefix routes, e.g. "/abc/send"). The
 * handler must answer exactly once (now or after http_hold) or start a stream.
 */
typedef void (*http_handler_fn)(const struct http_route *route, struct http_conn *c,
                                const struct http_request *req, const char *rest,
                                size_t rest_len);

struct http_route {
	const char *path;        /* "/publish"; a prefix route also matches "/path/..." */
	bool prefix;
	bool rest_secret;        /* the path after ours carries a credential (a long-poll
	                          * token): logs show our path only */
	size_t max_body;         /* request bodies beyond this get 413 */
	http_handler_fn handle;
	void *ctx;               /* the service (borrowed) */
	/* header names (lower case, NULL-terminated; borrowed) the handler reads beyond those
	 * lws knows by name (Authorization, Content-Type, Origin, ...): on a TLS listener
	 * only these and lws' own reach the request. NULL: none. */
	const char *const *headers;
	/* Origin patterns (http_origin_allowed; borrowed from the configuration) whose
	 * browsers may read this route's responses (CORS). NULL or empty: none. */
	char *const *origins;
};

/* A listener's routes (the front door's). */
struct http_routes {
	struct http_route *v;
	size_t n;
	struct router *rt;
};

/* The route for path[0..len): exact routes first, then the longest prefix; *rest set to
 * what follows the route's path. NULL if none. (httpapi.c: pure.) */
const struct http_route *http_route_find(const struct http_routes *rs, const char *path,
                                         size_t len, const char **rest, size_t *rest_len);

/* ---- the handlers' side ------------------------------------------------------------- */
/* Implemented by the connection: router/net/http.c in wampd, tests/lib/fake_http.c in the
 * services' unit tests (which defines the same symbols, so the two cannot be linked
 * together); http_respond_json and http_respond_error are httpapi.c's, on http_respond. */

/* "ip:port" of the client; never NULL. */
const char *http_conn_address(const struct http_conn *c);
struct router *http_conn_router(const struct http_conn *c);

/*
 * The common name of the client certificate the connection presented, when it is a TLS
 * connection and OpenSSL verified the certificate against the listener's CA: a malloc'd
 * string the caller owns. NULL otherwise (plain HTTP, no certificate, allocation failure).
 */
char *http_conn_tls_cn(const struct http_conn *c);

/*
 * The facts of that verified client certificate as dynamic authenticators see them
 * (details.transport.client_cert, router/net/tlspeer.h): a new object the caller owns. NULL
 * otherwise (plain HTTP, no verified certificate, allocation failure).
 */
json_t *http_conn_tls_cert(const struct http_conn *c);

/*
 * Answer the current request: status, a Content-Type (NULL: none), the body (copied) and
 * extra header lines (each ending in "\r\n", or NULL). Ignored when there is no request
 * waiting for an answer. For every answer (here and below): a HEAD request gets the
 * headers (Content-Length included) without the body; a 204 or 304 answer has neither
 * body nor Content-Length (RFC 9110 8.6); every answer carries "Cache-Control: no-store,
 * ..." unless extra_headers has a Cache-Control line of its own.
 */
void http_respond(struct http_conn *c, int status, const char *content_type, const void *body,
                  size_t len, const char *extra_headers);

/* The bytes of a response body the connection asks for one chunk at a time (read from a
 * file while it is written: http_respond_body). */
#define HTTP_BODY_CHUNK (64u << 10)
struct http_body {
	/* the next bytes of the body into buf[0..cap) (cap <= HTTP_BODY_CHUNK): how many
	 * (1..cap), or 0 / negative when none can be read (the file shrank, an I/O error):
	 * the connection is then closed, the client sees a short body */
	long (*read)(void *ctx, void *buf, size_t cap);
	void (*close)(void *ctx); /* runs exactly once, whatever happens */
	void *ctx;
};

/*
 * Answer the current request with status, headers and a body of exactly len bytes that
 * body->read produces: the head is queued now, then one chunk of at most HTTP_BODY_CHUNK
 * bytes is read each time the previous one has been written, so a large file is never
 * held in memory and a client that stops reading holds one chunk. A client that reads
 * nothing for HTTP_IDLE_S seconds is dropped. body is taken over in every case: its close
 * runs once the last byte is queued, at once for HEAD, an empty body or when the answer
 * cannot be given, or when the connection goes first.
 */
void http_respond_body(struct http_conn *c, int status, const char *content_type, uint64_t len,
                       const char *extra_headers, const struct http_body *body);

/* Answer with a JSON body (the reference is stolen). */
void http_respond_json(struct http_conn *c, int status, json_t *body);

/* Answer with the JSON text body[0..len) (copied), Content-Type the JSON serializer's
 * (serializer.h), and extra header lines as http_respond's. */
void http_respond_json_text(struct http_conn *c, int status, const char *body, size_t len,
                            const char *extra_headers);

/* Answer with {"error": uri, "args": [message], "kwargs": {}} (Crossbar's error shape). */
void http_respond_error(struct http_conn *c, int status, const char *uri, const char *message);

/* Keep the current request open: the handler answers later; gone(ctx) runs instead if the
 * connection closes first. */
void http_hold(struct http_conn *c, void (*gone)(void *ctx), void *ctx);

/*
 * Answer the current request with 200 and an open-ended body of the given Content-Type
 * (no Content-Length; the connection closes when the stream ends). gone(ctx) runs when the
 * connection goes. false on allocation failure (the connection is then closing).
 */
bool http_stream_begin(struct http_conn *c, const char *content_type, const char *extra_headers,
                       void (*gone)(void *ctx), void *ctx);

/*
 * Queue a chunk of a stream (a new reference is taken). The queue is bounded by
 * limits.send_queue_bytes: over it, the connection is closed (slow consumer) and
 * WAMPD_ERR_LIMIT returned; gone() then runs later, from the close.
 */
enum wampd_err http_stream_push(struct http_conn *c, struct wamp_out *chunk);

/* Bytes queued and not yet written. */
size_t http_queued_bytes(const struct http_conn *c);

/* Close the connection once what is queued is written (now: at once). */
void http_close(struct http_conn *c, bool now);

#endif
