/*
 * test_bridge_msg.c - an HTTP bridge request read into its WAMP message
 * (router/http/bridge_msg.c): publisher and caller bodies, Content-Type checks, webhook events,
 * and requests whose header values end at the end of their buffer (no NUL after them, as
 * in the connection's input buffer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "router/http/bridge_msg.h"

static char *hook_headers[] = {"x-github-event", NULL};

static const struct http_service_config publisher = {.type = HTTP_SVC_PUBLISHER,
                                                     .path = "/publish"};
static const struct http_service_config caller = {.type = HTTP_SVC_CALLER, .path = "/call"};
static const struct http_service_config hook = {.type = HTTP_SVC_WEBHOOK, .path = "/hook",
                                                .topic = "com.hook"};
static const struct http_service_config hook_listed = {
	.type = HTTP_SVC_WEBHOOK, .path = "/hook", .topic = "com.hook", .headers = hook_headers,
	.nheaders = 1};

/* Parse raw (a whole request, head and body) copied into an exact-size heap block. */
static bool parse(const struct http_service_config *cfg, const char *raw, struct bridge_msg *m)
{
	size_t n = strlen(raw), hl = 0;
	char *buf = malloc(n);
	struct http_request req;
	bool ok;

	assert_non_null(buf);
	memcpy(buf, raw, n);
	assert_int_equal(http_parse_head(buf, n, &req, &hl), HTTP_PARSE_OK);
	req.body = (const uint8_t *)buf + hl;
	req.body_len = n - hl;
	ok = bridge_msg_parse(cfg, &req, m);
	free(buf);
	return ok;
}

static void test_publish_call(void **state)
{
	struct bridge_msg m;
	json_t *w;

	(void)state;
	assert_true(parse(&publisher, "POST /publish HTTP/1.1\r\nContent-Type: application/json; "
	                  "charset=UTF-8\r\n\r\n{\"topic\": \"com.a\", \"args\": [1], \"options\": "
	                  "{\"retain\": true}}", &m));
	assert_int_equal(m.type, WAMP_PUBLISH);
	assert_string_equal(m.uri, "com.a");
	assert_true(json_is_true(json_object_get(m.options, "acknowledge")));
	w = bridge_msg_wamp(&m, 7);
	assert_int_equal(json_array_size(w), 5);
	assert_int_equal(json_integer_value(json_array_get(w, 1)), 7);
	json_decref(w);
	bridge_msg_clear(&m);

	assert_true(parse(&caller, "POST /call HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"procedure\": \"com.p\", "
	                  "\"kwargs\": {\"a\": 1}, \"options\": {\"receive_progress\": true}}", &m));
	assert_int_equal(m.type, WAMP_CALL);
	assert_null(json_object_get(m.options, "receive_progress"));
	w = bridge_msg_wamp(&m, 1);
	assert_int_equal(json_array_size(w), 6); /* args [] before kwargs */
	assert_int_equal(json_array_size(json_array_get(w, 4)), 0);
	json_decref(w);
	bridge_msg_clear(&m);

	assert_false(parse(&publisher, "POST /publish HTTP/1.1\r\nContent-Type: text/plain\r\n\r\n"
	                   "{\"topic\": \"com.a\"}", &m));
	assert_int_equal(m.status, 415);
	assert_false(parse(&publisher, "POST /publish HTTP/1.1\r\nContent-Type: application/json;"
	                   " charset=latin1\r\n\r\n{\"topic\": \"com.a\"}", &m));
	assert_int_equal(m.status, 415);
	/* no Content-Type: what a browser sends cross-site without asking (CSRF) */
	assert_false(parse(&publisher, "POST /publish HTTP/1.1\r\n\r\n{\"topic\": \"com.a\"}", &m));
	assert_int_equal(m.status, 415);
	assert_false(parse(&publisher, "POST /publish HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"topic\": \"com.a\", "
	                   "\"procedure\": \"x\"}", &m));
	assert_int_equal(m.status, 400);
	assert_string_equal(m.error, "wamp.error.invalid_argument");
	assert_false(parse(&caller, "POST /call HTTP/1.1\r\nContent-Type: application/json\r\n\r\n{\"procedure\": \"p\", "
	                   "\"args\": {}}", &m));
	assert_int_equal(m.status, 400);
	assert_non_null(strstr(m.why, "\"args\" must be a list"));
	assert_false(parse(&caller, "POST /call HTTP/1.1\r\nContent-Type: application/json\r\n\r\n", &m));
	assert_int_equal(m.status, 400);
}

