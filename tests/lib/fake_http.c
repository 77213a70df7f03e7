/*
 * fake_http.c - see fake_http.h. Each fake connection is a struct conn of the connection
 * core (as router/net/http.c's are), kept in a list so a teardown can drop what a test
 * left open. The request's head and body are kept in buffers of their exact size (the body
 * not NUL-terminated, as behind the real connection), so a handler that reads past them is
 * caught by ASan.
 */
#include "fake_http.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "router/core/outq.h"

static struct http_conn *conns;

static char *dup_or_null(const char *s)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	assert_non_null(d);
	return d;
}

/* conn_ops.close (c->conn.closing is set): recorded; fake_http_drop() is the close done */
static void fake_close(struct conn *cc, int code, const char *reason, bool now)
{
	struct http_conn *c = (struct http_conn *)cc;

	(void)code, (void)reason;
	c->closed = true;
	c->close_now = c->close_now || now;
}

static const struct conn_ops fake_http_ops = {
	.kind = "http",
	.close = fake_close,
	.keep_on_shutdown = true, /* as the real one: the services' shutdown answers */
};

struct http_conn *fake_http_new(struct router *rt, const char *addr)
{
	struct http_conn *c = calloc(1, sizeof(*c));

	assert_non_null(c);
	c->conn.ops = &fake_http_ops;
	c->conn.rt = rt;
	snprintf(c->conn.addr, sizeof(c->conn.addr), "%s", addr ? addr : "127.0.0.1:40000");
	conn_open(&c->conn);
	c->next = conns;
	conns = c;
	return c;
}

static void answer_clear(struct fake_http_answer *a)
{
	free(a->content_type);
	free(a->headers);
	free(a->body);
	memset(a, 0, sizeof(*a));
}

static struct fake_http_answer *answer_add(struct http_conn *c, int status,
                                           const char *content_type, const char *headers,
                                           const void *body, size_t len)
{
	struct fake_http_answer *a;

	if (c->nanswers == FAKE_HTTP_ANSWERS)
		fail_msg("more than %d answers on one fake connection", FAKE_HTTP_ANSWERS);
	a = &c->answers[c->nanswers++];
	a->status = status;
	a->content_type = dup_or_null(content_type);
	a->headers = dup_or_null(headers);
	a->body = malloc(len + 1);
	assert_non_null(a->body);
	if (len)
		memcpy(a->body, body, len);
	a->body[len] = '\0';
	a->len = len;
	return a;
}

void fake_http_request(struct http_conn *c, const struct http_routes *rs, const char *method,
                       const char *target, const char *headers, const void *body, size_t len)
{
	const struct http_route *route;
	const char *rest = NULL;
	size_t rest_len = 0, head_len = 0, n;
	char clen[48] = "";

	if (c->busy)
		fail_msg("fake connection: a request is still being served");
	free(c->head);
	free(c->body);
	c->body = NULL;
	if (len)
		snprintf(clen, sizeof(clen), "Content-Length: %zu\r\n", len);
	n = strlen(method) + strlen(target) + (headers ? strlen(headers) : 0) + strlen(clen) + 64;
	c->head = malloc(n);
	assert_non_null(c->head);
	n = (size_t)snprintf(c->head, n, "%s %s HTTP/1.1\r\nHost: wampd.test\r\n%s%s\r\n", method,
	                     target, headers ? headers : "", clen);
	if (http_parse_head(c->head, n, &c->req, &head_len) != HTTP_PARSE_OK || head_len != n)
		fail_msg("fake request does not parse: %s", c->head);
	route = http_route_find(rs, c->req.path, c->req.path_len, &rest, &rest_len);
	if (!route)
		fail_msg("no route for %s (the connection answers 404 itself)", target);
	if (len > route->max_body)
		fail_msg("%zu bytes to %s: over its max_body %zu (the connection answers 413 itself)",
		         len, target, route->max_body);
	if (!strcmp(method, "OPTIONS"))
		fail_msg("OPTIONS is answered by the connection");
	if (len) {
		c->body = malloc(len); /* exactly: not NUL-terminated, as behind the connection */
		assert_non_null(c->body);
		memcpy(c->body, body, len);
	}
	c->req.body = (const uint8_t *)c->body;
	c->req.body_len = len;
	c->busy = true;
	c->held = false;
	route->handle(route, c, &c->req, rest, rest_len);
}

const struct fake_http_answer *fake_http_last(const struct http_conn *c)
{
	if (!c->nanswers)
		fail_msg("the fake connection got no answer");
	return &c->answers[c->nanswers - 1];
}

json_t *fake_http_json(const struct http_conn *c)
{
	const struct fake_http_answer *a = fake_http_last(c);
	json_error_t e;
	json_t *v = json_loadb(a->body, a->len, 0, &e);

	if (!v)
		fail_msg("answer %d is not JSON (%s): %s", a->status, e.text, a->body);
	if (!a->content_type || strncmp(a->content_type, "application/json", 16))
		fail_msg("JSON answer with Content-Type %s", a->content_type ? a->content_type : "-");
	return v;
}

