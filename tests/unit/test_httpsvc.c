/*
 * test_httpsvc.c - the parts of the HTTP services (router/http/http_bridge.c, router/http/sse.c,
 * router/http/httpapi.c) that need no connection: routing a path to a route, the bridge's
 * HTTP status per WAMP error, the SSE rendition of an event, the SSE refusal statuses and
 * the SSE credentials (Basic and Bearer).
 *
 * The handlers themselves are tested on fake connections (tests/lib/fake_http.h) in
 * test_sse.c, test_longpoll.c and test_http_bridge.c, and against the real binary in
 * tests/http and tests/security.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "router/http/httpsvc.h"

/* Parse a request head (kept in buf, which must outlive req) with an optional body. */
static void request(struct http_request *req, const char *head, const char *body,
                    size_t body_len)
{
	size_t hl = 0;

	assert_int_equal(http_parse_head(head, strlen(head), req, &hl), HTTP_PARSE_OK);
	req->body = (const uint8_t *)body;
	req->body_len = body_len;
}

static void test_bridge_error_status(void **state)
{
	/* per status, the URIs answered with it (README "HTTP bridge") */
	static const struct {
		int status;
		const char *uris[4];
	} cases[] = {
		{400, {"wamp.error.invalid_argument", "wamp.error.invalid_uri",
		       "wamp.error.option_not_allowed"}},
		{403, {"wamp.error.not_authorized", "wamp.error.authorization_failed"}},
		{404, {"wamp.error.no_such_procedure"}},
		{413, {"wamp.error.payload_size_exceeded"}},
		{429, {"wamp.error.limit_exceeded"}},
		{501, {"wamp.error.feature_not_supported"}},
		{503, {"wamp.error.no_available_callee", "wamp.error.canceled",
		       "wamp.close.system_shutdown"}},
		{504, {"wamp.error.timeout"}},
		/* the callee's own errors, and look-alikes of the router's */
		{500, {"com.myapp.error", "", "wamp.error.not_authorized.x", "WAMP.ERROR.TIMEOUT"}},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		for (size_t k = 0; k < 4 && cases[i].uris[k]; k++)
			if (bridge_error_status(cases[i].uris[k]) != cases[i].status)
				fail_msg("%s: %d, expected %d", cases[i].uris[k],
				         bridge_error_status(cases[i].uris[k]), cases[i].status);
}

static void test_sse_refusal_status(void **state)
{
	(void)state;
	assert_int_equal(sse_refusal_status("wamp.error.no_such_realm"), 404);
	assert_int_equal(sse_refusal_status("wamp.error.not_authorized"), 403);
	assert_int_equal(sse_refusal_status("wamp.error.no_such_role"), 403);
	assert_int_equal(sse_refusal_status("wamp.error.invalid_uri"), 400);
	assert_int_equal(sse_refusal_status("wamp.close.system_shutdown"), 503);
	assert_int_equal(sse_refusal_status("wamp.error.limit_exceeded"), 503);
	assert_int_equal(sse_refusal_status("wamp.error.authentication_failed"), 401);
	assert_int_equal(sse_refusal_status("wamp.error.no_auth_method"), 401);
	assert_int_equal(sse_refusal_status("com.other"), 401);
}

static void test_sse_render(void **state)
{
	json_t *args = json_pack("[i, s]", 1, "x"), *kwargs = json_pack("{s:b}", "k", 1);
	struct wamp_out *o;

	(void)state;
	o = sse_render(42, "com.news", args, kwargs);
	assert_non_null(o);
	assert_int_equal(o->len, strlen((const char *)wamp_out_data(o)));
	assert_string_equal((const char *)wamp_out_data(o),
	                    "id: 42\ndata: {\"topic\":\"com.news\",\"args\":[1,\"x\"],"
	                    "\"kwargs\":{\"k\":true}}\n\n");
	wamp_out_unref(o);
	/* no payload: empty lists; a newline in a value stays escaped inside one data line */
	json_decref(args);
	args = json_pack("[s]", "two\nlines");
	o = sse_render(7, "a.b", args, NULL);
	assert_string_equal((const char *)wamp_out_data(o),
	                    "id: 7\ndata: {\"topic\":\"a.b\",\"args\":[\"two\\nlines\"],"
	                    "\"kwargs\":{}}\n\n");
	wamp_out_unref(o);
	o = sse_render(8, "a.b", NULL, NULL);
	assert_string_equal((const char *)wamp_out_data(o),
	                    "id: 8\ndata: {\"topic\":\"a.b\",\"args\":[],\"kwargs\":{}}\n\n");
	wamp_out_unref(o);
	json_decref(args);
	json_decref(kwargs);
}

/* sse_credentials on a request with the given Authorization (NULL: none) and query. */
static bool credentials(const char *authorization, const char *query, char *authid,
                        char *ticket)
{
	char head[1024];
	struct http_request req;

	snprintf(head, sizeof(head), "GET /sse?%s HTTP/1.1\r\nHost: x\r\n%s%s%s\r\n", query,
	         authorization ? "Authorization: " : "", authorization ? authorization : "",
	         authorization ? "\r\n" : "");
	request(&req, head, NULL, 0);
	strcpy(authid, "-");
	strcpy(ticket, "-");
	return sse_credentials(&req, authid, 16, ticket, 16);
}

static void test_sse_credentials(void **state)
{
	char authid[16], ticket[16];

	(void)state;
	/* none: anonymous, nothing written */
	assert_true(credentials(NULL, "topic=a", authid, ticket));
	assert_string_equal(authid, "-");
	assert_string_equal(ticket, "-");
	/* Basic base64("joe:t:1") (a ticket may hold ':'); the scheme's case does not matter */
	assert_true(credentials("Basic am9lOnQ6MQ==", "topic=a", authid, ticket));
	assert_string_equal(authid, "joe");
	assert_string_equal(ticket, "t:1");
	assert_true(credentials("basic am9lOnQ6MQ==", "", authid, ticket));
	/* Bearer with ?authid= */
	assert_true(credentials("Bearer tk", "topic=a&authid=ann", authid, ticket));
	assert_string_equal(authid, "ann");
	assert_string_equal(ticket, "tk");
	/* refused: Bearer without authid, empty authid, no colon, not base64, a NUL inside,
	 * too long for the fields, another scheme */
	assert_false(credentials("Bearer tk", "topic=a", authid, ticket));
	assert_false(credentials("Bearer tk", "authid=", authid, ticket));
	assert_false(credentials("Basic OnQ=", "", authid, ticket));           /* ":t" */
	assert_false(credentials("Basic am9l", "", authid, ticket));           /* "joe" */
	assert_false(credentials("Basic !!!", "", authid, ticket));
	assert_false(credentials("Basic am8AZTp0", "", authid, ticket));       /* "jo\0e:t" */
	assert_false(credentials("Basic YWFhYWFhYWFhYWFhYWFhYTp0", "", authid, ticket));
	assert_false(credentials("Basic am9lOnR0dHR0dHR0dHR0dHR0dHQ=", "", authid, ticket));
	assert_false(credentials("Bearer 0123456789abcdef", "authid=a", authid, ticket));
	assert_false(credentials("Ticket tk", "authid=a", authid, ticket));
}

/* Exact paths, then the longest prefix route ending at a '/' of the path. */
static void test_route_find(void **state)
{
	struct http_route v[] = {
		{.path = "/publish"}, {.path = "/lp", .prefix = true},
		{.path = "/lp/admin", .prefix = true}, {.path = "/hooks/", .prefix = true},
	};
	const struct http_routes rs = {.v = v, .n = sizeof(v) / sizeof(v[0])};
	static const struct {
		const char *path;
		int route;        /* index in v, -1: none */
		const char *rest;
	} cases[] = {
		{"/publish", 0, ""}, {"/publish/x", -1, NULL}, {"/publishx", -1, NULL},
		{"/lp", 1, ""}, {"/lp/abc/send", 1, "/abc/send"}, {"/lpx/open", -1, NULL},
		{"/lp/admin/x", 2, "/x"}, {"/lp/adminx", 1, "/adminx"},
		{"/hooks/github", 3, "github"}, {"/hooks", -1, NULL}, {"/", -1, NULL}, {"", -1, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *rest = NULL;
		size_t rest_len = 0;
		const struct http_route *r = http_route_find(&rs, cases[i].path, strlen(cases[i].path),
		                                             &rest, &rest_len);

		if (cases[i].route < 0 ? r != NULL : r != &v[cases[i].route])
			fail_msg("%s: route %d, expected %d", cases[i].path, r ? (int)(r - v) : -1,
			         cases[i].route);
		if (r && (rest_len != strlen(cases[i].rest) || memcmp(rest, cases[i].rest, rest_len)))
			fail_msg("%s: rest %.*s, expected %s", cases[i].path, (int)rest_len, rest,
			         cases[i].rest);
	}
	assert_null(http_route_find(NULL, "/publish", 8, NULL, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_route_find),
		cmocka_unit_test(test_bridge_error_status),
		cmocka_unit_test(test_sse_refusal_status),
		cmocka_unit_test(test_sse_render),
		cmocka_unit_test(test_sse_credentials),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
