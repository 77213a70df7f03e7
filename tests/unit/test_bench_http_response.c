/*
 * test_bench_http_response.c - unit test of bench/http_response.c: the HTTP/1.x response parser
 * of wampbench's http-publish client (pipelined responses, split reads, every rejection).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bench/http_response.h"

static enum http_resp_result parse(const char *s, struct http_resp *r, char *why)
{
	return http_resp_parse(s, strlen(s), r, why, 128);
}

static void expect_bad(const char *s, const char *reason)
{
	struct http_resp r;
	char why[128] = "";

	assert_int_equal(parse(s, &r, why), HTTP_RESP_BAD);
	assert_non_null(strstr(why, reason));
}

static void test_ok_with_body(void **state)
{
	const char *s = "HTTP/1.1 200 OK\r\nServer: wampd\r\nContent-Type: application/json\r\n"
	                "Content-Length: 10\r\nConnection: keep-alive\r\n\r\n{\"id\": 42}";
	struct http_resp r;
	char why[128];

	(void)state;
	assert_int_equal(parse(s, &r, why), HTTP_RESP_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 10);
	assert_memory_equal(r.body, "{\"id\": 42}", 10);
	assert_int_equal(r.used, strlen(s));
	assert_false(r.close);
}

/* Two responses back to back (pipelining): the first takes only its own bytes. */
static void test_pipelined(void **state)
{
	const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
	const char *b = "HTTP/1.1 403 Forbidden\r\ncontent-LENGTH:  2 \r\n\r\nxy";
	char buf[256];
	struct http_resp r;
	char why[128];
	size_t n;

	(void)state;
	n = (size_t)snprintf(buf, sizeof(buf), "%s%s", a, b);
	assert_int_equal(http_resp_parse(buf, n, &r, why, sizeof(why)), HTTP_RESP_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.used, strlen(a));
	assert_int_equal(http_resp_parse(buf + r.used, n - r.used, &r, why, sizeof(why)),
	                 HTTP_RESP_OK);
	assert_int_equal(r.status, 403);
	assert_memory_equal(r.body, "xy", 2);
	assert_int_equal(r.used, strlen(b));
}

/* Every proper prefix of a response is incomplete, never malformed. */
static void test_split_reads(void **state)
{
	const char *s = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello";
	struct http_resp r;
	char why[128];

	(void)state;
	for (size_t k = 0; k < strlen(s); k++)
		assert_int_equal(http_resp_parse(s, k, &r, why, sizeof(why)), HTTP_RESP_MORE);
	assert_int_equal(http_resp_parse(s, strlen(s), &r, why, sizeof(why)), HTTP_RESP_OK);
	assert_true(r.close);
}

static void test_lf_only_and_connection_list(void **state)
{
	struct http_resp r;
	char why[128];

	(void)state;
	assert_int_equal(parse("HTTP/1.0 202\nConnection: Keep-Alive, Close\nContent-Length: 0\n\n",
	                       &r, why),
	                 HTTP_RESP_OK);
	assert_int_equal(r.status, 202);
	assert_int_equal(r.body_len, 0);
	assert_true(r.close);
}

/* 1xx, 204 and 304 carry no body: no Content-Length needed, none honoured. */
static void test_bodiless(void **state)
{
	const char *s = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n";
	struct http_resp r;
	char why[128];

	(void)state;
	assert_int_equal(parse(s, &r, why), HTTP_RESP_OK);
	assert_int_equal(r.status, 100);
	assert_int_equal(r.used, strlen("HTTP/1.1 100 Continue\r\n\r\n"));
	assert_int_equal(parse(s + r.used, &r, why), HTTP_RESP_OK);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body_len, 0);
}

static void test_same_length_twice(void **state)
{
	struct http_resp r;
	char why[128];

	(void)state;
	assert_int_equal(parse("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
	                       &r, why),
	                 HTTP_RESP_OK);
}

static void test_rejected(void **state)
{
	(void)state;
	expect_bad("HTTP/2 200 OK\r\n\r\n", "status line");
	expect_bad("HTTP/1.1 20x OK\r\n\r\n", "status line");
	expect_bad("HTTP/1.1 099 Odd\r\n\r\n", "status line");
	expect_bad("HTTP/1.1 2000 OK\r\n\r\n", "status line");
	expect_bad("garbage\r\n\r\n", "status line");
	expect_bad("HTTP/1.1 200 OK\r\n\r\n", "without Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", "bad Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "bad Content-Length");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	           "conflicting");
	expect_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "chunked");
	expect_bad("HTTP/1.1 200 OK\r\n: no name\r\n\r\n", "without a name");
	expect_bad("HTTP/1.1 200 OK\r\nno colon\r\n\r\n", "without a name");
	expect_bad("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n", "body of");
}

/* A head that does not end within the limit is refused, not waited for. */
static void test_head_too_long(void **state)
{
	size_t n = HTTP_RESP_HEAD_MAX + 100;
	char *s = malloc(n + 1);
	struct http_resp r;
	char why[128] = "";

	(void)state;
	memcpy(s, "HTTP/1.1 200 OK\r\nX-Long: ", 25);
	memset(s + 25, 'a', n - 25);
	s[n] = 0;
	assert_int_equal(http_resp_parse(s, HTTP_RESP_HEAD_MAX, &r, why, sizeof(why)),
	                 HTTP_RESP_MORE);
	assert_int_equal(http_resp_parse(s, n, &r, why, sizeof(why)), HTTP_RESP_BAD);
	assert_non_null(strstr(why, "head longer"));
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_with_body),   cmocka_unit_test(test_pipelined),
		cmocka_unit_test(test_split_reads),    cmocka_unit_test(test_lf_only_and_connection_list),
		cmocka_unit_test(test_bodiless),       cmocka_unit_test(test_same_length_twice),
		cmocka_unit_test(test_rejected),       cmocka_unit_test(test_head_too_long),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
