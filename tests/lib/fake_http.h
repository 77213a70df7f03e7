/*
 * fake_http.h - a fake of the connection side of router/http/httpapi.h, for unit tests of
 * the HTTP services (bridge, SSE, long-poll) without sockets or libwebsockets, as
 * fake_peer.h is for realm/.
 *
 * It defines the functions router/net/http.c defines for the handlers (http_respond,
 * http_hold, http_stream_begin, http_stream_push, http_close, http_conn_address,
 * http_conn_router, http_conn_tls_cn, http_conn_tls_cert, http_queued_bytes), so a test
 * binary that also pulled net/http.c in would fail to link (multiple definitions): the
 * services' tests cannot reach libwebsockets by accident. Routing and the JSON answers
 * (http_respond_json, http_respond_error) are the real ones, router/http/httpapi.c's.
 *
 * A fake connection is what the real one is to the services: a struct conn of the
 * connection core (registered, so the shutdown and the queue statistics see it) whose
 * handler answers at once, holds the request, or turns it into a stream. It records:
 *   - every answer (status, Content-Type, extra header lines, body), in order;
 *   - whether the current request is held and its `gone` callback;
 *   - stream chunks, queued through conn_send exactly as http_stream_push does, so the
 *     queue is bounded by limits.send_queue_bytes and a reader that does not read is
 *     closed as a slow consumer by the core; fake_http_read() is the client reading;
 *   - close requests (http_close, or the core's) with their `now`;
 *   - answers given when no request was waiting (ignored, as the real connection does).
 * Nothing is written anywhere: the test inspects the fields and calls fake_http_drop()
 * when the client goes away (or the close completes), which runs `gone` as the real
 * connection's close does.
 *
 * Requests enter through fake_http_request(): the head is built as text and parsed with
 * http_parse_head, routed with http_route_find, and the route's handler runs, so a handler
 * sees what it sees behind the real connection. What the connection answers by itself
 * (404 without a route, 413 beyond the route's max_body, OPTIONS, chunked bodies) never
 * reaches a handler and is not faked: driving such a request fails the test.
 */
#ifndef WAMPD_TESTS_FAKE_HTTP_H
#define WAMPD_TESTS_FAKE_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "router/core/conn.h"
#include "router/http/httpapi.h"

#define FAKE_HTTP_ANSWERS 8

/* One answer: a response, or the head of a stream (stream: true, body empty). */
struct fake_http_answer {
	int status;
	char *content_type;  /* NULL: none */
	char *headers;       /* extra header lines as given ("Allow: GET\r\n"), or NULL */
	char *body;          /* NUL-terminated copy of the body (len bytes before the NUL) */
	size_t len;
	bool stream;
};

struct http_conn {
	struct conn conn;             /* the core's: first, as in router/net/http.c */
	/* the request being served */
	char *head;                   /* its head's text (the request points into it) */
	char *body;                   /* its body (owned) */
	struct http_request req;
	bool busy;                    /* a request waits for its answer */
	bool held;                    /* ... and the handler held it (http_hold) */
	bool streaming;               /* http_stream_begin answered it */
	void (*gone)(void *ctx);      /* what runs when the connection goes */
	void *gone_ctx;
	/* what the handlers did */
	struct fake_http_answer answers[FAKE_HTTP_ANSWERS];
	size_t nanswers;
	size_t ignored;               /* answers given with no request waiting */
	size_t pushes;                /* http_stream_push calls (accepted or not) */
	char *stream;                 /* the stream's bytes read so far (NUL-terminated) */
	size_t stream_len;
	bool closed;                  /* a close was asked for (http_close or the core) */
	bool close_now;               /* ... at once (a slow consumer, or http_close(c, true)) */
	/* set by the test */
	char *tls_cn;                 /* what http_conn_tls_cn returns a copy of (NULL: none) */
	json_t *tls_cert;             /* what http_conn_tls_cert returns a copy of (NULL: none;
	                                 the test keeps its reference) */
	bool refuse_stream;           /* http_stream_begin fails (as on allocation failure) */
	struct http_conn *next;       /* every live fake connection */
};

/* A new connection of rt from client address addr (copied; NULL: "127.0.0.1:40000"). */
struct http_conn *fake_http_new(struct router *rt, const char *addr);

/*
 * Serve one request on c (which must not be serving one): "method target HTTP/1.1" with
 * the header lines `headers` (each ending in "\r\n", or NULL) and the body (len bytes;
 * a Content-Length is added when len > 0), routed in rs. The handler runs before this
 * returns. Fails the test if there is no route, the body exceeds the route's max_body or
 * the head does not parse (the connection answers those itself).
 */
void fake_http_request(struct http_conn *c, const struct http_routes *rs, const char *method,
                       const char *target, const char *headers, const void *body, size_t len);

/* The last answer c gave; fails the test if it gave none. */
const struct fake_http_answer *fake_http_last(const struct http_conn *c);

/* The last answer's body as JSON (a new reference); fails the test if it is not JSON. */
json_t *fake_http_json(const struct http_conn *c);

/* The last answer is status with a JSON body whose "error" is uri (NULL: any); fails the
 * test otherwise, naming what came. */
void fake_http_expect_error(const struct http_conn *c, int status, const char *uri);

/* The client reads: what is queued on the stream is appended to c->stream and leaves the
 * queue. Returns the bytes read. */
size_t fake_http_read(struct http_conn *c);

/* The connection is gone (the client left, or a close completed): `gone` runs, as the
 * real connection's close runs it, and c is freed. */
void fake_http_drop(struct http_conn *c);

/* Drop every fake connection still open (a fixture's teardown). */
void fake_http_drop_all(void);

/* Fake connections open. */
size_t fake_http_count(void);

#endif