void fake_http_expect_error(const struct http_conn *c, int status, const char *uri)
{
	const struct fake_http_answer *a = fake_http_last(c);
	json_t *v = fake_http_json(c);
	const char *got = json_string_value(json_object_get(v, "error"));

	if (a->status != status || !got || (uri && strcmp(got, uri)) ||
	    !json_is_array(json_object_get(v, "args")) || !json_is_object(json_object_get(v, "kwargs")))
		fail_msg("expected %d %s, got %d %s", status, uri ? uri : "(an error)", a->status,
		         a->body);
	json_decref(v);
}

size_t fake_http_read(struct http_conn *c)
{
	size_t n = 0;
	struct wamp_out *o;

	while ((o = outq_peek(&c->conn.q))) {
		char *s = realloc(c->stream, c->stream_len + o->len + 1);

		assert_non_null(s);
		memcpy(s + c->stream_len, wamp_out_data(o), o->len);
		c->stream = s;
		c->stream_len += o->len;
		c->stream[c->stream_len] = '\0';
		n += o->len;
		outq_pop(&c->conn.q);
	}
	return n;
}

void fake_http_drop(struct http_conn *c)
{
	void (*gone)(void *) = c->gone;
	struct http_conn **pp = &conns;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	assert_non_null(*pp);
	*pp = c->next;
	c->gone = NULL;
	c->conn.closing = true;
	if (gone)
		gone(c->gone_ctx);
	conn_release(&c->conn);
	for (size_t i = 0; i < c->nanswers; i++)
		answer_clear(&c->answers[i]);
	free(c->head);
	free(c->body);
	free(c->stream);
	free(c->tls_cn);
	free(c);
}

void fake_http_drop_all(void)
{
	while (conns)
		fake_http_drop(conns);
}

size_t fake_http_count(void)
{
	size_t n = 0;

	for (struct http_conn *c = conns; c; c = c->next)
		n++;
	return n;
}

/* ------------------------------------------------------------------------------------ */
/* httpapi.h's connection side                                                            */

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
	return dup_or_null(c->tls_cn);
}

json_t *http_conn_tls_cert(const struct http_conn *c)
{
	return c->tls_cert ? json_deep_copy(c->tls_cert) : NULL;
}

size_t http_queued_bytes(const struct http_conn *c)
{
	return c->conn.q.bytes;
}

void http_close(struct http_conn *c, bool now)
{
	conn_close(&c->conn, 0, NULL, now);
}

/* As router/net/http.c: ignored unless a request waits for its answer; answering it ends
 * the hold (its `gone` is forgotten). */
void http_respond(struct http_conn *c, int status, const char *content_type, const void *body,
                  size_t len, const char *extra_headers)
{
	if (!c->busy || c->streaming) {
		c->ignored++;
		return;
	}
	answer_add(c, status, content_type, extra_headers, body, len);
	c->busy = false;
	c->held = false;
	c->gone = NULL;
	c->gone_ctx = NULL;
}

/* A body read to its end at once (the fake has no socket to wait for): its bytes become the
 * recorded answer's body, as a client would see them. */
void http_respond_body(struct http_conn *c, int status, const char *content_type, uint64_t len,
                       const char *extra_headers, const struct http_body *body)
{
	char *buf = len ? malloc((size_t)len) : NULL;
	uint64_t got = 0;

	while (buf && got < len) {
		uint64_t want = len - got < HTTP_BODY_CHUNK ? len - got : HTTP_BODY_CHUNK;
		long n = body->read(body->ctx, buf + got, (size_t)want);

		if (n <= 0)
			break;
		got += (uint64_t)n;
	}
	body->close(body->ctx);
	http_respond(c, status, content_type, buf, (size_t)got, extra_headers);
	free(buf);
}

void http_hold(struct http_conn *c, void (*gone)(void *ctx), void *ctx)
{
	c->held = true;
	c->gone = gone;
	c->gone_ctx = ctx;
}

bool http_stream_begin(struct http_conn *c, const char *content_type, const char *extra_headers,
                       void (*gone)(void *ctx), void *ctx)
{
	if (!c->busy || c->streaming)
		return false;
	if (c->refuse_stream) {
		http_close(c, true);
		return false;
	}
	answer_add(c, 200, content_type, extra_headers, NULL, 0)->stream = true;
	c->busy = false;
	c->held = false;
	c->streaming = true;
	c->gone = gone;
	c->gone_ctx = ctx;
	return true;
}

enum wampd_err http_stream_push(struct http_conn *c, struct wamp_out *chunk)
{
	c->pushes++;
	return conn_send(&c->conn, chunk); /* as net/http.c: bounded, a slow reader closed */
}