/*
 * fuzz_bridge finding: a Content-Type longer than "application/json" without "charset="
 * was searched with strcasestr, which ran past the header value to the end of the
 * buffer and beyond it (ASan: heap-buffer-overflow). Every cut of such values, each the
 * last bytes of its heap block (a request without a body).
 */
static void test_content_type_at_buffer_end(void **state)
{
	static const char *const values[] = {
		"application/json; chraset=utf-8", "application/json;x", "application/json ; charset",
		"application/json; charset=", "application/json; charset=utf", "application/json;;;;",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		for (size_t cut = 17; cut <= strlen(values[i]); cut++) {
			char raw[256];
			size_t n = (size_t)snprintf(raw, sizeof(raw),
			                            "POST /publish HTTP/1.1\r\nContent-Type: %.*s\r\n\r\n",
			                            (int)cut, values[i]);
			char *buf = malloc(n);
			struct http_request req;
			struct bridge_msg m;
			size_t hl = 0;

			assert_non_null(buf);
			memcpy(buf, raw, n);
			assert_int_equal(http_parse_head(buf, n, &req, &hl), HTTP_PARSE_OK);
			/* the value ends where the head does: no NUL after it, and no body */
			req.body = NULL;
			req.body_len = 0;
			assert_false(bridge_msg_parse(&publisher, &req, &m));
			assert_true(m.status == 400 || m.status == 415);
			free(buf);
		}
	}
}

static void test_webhook(void **state)
{
	struct bridge_msg m;
	json_t *h;

	(void)state;
	assert_true(parse(&hook, "POST /hook HTTP/1.1\r\nX-GitHub-Event: push\r\nAuthorization: "
	                  "Bearer s3cret\r\nCookie: a=b\r\nProxy-Authorization: Basic eA==\r\n"
	                  "X-Gitlab-Token: gl-secret\r\nX-API-Key: k\r\nX-Auth-Token: t\r\n\r\n"
	                  "\xff\xfe", &m));
	assert_int_equal(m.type, WAMP_PUBLISH);
	assert_string_equal(m.uri, "com.hook");
	h = json_object_get(json_array_get(m.args, 0), "headers");
	assert_string_equal(json_string_value(json_object_get(h, "x-github-event")), "push");
	assert_null(json_object_get(h, "authorization"));
	assert_null(json_object_get(h, "cookie"));
	assert_null(json_object_get(h, "proxy-authorization"));
	/* senders' shared secrets are credentials too: every subscriber would see them */
	assert_null(json_object_get(h, "x-gitlab-token"));
	assert_null(json_object_get(h, "x-api-key"));
	assert_null(json_object_get(h, "x-auth-token"));
	assert_int_equal(json_object_size(h), 1);
	/* not UTF-8: base64 */
	assert_string_equal(json_string_value(json_object_get(json_array_get(m.args, 0),
	                                                      "body_base64")), "//4=");
	bridge_msg_clear(&m);

	assert_true(parse(&hook_listed, "POST /hook HTTP/1.1\r\nX-GitHub-Event: ping\r\nX-Other: 1"
	                  "\r\n\r\n{}", &m));
	h = json_object_get(json_array_get(m.args, 0), "headers");
	assert_int_equal(json_object_size(h), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(m.args, 0), "body")),
	                    "{}");
	bridge_msg_clear(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_call),
		cmocka_unit_test(test_content_type_at_buffer_end),
		cmocka_unit_test(test_webhook),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
